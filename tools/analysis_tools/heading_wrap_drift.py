"""Round-trip drift of HumanML3D features on every real t2m22 clip of the shared data, for the
official and the wrapped root angular velocity (see ``motionkit/motion/humanml3d.py``).

For each clip (CMU + Bandai BVH retargeted to t2m22 at 20 fps as whole clips and as the windows
``tools/data/import_bvh.py`` writes, and the HumanML3D reference joints) it prints the frames whose
heading crosses +-180 degrees (where the two encodings differ) and the mean / max joint error of
``decode(encode(joints))`` in millimetres.

Example::

    python tools/analysis_tools/heading_wrap_drift.py ../shared/data [--json out.json]
"""
import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datasets.importers import (canonicalize_t2m22, cmu_bandai_sources, read_bvh,  # noqa: E402
                                          retarget_bvh, split_windows)
from motionkit.datasets.importers.cmu_bandai import MAX_MOTION_FRAMES, MIN_MOTION_FRAMES  # noqa: E402
from motionkit.motion.humanml3d import HumanML3DFeatures  # noqa: E402

ENCODERS = {name: HumanML3DFeatures(root_angular_velocity=name) for name in ('official', 'wrapped')}


def round_trip_mm(joints: np.ndarray) -> dict:
    """``(T, 22, 3)`` joints -> per encoding: mean / max joint error (mm) and the wrap frames."""
    out = {}
    feats = {}
    for name, rep in ENCODERS.items():
        feats[name] = rep.encode(joints)
        # encode puts the lowest joint of the clip at y = 0; put it back where the input had it.
        dec = rep.decode(feats[name]) + np.array([0.0, joints[..., 1].min(), 0.0])
        err = np.linalg.norm(dec - joints[:-1], axis=-1) * 1000.0
        out[name] = dict(mean_mm=float(err.mean()), max_mm=float(err.max()))
    out['wrap_frames'] = np.flatnonzero(feats['official'][:, 0] != feats['wrapped'][:, 0]).tolist()
    return out


def real_clips(shared: Path):
    """``(name, kind, joints)`` of every real t2m22 clip: whole BVH clips, importer windows, reference."""
    sources = cmu_bandai_sources(shared / 'cmu_mocap', shared / 'bandai_namco_motion_samples')
    for src in sources:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # the two amc2bvh files' frame-rate warning
            joints = retarget_bvh(read_bvh(src['path']), src['rig'], canonicalize=False).joints.astype(np.float64)
        if joints.shape[0] >= 2:
            yield src['rel'], 'clip', canonicalize_t2m22(joints)
        windows = split_windows(joints.shape[0], MAX_MOTION_FRAMES + 1, MIN_MOTION_FRAMES + 1)
        if len(windows) > 1:
            for k, (a, b) in enumerate(windows):
                yield f'{src["rel"]}#w{k:02d}', 'window', canonicalize_t2m22(joints[a:b])
    ref = shared / 'humanml3d_reference' / 'new_joints' / '012314.npy'
    yield str(ref.relative_to(shared)), 'reference', np.load(ref).astype(np.float64)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('shared', help='the shared data folder (with cmu_mocap/, bandai_namco_motion_samples/, '
                        'humanml3d_reference/)')
    parser.add_argument('--json', help='write every clip\'s numbers here')
    args = parser.parse_args(argv)
    start = time.time()
    rows = [dict(name=name, kind=kind, frames=int(j.shape[0]), **round_trip_mm(j))
            for name, kind, j in real_clips(Path(args.shared))]
    summary = {}
    for kind in ('clip', 'window', 'reference'):
        sel = [r for r in rows if r['kind'] == kind]
        crossing = [r for r in sel if r['wrap_frames']]
        summary[kind] = dict(
            count=len(sel), crossing_180=len(crossing),
            wrap_frames=[min((len(r['wrap_frames']) for r in crossing), default=0),
                         max((len(r['wrap_frames']) for r in crossing), default=0)],
            official_mean_mm_of_crossing=[min((r['official']['mean_mm'] for r in crossing), default=0.0),
                                          max((r['official']['mean_mm'] for r in crossing), default=0.0)],
            official_max_mm=max((r['official']['max_mm'] for r in sel), default=0.0),
            wrapped_max_mm=max((r['wrapped']['max_mm'] for r in sel), default=0.0))
    summary['seconds'] = round(time.time() - start, 1)
    for r in rows:
        if r['wrap_frames']:
            print(f'{r["name"]:55s} {r["frames"]:5d} fr  wraps {len(r["wrap_frames"])}  official mean '
                  f'{r["official"]["mean_mm"]:8.3f} max {r["official"]["max_mm"]:8.1f} mm  wrapped max '
                  f'{r["wrapped"]["max_mm"]:.5f} mm')
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(summary=summary, clips=rows), indent=1))
    return dict(summary=summary, clips=rows)


if __name__ == '__main__':
    main()
