"""Write motions and captions as a HumanML3D-format dataset folder.

Layout (what :class:`~motionkit.datasets.HumanML3DDataset` reads)::

    new_joints/<id>.npy       (T, 22, 3) float32 t2m22 joints (metres, Y up, 20 fps)
    new_joint_vecs/<id>.npy   (T - 1, 263) float32 HumanML3DFeatures(root_angular_velocity='wrapped')
                              .encode(joints) (the writer's representation)
    texts/<id>.txt            one caption per line: caption#word/POS word/POS ...#0.0#0.0
    train.txt val.txt test.txt all.txt    one id per line
    Mean.npy Std.npy          (263,) statistics of the train split
    manifest.jsonl            one JSON line per id: split, captions, frames, provenance and
                              ``feature_encoding`` (the representation's ``encoding_record()``)

Every file is written to a temporary name in the same folder and renamed into place, so an
interrupted build never leaves a half-written file; ids already in the manifest (with their three
files present) are skipped, so a build can be resumed. The split of an id is decided by the SHA-256 of
its *group* (e.g. the source clip, so windows of one clip share a split), deterministically.

``Std.npy`` follows HumanML3D's ``cal_mean_variance``: the standard deviation of each feature block
(root rotation velocity, root linear velocity, root height, ric, rotations, local velocities, foot
contacts) is replaced by the mean over the block, so that normalisation keeps the relative scale of
features within a block.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from motionkit.utils.io import atomic_save_npy, atomic_write_bytes  # noqa: F401 (re-exported)

from motionkit.motion.humanml3d import HumanML3DFeatures

from .pos_tagger import tag_caption

__all__ = ['HumanML3DWriter', 'caption_line', 'split_of', 'atomic_write_bytes', 'atomic_save_npy',
           'block_std']

#: (train, val, test) fractions: HumanML3D's split sizes are 23,384 / 1,460 / 4,384 ids (80 / 5 / 15 %).
DEFAULT_SPLIT_FRACTIONS = (0.80, 0.05, 0.15)


def caption_line(caption: str, start: float = 0.0, end: float = 0.0) -> str:
    """One HumanML3D caption line ``caption#word/POS ...#start#end`` (tokens from :func:`tag_caption`).

    Raises:
        ValueError: the caption is empty, holds ``#`` or a newline, or gives no token.
    """
    caption = ' '.join(caption.split())
    if not caption:
        raise ValueError('caption_line: empty caption')
    if '#' in caption:
        raise ValueError(f'caption_line: a caption cannot hold "#" (the field separator): {caption!r}')
    tokens = tag_caption(caption)
    if not tokens:
        raise ValueError(f'caption_line: caption {caption!r} has no word to tag')
    return f'{caption}#{" ".join(tokens)}#{float(start)}#{float(end)}'


def split_of(group: str, fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS) -> str:
    """``'train'`` / ``'val'`` / ``'test'`` for ``group`` from its SHA-256 (deterministic)."""
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise ValueError(f'split fractions must be 3 non-negative numbers summing to 1, got {fractions}')
    u = int(hashlib.sha256(group.encode('utf-8')).hexdigest()[:15], 16) / 16 ** 15
    if u < fractions[0]:
        return 'train'
    if u < fractions[0] + fractions[1]:
        return 'val'
    return 'test'


def block_std(features: np.ndarray, joints_num: int = 22) -> np.ndarray:
    """``(D,)`` std of ``(N, D)`` HumanML3D features, averaged within each block (``cal_mean_variance``)."""
    std = features.std(axis=0)
    j = joints_num
    bounds = [0, 1, 3, 4, 4 + (j - 1) * 3, 4 + (j - 1) * 9, 4 + (j - 1) * 9 + j * 3, std.shape[0]]
    out = std.copy()
    for a, b in zip(bounds[:-1], bounds[1:]):
        out[a:b] = std[a:b].mean()
    return out


class HumanML3DWriter:
    """Builds a HumanML3D-format folder one motion at a time (atomic, resumable).

    Args:
        out_dir: Dataset folder (created).
        representation: Feature encoder; default :class:`HumanML3DFeatures` (263-D, no retargeting)
            with ``root_angular_velocity='wrapped'``, so that real turning motion decodes back to
            itself (issue #17; the official encoding drifts after a turn past 180 degrees).
        split_fractions: (train, val, test) fractions for :func:`split_of`.

    Use::

        writer = HumanML3DWriter(out)
        if not writer.has(mid):
            writer.write(mid, joints, ['a person walks'], provenance={...}, group='cmu_02_01')
        writer.finalize()   # split files, Mean.npy / Std.npy
    """

    def __init__(self, out_dir: str | os.PathLike, representation: HumanML3DFeatures | None = None,
                 split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS) -> None:
        self.out_dir = Path(out_dir)
        self.rep = (representation if representation is not None
                    else HumanML3DFeatures(root_angular_velocity='wrapped'))
        self.encoding = self.rep.encoding_record() if hasattr(self.rep, 'encoding_record') else \
            dict(representation=type(self.rep).__name__)
        self.split_fractions = tuple(split_fractions)
        split_of('x', self.split_fractions)  # validate
        for sub in ('new_joints', 'new_joint_vecs', 'texts'):
            (self.out_dir / sub).mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.out_dir / 'manifest.jsonl'
        self.records: dict[str, dict] = {}
        if self.manifest_path.exists():
            with open(self.manifest_path, encoding='utf-8') as f:
                for line_no, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        # A line cut by an interruption: the id is simply rebuilt.
                        continue
                    if 'id' not in rec:
                        raise ValueError(f'{self.manifest_path}, line {line_no}: record without "id"')
                    # A record without the entry was written by the official encoding (before the
                    # option existed). Resuming with another encoding would mix two kinds of features
                    # in one dataset (and its Mean/Std).
                    found = rec.get('feature_encoding') or dict(representation='HumanML3DFeatures',
                                                                root_angular_velocity='official')
                    if found != self.encoding:
                        raise ValueError(
                            f'{self.manifest_path}, line {line_no}: motion {rec["id"]!r} was written with '
                            f'feature_encoding {found}, this build encodes with {self.encoding}; build into '
                            f'another folder or delete {self.out_dir}')
                    self.records[rec['id']] = rec

    def _paths(self, motion_id: str) -> tuple[Path, Path, Path]:
        return (self.out_dir / 'new_joints' / f'{motion_id}.npy',
                self.out_dir / 'new_joint_vecs' / f'{motion_id}.npy',
                self.out_dir / 'texts' / f'{motion_id}.txt')

    def has(self, motion_id: str) -> bool:
        """The id is in the manifest and its three files exist (so a resumed build skips it)."""
        return motion_id in self.records and all(p.exists() for p in self._paths(motion_id))

    def write(self, motion_id: str, joints: np.ndarray, captions: Iterable[str], provenance: dict[str, Any],
              group: str | None = None) -> dict:
        """Write one motion: joints, features, captions and a manifest record.

        Args:
            motion_id: File stem (letters, digits, ``_``, ``-``, ``.``).
            joints: ``(T, 22, 3)`` t2m22 joints in the canonical frame, ``T >= 2``.
            captions: One or more captions.
            provenance: JSON-serialisable facts (source file, sha256, fps, frames, ...).
            group: Split key (default ``motion_id``).

        Returns:
            The manifest record.
        """
        if not motion_id or any(not (c.isalnum() or c in '_-.') for c in motion_id):
            raise ValueError(f'motion id {motion_id!r} must be non-empty letters, digits, "_", "-", "."')
        joints = np.asarray(joints, dtype=np.float32)
        if joints.ndim != 3 or joints.shape[1:] != (22, 3) or joints.shape[0] < 2:
            raise ValueError(f'{motion_id}: joints must have shape (T>=2, 22, 3), got {joints.shape}')
        if not np.isfinite(joints).all():
            raise ValueError(f'{motion_id}: joints hold non-finite values')
        lines = [caption_line(c) for c in captions]
        if not lines:
            raise ValueError(f'{motion_id}: at least one caption is needed')
        features = np.asarray(self.rep.encode(joints.astype(np.float64)), dtype=np.float32)
        if not np.isfinite(features).all():
            raise ValueError(f'{motion_id}: encoded features hold non-finite values')
        p_joints, p_vecs, p_text = self._paths(motion_id)
        atomic_save_npy(p_joints, joints)
        atomic_save_npy(p_vecs, features)
        atomic_write_bytes(p_text, ('\n'.join(lines) + '\n').encode('utf-8'))
        group = motion_id if group is None else group
        record = dict(id=motion_id, split=split_of(group, self.split_fractions), group=group,
                      frames=int(joints.shape[0]), feature_frames=int(features.shape[0]),
                      captions=[ln.split('#', 1)[0] for ln in lines], feature_encoding=self.encoding,
                      **provenance)
        with open(self.manifest_path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(record, sort_keys=False) + '\n')
            f.flush()
            os.fsync(f.fileno())
        self.records[motion_id] = record
        return record

    def finalize(self) -> dict:
        """Write ``train/val/test/all.txt`` and ``Mean.npy`` / ``Std.npy`` (from the train split).

        Returns:
            ``dict(train=n, val=n, test=n, all=n)``.

        Raises:
            ValueError: no motion was written, or the train split is empty.
        """
        if not self.records:
            raise ValueError(f'{self.out_dir}: no motion written')
        splits: dict[str, list[str]] = {'train': [], 'val': [], 'test': []}
        for mid, rec in sorted(self.records.items()):
            splits[rec['split']].append(mid)
        splits['all'] = sorted(self.records)
        for name, ids in splits.items():
            atomic_write_bytes(self.out_dir / f'{name}.txt', ''.join(i + '\n' for i in ids).encode('utf-8'))
        if not splits['train']:
            raise ValueError(f'{self.out_dir}: the train split is empty, cannot compute Mean/Std')
        feats = np.concatenate([np.load(self._paths(i)[1]) for i in splits['train']], axis=0).astype(np.float64)
        mean = feats.mean(axis=0)
        std = block_std(feats, self.rep.num_joints)
        std = np.where(std > 1e-8, std, 1.0)  # a constant block (e.g. no contact at all) must not divide by 0
        atomic_save_npy(self.out_dir / 'Mean.npy', mean.astype(np.float32))
        atomic_save_npy(self.out_dir / 'Std.npy', std.astype(np.float32))
        return {k: len(v) for k, v in splits.items()}
