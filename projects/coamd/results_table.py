"""The CoAMD tables from finished pipeline work dirs (projects/coamd/pipeline_synthmotion.py), one
per training seed:

    python projects/coamd/results_table.py WORK_DIR [WORK_DIR ...] [--out results.md] [--json results.json]

With several work dirs every number is the mean +- standard deviation over them (the seeds); the
per-seed numbers go to ``--json``.

* action classes: counts and the adjusted Rand index against SynthMotion's own labels;
* recognition and retrieval on the test split (table 7's J vs J+B+M): the MAR (J+B+M), the
  joints-only MAR, and the in-house T2M evaluator's retrieval on the same split (multi-label mAP,
  top-1 hit accuracy overall and per head / medium / tail bucket, text->motion / motion->text R@k,
  over all test pairs and in batches of 32);
* generation (tables 1 and 8's rows: w/o MAR, guided, joints-only guidance, guidance once at the
  end), scored by the absolute-coordinate T2M evaluator: R-precision, FID, MM-Dist, Diversity,
  CLIP-score, MultiModality (the means over the protocol's replications; the real motions' own
  numbers as the first row); the MAR's eq.-6 score and fused CLIP-score of the generations (the
  guidance objective itself, so it shows that guidance does what it is told, not that the motions
  are better); the mean joint speed against the ground truth's (a check of jitter);
* how guidance went: the recognizer's score before each guided step and the gradient norm;
* the linear probe on the real Bandai Namco clips: MAR embeddings vs raw joint coordinates.

A missing stage output is reported as missing, never filled in.
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

SAMPLES = (('sample_unguided', 'CoAMD w/o MAR (unguided)'),
           ('sample_guided', 'CoAMD, MAR guidance every step (eq. 6-8)'),
           ('sample_guided_joints', 'CoAMD, joints-only MAR guidance'),
           ('sample_guided_once', 'CoAMD, guidance once at the end (w/o autoregression)'))
EDITS = (('edit_inpainting', 'inpainting'), ('edit_outpainting', 'outpainting'),
         ('edit_prefix', 'prefix'), ('edit_suffix', 'suffix'))
RECOGNIZERS = (('test_mar', 'MAR, joint + bone + motion'), ('test_mar_joint', 'MAR, joints only'),
               ('test_evaluator', 'T2M evaluator (absolute coordinates)'),
               ('test_clip_evaluator', 'contrastive evaluator (CLIP-score model)'))
REAL = 'real motions (test split)'
FPS = 20.0

# (column, metrics.json key, scale); percentages for rates
RECOGNITION_COLS = (('mAP', 'recognition/mAP', 100), ('top-1 hit', 'recognition/top1', 100),
                    ('head', 'recognition/head_acc', 100), ('medium', 'recognition/medium_acc', 100),
                    ('tail', 'recognition/tail_acc', 100),
                    ('t2m R@1', 'retrieval/all/t2m/R01', 100), ('t2m R@5', 'retrieval/all/t2m/R05', 100),
                    ('m2t R@1', 'retrieval/all/m2t/R01', 100), ('m2t R@5', 'retrieval/all/m2t/R05', 100),
                    ('t2m R@1 (32)', 'retrieval/batch32/t2m/R01', 100),
                    ('t2m R@5 (32)', 'retrieval/batch32/t2m/R05', 100))
T2M_COLS = (('R-prec. top-1', 'r_precision_top1', 1), ('top-3', 'r_precision_top3', 1), ('FID', 'fid', 1),
            ('MM-Dist', 'mm_dist', 1), ('Diversity', 'diversity', 1), ('CLIP-score', 'clip_score', 1),
            ('MModality', 'multimodality', 1))
EXTRA_COLS = ('MAR score (eq. 6)', 'MAR CLIP-score', 'joint speed (m/s)')


def _read_json(path: Path) -> Optional[dict]:
    return json.loads(path.read_text()) if path.is_file() else None


def mean_joint_speed(joints: List[np.ndarray], fps: float = FPS) -> float:
    """Mean over motions, frames and joints of ``|x[t+1] - x[t]| * fps`` (m/s)."""
    speeds = [np.linalg.norm(np.diff(np.asarray(j, dtype=np.float64), axis=0), axis=-1).mean() * fps
              for j in joints if len(j) > 1]
    if not speeds:
        raise ValueError('no motion with two or more frames')
    return float(np.mean(speeds))


# ---------------------------------------------------------------------------- one work dir
def recognition_numbers(work: Path) -> Dict[str, Optional[dict]]:
    out = {}
    for stage, label in RECOGNIZERS:
        m = _read_json(work / stage / 'metrics.json')
        out[label] = None if m is None else {
            col: float(m[key]) * scale for col, key, scale in RECOGNITION_COLS if key in m}
    return out


def generation_numbers(work: Path, scorer=None) -> Dict[str, Optional[dict]]:
    from motionkit.utils import safe_pickle_load
    out: Dict[str, Optional[dict]] = {}
    real: Optional[dict] = None
    for stage, label in SAMPLES:
        metrics = _read_json(work / stage / 'metrics.json')
        path = work / stage / 'predictions.pkl'
        if metrics is None and not path.is_file():
            out[label] = None
            continue
        row: dict = {}
        if metrics is not None:
            for col, key, scale in T2M_COLS:
                if f't2m/{key}' in metrics:
                    row[col] = float(metrics[f't2m/{key}']) * scale
            if real is None and 't2m/gt/r_precision_top1' in metrics:
                real = {col: float(metrics[f't2m/gt/{key}']) * scale for col, key, scale in T2M_COLS
                        if f't2m/gt/{key}' in metrics}
        if path.is_file():
            preds = safe_pickle_load(str(path))
            gen = [p['pred_joints'] for p in preds]
            row['prompts'] = len(preds)
            row['joint speed (m/s)'] = mean_joint_speed(gen)
            gt = [p['gt_joints'] for p in preds if p.get('gt_joints') is not None]
            if gt and real is not None and 'joint speed (m/s)' not in real:
                real['joint speed (m/s)'] = mean_joint_speed(gt)
            if scorer is not None:
                texts = [p.get('gt_text') or (p.get('gt_texts') or [None])[0] for p in preds]
                row['MAR score (eq. 6)'] = scorer(gen, texts, None)
                row['MAR CLIP-score'] = scorer(gen, texts, dict(fused=1.0))
            if preds and preds[0].get('guidance_score') is not None:
                row['trace'] = dict(
                    score=np.mean([np.asarray(p['guidance_score']) for p in preds], 0).tolist(),
                    grad_norm=np.mean([np.asarray(p['guidance_grad_norm']) for p in preds], 0).tolist())
        out[label] = row
    return {REAL: real, **out}


def kept_frame_error_mm(preds: List[dict], task: str) -> float:
    """Largest distance (mm) between an edited motion and its input on the frames the task keeps
    (0 when editing keeps them exactly, as it must)."""
    import torch
    from motionkit.models.diffusion.temporal_editing import temporal_edit_keep_mask
    worst = 0.0
    for p in preds:
        pred, gt = np.asarray(p['pred_joints']), np.asarray(p['gt_joints'])
        n = len(pred)
        keep = temporal_edit_keep_mask(task, torch.tensor([n]), n, 4)[0].numpy()
        if keep.any():
            worst = max(worst, float(np.abs(pred[keep] - gt[:n][keep]).max()) * 1000.0)
    return worst


def edit_numbers(work: Path) -> Dict[str, Optional[dict]]:
    """Table 6: the evaluator's metrics of each temporal editing task and the kept-frame check."""
    from motionkit.utils import safe_pickle_load
    out: Dict[str, Optional[dict]] = {}
    for stage, task in EDITS:
        metrics = _read_json(work / stage / 'metrics.json')
        path = work / stage / 'predictions.pkl'
        if metrics is None and not path.is_file():
            out[task] = None
            continue
        row = {col: float(metrics[f't2m/{key}']) * scale for col, key, scale in T2M_COLS
               if metrics is not None and f't2m/{key}' in metrics}
        if path.is_file():
            preds = safe_pickle_load(str(path))
            row['kept frames, max error (mm)'] = kept_frame_error_mm(preds, task)
            row['joint speed (m/s)'] = mean_joint_speed([p['pred_joints'] for p in preds])
        out[task] = row
    return out


def mar_scorer(work: Path):
    """The trained J+B+M MAR's eq.-6 score (``weights=None``: the default 0.7 / 0.1 weights) or
    a single embedding's cosine (``dict(fused=1.0)``: the CLIP-score analogue) of generations."""
    ckpt = work / 'mar' / 'mar.pth'
    if not ckpt.is_file():
        return None
    import torch
    from motionkit.utils import register_all_modules
    from motionkit.utils.owned_model import build_owned_model
    register_all_modules(init_default_scope=False)
    model = build_owned_model(str(REPO / 'projects/coamd/configs/mar_tiny_1xb32-1k_synthmotion.py'), str(ckpt),
                              'CoAMD results table', required_attr='score')

    def score(joints: List[np.ndarray], texts: List[str], weights: Optional[dict]) -> float:
        if any(t is None for t in texts):
            raise ValueError('predictions carry no caption (gt_text) to score against')
        out = []
        with torch.no_grad():
            for j, t in zip(joints, texts):
                x = torch.as_tensor(np.asarray(j), dtype=torch.float32)[None]
                t = t[0] if isinstance(t, (list, tuple)) else t
                out.append(float(model.score(x, [t], weights=weights)[0]))
        return float(np.mean(out))
    return score


def label_numbers(work: Path) -> Optional[dict]:
    manifest = _read_json(work / 'labels' / 'manifest.json')
    if manifest is None:
        return None
    from motionkit.datagen.action_classes import synthmotion_adjusted_rand_index
    r = synthmotion_adjusted_rand_index(work / 'labels')
    return dict(counts=manifest['counts'], ari=r['ari'], num_verbs=r['num_verbs'],
                occurrence_ari=r['occurrence_ari'], num_occurrences=r['num_occurrences'])


def collect(work: Path, with_scores: bool = True) -> dict:
    """Every number of one pipeline work dir (missing stages as None)."""
    probe = _read_json(work / 'probe' / 'probe.json')
    timings = _read_json(work / '.pipeline' / 'timings.json')
    return dict(work_dir=str(work), labels=label_numbers(work), recognition=recognition_numbers(work),
                generation=generation_numbers(work, mar_scorer(work) if with_scores else None),
                editing=edit_numbers(work),
                probe=None if probe is None else probe['rows'], timings=timings)


# ---------------------------------------------------------------------------- formatting
def _cell(values: Sequence[Optional[float]], digits: int) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return '-'
    if len(values) == 1:
        return f'{vals[0]:.{digits}f}'
    miss = '' if len(vals) == len(values) else f' (n={len(vals)})'
    return f'{np.mean(vals):.{digits}f} ± {np.std(vals, ddof=1) if len(vals) > 1 else 0.0:.{digits}f}{miss}'


def _table(runs: List[dict], section: str, cols: Sequence[str], first: str, digits: dict,
           missing_hint: dict) -> List[str]:
    rows = [f'| {first} | ' + ' | '.join(cols) + ' |', '|---|' + '---:|' * len(cols)]
    labels = list(runs[0][section])
    for label in labels:
        per_run = [r[section].get(label) for r in runs]
        if all(p is None for p in per_run):
            if label in missing_hint:
                rows.append(f'| {label} | missing ({missing_hint[label]}) |' + ' |' * (len(cols) - 1))
            continue
        cells = [_cell([None if p is None else p.get(c) for p in per_run], digits.get(c, 2)) for c in cols]
        rows.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return rows


def report(works: Sequence[Path], with_scores: bool = True, runs: Optional[List[dict]] = None) -> str:
    works = [Path(w) for w in ([works] if isinstance(works, (str, Path)) else works)]
    runs = runs or [collect(w, with_scores) for w in works]
    n = len(runs)
    parts = []
    if n > 1:
        parts += [f'Mean ± standard deviation over {n} runs (training seeds): '
                  + ', '.join(Path(r['work_dir']).name for r in runs) + '.', '']
    lab = runs[0]['labels']
    parts.append('**Action classes from captions**')
    parts.append('')
    if lab is None:
        parts.append('action classes: missing (labels/manifest.json)')
    else:
        c = lab['counts']
        parts.append(f'{c["classes"]} action classes over {c["verbs"]} verbs from {c["captions"]} captions; '
                     f'head / medium / tail classes {c["buckets"]["head"]} / {c["buckets"]["medium"]} / '
                     f'{c["buckets"]["tail"]}; adjusted Rand index against SynthMotion\'s own labels '
                     f'{_cell([r["labels"]["ari"] for r in runs if r["labels"]], 3)} over {lab["num_verbs"]} verbs '
                     f'({_cell([r["labels"]["occurrence_ari"] for r in runs if r["labels"]], 3)} over their '
                     f'{lab["num_occurrences"]} occurrences).')
    rec_cols = [c for c, _, _ in RECOGNITION_COLS]
    parts += ['', '**Recognition and retrieval (test split, %; R@k over all test pairs, and in batches of 32)**',
              '', *_table(runs, 'recognition', rec_cols, 'model', {c: 1 for c in rec_cols},
                          {label: f'{stage}/metrics.json' for stage, label in RECOGNIZERS})]
    gen_cols = [c for c, _, _ in T2M_COLS] + list(EXTRA_COLS)
    digits = {'R-prec. top-1': 3, 'top-3': 3, 'CLIP-score': 3, 'MAR score (eq. 6)': 3, 'MAR CLIP-score': 3}
    prompts = [r['generation'].get(SAMPLES[0][1]) for r in runs]
    count = next((p['prompts'] for p in prompts if p and 'prompts' in p), None)
    parts += ['', f'**Generation, test prompts{f" ({count})" if count else ""}: the absolute-coordinate T2M '
              'evaluator\'s metrics (means over the replications), the MAR\'s own scores, joint speed**', '',
              *_table(runs, 'generation', gen_cols, 'method', digits,
                      {label: f'{stage}/metrics.json' for stage, label in SAMPLES})]
    edit_cols = [c for c, _, _ in T2M_COLS if c != 'MModality'] + ['MModality', 'kept frames, max error (mm)',
                                                                    'joint speed (m/s)']
    parts += ['', '**Temporal editing of the test motions (table 6; the same generator, unguided)**', '',
              *_table(runs, 'editing', edit_cols, 'task', digits, {task: f'{stage}/metrics.json' for stage, task in EDITS})]
    traces = []
    for stage, label in SAMPLES:
        got = [r['generation'].get(label) for r in runs]
        got = [g['trace'] for g in got if g and g.get('trace')]
        if got:
            score = np.mean([t['score'] for t in got], 0)
            norm = np.mean([t['grad_norm'] for t in got], 0)
            traces.append(f'| {label} | {len(score)} | {score[0]:.3f} | {score[-1]:.3f} | '
                          f'{norm.mean():.3g} | {norm.min():.3g} - {norm.max():.3g} |')
    if traces:
        parts += ['', '**Guidance along the steps (first generation of every prompt; mean over prompts'
                  + (' and runs' if n > 1 else '') + ')**', '',
                  '| method | guided steps | MAR score before the first | before the last | mean gradient norm | range |',
                  '|---|---:|---:|---:|---:|---|', *traces]
    parts += ['', '**Linear probe, real Bandai Namco clips (leave-one-out)**', '']
    probes = [r['probe'] for r in runs if r['probe']]
    if not probes:
        parts.append('linear probe: missing (probe/probe.json)')
    else:
        from motionkit.datagen.linear_probe import format_probe_table
        if len(probes) == 1:
            parts.append(format_probe_table(probes[0]))
        else:
            parts += ['| data | protocol | features | top-1 (%) | mean class acc. (%) |', '|---|---|---|---:|---:|']
            for i, row in enumerate(probes[0]):
                acc = [100 * p[i]['accuracy'] for p in probes]
                mca = [100 * p[i]['mean_class_accuracy'] for p in probes]
                parts.append(f'| {row["data"]} | {row["protocol"]} | {row["features"]} | {_cell(acc, 2)} | '
                             f'{_cell(mca, 2)} |')
    times = [sum(r['timings'].values()) / 60 for r in runs if r['timings']]
    if times:
        parts += ['', f'Stage time per run: {_cell(times, 1)} min (sum over stages; two run at once).']
    return '\n'.join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dirs', nargs='+')
    p.add_argument('--out', help='write the tables (markdown) here, atomically')
    p.add_argument('--json', help='write every run\'s numbers here (JSON), atomically')
    p.add_argument('--no-scores', action='store_true', help="skip the MAR's scores of the generations")
    a = p.parse_args(argv)
    runs = [collect(Path(w), with_scores=not a.no_scores) for w in a.work_dirs]
    text = report([Path(w) for w in a.work_dirs], runs=runs)
    from motionkit.utils.io import atomic_write_text
    if a.out:
        atomic_write_text(a.out, text + '\n')
    if a.json:
        atomic_write_text(a.json, json.dumps(runs, indent=1, default=float) + '\n')
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
