"""Text-to-motion metrics on evaluator embeddings (Guo et al., CVPR 2022, "Generating Diverse and
Natural 3D Human Motions from Text"): FID, Diversity, MultiModality, R-precision, MM-Dist.

The formulas follow ``utils/metrics.py`` and ``final_evaluations.py`` of
github.com/EricGuo5513/text-to-motion, which MDM, T2M-GPT, MoMask and MARDM reuse:

* FID: Frechet distance between Gaussians fitted to two feature sets (mean, ``np.cov`` with
  ``rowvar=False``, i.e. ddof=1), ``||mu1-mu2||^2 + tr(S1 + S2 - 2 sqrtm(S1 S2))``; if the matrix
  square root is not finite, ``eps * I`` (1e-6) is added to both covariances.
* Diversity: draw ``diversity_times`` indices twice, each draw without replacement but the two
  draws independent (so a pair may be an item with itself); mean Euclidean distance of the pairs.
* MultiModality: for features ``(num_texts, num_repeats, D)``, draw ``mm_num_times`` repeat indices
  twice (same draws for every text); mean distance over texts and pairs.
* R-precision: in consecutive batches of 32 (the loader's ``drop_last=True`` drops the remainder),
  the text x motion Euclidean distance matrix; a text counts at top-k if its own motion is among the
  k nearest. Counts are summed over batches and divided by the number of evaluated samples.
* MM-Dist ("matching score"): mean distance between each text embedding and its own motion
  embedding (the trace of the per-batch distance matrices over the evaluated samples); by default
  over the same full batches of 32 as R-precision (the remainder dropped).
* Replications: ``mean`` and ``1.96 * std / sqrt(n)`` with the population std (``np.std``, ddof=0).

Everything runs in float64 (the published code runs in the evaluator's float32).
"""
from __future__ import annotations

import warnings
from typing import Optional, Tuple, Union

import numpy as np

ArrayLike = Union[np.ndarray, 'torch.Tensor']  # noqa: F821
RNG = Union[None, int, np.random.Generator, np.random.RandomState]

__all__ = [
    'euclidean_distance_matrix', 'activation_statistics', 'frechet_distance', 'fid', 'diversity',
    'multimodality', 'r_precision', 'mm_dist', 'clip_score', 'mean_confidence_interval'
]


def _features(x: ArrayLike, name: str, ndim: int = 2) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != ndim:
        raise ValueError(f'{name} must have {ndim} dimensions, got shape {x.shape}')
    if x.shape[0] == 0:
        raise ValueError(f'{name} is empty: shape {x.shape}')
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=tuple(range(1, x.ndim))).sum())
        raise ValueError(f'{name} has NaN/inf in {bad} of {x.shape[0]} rows')
    return x


def _rng(rng: RNG):
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    raise TypeError(f'rng must be None, an int seed, a Generator or a RandomState, got {rng!r}')


def euclidean_distance_matrix(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Pairwise Euclidean distances ``(N1, N2)`` between rows of ``a`` ``(N1, D)`` and ``b`` ``(N2, D)``.

    Uses the expansion ``|a|^2 - 2 a.b + |b|^2`` as the T2M code does, clipped at 0 before the
    square root (rounding can make it slightly negative).
    """
    a = _features(a, 'a')
    b = _features(b, 'b')
    if a.shape[1] != b.shape[1]:
        raise ValueError(f'feature sizes differ: {a.shape} vs {b.shape}')
    sq = (a ** 2).sum(1)[:, None] - 2.0 * a @ b.T + (b ** 2).sum(1)[None, :]
    return np.sqrt(np.maximum(sq, 0.0))


def activation_statistics(features: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` (ddof=1) of ``features`` ``(N, D)``."""
    x = _features(features, 'features')
    if x.shape[0] < 2:
        raise ValueError(f'need at least 2 samples for a covariance, got {x.shape[0]}')
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrt_psd(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (eigenvalues below 0,
    rounding noise, are clipped)."""
    w, v = np.linalg.eigh(sigma)
    return (v * np.sqrt(np.maximum(w, 0.0))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6, method: str = 'eigh') -> float:
    """Frechet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``:
    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))`` (Heusel et al. 2017,
    eq. 6; the T2M / MDM ``calculate_frechet_distance``).

    ``method='eigh'`` (default) takes the trace term without a general matrix square root: for
    symmetric PSD ``A, B``, ``A B`` is similar to ``A^(1/2) B A^(1/2)`` (symmetric PSD), so
    ``tr((A B)^(1/2)) = sum_i sqrt(lambda_i(A^(1/2) B A^(1/2)))``: two symmetric eigen-decompositions,
    about 5x faster than ``scipy.linalg.sqrtm`` at D = 512 and equal to it to ~1e-10 relative on
    well-conditioned covariances (tests/test_evaluation/test_functional/test_t2m.py). It stays finite
    on singular covariances (fewer samples than dimensions), where sqrtm needs the ``eps`` offset.
    ``method='sqrtm'`` is the published route (``scipy.linalg.sqrtm`` of the product, ``eps`` added
    to the diagonals when it is not finite, imaginary parts above 1e-3 refused).
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f'statistics shapes differ: mu {mu1.shape} vs {mu2.shape}, '
                         f'sigma {sigma1.shape} vs {sigma2.shape}')
    diff = mu1 - mu2
    if method == 'eigh':
        root1 = _sqrt_psd((sigma1 + sigma1.T) / 2)
        inner = root1 @ sigma2 @ root1
        lam = np.linalg.eigvalsh((inner + inner.T) / 2)
        tr_covmean = float(np.sqrt(np.maximum(lam, 0.0)).sum())
        return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)
    if method != 'sqrtm':
        raise ValueError(f"method must be 'eigh' or 'sqrtm', got {method!r}")
    from scipy import linalg
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        warnings.warn(f'FID: singular covariance product; adding {eps} to the diagonals')
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f'FID: imaginary component {np.max(np.abs(covmean.imag))} '
                             'in the covariance square root')
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(features1: ArrayLike, features2: ArrayLike) -> float:
    """FID between two feature sets ``(N1, D)`` and ``(N2, D)`` (e.g. generated vs ground truth)."""
    mu1, s1 = activation_statistics(_features(features1, 'features1'))
    mu2, s2 = activation_statistics(_features(features2, 'features2'))
    if mu1.shape != mu2.shape:
        raise ValueError(f'feature sizes differ: {mu1.shape[0]} vs {mu2.shape[0]}')
    return frechet_distance(mu1, s1, mu2, s2)


def diversity(features: ArrayLike, diversity_times: int = 300, rng: RNG = None) -> float:
    """Mean distance of ``diversity_times`` random pairs of ``features`` ``(N, D)``.

    Raises:
        ValueError: if ``N <= diversity_times`` (the published code asserts ``N > times``).
    """
    x = _features(features, 'features')
    n = x.shape[0]
    if n <= diversity_times:
        raise ValueError(f'diversity needs more samples ({n}) than diversity_times '
                         f'({diversity_times})')
    g = _rng(rng)
    first = g.choice(n, diversity_times, replace=False)
    second = g.choice(n, diversity_times, replace=False)
    return float(np.linalg.norm(x[first] - x[second], axis=1).mean())


def multimodality(features: ArrayLike, mm_num_times: int = 10, rng: RNG = None) -> float:
    """Mean distance between pairs of motions generated for the same text.

    Args:
        features: ``(num_texts, num_repeats, D)`` embeddings of repeated generations per text.
        mm_num_times: pairs per text (the same repeat indices for every text).
    """
    x = _features(features, 'features', ndim=3)
    r = x.shape[1]
    if r <= mm_num_times:
        raise ValueError(f'multimodality needs more repeats per text ({r}) than mm_num_times '
                         f'({mm_num_times})')
    g = _rng(rng)
    first = g.choice(r, mm_num_times, replace=False)
    second = g.choice(r, mm_num_times, replace=False)
    return float(np.linalg.norm(x[:, first] - x[:, second], axis=2).mean())


def _batches(n: int, batch_size: Optional[int], drop_last: bool, what: str):
    if batch_size is None:
        return [slice(0, n)]
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    if n < batch_size and drop_last:
        raise ValueError(f'{what}: {n} samples are fewer than one batch of {batch_size} '
                         '(the protocol drops incomplete batches); pass batch_size=None or '
                         'drop_last=False to score them anyway')
    full = n // batch_size
    out = [slice(i * batch_size, (i + 1) * batch_size) for i in range(full)]
    if n % batch_size:
        if drop_last:
            warnings.warn(f'{what}: the last {n % batch_size} of {n} samples do not fill a batch '
                          f'of {batch_size} and are dropped (drop_last, as the T2M protocol)')
        else:
            out.append(slice(full * batch_size, n))
    return out


def r_precision(text_embeddings: ArrayLike, motion_embeddings: ArrayLike, top_k: int = 3,
                batch_size: Optional[int] = 32, drop_last: bool = True) -> np.ndarray:
    """Top-1..``top_k`` text->motion R-precision in batches (T2M protocol).

    Args:
        text_embeddings: ``(N, D)``; row ``i`` describes motion ``i``.
        motion_embeddings: ``(N, D)``.
        top_k: largest k.
        batch_size: candidates per batch (32 in every published T2M table); ``None`` = one batch
            of all ``N``.
        drop_last: drop the incomplete last batch (as the evaluation data loaders do).

    Returns:
        ``(top_k,)`` fractions: element ``k-1`` is the share of texts whose motion is within the
        ``k`` nearest.
    """
    t = _features(text_embeddings, 'text_embeddings')
    m = _features(motion_embeddings, 'motion_embeddings')
    if t.shape != m.shape:
        raise ValueError(f'text and motion embeddings differ in shape: {t.shape} vs {m.shape}')
    sls = _batches(t.shape[0], batch_size, drop_last, 'r_precision')
    counts = np.zeros(top_k)
    total = 0
    # every full batch at once: (nb, B, B) distances, and the rank of the matching motion as the
    # number of candidates strictly nearer, plus exact ties at a lower index (the position a stable
    # argsort of the row gives it, as the per-batch loop did)
    groups = {}
    for sl in sls:
        groups.setdefault(sl.stop - sl.start, []).append(sl)
    for n, group in groups.items():
        if n < top_k:
            raise ValueError(f'r_precision: a batch of {n} cannot rank top-{top_k}')
        start, stop = group[0].start, group[-1].stop  # a group's batches are consecutive
        tb, mb = t[start:stop].reshape(len(group), n, -1), m[start:stop].reshape(len(group), n, -1)
        sq = ((tb ** 2).sum(2)[:, :, None] - 2.0 * np.matmul(tb, mb.transpose(0, 2, 1))
              + (mb ** 2).sum(2)[:, None, :])
        dist = np.sqrt(np.maximum(sq, 0.0))
        own = np.diagonal(dist, axis1=1, axis2=2)[:, :, None]
        lower = np.tri(n, k=-1, dtype=bool)  # column j < row i
        rank = (dist < own).sum(2) + ((dist == own) & lower).sum(2)
        for k in range(top_k):
            counts[k] += (rank <= k).sum()
        total += rank.size
    return counts / total


def mm_dist(text_embeddings: ArrayLike, motion_embeddings: ArrayLike,
            batch_size: Optional[int] = 32, drop_last: bool = True) -> float:
    """Mean Euclidean distance between each text embedding and its motion embedding (MM-Dist).

    Args:
        text_embeddings, motion_embeddings: ``(N, D)``; row ``i`` of each belongs to sample ``i``.
        batch_size, drop_last: the same defaults as :func:`r_precision`, so that the two score the
            same samples: the T2M evaluation loop (``get_metric_statics`` over a loader with
            ``batch_size=32, drop_last=True``) computes both from the same full batches of 32, in
            order, and never sees the remainder. ``batch_size=None`` scores all ``N``.
    """
    t = _features(text_embeddings, 'text_embeddings')
    m = _features(motion_embeddings, 'motion_embeddings')
    if t.shape != m.shape:
        raise ValueError(f'text and motion embeddings differ in shape: {t.shape} vs {m.shape}')
    sls = _batches(t.shape[0], batch_size, drop_last, 'mm_dist')
    d = np.concatenate([np.linalg.norm(t[sl] - m[sl], axis=1) for sl in sls])
    return float(d.mean())


def clip_score(text_embeddings: ArrayLike, motion_embeddings: ArrayLike) -> float:
    """Mean cosine similarity of each text embedding and its motion embedding (the CLIP-score of
    MARDM / ACMDM / CoAMD: ``sum_i <e_t_i, e_m_i> / N`` over unit-norm evaluator embeddings).

    Args:
        text_embeddings, motion_embeddings: ``(N, D)``; row ``i`` of each belongs to sample ``i``.
    """
    t = _features(text_embeddings, 'text_embeddings')
    m = _features(motion_embeddings, 'motion_embeddings')
    if t.shape != m.shape:
        raise ValueError(f'text and motion embeddings differ in shape: {t.shape} vs {m.shape}')
    norms = np.linalg.norm(t, axis=1) * np.linalg.norm(m, axis=1)
    if (norms <= 0).any():
        raise ValueError(f'clip_score: embedding {int(np.argmax(norms <= 0))} has zero norm')
    return float(((t * m).sum(1) / norms).mean())


def mean_confidence_interval(values: ArrayLike, axis: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Mean and 95% half-width ``1.96 * std / sqrt(n)`` (population std) over replications.

    Args:
        values: ``(n, ...)`` one row per replication.

    Returns:
        ``(mean, half_width)``; floats for 1-D input.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.shape[axis] == 0:
        raise ValueError('no replications')
    mean = v.mean(axis=axis)
    ci = 1.96 * v.std(axis=axis) / np.sqrt(v.shape[axis])
    if np.ndim(mean) == 0:
        return float(mean), float(ci)
    return mean, ci
