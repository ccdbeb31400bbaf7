"""How well does a learned event detector find the events of SynthMotion motions whose programs
are known? The accuracy behind AToM's offline oracle reward (``RecognizerEventDetector`` plugged
into ``SynthMotionOracleScorer``, docs/motion_prefer.md).

    python tools/train.py projects/atom/configs/segment-classifier_tcn-tiny_1xb64-1k_synthmotion.py
    python tools/analysis_tools/eval_event_detector.py \\
        projects/atom/configs/segment-classifier_tcn-tiny_1xb64-1k_synthmotion.py \\
        work_dirs/segment-classifier_tcn-tiny_1xb64-1k_synthmotion/iter_1000.pth \\
        --num-motions 1000 --seed 0 --split test

Truth per motion: the program's events without the ``stand`` filler. Measures (means over
motions unless said otherwise):

* ``exact``: the detected label sequence equals the true one;
* ``exact+counts``: ... and every event of a countable label has the true count;
* ``order``: LCS(true labels, detected labels) / max(#true, #detected) (1 only for the exact
  sequence; a missing, extra or swapped event lowers it);
* ``recall`` / ``precision``: true events found / detected events true, as multisets;
* ``count acc`` / ``count +-1`` / ``count MAE``: per (motion, countable label of the program):
  the detected repetitions (sum of the counts of the detected events with that label, as the
  frequency oracle counts them) against the true sum; over all such pairs;
* ``count acc (true spans)``: the same rule on the program's own event spans (the error of the
  duration rule alone, without detection errors).

* ``reward agreement``: table 4's oracle score (``oracle_score``) from the detected events against
  the one from the program's events, for prompts made of the motion's own events and of the next
  motion's events (a mismatched prompt), per subtask: the share of equal scores and the mean
  absolute difference (0-10 scale). Integrity and temporal prompts list the events in program
  order; a frequency prompt takes the first countable event with its true count.

Counts come from the repetition table (fitted on the build's train split with ``--periods train``,
the default, or the shipped table with ``--periods shipped``); they are compared for the labels
whose count a MotionPrefer frequency prompt can state (``COUNTABLE_PRIMITIVES``; walking-type
gaits count steps and are left out).
Prints a Markdown table (all motions, and by number of true events); ``--json`` writes it too.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

FILLER = 'stand'


def _norm(label: str) -> str:
    return ' '.join(str(label).lower().replace('_', ' ').split())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common subsequence of two label lists."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def motion_scores(truth: Sequence[dict], detected: Sequence[dict], countable: Sequence[str]) -> dict:
    """Per-motion measures (see the module docstring) for ``truth`` / ``detected`` lists of
    ``{'label', 'count'}``; ``countable`` labels have counts compared."""
    countable = {_norm(c) for c in countable}
    t = [_norm(e['label']) for e in truth]
    d = [_norm(e['label']) for e in detected]
    common = sum((Counter(t) & Counter(d)).values())
    lcs = lcs_length(t, d)
    counts = []
    for lab in sorted(set(t) & countable):
        c_true = sum(int(e['count']) for e in truth if _norm(e['label']) == lab)
        c_det = sum(int(e['count']) for e in detected if _norm(e['label']) == lab)
        counts.append((c_true, c_det))
    exact = t == d
    exact_counts = exact and all(int(a['count']) == int(b['count']) for a, b in zip(truth, detected)
                                 if _norm(a['label']) in countable)
    return dict(exact=float(exact), exact_counts=float(exact_counts),
                order=lcs / max(len(t), len(d)) if (t or d) else 1.0,
                recall=common / len(t) if t else 1.0,
                precision=common / len(d) if d else float(not t),
                counts=counts)


def summarize(rows: Sequence[dict]) -> dict:
    """Means over motions; count measures over all (motion, countable label) pairs."""
    out = dict(motions=len(rows))
    for key in ('exact', 'exact_counts', 'order', 'recall', 'precision'):
        out[key] = float(np.mean([r[key] for r in rows])) if rows else float('nan')
    pairs = [p for r in rows for p in r['counts']]
    out['count_pairs'] = len(pairs)
    if pairs:
        err = np.array([abs(a - b) for a, b in pairs], dtype=np.float64)
        out.update(count_acc=float((err == 0).mean()), count_pm1=float((err <= 1).mean()),
                   count_mae=float(err.mean()))
    else:
        out.update(count_acc=float('nan'), count_pm1=float('nan'), count_mae=float('nan'))
    return out


def reward_pairs(truth: Sequence[dict], detected: Sequence[dict], prompt_events: Sequence[dict],
                 countable: Sequence[str]) -> Dict[str, tuple]:
    """``{subtask: (score from detected events, score from true events)}`` for the prompt made of
    ``prompt_events`` (see the module docstring); subtasks the prompt cannot fill are left out."""
    from motionkit.feedback.synthmotion_oracle_scorer import oracle_score
    countable = {_norm(c) for c in countable}
    out = {}
    if prompt_events:
        labels = [e['label'] for e in prompt_events]
        for sub in ('integrity', 'temporal'):
            out[sub] = (oracle_score(sub, labels, None, detected)[0],
                        oracle_score(sub, labels, None, truth)[0])
    rep = [e for e in prompt_events if _norm(e['label']) in countable]
    if rep:
        lab, n = [rep[0]['label']], int(rep[0]['count'])
        out['frequency'] = (oracle_score('frequency', lab, n, detected)[0],
                            oracle_score('frequency', lab, n, truth)[0])
    return out


def truth_events(program: dict) -> List[dict]:
    return [dict(label=e['primitive'], count=int(e['count']), start=int(e['start']), end=int(e['end']))
            for e in program['events'] if _norm(e['primitive']) != FILLER]


def _read_programs(root: Path) -> Dict[str, dict]:
    out = {}
    with open(root / 'synthmotion' / 'programs.jsonl', encoding='utf-8') as f:
        for line in f:
            rec = json.loads(line)
            out[rec['id']] = rec
    return out


def _ids(root: Path, split: str) -> List[str]:
    return [x.strip() for x in (root / f'{split}.txt').read_text().splitlines() if x.strip()]


def _fmt(x: float) -> str:
    return 'n/a' if x != x else f'{x:.3f}'


def main(argv: Optional[Sequence[str]] = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='.py config whose model is the window classifier')
    p.add_argument('checkpoint', nargs='?', default=None)
    p.add_argument('--data-root', help='a finished SynthMotion build (else --num-motions/--seed)')
    p.add_argument('--num-motions', type=int, default=1000)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--split', default='test')
    p.add_argument('--window', type=int, default=32)
    p.add_argument('--stride', type=int, default=4)
    p.add_argument('--min-event-frames', type=int, default=16)
    p.add_argument('--periods', default='train',
                   help="'train' (fit on the build's train split), 'shipped', or a JSON path")
    p.add_argument('--save-periods', help='write the fitted repetition table here')
    p.add_argument('--limit', type=int, default=None, help='first N motions of the split')
    p.add_argument('--json', help='write the summary here')
    args = p.parse_args(argv)

    from motionkit.feedback.recognizer_event_detector import (RecognizerEventDetector,
                                                               count_from_duration,
                                                               fit_repetition_periods,
                                                               load_repetition_periods)
    from motionkit.datagen.motion_prefer import COUNTABLE_PRIMITIVES
    from motionkit.utils import register_all_modules
    from motionkit.utils.io import atomic_write_bytes
    register_all_modules(init_default_scope=False)
    if args.data_root:
        root = Path(args.data_root)
    else:
        from motionkit.synthmotion import ensure_synthmotion
        root = ensure_synthmotion(args.num_motions, args.seed)
    if not (root / 'manifest.json').is_file():
        raise SystemExit(f'{root}: not a finished SynthMotion build (no manifest.json)')
    programs = _read_programs(root)
    if args.periods == 'train':
        table = fit_repetition_periods(programs[i] for i in _ids(root, 'train'))
        if args.save_periods:
            doc = dict(source=f'fit_repetition_periods on {root.name} train split', labels=table)
            atomic_write_bytes(Path(args.save_periods),
                               (json.dumps(doc, indent=1, sort_keys=True) + '\n').encode())
    else:
        table = load_repetition_periods(None if args.periods == 'shipped' else args.periods)
    table = load_repetition_periods(table)
    det = RecognizerEventDetector(args.config, args.checkpoint, window=args.window, stride=args.stride,
                                  min_event_frames=args.min_event_frames, repetition_periods=table)
    ids = _ids(root, args.split)[:args.limit]
    rows, span_rows, t0 = [], [], time.time()
    rewards = {k: {s: [] for s in ('integrity', 'temporal', 'frequency')} for k in ('own', 'next')}
    for n_m, mid in enumerate(ids):
        truth = truth_events(programs[mid])
        joints = np.load(root / 'new_joints' / f'{mid}.npy')
        found = det.detect(joints, mid)
        for kind, other in (('own', mid), ('next', ids[(n_m + 1) % len(ids)])):
            for sub, pair in reward_pairs(truth, found, truth_events(programs[other]),
                                          COUNTABLE_PRIMITIVES).items():
                rewards[kind][sub].append(pair)
        r = motion_scores(truth, found, COUNTABLE_PRIMITIVES)
        r['num_events'] = len(truth)
        rows.append(r)
        spans = [dict(e, count=count_from_duration(e['end'] - e['start'], table[_norm(e['label'])]['period'],
                                                   table[_norm(e['label'])]['offset'])
                      if _norm(e['label']) in table else 1) for e in truth]
        span_rows.append(motion_scores(truth, spans, COUNTABLE_PRIMITIVES))
    elapsed = time.time() - t0
    groups = {'all': rows}
    for n in sorted({r['num_events'] for r in rows}):
        groups[f'{n} event(s)'] = [r for r in rows if r['num_events'] == n]
    summary = {name: summarize(g) for name, g in groups.items()}
    summary['all']['count_acc_true_spans'] = summarize(span_rows)['count_acc']
    summary['all']['seconds'] = round(elapsed, 2)
    print(f'{root.name} split={args.split} motions={len(rows)} window={args.window} '
          f'stride={args.stride} min_event_frames={args.min_event_frames} ({elapsed:.1f} s)')
    print('| motions | n | exact | exact+counts | order | recall | precision | count acc | '
          'count +-1 | count MAE (pairs) |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for name, s in summary.items():
        print(f"| {name} | {s['motions']} | {_fmt(s['exact'])} | {_fmt(s['exact_counts'])} | "
              f"{_fmt(s['order'])} | {_fmt(s['recall'])} | {_fmt(s['precision'])} | "
              f"{_fmt(s['count_acc'])} | {_fmt(s['count_pm1'])} | {_fmt(s['count_mae'])} "
              f"({s['count_pairs']}) |")
    print(f"count acc of the duration rule on the true spans: "
          f"{_fmt(summary['all']['count_acc_true_spans'])}")
    print('| reward agreement | integrity | temporal | frequency |')
    print('|---|---|---|---|')
    summary['reward'] = {}
    for kind, name in (('own', "own events' prompt"), ('next', "next motion's prompt")):
        cells = []
        for sub in ('integrity', 'temporal', 'frequency'):
            pairs = np.array(rewards[kind][sub], dtype=np.float64).reshape(-1, 2)
            agree = float((pairs[:, 0] == pairs[:, 1]).mean()) if len(pairs) else float('nan')
            mae = float(np.abs(pairs[:, 0] - pairs[:, 1]).mean()) if len(pairs) else float('nan')
            summary['reward'][f'{kind}/{sub}'] = dict(agree=agree, mae=mae, n=len(pairs))
            cells.append(f'{_fmt(agree)} / {_fmt(mae)} ({len(pairs)})')
        print(f'| {name}: equal / MAE (n) | ' + ' | '.join(cells) + ' |')
    if args.json:
        atomic_write_bytes(Path(args.json), (json.dumps(summary, indent=1) + '\n').encode())
    return summary


if __name__ == '__main__':
    main()
