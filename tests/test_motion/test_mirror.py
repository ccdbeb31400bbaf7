import numpy as np
import pytest
import torch

from motionkit.motion import (AbsoluteCoordinates, EssentialFeatures, HumanML3DFeatures, KITFeatures,
                              MotionRepresentation, axis_angle_to_quaternion, forward_kinematics, get_skeleton)
from motionkit.motion.mirror import (mirror_feature_transform, mirror_features, mirror_joint_permutation,
                                     mirror_joints)

REF = 'humanml3d_reference'


def walking_clip(skeleton='t2m22', frames=48, seed=0, turn=1.5):
    """A smooth synthetic clip: every joint swings sinusoidally, the root walks along a curve and
    turns by ``turn`` radians about Y; left and right bones have different lengths so that a wrong
    left/right swap shows."""
    skel = get_skeleton(skeleton)
    rng = np.random.default_rng(seed)
    t = np.arange(frames, dtype=np.float64)
    shape = (1, skel.num_joints, 3)
    amp, freq, phase = rng.uniform(0.05, 0.5, shape), rng.uniform(0.01, 0.06, shape), rng.uniform(0, 6, shape)
    rotvec = amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)
    rotvec[:, 0] = 0.0
    rotvec[:, 0, 1] = turn * t / frames
    lengths = rng.uniform(0.05, 0.45, skel.num_joints)
    offsets = skel.raw_offsets * lengths[:, None]
    root = np.stack([0.4 * np.sin(t / 15), 0.95 + 0.03 * np.sin(t / 2), 0.05 * t], -1)
    return forward_kinematics(axis_angle_to_quaternion(rotvec), offsets, root, skel)


def test_mirror_joints_hand_values_and_involution():
    perm = mirror_joint_permutation('t2m22')
    assert perm[1] == 2 and perm[2] == 1 and perm[20] == 21 and perm[0] == 0 and perm[15] == 15
    joints = np.zeros((22, 3))
    joints[1] = [0.1, 0.9, 0.02]   # left_hip
    joints[21] = [-0.6, 1.2, 0.3]  # right_wrist
    out = mirror_joints(joints, 't2m22')
    np.testing.assert_array_equal(out[2], [-0.1, 0.9, 0.02])  # now the right hip, reflected
    np.testing.assert_array_equal(out[20], [0.6, 1.2, 0.3])
    assert not out[1].any() and not out[21].any()
    for name in ('t2m22', 'kit21', 'smpl24', 'coco17', 'ntu25'):
        clip = np.random.default_rng(0).normal(size=(2, 5, get_skeleton(name).num_joints, 3))
        np.testing.assert_array_equal(mirror_joints(mirror_joints(clip, name), name), clip)
    out_t = mirror_joints(torch.tensor(joints), 't2m22')
    assert isinstance(out_t, torch.Tensor)
    np.testing.assert_array_equal(out_t.numpy(), out)
    with pytest.raises(ValueError, match='t2m22'):
        mirror_joints(np.zeros((5, 21, 3)), 't2m22')


@pytest.mark.parametrize('rep_cls', [HumanML3DFeatures, KITFeatures])
def test_mirror_features_equals_encode_of_mirrored_joints(rep_cls):
    rep = rep_cls()
    name = rep.skeleton.name
    clips = np.stack([walking_clip(name, seed=0), walking_clip(name, seed=1, turn=-2.0)])
    feats = rep.encode(clips)
    target = rep.encode(mirror_joints(clips, name))
    mirrored = mirror_features(feats, rep)
    assert mirrored.shape == feats.shape
    np.testing.assert_allclose(mirrored, target, atol=1e-9)
    assert np.abs(feats - target).max() > 0.1  # the motion is not symmetric: the test has teeth
    np.testing.assert_array_equal(mirror_features(mirrored, rep), feats)  # mirror twice = identity
    np.testing.assert_allclose(mirror_features(feats[1], rep), target[1], atol=1e-9)  # batched == unbatched
    out_t = mirror_features(torch.tensor(feats), rep)
    assert isinstance(out_t, torch.Tensor)
    np.testing.assert_allclose(out_t.numpy(), target, atol=1e-9)


def test_mirror_features_on_humanml3d_reference(shared_data):
    rep = HumanML3DFeatures()
    joints = np.load(shared_data / REF / 'new_joints' / '012314.npy').astype(np.float64)
    feats = rep.encode(joints)
    target = rep.encode(mirror_joints(joints, 't2m22'))
    np.testing.assert_allclose(mirror_features(feats, rep), target, atol=1e-8)
    for block, sl in rep.blocks.items():  # every block changes under mirroring
        assert np.abs(feats[:, sl] - target[:, sl]).max() > 1e-3, block
    # The official features: decoding their mirror gives the mirrored official joints.
    official = np.load(shared_data / REF / 'new_joint_vecs' / '012314.npy')
    decoded = rep.decode(mirror_features(official, rep))
    assert np.abs(decoded - mirror_joints(joints, 't2m22')).max() < 1e-5
    # float32 torch path.
    out_t = mirror_features(torch.tensor(feats, dtype=torch.float32), 'HumanML3DFeatures')
    assert out_t.dtype == torch.float32
    np.testing.assert_allclose(out_t.numpy(), target, atol=1e-5)


def test_mirror_transform_signs():
    index, sign = mirror_feature_transform(HumanML3DFeatures())
    assert sorted(index.tolist()) == list(range(263))  # a permutation
    np.testing.assert_array_equal(sign[:4], [-1, -1, 1, 1])    # yaw velocity, x velocity flip
    np.testing.assert_array_equal(index[4:7], [7, 8, 9])       # ric of left_hip <- ric of right_hip
    np.testing.assert_array_equal(sign[4:7], [-1, 1, 1])
    np.testing.assert_array_equal(index[67:73], np.arange(73, 79))  # rot of left_hip <- right_hip
    np.testing.assert_array_equal(sign[67:73], [1, -1, -1, -1, 1, 1])
    np.testing.assert_array_equal(index[259:], [261, 262, 259, 260])  # contacts: left <-> right


def test_mirror_essential_and_absolute():
    clip = walking_clip('t2m22')
    ess = EssentialFeatures()
    np.testing.assert_allclose(mirror_features(ess.encode(clip), ess), ess.encode(mirror_joints(clip, 't2m22')),
                               atol=1e-9)
    absolute = AbsoluteCoordinates('ntu25')
    ntu = np.random.default_rng(0).normal(size=(4, 25, 3))
    np.testing.assert_array_equal(mirror_features(absolute.encode(ntu), absolute),
                                  absolute.encode(mirror_joints(ntu, 'ntu25')))


def test_mirror_features_errors():
    with pytest.raises(ValueError, match='263'):
        mirror_features(np.zeros((4, 251)), HumanML3DFeatures())

    class Lopsided(HumanML3DFeatures):
        foot_right = (11, 8)  # contacts in the wrong order: no exact mirror

    with pytest.raises(ValueError, match='mirror'):
        mirror_features(np.zeros((4, 263)), Lopsided())

    class Other(MotionRepresentation):
        dim = 3

    with pytest.raises(TypeError, match='supports'):
        mirror_features(np.zeros((4, 3)), Other('t2m22'))
    with pytest.raises(TypeError):
        mirror_features(np.zeros((4, 3)), object())
