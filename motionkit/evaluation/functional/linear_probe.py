"""Linear probe of frozen motion features (CoAMD sec. 4.2: freeze the recognizer, train only a
linear classifier on its embeddings, report top-1 accuracy), and the raw-coordinate baseline.

The classifier is multinomial logistic regression (scikit-learn ``LogisticRegression``, L-BFGS,
L2 penalty with inverse strength ``C`` = 1 by default) on features standardised with the training
set's mean and standard deviation. It is deterministic: the same features give the same numbers.

Features come from a callable (``encode``), so this module never imports a model: a recognizer is
built through the registry by the caller (``tools/analysis_tools/linear_probe.py``) and passed as
``lambda joints: model.encode_motion(joints)['fused']``.
"""
from __future__ import annotations

from typing import Callable, Dict, Sequence

import numpy as np

__all__ = ['resample_to_length', 'raw_joint_features', 'encode_motions', 'linear_probe_accuracy',
           'leave_one_out_accuracy']


def _motion(m, k: int) -> np.ndarray:
    if hasattr(m, 'detach'):
        m = m.detach().cpu().numpy()
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 3 or m.shape[-1] != 3 or m.shape[0] < 1:
        raise ValueError(f'motion {k}: expected joints of shape (T, J, 3) with T >= 1, got {m.shape}')
    if not np.isfinite(m).all():
        raise ValueError(f'motion {k}: joints contain NaN/inf')
    return m


def resample_to_length(joints: np.ndarray, num_frames: int) -> np.ndarray:
    """Linearly resample ``(T, J, 3)`` joints to exactly ``num_frames`` frames spanning the clip
    (first and last frames kept; a one-frame clip is repeated)."""
    joints = _motion(joints, 0)
    if int(num_frames) < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    t = len(joints)
    pos = np.linspace(0.0, t - 1, int(num_frames))
    lo = np.minimum(np.floor(pos).astype(np.int64), max(t - 2, 0))
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo)[:, None, None]
    return (1 - w) * joints[lo] + w * joints[hi]


def raw_joint_features(motions: Sequence[np.ndarray], num_frames: int = 64, root: int = 0,
                       center: str = 'frame') -> np.ndarray:
    """The raw-coordinate baseline of the probe: root-centred joints resampled to a fixed length and
    flattened.

    Args:
        motions: ``N`` motions ``(T_i, J, 3)`` (any lengths, same ``J``).
        num_frames: frames after :func:`resample_to_length`.
        root: root joint index (``t2m22``: 0, the pelvis).
        center: ``'frame'`` subtracts every frame's root position (the pose relative to the root;
            no trajectory), ``'first'`` subtracts the frame-0 root position (keeps the trajectory).

    Returns:
        ``(N, num_frames * J * 3)`` float64.
    """
    if center not in ('frame', 'first'):
        raise ValueError(f"center must be 'frame' or 'first', got {center!r}")
    if len(motions) == 0:
        raise ValueError('raw_joint_features: no motion')
    out = []
    for k, m in enumerate(motions):
        m = _motion(m, k)
        if not -m.shape[1] <= root < m.shape[1]:
            raise ValueError(f'motion {k}: root {root} out of range for {m.shape[1]} joints')
        x = resample_to_length(m, num_frames)
        x = x - (x[:, root:root + 1] if center == 'frame' else x[:1, root:root + 1])
        out.append(x.reshape(-1))
    if len({x.shape for x in out}) != 1:
        raise ValueError(f'raw_joint_features: motions have different joint counts '
                         f'{sorted({x.shape[0] // (3 * num_frames) for x in out})}')
    return np.stack(out)


def encode_motions(encode: Callable, motions: Sequence[np.ndarray], batch_size: int = 16,
                   device=None) -> np.ndarray:
    """Embed motions with a frozen encoder, batching motions of equal length (no padding, so an
    encoder without a mask sees exactly each clip).

    Args:
        encode: ``encode(joints: FloatTensor (B, T, J, 3)) -> (B, D)`` tensor or array, e.g.
            ``lambda j: recognizer.encode_motion(j)['fused']``.
        motions: ``N`` motions ``(T_i, J, 3)``.
        batch_size: motions per call.
        device: torch device of the input tensors (default CPU).

    Returns:
        ``(N, D)`` float64 embeddings in the order of ``motions``.

    Raises:
        ValueError: the encoder returns a wrong shape or NaN/inf.
    """
    import torch
    arrays = [_motion(m, k) for k, m in enumerate(motions)]
    if not arrays:
        raise ValueError('encode_motions: no motion')
    by_length: Dict[tuple, list] = {}
    for k, m in enumerate(arrays):
        by_length.setdefault(m.shape, []).append(k)
    out: list = [None] * len(arrays)
    with torch.no_grad():
        for shape, ids in by_length.items():
            for s in range(0, len(ids), max(1, int(batch_size))):
                chunk = ids[s:s + max(1, int(batch_size))]
                x = torch.as_tensor(np.stack([arrays[k] for k in chunk]), dtype=torch.float32, device=device)
                z = encode(x)
                z = z.detach().cpu().numpy() if hasattr(z, 'detach') else np.asarray(z)
                z = np.asarray(z, dtype=np.float64)
                if z.ndim != 2 or z.shape[0] != len(chunk):
                    raise ValueError(f'encode_motions: the encoder returned shape {z.shape} for a batch of '
                                     f'{len(chunk)} motions of shape {shape}; expected ({len(chunk)}, D)')
                if not np.isfinite(z).all():
                    raise ValueError(f'encode_motions: the encoder returned NaN/inf for motions {chunk}')
                for k, row in zip(chunk, z):
                    out[k] = row
    dims = {row.shape[0] for row in out}
    if len(dims) != 1:
        raise ValueError(f'encode_motions: the encoder returned embeddings of different sizes {sorted(dims)}')
    return np.stack(out)


def _xy(x, y, name: str) -> tuple:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f'{name}: features must be (N, D) with N > 0, got shape {x.shape}')
    if y.shape != (x.shape[0],):
        raise ValueError(f'{name}: {x.shape[0]} feature rows but labels of shape {y.shape}')
    if not np.isfinite(x).all():
        raise ValueError(f'{name}: features contain NaN/inf')
    return x, y


def _fit_predict(train_x, train_y, test_x, c: float, standardize: bool, max_iter: int) -> np.ndarray:
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    if not c > 0:
        raise ValueError(f'C must be > 0, got {c}')
    if standardize:  # training statistics only (a zero-variance feature keeps scale 1)
        mean, std = train_x.mean(0), train_x.std(0)
        std = np.where(std > 1e-12 * max(1.0, float(np.abs(train_x).max())), std, 1.0)
        train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    if train_x.shape[1] > train_x.shape[0]:
        # The L2-penalised optimum's weights lie in the span of the training rows (representer
        # theorem; the intercept is not penalised), so fitting on the coordinates in an orthonormal
        # basis of that span gives the same classifier, with N instead of D weights per class.
        _, sv, vt = np.linalg.svd(train_x, full_matrices=False)
        basis = vt[sv > sv[0] * 1e-10].T if sv.size and sv[0] > 0 else vt[:1].T
        train_x, test_x = train_x @ basis, test_x @ basis
    # lbfgs fits the multinomial (softmax) model with an L2 penalty of strength 1 / C.
    clf = LogisticRegression(C=float(c), solver='lbfgs', max_iter=int(max_iter))
    with warnings.catch_warnings():
        warnings.simplefilter('error', ConvergenceWarning)  # a probe that did not converge is no number
        try:
            clf.fit(train_x, train_y)
        except ConvergenceWarning:
            raise RuntimeError(f'the logistic regression did not converge in {max_iter} iterations; raise '
                               'max_iter') from None
    return clf.predict(test_x)


def _summary(pred: np.ndarray, truth: np.ndarray) -> dict:
    classes = np.unique(truth)
    per_class = {c.item(): float((pred[truth == c] == c).mean()) for c in classes}
    return dict(accuracy=float((pred == truth).mean()),
                mean_class_accuracy=float(np.mean(list(per_class.values()))),
                num_test=int(len(truth)), per_class_accuracy=per_class, predictions=pred.tolist())


def linear_probe_accuracy(train_x, train_y, test_x, test_y, C: float = 1.0, standardize: bool = True,
                          max_iter: int = 5000) -> dict:
    """Fit the linear probe on ``(train_x, train_y)`` and score it on ``(test_x, test_y)``.

    Args:
        train_x, test_x: ``(N, D)`` features.
        train_y, test_y: ``(N,)`` class labels (ints or strings).
        C: inverse L2 strength of the logistic regression.
        standardize: standardise features with the training mean / std first.
        max_iter: L-BFGS iterations (a fit that does not converge raises ``RuntimeError``).

    Returns:
        dict: ``accuracy`` (top-1), ``mean_class_accuracy`` (mean per-class recall over the test
        classes), ``per_class_accuracy``, ``predictions``, ``num_train``, ``num_test``, ``num_classes``.

    Raises:
        ValueError: shapes, NaN/inf, fewer than two training classes, or test labels no training
            sample has (listed).
    """
    train_x, train_y = _xy(train_x, train_y, 'train')
    test_x, test_y = _xy(test_x, test_y, 'test')
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f'train features have {train_x.shape[1]} dims, test features {test_x.shape[1]}')
    classes = set(np.unique(train_y).tolist())
    if len(classes) < 2:
        raise ValueError(f'the probe needs at least 2 training classes, got {sorted(classes)}')
    unseen = sorted(set(np.unique(test_y).tolist()) - classes)
    if unseen:
        raise ValueError(f'test labels {unseen} have no training sample; drop them before probing')
    pred = _fit_predict(train_x, train_y, test_x, C, standardize, max_iter)
    return dict(_summary(pred, test_y), num_train=int(len(train_y)), num_classes=len(classes))


def leave_one_out_accuracy(x, y, C: float = 1.0, standardize: bool = True, max_iter: int = 5000) -> dict:
    """Leave-one-out linear probe: for every sample, fit on all the others and predict it.

    Every class needs at least two samples (so that the held-out sample's class is always seen in
    training). Returns the keys of :func:`linear_probe_accuracy` (``num_train`` = ``N - 1``).

    Raises:
        ValueError: shapes, NaN/inf, a class with a single sample (named), or fewer than two classes.
    """
    x, y = _xy(x, y, 'features')
    values, counts = np.unique(y, return_counts=True)
    single = values[counts < 2].tolist()
    if single:
        raise ValueError(f'leave-one-out needs >= 2 samples per class; classes {single} have one')
    if len(values) < 2:
        raise ValueError(f'the probe needs at least 2 classes, got {values.tolist()}')
    pred = np.empty(len(y), dtype=y.dtype)
    keep = np.ones(len(y), dtype=bool)
    for i in range(len(y)):
        keep[i] = False
        pred[i] = _fit_predict(x[keep], y[keep], x[i:i + 1], C, standardize, max_iter)[0]
        keep[i] = True
    return dict(_summary(pred, y), num_train=int(len(y) - 1), num_classes=int(len(values)))
