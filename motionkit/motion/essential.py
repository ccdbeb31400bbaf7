"""MARDM's "essential" motion representation: the root and ric blocks of HumanML3D features.

Meng et al., "Rethinking Diffusion for Text-Driven Human Motion Generation" (MARDM, 2024) keep only
the non-redundant part of the HumanML3D vector: root angular velocity, root linear velocity, root
height (4) and root-relative joint positions (3 (J - 1)), i.e. 67-D for ``t2m22`` and 64-D for
``kit21``. Joints are recovered exactly as HumanML3D's ``recover_from_ric``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from motionkit.registry import REPRESENTATIONS

from .humanml3d import HumanML3DFeatures, KITFeatures, recover_joints_from_features
from .quaternion import Array
from .representation import MotionRepresentation

__all__ = ['EssentialFeatures']


@REPRESENTATIONS.register_module()
class EssentialFeatures(MotionRepresentation):
    """67-D (``t2m22``) / 64-D (``kit21``) root + ric features.

    Args:
        skeleton: ``'t2m22'`` (default) or ``'kit21'``.
        mean, std: optional ``(D,)`` statistics.
        target_offsets, feet_threshold, root_angular_velocity: passed to the underlying HumanML3D
            encoder (see :class:`~motionkit.motion.humanml3d.HumanML3DFeatures`).

    ``encode``: ``(T, J, 3)`` / ``(B, T, J, 3)`` -> ``(T-1, D)`` / ``(B, T-1, D)`` (the first ``D``
    HumanML3D features). ``decode``: ``(T, D)`` / ``(B, T, D)`` -> ``(T, J, 3)`` / ``(B, T, J, 3)``.
    """

    frames_dropped = 1

    def __init__(self, skeleton: str = 't2m22', mean: Any = None, std: Any = None, target_offsets: Any = None,
                 feet_threshold: float | None = None, root_angular_velocity: str = 'official') -> None:
        encoders = {'t2m22': HumanML3DFeatures, 'kit21': KITFeatures}
        if skeleton not in encoders:
            raise ValueError(f"EssentialFeatures supports skeletons {sorted(encoders)}, got {skeleton!r}")
        self._full = encoders[skeleton](target_offsets=target_offsets, feet_threshold=feet_threshold,
                                            root_angular_velocity=root_angular_velocity)
        super().__init__(skeleton, mean=mean, std=std)

    @property
    def dim(self) -> int:
        return 4 + 3 * (self.num_joints - 1)

    def feature_joints(self) -> np.ndarray:
        """Root block -> joint 0; ric -> joints 1..J-1."""
        return np.concatenate([np.zeros(4, dtype=np.int64), np.repeat(np.arange(1, self.num_joints), 3)])

    def encode(self, joints: Array) -> Array:
        """Joints ``(T, J, 3)`` / ``(B, T, J, 3)`` -> features ``(T-1, D)`` / ``(B, T-1, D)``."""
        return self._full.encode(joints)[..., :self.dim]

    def decode(self, features: Array) -> Array:
        """Features ``(T, D)`` / ``(B, T, D)`` -> joints ``(T, J, 3)`` / ``(B, T, J, 3)``."""
        self._check_features(features)
        return recover_joints_from_features(features, self.num_joints)

    @staticmethod
    def from_humanml3d(features: Array, joints_num: int = 22) -> Array:
        """Slice full HumanML3D features ``(..., 4 + 9 (J-1) + 3 J + 4)`` to the essential part."""
        full = 4 + 9 * (joints_num - 1) + 3 * joints_num + 4
        if features.shape[-1] != full:
            raise ValueError(f'expected HumanML3D features of shape (..., {full}) for {joints_num} joints, '
                             f'got {tuple(features.shape)}')
        return features[..., :4 + 3 * (joints_num - 1)]
