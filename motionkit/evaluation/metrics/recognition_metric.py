"""Action recognition: top-k accuracy, multi-label mAP, head/medium/tail accuracy."""
import warnings
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from ..functional import bucket_accuracy, mean_average_precision, multilabel_top1_hit, top_k_accuracy
from ._fields import get_field, to_numpy
from ._presets import resolve_preset

RECOGNITION_PRESETS: Dict[str, Dict[str, Any]] = {
    # Single-label top-1 / top-5 (NTU, BABEL-60/120 tables).
    'default': dict(topk=(1, 5), multi_label=False, bucket_fractions=None),
    # Long-tail reporting: head / medium / tail = the 10% / 30% / 60% of classes ordered by
    # training frequency (needs ``class_counts``).
    'longtail': dict(topk=(1, 5), multi_label=False, bucket_fractions=(0.1, 0.3, 0.6)),
    # Multi-label: mean over classes with positives of sklearn average_precision_score, and the
    # top-1 hit accuracy (the top class is one of the labels; functional.multilabel_top1_hit),
    # per head / medium / tail bucket when class_counts are given.
    'multilabel': dict(topk=(), multi_label=True, bucket_fractions=None),
}


@METRICS.register_module()
class RecognitionMetric(BaseMetric):
    """Classification metrics from ``pred_score`` and ``gt_label`` / ``gt_labels``.

    Args:
        preset: a key of :data:`RECOGNITION_PRESETS`.
        topk: override the preset's cut-offs.
        class_counts: ``(C,)`` training frequency per class (list or ``.npy`` path) for the
            head/medium/tail buckets.
        num_classes: needed for multi-label targets given as class-index lists.

    Output keys (prefix ``recognition``): ``top1``, ``top5``, ``mAP``, ``head_acc``,
    ``medium_acc``, ``tail_acc``. With multi-label targets ``top1`` is the top-1 hit accuracy and
    the bucket accuracies count a hit within the bucket (:func:`multilabel_top1_hit`).
    """

    default_prefix = 'recognition'

    def __init__(self,
                 preset: str = 'default',
                 topk: Optional[Sequence[int]] = None,
                 class_counts: Optional[Union[Sequence[int], str]] = None,
                 num_classes: Optional[int] = None,
                 bucket_average: str = 'sample',
                 score_key: str = 'pred_score',
                 label_keys: Sequence[str] = ('gt_label', ),
                 multi_label_key: str = 'gt_labels',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        cfg = resolve_preset('recognition', RECOGNITION_PRESETS, preset,
                             {} if topk is None else dict(topk=tuple(topk)))
        self.cfg = cfg
        if isinstance(class_counts, str):
            class_counts = np.load(class_counts)
        self.class_counts = None if class_counts is None else np.asarray(class_counts)
        if self.class_counts is not None and cfg['bucket_fractions'] is None:
            cfg['bucket_fractions'] = (0.1, 0.3, 0.6)  # class_counts given: report the buckets
        if cfg['bucket_fractions'] is not None and self.class_counts is None:
            raise ValueError(f'preset {preset!r} reports head/medium/tail accuracy: pass '
                             'class_counts (training samples per class)')
        self.num_classes = num_classes
        self.bucket_average = bucket_average
        self.score_key = score_key
        self.label_keys = list(label_keys)
        self.multi_label_key = multi_label_key

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = to_numpy(get_field(sample, self.score_key, 'RecognitionMetric'),
                             self.score_key).reshape(-1)
            if self.cfg['multi_label']:
                labels = to_numpy(get_field(sample, self.multi_label_key, 'RecognitionMetric'),
                                  self.multi_label_key).reshape(-1).astype(np.int64)
                target = np.zeros(score.shape[0], dtype=np.int64)
                if labels.size and (labels.min() < 0 or labels.max() >= score.shape[0]):
                    raise ValueError(f'RecognitionMetric: labels {labels.tolist()} outside '
                                     f'[0, {score.shape[0]})')
                target[labels] = 1
                self.results.append((score, target))
            else:
                label = to_numpy(get_field(sample, self.label_keys, 'RecognitionMetric'),
                                 'label').reshape(-1)
                if label.size != 1:
                    raise ValueError(f'RecognitionMetric: expected one label, got {label}; use '
                                     "preset='multilabel' for multi-label data")
                self.results.append((score, int(label[0])))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('RecognitionMetric: no predictions were collected')
        sizes = {r[0].shape[0] for r in results}
        if len(sizes) != 1:
            raise ValueError(f'RecognitionMetric: score vectors have different sizes {sizes}')
        scores = np.stack([r[0] for r in results])
        out: Dict[str, float] = {}
        if self.cfg['multi_label']:
            targets = np.stack([r[1] for r in results])
            empty = int((targets.sum(0) == 0).sum())
            if empty:
                warnings.warn(f'RecognitionMetric: {empty} classes have no positive test sample '
                              'and are left out of mAP')
            out['mAP'] = mean_average_precision(scores, targets)
            fractions = self.cfg['bucket_fractions'] or (0.1, 0.3, 0.6)
            hits = multilabel_top1_hit(scores, targets, self.class_counts, tuple(fractions))
            out['top1'] = hits.pop('top1')
            for name, acc in hits.items():
                out[f'{name}_acc'] = acc
            return out
        labels = np.array([r[1] for r in results])
        for k, acc in top_k_accuracy(scores, labels, self.cfg['topk']).items():
            out[f'top{k}'] = acc
        if self.cfg['bucket_fractions'] is not None:
            accs = bucket_accuracy(scores, labels, self.class_counts,
                                   tuple(self.cfg['bucket_fractions']), self.bucket_average)
            for name, acc in accs.items():
                out[f'{name}_acc'] = acc
        return out
