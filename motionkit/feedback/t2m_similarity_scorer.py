"""An offline alignment score from a text-motion embedding model (e.g. the T2M evaluator of Guo et
al. 2022): the cosine of the prompt's and the motion's embeddings mapped linearly onto table 4's
integer scale (AToM, Han et al., CVPR 2025, sec. 3.3 uses GPT-4V; this scorer needs no service).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence, Union

import numpy as np

from motionkit.registry import FEEDBACK_CLIENTS

from .scoring import ScoreRequest, ScoreResult, load_scoring_rules, round_half_up, scale_of

__all__ = ['T2MSimilarityScorer', 'cosine_to_scale']


def cosine_to_scale(cos: float, lo: int, hi: int, cos_range: Sequence[float] = (0.0, 1.0)) -> int:
    """``lo + (hi - lo) * clip((cos - c0) / (c1 - c0), 0, 1)``, rounded half up.

    Example:
        >>> cosine_to_scale(0.55, 0, 10)
        6
    """
    c0, c1 = float(cos_range[0]), float(cos_range[1])
    if not c1 > c0:
        raise ValueError(f'cos_range must be increasing, got {tuple(cos_range)}')
    if not np.isfinite(cos):
        raise ValueError(f'cosine is not finite: {cos}')
    t = float(np.clip((cos - c0) / (c1 - c0), 0.0, 1.0))
    return round_half_up(lo + (hi - lo) * t)


@FEEDBACK_CLIENTS.register_module()
class T2MSimilarityScorer:
    """Score = the evaluator's text-motion cosine on the subtask's integer scale.

    Args:
        encode_text: ``list[str] -> (N, D)`` text embeddings (e.g. the T2M evaluator's text encoder).
        encode_motion: ``(T, J, 3) joints -> (D,)`` motion embedding (the evaluator's motion encoder
            after its own feature conversion).
        cos_range: cosines mapped to the bottom and top of the scale (clipped outside).
        rules: scoring-rules file or dict (only the scales are used).
    """

    def __init__(self, encode_text: Callable[[list], Any], encode_motion: Callable[[np.ndarray], Any],
                 cos_range: Sequence[float] = (0.0, 1.0),
                 rules: Union[None, str, os.PathLike, dict] = None) -> None:
        if not callable(encode_text) or not callable(encode_motion):
            raise TypeError('encode_text and encode_motion must be callables')
        self.encode_text, self.encode_motion = encode_text, encode_motion
        self.cos_range = tuple(float(c) for c in cos_range)
        self.rules = load_scoring_rules(rules)

    def score(self, request: ScoreRequest) -> ScoreResult:
        if request.joints is None:
            raise ValueError(f'{request.sample_id}: T2MSimilarityScorer needs the motion joints')
        t = np.asarray(self.encode_text([request.prompt]), dtype=np.float64).reshape(-1)
        m = np.asarray(self.encode_motion(np.asarray(request.joints)), dtype=np.float64).reshape(-1)
        if t.shape != m.shape:
            raise ValueError(f'{request.sample_id}: text embedding {t.shape} and motion embedding '
                             f'{m.shape} differ in size')
        nt, nm = np.linalg.norm(t), np.linalg.norm(m)
        if nt == 0 or nm == 0 or not np.isfinite(nt * nm):
            raise ValueError(f'{request.sample_id}: zero or non-finite embedding')
        cos = float(t @ m / (nt * nm))
        lo, hi = scale_of(self.rules, request.subtask)
        return ScoreResult(request.sample_id, request.subtask, cosine_to_scale(cos, lo, hi, self.cos_range),
                           (lo, hi), type(self).__name__, detail=dict(cosine=cos))
