"""Extract per-frame video features into a resumable cache that training reads (docs/video.md).

Every video (files, or folders searched for .mp4/.avi/.mov/.mkv/.webm) is sampled (N frames
spread uniformly), resized, normalised and encoded frame by frame; the ``(N, D)`` features are
written atomically to ``<cache>/<config_hash>/<sha[:2]>/<sha256 of the video>.npy``. Rerunning the
same command computes only what is missing (an interrupted run resumes); ``--check`` writes nothing
and reports cache hits and misses. A video that cannot be read is reported with its file and the
failing frame, the others are still extracted, and the exit status is 1.

Training reads the cache with ``dict(type='LoadCachedVideoFeatures', cache_dir=..., config_hash=...)``
(the hash is printed below).

Examples:
    # tiny ViT (random weights, CPU) on the shared test videos
    python tools/data/extract_video_features.py ../shared/data/videos --cache-dir work/video_feats \\
        --preset tiny --num-frames 8 --size 64
    python tools/data/extract_video_features.py ../shared/data/videos --cache-dir work/video_feats \\
        --preset tiny --num-frames 8 --size 64 --check
    # any timm backbone with local weights
    python tools/data/extract_video_features.py videos/ --cache-dir feats --backbone resnet50 \\
        --checkpoint resnet50.safetensors --size 224 --device cuda
    # a config file with `encoder = dict(type=..., ...)` and `sampling = dict(num_frames=..., ...)`
    python tools/data/extract_video_features.py videos/ --cache-dir feats --config my_extract.py
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datagen.video_features import (extract_video_features, find_videos,  # noqa: E402
                                              video_sampling_config)
from motionkit.models.encoders.timm_video_encoder import TIMM_VIDEO_PRESETS  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('inputs', nargs='+', help='video files or folders (searched recursively)')
    p.add_argument('--cache-dir', required=True, help='root of the feature cache')
    p.add_argument('--config', default=None,
                   help='Python config with `encoder` and `sampling` dicts (overrides the flags below)')
    p.add_argument('--preset', choices=sorted(TIMM_VIDEO_PRESETS), default=None,
                   help='TimmVideoEncoder size preset (default: tiny unless --backbone)')
    p.add_argument('--backbone', default=None, help='timm backbone name (instead of --preset)')
    p.add_argument('--checkpoint', default=None, help='local backbone weights (.pth / .safetensors)')
    p.add_argument('--pretrained', action='store_true', help="let timm fetch the backbone's weights")
    p.add_argument('--num-frames', type=int, default=8, help='frames sampled per video')
    p.add_argument('--size', type=int, nargs='+', default=[224], help='frame size: S or H W')
    p.add_argument('--mode', choices=['center', 'linspace'], default='center',
                   help="uniform sampling: segment centres (TSN) or round(linspace) (ExpertAF's poses)")
    p.add_argument('--mean', type=float, nargs=3, default=None,
                   help="RGB mean on 0..1 (default: the backbone's, from timm)")
    p.add_argument('--std', type=float, nargs=3, default=None, help="RGB std (default: the backbone's)")
    p.add_argument('--seed', type=int, default=0,
                   help="seed of the encoder's initialisation (part of the cache key)")
    p.add_argument('--device', default='cpu')
    p.add_argument('--backend', choices=['auto', 'decord', 'opencv'], default='auto')
    p.add_argument('--check', action='store_true', help='write nothing; report cache hits / misses')
    p.add_argument('--report', default=None, help='also write the report as JSON here')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def build_config(args) -> tuple:
    """-> (encoder dict, sampling dict)."""
    if args.config:
        from mmengine.config import Config
        cfg = Config.fromfile(args.config)
        if 'encoder' not in cfg or 'sampling' not in cfg:
            raise SystemExit(f'{args.config}: needs `encoder = dict(...)` and `sampling = dict(...)`')
        encoder = cfg['encoder'].to_dict() if hasattr(cfg['encoder'], 'to_dict') else dict(cfg['encoder'])
        return encoder, video_sampling_config(**dict(cfg['sampling']))
    if args.backbone:
        encoder = dict(type='TimmVideoEncoder', backbone=args.backbone, backbone_kwargs={})
    else:
        encoder = dict(type='TimmVideoEncoder', **TIMM_VIDEO_PRESETS[args.preset or 'tiny'])
    if args.checkpoint:
        from motionkit.utils.io import file_sha256
        encoder['checkpoint'] = str(Path(args.checkpoint).resolve())
        encoder['checkpoint_sha256'] = file_sha256(args.checkpoint)  # the weights enter the key
    if args.pretrained:
        encoder['pretrained'] = True
    mean, std = args.mean, args.std
    if mean is None or std is None:
        import timm
        pcfg = timm.create_model(encoder['backbone'], pretrained=False, num_classes=0,
                                 **encoder.get('backbone_kwargs', {})).pretrained_cfg or {}
        mean = mean or list(pcfg.get('mean', (0.485, 0.456, 0.406)))
        std = std or list(pcfg.get('std', (0.229, 0.224, 0.225)))
    size = args.size * 2 if len(args.size) == 1 else args.size
    if len(size) != 2:
        raise SystemExit(f'--size takes S or H W, got {args.size}')
    return encoder, video_sampling_config(args.num_frames, size, args.mode, mean, std)


def main(argv=None) -> int:
    args = parse_args(argv)
    encoder, sampling = build_config(args)
    videos = find_videos(args.inputs)
    if not videos:
        raise SystemExit(f'no video files in {args.inputs}')
    t0 = time.time()
    report = extract_video_features(videos, args.cache_dir, encoder, sampling, seed=args.seed,
                                    device=args.device,
                                    backend=args.backend, check=args.check, progress=not args.quiet)
    report['seconds'] = round(time.time() - t0, 2)
    print(f"config {report['config_hash']} ({report['cache_dir']}): {report['total']} videos, "
          f"{report['hits']} cache hits, {report['written']} written, "
          f"{len(report['missing'])} missing, {len(report['failed'])} failed, {report['seconds']} s")
    for path in report['missing']:
        print(f'missing: {path}')
    for fail in report['failed']:
        print(f"failed: {fail['error']}")  # the reader's message names the file
    if args.report:
        from motionkit.utils.io import atomic_write_text
        atomic_write_text(args.report, json.dumps(report, indent=1) + '\n')
    return 1 if report['failed'] or (args.check and report['missing']) else 0


if __name__ == '__main__':
    sys.exit(main())
