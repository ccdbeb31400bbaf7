"""Retargeting onto t2m22: conventions on real files of every rig, HumanML3D round trip, bad maps."""
import numpy as np
import pytest

from motionkit.datasets.importers.bvh import parse_bvh, read_bvh
from motionkit.datasets.importers.retarget import (CMU_UNIT_SCALE, RIG_MAPS, RigMap, detect_rig, detect_unit_scale,
                                                   detect_up_axis, enforce_bone_lengths, map_points_to_t2m22,
                                                   retarget_bvh, rotation_to_y_up)
from motionkit.motion.humanml3d import HumanML3DFeatures
from motionkit.motion.kinematics import facing_direction
from motionkit.motion.skeletons import get_skeleton

SK = get_skeleton('t2m22')
PARENTS = np.array(SK.parents)
FEET = [7, 10, 8, 11]

# One file of each rig (the round trip of clips that turn past 180 degrees is limited by the
# HumanML3D representation itself, see the report in tools; these clips do not).
FILES = [
    ('cmu_mocap/bvh/02_01.bvh', 'cgspeed_mb', 57),
    ('cmu_mocap/bvh_other/02_01.bvh', 'cgspeed_daz', 57),
    ('cmu_mocap/bvh_other/16_01.bvh', 'amc2bvh_raw', 214),
    ('bandai_namco_motion_samples/dataset-1/dataset-1_walk_happy_001.bvh', 'bandai', None),
    ('bandai_namco_motion_samples/dataset-2/dataset-2_wave-left-hand_normal_001.bvh', 'bandai', None),
]


@pytest.fixture(scope='module')
def retargeted(shared_data):
    out = {}
    for rel, rig, _ in FILES:
        bvh = read_bvh(shared_data / rel)
        out[rel] = (bvh, retarget_bvh(bvh))
    return out


@pytest.mark.parametrize('rel, rig, frames', FILES)
def test_conventions(retargeted, rel, rig, frames):
    bvh, res = retargeted[rel]
    j = res.joints.astype(np.float64)
    assert res.info['rig'] == rig == detect_rig(bvh)
    assert j.shape[1:] == (22, 3) and j.dtype == np.float64
    if frames is not None:  # 344 frames at 120 fps, T-pose dropped -> 343 -> 57 at 20 fps
        assert j.shape[0] == frames
    # Bones rigid (< 1 mm std), feet on the floor, root at the origin, facing +Z, up = +Y.
    bones = np.linalg.norm(j[:, 1:] - j[:, PARENTS[1:]], axis=-1)
    assert bones.std(axis=0).max() < 1e-3
    assert j[:, FEET, 1].min() == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(j[0, 0, [0, 2]], 0.0, atol=1e-9)
    f = facing_direction(j[0], SK.face_joints)
    assert f[2] > 0 and abs(f[0]) < 1e-6 * np.linalg.norm(f)
    assert (j[:, SK.index('head'), 1] > j[:, SK.index('pelvis'), 1]).mean() > 0.95
    # Left side at +X when facing +Z (left/right were not swapped by the map).
    assert j[0, SK.index('left_shoulder'), 0] > j[0, SK.index('right_shoulder'), 0]
    # Metres: a human leg (hip -> knee -> ankle).
    assert 0.7 < res.info['leg_length_m'] < 0.95


@pytest.mark.parametrize('rel, rig, frames', FILES)
def test_humanml3d_round_trip(retargeted, rel, rig, frames):
    j = retargeted[rel][1].joints.astype(np.float64)
    rep = HumanML3DFeatures()
    dec = np.asarray(rep.decode(rep.encode(j)))
    err_mm = np.linalg.norm(dec - j[:-1], axis=-1) * 1000
    assert err_mm.mean() < 0.1 and err_mm.max() < 1.0


def test_walks_forward(retargeted):
    # Walking clips move along +Z (the facing direction of frame 0).
    for rel in ('cmu_mocap/bvh/02_01.bvh', 'bandai_namco_motion_samples/dataset-1/dataset-1_walk_happy_001.bvh'):
        j = retargeted[rel][1].joints
        d = j[-1, 0] - j[0, 0]
        assert d[2] > 1.0 and abs(d[2]) > 2 * abs(d[0])


def test_cmu_unit_scale_and_cross_rig_agreement(retargeted):
    # The same capture (02_01) through two conversions: the same walk, within a few centimetres.
    mb = retargeted['cmu_mocap/bvh/02_01.bvh'][1]
    daz = retargeted['cmu_mocap/bvh_other/02_01.bvh'][1]
    assert mb.info['unit_scale'] == pytest.approx(0.0254 / 0.45) == CMU_UNIT_SCALE
    assert daz.info['unit'] == 'cm'
    # The Daz conversion refits the capture to another body (legs 0.82 vs 0.84 m, trajectory ~5%
    # shorter), so compare the walked distance and the hip-centred legs, not raw positions.
    da, dd = (np.linalg.norm(r.joints[-1, 0, [0, 2]] - r.joints[0, 0, [0, 2]]) for r in (mb, daz))
    assert abs(da - dd) / da < 0.1
    legs = [SK.index(n) for n in ('left_knee', 'right_knee', 'left_ankle', 'right_ankle')]

    def centred(j):
        return j[:, legs] - (j[:, 1:2] + j[:, 2:3]) / 2
    err = np.linalg.norm(centred(mb.joints) - centred(daz.joints), axis=-1)
    assert np.median(err) < 0.1


def test_detect_unit_scale(retargeted):
    j = retargeted['cmu_mocap/bvh/02_01.bvh'][1].joints.astype(np.float64)
    assert detect_unit_scale(j / CMU_UNIT_SCALE)[1] == 'cmu'
    assert detect_unit_scale(j * 100)[1] == 'cm'
    assert detect_unit_scale(j * 1000)[1] == 'mm'


def test_up_axis_detection_and_rotation(retargeted):
    j = retargeted['cmu_mocap/bvh/02_01.bvh'][1].joints.astype(np.float64)
    z_up = j[..., [0, 2, 1]] * np.array([1, -1, 1])  # proper rotation: Y -> Z
    axis, sign = detect_up_axis(z_up)
    assert (axis, sign) == (2, 1.0)
    r = rotation_to_y_up(axis, sign)
    np.testing.assert_allclose(r @ [0, 0, 1], [0, 1, 0], atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_allclose(rotation_to_y_up(1, -1.0) @ [0, -1, 0], [0, 1, 0])


def test_enforce_bone_lengths_hand_computed():
    j = np.zeros((2, 22, 3))
    for k in range(1, 22):
        j[:, k] = j[:, SK.parents[k]] + np.array([0.0, 1.0, 0.0])
    j[1, 3] = j[1, 0] + [0, 3.0, 0]  # stretch spine1 in frame 1 (and move its subtree)
    for k in (6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21):
        j[1, k] = j[1, SK.parents[k]] + [0, 1.0, 0]
    fixed, lengths = enforce_bone_lengths(j, lengths=np.ones(22))
    bones = np.linalg.norm(fixed[:, 1:] - fixed[:, PARENTS[1:]], axis=-1)
    np.testing.assert_allclose(bones, 1.0)
    np.testing.assert_allclose(fixed[1, 3], [0, 1, 0])


TOY_RIG = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT Spine
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Yrotation Xrotation
    End Site
    {
      OFFSET 0 10 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.05
0 90 0 0 0 0 0 0 0
0 90 0 0 0 0 0 0 0
"""


def test_bvh_missing_joints_for_map_names_file_and_joints():
    bvh = parse_bvh(TOY_RIG, path='odd_rig.bvh')
    with pytest.raises(ValueError, match=r"odd_rig\.bvh: the BVH has no joint\(s\) \[.*'LeftArm'.*\] needed by the "
                                         r"'cgspeed_mb' joint map"):
        retarget_bvh(bvh, 'cgspeed_mb')
    with pytest.raises(ValueError, match=r'odd_rig\.bvh: no known rig fits its joints'):
        detect_rig(bvh)


def test_unknown_t2m_joint_in_map():
    bad = dict(RIG_MAPS['bandai'].joint_map)
    bad['left_thumb'] = 'Hand_L'
    with pytest.raises(ValueError, match=r"unknown joint names \['left_thumb'\]"):
        retarget_bvh(parse_bvh(TOY_RIG, path='x.bvh'), RigMap('bad', bad, 0.01))
    missing = dict(RIG_MAPS['bandai'].joint_map)
    del missing['neck']
    with pytest.raises(ValueError, match=r"missing \['neck'\]"):
        map_points_to_t2m22(np.zeros((1, 2, 3)), ['a', 'b'], missing, where='y.bvh')
