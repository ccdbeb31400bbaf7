"""MotionGPT (tiny, random, built from the public mGPT/archs with a tiny T5 standing in for
flan-t5-base: tests/data fixture) converts into MotionVQVAE + a HF T5 folder that
MotionLanguageModel('extended') loads: same codes, reconstruction, token ids and logits."""
import importlib.util

import pytest
import torch

from motionkit.hub.converters import ConversionError
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / 'tests' / 'data' / 'model_converters' / 'motiongpt'


def _converter():
    spec = importlib.util.spec_from_file_location(
        '_motiongpt_conv', REPO_ROOT / 'tools' / 'model_converters' / 'motiongpt_official.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converted_motiongpt_matches_the_official_outputs(tmp_path):
    from motionkit.models.llm_heads.motion_language_model import MotionLanguageModel
    from motionkit.utils import safe_load
    conv = _converter()
    conv.convert(str(DATA / 'motiongpt_s3_h3d.tar'), str(DATA / 'flan-t5-tiny'), str(tmp_path))
    io = torch.load(DATA / 'io.pt', weights_only=True)
    # the motion VQ-VAE
    ckpt = safe_load(str(tmp_path / 'vqvae.pth'))
    vq = conv.build_vqvae(ckpt['meta']['sizes'])
    vq.load_state_dict(ckpt['state_dict'], strict=True)
    vq.eval()
    ids, _ = vq.encode(io['x'])
    assert torch.equal(ids, io['ids'])
    recon, _ = vq.reconstruct(io['x'])
    assert (recon - io['recon']).abs().max() < 1e-5
    # the language model with MotionGPT's motion tokens
    lm = MotionLanguageModel(backbone=dict(pretrained=str(tmp_path / 'lm')),
                             tokenizer=dict(type='pretrained', path=str(tmp_path / 'lm')),
                             motion_token_strategy='extended', codebook_size=512)
    lm.eval()
    assert len(lm.tokenizer) == io['vocab_size']
    tokens = lm.tokenizer([io['text']], return_tensors='pt').input_ids
    assert torch.equal(tokens, io['input_ids'])
    with torch.no_grad():
        logits = lm.lm(input_ids=tokens, decoder_input_ids=io['decoder_input_ids']).logits
    assert (logits - io['logits']).abs().max() < 1e-5
    assert lm.motion_text([3, 7]) == '<motion_id_3><motion_id_7>'


def test_bad_inputs_are_named(tmp_path):
    conv = _converter()
    src, t5 = str(DATA / 'motiongpt_s3_h3d.tar'), str(DATA / 'flan-t5-tiny')
    with pytest.raises(ConversionError, match='has 530 token embeddings.*has 274'):
        conv.convert(src, t5, str(tmp_path / 'a'), codebook_size=256)
    state = torch.load(src, weights_only=True)['state_dict']
    only_vae = {k: v for k, v in state.items() if k.startswith('vae.')}
    torch.save({'state_dict': only_vae}, tmp_path / 'vae_only.tar')
    with pytest.raises(ConversionError, match='not a MotionGPT checkpoint'):
        conv.convert(str(tmp_path / 'vae_only.tar'), t5, str(tmp_path / 'b'))
    extra = dict(state, **{'lm.language_model.encoder.block.0.adapter.weight': torch.zeros(1)})
    torch.save({'state_dict': extra}, tmp_path / 'extra.tar')
    with pytest.raises(ConversionError, match=r"unexpected keys \['encoder.block.0.adapter.weight'\]"):
        conv.convert(str(tmp_path / 'extra.tar'), t5, str(tmp_path / 'c'))
    (tmp_path / 'cut.tar').write_bytes((DATA / 'motiongpt_s3_h3d.tar').read_bytes()[:5000])
    with pytest.raises(ConversionError, match='truncated'):
        conv.convert(str(tmp_path / 'cut.tar'), t5, str(tmp_path / 'd'))
    with pytest.raises(FileNotFoundError, match='config.json'):
        conv.convert(src, str(tmp_path), str(tmp_path / 'e'))
