"""Action-recognition metrics: top-k accuracy, multi-label mAP, head/medium/tail accuracy."""
from __future__ import annotations

from typing import Dict, Sequence, Tuple, Union

import numpy as np

ArrayLike = Union[np.ndarray, 'torch.Tensor']  # noqa: F821

__all__ = ['top_k_accuracy', 'mean_average_precision', 'frequency_buckets',
           'bucket_accuracy', 'multilabel_top1_hit']


def _arr(x, name: str, dtype=np.float64) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=dtype)
    return x


def _scores(scores, name='scores') -> np.ndarray:
    s = _arr(scores, name)
    if s.ndim != 2 or s.shape[0] == 0:
        raise ValueError(f'{name} must be (N, C) with N > 0, got shape {s.shape}')
    if not np.isfinite(s).all():
        raise ValueError(f'{name} contains NaN/inf')
    return s


def _labels(labels, n: int, num_classes: int) -> np.ndarray:
    y = _arr(labels, 'labels', np.int64).reshape(-1)
    if y.shape != (n,):
        raise ValueError(f'labels must be ({n},) class indices, got shape {y.shape}')
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f'labels must lie in [0, {num_classes}), got [{y.min()}, {y.max()}]')
    return y


def top_k_accuracy(scores: ArrayLike, labels: ArrayLike,
                   topk: Sequence[int] = (1, 5)) -> Dict[int, float]:
    """Share of samples whose label is among the ``k`` highest scores.

    Args:
        scores: ``(N, C)`` class scores.
        labels: ``(N,)`` class indices.
        topk: cut-offs (k larger than C counts every sample as correct).

    Ties: a label tied with the k-th score counts as correct only if it sorts before it
    (stable order by decreasing score, lower class index first), as ``torch.topk`` in practice.
    """
    s = _scores(scores)
    y = _labels(labels, *s.shape)
    # rank of the true class = classes scored strictly higher + tied classes with a lower index
    true = s[np.arange(len(y)), y][:, None]
    higher = (s > true).sum(1)
    tied_before = ((s == true) & (np.arange(s.shape[1])[None] < y[:, None])).sum(1)
    rank = higher + tied_before
    return {int(k): float((rank < k).mean()) for k in topk}


def _multi_hot(targets, scores: np.ndarray) -> np.ndarray:
    """``(N, C)`` 0/1 targets of the same shape as ``scores``."""
    t = _arr(targets, 'targets')
    if t.shape != scores.shape:
        raise ValueError(f'targets shape {t.shape} != scores shape {scores.shape}')
    if not np.isin(t, (0, 1)).all():
        raise ValueError('targets must be 0/1 multi-hot')
    return t


def mean_average_precision(scores: ArrayLike, targets: ArrayLike) -> float:
    """Multi-label mAP: sklearn ``average_precision_score`` per class, mean over classes that
    have at least one positive (AP is undefined without positives).

    Args:
        scores: ``(N, C)``.
        targets: ``(N, C)`` binary (multi-hot) labels.
    """
    from sklearn.metrics import average_precision_score
    s = _scores(scores)
    t = _multi_hot(targets, s)
    valid = t.sum(0) > 0
    if not valid.any():
        raise ValueError('no class has a positive sample: mAP is undefined')
    aps = [average_precision_score(t[:, c], s[:, c]) for c in np.flatnonzero(valid)]
    return float(np.mean(aps))


def frequency_buckets(class_counts: ArrayLike,
                      fractions: Tuple[float, float, float] = (0.1, 0.3, 0.6)) -> np.ndarray:
    """Assign classes to head (0) / medium (1) / tail (2) by training frequency.

    Classes are sorted by decreasing count (ties: lower index first); the first
    ``round(C * fractions[0])`` are head, the next ``round(C * fractions[1])`` medium, the rest tail.

    Returns:
        ``(C,)`` bucket index per class.
    """
    c = _arr(class_counts, 'class_counts').reshape(-1)
    if c.size == 0 or (c < 0).any():
        raise ValueError(f'class_counts must be non-negative with C > 0, got {c!r}')
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f'fractions must be 3 numbers summing to 1, got {fractions}')
    order = np.argsort(-c, kind='stable')
    n_head = int(round(c.size * fractions[0]))
    n_med = int(round(c.size * fractions[1]))
    buckets = np.full(c.size, 2, dtype=np.int64)
    buckets[order[:n_head]] = 0
    buckets[order[n_head:n_head + n_med]] = 1
    return buckets


def bucket_accuracy(scores: ArrayLike, labels: ArrayLike, class_counts: ArrayLike,
                    fractions: Tuple[float, float, float] = (0.1, 0.3, 0.6),
                    average: str = 'sample') -> Dict[str, float]:
    """Top-1 accuracy on head / medium / tail classes (long-tail protocol).

    Args:
        scores: ``(N, C)``; labels: ``(N,)``; class_counts: ``(C,)`` training frequencies.
        average: ``'sample'`` (accuracy over the test samples of the bucket) or ``'class'``
            (mean of per-class accuracies over the bucket's classes present in the test set).

    Returns:
        ``{'head', 'medium', 'tail'}``; NaN for a bucket without test samples.
    """
    s = _scores(scores)
    y = _labels(labels, *s.shape)
    counts = _arr(class_counts, 'class_counts').reshape(-1)
    if counts.size != s.shape[1]:
        raise ValueError(f'class_counts has {counts.size} classes, scores have {s.shape[1]}')
    if average not in ('sample', 'class'):
        raise ValueError(f"average must be 'sample' or 'class', got {average!r}")
    buckets = frequency_buckets(counts, fractions)
    correct = (np.argmax(s, axis=1) == y).astype(np.float64)
    out = {}
    for b, name in enumerate(('head', 'medium', 'tail')):
        in_bucket = buckets[y] == b
        if not in_bucket.any():
            out[name] = float('nan')
        elif average == 'sample':
            out[name] = float(correct[in_bucket].mean())
        else:
            classes = np.unique(y[in_bucket])
            out[name] = float(np.mean([correct[y == c].mean() for c in classes]))
    return out


def multilabel_top1_hit(scores: ArrayLike, targets: ArrayLike, class_counts: ArrayLike = None,
                        fractions: Tuple[float, float, float] = (0.1, 0.3, 0.6)) -> Dict[str, float]:
    """Top-1 "hit" accuracy of multi-label recognition, overall and per frequency bucket.

    A sample counts as a hit when its highest-scoring class is one of its labels (the multi-label
    top-1 accuracy of long-tail video recognition, e.g. VideoLT; CoAMD reports recognition on
    multi-label motions this way). Per bucket (head / medium / tail, :func:`frequency_buckets` of
    ``class_counts``): over the samples with at least one label in the bucket, a hit when the
    top-1 class is one of *those* labels. Samples without any label are left out.

    Args:
        scores: ``(N, C)``; targets: ``(N, C)`` 0/1; class_counts: ``(C,)`` training frequencies
            (``None``: overall only).

    Returns:
        ``{'top1': ...}`` plus ``'head'``, ``'medium'``, ``'tail'`` with ``class_counts`` (NaN for a
        bucket no sample has a label in).
    """
    s = _scores(scores)
    t = _multi_hot(targets, s)
    labelled = t.sum(1) > 0
    if not labelled.any():
        raise ValueError('no sample has a label')
    top1 = np.argmax(s, axis=1)
    hit = t[np.arange(len(t)), top1] > 0
    out = {'top1': float(hit[labelled].mean())}
    if class_counts is not None:
        counts = _arr(class_counts, 'class_counts').reshape(-1)
        if counts.size != s.shape[1]:
            raise ValueError(f'class_counts has {counts.size} classes, scores have {s.shape[1]}')
        buckets = frequency_buckets(counts, fractions)
        for b, name in enumerate(('head', 'medium', 'tail')):
            in_b = t[:, buckets == b].sum(1) > 0
            if not in_b.any():
                out[name] = float('nan')
                continue
            hit_b = hit & (buckets[top1] == b)
            out[name] = float(hit_b[in_b].mean())
    return out
