"""MPJPE / PA-MPJPE over predicted joint positions (e.g. ExpertAF's corrected pose)."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from ..functional import mpjpe, pa_mpjpe
from ._fields import get_field, to_numpy


@METRICS.register_module()
class JointErrorMetric(BaseMetric):
    """Joint position errors in millimetres.

    Args:
        metrics: any of ``'mpjpe'``, ``'pa_mpjpe'``.
        average: ``'frame'`` (every valid frame of every motion weighs the same) or ``'motion'``
            (mean of per-motion means).
        root_index: make MPJPE root-relative by subtracting this joint (``None``: absolute).
        pred_key, gt_key: fields holding ``(T, J, 3)`` joints in metres.
        length_key: metainfo field with the number of valid frames (padding beyond is ignored).

    Output keys (prefix ``joint``): ``mpjpe``, ``pa_mpjpe``.
    """

    default_prefix = 'joint'

    def __init__(self,
                 metrics: Sequence[str] = ('mpjpe', 'pa_mpjpe'),
                 average: str = 'frame',
                 root_index: Optional[int] = None,
                 pred_key: str = 'pred_joints',
                 gt_key: str = 'gt_joints',
                 length_key: str = 'length',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = set(metrics) - {'mpjpe', 'pa_mpjpe'}
        if unknown or not metrics:
            raise ValueError(f"metrics must be a non-empty subset of ('mpjpe', 'pa_mpjpe'), "
                             f'got {metrics}')
        if average not in ('frame', 'motion'):
            raise ValueError(f"average must be 'frame' or 'motion', got {average!r}")
        self.metrics = metrics
        self.average = average
        self.root_index = root_index
        self.pred_key, self.gt_key, self.length_key = pred_key, gt_key, length_key

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = to_numpy(get_field(sample, self.pred_key, 'JointErrorMetric'), self.pred_key)
            gt = to_numpy(get_field(sample, self.gt_key, 'JointErrorMetric'), self.gt_key)
            if pred.ndim == 2:  # a single pose (J, 3)
                pred, gt = pred[None], gt[None]
            length = get_field(sample, self.length_key, 'JointErrorMetric', required=False)
            if length is not None:
                length = int(length)
                if length < 1 or length > min(len(pred), len(gt)):
                    raise ValueError(f'JointErrorMetric: {self.length_key}={length} but the '
                                     f'motions have {len(pred)} / {len(gt)} frames')
                pred, gt = pred[:length], gt[:length]
            # Per-frame errors only: small, picklable, and enough for both averages.
            entry = {}
            if 'mpjpe' in self.metrics:
                entry['mpjpe'] = mpjpe(pred, gt, reduction='per_frame',
                                       root_index=self.root_index).astype(np.float64)
            if 'pa_mpjpe' in self.metrics:
                entry['pa_mpjpe'] = pa_mpjpe(pred, gt, reduction='per_frame').astype(np.float64)
            self.results.append(entry)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('JointErrorMetric: no predictions were collected')
        out = {}
        for name in self.metrics:
            per_frame = [r[name] for r in results]
            if self.average == 'frame':
                out[name] = float(np.concatenate(per_frame).mean())
            else:
                out[name] = float(np.mean([f.mean() for f in per_frame]))
        return out
