"""``COCO17PoseDataset``: single 3D body poses in the COCO-17 keypoint layout, sampled from the
joint files of HumanML3D-layout motion folders, to train and test a pose tokenizer (PCT, Geng et
al., CVPR 2023; the pose tokens ExpertAF feeds to its language model).

A PCT tokenizer sees one pose at a time, so a motion folder is turned into poses by keeping every
``frame_step``-th frame of each motion of a split (consecutive frames at 20 fps are nearly
identical and would only inflate the epoch). The ``t2m22`` joints (``new_joints/<id>.npy``,
``(T, 22, 3)`` metres) are mapped to COCO-17 with :func:`~.importers.coco.t2m22_to_coco17` and made
root-relative by subtracting the pelvis, the mid-point of the two hips (COCO-17 joints 11 and 12),
the root :class:`~motionkit.models.tokenizers.PoseTokenizer` uses.
"""
from __future__ import annotations

import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import BaseDataset

from motionkit.registry import DATASETS

__all__ = ['COCO17PoseDataset']

# COCO-17 left / right hip: their mid-point is the pelvis (PCT's and PoseTokenizer's root)
COCO17_HIPS = (11, 12)


@DATASETS.register_module()
class COCO17PoseDataset(BaseDataset):
    """Root-relative COCO-17 3D poses sampled from HumanML3D-layout folders (no pipeline).

    Every item is ``dict(inputs=Tensor (17, 3), data_samples=MotionDataSample)`` with
    ``gt_joints`` ``(1, 17, 3)`` (the same pose as a one-frame motion, as
    :class:`~motionkit.evaluation.metrics.JointErrorMetric` and ``PoseTokenizer.predict`` use) and
    metainfo ``motion_id``, ``frame``, ``source``, ``sample_idx``. Batch items with mmengine's
    ``default_collate`` (``collate_fn=dict(type='default_collate')``): ``inputs`` becomes the
    ``(B, 17, 3)`` tensor ``PoseTokenizer.forward`` takes.

    Args:
        data_roots: HumanML3D-layout folders with ``new_joints/<id>.npy`` ``(T, 22, 3)`` ``t2m22``
            joints and a ``<split>.txt`` file (``[]`` when only ``synthmotion`` /
            ``cmu_bandai_root`` are used).
        split: Split name: ids are read from ``<root>/<split>.txt`` of every source.
        frame_step: Keep frames ``0, k, 2k, ...`` of each motion.
        synthmotion: Also take poses from a SynthMotion build, ``dict(num_motions=..., seed=...,
            [cache_dir=..., build_options=...])``; generated on first use and cached (as
            :class:`~.synthmotion.SynthMotionDataset` does).
        cmu_bandai_root: Also take poses from this CMU+Bandai folder (built with
            ``build_cmu_bandai`` / ``tools/data/import_bvh.py``); it must exist.
        root_relative: Subtract the mid-hip pelvis from every pose (``False`` keeps the global
            positions).
        max_poses_per_source: Keep at most this many poses of each source (evenly spaced; for
            quick runs).
    """

    METAINFO = dict(dataset_name='COCO17Poses', skeleton='coco17', num_joints=17,
                    source_skeleton='t2m22')

    def __init__(self,
                 data_roots: Sequence[str],
                 split: str = 'train',
                 frame_step: int = 5,
                 synthmotion: Optional[dict] = None,
                 cmu_bandai_root: Optional[str] = None,
                 root_relative: bool = True,
                 max_poses_per_source: Optional[int] = None,
                 pipeline: Optional[list] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if isinstance(data_roots, str):
            data_roots = [data_roots]
        if int(frame_step) < 1:
            raise ValueError(f'COCO17PoseDataset: frame_step must be >= 1, got {frame_step}')
        if not split or '/' in split:
            raise ValueError(f'COCO17PoseDataset: split must be a split name such as "train", got '
                             f'{split!r}')
        sources = [(str(r), 'folder') for r in data_roots]
        if synthmotion is not None:
            from motionkit.synthmotion.build import ensure_synthmotion
            sm = dict(synthmotion)
            unknown = set(sm) - {'num_motions', 'seed', 'cache_dir', 'build_options'}
            if unknown or 'num_motions' not in sm:
                raise KeyError(f'COCO17PoseDataset: synthmotion must be dict(num_motions=..., '
                               f'seed=..., [cache_dir, build_options]), got keys {sorted(sm)}')
            root = ensure_synthmotion(int(sm['num_motions']), int(sm.get('seed', 0)),
                                      cache_dir=sm.get('cache_dir'),
                                      **(sm.get('build_options') or {}))
            sources.append((str(root), 'SynthMotion'))
        if cmu_bandai_root is not None:
            if not osp.isdir(osp.join(cmu_bandai_root, 'new_joints')):
                raise FileNotFoundError(
                    f'COCO17PoseDataset: cmu_bandai_root {cmu_bandai_root!r} has no new_joints/ '
                    'folder; build the CMU+Bandai set first with motionkit.datasets.importers.'
                    'build_cmu_bandai(out_dir, shared_root=...) or remove cmu_bandai_root')
            sources.append((str(cmu_bandai_root), 'CMU+Bandai'))
        if not sources:
            raise ValueError('COCO17PoseDataset: no source: give data_roots, synthmotion or '
                             'cmu_bandai_root')
        self.sources = sources
        self.split = split
        self.frame_step = int(frame_step)
        self.root_relative = bool(root_relative)
        self.max_poses_per_source = max_poses_per_source
        # the poses are read into data_list; the pipeline is not used (see prepare_data)
        super().__init__(ann_file='', data_root='', pipeline=pipeline or [], test_mode=test_mode,
                         **kwargs)

    # ------------------------------------------------------------------ index
    def _source_poses(self, root: str, name: str) -> List[dict]:
        from .importers.coco import t2m22_to_coco17
        split_file = osp.join(root, f'{self.split}.txt')
        if not osp.isfile(split_file):
            raise FileNotFoundError(f'COCO17PoseDataset: split file {split_file} not found '
                                    f'({name} source)')
        with open(split_file, encoding='utf-8') as f:
            ids = list(dict.fromkeys(line.strip() for line in f if line.strip()))
        items = []
        for motion_id in ids:
            path = osp.join(root, 'new_joints', motion_id + '.npy')
            if not osp.isfile(path):
                raise FileNotFoundError(f'COCO17PoseDataset: {path} not found (id {motion_id!r} '
                                        f'of {split_file})')
            joints = np.load(path)
            if joints.ndim != 3 or joints.shape[1:] != (22, 3):
                raise ValueError(f'COCO17PoseDataset: {path}: expected t2m22 joints (T, 22, 3), '
                                 f'got shape {joints.shape}')
            frames = np.arange(0, len(joints), self.frame_step)
            poses = t2m22_to_coco17(joints[frames])  # (F, 17, 3)
            if not np.isfinite(poses).all():
                raise ValueError(f'COCO17PoseDataset: {path}: NaN or inf joints')
            if self.root_relative:
                poses = poses - poses[:, list(COCO17_HIPS)].mean(1, keepdims=True)
            poses = poses.astype(np.float32)
            for frame, pose in zip(frames.tolist(), poses):
                items.append(dict(motion_id=motion_id, frame=frame, source=name, pose=pose))
        if not items:
            raise ValueError(f'COCO17PoseDataset: {split_file} gave no pose')
        cap = self.max_poses_per_source
        if cap is not None and len(items) > cap:
            keep = np.linspace(0, len(items) - 1, int(cap)).round().astype(int)
            items = [items[i] for i in keep]
        return items

    def load_data_list(self) -> List[dict]:
        data_list = []
        for root, name in self.sources:
            data_list.extend(self._source_poses(root, name))
        return data_list

    # ------------------------------------------------------------------ items
    def prepare_data(self, idx: int) -> dict:
        """``dict(inputs=(17, 3) float tensor, data_samples=MotionDataSample)``."""
        from motionkit.structures import MotionDataSample
        info = self.get_data_info(idx)
        pose = torch.from_numpy(np.asarray(info['pose'], dtype=np.float32).copy())
        sample = MotionDataSample(metainfo=dict(
            motion_id=info['motion_id'], frame=info['frame'], source=info['source'],
            sample_idx=info['sample_idx'], dataset_name=self.metainfo['dataset_name']))
        sample.gt_joints = pose[None].clone()
        return self.pipeline(dict(inputs=pose, data_samples=sample))
