"""Numba kernels of the information imbalance: arrays in, arrays out.

Every kernel here is a module-level ``@njit(cache=True)`` function. Python code picks kernels
by name and passes the metric as an integer code; no jitted function is ever passed as an
argument (that would defeat numba's on-disk cache).

Conventions
-----------
* A *space* is stored transposed and C-contiguous: ``XT`` has shape ``(d, N)``, so the inner
  loops run over points and vectorise.
* ``period`` has one entry per feature of a space; ``0`` means "not periodic", a negative
  entry marks a *categorical* feature (category codes stored as floats): it contributes 0
  when the codes are equal and 1 otherwise, combined as the metric combines features (for
  Euclidean the square of 0/1 is itself). Metric ``CATEGORICAL`` treats every feature so.
* Distances are compared, never reported: the Euclidean kernels work on squared distances.
* Ties follow METHOD.md: the points tied at the k-th neighbour distance share the remaining
  neighbour slots equally, and ranks in the other space are mid-ranks among the other points.

The per-query quantity every kernel returns is the *term*
``t_i = 2/N * (1/k) * sum_j w_ij r^B_ij``; Delta is the mean of the terms.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

EUCLIDEAN = 0
MANHATTAN = 1
CHEBYSHEV = 2
# every feature compared by equality (0 equal, 1 different), mismatches counted (Hamming)
CATEGORICAL = 3
# Gower: sum of |x - y| over numeric features (divided by their ranges beforehand, in
# _spaces.py) plus the mismatches of the categorical features
GOWER = 4
METRIC_CODES = {"euclidean": EUCLIDEAN, "manhattan": MANHATTAN, "chebyshev": CHEBYSHEV,
                "categorical": CATEGORICAL, "gower": GOWER}

# Neighbour sets up to this size are ranked with a linear scan; larger (tied) sets are
# sorted once and ranked by binary search.
_SMALL_SET = 8


# --------------------------------------------------------------------------------------
# distances
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _accumulate(col, xq, p, metric, base, out):
    """out = base (+) one feature's contribution: sum of squares, sum, or max.

    ``base`` and ``out`` may be the same array (in-place accumulation).
    """
    n = col.shape[0]
    if p < 0.0 or metric == CATEGORICAL:  # categorical: 0 equal, 1 different
        if metric == CHEBYSHEV:
            for j in range(n):
                out[j] = max(base[j], 0.0 if col[j] == xq else 1.0)
        else:
            for j in range(n):
                out[j] = base[j] + (0.0 if col[j] == xq else 1.0)
    elif p > 0.0:
        for j in range(n):
            t = abs(col[j] - xq)
            t = t - p * np.floor(t / p)
            if p - t < t:
                t = p - t
            if metric == EUCLIDEAN:
                out[j] = base[j] + t * t
            elif metric == MANHATTAN or metric == GOWER:
                out[j] = base[j] + t
            else:
                out[j] = max(base[j], t)
    elif metric == EUCLIDEAN:
        for j in range(n):
            t = col[j] - xq
            out[j] = base[j] + t * t
    elif metric == MANHATTAN or metric == GOWER:
        for j in range(n):
            out[j] = base[j] + abs(col[j] - xq)
    else:
        for j in range(n):
            out[j] = max(base[j], abs(col[j] - xq))


@njit(cache=True, nogil=True)
def _row_distances(XT, period, metric, i, out):
    """Distances (squared for Euclidean) from point ``i`` to every point, into ``out``."""
    out[:] = 0.0
    for f in range(XT.shape[0]):
        _accumulate(XT[f], XT[f, i], period[f], metric, out, out)


@njit(cache=True, nogil=True)
def _row_distances_to(XT, period, metric, xq, out):
    """Distances from an outside point ``xq`` (shape (d,)) to every point, into ``out``."""
    out[:] = 0.0
    for f in range(XT.shape[0]):
        _accumulate(XT[f], xq[f], period[f], metric, out, out)


# --------------------------------------------------------------------------------------
# neighbours with ties, and mid-ranks
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _kth_smallest(d, k, best, best_idx):
    """The k-th smallest value of ``d``; ``best`` / ``best_idx`` (length >= k) receive the k
    smallest values and their positions, in increasing order."""
    for s in range(k):
        best[s] = np.inf
        best_idx[s] = -1
    _track_block(d, d.shape[0], 0, k, best, best_idx)
    return best[k - 1]


@njit(cache=True, nogil=True)
def _neighbour_values(d_own, d_other, k, best, best_idx, vals, wts):
    """Values in the other space of the (tied) k nearest neighbours in the own space.

    Fills ``vals[:m]`` with ``d_other`` at the neighbours and ``wts[:m]`` with their weights
    (1, or the shared fraction for the points tied at the k-th distance) and returns ``m``.
    The query itself must carry ``inf`` in both rows.
    """
    t = _kth_smallest(d_own, k, best, best_idx)
    n_le = 0
    for j in range(d_own.shape[0]):
        if d_own[j] <= t:
            n_le += 1
    if n_le == k:  # no tie at the k-th distance: the k found are the neighbours
        for s in range(k):
            vals[s] = d_other[best_idx[s]]
            wts[s] = 1.0
        return k
    n_less = 0
    for s in range(k):
        if best[s] < t:
            n_less += 1
    n_eq = n_le - n_less
    w_tied = (k - n_less) / n_eq
    m = 0
    for j in range(d_own.shape[0]):
        v = d_own[j]
        if v < t:
            vals[m] = d_other[j]
            wts[m] = 1.0
            m += 1
        elif v == t:
            vals[m] = d_other[j]
            wts[m] = w_tied
            m += 1
    return m


@njit(cache=True, nogil=True)
def _weighted_rank_sum(d, vals, wts, m, k):
    """sum_j w_j * midrank(d, vals_j) over the m neighbour values.

    midrank(v) = 1 + #{l: d_l < v} + (#{l: d_l == v} - 1) / 2, the query carrying inf in d.
    Equivalent pair-count form: k/2 + sum_l W_greater(d_l) + sum_l W_equal(d_l) / 2.
    """
    n = d.shape[0]
    if m == 1:
        v = vals[0]
        n_less = 0
        n_eq = 0
        for l in range(n):
            if d[l] < v:
                n_less += 1
            elif d[l] == v:
                n_eq += 1
        return wts[0] * (1.0 + n_less + (n_eq - 1) * 0.5)
    if m <= _SMALL_SET:
        s_less = 0.0
        s_eq = 0.0
        for l in range(n):
            x = d[l]
            for s in range(m):
                if x < vals[s]:
                    s_less += wts[s]
                elif x == vals[s]:
                    s_eq += wts[s]
        return 0.5 * k + s_less + 0.5 * s_eq
    # many tied neighbours: sort their values once, then binary-search each d_l.
    order = np.argsort(vals[:m], kind="mergesort")
    u = np.empty(m)
    uw = np.empty(m)
    q = 0
    for s in range(m):
        v = vals[order[s]]
        if q > 0 and u[q - 1] == v:
            uw[q - 1] += wts[order[s]]
        else:
            u[q] = v
            uw[q] = wts[order[s]]
            q += 1
    above = np.empty(q + 1)  # above[p] = weight of the unique values at positions >= p
    above[q] = 0.0
    for p in range(q - 1, -1, -1):
        above[p] = above[p + 1] + uw[p]
    s_less = 0.0
    s_eq = 0.0
    for l in range(n):
        x = d[l]
        lo = 0
        hi = q
        while lo < hi:
            mid = (lo + hi) >> 1
            if u[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        if lo < q and u[lo] == x:
            s_eq += uw[lo]
            s_less += above[lo + 1]
        else:
            s_less += above[lo]
    return 0.5 * k + s_less + 0.5 * s_eq


@njit(cache=True, nogil=True)
def _query_terms(dA, dB, k, scale, best, best_idx, vals, wts):
    """Both directions' terms for one query whose rows are dA and dB (query set to inf)."""
    m = _neighbour_values(dA, dB, k, best, best_idx, vals, wts)
    t_ab = scale * _weighted_rank_sum(dB, vals, wts, m, k)
    m = _neighbour_values(dB, dA, k, best, best_idx, vals, wts)
    t_ba = scale * _weighted_rank_sum(dA, vals, wts, m, k)
    return t_ab, t_ba


# --------------------------------------------------------------------------------------
# large N: groups of queries stream over blocks of points (no O(N) rows per query)
# --------------------------------------------------------------------------------------
_BLOCK = 256  # points per block: a block of every query's two rows stays in L1/L2
_GROUP = 8  # queries sharing one sweep over the points (each column is read once per group)


@njit(cache=True, nogil=True)
def _block_row(XT, period, metric, i, start, stop, out):
    """out[:stop-start] = distances (squared for Euclidean) from point i to points start..stop."""
    L = stop - start
    for f in range(XT.shape[0]):
        col = XT[f, start:stop]  # a slice: non-negative indices below, so the loops vectorise
        xq = XT[f, i]
        p = period[f]
        if f == 0:
            for j in range(L):
                out[j] = 0.0
        if p < 0.0 or metric == CATEGORICAL:  # categorical: 0 equal, 1 different
            if metric == CHEBYSHEV:
                for j in range(L):
                    out[j] = max(out[j], 0.0 if col[j] == xq else 1.0)
            else:
                for j in range(L):
                    out[j] += 0.0 if col[j] == xq else 1.0
        elif p > 0.0:
            for j in range(L):
                t = abs(col[j] - xq)
                t = t - p * np.floor(t / p)
                if p - t < t:
                    t = p - t
                if metric == EUCLIDEAN:
                    out[j] += t * t
                elif metric == MANHATTAN or metric == GOWER:
                    out[j] += t
                else:
                    out[j] = max(out[j], t)
        elif metric == EUCLIDEAN:
            for j in range(L):
                t = col[j] - xq
                out[j] += t * t
        elif metric == MANHATTAN or metric == GOWER:
            for j in range(L):
                out[j] += abs(col[j] - xq)
        else:
            for j in range(L):
                out[j] = max(out[j], abs(col[j] - xq))
    if start <= i < stop:
        out[i - start] = np.inf


@njit(cache=True, nogil=True)
def _point_distance(XT, period, metric, i, j):
    """Distance between points i and j, computed exactly as :func:`_block_row` does."""
    buf = np.empty(1)
    _block_row(XT, period, metric, i, j, j + 1, buf)
    return buf[0]


@njit(cache=True, nogil=True)
def _track_block(d, L, start, k, best, best_idx):
    """Update the k smallest values (and global positions) with the block d[:L]."""
    last = k - 1
    for j in range(L):
        v = d[j]
        if v < best[last]:
            s = last
            while s > 0 and best[s - 1] > v:
                best[s] = best[s - 1]
                best_idx[s] = best_idx[s - 1]
                s -= 1
            best[s] = v
            best_idx[s] = start + j


@njit(cache=True, parallel=True)
def pair_terms_streamed(AT, period_a, metric_a, BT, period_b, metric_b, queries, k, scale):
    """As :func:`pair_terms`, for large N: O(_GROUP * _BLOCK) memory per task.

    Each group of queries sweeps the points twice: once to find every query's k nearest in
    both spaces, once (distances recomputed identically) to count the points at or below the
    k-th distance and the ranks of the neighbours in the other space. A query with a tie at
    the k-th distance falls back to full rows and the general tie-aware path.
    """
    n = AT.shape[1]
    nq = queries.shape[0]
    t_ab = np.empty(nq)
    t_ba = np.empty(nq)
    n_groups = (nq + _GROUP - 1) // _GROUP
    for g in prange(n_groups):
        g0 = g * _GROUP
        Q = min(_GROUP, nq - g0)
        rowA = np.empty((Q, _BLOCK))
        rowB = np.empty((Q, _BLOCK))
        bestA = np.full((Q, k), np.inf)
        bestB = np.full((Q, k), np.inf)
        idxA = np.full((Q, k), -1, dtype=np.int64)
        idxB = np.full((Q, k), -1, dtype=np.int64)
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            for q in range(Q):
                i = queries[g0 + q]
                _block_row(AT, period_a, metric_a, i, start, stop, rowA[q])
                _block_row(BT, period_b, metric_b, i, start, stop, rowB[q])
                _track_block(rowA[q], stop - start, start, k, bestA[q], idxA[q])
                _track_block(rowB[q], stop - start, start, k, bestB[q], idxB[q])
        # the other space's distance of each query's neighbours
        vb = np.empty((Q, k))
        va = np.empty((Q, k))
        for q in range(Q):
            i = queries[g0 + q]
            for s in range(k):
                vb[q, s] = _point_distance(BT, period_b, metric_b, i, idxA[q, s])
                va[q, s] = _point_distance(AT, period_a, metric_a, i, idxB[q, s])
        le_a = np.zeros(Q, dtype=np.int64)
        le_b = np.zeros(Q, dtype=np.int64)
        less_b = np.zeros(Q, dtype=np.int64)
        eq_b = np.zeros(Q, dtype=np.int64)
        less_a = np.zeros(Q, dtype=np.int64)
        eq_a = np.zeros(Q, dtype=np.int64)
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            L = stop - start
            for q in range(Q):
                i = queries[g0 + q]
                ra = rowA[q]
                rb = rowB[q]
                _block_row(AT, period_a, metric_a, i, start, stop, ra)
                _block_row(BT, period_b, metric_b, i, start, stop, rb)
                tA = bestA[q, k - 1]
                tB = bestB[q, k - 1]
                c1 = 0
                c2 = 0
                for j in range(L):
                    if ra[j] <= tA:
                        c1 += 1
                    if rb[j] <= tB:
                        c2 += 1
                le_a[q] += c1
                le_b[q] += c2
                for s in range(k):
                    x = vb[q, s]
                    y = va[q, s]
                    c1 = 0
                    c2 = 0
                    c3 = 0
                    c4 = 0
                    for j in range(L):
                        if rb[j] < x:
                            c1 += 1
                        if rb[j] == x:
                            c2 += 1
                        if ra[j] < y:
                            c3 += 1
                        if ra[j] == y:
                            c4 += 1
                    less_b[q] += c1
                    eq_b[q] += c2
                    less_a[q] += c3
                    eq_a[q] += c4
        full_a = np.empty(0)
        full_b = np.empty(0)
        vals = np.empty(0)
        wts = np.empty(0)
        for q in range(Q):
            # no tie at the k-th distance: sum of the k mid-ranks from the pair counts
            if le_a[q] == k:
                t_ab[g0 + q] = scale * (k + less_b[q] + 0.5 * (eq_b[q] - k))
            if le_b[q] == k:
                t_ba[g0 + q] = scale * (k + less_a[q] + 0.5 * (eq_a[q] - k))
            if le_a[q] != k or le_b[q] != k:
                if full_a.shape[0] == 0:
                    full_a = np.empty(n)
                    full_b = np.empty(n)
                    vals = np.empty(n)
                    wts = np.empty(n)
                i = queries[g0 + q]
                _block_row(AT, period_a, metric_a, i, 0, n, full_a)
                _block_row(BT, period_b, metric_b, i, 0, n, full_b)
                best = np.empty(k)
                best_idx = np.empty(k, dtype=np.int64)
                if le_a[q] != k:
                    m = _neighbour_values(full_a, full_b, k, best, best_idx, vals, wts)
                    t_ab[g0 + q] = scale * _weighted_rank_sum(full_b, vals, wts, m, k)
                if le_b[q] != k:
                    m = _neighbour_values(full_b, full_a, k, best, best_idx, vals, wts)
                    t_ba[g0 + q] = scale * _weighted_rank_sum(full_a, vals, wts, m, k)
    return t_ab, t_ba


def chunks(n_items, n_chunks):
    """Chunk boundaries (as an int64 array) splitting ``n_items`` into ``n_chunks`` parts."""
    n_chunks = max(1, min(n_chunks, n_items))
    return np.linspace(0, n_items, n_chunks + 1).astype(np.int64)


_chunks = chunks  # the former private name, for code not yet moved to ``chunks``


# --------------------------------------------------------------------------------------
# the pair kernels: both directions fused, parallel over queries
# --------------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def pair_terms(AT, period_a, metric_a, BT, period_b, metric_b, queries, k, scale, bounds):
    """Per-query terms of Delta(A->B) and Delta(B->A): ``scale * sum_j w_ij r_ij``.

    AT, BT: (d_A, N) and (d_B, N) spaces; queries: indices of the query points; scale:
    2 / (N k) for Delta, 1 for the raw rank sums; bounds: chunk boundaries over ``queries``
    (one chunk per task; buffers are allocated once per chunk).
    """
    n = AT.shape[1]
    nq = queries.shape[0]
    t_ab = np.empty(nq)
    t_ba = np.empty(nq)
    for c in prange(bounds.shape[0] - 1):
        dA = np.empty(n)
        dB = np.empty(n)
        best = np.empty(k)
        best_idx = np.empty(k, dtype=np.int64)
        vals = np.empty(n)
        wts = np.empty(n)
        for qi in range(bounds[c], bounds[c + 1]):
            i = queries[qi]
            _row_distances(AT, period_a, metric_a, i, dA)
            _row_distances(BT, period_b, metric_b, i, dB)
            dA[i] = np.inf
            dB[i] = np.inf
            t_ab[qi], t_ba[qi] = _query_terms(dA, dB, k, scale, best, best_idx, vals, wts)
    return t_ab, t_ba


@njit(cache=True, parallel=True)
def pair_terms_precomputed(DA, DB, queries, k, scale, bounds):
    """As :func:`pair_terms`, for two precomputed N x N distance matrices."""
    n = DA.shape[0]
    nq = queries.shape[0]
    t_ab = np.empty(nq)
    t_ba = np.empty(nq)
    for c in prange(bounds.shape[0] - 1):
        dA = np.empty(n)
        dB = np.empty(n)
        best = np.empty(k)
        best_idx = np.empty(k, dtype=np.int64)
        vals = np.empty(n)
        wts = np.empty(n)
        for qi in range(bounds[c], bounds[c + 1]):
            i = queries[qi]
            for j in range(n):
                dA[j] = DA[i, j]
                dB[j] = DB[i, j]
            dA[i] = np.inf
            dB[i] = np.inf
            t_ab[qi], t_ba[qi] = _query_terms(dA, dB, k, scale, best, best_idx, vals, wts)
    return t_ab, t_ba


# --------------------------------------------------------------------------------------
# many candidate subsets against one target: selection
# --------------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def subset_terms(XT, period_x, parents, parent_len, cand_parent, cand_feature,
                 BT, period_b, metric, queries, k, bounds, metric_b):
    """Per-query terms of Delta(S_c -> B) and Delta(B -> S_c) for many candidate subsets S_c.

    Candidate c is the parent subset ``parents[cand_parent[c], :parent_len[p]]`` plus the
    feature ``cand_feature[c]`` (-1: none). Candidates must be grouped by parent (all
    candidates of a parent consecutive) so each parent's partial distances are computed once
    per query; the target's distances and neighbours are computed once per query.
    ``metric`` applies to the candidates, ``metric_b`` to the target.
    Returns two arrays of shape (n_candidates, n_queries).
    """
    n = XT.shape[1]
    nq = queries.shape[0]
    nc = cand_parent.shape[0]
    t_sb = np.empty((nc, nq))
    t_bs = np.empty((nc, nq))
    scale = 2.0 / (n * k)
    idx_as_float = np.arange(n).astype(np.float64)
    for c in prange(bounds.shape[0] - 1):
        dB = np.empty(n)
        dP = np.empty(n)
        dS = np.empty(n)
        best = np.empty(k)
        best_idx = np.empty(k, dtype=np.int64)
        vals = np.empty(n)
        wts = np.empty(n)
        b_pos = np.empty(n)
        b_wts = np.empty(n)
        vals_b = np.empty(n)
        rank_b = np.empty(n)
        for qi in range(bounds[c], bounds[c + 1]):
            i = queries[qi]
            _row_distances(BT, period_b, metric_b, i, dB)
            dB[i] = np.inf
            # the target's (tied) neighbours, once per query: positions and weights
            mb = _neighbour_values(dB, idx_as_float, k, best, best_idx, b_pos, b_wts)
            # the target's mid-ranks are sorted out at most once per query, the first time a
            # candidate has a large (tied) neighbour set; such a candidate's Delta(S -> B) is
            # then a sum over its neighbours instead of a binary search for every point
            have_rank_b = False
            current = -1
            for cc in range(nc):
                p = cand_parent[cc]
                if p != current:
                    dP[:] = 0.0
                    for s in range(parent_len[p]):
                        f = parents[p, s]
                        _accumulate(XT[f], XT[f, i], period_x[f], metric, dP, dP)
                    current = p
                f = cand_feature[cc]
                if f >= 0:
                    _accumulate(XT[f], XT[f, i], period_x[f], metric, dP, dS)
                else:
                    dS[:] = dP
                dS[i] = np.inf
                m = _neighbour_values(dS, idx_as_float, k, best, best_idx, vals, wts)
                if m <= _SMALL_SET:
                    for s in range(m):
                        vals[s] = dB[np.int64(vals[s])]
                    t_sb[cc, qi] = scale * _weighted_rank_sum(dB, vals, wts, m, k)
                else:
                    if not have_rank_b:
                        _midranks(dB, rank_b)
                        have_rank_b = True
                    acc = 0.0
                    for s in range(m):
                        acc += wts[s] * rank_b[np.int64(vals[s])]
                    t_sb[cc, qi] = scale * acc
                for s in range(mb):
                    vals_b[s] = dS[np.int64(b_pos[s])]
                t_bs[cc, qi] = scale * _weighted_rank_sum(dS, vals_b, b_wts, mb, k)
    return t_sb, t_bs


# --------------------------------------------------------------------------------------
# ranks for plots
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _midranks(d, out):
    """Mid-ranks (1-based) of every entry of d among the others; inf entries are excluded
    from counting as smaller (the query carries inf)."""
    n = d.shape[0]
    order = np.argsort(d, kind="mergesort")
    s = 0
    while s < n:
        e = s + 1
        while e < n and d[order[e]] == d[order[s]]:
            e += 1
        r = 0.5 * (s + 1 + e)  # mean of positions s+1..e
        for t in range(s, e):
            out[order[t]] = r
        s = e


@njit(cache=True, parallel=True)
def rank_pairs(AT, period_a, metric_a, BT, period_b, metric_b, queries, partners):
    """Mid-ranks in A and in B of ``partners[q, :]`` relative to query ``queries[q]``."""
    n = AT.shape[1]
    nq = queries.shape[0]
    npart = partners.shape[1]
    ra = np.empty((nq, npart))
    rb = np.empty((nq, npart))
    for qi in prange(nq):
        i = queries[qi]
        dA = np.empty(n)
        dB = np.empty(n)
        rA = np.empty(n)
        rB = np.empty(n)
        _row_distances(AT, period_a, metric_a, i, dA)
        _row_distances(BT, period_b, metric_b, i, dB)
        dA[i] = np.inf
        dB[i] = np.inf
        _midranks(dA, rA)
        _midranks(dB, rB)
        for s in range(npart):
            ra[qi, s] = rA[partners[qi, s]]
            rb[qi, s] = rB[partners[qi, s]]
    return ra, rb


# --------------------------------------------------------------------------------------
# one precomputed matrix, one feature space
# --------------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def pair_terms_mixed(DA, BT, period_b, metric_b, queries, k, scale, bounds):
    """As :func:`pair_terms` with A given by an N x N matrix (float64 or float32, widened
    exactly row by row) and B by features: B's distances are computed per query exactly as
    in :func:`pair_terms` (squared for Euclidean), O(N) memory per chunk."""
    n = DA.shape[0]
    nq = queries.shape[0]
    t_ab = np.empty(nq)
    t_ba = np.empty(nq)
    for c in prange(bounds.shape[0] - 1):
        dA = np.empty(n)
        dB = np.empty(n)
        best = np.empty(k)
        best_idx = np.empty(k, dtype=np.int64)
        vals = np.empty(n)
        wts = np.empty(n)
        for qi in range(bounds[c], bounds[c + 1]):
            i = queries[qi]
            for j in range(n):
                dA[j] = DA[i, j]
            _row_distances(BT, period_b, metric_b, i, dB)
            dA[i] = np.inf
            dB[i] = np.inf
            t_ab[qi], t_ba[qi] = _query_terms(dA, dB, k, scale, best, best_idx, vals, wts)
    return t_ab, t_ba
