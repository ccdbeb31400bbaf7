"""Batching of variable-length motions: padding to the longest motion plus a validity mask."""
from __future__ import annotations

from typing import Optional, Sequence

from motionkit.motion.padding import lengths_to_mask, pad_motions
from motionkit.registry import FUNCTIONS

__all__ = ['pad_motions', 'lengths_to_mask', 'motion_collate', 'motion_pair_collate']


@FUNCTIONS.register_module()
def motion_collate(data_batch: Sequence[dict], pad_value: float = 0.0,
                   pad_to: Optional[int] = None) -> dict:
    """Collate ``PackMotionInputs`` outputs into a padded batch.

    In a config: ``collate_fn=dict(type='motionkit.motion_collate')`` (mmengine's Runner looks
    collate functions up in its root registry, so the ``motionkit.`` scope prefix is needed).

    Args:
        data_batch: ``B`` dicts ``dict(inputs=Tensor (T_i, ...), data_samples=MotionDataSample)``.
        pad_value: Value of padded frames.
        pad_to: Pad to at least this many frames.

    Returns:
        ``dict(inputs=dict(motion=(B, T, ...), mask=(B, T) bool, lengths=(B,) long),
        data_samples=list)``; the structure ``MotionDataPreprocessor`` and the models expect.
    """
    if len(data_batch) == 0:
        raise ValueError('motion_collate: empty batch')
    for i, item in enumerate(data_batch):
        if not isinstance(item, dict) or 'inputs' not in item:
            raise TypeError(f'motion_collate: item {i} must be a dict with "inputs" (the output '
                            f'of PackMotionInputs), got {type(item).__name__}')
    motion, mask, lengths = pad_motions([item['inputs'] for item in data_batch], pad_value,
                                        pad_to)
    return dict(inputs=dict(motion=motion, mask=mask, lengths=lengths),
                data_samples=[item.get('data_samples') for item in data_batch])


@FUNCTIONS.register_module()
def motion_pair_collate(data_batch: Sequence[dict]) -> dict:
    """Collate ``PackMotionPairInputs`` outputs (source/target motion pairs).

    In a config: ``collate_fn=dict(type='motionkit.motion_pair_collate')``. Motions stay
    unpadded lists here; ``MotionPairDataPreprocessor`` pads and normalises them.

    Args:
        data_batch: ``B`` dicts ``dict(inputs=dict(source=(T_i, D), target=(T'_i, D)),
            data_samples=MotionDataSample)``.

    Returns:
        ``dict(inputs=dict(source=[B tensors], target=[B tensors]), data_samples=list)``.
    """
    if len(data_batch) == 0:
        raise ValueError('motion_pair_collate: empty batch')
    source, target = [], []
    for i, item in enumerate(data_batch):
        inputs = item.get('inputs') if isinstance(item, dict) else None
        if not isinstance(inputs, dict) or 'source' not in inputs or 'target' not in inputs:
            raise TypeError(f'motion_pair_collate: item {i} must be dict(inputs=dict(source=..., '
                            f'target=...), data_samples=...) (the output of PackMotionPairInputs), '
                            f'got {type(item).__name__}'
                            + (f' with inputs {type(inputs).__name__}' if isinstance(item, dict)
                               else ''))
        source.append(inputs['source'])
        target.append(inputs['target'])
    return dict(inputs=dict(source=source, target=target),
                data_samples=[item.get('data_samples') for item in data_batch])
