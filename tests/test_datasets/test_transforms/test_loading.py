import numpy as np
import pytest

from motionkit.datasets.transforms import LoadMotion
from motionkit.registry import TRANSFORMS


def test_registered():
    assert TRANSFORMS.get('LoadMotion') is LoadMotion


def test_load_window_and_joints(motion_file):
    results = dict(motion_path=motion_file['motion_path'], joints_path=motion_file['joints_path'],
                   start_frame=10, end_frame=30, feature_dim=263, num_joints=22)
    out = LoadMotion(with_joints=True)(results)
    assert out['motion'].shape == (20, 263) and out['motion'].dtype == np.float32
    np.testing.assert_array_equal(out['motion'], motion_file['feats'][10:30])
    assert out['motion'][0, 5] == pytest.approx(10.005)
    np.testing.assert_array_equal(out['joints'], motion_file['joints'][10:30])
    assert (out['length'], out['ori_length']) == (20, 50)


def test_end_beyond_file_is_clipped(motion_file):
    out = LoadMotion()(dict(motion_path=motion_file['motion_path'], start_frame=40,
                            end_frame=80))
    assert out['length'] == 10 and out['motion'][0, 0] == 40


def test_wrong_width(motion_file):
    with pytest.raises(ValueError, match=r'feats\.npy: expected 251-D motion features, got '
                       r'shape \(50, 263\)'):
        LoadMotion(feature_dim=251)(dict(motion_path=motion_file['motion_path']))
    # the expected width may come from the dataset metainfo
    with pytest.raises(ValueError, match='expected 251-D'):
        LoadMotion()(dict(motion_path=motion_file['motion_path'], feature_dim=251))


def test_wrong_joint_shape(motion_file):
    with pytest.raises(ValueError, match=r'joints\.npy: expected 21 joints, got shape'):
        LoadMotion(with_motion=False, with_joints=True, num_joints=21)(
            dict(joints_path=motion_file['joints_path']))
    with pytest.raises(ValueError, match=r'feats\.npy: joint positions must be a \(T, J, 3\)'):
        LoadMotion(with_motion=False, with_joints=True)(
            dict(joints_path=motion_file['motion_path']))


def test_nan_and_inf(tmp_path):
    x = np.zeros((45, 263), np.float32)
    x[12, 0] = np.nan
    x[20, 1] = -np.inf
    np.save(tmp_path / 'bad.npy', x)
    with pytest.raises(ValueError, match=r'bad\.npy: features contain 1 NaN and 1 inf values '
                       r'\(first bad frame 12 of 45\)'):
        LoadMotion()(dict(motion_path=str(tmp_path / 'bad.npy')))
    out = LoadMotion(check_finite=False)(dict(motion_path=str(tmp_path / 'bad.npy')))
    assert np.isnan(out['motion'][12, 0])


def test_too_short(motion_file):
    with pytest.raises(ValueError, match=r'feats\.npy gives 20 frames \(window 30:50 of 50\), '
                       r'fewer than the minimum 40'):
        LoadMotion()(dict(motion_path=motion_file['motion_path'], start_frame=30,
                          min_motion_length=40))
    with pytest.raises(ValueError, match='fewer than the minimum 60'):
        LoadMotion(min_length=60)(dict(motion_path=motion_file['motion_path']))


def test_missing_file_and_key(tmp_path, motion_file):
    with pytest.raises(FileNotFoundError, match=r'features file not found: .*nope\.npy'):
        LoadMotion()(dict(motion_path=str(tmp_path / 'nope.npy')))
    with pytest.raises(KeyError, match='with_joints=True'):
        LoadMotion(with_joints=True)(dict(motion_path=motion_file['motion_path']))


def test_frame_mismatch(tmp_path, motion_file):
    np.save(tmp_path / 'short_joints.npy', np.zeros((49, 22, 3), np.float32))
    with pytest.raises(ValueError, match=r'has 50 frames but .*short_joints\.npy has 49'):
        LoadMotion(with_joints=True)(dict(motion_path=motion_file['motion_path'],
                                          joints_path=str(tmp_path / 'short_joints.npy')))


def test_integer_array_rejected(tmp_path):
    np.save(tmp_path / 'ints.npy', np.zeros((50, 263), np.int64))
    with pytest.raises(ValueError, match=r'ints\.npy: expected a floating-point array'):
        LoadMotion()(dict(motion_path=str(tmp_path / 'ints.npy')))
