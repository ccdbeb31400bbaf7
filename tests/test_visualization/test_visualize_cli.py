"""tools/visualize.py: shape auto-detection, dataset items, side by side."""
import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location('visualize_cli',
                                               REPO_ROOT / 'tools' / 'visualize.py')
cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cli)

NO_ARGS = SimpleNamespace(representation=None, skeleton=None, mean=None, std=None,
                          image_plane=False, use_features=False)


def _joints(T=6, J=22):
    rng = np.random.default_rng(T * J)
    m = rng.uniform(0, 1.6, (T, J, 3)).astype(np.float32)
    m[..., 0] += 0.05 * np.arange(T)[:, None]
    return m


def test_joints_file_to_gif(tmp_path):
    np.save(tmp_path / 'm.npy', _joints(6))
    out = tmp_path / 'm.gif'
    assert cli.main([str(tmp_path / 'm.npy'), '--out', str(out), '--width', '96',
                     '--height', '80']) == 0
    with Image.open(out) as im:
        assert im.size == (96, 80) and im.n_frames == 6


def test_shape_detection(tmp_path, shared_data):
    np.save(tmp_path / 'kit.npy', _joints(3, 21))
    arr, skel, is_2d = cli.load_motion(tmp_path / 'kit.npy', NO_ARGS)
    assert skel == 'kit21' and not is_2d
    np.save(tmp_path / 'flat.npy', _joints(3).reshape(3, 66))
    arr, skel, _ = cli.load_motion(tmp_path / 'flat.npy', SimpleNamespace(**dict(vars(NO_ARGS), skeleton='t2m22')))
    assert arr.shape == (3, 22, 3) and skel == 't2m22'
    np.save(tmp_path / 'coco.npy', _joints(3, 17)[..., :2] * 100)
    arr, skel, is_2d = cli.load_motion(tmp_path / 'coco.npy', NO_ARGS)
    assert skel == 'coco17' and is_2d
    feats = shared_data / 'humanml3d_reference' / 'new_joint_vecs' / '012314.npy'
    arr, skel, _ = cli.load_motion(feats, NO_ARGS)
    ref = np.load(shared_data / 'humanml3d_reference' / 'new_joints' / '012314.npy')
    assert skel.name == 't2m22'
    np.testing.assert_allclose(arr, ref[:len(arr)], atol=1e-4)
    np.save(tmp_path / 'bad.npy', np.zeros((4, 7)))
    with pytest.raises(ValueError, match=r'bad\.npy.*\(4, 7\)'):
        cli.load_motion(tmp_path / 'bad.npy', NO_ARGS)


def test_dataset_item_with_features_only_and_caption(tmp_path, shared_data):
    ref = shared_data / 'humanml3d_reference'
    (tmp_path / 'new_joint_vecs').mkdir()
    (tmp_path / 'texts').mkdir()
    feats = np.load(ref / 'new_joint_vecs' / '012314.npy')[:10]
    np.save(tmp_path / 'new_joint_vecs' / 'x1.npy', feats)
    (tmp_path / 'texts' / 'x1.txt').write_text('a person serves a ball#a/DET person/NOUN#0.0#0.0\n'
                                               'second caption#x#0.0#0.0\n')
    joints, skel, caption = cli.load_dataset_item(tmp_path, 'x1', NO_ARGS)
    assert joints.shape == (10, 22, 3) and caption == 'a person serves a ball'
    out = tmp_path / 'x1.png'
    cli.main(['--dataset-dir', str(tmp_path), '--id', 'x1', '--out', str(out), '--width', '64',
              '--height', '64'])
    with Image.open(out) as im:
        assert im.size == (4 * 64, 2 * 64)
    with pytest.raises(FileNotFoundError, match='missing'):
        cli.load_dataset_item(tmp_path, 'missing', NO_ARGS)


def test_side_by_side_mp4(tmp_path):
    cv2 = pytest.importorskip('cv2')
    np.save(tmp_path / 'a.npy', _joints(8))
    np.save(tmp_path / 'b.npy', _joints(5))
    out = tmp_path / 'ab.mp4'
    cli.main(['--side-by-side', str(tmp_path / 'a.npy'), str(tmp_path / 'b.npy'), '--titles',
              'GT', 'Pred', '--out', str(out), '--width', '64', '--height', '64'])
    cap = cv2.VideoCapture(str(out))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    assert (n, w, h) == (8, 128, 64)


def test_argument_errors():
    with pytest.raises(SystemExit):
        cli.parse_args(['--out', 'x.gif'])  # no source
    with pytest.raises(SystemExit):
        cli.parse_args(['--dataset-dir', 'd', '--out', 'x.gif'])  # no --id


# ----------------------------------------------------------------------------------------------
# Silent bad inputs (issue #17)
# ----------------------------------------------------------------------------------------------
def test_flattened_joints_need_an_explicit_skeleton(tmp_path):
    # (T, 75) was drawn as an NTU skeleton whatever it held (e.g. 75-D features).
    np.save(tmp_path / 'f75.npy', _joints(4, 25).reshape(4, 75))
    with pytest.raises(ValueError, match=r'f75\.npy: shape \(4, 75\) is neither joints.*--skeleton ntu25.*'
                                         r'--representation'):
        cli.load_motion(tmp_path / 'f75.npy', NO_ARGS)
    arr, skel, _ = cli.load_motion(tmp_path / 'f75.npy', SimpleNamespace(**dict(vars(NO_ARGS), skeleton='ntu25')))
    assert arr.shape == (4, 25, 3) and skel == 'ntu25'
    with pytest.raises(ValueError, match=r'f75\.npy: shape \(4, 75\) is not flattened t2m22 joints'):
        cli.load_motion(tmp_path / 'f75.npy', SimpleNamespace(**dict(vars(NO_ARGS), skeleton='t2m22')))
    with pytest.raises(SystemExit):
        cli.parse_args(['x.npy', '--out', 'x.gif', '--skeleton', 'ntu26'])


def test_nan_frames_name_the_file_and_first_frame(tmp_path):
    m = _joints(8)
    m[5, 3, 1] = np.nan
    m[6] = np.inf
    np.save(tmp_path / 'nan.npy', m)
    with pytest.raises(ValueError, match=r'nan\.npy: frame 5 \(of 8, shape \(8, 22, 3\)\) holds NaN/inf.*2 frame'):
        cli.main([str(tmp_path / 'nan.npy'), '--out', str(tmp_path / 'nan.gif')])
    assert not (tmp_path / 'nan.gif').exists()
    f = np.zeros((5, 263), np.float32)
    f[2, 7] = np.nan
    np.save(tmp_path / 'nanf.npy', f)
    with pytest.raises(ValueError, match=r'nanf\.npy: frame 2'):
        cli.load_motion(tmp_path / 'nanf.npy', NO_ARGS)
    np.save(tmp_path / 'empty.npy', np.zeros((0, 263), np.float32))
    with pytest.raises(ValueError, match=r'empty\.npy: the motion has no frame \(shape \(0, 263\)\)'):
        cli.load_motion(tmp_path / 'empty.npy', NO_ARGS)


def test_arguments_checked_before_any_work(tmp_path):
    # The motion file does not exist: an argument error must come first (before loading / rendering).
    missing = str(tmp_path / 'missing.npy')
    for bad in (['--fps', '0'], ['--fps', '-20'], ['--max-frames', '0'], ['--max-frames', '-1'],
                ['--width', '0']):
        with pytest.raises(SystemExit):
            cli.main([missing, '--out', str(tmp_path / 'x.gif')] + bad)
    with pytest.raises(SystemExit):
        cli.main([missing, '--out', str(tmp_path / 'x.avi')])
    # --max-frames N keeps N frames.
    np.save(tmp_path / 'm.npy', _joints(6))
    cli.main([str(tmp_path / 'm.npy'), '--out', str(tmp_path / 'm.gif'), '--max-frames', '3', '--width', '48',
              '--height', '48'])
    with Image.open(tmp_path / 'm.gif') as im:
        assert im.n_frames == 3


def test_frames_are_streamed_to_the_writer(tmp_path, monkeypatch):
    # The CLI renders frame by frame into the writer; it never builds the (T, H, W, 3) array.
    from motionkit.visualization import SkeletonRenderer

    def no_array(*a, **k):
        raise AssertionError('render() materialises every frame')
    monkeypatch.setattr(SkeletonRenderer, 'render', no_array)
    np.save(tmp_path / 'm.npy', _joints(30))
    cli.main([str(tmp_path / 'm.npy'), '--out', str(tmp_path / 'm.mp4'), '--width', '64', '--height', '64'])
    cv2 = pytest.importorskip('cv2')
    cap = cv2.VideoCapture(str(tmp_path / 'm.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 30
    cap.release()
    cli.main(['--side-by-side', str(tmp_path / 'm.npy'), str(tmp_path / 'm.npy'), '--out', str(tmp_path / 'g.png'),
              '--width', '48', '--height', '48'])
    with Image.open(tmp_path / 'g.png') as im:
        assert im.size == (4 * 96, 2 * 48)


def test_save_video_streams_in_constant_memory(tmp_path):
    import tracemalloc

    from motionkit.visualization import save_video
    pytest.importorskip('imageio_ffmpeg')
    n, h, w = 300, 128, 128  # 14.7 MB as one array

    def frames():
        for t in range(n):
            f = np.full((h, w, 3), 255, np.uint8)
            f[:, t % w] = 0
            yield f
    tracemalloc.start()
    save_video(frames(), tmp_path / 's.mp4', fps=20, backend='ffmpeg')
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 3e6, peak
    with pytest.raises(ValueError, match='frame 1 of the stream has shape'):
        save_video(iter([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 6, 3), np.uint8)]), tmp_path / 'b.mp4')
    with pytest.raises(ValueError, match='num_frames'):
        save_video(frames(), tmp_path / 'g.png')
