"""Pre-tokenise a HumanML3D-layout dataset with a trained motion tokenizer (CigTime's stage
"tokenise source and target motions" before LLM fine-tuning; T2M-GPT's ``dataset_tokenize``).

Output folder::

    tokens/<id>.npy     int16 code ids, (T',) or (T', Q) for residual VQ, T' = frames // 4
    manifest.jsonl      one JSON record per motion: id, num_frames, num_tokens, path
                        (or id + skipped reason), appended as each batch is written
    meta.json           what the tokens were built from: config and checkpoint paths and sha256,
                        sha256 of the Mean/Std files, codebook size, layers, unit length

Every token file is written atomically (temporary file + rename) before its manifest line, so an
interrupted run resumes where it stopped: ids already in the manifest with their file present are
skipped. A run over an existing folder built from another checkpoint, config or statistics is
refused (mixing tokens of two codebooks would silently corrupt the data).
"""
from __future__ import annotations

import json
import os
import os.path as osp
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np
import torch

from motionkit.motion.statistics import load_mean_std
from motionkit.utils.io import atomic_save_npy, atomic_write_bytes, file_sha256

__all__ = ['tokenize_motion_folder', 'load_motion_tokenizer', 'read_manifest',
           'checkpoint_provenance']

TOOL_VERSION = 1
_PATH_KEYS = ('data_root', 'config', 'checkpoint')




def read_manifest(path: str) -> List[dict]:
    """Records of a ``manifest.jsonl``; a torn last line (interrupted write) is dropped, a
    malformed line elsewhere raises ``ValueError`` naming the line."""
    if not osp.isfile(path):
        return []
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    records = []
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == last:
                break  # the line being written when the previous run stopped
            raise ValueError(f'{path}, line {i + 1}: not valid JSON: {line[:80]!r}') from None
        if not isinstance(rec, dict) or 'id' not in rec:
            raise ValueError(f'{path}, line {i + 1}: expected a record with an "id"')
        records.append(rec)
    return records


def load_motion_tokenizer(config: str, checkpoint: str, device: str = 'cpu'):
    """Build the model of ``config`` and load ``checkpoint`` with :func:`motionkit.utils.safe_load`
    (``weights_only=True``; never a plain ``torch.load`` of a user file).

    Raises:
        ValueError: the checkpoint's codebook was never initialised (an untrained model).
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
    ckpt = safe_load(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint}: expected a state dict or an mmengine checkpoint')
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f'{checkpoint} does not match the model of {config}: missing keys '
                         f'{missing[:5]}, unexpected keys {unexpected[:5]}')
    for name, buf in model.named_buffers():
        if name.endswith('initialized') and not bool(buf):
            raise ValueError(f'{checkpoint}: quantizer {name[:-len(".initialized")]!r} has an '
                             'uninitialised codebook (an untrained model)')
    return model.to(device).eval()


def _motion_ids(data_root: str, split: Optional[str]) -> List[str]:
    if split is not None:
        path = split if osp.isabs(split) else osp.join(data_root, split)
        if not osp.isfile(path):
            raise FileNotFoundError(f'split file not found: {path}')
        with open(path, encoding='utf-8') as f:
            ids = [line.strip() for line in f if line.strip()]
        if not ids:
            raise ValueError(f'{path}: split file lists no motion id')
        return list(dict.fromkeys(ids))
    folder = osp.join(data_root, 'new_joint_vecs')
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder} not found (expected a HumanML3D-layout dataset)')
    ids = sorted(name[:-4] for name in os.listdir(folder) if name.endswith('.npy'))
    if not ids:
        raise ValueError(f'{folder} holds no .npy motion')
    return ids


def _batches(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def tokenize_motion_folder(model,
                           data_root: str,
                           out_dir: str,
                           mean_path: Optional[str] = None,
                           std_path: Optional[str] = None,
                           split: Optional[str] = None,
                           batch_size: int = 64,
                           provenance: Optional[dict] = None,
                           progress: bool = True) -> dict:
    """Tokenise every motion of ``data_root/new_joint_vecs`` (or of a split file) to ``out_dir``.

    Args:
        model: A :class:`~motionkit.models.tokenizers.MotionVQVAE` in eval mode (its device is
            used).
        data_root: HumanML3D-layout folder.
        out_dir: Output folder (created; resumed when it holds a run with the same provenance).
        mean_path, std_path: Normalisation statistics the tokenizer was trained with (default
            ``data_root/Mean.npy`` / ``Std.npy``).
        split: Optional split file (relative to ``data_root``) listing the ids to tokenise.
        batch_size: Motions per forward pass (sorted by length; padding is exact, so batching
            does not change the tokens).
        provenance: Extra identifying entries for ``meta.json`` (config / checkpoint hashes);
            a resumed run must have the same.
        progress: Show a tqdm progress bar.

    Returns:
        ``dict(written=int, skipped=int, already_done=int, total=int, out_dir=str)``.

    Raises:
        FileNotFoundError: missing folder, split or statistics.
        ValueError: statistics or features of the wrong width, a codebook too large for int16,
            or an output folder built from something else.
    """

    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    codebook_size = int(model.codebook_size)
    if codebook_size > np.iinfo(np.int16).max:
        raise ValueError(f'codebook of {codebook_size} codes does not fit int16 token files')
    mean_path = mean_path or osp.join(data_root, 'Mean.npy')
    std_path = std_path or osp.join(data_root, 'Std.npy')
    mean, std = load_mean_std(mean_path, std_path, model.feature_dim)
    ids = _motion_ids(data_root, split)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(tool_version=TOOL_VERSION, codebook_size=codebook_size,
                num_quantizers=int(getattr(model.quantizer, 'num_quantizers', 1)),
                unit_length=int(model.unit_length), feature_dim=int(model.feature_dim),
                mean_sha256=file_sha256(mean_path), std_sha256=file_sha256(std_path),
                **(provenance or {}))
    meta_file = out / 'meta.json'
    if meta_file.exists():
        old = json.loads(meta_file.read_text(encoding='utf-8'))
        keys = sorted(set(old) | set(meta))
        # paths may move; the hashes identify what the tokens were built from
        diff = [k for k in keys if k not in _PATH_KEYS and old.get(k) != meta.get(k)]
        if diff:
            raise ValueError(f'{out}: holds tokens built from something else (differs in '
                             f'{diff}); use another output folder or delete it')
    else:
        atomic_write_bytes(meta_file, json.dumps(dict(meta, data_root=str(data_root)),
                                                  indent=2, sort_keys=True).encode())

    manifest = out / 'manifest.jsonl'
    records = read_manifest(str(manifest))
    done = {r['id'] for r in records
            if 'skipped' in r or (out / r.get('path', '')).is_file()}
    # rewrite the manifest without a torn line or records whose file vanished
    kept = [r for r in records if r['id'] in done]
    if len(kept) != len(records) or (manifest.exists() and records and
                                     not manifest.read_text(encoding='utf-8').endswith('\n')):
        atomic_write_bytes(manifest, ''.join(json.dumps(r, sort_keys=True) + '\n'
                                              for r in kept).encode())
    todo = [i for i in ids if i not in done]

    motion_dir = osp.join(data_root, 'new_joint_vecs')
    lengths = {}
    for motion_id in todo:
        path = osp.join(motion_dir, motion_id + '.npy')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} not found (motion id {motion_id!r})')
        header = np.load(path, mmap_mode='r')
        if header.ndim != 2 or header.shape[1] != model.feature_dim:
            raise ValueError(f'{path}: expected (T, {model.feature_dim}) features, got shape '
                             f'{header.shape}')
        lengths[motion_id] = int(header.shape[0])
    todo.sort(key=lambda i: lengths[i])

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc='tokenize', unit='motion')
    written = skipped = 0
    device = next(model.parameters()).device
    mean_t, std_t = torch.from_numpy(mean).to(device), torch.from_numpy(std).to(device)
    with open(manifest, 'a', encoding='utf-8') as man:
        for batch_ids in _batches(todo, batch_size):
            new_records, good, arrays = [], [], []
            for motion_id in batch_ids:
                array = np.load(osp.join(motion_dir, motion_id + '.npy')).astype(np.float32)
                if len(array) < model.unit_length:
                    new_records.append(dict(id=motion_id, num_frames=len(array),
                                            skipped=f'shorter than {model.unit_length} frames'))
                elif not np.isfinite(array).all():
                    new_records.append(dict(id=motion_id, num_frames=len(array),
                                            skipped='NaN or inf in the features'))
                else:
                    good.append(motion_id)
                    arrays.append(array)
            if good:
                lens = torch.tensor([len(a) for a in arrays])
                padded = torch.zeros(len(arrays), int(lens.max()), model.feature_dim)
                for j, a in enumerate(arrays):
                    padded[j, :len(a)] = torch.from_numpy(a)
                motion = (padded.to(device) - mean_t) / std_t
                with torch.no_grad():
                    tokens, token_len = model.encode(motion, lens.to(device))
                tokens, token_len = tokens.cpu().numpy(), token_len.cpu().numpy()
                for j, motion_id in enumerate(good):
                    rel = f'tokens/{motion_id}.npy'
                    atomic_save_npy(out / rel, tokens[j, :token_len[j]].astype(np.int16))
                    new_records.append(dict(id=motion_id, num_frames=int(lens[j]),
                                            num_tokens=int(token_len[j]), path=rel))
            for rec in new_records:
                man.write(json.dumps(rec, sort_keys=True) + '\n')
                if 'skipped' in rec:
                    skipped += 1
                else:
                    written += 1
            man.flush()
            os.fsync(man.fileno())
            if bar is not None:
                bar.update(len(batch_ids))
    if bar is not None:
        bar.close()
    return dict(written=written, skipped=skipped, already_done=len(ids) - len(todo),
                total=len(ids), out_dir=str(out))


def checkpoint_provenance(config: str, checkpoint: str) -> dict:
    """``meta.json`` entries naming the config and checkpoint by path and sha256."""
    return dict(config=osp.abspath(config), config_sha256=file_sha256(config),
                checkpoint=osp.abspath(checkpoint), checkpoint_sha256=file_sha256(checkpoint))
