"""Motions sampled from a text-to-motion language model for MotionPrefer prompts, and the
preference pairs a preference model trains on (AToM, Han et al., CVPR 2025, sec. 3.2 and
algorithm 1: several motions per prompt from MotionGPT, scored, then (winner, loser) pairs).

* :func:`sample_prompt_motions` writes the generated-motion folder that
  ``tools/data/build_motion_prefer.py score`` reads (``index.json`` + ``joints/<id>.npy``,
  docs/motion_prefer.md), with each sample's motion-token ids (``codes``) kept in the index.
* :func:`preference_pairs` / :func:`write_preference_pairs` join MotionPrefer's ``pairs.jsonl``
  (motion ids) with those codes into the pairs file of ``PreferenceDataset`` (docs/preference.md).

The generator is any object with ``generate_motion_codes(captions, num_samples=..., **sampling)``
(-> per caption a list of ``(codes, ignored_tokens)``) and ``motion_tokenizer.decode(codes)`` (->
``(T, D)`` normalised features), e.g. :class:`~motionkit.models.MotionTextLM`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionkit.motion.humanml3d import recover_joints_from_features
from motionkit.utils.io import atomic_save_npy, atomic_write_bytes
from motionkit.utils.resumable_build import ResumableBuild

__all__ = ['read_prompts', 'sample_prompt_motions', 'preference_pairs', 'write_preference_pairs']

_PROMPT_KEYS = ('prompt_id', 'prompt', 'subtask')


def read_prompts(path: Union[str, os.PathLike]) -> List[dict]:
    """MotionPrefer's ``prompts.jsonl`` (``prompt_id``, ``prompt``, ``subtask``, ``events``,
    ``count``, ...), checked: a malformed line or a repeated id raises naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: prompts file not found (build_motion_prefer.py prompts)')
    out, seen = [], set()
    for n, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise ValueError(f'{path}, line {n}: not JSON ({e})') from None
        missing = [k for k in _PROMPT_KEYS if not isinstance(rec, dict) or k not in rec]
        if missing:
            raise ValueError(f'{path}, line {n}: missing {missing}')
        if not str(rec['prompt']).strip():
            raise ValueError(f'{path}, line {n}: empty prompt')
        if rec['prompt_id'] in seen:
            raise ValueError(f'{path}, line {n}: prompt_id {rec["prompt_id"]!r} appears twice')
        seen.add(rec['prompt_id'])
        out.append(rec)
    if not out:
        raise ValueError(f'{path}: no prompt')
    return out


def _features_to_joints(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    raw = features * std + mean
    return recover_joints_from_features(raw.astype(np.float32), 22).astype(np.float32)


def sample_prompt_motions(generator: Any, prompts: Sequence[dict], out_dir: Union[str, os.PathLike],
                          mean: np.ndarray, std: np.ndarray, num_samples: int = 4, batch_size: int = 8,
                          seed: int = 0, sampling: Optional[dict] = None, failure_frames: int = 40,
                          config: Optional[dict] = None, progress: bool = True) -> dict:
    """Sample ``num_samples`` motions per prompt and write the generated-motion folder.

    Sample ``k`` of prompt ``p`` has id ``<prompt_id>-s<k>``; its record holds the prompt's
    ``prompt_id``, ``prompt``, ``subtask``, ``events``, ``count``, the joints file
    (``joints/<id>.npy``, ``(T, 22, 3)`` float32, decoded by the generator's VQ-VAE, de-normalised
    with ``mean`` / ``std`` and turned into joints with HumanML3D's ``recover_from_ric``), its
    ``codes`` and ``failed``. A generation without any motion token is a failure: counted, and its
    motion is the mean pose for ``failure_frames`` frames (MotionGPT's evaluation substitutes the
    mean pose too), so the scorer gives it the score of a motionless person.

    Batches are seeded ``seed + batch index`` and written as they finish (one record each under
    ``.partial/``): an interrupted run resumes and gives the same samples. ``config`` (what the
    samples come from: model config, checkpoint, sampling) is checked on resume and stored in
    ``manifest.json``.

    Returns:
        stats: ``prompts``, ``samples``, ``failed``, ``mean_codes``.
    """
    if num_samples < 1 or batch_size < 1 or failure_frames < 1:
        raise ValueError(f'num_samples, batch_size and failure_frames must be >= 1, got {num_samples}, '
                         f'{batch_size}, {failure_frames}')
    mean = np.asarray(mean, dtype=np.float32)
    std = np.asarray(std, dtype=np.float32)
    sampling = dict(sampling or {})
    out = Path(out_dir)
    cfg = dict(config or {}, num_samples=int(num_samples), batch_size=int(batch_size), seed=int(seed),
               sampling=sampling, failure_frames=int(failure_frames),
               prompts=[p['prompt_id'] for p in prompts])
    build = ResumableBuild(out, cfg, 'text-to-motion samples')
    if build.finished():
        return json.loads((out / 'manifest.json').read_text())['stats']
    build.start()
    vq = generator.motion_tokenizer
    batches = [list(prompts[i:i + batch_size]) for i in range(0, len(prompts), batch_size)]

    def make_batch(b: int) -> List[dict]:
        torch.manual_seed(seed + b)
        group = batches[b]
        gens = generator.generate_motion_codes([p['prompt'] for p in group], num_samples=num_samples, **sampling)
        recs = []
        for p, samples in zip(group, gens):
            for k, (codes, _) in enumerate(samples):
                sid = f'{p["prompt_id"]}-s{k}'
                if codes:
                    with torch.no_grad():
                        feats = vq.decode(torch.tensor(codes, dtype=torch.long)).float().cpu().numpy()
                else:
                    feats = np.zeros((failure_frames, len(mean)), dtype=np.float32)  # normalised mean pose
                joints = _features_to_joints(feats, mean, std)
                rel = f'joints/{sid}.npy'
                atomic_save_npy(out / rel, joints)
                recs.append(dict(id=sid, prompt_id=p['prompt_id'], prompt=p['prompt'], subtask=p['subtask'],
                                 events=list(p.get('events') or []), count=p.get('count'), joints=rel,
                                 codes=[int(c) for c in codes], failed=not codes))
        return recs

    records = build.items('batches', len(batches), make_batch, progress=progress, desc='sample motions')
    samples = [r for batch in records for r in batch]
    stats = dict(prompts=len(prompts), samples=len(samples), failed=sum(r['failed'] for r in samples),
                 mean_codes=float(np.mean([len(r['codes']) for r in samples])) if samples else 0.0)
    atomic_write_bytes(out / 'index.json', (json.dumps(dict(samples=samples), indent=1) + '\n').encode())
    build.finish(dict(name='text-to-motion samples', stats=stats))
    return stats


def preference_pairs(pairs: Sequence[dict], samples: Sequence[dict]) -> Tuple[List[dict], dict]:
    """MotionPrefer pairs (``prompt_id, prompt, subtask, winner, loser, winner_score,
    loser_score``; motion ids) -> ``PreferenceDataset`` rows (``id, prompt, chosen, rejected,
    scores, subtask, chosen_id, rejected_id``; motion-token ids from the samples' ``codes``).

    A pair whose winner or loser has no codes (a failed generation: nothing for the LM to score)
    is skipped and counted (``no_codes``); a motion id missing from the samples raises.
    """
    by_id = {s['id']: s for s in samples}
    rows, skips = [], dict(no_codes=0)
    for k, p in enumerate(pairs):
        for key in ('prompt', 'winner', 'loser'):
            if key not in p:
                raise ValueError(f'pairs[{k}] has no {key!r}: {p!r}')
        for side in ('winner', 'loser'):
            if p[side] not in by_id:
                raise KeyError(f'pairs[{k}]: {side} {p[side]!r} is not in the generated-motion index')
            if 'codes' not in by_id[p[side]]:
                raise KeyError(f'pairs[{k}]: sample {p[side]!r} has no codes (sample it with '
                               'tools/data/sample_text_to_motion.py)')
        chosen, rejected = by_id[p['winner']]['codes'], by_id[p['loser']]['codes']
        if not chosen or not rejected:
            skips['no_codes'] += 1
            continue
        rows.append(dict(id=f'{p.get("prompt_id", k)}:{p["winner"]}>{p["loser"]}', prompt=p['prompt'],
                         chosen=list(chosen), rejected=list(rejected),
                         scores=dict(chosen=p.get('winner_score'), rejected=p.get('loser_score')),
                         subtask=p.get('subtask'), chosen_id=p['winner'], rejected_id=p['loser']))
    return rows, skips


def write_preference_pairs(pairs_path: Union[str, os.PathLike], motions_dir: Union[str, os.PathLike],
                           out_path: Union[str, os.PathLike]) -> dict:
    """:func:`preference_pairs` from files: ``pairs.jsonl`` + the generated-motion folder ->
    ``out_path`` (JSON lines, atomic). Returns ``dict(pairs, written, skipped)``."""
    from .motion_prefer import load_generated
    pairs_path = Path(pairs_path)
    pairs = [json.loads(line) for line in pairs_path.read_text(encoding='utf-8').splitlines() if line.strip()]
    rows, skips = preference_pairs(pairs, load_generated(motions_dir))
    atomic_write_bytes(out_path, ''.join(json.dumps(r) + '\n' for r in rows).encode('utf-8'))
    return dict(pairs=len(pairs), written=len(rows), skipped=skips)
