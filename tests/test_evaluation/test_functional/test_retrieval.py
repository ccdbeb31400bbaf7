import numpy as np
import pytest

from motionkit.evaluation.functional import (batched_retrieval, directional_metrics,
                                             median_rank, retrieval_ranks, retrieval_recall)


def naive_tmr_positions(sim, positives=None):
    """TMR's algorithm written out: sort the row, find where the (best) ground truth sits,
    average over equal values."""
    n = sim.shape[0]
    out = []
    for i in range(n):
        row = sorted(-sim[i])
        cands = [j for j in range(sim.shape[1]) if (positives[i][j] if positives is not None
                                                    else j == i)]
        gt = min(-sim[i][j] for j in cands)
        hits = [c for c, v in enumerate(row) if v == gt]
        out.append(sum(hits) / len(hits))
    return np.array(out)


def test_ranks_hand_computed_with_tie_averaging():
    sim = np.array([[0.5, 0.5, 0.1],
                    [0.9, 0.2, 0.3],
                    [0.0, 0.1, 0.8]])
    # row 0: gt tied with column 1 -> positions 0 and 1 averaged; row 1: 3rd; row 2: 1st
    np.testing.assert_allclose(retrieval_ranks(sim), [0.5, 2.0, 0.0])
    rec = retrieval_recall(sim, ks=(1, 2, 3))
    assert rec == {1: pytest.approx(2 / 3), 2: pytest.approx(2 / 3), 3: 1.0}
    assert median_rank(sim) == pytest.approx(1.5)
    # motion -> text direction reads the columns
    np.testing.assert_allclose(retrieval_ranks(sim.T), [1.0, 1.0, 0.0])


def test_ranks_against_naive_tmr():
    rng = np.random.default_rng(0)
    sim = np.round(rng.normal(size=(40, 40)), 1)  # rounding creates ties
    np.testing.assert_allclose(retrieval_ranks(sim), naive_tmr_positions(sim))
    np.testing.assert_allclose(retrieval_ranks(sim.T), naive_tmr_positions(sim.T))


def test_threshold_protocol_near_duplicate_texts():
    sim = np.array([[0.2, 0.9, 0.1],
                    [0.1, 0.8, 0.0],
                    [0.0, 0.1, 0.7]])
    text = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0]])  # texts 0 and 1 near-duplicates
    assert retrieval_recall(sim, ks=(1, ))[1] == pytest.approx(2 / 3)
    assert retrieval_recall(sim, ks=(1, ), text_embeddings=text, threshold=0.95)[1] == 1.0
    pos = (text / np.linalg.norm(text, axis=1, keepdims=True))
    pos = pos @ pos.T > 0.9
    np.testing.assert_allclose(retrieval_ranks(sim, positives=pos),
                               naive_tmr_positions(sim, pos))
    with pytest.raises(ValueError, match='both'):
        retrieval_recall(sim, text_embeddings=text)


def test_batched_protocol_against_loop():
    rng = np.random.default_rng(1)
    n = 100
    sim = rng.normal(size=(n, n)) + 2 * np.eye(n)
    idx = np.arange(n)
    np.random.RandomState(0).shuffle(idx)
    r1 = []
    for b in range(n // 32):
        sel = idx[32 * b:32 * (b + 1)]
        r1.append(np.mean(naive_tmr_positions(sim[np.ix_(sel, sel)]) < 1))
    out = batched_retrieval(sim, 32, seed=0)
    assert out['t2m/R01'] == pytest.approx(np.mean(r1))
    assert set(out) == set(directional_metrics(sim[:5, :5]))
    with pytest.raises(ValueError, match='fewer than one batch'):
        batched_retrieval(sim[:20, :20])


def test_expertaf_candidate_pool_recall_at_50():
    rng = np.random.default_rng(2)
    sim = rng.normal(size=(10, 200))
    gt = rng.integers(0, 200, size=10)
    sim[np.arange(5), gt[:5]] = 10.0  # first five found at rank 1
    rec = retrieval_recall(sim, ks=(1, 50), gt_index=gt)
    assert rec[1] == pytest.approx(0.5)
    assert median_rank(sim, gt_index=gt) >= 1
    with pytest.raises(ValueError, match='gt_index'):
        retrieval_recall(sim)
    with pytest.raises(ValueError, match='NaN'):
        retrieval_recall(np.full((2, 2), np.nan))
