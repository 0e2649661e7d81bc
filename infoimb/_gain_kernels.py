"""Numba kernel of the imbalance gain: the alpha scan of one direction, with surrogates.

For an effect Y, a base space B (the effect's present, plus any conditioning variables, all
at weight 1), a target T (the effect's future) and one or more candidate causes X_c, the
kernel returns the per-query terms of

    Delta_c(alpha) = Delta((alpha X_c, B) -> T)

for every alpha, every cause and every surrogate of the cause, in one pass over the queries.

Why it is fast (compared with one two-way pair-engine call per alpha):

* one direction only;
* per query, the target's mid-ranks are computed once (one sort) and shared by every alpha,
  every cause and every surrogate: a neighbour's contribution is then a table look-up;
* per query, the base space's distances are sorted once. Squared Euclidean distances in the
  joint space are ``alpha^2 d_X + d_B >= d_B``, so the k nearest neighbours for any alpha are
  found by walking the points in increasing ``d_B`` and stopping as soon as ``d_B`` exceeds
  the current k-th smallest joint distance: typically a few dozen points instead of N;
* the cause's distances are computed lazily, only for the points that walk reaches.

Exactness and ties are those of the pair engine (METHOD.md section 1): the points tied at the
k-th joint distance share the remaining neighbour slots equally, ranks in the target are
mid-ranks. The joint distance is formed as ``alpha^2 * d_X + d_B`` (squared Euclidean), which
keeps every tie of the data a tie for every alpha; it equals the pair engine's distance on the
weighted features ``(alpha X, B)`` up to rounding (exactly, where alpha * x is exact in binary).

Surrogates: ``src[s, j]`` is the row of the cause that point j uses in surrogate s (row 0 of
``src`` is the identity: the observed data). A circular shift of the cause is
``src[s] = (arange(n) + shift) % n``; within entities of a panel, a shift per entity.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import _midranks


@njit(cache=True, nogil=True)
def _sq_row(XT, i, out):
    """Squared Euclidean distances from point i to every point (i itself set to inf)."""
    n = XT.shape[1]
    for j in range(n):
        out[j] = 0.0
    for f in range(XT.shape[0]):
        col = XT[f]
        xq = col[i]
        for j in range(n):
            t = col[j] - xq
            out[j] += t * t
    out[i] = np.inf


@njit(cache=True, nogil=True)
def _scan_alpha(a2, dBs, dXs, ready, cause, c0, c1, src_row, order, xq, k, best, best_pos,
                rank_t):
    """Weighted target-rank sum of the (tied) k nearest neighbours in (alpha X, B).

    ``dBs``: base distances sorted increasingly (positions p); ``order[p]``: the point at
    position p; ``dXs[p]``: the cause's squared distance at position p, computed on demand
    (``ready[0]`` = how many leading positions are filled). Returns sum_j w_j * rank_t[j].
    """
    n = dBs.shape[0]
    for s in range(k):
        best[s] = np.inf
        best_pos[s] = -1
    last = k - 1
    # ``tie_at``: the k-th-smallest value at the latest moment a point outside the list had
    # the same joint distance as the list's last entry (rejected, or evicted while an equal
    # value stayed). A tie at the final k-th distance exists only if tie_at equals it: the
    # list's last entry never increases, so earlier events had larger values.
    tie_at = -1.0
    for p in range(n):
        y = dBs[p]
        if y > best[last]:
            break
        if p >= ready[0]:
            j = src_row[order[p]]
            acc = 0.0
            for f in range(c0, c1):
                t = cause[f, j] - xq[f - c0]
                acc += t * t
            dXs[p] = acc
            ready[0] = p + 1
        v = a2 * dXs[p] + y
        if v < best[last]:
            evicted = best[last]
            s = last
            while s > 0 and best[s - 1] > v:
                best[s] = best[s - 1]
                best_pos[s] = best_pos[s - 1]
                s -= 1
            best[s] = v
            best_pos[s] = p
            if evicted == best[last]:
                tie_at = evicted
        elif v == best[last]:
            tie_at = v
    t_k = best[last]
    if tie_at != t_k:
        acc = 0.0
        for s in range(k):
            acc += rank_t[order[best_pos[s]]]
        return acc
    # every point with joint distance <= t_k has d_B <= t_k: it lies in the walked prefix
    n_le = 0
    n_less = 0
    for p in range(n):
        y = dBs[p]
        if y > t_k:
            break
        v = a2 * dXs[p] + y
        if v <= t_k:
            n_le += 1
            if v < t_k:
                n_less += 1
    if n_le == k:
        acc = 0.0
        for s in range(k):
            acc += rank_t[order[best_pos[s]]]
        return acc
    # a tie at the k-th distance: the tied points share the remaining k - n_less slots
    w_tied = (k - n_less) / (n_le - n_less)
    s_less = 0.0
    s_eq = 0.0
    for p in range(n):
        y = dBs[p]
        if y > t_k:
            break
        v = a2 * dXs[p] + y
        if v < t_k:
            s_less += rank_t[order[p]]
        elif v == t_k:
            s_eq += rank_t[order[p]]
    return s_less + w_tied * s_eq


@njit(cache=True, parallel=True)
def gain_terms(cause, c_start, c_stop, BT, TT, queries, src, alphas2, k, scale, bounds):
    """Per-query terms of Delta((alpha X_c, B) -> T) for many causes, alphas and surrogates.

    Parameters
    ----------
    cause : (d_total, N) float64, C-contiguous
        The candidate causes' features stacked; cause c is rows ``c_start[c]:c_stop[c]``.
    BT : (d_B, N) float64
        The base space (effect's present and conditioning variables, weight 1).
    TT : (d_T, N) float64
        The target space (effect's future).
    queries : (nq,) int64
        Query points.
    src : (n_src, N) int64
        Row of the cause used by each point in each surrogate; row 0 must be the identity.
    alphas2 : (n_alpha,) float64
        Squared alphas (the cause's weight, squared: distances are squared Euclidean).
    k : int
        Neighbours.
    scale : float
        2 / (N k) for Delta.
    bounds : int64 array
        Chunk boundaries over the queries (one parallel task per chunk).

    Returns
    -------
    terms0 : (n_causes, n_alpha, nq)
        Per-query terms of the observed data (surrogate row 0).
    sums : (n_chunks, n_causes, n_src, n_alpha)
        Per-chunk sums of the terms over the chunk's queries, for every surrogate (row 0
        included); Delta of surrogate s is ``sums[:, c, s, a].sum() / nq``.
    """
    n = BT.shape[1]
    nq = queries.shape[0]
    nc = c_start.shape[0]
    ns = src.shape[0]
    na = alphas2.shape[0]
    n_chunks = bounds.shape[0] - 1
    terms0 = np.zeros((nc, na, nq))
    sums = np.zeros((n_chunks, nc, ns, na))
    d_max = 1
    for c in range(nc):
        d_max = max(d_max, c_stop[c] - c_start[c])
    for ch in prange(n_chunks):
        dT = np.empty(n)
        rank_t = np.empty(n)
        dB = np.empty(n)
        dBs = np.empty(n)
        dXs = np.empty(n)
        xq = np.empty(d_max)
        best = np.empty(k)
        best_pos = np.empty(k, dtype=np.int64)
        ready = np.zeros(1, dtype=np.int64)
        for qi in range(bounds[ch], bounds[ch + 1]):
            i = queries[qi]
            _sq_row(TT, i, dT)
            _midranks(dT, rank_t)
            _sq_row(BT, i, dB)
            order = np.argsort(dB)
            for p in range(n):
                dBs[p] = dB[order[p]]
            for c in range(nc):
                c0 = c_start[c]
                c1 = c_stop[c]
                for s in range(ns):
                    src_row = src[s]
                    iq = src_row[i]
                    for f in range(c0, c1):
                        xq[f - c0] = cause[f, iq]
                    ready[0] = 0
                    # the largest alpha first: it walks the longest prefix and fills dXs
                    for a in range(na - 1, -1, -1):
                        r = _scan_alpha(alphas2[a], dBs, dXs, ready, cause, c0, c1, src_row,
                                        order, xq, k, best, best_pos, rank_t)
                        term = scale * r
                        if s == 0:
                            terms0[c, a, qi] = term
                        sums[ch, c, s, a] += term
    return terms0, sums
