"""SynthMotion synthesis: a program (events + parameters) -> joint positions.

Steps (all deterministic given the program, the subject and the noise seed):

1. every event's primitive writes anatomical channels (``(n_i, 22, 3)`` degrees), a heading rate, an
   airborne height and a flight velocity;
2. low-amplitude, smooth noise (two sinusoids per channel, <= 1.2 deg, 0.15-0.6 Hz) is added and the
   channels are clipped to the joint limits (:data:`.body.LIMITS`);
3. channels become local quaternions; consecutive events overlap by ``blend`` frames (0.3 s) and are
   cross-faded there with slerp weighted by a quintic smoothstep;
4. forward kinematics with the heading applied at the root and the root at the origin;
5. the root height puts the lower foot on the floor (a soft minimum over both feet, temperature
   8 mm, so the height is smooth when the support changes), plus the airborne height;
6. the root's horizontal path comes from a foot lock: while the anchor foot touches the floor its
   point midway between ankle and toe keeps its world position exactly; in flight the root moves with
   the primitive's flight velocity.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from motionkit.motion.quaternion import qmul

from .animation import FPS, Context, Segment
from .body import (J, NEUTRAL, BodyShape, channels_to_quaternions, clip_to_limits,
                   forward_kinematics_parents, idx, quaternion_slerp)
from .primitives import PRIMITIVES

__all__ = ['Motion', 'synthesize', 'make_context', 'BLEND_FRAMES', 'CONTACT_HEIGHT',
           'MIN_FRAMES', 'MAX_FRAMES']

BLEND_FRAMES = 6  # 0.3 s at 20 fps
CONTACT_HEIGHT = 0.02  # a foot whose lowest point is below 2 cm touches the floor
SOFTMIN_TEMPERATURE = 0.008
MIN_FRAMES, MAX_FRAMES = 40, 196  # HumanML3D keeps motions of 2-9.8 s (40-196 frames at 20 fps)

_LEG_JOINTS = [idx(f'{s}_{j}') for s in ('left', 'right') for j in ('hip', 'knee', 'ankle', 'foot')]
_L_ANKLE, _L_TOE, _R_ANKLE, _R_TOE = idx('left_ankle'), idx('left_foot'), idx('right_ankle'), idx('right_foot')


@dataclass
class Motion:
    """A synthesised motion and its exact labels.

    Attributes:
        joints: ``(T, 22, 3)`` float32 t2m22 positions (Y up, metres, facing +Z at frame 0).
        local_quats: ``(T, 22, 4)`` local joint rotations (index 0: global root rotation).
        root_positions: ``(T, 3)`` pelvis positions.
        heading: ``(T,)`` heading (yaw) in degrees.
        contacts: ``(T, 2)`` bool, left / right foot touching the floor.
        events: one dict per event: ``primitive``, ``params``, ``start``, ``end`` (frames, end
            exclusive), ``count``, ``reps`` (repetition spans) and facts measured on the result.
        segments: the primitives' raw outputs (kept for edits).
    """
    joints: np.ndarray
    local_quats: np.ndarray
    root_positions: np.ndarray
    heading: np.ndarray
    contacts: np.ndarray
    events: list
    body: BodyShape
    yaw_rate: np.ndarray = field(repr=False, default=None)
    airborne: np.ndarray = field(repr=False, default=None)
    flight_velocity: np.ndarray = field(repr=False, default=None)
    canonical: tuple = (0.0, 0.0)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])


def make_context(body: BodyShape, style_seed: int) -> Context:
    """Per-subject relaxed pose: small, fixed offsets of the neutral channels."""
    rng = np.random.default_rng(style_seed)
    neutral = NEUTRAL.copy()
    for s in ('left', 'right'):
        neutral[idx(f'{s}_shoulder'), 0] += rng.uniform(-3, 3)
        neutral[idx(f'{s}_elbow'), 0] += rng.uniform(-4, 6)
    neutral[idx('spine3'), 0] += rng.uniform(-2, 3)
    neutral[idx('neck'), 0] += rng.uniform(-3, 5)
    return Context(body=body, neutral=neutral, style={})


def _smooth_noise(rng: np.random.Generator, T: int, amplitude: float) -> np.ndarray:
    """``(T, 22, 3)`` degrees: two sinusoids per channel with random frequency and phase."""
    t = np.arange(T, dtype=np.float64)[:, None, None, None] / FPS
    amp = rng.uniform(0.3, 1.0, size=(1, J, 3, 2)) * amplitude
    freq = rng.uniform(0.15, 0.6, size=(1, J, 3, 2))
    phase = rng.uniform(0, 2 * np.pi, size=(1, J, 3, 2))
    noise = (amp * np.sin(2 * np.pi * freq * t + phase)).sum(-1)
    # No noise on the legs: independent leg noise would move one planted foot relative to the other
    # (skating). A pelvis rotation moves both feet rigidly, so only its twist is damped.
    noise[:, _LEG_JOINTS] = 0.0
    noise[:, 0, 1] *= 0.3
    return noise


def _softmin(a: np.ndarray, b: np.ndarray, tau: float) -> np.ndarray:
    m = np.minimum(a, b)
    return m - tau * np.log(np.exp(-(a - m) / tau) + np.exp(-(b - m) / tau))


def _yaw_quat(deg: np.ndarray) -> np.ndarray:
    r = np.deg2rad(deg) / 2
    return np.stack([np.cos(r), np.zeros_like(r), np.sin(r), np.zeros_like(r)], -1)


def _compose(segments: list[Segment], noise: np.ndarray, blend: int):
    """Cross-fade the segments' local rotations with slerp; returns quats, yaw rate, airborne,
    flight velocity and each segment's start frame."""
    starts, s = [], 0
    for k, seg in enumerate(segments):
        starts.append(s)
        s += seg.num_frames - (blend if k < len(segments) - 1 else 0)
    T = s
    quats = np.zeros((T, J, 4))
    yaw, air, vel = np.zeros(T), np.zeros(T), np.zeros((T, 2))
    for k, (seg, st) in enumerate(zip(segments, starts)):
        n = seg.num_frames
        ch = clip_to_limits(seg.channels + noise[st:st + n])
        q = channels_to_quaternions(ch)
        if k == 0:
            quats[st:st + n] = q
            yaw[st:st + n], air[st:st + n], vel[st:st + n] = seg.yaw_rate, seg.airborne, seg.flight_velocity
            continue
        # overlap [st, st + blend): previous segment already written there
        w = (np.arange(blend) + 0.5) / blend
        w = w * w * w * (w * (6 * w - 15) + 10)
        quats[st:st + blend] = quaternion_slerp(quats[st:st + blend], q[:blend], w[:, None])
        yaw[st:st + blend] = (1 - w) * yaw[st:st + blend] + w * seg.yaw_rate[:blend]
        air[st:st + blend] = (1 - w) * air[st:st + blend] + w * seg.airborne[:blend]
        vel[st:st + blend] = (1 - w[:, None]) * vel[st:st + blend] + w[:, None] * seg.flight_velocity[:blend]
        quats[st + blend:st + n] = q[blend:]
        yaw[st + blend:st + n] = seg.yaw_rate[blend:]
        air[st + blend:st + n] = seg.airborne[blend:]
        vel[st + blend:st + n] = seg.flight_velocity[blend:]
    return quats, yaw, air, vel, starts


def place_root(local_quats: np.ndarray, yaw_rate: np.ndarray, airborne: np.ndarray,
               flight_velocity: np.ndarray, body: BodyShape):
    """Heading, root height from the feet, foot-locked horizontal path. Returns
    ``(joints, quats_with_heading, root, heading, contacts)``."""
    T = local_quats.shape[0]
    heading = np.concatenate([[0.0], np.cumsum(yaw_rate[:-1])])
    quats = local_quats.copy()
    quats[:, 0] = qmul(_yaw_quat(heading), local_quats[:, 0])
    pos = forward_kinematics_parents(quats, body.offsets, np.zeros((T, 3)))
    low_l = np.minimum(pos[:, _L_TOE, 1], pos[:, _L_ANKLE, 1] - body.ankle_height)
    low_r = np.minimum(pos[:, _R_TOE, 1], pos[:, _R_ANKLE, 1] - body.ankle_height)
    ground = _softmin(low_l, low_r, SOFTMIN_TEMPERATURE)
    root_y = -ground + airborne
    h_l, h_r = low_l + root_y, low_r + root_y
    contacts = np.stack([h_l < CONTACT_HEIGHT, h_r < CONTACT_HEIGHT], -1)
    heights = np.stack([h_l, h_r], -1)
    mid = np.stack([(pos[:, _L_ANKLE] + pos[:, _L_TOE]) / 2, (pos[:, _R_ANKLE] + pos[:, _R_TOE]) / 2], 1)
    root = np.zeros((T, 3))
    root[:, 1] = root_y
    # the foot-locked path, frame by frame on Python floats (the same operations, in the same
    # order, as on numpy scalars, without their per-element overhead)
    both = (contacts[1:] & contacts[:-1]).tolist()
    hts = heights.tolist()
    mid_x, mid_z = mid[:, :, 0].tolist(), mid[:, :, 2].tolist()
    flying = (np.any(flight_velocity != 0, axis=1) | (airborne > 0)).tolist()
    fvel = flight_velocity.tolist()
    rad = np.deg2rad(heading)
    cos_h, sin_h = np.cos(rad).tolist(), np.sin(rad).tolist()
    anchor = -1
    x = z = last_x = last_z = 0.0
    root_x, root_z = [0.0] * T, [0.0] * T
    for t in range(1, T):
        b = both[t - 1]
        if anchor < 0 or not b[anchor]:
            cands = [i for i in (0, 1) if b[i]]
            anchor = min(cands, key=lambda i: hts[t][i]) if cands else -1  # first on ties, as argmin
        if anchor >= 0:
            sx, sz = mid_x[t - 1][anchor] - mid_x[t][anchor], mid_z[t - 1][anchor] - mid_z[t][anchor]
        elif flying[t]:
            vx, vz = fvel[t]
            c, s = cos_h[t], sin_h[t]
            sx, sz = c * vx + s * vz, -s * vx + c * vz
        else:
            sx, sz = last_x, last_z
        x, z = x + sx, z + sz
        root_x[t], root_z[t] = x, z
        last_x, last_z = sx, sz
    root[:, 0], root[:, 2] = root_x, root_z
    joints = pos + root[:, None, :]
    return joints, quats, root, heading, contacts


def lowest_foot_points(joints: np.ndarray, body: BodyShape) -> np.ndarray:
    """``(T, 2)`` height of each foot's lowest point: its toe joint or its heel (the ankle's rest
    height below the ankle), left then right."""
    return np.stack([np.minimum(joints[:, _L_TOE, 1], joints[:, _L_ANKLE, 1] - body.ankle_height),
                     np.minimum(joints[:, _R_TOE, 1], joints[:, _R_ANKLE, 1] - body.ankle_height)], -1)


def foot_contacts(joints: np.ndarray, body: BodyShape) -> np.ndarray:
    """``(T, 2)`` bool: a foot touches the floor when its lowest point is below ``CONTACT_HEIGHT``."""
    return lowest_foot_points(joints, body) < CONTACT_HEIGHT


def canonical_transform(joints: np.ndarray) -> tuple[float, float]:
    """``(yaw, floor)``: the heading rotation (degrees about +Y) that turns frame 0 to face +Z by
    HumanML3D's definition (hips + shoulders across-vector) and the height of the lowest joint."""
    r_hip, l_hip, r_sh, l_sh = 2, 1, 17, 16
    across = (joints[0, r_hip] - joints[0, l_hip]) + (joints[0, r_sh] - joints[0, l_sh])
    fwd = np.cross(np.array([0.0, 1.0, 0.0]), across)
    yaw = -np.degrees(np.arctan2(fwd[0], fwd[2]))  # rotation that maps fwd onto +Z
    return float(yaw), float(joints[..., 1].min())


def _apply_canonical(joints, root, heading, yaw, floor):
    c, s = np.cos(np.deg2rad(yaw)), np.sin(np.deg2rad(yaw))
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    origin = np.array([root[0, 0], floor, root[0, 2]])
    joints = (joints - origin) @ rot.T
    root = (root - origin) @ rot.T
    return joints, root, heading + yaw


def synthesize(events: list[dict], body: BodyShape, style_seed: int, noise_seed: int,
               noise_amplitude: float = 1.0, blend: int = BLEND_FRAMES,
               keep: dict | None = None) -> Motion:
    """Synthesise a motion from a program.

    Args:
        events: ``[{'primitive': name, 'params': {...}}, ...]`` in temporal order.
        body: the subject. style_seed / noise_seed: seeds of the subject's style and the noise.
        noise_amplitude: scale of the smooth noise (degrees, per sinusoid at most).
        blend: cross-fade frames between events.
        keep: for corrective edits: ``{'quats': (T, 22, 4) source local rotations, 'joints':
            bool (22,) mask of joints to copy from the source, 'root': bool}`` -- copies the
            untouched joints' local rotations (and with ``root`` the heading rate, airborne
            height and flight velocity) so that the target differs from the source only where
            the edit says.

    Returns:
        :class:`Motion`.
    """
    if not events:
        raise ValueError('synthesize: the program has no events')
    ctx = make_context(body, style_seed)
    segments = []
    for k, ev in enumerate(events):
        name = ev.get('primitive')
        if name not in PRIMITIVES:
            raise KeyError(f'event {k}: unknown primitive {name!r}; known: {sorted(PRIMITIVES)}')
        segments.append(PRIMITIVES[name].generate(ev['params'], ctx))
    T = sum(s.num_frames for s in segments) - blend * (len(segments) - 1)
    noise = _smooth_noise(np.random.default_rng(noise_seed), T, noise_amplitude)
    quats, yaw, air, vel, starts = _compose(segments, noise, blend)
    if keep is not None:
        src = keep['quats']
        if src.shape != quats.shape:
            raise ValueError(f'keep: source rotations have shape {src.shape}, the target {quats.shape}; '
                             'a part-restricted edit must not change the timing')
        mask = np.asarray(keep['joints'], dtype=bool)
        quats[:, mask] = src[:, mask]
        if keep.get('root'):
            yaw, air, vel = keep['yaw_rate'], keep['airborne'], keep['flight_velocity']
    joints, quats_h, root, heading, contacts = place_root(quats, yaw, air, vel, body)
    # Canonical placement (HumanML3D): root over the origin at frame 0, facing +Z at frame 0 by
    # the hips/shoulders definition, lowest joint on the floor. A triplet target reuses its
    # source's transform so that the two stay in one scene.
    if keep is not None and 'canonical' in keep:
        canon_yaw, floor = keep['canonical']
    else:
        canon_yaw, floor = canonical_transform(joints)
    joints, root, heading = _apply_canonical(joints, root, heading, canon_yaw, floor)
    contacts = foot_contacts(joints, body)  # after the floor shift
    out_events = []
    for k, (ev, seg, st) in enumerate(zip(events, segments, starts)):
        a = st + (blend // 2 if k > 0 else 0)
        b = st + seg.num_frames - (blend - blend // 2 if k < len(segments) - 1 else 0)
        info = dict(seg.info)
        disp = root[b - 1, [0, 2]] - root[a, [0, 2]]
        info['distance'] = round(float(np.hypot(*disp)), 3)
        info['turn'] = round(float(heading[b - 1] - heading[a]), 1)
        out_events.append(dict(primitive=ev['primitive'], params=dict(ev['params']), start=int(a), end=int(b),
                               count=int(info.get('count', 1)),
                               reps=[[int(st + r0), int(st + r1)] for r0, r1 in seg.reps], facts=info))
    return Motion(joints=joints.astype(np.float32), local_quats=quats, root_positions=root, heading=heading,
                  contacts=contacts, events=out_events, body=body, yaw_rate=yaw, airborne=air,
                  flight_velocity=vel, canonical=(canon_yaw, floor))
