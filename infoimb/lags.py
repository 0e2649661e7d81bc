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
    when the lags do not include mirrored pairs. With permutations (``n_permutations > 0``)
    the arrow follows its test instead: "future"/"past" only when ``arrow_p <= alpha``.

    Significance (see :func:`lag_scan`): ``forward_p`` / ``backward_p`` per lag (None
    without permutations), their Benjamini-Hochberg q-values across lags ``forward_q`` /
    ``backward_q``; ``forward_ci`` / ``backward_ci`` (shape (n_lags, 2)) bootstrap intervals;
    ``best_lag_interval`` the percentile interval of the best lag over the bootstrap and
    ``best_lag_frequency`` how often each lag (in the order of ``lags``) is best; ``arrow_p`` the two-sided bootstrap
    p-value of "future and past are predicted equally well". ``stability``: with
    ``n_splits``, one row per (split, lag) with the forward and backward Delta on that
    disjoint subset and whether the lag is that split's best.
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
    forward_p: np.ndarray | None = None
    backward_p: np.ndarray | None = None
    forward_q: np.ndarray | None = None
    backward_q: np.ndarray | None = None
    forward_ci: np.ndarray | None = None
    backward_ci: np.ndarray | None = None
    best_lag_interval: tuple[int, int] | None = None
    best_lag_frequency: np.ndarray | None = None
    arrow_p: float | None = None
    n_permutations: int = 0
    confidence: float | None = None
    null: str | None = None
    theiler: float | None = None
    stability: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({
            "lag": self.lags, "forward": self.forward, "forward_se": self.forward_se,
            "backward": self.backward, "backward_se": self.backward_se,
            "n_pairs": self.n_pairs, "n_dropped_missing": self.n_dropped_missing,
        })
        if self.forward_p is not None:
            frame["forward_p"] = self.forward_p
            frame["forward_q"] = self.forward_q
            frame["backward_p"] = self.backward_p
            frame["backward_q"] = self.backward_q
        if self.forward_ci is not None:
            frame["forward_ci_low"] = self.forward_ci[:, 0]
            frame["forward_ci_high"] = self.forward_ci[:, 1]
            frame["backward_ci_low"] = self.backward_ci[:, 0]
            frame["backward_ci_high"] = self.backward_ci[:, 1]
        return frame

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
             metric="auto", n_queries: int | None = None, random_state=None,
             progress: ProgressCallback | None = None, n_permutations: int = 0,
             theiler: float | None = None, confidence: float = 0.95,
             n_bootstrap: int = 1000, alpha: float = 0.05, n_splits: int = 0,
             min_shift: int | None = None, algorithm: str = "auto",
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
    n_permutations : int, default 0
        Permutations per lag for the p-values of both directions. With ``group`` whole
        entities' target series are reassigned between entities (the entity null of
        :func:`infoimb.imbalance_pair`); for one series the target's series is circularly
        shifted in time by at least ``min_shift`` pairs (default a tenth of the series).
        q-values: Benjamini-Hochberg across the lags, per direction.
    theiler : float, optional
        Theiler window (in time units of ``time``): neighbours of the same entity within
        ``theiler`` of the query's time are excluded (see :func:`infoimb.imbalance_pair`).
    confidence, n_bootstrap
        Bootstrap intervals: whole entities are resampled (``group``), or blocks of
        ceil(n^(1/3)) consecutive times of one series; the per-query terms are computed once
        and every lag uses the same resample, which gives the distribution of the best lag
        and of the arrow statistic (mean forward Delta over the negative lags minus over the
        mirrored positive lags).
    alpha : float, default 0.05
        Level of the arrow's test when permutations are used.
    n_splits : int, default 0
        Robustness (METHOD.md section 3): repeat the scan on ``n_splits`` disjoint random
        subsets of the entities (``group``) or contiguous time segments (one series) and
        return the curves in ``stability``.
    algorithm : {"auto", "brute", "tree"}
        As in :func:`infoimb.imbalance_pair`.
    client : distributed.Client, optional
        Compute the lags on a Dask cluster, one task per lag (also when
        ``INFOIMB_DASK_ADDRESS`` is set; :mod:`infoimb.cluster`). Identical results. With a
        ``numpy.random.Generator`` as ``random_state`` (one stream consumed lag after lag)
        the scan stays local.

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
    from . import significance as S
    from ._stats import bh_qvalues
    from ._validation import check_int
    from .imbalance import _pair_full

    source = _columns(source, "source")
    target = _columns(target, "target")
    lag_list = _lag_list(lags)
    n_permutations, n_bootstrap, confidence, alpha = S.check_significance_args(
        n_permutations, n_bootstrap, confidence, alpha)
    n_splits = check_int(n_splits, "n_splits", low=0)
    if n_splits == 1:
        raise ValueError("n_splits must be 0 (no robustness check) or at least 2")
    overlap = sorted(set(source) & set(target))
    panel, entity = _panel(df, [*source, *target], time, group)
    tvals = S.time_values(panel[time].to_numpy(), len(panel))
    uniq_times = np.unique(tvals)
    entity_labels = np.unique(panel[entity].astype(str).to_numpy())
    block_len = max(1, int(np.ceil(len(uniq_times) ** (1 / 3))))

    rows = []
    notes = []
    terms = []
    if overlap:
        notes.append(f"source and target share column(s) {overlap}: at lag 0 Delta is trivially small")
    null_kind = None
    args = (panel, tuple(source), tuple(target), time, entity, group, k, metric, n_queries,
            n_permutations, theiler, confidence, alpha, min_shift, algorithm, entity_labels,
            uniq_times, block_len)
    items = [(step, lag, _lag_seed(random_state, step)) for step, lag in enumerate(lag_list)]
    if cluster_configured(client) and not isinstance(random_state, np.random.Generator):
        with get_executor(client) as ex:
            steps = ex.map(_lag_step, items, shared=ex.share(args), progress=progress,
                           message=lambda item, res: f"lag {item[1]}: {res[0][5]} pairs")
    else:
        steps = []
        for item in items:
            steps.append(_lag_step(args, item))
            report(progress, (item[0] + 1) / len(lag_list),
                   f"lag {item[1]}: {steps[-1][0][5]} pairs")
    for row, term, null_kind in steps:
        rows.append(row)
        terms.append(term)
    arr = np.array(rows, dtype=float)
    lags_arr = arr[:, 0].astype(int)
    fwd, fwd_se = arr[:, 1], arr[:, 2]
    best_lag = int(lags_arr[int(np.argmin(fwd))])
    arrow, future_mean, past_mean = _arrow(lags_arr, fwd, fwd_se)
    extra = {}
    if n_permutations:
        extra.update(forward_p=arr[:, 7], backward_p=arr[:, 8], forward_q=bh_qvalues(arr[:, 7]),
                     backward_q=bh_qvalues(arr[:, 8]), n_permutations=n_permutations,
                     null=null_kind)
    if n_bootstrap:
        G = (len(entity_labels) if group else int(len(uniq_times) // block_len + 1))
        boot = _lag_bootstrap(terms, G, n_bootstrap, S.child_rng(random_state, 3))
        fstar, bstar = boot
        extra["forward_ci"] = np.array([S.percentile_interval(f[np.isfinite(f)], confidence)
                                        for f in fstar.T])
        extra["backward_ci"] = np.array([S.percentile_interval(b[np.isfinite(b)], confidence)
                                         for b in bstar.T])
        ok = np.isfinite(fstar).all(axis=1)
        best = lags_arr[np.argmin(fstar[ok], axis=1)]
        lo, hi = np.quantile(best, [(1 - confidence) / 2, (1 + confidence) / 2], method="inverted_cdf")
        extra["best_lag_interval"] = (int(lo), int(hi))
        extra["best_lag_frequency"] = np.array([np.mean(best == lag) for lag in lags_arr])
        extra["confidence"] = confidence
        pairs = _mirrored(lags_arr)
        if pairs:
            fut = fstar[:, [i for i, _ in pairs]].mean(axis=1)
            past = fstar[:, [j for _, j in pairs]].mean(axis=1)
            diff = (past - fut)[ok]
            n = diff.size
            p_future = (1 + np.count_nonzero(diff <= 0)) / (1 + n)
            p_past = (1 + np.count_nonzero(diff >= 0)) / (1 + n)
            extra["arrow_p"] = float(min(1.0, 2 * min(p_future, p_past)))
            if n_permutations:
                arrow = "undecided"
                if extra["arrow_p"] <= alpha:
                    arrow = "future" if past_mean > future_mean else "past"
    if theiler is not None:
        extra["theiler"] = float(theiler)
    if n_splits:
        extra["stability"] = _lag_stability(
            panel, source, target, lag_list, time=time, group=group, entity=entity, k=k,
            metric=metric, n_queries=n_queries, theiler=theiler, n_splits=n_splits,
            rng=S.child_rng(random_state, 4))
    return LagScanResult(tuple(source), tuple(target), lags_arr, fwd, fwd_se, arr[:, 3], arr[:, 4],
                         arr[:, 5].astype(int), arr[:, 6].astype(int), best_lag, arrow,
                         future_mean, past_mean, k, n_queries, tuple(notes), **extra)


def _lag_seed(random_state, step: int):
    """One seed per lag: independent streams for an integer seed."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return random_state
    return int(np.random.default_rng([int(random_state), 104729, step]).integers(2**31))


def _mirrored(lags: np.ndarray) -> list[tuple[int, int]]:
    pos = {int(l): i for i, l in enumerate(lags)}
    return [(pos[l], pos[-l]) for l in pos if l > 0 and -l in pos]


def _lag_bootstrap(terms, G: int, n_bootstrap: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-bootstrap replicates (n_bootstrap, n_lags) of the forward and backward Delta:
    the same resample of clusters (entities or time blocks) for every lag."""
    W = np.zeros((n_bootstrap, G))
    draws = rng.integers(0, G, size=(n_bootstrap, G))
    for b in range(n_bootstrap):
        W[b] = np.bincount(draws[b], minlength=G)
    out_f = np.empty((n_bootstrap, len(terms)))
    out_b = np.empty((n_bootstrap, len(terms)))
    with np.errstate(invalid="ignore", divide="ignore"):
        for l, (t_ab, t_ba, clusters) in enumerate(terms):
            cnt = W @ np.bincount(clusters, minlength=G).astype(float)
            out_f[:, l] = (W @ np.bincount(clusters, weights=t_ab, minlength=G)) / cnt
            out_b[:, l] = (W @ np.bincount(clusters, weights=t_ba, minlength=G)) / cnt
    return out_f, out_b


def _lag_stability(panel, source, target, lag_list, *, time, group, entity, k, metric,
                   n_queries, theiler, n_splits, rng) -> pd.DataFrame:
    """The scan repeated on disjoint subsets: entities (random split) or time segments."""
    if group:
        labels = np.unique(panel[entity].astype(str).to_numpy())
        if len(labels) < n_splits:
            raise ValueError(f"n_splits={n_splits} is more than the {len(labels)} entities")
        parts = np.array_split(rng.permutation(labels), n_splits)
        subsets = [panel[panel[entity].astype(str).isin(part)] for part in parts]
    else:
        order = np.argsort(panel[time].to_numpy(), kind="stable")
        subsets = [panel.iloc[idx] for idx in np.array_split(order, n_splits)]
    frames = []
    for s, sub in enumerate(subsets):
        r = lag_scan(sub, source, target, lags=lag_list, time=time, group=group, k=k,
                     metric=metric, n_queries=n_queries, theiler=theiler, n_bootstrap=0,
                     random_state=int(rng.integers(2**31)))
        frames.append(pd.DataFrame({"split": s, "lag": r.lags, "forward": r.forward,
                                    "backward": r.backward, "is_best": r.lags == r.best_lag,
                                    "n_pairs": r.n_pairs}))
    return pd.concat(frames, ignore_index=True)


def _lag_step(args, item):
    """One lag of :func:`lag_scan`: (row, (t_ab, t_ba, clusters), null kind). A Dask task
    on a cluster; called in order by the local run."""
    from . import significance as S
    from .imbalance import _pair_full

    (panel, source, target, time, entity, group, k, metric, n_queries, n_permutations, theiler,
     confidence, alpha, min_shift, algorithm, entity_labels, uniq_times, block_len) = args
    step, lag, seed = item
    src, tgt, info = lagged_pairs(panel, list(source), list(target), lag=lag, time=time,
                                  entity=entity)
    if len(src) < 3:
        raise ValueError(f"lag {lag}: only {len(src)} (t, t+lag) pairs can be formed; "
                         "the lag is too long for the series")
    if k >= len(src):
        raise ValueError(f"lag {lag}: k={k} must be smaller than the number of pairs ({len(src)})")
    nq = min(n_queries, len(src)) if n_queries else None
    keys = info["keys"]
    ptimes = S.time_values(keys["time"].to_numpy(), len(src))
    pgroups = keys["entity"].astype(str).to_numpy() if group else None
    p, t_ab, t_ba, queries = _pair_full(
        src, tgt, k=k, metric=metric, period=None, weights=None, n_queries=nq,
        random_state=seed, n_permutations=n_permutations,
        groups=pgroups, times=ptimes, theiler=theiler, confidence=confidence,
        n_bootstrap=0, alpha=alpha, null="auto" if group else "shift",
        min_shift=min_shift, algorithm=algorithm)
    if group:
        clusters = np.searchsorted(entity_labels, pgroups)[queries]
    else:
        clusters = (np.searchsorted(uniq_times, ptimes) // block_len)[queries]
    row = (lag, p.a_to_b, p.a_to_b_se, p.b_to_a, p.b_to_a_se, len(src),
           int(info.get("n_dropped_missing", 0)),
           math.nan if p.p_a_to_b is None else p.p_a_to_b,
           math.nan if p.p_b_to_a is None else p.p_b_to_a)
    return row, (t_ab, t_ba, clusters), p.null


def _arrow(lags: np.ndarray, fwd: np.ndarray, se: np.ndarray) -> tuple[str, float, float]:
    pairs = _mirrored(lags)
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
    src, tgt, info = lagged_pairs(panel, candidates, target, lag=lag, time=time, entity=entity)
    if len(src) < 3:
        raise ValueError(f"lag {lag}: only {len(src)} pairs can be formed; the lag is too long for the series")
    if group and "groups" not in select_kwargs:  # intervals and splits by entity
        select_kwargs = select_kwargs | {"groups": info["keys"]["entity"].astype(str).to_numpy()}
    if select_kwargs.get("theiler") is not None and "times" not in select_kwargs:
        select_kwargs = select_kwargs | {"times": info["keys"]["time"].to_numpy()}
    return select_features(src.reset_index(drop=True), tgt.reset_index(drop=True), **select_kwargs)
