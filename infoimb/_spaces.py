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
from ._validation import METRICS, check_choice, check_int


@dataclass(frozen=True)
class Space:
    """A validated space: features stored transposed (d, N), or a precomputed matrix."""

    name: str
    columns: tuple[str, ...]
    metric: str
    XT: np.ndarray | None  # (d, N) float64, C-contiguous, weights applied
    period: np.ndarray | None  # (d,) float64, 0 = not periodic, weights applied
    D: np.ndarray | None  # (N, N) float64 for metric="precomputed"

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
    return check_choice(metric, "metric", METRICS)


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
        # float32 stays float32 (the kernels widen each row exactly): no float64 copy
        D = np.ascontiguousarray(D, dtype=np.float32 if D.dtype == np.float32 else np.float64)
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
    XT = np.ascontiguousarray((values * w).T)
    return Space(name, columns, metric, XT, np.ascontiguousarray(p * w), None)


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
