"""Reconstruction errors of a trained motion tokenizer on a HumanML3D-layout folder.

Example (the tiny SynthMotion VQ-VAE on the real CMU+Bandai set)::

    python tools/analysis_tools/eval_tokenizer_on_dataset.py \
        configs/vqvae/vqvae_tiny_1xb32-2k_synthmotion.py work_dirs/vqvae_tiny/iter_2000.pth \
        /tmp/cmu_bandai --split all.txt

Motions are normalised with the statistics the tokenizer was TRAINED with (from the checkpoint's
``dataset_meta``, else from the config's training dataset; ``--mean`` / ``--std`` override), not
with the evaluated folder's own. Prints a Markdown table: MPJPE (global), root-relative MPJPE,
PA-MPJPE (mm), codebook perplexity and usage (see ``motionkit/datagen/tokenizer_eval.py``). The
checkpoint is loaded with ``weights_only=True`` (``motionkit.utils.safe_load``).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from motionkit.datagen.tokenize import load_motion_tokenizer  # noqa: E402
from motionkit.datagen.tokenizer_eval import (evaluate_motion_tokenizer,  # noqa: E402
                                              format_tokenizer_table,
                                              tokenizer_training_statistics)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a motion tokenizer (VQ-VAE) on a '
                                     'HumanML3D-layout folder')
    parser.add_argument('config', help='config of the tokenizer model')
    parser.add_argument('checkpoint', help='trained checkpoint (.pth / .safetensors)')
    parser.add_argument('data_root', help='dataset folder with new_joint_vecs/')
    parser.add_argument('--split', default='test.txt',
                        help='split file relative to data_root (test.txt, all.txt, ...)')
    parser.add_argument('--mean', default=None, help='Mean.npy the tokenizer was trained with '
                        '(default: from the checkpoint meta / the config)')
    parser.add_argument('--std', default=None, help='Std.npy the tokenizer was trained with')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--max-frames', type=int, default=None,
                        help='use only the first N frames of each motion')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--title', default=None, help='name of the data in the table')
    parser.add_argument('--out', default=None, help='also write the results as JSON here')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if (args.mean is None) != (args.std is None):
        raise SystemExit('give both --mean and --std, or neither')
    model = load_motion_tokenizer(args.config, args.checkpoint, args.device)
    if args.mean is not None:
        mean, std, source = args.mean, args.std, 'command line'
    else:
        from motionkit.utils import safe_load
        meta = safe_load(args.checkpoint).get('meta') or {}
        mean, std, source = tokenizer_training_statistics(args.config, meta)
    print(f'normalisation statistics ({source}): {mean}, {std}')
    results = evaluate_motion_tokenizer(model, args.data_root, mean, std, split=args.split,
                                        batch_size=args.batch_size, max_frames=args.max_frames,
                                        progress=not args.no_progress)
    results['statistics'] = dict(mean_path=mean, std_path=std, source=source)
    print(format_tokenizer_table(results, args.title))
    if results['skipped']:
        print(f'({results["skipped"]} motions shorter than one token were skipped)')
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2), encoding='utf-8')
    return results


if __name__ == '__main__':
    main()
