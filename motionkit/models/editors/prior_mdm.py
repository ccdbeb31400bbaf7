"""PriorMDM joint control (Shafir et al., "Human Motion Diffusion as a Generative Prior",
ICLR 2024, sec. 5 "fine-tuned motion control").

MDM is fine-tuned so that the features of a controlled joint's trajectory (root horizontal
trajectory, left wrist, right foot, ... any joint) are given clean: during training and at every
sampling step the controlled features of ``x_t`` are replaced by the clean input, and at sampling
the x0 prediction is also overwritten there, so the generated motion follows the given
trajectory exactly. Several control models combine by a weighted sum of their x0 predictions
(PriorMDM's "DiffusionBlending"): :func:`blend_control_sample`.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch

from motionkit.registry import MODELS
from ..diffusion.sampling import build_noise_schedule, sample_loop
from ..diffusion.gaussian_diffusion import randn_like
from .editing import expand_keep_mask, joint_control_mask, overwrite_x0
from .mdm import MDM

__all__ = ['PriorMDM', 'blend_control_sample']


@MODELS.register_module()
class PriorMDM(MDM):
    """MDM with a clean control trajectory for some joints (see the module doc).

    ``forward(..., mode='predict')`` takes the control trajectory from ``inputs['motion']`` (the
    ground-truth motion's controlled features) and the captions from the data samples.

    Args:
        control_joints: Controlled part(s): a joint name (``'left_wrist'``, ``'right_foot'``), a
            body-part name, ``'root_horizontal'`` (root rotation + xz velocity) or a list.
        loss_on_controlled: Include the controlled features (which the model sees clean) in the
            loss; off by default so that the loss measures what the model must generate.
        control_blocks: Keep only these representation blocks (``'root'``, ``'ric'``, ``'rot'``,
            ``'vel'``, ``'feet'``) of the controlled joints' features. PriorMDM's released models
            control positions only: ``('root', 'ric')`` (a joint's 3 ``ric`` features; the root's
            rotation and xz velocity for ``'root_horizontal'``). None keeps every feature.
        control_input: What the denoiser sees on the controlled features: ``'clean'`` (the
            clean motion) or ``'noise_free'`` (``sqrt(alpha_bar_t) * x0``, the noise-free
            ``q(x_t | x0)`` of PriorMDM's ``InpaintingGaussianDiffusion``, which its released
            models were trained with).
        **kwargs: :class:`MDM` arguments.
    """

    def __init__(self, control_joints: Union[str, Sequence[str]] = 'left_wrist',
                 loss_on_controlled: bool = False,
                 control_blocks: Optional[Sequence[str]] = None,
                 control_input: str = 'clean', **kwargs) -> None:
        super().__init__(**kwargs)
        if control_input not in ('clean', 'noise_free'):
            raise ValueError(f"PriorMDM: control_input must be 'clean' or 'noise_free', got "
                             f'{control_input!r}')
        self.control_joints = control_joints
        self.loss_on_controlled = loss_on_controlled
        self.control_input = control_input
        mask = joint_control_mask(self.representation, control_joints)
        if control_blocks is not None:
            blocks = getattr(self.representation, 'blocks', None)
            if blocks is None:
                raise ValueError(f'PriorMDM: control_blocks needs a representation with feature '
                                 f'blocks; {type(self.representation).__name__} has none')
            unknown = sorted(set(control_blocks) - set(blocks))
            if unknown:
                raise ValueError(f'PriorMDM: unknown control_blocks {unknown}; the '
                                 f'representation has {sorted(blocks)}')
            keep = torch.zeros_like(mask)
            for name in control_blocks:
                keep[blocks[name]] = True
            mask = mask & keep
        if not mask.any():
            raise ValueError(f'PriorMDM: control_joints={control_joints!r} selects no feature')
        self.register_buffer('control_mask', mask, persistent=False)

    def control_value(self, x0: torch.Tensor, timesteps: Optional[torch.Tensor]) -> torch.Tensor:
        """What the denoiser sees on the controlled features at ``timesteps`` (``control_input``)."""
        if self.control_input == 'clean':
            return x0
        if timesteps is None:
            raise ValueError("PriorMDM: control_input='noise_free' needs the timesteps of x_t")
        return self.noise_scheduler.add_noise(x0, torch.zeros_like(x0), timesteps)

    def prepare_denoiser_input(self, x_t: torch.Tensor, x0: Optional[torch.Tensor],
                               timesteps: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Replace the controlled features of ``x_t`` with the control (see ``control_input``)."""
        if x0 is None:
            return x_t
        return torch.where(self.control_mask.to(x_t.device), self.control_value(x0, timesteps), x_t)

    def loss_feature_weight(self) -> Optional[torch.Tensor]:
        if self.loss_on_controlled:
            return None
        return (~self.control_mask).float()

    @torch.no_grad()
    def sample_controlled(self,
                          control: torch.Tensor,
                          texts: Optional[Sequence[str]],
                          lengths: Optional[Union[Sequence[int], torch.Tensor]] = None,
                          num_inference_steps: Optional[int] = None,
                          guidance_scale: Optional[float] = None,
                          scheduler: Optional[Any] = None,
                          generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Generate motions whose controlled features equal ``control``'s.

        Args:
            control: ``(B, T, D)`` normalised features; only the controlled ones are read.
            texts: captions (None: unconditional).
            lengths: valid frames (default ``T``).

        Returns:
            ``(B, T, D)`` normalised features.
        """
        if control.ndim != 3 or control.shape[-1] != self.feature_dim:
            raise ValueError(f'PriorMDM: control must be (B, T, {self.feature_dim}), got '
                             f'{tuple(control.shape)}')
        control = control.to(self.device).float()
        batch, T, _ = control.shape
        keep = expand_keep_mask(self.control_mask, control.shape)
        if lengths is None:
            lengths = torch.full((batch, ), T, dtype=torch.long)
        return self.sample(
            texts, lengths, num_frames=T, guidance_scale=guidance_scale,
            num_inference_steps=num_inference_steps, scheduler=scheduler, generator=generator,
            denoised_fn=lambda x0: overwrite_x0(x0, control, keep),
            sample_fn=lambda x_t, t: torch.where(keep, self.control_value(control, t), x_t))

    def predict(self, inputs: Optional[dict], data_samples: Sequence) -> list:
        """Generate with each sample's caption, following its ground-truth control features."""
        if inputs is None or 'motion' not in inputs:
            raise KeyError('PriorMDM.predict: inputs["motion"] (the control source) is required')
        texts = self._texts(data_samples)
        lengths = self._lengths(inputs, data_samples)
        motion = self.sample_controlled(inputs['motion'], texts, lengths)
        return self._attach_predictions(motion, lengths, data_samples)


@torch.no_grad()
def blend_control_sample(models: Sequence[PriorMDM],
                         weights: Sequence[float],
                         control: torch.Tensor,
                         texts: Optional[Sequence[str]],
                         lengths: Optional[Union[Sequence[int], torch.Tensor]] = None,
                         num_inference_steps: Optional[int] = None,
                         guidance_scale: Optional[float] = None,
                         scheduler: Optional[Any] = None,
                         generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Sample with several control models at once (PriorMDM's DiffusionBlending).

    At every step each model sees ``x_t`` with its own controlled features replaced by the
    control (as its ``control_input`` says), the x0 predictions are summed with ``weights``, and
    the sum is overwritten with the control on the union of the controlled features (so the
    result follows every trajectory exactly). The models must share feature width and training
    noise schedule; the first model's scheduler (or ``scheduler``) drives the loop.

    Args:
        models: control models (e.g. a left-wrist and a root model).
        weights: one weight per model (typically summing to 1).
        control: ``(B, T, D)`` normalised features holding every trajectory.
        texts, lengths, num_inference_steps, guidance_scale, scheduler, generator: as in
            :meth:`MDM.sample`.

    Returns:
        ``(B, T, D)`` normalised features.
    """
    if len(models) == 0 or len(models) != len(weights):
        raise ValueError(f'blend_control_sample: {len(models)} models and {len(weights)} weights')
    dims = {m.feature_dim for m in models}
    if len(dims) != 1:
        raise ValueError(f'blend_control_sample: models differ in feature_dim: {sorted(dims)}')
    lead = models[0]
    device = lead.device
    control = control.to(device).float()
    batch, T, D = control.shape
    lengths = torch.full((batch, ), T, dtype=torch.long) if lengths is None else \
        torch.as_tensor(lengths, dtype=torch.long)
    frame_mask = (torch.arange(T)[None] < lengths[:, None]).to(device)
    sched = lead.noise_scheduler if scheduler is None else build_noise_schedule(scheduler)
    keeps = [expand_keep_mask(m.control_mask.to(device), control.shape) for m in models]
    union = keeps[0]
    for k in keeps[1:]:
        union = union | k
    fns = []
    for m in models:
        scale = m.guidance_scale if guidance_scale is None else guidance_scale
        fns.append(m._model_fn(m.encode_text(texts, batch), frame_mask, scale,
                               unconditional=texts is None))

    def model_fn(x_t: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        x0 = 0.0
        for m, fn, keep, w in zip(models, fns, keeps, weights):
            x_in = torch.where(keep, m.control_value(control, timesteps), x_t)
            x0 = x0 + w * sched.predict_x0(fn(x_in, timesteps), x_in, timesteps)
        return sched.x0_to_model_output(x0, x_t, timesteps)

    noise = randn_like(torch.empty(batch, T, D, device=device), generator)
    steps = num_inference_steps if num_inference_steps is not None else lead.num_inference_steps
    out = sample_loop(model_fn, sched, noise, steps, generator=generator,
                      denoised_fn=lambda x0: overwrite_x0(x0, control, union),
                      sample_fn=lambda x_t, t: torch.where(union, lead.control_value(control, t),
                                                           x_t))
    return out * frame_mask[..., None]
