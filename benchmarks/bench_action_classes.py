"""Time the balanced K-means of the action-class builder (CoAMD sec. 3.1) against plain KMeans.

50,000 random unit vectors of the MiniLM dimension (384) stand in for verb embeddings (timing
only: the cost does not depend on what the vectors mean), K = 400 (the HumanML3D setting).
Plain: scikit-learn ``KMeans`` + nearest-centre labels. Balanced: the same ``KMeans`` then the
exact capacity-constrained assignment (class sizes floor(N/K)..ceil(N/K)); the ratio is
balanced / plain, in the same process. A second table checks the two exact assignment solvers
(``linear_sum_assignment`` on replicated centres, the transportation LP) against each other on a
size where both run.

    python benchmarks/bench_action_classes.py [--n 50000] [--k 400] [--dim 384] [--n-init 1]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from motionkit.datagen.action_classes import (balanced_assignment, balanced_kmeans,  # noqa: E402
                                              squared_distances)


def unit_vectors(n, dim, seed):
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=50000, help='verbs')
    p.add_argument('--k', type=int, default=400, help='classes')
    p.add_argument('--dim', type=int, default=384, help='embedding size (MiniLM: 384)')
    p.add_argument('--n-init', type=int, default=1, help='KMeans restarts (both runs)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--check-n', type=int, default=2000, help='verbs of the solver cross-check (0: skip)')
    a = p.parse_args(argv)
    from sklearn.cluster import KMeans
    x = unit_vectors(a.n, a.dim, a.seed)

    t = time.perf_counter()
    km = KMeans(a.k, n_init=a.n_init, random_state=a.seed).fit(x.astype(np.float64))
    plain = km.labels_
    t_plain = time.perf_counter() - t
    t = time.perf_counter()
    labels, centres = balanced_kmeans(x, a.k, a.seed, n_init=a.n_init)
    t_bal = time.perf_counter() - t
    # the assignment step alone, on the same centres
    cost = squared_distances(x, centres)
    t = time.perf_counter()
    balanced_assignment(cost)
    t_assign = time.perf_counter() - t
    sizes_plain = np.bincount(plain, minlength=a.k)
    sizes_bal = np.bincount(labels, minlength=a.k)
    print(f'{a.n} verbs (random unit vectors, D={a.dim}), K={a.k}, KMeans n_init={a.n_init}')
    print(f'{"method":44s} {"time [s]":>9s} {"class sizes":>13s}')
    print(f'{"plain KMeans (fit + nearest centre)":44s} {t_plain:9.2f} '
          f'{f"{sizes_plain.min()}-{sizes_plain.max()}":>13s}')
    print(f'{"balanced K-means (KMeans + assignment)":44s} {t_bal:9.2f} '
          f'{f"{sizes_bal.min()}-{sizes_bal.max()}":>13s}')
    print(f'{"  of which the balanced assignment":44s} {t_assign:9.2f}')
    print(f'{"ratio balanced / plain":44s} {t_bal / t_plain:9.2f}')

    if a.check_n:
        xs = unit_vectors(a.check_n, a.dim, a.seed + 1)
        k = max(2, a.check_n // 20)
        c = KMeans(k, n_init=1, random_state=a.seed).fit(xs.astype(np.float64)).cluster_centers_
        cost = squared_distances(xs, c)
        print(f'\nexact solvers on {a.check_n} verbs, K={k} (same centres)')
        print(f'{"solver":44s} {"time [s]":>9s} {"total cost":>13s}')
        totals = []
        for solver in ('lsa', 'lp'):
            t = time.perf_counter()
            lab = balanced_assignment(cost, solver=solver)
            dt = time.perf_counter() - t
            totals.append(cost[np.arange(len(lab)), lab].sum())
            print(f'{solver:44s} {dt:9.2f} {totals[-1]:13.6f}')
        print(f'{"agree (|difference| < 1e-6)":44s} {str(abs(totals[0] - totals[1]) < 1e-6):>9s}')


if __name__ == '__main__':
    main()
