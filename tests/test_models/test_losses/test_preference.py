"""Preference losses (DPO, IPO, KTO, SFT) against values worked out by hand."""
import math

import pytest
import torch

from motionkit.models.losses import dpo_loss, ipo_loss, kto_loss, kto_reference_point, sft_loss


def _t(*values, grad=False):
    return torch.tensor(values, dtype=torch.float64, requires_grad=grad)


def test_dpo_matches_hand_computation():
    # r_w = pc - rc = [-1 + 1.5, -3 + 2] = [0.5, -1];  r_l = pr - rr = [-2 + 1.5, -1 + 2] = [-0.5, 1]
    # h = r_w - r_l = [1, -2];  beta * h = [0.5, -1]
    # loss = mean(log(1 + e^-0.5), log(1 + e^1)) = mean(0.474077, 1.313262) = 0.893670
    out = dpo_loss(_t(-1., -3.), _t(-2., -1.), _t(-1.5, -2.), _t(-1.5, -2.), beta=0.5)
    expected = (math.log(1 + math.exp(-0.5)) + math.log(1 + math.exp(1.0))) / 2
    assert expected == pytest.approx(0.893670, abs=1e-6)
    assert out['loss'].item() == pytest.approx(expected, abs=1e-12)
    assert out['chosen_rewards'].tolist() == pytest.approx([0.25, -0.5])  # beta * r_w
    assert out['rejected_rewards'].tolist() == pytest.approx([-0.25, 0.5])
    assert out['margins'].tolist() == pytest.approx([0.5, -1.0])
    assert out['accuracy'].item() == 0.5  # pair 0 ranks the chosen higher, pair 1 does not


def test_dpo_at_equal_policy_and_reference_is_log2():
    x = _t(-3., -4., -5.)
    assert dpo_loss(x, x + 1, x, x + 1, beta=0.1)['loss'].item() == pytest.approx(math.log(2))


def test_ipo_averaged_log_probs_hand_computation():
    # token counts: chosen [2, 4], rejected [1, 2]
    # averaged: pc = [-1/2, -3/4], rc = [-1.5/2, -2/4] -> r_w = [0.25, -0.25]
    #           pr = [-2/1, -1/2], rr = [-1.5/1, -2/2] -> r_l = [-0.5, 0.5]
    # h = [0.75, -0.75]; target 1 / (2 * 0.1) = 5
    # loss = mean((0.75 - 5)^2, (-0.75 - 5)^2) = mean(18.0625, 33.0625) = 25.5625
    out = ipo_loss(_t(-1., -3.), _t(-2., -1.), _t(-1.5, -2.), _t(-1.5, -2.), beta=0.1,
                   chosen_tokens=torch.tensor([2, 4]), rejected_tokens=torch.tensor([1, 2]))
    assert out['loss'].item() == pytest.approx(25.5625)
    assert out['chosen_rewards'].tolist() == pytest.approx([0.025, -0.025])
    assert out['rejected_rewards'].tolist() == pytest.approx([-0.05, 0.05])
    assert out['accuracy'].item() == 0.5
    with pytest.raises(ValueError, match='token counts'):
        ipo_loss(_t(-1.), _t(-2.), _t(-1.), _t(-2.))  # averaged by default: counts are needed


def test_ipo_summed_value_and_gradient():
    # beta = 0.5 -> target 1; h = [1, -2] (as in the DPO test); loss = mean(0^2, (-3)^2) = 4.5
    pc, pr = _t(-1., -3., grad=True), _t(-2., -1., grad=True)
    rc, rr = _t(-1.5, -2., grad=True), _t(-1.5, -2., grad=True)
    out = ipo_loss(pc, pr, rc, rr, beta=0.5, average_log_prob=False)
    assert out['loss'].item() == pytest.approx(4.5)
    out['loss'].backward()
    # dL/dpc_i = 2 (h_i - 1) / B = [0, -3]; dL/dpr_i = -dL/dpc_i
    assert pc.grad.tolist() == pytest.approx([0.0, -3.0])
    assert pr.grad.tolist() == pytest.approx([0.0, 3.0])
    assert rc.grad is None and rr.grad is None  # the reference is a constant


def test_kto_hand_computation():
    # r = policy - reference = [-1 + 1.5, -2 + 1.5, -3 + 2] = [0.5, -0.5, -1]
    # z_ref = clamp(mean([-2 + 2.5, -1 + 2]), 0) = mean(0.5, 1) = 0.75
    # beta = 1, lambda_D = 1, lambda_U = 2
    # desirable 0:   1 - sigmoid(0.5 - 0.75)        = sigmoid(0.25)        = 0.562177
    # undesirable 1: 2 - 2 sigmoid(0.75 - (-0.5))    = 2 sigmoid(-1.25)    = 0.445400
    # desirable 2:   1 - sigmoid(-1 - 0.75)          = sigmoid(1.75)       = 0.851953
    # loss = (0.562177 + 0.445400 + 0.851953) / 3 = 0.619843
    def sig(x):
        return 1 / (1 + math.exp(-x))
    expected = (sig(0.25) + 2 * sig(-1.25) + sig(1.75)) / 3
    assert expected == pytest.approx(0.619843, abs=1e-6)
    policy = _t(-1., -2., -3., grad=True)
    out = kto_loss(policy, _t(-1.5, -1.5, -2.), torch.tensor([True, False, True]),
                   kl_policy_logps=_t(-2., -1.), kl_reference_logps=_t(-2.5, -2.), beta=1.0,
                   desirable_weight=1.0, undesirable_weight=2.0)
    assert out['loss'].item() == pytest.approx(expected, abs=1e-12)
    assert out['reference_point'].item() == pytest.approx(0.75)
    assert out['chosen_rewards'].tolist() == pytest.approx([0.5, -1.0])
    assert out['rejected_rewards'].tolist() == pytest.approx([-0.5])
    # r > z_ref for desirable, r < z_ref for undesirable: only item 1 -> 1/3
    assert out['accuracy'].item() == pytest.approx(1 / 3)
    out['loss'].backward()
    # d/dr of 1 - sigmoid(r - z) is -sigmoid'(r - z); of 2 - 2 sigmoid(z - r) is +2 sigmoid'(z - r)
    dsig = [sig(-0.25) * sig(0.25), sig(1.25) * sig(-1.25), sig(-1.75) * sig(1.75)]
    assert policy.grad.tolist() == pytest.approx([-dsig[0] / 3, 2 * dsig[1] / 3, -dsig[2] / 3])


def test_kto_reference_point_is_clamped_and_detached():
    kl_p = _t(-3., -2., grad=True)
    z = kto_reference_point(kl_p, _t(-2., -1.5))  # mean(-1, -0.5) = -0.75 -> clamped to 0
    assert z.item() == 0.0 and not z.requires_grad
    out = kto_loss(_t(-1.), _t(-1.), torch.tensor([False]), reference_point=torch.tensor(0.0), beta=0.1)
    assert out['loss'].item() == pytest.approx(0.5)  # 1 - sigmoid(0) with r = z = 0


def test_sft_is_token_mean_nll():
    # -(-2 - 6) / (1 + 3) = 2
    assert sft_loss(_t(-2., -6.), torch.tensor([1, 3]))['loss'].item() == pytest.approx(2.0)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r'policy_rejected_logps has 3 entries, expected 2'):
        dpo_loss(_t(-1., -2.), _t(-1., -2., -3.), _t(-1., -2.), _t(-1., -2.))
    with pytest.raises(ValueError, match='non-finite'):
        dpo_loss(_t(-1., float('nan')), _t(-1., -2.), _t(-1., -2.), _t(-1., -2.))
    with pytest.raises(ValueError, match=r'\(B,\) tensor'):
        dpo_loss(torch.zeros(2, 3), _t(-1., -2.), _t(-1., -2.), _t(-1., -2.))
    with pytest.raises(ValueError, match='no scored token'):
        ipo_loss(_t(-1.), _t(-2.), _t(-1.), _t(-2.), chosen_tokens=torch.tensor([0]),
                 rejected_tokens=torch.tensor([1]))
    with pytest.raises(ValueError, match='reference_point'):
        kto_loss(_t(-1.), _t(-1.), torch.tensor([True]))
