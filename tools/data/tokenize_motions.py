"""Pre-tokenise a HumanML3D-layout dataset with a trained motion tokenizer.

Example::

    python tools/data/tokenize_motions.py configs/vqvae/vqvae_tcn-512_1xb256-300k_humanml3d.py \
        work_dirs/vqvae/best.pth data/humanml3d --out data/humanml3d_tokens --split all.txt

Writes ``tokens/<id>.npy`` (int16), ``manifest.jsonl`` and ``meta.json`` (see
``motionkit/datagen/tokenize.py``); rerunning the same command resumes an interrupted run.
The checkpoint is loaded with ``weights_only=True`` (``motionkit.utils.safe_load``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from motionkit.datagen.tokenize import (checkpoint_provenance, load_motion_tokenizer,  # noqa: E402
                                        tokenize_motion_folder)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Tokenise motions of a HumanML3D-layout folder')
    parser.add_argument('config', help='config of the tokenizer model')
    parser.add_argument('checkpoint', help='trained checkpoint (.pth / .safetensors)')
    parser.add_argument('data_root', help='dataset folder with new_joint_vecs/')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--split', default=None,
                        help='split file (relative to data_root) with the ids; default: every '
                        '.npy in new_joint_vecs/')
    parser.add_argument('--mean', default=None, help='Mean.npy used in training '
                        '(default: data_root/Mean.npy)')
    parser.add_argument('--std', default=None, help='Std.npy used in training '
                        '(default: data_root/Std.npy)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    model = load_motion_tokenizer(args.config, args.checkpoint, args.device)
    summary = tokenize_motion_folder(
        model, args.data_root, args.out, mean_path=args.mean, std_path=args.std,
        split=args.split, batch_size=args.batch_size,
        provenance=checkpoint_provenance(args.config, args.checkpoint),
        progress=not args.no_progress)
    print(f'tokenised {summary["written"]} motions, skipped {summary["skipped"]}, '
          f'{summary["already_done"]} already done, of {summary["total"]} -> {summary["out_dir"]}')
    return summary


if __name__ == '__main__':
    main()
