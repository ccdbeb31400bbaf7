"""Extract per-frame video features once into a :class:`~motionkit.datasets.VideoFeatureCache`.

ExpertAF trains on video features computed beforehand (InternVideo2, one file per clip and view),
so a training step reads a small array instead of decoding and encoding frames. This builder does
the same for any registered video encoder (:class:`~motionkit.models.encoders.TimmVideoEncoder`):

    frames sampled by ``sampling`` (UniformSampleFrames -> LoadVideoFrames -> ResizeFrames ->
    NormalizeFrames) -> encoder, per frame (no pooling) -> ``(N, D)`` float32 in the cache.

An entry is keyed by the video file's sha256 and the hash of ``dict(encoder=..., sampling=...,
seed=...)`` (``seed`` seeds the encoder's initialisation: randomly initialised weights, as in the
tiny CPU preset, are part of what the features depend on; a checkpoint's content is covered by
its ``checkpoint_sha256`` in the encoder config),
written atomically, so a rerun (or a resumed, interrupted run) only computes what is missing, and a
changed encoder or sampling never reuses old features. A video that cannot be read (truncated,
corrupt, shorter than the sampled window) is reported with its file and the reason and skipped; the
others are still extracted.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np
import torch

from motionkit.datasets.transforms.video import (IMAGENET_MEAN, IMAGENET_STD, LoadVideoFrames,
                                                 NormalizeFrames, ResizeFrames, UniformSampleFrames,
                                                 VideoWindowError)
from motionkit.datasets.video_feature_cache import VideoFeatureCache, video_sha256
from motionkit.datasets.video_reader import VideoReadError
from motionkit.registry import MODELS

__all__ = ['VIDEO_SUFFIXES', 'video_sampling_config', 'find_videos', 'VideoFeatureExtractor',
           'extract_video_features']

VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')


def video_sampling_config(num_frames: int = 8, size: Sequence[int] = (224, 224), mode: str = 'center',
                          mean: Sequence[float] = IMAGENET_MEAN,
                          std: Sequence[float] = IMAGENET_STD) -> dict:
    """The frame-sampling part of an extraction config, normalised to plain JSON (what is hashed)."""
    if mode == 'random':
        raise ValueError("cached features need a deterministic sampler: mode 'center' or 'linspace'")
    return dict(num_frames=int(num_frames), size=[int(s) for s in size], mode=mode,
                mean=[float(m) for m in mean], std=[float(s) for s in std])


def find_videos(inputs: Iterable[str | os.PathLike]) -> List[Path]:
    """Video files named by ``inputs`` (files, or folders searched recursively), sorted, unique."""
    found = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found.update(f for f in p.rglob('*') if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
        elif p.is_file():
            found.add(p)
        else:
            raise FileNotFoundError(f'no such video file or folder: {p}')
    return sorted(found)


class VideoFeatureExtractor:
    """Frames of one video -> ``(N, D)`` features, with a fixed sampling and encoder.

    Args:
        encoder: Registered encoder config (built with ``MODELS``; ``pool`` is forced to
            ``'none'`` so that every sampled frame keeps its feature).
        sampling: :func:`video_sampling_config` dict.
        device: Torch device of the encoder.
        backend: Video backend (``'auto'``, ``'decord'``, ``'opencv'``).
        seed: Seed of the encoder's initialisation (the global RNG is left as it was).
    """

    def __init__(self, encoder: dict, sampling: dict, device: str = 'cpu', backend: str = 'auto',
                 seed: int = 0) -> None:
        self.encoder_cfg = dict(encoder)
        self.sampling = sampling
        self.device = torch.device(device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = MODELS.build(dict(self.encoder_cfg, pool='none'))
        self.model = model.to(self.device).eval()
        self.pipeline = [
            UniformSampleFrames(sampling['num_frames'], sampling['mode'], backend=backend),
            LoadVideoFrames(backend=backend),
            ResizeFrames(scale=sampling['size']),
            NormalizeFrames(sampling['mean'], sampling['std']),
        ]

    @torch.no_grad()
    def __call__(self, video_path: str | os.PathLike) -> np.ndarray:
        results = dict(video_path=os.fspath(video_path))
        for t in self.pipeline:
            results = t(results)
        frames = torch.from_numpy(results['frames']).to(self.device)[None]
        return self.model(frames)[0].float().cpu().numpy()


def extract_video_features(videos: Sequence[str | os.PathLike], cache_dir: str | os.PathLike,
                           encoder: dict, sampling: dict, seed: int = 0, device: str = 'cpu',
                           backend: str = 'auto', check: bool = False, progress: bool = True,
                           extractor: Optional[VideoFeatureExtractor] = None) -> dict:
    """Fill the feature cache for ``videos`` (or, with ``check=True``, only report what it holds).

    Returns:
        A report: ``config_hash``, ``cache_dir`` (the config's folder), ``total``, ``hits``
        (already cached), ``written``, ``missing`` (``check=True``: paths not cached), ``failed``
        (``[{path, error}]``: unreadable videos, with the reader's message naming file and frame).
    """
    cache = VideoFeatureCache(cache_dir, dict(encoder=encoder, sampling=sampling, seed=int(seed)))
    report = dict(config_hash=cache.config_hash, cache_dir=str(cache.root), total=len(videos),
                  hits=0, written=0, missing=[], failed=[])
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    bar = tqdm(total=len(videos), desc='video features', disable=not progress) if tqdm else None
    try:
        for n, path in enumerate(videos):
            path = os.fspath(path)
            sha = video_sha256(path)
            if not check:
                cache.record(path, sha)
            if cache.entry_path(sha).exists():
                report['hits'] += 1
            elif check:
                report['missing'].append(path)
            else:
                if extractor is None:
                    extractor = VideoFeatureExtractor(encoder, sampling, device, backend, seed)
                try:
                    feats = extractor(path)
                except (VideoReadError, VideoWindowError) as err:
                    report['failed'].append(dict(path=path, error=str(err)))
                else:
                    cache.save(path, feats)
                    report['written'] += 1
            if not check and (n + 1) % 100 == 0:
                cache.write_index()  # an interrupted run keeps the path -> sha index of its work
            if bar:
                bar.update(1)
    finally:
        if bar:
            bar.close()
        if not check and videos:
            cache.write_index()
    return report
