"""``VisualMapper``: LLaVA's multimodal projector from visual features to LLM embeddings."""
from __future__ import annotations

import re
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from motionkit.registry import MODELS

__all__ = ['VisualMapper', 'build_projector']

_MLP_RE = re.compile(r'^mlp(\d+)x_gelu$')


def build_projector(projector: str, in_dim: int, out_dim: int) -> nn.Module:
    """LLaVA's ``mm_projector_type`` names as modules.

    * ``'linear'``: ``Linear(in_dim, out_dim)`` (LLaVA-1's projector);
    * ``'mlp<N>x_gelu'``: ``Linear(in_dim, out_dim)`` then ``N - 1`` times ``GELU, Linear(out_dim,
      out_dim)``; ``'mlp2x_gelu'`` (Linear-GELU-Linear) is LLaVA-1.5's, and ExpertAF's for its pose,
      ego-video and exo-video projectors (``--mm_projector_type mlp2x_gelu``);
    * ``'identity'``: no projection (needs ``in_dim == out_dim``).
    """
    if projector == 'linear':
        return nn.Linear(in_dim, out_dim)
    if projector == 'identity':
        if in_dim != out_dim:
            raise ValueError(f"projector 'identity' needs in_dim == out_dim, got {in_dim}, {out_dim}")
        return nn.Identity()
    match = _MLP_RE.match(projector)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"unknown projector {projector!r}: use 'linear', 'identity' or "
                         "'mlp<N>x_gelu' (e.g. 'mlp2x_gelu')")
    layers = [nn.Linear(in_dim, out_dim)]
    for _ in range(int(match.group(1)) - 1):
        layers += [nn.GELU(), nn.Linear(out_dim, out_dim)]
    return nn.Sequential(*layers)


@MODELS.register_module()
class VisualMapper(BaseModule):
    """Video features ``(..., in_dim)`` -> LLM input embeddings ``(..., out_dim)``.

    Applied to every feature vector independently (per frame or per clip), so ``(B, T, in_dim)``
    frame features become ``T`` visual tokens of the language model.

    Args:
        in_dim: Feature size of the video encoder (e.g. InternVideo2's, or
            ``TimmVideoEncoder.out_dim``).
        out_dim: The language model's hidden size.
        projector: ``'mlp2x_gelu'`` (default, ExpertAF / LLaVA-1.5), ``'linear'``, ``'mlp<N>x_gelu'``
            or ``'identity'`` (see :func:`build_projector`).
    """

    def __init__(self, in_dim: int, out_dim: int, projector: str = 'mlp2x_gelu',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.projector_type = projector
        self.proj = build_projector(projector, in_dim, out_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(..., in_dim)`` -> ``(..., out_dim)``."""
        if not isinstance(features, torch.Tensor) or features.ndim < 1 or \
                features.shape[-1] != self.in_dim:
            shape = tuple(features.shape) if hasattr(features, 'shape') else type(features).__name__
            raise ValueError(f'VisualMapper: expected features (..., {self.in_dim}), got {shape}')
        return self.proj(features)
