"""Significance benchmark: the cost of permutation p-values against one exact pair, and the
calibration of the tests (false-positive rates on null data, power on dependent data).

    python bench/bench_significance.py           # the full table (a few minutes)
    python bench/bench_significance.py --quick   # fewer datasets

Timing: one exact pair (both directions, no intervals) against the same pair with 199
permutations (both p-values), at N = 2000 on the 3-D Gaussian, measured in the same run
(best of several repeats; ratios matter, absolute times on a shared machine are noisy).
Target (issue 10): the ratio at most 10. Also: the bootstrap intervals' cost, and the
Theiler-window kernel against the plain kernel (same result with a window below the time
step), so that the default path's speed is seen to be untouched.

Calibration: the rate of p < 0.05 and of a relation other than "independent" over many null
datasets (independent 2-D Gaussians; panels whose A and B each have an unrelated random
level per entity, tested with the entity null), and the power on dependent data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

import infoimb


def best_of(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def timing(repeats: int) -> list[tuple[str, float, str]]:
    X = np.random.default_rng(0).normal(size=(2000, 3)) * [1, 1, 0.1]
    A, B = X, X[:, :2]
    infoimb.imbalance_pair(A[:60], B[:60], n_permutations=3, theiler=0.5,
                           times=np.arange(60))  # compile / load every kernel
    t_exact = best_of(lambda: infoimb.imbalance_pair(A, B, n_bootstrap=0), 2 * repeats)
    t_perm = best_of(lambda: infoimb.imbalance_pair(A, B, n_permutations=199, random_state=0,
                                                    n_bootstrap=0), repeats)
    t_boot = best_of(lambda: infoimb.imbalance_pair(A, B, random_state=0), repeats)
    times = np.arange(2000)
    t_theiler = best_of(lambda: infoimb.imbalance_pair(A, B, theiler=0.5, times=times,
                                                       n_bootstrap=0), 2 * repeats)
    xc = np.random.default_rng(1).normal(size=(2000, 2))
    t_perm_rand = best_of(lambda: infoimb.imbalance_pair(xc, xc[:, :1] ** 2, n_permutations=199,
                                                         random_state=0, n_bootstrap=0), repeats)
    return [
        ("one exact pair, both directions (baseline)", t_exact, "1.0x"),
        ("199 permutations, both p-values", t_perm, f"{t_perm / t_exact:.1f}x (target <= 10x)"),
        ("199 permutations, other data (2-D, x^2)", t_perm_rand, f"{t_perm_rand / t_exact:.1f}x"),
        ("exact pair + bootstrap intervals (1000)", t_boot, f"{t_boot / t_exact:.1f}x"),
        ("Theiler kernel, window below the step", t_theiler, f"{t_theiler / t_exact:.1f}x"),
    ]


VARIANTS = (
    ("2 threads, default OpenMP (spinning waits)", {}),
    ("2 threads, OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("1 thread", {"NUMBA_NUM_THREADS": "1"}),
)


def timing_in_subprocess(env_extra: dict, repeats: int) -> list:
    """:func:`timing` in a fresh process with extra environment variables (threading
    settings must be set before numba starts its threads)."""
    env = os.environ | env_extra
    code = (f"import json, sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
            f"import bench_significance as b; print(json.dumps(b.timing({repeats})))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def rate(n_sets: int, make, **kw) -> tuple[float, float]:
    p_hits = verdicts = 0
    for s in range(n_sets):
        args, extra = make(np.random.default_rng(10_000 + s))
        r = infoimb.imbalance_pair(*args, random_state=s, n_bootstrap=200, **extra, **kw)
        p_hits += r.p_a_to_b < 0.05
        verdicts += r.relation != "independent"
    return p_hits / n_sets, verdicts / n_sets


def gauss_null(n):
    return lambda rng: ((rng.normal(size=(n, 2)), rng.normal(size=(n, 2))), {})


def panel_null(n_entities, n_steps):
    def make(rng):
        g = np.repeat(np.arange(n_entities), n_steps)
        t = np.tile(np.arange(n_steps), n_entities)
        A = rng.normal(size=(n_entities, 2))[g] + 0.1 * rng.normal(size=(g.size, 2))
        B = rng.normal(size=(n_entities, 2))[g] + 0.1 * rng.normal(size=(g.size, 2))
        return (A, B), {"groups": g, "times": t}
    return make


def dependent(n, noise):
    def make(rng):
        A = rng.normal(size=(n, 2))
        return (A, A[:, :1] + noise * rng.normal(size=(n, 1))), {}
    return make


def calibration(n_sets: int, n_perm: int) -> list[tuple]:
    rows = []
    for n in (30, 100):
        p, v = rate(n_sets, gauss_null(n), n_permutations=n_perm)
        rows.append(("null: independent 2-D Gaussians", n, n_sets, p, v))
    p, v = rate(n_sets, panel_null(12, 5), n_permutations=n_perm)
    rows.append(("null: per-entity levels, 12 x 5, groups", 60, n_sets, p, v))
    p, v = rate(n_sets // 3, panel_null(12, 5), n_permutations=n_perm, null="rows")
    rows.append(("  same panels, row null (wrong)", 60, n_sets // 3, p, v))
    for noise in (0.5, 1.0):
        p, v = rate(n_sets // 3, dependent(40, noise), n_permutations=n_perm)
        rows.append((f"power: B = A_x + {noise} noise", 40, n_sets // 3, p, v))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer datasets and repeats")
    args = ap.parse_args()
    import numba

    print(f"numba threads: {numba.get_num_threads()}; load average {os.getloadavg()[0]:.1f} "
          "(shared machine: absolute times are noisy, compare ratios within a block)")
    for label, env in VARIANTS:
        rows = timing_in_subprocess(env, 2 if args.quick else 4)
        print(f"\n{label}")
        print(f"{'N = 2000, 3-D Gaussian, A = xyz, B = xy':<46} {'seconds':>9}  ratio")
        for name, t, ratio in rows:
            print(f"{name:<46} {t:>9.4f}  {ratio}")
    n_sets = 60 if args.quick else 300
    n_perm = 99
    print(f"\ncalibration: {n_perm} permutations per dataset; rate of p(A->B) < 0.05 and of a "
          "relation other than 'independent'")
    print(f"{'case':<42} {'N':>5} {'datasets':>9} {'p<0.05':>8} {'not indep.':>11}")
    for name, n, sets, p, v in calibration(n_sets, n_perm):
        print(f"{name:<42} {n:>5} {sets:>9} {p:>8.3f} {v:>11.3f}")


if __name__ == "__main__":
    main()
