"""Numba kernels of the differentiable information imbalance (DII, Wild et al. 2025).

Conventions follow ``_kernels.py``: module-level ``@njit(cache=True)`` functions, arrays in and
arrays out, spaces stored transposed ``(d, N)`` and C-contiguous, ``period`` with one entry per
feature (``0`` = not periodic), work split into chunks of query rows (``bounds``) so buffers
are allocated once per chunk.

The quantity, for query rows i (all points, or a subsample) and reference points j != i::

    D_ij   = sum_f w_f^2 delta_f(i, j)^2                      (weighted squared distance in A)
    lam_i  = lambda_factor * D_{i, n(i)}                      (n(i): the lambda_k-th neighbour)
    c_ij   = exp(-D_ij / lam_i) / sum_{l != i} exp(-D_il / lam_i)
    t_i    = 2/N * sum_j c_ij r^B_ij                          (the per-query term)
    DII    = mean_i t_i

``r^B`` are mid-ranks in B, computed once. The gradient is analytic and includes the
dependence of ``lam_i`` on the weights (``d lam_i / d w_f = lambda_factor * 2 w_f
delta_f(i, n(i))^2``, with the neighbour n(i) held fixed), so it is exactly orthogonal to ``w``:
the DII does not change when all weights are scaled together.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import _kth_smallest


@njit(cache=True, nogil=True)
def _delta(a, b, p):
    """Difference a - b, by minimum image when the period ``p`` is positive."""
    t = a - b
    if p > 0.0:
        t = t - p * np.floor(t / p + 0.5)
    return t


@njit(cache=True, nogil=True)
def _weighted_sq_distances(XT, period, w2, i, out):
    """sum_f w2_f * delta_f(i, j)^2 for every j, into ``out`` (``out[i]`` set to inf)."""
    n = XT.shape[1]
    out[:] = 0.0
    for f in range(XT.shape[0]):
        wf = w2[f]
        if wf == 0.0:
            continue
        col = XT[f]
        xq = col[i]
        p = period[f]
        if p > 0.0:
            for j in range(n):
                t = _delta(col[j], xq, p)
                out[j] += wf * t * t
        else:
            for j in range(n):
                t = col[j] - xq
                out[j] += wf * t * t
    out[i] = np.inf


@njit(cache=True, nogil=True)
def _kth_neighbour(d, k, best, best_idx):
    """Index of the k-th smallest finite entry of ``d`` (buffers of length >= k)."""
    _kth_smallest(d, k, best, best_idx)
    return best_idx[k - 1]


@njit(cache=True, nogil=True)
def _smallest_positive(d):
    """Index of the smallest strictly positive finite entry of ``d`` (-1 if none)."""
    idx = -1
    v_best = np.inf
    for j in range(d.shape[0]):
        v = d[j]
        if 0.0 < v < v_best:
            v_best = v
            idx = j
    return idx


@njit(cache=True, parallel=True)
def midrank_rows(BT, period, rows, bounds):
    """Mid-ranks in B: ``R[q, j]`` is the rank of j among the points other than ``rows[q]``
    sorted by their distance to ``rows[q]`` (1 = nearest; ties share the mean rank).
    ``R[q, rows[q]]`` is 0."""
    n = BT.shape[1]
    m = rows.shape[0]
    R = np.zeros((m, n))
    ones = np.ones(BT.shape[0])
    for c in prange(bounds.shape[0] - 1):
        d = np.empty(n)
        for q in range(bounds[c], bounds[c + 1]):
            i = rows[q]
            _weighted_sq_distances(BT, period, ones, i, d)
            order = np.argsort(d, kind="mergesort")  # the query (inf) sorts last
            s = 0
            last = n - 1
            while s < last:
                e = s + 1
                while e < last and d[order[e]] == d[order[s]]:
                    e += 1
                r = 0.5 * (s + 1 + e)
                for t in range(s, e):
                    R[q, order[t]] = r
                s = e
    return R


@njit(cache=True, parallel=True)
def dii_terms_grad(XT, period, w, rows, R, lambda_k, lambda_factor, bounds):
    """Per-query DII terms and their gradients with respect to the weights ``w``.

    Returns ``terms`` (m,) and ``grads`` (m, d): their means over the query rows are the DII
    and its gradient. ``lambda_k``: neighbour order that sets each point's lambda.
    If a point's ``lambda_k``-th neighbour is at distance 0 (duplicates), the smallest positive
    distance sets lambda instead; if every distance is 0, lambda is 1 (uniform weights).
    """
    d_feat = XT.shape[0]
    n = XT.shape[1]
    m = rows.shape[0]
    terms = np.empty(m)
    grads = np.zeros((m, d_feat))
    w2 = w * w
    scale = 2.0 / n
    kk = min(max(lambda_k, 1), n - 1)
    for c in prange(bounds.shape[0] - 1):
        D = np.empty(n)
        e = np.empty(n)
        best = np.empty(kk)
        best_idx = np.empty(kk, dtype=np.int64)
        for q in range(bounds[c], bounds[c + 1]):
            i = rows[q]
            _weighted_sq_distances(XT, period, w2, i, D)
            nb = _kth_neighbour(D, kk, best, best_idx)
            lam = lambda_factor * D[nb]
            lam_term = True
            if not lam > 0.0:
                nb = _smallest_positive(D)
                if nb >= 0:
                    lam = lambda_factor * D[nb]
                else:
                    lam = 1.0
                    lam_term = False
            dmin = np.inf
            for j in range(n):
                if D[j] < dmin:
                    dmin = D[j]
            D[i] = dmin  # finite from here on; its softmax weight is set to 0 below
            z = 0.0
            for j in range(n):
                e[j] = np.exp(-(D[j] - dmin) / lam)
                z += e[j]
            z -= e[i]
            e[i] = 0.0
            rq = R[q]
            inv_z = 1.0 / z
            rbar = 0.0
            for j in range(n):
                e[j] *= inv_z
                rbar += e[j] * rq[j]
            terms[q] = scale * rbar
            # s_j = c_j (r_j - rbar); a_f = sum_j s_j delta_f^2; b = sum_j s_j D_j / lam
            b = 0.0
            inv_lam = 1.0 / lam
            for j in range(n):
                e[j] = e[j] * (rq[j] - rbar)
                b += e[j] * D[j]
            b *= inv_lam
            for f in range(d_feat):
                if w[f] == 0.0:
                    continue
                col = XT[f]
                xq = col[i]
                p = period[f]
                acc = 0.0
                if p > 0.0:
                    for j in range(n):
                        t = _delta(col[j], xq, p)
                        acc += e[j] * t * t
                else:
                    for j in range(n):
                        t = col[j] - xq
                        acc += e[j] * t * t
                corr = 0.0
                if lam_term:
                    t = _delta(col[nb], xq, p)
                    corr = b * lambda_factor * t * t
                grads[q, f] = -scale * 2.0 * w[f] * inv_lam * (acc - corr)
    return terms, grads
