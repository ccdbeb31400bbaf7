import numpy as np
import pytest
import torch

from motionkit.motion import get_skeleton
from motionkit.motion.streams import (STREAM_NAMES, bone_stream, bones_to_joints, compute_streams, joint_stream,
                                      motion_stream, motion_to_positions)

SKELETONS = ('t2m22', 'kit21', 'smpl24', 'coco17', 'ntu25')


def random_motion(name, lead=(7,), seed=0):
    skel = get_skeleton(name)
    return np.random.default_rng(seed).normal(size=lead + (skel.num_joints, 3))


def test_bone_stream_hand_values():
    joints = random_motion('t2m22', (4,))
    bones = bone_stream(joints, 't2m22')
    np.testing.assert_array_equal(bones[:, 0], 0.0)                          # root bone: zero
    np.testing.assert_allclose(bones[:, 4], joints[:, 4] - joints[:, 1])     # left_knee - left_hip
    np.testing.assert_allclose(bones[:, 16], joints[:, 16] - joints[:, 13])  # left_shoulder - left_collar
    np.testing.assert_allclose(bones[:, 13], joints[:, 13] - joints[:, 9])   # left_collar - spine3
    with_root = bone_stream(joints, 't2m22', root='position')
    np.testing.assert_array_equal(with_root[:, 0], joints[:, 0])
    np.testing.assert_array_equal(with_root[:, 1:], bones[:, 1:])
    # NTU: the neck (2) hangs from spine_shoulder (20), a joint with a larger index.
    ntu = random_motion('ntu25', (3,))
    np.testing.assert_allclose(bone_stream(ntu, 'ntu25')[:, 2], ntu[:, 2] - ntu[:, 20])


@pytest.mark.parametrize('name', SKELETONS)
def test_bones_to_joints_inverts_bone_stream(name):
    joints = random_motion(name, (2, 5))
    np.testing.assert_allclose(bones_to_joints(bone_stream(joints, name, root='position'), name), joints,
                               atol=1e-12)
    zero_root = bone_stream(joints, name)
    np.testing.assert_allclose(bones_to_joints(zero_root, name, root_positions=joints[..., 0, :]), joints,
                               atol=1e-12)
    # Without positions, zero-root bones give the root-relative pose.
    np.testing.assert_allclose(bones_to_joints(zero_root, name), joints - joints[..., :1, :], atol=1e-12)


def test_motion_stream_hand_values_and_inverse():
    t = np.arange(5, dtype=np.float64)[:, None, None]
    x = np.ones((1, 2, 3)) * np.array([1.0, -2.0, 0.5]) * t + 3.0  # constant velocity (1, -2, 0.5)
    m = motion_stream(x)
    assert m.shape == x.shape
    np.testing.assert_allclose(m[:4], np.broadcast_to([1.0, -2.0, 0.5], (4, 2, 3)))
    np.testing.assert_array_equal(m[4], 0.0)  # last frame padded with zeros
    np.testing.assert_allclose(motion_to_positions(m, x[0]), x)
    rand = random_motion('t2m22', (3, 6))
    np.testing.assert_allclose(motion_to_positions(motion_stream(rand), rand[:, 0]), rand, atol=1e-12)
    with pytest.raises(ValueError, match='first'):
        motion_to_positions(m, x[:2])


def test_compute_streams_numpy_torch_batched():
    joints = random_motion('t2m22', (2, 6))
    streams = compute_streams(joints, 't2m22', streams=STREAM_NAMES)
    assert list(streams) == list(STREAM_NAMES)
    np.testing.assert_array_equal(streams['joint'], joints)
    np.testing.assert_allclose(streams['bone_motion'], motion_stream(bone_stream(joints, 't2m22')))
    single = compute_streams(joints[1], 't2m22', streams=STREAM_NAMES)
    out_t = compute_streams(torch.tensor(joints), 't2m22', streams=STREAM_NAMES, root='position')
    for name in STREAM_NAMES:
        np.testing.assert_allclose(single[name], streams[name][1], atol=1e-12)  # batched == unbatched
        assert isinstance(out_t[name], torch.Tensor) and out_t[name].shape == joints.shape
    np.testing.assert_allclose(out_t['bone'][..., 0, :].numpy(), joints[..., 0, :])
    np.testing.assert_allclose(out_t['motion'].numpy(), streams['motion'], atol=1e-12)
    # joint_stream copies: changing it leaves the input alone.
    js = joint_stream(joints)
    js[0] += 1
    assert not np.allclose(js, joints)


def test_stream_errors():
    joints = random_motion('t2m22', (4,))
    with pytest.raises(KeyError, match='known streams'):
        compute_streams(joints, 't2m22', streams=['velocity'])
    with pytest.raises(ValueError, match='root'):
        bone_stream(joints, 't2m22', root='parent')
    with pytest.raises(ValueError, match='t2m22'):
        bone_stream(joints[:, :21], 't2m22')
    with pytest.raises(ValueError, match='root_positions'):
        bones_to_joints(joints, 't2m22', root_positions=np.zeros((3, 3)))
    with pytest.raises(ValueError, match='T'):
        motion_stream(np.zeros((22, 3)))
