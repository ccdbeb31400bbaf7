"""The continuous 6D rotation representation (Zhou et al., "On the Continuity of Rotation
Representations in Neural Networks", CVPR 2019), in HumanML3D's layout.

A 6D vector is the first two *columns* of the rotation matrix, concatenated:
``(R00, R10, R20, R01, R11, R21)`` (HumanML3D's ``quaternion_to_cont6d``). Note that pytorch3d's
``matrix_to_rotation_6d`` uses the first two *rows* instead; the two are transposes of each other.
The matrix is recovered by Gram-Schmidt (Zhou et al. eq. 15-16). Works on numpy arrays and torch
tensors, batched over leading dims.
"""
from __future__ import annotations

from .quaternion import Array, _as_float, _cross, _normalize, _xp, matrix_to_quaternion, quaternion_to_matrix

__all__ = ['matrix_to_cont6d', 'cont6d_to_matrix', 'quaternion_to_cont6d', 'cont6d_to_quaternion']


def matrix_to_cont6d(m: Array) -> Array:
    """6D representation of rotation matrices. ``(..., 3, 3) -> (..., 6)``."""
    m = _as_float(m)
    if tuple(m.shape[-2:]) != (3, 3):
        raise ValueError(f'rotation matrices must have shape (..., 3, 3), got {tuple(m.shape)}')
    return _xp(m).concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def cont6d_to_matrix(d6: Array) -> Array:
    """Rotation matrices of (possibly unnormalised) 6D vectors by Gram-Schmidt.

    ``x = a1/|a1|``, ``z = (x cross a2)/|x cross a2|``, ``y = z cross x``; the matrix has columns
    ``(x, y, z)``. ``(..., 6) -> (..., 3, 3)``.
    """
    d6 = _as_float(d6)
    if d6.shape[-1:] != (6,):
        raise ValueError(f'6D rotations must have shape (..., 6), got {tuple(d6.shape)}')
    x = _normalize(d6[..., 0:3])
    z = _normalize(_cross(x, d6[..., 3:6]))
    y = _cross(z, x)
    return _xp(d6).stack([x, y, z], axis=-1)


def quaternion_to_cont6d(q: Array) -> Array:
    """6D representation of quaternions. ``(..., 4) -> (..., 6)``."""
    return matrix_to_cont6d(quaternion_to_matrix(q))


def cont6d_to_quaternion(d6: Array) -> Array:
    """Unit quaternions (``w >= 0``) of 6D rotations. ``(..., 6) -> (..., 4)``."""
    return matrix_to_quaternion(cont6d_to_matrix(d6))
