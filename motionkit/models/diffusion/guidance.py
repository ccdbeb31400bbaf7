"""Classifier-free guidance (Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", eq. 6)."""
from __future__ import annotations

from typing import Union

import torch

__all__ = ['classifier_free_guidance']


def classifier_free_guidance(cond_output: torch.Tensor, uncond_output: torch.Tensor,
                             scale: Union[float, torch.Tensor]) -> torch.Tensor:
    """``uncond + scale * (cond - uncond)``.

    MDM applies it to its x0 predictions (``ClassifierFreeSampleModel``) with ``scale = 2.5``;
    ``scale = 1`` returns the conditional output, ``scale = 0`` the unconditional one.

    Args:
        cond_output, uncond_output: ``(B, ...)`` outputs with and without the condition.
        scale: a float or a ``(B,)`` tensor (one scale per sample).
    """
    if cond_output.shape != uncond_output.shape:
        raise ValueError(f'classifier_free_guidance: shapes differ: {tuple(cond_output.shape)} '
                         f'vs {tuple(uncond_output.shape)}')
    if isinstance(scale, torch.Tensor) and scale.ndim == 1:
        scale = scale.to(cond_output).reshape((-1, ) + (1, ) * (cond_output.ndim - 1))
    return uncond_output + scale * (cond_output - uncond_output)
