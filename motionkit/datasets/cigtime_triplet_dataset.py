"""CigTime corrective triplets: (source motion, corrective instruction, target motion).

Reads the folder written by :func:`motionkit.datagen.build_cigtime_triplets` (layout in
``docs/cigtime_data.md``)::

    manifest.json            name 'CigTimeTriplets', builder config, provenance, counts
    Mean.npy Std.npy         (263,) feature statistics copied from the source dataset
    triplets.jsonl           one triplet per line (id, split, source_id, instruction(s), body part,
                             edited joints, editor, edit, file paths, source / target captions)
    vecs/<id>_{source,target}.npy     (T - 1, 263) float32 raw HumanML3D features
    joints/<id>_{source,target}.npy   (T, 22, 3) float32 t2m22 joints

Every item carries the HumanML3D keys (``motion_path`` = target features, ``joints_path`` =
target joints, ``texts`` = the instructions as captions, ...) so the whole HumanML3D pipeline
(``LoadMotion``, ``SampleCaption``, ``CropMotion``, ``NormalizeMotion``, ``PackMotionInputs``) trains
an instruction-conditioned generator on (target motion, instruction) unchanged, plus the pair keys
that ``LoadMotionPair`` / ``PackMotionPairInputs`` read.
"""
from __future__ import annotations

import json
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from motionkit.motion.statistics import load_mean_std
from motionkit.registry import DATASETS
from motionkit.structures.edit_request import format_edit_text, with_body_part

__all__ = ['CigTimeTripletDataset', 'read_triplet_manifest', 'TRIPLET_SPLITS']

TRIPLET_SPLITS = ('train', 'val', 'test')
BODY_PARTS = ('upper_body', 'lower_body', 'whole_body')
_REQUIRED_KEYS = ('id', 'split', 'source_id', 'instruction', 'instructions', 'body_part',
                  'edited_joints', 'source_vecs', 'target_vecs', 'source_joints', 'target_joints')


def read_triplet_manifest(data_root: str) -> dict:
    """Read and check ``<data_root>/manifest.json`` of a triplet folder.

    Raises:
        FileNotFoundError: the folder or its manifest is missing (an unfinished build has no
            manifest: its items are still under ``.partial/``).
        ValueError: the manifest is not valid JSON or not a CigTime triplet manifest.
    """
    if not data_root or not osp.isdir(data_root):
        raise FileNotFoundError(f'CigTime triplets: data_root {data_root!r} is not a directory')
    path = osp.join(data_root, 'manifest.json')
    if not osp.isfile(path):
        hint = (' (the build is unfinished: resume it with tools/data/build_cigtime_triplets.py)'
                if osp.isdir(osp.join(data_root, '.partial')) else '')
        raise FileNotFoundError(f'CigTime triplets: {path} not found{hint}')
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'CigTime triplets: {path} is not valid JSON: {err}') from None
    if not isinstance(manifest, dict) or manifest.get('name') != 'CigTimeTriplets':
        name = manifest.get('name') if isinstance(manifest, dict) else type(manifest).__name__
        raise ValueError(f"CigTime triplets: {path} has name {name!r}, expected "
                         "'CigTimeTriplets' (is this a triplet folder?)")
    return manifest


def _npy_shape(path: str) -> tuple:
    """Shape of an ``.npy`` file from its header (no data read)."""
    try:
        return tuple(np.load(path, mmap_mode='r').shape)
    except FileNotFoundError:
        raise FileNotFoundError(f'CigTime triplets: file not found: {path}') from None
    except ValueError as err:
        raise ValueError(f'CigTime triplets: cannot read {path}: {err}') from err


@DATASETS.register_module()
class CigTimeTripletDataset(BaseDataset):
    """Corrective-instruction triplets of CigTime (Fang et al., 2024) from a triplet folder.

    Each item (``get_data_info``) holds

    * HumanML3D keys: ``motion_id`` / ``sample_id`` (triplet id), ``motion_path`` (target
      features ``(T - 1, 263)``), ``joints_path`` (target joints ``(T, 22, 3)``), ``texts`` (one
      ``dict(caption, tokens=[], start=0.0, end=0.0)`` per instruction), ``start_frame`` (0),
      ``end_frame`` / ``length`` (target feature frames), ``feature_dim`` (263), ``num_joints``
      (22), ``fps``, ``skeleton``, ``representation``, ``dataset_name``, ``mean_path``,
      ``std_path``;
    * pair keys: ``source_motion_path``, ``source_joints_path``, ``source_length``,
      ``target_length``, ``instruction`` (str), ``instructions`` (list[str], the used one first),
      ``body_part``, ``edited_joints``, ``triplet_id``, ``source_id``, ``edit``, ``editor``,
      ``source_captions``, ``target_captions``, ``data_root``.

    Args:
        data_root: The triplet folder.
        split: ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        instruction_mode: ``'all'``: every paraphrase is a caption of the target (``texts``);
            ``'first'``: only the instruction the triplet was built with.
        text_template: How each target caption (``texts``) is written from an instruction:
            ``'{instruction}'`` (default, CigTime's editor prompt) or with ``{source_caption}``
            too (e.g. ``'{source_caption} {instruction}'``: one text per instruction and source
            caption), for an editor told what the source does as well as what to change.
        min_motion_length: Shortest target kept, in feature frames (items below it are dropped
            and counted in ``filter_stats``); ``None`` keeps everything.
        body_part_prefix: Write ``instruction`` / ``instructions`` (and the ``texts`` made from
            them) as CigTime's instructions read: opening with the body part
            (``'Upper body: raise your arms higher'``, :func:`~motionkit.structures.with_body_part`),
            so a model that generates instructions also says which part to edit and the
            reconstruction metric parses it from the generated text. ``False`` (the editors'
            training text) keeps the bare instruction.
        body_parts: Keep only triplets of these body parts (e.g. ``('upper_body',
            'lower_body')`` for a body-part editor, which never edits the whole body); the others
            are counted in ``filter_stats``. ``None`` keeps every body part.
        pipeline, test_mode, metainfo, ...: as in :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset_name='CigTimeTriplets', fps=20, skeleton='t2m22',
                    representation='HumanML3DFeatures', feature_dim=263, num_joints=22)

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Optional[list] = None,
                 instruction_mode: str = 'all',
                 text_template: str = '{instruction}',
                 min_motion_length: Optional[int] = None,
                 body_parts: Optional[Sequence[str]] = None,
                 body_part_prefix: bool = False,
                 metainfo: Optional[dict] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if split not in TRIPLET_SPLITS + ('all', ):
            raise ValueError(f'CigTimeTripletDataset: split must be one of '
                             f"{TRIPLET_SPLITS + ('all', )}, got {split!r}")
        if instruction_mode not in ('all', 'first'):
            raise ValueError("CigTimeTripletDataset: instruction_mode must be 'all' or 'first', "
                             f'got {instruction_mode!r}')
        # absolute, so that BaseDataset does not join the (already rooted) file paths again
        data_root = osp.abspath(osp.expanduser(data_root))
        self.manifest = read_triplet_manifest(data_root)
        self.split = split
        self.instruction_mode = instruction_mode
        try:
            text_template.format(instruction='', source_caption='')
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f'CigTimeTripletDataset: text_template {text_template!r} may only use '
                             '{instruction} and {source_caption}') from e
        if '{instruction}' not in text_template:
            raise ValueError(f'CigTimeTripletDataset: text_template {text_template!r} lacks '
                             '{instruction}')
        self.text_template = text_template
        self.min_motion_length = min_motion_length
        if body_parts is not None:
            if isinstance(body_parts, str) or not body_parts or any(p not in BODY_PARTS for p in body_parts):
                raise ValueError(f'CigTimeTripletDataset: body_parts must be a non-empty list of '
                                 f'{BODY_PARTS}, got {body_parts!r}')
            body_parts = tuple(body_parts)
        self.body_parts = body_parts
        self.body_part_prefix = bool(body_part_prefix)
        self.filter_stats: dict = {}
        ann_file = osp.join(data_root, 'triplets.jsonl')
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'CigTimeTripletDataset: {ann_file} not found')
        stats_paths = dict(mean_path=osp.join(data_root, 'Mean.npy'),
                           std_path=osp.join(data_root, 'Std.npy'))
        meta = dict(metainfo or {})
        load_mean_std(stats_paths['mean_path'], stats_paths['std_path'],
                      meta.get('feature_dim', self.METAINFO['feature_dim']))
        # ann_file is absolute so BaseDataset does not join it with data_root again; the
        # statistics paths join the metainfo after BaseDataset.__init__ (its metainfo parser
        # would try to read string values as files).
        super().__init__(ann_file=ann_file, metainfo=meta, data_root=data_root,
                         pipeline=pipeline or [], test_mode=test_mode, **kwargs)
        self._metainfo.update(stats_paths)

    def _check_record(self, rec: dict, line_no: int) -> None:
        where = f'{self.ann_file}, line {line_no}'
        if not isinstance(rec, dict):
            raise ValueError(f'{where}: expected a JSON object, got {type(rec).__name__}')
        missing = [k for k in _REQUIRED_KEYS if k not in rec]
        if missing:
            raise KeyError(f'{where}: triplet {rec.get("id", "?")!r} lacks keys {missing}')
        if rec['split'] not in TRIPLET_SPLITS:
            raise ValueError(f'{where}: split {rec["split"]!r} is not one of {TRIPLET_SPLITS}')
        if rec['body_part'] not in BODY_PARTS:
            raise ValueError(f'{where}: body_part {rec["body_part"]!r} is not one of {BODY_PARTS}')
        if not isinstance(rec['instructions'], list) or not rec['instructions']:
            raise ValueError(f'{where}: instructions must be a non-empty list of str')

    def _texts(self, instructions: List[str], source_captions: List[str], triplet: str) -> List[str]:
        if '{source_caption}' not in self.text_template:
            return [self.text_template.format(instruction=i) for i in instructions]
        if not source_captions:
            raise KeyError(f'CigTimeTripletDataset: text_template {self.text_template!r} needs '
                           f'source captions, but triplet {triplet!r} has none')
        return [format_edit_text(self.text_template, i, c)
                for i in instructions for c in source_captions]

    def load_data_list(self) -> List[dict]:
        """One entry per triplet of the split; file shapes are checked from the ``.npy`` headers."""
        root = self.data_root
        dim = self._metainfo['feature_dim']
        nj = self._metainfo['num_joints']
        data_list, seen = [], set()
        too_short = other_part = 0
        with open(self.ann_file, encoding='utf-8') as f:
            lines = f.readlines()
        for line_no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{self.ann_file}, line {line_no}: invalid JSON: {err}') from None
            self._check_record(rec, line_no)
            if rec['id'] in seen:
                raise ValueError(f'{self.ann_file}, line {line_no}: duplicate triplet id '
                                 f'{rec["id"]!r}')
            seen.add(rec['id'])
            if self.split != 'all' and rec['split'] != self.split:
                continue
            if self.body_parts is not None and rec['body_part'] not in self.body_parts:
                other_part += 1
                continue
            paths = {k: osp.join(root, rec[k]) for k in ('source_vecs', 'target_vecs',
                                                          'source_joints', 'target_joints')}
            shapes = {k: _npy_shape(p) for k, p in paths.items()}
            for side in ('source', 'target'):
                vs, js = shapes[f'{side}_vecs'], shapes[f'{side}_joints']
                if len(vs) != 2 or vs[1] != dim:
                    raise ValueError(f'CigTimeTripletDataset: {paths[f"{side}_vecs"]}: expected '
                                     f'(T - 1, {dim}) features, got shape {vs}')
                if len(js) != 3 or js[1:] != (nj, 3):
                    raise ValueError(f'CigTimeTripletDataset: {paths[f"{side}_joints"]}: '
                                     f'expected (T, {nj}, 3) joints, got shape {js}')
                if js[0] != vs[0] + 1:
                    raise ValueError(
                        f'CigTimeTripletDataset: triplet {rec["id"]!r}: {paths[f"{side}_joints"]} '
                        f'has {js[0]} frames but {paths[f"{side}_vecs"]} has {vs[0]} (expected '
                        f'joints = features + 1)')
            length = shapes['target_vecs'][0]
            if self.min_motion_length is not None and length < self.min_motion_length:
                too_short += 1
                continue
            instructions = list(rec['instructions'])
            used = rec['instruction']
            if self.body_part_prefix:
                instructions = [with_body_part(rec['body_part'], i) for i in instructions]
                used = with_body_part(rec['body_part'], used)
            captions = [used] if self.instruction_mode == 'first' else instructions
            captions = self._texts(captions, list(rec.get('source_captions') or []), rec['id'])
            data_list.append(dict(
                motion_id=rec['id'], sample_id=rec['id'], triplet_id=rec['id'],
                motion_path=paths['target_vecs'], joints_path=paths['target_joints'],
                source_motion_path=paths['source_vecs'], source_joints_path=paths['source_joints'],
                texts=[dict(caption=c, tokens=[], start=0.0, end=0.0) for c in captions],
                start_frame=0, end_frame=length, length=length, target_length=length,
                source_length=shapes['source_vecs'][0], instruction=used,
                instructions=instructions, body_part=rec['body_part'],
                edited_joints=list(rec['edited_joints']), source_id=rec['source_id'],
                edit=rec.get('edit'), editor=rec.get('editor'), split=rec['split'],
                source_captions=list(rec.get('source_captions') or []),
                target_captions=list(rec.get('target_captions') or []), data_root=root))
        self.filter_stats = {k: v for k, v in (('motion_too_short', too_short),
                                               ('other_body_part', other_part)) if v}
        if not data_list:
            raise ValueError(f'CigTimeTripletDataset: no triplet of split {self.split!r} in '
                             f'{self.ann_file} (counts in the manifest: '
                             f'{self.manifest.get("counts")}; dropped: {self.filter_stats})')
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The idx-th entry plus the metainfo the transforms use."""
        info = super().get_data_info(idx)
        for key in ('dataset_name', 'fps', 'skeleton', 'representation', 'feature_dim',
                    'num_joints', 'mean_path', 'std_path'):
            if key in self._metainfo:
                info.setdefault(key, self._metainfo[key])
        if self.min_motion_length is not None:
            info.setdefault('min_motion_length', self.min_motion_length)
        return info
