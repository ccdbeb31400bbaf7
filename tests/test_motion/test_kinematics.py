import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from motionkit.motion import (axis_angle_to_quaternion, facing_direction, forward_kinematics, gaussian_smooth,
                              get_skeleton, humanml3d_target_offsets, inverse_kinematics, offsets_from_joints,
                              quaternion_to_cont6d, quaternion_to_matrix)


def _posed(skeleton_name, frames=40, seed=0, offsets=None):
    """Joints from FK with random smooth rotations (constant bone lengths) and a drifting root."""
    skel = get_skeleton(skeleton_name)
    rng = np.random.default_rng(seed)
    j = skel.num_joints
    t = np.arange(frames)[:, None, None]
    amp, freq, phase = rng.uniform(0.1, 0.6, (1, j, 3)), rng.uniform(0.02, 0.1, (1, j, 3)), rng.uniform(0, 6, (1, j, 3))
    quats = axis_angle_to_quaternion(amp * np.sin(2 * np.pi * freq * t + phase))
    if offsets is None:
        offsets = skel.raw_offsets * rng.uniform(0.05, 0.4, (j, 1))
    root = np.stack([0.02 * np.arange(frames), 0.9 + 0.01 * np.sin(np.arange(frames)), 0.03 * np.arange(frames)], -1)
    return forward_kinematics(quats, offsets, root, skel), quats, offsets


def test_offsets_from_joints_of_rest_pose():
    skel = get_skeleton('t2m22')
    target = humanml3d_target_offsets()
    rest = forward_kinematics(np.tile([1.0, 0, 0, 0], (22, 1)), target, np.array([0.0, 1.0, 0.0]), skel)
    # Rest pose: every joint sits at its parent plus the offset.
    np.testing.assert_allclose(rest[skel.index('left_hip')], [0.1030740, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(offsets_from_joints(rest, skel), target, atol=1e-12)
    # Batched poses give batched offsets.
    assert offsets_from_joints(np.stack([rest, rest]), 't2m22').shape == (2, 22, 3)


def test_facing_direction_of_rest_pose_is_plus_z():
    skel = get_skeleton('t2m22')
    rest = forward_kinematics(np.tile([1.0, 0, 0, 0], (22, 1)), humanml3d_target_offsets(), np.zeros(3), skel)
    fwd = facing_direction(rest, skel.face_joints)
    assert fwd[2] > 0.99 and abs(fwd[0]) < 1e-12 and abs(fwd[1]) < 1e-12


@pytest.mark.parametrize('name', ['t2m22', 'kit21', 'smpl24'])
def test_ik_then_fk_reproduces_joints(name):
    joints, _, offsets = _posed(name)
    quats = inverse_kinematics(joints, name, smooth_sigma=5.0)
    assert quats.shape == (40, get_skeleton(name).num_joints, 4)
    np.testing.assert_allclose(quats[0, 0], [1, 0, 0, 0])  # first root is the identity (HumanML3D)
    np.testing.assert_allclose(np.linalg.norm(quats, axis=-1), 1.0, atol=1e-12)
    rebuilt = forward_kinematics(quats, offsets, joints[:, 0], name)
    np.testing.assert_allclose(rebuilt, joints, atol=1e-10)


def test_ik_root_rotation_turns_facing_to_plus_z():
    joints, _, _ = _posed('t2m22', seed=1)
    skel = get_skeleton('t2m22')
    quats = inverse_kinematics(joints, skel, identity_first_root=False)
    from motionkit.motion import qrot
    fwd = facing_direction(joints, skel.face_joints)
    turned = qrot(quats[:, 0], fwd / np.linalg.norm(fwd, axis=-1, keepdims=True))
    np.testing.assert_allclose(turned, np.tile([0, 0, 1.0], (40, 1)), atol=1e-10)


def test_fk_accepts_quaternions_6d_and_matrices_and_torch():
    joints, quats, offsets = _posed('t2m22', frames=10, seed=2)
    root = joints[:, 0]
    by_6d = forward_kinematics(quaternion_to_cont6d(quats), offsets, root, 't2m22')
    by_mat = forward_kinematics(quaternion_to_matrix(quats), offsets, root, 't2m22')
    np.testing.assert_allclose(by_6d, joints, atol=1e-12)
    np.testing.assert_allclose(by_mat, joints, atol=1e-12)
    by_torch = forward_kinematics(torch.tensor(quats), torch.tensor(offsets), torch.tensor(root), 't2m22')
    np.testing.assert_allclose(by_torch.numpy(), joints, atol=1e-12)
    ik_torch = inverse_kinematics(torch.tensor(joints), 't2m22', smooth_sigma=3.0)
    np.testing.assert_allclose(ik_torch.numpy(), inverse_kinematics(joints, 't2m22', smooth_sigma=3.0), atol=1e-12)


def test_gaussian_smooth_equals_scipy():
    x = np.random.default_rng(3).normal(size=(2, 37, 3))
    for sigma in (1.5, 20.0):  # sigma 20 > clip length: edge replication dominates
        expected = gaussian_filter1d(x, sigma, axis=1, mode='nearest')
        np.testing.assert_allclose(gaussian_smooth(x, sigma, axis=1), expected, atol=1e-12)
        np.testing.assert_allclose(gaussian_smooth(torch.tensor(x), sigma, axis=1).numpy(), expected, atol=1e-12)


def test_skeleton_without_rest_pose_and_bad_shapes():
    with pytest.raises(ValueError, match='no rest pose'):
        inverse_kinematics(np.zeros((5, 17, 3)), 'coco17')
    with pytest.raises(ValueError, match=r'\(\.\.\., T, 22, 3\).*\(5, 21, 3\)'):
        inverse_kinematics(np.zeros((5, 21, 3)), 't2m22')
    with pytest.raises(ValueError, match='rotations'):
        forward_kinematics(np.zeros((5, 22, 5)), np.zeros((22, 3)), np.zeros((5, 3)), 't2m22')


def test_fk_rotation_of_chain_start_is_root_relative():
    # HumanML3D chains: the arm chain starts at spine3 but its rotation accumulates from the root only.
    skel = get_skeleton('t2m22')
    quats = np.tile([1.0, 0, 0, 0], (22, 1))
    quats[skel.index('spine2')] = Rotation.from_rotvec([0, 0, np.pi / 2]).as_quat(scalar_first=True)
    offsets = humanml3d_target_offsets()
    joints = forward_kinematics(quats, offsets, np.zeros(3), skel)
    # spine3 is rotated by spine2's rotation ...
    bone = joints[skel.index('spine3')] - joints[skel.index('spine2')]
    np.testing.assert_allclose(bone, [-0.0573647, 0, 0], atol=1e-12)
    # ... but the collar bones (first bones of the arm chains) are not.
    collar = joints[skel.index('left_collar')] - joints[skel.index('spine3')]
    np.testing.assert_allclose(collar, [0.1374868, 0, 0], atol=1e-12)
