"""The AToM tables from finished pipeline work dirs (projects/atom/pipeline_synthmotion.py), one per
seed:

    python projects/atom/results_table.py WORK_DIR [WORK_DIR ...] [--out results.md] [--json results.json]

With several work dirs every number is the mean +- standard deviation (ddof 1) over them; a cell
that only some of them have says how many (``n=``).

* MotionPrefer (table 3): prompts, motions and pairs per subtask for the main threshold and the
  ablation threshold, and how many pairs reached the preference model (pairs whose motions have
  codes);
* held-out prompts (table 5's reward columns): the offline scorer's mean reward (0-10) per subtask
  of each model's samples, and its win rate against the starting model (per prompt, every pair of
  samples, ties half; mean over prompts; ``motionkit.evaluation.functional.preference``);
* T2M metrics of each model on the test captions (R-precision top-1 / top-3, FID, MM-Dist,
  Diversity through the tiny evaluator; the real motions' own numbers as the first row);
* T2M metrics per subtask (table 5): the same metrics and MModality (``mm_samples`` generations
  per caption) on each subtask's test caption lines (``t2m_<run>_<subtask>``), with the size of
  each subtask set (``testsets/testsets_stats.json``: caption lines and motions of the test split).

A missing stage output is reported as missing, never filled in.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from motionkit.evaluation.functional.preference import mean_reward, win_rate  # noqa: E402

SUBTASKS = ('integrity', 'temporal', 'frequency')
# (run, label); 'start' is the stage-2 model every fine-tuned one starts from
MODELS = (('start', 'MotionGPT stage 2 (start)'), ('ipo', 'AToM: IPO + LoRA'), ('dpo', 'DPO + LoRA'),
          ('kto', 'KTO + LoRA'), ('ipo_ablation', 'IPO + LoRA, ablation threshold'))
PAIRS = (('pairs', 'preference_pairs', 'main'), ('pairs_ablation', 'preference_pairs_ablation', 'ablation'))
T2M_COLS = (('R-prec. top-1', 'r_precision_top1'), ('top-3', 'r_precision_top3'), ('FID', 'fid'),
            ('MM-Dist', 'mm_dist'), ('Diversity', 'diversity'), ('MModality', 'multimodality'))
REAL = 'real motions (test split)'


def _read_json(path: Path) -> Optional[dict]:
    return json.loads(path.read_text()) if path.is_file() else None


def _read_jsonl(path: Path) -> Optional[List[dict]]:
    if not path.is_file():
        return None
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _by_prompt(scores: Sequence[dict], subtask: Optional[str] = None) -> Dict[str, List[float]]:
    out = defaultdict(list)
    for r in scores:
        if subtask is None or r['subtask'] == subtask:
            out[r['prompt_id']].append(float(r['score']))
    return dict(out)


# ---------------------------------------------------------------------------- one work dir
def reward_numbers(work: Path) -> Dict[str, Optional[dict]]:
    """Per model: ``{'reward/<subtask|all>': mean, 'win/<subtask|all>': win rate vs start}``."""
    start = _read_jsonl(work / 'escore_start' / 'scores.jsonl')
    out = {}
    for run, _ in MODELS:
        scores = _read_jsonl(work / f'escore_{run}' / 'scores.jsonl')
        if scores is None:
            out[run] = None
            continue
        row = {}
        for sub in (*SUBTASKS, None):
            key = sub or 'all'
            row[f'reward/{key}'] = mean_reward([r['score'] for r in scores if sub is None or r['subtask'] == sub])
            if start is not None and run != 'start':
                row[f'win/{key}'] = win_rate(_by_prompt(scores, sub), _by_prompt(start, sub))[0]
        out[run] = row
    return out


def t2m_numbers(work: Path) -> Dict[str, Optional[dict]]:
    out = {}
    for run, _ in MODELS:
        m = _read_json(work / f't2m_{run}' / 'metrics.json')
        out[run] = None if m is None else {col: m.get(f't2m/{key}') for _, key in T2M_COLS for col in [key]}
        if m is not None and run == 'start':
            out[REAL] = {key: m.get(f't2m/gt/{key}') for _, key in T2M_COLS}
    out.setdefault(REAL, None)
    return out


def t2m_subtask_numbers(work: Path) -> Dict[str, Optional[dict]]:
    """``{'<subtask>/<run or REAL>': {metric: value}}`` and ``'<subtask>/set'``: the set's size."""
    out = {}
    stats = _read_json(work / 'testsets' / 'testsets_stats.json')
    for sub in SUBTASKS:
        out[f'{sub}/set'] = None if stats is None else dict(captions=stats['captions'][sub],
                                                             motions=stats['motions'][sub])
        for run, _ in MODELS:
            m = _read_json(work / f't2m_{run}_{sub}' / 'metrics.json')
            out[f'{sub}/{run}'] = None if m is None else {key: m.get(f't2m/{key}') for _, key in T2M_COLS}
            if run == 'start':
                out[f'{sub}/{REAL}'] = None if m is None else {key: m.get(f't2m/gt/{key}') for _, key in T2M_COLS}
    return out


def pair_numbers(work: Path) -> Dict[str, Optional[dict]]:
    out = {}
    for stage, pref, name in PAIRS:
        stats = _read_json(work / stage / 'pairs_stats.json')
        if stats is None:
            out[name] = None
            continue
        row = dict(theta=stats['theta'])
        for sub in (*SUBTASKS, 'total'):
            for k in ('prompts', 'motions', 'pairs'):
                row[f'{sub}/{k}'] = stats['table3'][sub][k]
        pref_rows = _read_jsonl(work / pref / 'pairs.jsonl')
        row['with_codes'] = None if pref_rows is None else len(pref_rows)
        out[name] = row
    return out


def numbers(work: Union[str, Path]) -> dict:
    work = Path(work)
    return dict(reward=reward_numbers(work), t2m=t2m_numbers(work), pairs=pair_numbers(work),
                t2m_subtask=t2m_subtask_numbers(work))


# ---------------------------------------------------------------------------- formatting
def _cell(values: List[Optional[float]], fmt: str, runs: int) -> str:
    vals = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not vals:
        return '-'
    if runs == 1:
        return format(vals[0], fmt)
    text = f'{format(np.mean(vals), fmt)} ± {format(np.std(vals, ddof=1) if len(vals) > 1 else 0.0, fmt)}'
    return text + (f' (n={len(vals)})' if len(vals) < runs else '')


def _gather(per_run: List[dict], section: str, row: str, key: str) -> List[Optional[float]]:
    return [(r[section].get(row) or {}).get(key) for r in per_run]


def report(works: Union[str, Path, Sequence[Union[str, Path]]]) -> str:
    works = [Path(works)] if isinstance(works, (str, Path)) else [Path(w) for w in works]
    per_run = [numbers(w) for w in works]
    n = len(works)
    lines = ['# AToM on SynthMotion (projects/atom/pipeline_synthmotion.py)', '']
    if n > 1:
        lines += [f'Mean ± standard deviation over {n} runs: ' + ', '.join(str(w) for w in works), '']

    def missing(section, row, path):
        gone = [str(w) for w, r in zip(works, per_run) if r[section].get(row) is None]
        return f'missing ({path})' + (f' in {", ".join(gone)}' if n > 1 else '') if gone else None

    # table 3
    lines += ['## MotionPrefer pairs (table 3)', '',
              '| pairs | theta | ' + ' | '.join(f'{s} prompts / motions / pairs' for s in (*SUBTASKS, 'total')) +
              ' | pairs with codes |', '|' + '---|' * 7]
    for stage, _, name in PAIRS:
        if all(r['pairs'].get(name) is None for r in per_run):
            lines.append(f'| {name} | {missing("pairs", name, stage + "/pairs_stats.json")} |')
            continue
        cells = [_cell(_gather(per_run, 'pairs', name, 'theta'), 'g', n)]
        for sub in (*SUBTASKS, 'total'):
            cells.append(' / '.join(_cell(_gather(per_run, 'pairs', name, f'{sub}/{k}'), '.0f', n)
                                    for k in ('prompts', 'motions', 'pairs')))
        cells.append(_cell(_gather(per_run, 'pairs', name, 'with_codes'), '.0f', n))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    lines.append('')

    # rewards
    lines += ['## Held-out prompts: offline reward (0-10) and win rate against the start (table 5)', '',
              '| model | ' + ' | '.join(f'reward {s}' for s in (*SUBTASKS, 'all')) + ' | ' +
              ' | '.join(f'win {s}' for s in (*SUBTASKS, 'all')) + ' |', '|' + '---|' * 9]
    for run, label in MODELS:
        if all(r['reward'].get(run) is None for r in per_run):
            lines.append(f'| {label} | {missing("reward", run, f"escore_{run}/scores.jsonl")} |')
            continue
        cells = [_cell(_gather(per_run, 'reward', run, f'reward/{s}'), '.2f', n) for s in (*SUBTASKS, 'all')]
        cells += [_cell(_gather(per_run, 'reward', run, f'win/{s}'), '.3f', n) for s in (*SUBTASKS, 'all')]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    lines.append('')

    # T2M
    lines += ['## T2M metrics on the test captions (tiny evaluator)', '',
              '| model | ' + ' | '.join(c for c, _ in T2M_COLS) + ' |', '|' + '---|' * (len(T2M_COLS) + 1)]
    for run, label in ((REAL, REAL), *MODELS):
        if all(r['t2m'].get(run) is None for r in per_run):
            path = 't2m_start/metrics.json' if run == REAL else f't2m_{run}/metrics.json'
            lines.append(f'| {label} | {missing("t2m", run, path)} |')
            continue
        cells = [_cell(_gather(per_run, 't2m', run, key), '.3f', n) for _, key in T2M_COLS]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    lines.append('')

    # T2M per subtask (table 5)
    lines += ['## T2M metrics per subtask (table 5; tiny evaluator, MModality over the generations per caption)',
              '', '| subtask | model | ' + ' | '.join(c for c, _ in T2M_COLS) + ' |',
              '|' + '---|' * (len(T2M_COLS) + 2)]
    for sub in SUBTASKS:
        size = [(r['t2m_subtask'].get(f'{sub}/set') or {}) for r in per_run]
        if any(size):
            caps = _cell([x.get('captions') for x in size], '.0f', n)
            mots = _cell([x.get('motions') for x in size], '.0f', n)
            name = f'{sub} ({caps} captions / {mots} motions)'
        else:
            name = f'{sub} (set size missing: testsets/testsets_stats.json)'
        for run, label in ((REAL, REAL), *MODELS):
            row = f'{sub}/{run}'
            if all(r['t2m_subtask'].get(row) is None for r in per_run):
                path = f't2m_{"start" if run == REAL else run}_{sub}/metrics.json'
                lines.append(f'| {name} | {label} | {missing("t2m_subtask", row, path)} |')
                continue
            cells = [_cell(_gather(per_run, 't2m_subtask', row, key), '.3f', n) for _, key in T2M_COLS]
            lines.append(f'| {name} | {label} | ' + ' | '.join(cells) + ' |')
    lines.append('')
    return '\n'.join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('work_dirs', nargs='+')
    p.add_argument('--out', default=None)
    p.add_argument('--json', default=None, help='also write the per-run numbers here')
    a = p.parse_args(argv)
    for w in a.work_dirs:
        if not Path(w).is_dir():
            sys.exit(f'{w}: not a folder (run the pipeline first)')
    text = report(a.work_dirs)
    from motionkit.utils.io import atomic_write_bytes
    if a.out:
        atomic_write_bytes(a.out, (text + '\n').encode())
    if a.json:
        atomic_write_bytes(a.json, json.dumps({w: numbers(w) for w in a.work_dirs}, indent=1).encode())
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
