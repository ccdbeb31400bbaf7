import pytest
import torch

from motionkit.models.tokenizers import ResidualQuantizer


def _smooth_vectors(n: int, dim: int, seed: int) -> torch.Tensor:
    """Samples of random smooth curves (sums of low-frequency sines) as dim-D vectors."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, dim)
    freqs = torch.arange(1, 4).float()
    amp = torch.randn(n, 3, generator=g)
    phase = torch.rand(n, 3, generator=g) * 6.28
    return (amp[:, :, None] * torch.sin(freqs[None, :, None] * 6.28 * t + phase[:, :, None])).sum(1)


def _fit(num_quantizers: int, shared: bool = False) -> float:
    torch.manual_seed(0)
    rq = ResidualQuantizer(num_quantizers=num_quantizers, codebook_size=16, code_dim=8,
                           decay=0.8, dropout_prob=0.0, shared_codebook=shared).train()
    for step in range(40):
        rq(_smooth_vectors(512, 8, seed=step))
    rq.eval()
    x = _smooth_vectors(1024, 8, seed=1000)
    recon = rq.dequantize(rq.quantize(x))
    return float((recon - x).pow(2).mean())


def test_more_quantizers_reconstruct_better(one_thread):
    err1, err2, err4 = _fit(1), _fit(2), _fit(4)
    assert err2 < 0.8 * err1
    assert err4 < 0.8 * err2
    # a shared codebook also refines with depth
    assert _fit(3, shared=True) < err1


def test_residual_structure_and_dequantize():
    torch.manual_seed(0)
    rq = ResidualQuantizer(num_quantizers=3, codebook_size=8, code_dim=4, dropout_prob=0.0)
    rq.train()(torch.randn(64, 4))
    rq.eval()
    x = torch.randn(5, 4)
    ids = rq.quantize(x)
    assert ids.shape == (5, 3)
    # the sum of the selected codes, layer by layer
    manual = sum(rq.layer(q).codebook[ids[:, q]] for q in range(3))
    assert torch.allclose(rq.dequantize(ids), manual)
    # a prefix of the layers, and -1 for dropped layers, give the coarse code
    coarse = rq.layer(0).codebook[ids[:, 0]]
    assert torch.allclose(rq.dequantize(ids[:, :1]), coarse)
    dropped = ids.clone()
    dropped[:, 1:] = -1
    assert torch.allclose(rq.dequantize(dropped), coarse)
    out = rq(x)
    assert torch.equal(out['ids'], ids)
    assert torch.allclose(out['quantized'], manual)
    with pytest.raises(ValueError, match='Q <= 3'):
        rq.dequantize(torch.zeros(5, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r'in \[0, 8\)'):
        rq.dequantize(torch.full((5, 3), 8))


def test_shared_codebook_is_one_module():
    rq = ResidualQuantizer(num_quantizers=4, codebook_size=8, code_dim=4, shared_codebook=True)
    assert len(rq.quantizers) == 1 and rq.layer(3) is rq.layer(0)
    sep = ResidualQuantizer(num_quantizers=4, codebook_size=8, code_dim=4)
    assert len(sep.quantizers) == 4


def test_quantizer_dropout_uses_a_random_prefix_in_training_only():
    torch.manual_seed(0)
    rq = ResidualQuantizer(num_quantizers=4, codebook_size=8, code_dim=4, dropout_prob=1.0,
                           dropout_cutoff=1).train()
    seen = set()
    for _ in range(40):
        out = rq(torch.randn(32, 4))
        active = int(out['num_active'])
        seen.add(active)
        assert (out['ids'][:, active:] == -1).all()
        assert (out['ids'][:, :active] >= 0).all()
    # cutoff 1: layers 0 and 1 always active; 2..4 layers drawn
    assert seen == {2, 3, 4}
    out = rq.eval()(torch.randn(8, 4))
    assert out['num_active'] == 4 and (out['ids'] >= 0).all()


def test_straight_through_gradient_is_identity():
    torch.manual_seed(0)
    rq = ResidualQuantizer(num_quantizers=3, codebook_size=8, code_dim=4, dropout_prob=0.0)
    x = torch.randn(16, 4, requires_grad=True)
    out = rq.train()(x)
    upstream = torch.randn(16, 4)
    (grad, ) = torch.autograd.grad(out['quantized'], x, grad_outputs=upstream)
    assert torch.allclose(grad, upstream)


def test_bad_arguments():
    with pytest.raises(ValueError, match='dropout_cutoff'):
        ResidualQuantizer(num_quantizers=2, dropout_cutoff=2)
    with pytest.raises(ValueError, match='num_quantizers'):
        ResidualQuantizer(num_quantizers=0)
