"""An official MDM (tiny, random, built from the public code: tests/data fixture) converts into
motionkit's MDM with strict=True and denoises identically."""
import importlib.util

import pytest
import torch

from motionkit.hub.converters import ConversionError
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / 'tests' / 'data' / 'model_converters' / 'mdm'
CONFIG = REPO_ROOT / 'configs' / 'mdm' / 'mdm-official_trans-enc-512_humanml3d.py'


def _converter():
    spec = importlib.util.spec_from_file_location(
        '_mdm_conv', REPO_ROOT / 'tools' / 'model_converters' / 'mdm_official.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(sizes=None, meta=False):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIG)).model.to_dict()
    if sizes:
        cfg.update(sizes)
    with DefaultScope.overwrite_default_scope('motionkit'):
        if meta:
            with torch.device('meta'):
                return MODELS.build(cfg)
        return MODELS.build(cfg)


def test_converted_mdm_denoises_like_the_official_one(tmp_path):
    io = torch.load(DATA / 'io.pt', weights_only=True)
    s = io['sizes']
    out = tmp_path / 'mdm.pth'
    _converter().convert(str(DATA / 'model000000042.pt'), str(out))
    from motionkit.utils import safe_load
    model = _build(dict(latent_dim=s['latent_dim'], ff_size=s['ff_size'],
                        num_layers=s['num_layers'], num_heads=s['num_heads']))
    model.load_state_dict(safe_load(str(out))['state_dict'], strict=True)
    model.eval()
    x = io['x'][:, :, 0].transpose(1, 2)  # official (B, D, 1, T) -> motionkit (B, T, D)
    mask = torch.arange(x.shape[1])[None] < io['lengths'][:, None]
    t, text = io['timesteps'], io['text_embed']
    to_official = lambda y: y.transpose(1, 2)[:, :, None]  # noqa: E731
    with torch.no_grad():
        out_c = model.denoise(x, t, text, mask, torch.zeros(3, dtype=torch.bool))
        out_u = model.denoise(x, t, text, mask, torch.ones(3, dtype=torch.bool))
        model.mask_frames = True
        out_m = model.denoise(x, t, text, mask, torch.zeros(3, dtype=torch.bool))
    assert (to_official(out_c) - io['out']).abs().max() < 1e-5
    assert (to_official(out_u) - io['out_uncond']).abs().max() < 1e-5
    valid = mask[:, None, None, :].expand_as(io['out_masked'])
    assert (to_official(out_m) - io['out_masked'])[valid].abs().max() < 1e-5


def test_official_config_is_the_released_model():
    model = _build(meta=True)
    assert model.mask_frames is False and model.text_encoder.max_length == 22
    assert model.latent_dim == 512 and len(model.transformer.layers) == 8
    assert model.embed_text.in_features == 512


def test_bad_inputs_are_named(tmp_path):
    conv = _converter()
    other = tmp_path / 'other.pt'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, other)
    with pytest.raises(ConversionError, match='not a trans_enc MDM'):
        conv.convert(str(other), str(tmp_path / 'o.pth'))
    truncated = tmp_path / 'model000000001.pt'
    truncated.write_bytes((DATA / 'model000000042.pt').read_bytes()[:4000])
    with pytest.raises(ConversionError, match='truncated'):
        conv.convert(str(truncated), str(tmp_path / 'o.pth'))
    state = torch.load(DATA / 'model000000042.pt', weights_only=True)
    state['seqTransEncoder.layers.0.extra.weight'] = torch.zeros(1)
    torch.save(state, tmp_path / 'extra.pt')
    with pytest.raises(ConversionError, match=r"unexpected keys \['transformer.layers.0.extra.weight'\]"):
        conv.convert(str(tmp_path / 'extra.pt'), str(tmp_path / 'o.pth'))
    state = torch.load(DATA / 'model000000042.pt', weights_only=True)
    del state['embed_text.bias']
    torch.save(state, tmp_path / 'missing.pt')
    with pytest.raises(ConversionError, match=r"missing keys \['embed_text.bias'\]"):
        conv.convert(str(tmp_path / 'missing.pt'), str(tmp_path / 'o.pth'))
    # the EMA layout of newer MDM checkpoints
    state = torch.load(DATA / 'model000000042.pt', weights_only=True)
    torch.save({'model': state, 'model_avg': state}, tmp_path / 'ema.pt')
    assert len(conv.convert(str(tmp_path / 'ema.pt'), str(tmp_path / 'ema.pth'), use_avg=True)) == 64
