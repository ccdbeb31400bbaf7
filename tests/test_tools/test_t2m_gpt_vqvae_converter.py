"""T2M-GPT's VQ-VAE (tiny, random, built from the public code: tests/data fixture) converts into
motionkit's MotionVQVAE with strict=True and gives the same tokens and reconstructions."""
import importlib.util

import pytest
import torch

from motionkit.hub.converters import ConversionError
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / 'tests' / 'data' / 'model_converters' / 't2m_gpt_vqvae'


def _converter():
    spec = importlib.util.spec_from_file_location(
        '_t2mgpt_conv', REPO_ROOT / 'tools' / 'model_converters' / 't2m_gpt_vqvae_official.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_from_config(sizes):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/vqvae/vqvae_tcn-512_1xb256-300k_humanml3d.py'))
    model = cfg.model.to_dict()
    model.update(width=sizes['width'], code_dim=sizes['code_dim'])
    model['quantizer'].update(codebook_size=sizes['codebook_size'], code_dim=sizes['code_dim'])
    with DefaultScope.overwrite_default_scope('motionkit'):
        return MODELS.build(model)


def test_converted_vqvae_matches_the_official_tokens_and_reconstruction(tmp_path):
    from motionkit.utils import safe_load
    out = tmp_path / 'vq.pth'
    _converter().convert(str(DATA / 'net_last.pth'), str(out))
    io = torch.load(DATA / 'io.pt', weights_only=True)
    # the shipped paper config at the fixture's tiny widths
    model = _build_from_config(io['sizes'])
    model.load_state_dict(safe_load(str(out))['state_dict'], strict=True)
    model.eval()
    ids, token_len = model.encode(io['x'])
    assert torch.equal(ids, io['ids']) and token_len.tolist() == [8, 8]
    assert len(set(io['ids'].flatten().tolist())) >= 5  # the fixture uses many codes
    recon, _ = model.reconstruct(io['x'])
    assert (recon - io['recon']).abs().max() < 1e-5
    assert (model.decode(io['ids'][0]) - io['decoded0'][0]).abs().max() < 1e-5


def test_bad_inputs_are_named(tmp_path):
    conv = _converter()
    net = torch.load(DATA / 'net_last.pth', weights_only=True)['net']
    torch.save({'state_dict': net}, tmp_path / 'no_net.pth')
    with pytest.raises(ConversionError, match="top-level keys \\['net'\\] are missing"):
        conv.convert(str(tmp_path / 'no_net.pth'), str(tmp_path / 'o.pth'))
    torch.save({'net': {'trans.weight': torch.zeros(1)}}, tmp_path / 'gpt.pth')
    with pytest.raises(ConversionError, match='not a T2M-GPT VQ-VAE'):
        conv.convert(str(tmp_path / 'gpt.pth'), str(tmp_path / 'o.pth'))
    (tmp_path / 'cut.pth').write_bytes((DATA / 'net_last.pth').read_bytes()[:3000])
    with pytest.raises(ConversionError, match='truncated'):
        conv.convert(str(tmp_path / 'cut.pth'), str(tmp_path / 'o.pth'))
    extra = dict(net, **{'vqvae.quantizer.code_usage': torch.zeros(1)})
    torch.save({'net': extra}, tmp_path / 'extra.pth')
    with pytest.raises(ConversionError, match=r"\['vqvae.quantizer.code_usage'\]"):
        conv.convert(str(tmp_path / 'extra.pth'), str(tmp_path / 'o.pth'))
    missing = {k: v for k, v in net.items() if k != 'vqvae.decoder.model.4.bias'}
    torch.save({'net': missing}, tmp_path / 'missing.pth')
    with pytest.raises(ConversionError, match=r"missing keys \['decoder.conv_mid.bias'\]"):
        conv.convert(str(tmp_path / 'missing.pth'), str(tmp_path / 'o.pth'))
