"""Time motionkit's metric functions at test-set scale.

Motion metrics: 4,384 samples (the HumanML3D test set) of random 512-D evaluator embeddings, each
timed against a plain numpy implementation of the published formula (speed-up = reference time /
ours; the values must agree to 1e-6 relative). Joint errors: 4,384 motions x 64 frames x 22 joints. Text
metrics: 5,000 random motion-description pairs.

    python benchmarks/bench_metrics.py [--no-java] [--no-encoder] [--nltk-data DIR]
"""
import argparse
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import linalg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from motionkit.evaluation import functional as F  # noqa: E402

N, D, BATCH = 4384, 512, 32


def timed(fn, *args, repeat=3, **kwargs):
    best, out = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t)
    return best, out


# ----------------------------------------------------------------- plain numpy references
def ref_fid(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def ref_diversity(x, times, seed):
    g = np.random.RandomState(seed)
    a, b = g.choice(len(x), times, replace=False), g.choice(len(x), times, replace=False)
    return float(np.linalg.norm(x[a] - x[b], axis=1).mean())


def ref_multimodality(x, times, seed):
    g = np.random.RandomState(seed)
    a, b = g.choice(x.shape[1], times, replace=False), g.choice(x.shape[1], times, replace=False)
    return float(np.linalg.norm(x[:, a] - x[:, b], axis=2).mean())


def ref_r_precision(t, m):
    hits, total = np.zeros(3), 0
    for s in range(0, len(t) - BATCH + 1, BATCH):
        d = np.linalg.norm(t[s:s + BATCH, None] - m[None, s:s + BATCH], axis=2)
        order = np.argsort(d, axis=1)
        for k in range(3):
            hits[k] += (order[:, :k + 1] == np.arange(BATCH)[:, None]).any(1).sum()
        total += BATCH
    return hits / total


def ref_mm_dist(t, m):
    return float(np.linalg.norm(t - m, axis=1).mean())


def ref_mpjpe(p, g):
    return float(np.linalg.norm(p - g, axis=-1).mean() * 1000)


def ref_pa_mpjpe(p, g):
    p = p.reshape(-1, *p.shape[-2:])
    g = g.reshape(-1, *g.shape[-2:])
    mp, mg = p.mean(1, keepdims=True), g.mean(1, keepdims=True)
    x, y = p - mp, g - mg
    u, s, vt = np.linalg.svd(np.transpose(y, (0, 2, 1)) @ x)
    z = np.ones_like(s)
    z[:, -1] = np.sign(np.linalg.det(u @ vt))
    r = u @ (z[:, :, None] * vt)
    scale = (s * z).sum(1) / (x ** 2).sum((1, 2))
    aligned = scale[:, None, None] * x @ np.transpose(r, (0, 2, 1)) + mg
    return float(np.linalg.norm(aligned - g, axis=-1).mean() * 1000)


# ----------------------------------------------------------------- text data
WORDS = ('a person man woman someone walks runs jumps turns left right forward backward slowly '
         'quickly and then raises lowers arm leg hand waves kicks sits down stands up circle '
         'steps twice').split()


def sentences(n, seed):
    rng = random.Random(seed)
    return [' '.join(rng.choice(WORDS) for _ in range(rng.randint(5, 14))) for _ in range(n)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--no-java', action='store_true', help='skip coco METEOR')
    parser.add_argument('--no-encoder', action='store_true', help='skip MiniLM text similarity')
    parser.add_argument('--nltk-data', default=None, help='directory holding corpora/wordnet')
    parser.add_argument('--n-text', type=int, default=5000)
    args = parser.parse_args()
    warnings.simplefilter('ignore')

    rng = np.random.default_rng(0)
    text = rng.normal(size=(N, D))
    gen = text + rng.normal(scale=2.0, size=(N, D))
    gt = text + rng.normal(scale=1.5, size=(N, D))
    mm = rng.normal(size=(100, 30, D))
    joints_gt = rng.normal(size=(N, 64, 22, 3)).astype(np.float32)
    joints_pred = joints_gt + rng.normal(scale=0.05, size=joints_gt.shape).astype(np.float32)

    rows = [
        ('fid (4384 x 512 vs 4384 x 512)', lambda: F.fid(gen, gt), lambda: ref_fid(gen, gt)),
        ('diversity (300 pairs)', lambda: F.diversity(gen, 300, np.random.RandomState(0)),
         lambda: ref_diversity(gen, 300, 0)),
        ('multimodality (100 x 30, 10 pairs)',
         lambda: F.multimodality(mm, 10, np.random.RandomState(0)),
         lambda: ref_multimodality(mm, 10, 0)),
        ('r_precision (137 batches of 32)', lambda: F.r_precision(text, gen)[2],
         lambda: ref_r_precision(text, gen)[2]),
        ('mm_dist', lambda: F.mm_dist(text, gen, batch_size=BATCH), lambda: ref_mm_dist(
            text[:N // BATCH * BATCH], gen[:N // BATCH * BATCH])),
        ('mpjpe (4384 x 64 x 22)', lambda: F.mpjpe(joints_pred, joints_gt),
         lambda: ref_mpjpe(joints_pred.astype(np.float64), joints_gt.astype(np.float64))),
        ('pa_mpjpe (4384 x 64 x 22)', lambda: F.pa_mpjpe(joints_pred, joints_gt),
         lambda: ref_pa_mpjpe(joints_pred.astype(np.float64), joints_gt.astype(np.float64))),
    ]
    def all_t2m(fn_fid, fn_rp, fn_mm, fn_div):
        # one replication of the T2M table (issue #24 target: <= 0.3 s at 4,384 motions)
        return (fn_fid(gen, gt), fn_rp(text, gen)[2], fn_mm(text, gen), fn_div(gen))
    rows.append(('all T2M metrics, one replication',
                 lambda: all_t2m(F.fid, F.r_precision, lambda t, g: F.mm_dist(t, g, batch_size=BATCH),
                                 lambda g: F.diversity(g, 300, np.random.RandomState(0))),
                 lambda: all_t2m(ref_fid, ref_r_precision,
                                 lambda t, g: ref_mm_dist(t[:N // BATCH * BATCH], g[:N // BATCH * BATCH]),
                                 lambda g: ref_diversity(g, 300, 0))))
    # ratio = reference time / ours: above 1 means motionkit is faster
    print(f'{"motion metric":38s} {"ours [s]":>9s} {"numpy ref [s]":>13s} {"speed-up":>8s}  agree')
    for name, ours, ref in rows:
        t_ours, v_ours = timed(ours)
        t_ref, v_ref = timed(ref)
        agree = bool(np.all(np.isclose(v_ours, v_ref, rtol=1e-6, atol=1e-8)))
        print(f'{name:38s} {t_ours:9.4f} {t_ref:13.4f} {t_ref / t_ours:8.2f}  {agree}')

    preds = sentences(args.n_text, 1)
    refs = sentences(args.n_text, 2)
    text_rows = [
        ('bleu sacrebleu corpus 1-4', lambda: F.bleu(preds, refs)),
        ('bleu nltk sentence method1 (cigtime)',
         lambda: F.bleu(preds, refs, backend='nltk', level='sentence', smoothing='method1')),
        ('bleu nltk corpus method4 (expertaf)',
         lambda: F.bleu(preds, refs, backend='nltk', smoothing='method4')),
        ('rouge rouge-score', lambda: F.rouge(preds, refs)),
        ('rouge pltrdy', lambda: F.rouge(preds, refs, backend='pltrdy')),
        ('cider (raw strings)', lambda: F.cider(preds, refs)),
        ('meteor nltk (WordNet 3.0)', lambda: F.meteor(preds, refs, nltk_data=args.nltk_data)),
    ]
    if not args.no_java:
        text_rows.append(('meteor coco 1.5 jar (incl. JVM start)',
                          lambda: F.meteor(preds, refs, variant='coco', ptb=False)))
    if not args.no_encoder:
        text_rows.append(('text_sim MiniLM (incl. load)',
                          lambda: F.text_embedding_similarity(preds, refs)))
    print(f'\n{"text metric (" + str(args.n_text) + " pairs)":38s} {"time [s]":>9s}  value')
    for name, fn in text_rows:
        t, v = timed(fn, repeat=1)
        v = v.get('bleu_4', v.get('rouge_l')) if isinstance(v, dict) else v
        print(f'{name:38s} {t:9.3f}  {v:.4f}')


if __name__ == '__main__':
    main()
