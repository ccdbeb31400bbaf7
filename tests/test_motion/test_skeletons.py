import numpy as np
import pytest

from motionkit.motion import SKELETON_NAMES, Skeleton, get_skeleton
from motionkit.registry import SKELETONS

T2M_NAMES = [
    'pelvis', 'left_hip', 'right_hip', 'spine1', 'left_knee', 'right_knee', 'spine2', 'left_ankle',
    'right_ankle', 'spine3', 'left_foot', 'right_foot', 'neck', 'left_collar', 'right_collar', 'head',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist']


@pytest.mark.parametrize('name,num', [('t2m22', 22), ('kit21', 21), ('smpl24', 24), ('coco17', 17),
                                      ('ntu25', 25)])
def test_registered_skeletons_are_valid_trees(name, num):
    skel = SKELETONS.build(dict(type=name))
    assert isinstance(skel, Skeleton) and skel.name == name and skel.num_joints == num
    assert skel == get_skeleton(name)
    assert skel.parents[0] == -1 and len(skel.bones) == num - 1
    # Chains follow the parent table.
    for chain in skel.kinematic_chains:
        for prev, cur in zip(chain[:-1], chain[1:]):
            assert skel.parents[cur] == prev, (name, chain)
    # Root-first order puts every parent before its child.
    pos = {j: i for i, j in enumerate(skel.topological_order)}
    assert all(pos[p] < pos[c] for p, c in skel.bones)
    # Left/right pairs pair a left_* joint with its right_* twin.
    for left, right in skel.left_right_pairs:
        assert skel.joint_names[left].startswith('left_')
        assert skel.joint_names[right] == 'right_' + skel.joint_names[left][5:]
    r_hip, l_hip, r_sh, l_sh = skel.face_joints
    assert skel.joint_names[r_hip] == 'right_hip' and skel.joint_names[l_hip] == 'left_hip'
    assert skel.joint_names[r_sh] == 'right_shoulder' and skel.joint_names[l_sh] == 'left_shoulder'


def test_t2m22_tables_match_humanml3d():
    skel = get_skeleton('t2m22')
    assert list(skel.joint_names) == T2M_NAMES
    assert skel.kinematic_chains == ((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15),
                                     (9, 14, 17, 19, 21), (9, 13, 16, 18, 20))
    off = skel.raw_offsets
    assert off.shape == (22, 3) and not off.flags.writeable
    np.testing.assert_array_equal(off[0], [0, 0, 0])
    np.testing.assert_array_equal(off[skel.index('left_hip')], [1, 0, 0])   # +X is the body's left
    np.testing.assert_array_equal(off[skel.index('right_hip')], [-1, 0, 0])
    np.testing.assert_array_equal(off[skel.index('left_foot')], [0, 0, 1])  # toes point forward
    np.testing.assert_array_equal(off[skel.index('head')], [0, 0, 1])
    np.testing.assert_array_equal(off[skel.index('left_wrist')], [0, -1, 0])  # arms hang down
    np.testing.assert_allclose(np.linalg.norm(off[1:], axis=1), 1.0)
    assert skel.face_joints == (2, 1, 17, 16)
    assert skel.foot_joints == {'left': (7, 10), 'right': (8, 11)}
    assert skel.parents[skel.index('left_collar')] == skel.index('spine3')


def test_kit21_tables():
    skel = get_skeleton('kit21')
    assert skel.kinematic_chains == ((0, 11, 12, 13, 14, 15), (0, 16, 17, 18, 19, 20), (0, 1, 2, 3, 4),
                                     (3, 5, 6, 7), (3, 8, 9, 10))
    np.testing.assert_array_equal(skel.raw_offsets[5], [1, 0, 0])
    np.testing.assert_array_equal(skel.raw_offsets[16], [-1, 0, 0])
    np.testing.assert_array_equal(skel.raw_offsets[19], [0, 0, 1])
    assert skel.joint_names[0] == 'pelvis' and skel.joint_names[4] == 'head'


def test_smpl24_coco17_ntu25_tables():
    smpl = get_skeleton('smpl24')
    assert list(smpl.joint_names[:22]) == T2M_NAMES
    assert smpl.parents[22] == smpl.index('left_wrist') and smpl.parents[23] == smpl.index('right_wrist')
    coco = get_skeleton('coco17')
    assert coco.joint_names[0] == 'nose' and coco.joint_names[16] == 'right_ankle'
    assert coco.raw_offsets is None and len(coco.left_right_pairs) == 8
    ntu = get_skeleton('ntu25')
    # NTU RGB+D order (1-based in the paper): 1 base of spine, 3 neck, 4 head, 21 spine at shoulders.
    assert ntu.joint_names[0] == 'spine_base' and ntu.joint_names[2] == 'neck'
    assert ntu.joint_names[3] == 'head' and ntu.joint_names[20] == 'spine_shoulder'
    assert ntu.joint_names[4] == 'left_shoulder' and ntu.joint_names[24] == 'right_thumb'
    assert ntu.parents[2] == 20 and ntu.parents[20] == 1 and ntu.parents[4] == 20
    assert ntu.parents[21] == ntu.index('left_hand')


def test_index_errors_name_skeleton_and_close_names():
    skel = get_skeleton('t2m22')
    assert skel.indices(['head', 'pelvis']) == [15, 0]
    with pytest.raises(KeyError, match=r"t2m22.*left_fot.*left_foot"):
        skel.index('left_fot')
    with pytest.raises(KeyError, match='unknown skeleton'):
        get_skeleton('t2m23')
    assert get_skeleton(skel) is skel
    assert set(SKELETON_NAMES) == {'t2m22', 'kit21', 'smpl24', 'coco17', 'ntu25'}


def test_invalid_skeleton_rejected():
    with pytest.raises(ValueError, match='cycle'):
        Skeleton('bad', ('a', 'b', 'c'), (-1, 2, 1), ())
    with pytest.raises(ValueError, match='parents'):
        Skeleton('bad', ('a', 'b'), (-1,), ())
    with pytest.raises(ValueError, match=r'raw_offsets must have shape \(2, 3\)'):
        Skeleton('bad', ('a', 'b'), (-1, 0), ((0, 1),), raw_offsets=np.zeros((3, 3)))
