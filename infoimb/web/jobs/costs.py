"""What a run will cost, shown under Run before it starts (no Dash: tested without a browser).

An analysis declares its work with a ``cost(settings, meta)`` hook (``Analysis.cost``) that
returns one :class:`Work` or a list of them: how many times Δ (both ways, or one way for a
subset) is computed on N points with d_A + d_B features, with the exact or the subsampled
estimator. :func:`run_cost` turns it into seconds with :func:`infoimb.cost.estimate_seconds`
(the engine's rates, measured once per machine and cached) and words it for the card:
``"About 2 min exact (N = 200,000, 10 + 1 features)"``.

Above the threshold (``INFOIMB_SUBSAMPLE_ABOVE``, default
:data:`infoimb.cost.SUBSAMPLE_ABOVE_SECONDS`, 30 s) the exact estimator gets the subsampled one
proposed: m random queries (two significant digits, at least
:data:`infoimb.cost.MIN_PROPOSED_QUERIES`) that take about :data:`infoimb.cost.TARGET_SECONDS`;
:func:`proposal_values` are the values the card's one-click button puts in the page's
estimator fields.

Where ``algorithm="auto"`` takes the k-d trees (at most 4 features per space, large N, a
metric and features the trees serve) the estimate says so instead of a brute-force time: the
trees are much faster than the brute-force rate.

Examples
--------
>>> from infoimb.cost import EngineRate
>>> rate = EngineRate(1e-9, 2e-10, 1e-10, "example", "2026-01-01T00:00:00Z")
>>> c = run_cost(Work(200_000, 10, 1), rate=rate)
>>> c.text
'About 2 min exact (N = 200,000, 10 + 1 features)'
>>> c.proposed_queries
16000
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass

from ... import cost as engine_cost

__all__ = ["RunCost", "Work", "card_cost", "heavily_tied", "machine_rate", "proposal_values", "run_cost",
           "seconds_text"]


@dataclass(frozen=True)
class Work:
    """``evaluations`` computations of Δ on ``n`` points with ``d_a`` + ``d_b`` features.

    ``n_queries`` None: exact (every point a query). ``what``: what the evaluations are
    (e.g. ``"11 lags"``), named in the estimate. ``tree_ok``: the analysis calls the engine
    with ``algorithm="auto"``, which takes the k-d trees when they serve the spaces.
    ``main``: this item's N and dimensions are the ones the estimate names (the first item
    when none is marked). ``columns``: the table's columns the work uses (the estimate warns
    when they hold so few distinct values that most distances tie: the engine is exact on ties,
    and slower).
    """

    n: int
    d_a: int
    d_b: int
    k: int = 1
    n_queries: int | None = None
    evaluations: float = 1.0
    metric: object = "euclidean"
    periodic: bool = False
    what: str = ""
    tree_ok: bool = False
    main: bool = False
    columns: tuple = ()

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RunCost:
    """The estimate of one run: seconds, how the card words it, and the proposal (if any)."""

    seconds: float
    exact: bool
    tree: bool
    n: int
    text: str
    threshold_seconds: float
    proposed_queries: int | None = None
    proposed_seconds: float | None = None

    @property
    def propose(self) -> bool:
        return self.proposed_queries is not None

    def to_dict(self) -> dict:
        return asdict(self)


#: ``"40 s"``, ``"2 min"``: the engine's one wording of a duration (:func:`infoimb.cost.duration_text`)
seconds_text = engine_cost.duration_text


def _metrics(metric) -> tuple:
    return tuple(metric) if isinstance(metric, (tuple, list)) else (metric,)


def _uses_trees(w: Work) -> bool:
    """Whether the engine's ``algorithm="auto"`` takes the k-d trees for this work."""
    if not w.tree_ok or w.periodic or min(w.d_a, w.d_b) < 1:
        return False
    from ..._trees import choose_algorithm

    try:
        return all(choose_algorithm("auto", metric=m, periods=(), dims=(w.d_a, w.d_b), n=w.n,
                                    n_queries=w.n_queries) == "tree" for m in _metrics(w.metric))
    except ValueError:
        return False


def _seconds(w: Work, rate) -> float:
    metric = "precomputed" if min(w.d_a, w.d_b) < 1 else "euclidean"
    nq = None if w.n_queries is None or w.n_queries >= w.n else w.n_queries
    per = engine_cost.estimate_seconds(max(w.n, 3), max(w.d_a, 0 if metric == "precomputed" else 1),
                                       max(w.d_b, 0 if metric == "precomputed" else 1),
                                       k=min(max(w.k, 1), max(w.n, 3) - 1), n_queries=nq, metric=metric,
                                       rate=rate)
    return per * float(w.evaluations)


def _two_digits(m: int) -> int:
    return int(round(m, -len(str(m)) + 2))


#: distinct points fewer than N / TIED_RATIO: "many tied values" (the rates are for tie-free data)
TIED_RATIO = 4


def heavily_tied(columns, meta: dict | None, n: int) -> bool:
    """Whether ``columns`` of the table ``meta`` describes can hold fewer than N / TIED_RATIO
    distinct points (the product of their numbers of distinct values): most neighbour distances
    then tie, which the exact engine resolves at a cost the rates (tie-free data) do not show."""
    summary = {c.get("column"): c for c in ((meta or {}).get("summary") or []) if isinstance(c, dict)}
    if not columns or any(c not in summary or not summary[c].get("n_unique") for c in columns):
        return False
    distinct = 1
    for c in columns:
        distinct *= int(summary[c]["n_unique"])
        if distinct * TIED_RATIO >= n:
            return False
    return True


def run_cost(work, *, rate=None, threshold_seconds: float | None = None,
             target_seconds: float = engine_cost.TARGET_SECONDS, meta: dict | None = None) -> RunCost | None:
    """The estimate of a run's ``work`` (a :class:`Work` or a list; None: nothing to estimate).

    ``rate``: the engine's rates (default :func:`infoimb.cost.engine_rate`); ``threshold_seconds``:
    above it an exact run gets the subsampled estimator proposed (default
    :data:`infoimb.cost.SUBSAMPLE_ABOVE_SECONDS`).
    """
    items = [work] if isinstance(work, Work) else [w for w in (work or []) if isinstance(w, Work)]
    items = [w for w in items if w.n >= 3 and w.evaluations > 0]
    if not items:
        return None
    threshold = engine_cost.SUBSAMPLE_ABOVE_SECONDS if threshold_seconds is None else float(threshold_seconds)
    rate = rate or engine_cost.engine_rate()
    main = next((w for w in items if w.main), items[0])
    exact = main.n_queries is None or main.n_queries >= main.n
    tree = _uses_trees(main)
    brute = [w for w in items if not _uses_trees(w)]
    seconds = float(sum(_seconds(w, rate) for w in brute))
    dims = f"{main.d_a} + {main.d_b} features"
    if min(main.d_a, main.d_b) < 1:
        d = max(main.d_a, main.d_b)
        dims = "a distance matrix" if d < 1 else f"{d} features and a distance matrix"
    whats = ", ".join(w.what for w in items if w.what)
    size = f"N = {main.n:,}, {dims}" + (f", {whats}" if whats else "")
    how = "exact" if exact else f"with {main.n_queries:,} random queries"
    if tree and not brute:
        text = f"Fast: {how} on k-d trees, much quicker than the brute-force rate ({size})"
    else:
        amount = seconds_text(seconds)
        text = (f"Under a second {how}" if amount == "under a second" else f"About {amount} {how}") + f" ({size})"
    if heavily_tied(main.columns, meta, main.n):
        text += "; many tied values (few distinct levels): it may take several times longer"
    proposed = proposed_s = None
    if exact and seconds > threshold:
        # the work that follows the estimator (every point a query) scales with the number of
        # queries; work with its own queries (the rank samples of the plots) stays
        fixed = float(sum(_seconds(w, rate) for w in brute if w.n_queries is not None and w.n_queries < w.n))
        per_query = max(seconds - fixed, 0.0) / main.n
        if per_query > 0:
            m = int(max(engine_cost.MIN_PROPOSED_QUERIES, math.floor(max(target_seconds - fixed, 0.0) / per_query)))
            m = _two_digits(m)
            if m < main.n:
                proposed, proposed_s = m, fixed + m * per_query
    return RunCost(seconds=seconds, exact=exact, tree=tree and not brute, n=main.n, text=text,
                   threshold_seconds=threshold, proposed_queries=proposed, proposed_seconds=proposed_s)


def proposal_values(analysis, estimate: RunCost | None) -> dict:
    """The values the one-click button sets on the page: the subsampled estimator with the
    proposed number of queries (and the permutations box emptied where the page has one: its
    default is no test with the subsampled estimator, which has none). {} when nothing is
    proposed or the page has no estimator fields."""
    if estimate is None or not estimate.propose:
        return {}
    names = {f.name for f in analysis.fields}
    if not {"estimator", "n_queries"} <= names:
        return {}
    out = {"estimator": "subsampled", "n_queries": int(estimate.proposed_queries)}
    if "n_permutations" in names:
        out["n_permutations"] = None
    return out


def card_cost(analysis, settings: dict, meta: dict, *, rate=None,
              threshold_seconds: float | None = None) -> RunCost | None:
    """The estimate for a page: its analysis's ``cost`` hook on the prepared settings
    (None when the analysis declares none, or the hook cannot say)."""
    if analysis.cost is None or not isinstance(settings, dict):
        return None
    try:
        work = analysis.cost(settings, meta or {})
    except (KeyError, TypeError, ValueError):
        return None
    try:
        return run_cost(work, rate=rate, threshold_seconds=threshold_seconds, meta=meta)
    except (TypeError, ValueError):
        return None


#: two threads of the web process must never measure the rate (parallel kernels) at once. Not
#: the runner's one-analysis lock: a job process forked while a thread held that one would
#: inherit it held, and wait for it forever.
_MEASURING = threading.Lock()


def machine_rate(wait: float = 2.0):
    """The engine's rates in the web process (:func:`infoimb.cost.engine_rate`: read from its
    cache file; measured once per machine, at start-up by ``runtime.warm_numba``), one thread
    at a time. None when another thread keeps measuring for ``wait`` seconds (no estimate
    this time)."""
    if not _MEASURING.acquire(timeout=wait):
        return None
    try:
        return engine_cost.engine_rate()
    finally:
        _MEASURING.release()
