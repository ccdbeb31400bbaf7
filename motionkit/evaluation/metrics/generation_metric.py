"""Metrics of generated motions that need a network or a decoder of their own.

* :class:`T2MGenerationMetric`: Guo et al.'s text-to-motion protocol (R-precision, FID, MM-Dist,
  Diversity) for a generator's ``pred_motion``: the metric owns a trained
  :class:`~motionkit.models.T2MEvaluator`, embeds each generated motion, its real counterpart and
  its caption, and hands the embeddings to :class:`T2MMetric`'s published protocol.
* :class:`ControlErrorMetric`: how closely a controlled generator (PriorMDM) follows the given joint
  trajectories, in millimetres after decoding the features to joint positions.

Both read the real motion of each sample from the test batch (``inputs['motion']``, as
``motion_collate`` pads it) and undo the loader's normalisation with the statistics named in the
sample's metainfo (``normalized``, ``mean_path`` / ``std_path``, as ``NormalizeMotion`` leaves
them); ``pred_motion`` is de-normalised when its metainfo says ``pred_motion_normalized``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from motionkit.motion.statistics import load_mean_std
from motionkit.registry import METRICS
from motionkit.utils.owned_model import build_owned_model
from ._fields import get_field, to_numpy
from .t2m_metric import T2MMetric

__all__ = ['T2MGenerationMetric', 'ControlErrorMetric', 'raw_motion_pair']


def _meta(sample) -> dict:
    if hasattr(sample, 'metainfo'):
        return dict(sample.metainfo)
    return dict(sample)


def _stats(meta: dict, metric: str) -> tuple:
    paths = (meta.get('mean_path'), meta.get('std_path'))
    if not all(paths):
        raise KeyError(f'{metric}: sample {meta.get("sample_id", "?")!r} is normalised but names no '
                       'mean_path/std_path in its metainfo (keep them in PackMotionInputs meta_keys)')
    return load_mean_std(*paths)


def raw_motion_pair(data_batch: Any, index: int, sample, pred_key: str, metric: str,
                    own_pred_length: bool = False) -> tuple:
    """``(pred, real)`` raw ``(T, D)`` float32 features of sample ``index`` of a test batch.

    ``real`` is ``data_batch['inputs']['motion'][index]`` cut to the sample's ``length``; both are
    de-normalised with the sample's statistics where its metainfo says they are normalised. The
    prediction is cut to ``length`` too, or, with ``own_pred_length`` and a ``pred_length`` in the
    metainfo (a generator that sets its own length, e.g. a motion LM), to ``pred_length``.
    """
    meta = _meta(sample)
    if not (isinstance(data_batch, dict) and isinstance(data_batch.get('inputs'), dict)
            and 'motion' in data_batch['inputs']):
        raise KeyError(f'{metric}: the test batch has no inputs["motion"] (use motion_collate and a '
                       'pipeline ending in PackMotionInputs)')
    real = to_numpy(data_batch['inputs']['motion'][index], 'inputs["motion"]')
    pred = to_numpy(get_field(sample, pred_key, metric), pred_key)
    # joints (T, J, 3) and absolute-coordinate features (T, 3 J) are the same numbers
    if real.ndim == 3 and real.shape[-1] == 3:
        real = real.reshape(len(real), -1)
    if pred.ndim == 3 and pred.shape[-1] == 3:
        pred = pred.reshape(len(pred), -1)
    n = int(meta.get('length') or len(pred))
    n_pred = int(meta['pred_length']) if own_pred_length and meta.get('pred_length') is not None else n
    if pred.ndim != 2 or real.ndim != 2 or pred.shape[-1] != real.shape[-1]:
        raise ValueError(f'{metric}: {pred_key} {pred.shape} and the real motion {real.shape} must '
                         'be (T, D) with the same D')
    if n > len(real) or n_pred > len(pred):
        raise ValueError(f'{metric}: length {n} (pred_length {n_pred}) exceeds {pred_key} ({len(pred)}) '
                         f'or the real motion ({len(real)}) of sample {meta.get("sample_id", "?")!r}')
    pred, real = pred[:n_pred], real[:n]
    if meta.get('normalized') or meta.get('pred_motion_normalized'):
        mean, std = _stats(meta, metric)
        if meta.get('normalized'):
            real = real * std + mean
        if meta.get('pred_motion_normalized'):
            pred = pred * std + mean
    for name, arr in ((pred_key, pred), ('real motion', real)):
        if not np.isfinite(arr).all():
            raise ValueError(f'{metric}: {name} of sample {meta.get("sample_id", "?")!r} has NaN/inf')
    return pred.astype(np.float32), real.astype(np.float32)


@METRICS.register_module()
class T2MGenerationMetric(T2MMetric):
    """R-precision, FID, MM-Dist and Diversity of generated motions through a trained evaluator.

    For each sample: the caption (``gt_tokens`` / ``sent_len`` from ``SampleCaption``), the
    generated ``pred_motion`` and the real motion of the batch are embedded by the evaluator; the
    embeddings then go through :class:`T2MMetric` with ``preset`` and its options (Guo et al.:
    shuffled batches of 32, top-3, FID against the real motions, mean and 95% interval over
    replications). ``gt/...`` rows are the real motions' own numbers (the ceiling).

    A sample whose metainfo has ``pred_length`` (a generator that chose its own length, e.g.
    :class:`~motionkit.models.MotionTextLM`) has its generated motion embedded with that length and
    its real motion with ``length``, as MotionGPT's evaluation (``lengths_rst`` / ``lengths_ref``).

    Where a sample carries ``replications_key`` (R independent generations for its caption, e.g. a
    generator's ``num_replications`` or :class:`~motionkit.models.MotionTextLM`'s ``num_samples``),
    replication r of the protocol scores the r-th generation of every sample (a fresh generation
    of the test set per replication, as the published scripts do), and the R generations are also
    the repeats of MultiModality (``mm_motion_embeddings``; Guo et al. draw 30 per text, AToM 20;
    fewer than the preset's ``mm_num_repeats`` are warned about). The generations may differ in
    length: each is embedded with its own (cut to a multiple of the evaluator's unit length), given
    as a list of ``(T_r, D)`` arrays, or as ``(R, T, D)`` padded with ``replication_lengths_key``
    ``(R,)``; an ``(R, T, D)`` array without lengths is cut to ``pred_motion``'s length.

    Args:
        evaluator: the evaluator (config dict, ``.py`` config whose ``model`` is it, or object).
        evaluator_checkpoint: its trained weights (with its feature statistics).
        motion_key: field of the generated motion ``(T, D)`` (joints ``(T, J, 3)`` are flattened,
            as the real motion is).
        replications_key: field of the independent generations (``(R, T, D)`` or a list of
            ``(T_r, D)``), when present; they replace ``pred_motion`` (whose first one it is).
        replication_lengths_key: field of their lengths ``(R,)`` (frames), when present.
        clip_evaluator, clip_evaluator_checkpoint: a second, contrastively trained evaluator (e.g.
            ``T2MEvaluator(loss='infonce')``) whose cosine of text and motion embeddings is the
            CLIP-score (the references' MotionCLIP); without one the main evaluator's is used.
        **kwargs: :class:`T2MMetric` arguments (``preset``, ``replications``, ...).
    """

    default_prefix = 't2m'

    def __init__(self, evaluator: Union[dict, str, Any], evaluator_checkpoint: Optional[str] = None,
                 motion_key: str = 'pred_motion',
                 replications_key: str = 'pred_motion_replications',
                 replication_lengths_key: str = 'pred_motion_replication_lengths',
                 clip_evaluator: Union[dict, str, Any, None] = None,
                 clip_evaluator_checkpoint: Optional[str] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if evaluator is None:
            raise ValueError('T2MGenerationMetric needs an evaluator, e.g. the path of a trained '
                             'T2MEvaluator config and evaluator_checkpoint')
        self._evaluator_cfg = evaluator
        self._evaluator = None
        self.evaluator_checkpoint = evaluator_checkpoint
        self.motion_key = motion_key
        self.replications_key = replications_key
        self.replication_lengths_key = replication_lengths_key
        self._clip_cfg = clip_evaluator
        self._clip = None
        self.clip_evaluator_checkpoint = clip_evaluator_checkpoint

    @property
    def evaluator(self):
        if self._evaluator is None:
            ev = build_owned_model(self._evaluator_cfg, self.evaluator_checkpoint,
                                   'T2MGenerationMetric', 'encode_motion')
            if hasattr(ev, 'feature_stats_set') and not ev.feature_stats_set:
                raise ValueError('T2MGenerationMetric: the evaluator has no feature statistics '
                                 '(train it with DatasetStatsHook or give mean_path/std_path)')
            self._evaluator = ev
        return self._evaluator

    @property
    def clip_evaluator(self):
        if self._clip is None and self._clip_cfg is not None:
            ev = build_owned_model(self._clip_cfg, self.clip_evaluator_checkpoint,
                                   'T2MGenerationMetric (clip_evaluator)', 'encode_motion')
            if hasattr(ev, 'feature_stats_set') and not ev.feature_stats_set:
                raise ValueError('T2MGenerationMetric: the clip_evaluator has no feature statistics')
            self._clip = ev
        return self._clip

    @staticmethod
    def _embed(ev, preds, reals, tokens, sent_lens) -> tuple:
        device = ev.mean.device
        pad = torch.nn.utils.rnn.pad_sequence
        pred_emb = ev.encode_motion(pad(preds, batch_first=True).to(device),
                                    torch.tensor([len(p) for p in preds])).cpu()
        real_emb = ev.encode_motion(pad(reals, batch_first=True).to(device),
                                    torch.tensor([len(r) for r in reals])).cpu()
        text_emb = ev.encode_text(tokens, None if any(s is None for s in sent_lens)
                                  else sent_lens).cpu()
        return text_emb, real_emb, pred_emb

    def _replications(self, sample, i: int, extra, n: int, dim: int, unit: int) -> List[np.ndarray]:
        """The R generations of sample ``i``, each raw ``(T_r, D)`` cut to its own length (a
        multiple of the evaluator's unit length); ``n``: the length of ``pred_motion``, used for
        every replication of a padded ``(R, T, D)`` array that comes without lengths."""
        key, lkey = self.replications_key, self.replication_lengths_key
        lengths = get_field(sample, lkey, 'T2MGenerationMetric', required=False)
        if isinstance(extra, (list, tuple)):
            gens = [to_numpy(g, f'{key}[{r}]') for r, g in enumerate(extra)]
            bad = [g.shape for g in gens if g.ndim != 2 or g.shape[1] != dim]
            if not gens or bad:
                raise ValueError(f'T2MGenerationMetric: {key} of sample {i} must be a non-empty list of '
                                 f'(T_r, {dim}) generations, got shapes {[g.shape for g in gens]}')
            own = [len(g) for g in gens]
        else:
            arr = to_numpy(extra, key)
            if arr.ndim != 3 or arr.shape[2] != dim or (lengths is None and arr.shape[1] < n):
                raise ValueError(f'T2MGenerationMetric: {key} of sample {i} must be (R, >= {n}, {dim}) '
                                 f'(or (R, T, {dim}) with {lkey}), got {arr.shape}')
            gens = list(arr)
            own = [n] * len(gens)
        if lengths is not None:
            lengths = [int(x) for x in np.asarray(to_numpy(lengths, lkey)).reshape(-1)]
            if len(lengths) != len(gens) or any(not 0 < m <= len(g) for m, g in zip(lengths, gens)):
                raise ValueError(f'T2MGenerationMetric: {lkey} of sample {i} ({lengths}) must give one length '
                                 f'in [1, T_r] per generation of {key} ({[len(g) for g in gens]} frames)')
            own = lengths
        meta = _meta(sample)
        out = []
        for r, (g, m) in enumerate(zip(gens, own)):
            m -= m % unit  # the T2M loaders cut every motion to a multiple of the unit length
            if m == 0:
                raise ValueError(f'T2MGenerationMetric: generation {r} of {key} of sample {i} has fewer '
                                 f'than {unit} frames (the evaluator\'s unit length)')
            g = g[:m].astype(np.float32)
            if meta.get('pred_motion_normalized'):
                mean, std = _stats(meta, 'T2MGenerationMetric')
                g = g * std + mean
            if not np.isfinite(g).all():
                raise ValueError(f'T2MGenerationMetric: {key} of sample {i} has NaN/inf')
            out.append(g.astype(np.float32))
        return out

    @torch.no_grad()
    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        ev = self.evaluator
        preds, reals, tokens, sent_lens, reps = [], [], [], [], []
        for i, sample in enumerate(data_samples):
            pred, real = raw_motion_pair(data_batch, i, sample, self.motion_key,
                                         'T2MGenerationMetric', own_pred_length=True)
            # the T2M loaders cut every motion to a multiple of the evaluator's unit length
            n = len(pred) - len(pred) % ev.unit_length
            if n == 0:
                raise ValueError(f'T2MGenerationMetric: sample {i} has {len(pred)} frames; the '
                                 f'evaluator needs at least {ev.unit_length}')
            generations = [pred[:n]]
            extra = get_field(sample, self.replications_key, 'T2MGenerationMetric', required=False)
            if extra is not None:
                generations = self._replications(sample, i, extra, n, pred.shape[1], ev.unit_length)
            reps.append(len(generations))
            preds.extend(torch.from_numpy(np.ascontiguousarray(g)) for g in generations)
            n_real = len(real) - len(real) % ev.unit_length
            if n_real == 0:
                raise ValueError(f'T2MGenerationMetric: the real motion of sample {i} has {len(real)} frames; '
                                 f'the evaluator needs at least {ev.unit_length}')
            reals.append(torch.from_numpy(real[:n_real]))
            tokens.append(list(get_field(sample, 'gt_tokens', 'T2MGenerationMetric')))
            sent_lens.append(_meta(sample).get('sent_len'))
        if not reals:
            return
        text_emb, real_emb, pred_emb = self._embed(ev, preds, reals, tokens, sent_lens)
        clip = None
        if self.clip_evaluator is not None:
            clip = self._embed(self.clip_evaluator, preds, reals, tokens, sent_lens)
        start = 0
        for i, (t, g, r) in enumerate(zip(text_emb, real_emb, reps)):
            entry = {self.text_key: t, self.gt_key: g, self.pred_key: pred_emb[start:start + r]}
            if r > 1:
                entry[self.mm_key] = pred_emb[start:start + r]
            if clip is not None:
                entry.update(clip_text_embedding=clip[0][i], clip_gt_embedding=clip[1][i],
                             clip_pred_embedding=clip[2][start:start + r])
            start += r
            super().process(None, [entry])


@METRICS.register_module()
class ControlErrorMetric(BaseMetric):
    """Distance between the controlled joints of generated and control motions (PriorMDM).

    The generated ``pred_motion`` and the control motion (the batch's real motion, whose
    controlled features the model was given) are de-normalised and decoded to joint positions with
    ``representation``; on the joints of ``control_joints`` it reports, in millimetres:

    * ``error``: global positions (what a user who draws a trajectory sees);
    * ``error_local``: root-relative positions (what the controlled features fix directly: for a
      joint, HumanML3D's root-relative position block; the rest of the global error comes from the
      generated root trajectory);
    * ``error_max``: the largest global error of any frame;
    * ``error_facing`` (joints other than the root, HumanML3D-style features): the positions in
      the root's facing frame (the ``ric`` block), which the controlled features fix exactly, so
      this is ~0 for a model that keeps its control; global and root-relative errors add the
      generated root trajectory and facing.

    Args:
        control_joints: joint or body-part names (``'left_wrist'``, ``'right_foot'``), or
            ``'root_horizontal'`` (scored on the root joint's xz trajectory), or a list.
        representation: registered feature representation (``'HumanML3DFeatures'``).
        pred_key: field of the generated motion.
    """

    default_prefix = 'control'

    def __init__(self, control_joints: Union[str, Sequence[str]],
                 representation: str = 'HumanML3DFeatures', pred_key: str = 'pred_motion',
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        from motionkit.motion import body_part_joints
        from motionkit.registry import REPRESENTATIONS
        self.rep = REPRESENTATIONS.build(dict(type=representation))
        parts = [control_joints] if isinstance(control_joints, str) else list(control_joints)
        if not parts:
            raise ValueError('ControlErrorMetric: control_joints is empty')
        # 'root_horizontal' is scored on the root's xz trajectory (its height is not controlled)
        self.root_xz = 'root_horizontal' in parts
        names = [p for p in parts if p != 'root_horizontal']
        self.joints = body_part_joints(self.rep.skeleton, names) if names else []
        if self.root_xz and 0 in self.joints:
            self.root_xz = False  # the root is scored in 3D anyway
        ric = getattr(self.rep, 'blocks', {}).get('ric')
        # the ric block holds joints 1..J-1 (x, y, z each) in the root's facing frame
        self.ric_cols = None if ric is None else [
            ric.start + 3 * (j - 1) + k for j in self.joints if j > 0 for k in range(3)]
        self.pred_key = pred_key

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        for i, sample in enumerate(data_samples):
            pred, real = raw_motion_pair(data_batch, i, sample, self.pred_key,
                                         'ControlErrorMetric')
            pj = np.asarray(self.rep.decode(pred), dtype=np.float64)
            rj = np.asarray(self.rep.decode(real), dtype=np.float64)
            # joint 0 is every skeleton's root (motionkit.motion.skeletons)
            err = np.linalg.norm(pj[:, self.joints] - rj[:, self.joints], axis=-1)  # (T, K)
            err_local = np.linalg.norm((pj[:, self.joints] - pj[:, :1])
                                       - (rj[:, self.joints] - rj[:, :1]), axis=-1)
            if self.root_xz:
                root = np.linalg.norm(pj[:, :1, [0, 2]] - rj[:, :1, [0, 2]], axis=-1)
                err = np.concatenate([root, err], axis=1)
                err_local = np.concatenate([np.zeros_like(root), err_local], axis=1)
            err, err_local = err * 1000.0, err_local * 1000.0  # mm
            entry = dict(error=float(err.mean()), error_local=float(err_local.mean()),
                         error_max=float(err.max()), frames=len(err))
            if self.ric_cols:
                diff = (pred[:, self.ric_cols] - real[:, self.ric_cols]).reshape(len(pred), -1, 3)
                entry['error_facing'] = float(np.linalg.norm(diff, axis=-1).mean() * 1000.0)
            self.results.append(entry)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('ControlErrorMetric: no samples were processed')
        w = np.array([r['frames'] for r in results], dtype=np.float64)
        keys = ['error', 'error_local'] + (['error_facing'] if 'error_facing' in results[0] else [])
        out = {k: float(np.average([r[k] for r in results], weights=w)) for k in keys}
        out['error_max'] = float(max(r['error_max'] for r in results))
        return out
