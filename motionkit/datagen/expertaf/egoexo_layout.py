"""Reader of an Ego-Exo4D-style layout: takes with ego/exo videos, a COCO-17 3D pose track,
time-stamped expert commentary and the demonstrator's proficiency.

The annotation file is Ego-Exo4D's *demonstration proficiency* JSON as published
(``annotations/proficiency_demonstration_<split>.json``, docs.ego-exo4d-data.org, "Proficiency
Estimation"): a JSON list with one object per take. The fields this reader relies on:

=========================  ====================================================================
``take_uid``               unique take id (string; required)
``task_name``              the activity, e.g. ``"Basketball Drills - Reverse Layup"``; pairs are
                           only made within one activity (required)
``scenario_name``          the high-level scenario, e.g. ``"Basketball"`` (optional, kept)
``video_paths``            view name -> video file (``"ego"``, ``"exo1"`` ...), relative to the
                           layout root or absolute (required, non-empty)
``tips_for_improvement``   list of ``{video_time, list}``: seconds from the take's start and the
                           expert's comment (a string, or a list of strings joined with spaces);
                           ``expert_uid`` is kept when present
``good_executions``        the same for comments on things done well
=========================  ====================================================================

The demonstrator's proficiency is the ``proficiency_score`` of the take: a field of the take object
itself, or of the entry with the same ``take_uid`` in the *demonstrator proficiency* JSON
(``proficiency_demonstrator_<split>.json``, a list of ``{take_uid, proficiency_score}``). Ego-Exo4D's
four levels are ``Novice``, ``Early Expert``, ``Intermediate Expert`` (``Intermediate``) and
``Late Expert``; they become ``novice``, ``early_expert``, ``intermediate_expert``, ``late_expert``.

Two fields that the published file does not have (Ego-Exo4D publishes body pose in separate
per-take files) and that this layout adds, both optional:

``pose_path``  the take's COCO-17 3D pose track, an ``.npy`` array ``(T, 17, 3)`` in metres with one
               pose per frame of the take's videos; default ``<pose_dir>/<take_uid>.npy``.
``fps``        frames per second of the videos and the pose track; default: the reader's ``fps``
               argument (Ego-Exo4D's frame-aligned videos are 30 fps).

Every error names the file and, where it applies, the take index and key.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

__all__ = ['PROFICIENCY_LEVELS', 'COMMENTARY_KINDS', 'Commentary', 'Take', 'normalize_proficiency',
           'read_egoexo_takes', 'LayoutError']

#: Ego-Exo4D demonstrator proficiency levels, lowest first.
PROFICIENCY_LEVELS = ('novice', 'early_expert', 'intermediate_expert', 'late_expert')
#: The two commentary lists of a take: tips (something to improve) and good executions.
COMMENTARY_KINDS = ('tips_for_improvement', 'good_executions')

_LEVEL_ALIASES = {'novice': 'novice', 'early expert': 'early_expert', 'early_expert': 'early_expert',
                  'intermediate': 'intermediate_expert', 'intermediate expert': 'intermediate_expert',
                  'intermediate_expert': 'intermediate_expert', 'late expert': 'late_expert',
                  'late_expert': 'late_expert'}


class LayoutError(ValueError):
    """A malformed annotation file (the message names the file, the take and the key)."""


@dataclass(frozen=True)
class Commentary:
    """One time-stamped expert comment on a take."""
    kind: str  # 'tips_for_improvement' | 'good_executions'
    index: int  # position in its list
    time: float  # seconds from the start of the take
    text: str
    expert_uid: Optional[str] = None


@dataclass
class Take:
    """One take of the layout, with its paths resolved."""
    take_uid: str
    activity: str
    scenario: Optional[str]
    split: str
    proficiency: str
    video_paths: Dict[str, str]
    pose_path: str
    fps: float
    commentary: List[Commentary] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(take_uid=self.take_uid, activity=self.activity, scenario=self.scenario,
                    split=self.split, proficiency=self.proficiency, video_paths=dict(self.video_paths),
                    pose_path=self.pose_path, fps=self.fps)


def normalize_proficiency(value, where: str = '') -> str:
    """``'Late Expert'`` -> ``'late_expert'`` (case and spacing ignored); an unknown level raises."""
    key = ' '.join(str(value).replace('-', ' ').split()).lower()
    if key not in _LEVEL_ALIASES:
        raise LayoutError(f'{where}unknown proficiency_score {value!r}; expected one of Novice, '
                          'Early Expert, Intermediate (Expert), Late Expert')
    return _LEVEL_ALIASES[key]


def _load_json_list(path: Path, what: str) -> list:
    if not path.is_file():
        raise FileNotFoundError(f'{what} not found: {path}')
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as e:
        raise LayoutError(f'{path}: not valid JSON ({e})') from None
    if isinstance(data, dict) and isinstance(data.get('annotations'), list):
        data = data['annotations']
    if not isinstance(data, list):
        raise LayoutError(f'{path}: expected a JSON list of takes, got {type(data).__name__}')
    return data


def _resolve(root: Path, p: str) -> str:
    return os.path.normpath(p if os.path.isabs(p) else os.path.join(root, p))


def _commentary(entry: dict, kind: str, where: str) -> List[Commentary]:
    items = entry.get(kind, [])
    if items is None:
        return []
    if not isinstance(items, list):
        raise LayoutError(f'{where}: {kind!r} must be a list, got {type(items).__name__}')
    out = []
    for i, item in enumerate(items):
        w = f'{where}: {kind}[{i}]'
        if not isinstance(item, dict):
            raise LayoutError(f'{w} must be an object, got {type(item).__name__}')
        for key in ('video_time', 'list'):
            if key not in item:
                raise LayoutError(f'{w} has no {key!r} (keys: {sorted(item)})')
        try:
            t = float(item['video_time'])
        except (TypeError, ValueError):
            raise LayoutError(f'{w}: video_time must be a number of seconds, got {item["video_time"]!r}') from None
        if not t >= 0:
            raise LayoutError(f'{w}: video_time must be >= 0, got {t}')
        text = item['list']
        if isinstance(text, list) and all(isinstance(s, str) for s in text):
            text = ' '.join(s.strip() for s in text)
        if not isinstance(text, str):
            raise LayoutError(f'{w}: list must be a string or a list of strings, got {text!r}')
        uid = item.get('expert_uid')
        out.append(Commentary(kind, i, t, text.strip(), None if uid is None else str(uid)))
    return out


def read_egoexo_takes(annotation_file: str | os.PathLike, root: str | os.PathLike | None = None,
                      split: Optional[str] = None, demonstrator_file: str | os.PathLike | None = None,
                      pose_dir: str = 'poses', fps: float = 30.0) -> List[Take]:
    """Read the takes of one demonstration-proficiency annotation file.

    Args:
        annotation_file: ``proficiency_demonstration_<split>.json`` (see the module docstring).
        root: folder that relative video / pose paths are resolved against (default: the parent of
            the annotation file's folder, i.e. the layout root of ``<root>/annotations/<file>``).
        split: split name stored with every take (default: the file name's last ``_`` part).
        demonstrator_file: optional ``proficiency_demonstrator_<split>.json`` giving
            ``proficiency_score`` per ``take_uid`` for takes whose object has none.
        pose_dir: pose folder (relative to ``root``) for takes without ``pose_path``.
        fps: frame rate for takes without ``fps``.

    Returns:
        the takes, in file order.

    Raises:
        FileNotFoundError: a missing annotation file.
        LayoutError: malformed JSON, a missing key or a bad value (names file, take and key), a
            duplicated ``take_uid``, or a take with no proficiency in either file.
    """
    path = Path(annotation_file)
    root = Path(root) if root is not None else path.resolve().parent.parent
    split = split or path.stem.rsplit('_', 1)[-1]
    entries = _load_json_list(path, 'annotation file')
    levels: Dict[str, str] = {}
    if demonstrator_file is not None:
        dpath = Path(demonstrator_file)
        for i, d in enumerate(_load_json_list(dpath, 'demonstrator proficiency file')):
            if not isinstance(d, dict) or 'take_uid' not in d or 'proficiency_score' not in d:
                raise LayoutError(f'{dpath}: entry {i} needs take_uid and proficiency_score, got {d!r}')
            levels[str(d['take_uid'])] = normalize_proficiency(d['proficiency_score'],
                                                               f'{dpath}: entry {i}: ')
    takes, seen = [], set()
    for i, e in enumerate(entries):
        where = f'{path}: take {i}'
        if not isinstance(e, dict):
            raise LayoutError(f'{where} must be an object, got {type(e).__name__}')
        for key in ('take_uid', 'task_name', 'video_paths'):
            if key not in e:
                raise LayoutError(f'{where} has no {key!r} (keys: {sorted(e)})')
        uid = str(e['take_uid'])
        where = f'{path}: take {i} ({uid})'
        if uid in seen:
            raise LayoutError(f'{where}: take_uid appears twice')
        seen.add(uid)
        videos = e['video_paths']
        if not isinstance(videos, dict) or not videos or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in videos.items()):
            raise LayoutError(f'{where}: video_paths must be a non-empty object of view -> path, got {videos!r}')
        if 'proficiency_score' in e:
            level = normalize_proficiency(e['proficiency_score'], f'{where}: ')
        elif uid in levels:
            level = levels[uid]
        else:
            src = f' or in {demonstrator_file}' if demonstrator_file else ' (no demonstrator file given)'
            raise LayoutError(f'{where}: no proficiency_score in the take{src}')
        take_fps = e.get('fps', fps)
        if not isinstance(take_fps, (int, float)) or not take_fps > 0:
            raise LayoutError(f'{where}: fps must be a positive number, got {take_fps!r}')
        pose = e.get('pose_path', f'{pose_dir}/{uid}.npy')
        commentary = _commentary(e, COMMENTARY_KINDS[0], where) + _commentary(e, COMMENTARY_KINDS[1], where)
        takes.append(Take(uid, str(e['task_name']), e.get('scenario_name'), split, level,
                          {k: _resolve(root, v) for k, v in videos.items()}, _resolve(root, pose),
                          float(take_fps), commentary))
    return takes


def take_counts(takes: List[Take]) -> Dict[str, Dict[str, int]]:
    """Takes per activity and per proficiency level (for statistics)."""
    out: Dict[str, Dict[str, int]] = {}
    for t in takes:
        out.setdefault(t.activity, {}).setdefault(t.proficiency, 0)
        out[t.activity][t.proficiency] += 1
    return out


def split_files(annotation_dir: str | os.PathLike) -> List[Tuple[str, Path, Optional[Path]]]:
    """``(split, demonstration file, demonstrator file or None)`` for every
    ``proficiency_demonstration_<split>.json`` in ``annotation_dir``, sorted by split."""
    d = Path(annotation_dir)
    out = []
    for p in sorted(d.glob('proficiency_demonstration_*.json')):
        split = p.stem.rsplit('_', 1)[-1]
        dem = d / f'proficiency_demonstrator_{split}.json'
        out.append((split, p, dem if dem.is_file() else None))
    if not out:
        raise FileNotFoundError(f'{d}: no proficiency_demonstration_<split>.json file')
    return out
