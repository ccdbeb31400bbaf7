"""``MultimodalAutoencoder``: CoAMD's continuous motion tokenizer over absolute joint coordinates
(Kuang, Wang and Gui, "Multi-modal Action Recognizer Bridges Human Motion Generation and
Understanding", sec. 3.2, eq. 2; reference code jidongkuang/CoAMD ``models/autoencoder.py``).

Input: absolute joint positions ``(B, T, J, 3)`` in metres (``t2m22``: 22 joints), or the same
flattened to ``(B, T, 3 J)`` (:class:`~motionkit.motion.AbsoluteCoordinates` features). The model
normalises them itself with per-coordinate statistics it holds as buffers (``mean`` / ``std``,
``(3 J,)``, saved with its checkpoints): the reference's ``mean_std/original_absolute``
statistics of HumanML3D; :class:`~motionkit.engine.JointStatsHook` computes them from the training
split before training when the config names none. Predictions and :meth:`decode` are in metres.

Architecture (eq. 2):

* streams of the normalised joints ``x``: joints ``x``, bones ``x[j] - x[parent(j)]`` and motion
  ``x[t + 1] - x[t]`` (:func:`motionkit.motion.compute_streams`; the root's bone is zero and the
  last frame's motion is zero). As in the reference, the streams are taken of the normalised
  coordinates, so the loss weighs every coordinate in units of its own spread;
* one shallow projection per stream, ``Conv1d(3 J -> width, k=3)``, then early fusion: the mean of
  the three projections;
* a shared encoder: ReLU, ``down_t`` stages of [``Conv1d(k=2 stride, stride)`` -> dilated residual
  stack], ``Conv1d(width -> code_dim, k=3)``: latents ``z`` of ``L' = T / stride ** down_t`` steps
  (4 frames per latent with the default 2 x 2);
* a decoder back to the joints: T2M-GPT's convolutional decoder (:class:`TCNDecoder`, the
  reference's ``Decoder``); there is no quantiser (continuous latents).

Loss (eq. 2): the bones and the motion are re-derived from the decoded joints and compared with
those of the input, Smooth-L1 on each stream, summed::

    L = SL1(x_hat, x) + SL1(bone(x_hat), bone(x)) + SL1(motion(x_hat), motion(x))

each a mean over the valid entries (the motion stream over the frames that have a next frame).

Padding-exact batches as :class:`MotionVQVAE`: every feature map is re-masked at its own
resolution, so a padded batch gives each motion the latents it gets alone. Differences from the
reference: its residual blocks end in dropout 0.2 (none here) and its motion stream is the backward
difference with the first frame zero (the forward difference of ``compute_streams`` here).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from motionkit.motion.skeletons import get_skeleton
from motionkit.motion.padding import usable_lengths
from motionkit.motion.statistics import load_mean_std
from motionkit.motion.streams import compute_streams
from motionkit.registry import MODELS
from .motion_vqvae import DilatedResNet1D, TCNDecoder, _activation, _mask_time

__all__ = ['MultimodalAutoencoder', 'MultimodalConvEncoder', 'AE_STREAMS']

#: The three input streams of eq. 2, in the order of the projections.
AE_STREAMS = ('joint', 'bone', 'motion')


class MultimodalConvEncoder(nn.Module):
    """Three ``(B, 3J, T)`` streams -> ``(B, code_dim, T / stride ** down_t)`` latents.

    One ``Conv1d(k=3)`` projection per stream, early fusion by their mean (the reference divides
    the sum by 3), then the shared convolutional trunk of T2M-GPT's encoder.
    """

    def __init__(self, in_dim: int, width: int = 512, code_dim: int = 512, down_t: int = 2,
                 stride_t: int = 2, depth: int = 3, dilation_growth_rate: int = 3,
                 activation: str = 'relu') -> None:
        super().__init__()
        self.stride_t = stride_t
        self.proj = nn.ModuleDict({s: nn.Conv1d(in_dim, width, 3, 1, 1) for s in AE_STREAMS})
        self.act_in = _activation(activation)
        self.down = nn.ModuleList(
            nn.Conv1d(width, width, 2 * stride_t, stride_t, stride_t // 2) for _ in range(down_t))
        self.res = nn.ModuleList(
            DilatedResNet1D(width, depth, dilation_growth_rate, True, activation)
            for _ in range(down_t))
        self.conv_out = nn.Conv1d(width, code_dim, 3, 1, 1)

    def forward(self, streams: dict, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``streams``: ``{'joint', 'bone', 'motion'}`` ``(B, 3J, T)``, zero past ``lengths``."""
        fused = sum(self.proj[s](streams[s]) for s in AE_STREAMS) / len(AE_STREAMS)
        h = self.act_in(_mask_time(fused, lengths))
        for down, res in zip(self.down, self.res):
            lengths = None if lengths is None else torch.div(lengths, self.stride_t,
                                                             rounding_mode='floor')
            h = res(_mask_time(down(h), lengths), lengths)
        return _mask_time(self.conv_out(h), lengths)


@MODELS.register_module()
class MultimodalAutoencoder(BaseModel):
    """Joint / bone / motion autoencoder to continuous latents (CoAMD eq. 2).

    ``forward(inputs, data_samples, mode)`` with ``inputs`` from :class:`MotionDataPreprocessor`
    (``motion``: ``(B, T, J, 3)`` joints in metres, ``lengths`` ``(B,)``; a pipeline ending in
    ``PackMotionInputs(input_key='joints')``):

    * ``'loss'``: ``dict(loss_joint, loss_bone, loss_motion)`` (their sum is eq. 2);
    * ``'predict'``: data samples with ``pred_joints`` ``(T4, J, 3)`` (the reconstruction, metres),
      ``gt_joints`` (the input's same frames) and metainfo ``recon_length`` = T4 =
      ``4 * (length // 4)``: what ``JointErrorMetric`` reads;
    * ``'tensor'``: the reconstruction ``(B, T4, J, 3)`` in metres.

    Args:
        skeleton: Registered skeleton of the joints (``'t2m22'``; ``'kit21'`` for KIT-ML).
        width: Channels of the convolutional stacks (512 in the paper).
        code_dim: Latent width ``D`` of ``z`` (512 in the reference).
        down_t, stride_t: Temporal downsampling stages and stride (2 x 2: 4 frames per latent).
        depth, dilation_growth_rate: Residual blocks per stack and dilation growth (3, 3).
        activation: ``'relu'`` (reference), ``'silu'`` or ``'gelu'``.
        stream_weights: Weights of the joint, bone and motion terms of eq. 2 (1, 1, 1).
        smooth_l1_beta: Transition point of the Smooth-L1 loss (1.0: ``nn.SmoothL1Loss``).
        mean, std: ``(3 J,)`` statistics of the absolute coordinates (x, y, z of joint 0, then
            joint 1, ...), or ``mean_path`` / ``std_path`` ``.npy`` files with them; without any,
            the model starts unnormalised until :meth:`set_feature_stats` (``JointStatsHook``)
            or a checkpoint sets them.
        check_finite: Reject NaN / inf in the valid frames of the input.
        data_preprocessor: Defaults to ``MotionDataPreprocessor`` without statistics.
    """

    def __init__(self,
                 skeleton: str = 't2m22',
                 width: int = 512,
                 code_dim: int = 512,
                 down_t: int = 2,
                 stride_t: int = 2,
                 depth: int = 3,
                 dilation_growth_rate: int = 3,
                 activation: str = 'relu',
                 stream_weights: Sequence[float] = (1.0, 1.0, 1.0),
                 smooth_l1_beta: float = 1.0,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 mean_path: Optional[str] = None,
                 std_path: Optional[str] = None,
                 check_finite: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='motionkit.MotionDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if stride_t < 2 or stride_t % 2:
            raise ValueError(f'MultimodalAutoencoder: stride_t must be an even number >= 2, got '
                             f'{stride_t}')
        if down_t < 1:
            raise ValueError(f'MultimodalAutoencoder: down_t must be >= 1, got {down_t}')
        if len(stream_weights) != len(AE_STREAMS):
            raise ValueError(f'MultimodalAutoencoder: stream_weights needs one weight per stream '
                             f'{AE_STREAMS}, got {list(stream_weights)}')
        if smooth_l1_beta <= 0:
            raise ValueError(f'MultimodalAutoencoder: smooth_l1_beta must be > 0, got '
                             f'{smooth_l1_beta}')
        self.skeleton = get_skeleton(skeleton)
        self.num_joints = self.skeleton.num_joints
        self.feature_dim = 3 * self.num_joints
        self.code_dim = int(code_dim)
        self.unit_length = stride_t ** down_t
        self.stream_weights = tuple(float(w) for w in stream_weights)
        self.smooth_l1_beta = float(smooth_l1_beta)
        self.check_finite = check_finite
        self.encoder = MultimodalConvEncoder(self.feature_dim, width, code_dim, down_t, stride_t,
                                             depth, dilation_growth_rate, activation)
        self.decoder = TCNDecoder(self.feature_dim, width, code_dim, down_t, stride_t, depth,
                                  dilation_growth_rate, activation)
        # Statistics travel with the checkpoint (persistent buffers): a generator that loads this
        # model's weights normalises exactly as it was trained.
        self.register_buffer('mean', torch.zeros(self.feature_dim))
        self.register_buffer('std', torch.ones(self.feature_dim))
        self.register_buffer('stats_flag', torch.tensor(False))
        if (mean is None) != (std is None):
            raise ValueError('MultimodalAutoencoder: give both mean and std, or neither')
        if (mean_path is None) != (std_path is None):
            raise ValueError('MultimodalAutoencoder: give both mean_path and std_path, or neither')
        if mean is None and mean_path is not None:
            mean, std = load_mean_std(mean_path, std_path, self.feature_dim)
        if mean is not None:
            self.set_feature_stats(mean, std)

    # ------------------------------------------------------------------ statistics
    @property
    def feature_stats_set(self) -> bool:
        """True once statistics were given (config, :meth:`set_feature_stats` or a checkpoint)."""
        return bool(self.stats_flag)

    def set_feature_stats(self, mean, std) -> None:
        """Set the ``(3 J,)`` per-coordinate statistics of the absolute joint coordinates."""
        mean_t = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std_t = torch.as_tensor(np.asarray(std, dtype=np.float32))
        want = (self.feature_dim, )
        if tuple(mean_t.shape) != want or tuple(std_t.shape) != want:
            raise ValueError(f'MultimodalAutoencoder: statistics must be ({self.feature_dim},) '
                             f'(x, y, z of the {self.num_joints} joints of {self.skeleton.name!r}), '
                             f'got mean {tuple(mean_t.shape)} and std {tuple(std_t.shape)}')
        if not (torch.isfinite(mean_t).all() and torch.isfinite(std_t).all()):
            raise ValueError('MultimodalAutoencoder: statistics contain NaN or inf')
        if (std_t <= 0).any():
            bad = int(torch.nonzero(std_t <= 0)[0])
            raise ValueError(f'MultimodalAutoencoder: std must be > 0, got {float(std_t[bad])} at '
                             f'coordinate {bad}')
        self.mean.copy_(mean_t)
        self.std.copy_(std_t)
        self.stats_flag.fill_(True)

    def normalize(self, joints: torch.Tensor) -> torch.Tensor:
        """``(..., J, 3)`` metres -> normalised coordinates."""
        shape = joints.shape
        flat = joints.reshape(shape[:-2] + (self.feature_dim, ))
        return ((flat - self.mean.to(flat)) / self.std.to(flat)).reshape(shape)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalize`."""
        shape = x.shape
        flat = x.reshape(shape[:-2] + (self.feature_dim, ))
        return (flat * self.std.to(flat) + self.mean.to(flat)).reshape(shape)

    # ------------------------------------------------------------------ checks
    def token_lengths(self, lengths) -> torch.Tensor:
        """Latent steps of motions of ``lengths`` frames: ``lengths // 4``."""
        return torch.div(torch.as_tensor(lengths), self.unit_length, rounding_mode='floor')

    def check_joints(self, joints: torch.Tensor, lengths=None,
                     owner: str = 'MultimodalAutoencoder') -> Tuple[torch.Tensor, torch.Tensor]:
        """Validate a batch of joints and return ``(joints (B, T, J, 3) float, usable (B,))``.

        ``usable = 4 * (lengths // 4)`` are the frames that are encoded.

        Raises:
            ValueError: wrong shape or joint count, lengths outside ``[4, T]``, NaN / inf in the
                usable frames (the first bad item and frame are named).
        """
        if not isinstance(joints, torch.Tensor):
            raise TypeError(f'{owner}: joints must be a tensor, got {type(joints).__name__}')
        J = self.num_joints
        if joints.ndim == 3 and joints.shape[-1] == self.feature_dim:
            joints = joints.reshape(joints.shape[:2] + (J, 3))
        if joints.ndim != 4 or tuple(joints.shape[-2:]) != (J, 3):
            raise ValueError(f'{owner}: expected absolute joint positions (B, T, {J}, 3) of skeleton '
                             f'{self.skeleton.name!r} (or (B, T, {self.feature_dim})), got shape '
                             f'{tuple(joints.shape)}')
        usable = usable_lengths(joints, lengths, self.unit_length, owner, 'joints', self.check_finite)
        return joints.float(), usable

    # ------------------------------------------------------------------ streams and losses
    def streams(self, x: torch.Tensor, usable: torch.Tensor) -> dict:
        """Joint, bone and motion streams ``(B, T, J, 3)`` of normalised joints ``x``, zero where
        they are undefined (padding; the motion of a motion's last usable frame)."""
        out = compute_streams(x, self.skeleton, AE_STREAMS)
        t = torch.arange(x.shape[1], device=x.device)[None]
        frame = (t < usable[:, None]).to(x.dtype)[..., None, None]
        motion = (t < usable[:, None] - 1).to(x.dtype)[..., None, None]
        return dict(joint=out['joint'] * frame, bone=out['bone'] * frame,
                    motion=out['motion'] * motion)

    def stream_loss(self, pred: torch.Tensor, target: torch.Tensor,
                    usable: torch.Tensor) -> dict:
        """Eq. 2 on normalised joints ``pred`` / ``target`` ``(B, T, J, 3)``.

        Returns ``dict(loss_joint, loss_bone, loss_motion)``: the weighted Smooth-L1 of each stream,
        a mean over its valid entries (frames ``< usable``; for the motion stream, frames with a
        next frame ``< usable - 1``).
        """
        sp, st = self.streams(pred, usable), self.streams(target, usable)
        t = torch.arange(pred.shape[1], device=pred.device)[None]
        masks = dict(joint=t < usable[:, None], bone=t < usable[:, None],
                     motion=t < usable[:, None] - 1)
        losses = {}
        for w, name in zip(self.stream_weights, AE_STREAMS):
            err = F.smooth_l1_loss(sp[name], st[name], reduction='none', beta=self.smooth_l1_beta)
            m = masks[name].to(err.dtype)[..., None, None]
            count = (m.sum() * err.shape[-1] * err.shape[-2]).clamp(min=1)
            losses[f'loss_{name}'] = w * (err * m).sum() / count
        return losses

    # ------------------------------------------------------------------ core
    def _encode_normalized(self, x: torch.Tensor, usable: torch.Tensor) -> torch.Tensor:
        """Normalised ``(B, T, J, 3)`` -> latents ``(B, L', code_dim)`` (zero past each motion)."""
        t4 = int(usable.max())
        x = x[:, :t4]
        mask_lengths = None if bool((usable == t4).all()) else usable
        streams = self.streams(x, usable)
        streams = {k: v.flatten(2).transpose(1, 2) for k, v in streams.items()}
        return self.encoder(streams, mask_lengths).transpose(1, 2)

    def _decode_normalized(self, z: torch.Tensor, token_lengths: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, L', code_dim)`` -> normalised joints ``(B, 4 L', J, 3)``."""
        mask_lengths = None if bool((token_lengths == z.shape[1]).all()) else token_lengths
        out = self.decoder(z.transpose(1, 2), mask_lengths).transpose(1, 2)
        return out.reshape(out.shape[:2] + (self.num_joints, 3))

    def encode(self, joints: torch.Tensor,
               lengths=None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Joints in metres -> continuous latents.

        Args:
            joints: ``(B, T, J, 3)`` (or ``(B, T, 3 J)``) absolute positions in metres.
            lengths: ``(B,)`` valid frames (default ``T``), at least 4.

        Returns:
            ``(latents, token_lengths)``: ``(B, L', code_dim)`` with ``L' = max(lengths) // 4``,
            zero past each motion's ``token_lengths = lengths // 4``.
        """
        joints, usable = self.check_joints(joints, lengths)
        z = self._encode_normalized(self.normalize(joints), usable)
        return z, torch.div(usable, self.unit_length, rounding_mode='floor')

    def decode(self, latents: torch.Tensor, token_lengths=None) -> torch.Tensor:
        """Latents -> joints in metres (differentiable: recognizer guidance backpropagates here).

        Args:
            latents: ``(B, L', code_dim)``.
            token_lengths: ``(B,)`` valid latent steps (default all).

        Returns:
            ``(B, 4 L', J, 3)`` joints, zero past ``4 * token_lengths``.
        """
        if latents.ndim != 3 or latents.shape[-1] != self.code_dim:
            raise ValueError(f'MultimodalAutoencoder.decode: latents must be (B, L, {self.code_dim}), '
                             f'got shape {tuple(latents.shape)}')
        batch, steps = latents.shape[:2]
        if token_lengths is None:
            token_lengths = torch.full((batch, ), steps, dtype=torch.long, device=latents.device)
        token_lengths = torch.as_tensor(token_lengths, device=latents.device).long()
        if token_lengths.shape != (batch, ) or (batch and (int(token_lengths.max()) > steps
                                                           or int(token_lengths.min()) < 1)):
            raise ValueError(f'MultimodalAutoencoder.decode: token_lengths must be ({batch},) in '
                             f'[1, {steps}], got {token_lengths.tolist()}')
        joints = self.denormalize(self._decode_normalized(latents, token_lengths))
        t = torch.arange(joints.shape[1], device=joints.device)[None]
        keep = (t < token_lengths[:, None] * self.unit_length).to(joints.dtype)
        return joints * keep[..., None, None]

    def reconstruct(self, joints: torch.Tensor, lengths=None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode and decode: ``(B, T4, J, 3)`` metres and the usable lengths ``(B,)``."""
        z, token_len = self.encode(joints, lengths)
        return self.decode(z, token_len), token_len * self.unit_length

    def loss(self, joints: torch.Tensor, lengths=None) -> dict:
        """Eq. 2 for a batch of joints in metres (see :meth:`stream_loss`)."""
        joints, usable = self.check_joints(joints, lengths)
        x = self.normalize(joints)
        z = self._encode_normalized(x, usable)
        token_len = torch.div(usable, self.unit_length, rounding_mode='floor')
        x_hat = self._decode_normalized(z, token_len)
        return self.stream_loss(x_hat, x[:, :x_hat.shape[1]], usable)

    # ------------------------------------------------------------------ forward
    def forward(self, inputs: Union[dict, torch.Tensor], data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        if isinstance(inputs, torch.Tensor):
            inputs = dict(motion=inputs)
        if not isinstance(inputs, dict) or 'motion' not in inputs:
            raise TypeError('MultimodalAutoencoder.forward: inputs must be dict(motion=(B, T, J, 3), '
                            'lengths=(B,)) from MotionDataPreprocessor')
        joints, lengths = inputs['motion'], inputs.get('lengths')
        if mode == 'loss':
            return self.loss(joints, lengths)
        if mode == 'tensor':
            return self.reconstruct(joints, lengths)[0]
        if mode != 'predict':
            raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")
        joints, _ = self.check_joints(joints, lengths)
        with torch.no_grad():
            recon, usable = self.reconstruct(joints, lengths)
        if data_samples is None:
            from motionkit.structures import MotionDataSample
            data_samples = [MotionDataSample() for _ in range(joints.shape[0])]
        for i, sample in enumerate(data_samples):
            n = int(usable[i])
            sample.pred_joints = recon[i, :n].detach().float().cpu()
            sample.gt_joints = joints[i, :n].detach().float().cpu()
            sample.set_metainfo(dict(recon_length=n))
        return data_samples
