"""Video transforms: frame-index sampling, decoding, resizing, normalisation, cached features.

A video pipeline works on a ``results`` dict keyed per view. With ``view=None`` the keys are
``video_path``, ``total_frames``, ``video_fps``, ``frame_inds``, ``frames``, ``video_features``;
with ``view='ego'`` each gets the prefix ``ego_`` (``ego_video_path``, ``ego_frames``, ...), which is
how an ego/exo pair (ExpertAF's Aria + exocentric views of one Ego-Exo4D take) travels through one
pipeline. A typical pipeline::

    dict(type='UniformSampleFrames', num_frames=8),       # -> frame_inds
    dict(type='LoadVideoFrames'),                         # -> frames (N, H, W, 3) uint8 RGB
    dict(type='ResizeFrames', scale=(224, 224)),
    dict(type='NormalizeFrames'),                         # -> frames (N, 3, H, W) float32

Samplers read the frame count and fps from the file when ``total_frames`` / ``video_fps`` are not
in ``results`` yet. A window that does not fit the video (the video is shorter than what is asked
for) is an error naming the file by default; with ``on_short='skip'`` the transform returns
``None`` (the dataset drops the sample), counts the skip in ``num_skipped`` and logs the file.
"""
from __future__ import annotations

import logging
import math
import os
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from motionkit.registry import TRANSFORMS
from ..video_feature_cache import VideoFeatureCache
from ..video_reader import VideoReadError, probe_video, read_video_frames
from .base import BaseTransform

__all__ = [
    'VideoWindowError', 'uniform_frame_indices', 'clip_frame_indices', 'time_to_frame_indices',
    'UniformSampleFrames', 'SampleClipAroundTimestamp', 'SampleEgoExoPair', 'LoadVideoFrames',
    'ResizeFrames', 'NormalizeFrames', 'CheckVideoPoseLength', 'LoadCachedVideoFeatures',
    'LoadPrecomputedVideoFeatures', 'IMAGENET_MEAN', 'IMAGENET_STD', 'VideoReadError'
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VideoWindowError(ValueError):
    """The frames asked for do not fit in the video (it is shorter than the sampled window)."""


# ---------------------------------------------------------------------------- pure index maths
def uniform_frame_indices(num_total: int, num_frames: int, mode: str = 'center', start: int = 0,
                          end: Optional[int] = None,
                          rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """``num_frames`` indices spread over the frames ``[start, end)`` of a video.

    Modes (``L = end - start`` frames, ``s = L / num_frames``):

    * ``'center'``: the middle frame of each of ``num_frames`` equal segments,
      ``start + floor(s * (k + 0.5))`` (TSN's test-time sampling);
    * ``'random'``: a random frame of each segment, ``start + floor(s * (k + u_k))``, ``u_k ~ U[0, 1)``
      (TSN's training-time sampling);
    * ``'linspace'``: ``start + round(linspace(0, L - 1, num_frames))``, both ends included — how
      ExpertAF samples its pose frames (``num_pose_frames=10``, reference ``llava/train/train.py``).

    Raises:
        VideoWindowError: the window has fewer than ``num_frames`` frames (no frame is repeated).
    """
    end = num_total if end is None else end
    if num_frames < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    if not 0 <= start < end <= num_total:
        raise VideoWindowError(f'frame window [{start}, {end}) is empty or outside the video '
                               f'({num_total} frames)')
    length = end - start
    if length < num_frames:
        raise VideoWindowError(f'the window has {length} frames, fewer than the {num_frames} '
                               'frames to sample')
    k = np.arange(num_frames)
    if mode == 'center':
        offsets = np.floor(length / num_frames * (k + 0.5))
    elif mode == 'random':
        rng = rng if rng is not None else np.random.default_rng()
        offsets = np.floor(length / num_frames * (k + rng.random(num_frames)))
    elif mode == 'linspace':
        offsets = np.round(np.linspace(0, length - 1, num_frames))
    else:
        raise ValueError(f"mode must be 'center', 'random' or 'linspace', got {mode!r}")
    return (start + offsets).astype(np.int64)


def time_to_frame_indices(times: np.ndarray, video_fps: float) -> np.ndarray:
    """The frame shown at each time (seconds): frame ``i`` covers ``[i / fps, (i + 1) / fps)``."""
    # the epsilon keeps a time that is exactly on a frame boundary (up to float error) on that frame
    return np.floor(np.asarray(times, dtype=np.float64) * video_fps + 1e-6).astype(np.int64)


def clip_frame_indices(num_total: int, video_fps: float, timestamp: float, num_frames: int,
                       sample_fps: float, on_boundary: str = 'shift') -> np.ndarray:
    """``num_frames`` frames at ``sample_fps`` centred on ``timestamp`` seconds.

    The sampled times are ``timestamp + (k - (num_frames - 1) / 2) / sample_fps``; each maps to
    the frame shown then (:func:`time_to_frame_indices`). A window that crosses the start or the end
    of the video is shifted inside it (``on_boundary='shift'``) or is an error (``'error'``).

    Raises:
        VideoWindowError: the window spans more frames than the video has, or it crosses a video
            boundary and ``on_boundary='error'``.
    """
    if num_frames < 1 or not sample_fps > 0 or not video_fps > 0:
        raise ValueError(f'need num_frames >= 1, sample_fps > 0, video_fps > 0; got {num_frames}, '
                         f'{sample_fps}, {video_fps}')
    if on_boundary not in ('shift', 'error'):
        raise ValueError(f"on_boundary must be 'shift' or 'error', got {on_boundary!r}")
    times = timestamp + (np.arange(num_frames) - (num_frames - 1) / 2) / sample_fps
    idx = time_to_frame_indices(times, video_fps)
    span = int(idx[-1] - idx[0] + 1)
    if span > num_total:
        raise VideoWindowError(
            f'a clip of {num_frames} frames at {sample_fps} fps spans {span} frames '
            f'({(num_frames - 1) / sample_fps:.3f} s), more than the {num_total} frames of the video '
            f'({num_total / video_fps:.3f} s at {video_fps:.3f} fps)')
    if idx[0] < 0 or idx[-1] >= num_total:
        if on_boundary == 'error':
            raise VideoWindowError(f'the clip around t={timestamp:.3f} s covers frames '
                                   f'{int(idx[0])}..{int(idx[-1])}, outside the video '
                                   f'(0..{num_total - 1})')
        idx = idx - min(idx[0], 0) - max(idx[-1] - (num_total - 1), 0)
    return idx


# ---------------------------------------------------------------------------- helpers
def _prefix(view: Optional[str]) -> str:
    return f'{view}_' if view else ''


def _video_path(results: dict, view: Optional[str], owner: str) -> str:
    key = f'{_prefix(view)}video_path'
    if key not in results:
        raise KeyError(f'{owner}: results has no {key!r} (keys: {sorted(results)})')
    return os.fspath(results[key])


def _ensure_info(results: dict, view: Optional[str], backend: str, owner: str) -> tuple:
    """(path, total_frames, video_fps) of a view, probing the file once when they are missing."""
    p = _prefix(view)
    path = _video_path(results, view, owner)
    if f'{p}total_frames' not in results or f'{p}video_fps' not in results:
        info = probe_video(path, backend)
        results[f'{p}total_frames'] = info.num_frames
        results[f'{p}video_fps'] = info.fps
    return path, int(results[f'{p}total_frames']), float(results[f'{p}video_fps'])


class _SkipCounter:
    """``on_short='error' | 'skip'`` handling shared by the samplers and checks."""

    def _init_skip(self, on_short: str) -> None:
        if on_short not in ('error', 'skip'):
            raise ValueError(f"on_short must be 'error' or 'skip', got {on_short!r}")
        self.on_short = on_short
        self.num_skipped = 0

    def _skip_or_raise(self, message: str, exc_type=VideoWindowError):
        if self.on_short == 'error':
            raise exc_type(message)
        self.num_skipped += 1
        print_log(f'{type(self).__name__}: skipped ({self.num_skipped} so far): {message}',
                  logger='current', level=logging.WARNING)
        return None


# ---------------------------------------------------------------------------- samplers
@TRANSFORMS.register_module()
class UniformSampleFrames(_SkipCounter, BaseTransform):
    """Sample ``num_frames`` frame indices spread uniformly over a video (or its frame window).

    Required keys: ``{view_}video_path``. Optional: ``{view_}total_frames``, ``{view_}video_fps``
    (read from the file when absent), ``start_frame`` / ``end_frame`` (window, end exclusive).
    Added keys: ``{view_}frame_inds`` ``(num_frames,)`` int64, and the two probed keys.

    Args:
        num_frames: Frames per clip.
        mode: ``'center'`` (deterministic, default), ``'random'`` (one random frame per segment) or
            ``'linspace'`` (ExpertAF's rounding of ``linspace(0, T - 1, N)``); see
            :func:`uniform_frame_indices`.
        views: The views to sample (``None`` = unprefixed keys), each independently.
        on_short: A window with fewer than ``num_frames`` frames: ``'error'`` or ``'skip'``.
        backend: Video backend used to probe the file (``'auto'``, ``'decord'``, ``'opencv'``).
        seed: Seed of the ``'random'`` mode's generator (``None`` = fresh entropy).
    """

    def __init__(self, num_frames: int, mode: str = 'center', views: Sequence = (None,),
                 on_short: str = 'error', backend: str = 'auto', seed: Optional[int] = None) -> None:
        if mode not in ('center', 'random', 'linspace'):
            raise ValueError(f"mode must be 'center', 'random' or 'linspace', got {mode!r}")
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.num_frames = num_frames
        self.mode = mode
        self.views = tuple(views)
        self.backend = backend
        self._rng = np.random.default_rng(seed)
        self._init_skip(on_short)

    def transform(self, results: dict) -> Optional[dict]:
        for view in self.views:
            path, total, _ = _ensure_info(results, view, self.backend, type(self).__name__)
            start = int(results.get('start_frame', 0) or 0)
            end = results.get('end_frame')
            end = total if end is None else min(int(end), total)
            try:
                idx = uniform_frame_indices(total, self.num_frames, self.mode, start, end, self._rng)
            except VideoWindowError as err:
                return self._skip_or_raise(f'{path}: {err}')
            results[f'{_prefix(view)}frame_inds'] = idx
        return results


@TRANSFORMS.register_module()
class SampleClipAroundTimestamp(_SkipCounter, BaseTransform):
    """Sample a clip of ``num_frames`` frames at ``sample_fps`` centred on a timestamp (seconds).

    Required keys: ``{view_}video_path``, ``timestamp_key`` (seconds from the video start).
    Added keys: ``{view_}frame_inds``, ``{view_}total_frames``, ``{view_}video_fps``.

    Args:
        num_frames: Frames per clip.
        sample_fps: Rate at which the clip samples the video (e.g. 4 frames at 2 fps = 1.5 s).
        timestamp_key: The results key holding the centre time.
        on_boundary: A clip that crosses the video start or end is shifted inside (``'shift'``) or
            is a short-video case (``'error'``, handled by ``on_short``).
        on_short: The video is shorter than the clip: ``'error'`` or ``'skip'``.
        views: The views to sample, each with its own fps (same timestamp).
        backend: Video backend used to probe the file.
    """

    def __init__(self, num_frames: int, sample_fps: float, timestamp_key: str = 'timestamp',
                 on_boundary: str = 'shift', on_short: str = 'error', views: Sequence = (None,),
                 backend: str = 'auto') -> None:
        if num_frames < 1 or not sample_fps > 0:
            raise ValueError(f'need num_frames >= 1 and sample_fps > 0, got {num_frames}, '
                             f'{sample_fps}')
        self.num_frames = num_frames
        self.sample_fps = float(sample_fps)
        self.timestamp_key = timestamp_key
        self.on_boundary = on_boundary
        self.views = tuple(views)
        self.backend = backend
        self._init_skip(on_short)

    def transform(self, results: dict) -> Optional[dict]:
        if self.timestamp_key not in results:
            raise KeyError(f'{type(self).__name__}: results has no {self.timestamp_key!r} '
                           f'(keys: {sorted(results)})')
        t = float(results[self.timestamp_key])
        for view in self.views:
            path, total, fps = _ensure_info(results, view, self.backend, type(self).__name__)
            try:
                idx = clip_frame_indices(total, fps, t, self.num_frames, self.sample_fps,
                                         self.on_boundary)
            except VideoWindowError as err:
                return self._skip_or_raise(f'{path}: {err}')
            results[f'{_prefix(view)}frame_inds'] = idx
        return results


@TRANSFORMS.register_module()
class SampleEgoExoPair(_SkipCounter, BaseTransform):
    """Sample the same instants from two synchronised views (ego + exo) of one recording.

    ``num_frames`` times are spread over the time window both views cover, the middle of each of
    ``num_frames`` equal segments of ``[start_time, end_time)`` (default: ``[0, shortest view's
    duration)``); each view maps them to its own frames with its own fps
    (:func:`time_to_frame_indices`), so a 30 fps ego camera and a 60 fps exo camera give frames
    shown at the same moments. ExpertAF pairs Ego-Exo4D's Aria (ego) clip with an exocentric one.

    Required keys: ``{ego}_video_path``, ``{exo}_video_path``. Optional: ``start_time``,
    ``end_time`` (seconds). Added keys per view: ``frame_inds``, ``total_frames``, ``video_fps``, and
    ``frame_times`` ``(num_frames,)`` seconds (shared).

    Args:
        num_frames: Frames per view.
        views: The two view names (key prefixes).
        on_short: A view with fewer than ``num_frames`` frames in the window: ``'error'``/``'skip'``.
        backend: Video backend used to probe the files.
    """

    def __init__(self, num_frames: int, views: Sequence[str] = ('ego', 'exo'),
                 on_short: str = 'error', backend: str = 'auto') -> None:
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        if len(views) != 2 or not all(views):
            raise ValueError(f'SampleEgoExoPair needs two named views, got {views!r}')
        self.num_frames = num_frames
        self.views = tuple(views)
        self.backend = backend
        self._init_skip(on_short)

    def transform(self, results: dict) -> Optional[dict]:
        infos = {v: _ensure_info(results, v, self.backend, type(self).__name__) for v in self.views}
        common = min(total / fps for _, total, fps in infos.values())
        start = float(results.get('start_time', 0.0) or 0.0)
        end = results.get('end_time')
        end = common if end is None else min(float(end), common)
        names = ', '.join(f'{v}={p}' for v, (p, _, _) in infos.items())
        if not end > start:
            return self._skip_or_raise(f'{names}: empty common time window [{start:.3f}, {end:.3f}) s')
        times = start + (end - start) / self.num_frames * (np.arange(self.num_frames) + 0.5)
        for view, (path, total, fps) in infos.items():
            in_window = math.floor((end - start) * fps + 1e-6)
            if in_window < self.num_frames:
                return self._skip_or_raise(
                    f'{path}: the {view} view has {in_window} frames in [{start:.3f}, {end:.3f}) s, '
                    f'fewer than the {self.num_frames} frames to sample')
            idx = np.minimum(time_to_frame_indices(times, fps), total - 1)
            results[f'{_prefix(view)}frame_inds'] = idx
        results['frame_times'] = times
        return results


# ---------------------------------------------------------------------------- decoding
@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Decode the sampled frames of each view (decord; OpenCV only where decord is missing).

    Required keys: ``{view_}video_path``. Optional: ``{view_}frame_inds`` (all frames when absent).
    Added keys: ``{view_}frames`` ``(N, H, W, 3)`` uint8 RGB, ``{view_}frame_shape`` ``(H, W)``.

    Args:
        views: The views to load.
        backend: ``'auto'`` (decord if installed, else OpenCV), ``'decord'`` or ``'opencv'``.

    Raises:
        FileNotFoundError / VideoReadError: a missing, unreadable or truncated video; the message
            names the file and, for a decoding failure, the frame.
    """

    def __init__(self, views: Sequence = (None,), backend: str = 'auto') -> None:
        self.views = tuple(views)
        self.backend = backend

    def transform(self, results: dict) -> dict:
        for view in self.views:
            p = _prefix(view)
            path = _video_path(results, view, type(self).__name__)
            frames = read_video_frames(path, results.get(f'{p}frame_inds'), self.backend)
            results[f'{p}frames'] = frames
            results[f'{p}frame_shape'] = tuple(frames.shape[1:3])
        return results


@TRANSFORMS.register_module()
class CheckVideoPoseLength(_SkipCounter, BaseTransform):
    """Check that a video has as many frames as its pose track (one pose per frame).

    The pose track is ``results[pose_key]`` (an array, length = first axis) or the ``.npy`` file at
    ``results[pose_path_key]`` (read memory-mapped: only the header). SynthMotion's feedback pairs
    render one video frame per pose (``feedback/<fid>_<role>.mp4`` beside ``_coco17.npy``).

    Args:
        pose_key: Key of a loaded pose array.
        pose_path_key: Key of a pose ``.npy`` file (used when ``pose_key`` is absent).
        view: The video view to check.
        tolerance: Allowed ``|frames - poses|``.
        on_mismatch: ``'error'`` (a ``ValueError`` naming both files and counts) or ``'skip'``.
        backend: Video backend used to probe the file.
    """

    def __init__(self, pose_key: str = 'pose', pose_path_key: str = 'pose_path',
                 view: Optional[str] = None, tolerance: int = 0, on_mismatch: str = 'error',
                 backend: str = 'auto') -> None:
        self.pose_key = pose_key
        self.pose_path_key = pose_path_key
        self.view = view
        self.tolerance = int(tolerance)
        self.backend = backend
        self._init_skip(on_mismatch)

    def transform(self, results: dict) -> Optional[dict]:
        path, total, _ = _ensure_info(results, self.view, self.backend, type(self).__name__)
        if self.pose_key in results:
            num_poses, source = len(results[self.pose_key]), f'results[{self.pose_key!r}]'
        elif self.pose_path_key in results:
            source = os.fspath(results[self.pose_path_key])
            try:
                num_poses = len(np.load(source, mmap_mode='r', allow_pickle=False))
            except FileNotFoundError:
                raise FileNotFoundError(f'{type(self).__name__}: pose file not found: {source}') from None
        else:
            raise KeyError(f'{type(self).__name__}: results has neither {self.pose_key!r} nor '
                           f'{self.pose_path_key!r} (keys: {sorted(results)})')
        if abs(total - num_poses) > self.tolerance:
            return self._skip_or_raise(
                f'{path} has {total} frames but its pose track {source} has {num_poses} poses '
                f'(tolerance {self.tolerance})', ValueError)
        return results


# ---------------------------------------------------------------------------- processing
def _resize_uint8(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(N, H, W, 3)`` uint8 -> ``(N, height, width, 3)``: OpenCV's area averaging when shrinking
    and bilinear when enlarging (2-4x faster than torch on CPU); torch's antialiased bilinear where
    OpenCV is not installed (the two agree up to rounding)."""
    try:
        import cv2
    except ImportError:
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(height, width), mode='bilinear', align_corners=False,
                          antialias=True)
        return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    shrink = height <= frames.shape[1] and width <= frames.shape[2]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (width, height), interpolation=interp) for f in frames])


@TRANSFORMS.register_module()
class ResizeFrames(BaseTransform):
    """Resize frames (area averaging when shrinking, bilinear when enlarging), uint8 ``(N, H, W, 3)``.

    Args:
        scale: Output ``(height, width)`` (default 224 x 224, the usual backbone input).
        short_side: When given, used instead of ``scale``: resize so the shorter side has this
            length, keeping the aspect ratio (the other side rounded to the nearest pixel).
        views: The views to resize.
    """

    def __init__(self, scale: Optional[Sequence[int]] = (224, 224), short_side: Optional[int] = None,
                 views: Sequence = (None,)) -> None:
        if short_side is not None:
            if short_side < 1:
                raise ValueError(f'short_side must be >= 1, got {short_side}')
            scale = None
        elif scale is None or len(scale) != 2 or min(scale) < 1:
            raise ValueError(f'scale must be (height, width) >= 1, got {scale!r}')
        self.scale = tuple(int(s) for s in scale) if scale is not None else None
        self.short_side = short_side
        self.views = tuple(views)

    def output_size(self, height: int, width: int) -> tuple:
        if self.scale is not None:
            return self.scale
        s = self.short_side / min(height, width)
        return max(1, int(round(height * s))), max(1, int(round(width * s)))

    def transform(self, results: dict) -> dict:
        for view in self.views:
            key = f'{_prefix(view)}frames'
            if key not in results:
                raise KeyError(f'ResizeFrames: results has no {key!r}; put LoadVideoFrames first')
            frames = results[key]
            if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
                raise ValueError(f'ResizeFrames: {key} must be (N, H, W, 3) uint8, got '
                                 f'{frames.dtype} {frames.shape}')
            h, w = self.output_size(*frames.shape[1:3])
            if (h, w) != frames.shape[1:3]:
                frames = _resize_uint8(frames, h, w)
            results[key] = np.ascontiguousarray(frames)
            results[f'{_prefix(view)}frame_shape'] = (h, w)
        return results


@TRANSFORMS.register_module()
class NormalizeFrames(BaseTransform):
    """uint8 ``(N, H, W, 3)`` frames -> float32 ``(N, 3, H, W)``, ``(x / 255 - mean) / std``.

    Args:
        mean, std: Per-channel RGB statistics on the 0..1 scale (default ImageNet's, what timm
            backbones are trained with).
        views: The views to normalise.
    """

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 views: Sequence = (None,)) -> None:
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f'mean and std must be 3 values (std > 0), got {mean!r}, {std!r}')
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.views = tuple(views)

    def transform(self, results: dict) -> dict:
        mean = np.asarray(self.mean, np.float32).reshape(1, 3, 1, 1)
        std = np.asarray(self.std, np.float32).reshape(1, 3, 1, 1)
        for view in self.views:
            key = f'{_prefix(view)}frames'
            frames = results.get(key)
            if frames is None or frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
                found = 'nothing' if frames is None else f'{frames.dtype} {frames.shape}'
                raise ValueError(f'NormalizeFrames: {key} must be (N, H, W, 3) uint8, found {found}')
            x = frames.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            results[key] = np.ascontiguousarray((x - mean) / std, dtype=np.float32)
        return results


# ---------------------------------------------------------------------------- cached features
@TRANSFORMS.register_module()
class LoadCachedVideoFeatures(BaseTransform):
    """Read per-frame video features from the cache ``tools/data/extract_video_features.py`` fills.

    The entry is found by the video file's sha256 and the hash of ``dict(encoder=encoder,
    sampling=sampling, seed=seed)`` — what the extraction used — or by the ``config_hash`` the
    extractor printed (see docs/video.md).

    Required keys: ``{view_}video_path``. Added keys: ``{view_}video_features`` ``(N, D)`` float32
    (``(D,)`` with ``pool='mean'``).

    Args:
        cache_dir: Root of the feature cache.
        encoder: The encoder config the features were extracted with.
        sampling: The frame-sampling config they were extracted with.
        seed: The encoder initialisation seed of the extraction.
        config_hash: Instead of ``encoder`` + ``sampling``: the extraction's hash (its folder name).
        views: The views to load.
        pool: ``None`` (per-frame features) or ``'mean'`` (mean over the frames).
    """

    def __init__(self, cache_dir: str, encoder: Optional[dict] = None,
                 sampling: Optional[dict] = None, seed: int = 0, config_hash: Optional[str] = None,
                 views: Sequence = (None,), pool: Optional[str] = None) -> None:
        if pool not in (None, 'mean'):
            raise ValueError(f"pool must be None or 'mean', got {pool!r}")
        if (config_hash is None) == (encoder is None or sampling is None):
            raise ValueError('LoadCachedVideoFeatures needs encoder and sampling, or config_hash')
        self.cache_dir = cache_dir
        self.views = tuple(views)
        self.pool = pool
        self._cache = (VideoFeatureCache.from_hash(cache_dir, config_hash) if config_hash else
                       VideoFeatureCache(cache_dir, dict(encoder=encoder, sampling=sampling,
                                                         seed=int(seed))))

    def transform(self, results: dict) -> dict:
        for view in self.views:
            feats = self._cache.load(_video_path(results, view, type(self).__name__))
            results[f'{_prefix(view)}video_features'] = feats.mean(0) if self.pool else feats
        return results


@TRANSFORMS.register_module()
class LoadPrecomputedVideoFeatures(BaseTransform):
    """Read video features computed elsewhere (e.g. InternVideo2 features, as ExpertAF uses).

    ExpertAF reads one InternVideo2 feature file per clip and view (``<take>_<start>_aria.pth.tar``
    for the ego view, ``..._exo.pth.tar`` for the exo view). ``filename_tmpl`` is formatted with
    the results dict, so such files are read with e.g.
    ``filename_tmpl='{take_uid}_{start_frame}_aria.pth.tar'``. ``.npy`` files are read without
    pickles; ``.pt`` / ``.pth`` / ``.pth.tar`` files with ``torch.load(weights_only=True)`` and must
    hold one tensor.

    Added keys: ``{view_}video_features`` float32, ``(N, D)`` or ``(D,)`` as stored (a ``(D,)``
    vector becomes ``(1, D)``).

    Args:
        feature_dir: Folder of the feature files.
        filename_tmpl: File name, formatted with ``results``.
        view: Key prefix of the output.
        feature_dim: Expected ``D`` (``None`` = any).
    """

    def __init__(self, feature_dir: str, filename_tmpl: str = '{video_id}.npy',
                 view: Optional[str] = None, feature_dim: Optional[int] = None) -> None:
        self.feature_dir = feature_dir
        self.filename_tmpl = filename_tmpl
        self.view = view
        self.feature_dim = feature_dim

    def transform(self, results: dict) -> dict:
        try:
            name = self.filename_tmpl.format(**results)
        except KeyError as err:
            raise KeyError(f'LoadPrecomputedVideoFeatures: filename_tmpl {self.filename_tmpl!r} '
                           f'needs results key {err}') from None
        path = os.path.join(self.feature_dir, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'LoadPrecomputedVideoFeatures: feature file not found: {path}')
        if path.endswith('.npy'):
            feats = np.load(path, allow_pickle=False)
        else:
            obj = torch.load(path, map_location='cpu', weights_only=True)
            if not isinstance(obj, torch.Tensor):
                raise ValueError(f'{path}: expected one tensor of features, got {type(obj).__name__}')
            feats = obj.float().numpy()
        feats = np.asarray(feats, dtype=np.float32)
        if feats.ndim == 1:
            feats = feats[None]
        if feats.ndim != 2 or (self.feature_dim is not None and feats.shape[1] != self.feature_dim):
            want = f'(N, {self.feature_dim})' if self.feature_dim else '(N, D)'
            raise ValueError(f'{path}: video features must be {want}, got shape {feats.shape}')
        if not np.isfinite(feats).all():
            raise ValueError(f'{path}: video features contain NaN or inf')
        results[f'{_prefix(self.view)}video_features'] = feats
        return results
