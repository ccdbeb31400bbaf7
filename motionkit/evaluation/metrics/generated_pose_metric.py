"""PA-MPJPE of generated poses, with the share of well-formed pose token streams (ExpertAF)."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from motionkit.registry import METRICS
from ._fields import get_field
from .joint_error_metric import JointErrorMetric


@METRICS.register_module()
class GeneratedPoseMetric(JointErrorMetric):
    """ExpertAF table 1 pose error: PA-MPJPE in millimetres between the generated expert pose
    ``pred_expert_joints`` ``(F, 17, 3)`` and the expert's ``gt_expert_joints``, every frame
    weighing the same (:class:`JointErrorMetric`, :func:`~motionkit.evaluation.functional.pa_mpjpe`).

    A generated token stream can be ill-formed; the model repairs it with a fixed rule
    (:func:`~motionkit.models.llm_heads.parse_pose_stream`) and records what it did in
    ``stream_key``. Repaired and fallback samples are scored like the others (nothing is dropped)
    and this metric also reports ``well_formed`` and ``fallback`` (fractions of samples).

    Output keys (prefix ``pose``): ``pa_mpjpe`` (and ``mpjpe`` when asked), ``well_formed``,
    ``fallback``.
    """

    default_prefix = 'pose'

    def __init__(self, metrics: Sequence[str] = ('pa_mpjpe', ), pred_key: str = 'pred_expert_joints',
                 gt_key: str = 'gt_expert_joints', stream_key: str = 'pred_pose_stream',
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(metrics=metrics, average='frame', pred_key=pred_key, gt_key=gt_key,
                         length_key='__no_length__', collect_device=collect_device, prefix=prefix)
        self.stream_key = stream_key

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        start = len(self.results)
        super().process(data_batch, data_samples)
        for entry, sample in zip(self.results[start:], data_samples):
            counts = get_field(sample, self.stream_key, 'GeneratedPoseMetric', required=False) or {}
            entry['well_formed'] = float(counts.get('well_formed', 1))
            entry['fallback'] = float(counts.get('fallback', 0))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        out = super().compute_metrics(results)
        out['well_formed'] = float(np.mean([r['well_formed'] for r in results]))
        out['fallback'] = float(np.mean([r['fallback'] for r in results]))
        return out
