"""``MotionVQVAE``: the convolutional motion tokenizer of T2M-GPT (Zhang et al., CVPR 2023), used
by CigTime (Fang et al. 2024), MotionGPT and AToM to turn motion into discrete tokens.

Architecture (T2M-GPT ``models/encdec.py`` / ``models/resnet.py``, HumanML3D recipe):

* encoder: Conv1d(D -> width, k3) + ReLU, then ``down_t`` (2) stages of
  [Conv1d(k=2*stride, stride, pad=stride//2) -> dilated residual stack], then Conv1d(width ->
  code_dim, k3). A dilated residual stack has ``depth`` (3) blocks
  ``x + Conv1x1(act(Conv_k3,dilation=d(act(x))))`` with ``d = growth ** i`` (growth 3: 1, 3, 9),
  applied in reverse order (9, 3, 1) as T2M-GPT's ``reverse_dilation=True`` default;
* quantiser: a swappable plugin (:class:`EMAQuantizer`, :class:`ResidualQuantizer`);
* decoder: Conv1d(code_dim -> width, k3) + ReLU, then ``down_t`` stages of [dilated residual
  stack -> nearest x2 upsampling -> Conv1d(k3)], then Conv1d(k3) + ReLU + Conv1d(width -> D, k3).

One token covers ``stride ** down_t`` = 4 frames: a motion of ``L`` frames gives ``L // 4``
tokens, computed from its first ``4 * (L // 4)`` frames, and decodes to ``4 * (L // 4)`` frames.

Padding-exact batches: the padded frames are zeroed at the input and every intermediate feature
map is re-masked at its own resolution after each convolution / residual block, so every
convolution near a motion's end sees the zeros it would see for that motion alone (its own zero
padding). A padded batch therefore gives exactly the tokens of each motion encoded alone, and
only valid latent positions reach the quantiser (padding never moves the codebook).

Training objective (T2M-GPT ``train_vq.py``)::

    loss = recon(x_hat, x) + vel_weight * vel(x_hat, x) + commit_weight * commit

with smooth-L1 reconstruction over all features, commitment weight 0.02 and velocity weight 0.5
in the published HumanML3D recipe. The velocity term acts on the local joint positions block
(``ric``, features ``[4, 4 + 3 (J - 1))``). ``vel_mode='frame_diff'`` compares their frame
differences (a velocity); ``vel_mode='position'`` compares the block itself, which is what
T2M-GPT's ``ReConsLoss.forward_vel`` computes despite its name.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from motionkit.motion.padding import usable_lengths
from motionkit.motion.statistics import load_mean_std
from motionkit.registry import MODELS
from .token_text import format_motion_tokens, parse_motion_tokens

__all__ = ['MotionVQVAE', 'TCNEncoder', 'TCNDecoder', 'DilatedResNet1D', 'ric_feature_slice']

_ACTIVATIONS = {'relu': nn.ReLU, 'silu': nn.SiLU, 'gelu': nn.GELU}


def _activation(name: str) -> nn.Module:
    if name not in _ACTIVATIONS:
        raise ValueError(f'activation must be one of {sorted(_ACTIVATIONS)}, got {name!r}')
    return _ACTIVATIONS[name]()


def _mask_time(x: torch.Tensor, lengths: Optional[torch.Tensor]) -> torch.Tensor:
    """Zero ``x`` ``(B, C, T)`` at frames ``>= lengths`` ``(B,)`` (no-op without lengths)."""
    if lengths is None:
        return x
    keep = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None]
    return x * keep[:, None, :].to(x.dtype)


def ric_feature_slice(feature_dim: int) -> Tuple[int, int]:
    """``(start, end)`` of the local joint positions (``ric``) in HumanML3D-style features.

    HumanML3D / KIT features have ``D = 12 J - 1`` channels for ``J`` joints
    (263 -> 22, 251 -> 21); ``ric`` is ``[4, 4 + 3 (J - 1))``.

    Raises:
        ValueError: ``feature_dim`` is not of that form (give ``vel_slice`` explicitly).
    """
    if (feature_dim + 1) % 12 != 0 or feature_dim < 23:
        raise ValueError(f'feature_dim={feature_dim} is not a HumanML3D-style width (12 J - 1); '
                         'pass vel_slice=(start, end) for the velocity loss, or vel_weight=0')
    joints = (feature_dim + 1) // 12
    return 4, 4 + 3 * (joints - 1)


class ResidualConvBlock(nn.Module):
    """``x + Conv1x1(act(Conv_k3,dilation(act(x))))`` (T2M-GPT ``ResConv1DBlock`` without norm)."""

    def __init__(self, width: int, dilation: int, activation: str = 'relu') -> None:
        super().__init__()
        self.act1 = _activation(activation)
        self.conv1 = nn.Conv1d(width, width, 3, 1, padding=dilation, dilation=dilation)
        self.act2 = _activation(activation)
        self.conv2 = nn.Conv1d(width, width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.act2(self.conv1(self.act1(x))))


class DilatedResNet1D(nn.Module):
    """``depth`` residual blocks with dilations ``growth ** i`` (reversed: largest first).

    ``forward(x, lengths)`` re-masks after every block, so the next dilated convolution sees
    zeros past each motion's end.
    """

    def __init__(self, width: int, depth: int = 3, dilation_growth_rate: int = 3,
                 reverse_dilation: bool = True, activation: str = 'relu') -> None:
        super().__init__()
        dilations = [dilation_growth_rate ** i for i in range(depth)]
        if reverse_dilation:
            dilations = dilations[::-1]
        self.blocks = nn.ModuleList(ResidualConvBlock(width, d, activation) for d in dilations)

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        for block in self.blocks:
            x = _mask_time(block(x), lengths)
        return x


class TCNEncoder(nn.Module):
    """(B, D, T) features -> (B, code_dim, T / stride ** down_t) latents (T2M-GPT encoder)."""

    def __init__(self, in_dim: int, width: int = 512, code_dim: int = 512, down_t: int = 2,
                 stride_t: int = 2, depth: int = 3, dilation_growth_rate: int = 3,
                 activation: str = 'relu') -> None:
        super().__init__()
        self.stride_t = stride_t
        self.conv_in = nn.Conv1d(in_dim, width, 3, 1, 1)
        self.act_in = _activation(activation)
        self.down = nn.ModuleList(
            nn.Conv1d(width, width, 2 * stride_t, stride_t, stride_t // 2) for _ in range(down_t))
        self.res = nn.ModuleList(
            DilatedResNet1D(width, depth, dilation_growth_rate, True, activation)
            for _ in range(down_t))
        self.conv_out = nn.Conv1d(width, code_dim, 3, 1, 1)

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``x`` (B, D, T) with T a multiple of ``stride ** down_t``; ``lengths`` (B,) valid
        frames (multiples of the unit as well)."""
        h = self.act_in(_mask_time(self.conv_in(x), lengths))
        for down, res in zip(self.down, self.res):
            lengths = None if lengths is None else torch.div(lengths, self.stride_t,
                                                             rounding_mode='floor')
            h = res(_mask_time(down(h), lengths), lengths)
        return _mask_time(self.conv_out(h), lengths)


class TCNDecoder(nn.Module):
    """(B, code_dim, T') latents -> (B, D, T' * stride ** down_t) features (T2M-GPT decoder)."""

    def __init__(self, out_dim: int, width: int = 512, code_dim: int = 512, down_t: int = 2,
                 stride_t: int = 2, depth: int = 3, dilation_growth_rate: int = 3,
                 activation: str = 'relu') -> None:
        super().__init__()
        self.stride_t = stride_t
        self.conv_in = nn.Conv1d(code_dim, width, 3, 1, 1)
        self.act_in = _activation(activation)
        self.res = nn.ModuleList(
            DilatedResNet1D(width, depth, dilation_growth_rate, True, activation)
            for _ in range(down_t))
        self.up_conv = nn.ModuleList(nn.Conv1d(width, width, 3, 1, 1) for _ in range(down_t))
        self.conv_mid = nn.Conv1d(width, width, 3, 1, 1)
        self.act_mid = _activation(activation)
        self.conv_out = nn.Conv1d(width, out_dim, 3, 1, 1)

    def forward(self, z: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``z`` (B, code_dim, T'); ``lengths`` (B,) valid latent steps."""
        h = self.act_in(_mask_time(self.conv_in(z), lengths))
        for res, conv in zip(self.res, self.up_conv):
            h = res(h, lengths)
            h = F.interpolate(h, scale_factor=self.stride_t, mode='nearest')
            lengths = None if lengths is None else lengths * self.stride_t
            h = _mask_time(conv(h), lengths)
        h = self.act_mid(_mask_time(self.conv_mid(h), lengths))
        return _mask_time(self.conv_out(h), lengths)


@MODELS.register_module()
class MotionVQVAE(BaseModel):
    """Convolutional VQ-VAE motion tokenizer (T2M-GPT; CigTime's motion tokenizer).

    ``forward(inputs, data_samples, mode)`` with ``inputs`` from :class:`MotionDataPreprocessor`
    (``motion`` (B, T, D) normalised features, ``lengths`` (B,)):

    * ``'loss'``: ``dict(loss_recon, loss_vel, loss_commit, perplexity, codebook_usage)``; the last
      two have no ``loss`` in their name, so mmengine logs them without adding them to the loss;
    * ``'predict'``: the data samples with ``pred_motion`` (T4, D) reconstruction in raw
      (de-normalised) features, ``pred_tokens`` (T4 / 4,) or (T4 / 4, Q) long, metainfo
      ``recon_length`` = T4 = 4 * (length // 4), ``gt_motion`` (raw input, same frames) when
      absent, and with ``representation`` set, ``pred_joints`` / ``gt_joints`` (T4, J, 3) decoded
      from the reconstruction / the input by the same representation (so reconstruction MPJPE
      measures the tokenizer alone; ``gt_joints`` from the dataset is replaced);
    * ``'tensor'``: the reconstruction (B, T4, D) in the model's (normalised) feature space.

    Args:
        feature_dim: Width ``D`` of the features (263 HumanML3D, 251 KIT).
        width: Channels of the convolutional stacks (512 T2M-GPT; 256 or 64 for small presets).
        code_dim: Latent / code width (512 T2M-GPT, 16 in CigTime's tokenizer).
        down_t, stride_t: Temporal downsampling stages and stride (2 x 2 = 4 frames per token).
        depth, dilation_growth_rate: Residual blocks per stack and dilation growth (3, 3).
        activation: ``'relu'`` (T2M-GPT), ``'silu'`` or ``'gelu'``.
        quantizer: Quantiser config (``EMAQuantizer`` or ``ResidualQuantizer``); its ``code_dim``
            defaults to ``code_dim``.
        recon_loss: ``'smooth_l1'`` (T2M-GPT's HumanML3D recipe), ``'l1'`` or ``'l2'``.
        recon_weight: Weight of the reconstruction loss.
        vel_weight: Weight of the velocity loss (0.5 in T2M-GPT's recipe; 0 disables it).
        vel_slice: ``(start, end)`` feature channels of the local joint positions; ``None`` takes
            HumanML3D's ``ric`` block from ``feature_dim``.
        vel_mode: ``'frame_diff'`` (smooth-L1 on frame differences of that block) or
            ``'position'`` (on the block itself, as T2M-GPT's code).
        commit_weight: Weight of the commitment loss (0.02 in T2M-GPT).
        representation: Registered representation name (``'HumanML3DFeatures'``,
            ``'KITFeatures'``) used in ``predict`` to decode joints; ``None`` skips joints.
        check_finite: Reject inputs with NaN / inf in valid frames (one device sync per call).
        data_preprocessor: Defaults to ``MotionDataPreprocessor`` (no statistics).
    """

    def __init__(self,
                 feature_dim: int = 263,
                 width: int = 512,
                 code_dim: int = 512,
                 down_t: int = 2,
                 stride_t: int = 2,
                 depth: int = 3,
                 dilation_growth_rate: int = 3,
                 activation: str = 'relu',
                 quantizer: Optional[dict] = None,
                 recon_loss: str = 'smooth_l1',
                 recon_weight: float = 1.0,
                 vel_weight: float = 0.5,
                 vel_slice: Optional[Sequence[int]] = None,
                 vel_mode: str = 'frame_diff',
                 commit_weight: float = 0.02,
                 representation: Optional[str] = None,
                 check_finite: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='motionkit.MotionDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if stride_t < 2 or stride_t % 2:
            raise ValueError(f'MotionVQVAE: stride_t must be an even number >= 2, got {stride_t}')
        if down_t < 1:
            raise ValueError(f'MotionVQVAE: down_t must be >= 1, got {down_t}')
        if recon_loss not in ('smooth_l1', 'l1', 'l2'):
            raise ValueError(f"MotionVQVAE: recon_loss must be 'smooth_l1', 'l1' or 'l2', got "
                             f'{recon_loss!r}')
        if vel_mode not in ('frame_diff', 'position'):
            raise ValueError(f"MotionVQVAE: vel_mode must be 'frame_diff' or 'position', got "
                             f'{vel_mode!r}')
        self.feature_dim = int(feature_dim)
        self.code_dim = int(code_dim)
        self.unit_length = stride_t ** down_t
        self.recon_loss = recon_loss
        self.recon_weight = float(recon_weight)
        self.vel_weight = float(vel_weight)
        self.vel_mode = vel_mode
        self.commit_weight = float(commit_weight)
        self.check_finite = check_finite
        if self.vel_weight > 0:
            start, end = (ric_feature_slice(feature_dim) if vel_slice is None
                          else (int(vel_slice[0]), int(vel_slice[1])))
            if not 0 <= start < end <= feature_dim:
                raise ValueError(f'MotionVQVAE: vel_slice {vel_slice} is not a channel range '
                                 f'of the {feature_dim}-D features')
            self.vel_slice = (start, end)
        else:
            self.vel_slice = None

        self.encoder = TCNEncoder(feature_dim, width, code_dim, down_t, stride_t, depth,
                                  dilation_growth_rate, activation)
        qcfg = dict(quantizer or dict(type='EMAQuantizer', codebook_size=512))
        qcfg.setdefault('code_dim', code_dim)
        if qcfg['code_dim'] != code_dim:
            raise ValueError(f'MotionVQVAE: quantizer code_dim {qcfg["code_dim"]} differs from '
                             f'the model code_dim {code_dim}')
        self.quantizer = MODELS.build(qcfg)
        self.decoder = TCNDecoder(feature_dim, width, code_dim, down_t, stride_t, depth,
                                  dilation_growth_rate, activation)
        self.representation = representation
        self._rep = None

    # ------------------------------------------------------------------ properties
    @property
    def codebook_size(self) -> int:
        return int(self.quantizer.codebook_size)

    @property
    def multi_layer(self) -> bool:
        """True when every latent step has several codes (residual VQ): ids are (..., Q)."""
        return bool(getattr(self.quantizer, 'multi_layer', False))

    def token_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Tokens of motions of ``lengths`` frames: ``lengths // 4``."""
        return torch.div(torch.as_tensor(lengths), self.unit_length, rounding_mode='floor')

    # ------------------------------------------------------------------ checks
    def _check_motion(self, motion: torch.Tensor, lengths: Optional[torch.Tensor]) -> tuple:
        if not isinstance(motion, torch.Tensor):
            raise TypeError(f'MotionVQVAE: motion must be a tensor, got {type(motion).__name__}')
        if motion.ndim != 3 or motion.shape[-1] != self.feature_dim:
            raise ValueError(f'MotionVQVAE: motion must be (B, T, {self.feature_dim}) features, '
                             f'got shape {tuple(motion.shape)}')
        usable = usable_lengths(motion, lengths, self.unit_length, 'MotionVQVAE', 'motion', self.check_finite)
        return motion, usable

    # ------------------------------------------------------------------ core
    def _encode_latent(self, motion: torch.Tensor, usable: torch.Tensor) -> tuple:
        """Masked encoder: (B, T, D) -> latents (B, T', C) and their valid mask (B, T')."""
        t4 = int(usable.max())
        x = motion[:, :t4].transpose(1, 2)
        # without padding the masks are no-ops: skip them
        mask_lengths = None if bool((usable == t4).all()) else usable
        x = _mask_time(x, mask_lengths)
        z = self.encoder(x, mask_lengths).transpose(1, 2)
        token_len = torch.div(usable, self.unit_length, rounding_mode='floor')
        valid = torch.arange(z.shape[1], device=z.device)[None] < token_len[:, None]
        return z, valid, token_len

    def _decode_latent(self, zq: torch.Tensor, token_len: torch.Tensor) -> torch.Tensor:
        """Masked decoder: (B, T', C) -> (B, 4 T', D)."""
        mask_lengths = None if bool((token_len == zq.shape[1]).all()) else token_len
        return self.decoder(zq.transpose(1, 2), mask_lengths).transpose(1, 2)

    def _quantize_batch(self, z: torch.Tensor, valid: torch.Tensor) -> tuple:
        out = self.quantizer(z[valid])
        zq = torch.zeros_like(z)
        zq[valid] = out['quantized']
        id_shape = valid.shape + tuple(out['ids'].shape[1:])
        ids = torch.full(id_shape, -1, dtype=torch.long, device=z.device)
        ids[valid] = out['ids']
        return zq, ids, out

    @torch.no_grad()
    def encode(self, motion: torch.Tensor,
               lengths: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Motion -> token ids (no codebook update).

        Args:
            motion: ``(B, T, D)`` normalised features (what the data preprocessor gives).
            lengths: ``(B,)`` valid frames (default: all ``T``); at least 4.

        Returns:
            ``(ids, token_lengths)``: ``(B, T')`` long (``(B, T', Q)`` for residual VQ), -1
            past each motion's ``token_lengths = lengths // 4`` ``(B,)``.
        """
        motion, usable = self._check_motion(motion, lengths)
        z, valid, token_len = self._encode_latent(motion, usable)
        flat = z[valid]
        codes = self.quantizer.quantize(flat)
        id_shape = valid.shape + tuple(codes.shape[1:])
        ids = torch.full(id_shape, -1, dtype=torch.long, device=z.device)
        ids[valid] = codes
        return ids, token_len

    def _check_ids(self, ids, token_lengths) -> tuple:
        ids = torch.as_tensor(ids)
        if ids.is_floating_point():
            raise TypeError(f'MotionVQVAE.decode: ids must be integers, got dtype {ids.dtype}')
        per_step = 1 if self.multi_layer else 0
        if ids.ndim == 1 + per_step:
            ids = ids[None]
        if ids.ndim != 2 + per_step:
            want = '(B, T, Q) / (T, Q)' if per_step else '(B, T) / (T,)'
            raise ValueError(f'MotionVQVAE.decode: ids must be {want}, got shape '
                             f'{tuple(ids.shape)}')
        batch, steps = ids.shape[:2]
        if steps == 0:
            raise ValueError('MotionVQVAE.decode: empty token sequence')
        ids = ids.to(self.quantizer_device).long()
        if token_lengths is None:
            token_lengths = torch.full((batch, ), steps, dtype=torch.long, device=ids.device)
        token_lengths = torch.as_tensor(token_lengths, device=ids.device).long()
        if token_lengths.shape != (batch, ) or int(token_lengths.max()) > steps or int(
                token_lengths.min()) < 1:
            raise ValueError(f'MotionVQVAE.decode: token_lengths must be ({batch},) in [1, '
                             f'{steps}], got {token_lengths.tolist()}')
        valid = torch.arange(steps, device=ids.device)[None] < token_lengths[:, None]
        valid_ids = ids[valid]
        low = -1 if per_step else 0  # -1 marks a dropped residual layer
        if valid_ids.numel() and (int(valid_ids.min()) < low
                                  or int(valid_ids.max()) >= self.codebook_size):
            bad = valid_ids[(valid_ids < low) | (valid_ids >= self.codebook_size)]
            raise ValueError(f'MotionVQVAE.decode: token ids must be in [0, {self.codebook_size})'
                             f', got {bad[:5].tolist()} ({bad.numel()} out of range)')
        return ids, token_lengths, valid

    @property
    def quantizer_device(self) -> torch.device:
        buf = next(self.quantizer.buffers(), None)
        return buf.device if buf is not None else torch.device('cpu')

    @torch.no_grad()
    def decode(self, ids: Union[torch.Tensor, Sequence[int]],
               token_lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Token ids -> normalised features.

        Args:
            ids: ``(B, T')`` or ``(T',)`` (``(B, T', Q)`` / ``(T', Q)`` for residual VQ);
                entries past ``token_lengths`` are ignored.
            token_lengths: ``(B,)`` valid tokens (default all).

        Returns:
            ``(B, 4 T', D)`` features (``(4 T', D)`` for 1-sequence input), zero past
            ``4 * token_lengths``.

        Raises:
            ValueError: ids outside the codebook, wrong shape, bad lengths.
        """
        unbatched = torch.as_tensor(ids).ndim == (2 if self.multi_layer else 1)
        ids, token_lengths, valid = self._check_ids(ids, token_lengths)
        safe = torch.where(valid.view(valid.shape + (1, ) * (ids.ndim - 2)), ids,
                           torch.zeros_like(ids))
        zq = self.quantizer.dequantize(safe) * valid[..., None]
        out = self._decode_latent(zq, token_lengths)
        return out[0] if unbatched else out

    def reconstruct(self, motion: torch.Tensor,
                    lengths: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode -> quantise -> decode in one pass: ``(B, 4 T', D)`` and the usable lengths."""
        motion, usable = self._check_motion(motion, lengths)
        z, valid, token_len = self._encode_latent(motion, usable)
        zq, _, _ = self._quantize_batch(z, valid)
        return self._decode_latent(zq, token_len), usable

    def codebook_stats(self, ids: torch.Tensor,
                       token_lengths: Optional[torch.Tensor] = None) -> dict:
        """Perplexity and usage of the codebook over a set of token ids.

        Args:
            ids: ``(B, T')`` (``(B, T', Q)`` for residual VQ) ids, e.g. from :meth:`encode` over a
                whole test set; -1 entries (padding, dropped layers) are ignored.
            token_lengths: ``(B,)`` valid tokens per row (default: every non-negative id).

        Returns:
            ``dict(perplexity=float, usage=float)``: ``exp`` of the entropy of the code
            frequencies and the fraction of codes that occur (averaged over residual layers).
        """
        from .ema_quantizer import codebook_perplexity
        ids = torch.as_tensor(ids).long()
        if not self.multi_layer:
            ids = ids[..., None]
        if token_lengths is not None:
            steps = torch.arange(ids.shape[1], device=ids.device)[None]
            keep = steps < torch.as_tensor(token_lengths, device=ids.device)[:, None]
            ids = torch.where(keep[..., None], ids, torch.full_like(ids, -1))
        ppl, usage = [], []
        for q in range(ids.shape[-1]):
            layer = ids[..., q]
            layer = layer[layer >= 0]
            counts = torch.bincount(layer, minlength=self.codebook_size).float()
            ppl.append(float(codebook_perplexity(counts)))
            usage.append(float((counts > 0).float().mean()))
        return dict(perplexity=sum(ppl) / len(ppl), usage=sum(usage) / len(usage))

    # ------------------------------------------------------------------ token text
    def tokens_to_text(self, ids, style: str = 'decimal', **kwargs) -> str:
        """One motion's ids ``(T',)`` as text (``'decimal'``: CigTime, ``'motiongpt'``)."""
        if self.multi_layer:
            raise ValueError('MotionVQVAE: residual (multi-layer) tokens have no text form; use '
                             'the first layer, ids[..., 0]')
        return format_motion_tokens(ids, style, self.codebook_size, **kwargs)

    def text_to_tokens(self, text: str, style: str = 'decimal', **kwargs) -> torch.Tensor:
        """Inverse of :meth:`tokens_to_text`: ``(T',)`` long."""
        return torch.tensor(parse_motion_tokens(text, style, self.codebook_size, **kwargs),
                            dtype=torch.long)

    # ------------------------------------------------------------------ losses
    def _masked_loss(self, pred: torch.Tensor, target: torch.Tensor,
                     mask: torch.Tensor) -> torch.Tensor:
        """Mean of the element-wise loss over frames where ``mask`` (B, T) is True."""
        if self.recon_loss == 'smooth_l1':
            err = F.smooth_l1_loss(pred, target, reduction='none')
        elif self.recon_loss == 'l1':
            err = (pred - target).abs()
        else:
            err = (pred - target).pow(2)
        m = mask[..., None].to(err.dtype)
        return (err * m).sum() / (m.sum() * err.shape[-1]).clamp(min=1)

    def loss(self, motion: torch.Tensor, lengths: torch.Tensor) -> dict:
        motion, usable = self._check_motion(motion, lengths)
        z, valid, token_len = self._encode_latent(motion, usable)
        zq, _, qout = self._quantize_batch(z, valid)
        recon = self._decode_latent(zq, token_len)
        target = motion[:, :recon.shape[1]]
        frame_mask = torch.arange(recon.shape[1], device=recon.device)[None] < usable[:, None]
        losses = dict(loss_recon=self.recon_weight * self._masked_loss(recon, target, frame_mask))
        if self.vel_slice is not None:
            s, e = self.vel_slice
            if self.vel_mode == 'frame_diff':
                pred_v = recon[:, 1:, s:e] - recon[:, :-1, s:e]
                gt_v = target[:, 1:, s:e] - target[:, :-1, s:e]
                vel = self._masked_loss(pred_v, gt_v, frame_mask[:, 1:])
            else:
                vel = self._masked_loss(recon[..., s:e], target[..., s:e], frame_mask)
            losses['loss_vel'] = self.vel_weight * vel
        losses['loss_commit'] = self.commit_weight * qout['commit_loss']
        losses['perplexity'] = qout['perplexity']
        losses['codebook_usage'] = qout['usage']
        return losses

    # ------------------------------------------------------------------ forward
    def _representation(self):
        if self._rep is None:
            from motionkit.registry import REPRESENTATIONS
            self._rep = REPRESENTATIONS.build(dict(type=self.representation))
        return self._rep

    def _denormalize(self, x: torch.Tensor, sample=None) -> torch.Tensor:
        """Raw features of normalised ``x`` (..., D): with the data preprocessor's statistics,
        or, when the pipeline normalised (``NormalizeMotion``), with the ``mean_path`` /
        ``std_path`` the data sample carries in its metainfo."""
        pre = self.data_preprocessor
        if getattr(pre, 'normalize', False):
            return pre.denormalize(x)
        meta = sample.metainfo if sample is not None and hasattr(sample, 'metainfo') else {}
        if not meta.get('normalized'):
            return x  # the model was fed raw features
        if meta.get('mean_path') is None or meta.get('std_path') is None:
            raise KeyError('MotionVQVAE: the batch was normalised in the pipeline but the data '
                           'sample has no mean_path/std_path to undo it; add them to '
                           "PackMotionInputs' meta_keys")
        mean, std = load_mean_std(meta['mean_path'], meta['std_path'], self.feature_dim)
        return x * torch.as_tensor(std).to(x) + torch.as_tensor(mean).to(x)

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'tensor'):
        if not isinstance(inputs, dict) or 'motion' not in inputs:
            raise TypeError('MotionVQVAE.forward: inputs must be dict(motion=(B, T, D), '
                            'lengths=(B,)) from MotionDataPreprocessor')
        motion, lengths = inputs['motion'], inputs.get('lengths')
        if mode == 'loss':
            return self.loss(motion, lengths)
        if mode == 'tensor':
            return self.reconstruct(motion, lengths)[0]
        if mode != 'predict':
            raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")
        with torch.no_grad():
            ids, token_len = self.encode(motion, lengths)
            recon = self.decode(ids, token_len)
        usable = token_len * self.unit_length
        if data_samples is None:
            from motionkit.structures import MotionDataSample
            data_samples = [MotionDataSample() for _ in range(motion.shape[0])]
        rep = self._representation() if self.representation else None
        for i, sample in enumerate(data_samples):
            n, k = int(usable[i]), int(token_len[i])
            recon_raw = self._denormalize(recon[i, :n].float(), sample).cpu()
            gt_raw = self._denormalize(motion[i, :n].float(), sample).cpu()
            sample.pred_motion = recon_raw
            sample.pred_tokens = ids[i, :k].cpu()
            sample.set_metainfo(dict(recon_length=n, token_length=k))
            if 'gt_motion' not in sample:
                sample.gt_motion = gt_raw
            if rep is not None:
                sample.pred_joints = torch.as_tensor(rep.decode(recon_raw)).float()
                sample.gt_joints = torch.as_tensor(rep.decode(gt_raw)).float()
        return data_samples

    def token_ids_as_list(self, ids: torch.Tensor, token_lengths: torch.Tensor) -> List[list]:
        """Padded ids ``(B, T'[, Q])`` -> one Python list of ids per motion."""
        return [ids[i, :int(n)].tolist() for i, n in enumerate(token_lengths)]
