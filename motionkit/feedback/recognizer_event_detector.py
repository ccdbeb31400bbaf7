"""A learned event detector for generated motions: the detector of
:class:`~.synthmotion_oracle_scorer.SynthMotionOracleScorer` for motions whose program is unknown
(AToM, Han et al., CVPR 2025, sec. 3.3 scores with GPT-4V; this is the offline stand-in the
MotionPrefer docs describe: table 4's rules on the events a recognizer finds).

Steps (:meth:`RecognizerEventDetector.detect`):

1. **Windows.** Windows of ``window`` frames start every ``stride`` frames; the last one ends at
   the last frame (a motion shorter than a window is padded with its last frame).
2. **Classify.** Each window gets class probabilities from the window classifier: a
   :class:`~motionkit.models.MotionSegmentClassifier` / any model whose ``mode='tensor'`` forward
   returns ``(B, C)`` logits (softmax), or CoAMD's MAR through its class-label texts (softmax of the
   class cosines divided by ``text_temperature``).
3. **Frame labels.** A frame's probabilities are the mean over the windows that cover it; its
   label is the arg max.
4. **Smooth.** Runs of one label shorter than ``min_event_frames`` are merged into a neighbour,
   shortest run first (into the longer neighbour; at the ends into the only one), until every run
   is at least that long or one run is left. Adjacent runs of the same label merge.
5. **Events.** Each run is an event ``{label, start, end, count, score}`` (``end`` exclusive,
   ``score`` = mean frame probability of the label); events labelled in ``ignore`` (SynthMotion's
   ``stand`` filler) are dropped.

Repetition count (the rule, :func:`count_from_duration`): a primitive repeated ``k`` times in a
row lasts about ``offset + k * period`` frames, so an event of ``d`` frames counts
``max(1, round_half_up((d - offset) / period))`` repetitions. ``period`` and ``offset`` per label
come from known programs (:func:`fit_repetition_periods`: the median length of the repetition
spans, and the median of ``d - count * period`` over the events); labels without an entry count 1.
The table fitted on SynthMotion (n=1000, seed 0, train split) ships as
``prompts/synthmotion_repetition_periods.json`` and is the default.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import torch

from motionkit.registry import FEEDBACK_CLIENTS
from motionkit.utils.owned_model import build_owned_model

from .scoring import ScoreRequest, round_half_up
from .synthmotion_oracle_scorer import FILLER_EVENTS, _norm

__all__ = ['RecognizerEventDetector', 'window_starts', 'frame_probabilities', 'merge_short_runs',
           'runs_of', 'count_from_duration', 'fit_repetition_periods', 'load_repetition_periods',
           'REPETITION_PERIODS_FILE']

REPETITION_PERIODS_FILE = Path(__file__).resolve().parent / 'prompts' / \
    'synthmotion_repetition_periods.json'


def window_starts(num_frames: int, window: int, stride: int) -> List[int]:
    """First frames of the sliding windows: ``0, stride, ...`` and one ending at the last frame.

    Example:
        >>> window_starts(10, 4, 3)
        [0, 3, 6]
        >>> window_starts(11, 4, 3)
        [0, 3, 6, 7]
    """
    if num_frames < 1 or window < 1 or stride < 1:
        raise ValueError(f'window_starts: need num_frames, window, stride >= 1, got {num_frames}, '
                         f'{window}, {stride}')
    last = max(num_frames - window, 0)
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    return starts


def frame_probabilities(window_probs: np.ndarray, starts: Sequence[int], window: int,
                        num_frames: int) -> np.ndarray:
    """``(N, C)`` window probabilities -> ``(num_frames, C)``: the mean over the covering windows."""
    window_probs = np.asarray(window_probs, dtype=np.float64)
    if window_probs.ndim != 2 or len(window_probs) != len(starts):
        raise ValueError(f'frame_probabilities: expected ({len(starts)}, C) window probabilities, '
                         f'got {window_probs.shape}')
    total = np.zeros((num_frames, window_probs.shape[1]))
    cover = np.zeros(num_frames)
    for s, p in zip(starts, window_probs):
        e = min(s + window, num_frames)
        total[s:e] += p
        cover[s:e] += 1
    if (cover == 0).any():
        raise ValueError(f'frame_probabilities: frames {np.flatnonzero(cover == 0)[:5].tolist()} '
                         'are covered by no window')
    return total / cover[:, None]


def runs_of(labels: Sequence[int]) -> List[List[int]]:
    """``[[label, start, end), ...]`` runs of equal consecutive labels.

    Example:
        >>> runs_of([3, 3, 1, 1, 1, 3])
        [[3, 0, 2], [1, 2, 5], [3, 5, 6]]
    """
    out: List[List[int]] = []
    for t, lab in enumerate(labels):
        lab = int(lab)
        if out and out[-1][0] == lab:
            out[-1][2] = t + 1
        else:
            out.append([lab, t, t + 1])
    return out


def _merge_equal(runs: List[List[int]]) -> List[List[int]]:
    out: List[List[int]] = []
    for r in runs:
        if out and out[-1][0] == r[0]:
            out[-1][2] = r[2]
        else:
            out.append(list(r))
    return out


def merge_short_runs(runs: List[List[int]], min_frames: int) -> List[List[int]]:
    """Merge runs shorter than ``min_frames`` into a neighbour (step 4 of the module docstring).

    The shortest run goes first (the earliest among equals); it takes the label of its longer
    neighbour (the left one on a tie; at either end the only neighbour); equal neighbours then
    merge. Stops when every run has ``min_frames`` or one run is left.

    Example:
        >>> merge_short_runs([[0, 0, 10], [1, 10, 12], [0, 12, 20], [2, 20, 23]], 4)
        [[0, 0, 23]]
    """
    runs = _merge_equal([list(r) for r in runs])
    while len(runs) > 1:
        lengths = [r[2] - r[1] for r in runs]
        k = int(np.argmin(lengths))
        if lengths[k] >= min_frames:
            break
        if k == 0:
            target = 1
        elif k == len(runs) - 1:
            target = k - 1
        else:
            target = k - 1 if lengths[k - 1] >= lengths[k + 1] else k + 1
        runs[k][0] = runs[target][0]
        runs = _merge_equal(runs)
    return runs


def count_from_duration(frames: int, period: Optional[float], offset: float = 0.0) -> int:
    """Repetitions of an event of ``frames`` frames: ``max(1, round_half_up((frames - offset) /
    period))``; 1 without a period.

    Example:
        >>> count_from_duration(80, 36.0, 8.0)  # (80 - 8) / 36 = 2
        2
    """
    if period is None:
        return 1
    if not period > 0:
        raise ValueError(f'count_from_duration: period must be > 0, got {period}')
    return max(1, round_half_up((frames - offset) / period))


def fit_repetition_periods(programs: Iterable[dict], min_events: int = 3) -> Dict[str, dict]:
    """Per label ``{period, offset, events}`` from known programs (SynthMotion ``programs.jsonl``
    records): ``period`` = median length of the events' repetition spans (``reps``), ``offset`` =
    median of ``(end - start) - count * period``. Labels whose count never varies, or with fewer
    than ``min_events`` events, get no entry (they count 1)."""
    spans: Dict[str, list] = {}
    events: Dict[str, list] = {}
    for n, prog in enumerate(programs):
        evs = prog.get('events') if isinstance(prog, dict) else None
        if not isinstance(evs, list):
            raise ValueError(f'fit_repetition_periods: program {n} has no events list')
        for ev in evs:
            for key in ('primitive', 'start', 'end', 'count', 'reps'):
                if key not in ev:
                    raise KeyError(f'fit_repetition_periods: program {n} has an event without {key!r}')
            lab = _norm(ev['primitive'])
            spans.setdefault(lab, []).extend(int(b) - int(a) for a, b in ev['reps'])
            events.setdefault(lab, []).append((int(ev['end']) - int(ev['start']), int(ev['count'])))
    out = {}
    for lab, evs in sorted(events.items()):
        counts = {c for _, c in evs}
        if len(evs) < min_events or len(counts) < 2 or not spans[lab]:
            continue
        period = float(np.median(spans[lab]))
        offset = float(np.median([d - c * period for d, c in evs]))
        out[lab] = dict(period=round(period, 3), offset=round(offset, 3), events=len(evs))
    return out


def load_repetition_periods(table: Union[None, str, os.PathLike, dict] = None) -> Dict[str, dict]:
    """The repetition table (default: the shipped SynthMotion one), keys normalised, checked."""
    where = '<dict>'
    if not isinstance(table, dict):
        path = Path(table) if table is not None else REPETITION_PERIODS_FILE
        where = str(path)
        try:
            table = json.loads(path.read_text(encoding='utf-8'))
        except (OSError, ValueError) as e:
            raise ValueError(f'{where}: cannot read the repetition table ({e})') from None
    table = table.get('labels', table)
    out = {}
    for lab, entry in table.items():
        if not isinstance(entry, dict) or not isinstance(entry.get('period'), (int, float)) \
                or not entry['period'] > 0 or not isinstance(entry.get('offset', 0.0), (int, float)):
            raise ValueError(f'{where}: entry {lab!r} needs a period > 0 and a numeric offset, got '
                             f'{entry!r}')
        out[_norm(lab)] = dict(period=float(entry['period']), offset=float(entry.get('offset', 0.0)))
    return out


@FEEDBACK_CLIENTS.register_module()
class RecognizerEventDetector:
    """Events of a motion found by a window classifier (see the module docstring).

    Called with a :class:`ScoreRequest` (its ``joints``) it returns
    ``[{'label', 'count', 'start', 'end', 'score'}, ...]`` in time order, the detector protocol of
    :class:`SynthMotionOracleScorer`.

    Args:
        classifier: the window classifier: a ``MODELS`` config dict, a ``.py`` config whose
            ``model`` is it, or a module (e.g. ``MotionSegmentClassifier``; or
            ``MultimodalActionRecognizer`` with ``class_texts``, scored by its class-label texts).
        checkpoint: its weights (path or hub name), loaded strictly.
        classes: label of each class index; default the model's ``classes`` (segment classifier)
            or ``class_texts`` (MAR).
        window, stride: window length and step in frames (20 fps); ``window`` should be the one
            the classifier was trained on.
        min_event_frames: shortest run kept as an event (step 4).
        ignore: labels that are not events of a prompt (dropped after smoothing).
        repetition_periods: the count table (path, dict or ``None`` for the shipped SynthMotion
            one); ``False``: every event counts 1.
        text_temperature: MAR only: softmax temperature of the class cosines.
        batch_size: windows per forward pass.
        device: where the classifier runs.
    """

    def __init__(self,
                 classifier: Union[dict, str, Any],
                 checkpoint: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 window: int = 32,
                 stride: int = 4,
                 min_event_frames: int = 16,
                 ignore: Sequence[str] = tuple(FILLER_EVENTS),
                 repetition_periods: Union[None, bool, str, os.PathLike, dict] = None,
                 text_temperature: float = 0.1,
                 batch_size: int = 256,
                 device: str = 'cpu') -> None:
        if window < 1 or stride < 1 or min_event_frames < 1 or batch_size < 1:
            raise ValueError(f'RecognizerEventDetector: window, stride, min_event_frames and '
                             f'batch_size must be >= 1, got {window}, {stride}, {min_event_frames}, '
                             f'{batch_size}')
        if not text_temperature > 0:
            raise ValueError(f'RecognizerEventDetector: text_temperature must be > 0, got '
                             f'{text_temperature}')
        self.model = build_owned_model(classifier, checkpoint, 'RecognizerEventDetector')
        self.model.to(device)
        self.device = device
        self.use_texts = hasattr(self.model, 'class_scores') and hasattr(self.model, 'encode_motion')
        if classes is None:
            classes = getattr(self.model, 'class_texts' if self.use_texts else 'classes', None)
        if not classes:
            raise ValueError(f'RecognizerEventDetector: no class names: pass classes=[...] (the '
                             f'{type(self.model).__name__} declares none)')
        self.classes = [str(c) for c in classes]
        self.window, self.stride = int(window), int(stride)
        self.min_event_frames = int(min_event_frames)
        self.ignore = {_norm(x) for x in ignore}
        self.repetition_periods = {} if repetition_periods is False else \
            load_repetition_periods(repetition_periods)
        self.text_temperature = float(text_temperature)
        self.batch_size = int(batch_size)

    def window_probabilities(self, windows: np.ndarray) -> np.ndarray:
        """``(N, window, J, 3)`` joints -> ``(N, C)`` class probabilities."""
        out = []
        with torch.no_grad():
            for i in range(0, len(windows), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(windows[i:i + self.batch_size],
                                                          dtype=np.float32)).to(self.device)
                lengths = torch.full((len(x), ), x.shape[1], dtype=torch.long, device=self.device)
                if self.use_texts:
                    s = self.model.class_scores(self.model.encode_motion(x, lengths))
                    s = s / self.text_temperature
                else:
                    s = self.model(dict(motion=x, lengths=lengths), mode='tensor')
                if s.ndim != 2 or s.shape[1] != len(self.classes):
                    raise ValueError(f'RecognizerEventDetector: the classifier returned '
                                     f'{tuple(s.shape)} scores for {len(x)} windows and '
                                     f'{len(self.classes)} classes')
                out.append(s.float().softmax(-1).cpu().numpy())
        return np.concatenate(out, 0)

    def detect(self, joints: np.ndarray, sample_id: str = '?') -> List[dict]:
        """Events of one motion ``(T, J, 3)``: ``[{label, count, start, end, score}, ...]``."""
        joints = np.asarray(joints, dtype=np.float32)
        if joints.ndim != 3 or joints.shape[-1] != 3 or len(joints) < 1:
            raise ValueError(f'{sample_id}: RecognizerEventDetector expects joints (T, J, 3), got '
                             f'{joints.shape}')
        if not np.isfinite(joints).all():
            raise ValueError(f'{sample_id}: joints hold NaN or infinite values')
        T = len(joints)
        if T < self.window:
            joints = np.concatenate([joints, np.repeat(joints[-1:], self.window - T, 0)], 0)
        starts = window_starts(T, self.window, self.stride)
        windows = np.stack([joints[s:s + self.window] for s in starts])
        probs = frame_probabilities(self.window_probabilities(windows), starts, self.window, T)
        runs = merge_short_runs(runs_of(probs.argmax(-1)), self.min_event_frames)
        events = []
        for lab, a, b in runs:
            name = self.classes[lab]
            if _norm(name) in self.ignore:
                continue
            rep = self.repetition_periods.get(_norm(name))
            count = count_from_duration(b - a, rep['period'], rep['offset']) if rep else 1
            events.append(dict(label=name, count=int(count), start=int(a), end=int(b),
                               score=round(float(probs[a:b, lab].mean()), 4)))
        return events

    def __call__(self, request: ScoreRequest) -> List[dict]:
        if request.joints is None:
            raise ValueError(f'{request.sample_id}: RecognizerEventDetector needs the motion joints')
        return self.detect(request.joints, request.sample_id)
