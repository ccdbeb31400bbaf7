"""Convert MoMask's residual VQ-VAE (``net_best_fid.tar``, Guo et al. CVPR 2024) into motionkit's
``MotionVQVAE`` with a ``ResidualQuantizer``.

The official file is ``{'vq_model': RVQVAE.state_dict(), 'opt_vq_model', 'scheduler', 'ep',
'total_it'}`` from ``humanml3d_models.zip`` (``prepare/download_models.sh``),
``rvq_nq6_dc512_nc512_noshare_qdp0.2/model/net_best_fid.tar``: the same convolutional
encoder/decoder as T2M-GPT (``models/vq/encdec.py``) and ``quantizer.layers.{q}.codebook``.

    python tools/model_converters/momask_rvq_official.py \\
        checkpoints/t2m/rvq_nq6_dc512_nc512_noshare_qdp0.2/model/net_best_fid.tar \\
        checkpoints/momask_rvq_official_humanml3d.pth
    python tools/test.py configs/vqvae/rvqvae-6q_tcn-512_1xb256-50e_humanml3d.py \\
        checkpoints/momask_rvq_official_humanml3d.pth

The codebooks are copied; MoMask keeps its EMA statistics out of the state dict, so they restart
from the codebooks (``code_sum = codebook``, ``code_count = 1``). A shared-codebook model
(``..._share_...``) is refused: its layers would need ``shared_codebook=True`` and one codebook.
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
    """Official ``vq_model`` state dict -> (motionkit state dict, sizes)."""
    if 'encoder.model.0.weight' not in state:
        raise ConversionError(f'{source}: not a MoMask RVQVAE (no encoder.model.0.weight; first '
                              f'keys {sorted(state)[:6]})')
    layers = sorted({int(k.split('.')[2]) for k in state if k.startswith('quantizer.layers.')})
    if not layers:
        raise ConversionError(f'{source}: no quantizer.layers.*.codebook (a single-codebook VQ: '
                              'use t2m_gpt_vqvae_official.py)')
    if layers != list(range(len(layers))):
        raise ConversionError(f'{source}: quantizer layers {layers} are not 0..{len(layers) - 1}')
    books = [state[f'quantizer.layers.{q}.codebook'] for q in layers]
    if len(books) > 1 and all(b.data_ptr() == books[0].data_ptr() or torch.equal(b, books[0])
                              for b in books[1:]):
        raise ConversionError(f'{source}: all {len(books)} layers hold the same codebook (a '
                              'shared-codebook model); motionkit converts the noshare models')
    sizes = tcn_sizes(state, '')
    rules = t2m_gpt_tcn_rules('', '', sizes['down_t'], sizes['depth'])
    rules += [(f'quantizer.layers.{q}.codebook', f'quantizer.quantizers.{q}.codebook') for q in layers]
    out = rename_keys(state, rules, source)
    for q, book in enumerate(books):
        out[f'quantizer.quantizers.{q}.code_sum'] = book.clone()
        out[f'quantizer.quantizers.{q}.code_count'] = torch.ones(book.shape[0])
        out[f'quantizer.quantizers.{q}.initialized'] = torch.tensor(True)
    sizes.update(codebook_size=books[0].shape[0], num_quantizers=len(books))
    return out, sizes


def build_model(sizes: dict) -> MotionVQVAE:
    return MotionVQVAE(feature_dim=sizes['feature_dim'], width=sizes['width'],
                       code_dim=sizes['code_dim'], down_t=sizes['down_t'], stride_t=2,
                       depth=sizes['depth'], dilation_growth_rate=3,
                       quantizer=dict(type='ResidualQuantizer',
                                      num_quantizers=sizes['num_quantizers'],
                                      codebook_size=sizes['codebook_size'],
                                      code_dim=sizes['code_dim']),
                       representation=None)


def convert(src: str, out: str) -> str:
    ckpt = load_official(src, ('vq_model', ), "MoMask RVQ checkpoint ({'vq_model': ...})")
    state, sizes = convert_state(ckpt['vq_model'], src)
    model = build_model(sizes)
    load_strict(model, state, src)
    return save_converted(model, out, dict(converted_from=osp.basename(src), sizes=sizes,
                                           epoch=int(ckpt.get('ep', -1)),
                                           converter='tools/model_converters/momask_rvq_official.py'))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Convert MoMask's residual VQ-VAE net_best_fid.tar")
    p.add_argument('src')
    p.add_argument('out')
    args = p.parse_args(argv)
    return run_conversion(convert, args.src, args.out)


if __name__ == '__main__':
    sys.exit(main())
