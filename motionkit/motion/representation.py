"""Base class of motion representations (joints <-> model features).

A representation turns joint positions ``(T, J, 3)`` (or a batch ``(B, T, J, 3)``) of a registered
skeleton into per-frame feature vectors ``(T', D)`` and back, holds the dataset's normalisation
statistics, and tells which features belong to which joints (for body-part masks, e.g. MDM's
upper/lower-body editing). Subclasses are registered in ``REPRESENTATIONS``.
"""
from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np
import torch

from .quaternion import Array, _as_float
from .skeletons import Skeleton, get_skeleton

__all__ = ['MotionRepresentation', 'check_finite']


def check_finite(x: Array, what: str) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or infinite values, naming ``what`` and the shape."""
    if isinstance(x, torch.Tensor):
        if bool(torch.isfinite(x).all()):
            return
        bad = ~torch.isfinite(x)
    else:
        if np.isfinite(x).all():
            return
        bad = ~np.isfinite(x)
    count = int(bad.sum())
    if count:
        first = tuple(int(i) for i in (bad.nonzero()[0] if isinstance(x, torch.Tensor)
                                       else np.argwhere(bad)[0]))
        raise ValueError(f'{what} of shape {tuple(x.shape)} holds {count} NaN/inf values '
                         f'(first at index {first})')


def _load_stat(value: Any, name: str) -> np.ndarray:
    if isinstance(value, (str, os.PathLike)):
        if not os.path.isfile(value):
            raise FileNotFoundError(f'{name} file not found: {value}')
        value = np.load(value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


class MotionRepresentation:
    """Base class: ``encode`` joints to features, ``decode`` features to joints.

    Args:
        skeleton: the skeleton (or its registered name) of the joints this representation encodes.
        mean, std: optional ``(D,)`` normalisation statistics (arrays, tensors or ``.npy`` paths);
            see :meth:`set_stats`.

    Subclasses set :attr:`dim` and implement :meth:`encode`, :meth:`decode` and
    :meth:`feature_joints`.
    """

    #: Frames lost by :meth:`encode` (HumanML3D features drop the last frame).
    frames_dropped: int = 0

    def __init__(self, skeleton: Skeleton | str, mean: Any = None, std: Any = None) -> None:
        self._skeleton = get_skeleton(skeleton)
        self._mean: np.ndarray | None = None
        self._std: np.ndarray | None = None
        if (mean is None) != (std is None):
            raise ValueError(f'{type(self).__name__}: give both mean and std, or neither')
        if mean is not None:
            self.set_stats(mean, std)

    # ------------------------------------------------------------------------------------------
    @property
    def skeleton(self) -> Skeleton:
        """The :class:`~motionkit.motion.skeletons.Skeleton` of the joints."""
        return self._skeleton

    @property
    def num_joints(self) -> int:
        return self._skeleton.num_joints

    @property
    def dim(self) -> int:
        """Feature width ``D``."""
        raise NotImplementedError

    @property
    def mean(self) -> np.ndarray | None:
        """``(D,)`` float32 feature mean, or ``None`` until :meth:`set_stats`."""
        return self._mean

    @property
    def std(self) -> np.ndarray | None:
        """``(D,)`` float32 feature standard deviation, or ``None`` until :meth:`set_stats`."""
        return self._std

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(skeleton={self._skeleton.name!r}, dim={self.dim}, '
                f'stats={"set" if self._mean is not None else "unset"})')

    # ------------------------------------------------------------------------------------------
    def encode(self, joints: Array) -> Array:
        """``(T, J, 3)`` or ``(B, T, J, 3)`` joints -> ``(T', D)`` or ``(B, T', D)`` features."""
        raise NotImplementedError

    def decode(self, features: Array) -> Array:
        """``(T, D)`` or ``(B, T, D)`` features -> ``(T, J, 3)`` or ``(B, T, J, 3)`` joints."""
        raise NotImplementedError

    def feature_joints(self) -> np.ndarray:
        """``(D,)`` int array: the joint each feature belongs to."""
        raise NotImplementedError

    def feature_mask(self, joint_names: Iterable[str] | str) -> np.ndarray:
        """``(D,)`` bool mask of the features that belong to the named joints.

        Raises:
            KeyError: a name is not a joint of :attr:`skeleton`.
        """
        idx = self._skeleton.indices(joint_names)
        return np.isin(self.feature_joints(), np.asarray(idx, dtype=np.int64))

    # ------------------------------------------------------------------------------------------
    def set_stats(self, mean: Any, std: Any) -> None:
        """Set the normalisation statistics.

        Args:
            mean, std: ``(D,)`` arrays, tensors, or paths to ``.npy`` files (e.g. HumanML3D's
                ``Mean.npy`` / ``Std.npy``).

        Raises:
            ValueError: wrong shape, non-finite values, or a non-positive std.
        """
        mean = _load_stat(mean, 'mean')
        std = _load_stat(std, 'std')
        for name, value in (('mean', mean), ('std', std)):
            if value.shape != (self.dim,):
                raise ValueError(f'{type(self).__name__}: {name} must have shape ({self.dim},), '
                                 f'got {value.shape}')
            check_finite(value, f'{type(self).__name__} {name}')
        if (std <= 0).any():
            raise ValueError(f'{type(self).__name__}: std must be > 0, found {int((std <= 0).sum())} '
                             f'entries <= 0 (first at {int(np.argmax(std <= 0))})')
        self._mean, self._std = mean, std

    def _stats_like(self, features: Array) -> tuple[Array, Array]:
        if self._mean is None:
            raise RuntimeError(f'{type(self).__name__}: normalisation statistics are not set; '
                               'call set_stats(mean, std) first')
        if not isinstance(features, (np.ndarray, torch.Tensor)) or features.shape[-1:] != (self.dim,):
            raise ValueError(f'{type(self).__name__}: features must have shape (..., {self.dim}), '
                             f'got {tuple(getattr(features, "shape", ()))} ({type(features).__name__})')
        return _as_float(self._mean, like=features), _as_float(self._std, like=features)

    def normalize(self, features: Array) -> Array:
        """``(features - mean) / std`` for ``(..., D)`` features."""
        mean, std = self._stats_like(features)
        return (features - mean) / std

    def denormalize(self, features: Array) -> Array:
        """``features * std + mean`` for ``(..., D)`` features."""
        mean, std = self._stats_like(features)
        return features * std + mean

    # ------------------------------------------------------------------------------------------
    def _check_joints(self, joints: Array, min_frames: int = 1) -> Array:
        """Validate ``(T, J, 3)`` / ``(B, T, J, 3)`` joints; returns them as a float array."""
        name = type(self).__name__
        if not isinstance(joints, (np.ndarray, torch.Tensor)):
            joints = np.asarray(joints)
        shape = tuple(joints.shape)
        j = self.num_joints
        if len(shape) not in (3, 4) or shape[-2:] != (j, 3):
            raise ValueError(f'{name}.encode expects joints of shape (T, {j}, 3) or (B, T, {j}, 3) '
                             f'(skeleton {self._skeleton.name!r}), got {shape}')
        if shape[-3] < min_frames:
            raise ValueError(f'{name}.encode needs at least {min_frames} frames, got joints of shape {shape}')
        joints = _as_float(joints)
        check_finite(joints, f'{name}.encode input joints')
        return joints

    def _check_features(self, features: Array) -> None:
        name = type(self).__name__
        if not isinstance(features, (np.ndarray, torch.Tensor)):
            raise TypeError(f'{name}: features must be a numpy array or torch tensor, '
                            f'got {type(features).__name__}')
        shape = tuple(features.shape)
        if len(shape) not in (2, 3) or shape[-1] != self.dim:
            raise ValueError(f'{name} expects features of shape (T, {self.dim}) or (B, T, {self.dim}), '
                             f'got {shape}')
        if shape[-2] == 0:
            # An empty motion would decode to (0, J, 3) joints and fail later, far from its cause.
            raise ValueError(f'{name}.decode needs at least 1 frame, got features of shape {shape}')
        check_finite(features, f'{name} features')
