"""``NTUSkeletonDataset``: NTU RGB+D (60) and NTU RGB+D 120 samples as ``t2m22`` motions, selected
by the official benchmark splits (cross-subject / cross-view for NTU-60, cross-subject / cross-setup
for NTU-120), for the CoAMD linear probe (sec. 4.2) and any recognizer that reads ``t2m22`` joints.

The index is built from the file names alone (``SsssCcccPpppRrrrAaaa``: split, class), so listing
the 114k files of NTU-120 does not parse them; each sample is read and converted when it is fetched
(:func:`~.importers.ntu.ntu_to_t2m22`: one body, missing frames, 20 fps, Y up, metres, canonical
frame).
"""
from __future__ import annotations

import os
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset

from motionkit.registry import DATASETS
from .importers.ntu import (NTU_BODY_POLICIES, NTU_FPS, ntu_benchmark_version, ntu_split, ntu_to_t2m22,
                            parse_ntu_name)

__all__ = ['NTUSkeletonDataset', 'read_ntu_exclude_list']


def _sample_name(fields: dict) -> str:
    """``SsssCcccPpppRrrrAaaa`` from the fields of :func:`parse_ntu_name`."""
    return ('S{setup:03d}C{camera:03d}P{performer:03d}R{replication:03d}A{action:03d}'.format(**fields))


def read_ntu_exclude_list(path: str) -> set:
    """Sample names (``S001C002P005R002A008``) of an exclusion list such as NTU's
    ``NTU_RGBD_samples_with_missing_skeletons.txt``; lines that are not sample names (its header,
    blank lines) are skipped.

    Raises:
        FileNotFoundError: naming the file.
        ValueError: naming the file when it lists no sample name.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'NTU exclusion list not found: {path}')
    names = set()
    with open(path, encoding='utf-8') as f:
        for line in f:
            fields = parse_ntu_name(line.strip())
            if fields is not None:
                names.add(_sample_name(fields))
    if not names:
        raise ValueError(f'{path}: no NTU sample name (SsssCcccPpppRrrrAaaa) in the exclusion list')
    return names


@DATASETS.register_module()
class NTUSkeletonDataset(BaseDataset):
    """NTU skeleton samples of one benchmark split as ``t2m22`` motions.

    Each item (before the pipeline) is a dict with ``joints`` ``(T, 22, 3)`` float32 (metres, Y up,
    20 fps, canonical frame), ``label`` (0-based index into ``actions``), ``action`` (1-based NTU
    class), ``motion_id`` (file stem), ``setup``, ``camera``, ``performer``, ``replication``,
    ``length``, ``fps``, ``skeleton`` and ``ntu_info`` (body kept, frames cut / interpolated).
    Add ``dict(type='PackMotionInputs', input_key='joints', gt_keys=())`` to the pipeline to get
    ``inputs`` + a data sample with ``gt_label``.

    Policies (see :mod:`.importers.ntu`): one body per sample (``body``; default the one that moves
    most among the bodies tracked for at least half as long as the longest track); untracked frames
    at the ends are cut and interior gaps interpolated; a sample with no tracked body raises a
    ``ValueError`` naming the file when fetched, so pass NTU's missing-skeleton list as
    ``exclude_file`` (the official preprocessing leaves those 302 / 535 samples out).

    Args:
        data_root: folder of NTU ``.skeleton`` files (``nturgb+d_skeletons/``) or of the ``.npz``
            files ``tools/data/import_ntu.py`` writes (not searched recursively).
        benchmark: ``'ntu60_xsub'``, ``'ntu60_xview'``, ``'ntu120_xsub'`` or ``'ntu120_xset'``.
        split: ``'train'``, ``'test'`` or ``'all'`` (both).
        actions: 1-based NTU action ids to keep, e.g. ``range(1, 61)``; labels are re-indexed
            ``0..K-1`` in ascending action order. Default: every action of the benchmark's dataset
            (1-60 for ``ntu60_*``, whose samples are also restricted to setups 1-17, or 1-120).
        body: body policy, one of ``'most_motion'``, ``'longest'``, ``'first'``.
        fps: output frame rate.
        canonicalize: put each motion in HumanML3D's canonical frame.
        exclude_file: a list of sample names to leave out (NTU's missing-skeleton list).
        suffix: ``'.skeleton'`` or ``'.npz'``; default: whichever the folder holds.
    """

    METAINFO = dict(dataset_name='NTU RGB+D', skeleton='t2m22', num_joints=22, fps=20)

    def __init__(self,
                 data_root: str,
                 benchmark: str = 'ntu60_xsub',
                 split: str = 'train',
                 actions: Optional[Sequence[int]] = None,
                 body: str = 'most_motion',
                 fps: float = 20.0,
                 canonicalize: bool = True,
                 exclude_file: Optional[str] = None,
                 suffix: Optional[str] = None,
                 metainfo: Optional[dict] = None,
                 pipeline: Optional[list] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if not data_root or not osp.isdir(data_root):
            raise FileNotFoundError(f'NTUSkeletonDataset: data_root {data_root!r} is not a directory')
        version = ntu_benchmark_version(benchmark)  # raises for an unknown benchmark
        if split not in ('train', 'test', 'all'):
            raise ValueError(f"NTUSkeletonDataset: split must be 'train', 'test' or 'all', got {split!r}")
        if body not in NTU_BODY_POLICIES:
            raise ValueError(f'NTUSkeletonDataset: body must be one of {NTU_BODY_POLICIES}, got {body!r}')
        if suffix not in (None, '.skeleton', '.npz'):
            raise ValueError(f"NTUSkeletonDataset: suffix must be '.skeleton', '.npz' or None, got {suffix!r}")
        if actions is None:
            actions = range(1, version + 1)
        actions = sorted({int(a) for a in actions})
        if not actions:
            raise ValueError('NTUSkeletonDataset: actions is empty')
        outside = [a for a in actions if not 1 <= a <= version]
        if outside:
            raise ValueError(f'NTUSkeletonDataset: actions must be ids in 1..{version} for {benchmark}, '
                             f'got {outside}')
        self.benchmark = benchmark
        self.split = split
        self.actions = actions
        self.body = body
        self.fps = float(fps)
        self.canonicalize = bool(canonicalize)
        self.exclude = read_ntu_exclude_list(exclude_file) if exclude_file else set()
        self.suffix = suffix
        meta = dict(metainfo or {})
        meta.update(fps=self.fps, source_fps=NTU_FPS, actions=list(actions),
                    classes=[f'A{a:03d}' for a in actions])
        super().__init__(ann_file='', metainfo=meta, data_root=data_root, pipeline=pipeline or [],
                         test_mode=test_mode, **kwargs)
        # string entries after BaseDataset.__init__, whose metainfo parser reads strings as file names
        self._metainfo.update(benchmark=benchmark, split=split, body_policy=body)

    def _files(self) -> List[str]:
        names = sorted(os.listdir(self.data_root))
        found = {s: [n for n in names if n.endswith(s)] for s in ('.skeleton', '.npz')}
        suffix = self.suffix
        if suffix is None:
            if found['.skeleton'] and found['.npz']:
                raise ValueError(f'NTUSkeletonDataset: {self.data_root} holds both .skeleton and .npz files; '
                                 "choose one with suffix='.skeleton' or suffix='.npz'")
            suffix = '.skeleton' if found['.skeleton'] else '.npz'
        if not found[suffix]:
            raise FileNotFoundError(f'NTUSkeletonDataset: no {suffix} file in {self.data_root}')
        return found[suffix]

    def load_data_list(self) -> List[dict]:
        index = {a: k for k, a in enumerate(self.actions)}
        data_list = []
        for name in self._files():
            fields = parse_ntu_name(name)
            if fields is None:
                raise ValueError(f'NTUSkeletonDataset: {osp.join(self.data_root, name)}: not an NTU sample '
                                 'name (expected SsssCcccPpppRrrrAaaa)')
            stem = name[:-len('.skeleton')] if name.endswith('.skeleton') else name[:-len('.npz')]
            if _sample_name(fields) in self.exclude:
                continue
            part = ntu_split(dict(fields, path=osp.join(self.data_root, name)), self.benchmark)
            if part is None or (self.split != 'all' and part != self.split):
                continue
            if fields['action'] not in index:
                continue
            data_list.append(dict(path=osp.join(self.data_root, name), motion_id=stem, split=part,
                                  label=index[fields['action']], action=fields['action'], setup=fields['setup'],
                                  camera=fields['camera'], performer=fields['performer'],
                                  replication=fields['replication']))
        if not data_list:
            raise ValueError(f'NTUSkeletonDataset: no sample of {self.benchmark} / {self.split} with actions '
                             f'{self.actions[0]}..{self.actions[-1]} in {self.data_root}')
        return data_list

    def prepare_data(self, idx: int) -> dict:
        info = self.get_data_info(idx)
        motion = ntu_to_t2m22(info['path'], body=self.body, fps=self.fps, canonicalize=self.canonicalize)
        results = dict(info, joints=motion['joints'], length=int(len(motion['joints'])), fps=self.fps,
                       skeleton='t2m22', dataset_name=self.metainfo['dataset_name'], ntu_info=motion['info'])
        return self.pipeline(results)
