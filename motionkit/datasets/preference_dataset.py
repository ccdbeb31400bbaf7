"""``PreferenceDataset``: (prompt, chosen motion, rejected motion) pairs for preference fine-tuning.

AToM (Han et al., CVPR 2025) fine-tunes a text-to-motion language model on MotionPrefer pairs:
for one text prompt, two generated motions scored by a VLM, the better one "chosen". Motions are
motion-tokenizer code ids (what ``MotionLanguageModel.motion_text`` writes as the response).

Pairs file (JSON lines, UTF-8; blank lines are skipped)::

    {"id": "temporal-000017",                 # optional str, unique; default "<file name>:<line>"
     "prompt": "a person walks forward, then jumps",   # required non-empty str (the text prompt)
     "chosen": [12, 7, 7, 301],                # required non-empty list of int >= 0 (code ids)
     "rejected": [12, 40, 2],                  # required, as chosen, and not equal to it
     "scores": {"chosen": 0.9, "rejected": 0.2},   # optional numbers; chosen >= rejected
     "subtask": "temporal",                    # optional str (AToM: integrity / temporal / location)
     "chosen_id": "m-0081", "rejected_id": "m-0082",   # optional ids of the generated motions
     "split": "train"}                         # optional str; the ``split`` argument selects on it

A malformed row raises an error naming the file and line. Pairs whose chosen or rejected motion has
more than ``max_motion_tokens`` codes (the model could not score them without cutting them) and
pairs with identical motions (no preference to learn) are skipped and counted in
``filter_stats``, which is also logged.
"""
from __future__ import annotations

import json
import numbers
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from motionkit.registry import DATASETS, FUNCTIONS

__all__ = ['PreferenceDataset', 'preference_collate', 'read_preference_pairs']

_REQUIRED = ('prompt', 'chosen', 'rejected')


def _check_codes(value, key: str, where: str, codebook_size: Optional[int]) -> List[int]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f'{where}: {key!r} must be a non-empty list of int motion-token ids, got '
                         f'{str(value)[:80]}')
    low, high = min(value), max(value)
    if low < 0 or (codebook_size is not None and high >= codebook_size):
        bound = '' if codebook_size is None else f' and < codebook_size={codebook_size}'
        raise ValueError(f'{where}: {key!r} has token id {low if low < 0 else high}; ids must be >= 0{bound}')
    return list(value)


def read_preference_pairs(path: str, codebook_size: Optional[int] = None) -> List[dict]:
    """Parse and check every row of a pairs file (format in the module docstring).

    Returns one dict per row with the keys of the format (``id`` filled in, ``scores`` as
    ``dict(chosen, rejected)`` or None) and ``line`` (1-based line number).

    Raises:
        FileNotFoundError: no such file.
        ValueError / KeyError: a row is not JSON, lacks a key, has a wrong type, token ids out of
            range, a chosen score below the rejected one, or a duplicate id (file and line named).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'PreferenceDataset: pairs file not found: {path}')
    rows, seen = [], {}
    name = osp.basename(path)
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f'{path}, line {line_no}'
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{where}: invalid JSON: {err}') from None
            if not isinstance(rec, dict):
                raise ValueError(f'{where}: expected a JSON object, got {type(rec).__name__}')
            missing = [k for k in _REQUIRED if k not in rec]
            if missing:
                raise KeyError(f'{where}: the pair lacks keys {missing} (has {sorted(rec)})')
            if not isinstance(rec['prompt'], str) or not rec['prompt'].strip():
                raise ValueError(f'{where}: "prompt" must be a non-empty string, got {rec["prompt"]!r}')
            chosen = _check_codes(rec['chosen'], 'chosen', where, codebook_size)
            rejected = _check_codes(rec['rejected'], 'rejected', where, codebook_size)
            pair_id = rec.get('id', f'{name}:{line_no}')
            if not isinstance(pair_id, str):
                raise ValueError(f'{where}: "id" must be a string, got {pair_id!r}')
            if pair_id in seen:
                raise ValueError(f'{where}: duplicate pair id {pair_id!r} (first on line {seen[pair_id]})')
            seen[pair_id] = line_no
            scores = rec.get('scores')
            if scores is not None:
                if (not isinstance(scores, dict) or set(scores) != {'chosen', 'rejected'}
                        or not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                   for v in scores.values())):
                    raise ValueError(f'{where}: "scores" must be {{"chosen": number, "rejected": number}}, '
                                     f'got {scores!r}')
                if scores['chosen'] < scores['rejected']:
                    raise ValueError(f'{where}: the chosen motion scores {scores["chosen"]} below the '
                                     f'rejected one ({scores["rejected"]}); chosen must be the preferred one')
                scores = dict(chosen=float(scores['chosen']), rejected=float(scores['rejected']))
            for key in ('subtask', 'chosen_id', 'rejected_id', 'split'):
                if rec.get(key) is not None and not isinstance(rec[key], str):
                    raise ValueError(f'{where}: {key!r} must be a string, got {rec[key]!r}')
            rows.append(dict(id=pair_id, prompt=rec['prompt'], chosen=chosen, rejected=rejected,
                             scores=scores, subtask=rec.get('subtask'), chosen_id=rec.get('chosen_id'),
                             rejected_id=rec.get('rejected_id'), split=rec.get('split'), line=line_no))
    return rows


@DATASETS.register_module()
class PreferenceDataset(BaseDataset):
    """Preference pairs over motion-token sequences (AToM's MotionPrefer), one item per pair.

    Each item is ``dict(pair_id, prompt, chosen, rejected, scores, subtask, chosen_id,
    rejected_id, split, line)`` (``chosen`` / ``rejected``: lists of code ids); the pipeline, if
    any, receives it. Batch with ``collate_fn=dict(type='motionkit.preference_collate')``.

    Args:
        ann_file: the pairs file (JSON lines; format in the module docstring), absolute or under
            ``data_root``.
        split: keep only rows whose ``split`` equals this; ``None`` keeps every row.
        subtasks: keep only these subtasks (others are counted in ``filter_stats``); ``None``
            keeps all.
        max_motion_tokens: longest chosen / rejected motion in codes that the model can score
            whole; longer pairs are skipped and counted (``'too_long'``). ``None``: no limit.
        codebook_size: when given, token ids must be below it (an error otherwise).
        pipeline, test_mode, data_root, ...: as in :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset_name='MotionPreferencePairs')

    def __init__(self,
                 ann_file: str,
                 split: Optional[str] = None,
                 subtasks: Optional[Sequence[str]] = None,
                 max_motion_tokens: Optional[int] = None,
                 codebook_size: Optional[int] = None,
                 pipeline: Optional[list] = None,
                 data_root: str = '',
                 test_mode: bool = False,
                 **kwargs) -> None:
        if max_motion_tokens is not None and int(max_motion_tokens) < 1:
            raise ValueError(f'PreferenceDataset: max_motion_tokens must be >= 1, got {max_motion_tokens}')
        if subtasks is not None and (isinstance(subtasks, str) or not subtasks):
            raise ValueError(f'PreferenceDataset: subtasks must be a non-empty list of names, got {subtasks!r}')
        self.split = split
        self.subtasks = None if subtasks is None else tuple(subtasks)
        self.max_motion_tokens = None if max_motion_tokens is None else int(max_motion_tokens)
        self.codebook_size = None if codebook_size is None else int(codebook_size)
        self.filter_stats: dict = {}
        super().__init__(ann_file=osp.expanduser(ann_file), data_root=data_root, pipeline=pipeline or [],
                         test_mode=test_mode, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Rows of the split that pass the filters; the skipped ones are counted and logged."""
        counts = dict(other_split=0, other_subtask=0, too_long=0, identical=0)
        data_list = []
        rows = read_preference_pairs(self.ann_file, self.codebook_size)
        for row in rows:
            if self.split is not None and row['split'] != self.split:
                counts['other_split'] += 1
                continue
            if self.subtasks is not None and row['subtask'] not in self.subtasks:
                counts['other_subtask'] += 1
                continue
            if self.max_motion_tokens is not None and max(len(row['chosen']),
                                                          len(row['rejected'])) > self.max_motion_tokens:
                counts['too_long'] += 1
                continue
            if row['chosen'] == row['rejected']:
                counts['identical'] += 1
                continue
            item = dict(row)
            item['pair_id'] = item.pop('id')
            data_list.append(item)
        self.filter_stats = {k: v for k, v in counts.items() if v}
        if counts['too_long'] or counts['identical']:
            print_log(f'PreferenceDataset: {self.ann_file}: kept {len(data_list)} of {len(rows)} pairs; '
                      f'skipped {counts["too_long"]} with a motion longer than max_motion_tokens='
                      f'{self.max_motion_tokens} and {counts["identical"]} with identical motions',
                      logger='current', level=30)
        if not data_list:
            raise ValueError(f'PreferenceDataset: no pair left in {self.ann_file} (split={self.split!r}, '
                             f'subtasks={self.subtasks}; {len(rows)} rows, skipped: {self.filter_stats})')
        return data_list


@FUNCTIONS.register_module()
def preference_collate(data_batch: Sequence[dict]) -> dict:
    """Batch :class:`PreferenceDataset` items for ``MotionPreferenceModel``.

    In a config: ``collate_fn=dict(type='motionkit.preference_collate')``.

    Returns:
        ``dict(inputs=dict(prompts=[B str], chosen=[B list[int]], rejected=[B list[int]]),
        data_samples=[B dict(pair_id, subtask, scores, chosen_id, rejected_id)])``.
    """
    if len(data_batch) == 0:
        raise ValueError('preference_collate: empty batch')
    prompts, chosen, rejected, samples = [], [], [], []
    for i, item in enumerate(data_batch):
        missing = [k for k in ('prompt', 'chosen', 'rejected') if not isinstance(item, dict) or k not in item]
        if missing:
            raise TypeError(f'preference_collate: item {i} must be a PreferenceDataset item with prompt, '
                            f'chosen and rejected; lacks {missing}')
        prompts.append(item['prompt'])
        chosen.append(list(item['chosen']))
        rejected.append(list(item['rejected']))
        samples.append({k: item.get(k) for k in ('pair_id', 'subtask', 'scores', 'chosen_id', 'rejected_id')})
    return dict(inputs=dict(prompts=prompts, chosen=chosen, rejected=rejected), data_samples=samples)
