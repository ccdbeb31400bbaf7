import numpy as np
import pytest
import torch

from motionkit.datasets.transforms import BaseTransform, PackMotionInputs
from motionkit.structures import MotionDataSample


def test_pack_features_with_joints_and_text():
    results = dict(motion=np.ones((8, 263), np.float32), joints=np.zeros((8, 22, 3), np.float32),
                   text='a man walks.', tokens=['sos/OTHER', 'a/DET'], sent_len=2,
                   captions=['a man walks.', 'someone walks.'], motion_id='000001',
                   sample_id='000001', length=8, fps=20, crop_start=4, label=3,
                   motion_path='/x/000001.npy', not_a_meta_key=1)
    out = PackMotionInputs()(results)
    assert set(out) == {'inputs', 'data_samples'}
    assert out['inputs'].dtype == torch.float32 and out['inputs'].shape == (8, 263)
    sample = out['data_samples']
    assert isinstance(sample, MotionDataSample)
    assert sample.gt_joints.shape == (8, 22, 3) and 'gt_motion' not in sample
    assert sample.gt_text == 'a man walks.' and sample.gt_texts == ['a man walks.',
                                                                   'someone walks.']
    assert sample.gt_tokens == ['sos/OTHER', 'a/DET']
    assert sample.gt_label.tolist() == [3]
    assert sample.metainfo == dict(motion_id='000001', sample_id='000001', length=8, fps=20,
                                   crop_start=4, sent_len=2, motion_path='/x/000001.npy')


def test_pack_joints_as_input():
    results = dict(motion=np.ones((5, 263), np.float32), joints=np.zeros((5, 22, 3), np.float32),
                   texts=[dict(caption='c1'), dict(caption='c2')])
    out = PackMotionInputs(input_key='joints', gt_keys=('motion', ))(results)
    assert out['inputs'].shape == (5, 22, 3)
    assert out['data_samples'].gt_motion.shape == (5, 263)
    assert out['data_samples'].gt_texts == ['c1', 'c2']  # no caption sampled: all of them
    assert out['data_samples'].metainfo['length'] == 5


def test_pack_errors():
    with pytest.raises(KeyError, match=r"input key 'motion' not in the results"):
        PackMotionInputs()(dict(joints=np.zeros((2, 3, 3))))
    with pytest.raises(ValueError, match='gt_keys may hold'):
        PackMotionInputs(gt_keys=('text', ))
    with pytest.raises(TypeError, match="'motion' must be an ndarray or a tensor"):
        PackMotionInputs()(dict(motion=[[1.0]]))


def test_base_transform_contract():
    class Double(BaseTransform):
        def transform(self, results):
            results['x'] *= 2
            return results

    assert Double()(dict(x=2)) == dict(x=4)
    with pytest.raises(TypeError, match='Double expects a results dict'):
        Double()([1])
    with pytest.raises(TypeError):
        BaseTransform()  # abstract


def test_pack_keeps_the_dataset_statistics_paths():
    """Models that denormalise predictions (MDM) read mean_path/std_path from the sample."""
    import numpy as np
    from motionkit.datasets.transforms import PackMotionInputs
    out = PackMotionInputs()(dict(motion=np.zeros((8, 4), np.float32), mean_path='/d/Mean.npy',
                                  std_path='/d/Std.npy', unrelated='x'))
    meta = out['data_samples'].metainfo
    assert meta['mean_path'] == '/d/Mean.npy' and meta['std_path'] == '/d/Std.npy'
    assert 'unrelated' not in meta
