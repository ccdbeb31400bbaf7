"""What every motion-text alignment scorer shares: the request and result types, the scorer
protocol, AToM's per-subtask scoring rules (table 4) and the parsing of a model's score reply.

AToM (Han et al., CVPR 2025) scores each generated motion against its prompt on one of three
subtasks (sec. 3.1): ``integrity`` (are all events there), ``temporal`` (in the stated order),
``frequency`` (repeated the stated number of times). The rules and their integer scale are stored
in ``motionkit/feedback/prompts/atom_scoring_rules.json`` and shared by the vision-model scorer
(:class:`~.vlm_scorer.VLMScorer`, which sends them) and the offline oracle
(:class:`~.synthmotion_oracle_scorer.SynthMotionOracleScorer`, which applies them).
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Protocol, Sequence, Tuple, Union, runtime_checkable

import numpy as np

__all__ = ['SUBTASKS', 'RULES_FILE', 'ScoreRequest', 'ScoreResult', 'MotionScorer', 'ScoreParseError',
           'load_scoring_rules', 'parse_score', 'round_half_up']

SUBTASKS = ('integrity', 'temporal', 'frequency')
RULES_FILE = Path(__file__).resolve().parent / 'prompts' / 'atom_scoring_rules.json'


class ScoreParseError(ValueError):
    """A scorer reply that holds no usable score (no number, several candidates, a fraction, or a
    value outside the scale). ``reply`` keeps the text."""

    def __init__(self, message: str, reply: str) -> None:
        super().__init__(f'{message}; reply: {reply[:200]!r}')
        self.reason, self.reply = message, reply


@dataclass
class ScoreRequest:
    """One generated motion to score against its prompt.

    Attributes:
        sample_id: the motion's id (cache records and errors name it).
        prompt: the text prompt the motion was generated from (non-empty).
        subtask: ``'integrity'`` | ``'temporal'`` | ``'frequency'``.
        joints: the motion ``(T, J, 3)`` (needed by scorers that look at it).
        events: the prompt's events in their stated order (labels; needed by the oracle).
        count: the stated number of repetitions (frequency prompts).
        program: what is known of the generated motion (e.g. a SynthMotion program's ``events``
            list); read by event detectors that use ground truth.
    """
    sample_id: str
    prompt: str
    subtask: str
    joints: Optional[np.ndarray] = None
    events: Sequence[str] = ()
    count: Optional[int] = None
    program: Optional[dict] = None

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise ValueError(f'{self.sample_id}: empty prompt')
        if self.subtask not in SUBTASKS:
            raise ValueError(f'{self.sample_id}: subtask must be one of {SUBTASKS}, got {self.subtask!r}')
        if self.count is not None and int(self.count) < 1:
            raise ValueError(f'{self.sample_id}: count must be >= 1, got {self.count}')


@dataclass
class ScoreResult:
    """A score on the subtask's integer scale, with how it was obtained."""
    sample_id: str
    subtask: str
    score: int
    scale: Tuple[int, int]
    scorer: str
    cached: bool = False
    replies: List[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(sample_id=self.sample_id, subtask=self.subtask, score=int(self.score),
                    scale=list(self.scale), scorer=self.scorer, cached=self.cached,
                    replies=list(self.replies), detail=dict(self.detail))


@runtime_checkable
class MotionScorer(Protocol):
    """Anything that scores a :class:`ScoreRequest` on table 4's scale."""

    def score(self, request: ScoreRequest) -> ScoreResult:
        ...


def load_scoring_rules(rules: Union[None, str, os.PathLike, dict] = None) -> dict:
    """The scoring rules (default: the stored ``atom_scoring_rules.json``), checked.

    Raises:
        ValueError: naming the file and key when a subtask, its ``scale`` ([lo, hi] integers,
            lo < hi) or its ``rule`` text is missing.
    """
    where = '<dict>'
    if not isinstance(rules, dict):
        path = Path(rules) if rules is not None else RULES_FILE
        where = str(path)
        try:
            rules = json.loads(path.read_text(encoding='utf-8'))
        except (OSError, ValueError) as e:
            raise ValueError(f'{where}: cannot read scoring rules: {e}') from None
    subs = rules.get('subtasks')
    if not isinstance(subs, dict):
        raise ValueError(f"{where}: missing 'subtasks'")
    for name in SUBTASKS:
        sub = subs.get(name)
        if not isinstance(sub, dict) or not isinstance(sub.get('rule'), str) or not sub['rule'].strip():
            raise ValueError(f"{where}: subtasks.{name}.rule missing or empty")
        scale = sub.get('scale')
        if (not isinstance(scale, list) or len(scale) != 2 or not all(isinstance(v, int) for v in scale)
                or scale[0] >= scale[1]):
            raise ValueError(f'{where}: subtasks.{name}.scale must be [lo, hi] integers with lo < hi, '
                             f'got {scale!r}')
    return rules


def round_half_up(x: float) -> int:
    """``floor(x + 0.5)``: 2.5 -> 3, 6.666 -> 7 (Python's ``round`` would give 2 for 2.5)."""
    return int(math.floor(x + 0.5))


_LABELLED = re.compile(r'score\s*(?:is|of|=|:)?\s*\**\s*(-?\d+(?:\.\d+)?)', re.IGNORECASE)
_FRACTION = re.compile(r'(?<![\d.])(-?\d+(?:\.\d+)?)\s*/\s*\d+(?![\d.])')
_NUMBER = re.compile(r'(?<![\w.])(-?\d+(?:\.\d+)?)(?![\w.]|\.\d)')


def parse_score(reply: str, lo: int, hi: int) -> int:
    """The integer score in a model's reply, on the scale ``[lo, hi]``.

    Taken, in order: the last ``Score: N`` (also ``score is N``, ``score = N``, ``**Score:** N``);
    else the numerator of the last ``N/M``; else the only number in the reply. ``N`` must be an
    integer (``7.0`` counts as 7) within ``[lo, hi]``.

    Raises:
        ScoreParseError: no number, several numbers and no label, a non-integer score, or a score
            outside the scale.

    Example:
        >>> parse_score('Two of three events are there. Score: 7', 0, 10)
        7
    """
    if not isinstance(reply, str):
        raise ScoreParseError(f'reply is not text ({type(reply).__name__})', str(reply))
    text = reply.replace('**', '')
    found = _LABELLED.findall(text) or _FRACTION.findall(text)
    if found:
        value = found[-1]
    else:
        numbers = _NUMBER.findall(text)
        if not numbers:
            raise ScoreParseError('no number in the reply', reply)
        if len(set(float(n) for n in numbers)) > 1:
            raise ScoreParseError(f'several numbers {numbers} and no "Score: N"', reply)
        value = numbers[-1]
    v = float(value)
    if v != int(v):
        raise ScoreParseError(f'score {value} is not an integer', reply)
    v = int(v)
    if not lo <= v <= hi:
        raise ScoreParseError(f'score {v} is outside the scale [{lo}, {hi}]', reply)
    return v


def scale_of(rules: dict, subtask: str) -> Tuple[int, int]:
    lo, hi = rules['subtasks'][subtask]['scale']
    return int(lo), int(hi)


def check_events(request: ScoreRequest) -> List[str]:
    """The request's events, checked for the subtask (the oracle needs them)."""
    events = [str(e) for e in request.events]
    if not events:
        raise ValueError(f'{request.sample_id}: the prompt has no events to score against')
    if request.subtask == 'frequency':
        if len(events) != 1 or request.count is None:
            raise ValueError(f'{request.sample_id}: a frequency prompt needs exactly one event and a '
                             f'count, got events={events} count={request.count}')
    return events


def as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]
