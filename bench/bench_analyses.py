"""Analyses benchmark: feature selection, lag scan, imbalance gain, weights.

Each infoimb case is compared in the same run against a baseline that evaluates every
candidate with one independent call of the pair engine (what a user would write on top of a
Delta function), and, for the beam search, against DADApy 0.3.4 when it is installed (its run
takes minutes: pass --dadapy).

    python bench/bench_analyses.py             # the table of the README
    python bench/bench_analyses.py --dadapy    # also DADApy's beam search (DADAPY_PYTHON=...)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import infoimb  # noqa: E402
from infoimb import datasets  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def naive_greedy(X, T, max_features):
    """Forward selection calling imbalance_pair once per candidate (no reuse)."""
    chosen = []
    for _ in range(max_features):
        best = None
        for f in range(X.shape[1]):
            if f in chosen:
                continue
            d = infoimb.information_imbalance(X[:, chosen + [f]], T)
            if best is None or d < best[0]:
                best = (d, f)
        chosen.append(best[1])
    return chosen


def dadapy_beam(python: str) -> float | None:
    """DADApy's beam search (greedy_feature_selection_target, n_best=10, 4 steps)."""
    code = r"""
import json, time, numpy as np
from dadapy.metric_comparisons import MetricComparisons
X = np.random.default_rng(0).normal(size=(2000, 20))
target = MetricComparisons(coordinates=X[:, [2, 7, 13]], maxk=1999)
target.compute_distances()
t0 = time.perf_counter()
mc = MetricComparisons(coordinates=X, maxk=1999)
res = mc.greedy_feature_selection_target(target_ranks=target.dist_indices, n_coords=4, k=1, n_best=10)
print(json.dumps({"seconds": time.perf_counter() - t0, "best": [list(map(int, s)) for s in res[0]]}))
"""
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        print("  DADApy failed:", (out.stderr.strip().splitlines() or ["?"])[-1][:120])
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dadapy", action="store_true", help="also run DADApy's beam search")
    args = ap.parse_args()
    infoimb.warmup()
    rows = []
    rng = np.random.default_rng(0)

    X = rng.normal(size=(2000, 20))
    T = X[:, [2, 7, 13]]
    t, r = timed(lambda: infoimb.select_features(X, T, method="beam", max_features=4, n_best=10))
    rows.append(("beam, N=2000, D=20, n_best=10, 4 steps", f"{len(r.candidates)} subsets", t,
                 ",".join(r.best(3).features)))
    t, r = timed(lambda: infoimb.select_features(X, T, method="greedy", max_features=4))
    tn, chosen = timed(lambda: naive_greedy(X, T, 4))
    rows.append(("greedy, N=2000, D=20, 4 steps", f"{len(r.candidates)} subsets", t,
                 ",".join(r.best(3).features)))
    rows.append(("  baseline: one Δ call per candidate", "", tn, ",".join(f"x{c}" for c in chosen[:3])))

    X324 = rng.normal(size=(2000, 324))
    T324 = X324[:, [5, 50, 100, 200]]
    t, r = timed(lambda: infoimb.select_features(X324, T324, method="greedy", max_features=16))
    rows.append(("greedy, N=2000, D=324, 16 steps", f"{len(r.candidates)} subsets", t,
                 ",".join(r.best(4).features)))

    panel = datasets.load_example("policy_panel")
    g = datasets.EXAMPLES["policy_panel"].roles["groups"]
    t, r = timed(lambda: infoimb.lag_scan(panel, g["effective_policies"], g["epidemic_state"],
                                          lags=range(-5, 6), time="date", group="id"))
    rows.append(("lag scan, policy panel, 11 lags", f"{r.n_pairs.max()} pairs", t,
                 f"best lag {r.best_lag}, {r.arrow}"))
    t, r = timed(lambda: infoimb.select_lagged(panel, g["policies"], g["epidemic_state"], lag=2,
                                               time="date", group="id", method="greedy"))
    rows.append(("greedy policy selection, target t+2", f"{len(r.candidates)} subsets", t,
                 ",".join(r.best(4).features)[:40]))

    traj = np.load(ROOT.parent / "shared" / "reference" / "rosslers_xtoy_trajectory.npy")
    t, r = timed(lambda: infoimb.causality_test(traj[:, :3], traj[:, 3:], tau=5, k=5))
    rows.append(("causality both ways, N=995, 50 α", "100 Δ", t,
                 f"IG {r.x_to_y.gain:.3f} / {r.y_to_x.gain:.3f}"))

    A = rng.normal(size=(500, 5))
    t, r = timed(lambda: infoimb.optimize_weights(A, A * [10, 3, 1, 30, 7.3], method="dii", random_state=0))
    rows.append(("DII weights, N=500, d=5", "", t, "ratios " + ",".join(f"{w / r.weights[2]:.1f}" for w in r.weights)))

    if args.dadapy:
        py = os.environ.get("DADAPY_PYTHON", sys.executable)
        t = dadapy_beam(py)
        if t is not None:
            rows.append(("DADApy 0.3.4 beam, N=2000, D=20", "n_best=10", t, ""))

    print(f"{'case':<42}{'work':>16}{'seconds':>10}  result")
    for name, work, secs, result in rows:
        print(f"{name:<42}{work:>16}{secs:>10.2f}  {result}")


if __name__ == "__main__":
    main()
