"""An instruction-conditioned MDM editor that also reads the source motion.

MDM's editing (:meth:`MDM.edit`) regenerates the edited features from the text alone: everything
the source says about them (timing, phase, amplitude) is lost, and a corrective instruction
("raise your arms higher") describes only a change, not the motion. ``SourceConditionedMDM`` keeps
MDM's denoiser, schedule, guidance and editing masks, and adds the source as a condition:

* every frame token is ``input_process(x_t) + source_process(source)`` (``source_process`` starts
  at zero, so the untrained model is MDM);
* the denoiser predicts the target as a residual on the source: ``x0 = source + f(...)``, so
  "change nothing" is the zero function and the network only models the change;
* with ``source_gate=True`` the residual may also scale the source, frame by frame and feature by
  feature: ``x0 = source + g * source + f(...)``, ``g = gate(h)`` read from the transformer's
  per-frame output ``h`` (``gate`` starts at zero). Many corrective edits are a scale or a sign
  flip of what the source already does on a segment: a walk backward instead of forward, the
  other turn direction, longer steps. ``f`` alone must rebuild ``-2 * source`` through a d = 64
  bottleneck; the gate makes it one number per feature;
* with ``source_mirror=True`` it may also move toward the source's left-right mirror image:
  ``+ m * (mirror(source) - source)``, ``m = mirror_gate(h)`` (zero at start; the mirror is
  :func:`~motionkit.motion.mirror_features`, taken on the un-normalised features). "The other
  leg", "the other hand", "turn the other way", "side-step the other way" are the mirror of the
  edited part (the root's angular and sideways velocity flip sign, left and right swap), which no
  per-feature scale of the source can express;
* it trains on (source, instruction, target) triplets (``CigTimeTripletDataset`` with the pair
  pipeline and ``MotionPairDataPreprocessor``), over the frames source and target share.

Editing (:meth:`edit`, :meth:`edit_body_part`, :meth:`edit_instructions`) is MDM's: kept
features are overwritten with the source at every step, eq. 5 post-blend, <= 50 steps.
"""
from __future__ import annotations

import contextlib
from typing import Optional, Sequence

import torch
from torch import nn

from motionkit.motion import mirror_feature_transform
from motionkit.registry import MODELS
from .mdm import MDM

__all__ = ['SourceConditionedMDM']


@MODELS.register_module()
class SourceConditionedMDM(MDM):
    """MDM whose denoiser also reads the source motion (see the module doc).

    Args:
        source_gate: Add the multiplicative term ``g * source`` to the residual (see the module
            doc; False: ``x0 = source + f``).
        source_mirror: Add the term ``m * (mirror(source) - source)`` (needs a representation
            that :func:`~motionkit.motion.mirror_feature_transform` supports).
        **kwargs: :class:`MDM` arguments; the noise schedule must predict ``x0`` (the residual
            form needs it).
    """

    def __init__(self, source_gate: bool = False, source_mirror: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        if getattr(self.noise_scheduler, 'prediction_type', 'x0') != 'x0':
            raise ValueError('SourceConditionedMDM predicts x0 as a residual on the source; use '
                             "prediction_type='x0'")
        self.source_process = nn.Linear(self.feature_dim, self.latent_dim)
        nn.init.zeros_(self.source_process.weight)
        nn.init.zeros_(self.source_process.bias)
        self.source_gate = None
        if source_gate:
            self.source_gate = nn.Linear(self.latent_dim, self.feature_dim)
            nn.init.zeros_(self.source_gate.weight)
            nn.init.zeros_(self.source_gate.bias)
        self.mirror_gate = None
        if source_mirror:
            if self.representation_name is None:
                raise ValueError('SourceConditionedMDM: source_mirror needs a representation')
            index, sign = mirror_feature_transform(self.representation)
            self.register_buffer('mirror_index', torch.as_tensor(index), persistent=False)
            self.register_buffer('mirror_sign', torch.as_tensor(sign, dtype=torch.float32),
                                 persistent=False)
            self.mirror_gate = nn.Linear(self.latent_dim, self.feature_dim)
            nn.init.zeros_(self.mirror_gate.weight)
            nn.init.zeros_(self.mirror_gate.bias)
        self._source: Optional[torch.Tensor] = None

    @contextlib.contextmanager
    def conditioned_on(self, source: torch.Tensor):
        """Denoiser calls inside the block read ``source`` ``(B, T, D)`` (normalised)."""
        if source.ndim != 3 or source.shape[-1] != self.feature_dim:
            raise ValueError(f'SourceConditionedMDM: source must be (B, T, {self.feature_dim}), '
                             f'got {tuple(source.shape)}')
        previous, self._source = self._source, source
        try:
            yield
        finally:
            self._source = previous

    def _source_for(self, x_t: torch.Tensor) -> torch.Tensor:
        if self._source is None:
            raise RuntimeError('SourceConditionedMDM edits a source motion: call edit(), '
                               'edit_body_part() or edit_instructions() (no source is set)')
        src = self._source.to(x_t.device, x_t.dtype)
        if src.shape[0] != x_t.shape[0]:  # classifier-free guidance doubles the batch
            reps = x_t.shape[0] // src.shape[0]
            if reps * src.shape[0] != x_t.shape[0]:
                raise ValueError(f'SourceConditionedMDM: batch {x_t.shape[0]} vs source '
                                 f'{src.shape[0]}')
            src = src.repeat(reps, 1, 1)
        if src.shape[1] != x_t.shape[1]:
            raise ValueError(f'SourceConditionedMDM: source has {src.shape[1]} frames, x_t '
                             f'{x_t.shape[1]}')
        return src

    def embed_frames(self, x_t: torch.Tensor) -> torch.Tensor:
        return self.input_process(x_t) + self.source_process(self._source_for(x_t))

    def denoise(self, x_t: torch.Tensor, timesteps: torch.Tensor, text_emb: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                uncond: Optional[torch.Tensor] = None) -> torch.Tensor:
        source = self._source_for(x_t)
        hidden = self.denoise_hidden(x_t, timesteps, text_emb, mask, uncond)
        residual = self.output_process(hidden)
        if self.source_gate is not None:
            residual = residual + self.source_gate(hidden) * source
        if self.mirror_gate is not None:
            residual = residual + self.mirror_gate(hidden) * (self.mirror(source) - source)
        return source + residual

    def mirror(self, motion: torch.Tensor) -> torch.Tensor:
        """Left-right mirror of ``(..., D)`` features in the model's (normalised) space."""
        pre = self.data_preprocessor
        if not getattr(pre, 'normalize', False):
            return motion.index_select(-1, self.mirror_index) * self.mirror_sign
        mean, std = getattr(pre, 'mean', None), getattr(pre, 'std', None)
        if mean is None or std is None:
            raise RuntimeError('SourceConditionedMDM.mirror: the data preprocessor normalises but '
                               'has no statistics yet (give it mean_path/std_path)')
        raw = motion * std + mean
        return (raw.index_select(-1, self.mirror_index) * self.mirror_sign - mean) / std

    # ------------------------------------------------------------------ training
    @staticmethod
    def _texts(data_samples: Optional[Sequence]) -> list:
        if not data_samples:
            raise ValueError('SourceConditionedMDM: data samples with gt_instruction are required')
        texts = []
        for i, sample in enumerate(data_samples):
            text = sample.get('gt_instruction') if hasattr(sample, 'get') else None
            if not isinstance(text, str):
                return MDM._texts(data_samples)  # captions (gt_text / gt_texts)
            texts.append(text)
        return texts

    def loss(self, inputs: dict, data_samples: Sequence) -> dict:
        """MDM's loss on the target, conditioned on the source, over the shared frames."""
        for key in ('source', 'source_mask', 'target', 'target_mask'):
            if key not in inputs:
                raise KeyError(f'SourceConditionedMDM: inputs need {key!r} (MotionPairDataPreprocessor), '
                               f'got {sorted(inputs)}')
        T = min(inputs['source'].shape[1], inputs['target'].shape[1])
        mask = inputs['source_mask'][:, :T].bool() & inputs['target_mask'][:, :T].bool()
        target = inputs['target'][:, :T]
        with self.conditioned_on(inputs['source'][:, :T]):
            return super().loss(dict(motion=target, mask=mask, lengths=mask.sum(1)),
                                data_samples)

    # ------------------------------------------------------------------ editing
    def edit(self, source: torch.Tensor, keep_mask: torch.Tensor, texts, **kwargs) -> torch.Tensor:
        with self.conditioned_on(source.to(self.device).float()):
            return super().edit(source, keep_mask, texts, **kwargs)

    def predict(self, inputs: Optional[dict], data_samples: Sequence) -> list:
        """Edit each source with its instruction over the whole body (no kept features)."""
        if inputs is None or 'source' not in inputs:
            raise KeyError('SourceConditionedMDM.predict: inputs["source"] is required')
        source = inputs['source']
        keep = torch.zeros(source.shape[-1], dtype=torch.bool)
        lengths = inputs.get('source_lengths')
        out = self.edit(source, keep, self._texts(data_samples), lengths=lengths)
        lengths = lengths if lengths is not None else torch.full((len(source), ), source.shape[1])
        return self._attach_predictions(out, torch.as_tensor(lengths).cpu(), data_samples)
