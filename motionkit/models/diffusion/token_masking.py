"""Random-ratio token masking of masked generative transformers (MaskGIT, Chang et al. 2022;
MoMask; MARDM and CoAMD sec. 3.3, eq. 3): the cosine schedule, the training masks and the masks of
the sampling steps.

Schedule: a fraction ``gamma(u) = cos(pi u / 2)`` of the tokens is masked, ``u`` uniform in
``[0, 1)`` for training; sampling walks ``u`` over ``linspace(0, 1, N)``, so the first step masks
every token and the last one a single token.
"""
from __future__ import annotations

import math
from typing import Optional

import torch

__all__ = ['cosine_mask_ratio', 'num_masked_tokens', 'training_token_mask', 'sampling_step_mask',
           'subset_mask']


def cosine_mask_ratio(u: torch.Tensor) -> torch.Tensor:
    """``cos(pi u / 2)``: the masked fraction at schedule position ``u`` in ``[0, 1]``."""
    return torch.cos(torch.as_tensor(u, dtype=torch.float32) * math.pi * 0.5)


def num_masked_tokens(ratio: torch.Tensor, num_tokens: torch.Tensor) -> torch.Tensor:
    """``round(ratio * n)``, at least 1 and at most ``n`` (0 where ``n == 0``); long ``(B,)``."""
    n = torch.as_tensor(num_tokens).long()
    k = torch.round(torch.as_tensor(ratio, dtype=torch.float32, device=n.device) * n.float()).long()
    return torch.minimum(k.clamp(min=1), n)


def _ranks(scores: torch.Tensor) -> torch.Tensor:
    """Rank of every entry of ``scores`` ``(B, L)`` within its row (0 = smallest)."""
    return scores.argsort(dim=1).argsort(dim=1)


def training_token_mask(valid: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Mask ``num_masked_tokens(cos(pi u / 2), n_i)`` random valid tokens of each row.

    ``u`` is drawn per row; ``n_i`` is the row's number of valid tokens (the reference computes it
    from the padded length and then drops the padded positions; here every motion follows the
    schedule over its own tokens).

    Args:
        valid: ``(B, L)`` bool, the tokens of each motion.
        generator: source of ``u`` and of the token order.

    Returns:
        ``(B, L)`` bool, a subset of ``valid``.
    """
    batch, length = valid.shape
    gen_device = generator.device if generator is not None else valid.device
    u = torch.rand(batch, generator=generator, device=gen_device).to(valid.device)
    k = num_masked_tokens(cosine_mask_ratio(u), valid.sum(1))
    scores = torch.rand(batch, length, generator=generator, device=gen_device).to(valid.device)
    scores = scores.masked_fill(~valid, float('inf'))
    return (_ranks(scores) < k[:, None]) & valid


def subset_mask(mask: torch.Tensor, prob: float,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Each True entry of ``mask`` kept with probability ``prob`` (Bernoulli)."""
    gen_device = generator.device if generator is not None else mask.device
    draw = torch.rand(mask.shape, generator=generator, device=gen_device).to(mask.device)
    return mask & (draw < prob)


def sampling_step_mask(scores: torch.Tensor, num_fill: torch.Tensor, step: int,
                       num_steps: int) -> torch.Tensor:
    """The tokens (re)generated at ``step`` of ``num_steps``: the ``num_masked_tokens(
    cos(pi u / 2), num_fill)`` lowest ``scores`` of each row, ``u = step / (num_steps - 1)``.

    Args:
        scores: ``(B, L)`` random priorities; ``inf`` marks tokens that are fixed (kept, padding,
            or finished at an earlier step).
        num_fill: ``(B,)`` tokens to generate in each row.
        step, num_steps: position in the schedule (``num_steps >= 1``; with one step ``u = 0``:
            every token at once).

    Returns:
        ``(B, L)`` bool.
    """
    if num_steps < 1 or not 0 <= step < num_steps:
        raise ValueError(f'sampling_step_mask: step {step} outside [0, {num_steps})')
    u = 0.0 if num_steps == 1 else step / (num_steps - 1)
    k = num_masked_tokens(cosine_mask_ratio(torch.tensor(u)), num_fill.to(scores.device))
    return (_ranks(scores) < k[:, None]) & torch.isfinite(scores)
