"""``SynthMotionExactEditor``: edit a SynthMotion motion by the text of a corrective instruction.

SynthMotion knows every motion's program, so an instruction that names one of its edit operators
(:mod:`motionkit.synthmotion.edits`) can be applied exactly: the instruction text is
matched to the filled paraphrases of the operators applicable to the source program, and the
matched edit is synthesised with ``make_triplet``'s keep logic (joints outside the edited part are
copied from the source). This is the "ground-truth editor" of the CigTime reconstruction metric on
SynthMotion: a perfect instruction reproduces the target exactly, a wrong one gives another
motion, an unusable one leaves the source unchanged.

Matching is order-aware and strict: the instruction must be one of the filled paraphrases, or
within ``1 - min_similarity`` of one in word-level edit distance (one wrong word in ten). A
bag-of-words score would give the reference instruction with its words shuffled full credit; the
edit distance of a shuffle, a truncation or another edit's instruction is far above that.
"""
from __future__ import annotations

import json
import os.path as osp
from collections import Counter, OrderedDict
from typing import List, Optional, Sequence

import numpy as np
import torch

from motionkit.registry import MODELS
from motionkit.utils.text import normalize_text
from motionkit.structures.edit_request import EditRequest, parse_body_part
from .build import ensure_synthmotion
from .edits import applicable_edits
from .program import ClassDistribution, sample_motion
from .triplets import enumerate_edit_proposals, fill_instructions, realize_edit, source_events

__all__ = ['SynthMotionExactEditor', 'normalize_instruction', 'token_f1', 'token_edit_similarity',
           'resolve_synthmotion_root']



def normalize_instruction(text: str) -> str:
    """Lower case, punctuation and hyphens to spaces, single spaces (``'Kick higher!'`` ->
    ``'kick higher'``)."""
    return normalize_text(text)


def token_f1(a: Sequence[str], b: Sequence[str]) -> float:
    """Bag-of-words F1 of two token lists (SQuAD-style: clipped counts)."""
    common = sum((Counter(a) & Counter(b)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def token_edit_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """``1 - levenshtein(a, b) / max(len(a), len(b))`` over words (insert, delete, substitute
    one word: cost 1). Order-aware: ``'kick higher'`` vs ``'higher kick'`` is 0.0. Two empty
    sequences give 1.0."""
    n, m = len(a), len(b)
    if max(n, m) == 0:
        return 1.0
    prev = list(range(m + 1))
    for i in range(1, n + 1):
        cur = [i] + [0] * m
        for j in range(1, m + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return 1.0 - prev[m] / max(n, m)


def resolve_synthmotion_root(data_root: str) -> str:
    """The SynthMotion build behind ``data_root``: the folder itself when it holds
    ``synthmotion/programs.jsonl``, else the source build named in its ``manifest.json``
    (``provenance.source.path`` of a CigTime triplet folder; rebuilt in the cache from
    ``provenance.source.config`` when that path is gone).

    Raises:
        FileNotFoundError: no build can be found, naming what was looked at.
    """
    if osp.isfile(osp.join(data_root, 'synthmotion', 'programs.jsonl')):
        return data_root
    manifest_path = osp.join(data_root, 'manifest.json')
    if not osp.isfile(manifest_path):
        raise FileNotFoundError(f'SynthMotionExactEditor: {data_root} is neither a SynthMotion build '
                                f'(no synthmotion/programs.jsonl) nor a triplet folder (no '
                                'manifest.json); pass synthmotion_root')
    with open(manifest_path, encoding='utf-8') as f:
        manifest = json.load(f)
    source = (manifest.get('provenance') or {}).get('source') or {}
    path = source.get('path')
    if path and not osp.isabs(path):
        path = osp.normpath(osp.join(data_root, path))
    if path and osp.isfile(osp.join(path, 'synthmotion', 'programs.jsonl')):
        return path
    cfg = source.get('config')
    if source.get('type') == 'SynthMotion' and isinstance(cfg, dict):
        options = {k: v for k, v in cfg.items() if k not in ('version', 'num_motions', 'seed')}
        # A recorded config without the entry was built (and keyed) with the official encoding.
        options.setdefault('root_angular_velocity', 'official')
        return str(ensure_synthmotion(cfg['num_motions'], cfg['seed'], **options))
    raise FileNotFoundError(f'SynthMotionExactEditor: {manifest_path} names no SynthMotion source build '
                            f'(provenance.source = {source}); pass synthmotion_root')


class _Build:
    """Programs and generator config of one SynthMotion build."""

    def __init__(self, root: str) -> None:
        self.root = root
        with open(osp.join(root, 'manifest.json'), encoding='utf-8') as f:
            self.config = json.load(f)['config']
        self.index, self.programs = {}, {}
        with open(osp.join(root, 'synthmotion', 'programs.jsonl'), encoding='utf-8') as f:
            for i, line in enumerate(f):
                if line.strip():
                    rec = json.loads(line)
                    self.index[rec['id']] = i
                    self.programs[rec['id']] = rec
        self.dist = ClassDistribution(self.config['class_distribution'], self.config['imbalance_ratio'])


@MODELS.register_module()
class SynthMotionExactEditor(torch.nn.Module):
    """Apply the SynthMotion edit operator an instruction names (exact, deterministic).

    ``edit_instructions(requests)`` implements :class:`~motionkit.structures.InstructionEditor`:
    each :class:`~motionkit.structures.EditRequest` names a ``source_id`` (a SynthMotion motion id),
    its ``joints`` ``(T, 22, 3)`` and ``data_root`` (the triplet folder or the SynthMotion build);
    the result is the list of edited joints ``(T_i', 22, 3)`` float32.

    Matching (per source, over the operators applicable to its program and every concrete
    possibility of each, see :func:`~motionkit.synthmotion.triplets.enumerate_edit_proposals`):
    the normalised instruction equal to a filled paraphrase wins; otherwise the paraphrase with the
    highest word-level edit similarity (:func:`token_edit_similarity`) if it reaches
    ``min_similarity``. Candidates are tried best first until one can be synthesised. No usable
    match returns the source joints unchanged (counted in :meth:`match_stats`).

    The paraphrases are the operators' own templates plus, for a triplet folder built with LLM
    paraphrases, the ones its manifest records. A request whose ``body_part`` is
    ``'upper_body'`` or ``'lower_body'`` (the part the instruction names) is matched against that
    part's operators only; ``'whole_body'`` (also what the reconstruction metric sends for an
    instruction that names no part) leaves every operator free.

    Args:
        data_root: Default triplet folder / SynthMotion build for sources without ``data_root``.
        synthmotion_root: The SynthMotion build to use for every source (overrides ``data_root``).
        min_similarity: Lowest word-level edit similarity of a near match (0.9: one wrong word in
            ten; fixed beforehand, not tuned on any split; the CigTime control rows check that
            shuffled, truncated and other-triplet reference instructions stay below it).
        num_draws: Seeded draws that enumerate random operators (e.g. ``*_more_times``).
        cache_size: Regenerated source motions kept in memory (least recently used dropped).
    """

    exact = True  # the edit keeps the untouched joints by construction (no eq.-5 blend needed)

    def __init__(self, data_root: Optional[str] = None, synthmotion_root: Optional[str] = None,
                 min_similarity: float = 0.9, num_draws: int = 16, cache_size: int = 512) -> None:
        super().__init__()
        if not 0.0 < min_similarity <= 1.0:
            raise ValueError(f'SynthMotionExactEditor: min_similarity must be in (0, 1], got {min_similarity}')
        self.data_root = data_root
        self.synthmotion_root = synthmotion_root
        self.min_similarity = float(min_similarity)
        self.num_draws = int(num_draws)
        self.cache_size = int(cache_size)
        self._builds: dict = {}
        self._roots: dict = {}
        self._items: OrderedDict = OrderedDict()
        self._stats = Counter()
        self._paraphrases: dict = {}

    # ------------------------------------------------------------------ sources
    def _build_for(self, data_root: Optional[str]) -> _Build:
        where = self.synthmotion_root or data_root or self.data_root
        if where is None:
            raise ValueError('SynthMotionExactEditor: the source has no data_root and the editor has '
                             'neither data_root nor synthmotion_root')
        if where not in self._roots:
            self._roots[where] = (self.synthmotion_root if self.synthmotion_root
                                  else resolve_synthmotion_root(where))
        root = self._roots[where]
        if root not in self._builds:
            self._builds[root] = _Build(root)
        return self._builds[root]

    def source_item(self, source_id: str, data_root: Optional[str] = None):
        """Regenerate SynthMotion motion ``source_id`` exactly as its build did (cached).

        Returns:
            ``(SynthItem, candidates)``: the item and its candidate table (one entry per filled
            paraphrase: ``(tokens, normalised text, operator, event index, proposal)``).
        """
        build = self._build_for(data_root)
        key = (build.root, source_id)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        if source_id not in build.index:
            raise KeyError(f'SynthMotionExactEditor: motion {source_id!r} is not in '
                           f'{osp.join(build.root, "synthmotion", "programs.jsonl")}')
        cfg = build.config
        item = sample_motion(cfg['seed'], build.index[source_id], build.dist, cfg['max_events'],
                             cfg['noise_amplitude'])
        if item.motion_id != source_id or item.motion.num_frames != build.programs[source_id]['num_frames']:
            raise RuntimeError(f'SynthMotionExactEditor: regenerating {source_id!r} of {build.root} gave '
                               f'{item.motion_id!r} with {item.motion.num_frames} frames, but the build '
                               f'recorded {build.programs[source_id]["num_frames"]}: was the build made by '
                               'another SynthMotion version?')
        entry = (item, self._candidates(item, self._extra_paraphrases(data_root)))
        self._items[key] = entry
        while len(self._items) > self.cache_size:
            self._items.popitem(last=False)
        return entry

    def _extra_paraphrases(self, data_root: Optional[str]) -> dict:
        """``{operator: [templates]}`` a triplet folder's manifest records beyond the operators'
        own (LLM paraphrases, ``provenance.instructions.paraphrases``); ``{}`` for none."""
        where = data_root or self.data_root
        if not where:
            return {}
        if where not in self._paraphrases:
            extra = {}
            path = osp.join(where, 'manifest.json')
            if osp.isfile(path):
                with open(path, encoding='utf-8') as f:
                    manifest = json.load(f)
                para = ((manifest.get('provenance') or {}).get('instructions') or {}).get('paraphrases')
                if isinstance(para, dict):
                    extra = {k: list(v) for k, v in para.items() if isinstance(v, list)}
            self._paraphrases[where] = extra
        return self._paraphrases[where]

    def _candidates(self, item, extra: Optional[dict] = None) -> list:
        events = source_events(item)
        table = []
        for op, k in applicable_edits(events):
            templates = list(op.templates) + [t for t in (extra or {}).get(op.name, ()) if t not in op.templates]
            for proposal in enumerate_edit_proposals(events, op, k, self.num_draws):
                seen = set()
                for text in fill_instructions(op, proposal[1], proposal[2], proposal[3], templates):
                    norm = normalize_instruction(text)
                    if norm not in seen:
                        seen.add(norm)
                        table.append((norm.split(), norm, op, k, proposal))
        return table

    # ------------------------------------------------------------------ matching
    def match(self, source_id: str, instruction: str, data_root: Optional[str] = None,
              body_part: str = 'whole_body') -> list:
        """Candidate edits for ``instruction``, best first: ``[(score, operator, k, proposal)]``
        (score 2.0 for an exact match, else the word-level edit similarity >= ``min_similarity``;
        one entry per concrete edit). ``body_part`` other than ``'whole_body'`` keeps that part's
        operators only; an instruction that still opens with a body part is matched without it."""
        _, table = self.source_item(source_id, data_root)
        named, text = parse_body_part(instruction)
        if named is not None and body_part == 'whole_body':
            body_part = named
        norm = normalize_instruction(text)
        tokens = norm.split()
        best = {}
        for cand_tokens, cand_norm, op, k, proposal in table:
            if body_part != 'whole_body' and op.body_part != body_part:
                continue
            if cand_norm == norm:
                score = 2.0
            elif tokens and abs(len(tokens) - len(cand_tokens)) <= (1 - self.min_similarity) * max(
                    len(tokens), len(cand_tokens)):
                score = token_edit_similarity(tokens, cand_tokens)
            else:
                continue
            ident = id(proposal)
            if score >= self.min_similarity and score > best.get(ident, (-1.0, ))[0]:
                best[ident] = (score, op, k, proposal)
        # stable sort: ties keep the order of applicable_edits (event order, then operator order)
        return sorted(best.values(), key=lambda c: -c[0])

    def edit_one(self, source_id: str, instruction: str, data_root: Optional[str] = None,
                 body_part: str = 'whole_body'):
        """Apply ``instruction`` to SynthMotion motion ``source_id`` (``body_part``: see
        :meth:`match`).

        Returns:
            ``dict(target=Motion, operator=EditOperator, event=int | None, proposal=tuple,
            edited_joints=tuple)`` or ``None`` when no applicable operator matches (or none of
            the matches can be synthesised).
        """
        for _, op, k, proposal in self.match(source_id, instruction, data_root, body_part):
            result = self.edit_with_operator(source_id, op, k, proposal, data_root)
            if result is not None:
                return result
        return None

    def edit_with_operator(self, source_id: str, operator, k: Optional[int], proposal: tuple,
                           data_root: Optional[str] = None, min_change: float = 0.0) -> Optional[dict]:
        """Apply a known edit (``operator`` applied to event ``k`` with ``proposal`` =
        ``(new_events, old_params, new_params, info)``) to ``source_id``, as ``make_triplet``
        does. Returns the dict of :meth:`edit_one` or ``None`` if it cannot be synthesised (or
        moves no joint by ``min_change`` metres; ``make_triplet`` uses 0.03)."""
        item, _ = self.source_item(source_id, data_root)
        realized = realize_edit(item, operator, k, *proposal[:3], min_change=min_change)
        if realized is None:
            return None
        return dict(target=realized[0], operator=operator, event=k, proposal=proposal,
                    edited_joints=realized[1])

    def edit_instructions(self, requests: Sequence[EditRequest]) -> List[np.ndarray]:
        """Edit each source by its instruction (:class:`InstructionEditor`).

        Args:
            requests: :class:`EditRequest` with ``source_id``, ``joints`` ``(T, 22, 3)``
                (returned unchanged when nothing matches; read from the build when absent) and
                optionally ``data_root``.

        Returns:
            ``(T_i', 22, 3)`` float32 joints per request.
        """
        out = []
        for i, req in enumerate(requests):
            if not req.source_id:
                raise KeyError(f'SynthMotionExactEditor: request {i} has no source_id')
            result = self.edit_one(req.source_id, req.instruction, req.data_root, req.body_part)
            self._stats['total'] += 1
            if result is None:
                self._stats['unmatched'] += 1
                joints = req.joints
                if joints is None:
                    joints = self.source_item(req.source_id, req.data_root)[0].motion.joints
                out.append(np.asarray(joints, dtype=np.float32).copy())
            else:
                self._stats['matched'] += 1
                out.append(np.asarray(result['target'].joints, dtype=np.float32))
        return out

    def match_stats(self) -> dict:
        """``dict(matched=, unmatched=, total=)`` instructions since construction / reset."""
        return dict(matched=self._stats['matched'], unmatched=self._stats['unmatched'],
                    total=self._stats['total'])

    def reset_stats(self) -> None:
        """Zero the counters of :meth:`match_stats`."""
        self._stats.clear()

    def forward(self, *args, **kwargs):
        raise NotImplementedError('SynthMotionExactEditor is not trained; call edit_instructions()')
