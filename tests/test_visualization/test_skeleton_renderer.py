"""Renderer tests: sizes, pixel placement (left/right, up/down), captions, panels, video files."""
import os

import numpy as np
import pytest

from motionkit.motion import get_skeleton
from motionkit.visualization import (SkeletonRenderer, compute_view_extent, frame_grid,
                                     render_motion, render_motion_2d, render_side_by_side,
                                     save_video)
from motionkit.visualization.skeleton_renderer import chain_sides, wrap_title

BG = 255  # white background


def rest_pose(skeleton='t2m22', bone=0.15):
    """A pose built from the skeleton's unit rest-pose directions, lowest joint on the floor."""
    skel = get_skeleton(skeleton)
    offsets = np.asarray(skel.raw_offsets, dtype=np.float64)
    pos = np.zeros((skel.num_joints, 3))
    for j in range(skel.num_joints):  # t2m22 parents come before children
        p = skel.parents[j]
        if p >= 0:
            pos[j] = pos[p] + bone * offsets[j]
    pos[:, 1] -= pos[:, 1].min()
    return pos


def walking(T=12, skeleton='t2m22'):
    """Rest pose moving 3 cm / frame along +Z with a swinging left wrist: every frame differs."""
    pose = rest_pose(skeleton)
    skel = get_skeleton(skeleton)
    out = np.repeat(pose[None], T, 0)
    out[:, :, 2] += 0.03 * np.arange(T)[:, None]
    wrist = skel.index('left_wrist')
    out[:, wrist, 1] += 0.2 * np.sin(np.linspace(0, np.pi, T))
    return out


def drawn_mask(frame, thr=40):
    """Pixels that differ clearly from white."""
    return (BG - frame.astype(int)).max(-1) > thr


FIXED = dict(x=(-1.5, 1.5), y=(0.0, 2.0), z=(-1.5, 1.5))
FRONT = dict(elev=0.0, azim=0.0, show_floor=False, show_trajectory=False)


def test_frames_have_requested_size_and_dtype():
    frames = render_motion(walking(5), width=200, height=150)
    assert frames.shape == (5, 150, 200, 3)
    assert frames.dtype == np.uint8
    odd = render_motion(walking(2), width=161, height=97)
    assert odd.shape == (2, 97, 161, 3)


def test_joint_far_left_lands_in_left_half_and_right_in_right_half():
    # Camera in front of a person facing +Z: world -X is the image's left (not mirrored).
    pose = np.zeros((1, 22, 3))
    pose[..., 1] = 1.0
    for x, half in ((-1.2, 'left'), (1.2, 'right')):
        p = pose.copy()
        p[..., 0] = x
        frame = render_motion(p, width=200, height=200, extent=FIXED, **FRONT)[0]
        mask = drawn_mask(frame)
        assert mask.sum() > 10, 'the joints were not drawn'
        cols = np.nonzero(mask.any(0))[0]
        if half == 'left':
            assert cols.max() < 100
        else:
            assert cols.min() >= 100


def test_height_goes_up_in_the_image():
    pose = np.zeros((1, 22, 3))
    rows = {}
    for y in (0.2, 1.8):
        p = pose.copy()
        p[..., 1] = y
        frame = render_motion(p, width=200, height=200, extent=FIXED, **FRONT)[0]
        rows[y] = np.nonzero(drawn_mask(frame).any(1))[0].mean()
    assert rows[1.8] < 100 < rows[0.2]  # image rows grow downwards


def test_left_side_chains_are_blue_and_appear_on_image_right_from_the_front():
    skel = get_skeleton('t2m22')
    sides = chain_sides(skel)
    assert sides == ['right', 'left', 'center', 'right', 'left']
    frame = render_motion(rest_pose()[None], width=240, height=240, **FRONT)[0].astype(int)
    r, g, b = frame[..., 0], frame[..., 1], frame[..., 2]
    blue = (b > 150) & (r < 100)  # '#1f5fbf'
    red = (r > 150) & (b < 100)  # '#d1432c'
    assert blue.sum() > 20 and red.sum() > 20
    # the person's left (+X) is on the image's right when the camera looks at their front
    assert np.nonzero(blue)[1].mean() > np.nonzero(red)[1].mean() + 10


def test_skeleton_pixels_differ_from_background_and_nan_is_not_drawn():
    motion = walking(1)
    drawn = render_motion(motion, width=160, height=160, extent=FIXED, **FRONT)[0]
    empty = render_motion(np.full_like(motion, np.nan), width=160, height=160, extent=FIXED,
                          **FRONT)[0]
    assert (empty == BG).all()
    assert drawn_mask(drawn).sum() > 50


def test_two_different_motions_give_different_frames():
    a = walking(3)
    b = a.copy()
    b[:, :, 0] += 0.4
    fa = render_motion(a, width=120, height=120, extent=FIXED)
    fb = render_motion(b, width=120, height=120, extent=FIXED)
    assert np.abs(fa.astype(int) - fb.astype(int)).sum() > 1000
    # and the same motion twice gives identical frames (the figure is reused cleanly)
    r = SkeletonRenderer('t2m22', width=120, height=120)
    first = r.render(a, extent=FIXED)
    r.render(b, title='something else', extent=FIXED)
    np.testing.assert_array_equal(r.render(a, extent=FIXED), first)
    np.testing.assert_array_equal(first, fa)


def test_fixed_camera_floor_does_not_move():
    # With the trajectory and skeleton hidden by NaN, every frame shows the same floor.
    motion = walking(6)
    frames = render_motion(motion, width=120, height=120, show_trajectory=False)
    # bottom-left corner region holds only floor/background and must be static
    corner = frames[:, -20:, :20]
    assert (corner == corner[0]).all()


def test_title_band_has_text_and_long_titles_wrap():
    motion = walking(1)
    with_title = render_motion(motion, title='a person walks forward', width=200, height=200)[0]
    assert drawn_mask(with_title[:14]).sum() > 30
    # only the caption: an empty scene without floor
    empty = np.full_like(motion, np.nan)
    kw = dict(width=200, height=200, show_floor=False)
    assert drawn_mask(render_motion(empty, **kw)[0]).sum() == 0
    short = drawn_mask(render_motion(empty, title='a person walks', **kw)[0])
    long = drawn_mask(render_motion(empty, title='word ' * 20, **kw)[0])
    rows_short, rows_long = np.nonzero(short.any(1))[0], np.nonzero(long.any(1))[0]
    assert rows_short.min() < 8 and rows_short.max() < 20  # one line at the top
    assert rows_long.max() > rows_short.max() + 10  # wrapped onto more lines
    cols_long = np.nonzero(long.any(0))[0]
    assert cols_long.max() - cols_long.min() > 120  # wrapped to (most of) the panel width
    lines = wrap_title('word ' * 40, width_px=200, fontsize_pt=8, dpi=100, max_lines=3)
    assert len(lines) == 3 and lines[-1].endswith('...')
    assert max(len(ln) for ln in lines) <= int((200 - 8) / (0.55 * 8 * 100 / 72))


def test_camera_in_front_sees_plus_z_as_near():
    # From above and in front (azim=0, elev=30) a floor point nearer the camera (+Z) is drawn
    # lower in the image than one farther away (-Z); a mirrored mapping would swap them.
    rows = {}
    for z in (-1.0, 1.0):
        p = np.zeros((1, 22, 3))
        p[..., 2] = z
        frame = render_motion(p, width=200, height=200, extent=FIXED, elev=30.0, azim=0.0,
                              show_floor=False, show_trajectory=False)[0]
        rows[z] = np.nonzero(drawn_mask(frame).any(1))[0].mean()
    assert rows[1.0] > rows[-1.0] + 20
    # azim=90 puts the camera on the person's left (+X): now +X is near
    rows = {}
    for x in (-1.0, 1.0):
        p = np.zeros((1, 22, 3))
        p[..., 0] = x
        frame = render_motion(p, width=200, height=200, extent=FIXED, elev=30.0, azim=90.0,
                              show_floor=False, show_trajectory=False)[0]
        rows[x] = np.nonzero(drawn_mask(frame).any(1))[0].mean()
    assert rows[1.0] > rows[-1.0] + 20


def test_view_extent_covers_every_frame():
    m = walking(10)
    ext = compute_view_extent([m], margin=0.1, min_half=0.0)
    assert ext['x'][0] <= m[..., 0].min() - 0.1 + 1e-9 and ext['x'][1] >= m[..., 0].max() + 0.1
    assert ext['z'][0] <= m[..., 2].min() and ext['z'][1] >= m[..., 2].max()
    assert ext['y'][0] == 0.0 and ext['y'][1] >= m[..., 1].max()
    np.testing.assert_allclose(np.mean(ext['z']), (m[..., 2].min() + m[..., 2].max()) / 2)


def test_side_by_side_width_lengths_and_held_last_frame():
    a, b = walking(8), walking(5)
    frames = render_side_by_side([a, b], ['GT', 'Prediction'], width=100, height=90)
    assert frames.shape == (8, 90, 200, 3)
    right = frames[:, :, 100:]
    for t in range(5, 8):  # the shorter motion holds its last frame
        np.testing.assert_array_equal(right[t], right[4])
    assert not np.array_equal(frames[7, :, :100], frames[4, :, :100])
    # titles in both panels
    assert drawn_mask(frames[0, :14, :100]).sum() > 10
    assert drawn_mask(frames[0, :14, 100:]).sum() > 10
    three = render_side_by_side([a, b, a], None, skeleton='t2m22', width=64, height=64)
    assert three.shape == (8, 64, 192, 3)
    with pytest.raises(ValueError, match='2 motions but 1 titles'):
        render_side_by_side([a, b], ['only one'])


def test_wrong_joint_count_names_skeleton_and_shape():
    with pytest.raises(ValueError, match=r"t2m22.*\(4, 21, 3\)"):
        render_motion(np.zeros((4, 21, 3)), skeleton='t2m22')
    with pytest.raises(ValueError, match='expected shape'):
        render_motion(np.zeros((4, 22, 4)))


def test_other_skeletons_render():
    for name in ('kit21', 'smpl24', 'ntu25'):
        skel = get_skeleton(name)
        m = np.random.default_rng(0).uniform(0, 1.5, (2, skel.num_joints, 3))
        assert drawn_mask(render_motion(m, skeleton=name, width=80, height=80)[0]).sum() > 10


def test_2d_coco_keypoints_position_and_scores():
    kp = np.zeros((2, 17, 3))
    kp[..., 0] = 20.0  # all on the left of a 400 x 200 image
    kp[..., 1] = np.linspace(20, 180, 17)
    kp[..., 2] = 1.0
    kp[1, :, 2] = 0.0  # frame 1: nothing visible
    frames = render_motion_2d(kp, image_size=(400, 200), width=200, height=100)
    assert frames.shape == (2, 100, 200, 3)
    cols = np.nonzero(drawn_mask(frames[0]).any(0))[0]
    assert len(cols) and cols.max() < 50
    assert drawn_mask(frames[1]).sum() == 0
    # y grows downwards in image coordinates: the nose (y=20) is drawn above the ankles (y=180)
    kp2 = kp[:1].copy()
    kp2[0, :, 1] = 180.0
    kp2[0, 0, 1] = 20.0
    kp2[0, 0, 0] = 300.0  # nose alone on the right
    f = render_motion_2d(kp2, image_size=(400, 200), width=200, height=100)[0]
    right_rows = np.nonzero(drawn_mask(f[:, 100:]).any(1))[0]
    assert right_rows.min() < 30


def test_2d_background_image():
    bg = np.zeros((50, 100, 3), np.uint8)
    bg[..., 1] = 200
    kp = np.full((1, 17, 2), 50.0)
    f = render_motion_2d(kp, background=bg, width=100, height=50)[0]
    assert (f[..., 1] > 150).mean() > 0.5  # the green background fills the frame


def test_frame_grid():
    frames = np.stack([np.full((10, 12, 3), t, np.uint8) for t in range(9)])
    grid = frame_grid(frames, num=3, cols=3, border=0)
    assert grid.shape == (10, 36, 3)
    assert grid[0, 0, 0] == 0 and grid[0, 12, 0] == 4 and grid[0, 24, 0] == 8


def _distinct_frames(T=7, H=64, W=96):
    frames = np.full((T, H, W, 3), 255, np.uint8)
    for t in range(T):
        frames[t, 10:30, 5 + 10 * t:15 + 10 * t] = (200, 30, 30)
    return frames


def test_save_gif_reads_back_with_all_frames(tmp_path):
    from PIL import Image
    frames = _distinct_frames()
    path = save_video(frames, tmp_path / 'clip.gif', fps=20)
    assert path.is_file()
    with Image.open(path) as im:
        assert im.n_frames == 7
        assert im.size == (96, 64)
        assert im.info['duration'] == 50  # 20 fps
        im.seek(3)
        rgb = np.asarray(im.convert('RGB'))
        assert tuple(rgb[20, 40]) == (200, 30, 30) and tuple(rgb[20, 10]) == (255, 255, 255)
    assert [p.name for p in tmp_path.iterdir()] == ['clip.gif']  # no temp file left


@pytest.mark.parametrize('backend', ['ffmpeg', 'opencv'])
def test_save_mp4_decodes_with_right_count_and_size(tmp_path, backend):
    cv2 = pytest.importorskip('cv2')
    if backend == 'ffmpeg':
        pytest.importorskip('imageio_ffmpeg')
    frames = _distinct_frames(T=9)
    path = save_video(frames, tmp_path / 'clip.mp4', fps=20, backend=backend)
    cap = cv2.VideoCapture(str(path))
    decoded = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        decoded.append(f[..., ::-1])
    cap.release()
    assert len(decoded) == 9
    assert decoded[0].shape == (64, 96, 3)
    # lossy, but the red box of frame 4 is where it was drawn
    assert np.abs(decoded[4][20, 50].astype(int) - (200, 30, 30)).max() < 60
    assert decoded[4][20, 10].min() > 200
    assert os.listdir(tmp_path) == ['clip.mp4']


def test_save_video_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match='unsupported file type'):
        save_video(_distinct_frames(), tmp_path / 'x.avi')
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\)'):
        save_video(np.zeros((3, 4, 5)), tmp_path / 'x.gif')
    assert list(tmp_path.iterdir()) == []


def test_save_png_writes_a_frame_grid(tmp_path):
    from PIL import Image
    path = save_video(_distinct_frames(T=8), tmp_path / 'grid.png')
    with Image.open(path) as im:
        assert im.size == (4 * 96, 2 * 64)
