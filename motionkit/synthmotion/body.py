"""The SynthMotion body: a t2m22 rest skeleton, per-subject proportions, joint-angle channels,
joint limits and forward kinematics.

A pose is a ``(22, 3)`` array of *anatomical channels* in degrees (one row per t2m22 joint), whose
meaning depends on the joint (see :data:`CHANNELS`): e.g. a hip row is ``(flexion, abduction,
twist)``, a shoulder row ``(elevation, azimuth, twist)``, a knee row ``(flexion, 0, 0)``. Channels are
written for the left side; the right side is the mirror image (the y- and z-axis angles flip sign),
so ``abduction = 30`` moves either leg outwards. Channels become local rotations (quaternions,
``w, x, y, z``) relative to the parent joint, and :func:`forward_kinematics_parents` poses the
subject's rest skeleton with them through the ordinary parent hierarchy (a rotation of ``spine3``
carries the neck and both arms with it).

Frame convention (motionkit): Y up, +X the body's left, +Z forward, metres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionkit.motion.quaternion import qmul, quaternion_to_matrix
from motionkit.motion.skeletons import get_skeleton

__all__ = [
    'JOINTS', 'J', 'PARENTS', 'CHANNELS', 'LIMITS', 'NEUTRAL', 'UPPER_BODY', 'LOWER_BODY',
    'BODY_REGIONS', 'BodyShape', 'sample_body', 'template_offsets', 'channels_to_quaternions',
    'forward_kinematics_parents', 'quaternion_slerp', 'clip_to_limits', 'idx'
]

SKELETON = get_skeleton('t2m22')
JOINTS: tuple[str, ...] = SKELETON.joint_names
J = len(JOINTS)
PARENTS: tuple[int, ...] = SKELETON.parents


def idx(name: str) -> int:
    """Index of a t2m22 joint (KeyError naming close names)."""
    return SKELETON.index(name)


# Rest-pose bone offsets (joint minus parent, metres) of a 1.72 m adult standing with the arms hanging
# down, shaped after the mean SMPL body (Loper et al. 2015) in the HumanML3D t2m22 joint order. The
# toe ('*_foot') joint lies on the floor and the ankle 7.5 cm above it.
_TEMPLATE = {
    'left_hip': (0.060, -0.085, -0.010), 'right_hip': (-0.060, -0.085, -0.010),
    'spine1': (0.0, 0.110, -0.020), 'left_knee': (0.005, -0.385, 0.005),
    'right_knee': (-0.005, -0.385, 0.005), 'spine2': (0.0, 0.135, 0.010),
    'left_ankle': (0.0, -0.420, -0.035), 'right_ankle': (0.0, -0.420, -0.035),
    'spine3': (0.0, 0.055, 0.003), 'left_foot': (0.012, -0.075, 0.125),
    'right_foot': (-0.012, -0.075, 0.125), 'neck': (0.0, 0.215, -0.030),
    'left_collar': (0.070, 0.120, -0.010), 'right_collar': (-0.070, 0.120, -0.010),
    'head': (0.0, 0.085, 0.050), 'left_shoulder': (0.120, 0.035, -0.015),
    'right_shoulder': (-0.120, 0.035, -0.015), 'left_elbow': (0.020, -0.265, -0.010),
    'right_elbow': (-0.020, -0.265, -0.010), 'left_wrist': (0.010, -0.250, 0.010),
    'right_wrist': (-0.010, -0.250, 0.010),
}
TEMPLATE_HEIGHT = 1.72  # head joint + 10 cm crown, with the toes on the floor

# Anatomical meaning of the 3 channels of each joint, and how they become a local rotation: a list
# of (axis, channel, sign) applied right-to-left (the last one first). Right-side joints mirror the
# left (y and z angles negated).
CHANNELS: dict[str, tuple[str, str, str]] = {}
_AXES: dict[str, list[tuple[str, int, float]]] = {}
for _name in ('pelvis', 'spine1', 'spine2', 'spine3', 'neck', 'head'):
    # flexion bends forward (+X rotation tips +Y towards +Z); twist turns to the left; lateral bends
    # to the left (the top moves to +X, a -Z rotation).
    CHANNELS[_name] = ('flexion', 'twist', 'lateral')
    _AXES[_name] = [('y', 1, 1.0), ('x', 0, 1.0), ('z', 2, -1.0)]
for _side in ('left', 'right'):
    CHANNELS[f'{_side}_hip'] = ('flexion', 'abduction', 'twist')
    _AXES[f'{_side}_hip'] = [('z', 1, 1.0), ('x', 0, -1.0), ('y', 2, 1.0)]
    CHANNELS[f'{_side}_knee'] = ('flexion', '-', '-')
    _AXES[f'{_side}_knee'] = [('x', 0, 1.0)]
    CHANNELS[f'{_side}_ankle'] = ('dorsiflexion', 'eversion', '-')
    _AXES[f'{_side}_ankle'] = [('x', 0, -1.0), ('z', 1, 1.0)]
    CHANNELS[f'{_side}_foot'] = ('-', '-', '-')
    _AXES[f'{_side}_foot'] = []
    CHANNELS[f'{_side}_collar'] = ('elevation', 'protraction', '-')
    _AXES[f'{_side}_collar'] = [('z', 0, 1.0), ('y', 1, 1.0)]
    # Shoulder: raise the arm forward by `elevation`, then swing it about the vertical by `azimuth`
    # (90 = out to the side, negative = across the chest); `twist` rolls it about its own axis
    # (external rotation > 0). The azimuth is undone about the arm's own axis first (swing-twist), so
    # with twist 0 the elbow always bends forward/up whatever the azimuth, as in a real arm.
    CHANNELS[f'{_side}_shoulder'] = ('elevation', 'azimuth', 'twist')
    _AXES[f'{_side}_shoulder'] = [('y', 1, 1.0), ('x', 0, -1.0), ('y', (2, 1), 1.0)]
    CHANNELS[f'{_side}_elbow'] = ('flexion', '-', '-')
    _AXES[f'{_side}_elbow'] = [('x', 0, -1.0)]
    CHANNELS[f'{_side}_wrist'] = ('-', '-', '-')
    _AXES[f'{_side}_wrist'] = []

# Joint limits (degrees) per channel, (min, max); generated channels are clipped to them. Ranges
# follow the usual clinical range-of-motion tables (AAOS), narrowed where the t2m22 body has no
# separate joint (e.g. the three spine joints share the trunk's range).
_LIMITS = {
    'pelvis': ((-30, 95), (-60, 60), (-30, 30)),
    'spine1': ((-15, 35), (-20, 20), (-15, 15)), 'spine2': ((-15, 35), (-20, 20), (-15, 15)),
    'spine3': ((-15, 35), (-20, 20), (-15, 15)),
    'neck': ((-30, 40), (-40, 40), (-20, 20)), 'head': ((-30, 35), (-40, 40), (-20, 20)),
    'hip': ((-30, 120), (-20, 50), (-35, 35)), 'knee': ((0, 145), (0, 0), (0, 0)),
    'ankle': ((-50, 30), (-20, 20), (0, 0)), 'foot': ((0, 0), (0, 0), (0, 0)),
    'collar': ((-10, 35), (-25, 25), (0, 0)),
    'shoulder': ((-50, 180), (-45, 135), (-70, 90)), 'elbow': ((0, 150), (0, 0), (0, 0)),
    'wrist': ((0, 0), (0, 0), (0, 0)),
}
LIMITS = np.zeros((J, 3, 2))
for _j, _name in enumerate(JOINTS):
    _key = _name if _name in _LIMITS else _name.split('_', 1)[1]
    LIMITS[_j] = np.array(_LIMITS[_key], dtype=np.float64)

# Relaxed standing pose: arms hang slightly apart with soft elbows, knees soft.
NEUTRAL = np.zeros((J, 3))
for _side in ('left', 'right'):
    NEUTRAL[idx(f'{_side}_shoulder')] = (7.0, 75.0, 0.0)
    NEUTRAL[idx(f'{_side}_elbow')] = (12.0, 0, 0)
    NEUTRAL[idx(f'{_side}_knee')] = (3.0, 0, 0)
    NEUTRAL[idx(f'{_side}_hip')] = (1.5, 2.0, 0)
    NEUTRAL[idx(f'{_side}_ankle')] = (-1.5, 0, 0)  # keeps the foot flat with the knee soft

# Body parts (CigTime: 'upper_body' / 'lower_body'; the root trajectory belongs to the lower body).
LOWER_BODY = ('pelvis', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
              'right_ankle', 'left_foot', 'right_foot')
UPPER_BODY = tuple(n for n in JOINTS if n not in LOWER_BODY)
# ExpertAF's six body regions.
BODY_REGIONS = {
    'head': ('neck', 'head'),
    'torso': ('pelvis', 'spine1', 'spine2', 'spine3'),
    'left_arm': ('left_collar', 'left_shoulder', 'left_elbow', 'left_wrist'),
    'right_arm': ('right_collar', 'right_shoulder', 'right_elbow', 'right_wrist'),
    'left_leg': ('left_hip', 'left_knee', 'left_ankle', 'left_foot'),
    'right_leg': ('right_hip', 'right_knee', 'right_ankle', 'right_foot'),
}


def template_offsets() -> np.ndarray:
    """Rest-pose bone offsets of the 1.72 m template body. Returns ``(22, 3)`` (row 0 zeros)."""
    off = np.zeros((J, 3))
    for name, v in _TEMPLATE.items():
        off[idx(name)] = v
    return off


@dataclass
class BodyShape:
    """One synthetic subject.

    Attributes:
        offsets: ``(22, 3)`` rest bone offsets in metres.
        height: stature in metres (crown of the head; the head joint is 10 cm * scale below it).
        leg_length: hip-to-floor length of the rest leg (m).
        ankle_height: rest height of the ankle joint above the floor (m).
    """
    offsets: np.ndarray
    height: float
    leg_length: float
    ankle_height: float

    def to_dict(self) -> dict:
        return dict(height=round(float(self.height), 4), leg_length=round(float(self.leg_length), 4),
                    offsets=self.offsets.tolist())


def _body_from_offsets(off: np.ndarray) -> BodyShape:
    lh, lk, la, lf = idx('left_hip'), idx('left_knee'), idx('left_ankle'), idx('left_foot')
    ankle_h = -off[lf, 1]
    leg = -(off[lk, 1] + off[la, 1]) + ankle_h
    # head joint height above the pelvis plus the pelvis height above the floor
    head_y = sum(off[idx(n), 1] for n in ('spine1', 'spine2', 'spine3', 'neck', 'head'))
    pelvis_y = leg - off[lh, 1]
    scale = np.linalg.norm(off[lk]) / np.linalg.norm(template_offsets()[lk])
    return BodyShape(off, float(pelvis_y + head_y + 0.10 * scale), float(leg), float(ankle_h))


def sample_body(rng: np.random.Generator, height_range: tuple[float, float] = (1.5, 1.9)) -> BodyShape:
    """Sample a subject: uniform stature in ``height_range`` and +-4 % (1 sigma 2 %) per-segment
    proportion changes, symmetric between the left and right side."""
    off = template_offsets()
    target = rng.uniform(*height_range)
    groups = {  # segments scaled together (both sides share the factor)
        'thigh': ('left_knee', 'right_knee'), 'shank': ('left_ankle', 'right_ankle'),
        'foot': ('left_foot', 'right_foot'), 'hip': ('left_hip', 'right_hip'),
        'trunk': ('spine1', 'spine2', 'spine3'), 'neck': ('neck', 'head'),
        'shoulder': ('left_collar', 'right_collar', 'left_shoulder', 'right_shoulder'),
        'upper_arm': ('left_elbow', 'right_elbow'), 'forearm': ('left_wrist', 'right_wrist'),
    }
    for names in groups.values():
        f = float(np.clip(rng.normal(1.0, 0.02), 0.96, 1.04))
        for n in names:
            off[idx(n)] *= f
    body = _body_from_offsets(off)
    off = off * (target / body.height)
    return _body_from_offsets(off)


# ----------------------------------------------------------------------------------------------
# channels -> rotations -> joint positions
# ----------------------------------------------------------------------------------------------
_AXIS_INDEX = {'x': 1, 'y': 2, 'z': 3}


def _axis_quat(axis: str, angle_rad: np.ndarray) -> np.ndarray:
    q = np.zeros(angle_rad.shape + (4,))
    q[..., 0] = np.cos(angle_rad / 2)
    q[..., _AXIS_INDEX[axis]] = np.sin(angle_rad / 2)
    return q


def channels_to_quaternions(channels: np.ndarray) -> np.ndarray:
    """Anatomical channels (degrees) to local joint quaternions.

    Args:
        channels: ``(T, 22, 3)`` degrees (see :data:`CHANNELS`). Row 0 (pelvis) holds the pelvis's
            tilt relative to the facing frame; the heading (yaw) is applied separately.

    Returns:
        ``(T, 22, 4)`` unit quaternions ``(w, x, y, z)``.
    """
    channels = np.asarray(channels, dtype=np.float64)
    if channels.ndim != 3 or channels.shape[1:] != (J, 3):
        raise ValueError(f'channels must have shape (T, {J}, 3), got {channels.shape}')
    rad = np.deg2rad(channels)
    out = np.zeros(channels.shape[:2] + (4,))
    out[..., 0] = 1.0
    # every joint's k-th elementary rotation at once (the same products, in the same order, as one
    # joint at a time: q = q_0 * q_1 * q_2)
    for k, (joints, axes, ch_a, ch_b, signs) in enumerate(_AXIS_STEPS):
        angle = rad[:, joints, ch_a]
        if ch_b is not None:  # a channel difference, e.g. the shoulder's twist minus its abduction
            angle = np.where(ch_b >= 0, angle - rad[:, joints, np.maximum(ch_b, 0)], angle)
        qa = np.zeros(angle.shape + (4,))
        half = (signs * angle) / 2
        qa[..., 0] = np.cos(half)
        qa[:, np.arange(len(joints)), axes] = np.sin(half)
        out[:, joints] = qa if k == 0 else qmul(out[:, joints], qa)
    return out


def _axis_steps() -> list:
    """Per position ``k`` in the joints' axis sequences: (joints that have a k-th axis, their axis
    index in (w, x, y, z), channel, subtracted channel or -1, signed factor incl. the mirror)."""
    steps = []
    for k in range(max(len(v) for v in _AXES.values())):
        rows = []
        for j, name in enumerate(JOINTS):
            seq = _AXES.get(name, [])
            if len(seq) > k:
                axis, ch, sign = seq[k]
                mirror = -1.0 if name.startswith('right_') else 1.0
                s = sign * (mirror if axis in ('y', 'z') else 1.0)
                a, b = (ch, -1) if isinstance(ch, int) else (ch[0], ch[1])
                rows.append((j, _AXIS_INDEX[axis], a, b, s))
        j, ax, a, b, s = (np.array(v) for v in zip(*rows))
        steps.append((j, ax, a, None if (b < 0).all() else b, s.astype(np.float64)))
    return steps


def forward_kinematics_parents(local_quats: np.ndarray, offsets: np.ndarray,
                               root_positions: np.ndarray) -> np.ndarray:
    """Joint positions through the t2m22 parent hierarchy.

    ``G_j = G_parent(j) R_j`` and ``p_j = p_parent(j) + G_parent(j) offset_j``; unlike HumanML3D's
    chain-relative FK (:func:`motionkit.motion.kinematics.forward_kinematics`), a rotation of
    ``spine3`` here moves the arms, which is what a generator of natural poses needs.

    Args:
        local_quats: ``(T, 22, 4)``; index 0 is the global root rotation.
        offsets: ``(22, 3)`` rest bone offsets.
        root_positions: ``(T, 3)``.

    Returns:
        ``(T, 22, 3)``.
    """
    mats = quaternion_to_matrix(np.asarray(local_quats, dtype=np.float64))  # (T, J, 3, 3)
    T = mats.shape[0]
    glob = np.empty_like(mats)
    pos = np.empty((T, J, 3))
    glob[:, 0] = mats[:, 0]
    pos[:, 0] = root_positions
    for j in range(1, J):  # t2m22 parents always precede their children
        p = PARENTS[j]
        glob[:, j] = glob[:, p] @ mats[:, j]
        pos[:, j] = pos[:, p] + glob[:, p] @ offsets[j]
    return pos


def quaternion_slerp(q0: np.ndarray, q1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation (Shoemake 1985) along the shorter arc.

    Args:
        q0, q1: ``(..., 4)`` unit quaternions.
        w: weights broadcastable to ``(...)`` (0 -> q0, 1 -> q1).

    Returns:
        ``(..., 4)``.
    """
    dot = np.sum(q0 * q1, axis=-1)
    q1 = np.where(dot[..., None] < 0, -q1, q1)
    dot = np.abs(dot)
    w = np.asarray(w, dtype=np.float64)[..., None] * np.ones_like(dot)[..., None]
    theta = np.arccos(np.clip(dot, -1.0, 1.0))[..., None]
    sin_t = np.sin(theta)
    small = sin_t < 1e-6
    safe = np.where(small, 1.0, sin_t)
    a = np.where(small, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    b = np.where(small, w, np.sin(w * theta) / safe)
    out = a * q0 + b * q1
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def clip_to_limits(channels: np.ndarray) -> np.ndarray:
    """Clip ``(T, 22, 3)`` channels to :data:`LIMITS`."""
    return np.clip(channels, LIMITS[..., 0], LIMITS[..., 1])


_AXIS_STEPS = _axis_steps()
