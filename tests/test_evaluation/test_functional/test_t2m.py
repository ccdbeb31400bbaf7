import math

import numpy as np
import pytest
import torch

from motionkit.evaluation.functional import (diversity, euclidean_distance_matrix, fid,
                                             mean_confidence_interval, mm_dist, multimodality,
                                             r_precision)


def _feats(n, d=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


# ------------------------------------------------------------------ naive references
def naive_mean_cov(x):
    n, d = x.shape
    mu = [sum(x[i, j] for i in range(n)) / n for j in range(d)]
    cov = np.zeros((d, d))
    for a in range(d):
        for b in range(d):
            cov[a, b] = sum((x[i, a] - mu[a]) * (x[i, b] - mu[b]) for i in range(n)) / (n - 1)
    return np.array(mu), cov


def naive_fid(x, y):
    mu1, s1 = naive_mean_cov(x)
    mu2, s2 = naive_mean_cov(y)
    # tr sqrt(S1 S2) = sum of square roots of the eigenvalues of S1 S2 (real, >= 0)
    eig = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = sum(math.sqrt(max(e.real, 0.0)) for e in eig)
    diff = sum((a - b) ** 2 for a, b in zip(mu1, mu2))
    return diff + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt


def naive_dist(a, b):
    return math.sqrt(sum((p - q) ** 2 for p, q in zip(a, b)))


def naive_r_precision(text, motion, batch=32, top_k=3):
    hits, total = [0] * top_k, 0
    for start in range(0, len(text) - batch + 1, batch):
        for i in range(batch):
            d = [naive_dist(text[start + i], motion[start + j]) for j in range(batch)]
            rank = sum(1 for j in range(batch) if d[j] < d[i])
            for k in range(top_k):
                hits[k] += rank <= k
            total += 1
    return np.array(hits) / total


# ------------------------------------------------------------------ FID
def test_fid_against_naive_formula():
    x, y = _feats(60, 6, 1), _feats(50, 6, 2) * 1.5 + 0.3
    assert fid(x, y) == pytest.approx(naive_fid(x, y), rel=1e-6)


def test_fid_hand_computed():
    x = _feats(100, 8)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-6)
    shift = np.arange(8) * 0.1
    # same covariance, means differ by `shift`: FID = |shift|^2
    assert fid(x, x + shift) == pytest.approx(float(shift @ shift), abs=1e-6)


def test_fid_accepts_torch_and_rejects_nan():
    x = _feats(40, 4)
    assert fid(torch.from_numpy(x).float(), x) == pytest.approx(0.0, abs=1e-4)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        fid(bad, x)
    with pytest.raises(ValueError, match='feature sizes'):
        fid(x, x[:, :3])


# ------------------------------------------------------------------ diversity / multimodality
def test_diversity_against_naive_loop():
    x = _feats(400, 8)
    ours = diversity(x, 300, rng=np.random.RandomState(7))
    g = np.random.RandomState(7)  # the same two draws, as T2M's np.random.choice
    a = g.choice(400, 300, replace=False)
    b = g.choice(400, 300, replace=False)
    expect = sum(naive_dist(x[i], x[j]) for i, j in zip(a, b)) / 300
    assert ours == pytest.approx(expect)


def test_diversity_needs_more_samples_than_times():
    with pytest.raises(ValueError, match='more samples'):
        diversity(_feats(300), 300)


def test_multimodality_against_naive_loop():
    x = np.random.default_rng(3).normal(size=(12, 30, 5))
    ours = multimodality(x, 10, rng=np.random.RandomState(1))
    g = np.random.RandomState(1)
    a = g.choice(30, 10, replace=False)
    b = g.choice(30, 10, replace=False)
    total = sum(naive_dist(x[t, i], x[t, j]) for t in range(12) for i, j in zip(a, b))
    assert ours == pytest.approx(total / 120)
    with pytest.raises(ValueError, match='more repeats'):
        multimodality(x[:, :10], 10)
    with pytest.raises(ValueError, match='3 dimensions'):
        multimodality(x[0], 10)


# ------------------------------------------------------------------ R-precision / MM-Dist
def test_r_precision_against_naive_loop():
    t = _feats(100, 8, 4)
    m = t + np.random.default_rng(5).normal(scale=1.2, size=t.shape)
    with pytest.warns(UserWarning, match='dropped'):
        ours = r_precision(t, m)
    np.testing.assert_allclose(ours, naive_r_precision(t, m))
    assert 0 < ours[0] < ours[1] < ours[2] < 1


def test_r_precision_hand_computed():
    # 1-D embeddings: texts 0,1,2,3 ; motions 0,1,2,3 except motion 0 moved to 2.4
    t = np.array([[0.], [1.], [2.], [3.]])
    m = np.array([[2.4], [1.], [2.], [3.]])
    # text 0: distances 2.4, 1, 2, 3 -> its motion is 3rd; others are 1st
    np.testing.assert_allclose(r_precision(t, m, top_k=3, batch_size=4), [0.75, 0.75, 1.0])


def test_r_precision_fewer_samples_than_batch():
    with pytest.raises(ValueError, match='fewer than one batch'):
        r_precision(_feats(20), _feats(20))
    out = r_precision(_feats(20), _feats(20), batch_size=None)
    assert out.shape == (3, )


def test_mm_dist_naive_and_euclidean_matrix():
    t, m = _feats(64, 6, 1), _feats(64, 6, 2)
    assert mm_dist(t, m) == pytest.approx(np.mean([naive_dist(a, b) for a, b in zip(t, m)]))
    d = euclidean_distance_matrix(t[:5], m[:7])
    assert d.shape == (5, 7)
    assert d[2, 3] == pytest.approx(naive_dist(t[2], m[3]))
    assert np.trace(euclidean_distance_matrix(t[:32], m[:32])) / 32 == pytest.approx(
        mm_dist(t[:32], m[:32]))


def test_mm_dist_and_r_precision_score_the_same_samples():
    # Issue #17: with N = 70 (not a multiple of 32) both must score samples 0..63, the two full
    # batches of 32 of the T2M loop (drop_last), by default.
    t, m = _feats(70, 6, 1), _feats(70, 6, 2)
    far = m.copy()
    far[64:] += 1e3  # the remainder: far away, so scoring it would change both metrics a lot
    with pytest.warns(UserWarning, match='last 6 of 70 samples'):
        d = mm_dist(t, far)
    assert d == pytest.approx(np.mean([naive_dist(a, b) for a, b in zip(t[:64], m[:64])]))
    with pytest.warns(UserWarning, match='last 6 of 70 samples'):
        rp = r_precision(t, far)
    np.testing.assert_allclose(rp, naive_r_precision(t[:64], m[:64]))
    # The trace of the per-batch distance matrices R-precision ranks is MM-Dist.
    trace = sum(np.trace(euclidean_distance_matrix(t[a:a + 32], m[a:a + 32])) for a in (0, 32)) / 64
    assert d == pytest.approx(trace)
    # Scoring all samples stays possible, for both, explicitly.
    assert mm_dist(t, m, batch_size=None) == pytest.approx(np.mean([naive_dist(a, b) for a, b in zip(t, m)]))


def test_mean_confidence_interval_hand_computed():
    mean, ci = mean_confidence_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert ci == pytest.approx(1.96 * math.sqrt(1.25) / 2)  # population std, as np.std
    mean, ci = mean_confidence_interval(np.array([[1., 0.], [3., 0.]]))
    np.testing.assert_allclose(mean, [2., 0.])
    np.testing.assert_allclose(ci, [1.96 / math.sqrt(2), 0.])


# ------------------------------------------------------------------ the fast routes (issue #24)
def test_fid_eigh_route_equals_the_published_sqrtm_route():
    from motionkit.evaluation.functional.t2m import activation_statistics, frechet_distance
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 64)) @ rng.normal(size=(64, 64))
    y = 0.8 * rng.normal(size=(700, 64)) @ rng.normal(size=(64, 64)) + 0.2
    mu1, s1 = activation_statistics(x)
    mu2, s2 = activation_statistics(y)
    fast = frechet_distance(mu1, s1, mu2, s2)
    ref = frechet_distance(mu1, s1, mu2, s2, method='sqrtm')
    assert fast == pytest.approx(ref, rel=1e-6)
    assert fid(x, y) == pytest.approx(ref, rel=1e-6)
    with pytest.raises(ValueError, match="'eigh' or 'sqrtm'"):
        frechet_distance(mu1, s1, mu2, s2, method='svd')


def test_fid_eigh_hand_computed_diagonal_and_singular():
    from motionkit.evaluation.functional.t2m import frechet_distance
    # diagonal covariances: |dmu|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2
    a, b = np.array([4.0, 1.0, 9.0]), np.array([1.0, 1.0, 16.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expect = 1 + 0 + 4 + (2 - 1) ** 2 + 0 + (3 - 4) ** 2
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expect, abs=1e-12)
    # fewer samples than dimensions: singular covariances stay finite, and equal to themselves
    # (the square roots of the ~1e-16 eigenvalues of the null space add ~1e-6 to traces of ~60)
    x = _feats(10, 32, 4)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-5)
    assert np.isfinite(fid(x, _feats(12, 32, 5)))


def test_r_precision_vectorised_equals_a_stable_argsort_loop_with_ties_and_remainder():
    rng = np.random.default_rng(7)
    # integer embeddings: many exact distance ties, which must rank as a stable argsort ranks them
    t = rng.integers(0, 3, size=(200, 4)).astype(float)
    m = rng.integers(0, 3, size=(200, 4)).astype(float)

    def loop(t, m, batch, drop_last):
        hits, total = np.zeros(3), 0
        for s in range(0, len(t), batch):
            tb, mb = t[s:s + batch], m[s:s + batch]
            if len(tb) < batch and drop_last:
                break
            d = euclidean_distance_matrix(tb, mb)
            rank = np.argmax(np.argsort(d, axis=1, kind='stable') == np.arange(len(tb))[:, None], axis=1)
            hits += [(rank <= k).sum() for k in range(3)]
            total += len(tb)
        return hits / total

    with pytest.warns(UserWarning, match='dropped'):
        np.testing.assert_array_equal(r_precision(t, m), loop(t, m, 32, True))
    np.testing.assert_array_equal(r_precision(t, m, drop_last=False), loop(t, m, 32, False))
    np.testing.assert_array_equal(r_precision(t, m, batch_size=None), loop(t, m, 200, False))
    big_t, big_m = _feats(4384, 16, 8), _feats(4384, 16, 9)
    np.testing.assert_array_equal(r_precision(big_t, big_m), loop(big_t, big_m, 32, True))
