"""Render a motion file or a HumanML3D-format dataset item to GIF / MP4 / PNG (frame grid).

Examples::

    # joints (T, J, 3) or HumanML3D features (T, 263) / KIT features (T, 251), detected by shape
    python tools/visualize.py motion.npy --out motion.gif
    # flattened joints (T, J*3) are drawn only with an explicit skeleton (a (T, 75) array could be
    # ntu25 joints or features of another representation)
    python tools/visualize.py flat.npy --skeleton ntu25 --out flat.gif
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
    parser.add_argument('--skeleton', help='skeleton name (default: from the joint count of (T, J, 3) '
                        'joints; required for flattened (T, J*3) joints)')
    parser.add_argument('--representation',
                        help='representation of a features file (default: from the size)')
    parser.add_argument('--mean', help='Mean.npy: denormalise features (x * std + mean)')
    parser.add_argument('--std', help='Std.npy (with --mean)')
    parser.add_argument('--title', help='caption (single motion)')
    parser.add_argument('--titles', nargs='+', help='captions (side by side)')
    parser.add_argument('--fps', type=float, default=20.0, help='frame rate of the motion')
    parser.add_argument('--stride', type=int, default=1, help='keep every N-th frame')
    parser.add_argument('--max-frames', type=int,
                        help='keep at most this many frames (>= 1; omit for no limit)')
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
    # Every argument is checked here, before anything is loaded or rendered.
    if args.stride < 1:
        parser.error('--stride must be >= 1')
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f'--max-frames must be >= 1 (omit it for no limit), got {args.max_frames}')
    if not args.fps > 0:
        parser.error(f'--fps must be > 0, got {args.fps}')
    if args.width < 16 or args.height < 16:
        parser.error(f'--width and --height must be >= 16 pixels, got {args.width}x{args.height}')
    if Path(args.out).suffix.lower() not in ('.gif', '.mp4', '.png', '.jpg', '.jpeg'):
        parser.error(f'--out {args.out}: use a .gif, .mp4, .png or .jpg file')
    if args.skeleton is not None:
        from motionkit.motion import SKELETON_NAMES
        if args.skeleton not in SKELETON_NAMES:
            parser.error(f'--skeleton {args.skeleton!r}: not a registered skeleton ({", ".join(SKELETON_NAMES)})')
    return args


def check_finite_frames(arr: np.ndarray, path: str | Path) -> None:
    """Raise naming the file and the first frame that holds NaN/inf (the renderer would draw it as
    a skeleton with missing bones, silently)."""
    bad = ~np.isfinite(arr).reshape(arr.shape[0], -1).all(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(f'{path}: frame {first} (of {arr.shape[0]}, shape {arr.shape}) holds NaN/inf values; '
                         f'{int(bad.sum())} frame(s) are not finite')


def load_motion(path: str | Path, args) -> tuple[np.ndarray, str, bool]:
    """Load a .npy and return (array, skeleton name, is_image_plane).

    Shapes: (T, J, 3) joints; (T, J, 2) image keypoints; (T, 263) / (T, 251) features decoded
    with the registered representation (or ``--representation``); (T, J*3) flattened joints only
    with ``--skeleton`` (a 2-D array is otherwise ambiguous).

    Raises:
        ValueError: naming the file: an empty motion, NaN/inf (with the first such frame), an
            ambiguous or unknown shape.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'motion file not found: {path}')
    arr = np.load(path)
    if arr.ndim >= 1 and arr.shape[0] == 0:
        raise ValueError(f'{path}: the motion has no frame (shape {arr.shape})')
    if arr.ndim >= 2:
        check_finite_frames(arr, path)
    if arr.ndim == 2 and (args.representation or (arr.shape[1] in FEATURE_REPRESENTATIONS and not args.skeleton)):
        from motionkit.visualization import features_to_joints
        rep = args.representation or FEATURE_REPRESENTATIONS[arr.shape[1]]
        joints, skel = features_to_joints(arr, rep, args.mean, args.std)
        return joints, args.skeleton or skel, False
    if arr.ndim == 2:
        if not args.skeleton:
            guess = SKELETON_BY_JOINTS.get(arr.shape[1] // 3) if arr.shape[1] % 3 == 0 else None
            raise ValueError(
                f'{path}: shape {arr.shape} is neither joints (T, J, 3) nor features of a known size '
                f'({", ".join(f"{d}: {r}" for d, r in FEATURE_REPRESENTATIONS.items())}); '
                + (f'if it holds flattened {guess} joints pass --skeleton {guess}, if features pass '
                   '--representation NAME' if guess else 'pass --representation NAME for features or '
                   '--skeleton NAME for flattened joints'))
        from motionkit.motion import get_skeleton
        num = get_skeleton(args.skeleton).num_joints
        if arr.shape[1] not in (2 * num, 3 * num):
            raise ValueError(f'{path}: shape {arr.shape} is not flattened {args.skeleton} joints '
                             f'(T, {3 * num}) or keypoints (T, {2 * num})')
        arr = arr.reshape(arr.shape[0], num, -1)
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
    from motionkit.visualization import Skeleton2DRenderer, SkeletonRenderer, iter_side_by_side, save_video
    render_kw = dict(width=args.width, height=args.height)
    view_kw = dict(elev=args.elev, azim=args.azim, show_trajectory=not args.no_trajectory)

    def trim(a: np.ndarray) -> np.ndarray:
        a = a[::args.stride]
        return a[:args.max_frames] if args.max_frames is not None else a

    t0 = time.perf_counter()
    if args.side_by_side:
        loaded = [load_motion(p, args) for p in args.side_by_side]
        if any(is_2d for _, _, is_2d in loaded):
            raise ValueError('--side-by-side draws 3D joints only')
        titles = args.titles or [Path(p).stem for p in args.side_by_side]
        if len(titles) != len(loaded):
            raise ValueError(f'{len(loaded)} motions but {len(titles)} --titles')
        motions = [trim(m) for m, _, _ in loaded]
        num = max(len(m) for m in motions)
        frames = iter_side_by_side(motions, titles, skeleton=[s for _, s, _ in loaded], **render_kw, **view_kw)
        size = (args.width * len(motions), args.height)
    else:
        if args.dataset_dir:
            joints, skel, caption = load_dataset_item(args.dataset_dir, args.id, args)
            is_2d, title = False, args.title or caption or args.id
        else:
            joints, skel, is_2d = load_motion(args.motion, args)
            title = args.title
        joints = trim(joints)
        num = len(joints)
        if is_2d:
            frames = Skeleton2DRenderer(skel, **render_kw).iter_render(joints, title=title)
        else:
            frames = SkeletonRenderer(skel, **render_kw, **view_kw).iter_render(joints, title=title)
        size = (args.width, args.height)
    # Frames go to the writer one at a time as they are rendered (a long motion is not held in memory).
    out = save_video(frames, args.out, fps=args.fps / args.stride, num_frames=num)
    elapsed = time.perf_counter() - t0
    print(f'wrote {out} ({num} frames {size[0]}x{size[1]}, rendered and written at '
          f'{num / max(elapsed, 1e-9):.1f} frames/s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
