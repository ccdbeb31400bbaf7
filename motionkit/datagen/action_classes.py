"""Action classes from captions: CoAMD's recognition labels (Kuang, Wang and Gui, "Multi-modal Action
Recognizer Bridges Human Motion Generation and Understanding", sec. 3.1 and 4.1).

Text-motion datasets such as HumanML3D have captions but no action classes. CoAMD makes them:

1. extract the core action verbs of every caption (the paper asks an LLM);
2. embed the distinct verbs with a text encoder and cluster them into ``K`` classes with a
   *balanced* K-means, so that frequent verb families cannot swallow the rare ones (``K = 400`` for
   HumanML3D in the paper);
3. give every motion the multi-label set of its captions' classes;
4. split the classes by training frequency into head 10% / medium 30% / tail 60% for the
   long-tail accuracy of sec. 4.1.

This module implements the steps with two verb-extraction routes:

* ``'pos'`` (offline): the ``word/POS`` tokens HumanML3D caption lines already carry
  (``caption#word/POS ...#start#end``; SynthMotion writes the same format): lemmatised ``VERB``
  tokens, without verbs that are not movements (``be``, ``start``, ``try``, ...), with a particle
  that belongs to the action kept (``sit down``, ``pick up``, ``turn around``), and a light verb
  replaced by its object noun (``does three squats`` -> ``squat``, ``takes a stroll`` ->
  ``stroll``). See :func:`verbs_from_tokens`.
* ``'llm'`` (the paper's route): one request per caption through a ``FEEDBACK_CLIENTS`` client
  (the cached OpenAI-compatible :class:`~motionkit.feedback.OpenAIChatClient`), with the prompt
  stored in ``motionkit/datagen/prompts/coamd_action_verbs.txt``; replies are parsed by
  :func:`parse_verb_reply`.

Clustering (:func:`balanced_kmeans`): scikit-learn ``KMeans`` gives the centres; the verbs are
then assigned to them by a capacity-constrained minimum-cost assignment on the squared distances,
so that every class has ``floor(N / K)`` or ``ceil(N / K)`` of the ``N`` verbs (the balanced
K-means of Malinen and Fraenti, 2014; no class exceeds ``ceil(N / K)``, none is empty). The
assignment (:func:`balanced_assignment`) is exact: scipy's ``linear_sum_assignment`` on the cost
matrix with every centre replicated ``ceil(N / K)`` times while that matrix is small, a
transportation linear program (HiGHS, with the verbs' nearest centres first and every other arc
priced in by its reduced cost until none is negative) beyond.

A caption with no verb (HumanML3D has a few, e.g. noun phrases only) is skipped and counted by
default: it is listed in ``captions_without_verb.jsonl`` (motion id, file, line) and a warning
gives the count; ``on_missing_verb='error'`` raises instead. A motion whose captions all lack a
verb gets an empty label set.

Output folder (:func:`build_action_classes`; every file atomic, ``manifest.json`` last, an
interrupted build resumes where it stopped, the same inputs and seed give byte-identical files)::

    label_map.json                classes: id, name (most frequent member verb), centre_verb
                                  (member nearest the centre), verbs, train_count, caption_count,
                                  bucket (head / medium / tail); class ids ordered by decreasing
                                  training frequency
    label_map.txt                 one class name per line (line k = class k)
    motion_labels.jsonl           per motion: id, labels (sorted class ids) and per caption line
                                  its verbs and classes
    class_counts.npy              (K,) int64 training motions per class (RecognitionMetric's
                                  ``class_counts``)
    split.json                    head / medium / tail class ids and the rule
    verbs.jsonl                   per distinct verb: class, captions it occurs in, distance to
                                  its class centre
    captions_without_verb.jsonl   the skipped captions
    manifest.json                 config, counts, provenance
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import os.path as osp
import re
import shutil
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from motionkit.datasets.humanml3d import parse_caption_line
from motionkit.datasets.importers.pos_tagger import lemmatize
from motionkit.datasets.transforms.action_labels import load_action_classes
from motionkit.evaluation.functional.recognition import frequency_buckets
from motionkit.utils.io import atomic_save_npy, atomic_write_bytes
from motionkit.utils.resumable_build import ResumableBuild

__all__ = ['ACTION_CLASSES_VERSION', 'LONGTAIL_FRACTIONS', 'PROMPT_FILE', 'verbs_from_tokens',
           'parse_verb_reply', 'load_verb_prompt', 'verb_messages', 'read_motion_captions',
           'balanced_assignment', 'balanced_kmeans', 'frequency_split', 'action_classes_config',
           'build_action_classes', 'synthmotion_adjusted_rand_index']

ACTION_CLASSES_VERSION = '1.0'
# CoAMD sec. 4.1: head / medium / tail = 10% / 30% / 60% of the classes by training frequency,
# the rule of RecognitionMetric's 'longtail' preset (evaluation.functional.frequency_buckets).
LONGTAIL_FRACTIONS = (0.1, 0.3, 0.6)
PROMPT_FILE = Path(__file__).resolve().parent / 'prompts' / 'coamd_action_verbs.txt'

# Verbs that say nothing about the movement: auxiliaries, aspect and intention ("starts to walk",
# "continues walking", "tries to jump"): the action is the other verb.
NON_ACTION_VERBS = frozenset(
    'be have seem appear start begin continue keep try want need repeat finish use let attempt '
    'resume proceed manage decide like'.split())
# Light verbs carry their action in the object: "does three squats", "takes a stroll",
# "performs a cartwheel", "makes a circle".
LIGHT_VERBS = frozenset('do perform make take give execute complete'.split())
# Particles kept with the verb when they follow it ("sit down", "pick up", "turn around").
PARTICLES = frozenset('up down over around off out back away'.split())
_PARTICLE_TAGS = frozenset({'ADP', 'ADV', 'PART', 'PRT'})
# Between a light verb and its object noun ("does three big jumping jacks", "does his squats").
_OBJECT_MODIFIERS = frozenset({'DET', 'NUM', 'ADJ', 'PRON'})
_LSA_MAX_SLOTS = 3000  # linear_sum_assignment's square matrix: 3000^2 float64 = 72 MB
_WORD = re.compile(r"^[a-z][a-z'-]*$")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def _jsonl(records: Sequence[dict]) -> bytes:
    return ''.join(_dumps(r) + '\n' for r in records).encode('utf-8')


# ---------------------------------------------------------------------------- verb extraction
def verbs_from_tokens(tokens: Sequence[str]) -> List[str]:
    """Core action verbs of one caption from its ``word/POS`` tokens (the ``'pos'`` route).

    Rules, in order, for every ``VERB`` token:

    1. lemmatise the word (:func:`~motionkit.datasets.importers.pos_tagger.lemmatize`; HumanML3D
       tokens are mostly lemmas already);
    2. drop it when it is not a movement (:data:`NON_ACTION_VERBS`: ``be``, ``start``, ``try``...);
    3. a light verb (:data:`LIGHT_VERBS`: ``do``, ``perform``, ``take``...) is replaced by the nouns
       of its object (after determiners, numbers, adjectives, possessives): ``does three squats``
       -> ``squat``; without an object noun it is dropped;
    4. a particle right after the verb (:data:`PARTICLES`) is kept: ``sit down``.

    Returns:
        The verbs in caption order, each once.

    Example:
        >>> verbs_from_tokens('a/DET man/NOUN do/VERB five/NUM jumping/NOUN jack/NOUN and/CCONJ '
        ...                   'sit/VERB down/ADV'.split())
        ['jumping jack', 'sit down']
    """
    pairs = []
    for tok in tokens:
        word, sep, pos = tok.rpartition('/')
        if not sep:
            raise ValueError(f'tokens must be word/POS, got {tok!r}')
        if word:  # '/SYM'-like tokens carry no word
            pairs.append((word.lower(), pos.upper()))
    out: List[str] = []
    for i, (word, pos) in enumerate(pairs):
        if pos != 'VERB':
            continue
        lemma = lemmatize(word)
        if lemma in NON_ACTION_VERBS:
            continue
        if lemma in LIGHT_VERBS:
            j = i + 1
            while j < len(pairs) and pairs[j][1] in _OBJECT_MODIFIERS:
                j += 1
            nouns = []
            while j < len(pairs) and pairs[j][1] in ('NOUN', 'PROPN'):
                nouns.append(pairs[j][0])
                j += 1
            phrase = ' '.join(nouns)
        elif i + 1 < len(pairs) and pairs[i + 1][0] in PARTICLES and pairs[i + 1][1] in _PARTICLE_TAGS:
            phrase = f'{lemma} {pairs[i + 1][0]}'
        else:
            phrase = lemma
        if phrase and phrase not in out:
            out.append(phrase)
    return out


def parse_verb_reply(reply: str, max_words: int = 3) -> List[str]:
    """Verbs from an LLM answer to the prompt of :func:`verb_messages` (the ``'llm'`` route).

    The answer is split at commas, semicolons and line breaks; list markers, quotes and a lead-in
    up to a colon ("Verbs: walk, turn") are removed. Kept: items of at most ``max_words`` words of
    letters (longer items are the model talking about its answer); ``none`` and
    :data:`NON_ACTION_VERBS` are dropped. A one-word item and the verb of a ``verb particle``
    item are lemmatised (``walks`` -> ``walk``, ``picks up`` -> ``pick up``); other phrases
    (``jumping jacks``) are kept as written.

    Returns:
        The verbs in answer order, each once; ``[]`` when the answer names none.
    """
    if not isinstance(reply, str):
        raise TypeError(f'an LLM reply must be a str, got {type(reply).__name__}')
    out: List[str] = []
    for item in re.split(r'[,;\n]+', reply.lower()):
        item = item.rsplit(':', 1)[-1]
        item = re.sub(r'^\s*(?:[-*\u2022]+|\d+[.)])\s*', '', item)
        item = item.strip().strip('"\'`.!').strip()
        words = item.split()
        if not words or len(words) > max_words or not all(_WORD.match(w) for w in words):
            continue
        if words == ['none']:
            continue
        if len(words) == 1 or (len(words) == 2 and words[1] in PARTICLES):
            words[0] = lemmatize(words[0])
        if len(words) == 1 and words[0] in NON_ACTION_VERBS:
            continue
        phrase = ' '.join(words)
        if phrase not in out:
            out.append(phrase)
    return out


def load_verb_prompt(path: Union[str, os.PathLike, None] = None) -> str:
    """The verb-extraction prompt (default :data:`PROMPT_FILE`): text with one ``{caption}``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the text does not hold ``{caption}`` exactly once.
    """
    path = Path(path) if path is not None else PROMPT_FILE
    if not path.is_file():
        raise FileNotFoundError(f'verb prompt file not found: {path}')
    text = path.read_text(encoding='utf-8')
    if text.count('{caption}') != 1:
        raise ValueError(f'{path}: the prompt must hold the placeholder {{caption}} exactly once, '
                         f'found it {text.count("{caption}")} times')
    return text


def verb_messages(caption: str, prompt: str) -> List[dict]:
    """The chat messages asking for the verbs of ``caption`` (one user turn)."""
    return [dict(role='user', content=prompt.replace('{caption}', caption.strip()))]


# ---------------------------------------------------------------------------- captions
def read_motion_captions(data_root: Union[str, os.PathLike]) -> List[Tuple[str, str, List[dict]]]:
    """Every caption file of a HumanML3D-format folder, parsed.

    Returns:
        ``[(motion_id, path, captions)]`` sorted by motion id, where ``captions`` holds
        ``dict(line, caption, tokens, start, end)`` per non-empty line (``line`` counts from 1).

    Raises:
        FileNotFoundError: no ``texts/`` folder or no ``.txt`` file in it.
        ValueError: a malformed line (naming file and line, from
            :func:`~motionkit.datasets.humanml3d.parse_caption_line`) or a file without caption.
    """
    text_dir = Path(data_root) / 'texts'
    if not text_dir.is_dir():
        raise FileNotFoundError(f'{data_root}: no texts/ folder of caption files '
                                '(expected the HumanML3D layout texts/<id>.txt)')
    paths = sorted(text_dir.glob('*.txt'))
    if not paths:
        raise FileNotFoundError(f'{text_dir}: no caption file (<id>.txt)')
    out = []
    for path in paths:
        captions = []
        with open(path, encoding='utf-8') as f:
            for line_no, line in enumerate(f, 1):
                if line.strip():
                    captions.append(dict(parse_caption_line(line, str(path), line_no), line=line_no))
        if not captions:
            raise ValueError(f'{path}: caption file holds no caption')
        out.append((path.stem, str(path), captions))
    return out


# ---------------------------------------------------------------------------- balanced K-means
def _assign_lsa(cost: np.ndarray, max_size: int, min_size: int) -> np.ndarray:
    """Min-cost assignment with every centre replicated ``max_size`` times (a square problem:
    ``K * max_size - N`` dummy rows take the unused replicas, never one of a centre's first
    ``min_size``)."""
    from scipy.optimize import linear_sum_assignment
    n, k = cost.shape
    slots = k * max_size
    centre_of_slot = np.repeat(np.arange(k), max_size)
    replica = np.tile(np.arange(max_size), k)
    square = np.empty((slots, slots), dtype=np.float64)
    square[:n] = cost[:, centre_of_slot]
    square[n:] = np.where(replica < min_size, np.inf, 0.0)[None]
    rows, cols = linear_sum_assignment(square)
    assert np.array_equal(rows, np.arange(slots))
    return centre_of_slot[cols[:n]]


def _assign_lp(cost: np.ndarray, max_size: int, min_size: int, candidates: int) -> np.ndarray:
    """The same assignment as a transportation LP over arcs (verb, centre): first each verb's
    ``candidates`` nearest centres; arcs with a negative reduced cost under the LP's duals are
    added until none is left, which makes the solution optimal over all arcs. The constraint
    matrix is totally unimodular, so the simplex vertex is integral."""
    import scipy.sparse as sp
    from scipy.optimize import linprog
    n, k = cost.shape
    m = max(1, min(k, candidates))
    allowed = np.zeros((n, k), dtype=bool)
    allowed[np.arange(n)[:, None], np.argsort(cost, axis=1, kind='stable')[:, :m]] = True
    tol = 1e-9 * max(1.0, float(np.abs(cost).max()))
    b_ub = np.concatenate([np.full(k, max_size, np.float64), np.full(k, -min_size, np.float64)])
    while True:
        rows, cols = np.nonzero(allowed)  # row-major: one block of arcs per verb
        arcs = np.arange(rows.size)
        a_eq = sp.csr_matrix((np.ones(rows.size), (rows, arcs)), shape=(n, rows.size))
        a_k = sp.csr_matrix((np.ones(rows.size), (cols, arcs)), shape=(k, rows.size))
        res = linprog(cost[rows, cols], A_ub=sp.vstack([a_k, -a_k]).tocsr(), b_ub=b_ub, A_eq=a_eq,
                      b_eq=np.ones(n), bounds=(0, 1), method='highs-ds')
        if res.status == 2 and not allowed.all():  # too few arcs to meet the sizes: widen
            m = min(k, 2 * m)
            allowed[np.arange(n)[:, None], np.argsort(cost, axis=1, kind='stable')[:, :m]] = True
            continue
        if res.status != 0:
            raise RuntimeError(f'balanced assignment: the transportation LP failed: {res.message}')
        y_eq, y_ub = res.eqlin.marginals, res.ineqlin.marginals
        reduced = cost - y_eq[:, None] - y_ub[None, :k] + y_ub[None, k:]
        missing = ~allowed & (reduced < -tol)
        if not missing.any():
            break
        allowed |= missing
    x = res.x
    if np.abs(x - np.round(x)).max() > 1e-6:
        raise RuntimeError('balanced assignment: the LP solution is not integral')
    chosen = x > 0.5
    if not np.array_equal(rows[chosen], np.arange(n)):
        raise RuntimeError('balanced assignment: the LP solution does not assign every verb once')
    return cols[chosen]


def balanced_assignment(cost: np.ndarray, max_size: Optional[int] = None,
                        min_size: Optional[int] = None, solver: str = 'auto',
                        candidates: int = 16) -> np.ndarray:
    """Assign ``N`` items to ``K`` centres at minimum total cost with every centre holding between
    ``min_size`` and ``max_size`` items.

    Args:
        cost: ``(N, K)`` finite costs (squared distances in :func:`balanced_kmeans`).
        max_size: Largest class (default ``ceil(N / K)``).
        min_size: Smallest class (default ``floor(N / K)``: sizes differ by at most one).
        solver: ``'lsa'`` (``scipy.optimize.linear_sum_assignment`` on the centre-replicated
            square matrix, memory ``(K * max_size)^2``), ``'lp'`` (transportation LP, HiGHS) or
            ``'auto'`` (``'lsa'`` up to 3000 slots). Both are exact; under equal costs they may
            pick different optimal assignments.
        candidates: Nearest centres per item the LP starts from.

    Returns:
        ``(N,)`` int64 centre index per item.

    Raises:
        ValueError: bad shape, non-finite costs, or sizes no assignment can meet
            (``K * min_size <= N <= K * max_size``).
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or 0 in cost.shape:
        raise ValueError(f'cost must be (N, K) with N, K > 0, got shape {cost.shape}')
    if not np.isfinite(cost).all():
        raise ValueError('cost holds NaN or inf')
    n, k = cost.shape
    max_size = math.ceil(n / k) if max_size is None else int(max_size)
    min_size = n // k if min_size is None else int(min_size)
    if min_size < 0 or max_size < max(1, min_size) or not k * min_size <= n <= k * max_size:
        raise ValueError(f'cannot put {n} items into {k} classes of {min_size} to {max_size} items '
                         f'(need {k} * {min_size} <= {n} <= {k} * {max_size})')
    if solver == 'auto':
        solver = 'lsa' if k * max_size <= _LSA_MAX_SLOTS else 'lp'
    if solver == 'lsa':
        labels = _assign_lsa(cost, max_size, min_size)
    elif solver == 'lp':
        labels = _assign_lp(cost, max_size, min_size, candidates)
    else:
        raise ValueError(f"solver must be 'auto', 'lsa' or 'lp', got {solver!r}")
    sizes = np.bincount(labels, minlength=k)
    assert sizes.min() >= min_size and sizes.max() <= max_size, sizes
    return labels.astype(np.int64)


def squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``(N, K)`` squared Euclidean distances (float64, clipped at 0)."""
    x = np.asarray(x, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    d = (x * x).sum(1)[:, None] - 2.0 * x @ c.T + (c * c).sum(1)[None]
    return np.maximum(d, 0.0)


def balanced_kmeans(x: np.ndarray, num_classes: int, seed: int = 0, n_init: int = 10,
                    max_iter: int = 300, solver: str = 'auto') -> Tuple[np.ndarray, np.ndarray]:
    """Balanced K-means (CoAMD sec. 3.1): scikit-learn ``KMeans`` centres, then the balanced
    minimum-cost assignment of :func:`balanced_assignment` on squared distances (class sizes
    ``floor(N / K)`` or ``ceil(N / K)``).

    Args:
        x: ``(N, D)`` embeddings.
        num_classes: ``K`` (at most ``N``).
        seed: ``KMeans(random_state=seed)``; the result is deterministic given the seed.
        n_init, max_iter: ``KMeans`` restarts and iterations.
        solver: see :func:`balanced_assignment`.

    Returns:
        ``(labels (N,) int64, centres (K, D) float64)``.
    """
    from sklearn.cluster import KMeans
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise ValueError(f'embeddings must be a finite (N, D) array, got shape {x.shape}')
    if not 1 <= num_classes <= len(x):
        raise ValueError(f'num_classes must be in [1, {len(x)}] (the number of items), '
                         f'got {num_classes}')
    km = KMeans(n_clusters=int(num_classes), n_init=int(n_init), max_iter=int(max_iter),
                random_state=int(seed))
    with warnings.catch_warnings():
        # near-duplicate embeddings: KMeans warns and still returns K centres
        warnings.filterwarnings('ignore', message='Number of distinct clusters')
        km.fit(x)
    centres = km.cluster_centers_.astype(np.float64)
    return balanced_assignment(squared_distances(x, centres), solver=solver), centres


def frequency_split(class_counts: Sequence[int],
                    fractions: Sequence[float] = LONGTAIL_FRACTIONS) -> Dict[str, List[int]]:
    """Head / medium / tail class ids by training frequency, with the rule of
    :func:`~motionkit.evaluation.functional.frequency_buckets` (RecognitionMetric's
    ``'longtail'`` preset): classes sorted by decreasing count (ties: lower id first), the first
    ``round(K * 0.1)`` are head, the next ``round(K * 0.3)`` medium, the rest tail."""
    buckets = frequency_buckets(np.asarray(class_counts), tuple(fractions))
    return {name: np.flatnonzero(buckets == b).tolist()
            for b, name in enumerate(('head', 'medium', 'tail'))}


# ---------------------------------------------------------------------------- build
def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def action_classes_config(data_root: Union[str, os.PathLike], num_classes: int, route: str = 'pos',
                          seed: int = 0, client: Any = None, encoder: Any = None,
                          train_split: Optional[str] = 'train.txt',
                          fractions: Sequence[float] = LONGTAIL_FRACTIONS, n_init: int = 10,
                          on_missing_verb: str = 'skip', prompt_file: Optional[str] = None,
                          chunk_size: int = 256) -> dict:
    """The normalised builder config (what a finished or partial folder is checked against)."""
    if route not in ('pos', 'llm'):
        raise ValueError(f"route must be 'pos' or 'llm', got {route!r}")
    if route == 'llm' and client is None:
        raise ValueError("route='llm' needs client=dict(type='OpenAIChatClient', base_url=..., "
                         'model=...) or a client object with chat(messages)')
    if int(num_classes) < 1:
        raise ValueError(f'num_classes (K) must be >= 1, got {num_classes}')
    if on_missing_verb not in ('skip', 'error'):
        raise ValueError(f"on_missing_verb must be 'skip' or 'error', got {on_missing_verb!r}")
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6 or min(fractions) < 0:
        raise ValueError(f'fractions must be 3 non-negative numbers summing to 1, got {fractions}')
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    if encoder is None:
        enc = dict(type='MiniLMTextEncoder', model='all-MiniLM-L6-v2')
    else:
        enc = dict(object=type(encoder).__name__, model_dir=getattr(encoder, 'model_dir', None))
    prompt = None
    if route == 'llm':
        path = Path(prompt_file) if prompt_file else PROMPT_FILE
        load_verb_prompt(path)
        prompt = dict(path=str(path.resolve()), sha256=_file_sha256(path))
        client = (dict(object=type(client).__name__) if hasattr(client, 'chat')
                  else json.loads(_dumps(client)))
    else:
        client = None
    return dict(version=ACTION_CLASSES_VERSION, data_root=str(Path(data_root).resolve()),
                num_classes=int(num_classes), route=route, seed=int(seed), n_init=int(n_init),
                train_split=train_split, fractions=[float(f) for f in fractions],
                on_missing_verb=on_missing_verb, encoder=enc, prompt=prompt, client=client,
                chunk_size=int(chunk_size))


def _train_ids(data_root: Path, train_split: Optional[str]) -> Optional[set]:
    if train_split is None:
        return None
    path = Path(train_split) if osp.isabs(train_split) else data_root / train_split
    if not path.is_file():
        raise FileNotFoundError(f'train split file not found: {path} (class frequencies are '
                                'counted on the training motions; pass train_split=None to count '
                                'every motion)')
    return {line.strip() for line in path.read_text(encoding='utf-8').splitlines() if line.strip()}


def _build_client(client: Any):
    if hasattr(client, 'chat'):
        return client
    from motionkit.registry import FEEDBACK_CLIENTS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    return FEEDBACK_CLIENTS.build(client)


def build_action_classes(data_root: Union[str, os.PathLike], out_dir: Union[str, os.PathLike],
                         num_classes: int, route: str = 'pos', seed: int = 0, client: Any = None,
                         encoder: Optional[Callable[[List[str]], Any]] = None,
                         train_split: Optional[str] = 'train.txt',
                         fractions: Sequence[float] = LONGTAIL_FRACTIONS, n_init: int = 10,
                         on_missing_verb: str = 'skip', prompt_file: Optional[str] = None,
                         chunk_size: int = 256, solver: str = 'auto', progress: bool = True) -> Path:
    """Build (or resume) the action classes of a HumanML3D-format dataset (CoAMD sec. 3.1).

    Args:
        data_root: Dataset folder with ``texts/<id>.txt`` (every caption file is used) and the
            training split file.
        out_dir: Output folder (layout in the module docstring).
        num_classes: ``K``; the paper uses ``K = 400`` on HumanML3D. At most the number of
            distinct verbs.
        route: ``'pos'`` (verbs from the captions' ``word/POS`` tokens, offline) or ``'llm'`` (the
            paper's route: one request per caption through ``client``).
        seed: ``KMeans`` seed; the same inputs and seed give byte-identical files.
        client: ``'llm'`` route: a ``FEEDBACK_CLIENTS`` config (e.g.
            ``dict(type='OpenAIChatClient', base_url=..., model=...)``) or an object with
            ``chat(messages) -> str``.
        encoder: Text encoder ``list[str] -> (N, D)`` for the verbs (default: the offline
            all-MiniLM-L6-v2 :class:`~motionkit.evaluation.functional.MiniLMTextEncoder`).
        train_split: Split file (relative to ``data_root`` or absolute) whose motions give the
            class frequencies; ``None`` counts every motion.
        fractions: Head / medium / tail shares of the classes.
        n_init: ``KMeans`` restarts.
        on_missing_verb: ``'skip'`` (count, list and warn) or ``'error'`` for a caption without a
            verb.
        prompt_file: ``'llm'`` route prompt (default :data:`PROMPT_FILE`), with one ``{caption}``.
        chunk_size: Motions per resumable record of the verb extraction.
        solver: Assignment solver (:func:`balanced_assignment`).
        progress: Show a tqdm bar over the verb extraction.

    Returns:
        ``out_dir``. A finished folder with the same config is returned untouched; one with
        another config (finished or not) raises ``FileExistsError`` naming the folder.

    Raises:
        ValueError: a malformed caption line (file and line), a caption without a verb with
            ``on_missing_verb='error'`` (motion, file and line), no verb at all, or ``K`` larger
            than the number of distinct verbs. These are checked before any output file is
            written; a build stopped by one leaves no ``.partial/`` behind.
    """
    data_root = Path(data_root)
    cfg = action_classes_config(data_root, num_classes, route, seed, client, encoder, train_split,
                                fractions, n_init, on_missing_verb, prompt_file, chunk_size)
    out = Path(out_dir)
    build = ResumableBuild(out, cfg, 'action-class build')
    if build.finished():
        return out
    build.check_unfinished()
    motions = read_motion_captions(data_root)  # every caption line is validated before writing
    train = _train_ids(data_root, train_split)
    llm = _build_client(client) if route == 'llm' else None
    prompt = load_verb_prompt(prompt_file) if route == 'llm' else None
    created = not out.exists()
    build.start()
    try:
        return _build(build, cfg, motions, train, llm, prompt, encoder, solver, progress)
    except (ValueError, FileNotFoundError):
        # bad input, not an interruption: nothing to resume, leave nothing behind
        shutil.rmtree(build.partial, ignore_errors=True)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise


def _build(build: ResumableBuild, cfg: dict, motions: list, train: Optional[set], llm, prompt,
           encoder, solver: str, progress: bool) -> Path:
    out, k = build.out, cfg['num_classes']
    chunk = cfg['chunk_size']

    def extract(index: int) -> list:
        records = []
        for motion_id, _, captions in motions[index * chunk:(index + 1) * chunk]:
            caps = []
            for cap in captions:
                if llm is None:
                    caps.append(dict(line=cap['line'], verbs=verbs_from_tokens(cap['tokens'])))
                    continue
                reply = llm.chat(verb_messages(cap['caption'], prompt))
                verbs = parse_verb_reply(reply)
                caps.append(dict(line=cap['line'], verbs=verbs, **({} if verbs else dict(reply=reply))))
            records.append(dict(id=motion_id, captions=caps))
        return records

    num_chunks = math.ceil(len(motions) / chunk)
    extracted = [r for rec in build.items('verbs', num_chunks, extract, progress,
                                           f'action verbs ({cfg["route"]})') for r in rec]
    if [r['id'] for r in extracted] != [m[0] for m in motions]:
        raise RuntimeError(f'{build.partial}: the extracted records do not match the caption files '
                           f'of {cfg["data_root"]}; delete {build.partial} and run again')

    # ---- captions without verb, verb frequencies
    by_id = {m[0]: m for m in motions}
    missing, verb_captions = [], Counter()
    for rec in extracted:
        _, path, captions = by_id[rec['id']]
        text_of = {c['line']: c['caption'] for c in captions}
        for cap in rec['captions']:
            if not cap['verbs']:
                missing.append(dict(id=rec['id'], file=path, line=cap['line'],
                                    caption=text_of[cap['line']],
                                    **({'reply': cap['reply']} if 'reply' in cap else {})))
            verb_captions.update(cap['verbs'])
    if missing and cfg['on_missing_verb'] == 'error':
        first = missing[0]
        raise ValueError(f'{first["file"]}, line {first["line"]} (motion {first["id"]!r}): caption '
                         f'{first["caption"]!r} has no action verb ({len(missing)} such captions in '
                         "all); pass on_missing_verb='skip' to skip them")
    verbs = sorted(verb_captions)
    if not verbs:
        raise ValueError(f'{cfg["data_root"]}: no caption has an action verb ({cfg["route"]} route)')
    if k > len(verbs):
        raise ValueError(f'{cfg["data_root"]}: K={k} classes is more than the {len(verbs)} distinct '
                         f'action verbs of the captions ({cfg["route"]} route); use K <= {len(verbs)}')

    # ---- embed and cluster the distinct verbs
    if encoder is None:
        from motionkit.evaluation.functional.text_similarity import MiniLMTextEncoder
        encoder = MiniLMTextEncoder()
    emb = encoder(list(verbs))
    emb = emb.detach().cpu().numpy() if hasattr(emb, 'detach') else np.asarray(emb)
    if emb.ndim != 2 or emb.shape[0] != len(verbs) or not np.isfinite(emb).all():
        raise ValueError(f'text encoder returned shape {emb.shape} (or non-finite values) for '
                         f'{len(verbs)} verbs; expected finite (N, D)')
    cluster, centres = balanced_kmeans(emb, k, cfg['seed'], cfg['n_init'], solver=solver)
    dist = np.sqrt(squared_distances(emb, centres)[np.arange(len(verbs)), cluster])
    empty = np.flatnonzero(np.bincount(cluster, minlength=k) == 0)
    if empty.size:  # cannot happen with sizes floor(N/K)..ceil(N/K), N >= K; checked all the same
        raise ValueError(f'class {int(empty[0])} has zero member verbs after clustering')

    # ---- per-motion labels (provisional class ids), training counts, final ids by frequency
    verb_class = dict(zip(verbs, cluster.tolist()))
    counts = np.zeros(k, dtype=np.int64)
    for rec in extracted:
        classes = {verb_class[v] for cap in rec['captions'] for v in cap['verbs']}
        if train is None or rec['id'] in train:
            counts[sorted(classes)] += 1
    members: List[List[str]] = [[] for _ in range(k)]
    near = {}
    for i, v in enumerate(verbs):
        members[verb_class[v]].append(v)
        near[v] = float(dist[i])
    names, centre_verbs = [], []
    for c in range(k):
        # name: the member verb in most captions (ties: nearest the centre, then alphabetical)
        names.append(min(members[c], key=lambda v: (-verb_captions[v], near[v], v)))
        centre_verbs.append(min(members[c], key=lambda v: (near[v], v)))
    order = sorted(range(k), key=lambda c: (-counts[c], names[c], c))
    new_id = {c: i for i, c in enumerate(order)}
    counts = counts[order]
    split = frequency_split(counts, cfg['fractions'])
    bucket_of = {c: name for name, ids in split.items() for c in ids}

    classes = []
    for i, c in enumerate(order):
        verbs_c = sorted(members[c], key=lambda v: (-verb_captions[v], v))
        classes.append(dict(id=i, name=names[c], centre_verb=centre_verbs[c], verbs=verbs_c,
                            train_count=int(counts[i]),
                            caption_count=int(sum(verb_captions[v] for v in verbs_c)),
                            bucket=bucket_of[i]))
    motion_records = []
    for rec in extracted:
        caps = [dict(line=cap['line'], verbs=cap['verbs'],
                     labels=sorted({new_id[verb_class[v]] for v in cap['verbs']}))
                for cap in rec['captions']]
        motion_records.append(dict(id=rec['id'], labels=sorted({c for cap in caps for c in cap['labels']}),
                                   captions=caps))
    verb_records = [dict(verb=v, label=new_id[verb_class[v]], captions=int(verb_captions[v]),
                         distance=round(float(dist[i]), 6)) for i, v in enumerate(verbs)]

    # ---- write (each file atomic; manifest.json last)
    atomic_write_bytes(out / 'label_map.json', (json.dumps(
        dict(num_classes=k, route=cfg['route'], fractions=cfg['fractions'], classes=classes),
        sort_keys=True, indent=1, ensure_ascii=False) + '\n').encode('utf-8'))
    atomic_write_bytes(out / 'label_map.txt', ''.join(c['name'] + '\n' for c in classes).encode('utf-8'))
    atomic_write_bytes(out / 'motion_labels.jsonl', _jsonl(motion_records))
    atomic_save_npy(out / 'class_counts.npy', counts.astype(np.int64))
    atomic_write_bytes(out / 'split.json', (json.dumps(dict(
        split, fractions=cfg['fractions'], counted_on=cfg['train_split'] or 'all motions',
        rule='classes sorted by decreasing train_count (ties: lower id); first round(K * head) head, '
             'next round(K * medium) medium, rest tail'), sort_keys=True, indent=1) + '\n').encode())
    atomic_write_bytes(out / 'verbs.jsonl', _jsonl(verb_records))
    atomic_write_bytes(out / 'captions_without_verb.jsonl', _jsonl(missing))
    sizes = np.bincount(cluster, minlength=k)
    num_captions = sum(len(r['captions']) for r in extracted)
    manifest = dict(
        name='ActionClasses', version=ACTION_CLASSES_VERSION,
        counts=dict(motions=len(extracted), captions=num_captions, captions_without_verb=len(missing),
                    motions_without_label=sum(not r['labels'] for r in motion_records),
                    train_motions=(len(extracted) if train is None
                                   else sum(r['id'] in train for r in extracted)),
                    verbs=len(verbs), classes=k, class_size_min=int(sizes.min()),
                    class_size_max=int(sizes.max()),
                    buckets={name: len(ids) for name, ids in split.items()}),
        files=['label_map.json', 'label_map.txt', 'motion_labels.jsonl', 'class_counts.npy',
               'split.json', 'verbs.jsonl', 'captions_without_verb.jsonl'],
        note='Action classes from captions (CoAMD sec. 3.1): core verbs clustered by balanced K-means '
             '(K=400 for HumanML3D in the paper); see docs/recognizers.md.')
    if missing:
        warnings.warn(f'{cfg["data_root"]}: skipped {len(missing)} of {num_captions} captions without an '
                      f'action verb (first: {missing[0]["file"]}, line {missing[0]["line"]}); listed in '
                      f'{out / "captions_without_verb.jsonl"}')
    build.finish(manifest)
    load_action_classes(out)  # what the training transform reads must load
    return out


# ---------------------------------------------------------------------------- SynthMotion check
def synthmotion_adjusted_rand_index(classes_dir: Union[str, os.PathLike],
                                    synthmotion_root: Union[str, os.PathLike, None] = None) -> dict:
    """Adjusted Rand index (sklearn) of the verb classes against SynthMotion's own action labels.

    SynthMotion knows the action class of each of its motions (``synthmotion/action_labels.jsonl``).
    Only motions with exactly one such label are used (which verb of a multi-action caption
    describes which action is not known). Two indices:

    * ``ari`` -- the clustering itself: one item per distinct verb that occurs in those motions'
      captions, true class = the SynthMotion action it occurs with most (ties: the first name),
      predicted = its class. Grouping verbs at random scores about 0.
    * ``occurrence_ari`` -- the labels training sees: one item per verb occurrence in a caption,
      true class = the motion's action, predicted = the verb's class. This one is high even
      without clustering (a verb alone says much about the action): compare it with the same
      index of one class per verb.

    Args:
        classes_dir: A finished :func:`build_action_classes` folder over a SynthMotion build.
        synthmotion_root: The SynthMotion build (default: the ``data_root`` the classes were
            built from).

    Returns:
        ``dict(ari, occurrence_ari, num_verbs, num_occurrences, num_motions, num_true_classes)``.
    """
    from sklearn.metrics import adjusted_rand_score
    classes_dir = Path(classes_dir)
    manifest = json.loads((classes_dir / 'manifest.json').read_text())
    root = Path(synthmotion_root or manifest['config']['data_root'])
    path = root / 'synthmotion' / 'action_labels.jsonl'
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: {root} is not a SynthMotion build')
    truth = {}
    for line_no, line in enumerate(path.read_text().splitlines(), 1):
        rec = json.loads(line)
        if 'id' not in rec or 'labels' not in rec:
            raise KeyError(f'{path}, line {line_no}: expected "id" and "labels"')
        if len(rec['labels']) == 1:
            truth[rec['id']] = rec['labels'][0]
    verb_class = {}
    for line in (classes_dir / 'verbs.jsonl').read_text().splitlines():
        rec = json.loads(line)
        verb_class[rec['verb']] = rec['label']
    true, pred, used = [], [], set()
    with_action: Dict[str, Counter] = {}
    for line in (classes_dir / 'motion_labels.jsonl').read_text().splitlines():
        rec = json.loads(line)
        if rec['id'] not in truth:
            continue
        for cap in rec['captions']:
            for verb in cap['verbs']:
                true.append(truth[rec['id']])
                pred.append(verb_class[verb])
                with_action.setdefault(verb, Counter())[truth[rec['id']]] += 1
                used.add(rec['id'])
    if not true:
        raise ValueError(f'{classes_dir}: no verb of a single-action motion of {root} to compare')
    verbs = sorted(with_action)
    verb_truth = [min(with_action[v].items(), key=lambda item: (-item[1], item[0]))[0] for v in verbs]
    return dict(ari=float(adjusted_rand_score(verb_truth, [verb_class[v] for v in verbs])),
                occurrence_ari=float(adjusted_rand_score(true, pred)), num_verbs=len(verbs),
                num_occurrences=len(true), num_motions=len(used), num_true_classes=len(set(true)))
