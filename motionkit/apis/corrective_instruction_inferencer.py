"""``CorrectiveInstructionInferencer``: (source motion, target motion) -> corrective instruction."""
from __future__ import annotations

import os.path as osp
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionkit.registry import INFERENCERS
from .motion_editor_inferencer import load_motion_file

__all__ = ['CorrectiveInstructionInferencer']

Motion = Union[str, np.ndarray]


@INFERENCERS.register_module()
class CorrectiveInstructionInferencer:
    """Write the instruction that turns a source motion into a target motion with a trained CigTime
    model (:class:`CorrectiveInstructionGenerator`).

    The inputs are built as the CigTime test pipeline builds them (``LoadMotionPair`` keeps the
    first ``max_length`` feature frames, ``motion_pair_collate`` + ``MotionPairDataPreprocessor``
    pad and z-normalise both motions), then the model runs ``forward(mode='predict')`` with its
    ``generation_cfg`` (greedy in the tiny presets, hence deterministic).

    Example:
        >>> coach = CorrectiveInstructionInferencer(
        ...     'projects/cigtime/configs/cigtime_tiny_1xb32-1k_synthmotion.py',
        ...     'work_dirs/cigtime_tiny/cigtime/iter_1000.pth')
        >>> coach('source.npy', 'target.npy')[0]['instruction']
        'raise your left arm higher'

    Args:
        model: a config path, a Config / dict with a ``model`` entry, a model config dict, or a
            built model.
        weights: checkpoint path (loaded with :func:`motionkit.utils.safe_load`); None keeps the
            built weights (only for tests).
        mean, std: ``(D,)`` arrays or ``.npy`` paths of the statistics the model was trained with.
            Default (first match): the model's data preprocessor statistics, else ``Mean.npy`` /
            ``Std.npy`` in the ``data_root`` of the config's test (then val, train) dataset.
        max_length: keep at most this many feature frames of each motion; default: the
            ``LoadMotionPair`` ``max_length`` of the config's test pipeline, else 196.
        batch_size: pairs per forward pass (the test dataloader's batch size gives outputs
            identical to ``tools/test.py``; left-padded generation can differ in the last float
            bits between batch compositions).
        device: ``'cpu'`` or ``'cuda'``.
    """

    def __init__(self,
                 model: Union[str, dict, torch.nn.Module],
                 weights: Optional[str] = None,
                 mean: Any = None,
                 std: Any = None,
                 max_length: Union[int, None, str] = 'auto',
                 batch_size: int = 32,
                 device: str = 'cpu') -> None:
        self.cfg = self._config(model)
        self.model = self._build(model, self.cfg)
        if weights is not None:
            from motionkit.utils import safe_load
            ckpt = safe_load(weights, map_location='cpu')
            state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
            state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
            missing, unexpected = self.model.load_state_dict(state, strict=False)
            if missing or unexpected:
                raise KeyError(f'{weights}: checkpoint does not match the model: missing '
                               f'{list(missing)[:5]}, unexpected {list(unexpected)[:5]}')
        for attr in ('motion_tokenizer', 'llm', 'prompts'):
            if not hasattr(self.model, attr):
                raise TypeError(f'CorrectiveInstructionInferencer: {type(self.model).__name__} has no '
                                f'{attr!r}; use a CorrectiveInstructionGenerator')
        self.model.to(device).eval()
        if batch_size < 1:
            raise ValueError(f'CorrectiveInstructionInferencer: batch_size must be >= 1, got {batch_size}')
        self.batch_size = int(batch_size)
        tokenizer = self.model.motion_tokenizer
        self.feature_dim = int(tokenizer.feature_dim)
        self.representation = self._representation(tokenizer)
        self.max_length = self._max_length(max_length)
        self.data_preprocessor = self._pair_preprocessor(mean, std).to(device)

    # ------------------------------------------------------------------ building
    @staticmethod
    def _config(model) -> Optional[dict]:
        """The full config (with dataloaders) when ``model`` is a path or a config with a model."""
        from mmengine.config import Config
        if isinstance(model, str):
            if not osp.isfile(model):
                raise FileNotFoundError(f'CorrectiveInstructionInferencer: config not found: {model}')
            return Config.fromfile(model)
        if isinstance(model, (dict, Config)) and 'model' in model:
            return model
        return None

    @staticmethod
    def _build(model, cfg) -> torch.nn.Module:
        if isinstance(model, torch.nn.Module):
            return model
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from motionkit.registry import MODELS
        import motionkit.models  # noqa: F401  (registers the models)
        source = cfg if cfg is not None else model
        model_cfg = source.get('model', source) if isinstance(source, (dict, Config)) else None
        if model_cfg is None or 'type' not in model_cfg:
            raise ValueError('CorrectiveInstructionInferencer: model must be a config path, a config '
                             'with a "model" entry, a model config dict or a module')
        model_cfg = model_cfg.to_dict() if hasattr(model_cfg, 'to_dict') else dict(model_cfg)
        scope = source.get('default_scope', 'motionkit') if cfg is not None else 'motionkit'
        with DefaultScope.overwrite_default_scope(scope or 'motionkit'):
            return MODELS.build(model_cfg)

    @staticmethod
    def _representation(tokenizer):
        rep = getattr(tokenizer, 'representation', None)
        if isinstance(rep, str):
            from motionkit.registry import REPRESENTATIONS
            rep = REPRESENTATIONS.build(dict(type=rep))
        return rep

    def _datasets(self) -> List[dict]:
        """Dataset configs of the test, val and train dataloaders (in that order of preference)."""
        out = []
        for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
            loader = (self.cfg or {}).get(key)
            dataset = loader.get('dataset') if isinstance(loader, dict) else None
            while isinstance(dataset, dict) and 'dataset' in dataset and 'data_root' not in dataset:
                dataset = dataset['dataset']  # wrappers (RepeatDataset, ...)
            if isinstance(dataset, dict):
                out.append((key, dataset))
        return out

    def _max_length(self, max_length) -> Optional[int]:
        if max_length != 'auto':
            if max_length is not None and int(max_length) < 1:
                raise ValueError(f'CorrectiveInstructionInferencer: max_length must be >= 1 or None, '
                                 f'got {max_length}')
            return None if max_length is None else int(max_length)
        for _, dataset in self._datasets():
            for step in dataset.get('pipeline') or []:
                if isinstance(step, dict) and step.get('type') in ('LoadMotionPair',
                                                                   'motionkit.LoadMotionPair'):
                    return step.get('max_length', 196)
        return 196  # LoadMotionPair's default

    def _pair_preprocessor(self, mean, std) -> torch.nn.Module:
        """A ``MotionPairDataPreprocessor`` with the model's padding and resolved statistics."""
        from motionkit.models.data_preprocessors import MotionPairDataPreprocessor
        pre = self.model.data_preprocessor
        pad_value = float(getattr(pre, 'pad_value', 0.0))
        if (mean is None) != (std is None):
            raise ValueError('CorrectiveInstructionInferencer: give both mean and std, or neither')
        if mean is None and isinstance(pre, MotionPairDataPreprocessor) and not pre.normalize:
            self.mean = self.std = None  # the model was trained on raw features
            return MotionPairDataPreprocessor(pad_value=pad_value, normalize=False)
        where = 'mean/std arguments'
        if mean is None and getattr(pre, 'mean', None) is not None:
            mean, std = pre.mean.cpu().numpy(), pre.std.cpu().numpy()
            where = f'{type(pre).__name__} of the model'
        if mean is None:
            mean, std, where = self._stats_from_config()
        self.mean, self.std = self._stat(mean, 'mean'), self._stat(std, 'std')
        if not np.isfinite(self.std).all() or (self.std <= 0).any():
            raise ValueError(f'CorrectiveInstructionInferencer: std must be finite and > 0 ({where})')
        self.stats_source = where
        return MotionPairDataPreprocessor(mean=self.mean, std=self.std, pad_value=pad_value)

    def _stats_from_config(self) -> Tuple[str, str, str]:
        tried = []
        for key, dataset in self._datasets():
            root = dataset.get('data_root')
            if not root:
                continue
            paths = [osp.join(str(root), name) for name in ('Mean.npy', 'Std.npy')]
            if all(osp.isfile(p) for p in paths):
                return paths[0], paths[1], f'{key}.dataset.data_root {root}'
            tried.append(' / '.join(p for p in paths if not osp.isfile(p)))
        found = (f'not found: {"; ".join(tried)}' if tried
                 else 'the model has none and no config dataset names a data_root')
        raise FileNotFoundError('CorrectiveInstructionInferencer: no normalisation statistics: pass '
                                f'mean= and std= (.npy paths or ({self.feature_dim},) arrays) of the '
                                f'data the model was trained on ({found})')

    def _stat(self, value: Any, name: str) -> np.ndarray:
        if isinstance(value, str):
            if not osp.isfile(value):
                raise FileNotFoundError(f'CorrectiveInstructionInferencer: {name} file not found: {value}')
            arr = np.load(value, allow_pickle=False)
        else:
            arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        arr = arr.astype(np.float32).reshape(-1)
        if arr.shape != (self.feature_dim, ):
            where = value if isinstance(value, str) else 'array'
            raise ValueError(f'CorrectiveInstructionInferencer: {name} ({where}): expected '
                             f'({self.feature_dim},), got {arr.shape}')
        return arr

    # ------------------------------------------------------------------ motions
    def _load(self, motion: Motion, what: str) -> np.ndarray:
        """Raw features ``(T, D)`` float32 of a ``.npy`` path or an array (features or joints)."""
        rep = self.representation
        if isinstance(motion, str):
            if rep is not None:
                feats, _ = load_motion_file(motion, rep)
            else:
                if not osp.isfile(motion):
                    raise FileNotFoundError(f'motion file not found: {motion}')
                feats = np.load(motion, allow_pickle=False)
                if feats.ndim != 2 or feats.shape[1] != self.feature_dim:
                    raise ValueError(f'{motion}: expected features (T, {self.feature_dim}), got '
                                     f'shape {feats.shape}')
            name = motion
        else:
            if isinstance(motion, torch.Tensor):
                motion = motion.detach().cpu().numpy()
            arr = np.asarray(motion, dtype=np.float32)
            name = f'{what} array'
            if arr.ndim == 3 and arr.shape[-1] == 3 and rep is not None:
                joints_num = rep.skeleton.num_joints
                if arr.shape[1] != joints_num:
                    raise ValueError(f'{name}: joints of shape {arr.shape}, but the '
                                     f'{rep.skeleton.name} skeleton has {joints_num} joints')
                feats = np.asarray(rep.encode(arr), dtype=np.float32)
            elif arr.ndim == 2 and arr.shape[1] == self.feature_dim:
                feats = arr
            else:
                raise ValueError(f'{name}: expected (T, {self.feature_dim}) features or (T, J, 3) '
                                 f'joints, got shape {arr.shape}')
        if len(feats) == 0:
            raise ValueError(f'{name}: the motion has no frames')
        if not np.isfinite(feats).all():
            raise ValueError(f'{name}: the motion contains NaN or inf')
        if self.max_length is not None:
            feats = feats[:self.max_length]  # LoadMotionPair keeps the first max_length frames
        return np.ascontiguousarray(feats, dtype=np.float32)

    @staticmethod
    def _as_list(value, name: str) -> Tuple[list, bool]:
        single = isinstance(value, (str, torch.Tensor)) or (isinstance(value, np.ndarray)
                                                            and value.dtype != object)
        if single:
            return [value], True
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f'CorrectiveInstructionInferencer: {name} is an empty list')
            return list(value), False
        raise TypeError(f'CorrectiveInstructionInferencer: {name} must be a .npy path, an array or a '
                        f'list of them, got {type(value).__name__}')

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def __call__(self, source: Union[Motion, Sequence[Motion]],
                 target: Union[Motion, Sequence[Motion]]) -> List[dict]:
        """Generate corrective instructions.

        Args:
            source: ``.npy`` path or array of raw features ``(T, D)`` or joints ``(T, J, 3)``, or a
                list of them.
            target: the same kinds, one per source.

        Returns:
            one ``dict(instruction=str, source=path or 'array', target=path or 'array')`` per pair
            (a list of one for a single pair).
        """
        from motionkit.structures import MotionDataSample
        sources, _ = self._as_list(source, 'source')
        targets, _ = self._as_list(target, 'target')
        if len(sources) != len(targets):
            raise ValueError(f'CorrectiveInstructionInferencer: {len(sources)} sources but '
                             f'{len(targets)} targets; give one target per source')
        pairs = [(self._load(s, f'source[{i}]'), self._load(t, f'target[{i}]'))
                 for i, (s, t) in enumerate(zip(sources, targets))]
        texts: List[str] = []
        for start in range(0, len(pairs), self.batch_size):
            chunk = pairs[start:start + self.batch_size]
            # motion_pair_collate's layout: unpadded lists, one data sample per pair
            batch = dict(inputs=dict(source=[torch.from_numpy(s) for s, _ in chunk],
                                     target=[torch.from_numpy(t) for _, t in chunk]),
                         data_samples=[MotionDataSample() for _ in chunk])
            data = self.data_preprocessor(batch, training=False)
            out = self.model(data['inputs'], data['data_samples'], mode='predict')
            texts.extend(str(sample.pred_instruction) for sample in out)
        return [dict(instruction=text, source=s if isinstance(s, str) else 'array',
                     target=t if isinstance(t, str) else 'array')
                for text, s, t in zip(texts, sources, targets)]
