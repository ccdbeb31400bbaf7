"""``EncodeActionLabels``: a sample's action-class names -> class ids (multi-label).

For datasets that carry their classes by name, e.g. :class:`SynthMotionDataset`'s
``gt_action_labels`` (its exact labels); classes built from captions come with
:class:`LoadActionLabels` instead.
"""
from __future__ import annotations

import os.path as osp
from typing import List, Sequence, Union

import numpy as np

from motionkit.registry import TRANSFORMS
from .base import BaseTransform

__all__ = ['EncodeActionLabels', 'read_class_names']


def read_class_names(path: str) -> List[str]:
    """Class names from a text file, one per line, in id order (``label_map.txt`` layout)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'class list not found: {path}')
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f.read().splitlines()]
    while names and not names[-1]:
        names.pop()
    empty = [i + 1 for i, n in enumerate(names) if not n]
    if empty:
        raise ValueError(f'{path}: empty class name on line(s) {empty[:5]}')
    if not names:
        raise ValueError(f'{path}: no class names')
    return names


@TRANSFORMS.register_module()
class EncodeActionLabels(BaseTransform):
    """Turn the class names (or ids) in ``results[key]`` into ``results['gt_labels']``.

    Added keys: ``gt_labels`` (``(L,)`` int64 sorted distinct class ids) and ``num_classes``, as
    :class:`LoadActionLabels` adds them; :class:`PackMotionInputs` puts ``gt_labels`` into the data
    sample.

    Args:
        classes: Class names in id order, or a text file with one per line.
        key: Results key with the sample's class names (SynthMotion: ``gt_action_labels``).
        allow_empty: Accept a sample without any class (else a ValueError names the sample).
    """

    def __init__(self, classes: Union[Sequence[str], str], key: str = 'gt_action_labels',
                 allow_empty: bool = False) -> None:
        self.classes = read_class_names(classes) if isinstance(classes, str) else list(classes)
        if not self.classes or not all(isinstance(c, str) and c for c in self.classes):
            raise ValueError('EncodeActionLabels: classes must be non-empty strings')
        dup = sorted({c for c in self.classes if self.classes.count(c) > 1})
        if dup:
            raise ValueError(f'EncodeActionLabels: duplicate class names {dup[:5]}')
        self._index = {c: i for i, c in enumerate(self.classes)}
        self.key = key
        self.allow_empty = allow_empty

    def transform(self, results: dict) -> dict:
        sid = results.get('sample_id', results.get('motion_id', '?'))
        if self.key not in results:
            raise KeyError(f'EncodeActionLabels: sample {sid!r} has no {self.key!r} (keys: '
                           f'{sorted(results)})')
        raw = results[self.key]
        if isinstance(raw, (str, int)):
            raw = [raw]
        ids = set()
        for lab in raw:
            if isinstance(lab, str):
                if lab not in self._index:
                    raise KeyError(f'EncodeActionLabels: sample {sid!r} has class {lab!r}, which is '
                                   f'not among the {len(self.classes)} classes')
                ids.add(self._index[lab])
            elif isinstance(lab, (int, np.integer)) and not isinstance(lab, bool):
                if not 0 <= int(lab) < len(self.classes):
                    raise ValueError(f'EncodeActionLabels: sample {sid!r} has class id {int(lab)} '
                                     f'outside [0, {len(self.classes)})')
                ids.add(int(lab))
            else:
                raise TypeError(f'EncodeActionLabels: sample {sid!r}: a class must be a name or an '
                                f'id, got {lab!r}')
        if not ids and not self.allow_empty:
            raise ValueError(f'EncodeActionLabels: sample {sid!r} has no action class')
        results['gt_labels'] = np.array(sorted(ids), dtype=np.int64)
        results['num_classes'] = len(self.classes)
        return results
