"""Time lags on panel data (entities x time): Delta(X_t -> Y_{t+lag}) and the arrow of time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._progress import ProgressCallback, report
from .cluster import cluster_configured, get_executor
from ._serialize import Result
from .imbalance import imbalance_pair
from .preprocess import check_panel, lagged_pairs
from .selection import SelectionResult, select_features


@dataclass(frozen=True)
class LagScanResult(Result):
    """Result of :func:`lag_scan`.

    For each lag (rows, in the order of ``lags``): ``forward`` = Delta(source_t ->
    target_{t+lag}), ``backward`` = Delta(target_{t+lag} -> source_t), their standard errors,
    and the number of (t, t+lag) pairs formed within entities.

    ``best_lag``: the lag at which the source predicts the target best (smallest forward).
    ``arrow``: "future" when the source predicts the target's future better than its past
    (mean forward Delta over positive lags smaller than over the mirrored negative lags by
    more than two combined standard errors), "past" for the reverse, "undecided" otherwise or
    when the lags do not include mirrored pairs.
    """

    source: tuple[str, ...]
    target: tuple[str, ...]
    lags: np.ndarray
    forward: np.ndarray
    forward_se: np.ndarray
    backward: np.ndarray
    backward_se: np.ndarray
    n_pairs: np.ndarray
    n_dropped_missing: np.ndarray
    best_lag: int
    arrow: str
    future_mean: float
    past_mean: float
    k: int
    n_queries: int | None
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "lag": self.lags, "forward": self.forward, "forward_se": self.forward_se,
            "backward": self.backward, "backward_se": self.backward_se,
            "n_pairs": self.n_pairs, "n_dropped_missing": self.n_dropped_missing,
        })

    def to_dict(self) -> dict:
        """Every field, and ``rows``: the table of :meth:`to_frame` as records."""
        return super().to_dict() | {"rows": self.to_frame().to_dict(orient="records")}

    @property
    def verdict(self) -> str:
        """The arrow of time in words (:func:`infoimb.verdicts.lag_scan`)."""
        from . import verdicts

        return verdicts.lag_scan(self)


def _columns(cols, what: str) -> list[str]:
    if isinstance(cols, str):
        cols = [cols]
    cols = [str(c) for c in cols]
    if not cols:
        raise ValueError(f"{what}: no columns given (the feature list is empty)")
    return cols


def _lag_list(lags) -> list[int]:
    if isinstance(lags, (int, np.integer)):
        raise TypeError("lags must be a sequence of whole numbers, e.g. range(-5, 6)")
    out = []
    for lag in lags:
        if isinstance(lag, bool) or int(lag) != lag:
            raise ValueError(f"lags must be whole numbers; got {lag!r}")
        out.append(int(lag))
    if not out:
        raise ValueError("lags: no lag given")
    if len(set(out)) != len(out):
        raise ValueError("lags: duplicate values")
    return out


def _panel(df: pd.DataFrame, columns: list[str], time: str, group: str | None) -> tuple[pd.DataFrame, str]:
    """The used columns as a checked panel (time parsed, sorted) and the entity column name."""
    missing = [c for c in [*columns, time, *([group] if group else [])] if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} are not in the table")
    panel = df[[*dict.fromkeys([time, *([group] if group else []), *columns])]].copy()
    entity = group
    if entity is None:
        entity = "__entity__"
        panel[entity] = 0
    return check_panel(panel, time=time, entity=entity), entity


def lag_scan(df: pd.DataFrame, source: str | Sequence[str], target: str | Sequence[str], *,
             lags: Sequence[int], time: str, group: str | None = None, k: int = 1,
             metric: str = "euclidean", n_queries: int | None = None, random_state=None,
             progress: ProgressCallback | None = None, algorithm: str = "auto",
             client=None) -> LagScanResult:
    """Scan Delta(source_t -> target_{t+lag}) and the reverse over a range of lags.

    Pairs (source at t, target at t+lag) are formed within each entity of ``group`` only, by
    time value: never across entities, never across gaps in time. Rows with missing values in
    the used columns are dropped per lag and counted (``n_dropped_missing``).

    Parameters
    ----------
    df : DataFrame
        Long table, one row per (entity, time).
    source, target : column name or list of names
    lags : sequence of int
        E.g. ``range(-5, 6)``. In steps of the panel's time step for datetime time columns,
        in time units for numeric ones.
    time : str
        Time column (numeric, datetime, or parseable text).
    group : str, optional
        Entity column; None for a single series.
    k, metric, n_queries, random_state, algorithm
        As in :func:`infoimb.imbalance_pair`.
    progress : callable(fraction, message), optional
    client : distributed.Client, optional
        Compute the lags on a Dask cluster, one task per lag (also when
        ``INFOIMB_DASK_ADDRESS`` is set; :mod:`infoimb.cluster`). Identical results: the
        query samples are drawn here, in the order of the local run.

    Examples
    --------
    >>> import numpy as np, pandas as pd, infoimb
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> y = np.r_[0, 0, x[:-2]] + 0.1 * rng.normal(size=400)   # y follows x by 2 steps
    >>> df = pd.DataFrame({"t": np.arange(400), "x": x, "y": y})
    >>> r = infoimb.lag_scan(df, "x", "y", lags=range(-3, 4), time="t")
    >>> r.best_lag, r.arrow
    (2, 'future')
    """
    source = _columns(source, "source")
    target = _columns(target, "target")
    lag_list = _lag_list(lags)
    overlap = sorted(set(source) & set(target))
    panel, entity = _panel(df, [*source, *target], time, group)

    rows = []
    notes = []
    if overlap:
        notes.append(f"source and target share column(s) {overlap}: at lag 0 Delta is trivially small")
    if cluster_configured(client):
        rows = _lag_rows_on_cluster(panel, source, target, lag_list, time, entity, k, metric,
                                    n_queries, random_state, progress, algorithm, client)
    for step, lag in enumerate(() if rows else lag_list):  # the local run
        src, tgt, info = lagged_pairs(panel, source, target, lag=lag, time=time, entity=entity)
        if len(src) < 3:
            raise ValueError(f"lag {lag}: only {len(src)} (t, t+lag) pairs can be formed; "
                             "the lag is too long for the series")
        if k >= len(src):
            raise ValueError(f"lag {lag}: k={k} must be smaller than the number of pairs ({len(src)})")
        nq = min(n_queries, len(src)) if n_queries else None
        p = imbalance_pair(src, tgt, k=k, metric=metric, n_queries=nq, random_state=random_state,
                           algorithm=algorithm)
        rows.append((lag, p.a_to_b, p.a_to_b_se, p.b_to_a, p.b_to_a_se, len(src),
                     int(info.get("n_dropped_missing", 0))))
        report(progress, (step + 1) / len(lag_list), f"lag {lag}: {len(src)} pairs")
    arr = np.array(rows, dtype=float)
    lags_arr = arr[:, 0].astype(int)
    fwd, fwd_se = arr[:, 1], arr[:, 2]
    best_lag = int(lags_arr[int(np.argmin(fwd))])
    arrow, future_mean, past_mean = _arrow(lags_arr, fwd, fwd_se)
    return LagScanResult(tuple(source), tuple(target), lags_arr, fwd, fwd_se, arr[:, 3], arr[:, 4],
                         arr[:, 5].astype(int), arr[:, 6].astype(int), best_lag, arrow,
                         future_mean, past_mean, k, n_queries, tuple(notes))


def _lag_rows_on_cluster(panel, source, target, lag_list, time, entity, k, metric, n_queries,
                         random_state, progress, algorithm, client) -> list[tuple]:
    """The rows of :func:`lag_scan`, one Dask task per lag.

    The pairs of each lag are formed here too (cheap), to check them with the local run's
    messages and to draw each lag's queries from ``random_state`` in the local run's order.
    """
    from ._trees import check_algorithm
    from .imbalance import query_indices

    check_algorithm(algorithm)
    items = []
    for lag in lag_list:
        src, tgt, info = lagged_pairs(panel, source, target, lag=lag, time=time, entity=entity)
        if len(src) < 3:
            raise ValueError(f"lag {lag}: only {len(src)} (t, t+lag) pairs can be formed; "
                             "the lag is too long for the series")
        if k >= len(src):
            raise ValueError(f"lag {lag}: k={k} must be smaller than the number of pairs ({len(src)})")
        nq = min(n_queries, len(src)) if n_queries else None
        queries = query_indices(len(src), nq, random_state)
        items.append((lag, queries, int(info.get("n_dropped_missing", 0))))
    with get_executor(client) as ex:
        shared = ex.share((panel, tuple(source), tuple(target), time, entity, k, metric,
                           algorithm))
        return ex.map(_lag_row, items, shared=shared, progress=progress,
                      message=lambda item, row: f"lag {item[0]}: {row[5]} pairs")


def _lag_row(shared, item) -> tuple:
    """A Dask task: one row of the lag scan."""
    from ._spaces import make_pair
    from .imbalance import mean_se, pair_terms

    panel, source, target, time, entity, k, metric, algorithm = shared
    lag, queries, dropped = item
    src, tgt, _ = lagged_pairs(panel, list(source), list(target), lag=lag, time=time,
                               entity=entity)
    sa, sb = make_pair(src, tgt, metric=metric)
    t_ab, t_ba = pair_terms(sa, sb, k, queries, algorithm=algorithm)
    return (lag, *mean_se(t_ab), *mean_se(t_ba), len(src), dropped)


def _arrow(lags: np.ndarray, fwd: np.ndarray, se: np.ndarray) -> tuple[str, float, float]:
    pos = {int(l): i for i, l in enumerate(lags)}
    pairs = [(pos[l], pos[-l]) for l in pos if l > 0 and -l in pos]
    if not pairs:
        return "undecided", math.nan, math.nan
    fut = np.array([fwd[i] for i, _ in pairs])
    past = np.array([fwd[j] for _, j in pairs])
    fut_se = np.sqrt(np.sum([se[i] ** 2 for i, _ in pairs])) / len(pairs)
    past_se = np.sqrt(np.sum([se[j] ** 2 for _, j in pairs])) / len(pairs)
    f, p = float(fut.mean()), float(past.mean())
    margin = 2.0 * math.hypot(fut_se, past_se)
    if p - f > margin:
        return "future", f, p
    if f - p > margin:
        return "past", f, p
    return "undecided", f, p


def select_lagged(df: pd.DataFrame, candidates: str | Sequence[str], target: str | Sequence[str], *,
                  lag: int, time: str, group: str | None = None, **select_kwargs) -> SelectionResult:
    """Feature selection with a lagged target: candidates at t -> target at t+lag.

    E.g. the paper's policy selection Delta(P_t -> E_{t+2}). ``select_kwargs`` go to
    :func:`infoimb.select_features` (method, max_features, k, n_queries, dummy, ...).

    Examples
    --------
    >>> import numpy as np, pandas as pd, infoimb
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"t": np.arange(300), "a": rng.normal(size=300),
    ...                    "b": rng.normal(size=300)})
    >>> df["y"] = np.r_[0.0, df["a"].to_numpy()[:-1]]       # y follows a by one step
    >>> infoimb.select_lagged(df, ["a", "b"], "y", lag=1, time="t",
    ...                       method="exhaustive", max_features=1).best(1).features
    ('a',)
    """
    candidates = _columns(candidates, "candidates")
    target = _columns(target, "target")
    inside = sorted(set(candidates) & set(target))
    if inside:
        raise ValueError(f"target column(s) {inside} are inside the candidate set; remove them from the candidates")
    panel, entity = _panel(df, [*candidates, *target], time, group)
    src, tgt, _ = lagged_pairs(panel, candidates, target, lag=lag, time=time, entity=entity)
    if len(src) < 3:
        raise ValueError(f"lag {lag}: only {len(src)} pairs can be formed; the lag is too long for the series")
    return select_features(src.reset_index(drop=True), tgt.reset_index(drop=True), **select_kwargs)
