"""Nearest-neighbour retrieval baseline of CigTime: descriptor by hand, self-retrieval on real triplets."""
import pytest
import torch
from mmengine.registry import init_default_scope

from motionkit.models.generators.nearest_neighbour_instruction import (NearestNeighbourInstructionRetrieval,
                                                                       pair_descriptor)


def test_pair_descriptor_by_hand():
    # D=1; source 3 valid frames [1, 2, 3] (+1 pad), target 2 valid frames [2, 6]
    src = torch.tensor([[[1.], [2.], [3.], [0.]]])
    smask = torch.tensor([[True, True, True, False]])
    tgt = torch.tensor([[[2.], [6.], [0.]]])
    tmask = torch.tensor([[True, True, False]])
    d = pair_descriptor(src, smask, tgt, tmask)
    # mean(src)=2, mean(tgt)-mean(src)=4-2=2, mean |tgt-src| over the 2 common valid frames = (1+4)/2
    assert torch.allclose(d, torch.tensor([[2.0, 2.0, 2.5]]))


def _dataset(root, split):
    return dict(type='CigTimeTripletDataset', data_root=str(root / 'triplets'), split=split,
                pipeline=[dict(type='LoadMotionPair', max_length=196),
                          dict(type='PackMotionPairInputs', response_key='instruction', test_mode=True)])


def test_retrieves_its_own_instruction_and_only_training_answers(cigtime_work_dir):
    init_default_scope('motionkit')
    from motionkit.datasets.collate import motion_pair_collate
    from motionkit.registry import DATASETS
    model = NearestNeighbourInstructionRetrieval(train_dataset=_dataset(cigtime_work_dir, 'train'))
    n = model.build_index()
    train = DATASETS.build(_dataset(cigtime_work_dir, 'train'))
    assert n == len(train) > 20
    items = [train[i] for i in range(len(train))]
    out = model.test_step(motion_pair_collate(items))
    same = sum(o.pred_instruction == o.gt_instruction for o in out)
    assert same == len(items)  # every training pair is its own nearest neighbour
    test = DATASETS.build(_dataset(cigtime_work_dir, 'test'))
    train_answers = {o.gt_instruction for o in out}
    preds = model.test_step(motion_pair_collate([test[i] for i in range(len(test))]))
    assert preds and all(p.pred_instruction in train_answers for p in preds)
    with pytest.raises(RuntimeError, match='learns nothing'):
        model(dict(), [], mode='loss')
