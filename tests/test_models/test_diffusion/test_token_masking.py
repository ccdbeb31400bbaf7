"""Cosine mask schedule of masked generative transformers (CoAMD eq. 3, MaskGIT / MoMask / MARDM)."""
import math

import pytest
import torch

from motionkit.models.diffusion import (cosine_mask_ratio, num_masked_tokens, sampling_step_mask,
                                        subset_mask, training_token_mask)


def test_cosine_ratio_values():
    u = torch.tensor([0.0, 1 / 3, 0.5, 1.0])
    expected = [1.0, math.cos(math.pi / 6), math.cos(math.pi / 4), 0.0]
    assert cosine_mask_ratio(u).tolist() == pytest.approx(expected, abs=1e-7)


def test_num_masked_rounds_and_clamps():
    # round(0.5 * 7) = 4 (round half to even: 3.5 -> 4), at least 1, at most n, 0 tokens -> 0
    n = torch.tensor([7, 10, 10, 3, 0])
    ratio = torch.tensor([0.5, 0.01, 1.0, 0.9, 0.5])
    assert num_masked_tokens(ratio, n).tolist() == [4, 1, 10, 3, 0]


def test_training_masks_follow_the_schedule():
    g = torch.Generator().manual_seed(0)
    rows, n = 4000, 50
    valid = torch.ones(rows, 60, dtype=torch.bool)
    valid[:, n:] = False
    mask = training_token_mask(valid, generator=g)
    assert not mask[:, n:].any() and (mask.sum(1) >= 1).all()
    # E[cos(pi u / 2)] over u ~ U[0, 1) is 2 / pi
    ratio = mask.sum(1).float() / n
    assert ratio.mean().item() == pytest.approx(2 / math.pi, abs=0.015)
    # P(ratio > cos(pi / 6)) = P(u < 1/3) = 1/3
    assert (ratio > math.cos(math.pi / 6) + 1 / n).float().mean().item() == pytest.approx(1 / 3, abs=0.03)
    # same generator seed, same masks
    again = training_token_mask(valid, generator=torch.Generator().manual_seed(0))
    assert torch.equal(mask, again)


def test_subset_mask_keeps_a_fraction_of_the_true_entries():
    g = torch.Generator().manual_seed(1)
    mask = torch.zeros(200, 100, dtype=torch.bool)
    mask[:, :50] = True
    sub = subset_mask(mask, 0.1, generator=g)
    assert not sub[:, 50:].any()
    assert sub.float().sum().item() / 10000 == pytest.approx(0.1, abs=0.01)


def test_sampling_steps_shrink_and_nest_along_the_schedule():
    g = torch.Generator().manual_seed(0)
    L, steps = 20, 5
    scores = torch.rand(2, L, generator=g)
    scores[1, 12:] = float('inf')  # a motion with 12 tokens to fill
    num_fill = torch.tensor([20, 12])
    counts, prev = [], None
    for k in range(steps):
        m = sampling_step_mask(scores, num_fill, k, steps)
        counts.append(m.sum(1).tolist())
        assert not m[1, 12:].any()
        if prev is not None:
            assert not (m & ~prev).any()  # only tokens masked before are masked again
        prev = m
        scores = scores.masked_fill(~m, float('inf'))  # unmasked tokens are final
    # round(cos(pi k / 8) * n): k = 0 masks everything, the last step one token
    expected = [[round(math.cos(math.pi * k / 8) * n) or 1 for n in (20, 12)] for k in range(steps)]
    expected[-1] = [1, 1]
    assert counts == expected
    with pytest.raises(ValueError, match='outside'):
        sampling_step_mask(scores, num_fill, 5, 5)
