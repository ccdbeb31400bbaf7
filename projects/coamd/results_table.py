"""The CoAMD tables from a finished pipeline work dir (projects/coamd/pipeline_synthmotion.py):

    python projects/coamd/results_table.py WORK_DIR [--out results.md]

* action classes: counts and the adjusted Rand index against SynthMotion's own labels;
* recognition and retrieval of the MAR (J+B+M) and the joints-only MAR on the test split (table 7's
  J vs J+B+M; multi-label mAP, top-1 hit accuracy overall and per head / medium / tail bucket,
  text->motion / motion->text R@k);
* generation (tables 1 and 8's rows: w/o MAR, guided, joints-only guidance, guidance once at the
  end): how many test prompts were generated, the mean joint speed of the generations against the
  ground truth's (a check of jitter), and the J+B+M MAR's eq.-6 score of each generation against its
  caption. That score is the guidance objective itself, so it shows that guidance does what it is
  told, not that the motions are better: the independent T2M metrics on absolute coordinates need
  the in-house absolute-coordinate evaluator, which is not built yet (issue #19);
* the linear probe on the real Bandai Namco clips: MAR embeddings vs raw joint coordinates.

A missing stage output is reported as missing, never filled in.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SAMPLES = (('sample_unguided', 'CoAMD w/o MAR (unguided)'),
           ('sample_guided', 'CoAMD, MAR guidance every step (eq. 6-8)'),
           ('sample_guided_joints', 'CoAMD, joints-only MAR guidance'),
           ('sample_guided_once', 'CoAMD, guidance once at the end (w/o autoregression)'))
RECOGNIZERS = (('test_mar', 'MAR, joint + bone + motion'), ('test_mar_joint', 'MAR, joints only'))
FPS = 20.0


def _read_json(path: Path) -> Optional[dict]:
    return json.loads(path.read_text()) if path.is_file() else None


def mean_joint_speed(joints: List[np.ndarray], fps: float = FPS) -> float:
    """Mean over motions, frames and joints of ``|x[t+1] - x[t]| * fps`` (m/s)."""
    speeds = [np.linalg.norm(np.diff(np.asarray(j, dtype=np.float64), axis=0), axis=-1).mean() * fps
              for j in joints if len(j) > 1]
    if not speeds:
        raise ValueError('no motion with two or more frames')
    return float(np.mean(speeds))


def recognition_rows(work: Path) -> List[str]:
    rows = ['| recognizer | mAP | top-1 hit | head | medium | tail | t2m R@1 | t2m R@5 | m2t R@1 | m2t R@5 |',
            '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for stage, label in RECOGNIZERS:
        m = _read_json(work / stage / 'metrics.json')
        if m is None:
            rows.append(f'| {label} | missing ({stage}/metrics.json) | | | | | | | | |')
            continue

        def pick(*names):
            for n in names:
                if n in m:
                    return f'{100 * float(m[n]):.1f}' if float(m[n]) <= 1 else f'{float(m[n]):.1f}'
            return '-'
        buckets = ' | '.join(pick(f'recognition/{b}_acc') for b in ('head', 'medium', 'tail'))
        rows.append(f'| {label} | {pick("recognition/mAP")} | {pick("recognition/top1")} | {buckets} | '
                    f'{pick("retrieval/all/t2m/R01", "retrieval/all/t2m/R@1")} | '
                    f'{pick("retrieval/all/t2m/R05", "retrieval/all/t2m/R@5")} | '
                    f'{pick("retrieval/all/m2t/R01", "retrieval/all/m2t/R@1")} | '
                    f'{pick("retrieval/all/m2t/R05", "retrieval/all/m2t/R@5")} |')
    return rows


def generation_rows(work: Path, scorer=None) -> List[str]:
    from motionkit.utils import safe_pickle_load
    rows = ['| method | prompts | joint speed (m/s), generated | ground truth | MAR score (eq. 6) |',
            '|---|---:|---:|---:|---:|']
    for stage, label in SAMPLES:
        path = work / stage / 'predictions.pkl'
        if not path.is_file():
            rows.append(f'| {label} | missing ({stage}/predictions.pkl) | | | |')
            continue
        preds = safe_pickle_load(str(path))
        gen = [p['pred_joints'] for p in preds]
        gt = [p['gt_joints'] for p in preds if p.get('gt_joints') is not None]
        score = '-'
        if scorer is not None:
            texts = [p.get('gt_text') or (p.get('gt_texts') or [None])[0] for p in preds]
            score = f'{scorer(gen, texts):.3f}'
        rows.append(f'| {label} | {len(preds)} | {mean_joint_speed(gen):.2f} | '
                    f'{mean_joint_speed(gt) if gt else float("nan"):.2f} | {score} |')
    return rows


def mar_scorer(work: Path):
    """The trained J+B+M MAR's eq.-6 score (default weights) of generations against their captions."""
    ckpt = work / 'mar' / 'mar.pth'
    if not ckpt.is_file():
        return None
    import torch
    from motionkit.utils.owned_model import build_owned_model
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    model = build_owned_model(str(REPO / 'projects/coamd/configs/mar_tiny_1xb32-1k_synthmotion.py'), str(ckpt),
                              'CoAMD results table', required_attr='score')

    def score(joints: List[np.ndarray], texts: List[str]) -> float:
        if any(t is None for t in texts):
            raise ValueError('predictions carry no caption (gt_text) to score against')
        out = []
        with torch.no_grad():
            for j, t in zip(joints, texts):
                x = torch.as_tensor(np.asarray(j), dtype=torch.float32)[None]
                t = t[0] if isinstance(t, (list, tuple)) else t
                out.append(float(model.score(x, [t])[0]))
        return float(np.mean(out))
    return score


def label_rows(work: Path) -> List[str]:
    manifest = _read_json(work / 'labels' / 'manifest.json')
    if manifest is None:
        return ['action classes: missing (labels/manifest.json)']
    c = manifest['counts']
    from motionkit.datagen.action_classes import synthmotion_adjusted_rand_index
    r = synthmotion_adjusted_rand_index(work / 'labels')
    return [f'{c["classes"]} action classes over {c["verbs"]} verbs from {c["captions"]} captions; '
            f'head / medium / tail classes {c["buckets"]["head"]} / {c["buckets"]["medium"]} / '
            f'{c["buckets"]["tail"]}; adjusted Rand index against SynthMotion\'s own labels '
            f'{r["ari"]:.3f} over {r["num_verbs"]} verbs ({r["occurrence_ari"]:.3f} over their '
            f'{r["num_occurrences"]} occurrences).']


def probe_rows(work: Path) -> List[str]:
    probe = _read_json(work / 'probe' / 'probe.json')
    if probe is None:
        return ['linear probe: missing (probe/probe.json)']
    from motionkit.datagen.linear_probe import format_probe_table
    return [format_probe_table(probe['rows'])]


def report(work: Path, with_scores: bool = True) -> str:
    scorer = mar_scorer(work) if with_scores else None
    parts = ['**Action classes from captions**', '', *label_rows(work), '',
             '**Recognition and retrieval (test split, %)**', '', *recognition_rows(work), '',
             '**Generation (test prompts)**', '', *generation_rows(work, scorer), '',
             '**Linear probe, real Bandai Namco clips (leave-one-out)**', '', *probe_rows(work)]
    timings = _read_json(work / '.pipeline' / 'timings.json')
    if timings:
        parts += ['', f'Stage times: {sum(timings.values()) / 60:.1f} min of stage time in all.']
    return '\n'.join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dir')
    p.add_argument('--out', help='write the tables (markdown) here, atomically')
    p.add_argument('--no-scores', action='store_true', help="skip the MAR's eq.-6 scores of the generations")
    a = p.parse_args(argv)
    text = report(Path(a.work_dir), with_scores=not a.no_scores)
    if a.out:
        from motionkit.utils.io import atomic_write_text
        atomic_write_text(a.out, text + '\n')
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
