"""Joint position errors: MPJPE and PA-MPJPE (Procrustes-aligned), in millimetres.

MPJPE is the mean Euclidean distance between predicted and ground-truth joints (Human3.6M
protocol #1); PA-MPJPE first aligns each predicted *frame* to its ground truth with the optimal
similarity transform (rotation, translation, uniform scale; Umeyama / orthogonal Procrustes,
protocol #2), then measures the same distance.
"""
from __future__ import annotations

from typing import Optional, Union

import numpy as np

ArrayLike = Union[np.ndarray, 'torch.Tensor']  # noqa: F821

__all__ = ['mpjpe', 'pa_mpjpe', 'similarity_procrustes']

_REDUCTIONS = ('mean', 'per_motion', 'per_frame', 'none')


def _to_numpy(x, name: str) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    return x


def _check(pred, target, mask):
    pred = _to_numpy(pred, 'pred')
    target = _to_numpy(target, 'target')
    if pred.shape != target.shape:
        raise ValueError(f'pred and target shapes differ: {pred.shape} vs {target.shape}')
    if pred.ndim < 2 or pred.shape[-1] != 3:
        raise ValueError(f'joints must have shape (..., J, 3), got {pred.shape}')
    if pred.size == 0:
        raise ValueError(f'empty joint arrays: {pred.shape}')
    if not (np.isfinite(pred).all() and np.isfinite(target).all()):
        raise ValueError('pred / target joints contain NaN or inf')
    if mask is not None:
        mask = _to_numpy(mask, 'mask').astype(bool)
        if mask.shape != pred.shape[:-2]:
            raise ValueError(f'mask must have the leading shape {pred.shape[:-2]} of the joints '
                             f'(..., J, 3), got {mask.shape}')
        if not mask.any():
            raise ValueError('mask selects no frame')
    return pred, target, mask


def _reduce(err: np.ndarray, mask: Optional[np.ndarray], reduction: str):
    """``err`` (..., J) -> reduced; ``mask`` (...) marks valid frames."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f'reduction must be one of {_REDUCTIONS}, got {reduction!r}')
    if reduction == 'none':
        return err if mask is None else np.where(mask[..., None], err, np.nan)
    per_frame = err.mean(-1)
    if reduction == 'per_frame':
        return per_frame if mask is None else np.where(mask, per_frame, np.nan)
    w = np.ones_like(per_frame) if mask is None else mask.astype(np.float64)
    if reduction == 'mean':
        # Every valid (frame, joint) counts once: longer motions weigh more.
        return float((per_frame * w).sum() / w.sum())
    # per_motion: leading axis = motions, mean over the valid frames of each.
    if per_frame.ndim < 2:
        raise ValueError("reduction='per_motion' needs joints shaped (B, T, J, 3)")
    axes = tuple(range(1, per_frame.ndim))
    count = w.sum(axis=axes)
    with np.errstate(invalid='ignore', divide='ignore'):
        return (per_frame * w).sum(axis=axes) / count


def mpjpe(pred: ArrayLike, target: ArrayLike, mask: Optional[ArrayLike] = None,
          reduction: str = 'mean', root_index: Optional[int] = None,
          scale: float = 1000.0):
    """Mean per-joint position error.

    Args:
        pred: predicted joints ``(..., J, 3)``, e.g. ``(B, T, J, 3)``, in metres.
        target: ground truth, same shape.
        mask: valid frames ``(...)`` (e.g. ``(B, T)`` for padded batches); ``None`` = all.
        reduction: ``'mean'`` (float over all valid frames and joints), ``'per_motion'`` (``(B,)``),
            ``'per_frame'`` (``(...)``, NaN at masked frames) or ``'none'`` (``(..., J)``).
        root_index: subtract this joint from both before measuring (root-relative MPJPE).
        scale: multiply distances by this (metres -> millimetres by default).
    """
    pred, target, mask = _check(pred, target, mask)
    if root_index is not None:
        pred = pred - pred[..., root_index:root_index + 1, :]
        target = target - target[..., root_index:root_index + 1, :]
    err = np.linalg.norm(pred - target, axis=-1) * scale
    return _reduce(err, mask, reduction)


def similarity_procrustes(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Align each ``pred[i]`` ``(J, 3)`` to ``target[i]`` by the least-squares similarity transform.

    ``min_{s,R,t} ||s R x + t - y||^2`` (Umeyama 1991): centre both point sets, SVD of the
    cross-covariance, a reflection fix on the last singular vector, ``s = tr(S D) / ||x_c||^2``.

    Args:
        pred: ``(N, J, 3)``.
        target: ``(N, J, 3)``.

    Returns:
        Aligned ``pred``, ``(N, J, 3)``.
    """
    mu_x = pred.mean(axis=1, keepdims=True)
    mu_y = target.mean(axis=1, keepdims=True)
    x = pred - mu_x
    y = target - mu_y
    cov = np.swapaxes(y, 1, 2) @ x  # (N, 3, 3) = sum_j y_j x_j^T
    u, s, vt = np.linalg.svd(cov)
    d = np.ones_like(s)
    d[:, -1] = np.sign(np.linalg.det(u @ vt))
    d[d == 0] = 1.0
    rot = u @ (d[:, :, None] * vt)  # U diag(d) V^T
    var_x = (x ** 2).sum(axis=(1, 2))
    scale = (s * d).sum(axis=1) / np.maximum(var_x, 1e-12)
    return scale[:, None, None] * (x @ np.swapaxes(rot, 1, 2)) + mu_y


def _procrustes(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    try:  # the shared geometry module, when present, is the single implementation
        from motionkit.motion.geometry import procrustes_align
    except ImportError:
        return similarity_procrustes(pred, target)
    out = procrustes_align(pred, target)
    out = out[0] if isinstance(out, tuple) else out
    return _to_numpy(out, 'aligned')


def pa_mpjpe(pred: ArrayLike, target: ArrayLike, mask: Optional[ArrayLike] = None,
             reduction: str = 'mean', scale: float = 1000.0):
    """Procrustes-aligned MPJPE: each frame is aligned with rotation, translation and scale.

    Args: as :func:`mpjpe` (no ``root_index``: alignment removes translation anyway).
    """
    pred, target, mask = _check(pred, target, mask)
    lead = pred.shape[:-2]
    flat_p = pred.reshape(-1, *pred.shape[-2:])
    flat_t = target.reshape(-1, *target.shape[-2:])
    aligned = _procrustes(flat_p, flat_t).reshape(pred.shape)
    err = np.linalg.norm(aligned - target, axis=-1) * scale
    assert err.shape[:-1] == lead
    return _reduce(err, mask, reduction)
