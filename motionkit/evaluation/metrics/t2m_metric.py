"""Text-to-motion generation metrics (FID, Diversity, R-precision, MM-Dist, MultiModality) from the
embeddings of an evaluator model, with each paper's evaluation protocol as a preset."""
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from ..functional.t2m import (clip_score, diversity, fid, mean_confidence_interval, mm_dist,
                              multimodality, r_precision)
from ._fields import get_field, to_numpy
from ._presets import resolve_preset

# Protocol constants of each paper's evaluation script. All use batches of 32 from a shuffled,
# drop_last loader for R-precision / MM-Dist, top-3, and mean +- 1.96 * std / sqrt(reps).
T2M_PRESETS: Dict[str, Dict[str, Any]] = {
    # Guo et al. 2022, final_evaluations.py (EricGuo5513/text-to-motion): replication_times=20,
    # diversity_times=300, mm_num_samples=100 texts x mm_num_repeats=30, mm_num_times=10; FID
    # against the whole (shuffled, drop_last) ground-truth loader.
    'guo2022': dict(replications=20, batch_size=32, num_samples=None, diversity_times=300,
                    small_set_diversity_times=None, mm_num_texts=100, mm_num_repeats=30,
                    mm_num_times=10, mm_replications=None, fid_reference='all_gt',
                    clip_score=False),
    # MDM eval/eval_humanml.py (GuyTevet/motion-diffusion-model): num_samples_limit=1000, i.e.
    # 1000 // 32 + 1 = 32 batches = 1024 generated motions per replication; 20 replications
    # ('wo_mm'); MultiModality from the 'mm_short' run: 100 x 30 x 10 over 5 replications.
    'mdm': dict(replications=20, batch_size=32, num_samples=1000, diversity_times=300,
                small_set_diversity_times=None, mm_num_texts=100, mm_num_repeats=30,
                mm_num_times=10, mm_replications=5, fid_reference='all_gt', clip_score=False),
    # T2M-GPT utils/eval_trans.py + GPT_eval_multi.py (Mael-zys/T2M-GPT): the whole test set per
    # replication, 20 replications, diversity 300 (100 if <= 300 samples), MultiModality over
    # every test text x 30 repeats x 10 pairs; FID against the ground truth of the same batches.
    't2mgpt': dict(replications=20, batch_size=32, num_samples=None, diversity_times=300,
                   small_set_diversity_times=100, mm_num_texts=None, mm_num_repeats=30,
                   mm_num_times=10, mm_replications=None, fid_reference='same_batches',
                   clip_score=False),
    # MoMask utils/eval_t2m.py + eval_t2m_trans_res.py (EricGuo5513/momask-codes): as T2M-GPT but
    # MultiModality only on the first 3 batches (num_mm_batch=3 -> 96 texts) x 30 repeats.
    'momask': dict(replications=20, batch_size=32, num_samples=None, diversity_times=300,
                   small_set_diversity_times=100, mm_num_texts=96, mm_num_repeats=30,
                   mm_num_times=10, mm_replications=None, fid_reference='same_batches',
                   clip_score=False),
    # MARDM evaluation_MARDM.py / utils/eval_utils.py: MoMask's protocol (3 mm batches x 30), plus
    # the CLIP-score MARDM / ACMDM / CoAMD report: the mean over the evaluated samples of the
    # similarity of each caption's text embedding and its generated motion's embedding (a dot
    # product of the unit-norm embeddings of their second, contrastive evaluator, MotionCLIP, in
    # coamd/evaluation/evaluators.py): the cosine of the samples' clip_* embeddings where they
    # carry them, else of the evaluator's own; 'gt/clip_score' for the real motions.
    'mardm': dict(replications=20, batch_size=32, num_samples=None, diversity_times=300,
                  small_set_diversity_times=100, mm_num_texts=96, mm_num_repeats=30,
                  mm_num_times=10, mm_replications=None, fid_reference='same_batches',
                  clip_score=True),
}


@METRICS.register_module()
class T2MMetric(BaseMetric):
    """Guo et al. text-to-motion metrics over evaluator embeddings carried by the data samples.

    Per sample (any array-like): ``text_embedding`` ``(D,)``, ``gt_motion_embedding`` ``(D,)``,
    ``pred_motion_embedding`` ``(D,)`` or ``(R, D)`` (one row per replication, i.e. per
    independent generation), optionally ``mm_motion_embeddings`` ``(K, D)`` (``K`` repeated
    generations for the same text, for MultiModality). Samples are gathered from all ranks first,
    in dataset order; each replication then shuffles them (the evaluation loaders use
    ``shuffle=True``), cuts batches of 32 and drops the remainder, as the published scripts.

    Args:
        preset: a key of :data:`T2M_PRESETS` (``guo2022``, ``mdm``, ``t2mgpt``, ``momask``,
            ``mardm``).
        seed: seed of the shuffles and of the Diversity / MultiModality pair draws.
        eval_gt: also report the ground-truth rows (``gt/...``: R-precision, MM-Dist, Diversity).
        **overrides: any preset key (``replications``, ``batch_size``, ``diversity_times``, ...).

    Output keys (prefix ``t2m``): ``fid``, ``diversity``, ``r_precision_top{1,2,3}``,
    ``mm_dist``, ``multimodality`` (and ``clip_score`` where the preset reports it), each with
    ``<key>_ci95`` (half-width of the 95% interval). The CLIP-score uses the optional per-sample
    ``clip_text_embedding`` / ``clip_gt_embedding`` / ``clip_pred_embedding`` (``(D',)``, ``(D',)``,
    ``(D',)`` or ``(R, D')``, from a contrastive evaluator) when every sample has them.
    """

    default_prefix = 't2m'

    def __init__(self,
                 preset: str = 'guo2022',
                 seed: int = 0,
                 eval_gt: bool = True,
                 text_key: str = 'text_embedding',
                 gt_key: str = 'gt_motion_embedding',
                 pred_key: str = 'pred_motion_embedding',
                 mm_key: str = 'mm_motion_embeddings',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **overrides) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        cfg = resolve_preset('T2M', T2M_PRESETS, preset, overrides, owner='T2MMetric')
        if cfg['fid_reference'] not in ('all_gt', 'same_batches'):
            raise ValueError(f"fid_reference must be 'all_gt' or 'same_batches', "
                             f"got {cfg['fid_reference']!r}")
        self.preset, self.cfg, self.seed, self.eval_gt = preset, cfg, seed, eval_gt
        self.text_key, self.gt_key, self.pred_key, self.mm_key = text_key, gt_key, pred_key, mm_key

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            text = to_numpy(get_field(sample, self.text_key, 'T2MMetric'), self.text_key)
            gt = to_numpy(get_field(sample, self.gt_key, 'T2MMetric'), self.gt_key)
            pred = to_numpy(get_field(sample, self.pred_key, 'T2MMetric'), self.pred_key)
            mm = get_field(sample, self.mm_key, 'T2MMetric', required=False)
            pred = pred[None] if pred.ndim == 1 else pred
            if text.ndim != 1 or gt.ndim != 1 or pred.ndim != 2:
                raise ValueError(f'T2MMetric: expected text (D,), gt (D,), pred (D,) or (R, D); '
                                 f'got {text.shape}, {gt.shape}, {pred.shape}')
            entry = dict(text=text.astype(np.float32), gt=gt.astype(np.float32),
                         pred=pred.astype(np.float32))
            if mm is not None:
                mm = to_numpy(mm, self.mm_key)
                if mm.ndim != 2:
                    raise ValueError(f'T2MMetric: {self.mm_key} must be (K, D), got {mm.shape}')
                entry['mm'] = mm.astype(np.float32)
            clip = [get_field(sample, f'clip_{k}_embedding', 'T2MMetric', required=False)
                    for k in ('text', 'gt', 'pred')]
            if all(c is not None for c in clip):
                ct, cg, cp = (to_numpy(c, f'clip_{k}_embedding').astype(np.float32)
                              for c, k in zip(clip, ('text', 'gt', 'pred')))
                cp = cp[None] if cp.ndim == 1 else cp
                if ct.ndim != 1 or cg.shape != ct.shape or cp.ndim != 2 or cp.shape[1] != ct.shape[0]:
                    raise ValueError(f'T2MMetric: clip embeddings must be text (D,), gt (D,), pred '
                                     f'(D,) or (R, D); got {ct.shape}, {cg.shape}, {cp.shape}')
                entry.update(clip_text=ct, clip_gt=cg, clip_pred=cp)
            self.results.append(entry)

    # ------------------------------------------------------------------ protocol
    def _evaluated(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Indices one replication scores: shuffled, optionally limited, full batches only."""
        bs = self.cfg['batch_size']
        order = rng.permutation(n)
        n_keep = (n // bs) * bs
        if self.cfg['num_samples'] is not None:
            # MDM stops after num_samples_limit // batch_size + 1 batches.
            n_keep = min(n_keep, (self.cfg['num_samples'] // bs + 1) * bs)
        return order[:n_keep]

    def _diversity_times(self, n: int) -> int:
        times, small = self.cfg['diversity_times'], self.cfg['small_set_diversity_times']
        if n <= times and small is not None:
            return small
        return times

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        cfg = self.cfg
        n = len(results)
        if n == 0:
            raise ValueError('T2MMetric: no embeddings were collected')
        if n < cfg['batch_size']:
            raise ValueError(f'T2MMetric: {n} samples are fewer than one R-precision batch of '
                             f"{cfg['batch_size']}")
        dims = {r['text'].shape[0] for r in results} | {r['gt'].shape[0] for r in results} | \
            {r['pred'].shape[1] for r in results}
        if len(dims) != 1:
            raise ValueError(f'T2MMetric: embedding sizes differ across fields/samples: {dims}')
        reps_avail = {r['pred'].shape[0] for r in results}
        if len(reps_avail) != 1:
            raise ValueError(f'T2MMetric: samples carry different numbers of replications '
                             f'{sorted(reps_avail)}')
        reps_avail = reps_avail.pop()
        text = np.stack([r['text'] for r in results]).astype(np.float64)
        gt = np.stack([r['gt'] for r in results]).astype(np.float64)
        pred = np.stack([r['pred'] for r in results]).astype(np.float64)  # (N, R, D)
        for name, arr in (('text', text), ('gt', gt), ('pred', pred)):
            if not np.isfinite(arr).all():
                raise ValueError(f'T2MMetric: {name} embeddings contain NaN/inf')
        reps = cfg['replications']
        if reps_avail < reps:
            warnings.warn(
                f"T2MMetric[{self.preset}]: the protocol has {reps} replications but the samples "
                f'carry {reps_avail} generation(s); replications reuse them (only the batching '
                'and pair draws change), so the interval understates generation variance')
        rng = np.random.default_rng(self.seed)
        bs = cfg['batch_size']
        rows: Dict[str, List[float]] = {}

        def add(key, value):
            rows.setdefault(key, []).append(float(value))

        mm_feats = self._mm_features(results)
        mm_times = cfg['mm_num_times']
        if mm_feats is not None and mm_feats.shape[1] <= mm_times:
            if mm_feats.shape[1] < 2:
                warnings.warn('T2MMetric: MultiModality needs at least 2 generations per text; '
                              'skipped')
                mm_feats = None
            else:  # the pairs are drawn without replacement among the repeats
                mm_times = mm_feats.shape[1] - 1
                warnings.warn(f'T2MMetric[{self.preset}]: {mm_feats.shape[1]} generations per '
                              f"text allow {mm_times} MultiModality pairs, not the protocol's "
                              f"{cfg['mm_num_times']}")
        if all('clip_text' in r for r in results):  # a contrastive evaluator's embeddings
            c_text = np.stack([r['clip_text'] for r in results]).astype(np.float64)
            c_gt = np.stack([r['clip_gt'] for r in results]).astype(np.float64)
            c_pred = np.stack([r['clip_pred'][:1].repeat(reps_avail, 0) if len(r['clip_pred']) == 1
                               else r['clip_pred'] for r in results]).astype(np.float64)
        else:
            c_text, c_gt, c_pred = text, gt, pred
        for rep in range(reps):
            p = pred[:, rep % reps_avail]
            idx = self._evaluated(n, rng)
            rp = r_precision(text[idx], p[idx], 3, bs)
            for k in range(3):
                add(f'r_precision_top{k + 1}', rp[k])
            add('mm_dist', mm_dist(text[idx], p[idx], bs))
            if cfg['fid_reference'] == 'same_batches':
                ref = gt[idx]
            else:  # the ground-truth loader: its own shuffle, full batches
                ref = gt[rng.permutation(n)[:(n // bs) * bs]]
            add('fid', fid(p[idx], ref))
            add('diversity', diversity(p[idx], self._diversity_times(len(idx)), rng))
            if cfg['clip_score']:
                add('clip_score', clip_score(c_text[idx], c_pred[idx, rep % c_pred.shape[1]]))
            if self.eval_gt:
                rp_gt = r_precision(text[idx], gt[idx], 3, bs)
                for k in range(3):
                    add(f'gt/r_precision_top{k + 1}', rp_gt[k])
                add('gt/mm_dist', mm_dist(text[idx], gt[idx], bs))
                add('gt/diversity', diversity(gt[idx], self._diversity_times(len(idx)), rng))
                if cfg['clip_score']:
                    add('gt/clip_score', clip_score(c_text[idx], c_gt[idx]))
            mm_reps = cfg['mm_replications'] or reps
            if mm_feats is not None and rep < mm_reps:
                add('multimodality', multimodality(mm_feats, mm_times, rng))
        out = {}
        for key, values in rows.items():
            mean, ci = mean_confidence_interval(values)
            out[key] = mean
            out[f'{key}_ci95'] = ci
        return out

    def _mm_features(self, results: List[dict]) -> Optional[np.ndarray]:
        """``(num_texts, num_repeats, D)`` from the samples carrying repeated generations."""
        cfg = self.cfg
        have = [r['mm'] for r in results if 'mm' in r]
        if not have:
            warnings.warn(f"T2MMetric: no sample has '{self.mm_key}'; MultiModality is skipped")
            return None
        want_texts = cfg['mm_num_texts'] or len(have)
        if len(have) < want_texts:
            warnings.warn(f'T2MMetric[{self.preset}]: MultiModality uses {want_texts} texts in '
                          f'the protocol but only {len(have)} samples carry repeats')
        have = have[:want_texts]
        repeats = min(m.shape[0] for m in have)
        if repeats < cfg['mm_num_repeats']:
            warnings.warn(f"T2MMetric[{self.preset}]: {cfg['mm_num_repeats']} repeats per text "
                          f'in the protocol, {repeats} available')
        repeats = min(repeats, cfg['mm_num_repeats'])
        feats = np.stack([m[:repeats] for m in have]).astype(np.float64)
        if not np.isfinite(feats).all():
            raise ValueError(f'T2MMetric: {self.mm_key} contains NaN/inf')
        return feats
