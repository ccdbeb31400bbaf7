"""``PoseTokenizer``: compositional tokens for one 3D pose (PCT, Geng et al., CVPR 2023), as
ExpertAF (Ashutosh et al. 2025) uses to feed COCO-17 body poses to its language model.

PCT represents a pose by ``M`` discrete tokens, each a code of one shared codebook, where every
token may depend on every joint (the tokens are "compositional": learnt sub-structures, not
joints). Its tokenizer is an MLP-Mixer auto-encoder:

* encoder: per-joint linear embedding (J, 3) -> (J, H); ``num_blocks`` Mixer blocks (token
  mixing over the J joints, channel mixing over H); a linear map over the joint axis J -> M; a
  linear map H -> code_dim; then each of the M vectors is quantised (:class:`EMAQuantizer`);
* decoder: code_dim -> H, a linear map M -> J over the token axis, ``num_blocks`` Mixer blocks,
  and a per-joint linear head H -> 3.

PCT's sizes: M = 34 tokens, a codebook of 1024 codes; the defaults here are a tiny CPU preset.
Poses are made root-relative first by subtracting the pelvis, the mid-point of the two hips
(COCO-17 joints 11 and 12), and decoded poses are root-relative.

Loss: L1 on joint positions + ``commit_weight`` * commitment.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from mmengine.model import BaseModel
from torch import nn

from motionkit.registry import MODELS

__all__ = ['PoseTokenizer', 'MixerBlock']


class MixerBlock(nn.Module):
    """MLP-Mixer block (Tolstikhin et al. 2021) over ``(B, N, C)``: token mixing then channel
    mixing, each pre-norm and residual."""

    def __init__(self, num_tokens: int, channels: int, token_hidden: int, channel_hidden: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(channels)
        self.token_mlp = nn.Sequential(nn.Linear(num_tokens, token_hidden), nn.GELU(),
                                       nn.Dropout(dropout), nn.Linear(token_hidden, num_tokens))
        self.norm2 = nn.LayerNorm(channels)
        self.channel_mlp = nn.Sequential(nn.Linear(channels, channel_hidden), nn.GELU(),
                                         nn.Dropout(dropout), nn.Linear(channel_hidden, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.token_mlp(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mlp(self.norm2(x))


@MODELS.register_module()
class PoseTokenizer(BaseModel):
    """PCT-style tokenizer of single 3D poses (COCO-17 by default).

    ``forward(inputs, data_samples, mode)``; ``inputs`` is a ``(B, J, 3)`` tensor of poses, or
    ``dict(motion=(B, T, J, 3), lengths=(B,))`` (every valid frame is one pose):

    * ``'loss'``: ``dict(loss_joint, loss_commit, perplexity, codebook_usage)``;
    * ``'predict'``: data samples with ``pred_joints`` (T, J, 3) root-relative decoded poses
      (T = 1 for a pose batch), ``pred_pose_tokens`` (T, M) long, and ``gt_joints`` (the
      root-relative input) when absent;
    * ``'tensor'``: decoded poses ``(N, J, 3)``.

    Args:
        num_joints: Joints per pose (17, COCO).
        root_joints: Joints whose mean is the root subtracted from every pose (hips 11, 12).
        num_tokens: Tokens per pose ``M`` (PCT: 34).
        codebook_size: Codes in the shared codebook (PCT: 1024).
        code_dim: Code width.
        hidden_dim: Mixer width ``H``.
        num_blocks: Mixer blocks in the encoder and in the decoder.
        token_hidden, channel_hidden: Hidden sizes of the token- and channel-mixing MLPs.
        dropout: Dropout inside the Mixer MLPs.
        quantizer: Extra :class:`EMAQuantizer` settings (decay, reset_threshold, ...).
        commit_weight: Weight of the commitment loss.
    """

    def __init__(self,
                 num_joints: int = 17,
                 root_joints: Sequence[int] = (11, 12),
                 num_tokens: int = 8,
                 codebook_size: int = 64,
                 code_dim: int = 32,
                 hidden_dim: int = 64,
                 num_blocks: int = 2,
                 token_hidden: int = 64,
                 channel_hidden: int = 128,
                 dropout: float = 0.0,
                 quantizer: Optional[dict] = None,
                 commit_weight: float = 0.25,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        root_joints = tuple(int(j) for j in root_joints)
        if not root_joints or any(not 0 <= j < num_joints for j in root_joints):
            raise ValueError(f'PoseTokenizer: root_joints {root_joints} must be indices in '
                             f'[0, {num_joints})')
        self.num_joints = int(num_joints)
        self.root_joints = root_joints
        self.num_tokens = int(num_tokens)
        self.commit_weight = float(commit_weight)
        self.joint_embed = nn.Linear(3, hidden_dim)
        self.enc_blocks = nn.ModuleList(
            MixerBlock(num_joints, hidden_dim, token_hidden, channel_hidden, dropout)
            for _ in range(num_blocks))
        self.enc_norm = nn.LayerNorm(hidden_dim)
        self.joints_to_tokens = nn.Linear(num_joints, num_tokens)
        self.to_code = nn.Linear(hidden_dim, code_dim)
        qcfg = dict(type='EMAQuantizer', codebook_size=codebook_size, code_dim=code_dim)
        qcfg.update(quantizer or {})
        self.quantizer = MODELS.build(qcfg)
        if getattr(self.quantizer, 'multi_layer', False):
            raise ValueError('PoseTokenizer: use a single-codebook quantizer (EMAQuantizer)')
        self.from_code = nn.Linear(code_dim, hidden_dim)
        self.tokens_to_joints = nn.Linear(num_tokens, num_joints)
        self.dec_blocks = nn.ModuleList(
            MixerBlock(num_joints, hidden_dim, token_hidden, channel_hidden, dropout)
            for _ in range(num_blocks))
        self.dec_norm = nn.LayerNorm(hidden_dim)
        self.joint_head = nn.Linear(hidden_dim, 3)

    @property
    def codebook_size(self) -> int:
        return int(self.quantizer.codebook_size)

    # ------------------------------------------------------------------ helpers
    def root_relative(self, poses: torch.Tensor) -> torch.Tensor:
        """Subtract the root (mean of ``root_joints``) from ``(..., J, 3)`` poses."""
        return poses - poses[..., list(self.root_joints), :].mean(-2, keepdim=True)

    def _check_poses(self, poses) -> torch.Tensor:
        if not isinstance(poses, torch.Tensor):
            raise TypeError(f'PoseTokenizer: poses must be a tensor, got {type(poses).__name__}')
        if poses.ndim != 3 or poses.shape[1:] != (self.num_joints, 3):
            raise ValueError(f'PoseTokenizer: poses must be (B, {self.num_joints}, 3), got shape '
                             f'{tuple(poses.shape)}')
        if not bool(torch.isfinite(poses).all()):
            bad = int((~torch.isfinite(poses)).flatten(1).any(1).nonzero()[0])
            raise ValueError(f'PoseTokenizer: poses contain NaN or inf (first at pose {bad})')
        return poses.float()

    def _encode_latent(self, poses: torch.Tensor) -> torch.Tensor:
        h = self.joint_embed(self.root_relative(poses))  # (B, J, H)
        for block in self.enc_blocks:
            h = block(h)
        h = self.joints_to_tokens(self.enc_norm(h).transpose(1, 2)).transpose(1, 2)  # (B, M, H)
        return self.to_code(h)  # (B, M, code_dim)

    def _decode_latent(self, codes: torch.Tensor) -> torch.Tensor:
        h = self.from_code(codes)  # (B, M, H)
        h = self.tokens_to_joints(h.transpose(1, 2)).transpose(1, 2)  # (B, J, H)
        for block in self.dec_blocks:
            h = block(h)
        return self.joint_head(self.dec_norm(h))

    # ------------------------------------------------------------------ public API
    @torch.no_grad()
    def encode(self, poses: torch.Tensor) -> torch.Tensor:
        """``(B, J, 3)`` poses (any root) -> ``(B, M)`` token ids."""
        poses = self._check_poses(poses)
        z = self._encode_latent(poses)
        return self.quantizer.quantize(z.reshape(-1, z.shape[-1])).view(z.shape[0], -1)

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """``(B, M)`` token ids -> ``(B, J, 3)`` root-relative poses.

        Raises:
            ValueError: wrong shape, or an id outside ``[0, codebook_size)``.
        """
        ids = torch.as_tensor(ids)
        if ids.ndim != 2 or ids.shape[1] != self.num_tokens:
            raise ValueError(f'PoseTokenizer.decode: ids must be (B, {self.num_tokens}), got '
                             f'shape {tuple(ids.shape)}')
        return self._decode_latent(self.quantizer.dequantize(ids))

    def _poses_from_inputs(self, inputs) -> tuple:
        """-> (poses (N, J, 3), per-sample counts or None)."""
        if isinstance(inputs, torch.Tensor):
            return self._check_poses(inputs), None
        if isinstance(inputs, dict) and 'motion' in inputs:
            motion = inputs['motion']
            if motion.ndim != 4:
                raise ValueError(f'PoseTokenizer: inputs["motion"] must be (B, T, '
                                 f'{self.num_joints}, 3), got shape {tuple(motion.shape)}')
            lengths = inputs.get('lengths')
            if lengths is None:
                lengths = torch.full((motion.shape[0], ), motion.shape[1], dtype=torch.long)
            lengths = torch.as_tensor(lengths, device=motion.device).long()
            valid = torch.arange(motion.shape[1], device=motion.device)[None] < lengths[:, None]
            return self._check_poses(motion[valid]), lengths.tolist()
        raise TypeError('PoseTokenizer: inputs must be a (B, J, 3) tensor or dict(motion=(B, T, '
                        f'J, 3), lengths=(B,)), got {type(inputs).__name__}')

    def forward(self, inputs, data_samples: Optional[list] = None, mode: str = 'tensor'):
        poses, counts = self._poses_from_inputs(inputs)
        if mode == 'loss':
            target = self.root_relative(poses)
            z = self._encode_latent(poses)
            q = self.quantizer(z.reshape(-1, z.shape[-1]))
            recon = self._decode_latent(q['quantized'].view_as(z))
            return dict(loss_joint=(recon - target).abs().mean(),
                        loss_commit=self.commit_weight * q['commit_loss'],
                        perplexity=q['perplexity'], codebook_usage=q['usage'])
        if mode == 'tensor':
            return self.decode(self.encode(poses))
        if mode != 'predict':
            raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")
        ids = self.encode(poses)
        recon = self.decode(ids)
        target = self.root_relative(poses)
        counts = counts if counts is not None else [1] * poses.shape[0]
        if data_samples is None:
            from motionkit.structures import MotionDataSample
            data_samples = [MotionDataSample() for _ in counts]
        start = 0
        for sample, n in zip(data_samples, counts):
            sample.pred_joints = recon[start:start + n].cpu()
            sample.pred_pose_tokens = ids[start:start + n].cpu()
            if 'gt_joints' not in sample:
                sample.gt_joints = target[start:start + n].cpu()
            start += n
        return data_samples
