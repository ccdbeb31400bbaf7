"""Video throughput: decord vs a plain OpenCV loop, and cached vs live features per training step.

Usage::

    python benchmarks/bench_video.py [--videos DIR_OR_FILES ...] [--size 64] [--num-frames 8]
        [--batch-size 4] [--steps 5] [--repeats 3] [--device cpu]

Default videos: ``../shared/data/videos`` (MOTIONKIT_SHARED_DATA overrides). Encoder: the tiny
``TimmVideoEncoder`` preset (2-block ViT, random weights); pass ``--preset vit_small`` for a real
backbone size. Measures (best of ``--repeats``):

1. every frame of each video, decoded + resized + normalised + encoded (batches of 32 frames):
   motionkit's pipeline (decord ``get_batch``) vs a plain OpenCV loop (``cap.read`` ->
   ``cvtColor`` -> ``cv2.resize`` -> normalise -> encode); frames/s, decode alone and with encoding;
2. a clip of ``--num-frames`` frames sampled uniformly from each video: decord seeks to them, the
   OpenCV loop reads up to the last one; clips/s;
3. one training step of a ``VisualMapper`` (mlp2x_gelu to a 256-d LLM width) over a batch of
   ``--batch-size`` videos: features read from the cache (``LoadCachedVideoFeatures``) vs
   computed live (sample -> decode -> resize -> normalise -> frozen encoder); ms per step.

Prints one table with the ratios.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402

from motionkit.datagen.video_features import (extract_video_features, find_videos,  # noqa: E402
                                              video_sampling_config)
from motionkit.datasets import probe_video  # noqa: E402
from motionkit.datasets.transforms import (LoadCachedVideoFeatures, LoadVideoFrames,  # noqa: E402
                                           NormalizeFrames, ResizeFrames, UniformSampleFrames)
from motionkit.models.encoders import TIMM_VIDEO_PRESETS  # noqa: E402
from motionkit.models.mappers import VisualMapper  # noqa: E402
from motionkit.registry import MODELS  # noqa: E402


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def opencv_loop(path: str, size: int, mean, std, encoder=None, keep=None, chunk: int = 32):
    """A plain OpenCV reader: every frame up to the last wanted one, resized and normalised."""
    import cv2
    cap = cv2.VideoCapture(path)
    last = max(keep) if keep is not None else int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) - 1
    keep = set(keep) if keep is not None else None
    m = np.asarray(mean, np.float32)
    s = np.asarray(std, np.float32)
    batch, feats = [], []
    for i in range(last + 1):
        ok, frame = cap.read()
        if not ok:
            break
        if keep is not None and i not in keep:
            continue
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
        batch.append(((rgb.astype(np.float32) / 255.0 - m) / s).transpose(2, 0, 1))
        if encoder is not None and len(batch) == chunk:
            feats.append(encoder.encode_frames(torch.from_numpy(np.stack(batch))))
            batch = []
    cap.release()
    if encoder is not None and batch:
        feats.append(encoder.encode_frames(torch.from_numpy(np.stack(batch))))
    return feats


def decord_pipeline(path: str, size: int, mean, std, encoder=None, num_frames=None, chunk: int = 32):
    results = dict(video_path=path)
    steps = ([UniformSampleFrames(num_frames)] if num_frames else []) + [
        LoadVideoFrames(backend='decord'), ResizeFrames(scale=(size, size)), NormalizeFrames(mean, std)]
    for t in steps:
        results = t(results)
    if encoder is not None:
        x = torch.from_numpy(results['frames'])
        return [encoder.encode_frames(x[i:i + chunk]) for i in range(0, len(x), chunk)]
    return results['frames']


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(os.environ.get('MOTIONKIT_SHARED_DATA',
                                  Path(__file__).resolve().parents[2] / 'shared' / 'data')) / 'videos'
    p.add_argument('--videos', nargs='+', default=[str(default)])
    p.add_argument('--preset', default='tiny', choices=sorted(TIMM_VIDEO_PRESETS))
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--num-frames', type=int, default=8)
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--repeats', type=int, default=3)
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    videos = [str(v) for v in find_videos(args.videos)]
    encoder_cfg = dict(type='TimmVideoEncoder', **TIMM_VIDEO_PRESETS[args.preset])
    if args.preset == 'tiny':
        encoder_cfg['backbone_kwargs'] = dict(encoder_cfg['backbone_kwargs'], img_size=args.size)
    torch.manual_seed(0)
    encoder = MODELS.build(dict(encoder_cfg, freeze=True)).eval()
    mean = std = (0.5, 0.5, 0.5)
    rows = []
    print(f'torch threads {torch.get_num_threads()}, encoder {args.preset} ({encoder.out_dim}-d), '
          f'frames resized to {args.size}x{args.size}')
    for path in videos:
        info = probe_video(path)
        name = Path(path).name
        n = info.num_frames
        # warm the page cache and both decoders
        decord_pipeline(path, args.size, mean, std, num_frames=2)
        opencv_loop(path, args.size, mean, std, keep=[0])
        for label, enc in (('decode+resize+norm', None), ('decode+resize+norm+encode', encoder)):
            t_d = best_of(lambda: decord_pipeline(path, args.size, mean, std, enc), args.repeats)
            t_o = best_of(lambda: opencv_loop(path, args.size, mean, std, enc), args.repeats)
            rows.append((f'{name} all {n} frames, {label}', 'frames/s', n / t_d, n / t_o))
        keep = UniformSampleFrames(args.num_frames)(dict(video_path=path))['frame_inds'].tolist()
        t_d = best_of(lambda: decord_pipeline(path, args.size, mean, std, encoder, args.num_frames),
                      args.repeats)
        t_o = best_of(lambda: opencv_loop(path, args.size, mean, std, encoder, keep), args.repeats)
        rows.append((f'{name} {args.num_frames}-frame clip, decode+encode', 'clips/s', 1 / t_d, 1 / t_o))

    # --- cached vs live features per training step
    sampling = video_sampling_config(args.num_frames, (args.size, args.size), 'center', mean, std)
    with tempfile.TemporaryDirectory() as tmp:
        extract_video_features(videos, tmp, encoder_cfg, sampling, seed=0, progress=False)
        cached = LoadCachedVideoFeatures(tmp, encoder_cfg, sampling, seed=0)
        mapper = VisualMapper(encoder.out_dim, 256)
        opt = torch.optim.AdamW(mapper.parameters(), lr=1e-4)
        batch = [videos[i % len(videos)] for i in range(args.batch_size)]

        def step(get_feats):
            with torch.enable_grad():
                feats = torch.stack([get_feats(v) for v in batch])          # (B, N, D)
                loss = mapper(feats).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()

        def live(v):
            frames = decord_pipeline(v, args.size, mean, std, num_frames=args.num_frames)
            return encoder.encode_frames(torch.from_numpy(frames))             # (N, D)

        def from_cache(v):
            return torch.from_numpy(cached(dict(video_path=v))['video_features'])

        assert torch.allclose(live(videos[0]), from_cache(videos[0]), atol=1e-4), \
            'cached features differ from live ones'
        t_c = best_of(lambda: [step(from_cache) for _ in range(args.steps)], args.repeats) / args.steps
        t_l = best_of(lambda: [step(live) for _ in range(args.steps)], args.repeats) / args.steps
    rows.append((f'train step, batch {args.batch_size} x {args.num_frames} frames', 'ms/step',
                 t_c * 1e3, t_l * 1e3))

    w = max(len(r[0]) for r in rows)
    print(f"{'case':<{w}}  {'unit':<9} {'decord|cached':>14} {'opencv|live':>12} {'ratio':>8}")
    for case, unit, a, b in rows:
        ratio = b / a if unit == 'ms/step' else a / b
        print(f'{case:<{w}}  {unit:<9} {a:>14.1f} {b:>12.1f} {ratio:>7.2f}x')
    print('ratio: decord / OpenCV throughput; for the training step, live / cached time (speed-up of '
          'the cache)')


if __name__ == '__main__':
    main()
