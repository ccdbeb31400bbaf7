"""Bandai Namco Research Motiondataset clips with their *content* class (walk, punch, wave-left-hand,
...), as ``t2m22`` motions: the real-mocap probe set of the CoAMD linear probe (issue #19).

``labels.tsv`` (``shared/data/bandai_namco_motion_samples``, see its README section 3) lists one BVH
per row with its ``content`` and ``style``. Every clip is retargeted with the ``bandai`` rig map
(:func:`.retarget.retarget_bvh`: 20 fps, metres, Y up, canonical frame). Only content classes with
at least ``min_clips`` clips are kept, so that a leave-one-out probe always has a training clip of
the held-out clip's class.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from .bvh import read_bvh
from .retarget import retarget_bvh

__all__ = ['load_bandai_content_clips']


def load_bandai_content_clips(root: str | os.PathLike, min_clips: int = 2, fps: float = 20.0,
                              canonicalize: bool = True) -> dict:
    """Read the Bandai Namco clips of every content class with at least ``min_clips`` clips.

    Args:
        root: folder holding ``labels.tsv`` and the ``dataset-1/``, ``dataset-2/`` BVH files.
        min_clips: keep content classes with at least this many clips.
        fps: output frame rate.
        canonicalize: put each clip in HumanML3D's canonical frame.

    Returns:
        dict with ``motions`` (list of ``(T, 22, 3)`` float32), ``labels`` ``(N,)`` int64 (index into
        ``classes``), ``classes`` (content names, sorted), ``files`` (``labels.tsv`` paths) and
        ``styles``; rows in ``labels.tsv`` order.

    Raises:
        FileNotFoundError: naming ``labels.tsv`` or a BVH it lists that is missing.
        ValueError: naming ``labels.tsv`` and the line for a missing column or empty value, or when
            fewer than two classes have ``min_clips`` clips.
    """
    root = Path(root)
    index = root / 'labels.tsv'
    if not index.is_file():
        raise FileNotFoundError(f'Bandai Namco labels not found: {index}')
    if int(min_clips) < 1:
        raise ValueError(f'min_clips must be >= 1, got {min_clips}')
    with open(index, encoding='utf-8', newline='') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    for line, row in enumerate(rows, 2):
        for col in ('file', 'content'):
            if not (row.get(col) or '').strip():
                raise ValueError(f'{index}, line {line}: missing value in column {col!r}')
    counts: dict[str, int] = {}
    for row in rows:
        counts[row['content'].strip()] = counts.get(row['content'].strip(), 0) + 1
    classes = sorted(c for c, n in counts.items() if n >= int(min_clips))
    if len(classes) < 2:
        raise ValueError(f'{index}: {len(classes)} content class(es) have >= {min_clips} clips; a probe '
                         'needs at least 2')
    label_of = {c: k for k, c in enumerate(classes)}
    motions, labels, files, styles = [], [], [], []
    for line, row in enumerate(rows, 2):
        content = row['content'].strip()
        if content not in label_of:
            continue
        path = root / row['file'].strip()
        if not path.is_file():
            raise FileNotFoundError(f'{index}, line {line}: BVH not found: {path}')
        result = retarget_bvh(read_bvh(path), 'bandai', fps=fps, canonicalize=canonicalize)
        motions.append(result.joints)
        labels.append(label_of[content])
        files.append(row['file'].strip())
        styles.append((row.get('style') or '').strip())
    return dict(motions=motions, labels=np.asarray(labels, dtype=np.int64), classes=classes, files=files,
                styles=styles)
