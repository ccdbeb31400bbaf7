import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from motionkit.motion import (axis_angle_to_quaternion, cont6d_to_matrix, cont6d_to_quaternion,
                              matrix_to_cont6d, matrix_to_quaternion, qbetween, qfix, qinv, qmul, qrot,
                              quaternion_to_axis_angle, quaternion_to_cont6d, quaternion_to_matrix,
                              quaternion_y_rotation)

S = np.sqrt(0.5)


def _random(n, seed):
    r = Rotation.random(n, random_state=seed)
    q = r.as_quat(scalar_first=True)
    return r, np.where(q[:, :1] < 0, -q, q)


def test_hand_values():
    i, j, k = np.eye(4)[1], np.eye(4)[2], np.eye(4)[3]
    np.testing.assert_allclose(qmul(i, j), k)           # ij = k
    np.testing.assert_allclose(qmul(j, i), -k)          # ji = -k
    y90 = np.array([S, 0, S, 0])                        # 90 deg about +Y
    np.testing.assert_allclose(qrot(y90, [0, 0, 1.0]), [1, 0, 0], atol=1e-15)
    np.testing.assert_allclose(quaternion_y_rotation(np.pi / 2), y90, atol=1e-15)
    z90 = np.array([S, 0, 0, S])
    np.testing.assert_allclose(quaternion_to_matrix(z90), [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-15)
    np.testing.assert_allclose(qmul(y90, qinv(y90)), [1, 0, 0, 0], atol=1e-15)
    np.testing.assert_allclose(qbetween([0, 0, 2.0], [3.0, 0, 0]), y90, atol=1e-15)


def test_against_scipy_batched():
    r1, q1 = _random(200, 0)
    r2, q2 = _random(200, 1)
    v = np.random.default_rng(0).normal(size=(200, 3))
    np.testing.assert_allclose(qrot(q1, v), r1.apply(v), atol=1e-12)
    np.testing.assert_allclose(quaternion_to_matrix(qmul(q1, q2)), (r1 * r2).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(matrix_to_quaternion(r1.as_matrix()), q1, atol=1e-12)
    np.testing.assert_allclose(quaternion_to_axis_angle(q1), r1.as_rotvec(), atol=1e-12)
    np.testing.assert_allclose(axis_angle_to_quaternion(r1.as_rotvec()), q1, atol=1e-12)
    # Broadcasting over leading dims: (4, 1, 4) x (1, 50, 3) -> (4, 50, 3).
    out = qrot(q1[:4, None], v[None, :50])
    assert out.shape == (4, 50, 3)
    np.testing.assert_allclose(out[2, 7], r1[2].apply(v[7]), atol=1e-12)


def test_matrix_to_quaternion_half_turns():
    for axis in np.eye(3):
        m = Rotation.from_rotvec(np.pi * axis).as_matrix()
        q = matrix_to_quaternion(m)
        np.testing.assert_allclose(quaternion_to_matrix(q), m, atol=1e-12)


def test_qbetween_maps_directions_and_degenerate_cases():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(100, 3)), rng.normal(size=(100, 3))
    q = qbetween(a, b)
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(qrot(q, unit(a)), unit(b), atol=1e-10)
    # Opposite vectors: a half turn that still maps a onto b.
    q = qbetween([0, 1.0, 0], [0, -2.0, 0])
    np.testing.assert_allclose(qrot(q, [0, 1.0, 0]), [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(qbetween([0, 0, 0.0], [1.0, 0, 0]), [1, 0, 0, 0])


def test_cont6d_layout_and_round_trip():
    r, q = _random(50, 2)
    m = r.as_matrix()
    d6 = matrix_to_cont6d(m)
    # HumanML3D layout: first two matrix columns.
    np.testing.assert_array_equal(d6[:, :3], m[:, :, 0])
    np.testing.assert_array_equal(d6[:, 3:], m[:, :, 1])
    np.testing.assert_allclose(quaternion_to_cont6d(q), d6, atol=1e-12)
    np.testing.assert_allclose(cont6d_to_quaternion(d6), q, atol=1e-12)
    # Gram-Schmidt turns any non-degenerate 6D vector into a rotation.
    raw = np.random.default_rng(3).normal(size=(50, 6))
    rot = cont6d_to_matrix(raw)
    np.testing.assert_allclose(rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), (50, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0)
    # First column is the normalised first 3-vector.
    np.testing.assert_allclose(rot[:, :, 0], raw[:, :3] / np.linalg.norm(raw[:, :3], axis=1, keepdims=True))


def test_qfix_makes_sequence_continuous():
    _, q = _random(30, 4)
    seq = np.cumsum(np.full((30, 1), 0.05), axis=0) * np.array([[0, 1.0, 0]])
    q = axis_angle_to_quaternion(seq)[:, None, :].repeat(2, axis=1)  # (T, J, 4) smooth
    flipped = q.copy()
    flipped[5:12] *= -1
    flipped[20:, 1] *= -1
    fixed = qfix(flipped)
    np.testing.assert_allclose(fixed, q)
    # Batched with time on axis -3 and torch.
    fixed_t = qfix(torch.tensor(np.stack([flipped, flipped])), axis=-3)
    np.testing.assert_allclose(fixed_t.numpy(), np.stack([q, q]))


def test_numpy_and_torch_agree_and_keep_dtype():
    _, q = _random(64, 5)
    v = np.random.default_rng(5).normal(size=(64, 3))
    qt, vt = torch.tensor(q, dtype=torch.float32), torch.tensor(v, dtype=torch.float32)
    out = qrot(qt, vt)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), qrot(q, v), atol=1e-5)
    np.testing.assert_allclose(cont6d_to_quaternion(quaternion_to_cont6d(qt)).numpy(), q, atol=1e-5)
    assert qrot(q.astype(np.float32), v.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r'\(\.\.\., 4\)'):
        qmul(np.zeros((3, 3)), np.zeros((3, 4)))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_matches_cpu():
    _, q = _random(64, 6)
    v = np.random.default_rng(6).normal(size=(64, 3))
    out = qrot(torch.tensor(q, device='cuda'), torch.tensor(v, device='cuda'))
    assert out.device.type == 'cuda'
    np.testing.assert_allclose(out.cpu().numpy(), qrot(q, v), atol=1e-10)
