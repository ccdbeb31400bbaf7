"""EncodeActionLabels: class names -> sorted ids, packed as gt_labels; errors name the sample."""
import numpy as np
import pytest

from motionkit.datasets.transforms import EncodeActionLabels, PackMotionInputs
from motionkit.registry import TRANSFORMS

CLASSES = ['walk', 'run', 'jump']


def _results(**kw):
    return dict(sample_id='S1', motion_id='M1', joints=np.zeros((8, 22, 3), np.float32), **kw)


def test_names_to_sorted_ids_and_packing():
    t = EncodeActionLabels(CLASSES)
    out = t(_results(gt_action_labels=['jump', 'walk', 'jump']))
    assert out['gt_labels'].tolist() == [0, 2] and out['gt_labels'].dtype == np.int64
    assert out['num_classes'] == 3
    packed = PackMotionInputs(input_key='joints', gt_keys=())(out)
    assert packed['data_samples'].gt_labels.tolist() == [0, 2]
    assert packed['data_samples'].metainfo['num_classes'] == 3
    assert t(_results(gt_action_labels=[1]))['gt_labels'].tolist() == [1]  # ids pass through
    assert TRANSFORMS.build(dict(type='EncodeActionLabels', classes=CLASSES)).classes == CLASSES


def test_class_file(tmp_path):
    (tmp_path / 'classes.txt').write_text('walk\nrun\njump\n')
    t = EncodeActionLabels(str(tmp_path / 'classes.txt'))
    assert t(_results(gt_action_labels=['run']))['gt_labels'].tolist() == [1]
    (tmp_path / 'bad.txt').write_text('walk\n\nrun\n')
    with pytest.raises(ValueError, match=r'bad.txt: empty class name on line\(s\) \[2\]'):
        EncodeActionLabels(str(tmp_path / 'bad.txt'))


def test_bad_labels_name_the_sample():
    t = EncodeActionLabels(CLASSES)
    with pytest.raises(KeyError, match=r"sample 'S1' has class 'swim', which is not among the 3"):
        t(_results(gt_action_labels=['swim']))
    with pytest.raises(ValueError, match=r"sample 'S1' has class id 3 outside \[0, 3\)"):
        t(_results(gt_action_labels=[3]))
    with pytest.raises(ValueError, match="sample 'S1' has no action class"):
        t(_results(gt_action_labels=[]))
    empty = EncodeActionLabels(CLASSES, allow_empty=True)(_results(gt_action_labels=[]))
    assert empty['gt_labels'].tolist() == []
    with pytest.raises(KeyError, match="sample 'S1' has no 'gt_action_labels'"):
        t(_results())
    with pytest.raises(ValueError, match='duplicate class names'):
        EncodeActionLabels(['walk', 'walk'])
