"""``LinearClassifierHead``: dropout + one linear layer over pooled features (mmaction2's
``GCNHead`` of ``RecognizerGCN``), for linear probes and supervised baselines."""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from motionkit.registry import MODELS

__all__ = ['LinearClassifierHead']


@MODELS.register_module()
class LinearClassifierHead(BaseModule):
    """``(B, in_dims)`` pooled features -> ``(B, num_classes)`` logits.

    Args:
        num_classes: Classes.
        in_dims: Feature width.
        dropout: Dropout before the linear layer (0 for a linear probe).
        init_std: Std of the normal initialisation of the weights (biases start at 0).
    """

    def __init__(self, num_classes: int = 60, in_dims: int = 512, dropout: float = 0.0,
                 init_std: float = 0.01, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 1 or in_dims < 1:
            raise ValueError(f'LinearClassifierHead: num_classes and in_dims must be >= 1, got '
                             f'{num_classes} and {in_dims}')
        self.num_classes = num_classes
        self.in_dims = in_dims
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_dims, num_classes)
        nn.init.normal_(self.fc.weight, std=init_std)
        nn.init.zeros_(self.fc.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.ndim != 2 or features.shape[1] != self.in_dims:
            raise ValueError(f'LinearClassifierHead: expected (B, {self.in_dims}) features, got '
                             f'{tuple(features.shape)}')
        return self.fc(self.dropout(features))
