"""Causal-graph benchmark: the alpha-scan kernel against today's per-alpha pair-engine path.

The work: 10 variables (90 ordered pairs), N = 2000, 21 alpha values, the imbalance-gain scan
of every ordered pair for the data and for S circular-shift surrogates of the cause.

* new: :func:`infoimb.causality.gain_scan`, one call per effect (its 9 causes together); the
  target's ranks and the effect's sorted distances are shared by every alpha, cause and
  surrogate (infoimb/_gain_kernels.py).
* baseline: what ``causality_test`` did before this kernel (and what one call per pair per
  surrogate costs that way): for each alpha one exact two-way pair-engine call on the stacked
  space (alpha X_0, Y_0) -> Y_tau. It is timed on one effect (9 ordered pairs x 21 alphas =
  189 engine calls) for the data alone and extrapolated linearly to 10 effects and 1 + S
  scans (each surrogate is one more identical scan); the extrapolation is exact in count,
  the per-call time is measured.

Then the whole ``causal_graph`` (pairwise phase + conditioning phase) on the same data, and
its recovered graph against the truth.

Run:  python bench/bench_graph.py [--n 2000] [--surrogates 19] [--alphas 21]
Times are wall-clock on a shared machine: absolute numbers are noisy, ratios are what count.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from infoimb._spaces import make_pair
from infoimb.causality import gain_scan, shift_sources
from infoimb.datasets import lorenz96, lorenz96_parents
from infoimb.graph import causal_graph
from infoimb.imbalance import pair_terms, query_indices


def baseline_scan(X0, Y0, Yt, alphas, k, queries):
    """The pre-kernel causality._scan: one two-way pair-engine call per alpha."""
    A = np.hstack([X0, Y0])
    out = np.empty((alphas.shape[0], queries.shape[0]))
    for s, alpha in enumerate(alphas):
        w = np.concatenate([np.full(X0.shape[1], alpha), np.ones(Y0.shape[1])])
        sa, sb = make_pair(A, Yt, weights=(w, None))
        out[s] = pair_terms(sa, sb, k, queries)[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--variables", type=int, default=10)
    ap.add_argument("--alphas", type=int, default=21)
    ap.add_argument("--surrogates", type=int, default=19)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--skip-graph", action="store_true", help="skip the full causal_graph run")
    args = ap.parse_args()
    m, n, S, k = args.variables, args.n, args.surrogates, args.k
    alphas = np.linspace(0.0, 1.0, args.alphas)

    df = lorenz96(n + 1, n_nodes=m, random_state=0)
    z = ((df - df.mean()) / df.std()).to_numpy()
    present, future = z[:-1], z[1:]
    queries = query_indices(n, None)
    src = shift_sources(n, S, max(2, -(-n // 10)), np.random.default_rng(0))

    # warm up both paths (numba compiles on first use)
    gain_scan([present[:200, [1]]], present[:200, [0]], future[:200, [0]], alphas[:3], k,
              queries[:200], src[:2, :200] % 200)
    baseline_scan(present[:200, [1]], present[:200, [0]], future[:200, [0]], alphas[:3], k,
                  queries[:200])

    # new: every effect, all its causes at once, data + S surrogates
    t0 = time.perf_counter()
    gains_new = np.zeros((m, m))
    for e in range(m):
        causes = [present[:, [c]] for c in range(m) if c != e]
        terms, _ = gain_scan(causes, present[:, [e]], future[:, [e]], alphas, k, queries, src)
        delta = terms.mean(axis=2)
        g = (delta[:, 0] - delta.min(axis=1)) / delta[:, 0]
        gains_new[[c for c in range(m) if c != e], e] = g
    t_new = time.perf_counter() - t0

    # new, the data alone (no surrogates)
    t0 = time.perf_counter()
    for e in range(m):
        causes = [present[:, [c]] for c in range(m) if c != e]
        gain_scan(causes, present[:, [e]], future[:, [e]], alphas, k, queries, None)
    t_new_obs = time.perf_counter() - t0

    # baseline on effect 0 (9 ordered pairs x n_alpha engine calls), data alone
    t0 = time.perf_counter()
    worst = 0.0
    for c in range(1, m):
        terms = baseline_scan(present[:, [c]], present[:, [0]], future[:, [0]], alphas, k, queries)
        delta = terms.mean(axis=1)
        worst = max(worst, abs((delta[0] - delta.min()) / delta[0] - gains_new[c, 0]))
    t_base_effect = time.perf_counter() - t0
    t_base_obs = t_base_effect * m
    t_base = t_base_obs * (1 + S)

    rows = [
        (f"pairwise scan, data only ({m * (m - 1)} pairs x {len(alphas)} α)",
         m * (m - 1) * len(alphas), t_new_obs, t_base_obs, "measured on 1 of 10 effects"),
        (f"pairwise scan, data + {S} surrogates",
         m * (m - 1) * len(alphas) * (1 + S), t_new, t_base, "baseline extrapolated x(1+S)"),
    ]
    print(f"N = {n}, {m} variables ({m * (m - 1)} ordered pairs), {len(alphas)} α, k = {k}, "
          f"{S} surrogates, {numba.get_num_threads()} threads")
    print(f"{'work':<44} {'Δ scans':>9} {'new [s]':>9} {'today [s]':>10} {'speed-up':>9}  note")
    for name, count, tn, tb, note in rows:
        print(f"{name:<44} {count:>9} {tn:>9.2f} {tb:>10.1f} {tb / tn:>8.1f}x  {note}")
    print(f"largest |gain difference| new vs today on the 9 checked pairs: {worst:.2e}")

    if not args.skip_graph:
        t0 = time.perf_counter()
        g = causal_graph(df.iloc[:n], n_surrogates=max(S, 199), alphas=alphas, k=k,
                         random_state=0)
        t_graph = time.perf_counter() - t0
        truth = {(p, c) for c, ps in lorenz96_parents(m).items() for p in ps}
        found = set(zip(g.edges["cause"], g.edges["effect"]))
        print(f"\ncausal_graph end to end ({g.n_surrogates} surrogates, both phases): "
              f"{t_graph:.1f} s; {len(found)} edges, {len(found & truth)} of {len(truth)} true "
              f"links found, {len(found - truth)} false")


if __name__ == "__main__":
    main()
