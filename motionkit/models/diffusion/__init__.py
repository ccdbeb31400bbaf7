"""Noise schedules and samplers (registered in ``NOISE_SCHEDULES``), separate from denoisers; the
masked autoregressive flow-matching generator of CoAMD with its recognizer guidance and editing."""
from .beta_schedules import (betas_for_alpha_bar, cosine_beta_schedule, linear_beta_schedule,
                             make_betas)
from .ddim_scheduler import DDIMScheduler
from .ddpm_scheduler import DDPMScheduler
from .flow_matching_head import FlowMatchingHead, sinusoidal_time_embedding
from .flow_matching_scheduler import FlowMatchingScheduler
from .gaussian_diffusion import (PREDICTION_TYPES, GaussianDiffusionScheduler, SchedulerStepOutput,
                                 randn_like)
from .guidance import classifier_free_guidance
from .masked_autoregressive_generator import AdaLNTransformerBlock, MaskedAutoregressiveGenerator
from .recognizer_guidance import (DEFAULT_GUIDANCE_WEIGHTS, GUIDANCE_STREAMS, GuidanceRecognizer,
                                  check_guidance_weights, recognizer_guidance_step)
from .sampling import build_noise_schedule, sample_loop
from .temporal_editing import (TEMPORAL_EDIT_TASKS, fill_tokens_from_keep_mask,
                               temporal_edit_keep_mask)
from .token_masking import (cosine_mask_ratio, num_masked_tokens, sampling_step_mask, subset_mask,
                            training_token_mask)

__all__ = [
    'linear_beta_schedule', 'cosine_beta_schedule', 'betas_for_alpha_bar', 'make_betas',
    'GaussianDiffusionScheduler', 'DDPMScheduler', 'DDIMScheduler', 'FlowMatchingScheduler',
    'SchedulerStepOutput', 'PREDICTION_TYPES', 'randn_like', 'classifier_free_guidance',
    'build_noise_schedule', 'sample_loop', 'FlowMatchingHead', 'sinusoidal_time_embedding',
    'MaskedAutoregressiveGenerator', 'AdaLNTransformerBlock', 'GuidanceRecognizer',
    'GUIDANCE_STREAMS', 'DEFAULT_GUIDANCE_WEIGHTS', 'check_guidance_weights',
    'recognizer_guidance_step', 'TEMPORAL_EDIT_TASKS', 'temporal_edit_keep_mask',
    'fill_tokens_from_keep_mask', 'cosine_mask_ratio', 'num_masked_tokens', 'training_token_mask',
    'sampling_step_mask', 'subset_mask'
]
