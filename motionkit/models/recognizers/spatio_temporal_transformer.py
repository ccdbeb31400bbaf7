"""``SpatioTemporalTransformer``: a factorised spatio-temporal transformer over joint tokens.

The backbone of CoAMD's multi-modal action recognizer (fig. 3): a motion is a grid of tokens, one
per (time step, joint); every block attends across the joints of one time step (spatial), then
across the time steps of one joint (temporal), then applies an MLP, each as a pre-norm residual
branch (the factorisation of STTFormer / MotionBERT's DSTformer, which keeps attention at
``O(T J^2 + J T^2)`` instead of ``O((T J)^2)``). Padded time steps are masked out of temporal
attention, so a padded batch encodes every valid token exactly as the motion alone does.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from motionkit.registry import MODELS

__all__ = ['SpatioTemporalTransformer', 'sinusoidal_positions']


def sinusoidal_positions(length: int, dim: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """``(length, dim)`` sine/cosine position codes (Vaswani et al. 2017), computed on the fly so
    that any length works and nothing is stored in checkpoints."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32)
                     * (-math.log(10000.0) / dim))
    out = torch.zeros(length, dim, device=device, dtype=torch.float32)
    out[:, 0::2] = torch.sin(pos * freq)
    out[:, 1::2] = torch.cos(pos * freq)[:, :dim // 2]
    return out.to(dtype)


class _SelfAttention(nn.Module):
    """Multi-head self-attention over ``(N, L, D)`` with an optional ``(N, L)`` key mask."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, key_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        n, length, dim = x.shape
        q, k, v = self.qkv(x).view(n, length, 3, self.num_heads, dim // self.num_heads) \
            .permute(2, 0, 3, 1, 4)
        mask = None if key_mask is None else key_mask[:, None, None, :]
        # no dropout on the attention weights: it forces the unfused kernel (3x slower on CPU);
        # the block drops the residual branches instead
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(n, length, dim))


class _STBlock(nn.Module):

    def __init__(self, dim: int, num_heads: int, ff_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm_s = nn.LayerNorm(dim)
        self.attn_s = _SelfAttention(dim, num_heads)
        self.norm_t = nn.LayerNorm(dim)
        self.attn_t = _SelfAttention(dim, num_heads)
        self.norm_ff = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_dim), nn.GELU(), nn.Dropout(dropout),
                                nn.Linear(ff_dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n, t, j, d = x.shape
        # spatial: the joints of one time step
        x = x + self.drop(self.attn_s(self.norm_s(x).reshape(n * t, j, d)).view(n, t, j, d))
        # temporal: the valid time steps of one joint
        h = self.norm_t(x).transpose(1, 2).reshape(n * j, t, d)
        key_mask = mask[:, None, :].expand(n, j, t).reshape(n * j, t)
        x = x + self.drop(self.attn_t(h, key_mask).view(n, j, t, d).transpose(1, 2))
        return x + self.drop(self.ff(self.norm_ff(x)))


@MODELS.register_module()
class SpatioTemporalTransformer(BaseModule):
    """Factorised spatio-temporal transformer: ``(N, T, J, D)`` tokens -> ``(N, T, J, D)``.

    Adds a learned embedding per joint and sinusoidal codes per time step, then runs
    ``num_layers`` blocks of spatial attention, temporal attention (padded steps masked) and an
    MLP, and a final LayerNorm.

    Args:
        embed_dims: Token width ``D``.
        num_layers: Blocks.
        num_heads: Attention heads (must divide ``embed_dims``).
        ff_dims: MLP hidden width.
        dropout: Dropout of the residual branches and inside the MLP.
        num_joints: ``J`` (size of the joint embedding).
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_layers: int = 8,
                 num_heads: int = 8,
                 ff_dims: int = 1024,
                 dropout: float = 0.2,
                 num_joints: int = 22,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'SpatioTemporalTransformer: embed_dims ({embed_dims}) must be '
                             f'divisible by num_heads ({num_heads})')
        if embed_dims % 2:
            raise ValueError(f'SpatioTemporalTransformer: embed_dims must be even (sine/cosine '
                             f'position codes), got {embed_dims}')
        self.embed_dims = embed_dims
        self.num_joints = num_joints
        self.joint_embed = nn.Parameter(torch.zeros(num_joints, embed_dims))
        nn.init.normal_(self.joint_embed, std=0.02)
        self.blocks = nn.ModuleList(
            _STBlock(embed_dims, num_heads, ff_dims, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dims)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Encode tokens.

        Args:
            x: ``(N, T, J, D)`` tokens.
            mask: ``(N, T)`` bool, True on valid time steps (each row needs one).

        Returns:
            ``(N, T, J, D)``.
        """
        if x.ndim != 4 or x.shape[2] != self.num_joints or x.shape[3] != self.embed_dims:
            raise ValueError(f'SpatioTemporalTransformer: expected (N, T, {self.num_joints}, '
                             f'{self.embed_dims}) tokens, got {tuple(x.shape)}')
        if mask.shape != x.shape[:2]:
            raise ValueError(f'SpatioTemporalTransformer: mask must be {tuple(x.shape[:2])}, got '
                             f'{tuple(mask.shape)}')
        pos = sinusoidal_positions(x.shape[1], self.embed_dims, x.device, x.dtype)
        x = x + pos[None, :, None, :] + self.joint_embed[None, None]
        mask = mask.bool()
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x)
