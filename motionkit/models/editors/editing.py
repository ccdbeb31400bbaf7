"""Masks and blends for diffusion-based motion editing (MDM, PriorMDM, CigTime).

Convention: a **keep mask** is True on the features that must stay equal to the source motion;
an **edit mask** is its complement (what the model regenerates).

* Body-part editing (MDM, Tevet et al. ICLR 2023, sec. 4.3): editing the upper body keeps the
  lower body, i.e. ``keep = body_part_feature_mask(rep, 'lower_body')`` (root block and foot
  contacts included, MDM's ``HML_LOWER_BODY_MASK``); in general ``keep = ~mask(part)``.
* Temporal in-betweening (MDM): keep the first ``prefix`` and last ``suffix`` frames.
* Joint control (PriorMDM, Shafir et al. ICLR 2024): keep the features of the controlled joints
  (``'root_horizontal'`` = the root's rotation and xz velocity, PriorMDM's root trajectory).
* MDM's sampling-time edit: at every step the x0 prediction is overwritten with the source on the
  kept features (:func:`overwrite_x0`); MDM-style inpainting also replaces the kept features of
  ``x_t`` with the noised source.
* CigTime (Fang et al. 2024, eq. 5): ``target = mask * edited + (1 - mask) * source`` with
  ``mask`` = edit mask, as a post-blend (:func:`blend_edit`).
"""
from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np
import torch

__all__ = ['feature_keep_mask', 'body_part_keep_mask', 'inbetween_keep_mask',
           'joint_control_mask', 'overwrite_x0', 'blend_edit', 'expand_keep_mask']

MaskLike = Union[torch.Tensor, np.ndarray]


def _representation(representation: Any):
    from motionkit.motion.body_parts import _as_representation
    return _as_representation(representation)


def feature_keep_mask(representation: Any, part: Union[str, Sequence[str]]) -> torch.Tensor:
    """``(D,)`` bool: the features of ``part`` (body part name, joint name, list of names, or
    ``'root_horizontal'``)."""
    rep = _representation(representation)
    parts = [part] if isinstance(part, str) else list(part)
    mask = np.zeros(rep.dim, dtype=bool)
    names = []
    for p in parts:
        if p == 'root_horizontal':
            mask |= _root_horizontal_mask(rep)
        else:
            names.append(p)
    if names:
        from motionkit.motion import body_part_feature_mask
        mask |= body_part_feature_mask(rep, names)
    return torch.from_numpy(mask)


def _root_horizontal_mask(rep) -> np.ndarray:
    """PriorMDM's root trajectory: root rotation velocity and xz linear velocity (features 0:3 of
    the HumanML3D / KIT layout)."""
    blocks = getattr(rep, 'blocks', None)
    if not blocks or 'root' not in blocks:
        raise KeyError(f"'root_horizontal' needs a HumanML3D-style representation with a root "
                       f'block; {type(rep).__name__} has none')
    mask = np.zeros(rep.dim, dtype=bool)
    mask[blocks['root'].start:blocks['root'].start + 3] = True
    return mask


def body_part_keep_mask(representation: Any, part: Union[str, Sequence[str]]) -> torch.Tensor:
    """``(D,)`` bool keep mask to edit ``part``: every feature that is not ``part``'s.

    ``body_part_keep_mask(HumanML3DFeatures(), 'upper_body')`` is MDM's lower-body mask.
    """
    return ~feature_keep_mask(representation, part)


def joint_control_mask(representation: Any, joints: Union[str, Sequence[str]]) -> torch.Tensor:
    """``(D,)`` bool: features given as control (PriorMDM), e.g. ``'left_wrist'``,
    ``'right_foot'``, ``'root_horizontal'`` or a list of them."""
    return feature_keep_mask(representation, joints)


def inbetween_keep_mask(lengths: Union[Sequence[int], torch.Tensor], num_frames: int, dim: int,
                        prefix_frames: Union[int, float] = 0.25,
                        suffix_frames: Union[int, float] = 0.25) -> torch.Tensor:
    """``(B, T, D)`` bool: keep the first ``prefix`` and the last ``suffix`` valid frames.

    Args:
        lengths: valid frames per sample ``(B,)``.
        num_frames: padded length ``T``.
        dim: feature width ``D``.
        prefix_frames, suffix_frames: frame counts (int) or fractions of each length (float in
            [0, 1]; MDM's in-betweening keeps 25% at each end).
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long).reshape(-1)
    if (lengths > num_frames).any() or (lengths < 1).any():
        raise ValueError(f'inbetween_keep_mask: lengths {lengths.tolist()} must lie in [1, '
                         f'{num_frames}]')
    mask = torch.zeros(len(lengths), num_frames, dim, dtype=torch.bool)
    for i, n in enumerate(lengths.tolist()):
        pre = _frames(prefix_frames, n, 'prefix_frames')
        suf = _frames(suffix_frames, n, 'suffix_frames')
        mask[i, :pre] = True
        if suf > 0:
            mask[i, n - suf:n] = True
    return mask


def _frames(value: Union[int, float], length: int, name: str) -> int:
    if isinstance(value, float):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f'{name} as a fraction must lie in [0, 1], got {value}')
        return int(round(value * length))
    if value < 0:
        raise ValueError(f'{name} must be >= 0, got {value}')
    return min(int(value), length)


def expand_keep_mask(keep: MaskLike, shape: Sequence[int]) -> torch.Tensor:
    """Broadcast a ``(D,)``, ``(T, D)`` or ``(B, T, D)`` keep mask to ``shape`` = ``(B, T, D)``."""
    keep = torch.as_tensor(keep)
    if keep.dtype != torch.bool:
        raise TypeError(f'a keep mask must be bool, got {keep.dtype}')
    if keep.ndim == 1:
        keep = keep[None, None]
    elif keep.ndim == 2:
        keep = keep[None]
    try:
        return keep.expand(tuple(shape))
    except RuntimeError:
        raise ValueError(f'keep mask of shape {tuple(keep.shape)} does not broadcast to '
                         f'{tuple(shape)}') from None


def overwrite_x0(pred_x0: torch.Tensor, source: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """MDM's edit of the x0 prediction: the source on kept features, the model elsewhere."""
    return torch.where(keep.to(pred_x0.device), source.to(pred_x0), pred_x0)


def blend_edit(source: torch.Tensor, edited: torch.Tensor,
               edit_mask: Union[torch.Tensor, np.ndarray]) -> torch.Tensor:
    """CigTime eq. 5: ``mask * edited + (1 - mask) * source``.

    Args:
        source, edited: ``(..., T, D)``.
        edit_mask: bool or float (soft) mask broadcastable to them; 1 where the edit applies.
    """
    if source.shape != edited.shape:
        raise ValueError(f'blend_edit: source {tuple(source.shape)} and edited '
                         f'{tuple(edited.shape)} differ in shape')
    m = torch.as_tensor(edit_mask, device=edited.device)
    m = m.to(edited.dtype)
    if m.min() < 0 or m.max() > 1:
        raise ValueError('blend_edit: a soft mask must lie in [0, 1]')
    return m * edited + (1 - m) * source.to(edited)

