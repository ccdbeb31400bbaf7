"""Reward summaries of preference-tuned generators (AToM, Han et al., CVPR 2025, sec. 4: the
scorer's mean reward per subtask and the win rate against the starting model)."""
from __future__ import annotations

from typing import Dict, Hashable, Mapping, Sequence, Tuple

import numpy as np

__all__ = ['pairwise_win', 'win_rate', 'mean_reward']


def pairwise_win(model: Sequence[float], baseline: Sequence[float]) -> float:
    """Share of (model sample, baseline sample) pairs of one prompt that the model wins; a tie
    counts half: ``mean_{i,j} [m_i > b_j] + 0.5 [m_i = b_j]``.

    Example:
        >>> pairwise_win([7, 5], [5])  # 7 > 5 wins, 5 = 5 ties
        0.75
    """
    m = np.asarray(model, dtype=np.float64).reshape(-1, 1)
    b = np.asarray(baseline, dtype=np.float64).reshape(1, -1)
    if m.size == 0 or b.size == 0:
        raise ValueError('pairwise_win: both sides need at least one score')
    if not (np.isfinite(m).all() and np.isfinite(b).all()):
        raise ValueError('pairwise_win: scores must be finite')
    return float(((m > b) + 0.5 * (m == b)).mean())


def win_rate(model: Mapping[Hashable, Sequence[float]],
             baseline: Mapping[Hashable, Sequence[float]]) -> Tuple[float, Dict[Hashable, float]]:
    """Win rate of the model against the baseline over the prompts both have scored.

    Each prompt counts once: its :func:`pairwise_win` (so several generations per prompt on either
    side weigh as one prompt), and the win rate is the mean over the shared prompts.

    Returns:
        ``(win rate, {prompt: its pairwise win})``; ``nan`` and ``{}`` with no shared prompt.
    """
    per = {k: pairwise_win(model[k], baseline[k]) for k in model if k in baseline}
    if not per:
        return float('nan'), {}
    return float(np.mean(list(per.values()))), per


def mean_reward(scores: Sequence[float]) -> float:
    """Mean of the scores (``nan`` for none)."""
    s = np.asarray(scores, dtype=np.float64)
    return float(s.mean()) if s.size else float('nan')
