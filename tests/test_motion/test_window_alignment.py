import numpy as np
import pytest
import torch

from motionkit.evaluation.functional.joint_error import pa_mpjpe as eval_pa_mpjpe
from motionkit.motion import best_window, sliding_pa_mpjpe, sliding_windows


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def test_sliding_windows_gathers_the_right_frames():
    seq = np.arange(6 * 2 * 3, dtype=np.float64).reshape(6, 2, 3)
    w = sliding_windows(seq, 3, [0, 2, 3])
    assert w.shape == (3, 3, 2, 3)
    np.testing.assert_array_equal(w[1], seq[2:5])
    assert sliding_windows(seq, 3).shape[0] == 4  # starts 0..3
    with pytest.raises(ValueError, match='start 4 is outside 0..3'):
        sliding_windows(seq, 3, [4])
    with pytest.raises(ValueError, match='does not fit'):
        sliding_windows(seq, 7)


def test_matches_a_loop_over_offsets_with_the_evaluation_pa_mpjpe():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(12, 17, 3))
    query = rng.normal(size=(4, 17, 3))
    fast = sliding_pa_mpjpe(query, seq)
    loop = [eval_pa_mpjpe(seq[s:s + 4], query, scale=1.0) for s in range(12 - 4 + 1)]
    np.testing.assert_allclose(fast, loop, rtol=1e-9, atol=1e-12)
    # torch gives the same numbers
    t = sliding_pa_mpjpe(torch.as_tensor(query), torch.as_tensor(seq))
    np.testing.assert_allclose(t.numpy(), loop, rtol=1e-7)


def test_finds_a_rotated_scaled_shifted_copy_at_its_offset():
    rng = np.random.default_rng(1)
    seq = rng.normal(size=(20, 17, 3))
    # the query is frames 7..11 of the sequence, rotated, scaled by 1.3 and moved: PA-MPJPE 0 there
    query = 1.3 * seq[7:12] @ _rot_y(0.7).T + np.array([1.0, 0.0, -2.0])
    start, err = best_window(query, seq)
    assert start == 7 and err < 1e-9
    # a restricted search that excludes 7 finds something else, with a positive error
    start2, err2 = best_window(query, seq, [0, 1, 2, 3])
    assert start2 in (0, 1, 2, 3) and err2 > 0.1


def test_hand_computed_two_joint_case():
    # Two joints: any 2-point set aligns exactly onto any other (rotation + scale + translation),
    # so PA-MPJPE is 0; with three collinear-vs-bent joints it is not.
    seq = np.array([[[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 0, 0], [1, 0, 0], [1, 1, 0]]], float)
    query = np.array([[[0, 0, 0], [1, 0, 0], [2, 0, 0]]], float)
    err = sliding_pa_mpjpe(query, seq)
    assert err[0] == pytest.approx(0, abs=1e-12)
    # the bent pose: after the best similarity fit the residual equals the evaluation's number
    assert err[1] == pytest.approx(eval_pa_mpjpe(seq[1:2], query, scale=1.0), rel=1e-9)
    assert err[1] > 0.05


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match=r'query must have shape \(T, J, 3\)'):
        sliding_pa_mpjpe(np.zeros((4, 17)), np.zeros((8, 17, 3)))
    bad = np.zeros((8, 17, 3))
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match='sequence contains NaN'):
        sliding_pa_mpjpe(np.zeros((4, 17, 3)), bad)
    with pytest.raises(ValueError, match='poses'):
        sliding_pa_mpjpe(np.ones((2, 5, 3)), np.ones((8, 17, 3)))
