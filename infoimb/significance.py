"""Significance of the information imbalance: permutation nulls, bootstrap intervals, and the
Theiler window (METHOD.md section 7).

The nulls
---------
* **Independent rows** (no ``groups``): B's rows are permuted relative to A's. Under the null
  "A carries no information about B" (rows exchangeable, A and B independent) every
  permutation is as likely as the observed pairing, so ``p = (1 + #{null <= observed}) /
  (1 + n)`` is exact (``infoimb._stats.permutation_pvalue``).
* **Entities** (``groups``: one label per row, e.g. nations of a panel): each entity's series
  is kept whole and whole B-series are reassigned between entities. Entities are ordered
  within themselves by ``times`` (or by order of appearance) and B-series move only between
  entities of the *same length* (a permutation within each block of equal-length entities),
  position by position; an entity whose length no other entity shares keeps its own series
  (which makes the test conservative, never anti-conservative). A level that is constant per
  entity, or any structure within an entity, is therefore kept by the null and cannot come out
  significant; only the link *between* A and B across entities is tested.

Both directions are tested on the same permutations: Delta(A->B) small under the observed
pairing compared to the null tests "A carries information about B", and Delta(B->A) tests
the converse.

Theiler window with a null: each row's window is that of its own point (series and time).
Under the entity null this is exactly the window of the permuted data when the entities of
equal length share their time stamps (a balanced panel); otherwise a neighbour that lands in
the window of its new row is ranked after every reference (approximate, documented).

Row order: permutations are drawn over a *canonical* order of the rows (rows sorted by their
values; entities sorted by label and ordered within by ``times``), so the same
``random_state`` gives the same p-value whatever the order of the input rows.

Intervals
---------
Percentile bootstrap of the mean of the per-query terms, computed once on the full data
(the references are held fixed): queries are resampled with replacement (independent rows)
or whole entities are resampled with replacement and Delta* is the ratio of their summed
terms to their number of queries (cluster bootstrap, ``groups``). The difference
Delta(A->B) - Delta(B->A) is bootstrapped pairwise (the same resample for both), which is
what makes its interval narrow when the two directions co-vary. Recomputing Delta on
resampled *points* is not done: duplicated points would be each other's exact neighbours and
bias Delta towards 0.
"""

from __future__ import annotations

import numbers

import numba
import numpy as np

from . import _perm_kernels as PK
from ._kernels import _chunks
from ._stats import permutation_pvalue
from ._validation import check_int, check_real

_WIDTH = 8  # neighbour slots stored per query before a tied query is refetched wide
_EMPTY = np.zeros((0, 0))


# --------------------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------------------
def child_rng(random_state, tag: int) -> np.random.Generator:
    """A generator for one purpose (``tag``): independent of the query sample's stream for an
    integer seed, the given generator itself when a Generator is passed."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng([int(random_state), 7919, tag])
    return np.random.default_rng(random_state)


def labels(values, n: int, name: str) -> np.ndarray:
    """Integer codes 0..G-1 (in sorted label order) of one label per row."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have one label per row ({n}), got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} has {int(np.isnan(arr).sum())} missing label(s)")
    if arr.dtype == object and any(v is None for v in arr):
        raise ValueError(f"{name} has missing label(s)")
    _, codes = np.unique(arr.astype(str) if arr.dtype == object else arr, return_inverse=True)
    return codes.astype(np.int64)


def time_values(times, n: int) -> np.ndarray:
    """Times as float64 (numeric, or datetimes in their native units)."""
    arr = np.asarray(times)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"times must have one value per row ({n}), got shape {arr.shape}")
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[ns]").astype(np.int64).astype(np.float64)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"times must be numeric or datetimes, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"times has {int((~np.isfinite(arr)).sum())} missing or infinite value(s)")
    return arr


class Theiler:
    """A validated Theiler window: series codes, times and w (``None`` when not used)."""

    def __init__(self, theiler, times, groups, n: int):
        self.w = check_real(theiler, "theiler", low=0.0)
        if times is None:
            raise ValueError("theiler needs times= (the time index of each row)")
        self.times = time_values(times, n)
        self.series = (np.zeros(n, dtype=np.int64) if groups is None
                       else labels(groups, n, "groups"))

    def args(self):
        return self.series, self.times, float(self.w), True


def no_theiler(n: int):
    return np.zeros(n, dtype=np.int64), np.zeros(n), 0.0, False


def check_references(nref: np.ndarray, k: int) -> None:
    low = int(nref.min())
    if low <= k:
        raise ValueError(f"theiler window too wide: a query keeps only {low} reference point(s) "
                         f"outside its window, k={k} needs more than k")


# --------------------------------------------------------------------------------------
# engine pieces
# --------------------------------------------------------------------------------------
def _bounds(n_items: int) -> np.ndarray:
    return _chunks(n_items, 4 * numba.get_num_threads())


def _arrays(space):
    if space.metric == "precomputed":
        return np.zeros((0, space.n)), np.zeros(0), 0, space.D
    return space.XT, space.period, space.metric_code, _EMPTY


def _csr(queries, idx, wts, count):
    """CSR (ptr, idx, wts) from the fixed-width lists of the queries that fit."""
    ptr = np.zeros(queries.shape[0] + 1, dtype=np.int64)
    np.cumsum(count, out=ptr[1:])
    flat_idx = np.empty(ptr[-1], dtype=np.int64)
    flat_wts = np.empty(ptr[-1])
    narrow = count <= _WIDTH
    mask = np.arange(_WIDTH)[None, :] < count[:, None]
    mask[~narrow] = False
    keep = np.repeat(narrow, count)
    flat_idx[keep] = idx[mask]
    flat_wts[keep] = wts[mask]
    return ptr, flat_idx, flat_wts


def _widen(space, k, queries, theiler_args, csr, count):
    """Refetch the queries with more than _WIDTH tied neighbours at full width."""
    ptr, flat_idx, flat_wts = csr
    wide = np.flatnonzero(count > _WIDTH)
    if wide.size:
        XT, period, code, D = _arrays(space)
        series, times, w, use = theiler_args
        width = int(count[wide].max())
        idx2, wts2, count2, _ = PK.neighbour_lists(XT, period, code, D, queries[wide], k, width,
                                                   series, times, w, use, _bounds(wide.size))
        for r, q in enumerate(wide):
            flat_idx[ptr[q]:ptr[q + 1]] = idx2[r, :count2[r]]
            flat_wts[ptr[q]:ptr[q + 1]] = wts2[r, :count2[r]]
    return ptr, flat_idx, flat_wts


def neighbour_csr(space, k: int, queries: np.ndarray, theiler_args):
    """CSR neighbour lists (ptr, idx, wts) and reference counts of ``queries`` in ``space``."""
    XT, period, code, D = _arrays(space)
    series, times, w, use = theiler_args
    idx, wts, count, nref = PK.neighbour_lists(XT, period, code, D, queries, k, _WIDTH,
                                               series, times, w, use, _bounds(queries.shape[0]))
    csr = _widen(space, k, queries, theiler_args, _csr(queries, idx, wts, count), count)
    return (*csr, nref)


def neighbour_csr_both(sa, sb, k: int, queries: np.ndarray, theiler_args):
    """:func:`neighbour_csr` in A and in B, computed in one parallel region."""
    AT, pa, ca, DA = _arrays(sa)
    BT, pb, cb, DB = _arrays(sb)
    series, times, w, use = theiler_args
    ia, wa, na, ra, ib, wb, nb, rb = PK.neighbour_lists_both(
        AT, pa, ca, DA, BT, pb, cb, DB, queries, k, _WIDTH, series, times, w, use,
        _bounds(queries.shape[0]))
    csr_a = _widen(sa, k, queries, theiler_args, _csr(queries, ia, wa, na), na)
    csr_b = _widen(sb, k, queries, theiler_args, _csr(queries, ib, wb, nb), nb)
    return (*csr_a, ra), (*csr_b, rb)


def theiler_terms(sa, sb, k: int, queries: np.ndarray, theiler_args):
    """Per-query terms of both directions with a Theiler window."""
    AT, pa, ca, DA = _arrays(sa)
    BT, pb, cb, DB = _arrays(sb)
    series, times, w, _ = theiler_args
    return PK.pair_terms_theiler(AT, pa, ca, DA, BT, pb, cb, DB, queries, k, series, times, w,
                                 _bounds(queries.shape[0]))


def null_deltas(sa, sb, k: int, perms: np.ndarray, theiler_args, *, csr=None,
                bounds=None) -> tuple[np.ndarray, np.ndarray]:
    """Delta(A->B) and Delta(B->A) under each row permutation of B (rows of ``perms``).

    ``csr``: the neighbour lists of every point in A and B (:func:`neighbour_csr_both`),
    computed here when not given. ``bounds``: the chunks of rows whose partial sums make each
    Delta (default: by this machine's threads); a Dask task uses the client's, so that every
    permutation's Delta is bit-identical to the local run whatever the block it is in."""
    n = sa.n
    perms = np.ascontiguousarray(perms, dtype=np.int64)
    inv = np.empty_like(perms)
    inv[np.arange(perms.shape[0])[:, None], perms] = np.arange(n, dtype=np.int64)
    everyone = np.arange(n, dtype=np.int64)
    if csr is None:
        csr = neighbour_csr_both(sa, sb, k, everyone, theiler_args)
    csr_a, csr_b = csr
    if bounds is None:
        bounds = _bounds(n)
    P = perms.shape[0]
    fast = (_untied(csr_a, n, k) and _untied(csr_b, n, k) and P * n * k <= _MAX_TARGETS)
    if fast:
        series, times, w, use = theiler_args
        BT, pb, cb, DB = _arrays(sb)
        AT, pa, ca, DA = _arrays(sa)
        return PK.permuted_rank_sums_untied_both(
            _targets(csr_a, n, k, perms, inv), BT, pb, cb, DB,
            _targets(csr_b, n, k, inv, perms), AT, pa, ca, DA, k, series, times, w, use,
            bounds)
    null_ab = _null_direction(csr_a, sb, k, perms, inv, theiler_args, bounds)
    null_ba = _null_direction(csr_b, sa, k, inv, perms, theiler_args, bounds)
    return null_ab, null_ba


def _null_block_task(shared, item):
    """A Dask task: :func:`null_deltas` for one block of the permutations (drawn on the
    client; ``shared``: spaces, neighbour lists, permutations and the client's row chunks)."""
    sa, sb, k, perms, theiler_args, csr, bounds = shared
    start, stop = item
    return null_deltas(sa, sb, k, perms[start:stop], theiler_args, csr=csr, bounds=bounds)


def null_deltas_sharded(sa, sb, k: int, perms: np.ndarray, theiler_args, client=None,
                        progress=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`null_deltas` with the permutations in blocks on a Dask cluster
    (:mod:`infoimb.cluster`): the spaces, the neighbour lists and the permutations are sent
    once; each task takes a (start, stop) block. Identical to the local run."""
    from . import cluster

    n = sa.n
    csr = neighbour_csr_both(sa, sb, k, np.arange(n, dtype=np.int64), theiler_args)
    with cluster.get_executor(client) as ex:
        shared = ex.share((sa, sb, k, np.ascontiguousarray(perms, dtype=np.int64),
                           theiler_args, csr, _bounds(n)))
        parts = ex.map(_null_block_task, cluster.blocks(perms.shape[0], 2 * ex.n_workers),
                       shared=shared, progress=progress,
                       message=lambda item, res: f"permutations {item[0] + 1}-{item[1]} done")
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _untied(csr, n, k) -> bool:
    """Every query has exactly k neighbours of weight 1 (no tie at the k-th distance)."""
    ptr, _, wts, _ = csr
    return bool(ptr[-1] == n * k and np.all(wts == 1.0))


def _targets(csr, n, k, perms, inv) -> np.ndarray:
    """targets[u, p * k + s] = perms[p, s-th neighbour of inv[p, u]] (untied lists)."""
    nb = csr[1].reshape(n, k)
    P = perms.shape[0]
    dtype = np.int32 if n < 2**31 else np.int64
    targets = np.empty((n, P, k), dtype=dtype)
    for p in range(P):
        targets[:, p, :] = perms[p][nb[inv[p]]]
    return targets.reshape(n, P * k)


# the untied fast path stores P * N * k target indices; above this many it streams instead
_MAX_TARGETS = 50_000_000


def _null_direction(csr, ranked, k, perms, inv, theiler_args, bounds=None) -> np.ndarray:
    """Delta(own -> ranked) under each permutation; ``csr``: the own space's neighbours."""
    ptr, idx, wts, _ = csr
    n = ranked.n
    P = perms.shape[0]
    XT, period, code, D = _arrays(ranked)
    series, times, w, use = theiler_args
    if bounds is None:
        bounds = _bounds(n)
    untied = ptr[-1] == n * k and bool(np.all(wts == 1.0))
    if untied and P * n * k <= _MAX_TARGETS:
        nb = idx.reshape(n, k)
        dtype = np.int32 if n < 2**31 else np.int64
        targets = np.empty((n, P, k), dtype=dtype)
        for p in range(P):
            targets[:, p, :] = perms[p][nb[inv[p]]]
        return PK.permuted_rank_sums_untied(targets.reshape(n, P * k), XT, period, code, D, k,
                                            series, times, w, use, bounds)
    return PK.permuted_rank_sums(ptr, idx, wts, XT, period, code, D, perms,
                                 np.ascontiguousarray(inv.T), k, series, times, w, use, bounds)


# --------------------------------------------------------------------------------------
# permutation streams
# --------------------------------------------------------------------------------------
def canonical_order(sa, sb) -> np.ndarray:
    """Rows sorted by their values in A then B (ties: identical rows, interchangeable)."""
    if sa.XT is None or sb.XT is None:  # a distance matrix on either side: no row values
        return np.arange(sa.n, dtype=np.int64)
    keys = np.vstack([sa.XT, sb.XT])[::-1]  # lexsort: last key is the primary one
    return np.lexsort(keys).astype(np.int64)


def entity_rows(codes: np.ndarray, times: np.ndarray | None) -> list[np.ndarray]:
    """For each entity (in label order) its rows, ordered by time (or order of appearance)."""
    n = codes.shape[0]
    key2 = np.arange(n) if times is None else times
    order = np.lexsort((np.arange(n), key2, codes))
    sorted_codes = codes[order]
    cuts = np.flatnonzero(np.diff(sorted_codes)) + 1
    return np.split(order, cuts)


def permutations(n: int, n_permutations: int, rng: np.random.Generator, *, canon=None,
                 entities: list[np.ndarray] | None = None) -> np.ndarray:
    """``n_permutations`` row permutations pi (B row i -> B row pi[i]) for the null.

    Without entities: uniform permutations of the rows, drawn over ``canon`` (a canonical
    order of the rows) so that they do not depend on the input order. With entities: whole
    entities' rows are mapped position by position onto another entity of the same length.
    """
    perms = np.empty((n_permutations, n), dtype=np.int64)
    if entities is None:
        canon = np.arange(n, dtype=np.int64) if canon is None else canon
        sigma = rng.permuted(np.broadcast_to(np.arange(n, dtype=np.int64),
                                             (n_permutations, n)), axis=1)
        perms[:, canon] = canon[sigma]
        return perms
    lengths = np.array([len(e) for e in entities])
    classes = [np.flatnonzero(lengths == L) for L in np.unique(lengths)]
    stacked = {L: np.vstack([entities[e] for e in cls]) for L, cls in
               zip(np.unique(lengths), classes)}
    for p in range(n_permutations):
        for L, cls in zip(np.unique(lengths), classes):
            rows = stacked[L]  # (entities of this length, L)
            sigma = rng.permutation(len(cls))
            perms[p, rows.ravel()] = rows[sigma].ravel()
    return perms


def shared_lengths(entities: list[np.ndarray]) -> float:
    """Fraction of entities that share their length with another entity (can be reassigned)."""
    lengths = np.array([len(e) for e in entities])
    _, inverse, counts = np.unique(lengths, return_inverse=True, return_counts=True)
    return float(np.mean(counts[inverse] > 1))


# --------------------------------------------------------------------------------------
# intervals
# --------------------------------------------------------------------------------------
def bootstrap_means(terms: list[np.ndarray], n_bootstrap: int, rng: np.random.Generator,
                    clusters: np.ndarray | None = None, order: np.ndarray | None = None
                    ) -> list[np.ndarray]:
    """Bootstrap replicates of the mean of each array of per-query terms (same resamples for
    all arrays: paired). ``clusters``: a cluster code per query (resample whole clusters;
    the mean is then the ratio of summed terms to summed counts). ``order``: the canonical
    order of the queries (resamples drawn over it, so they do not depend on the row order).
    The draws come from a counter-based stream seeded by ``rng`` (one integer), computed in
    a parallel kernel."""
    if clusters is None:
        if order is not None:
            terms = [t[order] for t in terms]
        units = np.ascontiguousarray(np.vstack(terms))
        counts = np.ones(units.shape[1])
        use_counts = False
    else:
        G = int(clusters.max()) + 1
        units = np.vstack([np.bincount(clusters, weights=t, minlength=G) for t in terms])
        counts = np.bincount(clusters, minlength=G).astype(np.float64)
        present = counts > 0  # only clusters that have queries are resampled
        units = np.ascontiguousarray(units[:, present])
        counts = np.ascontiguousarray(counts[present])
        use_counts = True
    seed = int(rng.integers(0, 2**63 - 1))
    out = PK.bootstrap_means(units, counts, use_counts, n_bootstrap, seed)
    return [np.ascontiguousarray(out[:, i]) for i in range(len(terms))]


def time_blocks(times: np.ndarray) -> np.ndarray:
    """Block code of each row for a block bootstrap of one series: consecutive times in
    blocks of ceil(N^(1/3)) rows (non-overlapping blocks, resampled whole)."""
    n = times.shape[0]
    length = max(1, int(np.ceil(n ** (1 / 3))))
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(times, kind="stable")] = np.arange(n)
    return rank // length


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    lo, hi = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def pvalue(observed: float, null: np.ndarray) -> float:
    return permutation_pvalue(observed, null, smaller_is_extreme=True)


def check_significance_args(n_permutations, n_bootstrap, confidence, alpha):
    n_permutations = check_int(n_permutations, "n_permutations", low=0)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=0)
    confidence = check_real(confidence, "confidence", low=0.0, high=1.0, low_open=True,
                            high_open=True)
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, low_open=True, high_open=True)
    return n_permutations, n_bootstrap, confidence, alpha
