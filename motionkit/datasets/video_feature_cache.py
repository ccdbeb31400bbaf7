"""On-disk cache of per-frame video features, keyed by the video's content and the extraction config.

ExpertAF trains its language model on video features computed once (InternVideo2 features of the
ego and exo views, read from files at every step), never on pixels. ``tools/data/
extract_video_features.py`` fills this cache; :class:`~motionkit.datasets.transforms.
LoadCachedVideoFeatures` reads it during training.

Layout of ``cache_dir``::

    <config_hash>/config.json          the extraction config (encoder + frame sampling) hashed below
    <config_hash>/<sha[:2]>/<sha>.npy  (N, D) float32 features of the N sampled frames of the video
                                       whose file has sha256 ``sha``
    <config_hash>/videos.json          path -> {sha256, size, mtime_ns} of every video seen, so that a
                                       reader need not hash a large video at every training step

A video moved or renamed keeps its entry (the key is its content), an edited video gets a new one,
and two configs never share a folder. Every file is written atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

import numpy as np

from motionkit.utils.io import atomic_save_npy, atomic_write_text, file_sha256

__all__ = ['feature_config_hash', 'VideoFeatureCache', 'video_sha256']

# In-process memo of video hashes: (real path, size, mtime_ns) -> sha256.
_SHA_MEMO: dict = {}


def _stat_key(path: str) -> tuple:
    st = os.stat(path)
    return os.path.realpath(path), st.st_size, st.st_mtime_ns


def video_sha256(path: str | os.PathLike) -> str:
    """sha256 of a video file, memoised per process by (real path, size, mtime)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'video file not found: {path}')
    key = _stat_key(path)
    if key not in _SHA_MEMO:
        _SHA_MEMO[key] = file_sha256(path)
    return _SHA_MEMO[key]


def feature_config_hash(config: dict) -> str:
    """First 16 hex digits of the sha256 of ``config`` as canonical JSON (sorted keys)."""
    try:
        text = json.dumps(config, sort_keys=True, separators=(',', ':'))
    except TypeError as err:
        raise TypeError(f'a video feature config must be plain JSON (dicts, lists, str, numbers): '
                        f'{err}') from err
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class VideoFeatureCache:
    """The cache folder of one extraction config.

    Args:
        cache_dir: Root of the cache (holds one sub-folder per config).
        config: The extraction config (``dict(encoder=..., sampling=..., seed=...)``); plain JSON.
    """

    def __init__(self, cache_dir: str | os.PathLike, config: dict) -> None:
        self.config = config
        self.config_hash = feature_config_hash(config)
        self.root = Path(cache_dir) / self.config_hash
        self._index: Optional[dict] = None

    @classmethod
    def from_hash(cls, cache_dir: str | os.PathLike, config_hash: str) -> 'VideoFeatureCache':
        """Open the folder of an extraction by its hash (reads its ``config.json``)."""
        cfg = Path(cache_dir) / config_hash / 'config.json'
        if not cfg.exists():
            raise FileNotFoundError(f'no video feature extraction {config_hash!r} in {cache_dir} '
                                    f'({cfg} missing); run tools/data/extract_video_features.py')
        cache = cls(cache_dir, json.loads(cfg.read_text()))
        if cache.config_hash != config_hash:
            raise ValueError(f'{cfg}: its config hashes to {cache.config_hash}, not {config_hash}')
        return cache

    # ------------------------------------------------------------------ keys and paths
    def entry_path(self, sha: str) -> Path:
        return self.root / sha[:2] / f'{sha}.npy'

    @property
    def index_path(self) -> Path:
        return self.root / 'videos.json'

    def index(self) -> dict:
        """path -> {sha256, size, mtime_ns} recorded by the extractor (empty when none)."""
        if self._index is None:
            self._index = json.loads(self.index_path.read_text()) if self.index_path.exists() else {}
        return self._index

    def video_key(self, video_path: str | os.PathLike) -> str:
        """The sha256 of ``video_path``: from the index when the file's size and mtime still match
        the recorded ones, else by hashing the file."""
        path = os.fspath(video_path)
        rec = self.index().get(os.path.realpath(path))
        if rec is not None and os.path.isfile(path):
            _, size, mtime = _stat_key(path)
            if rec['size'] == size and rec['mtime_ns'] == mtime:
                return rec['sha256']
        return video_sha256(path)

    def path_for(self, video_path: str | os.PathLike) -> Path:
        """Where the features of ``video_path`` live (whether or not they exist yet)."""
        return self.entry_path(self.video_key(video_path))

    # ------------------------------------------------------------------ read / write
    def load(self, video_path: str | os.PathLike) -> np.ndarray:
        """The cached ``(N, D)`` float32 features of a video.

        Raises:
            FileNotFoundError: the video is not in the cache (names the video, the entry and the tool
                that fills it).
        """
        entry = self.path_for(video_path)
        if not entry.exists():
            raise FileNotFoundError(
                f'{os.fspath(video_path)}: no cached features at {entry} (extraction config '
                f'{self.config_hash}); run tools/data/extract_video_features.py with this config first')
        feats = np.load(entry, allow_pickle=False)
        if feats.ndim != 2 or not np.isfinite(feats).all():
            raise ValueError(f'{entry}: cached features of {os.fspath(video_path)} must be a finite '
                             f'(N, D) array, got shape {feats.shape}')
        return feats.astype(np.float32, copy=False)

    def save(self, video_path: str | os.PathLike, features: np.ndarray) -> Path:
        """Write ``(N, D)`` features of a video atomically; returns the entry path."""
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2:
            raise ValueError(f'{os.fspath(video_path)}: features must be (N, D), got shape '
                             f'{features.shape}')
        self.write_config()
        entry = self.path_for(video_path)
        atomic_save_npy(entry, features)
        return entry

    def write_config(self) -> None:
        cfg = self.root / 'config.json'
        if not cfg.exists():
            atomic_write_text(cfg, json.dumps(self.config, sort_keys=True, indent=1) + '\n')

    def record(self, video_path: str | os.PathLike, sha: str) -> None:
        """Remember ``video_path`` -> ``sha`` in memory (:meth:`write_index` saves it)."""
        path = os.fspath(video_path)
        real, size, mtime = _stat_key(path)
        self.index()[real] = dict(sha256=sha, size=size, mtime_ns=mtime)

    def write_index(self) -> None:
        self.write_config()
        atomic_write_text(self.index_path, json.dumps(self.index(), sort_keys=True, indent=1) + '\n')
