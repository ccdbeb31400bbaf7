"""Normalisation statistics of a feature representation (``Mean.npy`` / ``Std.npy``): one loader,
with the checks every layer relies on (shape, finite values, std > 0, the file named in every
error). Models, datasets and metrics all read statistics through it."""
from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ['load_mean_std']

_STATS_CACHE: dict = {}


def load_mean_std(mean_path: str, std_path: str, dim: Optional[int] = None) -> tuple:
    """Load and check a pair of ``Mean.npy`` / ``Std.npy`` files (cached per process).

    Returns:
        ``(mean, std)`` float32 arrays of shape ``(D,)``.

    Raises:
        FileNotFoundError: a file is missing (named).
        ValueError: wrong shape, shapes that differ, NaN/inf, or a standard deviation <= 0.
    """
    key = (str(mean_path), str(std_path))
    if key not in _STATS_CACHE:
        arrays = []
        for name, path in (('mean', mean_path), ('std', std_path)):
            try:
                array = np.load(path)
            except FileNotFoundError:
                raise FileNotFoundError(f'{name} file not found: {path}') from None
            if array.ndim != 1:
                raise ValueError(f'{path}: {name} must be a 1-D (D,) array, got shape '
                                 f'{array.shape}')
            if not np.isfinite(array).all():
                raise ValueError(f'{path}: {name} contains NaN or inf values')
            arrays.append(array.astype(np.float32))
        mean, std = arrays
        if mean.shape != std.shape:
            raise ValueError(f'{mean_path} has shape {mean.shape} but {std_path} has {std.shape}')
        if (std <= 0).any():
            bad = np.nonzero(std <= 0)[0]
            raise ValueError(f'{std_path}: standard deviation must be > 0, got '
                             f'{std[bad[0]]} at index {int(bad[0])} ({len(bad)} such entries)')
        _STATS_CACHE[key] = (mean, std)
    mean, std = _STATS_CACHE[key]
    if dim is not None and mean.shape[0] != dim:
        raise ValueError(f'{mean_path}: expected {dim}-D statistics, got shape {mean.shape}')
    return mean, std
