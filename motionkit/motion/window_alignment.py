"""Temporal alignment of two pose tracks: PA-MPJPE of a query window against every window of a
longer sequence, in one batched call.

ExpertAF (Ashutosh et al., CVPR 2025, sec. 3.2) pairs a learner's window around a commentary time
with the window of an expert take, near the expert's own commentary time, whose pose is closest in
PA-MPJPE. :func:`sliding_pa_mpjpe` scores all candidate start frames at once: the candidate windows
are gathered into one ``(O, W, J, 3)`` array and aligned pose by pose with
:func:`~motionkit.motion.geometry.pa_mpjpe` (no Python loop over offsets).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from .geometry import pa_mpjpe
from .quaternion import Array, _xp

__all__ = ['sliding_windows', 'sliding_pa_mpjpe', 'best_window']


def _check_track(x: Any, name: str) -> Array:
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] != 3 or x.shape[0] == 0:
        raise ValueError(f'{name} must have shape (T, J, 3) with T >= 1, got {tuple(x.shape)}')
    finite = torch.isfinite(x).all() if isinstance(x, torch.Tensor) else np.isfinite(x).all()
    if not bool(finite):
        raise ValueError(f'{name} contains NaN or inf')
    return x


def _check_starts(starts: Any, num_frames: int, length: int) -> np.ndarray:
    last = num_frames - length
    if starts is None:
        if last < 0:
            raise ValueError(f'a window of {length} frames does not fit a sequence of {num_frames} frames')
        return np.arange(last + 1)
    idx = np.asarray(starts)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f'starts must be a non-empty 1-D integer array, got {idx.dtype} {idx.shape}')
    bad = idx[(idx < 0) | (idx > last)]
    if bad.size:
        raise ValueError(f'window start {int(bad[0])} is outside 0..{last} (a window of {length} '
                         f'frames in a sequence of {num_frames} frames)')
    return idx.astype(np.int64)


def sliding_windows(sequence: Array, length: int, starts: Optional[Any] = None) -> Array:
    """The windows ``sequence[s : s + length]`` for each start ``s``.

    Args:
        sequence: ``(T, J, 3)`` poses.
        length: window length ``W`` in frames.
        starts: ``(O,)`` start frames (default: every start ``0 .. T - W``).

    Returns:
        ``(O, W, J, 3)`` (a gather, so the windows may overlap; same kind as ``sequence``).
    """
    sequence = _check_track(sequence, 'sequence')
    if int(length) < 1:
        raise ValueError(f'length must be >= 1, got {length}')
    idx = _check_starts(starts, sequence.shape[0], int(length))
    gather = idx[:, None] + np.arange(int(length))[None]  # (O, W)
    if isinstance(sequence, torch.Tensor):
        return sequence[torch.as_tensor(gather, device=sequence.device)]
    return sequence[gather]


def sliding_pa_mpjpe(query: Array, sequence: Array, starts: Optional[Any] = None) -> Array:
    """PA-MPJPE between ``query`` and the window of ``sequence`` starting at each of ``starts``.

    Every pose of a candidate window is Procrustes-aligned (rotation, uniform scale, translation) to
    the query's pose at the same position, as in the PA-MPJPE protocol; the error of a window is the
    mean over its ``W`` poses and ``J`` joints.

    Args:
        query: ``(W, J, 3)`` the fixed window (e.g. the learner's), metres.
        sequence: ``(T, J, 3)`` the track to search (e.g. an expert take), ``T >= W``.
        starts: ``(O,)`` candidate start frames in ``0 .. T - W`` (default: all of them).

    Returns:
        ``(O,)`` errors in the input's units, same kind as ``query``.
    """
    query = _check_track(query, 'query')
    windows = sliding_windows(sequence, query.shape[0], starts)  # (O, W, J, 3)
    if tuple(windows.shape[2:]) != tuple(query.shape[1:]):
        raise ValueError(f'query poses {tuple(query.shape[1:])} and sequence poses '
                         f'{tuple(windows.shape[2:])} differ')
    xp = _xp(windows)
    target = xp.broadcast_to(query, windows.shape) if xp is np else query.expand_as(windows)
    per_pose = pa_mpjpe(windows, target, reduction='none')  # (O, W)
    return per_pose.mean(-1)


def best_window(query: Array, sequence: Array, starts: Optional[Any] = None) -> tuple[int, float]:
    """``(start, error)`` of the window of ``sequence`` with the lowest :func:`sliding_pa_mpjpe`
    (the earliest start on ties)."""
    idx = _check_starts(starts, _check_track(sequence, 'sequence').shape[0],
                        _check_track(query, 'query').shape[0])
    err = sliding_pa_mpjpe(query, sequence, idx)
    err = err.detach().cpu().numpy() if isinstance(err, torch.Tensor) else np.asarray(err)
    k = int(np.argmin(err))
    return int(idx[k]), float(err[k])
