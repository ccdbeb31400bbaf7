"""Read frames from video files with decord (OpenCV only where decord is not installed).

``decord`` (x86_64 wheels) and ``decord2`` (a drop-in with the same ``import decord``, for aarch64
and macOS) seek by frame index, so a clip of a few frames from a long video is decoded without
reading the frames before it. OpenCV's fallback reads the video from the start up to the last
requested frame.

Every failure names the file, and a decoding failure names the frame: a truncated MP4 whose
``moov`` index is at the end cannot be opened at all (:class:`VideoReadError` "cannot open"); one
whose index is intact but whose data is cut or damaged opens, reports its full frame count, and
fails on the first frame whose packets are missing ("cannot decode frame i").
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ['VideoReadError', 'VideoInfo', 'video_backend', 'probe_video', 'read_video_frames']

BACKENDS = ('auto', 'decord', 'opencv')


class VideoReadError(ValueError):
    """A video file cannot be opened or one of its frames cannot be decoded (message names both)."""


@dataclass(frozen=True)
class VideoInfo:
    """What a container says about a video: ``num_frames`` and the average ``fps``."""
    path: str
    num_frames: int
    fps: float

    @property
    def duration(self) -> float:
        """Seconds covered by the frames (``num_frames / fps``)."""
        return self.num_frames / self.fps


def _import_decord():
    try:
        import decord
    except ImportError:
        return None
    return decord


def video_backend(backend: str = 'auto') -> str:
    """Resolve ``'auto'`` to ``'decord'`` when it imports, else ``'opencv'``; check the others.

    Raises:
        ValueError: an unknown backend name.
        ImportError: the named backend is not installed (names the package to install).
    """
    if backend not in BACKENDS:
        raise ValueError(f'video backend must be one of {BACKENDS}, got {backend!r}')
    if backend in ('auto', 'decord') and _import_decord() is not None:
        return 'decord'
    if backend == 'decord':
        raise ImportError("video backend 'decord' needs the decord package: pip install decord "
                          '(x86_64 Linux / Windows) or decord2 (aarch64, macOS); see '
                          'requirements/optional.txt')
    try:
        import cv2  # noqa: F401
    except ImportError:
        raise ImportError('reading videos needs decord (pip install decord, or decord2 where decord '
                          'has no wheel) or OpenCV (pip install opencv-python-headless)') from None
    return 'opencv'


def _check_path(path) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'video file not found: {path}')
    return path


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__


def _open_decord(path: str):
    decord = _import_decord()
    try:
        reader = decord.VideoReader(path, num_threads=1)
    except Exception as err:  # decord raises RuntimeError / DECORDError from C++
        raise VideoReadError(f'{path}: cannot open the video ({_first_line(err)}); the file is '
                             'truncated, corrupt or not a video') from err
    if len(reader) == 0:
        raise VideoReadError(f'{path}: the video has no frames')
    return reader


def _open_opencv(path: str):
    import cv2
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise VideoReadError(f'{path}: cannot open the video (OpenCV); the file is truncated, '
                             'corrupt or not a video')
    return cap


def probe_video(path: str | os.PathLike, backend: str = 'auto') -> VideoInfo:
    """Frame count and average fps of a video, without decoding its frames.

    Raises:
        FileNotFoundError: no such file.
        VideoReadError: the file cannot be opened as a video, or has no frames or no frame rate.
    """
    path = _check_path(path)
    backend = video_backend(backend)
    if backend == 'decord':
        reader = _open_decord(path)
        num_frames, fps = len(reader), float(reader.get_avg_fps())
        del reader
    else:
        import cv2
        cap = _open_opencv(path)
        num_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        cap.release()
        if num_frames <= 0:
            raise VideoReadError(f'{path}: the video has no frames')
    if not fps > 0:
        raise VideoReadError(f'{path}: the container gives no frame rate (fps={fps})')
    return VideoInfo(path, num_frames, fps)


def _check_indices(path: str, indices, num_frames: int) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f'{path}: frame indices must be a non-empty 1-D integer array, got '
                         f'{idx.dtype} array of shape {idx.shape}')
    bad = idx[(idx < 0) | (idx >= num_frames)]
    if bad.size:
        raise VideoReadError(f'{path}: frame index {int(bad[0])} is outside the video '
                             f'({num_frames} frames, valid 0..{num_frames - 1})')
    return idx.astype(np.int64)


def _read_decord(path: str, idx: np.ndarray) -> np.ndarray:
    reader = _open_decord(path)
    _check_indices(path, idx, len(reader))
    try:
        return reader.get_batch(idx.tolist()).asnumpy()
    except Exception as err:
        batch_error = _first_line(err)
    # The batch failed: find the first frame that does not decode, with a fresh reader (decord's
    # state after a failed batch is unspecified), so the error names it.
    del reader
    reader = _open_decord(path)
    for i in np.unique(idx):
        try:
            reader[int(i)].asnumpy()
        except Exception as err:
            raise VideoReadError(f'{path}: cannot decode frame {int(i)} of {len(reader)} '
                                 f'({_first_line(err)}); the file is truncated or corrupt') from err
    raise VideoReadError(f'{path}: cannot decode frames {idx.tolist()} together '
                         f'({batch_error}), although each decodes alone')


def _read_opencv(path: str, idx: np.ndarray) -> np.ndarray:
    import cv2
    cap = _open_opencv(path)
    num_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    _check_indices(path, idx, num_frames)
    wanted = set(idx.tolist())
    got = {}
    try:
        for i in range(int(idx.max()) + 1):  # sequential: OpenCV's seek is not frame-accurate
            ok, frame = cap.read()
            if not ok:
                raise VideoReadError(f'{path}: cannot decode frame {i} of {num_frames} (OpenCV); '
                                     'the file is truncated or corrupt')
            if i in wanted:
                got[i] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    return np.stack([got[int(i)] for i in idx])


def read_video_frames(path: str | os.PathLike, indices: Sequence[int] | np.ndarray | None = None,
                      backend: str = 'auto') -> np.ndarray:
    """Decode the frames ``indices`` (any order, repeats allowed; ``None`` = all) of a video.

    Returns:
        ``(N, H, W, 3)`` uint8 RGB frames in the order of ``indices``.

    Raises:
        FileNotFoundError: no such file.
        VideoReadError: the video cannot be opened, an index is outside it, or a frame cannot be
            decoded (the message names the file and the frame).
    """
    path = _check_path(path)
    backend = video_backend(backend)
    if indices is None:
        indices = np.arange(probe_video(path, backend).num_frames)
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f'{path}: frame indices must be a non-empty 1-D integer array, got '
                         f'{idx.dtype} array of shape {idx.shape}')
    frames = _read_decord(path, idx) if backend == 'decord' else _read_opencv(path, idx)
    return np.ascontiguousarray(frames, dtype=np.uint8)
