"""Gaussian diffusion: the forward process, prediction-type conversions and the shared part of
the DDPM / DDIM samplers (diffusers style: ``set_timesteps`` then ``step`` per reverse step).

Notation (Ho et al. 2020): ``alpha_bar_t = prod_{s <= t} (1 - beta_s)``,
``x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * eps``. With ``a = sqrt(alpha_bar_t)`` and
``s = sqrt(1 - alpha_bar_t)`` the three prediction targets are related by

* ``x0 = (x_t - s * eps) / a`` and ``eps = (x_t - a * x0) / s``;
* ``v = a * eps - s * x0`` (Salimans & Ho 2022, "Progressive distillation", sec. 4), hence
  ``x0 = a * x_t - s * v`` and ``eps = s * x_t + a * v``.

Timesteps are integers ``0 .. T-1`` (0 is the least noisy). After the last reverse step the
"previous" timestep is ``-1`` with ``alpha_bar = 1``, so the last step returns the (possibly edited)
x0 prediction itself; this is what the posterior gives at ``t = 0`` and it makes features fixed by
an editing callback exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch

from .beta_schedules import make_betas

__all__ = ['GaussianDiffusionScheduler', 'SchedulerStepOutput', 'PREDICTION_TYPES', 'randn_like']

#: What a denoiser may predict.
PREDICTION_TYPES = ('x0', 'epsilon', 'v')

TimestepLike = Union[int, float, torch.Tensor]


@dataclass
class SchedulerStepOutput:
    """Result of one reverse step.

    Attributes:
        prev_sample: the sample at the previous (less noisy) timestep, shape of the input.
        pred_x0: the clean-data prediction the step used (after ``denoised_fn``).
    """
    prev_sample: torch.Tensor
    pred_x0: torch.Tensor


def randn_like(x: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, drawn from ``generator`` (on its device)."""
    if generator is None:
        return torch.randn_like(x)
    noise = torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype)
    return noise.to(x.device)


class GaussianDiffusionScheduler:
    """Shared forward process and conversions; subclasses implement :meth:`_reverse` (the update).

    Args:
        num_train_timesteps: Diffusion steps of training (1000 in MDM).
        beta_schedule: ``'cosine'`` (MDM) or ``'linear'``.
        beta_start, beta_end: Ends of the linear schedule (for 1000 steps).
        prediction_type: What the denoiser outputs: ``'x0'`` (MDM), ``'epsilon'`` or ``'v'``.
        timestep_spacing: How ``set_timesteps(n)`` picks ``n`` of the training steps:
            ``'linspace'`` (``round(linspace(0, T - 1, n))``, guided-diffusion's respacing, always
            includes ``T - 1`` and ``0``) or ``'leading'`` (``0, k, 2k, ...`` with ``k = T // n``,
            DDIM's original choice).
        clip_x0: Clamp the x0 prediction to ``[-clip_x0, clip_x0]`` before the update (None: off;
            MDM does not clip normalised motion features).
    """

    def __init__(self,
                 num_train_timesteps: int = 1000,
                 beta_schedule: str = 'cosine',
                 beta_start: float = 1e-4,
                 beta_end: float = 0.02,
                 prediction_type: str = 'x0',
                 timestep_spacing: str = 'linspace',
                 clip_x0: Optional[float] = None) -> None:
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(f'prediction_type must be one of {PREDICTION_TYPES}, got '
                             f'{prediction_type!r}')
        if timestep_spacing not in ('linspace', 'leading'):
            raise ValueError(f"timestep_spacing must be 'linspace' or 'leading', got "
                             f'{timestep_spacing!r}')
        self.num_train_timesteps = int(num_train_timesteps)
        self.beta_schedule = beta_schedule
        self.prediction_type = prediction_type
        self.timestep_spacing = timestep_spacing
        self.clip_x0 = clip_x0
        self.betas = make_betas(beta_schedule, self.num_train_timesteps, beta_start, beta_end)
        if not ((self.betas > 0) & (self.betas <= 1)).all():
            raise ValueError(f'{type(self).__name__}: betas must lie in (0, 1]')
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        #: Scale of the initial noise (1 for variance-preserving diffusion).
        self.init_noise_sigma = 1.0
        self.set_timesteps(self.num_train_timesteps)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_train_timesteps={self.num_train_timesteps}, '
                f'beta_schedule={self.beta_schedule!r}, prediction_type={self.prediction_type!r}, '
                f'num_inference_steps={self.num_inference_steps})')

    # ------------------------------------------------------------------ coefficients
    def alpha_bar(self, timesteps: TimestepLike) -> torch.Tensor:
        """``alpha_bar_t`` (float64); ``t = -1`` gives 1 (the clean end of the chain)."""
        t = torch.as_tensor(timesteps, dtype=torch.long).cpu()
        if ((t < -1) | (t >= self.num_train_timesteps)).any():
            raise ValueError(f'{type(self).__name__}: timesteps must lie in [-1, '
                             f'{self.num_train_timesteps - 1}], got {t.tolist()}')
        padded = torch.cat([torch.ones(1, dtype=torch.float64, device='cpu'), self.alphas_cumprod])
        return padded[t + 1]

    def _coef(self, values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Broadcast per-sample (B,) or scalar coefficients over ``like`` (B, ...)."""
        values = values.to(device=like.device, dtype=like.dtype)
        if values.ndim == 0:
            return values
        if values.shape[0] != like.shape[0]:
            raise ValueError(f'{len(values)} timesteps for a batch of {like.shape[0]}')
        return values.reshape((-1, ) + (1, ) * (like.ndim - 1))

    def _a_s(self, timesteps: TimestepLike, like: torch.Tensor) -> tuple:
        ab = self.alpha_bar(timesteps)
        return self._coef(ab.sqrt(), like), self._coef((1.0 - ab).sqrt(), like)

    # ------------------------------------------------------------------ forward process
    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor,
                  timesteps: TimestepLike) -> torch.Tensor:
        """``q(x_t | x0)`` sample: ``sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise``.

        Args:
            x0, noise: ``(B, ...)``.
            timesteps: ``(B,)`` or a scalar.
        """
        if x0.shape != noise.shape:
            raise ValueError(f'add_noise: x0 {tuple(x0.shape)} and noise {tuple(noise.shape)} '
                             'differ in shape')
        a, s = self._a_s(timesteps, x0)
        return a * x0 + s * noise

    def get_velocity(self, x0: torch.Tensor, noise: torch.Tensor,
                     timesteps: TimestepLike) -> torch.Tensor:
        """The v target ``sqrt(alpha_bar) * noise - sqrt(1 - alpha_bar) * x0``."""
        a, s = self._a_s(timesteps, x0)
        return a * noise - s * x0

    def training_target(self, x0: torch.Tensor, noise: torch.Tensor,
                        timesteps: TimestepLike) -> torch.Tensor:
        """What the denoiser should output for ``prediction_type``."""
        if self.prediction_type == 'x0':
            return x0
        if self.prediction_type == 'epsilon':
            return noise
        return self.get_velocity(x0, noise, timesteps)

    def sample_timesteps(self, batch_size: int, device: Union[str, torch.device] = 'cpu',
                         generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``(B,)`` long training timesteps, uniform over ``0 .. T-1`` (MDM's uniform sampler)."""
        gen_device = generator.device if generator is not None else device
        t = torch.randint(0, self.num_train_timesteps, (batch_size, ), generator=generator,
                          device=gen_device)
        return t.to(device)

    # ------------------------------------------------------------------ conversions
    def convert(self, model_output: torch.Tensor, sample: torch.Tensor, timesteps: TimestepLike,
                to: str, from_type: Optional[str] = None) -> torch.Tensor:
        """Convert a prediction between ``'x0'``, ``'epsilon'`` and ``'v'`` (see module doc).

        Args:
            model_output: the prediction, ``(B, ...)``.
            sample: ``x_t``, same shape.
            timesteps: ``(B,)`` or a scalar.
            to: target type.
            from_type: type of ``model_output``; default :attr:`prediction_type`.
        """
        src = from_type or self.prediction_type
        for name in (src, to):
            if name not in PREDICTION_TYPES:
                raise ValueError(f'prediction type must be one of {PREDICTION_TYPES}, got {name!r}')
        if src == to:
            return model_output
        a, s = self._a_s(timesteps, sample)
        # first to x0 ...
        if src == 'x0':
            x0 = model_output
        elif src == 'epsilon':
            x0 = (sample - s * model_output) / a
        else:
            x0 = a * sample - s * model_output
        if to == 'x0':
            return x0
        if src == 'epsilon' and to == 'v':
            return a * model_output - s * x0
        if src == 'v' and to == 'epsilon':
            return s * sample + a * model_output
        eps = (sample - a * x0) / s
        return eps if to == 'epsilon' else a * eps - s * x0

    def predict_x0(self, model_output: torch.Tensor, sample: torch.Tensor,
                   timesteps: TimestepLike) -> torch.Tensor:
        """The clean-data prediction implied by ``model_output`` at ``x_t = sample``."""
        return self.convert(model_output, sample, timesteps, 'x0')

    def predict_epsilon(self, model_output: torch.Tensor, sample: torch.Tensor,
                        timesteps: TimestepLike) -> torch.Tensor:
        """The noise prediction implied by ``model_output`` at ``x_t = sample``."""
        return self.convert(model_output, sample, timesteps, 'epsilon')

    def x0_to_model_output(self, x0: torch.Tensor, sample: torch.Tensor,
                           timesteps: TimestepLike) -> torch.Tensor:
        """Inverse of :meth:`predict_x0`: the model output that implies ``x0``."""
        return self.convert(x0, sample, timesteps, self.prediction_type, from_type='x0')

    # ------------------------------------------------------------------ sampling
    def set_timesteps(self, num_inference_steps: int,
                      device: Union[str, torch.device, None] = None) -> None:
        """Choose the reverse-process timesteps (descending) for ``num_inference_steps`` steps."""
        n = int(num_inference_steps)
        if not 1 <= n <= self.num_train_timesteps:
            raise ValueError(f'{type(self).__name__}: num_inference_steps must be in [1, '
                             f'{self.num_train_timesteps}], got {num_inference_steps}')
        T = self.num_train_timesteps
        if self.timestep_spacing == 'linspace':
            steps = torch.linspace(0, T - 1, n, dtype=torch.float64, device='cpu').round().long()
        else:
            steps = torch.arange(n, dtype=torch.long, device='cpu') * (T // n)
        steps = torch.unique(steps)  # sorted ascending, no repeats
        if len(steps) != n:
            raise ValueError(f'{type(self).__name__}: {n} steps out of {T} gave repeated timesteps')
        self.num_inference_steps = n
        self.timesteps = steps.flip(0).to(device or 'cpu')
        prev = torch.cat([torch.tensor([-1], device='cpu'), steps[:-1]])
        self._prev_of = {int(t): int(p) for t, p in zip(steps, prev)}

    def previous_timestep(self, timestep: TimestepLike) -> int:
        """The timestep after ``timestep`` in the current reverse schedule (-1 after the last)."""
        t = int(timestep)
        if t not in self._prev_of:
            raise ValueError(f'{type(self).__name__}: timestep {t} is not in the current schedule '
                             f'of {self.num_inference_steps} steps; call set_timesteps first')
        return self._prev_of[t]

    def step(self,
             model_output: torch.Tensor,
             timestep: TimestepLike,
             sample: torch.Tensor,
             generator: Optional[torch.Generator] = None,
             denoised_fn: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
             ) -> SchedulerStepOutput:
        """One reverse step ``x_t -> x_{prev}`` for the whole batch (one shared timestep).

        Args:
            model_output: denoiser output at ``(sample, timestep)`` of type :attr:`prediction_type`.
            timestep: current timestep (one of :attr:`timesteps`).
            sample: ``x_t``, ``(B, ...)``.
            generator: source of the step's noise.
            denoised_fn: applied to the x0 prediction before the update (guided-diffusion's
                ``denoised_fn``; editing overwrites kept features here).

        Returns:
            :class:`SchedulerStepOutput`. At the last step ``prev_sample`` is the x0 prediction.
        """
        t = int(timestep)
        prev = self.previous_timestep(t)
        x0 = self.predict_x0(model_output, sample, t)
        if self.clip_x0 is not None:
            x0 = x0.clamp(-self.clip_x0, self.clip_x0)
        if denoised_fn is not None:
            x0 = denoised_fn(x0)
        if prev < 0:
            return SchedulerStepOutput(prev_sample=x0, pred_x0=x0)
        a_t, s_t = self._a_s(t, sample)
        eps = (sample - a_t * x0) / s_t
        prev_sample = self._reverse(x0, eps, sample, t, prev, generator)
        return SchedulerStepOutput(prev_sample=prev_sample, pred_x0=x0)

    def _reverse(self, x0: torch.Tensor, eps: torch.Tensor, sample: torch.Tensor, t: int,
                 prev: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        raise NotImplementedError
