"""MDM: Human Motion Diffusion Model (Tevet et al., ICLR 2023), with its sampling-time editing.

Denoiser (MDM's ``trans_enc`` architecture): every frame of ``x_t`` (HumanML3D features,
normalised) goes through a linear layer to ``latent_dim``; one condition token is prepended, the
sum of a timestep embedding (sinusoid of ``t`` -> Linear -> SiLU -> Linear) and a linear
projection of the text embedding; sinusoidal positions are added to the whole sequence; a
transformer encoder (paper: 8 layers, d=512, 4 heads, feed-forward 1024, GELU, dropout 0.1) runs
over it (padded frames masked out of attention) and a linear layer maps the frame tokens back to
features. MDM predicts x0 (its "sample" prediction) and is trained with MSE on x0 over valid
frames; the geometric losses (feature velocity, foot contact) are optional and off by default.

Text condition: any registered text encoder (``LearnedTextEncoder`` offline default,
``HFTextEncoder`` for CLIP). The null condition is the zero text embedding (MDM's ``mask_cond``),
used for 10% of training samples (``cond_mask_prob``), and classifier-free guidance with
``guidance_scale`` (2.5) is applied to the x0 predictions at sampling time.

The noise schedule / sampler is a separate object (``noise_scheduler``, from
``NOISE_SCHEDULES``): the same weights sample with DDPM (1000 steps, MDM's default) or DDIM by
swapping it (in the config or with :meth:`MDM.set_noise_scheduler`).

EMA weights: add mmengine's hook to the config,
``custom_hooks = [dict(type='EMAHook', momentum=1e-4, update_buffers=True)]``; validation, test and
saved checkpoints then use the averaged weights.

Editing (MDM sec. 4.3): :meth:`MDM.edit` overwrites the x0 prediction with the source on the kept
features at every reverse step, so the result keeps them exactly; with ``inpaint=True`` the kept
features of ``x_t`` are also replaced by the noised source (``q_sample``) before every model call.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from motionkit.motion.statistics import load_mean_std
from motionkit.registry import MODELS, REPRESENTATIONS
from motionkit.structures.edit_request import EditRequest, format_edit_text
from motionkit.structures.motion_data_sample import sample_captions
from ..diffusion.gaussian_diffusion import randn_like
from ..diffusion.guidance import classifier_free_guidance
from ..diffusion.sampling import build_noise_schedule, sample_loop
from .editing import (blend_edit, body_part_keep_mask, expand_keep_mask, inbetween_keep_mask,
                      overwrite_x0)

__all__ = ['MDM', 'timestep_embedding', 'SinusoidalPositionalEncoding']


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoid of (possibly fractional) timesteps ``(B,)`` -> ``(B, dim)``.

    Equals row ``t`` of the positional-encoding table of Vaswani et al. (``sin`` on even, ``cos``
    on odd channels), which MDM indexes with its integer timesteps.
    """
    half = torch.arange(0, dim, 2, device=timesteps.device, dtype=torch.float32)
    freqs = torch.exp(half * (-math.log(10000.0) / dim))
    args = timesteps.float()[:, None] * freqs[None]
    emb = torch.zeros(timesteps.shape[0], dim, device=timesteps.device)
    emb[:, 0::2] = torch.sin(args)
    emb[:, 1::2] = torch.cos(args[:, :dim // 2])
    return emb


class SinusoidalPositionalEncoding(nn.Module):
    """Add the fixed sinusoidal table to ``(B, L, d)`` tokens, then dropout."""

    def __init__(self, dim: int, dropout: float = 0.1, max_len: int = 5000) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        table = timestep_embedding(torch.arange(max_len), dim)
        self.register_buffer('pe', table, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.pe.shape[0]:
            raise ValueError(f'sequence of {x.shape[1]} tokens is longer than the positional table '
                             f'({self.pe.shape[0]}); raise max_len')
        return self.dropout(x + self.pe[:x.shape[1]].to(x.dtype))


@MODELS.register_module()
class MDM(BaseModel):
    """Text-conditioned motion diffusion with MDM's transformer-encoder denoiser.

    ``forward(inputs, data_samples, mode)`` with ``inputs`` from :class:`MotionDataPreprocessor`
    (``motion`` ``(B, T, D)`` normalised, ``mask`` ``(B, T)``, ``lengths`` ``(B,)``) and data
    samples holding ``gt_text`` (or ``gt_texts``):

    * ``'loss'``: ``dict(loss_mse=...)`` (+ ``loss_vel`` / ``loss_fc`` when weighted);
    * ``'predict'``: generates a motion for every sample's caption with the length in its metainfo
      ``length`` and sets ``pred_motion`` ``(length, D)`` in the space of the model's input: the
      normalised space when the data is normalised (the sample's metainfo then gets
      ``pred_motion_normalized=True``; undo with its ``mean_path`` / ``std_path``). With
      ``denormalize_predictions=True`` raw features are stored instead (flag False), using the
      statistics of :meth:`feature_stats`;
    * ``'tensor'``: the denoiser output for ``motion`` noised at ``inputs['timesteps']`` (random
      when absent).

    Args:
        feature_dim: Motion feature width (263 HumanML3D, 251 KIT).
        latent_dim, ff_size, num_layers, num_heads, dropout, activation: Transformer encoder
            (paper: 512, 1024, 8, 4, 0.1, ``'gelu'``).
        text_encoder: Config of a text encoder (``out_dim`` attribute, ``forward(list[str])``).
        cond_mask_prob: Probability of the null condition in training (0.1).
        guidance_scale: Classifier-free guidance at sampling (2.5; 1 disables it).
        noise_scheduler: Config (or object) of a noise schedule; MDM: DDPM, cosine, 1000 steps,
            x0 prediction.
        num_inference_steps: Reverse steps of :meth:`sample` (None: all training steps for
            Gaussian diffusion, the scheduler's own grid for flow matching).
        edit_num_inference_steps: Reverse steps of :meth:`edit` (50, CigTime's budget).
        edit_strength: Default ``strength`` of :meth:`edit` (1: from pure noise, as MDM).
        edit_text_template: The text :meth:`edit_instructions` conditions on:
            ``'{instruction}'`` (CigTime) or with ``{source_caption}`` (the source's first
            caption), matching the ``text_template`` the editor was trained with.
        lambda_vel: Weight of the feature-velocity loss (0).
        root_loss_weight: Weight of the root's features (those :meth:`~motionkit.motion.
            MotionRepresentation.feature_joints` maps to joint 0: HumanML3D's angular and linear
            root velocity, height and the root's local velocity) in the MSE, relative to the other
            features (1: MDM's uniform loss). The global trajectory integrates the root velocities
            over the whole clip, so a small error on these few features becomes a large drift of
            every joint; a weight above 1 spends more of the loss on them.
        lambda_fc: Weight of the foot-contact loss (0): predicted foot velocities (from the
            features' local-velocity block, denormalised) are pushed to 0 on frames where the
            ground truth marks contact. Needs a HumanML3D-style representation and statistics in
            the data preprocessor when the data is normalised.
        representation: Registered representation of the features (for body-part masks and the
            foot-contact loss).
        mask_frames: Keep padded frames out of attention.
        max_len: Longest sequence the positional table covers.
        denormalize_predictions: Store raw features in ``pred_motion`` (see above).
    """

    def __init__(self,
                 feature_dim: int = 263,
                 latent_dim: int = 512,
                 ff_size: int = 1024,
                 num_layers: int = 8,
                 num_heads: int = 4,
                 dropout: float = 0.1,
                 activation: str = 'gelu',
                 text_encoder: Optional[dict] = None,
                 cond_mask_prob: float = 0.1,
                 guidance_scale: float = 2.5,
                 noise_scheduler: Optional[Union[dict, Any]] = None,
                 num_inference_steps: Optional[int] = None,
                 edit_num_inference_steps: int = 50,
                 edit_strength: float = 1.0,
                 edit_text_template: str = '{instruction}',
                 lambda_vel: float = 0.0,
                 lambda_fc: float = 0.0,
                 root_loss_weight: float = 1.0,
                 representation: Optional[str] = 'HumanML3DFeatures',
                 mask_frames: bool = True,
                 max_len: int = 5000,
                 denormalize_predictions: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # built through motionkit's registry so that it works without a default scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0.0 <= cond_mask_prob < 1.0:
            raise ValueError(f'cond_mask_prob must lie in [0, 1), got {cond_mask_prob}')
        if latent_dim % num_heads:
            raise ValueError(f'latent_dim ({latent_dim}) must be divisible by num_heads '
                             f'({num_heads})')
        self.feature_dim = feature_dim
        self.latent_dim = latent_dim
        self.cond_mask_prob = cond_mask_prob
        self.guidance_scale = guidance_scale
        self.num_inference_steps = num_inference_steps
        self.edit_num_inference_steps = edit_num_inference_steps
        if not 0.0 < edit_strength <= 1.0:
            raise ValueError(f'edit_strength must lie in (0, 1], got {edit_strength}')
        self.edit_strength = edit_strength
        self.edit_text_template = edit_text_template
        self.lambda_vel = lambda_vel
        self.lambda_fc = lambda_fc
        self.mask_frames = mask_frames
        self.denormalize_predictions = denormalize_predictions
        self.representation_name = representation
        self._representation = None
        if representation is not None:
            rep = self.representation
            if rep.dim != feature_dim:
                raise ValueError(f'MDM: representation {representation!r} has {rep.dim} features, '
                                 f'feature_dim is {feature_dim}')
        if lambda_fc > 0 and representation is None:
            raise ValueError('MDM: lambda_fc > 0 needs a HumanML3D-style representation')
        if root_loss_weight <= 0:
            raise ValueError(f'MDM: root_loss_weight must be > 0, got {root_loss_weight}')
        if root_loss_weight != 1.0 and representation is None:
            raise ValueError('MDM: root_loss_weight needs a representation (it names the root features)')
        self.root_loss_weight = float(root_loss_weight)

        self.noise_scheduler = build_noise_schedule(noise_scheduler or dict(
            type='DDPMScheduler', num_train_timesteps=1000, beta_schedule='cosine',
            prediction_type='x0'))

        self.text_encoder = MODELS.build(text_encoder or dict(
            type='LearnedTextEncoder', embed_dim=latent_dim))
        text_dim = getattr(self.text_encoder, 'out_dim', None)
        if not isinstance(text_dim, int):
            raise TypeError(f'MDM: the text encoder {type(self.text_encoder).__name__} must have an '
                            'int out_dim')
        self.embed_text = nn.Linear(text_dim, latent_dim)
        self.time_embed = nn.Sequential(nn.Linear(latent_dim, latent_dim), nn.SiLU(),
                                        nn.Linear(latent_dim, latent_dim))
        self.input_process = nn.Linear(feature_dim, latent_dim)
        self.positional_encoding = SinusoidalPositionalEncoding(latent_dim, dropout, max_len)
        layer = nn.TransformerEncoderLayer(latent_dim, num_heads, ff_size, dropout,
                                           activation=activation, batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.output_process = nn.Linear(latent_dim, feature_dim)

    # ------------------------------------------------------------------ helpers
    @property
    def representation(self):
        """The feature representation object (built on first use)."""
        if self._representation is None:
            if self.representation_name is None:
                raise ValueError('MDM: no representation configured (representation=None)')
            self._representation = REPRESENTATIONS.build(dict(type=self.representation_name))
        return self._representation

    def set_noise_scheduler(self, scheduler: Union[dict, Any]) -> None:
        """Swap the sampler (e.g. DDPM -> DDIM); the weights are unchanged."""
        self.noise_scheduler = build_noise_schedule(scheduler)

    def encode_text(self, texts: Optional[Sequence[str]], batch_size: int) -> torch.Tensor:
        """Text embeddings ``(B, E)``; ``texts=None`` gives the null condition (zeros)."""
        if texts is None:
            return torch.zeros(batch_size, self.embed_text.in_features, device=self.device)
        texts = list(texts)
        if len(texts) != batch_size:
            raise ValueError(f'MDM: {len(texts)} texts for a batch of {batch_size}')
        return self.text_encoder(texts).to(self.device)

    @property
    def device(self) -> torch.device:
        return self.output_process.weight.device

    # ------------------------------------------------------------------ denoiser
    def denoise(self, x_t: torch.Tensor, timesteps: torch.Tensor, text_emb: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                uncond: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The denoiser: ``x_t (B, T, D)``, ``timesteps (B,)``, text embeddings ``(B, E)``,
        valid-frame ``mask (B, T)`` and per-sample null-condition flags ``uncond (B,)`` ->
        prediction ``(B, T, D)`` of the scheduler's type."""
        return self.output_process(self.denoise_hidden(x_t, timesteps, text_emb, mask, uncond))

    def denoise_hidden(self, x_t: torch.Tensor, timesteps: torch.Tensor, text_emb: torch.Tensor,
                       mask: Optional[torch.Tensor] = None,
                       uncond: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The transformer's per-frame output ``(B, T, latent_dim)`` before ``output_process``
        (same arguments as :meth:`denoise`; subclass hook for extra output heads)."""
        if x_t.ndim != 3 or x_t.shape[-1] != self.feature_dim:
            raise ValueError(f'MDM: x_t must be (B, T, {self.feature_dim}), got '
                             f'{tuple(x_t.shape)}')
        batch = x_t.shape[0]
        if uncond is not None:
            text_emb = text_emb * (~uncond.to(text_emb.device)).to(text_emb.dtype)[:, None]
        cond = self.time_embed(timestep_embedding(timesteps.to(x_t.device), self.latent_dim)) \
            + self.embed_text(text_emb)
        tokens = torch.cat([cond[:, None], self.embed_frames(x_t)], dim=1)
        tokens = self.positional_encoding(tokens)
        key_padding = None
        if self.mask_frames and mask is not None:
            key_padding = torch.cat([torch.zeros(batch, 1, dtype=torch.bool, device=x_t.device),
                                     ~mask.bool().to(x_t.device)], dim=1)
        out = self.transformer(tokens, src_key_padding_mask=key_padding)
        return out[:, 1:]

    def embed_frames(self, x_t: torch.Tensor) -> torch.Tensor:
        """Per-frame input tokens ``(B, T, latent_dim)`` (subclass hook: extra conditions)."""
        return self.input_process(x_t)

    def prepare_denoiser_input(self, x_t: torch.Tensor, x0: Optional[torch.Tensor],
                               timesteps: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Hook for subclasses that feed part of the clean motion (PriorMDM); identity here.
        ``timesteps`` ``(B,)`` are those of ``x_t``."""
        return x_t

    def loss_feature_weight(self) -> Optional[torch.Tensor]:
        """``(D,)`` per-feature loss weight, or None for all ones (subclass hook)."""
        return None

    def _loss_weight(self) -> Optional[torch.Tensor]:
        """:meth:`loss_feature_weight` with the root features scaled by ``root_loss_weight``."""
        weight = self.loss_feature_weight()
        if self.root_loss_weight == 1.0:
            return weight
        root = torch.as_tensor(self.representation.feature_joints() == 0, device=self.device)
        base = torch.ones(self.feature_dim, device=self.device) if weight is None else weight.to(self.device)
        return torch.where(root, base * self.root_loss_weight, base)

    # ------------------------------------------------------------------ training
    def loss(self, inputs: dict, data_samples: Sequence) -> dict:
        """MDM's training objective (see the class doc)."""
        x0 = inputs['motion']
        mask = inputs['mask'].bool()
        batch = x0.shape[0]
        texts = self._texts(data_samples)
        text_emb = self.encode_text(texts, batch)
        timesteps = self.noise_scheduler.sample_timesteps(batch, device=x0.device)
        noise = torch.randn_like(x0)
        x_t = self.noise_scheduler.add_noise(x0, noise, timesteps)
        x_t = self.prepare_denoiser_input(x_t, x0, timesteps)
        uncond = torch.rand(batch, device=x0.device) < self.cond_mask_prob
        out = self.denoise(x_t, timesteps, text_emb, mask, uncond)
        target = self.noise_scheduler.training_target(x0, noise, timesteps)
        weight = self._loss_weight()
        losses = dict(loss_mse=masked_mse(out, target, mask, weight))
        if self.lambda_vel > 0 or self.lambda_fc > 0:
            pred_x0 = self.noise_scheduler.predict_x0(out, x_t, timesteps)
            if self.lambda_vel > 0:
                pair = mask[:, 1:] & mask[:, :-1]
                losses['loss_vel'] = self.lambda_vel * masked_mse(
                    pred_x0[:, 1:] - pred_x0[:, :-1], x0[:, 1:] - x0[:, :-1], pair, weight)
            if self.lambda_fc > 0:
                losses['loss_fc'] = self.lambda_fc * self.foot_contact_loss(pred_x0, x0, mask,
                                                                             data_samples)
        return losses

    def feature_stats(self, data_samples: Optional[Sequence] = None) -> Optional[tuple]:
        """``(mean, std)`` ``(D,)`` tensors of the data's normalisation, or None for raw data.

        From the data preprocessor when it normalises; otherwise from the data samples' metainfo
        (``normalized=True`` with ``mean_path`` / ``std_path``, as ``NormalizeMotion`` leaves them).
        """
        pre = self.data_preprocessor
        if getattr(pre, 'normalize', False):
            return pre.mean, pre.std
        for sample in data_samples or []:
            meta = sample.metainfo
            if meta.get('normalized'):
                if not meta.get('mean_path') or not meta.get('std_path'):
                    raise KeyError('MDM: a data sample says normalized=True but has no '
                                   'mean_path/std_path in its metainfo (add them to the '
                                   "PackMotionInputs meta_keys)")
                mean, std = load_mean_std(meta['mean_path'], meta['std_path'], self.feature_dim)
                return (torch.as_tensor(mean, dtype=torch.float32, device=self.device),
                        torch.as_tensor(std, dtype=torch.float32, device=self.device))
        return None

    def foot_contact_loss(self, pred_x0: torch.Tensor, gt_x0: torch.Tensor, mask: torch.Tensor,
                          data_samples: Optional[Sequence] = None) -> torch.Tensor:
        """Mean squared predicted foot velocity on ground-truth contact frames (HumanML3D layout:
        local velocities ``vel`` block, contacts ``feet`` block, raw units after denormalising)."""
        rep = self.representation
        blocks = getattr(rep, 'blocks', None)
        if not blocks or 'vel' not in blocks or 'feet' not in blocks:
            raise ValueError(f'MDM: the foot-contact loss needs a HumanML3D-style representation, '
                             f'got {type(rep).__name__}')
        stats = self.feature_stats(data_samples)
        pred, gt = pred_x0, gt_x0
        if stats is not None:
            pred, gt = pred * stats[1] + stats[0], gt * stats[1] + stats[0]
        feet = list(rep.foot_left) + list(rep.foot_right)  # order of the contact channels
        vel = pred[..., blocks['vel']].reshape(*pred.shape[:2], -1, 3)[:, :, feet]
        contact = (gt[..., blocks['feet']] > 0.5) & mask[..., None]
        sq = vel.pow(2).sum(-1) * contact
        return sq.sum() / contact.sum().clamp(min=1)

    # ------------------------------------------------------------------ sampling
    def _model_fn(self, text_emb: torch.Tensor, mask: Optional[torch.Tensor],
                  guidance_scale: float, unconditional: bool) -> Callable:
        batch = text_emb.shape[0]
        use_cfg = (not unconditional and guidance_scale != 1.0 and self.cond_mask_prob > 0)
        none = torch.zeros(batch, dtype=torch.bool, device=text_emb.device)

        def model_fn(x_t: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
            if unconditional:
                return self.denoise(x_t, timesteps, text_emb, mask, ~none)
            if not use_cfg:
                return self.denoise(x_t, timesteps, text_emb, mask, none)
            # one pass over the doubled batch: conditional half, then null-condition half
            out = self.denoise(torch.cat([x_t, x_t]), torch.cat([timesteps, timesteps]),
                               torch.cat([text_emb, text_emb]),
                               None if mask is None else torch.cat([mask, mask]),
                               torch.cat([none, ~none]))
            return classifier_free_guidance(out[:batch], out[batch:], guidance_scale)

        return model_fn

    @torch.no_grad()
    def sample(self,
               texts: Optional[Sequence[str]],
               lengths: Union[Sequence[int], torch.Tensor],
               num_frames: Optional[int] = None,
               guidance_scale: Optional[float] = None,
               num_inference_steps: Optional[int] = None,
               scheduler: Optional[Any] = None,
               generator: Optional[torch.Generator] = None,
               noise: Optional[torch.Tensor] = None,
               denoised_fn: Optional[Callable] = None,
               sample_fn: Optional[Callable] = None,
               start_index: int = 0) -> torch.Tensor:
        """Generate motions ``(B, T, D)`` (normalised space; frames past each length are padding).

        Args:
            texts: ``B`` captions, or None for unconditional samples.
            lengths: valid frames per sample ``(B,)``.
            num_frames: padded length ``T`` (default ``max(lengths)``).
            guidance_scale, num_inference_steps: default to the model's settings.
            scheduler: a noise schedule to use instead of :attr:`noise_scheduler` (same
                training schedule expected).
            generator: randomness of the initial noise and of the sampler.
            noise: initial ``x_T`` ``(B, T, D)``.
            denoised_fn, sample_fn: editing callbacks (see :func:`sample_loop`).
            start_index: first step of the grid (``noise`` is then ``x_t`` at that step).
        """
        lengths = torch.as_tensor(lengths, dtype=torch.long).reshape(-1)
        batch = len(lengths)
        if batch == 0 or (lengths < 1).any():
            raise ValueError(f'MDM.sample: need lengths >= 1, got {lengths.tolist()}')
        T = int(num_frames or lengths.max())
        if lengths.max() > T:
            raise ValueError(f'MDM.sample: lengths {lengths.tolist()} exceed num_frames={T}')
        frame_mask = torch.arange(T)[None] < lengths[:, None]
        frame_mask = frame_mask.to(self.device)
        text_emb = self.encode_text(texts, batch)
        sched = self.noise_scheduler if scheduler is None else build_noise_schedule(scheduler)
        if noise is None:
            noise = randn_like(torch.empty(batch, T, self.feature_dim, device=self.device),
                               generator)
        elif noise.shape != (batch, T, self.feature_dim):
            raise ValueError(f'MDM.sample: noise must be {(batch, T, self.feature_dim)}, got '
                             f'{tuple(noise.shape)}')
        model_fn = self._model_fn(text_emb, frame_mask,
                                  self.guidance_scale if guidance_scale is None else guidance_scale,
                                  unconditional=texts is None)
        steps = num_inference_steps if num_inference_steps is not None else self.num_inference_steps
        out = sample_loop(model_fn, sched, noise.to(self.device), steps, generator=generator,
                          denoised_fn=denoised_fn, sample_fn=sample_fn, start_index=start_index)
        return out * frame_mask[..., None]

    # ------------------------------------------------------------------ editing
    @torch.no_grad()
    def edit(self,
             source: torch.Tensor,
             keep_mask: torch.Tensor,
             texts: Optional[Sequence[str]],
             lengths: Optional[Union[Sequence[int], torch.Tensor]] = None,
             inpaint: bool = False,
             post_blend: bool = False,
             num_inference_steps: Optional[int] = None,
             guidance_scale: Optional[float] = None,
             scheduler: Optional[Any] = None,
             generator: Optional[torch.Generator] = None,
             strength: Optional[float] = None) -> torch.Tensor:
        """Regenerate the features outside ``keep_mask`` of ``source`` following ``texts``.

        At every reverse step the x0 prediction is overwritten with ``source`` on the kept
        features (MDM's editing), so the output equals ``source`` there exactly. With
        ``inpaint=True`` the kept features of ``x_t`` are also replaced by the source noised to
        the current step. ``post_blend`` applies CigTime's eq. 5 with the edit mask
        ``~keep_mask`` after sampling (a no-op on hard masks, where the overwrite already holds).

        Args:
            source: ``(B, T, D)`` normalised features.
            keep_mask: bool ``(D,)``, ``(T, D)`` or ``(B, T, D)``; True = keep.
            texts: ``B`` instructions / captions (None: unconditional).
            lengths: valid frames (default ``T`` for all).
            num_inference_steps: default :attr:`edit_num_inference_steps` (50).
            strength: default :attr:`edit_strength`. 1 starts from pure noise (MDM); below 1 the
                reverse process starts from the source noised to that fraction of the grid
                (SDEdit, Meng et al. 2022), so the edited features keep the source's coarse
                structure (timing, phase) and only the last ``strength * steps`` steps run.

        Returns:
            ``(B, T, D)`` edited features (normalised).
        """
        if source.ndim != 3 or source.shape[-1] != self.feature_dim:
            raise ValueError(f'MDM.edit: source must be (B, T, {self.feature_dim}), got '
                             f'{tuple(source.shape)}')
        source = source.to(self.device).float()
        batch, T, _ = source.shape
        keep = expand_keep_mask(keep_mask, source.shape).to(self.device)
        if lengths is None:
            lengths = torch.full((batch, ), T, dtype=torch.long)
        sched = self.noise_scheduler if scheduler is None else build_noise_schedule(scheduler)

        def denoised_fn(x0: torch.Tensor) -> torch.Tensor:
            return overwrite_x0(x0, source, keep)

        sample_fn = None
        if inpaint:
            def sample_fn(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                noised = sched.add_noise(source, randn_like(source, generator), t)
                return torch.where(keep, noised, x_t)

        steps = self.edit_num_inference_steps if num_inference_steps is None \
            else num_inference_steps
        strength = self.edit_strength if strength is None else float(strength)
        if not 0.0 < strength <= 1.0:
            raise ValueError(f'MDM.edit: strength must lie in (0, 1], got {strength}')
        noise, start = None, 0
        if strength < 1.0:
            sched.set_timesteps(steps, device=source.device)
            start = min(len(sched.timesteps) - 1,
                        int(round((1.0 - strength) * len(sched.timesteps))))
            t0 = sched.timesteps[start]
            noise = sched.add_noise(source, randn_like(source, generator),
                                    t0.expand(batch).to(source.device))
        out = self.sample(texts, lengths, num_frames=T, guidance_scale=guidance_scale,
                          num_inference_steps=steps, scheduler=sched, generator=generator,
                          denoised_fn=denoised_fn, sample_fn=sample_fn, noise=noise,
                          start_index=start)
        if post_blend:
            out = blend_edit(source, out, ~keep)
        frame_mask = (torch.arange(T, device=self.device)[None]
                      < torch.as_tensor(lengths, device=self.device)[:, None])
        return torch.where(frame_mask[..., None], out, source)

    def edit_body_part(self, source: torch.Tensor, texts: Optional[Sequence[str]],
                       part: Union[str, Sequence[str]] = 'upper_body', **kwargs) -> torch.Tensor:
        """Edit one body part (``'upper_body'``, ``'lower_body'``, ``'left_arm'``, a joint name or a
        list), keeping every other feature (for ``'upper_body'``: MDM's lower-body mask, root
        and foot contacts included). ``kwargs`` go to :meth:`edit`."""
        keep = body_part_keep_mask(self.representation, part)
        return self.edit(source, keep, texts, **kwargs)

    def inbetween(self, source: torch.Tensor, texts: Optional[Sequence[str]],
                  lengths: Optional[Union[Sequence[int], torch.Tensor]] = None,
                  prefix_frames: Union[int, float] = 0.25,
                  suffix_frames: Union[int, float] = 0.25, **kwargs) -> torch.Tensor:
        """Temporal in-betweening: keep the first / last frames of each motion (ints, or
        fractions of its length: MDM keeps 25% at each end), generate the rest."""
        batch, T, D = source.shape
        lengths = torch.full((batch, ), T, dtype=torch.long) if lengths is None else lengths
        keep = inbetween_keep_mask(lengths, T, D, prefix_frames, suffix_frames)
        return self.edit(source, keep, texts, lengths=lengths, **kwargs)

    @torch.no_grad()
    def edit_instructions(self, requests: Sequence[EditRequest],
                          num_inference_steps: Optional[int] = None,
                          generator: Optional[torch.Generator] = None) -> list:
        """Edit raw motions with corrective instructions (:class:`InstructionEditor`, the editor
        protocol of CigTime's reconstruction metric and triplet builder).

        Each request's ``body_part`` picks the features to regenerate: ``'upper_body'`` keeps the
        lower body, root and foot contacts (MDM's lower-body mask); ``'lower_body'`` keeps the
        upper body; ``'whole_body'`` regenerates every feature at the source's length. CigTime
        edits with at most 50 reverse steps and blends with eq. 5 (``post_blend``).

        Args:
            requests: :class:`EditRequest` with ``motion`` ``(T-1, D)`` raw features; their
                ``source_captions`` fill an ``edit_text_template`` with ``{source_caption}``;
                ``data_root`` (``Mean.npy`` / ``Std.npy``) normalises when the model carries no
                statistics of its own.
            num_inference_steps: reverse steps (default ``edit_num_inference_steps``, at most 50).
            generator: random generator of the sampling noise.

        Returns:
            edited joint positions ``(T-1, J, 3)`` per request (float32 numpy), decoded with the
            model's representation.
        """
        import numpy as np
        if not requests:
            return []
        stats = self.feature_stats(None)
        if stats is None:
            root = requests[0].data_root
            if not root:
                raise ValueError('MDM.edit_instructions: the model has no normalisation statistics '
                                 '(set mean_path/std_path on its data preprocessor) and the requests '
                                 'name no data_root with Mean.npy/Std.npy')
            import os.path as osp
            mean, std = load_mean_std(osp.join(root, 'Mean.npy'), osp.join(root, 'Std.npy'), self.feature_dim)
            stats = (torch.as_tensor(mean, dtype=torch.float32, device=self.device),
                     torch.as_tensor(std, dtype=torch.float32, device=self.device))
        mean, std = stats
        feats = []
        for i, req in enumerate(requests):
            if req.motion is None:
                raise ValueError(f'MDM.edit_instructions: request {i} ({req.source_id or "?"}) has no '
                                 'motion features')
            m = torch.as_tensor(np.asarray(req.motion, dtype=np.float32))
            if m.ndim != 2 or m.shape[-1] != self.feature_dim or len(m) < 1:
                raise ValueError(f'MDM.edit_instructions: request {i} ({req.source_id or "?"}) must '
                                 f'be (T, {self.feature_dim}) features, got {tuple(m.shape)}')
            feats.append(m)
        lengths = torch.tensor([len(m) for m in feats])
        T = int(lengths.max())
        x = torch.zeros(len(feats), T, self.feature_dim, device=self.device)
        keep = torch.zeros(len(feats), T, self.feature_dim, dtype=torch.bool, device=self.device)
        for i, (m, req) in enumerate(zip(feats, requests)):
            x[i, :len(m)] = (m.to(self.device) - mean) / std
            if req.body_part in ('upper_body', 'lower_body'):
                keep[i] = body_part_keep_mask(self.representation, req.body_part).to(self.device)
        texts = []
        for req in requests:
            if '{source_caption}' in self.edit_text_template:
                if not req.source_captions:
                    raise KeyError(f'MDM.edit_instructions: edit_text_template '
                                   f'{self.edit_text_template!r} needs source_captions, request '
                                   f'{req.source_id!r} has none')
                texts.append(format_edit_text(self.edit_text_template, req.instruction,
                                              req.source_captions[0]))
            else:
                texts.append(format_edit_text(self.edit_text_template, req.instruction))
        steps = min(50, num_inference_steps or self.edit_num_inference_steps)
        out = self.edit(x, keep, texts, lengths=lengths, post_blend=True,
                        num_inference_steps=steps, generator=generator)
        raw = out * std + mean
        joints = self.representation.decode(raw)
        return [joints[i, :n].detach().cpu().numpy().astype(np.float32)
                for i, n in enumerate(lengths.tolist())]

    # ------------------------------------------------------------------ BaseModel API
    @staticmethod
    def _texts(data_samples: Optional[Sequence]) -> list:
        return sample_captions(data_samples, 'MDM')

    def _lengths(self, inputs: dict, data_samples: Sequence) -> torch.Tensor:
        lengths = []
        for i, sample in enumerate(data_samples):
            n = sample.metainfo.get('length')
            if n is None:
                if inputs is None or 'lengths' not in inputs:
                    raise KeyError(f'MDM: data sample {i} has no "length" in its metainfo')
                n = int(inputs['lengths'][i])
            lengths.append(int(n))
        return torch.tensor(lengths, dtype=torch.long)

    def predict(self, inputs: Optional[dict], data_samples: Sequence) -> list:
        """Generate one motion per data sample (caption + metainfo length)."""
        texts = self._texts(data_samples)
        lengths = self._lengths(inputs, data_samples)
        motion = self.sample(texts, lengths)
        return self._attach_predictions(motion, lengths, data_samples)

    def _attach_predictions(self, motion: torch.Tensor, lengths: torch.Tensor,
                            data_samples: Sequence) -> list:
        stats = self.feature_stats(data_samples)
        normalized = stats is not None
        if self.denormalize_predictions and stats is not None:
            motion = motion * stats[1] + stats[0]
            normalized = False
        for sample, m, n in zip(data_samples, motion, lengths.tolist()):
            sample.pred_motion = m[:n].detach()
            sample.set_metainfo(dict(pred_motion_normalized=normalized))
        return list(data_samples)

    def forward(self, inputs: dict, data_samples: Optional[Sequence] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            x0 = inputs['motion']
            batch = x0.shape[0]
            timesteps = inputs.get('timesteps')
            if timesteps is None:
                timesteps = self.noise_scheduler.sample_timesteps(batch, device=x0.device)
            x_t = self.noise_scheduler.add_noise(x0, torch.randn_like(x0), timesteps)
            x_t = self.prepare_denoiser_input(x_t, x0, timesteps)
            texts = self._texts(data_samples) if data_samples else None
            return self.denoise(x_t, timesteps, self.encode_text(texts, batch),
                                inputs.get('mask'),
                                None if texts is not None else torch.ones(batch, dtype=torch.bool))
        raise ValueError(f"MDM: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
               feature_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """MDM's ``masked_l2``: per sample, squared error summed over valid frames (and weighted
    features) divided by their count; then the batch mean.

    Args:
        pred, target: ``(B, T, D)``.
        mask: ``(B, T)`` bool, valid frames.
        feature_weight: ``(D,)`` weights (e.g. 0 on features given as input), default ones.
    """
    sq = (pred - target).pow(2)
    m = mask.to(sq.dtype)[..., None]
    if feature_weight is None:
        w_sum = sq.shape[-1]
        per = (sq * m).sum((1, 2))
    else:
        w = feature_weight.to(sq)
        w_sum = w.sum()
        per = (sq * m * w).sum((1, 2))
    count = (mask.sum(1).to(sq.dtype) * w_sum).clamp(min=1)
    return (per / count).mean()
