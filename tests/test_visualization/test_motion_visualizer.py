"""MotionVisualizer: gt | pred panels, backends, videos, decoding features of a data sample."""
import numpy as np
import pytest
from PIL import Image

from motionkit.structures.motion_data_sample import MotionDataSample
from motionkit.visualization import MotionVisualizer, sample_caption, sample_to_joints


def _motion(T, shift=0.0):
    rng = np.random.default_rng(T)
    m = rng.uniform(0.0, 1.6, (T, 22, 3))
    m[..., 0] += shift + 0.02 * np.arange(T)[:, None]
    return m.astype(np.float32)


def _vis(tmp_path, name, **kwargs):
    return MotionVisualizer(name=name, save_dir=str(tmp_path),
                            vis_backends=[dict(type='LocalVisBackend')], width=96, height=96,
                            **kwargs)


def test_add_datasample_writes_grid_image_and_gif(tmp_path):
    vis = _vis(tmp_path, 'vis_gif', video_formats=('gif', 'mp4'))
    sample = MotionDataSample(metainfo=dict(motion_id='000001'))
    sample.gt_joints = _motion(10)
    sample.pred_joints = _motion(6, shift=0.5)
    sample.gt_text = 'a person walks'
    written = vis.add_datasample('val_0', sample, step=7)
    vis_dir = tmp_path / 'vis_data'
    assert sorted(p.name for p in written) == ['val_0_7.gif', 'val_0_7.mp4']
    assert all(p.parent == vis_dir / 'vis_video' and p.is_file() for p in written)
    png = vis_dir / 'vis_image' / 'val_0_7.png'
    assert png.is_file()
    with Image.open(png) as im:  # 4 frames in one row of gt|pred panels
        assert im.size == (4 * 2 * 96, 96)
    with Image.open(written[0]) as im:
        assert im.size == (2 * 96, 96)
        assert im.n_frames == 10
    assert vis.get_image().shape == (96, 4 * 2 * 96, 3)


def test_draw_flags_and_out_file(tmp_path):
    vis = _vis(tmp_path, 'vis_flags')
    sample = dict(gt_joints=_motion(5), pred_joints=_motion(5, shift=1.0))
    frames_both = vis.render_sample(sample)
    frames_gt = vis.render_sample(sample, draw_pred=False)
    assert frames_both.shape == (5, 96, 192, 3) and frames_gt.shape == (5, 96, 96, 3)
    out = tmp_path / 'elsewhere' / 'clip.gif'
    assert vis.add_datasample('x', sample, out_file=str(out)) == [out]
    assert out.is_file()
    assert not (tmp_path / 'vis_data' / 'vis_image').exists()  # out_file: no backend image


def test_extra_panels_and_missing_fields(tmp_path):
    vis = _vis(tmp_path, 'vis_panels',
               panels=(('source', 'Source'), ('gt', 'Target'), ('pred', 'Prediction')))
    sample = dict(source_joints=_motion(4), gt_joints=_motion(4), pred_joints=_motion(4, 1.0))
    assert vis.render_sample(sample).shape == (4, 96, 3 * 96, 3)
    with pytest.raises(ValueError, match='none of source_joints/source_motion'):
        vis.render_sample(dict(foo=1))


def test_length_cuts_padding_and_captions():
    sample = dict(gt_joints=np.zeros((20, 22, 3)), length=12, gt_texts=['first', 'second'],
                  pred_text='generated')
    joints, _ = sample_to_joints(sample, 'gt')
    assert joints.shape == (12, 22, 3)
    assert sample_to_joints(sample, 'pred') is None
    assert sample_caption(sample, 'gt') == 'first'
    assert sample_caption(sample, 'pred') == 'generated'


def test_normalized_features_are_decoded_like_the_reference_joints(shared_data):
    root = shared_data / 'humanml3d_reference'
    feats = np.load(root / 'new_joint_vecs' / '012314.npy')[:40]
    joints = np.load(root / 'new_joints' / '012314.npy')[:40]
    mean, std = np.load(root / 'Mean.npy'), np.load(root / 'Std.npy')
    sample = MotionDataSample(metainfo=dict(representation='HumanML3DFeatures', normalized=True,
                                            mean=str(root / 'Mean.npy'),
                                            std=str(root / 'Std.npy')))
    sample.gt_motion = (feats - mean) / std
    decoded, skeleton = sample_to_joints(sample, 'gt')
    assert skeleton.name == 't2m22'
    assert decoded.shape == (40, 22, 3)
    np.testing.assert_allclose(decoded, joints, atol=1e-4)
    # without the statistics the sample cannot be decoded: a clear error
    bad = MotionDataSample(metainfo=dict(representation='HumanML3DFeatures', normalized=True))
    bad.gt_motion = feats
    with pytest.raises(ValueError, match='normalized=True but no mean/std'):
        sample_to_joints(bad, 'gt')
    no_rep = MotionDataSample()
    no_rep.gt_motion = feats
    with pytest.raises(ValueError, match='no representation'):
        sample_to_joints(no_rep, 'gt')


def test_visualizer_defaults_decode_unnormalized_features(tmp_path, shared_data):
    root = shared_data / 'humanml3d_reference'
    feats = np.load(root / 'new_joint_vecs' / '012314.npy')[:12]
    vis = _vis(tmp_path, 'vis_feats', representation='HumanML3DFeatures')
    frames = vis.render_sample(dict(gt_motion=feats, pred_joints=_motion(12)))
    assert frames.shape == (12, 96, 192, 3)
