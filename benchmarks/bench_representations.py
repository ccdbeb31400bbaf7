"""Throughput of motion representations: batched (B motions in one call) vs one motion at a time.

Usage::

    python benchmarks/bench_representations.py [--batch 64] [--frames 170] [--repeats 3]
        [--backends numpy torch] [--device cpu|cuda] [--threads 1] [--data ../shared/data]

Input motions are the HumanML3D reference clip (``humanml3d_reference/new_joints/012314.npy``) when
``--data`` points at the shared data folder, otherwise a synthetic clip built by forward kinematics;
the B motions are copies turned and shifted differently. Prints frames per second (input frames for
encode, feature frames for decode) and the batched / per-motion ratio.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from motionkit.motion import (AbsoluteCoordinates, EssentialFeatures, HumanML3DFeatures, axis_angle_to_quaternion,
                              forward_kinematics, get_skeleton, humanml3d_target_offsets, qrot,
                              quaternion_y_rotation)


def _clip(data: Path | None, frames: int) -> np.ndarray:
    ref = None if data is None else data / 'humanml3d_reference' / 'new_joints' / '012314.npy'
    if ref is not None and ref.is_file():
        joints = np.load(ref).astype(np.float32)
        reps = -(-frames // len(joints))
        return np.concatenate([joints] * reps)[:frames] if reps > 1 else joints[:frames]
    t = np.arange(frames)[:, None, None]
    rotvec = 0.3 * np.sin(2 * np.pi * 0.02 * t * np.arange(1, 23)[None, :, None] / 22 + np.arange(3))
    root = np.stack([np.zeros(frames), np.full(frames, 0.95), 0.03 * np.arange(frames)], -1)
    return forward_kinematics(axis_angle_to_quaternion(rotvec), humanml3d_target_offsets(), root,
                              get_skeleton('t2m22')).astype(np.float32)


def _batch(clip: np.ndarray, batch: int) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, batch, endpoint=False)
    turned = qrot(quaternion_y_rotation(angles)[:, None, None, :], clip[None])
    return (turned + np.random.default_rng(0).normal(0, 0.5, (batch, 1, 1, 3)) * [1, 0, 1]).astype(np.float32)


def _time(fn, repeats: int, sync) -> float:
    fn()  # warm-up
    sync()
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--frames', type=int, default=170)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--backends', nargs='+', default=['numpy', 'torch'], choices=['numpy', 'torch'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads (1 by default: stable numbers on a shared CPU)')
    parser.add_argument('--data', type=Path, default=Path(__file__).resolve().parents[1].parent / 'shared' / 'data')
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    motions = _batch(_clip(args.data, args.frames), args.batch)
    reps = [HumanML3DFeatures(), EssentialFeatures(), AbsoluteCoordinates()]
    print(f'B={args.batch} T={args.frames} J=22 float32, torch threads={torch.get_num_threads()}, '
          f'device={args.device}')
    header = (f'{"representation":<20} {"backend":<8} {"op":<7} {"one-by-one fr/s":>16} '
              f'{"batched fr/s":>14} {"ratio":>7}')
    print(header)
    print('-' * len(header))
    for backend in args.backends:
        if backend == 'torch':
            data = torch.from_numpy(motions).to(args.device)
            sync = torch.cuda.synchronize if data.is_cuda else (lambda: None)
        else:
            if args.device != 'cpu':
                continue
            data, sync = motions, (lambda: None)
        for rep in reps:
            feats = rep.encode(data)
            for op, fn, inp, n_frames in (('encode', rep.encode, data, data.shape[0] * data.shape[1]),
                                          ('decode', rep.decode, feats, feats.shape[0] * feats.shape[1])):
                single = _time(lambda: [fn(inp[b]) for b in range(inp.shape[0])], args.repeats, sync)
                batched = _time(lambda: fn(inp), args.repeats, sync)
                print(f'{type(rep).__name__:<20} {backend:<8} {op:<7} {n_frames / single:>16,.0f} '
                      f'{n_frames / batched:>14,.0f} {single / batched:>6.1f}x')


if __name__ == '__main__':
    main()
