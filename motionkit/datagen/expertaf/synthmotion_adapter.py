"""SynthMotion's learner/expert pairs as an Ego-Exo4D-style layout, so that they go through the same
ExpertAF builder as real data.

A SynthMotion build with ``render_feedback=True`` holds, per pair ``F<k>``, the learner's (``novice``)
and the expert's motion as COCO-17 pose tracks (``synthmotion/feedback/<fid>_<role>_coco17.npy``,
20 fps) and rendered videos with one frame per pose (``<fid>_<role>.mp4``), plus the record in
``synthmotion/feedback.jsonl`` (activity, errors, skill levels, commentary, region labels).
:func:`write_synthmotion_egoexo_layout` writes, per split, the two annotation files of
:mod:`.egoexo_layout` with two takes per pair:

* ``<fid>_learner``: the learner's skill level (``novice`` / ``early_expert`` /
  ``intermediate_expert``, from the error severity); ``tips_for_improvement``: one comment per
  error (SynthMotion's own comment text); ``good_executions``: SynthMotion's praise comment, if
  any.
* ``<fid>_expert``: ``late_expert``; ``good_executions``: one comment per learner error, written
  here from SynthMotion's ground truth (the expert does the erroneous parameter right), naming the
  regions of that error: "Good form of the left leg and the right leg." (SynthMotion's experts have
  no commentary of their own.)

Every comment is stamped at the middle of the motion (SynthMotion's activities are one primitive
that spans the clip). Paths in the annotation files are relative to the output folder, which is the
layout root to build from; nothing is copied.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, List

import numpy as np

from motionkit.utils.io import atomic_write_bytes

__all__ = ['write_synthmotion_egoexo_layout', 'SYNTHMOTION_FPS']

SYNTHMOTION_FPS = 20.0


def _region_words(regions: List[str]) -> str:
    words = [r.replace('_', ' ') for r in regions]
    return ' and '.join(f'the {w}' for w in words)


def _comment_of_error(record: dict, error: dict) -> str:
    """The sentence of ``record['commentary']`` that SynthMotion wrote for ``error``."""
    from motionkit.synthmotion.learner_expert import ACTIVITIES
    options = ACTIVITIES[record['activity']]['errors'][error['name']]['comments']
    for s in options:
        if s in record['commentary']:
            return s
    raise ValueError(f'feedback pair {record["id"]}: none of the comments of error {error["name"]!r} is in '
                     f'its commentary {record["commentary"]!r}')


def write_synthmotion_egoexo_layout(synth_root: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``out_dir/annotations/proficiency_demonstration_<split>.json`` (with
    ``proficiency_score``, ``pose_path`` and ``fps`` in every take) for the feedback pairs of the
    SynthMotion build ``synth_root``. Returns ``out_dir/annotations``.

    Raises:
        FileNotFoundError: no ``manifest.json`` / ``synthmotion/feedback.jsonl`` (not a finished build).
        ValueError: a pair without rendered videos (build with ``render_feedback=True``).
    """
    from motionkit.synthmotion.learner_expert import ACTIVITIES
    root = Path(synth_root)
    for need in ('manifest.json', 'synthmotion/feedback.jsonl'):
        if not (root / need).is_file():
            raise FileNotFoundError(f'{root}: no {need}; is it a finished SynthMotion build?')
    out = Path(out_dir)
    ann = out / 'annotations'
    ann.mkdir(parents=True, exist_ok=True)
    per_split: Dict[str, list] = {}
    lines = (root / 'synthmotion' / 'feedback.jsonl').read_text(encoding='utf-8').splitlines()
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        rec = json.loads(line)
        fid = rec['id']
        takes = []
        for role in ('novice', 'expert'):
            files = rec['files'][role]
            if 'video' not in files:
                raise ValueError(f'{root / "synthmotion/feedback.jsonl"} line {n + 1} ({fid}): no rendered '
                                 f'{role} video; build SynthMotion with render_feedback=True')
            num = len(np.load(root / files['coco17'], mmap_mode='r'))
            takes.append((role, files, num))
        for role, files, num in takes:
            mid = round(num / 2 / SYNTHMOTION_FPS, 3)
            rel = {k: os.path.relpath(root / files[k], out) for k in ('video', 'coco17')}
            take = dict(take_uid=f'{fid}_{"learner" if role == "novice" else "expert"}',
                        task_name=rec['activity'], scenario_name='SynthMotion', video_paths=dict(ego=rel['video']),
                        pose_path=rel['coco17'], fps=SYNTHMOTION_FPS, tips_for_improvement=[],
                        good_executions=[], synthmotion_pair=fid)
            if role == 'novice':
                take['proficiency_score'] = rec['skill_level']
                for err in rec['errors']:
                    take['tips_for_improvement'].append(
                        dict(video_time=mid, list=_comment_of_error(rec, err), expert_uid='synthmotion'))
                praise = ACTIVITIES[rec['activity']]['praise']
                for region, label in sorted(rec['region_labels'].items()):
                    if label == 'correct' and region in praise and praise[region] in rec['commentary']:
                        take['good_executions'].append(dict(video_time=mid, list=praise[region],
                                                            expert_uid='synthmotion'))
            else:
                take['proficiency_score'] = rec['expert_skill_level']
                for err in rec['errors']:
                    take['good_executions'].append(
                        dict(video_time=mid, list=f'Good form of {_region_words(err["regions"])}.',
                             expert_uid='synthmotion'))
            per_split.setdefault(rec['split'], []).append(take)
    for split, takes in sorted(per_split.items()):
        atomic_write_bytes(ann / f'proficiency_demonstration_{split}.json',
                           (json.dumps(takes, indent=1, ensure_ascii=False) + '\n').encode())
    return ann
