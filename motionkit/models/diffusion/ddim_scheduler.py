"""DDIM sampling (Song, Meng & Ermon, ICLR 2021) with any number of steps and stochasticity eta."""
from __future__ import annotations

from typing import Optional

import torch

from motionkit.registry import NOISE_SCHEDULES
from .gaussian_diffusion import GaussianDiffusionScheduler, randn_like

__all__ = ['DDIMScheduler']


@NOISE_SCHEDULES.register_module()
class DDIMScheduler(GaussianDiffusionScheduler):
    """DDIM update (Song et al. 2021, eq. 12), for timesteps ``t > p`` of the reverse schedule:

    ``x_p = sqrt(alpha_bar_p) * x0 + sqrt(1 - alpha_bar_p - sigma^2) * eps + sigma * z`` with
    ``sigma = eta * sqrt((1 - alpha_bar_p) / (1 - alpha_bar_t)) * sqrt(1 - alpha_bar_t / alpha_bar_p)``
    (eq. 16). ``eta = 0`` is deterministic given the initial noise; ``eta = 1`` equals DDPM's
    ``fixed_small`` posterior sampling on the same timesteps.

    Args:
        eta: Stochasticity, >= 0.
        **kwargs: see :class:`GaussianDiffusionScheduler`.
    """

    def __init__(self, eta: float = 0.0, **kwargs) -> None:
        if eta < 0:
            raise ValueError(f'eta must be >= 0, got {eta}')
        self.eta = float(eta)
        super().__init__(**kwargs)

    def _reverse(self, x0: torch.Tensor, eps: torch.Tensor, sample: torch.Tensor, t: int,
                 prev: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        ab_t, ab_p = self.alpha_bar(t), self.alpha_bar(prev)
        sigma = self.eta * ((1 - ab_p) / (1 - ab_t)).sqrt() * (1 - ab_t / ab_p).sqrt()
        dir_coef = (1 - ab_p - sigma ** 2).clamp(min=0).sqrt()
        out = self._coef(ab_p.sqrt(), sample) * x0 + self._coef(dir_coef, sample) * eps
        if self.eta > 0:
            out = out + self._coef(sigma, sample) * randn_like(sample, generator)
        return out
