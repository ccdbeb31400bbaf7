"""VisualMapper (LLaVA's mlp2x_gelu) and PoseMapper (PCT codes -> LLM embeddings)."""
import pytest
import torch
from torch import nn

from motionkit.models.mappers import PoseMapper, VisualMapper, build_projector
from motionkit.registry import MODELS


def test_mlp2x_gelu_is_linear_gelu_linear():
    m = MODELS.build(dict(type='VisualMapper', in_dim=3, out_dim=2))
    layers = list(m.proj)
    assert [type(x) for x in layers] == [nn.Linear, nn.GELU, nn.Linear]
    with torch.no_grad():
        layers[0].weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]))
        layers[0].bias.zero_()
        layers[2].weight.copy_(torch.tensor([[1.0, 1.0], [0.0, 2.0]]))
        layers[2].bias.copy_(torch.tensor([0.5, 0.0]))
    x = torch.tensor([[[1.0, 1.0, 7.0]]])          # (B, T, in_dim)
    # Linear -> (1, -1); GELU(1) = 0.841345, GELU(-1) = -0.158655
    g1, gm1 = 1 * 0.8413447460685429, -1 * 0.15865525393145707
    torch.testing.assert_close(m(x), torch.tensor([[[g1 + gm1 + 0.5, 2 * gm1]]]))
    with pytest.raises(ValueError, match=r'expected features \(\.\.\., 3\), got \(1, 4\)'):
        m(torch.zeros(1, 4))


def test_projector_names():
    assert isinstance(build_projector('linear', 4, 5), nn.Linear)
    assert len(build_projector('mlp3x_gelu', 4, 5)) == 5
    with pytest.raises(ValueError, match="unknown projector 'mlp2x_relu'"):
        build_projector('mlp2x_relu', 4, 5)


def test_pose_mapper_ids_and_vectors_agree():
    torch.manual_seed(0)
    m = PoseMapper(codebook_size=6, code_dim=4, out_dim=8)
    codebook = torch.randn(6, 4)
    m.load_codebook(codebook)
    ids = torch.tensor([[[0, 5, 2]], [[1, 1, 3]]])   # (B=2, frames=1, M=3)
    out = m(ids)
    assert out.shape == (2, 1, 3, 8)
    torch.testing.assert_close(out, m(codebook[ids]))   # ids == their code vectors
    assert not m.codebook.weight.requires_grad         # frozen codebook, trained projector
    with pytest.raises(ValueError, match=r'code ids must be in \[0, 6\), got 0\.\.6'):
        m(torch.tensor([[0, 6]]))
    with pytest.raises(ValueError, match=r'expected \(6, 4\), got \(6, 3\)'):
        m.load_codebook(torch.zeros(6, 3))


def test_pose_mapper_takes_pose_tokenizer_codebook():
    torch.manual_seed(0)
    tok = MODELS.build(dict(type='PoseTokenizer'))
    tok.train()(torch.randn(64, 17, 3), mode='loss')   # one training step initialises the codebook
    tok.eval()
    cb = tok.quantizer.codebook
    m = PoseMapper(codebook_size=cb.shape[0], code_dim=cb.shape[1], out_dim=16)
    m.load_codebook(cb)
    ids = tok.encode(torch.randn(2, 17, 3))
    assert m(ids).shape == (2, tok.num_tokens, 16)
    torch.testing.assert_close(m.codebook(ids), tok.quantizer.dequantize(ids))
