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
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

__all__ = ['read_ntu_skeleton', 'parse_ntu_name', 'NTU_NUM_JOINTS']

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
