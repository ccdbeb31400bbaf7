"""BVH (Biovision Hierarchy) reader and forward kinematics for any skeleton.

A BVH file has a ``HIERARCHY`` block (``ROOT`` / ``JOINT`` / ``End Site`` with ``OFFSET`` and
``CHANNELS``) and a ``MOTION`` block (``Frames:``, ``Frame Time:``, then one row of channel values
per frame, in the order the channels are declared, depth first). This module reads any such file
(channels in any order and number per joint, any Euler rotation order), turns the rotation channels
into local quaternions and computes global joint positions by forward kinematics, vectorised over
frames with numpy.

Conventions (Meredith & Maddock, "Motion capture file formats explained", 2001):

* ``CHANNELS 3 Zrotation Yrotation Xrotation`` means the local rotation is ``Rz @ Ry @ Rx`` (the
  rotations are composed in the listed order, acting on column vectors), angles in degrees.
* A joint's global transform is ``parent_global @ [R_local | t_local]`` where ``t_local`` is its
  ``OFFSET``. When a joint also has position channels (the root always; every joint in Bandai
  Namco's files), the channel values *replace* the corresponding offset components
  (``translation='replace'``, what Bandai's files need: their per-joint position channels repeat the
  offsets). ``translation='add'`` adds them to the offset instead.
* ``End Site`` blocks carry no channels; their offsets give the tip of the last bone (e.g. toe tip,
  head top) and are returned as extra points named ``<parent>_end``.

Units are whatever the file uses (no scaling here; see :mod:`.retarget`).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from motionkit.motion.geometry import resample
from motionkit.motion.quaternion import qmul, quaternion_to_matrix

__all__ = ['FRAME_TIME_RANGE', 'BVHMotion', 'read_bvh', 'parse_bvh', 'bvh_local_rotations',
           'bvh_forward_kinematics', 'resample_bvh', 'euler_to_quaternion']

#: Plausible seconds per frame: 1000 fps (fast optical capture) to 1 fps. A value outside (e.g. a
#: ``Frame Time: 1e-9`` typo) would make resampling to 20 fps collapse or blow up the clip silently
#: (2,752 frames at 1e-9 s last 2.8 microseconds: one output frame).
FRAME_TIME_RANGE = (1e-3, 1.0)

_ROTATION_CHANNELS = {'xrotation': 0, 'yrotation': 1, 'zrotation': 2}
_POSITION_CHANNELS = {'xposition': 0, 'yposition': 1, 'zposition': 2}


@dataclass
class BVHMotion:
    """The content of one BVH file.

    Attributes:
        path: File the motion was read from (used in error messages).
        joint_names: ``J`` joint names (``ROOT`` and ``JOINT``), depth-first file order.
        parents: ``(J,)`` parent index per joint, ``-1`` for the root.
        offsets: ``(J, 3)`` rest offsets from the parent joint (file units).
        channels: per joint, its channel names as written (e.g. ``('Zrotation', 'Yrotation', ...)``).
        end_sites: ``(parent_index, (3,) offset)`` for every ``End Site``.
        frame_time: seconds per frame actually used (``1 / fps``; may be overridden).
        header_frame_time: ``Frame Time`` as written in the file.
        motion: ``(T, C)`` channel values, one row per frame (``C = sum of channel counts``).
    """

    path: str
    joint_names: tuple[str, ...]
    parents: np.ndarray
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    end_sites: tuple[tuple[int, np.ndarray], ...]
    frame_time: float
    header_frame_time: float
    motion: np.ndarray
    _columns: tuple[int, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        starts, c = [], 0
        for ch in self.channels:
            starts.append(c)
            c += len(ch)
        self._columns = tuple(starts)

    # ------------------------------------------------------------------------------------------
    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def num_channels(self) -> int:
        return sum(len(c) for c in self.channels)

    @property
    def fps(self) -> float:
        """Frame rate used (``1 / frame_time``)."""
        return 1.0 / self.frame_time

    @property
    def header_fps(self) -> float:
        """Frame rate the file's header declares."""
        return 1.0 / self.header_frame_time

    @property
    def end_site_names(self) -> tuple[str, ...]:
        """``<parent>_end`` name of every end site, in file order."""
        return tuple(f'{self.joint_names[p]}_end' for p, _ in self.end_sites)

    @property
    def point_names(self) -> tuple[str, ...]:
        """Joint names followed by end-site names (the points of ``forward_kinematics(..., True)``)."""
        return self.joint_names + self.end_site_names

    def index(self, name: str) -> int:
        """Index of joint ``name`` (ValueError naming the file and the joints when absent)."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise ValueError(f'{self.path}: no joint {name!r}; joints: {list(self.joint_names)}') from None

    def column(self, joint: int | str, channel: str) -> int:
        """Column in :attr:`motion` of ``channel`` (e.g. ``'Xrotation'``) of ``joint``."""
        j = self.index(joint) if isinstance(joint, str) else joint
        lowered = [c.lower() for c in self.channels[j]]
        if channel.lower() not in lowered:
            raise ValueError(f'{self.path}: joint {self.joint_names[j]!r} has no channel {channel!r} '
                             f'(channels: {list(self.channels[j])})')
        return self._columns[j] + lowered.index(channel.lower())

    def with_fps(self, fps: float) -> 'BVHMotion':
        """A copy whose frames are ``1 / fps`` seconds apart (the header value is kept aside)."""
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f'{self.path}: fps must be finite and > 0, got {fps}')
        lo, hi = FRAME_TIME_RANGE
        if not lo <= 1.0 / fps <= hi:
            raise ValueError(f'{self.path}: fps {fps:g} is outside the plausible range '
                             f'[{1 / hi:g}, {1 / lo:g}] frames per second')
        return replace(self, frame_time=1.0 / float(fps))

    def drop_frames(self, start: int = 0, stop: int | None = None) -> 'BVHMotion':
        """A copy holding frames ``[start, stop)`` (e.g. ``start=1`` drops an added T-pose frame)."""
        motion = self.motion[start:stop]
        if motion.shape[0] == 0:
            raise ValueError(f'{self.path}: dropping frames [{start}, {stop}) of {self.num_frames} leaves none')
        return replace(self, motion=motion)

    def local_rotations(self) -> np.ndarray:
        """``(T, J, 4)`` local joint rotations as unit quaternions (w, x, y, z)."""
        return bvh_local_rotations(self)

    def local_translations(self, translation: str = 'replace') -> np.ndarray:
        """``(T, J, 3)`` local joint translations: offsets, with position channels applied."""
        if translation not in ('replace', 'add'):
            raise ValueError(f"translation must be 'replace' or 'add', got {translation!r}")
        out = np.broadcast_to(self.offsets, (self.num_frames, self.num_joints, 3)).copy()
        for j, chans in enumerate(self.channels):
            for k, name in enumerate(chans):
                axis = _POSITION_CHANNELS.get(name.lower())
                if axis is None:
                    continue
                values = self.motion[:, self._columns[j] + k]
                if translation == 'replace':
                    out[:, j, axis] = values
                else:
                    out[:, j, axis] += values
        return out


# ----------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------
def _error(path: str, line_no: int, msg: str) -> ValueError:
    return ValueError(f'{path}, line {line_no}: {msg}')


def parse_bvh(text: str, path: str = '<string>', fps: float | None = None) -> BVHMotion:
    """Parse the text of a BVH file (see :func:`read_bvh`)."""
    lines = text.splitlines()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    end_sites: list[tuple[int, np.ndarray]] = []
    # Stack of open blocks: joint index, or -2 for an End Site block.
    stack: list[int] = []
    pending: int | None = None  # block declared, '{' not yet seen
    i = 0
    n = len(lines)
    while i < n and not lines[i].strip():
        i += 1
    if i >= n or lines[i].strip().upper() != 'HIERARCHY':
        raise _error(path, i + 1, f'expected "HIERARCHY", found {lines[i].strip()[:40]!r}' if i < n
                     else 'empty file (expected "HIERARCHY")')
    i += 1
    end_site_offset: list[float] | None = None
    while i < n:
        raw = lines[i].strip()
        line_no = i + 1
        i += 1
        if not raw:
            continue
        tokens = raw.split()
        key = tokens[0].upper()
        if key == 'MOTION':
            break
        if key in ('ROOT', 'JOINT'):
            if len(tokens) < 2:
                raise _error(path, line_no, f'{tokens[0]} without a name')
            if key == 'ROOT' and (stack or names):
                raise _error(path, line_no, 'a second ROOT (only one skeleton per file is supported)')
            if key == 'JOINT' and (not stack or stack[-1] < 0):
                raise _error(path, line_no, 'JOINT outside a ROOT/JOINT block')
            name = ' '.join(tokens[1:])
            if name in names:
                raise _error(path, line_no, f'duplicate joint name {name!r}')
            names.append(name)
            parents.append(stack[-1] if stack else -1)
            offsets.append([])
            channels.append(())
            pending = len(names) - 1
        elif key == 'END':
            if not stack or stack[-1] < 0:
                raise _error(path, line_no, 'End Site outside a joint')
            pending = -2
            end_site_offset = None
        elif key == '{':
            if pending is None:
                raise _error(path, line_no, 'unexpected "{"')
            stack.append(pending)
            pending = None
        elif key == '}':
            if not stack:
                raise _error(path, line_no, 'unbalanced "}"')
            closed = stack.pop()
            if closed == -2:
                if end_site_offset is None:
                    raise _error(path, line_no, 'End Site without an OFFSET')
                end_sites.append((stack[-1], np.asarray(end_site_offset, dtype=np.float64)))
            elif len(offsets[closed]) != 3:
                raise _error(path, line_no, f'joint {names[closed]!r} has no OFFSET')
        elif key == 'OFFSET':
            if not stack:
                raise _error(path, line_no, 'OFFSET outside a block')
            try:
                values = [float(v) for v in tokens[1:]]
            except ValueError:
                raise _error(path, line_no, f'OFFSET values are not numbers: {raw!r}') from None
            if len(values) != 3:
                raise _error(path, line_no, f'OFFSET needs 3 values, got {len(values)}: {raw!r}')
            if stack[-1] == -2:
                end_site_offset = values
            else:
                offsets[stack[-1]] = values
        elif key == 'CHANNELS':
            if not stack or stack[-1] < 0:
                raise _error(path, line_no, 'CHANNELS outside a joint')
            try:
                count = int(tokens[1])
            except (IndexError, ValueError):
                raise _error(path, line_no, f'CHANNELS needs a count: {raw!r}') from None
            chans = tuple(tokens[2:])
            if len(chans) != count:
                raise _error(path, line_no, f'CHANNELS declares {count} channels but names {len(chans)}: {raw!r}')
            for c in chans:
                if c.lower() not in _ROTATION_CHANNELS and c.lower() not in _POSITION_CHANNELS:
                    raise _error(path, line_no, f'unknown channel {c!r} (expected X/Y/Z position/rotation)')
            if len({c.lower() for c in chans}) != len(chans):
                raise _error(path, line_no, f'repeated channel in {raw!r}')
            channels[stack[-1]] = chans
        else:
            raise _error(path, line_no, f'unexpected {tokens[0]!r} in HIERARCHY')
    else:
        raise _error(path, n, 'file ends before the MOTION block')
    if stack:
        raise _error(path, i, f'{len(stack)} block(s) not closed before MOTION')
    if not names:
        raise _error(path, i, 'no ROOT joint in HIERARCHY')

    # --- MOTION header ------------------------------------------------------------------------
    def header_value(label: str) -> float:
        nonlocal i
        while i < n and not lines[i].strip():
            i += 1
        if i >= n:
            raise _error(path, n, f'file ends before "{label}"')
        raw = lines[i].strip()
        if not raw.lower().startswith(label.lower()):
            raise _error(path, i + 1, f'expected "{label}", found {raw[:40]!r}')
        value = raw[len(label):].strip()
        i += 1
        try:
            return float(value)
        except ValueError:
            raise _error(path, i, f'"{label}" value {value!r} is not a number') from None

    num_frames = header_value('Frames:')
    if num_frames != int(num_frames) or num_frames < 1:
        raise _error(path, i, f'Frames must be a positive integer, got {num_frames}')
    num_frames = int(num_frames)
    frame_time = header_value('Frame Time:')
    if not (frame_time > 0 and math.isfinite(frame_time)):
        raise _error(path, i, f'Frame Time must be > 0, got {frame_time}')
    if not FRAME_TIME_RANGE[0] <= frame_time <= FRAME_TIME_RANGE[1] and fps is None:
        raise _error(path, i, f'Frame Time {frame_time:g} s ({1 / frame_time:.4g} fps) is outside the plausible '
                     f'range [{FRAME_TIME_RANGE[0]:g}, {FRAME_TIME_RANGE[1]:g}] s (1000 to 1 fps); if the header '
                     'is wrong, read the file with an explicit frame rate (read_bvh(path, fps=...), '
                     '--fps-override FILE=FPS)')

    num_channels = sum(len(c) for c in channels)
    rows = []
    first_row_line = i + 1
    for k in range(i, n):
        raw = lines[k].strip()
        if not raw:
            continue
        values = raw.split()
        if len(values) != num_channels:
            raise _error(path, k + 1, f'frame {len(rows)} has {len(values)} values, expected {num_channels} '
                         f'(the sum of the CHANNELS counts of {len(names)} joints)')
        rows.append(values)
    if len(rows) != num_frames:
        raise ValueError(f'{path}: header says Frames: {num_frames} but the file holds {len(rows)} frame '
                         f'rows (from line {first_row_line} to the end at line {n}); the file is truncated'
                         if len(rows) < num_frames else
                         f'{path}: header says Frames: {num_frames} but the file holds {len(rows)} frame rows')
    try:
        motion = np.asarray(rows, dtype=np.float64).reshape(num_frames, num_channels)
    except ValueError as exc:
        raise ValueError(f'{path}: a MOTION value is not a number ({exc})') from None
    if not np.isfinite(motion).all():
        bad = int(np.argwhere(~np.isfinite(motion))[0, 0])
        raise ValueError(f'{path}: frame {bad} holds a non-finite value')

    result = BVHMotion(path=path, joint_names=tuple(names), parents=np.asarray(parents, dtype=np.int64),
                       offsets=np.asarray(offsets, dtype=np.float64), channels=tuple(channels),
                       end_sites=tuple(end_sites), frame_time=frame_time, header_frame_time=frame_time,
                       motion=motion)
    return result.with_fps(fps) if fps is not None else result


def read_bvh(path: str | os.PathLike, fps: float | None = None) -> BVHMotion:
    """Read a BVH file.

    Args:
        path: The ``.bvh`` file.
        fps: Override the header's ``Frame Time`` (e.g. amc2bvh writes 30 fps for 120 fps CMU
            captures); the header value stays in :attr:`BVHMotion.header_frame_time`.

    Returns:
        :class:`BVHMotion` (in file units, all frames).

    Raises:
        ValueError: naming the file (and line) for a malformed hierarchy, a row with the wrong
            number of values, or fewer/more frame rows than ``Frames:`` (a truncated file).
    """
    path = os.fspath(path)
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    return parse_bvh(text, path=path, fps=fps)


# ----------------------------------------------------------------------------------------------
# Rotations and forward kinematics
# ----------------------------------------------------------------------------------------------
def euler_to_quaternion(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Quaternions of Euler angles composed in the listed order (``'ZYX'`` -> ``Rz @ Ry @ Rx``).

    Args:
        angles_deg: ``(..., len(order))`` angles in degrees, one per letter of ``order``.
        order: axes, e.g. ``'ZYX'`` (letters X, Y, Z; any length).

    Returns:
        ``(..., 4)`` unit quaternions (w, x, y, z).
    """
    angles = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    if angles.shape[-1] != len(order):
        raise ValueError(f'euler_to_quaternion: {angles.shape[-1]} angles for order {order!r}')
    q = np.zeros(angles.shape[:-1] + (4,))
    q[..., 0] = 1.0
    for k, axis in enumerate(order.upper()):
        half = angles[..., k] / 2
        qa = np.zeros_like(q)
        qa[..., 0] = np.cos(half)
        qa[..., 1 + 'XYZ'.index(axis)] = np.sin(half)
        q = qmul(q, qa)
    return q


def bvh_local_rotations(bvh: BVHMotion) -> np.ndarray:
    """``(T, J, 4)`` local rotations (unit quaternions) from the rotation channels of every joint."""
    quats = np.zeros((bvh.num_frames, bvh.num_joints, 4))
    quats[..., 0] = 1.0
    for j, chans in enumerate(bvh.channels):
        cols, order = [], ''
        for k, name in enumerate(chans):
            axis = _ROTATION_CHANNELS.get(name.lower())
            if axis is not None:
                cols.append(bvh._columns[j] + k)
                order += 'XYZ'[axis]
        if cols:
            quats[:, j] = euler_to_quaternion(bvh.motion[:, cols], order)
    return quats


def _fk(rotations: np.ndarray, translations: np.ndarray, parents: Sequence[int],
        end_sites: Sequence[tuple[int, np.ndarray]] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Global positions ``(T, J [+E], 3)`` and rotation matrices ``(T, J, 3, 3)``."""
    mats = quaternion_to_matrix(rotations)  # (T, J, 3, 3)
    t, j = rotations.shape[:2]
    g_rot = np.empty((t, j, 3, 3))
    g_pos = np.empty((t, j, 3))
    for k, p in enumerate(parents):  # depth-first file order: parents come first
        if p < 0:
            g_rot[:, k] = mats[:, k]
            g_pos[:, k] = translations[:, k]
        else:
            g_rot[:, k] = g_rot[:, p] @ mats[:, k]
            g_pos[:, k] = g_pos[:, p] + np.einsum('tab,tb->ta', g_rot[:, p], translations[:, k])
    if end_sites:
        ends = [g_pos[:, p] + g_rot[:, p] @ off for p, off in end_sites]
        g_pos = np.concatenate([g_pos, np.stack(ends, axis=1)], axis=1)
    return g_pos, g_rot


def bvh_forward_kinematics(bvh: BVHMotion, with_end_sites: bool = False, translation: str = 'replace',
                           rotations: np.ndarray | None = None,
                           translations: np.ndarray | None = None) -> np.ndarray:
    """Global joint positions of every frame (file units).

    Args:
        bvh: The motion.
        with_end_sites: Append the end sites (names in :attr:`BVHMotion.end_site_names`).
        translation: How position channels combine with offsets (``'replace'`` / ``'add'``).
        rotations, translations: Use these ``(T, J, 4)`` / ``(T, J, 3)`` local values instead of
            the file's (e.g. after :func:`resample_bvh`).

    Returns:
        ``(T, J, 3)`` or ``(T, J + E, 3)`` positions.
    """
    rot = bvh.local_rotations() if rotations is None else rotations
    trans = bvh.local_translations(translation) if translations is None else translations
    pos, _ = _fk(rot, trans, bvh.parents.tolist(), bvh.end_sites if with_end_sites else ())
    return pos


def resample_bvh(bvh: BVHMotion, fps: float, translation: str = 'replace') -> tuple[np.ndarray, np.ndarray]:
    """Local rotations and translations resampled to ``fps`` (slerp / linear).

    Resampling the local rotations rather than the global positions keeps every bone rigid. Output
    frame ``k`` is at ``k / fps`` seconds (see :func:`motionkit.motion.geometry.resample`); for an
    integer ratio (120 -> 20 fps) this picks every 6th frame exactly.

    Returns:
        ``(T', J, 4)`` quaternions and ``(T', J, 3)`` translations, for :func:`bvh_forward_kinematics`.
    """
    rot = bvh.local_rotations()
    trans = bvh.local_translations(translation)
    if bvh.num_frames == 1 or abs(bvh.fps - fps) < 1e-9:
        return rot, trans
    return (resample(rot, bvh.fps, fps, axis=0, quaternion=True),
            resample(trans, bvh.fps, fps, axis=0))
