"""``MotionEditorInferencer``: edit a motion file with an instruction and a body part, in one call."""
from __future__ import annotations

import os.path as osp
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

from motionkit.registry import INFERENCERS

__all__ = ['MotionEditorInferencer', 'load_motion_file']


def load_motion_file(path: str, representation: Any) -> tuple:
    """Read a ``.npy`` motion: features ``(T, D)`` or joints ``(T, J, 3)``.

    Returns:
        ``(features (T', D) float32 raw, kind)`` with ``kind`` ``'features'`` or ``'joints'``
        (joints are encoded with the representation, which drops one frame).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'motion file not found: {path}')
    if not path.endswith('.npy'):
        raise ValueError(f'{path}: expected a .npy file of features (T, D) or joints (T, J, 3)')
    array = np.load(path, allow_pickle=False)
    if array.ndim == 2:
        if array.shape[1] != representation.dim:
            raise ValueError(f'{path}: features of shape {array.shape}, but '
                             f'{type(representation).__name__} has {representation.dim} features')
        feats, kind = array, 'features'
    elif array.ndim == 3 and array.shape[-1] == 3:
        joints_num = representation.skeleton.num_joints
        if array.shape[1] != joints_num:
            raise ValueError(f'{path}: joints of shape {array.shape}, but the '
                             f'{representation.skeleton.name} skeleton has {joints_num} joints')
        feats, kind = np.asarray(representation.encode(array.astype(np.float32))), 'joints'
    else:
        raise ValueError(f'{path}: expected (T, D) features or (T, J, 3) joints, got shape '
                         f'{array.shape}')
    if not np.isfinite(feats).all():
        raise ValueError(f'{path}: the motion contains NaN or inf')
    return feats.astype(np.float32), kind


@INFERENCERS.register_module()
class MotionEditorInferencer:
    """Edit motions with a trained MDM-style editor (``MDM.edit``) and render before / after.

    Example:
        >>> editor = MotionEditorInferencer('configs/mdm/mdm_tiny_1xb32-2k_synthmotion.py',
        ...                                 'work_dirs/mdm/iter_2000.pth',
        ...                                 mean='data/Mean.npy', std='data/Std.npy')
        >>> result = editor('walk.npy', 'raise both arms', part='upper_body', out_file='edit.mp4')

    Args:
        model: a config path, a Config / dict with a ``model`` entry, a model config dict, or a
            built model.
        weights: checkpoint path (loaded with :func:`motionkit.utils.safe_load`); None keeps the
            initial weights (only for tests).
        mean, std: ``(D,)`` arrays or ``.npy`` paths of the normalisation the model was trained
            with; default: the model's data preprocessor statistics, else no normalisation.
        device: ``'cpu'`` or ``'cuda'``.
    """

    def __init__(self, model: Union[str, dict, torch.nn.Module], weights: Optional[str] = None,
                 mean: Any = None, std: Any = None, device: str = 'cpu') -> None:
        self.model = self._build(model)
        if weights is not None:
            from motionkit.utils import safe_load
            ckpt = safe_load(weights, map_location='cpu')
            state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
            missing, unexpected = self.model.load_state_dict(state, strict=False)
            if missing or unexpected:
                raise KeyError(f'{weights}: checkpoint does not match the model: missing '
                               f'{list(missing)[:5]}, unexpected {list(unexpected)[:5]}')
        self.model.to(device).eval()
        if not hasattr(self.model, 'edit'):
            raise TypeError(f'{type(self.model).__name__} has no edit() method; use an editor '
                            'such as MDM')
        self.representation = self.model.representation
        if (mean is None) != (std is None):
            raise ValueError('MotionEditorInferencer: give both mean and std, or neither')
        if mean is None:
            pre = self.model.data_preprocessor
            if getattr(pre, 'normalize', False):
                mean, std = pre.mean.cpu().numpy(), pre.std.cpu().numpy()
        self.mean = None if mean is None else self._stat(mean, 'mean')
        self.std = None if std is None else self._stat(std, 'std')

    @staticmethod
    def _build(model):
        if isinstance(model, torch.nn.Module):
            return model
        from mmengine.config import Config
        from motionkit.registry import MODELS
        import motionkit.models  # noqa: F401  (registers the models)
        if isinstance(model, str):
            model = Config.fromfile(model)
        cfg = model.get('model', model) if isinstance(model, (dict, Config)) else None
        if cfg is None or 'type' not in cfg:
            raise ValueError('MotionEditorInferencer: model must be a config path, a config with '
                             'a "model" entry, a model config dict or a module')
        cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
        return MODELS.build(cfg)

    def _stat(self, value: Any, name: str) -> np.ndarray:
        arr = np.load(value) if isinstance(value, str) else np.asarray(value)
        arr = arr.astype(np.float32).reshape(-1)
        if arr.shape != (self.representation.dim, ):
            raise ValueError(f'{name}: expected ({self.representation.dim},), got {arr.shape}')
        return arr

    def _normalize(self, feats: np.ndarray) -> np.ndarray:
        return feats if self.mean is None else (feats - self.mean) / self.std

    def _denormalize(self, feats: np.ndarray) -> np.ndarray:
        return feats if self.mean is None else feats * self.std + self.mean

    def __call__(self,
                 motion: Union[str, np.ndarray],
                 instruction: str,
                 part: Union[str, Sequence[str], None] = 'upper_body',
                 prefix_frames: Union[int, float] = 0.25,
                 suffix_frames: Union[int, float] = 0.25,
                 inpaint: bool = False,
                 num_inference_steps: Optional[int] = None,
                 guidance_scale: Optional[float] = None,
                 seed: int = 0,
                 out_file: Optional[str] = None,
                 fps: float = 20.0) -> dict:
        """Edit one motion.

        Args:
            motion: ``.npy`` path or array of raw features ``(T, D)`` or joints ``(T, J, 3)``.
            instruction: text the edited part should follow.
            part: body part to regenerate (``'upper_body'``, ``'lower_body'``, ``'left_arm'``, a
                joint name or a list), ``'inbetween'`` to regenerate the middle frames, or None to
                regenerate everything.
            prefix_frames, suffix_frames: kept frames for ``'inbetween'`` (ints or fractions).
            inpaint, num_inference_steps, guidance_scale: see ``MDM.edit``.
            seed: sampling seed.
            out_file: write a side-by-side video (.mp4 / .gif) or grid image (.png) here.

        Returns:
            ``dict(source, edited)`` raw features ``(T, D)``, ``source_joints``,
            ``edited_joints`` ``(T, J, 3)`` and ``out_file`` (None if not written).
        """
        rep = self.representation
        if isinstance(motion, str):
            feats, _ = load_motion_file(motion, rep)
        else:
            arr = np.asarray(motion, dtype=np.float32)
            feats = np.asarray(rep.encode(arr), dtype=np.float32) if arr.ndim == 3 else arr
            if feats.ndim != 2 or feats.shape[1] != rep.dim:
                raise ValueError(f'motion: expected (T, {rep.dim}) features or (T, J, 3) joints, '
                                 f'got {arr.shape}')
        device = self.model.device
        source = torch.from_numpy(self._normalize(feats))[None].to(device)
        generator = torch.Generator(device=device).manual_seed(seed)
        kwargs = dict(inpaint=inpaint, num_inference_steps=num_inference_steps,
                      guidance_scale=guidance_scale, generator=generator)
        if part == 'inbetween':
            edited = self.model.inbetween(source, [instruction], prefix_frames=prefix_frames,
                                          suffix_frames=suffix_frames, **kwargs)
        elif part is None:
            keep = torch.zeros(rep.dim, dtype=torch.bool)
            edited = self.model.edit(source, keep, [instruction], **kwargs)
        else:
            edited = self.model.edit_body_part(source, [instruction], part, **kwargs)
        edited = self._denormalize(edited[0].cpu().numpy())
        src_joints = np.asarray(rep.decode(feats))
        edit_joints = np.asarray(rep.decode(edited.astype(np.float32)))
        written = None
        if out_file is not None:
            from motionkit.visualization.skeleton_renderer import render_side_by_side, save_video
            frames = render_side_by_side(
                [src_joints, edit_joints],
                titles=['source', f'edited ({part or "all"}): {instruction}'],
                skeleton=rep.skeleton)
            written = str(save_video(frames, out_file, fps=fps))
        return dict(source=feats, edited=edited, source_joints=src_joints,
                    edited_joints=edit_joints, out_file=written)
