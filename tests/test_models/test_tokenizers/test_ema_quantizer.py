import math

import pytest
import torch

from motionkit.models.tokenizers import EMAQuantizer, codebook_perplexity


def _set_codebook(q: EMAQuantizer, codes, counts=None):
    codes = torch.as_tensor(codes, dtype=torch.float32)
    counts = torch.ones(len(codes)) if counts is None else torch.as_tensor(counts).float()
    q.codebook.copy_(codes)
    q.code_count.copy_(counts)
    q.code_sum.copy_(codes * counts[:, None])
    q.initialized.fill_(True)


def test_ema_update_matches_hand_computation_on_two_codes():
    q = EMAQuantizer(codebook_size=2, code_dim=1, decay=0.99, reset_threshold=None).train()
    _set_codebook(q, [[0.0], [10.0]])
    x = torch.tensor([[1.0], [2.0], [9.0]])
    out = q(x)
    assert out['ids'].tolist() == [0, 0, 1]
    # the output uses the codebook before the update
    assert out['quantized'].flatten().tolist() == [0.0, 0.0, 10.0]
    # N_k <- 0.99 N_k + 0.01 n_k ; m_k <- 0.99 m_k + 0.01 sum_k ; e_k = m_k / N_k
    n0, n1 = 0.99 * 1 + 0.01 * 2, 0.99 * 1 + 0.01 * 1
    m0, m1 = 0.99 * 0.0 + 0.01 * 3.0, 0.99 * 10.0 + 0.01 * 9.0
    assert q.code_count.tolist() == pytest.approx([n0, n1], abs=1e-6)
    assert q.code_sum.flatten().tolist() == pytest.approx([m0, m1], abs=1e-6)
    assert q.codebook.flatten().tolist() == pytest.approx([m0 / n0, m1 / n1], abs=1e-6)
    # batch usage counts (2, 1): perplexity exp(H) with H = -(2/3 ln 2/3 + 1/3 ln 1/3)
    h = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert float(out['perplexity']) == pytest.approx(math.exp(h), rel=1e-5)
    assert float(out['usage']) == 1.0
    # commitment: mean((x - e)^2) with the pre-update codes
    assert float(out['commit_loss']) == pytest.approx((1 + 4 + 1) / 3, rel=1e-6)


def test_eval_mode_does_not_update_the_codebook():
    q = EMAQuantizer(codebook_size=2, code_dim=1).eval()
    _set_codebook(q, [[0.0], [10.0]])
    before = q.codebook.clone()
    q(torch.tensor([[1.0], [9.0]]))
    assert torch.equal(q.codebook, before)


def test_commitment_gradient_reaches_the_encoder_only_and_straight_through():
    q = EMAQuantizer(codebook_size=2, code_dim=2, reset_threshold=None).train()
    _set_codebook(q, [[0.0, 0.0], [4.0, 4.0]])
    x = torch.tensor([[1.0, 0.5], [3.0, 5.0]], requires_grad=True)
    out = q(x)
    codes = torch.tensor([[0.0, 0.0], [4.0, 4.0]])
    (grad_commit, ) = torch.autograd.grad(out['commit_loss'], x, retain_graph=True)
    # d/dx mean((x - sg(e))^2) = 2 (x - e) / numel
    assert torch.allclose(grad_commit, 2 * (x.detach() - codes) / x.numel())
    # straight-through: the decoder's gradient is copied onto x unchanged
    upstream = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    (grad_st, ) = torch.autograd.grad(out['quantized'], x, grad_outputs=upstream)
    assert torch.equal(grad_st, upstream)
    # the codebook is a buffer: nothing for an optimiser
    assert list(q.parameters()) == []
    assert not q.codebook.requires_grad


def test_codebook_initialised_from_the_first_batch():
    torch.manual_seed(0)
    x = torch.randn(10, 3) * 5
    q = EMAQuantizer(codebook_size=4, code_dim=3, reset_threshold=None)
    q.init_codebook(x)
    # every code is a distinct vector of the batch
    match = torch.cdist(q.codebook, x)
    assert float(match.min(dim=1).values.max()) == 0.0
    assert len(set(match.argmin(dim=1).tolist())) == 4
    # fewer vectors than codes: tiled with small noise
    q2 = EMAQuantizer(codebook_size=8, code_dim=3, reset_threshold=None)
    q2.init_codebook(x[:3])
    assert float(torch.cdist(q2.codebook, x[:3]).min(dim=1).values.max()) < 0.05
    # the first training call initialises; an untrained quantiser refuses to encode
    q3 = EMAQuantizer(codebook_size=4, code_dim=3).train()
    assert not bool(q3.initialized)
    q3(x)
    assert bool(q3.initialized)


def test_dead_code_reset_raises_codebook_usage():
    torch.manual_seed(0)
    centres = torch.tensor([[float(i), float(i % 2)] for i in range(8)]) * 3.0

    def batch():
        idx = torch.randint(0, 8, (256, ))
        return centres[idx] + 0.05 * torch.randn(256, 2)

    def run(reset):
        q = EMAQuantizer(codebook_size=8, code_dim=2, decay=0.9, reset_threshold=reset).train()
        # half of the codes sit on data, half far away from every vector: dead at init
        _set_codebook(q, torch.cat([centres[:4], torch.full((4, 2), 100.0)]))
        first = float(q(batch())['usage'])
        for _ in range(30):
            q(batch())
        q.eval()
        return first, float(q(batch())['usage'])

    first, last = run(reset=1.0)
    assert first == 0.5
    assert last > 0.9
    # the same run without the reset keeps the dead codes dead
    first_nr, last_nr = run(reset=None)
    assert first_nr == 0.5 and last_nr == 0.5


def test_errors():
    q = EMAQuantizer(codebook_size=4, code_dim=3)
    with pytest.raises(RuntimeError, match='not initialised'):
        q.eval()(torch.randn(2, 3))
    with pytest.raises(RuntimeError, match='not initialised'):
        q.quantize(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r'expected \(N, 3\)'):
        q(torch.randn(2, 4))
    q.init_codebook(torch.randn(8, 3))
    with pytest.raises(ValueError, match=r'in \[0, 4\)'):
        q.dequantize(torch.tensor([0, 4]))
    with pytest.raises(ValueError, match=r'in \[0, 4\)'):
        q.dequantize(torch.tensor([-1]))
    with pytest.raises(TypeError, match='integers'):
        q.dequantize(torch.tensor([0.5]))
    with pytest.raises(ValueError, match='decay'):
        EMAQuantizer(decay=1.0)


def test_codebook_perplexity_values():
    assert float(codebook_perplexity(torch.tensor([5.0, 5.0, 5.0, 5.0]))) == pytest.approx(4.0)
    assert float(codebook_perplexity(torch.tensor([0.0, 7.0, 0.0]))) == pytest.approx(1.0)
