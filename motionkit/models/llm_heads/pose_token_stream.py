"""Pose token streams: PCT pose codes written as language-model tokens, and read back.

ExpertAF (sec. 3.3, eq. 3) lets its language model *generate* the expert's pose: each of the
``F`` pose frames is its ``M`` PCT code tokens ``<pose_k>`` followed by a frame-end token, and the
sequence closes with a sequence-end token (the reference code adds 2,048 code tokens plus
``..._FRAME_END`` and ``..._SEQ_END``; 10 frames x (34 + 1) + 1 = 351 tokens per clip).

Here the stream lives in an *extended* id space: ids ``< base`` are the language model's own
vocabulary, ``base + k`` is code ``k`` (``0 <= k < K``), ``base + K`` is the frame end and
``base + K + 1`` the sequence end.

A generated stream can be ill-formed (a frame with too few or too many codes, too few frames, text
inside the stream, no sequence end). :func:`parse_pose_stream` applies one fixed rule and counts
what it had to repair, so an evaluation reports how often generation went wrong instead of hiding
it:

1. the stream ends at the first sequence-end or ``stop_ids`` token (``unterminated`` when neither
   comes);
2. ids that are not pose tokens (text) inside the stream are skipped (``stray_tokens``);
3. frame-end tokens split frames; codes after the last frame end form a last frame (as the
   reference parser does); empty frames are ignored;
4. a frame with more than ``M`` codes keeps its first ``M`` (``frames_truncated``); a frame with
   fewer is dropped (``frames_dropped``);
5. frames beyond ``F`` are dropped (``extra_frames``); with fewer than ``F`` (but at least one)
   valid frames the last valid frame is repeated (``frames_padded``);
6. with no valid frame at all the result is ``None`` and the caller falls back (the model uses the
   learner's own pose: "no correction"), counted as ``fallback``.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch

__all__ = ['pose_stream_ids', 'parse_pose_stream', 'STREAM_COUNTERS']

STREAM_COUNTERS = ('stray_tokens', 'frames_truncated', 'frames_dropped', 'extra_frames',
                   'frames_padded', 'unterminated', 'fallback')


def pose_stream_ids(codes: torch.Tensor, base: int, codebook_size: int) -> torch.Tensor:
    """``(..., F, M)`` code ids -> ``(..., F * (M + 1) + 1)`` extended ids: each frame's codes
    (``base + k``), a frame end (``base + K``) after every frame, a sequence end (``base + K + 1``)."""
    codes = torch.as_tensor(codes)
    if codes.ndim < 2:
        raise ValueError(f'pose_stream_ids: codes must be (..., F, M), got shape {tuple(codes.shape)}')
    if codes.is_floating_point():
        raise TypeError('pose_stream_ids: codes must be integer code ids')
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= codebook_size):
        raise ValueError(f'pose_stream_ids: code ids must be in [0, {codebook_size}), got '
                         f'{int(codes.min())}..{int(codes.max())}')
    lead = codes.shape[:-1]
    frame_end = torch.full((*lead, 1), base + codebook_size, dtype=torch.long, device=codes.device)
    frames = torch.cat([codes.long() + base, frame_end], dim=-1).flatten(-2)
    seq_end = torch.full((*codes.shape[:-2], 1), base + codebook_size + 1, dtype=torch.long,
                         device=codes.device)
    return torch.cat([frames, seq_end], dim=-1)


def parse_pose_stream(ids: Iterable[int], base: int, codebook_size: int, num_frames: int,
                      num_tokens: int, stop_ids: Sequence[int] = ()
                      ) -> Tuple[Optional[torch.Tensor], Dict[str, int]]:
    """Read ``(F, M)`` code ids back from a generated id stream with the module's repair rule.

    Returns:
        ``(codes (F, M) long or None, counts)``; ``counts`` has every key of
        :data:`STREAM_COUNTERS` and ``well_formed`` (1 when nothing was repaired, else 0).
    """
    frame_end, seq_end = base + codebook_size, base + codebook_size + 1
    stops = set(int(s) for s in stop_ids)
    counts = {k: 0 for k in STREAM_COUNTERS}
    frames: List[List[int]] = []
    current: List[int] = []
    terminated = False
    for i in ids:
        i = int(i)
        if i == seq_end or i in stops:
            terminated = True
            break
        if i == frame_end:
            if current:
                frames.append(current)
            current = []
        elif base <= i < frame_end:
            current.append(i - base)
        else:
            counts['stray_tokens'] += 1
    if current:
        frames.append(current)
    counts['unterminated'] = int(not terminated)
    valid = []
    for frame in frames:
        if len(frame) > num_tokens:
            counts['frames_truncated'] += 1
            valid.append(frame[:num_tokens])
        elif len(frame) < num_tokens:
            counts['frames_dropped'] += 1
        else:
            valid.append(frame)
    if len(valid) > num_frames:
        counts['extra_frames'] = len(valid) - num_frames
        valid = valid[:num_frames]
    if not valid:
        counts['fallback'] = 1
        counts['well_formed'] = 0
        return None, counts
    if len(valid) < num_frames:
        counts['frames_padded'] = num_frames - len(valid)
        valid = valid + [valid[-1]] * (num_frames - len(valid))
    counts['well_formed'] = int(not any(counts[k] for k in STREAM_COUNTERS))
    return torch.tensor(valid, dtype=torch.long), counts
