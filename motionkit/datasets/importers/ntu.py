"""Reader of raw NTU RGB+D / NTU RGB+D 120 ``.skeleton`` files (Kinect v2, 25 joints).

File layout (Shahroudy et al., "NTU RGB+D", CVPR 2016; the official ``read_skeleton_file.m``)::

    <frame count>
    per frame:
        <body count>
        per body:
            bodyID clippedEdges handLeftConfidence handLeftState handRightConfidence handRightState
                isRestricted leanX leanY trackingState          (10 fields)
            <joint count>                                       (25)
            per joint: x y z depthX depthY colorX colorY orientationW orientationX orientationY
                orientationZ trackingState                      (12 values)

Positions are Kinect camera coordinates in metres (the ``ntu25`` skeleton's joint order). Bodies
are matched across frames by ``bodyID`` (order of first appearance); a body absent from a frame has
zeros there (the convention of the common NTU preprocessing, e.g. ST-GCN's ``ntu_gendata``).
The file name ``SsssCcccPpppRrrrAaaa`` gives setup, camera, performer, replication and action
(``A001`` -> label 0).

Also here: the mapping of a Kinect body onto ``t2m22`` in motionkit's conventions
(:func:`ntu_to_t2m22`, used by the CoAMD linear probe, sec. 4.2 of "Multi-modal Action Recognizer
Bridges Human Motion Generation and Understanding"), the body-selection and missing-frame policies
it applies, and the official benchmark splits from the file-name fields (:func:`ntu_split`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from motionkit.motion.geometry import resample
from motionkit.motion.skeletons import get_skeleton

from .retarget import canonicalize_t2m22, detect_up_axis, map_points_to_t2m22, rotation_to_y_up

__all__ = ['read_ntu_skeleton', 'parse_ntu_name', 'NTU_NUM_JOINTS', 'NTU_FPS', 'NTU25_TO_T2M22',
           'ntu25_to_t2m22', 'NTU_BODY_POLICIES', 'select_ntu_body', 'fill_missing_frames',
           'load_ntu_record', 'ntu_to_t2m22', 'NTU_BENCHMARKS', 'NTU60_XSUB_TRAIN_SUBJECTS',
           'NTU120_XSUB_TRAIN_SUBJECTS', 'NTU60_XVIEW_TRAIN_CAMERAS', 'ntu_benchmark_version', 'ntu_split']

NTU_NUM_JOINTS = 25
_NAME = re.compile(r'S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})')


def parse_ntu_name(name: str) -> dict | None:
    """``setup``, ``camera``, ``performer``, ``replication``, ``action`` (1-based) and ``label``
    (0-based) from an NTU file name, or ``None`` when it does not follow ``SsssCcccPpppRrrrAaaa``."""
    m = _NAME.search(Path(name).name)
    if m is None:
        return None
    s, c, p, r, a = (int(g) for g in m.groups())
    return dict(setup=s, camera=c, performer=p, replication=r, action=a, label=a - 1)


def read_ntu_skeleton(path: str | os.PathLike, max_bodies: int | None = None) -> dict:
    """Read one ``.skeleton`` file.

    Args:
        path: The file.
        max_bodies: Keep at most this many bodies (the ones seen in the most frames); default all.

    Returns:
        dict with ``joints`` ``(M, T, 25, 3)`` float32 (metres, camera frame), ``depth_xy`` and
        ``color_xy`` ``(M, T, 25, 2)``, ``orientation`` ``(M, T, 25, 4)`` (w, x, y, z),
        ``tracking_state`` ``(M, T, 25)`` int8 (0 not tracked, 1 inferred, 2 tracked),
        ``body_present`` ``(M, T)`` bool, ``body_ids`` (M,) list of int, ``body_info`` ``(M, T, 10)``,
        ``bodies_per_frame`` ``(T,)``, ``num_frames``, ``path``, and from the name ``label`` (0-based
        action), ``action``, ``setup``, ``camera``, ``performer``, ``replication`` (``None`` when the
        name does not follow the NTU pattern).

    Raises:
        ValueError: naming the file and the line for a truncated file, a wrong field count or a
            value that is not a number.
    """
    path = os.fspath(path)
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    pos = 0

    def next_line(what: str) -> list[str]:
        nonlocal pos
        while pos < len(lines) and not lines[pos].strip():
            pos += 1
        if pos >= len(lines):
            raise ValueError(f'{path}, line {len(lines) + 1}: file ends while reading {what} (truncated file?)')
        pos += 1
        return lines[pos - 1].split()

    def as_int(tokens: list[str], what: str) -> int:
        if len(tokens) != 1:
            raise ValueError(f'{path}, line {pos}: expected one integer ({what}), got {" ".join(tokens)!r}')
        try:
            return int(tokens[0])
        except ValueError:
            raise ValueError(f'{path}, line {pos}: {what} {tokens[0]!r} is not an integer') from None

    def as_floats(tokens: list[str], count: int, what: str) -> list[float]:
        if len(tokens) != count:
            raise ValueError(f'{path}, line {pos}: {what} needs {count} values, got {len(tokens)}')
        try:
            return [float(t) for t in tokens]
        except ValueError:
            raise ValueError(f'{path}, line {pos}: {what} holds a value that is not a number') from None

    num_frames = as_int(next_line('the frame count'), 'frame count')
    if num_frames < 1:
        raise ValueError(f'{path}, line {pos}: frame count must be >= 1, got {num_frames}')
    frames: list[dict[int, tuple[list[float], np.ndarray]]] = []
    order: list[int] = []
    for t in range(num_frames):
        count = as_int(next_line(f'the body count of frame {t}'), f'body count of frame {t}')
        if count < 0:
            raise ValueError(f'{path}, line {pos}: negative body count {count}')
        bodies: dict[int, tuple[list[float], np.ndarray]] = {}
        for b in range(count):
            info_tokens = next_line(f'body {b} of frame {t}')
            info = as_floats(info_tokens, 10, f'body info of body {b} in frame {t}')
            body_id = int(info_tokens[0])
            n_joints = as_int(next_line(f'the joint count of body {b}, frame {t}'), 'joint count')
            if n_joints != NTU_NUM_JOINTS:
                raise ValueError(f'{path}, line {pos}: expected {NTU_NUM_JOINTS} joints, got {n_joints}')
            values = np.empty((NTU_NUM_JOINTS, 12))
            for j in range(NTU_NUM_JOINTS):
                values[j] = as_floats(next_line(f'joint {j} of body {b}, frame {t}'), 12,
                                      f'joint {j} of body {b} in frame {t}')
            if body_id in bodies:
                raise ValueError(f'{path}, line {pos}: body id {body_id} appears twice in frame {t}')
            bodies[body_id] = (info, values)
            if body_id not in order:
                order.append(body_id)
        frames.append(bodies)
    rest = [k + pos + 1 for k, ln in enumerate(lines[pos:]) if ln.strip()]
    if rest:
        raise ValueError(f'{path}, line {rest[0]}: unexpected data after the last of {num_frames} frames')

    seen = {bid: sum(bid in fr for fr in frames) for bid in order}
    if max_bodies is not None:
        keep = sorted(order, key=lambda b: (-seen[b], order.index(b)))[:max_bodies]
        order = [b for b in order if b in keep]
    m = len(order)
    values = np.zeros((m, num_frames, NTU_NUM_JOINTS, 12))
    info = np.zeros((m, num_frames, 10))
    present = np.zeros((m, num_frames), dtype=bool)
    for t, fr in enumerate(frames):
        for k, bid in enumerate(order):
            if bid in fr:
                info[k, t], values[k, t] = fr[bid]
                present[k, t] = True
    out = dict(
        joints=values[..., 0:3].astype(np.float32), depth_xy=values[..., 3:5].astype(np.float32),
        color_xy=values[..., 5:7].astype(np.float32), orientation=values[..., 7:11].astype(np.float32),
        tracking_state=values[..., 11].astype(np.int8), body_present=present, body_ids=order,
        body_info=info.astype(np.float32), bodies_per_frame=np.array([len(fr) for fr in frames]),
        num_frames=num_frames, path=path)
    meta = parse_ntu_name(path) or dict(setup=None, camera=None, performer=None, replication=None,
                                        action=None, label=None)
    out.update(meta)
    return out


# ----------------------------------------------------------------------------------------------
# NTU-25 (Kinect v2) -> t2m22
# ----------------------------------------------------------------------------------------------
#: Frame rate of the NTU skeleton stream (Kinect v2 records at 30 fps; Shahroudy et al. 2016).
NTU_FPS = 30.0

# CoAMD sec. 4.2 runs its recognizer, trained on HumanML3D's 22 SMPL joints, on NTU skeletons; the
# released code (jidongkuang/CoAMD @ bdc4812) holds no NTU code, so this table is motionkit's own.
# t2m22 joint <- NTU-25 source (1-based Kinect numbers in brackets):
#   pelvis          <- 0.7 spine_base [1] + 0.3 spine_mid [2]   (derived, see below)
#   left_hip        <- left_hip [13]            right_hip      <- right_hip [17]
#   spine1          <- 0.2 spine_base [1] + 0.8 spine_mid [2]   (derived)
#   left_knee       <- left_knee [14]           right_knee     <- right_knee [18]
#   spine2          <- 0.7 spine_mid [2] + 0.3 spine_shoulder [21]   (derived)
#   left_ankle      <- left_ankle [15]          right_ankle    <- right_ankle [19]
#   spine3          <- 0.55 spine_mid [2] + 0.45 spine_shoulder [21] (derived)
#   left_foot       <- left_foot [16]           right_foot     <- right_foot [20]
#   neck            <- neck [3]
#   left_collar     <- 0.5 spine_shoulder [21] + 0.5 left_shoulder [5]   (derived)
#   right_collar    <- 0.5 spine_shoulder [21] + 0.5 right_shoulder [9]  (derived)
#   head            <- head [4]
#   left_shoulder   <- left_shoulder [5]        right_shoulder <- right_shoulder [9]
#   left_elbow      <- left_elbow [6]           right_elbow    <- right_elbow [10]
#   left_wrist      <- left_wrist [7]           right_wrist    <- right_wrist [11]
#   unused: left/right hand [8, 12], hand tips [22, 24], thumbs [23, 25] (t2m22 has no hands).
# Kinect has no pelvis above the hips, no lumbar/thoracic joints and no clavicle pivots; these six
# t2m22 joints are points on Kinect segments placed at the SMPL heights. Measured on HumanML3D's
# reference motion 012314 (heights above the hip centre): pelvis 0.09, spine1 0.21, spine2 0.33,
# spine3 0.36, collars 0.47, neck 0.56 m; on the NTU samples spine_base sits at hip height,
# spine_mid ~0.27 m and spine_shoulder ~0.47 m above it, so the blends above land within ~2 cm of
# the SMPL heights. Each collar is half way from the spine at shoulder height to the shoulder, as in
# SMPL (collar ~8 cm, shoulder ~17 cm off the midline). Kinect's neck joint is mid-neck, where the
# SMPL neck joint is; Kinect's head joint is the head centre (~2 cm above the SMPL head joint).
# Left/right: Kinect labels joints by the person's own side (on the samples the left joints have
# smaller camera x for a person facing the camera, as a right-handed camera frame requires).
NTU25_TO_T2M22: dict = {
    'pelvis': {'spine_base': 0.7, 'spine_mid': 0.3},
    'left_hip': 'left_hip', 'right_hip': 'right_hip',
    'spine1': {'spine_base': 0.2, 'spine_mid': 0.8},
    'left_knee': 'left_knee', 'right_knee': 'right_knee',
    'spine2': {'spine_mid': 0.7, 'spine_shoulder': 0.3},
    'left_ankle': 'left_ankle', 'right_ankle': 'right_ankle',
    'spine3': {'spine_mid': 0.55, 'spine_shoulder': 0.45},
    'left_foot': 'left_foot', 'right_foot': 'right_foot',
    'neck': 'neck',
    'left_collar': {'spine_shoulder': 0.5, 'left_shoulder': 0.5},
    'right_collar': {'spine_shoulder': 0.5, 'right_shoulder': 0.5},
    'head': 'head',
    'left_shoulder': 'left_shoulder', 'right_shoulder': 'right_shoulder',
    'left_elbow': 'left_elbow', 'right_elbow': 'right_elbow',
    'left_wrist': 'left_wrist', 'right_wrist': 'right_wrist',
}

#: How :func:`select_ntu_body` picks the one body of a file with several.
NTU_BODY_POLICIES = ('most_motion', 'longest', 'first')


def ntu25_to_t2m22(joints: np.ndarray, where: str = '<ntu25 joints>') -> np.ndarray:
    """Map ``(..., 25, 3)`` Kinect joints (``ntu25`` order) to ``(..., 22, 3)`` ``t2m22`` joints by
    :data:`NTU25_TO_T2M22` (a fixed linear map: joints copied or blended, nothing rescaled)."""
    joints = np.asarray(joints)
    if joints.ndim < 2 or joints.shape[-2:] != (NTU_NUM_JOINTS, 3):
        raise ValueError(f'{where}: expected ntu25 joints of shape (..., 25, 3), got {joints.shape}')
    return map_points_to_t2m22(joints, get_skeleton('ntu25').joint_names, NTU25_TO_T2M22, where=where)


def select_ntu_body(joints: np.ndarray, valid: np.ndarray, policy: str = 'most_motion',
                    where: str = '<ntu record>', min_presence: float = 0.5) -> int:
    """Index of the body to keep from a file with ``M`` bodies.

    Policies (``t2m22`` describes one person, so one body is kept):

    * ``'most_motion'`` (default): among the bodies tracked in at least ``min_presence`` times as
      many frames as the longest-tracked body, the one whose joints move most (sum over joints and
      axes of the variance over its valid frames). In two-person actions this keeps the actor who
      moves (the one who kicks, not the one kicked); the presence filter stops a short-lived
      spurious Kinect detection, whose joints jump around, from winning. The common NTU
      preprocessing also ranks bodies by how much they move (e.g. ST-GCN keeps the two of largest
      joint spread).
    * ``'longest'``: the body tracked in the most frames.
    * ``'first'``: the first body (order of first appearance) with a valid frame.

    Ties go to the body that appeared first.

    Args:
        joints: ``(M, T, 25, 3)``.
        valid: ``(M, T)`` bool, frames where the body is tracked (see :func:`ntu_to_t2m22`).
        policy: one of :data:`NTU_BODY_POLICIES`.
        where: file name for error messages.
        min_presence: presence filter of ``'most_motion'`` (fraction of the longest track).

    Raises:
        ValueError: naming ``where`` for an unknown policy or when no body has a valid frame.
    """
    if policy not in NTU_BODY_POLICIES:
        raise ValueError(f'{where}: unknown body policy {policy!r}; choose one of {NTU_BODY_POLICIES}')
    valid = np.asarray(valid, dtype=bool)
    counts = valid.sum(-1) if valid.size else np.zeros(0, dtype=int)
    if len(counts) == 0 or counts.max() == 0:
        raise ValueError(f'{where}: no body in any frame (NTU lists such files in '
                         'NTU_RGBD*_samples_with_missing_skeletons.txt; leave them out)')
    if policy == 'first':
        return int(np.flatnonzero(counts > 0)[0])
    if policy == 'longest':
        return int(np.argmax(counts))  # argmax keeps the first of equal counts
    candidates = np.flatnonzero(counts >= min_presence * counts.max())
    energy = []
    for b in candidates:
        frames = joints[b][valid[b]]  # (n, 25, 3)
        energy.append(float(frames.var(axis=0).sum()))
    return int(candidates[int(np.argmax(energy))])


def fill_missing_frames(joints: np.ndarray, valid: np.ndarray,
                        where: str = '<ntu body>') -> tuple[np.ndarray, dict]:
    """Missing-frame policy for one body ``(T, J, 3)`` with ``valid`` ``(T,)``.

    Frames before the first and after the last valid frame are cut (the body is not in view yet or
    any more); each run of missing frames in between is filled by linear interpolation, joint by
    joint, between the valid frames on either side (a body that Kinect loses for a few frames keeps
    moving; zeros would teleport it to the camera). Valid frames are returned unchanged.

    Returns:
        ``(T', J, 3)`` joints (float64) and ``dict(source_frames, start, end, trimmed,
        interpolated)``: the kept source frames are ``start:end``.

    Raises:
        ValueError: naming ``where`` when no frame is valid or the shapes disagree.
    """
    joints = np.asarray(joints, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    if joints.ndim != 3 or joints.shape[-1] != 3 or valid.shape != joints.shape[:1]:
        raise ValueError(f'{where}: expected joints (T, J, 3) and valid (T,), got {joints.shape} and '
                         f'{valid.shape}')
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        raise ValueError(f'{where}: the body has no valid frame')
    start, end = int(idx[0]), int(idx[-1]) + 1
    out = joints[start:end].copy()
    ok = valid[start:end]
    missing = np.flatnonzero(~ok)
    if missing.size:
        known = np.flatnonzero(ok)
        hi = known[np.searchsorted(known, missing)]       # next valid frame
        lo = known[np.searchsorted(known, missing) - 1]   # previous valid frame
        w = ((missing - lo) / (hi - lo))[:, None, None]
        out[missing] = (1 - w) * out[lo] + w * out[hi]
    info = dict(source_frames=int(len(joints)), start=start, end=end,
                trimmed=int(len(joints) - (end - start)), interpolated=int(missing.size))
    return out, info


def load_ntu_record(path: str | os.PathLike) -> dict:
    """Bodies of one NTU sample from a ``.skeleton`` file or the ``.npz`` that
    ``tools/data/import_ntu.py`` writes.

    Returns:
        dict with ``joints`` ``(M, T, 25, 3)``, ``body_present`` ``(M, T)`` bool, ``path`` and the
        file-name fields of :func:`parse_ntu_name` (``None`` when the name does not follow the NTU
        pattern).

    Raises:
        ValueError: naming the file for an unknown suffix, a missing array or a wrong shape.
    """
    path = os.fspath(path)
    if path.endswith('.skeleton'):
        rec = read_ntu_skeleton(path)
        return dict({k: rec[k] for k in ('setup', 'camera', 'performer', 'replication', 'action', 'label')},
                    joints=rec['joints'], body_present=rec['body_present'], path=path)
    if not path.endswith('.npz'):
        raise ValueError(f'{path}: expected a .skeleton file or an .npz written by import_ntu.py')
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f'{path}: not a readable .npz file ({exc})') from None
    if 'joints' not in arrays:
        raise ValueError(f'{path}: no "joints" array (keys: {sorted(arrays)})')
    joints = arrays['joints']
    if joints.ndim != 4 or joints.shape[2:] != (NTU_NUM_JOINTS, 3):
        raise ValueError(f'{path}: "joints" must have shape (M, T, 25, 3), got {joints.shape}')
    present = arrays.get('body_present')
    if present is None:
        present = np.abs(joints).sum((-1, -2)) > 0
    elif present.shape != joints.shape[:2]:
        raise ValueError(f'{path}: "body_present" must have shape {joints.shape[:2]}, got {present.shape}')
    meta = parse_ntu_name(path) or dict(setup=None, camera=None, performer=None, replication=None,
                                        action=None, label=None)
    return dict(meta, joints=joints, body_present=present.astype(bool), path=path)


def ntu_to_t2m22(record: dict | str | os.PathLike, body: str = 'most_motion', fps: float = 20.0,
                 source_fps: float = NTU_FPS, canonicalize: bool = True) -> dict:
    """One NTU sample as a ``t2m22`` motion in motionkit's conventions.

    Steps: pick one body (:func:`select_ntu_body`); a frame is valid when the body is tracked and
    its joints are not all zero (absent bodies are stored as zeros); cut the untracked ends and
    interpolate interior gaps (:func:`fill_missing_frames`); map the 25 joints onto ``t2m22``
    (:data:`NTU25_TO_T2M22`; positions stay in metres); resample ``source_fps`` -> ``fps``
    (linear, :func:`motionkit.motion.geometry.resample`); rotate the detected up axis onto +Y
    (:func:`.retarget.detect_up_axis`; Kinect's camera frame is already Y up, so this is the identity
    unless the data were stored otherwise); with ``canonicalize``, HumanML3D's canonical frame (feet
    on the floor, frame-0 root xz at the origin, frame 0 facing +Z; :func:`.retarget.canonicalize_t2m22`).
    The files carry no floor plane, so a pitched camera is not levelled: the body keeps the camera's
    tilt (a few degrees in NTU).

    Args:
        record: a path (``.skeleton`` / ``.npz``) or a dict from :func:`load_ntu_record` /
            :func:`read_ntu_skeleton`.
        body: body policy (:data:`NTU_BODY_POLICIES`).
        fps: output frame rate (motionkit's convention: 20).
        source_fps: frame rate of the file.
        canonicalize: apply the canonical frame.

    Returns:
        ``dict(joints=(T, 22, 3) float32, fps, info)``; ``info`` holds ``body`` (index), ``num_bodies``,
        ``body_policy``, the :func:`fill_missing_frames` counts, ``frames`` and ``up_axis``.

    Raises:
        ValueError: naming the file for a wrong shape, non-finite positions or no tracked body.
    """
    if not isinstance(record, dict):
        record = load_ntu_record(record)
    where = str(record.get('path', '<ntu record>'))
    joints = np.asarray(record['joints'])
    if joints.ndim != 4 or joints.shape[2:] != (NTU_NUM_JOINTS, 3):
        raise ValueError(f'{where}: joints must have shape (M, T, 25, 3), got {joints.shape}')
    if not np.isfinite(joints).all():
        bad = np.argwhere(~np.isfinite(joints))[0]
        raise ValueError(f'{where}: non-finite joint position (body {bad[0]}, frame {bad[1]}, joint {bad[2]})')
    present = np.asarray(record.get('body_present', np.ones(joints.shape[:2], dtype=bool)), dtype=bool)
    valid = present & (np.abs(joints).sum((-1, -2)) > 0)
    b = select_ntu_body(joints, valid, body, where=where)
    single, fill = fill_missing_frames(joints[b], valid[b], where=f'{where} (body {b})')
    t2m = ntu25_to_t2m22(single, where=where)
    if fps != source_fps:
        t2m = resample(t2m, source_fps, fps)
    axis, sign = detect_up_axis(t2m)
    t2m = t2m @ rotation_to_y_up(axis, sign).T
    if canonicalize:
        t2m = canonicalize_t2m22(t2m)
    info = dict(body=b, num_bodies=int(joints.shape[0]), body_policy=body, **fill, frames=int(len(t2m)),
                up_axis='xyz'[axis] if sign > 0 else '-' + 'xyz'[axis])
    return dict(joints=t2m.astype(np.float32), fps=float(fps), info=info)


# ----------------------------------------------------------------------------------------------
# Official benchmarks from the file-name fields
# ----------------------------------------------------------------------------------------------
# NTU RGB+D (Shahroudy et al., CVPR 2016, sec. 4.1): cross-subject trains on the 20 performers
# below and tests on the other 20; cross-view trains on cameras 2 and 3 and tests on camera 1.
# NTU RGB+D 120 (Liu et al., TPAMI 2020, sec. 5.1): cross-subject trains on the 53 performers
# below (the NTU-60 list plus 33 new ones) and tests on the other 53; cross-setup trains on the even
# setup ids and tests on the odd ones. The lists are those of the papers, as also written in
# open-mmlab/mmaction2 tools/data/skeleton/gen_ntu_rgbd_raw.py (the same ids).
NTU60_XSUB_TRAIN_SUBJECTS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92,
    93, 94, 95, 97, 98, 100, 103)
NTU60_XVIEW_TRAIN_CAMERAS = (2, 3)
NTU_BENCHMARKS = ('ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset')
# Field ranges of NTU RGB+D 120 (NTU RGB+D 60 is its part with setups 1-17 and actions 1-60).
_FIELD_RANGES = dict(setup=(1, 32), camera=(1, 3), performer=(1, 106), replication=(1, 2), action=(1, 120))
_NTU60_MAX = dict(setup=17, action=60)


def ntu_benchmark_version(benchmark: str) -> int:
    """60 or 120: the dataset a benchmark name (:data:`NTU_BENCHMARKS`) belongs to."""
    if benchmark not in NTU_BENCHMARKS:
        raise ValueError(f'unknown NTU benchmark {benchmark!r}; choose one of {NTU_BENCHMARKS}')
    return 60 if benchmark.startswith('ntu60') else 120


def ntu_split(name: str | os.PathLike | dict, benchmark: str) -> str | None:
    """``'train'`` or ``'test'`` of an NTU sample in ``benchmark``, or ``None`` when the sample is
    not part of that benchmark's dataset (an NTU-120-only setup 18-32 or action 61-120 under an
    ``ntu60_*`` benchmark).

    Args:
        name: file name (``S001C002P003R002A013.skeleton``) or the dict of :func:`parse_ntu_name`.
        benchmark: one of :data:`NTU_BENCHMARKS`.

    Raises:
        ValueError: for an unknown benchmark, a name that is not ``SsssCcccPpppRrrrAaaa`` or a field
            outside NTU's ranges (naming the file).
    """
    version = ntu_benchmark_version(benchmark)
    fields = name if isinstance(name, dict) else parse_ntu_name(os.fspath(name))
    label = str(name.get('path', fields)) if isinstance(name, dict) else os.fspath(name)
    if fields is None:
        raise ValueError(f'{label}: not an NTU sample name (expected SsssCcccPpppRrrrAaaa)')
    for key, (lo, hi) in _FIELD_RANGES.items():
        value = fields.get(key)
        if value is None or not lo <= int(value) <= hi:
            raise ValueError(f'{label}: {key} {value} is outside NTU RGB+D 120\'s range {lo}-{hi}')
    if version == 60 and any(int(fields[k]) > v for k, v in _NTU60_MAX.items()):
        return None
    if benchmark.endswith('xsub'):
        subjects = NTU60_XSUB_TRAIN_SUBJECTS if version == 60 else NTU120_XSUB_TRAIN_SUBJECTS
        train = int(fields['performer']) in subjects
    elif benchmark == 'ntu60_xview':
        train = int(fields['camera']) in NTU60_XVIEW_TRAIN_CAMERAS
    else:  # ntu120_xset
        train = int(fields['setup']) % 2 == 0
    return 'train' if train else 'test'
