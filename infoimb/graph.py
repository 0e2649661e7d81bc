"""Causal graphs of many time series from the imbalance gain: which variables drive which.

:func:`causal_graph` tests every ordered pair of variables with the imbalance gain (Del Tatto
et al., PNAS 2024) and keeps the *direct* links, each with its gain, lag, p-value and
q-value. It follows the two-phase scheme of PCMCI (Runge et al., Sci. Adv. 2019) with the
imbalance gain as the test and circular-shift surrogates as the null, in the spirit of
Allione, Del Tatto & Laio (arXiv 2501.10886, 2025).

The choice of lags and conditioning sets (why a link is direct)
---------------------------------------------------------------
Every test predicts the effect **one step ahead**: the target is Y_{t+1}, the base space is
the effect's present Y_t (its time-delay embedding with ``embedding``), and a link (X, lag)
adds the cause's value X_{t+1-lag} (lag 1: X_t). Conditioning variables enter at their own
lags, i.e. always at times <= t, never later.

This is what makes conditioning remove indirect links. Over a horizon of tau > 1 steps, the
influence of X_t on Y_{t+tau} can run through *later* values of a mediator M (X_t -> M_{t+1}
-> Y_{t+2}): conditioning on M's present value M_t does not block that path (measured on a
chain of logistic maps with tau = 3: conditioning X -> Z on Y_t *raised* IG from 0.11 to
0.33), and conditioning on M's later values instead is no cure: M_{t+1} is partly made of
X_t, so it would also absorb true links of X. One step ahead, there is no later value: every
path from X_{t+1-lag} to Y_{t+1} other than the direct link passes through some variable at a
time <= t, and conditioning on the effect's detected drivers at those times blocks it (the
Markov property of the joint dynamics, as in PCMCI). Links that take several steps to act
are found with ``taus`` (lags 1..L); a variable whose own memory is longer than one step
needs an ``embedding``; a flow sampled so finely that one step shows no effect should be
subsampled first.

The algorithm
-------------
1. **Pairwise** (all ordered pairs, all lags): IG((X, lag) -> Y) with its p-value against
   circular shifts of the cause (within entities on panels). Candidates: p <= ``pc_alpha``.
2. **Conditioning** (per effect, the PC1 step of PCMCI): each candidate is re-tested given
   the strongest 1, then 2, ... other candidates, at their lags, in the base space (weight
   1, as in :func:`infoimb.imbalance_gain`'s ``conditioning``), and dropped as soon as it is
   no longer significant at ``pc_alpha`` (explained by those). Growing the conditioning set
   one at a time keeps the spaces small: a true driver is not lost in a high-dimensional
   space full of spurious candidates. Each survivor is finally tested given all the other
   survivors (the MCI step); that test gives its gain and p-value.
3. **Decision**: one p-value per ordered pair (the best lag, Bonferroni over the lags),
   Benjamini-Hochberg q-values over all ordered pairs; an edge where q <= ``alpha`` and the
   gain is at least ``min_gain``.

The smallest p-value a surrogate test can give is 1 / (n_surrogates + 1), and BH needs
p <= alpha * R / m for R edges among m ordered pairs: with few true edges among many pairs,
raise ``n_surrogates`` (about m / (alpha R); 199 suffices for ~4 variables, a 10-variable
graph with 10 edges needs ~180, with 3 edges ~600).

Columns are z-scored (pooled over entities) before distances, so conditioning variables at
weight 1 are on a comparable scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._progress import report
from ._serialize import Result
from ._spaces import check_k
from ._stats import bh_qvalues
from ._validation import check_int, check_real
from .causality import (
    _check_alphas,
    _check_embedding,
    _check_progress,
    _check_surrogates,
    gain_scan,
    null_gains,
    shift_sources,
)
from .imbalance import query_indices

__all__ = ["MAX_VARIABLES", "CausalGraph", "causal_graph"]

#: most variables :func:`causal_graph` accepts (50 variables = 2450 ordered pairs)
MAX_VARIABLES = 50
#: fewest usable time points (present/future pairs) after lags and embedding
MIN_POINTS = 20
DEFAULT_GRAPH_ALPHAS = np.linspace(0.0, 1.0, 21)


@dataclass(frozen=True)
class CausalGraph(Result):
    """Result of :func:`causal_graph`.

    Attributes
    ----------
    variables : tuple of str
        Variable names, in order (the nodes).
    columns : dict {variable: tuple of columns}
    edges : DataFrame
        One row per detected direct link, strongest first: ``cause``, ``effect``, ``gain``
        (the imbalance gain given the effect's other drivers), ``lag`` (steps: the cause at
        t+1-lag acts on the effect at t+1), ``p``, ``q``, ``gain_pairwise``, ``alpha_star``,
        ``conditioned_on``.
    tested : DataFrame
        Every ordered pair: ``cause``, ``effect``, ``lag``, ``gain_pairwise``,
        ``p_pairwise``, ``gain``, ``p``, ``q``, ``conditioned_on``, ``edge`` (bool) and
        ``reason`` (why it was kept or removed).
    taus : tuple of int
        The lags tested.
    n : int
        Usable time points (present/future pairs, pooled over entities).
    n_entities : int
    k, n_surrogates, min_shift : int
    alpha, pc_alpha, min_gain : float
    embedding : (dim, delay) or None
    alphas : array
        The cause scales scanned.
    """

    variables: tuple[str, ...]
    columns: dict
    edges: pd.DataFrame
    tested: pd.DataFrame
    taus: tuple[int, ...]
    n: int
    n_entities: int
    k: int
    n_surrogates: int
    min_shift: int
    alpha: float
    pc_alpha: float
    min_gain: float
    embedding: tuple[int, int] | None
    alphas: np.ndarray = field(repr=False)

    def adjacency(self) -> pd.DataFrame:
        """Gains of the edges as a matrix: rows = causes, columns = effects (0 = no edge)."""
        m = pd.DataFrame(0.0, index=list(self.variables), columns=list(self.variables))
        for row in self.edges.itertuples():
            m.loc[row.cause, row.effect] = row.gain
        return m

    def positions(self) -> dict[str, tuple[float, float]]:
        """A layout for drawing: the variables on a circle in their order, the first at the
        top, clockwise. It depends only on the variables, so it is stable between runs."""
        m = len(self.variables)
        return {v: (round(math.sin(2 * math.pi * i / m), 12), round(math.cos(2 * math.pi * i / m), 12))
                for i, v in enumerate(self.variables)}

    def to_dict(self) -> dict:
        """Every field (frames as {column: [values]}, the project's one result format) plus
        ``positions`` for drawing; :meth:`from_dict` reads it back."""
        return super().to_dict() | {"positions": {k: list(v) for k, v in self.positions().items()}}

    @classmethod
    def from_dict(cls, data) -> CausalGraph:
        """The graph read back from :meth:`to_dict` (or its JSON)."""
        g = super().from_dict(data)
        object.__setattr__(g, "columns", {k: tuple(v) for k, v in g.columns.items()})
        return g


# --------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------
def _variables(df: pd.DataFrame, variables, exclude) -> dict[str, list[str]]:
    if variables is None:
        cols = [c for c in df.columns if c not in exclude
                and pd.api.types.is_numeric_dtype(df[c].dtype)
                and not pd.api.types.is_bool_dtype(df[c].dtype)]
        out = {str(c): [c] for c in cols}
    else:
        if not isinstance(variables, Mapping):
            raise TypeError("variables must be a mapping {name: column or list of columns}, "
                            f"got {type(variables).__name__}")
        out = {}
        for name, cols in variables.items():
            if isinstance(cols, str):
                cols = [cols]
            cols = list(cols)
            if not cols:
                raise ValueError(f"variables: variable {name!r} has no columns")
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise ValueError(f"variables: column(s) {missing} of variable {name!r} are not "
                                 f"in the table; columns are {list(df.columns)}")
            bad = [c for c in cols if not pd.api.types.is_numeric_dtype(df[c].dtype)
                   or pd.api.types.is_bool_dtype(df[c].dtype)]
            if bad:
                raise TypeError(f"variables: column(s) {bad} of variable {name!r} are not numeric")
            inside = [c for c in cols if c in exclude]
            if inside:
                raise ValueError(f"variables: variable {name!r} uses the time/group column(s) "
                                 f"{inside}")
            out[str(name)] = cols
    if len(out) < 2:
        raise ValueError(f"variables: a causal graph needs at least 2 variables, got {len(out)}"
                         + ("" if variables is not None else " numeric column(s)"))
    if len(out) > MAX_VARIABLES:
        raise ValueError(f"variables: {len(out)} variables is more than the limit of "
                         f"{MAX_VARIABLES} ({MAX_VARIABLES * (MAX_VARIABLES - 1)} ordered pairs)")
    return out


def _taus(taus) -> tuple[int, ...]:
    if isinstance(taus, (int, np.integer)) and not isinstance(taus, bool):
        taus = [taus]
    try:
        items = list(taus)
    except TypeError:
        raise TypeError(f"taus must be a whole number or a sequence of them, got {taus!r}") from None
    if not items:
        raise ValueError("taus: no lag given")
    out = tuple(check_int(t, "taus", low=1) for t in items)
    if len(set(out)) != len(out):
        raise ValueError(f"taus: duplicate lags in {list(out)}")
    return tuple(sorted(out))


def _time_index(d: pd.DataFrame, time: str, ent: str) -> np.ndarray:
    """Whole time steps since each entity's first row (the step: the most common difference)."""
    t = d[time]
    diffs = d.groupby(ent, sort=False)[time].diff().dropna()
    if pd.api.types.is_datetime64_any_dtype(t.dtype):
        diffs = diffs[diffs > pd.Timedelta(0)]
        zero = pd.Timedelta(0)
    else:
        diffs = diffs[diffs > 0]
        zero = 0
    if diffs.empty:
        raise ValueError(f"time: cannot infer the time step of {time!r}: no entity has two rows")
    counts = diffs.value_counts()
    step = counts[counts == counts.max()].index.min()
    first = d.groupby(ent, sort=False)[time].transform("min")
    steps = (t - first) / step
    steps = np.asarray(steps, dtype=np.float64)
    whole = np.round(steps)
    if np.any(np.abs(steps - whole) > 1e-6) or step == zero:
        bad = int(np.argmax(np.abs(steps - whole) > 1e-6))
        raise ValueError(f"time: {time!r} is not on a regular grid of step {step} (e.g. the "
                         f"value {t.iloc[bad]!r}); resample the panel first")
    return whole.astype(np.int64)


@dataclass(frozen=True)
class _Design:
    """Aligned arrays: for each variable and lag, the cause/base block over the present rows."""

    blocks: dict  # (variable, lag) -> (n, d) array; lag 1 = present
    targets: dict  # variable -> (n, d) future values
    entity_blocks: list  # [(start, stop)] rows of each entity
    n: int
    n_entities: int


def _design(df, variables, taus, embedding, group, time) -> _Design:
    from .preprocess import _panel  # the panel checks of lag_scan (sorted, time parsed)

    used = [c for cols in variables.values() for c in cols]
    if time is not None or group is not None:
        keys = [k for k in (time, group) if k is not None]
        missing = [k for k in keys if k not in df.columns]
        if missing:
            raise ValueError(f"column(s) {missing} are not in the table (time/group)")
    if time is not None:
        d, ent = _panel(df[list(dict.fromkeys([*keys, *used]))], time, group, warn=False)
        idx = _time_index(d, time, ent)
        entity = d[ent].to_numpy()
    else:
        d = df.reset_index(drop=True)
        if group is not None:
            if d[group].isna().any():
                raise ValueError(f"group column {group!r} has missing values")
            # rows in the given order within each entity
            order = np.argsort(pd.factorize(d[group])[0], kind="stable")
            d = d.iloc[order].reset_index(drop=True)
            entity = d[group].to_numpy()
        else:
            entity = np.zeros(len(d), dtype=np.int64)
        codes = pd.factorize(entity)[0]
        idx = np.zeros(len(d), dtype=np.int64)
        for e in np.unique(codes):
            rows = np.flatnonzero(codes == e)
            idx[rows] = np.arange(rows.size)
    codes = pd.factorize(entity)[0]
    values = d[used].to_numpy(dtype=np.float64, na_value=np.nan)
    ok_row = np.isfinite(values).all(axis=1)

    # z-score every column over its finite values (pooled over entities)
    col_of = {}
    for name, cols in variables.items():
        for c in cols:
            j = used.index(c)
            col_of.setdefault(name, []).append(j)
            v = values[np.isfinite(values[:, j]), j]
            sd = float(v.std()) if v.size else 0.0
            if v.size < 2 or not sd > 0 or not math.isfinite(sd):
                raise ValueError(f"variables: column {c!r} of variable {name!r} is constant; a "
                                 "constant series carries no information: drop it")
    mean = np.nanmean(values, axis=0)
    sd = np.nanstd(values, axis=0)
    z = (values - mean) / sd

    dim, delay = embedding if embedding is not None else (1, 1)
    max_tau = max(taus)
    back = (max_tau - 1) + (dim - 1) * delay  # steps before t that the design needs
    # a dense grid per entity: grid[base_e + step] = row, or -1 (missing / non-finite)
    sizes = np.zeros(codes.max() + 1, dtype=np.int64)
    np.maximum.at(sizes, codes, idx + 1)
    base = np.concatenate([[0], np.cumsum(sizes + back + 2)])[:-1]
    grid = np.full(int((sizes + back + 2).sum()), -1, dtype=np.int64)
    slot = base[codes] + back + idx
    grid[slot[ok_row]] = np.flatnonzero(ok_row)
    starts = base + back
    present = []
    for e in range(sizes.shape[0]):
        g = np.arange(starts[e], starts[e] + sizes[e] - 1)  # t such that t + 1 is in range
        present.append(g)
    present = np.concatenate(present) if present else np.zeros(0, dtype=np.int64)
    offsets = sorted({1, *[1 - tau - j * delay for tau in taus for j in range(dim)]})
    valid = np.ones(present.shape[0], dtype=bool)
    for o in offsets:
        valid &= grid[present + o] >= 0
    present = present[valid]
    n = int(present.shape[0])
    longest = int(sizes.max())
    if n < MIN_POINTS:
        span = (dim - 1) * delay
        raise ValueError(
            f"taus: lags up to {max_tau}" + (f" with the embedding's span of {span} steps"
                                             if span else "")
            + f" leave only {n} usable time points (the longest series has {longest}); "
            f"at least {MIN_POINTS} are needed: use shorter lags or a longer series")
    ent_of = np.searchsorted(starts, present, side="right") - 1
    entity_blocks = []
    for e in np.unique(ent_of):
        rows = np.flatnonzero(ent_of == e)
        entity_blocks.append((int(rows[0]), int(rows[-1]) + 1))

    blocks = {}
    targets = {}
    for name, js in col_of.items():
        targets[name] = z[np.ix_(grid[present + 1], js)]
        for tau in taus:
            parts = [z[np.ix_(grid[present + 1 - tau - j * delay], js)] for j in range(dim)]
            blocks[(name, tau)] = np.hstack(parts)
        if 1 not in taus:
            parts = [z[np.ix_(grid[present - j * delay], js)] for j in range(dim)]
            blocks[(name, 1)] = np.hstack(parts)
    return _Design(blocks, targets, entity_blocks, n, len(entity_blocks))


# --------------------------------------------------------------------------------------
# the graph
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _GraphWork:
    """What every test of :func:`causal_graph` reads (sent to Dask workers once)."""

    blocks: dict
    targets: dict
    alphas: np.ndarray
    k: int
    queries: np.ndarray
    src: np.ndarray
    n_surrogates: int
    pc_alpha: float
    max_conditions: int | None
    bounds: np.ndarray


def _graph_test(w: _GraphWork, cause_links, effect, cond_links, decide_only=False):
    """[(gain, p, alpha_star)] of each cause link given the conditioning links.

    ``decide_only``: the caller needs only "p <= pc_alpha or not" (the selection
    phase). Surrogates then run in batches and stop as soon as enough of them reach
    the observed gain to make p > pc_alpha whatever the rest give (the same decision as
    the full run); p is then estimated from the surrogates run."""
    base = np.hstack([w.blocks[(effect, 1)]] + [w.blocks[c] for c in cond_links])
    causes = [w.blocks[c] for c in cause_links]
    target = w.targets[effect]
    n_surrogates = w.n_surrogates
    batch = n_surrogates if not decide_only else max(19, n_surrogates // 8)
    hits = np.zeros(len(cause_links), dtype=np.int64)
    done = 0
    gains = stars = None
    while done < n_surrogates:
        rows = np.concatenate([[0], np.arange(done + 1, min(done + batch, n_surrogates) + 1)])
        terms, null = gain_scan(causes, base, target, w.alphas, w.k, w.queries, w.src[rows],
                                None, bounds=w.bounds)
        if gains is None:
            delta = terms.mean(axis=2)  # (n_causes, n_alpha)
            d0 = delta[:, 0]
            s_star = np.argmin(delta, axis=1)
            dmin = delta[np.arange(len(cause_links)), s_star]
            gains = np.where(d0 > 0, (d0 - dmin) / np.where(d0 > 0, d0, 1.0), 0.0)
            stars = w.alphas[s_star]
        nulls = null_gains(null)  # (n_causes, batch)
        tol = 1e-12 * np.maximum(1.0, np.abs(gains))
        hits += np.count_nonzero(nulls >= (gains - tol)[:, None], axis=1)
        done = int(rows[-1])
        if decide_only and np.all(1.0 + hits > w.pc_alpha * (1.0 + n_surrogates)):
            break
    return [(float(gains[c]), float((1.0 + hits[c]) / (1.0 + done)), float(stars[c]))
            for c in range(len(cause_links))]


def _pairwise_task(w: _GraphWork, item):
    """A Dask task: phase 1 of :func:`causal_graph` for one effect."""
    _, effect, links = item
    return _graph_test(w, links, effect, [])


def _drivers(w: _GraphWork, names, tau_list, effect, pair, progress=None, share=0.0):
    """Phase 2 of :func:`causal_graph` for one effect (``pair``: its phase-1 results).

    PC1 of PCMCI: condition each candidate on the strongest 1, 2, ... others and drop it
    once it is explained; then each survivor given all the other survivors (MCI).
    Returns (final, removed_by) for this effect's links."""
    final, removed_by = {}, {}
    strength = {}
    cands = []
    for c in names:
        for tau in tau_list:
            g, p, _ = pair.get((c, tau, effect), (0.0, 1.0, 0.0))
            if c != effect and p <= w.pc_alpha:
                cands.append((c, tau))
                strength[(c, tau)] = (p, -g)
    current = sorted(cands, key=lambda L: strength[L])
    size = 1
    while size < len(current) and (w.max_conditions is None or size <= w.max_conditions):
        for link in list(current):
            if link not in current:
                continue
            others = sorted((c for c in current if c != link), key=lambda L: strength[L])
            if len(others) < size:
                continue
            cond = tuple(others[:size])
            (res,) = _graph_test(w, [link], effect, list(cond), decide_only=True)
            report(progress, share, f"conditioning: {link[0]} -> {effect} given {size} other(s)")
            strength[link] = (res[1], -res[0])
            if res[1] > w.pc_alpha:
                current.remove(link)
                removed_by[(link[0], link[1], effect)] = cond
                final[(link[0], link[1], effect)] = res + (cond,)
        current.sort(key=lambda L: strength[L])
        size += 1
    for link in current:
        cond = tuple(c for c in current if c != link)
        if cond:
            (res,) = _graph_test(w, [link], effect, list(cond))
            report(progress, share, f"final: {link[0]} -> {effect} given the other drivers")
        else:
            res = pair[(link[0], link[1], effect)]
        final[(link[0], link[1], effect)] = res + (cond,)
    return final, removed_by


def _drivers_task(w: _GraphWork, item):
    """A Dask task: phase 2 of :func:`causal_graph` for one effect."""
    names, tau_list, effect, pair = item
    return _drivers(w, names, tau_list, effect, pair)


def _label(link) -> str:
    name, tau = link
    return f"{name} (lag {tau})"


def causal_graph(data, variables=None, *, taus=(1,), embedding: tuple[int, int] | None = None,
                 k: int = 5, alphas=None, group: str | None = None, time: str | None = None,
                 n_surrogates: int = 199, min_shift: int | None = None, alpha: float = 0.05,
                 pc_alpha: float = 0.1, min_gain: float = 0.01, max_conditions: int | None = None, n_queries: int | None = None,
                 random_state=None,
                 progress: Callable[[float, str], object] | None = None,
                 client=None) -> CausalGraph:
    """The graph of direct causal links among many time series, from the imbalance gain.

    See the module documentation (:mod:`infoimb.graph`) for the scheme; in short: every
    ordered pair is tested one step ahead, IG((X_{t+1-lag}, Y_t) -> Y_{t+1}), against
    circular-shift surrogates of the cause; each effect's candidate drivers are then
    re-tested given each other (at times <= t, which blocks indirect paths), and the
    surviving links with a Benjamini-Hochberg q-value <= ``alpha`` are the edges.

    Parameters
    ----------
    data : DataFrame
        One row per time point (rows in time order, or give ``time``); a panel in long
        format with ``group`` (one row per entity and time).
    variables : mapping {name: column or list of columns}, optional
        The variables (nodes); a variable may span several columns (e.g. the three
        coordinates of an oscillator). Default: one variable per numeric column, named by
        it (``group`` and ``time`` excluded). At most ``MAX_VARIABLES`` = 50.
    taus : int or sequence of int, default (1,)
        Lags (steps) of the links tested: lag L tests the cause at t+1-L against the
        effect at t+1. The lag of an edge is the one with the smallest p-value.
    embedding : (dim, delay), optional
        Each variable's present is its time-delay embedding (values at t, t-delay, ...,
        t-(dim-1)*delay), for variables whose own memory spans several steps.
    k : int, default 5
        Neighbours.
    alphas : sequence of float in [0, 1], optional
        Scales of the cause scanned by each test; default 21 values 0, 0.05, ..., 1.
    group, time : str, optional
        Entity and time columns of a panel. Pairs (t, t+1) are formed within entities only
        (never across entities or gaps; a time point with a missing value is skipped) and
        pooled; surrogates shift each entity's cause within the entity.
    n_surrogates : int, default 199
        Circular-shift surrogates per test (at least 1/alpha, so that p can reach alpha;
        see the note on BH in the module documentation for large graphs).
    min_shift : int, optional
        Smallest shift in rows; default ``max(2 + span, ceil(n_e / 10))`` for the shortest
        entity's n_e present rows (:func:`infoimb.causality.default_min_shift`).
    alpha : float, default 0.05
        Level of the edges (on the BH q-values over all ordered pairs).
    pc_alpha : float, default 0.1
        Level (on p) for a candidate to stay in the conditioning phase; liberal, so that
        the conditioning sets include every plausible driver.
    min_gain : float, default 0.01
        Smallest gain (given the other drivers) that counts as a link. Needed because the
        surrogate null is conservative in one way and not in another: shifting a cause that is
        redundant with the conditioning set makes it foreign to that set, so its surrogates
        gain nothing, and a real but negligible gain (say 0.003) can come out with the
        smallest p-value. A link must be significant *and* improve the prediction by at
        least this fraction.
    max_conditions : int, optional
        Largest conditioning set of the selection phase (None: up to all other
        candidates).
    n_queries : int, optional
        Subsampled query points for large N (None = exact).
    random_state : int or Generator, optional
        Seeds the surrogates (and the query sample).
    progress : callable(fraction, message), optional
        Called between steps; raise from it to cancel.
    client : distributed.Client, optional
        Run the tests on a Dask cluster (also when ``INFOIMB_DASK_ADDRESS`` is set;
        :mod:`infoimb.cluster`): one task per effect for the pairwise phase (its ordered
        pairs, lags and surrogates), then one per effect for the conditioning phase. The
        data and the surrogate shifts go to the workers once; identical results.

    Returns
    -------
    CausalGraph

    Raises
    ------
    ValueError
        Fewer than 2 or more than 50 variables; a variable with no columns; a constant
        column; lags (with the embedding) that leave fewer than 20 usable time points;
        n_surrogates below 1/alpha; plus the checks of the options.

    Examples
    --------
    >>> from infoimb.datasets import logistic_network
    >>> df = logistic_network({"X": [], "Y": ["X"], "Z": ["Y"]}, n=400)
    >>> g = causal_graph(df, n_surrogates=99, alphas=[0, 0.25, 0.5, 1], random_state=0)
    >>> g.edges[["cause", "effect", "lag"]].to_dict(orient="records")
    [{'cause': 'X', 'effect': 'Y', 'lag': 1}, {'cause': 'Y', 'effect': 'Z', 'lag': 1}]
    """
    _check_progress(progress)
    if isinstance(data, np.ndarray):
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise ValueError(f"data must be a table (N, columns), got shape {arr.shape}")
        data = pd.DataFrame(arr, columns=[f"v{j}" for j in range(arr.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a DataFrame or a 2-D array, got {type(data).__name__}")
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, low_open=True, high_open=True)
    pc_alpha = check_real(pc_alpha, "pc_alpha", low=0.0, high=1.0, low_open=True)
    min_gain = check_real(min_gain, "min_gain", low=0.0, high=1.0, high_open=True)
    max_conditions = check_int(max_conditions, "max_conditions", low=1, allow_none=True)
    n_surrogates = check_int(n_surrogates, "n_surrogates", low=1, high=100_000)
    if (1.0 / (n_surrogates + 1)) > alpha:
        raise ValueError(f"n_surrogates={n_surrogates} is too few for alpha={alpha}: the "
                         f"smallest p-value is 1/(n_surrogates+1); use at least "
                         f"{math.ceil(1 / alpha)}")
    alphas = _check_alphas(DEFAULT_GRAPH_ALPHAS if alphas is None else alphas)
    emb = _check_embedding(embedding)
    tau_list = _taus(taus)
    exclude = {c for c in (group, time) if c is not None}
    var_cols = _variables(data, variables, exclude)
    design = _design(data, var_cols, tau_list, emb, group, time)
    n = design.n
    k = check_k(k, n)
    span = 0 if emb is None else (emb[0] - 1) * emb[1]
    blocks = design.entity_blocks
    n_surrogates, min_shift = _check_surrogates(n_surrogates, min_shift, n, 1, span, blocks)
    rng = np.random.default_rng(random_state)
    from ._spaces import check_n_queries

    queries = query_indices(n, check_n_queries(n_queries, n), rng)
    src = shift_sources(n, n_surrogates, min_shift, rng, blocks)
    names = list(var_cols)
    n_names = len(names)

    from .cluster import get_executor
    from .imbalance import chunk_bounds

    # the client's query chunks: the surrogates' sums are the same on any worker
    shared = _GraphWork(design.blocks, design.targets, alphas, k, queries, src, n_surrogates,
                        pc_alpha, max_conditions, chunk_bounds(queries.shape[0], n))
    with get_executor(client) as ex:
        # phase 1: every ordered pair and lag, one kernel call per effect (a task per effect)
        pair = {}  # (cause, tau, effect) -> (gain, p, alpha_star)
        items = [(e, effect, [(c, tau) for c in names if c != effect for tau in tau_list])
                 for e, effect in enumerate(names)]
        if ex.local:
            results = []
            for e, effect, links in items:
                results.append(_graph_test(shared, links, effect, []))
                report(progress, 0.5 * (e + 1) / n_names,
                       f"pairwise: drivers of {effect} ({e + 1}/{n_names})")
        else:
            work = ex.share(shared)
            results = ex.map(_pairwise_task, items, shared=work, progress=progress, width=0.5,
                             message=lambda it, r: f"pairwise: drivers of {it[1]} done")
        for (_, effect, links), res in zip(items, results):
            for link, r in zip(links, res):
                pair[(link[0], link[1], effect)] = r

        # phase 2 (PC1 of PCMCI), each effect on its own (a task per effect)
        items = [(e, effect, {key: v for key, v in pair.items() if key[2] == effect})
                 for e, effect in enumerate(names)]
        if ex.local:
            results = []
            for e, effect, own in items:
                results.append(_drivers(shared, names, tau_list, effect, own, progress,
                                        0.5 + 0.5 * e / n_names))
                report(progress, 0.5 + 0.5 * (e + 1) / n_names,
                       f"conditioning: drivers of {effect} done")
        else:
            results = ex.map(_drivers_task, [(names, tau_list) + it[1:] for it in items],
                             shared=work, progress=progress, start=0.5, width=0.5,
                             message=lambda it, r: f"conditioning: drivers of {it[2]} done")
    final = {}  # (cause, tau, effect) -> (gain, p, alpha_star, conditioning links)
    removed_by = {}
    for f, rb in results:
        final.update(f)
        removed_by.update(rb)

    # decision: one p per ordered pair (best lag, Bonferroni over lags), BH over all pairs
    rows = []
    n_lags = len(tau_list)
    for effect in names:
        for cause in names:
            if cause == effect:
                continue
            per_lag = []
            for tau in tau_list:
                key = (cause, tau, effect)
                g1, p1, a1 = pair[key]
                if key in final:
                    g, p, a_star, cond = final[key]
                else:
                    g, p, a_star, cond = g1, p1, a1, ()
                per_lag.append((p, -g, tau, g1, p1, g, a_star, cond, key))
            per_lag.sort(key=lambda t: (t[0], t[1], t[2]))
            p, _, tau, g1, p1, g, a_star, cond, key = per_lag[0]
            rows.append({"cause": cause, "effect": effect, "lag": tau, "gain_pairwise": g1,
                         "p_pairwise": p1, "gain": g, "p": min(1.0, p * n_lags),
                         "alpha_star": a_star,
                         "conditioned_on": ", ".join(_label(c) for c in cond),
                         "_key": key})
    tested = pd.DataFrame(rows)
    tested["q"] = bh_qvalues(tested["p"].to_numpy())
    reasons, is_edge = [], []
    for key, r in zip(tested["_key"].tolist(), tested.drop(columns="_key").itertuples()):
        p1 = r.p_pairwise
        if key in removed_by:
            edge = False
            given = ", ".join(_label(c) for c in removed_by[key]) or "nothing"
            why = f"explained by {given} (p = {r.p:.3g} given them)"
        elif p1 > pc_alpha and key not in final:
            edge = False
            why = f"not significant on its own (pairwise p = {p1:.3g})"
        elif r.q <= alpha and r.gain < min_gain:
            edge = False
            why = f"significant (q = {r.q:.3g}) but the gain {r.gain:.3g} is below min_gain = {min_gain}"
        elif r.q <= alpha:
            edge = True
            why = (f"direct: significant given {r.conditioned_on} (q = {r.q:.3g})"
                   if r.conditioned_on else f"significant (q = {r.q:.3g}), no other driver")
        else:
            edge = False
            why = f"not significant after the multiple-test correction (q = {r.q:.3g} > {alpha})"
        reasons.append(why)
        is_edge.append(edge)
    tested["edge"] = is_edge
    tested["reason"] = reasons
    tested = tested.drop(columns="_key")
    tested = tested[["cause", "effect", "lag", "gain_pairwise", "p_pairwise", "gain", "p", "q",
                     "alpha_star", "conditioned_on", "edge", "reason"]]
    edges = tested[tested["edge"]].sort_values(["gain", "cause", "effect"],
                                               ascending=[False, True, True])
    edges = edges[["cause", "effect", "gain", "lag", "p", "q", "gain_pairwise", "alpha_star",
                   "conditioned_on"]].reset_index(drop=True)
    report(progress, 1.0, f"{len(edges)} direct link(s)")
    alphas_out = alphas.copy()
    alphas_out.flags.writeable = False
    return CausalGraph(variables=tuple(names), columns={k_: tuple(v) for k_, v in var_cols.items()},
                       edges=edges, tested=tested.reset_index(drop=True), taus=tau_list, n=n,
                       n_entities=design.n_entities, k=k, n_surrogates=n_surrogates,
                       min_shift=min_shift, alpha=alpha, pc_alpha=pc_alpha, min_gain=min_gain,
                       embedding=emb,
                       alphas=alphas_out)
