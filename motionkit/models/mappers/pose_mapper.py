"""``PoseMapper``: PCT pose tokens -> LLM input embeddings (ExpertAF's pose projector)."""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from motionkit.registry import MODELS
from .visual_mapper import build_projector

__all__ = ['PoseMapper']


@MODELS.register_module()
class PoseMapper(BaseModule):
    """Pose codes ``(..., M)`` (ids) or code vectors ``(..., M, code_dim)`` -> ``(..., M, out_dim)``.

    ExpertAF feeds each pose to its language model as the ``M`` codebook vectors of its PCT tokens
    (the tokenizer returns ``one_hot(ids) @ codebook``) passed through a ``mlp2x_gelu`` projector
    (``pose_mm_projector``), one LLM token per pose token. Here the ids index ``codebook``, a
    ``(codebook_size, code_dim)`` table that :meth:`load_codebook` copies from a trained
    :class:`~motionkit.models.tokenizers.PoseTokenizer` (frozen by default, as in ExpertAF where
    only the projector is tuned), or that is learned when ``freeze_codebook=False``.

    Args:
        codebook_size: Codes in the pose codebook (PCT: 1024).
        code_dim: Size of a code vector.
        out_dim: The language model's hidden size.
        projector: Projector type (:func:`~motionkit.models.mappers.build_projector`).
        freeze_codebook: Keep the codebook fixed (no gradient).
    """

    def __init__(self, codebook_size: int, code_dim: int, out_dim: int,
                 projector: str = 'mlp2x_gelu', freeze_codebook: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if codebook_size < 1 or code_dim < 1:
            raise ValueError(f'PoseMapper: codebook_size and code_dim must be >= 1, got '
                             f'{codebook_size}, {code_dim}')
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        self.out_dim = out_dim
        self.codebook = nn.Embedding(codebook_size, code_dim)
        self.codebook.weight.requires_grad_(not freeze_codebook)
        self.proj = build_projector(projector, code_dim, out_dim)

    @torch.no_grad()
    def load_codebook(self, codebook: torch.Tensor) -> None:
        """Copy a ``(codebook_size, code_dim)`` codebook (e.g. ``PoseTokenizer.quantizer``'s)."""
        codebook = torch.as_tensor(codebook)
        if tuple(codebook.shape) != (self.codebook_size, self.code_dim):
            raise ValueError(f'PoseMapper.load_codebook: expected ({self.codebook_size}, '
                             f'{self.code_dim}), got {tuple(codebook.shape)}')
        self.codebook.weight.copy_(codebook)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """Map pose codes.

        Args:
            codes: ``(..., M)`` integer code ids in ``[0, codebook_size)``, or ``(..., M, code_dim)``
                float code vectors.

        Returns:
            ``(..., M, out_dim)``.
        """
        if not isinstance(codes, torch.Tensor):
            raise TypeError(f'PoseMapper: codes must be a tensor, got {type(codes).__name__}')
        if codes.is_floating_point():
            if codes.shape[-1] != self.code_dim:
                raise ValueError(f'PoseMapper: code vectors must be (..., M, {self.code_dim}), got '
                                 f'{tuple(codes.shape)}')
            vectors = codes
        else:
            if codes.numel() and (codes.min() < 0 or codes.max() >= self.codebook_size):
                raise ValueError(f'PoseMapper: code ids must be in [0, {self.codebook_size}), got '
                                 f'{int(codes.min())}..{int(codes.max())}')
            vectors = self.codebook(codes.long())
        return self.proj(vectors)
