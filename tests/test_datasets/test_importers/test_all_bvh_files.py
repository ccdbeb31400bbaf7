"""Every real t2m22 clip of the shared data: conventions and the HumanML3D round trip (slow).

The round trip is tested on every CMU / Bandai BVH clip (whole, and cut into the windows that
``build_cmu_bandai`` writes) and on the HumanML3D reference joints. NTU ``.skeleton`` files are
Kinect ``ntu25`` joints with no map onto ``t2m22``, so they are not HumanML3D-encodable.
"""
import warnings

import numpy as np
import pytest

from motionkit.datasets.importers import (canonicalize_t2m22, cmu_bandai_sources, read_bvh, retarget_bvh,
                                          split_windows)
from motionkit.datasets.importers.cmu_bandai import MAX_MOTION_FRAMES, MIN_MOTION_FRAMES
from motionkit.motion.humanml3d import HumanML3DFeatures
from motionkit.motion.kinematics import facing_direction
from motionkit.motion.skeletons import get_skeleton

OFFICIAL = HumanML3DFeatures()
WRAPPED = HumanML3DFeatures(root_angular_velocity='wrapped')


def _round_trip_mm(rep, j):
    # encode floors the lowest joint of any kind (the importer floors the feet): add it back.
    dec = np.asarray(rep.decode(rep.encode(j))) + np.array([0.0, j[..., 1].min(), 0.0])
    return np.linalg.norm(dec - j[:-1], axis=-1) * 1000.0


@pytest.fixture(scope='module')
def retargeted(shared_data):
    """``{rel: (T, 22, 3) float64}`` of every BVH, retargeted to t2m22 at 20 fps, not canonicalised."""
    sources = cmu_bandai_sources(shared_data / 'cmu_mocap', shared_data / 'bandai_namco_motion_samples')
    assert len(sources) == 154
    out = {}
    for src in sources:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            out[src['rel']] = retarget_bvh(read_bvh(src['path']), src['rig'],
                                           canonicalize=False).joints.astype(np.float64)
    return out


@pytest.mark.slow
def test_every_bvh_imports(retargeted):
    sk = get_skeleton('t2m22')
    parents = np.array(sk.parents)
    for where, raw in retargeted.items():
        j = canonicalize_t2m22(raw)
        bones = np.linalg.norm(j[:, 1:] - j[:, parents[1:]], axis=-1)
        assert bones.std(axis=0).max() < 1e-3, where
        assert j[:, [7, 10, 8, 11], 1].min() == pytest.approx(0.0, abs=1e-9), where
        f = facing_direction(j[0], sk.face_joints)
        assert f[2] > 0 and abs(f[0]) < 1e-6 * f[2], where


@pytest.mark.slow
def test_every_real_clip_survives_wrapped_encoding(retargeted, shared_data):
    # Issue #17 section 6: with the wrapped root angular velocity, decode(encode(j)) reproduces every
    # real clip, whole or windowed as the importer writes it, through any turn.
    crossing, windows, crossing_windows = {}, 0, 0
    for where, raw in retargeted.items():
        clips = [(where, canonicalize_t2m22(raw))]
        cuts = split_windows(raw.shape[0], MAX_MOTION_FRAMES + 1, MIN_MOTION_FRAMES + 1)
        if len(cuts) > 1:
            clips += [(f'{where}#w{k}', canonicalize_t2m22(raw[a:b])) for k, (a, b) in enumerate(cuts)]
            windows += len(cuts)
        for name, j in clips:
            err = _round_trip_mm(WRAPPED, j)
            assert err.max() < 0.01, (name, err.max())
            differ = np.flatnonzero(OFFICIAL.encode(j)[:, 0] != WRAPPED.encode(j)[:, 0])
            if len(differ):
                crossing[name] = _round_trip_mm(OFFICIAL, j).mean()
                crossing_windows += '#w' in name
    ref = np.load(shared_data / 'humanml3d_reference' / 'new_joints' / '012314.npy').astype(np.float64)
    assert _round_trip_mm(WRAPPED, ref).max() < 0.01
    # What the official encoding does to the same clips (numbers in docs/data.md): 6 of the 154 clips
    # and 4 of the 57 windows cross +-180 degrees, and their decoded motion drifts.
    assert windows == 57
    assert len(crossing) - crossing_windows == 6 and crossing_windows == 4, sorted(crossing)
    assert crossing['cmu_mocap/bvh/05_06.bvh'] > 100.0
    assert min(crossing.values()) > 0.01
