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

from ._spaces import _frame, check_finite, check_k, check_n_queries, make_pair
from ._trees import check_algorithm
from .cluster import cluster_configured
from ._serialize import Result
from ._validation import check_int, check_real
from .imbalance import pair_terms, query_indices

__all__ = [
    "CausalityResult",
    "ImbalanceGain",
    "VERDICTS",
    "causality_test",
    "causality_verdict",
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
    """

    x_to_y: ImbalanceGain
    y_to_x: ImbalanceGain
    verdict: str
    min_gain: float
    z: float



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


def _scan(X0, Y0, Z0, Yt, alphas, k, queries, progress, share=(0.0, 1.0), label="",
          algorithm="brute"):
    """Per-query terms of Delta(alpha) for every alpha: array (n_alpha, n_queries)."""
    blocks = [X0, Y0] if Z0 is None else [X0, Y0, Z0]
    A = np.hstack(blocks)
    dx, dy = X0.shape[1], Y0.shape[1]
    dz = 0 if Z0 is None else Z0.shape[1]
    terms = np.empty((alphas.shape[0], queries.shape[0]))
    lo, width = share
    for s, alpha in enumerate(alphas):
        w = np.concatenate([np.full(dx, alpha), np.ones(dy), np.ones(dz)])
        sa, sb = make_pair(A, Yt, weights=(w, None))
        terms[s] = pair_terms(sa, sb, k, queries, algorithm=algorithm)[0]
        if progress is not None:
            progress(lo + width * (s + 1) / alphas.shape[0],
                     f"{label}alpha = {alpha:.3g}: Delta = {terms[s].mean():.4f}")
    return terms


def _alpha_terms(shared, item) -> np.ndarray:
    """A Dask task: the per-query terms of one alpha of one direction (as in :func:`_scan`)."""
    blocks, queries, k, algorithm = shared
    name, alpha = item
    X0, Y0, Z0, Yt = blocks[name]
    return _scan(X0, Y0, Z0, Yt, np.array([alpha]), k, queries, None, algorithm=algorithm)[0]


def _scans_on_cluster(blocks, alphas, k, queries, progress, algorithm, client) -> dict:
    """:func:`_scan` of every direction in ``blocks``, one Dask task per (direction, alpha)."""
    from .cluster import get_executor

    labels = {"xy": "X -> Y, ", "yx": "Y -> X, "} if len(blocks) > 1 else {"xy": ""}
    items = [(name, float(a)) for name in blocks for a in alphas]
    with get_executor(client) as ex:
        shared = ex.share((blocks, queries, k, algorithm))
        rows = ex.map(_alpha_terms, items, shared=shared, progress=progress,
                      message=lambda item, t: f"{labels[item[0]]}alpha = {item[1]:.3g}: "
                                              f"Delta = {t.mean():.4f}")
    n_alpha = alphas.shape[0]
    return {name: np.vstack(rows[j * n_alpha:(j + 1) * n_alpha]) for j, name in enumerate(blocks)}


def _gain_result(terms, alphas, tau, k, n, conditioned) -> ImbalanceGain:
    alphas = alphas.copy()
    m = terms.shape[1]
    delta = terms.mean(axis=1)
    delta_se = terms.std(axis=1, ddof=1) / np.sqrt(m) if m > 1 else np.zeros(alphas.shape[0])
    for arr in (alphas, delta, delta_se):
        arr.flags.writeable = False
    s_star = int(np.argmin(delta))
    gain, gain_se = _gain_from_terms(terms[0], terms[s_star])
    return ImbalanceGain(alphas=alphas, delta=delta, delta_se=delta_se, gain=gain,
                         gain_se=gain_se, alpha_star=float(alphas[s_star]), tau=tau, k=k, n=n,
                         n_queries=m, conditioned=conditioned)


def imbalance_gain(cause, effect, *, tau: int, alphas=None, k: int = 5, conditioning=None,
                   embedding: tuple[int, int] | None = None, times=None,
                   n_queries: int | None = None, random_state=None,
                   progress: Callable[[float, str], object] | None = None,
                   algorithm: str = "auto", client=None) -> ImbalanceGain:
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
    random_state : int or numpy Generator, optional
        Seeds the query sample.
    progress : callable(fraction, message), optional
        Called after each alpha with the fraction done in (0, 1] and a short message. Its
        return value is ignored; to cancel, raise from it (e.g. ``InterruptedError``): the
        exception propagates and no result is returned.
    algorithm : {"auto", "brute", "tree"}
        As in :func:`infoimb.information_imbalance` (k-d trees for low-dimensional spaces at
        large N; identical results).
    client : distributed.Client, optional
        Scan the alphas on a Dask cluster, one task per alpha (also when
        ``INFOIMB_DASK_ADDRESS`` is set; :mod:`infoimb.cluster`). Identical results.

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
    The cost is one information imbalance per alpha, O(n_queries * N * d) each: about 0.1-0.2 s
    for the exact estimator at N = 2500, d = 6 on two cores.

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
    queries = query_indices(n, n_queries, random_state)
    algorithm = check_algorithm(algorithm)
    if cluster_configured(client):
        terms = _scans_on_cluster({"xy": (X0, Y0, Z0, Yt)}, alphas, k, queries, progress,
                                  algorithm, client)["xy"]
        return _gain_result(terms, alphas, tau, k, n, Z0 is not None)
    terms = _scan(X0, Y0, Z0, Yt, alphas, k, queries, progress, algorithm=algorithm)
    return _gain_result(terms, alphas, tau, k, n, Z0 is not None)


def causality_verdict(x_to_y: ImbalanceGain, y_to_x: ImbalanceGain, *, min_gain: float = 0.05,
                      z: float = 3.0) -> str:
    """Name the direction of coupling from the imbalance gains of both directions.

    A direction counts as *detected* when its gain exceeds ``min_gain`` and ``z`` standard
    errors (``gain_se``). Then: only X -> Y detected: ``"x drives y"``; only Y -> X:
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
                   n_queries: int | None = None, random_state=None, min_gain: float = 0.05,
                   z: float = 3.0,
                   progress: Callable[[float, str], object] | None = None,
                   algorithm: str = "auto", client=None) -> CausalityResult:
    """Imbalance gain in both directions, X -> Y and Y -> X, and a verdict.

    X -> Y uses ``cause=x, effect=y``; Y -> X the reverse. Both directions use the same
    present times and the same query points. The options are those of
    :func:`imbalance_gain`; ``min_gain`` and ``z`` are the thresholds of
    :func:`causality_verdict`. ``progress`` runs from 0 to 0.5 over X -> Y and on to 1 over
    Y -> X.

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
    alphas = _check_alphas(alphas)
    X0, Y0, Z0, Yt, tau = _prepare(x, y, conditioning, tau, embedding, times)
    _, _, _, Xt, _ = _prepare(y, x, conditioning, tau, embedding, times)
    n = X0.shape[0]
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    queries = query_indices(n, n_queries, random_state)
    algorithm = check_algorithm(algorithm)
    if cluster_configured(client):
        scans = _scans_on_cluster({"xy": (X0, Y0, Z0, Yt), "yx": (Y0, X0, Z0, Xt)}, alphas, k,
                                  queries, progress, algorithm, client)
        t_xy, t_yx = scans["xy"], scans["yx"]
    else:
        t_xy = _scan(X0, Y0, Z0, Yt, alphas, k, queries, progress, (0.0, 0.5), "X -> Y, ",
                     algorithm=algorithm)
        t_yx = _scan(Y0, X0, Z0, Xt, alphas, k, queries, progress, (0.5, 0.5), "Y -> X, ",
                     algorithm=algorithm)
    xy = _gain_result(t_xy, alphas, tau, k, n, Z0 is not None)
    yx = _gain_result(t_yx, alphas, tau, k, n, Z0 is not None)
    verdict = causality_verdict(xy, yx, min_gain=float(min_gain), z=float(z))
    return CausalityResult(x_to_y=xy, y_to_x=yx, verdict=verdict, min_gain=float(min_gain),
                           z=float(z))
