"""Significance arithmetic shared by every analysis: permutation p-values, Benjamini-Hochberg
q-values, and the random streams of the nulls.

The null distribution of a statistic is computed by the analysis (it knows what may be
permuted); this module only turns null draws into p-values and many p-values into q-values,
so that every page and the command line use one definition (METHOD.md section 7).
"""

from __future__ import annotations

import numpy as np


def permutation_pvalue(observed: float, null: np.ndarray, *, smaller_is_extreme: bool = True) -> float:
    """(1 + #{null at least as extreme as observed}) / (1 + n).

    For the information imbalance a *small* Delta is the informative direction, so by default a
    null draw counts when it is <= the observed value; for a gain (imbalance gain, larger is
    more informative) pass ``smaller_is_extreme=False``. Never 0, exact under exchangeability.
    """
    null = np.asarray(null, dtype=np.float64)
    if null.size == 0:
        raise ValueError("the null distribution is empty (0 permutations)")
    # a relative tolerance, so that a null draw equal to the observed value up to rounding
    # counts as "as extreme" (ties with the observed value must not make p too small)
    tol = 1e-12 * max(1.0, abs(float(observed)))
    if smaller_is_extreme:
        hits = int(np.count_nonzero(null <= observed + tol))
    else:
        hits = int(np.count_nonzero(null >= observed - tol))
    return (1.0 + hits) / (1.0 + null.size)


def bh_qvalues(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input's order.

    NaN entries (tests not run) are ignored and stay NaN.

    >>> np.round(bh_qvalues([0.01, 0.04, 0.03, 0.5]), 4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q[order] = np.minimum(ranked, 1.0)
    return q


def circular_shifts(n: int, n_surrogates: int, min_shift: int, rng: np.random.Generator) -> np.ndarray:
    """``n_surrogates`` circular shifts in [min_shift, n - min_shift] for a series of length n.

    A circular shift keeps a series' autocorrelation and breaks its alignment with another
    series: the null for time series (a row permutation would destroy the autocorrelation and
    make any autocorrelated pair look significant).
    """
    if n - 2 * min_shift < 1:
        raise ValueError(f"series of length {n} is too short for a minimum shift of {min_shift} "
                         f"(needs at least {2 * min_shift + 1} points)")
    return rng.integers(min_shift, n - min_shift + 1, size=n_surrogates)
