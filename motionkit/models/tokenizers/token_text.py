"""Text forms of motion-token sequences for language-model prompts, and their parsers.

Two published forms:

* ``'decimal'`` (CigTime): the code ids as plain decimal numbers separated by single spaces,
  e.g. ``"12 7 7 301"``. The language model reads them with its ordinary vocabulary.
* ``'motiongpt'`` (MotionGPT, Jiang et al. NeurIPS 2023; also AToM): one added special token
  ``<motion_id_k>`` per code, written without separators and wrapped in a start and an end
  marker. MotionGPT adds ``K + 3`` tokens for a codebook of ``K`` codes and uses
  ``<motion_id_K>`` as start-of-motion, ``<motion_id_K+1>`` as end-of-motion and
  ``<motion_id_K+2>`` as padding; those are the defaults here. Other markers (e.g. ``<som>`` /
  ``<eom>``) can be given.

Only single-codebook sequences have a text form; residual (multi-layer) codes do not.
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Union

import numpy as np
import torch

__all__ = [
    'TOKEN_TEXT_STYLES', 'format_motion_tokens', 'parse_motion_tokens', 'motion_special_tokens',
    'motiongpt_markers'
]

TOKEN_TEXT_STYLES = ('decimal', 'motiongpt')
_MOTION_ID = re.compile(r'<motion_id_([0-9]+)>')
_DECIMAL = re.compile(r'[0-9]+')

IdsLike = Union[torch.Tensor, np.ndarray, Sequence[int]]


def motiongpt_markers(codebook_size: int) -> tuple:
    """MotionGPT's ``(start, end, pad)`` markers for a codebook of ``codebook_size`` codes."""
    k = int(codebook_size)
    return f'<motion_id_{k}>', f'<motion_id_{k + 1}>', f'<motion_id_{k + 2}>'


def motion_special_tokens(codebook_size: int, start_token: Optional[str] = None,
                          end_token: Optional[str] = None) -> List[str]:
    """The special tokens to add to an LLM tokenizer for the ``'motiongpt'`` form.

    ``<motion_id_0>`` ... ``<motion_id_{K-1}>`` plus the markers: MotionGPT's three
    ``<motion_id_K>`` .. ``<motion_id_K+2>`` by default, or the given start / end tokens.
    """
    tokens = [f'<motion_id_{i}>' for i in range(int(codebook_size))]
    if start_token is None and end_token is None:
        return tokens + list(motiongpt_markers(codebook_size))
    start, end, _ = _markers(codebook_size, start_token, end_token)
    return tokens + [start, end]


def _markers(codebook_size: int, start_token: Optional[str], end_token: Optional[str]) -> tuple:
    default = motiongpt_markers(codebook_size)
    start = default[0] if start_token is None else start_token
    end = default[1] if end_token is None else end_token
    if not start or not end or start == end:
        raise ValueError(f'start and end markers must be distinct non-empty strings, got '
                         f'{start!r} and {end!r}')
    return start, end, default[2]


def _as_id_list(ids: IdsLike, codebook_size: Optional[int]) -> List[int]:
    if isinstance(ids, torch.Tensor):
        if ids.is_floating_point():
            raise TypeError(f'motion token ids must be integers, got dtype {ids.dtype}')
        ids = ids.detach().cpu().numpy()
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f'motion token ids must be 1-D (one sequence of single-codebook codes), '
                         f'got shape {array.shape}; residual codes (T, Q) have no text form')
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f'motion token ids must be integers, got dtype {array.dtype}')
    values = [int(v) for v in array]
    if codebook_size is not None:
        bad = [v for v in values if not 0 <= v < codebook_size]
        if bad:
            raise ValueError(f'motion token ids must be in [0, {codebook_size}), got {bad[:5]} '
                             f'({len(bad)} out of range)')
    elif any(v < 0 for v in values):
        raise ValueError(f'motion token ids must be >= 0, got {min(values)}')
    return values


def format_motion_tokens(ids: IdsLike, style: str = 'decimal', codebook_size: Optional[int] = None,
                         start_token: Optional[str] = None,
                         end_token: Optional[str] = None) -> str:
    """Write a token sequence ``(T',)`` as text.

    Args:
        ids: Code ids of one motion.
        style: ``'decimal'`` (CigTime: ``"12 7 7 301"``) or ``'motiongpt'``
            (``<motion_id_K><motion_id_12>...<motion_id_K+1>``).
        codebook_size: ``K``; checks the ids, and is required for ``'motiongpt'`` (markers).
        start_token, end_token: Markers of the ``'motiongpt'`` form (default MotionGPT's).

    Raises:
        ValueError: unknown style, ids out of range, or ids not 1-D.
    """
    if style not in TOKEN_TEXT_STYLES:
        raise ValueError(f'unknown motion token text style {style!r}; expected one of '
                         f'{TOKEN_TEXT_STYLES}')
    values = _as_id_list(ids, codebook_size)
    if style == 'decimal':
        return ' '.join(str(v) for v in values)
    if codebook_size is None:
        raise ValueError("style='motiongpt' needs codebook_size (its markers are "
                         '<motion_id_K> and <motion_id_K+1>)')
    start, end, _ = _markers(codebook_size, start_token, end_token)
    return start + ''.join(f'<motion_id_{v}>' for v in values) + end


def parse_motion_tokens(text: str, style: str = 'decimal', codebook_size: Optional[int] = None,
                        start_token: Optional[str] = None, end_token: Optional[str] = None,
                        strict: bool = True) -> List[int]:
    """Read a token sequence back from its text form (inverse of :func:`format_motion_tokens`).

    Args:
        text: The text. In ``'motiongpt'`` style, anything before the start marker and after the
            end marker is ignored (an LLM's answer may hold other words).
        style: ``'decimal'`` or ``'motiongpt'``.
        codebook_size: ``K``; ids must be in ``[0, K)``. Required for ``'motiongpt'``.
        strict: Raise on any malformed piece. With ``False`` (for generated text), unreadable
            pieces and out-of-range ids are skipped and a missing end marker is tolerated.

    Returns:
        The code ids.

    Raises:
        ValueError: naming the offending piece and its position: a word that is not a
            non-negative integer, text between ``<motion_id_k>`` tokens, a missing marker,
            an id out of range, or (strict) an empty sequence.
    """
    if not isinstance(text, str):
        raise TypeError(f'motion token text must be a str, got {type(text).__name__}')
    if style not in TOKEN_TEXT_STYLES:
        raise ValueError(f'unknown motion token text style {style!r}; expected one of '
                         f'{TOKEN_TEXT_STYLES}')
    ids: List[int] = []
    if style == 'decimal':
        for pos, word in enumerate(text.split()):
            if not _DECIMAL.fullmatch(word):
                if strict:
                    raise ValueError(f'motion token text (decimal): word {pos} is {word!r}, '
                                     f'expected a non-negative integer id; text: {text[:80]!r}')
                continue
            value = int(word)
            if codebook_size is not None and value >= codebook_size:
                if strict:
                    raise ValueError(f'motion token text (decimal): id {value} at word {pos} is '
                                     f'outside the codebook [0, {codebook_size})')
                continue
            ids.append(value)
    else:
        if codebook_size is None:
            raise ValueError("style='motiongpt' needs codebook_size")
        start, end, _ = _markers(codebook_size, start_token, end_token)
        begin = text.find(start)
        if begin < 0:
            raise ValueError(f'motion token text (motiongpt): start marker {start!r} not found in '
                             f'{text[:80]!r}')
        body_start = begin + len(start)
        stop = text.find(end, body_start)
        if stop < 0:
            if strict:
                raise ValueError(f'motion token text (motiongpt): end marker {end!r} not found '
                                 f'after the start marker in {text[:80]!r}')
            stop = len(text)
        body = text[body_start:stop]
        pos = 0
        for match in _MOTION_ID.finditer(body):
            gap = body[pos:match.start()]
            if gap.strip() and strict:
                raise ValueError(f'motion token text (motiongpt): unexpected text {gap[:40]!r} at '
                                 f'character {body_start + pos}; only <motion_id_k> tokens may '
                                 'appear between the markers')
            pos = match.end()
            value = int(match.group(1))
            if value >= codebook_size:
                if strict:
                    raise ValueError(f'motion token text (motiongpt): <motion_id_{value}> at '
                                     f'character {body_start + match.start()} is outside the '
                                     f'codebook [0, {codebook_size})')
                continue
            ids.append(value)
        tail = body[pos:]
        if tail.strip() and strict:
            raise ValueError(f'motion token text (motiongpt): unexpected text {tail[:40]!r} '
                             f'at character {body_start + pos}')
    if strict and not ids:
        raise ValueError(f'motion token text ({style}): no token id found in {text[:80]!r}')
    return ids
