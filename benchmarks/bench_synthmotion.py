"""Generation speed of SynthMotion (single process = one core).

Measures, in motions per second:
  * ``synthesize``: programs + kinematics + captions (``sample_motion``);
  * ``+triplet``: plus one CigTime triplet per motion;
  * ``build``: a full build on disk (features, texts, triplets for half the motions, labels);
  * ``feedback``: learner/expert pairs (3 motions each), without and with rendered video
    (2 videos of 160x160 px per pair).

Usage:
    python benchmarks/bench_synthmotion.py --num 200
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from motionkit.synthmotion import (ClassDistribution, build_synthmotion, make_feedback_pair,  # noqa: E402
                                            make_triplet, sample_motion)


def _rate(n, seconds):
    return n / max(seconds, 1e-9)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--num', type=int, default=200, help='motions per measurement')
    p.add_argument('--num-render', type=int, default=4, help='feedback pairs rendered to video')
    a = p.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    dist = ClassDistribution()
    rows = []

    t = time.perf_counter()
    items = [sample_motion(0, i, dist) for i in range(a.num)]
    dt = time.perf_counter() - t
    frames = sum(it.motion.num_frames for it in items)
    rows.append(('synthesize', a.num, dt, f'{frames / dt:.0f} frames/s'))

    rng = np.random.default_rng(0)
    t = time.perf_counter()
    n_trip = sum(make_triplet(it, rng) is not None for it in items)
    dt2 = time.perf_counter() - t
    rows.append(('+triplet (extra)', n_trip, dt2, ''))

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        build_synthmotion(Path(tmp) / 'b', a.num, seed=0, progress=False, num_feedback=0)
        rows.append(('build (disk)', a.num, time.perf_counter() - t, 'features + texts + triplets + labels'))

    nf = max(a.num // 10, 4)
    t = time.perf_counter()
    for k in range(nf):
        make_feedback_pair(0, k)
    rows.append(('feedback pairs', nf, time.perf_counter() - t, '3 motions each'))

    try:
        from motionkit.visualization.skeleton_renderer import render_motion
        t = time.perf_counter()
        for k in range(a.num_render):
            _, motions = make_feedback_pair(0, k)
            for role in ('novice', 'expert'):
                render_motion(motions[role].joints, 't2m22', width=160, height=160)
        rows.append(('feedback + render', a.num_render, time.perf_counter() - t, '2 videos of 160 px each'))
    except ImportError as e:  # pragma: no cover
        rows.append(('feedback + render', 0, 0.0, f'skipped: {e}'))

    print(f'{"stage":22s} {"items":>6s} {"seconds":>8s} {"items/s/core":>12s}  note')
    for name, n, sec, note in rows:
        print(f'{name:22s} {n:6d} {sec:8.2f} {_rate(n, sec):12.1f}  {note}')


if __name__ == '__main__':
    main()
