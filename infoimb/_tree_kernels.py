"""Exact information imbalance in low dimensions with a k-d tree (Numba).

The estimator needs, for each query point i, only

* its nearest neighbours in A with EVERY point tied at the k-th distance (METHOD.md §1: the
  tied points share the remaining neighbour slots), and
* for each such neighbour j, the number of points strictly closer to i in B than
  d_B(i, j), and the number exactly as close (mid-ranks).

A k-d tree answers both far below O(N) per query. Everything here is exact, not approximate:

* Point distances are computed with the same arithmetic as the brute kernels
  (:mod:`infoimb._kernels`): features accumulated in order from 0.0, ``t = x_j - x_i``,
  ``t * t`` summed (squared Euclidean, no sqrt), ``abs(t)`` summed (Manhattan) or maxed
  (Chebyshev). Equality tests (ties) are therefore bit-identical to the brute path.
* Bounding-box bounds use the same arithmetic on the box faces. Rounding is monotone, so the
  computed distance of every point in a box lies between the computed box minimum and box
  maximum; a box is pruned only when its minimum is strictly greater than the radius, and
  counted whole only when its maximum is strictly smaller. No point at exactly the radius is
  missed or miscounted.

The tree is a balanced binary tree in heap layout (node n has children 2n+1, 2n+2; all leaves
on the last level): median splits along the widest dimension, points copied in tree order
into ``P`` (N, d) with their original indices in ``idx``, and every node's bounding box.
Periodic features and precomputed distances are not handled here (brute path).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ._kernels import (CHEBYSHEV, EUCLIDEAN, MANHATTAN, _neighbour_values, _row_distances,
                       _weighted_rank_sum)

LEAF_SIZE = 32  # measured: 8 -> 16 -> 32 each a little faster at N = 5e4..3e5, 64 no better
PARALLEL_BUILD_MIN_N = 200_000  # below, one thread builds a tree faster than a parallel region starts
_STACK = 256  # traversal stack entries (the tree depth is at most ~60)
# A query whose tied neighbour set is larger than this (beyond k) is computed from full rows
# exactly as the brute kernel does: one radius count per neighbour would cost more.
_MAX_EXTRA_TIED = 48


# --------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------
def n_levels_for(n: int, leaf_size: int = LEAF_SIZE) -> int:
    """Levels of the heap-layout tree so that leaves hold at most ``leaf_size`` points."""
    levels = 1
    while (n >> (levels - 1)) > leaf_size:
        levels += 1
    return levels


@njit(cache=True, nogil=True)
def _select(P, idx, key_col, lo, hi, kth):
    """Reorder rows lo:hi of P (and idx alike) so that row kth holds the element of that rank
    by column key_col, smaller-or-equal before, greater-or-equal after (quickselect, Hoare
    partition; rows are moved, so every pass reads memory in order)."""
    d = P.shape[1]
    left = lo
    right = hi - 1
    while right > left:
        mid = (left + right) >> 1
        a = P[left, key_col]
        b = P[mid, key_col]
        c = P[right, key_col]
        # median of three as pivot
        if a < b:
            if b < c:
                pivot = b
            elif a < c:
                pivot = c
            else:
                pivot = a
        else:
            if a < c:
                pivot = a
            elif b < c:
                pivot = c
            else:
                pivot = b
        i = left
        j = right
        while i <= j:
            while P[i, key_col] < pivot:
                i += 1
            while P[j, key_col] > pivot:
                j -= 1
            if i <= j:
                tmp = idx[i]
                idx[i] = idx[j]
                idx[j] = tmp
                for f in range(d):
                    v = P[i, f]
                    P[i, f] = P[j, f]
                    P[j, f] = v
                i += 1
                j -= 1
        if kth <= j:
            right = j
        elif kth >= i:
            left = i
        else:
            return


@njit(cache=True, nogil=True)
def _split(P, idx, start, end, node):
    """Split a node at its median along the widest dimension of its points."""
    d = P.shape[1]
    s = start[node]
    e = end[node]
    m = s + (e - s) // 2
    if e - s > 1:
        mn = np.empty(d)
        mx = np.empty(d)
        for f in range(d):
            mn[f] = np.inf
            mx[f] = -np.inf
        for t in range(s, e):
            for f in range(d):
                v = P[t, f]
                if v < mn[f]:
                    mn[f] = v
                if v > mx[f]:
                    mx[f] = v
        best = 0
        best_spread = -1.0
        for f in range(d):
            if mx[f] - mn[f] > best_spread:
                best_spread = mx[f] - mn[f]
                best = f
        _select(P, idx, best, s, e, m)
    start[2 * node + 1] = s
    end[2 * node + 1] = m
    start[2 * node + 2] = m
    end[2 * node + 2] = e


@njit(cache=True, nogil=True)
def _build_top(XT, n_levels, top):
    """Arrays of a tree and its first ``top`` levels split (serially)."""
    d = XT.shape[0]
    n = XT.shape[1]
    n_nodes = (1 << n_levels) - 1
    idx = np.arange(n)
    start = np.empty(n_nodes, dtype=np.int64)
    end = np.empty(n_nodes, dtype=np.int64)
    lo = np.empty((n_nodes, d))
    hi = np.empty((n_nodes, d))
    P = np.empty((n, d))
    for t in range(n):
        for f in range(d):
            P[t, f] = XT[f, t]
    start[0] = 0
    end[0] = n
    for level in range(top):
        for node in range((1 << level) - 1, (1 << (level + 1)) - 1):
            _split(P, idx, start, end, node)
    return P, idx, start, end, lo, hi


@njit(cache=True, nogil=True)
def _build_subtree(XT, P, idx, start, end, lo, hi, n_levels, top, root):
    """Split every node below ``root`` (a node of level ``top``) and set its leaves' boxes."""
    d = P.shape[1]
    for rel in range(n_levels - 1 - top):
        width = 1 << rel
        first = (root + 1) * width - 1
        for node in range(first, first + width):
            _split(P, idx, start, end, node)
    width = 1 << (n_levels - 1 - top)
    first = (root + 1) * width - 1
    for node in range(first, first + width):
        for f in range(d):
            mn = np.inf
            mx = -np.inf
            for t in range(start[node], end[node]):
                v = P[t, f]
                if v < mn:
                    mn = v
                if v > mx:
                    mx = v
            lo[node, f] = mn
            hi[node, f] = mx


@njit(cache=True, nogil=True)
def _inner_boxes(lo, hi, n_levels):
    first_leaf = (1 << (n_levels - 1)) - 1
    for node in range(first_leaf - 1, -1, -1):
        for f in range(lo.shape[1]):
            lo[node, f] = min(lo[2 * node + 1, f], lo[2 * node + 2, f])
            hi[node, f] = max(hi[2 * node + 1, f], hi[2 * node + 2, f])


@njit(cache=True, parallel=True)
def build_tree(XT, n_levels, top_levels):
    """k-d tree of the points XT (d, N). Returns (P, idx, start, end, lo, hi).

    The first ``top_levels`` levels are split serially; below them every subtree is built
    by one task (a single parallel region).
    """
    top = min(top_levels, n_levels - 1)
    P, idx, start, end, lo, hi = _build_top(XT, n_levels, top)
    for c in prange(1 << top):
        _build_subtree(XT, P, idx, start, end, lo, hi, n_levels, top, (1 << top) - 1 + c)
    _inner_boxes(lo, hi, n_levels)
    return P, idx, start, end, lo, hi


@njit(cache=True, nogil=True)
def build_tree_serial(XT, n_levels):
    """:func:`build_tree` on one thread (small N: no parallel region to start)."""
    P, idx, start, end, lo, hi = _build_top(XT, n_levels, 0)
    _build_subtree(XT, P, idx, start, end, lo, hi, n_levels, 0, 0)
    _inner_boxes(lo, hi, n_levels)
    return P, idx, start, end, lo, hi


# --------------------------------------------------------------------------------------
# distances (the brute kernels' arithmetic)
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _add(acc, t, metric):
    if metric == EUCLIDEAN:
        return acc + t * t
    elif metric == MANHATTAN:
        return acc + abs(t)
    return max(acc, abs(t))


@njit(cache=True, nogil=True, inline="always")
def _dist_rows(P, row, q, metric):
    """Distance from the tree point P[row] to the query coordinates q."""
    acc = 0.0
    for f in range(q.shape[0]):
        acc = _add(acc, P[row, f] - q[f], metric)
    return acc


@njit(cache=True, nogil=True, inline="always")
def _dist_points(XT, i, j, metric):
    """Distance between points i and j of XT (d, N), exactly as the brute kernels."""
    acc = 0.0
    for f in range(XT.shape[0]):
        acc = _add(acc, XT[f, j] - XT[f, i], metric)
    return acc


@njit(cache=True, nogil=True, inline="always")
def _box_min(lo, hi, node, q, metric):
    """A lower bound of the computed distance of every point in the node's box."""
    acc = 0.0
    for f in range(q.shape[0]):
        x = q[f]
        if x < lo[node, f]:
            acc = _add(acc, lo[node, f] - x, metric)
        elif x > hi[node, f]:
            acc = _add(acc, x - hi[node, f], metric)
        else:
            acc = _add(acc, 0.0, metric)
    return acc


@njit(cache=True, nogil=True, inline="always")
def _box_max(lo, hi, node, q, metric):
    """An upper bound of the computed distance of every point in the node's box."""
    acc = 0.0
    for f in range(q.shape[0]):
        x = q[f]
        a = x - lo[node, f]
        b = hi[node, f] - x
        acc = _add(acc, a if a > b else b, metric)
    return acc


@njit(cache=True, nogil=True, inline="always")
def _box_min_max(lo, hi, node, q, metric):
    """(:func:`_box_min`, :func:`_box_max`) in one pass over the features."""
    amin = 0.0
    amax = 0.0
    for f in range(q.shape[0]):
        x = q[f]
        a = x - lo[node, f]
        b = hi[node, f] - x
        if a < 0.0:
            amin = _add(amin, lo[node, f] - x, metric)
        elif b < 0.0:
            amin = _add(amin, x - hi[node, f], metric)
        else:
            amin = _add(amin, 0.0, metric)
        amax = _add(amax, a if a > b else b, metric)
    return amin, amax


# --------------------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _knn(P, idx, start, end, lo, hi, n_levels, q, self_i, metric, kk, best, best_idx, stack):
    """The kk smallest distances (other than point self_i) into best / best_idx (ascending;
    best_idx holds original indices). Ties at the kk-th value are not resolved here."""
    for s in range(kk):
        best[s] = np.inf
        best_idx[s] = -1
    first_leaf = (1 << (n_levels - 1)) - 1
    last = kk - 1
    dstack = np.empty(stack.shape[0])  # each stacked node's box minimum (computed once)
    stack[0] = 0
    dstack[0] = _box_min(lo, hi, 0, q, metric)
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        if dstack[top] >= best[last]:
            continue
        if node >= first_leaf:
            for r in range(start[node], end[node]):
                v = _dist_rows(P, r, q, metric)
                if v < best[last]:
                    j = idx[r]
                    if j == self_i:
                        continue
                    s = last
                    while s > 0 and best[s - 1] > v:
                        best[s] = best[s - 1]
                        best_idx[s] = best_idx[s - 1]
                        s -= 1
                    best[s] = v
                    best_idx[s] = j
        else:
            left = 2 * node + 1
            right = left + 1
            dl = _box_min(lo, hi, left, q, metric)
            dr = _box_min(lo, hi, right, q, metric)
            # push the farther child first so the nearer one is searched first
            if dl <= dr:
                stack[top] = right
                dstack[top] = dr
                stack[top + 1] = left
                dstack[top + 1] = dl
            else:
                stack[top] = left
                dstack[top] = dl
                stack[top + 1] = right
                dstack[top + 1] = dr
            top += 2


@njit(cache=True, nogil=True)
def _count(P, start, end, lo, hi, n_levels, q, radius, metric, stack):
    """(#points with distance < radius, #points with distance == radius), all points."""
    first_leaf = (1 << (n_levels - 1)) - 1
    less = 0
    eq = 0
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        bmin, bmax = _box_min_max(lo, hi, node, q, metric)
        if bmin > radius:
            continue
        if bmax < radius:
            less += end[node] - start[node]
            continue
        if node >= first_leaf:
            for r in range(start[node], end[node]):
                v = _dist_rows(P, r, q, metric)
                if v < radius:
                    less += 1
                elif v == radius:
                    eq += 1
        else:
            stack[top] = 2 * node + 1
            stack[top + 1] = 2 * node + 2
            top += 2
    return less, eq


@njit(cache=True, nogil=True)
def _collect(P, idx, start, end, lo, hi, n_levels, q, self_i, radius, metric, stack,
             out_idx, out_dist):
    """Original indices and distances of every point (other than self_i) with distance <=
    radius. Returns (count, out_idx, out_dist); the buffers grow when full."""
    first_leaf = (1 << (n_levels - 1)) - 1
    m = 0
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        if _box_min(lo, hi, node, q, metric) > radius:
            continue
        if node >= first_leaf:
            for r in range(start[node], end[node]):
                v = _dist_rows(P, r, q, metric)
                if v <= radius and idx[r] != self_i:
                    if m == out_idx.shape[0]:
                        grown_i = np.empty(2 * m, dtype=np.int64)
                        grown_d = np.empty(2 * m)
                        grown_i[:m] = out_idx
                        grown_d[:m] = out_dist
                        out_idx = grown_i
                        out_dist = grown_d
                    out_idx[m] = idx[r]
                    out_dist[m] = v
                    m += 1
        else:
            stack[top] = 2 * node + 1
            stack[top + 1] = 2 * node + 2
            top += 2
    return m, out_idx, out_dist


@njit(cache=True, nogil=True)
def _direction_sum(XB, mb, tA, ma, tB, i, k, qa, qb, best, best_idx, stack, nb_idx, nb_dist,
                   wts, seen_v, seen_less, seen_eq):
    """Sum over the (tied) k nearest A-neighbours j of i of w_ij * midrank_B(i, j).

    Returns (value, ok, nb_idx, nb_dist); ok is False when the tied set is too large for
    one radius count per neighbour (the caller then takes the brute path for this query).
    """
    P, idx, start, end, lo, hi, nl = tA
    PB, idxB, startB, endB, loB, hiB, nlB = tB
    n = P.shape[0]
    kk = min(k + 1, n - 1)
    _knn(P, idx, start, end, lo, hi, nl, qa, i, ma, kk, best, best_idx, stack)
    t = best[k - 1]
    m = k
    if kk > k and best[k] == t:
        # a tie at the k-th distance: every point at distance <= t shares the slots
        m, nb_idx, nb_dist = _collect(P, idx, start, end, lo, hi, nl, qa, i, t, ma, stack,
                                      nb_idx, nb_dist)
        if m > k + _MAX_EXTRA_TIED:
            return 0.0, False, nb_idx, nb_dist
        n_less = 0
        for s in range(m):
            if nb_dist[s] < t:
                n_less += 1
        w_tied = (k - n_less) / (m - n_less)
        for s in range(m):
            wts[s] = 1.0 if nb_dist[s] < t else w_tied
    else:
        for s in range(k):
            nb_idx[s] = best_idx[s]
            wts[s] = 1.0
    acc = 0.0
    n_seen = 0
    for s in range(m):
        v = _dist_points(XB, i, nb_idx[s], mb)
        less = -1
        eq = -1
        for u in range(n_seen):  # same B-distance as an earlier neighbour: same counts
            if seen_v[u] == v:
                less = seen_less[u]
                eq = seen_eq[u]
                break
        if less < 0:
            less, eq = _count(PB, startB, endB, loB, hiB, nlB, qb, v, mb, stack)
            # the query itself sits at distance 0 in the counts
            if v > 0.0:
                less -= 1
            else:
                eq -= 1
            seen_v[n_seen] = v
            seen_less[n_seen] = less
            seen_eq[n_seen] = eq
            n_seen += 1
        acc += wts[s] * (1.0 + less + (eq - 1) * 0.5)
    return acc, True, nb_idx, nb_dist


@njit(cache=True, parallel=True)
def pair_terms_tree(AT, metric_a, tA, BT, metric_b, tB, queries, order, k, scale, bounds):
    """Per-query terms of Delta(A->B) and Delta(B->A), as :func:`_kernels.pair_terms`.

    tA, tB: trees of AT and BT (:func:`build_tree` + n_levels). ``order``: a permutation of
    the query positions (queries processed in tree order for locality; the results are
    written to their own positions). bounds: chunk boundaries over ``order``.
    """
    n = AT.shape[1]
    nq = queries.shape[0]
    t_ab = np.empty(nq)
    t_ba = np.empty(nq)
    cap = k + _MAX_EXTRA_TIED + 1
    for c in prange(bounds.shape[0] - 1):
        best = np.empty(k + 1)
        best_idx = np.empty(k + 1, dtype=np.int64)
        stack = np.empty(_STACK, dtype=np.int64)
        nb_idx = np.empty(cap, dtype=np.int64)
        nb_dist = np.empty(cap)
        wts = np.empty(cap)
        seen_v = np.empty(cap)
        seen_less = np.empty(cap, dtype=np.int64)
        seen_eq = np.empty(cap, dtype=np.int64)
        qa = np.empty(AT.shape[0])
        qb = np.empty(BT.shape[0])
        dA = np.empty(0)
        dB = np.empty(0)
        vals = np.empty(0)
        full_w = np.empty(0)
        for oi in range(bounds[c], bounds[c + 1]):
            qi = order[oi]
            i = queries[qi]
            for f in range(AT.shape[0]):
                qa[f] = AT[f, i]
            for f in range(BT.shape[0]):
                qb[f] = BT[f, i]
            s_ab, ok_ab, nb_idx, nb_dist = _direction_sum(
                BT, metric_b, tA, metric_a, tB, i, k, qa, qb, best, best_idx, stack, nb_idx,
                nb_dist, wts, seen_v, seen_less, seen_eq)
            s_ba, ok_ba, nb_idx, nb_dist = _direction_sum(
                AT, metric_a, tB, metric_b, tA, i, k, qb, qa, best, best_idx, stack, nb_idx,
                nb_dist, wts, seen_v, seen_less, seen_eq)
            if not (ok_ab and ok_ba):
                # heavily tied neighbourhood: the brute path's full rows for this query
                if dA.shape[0] == 0:
                    dA = np.empty(n)
                    dB = np.empty(n)
                    vals = np.empty(n)
                    full_w = np.empty(n)
                period_a = np.zeros(AT.shape[0])
                period_b = np.zeros(BT.shape[0])
                _row_distances(AT, period_a, metric_a, i, dA)
                _row_distances(BT, period_b, metric_b, i, dB)
                dA[i] = np.inf
                dB[i] = np.inf
                if not ok_ab:
                    m = _neighbour_values(dA, dB, k, best, best_idx, vals, full_w)
                    s_ab = _weighted_rank_sum(dB, vals, full_w, m, k)
                if not ok_ba:
                    m = _neighbour_values(dB, dA, k, best, best_idx, vals, full_w)
                    s_ba = _weighted_rank_sum(dA, vals, full_w, m, k)
            t_ab[qi] = scale * s_ab
            t_ba[qi] = scale * s_ba
    return t_ab, t_ba


def make_tree(XT: np.ndarray, leaf_size: int = LEAF_SIZE) -> tuple:
    """The tree of a space XT (d, N) as the tuple the kernels take."""
    n_levels = n_levels_for(XT.shape[1], leaf_size)
    if XT.shape[1] < PARALLEL_BUILD_MIN_N:
        return (*build_tree_serial(XT, n_levels), np.int64(n_levels))
    threads = numba.get_num_threads()
    top = 0
    while (1 << top) < 4 * threads and top < n_levels - 1:
        top += 1
    return (*build_tree(XT, n_levels, top), np.int64(n_levels))


def tree_order(tree: tuple, queries: np.ndarray) -> np.ndarray:
    """Positions of ``queries`` sorted by their place in the tree (neighbouring queries are
    processed together: their tree nodes stay in cache)."""
    idx = tree[1]
    pos = np.empty(idx.shape[0], dtype=np.int64)
    pos[idx] = np.arange(idx.shape[0], dtype=np.int64)
    return np.argsort(pos[queries], kind="stable").astype(np.int64)
