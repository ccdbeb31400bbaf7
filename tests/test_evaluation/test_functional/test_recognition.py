import numpy as np
import pytest

from motionkit.evaluation.functional import (bucket_accuracy, frequency_buckets,
                                             mean_average_precision, top_k_accuracy)


def test_top_k_hand_computed():
    scores = np.array([[0.1, 0.7, 0.2],
                       [0.5, 0.3, 0.2],
                       [0.2, 0.3, 0.5]])
    labels = np.array([1, 1, 0])
    # sample 0 top-1; sample 1 label 2nd; sample 2 label 3rd
    assert top_k_accuracy(scores, labels, (1, 2, 3)) == {1: pytest.approx(1 / 3),
                                                         2: pytest.approx(2 / 3), 3: 1.0}
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        top_k_accuracy(scores, [0, 1, 3])


def naive_ap(y, s):
    order = sorted(range(len(s)), key=lambda i: -s[i])
    hits, total = 0, 0.0
    for rank, i in enumerate(order, 1):
        if y[i]:
            hits += 1
            total += hits / rank
    return total / sum(y)


def test_map_against_naive_ap():
    rng = np.random.default_rng(0)
    scores = rng.random((30, 5))
    targets = (rng.random((30, 5)) > 0.6).astype(int)
    targets[:, 4] = 0  # a class without positives is left out
    expect = np.mean([naive_ap(targets[:, c], scores[:, c]) for c in range(4)])
    assert mean_average_precision(scores, targets) == pytest.approx(expect)
    with pytest.raises(ValueError, match='no class'):
        mean_average_precision(scores, np.zeros_like(targets))


def test_frequency_buckets_and_accuracy():
    counts = np.array([5, 100, 50, 1, 2, 3, 40, 30, 20, 10])  # 10 classes -> 1 / 3 / 6
    b = frequency_buckets(counts)
    assert b[1] == 0 and set(np.flatnonzero(b == 1)) == {2, 6, 7}
    assert (b == 2).sum() == 6
    scores = np.eye(10)[[1, 2, 6, 3, 4, 7]]  # predicted classes
    labels = np.array([1, 2, 0, 3, 5, 6])  # head 1/1 right; medium (2, 6) 1/2; tail (0, 3, 5) 1/3
    acc = bucket_accuracy(scores, labels, counts)
    assert acc == {'head': 1.0, 'medium': 0.5, 'tail': pytest.approx(1 / 3)}


def test_multilabel_top1_hit_hand_computed():
    from motionkit.evaluation.functional import multilabel_top1_hit
    # 4 classes; training counts make class 0 head, 1 medium, 2 and 3 tail with fractions
    # (0.25, 0.25, 0.5): 1 head, 1 medium, 2 tail
    counts = np.array([50, 20, 5, 1])
    scores = np.array([[0.9, 0.1, 0.0, 0.0],   # top 0, labels {0, 2}: hit (head)
                       [0.1, 0.2, 0.7, 0.0],   # top 2, labels {0, 2}: hit (tail)
                       [0.8, 0.1, 0.0, 0.1],   # top 0, labels {1, 3}: miss
                       [0.0, 0.1, 0.2, 0.7],   # top 3, labels {3}: hit (tail)
                       [0.5, 0.2, 0.2, 0.1]])  # no label: left out
    targets = np.array([[1, 0, 1, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    out = multilabel_top1_hit(scores, targets, counts, fractions=(0.25, 0.25, 0.5))
    assert out['top1'] == pytest.approx(3 / 4)
    # head: samples 0, 1 have class 0; sample 0's top-1 is class 0, sample 1's is a tail class
    assert out['head'] == pytest.approx(1 / 2)
    # medium: sample 2 (class 1); its top-1 is class 0: miss
    assert out['medium'] == pytest.approx(0.0)
    # tail: samples 0, 1, 2, 3 have a tail label; hits with a tail top-1: samples 1 and 3
    assert out['tail'] == pytest.approx(2 / 4)
    assert set(multilabel_top1_hit(scores, targets)) == {'top1'}
    with pytest.raises(ValueError, match='targets shape'):
        multilabel_top1_hit(scores, targets[:, :3])
    with pytest.raises(ValueError, match='no sample has a label'):
        multilabel_top1_hit(scores, np.zeros_like(targets))
