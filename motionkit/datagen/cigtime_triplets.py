"""Build CigTime corrective triplets (source motion, instruction, target motion) from SynthMotion.

CigTime (Fang et al., 2024, sec. 3.2) builds its training data by editing source motions with a
motion editor driven by corrective instructions for a body part and blending the edit into the
source with the body-part mask (eq. 5: ``target = mask * edited + (1 - mask) * source``). This
builder does the same over the motions of a SynthMotion build:

1. for every source motion pick ``per_source`` corrective instructions (different operators):
   from SynthMotion's edit operators (body part first: upper 40 %, lower 40 %, whole 20 %, as
   ``make_triplet``), from a jsonl file, or from operator paraphrases written by an LLM;
2. edit the source with the editor: SynthMotion's exact operator (``editor='synthmotion'``) or a
   registered model editor (MDM / PriorMDM config + checkpoint) through its
   ``edit_instructions(requests)`` over :class:`~motionkit.structures.EditRequest`;
3. model edits are blended with eq. 5 on the 263-D features (the exact editor keeps the untouched
   joints by construction and is stored as is);
4. save per triplet (layout in ``docs/cigtime_data.md``) with provenance; ``manifest.json`` last.

Per-source records live under ``.partial/`` until the build completes, so an interrupted build
resumes where it stopped and gives the same files as an uninterrupted one.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import re
import string
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from motionkit.motion.humanml3d import ROOT_ANGULAR_VELOCITIES, HumanML3DFeatures, feature_encoding_from_metadata
from motionkit.structures.edit_request import EditRequest
from motionkit.utils.io import atomic_save_npy, atomic_write_bytes, file_sha256
from motionkit.utils.resumable_build import ResumableBuild

__all__ = ['build_cigtime_triplets', 'cigtime_triplets_config', 'blend_features',
           'load_instruction_file', 'request_llm_paraphrases', 'parse_paraphrases',
           'CIGTIME_TRIPLETS_VERSION']

# 1.1: val / test instructions use held-out phrasings (split_phrasings)
CIGTIME_TRIPLETS_VERSION = '1.1'
BODY_PART_WEIGHTS = {'upper_body': 0.4, 'lower_body': 0.4, 'whole_body': 0.2}
_RNG_STREAM = 11  # rng_for(seed, index, 11): streams 0-3 belong to the SynthMotion build itself


def _dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str)




# ---------------------------------------------------------------------------- instruction sources
def load_instruction_file(path: str) -> list:
    """Read a jsonl instruction set: one ``{"body_part", "instruction"[, "operator"]}`` per line.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: invalid JSON, a missing key or an unknown body part / operator (naming the
            line), or an empty file.
    """
    from motionkit.synthmotion import EDIT_OPERATORS
    if not osp.isfile(path):
        raise FileNotFoundError(f'instruction file not found: {path}')
    entries = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}, line {line_no}: invalid JSON: {err}') from None
            if not isinstance(rec, dict) or not isinstance(rec.get('instruction'), str) \
                    or not rec['instruction'].strip():
                raise ValueError(f'{path}, line {line_no}: expected an object with a non-empty '
                                 f'"instruction" string, got {line.strip()[:80]!r}')
            if rec.get('body_part') not in BODY_PART_WEIGHTS:
                raise ValueError(f'{path}, line {line_no}: body_part must be one of '
                                 f'{sorted(BODY_PART_WEIGHTS)}, got {rec.get("body_part")!r}')
            op = rec.get('operator')
            if op is not None and op not in EDIT_OPERATORS:
                raise ValueError(f'{path}, line {line_no}: unknown SynthMotion operator {op!r}')
            entries.append(dict(body_part=rec['body_part'], instruction=rec['instruction'].strip(),
                                operator=op))
    if not entries:
        raise ValueError(f'{path}: holds no instruction')
    return entries


def _placeholders(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def parse_paraphrases(reply: str, allowed_fields: set, max_words: int = 15) -> list:
    """Turn an LLM reply into instruction templates: one per line; list markers, numbering and
    quotes are stripped. Dropped: lines naming fields outside ``allowed_fields`` or with broken
    braces, lines longer than ``max_words`` words (the request asks for fewer; longer lines are the
    model talking about its answer), lines with a placeholder name left outside its braces (e.g.
    ``new_turn_side``) and lines still holding quotation marks (several answers run together)."""
    out = []
    for line in reply.splitlines():
        text = line.strip().lstrip('-*•').strip()
        while text[:1].isdigit():
            text = text[1:]
        text = text.lstrip('.):').strip().strip('"\'').strip()
        if len(text) < 3 or text.endswith(':'):
            continue
        try:
            fields = _placeholders(text)
        except ValueError:
            continue
        if fields - set(allowed_fields):
            continue
        bare = re.sub(r'\{[^{}]*\}', ' ', text)
        if len(bare.split()) > max_words or '"' in bare or re.search(r'[A-Za-z]_[A-Za-z]', bare):
            continue
        out.append(text)
    return out


def request_llm_paraphrases(client, num_paraphrases: int = 5) -> dict:
    """Ask an LLM (a ``FEEDBACK_CLIENTS`` object with ``chat(messages) -> str``) for extra
    paraphrases of every SynthMotion edit operator's instructions.

    Placeholders such as ``{new_hand}`` must be kept verbatim so the paraphrases can be filled
    per source. Returns ``{operator: dict(paraphrases=[...], reply=str)}``: the operator's own
    templates first, then the new ones, deduplicated (case and punctuation ignored).
    """
    from motionkit.synthmotion import EDIT_OPERATORS
    from motionkit.synthmotion.synthmotion_exact_editor import normalize_instruction
    out = {}
    for name, op in EDIT_OPERATORS.items():
        fields = set().union(*(_placeholders(t) for t in op.templates))
        part = op.body_part.replace('_', ' ')
        examples = '\n'.join(op.templates)
        keep = (' Keep the words in curly braces, such as ' + ', '.join('{' + f + '}' for f in sorted(fields))
                + ', exactly as written.') if fields else ''
        messages = [
            dict(role='system', content='You are a fitness coach who writes short corrective instructions.'),
            dict(role='user', content=(
                f'Here are corrective instructions about the {part} that all ask for the same change:\n'
                f'{examples}\n\nWrite {num_paraphrases} more ways a coach could say it, one per line, '
                f'each under 15 words, with no numbering.{keep}'))]
        reply = client.chat(messages)
        if not isinstance(reply, str):
            raise TypeError(f'LLM client {type(client).__name__} returned {type(reply).__name__} for operator '
                            f'{name!r}; expected str')
        seen, para = set(), []
        for text in list(op.templates) + parse_paraphrases(reply, fields):
            key = normalize_instruction(text)
            if key and key not in seen:
                seen.add(key)
                para.append(text)
        out[name] = dict(paraphrases=para, reply=reply)
    return out


# ---------------------------------------------------------------------------- editing
def blend_features(source: np.ndarray, edited: np.ndarray, body_part: str,
                   representation: Any = 'HumanML3DFeatures') -> np.ndarray:
    """CigTime eq. 5 on raw features: ``mask * edited + (1 - mask) * source``.

    ``mask`` is the body part's feature mask (``whole_body``: every feature). Motions of
    different lengths cannot be blended frame by frame: the edit is kept as is.

    Args:
        source, edited: ``(T, D)`` features.
        body_part: ``'upper_body'``, ``'lower_body'`` or ``'whole_body'``.

    Returns:
        ``(T_edited, D)`` float32.
    """
    from motionkit.models.editors.editing import feature_keep_mask
    edited = np.asarray(edited, dtype=np.float32)
    if body_part == 'whole_body' or edited.shape != np.shape(source):
        return edited
    mask = feature_keep_mask(representation, body_part).numpy()
    return np.where(mask[None], edited, np.asarray(source, dtype=np.float32)).astype(np.float32)


def _build_editor(editor, editor_checkpoint: Optional[str]):
    """The editor object and its provenance record."""
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    if editor == 'synthmotion':
        from motionkit.synthmotion import SynthMotionExactEditor
        return SynthMotionExactEditor(), dict(type='SynthMotionExactEditor', config='synthmotion',
                                              checkpoint=None, sha256=None)
    if hasattr(editor, 'edit_instructions'):
        return editor, dict(type=type(editor).__name__, config=None, checkpoint=None, sha256=None)
    register_all_modules(init_default_scope=False)
    cfg_record, cfg_sha = editor, None
    if isinstance(editor, (str, os.PathLike)):
        from mmengine.config import Config
        path = str(editor)
        if not osp.isfile(path):
            raise FileNotFoundError(f'editor config not found: {path} (use editor="synthmotion" for '
                                    "SynthMotion's exact operators)")
        cfg = Config.fromfile(path)
        if 'model' not in cfg:
            raise KeyError(f'{path}: no "model" in the editor config')
        model_cfg, cfg_record, cfg_sha = cfg.model, osp.abspath(path), file_sha256(path)
    elif isinstance(editor, dict):
        model_cfg = editor
    else:
        raise TypeError(f"editor must be 'synthmotion', a config dict or file, or an object with "
                        f'edit_instructions(), got {type(editor).__name__}')
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('motionkit'):
        model = MODELS.build(model_cfg)
    if not hasattr(model, 'edit_instructions'):
        raise TypeError(f'editor {type(model).__name__} is not an InstructionEditor (no edit_instructions(requests))')
    sha = None
    if editor_checkpoint:
        from motionkit.utils import safe_load
        ckpt = safe_load(editor_checkpoint, map_location='cpu')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'{editor_checkpoint}: expected a state dict or an mmengine checkpoint')
        model.load_state_dict(state, strict=True)
        sha = file_sha256(editor_checkpoint)
    if hasattr(model, 'eval'):
        model.eval()
    return model, dict(type=type(model).__name__, config=cfg_record, config_sha256=cfg_sha,
                       checkpoint=None if editor_checkpoint is None else osp.abspath(editor_checkpoint),
                       sha256=sha)


# ---------------------------------------------------------------------------- config
def cigtime_triplets_config(num_motions: int, seed: int = 0, editor: Any = 'synthmotion',
                            editor_checkpoint: Optional[str] = None,
                            instruction_source: str = 'synthmotion',
                            instruction_file: Optional[str] = None, client: Optional[dict] = None,
                            per_source: int = 1, num_paraphrases: int = 5,
                            root_angular_velocity: str = 'wrapped') -> dict:
    """The normalised builder config (what a finished / partial folder is checked against).

    ``root_angular_velocity`` is the feature encoding of the SynthMotion source build, which the
    edited targets are encoded with too (see :func:`~motionkit.synthmotion.synthmotion_config`;
    ``'official'`` leaves the config as it was before the option existed).
    """
    if num_motions < 1:
        raise ValueError(f'num_motions must be >= 1, got {num_motions}')
    if per_source < 1:
        raise ValueError(f'per_source must be >= 1, got {per_source}')
    if instruction_source not in ('synthmotion', 'file', 'llm'):
        raise ValueError(f"instruction_source must be 'synthmotion', 'file' or 'llm', got "
                         f'{instruction_source!r}')
    if instruction_source == 'file' and not instruction_file:
        raise ValueError("instruction_source='file' needs instruction_file")
    if instruction_source == 'llm' and client is None:
        raise ValueError("instruction_source='llm' needs client=dict(type='OpenAIChatClient', ...)")
    if isinstance(editor, (str, os.PathLike)) and editor != 'synthmotion':
        editor_rec = dict(config=osp.abspath(str(editor)),
                          sha256=file_sha256(str(editor)) if osp.isfile(str(editor)) else None)
    elif isinstance(editor, dict):
        editor_rec = json.loads(_dumps(editor))
    elif editor == 'synthmotion':
        editor_rec = 'synthmotion'
    else:
        editor_rec = dict(object=type(editor).__name__)
    if root_angular_velocity not in ROOT_ANGULAR_VELOCITIES:
        raise ValueError(f'root_angular_velocity must be one of {ROOT_ANGULAR_VELOCITIES}, '
                         f'got {root_angular_velocity!r}')
    cfg = dict(version=CIGTIME_TRIPLETS_VERSION, num_motions=int(num_motions), seed=int(seed),
                per_source=int(per_source), editor=editor_rec,
                editor_checkpoint=(None if editor_checkpoint is None else
                                   dict(path=osp.abspath(editor_checkpoint),
                                        sha256=file_sha256(editor_checkpoint))),
                instruction_source=instruction_source,
                instruction_file=(None if instruction_file is None else
                                  dict(path=osp.abspath(instruction_file),
                                       sha256=file_sha256(instruction_file))),
                client=(None if client is None else dict(object=type(client).__name__)
                        if hasattr(client, 'chat') else json.loads(_dumps(client))),
                num_paraphrases=int(num_paraphrases) if instruction_source == 'llm' else None)
    if root_angular_velocity != 'official':
        cfg['root_angular_velocity'] = root_angular_velocity
    return cfg


# ---------------------------------------------------------------------------- per source
class _Builder:

    def __init__(self, out: Path, cfg: dict, source_root: Path, editor, exact_editor,
                 file_entries: Optional[list], llm_paraphrases: Optional[dict]) -> None:
        self.out, self.cfg, self.source_root = out, cfg, source_root
        self.editor, self.exact = editor, exact_editor
        self.is_exact = getattr(editor, 'exact', False) and editor is exact_editor
        self.file_entries, self.llm = file_entries, llm_paraphrases
        from motionkit.synthmotion.edits import EDIT_OPERATORS
        from motionkit.synthmotion.triplets import split_phrasings
        self.phrasings = split_phrasings({
            name: (llm_paraphrases[name]['paraphrases'] if llm_paraphrases is not None else op.templates)
            for name, op in EDIT_OPERATORS.items()})
        # Targets are encoded like the source features they sit beside (the source build's record).
        manifest = source_root / 'manifest.json'
        self.rep = HumanML3DFeatures(root_angular_velocity=feature_encoding_from_metadata(
            json.loads(manifest.read_text()) if manifest.exists() else None, str(manifest)))
        self.programs = {}
        with open(source_root / 'synthmotion' / 'programs.jsonl', encoding='utf-8') as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line)
                    self.programs[rec['id']] = rec
        self.ids = list(self.programs)

    # ---- instruction choice
    def _synthmotion_choices(self, item, source_id: str, rng, split: str) -> list:
        """``per_source`` realisable SynthMotion edits (different operators), phrased with the
        split's phrasings (:func:`~motionkit.synthmotion.triplets.split_phrasings`: val / test
        instructions use phrasings no training instruction uses)."""
        from motionkit.synthmotion.edits import applicable_edits
        from motionkit.synthmotion.triplets import (MIN_EDIT_CHANGE, body_part_order, fill_instructions,
                                                    phrasings_for_split, propose_edit, source_events)
        events = source_events(item)
        cands = applicable_edits(events)
        chosen, used = [], set()
        for ci in body_part_order(cands, rng):
            op, k = cands[ci]
            if op.name in used:
                continue
            proposal = propose_edit(events, op, k, rng)
            if proposal is None:
                continue
            # make_triplet's usability checks; the exact editor's target of this very edit
            realized = self.exact.edit_with_operator(source_id, op, k, proposal, str(self.source_root),
                                                     min_change=MIN_EDIT_CHANGE)
            if realized is None:
                continue
            templates = phrasings_for_split(self.phrasings, op.name, split)
            rng.shuffle(templates)
            instructions = fill_instructions(op, proposal[1], proposal[2], proposal[3], templates)
            chosen.append(dict(instructions=instructions, op=op, k=k, proposal=proposal,
                               intended=realized['target'], edited_joints=list(realized['edited_joints']),
                               body_part=op.body_part))
            used.add(op.name)
            if len(chosen) == self.cfg['per_source']:
                break
        return chosen

    def _file_choices(self, item, source_id: str, rng) -> list:
        """``per_source`` file instructions for the source: entries whose operator applies (or
        that name none), body part first (40/40/20), each matched to a SynthMotion edit when
        possible (the exact editor needs one)."""
        from motionkit.synthmotion.edits import applicable_edits
        from motionkit.synthmotion.triplets import source_events
        applicable = {op.name for op, _ in applicable_edits(source_events(item))}
        pool = [e for e in self.file_entries if e['operator'] is None or e['operator'] in applicable]
        chosen, used = [], set()
        data_root = str(self.source_root)
        while pool and len(chosen) < self.cfg['per_source']:
            parts = sorted({e['body_part'] for e in pool})
            w = np.array([BODY_PART_WEIGHTS[p] for p in parts])
            part = parts[int(rng.choice(len(parts), p=w / w.sum()))]
            in_part = [e for e in pool if e['body_part'] == part]
            entry = in_part[int(rng.integers(len(in_part)))]
            pool.remove(entry)
            if entry['instruction'] in used:
                continue
            match = self.exact.edit_one(source_id, entry['instruction'], data_root)
            if match is not None and entry['operator'] is not None \
                    and match['operator'].name != entry['operator']:
                match = None
            if match is None and self.is_exact:
                continue  # the exact editor cannot apply it: not a triplet
            used.add(entry['instruction'])
            if match is not None:
                edited = list(match['edited_joints'])
                op = match['operator']
            else:
                edited = list(_part_joints(part))
                op = None
            chosen.append(dict(instructions=[entry['instruction']], op=op,
                               k=None if match is None else match['event'],
                               proposal=None if match is None else match['proposal'],
                               intended=None if match is None else match['target'],
                               edited_joints=edited, body_part=part, operator_name=entry['operator']))
        return chosen

    # ---- one source
    def build_source(self, index: int) -> list:
        from motionkit.synthmotion.captions import caption_for_program, format_caption_line
        from motionkit.synthmotion.program import rng_for
        source_id = self.ids[index]
        prog = self.programs[source_id]
        item, _ = self.exact.source_item(source_id, str(self.source_root))
        rng = rng_for(self.cfg['seed'], index, _RNG_STREAM)
        if self.cfg['instruction_source'] == 'file':
            choices = self._file_choices(item, source_id, rng)
        else:
            choices = self._synthmotion_choices(item, source_id, rng, prog['split'])
        if not choices:
            return []
        src_joints = np.load(self.source_root / 'new_joints' / f'{source_id}.npy').astype(np.float32)
        src_feats = np.load(self.source_root / 'new_joint_vecs' / f'{source_id}.npy').astype(np.float32)
        source_captions = [line.split('#')[0] for line in
                           (self.source_root / 'texts' / f'{source_id}.txt').read_text().splitlines()
                           if line.strip()]
        # edit: the exact editor already applied the chosen operator (``intended``); a model
        # editor gets the instruction text
        if self.is_exact:
            edited = [c['intended'].joints for c in choices]
        else:
            requests = [EditRequest(instruction=c['instructions'][0], source_id=source_id, motion=src_feats,
                                    joints=src_joints, body_part=c['body_part'],
                                    edited_joints=c['edited_joints'], data_root=str(self.source_root))
                        for c in choices]
            edited = self.editor.edit_instructions(requests)
            if len(edited) != len(choices):
                raise RuntimeError(f'editor {type(self.editor).__name__} returned {len(edited)} motions '
                                   f'for {len(choices)} instructions')
        records = []
        for j, (c, joints) in enumerate(zip(choices, edited)):
            tid = f'C{index:06d}_{j}'
            joints = np.asarray(joints, dtype=np.float32)
            if joints.ndim != 3 or joints.shape[1:] != (22, 3) or not np.isfinite(joints).all():
                raise ValueError(f'editor {type(self.editor).__name__} returned joints of shape '
                                 f'{joints.shape} (or non-finite) for {source_id!r}; expected (T, 22, 3)')
            if self.is_exact:
                tgt_joints = joints
                tgt_feats = np.asarray(self.rep.encode(joints), dtype=np.float32)
            else:
                if len(joints) == len(src_joints) - 1:
                    # decoded from features (one frame fewer than joints): repeat the last frame so
                    # the edit has the source's length and can be blended frame by frame
                    joints = np.concatenate([joints, joints[-1:]], 0)
                edited_feats = np.asarray(self.rep.encode(joints), dtype=np.float32)
                tgt_feats = blend_features(src_feats, edited_feats, c['body_part'], self.rep)  # eq. 5
                if c['body_part'] == 'whole_body' or tgt_feats.shape != src_feats.shape:
                    tgt_joints = joints
                else:
                    dec = np.asarray(self.rep.decode(tgt_feats), dtype=np.float32)
                    # decode gives T - 1 frames; repeat the last so joints = features + 1
                    tgt_joints = np.concatenate([dec, dec[-1:]], 0)
            target_captions = []
            if c['intended'] is not None:
                cap_rng = np.random.default_rng([self.cfg['seed'], index, _RNG_STREAM, j])
                target_captions = [format_caption_line(caption_for_program(c['intended'].events, cap_rng))
                                   .split('#')[0] for _ in range(3)]
            paths = dict(source_vecs=f'vecs/{source_id}_source.npy',
                         source_joints=f'joints/{source_id}_source.npy',
                         target_vecs=f'vecs/{tid}_target.npy', target_joints=f'joints/{tid}_target.npy')
            atomic_save_npy(self.out / paths['target_vecs'], tgt_feats)
            atomic_save_npy(self.out / paths['target_joints'], tgt_joints)
            op = c['op']
            records.append(dict(
                id=tid, split=prog['split'], source_id=source_id, instruction=c['instructions'][0],
                instructions=list(c['instructions']), body_part=c['body_part'],
                edited_joints=list(c['edited_joints']),
                editor='synthmotion' if self.is_exact else type(self.editor).__name__,
                edit=None if op is None else op.name, event=c['k'],
                source_captions=source_captions, target_captions=target_captions, **paths))
        atomic_save_npy(self.out / f'vecs/{source_id}_source.npy', src_feats)
        atomic_save_npy(self.out / f'joints/{source_id}_source.npy', src_joints)
        return records


def _part_joints(part: str) -> tuple:
    from motionkit.synthmotion.body import JOINTS, LOWER_BODY, UPPER_BODY
    return {'upper_body': UPPER_BODY, 'lower_body': LOWER_BODY, 'whole_body': JOINTS}[part]


# ---------------------------------------------------------------------------- entry point
def build_cigtime_triplets(out_dir: Union[str, os.PathLike], num_motions: int, seed: int = 0,
                           editor: Any = 'synthmotion', editor_checkpoint: Optional[str] = None,
                           instruction_source: str = 'synthmotion',
                           instruction_file: Optional[str] = None, client: Optional[dict] = None,
                           per_source: int = 1, num_paraphrases: int = 5, progress: bool = True,
                           synthmotion_cache_dir: Optional[str] = None,
                           root_angular_velocity: str = 'wrapped') -> Path:
    """Build (or resume) a CigTime triplet folder from a SynthMotion build.

    Args:
        out_dir: Output folder.
        num_motions, seed: The SynthMotion build (``ensure_synthmotion(num_motions, seed)`` with
            the default options, shared with the other stages through the cache).
        editor: ``'synthmotion'`` (exact operators), a model config dict (e.g.
            ``dict(type='MDM', ...)``), a config file whose ``model`` is the editor, or an object
            with ``edit_instructions`` (tests).
        editor_checkpoint: Weights of a model editor (loaded strictly, ``weights_only``).
        instruction_source: ``'synthmotion'`` (operator paraphrases), ``'file'``
            (``instruction_file``: jsonl of ``{body_part, instruction[, operator]}``) or ``'llm'``
            (``client``: a ``FEEDBACK_CLIENTS`` config; paraphrases of every operator, recorded
            in the manifest).
        per_source: Triplets per source motion (different operators / instructions).
        num_paraphrases: Paraphrases asked of the LLM per operator.
        progress: Show a tqdm bar.
        synthmotion_cache_dir: Cache folder of SynthMotion builds (default
            ``$MOTIONKIT_CACHE/synthmotion``).
        root_angular_velocity: Feature encoding of the source build and of the targets
            (``'wrapped'``, default, or ``'official'``; see
            :class:`~motionkit.motion.HumanML3DFeatures`); recorded as ``feature_encoding`` in
            ``manifest.json``.

    Returns:
        ``out_dir``. A finished folder with the same config is returned untouched; one with
        another config (finished or not) raises ``FileExistsError`` naming the folder.
    """
    from motionkit.synthmotion import config_hash, ensure_synthmotion, synthmotion_config
    cfg = cigtime_triplets_config(num_motions, seed, editor, editor_checkpoint, instruction_source,
                                  instruction_file, client, per_source, num_paraphrases, root_angular_velocity)
    out = Path(out_dir)
    build = ResumableBuild(out, cfg, 'CigTime triplet build')
    if build.finished():
        return out
    build.check_unfinished()
    partial = build.partial
    source_root = ensure_synthmotion(num_motions, seed, cache_dir=synthmotion_cache_dir, progress=progress,
                                     root_angular_velocity=root_angular_velocity)
    source_cfg = synthmotion_config(num_motions, seed, root_angular_velocity=root_angular_velocity)
    build.start()

    from motionkit.synthmotion import SynthMotionExactEditor
    # each source is visited once: a small cache is enough
    exact = SynthMotionExactEditor(synthmotion_root=str(source_root), cache_size=8)
    model, editor_prov = _build_editor(editor, editor_checkpoint)
    if isinstance(model, SynthMotionExactEditor):
        model = exact
    file_entries = load_instruction_file(instruction_file) if instruction_source == 'file' else None
    llm = None
    instr_prov = dict(source=instruction_source)
    if instruction_source == 'file':
        instr_prov.update(cfg['instruction_file'], num_entries=len(file_entries))
    elif instruction_source == 'llm':
        llm_path = partial / 'llm_paraphrases.json'
        if llm_path.exists():  # resume with the same paraphrases
            llm = json.loads(llm_path.read_text())
        else:
            from motionkit.registry import FEEDBACK_CLIENTS
            from motionkit.utils import register_all_modules
            register_all_modules(init_default_scope=False)
            llm_client = client if hasattr(client, 'chat') else FEEDBACK_CLIENTS.build(client)
            llm = request_llm_paraphrases(llm_client, num_paraphrases)
            atomic_write_bytes(llm_path, _dumps(llm).encode())
        instr_prov.update(client=cfg['client'],
                          paraphrases={k: v['paraphrases'] for k, v in llm.items()})
    else:
        instr_prov.update(operators='motionkit.synthmotion.edits.EDIT_OPERATORS')
    builder = _Builder(out, cfg, source_root, model, exact, file_entries, llm)
    if len(builder.ids) != num_motions:
        raise RuntimeError(f'{source_root}: programs.jsonl lists {len(builder.ids)} motions, expected '
                           f'{num_motions}')
    triplets = [t for records in build.items('items', num_motions, builder.build_source, progress,
                                             'CigTime triplets') for t in records]
    atomic_write_bytes(out / 'triplets.jsonl', ''.join(_dumps(t) + '\n' for t in triplets).encode())
    for name in ('Mean.npy', 'Std.npy'):
        atomic_save_npy(out / name, np.load(source_root / name))
    counts = {s: sum(t['split'] == s for t in triplets) for s in ('train', 'val', 'test')}
    counts['sources_without_triplet'] = num_motions - len({t['source_id'] for t in triplets})
    # how many held-out instructions a model could copy from the training set (issue #18, item 3)
    from motionkit.synthmotion.synthmotion_exact_editor import normalize_instruction
    seen = {normalize_instruction(i) for t in triplets if t['split'] == 'train' for i in t['instructions']}
    phrasing = dict(distinct_train_instructions=len(seen))
    for split in ('val', 'test'):
        refs = [normalize_instruction(t['instruction']) for t in triplets if t['split'] == split]
        phrasing[f'{split}_seen_in_train'] = (sum(r in seen for r in refs) / len(refs)) if refs else None
    source_manifest = json.loads((source_root / 'manifest.json').read_text())
    manifest = dict(
        name='CigTimeTriplets', version=CIGTIME_TRIPLETS_VERSION, counts=counts, phrasing=phrasing,
        feature_encoding=builder.rep.encoding_record(),
        provenance=dict(
            source=dict(type='SynthMotion', path=str(Path(source_root).resolve()), config=source_cfg,
                        config_hash=config_hash(source_cfg),
                        manifest_config_hash=source_manifest.get('config_hash')),
            editor=editor_prov, instructions=instr_prov),
        note='Corrective triplets (CigTime, Fang et al. 2024) over SynthMotion, a procedurally generated '
             'motion dataset; see docs/cigtime_data.md.')
    build.finish(manifest)
    return out
