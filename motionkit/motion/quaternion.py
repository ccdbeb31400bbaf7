"""Quaternion maths used by HumanML3D's motion processing, batched over leading dims.

Quaternions are ``(..., 4)`` arrays in ``(w, x, y, z)`` order (scalar first), acting on column
vectors in a right-handed frame (Y up). Every function accepts numpy arrays or torch tensors (on any
device) and returns the same kind; leading dimensions broadcast. Integer inputs are promoted to
float64 (numpy) / float32 (torch); floating inputs keep their dtype.

The formulas are the standard ones (Shoemake 1985; Pavllo et al., QuaterNet 2018) that HumanML3D's
``common/quaternion.py`` also uses, so features built with them equal the official ones.
"""
from __future__ import annotations

from typing import Any, Union

import numpy as np
import torch

Array = Union[np.ndarray, torch.Tensor]

__all__ = [
    'Array', 'qmul', 'qrot', 'qinv', 'qnormalize', 'qbetween', 'qfix', 'quaternion_to_matrix',
    'matrix_to_quaternion', 'axis_angle_to_quaternion', 'quaternion_to_axis_angle', 'quaternion_y_rotation',
]


# ----------------------------------------------------------------------------------------------
# numpy / torch dispatch helpers (shared by the other motion modules)
# ----------------------------------------------------------------------------------------------
def _xp(x: Any):
    """The array namespace of ``x``: ``torch`` for tensors, ``numpy`` otherwise."""
    return torch if isinstance(x, torch.Tensor) else np


def _as_float(x: Any, like: Any = None) -> Array:
    """``x`` as a floating array of the same kind as ``like`` (or as itself when ``like`` is None).

    Numpy float16/32/64 and torch floating dtypes are kept; other inputs become float64 (numpy) or
    float32 (torch), on ``like``'s device.
    """
    ref = x if like is None else like
    if isinstance(ref, torch.Tensor):
        if isinstance(x, torch.Tensor):
            t = x.to(ref.device)
        else:
            a = np.asarray(x)
            t = torch.as_tensor(a if a.flags.writeable else a.copy(), device=ref.device)
        if not t.is_floating_point():
            t = t.to(ref.dtype if ref.is_floating_point() else torch.float32)
        elif like is not None and ref.is_floating_point() and t.dtype != ref.dtype:
            t = t.to(ref.dtype)
        return t
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if like is not None:
        ref_dtype = np.asarray(ref).dtype
        if np.issubdtype(ref_dtype, np.floating):
            return a.astype(ref_dtype, copy=False)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    return a


def _cross(a: Array, b: Array) -> Array:
    """Cross product over the last axis (size 3), broadcasting leading dims."""
    if isinstance(a, torch.Tensor):
        a, b = torch.broadcast_tensors(a, b)
        return torch.linalg.cross(a, b, dim=-1)
    return np.cross(a, b, axis=-1)


def _dot(a: Array, b: Array, keepdims: bool = True) -> Array:
    """Dot product over the last axis."""
    return (a * b).sum(-1, keepdims=keepdims) if isinstance(a, np.ndarray) else (a * b).sum(-1, keepdim=keepdims)


def _norm(a: Array, keepdims: bool = True) -> Array:
    """Euclidean norm over the last axis."""
    return _xp(a).sqrt(_dot(a, a, keepdims))


def _normalize(a: Array, eps: float = 1e-12) -> Array:
    """``a / |a|`` over the last axis; a zero vector stays zero instead of becoming NaN."""
    n = _norm(a)
    return a / _xp(a).where(n > eps, n, n * 0 + 1)


def _check_last(x: Array, size: int, name: str) -> None:
    if x.shape[-1:] != (size,):
        raise ValueError(f'{name} must have shape (..., {size}), got {tuple(x.shape)}')


# ----------------------------------------------------------------------------------------------
# Quaternion algebra
# ----------------------------------------------------------------------------------------------
def qmul(q: Array, r: Array) -> Array:
    """Hamilton product ``q * r`` (apply ``r`` first, then ``q``).

    Args:
        q, r: ``(..., 4)`` quaternions; leading dims broadcast.

    Returns:
        ``(..., 4)``.
    """
    q = _as_float(q)
    r = _as_float(r, like=q)
    _check_last(q, 4, 'q')
    _check_last(r, 4, 'r')
    w1, x1, y1, z1 = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    w2, x2, y2, z2 = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
    return _xp(q).stack([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ], axis=-1)


def qrot(q: Array, v: Array) -> Array:
    """Rotate vectors ``v`` by unit quaternions ``q``.

    Uses ``v' = v + 2 w (u x v) + 2 u x (u x v)`` with ``q = (w, u)``.

    Args:
        q: ``(..., 4)`` unit quaternions.
        v: ``(..., 3)`` vectors; leading dims broadcast with ``q``.

    Returns:
        ``(..., 3)`` rotated vectors.
    """
    q = _as_float(q)
    v = _as_float(v, like=q)
    _check_last(q, 4, 'q')
    _check_last(v, 3, 'v')
    u = q[..., 1:]
    uv = _cross(u, v)
    uuv = _cross(u, uv)
    return v + 2 * (q[..., :1] * uv + uuv)


def qinv(q: Array) -> Array:
    """Inverse of unit quaternions (the conjugate ``(w, -x, -y, -z)``). ``(..., 4) -> (..., 4)``."""
    q = _as_float(q)
    _check_last(q, 4, 'q')
    return _xp(q).concatenate([q[..., :1], -q[..., 1:]], axis=-1)


def qnormalize(q: Array) -> Array:
    """Scale quaternions to unit norm. ``(..., 4) -> (..., 4)``."""
    q = _as_float(q)
    _check_last(q, 4, 'q')
    return q / _norm(q)


def qbetween(v0: Array, v1: Array) -> Array:
    """The shortest-arc unit quaternion rotating direction ``v0`` onto direction ``v1``.

    ``q = normalize(|v0||v1| + v0.v1, v0 x v1)`` (HumanML3D's ``qbetween``). Where the two vectors
    are opposite, a half turn about an axis orthogonal to ``v0`` is returned; where either vector is
    zero, the identity.

    Args:
        v0, v1: ``(..., 3)``; leading dims broadcast.

    Returns:
        ``(..., 4)`` unit quaternions with ``w >= 0``.
    """
    v0 = _as_float(v0)
    v1 = _as_float(v1, like=v0)
    _check_last(v0, 3, 'v0')
    _check_last(v1, 3, 'v1')
    xp = _xp(v0)
    if xp is torch:
        v0, v1 = torch.broadcast_tensors(v0, v1)
    else:
        v0, v1 = np.broadcast_arrays(v0, v1)
    lens = xp.sqrt(_dot(v0, v0) * _dot(v1, v1))
    q = xp.concatenate([lens + _dot(v0, v1), _cross(v0, v1)], axis=-1)
    n = _norm(q)
    # Relative threshold: the quaternion norm is ~2|v0||v1| unless the vectors are (anti)parallel.
    tiny = 1e-6 if q.dtype in (np.float32, torch.float32, np.float16, torch.float16, torch.bfloat16) else 1e-12
    degenerate = n <= tiny * xp.where(lens > 0, lens, lens * 0 + 1)
    # Half turn about an axis orthogonal to v0: v0 x e, with e the basis axis least aligned to v0.
    e_x = xp.zeros_like(v0)
    e_x[..., 0] = 1
    e_y = xp.zeros_like(v0)
    e_y[..., 1] = 1
    use_y = xp.abs(v0[..., :1]) > xp.abs(v0[..., 1:2])
    axis = _normalize(_cross(v0, xp.where(use_y, e_y, e_x)))
    half_turn = xp.concatenate([xp.zeros_like(lens), axis], axis=-1)
    identity = xp.concatenate([xp.ones_like(lens), xp.zeros_like(v0)], axis=-1)
    fallback = xp.where(lens > 0, half_turn, identity)
    safe_n = xp.where(degenerate, xp.ones_like(n), n)
    return xp.where(degenerate, fallback, q / safe_n)


def qfix(q: Array, axis: int = -3) -> Array:
    """Make a quaternion sequence continuous in time by flipping signs (``q`` and ``-q`` are the same
    rotation): each frame takes the sign whose dot product with the previous frame is positive.

    Args:
        q: ``(..., T, J, 4)`` quaternions by default (time on ``axis``).
        axis: the time axis (negative, counted from the end, or non-negative).

    Returns:
        Same shape as ``q``.
    """
    q = _as_float(q)
    _check_last(q, 4, 'q')
    xp = _xp(q)
    ax = axis % q.ndim
    if ax == q.ndim - 1:
        raise ValueError('qfix: the time axis cannot be the quaternion axis')
    n = q.shape[ax]
    if n < 2:
        return q
    if xp is torch:
        head = q.narrow(ax, 1, n - 1)
        prev = q.narrow(ax, 0, n - 1)
        flips = ((head * prev).sum(-1) < 0).to(torch.int64).cumsum(ax) % 2
        sign = 1 - 2 * flips.to(q.dtype)
        return torch.cat([q.narrow(ax, 0, 1), head * sign[..., None]], dim=ax)
    head = np.take(q, np.arange(1, n), axis=ax)
    prev = np.take(q, np.arange(0, n - 1), axis=ax)
    flips = np.cumsum((head * prev).sum(-1) < 0, axis=ax) % 2
    sign = (1 - 2 * flips).astype(q.dtype)
    return np.concatenate([np.take(q, [0], axis=ax), head * sign[..., None]], axis=ax)


# ----------------------------------------------------------------------------------------------
# Conversions
# ----------------------------------------------------------------------------------------------
def quaternion_to_matrix(q: Array) -> Array:
    """Rotation matrices of quaternions (normalised first). ``(..., 4) -> (..., 3, 3)``."""
    q = _as_float(q)
    _check_last(q, 4, 'q')
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    s = 2.0 / (q * q).sum(-1)
    m = _xp(q).stack([
        1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w),
        s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w),
        s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y),
    ], axis=-1)
    return m.reshape(tuple(q.shape[:-1]) + (3, 3))


def matrix_to_quaternion(m: Array) -> Array:
    """Unit quaternions (``w >= 0``) of rotation matrices. ``(..., 3, 3) -> (..., 4)``.

    Uses the largest of ``|w|, |x|, |y|, |z|`` as the pivot (Shepperd 1978) so that the result is
    accurate for every rotation, including half turns.
    """
    m = _as_float(m)
    if tuple(m.shape[-2:]) != (3, 3):
        raise ValueError(f'rotation matrices must have shape (..., 3, 3), got {tuple(m.shape)}')
    xp = _xp(m)
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # 4*w^2, 4*x^2, 4*y^2, 4*z^2
    sq = xp.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22],
                  axis=-1)
    # Candidate quaternions, each scaled by 4 * (its pivot component).
    cand = xp.stack([
        xp.stack([sq[..., 0], m21 - m12, m02 - m20, m10 - m01], axis=-1),
        xp.stack([m21 - m12, sq[..., 1], m10 + m01, m02 + m20], axis=-1),
        xp.stack([m02 - m20, m10 + m01, sq[..., 2], m21 + m12], axis=-1),
        xp.stack([m10 - m01, m20 + m02, m21 + m12, sq[..., 3]], axis=-1),
    ], axis=-2)
    best = sq.argmax(-1)
    if xp is torch:
        chosen = torch.gather(cand, -2, best[..., None, None].expand(*best.shape, 1, 4))[..., 0, :]
    else:
        chosen = np.take_along_axis(cand, best[..., None, None], axis=-2)[..., 0, :]
    q = chosen / _norm(chosen)
    return xp.where(q[..., :1] < 0, -q, q)


def axis_angle_to_quaternion(aa: Array) -> Array:
    """Quaternions of axis-angle vectors (direction = axis, length = angle in radians).
    ``(..., 3) -> (..., 4)``."""
    aa = _as_float(aa)
    _check_last(aa, 3, 'axis-angle')
    xp = _xp(aa)
    angle = _norm(aa)
    half = angle / 2
    # sin(half) / angle, with its limit 1/2 at angle -> 0 (Taylor series) to avoid 0/0.
    small = angle < 1e-6
    safe = xp.where(small, xp.ones_like(angle), angle)
    k = xp.where(small, 0.5 - angle * angle / 48, xp.sin(half) / safe)
    return xp.concatenate([xp.cos(half), aa * k], axis=-1)


def quaternion_to_axis_angle(q: Array) -> Array:
    """Axis-angle vectors (angle in ``[0, pi]``) of quaternions. ``(..., 4) -> (..., 3)``."""
    q = _as_float(q)
    _check_last(q, 4, 'q')
    xp = _xp(q)
    q = qnormalize(q)
    q = xp.where(q[..., :1] < 0, -q, q)
    s = _norm(q[..., 1:])
    angle = 2 * xp.arctan2(s, q[..., :1])
    small = s < 1e-6
    k = xp.where(small, 2 * xp.ones_like(s), angle / xp.where(small, xp.ones_like(s), s))
    return q[..., 1:] * k


def quaternion_y_rotation(angle: Array) -> Array:
    """Quaternions ``(cos(a/2), 0, sin(a/2), 0)`` of rotations by ``angle`` radians about +Y.
    ``(...) -> (..., 4)``."""
    angle = _as_float(angle)
    xp = _xp(angle)
    zero = xp.zeros_like(angle)
    return xp.stack([xp.cos(angle / 2), zero, xp.sin(angle / 2), zero], axis=-1)
