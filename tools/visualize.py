"""Render a motion file or a HumanML3D-format dataset item to GIF / MP4 / PNG (frame grid).

Examples::

    # joints (T, J, 3) or HumanML3D features (T, 263) / KIT features (T, 251), detected by shape
    python tools/visualize.py motion.npy --out motion.gif
    python tools/visualize.py feats.npy --mean Mean.npy --std Std.npy --out motion.mp4
    # a dataset item (HumanML3D layout: new_joints/, new_joint_vecs/, texts/)
    python tools/visualize.py --dataset-dir data/humanml3d --id 012314 --out 012314.gif
    # panels next to each other
    python tools/visualize.py --side-by-side gt.npy pred.npy --titles GT Pred --out cmp.mp4
    # COCO-17 image-plane keypoints (T, 17, 2) or (T, 17, 3) with scores
    python tools/visualize.py kpts.npy --skeleton coco17 --out kpts.gif
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys
import time
from pathlib import Path

import numpy as np

# Let ``python tools/visualize.py`` work from a source checkout without installing.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

# Feature sizes of the registered representations (HumanML3D 263-D for t2m22, KIT 251-D).
FEATURE_REPRESENTATIONS = {263: 'HumanML3DFeatures', 251: 'KITFeatures'}
# Joint counts of the registered skeletons, for `--skeleton` auto-detection.
SKELETON_BY_JOINTS = {22: 't2m22', 21: 'kit21', 24: 'smpl24', 25: 'ntu25', 17: 'coco17'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Render motions to GIF / MP4 / PNG',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('motion', nargs='?', help='.npy file: joints (T, J, 3|2) or features')
    parser.add_argument('--side-by-side', nargs='+', metavar='NPY', help='render panels')
    parser.add_argument('--dataset-dir', help='HumanML3D-format dataset folder')
    parser.add_argument('--id', help='item id in --dataset-dir')
    parser.add_argument('--use-features', action='store_true',
                        help='with --dataset-dir: decode new_joint_vecs/ID.npy even if '
                        'new_joints/ID.npy exists')
    parser.add_argument('--out', required=True, help='output .gif, .mp4, .png or .jpg')
    parser.add_argument('--skeleton', help='skeleton name (default: from the joint count)')
    parser.add_argument('--representation',
                        help='representation of a features file (default: from the size)')
    parser.add_argument('--mean', help='Mean.npy: denormalise features (x * std + mean)')
    parser.add_argument('--std', help='Std.npy (with --mean)')
    parser.add_argument('--title', help='caption (single motion)')
    parser.add_argument('--titles', nargs='+', help='captions (side by side)')
    parser.add_argument('--fps', type=float, default=20.0, help='frame rate of the motion')
    parser.add_argument('--stride', type=int, default=1, help='keep every N-th frame')
    parser.add_argument('--max-frames', type=int, help='keep at most this many frames')
    parser.add_argument('--width', type=int, default=320, help='panel width in pixels')
    parser.add_argument('--height', type=int, default=320, help='panel height in pixels')
    parser.add_argument('--elev', type=float, default=20.0, help='camera elevation (degrees)')
    parser.add_argument('--azim', type=float, default=30.0,
                        help='camera azimuth (degrees; 0 = in front of a person facing +Z)')
    parser.add_argument('--no-trajectory', action='store_true', help="hide the root's path")
    parser.add_argument('--image-plane', action='store_true',
                        help='treat (T, J, 3) as image keypoints (x, y, score), drawn in 2D')
    args = parser.parse_args(argv)
    sources = [bool(args.motion), bool(args.side_by_side), bool(args.dataset_dir)]
    if sum(sources) != 1:
        parser.error('give exactly one of: a motion file, --side-by-side, --dataset-dir')
    if args.dataset_dir and not args.id:
        parser.error('--dataset-dir needs --id')
    if (args.mean is None) != (args.std is None):
        parser.error('--mean and --std go together')
    if args.stride < 1:
        parser.error('--stride must be >= 1')
    return args


def load_motion(path: str | Path, args) -> tuple[np.ndarray, str, bool]:
    """Load a .npy and return (array, skeleton name, is_image_plane).

    Shapes: (T, J, 3) joints; (T, J, 2) image keypoints; (T, 263) / (T, 251) features decoded
    with the registered representation; (T, J*3) flattened joints.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'motion file not found: {path}')
    arr = np.load(path)
    if arr.ndim == 2 and (args.representation or arr.shape[1] in FEATURE_REPRESENTATIONS):
        from motionkit.visualization import features_to_joints
        rep = args.representation or FEATURE_REPRESENTATIONS[arr.shape[1]]
        joints, skel = features_to_joints(arr, rep, args.mean, args.std)
        return joints, args.skeleton or skel, False
    if arr.ndim == 2 and arr.shape[1] % 3 == 0 and arr.shape[1] // 3 in SKELETON_BY_JOINTS:
        arr = arr.reshape(arr.shape[0], -1, 3)
    if arr.ndim != 3 or arr.shape[-1] not in (2, 3):
        raise ValueError(f'{path}: expected joints (T, J, 3), keypoints (T, J, 2) or features '
                         f'(T, 263|251), got shape {arr.shape}')
    skel = args.skeleton or SKELETON_BY_JOINTS.get(arr.shape[1])
    if skel is None:
        raise ValueError(f'{path}: cannot guess the skeleton of {arr.shape[1]} joints; '
                         'pass --skeleton')
    return arr, skel, arr.shape[-1] == 2 or args.image_plane


def load_dataset_item(root: str | Path, item_id: str, args) -> tuple[np.ndarray, str, str]:
    """HumanML3D layout: new_joints/ID.npy (or new_joint_vecs/ID.npy decoded), texts/ID.txt."""
    root = Path(root)
    joints_file = root / 'new_joints' / f'{item_id}.npy'
    feats_file = root / 'new_joint_vecs' / f'{item_id}.npy'
    if joints_file.is_file() and not args.use_features:
        joints, skel, _ = load_motion(joints_file, args)
    elif feats_file.is_file():
        joints, skel, _ = load_motion(feats_file, args)
    else:
        raise FileNotFoundError(f'item {item_id!r}: neither {joints_file} nor {feats_file} exists')
    caption = ''
    text_file = root / 'texts' / f'{item_id}.txt'
    if text_file.is_file():
        lines = text_file.read_text(encoding='utf-8').splitlines()
        # HumanML3D texts: "caption#word/POS ...#start#end" per line
        caption = lines[0].split('#')[0].strip() if lines else ''
    return joints, skel, caption


def main(argv=None) -> int:
    args = parse_args(argv)
    from motionkit.visualization import (render_motion, render_motion_2d, render_side_by_side,
                                         save_video)
    render_kw = dict(width=args.width, height=args.height)
    view_kw = dict(elev=args.elev, azim=args.azim, show_trajectory=not args.no_trajectory)

    def trim(a: np.ndarray) -> np.ndarray:
        a = a[::args.stride]
        return a[:args.max_frames] if args.max_frames else a

    t0 = time.perf_counter()
    if args.side_by_side:
        loaded = [load_motion(p, args) for p in args.side_by_side]
        if any(is_2d for _, _, is_2d in loaded):
            raise ValueError('--side-by-side draws 3D joints only')
        titles = args.titles or [Path(p).stem for p in args.side_by_side]
        if len(titles) != len(loaded):
            raise ValueError(f'{len(loaded)} motions but {len(titles)} --titles')
        frames = render_side_by_side([trim(m) for m, _, _ in loaded], titles,
                                     skeleton=[s for _, s, _ in loaded], **render_kw, **view_kw)
    else:
        if args.dataset_dir:
            joints, skel, caption = load_dataset_item(args.dataset_dir, args.id, args)
            is_2d, title = False, args.title or caption or args.id
        else:
            joints, skel, is_2d = load_motion(args.motion, args)
            title = args.title
        if is_2d:
            frames = render_motion_2d(trim(joints), skeleton=skel, title=title, **render_kw)
        else:
            frames = render_motion(trim(joints), skeleton=skel, title=title, **render_kw,
                                   **view_kw)
    t_render = time.perf_counter() - t0
    out = save_video(frames, args.out, fps=args.fps / args.stride)
    print(f'wrote {out} ({len(frames)} frames {frames.shape[2]}x{frames.shape[1]}, rendered at '
          f'{len(frames) / max(t_render, 1e-9):.1f} frames/s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
