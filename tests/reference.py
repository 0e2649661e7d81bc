"""A brute-force, plain-NumPy reference of the information imbalance (METHOD.md, section 1).

Independent of ``infoimb``: it shares no code with the package and is written the obvious,
slow way (full N x N distance matrices, a loop over the query points). Use it only for small
N (a few hundred points).

The contract it implements
--------------------------
* Distances: Euclidean, Manhattan or Chebyshev on the features, or a precomputed matrix;
  categorical features (0 equal / 1 different) and Gower's mixed distance.
  Periodic features use the minimum image ``t = |x_i - x_j| mod p; min(t, p - t)``.
  Per-feature weights multiply the features (and their periods) before distances.
* Ties in A: the points tied at the k-th neighbour distance share the remaining neighbour
  slots equally (with k = 1 and m points tied at the minimum, each gets weight 1/m).
* Ties in B: mid-ranks among the other points,
  ``r = 1 + #{l != i: d(i,l) < d(i,j)} + #{l != i, l != j: d(i,l) = d(i,j)} / 2``.
* ``Delta(A->B) = 2/N * mean_i (1/k) sum_j w_ij r^B_ij``.

Ties are decided by exact float equality. Euclidean distances here are square roots, which can
merge two squared distances one ulp apart into one value; for tied test data use values that
are exact in binary (integers, halves), where every tie is exact.
"""

from __future__ import annotations

import numpy as np


def as_features(x) -> np.ndarray:
    """Float matrix (N, d) from a 1-D or 2-D array-like (Series and DataFrames included)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    return arr


def per_feature(value, d: int, default: float) -> np.ndarray:
    """One value per feature from None, a scalar or a sequence of d values (None = default)."""
    if value is None:
        return np.full(d, default)
    if np.ndim(value) == 0:
        return np.full(d, float(value))
    values = [default if v is None else float(v) for v in value]
    assert len(values) == d, f"expected {d} values, got {len(values)}"
    return np.array(values)


def distance_matrix(x, metric: str = "euclidean", period=None, weights=None,
                    categorical=None) -> np.ndarray:
    """Full N x N distance matrix.

    ``period``: None, a scalar, or one value per feature (0 or None = not periodic).
    ``weights``: None, a scalar, or one value per feature; they multiply the features and
    the periods before distances are taken.
    ``categorical``: None or one bool per feature: such features (category codes) contribute
    0 when equal and 1 otherwise, combined as the metric combines features.
    Extra metrics: ``"categorical"`` (every feature by equality, mismatches counted) and
    ``"gower"`` (Gower's coefficient times d: sum over numeric features of |x_i - x_j| / range,
    a constant feature contributing 0, plus the categorical mismatches).
    """
    X = as_features(x)
    n, d = X.shape
    w = per_feature(weights, d, 1.0)
    p = per_feature(period, d, 0.0)
    cat = np.zeros(d, dtype=bool) if categorical is None else np.asarray(categorical, dtype=bool)
    if metric == "categorical":
        cat = np.ones(d, dtype=bool)
    Xw = X * w
    pw = p * w
    rng_ = np.ptp(X, axis=0)

    D = np.zeros((n, n))
    for i in range(n):
        # per-feature absolute differences from point i to every point, shape (n, d)
        diff = np.abs(Xw - Xw[i])
        for f in range(d):
            if cat[f]:
                diff[:, f] = (X[:, f] != X[i, f]).astype(float)
            elif pw[f] > 0:
                t = np.mod(diff[:, f], pw[f])
                diff[:, f] = np.minimum(t, pw[f] - t)
            if metric == "gower" and not cat[f]:
                diff[:, f] = diff[:, f] / rng_[f] if rng_[f] > 0 else 0.0
        if metric == "euclidean":
            D[i] = np.sqrt(np.sum(diff**2, axis=1))
        elif metric in ("manhattan", "categorical", "gower"):
            D[i] = np.sum(diff, axis=1)
        elif metric == "chebyshev":
            D[i] = np.max(diff, axis=1)
        else:
            raise ValueError(f"unknown metric {metric!r}")
    return D


def neighbour_weights(row: np.ndarray, i: int, k: int) -> np.ndarray:
    """Weights w_ij of the (tied) k nearest neighbours of point i, given its distance row.

    Points strictly closer than the k-th neighbour distance get weight 1; the points tied at
    that distance share the remaining ``k - #closer`` slots equally. Point i gets 0.
    """
    others = np.arange(row.shape[0]) != i
    kth = np.sort(row[others])[k - 1]
    closer = others & (row < kth)
    tied = others & (row == kth)
    w = np.zeros(row.shape[0])
    w[closer] = 1.0
    w[tied] = (k - np.count_nonzero(closer)) / np.count_nonzero(tied)
    return w


def midranks(row: np.ndarray, i: int, js=None) -> np.ndarray:
    """Mid-ranks of the points ``js`` (default: all; entry i is then NaN) among the points
    other than i, by their distance to i:

    ``r_j = 1 + #{l != i: d_l < d_j} + #{l != i, l != j: d_l = d_j} / 2``.
    """
    others = np.arange(row.shape[0]) != i
    d_other = row[others]
    if js is None:
        js = np.arange(row.shape[0])
    js = np.asarray(js)
    d_j = row[js]
    # less[j] = #{l != i: d_l < d_j};  equal[j] = #{l != i: d_l == d_j}, which counts j itself
    less = np.sum(d_other[None, :] < d_j[:, None], axis=1)
    equal = np.sum(d_other[None, :] == d_j[:, None], axis=1)
    r = 1.0 + less + (equal - 1) / 2.0
    r[js == i] = np.nan
    return r


def query_terms(DA: np.ndarray, DB: np.ndarray, k: int = 1) -> np.ndarray:
    """Per-query terms t_i = 2/N * (1/k) * sum_j w_ij r^B_ij; Delta(A->B) is their mean."""
    n = DA.shape[0]
    terms = np.empty(n)
    for i in range(n):
        w = neighbour_weights(DA[i], i, k)
        neighbours = np.flatnonzero(w)
        r = midranks(DB[i], i, neighbours)
        terms[i] = 2.0 / n * np.sum(w[neighbours] * r) / k
    return terms


def imbalance_from_matrices(DA: np.ndarray, DB: np.ndarray, k: int = 1) -> float:
    """Delta(A->B) from two N x N distance matrices (only row i of each is used for query i)."""
    return float(np.mean(query_terms(DA, DB, k)))


def imbalance(a, b, k: int = 1, metric: str = "euclidean", period_a=None, period_b=None,
              weights_a=None, weights_b=None, metric_b: str | None = None, categorical_a=None,
              categorical_b=None) -> float:
    """Delta(A->B) from features (or from matrices when ``metric="precomputed"``).

    ``metric_b``: B's metric when it differs from A's; ``categorical_a/_b``: per-feature
    bools (see :func:`distance_matrix`)."""
    if metric == "precomputed":
        DA = np.asarray(a, dtype=np.float64)
        DB = np.asarray(b, dtype=np.float64)
    else:
        DA = distance_matrix(a, metric, period_a, weights_a, categorical_a)
        DB = distance_matrix(b, metric_b or metric, period_b, weights_b, categorical_b)
    return imbalance_from_matrices(DA, DB, k)


def permuted_imbalance(DA: np.ndarray, DB: np.ndarray, perm, k: int = 1) -> float:
    """Delta(A->B) after B's rows are permuted: B's point i becomes B's point perm[i]."""
    perm = np.asarray(perm)
    return imbalance_from_matrices(DA, DB[np.ix_(perm, perm)], k)


def theiler_query_terms(DA: np.ndarray, DB: np.ndarray, series, times, w: float,
                        k: int = 1) -> np.ndarray:
    """Per-query terms with a Theiler window: for query i, the points of its own series with
    |t_j - t_i| <= w (i included) are removed from both rows; with N_i references left the
    term is 2 / (k (N_i + 1)) * sum_j w_ij r^B_ij."""
    series = np.asarray(series)
    times = np.asarray(times, dtype=np.float64)
    n = DA.shape[0]
    terms = np.empty(n)
    for i in range(n):
        keep = ~((series == series[i]) & (np.abs(times - times[i]) <= w))
        keep[i] = True  # the query's own slot; neighbour_weights/midranks exclude it
        idx = np.flatnonzero(keep)
        qi = int(np.flatnonzero(idx == i)[0])
        ra, rb = DA[i, idx], DB[i, idx]
        wts = neighbour_weights(ra, qi, k)
        nb = np.flatnonzero(wts)
        r = midranks(rb, qi, nb)
        n_ref = idx.size - 1
        terms[i] = 2.0 / (k * (n_ref + 1)) * np.sum(wts[nb] * r)
    return terms
