"""HumanML3D's redundant motion features: 263-D for ``t2m22`` and 251-D for KIT-ML's ``kit21``.

Guo et al., "Generating Diverse and Natural 3D Human Motions from Text" (CVPR 2022), Sec. 3 and the
official processing (``motion_representation.ipynb``: ``process_file``, ``recover_from_ric``,
``recover_from_rot`` in EricGuo5513/HumanML3D). This is an independent implementation of the same
maths, batched and for numpy or torch.

Per-frame layout for ``J`` joints (``D = 4 + 9 (J - 1) + 3 J + 4``):

==============================  ===========================================================
``[0:1]``                       root angular velocity about Y (half-angle, rad / frame)
``[1:3]``                       root linear velocity (x, z) in the root's facing frame
``[3:4]``                       root height y
``[4 : 4+3(J-1)]``              ric: joint positions relative to the root, facing +Z
``[.. : ..+6(J-1)]``            6D local rotations of joints 1..J-1 (chain-relative)
``[.. : ..+3J]``                joint velocities in the root's facing frame
``[D-4:D]``                     foot contacts (left ankle, left foot, right ankle, right foot)
==============================  ===========================================================

Encoding (``process_file``): (1) re-impose the target skeleton's bone lengths and scale the root
by the leg-length ratio ("uniform skeleton"); (2) put the lowest joint of the clip on the floor;
(3) move the first root to x = z = 0; (4) turn the clip so that frame 0 faces +Z; (5) feet touch
when their squared displacement per frame is below a threshold; (6) root rotation per frame from a
Gaussian-smoothed (sigma 20 frames) facing direction by inverse kinematics; (7) assemble the blocks.
The last frame is dropped: ``T`` input frames give ``T - 1`` feature frames.

Retargeting: the official pipeline retargets every clip to the skeleton of sample 000021.
``target_offsets=None`` (the default) uses the input's own first-frame bone lengths instead, i.e.
no retargeting (the leg scale is 1 and a rigid input keeps its positions). ``'humanml3d'`` uses
000021's bone lengths (see :data:`HUMANML3D_TARGET_BONE_LENGTHS`). Because of the retargeting and the
dropped frame, running the official ``process_file`` on ``new_joints/012314.npy`` reproduces
``new_joint_vecs/012314.npy`` only to about 1e-2, whereas ``decode(new_joint_vecs)`` equals
``new_joints`` to 1e-5 m.

Root angular velocity (``root_angular_velocity``): the official code stores ``arcsin`` of the y
component of ``q = r[t+1] * inv(r[t])``, the relative rotation of the root quaternions ``r`` of
frames ``t`` and ``t + 1``. Each ``r[t]`` comes from ``qbetween`` and has ``w >= 0``, i.e. a heading
angle in (-180, 180] degrees. Where the heading crosses +-180 degrees between two frames (a turn
past facing -Z, relative to frame 0), ``q`` is the same small rotation written as its negative,
``w < 0``: its half-angle is ``-pi + eps`` instead of ``eps``, and ``arcsin(y) = -eps`` has the wrong
sign. Decoding integrates the velocity, so the heading of every later frame is off by ``2 eps`` (per
crossing) and the root trajectory drifts. ``'official'`` (the default) keeps this, so that features
equal the released HumanML3D data and the models trained on it; ``'wrapped'`` takes the relative
rotation with ``w >= 0`` (``q`` and ``-q`` are the same rotation; this is the wrapped angle
difference, in (-pi, pi]) so that ``decode(encode(joints))`` reproduces the joints through any number
of turns. The two differ only in the frames where the heading crosses +-180 degrees (bit-identical
everywhere else), and ``decode`` is the same for both.

Foot contact thresholds are those of the official scripts: 0.002 (m^2 per frame) for HumanML3D and
0.05 for KIT-ML (whose joints are in millimetre-scale units).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from motionkit.registry import REPRESENTATIONS

from .kinematics import facing_direction, forward_kinematics, inverse_kinematics, offsets_from_joints
from .quaternion import Array, _as_float, _normalize, _xp, qbetween, qinv, qmul, qrot
from .representation import MotionRepresentation, check_finite
from .rotation import quaternion_to_cont6d
from .skeletons import Skeleton, get_skeleton

__all__ = ['HumanML3DFeatures', 'KITFeatures', 'recover_joints_from_features',
           'recover_joints_from_rotations', 'recover_root', 'humanml3d_feature_dim',
           'HUMANML3D_TARGET_BONE_LENGTHS', 'humanml3d_target_offsets', 'ROOT_ANGULAR_VELOCITIES',
           'feature_encoding_from_metadata']

#: ``root_angular_velocity`` choices of :class:`HumanML3DFeatures` (see the module docstring).
ROOT_ANGULAR_VELOCITIES = ('official', 'wrapped')

# Bone lengths (m, joint minus parent, in t2m22 joint order) of HumanML3D's target skeleton, the first
# frame of sample 000021 ("t2m_tgt_skel_id" in paramUtil.py). Measured from the reference file
# new_joints/012314.npy, which the official pipeline retargeted to that skeleton: its bone lengths are
# constant over all 170 frames to within 2e-6 m.
HUMANML3D_TARGET_BONE_LENGTHS = (
    0.0, 0.1030740, 0.1098834, 0.1315682, 0.3936232, 0.3901882, 0.1431902, 0.4324330, 0.4256434,
    0.0573647, 0.1433818, 0.1494191, 0.2193600, 0.1374868, 0.1433828, 0.1030392, 0.1316140, 0.1229844,
    0.2568399, 0.2630919, 0.2660118, 0.2698763)

# Gaussian sigma (frames) of the facing direction used for the root rotation (smooth_forward=True).
_FORWARD_SMOOTH_SIGMA = 20.0


def humanml3d_feature_dim(joints_num: int) -> int:
    """Feature width of the HumanML3D layout: ``4 + 9 (J - 1) + 3 J + 4`` (263 for 22 joints)."""
    return 4 + 9 * (joints_num - 1) + 3 * joints_num + 4


def feature_encoding_from_metadata(metadata: Any, where: str = 'metadata') -> str:
    """The ``root_angular_velocity`` a dataset's features were written with.

    Builders record ``feature_encoding = HumanML3DFeatures.encoding_record()`` in their manifest
    (a dataset-level ``manifest.json`` or each line of ``manifest.jsonl``). Data written before the
    record existed (or by the official HumanML3D scripts) has none: ``'official'``.

    Args:
        metadata: a manifest dict (or ``None``).
        where: the file the dict came from, for error messages.

    Raises:
        ValueError: the record names an unknown encoding.
    """
    record = metadata.get('feature_encoding') if isinstance(metadata, dict) else None
    if record is None:
        return 'official'
    value = record.get('root_angular_velocity', 'official') if isinstance(record, dict) else record
    if value not in ROOT_ANGULAR_VELOCITIES:
        raise ValueError(f'{where}: feature_encoding.root_angular_velocity must be one of '
                         f'{ROOT_ANGULAR_VELOCITIES}, got {value!r}')
    return value


def humanml3d_target_offsets() -> np.ndarray:
    """``(22, 3)`` bone offsets of HumanML3D's target skeleton (sample 000021) for ``t2m22``."""
    skeleton = get_skeleton('t2m22')
    return skeleton.raw_offsets * np.asarray(HUMANML3D_TARGET_BONE_LENGTHS)[:, None]


# ----------------------------------------------------------------------------------------------
# Decoding (recover_from_ric / recover_from_rot)
# ----------------------------------------------------------------------------------------------
def _check_feature_width(features: Array, needed: int, what: str) -> Array:
    if not isinstance(features, (np.ndarray, torch.Tensor)):
        features = np.asarray(features)
    if features.ndim < 2 or features.shape[-1] < needed:
        raise ValueError(f'{what} needs features of shape (..., T, >={needed}), got {tuple(features.shape)}')
    return _as_float(features)


def recover_root(features: Array) -> tuple[Array, Array]:
    """Root rotation and position of every frame from the first 4 HumanML3D features.

    The root angle is the running sum of the angular velocities of the *previous* frames (frame 0
    has angle 0); the root xz position integrates the previous frames' velocities rotated back to
    the world; y is the stored height (HumanML3D's ``recover_root_rot_pos``).

    Args:
        features: ``(..., T, D)`` with ``D >= 4``.

    Returns:
        ``(..., T, 4)`` root quaternions (world -> facing frame) and ``(..., T, 3)`` root positions.
    """
    features = _check_feature_width(features, 4, 'recover_root')
    xp = _xp(features)
    zero = xp.zeros_like(features[..., :1, 0])
    angle = xp.cumsum(xp.concatenate([zero, features[..., :-1, 0]], axis=-1), axis=-1)  # (..., T)
    # The stored velocity is arcsin of the quaternion's y component, so ``angle`` is a half-angle.
    z = xp.zeros_like(angle)
    root_quat = xp.stack([xp.cos(angle), z, xp.sin(angle), z], axis=-1)
    vel = xp.stack([features[..., :-1, 1], xp.zeros_like(features[..., :-1, 1]), features[..., :-1, 2]], axis=-1)
    vel = xp.concatenate([xp.zeros_like(features[..., :1, :3]), vel], axis=-2)  # (..., T, 3)
    # Velocity of step t-1 -> t was expressed in frame t's facing frame.
    pos = xp.cumsum(qrot(qinv(root_quat), vel), axis=-2)
    pos = xp.stack([pos[..., 0], features[..., 3], pos[..., 2]], axis=-1)
    return root_quat, pos


def recover_joints_from_features(features: Array, joints_num: int) -> Array:
    """Global joint positions from the root and ric blocks of HumanML3D features.

    HumanML3D's ``recover_from_ric``: only ``features[..., :4 + 3 (J - 1)]`` is read, so this also
    decodes MARDM's 67-D essential features.

    Args:
        features: ``(..., T, D)`` with ``D >= 4 + 3 (joints_num - 1)``.
        joints_num: ``J`` (22 for HumanML3D, 21 for KIT-ML).

    Returns:
        ``(..., T, J, 3)`` joint positions.
    """
    if joints_num < 2:
        raise ValueError(f'joints_num must be >= 2, got {joints_num}')
    features = _check_feature_width(features, 4 + 3 * (joints_num - 1), 'recover_joints_from_features')
    xp = _xp(features)
    root_quat, root_pos = recover_root(features)
    ric = features[..., 4:4 + 3 * (joints_num - 1)]
    ric = ric.reshape(tuple(ric.shape[:-1]) + (joints_num - 1, 3))
    joints = qrot(qinv(root_quat)[..., None, :], ric)
    shift = xp.stack([root_pos[..., 0], xp.zeros_like(root_pos[..., 0]), root_pos[..., 2]], axis=-1)
    joints = joints + shift[..., None, :]
    return xp.concatenate([root_pos[..., None, :], joints], axis=-2)


def recover_joints_from_rotations(features: Array, skeleton: Skeleton | str, offsets: Any = None) -> Array:
    """Global joint positions from the root and 6D-rotation blocks (HumanML3D's ``recover_from_rot``).

    Args:
        features: ``(..., T, D)`` HumanML3D features of ``skeleton``.
        skeleton: ``t2m22`` / ``kit21`` (or another skeleton with a rest pose).
        offsets: ``(J, 3)`` or ``(..., J, 3)`` bone offsets; default: those of the first frame
            decoded by :func:`recover_joints_from_features` (per motion).

    Returns:
        ``(..., T, J, 3)`` joint positions.
    """
    skeleton = get_skeleton(skeleton)
    num = skeleton.num_joints
    start = 4 + 3 * (num - 1)
    features = _check_feature_width(features, start + 6 * (num - 1), 'recover_joints_from_rotations')
    xp = _xp(features)
    if offsets is None:
        first = recover_joints_from_features(features[..., :1, :], num)[..., 0, :, :]
        offsets = offsets_from_joints(first, skeleton)[..., None, :, :]
    root_quat, root_pos = recover_root(features)
    local6d = features[..., start:start + 6 * (num - 1)]
    local6d = local6d.reshape(tuple(local6d.shape[:-1]) + (num - 1, 6))
    root6d = quaternion_to_cont6d(root_quat)[..., None, :]
    rotations = xp.concatenate([root6d, local6d], axis=-2)
    return forward_kinematics(rotations, offsets, root_pos, skeleton)


# ----------------------------------------------------------------------------------------------
# Encoding (process_file)
# ----------------------------------------------------------------------------------------------
def _retarget(joints: Array, skeleton: Skeleton, target_offsets: Array | None,
              leg_joints: Sequence[int]) -> Array:
    """HumanML3D's ``uniform_skeleton``: keep every bone's direction, give it the target length, and
    scale the root trajectory by the target/source leg-length ratio.

    The official code does this by inverse kinematics (shortest-arc bone rotations from the rest
    pose) followed by forward kinematics with the target offsets; rotating a rest direction onto the
    observed direction and scaling it by the target length is the same as scaling the observed unit
    direction, which is what is computed here directly.
    """
    xp = _xp(joints)
    src = offsets_from_joints(joints[..., 0, :, :], skeleton)  # (..., J, 3)
    if target_offsets is None:
        tgt, scale = src, None
    else:
        tgt = _as_float(target_offsets, like=joints)
        # Leg length = sum of the largest absolute components of two leg bones (as official).
        def leg(off):
            return sum(xp.abs(off[..., j, :]).max(-1) for j in leg_joints)
        scale = (leg(tgt) / leg(src))[..., None, None]  # (..., 1, 1)
    # Bone lengths (..., J); the root row is zero, left out of the sqrt for finite gradients.
    length = xp.sqrt((tgt[..., 1:, :] * tgt[..., 1:, :]).sum(-1))
    length = xp.concatenate([xp.zeros_like(length[..., :1]), length], axis=-1)
    root = joints[..., :, 0, :] if scale is None else joints[..., :, 0, :] * scale
    positions = [None] * skeleton.num_joints
    positions[0] = root
    for chain in skeleton.kinematic_chains:
        for prev, cur in zip(chain[:-1], chain[1:]):
            direction = _normalize(joints[..., :, cur, :] - joints[..., :, prev, :])
            positions[cur] = positions[prev] + direction * length[..., None, cur, None]
    return xp.stack(positions, axis=-2)


def _encode(joints: Array, skeleton: Skeleton, face_joints: Sequence[int], foot_left: Sequence[int],
            foot_right: Sequence[int], leg_joints: Sequence[int], feet_threshold: float,
            target_offsets: Array | None, root_angular_velocity: str = 'official') -> Array:
    """HumanML3D ``process_file`` on ``(..., T, J, 3)`` joints -> ``(..., T - 1, D)``."""
    xp = _xp(joints)
    # (1) Uniform skeleton.
    x = _retarget(joints, skeleton, target_offsets, leg_joints)
    # (2) Floor: the lowest joint of the whole clip at y = 0.
    floor = x[..., 1].min(-1).min(-1) if xp is np else x[..., 1].amin(dim=(-2, -1))
    x = x - xp.stack([xp.zeros_like(floor), floor, xp.zeros_like(floor)], axis=-1)[..., None, None, :]
    # (3) First root at x = z = 0.
    root0 = x[..., 0, 0, :]
    x = x - (root0 * _as_float(np.array([1.0, 0.0, 1.0]), like=x))[..., None, None, :]
    # (4) Frame 0 faces +Z.
    z_axis = _as_float(np.array([0.0, 0.0, 1.0]), like=x)
    forward0 = _normalize(facing_direction(x[..., 0, :, :], face_joints))
    x = qrot(qbetween(forward0, z_axis)[..., None, None, :], x)
    global_positions = x
    # (5) Foot contacts: squared per-frame displacement below the threshold.
    step = x[..., 1:, :, :] - x[..., :-1, :, :]
    sq_speed = (step * step).sum(-1)  # (..., T-1, J)
    feet_l = (sq_speed[..., list(foot_left)] < feet_threshold)
    feet_r = (sq_speed[..., list(foot_right)] < feet_threshold)
    feet_l = feet_l.astype(x.dtype) if xp is np else feet_l.to(x.dtype)
    feet_r = feet_r.astype(x.dtype) if xp is np else feet_r.to(x.dtype)
    # (6) Rotations. HumanML3D's Skeleton.inverse_kinematics_np unpacks face_joint_indx as
    # (l_hip, r_hip, sdr_r, sdr_l), i.e. its hip vector points the other way than in step (4);
    # the root rotation (and thus every feature expressed in the root frame) depends on it, so the
    # same order is reproduced here.
    ik_face = (face_joints[1], face_joints[0], face_joints[2], face_joints[3])
    quats = inverse_kinematics(x, skeleton, face_joints=ik_face, smooth_sigma=_FORWARD_SMOOTH_SIGMA,
                               identity_first_root=True)  # (..., T, J, 4)
    cont6d = quaternion_to_cont6d(quats)
    r_rot = quats[..., 0, :]  # (..., T, 4)
    root_vel = qrot(r_rot[..., 1:, :], x[..., 1:, 0, :] - x[..., :-1, 0, :])  # (..., T-1, 3)
    r_vel = qmul(r_rot[..., 1:, :], qinv(r_rot[..., :-1, :]))  # (..., T-1, 4)
    if root_angular_velocity == 'wrapped':
        # q and -q are the same rotation; with w >= 0 the half-angle is in [-pi/2, pi/2], so that
        # arcsin(y) below is the wrapped heading change even where the heading crosses +-180 degrees
        # (where the official code's w < 0 flips the sign). Frames with w >= 0 are untouched.
        sign = xp.where(r_vel[..., :1] < 0, -xp.ones_like(r_vel[..., :1]), xp.ones_like(r_vel[..., :1]))
        r_vel = r_vel * sign
    # (7) Root-relative, facing-normalised joints (ric).
    root_xz = x[..., 0:1, :] * _as_float(np.array([1.0, 0.0, 1.0]), like=x)
    local = qrot(r_rot[..., None, :], x - root_xz)  # (..., T, J, 3)
    root_y = local[..., 0, 1]
    r_ang = xp.arcsin(xp.clip(r_vel[..., 2], -1.0, 1.0))
    root_data = xp.stack([r_ang, root_vel[..., 0], root_vel[..., 2], root_y[..., :-1]], axis=-1)
    lead = tuple(x.shape[:-3])
    t = x.shape[-3]
    ric = local[..., :-1, 1:, :].reshape(lead + (t - 1, -1))
    rot = cont6d[..., :-1, 1:, :].reshape(lead + (t - 1, -1))
    local_vel = qrot(r_rot[..., :-1, None, :], global_positions[..., 1:, :, :] - global_positions[..., :-1, :, :])
    local_vel = local_vel.reshape(lead + (t - 1, -1))
    return xp.concatenate([root_data, ric, rot, local_vel, feet_l, feet_r], axis=-1)


# ----------------------------------------------------------------------------------------------
# Representations
# ----------------------------------------------------------------------------------------------
@REPRESENTATIONS.register_module()
class HumanML3DFeatures(MotionRepresentation):
    """HumanML3D's 263-D features of ``t2m22`` joints (see the module docstring for the layout).

    Args:
        mean, std: optional ``(263,)`` statistics (arrays, tensors or ``Mean.npy`` / ``Std.npy`` paths).
        target_offsets: skeleton to retarget to before encoding: ``None`` (default) keeps the input's
            own first-frame bone lengths (no retargeting); ``'humanml3d'`` uses HumanML3D's target
            skeleton (sample 000021, as the official data); or a ``(J, 3)`` offsets array (e.g.
            :func:`~motionkit.motion.kinematics.offsets_from_joints` of a reference pose).
        feet_threshold: foot contact threshold on the squared per-frame displacement; default the
            official value (0.002 for HumanML3D, 0.05 for KIT-ML).
        root_angular_velocity: ``'official'`` (default): as the official ``process_file``, whose
            value has the wrong sign in the frames where the heading crosses +-180 degrees (the
            released HumanML3D features and models use it); ``'wrapped'``: the wrapped relative
            rotation, exact through any turn (motionkit's own dataset builders use it). See the
            module docstring; :meth:`encoding_record` is what builders store in their manifests.

    ``encode``: ``(T, J, 3)`` / ``(B, T, J, 3)`` -> ``(T-1, D)`` / ``(B, T-1, D)``.
    ``decode``: ``(T, D)`` / ``(B, T, D)`` -> ``(T, J, 3)`` / ``(B, T, J, 3)`` (from the ric block,
    as the official ``recover_from_ric``).
    """

    skeleton_name = 't2m22'
    frames_dropped = 1
    fps = 20.0
    #: HumanML3D face_joint_indx: (r_hip, l_hip, r_shoulder, l_shoulder).
    face_joints: tuple[int, ...] = (2, 1, 17, 16)
    #: HumanML3D fid_l / fid_r: the joints of the contact features, left block first.
    foot_left: tuple[int, ...] = (7, 10)
    foot_right: tuple[int, ...] = (8, 11)
    #: HumanML3D l_idx1, l_idx2: the two leg bones whose length sets the retargeting scale.
    leg_joints: tuple[int, ...] = (5, 8)
    default_feet_threshold = 0.002
    #: ``encode`` raises when the median bone length of a motion is above this (metres): human bones
    #: are 0.05-0.45 m (per-clip median 0.11-0.16 m on the 155 real t2m22 clips of the shared data,
    #: 0.13-0.17 m on SynthMotion), so a median above 1 m means joints in millimetres or centimetres, whose
    #: features would be ~1000x off without any other error. ``None`` disables the check.
    max_median_bone_length: float | None = 1.0

    def __init__(self, mean: Any = None, std: Any = None, target_offsets: Any = None,
                 feet_threshold: float | None = None, root_angular_velocity: str = 'official') -> None:
        super().__init__(self.skeleton_name, mean=mean, std=std)
        self.feet_threshold = float(self.default_feet_threshold if feet_threshold is None else feet_threshold)
        self.target_offsets = self._resolve_target(target_offsets)
        if root_angular_velocity not in ROOT_ANGULAR_VELOCITIES:
            raise ValueError(f'{type(self).__name__}: root_angular_velocity must be one of '
                             f'{ROOT_ANGULAR_VELOCITIES}, got {root_angular_velocity!r}')
        self.root_angular_velocity = root_angular_velocity

    def encoding_record(self) -> dict:
        """Plain-Python description of how :meth:`encode` writes features, for dataset manifests
        (``feature_encoding``; read back with :func:`feature_encoding_from_metadata`)."""
        return dict(representation=type(self).__name__, root_angular_velocity=self.root_angular_velocity)

    def _resolve_target(self, target_offsets: Any) -> np.ndarray | None:
        if target_offsets is None:
            return None
        if isinstance(target_offsets, str):
            if target_offsets != 'humanml3d' or self.skeleton.name != 't2m22':
                raise ValueError(f"{type(self).__name__}: target_offsets must be None, a (J, 3) array or "
                                 f"'humanml3d' (t2m22 only), got {target_offsets!r}")
            return humanml3d_target_offsets()
        if isinstance(target_offsets, torch.Tensor):
            target_offsets = target_offsets.detach().cpu().numpy()
        arr = np.asarray(target_offsets, dtype=np.float64)
        if arr.shape != (self.num_joints, 3):
            raise ValueError(f'{type(self).__name__}: target_offsets must have shape ({self.num_joints}, 3), '
                             f'got {arr.shape}')
        check_finite(arr, f'{type(self).__name__} target_offsets')
        return arr

    @property
    def dim(self) -> int:
        return humanml3d_feature_dim(self.num_joints)

    @property
    def blocks(self) -> dict[str, slice]:
        """Feature slices by block: ``root``, ``ric``, ``rot``, ``vel``, ``feet``."""
        j = self.num_joints
        ric = 4 + 3 * (j - 1)
        rot = ric + 6 * (j - 1)
        vel = rot + 3 * j
        return {'root': slice(0, 4), 'ric': slice(4, ric), 'rot': slice(ric, rot), 'vel': slice(rot, vel),
                'feet': slice(vel, vel + 4)}

    def feature_joints(self) -> np.ndarray:
        """Joint of each feature: root block -> joint 0; ric/rot -> joints 1..J-1; velocities ->
        joints 0..J-1; contacts -> the foot joints they describe. For ``t2m22`` this gives MDM's
        upper/lower-body feature masks (lower body = pelvis, hips, knees, ankles, feet)."""
        j = self.num_joints
        return np.concatenate([
            np.zeros(4, dtype=np.int64),
            np.repeat(np.arange(1, j), 3),
            np.repeat(np.arange(1, j), 6),
            np.repeat(np.arange(j), 3),
            np.asarray(self.foot_left + self.foot_right, dtype=np.int64),
        ])

    def encode(self, joints: Array) -> Array:
        """Joints ``(T, J, 3)`` / ``(B, T, J, 3)`` -> features ``(T-1, D)`` / ``(B, T-1, D)``."""
        joints = self._check_joints(joints, min_frames=2)
        self._check_units(joints)
        return _encode(joints, self.skeleton, self.face_joints, self.foot_left, self.foot_right,
                       self.leg_joints, self.feet_threshold,
                       None if self.target_offsets is None else _as_float(self.target_offsets, like=joints),
                       self.root_angular_velocity)

    def _check_units(self, joints: Array) -> None:
        """Raise if the joints are not in metres (see :attr:`max_median_bone_length`)."""
        if self.max_median_bone_length is None:
            return
        x = joints.detach().cpu().numpy() if isinstance(joints, torch.Tensor) else np.asarray(joints)
        parents = np.asarray(self.skeleton.parents)
        child = np.flatnonzero(parents >= 0)
        bones = np.linalg.norm(x[..., child, :] - x[..., parents[child], :], axis=-1)  # (..., T, J-1)
        median = np.median(bones.reshape(bones.shape[:-2] + (-1,)), axis=-1)  # per motion
        worst = float(np.max(median))
        if worst > self.max_median_bone_length:
            raise ValueError(
                f'{type(self).__name__}.encode: joints of shape {tuple(x.shape)} have a median bone length of '
                f'{worst:.4g} (a person\'s is about 0.13 m): they look like millimetres or centimetres; '
                f'motionkit uses metres (divide by 1000 or 100)')

    def decode(self, features: Array) -> Array:
        """Features ``(T, D)`` / ``(B, T, D)`` -> joints ``(T, J, 3)`` / ``(B, T, J, 3)``."""
        self._check_features(features)
        return recover_joints_from_features(features, self.num_joints)

    def decode_rotations(self, features: Array, offsets: Any = None) -> Array:
        """Joints from the 6D-rotation block instead of ric (see :func:`recover_joints_from_rotations`)."""
        self._check_features(features)
        return recover_joints_from_rotations(features, self.skeleton, offsets)


@REPRESENTATIONS.register_module()
class KITFeatures(HumanML3DFeatures):
    """HumanML3D-style 251-D features of KIT-ML's ``kit21`` joints (12.5 fps, millimetre units).

    Uses the official KIT constants: ``face_joint_indx = [11, 16, 5, 8]``, ``fid_l = [19, 20]``,
    ``fid_r = [14, 15]``, leg bones 17 and 18, contact threshold 0.05. With MMM joint names these
    face joints are (LH, RH, LS, RS) and the first contact pair is (RMrot, RF), i.e. HumanML3D swaps
    MMM's left and right; the indices are kept so that the features equal the official ones.
    ``target_offsets='humanml3d'`` is not available (KIT's target is sample 03950).
    """

    skeleton_name = 'kit21'
    fps = 12.5
    face_joints = (11, 16, 5, 8)
    foot_left = (19, 20)
    foot_right = (14, 15)
    leg_joints = (17, 18)
    default_feet_threshold = 0.05
    # KIT-ML joints are in millimetre-scale units upstream, so no metre check.
    max_median_bone_length = None
