"""Edit a motion with a trained MDM-style editor and render before / after side by side.

Examples::

    # regenerate the upper body of a HumanML3D feature file following an instruction
    python tools/edit.py configs/mdm/mdm_tiny_1xb32-2k_synthmotion.py work_dirs/mdm/iter_2000.pth \
        --motion walk.npy --instruction "wave the right hand" --part upper_body \
        --mean data/Mean.npy --std data/Std.npy --out edit.mp4 --save-npy edited.npy
    # temporal in-betweening: keep the first and last 25% of the frames
    python tools/edit.py CONFIG CKPT --motion m.npy --instruction "jump" --part inbetween --out ib.gif
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

import numpy as np

# Let ``python tools/edit.py`` work from a source checkout without installing.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Edit a motion (.npy features or joints) with an instruction and a body part',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config', help='editor config (e.g. configs/mdm/...)')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (.pth / .safetensors)')
    parser.add_argument('--motion', required=True, help='.npy: raw features (T, D) or joints '
                        '(T, J, 3)')
    parser.add_argument('--instruction', required=True, help='text the edit follows')
    parser.add_argument('--part', default='upper_body',
                        help="body part to regenerate: upper_body, lower_body, left_arm, a joint "
                        "name, several joined by ',', 'inbetween' or 'all'")
    parser.add_argument('--prefix', type=float, default=0.25,
                        help="kept leading frames for 'inbetween' (< 1: fraction)")
    parser.add_argument('--suffix', type=float, default=0.25,
                        help="kept trailing frames for 'inbetween' (< 1: fraction)")
    parser.add_argument('--mean', help='Mean.npy the model was trained with')
    parser.add_argument('--std', help='Std.npy the model was trained with')
    parser.add_argument('--steps', type=int, help='reverse steps (default: the model\'s, 50)')
    parser.add_argument('--guidance', type=float, help='classifier-free guidance scale')
    parser.add_argument('--inpaint', action='store_true',
                        help='also replace the kept features of x_t with the noised source')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', default='edit.mp4', help='.mp4, .gif or .png (frame grid)')
    parser.add_argument('--save-npy', help='also write the edited raw features here')
    return parser.parse_args(argv)


def _frames(value: float):
    return float(value) if value < 1 else int(value)


def main(argv=None) -> int:
    args = parse_args(argv)
    from motionkit.apis import MotionEditorInferencer
    if args.checkpoint is None:
        print('warning: no checkpoint given, editing with untrained weights', file=sys.stderr)
    editor = MotionEditorInferencer(args.config, args.checkpoint, mean=args.mean, std=args.std,
                                    device=args.device)
    part = args.part
    if part == 'all':
        part = None
    elif part != 'inbetween' and ',' in part:
        part = [p.strip() for p in part.split(',') if p.strip()]
    result = editor(args.motion, args.instruction, part=part, prefix_frames=_frames(args.prefix),
                    suffix_frames=_frames(args.suffix), inpaint=args.inpaint,
                    num_inference_steps=args.steps, guidance_scale=args.guidance, seed=args.seed,
                    out_file=args.out)
    if args.save_npy:
        np.save(args.save_npy, result['edited'])
        print(f'edited features: {args.save_npy}')
    print(f'side-by-side render: {result["out_file"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
