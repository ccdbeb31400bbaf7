"""Building blocks of SynthMotion primitives: time profiles, keyframed poses, planar leg IK and the
:class:`Segment` a primitive returns.

All curves are C1-smooth or better (quintic smoothstep between keyframes, raised-cosine bumps,
sinusoids under smooth envelopes), which keeps joint jerk bounded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .body import BodyShape, idx

FPS = 20

__all__ = ['FPS', 'Segment', 'Context', 'smoothstep', 'ramp', 'bump', 'keyframes', 'pose',
           'leg_ik', 'flat_foot_dorsiflexion', 'ballistic', 'other_side']


def other_side(side: str) -> str:
    """'left' <-> 'right'."""
    if side not in ('left', 'right'):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return 'right' if side == 'left' else 'left'


@dataclass
class Context:
    """What a primitive may depend on besides its parameters.

    Attributes:
        body: the subject.
        neutral: ``(22, 3)`` the subject's relaxed standing channels.
        style: per-subject style numbers in [-1, 1] (e.g. 'energy', 'arm_swing').
    """
    body: BodyShape
    neutral: np.ndarray
    style: dict = field(default_factory=dict)

    @property
    def thigh(self) -> float:
        return float(np.linalg.norm(self.body.offsets[idx('left_knee')]))

    @property
    def shank(self) -> float:
        return float(np.linalg.norm(self.body.offsets[idx('left_ankle')]))


@dataclass
class Segment:
    """The output of one primitive (one event).

    Attributes:
        channels: ``(n, 22, 3)`` anatomical channels in degrees (absolute, not deltas).
        yaw_rate: ``(n,)`` heading change per frame (degrees, + = turn left).
        airborne: ``(n,)`` extra height of the whole body above the ground contact (m), > 0 in flight.
        flight_velocity: ``(n, 2)`` horizontal root velocity while no foot touches the ground, in the
            heading frame (x = left, z = forward), metres per frame.
        reps: ``[(start, end), ...]`` frame spans (end exclusive) of the counted repetitions.
        info: resolved facts for the manifest (count, distance, ...); JSON-serialisable.
    """
    channels: np.ndarray
    yaw_rate: np.ndarray
    airborne: np.ndarray
    flight_velocity: np.ndarray
    reps: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.channels.shape[0])

    @classmethod
    def from_channels(cls, channels: np.ndarray, **kwargs) -> 'Segment':
        n = channels.shape[0]
        kwargs.setdefault('yaw_rate', np.zeros(n))
        kwargs.setdefault('airborne', np.zeros(n))
        kwargs.setdefault('flight_velocity', np.zeros((n, 2)))
        return cls(channels=channels, **kwargs)


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Quintic smoothstep ``6x^5 - 15x^4 + 10x^3`` on [0, 1] (zero 1st and 2nd derivative at ends)."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x * x * x * (x * (6 * x - 15) + 10)


def ramp(n: int, rise: float, fall: float | None = None) -> np.ndarray:
    """``(n,)`` envelope: 0 -> 1 over ``rise`` frames, 1, then 1 -> 0 over the last ``fall`` frames."""
    fall = rise if fall is None else fall
    t = np.arange(n, dtype=np.float64)
    up = smoothstep(t / max(rise, 1e-6)) if rise > 0 else np.ones(n)
    down = smoothstep((n - 1 - t) / max(fall, 1e-6)) if fall > 0 else np.ones(n)
    return np.minimum(up, down)


def bump(t: np.ndarray, start: float, end: float) -> np.ndarray:
    """Raised-cosine bump: 0 outside [start, end], 1 at the middle."""
    t = np.asarray(t, dtype=np.float64)
    x = (t - start) / max(end - start, 1e-6)
    out = 0.5 - 0.5 * np.cos(2 * np.pi * np.clip(x, 0, 1))
    return np.where((x > 0) & (x < 1), out, 0.0)


def keyframes(n: int, keys: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """Interpolate values between keyframes with a quintic smoothstep (zero velocity at keys).

    Args:
        n: number of output frames.
        keys: ``[(frame, value), ...]`` sorted by frame; values share one shape. Frames before the
            first key hold its value, frames after the last hold the last.

    Returns:
        ``(n, *value.shape)``.
    """
    frames = np.array([k[0] for k in keys], dtype=np.float64)
    values = np.stack([np.asarray(k[1], dtype=np.float64) for k in keys])
    if np.any(np.diff(frames) <= 0):
        raise ValueError(f'keyframes: frames must increase, got {frames.tolist()}')
    t = np.arange(n, dtype=np.float64)
    seg = np.clip(np.searchsorted(frames, t, side='right') - 1, 0, len(frames) - 1)
    nxt = np.minimum(seg + 1, len(frames) - 1)
    span = np.maximum(frames[nxt] - frames[seg], 1e-6)
    w = smoothstep((t - frames[seg]) / span)
    w = np.where(nxt == seg, 0.0, w)
    w = w.reshape((n,) + (1,) * (values.ndim - 1))
    return values[seg] * (1 - w) + values[nxt] * w


def pose(base: np.ndarray, overrides: Mapping[str, Sequence[float | None]]) -> np.ndarray:
    """A copy of ``base`` (``(22, 3)`` channels) with some channels replaced.

    ``overrides`` maps joint names to 1-3 values; ``None`` keeps the base value.
    """
    out = np.array(base, dtype=np.float64, copy=True)
    for name, vals in overrides.items():
        j = idx(name)
        for c, v in enumerate(vals):
            if v is not None:
                out[j, c] = v
    return out


def leg_ik(forward: np.ndarray, down: np.ndarray, thigh: float, shank: float,
           pelvis_flexion: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planar (sagittal) two-link leg IK.

    Args:
        forward: ``(n,)`` ankle position ahead of the hip joint (m).
        down: ``(n,)`` ankle position below the hip joint (m, > 0).
        thigh, shank: segment lengths.
        pelvis_flexion: forward tilt of the pelvis (degrees) that the hip flexion is relative to.

    Returns:
        ``(hip_flexion, knee_flexion, ankle_dorsiflexion)`` in degrees, the last keeping the foot
        flat on the floor.
    """
    forward = np.asarray(forward, dtype=np.float64)
    down = np.asarray(down, dtype=np.float64)
    dist = np.clip(np.hypot(forward, down), abs(thigh - shank) + 1e-6, (thigh + shank) * 0.9999)
    cos_knee = (thigh ** 2 + shank ** 2 - dist ** 2) / (2 * thigh * shank)
    knee = 180.0 - np.degrees(np.arccos(np.clip(cos_knee, -1, 1)))
    cos_a = (thigh ** 2 + dist ** 2 - shank ** 2) / (2 * thigh * dist)
    alpha = np.degrees(np.arccos(np.clip(cos_a, -1, 1)))  # thigh ahead of the hip-ankle line
    line = np.degrees(np.arctan2(forward, down))  # hip-ankle line ahead of straight down
    thigh_global = line + alpha
    hip = thigh_global + np.asarray(pelvis_flexion, dtype=np.float64)
    dorsi = flat_foot_dorsiflexion(pelvis_flexion, hip, knee)
    return hip, knee, dorsi


def flat_foot_dorsiflexion(pelvis_flexion, hip_flexion, knee_flexion) -> np.ndarray:
    """Ankle dorsiflexion that keeps the foot level given the sagittal angles above it.

    The foot's pitch is ``pelvis - hip + knee - dorsi`` (see ``body._AXES``), so level means
    ``dorsi = pelvis - hip + knee``; the ankle limit (30 deg) then lifts the heel, as in push-off.
    """
    return np.clip(np.asarray(pelvis_flexion) - np.asarray(hip_flexion) + np.asarray(knee_flexion),
                   -45.0, 28.0)


def ballistic(n: int, takeoff: float, flight_frames: float) -> np.ndarray:
    """``(n,)`` height of a parabolic flight of ``flight_frames`` starting at frame ``takeoff``;
    the peak is ``g t_f^2 / 8``."""
    g = 9.81 / FPS ** 2  # m / frame^2
    t = np.arange(n, dtype=np.float64) - takeoff
    h = 0.5 * g * t * (flight_frames - t)
    return np.where((t > 0) & (t < flight_frames), h, 0.0)
