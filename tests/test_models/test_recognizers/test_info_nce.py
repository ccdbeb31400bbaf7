"""InfoNCE of CoAMD eq. 1 against hand-computed values, and TMR's false-negative filtering."""
import math

import pytest
import torch

from motionkit.models.losses import InfoNCELoss, false_negative_mask, info_nce_loss


def _lse(*xs):
    return math.log(sum(math.exp(x) for x in xs))


def test_info_nce_two_pairs_by_hand():
    m = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    t = torch.tensor([[1.0, 0.0], [0.6, 0.8]])  # unit vectors
    tau = 0.5
    # S = cos / tau = [[2, 1.2], [0, 1.6]]
    rows = (-2.0 + _lse(2.0, 1.2)) + (-1.6 + _lse(0.0, 1.6))
    cols = (-2.0 + _lse(2.0, 0.0)) + (-1.6 + _lse(1.2, 1.6))
    expected = (rows + cols) / 4
    assert info_nce_loss(m, t, tau).item() == pytest.approx(expected, rel=1e-6)
    # cosine: the scale of the inputs does not matter
    assert info_nce_loss(3.0 * m, 0.5 * t, tau).item() == pytest.approx(expected, rel=1e-6)
    per_pair = info_nce_loss(m, t, tau, reduction='none')
    assert per_pair.shape == (2, )
    assert per_pair[0].item() == pytest.approx(0.5 * ((-2.0 + _lse(2.0, 1.2)) + (-2.0 + _lse(2.0, 0.0))),
                                               rel=1e-6)
    # identity pairs: log(1 + e^{-1/tau}) per direction
    eye = torch.eye(2)
    assert info_nce_loss(eye, eye, 0.5).item() == pytest.approx(math.log(1 + math.exp(-2)), rel=1e-6)


def test_false_negative_mask_uses_the_rescaled_threshold():
    # cos(s0, s1) = 0.81 > 0.8 = 2 * 0.9 - 1 -> masked; cos(s0, s2) = 0.79 -> kept
    s = torch.tensor([[1.0, 0.0, 0.0],
                      [0.81, math.sqrt(1 - 0.81 ** 2), 0.0],
                      [0.79, 0.0, math.sqrt(1 - 0.79 ** 2)]])
    mask = false_negative_mask(s, 0.9)
    assert mask.tolist() == [[False, True, False], [True, False, False], [False, False, False]]
    assert not false_negative_mask(s, 1.0).any()
    assert false_negative_mask(s, 0.0).sum() == 6  # every off-diagonal pair (cos > -1)
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        false_negative_mask(s, 1.5)


def test_filtering_removes_the_false_negative_from_both_denominators():
    m = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    t = torch.tensor([[0.8, 0.6], [1.0, 0.0], [0.0, 1.0]])
    sentence = torch.tensor([[1.0, 0.0], [0.95, 0.3122499], [0.0, 1.0]])  # 0 ~ 1, 2 apart
    tau = 1.0
    s = (torch.nn.functional.normalize(m, dim=-1) @ torch.nn.functional.normalize(t, dim=-1).t()).tolist()
    # pairs (0, 1) and (1, 0) leave the softmax
    rows = [-s[0][0] + _lse(s[0][0], s[0][2]),
            -s[1][1] + _lse(s[1][1], s[1][2]),
            -s[2][2] + _lse(*s[2])]
    cols = [-s[0][0] + _lse(s[0][0], s[2][0]),
            -s[1][1] + _lse(s[1][1], s[2][1]),
            -s[2][2] + _lse(s[0][2], s[1][2], s[2][2])]
    expected = (sum(rows) + sum(cols)) / 6
    filtered = info_nce_loss(m, t, tau, sentence, 0.9)
    assert filtered.item() == pytest.approx(expected, rel=1e-6)
    plain = info_nce_loss(m, t, tau)
    # the dropped negatives had positive similarity: the filtered loss is strictly lower
    assert filtered.item() < plain.item() - 0.1
    # a threshold no pair reaches changes nothing
    assert info_nce_loss(m, t, tau, sentence, 1.0).item() == pytest.approx(plain.item(), rel=1e-7)
    # the module form: threshold None ignores the sentence embeddings
    assert InfoNCELoss(1.0, None)(m, t, sentence).item() == pytest.approx(plain.item(), rel=1e-7)
    assert InfoNCELoss(1.0, 0.9, loss_weight=2.0)(m, t, sentence).item() == pytest.approx(2 * expected,
                                                                                        rel=1e-6)


def test_info_nce_gradients_and_bad_inputs():
    m = torch.randn(4, 8, requires_grad=True)
    t = torch.randn(4, 8)
    loss = info_nce_loss(m, t, 0.1, t, 0.9)
    loss.backward()
    assert torch.isfinite(m.grad).all() and m.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='both be'):
        info_nce_loss(torch.randn(4, 8), torch.randn(3, 8), 0.1)
    with pytest.raises(ValueError, match='temperature'):
        info_nce_loss(m, t, 0.0)
    with pytest.raises(ValueError, match='threshold'):
        info_nce_loss(m, t, 0.1, sentence_emb=t)
