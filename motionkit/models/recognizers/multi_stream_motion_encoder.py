"""``MultiStreamMotionEncoder``: joint / bone / motion streams -> per-stream and fused embeddings.

The motion side of CoAMD's multi-modal action recognizer (MAR, sec. 3.1 and fig. 3):

1. the streams of eq. 2's input from absolute joint coordinates (``motion/streams.py``): joints,
   bones (child minus parent, root zero) and motion (next frame minus this one);
2. each stream normalised per coordinate with statistics tracked over the training data (masked
   batch statistics while training, running statistics at evaluation: they travel with the
   checkpoint, so a recognizer used for guidance needs no statistics files);
3. a shallow projection per stream (a two-layer MLP on each joint token, ``temporal_patch`` frames
   of one joint per token);
4. one spatio-temporal transformer backbone shared by the streams;
5. masked mean pooling per stream, a head per stream giving ``e_j, e_b, e_m`` and a fusion head
   over the concatenated pooled streams giving ``e_f``; all unit norm, in the text space.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from motionkit.motion.skeletons import get_skeleton
from motionkit.motion.streams import compute_streams
from motionkit.registry import MODELS
from .spatio_temporal_transformer import SpatioTemporalTransformer

__all__ = ['MultiStreamMotionEncoder', 'MAR_ARCHS', 'MAR_STREAMS']

#: Streams the encoder can take (eq. 2: joints, bones, motion).
MAR_STREAMS = ('joint', 'bone', 'motion')

#: Size presets. ``paper``: the widths of CoAMD's released recognizer (512-d tokens, 8 layers, 8
#: heads, MLP 1024, dropout 0.2); ``temporal_patch`` (frames per token) is motionkit's choice that
#: keeps the 196 x 22 token grid affordable. ``tiny``: seconds on a CPU.
MAR_ARCHS: Dict[str, dict] = {
    'tiny': dict(embed_dims=32, num_layers=2, num_heads=4, ff_dims=64, dropout=0.1,
                 temporal_patch=8),
    'paper': dict(embed_dims=512, num_layers=8, num_heads=8, ff_dims=1024, dropout=0.2,
                  temporal_patch=4),
}


class _MaskedStreamNorm(nn.Module):
    """Per-stream, per-coordinate standardisation with statistics over valid frames only.

    Training: batch statistics over the valid frames (padding excluded), folded into running
    estimates (momentum, like BatchNorm); evaluation: the running estimates.
    """

    def __init__(self, num_streams: int, num_joints: int, momentum: float = 0.1,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum = momentum
        self.eps = eps
        self.register_buffer('running_mean', torch.zeros(num_streams, num_joints, 3))
        self.register_buffer('running_var', torch.ones(num_streams, num_joints, 3))
        self.register_buffer('num_batches_tracked', torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # x: (B, S, T, J, 3); mask: (B, T)
        if self.training:
            w = mask[:, None, :, None, None].to(x.dtype)
            n = w.sum(dim=(0, 2)).clamp(min=1.0)
            mean = (x * w).sum(dim=(0, 2)) / n                           # (S, J, 3)
            var = ((x - mean[:, None]) ** 2 * w).sum(dim=(0, 2)) / n
            with torch.no_grad():
                count = float(mask.sum())
                unbiased = var * (count / max(count - 1.0, 1.0))
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_var.lerp_(unbiased.detach(), self.momentum)
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean[:, None]) / torch.sqrt(var[:, None] + self.eps)


@MODELS.register_module()
class MultiStreamMotionEncoder(BaseModule):
    """Absolute joint coordinates ``(B, T, J, 3)`` -> ``{stream: (B, out_dims), 'fused': ...}``.

    Args:
        out_dims: Embedding size (the text encoder's, e.g. 384 MiniLM, 512 CLIP).
        streams: Subset of ``('joint', 'bone', 'motion')`` (``('joint',)`` = the "J" row of
            CoAMD table 7).
        skeleton: Registered skeleton of the input (bones follow its parents).
        arch: A key of :data:`MAR_ARCHS`; the arguments below override single entries.
        embed_dims, num_layers, num_heads, ff_dims, dropout: Backbone sizes.
        temporal_patch: Frames per token (a joint's ``temporal_patch`` consecutive positions
            form one token).
    """

    def __init__(self,
                 out_dims: int = 384,
                 streams: Sequence[str] = MAR_STREAMS,
                 skeleton: str = 't2m22',
                 arch: str = 'paper',
                 embed_dims: Optional[int] = None,
                 num_layers: Optional[int] = None,
                 num_heads: Optional[int] = None,
                 ff_dims: Optional[int] = None,
                 dropout: Optional[float] = None,
                 temporal_patch: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in MAR_ARCHS:
            raise KeyError(f'MultiStreamMotionEncoder: unknown arch {arch!r}; known: '
                           f'{sorted(MAR_ARCHS)}')
        cfg = dict(MAR_ARCHS[arch])
        for key, value in dict(embed_dims=embed_dims, num_layers=num_layers, num_heads=num_heads,
                               ff_dims=ff_dims, dropout=dropout,
                               temporal_patch=temporal_patch).items():
            if value is not None:
                cfg[key] = value
        streams = (streams, ) if isinstance(streams, str) else tuple(streams)
        unknown = [s for s in streams if s not in MAR_STREAMS]
        if not streams or unknown or len(set(streams)) != len(streams):
            raise ValueError(f'MultiStreamMotionEncoder: streams must be distinct names from '
                             f'{MAR_STREAMS}, got {streams}')
        if cfg['temporal_patch'] < 1:
            raise ValueError(f"temporal_patch must be >= 1, got {cfg['temporal_patch']}")
        self.arch = arch
        self.arch_cfg = cfg
        self.streams: Tuple[str, ...] = streams
        self.skeleton = get_skeleton(skeleton)
        self.num_joints = self.skeleton.num_joints
        self.out_dims = out_dims
        self.temporal_patch = int(cfg['temporal_patch'])
        d = int(cfg['embed_dims'])
        self.embed_dims = d
        self.norm = _MaskedStreamNorm(len(streams), self.num_joints)
        # the shallow per-stream projection of fig. 3
        self.projections = nn.ModuleDict({
            s: nn.Sequential(nn.Linear(3 * self.temporal_patch, d), nn.LayerNorm(d), nn.GELU(),
                             nn.Linear(d, d))
            for s in streams})
        self.backbone = SpatioTemporalTransformer(
            embed_dims=d, num_layers=cfg['num_layers'], num_heads=cfg['num_heads'],
            ff_dims=cfg['ff_dims'], dropout=cfg['dropout'], num_joints=self.num_joints)
        self.heads = nn.ModuleDict({s: nn.Sequential(nn.LayerNorm(d), nn.Linear(d, out_dims))
                                    for s in streams})
        self.fusion_head = nn.Sequential(nn.LayerNorm(len(streams) * d),
                                         nn.Linear(len(streams) * d, out_dims))

    @property
    def embedding_names(self) -> Tuple[str, ...]:
        """Names of the embeddings :meth:`forward` returns, in the order a weight vector follows:
        ``'fused'``, then the streams (the order of recognizer guidance's ``GUIDANCE_STREAMS``)."""
        return ('fused', ) + self.streams

    @property
    def pooled_dims(self) -> int:
        """Width of the concatenated pooled features (``len(streams) * embed_dims``)."""
        return len(self.streams) * self.embed_dims

    def check_inputs(self, joints: torch.Tensor,
                     lengths: Optional[torch.Tensor]) -> torch.Tensor:
        """Validate ``(B, T, J, 3)`` joints and ``(B,)`` lengths; returns the lengths."""
        if not isinstance(joints, torch.Tensor):
            raise TypeError(f'{type(self).__name__}: joints must be a tensor, got '
                            f'{type(joints).__name__}')
        if joints.ndim != 4 or joints.shape[2] != self.num_joints or joints.shape[3] != 3:
            raise ValueError(f'{type(self).__name__}: expected absolute joint coordinates of shape '
                             f'(B, T, {self.num_joints}, 3) (skeleton {self.skeleton.name!r}), '
                             f'got {tuple(joints.shape)}')
        if joints.shape[0] == 0 or joints.shape[1] == 0:
            raise ValueError(f'{type(self).__name__}: empty batch or motion {tuple(joints.shape)}')
        if not torch.isfinite(joints).all():
            bad = (~torch.isfinite(joints)).flatten(1).any(1).nonzero().flatten().tolist()
            raise ValueError(f'{type(self).__name__}: joints contain NaN or inf (batch items '
                             f'{bad[:5]})')
        b, t = joints.shape[:2]
        if lengths is None:
            return torch.full((b, ), t, dtype=torch.long, device=joints.device)
        lengths = torch.as_tensor(lengths, device=joints.device).long()
        if lengths.shape != (b, ):
            raise ValueError(f'{type(self).__name__}: lengths must have shape ({b},), got '
                             f'{tuple(lengths.shape)}')
        if (lengths < 1).any() or (lengths > t).any():
            raise ValueError(f'{type(self).__name__}: lengths must be in [1, {t}], got '
                             f'{lengths.tolist()}')
        return lengths

    def forward(self, joints: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> dict:
        """Encode a batch.

        Args:
            joints: ``(B, T, J, 3)`` absolute joint coordinates (metres).
            lengths: ``(B,)`` valid frames; ``None`` = all ``T``.

        Returns:
            ``dict(embeddings={name: (B, out_dims)} unit norm, pooled=(B, S * embed_dims))``.
        """
        lengths = self.check_inputs(joints, lengths)
        b, t, j, _ = joints.shape
        frame = torch.arange(t, device=joints.device)
        mask = frame[None] < lengths[:, None]                             # (B, T)
        streams = compute_streams(joints.float(), self.skeleton, self.streams)
        if 'motion' in streams:
            # the last valid frame has no successor: zero its motion, as for an unpadded motion
            keep = (frame[None] < (lengths - 1)[:, None])[..., None, None]
            streams['motion'] = streams['motion'] * keep
        x = torch.stack([streams[s] for s in self.streams], dim=1)       # (B, S, T, J, 3)
        x = self.norm(x, mask) * mask[:, None, :, None, None]
        # tokens of temporal_patch frames of one joint
        p = self.temporal_patch
        tp = math.ceil(t / p)
        if tp * p != t:
            x = F.pad(x, (0, 0, 0, 0, 0, tp * p - t))
            mask = F.pad(mask, (0, tp * p - t))
        token_mask = mask.view(b, tp, p).any(-1)                          # (B, T')
        x = x.view(b, len(self.streams), tp, p, j, 3).permute(0, 1, 2, 4, 3, 5) \
            .reshape(b, len(self.streams), tp, j, 3 * p)
        tokens = torch.stack([self.projections[s](x[:, i]) for i, s in enumerate(self.streams)],
                             dim=1)                                       # (B, S, T', J, D)
        n = b * len(self.streams)
        h = self.backbone(tokens.reshape(n, tp, j, self.embed_dims),
                          token_mask.repeat_interleave(len(self.streams), dim=0))
        w = token_mask.repeat_interleave(len(self.streams), dim=0).to(h.dtype)[:, :, None, None]
        pooled = (h * w).sum(dim=(1, 2)) / (w.sum(dim=(1, 2)) * j)         # (N, D)
        pooled = pooled.view(b, len(self.streams), self.embed_dims)
        emb = {s: F.normalize(self.heads[s](pooled[:, i]), dim=-1)
               for i, s in enumerate(self.streams)}
        flat = pooled.reshape(b, -1)
        emb['fused'] = F.normalize(self.fusion_head(flat), dim=-1)
        return dict(embeddings=emb, pooled=flat)
