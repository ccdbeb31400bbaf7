"""Does the generated instruction ask for the right edit, whatever its phrasing? (SynthMotion.)

BLEU and METEOR reward shared words, so a test instruction phrased in words no training
instruction uses scores low even when it asks for the right change, and a verbatim training string
of the right edit scores high. On SynthMotion triplets the edit is known (``edit``: the operator
name), and :func:`~motionkit.synthmotion.operators_named` parses which operators an instruction
fills the templates of (order-aware; all phrasings of every split). A prediction is right when the
triplet's operator is among them.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from motionkit.structures.edit_request import parse_body_part
from motionkit.synthmotion.instruction_parser import operators_named
from ._fields import get_field

__all__ = ['EditOperatorAccuracyMetric']


@METRICS.register_module()
class EditOperatorAccuracyMetric(BaseMetric):
    """Share of instructions that name the triplet's SynthMotion edit operator.

    Args:
        pred_key: field of the generated instruction.
        extra_templates: ``{operator: [templates]}`` beyond the operators' own (LLM paraphrases).

    Output keys (prefix ``operator``): ``accuracy`` (all triplets), ``upper_body`` /
    ``lower_body`` / ``whole_body`` (per reference body part, where present), ``named_any``
    (share naming some operator), ``body_part`` (share whose "X body:" opening is the reference
    part; a missing one is wrong).
    """

    default_prefix = 'operator'

    def __init__(self, pred_key: str = 'pred_instruction', extra_templates: Optional[dict] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.pred_key = pred_key
        self.extra_templates = extra_templates

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        name = 'EditOperatorAccuracyMetric'
        for sample in data_samples:
            pred = get_field(sample, self.pred_key, name)
            edit = get_field(sample, 'edit', name)
            part = get_field(sample, 'body_part', name)
            if not isinstance(pred, str):
                raise TypeError(f'{name}: {self.pred_key} must be a str, got {type(pred).__name__}')
            if not edit:
                raise KeyError(f'{name}: sample {get_field(sample, "source_id", name, required=False)!r} has no '
                               'SynthMotion edit operator (edit); this metric needs SynthMotion triplets')
            named = operators_named(pred, self.extra_templates)
            self.results.append(dict(right=edit in named, any=bool(named), part=part,
                                     part_right=parse_body_part(pred)[0] == part))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('EditOperatorAccuracyMetric: no predictions were collected')
        out = dict(accuracy=float(np.mean([r['right'] for r in results])),
                   named_any=float(np.mean([r['any'] for r in results])),
                   body_part=float(np.mean([r['part_right'] for r in results])))
        for part in ('upper_body', 'lower_body', 'whole_body'):
            sel = [r['right'] for r in results if r['part'] == part]
            if sel:
                out[part] = float(np.mean(sel))
        return out
