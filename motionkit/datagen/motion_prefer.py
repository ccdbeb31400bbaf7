"""MotionPrefer: AToM's event-level preference data (Han et al., "AToM: Aligning Text-to-Motion
Model at Event-Level with GPT-4Vision Reward", CVPR 2025, sec. 3.1-3.3, tables 2-4, algorithm 1).

Stages (each resumable and atomic; :mod:`tools/data/build_motion_prefer.py` runs them):

1. **Prompts** (sec. 3.1). Meta motion labels (events) are taken from training captions, grouped
   per subtask and turned into prompts:

   * ``integrity``: 2-5 distinct events joined by conjunctions ("and", "while", ...);
   * ``temporal``: 3 distinct events in a stated order ("then", "after that", ...);
   * ``frequency``: 1 event with a repetition count ("three times", "twice").

   Routes: ``'llm'`` (the paper's: an LLM writes the prompt from the group and the conjunction
   list with the instruction stored in ``motionkit/datagen/prompts/atom_prompt_instruction.txt``,
   through a cached OpenAI-compatible client) or ``'template'`` (offline, deterministic).
   Events come from SynthMotion programs (exact labels and counts: :func:`events_from_program`) or,
   for free captions, from the ``word/POS`` tags of HumanML3D caption lines
   (:func:`events_from_tokens`).
2. **Scores** (sec. 3.2-3.3): any :class:`~motionkit.feedback.scoring.MotionScorer` on the
   generated motions (:func:`score_samples`).
3. **Pairs** (algorithm 1): per prompt, motions sorted by score, every (winner, loser) whose score
   gap exceeds ``theta`` (:func:`build_pairs`); table 3's statistics (:func:`motion_prefer_stats`).

Test-set filter rules for the subtask evaluation sets: :func:`caption_subtask`; the sets of a split
(caption lines, the file ``filter_cfg=dict(caption_subset=...)`` of a dataset reads):
:func:`write_subtask_test_sets`.

Generated-motion folder format (the input of the score stage)::

    index.json       {"samples": [{"id", "prompt_id", "prompt", "subtask", "joints",
                                   "events", "count", "program"?}, ...]}
    joints/<id>.npy  (T, 22, 3) float32 t2m22 joints (``joints`` is this path, relative)
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from motionkit.datagen.action_classes import LIGHT_VERBS, NON_ACTION_VERBS, PARTICLES
from motionkit.datasets.importers.pos_tagger import lemmatize
from motionkit.feedback.budget import BudgetExhausted, CallBudget
from motionkit.feedback.scoring import SUBTASKS, ScoreParseError, ScoreRequest
from motionkit.feedback.errors import FeedbackError
from motionkit.utils.io import atomic_write_bytes, iter_jsonl

__all__ = ['SUBTASKS', 'CONJUNCTIONS', 'PROMPT_INSTRUCTION_FILE', 'Event', 'PromptGroup',
           'events_from_tokens', 'events_from_program', 'meta_labels', 'sample_label_groups',
           'template_prompt', 'prompt_messages', 'llm_prompt', 'write_prompts', 'caption_subtask',
           'subtask_test_sets', 'write_subtask_test_sets',
           'load_generated', 'load_prompt_instruction', 'write_pairs', 'score_samples', 'build_pairs', 'motion_prefer_stats',
           'SYNTH_EVENT_PHRASES', 'COUNTABLE_PRIMITIVES']

PROMPT_INSTRUCTION_FILE = Path(__file__).resolve().parent / 'prompts' / 'atom_prompt_instruction.txt'

# Connecting words per subtask (sec. 3.1: the LLM receives the label group and a conjunction list).
CONJUNCTIONS = {
    'integrity': ('and', 'and also'),
    'temporal': ('then', 'after that', 'and then', 'and afterwards'),
    'frequency': ('once', 'twice', 'three times', 'four times', 'five times'),
}
GROUP_SIZES = {'integrity': (2, 5), 'temporal': (3, 3), 'frequency': (1, 1)}
COUNT_RANGE = (1, 5)
_COUNT_WORDS = {1: 'once', 2: 'twice', 3: 'three times', 4: 'four times', 5: 'five times'}

# Verb phrases (base form) of SynthMotion's primitives for prompts.
SYNTH_EVENT_PHRASES = {
    'walk': 'walk forward', 'jog': 'jog', 'run': 'run', 'side_step': 'step sideways',
    'turn': 'turn around', 'march': 'march in place', 'step_over': 'step over an obstacle',
    'jump': 'jump', 'hop': 'hop on one leg', 'jumping_jacks': 'do jumping jacks', 'squat': 'squat',
    'lunge': 'lunge', 'kick': 'kick', 'balance': 'balance on one leg', 'sit_down_stand_up': 'sit down',
    'wave': 'wave', 'raise_arms': 'raise the arms', 'arm_circles': 'circle the arms', 'clap': 'clap',
    'punch': 'punch', 'bow': 'bow', 'throw': 'throw', 'jump_shot': 'take a jump shot',
    'dribble': 'dribble', 'toe_touch': 'touch the toes', 'side_bend': 'bend sideways',
    'torso_twist': 'twist the torso', 'stretch_up': 'stretch upward', 'head_gesture': 'shake the head',
}
# Primitives whose program 'count' is a number of repetitions a prompt can state (the others
# count steps or last a duration).
COUNTABLE_PRIMITIVES = frozenset({'jump', 'hop', 'jumping_jacks', 'squat', 'lunge', 'kick', 'wave',
                                  'arm_circles', 'clap', 'punch', 'toe_touch', 'side_bend',
                                  'torso_twist', 'head_gesture'})


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def _write_jsonl(path: Path, records: Iterable[dict]) -> None:
    atomic_write_bytes(path, ''.join(_dumps(r) + '\n' for r in records).encode('utf-8'))


def _read_jsonl(path: Path) -> List[dict]:
    return [rec for _, rec in iter_jsonl(path, objects=False)]


# ---------------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One meta motion label: a verb phrase in base form (``'walk forward'``) and, when the text
    states one, a repetition count."""
    label: str
    count: Optional[int] = None


_NUM_WORDS = {'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6, 'seven': 7, 'eight': 8,
              'nine': 9, 'ten': 10}
_ADVERB_COUNTS = {'once': 1, 'twice': 2, 'thrice': 3}
# words that end an event phrase: coordinators and temporal connectives
_BREAK_WORDS = frozenset({'and', 'then', 'after', 'before', 'while', 'finally', 'first', 'afterwards',
                          'next', 'later', 'but', 'or', 'as', 'followed', 'until', 'when', 'again'})
_KEEP_ADV = frozenset({'forward', 'forwards', 'backward', 'backwards', 'back', 'up', 'down', 'around',
                       'sideways', 'clockwise', 'counterclockwise', 'diagonally'})
_SIDES = frozenset({'left', 'right'})  # kept as directions only when tagged ADV ("turn left")
TEMPORAL_WORDS = frozenset({'then', 'after', 'afterwards', 'before', 'finally', 'first', 'next', 'later',
                            'followed', 'until'})


def _pairs(tokens: Sequence[str]) -> List[Tuple[str, str]]:
    out = []
    for tok in tokens:
        word, sep, pos = tok.rpartition('/')
        if not sep:
            raise ValueError(f'tokens must be word/POS, got {tok!r}')
        if word:
            out.append((word.lower(), pos.upper()))
    return out


def _number(word: str) -> Optional[int]:
    if word.isdigit():
        return int(word)
    return _NUM_WORDS.get(word)


def count_in(pairs: Sequence[Tuple[str, str]]) -> Optional[int]:
    """A repetition count stated in a token span: ``once`` / ``twice`` / ``thrice``, a number
    before ``time(s)``, or a number before the object noun (``three squats``)."""
    for i, (w, pos) in enumerate(pairs):
        if w in _ADVERB_COUNTS:
            return _ADVERB_COUNTS[w]
        n = _number(w)
        if n is not None and i + 1 < len(pairs):
            nxt = pairs[i + 1][0]
            if nxt in ('time', 'times') or pairs[i + 1][1] in ('NOUN', 'PROPN'):
                return n
    return None


def events_from_tokens(tokens: Sequence[str]) -> List[Event]:
    """Events of one caption from its ``word/POS`` tokens (HumanML3D's ``caption#tokens#..`` lines).

    Verb-phrase rule: each ``VERB`` token that is a movement (not in ``NON_ACTION_VERBS``) opens an
    event; the event's label is the verb's lemma plus, right after it, a particle (``sit down``)
    and the direction words of :data:`_KEEP_ADV` (``walk forward``, ``turn left``); a light verb
    (``do``, ``perform``) takes its object noun instead (``does three squats`` -> ``squat``). The
    event's span runs to the next event verb or a break word (``and``, ``then``, ``after``...), and
    a count stated in the span (``twice``, ``two times``, ``three squats``) becomes its count.
    Events are kept in caption order, repeats included.
    """
    pairs = _pairs(tokens)
    starts = []
    for i, (w, pos) in enumerate(pairs):
        if pos == 'VERB' and lemmatize(w) not in NON_ACTION_VERBS:
            if i > 0 and pairs[i - 1][0] == 'to' and pairs[i - 1][1] == 'PART':
                continue  # "to step over": purpose clause of the previous event
            starts.append(i)
    events = []
    for n, i in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(pairs)
        span = pairs[i + 1:end]
        stop = next((k for k, (w, _) in enumerate(span) if w in _BREAK_WORDS), len(span))
        span = span[:stop]
        lemma = lemmatize(pairs[i][0])
        if lemma in LIGHT_VERBS:
            j = 0
            while j < len(span) and span[j][1] in ('DET', 'NUM', 'ADJ', 'PRON'):
                j += 1
            nouns = []
            while j < len(span) and span[j][1] in ('NOUN', 'PROPN'):
                nouns.append(span[j][0])
                j += 1
            if not nouns:
                continue
            nouns[-1] = lemmatize(nouns[-1]) if nouns[-1].endswith('s') else nouns[-1]
            label = ' '.join(nouns)
        else:
            words = [lemma]
            for w, p in span:
                if ((w in PARTICLES and p in ('ADP', 'ADV', 'PART', 'PRT')) or w in _KEEP_ADV
                        or (w in _SIDES and p == 'ADV')):
                    if w not in words:
                        words.append(w)
                elif p in ('DET', 'PRON', 'NUM', 'ADJ') or w in ('time', 'times'):
                    continue
                else:
                    break
            label = ' '.join(words)
        events.append(Event(label, count_in(span)))
    return events


def events_from_program(program: dict) -> List[Event]:
    """Events of a SynthMotion program (``programs.jsonl`` record or ``SynthItem.program``): the
    primitive names in order, without the 'stand' filler, each with its count when the primitive
    counts repetitions (:data:`COUNTABLE_PRIMITIVES`)."""
    evs = program.get('events') if isinstance(program, dict) else None
    if not isinstance(evs, list):
        raise ValueError(f"a SynthMotion program needs an 'events' list, got {type(program).__name__}")
    out = []
    for ev in evs:
        name = ev['primitive']
        if name == 'stand':
            continue
        out.append(Event(name, int(ev['count']) if name in COUNTABLE_PRIMITIVES else None))
    return out


def meta_labels(event_lists: Iterable[Sequence[Event]], min_count: int = 1) -> List[str]:
    """Distinct event labels seen at least ``min_count`` times, most frequent first (ties by name)."""
    c = Counter(e.label for evs in event_lists for e in evs)
    return sorted((lab for lab, n in c.items() if n >= min_count), key=lambda lab: (-c[lab], lab))


# ---------------------------------------------------------------------------------------------
# label groups and prompts
# ---------------------------------------------------------------------------------------------
@dataclass
class PromptGroup:
    """The events one prompt must describe (sec. 3.1)."""
    prompt_id: str
    subtask: str
    events: List[str]
    count: Optional[int] = None
    conjunctions: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.subtask not in SUBTASKS:
            raise ValueError(f'{self.prompt_id}: subtask must be one of {SUBTASKS}, got {self.subtask!r}')
        lo, hi = GROUP_SIZES[self.subtask]
        if not lo <= len(self.events) <= hi:
            raise ValueError(f'{self.prompt_id}: a {self.subtask} group has {lo}-{hi} events, got {self.events}')
        if (self.subtask == 'frequency') != (self.count is not None):
            raise ValueError(f'{self.prompt_id}: only frequency groups carry a count, got {self.count}')


def sample_label_groups(labels: Sequence[str], subtask: str, num: int, seed: int = 0,
                        countable: Optional[Sequence[str]] = None, prefix: str = '') -> List[PromptGroup]:
    """``num`` label groups for ``subtask`` from ``labels`` (distinct events within a group; a
    group's size uniform in :data:`GROUP_SIZES`; frequency counts uniform in 1-5 among
    ``countable`` labels, default all). Deterministic in ``seed``; duplicates are not drawn twice
    while enough distinct groups exist (after ``20 * num`` draws the duplicates are kept).
    """
    if subtask not in SUBTASKS:
        raise ValueError(f'subtask must be one of {SUBTASKS}, got {subtask!r}')
    pool = list(countable if subtask == 'frequency' and countable is not None else labels)
    lo, hi = GROUP_SIZES[subtask]
    if len(pool) < lo:
        raise ValueError(f'{subtask} groups need at least {lo} distinct labels, got {len(pool)}: {pool}')
    rng = np.random.default_rng([int(seed), SUBTASKS.index(subtask)])
    groups, seen, draws = [], set(), 0
    while len(groups) < num:
        draws += 1
        k = int(rng.integers(lo, min(hi, len(pool)) + 1))
        ev = [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]
        count = int(rng.integers(COUNT_RANGE[0], COUNT_RANGE[1] + 1)) if subtask == 'frequency' else None
        conj = [str(c) for c in rng.permutation(CONJUNCTIONS[subtask])]
        sig = (tuple(ev), count)
        if sig in seen and draws < 20 * num:
            continue
        seen.add(sig)
        groups.append(PromptGroup(f'{prefix}{subtask[:3]}{len(groups):05d}', subtask, ev, count, conj))
    return groups


def _phrase(label: str) -> str:
    return SYNTH_EVENT_PHRASES.get(label, label.replace('_', ' '))


def third_person(phrase: str) -> str:
    """'walk forward' -> 'walks forward', 'do jumping jacks' -> 'does jumping jacks'."""
    verb, _, rest = phrase.partition(' ')
    if verb in ('do', 'go'):
        v = verb + 'es'
    elif verb == 'have':
        v = 'has'
    elif re.search(r'(s|sh|ch|x|z)$', verb):
        v = verb + 'es'
    elif re.search(r'[^aeiou]y$', verb):
        v = verb[:-1] + 'ies'
    else:
        v = verb + 's'
    return f'{v} {rest}'.strip()


def template_prompt(group: PromptGroup) -> str:
    """The offline route: one deterministic sentence from the group (first conjunction used).

    Example:
        >>> template_prompt(PromptGroup('t0', 'temporal', ['walk', 'jump', 'bow'],
        ...                             conjunctions=['then', 'after that']))
        'a person walks forward, then jumps, then bows.'
    """
    verbs = [third_person(_phrase(e)) for e in group.events]
    conj = group.conjunctions[0] if group.conjunctions else CONJUNCTIONS[group.subtask][0]
    if group.subtask == 'frequency':
        return f'a person {verbs[0]} {_COUNT_WORDS.get(group.count, f"{group.count} times")}.'
    if group.subtask == 'temporal':
        return 'a person ' + f', {conj} '.join(verbs) + '.'
    if len(verbs) == 2:
        return f'a person {verbs[0]} {conj} {verbs[1]}.'
    return 'a person ' + ', '.join(verbs[:-1]) + f', {conj} {verbs[-1]}.'


_GOALS = {
    'integrity': 'a motion made of all the listed events; their order does not matter',
    'temporal': 'the listed events happen one after another in exactly the listed order',
    'frequency': 'the single listed event is repeated an exact number of times',
}


def load_prompt_instruction(path: Union[None, str, os.PathLike] = None) -> str:
    path = Path(path) if path is not None else PROMPT_INSTRUCTION_FILE
    text = path.read_text(encoding='utf-8')
    for key in ('{subtask}', '{events}', '{conjunctions}'):
        if key not in text:
            raise ValueError(f'{path}: the prompt instruction must contain {key}')
    return text


def prompt_messages(group: PromptGroup, instruction: str) -> List[dict]:
    """The chat messages asking an LLM to write the prompt of ``group`` (table 2's instruction)."""
    events = '; '.join(_phrase(e) for e in group.events)
    count_rule = (f', and state that the event is repeated {_COUNT_WORDS.get(group.count, group.count)}'
                  if group.subtask == 'frequency' else '')
    order_rule = ('Keep the events in the listed order and make that order explicit.'
                  if group.subtask == 'temporal' else 'Any order of the events is fine.')
    text = instruction.format(subtask=group.subtask, subtask_goal=_GOALS[group.subtask], events=events,
                              conjunctions=', '.join(group.conjunctions), count_rule=count_rule,
                              order_rule=order_rule)
    return [dict(role='user', content=text)]


def clean_llm_prompt(reply: str) -> str:
    """The first non-empty line of an LLM reply, without quotes, list markers or a 'Prompt:' lead."""
    for line in reply.splitlines():
        line = line.strip().strip('"').strip("'").strip()
        line = re.sub(r'^(\d+[.)]|[-*])\s*', '', line)
        line = re.sub(r'^prompt\s*:\s*', '', line, flags=re.IGNORECASE).strip().strip('"')
        if line:
            return line
    return ''


def llm_prompt(group: PromptGroup, client: Any, instruction: str, budget: Optional[CallBudget] = None) -> str:
    """The LLM route for one group through ``client`` (cached; the budget counts HTTP requests).

    Raises:
        ValueError: the reply holds no prompt text.
        BudgetExhausted: no request budget left.
    """
    budget = budget if budget is not None else CallBudget(None)
    budget.check(f'LLM prompt for {group.prompt_id}')
    before = client.num_requests
    try:
        reply = client.chat(prompt_messages(group, instruction))
    finally:
        budget.spend(client.num_requests - before)
    text = clean_llm_prompt(reply)
    if not text:
        raise ValueError(f'{group.prompt_id}: the LLM reply holds no prompt: {reply[:200]!r}')
    return text


# ---------------------------------------------------------------------------------------------
# test-set filter rules
# ---------------------------------------------------------------------------------------------
def caption_subtask(tokens: Sequence[str]) -> Optional[str]:
    """The subtask test set a caption belongs to (None: none), from its event structure.

    Rules (events by :func:`events_from_tokens`):

    * ``frequency``: exactly one event, and it states a count of 2 or more;
    * ``temporal``: exactly three events and at least one temporal connective
      (:data:`TEMPORAL_WORDS`: then, after, before, finally, first, next, later, followed, until);
    * ``integrity``: 2-5 events, no temporal connective, no count of 2 or more;
    * anything else (one event without count, 6+ events, 2 or 4-5 events with a temporal
      connective, several events with counts) is in no subtask set.
    """
    pairs = _pairs(tokens)
    events = events_from_tokens(tokens)
    temporal = any(w in TEMPORAL_WORDS for w, _ in pairs)
    counted = [e for e in events if e.count is not None and e.count >= 2]
    if len(events) == 1 and counted:
        return 'frequency'
    if len(events) == 3 and temporal and not counted:
        return 'temporal'
    if 2 <= len(events) <= 5 and not temporal and not counted:
        return 'integrity'
    return None


def subtask_test_sets(data_root: Union[str, os.PathLike], split: Optional[str] = 'test.txt'
                      ) -> Tuple[Dict[str, List[dict]], int]:
    """Every caption line of a HumanML3D-layout split, sorted into subtask test sets by
    :func:`caption_subtask`.

    Args:
        data_root: folder with ``texts/<id>.txt`` and the split file.
        split: split file relative to ``data_root`` (``None``: every caption file).

    Returns:
        ``({subtask: records}, caption_lines)``; a record is one caption line in the format
        :mod:`motionkit.datasets.caption_subset` reads: ``id, line, caption, start, end, subtask,
        tokens`` (``line``: index among the file's non-empty lines, as the dataset counts them).
    """
    from motionkit.datasets.humanml3d import load_caption_file
    root = Path(data_root)
    texts = root / 'texts'
    if not texts.is_dir():
        raise FileNotFoundError(f'{texts}: no caption folder (HumanML3D texts/<id>.txt)')
    ids = None
    if split not in (None, 'none'):
        path = root / split
        if not path.is_file():
            raise FileNotFoundError(f'{path}: split file not found')
        ids = {line.strip() for line in path.read_text().splitlines() if line.strip()}
    out: Dict[str, List[dict]] = {s: [] for s in SUBTASKS}
    lines = 0
    for p in sorted(texts.glob('*.txt')):
        if ids is not None and p.stem not in ids:
            continue
        for k, text in enumerate(load_caption_file(str(p))):
            lines += 1
            sub = caption_subtask(text['tokens'])
            if sub is not None:
                out[sub].append(dict(id=p.stem, line=k, caption=text['caption'], start=text['start'],
                                     end=text['end'], subtask=sub, tokens=list(text['tokens'])))
    return out, lines


def write_subtask_test_sets(data_root: Union[str, os.PathLike], out_dir: Union[str, os.PathLike],
                            split: Optional[str] = 'test.txt') -> dict:
    """:func:`subtask_test_sets` written to ``out_dir``: ``<subtask>.jsonl`` (the caption lines,
    the file a dataset's ``filter_cfg=dict(caption_subset=...)`` reads), ``<subtask>_ids.txt``
    (motion ids) and ``testsets_stats.json`` (``caption_lines``, ``captions`` and ``motions`` per
    subtask, ``data_root``, ``split``), each written atomically. Returns the statistics."""
    sets, lines = subtask_test_sets(data_root, split)
    out = Path(out_dir)
    for sub, recs in sets.items():
        _write_jsonl(out / f'{sub}.jsonl', recs)
        atomic_write_bytes(out / f'{sub}_ids.txt', ''.join(f'{m}\n' for m in sorted({r['id'] for r in recs})).encode())
    stats = dict(caption_lines=lines, captions={s: len(v) for s, v in sets.items()},
                 motions={s: len({r['id'] for r in v}) for s, v in sets.items()},
                 data_root=str(data_root), split=split)
    atomic_write_bytes(out / 'testsets_stats.json', json.dumps(stats, indent=1).encode())
    return stats


# ---------------------------------------------------------------------------------------------
# prompts stage
# ---------------------------------------------------------------------------------------------
def write_prompts(groups: Sequence[PromptGroup], out_dir: Union[str, os.PathLike], route: str = 'template',
                  client: Any = None, instruction: Optional[str] = None,
                  budget: Optional[CallBudget] = None, progress: bool = True) -> dict:
    """Write one prompt per group to ``out_dir/prompts.jsonl`` (resumable: one atomic record per
    group under ``out_dir/.partial/prompts/``; ``prompts.jsonl`` and ``prompts_stats.json`` are
    written once every group was tried, i.e. unless the budget ran out).

    A reply without prompt text is a counted skip listed in ``prompt_failures.jsonl`` (asked again
    on the next run). Returns the stats (``done``, ``failed``, ``budget_exhausted``).
    """
    if route not in ('template', 'llm'):
        raise ValueError(f"route must be 'template' or 'llm', got {route!r}")
    if route == 'llm' and client is None:
        raise ValueError("route='llm' needs a client (an OpenAI-compatible chat client)")
    out = Path(out_dir)
    part = out / '.partial' / 'prompts'
    instruction = instruction if instruction is not None else (load_prompt_instruction() if route == 'llm' else '')
    budget = budget if budget is not None else CallBudget(None)
    ids = [g.prompt_id for g in groups]
    if len(set(ids)) != len(ids):
        raise ValueError('prompt ids must be unique')
    from tqdm import tqdm
    failures, exhausted = [], False
    for g in tqdm(groups, desc=f'prompts ({route})', disable=not progress):
        rec_path = part / f'{g.prompt_id}.json'
        if rec_path.exists():
            continue
        try:
            text = template_prompt(g) if route == 'template' else llm_prompt(g, client, instruction, budget)
        except BudgetExhausted:
            exhausted = True
            break
        except (ValueError, FeedbackError) as e:
            failures.append(dict(prompt_id=g.prompt_id, error=str(e)))
            continue
        atomic_write_bytes(rec_path, _dumps(dict(asdict(g), prompt=text, route=route)).encode('utf-8'))
    done = [json.loads((part / f'{i}.json').read_text()) for i in ids if (part / f'{i}.json').exists()]
    _write_jsonl(out / 'prompt_failures.jsonl', failures)
    stats = dict(groups=len(groups), done=len(done), failed=len(failures), budget_exhausted=exhausted,
                 per_subtask=dict(Counter(r['subtask'] for r in done)), route=route,
                 requests=budget.used)
    if not exhausted:  # every group was tried: prompts + listed failures (a rerun retries them)
        _write_jsonl(out / 'prompts.jsonl', done)
    atomic_write_bytes(out / 'prompts_stats.json', (json.dumps(stats, indent=1, sort_keys=True) + '\n').encode())
    return stats


# ---------------------------------------------------------------------------------------------
# score stage
# ---------------------------------------------------------------------------------------------
def load_generated(motions_dir: Union[str, os.PathLike]) -> List[dict]:
    """The samples of a generated-motion folder (``index.json`` + ``joints/<id>.npy``), checked.

    Raises:
        ValueError: naming the file and the sample when ``index.json`` is malformed, a key is
            missing, ids repeat, or the subtask is unknown.
    """
    root = Path(motions_dir)
    path = root / 'index.json'
    try:
        index = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError) as e:
        raise ValueError(f'{path}: cannot read the index ({e})') from None
    samples = index.get('samples') if isinstance(index, dict) else None
    if not isinstance(samples, list):
        raise ValueError(f"{path}: expected {{'samples': [...]}}")
    seen = set()
    for k, s in enumerate(samples):
        for key in ('id', 'prompt_id', 'prompt', 'subtask', 'joints'):
            if not isinstance(s, dict) or key not in s:
                raise ValueError(f'{path}: samples[{k}] has no {key!r}')
        if s['id'] in seen:
            raise ValueError(f'{path}: sample id {s["id"]!r} appears twice')
        seen.add(s['id'])
        if s['subtask'] not in SUBTASKS:
            raise ValueError(f'{path}: samples[{k}] ({s["id"]}): unknown subtask {s["subtask"]!r}')
    return samples


def _load_joints(root: Path, sample: dict) -> np.ndarray:
    p = root / sample['joints']
    j = np.load(p, allow_pickle=False)
    if j.ndim != 3 or j.shape[-1] != 3 or j.shape[0] < 1:
        raise ValueError(f'{p}: expected joints (T, J, 3), got {j.shape}')
    if not np.isfinite(j).all():
        raise ValueError(f'{p}: joints hold NaN or infinite values')
    return j


def score_samples(motions_dir: Union[str, os.PathLike], out_dir: Union[str, os.PathLike], scorer: Any,
                  progress: bool = True) -> dict:
    """Score every sample of a generated-motion folder into ``out_dir/scores.jsonl``.

    ``scores.jsonl`` is written once every sample was tried (unless the budget ran out).
    Resumable: each finished score (or counted skip) is an atomic record in
    ``out_dir/.partial/scores/<id>.json``. Counted skips (listed in ``score_skips.jsonl``, with the
    reason, asked again on the next run): an empty prompt, unreadable joints, a reply with no usable
    score after the scorer's retries, a server that failed for good. A spent budget
    (:class:`~motionkit.feedback.budget.BudgetExhausted`) stops the stage; rerun to go on.
    """
    root, out = Path(motions_dir), Path(out_dir)
    samples = load_generated(root)
    part = out / '.partial' / 'scores'
    from tqdm import tqdm
    skips, exhausted = [], False
    for s in tqdm(samples, desc=f'score ({type(scorer).__name__})', disable=not progress):
        rec_path = part / f'{s["id"]}.json'
        if rec_path.exists():
            continue
        try:
            req = ScoreRequest(s['id'], s['prompt'], s['subtask'], _load_joints(root, s),
                               s.get('events') or (), s.get('count'), s.get('program'))
            res = scorer.score(req)
        except BudgetExhausted:
            exhausted = True
            break
        except (ScoreParseError, FeedbackError, ValueError, OSError) as e:
            skips.append(dict(id=s['id'], prompt_id=s['prompt_id'], error=f'{type(e).__name__}: {e}'))
            continue
        rec = dict(id=s['id'], prompt_id=s['prompt_id'], prompt=s['prompt'], subtask=s['subtask'],
                   score=int(res.score), scale=list(res.scale), scorer=res.scorer)
        atomic_write_bytes(rec_path, _dumps(rec).encode('utf-8'))
    done = [json.loads((part / f'{s["id"]}.json').read_text()) for s in samples
            if (part / f'{s["id"]}.json').exists()]
    _write_jsonl(out / 'score_skips.jsonl', skips)
    stats = dict(samples=len(samples), scored=len(done), skipped=len(skips), budget_exhausted=exhausted)
    if hasattr(scorer, 'stats'):
        stats['scorer'] = scorer.stats()
    if not exhausted:  # every sample was tried: scores + listed skips (a rerun retries the skips)
        _write_jsonl(out / 'scores.jsonl', done)
    atomic_write_bytes(out / 'scores_stats.json', (json.dumps(stats, indent=1, sort_keys=True) + '\n').encode())
    return stats


# ---------------------------------------------------------------------------------------------
# pairs (algorithm 1) and table 3
# ---------------------------------------------------------------------------------------------
def build_pairs(scores: Sequence[dict], theta: float) -> Tuple[List[dict], dict]:
    """AToM algorithm 1: group the scored motions by prompt, sort each group by score (high
    first), keep every (winner, loser) with ``score(winner) - score(loser) > theta``.

    Args:
        scores: records with ``id``, ``prompt_id``, ``prompt``, ``subtask``, ``score``.
        theta: the score-gap threshold (strict).

    Returns:
        ``(pairs, skips)``: pairs as ``dict(prompt_id, prompt, subtask, winner, loser,
        winner_score, loser_score)`` in prompt order then by winner rank; skips counts prompts
        with one motion (``single_motion``) and prompts whose gaps are all <= theta (``no_gap``).

    Example:
        >>> s = [dict(id=i, prompt_id='p', prompt='x', subtask='integrity', score=v)
        ...      for i, v in [('a', 9), ('b', 5), ('c', 4)]]
        >>> [(p['winner'], p['loser']) for p in build_pairs(s, 2)[0]]
        [('a', 'b'), ('a', 'c')]
    """
    if not np.isfinite(theta) or theta < 0:
        raise ValueError(f'theta must be a finite number >= 0, got {theta}')
    groups: Dict[str, List[dict]] = defaultdict(list)
    order: List[str] = []
    for k, r in enumerate(scores):
        for key in ('id', 'prompt_id', 'prompt', 'subtask', 'score'):
            if key not in r:
                raise ValueError(f'scores[{k}] has no {key!r}: {r!r}')
        if r['prompt_id'] not in groups:
            order.append(r['prompt_id'])
        groups[r['prompt_id']].append(r)
    pairs, skips = [], dict(single_motion=0, no_gap=0)
    for pid in order:
        g = sorted(groups[pid], key=lambda r: (-r['score'], str(r['id'])))
        if len({r['prompt'] for r in g}) > 1:
            raise ValueError(f'prompt_id {pid!r} has several prompt texts')
        if len(g) < 2:
            skips['single_motion'] += 1
            continue
        n_before = len(pairs)
        for i, w in enumerate(g):
            for loser in g[i + 1:]:
                if w['score'] - loser['score'] > theta:
                    pairs.append(dict(prompt_id=pid, prompt=w['prompt'], subtask=w['subtask'], winner=w['id'],
                                      loser=loser['id'], winner_score=w['score'], loser_score=loser['score']))
        if len(pairs) == n_before:
            skips['no_gap'] += 1
    return pairs, skips


def motion_prefer_stats(scores: Sequence[dict], pairs: Sequence[dict]) -> dict:
    """Table 3: prompts, motions and pairs per subtask (and in total)."""
    table = {}
    for sub in SUBTASKS:
        rs = [r for r in scores if r['subtask'] == sub]
        table[sub] = dict(prompts=len({r['prompt_id'] for r in rs}), motions=len(rs),
                          pairs=sum(1 for p in pairs if p['subtask'] == sub))
    table['total'] = {k: sum(table[s][k] for s in SUBTASKS) for k in ('prompts', 'motions', 'pairs')}
    return table


def write_pairs(scores_path: Union[str, os.PathLike], out_dir: Union[str, os.PathLike], theta: float) -> dict:
    """Pairs stage: ``scores.jsonl`` -> ``pairs.jsonl`` + ``pairs_stats.json`` (table 3 + skips)."""
    scores = _read_jsonl(Path(scores_path))
    pairs, skips = build_pairs(scores, theta)
    out = Path(out_dir)
    _write_jsonl(out / 'pairs.jsonl', pairs)
    stats = dict(theta=theta, table3=motion_prefer_stats(scores, pairs), skipped_prompts=skips)
    atomic_write_bytes(out / 'pairs_stats.json', (json.dumps(stats, indent=1, sort_keys=True) + '\n').encode())
    return stats
