"""Render speed of the skeleton renderer (frames / s) on the HumanML3D reference sample.

Usage::

    python benchmarks/bench_render.py [--joints PATH] [--size 320] [--repeats 3]

Reports, for the 170-frame HumanML3D sample ``012314`` (t2m22):

* ``blit``: :class:`SkeletonRenderer` as shipped (static scene drawn once, per frame only the
  bones are redrawn over a saved background);
* ``full redraw``: the same figure and artists but a full ``canvas.draw()`` per frame (what a
  straightforward matplotlib loop does), for comparison;
* ``side-by-side x2``: two panels (output frames / s);
* GIF and MP4 encoding time.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from motionkit.visualization import render_side_by_side, save_video  # noqa: E402
from motionkit.visualization.skeleton_renderer import SkeletonRenderer, _to_plot  # noqa: E402

DEFAULT_JOINTS = (Path(__file__).resolve().parents[2] / 'shared' / 'data' /
                  'humanml3d_reference' / 'new_joints' / '012314.npy')


def full_redraw(renderer: SkeletonRenderer, joints: np.ndarray) -> np.ndarray:
    """Baseline: update the artists and redraw the whole figure every frame."""
    renderer.render(joints[:1])  # set up the scene (camera, floor) like the real render
    for line in renderer.lines:
        line.set_visible(True)
    frames = np.empty((len(joints), renderer.height, renderer.width, 3), np.uint8)
    for t, pose in enumerate(joints):
        for k, chain in enumerate(renderer.chains):
            renderer.lines[k].set_data_3d(*_to_plot(pose[list(chain)]))
        renderer.canvas.draw()
        frames[t] = np.asarray(renderer.canvas.buffer_rgba())[..., :3]
    return frames


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--joints', default=str(DEFAULT_JOINTS), help='(T, 22, 3) .npy')
    parser.add_argument('--size', type=int, default=320, help='panel width = height (pixels)')
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    joints = np.load(args.joints)
    T = len(joints)
    r = SkeletonRenderer('t2m22', width=args.size, height=args.size)
    r.render(joints[:2])  # warm up imports and fonts

    t = best_of(lambda: r.render(joints, title='tennis serve'), args.repeats)
    print(f'blit            : {T / t:7.1f} frames/s  ({T} frames {args.size}x{args.size}, '
          f'{t:.2f} s)')
    t = best_of(lambda: full_redraw(r, joints), args.repeats)
    print(f'full redraw     : {T / t:7.1f} frames/s  ({t:.2f} s)')
    t = best_of(lambda: render_side_by_side([joints, joints[::-1]], ['GT', 'Pred'],
                                            width=args.size, height=args.size), args.repeats)
    print(f'side-by-side x2 : {T / t:7.1f} frames/s  ({T} frames {2 * args.size}x{args.size}, '
          f'{t:.2f} s)')
    frames = r.render(joints, title='tennis serve')
    with tempfile.TemporaryDirectory() as d:
        for ext in ('gif', 'mp4'):
            path = Path(d) / f'clip.{ext}'
            t = best_of(lambda: save_video(frames, path), 1)
            print(f'write {ext}       : {t:7.2f} s  ({path.stat().st_size / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
