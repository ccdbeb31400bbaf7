"""Video transforms on the real shared MP4 clips (../shared/data/videos) and SynthMotion's renders."""
import sys

import numpy as np
import pytest
import torch

from motionkit.datasets import VideoReadError, probe_video, read_video_frames
from motionkit.datasets.transforms import (CheckVideoPoseLength, LoadCachedVideoFeatures,
                                           LoadPrecomputedVideoFeatures, LoadVideoFrames,
                                           NormalizeFrames, ResizeFrames, SampleClipAroundTimestamp,
                                           SampleEgoExoPair, UniformSampleFrames, VideoWindowError,
                                           clip_frame_indices, time_to_frame_indices,
                                           uniform_frame_indices)
from motionkit.registry import TRANSFORMS

ARM = 'videos/mmaction2_demo_arm_wrestling.mp4'   # 280 frames, 28 fps, 340 x 256
HUG = 'videos/mmaction2_demo_skeleton_hug.mp4'    # 72 frames, 28.05 fps, 1920 x 1080


@pytest.fixture(scope='module')
def arm(shared_data):
    return str(shared_data / ARM)


@pytest.fixture(scope='module')
def hug(shared_data):
    return str(shared_data / HUG)


@pytest.fixture
def damaged(arm, tmp_path):
    """Copies of the arm-wrestling clip: ``zeroed`` (60 kB of its media data zeroed in the middle; the
    index at the end is intact, so it opens and fails on frame 140) and ``truncated`` (last 1000
    bytes cut: the ``moov`` index at the end is gone, so it cannot be opened)."""
    data = bytearray(open(arm, 'rb').read())
    n = len(data)
    zeroed = bytes(data[:n // 2]) + b'\0' * 60000 + bytes(data[n // 2 + 60000:])
    (tmp_path / 'zeroed.mp4').write_bytes(zeroed)
    (tmp_path / 'truncated.mp4').write_bytes(bytes(data[:-1000]))
    return dict(zeroed=str(tmp_path / 'zeroed.mp4'), truncated=str(tmp_path / 'truncated.mp4'))


# ------------------------------------------------------------------ index maths (hand-computed)
def test_uniform_frame_indices_modes():
    # 10 frames, 4 segments of 2.5: centres floor(1.25, 3.75, 6.25, 8.75)
    assert uniform_frame_indices(10, 4).tolist() == [1, 3, 6, 8]
    # ExpertAF: round(linspace(0, 9, 4)) = round(0, 3, 6, 9)
    assert uniform_frame_indices(10, 4, 'linspace').tolist() == [0, 3, 6, 9]
    # window [20, 30) shifts the same pattern
    assert uniform_frame_indices(100, 4, start=20, end=30).tolist() == [21, 23, 26, 28]
    # random: floor(2.5 (k + u)) lies in [floor(2.5 k), ceil(2.5 (k + 1)) - 1] = [0..2], [2..4], ...
    lo, hi = np.array([0, 2, 5, 7]), np.array([2, 4, 7, 9])
    draws = np.stack([uniform_frame_indices(10, 4, 'random', rng=np.random.default_rng(s))
                      for s in range(50)])
    assert ((draws >= lo) & (draws <= hi)).all()
    assert (draws.min(0) == lo).all() and (draws.max(0) == hi).all()   # every frame reachable
    with pytest.raises(VideoWindowError, match='3 frames, fewer than the 4'):
        uniform_frame_indices(3, 4)


def test_clip_frame_indices_hand_computed():
    # 4 frames at 4 fps around t=5 s: times 4.625, 4.875, 5.125, 5.375 s; x 28 fps = 129.5 ...
    assert clip_frame_indices(280, 28.0, 5.0, 4, 4.0).tolist() == [129, 136, 143, 150]
    # near the start: times -0.375 .. 0.375 -> frames -11, -4, 3, 10 -> shifted by +11
    assert clip_frame_indices(280, 28.0, 0.0, 4, 4.0).tolist() == [0, 7, 14, 21]
    # near the end: 279 is the last frame
    assert clip_frame_indices(280, 28.0, 10.0, 4, 4.0)[-1] == 279
    with pytest.raises(VideoWindowError, match='outside the video'):
        clip_frame_indices(280, 28.0, 0.0, 4, 4.0, on_boundary='error')
    # 8 frames at 1 fps span 7 s = 197 frames at 28 fps; a 72-frame video is shorter
    with pytest.raises(VideoWindowError, match='more than the 72 frames'):
        clip_frame_indices(72, 28.0, 1.0, 8, 1.0)
    # a time exactly on a frame boundary stays on that frame: 0.1 s * 30 fps = frame 3
    assert time_to_frame_indices([0.1, 0.0999], 30.0).tolist() == [3, 2]


# ------------------------------------------------------------------ reading real videos
def test_probe_and_decode_real_videos(arm, hug):
    info = probe_video(arm)
    assert (info.num_frames, info.fps) == (280, 28.0)
    hug_info = probe_video(hug)
    assert hug_info.num_frames == 72 and abs(hug_info.fps - 28.05) < 0.01
    frames = read_video_frames(arm, [279, 0, 0, 100])
    assert frames.shape == (4, 256, 340, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[1], frames[2])            # repeats allowed, in order
    assert not np.array_equal(frames[0], frames[1])
    # the OpenCV fallback decodes the same pixels (same FFmpeg decoder underneath)
    cv = read_video_frames(arm, [279, 0, 0, 100], backend='opencv')
    assert np.abs(cv.astype(int) - frames).mean() < 1.0
    assert read_video_frames(hug, [71]).shape == (1, 1080, 1920, 3)


def test_bad_videos_name_file_and_frame(arm, damaged, tmp_path):
    for backend in ('decord', 'opencv'):
        with pytest.raises(VideoReadError, match=r'zeroed\.mp4: cannot decode frame 140 of 280'):
            read_video_frames(damaged['zeroed'], np.arange(0, 280, 7), backend=backend)
        with pytest.raises(VideoReadError, match=r'truncated\.mp4: cannot open the video'):
            read_video_frames(damaged['truncated'], [0], backend=backend)
    # frames before the damage still decode
    assert read_video_frames(damaged['zeroed'], [0, 50]).shape == (2, 256, 340, 3)
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(b'not a video' * 100)
    with pytest.raises(VideoReadError, match='junk.mp4: cannot open'):
        probe_video(junk)
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        read_video_frames(tmp_path / 'nope.mp4', [0])
    with pytest.raises(VideoReadError, match='frame index 280 is outside the video .280 frames'):
        read_video_frames(arm, [0, 280])
    # through the transform, the same message
    with pytest.raises(VideoReadError, match='zeroed.mp4: cannot decode frame 140'):
        LoadVideoFrames()(dict(video_path=damaged['zeroed'], frame_inds=np.array([140])))


# ------------------------------------------------------------------ pipelines
def test_pipeline_from_registry(arm):
    pipeline = [TRANSFORMS.build(c) for c in [
        dict(type='UniformSampleFrames', num_frames=8),
        dict(type='LoadVideoFrames'),
        dict(type='ResizeFrames', short_side=64),
        dict(type='NormalizeFrames')]]
    results = dict(video_path=arm)
    for t in pipeline:
        results = t(results)
    # 280 frames / 8 = 35 per segment: centres 17, 52, ..., 262
    assert results['frame_inds'].tolist() == [17 + 35 * k for k in range(8)]
    assert (results['total_frames'], results['video_fps']) == (280, 28.0)
    # short side 256 -> 64 (x 0.25): 340 -> 85
    assert results['frames'].shape == (8, 3, 64, 85) and results['frames'].dtype == np.float32
    assert results['frame_shape'] == (64, 85)


def test_short_video_error_or_counted_skip(hug):
    with pytest.raises(VideoWindowError, match='skeleton_hug.mp4: the window has 72 frames'):
        UniformSampleFrames(num_frames=100)(dict(video_path=hug))
    skip = UniformSampleFrames(num_frames=100, on_short='skip')
    assert skip(dict(video_path=hug)) is None and skip(dict(video_path=hug)) is None
    assert skip.num_skipped == 2
    # 8 frames at 1 fps need 7 s; the hug clip has 2.57 s
    clip = SampleClipAroundTimestamp(num_frames=8, sample_fps=1.0, on_short='skip')
    assert clip(dict(video_path=hug, timestamp=1.0)) is None and clip.num_skipped == 1
    out = SampleClipAroundTimestamp(num_frames=4, sample_fps=4.0)(dict(video_path=hug, timestamp=1.0))
    # times 0.625, 0.875, 1.125, 1.375 s at 28.0519 fps -> floor(17.53, 24.55, 31.56, 38.57)
    assert out['frame_inds'].tolist() == [17, 24, 31, 38]


def test_ego_exo_pair_same_instants():
    # two views with different rates (no file access: counts and fps already known)
    results = dict(ego_video_path='ego.mp4', ego_total_frames=300, ego_video_fps=30.0,
                   exo_video_path='exo.mp4', exo_total_frames=480, exo_video_fps=60.0)
    out = SampleEgoExoPair(num_frames=4)(results)
    # common window = min(10 s, 8 s) = 8 s; times 1, 3, 5, 7 s
    np.testing.assert_allclose(out['frame_times'], [1.0, 3.0, 5.0, 7.0])
    assert out['ego_frame_inds'].tolist() == [30, 90, 150, 210]
    assert out['exo_frame_inds'].tolist() == [60, 180, 300, 420]
    short = dict(results, exo_total_frames=3, exo_video_fps=1.0)   # 3 s: 90 ego but 3 exo frames
    with pytest.raises(VideoWindowError, match='exo.mp4: the exo view has 3 frames'):
        SampleEgoExoPair(num_frames=4)(short)


def test_ego_exo_pair_loads_both_real_views(arm, hug):
    pipeline = [SampleEgoExoPair(num_frames=3), LoadVideoFrames(views=('ego', 'exo')),
                ResizeFrames(scale=(32, 48), views=('ego', 'exo'))]
    results = dict(ego_video_path=hug, exo_video_path=arm)
    for t in pipeline:
        results = t(results)
    assert results['ego_frames'].shape == results['exo_frames'].shape == (3, 32, 48, 3)
    # the common window is the hug clip's 72 / 28.0519 s; times (k + 0.5) / 3 of it
    t = (np.arange(3) + 0.5) / 3 * 72 / 28.051948051948052
    assert results['exo_frame_inds'].tolist() == np.floor(t * 28.0 + 1e-6).astype(int).tolist()


def test_resize_linear_ramp_and_normalize_values(monkeypatch):
    # I(x) = 2x + 10 along the width; shrinking by 2 averages x = 2j and 2j + 1 (OpenCV's area
    # filter; torch's antialiased bilinear is a symmetric filter centred on 2j + 0.5, exact on a ramp
    # away from the borders): 2 (2j + 0.5) + 10 = 4j + 11
    ramp = (2 * np.arange(64) + 10).astype(np.uint8)
    frames = np.broadcast_to(ramp[None, None, :, None], (2, 8, 64, 3)).copy()
    out = ResizeFrames(scale=(4, 32))(dict(frames=frames))['frames']
    assert out.shape == (2, 4, 32, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 1, 2:30, 0], 4 * np.arange(2, 30) + 11)
    with monkeypatch.context() as m:                    # no OpenCV: torch's antialiased bilinear
        m.setitem(sys.modules, 'cv2', None)
        out_torch = ResizeFrames(scale=(4, 32))(dict(frames=frames))['frames']
    np.testing.assert_array_equal(out_torch[0, 1, 2:30, 0], 4 * np.arange(2, 30) + 11)
    frames = np.zeros((1, 2, 2, 3), np.uint8)
    frames[..., 0] = 255
    frames[..., 2] = 51
    out = NormalizeFrames(mean=(0.5, 0.5, 0.4), std=(0.5, 0.25, 0.2))(dict(frames=frames))['frames']
    assert out.shape == (1, 3, 2, 2)
    # (1 - 0.5) / 0.5 = 1; (0 - 0.5) / 0.25 = -2; (0.2 - 0.4) / 0.2 = -1
    np.testing.assert_allclose(out[0, :, 0, 0], [1.0, -2.0, -1.0], atol=1e-6)
    with pytest.raises(ValueError, match=r'frames must be \(N, H, W, 3\) uint8'):
        NormalizeFrames()(dict(frames=out))


def test_video_pose_length_on_synthmotion_renders(tmp_path):
    from motionkit.synthmotion.build import build_synthmotion
    out = build_synthmotion(tmp_path / 'sm', 2, seed=0, progress=False, num_feedback=1,
                            num_triplets=0, render_feedback=True)
    video = out / 'synthmotion' / 'feedback' / 'F000000_novice.mp4'
    pose = out / 'synthmotion' / 'feedback' / 'F000000_novice_coco17.npy'
    num = len(np.load(pose))
    results = CheckVideoPoseLength()(dict(video_path=str(video), pose_path=str(pose)))
    assert results['total_frames'] == num               # one rendered frame per pose
    frames = LoadVideoFrames()(dict(video_path=str(video), frame_inds=np.array([0, num - 1])))
    assert frames['frames'].shape == (2, 160, 160, 3)
    with pytest.raises(ValueError, match=rf'F000000_novice.mp4 has {num} frames but its pose track '
                                         rf"results\['pose'\] has {num - 5} poses"):
        CheckVideoPoseLength()(dict(video_path=str(video), pose=np.zeros((num - 5, 17, 3))))
    check = CheckVideoPoseLength(on_mismatch='skip', tolerance=2)
    assert check(dict(video_path=str(video), pose=np.zeros((num - 2, 17, 3)))) is not None
    assert check(dict(video_path=str(video), pose=np.zeros((num - 3, 17, 3)))) is None
    assert check.num_skipped == 1


def test_precomputed_and_cached_features(arm, tmp_path):
    # InternVideo2-style files: one tensor per clip and view (.pth.tar), or .npy
    feats = torch.arange(12, dtype=torch.float32).view(3, 4)
    torch.save(feats, tmp_path / 'take1_30_aria.pth.tar')
    t = LoadPrecomputedVideoFeatures(str(tmp_path), '{take_uid}_{start_frame}_aria.pth.tar',
                                     view='ego', feature_dim=4)
    out = t(dict(take_uid='take1', start_frame=30))
    np.testing.assert_array_equal(out['ego_video_features'], feats.numpy())
    with pytest.raises(FileNotFoundError, match='take2_30_aria.pth.tar'):
        t(dict(take_uid='take2', start_frame=30))
    with pytest.raises(ValueError, match=r'must be \(N, 5\), got shape \(3, 4\)'):
        LoadPrecomputedVideoFeatures(str(tmp_path), 'take1_30_aria.pth.tar', feature_dim=5)({})
    enc, samp = dict(type='X'), dict(num_frames=2)
    cached = LoadCachedVideoFeatures(str(tmp_path / 'cache'), enc, samp, pool='mean')
    with pytest.raises(FileNotFoundError, match='arm_wrestling.mp4: no cached features'):
        cached(dict(video_path=arm))
    cached._cache.save(arm, np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(cached(dict(video_path=arm))['video_features'], [2.0, 4.0])
