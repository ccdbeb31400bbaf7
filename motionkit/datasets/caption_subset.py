"""Caption subsets: restrict a text-motion dataset to listed (motion, caption line) pairs.

AToM (Han et al., CVPR 2025, table 5) evaluates text-to-motion per subtask on test sets filtered
from the test captions by their event structure (integrity / temporal / frequency). MotionPrefer's
``testsets`` stage (``tools/data/build_motion_prefer.py testsets --out DIR``) writes one file per
subtask, ``DIR/<subtask>.jsonl``, one caption line per record::

    {"id": "M001", "line": 0, "caption": "a person waves and claps.", "start": 0.0, "end": 0.0,
     "subtask": "integrity", "tokens": ["a/DET", ...]}

``id`` is the motion id, ``line`` the index of the caption among the non-empty lines of
``texts/<id>.txt`` (informative), ``caption`` / ``start`` / ``end`` identify the line (the
dataset matches on ``(id, caption, start, end)``; ``tokens`` and ``subtask`` are informative).

A dataset given ``filter_cfg=dict(caption_subset=PATH)`` (:class:`HumanML3DDataset` and its
subclasses) keeps one sample per listed caption line: the sample of the motion (or caption span)
that holds the line, with ``texts`` reduced to that one line and ``sample_id``
``'<sample_id>/<k>'`` (``k``: the line's position among that sample's captions), so
``SampleCaption(test_mode=True)`` scores exactly the listed caption and the test set has as many
samples as the file has pairs. Listed lines the dataset does not hold (a motion the loader's length
rules dropped, an id outside the split) are counted (``not_in_dataset``) and logged, not scored.
"""
from __future__ import annotations

import math
import os.path as osp
from collections import Counter
from typing import Dict, List, Sequence, Tuple

from mmengine.logging import print_log

from motionkit.utils.io import iter_jsonl

__all__ = ['read_caption_subset', 'restrict_to_caption_subset', 'filter_caption_subset']

_REQUIRED = ('id', 'caption')


def _key(motion_id: str, caption: str, start: float, end: float) -> Tuple[str, str, float, float]:
    def t(x):
        x = float(x)
        return 0.0 if math.isnan(x) else x  # HumanML3D: NaN times count as 0
    return str(motion_id), str(caption).strip(), t(start), t(end)


def read_caption_subset(path: str) -> List[dict]:
    """The records of a caption-subset file (JSON lines, see the module docstring).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not a JSON object, lacks ``id`` / ``caption``, has a
            non-numeric ``start`` / ``end``, or no record at all.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'caption subset file not found: {path} (write it with '
                                'tools/data/build_motion_prefer.py testsets --out DIR)')
    records = []
    for n, rec in iter_jsonl(path):
        missing = [k for k in _REQUIRED if k not in rec]
        if missing:
            raise ValueError(f'{path}, line {n}: record has no {missing} (needs id, caption; '
                             'optional start, end)')
        try:
            rec['_key'] = _key(rec['id'], rec['caption'], rec.get('start', 0.0), rec.get('end', 0.0))
        except (TypeError, ValueError):
            raise ValueError(f'{path}, line {n}: start / end must be numbers, got '
                             f'{rec.get("start")!r} / {rec.get("end")!r}') from None
        records.append(rec)
    if not records:
        raise ValueError(f'{path}: the caption subset holds no record')
    return records


def restrict_to_caption_subset(data_list: Sequence[dict], records: Sequence[dict]) -> Tuple[List[dict], Dict[str, int]]:
    """One entry per listed caption line that ``data_list`` holds.

    Args:
        data_list: dataset entries with ``motion_id``, ``sample_id`` and ``texts`` (list of
            ``dict(caption, tokens, start, end)``), as :class:`HumanML3DDataset` builds them.
        records: :func:`read_caption_subset` records.

    Returns:
        ``(entries, stats)``: the entries in dataset order, each with one caption; ``stats`` has
        ``listed`` (records), ``kept`` (entries) and ``not_in_dataset`` (records without a match).
        A line listed twice (a caption file with two identical lines) matches twice at most as
        often as the dataset holds it.
    """
    wanted = Counter(r['_key'] if '_key' in r else _key(r['id'], r['caption'], r.get('start', 0.0),
                                                          r.get('end', 0.0)) for r in records)
    left = Counter(wanted)
    out = []
    for entry in data_list:
        for k, text in enumerate(entry.get('texts') or []):
            key = _key(entry['motion_id'], text['caption'], text.get('start', 0.0), text.get('end', 0.0))
            if left[key] > 0:
                left[key] -= 1
                out.append(dict(entry, texts=[text], sample_id=f'{entry["sample_id"]}/{k}'))
    stats = dict(listed=len(records), kept=len(out), not_in_dataset=sum(left.values()))
    return out, stats


def filter_caption_subset(data_list: Sequence[dict], path: str, owner: str) -> List[dict]:
    """:func:`restrict_to_caption_subset` with the file at ``path``, logged; raises when nothing
    is left (the subset names no caption of this dataset: another split or data root?)."""
    entries, stats = restrict_to_caption_subset(data_list, read_caption_subset(path))
    print_log(f'{owner}: caption subset {path}: {stats["kept"]} of {stats["listed"]} listed caption lines '
              f'kept ({stats["not_in_dataset"]} not in this dataset: dropped by its length rules or '
              'outside its split)', logger='current')
    if not entries:
        raise ValueError(f'{owner}: no caption of caption subset {path} is in this dataset '
                         f'({stats["listed"]} listed); is it the same data root and split?')
    return entries
