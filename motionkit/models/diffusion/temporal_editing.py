"""Temporal editing tasks of masked motion generators (MoMask, MMM; CoAMD table 6): which frames
of a motion are kept and which are regenerated.

The regions follow the reference evaluation (jidongkuang/CoAMD ``evaluation/generation_eval.py``),
defined on the ``n = length // 4`` latent tokens with ``q = n // 4`` and ``h = n // 2``:

* ``'inpainting'``: regenerate tokens ``[q, n - q)``, keep both ends;
* ``'outpainting'``: regenerate ``[0, q)`` and ``[n - q, n)``, keep the middle;
* ``'prefix'``: keep the first half ``[0, h)``, regenerate the rest;
* ``'suffix'``: keep the second half ``[h, n)``, regenerate the beginning.

Token ``k`` covers frames ``[4 k, 4 k + 4)``; the masks here are per frame, so that an editor can
copy the kept frames of the input exactly.
"""
from __future__ import annotations

from typing import Union

import torch

__all__ = ['TEMPORAL_EDIT_TASKS', 'temporal_edit_keep_mask', 'fill_tokens_from_keep_mask']

TEMPORAL_EDIT_TASKS = ('inpainting', 'outpainting', 'prefix', 'suffix')


def temporal_edit_keep_mask(task: str, lengths: Union[torch.Tensor, list], num_frames: int,
                            unit_length: int = 4) -> torch.Tensor:
    """``(B, num_frames)`` bool, True on the frames ``task`` keeps (only within
    ``unit_length * (length // unit_length)``; every other frame is False).

    Raises:
        KeyError: unknown task.
        ValueError: a length longer than ``num_frames`` or shorter than one unit.
    """
    if task not in TEMPORAL_EDIT_TASKS:
        raise KeyError(f'unknown temporal editing task {task!r}; known: {list(TEMPORAL_EDIT_TASKS)}')
    lengths = torch.as_tensor(lengths).long()
    if lengths.ndim != 1 or (lengths.numel() and (int(lengths.max()) > num_frames
                                                  or int(lengths.min()) < unit_length)):
        raise ValueError(f'temporal_edit_keep_mask: lengths must be (B,) in [{unit_length}, '
                         f'{num_frames}], got {lengths.tolist()}')
    keep = torch.zeros(len(lengths), num_frames, dtype=torch.bool)
    u = unit_length
    for i, length in enumerate(lengths.tolist()):
        n = length // u
        q, h = n // 4, n // 2
        if task == 'inpainting':
            keep[i, :q * u] = True
            keep[i, (n - q) * u:n * u] = True
        elif task == 'outpainting':
            keep[i, q * u:(n - q) * u] = True
        elif task == 'prefix':
            keep[i, :h * u] = True
        else:
            keep[i, h * u:n * u] = True
    return keep


def fill_tokens_from_keep_mask(keep: torch.Tensor, token_lengths: torch.Tensor,
                               unit_length: int = 4) -> torch.Tensor:
    """The tokens to regenerate: every valid token whose ``unit_length`` frames are not all kept.

    Args:
        keep: ``(B, T)`` bool, kept frames.
        token_lengths: ``(B,)`` valid tokens.

    Returns:
        ``(B, max(token_lengths))`` bool.
    """
    L = int(token_lengths.max())
    frames = keep[:, :L * unit_length]
    if frames.shape[1] < L * unit_length:  # frames past the mask are not kept
        pad = frames.new_zeros(frames.shape[0], L * unit_length - frames.shape[1])
        frames = torch.cat([frames, pad], dim=1)
    all_kept = frames.reshape(frames.shape[0], L, unit_length).all(-1)
    valid = torch.arange(L, device=keep.device)[None] < token_lengths.to(keep.device)[:, None]
    return valid & ~all_kept
