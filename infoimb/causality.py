"""Causality from the information imbalance: the imbalance gain (Del Tatto et al., PNAS 2024).

Does the present of a putative cause X help to predict the future of an effect Y beyond what
the present of Y already tells? With X_0, Y_0 the present and Y_tau the state tau steps later,

    Delta(alpha) = Delta((alpha * X_0, Y_0) -> Y_tau),       alpha in [0, 1]
    IG           = (Delta(0) - min_alpha Delta(alpha)) / Delta(0)

IG > 0 says that neighbours in the joint space (alpha X_0, Y_0) predict the neighbours of the
future Y_tau better than neighbours in Y_0 alone: X drives Y. Comparing IG(X->Y) with IG(Y->X)
gives the direction of the coupling.

Every Delta is the exact, tie-aware information imbalance of :mod:`infoimb.imbalance` (or its
subsampled-query estimator with ``n_queries``), with alpha applied as a per-feature weight:
the distance on (alpha X_0, Y_0) is the Euclidean distance on the concatenated features, the
cause's features multiplied by alpha and the effect's by 1. Features are used in their own
units, not standardised (this is how the published values and DADApy's fixtures are made);
standardise X and Y first when their units are not comparable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _gain_kernels as GK
from . import _spaces
from .cluster import cluster_configured
from ._serialize import Result
from ._spaces import _frame, check_finite, check_k, check_n_queries, warn_small_n
from ._stats import circular_shifts, permutation_pvalue
from ._validation import check_int, check_real
from .imbalance import chunk_bounds, query_indices

__all__ = [
    "CausalityResult",
    "ImbalanceGain",
    "VERDICTS",
    "causality_test",
    "causality_verdict",
    "default_min_shift",
    "imbalance_gain",
    "time_delay_embedding",
]

VERDICTS = ("x drives y", "y drives x", "bidirectional", "no detectable coupling")

DEFAULT_ALPHAS = np.linspace(0.0, 1.0, 50)


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImbalanceGain(Result):
    """The scan Delta(alpha) and the imbalance gain of one direction, cause -> effect.

    Attributes
    ----------
    alphas : (n_alpha,) float array
        The scaling parameters, sorted, always including 0.
    delta, delta_se : (n_alpha,) float arrays
        Delta((alpha X_0, Y_0[, Z_0]) -> Y_tau) and the standard error of each value (spread
        of the per-query terms; the same query points are used for every alpha).
    gain : float
        IG = (Delta(0) - min Delta) / Delta(0), in [0, 1).
    gain_se : float
        Standard error of ``gain`` from the paired per-query terms of alpha = 0 and
        alpha = ``alpha_star`` (delta method for the ratio). It ignores that alpha_star is
        chosen as the minimum, so a gain of a few standard errors can still be noise.
    alpha_star : float
        The alpha minimising Delta (the first one, on ties; 0 when X does not help).
    tau : int
        Time lag, in rows.
    k : int
        Number of neighbours.
    n : int
        Number of points (present / future pairs) used.
    n_queries : int
        Number of query points (``n`` for the exact estimator).
    conditioned : bool
        Whether conditioning variables Z_0 were part of the space (at weight 1).
    p_value : float or None
        p-value of the gain against circular-shift surrogates of the cause (None without
        surrogates): (1 + #{surrogate gain >= gain}) / (1 + n_surrogates).
    n_surrogates : int
        Number of surrogates (0: no test).
    min_shift : int or None
        Smallest circular shift of the cause, in rows of the present series.
    null_gains : (n_surrogates,) float array or None
        The surrogates' gains (same alphas, same queries).
    """

    alphas: np.ndarray
    delta: np.ndarray
    delta_se: np.ndarray
    gain: float
    gain_se: float
    alpha_star: float
    tau: int
    k: int
    n: int
    n_queries: int
    conditioned: bool = False
    p_value: float | None = None
    n_surrogates: int = 0
    min_shift: int | None = None
    null_gains: np.ndarray | None = None

    @property
    def delta_zero(self) -> float:
        """Delta(0): how well the effect's own present predicts its future."""
        return float(self.delta[0])

    @property
    def delta_min(self) -> float:
        """min over alpha of Delta(alpha)."""
        return float(self.delta.min())


@dataclass(frozen=True)
class CausalityResult(Result):
    """Imbalance gains in both directions and a verdict.

    Attributes
    ----------
    x_to_y, y_to_x : ImbalanceGain
        IG with X as the putative cause of Y, and with Y as the putative cause of X.
    verdict : str
        One of ``VERDICTS``; see :func:`causality_verdict`.
    min_gain, z : float
        The thresholds the verdict used.
    level : float
        Significance level of the verdict when surrogates were run.
    p_x_to_y, p_y_to_x : float or None
        p-values of the two gains against circular-shift surrogates of the cause (None
        without surrogates); the same as ``x_to_y.p_value`` and ``y_to_x.p_value``.
    """

    x_to_y: ImbalanceGain
    y_to_x: ImbalanceGain
    verdict: str
    min_gain: float
    z: float
    level: float = 0.05

    @property
    def p_x_to_y(self) -> float | None:
        return self.x_to_y.p_value

    @property
    def p_y_to_x(self) -> float | None:
        return self.y_to_x.p_value

    def to_dict(self) -> dict:
        """The fields, plus ``p_x_to_y`` and ``p_y_to_x`` at the top level (read-only)."""
        return super().to_dict() | {"p_x_to_y": self.p_x_to_y, "p_y_to_x": self.p_y_to_x}


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def _series(x, name: str) -> np.ndarray:
    """A time series as a finite float matrix (N, d), rows in time order."""
    values, columns = _frame(x, name)
    if values.shape[1] == 0:
        raise ValueError(f"{name}: no features (the feature list is empty)")
    check_finite(values, columns, name)
    return values


def _check_alphas(alphas) -> np.ndarray:
    if alphas is None:
        return DEFAULT_ALPHAS.copy()
    arr = np.asarray(alphas, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("alphas is empty: give at least one value in [0, 1]")
    if not np.isfinite(arr).all() or (arr < 0).any() or (arr > 1).any():
        bad = arr[~(np.isfinite(arr) & (arr >= 0) & (arr <= 1))]
        raise ValueError(f"alphas must lie in [0, 1]; got {bad[:5].tolist()}")
    return np.unique(np.append(arr, 0.0))


def _check_embedding(embedding) -> tuple[int, int] | None:
    if embedding is None:
        return None
    try:
        dim, delay = embedding
    except (TypeError, ValueError):
        raise TypeError(f"embedding must be a pair (dim, delay), got {embedding!r}") from None
    return (check_int(dim, "embedding dim", low=1, strict=True),
            check_int(delay, "embedding delay", low=1, strict=True))


def _check_progress(progress):
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(fraction, message), "
                        f"got {progress!r}")
    return progress


# --------------------------------------------------------------------------------------
# time-delay embedding
# --------------------------------------------------------------------------------------
def time_delay_embedding(series, *, dim: int, delay: int) -> np.ndarray:
    """Time-delay embedding of a series: row t holds s_t, s_{t-delay}, ..., s_{t-(dim-1)delay}.

    Alignment: the first ``(dim - 1) * delay`` time points have no complete history and are
    dropped, so row r of the result describes time point ``r + (dim - 1) * delay`` of the
    input. A multi-column series is embedded column by column: the result's columns are
    ``[c0(t), c0(t-delay), ..., c0(t-(dim-1)delay), c1(t), ...]``.

    Parameters
    ----------
    series : array (N,) or (N, d), Series or DataFrame
        Samples in time order.
    dim : int
        Embedding dimension (number of delayed copies, >= 1; 1 returns the series itself).
    delay : int
        Delay between copies, in rows (>= 1).

    Returns
    -------
    (N - (dim-1)*delay, d*dim) float array

    Examples
    --------
    >>> import numpy as np
    >>> time_delay_embedding(np.arange(6.0), dim=3, delay=2)
    array([[4., 2., 0.],
           [5., 3., 1.]])
    """
    dim = check_int(dim, "dim", low=1, strict=True)
    delay = check_int(delay, "delay", low=1, strict=True)
    values = _series(series, "series")
    n, d = values.shape
    span = (dim - 1) * delay
    if span >= n:
        raise ValueError(
            f"the embedding spans (dim-1)*delay = {span} rows but the series has only N={n}; "
            "reduce dim or delay")
    rows = n - span
    out = np.empty((rows, d * dim))
    for c in range(d):
        for lag in range(dim):
            start = span - lag * delay
            out[:, c * dim + lag] = values[start:start + rows, c]
    return out


# --------------------------------------------------------------------------------------
# the imbalance gain
# --------------------------------------------------------------------------------------
def _prepare(cause, effect, conditioning, tau, embedding, times):
    """Validated present/future blocks: (X_0, Y_0, Z_0 or None, Y_tau)."""
    X = _series(cause, "cause")
    Y = _series(effect, "effect")
    Z = None if conditioning is None else _series(conditioning, "conditioning")
    lengths = {"cause": X.shape[0], "effect": Y.shape[0]}
    if Z is not None:
        lengths["conditioning"] = Z.shape[0]
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ValueError(f"the series must have the same number of time points: {listed}")
    emb = _check_embedding(embedding)
    if emb is not None:
        X = time_delay_embedding(X, dim=emb[0], delay=emb[1])
        Y = time_delay_embedding(Y, dim=emb[0], delay=emb[1])
        if Z is not None:
            Z = time_delay_embedding(Z, dim=emb[0], delay=emb[1])
    n = X.shape[0]
    tau = check_int(tau, "tau", strict=True)
    if tau < 1 or tau >= n - 2:
        raise ValueError(f"tau={tau} must satisfy 1 <= tau < N-2 with N={n} time points"
                         + (" (after the embedding)" if emb is not None else ""))
    if times is None:
        present = np.arange(n - tau)
    else:
        present = np.asarray(times)
        if present.ndim != 1 or present.size == 0 or not np.issubdtype(present.dtype, np.integer):
            raise ValueError("times must be a non-empty 1-D array of whole row indices")
        present = present.astype(np.int64)
        bad = (present < 0) | (present + tau >= n)
        if bad.any():
            raise ValueError(
                f"times must satisfy 0 <= t and t + tau < N (tau={tau}, N={n}); "
                f"{int(bad.sum())} do not, e.g. {int(present[bad][0])}")
        if np.unique(present).size != present.size:
            raise ValueError("times contains repeated indices")
    X0 = X[present]
    Y0 = Y[present]
    Z0 = None if Z is None else Z[present]
    Yt = Y[present + tau]
    return X0, Y0, Z0, Yt, tau


def _gain_from_terms(t0: np.ndarray, t_star: np.ndarray) -> tuple[float, float]:
    """IG = mean(t0 - t*) / mean(t0) and its delta-method standard error (paired terms)."""
    m = t0.shape[0]
    d0 = float(t0.mean())
    if d0 <= 0.0:
        return 0.0, 0.0
    diff = t0 - t_star
    gain = float(diff.mean()) / d0
    if m < 2:
        return gain, 0.0
    resid = diff - gain * t0
    return gain, float(resid.std(ddof=1) / np.sqrt(m) / d0)


def default_min_shift(n: int, tau: int, span: int = 0) -> int:
    """Default smallest circular shift of the cause: ``max(2 tau + span, ceil(n / 10))`` rows.

    A surrogate must break the alignment of the cause with the effect's future (at least
    ``tau`` rows, twice for margin, plus the ``span`` of a time-delay embedding, whose rows
    overlap in time) and with the cause's own memory; a tenth of the series is a safe
    default for strongly autocorrelated data (an AR(1) with phi = 0.95 forgets in ~20 rows).

    >>> default_min_shift(1000, 1), default_min_shift(50, 5, 4)
    (100, 14)
    """
    return int(max(2 * tau + span, -(-n // 10)))


def shift_sources(n: int, n_surrogates: int, min_shift: int, rng: np.random.Generator,
                  blocks=None) -> np.ndarray:
    """Rows of the cause for the observed data (row 0, the identity) and each surrogate.

    Surrogate s shifts the cause circularly by a random shift in [min_shift, n - min_shift]
    (:func:`infoimb._stats.circular_shifts`): point j uses the cause's row (j + shift) mod n.
    ``blocks``: list of (start, stop) row ranges (entities of a panel, rows contiguous per
    entity); each entity's cause is then shifted within the entity, by its own shift.
    """
    src = np.empty((n_surrogates + 1, n), dtype=np.int64)
    src[0] = np.arange(n)
    if blocks is None:
        blocks = [(0, n)]
    for start, stop in blocks:
        length = stop - start
        shifts = circular_shifts(length, n_surrogates, min_shift, rng)
        base = np.arange(length)
        for s, shift in enumerate(shifts, start=1):
            src[s, start:stop] = start + (base + shift) % length
    return src


def _check_surrogates(n_surrogates, min_shift, n: int, tau: int, span: int = 0,
                      blocks=None) -> tuple[int, int | None]:
    """Validated number of surrogates and minimum shift (None when there are no surrogates)."""
    n_surrogates = check_int(n_surrogates, "n_surrogates", low=0, high=100_000)
    if n_surrogates == 0:
        if min_shift is not None:
            check_int(min_shift, "min_shift", low=1)
        return 0, None
    shortest = n if blocks is None else min(stop - start for start, stop in blocks)
    if min_shift is None:
        min_shift = default_min_shift(shortest, tau, span)
    min_shift = check_int(min_shift, "min_shift", low=1)
    if shortest - 2 * min_shift < 1:
        where = "the series" if blocks is None else "the shortest entity"
        raise ValueError(
            f"min_shift={min_shift} is too large: {where} has {shortest} present rows, and a "
            f"circular shift needs at least 2*min_shift+1 = {2 * min_shift + 1}; lower "
            "min_shift or use a longer series")
    return n_surrogates, min_shift


def _t(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64).T)


def gain_scan(causes, base, target, alphas, k, queries, src=None, progress=None,
              share=(0.0, 1.0), label="", bounds=None):
    """The alpha scan of several causes against one effect, with surrogates of the causes.

    ``causes``: list of (n, d_c) arrays; ``base``: (n, d_B) effect present and conditioning;
    ``target``: (n, d_T) effect future. Returns ``terms`` (n_causes, n_alpha, n_queries), the
    per-query terms of the observed data, and ``null_delta`` (n_causes, n_surrogates, n_alpha),
    Delta(alpha) of each surrogate (None without surrogates). The surrogates run in up to ten
    batches when ``progress`` is given, which is called between them (raise to cancel).
    ``bounds``: the query chunks (default: by this machine's threads); the surrogates' Delta
    sums the chunks' partial sums, so a Dask task uses the client's chunks to be identical.
    """
    n = base.shape[0]
    # any magnitude (as infoimb._spaces.rescale_magnitude): the space [alpha X, Y, Z] by one
    # power of two, the target by another, so the squared distances neither overflow nor
    # underflow; ranks, and so Delta, do not change
    e = _spaces._power_of_two(np.hstack([*causes, base]), np.zeros(0))
    if e:
        causes, base = [np.ldexp(c, e) for c in causes], np.ldexp(base, e)
    e = _spaces._power_of_two(np.asarray(target, dtype=np.float64), np.zeros(0))
    if e:
        target = np.ldexp(target, e)
    CT = _t(np.hstack(causes))
    widths = np.array([c.shape[1] for c in causes], dtype=np.int64)
    c_stop = np.cumsum(widths)
    c_start = c_stop - widths
    BT, TT = _t(base), _t(target)
    a2 = np.asarray(alphas, dtype=np.float64) ** 2
    scale = 2.0 / (n * k)
    if bounds is None:
        bounds = chunk_bounds(queries.shape[0], n)
    nq = queries.shape[0]
    lo, width = share
    n_sur = 0 if src is None else src.shape[0] - 1
    if progress is None and n_sur > 0:  # one pass over the queries for everything
        terms, sums = GK.gain_terms(CT, c_start, c_stop, BT, TT, queries, src, a2, k, scale,
                                    bounds)
        return terms, sums.sum(axis=0)[:, 1:] / nq
    ident = np.arange(n, dtype=np.int64)[None, :]
    terms, _ = GK.gain_terms(CT, c_start, c_stop, BT, TT, queries, ident, a2, k, scale, bounds)
    obs_share = width if n_sur == 0 else width * 0.1
    if progress is not None:
        for s in range(a2.shape[0]):
            progress(lo + obs_share * (s + 1) / a2.shape[0],
                     f"{label}alpha = {alphas[s]:.3g}: Delta = {terms[0, s].mean():.4f}")
    if n_sur == 0:
        return terms, None
    null = np.empty((len(causes), n_sur, a2.shape[0]))
    n_batches = min(10, n_sur)
    edges = np.linspace(1, n_sur + 1, n_batches + 1).astype(np.int64)
    for b in range(n_batches):
        rows = np.concatenate([[0], np.arange(edges[b], edges[b + 1])])
        _, sums = GK.gain_terms(CT, c_start, c_stop, BT, TT, queries, src[rows], a2, k, scale,
                                bounds)
        null[:, edges[b] - 1:edges[b + 1] - 1] = sums.sum(axis=0)[:, 1:] / nq
        if progress is not None:
            done = int(edges[b + 1] - 1)
            progress(lo + obs_share + (width - obs_share) * done / n_sur,
                     f"{label}surrogates {done}/{n_sur}")
    return terms, null


def _gain_task(shared, item):
    """A Dask task: :func:`gain_scan` of one direction for one alpha (terms, null)."""
    directions, alphas, k, queries, src, bounds = shared
    name, s = item
    causes, base, target = directions[name]
    return gain_scan(causes, base, target, alphas[s:s + 1], k, queries, src, None,
                     bounds=bounds)


def _scans_on_cluster(directions, alphas, k, queries, src, progress, client) -> dict:
    """:func:`gain_scan` of every direction, one Dask task per (direction, alpha); the
    surrogates' shifts (``src``) are drawn by the caller, as in the local run."""
    from .cluster import get_executor

    labels = {"xy": "X -> Y, ", "yx": "Y -> X, "} if len(directions) > 1 else {"xy": ""}
    items = [(name, s) for name in directions for s in range(alphas.shape[0])]
    with get_executor(client) as ex:
        n = next(iter(directions.values()))[1].shape[0]
        bounds = chunk_bounds(queries.shape[0], n)  # the client's chunks: identical sums
        shared = ex.share((directions, alphas, k, queries, src, bounds))
        parts = ex.map(_gain_task, items, shared=shared, progress=progress,
                       message=lambda item, res: f"{labels[item[0]]}alpha = "
                                                 f"{alphas[item[1]]:.3g}: "
                                                 f"Delta = {res[0][0, 0].mean():.4f}")
    n_alpha = alphas.shape[0]
    out = {}
    for j, name in enumerate(directions):
        mine = parts[j * n_alpha:(j + 1) * n_alpha]
        terms = np.concatenate([t for t, _ in mine], axis=1)
        null = None if mine[0][1] is None else np.concatenate([m for _, m in mine], axis=2)
        out[name] = (terms, null)
    return out


def null_gains(null_delta: np.ndarray) -> np.ndarray:
    """Gains (Delta(0) - min Delta) / Delta(0) of surrogate scans (..., n_alpha); alpha 0 first."""
    d0 = null_delta[..., 0]
    dmin = null_delta.min(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(d0 > 0, (d0 - dmin) / np.where(d0 > 0, d0, 1.0), 0.0)
    return g


def _gain_result(terms, alphas, tau, k, n, conditioned, null_delta=None,
                 min_shift=None) -> ImbalanceGain:
    alphas = alphas.copy()
    m = terms.shape[1]
    delta = terms.mean(axis=1)
    delta_se = terms.std(axis=1, ddof=1) / np.sqrt(m) if m > 1 else np.zeros(alphas.shape[0])
    for arr in (alphas, delta, delta_se):
        arr.flags.writeable = False
    s_star = int(np.argmin(delta))
    gain, gain_se = _gain_from_terms(terms[0], terms[s_star])
    p_value, n_sur, nulls = None, 0, None
    if null_delta is not None:
        nulls = null_gains(null_delta)
        nulls.flags.writeable = False
        n_sur = int(nulls.shape[0])
        p_value = permutation_pvalue(gain, nulls, smaller_is_extreme=False)
    return ImbalanceGain(alphas=alphas, delta=delta, delta_se=delta_se, gain=gain,
                         gain_se=gain_se, alpha_star=float(alphas[s_star]), tau=tau, k=k, n=n,
                         n_queries=m, conditioned=conditioned, p_value=p_value,
                         n_surrogates=n_sur, min_shift=min_shift, null_gains=nulls)


def _base(Y0, Z0):
    return Y0 if Z0 is None else np.hstack([Y0, Z0])


def _span(embedding) -> int:
    emb = _check_embedding(embedding)
    return 0 if emb is None else (emb[0] - 1) * emb[1]


def imbalance_gain(cause, effect, *, tau: int, alphas=None, k: int = 5, conditioning=None,
                   embedding: tuple[int, int] | None = None, times=None,
                   n_queries: int | None = None, n_surrogates: int = 0,
                   min_shift: int | None = None, random_state=None,
                   progress: Callable[[float, str], object] | None = None,
                   client=None) -> ImbalanceGain:
    """Imbalance gain of the putative cause X on the effect Y at lag tau.

    Delta(alpha) = Delta((alpha X_0, Y_0) -> Y_tau) for each alpha, with X_0 = cause[t],
    Y_0 = effect[t], Y_tau = effect[t + tau] over the present times t (all t < N - tau by
    default), and IG = (Delta(0) - min_alpha Delta(alpha)) / Delta(0).

    Parameters
    ----------
    cause, effect : array (N,) or (N, d), Series or DataFrame
        Time series over the same N time points, rows in time order.
    tau : int
        Lag between present and future, in rows (1 <= tau < N - 2).
    alphas : sequence of float in [0, 1], optional
        Scales of the cause's features; default ``np.linspace(0, 1, 50)``. 0 is always added
        (IG needs Delta(0)); the values are sorted and de-duplicated.
    k : int, default 5
        Number of nearest neighbours in the joint space.
    conditioning : array (N,) or (N, d_Z), Series or DataFrame, optional
        Variables Z to condition on: the space becomes (alpha X_0, Y_0, Z_0) with Z at weight
        beta = 1, so IG measures what X adds beyond both Y and Z (a link X -> Y that is only
        mediated or confounded by Z gives IG close to 0).
    embedding : (dim, delay), optional
        Replace cause, effect and conditioning by their time-delay embeddings
        (:func:`time_delay_embedding`) first: for scalar observables of a higher-dimensional
        dynamics. The first (dim-1)*delay time points are dropped from all series alike, and
        tau, times and N then refer to the embedded rows.
    times : 1-D int array, optional
        Row indices of the present snapshots (each t with t + tau < N). Use it to take
        snapshots that are well separated in time from a long, finely sampled trajectory,
        e.g. ``times=np.arange(0, N - tau, 40)``: consecutive rows of a smooth trajectory
        are each other's nearest neighbours, which makes every Delta small.
    n_queries : int, optional
        Subsampled-query estimator: this many random query points (the same for every
        alpha), all points as references. None = exact.
    n_surrogates : int, default 0
        Significance test: this many surrogates of the cause, each the cause circularly
        shifted in time by a random shift in [min_shift, N - min_shift] rows (of the
        present series, after ``times`` and ``embedding``). A shift keeps the cause's
        autocorrelation and breaks its alignment with the effect; rows are never permuted
        (that would destroy the autocorrelation and make any smooth pair look coupled). The
        p-value (1 + #{surrogate gain >= gain}) / (1 + n_surrogates) is in ``p_value``.
        0 = no test (``p_value`` is None).
    min_shift : int, optional
        Smallest shift, in rows; default :func:`default_min_shift`, ``max(2 tau + span,
        ceil(N / 10))`` (span: the rows covered by the embedding). Raise it for data
        whose memory is longer than a tenth of the series.
    random_state : int or numpy Generator, optional
        Seeds the query sample and the surrogates' shifts.
    progress : callable(fraction, message), optional
        Called after each alpha (and between batches of surrogates) with the fraction done
        in (0, 1] and a short message. Its return value is ignored; to cancel, raise from
        it (e.g. ``InterruptedError``): the exception propagates and no result is returned.
    client : distributed.Client, optional
        Scan the alphas on a Dask cluster, one task per alpha (also when
        ``INFOIMB_DASK_ADDRESS`` is set; :mod:`infoimb.cluster`). Identical results: the
        queries and the surrogates' shifts are drawn here.

    Returns
    -------
    ImbalanceGain

    Raises
    ------
    ValueError
        tau outside 1 <= tau < N-2; alphas empty or outside [0, 1]; series of different
        lengths; bad ``times``; plus the engine's own checks (k, n_queries, NaN values).

    Notes
    -----
    The scan runs in one dedicated kernel (:mod:`infoimb._gain_kernels`): the target's ranks
    and the effect's sorted distances are computed once per query and shared by every alpha
    and every surrogate, so a surrogate costs a fraction of the observed scan. N = 1000,
    50 alphas, 99 surrogates: about a second per direction on two cores.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=600)
    >>> y = np.zeros(600)
    >>> for t in range(1, 600):
    ...     y[t] = 0.3 * y[t - 1] + x[t - 1] + 0.1 * rng.normal()
    >>> ig = imbalance_gain(x, y, tau=1, alphas=np.linspace(0, 1, 11))
    >>> ig.gain > 0.5, ig.alpha_star > 0
    (True, True)
    """
    _check_progress(progress)
    alphas = _check_alphas(alphas)
    X0, Y0, Z0, Yt, tau = _prepare(cause, effect, conditioning, tau, embedding, times)
    n = X0.shape[0]
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    warn_small_n(n, "the imbalance gain")
    n_surrogates, min_shift = _check_surrogates(n_surrogates, min_shift, n, tau,
                                                _span(embedding))
    rng = np.random.default_rng(random_state)
    queries = query_indices(n, n_queries, rng)
    src = shift_sources(n, n_surrogates, min_shift, rng) if n_surrogates else None
    if cluster_configured(client):
        terms, null = _scans_on_cluster({"xy": ([X0], _base(Y0, Z0), Yt)}, alphas, k, queries,
                                        src, progress, client)["xy"]
    else:
        terms, null = gain_scan([X0], _base(Y0, Z0), Yt, alphas, k, queries, src, progress)
    return _gain_result(terms[0], alphas, tau, k, n, Z0 is not None,
                        None if null is None else null[0], min_shift)


def causality_verdict(x_to_y: ImbalanceGain, y_to_x: ImbalanceGain, *, min_gain: float = 0.05,
                      z: float = 3.0, level: float = 0.05) -> str:
    """Name the direction of coupling from the imbalance gains of both directions.

    A direction counts as *detected* when its gain exceeds ``min_gain`` and, when it was
    tested against surrogates (``p_value`` not None), its p-value is below ``level``;
    without surrogates, when the gain exceeds ``z`` standard errors (``gain_se``). Then: only X -> Y detected: ``"x drives y"``; only Y -> X:
    ``"y drives x"``; both: ``"bidirectional"``; neither: ``"no detectable coupling"``.

    Strong one-way coupling can synchronise the two systems; Y then carries X's state and
    IG(Y -> X) grows too, so "bidirectional" at strong coupling deserves a look at the
    two gains, not just the verdict.

    Examples
    --------
    >>> import numpy as np
    >>> g = lambda gain, se: ImbalanceGain(np.zeros(1), np.ones(1), np.zeros(1), gain, se,
    ...                                    0.0, 1, 5, 100, 100)
    >>> causality_verdict(g(0.4, 0.02), g(0.0, 0.0))
    'x drives y'
    """
    def detected(g: ImbalanceGain) -> bool:
        if g.p_value is not None:
            return g.gain > min_gain and g.p_value < level
        return g.gain > min_gain and g.gain > z * g.gain_se

    fwd, back = detected(x_to_y), detected(y_to_x)
    if fwd and back:
        return "bidirectional"
    if fwd:
        return "x drives y"
    if back:
        return "y drives x"
    return "no detectable coupling"


def causality_test(x, y, *, tau: int, alphas=None, k: int = 5, conditioning=None,
                   embedding: tuple[int, int] | None = None, times=None,
                   n_queries: int | None = None, n_surrogates: int = 0,
                   min_shift: int | None = None, random_state=None, min_gain: float = 0.05,
                   z: float = 3.0, level: float = 0.05,
                   progress: Callable[[float, str], object] | None = None,
                   client=None) -> CausalityResult:
    """Imbalance gain in both directions, X -> Y and Y -> X, and a verdict.

    X -> Y uses ``cause=x, effect=y``; Y -> X the reverse. Both directions use the same
    present times and the same query points. The options are those of
    :func:`imbalance_gain`; ``min_gain``, ``z`` and ``level`` are the thresholds of
    :func:`causality_verdict`. ``progress`` runs from 0 to 0.5 over X -> Y and on to 1 over
    Y -> X.

    With ``n_surrogates`` > 0, each direction is tested against circular shifts of its
    cause (X shifted for X -> Y, Y shifted for Y -> X; the same shifts for both):
    ``p_x_to_y`` and ``p_y_to_x`` are the p-values of the two gains (None without
    surrogates), and the verdict calls a direction detected when its p-value is below
    ``level`` (and its gain above ``min_gain``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=600)
    >>> y = np.zeros(600)
    >>> for t in range(1, 600):
    ...     y[t] = 0.3 * y[t - 1] + x[t - 1] + 0.1 * rng.normal()
    >>> causality_test(x, y, tau=1, alphas=np.linspace(0, 1, 11)).verdict
    'x drives y'
    """
    _check_progress(progress)
    min_gain = check_real(min_gain, "min_gain", low=0, high=1, high_open=True)
    z = check_real(z, "z", low=0)
    level = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    alphas = _check_alphas(alphas)
    X0, Y0, Z0, Yt, tau = _prepare(x, y, conditioning, tau, embedding, times)
    _, _, _, Xt, _ = _prepare(y, x, conditioning, tau, embedding, times)
    n = X0.shape[0]
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    warn_small_n(n, "the imbalance gain")
    n_surrogates, min_shift = _check_surrogates(n_surrogates, min_shift, n, tau,
                                                _span(embedding))
    rng = np.random.default_rng(random_state)
    queries = query_indices(n, n_queries, rng)
    src = shift_sources(n, n_surrogates, min_shift, rng) if n_surrogates else None
    if cluster_configured(client):
        scans = _scans_on_cluster({"xy": ([X0], _base(Y0, Z0), Yt),
                                   "yx": ([Y0], _base(X0, Z0), Xt)}, alphas, k, queries, src,
                                  progress, client)
        (t_xy, n_xy), (t_yx, n_yx) = scans["xy"], scans["yx"]
    else:
        t_xy, n_xy = gain_scan([X0], _base(Y0, Z0), Yt, alphas, k, queries, src, progress,
                               (0.0, 0.5), "X -> Y, ")
        t_yx, n_yx = gain_scan([Y0], _base(X0, Z0), Xt, alphas, k, queries, src, progress,
                               (0.5, 0.5), "Y -> X, ")
    xy = _gain_result(t_xy[0], alphas, tau, k, n, Z0 is not None,
                      None if n_xy is None else n_xy[0], min_shift)
    yx = _gain_result(t_yx[0], alphas, tau, k, n, Z0 is not None,
                      None if n_yx is None else n_yx[0], min_shift)
    verdict = causality_verdict(xy, yx, min_gain=float(min_gain), z=float(z), level=level)
    return CausalityResult(x_to_y=xy, y_to_x=yx, verdict=verdict, min_gain=float(min_gain),
                           z=float(z), level=level)


def _warmup() -> None:
    """Compile the alpha-scan kernel (called by :func:`infoimb.warmup`)."""
    rng = np.random.default_rng(0)
    n = 12
    x, y, t = (rng.normal(size=(n, 1)) for _ in range(3))
    queries = np.arange(n, dtype=np.int64)
    src = shift_sources(n, 2, 2, rng)
    gain_scan([x], y, t, np.array([0.0, 1.0]), 2, queries, src)
