"""Data-loading throughput: the HumanML3D dataset pipeline vs raw ``np.load`` of the same files.

Usage::

    python benchmarks/bench_datasets.py [--num-motions 2000] [--batch-size 64]
        [--workers 0 2] [--repeats 3] [--seed 0]

Writes ``--num-motions`` random smooth 263-D motions (40-199 frames at 20 fps) in the HumanML3D
layout (``new_joint_vecs/``, ``texts/`` with whole-motion and time-span captions, ``train.txt``,
``Mean.npy``/``Std.npy``) into a temporary folder, warms the page cache, then measures (best of
``--repeats``, repeats interleaved across stages):

* ``np.load`` of every feature file listed in the split (the floor for any loader);
* building the dataset index (split file, ``.npy`` headers, caption parsing);
* ``dataset[i]`` for every sample through the full pipeline
  (LoadMotion -> SampleCaption -> CropMotion -> NormalizeMotion -> PackMotionInputs),
  with and without the NaN/inf check;
* a ``DataLoader`` with ``motion_collate`` (padded batches + masks), for each ``--workers`` value.

Prints samples per second and the ratio to raw ``np.load`` (per sample; a dataset has more samples
than files because time-span captions are samples of their own).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from torch.utils.data import DataLoader  # noqa: E402

from motionkit.datasets import HumanML3DDataset, motion_collate  # noqa: E402
from motionkit.datasets.transforms import (CropMotion, LoadMotion, NormalizeMotion,  # noqa: E402
                                           PackMotionInputs, SampleCaption)

DIM = 263
WORDS = ['a/DET', 'person/NOUN', 'walk/VERB', 'forward/ADV', 'turn/VERB', 'left/ADJ', 'and/CCONJ',
         'jump/VERB', 'wave/VERB', 'hand/NOUN', 'slowly/ADV', 'then/ADV', 'sit/VERB', 'down/ADP']


def write_layout(root: Path, num_motions: int, seed: int) -> None:
    """Random smooth motions and captions in the HumanML3D directory layout."""
    rng = np.random.default_rng(seed)
    for sub in ('new_joint_vecs', 'texts'):
        (root / sub).mkdir(parents=True)
    ids = [f'{i:06d}' for i in range(num_motions)]
    for motion_id in ids:
        frames = int(rng.integers(40, 200))
        motion = np.cumsum(rng.normal(0, 0.05, (frames, DIM)), axis=0).astype(np.float32)
        np.save(root / 'new_joint_vecs' / f'{motion_id}.npy', motion)
        lines = []
        for _ in range(int(rng.integers(1, 4))):
            tokens = list(rng.choice(WORDS, size=int(rng.integers(4, 12))))
            caption = ' '.join(t.split('/')[0] for t in tokens) + '.'
            lines.append(f'{caption}#{" ".join(tokens)}#0.0#0.0')
        if rng.random() < 0.3:  # a time-span caption, as in about a third of HumanML3D files
            start = float(rng.integers(0, 2))
            lines.append(f'a person jumps.#a/DET person/NOUN jump/VERB#{start}#{start + 3.0}')
        (root / 'texts' / f'{motion_id}.txt').write_text('\n'.join(lines) + '\n')
    (root / 'train.txt').write_text('\n'.join(ids) + '\n')
    np.save(root / 'Mean.npy', np.zeros(DIM, np.float32))
    np.save(root / 'Std.npy', np.ones(DIM, np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-motions', type=int, default=2000)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / 'HumanML3D'
        t0 = time.perf_counter()
        write_layout(root, args.num_motions, args.seed)
        print(f'wrote {args.num_motions} motions to {root} in {time.perf_counter() - t0:.1f} s')
        files = [root / 'new_joint_vecs' / f'{line}.npy'
                 for line in (root / 'train.txt').read_text().split()]

        def raw():
            for f in files:
                np.load(f)

        raw()  # warm the page cache

        def pipeline(check_finite=True):
            return [dict(type=LoadMotion, check_finite=check_finite), dict(type=SampleCaption),
                    dict(type=CropMotion), dict(type=NormalizeMotion), dict(type=PackMotionInputs)]

        def build():
            return HumanML3DDataset(str(root), ann_file='train.txt', pipeline=pipeline())

        ds = build()
        n = len(ds)
        ds_nocheck = HumanML3DDataset(str(root), ann_file='train.txt',
                                      pipeline=pipeline(check_finite=False))
        np.random.seed(args.seed)
        stages = [('raw np.load (per file)', len(files), raw),
                  ('build index (per sample)', n, build),
                  ('dataset[i], full pipeline', n, lambda: [ds[i] for i in range(n)]),
                  ('dataset[i], no NaN/inf check', n,
                   lambda: [ds_nocheck[i] for i in range(n)])]
        loaders = []
        for workers in args.workers:
            loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True,
                                num_workers=workers, collate_fn=motion_collate,
                                persistent_workers=workers > 0)
            loaders.append(loader)

            def run_loader(loader=loader):
                count = 0
                for batch in loader:
                    count += batch['inputs']['motion'].shape[0]
                assert count == n

            run_loader()  # start the workers
            stages.append((f'DataLoader+collate, bs {args.batch_size}, {workers} workers', n,
                           run_loader))
        # Repeats are interleaved across stages so that load from other processes affects all
        # stages alike; the best time of each stage is reported.
        best = [float('inf')] * len(stages)
        for _ in range(args.repeats):
            for k, (_, _, fn) in enumerate(stages):
                t0 = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - t0)
        rows = [(name, count, t) for (name, count, _), t in zip(stages, best)]
        del loaders

    raw_rate = rows[0][1] / rows[0][2]
    print(f'\n{len(files)} files, {n} samples (time-span captions are extra samples); '
          f'best of {args.repeats}\n')
    header = f'{"stage":<42} {"items":>6} {"time s":>8} {"items/s":>10} {"vs raw":>7}'
    print(header)
    print('-' * len(header))
    for name, count, seconds in rows:
        rate = count / seconds
        print(f'{name:<42} {count:>6} {seconds:>8.3f} {rate:>10.0f} {rate / raw_rate:>7.2f}')


if __name__ == '__main__':
    main()
