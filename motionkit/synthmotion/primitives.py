"""SynthMotion action primitives.

Each primitive is a parameterised joint-rotation program: ``sample(rng) -> params`` draws JSON-able
parameters and ``generate(params, ctx) -> Segment`` writes anatomical channels (see
:mod:`.body`), a heading rate, an airborne height and, for jumps, a flight velocity. The root's
horizontal path is *not* written here: :mod:`.generator` derives it from the feet (foot lock), so a
walking speed is the result of the legs' motion, as in a real gait.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .animation import (FPS, Context, Segment, ballistic, bump, flat_foot_dorsiflexion, keyframes,
                        other_side, pose, ramp, smoothstep)
from .body import idx
from .footsteps import legs_from_feet, neutral_half_width, pelvis_height_for_reach, plan_steps

__all__ = ['Primitive', 'PRIMITIVES', 'gait']

SIDES = ('left', 'right')


@dataclass(frozen=True)
class Primitive:
    """A registered action primitive.

    Attributes:
        name: identifier (also the action-label class name).
        category: 'locomotion' | 'lower_body' | 'upper_body' | 'whole_body'.
        sample: ``rng -> params``.
        generate: ``(params, ctx) -> Segment``.
        description: one line for the docs.
    """
    name: str
    category: str
    sample: Callable
    generate: Callable
    description: str


PRIMITIVES: dict[str, Primitive] = {}


def _register(name: str, category: str, description: str):
    def deco(fns):
        sample, generate = fns
        PRIMITIVES[name] = Primitive(name, category, sample, generate, description)
        return fns
    return deco


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _base(ctx: Context, n: int) -> np.ndarray:
    return np.repeat(ctx.neutral[None], n, axis=0)


def _blend_to(ch: np.ndarray, target: np.ndarray, w: np.ndarray, joints) -> None:
    """In place: ``ch[:, j] += w (target[:, j] - ch[:, j])`` for the named joints."""
    for name in joints:
        j = idx(name)
        ch[:, j] += w[:, None] * (target[:, j] - ch[:, j])


def _arm(side: str) -> list[str]:
    return [f'{side}_collar', f'{side}_shoulder', f'{side}_elbow']


def _leg(side: str) -> list[str]:
    return [f'{side}_hip', f'{side}_knee', f'{side}_ankle']


def _flat_feet(ch: np.ndarray, sides=SIDES) -> None:
    """Set ankle dorsiflexion so that the feet stay level (in place)."""
    for s in sides:
        ch[:, idx(f'{s}_ankle'), 0] = flat_foot_dorsiflexion(
            ch[:, 0, 0], ch[:, idx(f'{s}_hip'), 0], ch[:, idx(f'{s}_knee'), 0])


def _lift_leg(ch: np.ndarray, side: str, w: np.ndarray, hip: float, knee: float, point: float = 15.0) -> None:
    """Raise a leg from the floor to (hip, knee) flexion as ``w`` goes 0 -> 1 (in place).

    The first 30 % is a near-vertical lift (hip ~ half the knee angle keeps the ankle above its
    footprint) with a level foot, so a foot close to the floor never slides; the foot then points
    by ``point`` degrees once the hip passes 25 deg."""
    w = np.clip(w, 0, 1)
    a = np.clip(w / 0.3, 0, 1)
    b = smoothstep((w - 0.3) / 0.7)
    h_add = 18 * a + (hip - 18) * b
    k_add = 36 * a + (knee - 36) * b
    h, k, an = idx(f'{side}_hip'), idx(f'{side}_knee'), idx(f'{side}_ankle')
    ch[:, h, 0] += h_add
    ch[:, k, 0] += k_add
    flat = flat_foot_dorsiflexion(ch[:, 0, 0], ch[:, h, 0], ch[:, k, 0])
    p = np.clip((h_add - 25) / 20, 0, 1)
    ch[:, an, 0] = (1 - p) * flat - point * p


def _equal_spans(start: int, end: int, count: int) -> list:
    edges = np.linspace(start, end, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


# ==============================================================================================
# locomotion
# ==============================================================================================
def gait(ctx: Context, n: int, velocity: tuple[float, float], cadence: float, duty: float = 0.6,
         clearance: float = 0.09, reach: float = 0.985, lean: float = 0.0, turn_deg: float = 0.0,
         arm_amp: float = 15.0, elbow: float = 15.0, first: str = 'left', half_width: float | None = None,
         ramp_frames: int = 10, move_clearance_with_speed: bool = True, arms: bool = True,
         bounce: float = 0.0) -> Segment:
    """Footstep-planned stepping (see :mod:`.footsteps`).

    Args:
        n: frames. velocity: (lateral, forward) pelvis speed in m/s (negative forward = backwards).
        cadence: steps per second. duty: stance fraction of a cycle (>= 0.5: a foot is always down).
        clearance: swing height of the ankle (m). reach: pelvis height as a fraction of full leg
            reach (lower = more bent knees, as in jogging). lean: forward trunk lean (deg).
        turn_deg: heading change spread over the segment. arm_amp: arm swing (deg per half step).
        first: the foot that steps first.
        bounce: running mode: the pelvis sinks by ``bounce`` m during each stance (compliant leg)
            and is highest in flight, instead of vaulting over a straight leg as in walking.
    """
    env = ramp(n, ramp_frames)
    vel = env[:, None] * np.asarray(velocity, dtype=np.float64)[None] / FPS
    pelvis_xz = np.cumsum(vel, axis=0) - vel[0]
    clear = clearance * ((0.5 + 0.5 * env) if move_clearance_with_speed else np.ones(n))
    hw = neutral_half_width(ctx) if half_width is None else half_width
    plan = plan_steps(pelvis_xz, cadence, duty, clear, ctx.body.ankle_height, hw, first=first)
    ch = _base(ctx, n)
    ch[:, 0, 0] += lean * env
    ch[:, idx('spine2'), 0] += 0.3 * lean * env
    rel_l = plan.ankles[:, 0, 2] - pelvis_xz[:, 1]
    rel_r = plan.ankles[:, 1, 2] - pelvis_xz[:, 1]
    ch[:, 0, 1] += -12.0 * (rel_l - rel_r)  # pelvis turns with the forward leg (deg per m)
    ch[:, idx('spine3'), 1] += 16.0 * (rel_l - rel_r)  # shoulders counter-rotate
    if bounce > 0:
        hip_off = ctx.body.offsets[idx('left_hip')]
        top = reach * (ctx.thigh + ctx.shank) + ctx.body.ankle_height - hip_off[1]
        sink = np.zeros(n)
        for k in range(2):  # a sin^2 dip over every stance interval
            st = plan.stance[:, k].astype(int)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], st, [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                if b - a > 1 and a > 0 and b < n:
                    sink[a:b] = np.maximum(sink[a:b], np.sin(np.pi * (np.arange(a, b) - a + 0.5) / (b - a)) ** 2)
        wanted = top - bounce * sink * env
        limit = pelvis_height_for_reach(plan.ankles, pelvis_xz, ctx, 0.995)
        m = np.minimum(wanted, limit)
        tau = 0.01
        y = m - tau * np.log(np.exp(-(wanted - m) / tau) + np.exp(-(limit - m) / tau))
    else:
        y = pelvis_height_for_reach(plan.ankles, pelvis_xz, ctx, reach)
    pelvis_pos = np.stack([pelvis_xz[:, 0], y, pelvis_xz[:, 1]], -1)
    legs_from_feet(ch, plan.ankles, pelvis_pos, ctx)
    if arms:
        neutral = ctx.neutral
        for side, rel in (('left', rel_r - rel_l), ('right', rel_l - rel_r)):
            sh, el = idx(f'{side}_shoulder'), idx(f'{side}_elbow')
            elev = 6.0 + arm_amp * rel / 0.3  # the arm swings with the opposite leg
            ch[:, sh, 0] = neutral[sh, 0] + env * (elev - neutral[sh, 0])
            ch[:, sh, 1] = neutral[sh, 1] + env * (12.0 - neutral[sh, 1])
            ch[:, el, 0] = neutral[el, 0] + env * (elbow + 0.35 * np.maximum(0, elev) - neutral[el, 0])
    lift = plan.ankles[:, :, 1] - ctx.body.ankle_height
    yaw = np.zeros(n)
    if turn_deg:
        # turn mostly while a foot is well off the floor: a foot that is still (or again) close to
        # the floor would otherwise be dragged round with the body
        up = np.clip((lift.max(-1) - 0.02) / max(float(np.max(clearance)) - 0.02, 1e-3), 0, 1)
        w = env * (0.1 + up)
        yaw = turn_deg * w / w.sum()
    reps = [(a, b) for a, b in plan.spans if lift[a:b].max() > 0.02]
    # flight (both feet in swing, duty < 0.5): the body is as high above the floor as the lower foot
    # is in the plan, and moves with the pelvis velocity
    flight = ~plan.stance.any(-1)
    airborne = np.where(flight, lift.min(-1), 0.0)
    return Segment.from_channels(ch, yaw_rate=yaw, reps=reps, info=dict(count=len(reps)),
                                 airborne=airborne, flight_velocity=vel.copy())


def _walk_like(kind: str):
    # speed ranges (m/s) and cadences (steps/s) of walking, jogging and running
    ranges = {'walk': (0.7, 1.5, 1.6, 2.0), 'jog': (1.6, 2.4, 2.4, 2.7), 'run': (2.6, 3.4, 2.8, 3.2)}
    lo, hi, c_lo, c_hi = ranges[kind]

    def sample(rng):
        direction = 'forward'
        if kind == 'walk':
            direction = str(rng.choice(['forward', 'forward', 'forward', 'backward']))
        elif kind == 'jog':
            direction = str(rng.choice(['forward', 'forward', 'forward', 'forward', 'backward']))
        turn = 0.0
        if rng.random() < 0.3:
            turn = float(rng.choice([-1, 1]) * rng.choice([45, 90, 90, 135, 180]))
        speed = rng.uniform(lo, hi) * (0.6 if direction == 'backward' else 1.0)
        steps = int(rng.integers(4, 9 if kind == 'walk' else 11))
        return dict(direction=direction, speed=_r(speed), steps=steps, turn=turn,
                    cadence=_r(rng.uniform(c_lo, c_hi)))

    def generate(p, ctx):
        cadence = p['cadence']
        v = p['speed'] * (1.0 if p['direction'] == 'forward' else -1.0)
        if kind == 'walk':
            kw = dict(duty=0.6, clearance=0.08, reach=0.985, arm_amp=14, lean=2, elbow=15)
        elif kind == 'jog':
            kw = dict(duty=0.36, clearance=0.14, reach=0.97, arm_amp=22, lean=7, elbow=70, bounce=0.05)
        else:
            kw = dict(duty=0.3, clearance=0.22, reach=0.97, arm_amp=30, lean=12, elbow=85, bounce=0.07)
        if p['direction'] == 'backward':
            kw['lean'] = -1.0
        n = int(round((p['steps'] + 0.5) / cadence * FPS)) + 16
        return gait(ctx, n, (0.0, v), cadence, turn_deg=p['turn'], **kw)
    return sample, generate


_register('walk', 'locomotion', 'walk forward or backward (speed, steps, optional turn)')(_walk_like('walk'))
_register('jog', 'locomotion', 'jog forward or backward (speed, steps, optional turn)')(_walk_like('jog'))
_register('run', 'locomotion', 'run forward (speed, steps, optional turn)')(_walk_like('run'))


def _side_step_sample(rng):
    return dict(direction=str(rng.choice(SIDES)), steps=int(rng.integers(2, 6)),
                width=_r(rng.uniform(12, 22)))


def _side_step(p, ctx):
    """Side stepping: the leading leg steps out, the trailing leg follows (footstep plan)."""
    sign = 1.0 if p['direction'] == 'left' else -1.0
    cadence = 1.7
    n = int(round((2 * p['steps'] + 0.5) / cadence * FPS)) + 16
    step = 0.25 + 0.01 * (p['width'] - 12)
    seg = gait(ctx, n, (sign * step * cadence / 2, 0.0), cadence, duty=0.62, clearance=0.06,
               arm_amp=0, elbow=18, first=p['direction'])
    for s in SIDES:  # arms slightly out for balance
        ch = seg.channels
        ch[:, idx(f'{s}_shoulder'), 0] += 8 * ramp(n, 8)
    seg.info = dict(count=p['steps'])
    seg.reps = [(seg.reps[2 * k][0], seg.reps[min(2 * k + 1, len(seg.reps) - 1)][1])
                for k in range(min(p['steps'], len(seg.reps) // 2))] or seg.reps
    return seg


_register('side_step', 'locomotion', 'step sideways to the left or right (steps, width)')(
    (_side_step_sample, _side_step))


def _turn_sample(rng):
    return dict(direction=str(rng.choice(SIDES)), angle=float(rng.choice([90, 90, 180, 180, 270, 360])))


def _turn(p, ctx):
    """Turn in place: small steps in place while the heading rotates (about 45 deg per step)."""
    steps = max(2, int(np.ceil(p['angle'] / 45)))
    cadence = 2.0
    n = int(round((steps + 0.5) / cadence * FPS)) + 16
    seg = gait(ctx, n, (0.0, 0.0), cadence, duty=0.52, clearance=0.06, arm_amp=0,
               turn_deg=(1 if p['direction'] == 'left' else -1) * p['angle'],
               first=p['direction'], move_clearance_with_speed=False)
    seg.info = dict(count=1)
    seg.reps = [(0, n)]
    return seg


_register('turn', 'locomotion', 'turn around in place to the left or right (angle)')((_turn_sample, _turn))


def _march_sample(rng):
    return dict(steps=int(rng.integers(4, 11)), knee_height=_r(rng.uniform(40, 85)))


def _march(p, ctx):
    """March in place: high knees from a high swing clearance of the ankles."""
    cadence = 1.8
    n = int(round((p['steps'] + 0.5) / cadence * FPS)) + 16
    clearance = 0.1 + 0.35 * (p['knee_height'] - 40) / 45
    seg = gait(ctx, n, (0.0, 0.0), cadence, duty=0.55, clearance=clearance, arm_amp=0, elbow=70,
               move_clearance_with_speed=False)
    ch = seg.channels
    for side, other in (('left', 'right'), ('right', 'left')):
        sh = idx(f'{side}_shoulder')
        lift = ch[:, idx(f'{other}_hip'), 0]
        ch[:, sh, 0] = ctx.neutral[sh, 0] + 0.5 * lift * ramp(n, 8)
    return seg


_register('march', 'locomotion', 'march in place lifting the knees (steps, knee height)')(
    (_march_sample, _march))


def _step_over_sample(rng):
    return dict(leg=str(rng.choice(SIDES)), height=_r(rng.uniform(40, 80)))


def _step_over(p, ctx):
    """Step over an obstacle: two steps forward with a high ankle clearance, leading with ``leg``."""
    cadence = 1.4
    n = int(round(2.5 / cadence * FPS)) + 16
    clearance = 0.1 + 0.4 * (p['height'] - 40) / 40
    seg = gait(ctx, n, (0.0, 0.45), cadence, duty=0.62, clearance=clearance, arm_amp=10,
               first=p['leg'], move_clearance_with_speed=False)
    seg.info = dict(count=1)
    seg.reps = [(0, n)]
    return seg


_register('step_over', 'locomotion', 'step over an obstacle with a high knee lift (leading leg, height)')(
    (_step_over_sample, _step_over))


# ==============================================================================================
# jumps and hops
# ==============================================================================================
def _jump_sample(rng):
    return dict(count=int(rng.integers(1, 4)), height=_r(rng.uniform(0.12, 0.45)),
                distance=_r(float(rng.choice([0.0, 0.0, rng.uniform(0.3, 1.0)]))))


def _jump_cycle(ctx, height, distance, crouch=1.0, arms=True):
    """One jump: crouch, push off, parabolic flight, landing and recovery. Returns channels,
    airborne height, flight velocity, takeoff frame and flight frames."""
    tf = 2 * np.sqrt(2 * height / 9.81) * FPS  # flight frames
    prep, push = 9, 3
    takeoff = prep + push
    land = takeoff + tf
    n = int(np.ceil(land)) + 12
    base = ctx.neutral
    crouch_k = 75 * crouch
    squat = pose(base, {'pelvis': (18 * crouch, 0, 0), 'left_hip': (65 * crouch,), 'right_hip': (65 * crouch,),
                        'left_knee': (crouch_k,), 'right_knee': (crouch_k,),
                        'spine2': (8 * crouch,)})
    extend = pose(base, {'pelvis': (4, 0, 0), 'left_hip': (2,), 'right_hip': (2,), 'left_knee': (2,),
                         'right_knee': (2,)})
    air = pose(base, {'pelvis': (6, 0, 0), 'left_hip': (20,), 'right_hip': (20,), 'left_knee': (25,),
                      'right_knee': (25,)})
    land_p = pose(base, {'pelvis': (14, 0, 0), 'left_hip': (45 * crouch,), 'right_hip': (45 * crouch,),
                         'left_knee': (55 * crouch,), 'right_knee': (55 * crouch,)})
    if arms:
        for s in SIDES:
            squat = pose(squat, {f'{s}_shoulder': (-35, 10, 0), f'{s}_elbow': (15,)})
            extend = pose(extend, {f'{s}_shoulder': (110, 15, 0), f'{s}_elbow': (15,)})
            air = pose(air, {f'{s}_shoulder': (80, 20, 0), f'{s}_elbow': (25,)})
            land_p = pose(land_p, {f'{s}_shoulder': (40, 15, 0), f'{s}_elbow': (30,)})
    ch = keyframes(n, [(0, base), (prep, squat), (takeoff, extend), (takeoff + tf * 0.5, air),
                       (land, extend), (land + 4, land_p), (n - 1, base)])
    _flat_feet(ch)
    # toes push off / point in the air
    for s in SIDES:
        a = idx(f'{s}_ankle')
        ch[:, a, 0] -= 30 * bump(np.arange(n), prep, land + 2)
    airborne = ballistic(n, takeoff, tf)
    vel = np.zeros((n, 2))
    in_air = airborne > 0
    vel[in_air, 1] = distance / tf
    return ch, airborne, vel, n


def _jump(p, ctx):
    chans, airs, vels, reps = [], [], [], []
    start = 0
    for _ in range(p['count']):
        ch, air, vel, n = _jump_cycle(ctx, p['height'], p['distance'])
        chans.append(ch), airs.append(air), vels.append(vel)
        reps.append((start, start + n))
        start += n
    return Segment(np.concatenate(chans), np.zeros(start), np.concatenate(airs), np.concatenate(vels),
                   reps=reps, info=dict(count=p['count']))


_register('jump', 'whole_body', 'jump up or forward (count, height, distance)')((_jump_sample, _jump))


def _hop_sample(rng):
    return dict(leg=str(rng.choice(SIDES)), count=int(rng.integers(2, 6)), height=_r(rng.uniform(0.06, 0.15)))


def _hop(p, ctx):
    """Hop on one leg: the other leg is held bent behind; arms out for balance."""
    stand, free = p['leg'], other_side(p['leg'])
    tf = 2 * np.sqrt(2 * p['height'] / 9.81) * FPS
    cycle = int(np.ceil(tf)) + 8
    lead = 10
    n = lead * 2 + cycle * p['count']
    base = ctx.neutral
    t = np.arange(n, dtype=np.float64)
    hold = ramp(n, lead, lead)
    ch = _base(ctx, n)
    for s in SIDES:
        ch[:, idx(f'{s}_shoulder'), 0] += (40 - base[idx(f'{s}_shoulder'), 0]) * hold
        ch[:, idx(f'{s}_elbow'), 0] += 20 * hold
    airborne = np.zeros(n)
    reps = []
    for k in range(p['count']):
        s0 = lead + k * cycle
        airborne += ballistic(n, s0 + 4, tf)
        dip = bump(t, s0, s0 + 5) + bump(t, s0 + 3 + tf, s0 + cycle)
        ch[:, idx(f'{stand}_hip'), 0] += 20 * dip
        ch[:, idx(f'{stand}_knee'), 0] += 30 * dip
        ch[:, 0, 0] += 6 * dip
        reps.append((s0, s0 + cycle))
    _flat_feet(ch, (stand,))
    ch[:, idx(f'{stand}_ankle'), 0] -= 20 * np.clip(airborne / max(p['height'], 1e-6), 0, 1)
    _lift_leg(ch, free, hold, 25, 80)
    return Segment.from_channels(ch, airborne=airborne, reps=reps, info=dict(count=p['count']))


_register('hop', 'lower_body', 'hop on one leg (leg, count, height)')((_hop_sample, _hop))


def _jacks_sample(rng):
    return dict(count=int(rng.integers(2, 7)), arm_height=_r(rng.uniform(150, 175)))


def _jumping_jacks(p, ctx):
    """Jumping jacks: each jack is two small hops (feet apart + arms up, feet together + arms down);
    the legs open and close only while airborne so that planted feet never slide."""
    height = 0.07
    tf = 2 * np.sqrt(2 * height / 9.81) * FPS
    half = int(np.ceil(tf)) + 5
    lead = 6
    n = 2 * lead + 2 * half * p['count']
    t = np.arange(n, dtype=np.float64)
    ch = _base(ctx, n)
    airborne = np.zeros(n)
    open_ = np.zeros(n)
    arms = np.zeros(n)
    reps = []
    for k in range(p['count']):
        for h in range(2):
            s0 = lead + (2 * k + h) * half + 2
            airborne += ballistic(n, s0, tf)
            w = smoothstep((t - s0) / tf)
            open_ += w if h == 0 else -w
        c0 = lead + 2 * k * half
        reps.append((c0, c0 + 2 * half))
        arms += bump(t, c0, c0 + 2 * half)
    for s in SIDES:
        ch[:, idx(f'{s}_hip'), 1] += 14 * open_
        sh = idx(f'{s}_shoulder')
        ch[:, sh, 1] += (95 - ch[:, sh, 1]) * ramp(n, lead)
        ch[:, sh, 0] += (p['arm_height'] - ch[:, sh, 0]) * arms
        ch[:, idx(f'{s}_knee'), 0] += 12 * bump(t % half, 0, half)
        ch[:, idx(f'{s}_hip'), 0] += 6 * bump(t % half, 0, half)
    _flat_feet(ch)
    for s in SIDES:
        ch[:, idx(f'{s}_ankle'), 0] -= 20 * np.clip(airborne / height, 0, 1)
    return Segment.from_channels(ch, airborne=airborne, reps=reps, info=dict(count=p['count']))


_register('jumping_jacks', 'whole_body', 'jumping jacks (count, arm height)')((_jacks_sample, _jumping_jacks))


# ==============================================================================================
# lower body
# ==============================================================================================
def _squat_angles(knee):
    """Balanced squat: shank forward ~1/4 of the knee angle, pelvis tilted with the thigh."""
    dorsi = np.minimum(0.25 * knee, 26.0)
    tilt = 0.3 * (knee - dorsi)
    hip = tilt + knee - dorsi
    return hip, tilt


def _squat_sample(rng):
    return dict(depth=_r(rng.uniform(60, 120)), count=int(rng.integers(1, 5)),
                width=_r(rng.uniform(4, 14)), arms_forward=bool(rng.random() < 0.6))


def _step_width(ch: np.ndarray, t0: int, width: float, closing: bool = False) -> None:
    """Widen (or narrow back) the stance by ``width`` degrees of hip abduction per leg as two quick
    steps, left then right, each foot lifted while it moves, so no planted foot slides."""
    n = len(ch)
    t = np.arange(n, dtype=np.float64)
    for k, side in enumerate(SIDES):
        a = t0 + 7 * k
        w = smoothstep((t - a - 2.5) / 2.5)  # sideways only while the foot is up
        w = -w if closing else w
        ch[:, idx(f'{side}_hip'), 1] += width * w
        lift = bump(t, a, a + 7)  # hip = knee / 2 lifts the ankle straight up
        ch[:, idx(f'{side}_hip'), 0] += 20 * lift
        ch[:, idx(f'{side}_knee'), 0] += 40 * lift


def _squat(p, ctx):
    """Squats by IK: the ankles stay on their footprints (after an optional widening step with each
    foot lifted), the pelvis moves down and back along the path of a balanced squat of knee flexion
    ``depth`` (shank forward ~1/4 of the knee angle, pelvis tilted with the thigh)."""
    rep = 36
    widen = p['width'] > 6
    lead = 16 if widen else 6
    n = 2 * lead + rep * p['count']
    t = np.arange(n, dtype=np.float64)
    depth = np.zeros(n)
    reps = []
    for k in range(p['count']):
        s0 = lead + k * rep
        depth += bump(t, s0, s0 + rep)
        reps.append((s0, s0 + rep))
    th, sk = ctx.thigh, ctx.shank
    hw = neutral_half_width(ctx)
    extra = np.deg2rad(p['width'] - 2) * (th + sk) if widen else 0.0  # abduction angle -> metres
    ankles = np.zeros((n, 2, 3))
    ankles[:, :, 1] = ctx.body.ankle_height
    for k, (side, sign) in enumerate((('left', 1.0), ('right', -1.0))):
        ankles[:, k, 0] = sign * hw
        if widen:
            for a, closing in ((1 + 7 * k, False), (n - lead + 1 + 7 * k, True)):
                w = smoothstep((t - a - 2.5) / 2.5)  # sideways only while the foot is up
                ankles[:, k, 0] += sign * extra * (-w if closing else w)
                ankles[:, k, 1] += 0.05 * bump(t, a, a + 7)
    knee = p['depth'] * depth
    hip, tilt = _squat_angles(knee)
    dorsi = np.minimum(0.25 * knee, 26.0)
    thigh_ang = np.deg2rad(knee - dorsi)
    sh_ang = np.deg2rad(dorsi)
    hip_off = ctx.body.offsets[idx('left_hip')]
    # hip joint above/behind the ankle, then the pelvis from the (tilted) hip offset
    leg_y = sk * np.cos(sh_ang) + th * np.cos(thigh_ang)
    leg_z = sk * np.sin(sh_ang) - th * np.sin(thigh_ang)
    rest = th + sk
    leg_y = np.minimum(leg_y, 0.985 * rest)
    tl = np.deg2rad(tilt)
    off_y = hip_off[1] * np.cos(tl) - hip_off[2] * np.sin(tl)
    off_z = hip_off[1] * np.sin(tl) + hip_off[2] * np.cos(tl)
    pelvis = np.stack([np.zeros(n), ctx.body.ankle_height + leg_y - off_y, leg_z - off_z], -1)
    ch = _base(ctx, n)
    ch[:, 0, 0] += tilt
    ch[:, idx('spine2'), 0] += 0.1 * knee
    legs_from_feet(ch, ankles, pelvis, ctx)
    if p['arms_forward']:
        for s in SIDES:
            sh = idx(f'{s}_shoulder')
            w = np.clip(depth * 1.6, 0, 1)
            ch[:, sh, 0] += (85 - ch[:, sh, 0]) * w
            ch[:, sh, 1] += (5 - ch[:, sh, 1]) * w
            ch[:, idx(f'{s}_elbow'), 0] += (5 - ch[:, idx(f'{s}_elbow'), 0]) * w
    return Segment.from_channels(ch, reps=reps, info=dict(count=p['count']))


_register('squat', 'lower_body', 'squat down and up (depth, count, stance width, arms forward)')(
    (_squat_sample, _squat))


def _lunge_sample(rng):
    return dict(leg=str(rng.choice(SIDES)), depth=_r(rng.uniform(0.12, 0.28)),
                step=_r(rng.uniform(0.55, 0.85)), count=int(rng.integers(1, 3)))


def _lunge(p, ctx):
    """Forward lunge: step out with ``leg`` (``step`` m), lower the pelvis by ``depth`` m while the
    back heel rises (the back foot pivots on its toes), rise, step back. Both legs by IK from
    planned ankle positions, so the planted feet stay put."""
    front, back = p['leg'], other_side(p['leg'])
    out, dip = 14, 24
    per = out + dip + out
    n = per * p['count'] + 8
    t = np.arange(n, dtype=np.float64)
    hw = neutral_half_width(ctx)
    a_h = ctx.body.ankle_height
    foot = ctx.body.offsets[idx('left_foot')]
    fz = foot[2]
    fi, bi = (0, 1) if front == 'left' else (1, 0)
    ankles = np.zeros((n, 2, 3))
    ankles[:, 0, 0], ankles[:, 1, 0] = hw, -hw
    ankles[:, :, 1] = a_h
    pelvis_z = np.zeros(n)
    dip_w = np.zeros(n)
    heel = np.zeros(n)
    reps = []
    for k in range(p['count']):
        s0 = 4 + k * per
        reps.append((s0, s0 + per))
        go = smoothstep((t - s0 - 0.25 * out) / (0.5 * out))  # horizontal travel in the middle of the swing
        ret = smoothstep((t - s0 - out - dip - 0.25 * out) / (0.5 * out))
        w = go - ret
        lift = bump(t, s0, s0 + out) + bump(t, s0 + out + dip, s0 + per)
        ankles[:, fi, 2] += p['step'] * w
        ankles[:, fi, 1] += 0.09 * lift
        pelvis_z += 0.45 * p['step'] * (smoothstep((t - s0) / out) - smoothstep((t - s0 - out - dip) / out))
        d = bump(t, s0 + out, s0 + out + dip)
        dip_w += d
        heel += 25 * (smoothstep((t - s0 - out * 0.5) / out) - smoothstep((t - s0 - out - dip) / out)) + 20 * d
    # the back foot pivots about its toe: move its ankle target accordingly
    th = np.deg2rad(heel)
    vy = -a_h * np.cos(th) - fz * np.sin(th)
    vz = fz * np.cos(th) - a_h * np.sin(th)
    toe_y, toe_z = 0.0, fz
    ankles[:, bi, 1] = toe_y - vy
    ankles[:, bi, 2] = toe_z - vz
    pelvis_xz = np.stack([np.zeros(n), pelvis_z], -1)
    y = pelvis_height_for_reach(ankles, pelvis_xz, ctx, 0.985) - p['depth'] * dip_w
    ch = _base(ctx, n)
    legs_from_feet(ch, ankles, np.stack([np.zeros(n), y, pelvis_z], -1), ctx)
    ch[:, idx(f'{back}_ankle'), 0] -= heel
    for s in SIDES:
        ch[:, idx(f'{s}_shoulder'), 0] += 8 * ramp(n, 6)
    return Segment.from_channels(ch, reps=reps, info=dict(count=p['count']))


_register('lunge', 'lower_body', 'forward lunge (leg, depth, step length, count)')((_lunge_sample, _lunge))


def _kick_sample(rng):
    return dict(leg=str(rng.choice(SIDES)), height=_r(rng.uniform(35, 95)), count=int(rng.integers(1, 4)))


def _kick(p, ctx):
    leg, other = p['leg'], other_side(p['leg'])
    base = ctx.neutral
    per = 26
    n = 8 + per * p['count'] + 6
    keys = [(0, base)]
    reps = []
    ready = pose(base, {f'{other}_knee': (8,), f'{other}_shoulder': (35, 20, 0),
                        f'{leg}_shoulder': (20, 60, 0), f'{leg}_elbow': (30,), f'{other}_elbow': (40,)})
    for k in range(p['count']):
        s0 = 6 + k * per
        lifted = pose(ready, {f'{leg}_hip': (18,), f'{leg}_knee': (36,)})  # foot straight up first
        wind = pose(ready, {f'{leg}_hip': (-15,), f'{leg}_knee': (75,), f'{leg}_ankle': (None,)})
        strike = pose(ready, {f'{leg}_hip': (p['height'],), f'{leg}_knee': (5,),
                              'pelvis': (-0.12 * p['height'], 0, 0), 'spine2': (-4, 0, 0)})
        retract = pose(ready, {f'{leg}_hip': (0.6 * p['height'],), f'{leg}_knee': (80,)})
        keys += [(s0, ready), (s0 + 3, lifted), (s0 + 7, wind), (s0 + 12, strike), (s0 + 17, retract),
                 (s0 + 22, lifted), (s0 + per - 1, ready)]
        reps.append((s0, s0 + per))
    keys.append((n - 1, base))
    ch = keyframes(n, keys)
    _flat_feet(ch, (other,))
    a = idx(f'{leg}_ankle')
    swing = np.clip((ch[:, idx(f'{leg}_hip'), 0] - base[idx(f'{leg}_hip'), 0] - 22) / 20, 0, 1)
    ch[:, a, 0] = (1 - swing) * flat_foot_dorsiflexion(ch[:, 0, 0], ch[:, idx(f'{leg}_hip'), 0],
                                                       ch[:, idx(f'{leg}_knee'), 0]) - 25 * swing
    return Segment.from_channels(ch, reps=reps, info=dict(count=p['count']))


_register('kick', 'lower_body', 'kick forward (leg, height, count)')((_kick_sample, _kick))


def _balance_sample(rng):
    return dict(leg=str(rng.choice(SIDES)), seconds=_r(rng.uniform(1.5, 3.5)),
                knee_height=_r(rng.uniform(45, 90)), arms_out=bool(rng.random() < 0.7))


def _balance(p, ctx):
    """Stand on ``leg`` with the other knee raised; slow balancing sway."""
    stand, free = p['leg'], other_side(p['leg'])
    hold = int(p['seconds'] * FPS)
    n = hold + 20
    base = ctx.neutral
    up = {f'{stand}_knee': (6,)}
    if p['arms_out']:
        up.update({f'{s}_shoulder': (80, 90, 0) for s in SIDES})
        up.update({f'{s}_elbow': (10,) for s in SIDES})
    top = pose(base, up)
    ch = keyframes(n, [(0, base), (10, top), (n - 11, top), (n - 1, base)])
    lift = keyframes(n, [(0, 0.0), (12, 1.0), (n - 13, 1.0), (n - 1, 0.0)])
    t = np.arange(n)
    sway = np.sin(2 * np.pi * t / 37.0) * ramp(n, 10)
    ch[:, 0, 2] += 2.0 * sway
    ch[:, idx('spine2'), 2] -= 2.5 * sway
    for s in SIDES:
        ch[:, idx(f'{s}_shoulder'), 0] += 6 * sway * (1 if s == 'left' else -1) * p['arms_out']
    _flat_feet(ch, (stand,))
    _lift_leg(ch, free, lift, p['knee_height'], min(1.3 * p['knee_height'], 110))
    return Segment.from_channels(ch, reps=[(10, n - 10)], info=dict(count=1))


_register('balance', 'lower_body', 'balance on one leg with the other knee raised (leg, duration, arms out)')(
    (_balance_sample, _balance))


def _sit_sample(rng):
    return dict(seconds=_r(rng.uniform(0.8, 2.0)), depth=_r(rng.uniform(85, 100)))


def _sit_stand(p, ctx):
    """Sit down (thighs level, as on a chair), stay, stand back up."""
    base = ctx.neutral
    hold = int(p['seconds'] * FPS)
    knee = p['depth']
    seat = pose(base, {'pelvis': (15, 0, 0), 'left_hip': (knee + 8,), 'right_hip': (knee + 8,),
                       'left_knee': (knee,), 'right_knee': (knee,), 'spine2': (5, 0, 0),
                       'left_shoulder': (45, 10, 0), 'right_shoulder': (45, 10, 0),
                       'left_elbow': (35,), 'right_elbow': (35,)})
    lean = pose(seat, {'pelvis': (35, 0, 0), 'left_hip': (knee * 0.7 + 35,), 'right_hip': (knee * 0.7 + 35,),
                       'left_knee': (knee * 0.7,), 'right_knee': (knee * 0.7,)})
    n = 16 + 8 + hold + 8 + 16
    ch = keyframes(n, [(0, base), (12, lean), (24, seat), (24 + hold, seat), (32 + hold, lean), (n - 1, base)])
    _flat_feet(ch)
    return Segment.from_channels(ch, reps=[(0, n)], info=dict(count=1))


_register('sit_down_stand_up', 'whole_body', 'sit down, stay seated, stand back up (duration, depth)')(
    (_sit_sample, _sit_stand))


# ==============================================================================================
# upper body
# ==============================================================================================
def _wave_sample(rng):
    return dict(hand=str(rng.choice(['right', 'right', 'left', 'both'])), count=int(rng.integers(2, 6)),
                amplitude=_r(rng.uniform(15, 35)), height=_r(rng.uniform(95, 150)))


def _wave(p, ctx):
    """Raise the hand to the side with the forearm up (external rotation) and wave it side to side
    by flexing the elbow about its vertical."""
    hands = SIDES if p['hand'] == 'both' else (p['hand'],)
    lift, per = 10, 9  # frames to raise the arm; frames per wave
    n = 2 * lift + per * p['count'] + 4
    t = np.arange(n, dtype=np.float64)
    ch = _base(ctx, n)
    w = ramp(n, lift)
    osc = np.sin(2 * np.pi * (t - lift) / per) * np.clip((t - lift) / 3, 0, 1) * np.clip((n - lift - t) / 3, 0, 1)
    osc = np.where((t >= lift) & (t < n - lift), osc, 0.0)
    elbow = 180 - p['height'] + 10
    for s in hands:
        target = pose(ctx.neutral, {f'{s}_shoulder': (p['height'], 85, 80), f'{s}_elbow': (elbow,),
                                    f'{s}_collar': (8, 0)})
        _blend_to(ch, np.repeat(target[None], n, 0), w, _arm(s))
        ch[:, idx(f'{s}_elbow'), 0] += p['amplitude'] * osc
    reps = _equal_spans(lift, lift + per * p['count'], p['count'])
    return Segment.from_channels(ch, reps=reps, info=dict(count=p['count']))


_register('wave', 'upper_body', 'wave a hand or both hands (hand, count, amplitude, height)')((_wave_sample, _wave))


def _raise_sample(rng):
    return dict(arms=str(rng.choice(['left', 'right', 'both', 'both'])),
                direction=str(rng.choice(['forward', 'side', 'up'])), height=_r(rng.uniform(70, 100)),
                seconds=_r(rng.uniform(0.6, 1.6)))


def _raise_arms(p, ctx):
    arms = SIDES if p['arms'] == 'both' else (p['arms'],)
    hold = int(p['seconds'] * FPS)
    rise = 14
    n = 2 * rise + hold
    elev = {'forward': p['height'], 'side': p['height'], 'up': min(175.0, p['height'] + 80)}[p['direction']]
    azim = {'forward': 0.0, 'side': 90.0, 'up': 20.0}[p['direction']]
    ch = _base(ctx, n)
    w = keyframes(n, [(0, 0.0), (rise, 1.0), (rise + hold, 1.0), (n - 1, 0.0)])
    for s in arms:
        target = pose(ctx.neutral, {f'{s}_shoulder': (elev, azim, 0), f'{s}_elbow': (4,),
                                    f'{s}_collar': (10 if p['direction'] == 'up' else 3, 0)})
        _blend_to(ch, np.repeat(target[None], n, 0), w, _arm(s))
    return Segment.from_channels(ch, reps=[(0, n)], info=dict(count=1))


_register('raise_arms', 'upper_body', 'raise one or both arms forward, sideways or overhead (height, hold)')(
    (_raise_sample, _raise_arms))


def _circles_sample(rng):
    return dict(arms=str(rng.choice(['both', 'both', 'left', 'right'])), count=int(rng.integers(2, 6)),
                direction=str(rng.choice(['forward', 'backward'])), size=_r(rng.uniform(15, 35)))


def _arm_circles(p, ctx):
    arms = SIDES if p['arms'] == 'both' else (p['arms'],)
    rise, per = 10, 14
    n = 2 * rise + per * p['count']
    t = np.arange(n, dtype=np.float64)
    ch = _base(ctx, n)
    w = ramp(n, rise)
    amp = np.clip((t - rise + 4) / 6, 0, 1) * np.clip((n - rise + 4 - t) / 6, 0, 1)
    sign = 1.0 if p['direction'] == 'forward' else -1.0
    ang = 2 * np.pi * (t - rise) / per
    for s in arms:
        target = pose(ctx.neutral, {f'{s}_shoulder': (90, 90, 0), f'{s}_elbow': (5,)})
        _blend_to(ch, np.repeat(target[None], n, 0), w, _arm(s))
        sh = idx(f'{s}_shoulder')
        # the hand draws a circle: elevation and azimuth oscillate a quarter period apart
        ch[:, sh, 0] += p['size'] * amp * np.sin(ang)
        ch[:, sh, 1] += sign * p['size'] * amp * (np.cos(ang) - 1) * 0.9
    return Segment.from_channels(ch, reps=_equal_spans(rise, n - rise, p['count']), info=dict(count=p['count']))


_register('arm_circles', 'upper_body', 'circle the arms held out to the sides (arms, count, direction, size)')(
    (_circles_sample, _arm_circles))


def _clap_sample(rng):
    return dict(count=int(rng.integers(2, 7)), height=str(rng.choice(['chest', 'chest', 'overhead'])))


def _clap(p, ctx):
    rise, per = 10, 8
    n = 2 * rise + per * p['count']
    t = np.arange(n, dtype=np.float64)
    ch = _base(ctx, n)
    w = ramp(n, rise)
    elev = 70.0 if p['height'] == 'chest' else 150.0
    osc = 0.5 - 0.5 * np.cos(2 * np.pi * (t - rise) / per)  # 0 = hands together
    osc = np.where((t >= rise) & (t < n - rise), osc, 0.0)
    for s in SIDES:
        target = pose(ctx.neutral, {f'{s}_shoulder': (elev, -14, -60), f'{s}_elbow': (40,)})
        _blend_to(ch, np.repeat(target[None], n, 0), w, _arm(s))
        ch[:, idx(f'{s}_shoulder'), 1] += 35 * osc
    return Segment.from_channels(ch, reps=_equal_spans(rise, n - rise, p['count']), info=dict(count=p['count']))


_register('clap', 'upper_body', 'clap the hands in front of the chest or overhead (count, height)')(
    (_clap_sample, _clap))


def _punch_sample(rng):
    return dict(hand=str(rng.choice(['left', 'right', 'alternate'])), count=int(rng.integers(2, 6)),
                height=_r(rng.uniform(70, 100)))


def _punch(p, ctx):
    rise, per = 8, 10
    n = 2 * rise + per * p['count']
    base = ctx.neutral
    guard = pose(base, {f'{s}_shoulder': (30, 15, 0) for s in SIDES})
    guard = pose(guard, {f'{s}_elbow': (125,) for s in SIDES})
    guard = pose(guard, {'left_knee': (12,), 'right_knee': (12,), 'left_hip': (10,), 'right_hip': (10,)})
    keys = [(0, base), (rise, guard)]
    reps = []
    for k in range(p['count']):
        hand = p['hand'] if p['hand'] != 'alternate' else ('left', 'right')[k % 2]
        s0 = rise + k * per
        sign = 1 if hand == 'left' else -1
        hit = pose(guard, {f'{hand}_shoulder': (p['height'], -8, 0), f'{hand}_elbow': (4,),
                           'spine3': (None, -sign * 14, None), 'spine2': (None, -sign * 8, None)})
        keys += [(s0 + per * 0.45, hit), (s0 + per - 0.01, guard)]
        reps.append((s0, s0 + per))
    keys.append((n - 1, base))
    ch = keyframes(n, keys)
    _flat_feet(ch)
    return Segment.from_channels(ch, reps=reps, info=dict(count=p['count']))


_register('punch', 'upper_body', 'punch forward from a guard (hand, count, height)')((_punch_sample, _punch))


def _bow_sample(rng):
    return dict(depth=_r(rng.uniform(25, 75)), seconds=_r(rng.uniform(0.4, 1.2)))


def _bow(p, ctx):
    """Bow: the trunk hinges at the hips; the arms keep hanging (their elevation follows the trunk)."""
    d = p['depth']
    hold = int(p['seconds'] * FPS)
    n = 14 + hold + 16
    base = ctx.neutral
    down = pose(base, {'pelvis': (0.5 * d, 0, 0), 'left_hip': (0.5 * d + base[idx('left_hip'), 0],),
                       'right_hip': (0.5 * d + base[idx('right_hip'), 0],),
                       'spine1': (d / 6, 0, 0), 'spine2': (d / 6, 0, 0), 'spine3': (d / 6, 0, 0),
                       'neck': (5, 0, 0), 'head': (5, 0, 0),
                       'left_shoulder': (0.9 * d, 10, 0), 'right_shoulder': (0.9 * d, 10, 0)})
    ch = keyframes(n, [(0, base), (14, down), (14 + hold, down), (n - 1, base)])
    _flat_feet(ch)
    return Segment.from_channels(ch, reps=[(0, n)], info=dict(count=1))


_register('bow', 'upper_body', 'bow forward from the hips (depth, hold)')((_bow_sample, _bow))


def _throw_sample(rng):
    return dict(hand=str(rng.choice(['right', 'right', 'left'])), style=str(rng.choice(['overhand', 'underhand'])))


def _throw(p, ctx):
    hand = p['hand']
    other = other_side(hand)
    sign = 1 if hand == 'left' else -1
    base = ctx.neutral
    n = 44
    if p['style'] == 'overhand':
        wind = pose(base, {f'{hand}_shoulder': (140, 105, 80), f'{hand}_elbow': (95,),
                           f'{other}_shoulder': (80, 10, 0), f'{other}_elbow': (20,),
                           'spine3': (-5, sign * 18, None), 'spine2': (None, sign * 10, None),
                           'pelvis': (None, sign * 10, None)})
        release = pose(base, {f'{hand}_shoulder': (110, 15, 20), f'{hand}_elbow': (15,),
                              f'{other}_shoulder': (25, 20, 0),
                              'spine3': (12, -sign * 12, None), 'spine2': (8, -sign * 8, None),
                              'pelvis': (6, -sign * 8, None)})
        follow = pose(base, {f'{hand}_shoulder': (35, -25, 0), f'{hand}_elbow': (25,),
                             'spine3': (15, -sign * 15, None), 'spine2': (10, -sign * 8, None),
                             'pelvis': (10, -sign * 10, None)})
    else:
        wind = pose(base, {f'{hand}_shoulder': (-45, 5, 0), f'{hand}_elbow': (15,),
                           'spine3': (8, sign * 10, None), 'pelvis': (10, None, None),
                           f'{other}_knee': (20,), f'{hand}_knee': (20,), f'{other}_hip': (20,), f'{hand}_hip': (20,)})
        release = pose(base, {f'{hand}_shoulder': (75, 5, 0), f'{hand}_elbow': (10,),
                              'spine3': (0, -sign * 5, None)})
        follow = pose(base, {f'{hand}_shoulder': (110, 5, 0), f'{hand}_elbow': (10,)})
    ch = keyframes(n, [(0, base), (12, wind), (19, release), (25, follow), (n - 1, base)])
    _flat_feet(ch)
    return Segment.from_channels(ch, reps=[(0, n)], info=dict(count=1))


_register('throw', 'upper_body', 'throw a ball overhand or underhand (hand, style)')((_throw_sample, _throw))


def _shot_sample(rng):
    return dict(hand=str(rng.choice(['right', 'right', 'right', 'left'])), jump=_r(rng.uniform(0.05, 0.25)),
                knee_bend=_r(rng.uniform(45, 70)), elbow_out=_r(rng.uniform(0, 8)),
                release=_r(rng.uniform(150, 165)), follow_through=True)


def _shot(p, ctx):
    """Basketball jump shot: ball at the chest, dip, rise and jump while the shooting arm goes to
    the set point above the forehead, extend the elbow at the top, follow through, land.

    Parameters that learners get wrong: ``knee_bend`` (dip depth), ``elbow_out`` (shooting elbow
    flared out, degrees of azimuth), ``release`` (arm elevation at release), ``follow_through``.
    """
    hand, guide = p['hand'], other_side(p['hand'])
    base = ctx.neutral
    tf = 2 * np.sqrt(2 * max(p['jump'], 0.01) / 9.81) * FPS
    kb = p['knee_bend']
    hip_d, tilt = _squat_angles(np.array(kb))
    hold_ball = {f'{hand}_shoulder': (45, -5 + p['elbow_out'], 0), f'{hand}_elbow': (110,),
                 f'{guide}_shoulder': (45, -5, 0), f'{guide}_elbow': (110,)}
    ready = pose(base, hold_ball)
    dip = pose(ready, {'pelvis': (float(tilt),), 'left_hip': (float(hip_d),), 'right_hip': (float(hip_d),),
                       'left_knee': (kb,), 'right_knee': (kb,)})
    set_pt = pose(base, {f'{hand}_shoulder': (140, 10 + p['elbow_out'], 10), f'{hand}_elbow': (95,),
                         f'{guide}_shoulder': (130, 35, 0), f'{guide}_elbow': (80,),
                         'pelvis': (2,), 'left_knee': (3,), 'right_knee': (3,)})
    rel = pose(set_pt, {f'{hand}_shoulder': (p['release'], 5 + p['elbow_out'], 10), f'{hand}_elbow': (4,),
                        f'{guide}_shoulder': (120, 45, 0)})
    follow = rel if p['follow_through'] else pose(rel, {f'{hand}_shoulder': (100,), f'{hand}_elbow': (60,)})
    takeoff = 20
    land = takeoff + tf
    n = int(np.ceil(land)) + 22
    ch = keyframes(n, [(0, base), (6, ready), (14, dip), (takeoff, set_pt), (takeoff + tf * 0.55, rel),
                       (land, follow), (land + 5, pose(follow, {'left_knee': (30,), 'right_knee': (30,),
                                                               'left_hip': (25,), 'right_hip': (25,)})),
                       (land + 12, follow), (n - 1, base)])
    _flat_feet(ch)
    airborne = ballistic(n, takeoff, tf)
    for s in SIDES:
        ch[:, idx(f'{s}_ankle'), 0] -= 25 * bump(np.arange(n), takeoff - 4, land + 3)
    return Segment.from_channels(ch, airborne=airborne, reps=[(0, n)], info=dict(count=1))


_register('jump_shot', 'whole_body', 'basketball jump shot (hand, jump, knee bend, elbow, release, follow-through)')(
    (_shot_sample, _shot))


def _dribble_sample(rng):
    return dict(hand=str(rng.choice(['right', 'right', 'left'])), count=int(rng.integers(3, 9)),
                steps=int(rng.choice([0, 0, 2, 4])), step_length=_r(rng.uniform(0.35, 0.55)),
                stance=_r(rng.uniform(20, 35)), bounce=_r(rng.uniform(20, 35)))


def _dribble(p, ctx):
    """Dribble a ball at hip height in an athletic stance, optionally walking; ``bounce`` is the
    arm's pumping range (deg), ``step_length`` the stride when walking."""
    hand = p['hand']
    per = 10  # frames per bounce
    n = per * p['count'] + 16
    t = np.arange(n, dtype=np.float64)
    if p['steps'] > 0:
        cadence = max(1.2, p['steps'] / ((n - 16) / FPS))
        reach = 0.985 - 0.002 * p['stance']
        seg = gait(ctx, n, (0.0, p['step_length'] * cadence), cadence, duty=0.6, clearance=0.08,
                   reach=reach, lean=8, arm_amp=8, ramp_frames=8)
        ch = seg.channels
    else:
        ch = _base(ctx, n)
        env = ramp(n, 8)
        hip, tilt = _squat_angles(p['stance'] * env)
        ch[:, 0, 0] += tilt
        for s in SIDES:
            ch[:, idx(f'{s}_hip'), 0] += hip
            ch[:, idx(f'{s}_knee'), 0] += p['stance'] * env
        _flat_feet(ch)
    env = ramp(n, 8)
    osc = np.sin(2 * np.pi * (t - 8) / per) * np.clip((t - 5) / 4, 0, 1) * np.clip((n - 5 - t) / 4, 0, 1)
    target = pose(ctx.neutral, {f'{hand}_shoulder': (30, 35, -10), f'{hand}_elbow': (55,)})
    _blend_to(ch, np.repeat(target[None], n, 0), env, _arm(hand))
    ch[:, idx(f'{hand}_elbow'), 0] += p['bounce'] * osc
    ch[:, idx(f'{hand}_shoulder'), 0] += 0.4 * p['bounce'] * osc
    ch[:, idx('spine2'), 0] += 6 * env
    return Segment.from_channels(ch, reps=_equal_spans(8, n - 8, p['count']), info=dict(count=p['count']))


_register('dribble', 'whole_body', 'dribble a ball in place or while walking (hand, bounces, steps)')(
    (_dribble_sample, _dribble))


# ==============================================================================================
# trunk, stretches, idle
# ==============================================================================================
def _stand_sample(rng):
    return dict(seconds=_r(rng.uniform(1.0, 3.0)))


def _stand(p, ctx):
    n = int(p['seconds'] * FPS)
    ch = _base(ctx, n)
    t = np.arange(n)
    ch[:, 0, 2] += 1.2 * np.sin(2 * np.pi * t / 53.0)  # weight shift
    ch[:, idx('spine2'), 2] -= 1.0 * np.sin(2 * np.pi * t / 53.0)
    return Segment.from_channels(ch, reps=[(0, n)], info=dict(count=1))


_register('stand', 'whole_body', 'stand still (duration)')((_stand_sample, _stand))


def _toe_sample(rng):
    return dict(count=int(rng.integers(1, 3)), depth=_r(rng.uniform(70, 90)))


def _toe_touch(p, ctx):
    """Bend forward with straight legs and reach towards the toes."""
    per = 40
    n = per * p['count'] + 4
    base = ctx.neutral
    d = p['depth']
    down = pose(base, {'pelvis': (0.75 * d, 0, 0), 'left_hip': (0.75 * d,), 'right_hip': (0.75 * d,),
                       'spine1': (0.08 * d,), 'spine2': (0.1 * d,), 'spine3': (0.07 * d,), 'neck': (10,),
                       'left_shoulder': (d + 8, 5, 0), 'right_shoulder': (d + 8, 5, 0),
                       'left_elbow': (5,), 'right_elbow': (5,), 'left_knee': (0,), 'right_knee': (0,)})
    keys = [(0, base)]
    reps = []
    for k in range(p['count']):
        s0 = 2 + k * per
        keys += [(s0 + 15, down), (s0 + 22, down), (s0 + per - 1, base)]
        reps.append((s0, s0 + per))
    ch = keyframes(n, keys)
    _flat_feet(ch)
    return Segment.from_channels(ch, reps=reps, info=dict(count=p['count']))


_register('toe_touch', 'whole_body', 'bend forward and touch the toes (count, depth)')((_toe_sample, _toe_touch))


def _side_bend_sample(rng):
    return dict(side=str(rng.choice(['left', 'right', 'both'])), count=int(rng.integers(1, 4)),
                angle=_r(rng.uniform(25, 40)))


def _side_bend(p, ctx):
    """Lean the trunk to the side with the opposite arm arched overhead."""
    per = 30
    sides = ['left', 'right'] if p['side'] == 'both' else [p['side']]
    reps_n = p['count'] * len(sides)
    n = per * reps_n + 4
    base = ctx.neutral
    keys = [(0, base)]
    reps = []
    for k in range(reps_n):
        s = sides[k % len(sides)]
        o = other_side(s)
        sign = 1 if s == 'left' else -1
        a = p['angle']
        bent = pose(base, {'spine1': (None, None, sign * a / 3), 'spine2': (None, None, sign * a / 3),
                           'spine3': (None, None, sign * a / 3), 'pelvis': (None, None, sign * 3),
                           f'{o}_shoulder': (165, 80, 0), f'{o}_elbow': (20,), f'{s}_shoulder': (10, 80, 0)})
        s0 = 2 + k * per
        keys += [(s0 + 12, bent), (s0 + 17, bent), (s0 + per - 1, base)]
        reps.append((s0, s0 + per))
    ch = keyframes(n, keys)
    _flat_feet(ch)
    return Segment.from_channels(ch, reps=reps, info=dict(count=reps_n))


_register('side_bend', 'upper_body', 'bend the trunk sideways with an arm overhead (side, count, angle)')(
    (_side_bend_sample, _side_bend))


def _twist_sample(rng):
    return dict(count=int(rng.integers(2, 5)), angle=_r(rng.uniform(25, 45)))


def _torso_twist(p, ctx):
    """Rotate the trunk left and right with the arms held out to the sides."""
    per = 24
    rise = 10
    n = 2 * rise + per * p['count']
    t = np.arange(n, dtype=np.float64)
    ch = _base(ctx, n)
    w = ramp(n, rise)
    for s in SIDES:
        target = pose(ctx.neutral, {f'{s}_shoulder': (85, 90, 0), f'{s}_elbow': (8,)})
        _blend_to(ch, np.repeat(target[None], n, 0), w, _arm(s))
    osc = np.sin(2 * np.pi * (t - rise) / per) * np.clip((t - rise + 3) / 5, 0, 1) * np.clip((n - rise + 3 - t) / 5, 0, 1)
    osc = np.where((t > rise - 3) & (t < n - rise + 3), osc, 0)
    for j, f in (('spine1', 0.3), ('spine2', 0.35), ('spine3', 0.35)):
        ch[:, idx(j), 1] += f * p['angle'] * osc
    ch[:, 0, 1] += 0.15 * p['angle'] * osc
    ch[:, idx('head'), 1] += 0.2 * p['angle'] * osc
    return Segment.from_channels(ch, reps=_equal_spans(rise, n - rise, p['count']), info=dict(count=p['count']))


_register('torso_twist', 'upper_body', 'twist the trunk left and right with arms out (count, angle)')(
    (_twist_sample, _torso_twist))


def _stretch_sample(rng):
    return dict(seconds=_r(rng.uniform(0.6, 1.6)), tiptoe=bool(rng.random() < 0.5))


def _stretch_up(p, ctx):
    """Reach both arms overhead (optionally rising onto the toes), hold, come down."""
    hold = int(p['seconds'] * FPS)
    n = 16 + hold + 16
    base = ctx.neutral
    up = pose(base, {'left_shoulder': (172, 25, 0), 'right_shoulder': (172, 25, 0), 'left_elbow': (4,),
                     'right_elbow': (4,), 'left_collar': (15, 0), 'right_collar': (15, 0), 'neck': (-10,),
                     'spine3': (-5,)})
    ch = keyframes(n, [(0, base), (16, up), (16 + hold, up), (n - 1, base)])
    _flat_feet(ch)
    if p['tiptoe']:
        w = keyframes(n, [(0, 0.0), (16, 1.0), (16 + hold, 1.0), (n - 1, 0.0)])
        for s in SIDES:
            ch[:, idx(f'{s}_ankle'), 0] -= 35 * w
    return Segment.from_channels(ch, reps=[(0, n)], info=dict(count=1))


_register('stretch_up', 'upper_body', 'reach both arms overhead, optionally on tiptoe (hold, tiptoe)')(
    (_stretch_sample, _stretch_up))


def _nod_sample(rng):
    return dict(count=int(rng.integers(2, 5)), kind=str(rng.choice(['nod', 'shake'])))


def _head_gesture(p, ctx):
    per = 12
    n = per * p['count'] + 8
    t = np.arange(n, dtype=np.float64)
    ch = _base(ctx, n)
    osc = np.sin(2 * np.pi * (t - 4) / per) * np.clip((t - 1) / 4, 0, 1) * np.clip((n - 1 - t) / 4, 0, 1)
    osc = np.where((t > 1) & (t < n - 1), osc, 0.0)
    if p['kind'] == 'nod':
        ch[:, idx('neck'), 0] += 12 * osc + 8 * ramp(n, 4)
        ch[:, idx('head'), 0] += 10 * osc
    else:
        ch[:, idx('neck'), 1] += 18 * osc
        ch[:, idx('head'), 1] += 18 * osc
    return Segment.from_channels(ch, reps=_equal_spans(4, n - 4, p['count']), info=dict(count=p['count']))


_register('head_gesture', 'upper_body', 'nod or shake the head (count, nod/shake)')((_nod_sample, _head_gesture))
