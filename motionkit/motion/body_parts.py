"""Named body-part groups of every skeleton, as joint lists, joint masks and feature masks.

Three families of names are understood by :func:`body_part_joints`:

* ``upper_body`` / ``lower_body``: the split of MDM's body-part editing (Tevet et al., "Human Motion
  Diffusion Model", ICLR 2023, ``HML_LOWER_BODY_JOINTS`` / ``HML_LOWER_BODY_MASK`` /
  ``HML_UPPER_BODY_MASK`` in ``data_loaders/humanml_utils.py``), which CigTime uses to edit a motion
  part by part. The lower body is the pelvis (root) and both legs (hips, knees, ankles, feet); the
  upper body is every other joint (spine, neck, head, collars and arms). On HumanML3D's 263-D
  features, ``body_part_feature_mask(HumanML3DFeatures(), 'lower_body')`` is exactly MDM's
  ``HML_LOWER_BODY_MASK`` (root block and foot contacts included) and ``'upper_body'`` is its
  complement ``HML_UPPER_BODY_MASK``.
* ``head``, ``torso``, ``left_arm``, ``right_arm``, ``left_leg``, ``right_leg``: the six regions
  that ExpertAF's actionable feedback names (Ashutosh et al., "ExpertAF: Expert Actionable Feedback
  from Video", 2024). Regions follow the kinematic chains: a limb is its whole chain from the joint
  where it leaves the trunk (collar or shoulder for arms, hip for legs) to its tip; the torso is the
  pelvis and the spine; the head is the neck and the head. On every skeleton with spine joints the
  six regions partition the joints. COCO keypoints have no spine: there the torso is the quadrilateral
  of shoulders and hips, joints it shares with the limbs.
* any single joint of the skeleton (``'left_wrist'``, ``'right_foot'``, ...) plus the aliases
  ``'root'`` and ``'pelvis'`` for the root joint, as PriorMDM's joint control names its targets
  (Shafir et al., "Human Motion Diffusion as a Generative Prior", ICLR 2024). ``coco17`` has no root
  joint, so it has no ``'root'``.

A part may also be a list of such names; its joints are the union.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .skeletons import Skeleton, get_skeleton

__all__ = ['BODY_PARTS', 'FEEDBACK_REGIONS', 'body_part_joints', 'body_part_joint_mask',
           'body_part_feature_mask', 'body_part_names']

#: Names of the six ExpertAF feedback regions.
FEEDBACK_REGIONS = ('head', 'torso', 'left_arm', 'right_arm', 'left_leg', 'right_leg')

_SMPL_GROUPS = {
    'head': ('neck', 'head'),
    'torso': ('pelvis', 'spine1', 'spine2', 'spine3'),
    'left_arm': ('left_collar', 'left_shoulder', 'left_elbow', 'left_wrist'),
    'right_arm': ('right_collar', 'right_shoulder', 'right_elbow', 'right_wrist'),
    'left_leg': ('left_hip', 'left_knee', 'left_ankle', 'left_foot'),
    'right_leg': ('right_hip', 'right_knee', 'right_ankle', 'right_foot'),
    # MDM HML_LOWER_BODY_JOINTS.
    'lower_body': ('pelvis', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                   'right_ankle', 'left_foot', 'right_foot'),
}

#: Joint names of every named part, per skeleton. ``upper_body`` is always the complement of
#: ``lower_body`` (as MDM's ``SMPL_UPPER_BODY_JOINTS``), so it is derived, not listed.
BODY_PARTS: dict[str, dict[str, tuple[str, ...]]] = {
    't2m22': dict(_SMPL_GROUPS),
    'smpl24': {
        **_SMPL_GROUPS,
        'left_arm': _SMPL_GROUPS['left_arm'] + ('left_hand',),
        'right_arm': _SMPL_GROUPS['right_arm'] + ('right_hand',),
    },
    # KIT MMM: BP/BT are the lower/upper back, BLN/BUN the neck and head.
    'kit21': {
        'head': ('lower_neck', 'head'),
        'torso': ('pelvis', 'lower_back', 'upper_back'),
        'left_arm': ('left_shoulder', 'left_elbow', 'left_wrist'),
        'right_arm': ('right_shoulder', 'right_elbow', 'right_wrist'),
        'left_leg': ('left_hip', 'left_knee', 'left_ankle', 'left_foot', 'left_toe'),
        'right_leg': ('right_hip', 'right_knee', 'right_ankle', 'right_foot', 'right_toe'),
        'lower_body': ('pelvis', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                       'right_ankle', 'left_foot', 'right_foot', 'left_toe', 'right_toe'),
    },
    'ntu25': {
        'head': ('neck', 'head'),
        'torso': ('spine_base', 'spine_mid', 'spine_shoulder'),
        'left_arm': ('left_shoulder', 'left_elbow', 'left_wrist', 'left_hand', 'left_hand_tip', 'left_thumb'),
        'right_arm': ('right_shoulder', 'right_elbow', 'right_wrist', 'right_hand', 'right_hand_tip',
                      'right_thumb'),
        'left_leg': ('left_hip', 'left_knee', 'left_ankle', 'left_foot'),
        'right_leg': ('right_hip', 'right_knee', 'right_ankle', 'right_foot'),
        'lower_body': ('spine_base', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                       'right_ankle', 'left_foot', 'right_foot'),
    },
    # COCO has no pelvis or spine: the torso is outlined by the shoulder and hip keypoints.
    'coco17': {
        'head': ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear'),
        'torso': ('left_shoulder', 'right_shoulder', 'left_hip', 'right_hip'),
        'left_arm': ('left_shoulder', 'left_elbow', 'left_wrist'),
        'right_arm': ('right_shoulder', 'right_elbow', 'right_wrist'),
        'left_leg': ('left_hip', 'left_knee', 'left_ankle'),
        'right_leg': ('right_hip', 'right_knee', 'right_ankle'),
        'lower_body': ('left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle'),
    },
}

# Joints reachable by the aliases 'root' and 'pelvis' (PriorMDM's root control).
_ROOT_ALIASES = {'t2m22': 'pelvis', 'smpl24': 'pelvis', 'kit21': 'pelvis', 'ntu25': 'spine_base'}


def _groups(skeleton: Skeleton) -> dict[str, tuple[str, ...]]:
    """Named groups of ``skeleton``; skeletons without a table get the names of joints only."""
    table = BODY_PARTS.get(skeleton.name)
    if table is None:
        return {}
    groups = dict(table)
    lower = set(table['lower_body'])
    groups['upper_body'] = tuple(n for n in skeleton.joint_names if n not in lower)
    return groups


def body_part_names(skeleton: Skeleton | str) -> list[str]:
    """Every part name :func:`body_part_joints` accepts for ``skeleton``: groups, aliases, joints."""
    skeleton = get_skeleton(skeleton)
    names = sorted(_groups(skeleton))
    if skeleton.name in _ROOT_ALIASES:
        names += [a for a in ('root', 'pelvis') if a not in skeleton.joint_names]
    return names + list(skeleton.joint_names)


def _resolve(skeleton: Skeleton, part: str) -> list[int]:
    if not isinstance(part, str):
        raise TypeError(f'a body part is a name (str), got {type(part).__name__}: {part!r}')
    groups = _groups(skeleton)
    if part in groups:
        return skeleton.indices(groups[part])
    if part in skeleton.joint_names:
        return [skeleton.index(part)]
    if part in ('root', 'pelvis') and skeleton.name in _ROOT_ALIASES:
        return [skeleton.index(_ROOT_ALIASES[skeleton.name])]
    raise KeyError(f'unknown body part {part!r} for skeleton {skeleton.name!r}; known parts: '
                   f'{body_part_names(skeleton)}')


def body_part_joints(skeleton: Skeleton | str, part: str | Sequence[str]) -> list[int]:
    """Sorted joint indices of a named body part.

    Args:
        skeleton: a :class:`~motionkit.motion.skeletons.Skeleton` or its registered name.
        part: a group (``'upper_body'``, ``'lower_body'``, ``'head'``, ``'torso'``, ``'left_arm'``,
            ``'right_arm'``, ``'left_leg'``, ``'right_leg'``), a joint name, ``'root'`` /
            ``'pelvis'``, or a list of these (union).

    Returns:
        Ascending joint indices, without duplicates.

    Raises:
        KeyError: an unknown part; the message lists the parts known for the skeleton.
    """
    skeleton = get_skeleton(skeleton)
    parts = [part] if isinstance(part, str) else list(part)
    if not parts:
        raise ValueError('body_part_joints needs at least one part name, got an empty list')
    joints: set[int] = set()
    for p in parts:
        joints.update(_resolve(skeleton, p))
    return sorted(joints)


def body_part_joint_mask(skeleton: Skeleton | str, part: str | Sequence[str]) -> np.ndarray:
    """``(J,)`` bool mask of the joints of a body part (see :func:`body_part_joints`)."""
    skeleton = get_skeleton(skeleton)
    mask = np.zeros(skeleton.num_joints, dtype=bool)
    mask[body_part_joints(skeleton, part)] = True
    return mask


def _as_representation(representation: Any):
    from .representation import MotionRepresentation
    if isinstance(representation, MotionRepresentation):
        return representation
    if isinstance(representation, (str, dict)):
        from motionkit.registry import REPRESENTATIONS
        cfg = dict(type=representation) if isinstance(representation, str) else representation
        built = REPRESENTATIONS.build(cfg)
        if isinstance(built, MotionRepresentation):
            return built
    raise TypeError('expected a MotionRepresentation, its registered name or a config dict, got '
                    f'{type(representation).__name__}: {representation!r}')


def body_part_feature_mask(representation: Any, part: str | Sequence[str]) -> np.ndarray:
    """``(D,)`` bool mask of the features of ``representation`` that belong to a body part.

    Which feature belongs to which joint is the representation's business
    (:meth:`~motionkit.motion.representation.MotionRepresentation.feature_mask`). For HumanML3D's
    263-D features the root block (rotation / linear velocity, height) belongs to the pelvis and the
    contacts to the feet, so ``'lower_body'`` equals MDM's ``HML_LOWER_BODY_MASK`` and ``'root'``
    equals its ``HML_ROOT_MASK``.

    Args:
        representation: a representation object, its registered name (``'HumanML3DFeatures'``) or a
            config dict.
        part: as in :func:`body_part_joints`.

    Returns:
        ``(D,)`` bool numpy array.
    """
    rep = _as_representation(representation)
    joints = body_part_joints(rep.skeleton, part)
    names = [rep.skeleton.joint_names[j] for j in joints]
    return np.asarray(rep.feature_mask(names), dtype=bool)
