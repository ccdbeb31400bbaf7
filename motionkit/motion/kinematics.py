"""Forward and inverse kinematics on HumanML3D-style kinematic chains (numpy or torch, batched).

Convention (HumanML3D, Guo et al. CVPR 2022, ``common/skeleton.py``): a skeleton has unit rest-pose
bone directions ``raw_offsets`` and a list of kinematic chains. A joint's local rotation is relative
to the *previous joint of its chain*, and every chain starts from the root rotation, so a chain that
branches off the spine (the arms start at ``spine3``) is relative to the root, not to ``spine3``.
Each bone's global rotation is the shortest arc from its rest direction to its observed direction
(no twist), which is what HumanML3D's inverse kinematics computes; features built from these
rotations therefore equal the official ones.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .quaternion import (Array, _as_float, _cross, _normalize, _xp, qbetween, qinv, qmul,
                         quaternion_to_matrix)
from .rotation import cont6d_to_matrix
from .skeletons import Skeleton, get_skeleton

__all__ = ['offsets_from_joints', 'facing_direction', 'gaussian_smooth', 'inverse_kinematics',
           'forward_kinematics']


def _require_rest_pose(skeleton: Skeleton) -> np.ndarray:
    if skeleton.raw_offsets is None:
        raise ValueError(f'skeleton {skeleton.name!r} has no rest pose (raw_offsets is None); '
                         'kinematics needs one (use t2m22, kit21 or smpl24)')
    return skeleton.raw_offsets


def _check_joints(joints: Array, skeleton: Skeleton, min_ndim: int = 2) -> None:
    shape = tuple(joints.shape)
    if len(shape) < min_ndim or shape[-2:] != (skeleton.num_joints, 3):
        lead = '..., ' if min_ndim == 2 else '..., T, '
        raise ValueError(f'joints must have shape ({lead}{skeleton.num_joints}, 3) for skeleton '
                         f'{skeleton.name!r}, got {shape}')


def offsets_from_joints(joints: Array, skeleton: Skeleton | str) -> Array:
    """Bone offsets of a pose: each joint's rest direction scaled by its observed bone length.

    HumanML3D's ``get_offsets_joints``: ``offset[j] = raw_offsets[j] * |joints[j] - joints[parent[j]]|``
    (row 0 is zero).

    Args:
        joints: ``(..., J, 3)`` joint positions of one pose (or a batch of poses).
        skeleton: skeleton (or its name) with ``raw_offsets``.

    Returns:
        ``(..., J, 3)`` offsets.
    """
    skeleton = get_skeleton(skeleton)
    raw = _require_rest_pose(skeleton)
    joints = _as_float(joints)
    _check_joints(joints, skeleton)
    xp = _xp(joints)
    # Non-root bones only: the root row stays zero (and no sqrt(0), whose gradient is infinite).
    bone = joints[..., 1:, :] - joints[..., list(skeleton.parents[1:]), :]
    length = xp.sqrt((bone * bone).sum(-1))[..., None]
    length = xp.concatenate([xp.zeros_like(length[..., :1, :]), length], axis=-2)
    return _as_float(raw, like=joints) * length


def facing_direction(joints: Array, face_joints: Sequence[int]) -> Array:
    """Horizontal facing direction of poses from hip and shoulder joints.

    ``across = (j[r_hip] - j[l_hip]) + (j[r_shoulder] - j[l_shoulder])`` (normalised),
    ``forward = Y x across`` (not normalised: its length is the horizontal part of ``across``).

    Args:
        joints: ``(..., J, 3)``.
        face_joints: ``(r_hip, l_hip, r_shoulder, l_shoulder)`` indices.

    Returns:
        ``(..., 3)`` forward vectors (y component 0).
    """
    r_hip, l_hip, r_sdr, l_sdr = face_joints
    across = (joints[..., r_hip, :] - joints[..., l_hip, :]) + (joints[..., r_sdr, :] - joints[..., l_sdr, :])
    across = _normalize(across)
    up = _as_float(np.array([0.0, 1.0, 0.0]), like=joints)
    return _cross(up, across)


def gaussian_smooth(x: Array, sigma: float, axis: int = -2, truncate: float = 4.0) -> Array:
    """Gaussian smoothing along one axis with edge replication.

    Same result as ``scipy.ndimage.gaussian_filter1d(x, sigma, axis, mode='nearest',
    truncate=truncate)`` (kernel radius ``int(truncate * sigma + 0.5)``), for numpy or torch.

    Args:
        x: array of any shape.
        sigma: standard deviation in samples (> 0).
        axis: the axis to smooth along.

    Returns:
        Same shape as ``x``.
    """
    if sigma <= 0:
        raise ValueError(f'sigma must be > 0, got {sigma}')
    x = _as_float(x)
    xp = _xp(x)
    radius = int(truncate * float(sigma) + 0.5)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * (offsets / float(sigma)) ** 2)
    weights = weights / weights.sum()
    moved = xp.moveaxis(x, axis, -1)  # (..., n)
    lead, n = tuple(moved.shape[:-1]), moved.shape[-1]
    if xp is torch:
        # Replicate-padded correlation == scipy's mode='nearest' (the kernel is symmetric).
        flat = moved.reshape(-1, 1, n)
        if radius >= n:  # F.pad's replicate mode needs the pad to be smaller than the input
            idx = torch.clamp(torch.arange(-radius, n + radius, device=x.device), 0, n - 1)
            padded = flat[..., idx]
        else:
            padded = torch.nn.functional.pad(flat, (radius, radius), mode='replicate')
        kernel = torch.as_tensor(weights, dtype=x.dtype, device=x.device)
        out = (padded.unfold(-1, 2 * radius + 1, 1) @ kernel).reshape(lead + (n,))
    else:
        padded = np.pad(moved, [(0, 0)] * len(lead) + [(radius, radius)], mode='edge')
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1, axis=-1)  # (..., n, K)
        out = windows @ weights.astype(x.dtype)
    return xp.moveaxis(out, -1, axis)


def inverse_kinematics(joints: Array,
                       skeleton: Skeleton | str,
                       face_joints: Sequence[int] | None = None,
                       smooth_sigma: float | None = None,
                       identity_first_root: bool = True) -> Array:
    """Local joint rotations (chain-relative quaternions) that pose the rest skeleton like ``joints``.

    The root rotation of every frame maps the facing direction (see :func:`facing_direction`) to +Z;
    every other joint gets ``inv(R_prev) * qbetween(raw_offset[j], joints[j] - joints[prev])`` where
    ``R_prev`` is the global rotation of the previous joint of its chain (the root rotation for the
    first bone of a chain). This is HumanML3D's ``Skeleton.inverse_kinematics_np``.

    Args:
        joints: ``(..., T, J, 3)`` joint positions (``T`` is the time axis).
        skeleton: skeleton (or its name) with ``raw_offsets`` and kinematic chains.
        face_joints: ``(r_hip, l_hip, r_shoulder, l_shoulder)``; default ``skeleton.face_joints``.
        smooth_sigma: if given, the facing direction is Gaussian-smoothed over time with this sigma
            (frames) before the root rotation is taken (HumanML3D: 20 with ``smooth_forward=True``).
        identity_first_root: set the root rotation of the first frame to the identity, as HumanML3D
            does (it expects motions already turned to face +Z at frame 0). Joint positions from
            :func:`forward_kinematics` are unchanged by this choice.

    Returns:
        ``(..., T, J, 4)`` quaternions; index 0 is the root rotation.
    """
    skeleton = get_skeleton(skeleton)
    raw = _require_rest_pose(skeleton)
    joints = _as_float(joints)
    _check_joints(joints, skeleton, min_ndim=3)
    xp = _xp(joints)
    face = tuple(skeleton.face_joints if face_joints is None else face_joints)
    if len(face) != 4:
        raise ValueError(f'face_joints must hold 4 indices, got {face}')

    forward = facing_direction(joints, face)  # (..., T, 3)
    if smooth_sigma is not None:
        forward = gaussian_smooth(forward, smooth_sigma, axis=-2)
    forward = _normalize(forward)
    z_axis = _as_float(np.array([0.0, 0.0, 1.0]), like=joints)
    root = qbetween(forward, z_axis)  # (..., T, 4)
    if identity_first_root:
        identity = _as_float(np.array([1.0, 0.0, 0.0, 0.0]), like=joints)
        first = xp.zeros_like(root[..., :1, :]) + identity
        root = xp.concatenate([first, root[..., 1:, :]], axis=-2)

    num = skeleton.num_joints
    local = [None] * num
    local[0] = root
    raw = _as_float(raw, like=joints)
    for chain in skeleton.kinematic_chains:
        parent_global = root
        for prev, cur in zip(chain[:-1], chain[1:]):
            bone = joints[..., cur, :] - joints[..., prev, :]
            global_rot = qbetween(raw[cur], _normalize(bone))
            local[cur] = qmul(qinv(parent_global), global_rot)
            parent_global = global_rot
    missing = [j for j in range(num) if local[j] is None]
    if missing:
        raise ValueError(f'skeleton {skeleton.name!r}: joints {missing} are on no kinematic chain')
    return xp.stack(local, axis=-2)


def _rotation_matrices(rotations: Array) -> Array:
    shape = tuple(rotations.shape)
    if shape[-1] == 4:
        return quaternion_to_matrix(rotations)
    if shape[-1] == 6:
        return cont6d_to_matrix(rotations)
    if shape[-2:] == (3, 3):
        return rotations
    raise ValueError('rotations must be quaternions (..., J, 4), 6D (..., J, 6) or matrices '
                     f'(..., J, 3, 3), got {shape}')


def forward_kinematics(rotations: Array, offsets: Array, root_positions: Array,
                       skeleton: Skeleton | str) -> Array:
    """Joint positions from chain-relative local rotations, bone offsets and root positions.

    Walks every kinematic chain from the root rotation: ``R <- R * rot[j]``,
    ``p[j] = p[prev] + R offset[j]`` (HumanML3D's ``forward_kinematics`` /
    ``forward_kinematics_cont6d``). Inverse of :func:`inverse_kinematics` up to bone lengths.

    Args:
        rotations: ``(..., J, 4)`` quaternions, ``(..., J, 6)`` 6D rotations or ``(..., J, 3, 3)``
            matrices; index 0 is the root rotation.
        offsets: ``(J, 3)`` or ``(..., J, 3)`` bone offsets (see :func:`offsets_from_joints`).
        root_positions: ``(..., 3)`` root joint positions.
        skeleton: skeleton (or its name) giving the kinematic chains.

    Returns:
        ``(..., J, 3)`` joint positions.
    """
    skeleton = get_skeleton(skeleton)
    rotations = _as_float(rotations)
    mats = _rotation_matrices(rotations)  # (..., J, 3, 3)
    num = skeleton.num_joints
    if mats.shape[-3] != num:
        raise ValueError(f'rotations must cover the {num} joints of skeleton {skeleton.name!r}, got '
                         f'shape {tuple(rotations.shape)}')
    offsets = _as_float(offsets, like=mats)
    root_positions = _as_float(root_positions, like=mats)
    if tuple(offsets.shape[-2:]) != (num, 3):
        raise ValueError(f'offsets must have shape (..., {num}, 3), got {tuple(offsets.shape)}')
    if root_positions.shape[-1:] != (3,):
        raise ValueError(f'root_positions must have shape (..., 3), got {tuple(root_positions.shape)}')
    xp = _xp(mats)
    positions = [None] * num
    positions[0] = xp.zeros_like(mats[..., 0, :, 0]) + root_positions
    for chain in skeleton.kinematic_chains:
        if positions[chain[0]] is None:
            raise ValueError(f'skeleton {skeleton.name!r}: chain {chain} starts at a joint not yet reached')
        rot = mats[..., 0, :, :]
        for prev, cur in zip(chain[:-1], chain[1:]):
            rot = rot @ mats[..., cur, :, :]
            positions[cur] = positions[prev] + (rot @ offsets[..., cur, :, None])[..., 0]
    missing = [j for j in range(num) if positions[j] is None]
    if missing:
        raise ValueError(f'skeleton {skeleton.name!r}: joints {missing} are on no kinematic chain')
    return xp.stack(positions, axis=-2)
