"""Flow matching on the linear (rectified-flow) path with Euler or Heun ODE sampling.

Path (Lipman et al., ICLR 2023, "Flow Matching for Generative Modeling", with the linear /
optimal-transport interpolant of Liu et al. 2023, "Flow Straight and Fast"):
``x_sigma = (1 - sigma) * x0 + sigma * noise``, ``sigma`` in [0, 1] (0 = data, 1 = noise). The
denoiser predicts the velocity ``v = d x_sigma / d sigma = noise - x0`` and sampling integrates
``dx / dsigma = v(x, sigma)`` from ``sigma = 1`` to 0. Conversions: ``x0 = x - sigma * v``,
``noise = x + (1 - sigma) * v``.

The denoiser sees ``timesteps = sigma * num_train_timesteps`` (floats), so that the same sinusoidal
timestep embedding as for Gaussian diffusion applies.
"""
from __future__ import annotations

from typing import Callable, Optional, Union

import torch

from motionkit.registry import NOISE_SCHEDULES
from .gaussian_diffusion import SchedulerStepOutput

__all__ = ['FlowMatchingScheduler']


@NOISE_SCHEDULES.register_module()
class FlowMatchingScheduler:
    """Linear-path flow matching: training targets, noising, Euler / Heun sampling.

    Args:
        num_train_timesteps: Scale of the timesteps the denoiser sees (``sigma * N``).
        solver: ``'euler'`` (1 evaluation per step) or ``'heun'`` (2 per step, except the last,
            which is an Euler step because the velocity at ``sigma = 0`` is not needed; Karras et
            al. 2022, Algorithm 1).
        shift: Timestep shift ``sigma' = shift * sigma / (1 + (shift - 1) * sigma)`` applied to the
            sampling grid (Esser et al. 2024, SD3, eq. 23); 1 = uniform grid.
        time_sampling: Training ``sigma``: ``'uniform'`` in [0, 1) or ``'logit_normal'``
            (``sigmoid(N(0, 1))``, Esser et al. 2024).
    """

    prediction_type = 'velocity'

    def __init__(self, num_train_timesteps: int = 1000, solver: str = 'euler',
                 shift: float = 1.0, time_sampling: str = 'uniform') -> None:
        if solver not in ('euler', 'heun'):
            raise ValueError(f"solver must be 'euler' or 'heun', got {solver!r}")
        if time_sampling not in ('uniform', 'logit_normal'):
            raise ValueError(f"time_sampling must be 'uniform' or 'logit_normal', got "
                             f'{time_sampling!r}')
        if shift <= 0:
            raise ValueError(f'shift must be > 0, got {shift}')
        self.num_train_timesteps = int(num_train_timesteps)
        self.solver = solver
        self.shift = float(shift)
        self.time_sampling = time_sampling
        self.init_noise_sigma = 1.0
        self.set_timesteps(50)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(solver={self.solver!r}, shift={self.shift}, '
                f'num_inference_steps={self.num_inference_steps})')

    # ------------------------------------------------------------------ helpers
    def sigma(self, timesteps: Union[int, float, torch.Tensor]) -> torch.Tensor:
        """``sigma = timesteps / num_train_timesteps`` (float64)."""
        sigma = torch.as_tensor(timesteps).detach().cpu().to(torch.float64) / self.num_train_timesteps
        if ((sigma < 0) | (sigma > 1)).any():
            raise ValueError(f'{type(self).__name__}: timesteps must lie in [0, '
                             f'{self.num_train_timesteps}]')
        return sigma

    def _coef(self, values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        values = values.to(device=like.device, dtype=like.dtype)
        if values.ndim == 0:
            return values
        return values.reshape((-1, ) + (1, ) * (like.ndim - 1))

    # ------------------------------------------------------------------ training
    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor,
                  timesteps: Union[float, torch.Tensor]) -> torch.Tensor:
        """``(1 - sigma) * x0 + sigma * noise``."""
        if x0.shape != noise.shape:
            raise ValueError(f'add_noise: x0 {tuple(x0.shape)} and noise {tuple(noise.shape)} '
                             'differ in shape')
        s = self._coef(self.sigma(timesteps), x0)
        return (1 - s) * x0 + s * noise

    def training_target(self, x0: torch.Tensor, noise: torch.Tensor,
                        timesteps: Union[float, torch.Tensor]) -> torch.Tensor:
        """The velocity ``noise - x0`` (independent of the timestep on the linear path)."""
        return noise - x0

    def sample_timesteps(self, batch_size: int, device: Union[str, torch.device] = 'cpu',
                         generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``(B,)`` float training timesteps ``sigma * N``."""
        gen_device = generator.device if generator is not None else device
        if self.time_sampling == 'uniform':
            sigma = torch.rand(batch_size, generator=generator, device=gen_device)
        else:
            sigma = torch.sigmoid(torch.randn(batch_size, generator=generator, device=gen_device))
        return (sigma * self.num_train_timesteps).to(device)

    # ------------------------------------------------------------------ conversions
    def predict_x0(self, model_output: torch.Tensor, sample: torch.Tensor,
                   timesteps: Union[float, torch.Tensor]) -> torch.Tensor:
        """``x0 = x - sigma * v``."""
        return sample - self._coef(self.sigma(timesteps), sample) * model_output

    def predict_noise(self, model_output: torch.Tensor, sample: torch.Tensor,
                      timesteps: Union[float, torch.Tensor]) -> torch.Tensor:
        """``noise = x + (1 - sigma) * v``."""
        return sample + (1 - self._coef(self.sigma(timesteps), sample)) * model_output

    def x0_to_model_output(self, x0: torch.Tensor, sample: torch.Tensor,
                           timesteps: Union[float, torch.Tensor]) -> torch.Tensor:
        """The velocity that implies ``x0`` at ``sample``: ``(x - x0) / sigma`` (sigma > 0)."""
        sigma = self.sigma(timesteps)
        if (sigma <= 0).any():
            raise ValueError('x0_to_model_output: the velocity is undefined at sigma = 0')
        return (sample - x0) / self._coef(sigma, sample)

    # ------------------------------------------------------------------ sampling
    def set_timesteps(self, num_inference_steps: int,
                      device: Union[str, torch.device, None] = None) -> None:
        """Sampling grid: ``sigma`` from 1 to 0 in ``num_inference_steps`` steps.

        :attr:`timesteps` lists the model evaluations: ``n`` for Euler, ``2n - 1`` for Heun (every
        sigma strictly between 1 and 0 is evaluated twice: once to correct the step that ends
        there, once to start the next one).
        """
        n = int(num_inference_steps)
        if n < 1:
            raise ValueError(f'num_inference_steps must be >= 1, got {num_inference_steps}')
        sigmas = torch.linspace(1.0, 0.0, n + 1, dtype=torch.float64, device='cpu')
        if self.shift != 1.0:
            sigmas = self.shift * sigmas / (1 + (self.shift - 1) * sigmas)
        self.num_inference_steps = n
        self.sigmas = sigmas
        if self.solver == 'euler':
            evals = sigmas[:-1]
        else:
            # sigma_0, then (sigma_i for the Heun correction of step i-1, sigma_i for step i).
            evals = torch.cat([sigmas[:1], sigmas[1:-1].repeat_interleave(2)])
        self.timesteps = (evals * self.num_train_timesteps).to(device or 'cpu')
        self._index = 0
        self._heun_state = None

    def step(self,
             model_output: torch.Tensor,
             timestep: Union[float, torch.Tensor],
             sample: torch.Tensor,
             generator: Optional[torch.Generator] = None,
             denoised_fn: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
             ) -> SchedulerStepOutput:
        """Advance the ODE by one model evaluation (call once per entry of :attr:`timesteps`).

        Args:
            model_output: velocity at ``(sample, timestep)``.
            timestep: the current entry of :attr:`timesteps` (checked).
            sample: current ``x``.
            generator: unused (the ODE is deterministic); accepted for a uniform interface.
            denoised_fn: applied to the implied x0 (then the velocity is recomputed from it).

        Returns:
            :class:`SchedulerStepOutput`; the last step returns the (edited) x0 prediction.
        """
        if self._index >= len(self.timesteps):
            raise RuntimeError(f'{type(self).__name__}: all {len(self.timesteps)} steps are done; '
                               'call set_timesteps again')
        expected = float(self.timesteps[self._index])
        if abs(float(timestep) - expected) > 1e-6 * self.num_train_timesteps:
            raise ValueError(f'{type(self).__name__}: expected timestep {expected}, got '
                             f'{float(timestep)} (steps must follow self.timesteps)')
        sigma = expected / self.num_train_timesteps
        x0 = sample - sigma * model_output
        if denoised_fn is not None:
            x0 = denoised_fn(x0)
        velocity = (sample - x0) / sigma if sigma > 0 else model_output
        self._index += 1

        if self._heun_state is not None:  # Heun correction: average the two slopes
            x_start, v_start, dt = self._heun_state
            self._heun_state = None
            return SchedulerStepOutput(prev_sample=x_start + dt * 0.5 * (v_start + velocity),
                                       pred_x0=x0)
        i = self._step_number()
        sigma_next = float(self.sigmas[i + 1])
        if sigma_next == 0.0:
            # The Euler step to sigma = 0 lands on the x0 prediction itself.
            return SchedulerStepOutput(prev_sample=x0, pred_x0=x0)
        dt = sigma_next - sigma
        x_next = sample + dt * velocity
        if self.solver == 'heun':
            self._heun_state = (sample, velocity, dt)
        return SchedulerStepOutput(prev_sample=x_next, pred_x0=x0)

    def _step_number(self) -> int:
        """Index of the sigma interval the evaluation just consumed starts (0-based)."""
        done = self._index  # evaluations consumed so far, this one included
        if self.solver == 'euler':
            return done - 1
        return done // 2  # evaluations 1, 3, 5, ... start steps 0, 1, 2, ...
