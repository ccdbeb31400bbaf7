"""MotionVisualizer: draw ground-truth vs predicted motions of a data sample, side by side.

What a data sample must hold (a ``BaseDataElement`` such as ``MotionDataSample``, or a dict), for
each panel prefix ``p`` in ``panels`` (default ``gt`` and ``pred``):

* ``{p}_joints``: joint positions ``(T, J, 3)`` (metres, Y up), drawn as they are; or
* ``{p}_motion``: features ``(T, D)`` of a registered representation, decoded to joints with
  ``REPRESENTATIONS.build(dict(type=<representation>)).decode``. The representation's name comes
  from the sample's metainfo key ``representation`` (e.g. ``'HumanML3DFeatures'``) or the
  visualizer's ``representation`` argument. If the metainfo key ``normalized`` is true, the
  features are first denormalised, ``x * std + mean``, with ``mean`` / ``std`` (arrays or
  ``.npy`` paths) from the metainfo or from the visualizer's arguments.

Optional keys: ``{p}_length`` or ``length`` (frames to keep, cutting batch padding; for
features it counts feature frames), ``{p}_text`` (caption of a panel; for ``gt`` also ``text``,
``caption`` or the first of ``gt_texts`` / ``texts``), and ``skeleton`` in the metainfo
(default: the representation's skeleton, else the visualizer's ``skeleton``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from motionkit.registry import VISUALIZERS
from .skeleton_renderer import (frame_grid, render_side_by_side, resolve_skeleton, save_video,
                                to_numpy)

_REP_CACHE: dict = {}


def _get(sample: Any, key: str, default: Any = None) -> Any:
    if sample is None:
        return default
    if isinstance(sample, dict):
        if key in sample:
            return sample[key]
        meta = sample.get('metainfo')
        return meta.get(key, default) if isinstance(meta, dict) else default
    return sample.get(key, default)


def _load_stat(value: Any, name: str) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f'{name}: statistics file {path} does not exist')
        return np.load(path).astype(np.float64)
    return to_numpy(value, name)


def build_representation(name_or_obj: Any):
    """A registered representation by name (cached), or an object with ``decode`` as is."""
    if hasattr(name_or_obj, 'decode'):
        return name_or_obj
    if isinstance(name_or_obj, dict):
        from motionkit.registry import REPRESENTATIONS
        return REPRESENTATIONS.build(name_or_obj)
    if name_or_obj not in _REP_CACHE:
        from motionkit.registry import REPRESENTATIONS
        _REP_CACHE[name_or_obj] = REPRESENTATIONS.build(dict(type=name_or_obj))
    return _REP_CACHE[name_or_obj]


def features_to_joints(features: Any,
                       representation: Any,
                       mean: Any = None,
                       std: Any = None) -> tuple[np.ndarray, Any]:
    """Decode features ``(T, D)`` of a representation to joints ``(T', J, 3)``.

    If ``mean`` and ``std`` are given the features are denormalised first (``x * std + mean``,
    the inverse of the dataset normalisation of HumanML3D / T2M).

    Returns:
        (joints, skeleton of the representation or None)
    """
    feats = to_numpy(features, 'features')
    if feats.ndim != 2:
        raise ValueError(f'features: expected (T, D), got shape {feats.shape}')
    rep = build_representation(representation)
    dim = getattr(rep, 'dim', None)
    if dim is not None and feats.shape[-1] != dim:
        raise ValueError(f'features: {type(rep).__name__} expects {dim} features per frame, got '
                         f'shape {feats.shape}')
    if (mean is None) != (std is None):
        raise ValueError('features_to_joints: give both mean and std, or neither')
    if mean is not None:
        mean, std = _load_stat(mean, 'mean'), _load_stat(std, 'std')
        if mean.shape[-1] != feats.shape[-1] or std.shape[-1] != feats.shape[-1]:
            raise ValueError(f'mean/std have shapes {mean.shape}/{std.shape}, features '
                             f'{feats.shape}')
        feats = feats * std + mean
    joints = to_numpy(rep.decode(feats.astype(np.float32)), 'decoded joints')
    return joints, getattr(rep, 'skeleton', None)


def sample_to_joints(data_sample: Any,
                     prefix: str,
                     representation: Any = None,
                     mean: Any = None,
                     std: Any = None) -> tuple[np.ndarray, Any] | None:
    """Joints ``(T, J, 3)`` of the ``{prefix}_joints`` / ``{prefix}_motion`` field of a sample.

    See the module docstring for the keys read. Returns ``(joints, skeleton or None)``, or None
    when the sample has neither field.
    """
    length = _get(data_sample, f'{prefix}_length', _get(data_sample, 'length'))
    joints = _get(data_sample, f'{prefix}_joints')
    skeleton = None
    if joints is not None:
        joints = to_numpy(joints, f'{prefix}_joints')
        if length is not None:
            joints = joints[:int(length)]
    else:
        feats = _get(data_sample, f'{prefix}_motion')
        if feats is None:
            return None
        rep = _get(data_sample, 'representation', representation)
        if rep is None:
            raise ValueError(f'data sample has {prefix}_motion but no representation: set '
                             "metainfo['representation'] (e.g. 'HumanML3DFeatures') or the "
                             "visualizer's representation argument")
        feats = to_numpy(feats, f'{prefix}_motion')
        if length is not None:
            feats = feats[:int(length)]
        m = s = None
        if bool(_get(data_sample, 'normalized', False)):
            m = _get(data_sample, 'mean', mean)
            s = _get(data_sample, 'std', std)
            if m is None or s is None:
                raise ValueError(f'data sample says normalized=True but no mean/std found (in '
                                 'its metainfo or the visualizer/hook arguments) to decode '
                                 f'{prefix}_motion')
        joints, skeleton = features_to_joints(feats, rep, m, s)
    if joints.ndim != 3 or joints.shape[-1] != 3:
        raise ValueError(f'{prefix}_joints: expected (T, J, 3), got {joints.shape}')
    return joints, skeleton


def sample_caption(data_sample: Any, prefix: str) -> str | None:
    """Caption of a panel: ``{prefix}_text``; for ``gt`` also ``text``, ``caption`` or the first
    of ``gt_texts`` / ``texts``."""
    text = _get(data_sample, f'{prefix}_text')
    if text is None and prefix == 'gt':
        for key in ('text', 'caption', 'gt_texts', 'texts'):
            text = _get(data_sample, key)
            if text is not None:
                break
    if isinstance(text, (list, tuple)):
        text = text[0] if text else None
    return None if text is None else str(text)


@VISUALIZERS.register_module()
class MotionVisualizer(Visualizer):
    """Render ground truth vs prediction of a motion data sample and send it to the backends.

    ``add_datasample`` renders the panels side by side (one shared fixed camera), sends a grid
    of evenly spaced frames to every vis backend with ``add_image`` (``LocalVisBackend`` writes
    it to ``<save_dir>/vis_data/vis_image/<name>_<step>.png``), and writes the clip as
    GIF / MP4 to ``<vis dir>/vis_video/<name>_<step>.<fmt>`` (vis dir = the LocalVisBackend's
    folder, else ``<save_dir>/vis_data``), or to ``out_file``.

    Args:
        name, vis_backends, save_dir: as :class:`mmengine.visualization.Visualizer`.
        skeleton: skeleton for joints without a representation (default ``'t2m22'``).
        representation: representation name used when a sample holds features but does not
            name one.
        mean, std: denormalisation statistics (arrays or ``.npy`` paths) for samples marked
            ``normalized`` that do not carry their own.
        panels: ``(prefix, label)`` pairs drawn left to right, e.g.
            ``(('source', 'Source'), ('gt', 'Target'), ('pred', 'Prediction'))``.
        width, height: size of one panel in pixels.
        fps: video frame rate (the motion convention is 20 fps).
        video_formats: any of ``'gif'``, ``'mp4'``; empty to write no video.
        grid_frames, grid_cols: frames in the image sent to ``add_image`` and its columns.
        renderer_cfg: extra arguments of :class:`SkeletonRenderer` (``elev``, ``azim``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Any = None,
                 save_dir: str | None = None,
                 skeleton: Any = 't2m22',
                 representation: Any = None,
                 mean: Any = None,
                 std: Any = None,
                 panels: Sequence[Sequence[str]] = (('gt', 'GT'), ('pred', 'Prediction')),
                 width: int = 320,
                 height: int = 320,
                 fps: float = 20.0,
                 video_formats: Sequence[str] = ('gif', ),
                 grid_frames: int = 4,
                 grid_cols: int = 4,
                 renderer_cfg: dict | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, vis_backends=vis_backends, save_dir=save_dir, **kwargs)
        self._root_save_dir = save_dir
        self.skeleton = skeleton
        self.representation = representation
        self.mean, self.std = mean, std
        self.panels = [tuple(p) for p in panels]
        for p in self.panels:
            if len(p) != 2:
                raise ValueError(f'panels: expected (prefix, label) pairs, got {p!r}')
        # not self.width / self.height: mmengine's Visualizer.set_image overwrites those
        self.panel_width, self.panel_height, self.fps = int(width), int(height), float(fps)
        bad = [f for f in video_formats if f not in ('gif', 'mp4')]
        if bad:
            raise ValueError(f"video_formats: unknown {bad}; use 'gif' and/or 'mp4'")
        self.video_formats = tuple(video_formats)
        self.grid_frames, self.grid_cols = int(grid_frames), int(grid_cols)
        self.renderer_cfg = dict(renderer_cfg or {})

    def vis_dir(self) -> Path | None:
        """Folder for videos: the LocalVisBackend's folder, else ``<save_dir>/vis_data``."""
        for backend in self._vis_backends.values():
            d = getattr(backend, '_save_dir', None)
            if d:
                return Path(d)
        if self._root_save_dir:
            return Path(self._root_save_dir) / 'vis_data'
        return None

    def render_sample(self,
                      data_sample: Any,
                      draw_gt: bool = True,
                      draw_pred: bool = True) -> np.ndarray:
        """Render the sample's panels side by side: uint8 ``(T, height, n * width, 3)``."""
        motions, titles, skeletons = [], [], []
        for prefix, label in self.panels:
            if (prefix == 'gt' and not draw_gt) or (prefix == 'pred' and not draw_pred):
                continue
            got = sample_to_joints(data_sample, prefix, self.representation, self.mean, self.std)
            if got is None:
                continue
            joints, rep_skeleton = got
            skel = _get(data_sample, 'skeleton') or rep_skeleton or self.skeleton
            caption = sample_caption(data_sample, prefix)
            motions.append(joints)
            titles.append(f'{label}: {caption}' if caption else label)
            skeletons.append(resolve_skeleton(skel))
        if not motions:
            wanted = ', '.join(f'{p}_joints/{p}_motion' for p, _ in self.panels)
            raise ValueError(f'MotionVisualizer: the data sample has none of {wanted}')
        return render_side_by_side(motions, titles, skeleton=skeletons,
                                   width=self.panel_width, height=self.panel_height,
                                   **self.renderer_cfg)

    @master_only
    def add_datasample(self,
                       name: str,
                       data_sample: Any = None,
                       step: int = 0,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: str | None = None,
                       image: np.ndarray | None = None) -> list[Path]:
        """Render ``data_sample`` (gt | pred) and record it.

        Args:
            name: identifier, used in file names (``<name>_<step>``).
            data_sample: a data sample / dict with the keys listed in the module docstring.
            step: global step (training iteration for validation).
            draw_gt, draw_pred: include the ``gt`` / ``pred`` panels.
            show: also display the frame grid in a window (needs a GUI backend).
            out_file: write the video here (suffix .gif/.mp4 picks the format) instead of the
                vis folder; the frame grid is then not sent to the backends.
            image: ignored (kept for the signature of mmengine's ``Visualizer``).

        Returns:
            paths of the written video files.
        """
        frames = self.render_sample(data_sample, draw_gt=draw_gt, draw_pred=draw_pred)
        grid = frame_grid(frames, num=self.grid_frames, cols=self.grid_cols)
        self.set_image(grid)
        if show:
            self.show(grid, win_name=name, wait_time=wait_time)
        written = []
        if out_file is not None:
            written.append(save_video(frames, out_file, fps=self.fps))
            return written
        self.add_image(name, grid, step)
        vis_dir = self.vis_dir()
        if vis_dir is not None:
            for fmt in self.video_formats:
                path = vis_dir / 'vis_video' / f'{name}_{step}.{fmt}'
                written.append(save_video(frames, path, fps=self.fps))
        return written
