"""Left-right mirroring of joint positions and of HumanML3D-style features.

HumanML3D doubles its data with mirrored clips (the ``M`` ids): joints are reflected in the X = 0
plane, left and right joints are swapped, and the result is encoded again. :func:`mirror_features`
does the same directly on features, without decoding, by tracking what the reflection ``M = diag(-1,
1, 1)`` does to each block of the 263-D (KIT: 251-D) vector:

* facing direction: ``across`` (built from left-minus-right differences) becomes ``-M across``, so
  ``forward = Y x across`` becomes ``M forward``; every heading angle changes sign. A rotation ``R``
  becomes ``M R M``: its quaternion ``(w, x, y, z)`` becomes ``(w, x, -y, -z)``.
* root angular velocity (rotation about Y): negated; root linear velocity ``(x, z)``: x negated;
  root height: unchanged.
* ric and local velocities (vectors in the root's facing frame): x negated, and each joint's block
  moves to its mirror joint.
* 6D rotations (first two columns of ``R``): the columns of ``M R M`` are ``(c0x, -c0y, -c0z)`` and
  ``(-c1x, c1y, c1z)``; blocks move to the mirror joint (the rest pose is left-right symmetric, so the
  shortest-arc inverse kinematics commutes with the reflection).
* foot contacts: the left and right pairs swap.

With the default ``target_offsets=None`` (each clip keeps its own bone lengths) this gives
``mirror_features(rep.encode(j), rep) == rep.encode(mirror_joints(j, rep.skeleton))`` to float
precision. With a retargeting target whose left and right bones differ in length (HumanML3D's own
target skeleton does, by a few mm), encoding the mirrored joints retargets them to the unmirrored
bone lengths, so the two differ by that much.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from .quaternion import Array, _as_float
from .skeletons import Skeleton, get_skeleton

__all__ = ['mirror_joints', 'mirror_features', 'mirror_joint_permutation', 'mirror_feature_transform']


def mirror_joint_permutation(skeleton: Skeleton | str) -> np.ndarray:
    """``(J,)`` int array: the index of each joint's mirror joint (itself for the midline joints)."""
    skeleton = get_skeleton(skeleton)
    perm = np.arange(skeleton.num_joints)
    for left, right in skeleton.left_right_pairs:
        perm[left], perm[right] = right, left
    return perm


def mirror_joints(joints: Array, skeleton: Skeleton | str) -> Array:
    """Reflect joint positions in the X = 0 plane and swap left and right joints.

    Args:
        joints: ``(..., J, 3)``.
        skeleton: the skeleton (or its name) whose ``left_right_pairs`` are swapped.

    Returns:
        ``(..., J, 3)``; applying it twice gives the input back.
    """
    skeleton = get_skeleton(skeleton)
    if not isinstance(joints, (np.ndarray, torch.Tensor)):
        joints = np.asarray(joints)
    if joints.ndim < 2 or tuple(joints.shape[-2:]) != (skeleton.num_joints, 3):
        raise ValueError(f'mirror_joints: joints must have shape (..., {skeleton.num_joints}, 3) for '
                         f'skeleton {skeleton.name!r}, got {tuple(joints.shape)}')
    joints = _as_float(joints)
    perm = mirror_joint_permutation(skeleton)
    sign = _as_float(np.array([-1.0, 1.0, 1.0]), like=joints)
    return joints[..., perm, :] * sign


def _check_symmetric(rep: Any, perm: np.ndarray) -> None:
    """The feature mirror is exact only if the representation is itself left-right symmetric."""
    skel = rep.skeleton
    name = f'{type(rep).__name__} (skeleton {skel.name!r})'
    parents = np.asarray(skel.parents)
    mirrored_parents = np.array([-1 if p < 0 else perm[p] for p in parents[perm]])
    if not np.array_equal(mirrored_parents, parents):
        raise ValueError(f'{name}: the joint tree is not left-right symmetric under left_right_pairs')
    if skel.raw_offsets is not None:
        flip = np.array([-1.0, 1.0, 1.0])
        if not np.allclose(skel.raw_offsets[perm] * flip, skel.raw_offsets):
            raise ValueError(f'{name}: the rest pose (raw_offsets) is not mirror-symmetric')
    chains = {tuple(c) for c in skel.kinematic_chains}
    if {tuple(int(perm[j]) for j in c) for c in chains} != chains:
        raise ValueError(f'{name}: the kinematic chains are not left-right symmetric')
    left, right = tuple(getattr(rep, 'foot_left', ())), tuple(getattr(rep, 'foot_right', ()))
    if tuple(int(perm[j]) for j in left) != right:
        raise ValueError(f'{name}: the foot contact joints {left} / {right} are not mirror images')
    face = tuple(getattr(rep, 'face_joints', skel.face_joints))
    if len(face) != 4 or perm[face[0]] != face[1] or perm[face[2]] != face[3]:
        raise ValueError(f'{name}: the face joints {face} are not two left-right pairs')


@lru_cache(maxsize=None)
def _humanml3d_transform(num: int, perm_key: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    perm = np.asarray(perm_key)
    j = num
    idx: list[np.ndarray] = []
    sign: list[np.ndarray] = []
    # Root: angular velocity about Y, linear velocity x, z, height y.
    idx.append(np.arange(4))
    sign.append(np.array([-1.0, -1.0, 1.0, 1.0]))
    # ric: joints 1..J-1, 3 values each; feature block of joint k starts at 4 + 3 (k - 1).
    ric0 = 4
    for k in range(1, j):
        idx.append(ric0 + 3 * (perm[k] - 1) + np.arange(3))
        sign.append(np.array([-1.0, 1.0, 1.0]))
    rot0 = ric0 + 3 * (j - 1)
    for k in range(1, j):
        idx.append(rot0 + 6 * (perm[k] - 1) + np.arange(6))
        sign.append(np.array([1.0, -1.0, -1.0, -1.0, 1.0, 1.0]))
    vel0 = rot0 + 6 * (j - 1)
    for k in range(j):
        idx.append(vel0 + 3 * perm[k] + np.arange(3))
        sign.append(np.array([-1.0, 1.0, 1.0]))
    feet0 = vel0 + 3 * j
    idx.append(feet0 + np.array([2, 3, 0, 1]))
    sign.append(np.ones(4))
    return np.concatenate(idx), np.concatenate(sign)


def mirror_feature_transform(representation: Any) -> tuple[np.ndarray, np.ndarray]:
    """The feature mirror as a gather and a sign: ``mirrored = features[..., index] * sign``.

    Supported: :class:`~motionkit.motion.humanml3d.HumanML3DFeatures`,
    :class:`~motionkit.motion.humanml3d.KITFeatures`, :class:`~motionkit.motion.essential.EssentialFeatures`
    (the root + ric prefix) and :class:`~motionkit.motion.absolute.AbsoluteCoordinates`.

    Returns:
        ``(D,)`` int64 index and ``(D,)`` float64 sign.

    Raises:
        TypeError: another representation.
        ValueError: the representation is not left-right symmetric (tree, rest pose, chains or
            contact joints), so no exact feature mirror exists.
    """
    from .absolute import AbsoluteCoordinates
    from .essential import EssentialFeatures
    from .humanml3d import HumanML3DFeatures

    perm = mirror_joint_permutation(representation.skeleton) if hasattr(representation, 'skeleton') else None
    j = representation.skeleton.num_joints if perm is not None else 0
    if isinstance(representation, AbsoluteCoordinates):
        index = (3 * perm[:, None] + np.arange(3)).reshape(-1)
        sign = np.tile(np.array([-1.0, 1.0, 1.0]), j)
    elif isinstance(representation, (HumanML3DFeatures, EssentialFeatures)):
        full = representation if isinstance(representation, HumanML3DFeatures) else representation._full
        _check_symmetric(full, perm)
        index, sign = _humanml3d_transform(j, tuple(int(p) for p in perm))
        index, sign = index[:representation.dim], sign[:representation.dim]
    else:
        raise TypeError('mirror_features supports HumanML3DFeatures, KITFeatures, EssentialFeatures and '
                        f'AbsoluteCoordinates, got {type(representation).__name__}')
    return index.astype(np.int64), sign.astype(np.float64)


def mirror_features(features: Array, representation: Any) -> Array:
    """Features of the left-right mirrored motion, computed directly from the features.

    Args:
        features: ``(..., D)`` features of ``representation`` (un-normalised: the signs assume zero
            is the reflection-invariant value, which does not hold after mean subtraction).
        representation: a representation object (see :func:`mirror_feature_transform`), its
            registered name or a config dict.

    Returns:
        ``(..., D)`` mirrored features; applying it twice gives the input back.
    """
    from .body_parts import _as_representation
    rep = _as_representation(representation)
    if not isinstance(features, (np.ndarray, torch.Tensor)):
        features = np.asarray(features)
    if features.ndim < 1 or features.shape[-1] != rep.dim:
        raise ValueError(f'mirror_features: features must have shape (..., {rep.dim}) for '
                         f'{type(rep).__name__}, got {tuple(features.shape)}')
    features = _as_float(features)
    index, sign = mirror_feature_transform(rep)
    if isinstance(features, torch.Tensor):
        index_t = torch.as_tensor(index, device=features.device)
        return features.index_select(-1, index_t) * _as_float(sign, like=features)
    return features[..., index] * _as_float(sign, like=features)
