"""Linear probe of a frozen recognizer's motion embeddings (CoAMD sec. 4.2), with the raw joint
coordinates as the baseline.

Examples::

    # raw-coordinate baseline on the real Bandai Namco clips (leave-one-out) and on SynthMotion
    python tools/analysis_tools/linear_probe.py --bandai ../shared/data/bandai_namco_motion_samples \
        --synthmotion 1200 --out work_dirs/probe/raw.json

    # a trained MAR (its encode_motion(joints)['fused'] embedding) against the baseline, plus NTU-60
    python tools/analysis_tools/linear_probe.py --config CONFIG.py --checkpoint iter_N.pth \
        --bandai ../shared/data/bandai_namco_motion_samples \
        --ntu data/nturgb+d_skeletons --ntu-benchmarks ntu60_xsub ntu60_xview \
        --ntu-exclude ../shared/data/ntu_skeleton_samples/NTU_RGBD_samples_with_missing_skeletons.txt \
        --out work_dirs/probe/mar.json

The classifier is multinomial logistic regression (L-BFGS, L2 penalty, ``--C`` = inverse strength,
default 1) on standardised features; only it is trained. Prints a Markdown table and writes the
results as JSON (atomically) with ``--out``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from motionkit.datagen.linear_probe import (PROBE_MAX_FRAMES, bandai_probe_set,  # noqa: E402
                                            format_probe_table, load_frozen_recognizer, ntu_probe_set,
                                            recognizer_encoder, run_probe, synthmotion_probe_set)
from motionkit.datasets.importers.ntu import NTU_BENCHMARKS  # noqa: E402
from motionkit.utils.io import atomic_write_text  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Linear probe of frozen motion features (CoAMD sec. 4.2)')
    parser.add_argument('--config', help='recognizer config (its model must have encode_motion)')
    parser.add_argument('--checkpoint', help='recognizer checkpoint (.pth); required with --config')
    parser.add_argument('--embedding-key', default='fused',
                        help="key of encode_motion's output dict used as the embedding (default: fused)")
    parser.add_argument('--non-strict', action='store_true',
                        help='accept a checkpoint that lacks some model weights (they keep their built values)')
    parser.add_argument('--no-raw', action='store_true', help='skip the raw-coordinate baseline')
    parser.add_argument('--bandai', metavar='DIR', help='bandai_namco_motion_samples folder (leave-one-out)')
    parser.add_argument('--bandai-min-clips', type=int, default=2, help='content classes with at least N clips')
    parser.add_argument('--synthmotion', type=int, metavar='N', help='SynthMotion build size (train -> test)')
    parser.add_argument('--synthmotion-seed', type=int, default=0)
    parser.add_argument('--synthmotion-root', help='a finished SynthMotion build to read instead of generating')
    parser.add_argument('--synthmotion-cache', help='cache folder of generated builds')
    parser.add_argument('--ntu', metavar='DIR', help='folder of NTU .skeleton files (or import_ntu.py .npz)')
    parser.add_argument('--ntu-benchmarks', nargs='+', default=['ntu60_xsub', 'ntu60_xview'],
                        choices=NTU_BENCHMARKS)
    parser.add_argument('--ntu-exclude', help="NTU's samples_with_missing_skeletons.txt (samples left out)")
    parser.add_argument('--ntu-max-per-split', type=int, help='evenly spaced subset of each split (quick runs)')
    parser.add_argument('--num-frames', type=int, default=64, help='frames of the raw features (default 64)')
    parser.add_argument('--center', choices=['frame', 'first'], default='frame',
                        help="raw features: subtract every frame's root ('frame') or frame 0's root ('first')")
    parser.add_argument('--max-frames', type=int, default=PROBE_MAX_FRAMES,
                        help=f'centre-crop longer clips to this many frames (default {PROBE_MAX_FRAMES})')
    parser.add_argument('--C', type=float, default=1.0, help='inverse L2 strength of the logistic regression')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if (args.config is None) != (args.checkpoint is None):
        parser.error('give --config and --checkpoint together')
    if args.config is None and args.no_raw:
        parser.error('--no-raw without --config leaves nothing to probe')
    if not (args.bandai or args.synthmotion or args.synthmotion_root or args.ntu):
        parser.error('choose at least one probe set: --bandai, --synthmotion / --synthmotion-root, --ntu')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    probe_sets = []
    if args.bandai:
        probe_sets.append(bandai_probe_set(args.bandai, min_clips=args.bandai_min_clips,
                                           max_frames=args.max_frames))
    if args.synthmotion or args.synthmotion_root:
        probe_sets.append(synthmotion_probe_set(args.synthmotion or 0, args.synthmotion_seed,
                                                cache_dir=args.synthmotion_cache, data_root=args.synthmotion_root,
                                                max_frames=args.max_frames))
    if args.ntu:
        for bench in args.ntu_benchmarks:
            probe_sets.append(ntu_probe_set(args.ntu, bench, exclude_file=args.ntu_exclude,
                                            max_per_split=args.ntu_max_per_split, max_frames=args.max_frames,
                                            progress=not args.no_progress))
    extractors = []
    if not args.no_raw:
        extractors.append((f'raw joints ({args.num_frames} frames, centre={args.center})', 'raw'))
    if args.config:
        model = load_frozen_recognizer(args.config, args.checkpoint, args.device, strict=not args.non_strict)
        extractors.append((f'{type(model).__name__}[{args.embedding_key}]',
                           recognizer_encoder(model, args.embedding_key)))
    rows = []
    for ps in probe_sets:
        for name, feats in extractors:
            start = time.time()
            row = run_probe(ps, feats, num_frames=args.num_frames, center=args.center, C=args.C,
                            batch_size=args.batch_size)
            row.update(features=name, seconds=round(time.time() - start, 2))
            rows.append(row)
    print(format_probe_table(rows))
    results = dict(rows=rows, settings=dict(config=args.config, checkpoint=args.checkpoint,
                                            embedding_key=args.embedding_key, num_frames=args.num_frames,
                                            center=args.center, max_frames=args.max_frames, C=args.C,
                                            classifier='multinomial logistic regression (sklearn, lbfgs, L2) '
                                                       'on train-standardised features'))
    if args.out:
        atomic_write_text(args.out, json.dumps(results, indent=1))
        print(f'results -> {args.out}')
    return results


if __name__ == '__main__':
    main()
