"""Action classes built from captions (CoAMD sec. 3.1) as training labels of HumanML3D-format
datasets.

``tools/data/build_action_classes.py`` (:mod:`motionkit.datagen.action_classes`) writes a folder
with the class list (``label_map.json``), every motion's multi-label set
(``motion_labels.jsonl``) and the training frequency of each class (``class_counts.npy``).
:func:`load_action_classes` reads and checks it; :class:`LoadActionLabels` attaches the labels to
the samples of :class:`~motionkit.datasets.HumanML3DDataset` (and of any dataset whose items carry
``motion_id``)::

    pipeline = [dict(type='LoadMotion'), dict(type='LoadActionLabels', labels_dir='data/hml_classes'),
                dict(type='SampleCaption'), dict(type='CropMotion'), dict(type='PackMotionInputs')]
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Union

import numpy as np

from motionkit.registry import TRANSFORMS
from .base import BaseTransform

__all__ = ['load_action_classes', 'LoadActionLabels']


def load_action_classes(labels_dir: Union[str, os.PathLike]) -> dict:
    """Read and check an action-class folder.

    Returns:
        ``dict(num_classes, names (list[str]), class_counts ((K,) int64), motion_labels
        ({motion_id: (L,) int64 sorted class ids}), labels_dir)``.

    Raises:
        FileNotFoundError: the folder holds no finished build (no ``manifest.json``) or misses a
            file.
        ValueError: naming the file and the class or line: a class without member verbs, class
            ids out of order, counts of the wrong shape, a label outside ``[0, K)``, a malformed
            ``motion_labels.jsonl`` line or a motion listed twice.
    """
    root = Path(labels_dir)
    if not (root / 'manifest.json').is_file():
        raise FileNotFoundError(f'{root}: no manifest.json: not a finished action-class build '
                                '(tools/data/build_action_classes.py writes it last)')
    for name in ('label_map.json', 'class_counts.npy', 'motion_labels.jsonl'):
        if not (root / name).is_file():
            raise FileNotFoundError(f'{root / name} not found')
    path = root / 'label_map.json'
    try:
        classes = json.loads(path.read_text(encoding='utf-8'))['classes']
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f'{path}: expected a JSON object with a "classes" list ({e})') from None
    if not isinstance(classes, list) or not classes:
        raise ValueError(f'{path}: "classes" must be a non-empty list')
    names = []
    for i, c in enumerate(classes):
        if not isinstance(c, dict) or c.get('id') != i or not isinstance(c.get('name'), str):
            raise ValueError(f'{path}: classes[{i}] must be an object with "id": {i} and a "name" '
                             f'string, got {str(c)[:120]}')
        if not isinstance(c.get('verbs'), list) or not c['verbs']:
            raise ValueError(f'{path}: class {i} ({c["name"]!r}) has zero member verbs')
        names.append(c['name'])
    k = len(names)
    counts_path = root / 'class_counts.npy'
    counts = np.load(counts_path, allow_pickle=False)
    if counts.shape != (k, ) or not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
        raise ValueError(f'{counts_path}: expected ({k},) non-negative integer counts, got '
                         f'{counts.dtype} {counts.shape}')
    labels_path = root / 'motion_labels.jsonl'
    motion_labels = {}
    with open(labels_path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                motion_id, labels = rec['id'], rec['labels']
            except (ValueError, KeyError, TypeError):
                raise ValueError(f'{labels_path}, line {line_no}: expected {{"id": ..., "labels": '
                                 f'[...]}}, got {line.strip()[:120]!r}') from None
            if not isinstance(labels, list) or not all(
                    isinstance(x, int) and not isinstance(x, bool) and 0 <= x < k for x in labels):
                raise ValueError(f'{labels_path}, line {line_no}: labels of motion {motion_id!r} must '
                                 f'be class ids in [0, {k}), got {labels}')
            if motion_id in motion_labels:
                raise ValueError(f'{labels_path}, line {line_no}: motion {motion_id!r} is listed twice')
            motion_labels[motion_id] = np.array(sorted(set(labels)), dtype=np.int64)
    return dict(num_classes=k, names=names, class_counts=counts.astype(np.int64),
                motion_labels=motion_labels, labels_dir=str(root))


@TRANSFORMS.register_module()
class LoadActionLabels(BaseTransform):
    """Attach a motion's action classes (multi-label, CoAMD sec. 3.1) to its sample.

    Every sample of a motion, its caption segments included, gets the motion's label set: the
    union of the classes of all its captions.

    Required keys: ``motion_id``.
    Added keys: ``gt_labels`` (``(L,)`` int64 class ids, possibly empty), ``num_classes`` (int),
    ``class_counts`` (``(K,)`` int64 training motions per class, one array shared by all samples).
    :class:`PackMotionInputs` puts ``gt_labels`` into the data sample and the other two into its
    metainfo.

    Args:
        labels_dir: A folder written by ``tools/data/build_action_classes.py``; read and checked
            at construction (:func:`load_action_classes`).
        missing: What to do with a motion id the folder does not list: ``'error'`` (default; the
            labels were built from another dataset) or ``'empty'`` (no label).
    """

    def __init__(self, labels_dir: str, missing: str = 'error') -> None:
        if missing not in ('error', 'empty'):
            raise ValueError(f"LoadActionLabels: missing must be 'error' or 'empty', got {missing!r}")
        self.labels_dir = str(labels_dir)
        self.missing = missing
        self._classes = load_action_classes(labels_dir)
        self._empty = np.zeros(0, dtype=np.int64)

    @property
    def num_classes(self) -> int:
        return self._classes['num_classes']

    @property
    def class_counts(self) -> np.ndarray:
        return self._classes['class_counts']

    @property
    def names(self) -> list:
        return list(self._classes['names'])

    def transform(self, results: dict) -> dict:
        if 'motion_id' not in results:
            raise KeyError(f'LoadActionLabels: the sample has no "motion_id" (keys: {sorted(results)})')
        labels = self._classes['motion_labels'].get(results['motion_id'])
        if labels is None:
            if self.missing == 'error':
                raise KeyError(f'LoadActionLabels: motion {results["motion_id"]!r} is not in '
                               f'{self.labels_dir}/motion_labels.jsonl (labels built from another '
                               "dataset?); pass missing='empty' to give such motions no label")
            labels = self._empty
        results['gt_labels'] = labels.copy()
        results['num_classes'] = self._classes['num_classes']
        results['class_counts'] = self._classes['class_counts']
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(labels_dir={self.labels_dir!r}, missing={self.missing!r})'
