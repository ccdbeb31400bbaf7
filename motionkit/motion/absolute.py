"""Absolute joint coordinates as a flat per-frame feature vector.

The plainest representation: frame ``t`` is ``joints[t].reshape(J * 3)`` (x, y, z of joint 0, then
joint 1, ...), in the input's own frame (metres, Y up). Nothing is normalised or dropped, so
``decode(encode(x)) == x`` exactly and ``T`` frames give ``T`` feature frames.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from motionkit.registry import REPRESENTATIONS

from .quaternion import Array
from .representation import MotionRepresentation
from .skeletons import Skeleton

__all__ = ['AbsoluteCoordinates']


@REPRESENTATIONS.register_module()
class AbsoluteCoordinates(MotionRepresentation):
    """Flattened joint positions, ``D = 3 J``.

    Args:
        skeleton: any registered skeleton (default ``'t2m22'``: 66-D).
        mean, std: optional ``(D,)`` statistics.

    ``encode``: ``(T, J, 3)`` / ``(B, T, J, 3)`` -> ``(T, 3J)`` / ``(B, T, 3J)``;
    ``decode``: the inverse reshape.
    """

    frames_dropped = 0

    def __init__(self, skeleton: Skeleton | str = 't2m22', mean: Any = None, std: Any = None) -> None:
        super().__init__(skeleton, mean=mean, std=std)

    @property
    def dim(self) -> int:
        return 3 * self.num_joints

    def feature_joints(self) -> np.ndarray:
        """Features ``3j .. 3j+2`` belong to joint ``j``."""
        return np.repeat(np.arange(self.num_joints), 3)

    def encode(self, joints: Array) -> Array:
        """Joints ``(T, J, 3)`` / ``(B, T, J, 3)`` -> features ``(T, 3J)`` / ``(B, T, 3J)``."""
        joints = self._check_joints(joints, min_frames=1)
        return joints.reshape(tuple(joints.shape[:-2]) + (self.dim,))

    def decode(self, features: Array) -> Array:
        """Features ``(T, 3J)`` / ``(B, T, 3J)`` -> joints ``(T, J, 3)`` / ``(B, T, J, 3)``."""
        self._check_features(features)
        return features.reshape(tuple(features.shape[:-1]) + (self.num_joints, 3))
