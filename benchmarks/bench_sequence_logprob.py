"""Sequence log-probability throughput of the preference losses' inner step, seq2seq vs causal.

Usage::

    python benchmarks/bench_sequence_logprob.py [--presets tiny-t5 tiny-llama] [--batch-size 32]
        [--codes 50] [--steps 10] [--repeats 3] [--threads 1] [--device cpu] [--grad]

For each backbone preset a ``MotionLanguageModel`` (word-level tokenizer, 'text' motion tokens,
codebook 64) scores ``--batch-size`` (text prompt, ``--codes`` motion codes) rows with
:func:`lm_sequence_log_probs` (``build_batch`` + forward + response-only gather), as
``MotionPreferenceModel`` does for the policy and the reference. ``--grad`` times forward +
backward (the policy's step) instead of ``no_grad`` forwards (the reference's). Reports the
median over ``--repeats`` rounds of ``--steps`` calls as sequences/s, and each preset's ratio to
the first preset.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402

from motionkit.models.llm_heads import MotionLanguageModel, lm_sequence_log_probs  # noqa: E402

WORDS = 'a person walks forward then jumps turns left waves both arms sits down kicks'.split()


def build(preset: str, device: str) -> MotionLanguageModel:
    torch.manual_seed(0)
    lm = MotionLanguageModel(backbone=dict(preset=preset),
                             tokenizer=dict(type='word_level', extra_texts=[' '.join(WORDS)]),
                             motion_token_strategy='text', codebook_size=64,
                             template='generate the motion of : {text} . motion :', max_length=256)
    return lm.to(device)


def rows(lm: MotionLanguageModel, n: int, codes: int):
    rng = random.Random(0)
    prompts = [lm.format_prompt(dict(text=' '.join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))))
               for _ in range(n)]
    responses = [lm.motion_text([rng.randrange(64) for _ in range(rng.randint(codes // 2, codes))])
                 for _ in range(n)]
    return prompts, responses


def time_preset(lm, prompts, responses, steps: int, grad: bool) -> float:
    """Seconds per call (batch building included)."""
    def call():
        batch = {k: v.to(lm.device) for k, v in lm.build_batch(prompts, responses).items()}
        if grad:
            s, n = lm_sequence_log_probs(lm.lm, batch, lm.is_seq2seq)
            (-(s / n).mean()).backward()
        else:
            with torch.no_grad():
                lm_sequence_log_probs(lm.lm, batch, lm.is_seq2seq)
    call()  # warm-up
    if lm.device.type == 'cuda':
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        call()
    if lm.device.type == 'cuda':
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--presets', nargs='+', default=['tiny-t5', 'tiny-llama'])
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--codes', type=int, default=50, help='longest response in motion codes')
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--grad', action='store_true', help='forward + backward (policy step)')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    models = {p: build(p, args.device) for p in args.presets}
    data = {p: rows(m, args.batch_size, args.codes) for p, m in models.items()}
    for m in models.values():
        m.train(args.grad)
    times = {p: [] for p in models}
    for _ in range(args.repeats):  # interleaved rounds: background load hits every preset alike
        for p, m in models.items():
            times[p].append(time_preset(m, *data[p], args.steps, args.grad))
    mode = 'forward+backward' if args.grad else 'no_grad forward'
    print(f'sequence log-probs, {mode}, batch {args.batch_size}, <= {args.codes} codes, '
          f'{args.threads} thread(s), {args.device}, median of {args.repeats} x {args.steps} calls')
    print(f'{"backbone":<12} {"params (M)":>10} {"ms/batch":>10} {"seq/s":>10} {"ratio":>7}')
    first = None
    for p, m in models.items():
        sec = statistics.median(times[p])
        rate = args.batch_size / sec
        first = rate if first is None else first
        params = sum(t.numel() for t in m.parameters()) / 1e6
        print(f'{p:<12} {params:>10.2f} {1e3 * sec:>10.1f} {rate:>10.1f} {rate / first:>7.2f}')


if __name__ == '__main__':
    main()
