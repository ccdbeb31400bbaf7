"""Noise schedules and samplers (registered in ``NOISE_SCHEDULES``), separate from denoisers."""
from .beta_schedules import (betas_for_alpha_bar, cosine_beta_schedule, linear_beta_schedule,
                             make_betas)
from .ddim_scheduler import DDIMScheduler
from .ddpm_scheduler import DDPMScheduler
from .flow_matching_scheduler import FlowMatchingScheduler
from .gaussian_diffusion import (PREDICTION_TYPES, GaussianDiffusionScheduler, SchedulerStepOutput,
                                 randn_like)
from .guidance import classifier_free_guidance
from .sampling import build_noise_schedule, sample_loop

__all__ = [
    'linear_beta_schedule', 'cosine_beta_schedule', 'betas_for_alpha_bar', 'make_betas',
    'GaussianDiffusionScheduler', 'DDPMScheduler', 'DDIMScheduler', 'FlowMatchingScheduler',
    'SchedulerStepOutput', 'PREDICTION_TYPES', 'randn_like', 'classifier_free_guidance',
    'build_noise_schedule', 'sample_loop'
]
