"""Text <-> motion (or query <-> candidate) retrieval with the TMR / ExpertAF protocols."""
import warnings
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from ..functional.retrieval import batched_retrieval, cosine_similarity_matrix, directional_metrics
from ._fields import get_field, sample_id, to_numpy
from ._presets import resolve_preset

RETRIEVAL_PRESETS: Dict[str, Dict[str, Any]] = {
    # TMR (Mathux/TMR retrieval.py, src/model/metrics.py): cosine similarity of the latents;
    # R@1/2/3/5/10 and MedR in both directions, ties averaged; protocols (a) all test pairs,
    # (b) near-duplicate texts (sentence-embedding score cos/2+1/2 > 0.95) count as correct,
    # (c) the 100-pair dissimilar subset (``nsim_test.txt`` ids, pass ``subset_ids``),
    # (d) batches of 32 after shuffling the sorted ids with seed 0, averaged.
    'tmr': dict(protocols=('all', 'threshold', 'dissimilar', 'batch32'), ks=(1, 2, 3, 5, 10),
                threshold=0.95, batch_size=32, seed=0, directions=('t2m', 'm2t')),
    # ExpertAF expert-demonstration retrieval: recall@50 and median rank of the matching
    # candidate over the candidate set, query -> candidate only.
    'expertaf': dict(protocols=('all', ), ks=(50, ), threshold=None, batch_size=None, seed=None,
                     directions=('t2m', )),
    'default': dict(protocols=('all', ), ks=(1, 5, 10), threshold=None, batch_size=None,
                    seed=None, directions=('t2m', 'm2t')),
}
_PROTOCOLS = ('all', 'threshold', 'dissimilar', 'batch32')


@METRICS.register_module()
class RetrievalMetric(BaseMetric):
    """Recall@k and median rank from per-sample embedding pairs.

    Each data sample carries a query embedding (``text_key``, e.g. the text latent) and its
    matching candidate (``motion_key``); the threshold protocol also reads a sentence embedding
    (``sentence_key``, TMR: all-mpnet-base-v2 of the text).

    Args:
        preset: a key of :data:`RETRIEVAL_PRESETS`.
        protocols: override: a subset of ``('all', 'threshold', 'dissimilar', 'batch32')``.
        ks: override the recall cut-offs.
        subset_ids: ids of the dissimilar subset (list or a text file, one id per line);
            without it the ``'dissimilar'`` protocol is skipped with a warning.
        id_keys: fields that identify a sample (ordering for ``batch32``, selection for the
            subset).

    Output keys (prefix ``retrieval``): ``{protocol}/{t2m|m2t}/R{k:02d}`` (fractions) and
    ``{protocol}/{t2m|m2t}/MedR``.
    """

    default_prefix = 'retrieval'

    def __init__(self,
                 preset: str = 'default',
                 protocols: Optional[Sequence[str]] = None,
                 ks: Optional[Sequence[int]] = None,
                 subset_ids: Optional[Union[Sequence[str], str]] = None,
                 text_key: str = 'text_embedding',
                 motion_key: str = 'motion_embedding',
                 sentence_key: str = 'sentence_embedding',
                 id_keys: Sequence[str] = ('motion_id', 'sample_id'),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        cfg = resolve_preset('retrieval', RETRIEVAL_PRESETS, preset, {
            k: tuple(v) for k, v in (('protocols', protocols), ('ks', ks)) if v is not None})
        bad = set(cfg['protocols']) - set(_PROTOCOLS)
        if bad:
            raise ValueError(f'unknown retrieval protocols {sorted(bad)}; choose from {_PROTOCOLS}')
        if 'threshold' in cfg['protocols'] and cfg['threshold'] is None:
            cfg['threshold'] = 0.95
        if 'batch32' in cfg['protocols'] and cfg['batch_size'] is None:
            cfg['batch_size'], cfg['seed'] = 32, 0
        self.cfg = cfg
        if isinstance(subset_ids, str):
            with open(subset_ids) as f:
                subset_ids = [line.strip() for line in f if line.strip()]
        self.subset_ids = None if subset_ids is None else [str(s) for s in subset_ids]
        self.text_key, self.motion_key, self.sentence_key = text_key, motion_key, sentence_key
        self.id_keys = list(id_keys)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        need_sentence = 'threshold' in self.cfg['protocols']
        for sample in data_samples:
            entry = dict(
                id=sample_id(sample, self.id_keys, len(self.results)),
                text=to_numpy(get_field(sample, self.text_key, 'RetrievalMetric'),
                              self.text_key).reshape(-1),
                motion=to_numpy(get_field(sample, self.motion_key, 'RetrievalMetric'),
                                self.motion_key).reshape(-1))
            if need_sentence:
                entry['sentence'] = to_numpy(
                    get_field(sample, self.sentence_key, 'RetrievalMetric'),
                    self.sentence_key).reshape(-1)
            self.results.append(entry)

    def _directions(self, metrics: Dict[str, float], protocol: str) -> Dict[str, float]:
        return {f'{protocol}/{k}': v for k, v in metrics.items()
                if k.split('/')[0] in self.cfg['directions']}

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('RetrievalMetric: no embeddings were collected')
        ids = [r['id'] for r in results]
        text = np.stack([r['text'] for r in results])
        motion = np.stack([r['motion'] for r in results])
        sim = cosine_similarity_matrix(text, motion)
        cfg, out = self.cfg, {}
        for protocol in cfg['protocols']:
            if protocol == 'all':
                out.update(self._directions(directional_metrics(sim, cfg['ks']), protocol))
            elif protocol == 'threshold':
                sent = np.stack([r['sentence'] for r in results])
                name = f"threshold_{cfg['threshold']}"
                out.update(self._directions(
                    directional_metrics(sim, cfg['ks'], sent, cfg['threshold']), name))
            elif protocol == 'dissimilar':
                if self.subset_ids is None:
                    warnings.warn('RetrievalMetric: no subset_ids given, skipping the dissimilar-'
                                  'subset protocol')
                    continue
                where = {sid: i for i, sid in enumerate(ids)}
                missing = [s for s in self.subset_ids if s not in where]
                if missing:
                    raise ValueError(f'RetrievalMetric: {len(missing)} subset ids are not among '
                                     f'the evaluated samples, e.g. {missing[:3]}')
                sel = np.array([where[s] for s in self.subset_ids])
                out.update(self._directions(
                    directional_metrics(sim[np.ix_(sel, sel)], cfg['ks']), protocol))
            elif protocol == 'batch32':
                # TMR sorts the key ids, then shuffles with np.random.seed(0).
                order = np.argsort(np.array(ids), kind='stable')
                sorted_sim = sim[np.ix_(order, order)]
                out.update(self._directions(
                    batched_retrieval(sorted_sim, cfg['batch_size'], cfg['seed'], cfg['ks']),
                    protocol))
        return out
