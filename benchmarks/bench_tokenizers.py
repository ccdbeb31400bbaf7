"""Motion tokenizer speed: the registered ``MotionVQVAE`` vs a plain-PyTorch loop over the same
modules.

Usage::

    python benchmarks/bench_tokenizers.py [--width 128] [--code-dim 64] [--codebook 256]
        [--batch-size 32] [--frames 64] [--steps 20] [--repeats 3] [--threads 1]
        [--quantizer ema|residual] [--device cpu]

Two measurements, each as the median over ``--repeats`` interleaved rounds of ``--steps`` calls:

* training step time per batch: ``model.train_step(data, OptimWrapper)`` (data preprocessor, padding
  masks, loss dict parsing, ``OptimWrapper.update_params``) vs a hand-written loop over the same
  ``encoder`` / ``quantizer`` / ``decoder`` modules (no masks, losses written inline, ``AdamW``
  step) on the same full-length batch. Both start from the same weights; the first losses are
  checked to agree, so both loops compute the same thing;
* encode throughput (motions/s): ``model.encode(motion, lengths)`` vs ``encoder`` +
  ``quantizer.quantize`` on the flattened latents.

Prints times and the ratio registered / reference (1.0 = no overhead).
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402

from motionkit.models.tokenizers import MotionVQVAE  # noqa: E402

D = 263


def build(args) -> MotionVQVAE:
    if args.quantizer == 'ema':
        qcfg = dict(type='EMAQuantizer', codebook_size=args.codebook)
    else:
        qcfg = dict(type='ResidualQuantizer', num_quantizers=4, codebook_size=args.codebook,
                    dropout_prob=0.0)
    return MotionVQVAE(feature_dim=D, width=args.width, code_dim=args.code_dim, quantizer=qcfg,
                       vel_weight=0.5, vel_mode='frame_diff', commit_weight=0.02).to(args.device)


def reference_loss(model: MotionVQVAE, x: torch.Tensor) -> torch.Tensor:
    """T2M-GPT-style loss over the same modules, without masks (every frame valid)."""
    z = model.encoder(x.transpose(1, 2))  # (B, C, T')
    flat = z.transpose(1, 2).reshape(-1, z.shape[1])
    q = model.quantizer(flat)
    zq = q['quantized'].view(z.shape[0], z.shape[2], -1).transpose(1, 2)
    recon = model.decoder(zq).transpose(1, 2)
    s, e = model.vel_slice
    vel = F.smooth_l1_loss(recon[:, 1:, s:e] - recon[:, :-1, s:e], x[:, 1:, s:e] - x[:, :-1, s:e])
    return (F.smooth_l1_loss(recon, x) + model.vel_weight * vel
            + model.commit_weight * q['commit_loss'])


@torch.no_grad()
def reference_encode(model: MotionVQVAE, x: torch.Tensor) -> torch.Tensor:
    z = model.encoder(x.transpose(1, 2))
    flat = z.transpose(1, 2).reshape(-1, z.shape[1])
    return model.quantizer.quantize(flat).view(z.shape[0], z.shape[2], -1)


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--width', type=int, default=128)
    parser.add_argument('--code-dim', type=int, default=64)
    parser.add_argument('--codebook', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--frames', type=int, default=64)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--quantizer', choices=['ema', 'residual'], default='ema')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    ours = build(args)
    ref = copy.deepcopy(ours)
    g = torch.Generator().manual_seed(0)
    t = torch.linspace(0, 3, args.frames)[None, :, None]
    x = torch.sin(6.28 * torch.rand(args.batch_size, 1, D, generator=g) * t
                  + 6.28 * torch.rand(args.batch_size, 1, D, generator=g)).to(args.device)
    lengths = torch.full((args.batch_size, ), args.frames, device=args.device)
    data = dict(inputs=dict(motion=x, lengths=lengths), data_samples=None)

    opt_ours = OptimWrapper(torch.optim.AdamW(ours.parameters(), lr=2e-4, betas=(0.9, 0.99)))
    opt_ref = torch.optim.AdamW(ref.parameters(), lr=2e-4, betas=(0.9, 0.99))
    ours.train()
    ref.train()

    # same weights, same batch, same codebook initialisation -> the same first loss
    torch.manual_seed(1)
    log = ours.train_step(data, opt_ours)
    torch.manual_seed(1)
    first_ref = reference_loss(ref, x)
    opt_ref.zero_grad()
    first_ref.backward()
    opt_ref.step()
    first_ours = float(log['loss'].detach())
    if abs(first_ours - float(first_ref)) > 1e-4 * max(1.0, abs(first_ours)):
        raise RuntimeError(f'the two loops disagree: first loss {first_ours} vs '
                           f'{float(first_ref)}')

    def step_ours():
        ours.train_step(data, opt_ours)

    def step_ref():
        loss = reference_loss(ref, x)
        opt_ref.zero_grad()
        loss.backward()
        opt_ref.step()

    ours.eval()
    ref.eval()

    def enc_ours():
        ours.encode(x, lengths)

    def enc_ref():
        reference_encode(ref, x)

    if not torch.equal(ours.encode(x, lengths)[0], reference_encode(ours, x).squeeze(-1)
                       if args.quantizer == 'ema' else reference_encode(ours, x)):
        raise RuntimeError('the registered encode and the reference encode give other tokens')

    def timed(fn, train: bool) -> float:
        for m in (ours, ref):
            m.train(train)
        fn()  # warm-up
        sync(args.device)
        start = time.perf_counter()
        for _ in range(args.steps):
            fn()
        sync(args.device)
        return (time.perf_counter() - start) / args.steps

    results = {k: [] for k in ('train_ours', 'train_ref', 'enc_ours', 'enc_ref')}
    for _ in range(args.repeats):
        results['train_ours'].append(timed(step_ours, True))
        results['train_ref'].append(timed(step_ref, True))
        results['enc_ours'].append(timed(enc_ours, False))
        results['enc_ref'].append(timed(enc_ref, False))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f'MotionVQVAE width={args.width} code_dim={args.code_dim} codebook={args.codebook} '
          f'quantizer={args.quantizer} batch={args.batch_size}x{args.frames} frames '
          f'device={args.device} threads={args.threads}')
    print(f'train step  registered (train_step + OptimWrapper): {1e3 * med["train_ours"]:8.2f} ms'
          f'   reference loop: {1e3 * med["train_ref"]:8.2f} ms   ratio '
          f'{med["train_ours"] / med["train_ref"]:.3f}')
    ours_mps = args.batch_size / med['enc_ours']
    ref_mps = args.batch_size / med['enc_ref']
    print(f'encode      registered: {ours_mps:10.1f} motions/s   reference: {ref_mps:10.1f} '
          f'motions/s   ratio (time) {med["enc_ours"] / med["enc_ref"]:.3f}')
    return med


if __name__ == '__main__':
    main()
