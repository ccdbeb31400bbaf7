"""``SynthMotionSegmentDataset``: fixed-length windows cut from SynthMotion motions inside their
known event spans, each labelled by the event's primitive (the training data of a segment
classifier that finds the events of generated motions, e.g. for AToM's offline oracle scorer)."""
from __future__ import annotations

import json
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from motionkit.registry import DATASETS
from .build import ensure_synthmotion
from .primitives import PRIMITIVES

__all__ = ['SynthMotionSegmentDataset', 'event_windows']


def event_windows(start: int, end: int, num_frames: int, window: int, stride: int,
                  min_overlap: float = 0.75) -> List[int]:
    """First frames of the windows of ``window`` frames labelled by the event ``[start, end)``.

    A window belongs to the event when at least ``min_overlap * window`` of its frames lie in the
    event (so windows that reach a little into a neighbour, as the sliding windows of a detector
    do, are seen in training). Starts step by ``stride`` from the earliest such window and stay in
    ``[0, num_frames - window]``. An event shorter than ``min_overlap * window`` gets one window
    centred on it. With ``num_frames < window`` the only start is 0 (the window is padded).

    Example:
        >>> event_windows(10, 50, 100, 32, 4)
        [2, 6, 10, 14, 18, 22, 26]
    """
    if window < 1 or stride < 1:
        raise ValueError(f'window and stride must be >= 1, got {window} and {stride}')
    if not 0 <= start < end <= num_frames:
        raise ValueError(f'event [{start}, {end}) outside the motion of {num_frames} frames')
    last = max(num_frames - window, 0)
    need = int(np.ceil(min_overlap * window))
    if end - start < need:
        centre = (start + end) // 2 - window // 2
        return [int(min(max(centre, 0), last))]
    lo = max(start - (window - need), 0)
    hi = min(end - need, last)
    if hi < lo:
        return [int(min(max(lo, 0), last))]
    return list(range(int(lo), int(hi) + 1, int(stride)))


@DATASETS.register_module()
class SynthMotionSegmentDataset(BaseDataset):
    """Windows of ``window`` frames of SynthMotion joints, one class per window (its primitive).

    Each item (before the pipeline): ``joints`` ``(window, 22, 3)`` float32 (edge-padded when the
    motion is shorter), ``label`` (class index in ``classes``), ``primitive``, ``motion_id``,
    ``start_frame``, ``sample_id`` (``<motion_id>_<start>``), ``length``. Joints of the split are
    read once and kept in memory.

    Args:
        num_motions, seed, cache_dir, build_options: the build, as :class:`SynthMotionDataset`
            (generated and cached on first use) unless ``data_root`` names a finished build.
        data_root: an existing SynthMotion build.
        split: ``'train' | 'val' | 'test' | 'train_val' | 'all'``.
        window: frames per window (20 fps).
        stride: frames between consecutive windows of one event.
        min_overlap: fraction of a window that must lie in the event (see :func:`event_windows`).
        classes: class names in index order; default every primitive (``PRIMITIVES`` order, the
            order of the build's ``classes.json``).
        pipeline: transforms (e.g. ``PackMotionInputs(input_key='joints', gt_keys=())``).
    """

    METAINFO = dict(dataset_name='SynthMotionSegments', skeleton='t2m22', fps=20)

    def __init__(self,
                 num_motions: int = 1000,
                 seed: int = 0,
                 split: str = 'train',
                 window: int = 32,
                 stride: int = 4,
                 min_overlap: float = 0.75,
                 classes: Optional[Sequence[str]] = None,
                 cache_dir: Optional[str] = None,
                 data_root: Optional[str] = None,
                 build_options: Optional[dict] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if split not in ('train', 'val', 'test', 'train_val', 'all'):
            raise ValueError(f'SynthMotionSegmentDataset: split must be one of train/val/test/'
                             f'train_val/all, got {split!r}')
        if not 0 < min_overlap <= 1:
            raise ValueError(f'SynthMotionSegmentDataset: min_overlap must be in (0, 1], got '
                             f'{min_overlap}')
        if data_root is None:
            data_root = str(ensure_synthmotion(num_motions, seed, cache_dir=cache_dir,
                                               **(build_options or {})))
        elif not osp.isfile(osp.join(data_root, 'manifest.json')):
            raise FileNotFoundError(f'SynthMotionSegmentDataset: {data_root} has no manifest.json '
                                    '(not a finished SynthMotion build)')
        self.split, self.window, self.stride = split, int(window), int(stride)
        self.min_overlap = float(min_overlap)
        self.classes = list(classes) if classes is not None else list(PRIMITIVES)
        self._joints = {}
        super().__init__(data_root=data_root, ann_file=f'{split}.txt', pipeline=list(pipeline),
                         test_mode=test_mode, metainfo=dict(classes=self.classes), **kwargs)

    def load_data_list(self) -> List[dict]:
        ids_path = osp.join(self.data_root, f'{self.split}.txt')
        prog_path = osp.join(self.data_root, 'synthmotion', 'programs.jsonl')
        for p in (ids_path, prog_path):
            if not osp.isfile(p):
                raise FileNotFoundError(f'SynthMotionSegmentDataset: {p} not found')
        with open(ids_path, encoding='utf-8') as f:
            ids = [line.strip() for line in f if line.strip()]
        programs = {}
        with open(prog_path, encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    raise ValueError(f'{prog_path}, line {n}: not JSON ({e})') from None
                programs[rec['id']] = rec
        index = {c: k for k, c in enumerate(self.classes)}
        out = []
        for mid in ids:
            if mid not in programs:
                raise KeyError(f'{prog_path}: no program for motion {mid!r} of {ids_path}')
            path = osp.join(self.data_root, 'new_joints', f'{mid}.npy')
            joints = np.load(path).astype(np.float32)
            if joints.ndim != 3 or joints.shape[1:] != (22, 3):
                raise ValueError(f'{path}: expected (T, 22, 3) joints, got {joints.shape}')
            self._joints[mid] = joints
            for k, ev in enumerate(programs[mid]['events']):
                name = ev['primitive']
                if name not in index:
                    continue  # a class left out of ``classes``
                for s in event_windows(int(ev['start']), int(ev['end']), len(joints), self.window,
                                       self.stride, self.min_overlap):
                    out.append(dict(motion_id=mid, start_frame=s, label=index[name], primitive=name,
                                    event_index=k, sample_id=f'{mid}_{s}', length=self.window))
        if not out:
            raise ValueError(f'SynthMotionSegmentDataset: no windows in {self.data_root} '
                             f'split {self.split!r}')
        return out

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        joints = self._joints[info['motion_id']]
        s = info['start_frame']
        win = joints[s:s + self.window]
        if len(win) < self.window:  # a motion shorter than the window: repeat its last frame
            win = np.concatenate([win, np.repeat(win[-1:], self.window - len(win), 0)], 0)
        info['joints'] = win.copy()
        return info
