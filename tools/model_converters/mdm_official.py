"""Convert an official MDM checkpoint (``model000xxxxxx.pt``, Tevet et al. 2023) into motionkit's
``MDM``.

Supported: ``arch='trans_enc'``, ``data_rep='hml_vec'`` (HumanML3D 263-D / KIT 251-D), text
conditioning through CLIP (``cond_mode='text'``), e.g. ``humanml_trans_enc_512/model000475000.pt``.
The file is a state dict without the frozen CLIP weights, or ``{'model', 'model_avg'}`` when it was
trained with EMA (``--use-avg`` takes the average). CLIP itself is not in the file: motionkit's
config loads ``openai/clip-vit-base-patch32`` through transformers (``HFTextEncoder``).

    python tools/model_converters/mdm_official.py save/humanml_trans_enc_512/model000475000.pt \\
        checkpoints/mdm_trans-enc-512_official_humanml3d.pth
    python tools/test.py configs/mdm/mdm-official_trans-enc-512_humanml3d.py \\
        checkpoints/mdm_trans-enc-512_official_humanml3d.pth

Keys: ``input_process.poseEmbedding`` -> ``input_process``, ``output_process.poseFinal`` ->
``output_process``, ``embed_timestep.time_embed`` -> ``time_embed``, ``seqTransEncoder`` ->
``transformer``, ``embed_text`` unchanged. The sinusoidal tables (``sequence_pos_encoder.pe``, also
under ``embed_timestep.``) are recomputed by motionkit; the converter checks they agree.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from motionkit.hub.converters import (ConversionError, load_official, load_strict, rename_keys,  # noqa: E402
                                      run_conversion, save_converted)
from motionkit.models.editors.mdm import MDM, timestep_embedding  # noqa: E402

RULES = [('input_process.poseEmbedding.', 'input_process.'),
         ('output_process.poseFinal.', 'output_process.'),
         ('embed_timestep.time_embed.', 'time_embed.'),
         ('seqTransEncoder.', 'transformer.'),
         ('embed_text.', 'embed_text.')]
PE_KEYS = ('sequence_pos_encoder.pe', 'embed_timestep.sequence_pos_encoder.pe')


def official_state(path: str, use_avg: bool = False) -> dict:
    """The MDM state dict inside an official file (plain, or ``{'model', 'model_avg'}``)."""
    ckpt = load_official(path, (), 'MDM checkpoint (model000xxxxxx.pt)')
    if 'model' in ckpt and isinstance(ckpt['model'], dict):
        ckpt = ckpt['model_avg'] if use_avg and 'model_avg' in ckpt else ckpt['model']
    if 'seqTransEncoder.layers.0.self_attn.in_proj_weight' not in ckpt:
        hint = ('a trans_dec/GRU MDM' if any(k.startswith(('seqTransDecoder.', 'gru.')) for k in ckpt)
                else 'a checkpoint of another model')
        raise ConversionError(f'{path}: not a trans_enc MDM checkpoint (no seqTransEncoder '
                              f'weights; {hint}? first keys: {sorted(ckpt)[:8]})')
    if any(k.startswith('embed_action.') for k in ckpt):
        raise ConversionError(f'{path}: an action-conditioned MDM (embed_action.*); motionkit '
                              'converts the text-conditioned models')
    return ckpt


def mdm_sizes(state: dict) -> dict:
    layers = {int(k.split('.')[2]) for k in state if k.startswith('seqTransEncoder.layers.')}
    latent_dim, feature_dim = state['input_process.poseEmbedding.weight'].shape
    return dict(feature_dim=feature_dim, latent_dim=latent_dim,
                ff_size=state['seqTransEncoder.layers.0.linear1.weight'].shape[0],
                num_layers=len(layers), text_dim=state['embed_text.weight'].shape[1])


def convert_state(state: dict, source: str) -> dict:
    """Official keys -> motionkit keys (the positional tables are checked, then dropped)."""
    state = dict(state)
    for key in PE_KEYS:
        pe = state.pop(key, None)
        if pe is None:
            continue
        table = pe.reshape(pe.shape[0], -1)
        ours = timestep_embedding(torch.arange(table.shape[0]), table.shape[1])
        diff = (table.float() - ours).abs().max().item()
        if diff > 1e-3:
            raise ConversionError(f'{source}: {key} differs from the sinusoidal table motionkit '
                                  f'computes (max abs diff {diff:.3g})')
    return rename_keys(state, RULES, source)


def convert(src: str, out: str, use_avg: bool = False, model: MDM = None) -> str:
    """Convert ``src`` into ``out``; ``model`` (an ``MDM`` of matching size) is filled and saved."""
    state = official_state(src, use_avg)
    args_json = osp.join(osp.dirname(src), 'args.json')
    args = {}
    if osp.isfile(args_json):
        with open(args_json) as f:
            args = json.load(f)
        for key, want in (('arch', 'trans_enc'), ('data_rep', 'hml_vec')):
            if args.get(key, want) != want:
                raise ConversionError(f'{args_json}: {key}={args[key]!r}; motionkit converts '
                                      f'{key}={want!r} models')
        print(f'{args_json}: diffusion_steps={args.get("diffusion_steps")}, noise_schedule='
              f'{args.get("noise_schedule")}, guidance_param={args.get("guidance_param")}, '
              f'cond_mask_prob={args.get("cond_mask_prob")}, mask_frames='
              f'{args.get("mask_frames", False)}: set the config to match')
    converted = convert_state(state, src)
    sizes = mdm_sizes(state)
    if model is None:
        model = MDM(feature_dim=sizes['feature_dim'], latent_dim=sizes['latent_dim'],
                    ff_size=sizes['ff_size'], num_layers=sizes['num_layers'],
                    num_heads=int(args.get('num_heads', 4)),
                    text_encoder=dict(type='HFTextEncoder', model_path='openai/clip-vit-base-patch32',
                                      embed_dim=sizes['text_dim'], pooling='clip', max_length=22),
                    representation=None)
    load_strict(model, converted, src)
    meta = dict(converted_from=osp.basename(src), sizes=sizes,
                converter='tools/model_converters/mdm_official.py',
                official_args={k: args[k] for k in ('diffusion_steps', 'noise_schedule',
                                                    'cond_mask_prob', 'mask_frames')
                               if k in args and isinstance(args[k], (int, float, str, bool))})
    return save_converted(model, out, meta)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description='Convert an official MDM model000xxxxxx.pt')
    p.add_argument('src', help='official model000xxxxxx.pt')
    p.add_argument('out', help='motionkit checkpoint to write')
    p.add_argument('--use-avg', action='store_true', help="take 'model_avg' (EMA) when present")
    args = p.parse_args(argv)
    return run_conversion(convert, args.src, args.out, args.use_avg)


if __name__ == '__main__':
    sys.exit(main())
