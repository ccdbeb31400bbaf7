"""The ExpertAF pair builder (Ashutosh et al., "ExpertAF: Expert Actionable Feedback from Video",
CVPR 2025, sec. 3.2): from an Ego-Exo4D-style layout to (learner window, expert window, commentary,
region labels) pairs.

Steps:

1. **Takes** (:func:`~.egoexo_layout.read_egoexo_takes`): every take's video (the chosen ``view``)
   must open, its pose track must be a finite ``(T, 17, 3)`` array with exactly one pose per video
   frame, and it must hold at least one window (``round(window_s * fps)`` frames). A take that
   fails is skipped with its reason (``on_bad_input='skip'``, counted in the statistics) or stops
   the build (``'error'``).
2. **Commentary -> regions** (:mod:`.commentary_regions`): every comment of a good take gets a
   summary and six labels (0 needs improvement / 1 correct / 2 not mentioned) by the ``'llm'`` or
   ``'keyword'`` route; failed replies and comments with no region are counted skips.
3. **Pairing** (sec. 3.2): an *incorrect execution* is a comment with a region labelled 0 on a
   take by a ``learner_levels`` demonstrator (novice, early expert); a *correct execution* is a
   comment with a region labelled 1 on a take by an ``expert_levels`` demonstrator (intermediate,
   late expert). Candidates of an incorrect execution: the correct executions of the same
   activity and split that are correct in at least one region the learner must improve.
4. **Temporal alignment**: the learner window is the ``W`` frames centred on the learner's comment
   time (moved inside the take when the centre is near an end); for each candidate, the expert
   window is the one, among the starts within ``search_s`` seconds of a window centred on the
   expert's comment time, with the lowest PA-MPJPE to the learner window
   (:func:`~motionkit.motion.window_alignment.sliding_pa_mpjpe`, vectorised over the offsets).
   The ``top_k`` candidates with the lowest PA-MPJPE are kept (5 for train, 1 for val / test).

Output folder (every file atomic; ``manifest.json`` last; an interrupted build resumes)::

    pairs.jsonl          one line per pair: id, split, activity, rank, regions (the shared ones),
                         pa_mpjpe_mm, learner / expert: take_uid, proficiency, video_path (view),
                         video_paths, fps, num_frames, time, start, length, pose (window .npy),
                         commentary, kind, summary, labels (6)
    windows/<id>.npy     (W, 17, 3) float32 pose windows (L<n>.npy learner, L<n>_e<k>.npy expert)
    executions.jsonl     every comment with its route output (status, summary, labels, reply)
    skipped.jsonl        every skipped take / comment / incorrect execution with reason and message
    statistics.json      counts per split, activity, region, proficiency; skips by reason; PA-MPJPE
    manifest.json        config (inputs' sha256, route, prompt sha256, parameters), counts
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from motionkit.datasets.video_reader import VideoReadError, probe_video
from motionkit.motion.body_parts import FEEDBACK_REGIONS
from motionkit.motion.window_alignment import sliding_pa_mpjpe
from motionkit.utils.io import atomic_save_npy, atomic_write_bytes
from motionkit.utils.resumable_build import ResumableBuild
from .commentary_regions import CORRECT, NEEDS_IMPROVEMENT, PROMPT_FILE, CommentaryRegionLabeler
from .egoexo_layout import PROFICIENCY_LEVELS, Take, read_egoexo_takes, split_files

__all__ = ['expertaf_pairs_config', 'build_expertaf_pairs', 'DEFAULT_TOP_K', 'check_take_media',
           'learner_window_start', 'expert_window_starts']

#: Pairs kept per incorrect execution (ExpertAF: top-5 for training, top-1 for evaluation).
DEFAULT_TOP_K = dict(train=5, val=1, test=1)
BUILDER_VERSION = '1.0'


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expertaf_pairs_config(annotation_dir: str | os.PathLike, root: str | os.PathLike | None = None,
                          route: str = 'keyword', client: Any = None,
                          prompt_file: str | os.PathLike | None = None, view: str = 'ego',
                          window_s: float = 2.0, search_s: float = 1.0,
                          top_k: Optional[Dict[str, int]] = None,
                          learner_levels: Sequence[str] = ('novice', 'early_expert'),
                          expert_levels: Sequence[str] = ('intermediate_expert', 'late_expert'),
                          fps: float = 30.0, pose_dir: str = 'poses', on_bad_input: str = 'skip') -> dict:
    """The full build config (what a resumed build is compared against)."""
    if route not in ('llm', 'keyword'):
        raise ValueError(f"route must be 'llm' or 'keyword', got {route!r}")
    if on_bad_input not in ('skip', 'error'):
        raise ValueError(f"on_bad_input must be 'skip' or 'error', got {on_bad_input!r}")
    if not window_s > 0 or not search_s >= 0:
        raise ValueError(f'window_s must be > 0 and search_s >= 0, got {window_s}, {search_s}')
    for name, levels in (('learner_levels', learner_levels), ('expert_levels', expert_levels)):
        bad = [lv for lv in levels if lv not in PROFICIENCY_LEVELS]
        if bad or not levels:
            raise ValueError(f'{name} must be a non-empty subset of {PROFICIENCY_LEVELS}, got {list(levels)}')
    if set(learner_levels) & set(expert_levels):
        raise ValueError(f'learner_levels and expert_levels overlap: {sorted(set(learner_levels) & set(expert_levels))}')
    top_k = dict(DEFAULT_TOP_K if top_k is None else top_k)
    if any(not isinstance(k, int) or k < 1 for k in top_k.values()):
        raise ValueError(f'top_k values must be integers >= 1, got {top_k}')
    ann = Path(annotation_dir)
    files = split_files(ann)
    inputs = {split: dict(demonstration=str(d.resolve()), demonstration_sha256=_sha256(d),
                          demonstrator=str(p.resolve()) if p else None,
                          demonstrator_sha256=_sha256(p) if p else None) for split, d, p in files}
    prompt = client_cfg = None
    if route == 'llm':
        if client is None:
            raise ValueError("route='llm' needs client=dict(type='OpenAIChatClient', base_url=..., model=...)")
        path = Path(prompt_file) if prompt_file else PROMPT_FILE
        prompt = dict(path=str(path.resolve()), sha256=_sha256(path))
        client_cfg = dict(object=type(client).__name__) if hasattr(client, 'chat') else json.loads(_dumps(client))
    return dict(version=BUILDER_VERSION, annotation_dir=str(ann.resolve()),
                root=str(Path(root).resolve()) if root else str(ann.resolve().parent), inputs=inputs,
                route=route, client=client_cfg, prompt=prompt, view=view, window_s=float(window_s),
                search_s=float(search_s), top_k=top_k, learner_levels=list(learner_levels),
                expert_levels=list(expert_levels), fps=float(fps), pose_dir=pose_dir,
                on_bad_input=on_bad_input)


def window_frames(fps: float, window_s: float) -> int:
    return max(1, int(round(window_s * fps)))


def learner_window_start(time_s: float, fps: float, length: int, num_frames: int) -> int:
    """Start of the ``length``-frame window centred on ``time_s``, moved inside ``[0, num_frames)``."""
    centre = int(round(time_s * fps))
    return int(min(max(centre - length // 2, 0), num_frames - length))


def expert_window_starts(time_s: float, fps: float, length: int, num_frames: int, search_s: float) -> np.ndarray:
    """Candidate starts: within ``round(search_s * fps)`` frames of the window centred on
    ``time_s``, clipped to the take (at least the one moved-inside window)."""
    s0 = learner_window_start(time_s, fps, length, num_frames)
    r = int(round(search_s * fps))
    lo, hi = max(s0 - r, 0), min(s0 + r, num_frames - length)
    return np.arange(lo, hi + 1)


def check_take_media(take: Take, view: str, length: int, backend: str = 'auto') -> tuple:
    """``(reason, message, num_frames)``: reason ``None`` when the take is usable, else one of
    ``video_missing_view``, ``video_unreadable``, ``pose_missing``, ``pose_bad_shape``,
    ``pose_not_finite``, ``frame_count_mismatch``, ``video_too_short``."""
    if view not in take.video_paths:
        return ('video_missing_view', f'take {take.take_uid}: no {view!r} video (views: '
                f'{sorted(take.video_paths)})', None)
    path = take.video_paths[view]
    try:
        info = probe_video(path)
    except (FileNotFoundError, VideoReadError, OSError) as e:
        return 'video_unreadable', f'take {take.take_uid}: {e}', None
    try:
        pose = np.load(take.pose_path, mmap_mode='r', allow_pickle=False)
    except FileNotFoundError:
        return 'pose_missing', f'take {take.take_uid}: pose file not found: {take.pose_path}', None
    except ValueError as e:
        return 'pose_bad_shape', f'take {take.take_uid}: {take.pose_path} is not a numeric .npy ({e})', None
    if pose.ndim != 3 or pose.shape[1:] != (17, 3):
        return ('pose_bad_shape', f'take {take.take_uid}: {take.pose_path} has shape {pose.shape}, '
                'expected (T, 17, 3) COCO-17 joints', None)
    if not np.isfinite(pose).all():
        return 'pose_not_finite', f'take {take.take_uid}: {take.pose_path} contains NaN or inf', None
    if info.num_frames != len(pose):
        return ('frame_count_mismatch', f'take {take.take_uid}: {path} has {info.num_frames} frames but '
                f'its pose track {take.pose_path} has {len(pose)} poses', None)
    if len(pose) < length:
        return ('video_too_short', f'take {take.take_uid}: {path} has {len(pose)} frames, fewer than '
                f'the {length}-frame window', None)
    return None, None, int(len(pose))


def _read_takes(cfg: dict) -> List[Take]:
    takes = []
    for split, files in sorted(cfg['inputs'].items()):
        takes += read_egoexo_takes(files['demonstration'], cfg['root'], split, files['demonstrator'],
                                   cfg['pose_dir'], cfg['fps'])
    seen = Counter(t.take_uid for t in takes)
    dup = [u for u, n in seen.items() if n > 1]
    if dup:
        raise ValueError(f'{cfg["annotation_dir"]}: take_uid {dup[0]!r} appears in more than one split file')
    return takes


def build_expertaf_pairs(annotation_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                         root: str | os.PathLike | None = None, route: str = 'keyword', client: Any = None,
                         prompt_file: str | os.PathLike | None = None, view: str = 'ego',
                         window_s: float = 2.0, search_s: float = 1.0,
                         top_k: Optional[Dict[str, int]] = None,
                         learner_levels: Sequence[str] = ('novice', 'early_expert'),
                         expert_levels: Sequence[str] = ('intermediate_expert', 'late_expert'),
                         fps: float = 30.0, pose_dir: str = 'poses', on_bad_input: str = 'skip',
                         progress: bool = True) -> Path:
    """Build (or resume) the ExpertAF pairs of the layout whose annotation files are in
    ``annotation_dir`` (``proficiency_demonstration_<split>.json``, optionally with
    ``proficiency_demonstrator_<split>.json``). See the module docstring for the steps and output.

    Args:
        root: layout root that relative paths resolve against (default: ``annotation_dir``'s parent).
        route: ``'llm'`` (``client`` = a ``FEEDBACK_CLIENTS`` config or an object with ``chat``) or
            ``'keyword'``.
        view: the video view checked against the pose and written as ``video_path``.
        window_s: window length in seconds (``round(window_s * fps)`` frames).
        search_s: how far (seconds) the expert window may move from the expert's comment time.
        top_k: pairs kept per incorrect execution, per split (default :data:`DEFAULT_TOP_K`).
        on_bad_input: ``'skip'`` (count and list bad takes) or ``'error'`` (raise at the first).

    Returns:
        ``out_dir``.
    """
    cfg = expertaf_pairs_config(annotation_dir, root, route, client, prompt_file, view, window_s, search_s,
                                top_k, learner_levels, expert_levels, fps, pose_dir, on_bad_input)
    out = Path(out_dir)
    build = ResumableBuild(out, cfg, 'ExpertAF pair build')
    if build.finished():
        return out
    takes = _read_takes(cfg)
    build.start()
    labeler = CommentaryRegionLabeler(route, client, prompt_file)

    def label_take(i: int) -> dict:
        take = takes[i]
        length = window_frames(take.fps, cfg['window_s'])
        reason, message, num_frames = check_take_media(take, view, length)
        if reason is not None and on_bad_input == 'error':
            raise ValueError(f'{reason}: {message}')
        execs = []
        if reason is None:
            for c in take.commentary:
                res = labeler(c.text, c.kind, take.activity)
                execs.append(dict(id=f'{take.take_uid}/{c.kind}/{c.index}', kind=c.kind, index=c.index,
                                  time=c.time, commentary=c.text, expert_uid=c.expert_uid, **res))
        return dict(take=take.to_dict(), skip=reason, message=message, num_frames=num_frames,
                    executions=execs)

    take_recs = build.items('takes', len(takes), label_take, progress, 'ExpertAF commentary -> regions')
    learners, experts = _executions(take_recs, cfg)
    poses: Dict[str, np.ndarray] = {}

    def pose_of(rec: dict) -> np.ndarray:
        path = rec['take']['pose_path']
        if path not in poses:
            if len(poses) > 64:
                poses.clear()
            poses[path] = np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
        return poses[path]

    def pair_item(j: int) -> dict:
        lrec, lex = learners[j]
        return _pair_learner(j, lrec, lex, experts, cfg, pose_of, out)

    pair_recs = build.items('pairs', len(learners), pair_item, progress, 'ExpertAF alignment')
    _finish(build, take_recs, learners, pair_recs, cfg)
    return out


def _regions(labels: Optional[list], value: int) -> List[str]:
    return [] if labels is None else [r for r, v in zip(FEEDBACK_REGIONS, labels) if v == value]


def _executions(take_recs: list, cfg: dict):
    """Incorrect executions by learners (in record order) and correct executions by experts,
    grouped by (split, activity)."""
    learners, experts = [], defaultdict(list)
    for rec in take_recs:
        if rec['skip'] is not None:
            continue
        level = rec['take']['proficiency']
        for ex in rec['executions']:
            if ex['status'] != 'ok':
                continue
            if level in cfg['learner_levels'] and _regions(ex['labels'], NEEDS_IMPROVEMENT):
                learners.append((rec, ex))
            elif level in cfg['expert_levels'] and _regions(ex['labels'], CORRECT):
                experts[(rec['take']['split'], rec['take']['activity'])].append((rec, ex))
    return learners, experts


def _side(rec: dict, ex: dict, cfg: dict, start: int, length: int, window: str) -> dict:
    t = rec['take']
    return dict(take_uid=t['take_uid'], proficiency=t['proficiency'], video_path=t['video_paths'][cfg['view']],
                video_paths=t['video_paths'], fps=t['fps'], num_frames=rec['num_frames'], time=ex['time'],
                start=int(start), length=int(length), pose=window, execution=ex['id'], kind=ex['kind'],
                commentary=ex['commentary'], summary=ex['summary'], labels=ex['labels'])


def _pair_learner(j: int, lrec: dict, lex: dict, experts: dict, cfg: dict, pose_of, out: Path) -> dict:
    lt = lrec['take']
    split, activity = lt['split'], lt['activity']
    base = dict(learner=lex['id'], split=split, activity=activity)
    pool = experts.get((split, activity), [])
    if not pool:
        return dict(base, skip='no_expert_same_activity', pairs=[],
                    message=f'{lex["id"]}: no correct execution by an expert of {activity!r} in {split}')
    need = set(_regions(lex['labels'], NEEDS_IMPROVEMENT))
    cands = [(r, e) for r, e in pool if need & set(_regions(e['labels'], CORRECT))]
    if not cands:
        return dict(base, skip='no_expert_same_region', pairs=[],
                    message=f'{lex["id"]}: no expert execution of {activity!r} in {split} is correct in '
                            f'{sorted(need)}')
    length = window_frames(lt['fps'], cfg['window_s'])
    lpose = pose_of(lrec)
    lstart = learner_window_start(lex['time'], lt['fps'], length, lrec['num_frames'])
    query = lpose[lstart:lstart + length]
    scored = []
    for rec, ex in cands:
        t = rec['take']
        if window_frames(t['fps'], cfg['window_s']) != length:
            continue  # another frame rate: windows of different lengths cannot be compared pose by pose
        starts = expert_window_starts(ex['time'], t['fps'], length, rec['num_frames'], cfg['search_s'])
        err = sliding_pa_mpjpe(query, pose_of(rec), starts)  # ExpertAF sec. 3.2, vectorised over offsets
        k = int(np.argmin(err))
        scored.append((float(err[k]), ex['id'], int(starts[k]), rec, ex))
    if not scored:
        return dict(base, skip='no_expert_same_fps', pairs=[],
                    message=f'{lex["id"]}: every candidate expert take has another frame rate')
    scored.sort(key=lambda s: (s[0], s[1]))
    k_keep = cfg['top_k'].get(split, 1)
    lwin = f'windows/L{j:06d}.npy'
    atomic_save_npy(out / lwin, query.astype(np.float32))
    pairs = []
    for rank, (err, _, start, rec, ex) in enumerate(scored[:k_keep]):
        ewin = f'windows/L{j:06d}_e{rank}.npy'
        atomic_save_npy(out / ewin, pose_of(rec)[start:start + length].astype(np.float32))
        shared = sorted(need & set(_regions(ex['labels'], CORRECT)), key=FEEDBACK_REGIONS.index)
        pairs.append(dict(id=f'P{j:06d}_{rank}', split=split, activity=activity, rank=rank, regions=shared,
                          pa_mpjpe_mm=round(err * 1000.0, 4),
                          learner=_side(lrec, lex, cfg, lstart, length, lwin),
                          expert=_side(rec, ex, cfg, start, length, ewin)))
    return dict(base, skip=None, pairs=pairs, message=None, num_candidates=len(scored))


def _finish(build: ResumableBuild, take_recs: list, learners: list, pair_recs: list, cfg: dict) -> None:
    out = build.out
    pairs = [p for r in pair_recs for p in r['pairs']]
    execs = []
    skipped = []
    for rec in take_recs:
        t = rec['take']
        if rec['skip'] is not None:
            skipped.append(dict(level='take', id=t['take_uid'], split=t['split'], activity=t['activity'],
                                reason=rec['skip'], message=rec['message']))
        for ex in rec['executions']:
            execs.append(dict(ex, take_uid=t['take_uid'], split=t['split'], activity=t['activity'],
                              proficiency=t['proficiency']))
            if ex['status'] != 'ok':
                skipped.append(dict(level='commentary', id=ex['id'], split=t['split'], activity=t['activity'],
                                    reason=ex['status'], message=ex.get('error')))
    for r in pair_recs:
        if r['skip'] is not None:
            skipped.append(dict(level='incorrect_execution', id=r['learner'], split=r['split'],
                                activity=r['activity'], reason=r['skip'], message=r['message']))
    stats = _statistics(take_recs, execs, learners, pair_recs, pairs, skipped, cfg)
    atomic_write_bytes(out / 'pairs.jsonl', ''.join(_dumps(p) + '\n' for p in pairs).encode())
    atomic_write_bytes(out / 'executions.jsonl', ''.join(_dumps(e) + '\n' for e in execs).encode())
    atomic_write_bytes(out / 'skipped.jsonl', ''.join(_dumps(s) + '\n' for s in skipped).encode())
    atomic_write_bytes(out / 'statistics.json', (json.dumps(stats, sort_keys=True, indent=1) + '\n').encode())
    build.finish(dict(name='ExpertAF pairs', counts=stats['totals'],
                      regions=list(FEEDBACK_REGIONS), label_codes=dict(needs_improvement=0, correct=1,
                                                                       not_mentioned=2)))


def _statistics(take_recs, execs, learners, pair_recs, pairs, skipped, cfg) -> dict:
    """Counts like the paper's dataset table: takes, executions and pairs per split / activity /
    region / proficiency; skips by reason; PA-MPJPE of the kept pairs."""
    def nested():
        return defaultdict(Counter)

    takes = nested()
    for rec in take_recs:
        t = rec['take']
        takes[t['split']][f'{t["activity"]}|{t["proficiency"]}'] += 1
    region_counts = {s: {r: Counter() for r in FEEDBACK_REGIONS} for s in {e['split'] for e in execs}}
    for e in execs:
        if e['status'] == 'ok':
            for r, v in zip(FEEDBACK_REGIONS, e['labels']):
                region_counts[e['split']][r][('needs_improvement', 'correct', 'not_mentioned')[v]] += 1
    pairs_split, pairs_act, pairs_region = Counter(), nested(), nested()
    for p in pairs:
        pairs_split[p['split']] += 1
        pairs_act[p['split']][p['activity']] += 1
        for r in p['regions']:
            pairs_region[p['split']][r] += 1
    paired = Counter(r['split'] for r in pair_recs if r['pairs'])
    errs = np.array([p['pa_mpjpe_mm'] for p in pairs], dtype=np.float64)
    top1 = np.array([p['pa_mpjpe_mm'] for p in pairs if p['rank'] == 0], dtype=np.float64)

    def summary(a):
        return None if a.size == 0 else dict(mean=round(float(a.mean()), 3), median=round(float(np.median(a)), 3),
                                             min=round(float(a.min()), 3), max=round(float(a.max()), 3))

    totals = dict(takes=len(take_recs), takes_used=sum(r['skip'] is None for r in take_recs),
                  comments=len(execs), comments_labelled=sum(e['status'] == 'ok' for e in execs),
                  incorrect_executions=len(learners), incorrect_executions_paired=sum(paired.values()),
                  pairs=len(pairs))
    return dict(
        totals=totals,
        takes_per_split_activity_proficiency={s: dict(c) for s, c in sorted(takes.items())},
        comment_status=dict(Counter(e['status'] for e in execs)),
        region_labels_per_split=region_counts and {s: {r: dict(c) for r, c in v.items()}
                                                   for s, v in sorted(region_counts.items())},
        incorrect_executions_per_split=dict(Counter(lr['take']['split'] for lr, _ in learners)),
        incorrect_executions_paired_per_split=dict(paired),
        pairs_per_split=dict(pairs_split),
        pairs_per_split_activity={s: dict(c) for s, c in sorted(pairs_act.items())},
        pairs_per_split_region={s: dict(c) for s, c in sorted(pairs_region.items())},
        skipped_per_reason={lvl: dict(Counter(s['reason'] for s in skipped if s['level'] == lvl))
                            for lvl in ('take', 'commentary', 'incorrect_execution')},
        pa_mpjpe_mm=dict(all_pairs=summary(errs), top1=summary(top1)),
        window_frames_at_fps={str(f): window_frames(f, cfg['window_s'])
                              for f in sorted({r['take']['fps'] for r in take_recs})},
    )
