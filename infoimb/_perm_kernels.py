"""Numba kernels for significance: neighbour lists, permuted rank sums, the Theiler window.

Permutation null (METHOD.md section 7): B's rows are permuted relative to A's by a
permutation pi. A's neighbours (and their tie weights) do not change, so they are computed
once, as a sparse list per query (:func:`neighbour_lists`). Under pi the B-rank of neighbour j
of query i is the mid-rank of point pi(j) in B-row pi(i). :func:`permuted_rank_sums` therefore
walks the rows u of the ranked space once, gathers for *every* permutation p the neighbours of
the query i = pi_p^{-1}(u) mapped by pi_p, and ranks all of them against row u. Cost per
row: O(N d) distances + an O(N) bucket sort of the row, then one short bucket scan per
lookup, for all P permutations at once; memory O(P N) for the permutations, nothing N x N.

The reverse direction uses the same kernel with the roles swapped: B's neighbour lists, A's
rows, and (pi, pi^{-1}) exchanged.

Theiler window: with ``use_theiler`` every row excludes the points of the same series within
``w`` time steps of the row's point (``|t_j - t_i| <= w``), in both spaces; a query's term is
then normalised by its own number of references, ``2 / (k (N_i + 1))`` (``2 / (N k)`` without
exclusion, N_i = N - 1), so that independence still gives Delta = 1.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import EUCLIDEAN, _neighbour_values, _row_distances, _weighted_rank_sum


@njit(cache=True, nogil=True)
def _space_row(XT, period, metric, D, i, out):
    """Row i of a space (distances from point i, squared for Euclidean), inf at i."""
    if D.shape[0] > 0:
        for j in range(D.shape[1]):
            out[j] = D[i, j]
    else:
        _row_distances(XT, period, metric, i, out)
    out[i] = np.inf


@njit(cache=True, nogil=True)
def _exclude(series, times, w, i, out):
    """Set out[j] = inf for the points of i's series within w time steps of i; return the
    number of references left (finite entries other than i)."""
    n = out.shape[0]
    s = series[i]
    t = times[i]
    excluded = 0
    for j in range(n):
        if series[j] == s and abs(times[j] - t) <= w:
            out[j] = np.inf
            excluded += 1
    # i itself is always in its own window
    return n - excluded


@njit(cache=True, nogil=True)
def _reference_row(XT, period, metric, D, u, d, series, times, w, use_theiler):
    """Row u's distances into d (the Theiler window's points set to inf when in use); returns
    the number of references N_u (N - 1 without the window)."""
    _space_row(XT, period, metric, D, u, d)
    if use_theiler:
        return _exclude(series, times, w, u, d)
    return d.shape[0] - 1


@njit(cache=True, nogil=True)
def _chunk_total(acc):
    """The sum over chunks (rows of acc), in chunk order: the same total whatever the threads."""
    out = np.zeros(acc.shape[1])
    for c in range(acc.shape[0]):
        for p in range(acc.shape[1]):
            out[p] += acc[c, p]
    return out


@njit(cache=True, parallel=True)
def neighbour_lists(XT, period, metric, D, queries, k, width, series, times, w, use_theiler,
                    bounds):
    """The (tied) k nearest neighbours of each query: indices, weights and count.

    Returns ``idx (nq, width)``, ``wts (nq, width)``, ``count (nq,)`` and ``nref (nq,)`` (the
    number of references of each query). A query with more than ``width`` tied neighbours
    has ``count > width`` and only its first ``width`` entries filled: call again for it with
    a larger width.
    """
    n = XT.shape[1] if D.shape[0] == 0 else D.shape[0]
    nq = queries.shape[0]
    idx = np.full((nq, width), -1, dtype=np.int64)
    wts = np.zeros((nq, width))
    count = np.zeros(nq, dtype=np.int64)
    nref = np.full(nq, n - 1, dtype=np.int64)
    for c in prange(bounds.shape[0] - 1):
        _neighbour_rows(XT, period, metric, D, queries, k, width, series, times, w, use_theiler,
                        bounds[c], bounds[c + 1], idx, wts, count, nref)
    return idx, wts, count, nref


@njit(cache=True, nogil=True)
def _bucket_row(d, n_buckets, start, vals, bidx, key, root):
    """Counting sort of the finite entries of a row into ``n_buckets`` value buckets.

    The bucket of entry l is ``floor((key_l - lo) * scale)`` with key = sqrt(d) for squared
    Euclidean distances (spreads the buckets more evenly) and d otherwise: monotone in d, so
    equal values share a bucket and smaller values never land in a later one (comparisons
    inside a bucket are on d itself). Fills ``bidx`` (bucket of each entry; ``n_buckets`` for
    inf), ``start`` (first position of each bucket in ``vals``; ``start[n_buckets]`` = number
    of finite entries) and ``vals`` (the finite entries grouped by bucket).
    """
    n = d.shape[0]
    lo = np.inf
    hi = -1.0
    if root:
        for l in range(n):
            x = np.sqrt(d[l])
            key[l] = x
            lo = min(lo, x)
            hi = max(hi, x if x < np.inf else -1.0)
    else:
        for l in range(n):
            x = d[l]
            key[l] = x
            lo = min(lo, x)
            hi = max(hi, x if x < np.inf else -1.0)
    scale = 0.0
    if hi > lo:
        scale = n_buckets / (hi - lo)
    for b in range(n_buckets + 2):
        start[b] = 0
    top = n_buckets - 1
    ftop = float(top)
    for l in range(n):
        kk = (key[l] - lo) * scale
        b = np.int64(min(kk, ftop)) if kk < np.inf else n_buckets
        bidx[l] = b
        start[b + 1] += 1
    for b in range(n_buckets):
        start[b + 1] += start[b]
    for l in range(n):
        b = bidx[l]
        if b < n_buckets:
            vals[start[b]] = d[l]
            start[b] += 1
    # scattering advanced each start to the next bucket's start: shift back
    for b in range(n_buckets, 0, -1):
        start[b] = start[b - 1]
    start[0] = 0


@njit(cache=True, nogil=True)
def _midrank_of(v, d, bidx, n_buckets, start, vals):
    """Mid-rank of point v in the row: 1 + #{l: d_l < d_v} + (#{l: d_l == d_v} - 1) / 2 over
    the finite entries (an excluded point, inf, ranks after every reference)."""
    b = bidx[v]
    if b == n_buckets:
        return 1.0 + start[n_buckets]
    x = d[v]
    less = start[b]
    eq = 0
    for s in range(start[b], start[b + 1]):
        y = vals[s]
        if y < x:
            less += 1
        elif y == x:
            eq += 1
    return 1.0 + less + (eq - 1) * 0.5


@njit(cache=True, nogil=True)
def _permuted_row(u, d, nb_ptr, nb_idx, nb_wts, perms, invT, n_buckets, start, vals, bidx, key,
                  root, acc):
    """Add row u's contribution to every permutation's rank sum (acc[p])."""
    _bucket_row(d, n_buckets, start, vals, bidx, key, root)
    P = perms.shape[0]
    for p in range(P):
        i = invT[u, p]
        tot = 0.0
        for s in range(nb_ptr[i], nb_ptr[i + 1]):
            tot += nb_wts[s] * _midrank_of(perms[p, nb_idx[s]], d, bidx, n_buckets, start, vals)
        acc[p] += tot


@njit(cache=True, parallel=True)
def permuted_rank_sums(nb_ptr, nb_idx, nb_wts, XT, period, metric, D, perms, invT, k, series,
                       times, w, use_theiler, bounds):
    """Delta under each permutation: ``out[p] = mean_u 2/(k (N_u+1)) sum_j w r``.

    nb_ptr, nb_idx, nb_wts: neighbour lists (CSR) of the *other* space for every point.
    XT/period/metric/D: the ranked space. perms[p] = pi_p (shape (P, N)); invT[u, p] =
    pi_p^{-1}(u) (shape (N, P)). For row u and permutation p the query is i = invT[u, p], its
    neighbours j are mapped to perms[p, j] and ranked (mid-ranks) in row u: the row is
    bucket-sorted once (O(N)), then each lookup scans one bucket. bounds: chunks of rows.
    """
    P = perms.shape[0]
    n = perms.shape[1]
    n_chunks = bounds.shape[0] - 1
    n_buckets = n // 2 + 1
    root = metric == EUCLIDEAN and D.shape[0] == 0
    acc = np.zeros((n_chunks, P))
    for c in prange(n_chunks):
        d = np.empty(n)
        start = np.empty(n_buckets + 2, dtype=np.int32)
        vals = np.empty(n)
        bidx = np.empty(n, dtype=np.int32)
        key = np.empty(n)
        row_acc = np.zeros(P)
        for u in range(bounds[c], bounds[c + 1]):
            nref = _reference_row(XT, period, metric, D, u, d, series, times, w, use_theiler)
            for p in range(P):
                row_acc[p] = 0.0
            _permuted_row(u, d, nb_ptr, nb_idx, nb_wts, perms, invT, n_buckets, start, vals,
                          bidx, key, root, row_acc)
            scale = 2.0 / (k * (nref + 1.0))
            for p in range(P):
                acc[c, p] += scale * row_acc[p]
    return _chunk_total(acc) / n


@njit(cache=True, parallel=True)
def permuted_rank_sums_untied(targets, XT, period, metric, D, k, series, times, w, use_theiler,
                              bounds):
    """As :func:`permuted_rank_sums` when every query has exactly k neighbours (no tie at the
    k-th distance, all weights 1): ``targets[u, p * k + s]`` is the point whose mid-rank in row
    u enters permutation p (pi_p of the s-th neighbour of pi_p^{-1}(u)), laid out so that a
    row reads its targets contiguously."""
    n = targets.shape[0]
    n_chunks = bounds.shape[0] - 1
    acc = np.zeros((n_chunks, targets.shape[1] // k))
    for c in prange(n_chunks):
        _untied_rows(targets, XT, period, metric, D, k, series, times, w, use_theiler,
                     bounds[c], bounds[c + 1], acc[c])
    return _chunk_total(acc) / n


@njit(cache=True, parallel=True)
def pair_terms_theiler(AT, period_a, metric_a, DA, BT, period_b, metric_b, DB, queries, k,
                       series, times, w, bounds):
    """Per-query terms of both directions with a Theiler window (see the module docstring).

    As :func:`infoimb._kernels.pair_terms`, but each query's rows exclude the points of its
    own series within ``w`` time steps (in both spaces) and its terms are normalised by its
    number of references: ``2 / (k (N_i + 1)) * sum_j w_ij r_ij``.
    """
    n = AT.shape[1] if DA.shape[0] == 0 else DA.shape[0]
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
            _space_row(AT, period_a, metric_a, DA, i, dA)
            _space_row(BT, period_b, metric_b, DB, i, dB)
            nref = _exclude(series, times, w, i, dA)
            _exclude(series, times, w, i, dB)
            scale = 2.0 / (k * (nref + 1.0))
            m = _neighbour_values(dA, dB, k, best, best_idx, vals, wts)
            t_ab[qi] = scale * _weighted_rank_sum(dB, vals, wts, m, k)
            m = _neighbour_values(dB, dA, k, best, best_idx, vals, wts)
            t_ba[qi] = scale * _weighted_rank_sum(dA, vals, wts, m, k)
    return t_ab, t_ba


# --------------------------------------------------------------------------------------
# bootstrap of means of per-query terms (a counter-based stream: no global random state)
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _splitmix64(x):
    """One step of SplitMix64 on a uint64 counter: returns (next counter, 64 random bits)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x, z ^ (z >> np.uint64(31))


@njit(cache=True, parallel=True)
def bootstrap_means(units, counts, use_counts, n_bootstrap, seed):
    """Bootstrap replicates of means: ``units`` (m, G) per-unit sums (or values), ``counts``
    (G,) per-unit numbers of queries. Replicate b draws G units with replacement from its own
    stream (SplitMix64 from ``seed`` and b: the same replicates whatever the thread count) and
    returns sum(units) / sum(counts) (or / G). Shape (n_bootstrap, m)."""
    m = units.shape[0]
    G = units.shape[1]
    out = np.empty((n_bootstrap, m))
    inv53 = 1.0 / 9007199254740992.0
    for b in prange(n_bootstrap):
        state, z = _splitmix64(np.uint64(seed) ^ (np.uint64(b) * np.uint64(0xD1B54A32D192ED03)))
        state = z
        acc = np.zeros(m)
        cnt = 0.0
        for _ in range(G):
            state, z = _splitmix64(state)
            j = np.int64(np.float64(z >> np.uint64(11)) * inv53 * G)
            for i in range(m):
                acc[i] += units[i, j]
            cnt += counts[j] if use_counts else 1.0
        for i in range(m):
            out[b, i] = acc[i] / cnt
    return out


# --------------------------------------------------------------------------------------
# both spaces / both directions in one parallel region (fewer fork-joins: on a busy machine
# every region waits for its slowest thread)
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _neighbour_rows(XT, period, metric, D, queries, k, width, series, times, w, use_theiler,
                    q0, q1, idx, wts, count, nref):
    n = XT.shape[1] if D.shape[0] == 0 else D.shape[0]
    pos = np.arange(n).astype(np.float64)
    d = np.empty(n)
    best = np.empty(k)
    best_idx = np.empty(k, dtype=np.int64)
    vals = np.empty(n)
    wb = np.empty(n)
    for qi in range(q0, q1):
        i = queries[qi]
        _space_row(XT, period, metric, D, i, d)
        if use_theiler:
            nref[qi] = _exclude(series, times, w, i, d)
        m = _neighbour_values(d, pos, k, best, best_idx, vals, wb)
        count[qi] = m
        for s in range(min(m, width)):
            idx[qi, s] = np.int64(vals[s])
            wts[qi, s] = wb[s]


@njit(cache=True, parallel=True)
def neighbour_lists_both(AT, period_a, metric_a, DA, BT, period_b, metric_b, DB, queries, k,
                         width, series, times, w, use_theiler, bounds):
    """:func:`neighbour_lists` of the same queries in A and in B, in one parallel region.
    Returns (idx, wts, count, nref) for A, then for B."""
    n = AT.shape[1] if DA.shape[0] == 0 else DA.shape[0]
    nq = queries.shape[0]
    idx_a = np.full((nq, width), -1, dtype=np.int64)
    wts_a = np.zeros((nq, width))
    cnt_a = np.zeros(nq, dtype=np.int64)
    ref_a = np.full(nq, n - 1, dtype=np.int64)
    idx_b = np.full((nq, width), -1, dtype=np.int64)
    wts_b = np.zeros((nq, width))
    cnt_b = np.zeros(nq, dtype=np.int64)
    ref_b = np.full(nq, n - 1, dtype=np.int64)
    nc = bounds.shape[0] - 1
    for c in prange(2 * nc):
        if c < nc:
            _neighbour_rows(AT, period_a, metric_a, DA, queries, k, width, series, times, w,
                            use_theiler, bounds[c], bounds[c + 1], idx_a, wts_a, cnt_a, ref_a)
        else:
            _neighbour_rows(BT, period_b, metric_b, DB, queries, k, width, series, times, w,
                            use_theiler, bounds[c - nc], bounds[c - nc + 1], idx_b, wts_b,
                            cnt_b, ref_b)
    return idx_a, wts_a, cnt_a, ref_a, idx_b, wts_b, cnt_b, ref_b


@njit(cache=True, nogil=True)
def _untied_rows(targets, XT, period, metric, D, k, series, times, w, use_theiler, r0, r1,
                 acc):
    """Rows r0..r1 of :func:`permuted_rank_sums_untied`, added into acc (length P)."""
    n = targets.shape[0]
    P = targets.shape[1] // k
    n_buckets = n // 2 + 1
    root = metric == EUCLIDEAN and D.shape[0] == 0
    d = np.empty(n)
    start = np.empty(n_buckets + 2, dtype=np.int32)
    vals = np.empty(n)
    bidx = np.empty(n, dtype=np.int32)
    key = np.empty(n)
    for u in range(r0, r1):
        nref = _reference_row(XT, period, metric, D, u, d, series, times, w, use_theiler)
        _bucket_row(d, n_buckets, start, vals, bidx, key, root)
        scale = 2.0 / (k * (nref + 1.0))
        for p in range(P):
            tot = 0.0
            for s in range(p * k, p * k + k):
                tot += _midrank_of(targets[u, s], d, bidx, n_buckets, start, vals)
            acc[p] += scale * tot


@njit(cache=True, parallel=True)
def permuted_rank_sums_untied_both(targets_ab, BT, period_b, metric_b, DB, targets_ba, AT,
                                   period_a, metric_a, DA, k, series, times, w, use_theiler,
                                   bounds):
    """Both directions of :func:`permuted_rank_sums_untied` in one parallel region:
    (Delta(A->B) under each permutation, Delta(B->A) under each permutation)."""
    n = targets_ab.shape[0]
    P = targets_ab.shape[1] // k
    nc = bounds.shape[0] - 1
    acc = np.zeros((2 * nc, P))
    for c in prange(2 * nc):
        if c < nc:
            _untied_rows(targets_ab, BT, period_b, metric_b, DB, k, series, times, w,
                         use_theiler, bounds[c], bounds[c + 1], acc[c])
        else:
            _untied_rows(targets_ba, AT, period_a, metric_a, DA, k, series, times, w,
                         use_theiler, bounds[c - nc], bounds[c - nc + 1], acc[c])
    return _chunk_total(acc[:nc]) / n, _chunk_total(acc[nc:]) / n
