"""An offline stand-in for AToM's GPT-4V reward: table 4's rules applied to the events detected in
the generated motion (Han et al., CVPR 2025, sec. 3.3, table 4; the rules and scale are the stored
``atom_scoring_rules.json`` that :class:`~.vlm_scorer.VLMScorer` sends to the vision model).

The detector is a plugin: any callable ``request -> [{'label': str, 'count': int}, ...]`` (the
events performed, in time order). :class:`ProgramEventDetector` reads them from what is known of
the motion (a SynthMotion program: exact events, order and counts, for ground-truth and test
motions); a recognizer or a segment classifier over the joints can take its place later.
"""
from __future__ import annotations

import os
from typing import Any, Callable, List, Optional, Sequence, Union

from motionkit.registry import FEEDBACK_CLIENTS

from .scoring import ScoreRequest, ScoreResult, check_events, load_scoring_rules, round_half_up, scale_of

__all__ = ['SynthMotionOracleScorer', 'ProgramEventDetector', 'ordered_match_length', 'oracle_score']

# SynthMotion pads short programs with a 'stand' event; it is not an action of the prompt.
FILLER_EVENTS = frozenset({'stand'})


def _norm(label: str) -> str:
    return ' '.join(str(label).lower().replace('_', ' ').split())


@FEEDBACK_CLIENTS.register_module()
class ProgramEventDetector:
    """Detected events = the events of the motion's known program (``request.program['events']``,
    each with ``primitive`` and ``count``), without filler events (``stand``)."""

    def __init__(self, ignore: Sequence[str] = tuple(FILLER_EVENTS)) -> None:
        self.ignore = {_norm(x) for x in ignore}

    def __call__(self, request: ScoreRequest) -> List[dict]:
        prog = request.program
        if not isinstance(prog, dict) or not isinstance(prog.get('events'), list):
            raise ValueError(f"{request.sample_id}: ProgramEventDetector needs request.program with an "
                             f"'events' list, got {type(prog).__name__}")
        out = []
        for i, ev in enumerate(prog['events']):
            if not isinstance(ev, dict) or 'primitive' not in ev:
                raise ValueError(f"{request.sample_id}: program event {i} has no 'primitive': {ev!r}")
            if _norm(ev['primitive']) in self.ignore:
                continue
            out.append(dict(label=ev['primitive'], count=int(ev.get('count', 1))))
        return out


def ordered_match_length(expected: Sequence[str], performed: Sequence[str]) -> int:
    """Length of the longest sequence of ``expected`` events performed in the expected order (the
    longest common subsequence of the two label lists)."""
    a, b = [_norm(x) for x in expected], [_norm(x) for x in performed]
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def oracle_score(subtask: str, events: Sequence[str], count: Optional[int], detected: Sequence[dict],
                 scale: Sequence[int] = (0, 10)) -> tuple:
    """Table 4's rule (as stored in ``atom_scoring_rules.json``) on detected events.

    * integrity: ``k`` = prompt events found among the detected ones (each detected event used
      once, any order); score ``round(hi * k / N)``;
    * temporal: ``k`` = :func:`ordered_match_length`; score ``round(hi * k / N)``;
    * frequency: ``c`` = repetitions of the event (sum of its detected counts); 0 when ``c = 0``,
      else ``max(1, hi - 3 * |c - n|)``.

    Rounding is half up. Returns ``(score, detail dict)``.
    """
    lo, hi = int(scale[0]), int(scale[1])
    labels = [_norm(d['label']) for d in detected]
    if subtask == 'integrity':
        pool = list(labels)
        k = 0
        for e in events:
            if _norm(e) in pool:
                pool.remove(_norm(e))
                k += 1
        score = round_half_up(hi * k / len(events))
        detail = dict(found=k, of=len(events))
    elif subtask == 'temporal':
        k = ordered_match_length(events, labels)
        score = round_half_up(hi * k / len(events))
        detail = dict(in_order=k, of=len(events))
    elif subtask == 'frequency':
        target = _norm(events[0])
        c = sum(int(d.get('count', 1)) for d in detected if _norm(d['label']) == target)
        score = 0 if c == 0 else max(1, hi - 3 * abs(c - int(count)))
        detail = dict(performed=c, stated=int(count))
    else:
        raise ValueError(f'unknown subtask {subtask!r}')
    return max(lo, min(hi, score)), detail


@FEEDBACK_CLIENTS.register_module()
class SynthMotionOracleScorer:
    """Scores from table 4's rules on the events a detector finds in the generated motion.

    Args:
        detector: callable ``ScoreRequest -> [{'label', 'count'}, ...]`` (default
            :class:`ProgramEventDetector`) or a ``FEEDBACK_CLIENTS`` config of one.
        rules: scoring-rules file or dict (default: the stored one; only the scales are used).
    """

    def __init__(self, detector: Union[None, Callable, dict] = None,
                 rules: Union[None, str, os.PathLike, dict] = None) -> None:
        if isinstance(detector, dict):
            detector = FEEDBACK_CLIENTS.build(detector)
        self.detector = detector if detector is not None else ProgramEventDetector()
        if not callable(self.detector):
            raise TypeError(f'detector must be callable, got {type(self.detector).__name__}')
        self.rules = load_scoring_rules(rules)

    def score(self, request: ScoreRequest) -> ScoreResult:
        events = check_events(request)
        detected = self.detector(request)
        scale = scale_of(self.rules, request.subtask)
        value, detail = oracle_score(request.subtask, events, request.count, detected, scale)
        detail['detected'] = [dict(label=str(d['label']), count=int(d.get('count', 1))) for d in detected]
        return ScoreResult(request.sample_id, request.subtask, value, scale, type(self).__name__,
                           detail=detail)
