"""A denoiser-agnostic reverse loop over any scheduler of ``NOISE_SCHEDULES``."""
from __future__ import annotations

from typing import Any, Callable, Optional, Union

import torch

from motionkit.registry import NOISE_SCHEDULES

__all__ = ['build_noise_schedule', 'sample_loop']


def build_noise_schedule(cfg: Union[dict, Any]) -> Any:
    """Build a scheduler from a config dict (``type='DDPMScheduler'`` ...) or pass one through."""
    if isinstance(cfg, dict):
        return NOISE_SCHEDULES.build(dict(cfg))
    if hasattr(cfg, 'step') and hasattr(cfg, 'set_timesteps'):
        return cfg
    raise TypeError('a noise schedule must be a config dict or an object with set_timesteps/step, '
                    f'got {type(cfg).__name__}')


def sample_loop(model_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                scheduler: Any,
                noise: torch.Tensor,
                num_inference_steps: Optional[int] = None,
                generator: Optional[torch.Generator] = None,
                denoised_fn: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
                sample_fn: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None,
                callback: Optional[Callable[[int, torch.Tensor, Any], None]] = None,
                start_index: int = 0) -> torch.Tensor:
    """Run the reverse process from ``noise`` to a clean sample.

    Args:
        model_fn: ``(x_t (B, ...), timesteps (B,)) -> model output`` of the scheduler's
            prediction type (guidance, conditioning and masks live inside it).
        scheduler: a noise schedule object (``set_timesteps`` / ``step``).
        noise: the initial ``x_T`` ``(B, ...)`` (scaled by ``scheduler.init_noise_sigma``).
        num_inference_steps: reverse steps (default: all training steps for Gaussian diffusion,
            the scheduler's current setting otherwise).
        generator: source of the sampler's noise.
        denoised_fn: edits the x0 prediction at every step (MDM's editing overwrite).
        sample_fn: ``(x_t, timestep) -> x_t`` applied before every model call (MDM-style
            inpainting of ``x_t``, PriorMDM's clean control features).
        callback: ``(i, timestep, step_output)`` after every step (progress, intermediates).
        start_index: begin at this index of the timestep grid (SDEdit-style editing, Meng et al.
            2022): ``noise`` is then the sample at ``scheduler.timesteps[start_index]`` (e.g. an
            input noised with ``scheduler.add_noise``) and is not rescaled.

    Returns:
        the final sample, shape of ``noise``.
    """
    if num_inference_steps is None:
        # Gaussian diffusion: the full chain; ODE samplers: their current grid.
        num_inference_steps = (scheduler.num_train_timesteps if hasattr(scheduler, 'alphas_cumprod')
                               else scheduler.num_inference_steps)
    scheduler.set_timesteps(num_inference_steps, device=noise.device)
    if not 0 <= start_index < len(scheduler.timesteps):
        raise ValueError(f'sample_loop: start_index {start_index} outside the grid of '
                         f'{len(scheduler.timesteps)} steps')
    x = noise * scheduler.init_noise_sigma if start_index == 0 else noise
    batch = x.shape[0]
    for i, t in enumerate(scheduler.timesteps[start_index:], start=start_index):
        if sample_fn is not None:
            x = sample_fn(x, t)
        timesteps = t.expand(batch).to(x.device)
        out = scheduler.step(model_fn(x, timesteps), t, x, generator=generator,
                             denoised_fn=denoised_fn)
        x = out.prev_sample
        if callback is not None:
            callback(i, t, out)
    return x
