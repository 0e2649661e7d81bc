"""Input validation and the internal representation of a space (features + distance).

Everything public validates through here, so every entry point names the same problems in
the same words.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sys

import numpy as np

from ._kernels import METRIC_CODES

METRICS = ("euclidean", "manhattan", "chebyshev", "precomputed")


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

    @property
    def n(self) -> int:
        return self.D.shape[0] if self.D is not None else self.XT.shape[1]

    @property
    def d(self) -> int:
        return 0 if self.XT is None else self.XT.shape[0]

    @property
    def metric_code(self) -> int:
        return METRIC_CODES[self.metric]


def check_metric(metric) -> str:
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    return metric


def check_k(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be a whole number, got {k!r}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k >= n:
        raise ValueError(f"k={k} must be smaller than the number of points N={n}")
    return k


def check_n_queries(n_queries, n: int) -> int | None:
    if n_queries is None:
        return None
    if isinstance(n_queries, bool) or not isinstance(n_queries, numbers.Integral):
        raise TypeError(f"n_queries must be a whole number or None, got {n_queries!r}")
    n_queries = int(n_queries)
    if n_queries < 1:
        raise ValueError(f"n_queries must be at least 1, got {n_queries}")
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


def make_space(x, *, name: str, metric: str = "euclidean", period=None, weights=None,
               framed=None) -> Space:
    """Validate one space. ``period`` / ``weights``: None, scalar, mapping or per-feature.

    ``framed``: the result of ``_frame(x, name)`` when the caller already has it.
    """
    metric = check_metric(metric)
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
        D = np.ascontiguousarray(D, dtype=np.float64)
        if not np.isfinite(D).all():
            rows = int((~np.isfinite(D)).any(axis=1).sum())
            raise ValueError(f"{name}: the distance matrix has NaN or infinite entries in {rows} row(s)")
        if (D < 0).any():
            raise ValueError(f"{name}: the distance matrix has {int((D < 0).sum())} negative entries")
        return Space(name, tuple(f"{name}{j}" for j in range(D.shape[0])), metric, None, None, D)

    values, columns = framed if framed is not None else _frame(x, name)
    if values.shape[1] == 0:
        raise ValueError(f"{name}: no features (the feature list is empty)")
    check_finite(values, columns, name)
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
    values, p, w, exp = rescale_magnitude(values, p, w)
    XT = np.ascontiguousarray(values.T)
    return Space(name, columns, metric, XT, np.ascontiguousarray(p), None, exp)


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


def make_pair(a, b, *, metric="euclidean", period=None, weights=None) -> tuple[Space, Space]:
    """Validate two spaces over the same N points."""
    metric = check_metric(metric)
    if metric == "precomputed":
        sa = make_space(a, name="a", metric=metric, period=period, weights=weights)
        sb = make_space(b, name="b", metric=metric)
    else:
        fa = _frame(a, "a")
        fb = _frame(b, "b")
        pa, pb = split_pair_spec(period, fa[1], fb[1], "period")
        wa, wb = split_pair_spec(weights, fa[1], fb[1], "weights")
        sa = make_space(a, name="a", metric=metric, period=pa, weights=wa, framed=fa)
        sb = make_space(b, name="b", metric=metric, period=pb, weights=wb, framed=fb)
    if sa.n != sb.n:
        raise ValueError(f"a has {sa.n} points but b has {sb.n}: both spaces must describe the same points")
    if sa.n < 3:
        raise ValueError(f"need at least 3 points, got {sa.n}")
    return sa, sb
