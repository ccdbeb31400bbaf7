import math

import numpy as np
import pytest
import torch

from motionkit.motion import axis_angle_to_quaternion, forward_kinematics, get_skeleton, quaternion_y_rotation
from motionkit.motion.geometry import (center_root_xz, mpjpe, normalize_facing, pa_mpjpe, procrustes_align,
                                       put_on_floor, resample)

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')


def random_rotations(rng, shape):
    """Uniformly random proper rotation matrices of shape ``shape + (3, 3)`` (QR with sign fix)."""
    a = rng.normal(size=shape + (3, 3))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    det = np.linalg.det(q)
    q[..., :, 0] *= det[..., None]  # make det = +1
    return q


def rot_y(angle):
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def similarity(rng, x):
    """Apply a random similarity transform per pose to ``(..., J, 3)`` points."""
    lead = x.shape[:-2]
    rot = random_rotations(rng, lead)
    s = rng.uniform(0.3, 3.0, lead)[..., None, None]
    t = rng.normal(size=lead + (1, 3))
    return s * (x @ np.swapaxes(rot, -1, -2)) + t


# ----------------------------------------------------------------------------------------------
# MPJPE / PA-MPJPE / Procrustes
# ----------------------------------------------------------------------------------------------
def test_mpjpe_two_joint_toy():
    pred = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    gt = np.zeros((2, 3))
    assert float(mpjpe(pred, gt)) == pytest.approx(2.5)  # (0 + 5) / 2
    assert float(mpjpe(pred, gt, mask=np.array([False, True]))) == pytest.approx(5.0)
    assert float(mpjpe(torch.tensor(pred), torch.tensor(gt))) == pytest.approx(2.5)
    # Per pose, and a per-pose (padding) mask given with a trailing axis.
    poses = np.stack([pred, pred * 2])  # errors 2.5 and 5
    np.testing.assert_allclose(mpjpe(poses, np.zeros_like(poses), reduction='none'), [2.5, 5.0])
    assert float(mpjpe(poses, np.zeros_like(poses), mask=np.array([[1.0], [0.0]]))) == pytest.approx(2.5)
    per = mpjpe(poses, np.zeros_like(poses), mask=np.array([[1.0], [0.0]]), reduction='none')
    assert per[0] == pytest.approx(2.5) and np.isnan(per[1])


def test_mpjpe_errors():
    with pytest.raises(ValueError, match='same shape'):
        mpjpe(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match='selects no joint'):
        mpjpe(np.zeros((2, 3)), np.ones((2, 3)), mask=np.zeros(2))
    with pytest.raises(ValueError, match='broadcast'):
        mpjpe(np.zeros((4, 2, 3)), np.ones((4, 2, 3)), mask=np.ones(4))
    with pytest.raises(ValueError, match='reduction'):
        mpjpe(np.zeros((2, 3)), np.ones((2, 3)), reduction='sum')


def test_procrustes_recovers_known_similarity():
    gt = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    pred = 0.5 * gt @ rot_y(math.pi / 2).T + np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(procrustes_align(pred, gt), gt, atol=1e-12)
    assert float(pa_mpjpe(pred, gt)) < 1e-12
    assert float(mpjpe(pred, gt)) > 0.5


def test_pa_mpjpe_invariant_to_similarity_of_prediction():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(4, 10, 22, 3))
    moved = similarity(rng, gt)
    assert float(mpjpe(moved, gt)) > 0.5
    assert float(pa_mpjpe(moved, gt)) < 1e-10
    noisy = gt + 0.05 * rng.normal(size=gt.shape)
    base = pa_mpjpe(noisy, gt, reduction='none')
    np.testing.assert_allclose(pa_mpjpe(similarity(rng, noisy), gt, reduction='none'), base, rtol=1e-9, atol=1e-12)
    assert float(base.mean()) < float(mpjpe(noisy, gt))  # alignment can only reduce the error


def test_procrustes_never_reflects():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(50, 8, 3))
    pred = gt * np.array([-1.0, 1.0, 1.0])  # a mirror image: the best orthogonal map would be a reflection
    aligned = procrustes_align(pred, gt)
    for p, a in zip(pred, aligned):
        x, y = p - p.mean(0), a - a.mean(0)
        linear = np.linalg.lstsq(x, y, rcond=None)[0].T  # y_i = A x_i
        assert np.linalg.det(linear) > 0
        s = np.cbrt(np.linalg.det(linear))
        np.testing.assert_allclose(linear @ linear.T / s ** 2, np.eye(3), atol=1e-9)  # A = s R
    assert float(pa_mpjpe(pred, gt)) > 0.1  # a chiral point set cannot be matched by a rotation


def test_procrustes_weights_and_rigid():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(6, 3))
    pred = similarity(rng, gt[None])[0]
    pred[5] += 10.0  # an outlier joint, masked out
    w = np.array([1, 1, 1, 1, 1, 0.0])
    np.testing.assert_allclose(procrustes_align(pred, gt, weights=w)[:5], gt[:5], atol=1e-10)
    assert float(pa_mpjpe(pred, gt, mask=w)) < 1e-10
    assert float(pa_mpjpe(pred, gt)) > 0.1
    # scale=False keeps every distance of pred.
    rigid = procrustes_align(2.0 * gt, gt, scale=False)
    np.testing.assert_allclose(np.linalg.norm(rigid[0] - rigid[1]), 2 * np.linalg.norm(gt[0] - gt[1]))
    np.testing.assert_allclose(rigid.mean(0), gt.mean(0), atol=1e-12)


def test_procrustes_torch_and_batched_match_numpy():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(3, 5, 22, 3))
    pred = gt + 0.1 * rng.normal(size=gt.shape)
    batched = procrustes_align(pred, gt)
    looped = np.stack([np.stack([procrustes_align(pred[b, t], gt[b, t]) for t in range(5)]) for b in range(3)])
    np.testing.assert_allclose(batched, looped, atol=1e-12)
    out_t = procrustes_align(torch.tensor(pred), torch.tensor(gt))
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float64
    np.testing.assert_allclose(out_t.numpy(), batched, atol=1e-10)
    f32 = pa_mpjpe(torch.tensor(pred, dtype=torch.float32), torch.tensor(gt, dtype=torch.float32))
    assert f32.dtype == torch.float32 and float(f32) == pytest.approx(float(pa_mpjpe(pred, gt)), rel=1e-4)
    np.testing.assert_allclose(mpjpe(torch.tensor(pred), torch.tensor(gt), reduction='none').numpy(),
                               mpjpe(pred, gt, reduction='none'), atol=1e-12)


def test_procrustes_degenerate_prediction_is_finite():
    gt = np.random.default_rng(4).normal(size=(5, 3))
    out = procrustes_align(np.zeros((5, 3)), gt)  # all joints at one point: scale 0, the gt centroid
    np.testing.assert_allclose(out, np.broadcast_to(gt.mean(0), (5, 3)), atol=1e-12)


@cuda
@pytest.mark.gpu
def test_geometry_on_cuda():
    rng = np.random.default_rng(5)
    gt = rng.normal(size=(2, 4, 22, 3))
    moved = torch.tensor(similarity(rng, gt), device='cuda')
    assert float(pa_mpjpe(moved, torch.tensor(gt, device='cuda'))) < 1e-8
    ramp = torch.arange(13, dtype=torch.float64, device='cuda').reshape(13, 1, 1).expand(13, 2, 3)
    assert resample(ramp, 120, 20)[:, 0, 0].tolist() == [0.0, 6.0, 12.0]


# ----------------------------------------------------------------------------------------------
# Resampling
# ----------------------------------------------------------------------------------------------
def ramp(frames, joints=3):
    t = np.arange(frames, dtype=np.float64)[:, None, None]
    slope = np.arange(1, joints * 3 + 1, dtype=np.float64).reshape(1, joints, 3)
    return 0.5 + slope * t  # value of frame f: 0.5 + slope * f


def test_resample_linear_ramp_120_to_20():
    x = ramp(121)  # 1 s at 120 fps
    out = resample(x, 120, 20)
    assert out.shape == (21, 3, 3)
    np.testing.assert_array_equal(out, x[::6])  # HumanML3D's poses[::6]
    # Frame k of the output is at source frame 6k: 0.5 + slope * 6k.
    slope = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
    np.testing.assert_allclose(out[3], 0.5 + slope * 18)
    # 125 frames: the last usable sample is frame 120 (124 / 6 = 20.67).
    assert resample(ramp(125), 120, 20).shape[0] == 21


def test_resample_fractional_ratio_and_upsampling():
    x = ramp(31)  # 30 fps -> 20 fps: source frame 1.5 k
    out = resample(x, 30, 20)
    assert out.shape == (21, 3, 3)
    slope = np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3)
    np.testing.assert_allclose(out, 0.5 + slope * (1.5 * np.arange(21))[:, None, None], atol=1e-12)
    up = resample(ramp(3), 20, 60)  # source frames 0, 1/3, 2/3, ..., 2
    np.testing.assert_allclose(up, 0.5 + slope * (np.arange(7) / 3)[:, None, None], atol=1e-12)
    assert resample(ramp(1), 120, 20).shape == (1, 3, 3)


def test_resample_batched_torch_and_axis():
    x = np.stack([ramp(61), 2 * ramp(61)])  # (2, 61, 3, 3)
    out = resample(x, 60, 20)
    assert out.shape == (2, 21, 3, 3)
    np.testing.assert_allclose(out[1], resample(x[1], 60, 20))
    out_t = resample(torch.tensor(x), 60, 20)
    assert isinstance(out_t, torch.Tensor)
    np.testing.assert_allclose(out_t.numpy(), out, atol=1e-12)
    flat = x[0].reshape(61, 9)  # (T, D) features: time is axis -2
    np.testing.assert_allclose(resample(flat, 60, 20, axis=-2), out[0].reshape(21, 9))
    with pytest.raises(ValueError, match='fps'):
        resample(x, 0, 20)


def test_resample_quaternions_slerp():
    q = quaternion_y_rotation(np.array([0.0, math.pi / 2]))[:, None, :]  # (2, 1, 4): 0 -> 90 deg
    out = resample(q, 1, 4, quaternion=True)  # 5 samples: 0, 22.5, 45, 67.5, 90 deg
    expected = quaternion_y_rotation(np.deg2rad([0.0, 22.5, 45.0, 67.5, 90.0]))[:, None, :]
    np.testing.assert_allclose(out, expected, atol=1e-12)
    # q and -q are the same rotation: slerp takes the short arc either way.
    flipped = q.copy()
    flipped[1] *= -1
    out_f = resample(flipped, 1, 4, quaternion=True)
    np.testing.assert_allclose(np.abs((out_f * expected).sum(-1)), 1.0, atol=1e-12)
    out_t = resample(torch.tensor(q), 1, 4, quaternion=True)
    np.testing.assert_allclose(out_t.numpy(), expected, atol=1e-12)
    assert not np.allclose(resample(q, 1, 4), expected)  # linear interpolation is not slerp
    with pytest.raises(ValueError, match='quaternions'):
        resample(np.zeros((4, 2, 3)), 1, 2, quaternion=True)


# ----------------------------------------------------------------------------------------------
# Canonical frame
# ----------------------------------------------------------------------------------------------
def rest_clip(frames=5):
    """A t2m22 rest pose (facing +Z) with a small walk forward, feet not on the floor."""
    skel = get_skeleton('t2m22')
    offsets = skel.raw_offsets * 0.2
    root = np.stack([np.zeros(frames), np.full(frames, 1.2), 0.1 * np.arange(frames)], -1)
    quats = np.zeros((frames, 22, 4))
    quats[..., 0] = 1.0
    return forward_kinematics(quats, offsets, root, skel)


def forward_of(pose, face=(2, 1, 17, 16)):
    r_hip, l_hip, r_sdr, l_sdr = face
    across = (pose[r_hip] - pose[l_hip]) + (pose[r_sdr] - pose[l_sdr])
    f = np.cross([0.0, 1.0, 0.0], across)
    return f / np.linalg.norm(f)


def test_normalize_facing_turns_frame0_to_plus_z():
    clip = rest_clip()
    np.testing.assert_allclose(forward_of(clip[0]), [0, 0, 1], atol=1e-12)  # the rest pose faces +Z
    for angle in (0.3, 2.0, -2.9, math.pi):
        turned = clip @ rot_y(angle).T
        assert not np.allclose(forward_of(turned[0]), [0, 0, 1])
        out = normalize_facing(turned, 't2m22')
        np.testing.assert_allclose(forward_of(out[0]), [0, 0, 1], atol=1e-12)
        np.testing.assert_allclose(out, clip, atol=1e-12)  # the whole clip turns back rigidly
    batch = np.stack([clip @ rot_y(a).T for a in (0.5, -1.0, 3.0)])
    out_b = normalize_facing(torch.tensor(batch), 't2m22')
    np.testing.assert_allclose(out_b.numpy(), np.broadcast_to(clip, batch.shape), atol=1e-12)
    with pytest.raises(ValueError, match='t2m22'):
        normalize_facing(np.zeros((3, 21, 3)), 't2m22')
    with pytest.raises(ValueError, match='facing'):
        normalize_facing(np.zeros((3, 22, 3)), 't2m22')


def test_floor_and_root_centering():
    clip = rest_clip() + np.array([2.0, 0.0, -1.0])
    floored = put_on_floor(clip)
    assert floored[..., 1].min() == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(floored - clip, np.broadcast_to([0.0, -clip[..., 1].min(), 0.0], clip.shape))
    centred = center_root_xz(clip)
    np.testing.assert_allclose(centred[0, 0], [0.0, clip[0, 0, 1], 0.0], atol=1e-15)
    np.testing.assert_allclose(centred[3, 0] - centred[0, 0], clip[3, 0] - clip[0, 0])  # a shift only
    batch = np.stack([clip, clip + 1.0])
    np.testing.assert_allclose(put_on_floor(batch)[1], floored + [1.0, 0.0, 1.0], atol=1e-12)  # per motion
    np.testing.assert_allclose(center_root_xz(torch.tensor(batch))[1].numpy(), centred + [0.0, 1.0, 0.0], atol=1e-12)


def test_canonical_frame_of_humanml3d_reference(shared_data):
    """new_joints/012314.npy is in HumanML3D's canonical frame: the three steps leave it unchanged."""
    joints = np.load(shared_data / 'humanml3d_reference' / 'new_joints' / '012314.npy').astype(np.float64)
    moved = joints @ rot_y(1.1).T + np.array([0.7, 0.25, -3.0])
    out = normalize_facing(center_root_xz(put_on_floor(moved)), 't2m22')
    assert np.abs(out - joints).max() < 1e-6
