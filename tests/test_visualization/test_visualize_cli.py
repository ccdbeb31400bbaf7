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
    arr, skel, _ = cli.load_motion(tmp_path / 'flat.npy', NO_ARGS)
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
