"""Tree benchmark: exact Delta with the k-d tree against the brute kernel and scikit-learn.

Both directions of Delta(xyz <-> xy) on the 3-D Gaussian of METHOD.md (z scaled by 0.1).
Every case runs in a fresh subprocess, so its peak memory (ru_maxrss) is the whole process's.
Wall seconds are noisy on a shared machine; CPU seconds (all threads) are reported too, and
the ratios are what matter.

The scikit-learn script is what a user would write (KDTree.query for the neighbour,
query_radius(count_only=True) for the rank, one core): it is not exact (the radius is
recomputed in floating point, ties ignored); its Delta is shown next to the exact one.

    python bench/bench_tree.py               # the README table (a few minutes)
    python bench/bench_tree.py --quick       # N <= 50 000
    python bench/bench_tree.py --crossover   # brute vs tree by dimension and N (auto rule)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASE = textwrap.dedent(r"""
import json, resource, sys, time
import numpy as np
kind, n, nq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.random.default_rng(0).normal(size=(n, 3)) * [1, 1, 0.1]
A, B = X, X[:, :2]
if kind in ("brute", "tree"):
    import infoimb
    infoimb.imbalance_pair(A[:3000], B[:3000], algorithm=kind)  # numba cache load
    w0, c0 = time.perf_counter(), time.process_time()
    p = infoimb.imbalance_pair(A, B, n_queries=nq or None, random_state=0, algorithm=kind)
    ab, ba = p.a_to_b, p.b_to_a
else:
    from sklearn.neighbors import KDTree
    w0, c0 = time.perf_counter(), time.process_time()
    def sk_delta(A, B):
        nn = KDTree(A).query(A, k=2)[1][:, 1]            # nearest neighbour other than itself
        r = np.linalg.norm(B - B[nn], axis=1)             # its distance in B
        ranks = KDTree(B).query_radius(B, r, count_only=True)   # points within r (incl. self)
        return 2 / len(A) * ranks.mean()
    ab, ba = sk_delta(A, B), sk_delta(B, A)
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak, "ab": float(ab), "ba": float(ba)}))
""")

CROSS = textwrap.dedent(r"""
import json, sys, time
import numpy as np
from infoimb._spaces import make_pair
from infoimb.imbalance import pair_terms
d, n = int(sys.argv[1]), int(sys.argv[2])
out = {}
for kind in ("dependent", "independent"):
    Z = np.random.default_rng(1).normal(size=(n, 2 * d))
    A = Z[:, :d]
    B = (A + 0.3 * Z[:, 1:2] if d == 1 else Z[:, :d - 1]) if kind == "dependent" else Z[:, d:]
    sa, sb = make_pair(A, B)
    q = np.arange(n)
    for alg in ("brute", "tree"):
        pair_terms(sa, sb, 1, q[:50], algorithm=alg)
        c0 = time.process_time()
        pair_terms(sa, sb, 1, q, algorithm=alg)
        out[f"{kind}_{alg}"] = time.process_time() - c0
print(json.dumps(out))
""")


def run(code: str, *args, timeout: int = 900) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                             text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout}s"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(quick: bool) -> None:
    sizes = [20_000, 50_000] if quick else [20_000, 50_000, 200_000]
    cases = [("brute", n, 0) for n in (20_000, 50_000)]
    cases += [("tree", n, 0) for n in sizes]
    cases += [("sklearn", n, 0) for n in sizes]
    if not quick:
        cases += [("tree", 1_000_000, 0), ("tree", 10_000_000, 10_000)]
    print(f"{'implementation':<10}{'N':>10}{'queries':>9}{'wall s':>9}{'CPU s':>9}{'peak MB':>9}"
          f"{'Δ(xyz→xy)':>12}{'Δ(xy→xyz)':>12}")
    results = {}
    for kind, n, nq in cases:
        r = run(CASE, kind, n, nq, timeout=1800)
        results[(kind, n)] = r
        q = nq or n
        if "error" in r:
            print(f"{kind:<10}{n:>10}{q:>9}   {r['error']}", flush=True)
            continue
        print(f"{kind:<10}{n:>10}{q:>9}{r['wall']:>9.2f}{r['cpu']:>9.2f}{r['peak_mb']:>9.0f}"
              f"{r['ab']:>12.6f}{r['ba']:>12.6f}", flush=True)
    print("\nratios (same run):")
    for n in sizes:
        t, b, s = (results.get((kind, n), {}) for kind in ("tree", "brute", "sklearn"))
        parts = []
        if "wall" in t and "wall" in b:
            parts.append(f"brute/tree {b['wall'] / t['wall']:.1f}x wall, {b['cpu'] / t['cpu']:.1f}x CPU")
        if "wall" in t and "wall" in s:
            parts.append(f"sklearn/tree {s['wall'] / t['wall']:.1f}x wall, {s['cpu'] / t['cpu']:.1f}x CPU")
            parts.append(f"sklearn Δ error {s['ab'] - t['ab']:+.2e}, {s['ba'] - t['ba']:+.2e}")
        print(f"  N = {n}: " + "; ".join(parts))


def crossover() -> None:
    print("CPU seconds (all threads), exact estimator, both directions, tree incl. building "
          "both trees;\ndependent: A = Z[:, :d], B = Z[:, :d-1]; independent: A, B separate "
          "Gaussians of d dims")
    print(f"{'d':>3}{'N':>8}{'dep brute':>11}{'dep tree':>10}{'ratio':>7}"
          f"{'ind brute':>11}{'ind tree':>10}{'ratio':>7}")
    for d in (1, 2, 3, 4, 5, 6, 8):
        for n in (1_000, 3_000, 10_000, 30_000):
            r = run(CROSS, d, n)
            if "error" in r:
                print(f"{d:>3}{n:>8}   {r['error']}")
                continue
            db, dt, ib, it = (r[k] for k in ("dependent_brute", "dependent_tree",
                                             "independent_brute", "independent_tree"))
            print(f"{d:>3}{n:>8}{db:>11.3f}{dt:>10.3f}{db / dt:>7.2f}{ib:>11.3f}{it:>10.3f}"
                  f"{ib / it:>7.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N <= 50 000 only")
    ap.add_argument("--crossover", action="store_true", help="the auto rule's measurement")
    args = ap.parse_args()
    if args.crossover:
        crossover()
    else:
        table(args.quick)


if __name__ == "__main__":
    main()
