"""Convert T2M-GPT's VQ-VAE (``net_last.pth``, Zhang et al. CVPR 2023; CigTime's tokenizer) into
motionkit's ``MotionVQVAE`` with an ``EMAQuantizer``.

The official file is ``{'net': HumanVQVAE.state_dict()}`` (keys ``vqvae.encoder.model.*``,
``vqvae.decoder.model.*``, ``vqvae.quantizer.codebook``) from ``VQTrans_pretrained.zip``
(``dataset/prepare/download_model.sh``).

    python tools/model_converters/t2m_gpt_vqvae_official.py pretrained/VQVAE/net_last.pth \\
        checkpoints/t2m-gpt_vqvae_official_humanml3d.pth
    python tools/test.py configs/vqvae/vqvae_tcn-512_1xb256-300k_humanml3d.py \\
        checkpoints/t2m-gpt_vqvae_official_humanml3d.pth

The codebook is copied; T2M-GPT keeps its EMA statistics (``code_sum``, ``code_count``) out of the
state dict, so they restart from the codebook (``code_sum = codebook``, ``code_count = 1``, as
T2M-GPT's own ``init_codebook``): encoding and decoding are exact, fine-tuning restarts the EMA.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from motionkit.hub.converters import (ConversionError, load_official, load_strict, rename_keys,  # noqa: E402
                                      run_conversion, save_converted, t2m_gpt_tcn_rules, tcn_sizes)
from motionkit.models.tokenizers.motion_vqvae import MotionVQVAE  # noqa: E402


def convert_state(state: dict, source: str) -> tuple:
    """Official ``net`` state dict -> (motionkit state dict, sizes)."""
    prefix = 'vqvae.' if any(k.startswith('vqvae.') for k in state) else ''
    if f'{prefix}encoder.model.0.weight' not in state:
        raise ConversionError(f'{source}: not a T2M-GPT VQ-VAE (no {prefix}encoder.model.0.weight; '
                              f'first keys {sorted(state)[:6]})')
    codebook_key = f'{prefix}quantizer.codebook'
    if codebook_key not in state:
        layered = [k for k in state if k.startswith(f'{prefix}quantizer.layers.')]
        raise ConversionError(
            f'{source}: no {codebook_key}' + (' (a residual VQ: use momask_rvq_official.py)'
                                              if layered else ''))
    sizes = tcn_sizes(state, prefix)
    rules = t2m_gpt_tcn_rules(prefix, '', sizes['down_t'], sizes['depth'])
    rules.append((codebook_key, 'quantizer.codebook'))
    out = rename_keys(state, rules, source)
    codebook = out['quantizer.codebook']
    out['quantizer.code_sum'] = codebook.clone()
    out['quantizer.code_count'] = torch.ones(codebook.shape[0])
    out['quantizer.initialized'] = torch.tensor(True)
    sizes['codebook_size'] = codebook.shape[0]
    return out, sizes


def build_model(sizes: dict) -> MotionVQVAE:
    return MotionVQVAE(feature_dim=sizes['feature_dim'], width=sizes['width'],
                       code_dim=sizes['code_dim'], down_t=sizes['down_t'], stride_t=2,
                       depth=sizes['depth'], dilation_growth_rate=3,
                       quantizer=dict(type='EMAQuantizer', codebook_size=sizes['codebook_size'],
                                      code_dim=sizes['code_dim']),
                       representation=None)


def convert(src: str, out: str) -> str:
    ckpt = load_official(src, ('net', ), "T2M-GPT VQ-VAE checkpoint ({'net': ...})")
    state, sizes = convert_state(ckpt['net'], src)
    model = build_model(sizes)
    load_strict(model, state, src)
    return save_converted(model, out, dict(converted_from=osp.basename(src), sizes=sizes,
                                           converter='tools/model_converters/t2m_gpt_vqvae_official.py'))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Convert T2M-GPT's VQ-VAE net_last.pth")
    p.add_argument('src')
    p.add_argument('out')
    args = p.parse_args(argv)
    return run_conversion(convert, args.src, args.out)


if __name__ == '__main__':
    sys.exit(main())
