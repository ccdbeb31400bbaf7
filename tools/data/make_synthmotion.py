"""Generate a SynthMotion split in the HumanML3D layout (plus CigTime triplets, ExpertAF pairs,
action labels), deterministic by seed, resumable.

Example:
    python tools/data/make_synthmotion.py --out data/synthmotion --num 2000 --seed 0
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.synthmotion import build_synthmotion  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='output folder (resumes an unfinished build)')
    p.add_argument('--num', type=int, required=True, help='number of motions (all splits)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--num-triplets', type=int, default=None, help='CigTime triplets (default num/2)')
    p.add_argument('--num-feedback', type=int, default=None, help='ExpertAF learner/expert pairs (default num/10)')
    p.add_argument('--class-distribution', choices=['long_tail', 'uniform'], default='long_tail')
    p.add_argument('--imbalance-ratio', type=float, default=20.0, help='head/tail class frequency ratio')
    p.add_argument('--max-events', type=int, default=3, help='events per motion (1..3)')
    p.add_argument('--noise', type=float, default=1.0, help='noise amplitude (degrees)')
    p.add_argument('--root-angular-velocity', choices=['wrapped', 'official'], default='wrapped',
                   help="feature encoding: 'wrapped' (exact through turns past 180 degrees, default) or "
                        "'official' (HumanML3D's process_file); see docs/data.md")
    p.add_argument('--render', action='store_true', help='render learner/expert videos (slow)')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    t0 = time.time()
    out = build_synthmotion(a.out, a.num, a.seed, progress=not a.quiet, num_triplets=a.num_triplets,
                            num_feedback=a.num_feedback, class_distribution=a.class_distribution,
                            imbalance_ratio=a.imbalance_ratio, max_events=a.max_events,
                            noise_amplitude=a.noise, render_feedback=a.render,
                            root_angular_velocity=a.root_angular_velocity)
    print(f'SynthMotion written to {out} in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
