"""``MotionDataPreprocessor``: pad, mask, move to device and normalise a batch of motions."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import BaseDataElement

from motionkit.motion.padding import lengths_to_mask, pad_motions
from motionkit.motion.statistics import load_mean_std
from motionkit.registry import MODELS

__all__ = ['MotionDataPreprocessor']


@MODELS.register_module()
class MotionDataPreprocessor(BaseDataPreprocessor):
    """Turn a collated batch into ``dict(inputs=dict(motion, mask, lengths), data_samples)``.

    Accepted batches (``data['inputs']``):

    * ``dict(motion=(B, T, ...), mask=(B, T), lengths=(B,))`` from ``motion_collate``;
    * a list of ``(T_i, ...)`` tensors from mmengine's default ``pseudo_collate`` (padded here);
    * a ``(B, T, ...)`` tensor (every frame valid).

    Output ``inputs`` (on the model's device):

    * ``motion``: ``(B, T, D)`` (or ``(B, T, J, 3)``) float, normalised when statistics are given,
      padded frames equal to ``pad_value`` (also after normalisation);
    * ``mask``: ``(B, T)`` bool, True on valid frames;
    * ``lengths``: ``(B,)`` long.

    A model therefore implements ``forward(inputs, data_samples, mode)`` and reads
    ``inputs['motion']`` and ``inputs['mask']``.

    Args:
        mean, std: ``(D,)`` statistics for z-normalisation ``(x - mean) / std`` over the last
            axis of ``motion``.
        mean_path, std_path: ``.npy`` files with the statistics (e.g. the dataset's ``Mean.npy`` /
            ``Std.npy``), used when ``mean``/``std`` are not given.
        pad_value: Value of padded frames.
        pad_to: Pad to at least this many frames (e.g. 196 for the T2M evaluators).
        non_blocking: Asynchronous host-to-device copies.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 mean_path: Optional[str] = None,
                 std_path: Optional[str] = None,
                 pad_value: float = 0.0,
                 pad_to: Optional[int] = None,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('MotionDataPreprocessor: give both mean and std, or neither')
        if (mean_path is None) != (std_path is None):
            raise ValueError('MotionDataPreprocessor: give both mean_path and std_path, or neither')
        if mean is None and mean_path is not None:
            mean, std = load_mean_std(mean_path, std_path)
        self.normalize = mean is not None
        if self.normalize:
            mean_t = torch.as_tensor(np.asarray(mean, dtype=np.float32))
            std_t = torch.as_tensor(np.asarray(std, dtype=np.float32))
            if mean_t.ndim != 1 or mean_t.shape != std_t.shape:
                raise ValueError(f'MotionDataPreprocessor: mean and std must be 1-D of equal '
                                 f'length, got {tuple(mean_t.shape)} and {tuple(std_t.shape)}')
            if not torch.isfinite(std_t).all() or (std_t <= 0).any():
                raise ValueError('MotionDataPreprocessor: std must be finite and > 0'
                                 + (f' ({std_path})' if std_path else ''))
            # Not persistent: the statistics come from the config, and checkpoints stay loadable
            # by models built with or without normalisation.
            self.register_buffer('mean', mean_t, persistent=False)
            self.register_buffer('std', std_t, persistent=False)
        else:
            self.mean = None
            self.std = None
        self.pad_value = float(pad_value)
        self.pad_to = pad_to

    def _collate(self, inputs) -> dict:
        if isinstance(inputs, dict):
            if 'motion' not in inputs:
                raise KeyError('MotionDataPreprocessor: inputs dict needs a "motion" entry, got '
                               f'keys {sorted(inputs)}')
            motion = inputs['motion']
            if isinstance(motion, (list, tuple)):
                motion, mask, lengths = pad_motions(motion, self.pad_value, self.pad_to)
                return dict(inputs, motion=motion, mask=mask, lengths=lengths)
            lengths = inputs.get('lengths')
            if lengths is None:
                lengths = torch.full((motion.shape[0], ), motion.shape[1], dtype=torch.long)
            lengths = torch.as_tensor(lengths, dtype=torch.long)
            mask = inputs.get('mask')
            if mask is None:
                mask = lengths_to_mask(lengths, motion.shape[1])
            out = dict(inputs, motion=motion, mask=mask.bool(), lengths=lengths)
        elif isinstance(inputs, (list, tuple)):
            motion, mask, lengths = pad_motions(inputs, self.pad_value, self.pad_to)
            out = dict(motion=motion, mask=mask, lengths=lengths)
        elif isinstance(inputs, torch.Tensor):
            if inputs.ndim < 3:
                raise ValueError('MotionDataPreprocessor: a tensor batch must be (B, T, ...), got '
                                 f'shape {tuple(inputs.shape)}')
            lengths = torch.full((inputs.shape[0], ), inputs.shape[1], dtype=torch.long)
            out = dict(motion=inputs, mask=lengths_to_mask(lengths, inputs.shape[1]),
                       lengths=lengths)
        else:
            raise TypeError('MotionDataPreprocessor: inputs must be a dict from motion_collate, a '
                            f'list of tensors or a (B, T, ...) tensor, got {type(inputs).__name__}')
        if self.pad_to is not None and out['motion'].shape[1] < self.pad_to:
            extra = self.pad_to - out['motion'].shape[1]
            motion = out['motion']
            pad = motion.new_full((motion.shape[0], extra) + tuple(motion.shape[2:]),
                                  self.pad_value)
            out['motion'] = torch.cat([motion, pad], dim=1)
            out['mask'] = torch.cat([out['mask'], out['mask'].new_zeros(motion.shape[0], extra)],
                                    dim=1)
        return out

    def forward(self, data: dict, training: bool = False) -> dict:
        """Pad, build masks, move to the device and normalise.

        Args:
            data: ``dict(inputs=..., data_samples=list | None)`` from the collate function.
            training: Unused (no batch augmentation).

        Returns:
            ``dict(inputs=dict(motion=(B, T, ...), mask=(B, T), lengths=(B,), ...),
            data_samples=list | None)``.
        """
        if not isinstance(data, dict) or 'inputs' not in data:
            raise TypeError('MotionDataPreprocessor expects dict(inputs=..., data_samples=...), '
                            f'got {type(data).__name__}')
        inputs = self._collate(data['inputs'])
        data_samples = data.get('data_samples')
        inputs = self.cast_data(inputs)
        data_samples = self.cast_data(data_samples)
        motion = inputs['motion'].float()
        if self.normalize:
            if motion.shape[-1] != self.mean.shape[0]:
                raise ValueError(f'MotionDataPreprocessor: motion width {motion.shape[-1]} '
                                 f'does not match the statistics ({self.mean.shape[0]})')
            for sample in data_samples or []:
                if isinstance(sample, BaseDataElement) and sample.metainfo.get('normalized'):
                    raise ValueError('MotionDataPreprocessor: the batch was already normalised by '
                                     'NormalizeMotion; normalise in one place only')
            motion = (motion - self.mean) / self.std
        # keep padded frames at pad_value whatever the normalisation did
        mask = inputs['mask']
        view = mask.reshape(mask.shape + (1, ) * (motion.ndim - 2))
        motion = torch.where(view, motion, torch.full_like(motion, self.pad_value))
        inputs['motion'] = motion
        return dict(inputs=inputs, data_samples=data_samples)

    def denormalize(self, motion: torch.Tensor) -> torch.Tensor:
        """Undo the normalisation: ``motion * std + mean`` (identity without statistics)."""
        if not self.normalize:
            return motion
        return motion * self.std.to(motion) + self.mean.to(motion)

    def normalize_motion(self, motion: Union[torch.Tensor, np.ndarray]) -> torch.Tensor:
        """Apply the normalisation to raw features ``(..., D)`` (identity without statistics)."""
        motion = torch.as_tensor(motion, dtype=torch.float32, device=self.device)
        if not self.normalize:
            return motion
        return (motion - self.mean) / self.std
