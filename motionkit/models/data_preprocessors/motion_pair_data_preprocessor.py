"""``MotionPairDataPreprocessor``: pad, mask, move and normalise (source, target) motion pairs."""
from __future__ import annotations

from typing import Optional, Sequence

import os.path as osp

import numpy as np
import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import BaseDataElement

from motionkit.motion.padding import lengths_to_mask, pad_motions
from motionkit.motion.statistics import load_mean_std
from motionkit.registry import MODELS

__all__ = ['MotionPairDataPreprocessor']

STREAMS = ('source', 'target')


@MODELS.register_module()
class MotionPairDataPreprocessor(BaseDataPreprocessor):
    """Turn a ``motion_pair_collate`` batch into padded, z-normalised source and target streams.

    Input ``data['inputs']``: ``dict(source=..., target=...)``, each a list of ``(T_i, D)``
    tensors or a padded ``(B, T, D)`` tensor (then ``source_lengths`` / ``target_lengths`` may
    be given, else every frame is valid).

    Output ``inputs`` (on the model's device)::

        source (B, T_s, D) float, source_mask (B, T_s) bool, source_lengths (B,) long,
        target (B, T_t, D) float, target_mask (B, T_t) bool, target_lengths (B,) long

    normalised as ``(x - mean) / std`` with padded frames equal to ``pad_value``.

    Statistics (first match): ``mean`` / ``std``; ``mean_path`` / ``std_path``; else the
    ``mean_path`` / ``std_path`` metainfo of the first data sample (the triplet folder's
    ``Mean.npy`` / ``Std.npy``, set by ``CigTimeTripletDataset``), loaded once and then reused
    (a batch naming other files raises). ``normalize=False`` keeps raw features.

    Args:
        mean, std: ``(D,)`` statistics.
        mean_path, std_path: ``.npy`` statistics files.
        pad_value: Value of padded frames (after normalisation).
        normalize: Set ``False`` to skip normalisation.
        non_blocking: Asynchronous host-to-device copies.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 mean_path: Optional[str] = None,
                 std_path: Optional[str] = None,
                 pad_value: float = 0.0,
                 normalize: bool = True,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('MotionPairDataPreprocessor: give both mean and std, or neither')
        if (mean_path is None) != (std_path is None):
            raise ValueError('MotionPairDataPreprocessor: give both mean_path and std_path, or '
                             'neither')
        self.pad_value = float(pad_value)
        self.normalize = bool(normalize)
        self.stats_paths = None
        self.register_buffer('mean', None, persistent=False)
        self.register_buffer('std', None, persistent=False)
        if mean is None and mean_path is not None:
            self._load_stats(mean_path, std_path)
        elif mean is not None:
            self._set_stats(mean, std, '<config>')

    def _set_stats(self, mean, std, where: str) -> None:
        mean_t = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std_t = torch.as_tensor(np.asarray(std, dtype=np.float32))
        if mean_t.ndim != 1 or mean_t.shape != std_t.shape:
            raise ValueError(f'MotionPairDataPreprocessor: mean and std must be 1-D of equal '
                             f'length, got {tuple(mean_t.shape)} and {tuple(std_t.shape)} '
                             f'({where})')
        if not torch.isfinite(std_t).all() or (std_t <= 0).any():
            raise ValueError(f'MotionPairDataPreprocessor: std must be finite and > 0 ({where})')
        device = self.mean.device if self.mean is not None else None
        self.mean = mean_t if device is None else mean_t.to(device)
        self.std = std_t if device is None else std_t.to(device)

    def _load_stats(self, mean_path: str, std_path: str) -> None:
        mean, std = load_mean_std(mean_path, std_path)
        self._set_stats(mean, std, f'{mean_path}, {std_path}')
        self.stats_paths = (osp.abspath(str(mean_path)), osp.abspath(str(std_path)))

    def _stats_from_samples(self, data_samples) -> None:
        meta = {}
        for sample in data_samples or []:
            if isinstance(sample, BaseDataElement):
                meta = sample.metainfo
                break
        paths = (meta.get('mean_path'), meta.get('std_path'))
        if paths[0] is None or paths[1] is None:
            if self.mean is not None:
                return
            raise ValueError('MotionPairDataPreprocessor: no normalisation statistics: pass '
                             'mean/std or mean_path/std_path, use a dataset whose data samples '
                             'carry mean_path/std_path metainfo, or set normalize=False')
        paths = (osp.abspath(str(paths[0])), osp.abspath(str(paths[1])))
        if self.mean is None:
            self._load_stats(*paths)
        elif self.stats_paths is not None and paths != self.stats_paths:
            raise ValueError(f'MotionPairDataPreprocessor: this batch names statistics {paths} '
                             f'but {self.stats_paths} are in use; give mean_path/std_path '
                             'explicitly when mixing datasets')

    def _pad(self, value, lengths, name: str) -> tuple:
        if isinstance(value, (list, tuple)):
            return pad_motions(value, 0.0)
        if isinstance(value, torch.Tensor):
            if value.ndim != 3:
                raise ValueError(f'MotionPairDataPreprocessor: {name} must be (B, T, D), got '
                                 f'shape {tuple(value.shape)}')
            if lengths is None:
                lengths = torch.full((value.shape[0], ), value.shape[1], dtype=torch.long)
            lengths = torch.as_tensor(lengths, dtype=torch.long)
            return value, lengths_to_mask(lengths, value.shape[1]), lengths
        raise TypeError(f'MotionPairDataPreprocessor: inputs[{name!r}] must be a list of (T_i, D) '
                        f'tensors or a (B, T, D) tensor, got {type(value).__name__}')

    def forward(self, data: dict, training: bool = False) -> dict:
        """Pad, mask, move to the device and normalise both streams.

        Args:
            data: ``dict(inputs=dict(source=..., target=...), data_samples=list)``.
            training: Unused.

        Returns:
            ``dict(inputs=dict(source, source_mask, source_lengths, target, target_mask,
            target_lengths), data_samples)``.
        """
        if not isinstance(data, dict) or not isinstance(data.get('inputs'), dict):
            raise TypeError('MotionPairDataPreprocessor expects dict(inputs=dict(source=..., '
                            'target=...), data_samples=...) from motion_pair_collate, got '
                            f'{type(data).__name__}')
        raw = data['inputs']
        missing = [s for s in STREAMS if s not in raw]
        if missing:
            raise KeyError(f'MotionPairDataPreprocessor: inputs lack {missing} (keys: '
                           f'{sorted(raw)})')
        data_samples = data.get('data_samples')
        if self.normalize:
            self._stats_from_samples(data_samples)
        inputs = {}
        for name in STREAMS:
            motion, mask, lengths = self._pad(raw[name], raw.get(f'{name}_lengths'), name)
            inputs[name], inputs[f'{name}_mask'], inputs[f'{name}_lengths'] = motion, mask, lengths
        if inputs['source'].shape[0] != inputs['target'].shape[0]:
            raise ValueError(f'MotionPairDataPreprocessor: {inputs["source"].shape[0]} sources but '
                             f'{inputs["target"].shape[0]} targets')
        inputs = self.cast_data(inputs)
        data_samples = self.cast_data(data_samples)
        for name in STREAMS:
            motion = inputs[name].float()
            if self.normalize:
                if motion.shape[-1] != self.mean.shape[0]:
                    raise ValueError(f'MotionPairDataPreprocessor: {name} width '
                                     f'{motion.shape[-1]} does not match the statistics '
                                     f'({self.mean.shape[0]})')
                motion = (motion - self.mean.to(motion)) / self.std.to(motion)
            mask = inputs[f'{name}_mask'].bool()
            motion = torch.where(mask[..., None], motion, torch.full_like(motion, self.pad_value))
            inputs[name], inputs[f'{name}_mask'] = motion, mask
        return dict(inputs=inputs, data_samples=data_samples)

    def denormalize(self, motion: torch.Tensor) -> torch.Tensor:
        """Undo the normalisation: ``motion * std + mean`` (identity without statistics)."""
        if not self.normalize or self.mean is None:
            return motion
        return motion * self.std.to(motion) + self.mean.to(motion)
