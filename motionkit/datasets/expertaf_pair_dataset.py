"""``ExpertAFPairDataset``: the learner/expert pairs written by
:func:`motionkit.datagen.expertaf.build_expertaf_pairs` (``pairs.jsonl`` + ``windows/*.npy``).

Every item is a ``results`` dict for a video pipeline with two views, ``learner`` and ``expert``
(the prefixes :mod:`motionkit.datasets.transforms.video` uses)::

    learner_video_path, learner_frame_inds (W,), learner_total_frames, learner_video_fps,
    learner_pose (W, 17, 3) float32, learner_take_uid, learner_proficiency, learner_time
    expert_... (the same)
    commentary, summary        the learner's expert comment and its summary
    region_labels (6,) int64   0 needs improvement / 1 correct / 2 not mentioned (head, torso,
                               left_arm, right_arm, left_leg, right_leg)
    regions                    the regions the pair was made for; activity, pa_mpjpe_mm, rank, pair_id

so ``dict(type='LoadVideoFrames', views=('learner', 'expert'))`` decodes both windows.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from motionkit.registry import DATASETS
from motionkit.utils.io import iter_jsonl
from .video_reader import VideoReadError, probe_video

__all__ = ['ExpertAFPairDataset', 'read_expertaf_pairs']

_SIDE_KEYS = ('take_uid', 'video_path', 'fps', 'num_frames', 'start', 'length', 'pose', 'commentary',
              'summary', 'labels', 'proficiency', 'time')


def read_expertaf_pairs(data_root: str | os.PathLike, split: Optional[str] = None) -> List[dict]:
    """The records of ``<data_root>/pairs.jsonl`` (those of ``split`` when given), checked for the
    keys the dataset reads; a missing ``manifest.json`` (an unfinished build) is an error."""
    root = os.fspath(data_root)
    if not osp.isfile(osp.join(root, 'manifest.json')):
        raise FileNotFoundError(f'{root}: no manifest.json; not a finished ExpertAF pair build '
                                '(tools/data/build_expertaf_pairs.py)')
    path = osp.join(root, 'pairs.jsonl')
    out = []
    for n, rec in iter_jsonl(path):
        for key in ('id', 'split', 'activity', 'regions', 'learner', 'expert'):
            if key not in rec:
                raise KeyError(f'{path} line {n}: no {key!r} (keys: {sorted(rec)})')
        for side in ('learner', 'expert'):
            miss = [k for k in _SIDE_KEYS if k not in rec[side]]
            if miss:
                raise KeyError(f'{path} line {n}: {side} has no {miss}')
        if split is None or rec['split'] == split:
            out.append(rec)
    return out


@DATASETS.register_module()
class ExpertAFPairDataset(BaseDataset):
    """ExpertAF learner/expert pairs with their video windows and pose windows.

    Args:
        data_root: a finished pair build.
        split: ``'train'``, ``'val'`` or ``'test'`` (``None``: all).
        max_rank: keep pairs of rank ``< max_rank`` (``None``: all that were built).
        check_videos: at load, open every video once and check that it still has the frame count
            recorded at build time (one video frame per pose) and holds the window; the pose
            windows are always checked (shape ``(W, 17, 3)``, ``W`` = the window length).
        on_mismatch: ``'error'`` (raise, naming the file) or ``'skip'`` (drop the pair, counted in
            ``num_skipped``).
        pipeline: transforms applied to each item.
    """

    METAINFO = dict(regions=('head', 'torso', 'left_arm', 'right_arm', 'left_leg', 'right_leg'),
                    label_codes=dict(needs_improvement=0, correct=1, not_mentioned=2))

    def __init__(self, data_root: str, split: Optional[str] = 'train', max_rank: Optional[int] = None,
                 check_videos: bool = True, on_mismatch: str = 'error', pipeline: Sequence = (),
                 **kwargs) -> None:
        if on_mismatch not in ('error', 'skip'):
            raise ValueError(f"on_mismatch must be 'error' or 'skip', got {on_mismatch!r}")
        self.split, self.max_rank = split, max_rank
        self.check_videos, self.on_mismatch = check_videos, on_mismatch
        self.num_skipped = 0
        super().__init__(data_root=data_root, pipeline=list(pipeline), **kwargs)

    def _problem(self, rec: dict, side: str, probes: dict) -> Optional[str]:
        s = rec[side]
        pose_path = osp.join(self.data_root, s['pose'])
        try:
            pose = np.load(pose_path, mmap_mode='r', allow_pickle=False)
        except FileNotFoundError:
            return f'{rec["id"]}: {side} pose window not found: {pose_path}'
        if pose.shape != (s['length'], 17, 3):
            return (f'{rec["id"]}: {side} pose window {pose_path} has shape {pose.shape}, expected '
                    f'({s["length"]}, 17, 3)')
        if not self.check_videos:
            return None
        path = s['video_path']
        if path not in probes:
            try:
                probes[path] = probe_video(path).num_frames
            except (FileNotFoundError, VideoReadError) as e:
                probes[path] = f'{e}'
        got = probes[path]
        if isinstance(got, str):
            return f'{rec["id"]}: {side} video unreadable: {got}'
        if got != s['num_frames']:
            return (f'{rec["id"]}: {side} video {path} has {got} frames, but its pose track had '
                    f'{s["num_frames"]} poses at build time')
        if s['start'] < 0 or s['start'] + s['length'] > got:
            return (f'{rec["id"]}: {side} window {s["start"]}..{s["start"] + s["length"] - 1} is outside '
                    f'{path} ({got} frames)')
        return None

    def load_data_list(self) -> List[dict]:
        out, probes = [], {}
        for rec in read_expertaf_pairs(self.data_root, self.split):
            if self.max_rank is not None and rec['rank'] >= self.max_rank:
                continue
            problem = self._problem(rec, 'learner', probes) or self._problem(rec, 'expert', probes)
            if problem is not None:
                if self.on_mismatch == 'error':
                    raise ValueError(problem)
                self.num_skipped += 1
                continue
            out.append(rec)
        return out

    def get_data_info(self, idx: int) -> dict:
        rec = super().get_data_info(idx)
        res = dict(pair_id=rec['id'], split=rec['split'], activity=rec['activity'], regions=list(rec['regions']),
                   rank=rec['rank'], pa_mpjpe_mm=rec['pa_mpjpe_mm'], commentary=rec['learner']['commentary'],
                   summary=rec['learner']['summary'],
                   region_labels=np.asarray(rec['learner']['labels'], dtype=np.int64), sample_idx=idx)
        for side in ('learner', 'expert'):
            s = rec[side]
            res[f'{side}_video_path'] = s['video_path']
            res[f'{side}_frame_inds'] = np.arange(s['start'], s['start'] + s['length'])
            res[f'{side}_total_frames'] = s['num_frames']
            res[f'{side}_video_fps'] = s['fps']
            res[f'{side}_pose'] = np.load(osp.join(self.data_root, s['pose']), allow_pickle=False)
            for key in ('take_uid', 'proficiency', 'time'):
                res[f'{side}_{key}'] = s[key]
        res['expert_commentary'] = rec['expert']['commentary']
        return res
