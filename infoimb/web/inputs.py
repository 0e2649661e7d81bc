"""Input handling shared by the analysis pages (Select, Time lags, Causality, Scales).

Pure functions, no Dash import: turning control values into validated numbers and spaces
(raising :class:`~infoimb.web.context.AnalysisInputError` with a message that names the
problem), the defaults an example's roles suggest, and the tables the analyses run on
(a panel with time and entity columns, one time series in time order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import preprocess
from .fields import IntField, RealField, is_blank, resolve_values
from .context import FULL, AnalysisInputError, SpaceChoice, clean_groups, feature_columns, resolve_space, space_options

NONE = "none"  # the "no target" / "no conditioning" choice of a dropdown


# --------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------
def whole(value, what: str, lo: int | None = None, hi: int | None = None, *, default: int | None = None) -> int:
    """A whole number in [lo, hi]; ``default`` for an empty box (else an error). The check of
    :class:`infoimb.web.fields.IntField`, for bounds that depend on the table."""
    return IntField("", "", what, default, low=lo, high=hi).check(value)


def real(value, what: str, lo: float | None = None, hi: float | None = None, *, default: float | None = None) -> float:
    """A finite number in [lo, hi]; ``default`` for an empty box. The check of
    :class:`infoimb.web.fields.RealField`."""
    return RealField("", "", what, default, low=lo, high=hi).check(value)


def one_of(value, what: str, options, default=None):
    if is_blank(value) and default is not None:
        return default
    if value not in options:
        raise AnalysisInputError(f"{what} must be one of {', '.join(map(str, options))}; got {value!r}")
    return value


def n_queries_of(inputs: dict, n: int) -> int | None:
    """None (exact: every point a query) or the number of random query points."""
    estimator = inputs.get("estimator") or "exact"
    if estimator == "exact":
        return None
    if estimator != "subsampled":
        raise AnalysisInputError(f"unknown estimator {estimator!r}")
    nq = whole(inputs.get("n_queries"), "the number of query points", 10, None, default=1000)
    return None if nq >= n else nq


def k_of(value, n: int, default: int = 1) -> int:
    return whole(value, "the number of neighbours k", 1, max(n - 1, 1), default=default)


def flag(value) -> bool:
    """A checklist (list of values), a switch (bool) or a truthy string."""
    if isinstance(value, (list, tuple)):
        return len(value) > 0
    return bool(value)


# --------------------------------------------------------------------------------------
# spaces
# --------------------------------------------------------------------------------------
def space(value, ctx, what: str) -> SpaceChoice:
    """The space of a dropdown; the message says which control is empty or wrong."""
    if is_blank(value) or value == NONE:
        raise AnalysisInputError(f"choose the {what} (a group, a feature or the full space)")
    try:
        out = resolve_space(value, ctx.meta, ctx.groups)
    except AnalysisInputError as err:
        raise AnalysisInputError(f"{what}: {err}") from None
    if out.matrix is not None:
        raise AnalysisInputError(f"{what}: a distance matrix ({out.label}) has no features to use here; "
                                 "compare it on the Compare or Matrix page")
    return out


def optional_space(value, ctx, what: str) -> SpaceChoice | None:
    if is_blank(value) or value == NONE:
        return None
    return space(value, ctx, what)


def no_overlap(a: SpaceChoice, b: SpaceChoice, a_what: str, b_what: str, hint: str = "") -> None:
    shared = [c for c in a.columns if c in set(b.columns)]
    if shared:
        more = f" and {len(shared) - 3} more" if len(shared) > 3 else ""
        raise AnalysisInputError(
            f"the {b_what} ({b.label}) overlaps the {a_what} ({a.label}): both contain "
            f"{', '.join(map(repr, shared[:3]))}{more}" + (f"; {hint}" if hint else ""))


def space_dict(s: SpaceChoice | None) -> dict | None:
    return None if s is None else {"value": s.value, "label": s.label, "columns": list(s.columns)}


SAME = "same"  # the metric of the second space follows the first's


def space_metrics(inputs: dict, ctx, first: SpaceChoice, second: SpaceChoice | None, first_what: str,
                  second_what: str) -> dict:
    """The metric settings of a page with two spaces: ``metric`` (of the first space: "auto" or a
    name), ``metric_b`` (of the second: its own, or the first's when "same"), ``categorical``
    (the marked numeric code columns among the used ones: compared by equality) and
    ``metrics_used`` ({what: the metric each space is measured with, "auto" resolved}).
    A numeric metric on a mixed space is refused with the engine's message."""
    from .context import AUTO, SPACE_METRICS, categorical_of, space_metric, text_columns

    metric = one_of(inputs.get("metric"), "metric", SPACE_METRICS, default=AUTO)
    metric_b = one_of(inputs.get("metric_b"), f"metric of the {second_what}", (SAME, *SPACE_METRICS),
                      default=SAME)
    metric_b = metric if metric_b == SAME else metric_b
    used = {first_what: space_metric(metric, first.columns, categorical_of(ctx.meta, first.columns),
                                     first_what)}
    cols = list(first.columns)
    if second is not None:
        used[second_what] = space_metric(metric_b, second.columns, categorical_of(ctx.meta, second.columns),
                                         second_what)
        cols += list(second.columns)
    text = set(text_columns(ctx.meta))
    marked = [c for c in categorical_of(ctx.meta, list(dict.fromkeys(cols))) if c not in text]
    return {"metric": metric, "metric_b": metric_b, "categorical": marked, "metrics_used": used}


def metrics_text(settings: dict) -> str:
    """"metric: candidates: gower, target: euclidean": the metric of each space of a record."""
    used = settings.get("metrics_used") or {}
    if not used:
        return ""
    return "metric: " + ", ".join(f"{what}: {m}" for what, m in used.items())


def numeric_only(ctx, columns, what: str) -> None:
    """Refuse categorical columns where ``what`` needs numbers (the imbalance gain, a causal
    graph), naming them."""
    from .context import categorical_of

    cats = categorical_of(ctx.meta, list(dict.fromkeys(columns)))
    if cats:
        raise AnalysisInputError(
            f"{what} needs numeric series; {', '.join(map(repr, cats[:5]))}{'…' if len(cats) > 5 else ''} "
            f"{'is' if len(cats) == 1 else 'are'} categorical (the imbalance gain weighs differences of numbers, "
            "a category has none): choose numeric columns")


def periodic_of(ctx, columns) -> dict:
    cols = set(columns)
    return {c: p for c, p in ctx.periodic.items() if c in cols}


# --------------------------------------------------------------------------------------
# roles, time and entity
# --------------------------------------------------------------------------------------
def example_roles(meta: dict | None) -> dict:
    """The roles of the built-in example the table came from ({} for uploads)."""
    name = (meta or {}).get("example")
    if not name:
        return {}
    from .. import datasets

    ex = datasets.EXAMPLES.get(name)
    return dict(ex.roles) if ex is not None else {}


def column_info(meta: dict, column: str | None) -> dict:
    for c in meta.get("summary", []):
        if c["column"] == column:
            return c
    return {}


def time_entity(ctx, time, entity, *, need_time: bool, what: str, used=(),
                where: str = "choose one here or set it on the Data page (Roles)") -> tuple[str | None, str | None]:
    """Validated time and entity column names (None when not set)."""
    columns = ctx.meta.get("columns", [])
    time = None if is_blank(time) or time == NONE else str(time)
    entity = None if is_blank(entity) or entity == NONE else str(entity)
    if time is None and need_time:
        raise AnalysisInputError(f"{what} needs a time column: {where}")
    for col, name in ((time, "time"), (entity, "entity")):
        if col is not None and col not in columns:
            raise AnalysisInputError(f"the {name} column {col!r} is not in the current table")
    if time is not None and time == entity:
        raise AnalysisInputError("the time and entity columns must be different")
    inside = [c for c in (time, entity) if c is not None and c in set(used)]
    if inside:
        raise AnalysisInputError(f"column {inside[0]!r} is the time or entity column; it cannot also be a feature "
                                 "of the spaces")
    if time is not None and column_info(ctx.meta, time).get("kind") not in ("numeric", "datetime", "text", "mixed"):
        raise AnalysisInputError(f"the time column {time!r} holds neither numbers nor dates")
    return time, entity


def series_length(meta: dict, time: str | None) -> int:
    """How many time points a series can have: the distinct values of the time column (rows
    without one)."""
    if time is None:
        return int(meta.get("n_rows", 0))
    return int(column_info(meta, time).get("n_unique") or meta.get("n_rows", 0))


def check_lag(lag: int, meta: dict, time: str | None, what: str = "the lag") -> None:
    """Refuse a lag that no pair (t, t + lag) can have."""
    length = series_length(meta, time)
    if abs(lag) >= max(length - 2, 1):
        unit = f"time points of {time!r}" if time else "rows"
        raise AnalysisInputError(f"{what} {lag} is longer than the series ({length} {unit}): at most "
                                 f"{max(length - 3, 0)} leaves at least 3 pairs")


def _categorical_series(col: pd.Series) -> bool:
    from .context import _is_categorical_series

    return _is_categorical_series(col)


def categorical_in(df: pd.DataFrame, columns, categorical=()) -> list[str]:
    """The categorical ones among ``columns`` of ``df``: text columns and the codes named in
    ``categorical``."""
    marked = set(categorical or ())
    return [c for c in dict.fromkeys(columns) if c in marked or _categorical_series(df[c])]


def _parsed_time(df: pd.DataFrame, time: str) -> pd.Series:
    try:
        return preprocess._parse_time(df[time], time)
    except (TypeError, ValueError) as err:
        raise AnalysisInputError(str(err)) from None


def panel_frame(df: pd.DataFrame, columns, *, time: str, entity: str | None, scaling: str,
                periodic: dict | None = None, categorical=()) -> tuple[pd.DataFrame, str]:
    """The used columns with time (and entity) for lagged pairs, scaled, *no rows dropped*
    (a dropped row would open a gap in time; the lag functions drop and count incomplete pairs).
    Categorical columns (text, or the codes named in ``categorical``) are not scaled; the lag
    functions pair numbers, so they are handed over as numeric codes (text: in order of first
    appearance, missing stays missing) and named in ``frame.attrs["categorical"]``: the caller
    compares them by equality (``metric="categorical"`` or ``categorical=[...]``): they are
    :func:`categorical_in` ``(df, columns, categorical)``.

    A numeric time column is turned into a step index (0, 1, 2, ... in its most common step)
    so that a lag always counts steps, as for dates. Returns (frame, what one step is)."""
    columns = list(dict.fromkeys(columns))
    keep = [time] + ([entity] if entity else []) + [c for c in columns if c not in (time, entity)]
    missing = [c for c in keep if c not in df.columns]
    if missing:
        raise AnalysisInputError(f"column(s) {', '.join(map(repr, missing[:5]))} not in the table")
    frame = df[keep].copy()
    cats = categorical_in(frame, columns, categorical)
    nums = [c for c in columns if c not in cats]
    bad = [c for c in nums if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
    if bad:
        raise AnalysisInputError(f"column {bad[0]!r} is neither numeric nor text")
    if nums:
        frame[nums] = frame[nums].astype(float).replace([np.inf, -np.inf], np.nan)
    for c in cats:
        if pd.api.types.is_numeric_dtype(frame[c].dtype):
            frame[c] = frame[c].astype(float)
        else:
            codes = pd.factorize(frame[c].astype(object), sort=False)[0].astype(float)
            codes[codes < 0] = np.nan
            frame[c] = codes
    periodic = periodic or {}
    to_scale = [c for c in nums if c not in periodic]
    if scaling not in ("none", None) and to_scale:
        frame = preprocess.scale(frame, to_scale, scaling)
    t = _parsed_time(frame, time)
    if t.isna().any():
        raise AnalysisInputError(f"the time column {time!r} has {int(t.isna().sum())} missing value(s)")
    frame[time] = t
    order = [entity, time] if entity else [time]
    frame = frame.sort_values(order, kind="stable")
    groups = frame.groupby(entity, sort=False)[time] if entity else None
    diffs = groups.diff() if groups is not None else frame[time].diff()
    diffs = diffs.dropna()
    if pd.api.types.is_datetime64_any_dtype(t.dtype):
        pos = diffs[diffs > pd.Timedelta(0)]
        if pos.empty:
            raise AnalysisInputError(f"the time column {time!r} has a single time point per series")
        step = pos.mode().iloc[0]
        days = step / pd.Timedelta(days=1)
        unit = f"{days:g} day{'s' if days != 1 else ''}" if days >= 1 else str(step)
        return frame.reset_index(drop=True), unit
    pos = diffs[diffs > 0].to_numpy(dtype=float)
    if pos.size == 0:
        raise AnalysisInputError(f"the time column {time!r} has a single time point per series")
    step = float(np.median(pos))
    if step == 1.0:
        return frame.reset_index(drop=True), f"1 in {time}"
    index = (frame[time].to_numpy(dtype=float) - float(frame[time].min())) / step
    rounded = np.round(index)
    if np.max(np.abs(index - rounded)) > 1e-3:
        raise AnalysisInputError(f"the time column {time!r} is not evenly spaced (typical step {step:g}): a lag "
                                 "counts steps, so resample the table on the Data page first")
    frame[time] = rounded.astype(np.int64)
    return frame.reset_index(drop=True), f"{step:g} in {time}"


def one_series(df: pd.DataFrame, columns, *, time: str | None, entity: str | None, entity_value,
               scaling: str, periodic: dict | None = None, categorical=(),
               what: str = "this analysis") -> tuple[pd.DataFrame, dict]:
    """One time series in time order: the rows of one entity (if the table has an entity
    column), sorted by time (if it has a time column), missing values at the start or end
    trimmed (a gap inside would shift every later row's future; refused). Scaled."""
    columns = list(dict.fromkeys(columns))
    sub = df
    info: dict = {"entity_value": None, "trimmed": 0, "sorted_by": time}
    if entity is not None:
        if is_blank(entity_value):
            raise AnalysisInputError(f"the table has an entity column ({entity!r}); causality works on one series: "
                                     "choose one entity")
        sub = df[df[entity].astype(str) == str(entity_value)]
        if sub.empty:
            raise AnalysisInputError(f"no rows for entity {entity_value!r} in column {entity!r}")
        info["entity_value"] = str(entity_value)
    if time is not None:
        t = _parsed_time(sub, time)
        if t.isna().any():
            raise AnalysisInputError(f"the time column {time!r} has {int(t.isna().sum())} missing value(s)")
        if t.duplicated().any():
            where = "" if entity is None else f" for entity {entity_value!r}"
            raise AnalysisInputError(f"the time column {time!r} repeats values{where} "
                                     f"({int(t.duplicated().sum())} repeated): the rows are not one series"
                                     + ("; set the entity column on the Data page" if entity is None else ""))
        sub = sub.assign(**{"__t__": t.to_numpy()}).sort_values("__t__", kind="stable")
    missing = [c for c in columns if c not in sub.columns]
    if missing:
        raise AnalysisInputError(f"column(s) {', '.join(map(repr, missing[:5]))} not in the table")
    cats = [c for c in columns if c in set(categorical or ()) or _categorical_series(sub[c])]
    if cats:
        raise AnalysisInputError(f"{what} needs numeric series; {', '.join(map(repr, cats[:5]))} "
                                 f"{'is' if len(cats) == 1 else 'are'} categorical (the imbalance gain "
                                 "weighs differences of numbers): use numeric columns")
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(sub[c].dtype)]
    if bad:
        raise AnalysisInputError(f"column {bad[0]!r} is not numeric")
    frame = sub[columns].astype(float).replace([np.inf, -np.inf], np.nan).reset_index(drop=True)
    ok = frame.notna().all(axis=1).to_numpy()
    if not ok.any():
        raise AnalysisInputError("no row has values in all the used columns")
    first, last = int(np.argmax(ok)), len(ok) - int(np.argmax(ok[::-1]))
    inner = int((~ok[first:last]).sum())
    if inner:
        raise AnalysisInputError(f"{inner} row(s) inside the series have missing values in the used columns; "
                                 "a gap would shift the future of every later row: fill or drop them first")
    info["trimmed"] = int(len(ok) - (last - first))
    frame = frame.iloc[first:last].reset_index(drop=True)
    periodic = periodic or {}
    to_scale = [c for c in columns if c not in periodic]
    if scaling not in ("none", None) and to_scale:
        frame = preprocess.scale(frame, to_scale, scaling)
    return frame, info


def entity_values(df: pd.DataFrame | None, entity: str | None, limit: int = 2000) -> list[str]:
    """The distinct values of the entity column, in order of appearance."""
    if df is None or entity is None or entity not in df.columns:
        return []
    return [str(v) for v in pd.unique(df[entity].dropna().astype(str))[:limit]]


# --------------------------------------------------------------------------------------
# defaults of the controls
# --------------------------------------------------------------------------------------
def enabled_spaces(meta: dict, groups) -> tuple[list, list]:
    """(dropdown options, their enabled values)."""
    opts = space_options(meta, groups)
    return opts, [o["value"] for o in opts if not o.get("disabled")]


def group_value(name: str | None) -> str | None:
    return f"group:{name}" if name else None


def default_pair(meta: dict, groups, *, prefer_target: bool = True) -> tuple[str | None, str | None]:
    """Two different spaces a page starts with: (source or cause or A, target or effect or B).

    An example's ``target`` role is the second; else the first two groups that are neither
    empty nor the full space; else the first two features."""
    _, enabled = enabled_spaces(meta, groups)
    roles = example_roles(meta)
    full = set(feature_columns(meta))
    by_value = {f"group:{g['name']}": set(g["columns"]) for g in clean_groups(groups)}
    group_vals = [v for v in enabled if v.startswith("group:") and by_value.get(v) != full]
    target = group_value(roles.get("target")) if prefer_target else None
    if target not in enabled:
        target = None
    firsts = [v for v in group_vals if v != target and not (target and by_value.get(v, set()) & by_value.get(target, set()))]
    if target is not None:
        return (firsts[0] if firsts else (FULL if FULL in enabled else None)), target
    if len(group_vals) >= 2:
        return group_vals[0], group_vals[1]
    singles = [v for v in enabled if v.startswith("col:")]
    if len(singles) >= 2:
        return singles[0], singles[1]
    return (enabled[0] if enabled else None), None


def pick(*candidates, valid) -> object:
    """The first candidate in ``valid``, else None."""
    for c in candidates:
        if c is not None and c in valid:
            return c
    return None


resolve_controls = resolve_values  # one copy: infoimb.web.fields.resolve_values


__all__ = [
    "NONE", "SAME", "categorical_in", "check_lag", "metrics_text", "numeric_only", "space_metrics",
    "column_info", "default_pair", "enabled_spaces", "entity_values", "example_roles", "flag",
    "k_of", "n_queries_of", "no_overlap", "one_of", "one_series", "optional_space", "panel_frame", "periodic_of",
    "pick", "real", "resolve_controls", "series_length", "space", "space_dict", "time_entity", "whole",
]

