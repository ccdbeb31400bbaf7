"""Every CMU / Bandai BVH file of the shared data: conventions and HumanML3D round trip (slow)."""
import warnings

import numpy as np
import pytest

from motionkit.datasets.importers import cmu_bandai_sources, read_bvh, retarget_bvh
from motionkit.motion.humanml3d import HumanML3DFeatures
from motionkit.motion.kinematics import facing_direction, gaussian_smooth
from motionkit.motion.skeletons import get_skeleton


@pytest.mark.slow
def test_every_bvh_imports(shared_data):
    sk = get_skeleton('t2m22')
    parents = np.array(sk.parents)
    rep = HumanML3DFeatures()
    sources = cmu_bandai_sources(shared_data / 'cmu_mocap', shared_data / 'bandai_namco_motion_samples')
    assert len(sources) == 154
    for src in sources:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            j = retarget_bvh(read_bvh(src['path']), src['rig']).joints.astype(np.float64)
        where = src['rel']
        bones = np.linalg.norm(j[:, 1:] - j[:, parents[1:]], axis=-1)
        assert bones.std(axis=0).max() < 1e-3, where
        assert j[:, [7, 10, 8, 11], 1].min() == pytest.approx(0.0, abs=1e-9), where
        f = facing_direction(j[0], sk.face_joints)
        assert f[2] > 0 and abs(f[0]) < 1e-6 * f[2], where
        # Round trip. HumanML3D floors the lowest joint of any kind (we floor the feet), and its
        # root angular velocity (arcsin of the relative quaternion's y) has the wrong sign where the
        # heading passes 180 degrees from frame 0, after which the decoded root drifts: compare up
        # to the first frame whose smoothed heading exceeds 150 degrees.
        dec = np.asarray(rep.decode(rep.encode(j))) + np.array([0.0, j[..., 1].min(), 0.0])
        err = np.linalg.norm(dec - j[:-1], axis=-1).max(-1)
        fwd = gaussian_smooth(facing_direction(j, sk.face_joints), 20.0, axis=-2)
        turned = np.abs(np.degrees(np.arctan2(fwd[:, 0], fwd[:, 2]))) > 150
        cut = int(np.argmax(turned)) if turned.any() else len(err)
        assert err[:cut].max(initial=0.0) < 1e-3, where
