"""The CoAMD linear probe (sec. 4.2) over the probe sets motionkit has: freeze a recognizer, embed
every motion of a labelled set, train only a linear classifier, report top-1 accuracy; the same
probe on raw joint coordinates is the baseline.

Probe sets (every motion a ``t2m22`` joint array in motionkit's conventions, 20 fps):

* ``bandai``: the real Bandai Namco mocap clips of every content class with at least two clips,
  scored by leave-one-out (:func:`bandai_probe_set`);
* ``synthmotion``: SynthMotion motions with exactly one action label, train split -> test split
  (:func:`synthmotion_probe_set`);
* ``ntu60_xsub`` / ``ntu60_xview`` / ``ntu120_xsub`` / ``ntu120_xset``: the official NTU benchmarks
  for a user who has the NTU skeletons (:func:`ntu_probe_set`).

Clips longer than ``max_frames`` (196, HumanML3D's longest motion) are centre-cropped to it, for
both feature kinds, so that a recognizer trained on HumanML3D-length motions sees lengths it knows
and the baseline sees the same frames.

The probe itself (logistic regression, leave-one-out, raw features) is
:mod:`motionkit.evaluation.functional.linear_probe`; the recognizer is built from a config and a
checkpoint through the ``MODELS`` registry (:func:`load_frozen_recognizer`) and must provide
``encode_motion(joints (B, T, 22, 3)) -> dict`` with a ``(B, D)`` entry (``'fused'``, the MAR's fused
embedding e_f, by default).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from motionkit.datasets.importers.bandai_content import load_bandai_content_clips
from motionkit.evaluation.functional.linear_probe import (encode_motions, leave_one_out_accuracy,
                                                          linear_probe_accuracy, raw_joint_features)

__all__ = ['PROBE_MAX_FRAMES', 'centre_crop', 'bandai_probe_set', 'synthmotion_probe_set', 'ntu_probe_set',
           'load_frozen_recognizer', 'recognizer_encoder', 'run_probe', 'format_probe_table']

#: HumanML3D's longest motion (frames at 20 fps); longer probe clips are centre-cropped to it.
PROBE_MAX_FRAMES = 196


def centre_crop(joints: np.ndarray, max_frames: Optional[int] = PROBE_MAX_FRAMES) -> np.ndarray:
    """The middle ``max_frames`` frames of a ``(T, J, 3)`` motion (unchanged when not longer)."""
    if max_frames is None or len(joints) <= int(max_frames):
        return joints
    start = (len(joints) - int(max_frames)) // 2
    return joints[start:start + int(max_frames)]


def bandai_probe_set(root: str | os.PathLike, min_clips: int = 2,
                     max_frames: Optional[int] = PROBE_MAX_FRAMES) -> dict:
    """The Bandai Namco content-class probe set (leave-one-out).

    Returns:
        ``dict(name='bandai', protocol='leave-one-out', motions, labels, classes, ids)``.
    """
    data = load_bandai_content_clips(root, min_clips=min_clips)
    return dict(name='bandai', protocol='leave-one-out',
                motions=[centre_crop(m, max_frames) for m in data['motions']],
                labels=data['labels'], classes=data['classes'], ids=data['files'])


def _split_set(name: str, protocol: str, classes: list, train: tuple, test: tuple, **extra) -> dict:
    """Keep the test items whose class has a training item; labels index ``classes``."""
    seen = set(train[1])
    keep = [k for k, lab in enumerate(test[1]) if lab in seen]
    used = sorted(seen)
    index = {c: k for k, c in enumerate(used)}
    return dict(name=name, protocol=protocol, classes=[classes[c] for c in used],
                train=dict(motions=train[0], labels=np.array([index[c] for c in train[1]], dtype=np.int64),
                           ids=train[2]),
                test=dict(motions=[test[0][k] for k in keep],
                          labels=np.array([index[test[1][k]] for k in keep], dtype=np.int64),
                          ids=[test[2][k] for k in keep]),
                dropped_test=len(test[1]) - len(keep), **extra)


def synthmotion_probe_set(num_motions: int = 1200, seed: int = 0, cache_dir: Optional[str] = None,
                          data_root: Optional[str] = None, build_options: Optional[dict] = None,
                          train_split: str = 'train', test_split: str = 'test',
                          max_frames: Optional[int] = PROBE_MAX_FRAMES) -> dict:
    """SynthMotion motions with exactly one action label (``synthmotion/action_labels.jsonl``),
    ``train_split`` -> ``test_split``; test motions of a class with no training motion are dropped
    (counted in ``dropped_test``).

    Args:
        num_motions, seed, cache_dir, build_options: the build (:func:`~motionkit.synthmotion.build.
            ensure_synthmotion`, generated on first use), unless ``data_root`` names a finished build.

    Returns:
        ``dict(name='synthmotion', protocol='train->test', classes, train=dict(motions, labels, ids),
        test=dict(...), dropped_test, data_root)``.
    """
    if data_root is None:
        from motionkit.synthmotion.build import ensure_synthmotion
        data_root = ensure_synthmotion(num_motions, seed, cache_dir=cache_dir, **(build_options or {}))
    root = Path(data_root)
    labels_file = root / 'synthmotion' / 'action_labels.jsonl'
    if not labels_file.is_file():
        raise FileNotFoundError(f'{labels_file} not found ({root} is not a finished SynthMotion build)')
    parts: dict = {train_split: ([], [], []), test_split: ([], [], [])}
    names: list = []
    with open(labels_file, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
                mid, split, labels = rec['id'], rec['split'], rec['labels']
            except (ValueError, KeyError) as exc:
                raise ValueError(f'{labels_file}, line {line_no}: not an action-label record ({exc})') from None
            if split not in parts or len(labels) != 1:
                continue
            if labels[0] not in names:
                names.append(labels[0])
            joints = np.load(root / 'new_joints' / f'{mid}.npy')
            parts[split][0].append(centre_crop(joints, max_frames))
            parts[split][1].append(labels[0])
            parts[split][2].append(mid)
    names = sorted(names)
    code = {n: k for k, n in enumerate(names)}

    def coded(p):
        return p[0], [code[n] for n in p[1]], p[2]
    if len(set(parts[train_split][1])) < 2:
        raise ValueError(f'{root}: fewer than 2 single-label classes in the {train_split!r} split')
    return _split_set('synthmotion', f'{train_split}->{test_split}', names, coded(parts[train_split]),
                      coded(parts[test_split]), data_root=str(root))


def ntu_probe_set(data_root: str, benchmark: str, exclude_file: Optional[str] = None,
                  actions: Optional[Sequence[int]] = None, body: str = 'most_motion',
                  max_per_split: Optional[int] = None, max_frames: Optional[int] = PROBE_MAX_FRAMES,
                  progress: bool = True) -> dict:
    """An official NTU benchmark (:class:`~motionkit.datasets.NTUSkeletonDataset`) as a probe set:
    its train split -> its test split.

    Args:
        data_root, benchmark, exclude_file, actions, body: see the dataset.
        max_per_split: use only this many evenly spaced samples of each split (quick runs).
    """
    from motionkit.datasets.ntu_dataset import NTUSkeletonDataset
    parts = {}
    for split in ('train', 'test'):
        ds = NTUSkeletonDataset(data_root, benchmark=benchmark, split=split, actions=actions, body=body,
                                exclude_file=exclude_file)
        idx = np.arange(len(ds))
        if max_per_split is not None and len(idx) > int(max_per_split):
            idx = np.linspace(0, len(idx) - 1, int(max_per_split)).round().astype(int)
        try:
            from tqdm import tqdm
            it = tqdm(idx, desc=f'{benchmark} {split}', unit='sample', disable=not progress)
        except ImportError:  # pragma: no cover - tqdm comes with mmengine
            it = idx
        motions, labels, ids = [], [], []
        for i in it:
            item = ds[int(i)]
            motions.append(centre_crop(item['joints'], max_frames))
            labels.append(int(item['label']))
            ids.append(item['motion_id'])
        parts[split] = (motions, labels, ids)
        classes = list(ds.metainfo['classes'])
    return _split_set(benchmark, 'train->test', classes, parts['train'], parts['test'])


def load_frozen_recognizer(config: str, checkpoint: Optional[str], device: str = 'cpu', strict: bool = True):
    """Build ``config``'s ``model`` through the ``MODELS`` registry, load ``checkpoint``
    (:func:`motionkit.utils.safe_load`, ``weights_only=True``), put it in eval mode and freeze it.

    Raises:
        KeyError: the config has no ``model``.
        TypeError: the model has no ``encode_motion``.
        ValueError: the checkpoint does not match the model (missing keys only when ``strict``).
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules, safe_load
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    if 'model' not in cfg:
        raise KeyError(f'{config}: no "model" in the config')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'motionkit')):
        model = MODELS.build(cfg.model)
    if not callable(getattr(model, 'encode_motion', None)):
        raise TypeError(f'{config}: model {type(model).__name__} has no encode_motion(joints) method; the '
                        'linear probe needs a recognizer such as MultimodalActionRecognizer')
    if checkpoint is not None:
        ckpt = safe_load(checkpoint, map_location='cpu')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'{checkpoint}: expected a state dict or an mmengine checkpoint')
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as exc:  # shape mismatches
            raise ValueError(f'{checkpoint} does not match the model of {config}: {exc}') from None
        if unexpected or (missing and strict):
            raise ValueError(f'{checkpoint} does not match the model of {config}: missing keys {missing[:5]}, '
                             f'unexpected keys {unexpected[:5]}')
    model = model.to(device).eval()
    model.requires_grad_(False)
    return model


def recognizer_encoder(model, key: str = 'fused') -> Callable:
    """``joints (B, T, 22, 3) -> (B, D)``: ``model.encode_motion(joints)[key]`` on the model's device."""
    def encode(joints):
        try:
            device = next(model.parameters()).device
        except StopIteration:
            device = joints.device
        out = model.encode_motion(joints.to(device))
        if not isinstance(out, dict) or key not in out:
            found = sorted(out) if isinstance(out, dict) else type(out).__name__
            raise KeyError(f'{type(model).__name__}.encode_motion returned no {key!r} embedding (got {found})')
        return out[key]
    return encode


def run_probe(probe_set: dict, features: str | Callable = 'raw', num_frames: int = 64, center: str = 'frame',
              C: float = 1.0, batch_size: int = 16) -> dict:
    """Run the linear probe on one probe set.

    Args:
        probe_set: from :func:`bandai_probe_set` / :func:`synthmotion_probe_set` / :func:`ntu_probe_set`.
        features: ``'raw'`` (root-centred joints resampled to ``num_frames`` and flattened,
            :func:`~motionkit.evaluation.functional.linear_probe.raw_joint_features`) or an encoder
            ``joints (B, T, 22, 3) -> (B, D)`` (:func:`recognizer_encoder`).
        num_frames, center: the raw features' length and centring.
        C: inverse L2 strength of the logistic regression.
        batch_size: motions per encoder call.

    Returns:
        the accuracy dict of the probe with ``data``, ``protocol``, ``feature_dim`` and ``classes``.
    """
    def feats(motions):
        if features == 'raw':
            return raw_joint_features(motions, num_frames=num_frames, center=center)
        return encode_motions(features, motions, batch_size=batch_size)

    if probe_set['protocol'] == 'leave-one-out':
        x = feats(probe_set['motions'])
        result = leave_one_out_accuracy(x, probe_set['labels'], C=C)
    else:
        x = feats(probe_set['train']['motions'])
        x_test = feats(probe_set['test']['motions'])
        result = linear_probe_accuracy(x, probe_set['train']['labels'], x_test, probe_set['test']['labels'], C=C)
        result['dropped_test'] = int(probe_set.get('dropped_test', 0))
    result.update(data=probe_set['name'], protocol=probe_set['protocol'], feature_dim=int(x.shape[1]),
                  classes=list(probe_set['classes']))
    return result


def format_probe_table(rows: Sequence[dict]) -> str:
    """Markdown table of probe results (``rows``: dicts of :func:`run_probe` with a ``features`` name)."""
    lines = ['| data | protocol | features | top-1 (%) | mean class acc. (%) | train | test | classes |',
             '|---|---|---|---:|---:|---:|---:|---:|']
    for r in rows:
        lines.append(f'| {r["data"]} | {r["protocol"]} | {r["features"]} | {100 * r["accuracy"]:.2f} | '
                     f'{100 * r["mean_class_accuracy"]:.2f} | {r["num_train"]} | {r["num_test"]} | '
                     f'{r["num_classes"]} |')
    return '\n'.join(lines)
