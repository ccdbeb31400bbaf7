"""Expert commentary -> (summary, six body-region labels): ExpertAF sec. 3.2.

ExpertAF asks a large language model to condense each time-stamped expert comment and to say, for
each of six body regions, whether the comment finds it in need of improvement, correct, or does not
mention it. Labels: ``0`` needs improvement, ``1`` correct, ``2`` not mentioned, over
:data:`~motionkit.motion.body_parts.FEEDBACK_REGIONS` (head, torso, left/right arm, left/right leg).

Two routes:

* ``'llm'`` (the paper's): one request per comment through a ``FEEDBACK_CLIENTS`` client (the
  cached :class:`~motionkit.feedback.OpenAIChatClient`), with the instruction stored in
  ``motionkit/datagen/prompts/expertaf_commentary_regions.txt`` (placeholders ``{activity}``,
  ``{kind}``, ``{commentary}``); the reply must be the JSON object the instruction asks for and is
  checked by :func:`parse_region_reply`. A reply that does not parse is a counted failure
  (:attr:`CommentaryRegionLabeler.counts`), recorded with its text, never turned into labels.
* ``'keyword'`` (offline, for tests and machines without a model): body-part words of the comment
  (:data:`REGION_KEYWORDS`) give the regions, a ``left`` / ``right`` in the three words before a
  limb word picks its side (no side: both), and the comment's list gives the label (a tip: 0,
  a good execution: 1). The summary is the comment's first sentence.

A comment that names no region (all labels 2) is a counted skip, never a pair.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from motionkit.motion.body_parts import FEEDBACK_REGIONS

__all__ = ['REGION_LABELS', 'NEEDS_IMPROVEMENT', 'CORRECT', 'NOT_MENTIONED', 'PROMPT_FILE',
           'REGION_KEYWORDS', 'RegionReplyError', 'load_region_prompt', 'region_messages',
           'parse_region_reply', 'keyword_regions', 'CommentaryRegionLabeler']

NEEDS_IMPROVEMENT, CORRECT, NOT_MENTIONED = 0, 1, 2
#: Label names by code (SynthMotion's ``REGION_LABELS`` use the same order).
REGION_LABELS = ('needs_improvement', 'correct', 'not_mentioned')
PROMPT_FILE = Path(__file__).resolve().parent.parent / 'prompts' / 'expertaf_commentary_regions.txt'
_PLACEHOLDERS = ('{activity}', '{kind}', '{commentary}')
_KIND_WORDS = {'tips_for_improvement': 'tip for improvement', 'good_executions': 'praise (good execution)'}

#: Words that put a comment on a region (``'arm'`` / ``'leg'`` are sided by a preceding left/right).
REGION_KEYWORDS: Dict[str, Tuple[str, ...]] = {
    'head': ('head', 'eye', 'eyes', 'gaze', 'chin', 'neck', 'face', 'look', 'looking'),
    'torso': ('torso', 'trunk', 'back', 'chest', 'spine', 'core', 'hip', 'hips', 'waist', 'posture',
              'upper body'),
    'arm': ('arm', 'arms', 'elbow', 'elbows', 'wrist', 'wrists', 'hand', 'hands', 'shoulder',
            'shoulders', 'fist', 'fists', 'forearm', 'forearms', 'release', 'reach', 'punch', 'punches',
            'guard', 'throw'),
    'leg': ('leg', 'legs', 'knee', 'knees', 'foot', 'feet', 'ankle', 'ankles', 'thigh', 'thighs',
            'heel', 'heels', 'toe', 'toes', 'stride', 'step', 'steps', 'kick', 'kicking', 'landing',
            'lunge', 'squat'),
}
_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")


class RegionReplyError(ValueError):
    """An LLM reply that is not the JSON object the region instruction asks for."""


def load_region_prompt(path: str | os.PathLike | None = None) -> str:
    """The region instruction (default :data:`PROMPT_FILE`), checked for its three placeholders."""
    path = Path(path) if path is not None else PROMPT_FILE
    if not path.is_file():
        raise FileNotFoundError(f'region prompt file not found: {path}')
    text = path.read_text(encoding='utf-8')
    for ph in _PLACEHOLDERS:
        if text.count(ph) != 1:
            raise ValueError(f'{path}: the prompt must hold the placeholder {ph} exactly once, found it '
                             f'{text.count(ph)} times')
    return text


def region_messages(commentary: str, kind: str, activity: str, prompt: str) -> List[dict]:
    """The chat messages asking for the summary and region labels of one comment (one user turn)."""
    if kind not in _KIND_WORDS:
        raise ValueError(f'kind must be one of {tuple(_KIND_WORDS)}, got {kind!r}')
    text = prompt.replace('{activity}', activity).replace('{kind}', _KIND_WORDS[kind])
    return [dict(role='user', content=text.replace('{commentary}', commentary.strip()))]


def _label(value: Any, region: str) -> int:
    if isinstance(value, bool):
        raise RegionReplyError(f'region {region!r}: label must be 0, 1 or 2, got {value!r}')
    if isinstance(value, (int, float)) and float(value) in (0.0, 1.0, 2.0):
        return int(value)
    if isinstance(value, str):
        key = value.strip().lower().replace(' ', '_')
        if key in ('0', '1', '2'):
            return int(key)
        if key in REGION_LABELS:
            return REGION_LABELS.index(key)
    raise RegionReplyError(f'region {region!r}: label must be 0, 1 or 2, got {value!r}')


def parse_region_reply(reply: str) -> Tuple[str, List[int]]:
    """``(summary, labels)`` from an answer to the region instruction.

    The answer must hold one JSON object (a Markdown code fence around it and text before or after
    it are tolerated) with a non-empty string ``summary`` and ``regions``: an object with exactly
    the six region names, each labelled 0 / 1 / 2 (or the label names of :data:`REGION_LABELS`).

    Returns:
        the summary and the six labels in :data:`FEEDBACK_REGIONS` order.

    Raises:
        RegionReplyError: anything else (the message says what is wrong).
    """
    if not isinstance(reply, str):
        raise RegionReplyError(f'a reply must be a string, got {type(reply).__name__}')
    start, end = reply.find('{'), reply.rfind('}')
    if start < 0 or end <= start:
        raise RegionReplyError('no JSON object in the reply')
    try:
        obj = json.loads(reply[start:end + 1])
    except ValueError as e:
        raise RegionReplyError(f'the JSON object does not parse ({e})') from None
    if not isinstance(obj, dict):
        raise RegionReplyError('the reply is not a JSON object')
    summary = obj.get('summary')
    if not isinstance(summary, str) or not summary.strip():
        raise RegionReplyError(f'"summary" must be a non-empty string, got {summary!r}')
    regions = obj.get('regions')
    if not isinstance(regions, dict):
        raise RegionReplyError(f'"regions" must be an object, got {regions!r}')
    missing = [r for r in FEEDBACK_REGIONS if r not in regions]
    extra = sorted(set(regions) - set(FEEDBACK_REGIONS))
    if missing or extra:
        raise RegionReplyError(f'"regions" must name exactly {list(FEEDBACK_REGIONS)}; missing {missing}, '
                               f'unknown {extra}')
    return ' '.join(summary.split()), [_label(regions[r], r) for r in FEEDBACK_REGIONS]


def keyword_regions(commentary: str, kind: str) -> Tuple[str, List[int]]:
    """The offline route: ``(first sentence, labels)`` from the body-part words of ``commentary``."""
    if kind not in _KIND_WORDS:
        raise ValueError(f'kind must be one of {tuple(_KIND_WORDS)}, got {kind!r}')
    value = NEEDS_IMPROVEMENT if kind == 'tips_for_improvement' else CORRECT
    words = _WORDS.findall(commentary.lower())
    found = set()
    for i, w in enumerate(words):
        pair = ' '.join(words[i:i + 2])
        for region, keys in REGION_KEYWORDS.items():
            if w not in keys and pair not in keys:
                continue
            if region in ('head', 'torso'):
                found.add(region)
                continue
            before = words[max(0, i - 3):i]
            sides = [s for s in ('left', 'right') if s in before] or ['left', 'right']
            found.update(f'{s}_{region}' for s in sides)
    labels = [value if r in found else NOT_MENTIONED for r in FEEDBACK_REGIONS]
    first = re.split(r'(?<=[.!?;])\s+', commentary.strip(), maxsplit=1)[0]
    return first, labels


class CommentaryRegionLabeler:
    """Labels comments by one route and counts what happened.

    Args:
        route: ``'llm'`` or ``'keyword'``.
        client: ``'llm'``: an object with ``chat(messages) -> str`` (e.g. an
            :class:`~motionkit.feedback.OpenAIChatClient`) or a ``FEEDBACK_CLIENTS`` config dict.
        prompt_file: ``'llm'``: the instruction (default :data:`PROMPT_FILE`).

    Attributes:
        counts: ``labelled``, ``reply_failed`` (LLM answers that did not parse, or requests that
            failed for good) and ``no_region`` (comments that name no region).
    """

    def __init__(self, route: str = 'keyword', client: Any = None,
                 prompt_file: str | os.PathLike | None = None) -> None:
        if route not in ('llm', 'keyword'):
            raise ValueError(f"route must be 'llm' or 'keyword', got {route!r}")
        self.route = route
        self.prompt = None
        self.client = None
        if route == 'llm':
            if client is None:
                raise ValueError("route='llm' needs client=dict(type='OpenAIChatClient', base_url=..., "
                                 "model=...) or an object with chat(messages)")
            self.client = client if hasattr(client, 'chat') else _build_client(client)
            self.prompt = load_region_prompt(prompt_file)
        self.counts = dict(labelled=0, reply_failed=0, no_region=0)

    def prompt_sha256(self) -> Optional[str]:
        return None if self.prompt is None else hashlib.sha256(self.prompt.encode()).hexdigest()

    def __call__(self, commentary: str, kind: str, activity: str) -> dict:
        """``dict(status, summary, labels, reply, error)``: status ``'ok'``, ``'reply_failed'`` or
        ``'no_region'``; labels in :data:`FEEDBACK_REGIONS` order (``None`` when the reply failed)."""
        reply = error = None
        if self.route == 'keyword':
            summary, labels = keyword_regions(commentary, kind)
        else:
            from motionkit.feedback.errors import FeedbackError
            try:
                reply = self.client.chat(region_messages(commentary, kind, activity, self.prompt))
                summary, labels = parse_region_reply(reply)
            except (RegionReplyError, FeedbackError) as e:
                self.counts['reply_failed'] += 1
                return dict(status='reply_failed', summary=None, labels=None, reply=reply, error=str(e))
        if all(v == NOT_MENTIONED for v in labels):
            self.counts['no_region'] += 1
            return dict(status='no_region', summary=summary, labels=labels, reply=reply, error=None)
        self.counts['labelled'] += 1
        return dict(status='ok', summary=summary, labels=labels, reply=reply, error=error)


def _build_client(cfg: Any):
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'client must be an object with chat(messages) or a config dict with a type, got {cfg!r}')
    from motionkit.registry import FEEDBACK_CLIENTS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    return FEEDBACK_CLIENTS.build(cfg)
