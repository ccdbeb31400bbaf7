"""Footstep-planned locomotion: foot trajectories first, leg angles by inverse kinematics.

Stepping primitives (walk, jog, run, side steps, turning and marching in place) plan where each
ankle is in the *heading frame* (x = left, y = up, z = forward, origin on the floor under the
pelvis's start): a stance foot stays where it landed, a swing foot first lifts, then travels on a
smooth arc to its next footprint. The pelvis moves along its own path, its height chosen so that
both legs can reach their feet, and a closed-form 3D two-link IK turns every (hip -> ankle) vector
into hip flexion / abduction and knee flexion, with the ankle keeping the foot level. Because a
stance foot never moves in the plan, the generator's foot lock has nothing to correct and the
planted feet do not skate.
"""
from __future__ import annotations

import numpy as np

from .animation import FPS, Context, smoothstep
from .body import channels_to_quaternions, idx

__all__ = ['StepPlan', 'plan_steps', 'legs_from_feet', 'pelvis_height_for_reach', 'hip_positions']

SIDES = ('left', 'right')


class StepPlan:
    """Ankle targets ``(n, 2, 3)`` (left, right) in the heading frame and stance flags ``(n, 2)``."""

    def __init__(self, ankles: np.ndarray, stance: np.ndarray, steps: int, spans: list):
        self.ankles, self.stance, self.steps, self.spans = ankles, stance, steps, spans


def plan_steps(pelvis_xz: np.ndarray, cadence: float, duty: float, clearance: float | np.ndarray,
               ankle_height: float, half_width: float, lift_frac: float | None = None,
               lateral_steps: np.ndarray | None = None, first: str = 'left') -> StepPlan:
    """Plan alternating steps that follow a pelvis path.

    Each foot lands at the pelvis's position at the middle of its coming stance (so the pelvis
    passes over it), offset sideways by ``half_width``.

    Args:
        pelvis_xz: ``(n, 2)`` pelvis path (x lateral, z forward) in the heading frame.
        cadence: steps per second (both feet together: a cycle is 2 steps).
        duty: fraction of a cycle a foot is on the floor (> 0.5 gives double support).
        clearance: swing height of the ankle above its rest height (m), scalar or ``(n,)``.
        ankle_height: rest ankle height.
        half_width: lateral distance of each foot from the pelvis line.
        lift_frac: part of the swing at the start and at the end spent lifting / lowering the foot
            with no horizontal motion (keeps a foot that is close to the floor from sliding).
            Default: the fraction at which the foot is 2.5 cm up (at most 0.25), so fast gaits with
            high clearance keep most of the swing for travelling.
        first: the foot that swings first.

    Returns:
        :class:`StepPlan`.
    """
    n = len(pelvis_xz)
    t = np.arange(n, dtype=np.float64)
    cyc = cadence / 2.0 / FPS  # cycles per frame
    clearance = np.broadcast_to(np.asarray(clearance, dtype=np.float64), (n,))
    if lift_frac is None:
        c = max(float(np.median(clearance)), 1e-3)
        lift_frac = float(min(0.25, np.arcsin(np.sqrt(min(1.0, 0.025 / c))) / np.pi))
    ankles = np.zeros((n, 2, 3))
    stance = np.zeros((n, 2), dtype=bool)
    spans = []

    def path_at(frame):
        f = np.clip(frame, 0, n - 1)
        lo = np.floor(f).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        w = (f - lo)[..., None] if np.ndim(f) else f - lo
        return pelvis_xz[lo] * (1 - w) + pelvis_xz[hi] * w

    for k, side in enumerate(SIDES):
        sign = 1.0 if side == 'left' else -1.0
        # the first swing of `first` starts at frame 0 + a short settle; the other foot half a cycle later
        offset = (0 if side == first else 0.5)
        u = t * cyc - offset  # cycles since this foot's first lift-off (negative: before)
        cycle_len = 1.0 / cyc
        swing_len = (1.0 - duty) * cycle_len
        # stance intervals: [c*cycle_len + swing_len, (c+1)*cycle_len) in frames from the first lift,
        # plus an initial stance before the first lift.
        lifts = np.arange(-1, int(np.ceil(n * cyc)) + 2)
        prints = []
        for c in lifts:
            s0 = offset * cycle_len + c * cycle_len + swing_len  # landing frame of swing c
            s1 = s0 + duty * cycle_len  # next lift-off
            mid = (s0 + s1) / 2
            prints.append((s0, s1, path_at(mid)))
        # initial stance: from -inf to first lift-off at offset*cycle_len; footprint = start position
        first_lift = offset * cycle_len
        start_print = pelvis_xz[0]
        pos = np.zeros((n, 3))
        st = np.zeros(n, dtype=bool)
        prev_end, prev_print = first_lift, start_print
        for (s0, s1, fp) in prints:
            if s0 <= first_lift:
                continue
            if s1 >= n - 1:  # the last stance lasts to the end: land under the final pelvis position
                fp = pelvis_xz[-1]
            # swing from prev_end to s0
            sw = (t >= prev_end) & (t < s0)
            w = (t[sw] - prev_end) / max(s0 - prev_end, 1e-6)
            wh = smoothstep((w - lift_frac) / (1 - 2 * lift_frac))
            pos[sw, 0] = prev_print[0] + (fp[0] - prev_print[0]) * wh
            pos[sw, 2] = prev_print[1] + (fp[1] - prev_print[1]) * wh
            pos[sw, 1] = np.sin(np.pi * w) ** 2 * clearance[sw]
            if prev_end < n and s0 > 0:
                a, b = int(np.clip(np.ceil(prev_end), 0, n)), int(np.clip(np.ceil(s0), 0, n))
                if b > a:
                    spans.append((a, b))
            # stance from s0 to s1
            stn = (t >= s0) & (t < s1)
            pos[stn, 0], pos[stn, 2] = fp[0], fp[1]
            st[stn] = True
            prev_end, prev_print = s1, fp
            if s0 > n:
                break
        before = t < first_lift
        pos[before, 0], pos[before, 2] = start_print[0], start_print[1]
        st[before] = True
        pos[:, 0] += sign * half_width
        pos[:, 1] += ankle_height
        ankles[:, k] = pos
        stance[:, k] = st
    spans.sort()
    # a swing whose foot barely travels and barely lifts is not a step
    return StepPlan(ankles, stance, len(spans), spans)


def hip_positions(pelvis_channels: np.ndarray, pelvis_pos: np.ndarray, ctx: Context) -> np.ndarray:
    """``(n, 2, 3)`` hip joint positions given the pelvis channels (tilt/twist/lateral) and position."""
    from motionkit.motion.quaternion import qrot
    ch = np.zeros((len(pelvis_channels), 22, 3))
    ch[:, 0] = pelvis_channels
    q0 = channels_to_quaternions(ch)[:, 0]
    off = ctx.body.offsets[[idx('left_hip'), idx('right_hip')]]
    return pelvis_pos[:, None, :] + qrot(q0[:, None, :], np.broadcast_to(off, (len(q0), 2, 3)))


def neutral_half_width(ctx: Context) -> float:
    """Lateral distance of an ankle from the pelvis in the subject's neutral standing pose."""
    from .body import forward_kinematics_parents
    q = channels_to_quaternions(ctx.neutral[None])
    pos = forward_kinematics_parents(q, ctx.body.offsets, np.zeros((1, 3)))
    return float(pos[0, idx('left_ankle'), 0])


def pelvis_height_for_reach(ankles: np.ndarray, pelvis_xz: np.ndarray, ctx: Context, reach: float,
                            tau: float = 0.006) -> np.ndarray:
    """Pelvis height at which both hips are at most ``reach`` x (thigh + shank) from their ankles
    (soft minimum over the legs, so it is smooth and never higher than reachable)."""
    leg = ctx.thigh + ctx.shank
    hip_off = ctx.body.offsets[idx('left_hip')]
    heights = []
    for k, sign in ((0, 1.0), (1, -1.0)):
        dx = ankles[:, k, 0] - (pelvis_xz[:, 0] + sign * hip_off[0])
        dz = ankles[:, k, 2] - (pelvis_xz[:, 1] + hip_off[2])
        horiz2 = np.minimum(dx ** 2 + dz ** 2, (0.98 * reach * leg) ** 2)
        heights.append(ankles[:, k, 1] + np.sqrt((reach * leg) ** 2 - horiz2) - hip_off[1])
    a, b = heights
    m = np.minimum(a, b)
    return m - tau * np.log(np.exp(-(a - m) / tau) + np.exp(-(b - m) / tau))


def _rest_angle(v: np.ndarray) -> float:
    """Forward angle (deg) of a rest bone that points down."""
    return float(np.degrees(np.arctan2(v[2], -v[1])))


def legs_from_feet(ch: np.ndarray, ankles: np.ndarray, pelvis_pos: np.ndarray, ctx: Context) -> None:
    """Write hip (flexion, abduction), knee flexion and a level-foot ankle into ``ch`` (in place)
    so that the ankles reach ``ankles`` (heading frame) from a pelvis at ``pelvis_pos``.

    The pelvis's own channels (``ch[:, 0]``) are taken into account: the hip-to-ankle vector is
    expressed in the pelvis frame before solving.
    """
    from motionkit.motion.quaternion import qinv, qrot
    n = len(ch)
    pch = np.zeros((n, 22, 3))
    pch[:, 0] = ch[:, 0]
    q0 = channels_to_quaternions(pch)[:, 0]
    hips = hip_positions(ch[:, 0], pelvis_pos, ctx)
    off = ctx.body.offsets
    th_v, sk_v = off[idx('left_knee')], off[idx('left_ankle')]
    thigh, shank = float(np.linalg.norm(th_v)), float(np.linalg.norm(sk_v))
    th_rest, sk_rest = _rest_angle(th_v), _rest_angle(sk_v)
    for k, side in enumerate(SIDES):
        v = qrot(qinv(q0), ankles[:, k] - hips[:, k])  # in the pelvis frame
        out = v[:, 0] if side == 'left' else -v[:, 0]
        down, fwd = -v[:, 1], v[:, 2]
        abd = np.degrees(np.arctan2(out, down))
        d = np.hypot(out, down)
        dist = np.clip(np.hypot(fwd, d), abs(thigh - shank) + 1e-6, (thigh + shank) * 0.99999)
        cos_knee = (thigh ** 2 + shank ** 2 - dist ** 2) / (2 * thigh * shank)
        inner = np.degrees(np.arccos(np.clip(cos_knee, -1, 1)))
        cos_a = (thigh ** 2 + dist ** 2 - shank ** 2) / (2 * thigh * dist)
        alpha = np.degrees(np.arccos(np.clip(cos_a, -1, 1)))
        line = np.degrees(np.arctan2(fwd, d))
        thigh_fwd = line + alpha  # thigh direction ahead of straight down (in the abducted plane)
        shank_fwd = thigh_fwd - (180.0 - inner)
        # rest bones are not exactly vertical: subtract their rest angles
        hip = thigh_fwd - th_rest
        knee = (thigh_fwd - th_rest) - (shank_fwd - sk_rest)
        h, kn, an = idx(f'{side}_hip'), idx(f'{side}_knee'), idx(f'{side}_ankle')
        ch[:, h, 0], ch[:, h, 1] = hip, abd
        ch[:, kn, 0] = knee
        ch[:, an, 0] = np.clip(ch[:, 0, 0] - hip + knee, -45.0, 28.0)
        # level the foot sideways too: undo the hip abduction and the pelvis's lateral tilt
        ch[:, an, 1] = -abd + (ch[:, 0, 2] if side == 'left' else -ch[:, 0, 2])
