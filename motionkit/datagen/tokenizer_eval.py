"""Reconstruction quality of a trained motion tokenizer (VQ-VAE) on any HumanML3D-layout folder.

The protocol of the VQ-VAE reconstruction rows of T2M-GPT (Zhang et al., CVPR 2023) and
MotionGPT: every motion of a split is encoded, quantised and decoded in one pass; the features
are normalised with the statistics **the tokenizer was trained with** (not the evaluated
folder's own ``Mean.npy`` / ``Std.npy``: a tokenizer fed other statistics sees shifted inputs),
and both the reconstruction and the input are turned into joints by the same representation
decoder, so the errors measure the tokenizer alone and not the feature -> joint conversion.

Reported (frame-weighted means over all reconstructed frames, millimetres):

* ``mpjpe``: global joints (the root trajectory integrated from the decoded root velocities);
* ``mpjpe_root_relative``: both skeletons translated so that the root (pelvis, joint 0) is at 0;
* ``pa_mpjpe``: after a per-frame similarity Procrustes alignment;
* ``perplexity`` / ``usage``: ``exp`` of the entropy of the code frequencies over the whole split
  and the fraction of the codebook that occurs.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
from motionkit.motion.statistics import load_mean_std

__all__ = ['evaluate_motion_tokenizer', 'tokenizer_training_statistics', 'format_tokenizer_table']


def tokenizer_training_statistics(config: str, checkpoint_meta: Optional[dict] = None
                                  ) -> Tuple[str, str, str]:
    """Paths of the ``Mean.npy`` / ``Std.npy`` a tokenizer was trained with.

    Looked up in this order:

    1. ``checkpoint_meta['dataset_meta']['mean_path' / 'std_path']``: mmengine's Runner saves the
       training dataset's metainfo in every checkpoint, and HumanML3D-layout datasets record their
       statistics files there; used when both files still exist;
    2. the config's ``train_dataloader.dataset``, built without its pipeline (for SynthMotion this
       finds, or generates, the same cached build), whose metainfo has ``mean_path`` / ``std_path``.

    Args:
        config: Path of the tokenizer's training config.
        checkpoint_meta: The ``meta`` dict of an mmengine checkpoint (optional).

    Returns:
        ``(mean_path, std_path, source)`` with ``source`` ``'checkpoint meta'`` or
        ``'config train dataset'``.

    Raises:
        KeyError: neither source names the statistics.
    """
    ds_meta = (checkpoint_meta or {}).get('dataset_meta') or {}
    mean, std = ds_meta.get('mean_path'), ds_meta.get('std_path')
    if mean and std and osp.isfile(mean) and osp.isfile(std):
        return str(mean), str(std), 'checkpoint meta'

    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import DATASETS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    ds_cfg = cfg.get('train_dataloader', {}).get('dataset')
    if ds_cfg is None:
        raise KeyError(f'{config}: no train_dataloader.dataset to find the training statistics '
                       'in; pass the Mean.npy / Std.npy paths explicitly')
    ds_cfg = ds_cfg.copy()
    ds_cfg['pipeline'] = []
    ds_cfg['lazy_init'] = True  # only the metainfo is needed, not the index
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'motionkit')):
        dataset = DATASETS.build(ds_cfg)
    meta = dataset.metainfo
    if not meta.get('mean_path') or not meta.get('std_path'):
        raise KeyError(f'{config}: the training dataset ({ds_cfg.get("type")}) has no '
                       'mean_path / std_path in its metainfo; pass them explicitly')
    return str(meta['mean_path']), str(meta['std_path']), 'config train dataset'


def _split_ids(data_root: str, split: Optional[str]) -> list:
    from .tokenize import _motion_ids
    return _motion_ids(data_root, split)


@torch.no_grad()
def evaluate_motion_tokenizer(model,
                              data_root: str,
                              mean_path: str,
                              std_path: str,
                              split: Optional[str] = None,
                              batch_size: int = 32,
                              max_frames: Optional[int] = None,
                              progress: bool = True) -> dict:
    """Reconstruct every motion of a HumanML3D-layout folder and measure the errors.

    Args:
        model: A :class:`~motionkit.models.tokenizers.MotionVQVAE` (its device is used; put in
            eval mode here). Its ``representation`` (default ``'HumanML3DFeatures'``) decodes
            features to joints.
        data_root: Folder with ``new_joint_vecs/<id>.npy`` ``(T, D)`` raw features.
        mean_path, std_path: The statistics the tokenizer was trained with (see
            :func:`tokenizer_training_statistics`).
        split: Split file relative to ``data_root`` (``'test.txt'``, ``'all.txt'``); ``None``
            takes every ``.npy`` of ``new_joint_vecs``.
        batch_size: Motions per forward pass (sorted by length; the encoder and decoder mask the
            padding, so batching does not change the result).
        max_frames: Use only the first ``max_frames`` frames of each motion (``None``: all).
        progress: Show a tqdm progress bar.

    Returns:
        ``dict(num_motions, num_frames, skipped, mpjpe, mpjpe_root_relative, pa_mpjpe,
        perplexity, usage, codebook_size, data_root, split)``; errors in mm, averaged over all
        ``num_frames`` reconstructed frames (``4 * (T // 4)`` per motion). Motions shorter than
        one token (4 frames) are counted in ``skipped``.

    Raises:
        FileNotFoundError: a missing folder, split, statistics or motion file.
        ValueError: features or statistics of the wrong width, NaN features, or nothing to
            evaluate.
    """
    from motionkit.evaluation.functional import mpjpe, pa_mpjpe
    from motionkit.registry import REPRESENTATIONS

    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    feature_dim = int(model.feature_dim)
    unit = int(model.unit_length)
    mean, std = load_mean_std(mean_path, std_path, feature_dim)
    rep = REPRESENTATIONS.build(dict(type=getattr(model, 'representation', None)
                                     or 'HumanML3DFeatures'))
    ids = _split_ids(data_root, split)
    motion_dir = osp.join(data_root, 'new_joint_vecs')

    arrays, skipped = {}, 0
    for motion_id in ids:
        path = osp.join(motion_dir, motion_id + '.npy')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} not found (motion id {motion_id!r} of split '
                                    f'{split!r})')
        array = np.load(path).astype(np.float32)
        if array.ndim != 2 or array.shape[1] != feature_dim:
            raise ValueError(f'{path}: expected (T, {feature_dim}) features, got shape '
                             f'{array.shape}')
        if max_frames is not None:
            array = array[:int(max_frames)]
        if not np.isfinite(array).all():
            raise ValueError(f'{path}: NaN or inf in the features')
        if len(array) < unit:
            skipped += 1
            continue
        arrays[motion_id] = array
    if not arrays:
        raise ValueError(f'{data_root} ({split}): no motion of at least {unit} frames to '
                         'evaluate')
    order = sorted(arrays, key=lambda i: len(arrays[i]))

    model.eval()
    device = next(model.parameters()).device
    mean_t, std_t = torch.from_numpy(mean).to(device), torch.from_numpy(std).to(device)
    err = dict(mpjpe=[], mpjpe_root_relative=[], pa_mpjpe=[])
    all_ids = []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(order), desc='reconstruct', unit='motion')
    for start in range(0, len(order), batch_size):
        batch = [arrays[i] for i in order[start:start + batch_size]]
        lengths = torch.tensor([len(a) for a in batch])
        padded = torch.zeros(len(batch), int(lengths.max()), feature_dim)
        for j, a in enumerate(batch):
            padded[j, :len(a)] = torch.from_numpy(a)
        motion = (padded.to(device) - mean_t) / std_t
        tokens, token_len = model.encode(motion, lengths.to(device))
        recon = model.decode(tokens, token_len) * std_t + mean_t  # raw features
        for j, a in enumerate(batch):
            k = int(token_len[j])
            n = k * unit
            pred = np.asarray(rep.decode(recon[j, :n].float().cpu().numpy()))
            gt = np.asarray(rep.decode(a[:n]))
            err['mpjpe'].append(mpjpe(pred, gt, reduction='per_frame'))
            err['mpjpe_root_relative'].append(mpjpe(pred, gt, reduction='per_frame',
                                                    root_index=0))
            err['pa_mpjpe'].append(pa_mpjpe(pred, gt, reduction='per_frame'))
            all_ids.append(tokens[j, :k].cpu())
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()

    stats = model.codebook_stats(torch.cat(all_ids)[None])
    out = {name: float(np.concatenate(v).mean()) for name, v in err.items()}
    out.update(num_motions=len(order), num_frames=int(sum(len(v) for v in err['mpjpe'])),
               skipped=skipped, perplexity=float(stats['perplexity']),
               usage=float(stats['usage']), codebook_size=int(model.codebook_size),
               data_root=str(data_root), split=split or 'all files')
    return out


def format_tokenizer_table(results: dict, title: Optional[str] = None) -> str:
    """A Markdown table of :func:`evaluate_motion_tokenizer` results (one row)."""
    head = ('| data | split | motions | frames | MPJPE (mm) | root-rel. MPJPE (mm) | '
            'PA-MPJPE (mm) | perplexity | usage |')
    rule = '|' + '---|' * 9
    row = (f'| {title or results["data_root"]} | {results["split"]} | {results["num_motions"]} | '
           f'{results["num_frames"]} | {results["mpjpe"]:.1f} | '
           f'{results["mpjpe_root_relative"]:.1f} | {results["pa_mpjpe"]:.1f} | '
           f'{results["perplexity"]:.1f} / {results["codebook_size"]} | '
           f'{100 * results["usage"]:.1f} % |')
    return '\n'.join([head, rule, row])
