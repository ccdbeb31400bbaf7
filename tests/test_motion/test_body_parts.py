import numpy as np
import pytest

from motionkit.motion import EssentialFeatures, HumanML3DFeatures, KITFeatures, get_skeleton
from motionkit.motion.body_parts import (FEEDBACK_REGIONS, body_part_feature_mask, body_part_joint_mask,
                                         body_part_joints, body_part_names)
from motionkit.motion.mirror import mirror_joint_permutation

SKELETONS = ('t2m22', 'kit21', 'smpl24', 'coco17', 'ntu25')

# MDM data_loaders/humanml_utils.py: HML_LOWER_BODY_JOINTS, by name (read from GuyTevet/motion-diffusion-model
# @ d4fd88c8).
MDM_LOWER_BODY = ['pelvis', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
                  'left_foot', 'right_foot']


def mdm_lower_body_mask():
    """HML_LOWER_BODY_MASK written out from its definition in MDM: the 4 root features, ric (3 per
    non-root joint) and rot (6 per non-root joint) of the lower-body joints, the local velocities
    (3 per joint, root included) of the lower-body joints, and all 4 foot contacts."""
    names = get_skeleton('t2m22').joint_names
    lower = np.array([n in MDM_LOWER_BODY for n in names])
    return np.concatenate([np.ones(4, bool), np.repeat(lower[1:], 3), np.repeat(lower[1:], 6),
                           np.repeat(lower, 3), np.ones(4, bool)])


def test_t2m22_lower_upper_joints():
    assert body_part_joints('t2m22', 'lower_body') == [0, 1, 2, 4, 5, 7, 8, 10, 11]
    # MDM SMPL_UPPER_BODY_JOINTS: every joint that is not lower body.
    assert body_part_joints('t2m22', 'upper_body') == [3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]


def test_humanml3d_lower_body_feature_mask_equals_mdm():
    rep = HumanML3DFeatures()
    lower = body_part_feature_mask(rep, 'lower_body')
    upper = body_part_feature_mask(rep, 'upper_body')
    expected = mdm_lower_body_mask()
    assert lower.dtype == bool and lower.shape == (263,)
    np.testing.assert_array_equal(lower, expected)
    np.testing.assert_array_equal(upper, ~expected)  # HML_UPPER_BODY_MASK = ~HML_LOWER_BODY_MASK
    # Hand-checked entries: 4 root + 8 * 3 ric + 8 * 6 rot + 9 * 3 vel + 4 contacts.
    assert lower.sum() == 107
    assert lower[0:4].all() and lower[259:263].all()
    assert lower[4:7].all()            # ric of left_hip (joint 1)
    assert not lower[10:13].any()      # ric of spine1 (joint 3)
    assert lower[67:73].all()          # rot of left_hip
    assert not lower[79:85].any()      # rot of spine1
    assert lower[193:196].all()        # velocity of the pelvis
    assert not lower[256:259].any()    # velocity of right_wrist (joint 21)


def test_root_feature_mask_equals_mdm_root_mask():
    # MDM HML_ROOT_MASK: the 4 root features and the pelvis velocity.
    expected = np.zeros(263, bool)
    expected[0:4] = True
    expected[193:196] = True
    for part in ('root', 'pelvis'):
        np.testing.assert_array_equal(body_part_feature_mask(HumanML3DFeatures(), part), expected)


def test_feature_mask_by_name_and_other_representations():
    by_name = body_part_feature_mask('HumanML3DFeatures', 'lower_body')
    np.testing.assert_array_equal(by_name, mdm_lower_body_mask())
    left_arm = body_part_feature_mask(HumanML3DFeatures(), 'left_arm')
    assert left_arm.sum() == 4 * 3 + 4 * 6 + 4 * 3 and not left_arm[:4].any() and not left_arm[259:].any()
    # KIT 251-D: 11 lower-body joints, 10 of them non-root.
    kit = body_part_feature_mask(KITFeatures(), 'lower_body')
    assert kit.shape == (251,) and kit.sum() == 4 + 10 * 3 + 10 * 6 + 11 * 3 + 4
    # Essential 67-D features are the root + ric prefix of the 263-D vector.
    np.testing.assert_array_equal(body_part_feature_mask(EssentialFeatures(), 'lower_body'),
                                  mdm_lower_body_mask()[:67])


@pytest.mark.parametrize('name', SKELETONS)
def test_feedback_regions_cover_skeleton_and_mirror(name):
    skel = get_skeleton(name)
    regions = {r: body_part_joints(skel, r) for r in FEEDBACK_REGIONS}
    assert all(regions.values())
    covered = sorted(set().union(*regions.values()))
    assert covered == list(range(skel.num_joints))
    if name != 'coco17':  # with a spine, the six regions partition the joints
        assert sum(len(v) for v in regions.values()) == skel.num_joints
    else:  # COCO's torso is the shoulder/hip quadrilateral
        assert regions['torso'] == skel.indices(['left_shoulder', 'right_shoulder', 'left_hip', 'right_hip'])
    perm = mirror_joint_permutation(skel)
    for side in ('arm', 'leg'):
        assert sorted(perm[regions['left_' + side]].tolist()) == regions['right_' + side]
    assert all(skel.joint_names[j].startswith('left_') for j in regions['left_arm'])
    lower = set(body_part_joints(skel, 'lower_body'))
    upper = set(body_part_joints(skel, 'upper_body'))
    assert lower.isdisjoint(upper) and lower | upper == set(range(skel.num_joints))
    assert set(regions['left_leg']) <= lower and set(regions['head']) <= upper


def test_single_joints_and_aliases():
    assert body_part_joints('t2m22', 'left_wrist') == [20]
    assert body_part_joints('t2m22', 'right_foot') == [11]
    assert body_part_joints('t2m22', 'root') == [0]
    assert body_part_joints('kit21', 'root') == [0]
    assert body_part_joints('ntu25', 'root') == [0] and body_part_joints('ntu25', 'pelvis') == [0]
    assert body_part_joints('smpl24', 'left_arm') == [13, 16, 18, 20, 22]
    with pytest.raises(KeyError, match='root'):
        body_part_joints('coco17', 'root')


def test_union_and_joint_mask():
    assert body_part_joints('t2m22', ['head', 'left_wrist', 'neck']) == [12, 15, 20]
    mask = body_part_joint_mask('t2m22', 'right_leg')
    assert mask.dtype == bool and mask.shape == (22,)
    assert np.flatnonzero(mask).tolist() == [2, 5, 8, 11]
    with pytest.raises(ValueError):
        body_part_joints('t2m22', [])


def test_unknown_part_lists_known_parts():
    with pytest.raises(KeyError) as info:
        body_part_joints('t2m22', 'left_tentacle')
    message = str(info.value)
    for known in ('upper_body', 'lower_body', 'left_arm', 'torso', 'left_wrist'):
        assert known in message
    assert 'upper_body' in body_part_names('kit21') and 'left_toe' in body_part_names('kit21')
    with pytest.raises(TypeError):
        body_part_feature_mask(object(), 'head')
