"""Engine benchmark: infoimb against a NumPy full-sort baseline and, when installed, DADApy.

Both directions of Delta(xyz <-> xy) on the 3-D Gaussian of METHOD.md. Every case runs in a
fresh subprocess so peak memory (ru_maxrss of that process) is the whole process's.

    python bench/bench_engine.py            # the table of the README
    python bench/bench_engine.py --quick    # small sizes only
    python bench/bench_engine.py --progress # with and without a progress callback

DADApy is looked for in the interpreter given by DADAPY_PYTHON (a separate virtualenv with
dadapy==0.3.4), or in this one.
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
t_import = time.perf_counter()
updates = []
if kind in ("infoimb", "infoimb-progress"):
    import infoimb
    t0 = time.perf_counter()
    infoimb.imbalance_pair(A[:50], B[:50])  # load the kernel from numba's cache (compiles once)
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    progress = (lambda f, m: updates.append(f)) if kind == "infoimb-progress" else None
    p = infoimb.imbalance_pair(A, B, n_queries=nq or None, random_state=0, progress=progress)
    ab, ba = p.a_to_b, p.b_to_a
elif kind == "numpy-fullsort":
    t_warm = 0.0
    t0 = time.perf_counter()
    def ranks(Z):
        d = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
        np.fill_diagonal(d, np.inf)
        order = np.argsort(d, axis=1)
        r = np.empty_like(order)
        r[np.arange(n)[:, None], order] = np.arange(1, n + 1)[None, :]
        return order[:, 0], r
    nnA, rA = ranks(A); nnB, rB = ranks(B)
    ab = 2 / n * rB[np.arange(n), nnA].mean(); ba = 2 / n * rA[np.arange(n), nnB].mean()
elif kind == "dadapy":
    t_warm = 0.0
    from dadapy.metric_comparisons import MetricComparisons
    t0 = time.perf_counter()
    d = MetricComparisons(coordinates=X, maxk=n - 1, verbose=False)
    imb = d.return_inf_imb_two_selected_coords([0, 1, 2], [0, 1])
    ab, ba = float(imb[0]), float(imb[1])
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "peak_mb": peak, "ab": float(ab), "ba": float(ba), "warm": t_warm,
                  "updates": len(updates)}))
""")


def run(kind: str, n: int, nq: int = 0, python: str = sys.executable, timeout: int = 900) -> dict | None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        out = subprocess.run([python, "-c", CASE, kind, str(n), str(nq)], capture_output=True,
                             text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout}s"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_start() -> dict:
    """First call in a fresh process with the on-disk numba cache warm (import included)."""
    code = ("import time; t0=time.perf_counter(); import numpy as np, infoimb; "
            "X=np.random.default_rng(0).normal(size=(1000,3)); infoimb.imbalance_pair(X, X[:, :2]); "
            "print(time.perf_counter()-t0)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)  # fills the cache
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return {"seconds": float(out.stdout.strip())}


def dadapy_python() -> str | None:
    cand = os.environ.get("DADAPY_PYTHON")
    for py in ([cand] if cand else []) + [sys.executable]:
        ok = subprocess.run([py, "-c", "import dadapy"], capture_output=True).returncode == 0
        if ok:
            return py
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--progress", action="store_true",
                    help="only infoimb without and with a progress callback (chunked calls), "
                         "interleaved, to show the chunking costs nothing measurable")
    ap.add_argument("--sizes", default="20000,100000", help="N values for --progress")
    ap.add_argument("--repeats", type=int, default=2, help="repeats for --progress")
    args = ap.parse_args()
    if args.progress:
        print(f"{'implementation':<18}{'N':>9}{'seconds':>10}{'updates':>9}{'Δ(xyz→xy)':>12}")
        for n in (int(x) for x in args.sizes.split(",")):
            for rep in range(args.repeats):
                for kind in ("infoimb", "infoimb-progress"):
                    r = run(kind, n)
                    print(f"{kind:<18}{n:>9}{r['seconds']:>10.2f}{r['updates']:>9}{r['ab']:>12.6f}",
                          flush=True)
        return
    dpy = dadapy_python()
    sizes = [2000, 5000] if args.quick else [2000, 5000, 20000]
    cases = [("infoimb", n, 0) for n in sizes]
    if not args.quick:
        cases += [("infoimb", 100_000, 0), ("infoimb", 1_000_000, 10_000)]
    cases += [("numpy-fullsort", n, 0) for n in sizes]
    if dpy:
        cases += [("dadapy", n, 0) for n in sizes if n <= 5000]
    print(f"{'implementation':<16}{'N':>9}{'queries':>9}{'seconds':>10}{'peak MB':>9}"
          f"{'Δ(xyz→xy)':>12}{'Δ(xy→xyz)':>12}")
    for kind, n, nq in cases:
        r = run(kind, n, nq, python=dpy if kind == "dadapy" else sys.executable)
        q = nq or n
        if "error" in r:
            print(f"{kind:<16}{n:>9}{q:>9}   {r['error']}")
        else:
            print(f"{kind:<16}{n:>9}{q:>9}{r['seconds']:>10.2f}{r['peak_mb']:>9.0f}"
                  f"{r['ab']:>12.5f}{r['ba']:>12.5f}", flush=True)
    c = cold_start()
    print(f"\ncold start (fresh process, import + first Δ pair at N=1000, numba cache warm): "
          f"{c['seconds']:.2f} s")


if __name__ == "__main__":
    main()
