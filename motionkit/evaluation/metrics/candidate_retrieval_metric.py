"""Retrieval from per-query candidate scores (ExpertAF's expert-demonstration retrieval, eq. 2)."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from ..functional.retrieval import median_rank, retrieval_recall
from ._fields import get_field, to_numpy
from ._presets import resolve_preset
from .retrieval_metric import RETRIEVAL_PRESETS


@METRICS.register_module()
class CandidateRetrievalMetric(BaseMetric):
    """Recall@k and median rank when the model scores the candidates itself.

    :class:`RetrievalMetric` ranks by the cosine of embedding pairs; ExpertAF's ``F_r`` instead
    scores every candidate of a pool by a log-likelihood (higher = better). Each data sample
    carries its row of scores over the same candidate pool (``score_key``, ``(N_pool,)``) and the
    index of its correct candidate (``index_key``). The ``expertaf`` preset reports recall@50 and
    the median rank over a pool the size of the test set; ties are averaged (as
    :func:`~motionkit.evaluation.functional.retrieval_ranks`).

    Output keys (prefix ``retrieval``): ``R{k:02d}`` (fractions), ``MedR`` and ``pool_size``.
    """

    default_prefix = 'retrieval'

    def __init__(self, preset: str = 'expertaf', ks: Optional[Sequence[int]] = None,
                 score_key: str = 'pred_retrieval_scores', index_key: str = 'gt_candidate_index',
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        overrides = {} if ks is None else dict(ks=tuple(int(k) for k in ks))
        self.cfg = resolve_preset('retrieval', RETRIEVAL_PRESETS, preset, overrides)
        self.score_key, self.index_key = score_key, index_key

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            scores = to_numpy(get_field(sample, self.score_key, 'CandidateRetrievalMetric'),
                              self.score_key).reshape(-1)
            index = int(get_field(sample, self.index_key, 'CandidateRetrievalMetric'))
            if not 0 <= index < len(scores):
                raise ValueError(f'CandidateRetrievalMetric: {self.index_key}={index} is outside the '
                                 f'pool of {len(scores)} candidates')
            self.results.append((scores, index))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('CandidateRetrievalMetric: no scores were collected')
        sizes = {len(s) for s, _ in results}
        if len(sizes) != 1:
            raise ValueError(f'CandidateRetrievalMetric: queries were scored over pools of different '
                             f'sizes {sorted(sizes)}')
        sim = np.stack([s for s, _ in results])
        gt = np.array([i for _, i in results])
        out = {f'R{k:02d}': v for k, v in retrieval_recall(sim, self.cfg['ks'], gt_index=gt).items()}
        out['MedR'] = median_rank(sim, gt_index=gt)
        out['pool_size'] = float(sim.shape[1])
        return out
