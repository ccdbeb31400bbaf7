"""Symmetric InfoNCE on cosine similarities, with optional filtering of false negatives.

CoAMD eq. 1 trains its recognizer with InfoNCE between motion and text embeddings: for a batch of
``B`` matching pairs, the similarity matrix ``S[i, j] = cos(m_i, t_j) / tau`` and the loss is the
mean of the cross-entropies of the rows (motion -> text) and of the columns (text -> motion), each
against the diagonal.

In a batch, two different items can carry the same or nearly the same text ("a person walks" twice,
or the same action class); treating the other as a negative punishes a correct match. The filtering
of TMR (Petrovich et al., ICCV 2023), which CoAMD's reference code uses for its caption loss, drops
such pairs from the denominators: off-diagonal ``(i, j)`` whose *sentence* embeddings have
``(cos + 1) / 2 > threshold`` (0.9 in the reference code, i.e. ``cos > 0.8``) are masked out.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from motionkit.registry import MODELS

__all__ = ['false_negative_mask', 'info_nce_loss', 'InfoNCELoss']


def false_negative_mask(sentence_emb: torch.Tensor, threshold: float) -> torch.Tensor:
    """``(B, B)`` bool mask of off-diagonal pairs whose texts count as the same.

    Args:
        sentence_emb: ``(B, E)`` sentence embeddings of the texts (any scale; cosine is used).
        threshold: on the ``(cos + 1) / 2`` scale in ``[0, 1]``: pairs above it are masked.

    Returns:
        ``(B, B)`` bool, True where ``(i, j)``, ``i != j``, is a false negative.
    """
    if sentence_emb.ndim != 2:
        raise ValueError(f'false_negative_mask: sentence_emb must be (B, E), got '
                         f'{tuple(sentence_emb.shape)}')
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f'false_negative_mask: threshold must be in [0, 1] (the (cos + 1) / 2 '
                         f'scale), got {threshold}')
    s = F.normalize(sentence_emb.float(), dim=-1)
    selfsim = s @ s.t()
    off_diag = ~torch.eye(s.shape[0], dtype=torch.bool, device=s.device)
    # (cos + 1) / 2 > threshold  <=>  cos > 2 * threshold - 1
    return (selfsim > 2.0 * float(threshold) - 1.0) & off_diag


def info_nce_loss(motion_emb: torch.Tensor,
                  text_emb: torch.Tensor,
                  temperature: float,
                  sentence_emb: Optional[torch.Tensor] = None,
                  threshold: Optional[float] = None,
                  reduction: str = 'mean') -> torch.Tensor:
    """Symmetric InfoNCE of ``B`` matching (motion, text) pairs on cosine similarities.

    ``loss_i = (CE(S[i, :], i) + CE(S[:, i], i)) / 2`` with ``S = cos(m, t) / temperature``;
    pairs flagged by :func:`false_negative_mask` are left out of both softmax denominators.

    Args:
        motion_emb: ``(B, D)``; normalised here.
        text_emb: ``(B, D)``; normalised here.
        temperature: ``tau > 0``.
        sentence_emb: ``(B, E)`` embeddings that decide false negatives; ``None`` = no filtering.
        threshold: filtering threshold on the ``(cos + 1) / 2`` scale (needed with
            ``sentence_emb``).
        reduction: ``'mean'`` (scalar) or ``'none'`` (``(B,)``, the per-pair average of the two
            directions).

    Returns:
        The loss.
    """
    if motion_emb.ndim != 2 or text_emb.ndim != 2 or motion_emb.shape != text_emb.shape:
        raise ValueError(f'info_nce_loss: motion and text embeddings must both be (B, D), got '
                         f'{tuple(motion_emb.shape)} and {tuple(text_emb.shape)}')
    if not temperature > 0:
        raise ValueError(f'info_nce_loss: temperature must be > 0, got {temperature}')
    if reduction not in ('mean', 'none'):
        raise ValueError(f"info_nce_loss: reduction must be 'mean' or 'none', got {reduction!r}")
    m = F.normalize(motion_emb, dim=-1)
    t = F.normalize(text_emb, dim=-1)
    logits = (m @ t.t()) / temperature
    if sentence_emb is not None:
        if threshold is None:
            raise ValueError('info_nce_loss: sentence_emb given without a threshold')
        if sentence_emb.shape[0] != logits.shape[0]:
            raise ValueError(f'info_nce_loss: sentence_emb has {sentence_emb.shape[0]} rows for a '
                             f'batch of {logits.shape[0]}')
        mask = false_negative_mask(sentence_emb.to(logits.device), threshold)
        # -inf would give NaN gradients nowhere (the diagonal is never masked), but the most
        # negative finite value keeps half precision safe too
        logits = logits.masked_fill(mask, torch.finfo(logits.dtype).min)
    target = torch.arange(logits.shape[0], device=logits.device)
    loss = 0.5 * (F.cross_entropy(logits, target, reduction='none')
                  + F.cross_entropy(logits.t(), target, reduction='none'))
    return loss.mean() if reduction == 'mean' else loss


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """Module form of :func:`info_nce_loss` (CoAMD eq. 1; TMR's false-negative filtering).

    Args:
        temperature: ``tau``.
        threshold: false-negative threshold on the ``(cos + 1) / 2`` scale; ``None`` disables
            filtering even when sentence embeddings are passed.
        loss_weight: multiplies the loss.
    """

    def __init__(self, temperature: float = 0.1, threshold: Optional[float] = 0.9,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'InfoNCELoss: temperature must be > 0, got {temperature}')
        self.temperature = float(temperature)
        self.threshold = threshold
        self.loss_weight = float(loss_weight)

    def forward(self, motion_emb: torch.Tensor, text_emb: torch.Tensor,
                sentence_emb: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.threshold is None:
            sentence_emb = None
        return self.loss_weight * info_nce_loss(motion_emb, text_emb, self.temperature,
                                                sentence_emb, self.threshold)
