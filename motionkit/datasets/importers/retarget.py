"""Retarget BVH motions onto the ``t2m22`` skeleton by joint-name maps, in motionkit's conventions.

A :class:`RigMap` says, for one family of BVH files (a "rig"), which source point gives each of the
22 ``t2m22`` joints: a joint name, an end site (``<joint>_end``), or a weighted blend of points
(``{'Spine': 0.8, 'Spine1': 0.2}``) where the source has no joint at the place of the SMPL joint.
Blends are chosen between a joint and its own child, so each blended point rides rigidly on one
source bone, and every ``t2m22`` bone is chosen to join two points that move rigidly together (a
point and the pivot of the bone it rides on): then bone lengths are constant over the clip, as in
the source. Where the rig allows, joints sit near the SMPL places (e.g. spine1/2/3 at about
0.24/0.50/0.60 of pelvis -> neck in HumanML3D's target skeleton); rigidity wins where the two conflict.

:func:`retarget_bvh` then brings the joints into the convention every motionkit motion follows
(Y up, metres, ``fps`` = 20, facing +Z at frame 0, feet on the floor, root xz at the origin):

1. drop an added T-pose frame (``RigMap.drop_first_frame``);
2. resample the *local rotations* (slerp) and translations to ``fps`` before forward kinematics,
   so every source bone stays rigid (:func:`.bvh.resample_bvh`);
3. map the source points onto ``t2m22`` and give every bone its median length over the clip
   (keeping bone directions; blended joints otherwise drift by a few millimetres);
4. scale to metres (``RigMap.unit_scale``: declared per rig, or detected from the leg length);
5. rotate the detected up axis onto +Y (:func:`detect_up_axis`);
6. HumanML3D's ``process_file`` order: floor (lowest foot joint of the clip at y = 0), root xz of
   frame 0 at the origin, frame 0 facing +Z (:func:`motionkit.motion.geometry.normalize_facing`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Union

import numpy as np

from motionkit.motion.geometry import center_root_xz, normalize_facing
from motionkit.motion.skeletons import get_skeleton

from .bvh import BVHMotion, bvh_forward_kinematics, resample_bvh

__all__ = ['RigMap', 'RIG_MAPS', 'CMU_UNIT_SCALE', 'register_rig_map', 'detect_rig', 'check_rig_map',
           'map_points_to_t2m22', 'detect_up_axis', 'rotation_to_y_up', 'enforce_bone_lengths',
           'put_feet_on_floor', 'canonicalize_t2m22', 'detect_unit_scale', 'retarget_bvh', 'RetargetResult']

JointSource = Union[str, Mapping[str, float]]

#: Metres per CMU ASF/AMC length unit: the ASF files declare ``length 0.45`` (1 unit = 1/0.45 inch),
#: so 1 unit = 0.0254 / 0.45 m (CMU mocap FAQ, mocap.cs.cmu.edu/faqs.php). cgspeed's BVH and amc2bvh
#: keep these units.
CMU_UNIT_SCALE = 0.0254 / 0.45

#: Leg length (hip -> knee -> ankle, m) of HumanML3D's target skeleton (sample 000021), used to detect
#: the unit of an unknown rig.
_REFERENCE_LEG_LENGTH = 0.3936232 + 0.4324330
#: Candidate units (metres per file unit) for :func:`detect_unit_scale`.
_UNIT_CANDIDATES = {'m': 1.0, 'dm': 0.1, 'cm': 0.01, 'mm': 0.001, 'inch': 0.0254, 'cmu': CMU_UNIT_SCALE,
                    'foot': 0.3048}


@dataclass(frozen=True)
class RigMap:
    """How the points of one BVH rig give the 22 ``t2m22`` joints.

    Attributes:
        name: Rig name (``'cgspeed_mb'``, ...).
        joint_map: ``t2m22`` joint name -> source joint name, end site (``'<joint>_end'``) or
            ``{source: weight}`` blend (weights are normalised to sum to 1).
        unit_scale: Metres per file unit, or ``None`` to detect it from the leg length.
        unit_name: Human-readable unit (for provenance).
        drop_first_frame: The file's frame 0 is an added T-pose, not motion.
        translation: How position channels combine with offsets (see :mod:`.bvh`).
        description: Where files of this rig come from.
    """

    name: str
    joint_map: Mapping[str, JointSource]
    unit_scale: float | None
    unit_name: str = ''
    drop_first_frame: bool = False
    translation: str = 'replace'
    description: str = ''
    signature: tuple[str, ...] = field(default=())

    def source_points(self) -> set[str]:
        """Every source point name the map reads."""
        names: set[str] = set()
        for src in self.joint_map.values():
            names.update([src] if isinstance(src, str) else src.keys())
        return names


def _sided(fmt_left: str, fmt_right: str, names: dict) -> dict:
    """``{'left_knee': fmt_left.format(x)}`` etc. for a ``{t2m_suffix: x}`` table."""
    out = {}
    for suffix, src in names.items():
        for side, fmt in (('left', fmt_left), ('right', fmt_right)):
            if isinstance(src, dict):
                out[f'{side}_{suffix}'] = {fmt.format(k): w for k, w in src.items()}
            else:
                out[f'{side}_{suffix}'] = fmt.format(src)
    return out


# --- cgspeed MotionBuilder-friendly (31 joints). Spine: Hips=LowerBack -> Spine -> Spine1; Neck and the
# clavicles start at Spine1 (the conversion drops the length of the ASF thorax bone), Neck1 is mid-neck.
# spine3 is put at that shared pivot and the neck at Neck1 so that every t2m22 bone rides on one source
# bone (constant length); the spine is therefore shorter than SMPL's (23 cm pelvis->spine3, SMPL 33).
_CGSPEED_MB = {
    'pelvis': 'Hips', 'spine1': 'Spine', 'spine2': {'Spine': 0.5, 'Spine1': 0.5}, 'spine3': 'Spine1',
    'neck': 'Neck1', 'head': 'Head',
    **_sided('Left{}', 'Right{}', {'hip': 'UpLeg', 'knee': 'Leg', 'ankle': 'Foot', 'foot': 'ToeBase',
                                    'shoulder': 'Arm', 'elbow': 'ForeArm', 'wrist': 'Hand',
                                    'collar': {'Shoulder': 0.5, 'Arm': 0.5}}),
}
# --- raw amc2bvh output: the CMU ASF bone names (31 joints), same geometry as cgspeed's.
_AMC2BVH = {
    'pelvis': 'hip', 'spine1': 'upperback', 'spine2': {'upperback': 0.5, 'thorax': 0.5}, 'spine3': 'thorax',
    'neck': 'upperneck', 'head': 'head',
    **_sided('l{}', 'r{}', {'hip': 'femur', 'knee': 'tibia', 'ankle': 'foot', 'foot': 'toes',
                            'shoulder': 'humerus', 'elbow': 'radius', 'wrist': 'wrist',
                            'collar': {'clavicle': 0.5, 'humerus': 0.5}}),
}
# --- cgspeed Daz-friendly (43 joints, centimetres). The root 'hip' sits at hip-joint height, so the
# SMPL pelvis (about 8 cm above the hip joints) is half way to 'abdomen'. No toe joint: the foot's end
# site (toe tip, ~13 cm from the ankle, SMPL ankle->foot is 14 cm) stands for it.
_CGSPEED_DAZ = {
    'pelvis': {'hip': 0.5, 'abdomen': 0.5}, 'spine1': 'abdomen', 'spine2': 'chest',
    'spine3': {'chest': 0.8, 'neck': 0.2}, 'neck': 'neck', 'head': 'head',
    **_sided('l{}', 'r{}', {'hip': 'Thigh', 'knee': 'Shin', 'ankle': 'Foot', 'foot': 'Foot_end',
                            'shoulder': 'Shldr', 'elbow': 'ForeArm', 'wrist': 'Hand',
                            'collar': {'Collar': 0.5, 'Shldr': 0.5}}),
}
# --- Bandai Namco Research Motiondataset (22 joints, centimetres, Y up). The hip joints are only
# 2 cm below 'Hips', so the pelvis is moved 40% of the way up to 'Spine' (SMPL: ~8 cm above the hips).
# The collars are the clavicle pivots (Shoulder_L/R, ~5 cm off the midline), which keeps both collar
# bones rigid.
_BANDAI = {
    'pelvis': {'Hips': 0.6, 'Spine': 0.4}, 'spine1': 'Spine', 'spine2': 'Chest',
    'spine3': {'Chest': 0.8, 'Neck': 0.2}, 'neck': 'Neck', 'head': 'Head',
    **_sided('{}_L', '{}_R', {'hip': 'UpperLeg', 'knee': 'LowerLeg', 'ankle': 'Foot', 'foot': 'Toes',
                              'shoulder': 'UpperArm', 'elbow': 'LowerArm', 'wrist': 'Hand',
                              'collar': 'Shoulder'}),
}

RIG_MAPS: dict[str, RigMap] = {}


def register_rig_map(rig: RigMap) -> RigMap:
    """Add a rig to :data:`RIG_MAPS` (checked with :func:`check_rig_map`). A name can be used once."""
    check_rig_map(rig.joint_map, where=f'rig {rig.name!r}')
    if rig.name in RIG_MAPS:
        raise KeyError(f'rig map {rig.name!r} is already registered')
    RIG_MAPS[rig.name] = rig
    return rig


def check_rig_map(joint_map: Mapping[str, JointSource], where: str = 'joint map') -> None:
    """Check that ``joint_map`` names exactly the 22 ``t2m22`` joints with valid sources.

    Raises:
        ValueError: naming ``where`` and the unknown / missing joint names or bad weights.
    """
    names = get_skeleton('t2m22').joint_names
    unknown = sorted(set(joint_map) - set(names))
    missing = [n for n in names if n not in joint_map]
    if unknown or missing:
        raise ValueError(f'{where}: the map must name the 22 t2m22 joints; unknown joint names {unknown}, '
                         f'missing {missing} (t2m22 joints: {list(names)})')
    for name, src in joint_map.items():
        if isinstance(src, str):
            continue
        if not isinstance(src, Mapping) or not src:
            raise ValueError(f'{where}: source of {name!r} must be a joint name or a non-empty '
                             f'{{joint: weight}} dict, got {src!r}')
        weights = np.asarray(list(src.values()), dtype=np.float64)
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f'{where}: blend weights of {name!r} must be >= 0 with a positive sum, got {src}')


register_rig_map(RigMap(
    'cgspeed_mb', _CGSPEED_MB, CMU_UNIT_SCALE, 'CMU ASF unit (1/0.45 inch)', drop_first_frame=True,
    description="B. Hahne's cgspeed MotionBuilder-friendly CMU conversion (31 joints, 120 fps, frame 0 "
                'is an added T-pose)',
    signature=('Hips', 'LHipJoint', 'LeftUpLeg', 'LowerBack', 'Neck1', 'LeftFingerBase')))
register_rig_map(RigMap(
    'cgspeed_daz', _CGSPEED_DAZ, 0.01, 'cm', drop_first_frame=True,
    description="B. Hahne's cgspeed Daz-friendly CMU conversion (43 joints, 120 fps, frame 0 is an added "
                'T-pose)',
    signature=('hip', 'abdomen', 'chest', 'lThigh', 'lShin', 'lCollar')))
register_rig_map(RigMap(
    'amc2bvh_raw', _AMC2BVH, CMU_UNIT_SCALE, 'CMU ASF unit (1/0.45 inch)', drop_first_frame=False,
    description='raw amc2bvh output with CMU ASF bone names; its Frame Time (30 fps) is the tool default, '
                'CMU captures are 120 fps',
    signature=('hip', 'lhipjoint', 'lfemur', 'ltibia', 'lowerback', 'thorax')))
register_rig_map(RigMap(
    'bandai', _BANDAI, 0.01, 'cm', drop_first_frame=False,
    description='Bandai Namco Research Motiondataset (22 joints, 30 fps, position channels on every joint)',
    signature=('joint_Root', 'Hips', 'UpperLeg_L', 'LowerArm_R', 'Toes_L')))


def _resolve_rig(rig: str | RigMap) -> RigMap:
    if isinstance(rig, RigMap):
        check_rig_map(rig.joint_map, where=f'rig {rig.name!r}')
        return rig
    if rig not in RIG_MAPS:
        raise KeyError(f'unknown rig {rig!r}; known rigs: {sorted(RIG_MAPS)}')
    return RIG_MAPS[rig]


def detect_rig(bvh: BVHMotion) -> str:
    """Name of the registered rig whose joint map this file fills (best signature match first).

    Raises:
        ValueError: naming the file when no rig's joints are all present, with the joints each rig
            misses.
    """
    points = set(bvh.point_names)
    fits, misses = [], {}
    for name, rig in RIG_MAPS.items():
        missing = sorted(rig.source_points() - points)
        if missing:
            misses[name] = missing
        else:
            fits.append((sum(s in points for s in rig.signature), name))
    if not fits:
        detail = '; '.join(f'{k} misses {v}' for k, v in misses.items())
        raise ValueError(f'{bvh.path}: no known rig fits its joints {list(bvh.joint_names)} ({detail})')
    return max(fits)[1]


def map_points_to_t2m22(points: np.ndarray, point_names: tuple[str, ...] | list[str],
                        joint_map: Mapping[str, JointSource], where: str = '<points>') -> np.ndarray:
    """Build ``t2m22`` joints from source points by a joint map.

    Args:
        points: ``(..., P, 3)`` source points (joints and end sites).
        point_names: the ``P`` names.
        joint_map: see :class:`RigMap`.
        where: file name for error messages.

    Returns:
        ``(..., 22, 3)`` joints in ``t2m22`` order.

    Raises:
        ValueError: naming ``where`` and every source joint the map needs but the points lack.
    """
    check_rig_map(joint_map, where=where)
    index = {n: i for i, n in enumerate(point_names)}
    needed = set()
    for src in joint_map.values():
        needed.update([src] if isinstance(src, str) else src.keys())
    missing = sorted(needed - set(index))
    if missing:
        raise ValueError(f'{where}: the BVH has no joint(s) {missing} needed by the joint map; its joints: '
                         f'{list(point_names)}')
    out = []
    for name in get_skeleton('t2m22').joint_names:
        src = joint_map[name]
        if isinstance(src, str):
            out.append(points[..., index[src], :])
        else:
            w = np.asarray(list(src.values()), dtype=np.float64)
            w = w / w.sum()
            out.append(sum(wk * points[..., index[k], :] for wk, k in zip(w, src)))
    return np.stack(out, axis=-2)


def detect_up_axis(joints: np.ndarray) -> tuple[int, float]:
    """The axis (0, 1, 2) and sign along which the body stands, from ``t2m22`` joints ``(T, 22, 3)``.

    Uses the median over frames of ``neck - mean(ankles)``: its largest component names the up axis.
    """
    sk = get_skeleton('t2m22')
    ankles = joints[..., sk.indices(['left_ankle', 'right_ankle']), :].mean(-2)
    up = np.median(joints[..., sk.index('neck'), :] - ankles, axis=0)
    axis = int(np.argmax(np.abs(up)))
    return axis, float(np.sign(up[axis]) or 1.0)


def rotation_to_y_up(axis: int, sign: float) -> np.ndarray:
    """``(3, 3)`` proper rotation taking ``sign * e_axis`` onto +Y (identity for +Y)."""
    if (axis, sign) == (1, 1.0):
        return np.eye(3)
    src = np.zeros(3)
    src[axis] = sign
    dst = np.array([0.0, 1.0, 0.0])
    if (axis, sign) == (1, -1.0):  # upside down: half turn about X
        return np.diag([1.0, -1.0, -1.0])
    v = np.cross(src, dst)
    c = float(src @ dst)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)  # Rodrigues for unit vectors (c > -1)


def enforce_bone_lengths(joints: np.ndarray, skeleton: str = 't2m22',
                         lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Give every bone a constant length, keeping the root and every bone's direction.

    Args:
        joints: ``(T, J, 3)``.
        skeleton: its skeleton.
        lengths: ``(J,)`` target lengths (joint minus parent; entry 0 unused); default the median
            over frames.

    Returns:
        ``(T, J, 3)`` joints and the ``(J,)`` lengths used.
    """
    sk = get_skeleton(skeleton)
    parents = np.asarray(sk.parents)
    bone = joints[:, 1:] - joints[:, parents[1:]]
    if lengths is None:
        lengths = np.concatenate([[0.0], np.median(np.linalg.norm(bone, axis=-1), axis=0)])
    out = joints.copy()
    for j in sk.topological_order[1:]:
        d = joints[:, j] - joints[:, sk.parents[j]]
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        d = np.where(n > 1e-12, d / np.maximum(n, 1e-12), 0.0)
        out[:, j] = out[:, sk.parents[j]] + d * lengths[j]
    return out, np.asarray(lengths)


def put_feet_on_floor(joints: np.ndarray, skeleton: str = 't2m22') -> np.ndarray:
    """Shift a ``(T, J, 3)`` motion vertically so that its lowest foot joint (ankles and feet, all
    frames) is at y = 0. Unlike :func:`motionkit.motion.geometry.put_on_floor` (lowest joint of any
    kind), a hand reaching below the feet (scooping from the floor) does not lift the body."""
    sk = get_skeleton(skeleton)
    feet = [j for side in ('left', 'right') for j in sk.foot_joints.get(side, ())]
    floor = joints[:, feet, 1].min() if feet else joints[..., 1].min()
    return joints - np.array([0.0, floor, 0.0])


def canonicalize_t2m22(joints: np.ndarray) -> np.ndarray:
    """HumanML3D's canonical frame for a Y-up ``(T, 22, 3)`` motion in metres: feet on the floor,
    frame-0 root xz at the origin, frame 0 facing +Z (``process_file`` steps 2-4)."""
    joints = put_feet_on_floor(joints)
    joints = center_root_xz(joints)
    return normalize_facing(joints, 't2m22')


def detect_unit_scale(joints: np.ndarray) -> tuple[float, str]:
    """Metres per file unit of ``t2m22`` joints ``(T, 22, 3)`` in unknown units.

    Picks, among common units (m, dm, cm, mm, inch, foot, CMU's 1/0.45 inch), the one whose leg length
    (hip -> knee -> ankle, median over frames and both legs) is closest, on a log scale, to
    HumanML3D's target skeleton (0.83 m for a ~1.7 m person).

    Returns:
        ``(scale, unit_name)``.
    """
    sk = get_skeleton('t2m22')
    legs = []
    for side in ('left', 'right'):
        h, k, a = sk.indices([f'{side}_hip', f'{side}_knee', f'{side}_ankle'])
        legs.append(np.linalg.norm(joints[:, k] - joints[:, h], axis=-1)
                    + np.linalg.norm(joints[:, a] - joints[:, k], axis=-1))
    leg = float(np.median(np.concatenate(legs)))
    if not leg > 0:
        raise ValueError('detect_unit_scale: the legs have zero length')
    name = min(_UNIT_CANDIDATES, key=lambda u: abs(np.log(leg * _UNIT_CANDIDATES[u] / _REFERENCE_LEG_LENGTH)))
    return _UNIT_CANDIDATES[name], name


@dataclass
class RetargetResult:
    """Output of :func:`retarget_bvh`.

    Attributes:
        joints: ``(T, 22, 3)`` float32 ``t2m22`` joints (metres, Y up, canonical frame).
        fps: Frame rate of ``joints``.
        info: Provenance (rig, unit, scale, source fps, frames, up axis, bone-fix error, ...).
    """

    joints: np.ndarray
    fps: float
    info: dict


def retarget_bvh(bvh: BVHMotion, rig: str | RigMap | None = None, fps: float = 20.0,
                 unit_scale: float | None = None, canonicalize: bool = True) -> RetargetResult:
    """Retarget a BVH motion onto ``t2m22`` in motionkit's conventions (see the module docstring).

    Args:
        bvh: The motion (its ``fps`` is the rate used; see :meth:`.bvh.BVHMotion.with_fps`).
        rig: Rig name or :class:`RigMap`; ``None`` detects it (:func:`detect_rig`).
        fps: Output frame rate.
        unit_scale: Metres per file unit; default the rig's (or detected when the rig has none).
        canonicalize: Apply step 6 (floor, origin, facing).

    Returns:
        :class:`RetargetResult`.

    Raises:
        ValueError: naming the file when the BVH lacks joints the map needs, or the motion is empty.
    """
    rig = _resolve_rig(detect_rig(bvh) if rig is None else rig)
    source_frames = bvh.num_frames
    if rig.drop_first_frame:
        if bvh.num_frames < 2:
            raise ValueError(f'{bvh.path}: rig {rig.name!r} drops the T-pose frame 0 but the file has '
                             f'{bvh.num_frames} frame(s)')
        bvh = bvh.drop_frames(1)
    missing = sorted(rig.source_points() - set(bvh.point_names))
    if missing:
        raise ValueError(f'{bvh.path}: the BVH has no joint(s) {missing} needed by the {rig.name!r} joint '
                         f'map; its joints: {list(bvh.joint_names)}')
    rotations, translations = resample_bvh(bvh, fps, translation=rig.translation)
    points = bvh_forward_kinematics(bvh, with_end_sites=True, rotations=rotations, translations=translations)
    joints = map_points_to_t2m22(points, bvh.point_names, rig.joint_map, where=bvh.path)
    mapped = joints
    joints, lengths = enforce_bone_lengths(joints)
    bone_fix = float(np.linalg.norm(joints - mapped, axis=-1).max())
    if unit_scale is None:
        unit_scale = rig.unit_scale
    unit_name = rig.unit_name
    if unit_scale is None:
        unit_scale, unit_name = detect_unit_scale(joints)
    joints = joints * unit_scale
    axis, sign = detect_up_axis(joints)
    joints = joints @ rotation_to_y_up(axis, sign).T
    # Mean leg length (hip -> knee -> ankle: bones 4, 7 left and 5, 8 right) in metres.
    leg = float((lengths[4] + lengths[7] + lengths[5] + lengths[8]) / 2 * unit_scale)
    if not 0.5 < leg < 1.2:
        warnings.warn(f'{bvh.path}: leg length {leg:.2f} m with unit scale {unit_scale:g} m/unit is not '
                      'human (0.5-1.2 m): check the unit', stacklevel=2)
    if canonicalize:
        joints = canonicalize_t2m22(joints)
    info = dict(rig=rig.name, unit=unit_name, unit_scale=float(unit_scale), source_fps=float(bvh.fps),
                header_fps=float(bvh.header_fps), fps=float(fps), source_frames=int(source_frames),
                dropped_tpose=bool(rig.drop_first_frame), frames=int(joints.shape[0]),
                up_axis='xyz'[axis] if sign > 0 else '-' + 'xyz'[axis],
                leg_length_m=round(leg, 4), bone_fix_max_mm=round(bone_fix * unit_scale * 1000, 3))
    return RetargetResult(joints=joints.astype(np.float32), fps=float(fps), info=info)
