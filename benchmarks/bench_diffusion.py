"""DDIM with few steps vs DDPM with more: sampling time and fidelity of the same MDM weights.

Usage::

    python benchmarks/bench_diffusion.py [--iters 1500] [--motions 8] [--frames 32]
        [--ddim-steps 10] [--ddpm-steps 50] [--threads 1] [--seed 0]

A tiny MDM (2 layers, d=64, LearnedTextEncoder) is trained from scratch for ``--iters`` steps on
a fixed toy set of ``--motions`` smooth 263-D feature sequences, each with its own caption
("motion number k"). Then every caption is sampled with DDIM (eta 0, ``--ddim-steps``) and with
DDPM (``--ddpm-steps``, respaced posterior sampling, and the full 1000-step chain) by swapping the
noise schedule object; guidance 1 (conditional). Reported: wall time per batch, the DDPM / DDIM
time ratio, and the MSE of each sample to the training motion of its caption (normalised units;
the toy data has unit variance, so an unconditional guess of 0 scores ~1). The untrained model's
MSE is reported as the reference.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from motionkit.registry import MODELS  # noqa: E402
import motionkit.models  # noqa: E402,F401


def toy_set(num: int, frames: int, dim: int = 263, seed: int = 0) -> torch.Tensor:
    """``(num, frames, dim)`` smooth sequences with unit variance per feature."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, frames)[None, :, None]
    freq = 0.5 + 2.0 * torch.rand(num, 1, dim, generator=g)
    phase = 2 * math.pi * torch.rand(num, 1, dim, generator=g)
    return math.sqrt(2) * torch.sin(2 * math.pi * freq * t + phase)


def build(seed: int):
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='MDM', feature_dim=263, latent_dim=64, ff_size=128, num_layers=2, num_heads=4,
        dropout=0.0, text_encoder=dict(type='LearnedTextEncoder', embed_dim=64, word_dim=32,
                                       num_layers=0, num_buckets=1024),
        cond_mask_prob=0.1, noise_scheduler=dict(type='DDIMScheduler', prediction_type='x0')))


def train(model, data, texts, iters: int, lr: float = 2e-3) -> list:
    from motionkit.structures import MotionDataSample
    samples = []
    for text in texts:
        s = MotionDataSample(metainfo=dict(length=data.shape[1]))
        s.gt_text = text
        samples.append(s)
    inputs = dict(motion=data, mask=torch.ones(data.shape[:2], dtype=torch.bool),
                  lengths=torch.full((len(data), ), data.shape[1]))
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iters, eta_min=lr * 0.05)
    model.train()
    log = []
    for i in range(iters):
        loss = model(inputs, samples, mode='loss')['loss_mse']
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if i % max(1, iters // 5) == 0 or i == iters - 1:
            log.append((i, round(loss.item(), 4)))
    model.eval()
    return log


def evaluate(model, data, texts, sampler: dict, steps: int, repeats: int, seed: int) -> dict:
    model.set_noise_scheduler(sampler)
    lengths = [data.shape[1]] * len(data)
    times, mses = [], []
    for r in range(repeats):
        g = torch.Generator().manual_seed(seed + r)
        t0 = time.perf_counter()
        out = model.sample(texts, lengths, guidance_scale=1.0, num_inference_steps=steps,
                           generator=g)
        times.append(time.perf_counter() - t0)
        mses.append((out - data).pow(2).mean().item())
    return dict(seconds=min(times), mse=sum(mses) / len(mses))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--iters', type=int, default=1500)
    p.add_argument('--motions', type=int, default=8)
    p.add_argument('--frames', type=int, default=32)
    p.add_argument('--ddim-steps', type=int, default=10)
    p.add_argument('--ddpm-steps', type=int, default=50)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', help='also write the results here')
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = toy_set(args.motions, args.frames, seed=args.seed)
    texts = [f'motion number {k}' for k in range(args.motions)]
    samplers = {
        f'DDIM-{args.ddim_steps}': (dict(type='DDIMScheduler', prediction_type='x0', eta=0.0),
                                    args.ddim_steps),
        f'DDPM-{args.ddpm_steps}': (dict(type='DDPMScheduler', prediction_type='x0'),
                                    args.ddpm_steps),
        'DDPM-1000': (dict(type='DDPMScheduler', prediction_type='x0'), 1000),
    }
    model = build(args.seed)
    results = dict(config=vars(args), untrained={}, trained={})
    for name, (cfg, steps) in samplers.items():
        results['untrained'][name] = evaluate(model, data, texts, cfg, steps, 1, args.seed)
    t0 = time.perf_counter()
    results['train_log'] = train(model, data, texts, args.iters)
    results['train_seconds'] = round(time.perf_counter() - t0, 1)
    for name, (cfg, steps) in samplers.items():
        results['trained'][name] = evaluate(model, data, texts, cfg, steps, args.repeats, args.seed)
    ddim, ddpm = f'DDIM-{args.ddim_steps}', f'DDPM-{args.ddpm_steps}'
    tr = results['trained']
    results['time_ratio_ddpm_over_ddim'] = tr[ddpm]['seconds'] / tr[ddim]['seconds']
    print(f'toy set: {args.motions} motions x {args.frames} frames x 263; tiny MDM trained '
          f'{args.iters} iterations in {results["train_seconds"]} s '
          f'(loss {results["train_log"][0][1]} -> {results["train_log"][-1][1]})')
    print(f'{"sampler":<12} {"s / batch":>10} {"MSE trained":>12} {"MSE untrained":>14}')
    for name in samplers:
        print(f'{name:<12} {tr[name]["seconds"]:>10.3f} {tr[name]["mse"]:>12.4f} '
              f'{results["untrained"][name]["mse"]:>14.4f}')
    print(f'time ratio {ddpm} / {ddim}: {results["time_ratio_ddpm_over_ddim"]:.2f}x; '
          f'MSE difference ({ddim} - {ddpm}): {tr[ddim]["mse"] - tr[ddpm]["mse"]:+.4f}')
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
