"""Build the CMU+Bandai real text-motion dataset (HumanML3D format) from BVH mocap.

Example::

    python tools/data/import_bvh.py --cmu ../shared/data/cmu_mocap \
        --bandai ../shared/data/bandai_namco_motion_samples --out data/cmu_bandai \
        --fps-override bvh_other/16_01.bvh=120 --fps-override bvh_other/16_02.bvh=120

Re-running the same command resumes: motions already written are skipped.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datasets.importers import build_cmu_bandai  # noqa: E402


def parse_fps_override(text: str) -> tuple[str, float]:
    if '=' not in text:
        raise argparse.ArgumentTypeError(f'--fps-override expects FILE=FPS, got {text!r}')
    name, value = text.rsplit('=', 1)
    try:
        fps = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'--fps-override {text!r}: {value!r} is not a number') from None
    if not fps > 0:
        raise argparse.ArgumentTypeError(f'--fps-override {text!r}: the frame rate must be > 0')
    return name, fps


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cmu', help='cmu_mocap folder (with index.tsv)')
    parser.add_argument('--bandai', help='bandai_namco_motion_samples folder (with labels.tsv)')
    parser.add_argument('--out', required=True, help='output dataset folder')
    parser.add_argument('--fps-override', action='append', default=[], type=parse_fps_override,
                        metavar='FILE=FPS', help='frame rate to use instead of the BVH header for FILE '
                        '(a path suffix such as bvh_other/16_01.bvh); may be repeated')
    parser.add_argument('--fps', type=float, default=20.0, help='output frame rate (default 20)')
    parser.add_argument('--min-frames', type=int, default=40, help='shortest motion kept (default 40)')
    parser.add_argument('--max-frames', type=int, default=196, help='longest window (default 196)')
    parser.add_argument('--root-angular-velocity', choices=['wrapped', 'official'], default='wrapped',
                        help="feature encoding: 'wrapped' (exact through turns past 180 degrees, default) or "
                             "'official' (HumanML3D's process_file, whose decoded motion drifts after such a "
                             "turn); recorded in manifest.jsonl, see docs/data.md")
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    args = parser.parse_args(argv)
    if not args.cmu and not args.bandai:
        parser.error('give --cmu and/or --bandai')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    summary = build_cmu_bandai(args.out, cmu_root=args.cmu, bandai_root=args.bandai,
                               fps_overrides=dict(args.fps_override), fps=args.fps, min_frames=args.min_frames,
                               max_frames=args.max_frames, progress=not args.no_progress,
                               root_angular_velocity=args.root_angular_velocity)
    print(json.dumps({'written': len(summary['written']), 'resumed': len(summary['resumed']),
                      'too_short': [s['source'] for s in summary['too_short']],
                      'fps_warnings': len(summary['fps_warnings']), 'splits': summary['splits']}, indent=1))
    return summary


if __name__ == '__main__':
    main()
