"""``SynthMotionDataset``: the HumanML3D-layout dataset over a generated (and cached) SynthMotion
split, so every HumanML3D transform and config works on it with no download."""
from __future__ import annotations

import json
import os.path as osp
from typing import Optional

from motionkit.datasets.humanml3d import HumanML3DDataset
from motionkit.registry import DATASETS
from .build import ensure_synthmotion

__all__ = ['SynthMotionDataset']


@DATASETS.register_module()
class SynthMotionDataset(HumanML3DDataset):
    """SynthMotion motions + captions in the HumanML3D layout (263-D features, ``t2m22``).

    The data is generated on first use into ``cache_dir`` (default
    ``~/.cache/motionkit/synthmotion``, or ``$MOTIONKIT_CACHE/synthmotion``) in a folder keyed by
    a hash of the build config (version, seed, size, options) and reused afterwards. With
    ``data_root`` an existing build (e.g. from ``tools/data/make_synthmotion.py``) is read instead.

    Args:
        num_motions: motions in the build (all splits together; ~80/5/15 % train/val/test).
        seed: generation seed.
        split: 'train' | 'val' | 'test' | 'train_val' | 'all' (sets ``ann_file``).
        cache_dir: where generated builds are kept.
        data_root: read this finished build instead of generating.
        build_options: extra :func:`~.build.synthmotion_config` options (``num_triplets``,
            ``num_feedback``, ``class_distribution``, ``imbalance_ratio``, ``max_events``, ...).
        with_labels: attach ``gt_action_labels`` (class names) and ``gt_events`` to every sample.
        **kwargs: passed to :class:`HumanML3DDataset` (``pipeline``, ``with_joints``, ...).
    """

    METAINFO = dict(HumanML3DDataset.METAINFO, dataset_name='SynthMotion')

    def __init__(self,
                 num_motions: int = 1000,
                 seed: int = 0,
                 split: str = 'train',
                 cache_dir: Optional[str] = None,
                 data_root: Optional[str] = None,
                 build_options: Optional[dict] = None,
                 with_labels: bool = True,
                 ann_file: Optional[str] = None,
                 **kwargs) -> None:
        if split not in ('train', 'val', 'test', 'train_val', 'all'):
            raise ValueError(f"SynthMotionDataset: split must be one of train/val/test/train_val/all, got {split!r}")
        if data_root is None:
            data_root = str(ensure_synthmotion(num_motions, seed, cache_dir=cache_dir, **(build_options or {})))
        elif not osp.isfile(osp.join(data_root, 'manifest.json')):
            raise FileNotFoundError(f'SynthMotionDataset: {data_root} has no manifest.json (not a finished '
                                    'SynthMotion build; make one with tools/data/make_synthmotion.py)')
        self.with_labels = with_labels
        self.split = split
        super().__init__(data_root=data_root, ann_file=ann_file or f'{split}.txt', **kwargs)

    def load_data_list(self):
        data_list = super().load_data_list()
        if not self.with_labels:
            return data_list
        programs = {}
        with open(osp.join(self.data_root, 'synthmotion', 'programs.jsonl'), encoding='utf-8') as f:
            for line in f:
                rec = json.loads(line)
                programs[rec['id']] = rec
        for item in data_list:
            rec = programs[item['motion_id']]
            item['gt_action_labels'] = list(rec['labels'])
            item['gt_events'] = [dict(primitive=e['primitive'], start=e['start'], end=e['end'], count=e['count'])
                                 for e in rec['events']]
        return data_list
