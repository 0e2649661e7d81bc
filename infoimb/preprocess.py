"""What panel data needs before an information imbalance: checks, resampling, differences,
ratios, scaling, missing values and time-lagged pairs formed within each entity.

A *panel* is a long table with one row per (entity, time): nations x weeks, patients x visits.
The time column is numeric or datetime (strings are parsed); the entity column is anything
hashable. ``entity=None`` treats the whole frame as one series.

Every function returns a new frame and leaves its input unchanged. Panel functions return
their rows sorted by (entity, time) with a fresh index.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ._validation import check_choice, check_int

__all__ = [
    "SCALE_METHODS",
    "RESAMPLE_HOW",
    "add_ratio",
    "check_panel",
    "datahub_weekly",
    "difference_cumulative",
    "drop_missing",
    "lagged_pairs",
    "log_growth",
    "resample_panel",
    "scale",
]

SCALE_METHODS = ("none", "zscore", "minmax", "rank")
RESAMPLE_HOW = ("mean", "sum", "last", "first", "max", "min", "median")
NEGATIVE_MODES = ("nan", "keep", "clip")
_ENTITY = "__entity__"  # the stand-in entity column when entity=None


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def _require_frame(df, name: str = "df") -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")


def _as_list(columns, name: str) -> list:
    if isinstance(columns, str) or not isinstance(columns, Iterable):
        return [columns]
    out = list(columns)
    if not out:
        raise ValueError(f"{name} is empty: give at least one column")
    return out


def _require_columns(df: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        shown = ", ".join(map(repr, list(df.columns)[:20]))
        raise ValueError(f"{what} column(s) {', '.join(map(repr, missing))} not in the frame "
                         f"(columns: {shown}{', ...' if df.shape[1] > 20 else ''})")


def _require_numeric(df: pd.DataFrame, columns, what: str) -> None:
    for c in columns:
        dt = df[c].dtype
        if pd.api.types.is_bool_dtype(dt):
            continue
        if not pd.api.types.is_numeric_dtype(dt):
            raise TypeError(f"{what} column {c!r} must be numeric, got dtype {dt}")


def _missing_mask(frame: pd.DataFrame) -> pd.Series:
    """True for rows with NaN/None/NaT, or +-inf in a numeric column."""
    mask = frame.isna().any(axis=1)
    num = frame.select_dtypes(include=[np.number])
    if num.shape[1]:
        mask |= ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan)).all(axis=1)
    return mask


def _check_keys(df: pd.DataFrame, time, entity) -> None:
    if time is None:
        raise ValueError("time must name the time column")
    _require_columns(df, [time], "time")
    if entity is not None:
        _require_columns(df, [entity], "entity")
        if entity == time:
            raise ValueError(f"time and entity must be different columns, both are {time!r}")


def _show(value) -> str:
    """A value for a message: plain Python repr, dates without a midnight time."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return repr(str(value.date()) if value == value.normalize() else str(value))
    return repr(value)


def _with_entity(df: pd.DataFrame, entity) -> tuple[pd.DataFrame, str]:
    """The frame and the name of its entity column (a constant stand-in for entity=None)."""
    if entity is not None:
        return df, entity
    out = df.copy()
    out[_ENTITY] = 0
    return out, _ENTITY


def _parse_time(values: pd.Series, time: str) -> pd.Series:
    """Numeric or datetime time values; strings parsed (numbers first, then dates)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        raise TypeError(f"time column {time!r} is boolean; it must be numeric or datetime")
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or \
            pd.api.types.is_numeric_dtype(values.dtype):
        return values
    present = values.notna()
    as_num = pd.to_numeric(values, errors="coerce")
    if (as_num.notna() == present).all() and present.any():
        return as_num
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format" chatter
        parsed = pd.to_datetime(values, errors="coerce")
        failed = present & parsed.isna()
        if failed.any():  # retry the failures element by element (mixed formats)
            retry = pd.to_datetime(values[failed], errors="coerce", format="mixed")
            if pd.api.types.is_datetime64_any_dtype(parsed.dtype):
                retry = retry.astype(parsed.dtype)
            parsed = parsed.copy()
            parsed[failed] = retry
            failed = present & parsed.isna()
    if failed.any():
        bad = values[failed].iloc[0]
        raise ValueError(f"time column {time!r} has {int(failed.sum())} value(s) that are neither "
                         f"numbers nor dates, e.g. {_show(bad)}")
    return parsed


def _panel(df: pd.DataFrame, time, entity, *, min_rows: int = 2, warn: bool = True):
    """Validated, time-parsed copy sorted by (entity, time); the entity column name used."""
    _require_frame(df)
    _check_keys(df, time, entity)
    out, ent = _with_entity(df, entity)
    out = out.copy()
    if entity is not None and out[ent].isna().any():
        n = int(out[ent].isna().sum())
        raise ValueError(f"entity column {entity!r} has {n} missing value(s)")
    out[time] = _parse_time(out[time], time)
    if out[time].isna().any():
        n = int(out[time].isna().sum())
        raise ValueError(f"time column {time!r} has {n} missing value(s)")
    dup = out.duplicated([ent, time], keep=False)
    if dup.any():
        first = out.loc[dup].iloc[0]
        n_extra = int(out.duplicated([ent, time]).sum())
        where = f"time {_show(first[time])}" if entity is None else \
            f"entity {_show(first[ent])} at time {_show(first[time])}"
        raise ValueError(f"{n_extra} duplicate ({'entity, ' if entity is not None else ''}time) "
                         f"row(s), e.g. {where}: aggregate them first (resample_panel)")
    out = out.sort_values([ent, time], kind="stable").reset_index(drop=True)
    if warn and entity is not None:
        counts = out.groupby(ent, sort=False).size()
        short = counts[counts < min_rows]
        if len(short):
            names = ", ".join(map(_show, short.index[:5]))
            warnings.warn(f"{len(short)} entit{'y has' if len(short) == 1 else 'ies have'} fewer "
                          f"than {min_rows} rows: {names}{', ...' if len(short) > 5 else ''}",
                          UserWarning, stacklevel=3)
    return out, ent


def _finish(out: pd.DataFrame, entity) -> pd.DataFrame:
    if entity is None and _ENTITY in out.columns:
        out = out.drop(columns=_ENTITY)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# panel checks
# --------------------------------------------------------------------------------------
def check_panel(df: pd.DataFrame, *, time: str, entity: str | None,
                min_rows: int = 2) -> pd.DataFrame:
    """Validate a panel and return a clean copy: time parsed, rows sorted by (entity, time).

    Parameters
    ----------
    df : DataFrame
        Long format: one row per (entity, time).
    time : str
        Time column: numeric, datetime, or strings holding numbers or dates.
    entity : str or None
        Entity column (nation, patient...); None for a single series.
    min_rows : int, default 2
        Entities with fewer rows are reported in a warning (they can form no time differences).

    Returns
    -------
    DataFrame
        A copy with the time column parsed and rows sorted by (entity, time), fresh index.

    Raises
    ------
    ValueError
        A missing column; time values that are neither numbers nor dates (the message names the
        column and shows a bad value); missing time or entity values; duplicate (entity, time)
        rows (the message gives their number and an example).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["b", "a", "a"], "week": ["2020-01-12", "2020-01-12",
    ...                    "2020-01-05"], "cases": [3, 2, 1]})
    >>> check_panel(df, time="week", entity="id", min_rows=1)["cases"].tolist()
    [1, 2, 3]
    """
    min_rows = check_int(min_rows, "min_rows", low=1, strict=True)
    out, _ = _panel(df, time, entity, min_rows=min_rows, warn=True)
    return _finish(out, entity)


# --------------------------------------------------------------------------------------
# resampling
# --------------------------------------------------------------------------------------
def _check_how(how, columns) -> dict:
    if isinstance(how, str):
        how = dict.fromkeys(columns, how)
    elif isinstance(how, Mapping):
        extra = [c for c in how if c not in columns]
        if extra:
            raise ValueError(f"how names column(s) {', '.join(map(repr, extra))} that are not "
                             f"resampled (columns: {', '.join(map(repr, columns))})")
        how = {c: how.get(c, "mean") for c in columns}
    else:
        raise TypeError(f"how must be a string or a mapping column -> string, got {how!r}")
    for c, h in how.items():
        if h not in RESAMPLE_HOW:
            raise ValueError(f"how for column {c!r} must be one of {', '.join(RESAMPLE_HOW)}; "
                             f"got {h!r}")
    return how


def resample_panel(df: pd.DataFrame, *, time: str, entity: str | None, period,
                   how="mean", columns=None) -> pd.DataFrame:
    """Resample each entity to a coarser time step (e.g. daily -> weekly).

    Parameters
    ----------
    df : DataFrame
        The panel (validated with :func:`check_panel`).
    time, entity : str
        Time and entity columns (``entity=None``: a single series).
    period : str or int
        For a datetime time column, a pandas offset alias: ``"W"`` (weeks ending on Sunday,
        labelled by that Sunday), ``"2W"``, ``"MS"``, ``"D"``... Bins are pandas' defaults for
        the alias. For a numeric time column, a positive whole bin width: time ``t`` goes to
        the bin labelled ``floor(t / period) * period``.
    how : str or mapping {column: str}, default "mean"
        Aggregation per bin: one of ``RESAMPLE_HOW`` ("mean", "sum", "last", "first", "max",
        "min", "median"), or a mapping for per-column choices (unnamed columns use "mean").
        Cumulative counts want "last", daily counts "sum", levels "mean" or "last". Missing
        values are skipped; "sum" of a bin with no value is NaN, not 0. "first"/"last" also
        work on non-numeric columns.
    columns : list of str, optional
        Columns to resample; default every numeric column other than time and entity.

    Returns
    -------
    DataFrame
        Columns entity, time, then ``columns``; one row per (entity, bin) that holds at least
        one input row (empty bins are not created, so gaps stay gaps).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": "a", "day": pd.date_range("2020-01-01", periods=10),
    ...                    "cases": range(10)})
    >>> resample_panel(df, time="day", entity="id", period="W", how="sum")["cases"].tolist()
    [10, 35]
    """
    d, ent = _panel(df, time, entity, warn=False)
    if columns is None:
        columns = [c for c in d.columns if c not in (time, ent)
                   and pd.api.types.is_numeric_dtype(d[c].dtype)
                   and not pd.api.types.is_bool_dtype(d[c].dtype)]
        if not columns:
            raise ValueError("no numeric column to resample besides time and entity; "
                             "name them with columns=")
    else:
        columns = _as_list(columns, "columns")
        _require_columns(d, columns, "resampled")
        bad = [c for c in columns if c in (time, ent)]
        if bad:
            raise ValueError(f"columns must not include the time or entity column ({bad[0]!r})")
    how = _check_how(how, columns)
    for c, h in how.items():
        if h not in ("first", "last"):
            _require_numeric(d, [c], f'resampled (how="{h}")')

    if pd.api.types.is_datetime64_any_dtype(d[time].dtype):
        if not isinstance(period, str):
            raise TypeError(f"period must be a pandas offset alias such as 'W' for the datetime "
                            f"time column {time!r}, got {period!r}")
        try:
            offset = pd.tseries.frequencies.to_offset(period)
        except ValueError as err:
            raise ValueError(f"period {period!r} is not a pandas offset alias (e.g. 'W', '2W', "
                             f"'MS'): {err}") from None
        grouper = pd.Grouper(key=time, freq=offset)
        keys = [ent, grouper]
        base = d
    else:
        if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
            raise ValueError(f"period must be a positive whole bin width for the numeric time "
                             f"column {time!r}, got {period!r}")
        base = d.copy()
        t = base[time]
        binned = np.floor(t / int(period)) * int(period)
        if pd.api.types.is_integer_dtype(t.dtype):
            binned = binned.astype(t.dtype)
        base[time] = binned
        keys = [ent, time]

    groups = base.groupby(keys, sort=True)
    parts = []
    for h in dict.fromkeys(how.values()):
        cols = [c for c in columns if how[c] == h]
        g = groups[cols]
        if h == "sum":
            parts.append(g.sum(min_count=1))
        elif h in ("first", "last"):
            parts.append(getattr(g, h)())
        else:
            parts.append(getattr(g, h)(numeric_only=False))
    out = pd.concat(parts, axis=1)[columns].reset_index()
    out = out.rename(columns={out.columns[1]: time})
    return _finish(out[[ent, time, *columns]], entity)


# --------------------------------------------------------------------------------------
# derived columns
# --------------------------------------------------------------------------------------
def difference_cumulative(df: pd.DataFrame, columns, *, time: str, entity: str | None,
                          suffix: str = "_new", negative: str = "nan") -> pd.DataFrame:
    """Per-entity first differences of cumulative counts (cumulative cases -> new cases).

    The difference is taken between consecutive rows of each entity after sorting by time, so
    the first row of each entity is NaN, and across a gap in time the difference is the total
    over the gap (resample to a regular step first if that matters).

    Negative differences are downward corrections of a cumulative count, not counts. They are
    always reported in a warning (how many, in which column) and, by ``negative``:

    - ``"nan"`` (default): set to NaN, so they drop out of later analyses with a count;
    - ``"clip"``: set to 0;
    - ``"keep"``: left as they are.

    Parameters
    ----------
    df : DataFrame
    columns : str or list of str
        Cumulative, numeric columns.
    time, entity : str
        Time and entity columns (``entity=None``: a single series).
    suffix : str, default "_new"
        New columns are named ``column + suffix``.
    negative : {"nan", "clip", "keep"}

    Returns
    -------
    DataFrame
        A copy sorted by (entity, time) with the new columns added.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 2, "week": [1, 2, 3, 1, 2],
    ...                    "confirmed": [5, 7, 12, 1, 4]})
    >>> difference_cumulative(df, "confirmed", time="week", entity="id")["confirmed_new"].tolist()
    [nan, 2.0, 5.0, nan, 3.0]
    """
    columns = _as_list(columns, "columns")
    negative = check_choice(negative, "negative", NEGATIVE_MODES)
    if not isinstance(suffix, str) or not suffix:
        raise ValueError(f"suffix must be a non-empty string, got {suffix!r}")
    d, ent = _panel(df, time, entity, warn=False)
    _require_columns(d, columns, "cumulative")
    _require_numeric(d, columns, "cumulative")
    diffs = d.groupby(ent, sort=False)[columns].diff().astype(float)
    for c in columns:
        new = diffs[c]
        neg = new < 0
        n_neg = int(neg.sum())
        if n_neg:
            action = {"nan": "set to NaN", "clip": "set to 0", "keep": "kept"}[negative]
            example = d.loc[neg, ent].iloc[0]
            where = "" if entity is None else f" (e.g. entity {_show(example)})"
            warnings.warn(f"column {c!r}: {n_neg} negative difference(s) of a cumulative count "
                          f"(data corrections){where}, {action}", UserWarning, stacklevel=2)
            if negative == "nan":
                new = new.mask(neg)
            elif negative == "clip":
                new = new.mask(neg, 0.0)
        d[c + suffix] = new
    return _finish(d, entity)


def log_growth(df: pd.DataFrame, columns, *, time: str, entity: str | None,
               suffix: str = "_growth", offset: float = 1.0) -> pd.DataFrame:
    """Per-entity log growth rate ``log((x_t + offset) / (x_{t-1} + offset))``.

    For weekly new cases this is the weekly epidemic growth rate (log of the ratio of this
    week's to last week's cases); ``offset`` keeps weeks with zero counts finite. Consecutive
    rows of each entity are compared (as in :func:`difference_cumulative`); the first row of
    each entity is NaN, and so is any step where ``x + offset <= 0`` (reported in a warning).

    Parameters
    ----------
    df : DataFrame
    columns : str or list of str
        Numeric, non-negative columns (counts).
    time, entity : str
    suffix : str, default "_growth"
    offset : float, default 1.0
        Added to the values before the logarithm (0 for strictly positive data).

    Returns
    -------
    DataFrame
        A copy sorted by (entity, time) with ``column + suffix`` added.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"week": [1, 2, 3], "cases": [99, 199, 99]})
    >>> out = log_growth(df, "cases", time="week", entity=None)
    >>> [round(v, 3) for v in out["cases_growth"].tolist()[1:]]
    [0.693, -0.693]
    """
    columns = _as_list(columns, "columns")
    if not isinstance(suffix, str) or not suffix:
        raise ValueError(f"suffix must be a non-empty string, got {suffix!r}")
    if isinstance(offset, bool) or not isinstance(offset, (int, float, np.number)) or \
            not np.isfinite(offset) or offset < 0:
        raise ValueError(f"offset must be a finite number >= 0, got {offset!r}")
    d, ent = _panel(df, time, entity, warn=False)
    _require_columns(d, columns, "growth")
    _require_numeric(d, columns, "growth")
    for c in columns:
        shifted = d[c].astype(float) + float(offset)
        bad = shifted <= 0
        if bad.any():
            warnings.warn(f"column {c!r}: {int(bad.sum())} value(s) with {c} + offset <= 0 give "
                          f"NaN growth", UserWarning, stacklevel=2)
        logs = np.log(shifted.mask(bad))
        d[c + suffix] = logs.groupby(d[ent], sort=False).diff()
    return _finish(d, entity)


def add_ratio(df: pd.DataFrame, numerator: str, denominator: str, *,
              name: str | None = None) -> pd.DataFrame:
    """Add the column ``numerator / denominator`` (e.g. positivity = new cases / new tests).

    A zero denominator gives NaN (not inf), and the number of such rows is reported in a
    warning; missing values give NaN silently.

    Parameters
    ----------
    df : DataFrame
    numerator, denominator : str
        Numeric columns.
    name : str, optional
        Name of the new column; default ``"{numerator}_per_{denominator}"``. An existing column
        of that name is replaced.

    Returns
    -------
    DataFrame
        A copy with the ratio column added (same rows, same order).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cases": [2, 3, 1], "tests": [4, 0, 10]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     add_ratio(df, "cases", "tests", name="positivity")["positivity"].tolist()
    [0.5, nan, 0.1]
    """
    _require_frame(df)
    for role, col in (("numerator", numerator), ("denominator", denominator)):
        if not isinstance(col, str):
            raise TypeError(f"{role} must be a column name (str), got {col!r}")
    _require_columns(df, [numerator, denominator], "ratio")
    _require_numeric(df, [numerator, denominator], "ratio")
    if name is None:
        name = f"{numerator}_per_{denominator}"
    elif not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    num = df[numerator].astype(float)
    den = df[denominator].astype(float)
    zero = den == 0
    if zero.any():
        warnings.warn(f"{int(zero.sum())} row(s) with {denominator!r} == 0: {name!r} set to NaN",
                      UserWarning, stacklevel=2)
    out = df.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out[name] = (num / den.mask(zero)).to_numpy()
    return out


# --------------------------------------------------------------------------------------
# scaling and missing values
# --------------------------------------------------------------------------------------
def scale(df: pd.DataFrame, columns, method: str) -> pd.DataFrame:
    """Rescale columns before distances are taken.

    Methods (missing values stay missing and are ignored by the statistics):

    - ``"none"``: unchanged (converted to float);
    - ``"zscore"``: ``(x - mean) / std`` (population std); a constant column becomes 0;
    - ``"minmax"``: ``(x - min) / (max - min)`` into [0, 1]; a constant column becomes 0;
    - ``"rank"``: copula transform ``rank / (n + 1)`` into (0, 1), with average ranks for ties
      and n the number of non-missing values.

    Parameters
    ----------
    df : DataFrame
    columns : str, list of str or None
        Numeric columns to scale (None: every numeric column).
    method : {"none", "zscore", "minmax", "rank"}

    Returns
    -------
    DataFrame
        A copy with those columns replaced by their scaled values.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 2.0, 10.0]})
    >>> scale(df, "a", "rank")["a"].tolist()
    [0.2, 0.5, 0.5, 0.8]
    """
    _require_frame(df)
    method = check_choice(method, "method", SCALE_METHODS)
    if columns is None:
        columns = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c].dtype)]
    else:
        columns = _as_list(columns, "columns")
        _require_columns(df, columns, "scaled")
    _require_numeric(df, columns, "scaled")
    out = df.copy()
    for c in columns:
        x = out[c].astype(float)
        inf = np.isinf(x)
        if inf.any():
            raise ValueError(f"column {c!r} holds {int(inf.sum())} infinite value(s); "
                             "replace or drop them first (drop_missing)")
        if method == "zscore":
            sd = x.std(ddof=0)
            x = (x - x.mean()) / sd if sd > 0 else (x - x.mean())
        elif method == "minmax":
            span = x.max() - x.min()
            x = (x - x.min()) / span if span > 0 else (x - x.min())
        elif method == "rank":
            x = x.rank(method="average") / (x.notna().sum() + 1)
        out[c] = x
    return out


def drop_missing(df: pd.DataFrame, columns=None, *, how: str = "drop"):
    """Drop rows with a missing value (NaN, None, NaT or +-inf) in the given columns.

    Parameters
    ----------
    df : DataFrame
    columns : str, list of str or None
        Columns to check (None: all).
    how : {"drop", "raise"}
        ``"raise"`` raises ValueError naming each column with missing values and its count.

    Returns
    -------
    (DataFrame, int)
        The rows without missing values (original index kept) and the number dropped.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, np.inf]})
    >>> clean, n = drop_missing(df, ["a", "b"])
    >>> clean.index.tolist(), n
    ([0], 2)
    """
    _require_frame(df)
    if how not in ("drop", "raise"):
        raise ValueError(f"how must be 'drop' or 'raise'; got {how!r}")
    columns = list(df.columns) if columns is None else _as_list(columns, "columns")
    _require_columns(df, columns, "checked")
    mask = _missing_mask(df[columns])
    n = int(mask.sum())
    if n and how == "raise":
        per = {c: int(_missing_mask(df[[c]]).sum()) for c in columns}
        listing = ", ".join(f"{c!r}: {k}" for c, k in per.items() if k)
        raise ValueError(f"{n} row(s) with missing values (NaN or inf) in {listing}")
    return df.loc[~mask], n


# --------------------------------------------------------------------------------------
# time-lagged pairs
# --------------------------------------------------------------------------------------
def _panel_step(d: pd.DataFrame, time: str, ent: str):
    """The regular step of a datetime panel: the most common difference within entities."""
    diffs = d.groupby(ent, sort=False)[time].diff().dropna()
    diffs = diffs[diffs > pd.Timedelta(0)]
    if diffs.empty:
        raise ValueError(f"cannot infer the time step of {time!r}: no entity has two or more "
                         "rows")
    counts = diffs.value_counts()
    top = counts[counts == counts.max()].index.min()  # ties: the shortest
    return pd.Timedelta(top)


def lagged_pairs(df: pd.DataFrame, source, target, *, lag, time: str, entity: str | None):
    """Pairs (source at time t, target at time t + lag), formed within each entity.

    Row r of the two returned frames is one pair: the source columns of an entity at time t
    and the target columns of the *same* entity at time t + lag. Pairs are matched by time
    value, so they never cross entities and never bridge a gap: if an entity has no row at
    t + lag, the pair does not exist. ``lag`` may be negative (the target in the past) or 0.

    The lag is counted in:

    - numeric time: time units (``lag=2`` with time in weeks = 2 weeks);
    - datetime time: steps of the panel, the step being the most common difference between
      consecutive times within entities (7 days for a weekly panel). Matching is exact
      (t + lag * step), so calendar months, whose length varies, need an integer time index.

    Pairs with a missing value (NaN or +-inf) in a used column are dropped and counted.

    Parameters
    ----------
    df : DataFrame
        The panel, long format.
    source, target : str or list of str
        Numeric columns; they may overlap (``source=target`` pairs a variable with its own
        past or future).
    lag : int (datetime time) or number (numeric time)
    time, entity : str
        Time and entity columns; ``entity=None`` for a single series.

    Returns
    -------
    source_frame, target_frame : DataFrame
        Source and target columns (original names), one row per pair, fresh index.
    info : dict
        ``n_pairs``; ``n_dropped_missing`` (pairs dropped for missing values); ``n_entities``
        (entities contributing pairs); ``lag``; ``step`` (the step, a Timedelta, or 1 for
        numeric time); ``keys``, a DataFrame with the entity, the source time and the target
        time of each pair (columns ``entity``, ``time``, ``time_target``).

    Raises
    ------
    ValueError
        A lag longer than the longest series (the message names the lag and that series), a
        non-integer lag for a datetime panel, a missing column, and the panel errors of
        :func:`check_panel`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a", "a", "a", "b", "b"], "week": [1, 2, 3, 1, 2],
    ...                    "policy": [0, 1, 2, 3, 4], "cases": [10, 11, 12, 13, 14]})
    >>> src, tgt, info = lagged_pairs(df, "policy", "cases", lag=1, time="week", entity="id")
    >>> src["policy"].tolist(), tgt["cases"].tolist(), info["n_pairs"]
    ([0, 1, 3], [11, 12, 14], 3)
    """
    source = _as_list(source, "source")
    target = _as_list(target, "target")
    d, ent = _panel(df, time, entity, warn=False)
    _require_columns(d, source, "source")
    _require_columns(d, target, "target")
    _require_numeric(d, source, "source")
    _require_numeric(d, target, "target")
    if isinstance(lag, bool) or not isinstance(lag, (int, float, np.integer, np.floating)) or \
            not np.isfinite(lag):
        raise TypeError(f"lag must be a finite number, got {lag!r}")

    t = d[time]
    is_datetime = pd.api.types.is_datetime64_any_dtype(t.dtype)
    if is_datetime:
        if float(lag) != int(lag):
            raise ValueError(f"lag must be a whole number of steps for the datetime time column "
                             f"{time!r}, got {lag!r}")
        lag = int(lag)
        step = _panel_step(d, time, ent)
        offset = lag * step
    else:
        step = 1
        offset = lag
    grouped = d.groupby(ent, sort=False)[time]
    spans = grouped.max() - grouped.min()
    longest = spans.idxmax()
    span_text = (f"{spans[longest] / step:g} steps of {step}" if is_datetime
                 else f"{spans[longest]:g} time units")
    if abs(offset) > spans[longest]:
        who = "the series" if entity is None else f"the longest series (entity {_show(longest)})"
        raise ValueError(f"lag={lag} is longer than {who}, which spans {span_text}")

    rows = np.arange(len(d), dtype=np.int64)
    left = pd.DataFrame({"e": d[ent].to_numpy(), "t": (t + offset).to_numpy(), "rs": rows})
    right = pd.DataFrame({"e": d[ent].to_numpy(), "t": t.to_numpy(), "rt": rows})
    m = left.merge(right, on=["e", "t"], how="inner", sort=False)
    m = m.sort_values("rs", kind="stable")
    src = d[source].iloc[m["rs"].to_numpy()].reset_index(drop=True)
    tgt = d[target].iloc[m["rt"].to_numpy()].reset_index(drop=True)
    keys = pd.DataFrame({"entity": d[ent].to_numpy()[m["rs"].to_numpy()],
                         "time": t.to_numpy()[m["rs"].to_numpy()],
                         "time_target": t.to_numpy()[m["rt"].to_numpy()]})
    bad = (_missing_mask(src) | _missing_mask(tgt)).to_numpy()
    n_dropped = int(bad.sum())
    if n_dropped:
        keep = ~bad
        src = src.loc[keep].reset_index(drop=True)
        tgt = tgt.loc[keep].reset_index(drop=True)
        keys = keys.loc[keep].reset_index(drop=True)
    if entity is None:
        keys = keys.drop(columns="entity")
    info = {
        "n_pairs": int(len(src)),
        "n_dropped_missing": n_dropped,
        "n_entities": int(keys["entity"].nunique()) if entity is not None else int(len(src) > 0),
        "lag": lag,
        "step": step,
        "keys": keys,
    }
    return src, tgt, info


# --------------------------------------------------------------------------------------
# the Covid-19 Data Hub pipeline (Fig. 3 of the paper), on a table already loaded
# --------------------------------------------------------------------------------------
def datahub_weekly(df: pd.DataFrame, *, time: str = "date", entity: str = "id",
                   cumulative=("confirmed", "tests", "deaths"), policies=None,
                   period="W", negative: str = "nan") -> pd.DataFrame:
    """From a Covid-19 Data Hub table (one row per country and day) to the weekly panel the
    paper analyses: the steps a user would take on the Data page, in one call.

    1. keeps country rows (``administrative_area_level == 1``) when that column exists;
    2. takes the absolute value of the policy levels (the Data Hub writes targeted measures,
       in force in part of a country, as negative levels: -2 is level 2 targeted);
    3. resamples each entity to ``period`` (weeks ending on Sunday), keeping the last value
       of each week: the cumulative counts at the end of the week, the levels then in force
       (:func:`resample_panel`);
    4. weekly new counts ``<column>_new`` from the cumulative ones
       (:func:`difference_cumulative`; downward corrections become NaN with a warning);
    5. the positivity ratio ``positivity = confirmed_new / tests_new`` (:func:`add_ratio`)
       and the weekly growth of cases ``cases_growth = log((C_t + 1) / (C_{t-1} + 1))``
       (:func:`log_growth`), when confirmed (and tests) are among ``cumulative``.

    Parameters
    ----------
    df : DataFrame
        The Data Hub table (e.g. from :func:`infoimb.io.read_table`, which parses the dates).
    time, entity : str
        Date and country columns (``entity="iso_alpha_3"`` for readable codes).
    cumulative : sequence of str
        Cumulative count columns.
    policies : sequence of str, optional
        Policy columns; default every OxCGRT column of the Data Hub present in ``df``.
    period : pandas offset alias, default "W"
    negative : {"nan", "keep", "clip"}
        What to do with negative weekly counts (see :func:`difference_cumulative`).

    Returns
    -------
    DataFrame
        entity, time, population (if present), the policies, the cumulative counts, then
        the derived columns, sorted by (entity, time).

    Examples
    --------
    >>> from infoimb.datasets import covid_datahub_layout
    >>> w = datahub_weekly(covid_datahub_layout(2, n_weeks=8), entity="iso_alpha_3")
    >>> w.shape[0], int(w["school_closing"].min()) >= 0, "positivity" in w.columns
    (16, True, True)
    """
    from .datasets import DATAHUB_POLICIES

    _require_frame(df)
    cumulative = _as_list(cumulative, "cumulative")
    if policies is None:
        policies = [c for c in DATAHUB_POLICIES if c in df.columns]
    policies = _as_list(policies, "policies") if len(policies) else []
    _require_columns(df, [time, entity, *cumulative, *policies], "the Data Hub pipeline")
    d = df
    if "administrative_area_level" in d.columns:
        level = pd.to_numeric(d["administrative_area_level"], errors="coerce")
        d = d.loc[level == 1]
        if d.empty:
            raise ValueError("no country-level rows (administrative_area_level == 1)")
    keep = [entity, time] + (["population"] if "population" in d.columns else [])
    d = d[keep + list(policies) + list(cumulative)].copy()
    for c in (*policies, *cumulative):
        d[c] = pd.to_numeric(d[c], errors="coerce")
    _require_numeric(d, list(policies) + list(cumulative), "the Data Hub pipeline")
    for c in policies:
        d[c] = d[c].abs()
    d = check_panel(d, time=time, entity=entity, min_rows=1)
    if period is not None:
        d = resample_panel(d, time=time, entity=entity, period=period, how="last",
                           columns=[c for c in d.columns if c not in (entity, time)])
    d = difference_cumulative(d, cumulative, time=time, entity=entity, negative=negative)
    if "confirmed" in cumulative and "tests" in cumulative:
        d = add_ratio(d, "confirmed_new", "tests_new", name="positivity")
    if "confirmed" in cumulative:
        d = log_growth(d, "confirmed_new", time=time, entity=entity, suffix="_growth")
        d = d.rename(columns={"confirmed_new_growth": "cases_growth"})
    return d
