"""Linear probe: logistic regression on frozen features, leave-one-out, raw-coordinate features."""
import numpy as np
import pytest
import torch

from motionkit.evaluation.functional.linear_probe import (encode_motions, leave_one_out_accuracy,
                                                          linear_probe_accuracy, raw_joint_features,
                                                          resample_to_length)


def _clusters(n_per_class, num_classes, dim, rng, spread=0.3):
    centres = rng.normal(0, 3, (num_classes, dim))
    y = np.repeat(np.arange(num_classes), n_per_class)
    return centres[y] + rng.normal(0, spread, (len(y), dim)), y


def test_separable_features_reach_100_percent():
    rng = np.random.default_rng(0)
    x, y = _clusters(6, 4, 8, rng)
    loo = leave_one_out_accuracy(x, y)
    assert loo['accuracy'] == 1.0 and loo['mean_class_accuracy'] == 1.0
    assert loo['num_test'] == 24 and loo['num_train'] == 23 and loo['num_classes'] == 4
    xt, yt = _clusters(6, 4, 8, np.random.default_rng(0))  # same centres, new noise
    xt += np.random.default_rng(1).normal(0, 0.3, xt.shape)
    res = linear_probe_accuracy(x, y, xt, yt)
    assert res['accuracy'] == 1.0 and res['predictions'] == yt.tolist()
    # string labels work as well
    names = np.array(['walk', 'run', 'kick', 'wave'])
    assert leave_one_out_accuracy(x, names[y])['accuracy'] == 1.0


def test_shuffled_labels_are_near_chance():
    rng = np.random.default_rng(0)
    x, y = _clusters(100, 4, 8, rng)
    y_shuffled = rng.permutation(y)
    order = rng.permutation(len(y))
    train, test = order[:200], order[200:]
    res = linear_probe_accuracy(x[train], y_shuffled[train], x[test], y_shuffled[test])
    assert 0.1 < res['accuracy'] < 0.4  # chance is 0.25
    assert linear_probe_accuracy(x[train], y[train], x[test], y[test])['accuracy'] == 1.0


def test_more_dims_than_samples_matches_a_direct_fit():
    # The probe fits in an orthonormal basis of the training rows when D > N; the classifier must be
    # the one a direct fit on all D standardised features gives.
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(3)
    x, y = _clusters(5, 3, 60, rng, spread=3.0)
    xt = rng.normal(0, 3, (40, 60))
    res = linear_probe_accuracy(x, y, xt, np.zeros(40, int))
    mean, std = x.mean(0), x.std(0)
    direct = LogisticRegression(C=1.0, max_iter=20000, tol=1e-10).fit((x - mean) / std, y)
    assert res['predictions'] == direct.predict((xt - mean) / std).tolist()


def test_probe_errors():
    x = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match=r'classes \[2\] have one'):
        leave_one_out_accuracy(x, [0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match=r'test labels \[5\] have no training sample'):
        linear_probe_accuracy(x, [0, 0, 1, 1, 1], x[:2], [0, 5])
    with pytest.raises(ValueError, match='at least 2 training classes'):
        linear_probe_accuracy(x, [0] * 5, x, [0] * 5)
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match='features contain NaN'):
        leave_one_out_accuracy(bad, [0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match=r'5 feature rows but labels of shape \(4,\)'):
        leave_one_out_accuracy(x, [0, 0, 1, 1])
    with pytest.raises(ValueError, match='C must be > 0'):
        leave_one_out_accuracy(x, [0, 0, 1, 1, 1], C=0)


def test_resample_and_raw_features_hand_values():
    m = np.zeros((3, 2, 3))
    m[:, 0, 0] = [0.0, 1.0, 2.0]        # root x moves 0 -> 2
    m[:, 1, 1] = [1.0, 1.0, 4.0]        # joint 1 y
    r = resample_to_length(m, 5)
    np.testing.assert_allclose(r[:, 0, 0], [0, 0.5, 1, 1.5, 2])
    np.testing.assert_allclose(r[:, 1, 1], [1, 1, 1, 2.5, 4])
    np.testing.assert_allclose(resample_to_length(m[:1], 3), np.repeat(m[:1], 3, 0))
    f = raw_joint_features([m], num_frames=5, center='frame').reshape(5, 2, 3)
    np.testing.assert_allclose(f[:, 0], 0.0)                      # the root at the origin in every frame
    np.testing.assert_allclose(f[:, 1, 0], [0, -0.5, -1, -1.5, -2])  # joint 1 relative to the moving root
    g = raw_joint_features([m], num_frames=5, center='first').reshape(5, 2, 3)
    np.testing.assert_allclose(g[:, 0, 0], [0, 0.5, 1, 1.5, 2])   # the trajectory is kept
    assert raw_joint_features([m, np.ones((7, 2, 3))], num_frames=4).shape == (2, 24)
    with pytest.raises(ValueError, match=r'motion 1: expected joints of shape \(T, J, 3\)'):
        raw_joint_features([m, np.ones((7, 2))])


def test_encode_motions_batches_equal_lengths_in_order():
    motions = [np.full((t, 22, 3), float(k)) for k, t in enumerate([5, 7, 5, 9, 5, 7])]
    calls = []

    def encode(x):
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
        calls.append(tuple(x.shape))
        return torch.stack([x.mean((1, 2, 3)), x.shape[1] * torch.ones(len(x))], 1)

    z = encode_motions(encode, motions, batch_size=2)
    np.testing.assert_allclose(z, [[k, t] for k, t in enumerate([5, 7, 5, 9, 5, 7])])
    # never padded: every call holds one length; at most batch_size motions per call
    assert sorted(calls) == sorted([(2, 5, 22, 3), (1, 5, 22, 3), (2, 7, 22, 3), (1, 9, 22, 3)])
    with pytest.raises(ValueError, match=r'returned shape \(2,\) for a batch of 2 motions'):
        encode_motions(lambda x: x.mean((1, 2, 3)), motions, batch_size=2)
    with pytest.raises(ValueError, match='NaN/inf'):
        encode_motions(lambda x: torch.full((len(x), 3), float('nan')), motions)
