"""Cross-check of the pairwise imbalance gains against DADApy's return_inf_imb_causality.

On a small system (a chain of coupled logistic maps X -> Y -> Z plus an unconnected W,
N = 500, continuous values: no ties), for every ordered pair the scan

    Delta((alpha X_t, Y_t) -> Y_{t+1}),  alpha in 0, 0.05, ..., 1

is computed by infoimb (the alpha-scan kernel, exact, tie-aware) and by DADApy's
``MetricComparisons(maxk=N-1).return_inf_imb_causality`` (maxk = N-1: no truncation of the
ranks, so DADApy's random replacement of far ranks never happens; without ties its index-order
tie breaking does not matter). The two must agree to rounding, and so must the gains.

Runs only where DADApy is installed (``pip install dadapy``); it is not part of ``make test``.

Run:  python bench/crosscheck_dadapy.py
"""

from __future__ import annotations

import sys

import numpy as np


def main() -> int:
    try:
        from dadapy.metric_comparisons import MetricComparisons
    except ImportError:
        print("DADApy is not installed here (pip install dadapy): cross-check skipped.")
        return 0

    from infoimb.causality import imbalance_gain
    from infoimb.datasets import logistic_network

    df = logistic_network({"X": [], "Y": ["X"], "Z": ["Y"], "W": []}, n=501, random_state=1)
    z = ((df - df.mean()) / df.std()).to_numpy()
    names = list(df.columns)
    alphas = np.linspace(0.0, 1.0, 21)
    k = 5
    n = z.shape[0] - 1
    dadapy = MetricComparisons(maxk=n - 1, n_jobs=1)
    worst_delta = 0.0
    worst_gain = 0.0
    print(f"N = {n}, k = {k}, {len(alphas)} alphas, exact (DADApy maxk = N-1)")
    print(f"{'pair':<8} {'IG infoimb':>11} {'IG DADApy':>11} {'max |ΔΔ|':>10}")
    for c, cause in enumerate(names):
        for e, effect in enumerate(names):
            if c == e:
                continue
            ours = imbalance_gain(z[:, c], z[:, e], tau=1, alphas=alphas, k=k)
            theirs = np.asarray(dadapy.return_inf_imb_causality(
                cause_present=z[:-1, [c]], effect_present=z[:-1, [e]],
                effect_future=z[1:, [e]], weights=alphas, k=k), dtype=float)
            gain_theirs = (theirs[0] - theirs.min()) / theirs[0]
            d = float(np.max(np.abs(ours.delta - theirs)))
            worst_delta = max(worst_delta, d)
            worst_gain = max(worst_gain, abs(ours.gain - gain_theirs))
            print(f"{cause}->{effect:<5} {ours.gain:>11.6f} {gain_theirs:>11.6f} {d:>10.2e}")
    print(f"largest difference: Delta {worst_delta:.2e}, gain {worst_gain:.2e}")
    ok = worst_delta < 1e-9 and worst_gain < 1e-9
    print("agreement" if ok else "DISAGREEMENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
