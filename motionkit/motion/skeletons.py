"""Skeleton definitions: joint names, parents, kinematic chains and rest-pose bone directions.

Every motion in motionkit is a ``(T, J, 3)`` array of joint positions whose joints are named by one
of the skeletons registered here (Y up, metres, facing +Z at frame 0). A skeleton is an immutable
:class:`Skeleton`; the ``SKELETONS`` registry holds *builder functions* (``t2m22``, ``kit21``,
``smpl24``, ``coco17``, ``ntu25``) so that ``SKELETONS.build(dict(type='t2m22'))`` and
:func:`get_skeleton` both return one.

Sources of the tables:

* ``t2m22`` / ``kit21``: kinematic chains and raw bone directions of HumanML3D's ``paramUtil.py``
  (Guo et al., "Generating Diverse and Natural 3D Human Motions from Text", CVPR 2022).
  ``t2m22`` joints are the first 22 SMPL joints; ``kit21`` joints are the 21 joints of the KIT
  Master Motor Map (MMM) model, named after the MMM joint names (root, BP, BT, BLN, BUN, LS, LE,
  LW, RS, RE, RW, LH, LK, LA, LMrot, LF, RH, RK, RA, RMrot, RF).
* ``smpl24``: the 24 SMPL body joints (Loper et al. 2015).
* ``coco17``: the 17 COCO person keypoints (Lin et al. 2014); COCO defines no tree, so a tree rooted
  at the nose is used (shoulders hang from the nose, hips from the shoulders).
* ``ntu25``: Kinect v2 joints in NTU RGB+D order (Shahroudy et al., CVPR 2016): 1 base of spine,
  2 middle of spine, 3 neck, 4 head, 5-8 left shoulder/elbow/wrist/hand, 9-12 right arm, 13-16 left
  hip/knee/ankle/foot, 17-20 right leg, 21 spine at the shoulders, 22 left hand tip, 23 left thumb,
  24 right hand tip, 25 right thumb (0-based here). Parents follow the Kinect v2 SDK joint hierarchy.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from motionkit.registry import SKELETONS

__all__ = ['Skeleton', 'get_skeleton', 'SKELETON_NAMES', 't2m22', 'kit21', 'smpl24', 'coco17', 'ntu25']


@dataclass(frozen=True)
class Skeleton:
    """An immutable skeleton description.

    Attributes:
        name: Registered name, e.g. ``'t2m22'``.
        joint_names: ``J`` snake_case joint names, in data order.
        parents: Parent index of every joint, ``-1`` for the root (joint 0). A parent may have a
            larger index than its child (NTU); use :attr:`topological_order` to walk root-first.
        kinematic_chains: Chains of joint indices, each starting at a joint already reached from the
            root; used for drawing and by HumanML3D's inverse / forward kinematics.
        raw_offsets: ``(J, 3)`` unit rest-pose bone directions (joint minus parent; row 0 is zeros),
            or ``None`` when the skeleton has no rest pose (COCO, NTU).
        left_right_pairs: ``(left, right)`` joint index pairs, used for mirroring.
        foot_joints: ``{'left': (...), 'right': (...)}`` joints used for foot contact, empty if n/a.
        face_joints: ``(right_hip, left_hip, right_shoulder, left_shoulder)``: the joints whose
            left-to-right vectors give the facing direction (HumanML3D's ``face_joint_indx`` order).
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    kinematic_chains: tuple[tuple[int, ...], ...]
    raw_offsets: np.ndarray | None = field(default=None, compare=False)
    left_right_pairs: tuple[tuple[int, int], ...] = ()
    foot_joints: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, hash=False)
    face_joints: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        num = len(self.joint_names)
        if len(set(self.joint_names)) != num:
            raise ValueError(f'skeleton {self.name!r}: joint names are not unique')
        if len(self.parents) != num:
            raise ValueError(f'skeleton {self.name!r}: {len(self.parents)} parents for {num} joints')
        if self.parents[0] != -1 or any(not 0 <= p < num or p == j
                                        for j, p in enumerate(self.parents) if j):
            raise ValueError(
                f'skeleton {self.name!r}: parents must be -1 for joint 0 and another joint index for '
                f'every other joint, got {self.parents}')
        for j in range(num):  # every joint must reach the root: no cycles
            seen, k = set(), j
            while k != -1:
                if k in seen:
                    raise ValueError(f'skeleton {self.name!r}: parents {self.parents} contain a cycle')
                seen.add(k)
                k = self.parents[k]
        for chain in self.kinematic_chains:
            if any(not 0 <= j < num for j in chain):
                raise ValueError(f'skeleton {self.name!r}: chain {chain} has an index outside [0, {num})')
        if self.raw_offsets is not None:
            offsets = np.array(self.raw_offsets, dtype=np.float64)
            if offsets.shape != (num, 3):
                raise ValueError(
                    f'skeleton {self.name!r}: raw_offsets must have shape ({num}, 3), got {offsets.shape}')
            offsets.setflags(write=False)
            object.__setattr__(self, 'raw_offsets', offsets)
        if self.face_joints and len(self.face_joints) != 4:
            raise ValueError(f'skeleton {self.name!r}: face_joints must hold 4 indices, got {self.face_joints}')

    # ------------------------------------------------------------------------------------------
    @property
    def num_joints(self) -> int:
        """Number of joints ``J``."""
        return len(self.joint_names)

    @property
    def bones(self) -> list[tuple[int, int]]:
        """``(parent, child)`` for every non-root joint, in joint order."""
        return [(p, j) for j, p in enumerate(self.parents) if p >= 0]

    @property
    def topological_order(self) -> tuple[int, ...]:
        """Joint indices ordered so that every parent comes before its children."""
        depth = []
        for j in range(self.num_joints):
            d, k = 0, j
            while self.parents[k] != -1:
                k, d = self.parents[k], d + 1
            depth.append(d)
        return tuple(sorted(range(self.num_joints), key=lambda j: (depth[j], j)))

    def index(self, name: str) -> int:
        """Index of the joint called ``name``.

        Raises:
            KeyError: naming the skeleton and the closest joint names.
        """
        try:
            return self.joint_names.index(name)
        except ValueError:
            close = difflib.get_close_matches(str(name), self.joint_names, n=3, cutoff=0.4)
            hint = f'; did you mean {close}?' if close else ''
            raise KeyError(f'skeleton {self.name!r} has no joint {name!r}{hint} '
                           f'(joints: {list(self.joint_names)})') from None

    def indices(self, names: Iterable[str]) -> list[int]:
        """Indices of several joints, in the order given (see :meth:`index`)."""
        if isinstance(names, str):
            names = [names]
        return [self.index(n) for n in names]

    def __repr__(self) -> str:
        return f'Skeleton(name={self.name!r}, num_joints={self.num_joints})'


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------
_T2M_NAMES = (
    'pelvis', 'left_hip', 'right_hip', 'spine1', 'left_knee', 'right_knee', 'spine2', 'left_ankle',
    'right_ankle', 'spine3', 'left_foot', 'right_foot', 'neck', 'left_collar', 'right_collar', 'head',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist')
# HumanML3D paramUtil.t2m_kinematic_chain: right leg, left leg, spine, right arm, left arm.
_T2M_CHAINS = ((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21),
               (9, 13, 16, 18, 20))
# HumanML3D paramUtil.t2m_raw_offsets: +X is the body's left, arms hang down in the rest pose.
_T2M_RAW_OFFSETS = (
    (0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, -1, 0), (0, 1, 0), (0, -1, 0),
    (0, -1, 0), (0, 1, 0), (0, 0, 1), (0, 0, 1), (0, 1, 0), (1, 0, 0), (-1, 0, 0), (0, 0, 1),
    (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0))

# KIT MMM joints: root, BP, BT, BLN, BUN, LS, LE, LW, RS, RE, RW, LH, LK, LA, LMrot, LF, RH, RK, RA,
# RMrot, RF. The root is called 'pelvis' so that body-part masks read the same on every skeleton.
_KIT_NAMES = (
    'pelvis', 'lower_back', 'upper_back', 'lower_neck', 'head', 'left_shoulder', 'left_elbow',
    'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist', 'left_hip', 'left_knee', 'left_ankle',
    'left_foot', 'left_toe', 'right_hip', 'right_knee', 'right_ankle', 'right_foot', 'right_toe')
# HumanML3D paramUtil.kit_kinematic_chain.
_KIT_CHAINS = ((0, 11, 12, 13, 14, 15), (0, 16, 17, 18, 19, 20), (0, 1, 2, 3, 4), (3, 5, 6, 7),
               (3, 8, 9, 10))
# HumanML3D paramUtil.kit_raw_offsets.
_KIT_RAW_OFFSETS = (
    (0, 0, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0), (1, 0, 0), (0, -1, 0), (0, -1, 0),
    (-1, 0, 0), (0, -1, 0), (0, -1, 0), (1, 0, 0), (0, -1, 0), (0, -1, 0), (0, 0, 1), (0, 0, 1),
    (-1, 0, 0), (0, -1, 0), (0, -1, 0), (0, 0, 1), (0, 0, 1))

_COCO_NAMES = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
    'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')
_COCO_PARENTS = (-1, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14)
# Chains of the tree above (arms and legs hang from the shoulders). COCO's own 19 drawing edges
# also link the hips, the shoulders, the eyes and ears to shoulders; they are no parent relations.
_COCO_CHAINS = ((0, 5, 7, 9), (0, 6, 8, 10), (5, 11, 13, 15), (6, 12, 14, 16), (0, 1, 3), (0, 2, 4))

_NTU_NAMES = (
    'spine_base', 'spine_mid', 'neck', 'head', 'left_shoulder', 'left_elbow', 'left_wrist', 'left_hand',
    'right_shoulder', 'right_elbow', 'right_wrist', 'right_hand', 'left_hip', 'left_knee', 'left_ankle',
    'left_foot', 'right_hip', 'right_knee', 'right_ankle', 'right_foot', 'spine_shoulder',
    'left_hand_tip', 'left_thumb', 'right_hand_tip', 'right_thumb')
# Kinect v2 SDK hierarchy (hand tip and thumb both hang from the hand).
_NTU_PARENTS = (-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 7, 11, 11)
_NTU_CHAINS = ((0, 1, 20, 2, 3), (20, 4, 5, 6, 7, 21), (7, 22), (20, 8, 9, 10, 11, 23), (11, 24),
               (0, 12, 13, 14, 15), (0, 16, 17, 18, 19))


def _parents_from_chains(num: int, chains: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """Parent table implied by kinematic chains (each joint's predecessor in its chain)."""
    parents = [-1] * num
    for chain in chains:
        for prev, cur in zip(chain[:-1], chain[1:]):
            parents[cur] = prev
    return tuple(parents)


def _pairs_by_name(names: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """``(left, right)`` index pairs of joints named ``left_*`` / ``right_*``."""
    pairs = []
    for i, n in enumerate(names):
        if n.startswith('left_') and 'right_' + n[5:] in names:
            pairs.append((i, names.index('right_' + n[5:])))
    return tuple(pairs)


# ----------------------------------------------------------------------------------------------
# Registered builders
# ----------------------------------------------------------------------------------------------
@SKELETONS.register_module()
def t2m22() -> Skeleton:
    """HumanML3D's 22-joint SMPL skeleton."""
    return Skeleton(
        name='t2m22',
        joint_names=_T2M_NAMES,
        parents=_parents_from_chains(22, _T2M_CHAINS),
        kinematic_chains=_T2M_CHAINS,
        raw_offsets=np.array(_T2M_RAW_OFFSETS, dtype=np.float64),
        left_right_pairs=_pairs_by_name(_T2M_NAMES),
        # HumanML3D fid_l = [7, 10], fid_r = [8, 11]
        foot_joints={'left': (7, 10), 'right': (8, 11)},
        # HumanML3D face_joint_indx = [2, 1, 17, 16] (r_hip, l_hip, r_shoulder, l_shoulder)
        face_joints=(2, 1, 17, 16),
    )


@SKELETONS.register_module()
def kit21() -> Skeleton:
    """KIT-ML's 21-joint MMM skeleton (joint names follow MMM's L*/R* names).

    Note: HumanML3D's KIT processing passes ``face_joint_indx = [11, 16, 5, 8]`` as
    (r_hip, l_hip, r_shoulder, l_shoulder) and ``fid_l = [19, 20]``, i.e. with MMM's left and right
    swapped. This skeleton keeps the MMM meaning (``face_joints`` = (RH, LH, RS, LS)); the
    :class:`~motionkit.motion.humanml3d.KITFeatures` representation uses HumanML3D's own indices so
    that its 251-D features equal the official ones.
    """
    return Skeleton(
        name='kit21',
        joint_names=_KIT_NAMES,
        parents=_parents_from_chains(21, _KIT_CHAINS),
        kinematic_chains=_KIT_CHAINS,
        raw_offsets=np.array(_KIT_RAW_OFFSETS, dtype=np.float64),
        left_right_pairs=_pairs_by_name(_KIT_NAMES),
        foot_joints={'left': (14, 15), 'right': (19, 20)},
        face_joints=(16, 11, 8, 5),
    )


@SKELETONS.register_module()
def smpl24() -> Skeleton:
    """The 24 SMPL body joints: ``t2m22`` plus ``left_hand`` (22) and ``right_hand`` (23)."""
    names = _T2M_NAMES + ('left_hand', 'right_hand')
    chains = ((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21, 23),
              (9, 13, 16, 18, 20, 22))
    return Skeleton(
        name='smpl24',
        joint_names=names,
        parents=_parents_from_chains(24, chains),
        kinematic_chains=chains,
        raw_offsets=np.array(_T2M_RAW_OFFSETS + ((0, -1, 0), (0, -1, 0)), dtype=np.float64),
        left_right_pairs=_pairs_by_name(names),
        foot_joints={'left': (7, 10), 'right': (8, 11)},
        face_joints=(2, 1, 17, 16),
    )


@SKELETONS.register_module()
def coco17() -> Skeleton:
    """The 17 COCO person keypoints (no rest pose)."""
    return Skeleton(
        name='coco17',
        joint_names=_COCO_NAMES,
        parents=_COCO_PARENTS,
        kinematic_chains=_COCO_CHAINS,
        raw_offsets=None,
        left_right_pairs=_pairs_by_name(_COCO_NAMES),
        foot_joints={'left': (15,), 'right': (16,)},
        face_joints=(12, 11, 6, 5),
    )


@SKELETONS.register_module()
def ntu25() -> Skeleton:
    """The 25 Kinect v2 joints of NTU RGB+D (no rest pose)."""
    return Skeleton(
        name='ntu25',
        joint_names=_NTU_NAMES,
        parents=_NTU_PARENTS,
        kinematic_chains=_NTU_CHAINS,
        raw_offsets=None,
        left_right_pairs=_pairs_by_name(_NTU_NAMES),
        foot_joints={'left': (14, 15), 'right': (18, 19)},
        face_joints=(16, 12, 8, 4),
    )


SKELETON_NAMES = ('t2m22', 'kit21', 'smpl24', 'coco17', 'ntu25')
_BUILDERS = {'t2m22': t2m22, 'kit21': kit21, 'smpl24': smpl24, 'coco17': coco17, 'ntu25': ntu25}
_CACHE: dict[str, Skeleton] = {}


def get_skeleton(name_or_skeleton: str | Skeleton | dict) -> Skeleton:
    """Return a :class:`Skeleton` given its registered name, a config dict or a Skeleton.

    A :class:`Skeleton` is passed through unchanged. Names are looked up in the ``SKELETONS``
    registry (so skeletons registered by other packages work too).

    Raises:
        KeyError: the name is not registered (the message lists the registered names).
        TypeError: the argument is neither a string, a dict nor a Skeleton.
    """
    if isinstance(name_or_skeleton, Skeleton):
        return name_or_skeleton
    if isinstance(name_or_skeleton, dict):
        built = SKELETONS.build(name_or_skeleton)
        if not isinstance(built, Skeleton):
            raise TypeError(f'SKELETONS.build({name_or_skeleton}) returned {type(built).__name__}, '
                            'not a Skeleton')
        return built
    if not isinstance(name_or_skeleton, str):
        raise TypeError(f'expected a skeleton name or Skeleton, got {type(name_or_skeleton).__name__}')
    name = name_or_skeleton
    if name in _CACHE:
        return _CACHE[name]
    builder = _BUILDERS.get(name) or SKELETONS.get(name)
    if builder is None:
        known = sorted(set(SKELETONS.module_dict) | set(_BUILDERS))
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
        hint = f' (did you mean {close}?)' if close else ''
        raise KeyError(f'unknown skeleton {name!r}{hint}; registered skeletons: {known}')
    skeleton = builder()
    _CACHE[name] = skeleton
    return skeleton
