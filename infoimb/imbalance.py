"""The information imbalance between two spaces: Delta(A->B), pairs, relations and ranks."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numba
import numpy as np

from . import _kernels as K
from ._serialize import Result
from ._spaces import Space, check_k, check_n_queries, make_pair, make_space, warn_small_n
from ._validation import check_int
from . import cluster as _cluster
from ._trees import ALGORITHMS, check_algorithm, choose_algorithm, tree_pair_terms  # noqa: F401
from .cluster import cluster_configured

RELATIONS = ("equivalent", "a_contains_b", "b_contains_a", "symmetric", "independent")


# --------------------------------------------------------------------------------------
# shared machinery
# --------------------------------------------------------------------------------------
def query_indices(n: int, n_queries: int | None, random_state=None) -> np.ndarray:
    """All points (exact) or ``n_queries`` distinct random points, sorted."""
    if n_queries is None or n_queries == n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=n_queries, replace=False)).astype(np.int64)


def chunk_bounds(n_items: int, n: int) -> np.ndarray:
    """Work chunks for the parallel kernels: a few per thread for balance, fewer for huge N
    (each chunk holds O(N) buffers)."""
    threads = numba.get_num_threads()
    per_thread = 4 if n <= 200_000 else 1
    return K.chunks(n_items, threads * per_thread)


# From this many points on, the streamed kernel (groups of queries sweeping blocks of points)
# beats one stored row per query: the rows no longer fit in cache (bench/bench_engine.py).
STREAM_MIN_N = 200_000


def pair_terms(sa: Space, sb: Space, k: int, queries: np.ndarray, raw_ranks: bool = False,
               streamed: bool | None = None, algorithm: str = "brute"
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per-query terms of both directions (their means are Delta(A->B) and Delta(B->A)).

    ``raw_ranks``: return the weighted rank sums (k=1: the mid-rank of the nearest
    neighbour) instead of the terms 2/(N k) * sum. ``streamed``: force (True) or forbid
    (False) the large-N kernel; None chooses by N. Both give identical results.
    ``algorithm``: "brute", "tree" or "auto" (:func:`infoimb._trees.choose_algorithm`).
    """
    scale = 1.0 if raw_ranks else 2.0 / (sa.n * k)
    if algorithm != "brute" and pair_algorithm(sa, sb, algorithm, queries.shape[0]) == "tree":
        return tree_pair_terms(sa.XT, sa.metric_code, sb.XT, sb.metric_code, k, queries, scale)
    if sa.D is not None and sb.D is not None:
        bounds = chunk_bounds(queries.shape[0], sa.n)
        return K.pair_terms_precomputed(sa.D, sb.D, queries, k, scale, bounds)
    if sa.D is not None or sb.D is not None:  # one matrix, one feature space
        bounds = chunk_bounds(queries.shape[0], sa.n)
        if sa.D is not None:
            return K.pair_terms_mixed(sa.D, sb.XT, sb.period, sb.metric_code, queries, k,
                                      scale, bounds)
        t_ba, t_ab = K.pair_terms_mixed(sb.D, sa.XT, sa.period, sa.metric_code, queries, k,
                                        scale, bounds)
        return t_ab, t_ba
    if streamed or (streamed is None and sa.n >= STREAM_MIN_N):
        return K.pair_terms_streamed(sa.XT, sa.period, sa.metric_code, sb.XT, sb.period,
                                     sb.metric_code, queries, k, scale)
    bounds = chunk_bounds(queries.shape[0], sa.n)
    return K.pair_terms(sa.XT, sa.period, sa.metric_code, sb.XT, sb.period, sb.metric_code,
                        queries, k, scale, bounds)


# With a progress callback the queries go to the kernel in chunks, with a report between
# chunks. A chunk is at least 1/100 of the queries (so a long job reports 100 times: at least
# 20 updates in a 100 s job) and, once the rate is known, takes about _PROGRESS_CHUNK_SECONDS
# (so a short job is not cut into pieces whose parallel start-up and end would show).
_PROGRESS_CHUNKS = 100
_PROGRESS_MIN_QUERIES = 64
_PROGRESS_CHUNK_SECONDS = 1.0


def pair_terms_with_progress(sa: Space, sb: Space, k: int, queries: np.ndarray, progress,
                             streamed: bool | None = None,
                             algorithm: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """As :func:`pair_terms`, the queries in chunks with ``progress(fraction, message)``
    between them (the message says how many queries are done and the time left). The terms
    are identical: each query's term does not depend on the others. The tree algorithm
    (fast, and built once per call) runs in one piece."""
    import time

    from ._progress import report

    nq = queries.shape[0]
    if pair_algorithm(sa, sb, algorithm, nq) == "tree":
        report(progress, 0.0, f"Δ both ways: {nq:,} query points against N = {sa.n:,} (trees)")
        out = pair_terms(sa, sb, k, queries, algorithm="tree")
        report(progress, 1.0, f"Δ both ways: {nq:,} of {nq:,} query points · done")
        return out
    if streamed is None:
        streamed = sa.metric != "precomputed" and sa.n >= STREAM_MIN_N
    t_ab = np.empty(nq)
    t_ba = np.empty(nq)
    report(progress, 0.0, f"Δ both ways: {nq:,} query points against N = {sa.n:,}")
    smallest = max(_PROGRESS_MIN_QUERIES, -(-nq // _PROGRESS_CHUNKS))
    size, done = smallest, 0
    t0 = time.perf_counter()
    while done < nq:
        hi = min(nq, done + size)
        t_ab[done:hi], t_ba[done:hi] = pair_terms(sa, sb, k, queries[done:hi], streamed=streamed,
                                                  algorithm="brute")
        done = hi
        elapsed = time.perf_counter() - t0
        per_query = elapsed / done
        if per_query > 0:
            size = max(smallest, int(_PROGRESS_CHUNK_SECONDS / per_query))
        left = per_query * (nq - done)
        report(progress, done / nq, f"Δ both ways: {done:,} of {nq:,} query points · "
                                    f"{'about ' + format(left, '.0f') + ' s left' if done < nq else 'done'}")
    return t_ab, t_ba


def pair_algorithm(sa: Space, sb: Space, algorithm: str, n_queries: int | None = None) -> str:
    """"brute" or "tree" for this pair of spaces (see :func:`infoimb._trees.choose_algorithm`)."""
    if sa.D is not None or sb.D is not None:  # precomputed on either side: brute only
        return choose_algorithm(algorithm, metric="precomputed", periods=(), dims=(0, 0),
                                n=sa.n, n_queries=n_queries)
    # a metric per space: the one the tree cannot serve (if any) decides
    from ._trees import tree_unsupported

    metric = sb.metric if tree_unsupported(sb.metric, ()) else sa.metric
    return choose_algorithm(algorithm, metric=metric, periods=(sa.period, sb.period),
                            dims=(sa.d, sb.d), n=sa.n, n_queries=n_queries)


def _query_block_terms(shared, item):
    """A Dask task: :func:`pair_terms` for one block of query points."""
    sa, sb, k, queries, algorithm = shared
    start, stop = item
    return pair_terms(sa, sb, k, queries[start:stop], algorithm=algorithm)


def _pair_terms_on_cluster(sa, sb, k, queries, algorithm, client):
    """:func:`pair_terms` in blocks of queries on a Dask cluster (the spaces sent once)."""
    algorithm = pair_algorithm(sa, sb, algorithm, queries.shape[0])  # decided once, here
    with _cluster.get_executor(client) as ex:
        shared = ex.share((sa, sb, k, queries, algorithm))
        parts = ex.map(_query_block_terms, _cluster.blocks(queries.shape[0], 4 * ex.n_workers),
                       shared=shared)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def mean_se(terms: np.ndarray) -> tuple[float, float]:
    """Mean of the per-query terms and its standard error (0 for a single query)."""
    m = terms.shape[0]
    mean = float(terms.mean())
    se = float(terms.std(ddof=1) / np.sqrt(m)) if m > 1 else 0.0
    return mean, se


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImbalancePair(Result):
    """Delta both ways between two spaces, with standard errors and the relation.

    Attributes
    ----------
    a_to_b, b_to_a : float
        Delta(A->B) and Delta(B->A).
    a_to_b_se, b_to_a_se : float
        Standard errors of the means of the per-query terms.
    n : int
        Number of points.
    k : int
        Number of neighbours.
    n_queries : int
        Number of query points used (``n`` for the exact estimator).
    relation : str
        One of ``RELATIONS``; see :func:`classify_relation`.
    p_a_to_b, p_b_to_a : float or None
        Permutation p-values of "A carries information about B" (small Delta(A->B) compared
        with the null) and of the converse; None without permutations.
    a_to_b_ci, b_to_a_ci, difference_ci : (low, high) or None
        Percentile bootstrap intervals (level ``confidence``) of Delta(A->B), Delta(B->A) and
        of their difference Delta(A->B) - Delta(B->A); see :mod:`infoimb.significance`.
    n_permutations : int
        Permutations of the null (0: none).
    null : {"rows", "entities", "shift"} or None
        Which null was used: B's rows permuted, whole entities' B-series reassigned, or B's
        series circularly shifted in time.
    theiler : float or None
        The Theiler window, when one was used.
    """

    a_to_b: float
    b_to_a: float
    a_to_b_se: float
    b_to_a_se: float
    n: int
    k: int
    n_queries: int
    relation: str
    p_a_to_b: float | None = None
    p_b_to_a: float | None = None
    a_to_b_ci: tuple[float, float] | None = None
    b_to_a_ci: tuple[float, float] | None = None
    difference_ci: tuple[float, float] | None = None
    confidence: float | None = None
    n_permutations: int = 0
    null: str | None = None
    theiler: float | None = None

    @property
    def difference(self) -> float:
        """Delta(A->B) - Delta(B->A) (negative: A predicts B better than B predicts A)."""
        return self.a_to_b - self.b_to_a

    @property
    def exact(self) -> bool:
        return self.n_queries == self.n

    @property
    def symmetric_imbalance(self) -> float:
        """(Delta(A->B) + Delta(B->A)) / sqrt(2), the paper's symmetric criterion."""
        return (self.a_to_b + self.b_to_a) / np.sqrt(2.0)

    def to_dict(self) -> dict:
        return super().to_dict() | {"exact": self.exact}


def can_reach(n_permutations: int, alpha: float = 0.05) -> bool:
    """Whether ``n_permutations`` can give a p-value of at most ``alpha / 2`` (the smallest is
    1 / (n_permutations + 1)): the test behind the relation's words can detect anything.

    Examples
    --------
    >>> can_reach(19), can_reach(39)
    (False, True)
    """
    return 1.0 / (int(n_permutations) + 1) <= alpha / 2 + 1e-12


def classify_relation(a_to_b: float, b_to_a: float, a_to_b_se: float = 0.0,
                      b_to_a_se: float = 0.0, *, low: float = 0.1, high: float = 0.9,
                      margin: float = 0.1, z: float = 3.0, p_a_to_b: float | None = None,
                      p_b_to_a: float | None = None,
                      difference_ci: tuple[float, float] | None = None,
                      alpha: float = 0.05, n_permutations: int | None = None) -> str:
    """Name the region of the information imbalance plane a pair falls in.

    The rule, in order:

    1. ``"equivalent"``: both Delta below ``low`` (each predicts the other).
    2. ``"independent"``: both Delta above ``high`` (neither says anything of the other).
    3. ``"a_contains_b"`` / ``"b_contains_a"``: the two directions differ by more than
       ``margin`` *and* by more than ``z`` combined standard errors; the space with the
       smaller outgoing Delta contains the other's information.
    4. ``"symmetric"``: otherwise (partial, balanced sharing of information).

    This rule on Delta and its standard errors is *not* a significance test: on pure noise
    at small N it names a relation far more often than 5% of the time. With permutation
    p-values (``p_a_to_b`` and ``p_b_to_a``, from ``imbalance_pair(..., n_permutations=...)``)
    the words follow the tests:

    1. ``"independent"`` unless the information is significant in at least one direction:
       ``min(p_a_to_b, p_b_to_a) <= alpha / 2`` (Bonferroni over the two directions, which
       test the same null of independence; default ``alpha`` 0.05).
    2. ``"equivalent"``: both Delta below ``low``.
    3. ``"a_contains_b"`` / ``"b_contains_a"`` only when the asymmetry is significant: the
       interval ``difference_ci`` of Delta(A->B) - Delta(B->A) excludes 0 *and* the two
       directions differ by more than ``margin``.
    4. ``"symmetric"``: otherwise (significant, balanced or weak sharing).

    Too few permutations to decide (``n_permutations`` given and the smallest p-value they can
    give, 1 / (n_permutations + 1), above ``alpha / 2``: fewer than 39 at the default alpha)
    cannot detect anything, so the p-values are not used and the first rule applies.

    Examples
    --------
    >>> classify_relation(0.06, 0.55, 0.003, 0.01)
    'a_contains_b'
    """
    if n_permutations is not None and not can_reach(n_permutations, alpha):
        p_a_to_b = p_b_to_a = None  # the test cannot reject at this alpha: it says nothing
    if p_a_to_b is not None or p_b_to_a is not None:
        ps = [p for p in (p_a_to_b, p_b_to_a) if p is not None]
        if min(ps) > alpha / 2:
            return "independent"
        if a_to_b < low and b_to_a < low:
            return "equivalent"
        gap = abs(a_to_b - b_to_a)
        if difference_ci is not None and gap > margin and (difference_ci[0] > 0 or difference_ci[1] < 0):
            return "a_contains_b" if a_to_b < b_to_a else "b_contains_a"
        return "symmetric"
    if a_to_b < low and b_to_a < low:
        return "equivalent"
    if a_to_b > high and b_to_a > high:
        return "independent"
    gap = abs(a_to_b - b_to_a)
    if gap > margin and gap > z * float(np.hypot(a_to_b_se, b_to_a_se)):
        return "a_contains_b" if a_to_b < b_to_a else "b_contains_a"
    return "symmetric"


from .verdicts import RELATION_TEXT  # noqa: E402  (worded in verdicts.py; kept here for callers)


def _pair_spaces(a, b, *, metric, period, weights, categorical=None) -> tuple[Space, Space]:
    """:func:`make_pair`, except that a :class:`infoimb.distances.DistanceMatrix` on either
    side is that side's precomputed distances while the other side keeps ``metric`` (and
    ``period`` / ``weights``, which apply to the feature side only)."""
    dm = sys.modules.get("infoimb.distances")  # no DistanceMatrix can exist without it
    is_a = dm is not None and isinstance(a, dm.DistanceMatrix)
    is_b = dm is not None and isinstance(b, dm.DistanceMatrix)
    if not (is_a or is_b):
        return make_pair(a, b, metric=metric, period=period, weights=weights,
                         categorical=categorical)
    other = "b" if is_a else "a"
    if (period is not None or weights is not None) and is_a and is_b:
        raise ValueError("period and weights do not apply to precomputed distances")
    spaces = {}
    for name, x, is_dm in (("a", a, is_a), ("b", b, is_b)):
        if is_dm:
            spaces[name] = make_space(x.values, name=name, metric="precomputed")
        else:
            spaces[name] = make_space(x, name=name, metric=metric, period=period, weights=weights,
                                      categorical=categorical)
    sa, sb = spaces["a"], spaces["b"]
    if sa.n != sb.n:
        raise ValueError(f"a has {sa.n} points but b has {sb.n}: both spaces must describe the "
                         f"same points (the {other} side is the feature space)")
    if sa.n < 3:
        raise ValueError(f"need at least 3 points, got {sa.n}")
    return sa, sb


def imbalance_pair(a, b, *, k: int = 1, metric="auto", period=None, weights=None,
                   n_queries: int | None = None, random_state=None, n_permutations: int = 0,
                   groups=None, times=None, theiler: float | None = None,
                   confidence: float = 0.95, n_bootstrap: int = 1000,
                   alpha: float = 0.05, null: str = "auto",
                   min_shift: int | None = None, algorithm: str = "auto",
                   client=None, categorical=None, progress=None) -> ImbalancePair:
    """Delta(A->B) and Delta(B->A) with standard errors, intervals, p-values and the relation.

    Parameters
    ----------
    a, b, k, metric, period, weights, n_queries, random_state
        As in :func:`information_imbalance`. ``random_state`` also seeds the permutations and
        the bootstrap.
    n_permutations : int, default 0
        Permutations of the null for the p-values ``p_a_to_b`` and ``p_b_to_a`` (0: none;
        e.g. 199 or 999). Needs the exact estimator (``n_queries=None``).
    groups : array (N,), optional
        Entity label of each row (e.g. nations of a panel). The null then reassigns whole
        entities' B-series between entities of equal length instead of permuting rows, and
        the intervals resample entities instead of points. Use it whenever rows of one entity
        are not independent of each other (repeated measures, time series per entity).
    times : array (N,), optional
        Time index of each row: orders the rows within an entity for the null, and is
        required by ``theiler``.
    theiler : float, optional
        Theiler window: for each query, the points of the same series (same ``groups``
        label; one series without ``groups``) within ``theiler`` time steps
        (``|t_j - t_i| <= theiler``) are excluded as neighbours and from the ranks, and the
        query's term is normalised by its own number of references.
    confidence : float, default 0.95
        Level of the bootstrap intervals.
    n_bootstrap : int, default 1000
        Bootstrap replicates for the intervals (0: no intervals).
    alpha : float, default 0.05
        Level of the tests behind the relation's words (see :func:`classify_relation`).
    null : {"auto", "rows", "entities", "shift"}
        "auto": "entities" with ``groups``, else "rows". "shift": one time series (needs
        ``times``, no ``groups``): B's series circularly shifted in time relative to A's by at
        least ``min_shift`` steps (default N // 10), which keeps both autocorrelations.
    min_shift : int, optional
        Smallest circular shift of the "shift" null.
    algorithm : {"auto", "brute", "tree"}
        As in :func:`information_imbalance` (the Theiler window and the permutation null
        use the brute kernels).
    client : distributed.Client, optional
        With it (or with ``INFOIMB_DASK_ADDRESS`` set) a large problem (n_queries * N >=
        ``infoimb.cluster.SHARD_MIN_WORK``, no Theiler window) is computed on the Dask
        cluster in blocks of query points, with identical results. The permutation null
        likewise (n_permutations * N**2 >= ``SHARD_MIN_WORK``): the permutations are drawn
        here, sent once with the data, and computed in blocks; identical p-values.
    categorical : True or list of column names, optional
        As in :func:`information_imbalance`.
    progress : callable(fraction, message), optional
        Called from inside the work (the queries go to the kernel in chunks of about a
        second, at least 1/100 of them each) with the time left; raise from it to interrupt.
        The result is identical with or without it. Estimate the cost first with
        :func:`infoimb.cost.cost_estimate`.

    Notes
    -----
    The nulls and intervals are described in :mod:`infoimb.significance`: B's rows permuted
    relative to A's (or whole entities' B-series reassigned), ``p = (1 + #{null <=
    observed}) / (1 + n)``; percentile bootstrap of the per-query terms over queries (or
    entities), pairwise for the difference.

    Examples
    --------
    >>> import numpy as np, infoimb
    >>> X = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]
    >>> p = infoimb.imbalance_pair(X, X[:, :1])
    >>> round(p.a_to_b, 6), round(p.b_to_a, 6), p.relation
    (0.063748, 0.548194, 'a_contains_b')
    >>> q = infoimb.imbalance_pair(X[:200, :1], X[:200, 1:2], n_permutations=99, random_state=0)
    >>> q.p_a_to_b > 0.05, q.relation
    (True, 'independent')
    """
    return _pair_full(a, b, k=k, metric=metric, period=period, weights=weights,
                      n_queries=n_queries, random_state=random_state,
                      n_permutations=n_permutations, groups=groups, times=times,
                      theiler=theiler, confidence=confidence, n_bootstrap=n_bootstrap,
                      alpha=alpha, null=null, min_shift=min_shift, algorithm=algorithm,
                      client=client, categorical=categorical, progress=progress)[0]


def _pair_full(a, b, *, k, metric, period, weights, n_queries, random_state, n_permutations,
               groups, times, theiler, confidence, n_bootstrap, alpha, null, min_shift,
               algorithm="auto", client=None, categorical=None, progress=None):
    """:func:`imbalance_pair`, also returning the per-query terms and the queries."""
    from . import significance as S
    from ._stats import circular_shifts
    from ._validation import check_choice, check_int

    null = check_choice(null, "null", ("auto", "rows", "entities", "shift"))
    sa, sb = _pair_spaces(a, b, metric=metric, period=period, weights=weights,
                          categorical=categorical)
    k = check_k(k, sa.n)
    n_queries = check_n_queries(n_queries, sa.n)
    warn_small_n(sa.n, stacklevel=4)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable progress(fraction, message), got {progress!r}")
    n_permutations, n_bootstrap, confidence, alpha = S.check_significance_args(
        n_permutations, n_bootstrap, confidence, alpha)
    n = sa.n
    codes = None if groups is None else S.labels(groups, n, "groups")
    tvals = None if times is None else S.time_values(times, n)
    th = None if theiler is None else S.Theiler(theiler, tvals, groups, n)
    if n_permutations and n_queries is not None:
        raise ValueError("n_permutations needs the exact estimator: leave n_queries=None")
    if check_algorithm(algorithm) == "tree" and th is not None:
        raise ValueError("algorithm='tree' does not support a Theiler window; use "
                         "algorithm='brute' (or 'auto', which falls back to it)")
    queries = query_indices(n, n_queries, random_state)
    if th is None:
        if cluster_configured(client) and queries.shape[0] * n >= _cluster.SHARD_MIN_WORK:
            t_ab, t_ba = _pair_terms_on_cluster(sa, sb, k, queries, algorithm, client)
        elif progress is not None:
            t_ab, t_ba = pair_terms_with_progress(sa, sb, k, queries, progress,
                                                  algorithm=algorithm)
        else:
            t_ab, t_ba = pair_terms(sa, sb, k, queries, algorithm=algorithm)
        targs = S.no_theiler(n)
    else:
        targs = th.args()
        S.check_references(_theiler_references(targs, queries), k)
        t_ab, t_ba = S.theiler_terms(sa, sb, k, queries, targs)
    ab, ab_se = mean_se(t_ab)
    ba, ba_se = mean_se(t_ba)
    p_ab = p_ba = None
    null_kind = None
    entities = None if codes is None else S.entity_rows(codes, tvals)
    if null == "auto":
        null = "rows" if entities is None else "entities"
    if null == "entities" and entities is None:
        raise ValueError("null='entities' needs groups= (an entity label per row)")
    if null == "shift" and (tvals is None or codes is not None):
        raise ValueError("null='shift' is for one time series: give times= and no groups=")
    if n_permutations:
        rng = S.child_rng(random_state, 1)
        if null == "shift":
            ms = check_int(n // 10 if min_shift is None else min_shift, "min_shift", low=1)
            shifts = circular_shifts(n, n_permutations, ms, rng)
            order = np.argsort(tvals, kind="stable")
            perms = np.empty((n_permutations, n), dtype=np.int64)
            for p, sft in enumerate(shifts):
                perms[p, order] = np.roll(order, -int(sft))
            null_kind = "shift"
        elif null == "rows":
            perms = S.permutations(n, n_permutations, rng, canon=S.canonical_order(sa, sb))
            null_kind = "rows"
        else:
            if len(entities) < 2:
                raise ValueError("groups: the entity null needs at least 2 entities")
            perms = S.permutations(n, n_permutations, rng, entities=entities)
            null_kind = "entities"
        if cluster_configured(client) and n_permutations * n * n >= _cluster.SHARD_MIN_WORK:
            null_ab, null_ba = S.null_deltas_sharded(sa, sb, k, perms, targs, client)
        else:
            null_ab, null_ba = S.null_deltas(sa, sb, k, perms, targs)
        p_ab, p_ba = S.pvalue(ab, null_ab), S.pvalue(ba, null_ba)
    ci_ab = ci_ba = ci_diff = None
    if n_bootstrap:
        rng = S.child_rng(random_state, 2)
        clusters = None if codes is None else codes[queries]
        if null == "shift":  # one series: resample blocks of consecutive times
            clusters = S.time_blocks(tvals)[queries]
        order = None
        if clusters is None and n_queries is None:
            order = S.canonical_order(sa, sb)
        rep_ab, rep_ba = S.bootstrap_means([t_ab, t_ba], n_bootstrap, rng, clusters, order)
        ci_ab = S.percentile_interval(rep_ab, confidence)
        ci_ba = S.percentile_interval(rep_ba, confidence)
        ci_diff = S.percentile_interval(rep_ab - rep_ba, confidence)
    relation = classify_relation(ab, ba, ab_se, ba_se, p_a_to_b=p_ab, p_b_to_a=p_ba,
                                 difference_ci=ci_diff, alpha=alpha,
                                 n_permutations=n_permutations if p_ab is not None else None)
    pair = ImbalancePair(ab, ba, ab_se, ba_se, n, k, int(queries.shape[0]), relation,
                         p_ab, p_ba, ci_ab, ci_ba, ci_diff,
                         confidence if n_bootstrap else None, n_permutations, null_kind,
                         None if th is None else th.w)
    return pair, t_ab, t_ba, queries


def _theiler_references(targs, queries) -> np.ndarray:
    """Number of references each query keeps outside its Theiler window."""
    series, times, w, _ = targs
    n = series.shape[0]
    out = np.empty(queries.shape[0], dtype=np.int64)
    order = np.lexsort((times, series))
    s_sorted, t_sorted = series[order], times[order]
    for qi, i in enumerate(queries):
        lo = np.searchsorted(s_sorted, series[i], side="left")
        hi = np.searchsorted(s_sorted, series[i], side="right")
        seg = t_sorted[lo:hi]
        inside = np.searchsorted(seg, times[i] + w, side="right") - np.searchsorted(
            seg, times[i] - w, side="left")
        out[qi] = n - inside
    return out


def information_imbalance(a, b, *, k: int = 1, metric="auto", period=None,
                          weights=None, n_queries: int | None = None,
                          random_state=None, algorithm: str = "auto",
                          categorical=None) -> float:
    """The information imbalance Delta(A->B) = 2/N <r^B | r^A <= k>.

    Exact and tie-aware: points tied at the k-th neighbour distance in A share the remaining
    neighbour slots equally, ranks in B are mid-ranks; the result does not depend on the order
    of the rows.

    Parameters
    ----------
    a, b : array (N,) or (N, d), Series or DataFrame
        The two spaces over the same N points (N x N distance matrices when
        ``metric="precomputed"``).
    k : int, default 1
        Number of nearest neighbours in A.
    metric : str or pair (for_a, for_b), default "auto"
        "euclidean", "manhattan", "chebyshev", "precomputed", "categorical" (every feature
        compared by equality: 0 equal, 1 different, mismatches counted) or "gower" (numeric
        features divided by their range plus categorical mismatches, summed: Gower's
        coefficient, an L1 combination, up to the factor 1/d that does not change ranks).
        A pair gives each space its own metric. "auto": from the features of each
        space: Euclidean when all are numeric, "categorical" when all are categorical,
        "gower" when mixed. Euclidean/Manhattan/Chebyshev are refused on a mixed space
        (a category mismatch and a numeric difference have no common unit).
    period : None, float, mapping {column: period}, pair (for_a, for_b) or d_A + d_B values
        Periods of periodic features (minimum-image distances); absent = not periodic.
    weights : same forms as ``period``
        Per-feature scales applied before distances.
    n_queries : int, optional
        Use this many random query points against all N references (subsampled estimator,
        unbiased; its standard error is in :func:`imbalance_pair`). None = exact.
    random_state : int or numpy Generator, optional
        Seeds the query sample.
    algorithm : {"auto", "brute", "tree"}, default "auto"
        "brute" scans all N points per query (O(m N d); every metric, periodic features,
        precomputed distances). "tree" uses k-d trees over both spaces: exact and identical
        to "brute" (the same distance arithmetic, every tie at the k-th distance, mid-ranks
        from exact radius counts), far below O(N) per query in low dimensions; Euclidean,
        Manhattan and Chebyshev on non-periodic features only (ValueError otherwise).
        "auto" takes the tree when both spaces have at most 4 features and N is above the
        measured crossover (3 000 points for d <= 2, 30 000 for d = 3, 100 000 for d = 4;
        ``infoimb._trees.TREE_MIN_N``) and, for the subsampled estimator, enough queries to
        pay for building the trees; brute otherwise, and always for periodic features and
        precomputed distances.
    categorical : True or list of column names, optional
        Columns (of either space) to compare by equality although numeric (e.g. integer
        codes of a treatment arm). Text, category and boolean columns of a DataFrame are
        categorical without being listed.

    Returns
    -------
    float

    Warns
    -----
    SmallSampleWarning
        With fewer than ``SMALL_N`` = 20 points.

    Examples
    --------
    >>> import numpy as np, infoimb
    >>> X = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]
    >>> round(infoimb.information_imbalance(X[:, 0], X[:, 1]), 4)
    0.9928

    A text column is categorical (0 equal, 1 different); here the arm fixes the response, and
    every point's 49 same-arm neighbours are tied, so Delta is their mid-rank 25 times 2/N:

    >>> import pandas as pd
    >>> trial = pd.DataFrame({"arm": ["A", "B"] * 50, "response": [0.0, 1.0] * 50})
    >>> round(infoimb.information_imbalance(trial[["arm"]], trial[["response"]]), 12)
    0.5
    """
    return imbalance_pair(a, b, k=k, metric=metric, period=period, weights=weights,
                          n_queries=n_queries, random_state=random_state,
                          algorithm=algorithm, categorical=categorical, n_bootstrap=0).a_to_b


@dataclass(frozen=True)
class RankSample(Result):
    """What the rank plots need, from sampled query points (no N x N memory).

    Attributes
    ----------
    query : (m,) int array
        Query points used for the conditional rank distributions.
    rank_b_given_a1, rank_a_given_b1 : (m,) float arrays
        For each query, the B-rank of its nearest A-neighbour, and the A-rank of its nearest
        B-neighbour (mid-ranks; averaged over tied nearest neighbours).
    scatter_query, rank_a, rank_b : arrays
        Pairs (query, partner) for the rank scatter: ``rank_a[s, t]`` and ``rank_b[s, t]`` are
        the ranks of partner t of scatter query s in A and in B.
    n : int
    """

    query: np.ndarray
    rank_b_given_a1: np.ndarray
    rank_a_given_b1: np.ndarray
    scatter_query: np.ndarray
    rank_a: np.ndarray
    rank_b: np.ndarray
    n: int

    def conditional_histogram(self, which: str = "b_given_a1", max_rank: int | None = None):
        """Normalised histogram p(r | r_other = 1) over integer rank bins 1..max_rank.

        Mid-ranks of tied points (x.5) are split between their two neighbouring bins.
        Returns (ranks, probabilities); the last bin collects everything beyond max_rank.
        """
        r = self.rank_b_given_a1 if which == "b_given_a1" else self.rank_a_given_b1
        max_rank = max_rank or int(np.ceil(r.max()))
        lo = np.floor(r).astype(np.int64)
        frac = r - lo
        counts = np.zeros(max_rank + 1)
        np.add.at(counts, np.minimum(lo, max_rank), 1 - frac)
        np.add.at(counts, np.minimum(lo + 1, max_rank), frac)
        ranks = np.arange(1, max_rank + 1)
        return ranks, counts[1:] / len(r)


def rank_samples(a, b, *, n_queries: int | None = 2000, n_scatter: int = 100,
                 n_partners: int = 100, metric="auto", period=None, weights=None,
                 random_state=None, categorical=None) -> RankSample:
    """Ranks for the rank scatter and the conditional rank distributions.

    ``n_queries`` query points (None: all; at most N) give p(r_B | r_A = 1) and p(r_A | r_B = 1);
    ``n_scatter`` of them, each with ``n_partners`` random other points, give the scatter of
    r_A against r_B. Memory is O(N (d_A + d_B) + n_scatter * n_partners).

    Examples
    --------
    >>> import numpy as np, infoimb
    >>> X = np.random.default_rng(0).normal(size=(500, 2))
    >>> rs = infoimb.rank_samples(X, X[:, :1], n_queries=200, random_state=0)
    >>> rs.rank_b_given_a1.shape, rs.rank_a.shape
    ((200,), (100, 100))
    """
    sa, sb = _pair_spaces(a, b, metric=metric, period=period, weights=weights,
                          categorical=categorical)
    n = sa.n
    if n_queries is not None:
        n_queries = min(check_int(n_queries, "n_queries", low=1), n)  # a cap: at most N
    n_queries = check_n_queries(n_queries, n)
    rng = np.random.default_rng(random_state)
    queries = query_indices(n, n_queries, rng)
    rank_b, rank_a = pair_terms(sa, sb, 1, queries, raw_ranks=True)

    # at most as many as there are (these are caps, documented), never below the minimum
    n_scatter = min(check_int(n_scatter, "n_scatter", low=0), queries.shape[0])
    n_partners = min(check_int(n_partners, "n_partners", low=1), n - 1)
    sq = np.sort(rng.choice(queries, size=n_scatter, replace=False)).astype(np.int64)
    # partners: distinct random points other than the query
    partners = np.empty((n_scatter, n_partners), dtype=np.int64)
    for s, i in enumerate(sq):
        p = rng.choice(n - 1, size=n_partners, replace=False)
        partners[s] = p + (p >= i)
    if sa.D is not None and sb.D is not None:
        ra, rb = _rank_pairs_precomputed(sa.D, sb.D, sq, partners)
    elif sa.D is not None or sb.D is not None:  # one matrix, one feature space
        ra, rb = _rank_pairs_rows(sa, sb, sq, partners)
    else:
        ra, rb = K.rank_pairs(sa.XT, sa.period, sa.metric_code, sb.XT, sb.period,
                              sb.metric_code, sq, partners)
    return RankSample(queries, rank_b, rank_a, sq, ra, rb, n)


def _rank_pairs_precomputed(DA, DB, queries, partners):
    ra = np.empty(partners.shape)
    rb = np.empty(partners.shape)
    buf = np.empty(DA.shape[0])
    for s, i in enumerate(queries):
        for D, out in ((DA, ra), (DB, rb)):
            row = D[i].copy()
            row[i] = np.inf
            K._midranks(row, buf)
            out[s] = buf[partners[s]]
    return ra, rb


def _rank_pairs_rows(sa: Space, sb: Space, queries, partners):
    """As :func:`_rank_pairs_precomputed` when either space may be features: each query's
    row is read from the matrix or computed from the features (as the kernels do)."""
    n = sa.n
    ra = np.empty(partners.shape)
    rb = np.empty(partners.shape)
    buf = np.empty(n)
    for s, i in enumerate(queries):
        for sp, out in ((sa, ra), (sb, rb)):
            if sp.D is not None:
                row = sp.D[i].astype(np.float64)
            else:
                row = np.empty(n)
                K._row_distances(sp.XT, sp.period, sp.metric_code, i, row)
            row[i] = np.inf
            K._midranks(row, buf)
            out[s] = buf[partners[s]]
    return ra, rb
