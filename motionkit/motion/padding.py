"""Padding variable-length motions into a batch, and the validity mask that goes with it. Used by
the collate functions (datasets) and by data preprocessors and models that batch motions
themselves."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

__all__ = ['pad_motions', 'lengths_to_mask', 'usable_lengths']

_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16}


def lengths_to_mask(lengths: torch.Tensor, max_length: Optional[int] = None) -> torch.Tensor:
    """``(B,)`` lengths -> ``(B, T)`` bool mask, True on valid frames."""
    lengths = torch.as_tensor(lengths)
    if max_length is None:
        max_length = int(lengths.max()) if lengths.numel() else 0
    return torch.arange(max_length, device=lengths.device)[None, :] < lengths[:, None]


def pad_motions(motions: Sequence, pad_value: float = 0.0,
                pad_to: Optional[int] = None) -> tuple:
    """Stack variable-length motions along a new batch axis, padding at the end of time.

    Args:
        motions: ``B`` tensors or arrays ``(T_i, ...)`` with the same trailing shape.
        pad_value: Value written in the padded frames.
        pad_to: Pad to at least this many frames (e.g. 196 for the T2M evaluator).

    Returns:
        ``(padded, mask, lengths)``: ``(B, T, ...)`` float tensor, ``(B, T)`` bool mask (True on
        valid frames) and ``(B,)`` long lengths, ``T = max(max_i T_i, pad_to)``.

    Raises:
        ValueError: on an empty batch or trailing shapes that differ (naming the items).
    """
    if len(motions) == 0:
        raise ValueError('pad_motions: empty batch')
    tensors = [m if isinstance(m, torch.Tensor) else torch.from_numpy(np.asarray(m))
               for m in motions]
    trailing = tensors[0].shape[1:]
    for i, t in enumerate(tensors):
        if t.ndim < 1 or t.shape[1:] != trailing:
            raise ValueError(f'pad_motions: item {i} has shape {tuple(t.shape)} but item 0 has '
                             f'{tuple(tensors[0].shape)}; all items must be (T_i, '
                             f'{", ".join(map(str, trailing))})')
    lengths = torch.tensor([t.shape[0] for t in tensors], dtype=torch.long)
    max_len = int(lengths.max())
    if pad_to is not None:
        max_len = max(max_len, int(pad_to))
    dtype = tensors[0].dtype if tensors[0].is_floating_point() else torch.float32
    shape = (len(tensors), max_len) + tuple(trailing)
    if dtype in _NUMPY_DTYPES and all(t.device.type == 'cpu' and not t.requires_grad
                                      for t in tensors):
        # Copy with numpy on the CPU (DataLoader workers): torch's multi-threaded copy of large
        # slices spins in OpenMP barriers when the cores are shared and was measured up to 80x
        # slower than this single-threaded copy on a busy 2-core machine.
        padded_np = np.full(shape, pad_value, dtype=_NUMPY_DTYPES[dtype])
        for i, t in enumerate(tensors):
            padded_np[i, :t.shape[0]] = t.numpy()
        padded = torch.from_numpy(padded_np)
    else:
        padded = tensors[0].new_full(shape, pad_value, dtype=dtype)
        for i, t in enumerate(tensors):
            padded[i, :t.shape[0]] = t
    return padded, lengths_to_mask(lengths, max_len), lengths


def usable_lengths(values: torch.Tensor, lengths: Optional[torch.Tensor], unit_length: int, owner: str,
                   what: str = 'motion', check_finite: bool = True) -> torch.Tensor:
    """Checked ``lengths`` of a padded batch ``values`` ``(B, T, ...)`` cut to whole units of
    ``unit_length`` frames (the frames a temporally downsampling encoder reads): ``lengths - lengths %
    unit_length``. ``None`` means every motion fills all ``T`` frames.

    Raises:
        ValueError: ``lengths`` not ``(B,)``, outside ``[unit_length, T]``, or NaN / inf in the usable
            frames of ``values`` (padding may hold anything; the first bad item and frame are named).
    """
    batch, frames = values.shape[:2]
    if lengths is None:
        lengths = torch.full((batch, ), frames, dtype=torch.long, device=values.device)
    lengths = torch.as_tensor(lengths, device=values.device).long()
    if lengths.shape != (batch, ):
        raise ValueError(f'{owner}: lengths must be ({batch},), got shape {tuple(lengths.shape)}')
    if batch and (int(lengths.max()) > frames or int(lengths.min()) < unit_length):
        raise ValueError(f'{owner}: lengths must lie in [{unit_length}, {frames}] (one latent covers '
                         f'{unit_length} frames), got {lengths.tolist()}')
    usable = lengths - lengths % unit_length
    if check_finite and not bool(torch.isfinite(values).all()):
        valid = torch.arange(frames, device=values.device)[None] < usable[:, None]
        bad = (~torch.isfinite(values)).flatten(2).any(-1) & valid
        if bool(bad.any()):
            b, t = (int(v) for v in bad.nonzero()[0])
            raise ValueError(f'{owner}: {what} contains NaN or inf (first at batch item {b}, frame {t})')
    return usable
