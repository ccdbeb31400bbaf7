"""DDPM ancestral sampling (Ho et al. 2020) with any number of reverse steps."""
from __future__ import annotations

from typing import Optional

import torch

from motionkit.registry import NOISE_SCHEDULES
from .gaussian_diffusion import GaussianDiffusionScheduler, randn_like

__all__ = ['DDPMScheduler']


@NOISE_SCHEDULES.register_module()
class DDPMScheduler(GaussianDiffusionScheduler):
    """Sample ``x_prev ~ q(x_prev | x_t, x0_hat)``, the Gaussian posterior of the forward process.

    With fewer steps than training, the chain is respaced as in guided-diffusion (``respace.py``,
    used by MDM): for consecutive kept timesteps ``t > p`` the step's own
    ``alpha'_t = alpha_bar_t / alpha_bar_p`` and ``beta'_t = 1 - alpha'_t`` replace ``alpha_t`` and
    ``beta_t`` in Ho et al.'s eq. 6-7:

    * mean ``= sqrt(alpha_bar_p) * beta'_t / (1 - alpha_bar_t) * x0
      + sqrt(alpha'_t) * (1 - alpha_bar_p) / (1 - alpha_bar_t) * x_t``;
    * variance ``= beta'_t * (1 - alpha_bar_p) / (1 - alpha_bar_t)`` (``'fixed_small'``, MDM's
      ``sigma_small=True``) or ``beta'_t`` (``'fixed_large'``).

    Args:
        variance_type: ``'fixed_small'`` or ``'fixed_large'``.
        **kwargs: see :class:`GaussianDiffusionScheduler`.
    """

    def __init__(self, variance_type: str = 'fixed_small', **kwargs) -> None:
        if variance_type not in ('fixed_small', 'fixed_large'):
            raise ValueError(f"variance_type must be 'fixed_small' or 'fixed_large', got "
                             f'{variance_type!r}')
        self.variance_type = variance_type
        super().__init__(**kwargs)

    def posterior_mean_variance(self, x0: torch.Tensor, sample: torch.Tensor, t: int,
                                prev: int) -> tuple:
        """Mean ``(B, ...)`` and variance (0-d tensor) of ``q(x_prev | x_t, x0)``."""
        ab_t, ab_p = self.alpha_bar(t), self.alpha_bar(prev)
        alpha = ab_t / ab_p
        beta = 1.0 - alpha
        c0 = ab_p.sqrt() * beta / (1.0 - ab_t)
        ct = alpha.sqrt() * (1.0 - ab_p) / (1.0 - ab_t)
        mean = self._coef(c0, sample) * x0 + self._coef(ct, sample) * sample
        var = beta * (1.0 - ab_p) / (1.0 - ab_t) if self.variance_type == 'fixed_small' else beta
        return mean, var

    def _reverse(self, x0: torch.Tensor, eps: torch.Tensor, sample: torch.Tensor, t: int,
                 prev: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        mean, var = self.posterior_mean_variance(x0, sample, t, prev)
        return mean + self._coef(var.sqrt(), sample) * randn_like(sample, generator)
