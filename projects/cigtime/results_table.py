"""The CigTime results table from a pipeline run's ``results.json``: print it, write it into READMEs,
or check a run against recorded values.

    python projects/cigtime/results_table.py work_dirs/cigtime_tiny/results.json
    python projects/cigtime/results_table.py RESULTS --update README.md projects/cigtime/README.md
    python projects/cigtime/results_table.py RESULTS --check projects/cigtime/ci_reference.json

``--update`` replaces what stands between ``<!-- cigtime-results:begin -->`` and
``<!-- cigtime-results:end -->`` in each file with the whole report, and between
``<!-- cigtime-results-test:begin -->`` / ``...:end -->`` with the test table alone (the tables
are never edited by hand). ``--check``
compares every recorded cell with its tolerance and exits 1 naming the cells that moved; ``--record
FILE`` writes the reference file from a run (with the tolerances below).

Layout of ``results.json`` (written by ``run_pipeline.py``): ``runs`` = ``{seed: {split: {row:
metrics}}}``, plus ``counts``, ``timings_s``, ``command``. A row is a method or a control; metric
keys are the evaluators' (``caption/bleu_4``, ``recon_exact/mpjpe``, ...).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# row -> label, in table order. Methods first (the paper's method rows kept), then the controls.
METHOD_LABELS = {
    'nn_retrieval': 'Nearest-neighbour retrieval (time-pooled descriptor)',
    'nn_retrieval_steps': 'Nearest-neighbour retrieval (per-step descriptor; k-vote, k=1 chosen on val)',
    'caption_of_target': 'Caption of target (M2T; motion tokens)',
    'caption_of_target_steps': 'Caption of target (M2T; target feature steps)',
    'cigtime': 'CigTime (tiny LM, full FT; motion tokens as text, Fig. 2)',
    'cigtime_steps': 'CigTime (tiny LM, full FT; source/target feature steps)',
}
CONTROL_LABELS = {
    'reference': 'Ground-truth instruction (editor ceiling)',
    'shuffled': 'Control: ground truth, words shuffled',
    'truncated': 'Control: ground truth, first half',
    'other_triplet': "Control: another triplet's instruction",
    'nonsense': 'Control: nonsense words',
}
COLUMNS = [  # (metrics key, header, format, scale)
    ('caption/bleu_4', 'BLEU-4', '{:.3f}', 1.0),
    ('caption/rouge_1', 'ROUGE', '{:.3f}', 1.0),
    ('caption/meteor', 'METEOR', '{:.3f}', 1.0),
    ('caption/text_sim', 'Text sim.', '{:.3f}', 1.0),
    ('operator/accuracy', 'Right edit (%)', '{:.1f}', 100.0),
    ('recon_exact/body_part_accuracy', 'Right part (%)', '{:.1f}', 100.0),
    ('novelty/verbatim_copy', 'Verbatim train (%)', '{:.1f}', 100.0),
    ('recon_exact/mpjpe', 'MPJPE exact (mm)', '{:.1f}', 1.0),
    ('recon_mdm/mpjpe', 'MPJPE MDM (mm)', '{:.1f}', 1.0),
]
# --check tolerances (absolute, in the metric's own units): text scores and shares move by a few
# hundredths when one generated instruction in ~50 changes; MPJPE in mm
TOLERANCES = {'caption/': 0.02, 'operator/': 0.04, 'novelty/': 0.04, 'recon_exact/body_part': 0.04,
              'recon_exact/mpjpe': 5.0, 'recon_mdm/mpjpe': 5.0}
BEGIN, END = '<!-- cigtime-results:begin -->', '<!-- cigtime-results:end -->'
TEST_BEGIN, TEST_END = '<!-- cigtime-results-test:begin -->', '<!-- cigtime-results-test:end -->'


def _rows(split_metrics: Dict[str, dict]) -> List[Tuple[str, str]]:
    rows = [(k, v) for k, v in METHOD_LABELS.items() if k in split_metrics]
    rows += [(k, v) for k, v in CONTROL_LABELS.items() if k in split_metrics]
    unknown = sorted(set(split_metrics) - set(METHOD_LABELS) - set(CONTROL_LABELS))
    return rows + [(k, k) for k in unknown]


def aggregate(runs: Dict[str, Dict[str, Dict[str, dict]]], split: str) -> Dict[str, Dict[str, Tuple[float, float, int]]]:
    """``{row: {key: (mean, sample std, n seeds)}}`` of one split over the seeds that have it."""
    out: Dict[str, Dict[str, list]] = {}
    for seed_runs in runs.values():
        for row, metrics in (seed_runs.get(split) or {}).items():
            for key, value in metrics.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    out.setdefault(row, {}).setdefault(key, []).append(float(value))
    agg = {}
    for row, keys in out.items():
        agg[row] = {}
        for key, values in keys.items():
            n = len(values)
            mean = sum(values) / n
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
            agg[row][key] = (mean, std, n)
    return agg


def _cell(stats: Optional[Tuple[float, float, int]], fmt: str, scale: float) -> str:
    if stats is None:
        return '-'
    mean, std, n = stats
    text = fmt.format(mean * scale)
    if n > 1:
        text += ' ± ' + fmt.format(std * scale)
    return text


def table(results: dict, split: str = 'test') -> str:
    """The Markdown table of one split: mean ± sample standard deviation over the seeds (a single
    seed prints the value). The "do nothing" row is the unedited source."""
    agg = aggregate(results['runs'], split)
    if not agg:
        raise ValueError(f'results hold no {split!r} split (splits: '
                         f'{sorted({s for r in results["runs"].values() for s in r})})')
    head = '| Method | ' + ' | '.join(h for _, h, _, _ in COLUMNS) + ' |'
    lines = [head, '|---|' + '---:|' * len(COLUMNS)]
    any_row = next(iter(agg.values()))
    nothing = {'recon_exact/mpjpe': any_row.get('recon_exact/mpjpe_source'),
               'recon_mdm/mpjpe': next((m['recon_mdm/mpjpe_source'] for m in agg.values()
                                        if 'recon_mdm/mpjpe_source' in m), None)}
    lines.append('| Source unchanged ("do nothing") | ' + ' | '.join(
        _cell(nothing.get(k), fmt, scale) for k, _, fmt, scale in COLUMNS) + ' |')
    for row, label in _rows(agg):
        lines.append(f'| {label} | ' + ' | '.join(_cell(agg[row].get(k), fmt, scale)
                                                  for k, _, fmt, scale in COLUMNS) + ' |')
    return '\n'.join(lines)


def select_on_validation(results: dict, key: str = 'operator/accuracy',
                         candidates: Sequence[str] = tuple(METHOD_LABELS)) -> Optional[str]:
    """The method with the best mean validation ``key`` (higher is better): the only place a method
    is chosen. Its test numbers are then read once."""
    agg = aggregate(results['runs'], 'val')
    scored = [(agg[m][key][0], m) for m in candidates if m in agg and key in agg[m]]
    return max(scored)[1] if scored else None


def report(results: dict) -> str:
    """Both tables with the note on splits, seeds and selection (what the READMEs show)."""
    seeds = sorted(results['runs'], key=lambda s: int(s))
    counts = results.get('counts', {})
    best = select_on_validation(results)
    spread = ('mean ± sample standard deviation over the seeds' if len(seeds) > 1 else
              'one training seed: no spread measured')
    parts = [
        f'Training seed(s) {", ".join(seeds)} ({spread}); '
        f'{counts.get("train", "?")} train / {counts.get("val", "?")} val / {counts.get("test", "?")} test '
        'triplets. Val and test instructions use phrasings no training instruction uses.',
        '',
        f'**Test split** (reported once; the method chosen on validation by operator accuracy: '
        f'{METHOD_LABELS.get(best, best)})',
        '',
        table(results, 'test'),
    ]
    if aggregate(results['runs'], 'val'):
        parts += ['', '**Validation split** (the split methods and recipes are chosen on)', '', table(results, 'val')]
    if results.get('command'):
        parts += ['', f'Produced by `{results["command"]}`.']
    return '\n'.join(parts)


def _replace_block(src: str, begin: str, end: str, text: str) -> str:
    head, rest = src.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + begin + '\n' + text + '\n' + end + tail


def update_file(path: Path, text: str, test_table: Optional[str] = None) -> bool:
    """Replace the marked blocks of ``path``: the report block with ``text``, the test block with
    ``test_table``. ``False`` when the file has neither."""
    src = path.read_text(encoding='utf-8')
    new = src
    if BEGIN in new and END in new:
        new = _replace_block(new, BEGIN, END, text)
    if test_table is not None and TEST_BEGIN in new and TEST_END in new:
        new = _replace_block(new, TEST_BEGIN, TEST_END, test_table)
    if BEGIN not in src and TEST_BEGIN not in src:
        return False
    from motionkit.utils.io import atomic_write_text
    atomic_write_text(path, new)
    return True


# metafile model (projects/cigtime/metafile.yml) -> table row whose test numbers it reports
METAFILE_MODELS = {
    'cigtime_tiny_synthmotion': 'cigtime',
    'cigtime-pair-features_tiny_synthmotion': 'cigtime_steps',
    'caption-of-target_tiny_synthmotion': 'caption_of_target',
    'caption-of-target-steps_tiny_synthmotion': 'caption_of_target_steps',
    'nn-retrieval_synthmotion': 'nn_retrieval',
    'nn-retrieval-steps-k1_synthmotion': 'nn_retrieval_steps',
}


def metafile_results(results: dict, row: str, task: str, date: str) -> str:
    """The ``Results:`` block of one metafile model: test-split means over the seeds."""
    agg = aggregate(results['runs'], 'test')[row]
    seeds = len(results['runs'])
    n = results.get('counts', {}).get('test', '?')
    lines = ['    Results:', f'      - Task: {task}',
             f'        Dataset: SynthMotion CigTime triplets ({n} test; held-out phrasings)',
             "        Evaluator: 'CigTime text metrics after the body-part opening; right SynthMotion edit; "
             "MPJPE after editing the source with the instruction (exact editor: all triplets; MDM: per-part "
             "editors), body part parsed from the instruction'",
             f'        Measured By: motionkit ({date}; mean of {seeds} training seed(s), '
             'projects/cigtime/results_table.py)', '        Metrics:']
    for key, header, fmt, scale in COLUMNS:
        if key in agg:
            lines.append(f'          {header}: {fmt.format(agg[key][0] * scale)}')
    return '\n'.join(lines) + '\n'


def update_metafile(path: Path, results: dict, date: str) -> List[str]:
    """Rewrite the ``Results:`` block of every model of :data:`METAFILE_MODELS` in ``path`` from
    ``results``; returns the models updated."""
    import re
    text = path.read_text(encoding='utf-8')
    done = []
    for name, row in METAFILE_MODELS.items():
        m = re.search(r'(?m)^  - Name: ' + re.escape(name) + r'\n', text)
        if m is None or row not in aggregate(results['runs'], 'test'):
            continue
        end = text.find('\n  - Name: ', m.end())
        end = len(text) if end < 0 else end + 1
        block = text[m.start():end]
        task = re.search(r'(?m)^      - Task: (.*)$', block)
        task = task.group(1) if task else 'Corrective instruction generation'
        new = re.sub(r'(?ms)^    Results:\n.*?(?=^    Weights Note:|\Z)', '', block)
        new = new.replace('    Weights Note:', metafile_results(results, row, task, date) + '    Weights Note:', 1)
        text = text[:m.start()] + new + text[end:]
        done.append(name)
    from motionkit.utils.io import atomic_write_text
    atomic_write_text(path, text)
    return done


def _tolerance(key: str) -> float:
    for prefix, tol in TOLERANCES.items():
        if key.startswith(prefix):
            return tol
    return 0.0


# rows whose numbers involve no training (and columns that involve no trained editor): the only
# cells comparable across numeric environments (docs/reproducibility.md)
TRAINING_FREE_ROWS = ('nn_retrieval', 'nn_retrieval_steps') + tuple(CONTROL_LABELS)
ENVIRONMENT_KEYS = ('torch', 'cpu_capability', 'num_threads')


def record(results: dict, keys: Sequence[str] = tuple(k for k, *_ in COLUMNS) + (
        'recon_exact/mpjpe_source', 'recon_mdm/mpjpe_source')) -> dict:
    """The reference of a run for :func:`check`: ``{split: {row: {key: [value, tolerance]}}}``
    (first seed)."""
    seed = sorted(results['runs'], key=lambda s: int(s))[0]
    ref = {'_numeric_env': {k: (results.get('numeric_env') or {}).get(k) for k in ENVIRONMENT_KEYS}}
    for split, rows in results['runs'][seed].items():
        for row, metrics in rows.items():
            for key in keys:
                if key in metrics:
                    ref.setdefault(split, {}).setdefault(row, {})[key] = [metrics[key], _tolerance(key)]
    return ref


def same_environment(results: dict, reference: dict) -> bool:
    """Whether the run's numeric environment (torch build, CPU kernels, threads) is the recorded one."""
    want = reference.get('_numeric_env') or {}
    got = results.get('numeric_env') or {}
    return all(got.get(k) == want.get(k) for k in ENVIRONMENT_KEYS)


def check(results: dict, reference: dict) -> List[str]:
    """The cells of the first seed that differ from ``reference`` by more than their tolerance
    (or are missing); empty when the run reproduces the recorded table.

    Training is bit-identical in one numeric environment only: the VQ-VAE quantiser turns last-bit
    differences of another CPU or thread count into other tokens (docs/reproducibility.md). In
    another environment only the cells that involve no training are checked (retrieval and control
    rows, without the MDM column); the trained rows are then left to the tolerance of a new seed."""
    seed = sorted(results['runs'], key=lambda s: int(s))[0]
    run = results['runs'][seed]
    same = same_environment(results, reference)
    moved = []
    for split, rows in reference.items():
        if split.startswith('_'):
            continue
        for row, keys in rows.items():
            if not same and row not in TRAINING_FREE_ROWS:
                continue
            for key, (want, tol) in keys.items():
                if not same and key.startswith('recon_mdm'):
                    continue
                got = ((run.get(split) or {}).get(row) or {}).get(key)
                if got is None:
                    moved.append(f'{split}/{row}/{key}: missing (recorded {want})')
                elif not abs(got - want) <= tol:
                    moved.append(f'{split}/{row}/{key}: {got:.4f}, recorded {want:.4f} +- {tol}')
    return moved


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('results', help='results.json of a run_pipeline.py run')
    p.add_argument('--update', nargs='*', default=[], metavar='FILE',
                   help='write the tables between the cigtime-results markers of these files')
    p.add_argument('--check', metavar='REFERENCE', help='compare with recorded values; exit 1 when a cell moved')
    p.add_argument('--record', metavar='REFERENCE', help='write the reference file of this run')
    p.add_argument('--metafile', metavar='METAFILE', help="rewrite the models' Results blocks of this metafile")
    p.add_argument('--date', default=None, help='date written into the metafile (default: today)')
    args = p.parse_args(argv)
    results = json.loads(Path(args.results).read_text(encoding='utf-8'))
    text = report(results)
    print(text)
    seeds = sorted(results['runs'], key=lambda s: int(s))
    test_only = (table(results, 'test') + f'\n\nTest split; training seed(s) {", ".join(seeds)} ('
                 + ('mean ± sample standard deviation' if len(seeds) > 1 else 'one seed: no spread measured') + ')'
                 + (f'; `{results["command"]}`.' if results.get('command') else '.'))
    for f in args.update:
        if not update_file(Path(f), text, test_only):
            raise SystemExit(f'{f}: no {BEGIN} ... {END} block to replace')
        print(f'updated {f}')
    if args.metafile:
        import datetime
        done = update_metafile(Path(args.metafile), results, args.date or datetime.date.today().isoformat())
        print(f'updated {args.metafile}: {", ".join(done)}')
    if args.record:
        from motionkit.utils.io import atomic_write_text
        atomic_write_text(Path(args.record), json.dumps(record(results), indent=1, sort_keys=True) + '\n')
        print(f'recorded {args.record}')
    if args.check:
        reference = json.loads(Path(args.check).read_text(encoding='utf-8'))
        if not same_environment(results, reference):
            print(f'numeric environment {results.get("numeric_env")} is not the recorded '
                  f'{reference.get("_numeric_env")}: checking the training-free cells only', file=sys.stderr)
        moved = check(results, reference)
        if moved:
            print(f'{len(moved)} cell(s) moved beyond their tolerance:\n  ' + '\n  '.join(moved), file=sys.stderr)
            return 1
        print(f'every recorded cell of {args.check} reproduces within its tolerance')
    return 0


if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main())
