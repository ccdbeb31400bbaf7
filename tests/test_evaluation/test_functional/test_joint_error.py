import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motionkit.evaluation.functional import mpjpe, pa_mpjpe, similarity_procrustes


def _joints(shape=(2, 5, 22), seed=0):
    return np.random.default_rng(seed).normal(size=(*shape, 3))


def test_mpjpe_hand_computed():
    gt = _joints((3, 4))
    pred = gt + np.array([0.003, 0.004, 0.0])  # 5 mm everywhere
    assert mpjpe(pred, gt) == pytest.approx(5.0)
    assert mpjpe(pred, gt, scale=1.0) == pytest.approx(0.005)
    pred2 = gt.copy()
    pred2[:, 0] += [0.0, 0.0, 0.012]  # 12 mm on 1 of 4 joints
    np.testing.assert_allclose(mpjpe(pred2, gt, reduction='per_frame'), [3.0, 3.0, 3.0])
    # root-relative: a global offset disappears
    assert mpjpe(gt + 1.0, gt, root_index=0) == pytest.approx(0.0, abs=1e-9)


def test_mpjpe_mask_and_per_motion():
    gt = np.zeros((2, 3, 2, 3))
    pred = gt.copy()
    pred[0, :, :, 0] = 0.001  # motion 0: 1 mm over 3 frames
    pred[1, :, :, 0] = 0.004  # motion 1: 4 mm, only its first frame is valid
    mask = np.array([[1, 1, 1], [1, 0, 0]], bool)
    assert mpjpe(pred, gt, mask=mask) == pytest.approx((3 * 1 + 4) / 4)  # frame weighted
    np.testing.assert_allclose(mpjpe(pred, gt, mask=mask, reduction='per_motion'), [1.0, 4.0])
    with pytest.raises(ValueError, match='leading shape'):
        mpjpe(pred, gt, mask=mask[:, :2])
    with pytest.raises(ValueError, match='no frame'):
        mpjpe(pred, gt, mask=np.zeros_like(mask))


def test_pa_mpjpe_invariant_to_similarity_transform():
    gt = _joints()
    rot = Rotation.random(random_state=3).as_matrix()
    pred = 1.7 * gt @ rot.T + np.array([0.5, -2.0, 3.0])
    assert pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert mpjpe(pred, gt) > 100
    noisy = gt + np.random.default_rng(1).normal(scale=0.01, size=gt.shape)
    base = pa_mpjpe(noisy, gt)
    moved = 0.5 * noisy @ Rotation.random(random_state=9).as_matrix().T - 4.0
    assert pa_mpjpe(moved, gt) == pytest.approx(base, rel=1e-6)
    assert 0 < base < mpjpe(noisy, gt) + 1e-9


def test_procrustes_matches_naive_least_squares():
    # compare with scipy's orthogonal Procrustes on centred points + closed-form scale
    from scipy.linalg import orthogonal_procrustes
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(1, 10, 3)), rng.normal(size=(1, 10, 3))
    xc, yc = x[0] - x[0].mean(0), y[0] - y[0].mean(0)
    r, s = orthogonal_procrustes(xc, yc)  # xc @ r ~ yc
    if np.linalg.det(r) < 0:  # reflection: the proper-rotation solution is what we want
        pytest.skip('random draw needs a reflection')
    expect = (s / (xc ** 2).sum()) * xc @ r + y[0].mean(0)
    np.testing.assert_allclose(similarity_procrustes(x, y)[0], expect, atol=1e-9)


def test_joint_error_bad_inputs():
    gt = _joints((2, 3))
    with pytest.raises(ValueError, match='shapes differ'):
        mpjpe(gt[:1], gt)
    bad = gt.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        pa_mpjpe(bad, gt)
    with pytest.raises(ValueError, match='reduction'):
        mpjpe(gt, gt, reduction='sum')


def test_own_procrustes_agrees_with_shared_geometry():
    geometry = pytest.importorskip('motionkit.motion.geometry')
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 22, 3)), rng.normal(size=(6, 22, 3))
    np.testing.assert_allclose(similarity_procrustes(x, y), geometry.procrustes_align(x, y),
                               atol=1e-9)
