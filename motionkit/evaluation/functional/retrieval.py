"""Cross-modal retrieval: recall@k and median rank, with the TMR evaluation protocols.

TMR (Petrovich et al., ICCV 2023; ``src/model/metrics.py`` and ``retrieval.py`` of
github.com/Mathux/TMR) scores a similarity matrix ``S`` (queries x candidates, cosine of the
normalised latents) and reads, for each query, the 0-based position of its ground truth in the
row sorted by decreasing similarity:

* ties between the ground truth and other candidates are broken by *averaging* the tied positions;
* R@k = share of queries whose position is ``< k``; MedR = median position + 1;
* protocol (a) "all": the whole test set; (b) "threshold": a candidate also counts as correct if
  its text is a near-duplicate of the query's, i.e. text-embedding score ``cos/2 + 1/2 > 0.95``
  (cosine > 0.9) -- the best-placed correct candidate gives the position; (c) "dissimilar
  subset": a fixed list of 100 test pairs with dissimilar texts; (d) "small batches": the test set
  (sorted keys shuffled with ``np.random.seed(0)``) cut into batches of 32 (remainder dropped),
  metrics averaged over batches (as Guo et al.'s R-precision).

ExpertAF's expert-demonstration retrieval reports recall@50 and the median rank over a
candidate pool that can be larger than the query set: pass ``gt_index``.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Union

import numpy as np

ArrayLike = Union[np.ndarray, 'torch.Tensor']  # noqa: F821

__all__ = ['cosine_similarity_matrix', 'retrieval_ranks', 'retrieval_recall', 'median_rank',
           'batched_retrieval', 'directional_metrics']


def _matrix(x: ArrayLike, name: str) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f'{name} must be 2-D, got shape {x.shape}')
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f'{name} is empty: shape {x.shape}')
    if not np.isfinite(x).all():
        raise ValueError(f'{name} contains NaN/inf')
    return x


def cosine_similarity_matrix(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Cosine similarity ``(N, M)`` of rows of ``a`` ``(N, D)`` and ``b`` ``(M, D)``."""
    a = _matrix(a, 'a')
    b = _matrix(b, 'b')
    if a.shape[1] != b.shape[1]:
        raise ValueError(f'embedding sizes differ: {a.shape} vs {b.shape}')
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def retrieval_ranks(similarity: ArrayLike, gt_index: Optional[ArrayLike] = None,
                    positives: Optional[ArrayLike] = None) -> np.ndarray:
    """0-based position of each query's ground truth among the candidates (ties averaged).

    Args:
        similarity: ``(N, M)``, higher = more similar.
        gt_index: ``(N,)`` index of the correct candidate per query; default ``arange(N)``
            (requires ``N == M``: the diagonal).
        positives: optional boolean ``(N, M)``: every candidate that counts as correct (TMR
            threshold protocol); the best-scored positive gives the position. Overrides
            ``gt_index``.

    Returns:
        ``(N,)`` float positions (``.5`` values where ties were averaged).
    """
    sim = _matrix(similarity, 'similarity')
    n, m = sim.shape
    if positives is not None:
        pos = np.asarray(positives, dtype=bool)
        if pos.shape != sim.shape:
            raise ValueError(f'positives shape {pos.shape} != similarity shape {sim.shape}')
        if not pos.any(axis=1).all():
            raise ValueError('every query needs at least one positive candidate')
        gt_sim = np.where(pos, sim, -np.inf).max(axis=1)
    else:
        if gt_index is None:
            if n != m:
                raise ValueError(f'similarity is {n}x{m}: pass gt_index for non-square matrices')
            gt_index = np.arange(n)
        gt_index = np.asarray(gt_index)
        if gt_index.shape != (n,) or gt_index.min() < 0 or gt_index.max() >= m:
            raise ValueError(f'gt_index must be {n} indices in [0, {m}), got shape '
                             f'{gt_index.shape}')
        gt_sim = sim[np.arange(n), gt_index]
    better = (sim > gt_sim[:, None]).sum(axis=1)
    tied = (sim == gt_sim[:, None]).sum(axis=1)  # includes the ground truth itself
    # Tied positions are better .. better + tied - 1; TMR's "averaging" takes their mean.
    return better + (tied - 1) / 2.0


def _positives_from_text(text_embeddings: ArrayLike, threshold: float) -> np.ndarray:
    e = _matrix(text_embeddings, 'text_embeddings')
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    # TMR thresholds the score cos/2 + 1/2, i.e. cos > 2 * threshold - 1.
    return (e @ e.T) > 2 * threshold - 1


def retrieval_recall(similarity: ArrayLike, ks: Sequence[int] = (1, 2, 3, 5, 10),
                     gt_index: Optional[ArrayLike] = None,
                     text_embeddings: Optional[ArrayLike] = None,
                     threshold: Optional[float] = None) -> Dict[int, float]:
    """Recall@k of the queries along the rows of ``similarity``.

    Args:
        similarity: ``(N, M)`` query x candidate similarities (use ``.T`` for the other direction).
        ks: cut-offs.
        gt_index: see :func:`retrieval_ranks`.
        text_embeddings: ``(N, D)`` sentence embeddings of the texts (square matrices only) and
            ``threshold`` (0.95 in TMR): near-duplicate texts count as correct.

    Returns:
        ``{k: fraction}`` in ``[0, 1]``.
    """
    ranks = _ranks(similarity, gt_index, text_embeddings, threshold)
    return {int(k): float((ranks < k).mean()) for k in ks}


def median_rank(similarity: ArrayLike, gt_index: Optional[ArrayLike] = None,
                text_embeddings: Optional[ArrayLike] = None,
                threshold: Optional[float] = None) -> float:
    """Median 1-based rank of the ground truth (MedR), arguments as :func:`retrieval_recall`."""
    return float(np.median(_ranks(similarity, gt_index, text_embeddings, threshold)) + 1)


def _ranks(similarity, gt_index, text_embeddings, threshold):
    if (text_embeddings is None) != (threshold is None):
        raise ValueError('the threshold protocol needs both text_embeddings and threshold')
    positives = None
    if text_embeddings is not None:
        sim = _matrix(similarity, 'similarity')
        if sim.shape[0] != sim.shape[1] or len(text_embeddings) != sim.shape[0]:
            raise ValueError(f'threshold protocol needs a square similarity and one text '
                             f'embedding per row: {sim.shape}, {len(text_embeddings)} texts')
        positives = _positives_from_text(text_embeddings, threshold)
    return retrieval_ranks(similarity, gt_index, positives)


def batched_retrieval(similarity: ArrayLike, batch_size: int = 32, seed: Optional[int] = 0,
                      ks: Sequence[int] = (1, 2, 3, 5, 10)) -> Dict[str, float]:
    """TMR protocol (d): mean over random batches of ``batch_size`` of both directions' metrics.

    Args:
        similarity: ``(N, N)`` text x motion similarities of the whole set, rows in sorted-key
            order (TMR sorts the key ids before shuffling).
        batch_size: 32 in TMR.
        seed: the order is ``np.random.RandomState(seed).shuffle(arange(N))`` (TMR calls
            ``np.random.seed(0); np.random.shuffle``, the same stream); ``None`` keeps the order.

    Returns:
        ``{'t2m/R01', ..., 't2m/MedR', 'm2t/R01', ..., 'm2t/MedR'}`` averaged over the
        ``N // batch_size`` batches (fractions for recalls).
    """
    sim = _matrix(similarity, 'similarity')
    n = sim.shape[0]
    if sim.shape[1] != n:
        raise ValueError(f'batched retrieval needs a square similarity, got {sim.shape}')
    if n < batch_size:
        raise ValueError(f'batched retrieval: {n} pairs are fewer than one batch of {batch_size}')
    idx = np.arange(n)
    if seed is not None:
        np.random.RandomState(seed).shuffle(idx)
    per_batch = []
    for b in range(n // batch_size):
        sel = idx[b * batch_size:(b + 1) * batch_size]
        per_batch.append(directional_metrics(sim[np.ix_(sel, sel)], ks))
    return {key: float(np.mean([m[key] for m in per_batch])) for key in per_batch[0]}


def directional_metrics(similarity: ArrayLike, ks: Sequence[int] = (1, 2, 3, 5, 10),
                        text_embeddings: Optional[ArrayLike] = None,
                        threshold: Optional[float] = None) -> Dict[str, float]:
    """Text->motion (rows) and motion->text (columns) recalls and MedR of a square matrix.

    Keys: ``t2m/R{k:02d}``, ``t2m/MedR``, ``m2t/R{k:02d}``, ``m2t/MedR``.
    """
    sim = _matrix(similarity, 'similarity')
    out = {}
    for name, s in (('t2m', sim), ('m2t', sim.T)):
        ranks = _ranks(s, None, text_embeddings, threshold)
        for k in ks:
            out[f'{name}/R{int(k):02d}'] = float((ranks < k).mean())
        out[f'{name}/MedR'] = float(np.median(ranks) + 1)
    return out

