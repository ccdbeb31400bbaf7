"""Rendered motions as images for a vision-language scorer: AToM's visual data formatting
(Han et al., "AToM: Aligning Text-to-Motion Model at Event-Level with GPT-4Vision Reward", CVPR 2025,
sec. 3.2, eq. 3-4 and the injection ablation of table 6a).

A motion is rendered with the skeleton renderer (:class:`~.skeleton_renderer.SkeletonRenderer`) and
every ``step``-th frame is kept (``step = 8``: frames 0, 8, 16, ... of the 20 fps motion). The kept
frames reach the scorer in one of three forms:

* ``'frames'`` (frame by frame): the sampled frames as separate images, in time order;
* ``'full_image'``: the sampled frames tiled into one image, ``cols`` (5) per row, left to right
  and top to bottom;
* ``'trajectory'``: one image of the last pose with the root's whole path drawn on the floor.

All three are returned as a list of ``(H, W, 3)`` uint8 images, so a scorer handles them alike;
:func:`png_base64` / :func:`png_data_url` encode one image for an OpenAI-style ``image_url``
content part.
"""
from __future__ import annotations

import base64
import io
from typing import Any, List

import numpy as np

from .skeleton_renderer import SkeletonRenderer, compute_view_extent, frame_grid, to_numpy

__all__ = ['INJECTION_FORMS', 'FRAME_STEP', 'sample_frame_indices', 'render_sampled_frames',
           'tile_frames', 'trajectory_image', 'injection_images', 'png_bytes', 'png_base64',
           'png_data_url']

INJECTION_FORMS = ('frames', 'full_image', 'trajectory')
FRAME_STEP = 8  # AToM sec. 3.2: one frame in eight of the rendered motion
GRID_COLS = 5  # AToM sec. 3.2: the full image holds five sampled frames per row
_TRAJ_POINTS = 64  # root-path vertices drawn in the trajectory image


def sample_frame_indices(num_frames: int, step: int = FRAME_STEP) -> np.ndarray:
    """Frames ``0, step, 2 * step, ...`` below ``num_frames`` (eq. 3's sampling).

    Example:
        >>> sample_frame_indices(20, 8).tolist()
        [0, 8, 16]
    """
    if int(num_frames) < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    if int(step) < 1:
        raise ValueError(f'step must be >= 1, got {step}')
    return np.arange(0, int(num_frames), int(step))


def _check_motion(joints: Any) -> np.ndarray:
    j = to_numpy(joints, 'joints')
    if j.ndim != 3 or j.shape[-1] != 3 or j.shape[0] < 1:
        raise ValueError(f'joints: expected a (T, J, 3) motion with T >= 1, got shape {j.shape}')
    if not np.isfinite(j).all():
        raise ValueError('joints: the motion holds NaN or infinite values')
    return j


def render_sampled_frames(joints: Any, step: int = FRAME_STEP, skeleton: Any = 't2m22',
                          size: int = 224, **renderer_kwargs) -> np.ndarray:
    """Render frames ``0, step, 2 * step, ...`` of ``joints`` ``(T, J, 3)``.

    Only the sampled poses are drawn, but the camera is framed on the whole motion, so every image
    shares one view (a person walking away really gets smaller/moves across the images).

    Returns:
        uint8 ``(K, size, size, 3)`` with ``K = ceil(T / step)``.
    """
    j = _check_motion(joints)
    idx = sample_frame_indices(j.shape[0], step)
    kw = dict(show_trajectory=False)
    kw.update(renderer_kwargs)
    r = SkeletonRenderer(skeleton, width=size, height=size, **kw)
    try:
        return r.render(j[idx], extent=compute_view_extent([j]), fit_points=j)
    finally:
        r.close()


def tile_frames(frames: np.ndarray, cols: int = GRID_COLS, border: int = 2) -> np.ndarray:
    """Tile ``(K, H, W, 3)`` frames into one image, ``cols`` per row in time order (eq. 4's full
    image). Unused cells of the last row are white; a ``border``-pixel grey line separates cells.

    Returns:
        uint8 ``(ceil(K / cols) * H, min(K, cols) * W, 3)``.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f'frames: expected a non-empty (K, H, W, 3) array, got {frames.shape}')
    if int(cols) < 1:
        raise ValueError(f'cols must be >= 1, got {cols}')
    # every frame, in order: frame_grid's evenly spaced pick of K out of K frames is all of them
    return frame_grid(frames.astype(np.uint8, copy=False), num=len(frames), cols=int(cols),
                      border=border)


def trajectory_image(joints: Any, skeleton: Any = 't2m22', size: int = 320, elev: float = 55.0,
                     **renderer_kwargs) -> np.ndarray:
    """One image: the last pose of ``joints`` ``(T, J, 3)`` with the root's path over the whole
    motion drawn on the floor, seen from above at ``elev`` degrees so the path reads clearly.

    The path is drawn through at most 64 evenly spaced frames (always the first and the last).

    Returns:
        uint8 ``(size, size, 3)``.
    """
    j = _check_motion(joints)
    T = j.shape[0]
    idx = np.unique(np.linspace(0, T - 1, min(T, _TRAJ_POINTS)).round().astype(int))
    kw = dict(show_trajectory=True, elev=elev)
    kw.update(renderer_kwargs)
    r = SkeletonRenderer(skeleton, width=size, height=size, **kw)
    try:
        last = None
        # the renderer draws the root path up to the current frame: the last frame has all of it
        for last in r.iter_render(j[idx], extent=compute_view_extent([j]), fit_points=j):
            pass
        return last
    finally:
        r.close()


def injection_images(joints: Any, form: str = 'full_image', step: int = FRAME_STEP,
                     cols: int = GRID_COLS, size: int = 224, skeleton: Any = 't2m22') -> List[np.ndarray]:
    """The images that carry a motion to the scorer in injection ``form`` (table 6a).

    Returns:
        ``'frames'``: ``ceil(T / step)`` images ``(size, size, 3)``; ``'full_image'``: one tiled
        image (:func:`tile_frames`); ``'trajectory'``: one image (:func:`trajectory_image`).
    """
    if form not in INJECTION_FORMS:
        raise ValueError(f'injection form must be one of {INJECTION_FORMS}, got {form!r}')
    if form == 'trajectory':
        return [trajectory_image(joints, skeleton, size=size)]
    frames = render_sampled_frames(joints, step, skeleton, size)
    if form == 'frames':
        return [f for f in frames]
    return [tile_frames(frames, cols)]


def png_bytes(image: np.ndarray) -> bytes:
    """PNG file bytes of an RGB image ``(H, W, 3)`` uint8 (deterministic for equal pixels)."""
    from PIL import Image
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[-1] != 3 or img.dtype != np.uint8:
        raise ValueError(f'image: expected (H, W, 3) uint8, got shape {img.shape} dtype {img.dtype}')
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format='PNG')
    return buf.getvalue()


def png_base64(image: np.ndarray) -> str:
    """Base64 (ASCII) of :func:`png_bytes`."""
    return base64.b64encode(png_bytes(image)).decode('ascii')


def png_data_url(image: np.ndarray) -> str:
    """``data:image/png;base64,...``: the ``image_url.url`` of an OpenAI chat content part."""
    return 'data:image/png;base64,' + png_base64(image)
