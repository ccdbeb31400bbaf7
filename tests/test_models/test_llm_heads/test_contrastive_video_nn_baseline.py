"""ContrastiveVideoNNBaseline: the symmetric InfoNCE value by hand, and nearest-neighbour
prediction in the projected space."""
import math

import pytest
import torch
from mmengine.structures import BaseDataElement

from motionkit.models.llm_heads import ContrastiveVideoNNBaseline


def test_infonce_matches_the_hand_computed_value():
    model = ContrastiveVideoNNBaseline(video_dim=2, embed_dim=2, projector='identity', tau=0.5)
    e0, e1 = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    inputs = dict(learner_video=[e0.repeat(3, 1), e1.repeat(3, 1)], expert_video=[e0, e1])
    # cosine logits [[1, 0], [0, 1]] / 0.5: each row's CE is log(1 + e^{-2}); both directions the same
    assert float(model(inputs, mode='loss')['loss_nce']) == pytest.approx(math.log(1 + math.exp(-2.0)), rel=1e-6)
    with pytest.raises(ValueError, match='at least 2 pairs'):
        model(dict(learner_video=[e0], expert_video=[e0]), mode='loss')
    with pytest.raises(KeyError, match='expert_video'):
        model(dict(learner_video=[e0, e1]), mode='loss')


def test_prediction_uses_the_projected_neighbour():
    model = ContrastiveVideoNNBaseline(video_dim=2, embed_dim=2, projector='identity').eval()
    pool = [dict(inputs=dict(learner_video=torch.tensor([[1.0, 0.0]])), data_samples=BaseDataElement(
                gt_text='bend your knees', gt_expert_joints=torch.zeros(2, 17, 3))),
            dict(inputs=dict(learner_video=torch.tensor([[0.0, 1.0]])), data_samples=BaseDataElement(
                gt_text='raise your arm', gt_expert_joints=torch.ones(2, 17, 3)))]
    assert model.set_pool_from_items(pool) == 2
    out = model(dict(learner_video=[torch.tensor([[0.1, 0.9]])]), [BaseDataElement()], mode='predict')
    assert out[0].pred_text == 'raise your arm' and torch.equal(out[0].pred_expert_joints, torch.ones(2, 17, 3))
    with pytest.raises(ValueError, match='width 3'):
        model(dict(learner_video=[torch.zeros(1, 3)]), mode='predict')
