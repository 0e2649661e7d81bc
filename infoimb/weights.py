"""Relative scales of heterogeneous features: the weights of A that best predict B.

Features in different units (a count, a price, a temperature) have no natural common scale,
and the Euclidean distance on them depends on the scale chosen for each. Here the weights of
A's features are chosen to minimise the information imbalance Delta(weighted A -> B)
(Glielmo et al. 2022, SM S2.B.4), by one of three methods:

``"grid"``
    Every combination of relative scales from a log-spaced grid (small d only).
``"coordinate"``
    Coordinate descent: one feature's weight at a time over a 1-D log grid of multipliers,
    sweeping the features until a sweep brings no improvement.
``"dii"``
    Gradient descent on the differentiable information imbalance (Wild et al., Nat. Commun.
    2025): the hard nearest neighbour is replaced by softmax weights, which makes the
    objective smooth in the weights. Scales to many features.

Only ratios of weights matter (Delta does not change when all weights are multiplied by the
same number); results are normalised so that the largest weight is 1.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from . import _dii_kernels as DK
from ._spaces import SmallSampleWarning, Space, check_k, check_n_queries, make_pair, warn_small_n
from ._serialize import Result
from ._validation import check_choice, check_int, check_real
from .imbalance import chunk_bounds, pair_terms, query_indices

__all__ = ["METHODS", "WeightsResult", "optimize_weights"]

METHODS = ("grid", "coordinate", "dii")


@dataclass(frozen=True)
class WeightsResult(Result):
    """Weights of A's features that minimise Delta(weighted A -> B).

    Attributes
    ----------
    columns : tuple of str
        A's feature names (DataFrame columns, or ``a0, a1, ...``).
    weights : (d,) float array
        The weights found, non-negative, normalised so that the largest is 1. They multiply
        the features in their own units (``information_imbalance(a, b, weights=(weights,
        None))`` gives ``delta_after``).
    delta_before : float
        Delta(A -> B) with unit weights (the features as given).
    delta_after : float
        Delta(weighted A -> B) with the weights found (exact engine, or the same query
        subsample as the search when ``n_queries`` was given).
    history : tuple of dict
        One entry per evaluation ("grid", "coordinate": ``{"weights", "objective"}`` with
        the objective Delta) or per gradient step ("dii": ``{"iteration", "weights",
        "objective"}`` with the objective the DII before the step). Weights are normalised
        to a largest weight of 1.
    method : str
        The method used.
    k : int
        Neighbours of the exact Delta.
    n : int
        Number of points.
    n_queries : int
        Number of query points of the objective (``n`` for all points).
    weights_se : (d,) float array or None
        Standard errors of ``weights`` from ``n_resamples`` half-sample replicates (see
        :func:`optimize_weights`, Notes); None without replicates.
    n_resamples : int
        Number of half-sample replicates behind ``weights_se`` (0: none).
    """

    columns: tuple[str, ...]
    weights: np.ndarray
    delta_before: float
    delta_after: float
    history: tuple[dict, ...]
    method: str
    k: int
    n: int
    n_queries: int
    weights_se: np.ndarray | None = None
    n_resamples: int = 0

    def as_dict(self) -> dict[str, float]:
        """The weights by column name."""
        return {c: float(w) for c, w in zip(self.columns, self.weights)}

    @classmethod
    def from_dict(cls, data) -> WeightsResult:
        """Read back :meth:`to_dict`; the history's weight vectors become arrays again."""
        out = super().from_dict(data)
        history = tuple({key: np.asarray(v, dtype=float) if key == "weights" else v
                         for key, v in h.items()} for h in out.history)
        return replace(out, history=history)


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def _check_scales(scales, default) -> np.ndarray:
    arr = np.asarray(default if scales is None else scales, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("scales is empty")
    if not np.isfinite(arr).all() or (arr <= 0).any():
        raise ValueError(f"scales must be finite and positive; got {arr[:5].tolist()}...")
    return np.unique(arr)


def _check_initial(initial, values: np.ndarray) -> np.ndarray:
    d = values.shape[1]
    if initial is None:
        sd = values.std(axis=0)
        w = np.zeros(d)
        w[sd > 0] = 1.0 / sd[sd > 0]
        if not (w > 0).any():
            raise ValueError("every feature of a is constant: there is nothing to weight")
        return w
    w = np.asarray(initial, dtype=np.float64).ravel()
    if w.shape[0] != d:
        raise ValueError(f"initial: expected one weight per feature of a ({d}), got {w.shape[0]}")
    if not np.isfinite(w).all() or (w < 0).any() or not (w > 0).any():
        raise ValueError("initial weights must be finite, non-negative and not all 0; "
                         f"got {w.tolist()}")
    return w


def _normalised(w: np.ndarray) -> np.ndarray:
    w = np.abs(w)
    top = w.max()
    return w / top if top > 0 else w.copy()


# --------------------------------------------------------------------------------------
# the exact objective
# --------------------------------------------------------------------------------------
class _Objective:
    """Delta(weighted A -> B) on fixed query points; the spaces are validated once."""

    def __init__(self, sa: Space, sb: Space, k: int, queries: np.ndarray):
        self.sa, self.sb, self.k, self.queries = sa, sb, k, queries
        self.n_eval = 0

    def __call__(self, w: np.ndarray) -> float:
        sa = replace(self.sa, XT=np.ascontiguousarray(self.sa.XT * w[:, None]),
                     period=np.ascontiguousarray(self.sa.period * w))
        self.n_eval += 1
        return float(pair_terms(sa, self.sb, self.k, self.queries)[0].mean())


def _grid(objective, w0, scales, max_evaluations, progress, history):
    d = w0.shape[0]
    n_eval = scales.shape[0] ** (d - 1)
    if n_eval > max_evaluations:
        raise ValueError(
            f"method='grid' over d={d} features with {scales.shape[0]} scales needs "
            f"{scales.shape[0]}**{d - 1} = {n_eval} evaluations, more than "
            f"max_evaluations={max_evaluations}; use method='coordinate' or method='dii', "
            "fewer scales, or raise max_evaluations")
    best_w, best = w0.copy(), np.inf
    # the first feature is the reference (only ratios matter): its multiplier stays 1
    for s, combo in enumerate(itertools.product(scales, repeat=d - 1)):
        w = w0 * np.concatenate([[1.0], combo])
        value = objective(w)
        history.append({"weights": _normalised(w), "objective": value})
        if value < best:
            best, best_w = value, w
        if progress is not None:
            progress((s + 1) / n_eval,
                     f"grid {s + 1}/{n_eval}: Delta = {value:.4f}, best {best:.4f}")
    return best_w


def _coordinate(objective, w0, scales, n_iter, progress, history):
    d = w0.shape[0]
    w = w0.copy()
    best = objective(w)
    history.append({"weights": _normalised(w), "objective": best})
    steps = scales[scales != 1.0]
    for sweep in range(n_iter):
        improved = False
        for f in range(d):
            if w[f] == 0.0:
                continue
            best_s = 1.0
            for s in steps:
                trial = w.copy()
                trial[f] *= s
                value = objective(trial)
                history.append({"weights": _normalised(trial), "objective": value})
                if value < best:
                    best, best_s = value, s
            if best_s != 1.0:
                w[f] *= best_s
                improved = True
            if progress is not None:
                progress((sweep * d + f + 1) / (n_iter * d),
                         f"sweep {sweep + 1}, feature {f + 1}/{d}: Delta = {best:.4f}")
        if not improved:
            break
    return w


def _dii(XT, period_a, BT, period_b, w0, rows, *, n_iter, learning_rate, l1, lambda_k,
         lambda_factor, progress, history):
    """Adam on the DII with a cosine-decaying step; weights renormalised to a fixed norm."""
    bounds = chunk_bounds(rows.shape[0], XT.shape[1])
    R = DK.midrank_rows(BT, period_b, rows, bounds)
    w = w0.copy()
    norm0 = float(np.sqrt(w @ w))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    beta1, beta2 = 0.9, 0.999
    k_init, k_final = lambda_k
    for it in range(n_iter):
        decay = 0.5 * (1.0 + np.cos(np.pi * it / n_iter))  # 1 -> 0
        k_lam = int(round(k_final + (k_init - k_final) * decay))
        terms, grads = DK.dii_terms_grad(XT, period_a, w, rows, R, k_lam, lambda_factor, bounds)
        value = float(terms.mean())
        g = grads.mean(axis=0)
        history.append({"iteration": it, "weights": _normalised(w), "objective": value})
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** (it + 1))
        v_hat = v / (1 - beta2 ** (it + 1))
        step = learning_rate * decay * norm0
        w = w - step * m_hat / (np.sqrt(v_hat) + 1e-12 * norm0)
        if l1 > 0:
            w = np.sign(w) * np.maximum(np.abs(w) - step * l1, 0.0)
        norm = float(np.sqrt(w @ w))
        if norm == 0.0:
            raise ValueError(f"l1={l1} shrank every weight to 0 at iteration {it}; "
                             "use a smaller l1")
        w *= norm0 / norm
        if progress is not None:
            progress((it + 1) / n_iter, f"iteration {it + 1}/{n_iter}: DII = {value:.4f}")
    return np.abs(w)


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------
def optimize_weights(a, b, *, method: str = "dii", k: int = 1, period=None, initial=None,
                     scales=None, max_evaluations: int = 2000, n_iter: int | None = None,
                     learning_rate: float = 0.05, l1: float = 0.0,
                     lambda_k: tuple[int, int] = (10, 1), lambda_factor: float = 0.05,
                     n_queries: int | None = None, random_state=None,
                     progress: Callable[[float, str], object] | None = None,
                     n_resamples: int = 0) -> WeightsResult:
    """Relative weights of A's features that minimise Delta(weighted A -> B).

    Parameters
    ----------
    a : array (N, d), or DataFrame
        The features to weight (Euclidean distance on ``w_f * a_f``).
    b : array (N,) or (N, d_B), Series or DataFrame
        The target space, used as given (Euclidean).
    method : {"dii", "coordinate", "grid"}, default "dii"
        ``"grid"``: every combination of ``scales`` (relative to the first feature) times
        ``initial``; refused when it needs more than ``max_evaluations`` evaluations.
        ``"coordinate"``: sweeps over the features; for each, the weight is multiplied by
        every value of ``scales`` and the best kept; stops after a sweep without strict
        improvement or after ``n_iter`` sweeps. ``"dii"``: gradient descent on the
        differentiable information imbalance (see Notes).
    k : int, default 1
        Neighbours of the exact Delta (the objective of "grid" and "coordinate", and
        ``delta_before`` / ``delta_after`` for every method).
    period : as in :func:`infoimb.information_imbalance`, optional
        Periods of periodic features of A and B (minimum-image differences).
    initial : (d,) array, optional
        Starting weights; default 1 / standard deviation of each feature (constant features
        get 0 and keep it).
    scales : 1-D array of positive numbers, optional
        The log grid: relative scales for "grid" (default ``np.logspace(-1, 1, 9)``) and
        multipliers for "coordinate" (default ``np.logspace(-1, 1, 9)``).
    max_evaluations : int, default 2000
        Largest grid accepted by "grid".
    n_iter : int, optional
        "dii": gradient steps (default 200); "coordinate": most sweeps (default 20).
    learning_rate : float, default 0.05
        "dii": the Adam step, as a fraction of the norm of the weight vector; it decays to 0
        along a cosine over the ``n_iter`` steps.
    l1 : float, default 0
        "dii": L1 (lasso) shrinkage for sparse weights. After each step every weight moves
        towards 0 by ``l1`` times the current step (soft thresholding, as in DADApy), so a
        weight whose gradient does not hold it up reaches exactly 0 and stays there.
        Useful values are 0.01 - 0.5.
    lambda_k : (k_init, k_final), default (10, 1)
        "dii": each point's softmax scale is lambda_i = ``lambda_factor`` times its squared
        distance (in weighted A) to its k-th nearest neighbour, k going from ``k_init`` to
        ``k_final`` along a cosine over the iterations (broad neighbourhoods first, for a
        smoother start; Wild et al. use the same point-adaptive rule and schedule). Both
        are capped at N - 1.
    lambda_factor : float, default 0.05
        "dii": the fraction above. Smaller values bring the DII closer to the hard Delta
        with k = 1 but make the gradient noisier.
    n_queries : int, optional
        Use this many random query points (all N as references) for the objective; the same
        points throughout, and for ``delta_after``. None = all points.
    random_state : int or numpy Generator, optional
        Seeds the query sample; the search is otherwise deterministic.
    progress : callable(fraction, message), optional
        Called after each evaluation ("grid"), feature line search ("coordinate") or step
        ("dii"). To cancel, raise from it; the exception propagates.
    n_resamples : int, default 0
        Half-sample replicates for the standard errors ``weights_se`` (0: none). Each
        replicate repeats the whole optimisation, with the same settings and starting
        weights, on ``N // 2`` rows drawn without replacement: a quarter of the main run's
        arithmetic (all points as queries), in practice a quarter to a half of its time at
        small N, where each step's fixed costs weigh more (8 replicates on 500 points, DII:
        about 4.8 times the run without). 8 to 20 replicates give a useful error. See Notes.

    Returns
    -------
    WeightsResult

    Raises
    ------
    ValueError
        a and b of different lengths, unknown method, non-positive ``n_iter``,
        ``learning_rate`` or ``max_evaluations``, negative ``l1``, a grid larger than
        ``max_evaluations``, bad ``initial`` / ``scales``, ``lambda_k`` below 1, plus the engine's
        checks (NaN values, k, n_queries).

    Notes
    -----
    The DII (Wild et al. 2025) is ``2/N * mean_i sum_{j != i} c_ij r^B_ij`` with
    ``c_ij = softmax_j(-d_A(w)^2_ij / lambda_i)`` and ``r^B`` the mid-ranks in B, computed
    once. Its gradient is analytic (including the dependence of lambda_i on w) and costs
    O(n_queries * N * d) per step, with an ``n_queries x N`` rank matrix in memory (use
    ``n_queries`` above a few thousand points). The steps are Adam's; after each, the weight
    vector is scaled back to its initial norm (the DII does not depend on the norm).
    The result is the weight vector after the last step.

    Standard errors (``n_resamples > 0``): replicate r optimises on the rows
    ``np.sort(rng.choice(N, N // 2, replace=False))``, ``rng = np.random.default_rng(random_state)``
    made after the main run (a Generator continues its stream; the replicate's own query
    subsample, with ``n_queries``, comes from the same ``rng``). Only ratios of weights
    matter, so each replicate's weights w_r are scaled onto the main weights w by least
    squares (c_r = w_r.w / w_r.w_r) before comparing. With m = N // 2 rows out of N, the
    spread of the replicates estimates the spread of the full-data estimate after the
    delete-d jackknife factor m / (N - m) (about 1):
    ``weights_se = sqrt(m / (N - m)) * std(c_r w_r, ddof=1)``. Half-samples rather than
    a bootstrap with replacement: a duplicated row is its own nearest neighbour at
    distance 0 in A and in B, which would bias every replicate towards Delta = 0.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(300, 3))
    >>> b = a * [1.0, 5.0, 0.5]
    >>> res = optimize_weights(a, b, method="dii", n_iter=100)
    >>> np.round(res.weights / res.weights[1] * 5, 1)  # ratios of the true scales 1 : 5 : 0.5
    array([1. , 5. , 0.5])
    >>> res.delta_after < res.delta_before
    True
    >>> se = optimize_weights(a, b, method="dii", n_iter=100, n_resamples=8,
    ...                       random_state=0).weights_se
    >>> se.shape, bool((se < 0.1).all())
    ((3,), True)
    """
    method = check_choice(method, "method", METHODS)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(fraction, message), "
                        f"got {progress!r}")
    sa, sb = make_pair(a, b, period=period)
    if sa.categorical:
        raise ValueError(f"weights apply to numeric features; {list(sa.categorical)} are "
                         "categorical (remove them from A)")
    if method == "dii" and sb.categorical:
        raise ValueError(f"method='dii' needs a numeric B; {list(sb.categorical)} are "
                         "categorical (use method='coordinate' or 'grid')")
    n, d = sa.n, sa.d
    warn_small_n(n, "weight optimisation")
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    values = sa.XT.T
    w0 = _check_initial(initial, values)
    max_evaluations = check_int(max_evaluations, "max_evaluations", low=1, strict=True)
    n_iter = check_int(n_iter, "n_iter", low=1, strict=True, allow_none=True)
    learning_rate = check_real(learning_rate, "learning_rate", low=0, low_open=True)
    l1 = check_real(l1, "l1", low=0)
    lambda_factor = check_real(lambda_factor, "lambda_factor", low=0, low_open=True)
    try:
        k_init, k_final = lambda_k
    except (TypeError, ValueError):
        raise TypeError(f"lambda_k must be a pair (k_init, k_final), got {lambda_k!r}") from None
    k_init = check_int(k_init, "lambda_k[0]", low=1, strict=True)
    k_final = check_int(k_final, "lambda_k[1]", low=1, strict=True)
    k_init, k_final = min(k_init, n - 1), min(k_final, n - 1)  # a documented cap
    scales = _check_scales(scales, np.logspace(-1.0, 1.0, 9))
    n_resamples = check_int(n_resamples, "n_resamples", low=0, strict=True)
    if n_resamples == 1:
        raise ValueError("n_resamples must be 0 (no standard errors) or at least 2, got 1")
    if n_resamples and n // 2 <= k + 1:
        raise ValueError(f"n_resamples: half-samples of {n // 2} rows are too small for k = {k} "
                         "(need more than k + 1 rows); use n_resamples=0")
    main_progress = progress
    if progress is not None and n_resamples:
        def main_progress(fraction, message):
            return progress(fraction / (n_resamples + 1), message)

    queries = query_indices(n, n_queries, random_state)
    objective = _Objective(sa, sb, k, queries)
    delta_before = objective(np.ones(d))
    history: list[dict] = []
    if method == "grid":
        w = _grid(objective, w0, scales, max_evaluations, main_progress, history)
    elif method == "coordinate":
        w = _coordinate(objective, w0, scales, 20 if n_iter is None else n_iter, main_progress, history)
    else:
        w = _dii(sa.XT, sa.period, sb.XT, sb.period, w0, queries,
                 n_iter=200 if n_iter is None else n_iter, learning_rate=learning_rate,
                 l1=float(l1),
                 lambda_k=(k_init, k_final), lambda_factor=lambda_factor, progress=main_progress,
                 history=history)
    weights = _normalised(w)
    weights.flags.writeable = False
    delta_after = objective(weights)
    weights_se = None
    if n_resamples:
        again = dict(method=method, k=k, period=period, initial=w0, scales=scales,
                     max_evaluations=max_evaluations, n_iter=n_iter, learning_rate=learning_rate,
                     l1=l1, lambda_k=lambda_k, lambda_factor=lambda_factor)
        weights_se = _half_sample_se(a, b, weights, n_resamples, n_queries, random_state, again,
                                     progress)
    return WeightsResult(columns=tuple(sa.columns), weights=weights, delta_before=delta_before,
                         delta_after=delta_after, history=tuple(history), method=method, k=k,
                         n=n, n_queries=int(queries.shape[0]), weights_se=weights_se,
                         n_resamples=n_resamples)


def _rows(x, rows: np.ndarray):
    """Rows of an array, a DataFrame or a Series (by position)."""
    return x.iloc[rows] if hasattr(x, "iloc") else np.asarray(x)[rows]


def _half_sample_se(a, b, weights: np.ndarray, n_resamples: int, n_queries, random_state,
                    settings: dict, progress) -> np.ndarray:
    """Standard errors of ``weights`` from half-sample replicates (optimize_weights, Notes)."""
    n = len(a)
    m = n // 2
    rng = np.random.default_rng(random_state)
    reps = np.empty((n_resamples, weights.shape[0]))
    for r in range(n_resamples):
        rows = np.sort(rng.choice(n, size=m, replace=False))
        step = None
        if progress is not None:
            def step(fraction, message, r=r):
                return progress((r + 1 + fraction) / (n_resamples + 1),
                                f"uncertainty: replicate {r + 1}/{n_resamples}: {message}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)  # said once, for the full data
            rep = optimize_weights(_rows(a, rows), _rows(b, rows), n_queries=None if n_queries is None
                                   else min(n_queries, m), random_state=rng, progress=step, **settings)
        w = rep.weights
        top = float(w @ w)
        reps[r] = w * (float(w @ weights) / top if top > 0 else 0.0)
    se = np.sqrt(m / (n - m)) * reps.std(axis=0, ddof=1)
    se.flags.writeable = False
    return se


def _warmup() -> None:
    """Compile the DII kernels (called by :func:`infoimb.warmup`)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(24, 2))
    optimize_weights(a, a[:, :1], method="dii", n_iter=2)
