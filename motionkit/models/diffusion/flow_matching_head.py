"""``FlowMatchingHead``: the small per-token MLP that turns a transformer's context into a
continuous token by flow matching (MAR, Li et al. 2024, "Autoregressive Image Generation without
Vector Quantization", its ``SimpleMLPAdaLN``; MARDM / CoAMD's ``DiffMLPs``, sec. 3.3, eq. 4-5).

Per token: the noisy token ``x_t`` goes through ``Linear(in_dim -> width)``; the condition
``y = time_embedding(t) + Linear(context h)`` modulates ``depth`` residual blocks
(``x + gate * MLP(LN(x) * (1 + scale) + shift)``, adaLN with shift / scale / gate from ``SiLU(y)``)
and a final ``LN -> modulate -> Linear(width -> in_dim)``. The adaLN projections and the output
layer start at zero (DiT's adaLN-Zero), so the untrained head predicts 0.

It predicts the velocity of the linear path in CoAMD's time convention: ``t`` in ``[0, 1]`` with
``t = 0`` noise and ``t = 1`` data, ``x_t = t z + (1 - t) eps`` and target ``v = z - eps`` (eq. 5).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from motionkit.registry import MODELS

__all__ = ['FlowMatchingHead', 'sinusoidal_time_embedding']


def sinusoidal_time_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """``(N,)`` (fractional) times -> ``(N, dim)`` ``[cos, sin]`` features (DiT / GLIDE)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32,
                                                             device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class _AdaLNResBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 3 * width))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        shift, scale, gate = self.ada(y).chunk(3, dim=-1)
        return x + gate * self.mlp(_modulate(self.norm(x), shift, scale))


@MODELS.register_module()
class FlowMatchingHead(BaseModule):
    """Velocity ``v(x_t, t, h)`` of one continuous token ``(N, in_dim)`` given its context ``h``.

    Args:
        in_dim: Token width (the autoencoder's ``code_dim``).
        cond_dim: Width of the context ``h`` (the transformer's ``latent_dim``).
        width: Hidden width (1792 in MARDM / CoAMD's "SiT-XL" head).
        depth: Residual blocks (16 in "SiT-XL").
        freq_dim: Sinusoidal features of the time before its MLP (256).
        time_scale: ``t`` in ``[0, 1]`` is embedded as ``t * time_scale`` so that the sinusoid's
            frequencies resolve the unit interval (1000, the scale of the Gaussian-diffusion steps).
    """

    def __init__(self, in_dim: int, cond_dim: int, width: int = 1792, depth: int = 16,
                 freq_dim: int = 256, time_scale: float = 1000.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth < 1 or width < 1:
            raise ValueError(f'FlowMatchingHead: width and depth must be >= 1, got {width}, {depth}')
        self.in_dim, self.cond_dim = int(in_dim), int(cond_dim)
        self.freq_dim, self.time_scale = int(freq_dim), float(time_scale)
        self.input_proj = nn.Linear(in_dim, width)
        self.time_mlp = nn.Sequential(nn.Linear(freq_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.cond_proj = nn.Linear(cond_dim, width)
        self.blocks = nn.ModuleList(_AdaLNResBlock(width) for _ in range(depth))
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))
        self.final_linear = nn.Linear(width, in_dim)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.time_mlp[0].weight, std=0.02)
        nn.init.normal_(self.time_mlp[2].weight, std=0.02)
        zero = [b.ada[-1] for b in self.blocks] + [self.final_ada[-1], self.final_linear]
        for layer in zero:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """``x`` ``(N, in_dim)`` noisy tokens, ``t`` ``(N,)`` times in [0, 1], ``cond``
        ``(N, cond_dim)`` contexts -> velocities ``(N, in_dim)``."""
        if x.ndim != 2 or x.shape[-1] != self.in_dim:
            raise ValueError(f'FlowMatchingHead: x must be (N, {self.in_dim}), got {tuple(x.shape)}')
        if cond.shape != (x.shape[0], self.cond_dim):
            raise ValueError(f'FlowMatchingHead: cond must be ({x.shape[0]}, {self.cond_dim}), got '
                             f'{tuple(cond.shape)}')
        t = torch.as_tensor(t, device=x.device, dtype=x.dtype).expand(x.shape[0])
        y = self.time_mlp(sinusoidal_time_embedding(t * self.time_scale, self.freq_dim).to(x.dtype))
        y = y + self.cond_proj(cond)
        h = self.input_proj(x)
        for block in self.blocks:
            h = block(h, y)
        shift, scale = self.final_ada(y).chunk(2, dim=-1)
        return self.final_linear(_modulate(self.final_norm(h), shift, scale))
