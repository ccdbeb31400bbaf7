"""Render skeleton motions to RGB frames, side-by-side panels, GIF and MP4.

Everything here follows the motionkit motion convention: joints ``(T, J, 3)`` in metres, Y up,
feet on the floor (y = 0), a person facing +Z at frame 0. Any skeleton registered in
``SKELETONS`` (``t2m22``, ``kit21``, ``smpl24``, ``ntu25``, ...) can be drawn; its
``kinematic_chains`` are the polylines, coloured by body side from the joint names
(``left_*`` / ``right_*`` / centre).

Speed: a :class:`SkeletonRenderer` keeps one matplotlib (Agg) figure. For each clip it draws the
static parts once (floor, caption, fixed camera computed from the extent of the whole clip), keeps
that image, and per frame only restores it and redraws the few line artists (blitting). This is
about twice as fast as a full redraw of the figure per frame (see ``benchmarks/bench_render.py``).

matplotlib, Pillow, imageio-ffmpeg and opencv are imported inside the functions that need them.
"""
from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

# Colours by body side (left = blue, right = red, centre = dark grey): a person seen from the
# front has their left side on the image's right, so colour is what tells the sides apart.
SIDE_COLORS = {'left': '#1f5fbf', 'right': '#d1432c', 'center': '#333333'}
FLOOR_COLOR = '#e9e9e9'
GRID_COLOR = '#c4c4c4'
TRAJECTORY_COLOR = '#7a9a3a'
BACKGROUND_COLOR = '#ffffff'


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------
def _import_matplotlib():
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - matplotlib is a runtime requirement
        raise ImportError('Rendering motions needs matplotlib: pip install matplotlib') from e
    return matplotlib, Figure, FigureCanvasAgg


def to_numpy(x: Any, name: str = 'array') -> np.ndarray:
    """Convert a numpy array, a torch tensor or a nested list to a float numpy array."""
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f'{name}: expected an array-like of numbers, got {type(x).__name__}') from e


def resolve_skeleton(skeleton: Any):
    """A skeleton name (registered in ``SKELETONS``) or a Skeleton-like object -> Skeleton.

    Any object with ``joint_names`` and ``kinematic_chains`` is accepted as is, so callers can draw
    ad-hoc skeletons without registering them.
    """
    if hasattr(skeleton, 'joint_names') and hasattr(skeleton, 'kinematic_chains'):
        return skeleton
    from motionkit.motion import get_skeleton
    return get_skeleton(skeleton)


def _chains_of(skel) -> list[tuple[int, ...]]:
    chains = [tuple(int(i) for i in c) for c in (skel.kinematic_chains or ()) if len(c) >= 2]
    if chains:
        return chains
    # No chains defined: draw every bone (parent, child) as its own two-point chain.
    parents = getattr(skel, 'parents', None) or ()
    return [(int(p), int(c)) for c, p in enumerate(parents) if p >= 0]


def chain_sides(skel) -> list[str]:
    """'left' / 'right' / 'center' for each drawn chain, by majority of its joint names."""
    sides = []
    names = list(skel.joint_names)
    for chain in _chains_of(skel):
        n_left = sum(names[i].startswith('left') or names[i].startswith('l_') for i in chain)
        n_right = sum(names[i].startswith('right') or names[i].startswith('r_') for i in chain)
        sides.append('left' if n_left > n_right else 'right' if n_right > n_left else 'center')
    return sides


def _stack_frames(frames, num_frames: int, height: int, width: int) -> np.ndarray:
    """Collect the frames of a renderer's ``iter_render`` into one ``(T, H, W, 3)`` uint8 array."""
    out = np.empty((max(num_frames, 0), height, width, 3), np.uint8)
    for t, frame in enumerate(frames):
        out[t] = frame
    return out


def _check_joints(joints: Any, skel, ndim_last: tuple[int, ...] = (3,), name: str = 'joints'):
    arr = to_numpy(joints, name)
    if arr.ndim == 2:  # a single pose
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[-1] not in ndim_last:
        raise ValueError(f'{name}: expected shape (T, J, {"|".join(map(str, ndim_last))}), '
                         f'got {tuple(arr.shape)}')
    if arr.shape[1] != len(skel.joint_names):
        raise ValueError(f'{name}: skeleton {getattr(skel, "name", "?")!r} has '
                         f'{len(skel.joint_names)} joints but the array has shape '
                         f'{tuple(arr.shape)}')
    if arr.shape[0] == 0:
        raise ValueError(f'{name}: the motion has no frames (shape {tuple(arr.shape)})')
    return arr


def wrap_title(title: str, width_px: int, fontsize_pt: float, dpi: float,
               max_lines: int = 3) -> list[str]:
    """Wrap a caption to the pixel width of a panel (an average glyph is ~0.55 em wide)."""
    if not title:
        return []
    char_px = 0.55 * fontsize_pt * dpi / 72.0
    n_chars = max(8, int((width_px - 8) / char_px))
    lines = textwrap.wrap(' '.join(str(title).split()), width=n_chars) or ['']
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:max(1, n_chars - 3)].rstrip() + '...'
    return lines


def _canvas_to_rgb(canvas, width: int, height: int) -> np.ndarray:
    buf = np.asarray(canvas.buffer_rgba())[..., :3]
    if buf.shape[0] != height or buf.shape[1] != width:  # float rounding of figsize * dpi
        out = np.full((height, width, 3), 255, np.uint8)
        h, w = min(height, buf.shape[0]), min(width, buf.shape[1])
        out[:h, :w] = buf[:h, :w]
        return out
    return buf.copy()


def _nice_step(span: float) -> float:
    """A 1/2/5 x 10^k grid spacing giving roughly 6-12 floor lines over ``span`` metres."""
    raw = max(span, 1e-6) / 8.0
    k = np.floor(np.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10**k >= raw:
            return float(m * 10**k)
    return float(10**(k + 1))


# ------------------------------------------------------------------------------------------
# camera / extent
# ------------------------------------------------------------------------------------------
def compute_view_extent(motions: Sequence[np.ndarray], margin: float = 0.25,
                        min_half: float = 0.6) -> dict:
    """A fixed view box covering every frame of every motion (so the view never jumps).

    Args:
        motions: arrays ``(T, J, 3)`` (Y up, metres).
        margin: metres of floor added around the horizontal extent.
        min_half: the floor is at least ``2 * min_half`` metres along x and z.

    Returns:
        dict(x=(lo, hi), y=(lo, hi), z=(lo, hi)) in metres; ``y[0] <= 0`` (the floor).
    """
    pts = [to_numpy(m).reshape(-1, 3) for m in motions]
    pts = np.concatenate(pts, 0) if pts else np.zeros((0, 3))
    pts = pts[np.isfinite(pts).all(1)]
    if len(pts) == 0:  # nothing finite to show (e.g. a diverged prediction): a default box
        return dict(x=(-1.0, 1.0), y=(0.0, 2.0), z=(-1.0, 1.0))
    lo, hi = pts.min(0), pts.max(0)
    out = {}
    for axis, k in (('x', 0), ('z', 2)):
        c = (lo[k] + hi[k]) / 2.0
        h = max((hi[k] - lo[k]) / 2.0 + margin, min_half)
        out[axis] = (float(c - h), float(c + h))
    y_lo = float(min(0.0, lo[1]))
    out['y'] = (y_lo, float(max(hi[1], y_lo + 0.5)))
    return out


def view_direction(elev: float, azim: float) -> np.ndarray:
    """Unit vector (motion coordinates) from the scene towards the camera.

    ``azim`` = 0 puts the camera in front of a person facing +Z; positive ``azim`` moves it
    towards +X (the person's left side); ``elev`` is the angle above the floor.
    """
    e, a = np.deg2rad(elev), np.deg2rad(azim)
    return np.array([np.sin(a) * np.cos(e), np.sin(e), np.cos(a) * np.cos(e)])


def _to_plot(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Motion (x, y, z) with Y up -> matplotlib (X, Y, Z) with Z up.

    (x, y, z) -> (x, -z, y) is a proper rotation (det = +1), so the drawing is not mirrored.
    """
    return xyz[..., 0], -xyz[..., 2], xyz[..., 1]


# ------------------------------------------------------------------------------------------
# 3D renderer
# ------------------------------------------------------------------------------------------
class SkeletonRenderer:
    """Render 3D skeleton motions to RGB frames with one reusable matplotlib figure.

    Args:
        skeleton: skeleton name (``'t2m22'``, ``'kit21'``, ...) or Skeleton object.
        width, height: output frame size in pixels.
        elev, azim: camera elevation / azimuth in degrees (see :func:`view_direction`).
        proj_type: ``'persp'`` or ``'ortho'``.
        show_floor: draw a floor plane with a grid at y = 0.
        show_trajectory: draw the root's path on the floor up to the current frame.
        linewidth: bone line width in points (the spine chain is drawn 1.3x thicker).
        dpi: figure dpi (sets the size of text and lines relative to the image).
        fontsize: caption font size in points; default scales with the width.

    Example:
        >>> r = SkeletonRenderer('t2m22', width=320, height=320)
        >>> frames = r.render(joints, title='a person serves a tennis ball')  # (T, 320, 320, 3)
    """

    def __init__(self,
                 skeleton: Any = 't2m22',
                 width: int = 320,
                 height: int = 320,
                 elev: float = 20.0,
                 azim: float = 30.0,
                 proj_type: str = 'persp',
                 show_floor: bool = True,
                 show_trajectory: bool = True,
                 linewidth: float = 2.5,
                 dpi: float = 100.0,
                 fontsize: float | None = None,
                 zoom: float = 1.0) -> None:
        if int(width) < 16 or int(height) < 16:
            raise ValueError(f'frame size must be at least 16x16 pixels, got {width}x{height}')
        if proj_type not in ('persp', 'ortho'):
            raise ValueError(f"proj_type must be 'persp' or 'ortho', got {proj_type!r}")
        self.skeleton = resolve_skeleton(skeleton)
        self.width, self.height = int(width), int(height)
        self.elev, self.azim = float(elev), float(azim)
        self.proj_type = proj_type
        self.show_floor = show_floor
        self.show_trajectory = show_trajectory
        self.linewidth = float(linewidth)
        self.dpi = float(dpi)
        self.zoom = float(zoom)
        self.fontsize = float(fontsize) if fontsize else float(np.clip(self.width / 32, 7, 12))
        self.chains = _chains_of(self.skeleton)
        self.sides = chain_sides(self.skeleton)
        self._build_figure()

    # -- figure -----------------------------------------------------------------------------
    def _build_figure(self) -> None:
        _, Figure, FigureCanvasAgg = _import_matplotlib()
        import mpl_toolkits.mplot3d  # noqa: F401  (registers the '3d' projection)
        self.fig = Figure(figsize=(self.width / self.dpi, self.height / self.dpi), dpi=self.dpi,
                          facecolor=BACKGROUND_COLOR)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0, 0, 1, 1), projection='3d')
        self.ax.set_axis_off()
        self.ax.set_facecolor(BACKGROUND_COLOR)
        self.ax.set_proj_type(self.proj_type)
        # Fixed drawing order (floor < grid < trajectory < bones) instead of matplotlib's
        # per-collection depth sort, which would hide the grid lines under the floor plane.
        self.ax.computed_zorder = False
        # matplotlib's azimuth is measured from its +X axis; our azim = 0 is the person's front
        # (+Z in motion coordinates = -Y in plot coordinates, see _to_plot).
        self.ax.view_init(elev=self.elev, azim=self.azim - 90.0, roll=0)
        self.title_text = self.fig.text(0.5, 1.0, '', ha='center', va='top',
                                        fontsize=self.fontsize, color='#111111',
                                        linespacing=1.15)
        self.lines = []
        for chain_idx, side in enumerate(self.sides):
            lw = self.linewidth * (1.3 if side == 'center' else 1.0)
            (line,) = self.ax.plot([], [], [], color=SIDE_COLORS[side], lw=lw,
                                   marker='o', markersize=lw * 1.1, solid_capstyle='round',
                                   solid_joinstyle='round')
            line.set_visible(False)
            self.lines.append(line)
        (self.traj_line,) = self.ax.plot([], [], [], color=TRAJECTORY_COLOR, lw=1.5, alpha=0.9)
        self.traj_line.set_visible(False)
        self._static = []  # floor artists of the current clip
        self._view_dir = view_direction(self.elev, self.azim)

    def _set_title(self, title: str | None) -> float:
        """Set the caption; returns the fraction of the figure height it takes."""
        lines = wrap_title(title or '', self.width, self.fontsize, self.dpi)
        self.title_text.set_text('\n'.join(lines))
        if not lines:
            return 0.0
        line_px = self.fontsize * self.dpi / 72.0 * 1.25
        band_px = len(lines) * line_px + 6
        self.title_text.set_y(1.0 - 3.0 / self.height)
        return min(0.5, band_px / self.height)

    def _setup_scene(self, extent: dict, title: str | None,
                     points: np.ndarray | None = None) -> None:
        from mpl_toolkits.mplot3d.art3d import Poly3DCollection
        band = self._set_title(title)
        for a in self._static:
            a.remove()
        self._static = []

        (x_lo, x_hi), (y_lo, y_hi), (z_lo, z_hi) = extent['x'], extent['y'], extent['z']
        # plot axes: X = x, Y = -z, Z = y
        self.ax.set_xlim(x_lo, x_hi)
        self.ax.set_ylim(-z_hi, -z_lo)
        self.ax.set_zlim(y_lo, y_hi)
        # equal metres on every axis
        self.ax.set_box_aspect((x_hi - x_lo, z_hi - z_lo, y_hi - y_lo))

        if self.show_floor:
            quad = [[(x_lo, -z_lo, 0.0), (x_hi, -z_lo, 0.0), (x_hi, -z_hi, 0.0),
                     (x_lo, -z_hi, 0.0)]]
            floor = Poly3DCollection(quad, facecolor=FLOOR_COLOR, edgecolor='none', alpha=1.0,
                                     zorder=0)
            self.ax.add_collection3d(floor)
            self._static.append(floor)
            step = _nice_step(max(x_hi - x_lo, z_hi - z_lo))
            for v in np.arange(np.ceil(x_lo / step) * step, x_hi + 1e-9, step):
                (g,) = self.ax.plot([v, v], [-z_lo, -z_hi], [0, 0], color=GRID_COLOR, lw=0.6,
                                    zorder=1)
                self._static.append(g)
            for v in np.arange(np.ceil(z_lo / step) * step, z_hi + 1e-9, step):
                (g,) = self.ax.plot([x_lo, x_hi], [-v, -v], [0, 0], color=GRID_COLOR, lw=0.6,
                                    zorder=1)
                self._static.append(g)
        self._fit_view(extent, band, points)

    def _fit_view(self, extent: dict, band: float, points: np.ndarray | None = None,
                  pad_px: float = 6.0) -> None:
        """Place the 3D axes so the projected view box fills the panel below the caption.

        matplotlib draws a 3D scene into the largest square inside the axes, centred on the box
        centre, with a generous margin. The projection of a point inside that square does not
        depend on the square's size or position, so one draw tells us where the corners of the
        view box land; then a square axes of the right size and offset (it may extend past the
        figure) makes the box fill the free area exactly. What must fit: the floor rectangle and
        ``points`` (every joint of every frame, ``(N, 3)``), or the whole view box if no points
        are given.
        """
        from mpl_toolkits.mplot3d import proj3d
        W, H = self.width, self.height
        avail_h = H * (1.0 - band)
        side = min(W, avail_h)
        self.ax.set_position((0.0, 0.0, side / W, side / H))
        self.ax.M = self.ax.get_proj()
        (x_lo, x_hi), (y_lo, y_hi), (z_lo, z_hi) = extent['x'], extent['y'], extent['z']
        ys = [0.0] if points is not None else [y_lo, y_hi]
        cx, cy, cz = np.meshgrid([x_lo, x_hi], ys, [z_lo, z_hi], indexing='ij')
        fit = np.stack([cx.ravel(), cy.ravel(), cz.ravel()], -1)
        if points is not None:
            pts = points.reshape(-1, 3)
            fit = np.concatenate([fit, pts[np.isfinite(pts).all(1)]], 0)
        px, py, pz = _to_plot(fit)
        u, v, _ = proj3d.proj_transform(px, py, pz, self.ax.M)
        # 2D data coordinates of a 3D axes -> [0, 1] of its (square) axes box
        (u0, u1), (v0, v1) = self.ax.viewLim.intervalx, self.ax.viewLim.intervaly
        un, vn = (np.asarray(u) - u0) / (u1 - u0), (np.asarray(v) - v0) / (v1 - v0)
        bw, bh = un.max() - un.min(), vn.max() - vn.min()
        s = min((W - 2 * pad_px) / max(bw, 1e-6), (avail_h - 2 * pad_px) / max(bh, 1e-6))
        # box centre goes to the centre of the free area
        ox = W / 2.0 - s * (un.max() + un.min()) / 2.0
        oy = avail_h / 2.0 - s * (vn.max() + vn.min()) / 2.0
        self.ax.set_position((ox / W, oy / H, s / W, s / H))

    # -- rendering --------------------------------------------------------------------------
    def render(self,
               joints: Any,
               title: str | None = None,
               extent: dict | None = None,
               num_frames: int | None = None,
               fit_points: np.ndarray | None = None) -> np.ndarray:
        """Render a motion to one array (see :meth:`iter_render` for the arguments; use that to
        write long motions without holding every frame).

        Returns:
            uint8 array ``(T_out, height, width, 3)``.
        """
        j = _check_joints(joints, self.skeleton)
        T_out = j.shape[0] if num_frames is None else int(num_frames)
        return _stack_frames(self.iter_render(j, title, extent, num_frames, fit_points), T_out,
                             self.height, self.width)

    def iter_render(self,
                    joints: Any,
                    title: str | None = None,
                    extent: dict | None = None,
                    num_frames: int | None = None,
                    fit_points: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Render a motion frame by frame (a generator; the figure is busy until it is exhausted).

        Args:
            joints: ``(T, J, 3)`` (numpy or torch; a single pose ``(J, 3)`` is one frame). NaN
                joints are not drawn.
            title: caption drawn above the scene, wrapped to the width.
            extent: a fixed view box from :func:`compute_view_extent` (default: this motion's).
            num_frames: output this many frames; frames past the motion's end hold its last
                pose (used to align panels of different lengths).
            fit_points: points ``(..., 3)`` the framing must keep in view, besides the floor
                (default: all joints of this motion, or the whole ``extent`` box when an
                ``extent`` is given); side-by-side panels pass the joints of all panels.

        Yields:
            uint8 arrays ``(height, width, 3)``, ``T_out`` of them (a new array each).
        """
        j = _check_joints(joints, self.skeleton)
        T = j.shape[0]
        T_out = T if num_frames is None else int(num_frames)
        if T_out < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        return self._frames(j, T, T_out, title, extent, fit_points)

    def _frames(self, j: np.ndarray, T: int, T_out: int, title: str | None, extent: dict | None,
                fit_points: np.ndarray | None) -> Iterator[np.ndarray]:
        if fit_points is None and extent is None:
            fit_points = j
        if extent is None:
            extent = compute_view_extent([j])
        self._setup_scene(extent, title, points=fit_points)

        # static background: everything but the moving artists
        for line in self.lines:
            line.set_visible(False)
        self.traj_line.set_visible(False)
        self.canvas.draw()
        background = self.canvas.copy_from_bbox(self.fig.bbox)
        for line in self.lines:
            line.set_visible(True)
        self.traj_line.set_visible(self.show_trajectory)

        root = j[:, 0]
        last_t, frame = -1, None
        for t_out in range(T_out):
            t = min(t_out, T - 1)
            if t == last_t:  # held last frame: identical image
                yield frame.copy()
                continue
            last_t = t
            self.canvas.restore_region(background)
            pose = j[t]
            if self.show_trajectory:
                px, py, _ = _to_plot(root[:t + 1])
                self.traj_line.set_data_3d(px, py, np.zeros_like(px))
                self.ax.draw_artist(self.traj_line)
            # painter's order: chains farther from the camera first
            depth = np.full(len(self.chains), -np.inf)
            for k, c in enumerate(self.chains):
                d = pose[list(c)] @ self._view_dir
                d = d[np.isfinite(d)]
                if len(d):
                    depth[k] = d.mean()
            order = np.argsort(depth, kind='stable')
            for k in order:
                px, py, pz = _to_plot(pose[list(self.chains[k])])
                self.lines[k].set_data_3d(px, py, pz)
                self.ax.draw_artist(self.lines[k])
            frame = _canvas_to_rgb(self.canvas, self.width, self.height)
            yield frame

    def close(self) -> None:
        """Release the figure (the renderer cannot render afterwards)."""
        self.fig.clear()


# ------------------------------------------------------------------------------------------
# 2D renderer (image-plane keypoints, e.g. COCO-17)
# ------------------------------------------------------------------------------------------
class Skeleton2DRenderer:
    """Render image-plane keypoints ``(T, J, 2)`` or ``(T, J, 3)`` (x, y, score) in pixels.

    Image convention: x to the right, y down, origin at the top-left corner.

    Args:
        skeleton: e.g. ``'coco17'``.
        width, height: output frame size in pixels.
        score_thr: keypoints whose score (third channel) is <= this are not drawn
            (COCO visibility 0 = not labelled).
        linewidth: bone width in points.
    """

    def __init__(self, skeleton: Any = 'coco17', width: int = 320, height: int = 320,
                 score_thr: float = 0.0, linewidth: float = 2.5, dpi: float = 100.0,
                 fontsize: float | None = None) -> None:
        if int(width) < 16 or int(height) < 16:
            raise ValueError(f'frame size must be at least 16x16 pixels, got {width}x{height}')
        _, Figure, FigureCanvasAgg = _import_matplotlib()
        self.skeleton = resolve_skeleton(skeleton)
        self.width, self.height, self.dpi = int(width), int(height), float(dpi)
        self.score_thr = float(score_thr)
        self.fontsize = float(fontsize) if fontsize else float(np.clip(self.width / 32, 7, 12))
        self.chains = _chains_of(self.skeleton)
        self.sides = chain_sides(self.skeleton)
        self.fig = Figure(figsize=(self.width / self.dpi, self.height / self.dpi), dpi=self.dpi,
                          facecolor=BACKGROUND_COLOR)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.ax.set_axis_off()
        self.title_text = self.fig.text(0.5, 1.0 - 3.0 / self.height, '', ha='center',
                                        va='top', fontsize=self.fontsize, color='#111111')
        self.image_artist = None
        self.lines = []
        for side in self.sides:
            (line,) = self.ax.plot([], [], color=SIDE_COLORS[side], lw=linewidth, marker='o',
                                   markersize=linewidth * 1.2, solid_capstyle='round')
            line.set_visible(False)
            self.lines.append(line)

    def render(self,
               keypoints: Any,
               title: str | None = None,
               image_size: tuple[int, int] | None = None,
               background: np.ndarray | None = None,
               num_frames: int | None = None) -> np.ndarray:
        """Render keypoints.

        Args:
            keypoints: ``(T, J, 2)`` or ``(T, J, 3)`` pixel coordinates (+ score).
            title: caption above the image.
            image_size: ``(width, height)`` of the source image plane; default: the background's
                size, else the keypoints' bounding box with a 10 % margin.
            background: an RGB image ``(H, W, 3)`` or one per frame ``(T, H, W, 3)``.
            num_frames: output length; extra frames hold the last pose.

        Returns:
            uint8 array ``(T_out, height, width, 3)``.
        """
        kp = _check_joints(keypoints, self.skeleton, ndim_last=(2, 3), name='keypoints')
        T_out = kp.shape[0] if num_frames is None else int(num_frames)
        return _stack_frames(self.iter_render(kp, title, image_size, background, num_frames), T_out,
                             self.height, self.width)

    def iter_render(self,
                    keypoints: Any,
                    title: str | None = None,
                    image_size: tuple[int, int] | None = None,
                    background: np.ndarray | None = None,
                    num_frames: int | None = None) -> Iterator[np.ndarray]:
        """:meth:`render` frame by frame: yields ``T_out`` uint8 arrays ``(height, width, 3)``."""
        kp = _check_joints(keypoints, self.skeleton, ndim_last=(2, 3), name='keypoints')
        xy = kp[..., :2].copy()
        if kp.shape[-1] == 3:
            xy[kp[..., 2] <= self.score_thr] = np.nan
        T = xy.shape[0]
        T_out = T if num_frames is None else int(num_frames)
        bg = None if background is None else np.asarray(background)
        if bg is not None and (bg.ndim not in (3, 4) or bg.shape[-1] not in (3, 4)):
            raise ValueError(f'background: expected (H, W, 3) or (T, H, W, 3), '
                             f'got {bg.shape}')
        per_frame_bg = bg is not None and bg.ndim == 4
        if image_size is None and bg is not None:
            image_size = (bg.shape[-2], bg.shape[-3])
        if image_size is None:
            finite = xy[np.isfinite(xy).all(-1)]
            if len(finite) == 0:
                x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
            else:
                (x0, y0), (x1, y1) = finite.min(0), finite.max(0)
            pad = 0.1 * max(x1 - x0, y1 - y0, 1.0)
            xlim, ylim = (x0 - pad, x1 + pad), (y1 + pad, y0 - pad)
        else:
            xlim, ylim = (0, image_size[0]), (image_size[1], 0)

        lines = wrap_title(title or '', self.width, self.fontsize, self.dpi)
        self.title_text.set_text('\n'.join(lines))
        band = min(0.5, (len(lines) * self.fontsize * self.dpi / 72 * 1.25 + 6) / self.height
                   ) if lines else 0.0
        self.ax.set_position((0.0, 0.0, 1.0, 1.0 - band))
        if self.image_artist is not None:
            self.image_artist.remove()
            self.image_artist = None
        if bg is not None:
            first = bg[0] if per_frame_bg else bg
            self.image_artist = self.ax.imshow(first, extent=(xlim[0], xlim[1], ylim[0], ylim[1]),
                                               interpolation='bilinear')
        self.ax.set_xlim(*xlim)
        self.ax.set_ylim(*ylim)
        self.ax.set_aspect('equal', adjustable='box')

        moving = list(self.lines) + ([self.image_artist] if per_frame_bg else [])
        for a in moving:
            a.set_visible(False)
        self.canvas.draw()
        background_buf = self.canvas.copy_from_bbox(self.fig.bbox)
        for a in moving:
            a.set_visible(True)

        return self._frames(xy, T, T_out, per_frame_bg, bg, background_buf)

    def _frames(self, xy: np.ndarray, T: int, T_out: int, per_frame_bg: bool, bg: np.ndarray | None,
                background_buf) -> Iterator[np.ndarray]:
        frame = None
        for t_out in range(T_out):
            t = min(t_out, T - 1)
            if t_out > 0 and t == min(t_out - 1, T - 1):
                yield frame.copy()
                continue
            self.canvas.restore_region(background_buf)
            if per_frame_bg:
                self.image_artist.set_data(bg[min(t, len(bg) - 1)])
                self.ax.draw_artist(self.image_artist)
            for k, chain in enumerate(self.chains):
                pts = xy[t, list(chain)]
                self.lines[k].set_data(pts[:, 0], pts[:, 1])
                self.ax.draw_artist(self.lines[k])
            frame = _canvas_to_rgb(self.canvas, self.width, self.height)
            yield frame


# ------------------------------------------------------------------------------------------
# functional API
# ------------------------------------------------------------------------------------------
def render_motion(joints: Any,
                  skeleton: Any = 't2m22',
                  title: str | None = None,
                  width: int = 320,
                  height: int = 320,
                  extent: dict | None = None,
                  num_frames: int | None = None,
                  **renderer_kwargs) -> np.ndarray:
    """Render a 3D motion ``(T, J, 3)`` to frames ``(T, height, width, 3)`` uint8.

    ``renderer_kwargs`` go to :class:`SkeletonRenderer` (``elev``, ``azim``, ``proj_type``,
    ``show_floor``, ``show_trajectory``, ``linewidth``, ``dpi``, ``fontsize``).
    """
    r = SkeletonRenderer(skeleton, width=width, height=height, **renderer_kwargs)
    try:
        return r.render(joints, title=title, extent=extent, num_frames=num_frames)
    finally:
        r.close()


def render_motion_2d(keypoints: Any,
                     skeleton: Any = 'coco17',
                     title: str | None = None,
                     width: int = 320,
                     height: int = 320,
                     image_size: tuple[int, int] | None = None,
                     background: np.ndarray | None = None,
                     score_thr: float = 0.0,
                     num_frames: int | None = None,
                     **renderer_kwargs) -> np.ndarray:
    """Render image-plane keypoints ``(T, J, 2|3)`` to frames ``(T, height, width, 3)`` uint8."""
    r = Skeleton2DRenderer(skeleton, width=width, height=height, score_thr=score_thr,
                           **renderer_kwargs)
    return r.render(keypoints, title=title, image_size=image_size, background=background,
                    num_frames=num_frames)


def render_side_by_side(motions: Sequence[Any],
                        titles: Sequence[str | None] | None = None,
                        skeleton: Any = 't2m22',
                        width: int = 320,
                        height: int = 320,
                        share_camera: bool = True,
                        separator: int = 2,
                        **renderer_kwargs) -> np.ndarray:
    """Render several motions as panels next to each other (e.g. source | target | prediction).

    Args:
        motions: list of ``(T_i, J_i, 3)``; lengths may differ: a shorter motion holds its last
            frame until the longest ends.
        titles: one caption per panel (None for no caption).
        skeleton: one skeleton for all panels, or a list with one per panel.
        width, height: size of ONE panel in pixels.
        share_camera: use one view box for all panels (positions are comparable across panels);
            if False each panel frames its own motion.
        separator: width in pixels of a grey line drawn on the left edge of every panel after
            the first (inside the panel, so the total width stays ``n * width``).

    Returns:
        uint8 array ``(max_i T_i, height, n * width, 3)``.
    """
    if len(motions) == 0:
        raise ValueError('render_side_by_side: no motions given')
    titles = list(titles) if titles is not None else [None] * len(motions)
    if len(titles) != len(motions):
        raise ValueError(f'render_side_by_side: {len(motions)} motions but {len(titles)} titles')
    skeletons = list(skeleton) if isinstance(skeleton, (list, tuple)) else [skeleton] * len(
        motions)
    if len(skeletons) != len(motions):
        raise ValueError(f'render_side_by_side: {len(motions)} motions but {len(skeletons)} '
                         'skeletons')
    arrays = [_check_joints(m, resolve_skeleton(s), name=f'motions[{i}]')
              for i, (m, s) in enumerate(zip(motions, skeletons))]
    T = max(a.shape[0] for a in arrays)
    extent = compute_view_extent(arrays) if share_camera else None
    fit_points = np.concatenate([a.reshape(-1, 3) for a in arrays]) if share_camera else None
    panels = []
    renderers: dict = {}
    for a, s, title in zip(arrays, skeletons, titles):
        key = s if isinstance(s, str) else id(s)
        if key not in renderers:  # reuse one figure per skeleton
            renderers[key] = SkeletonRenderer(s, width=width, height=height, **renderer_kwargs)
        panels.append(renderers[key].render(a, title=title, extent=extent, num_frames=T,
                                               fit_points=fit_points))
    for r in renderers.values():
        r.close()
    out = np.concatenate(panels, axis=2)
    if separator > 0:
        for i in range(1, len(panels)):
            out[:, :, i * width:i * width + separator] = 160
    return out


def iter_side_by_side(motions: Sequence[Any],
                      titles: Sequence[str | None] | None = None,
                      skeleton: Any = 't2m22',
                      width: int = 320,
                      height: int = 320,
                      share_camera: bool = True,
                      separator: int = 2,
                      **renderer_kwargs) -> Iterator[np.ndarray]:
    """:func:`render_side_by_side` frame by frame (arguments as there), for writing long motions
    with :func:`save_video` without holding every frame. Each panel has its own figure (the panels
    are drawn in turn for every frame); the figures are closed when the generator ends.

    Yields:
        ``max_i T_i`` uint8 arrays ``(height, n * width, 3)``.
    """
    if len(motions) == 0:
        raise ValueError('iter_side_by_side: no motions given')
    titles = list(titles) if titles is not None else [None] * len(motions)
    if len(titles) != len(motions):
        raise ValueError(f'iter_side_by_side: {len(motions)} motions but {len(titles)} titles')
    skeletons = list(skeleton) if isinstance(skeleton, (list, tuple)) else [skeleton] * len(motions)
    if len(skeletons) != len(motions):
        raise ValueError(f'iter_side_by_side: {len(motions)} motions but {len(skeletons)} skeletons')
    arrays = [_check_joints(m, resolve_skeleton(s), name=f'motions[{i}]')
              for i, (m, s) in enumerate(zip(motions, skeletons))]
    T = max(a.shape[0] for a in arrays)
    extent = compute_view_extent(arrays) if share_camera else None
    fit_points = np.concatenate([a.reshape(-1, 3) for a in arrays]) if share_camera else None
    renderers = [SkeletonRenderer(s, width=width, height=height, **renderer_kwargs) for s in skeletons]
    panels = [r.iter_render(a, title=t, extent=extent, num_frames=T, fit_points=fit_points)
              for r, a, t in zip(renderers, arrays, titles)]

    def frames() -> Iterator[np.ndarray]:
        try:
            for row in zip(*panels):
                out = np.concatenate(row, axis=1)
                for i in range(1, len(row)):
                    out[:, i * width:i * width + separator] = 160
                yield out
        finally:
            for r in renderers:
                r.close()
    return frames()


def frame_grid(frames: np.ndarray, num: int = 8, cols: int = 4, border: int = 1) -> np.ndarray:
    """Tile ``num`` evenly spaced frames of ``(T, H, W, 3)`` into one image (rows of ``cols``).

    A ``border``-pixel grey line separates the cells (drawn inside them, so the size stays exact).

    Returns:
        uint8 ``(rows * H, cols * W, 3)``; empty cells are white.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4:
        raise ValueError(f'frame_grid: expected (T, H, W, 3), got {frames.shape}')
    T, H, W, C = frames.shape
    num = max(1, min(int(num), T))
    cols = max(1, min(int(cols), num))
    rows = int(np.ceil(num / cols))
    idx = np.linspace(0, T - 1, num).round().astype(int)
    grid = np.full((rows * H, cols * W, C), 255, np.uint8)
    for k, t in enumerate(idx):
        r, c = divmod(k, cols)
        grid[r * H:(r + 1) * H, c * W:(c + 1) * W] = frames[t]
    if border > 0:
        for r in range(1, rows):
            grid[r * H:r * H + border] = 190
        for c in range(1, cols):
            grid[:, c * W:c * W + border] = 190
    return grid


# ------------------------------------------------------------------------------------------
# writing files
# ------------------------------------------------------------------------------------------
def _atomic_target(path: Path) -> Path:
    """A temp file beside ``path`` with the same suffix (writers pick the format from it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.stem}.', suffix=path.suffix, dir=path.parent)
    os.close(fd)
    # mkstemp creates the file 0600; give the final file the usual permissions instead
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def _check_frames(frames: Any) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f'frames: expected a non-empty (T, H, W, 3) array, got {frames.shape}')
    if frames.dtype != np.uint8:
        if np.issubdtype(frames.dtype, np.floating) and frames.max(initial=0) <= 1.0:
            frames = frames * 255.0
        frames = np.clip(frames, 0, 255).astype(np.uint8)
    return frames


def save_image(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Write an RGB image ``(H, W, 3)`` (PNG/JPG by suffix) atomically."""
    from PIL import Image
    path = Path(path)
    img = _check_frames(image)[0]
    tmp = _atomic_target(path)
    try:
        Image.fromarray(img).save(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _write_gif(frames: Iterator[np.ndarray], path: Path, fps: float, sample: np.ndarray | None = None) -> None:
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover
        raise ImportError('Writing GIF needs Pillow: pip install pillow') from e
    # One palette for the whole clip, from a tile of sampled frames (``sample``; for a stream, which
    # cannot be sampled ahead, its first 6 frames): no colour flicker between frames and a smaller
    # file than a palette per frame.
    head = [f for _, f in zip(range(6), frames)]
    if sample is None:
        sample = frame_grid(np.stack(head), num=len(head), cols=3)
    palette = Image.fromarray(sample).quantize(colors=255, method=Image.Quantize.MEDIANCUT)

    def quantized() -> Iterator:
        for f in head:
            yield Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE)
        for f in frames:
            yield Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE)
    images = quantized()
    first = next(images)
    # GIF delays are stored in 1/100 s; Pillow merges identical consecutive frames (adding their
    # delays), so held frames do not cost file size and playback time is unchanged. Pillow keeps the
    # palette-indexed frames (1 byte per pixel) until the file is written; MP4 streams instead.
    duration = max(20, int(round(1000.0 / fps / 10.0)) * 10)
    first.save(path, format='GIF', save_all=True, append_images=images,
               duration=duration, loop=0, optimize=False, disposal=1)


def _even(frame: np.ndarray) -> np.ndarray:
    """H.264 with yuv420p needs even dimensions: pad by one white row / column if needed."""
    H, W = frame.shape[:2]
    if not (H % 2 or W % 2):
        return np.ascontiguousarray(frame)
    padded = np.full((H + H % 2, W + W % 2, 3), 255, np.uint8)
    padded[:H, :W] = frame
    return padded


def _write_mp4(frames: Iterator[np.ndarray], path: Path, fps: float, backend: str) -> str:
    """Write frames one at a time (constant memory whatever the length)."""
    first = _even(next(frames))
    H, W = first.shape[:2]
    errors = []
    if backend in ('auto', 'ffmpeg'):
        writer = None
        try:
            import imageio_ffmpeg
            writer = imageio_ffmpeg.write_frames(
                str(path), (W, H), fps=fps, codec='libx264', pix_fmt_in='rgb24',
                pix_fmt_out='yuv420p', macro_block_size=1, quality=7,
                output_params=['-movflags', '+faststart'])
            writer.send(None)
            writer.send(first)
        except ImportError as e:
            errors.append(f'imageio-ffmpeg: {e}')
        except Exception as e:  # ffmpeg binary missing / codec unavailable: try opencv
            if backend == 'ffmpeg':
                raise
            errors.append(f'imageio-ffmpeg: {e}')
        else:
            # Past the first frame the stream is consumed: an error here is raised, not retried.
            for f in frames:
                writer.send(_even(f))
            writer.close()
            return 'ffmpeg'
    if backend in ('auto', 'opencv'):
        try:
            import cv2
        except ImportError as e:
            errors.append(f'opencv: {e}')
        else:
            vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), float(fps), (W, H))
            if not vw.isOpened():
                errors.append('opencv: VideoWriter(mp4v) could not be opened')
            else:
                vw.write(cv2.cvtColor(first, cv2.COLOR_RGB2BGR))
                for f in frames:
                    vw.write(cv2.cvtColor(_even(f), cv2.COLOR_RGB2BGR))
                vw.release()
                return 'opencv'
    raise RuntimeError(f'could not write {path}: install imageio-ffmpeg (H.264) or '
                       f'opencv-python (mp4v). Errors: {"; ".join(errors)}')


def _stream(frames: Iterable[Any]) -> Iterator[np.ndarray]:
    """Check every frame of a stream as it comes (same ``(H, W, 3)`` as the first, uint8)."""
    shape = None
    for k, f in enumerate(frames):
        f = _check_frames(f)
        if f.shape[0] != 1:
            raise ValueError(f'frame {k} of the stream: expected (H, W, 3), got {f.shape[1:]} x {f.shape[0]}')
        f = f[0]
        if shape is None:
            shape = f.shape
        elif f.shape != shape:
            raise ValueError(f'frame {k} of the stream has shape {f.shape}, frame 0 had {shape}')
        yield f
    if shape is None:
        raise ValueError('frames: the stream yielded no frame')


def save_video(frames: Any, path: str | os.PathLike, fps: float = 20.0,
               backend: str = 'auto', num_frames: int | None = None) -> Path:
    """Write frames to ``path`` (.gif, .mp4, or .png/.jpg = a grid of 8 frames).

    ``frames`` is a uint8 RGB array ``(T, H, W, 3)`` or any iterable of ``(H, W, 3)`` frames, e.g.
    :meth:`SkeletonRenderer.iter_render` / :func:`iter_side_by_side`: an iterable is consumed one
    frame at a time, so MP4 is written in constant memory whatever the length (GIF keeps 1 byte
    per pixel per frame, Pillow's format needs them all; a grid keeps its 8 frames, and needs
    ``num_frames`` to pick them from a stream).

    GIF is written with Pillow; MP4 with imageio-ffmpeg (H.264, yuv420p) or, if that is not
    available, OpenCV (mp4v) (``backend='auto' | 'ffmpeg' | 'opencv'``). The file appears
    atomically: it is written to a temporary file in the same folder and then renamed, so a
    reader never sees a half-written video.

    Returns:
        the written path.
    """
    path = Path(path)
    # Arguments first: nothing is rendered (a stream is not consumed) for a call that must fail.
    if not fps > 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    suffix = path.suffix.lower()
    if suffix not in ('.png', '.jpg', '.jpeg', '.gif', '.mp4'):
        raise ValueError(f'save_video: unsupported file type {path.suffix!r} for {path} '
                         '(use .gif, .mp4, .png or .jpg)')
    if backend not in ('auto', 'ffmpeg', 'opencv'):
        raise ValueError(f"backend must be 'auto', 'ffmpeg' or 'opencv', got {backend!r}")
    if isinstance(frames, np.ndarray) or hasattr(frames, 'detach'):
        array = _check_frames(to_numpy(frames, 'frames'))
        if suffix in ('.png', '.jpg', '.jpeg'):
            return save_image(frame_grid(array), path)
        stream = iter(array)
        sample = frame_grid(array, num=min(len(array), 6), cols=3)
    else:
        sample = None
        if suffix in ('.png', '.jpg', '.jpeg'):
            if num_frames is None or num_frames < 1:
                raise ValueError(f'save_video: a grid image ({path.name}) from a stream of frames needs '
                                 f'num_frames (the stream length), got {num_frames}')
            keep = set(np.linspace(0, num_frames - 1, min(8, num_frames)).round().astype(int).tolist())
            picked = [f for k, f in enumerate(_stream(frames)) if k in keep]
            return save_image(frame_grid(np.stack(picked)), path)
        stream = _stream(frames)
    tmp = _atomic_target(path)
    try:
        if suffix == '.gif':
            _write_gif(stream, tmp, fps, sample)
        else:
            _write_mp4(stream, tmp, fps, backend)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
