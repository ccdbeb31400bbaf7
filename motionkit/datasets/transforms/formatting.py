"""Formatting transform: pack a results dict into ``dict(inputs=..., data_samples=...)``."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from motionkit.registry import TRANSFORMS
from motionkit.structures import MotionDataSample
from .base import BaseTransform

__all__ = ['PackMotionInputs']

# results key -> MotionDataSample field, for arrays that are not the model input.
_GT_ARRAY_FIELDS = {'motion': 'gt_motion', 'joints': 'gt_joints'}


def to_float_tensor(value, key: str, owner: str = 'PackMotionInputs') -> torch.Tensor:
    """``value`` (ndarray or tensor) as a float32 tensor; a TypeError names ``owner`` and ``key``."""
    if isinstance(value, torch.Tensor):
        return value.float()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    raise TypeError(f'{owner}: {key!r} must be an ndarray or a tensor, '
                    f'got {type(value).__name__}')


def _to_tensor(value, key: str) -> torch.Tensor:
    return to_float_tensor(value, key)


@TRANSFORMS.register_module()
class PackMotionInputs(BaseTransform):
    """Pack the processed sample for the model.

    Output: ``dict(inputs=Tensor (T, D) or (T, J, 3), data_samples=MotionDataSample)``.

    The data sample gets ``gt_motion`` / ``gt_joints`` for the arrays listed in ``gt_keys`` (other
    than the input), ``gt_text`` / ``gt_tokens`` / ``gt_texts`` from ``SampleCaption`` (or every
    caption in ``texts`` when no caption was sampled), ``gt_label`` from ``label``, and the
    ``meta_keys`` that are present as metainfo.
    :class:`LoadActionLabels`' ``gt_labels`` become ``gt_labels``; its ``num_classes`` and
    ``class_counts`` go to the metainfo.

    Args:
        input_key: Results key that becomes ``inputs`` (``'motion'`` features or ``'joints'``).
        gt_keys: Other arrays copied into the data sample (``'motion'``, ``'joints'``).
        meta_keys: Results keys copied as metainfo when present.
    """

    DEFAULT_META_KEYS = ('motion_id', 'sample_id', 'sample_idx', 'length', 'ori_length', 'fps',
                         'dataset_name', 'representation', 'skeleton', 'start_frame',
                         'crop_start', 'mirrored', 'normalized', 'sent_len', 'caption_index',
                         'motion_path', 'mean_path', 'std_path')

    def __init__(self, input_key: str = 'motion', gt_keys: Sequence[str] = ('joints', ),
                 meta_keys: Optional[Sequence[str]] = None) -> None:
        for key in gt_keys:
            if key not in _GT_ARRAY_FIELDS:
                raise ValueError(f'PackMotionInputs: gt_keys may hold {sorted(_GT_ARRAY_FIELDS)}, '
                                 f'got {key!r}')
        self.input_key = input_key
        self.gt_keys = tuple(gt_keys)
        self.meta_keys = tuple(self.DEFAULT_META_KEYS if meta_keys is None else meta_keys)

    def transform(self, results: dict) -> dict:
        if self.input_key not in results:
            raise KeyError(f'PackMotionInputs: input key {self.input_key!r} not in the results of '
                           f'sample {results.get("sample_id", "?")!r} '
                           f'(keys: {sorted(results)})')
        inputs = _to_tensor(results[self.input_key], self.input_key)
        sample = MotionDataSample()
        for key in self.gt_keys:
            if key != self.input_key and key in results:
                setattr(sample, _GT_ARRAY_FIELDS[key], _to_tensor(results[key], key))
        if 'text' in results:
            sample.gt_text = results['text']
            sample.gt_tokens = list(results.get('tokens', []))
            sample.gt_texts = list(results.get('captions', [results['text']]))
        elif results.get('texts'):
            sample.gt_texts = [t['caption'] for t in results['texts']]
        if 'label' in results:
            sample.set_gt_label(results['label'])
        if 'gt_labels' in results:  # multi-label action classes (LoadActionLabels)
            sample.gt_labels = results['gt_labels']
        meta = {k: results[k] for k in self.meta_keys if k in results}
        for key in ('num_classes', 'class_counts'):  # LoadActionLabels
            if key in results:
                meta.setdefault(key, results[key])
        if 'length' not in meta:
            meta['length'] = int(inputs.shape[0])
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_key={self.input_key!r}, gt_keys={self.gt_keys}, '
                f'meta_keys={self.meta_keys})')
