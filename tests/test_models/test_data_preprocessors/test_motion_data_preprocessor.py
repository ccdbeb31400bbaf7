import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope

from motionkit.datasets import motion_collate, pad_motions
from motionkit.motion import lengths_to_mask
from motionkit.models.data_preprocessors import MotionDataPreprocessor
from motionkit.registry import MODELS
from motionkit.structures import MotionDataSample


def make_batch(lengths=(3, 5), dim=2):
    items = []
    for i, n in enumerate(lengths):
        x = torch.arange(n * dim, dtype=torch.float32).reshape(n, dim) + 100 * i
        items.append(dict(inputs=x, data_samples=MotionDataSample(metainfo=dict(length=n))))
    return items


def test_pad_motions_and_mask():
    padded, mask, lengths = pad_motions([np.ones((3, 2)), torch.full((5, 2), 2.0)], pad_value=-1)
    assert padded.shape == (2, 5, 2) and lengths.tolist() == [3, 5]
    assert mask.tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert padded[0, 3:].eq(-1).all() and padded[0, :3].eq(1).all() and padded[1].eq(2).all()
    padded, mask, _ = pad_motions([torch.zeros(3, 4, 3)], pad_to=6)
    assert padded.shape == (1, 6, 4, 3) and mask.sum() == 3
    assert lengths_to_mask(torch.tensor([0, 2]), 3).tolist() == [[False] * 3,
                                                                 [True, True, False]]
    with pytest.raises(ValueError, match=r'item 1 has shape \(2, 3\) but item 0 has \(3, 2\)'):
        pad_motions([torch.zeros(3, 2), torch.zeros(2, 3)])
    with pytest.raises(ValueError, match='empty batch'):
        pad_motions([])


def test_collate_output():
    batch = motion_collate(make_batch())
    assert batch['inputs']['motion'].shape == (2, 5, 2)
    assert batch['inputs']['lengths'].tolist() == [3, 5]
    assert batch['inputs']['mask'].sum().item() == 8
    assert batch['inputs']['motion'][1, 4].tolist() == [108.0, 109.0]
    assert [s.metainfo['length'] for s in batch['data_samples']] == [3, 5]
    with pytest.raises(TypeError, match='item 0 must be a dict with "inputs"'):
        motion_collate([torch.zeros(2)])


@pytest.mark.parametrize('collate', ['motion_collate', 'pseudo_collate', 'tensor'])
def test_preprocessor_pads_normalises_and_keeps_padding(collate):
    pre = MotionDataPreprocessor(mean=[1.0, 2.0], std=[2.0, 4.0])
    items = make_batch()
    if collate == 'motion_collate':
        data = motion_collate(items)
    elif collate == 'pseudo_collate':
        data = dict(inputs=[i['inputs'] for i in items],
                    data_samples=[i['data_samples'] for i in items])
    else:
        data = dict(inputs=torch.stack([items[1]['inputs'], items[1]['inputs']]),
                    data_samples=None)
    out = pre(data, training=True)
    inputs = out['inputs']
    assert set(inputs) >= {'motion', 'mask', 'lengths'}
    motion, mask = inputs['motion'], inputs['mask']
    assert mask.dtype == torch.bool and motion.shape == (2, 5, 2)
    row = 1
    # sample 1, frame 4 holds [108, 109]: ((108 - 1) / 2, (109 - 2) / 4)
    assert motion[row, 4].tolist() == [53.5, 26.75]
    if collate != 'tensor':
        assert inputs['lengths'].tolist() == [3, 5]
        assert mask[0].tolist() == [True, True, True, False, False]
        assert motion[0, 3:].eq(0).all()  # padding stays 0 after normalisation
        assert motion[0, 0].tolist() == [-0.5, -0.25]  # ((0 - 1) / 2, (1 - 2) / 4)
    else:
        assert mask.all()
    # denormalize inverts the normalisation on valid frames
    back = pre.denormalize(motion)
    assert back[1, 4].tolist() == [108.0, 109.0]


def test_preprocessor_from_files_pad_to_and_errors(tmp_path):
    np.save(tmp_path / 'Mean.npy', np.array([0.0, 1.0], np.float32))
    np.save(tmp_path / 'Std.npy', np.array([1.0, 0.5], np.float32))
    pre = MotionDataPreprocessor(mean_path=str(tmp_path / 'Mean.npy'),
                                 std_path=str(tmp_path / 'Std.npy'), pad_to=8)
    out = pre(motion_collate(make_batch()))
    assert out['inputs']['motion'].shape == (2, 8, 2)
    assert out['inputs']['mask'].shape == (2, 8) and out['inputs']['mask'][1, 5:].sum() == 0
    assert out['inputs']['motion'][0, 1].tolist() == [2.0, (3.0 - 1.0) / 0.5]
    assert pre.normalize_motion(torch.tensor([[0.0, 1.0]])).tolist() == [[0.0, 0.0]]
    # statistics are not saved in checkpoints
    assert 'mean' not in pre.state_dict()

    with pytest.raises(ValueError, match='motion width 2 does not match the statistics'):
        MotionDataPreprocessor(mean=[0.0] * 3, std=[1.0] * 3)(motion_collate(make_batch()))
    items = make_batch()
    items[0]['data_samples'].set_metainfo(dict(normalized=True))
    with pytest.raises(ValueError, match='already normalised by NormalizeMotion'):
        MotionDataPreprocessor(mean=[0.0] * 2, std=[1.0] * 2)(motion_collate(items))
    with pytest.raises(ValueError, match='std must be finite and > 0'):
        MotionDataPreprocessor(mean=[0.0], std=[0.0])
    with pytest.raises(FileNotFoundError, match=r'mean file not found: .*nope\.npy'):
        MotionDataPreprocessor(mean_path=str(tmp_path / 'nope.npy'),
                               std_path=str(tmp_path / 'Std.npy'))
    with pytest.raises(TypeError, match='inputs must be a dict from motion_collate'):
        MotionDataPreprocessor()(dict(inputs='x'))


class MaskedMeanRegressor(BaseModel):
    """Predicts a per-sample scalar from the masked mean of the frames (tests the contract)."""

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        motion, mask = inputs['motion'], inputs['mask'].float()
        pooled = (motion * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        pred = self.linear(pooled).squeeze(-1)
        if mode == 'loss':
            target = torch.tensor([float(s.metainfo['length']) for s in data_samples])
            return dict(loss=F.mse_loss(pred, target))
        return pred


def test_model_contract_through_train_step():
    with DefaultScope.overwrite_default_scope('motionkit'):
        model = MaskedMeanRegressor(
            data_preprocessor=dict(type='MotionDataPreprocessor', mean=[0.0, 0.0],
                                   std=[100.0, 100.0]))
    assert isinstance(model.data_preprocessor, MotionDataPreprocessor)
    assert MODELS.get('MotionDataPreprocessor') is MotionDataPreprocessor
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-2))
    batch = motion_collate(make_batch())
    losses = [model.train_step(batch, optim)['loss'].item() for _ in range(20)]
    assert losses[-1] < losses[0]
    # the padded frames do not change the prediction: a batch of one gives the same output
    full = model.val_step(motion_collate(make_batch()))
    single = model.val_step(motion_collate(make_batch()[:1]))
    assert torch.allclose(full[0], single[0])
