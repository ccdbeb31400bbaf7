"""Guided vs unguided CoAMD samples for the same prompts, side by side, from a finished pipeline
work dir (projects/coamd/pipeline_synthmotion.py):

    python projects/coamd/render_samples.py WORK_DIR [--num 3] [--out DIR] [--still]

For each of ``--num`` test prompts (the first ones, in test-split order) it writes
``<out>/<sample_id>.gif``: the real motion | CoAMD w/o MAR | MAR guidance every step | guidance once
at the end (the variants whose ``predictions.pkl`` exist), one shared camera, the caption in the
first panel's title; with ``--still`` also a PNG grid of 8 frames of each; last, ``index.json``
lists them (its presence means the rendering finished). Files appear atomically.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

VARIANTS = (('sample_unguided', 'w/o MAR'), ('sample_guided', 'MAR guidance'),
            ('sample_guided_once', 'guidance once at end'))


def _caption(pred: dict) -> str:
    text = pred.get('gt_text') or (pred.get('gt_texts') or [''])[0]
    return text[0] if isinstance(text, (list, tuple)) else str(text)


def load_variants(work: Path) -> dict:
    """``{stage: {sample_id: prediction}}`` for the variants that have predictions."""
    from motionkit.utils import safe_pickle_load
    out = {}
    for stage, _ in VARIANTS:
        path = work / stage / 'predictions.pkl'
        if path.is_file():
            preds = safe_pickle_load(str(path))
            out[stage] = {str(p.get('sample_id', i)): p for i, p in enumerate(preds)}
    if 'sample_unguided' not in out:
        raise FileNotFoundError(f'{work}/sample_unguided/predictions.pkl: run the pipeline first')
    return out


def render(work: Path, out: Path, num: int = 3, still: bool = False, width: int = 240,
           ids: Optional[List[str]] = None) -> List[Path]:
    from motionkit.visualization import render_side_by_side, save_image, save_video
    from motionkit.visualization.skeleton_renderer import frame_grid
    variants = load_variants(work)
    base = variants['sample_unguided']
    ids = ids or list(base)[:num]
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for sid in ids:
        if sid not in base:
            raise KeyError(f'{work}/sample_unguided/predictions.pkl has no sample {sid!r}')
        real = base[sid].get('gt_joints')
        motions, titles = [], []
        if real is not None:
            motions.append(np.asarray(real))
            titles.append(f'real: {_caption(base[sid])}')
        for stage, label in VARIANTS:
            if stage in variants and sid in variants[stage]:
                motions.append(np.asarray(variants[stage][sid]['pred_joints']))
                titles.append(label)
        frames = render_side_by_side(motions, titles, width=width, height=width)
        safe = ''.join(c if c.isalnum() or c in '-_' else '_' for c in sid)
        written.append(save_video(frames, out / f'{safe}.gif', fps=20.0))
        if still:
            written.append(save_image(frame_grid(frames, num=8, cols=1), out / f'{safe}.png'))
    import json
    from motionkit.utils.io import atomic_write_text
    atomic_write_text(out / 'index.json', json.dumps(dict(
        ids=ids, panels=['real'] + [label for stage, label in VARIANTS if stage in variants],
        files=[p.name for p in written]), indent=1) + '\n')
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dir')
    p.add_argument('--num', type=int, default=3, help='prompts to render (default 3)')
    p.add_argument('--ids', nargs='*', help='sample ids to render instead of the first --num')
    p.add_argument('--out', help='output folder (default WORK_DIR/render)')
    p.add_argument('--still', action='store_true', help='also a PNG grid of 8 frames per prompt')
    p.add_argument('--width', type=int, default=240, help='panel size in pixels')
    a = p.parse_args(argv)
    work = Path(a.work_dir)
    for path in render(work, Path(a.out) if a.out else work / 'render', a.num, a.still, a.width, a.ids):
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
