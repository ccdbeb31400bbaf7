"""How much of the generated text is copied verbatim from the training references?

A model that has memorised the training instructions can score well on BLEU / METEOR by picking the
training string of the right edit, if the test references are training strings too. This metric
reports the share of predictions that are verbatim training references (and of the references
themselves: 0 when test phrasings are held out), so a reader sees whether a text score rewards
generation or selection (issue #18).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from motionkit.structures.edit_request import parse_body_part
from ..functional.text import normalize_text
from ._fields import get_field

__all__ = ['InstructionNoveltyMetric']


@METRICS.register_module()
class InstructionNoveltyMetric(BaseMetric):
    """Share of generated instructions that are verbatim training references.

    Args:
        train_ann_file: jsonl of the training records (a CigTime ``triplets.jsonl``).
        fields: record fields holding reference texts (str or list of str).
        splits: keep records whose ``split`` is one of these (``None``: every record).
        pred_key, gt_key: fields of the generated text and of the reference.

    Texts are compared lower-cased, punctuation stripped, without a leading "X body:".

    Output keys (prefix ``novelty``): ``verbatim_copy`` (predictions that are a training
    reference), ``reference_in_train`` (references that are one), ``distinct`` (distinct
    predictions / predictions).
    """

    default_prefix = 'novelty'

    def __init__(self, train_ann_file: str, fields: Sequence[str] = ('instructions', ),
                 splits: Optional[Sequence[str]] = ('train', ), pred_key: str = 'pred_instruction',
                 gt_key: str = 'gt_instruction', collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.train_ann_file = train_ann_file
        self.fields = tuple(fields)
        self.splits = None if splits is None else set(splits)
        self.pred_key, self.gt_key = pred_key, gt_key
        self._seen: Optional[set] = None

    @staticmethod
    def _key(text: str) -> str:
        return normalize_text(parse_body_part(text)[1])

    def seen(self) -> set:
        """The normalised training references (read once)."""
        if self._seen is None:
            if not osp.isfile(self.train_ann_file):
                raise FileNotFoundError(f'InstructionNoveltyMetric: train_ann_file not found: {self.train_ann_file}')
            seen = set()
            with open(self.train_ann_file, encoding='utf-8') as f:
                for line_no, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError as err:
                        raise ValueError(f'{self.train_ann_file}, line {line_no}: invalid JSON: {err}') from None
                    if self.splits is not None and rec.get('split') not in self.splits:
                        continue
                    for field in self.fields:
                        value = rec.get(field)
                        for text in ([value] if isinstance(value, str) else value or []):
                            seen.add(self._key(text))
            if not seen:
                raise ValueError(f'InstructionNoveltyMetric: {self.train_ann_file} holds no {self.fields} '
                                 f'text of splits {sorted(self.splits) if self.splits else "any"}')
            self._seen = seen
        return self._seen

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        seen = self.seen()
        for sample in data_samples:
            pred = get_field(sample, self.pred_key, 'InstructionNoveltyMetric')
            ref = get_field(sample, self.gt_key, 'InstructionNoveltyMetric')
            ref = ref if isinstance(ref, str) else str(list(ref)[0])
            key = self._key(str(pred))
            self.results.append(dict(pred=key, copy=key in seen, ref_seen=self._key(ref) in seen))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('InstructionNoveltyMetric: no predictions were collected')
        return dict(verbatim_copy=float(np.mean([r['copy'] for r in results])),
                    reference_in_train=float(np.mean([r['ref_seen'] for r in results])),
                    distinct=len({r['pred'] for r in results}) / len(results))
