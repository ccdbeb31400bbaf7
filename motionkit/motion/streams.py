"""Joint, bone and motion streams of a skeleton sequence, and their inverses.

The multi-stream input of skeleton action recognition (Shi et al., "Two-Stream Adaptive Graph
Convolutional Networks", CVPR 2019; Chen et al., CTR-GCN, ICCV 2021), used by CoAMD's recognizer
and its recognizer guidance:

* joint stream: the joint positions themselves;
* bone stream: every joint minus its parent (``skeleton.parents``); the root has no parent, so its
  "bone" is zero (``root='zero'``, the 2s-AGCN convention) or the root position (``root='position'``,
  which makes the stream invertible on its own);
* motion stream: the difference to the next frame, ``x[t + 1] - x[t]``, with the last frame padded
  by zeros so that the stream keeps ``T`` frames (the "joint motion" / "bone motion" streams when
  applied to joints / bones).

All functions take ``(..., T, J, 3)`` numpy arrays or torch tensors and return the same kind.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch

from .quaternion import Array, _as_float, _xp
from .skeletons import Skeleton, get_skeleton

__all__ = ['STREAM_NAMES', 'joint_stream', 'bone_stream', 'motion_stream', 'bones_to_joints',
           'motion_to_positions', 'compute_streams']

#: Streams :func:`compute_streams` can build.
STREAM_NAMES = ('joint', 'bone', 'motion', 'bone_motion')
_ROOT_MODES = ('zero', 'position')


def _check(x: Any, fn: str, skeleton: Skeleton | None = None, min_ndim: int = 3) -> Array:
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        x = np.asarray(x)
    shape = tuple(x.shape)
    j = 'J' if skeleton is None else str(skeleton.num_joints)
    if len(shape) < min_ndim or shape[-1] != 3 or (skeleton is not None and shape[-2] != skeleton.num_joints):
        lead = '..., T, ' if min_ndim >= 3 else '..., '
        where = '' if skeleton is None else f' (skeleton {skeleton.name!r})'
        raise ValueError(f'{fn}: expected shape ({lead}{j}, 3){where}, got {shape}')
    return _as_float(x)


def joint_stream(joints: Array) -> Array:
    """The joint stream: a float copy of ``(..., T, J, 3)`` positions."""
    joints = _check(joints, 'joint_stream')
    return joints.copy() if isinstance(joints, np.ndarray) else joints.clone()


def bone_stream(joints: Array, skeleton: Skeleton | str, root: str = 'zero') -> Array:
    """Bone vectors ``joints[j] - joints[parent[j]]`` for every joint.

    Args:
        joints: ``(..., J, 3)`` positions (any leading dims, e.g. ``(B, T)``).
        skeleton: the skeleton (or its name) whose ``parents`` define the bones.
        root: ``'zero'``: the root's bone is zero (2s-AGCN); ``'position'``: it is the root position.

    Returns:
        ``(..., J, 3)`` bones.
    """
    skeleton = get_skeleton(skeleton)
    if root not in _ROOT_MODES:
        raise ValueError(f"bone_stream: root must be one of {_ROOT_MODES}, got {root!r}")
    joints = _check(joints, 'bone_stream', skeleton, min_ndim=2)
    parents = list(skeleton.parents)
    root_idx = parents.index(-1)
    parents[root_idx] = root_idx
    bones = joints - joints[..., parents, :]
    if root == 'position':
        xp = _xp(joints)
        mask = np.zeros(skeleton.num_joints, dtype=bool)
        mask[root_idx] = True
        bones = xp.where(_as_float(mask, like=joints)[:, None] > 0, joints, bones)
    return bones


def bones_to_joints(bones: Array, skeleton: Skeleton | str, root_positions: Array | None = None) -> Array:
    """Inverse of :func:`bone_stream`: accumulate bones from the root outwards.

    Args:
        bones: ``(..., J, 3)`` bones.
        skeleton: the skeleton (or its name).
        root_positions: ``(..., 3)`` root positions. ``None`` reads them from the root's bone, i.e.
            inverts ``bone_stream(..., root='position')``; with ``root='zero'`` bones and no
            positions the root is at the origin.

    Returns:
        ``(..., J, 3)`` joint positions.
    """
    skeleton = get_skeleton(skeleton)
    bones = _check(bones, 'bones_to_joints', skeleton, min_ndim=2)
    xp = _xp(bones)
    root_idx = list(skeleton.parents).index(-1)
    if root_positions is None:
        root = bones[..., root_idx, :]
    else:
        root = _as_float(root_positions, like=bones)
        if tuple(root.shape) != tuple(bones.shape[:-2]) + (3,):
            raise ValueError(f'bones_to_joints: root_positions must have shape '
                             f'{tuple(bones.shape[:-2]) + (3,)}, got {tuple(root.shape)}')
    positions: list = [None] * skeleton.num_joints
    for j in skeleton.topological_order:
        p = skeleton.parents[j]
        positions[j] = root if p < 0 else positions[p] + bones[..., j, :]
    return xp.stack(positions, axis=-2)


def motion_stream(x: Array) -> Array:
    """Frame differences ``x[t + 1] - x[t]`` along the time axis, last frame zero.

    Args:
        x: ``(..., T, J, 3)`` joints or bones.

    Returns:
        ``(..., T, J, 3)``.
    """
    x = _check(x, 'motion_stream')
    xp = _xp(x)
    diff = x[..., 1:, :, :] - x[..., :-1, :, :]
    return xp.concatenate([diff, xp.zeros_like(x[..., :1, :, :])], axis=-3)


def motion_to_positions(motion: Array, first: Array) -> Array:
    """Inverse of :func:`motion_stream`: ``x[t] = first + sum_{s < t} motion[s]``.

    The last frame of ``motion`` (the zero pad) is not used.

    Args:
        motion: ``(..., T, J, 3)`` frame differences.
        first: ``(..., J, 3)`` the first frame.

    Returns:
        ``(..., T, J, 3)``.
    """
    motion = _check(motion, 'motion_to_positions')
    xp = _xp(motion)
    first = _as_float(first, like=motion)
    if tuple(first.shape) != tuple(motion.shape[:-3]) + tuple(motion.shape[-2:]):
        raise ValueError(f'motion_to_positions: first must have shape '
                         f'{tuple(motion.shape[:-3]) + tuple(motion.shape[-2:])}, got {tuple(first.shape)}')
    steps = xp.concatenate([xp.zeros_like(motion[..., :1, :, :]), motion[..., :-1, :, :]], axis=-3)
    return first[..., None, :, :] + xp.cumsum(steps, axis=-3)


def compute_streams(joints: Array, skeleton: Skeleton | str,
                    streams: Iterable[str] = ('joint', 'bone', 'motion'), root: str = 'zero') -> dict[str, Array]:
    """Several streams of one motion at once.

    Args:
        joints: ``(..., T, J, 3)``.
        skeleton: the skeleton (or its name).
        streams: names from :data:`STREAM_NAMES` (``'bone_motion'`` is the motion of the bones).
        root: root convention of the bone streams (see :func:`bone_stream`).

    Returns:
        ``{name: (..., T, J, 3)}`` in the order asked.
    """
    streams = [streams] if isinstance(streams, str) else list(streams)
    unknown = [s for s in streams if s not in STREAM_NAMES]
    if unknown:
        raise KeyError(f'unknown streams {unknown}; known streams: {list(STREAM_NAMES)}')
    skeleton = get_skeleton(skeleton)
    joints = _check(joints, 'compute_streams', skeleton)
    out: dict[str, Array] = {}
    bones = None
    for name in streams:
        if name == 'joint':
            out[name] = joint_stream(joints)
        elif name == 'motion':
            out[name] = motion_stream(joints)
        else:
            if bones is None:
                bones = bone_stream(joints, skeleton, root=root)
            out[name] = bones if name == 'bone' else motion_stream(bones)
    return out
