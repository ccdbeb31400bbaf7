"""Beta schedules of Gaussian diffusion (float64, ``(T,)``).

* ``linear``: Ho et al. (NeurIPS 2020), betas evenly spaced from 1e-4 to 0.02 for 1000 steps; for
  another number of steps both ends are scaled by ``1000 / T`` so that the schedule stays similar
  (Nichol & Dhariwal 2021, the rule of guided-diffusion that MDM inherits).
* ``cosine``: Nichol & Dhariwal (ICML 2021, eq. 17): ``alpha_bar(t) = f(t) / f(0)`` with
  ``f(t) = cos((t / T + s) / (1 + s) * pi / 2) ** 2``, ``s = 0.008``; betas are
  ``1 - alpha_bar(t + 1) / alpha_bar(t)`` clipped to ``max_beta = 0.999`` to avoid a singularity at
  ``t = T``. MDM trains with this schedule and 1000 steps.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ['linear_beta_schedule', 'cosine_beta_schedule', 'betas_for_alpha_bar', 'make_betas']


def linear_beta_schedule(num_train_timesteps: int, beta_start: float = 1e-4,
                         beta_end: float = 0.02) -> torch.Tensor:
    """``(T,)`` float64 betas, linear from ``beta_start`` to ``beta_end`` (scaled by 1000 / T)."""
    if num_train_timesteps < 1:
        raise ValueError(f'num_train_timesteps must be >= 1, got {num_train_timesteps}')
    scale = 1000.0 / num_train_timesteps
    # schedules are plain CPU tensors, whatever device context a model is built in
    return torch.linspace(scale * beta_start, scale * beta_end, num_train_timesteps,
                          dtype=torch.float64, device='cpu')


def betas_for_alpha_bar(num_train_timesteps: int, alpha_bar: Callable[[float], float],
                        max_beta: float = 0.999) -> torch.Tensor:
    """Discretise a continuous ``alpha_bar(u)``, ``u`` in [0, 1], into ``(T,)`` float64 betas.

    ``beta_i = min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), max_beta)``.
    """
    if num_train_timesteps < 1:
        raise ValueError(f'num_train_timesteps must be >= 1, got {num_train_timesteps}')
    betas = []
    for i in range(num_train_timesteps):
        u1, u2 = i / num_train_timesteps, (i + 1) / num_train_timesteps
        betas.append(min(1.0 - alpha_bar(u2) / alpha_bar(u1), max_beta))
    return torch.tensor(betas, dtype=torch.float64, device='cpu')


def cosine_beta_schedule(num_train_timesteps: int, s: float = 0.008,
                         max_beta: float = 0.999) -> torch.Tensor:
    """``(T,)`` float64 betas of the cosine schedule (Nichol & Dhariwal 2021, eq. 17)."""
    return betas_for_alpha_bar(
        num_train_timesteps, lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2, max_beta)


def make_betas(beta_schedule: str, num_train_timesteps: int, beta_start: float = 1e-4,
               beta_end: float = 0.02) -> torch.Tensor:
    """Betas of a named schedule (``'linear'`` or ``'cosine'``)."""
    if beta_schedule == 'linear':
        return linear_beta_schedule(num_train_timesteps, beta_start, beta_end)
    if beta_schedule == 'cosine':
        return cosine_beta_schedule(num_train_timesteps)
    raise ValueError(f"beta_schedule must be 'linear' or 'cosine', got {beta_schedule!r}")
