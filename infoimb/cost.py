"""What a run will cost before it starts, from a rate measured once on this machine.

The exact estimator does O(N_queries x N x (d_A + d_B)) work; its time is
``n_queries * n * (base + per_feature * (d_A + d_B) + per_neighbour * (k - 1))`` seconds, with
the three rates measured once per machine (a fraction of a second on the stored-row kernel,
the numba cache warm) and kept in a small JSON file (``$INFOIMB_CACHE_DIR``, else
``$XDG_CACHE_HOME/infoimb`` or ``~/.cache/infoimb``), keyed by host, CPU count, numba threads
and infoimb version. The estimate is for tie-free data; heavily tied spaces (many points at
the k-th distance) take longer.

The estimate is for the brute-force engine (``algorithm="brute"``, every metric); where
``algorithm="auto"`` takes the k-d trees (at most 4 features per space, large N) the run is
much faster than estimated.

Above :data:`SUBSAMPLE_ABOVE_SECONDS` (30 s) :func:`cost_estimate` proposes the subsampled
estimator (``n_queries=m``: unbiased, with a standard error) with m chosen to take about
:data:`TARGET_SECONDS` (10 s).
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ._validation import check_int, check_real

__all__ = ["EngineRate", "CostEstimate", "engine_rate", "measure_rate", "estimate_seconds",
           "cost_estimate", "SUBSAMPLE_ABOVE_SECONDS", "TARGET_SECONDS"]

#: an exact run estimated above this many seconds gets the subsampled estimator proposed
SUBSAMPLE_ABOVE_SECONDS = 30.0
#: the subsampled estimator proposed takes about this long
TARGET_SECONDS = 10.0
#: fewer queries than this are never proposed (standard error of Delta ~ 0.3 / sqrt(m))
MIN_PROPOSED_QUERIES = 1000
_RATE_FILE = "engine_rate.json"


@dataclass(frozen=True)
class EngineRate:
    """Seconds per (query, point) pair: a fixed part, per feature, per extra neighbour."""

    base: float
    per_feature: float
    per_neighbour: float
    machine: str
    measured_at: str

    def to_dict(self) -> dict:
        return asdict(self)


def _machine() -> str:
    import numba

    from . import __version__

    return (f"{platform.node()}|{platform.machine()}|cpus={os.cpu_count()}|"
            f"threads={numba.get_num_threads()}|infoimb {__version__}")


def _cache_file() -> Path:
    root = os.environ.get("INFOIMB_CACHE_DIR")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "infoimb")
    return Path(root) / _RATE_FILE


def _time_pair(X, d: int, k: int, repeats: int) -> float:
    from ._spaces import make_pair
    from .imbalance import pair_terms, query_indices

    sa, sb = make_pair(X[:, :d], X[:, d:2 * d])
    q = query_indices(sa.n, None)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        pair_terms(sa, sb, k, q, streamed=False)
        best = min(best, time.perf_counter() - t0)
    return best


def measure_rate(*, n: int = 3000, repeats: int = 3) -> EngineRate:
    """Measure the engine's rates now (about 0.1-1 s): three exact runs on n points,
    (d_A, d_B) = (1, 1) and (6, 6) with k = 1, and (1, 1) with k = 8; the best of
    ``repeats`` each."""
    n = check_int(n, "n", low=200)
    repeats = check_int(repeats, "repeats", low=1)
    X = np.random.default_rng(0).normal(size=(n, 12))
    _time_pair(X[:50], 1, 1, 1)  # load the kernels (numba cache) before timing
    pairs = float(n) * n
    t_small = _time_pair(X, 1, 1, repeats) / pairs
    t_wide = _time_pair(X, 6, 1, repeats) / pairs
    t_k = _time_pair(X, 1, 8, repeats) / pairs
    per_feature = max((t_wide - t_small) / 10.0, 0.0)
    base = max(t_small - 2.0 * per_feature, 0.1 * t_small)
    per_neighbour = max((t_k - t_small) / 7.0, 0.0)
    return EngineRate(base, per_feature, per_neighbour, _machine(),
                      time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def engine_rate(*, refresh: bool = False) -> EngineRate:
    """This machine's rates: from the cache file, else measured once and cached."""
    path = _cache_file()
    key = _machine()
    if not refresh:
        try:
            data = json.loads(path.read_text())
            if data.get("machine") == key:
                return EngineRate(**{f: data[f] for f in EngineRate.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError):
            pass
    rate = measure_rate()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
            json.dump(rate.to_dict(), f)
        os.replace(f.name, path)
    except OSError:
        pass  # a read-only home: measured again next time
    return rate


def _check(n, d_a, d_b, k, n_queries, metric):
    from ._spaces import check_metric

    n = check_int(n, "n", low=3)
    metric = check_metric(metric)
    low_d = 0 if metric == "precomputed" else 1
    d_a = check_int(d_a, "d_a", low=low_d)
    d_b = check_int(d_b, "d_b", low=low_d)
    k = check_int(k, "k", low=1, high=n - 1)
    n_queries = check_int(n_queries, "n_queries", low=1, high=n, allow_none=True)
    return n, d_a, d_b, k, n_queries, metric


def estimate_seconds(n, d_a, d_b, *, k: int = 1, n_queries: int | None = None,
                     metric: str = "euclidean", rate: EngineRate | None = None) -> float:
    """Estimated seconds of Delta both ways on N points with d_A and d_B features.

    ``n_queries`` None = exact (N queries). ``rate`` defaults to :func:`engine_rate` (measured
    once per machine, cached). A precomputed metric costs the fixed part only.

    Examples
    --------
    >>> r = EngineRate(1e-9, 2e-10, 1e-10, "example", "2026-01-01T00:00:00Z")
    >>> round(estimate_seconds(200_000, 10, 10, rate=r))
    200
    """
    n, d_a, d_b, k, n_queries, metric = _check(n, d_a, d_b, k, n_queries, metric)
    rate = rate or engine_rate()
    nq = n if n_queries is None else n_queries
    per_pair = rate.base + rate.per_feature * (d_a + d_b) + rate.per_neighbour * (k - 1)
    return float(nq) * n * per_pair


@dataclass(frozen=True)
class CostEstimate:
    """The cost of a run, and the subsampled estimator proposed above the threshold.

    ``suggested_n_queries`` is None when nothing is proposed.
    """

    seconds: float
    n: int
    n_queries: int
    exact: bool
    propose_subsample: bool
    suggested_n_queries: int | None
    suggested_seconds: float | None
    threshold_seconds: float
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def duration_text(seconds: float) -> str:
    """A duration as people say it: ``"under a second"``, ``"40 s"``, ``"2 min"``, ``"1.5 h"``
    (the one wording of the cost line, the subsampling proposal and the time left).

    Examples
    --------
    >>> duration_text(0.2), duration_text(40.4), duration_text(150), duration_text(5400)
    ('under a second', '40 s', '2 min', '1.5 h')
    """
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _fmt_seconds(s: float) -> str:
    return duration_text(s) if s < 1 else f"about {duration_text(s)}"


def cost_estimate(n, d_a, d_b, *, k: int = 1, n_queries: int | None = None,
                  metric: str = "euclidean", threshold_seconds: float = SUBSAMPLE_ABOVE_SECONDS,
                  target_seconds: float = TARGET_SECONDS,
                  rate: EngineRate | None = None) -> CostEstimate:
    """What a run will cost, with the subsampled estimator proposed above the threshold.

    Examples
    --------
    >>> r = EngineRate(1e-9, 2e-10, 1e-10, "example", "2026-01-01T00:00:00Z")
    >>> c = cost_estimate(200_000, 10, 10, rate=r)
    >>> c.propose_subsample, c.suggested_n_queries
    (True, 10000)
    """
    n, d_a, d_b, k, n_queries, metric = _check(n, d_a, d_b, k, n_queries, metric)
    threshold_seconds = check_real(threshold_seconds, "threshold_seconds", low=0, low_open=True)
    target_seconds = check_real(target_seconds, "target_seconds", low=0, low_open=True)
    rate = rate or engine_rate()
    seconds = estimate_seconds(n, d_a, d_b, k=k, n_queries=n_queries, metric=metric, rate=rate)
    nq = n if n_queries is None else n_queries
    exact = nq == n
    propose, m, m_seconds = False, None, None
    if exact and seconds > threshold_seconds:
        per_query = seconds / n
        m = int(max(MIN_PROPOSED_QUERIES, math.floor(target_seconds / per_query)))
        m = int(round(m, -len(str(m)) + 2))  # two significant digits
        if m < n:
            propose, m_seconds = True, m * per_query
        else:
            m = None
    what = "exact" if exact else f"{nq:,} random queries"
    message = f"{what}: {_fmt_seconds(seconds)} (N = {n:,}, d = {d_a} + {d_b}, k = {k})"
    if propose:
        message += (f". Above {threshold_seconds:.0f} s the subsampled estimator is proposed: "
                    f"{m:,} random queries take {_fmt_seconds(m_seconds)} (unbiased, with a "
                    "standard error)")
    return CostEstimate(seconds, n, nq, exact, propose, m, m_seconds, threshold_seconds, message)
