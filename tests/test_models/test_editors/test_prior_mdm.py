"""PriorMDM: controlled joints are followed exactly; training with clean control; blending."""
import copy

import pytest
import torch

from motionkit.models.editors import blend_control_sample, joint_control_mask
from motionkit.motion import HumanML3DFeatures, body_part_feature_mask
from tests.test_models.test_editors.tiny_mdm import build, make_batch


def test_control_masks():
    rep = HumanML3DFeatures()
    lw = joint_control_mask(rep, 'left_wrist')
    assert torch.equal(lw, torch.from_numpy(body_part_feature_mask(rep, 'left_wrist')))
    assert int(lw.sum()) == 3 + 6 + 3  # ric, 6D rotation, velocity of one non-root joint
    root = joint_control_mask(rep, 'root_horizontal')
    assert root.nonzero().flatten().tolist() == [0, 1, 2]  # rotation velocity + xz velocity
    both = joint_control_mask(rep, ['root_horizontal', 'right_foot'])
    assert int(both.sum()) == 3 + int(joint_control_mask(rep, 'right_foot').sum())
    with pytest.raises(KeyError, match='left_wristt'):
        joint_control_mask(rep, 'left_wristt')


@pytest.mark.parametrize('joint', ['left_wrist', 'right_foot', 'root_horizontal'])
def test_controlled_features_follow_the_trajectory_exactly(joint):
    m = build('PriorMDM', control_joints=joint)
    inputs, samples = make_batch()
    out = m(inputs, copy.deepcopy(samples), mode='predict')
    ctrl = m.control_mask
    for s, src, n in zip(out, inputs['motion'], (24, 32)):
        assert torch.equal(s.pred_motion[:, ctrl], src[:n, ctrl])
        assert not torch.equal(s.pred_motion[:, ~ctrl], src[:n, ~ctrl])


def test_training_sees_clean_control_and_excludes_it_from_the_loss():
    m = build('PriorMDM', control_joints='left_wrist')
    x_t, x0 = torch.randn(2, 5, 263), torch.randn(2, 5, 263)
    mixed = m.prepare_denoiser_input(x_t, x0)
    assert torch.equal(mixed[:, :, m.control_mask], x0[:, :, m.control_mask])
    assert torch.equal(mixed[:, :, ~m.control_mask], x_t[:, :, ~m.control_mask])
    w = m.loss_feature_weight()
    assert w.sum().item() == 263 - 12 and torch.all(w[m.control_mask] == 0)


def test_prior_mdm_training_reduces_the_loss():
    m = build('PriorMDM', control_joints='right_foot')
    m.cond_mask_prob = 0.0
    inputs, samples = make_batch()
    opt = torch.optim.Adam(m.parameters(), lr=5e-3)

    def fixed_loss():
        torch.manual_seed(7)
        with torch.no_grad():
            return m(inputs, samples, mode='loss')['loss_mse'].item()

    m.eval()
    before = fixed_loss()
    m.train()
    for _ in range(30):
        loss = m(inputs, samples, mode='loss')['loss_mse']
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    assert fixed_loss() < 0.7 * before


def test_blending_two_control_models_follows_both_trajectories():
    lw = build('PriorMDM', control_joints='left_wrist')
    root = build('PriorMDM', control_joints='root_horizontal')
    inputs, _ = make_batch(lengths=(20, 20))
    control = inputs['motion'][:, :20]
    out = blend_control_sample([lw, root], [0.5, 0.5], control, ['walk', 'walk'],
                               num_inference_steps=8, generator=torch.Generator().manual_seed(0))
    union = lw.control_mask | root.control_mask
    assert torch.equal(out[:, :, union], control[:, :, union])
    # the blended x0 is the weighted sum: weights (1, 0) over two models with the same control
    # reproduce the first model alone, whatever the second one predicts
    other = copy.deepcopy(lw)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn_like(p))
    torch.manual_seed(3)
    only = blend_control_sample([lw, other], [1.0, 0.0], control, ['walk', 'walk'],
                                num_inference_steps=8)
    torch.manual_seed(3)
    single = lw.sample_controlled(control, ['walk', 'walk'], num_inference_steps=8)
    assert torch.allclose(only, single, atol=1e-5)
    torch.manual_seed(3)
    mixed = blend_control_sample([lw, other], [0.5, 0.5], control, ['walk', 'walk'],
                                 num_inference_steps=8)
    assert not torch.allclose(mixed, single, atol=1e-3)
