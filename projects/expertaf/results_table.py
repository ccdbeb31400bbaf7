"""ExpertAF table 1 (commentary, retrieval, pose generation) from finished pipeline work dirs
(projects/expertaf/pipeline_synthmotion.py), one per training seed:

    python projects/expertaf/results_table.py WORK_DIR [WORK_DIR ...] [--out results.md] [--json results.json]

With several work dirs every number is the mean +- standard deviation over them (the seeds); the
per-seed numbers go to ``--json``. Rows: the baselines (video nearest neighbour, its contrastively
fine-tuned variant, LLaVA-FT w/ pose), ExpertAF, its ablations, and two reference rows for the pose
column: the learner's own pose scored against the expert's ("no correction") and the PoseTokenizer's
reconstruction error on SynthMotion's test poses (what a generated pose decoded by it cannot beat).
Then the checks the tiny run is meant to show, computed from the same numbers, and the pair builds'
statistics. A missing stage output is reported as missing, never filled in.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# (stage, row name); every stage wrote <stage>/metrics.json
ROWS = (('video_nn', 'Video-feature NN (InternVideo2-NN analogue, frozen tiny ViT)'),
        ('test_contrastive_nn', 'Video-feature NN, contrastively fine-tuned'),
        ('test_llava_ft_pose', 'LLaVA-FT w/ pose (pose as text tokens)'),
        ('test_expertaf', 'ExpertAF (video + PCT pose tokens)'),
        ('test_no_video', 'ExpertAF w/o video'),
        ('test_no_pose', 'ExpertAF w/o pose'),
        ('test_no_align', 'ExpertAF w/o alignment (pairs built with --search-s 0)'),
        ('test_global_pose', 'ExpertAF w/ global pose'))
# column -> (metrics key, scale, digits)
COLUMNS = {
    'BLEU-4': ('caption/bleu_4', 100, 1),
    'METEOR': ('caption/meteor', 100, 1),
    'ROUGE-L': ('caption/rouge_l', 100, 1),
    'R@1': ('retrieval/R01', 100, 1),
    'R@5': ('retrieval/R05', 100, 1),
    'R@50': ('retrieval/R50', 100, 1),
    'MedR': ('retrieval/MedR', 1, 1),
    'PA-MPJPE (mm)': ('pose/pa_mpjpe', 1, 1),
    'well-formed (%)': ('pose/well_formed', 100, 0),
}
LOWER_IS_BETTER = {'MedR', 'PA-MPJPE (mm)'}


def _read_json(path: Path) -> Optional[dict]:
    return json.loads(path.read_text()) if path.is_file() else None


def collect(work: Path) -> dict:
    """Every number of one work dir: ``rows`` (stage -> metrics or None), the reference rows and
    the pair builds' statistics."""
    work = Path(work)
    rows = {stage: _read_json(work / stage / 'metrics.json') for stage, _ in ROWS}
    main = rows.get('test_expertaf') or next((m for m in rows.values() if m and 'learner_pose/pa_mpjpe' in m), None)
    learner = None if main is None or 'learner_pose/pa_mpjpe' not in main else main['learner_pose/pa_mpjpe']
    pct = _read_json(work / 'test_pct' / 'metrics.json')
    pairs = {name: _read_json(work / name / 'statistics.json') for name in ('pairs', 'pairs_noalign')}
    pool = None if main is None else main.get('retrieval/pool_size')
    return dict(rows=rows, learner_pa_mpjpe=learner, pct_pa_mpjpe=None if pct is None else pct.get('joint/pa_mpjpe'),
                pool_size=pool, pairs=pairs)


def _values(runs: List[dict], stage: str, key: str, scale: float) -> List[Optional[float]]:
    out = []
    for run in runs:
        m = run['rows'].get(stage)
        out.append(None if m is None or key not in m else float(m[key]) * scale)
    return out


def _cell(values: Sequence[Optional[float]], digits: int) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return '-'
    if len(values) == 1:
        return f'{vals[0]:.{digits}f}'
    n = '' if len(vals) == len(values) else f' (n={len(vals)})'
    if len(vals) == 1:
        return f'{vals[0]:.{digits}f}{n}'
    return f'{np.mean(vals):.{digits}f} ± {float(np.std(vals, ddof=1)):.{digits}f}{n}'


def _mean(values: Sequence[Optional[float]]) -> Optional[float]:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def checks(runs: List[dict]) -> List[str]:
    """The claims the tiny run is meant to show, each answered from the means of the numbers."""
    def m(stage, col):
        key, scale, _ = COLUMNS[col]
        return _mean(_values(runs, stage, key, scale))

    def verdict(ok):
        return 'n/a (missing)' if ok is None else ('yes' if ok else 'no')

    def cmp(a, b, lower=False):
        if a is None or b is None:
            return None
        return a < b if lower else a > b

    out = []
    for col in ('BLEU-4', 'METEOR', 'R@50', 'MedR'):
        lower = col in LOWER_IS_BETTER
        a, b = m('test_expertaf', col), m('video_nn', col)
        out.append(f'ExpertAF {"below" if lower else "above"} the video NN on {col}: '
                   f'{verdict(cmp(a, b, lower))} ({_fmt(a)} vs {_fmt(b)})')
    learner = _mean([r['learner_pa_mpjpe'] for r in runs])
    gen = m('test_expertaf', 'PA-MPJPE (mm)')
    out.append(f"generated pose closer to the expert's than the learner's own pose (PA-MPJPE): "
               f'{verdict(cmp(gen, learner, True))} ({_fmt(gen)} vs {_fmt(learner)} mm)')
    costs = []
    for col in ('BLEU-4', 'METEOR', 'R@50', 'MedR', 'PA-MPJPE (mm)'):
        a, b = m('test_expertaf', col), m('test_no_align', col)
        if a is not None and b is not None:
            worse = b > a if col in LOWER_IS_BETTER else b < a
            costs.append(f'{col} {_fmt(a)} -> {_fmt(b)}{" (worse)" if worse else ""}')
    out.append('without alignment: ' + ('; '.join(costs) if costs else 'n/a (missing)'))
    return out


def _fmt(v: Optional[float]) -> str:
    return '-' if v is None else f'{v:.2f}'


def report(works: Sequence[Path], runs: Optional[List[dict]] = None) -> str:
    works = [Path(w) for w in works]
    runs = runs if runs is not None else [collect(w) for w in works]
    lines = ['# ExpertAF on SynthMotion (tiny CPU preset)', '']
    if len(runs) > 1:
        lines += [f'Mean ± standard deviation over {len(runs)} runs: ' + ', '.join(str(w) for w in works), '']
    pools = sorted({int(r['pool_size']) for r in runs if r['pool_size'] is not None})
    lines += ['Test split; commentary and recall in %, MedR in ranks over a retrieval pool of '
              f'{"/".join(map(str, pools)) or "?"} test experts, PA-MPJPE in mm (generated pose vs the expert\'s).', '']
    cols = list(COLUMNS)
    lines.append('| method | ' + ' | '.join(cols) + ' |')
    lines.append('|---|' + '---|' * len(cols))
    for stage, name in ROWS:
        if all(r['rows'].get(stage) is None for r in runs):
            lines.append(f'| {name} | missing ({stage}/metrics.json) |' + ' |' * (len(cols) - 1))
            continue
        cells = [_cell(_values(runs, stage, *COLUMNS[c][:2]), COLUMNS[c][2]) for c in cols]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    lines.append('| ExpertAF w/ full supervision | not built (see README) |' + ' |' * (len(cols) - 1))
    pose_col = cols.index('PA-MPJPE (mm)')
    for label, key in (("no correction: the learner's own pose", 'learner_pa_mpjpe'),
                       ('PoseTokenizer reconstruction, SynthMotion test poses (floor)', 'pct_pa_mpjpe')):
        cells = ['-'] * len(cols)
        cells[pose_col] = _cell([r[key] for r in runs], 1)
        if all(r[key] is None for r in runs):
            cells[pose_col] = 'missing'
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    lines += ['', '## Checks', ''] + [f'- {c}' for c in checks(runs)]
    lines += ['', '## Pairs', '', '| build | train | val | test | PA-MPJPE of kept pairs, mean (mm) |', '|---|---|---|---|---|']
    for name in ('pairs', 'pairs_noalign'):
        st = runs[0]['pairs'].get(name)
        if st is None:
            lines.append(f'| {name} | missing ({name}/statistics.json) | | | |')
            continue
        per = st.get('pairs_per_split', {})
        pa = st.get('pa_mpjpe_mm', {}).get('all_pairs', {}).get('mean')
        lines.append(f'| {name} | {per.get("train", 0)} | {per.get("val", 0)} | {per.get("test", 0)} | '
                     f'{"-" if pa is None else f"{pa:.1f}"} |')
    return '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dirs', nargs='+')
    p.add_argument('--out', help='write the table (markdown) here, atomically')
    p.add_argument('--json', help="write every run's numbers here (JSON), atomically")
    a = p.parse_args(argv)
    from motionkit.utils.io import atomic_write_text
    runs = [collect(Path(w)) for w in a.work_dirs]
    text = report(a.work_dirs, runs)
    if a.out:
        atomic_write_text(a.out, text)
    if a.json:
        atomic_write_text(a.json, json.dumps(dict(zip(a.work_dirs, runs)), indent=1) + '\n')
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
