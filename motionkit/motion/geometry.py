"""Geometric primitives on joint positions: Procrustes alignment, MPJPE, resampling, canonical frame.

Every function accepts numpy arrays or torch tensors (on any device), batched over leading dims,
and returns the same kind. Positions are in metres (Y up); errors are returned in metres, the
metric layer converts to millimetres.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .quaternion import Array, _as_float, _xp
from .skeletons import Skeleton, get_skeleton

__all__ = ['procrustes_align', 'mpjpe', 'pa_mpjpe', 'resample', 'normalize_facing', 'put_on_floor',
           'center_root_xz']


def _check_points(x: Any, name: str, min_ndim: int = 2) -> Array:
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        x = np.asarray(x)
    if x.ndim < min_ndim or x.shape[-1] != 3:
        lead = '..., ' * max(min_ndim - 1, 0)
        raise ValueError(f'{name} must have shape ({lead}3), got {tuple(x.shape)}')
    return _as_float(x)


def _pair(pred: Any, gt: Any, fn: str) -> tuple[Array, Array]:
    pred = _check_points(pred, f'{fn}: pred')
    gt = _as_float(_check_points(gt, f'{fn}: gt'), like=pred)
    if tuple(pred.shape) != tuple(gt.shape):
        raise ValueError(f'{fn}: pred and gt must have the same shape, got {tuple(pred.shape)} and '
                         f'{tuple(gt.shape)}')
    return pred, gt


def _weights(mask: Any, like: Array, fn: str) -> Array | None:
    """``mask`` broadcast to ``like.shape[:-1]`` as float weights (``None`` stays ``None``)."""
    if mask is None:
        return None
    w = _as_float(mask, like=like)
    target = tuple(like.shape[:-1])
    try:
        w = _xp(like).broadcast_to(w, target)
    except (ValueError, RuntimeError):
        raise ValueError(f'{fn}: mask of shape {tuple(w.shape)} does not broadcast to the points\' '
                         f'shape without the xyz axis {target} (for a per-pose mask add a trailing '
                         'axis: mask[..., None])') from None
    if bool((w < 0).any()):
        raise ValueError(f'{fn}: mask weights must be >= 0')
    return w


def procrustes_align(pred: Array, gt: Array, weights: Array | None = None, scale: bool = True) -> Array:
    """Align each point set of ``pred`` to ``gt`` by the best similarity transform.

    Solves ``min_{s, R, t} sum_i w_i |s R p_i + t - g_i|^2`` over rotations ``R`` (never reflections),
    scales ``s > 0`` and translations ``t`` (Umeyama, "Least-squares estimation of transformation
    parameters between two point patterns", TPAMI 1991: SVD of the cross-covariance, with the sign of
    the last singular vector flipped when the determinant is negative). This is the alignment of the
    PA-MPJPE protocol (Human3.6M "protocol 2"), done per pose.

    Args:
        pred: ``(..., N, 3)`` points to move (e.g. one pose per ``(T,)`` or ``(B, T)`` index).
        gt: ``(..., N, 3)`` target points.
        weights: optional ``(..., N)`` non-negative weights (a 0/1 joint mask), broadcastable.
        scale: fit the scale ``s`` (default); ``False`` fits a rigid transform.

    Returns:
        ``(..., N, 3)`` aligned ``pred``, same kind and dtype as ``pred``.
    """
    pred, gt = _pair(pred, gt, 'procrustes_align')
    xp = _xp(pred)
    w = _weights(weights, pred, 'procrustes_align')
    if w is None:
        w = xp.ones_like(pred[..., 0])
    w = w[..., None]  # (..., N, 1)
    total = w.sum(-2, keepdims=True) if xp is np else w.sum(-2, keepdim=True)
    total_safe = xp.where(total > 0, total, xp.ones_like(total))
    mu_p = (w * pred).sum(-2)[..., None, :] / total_safe
    mu_g = (w * gt).sum(-2)[..., None, :] / total_safe
    x, y = pred - mu_p, gt - mu_g
    # Cross-covariance H = sum_i w_i x_i y_i^T (3 x 3); R = V D U^T for H = U S V^T.
    h = xp.swapaxes(w * x, -1, -2) @ y
    if xp is np:
        u, s, vt = np.linalg.svd(h)
    else:
        u, s, vt = torch.linalg.svd(h)
    v = xp.swapaxes(vt, -1, -2)
    det = xp.linalg.det(v @ xp.swapaxes(u, -1, -2))
    sign = xp.where(det < 0, -xp.ones_like(det), xp.ones_like(det))
    ones = xp.ones_like(det)
    d = xp.stack([ones, ones, sign], axis=-1)  # diagonal of D
    rot = (v * d[..., None, :]) @ xp.swapaxes(u, -1, -2)
    if scale:
        var = (w * x * x).sum(-1).sum(-1)
        var_safe = xp.where(var > 0, var, xp.ones_like(var))
        s_fit = xp.where(var > 0, (s * d).sum(-1) / var_safe, xp.zeros_like(var))
    else:
        s_fit = xp.ones_like(det)
    # Row vectors: aligned_i = s R x_i + mu_g  ->  s x_i^T R^T + mu_g.
    return s_fit[..., None, None] * (x @ xp.swapaxes(rot, -1, -2)) + mu_g


def _reduce(err: Array, w: Array | None, reduction: str, fn: str) -> Array:
    xp = _xp(err)
    if reduction not in ('mean', 'none'):
        raise ValueError(f"{fn}: reduction must be 'mean' or 'none', got {reduction!r}")
    if w is None:
        return err.mean() if reduction == 'mean' else err.mean(-1)
    if reduction == 'mean':
        total = w.sum()
        if float(total) <= 0:
            raise ValueError(f'{fn}: the mask selects no joint')
        return (err * w).sum() / total
    per = w.sum(-1)
    # A pose with no valid joint has no error: NaN, not a silent 0.
    return (err * w).sum(-1) / xp.where(per > 0, per, xp.full_like(per, float('nan')))


def mpjpe(pred: Array, gt: Array, mask: Array | None = None, reduction: str = 'mean') -> Array:
    """Mean per-joint position error: the Euclidean distance between joints, averaged.

    Args:
        pred, gt: ``(..., J, 3)`` joint positions (metres).
        mask: optional weights broadcastable to ``(..., J)``: a joint mask ``(J,)`` / ``(..., J)``, or
            a per-pose (e.g. padding) mask given with a trailing axis, ``(B, T, 1)``.
        reduction: ``'mean'``: one number, the mean over all (valid) joints of all poses;
            ``'none'``: ``(...,)`` the mean over the (valid) joints of each pose (NaN where none).

    Returns:
        A 0-d array / tensor (``'mean'``) or ``(...,)`` errors, in the input's units.
    """
    pred, gt = _pair(pred, gt, 'mpjpe')
    diff = pred - gt
    err = _xp(diff).sqrt((diff * diff).sum(-1))  # (..., J)
    return _reduce(err, _weights(mask, pred, 'mpjpe'), reduction, 'mpjpe')


def pa_mpjpe(pred: Array, gt: Array, mask: Array | None = None, reduction: str = 'mean') -> Array:
    """MPJPE after Procrustes alignment of every pose of ``pred`` to ``gt`` (rotation, scale,
    translation; see :func:`procrustes_align`). Masked joints take no part in the alignment.

    Args and returns as :func:`mpjpe`.
    """
    pred, gt = _pair(pred, gt, 'pa_mpjpe')
    w = _weights(mask, pred, 'pa_mpjpe')
    aligned = procrustes_align(pred, gt, weights=w)
    diff = aligned - gt
    err = _xp(diff).sqrt((diff * diff).sum(-1))
    return _reduce(err, w, reduction, 'pa_mpjpe')


# ----------------------------------------------------------------------------------------------
# Time resampling
# ----------------------------------------------------------------------------------------------
def _slerp(q0: Array, q1: Array, t: Array) -> Array:
    """Shortest-path spherical interpolation of unit quaternions ``(..., 4)``; ``t`` broadcasts."""
    xp = _xp(q0)
    dot = (q0 * q1).sum(-1)[..., None]
    q1 = xp.where(dot < 0, -q1, q1)  # q and -q are the same rotation: take the short way
    dot = xp.abs(dot)
    near = dot > 1 - 1e-6
    dot_c = xp.clip(dot, -1.0, 1.0)
    theta = xp.arccos(dot_c)
    sin = xp.sin(theta)
    sin_safe = xp.where(near, xp.ones_like(sin), sin)
    a = xp.where(near, 1 - t, xp.sin((1 - t) * theta) / sin_safe)
    b = xp.where(near, t, xp.sin(t * theta) / sin_safe)
    out = a * q0 + b * q1
    norm = xp.sqrt((out * out).sum(-1))[..., None]
    return out / norm


def resample(motion: Array, src_fps: float, dst_fps: float = 20.0, axis: int = -3,
             quaternion: bool = False) -> Array:
    """Resample a motion in time from ``src_fps`` to ``dst_fps``.

    Output frame ``k`` is at time ``k / dst_fps``, i.e. at fractional source frame
    ``f = k * src_fps / dst_fps``, for every ``k`` with ``f <= T - 1`` (the clip is never
    extrapolated). Positions are interpolated linearly between frames ``floor(f)`` and
    ``floor(f) + 1``; quaternions (``quaternion=True``, last axis ``(w, x, y, z)``) by slerp along the
    shorter arc. For an integer ratio (AMASS 120 fps -> 20 fps) this is exactly HumanML3D's
    ``poses[::6]``.

    Args:
        motion: e.g. ``(..., T, J, 3)`` joints or ``(..., T, J, 4)`` quaternions.
        src_fps, dst_fps: frame rates (> 0).
        axis: the time axis (default ``-3``, the ``T`` of ``(..., T, J, C)``).
        quaternion: interpolate unit quaternions by slerp instead of linearly.

    Returns:
        The motion with ``floor((T - 1) * dst_fps / src_fps) + 1`` frames along ``axis``.
    """
    if not isinstance(motion, (np.ndarray, torch.Tensor)):
        motion = np.asarray(motion)
    if not (src_fps > 0 and dst_fps > 0 and math.isfinite(src_fps) and math.isfinite(dst_fps)):
        raise ValueError(f'resample: frame rates must be finite and > 0, got src_fps={src_fps}, '
                         f'dst_fps={dst_fps}')
    motion = _as_float(motion)
    ndim = motion.ndim
    if not -ndim <= axis < ndim:
        raise ValueError(f'resample: axis {axis} is out of range for a motion of shape {tuple(motion.shape)}')
    if quaternion and motion.shape[-1] != 4:
        raise ValueError(f'resample: quaternions must have shape (..., 4), got {tuple(motion.shape)}')
    axis = axis % ndim
    if quaternion and axis == ndim - 1:
        raise ValueError('resample: the time axis cannot be the quaternion axis')
    xp = _xp(motion)
    n = motion.shape[axis]
    if n == 0:
        raise ValueError(f'resample: the motion has no frames (shape {tuple(motion.shape)})')
    ratio = float(src_fps) / float(dst_fps)
    # Tolerance so that e.g. 119 * 20 / 120 lands on an integer count despite float rounding.
    count = int(math.floor((n - 1) / ratio + 1e-9)) + 1
    pos = np.arange(count, dtype=np.float64) * ratio
    lo = np.minimum(np.floor(pos + 1e-9).astype(np.int64), max(n - 2, 0))
    hi = np.minimum(lo + 1, n - 1)
    frac = np.clip(pos - lo, 0.0, 1.0)
    frac[hi == lo] = 0.0
    if xp is torch:
        lo_i = torch.as_tensor(lo, device=motion.device)
        hi_i = torch.as_tensor(hi, device=motion.device)
        a = motion.index_select(axis, lo_i)
        b = motion.index_select(axis, hi_i)
    else:
        a = np.take(motion, lo, axis=axis)
        b = np.take(motion, hi, axis=axis)
    shape = [1] * ndim
    shape[axis] = count
    t = _as_float(frac.reshape(shape), like=motion)
    if quaternion:
        return _slerp(a, b, t)
    return a + (b - a) * t


# ----------------------------------------------------------------------------------------------
# Canonical frame (HumanML3D process_file steps)
# ----------------------------------------------------------------------------------------------
def _check_motion(joints: Any, fn: str, skeleton: Skeleton | None = None) -> Array:
    if not isinstance(joints, (np.ndarray, torch.Tensor)):
        joints = np.asarray(joints)
    shape = tuple(joints.shape)
    ok = len(shape) >= 3 and shape[-1] == 3 and (skeleton is None or shape[-2] == skeleton.num_joints)
    if not ok or shape[-3] == 0:
        j = 'J' if skeleton is None else f'{skeleton.num_joints}'
        where = '' if skeleton is None else f' (skeleton {skeleton.name!r})'
        raise ValueError(f'{fn}: joints must have shape (..., T, {j}, 3) with T >= 1{where}, got {shape}')
    return _as_float(joints)


def normalize_facing(joints: Array, skeleton: Skeleton | str) -> Array:
    """Turn a motion about the vertical (Y) axis through the origin so that frame 0 faces +Z.

    The facing direction is HumanML3D's: ``across = (r_hip - l_hip) + (r_shoulder - l_shoulder)``,
    ``forward = Y x across`` (``skeleton.face_joints``). HumanML3D does this after
    :func:`put_on_floor` and :func:`center_root_xz`; call those first to turn about the root.

    Args:
        joints: ``(..., T, J, 3)``.
        skeleton: the skeleton (or its name); its ``face_joints`` are used.

    Returns:
        ``(..., T, J, 3)`` rotated joints.

    Raises:
        ValueError: the skeleton has no face joints, or frame 0 has no horizontal facing direction
            (e.g. the hips and shoulders are collinear with Y).
    """
    skeleton = get_skeleton(skeleton)
    joints = _check_motion(joints, 'normalize_facing', skeleton)
    if len(skeleton.face_joints) != 4:
        raise ValueError(f'normalize_facing: skeleton {skeleton.name!r} has no face_joints')
    xp = _xp(joints)
    r_hip, l_hip, r_sdr, l_sdr = skeleton.face_joints
    first = joints[..., 0, :, :]
    across = (first[..., r_hip, :] - first[..., l_hip, :]) + (first[..., r_sdr, :] - first[..., l_sdr, :])
    # forward = (0, 1, 0) x across = (across_z, 0, -across_x)
    fx, fz = across[..., 2], -across[..., 0]
    horizontal = xp.sqrt(fx * fx + fz * fz)
    scale = xp.sqrt((across * across).sum(-1))
    if bool((horizontal <= 1e-8 * xp.where(scale > 0, scale, xp.ones_like(scale))).any()):
        raise ValueError('normalize_facing: frame 0 has no horizontal facing direction (degenerate '
                         'hip/shoulder joints)')
    # Rotate by -heading about Y, heading = atan2(fx, fz): (fx, fz) -> (0, |f|).
    c, s = fz / horizontal, fx / horizontal  # cos / sin of the heading
    c, s = c[..., None, None], s[..., None, None]
    x, y, z = joints[..., 0], joints[..., 1], joints[..., 2]
    return xp.stack([c * x - s * z, y, s * x + c * z], axis=-1)


def put_on_floor(joints: Array) -> Array:
    """Shift each motion vertically so that its lowest joint over all frames is at y = 0.

    Args:
        joints: ``(..., T, J, 3)``.

    Returns:
        ``(..., T, J, 3)``.
    """
    joints = _check_motion(joints, 'put_on_floor')
    xp = _xp(joints)
    y = joints[..., 1]
    floor = y.min(-1).min(-1) if xp is np else y.amin(dim=(-2, -1))
    zero = xp.zeros_like(floor)
    return joints - xp.stack([zero, floor, zero], axis=-1)[..., None, None, :]


def center_root_xz(joints: Array, root: int = 0) -> Array:
    """Shift each motion horizontally so that the root joint of frame 0 is at x = z = 0.

    Args:
        joints: ``(..., T, J, 3)``.
        root: index of the root joint (default 0).

    Returns:
        ``(..., T, J, 3)``; heights are unchanged.
    """
    joints = _check_motion(joints, 'center_root_xz')
    if not -joints.shape[-2] <= root < joints.shape[-2]:
        raise ValueError(f'center_root_xz: root {root} is out of range for {joints.shape[-2]} joints')
    xp = _xp(joints)
    r0 = joints[..., 0, root, :]
    shift = xp.stack([r0[..., 0], xp.zeros_like(r0[..., 1]), r0[..., 2]], axis=-1)
    return joints - shift[..., None, None, :]
