import numpy as np
import pytest
import torch

from motionkit.motion import (HUMANML3D_TARGET_BONE_LENGTHS, HumanML3DFeatures, KITFeatures, axis_angle_to_quaternion,
                              forward_kinematics, get_skeleton, humanml3d_target_offsets, offsets_from_joints,
                              recover_joints_from_features, recover_joints_from_rotations)
from motionkit.registry import REPRESENTATIONS

REF = 'humanml3d_reference'


@pytest.fixture(scope='module')
def reference(shared_data):
    feats = np.load(shared_data / REF / 'new_joint_vecs' / '012314.npy')
    joints = np.load(shared_data / REF / 'new_joints' / '012314.npy')
    return feats, joints


def smooth_motion(frames=60, seed=0, skeleton='t2m22', offsets=None, turn=0.02):
    """A smooth synthetic clip already in HumanML3D's canonical frame: frame 0 is the rest pose at
    x = z = 0 facing +Z (every rotation is 0 at t = 0), the lowest joint of the clip is at y = 0."""
    skel = get_skeleton(skeleton)
    rng = np.random.default_rng(seed)
    j = skel.num_joints
    t = np.arange(frames)[:, None, None].astype(np.float64)
    amp, freq = rng.uniform(0.05, 0.4, (1, j, 3)), rng.uniform(0.01, 0.05, (1, j, 3))
    rotvec = amp * np.sin(2 * np.pi * freq * t)
    rotvec[:, 0] = 0.0
    rotvec[:, 0, 1] = turn * t[:, 0, 0] ** 2 / frames  # accelerating turn about Y
    quats = axis_angle_to_quaternion(rotvec)
    if offsets is None:
        offsets = humanml3d_target_offsets() if skeleton == 't2m22' else skel.raw_offsets * 0.2
    tt = t[:, 0, 0]
    root = np.stack([0.3 * np.sin(tt / 25), 1.0 + 0.02 * np.sin(tt / 3), 0.04 * tt], -1)
    joints = forward_kinematics(quats, offsets, root, skel)
    joints[..., 1] -= joints[..., 1].min()
    return joints


def test_registered_and_layout():
    rep = REPRESENTATIONS.build(dict(type='HumanML3DFeatures'))
    assert rep.dim == 263 and rep.skeleton.name == 't2m22' and rep.mean is None
    assert {k: (s.start, s.stop) for k, s in rep.blocks.items()} == {
        'root': (0, 4), 'ric': (4, 67), 'rot': (67, 193), 'vel': (193, 259), 'feet': (259, 263)}
    kit = REPRESENTATIONS.build(dict(type='KITFeatures'))
    assert kit.dim == 251 and kit.skeleton.name == 'kit21'


def test_decode_reference_equals_new_joints(reference):
    feats, joints = reference
    rep = HumanML3DFeatures()
    out = rep.decode(feats)
    assert out.shape == (170, 22, 3) and out.dtype == np.float32
    assert np.abs(out - joints).max() < 1e-5
    out_t = rep.decode(torch.from_numpy(feats))
    assert isinstance(out_t, torch.Tensor) and np.abs(out_t.numpy() - joints).max() < 1e-5
    assert np.abs(recover_joints_from_features(feats, 22) - joints).max() < 1e-5
    # The rotation block describes the same poses (recover_from_rot with the clip's own bone lengths).
    assert np.abs(recover_joints_from_rotations(feats.astype(np.float64), 't2m22') - joints).max() < 1e-5


def test_encode_reproduces_reference_features_away_from_clip_end(reference):
    # The official features were computed from a clip one frame longer; the root rotation uses a
    # Gaussian window of radius 80 frames, so frames more than 80 frames before the end must agree.
    feats, joints = reference
    rep = HumanML3DFeatures()
    enc = rep.encode(rep.decode(feats.astype(np.float64)))
    assert enc.shape == (169, 263)
    for name, block in rep.blocks.items():
        err = np.abs(enc[:80, block] - feats[:80, block]).max()
        assert err < 1e-5, (name, err)
    # Whatever the root rotation, decoding gives the same joints again (last frame dropped).
    assert np.abs(rep.decode(enc) - joints[:-1]).max() < 1e-5


def test_round_trip_smooth_motion_under_1mm():
    joints = smooth_motion(frames=90)
    rep = HumanML3DFeatures()
    feats = rep.encode(joints)
    assert feats.shape == (89, 263)
    mpjpe = np.linalg.norm(rep.decode(feats) - joints[:-1], axis=-1).mean()
    assert mpjpe < 1e-3
    # And through the 6D-rotation block.
    by_rot = rep.decode_rotations(feats, offsets=humanml3d_target_offsets())
    assert np.linalg.norm(by_rot - joints[:-1], axis=-1).mean() < 1e-3


def test_batched_equals_per_motion_numpy_and_torch():
    clips = np.stack([smooth_motion(50, seed=s, turn=0.01 * s) for s in range(3)])
    rep = HumanML3DFeatures()
    batched = rep.encode(clips)
    assert batched.shape == (3, 49, 263)
    for b in range(3):
        np.testing.assert_allclose(batched[b], rep.encode(clips[b]), atol=1e-12)
    decoded = rep.decode(batched)
    for b in range(3):
        np.testing.assert_allclose(decoded[b], rep.decode(batched[b]), atol=1e-12)
    batched_t = rep.encode(torch.tensor(clips))
    assert isinstance(batched_t, torch.Tensor)
    np.testing.assert_allclose(batched_t.numpy(), batched, atol=1e-10)


def _rest_pose():
    skel = get_skeleton('t2m22')
    pose = forward_kinematics(np.tile([1.0, 0, 0, 0], (22, 1)), humanml3d_target_offsets(), np.zeros(3), skel)
    pose[:, 1] -= pose[:, 1].min()
    return pose


def test_hand_checked_root_velocity_and_contacts():
    # Standing rest pose sliding along +Z: 0.01 m, 0.01 m, then 0.1 m per frame.
    pose = _rest_pose()
    steps = np.array([0.0, 0.01, 0.02, 0.12])
    joints = pose[None] + steps[:, None, None] * np.array([0, 0, 1.0])
    feats = HumanML3DFeatures().encode(joints)
    np.testing.assert_allclose(feats[:, 0], 0.0, atol=1e-12)                     # no turning
    np.testing.assert_allclose(feats[:, 1:3], [[0, 0.01], [0, 0.01], [0, 0.1]], atol=1e-12)
    np.testing.assert_allclose(feats[:, 3], pose[0, 1], atol=1e-12)               # pelvis height
    # ric: x, z relative to the root, y absolute (the left hip is level with the pelvis in the rest pose).
    np.testing.assert_allclose(feats[:, 4:7], [[0.1030740, pose[0, 1], 0]] * 3, atol=1e-12)
    np.testing.assert_allclose(feats[:, 193 + 3 * 15:193 + 3 * 16], [[0, 0, 0.01], [0, 0, 0.01], [0, 0, 0.1]],
                               atol=1e-12)                                       # head velocity
    # 0.01^2 < 0.002 (contact) but 0.1^2 > 0.002 (no contact), for all four foot joints.
    np.testing.assert_array_equal(feats[:, 259:], [[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
    # The rest pose has no joint rotation: every 6D block is the identity's (1, 0, 0, 0, 1, 0).
    np.testing.assert_allclose(feats[:, 67:193].reshape(3, 21, 6), np.broadcast_to([1, 0, 0, 0, 1, 0], (3, 21, 6)),
                               atol=1e-12)


def test_hand_checked_turning_rate():
    # Rest pose spinning in place at +omega about +Y (a left turn): the root rotation maps the facing
    # direction back to +Z, so the stored (half-angle) velocity is -omega / 2 once the Gaussian window
    # (radius 80) no longer touches the clip ends.
    from motionkit.motion import qrot, quaternion_y_rotation
    omega, frames = 0.02, 260
    pose = _rest_pose()
    angles = omega * np.arange(frames)
    joints = qrot(quaternion_y_rotation(angles)[:, None, :], pose[None])
    feats = HumanML3DFeatures().encode(joints)
    np.testing.assert_allclose(feats[85:150, 0], -omega / 2, atol=1e-9)
    # Official quirk, reproduced: the root quaternions have w >= 0, so where the heading crosses
    # 180 degrees (frame 157 here) the relative rotation has w < 0 and arcsin(y) flips sign.
    wrap = int(np.pi / omega)
    np.testing.assert_allclose(feats[wrap, 0], omega / 2, atol=1e-9)


def test_target_offsets_retarget_to_humanml3d_skeleton(reference):
    _, joints = reference
    joints = joints.astype(np.float64)
    rep = HumanML3DFeatures(target_offsets='humanml3d')
    base = rep.encode(joints)
    # A 10 % bigger person is retargeted back to the same skeleton: same features.
    np.testing.assert_allclose(rep.encode(joints * 1.1), base, atol=1e-6)
    decoded = rep.decode(rep.encode(joints * 1.1 + np.array([3.0, 0.5, -2.0])))
    lengths = np.linalg.norm(offsets_from_joints(decoded[0], 't2m22'), axis=-1)
    np.testing.assert_allclose(lengths, HUMANML3D_TARGET_BONE_LENGTHS, atol=1e-6)
    # Without a target the bigger person stays bigger.
    bigger = HumanML3DFeatures().decode(HumanML3DFeatures().encode(joints * 1.1))
    assert np.abs(np.linalg.norm(bigger[0, 15] - bigger[0, 12]) - 1.1 * 0.1030392) < 1e-6
    with pytest.raises(ValueError, match='target_offsets'):
        HumanML3DFeatures(target_offsets=np.zeros((21, 3)))


def test_kit_contacts_use_official_joint_order():
    # Swing the leg of joints 16-20 (by rotating joint 17): HumanML3D's KIT processing lists joints
    # (19, 20) first in the contact block, then (14, 15).
    skel = get_skeleton('kit21')
    frames = 12
    quats = np.tile([1.0, 0, 0, 0], (frames, 21, 1))
    quats[:, 17] = axis_angle_to_quaternion(np.outer(0.1 * np.arange(frames), [1.0, 0, 0]))
    offsets = skel.raw_offsets * 300.0  # millimetre-scale bones, as KIT-ML
    joints = forward_kinematics(quats, offsets, np.array([0, 1000.0, 0]), skel)
    # HumanML3D's KIT face order (11, 16, 5, 8) makes a body whose joint 11 is on the -X side face +Z;
    # turn the rest pose (joint 11 at +X) by a half turn so that encoding leaves it in place.
    joints = joints * np.array([-1.0, 1.0, -1.0])
    rep = KITFeatures()
    feats = rep.encode(joints)
    assert feats.shape == (11, 251)
    np.testing.assert_array_equal(feats[:, 247:], np.tile([0, 0, 1, 1], (11, 1)))
    mpjpe = np.linalg.norm(rep.decode(feats) - (joints[:-1] - [0, joints[..., 1].min(), 0]), axis=-1).mean()
    assert mpjpe < 1e-6


def test_feature_mask_mdm_lower_body():
    rep = HumanML3DFeatures()
    lower_names = ['pelvis', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
                   'left_foot', 'right_foot']
    lower = rep.feature_mask(lower_names)
    # MDM's HML_LOWER_BODY_MASK, built by hand: root, ric/rot of the 8 leg joints, velocities of the
    # 9 lower joints, all four contacts.
    lower_ids = [0, 1, 2, 4, 5, 7, 8, 10, 11]
    is_lower = np.isin(np.arange(22), lower_ids)
    expected = np.concatenate([[True] * 4, is_lower[1:].repeat(3), is_lower[1:].repeat(6), is_lower.repeat(3),
                               [True] * 4])
    np.testing.assert_array_equal(lower, expected)
    assert lower.sum() == 4 + 24 + 48 + 27 + 4
    upper = rep.feature_mask([n for n in rep.skeleton.joint_names if n not in lower_names])
    np.testing.assert_array_equal(upper, ~lower)
    root = rep.feature_mask('pelvis')
    assert np.flatnonzero(root).tolist() == [0, 1, 2, 3, 193, 194, 195]
    with pytest.raises(KeyError, match='t2m22'):
        rep.feature_mask(['tail'])


def test_stats_normalize_denormalize(shared_data, reference):
    feats, _ = reference
    rep = HumanML3DFeatures(mean=shared_data / REF / 'Mean.npy', std=shared_data / REF / 'Std.npy')
    mean, std = np.load(shared_data / REF / 'Mean.npy'), np.load(shared_data / REF / 'Std.npy')
    norm = rep.normalize(feats)
    np.testing.assert_allclose(norm[5, 10], (feats[5, 10] - mean[10]) / std[10], rtol=1e-6)
    np.testing.assert_allclose(rep.denormalize(norm), feats, atol=1e-5)
    norm_t = rep.normalize(torch.from_numpy(feats))
    np.testing.assert_allclose(norm_t.numpy(), norm, atol=1e-6)
    with pytest.raises(ValueError, match=r'\(263,\).*\(262,\)'):
        rep.set_stats(mean[:-1], std[:-1])
    with pytest.raises(ValueError, match='std must be > 0'):
        rep.set_stats(mean, np.zeros_like(std))
    with pytest.raises(RuntimeError, match='set_stats'):
        HumanML3DFeatures().normalize(feats)


def test_bad_inputs_raise_value_error_naming_shape(reference):
    feats, joints = reference
    rep = HumanML3DFeatures()
    with pytest.raises(ValueError, match=r'\(T, 263\).*\(170, 262\)'):
        rep.decode(feats[:, :262])
    with pytest.raises(ValueError, match=r'\(T, 22, 3\).*\(170, 21, 3\)'):
        rep.encode(joints[:, :21])
    with pytest.raises(ValueError, match=r'\(170, 22\)'):
        rep.encode(joints[..., 0])
    bad = joints.copy()
    bad[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match=r'\(170, 22, 3\).*1 NaN/inf.*\(3, 4, 1\)'):
        rep.encode(bad)
    bad_f = feats.copy()
    bad_f[0, 0] = np.inf
    with pytest.raises(ValueError, match='NaN/inf'):
        rep.decode(torch.from_numpy(bad_f))
    with pytest.raises(ValueError, match='at least 2 frames'):
        rep.encode(joints[:1])
    with pytest.raises(ValueError, match=r'>=67'):
        recover_joints_from_features(feats[:, :50], 22)


def test_gradients_flow_through_encode_and_decode(reference):
    feats, _ = reference
    rep = HumanML3DFeatures()
    f = torch.from_numpy(feats[:40].astype(np.float64)).requires_grad_()
    joints = rep.decode(f)
    joints[:, 15, 1].sum().backward()  # head height is the head's ric y (ric keeps absolute y)
    assert torch.isfinite(f.grad).all()
    np.testing.assert_allclose(f.grad[:, 4 + 3 * 14 + 1].numpy(), 1.0)
    assert float(f.grad.abs().sum()) == pytest.approx(40.0)
    x = joints.detach().clone().requires_grad_()
    rep.encode(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


# ----------------------------------------------------------------------------------------------
# root_angular_velocity='wrapped' (issue #17 section 6)
# ----------------------------------------------------------------------------------------------
def circle_walk(turns=3.0, frames=None, radius=1.5, speed=1.2, fps=20.0, seed=0):
    """A person walking along a circle for ``turns`` full turns (counter-clockwise seen from above,
    i.e. turning left about +Y), swinging arms and legs; starts at the origin facing +Z, feet on the
    floor. ``(T, 22, 3)`` float64."""
    skel = get_skeleton('t2m22')
    if frames is None:
        frames = int(round(turns * 2 * np.pi * radius / speed * fps)) + 1
    t = np.arange(frames) / fps
    heading = speed / radius * t  # radians, grows by 2 pi per turn
    rotvec = np.zeros((frames, 22, 3))
    swing = 0.5 * np.sin(2 * np.pi * 0.9 * t)
    rng = np.random.default_rng(seed)
    rotvec[:, [1, 2], 0] = np.stack([swing, -swing], -1)          # hips swing about X
    rotvec[:, [4, 5], 0] = 0.4 * (1 + np.stack([np.sin(2 * np.pi * 0.9 * t + 1), -np.sin(2 * np.pi * 0.9 * t + 1)],
                                               -1))  # knees bend
    rotvec[:, [16, 17], 0] = np.stack([-swing, swing], -1) * 0.6  # shoulders swing opposite
    rotvec[:, 3:22, :] += rng.normal(0, 0.02, (1, 19, 3))         # a person-specific posture
    rotvec[:, 0] = 0.0
    quats = axis_angle_to_quaternion(rotvec)
    from motionkit.motion import quaternion_y_rotation
    quats[:, 0] = quaternion_y_rotation(heading)
    root = np.stack([radius * (1 - np.cos(heading)), np.full(frames, 0.95), radius * np.sin(heading)], -1)
    joints = forward_kinematics(quats, humanml3d_target_offsets(), root, skel)
    # HumanML3D's canonical frame (what decode returns): frame 0 faces +Z (by the hips and
    # shoulders, which the posture noise tilts a little), root at x = z = 0, feet on the floor.
    from motionkit.motion import facing_direction, qbetween, qrot
    forward0 = facing_direction(joints[0], HumanML3DFeatures.face_joints)
    joints = qrot(qbetween(forward0 / np.linalg.norm(forward0), np.array([0.0, 0.0, 1.0])), joints)
    joints -= joints[0, 0] * np.array([1.0, 0.0, 1.0])
    joints[..., 1] -= joints[..., [7, 8, 10, 11], 1].min()
    return joints


def _round_trip_mm(rep, joints):
    dec = np.asarray(rep.decode(rep.encode(joints))) + np.array([0.0, joints[..., 1].min(), 0.0])
    return np.linalg.norm(dec - joints[:-1], axis=-1) * 1000.0


def test_wrapped_root_angular_velocity_hand_checked():
    # Same spin as test_hand_checked_turning_rate: the wrapped option stores -omega / 2 at the frame
    # where the heading crosses 180 degrees too, and is bit-identical to the official one elsewhere.
    from motionkit.motion import qrot, quaternion_y_rotation
    omega, frames = 0.02, 260
    pose = _rest_pose()
    joints = qrot(quaternion_y_rotation(omega * np.arange(frames))[:, None, :], pose[None])
    official = HumanML3DFeatures().encode(joints)
    wrapped = HumanML3DFeatures(root_angular_velocity='wrapped').encode(joints)
    wrap = int(np.pi / omega)
    np.testing.assert_allclose(wrapped[85:150, 0], -omega / 2, atol=1e-9)
    np.testing.assert_allclose(wrapped[wrap, 0], -omega / 2, atol=1e-9)
    assert official[wrap, 0] == pytest.approx(omega / 2, abs=1e-9)
    differ = np.flatnonzero((official != wrapped).any(-1))
    assert differ.tolist() == [wrap]
    np.testing.assert_array_equal(official[wrap, 1:], wrapped[wrap, 1:])


def test_circle_walk_round_trip_wrapped_exact_official_drifts():
    # Three full turns along a 1.5 m circle: the heading crosses 180 degrees three times.
    joints = circle_walk(turns=3.0)
    assert joints.shape[0] > 400
    official = HumanML3DFeatures()
    wrapped = HumanML3DFeatures(root_angular_velocity='wrapped')
    f_off, f_wrap = official.encode(joints), wrapped.encode(joints)
    crossings = np.flatnonzero(f_off[:, 0] != f_wrap[:, 0])
    assert len(crossings) == 3, crossings
    err_wrap = _round_trip_mm(wrapped, joints)
    assert err_wrap.max() < 0.01, err_wrap.max()
    # Without the fix every crossing turns the rest of the clip by 2 x (a frame's heading change).
    err_off = _round_trip_mm(official, joints)
    assert err_off.mean() > 10.0 and err_off.max() > 100.0, (err_off.mean(), err_off.max())
    assert err_off[:crossings[0] + 1].max() < 0.01  # exact up to the first crossing
    # Batched, torch and float32 give the same features.
    both = np.stack([joints[:300], circle_walk(turns=1.2, frames=300, radius=1.0, seed=1)])
    batched = wrapped.encode(both)
    np.testing.assert_allclose(batched[0], wrapped.encode(joints[:300]), atol=1e-12)
    torch_out = wrapped.encode(torch.tensor(both))
    np.testing.assert_allclose(torch_out.numpy(), batched, atol=1e-9)
    for b in range(2):
        assert _round_trip_mm(wrapped, both[b]).max() < 0.01


def test_circle_walk_clockwise_and_many_turns():
    # Clockwise (heading decreasing) and 6 turns on a tight circle: still exact when wrapped.
    joints = circle_walk(turns=6.0, radius=0.8) * np.array([-1.0, 1.0, 1.0])  # mirror: turn right
    joints = joints[:, [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20]]
    official = HumanML3DFeatures()
    wrapped = HumanML3DFeatures(root_angular_velocity='wrapped')
    assert (official.encode(joints)[:, 0] != wrapped.encode(joints)[:, 0]).sum() == 6
    assert _round_trip_mm(wrapped, joints).max() < 0.01
    assert _round_trip_mm(official, joints).max() > 100.0


def test_encoding_record_and_metadata():
    from motionkit.motion import ROOT_ANGULAR_VELOCITIES, feature_encoding_from_metadata
    assert ROOT_ANGULAR_VELOCITIES == ('official', 'wrapped')
    rep = REPRESENTATIONS.build(dict(type='HumanML3DFeatures', root_angular_velocity='wrapped'))
    assert rep.root_angular_velocity == 'wrapped'
    assert rep.encoding_record() == dict(representation='HumanML3DFeatures', root_angular_velocity='wrapped')
    assert HumanML3DFeatures().encoding_record()['root_angular_velocity'] == 'official'
    assert feature_encoding_from_metadata(dict(feature_encoding=rep.encoding_record())) == 'wrapped'
    assert feature_encoding_from_metadata({}) == 'official'
    assert feature_encoding_from_metadata(None) == 'official'
    with pytest.raises(ValueError, match=r'manifest.json.*root_angular_velocity.*unwrapped'):
        feature_encoding_from_metadata(dict(feature_encoding=dict(root_angular_velocity='unwrapped')),
                                       'manifest.json')
    with pytest.raises(ValueError, match="root_angular_velocity must be one of.*'fixed'"):
        HumanML3DFeatures(root_angular_velocity='fixed')
    from motionkit.motion import EssentialFeatures
    ess = EssentialFeatures(root_angular_velocity='wrapped')
    joints = circle_walk(turns=1.2)
    np.testing.assert_array_equal(ess.encode(joints), rep.encode(joints)[:, :67])


# ----------------------------------------------------------------------------------------------
# Silent bad inputs (issue #17)
# ----------------------------------------------------------------------------------------------
def test_empty_and_one_frame_inputs_raise_naming_the_shape():
    rep = HumanML3DFeatures()
    with pytest.raises(ValueError, match=r'decode needs at least 1 frame.*\(0, 263\)'):
        rep.decode(np.zeros((0, 263), np.float32))
    with pytest.raises(ValueError, match=r'decode needs at least 1 frame.*\(2, 0, 263\)'):
        rep.decode(torch.zeros(2, 0, 263))
    assert rep.decode(np.zeros((1, 263))).shape == (1, 22, 3)  # one frame is a pose
    for frames in (0, 1):
        with pytest.raises(ValueError, match=rf'at least 2 frames.*\({frames}, 22, 3\)'):
            rep.encode(np.zeros((frames, 22, 3)))
    from motionkit.motion import EssentialFeatures
    with pytest.raises(ValueError, match=r'\(0, 67\)'):
        EssentialFeatures().decode(np.zeros((0, 67)))


def test_millimetre_joints_are_refused(reference):
    _, joints = reference
    rep = HumanML3DFeatures()
    with pytest.raises(ValueError, match=r'\(170, 22, 3\).*median bone length of 1[0-9][0-9]\.[0-9].*'
                                         r'millimetres.*metres'):
        rep.encode(joints * 1000.0)
    with pytest.raises(ValueError, match='centimetres'):
        rep.encode(torch.tensor(joints * 100.0))
    # A batch is checked per motion: one millimetre motion among metre ones is found.
    with pytest.raises(ValueError, match='millimetres'):
        rep.encode(np.stack([joints, joints * 1000.0]))
    # Metres pass, including a tall person (x 1.5), and KIT-ML (millimetre-scale upstream) is exempt.
    assert rep.encode(joints * 1.5).shape == (169, 263)
    assert KITFeatures.max_median_bone_length is None
