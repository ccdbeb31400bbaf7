"""Write a SynthMotion split to disk in the HumanML3D layout, plus its ground truth.

Layout of ``out_dir``::

    new_joints/<id>.npy          (T, 22, 3) float32 t2m22 joints, 41 <= T <= 196
    new_joint_vecs/<id>.npy      (T - 1, 263) float32 HumanML3DFeatures(root_angular_velocity=
                                 'wrapped').encode(joints) (the config's ``root_angular_velocity``)
    texts/<id>.txt               3 paraphrases: caption#lemma/POS ...#0.0#0.0
    train.txt val.txt test.txt train_val.txt all.txt
    Mean.npy Std.npy             (263,) statistics of the train split (HumanML3D's block-averaged Std)
    synthmotion/
      programs.jsonl             per motion: events (primitive, params, frame spans, repetitions,
                                 counts, measured distance / turn), subject, seeds, split
      contacts/<id>.npy          (T, 2) bool foot contacts (left, right)
      action_labels.jsonl        per motion: multi-label action classes
      classes.json               class list with sampling weight, tier (head/medium/tail) and count
      triplets.jsonl             CigTime triplets (source id, edit, instructions, body part, ...)
      triplets/joints/<tid>.npy  target joints;  triplets/vecs/<tid>.npy target features
      feedback.jsonl             ExpertAF learner/expert pairs
      feedback/<fid>_{novice,expert,corrected}_{joints,coco17}.npy  (+ .mp4 with render=True)
    manifest.json                written last: version, config, config hash, counts, and
                                 ``feature_encoding`` (how new_joint_vecs were encoded)

Every file is written atomically (temporary file + rename). Per-item records are kept under
``.partial/`` until the build completes, so an interrupted build resumes where it stopped; the same
config always gives byte-identical files.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from motionkit.motion.humanml3d import ROOT_ANGULAR_VELOCITIES, HumanML3DFeatures
from motionkit.utils.io import atomic_save_npy, atomic_write_bytes

from motionkit.utils.paths import cache_dir
from motionkit.utils.resumable_build import ResumableBuild
from .learner_expert import make_feedback_pair, to_coco17
from .program import ClassDistribution, rng_for, sample_motion
from .triplets import make_triplet

__all__ = ['SYNTHMOTION_VERSION', 'build_synthmotion', 'synthmotion_config', 'synthmotion_encoder',
           'config_hash', 'default_cache_dir', 'ensure_synthmotion']

# Part of every cache key: bump it whenever the generator's output changes, so that cached builds made
# by an older generator are not reused.
SYNTHMOTION_VERSION = '1.0'
SPLIT_FRACTIONS = (0.8, 0.05, 0.15)




def _dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def synthmotion_config(num_motions: int, seed: int = 0, num_triplets: int | None = None,
                       num_feedback: int | None = None, class_distribution: str = 'long_tail',
                       imbalance_ratio: float = 20.0, max_events: int = 3, noise_amplitude: float = 1.0,
                       render_feedback: bool = False, root_angular_velocity: str = 'wrapped') -> dict:
    """The full, normalised build config (what the cache key hashes).

    ``root_angular_velocity`` is the :class:`~motionkit.motion.HumanML3DFeatures` encoding of the
    features: ``'wrapped'`` (default; exact through turns past 180 degrees, issue #17) or
    ``'official'`` (HumanML3D's ``process_file``). The two give different features for the motions
    whose heading crosses +-180 degrees (80 of the 1,200 motions of the CigTime quick-start build,
    docs/data.md), so a wrapped build gets its own config entry and cache key; an official build's
    config has no entry, so its cache key is the one every build had before the option existed
    (its features are byte-identical to those builds', which stay valid and are reused).
    """
    if num_motions < 1:
        raise ValueError(f'num_motions must be >= 1, got {num_motions}')
    num_triplets = num_motions // 2 if num_triplets is None else int(num_triplets)
    num_feedback = max(1, num_motions // 10) if num_feedback is None else int(num_feedback)
    if not 0 <= num_triplets <= num_motions:
        raise ValueError(f'num_triplets must be in [0, num_motions={num_motions}], got {num_triplets}')
    if root_angular_velocity not in ROOT_ANGULAR_VELOCITIES:
        raise ValueError(f'root_angular_velocity must be one of {ROOT_ANGULAR_VELOCITIES}, '
                         f'got {root_angular_velocity!r}')
    cfg = dict(version=SYNTHMOTION_VERSION, num_motions=int(num_motions), seed=int(seed),
               num_triplets=num_triplets, num_feedback=max(0, num_feedback),
               class_distribution=class_distribution, imbalance_ratio=float(imbalance_ratio),
               max_events=int(max_events), noise_amplitude=float(noise_amplitude),
               render_feedback=bool(render_feedback))
    if root_angular_velocity != 'official':
        cfg['root_angular_velocity'] = root_angular_velocity
    return cfg


def synthmotion_encoder(config: dict) -> HumanML3DFeatures:
    """The feature encoder of a build ``config`` (one without ``root_angular_velocity``: official)."""
    return HumanML3DFeatures(root_angular_velocity=config.get('root_angular_velocity', 'official'))


def config_hash(config: dict) -> str:
    return hashlib.sha256(_dumps(config).encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$MOTIONKIT_CACHE/synthmotion`` or ``~/.cache/motionkit/synthmotion``."""
    return cache_dir('synthmotion')


def _split_of(seed: int, index: int) -> str:
    """~80/5/15 % by a per-index random draw; motions 0, 1, 2 go to train, val, test so that no
    split of a small build is empty."""
    if index < 3:
        return ('train', 'val', 'test')[index]
    u = rng_for(seed, index, 3).random()
    train, val, _ = SPLIT_FRACTIONS
    return 'train' if u < train else ('val' if u < train + val else 'test')


def _block_std(feats: np.ndarray, joints_num: int = 22) -> np.ndarray:
    """HumanML3D ``cal_mean_variance``: each feature block's std replaced by the block mean."""
    try:  # one implementation in the package: the HumanML3D writer of the importers
        from motionkit.datasets.importers.humanml3d_writer import block_std
        return np.asarray(block_std(feats, joints_num), dtype=np.float32)
    except ImportError:  # pragma: no cover - importers not installed
        std = feats.std(0)
        j = joints_num
        edges = [0, 1, 3, 4, 4 + (j - 1) * 3, 4 + (j - 1) * 9, 4 + (j - 1) * 9 + j * 3, std.shape[0]]
        for a, b in zip(edges[:-1], edges[1:]):
            std[a:b] = std[a:b].mean()
        return std.astype(np.float32)


def _write_motion(out: Path, mid: str, joints: np.ndarray, rep) -> None:
    atomic_save_npy(out / 'new_joints' / f'{mid}.npy', joints.astype(np.float32))
    feats = np.asarray(rep.encode(joints.astype(np.float32)), dtype=np.float32)
    atomic_save_npy(out / 'new_joint_vecs' / f'{mid}.npy', feats)


def _render(path: Path, joints: np.ndarray, title: str) -> None:
    from motionkit.visualization.skeleton_renderer import render_motion, save_video
    frames = render_motion(joints, 't2m22', title=title, width=160, height=160)
    save_video(frames, path, fps=20)


def build_synthmotion(out_dir: str | os.PathLike, num_motions: int, seed: int = 0, progress: bool = True,
                      **options) -> Path:
    """Generate (or resume) a SynthMotion build in ``out_dir``. ``options``: see
    :func:`synthmotion_config`. Returns ``out_dir``. A finished build (``manifest.json`` with the
    same config) is left untouched; one with another config raises."""
    cfg = synthmotion_config(num_motions, seed, **options)
    out = Path(out_dir)
    build = ResumableBuild(out, cfg, 'SynthMotion build')
    if build.finished():
        return out
    build.start()
    rep = synthmotion_encoder(cfg)
    dist = ClassDistribution(cfg['class_distribution'], cfg['imbalance_ratio'])

    def make_motion(i: int) -> dict:
        item = sample_motion(cfg['seed'], i, dist, cfg['max_events'], cfg['noise_amplitude'])
        mid = item.motion_id
        _write_motion(out, mid, item.motion.joints, rep)
        atomic_write_bytes(out / 'texts' / f'{mid}.txt', ('\n'.join(item.captions) + '\n').encode())
        atomic_save_npy(out / 'synthmotion' / 'contacts' / f'{mid}.npy', item.motion.contacts)
        record = dict(id=mid, split=_split_of(cfg['seed'], i), labels=item.labels, **item.program)
        trip = None
        if i < cfg['num_triplets']:
            res = make_triplet(item, rng_for(cfg['seed'], i, 2))
            if res is not None:
                trec, target = res
                tid = f'T{i:06d}'
                tdir = out / 'synthmotion' / 'triplets'
                atomic_save_npy(tdir / 'joints' / f'{tid}.npy', target.joints)
                atomic_save_npy(tdir / 'vecs' / f'{tid}.npy',
                                np.asarray(rep.encode(target.joints), dtype=np.float32))
                trip = dict(id=tid, split=record['split'], source_joints=f'new_joints/{mid}.npy',
                            source_vecs=f'new_joint_vecs/{mid}.npy',
                            target_joints=f'synthmotion/triplets/joints/{tid}.npy',
                            target_vecs=f'synthmotion/triplets/vecs/{tid}.npy',
                            source_captions=[c.split('#')[0] for c in item.captions], **trec)
        return dict(motion=record, triplet=trip)

    def make_feedback(k: int) -> dict:
        rec, motions = make_feedback_pair(cfg['seed'], k)
        fid = f'F{k:06d}'
        files = {}
        for role, m in motions.items():
            jp = f'synthmotion/feedback/{fid}_{role}_joints.npy'
            cp = f'synthmotion/feedback/{fid}_{role}_coco17.npy'
            atomic_save_npy(out / jp, m.joints)
            atomic_save_npy(out / cp, to_coco17(m.joints))
            files[role] = dict(joints=jp, coco17=cp)
            if cfg['render_feedback'] and role != 'corrected':
                vp = f'synthmotion/feedback/{fid}_{role}.mp4'
                _render(out / vp, m.joints, f'{rec["activity"]} ({role})')
                files[role]['video'] = vp
        return dict(id=fid, split=_split_of(cfg['seed'], 10 ** 7 + k), files=files, **rec)

    records = build.items('motions', cfg['num_motions'], make_motion, progress, 'SynthMotion')
    feedback = build.items('feedback', cfg['num_feedback'], make_feedback, progress, 'SynthMotion feedback')
    _finish(build, records, feedback, dist)
    return out


def _finish(build: ResumableBuild, records: list, feedback: list, dist: ClassDistribution) -> None:
    out, cfg = build.out, build.config
    motions = [r['motion'] for r in records]
    triplets = [r['triplet'] for r in records if r['triplet'] is not None]
    splits = {s: [m['id'] for m in motions if m['split'] == s] for s in ('train', 'val', 'test')}
    splits['train_val'] = splits['train'] + splits['val']
    splits['all'] = [m['id'] for m in motions]
    for name, ids in splits.items():
        atomic_write_bytes(out / f'{name}.txt', ''.join(f'{i}\n' for i in ids).encode())
    feats = np.concatenate([np.load(out / 'new_joint_vecs' / f'{i}.npy') for i in splits['train']], 0)
    mean = feats.mean(0).astype(np.float32)
    std = _block_std(feats.astype(np.float64))
    std = np.where(std < 1e-6, 1.0, std).astype(np.float32)  # constant blocks (e.g. contacts) stay finite
    atomic_save_npy(out / 'Mean.npy', mean)
    atomic_save_npy(out / 'Std.npy', std)
    sm = out / 'synthmotion'
    atomic_write_bytes(sm / 'programs.jsonl', ''.join(_dumps(m) + '\n' for m in motions).encode())
    counts = {n: 0 for n in dist.classes}
    for m in motions:
        for lab in m['labels']:
            counts[lab] += 1
    index = {n: k for k, n in enumerate(dist.classes)}
    atomic_write_bytes(sm / 'action_labels.jsonl', ''.join(
        _dumps(dict(id=m['id'], split=m['split'], labels=m['labels'],
                    label_indices=[index[lab] for lab in m['labels']])) + '\n' for m in motions).encode())
    classes = [dict(c, count=counts[c['name']]) for c in dist.to_list()]
    atomic_write_bytes(sm / 'classes.json', _dumps(dict(distribution=dist.kind, imbalance_ratio=dist.imbalance_ratio,
                                                   classes=classes)).encode())
    atomic_write_bytes(sm / 'triplets.jsonl', ''.join(_dumps(t) + '\n' for t in triplets).encode())
    atomic_write_bytes(sm / 'feedback.jsonl', ''.join(_dumps(f) + '\n' for f in feedback).encode())
    manifest = dict(name='SynthMotion', synthetic=True, config_hash=config_hash(cfg),
                    feature_encoding=synthmotion_encoder(cfg).encoding_record(),
                    counts=dict(motions=len(motions), triplets=len(triplets), feedback=len(feedback),
                                **{s: len(v) for s, v in splits.items()}),
                    note='Procedurally generated motions (motionkit.synthmotion); not human '
                         'capture data. See docs/synthmotion.md.')
    build.finish(manifest)


def ensure_synthmotion(num_motions: int, seed: int = 0, cache_dir: str | os.PathLike | None = None,
                       progress: bool = False, **options) -> Path:
    """Path of a finished build with this config under the cache, building it first if needed.

    The folder is ``<cache_dir>/<config hash>``; a file lock serialises concurrent builders (e.g.
    the ranks of a distributed job) on POSIX systems.
    """
    cfg = synthmotion_config(num_motions, seed, **options)
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    out = root / f'n{cfg["num_motions"]}_s{cfg["seed"]}_{config_hash(cfg)}'
    if (out / 'manifest.json').exists():
        return out
    root.mkdir(parents=True, exist_ok=True)
    lock_path = root / f'{out.name}.lock'
    with open(lock_path, 'w') as lock:
        try:
            import fcntl
            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX
            pass
        if not (out / 'manifest.json').exists():
            build_synthmotion(out, num_motions, seed, progress=progress, **options)
    return out
