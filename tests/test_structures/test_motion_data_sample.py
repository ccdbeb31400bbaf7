import numpy as np
import pytest
import torch

from motionkit.structures import MotionDataSample, format_label, format_score


def test_fields_metainfo_and_keys():
    s = MotionDataSample(metainfo=dict(motion_id='000001', length=60, fps=20))
    s.gt_motion = torch.zeros(60, 263)
    s.gt_joints = np.zeros((60, 22, 3), np.float32)
    s.gt_texts = ['a person walks.', 'someone walks.']
    s.gt_text = 'a person walks.'
    s.pred_joints = torch.ones(60, 22, 3)
    s.pred_text = 'a man walks.'
    assert sorted(s.keys()) == ['gt_joints', 'gt_motion', 'gt_text', 'gt_texts', 'pred_joints',
                                'pred_text']
    assert s.metainfo == dict(motion_id='000001', length=60, fps=20)
    assert 'gt_motion' in s and s.get('gt_label') is None
    del s.pred_text
    assert 'pred_text' not in s


def test_tensor_methods_keep_types():
    s = MotionDataSample(metainfo=dict(length=4))
    s.gt_motion = torch.arange(8.0).reshape(4, 2)
    s.pred_motion = torch.zeros(4, 2)
    s.set_gt_label(2)
    n = s.numpy()
    assert isinstance(n.gt_motion, np.ndarray) and n.gt_motion[3, 1] == 7.0
    t = n.to_tensor()
    assert isinstance(t.gt_motion, torch.Tensor)
    assert s.to('cpu').gt_label.tolist() == [2]
    assert s.new(metainfo=dict(length=5)).metainfo['length'] == 5


@pytest.mark.parametrize('field, value, error, message', [
    ('gt_motion', torch.zeros(3), ValueError, r'gt_motion must have 2 dimensions, got shape'),
    ('gt_joints', torch.zeros(3, 22, 2), ValueError, 'gt_joints must have last dimension 3'),
    ('pred_motion', [[0.0]], TypeError, 'pred_motion must be a torch.Tensor or np.ndarray'),
    ('gt_texts', 'one caption', TypeError, 'gt_texts must be a list of str'),
    ('gt_texts', ['ok', 3], TypeError, r"item types \['int', 'str'\]"),
    ('gt_text', ['a'], TypeError, 'gt_text must be a str'),
    ('gt_label', 1.5, TypeError, 'gt_label must be an int'),
    ('gt_label', [1, 2], ValueError, 'gt_label holds one class'),
    ('pred_score', torch.zeros(2, 3), ValueError, r'pred_score must be 1-D'),
])
def test_setters_validate(field, value, error, message):
    with pytest.raises(error, match=message):
        setattr(MotionDataSample(), field, value)


def test_labels_and_scores():
    s = MotionDataSample()
    s.gt_labels = np.array([1, 4])
    assert s.gt_labels.dtype == torch.long and s.gt_labels.tolist() == [1, 4]
    s.set_pred_score([0.1, 0.7, 0.2])
    assert s.pred_label.tolist() == [1]  # argmax when no label was set
    assert s.pred_score.dtype == torch.float32
    s.set_pred_label(torch.tensor(2))
    s.set_pred_score([0.9, 0.05, 0.05])
    assert s.pred_label.tolist() == [2]  # an explicit label is kept


def test_format_helpers():
    assert format_label(3).tolist() == [3]
    assert format_label(np.int64(5)).tolist() == [5]
    assert format_label(torch.tensor([1, 2])).dtype == torch.long
    with pytest.raises(TypeError, match='must hold integers'):
        format_label(torch.tensor([0.5]))
    with pytest.raises(TypeError):
        format_label(True)
    with pytest.raises(ValueError, match='scalar or 1-D'):
        format_label(torch.zeros(2, 2, dtype=torch.long))
    assert format_score(np.array([1, 2])).dtype == torch.float32
