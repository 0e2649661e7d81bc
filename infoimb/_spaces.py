"""Input validation and the internal representation of a space (features + distance).

Everything public validates through here, so every entry point names the same problems in
the same words.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sys

import numpy as np

from ._kernels import METRIC_CODES
from ._validation import CATEGORICAL_METRICS, FEATURE_METRICS, METRICS, check_choice, check_int

#: metrics that combine numeric differences only (a mixed space needs "gower")
NUMERIC_METRICS = FEATURE_METRICS

#: below this many points a result is flagged with a SmallSampleWarning: with N points Delta
#: cannot go below 2/N (0.1 at N = 20) and one point moves it by about 2/N
SMALL_N = 20


class SmallSampleWarning(UserWarning):
    """The information imbalance was computed on fewer than ``SMALL_N`` points."""


def warn_small_n(n: int, what: str = "the information imbalance", stacklevel: int = 3) -> None:
    """Warn (SmallSampleWarning) when ``n`` is below :data:`SMALL_N`."""
    if n < SMALL_N:
        warnings.warn(
            f"{what} on only N={n} points (fewer than {SMALL_N}): Delta cannot go below "
            f"2/N = {2 / n:.3f} and one point moves it by about that much; treat the result as "
            "indicative only", SmallSampleWarning, stacklevel=stacklevel)


@dataclass(frozen=True)
class Space:
    """A validated space: features stored transposed (d, N), or a precomputed matrix."""

    name: str
    columns: tuple[str, ...]
    metric: str
    XT: np.ndarray | None  # (d, N) float64, C-contiguous, weights applied
    period: np.ndarray | None  # (d,) float64, 0 = not periodic, weights applied
    D: np.ndarray | None  # (N, N) float64 for metric="precomputed"
    scale_exp: int = 0  # XT and period are the (weighted) features times 2**scale_exp
    categorical: tuple[str, ...] = ()  # columns compared by equality (period < 0 marks them)

    @property
    def n(self) -> int:
        return self.D.shape[0] if self.D is not None else self.XT.shape[1]

    @property
    def d(self) -> int:
        return 0 if self.XT is None else self.XT.shape[0]

    @property
    def metric_code(self) -> int:
        return METRIC_CODES[self.metric]


def check_metric(metric, *, allow_auto: bool = False) -> str | None:
    """A metric name. With ``allow_auto``, ``"auto"`` is accepted and returned as None:
    chosen from the features (Euclidean for numeric spaces, "categorical" for
    all-categorical ones, "gower" for mixed ones)."""
    if allow_auto and isinstance(metric, str) and metric == "auto":
        return None
    if isinstance(metric, str) and metric in CATEGORICAL_METRICS:
        return metric
    try:
        return check_choice(metric, "metric", METRICS)
    except ValueError as err:
        raise ValueError(f"{err}. With categorical features also: "
                         + ", ".join(map(repr, CATEGORICAL_METRICS))
                         + ("; 'auto' chooses from the features" if allow_auto else "")) from None


def split_metric(metric) -> tuple[str | None, str | None]:
    """``metric`` for both spaces, or a pair ``(for_a, for_b)``; "auto" (returned as None):
    from the features."""
    if isinstance(metric, (tuple, list)):
        if len(metric) != 2:
            raise ValueError("metric: give one metric name or a pair (for_a, for_b); got "
                             f"{len(metric)} values")
        ma, mb = (check_metric(m, allow_auto=True) for m in metric)
    else:
        ma = mb = check_metric(metric, allow_auto=True)
    if (ma == "precomputed") != (mb == "precomputed"):
        raise ValueError("metric: 'precomputed' applies to both spaces or to neither; got "
                         f"{ma!r} for a and {mb!r} for b")
    return ma, mb


def check_k(k, n: int) -> int:
    k = check_int(k, "k", low=1, strict=True)
    if k >= n:
        raise ValueError(f"k={k} must be smaller than the number of points N={n}")
    return k


def check_n_queries(n_queries, n: int) -> int | None:
    n_queries = check_int(n_queries, "n_queries", low=1, allow_none=True, strict=True)
    if n_queries is None:
        return None
    if n_queries > n:
        raise ValueError(f"n_queries={n_queries} is larger than the number of points N={n}")
    return n_queries


def _pandas():
    """pandas if it is already imported, else None: a pandas object cannot exist without it,
    so the engine never pays for importing pandas on NumPy input."""
    return sys.modules.get("pandas")


def _frame(x, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Numeric float64 matrix (N, d) and column names from an array, Series or DataFrame."""
    pd = _pandas()
    if pd is None:
        pass
    elif isinstance(x, pd.Series):
        x = x.to_frame(name=str(x.name) if x.name is not None else f"{name}0")
    if pd is not None and isinstance(x, pd.DataFrame):
        columns = tuple(str(c) for c in x.columns)
        if len(set(columns)) != len(columns):
            dup = sorted({c for c in columns if columns.count(c) > 1})
            raise ValueError(f"{name}: duplicate column names {dup}")
        bad = [c for c, dt in zip(columns, x.dtypes) if not _numeric_dtype(pd, dt)]
        if bad:
            raise TypeError(f"{name}: column(s) {bad} are not numeric; convert or drop them")
        values = x.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, columns
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name}: data must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name}: complex values are not supported")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected shape (N,) or (N, d), got {arr.shape}")
    columns = tuple(f"{name}{j}" for j in range(arr.shape[1]))
    return arr.astype(np.float64, copy=False), columns


def _categorical_dtype(pd, dt) -> bool:
    """Text and categories: compared by equality, never by difference.

    Booleans stay numeric 0/1: their difference |0 - 1| = 1 *is* the category mismatch in
    every metric (squared or not, and under Gower, whose range for them is 1), so they need
    no special case and a numeric space with a flag keeps its metric."""
    if pd.api.types.is_bool_dtype(dt):
        return False
    return (isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dt)
            or pd.api.types.is_string_dtype(dt))


def _codes(values) -> np.ndarray:
    """Integer category codes (as floats) in order of first appearance; missing -> NaN."""
    import pandas as pd

    codes, _ = pd.factorize(pd.Series(values, dtype=object if np.asarray(values).dtype == object
                                      else None), sort=False)
    out = codes.astype(np.float64)
    out[codes < 0] = np.nan
    return out


def _categorical_names(categorical, columns: Sequence[str], name: str) -> set[str]:
    """The columns the user declares categorical: None, True (all) or a list of names."""
    if categorical is None or categorical is False:
        return set()
    if categorical is True:
        return set(columns)
    if isinstance(categorical, (str, bytes)):
        categorical = [categorical]
    names = {str(c) for c in categorical}
    return names & set(columns)


def _frame_mixed(x, name: str, categorical=None):
    """As :func:`_frame`, with categorical features encoded as integer codes.

    Returns ``(values (N, d) float64, columns, is_categorical (d,) bool)``. Text, category
    and boolean columns of a DataFrame are categorical automatically (so are object or
    string arrays); ``categorical`` (True or column names) declares numeric columns
    categorical too.
    """
    pd = _pandas()
    if pd is not None and isinstance(x, pd.Series):
        x = x.to_frame(name=str(x.name) if x.name is not None else f"{name}0")
    if pd is not None and isinstance(x, pd.DataFrame):
        columns = tuple(str(c) for c in x.columns)
        if len(set(columns)) != len(columns):
            dup = sorted({c for c in columns if columns.count(c) > 1})
            raise ValueError(f"{name}: duplicate column names {dup}")
        declared = _categorical_names(categorical, columns, name)
        values = np.empty((x.shape[0], len(columns)))
        is_cat = np.zeros(len(columns), dtype=bool)
        for j, (c, dt) in enumerate(zip(columns, x.dtypes)):
            col = x.iloc[:, j]
            if pd.api.types.is_datetime64_any_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt):
                raise TypeError(f"{name}: column '{c}' holds dates/times; convert it to numbers "
                                "(e.g. days since the start) or use it as the time role")
            if pd.api.types.is_complex_dtype(dt):
                raise TypeError(f"{name}: column '{c}' is complex; complex values are not supported")
            if _categorical_dtype(pd, dt) or c in declared:
                is_cat[j] = True
                values[:, j] = _codes(col.to_numpy(dtype=object))
            elif _numeric_dtype(pd, dt):
                values[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                raise TypeError(f"{name}: column '{c}' has unsupported dtype {dt}")
        return values, columns, is_cat
    arr = np.asarray(x)
    if arr.dtype.kind in "OUS":
        if arr.ndim == 0:  # not array-like at all (e.g. a DistanceMatrix where features go)
            raise TypeError(f"{name}: data must be numeric (or text, for categorical features), "
                            f"got a {type(x).__name__}")
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"{name}: expected shape (N,) or (N, d), got {arr.shape}")
        values = np.column_stack([_codes(arr[:, j]) for j in range(arr.shape[1])]) \
            if arr.shape[1] else np.empty((arr.shape[0], 0))
        columns = tuple(f"{name}{j}" for j in range(arr.shape[1]))
        return values, columns, np.ones(arr.shape[1], dtype=bool)
    values, columns = _frame(arr, name)
    declared = _categorical_names(categorical, columns, name)
    return values, columns, np.array([c in declared for c in columns], dtype=bool)


def _numeric_dtype(pd, dt) -> bool:
    return pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt)


def check_finite(values: np.ndarray, columns: Sequence[str], name: str) -> None:
    """Raise naming the first column with NaN or infinity and its count of bad rows."""
    bad = ~np.isfinite(values)
    if bad.any():
        per_col = bad.sum(axis=0)
        j = int(np.flatnonzero(per_col)[0])
        rows = int(bad.any(axis=1).sum())
        others = int((per_col > 0).sum()) - 1
        more = f" (and {others} more column(s))" if others > 0 else ""
        raise ValueError(
            f"{name}: column '{columns[j]}' has {int(per_col[j])} NaN or infinite value(s){more}; "
            f"{rows} row(s) are affected. Drop or impute them first."
        )


def per_feature(spec, columns: Sequence[str], what: str, default: float) -> np.ndarray:
    """One value per column from None, a scalar, a mapping {column: value} or a sequence."""
    d = len(columns)
    if spec is None:
        return np.full(d, default)
    if isinstance(spec, Mapping):
        spec = {str(c): v for c, v in spec.items()}
        unknown = [c for c in spec if c not in columns]
        if unknown:
            raise ValueError(f"{what}: unknown column(s) {unknown}")
        return np.array([float(spec[c]) if c in spec else default for c in columns])
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return np.full(d, float(spec))
    if isinstance(spec, (str, bytes)):
        raise TypeError(f"{what}: expected a number, a mapping or a sequence, got {spec!r}")
    items = list(np.asarray(spec, dtype=object).ravel())
    if len(items) != d:
        raise ValueError(f"{what}: expected one value per feature ({d}), got {len(items)}")
    return np.array([default if v is None else float(v) for v in items])


def _given(spec, columns: Sequence[str]) -> np.ndarray:
    """Which columns a period spec sets (a mapping names them; None entries set nothing)."""
    if isinstance(spec, Mapping):
        keys = {str(c) for c in spec}
        return np.array([c in keys for c in columns])
    if isinstance(spec, numbers.Real):
        return np.ones(len(columns), dtype=bool)
    return np.array([v is not None for v in np.asarray(spec, dtype=object).ravel()])


def make_space(x, *, name: str, metric: str | None = "euclidean", period=None, weights=None,
               framed=None, categorical=None) -> Space:
    """Validate one space. ``period`` / ``weights``: None, scalar, mapping or per-feature.

    ``framed``: the result of ``_frame(x, name)`` (or ``_frame_mixed``) when the caller
    already has it. ``metric="auto"`` (or None) chooses from the features: Euclidean for numeric
    spaces, "categorical" when every feature is categorical, "gower" for mixed ones.
    ``categorical``: True or column names to compare by equality (text, category and bool
    columns are categorical anyway).
    """
    metric = None if metric is None else check_metric(metric, allow_auto=True)
    if metric == "precomputed":
        if period is not None or weights is not None:
            raise ValueError("period and weights do not apply to precomputed distances")
        pd = _pandas()
        if pd is not None and isinstance(x, pd.DataFrame):
            x = x.to_numpy()
        D = np.asarray(x)
        if D.dtype == object or not np.issubdtype(D.dtype, np.number):
            raise TypeError(f"{name}: precomputed distances must be numeric, got {D.dtype}")
        if D.ndim != 2 or D.shape[0] != D.shape[1]:
            raise ValueError(f"{name}: a precomputed distance matrix must be square N x N, got shape {D.shape}")
        # float32 stays float32 (the kernels widen each row exactly): no float64 copy
        D = np.ascontiguousarray(D, dtype=np.float32 if D.dtype == np.float32 else np.float64)
        if not np.isfinite(D).all():
            rows = int((~np.isfinite(D)).any(axis=1).sum())
            raise ValueError(f"{name}: the distance matrix has NaN or infinite entries in {rows} row(s)")
        if (D < 0).any():
            raise ValueError(f"{name}: the distance matrix has {int((D < 0).sum())} negative entries")
        return Space(name, tuple(f"{name}{j}" for j in range(D.shape[0])), metric, None, None, D)

    if framed is None:
        framed = _frame_mixed(x, name, categorical)
    if len(framed) == 2:
        framed = (*framed, np.zeros(framed[0].shape[1], dtype=bool))
    values, columns, is_cat = framed
    if values.shape[1] == 0:
        raise ValueError(f"{name}: no features (the feature list is empty)")
    check_finite(values, columns, name)
    metric = _resolve_metric(metric, columns, is_cat, name)
    w = per_feature(weights, columns, f"{name} weights", default=1.0)
    if not np.isfinite(w).all() or (w < 0).any():
        j = int(np.flatnonzero(~(w >= 0) | ~np.isfinite(w))[0])
        raise ValueError(f"{name} weights must be finite and non-negative; got {w[j]} for '{columns[j]}'")
    p = per_feature(period, columns, f"{name} period", default=0.0)
    if period is not None:
        bad = _given(period, columns) & ~((p > 0) & np.isfinite(p))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} period for '{columns[j]}' must be positive, got {p[j]}")
    compared_equal = np.ones_like(is_cat) if metric == "categorical" else is_cat
    for j in np.flatnonzero(compared_equal):
        if p[j] != 0.0:
            raise ValueError(f"{name}: '{columns[j]}' is categorical; a period does not apply to it")
        if w[j] != 1.0:
            raise ValueError(f"{name}: '{columns[j]}' is categorical; its weight must be 1 (a "
                             f"category mismatch always counts 1), got {w[j]}")
        p[j] = -1.0  # the kernels' mark of a categorical feature
    if metric == "gower":
        values = values.copy()
        for j in np.flatnonzero(~is_cat):
            values[:, j], p[j] = _gower_feature(values[:, j], p[j])
    values, p, w, exp = rescale_magnitude(values, p, w)
    XT = np.ascontiguousarray(values.T)
    cat = tuple(c for c, f in zip(columns, compared_equal) if f)
    return Space(name, columns, metric, XT, np.ascontiguousarray(p), None, exp, cat)


def _resolve_metric(metric, columns, is_cat, name: str) -> str:
    if metric is None:
        if not is_cat.any():
            return "euclidean"
        return "categorical" if is_cat.all() else "gower"
    if metric in NUMERIC_METRICS and is_cat.any() and not is_cat.all():
        cats = [c for c, f in zip(columns, is_cat) if f]
        nums = [c for c, f in zip(columns, is_cat) if not f]
        raise ValueError(
            f"{name}: {cats} categorical and {nums} numeric in one space: metric={metric!r} has no "
            "common unit for a category mismatch and a numeric difference; use metric='gower' "
            "(the default for a mixed space) or 'categorical', or put them in separate spaces")
    return metric


def _gower_feature(v: np.ndarray, period: float) -> tuple[np.ndarray, float]:
    """A numeric feature (and its period) divided by its range, as Gower does; a constant
    feature becomes 0. Brought to magnitude ~1 by a power of two first, so that the range of
    values near +-1e308 cannot overflow."""
    m = float(np.max(np.abs(v)))
    if m == 0.0:
        return v * 0.0, period
    e = -int(np.frexp(m)[1])
    v = np.ldexp(v, e)
    r = float(v.max() - v.min())
    if r == 0.0:
        return v * 0.0, 0.0
    return v / r, float(np.ldexp(period, e)) / r


# --------------------------------------------------------------------------------------
# any magnitude
# --------------------------------------------------------------------------------------
#: a space whose largest |value| (or period) lies outside [2**-MAGNITUDE_EXP, 2**MAGNITUDE_EXP]
#: is multiplied by a power of two that brings it into [0.5, 1): squared distances can then
#: neither overflow nor underflow, while spaces of ordinary magnitude are left bit for bit
MAGNITUDE_EXP = 250


def _max_abs(values: np.ndarray, p: np.ndarray) -> float:
    m = float(np.max(np.abs(values))) if values.size else 0.0
    return max(m, float(np.max(np.abs(p))) if p.size else 0.0)


def _power_of_two(values: np.ndarray, p: np.ndarray) -> int:
    """The exponent e such that values * 2**e has its largest |entry| in [0.5, 1), or 0 when
    the space is of ordinary magnitude (or all zero)."""
    m = _max_abs(values, p)
    if m == 0.0 or 2.0 ** -MAGNITUDE_EXP <= m <= 2.0 ** MAGNITUDE_EXP:
        return 0
    return -int(np.frexp(m)[1])


def rescale_magnitude(values: np.ndarray, p: np.ndarray, w: np.ndarray):
    """Weighted features (and periods) multiplied by a power of two chosen from their largest
    magnitude, so that every metric is exact from 1e-300 to 1e300.

    Ranks do not change when a whole space is scaled by one factor, and multiplying by a power
    of two is exact in floating point (barring underflow of entries more than ~1e300 times
    smaller than the largest one, which the unscaled squares would lose as well). The space is
    rescaled before the weights are applied (so a weight cannot overflow a huge value) and
    again after (so the weighted space is of ordinary magnitude). Returns
    ``(values * w * 2**e, p * w * 2**e, w, e)``.

    Examples
    --------
    >>> v, p, w, e = rescale_magnitude(np.array([[1e300], [-1e300]]), np.zeros(1), np.ones(1))
    >>> e, v.ravel().tolist() == np.ldexp([1e300, -1e300], e).tolist()
    (-997, True)
    """
    e1 = _power_of_two(values, p)
    m = _max_abs(values, p)
    if e1 == 0 and m > 0.0 and w.size and m * float(w.max()) > 2.0 ** MAGNITUDE_EXP:
        e1 = -int(np.frexp(m)[1])  # the weights alone would make the space huge
    if e1:
        values, p = np.ldexp(values, e1), np.ldexp(p, e1)
    values, p = values * w, p * w
    e2 = _power_of_two(values, p)
    if e2:
        values, p = np.ldexp(values, e2), np.ldexp(p, e2)
    return values, p, w, e1 + e2


def split_pair_spec(spec, a_cols: Sequence[str], b_cols: Sequence[str], what: str):
    """Split a pair-level ``period`` / ``weights`` spec into the spec for A and for B.

    Accepted: None; a scalar (every feature of both); a mapping {column: value} (matched
    against the columns of both spaces); a 2-sequence ``(for_a, for_b)``; or a flat sequence
    of ``d_A + d_B`` values (A's features first).
    """
    if spec is None or isinstance(spec, numbers.Real):
        return spec, spec
    if isinstance(spec, Mapping):
        names = set(a_cols) | set(b_cols)
        unknown = [str(c) for c in spec if str(c) not in names]
        if unknown:
            raise ValueError(f"{what}: unknown column(s) {unknown}")
        return ({c: v for c, v in spec.items() if str(c) in a_cols},
                {c: v for c, v in spec.items() if str(c) in b_cols})
    if isinstance(spec, (str, bytes)):
        raise TypeError(f"{what}: expected a number, a mapping or a sequence, got {spec!r}")
    items = list(spec) if not isinstance(spec, np.ndarray) else list(spec.ravel())
    if len(items) == 2:
        return items[0], items[1]
    if len(items) == len(a_cols) + len(b_cols):
        return items[: len(a_cols)], items[len(a_cols):]
    raise ValueError(
        f"{what}: give a number, a mapping {{column: value}}, a pair (for_a, for_b), or "
        f"{len(a_cols) + len(b_cols)} per-feature values; got {len(items)} values"
    )


def make_pair(a, b, *, metric="auto", period=None, weights=None,
              categorical=None) -> tuple[Space, Space]:
    """Validate two spaces over the same N points.

    ``metric``: one name for both spaces, a pair ``(for_a, for_b)``, or "auto" (each
    space's from its features, see :func:`make_space`). ``categorical``: True or column names of
    either space to compare by equality.
    """
    ma, mb = split_metric(metric)
    if ma == "precomputed":
        sa = make_space(a, name="a", metric=ma, period=period, weights=weights)
        sb = make_space(b, name="b", metric=mb)
    else:
        fa = _frame_mixed(a, "a", categorical)
        fb = _frame_mixed(b, "b", categorical)
        if categorical not in (None, True, False):
            names = [categorical] if isinstance(categorical, (str, bytes)) else list(categorical)
            unknown = [str(c) for c in names if str(c) not in set(fa[1]) | set(fb[1])]
            if unknown:
                raise ValueError(f"categorical: unknown column(s) {unknown}")
        pa, pb = split_pair_spec(period, fa[1], fb[1], "period")
        wa, wb = split_pair_spec(weights, fa[1], fb[1], "weights")
        sa = make_space(a, name="a", metric=ma, period=pa, weights=wa, framed=fa)
        sb = make_space(b, name="b", metric=mb, period=pb, weights=wb, framed=fb)
    if sa.n != sb.n:
        raise ValueError(f"a has {sa.n} points but b has {sb.n}: both spaces must describe the same points")
    if sa.n < 3:
        raise ValueError(f"need at least 3 points, got {sa.n}")
    return sa, sb
