"""``PreferenceRewardMetric``: a feedback scorer's reward of generated motions per AToM subtask, and
the win rate against a baseline generator's motions for the same prompts (AToM, Han et al., CVPR
2025, sec. 4: the preference-tuned model is compared with the starting model under the reward)."""
from __future__ import annotations

import json
import os
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric

from motionkit.feedback.errors import FeedbackError
from motionkit.feedback.scoring import SUBTASKS, ScoreParseError, ScoreRequest
from motionkit.motion.statistics import load_mean_std
from motionkit.registry import FEEDBACK_CLIENTS, METRICS, REPRESENTATIONS
from motionkit.utils.io import atomic_write_bytes, iter_jsonl
from ..functional.preference import mean_reward, win_rate
from ._fields import get_field, to_numpy

__all__ = ['PreferenceRewardMetric', 'read_baseline_scores']


def read_baseline_scores(path: Union[str, os.PathLike], scorer: Optional[str] = None) -> List[dict]:
    """Score records of a baseline (MotionPrefer's ``scores.jsonl`` format, as ``score_samples`` or
    this metric's ``out_file`` write them): ``prompt_id`` (or ``prompt``), ``subtask``, ``score``
    and optionally ``scorer`` (checked against ``scorer`` when both are given).

    Raises:
        FileNotFoundError: no such file.
        ValueError: naming the file and line for malformed JSON, missing keys, a non-finite score,
            an unknown subtask or another scorer.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'PreferenceRewardMetric: baseline scores {path} not found')
    out = []
    for n, rec in iter_jsonl(path, objects=False):
        if not isinstance(rec, dict) or 'score' not in rec or 'subtask' not in rec or \
                ('prompt_id' not in rec and 'prompt' not in rec):
            raise ValueError(f'{path}, line {n}: needs score, subtask and prompt_id (or prompt)')
        if rec['subtask'] not in SUBTASKS:
            raise ValueError(f'{path}, line {n}: unknown subtask {rec["subtask"]!r}')
        if not isinstance(rec['score'], (int, float)) or not np.isfinite(rec['score']):
            raise ValueError(f'{path}, line {n}: score must be a finite number, got '
                             f'{rec["score"]!r}')
        if scorer is not None and rec.get('scorer') not in (None, scorer):
            raise ValueError(f'{path}, line {n}: scored by {rec["scorer"]!r}, but this metric '
                             f'scores with {scorer!r}; win rates need one scorer')
        out.append(rec)
    return out


def _key(rec: dict) -> tuple:
    pid = rec.get('prompt_id')
    return (rec['subtask'], ('id', str(pid)) if pid is not None else ('prompt', rec['prompt']))


@METRICS.register_module()
class PreferenceRewardMetric(BaseMetric):
    """Mean reward per subtask and win rate against a baseline, under one feedback scorer.

    For every data sample: the generated motion (``joints_key``, ``(T, J, 3)``; or ``motion_key``
    features decoded by ``representation``, de-normalised first when the sample's metainfo says
    ``pred_motion_normalized``), the ``prompt``, ``subtask`` and, for the oracle scorers, the
    prompt's ``events`` / ``count`` (and a SynthMotion ``program`` where known) go into a
    :class:`~motionkit.feedback.scoring.ScoreRequest`; ``scorer.score`` gives the reward on the
    subtask's integer scale.

    Results (prefix ``reward``):

    * ``mean``, ``<subtask>/mean``: mean reward over the scored samples (all, per subtask);
    * ``<subtask>/num``: samples scored; ``skipped``: samples whose scorer failed (bad joints, no
      usable reply), listed in the warning, never scored as 0;
    * with ``baseline_scores``: ``win_rate``, ``<subtask>/win_rate``, ``<subtask>/prompts``. Per
      prompt (matched by ``prompt_id``, else by the prompt text, within a subtask) the model wins
      the pairs (model sample, baseline sample) with the higher reward and a tie counts half
      (:func:`~motionkit.evaluation.functional.preference.win_rate`); a prompt counts once however
      many samples either side has, and the rate is the mean over the shared prompts. Prompts
      only one side has are counted in ``unmatched_prompts``.

    Args:
        scorer: a ``FEEDBACK_CLIENTS`` config (e.g. ``SynthMotionOracleScorer`` with a
            ``RecognizerEventDetector``) or an object with ``score(ScoreRequest)``.
        baseline_scores: the baseline's scores (``scores.jsonl`` of the starting model's samples,
            e.g. this metric's ``out_file`` from a run of the starting model).
        out_file: write this run's scores here (same format), on the main process.
        representation: ``REPRESENTATIONS`` config (or name) that decodes ``motion_key`` features
            to joints; needed only when samples carry features and no joints.
        mean_path, std_path: statistics to de-normalise ``pred_motion_normalized`` features (else
            the sample's ``mean_path`` / ``std_path`` metainfo).
        joints_key, motion_key, prompt_keys, subtask_key, events_key, count_key, program_key,
            id_keys, prompt_id_key: the fields read from each sample.
    """

    default_prefix = 'reward'

    def __init__(self,
                 scorer: Union[dict, Any],
                 baseline_scores: Optional[str] = None,
                 out_file: Optional[str] = None,
                 representation: Union[None, str, dict] = None,
                 mean_path: Optional[str] = None,
                 std_path: Optional[str] = None,
                 joints_key: str = 'pred_joints',
                 motion_key: str = 'pred_motion',
                 prompt_keys: Sequence[str] = ('prompt', 'gt_text'),
                 subtask_key: str = 'subtask',
                 events_key: str = 'events',
                 count_key: str = 'count',
                 program_key: str = 'program',
                 id_keys: Sequence[str] = ('sample_id', 'motion_id', 'id'),
                 prompt_id_key: str = 'prompt_id',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.scorer = FEEDBACK_CLIENTS.build(scorer) if isinstance(scorer, dict) else scorer
        if not callable(getattr(self.scorer, 'score', None)):
            raise TypeError(f'PreferenceRewardMetric: scorer {type(self.scorer).__name__} has no '
                            'score(ScoreRequest) method')
        self.scorer_name = type(self.scorer).__name__
        self.baseline_path = baseline_scores
        if baseline_scores is not None:  # read at build time: a bad file fails before generation
            read_baseline_scores(baseline_scores, self.scorer_name)
        self.out_file = out_file
        if isinstance(representation, str):
            representation = dict(type=representation)
        self.representation = REPRESENTATIONS.build(representation) if isinstance(
            representation, dict) else representation
        self.mean_path, self.std_path = mean_path, std_path
        self.joints_key, self.motion_key = joints_key, motion_key
        self.prompt_keys = list(prompt_keys)
        self.subtask_key, self.events_key, self.count_key = subtask_key, events_key, count_key
        self.program_key, self.id_keys, self.prompt_id_key = program_key, list(id_keys), prompt_id_key

    # ------------------------------------------------------------------------------------------
    def _joints(self, sample: dict, sid: str) -> np.ndarray:
        joints = get_field(sample, self.joints_key, 'PreferenceRewardMetric', required=False)
        if joints is None:
            feats = get_field(sample, [self.joints_key, self.motion_key], 'PreferenceRewardMetric')
            if self.representation is None:
                raise ValueError(f'PreferenceRewardMetric: sample {sid!r} has {self.motion_key} '
                                 f'features but no {self.joints_key}; give representation=... to '
                                 'decode them')
            feats = to_numpy(feats, self.motion_key).astype(np.float32)
            if sample.get('pred_motion_normalized'):  # metainfo keys are top-level in to_dict()
                mp = self.mean_path or sample.get('mean_path')
                sp = self.std_path or sample.get('std_path')
                if not (mp and sp):
                    raise KeyError(f'PreferenceRewardMetric: sample {sid!r} has normalised '
                                   f'{self.motion_key} and no mean_path/std_path')
                mean, std = load_mean_std(mp, sp)
                feats = feats * std + mean
            n = sample.get('pred_length') or sample.get('length')
            if n:
                feats = feats[:int(n)]
            joints = self.representation.decode(feats)
        joints = to_numpy(joints, self.joints_key)
        if joints.ndim != 3 or joints.shape[-1] != 3 or len(joints) < 1:
            raise ValueError(f'PreferenceRewardMetric: sample {sid!r}: expected joints (T, J, 3), '
                             f'got {joints.shape}')
        if not np.isfinite(joints).all():
            raise ValueError(f'PreferenceRewardMetric: sample {sid!r}: joints hold NaN or inf')
        return joints.astype(np.float32)

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        for i, sample in enumerate(data_samples):
            if hasattr(sample, 'to_dict') and not isinstance(sample, dict):
                sample = sample.to_dict()
            sid = get_field(sample, self.id_keys, 'PreferenceRewardMetric', required=False)
            sid = str(sid if sid is not None else f'{len(self.results)}')
            prompt = get_field(sample, self.prompt_keys, 'PreferenceRewardMetric')
            subtask = get_field(sample, self.subtask_key, 'PreferenceRewardMetric')
            pid = sample.get(self.prompt_id_key)
            rec = dict(id=sid, prompt_id=None if pid is None else str(pid), prompt=prompt,
                       subtask=subtask)
            try:
                events = sample.get(self.events_key) or ()
                count = sample.get(self.count_key)
                req = ScoreRequest(sid, prompt, subtask, self._joints(sample, sid), list(events),
                                   None if count is None else int(count),
                                   sample.get(self.program_key))
                res = self.scorer.score(req)
            except (ScoreParseError, FeedbackError, ValueError) as e:
                rec['error'] = f'{type(e).__name__}: {e}'
            else:
                rec.update(score=float(res.score), scale=[int(v) for v in res.scale],
                           scorer=res.scorer)
            self.results.append(rec)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scored = [r for r in results if 'score' in r]
        skipped = [r for r in results if 'score' not in r]
        if skipped:
            warnings.warn(f'PreferenceRewardMetric: {len(skipped)} of {len(results)} samples not '
                          f'scored, e.g. {skipped[0]["id"]}: {skipped[0]["error"]}')
        out: Dict[str, float] = dict(mean=mean_reward([r['score'] for r in scored]),
                                     skipped=float(len(skipped)))
        for sub in SUBTASKS:
            rows = [r['score'] for r in scored if r['subtask'] == sub]
            if rows:
                out[f'{sub}/mean'] = mean_reward(rows)
                out[f'{sub}/num'] = float(len(rows))
        if self.baseline_path is not None:
            model = defaultdict(list)
            for r in scored:
                model[_key(r)].append(r['score'])
            base = defaultdict(list)
            for r in read_baseline_scores(self.baseline_path, self.scorer_name):
                base[_key(r)].append(float(r['score']))
            rate, per = win_rate(model, base)
            if not per:
                raise ValueError(f'PreferenceRewardMetric: no prompt of this run is in the baseline '
                                 f'{self.baseline_path} (matched by subtask and prompt_id, else '
                                 'prompt text)')
            out['win_rate'] = rate
            out['unmatched_prompts'] = float(len(set(model) ^ set(base)))
            for sub in SUBTASKS:
                vals = [v for k, v in per.items() if k[0] == sub]
                if vals:
                    out[f'{sub}/win_rate'] = float(np.mean(vals))
                    out[f'{sub}/prompts'] = float(len(vals))
        if self.out_file:
            lines = ''.join(json.dumps({k: r[k] for k in ('id', 'prompt_id', 'prompt', 'subtask',
                                                            'score', 'scale', 'scorer')},
                                       sort_keys=True) + '\n' for r in scored)
            atomic_write_bytes(Path(self.out_file), lines.encode('utf-8'))
        return out
