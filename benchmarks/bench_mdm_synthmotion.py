"""Tiny MDM and PriorMDM on SynthMotion: generation quality through a trained T2M evaluator, and
the PriorMDM control error, against an untrained MDM and the real motions.

Usage::

    python benchmarks/bench_mdm_synthmotion.py [--work-dir work_dirs/bench_mdm_synthmotion]
        [--threads 1] [--skip-priormdm]

Stages (each skipped when its checkpoint exists, so an interrupted run resumes), all through the
user-facing tools:

1. ``tools/train.py configs/t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py``;
2. ``tools/train.py configs/mdm/mdm_tiny_1xb32-2k_synthmotion.py``;
3. ``tools/train.py configs/priormdm/priormdm-{lw,rf}_tiny_1xb32-2k_synthmotion.py`` fine-tuned
   from the MDM checkpoint (``load_from``);
4. ``tools/test.py`` of the MDM config with no weights (the untrained model) and with its
   checkpoint, and of the PriorMDM configs, each scored by ``T2MGenerationMetric`` (Guo et al.'s
   protocol on SynthMotion's test split, 20 replications; the ``real`` row is the real test
   motions' own R-precision / MM-Dist / Diversity) and, for PriorMDM, ``ControlErrorMetric``.

Prints a table and writes ``results.md`` / ``results.json`` into the work dir. ``--check`` exits 1
unless the trained MDM beats the untrained one through the evaluator (R-precision top-3 by more than
0.15, FID below half, MM-Dist lower, the real motions' top-3 above 0.5): the claim a test suite
test used to make in five minutes of CI, now checked here.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL_CFG = 'configs/t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py'
MDM_CFG = 'configs/mdm/mdm_tiny_1xb32-2k_synthmotion.py'
PRIOR_CFGS = {'PriorMDM-LW': 'configs/priormdm/priormdm-lw_tiny_1xb32-2k_synthmotion.py',
              'PriorMDM-RF': 'configs/priormdm/priormdm-rf_tiny_1xb32-2k_synthmotion.py'}


def run(cmd: list, env: dict, log: Path) -> float:
    start = time.time()
    print('$', ' '.join(cmd), flush=True)
    with open(log, 'w') as f:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        tail = log.read_text().splitlines()[-30:]
        raise SystemExit(f'failed ({proc.returncode}): {" ".join(cmd)}\n' + '\n'.join(tail))
    return time.time() - start


def train(cfg: str, work: Path, env: dict, extra: list = ()) -> tuple:
    ckpt = work / 'iter_2000.pth'
    if ckpt.is_file():
        return ckpt, 0.0
    work.mkdir(parents=True, exist_ok=True)
    seconds = run([sys.executable, 'tools/train.py', cfg, '--work-dir', str(work), *extra], env,
                  work / 'train.out')
    if not ckpt.is_file():
        raise SystemExit(f'{cfg}: training finished without {ckpt}')
    return ckpt, seconds


def test(cfg: str, ckpt, out: Path, env: dict, options: list) -> tuple:
    if out.is_file():
        return json.loads(out.read_text()), 0.0
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = run([sys.executable, 'tools/test.py', cfg, str(ckpt), '--work-dir', str(out.parent),
                   '--metrics-out', str(out), '--cfg-options', *options], env,
                  out.with_suffix('.out'))
    return json.loads(out.read_text()), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/bench_mdm_synthmotion')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--skip-priormdm', action='store_true')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 unless the trained MDM beats the untrained one (see above)')
    args = parser.parse_args()
    work = (REPO / args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))

    times = {}
    eval_ckpt, times['train evaluator'] = train(EVAL_CFG, work / 'evaluator', env)
    mdm_ckpt, times['train MDM'] = train(MDM_CFG, work / 'mdm', env)
    rows = {}

    def options(index: int, name: str) -> list:
        return [f'test_evaluator.{index}.evaluator_checkpoint={eval_ckpt}',
                f'test_evaluator.{index + 1}.out_file_path={work / name / "predictions.pkl"}']

    rows['MDM untrained'], times['test MDM untrained'] = test(
        MDM_CFG, 'none', work / 'mdm_untrained' / 'metrics.json', env, options(0, 'mdm_untrained'))
    rows['MDM trained'], times['test MDM trained'] = test(
        MDM_CFG, mdm_ckpt, work / 'mdm' / 'metrics.json', env, options(0, 'mdm'))
    if not args.skip_priormdm:
        for name, cfg in PRIOR_CFGS.items():
            key = name.lower().replace('-', '_')
            ckpt, times[f'train {name}'] = train(cfg, work / key, env,
                                                 ['--cfg-options', f'load_from={mdm_ckpt}'])
            rows[name], times[f'test {name}'] = test(cfg, ckpt, work / key / 'metrics.json', env,
                                                     options(1, key))

    real = rows['MDM trained']
    cols = [('R@1', 'r_precision_top1'), ('R@2', 'r_precision_top2'), ('R@3', 'r_precision_top3'),
            ('FID', 'fid'), ('MM-Dist', 'mm_dist'), ('Diversity', 'diversity')]
    lines = ['| motions | ' + ' | '.join(c for c, _ in cols) + ' | control error (mm): facing frame / '
             'root-relative / global |', '|---' * (len(cols) + 2) + '|']
    lines.append('| real (test split) | ' + ' | '.join(
        f"{real['t2m/gt/' + k]:.3f}" if f't2m/gt/{k}' in real else '-' for _, k in cols)
        + ' | - |')
    for name, m in rows.items():
        ctrl = (f"{m.get('control/error_facing', float('nan')):.1f} / "
                f"{m['control/error_local']:.1f} / {m['control/error']:.1f}"
                if 'control/error' in m else '-')
        lines.append(f'| {name} | ' + ' | '.join(
            f"{m['t2m/' + k]:.3f} ± {m['t2m/' + k + '_ci95']:.3f}" for _, k in cols)
            + f' | {ctrl} |')
    table = '\n'.join(lines)
    timing = '\n'.join(f'- {k}: {v:.0f} s' for k, v in times.items() if v)
    print(table)
    print(timing)
    (work / 'results.md').write_text(table + '\n\n' + timing + '\n')
    (work / 'results.json').write_text(json.dumps(dict(rows=rows, seconds=times), indent=1))
    if args.check:
        failed = check_trained_beats_untrained(rows['MDM trained'], rows['MDM untrained'])
        if failed:
            raise SystemExit('check failed: ' + '; '.join(failed))
        print('check passed: the trained MDM beats the untrained one through the evaluator')


def check_trained_beats_untrained(trained: dict, untrained: dict) -> list:
    """What fails of: the real motions' R@3 > 0.5, trained R@3 > untrained + 0.15, trained FID <
    half the untrained FID, trained MM-Dist < untrained (``[]``: all hold)."""
    failed = []
    if not trained['t2m/gt/r_precision_top3'] > 0.5:
        failed.append(f"real R@3 {trained['t2m/gt/r_precision_top3']:.3f} <= 0.5")
    if not trained['t2m/r_precision_top3'] > untrained['t2m/r_precision_top3'] + 0.15:
        failed.append(f"R@3 trained {trained['t2m/r_precision_top3']:.3f} vs untrained "
                      f"{untrained['t2m/r_precision_top3']:.3f}")
    if not trained['t2m/fid'] < 0.5 * untrained['t2m/fid']:
        failed.append(f"FID trained {trained['t2m/fid']:.3f} vs untrained {untrained['t2m/fid']:.3f}")
    if not trained['t2m/mm_dist'] < untrained['t2m/mm_dist']:
        failed.append(f"MM-Dist trained {trained['t2m/mm_dist']:.3f} vs untrained {untrained['t2m/mm_dist']:.3f}")
    return failed


if __name__ == '__main__':
    main()
