"""CoAMD sampling time per motion: unguided vs recognizer-guided (every step, once at the end).

Usage::

    python benchmarks/bench_coamd_sampling.py [--config CONFIG] [--checkpoint CKPT]
        [--recognizer MAR_CONFIG.py --recognizer-checkpoint MAR_CKPT]
        [--motions 16] [--frames 120] [--ar-steps 12] [--ode-steps 16] [--repeats 3]
        [--threads 1] [--device cpu] [--json OUT]

The generator is built from ``--config`` (default: the tiny SynthMotion preset) with its weights
from ``--checkpoint`` or, without one, as initialised (sampling time does not depend on training).
Recognizer guidance (eq. 6-8) decodes the latents with the autoencoder, scores them with the
recognizer and backpropagates to the tokens at every autoregressive step, so its cost grows with
the recognizer's: give the MAR's config and checkpoint to time the real thing. Without
``--recognizer`` a stand-in is used (per-stream MLPs over the frames of the joint / bone / motion
streams, mean-pooled, 64-d; about the forward cost of a tiny recognizer) and the table says so.

Reported: seconds per motion (best of ``--repeats`` round-robin runs, batches of ``--motions`` captions of
``--frames`` frames) for unguided sampling, guidance at every autoregressive step and guidance
once at the end, and the guided / unguided ratios.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from motionkit.motion.skeletons import get_skeleton  # noqa: E402

DEFAULT_CONFIG = 'projects/coamd/configs/coamd_tiny_1xb32-2k_synthmotion.py'


class StandInRecognizer(nn.Module):
    """A differentiable recognizer of tiny-MAR cost for timing only (random weights)."""

    embedding_names = ('joint', 'bone', 'motion', 'fused')

    def __init__(self, dim: int = 64, skeleton: str = 't2m22') -> None:
        super().__init__()
        sk = get_skeleton(skeleton)
        self.parents = [max(p, 0) for p in sk.parents]
        coords = 3 * sk.num_joints
        self.mlp = nn.ModuleDict({k: nn.Sequential(nn.Linear(coords, 4 * dim), nn.GELU(),
                                                   nn.Linear(4 * dim, 4 * dim), nn.GELU(),
                                                   nn.Linear(4 * dim, dim))
                                  for k in ('joint', 'bone', 'motion')})
        self.fuse = nn.Linear(3 * dim, dim)
        self.text = nn.Embedding(1024, dim)

    def encode_text(self, texts):
        ids = torch.tensor([zlib.crc32(t.encode()) % 1024 for t in texts],
                           device=self.text.weight.device)
        return nn.functional.normalize(self.text(ids), dim=-1)

    def score(self, joints, texts_or_text_emb, weights=None, lengths=None):
        streams = dict(joint=joints, bone=joints - joints[:, :, self.parents],
                       motion=torch.cat([joints[:, 1:] - joints[:, :-1],
                                         torch.zeros_like(joints[:, :1])], 1))
        t = torch.arange(joints.shape[1], device=joints.device)[None]
        m = (t < lengths[:, None]).to(joints.dtype)[..., None]
        emb = {k: (self.mlp[k](v.flatten(2)) * m).sum(1) / m.sum(1) for k, v in streams.items()}
        emb['fused'] = self.fuse(torch.cat([emb['joint'], emb['bone'], emb['motion']], -1))
        c = texts_or_text_emb
        w = weights or dict(fused=0.7, joint=0.1, bone=0.1, motion=0.1)
        return sum(wk * nn.functional.cosine_similarity(emb[k], c, dim=-1) for k, wk in w.items())


def build(args):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from motionkit.registry import MODELS
    init_default_scope('motionkit')
    cfg = Config.fromfile(args.config).model.to_dict()
    cfg['tokenizer_checkpoint'] = None  # the generator checkpoint holds the autoencoder too
    cfg['num_ar_steps'] = args.ar_steps
    cfg['num_inference_steps'] = args.ode_steps
    cfg['guidance_gamma'] = 0.5
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    if args.checkpoint:
        from mmengine.runner import load_checkpoint
        from motionkit.utils.checkpoint import install_safe_checkpoint_loader
        install_safe_checkpoint_loader()
        load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True, logger='silent')
    if args.recognizer:
        model.set_recognizer(args.recognizer, args.recognizer_checkpoint)
        name = Path(args.recognizer).name
    else:
        model.set_recognizer(StandInRecognizer())
        name = 'stand-in (per-stream MLPs, 64-d)'
    return model.to(args.device).eval(), name


def time_one(model, texts, lengths, seed: int, **kw) -> float:
    g = torch.Generator(device=model.device).manual_seed(seed)
    if model.device.type == 'cuda':
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    model.sample(texts, lengths, generator=g, **kw)
    if model.device.type == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--checkpoint')
    p.add_argument('--recognizer', help='the MAR config (.py); default: a stand-in')
    p.add_argument('--recognizer-checkpoint')
    p.add_argument('--motions', type=int, default=16)
    p.add_argument('--frames', type=int, default=120)
    p.add_argument('--ar-steps', type=int, default=12)
    p.add_argument('--ode-steps', type=int, default=16)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--json', help='also write the results here')
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, rec_name = build(args)
    texts = [f'a person performs action number {k}' for k in range(args.motions)]
    lengths = [args.frames] * args.motions
    model.sample(texts, lengths, guided=True)  # warm-up (lazy builds, allocator)
    rows = {
        'unguided': dict(guided=False),
        'guided, every step': dict(guided=True, guidance_mode='every_step'),
        'guided, once at end': dict(guided=True, guidance_mode='once_at_end'),
    }
    # round robin over the variants, best of the repeats: drifts of a shared machine hit all alike
    seconds = {name: float('inf') for name in rows}
    for r in range(args.repeats):
        for name, kw in rows.items():
            seconds[name] = min(seconds[name], time_one(model, texts, lengths, r, **kw) / len(texts))
    base = seconds['unguided']
    print(f'CoAMD sampling, {Path(args.config).name}: {args.motions} motions x {args.frames} '
          f'frames, {args.ar_steps} autoregressive steps x {args.ode_steps} ODE steps '
          f'({model.noise_scheduler.solver}), CFG {model.guidance_scale}; recognizer: {rec_name}; '
          f'{args.device}, {args.threads} thread(s)')
    print(f'{"sampling":<22} {"ms / motion":>12} {"x unguided":>11}')
    for name, s in seconds.items():
        print(f'{name:<22} {1000 * s:>12.1f} {s / base:>10.2f}x')
    if args.json:
        Path(args.json).write_text(json.dumps(dict(config=vars(args), recognizer=rec_name,
                                                   seconds_per_motion=seconds), indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
