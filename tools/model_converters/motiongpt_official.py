"""Convert MotionGPT-base (``motiongpt_s3_h3d.tar``, Jiang et al. NeurIPS 2023) into motionkit: its
motion VQ-VAE -> ``MotionVQVAE`` and its T5 -> a Hugging Face folder that
``MotionLanguageModel(backbone=dict(pretrained=DIR), motion_token_strategy='extended')`` loads.

Inputs: the Lightning checkpoint of ``OpenMotionLab/MotionGPT-base`` (its ``state_dict`` holds
``vae.*`` and ``lm.language_model.*``) and the user's ``deps/flan-t5-base`` folder (MotionGPT's
``prepare/prepare_t5.sh``), whose ``config.json`` and tokenizer are reused; the tokenizer gets
MotionGPT's ``<motion_id_0>`` ... ``<motion_id_{K+2}>`` tokens (K codes + start, end, mask).

    python tools/misc/download.py motiongpt-base_official_humanml3d --allow-unpinned
    python tools/model_converters/motiongpt_official.py \\
        <cache>/motiongpt_s3_h3d.tar --t5-dir deps/flan-t5-base \\
        --out-dir checkpoints/motiongpt-base_official_humanml3d

Writes ``vqvae.pth`` (MotionGPT's VQ-VAE has T2M-GPT's sizes:
``configs/vqvae/vqvae_tcn-512_1xb256-300k_humanml3d.py``) and ``lm/`` (T5 weights as safetensors,
config, tokenizer with the motion tokens) for ``MotionLanguageModel(backbone=dict(pretrained=
'<out-dir>/lm'), tokenizer=dict(type='pretrained', path='<out-dir>/lm'),
motion_token_strategy='extended', codebook_size=512)``.
A Lightning file whose ``hyper_parameters`` hold OmegaConf objects is refused by the safe loader;
then extract the weights once on a trusted machine (see docs/model_zoo.md).
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from t2m_gpt_vqvae_official import build_model as build_vqvae  # noqa: E402
from t2m_gpt_vqvae_official import convert_state as convert_vq_state  # noqa: E402

from motionkit.hub.converters import (ConversionError, load_official, load_strict, run_conversion,  # noqa: E402
                                      save_converted)
from motionkit.utils.checkpoint import file_sha256  # noqa: E402

LM_PREFIX = 'lm.language_model.'


def split_state(state: dict, source: str) -> tuple:
    vae = {k[len('vae.'):]: v for k, v in state.items() if k.startswith('vae.')}
    lm = {k[len(LM_PREFIX):]: v for k, v in state.items() if k.startswith(LM_PREFIX)}
    other = sorted(k for k in state if not k.startswith(('vae.', LM_PREFIX)))
    if not vae or not lm:
        raise ConversionError(f'{source}: not a MotionGPT checkpoint (expected vae.* and '
                              f'{LM_PREFIX}* keys; found {len(vae)} and {len(lm)}, first keys '
                              f'{sorted(state)[:6]})')
    if other:
        raise ConversionError(f'{source}: keys the converter does not know: {other[:20]}')
    return vae, lm


def convert(src: str, t5_dir: str, out_dir: str, codebook_size: int = 512) -> dict:
    """Write ``out_dir/vqvae.pth`` and ``out_dir/lm``; returns their sha256s."""
    from transformers import AutoConfig, AutoTokenizer, T5ForConditionalGeneration

    ckpt = load_official(src, ('state_dict', ), 'MotionGPT Lightning checkpoint')
    vae_state, lm_state = split_state(ckpt['state_dict'], src)

    vq_state, sizes = convert_vq_state(vae_state, f'{src} [vae]')
    vq = build_vqvae(sizes)
    load_strict(vq, vq_state, f'{src} [vae]')
    os.makedirs(out_dir, exist_ok=True)
    sha_vq = save_converted(vq, osp.join(out_dir, 'vqvae.pth'),
                            dict(converted_from=osp.basename(src), sizes=sizes,
                                 converter='tools/model_converters/motiongpt_official.py'))

    if not osp.isfile(osp.join(t5_dir, 'config.json')):
        raise FileNotFoundError(f'{t5_dir}: no config.json (expected the flan-t5-base folder '
                                "MotionGPT's prepare/prepare_t5.sh clones)")
    tok = AutoTokenizer.from_pretrained(t5_dir)
    tok.add_tokens([f'<motion_id_{i}>' for i in range(codebook_size + 3)])
    rows = lm_state['shared.weight'].shape[0]
    if rows != len(tok):
        raise ConversionError(
            f'{src}: the language model has {rows} token embeddings, but {t5_dir}\'s tokenizer with '
            f'MotionGPT\'s {codebook_size + 3} motion tokens has {len(tok)}: another tokenizer or '
            'codebook size?')
    config = AutoConfig.from_pretrained(t5_dir)
    config.vocab_size = rows
    model = T5ForConditionalGeneration(config)
    # tied copies of the shared embedding are saved under several names: keep what the model has
    own = set(model.state_dict())
    tied = {k for k in lm_state if k.endswith('embed_tokens.weight') and k not in own}
    load_strict(model, {k: v for k, v in lm_state.items() if k not in tied}, f'{src} [lm]')
    lm_dir = osp.join(out_dir, 'lm')
    model.save_pretrained(lm_dir)
    tok.save_pretrained(lm_dir)
    with open(osp.join(lm_dir, 'motionkit_conversion.json'), 'w') as f:
        json.dump(dict(converted_from=osp.basename(src), source_sha256=file_sha256(src),
                       motion_tokens=codebook_size + 3), f, indent=1)
    print(f'wrote {lm_dir}')
    return dict(vqvae=sha_vq)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description='Convert MotionGPT-base (motiongpt_s3_h3d.tar)')
    p.add_argument('src')
    p.add_argument('--t5-dir', required=True, help="the flan-t5-base folder (config + tokenizer)")
    p.add_argument('--out-dir', required=True)
    p.add_argument('--codebook-size', type=int, default=512)
    args = p.parse_args(argv)
    return run_conversion(convert, args.src, args.t5_dir, args.out_dir, args.codebook_size)


if __name__ == '__main__':
    sys.exit(main())
