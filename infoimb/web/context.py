"""What every page needs to know about the session: roles, feature groups, spaces.

Pure functions over the stored metadata (``SessionStore.get_meta``) and the small JSON of the
browser's settings store; no Dash import, tested without a browser.

Spaces are named in dropdowns by a value string:

- ``"full"``          every feature (the roles' feature list: numeric and categorical);
- ``"group:<name>"``  a named feature group;
- ``"col:<column>"``  a single column;
- ``"dist:<id>"``     an uploaded distance matrix (``meta["matrices"]``, stored server-side
  by :meth:`infoimb.web.store.SessionStore.put_matrix`): a space given by distances alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import preprocess
from .._validation import CATEGORICAL_METRICS, FEATURE_METRICS

__all__ = [
    "AnalysisInputError",
    "AUTO",
    "METRIC_ORDER",
    "SPACE_METRICS",
    "categorical_columns",
    "categorical_of",
    "space_metric",
    "text_columns",
    "usable_columns",
    "usable_rows",
    "FULL",
    "SCALINGS",
    "SpaceChoice",
    "clean_groups",
    "default_roles",
    "feature_columns",
    "is_matrix",
    "matrix_options",
    "numeric_columns",
    "prepare_frame",
    "resolve_space",
    "space_options",
    "check_roles",
]

FULL = "full"
SCALINGS = {"none": "none", "zscore": "z-score", "minmax": "min-max", "rank": "rank (copula)"}
MAX_SINGLE_OPTIONS = 300  # single-column entries offered in a space dropdown
AUTO = "auto"
#: the metrics a page offers for a space of features: "auto" (the core's: Euclidean for numeric
#: features, "categorical" when every feature is categorical, "gower" for a mixed space), the
#: numeric metrics, and the categorical ones
SPACE_METRICS = (*FEATURE_METRICS, AUTO, *CATEGORICAL_METRICS)
#: the same, in the order a dropdown lists them (the default first)
METRIC_ORDER = (AUTO, *FEATURE_METRICS, *CATEGORICAL_METRICS)


class AnalysisInputError(ValueError):
    """Inputs an analysis cannot run on; the message is shown to the user as is."""


@dataclass(frozen=True)
class SpaceChoice:
    """A space chosen in a dropdown, resolved: its value, display name and columns (the
    validated arrays of the engine are ``infoimb._spaces.Space``)."""

    value: str
    label: str
    columns: tuple[str, ...] = field(default_factory=tuple)
    matrix: str | None = None  # the id of an uploaded distance matrix (then no columns)

    def to_dict(self) -> dict:
        out = {"value": self.value, "label": self.label, "columns": list(self.columns)}
        if self.matrix is not None:
            out["matrix"] = self.matrix
        return out


# --------------------------------------------------------------------------------------
# roles
# --------------------------------------------------------------------------------------
def numeric_columns(meta: dict) -> list[str]:
    """Columns that can be numeric features: numeric or boolean."""
    return [c["column"] for c in meta.get("summary", []) if c["kind"] in ("numeric", "boolean")]


def text_columns(meta: dict) -> list[str]:
    """Text columns (sex M/F, a treatment arm, a country): categorical features, compared by
    equality."""
    return [c["column"] for c in meta.get("summary", []) if c["kind"] == "text"]


def usable_columns(meta: dict) -> list[str]:
    """Columns that can be features, in table order: numeric, boolean and text (categorical)."""
    return [c["column"] for c in meta.get("summary", []) if c["kind"] in ("numeric", "boolean", "text")]


def categorical_columns(meta: dict) -> list[str]:
    """The categorical columns, in table order: every text column, and the numeric columns
    holding codes that the Data page's roles mark categorical (``roles["categorical"]``)."""
    roles = meta.get("roles") or {}
    marked = set(roles.get("categorical") or [])
    text = set(text_columns(meta))
    numeric = set(numeric_columns(meta))
    return [c for c in usable_columns(meta) if c in text or (c in marked and c in numeric)]


def categorical_of(meta: dict, columns) -> list[str]:
    """The categorical ones among ``columns`` (in their order)."""
    cats = set(categorical_columns(meta))
    return [c for c in columns if c in cats]


def default_roles(meta: dict, hints: dict | None = None) -> dict:
    """Roles for a freshly loaded table: every numeric, non-constant column is a feature,
    except the time and entity columns; ``hints`` (e.g. an example's roles) take precedence.
    Text columns are offered as (categorical) features but not chosen by default."""
    hints = hints or {}
    numeric = numeric_columns(meta)
    usable = set(usable_columns(meta))
    constant = {c["column"] for c in meta.get("summary", []) if c.get("constant")}
    time = hints.get("time")
    entity = hints.get("entity")
    features = hints.get("features")
    if features is None:
        features = [c for c in numeric if c not in constant and c not in (time, entity)]
    periodic = {str(k): float(v) for k, v in (hints.get("periodic") or {}).items()}
    return {
        "features": [c for c in features if c in usable],
        "time": time if time in meta.get("columns", []) else None,
        "entity": entity if entity in meta.get("columns", []) else None,
        "periodic": {c: p for c, p in periodic.items() if c in numeric},
        "categorical": [c for c in (hints.get("categorical") or []) if c in numeric],
    }


def feature_columns(meta: dict) -> list[str]:
    roles = meta.get("roles") or default_roles(meta)
    usable = set(usable_columns(meta))
    return [c for c in roles.get("features", []) if c in usable]


def check_roles(meta: dict, features, time, entity, periodic: dict, categorical=None) -> tuple[dict, list[str]]:
    """Validated roles and a list of warnings; AnalysisInputError for what cannot be used.

    ``categorical``: numeric columns holding codes (0/1/2, an integer id) to compare by
    equality (text columns are categorical anyway; naming one here changes nothing)."""
    columns = meta.get("columns", [])
    numeric = set(numeric_columns(meta))
    usable = set(usable_columns(meta))
    features = [c for c in (features or []) if c in columns]
    not_usable = [c for c in features if c not in usable]
    if not_usable:
        raise AnalysisInputError(f"feature column {not_usable[0]!r} is neither numeric nor text "
                                 "(convert it on the Data page first)")
    marked = [str(c) for c in (categorical or []) if str(c) in columns]
    unknown = [str(c) for c in (categorical or []) if str(c) not in columns]
    if unknown:
        raise AnalysisInputError(f"categorical column {unknown[0]!r} is not in the table")
    marked = [c for c in dict.fromkeys(marked) if c in numeric]  # text: categorical anyway
    time = time or None
    entity = entity or None
    if time is not None and time not in columns:
        raise AnalysisInputError(f"time column {time!r} is not in the table")
    if entity is not None and entity not in columns:
        raise AnalysisInputError(f"entity column {entity!r} is not in the table")
    if time is not None and time == entity:
        raise AnalysisInputError("the time and entity columns must be different")
    categorical_set = set(marked) | set(text_columns(meta))
    clean_periodic = {}
    for c, p in (periodic or {}).items():
        if c not in features:
            continue
        if c in categorical_set:
            raise AnalysisInputError(f"column {c!r} is categorical: a period does not apply to it "
                                     "(remove it from the periodic features or from the categorical ones)")
        try:
            p = float(p)
        except (TypeError, ValueError):
            raise AnalysisInputError(f"the period of {c!r} must be a number, got {p!r}") from None
        if not (p > 0 and p < float("inf")):
            raise AnalysisInputError(f"the period of {c!r} must be a positive number, got {p}")
        clean_periodic[c] = p
    warnings = []
    summary = {c["column"]: c for c in meta.get("summary", [])}
    for c in features:
        s = summary.get(c, {})
        if s.get("constant"):
            warnings.append(f"feature {c!r} is constant: Δ({c} → anything) = 1, it carries no information")
    for c in features:
        s = summary.get(c, {})
        if c in categorical_set and s.get("n_unique") and s.get("n_unique") == meta.get("n_rows"):
            warnings.append(f"categorical feature {c!r} has a different value in every row (an id?): every "
                            "point is its own category, it carries no neighbourhood information")
    drop = [c for c in (time, entity) if c in features]
    if drop:
        features = [c for c in features if c not in drop]
        warnings.append(f"{', '.join(map(repr, drop))} removed from the features (time / entity column)")
    return {"features": features, "time": time, "entity": entity, "periodic": clean_periodic,
            "categorical": marked}, warnings


def parse_time_column(df: pd.DataFrame, time: str) -> str:
    """Check that ``time`` parses as numbers or dates; return a short description."""
    try:
        parsed = preprocess._parse_time(df[time], time)
    except (TypeError, ValueError) as err:
        raise AnalysisInputError(str(err)) from None
    if pd.api.types.is_datetime64_any_dtype(parsed.dtype):
        return f"dates from {parsed.min():%Y-%m-%d} to {parsed.max():%Y-%m-%d}"
    return f"numbers from {parsed.min():g} to {parsed.max():g}"


# --------------------------------------------------------------------------------------
# groups and spaces
# --------------------------------------------------------------------------------------
def clean_groups(groups) -> list[dict]:
    """The well-formed groups of the settings store: ``[{"name": str, "columns": [str]}]``."""
    out, seen = [], set()
    for g in groups or []:
        if not isinstance(g, dict):
            continue
        name = str(g.get("name") or "").strip()
        cols = [str(c) for c in (g.get("columns") or []) if isinstance(c, (str, int, float))]
        if not name or name in seen:
            continue
        seen.add(name)
        out.append({"name": name, "columns": list(dict.fromkeys(cols))})
    return out


def space_options(meta: dict | None, groups, *, matrices: bool = False) -> list[dict]:
    """Dropdown options: the full space, the groups of this table (a group naming a column the
    table lacks belongs to another table and is not offered), (``matrices``: the uploaded
    distance matrices, for the pages that take them), then single features."""
    if not meta:
        return []
    features = feature_columns(meta)
    available = set(meta.get("columns", []))
    opts = [{"label": f"Full space ({len(features)} features)", "value": FULL}]
    for g in clean_groups(groups):
        n = len(g["columns"])
        if any(c not in available for c in g["columns"]):
            continue  # a group of another table: kept in the browser for when it returns, not offered
        label = f"Group: {g['name']} ({n} column{'s' if n != 1 else ''})"
        if not n:
            opts.append({"label": label + " – empty", "value": f"group:{g['name']}", "disabled": True})
        else:
            opts.append({"label": label, "value": f"group:{g['name']}"})
    if matrices:
        opts += matrix_options(meta)
    cats = set(categorical_columns(meta))
    roles = meta.get("roles") or {}
    # the features, then the categorical columns outside the full space (a text column is
    # usable without being one of the full space's features), never the time / entity column
    extra = [c for c in categorical_columns(meta)
             if c not in set(features) and c not in (roles.get("time"), roles.get("entity"))]
    for c in (features + extra)[:MAX_SINGLE_OPTIONS]:
        opts.append({"label": f"Feature: {c}" + (" (categorical)" if c in cats else ""), "value": f"col:{c}"})
    return opts


MATRIX = "dist"


def matrix_label(entry: dict) -> str:
    return f"Distances: {entry.get('name')} ({entry.get('n')} × {entry.get('n')})"


def matrix_options(meta: dict | None) -> list[dict]:
    """Dropdown options of the uploaded distance matrices; one made for another version of
    the table (other rows) is shown disabled."""
    out = []
    for m in (meta or {}).get("matrices") or []:
        opt = {"label": matrix_label(m), "value": f"{MATRIX}:{m.get('id')}"}
        if m.get("table_hash") != (meta or {}).get("content_hash"):
            opt = dict(opt, label=opt["label"] + " – for another version of the table", disabled=True)
        out.append(opt)
    return out


def is_matrix(value) -> bool:
    return isinstance(value, str) and value.startswith(MATRIX + ":")


def resolve_space(value, meta: dict, groups) -> SpaceChoice:
    """The columns a dropdown value stands for; AnalysisInputError naming any problem."""
    if not value:
        raise AnalysisInputError("choose a space (a group, a feature or the full space)")
    value = str(value)
    available = set(meta.get("columns", []))
    numeric = set(usable_columns(meta))  # numeric, boolean or text (categorical)
    if value == FULL:
        cols = feature_columns(meta)
        if not cols:
            raise AnalysisInputError("the full space is empty: choose features on the Data page")
        return SpaceChoice(value, "full space", tuple(cols))
    kind, _, name = value.partition(":")
    if kind == MATRIX:
        for m in meta.get("matrices") or []:
            if m.get("id") == name:
                if m.get("table_hash") != meta.get("content_hash"):
                    raise AnalysisInputError(
                        f"the distance matrix {m.get('name')!r} was uploaded for another version of the "
                        "table (its rows may differ): upload it again for the current table")
                return SpaceChoice(value, str(m.get("name")), (), matrix=name)
        raise AnalysisInputError("that distance matrix is no longer stored: upload it again on the Data page")
    if kind == "col":
        if name not in available:
            raise AnalysisInputError(f"column {name!r} is not in the current table")
        if name not in numeric:
            raise AnalysisInputError(f"column {name!r} is neither numeric nor text (categorical)")
        return SpaceChoice(value, name, (name,))
    if kind == "group":
        for g in clean_groups(groups):
            if g["name"] == name:
                if not g["columns"]:
                    raise AnalysisInputError(f"group {name!r} is empty: add columns to it on the Data page")
                missing = [c for c in g["columns"] if c not in available]
                if missing:
                    raise AnalysisInputError(f"group {name!r} names column(s) not in the current table: "
                                             f"{', '.join(map(repr, missing[:5]))}")
                bad = [c for c in g["columns"] if c not in numeric]
                if bad:
                    raise AnalysisInputError(f"group {name!r}: column {bad[0]!r} is neither numeric nor text "
                                             "(categorical)")
                return SpaceChoice(value, name, tuple(g["columns"]))
        raise AnalysisInputError(f"there is no group named {name!r} (any more)")
    raise AnalysisInputError(f"unknown space {value!r}")


def check_spaces(a: SpaceChoice, b: SpaceChoice, *, allow_overlap: bool = True, allow_same: bool = False) -> None:
    """Refuse empty spaces, identical ones, or (``allow_overlap=False``) shared columns."""
    for s, name in ((a, "A"), (b, "B")):
        if not s.columns and s.matrix is None:
            raise AnalysisInputError(f"space {name} ({s.label}) has no columns")
    if a.matrix is not None or b.matrix is not None:
        if not allow_same and a.matrix == b.matrix:
            raise AnalysisInputError(f"A and B are the same distance matrix ({a.label}): Δ is 0 both ways. "
                                     "Choose two different spaces.")
        return
    if not allow_same and set(a.columns) == set(b.columns):
        raise AnalysisInputError(f"A ({a.label}) and B ({b.label}) are the same columns: Δ is 0 both ways. "
                                 "Choose two different spaces.")
    if not allow_overlap:
        shared = sorted(set(a.columns) & set(b.columns))
        if shared:
            raise AnalysisInputError(f"A ({a.label}) and B ({b.label}) must not share columns; both contain "
                                     f"{', '.join(map(repr, shared[:5]))}")


# --------------------------------------------------------------------------------------
# the numbers an analysis runs on
# --------------------------------------------------------------------------------------
def _is_categorical_series(col: pd.Series) -> bool:
    dt = col.dtype
    if pd.api.types.is_bool_dtype(dt):
        return False
    return (isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dt)
            or pd.api.types.is_string_dtype(dt))


def usable_rows(df: pd.DataFrame, columns, categorical=()) -> np.ndarray:
    """The rows :func:`prepare_frame` keeps: a value in every one of ``columns`` (finite for a
    numeric one; present for a categorical one: text, or a code in ``categorical``)."""
    columns = list(dict.fromkeys(columns))
    keep = np.ones(df.shape[0], dtype=bool)
    cats = set(categorical or ())
    for c in columns:
        col = df[c]
        if c in cats or _is_categorical_series(col):
            keep &= col.notna().to_numpy()
        else:
            keep &= np.isfinite(col.to_numpy(dtype=float, na_value=np.nan))
    return keep


def prepare_frame(df: pd.DataFrame, columns, scaling: str, periodic: dict | None = None, categorical=()):
    """The complete rows of ``columns``, scaled; periodic columns are left unscaled (so their
    period keeps its meaning). Returns (frame, number of rows dropped).

    Categorical columns (text, or the numeric codes named in ``categorical``) are never scaled:
    they are handed to the engine as they are, compared by equality (``metric="auto"``); a
    row with a missing category is dropped like a row with a missing number. The codes named in
    ``categorical`` are handed over as objects, so that every engine function compares them by
    equality (as ``categorical=[...]`` does)."""
    columns = list(dict.fromkeys(columns))
    if scaling not in SCALINGS:
        raise AnalysisInputError(f"unknown scaling {scaling!r}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AnalysisInputError(f"column(s) {', '.join(map(repr, missing[:5]))} not in the table")
    sub = df[columns]
    cats = [c for c in columns if c in set(categorical or ()) or _is_categorical_series(sub[c])]
    bad = [c for c in columns if c not in cats and not pd.api.types.is_numeric_dtype(sub[c].dtype)]
    if bad:
        raise AnalysisInputError(f"column {bad[0]!r} is neither numeric nor text")
    nums = [c for c in columns if c not in cats]
    keep = usable_rows(sub, columns, cats)
    clean = sub.loc[keep].copy()
    if nums:
        clean[nums] = clean[nums].astype(float)
    for c in cats:
        if pd.api.types.is_numeric_dtype(clean[c].dtype):
            clean[c] = clean[c].astype(object)
    dropped = int((~keep).sum())
    if clean.shape[0] < 3:
        raise AnalysisInputError(f"only {clean.shape[0]} row(s) have finite values in all of "
                                 f"{', '.join(map(repr, columns[:5]))}{'…' if len(columns) > 5 else ''}; "
                                 "at least 3 are needed")
    periodic = periodic or {}
    to_scale = [c for c in nums if c not in periodic]
    if scaling != "none" and to_scale:
        clean = preprocess.scale(clean, to_scale, scaling)
    return clean.reset_index(drop=True), dropped


def space_metric(choice: str, columns, categorical, what: str) -> str:
    """The metric a space of ``columns`` is measured with: ``choice`` itself, or for
    ``"auto"`` the engine's choice (Euclidean for numeric features, "categorical" when every
    feature is categorical, "gower" for a mixed space). A numeric metric on a mixed space is
    refused with the engine's message, naming the columns."""
    from .._spaces import _resolve_metric

    columns = list(columns)
    if not columns:  # a distance matrix: its own distance
        return "precomputed"
    cats = set(categorical or ())
    is_cat = np.array([c in cats for c in columns], dtype=bool)
    try:
        return _resolve_metric(None if choice == AUTO else choice, tuple(columns), is_cat, what)
    except ValueError as err:
        raise AnalysisInputError(str(err)) from None
