"""projects/coamd generator side: the paper-size configs build on the meta device with the
published sizes (parameter counts against the layer-by-layer formula), and print their counts."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'projects' / 'coamd' / 'configs'


def _linear(i, o):
    return i * o + o


def _conv(i, o, k):
    return i * o * k + o


def _autoencoder_params(w=512, code=512, coords=66, down=2, depth=3):
    res = depth * (_conv(w, w, 3) + _conv(w, w, 1))
    encoder = 3 * _conv(coords, w, 3) + down * (_conv(w, w, 4) + res) + _conv(w, code, 3)
    decoder = (_conv(code, w, 3) + down * (res + _conv(w, w, 3)) + _conv(w, w, 3)
               + _conv(w, coords, 3))
    return encoder + decoder


def _generator_params(d=1024, ff=4096, layers=8, text=512, code=512, hw=1792, hd=16, freq=256):
    block = (4 * d * d + 4 * d) + _linear(d, ff) + _linear(ff, d) + _linear(d, 6 * d)
    transformer = _linear(text, d) + _linear(code, d) + code + layers * block
    head_block = 2 * hw + 2 * _linear(hw, hw) + _linear(hw, 3 * hw)
    head = (_linear(code, hw) + _linear(freq, hw) + _linear(hw, hw) + _linear(d, hw)
            + hd * head_block + _linear(hw, 2 * hw) + _linear(hw, code))
    return transformer, head


def _build_on_meta(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.paper_scale
    init_default_scope('motionkit')
    from motionkit.registry import MODELS
    with torch.device('meta'):
        model = MODELS.build(copy.deepcopy(cfg.model.to_dict()))
    return cfg, model


def test_autoencoder_paper_size_on_meta(capsys):
    cfg, model = _build_on_meta('coamd-ae_conv-512_1xb256-50e_humanml3d.py')
    n = sum(p.numel() for p in model.parameters())
    with capsys.disabled():
        print(f'\nCoAMD autoencoder (paper size): {n:,} parameters')
    assert n == _autoencoder_params()
    assert next(model.parameters()).device.type == 'meta'
    assert cfg.train_dataloader.batch_size == 256 and cfg.train_cfg.max_epochs == 50
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(2e-4)


def test_generator_paper_size_on_meta(capsys):
    cfg, model = _build_on_meta('coamd_sit-xl_1xb64-500e_humanml3d.py')
    tok = sum(p.numel() for p in model.tokenizer.parameters())
    head = sum(p.numel() for p in model.head.parameters())
    total = sum(p.numel() for p in model.parameters())
    transformer = total - tok - head
    with capsys.disabled():
        print(f'\nCoAMD generator (paper size): transformer {transformer:,}, flow-matching head '
              f'{head:,}, frozen autoencoder {tok:,} parameters (CLIP text tower not counted)')
    want_transformer, want_head = _generator_params()
    assert (transformer, head, tok) == (want_transformer, want_head, _autoencoder_params())
    assert len(model.blocks) == 8 and model.blocks[0].attn.num_heads == 16
    assert model.num_ar_steps == 12 and model.guidance_scale == 4.5
    assert not any(p.requires_grad for p in model.tokenizer.parameters())
    assert cfg.train_dataloader.batch_size == 64 and cfg.train_cfg.max_epochs == 500
