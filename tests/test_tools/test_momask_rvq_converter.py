"""MoMask's residual VQ-VAE (tiny, random, built from the public code: tests/data fixture) converts
into MotionVQVAE + ResidualQuantizer with strict=True: same codes, reconstruction and decoding."""
import importlib.util

import pytest
import torch

from motionkit.hub.converters import ConversionError
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / 'tests' / 'data' / 'model_converters' / 'momask_rvq'
CONFIG = REPO_ROOT / 'configs' / 'vqvae' / 'rvqvae-6q_tcn-512_1xb256-50e_humanml3d.py'


def _converter():
    spec = importlib.util.spec_from_file_location(
        '_momask_conv', REPO_ROOT / 'tools' / 'model_converters' / 'momask_rvq_official.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(sizes=None, meta=False):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    model = Config.fromfile(str(CONFIG)).model.to_dict()
    if sizes:
        model.update(width=sizes['width'], code_dim=sizes['code_dim'])
        model['quantizer'].update(codebook_size=sizes['codebook_size'], code_dim=sizes['code_dim'],
                                  num_quantizers=sizes['num_quantizers'])
    with DefaultScope.overwrite_default_scope('motionkit'):
        if meta:
            with torch.device('meta'):
                return MODELS.build(model)
        return MODELS.build(model)


def test_converted_rvq_matches_the_official_codes_and_reconstruction(tmp_path):
    from motionkit.utils import safe_load
    out = tmp_path / 'rvq.pth'
    _converter().convert(str(DATA / 'net_best_fid.tar'), str(out))
    io = torch.load(DATA / 'io.pt', weights_only=True)
    model = _build(io['sizes'])
    model.load_state_dict(safe_load(str(out))['state_dict'], strict=True)
    model.eval()
    ids, _ = model.encode(io['x'])
    assert ids.shape == (2, 8, 3) and torch.equal(ids, io['ids'])
    assert all(len(set(io['ids'][..., q].flatten().tolist())) >= 3 for q in range(3))
    recon, _ = model.reconstruct(io['x'])
    assert (recon - io['recon']).abs().max() < 1e-5
    assert (model.decode(io['ids']) - io['decoded']).abs().max() < 1e-5


def test_config_is_momask_size():
    model = _build(meta=True)
    q = model.quantizer
    assert q.num_quantizers == 6 and q.codebook_size == 512 and q.code_dim == 512
    assert q.dropout_prob == 0.2 and not q.shared_codebook


def test_bad_inputs_are_named(tmp_path):
    conv = _converter()
    ckpt = torch.load(DATA / 'net_best_fid.tar', weights_only=True)
    vq = ckpt['vq_model']
    torch.save({'net': {'vqvae.encoder.model.0.weight': torch.zeros(1)}}, tmp_path / 't2mgpt.pth')
    with pytest.raises(ConversionError, match="top-level keys \\['vq_model'\\] are missing"):
        conv.convert(str(tmp_path / 't2mgpt.pth'), str(tmp_path / 'o.pth'))
    shared = dict(vq)
    for q in (1, 2):
        shared[f'quantizer.layers.{q}.codebook'] = vq['quantizer.layers.0.codebook']
    torch.save({'vq_model': shared}, tmp_path / 'shared.tar')
    with pytest.raises(ConversionError, match='shared-codebook'):
        conv.convert(str(tmp_path / 'shared.tar'), str(tmp_path / 'o.pth'))
    (tmp_path / 'cut.tar').write_bytes((DATA / 'net_best_fid.tar').read_bytes()[:2000])
    with pytest.raises(ConversionError, match='truncated'):
        conv.convert(str(tmp_path / 'cut.tar'), str(tmp_path / 'o.pth'))
    extra = dict(vq, **{'quantizer.layers.0.cluster_size': torch.zeros(1)})
    torch.save({'vq_model': extra}, tmp_path / 'extra.tar')
    with pytest.raises(ConversionError, match=r"\['quantizer.layers.0.cluster_size'\]"):
        conv.convert(str(tmp_path / 'extra.tar'), str(tmp_path / 'o.pth'))
