"""What every page needs to know about the session: roles, feature groups, spaces.

Pure functions over the stored metadata (``SessionStore.get_meta``) and the small JSON of the
browser's settings store; no Dash import, tested without a browser.

Spaces are named in dropdowns by a value string:

- ``"full"``          every numeric feature (the roles' feature list);
- ``"group:<name>"``  a named feature group;
- ``"col:<column>"``  a single column;
- ``"dist:<id>"``     an uploaded distance matrix (``meta["matrices"]``, stored server-side
  by :meth:`infoimb.web.store.SessionStore.put_matrix`): a space given by distances alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import preprocess

__all__ = [
    "AnalysisInputError",
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
    """Columns that can be features: numeric or boolean."""
    return [c["column"] for c in meta.get("summary", []) if c["kind"] in ("numeric", "boolean")]


def default_roles(meta: dict, hints: dict | None = None) -> dict:
    """Roles for a freshly loaded table: every numeric, non-constant column is a feature,
    except the time and entity columns; ``hints`` (e.g. an example's roles) take precedence."""
    hints = hints or {}
    numeric = numeric_columns(meta)
    constant = {c["column"] for c in meta.get("summary", []) if c.get("constant")}
    time = hints.get("time")
    entity = hints.get("entity")
    features = hints.get("features")
    if features is None:
        features = [c for c in numeric if c not in constant and c not in (time, entity)]
    periodic = {str(k): float(v) for k, v in (hints.get("periodic") or {}).items()}
    return {
        "features": [c for c in features if c in numeric],
        "time": time if time in meta.get("columns", []) else None,
        "entity": entity if entity in meta.get("columns", []) else None,
        "periodic": {c: p for c, p in periodic.items() if c in numeric},
    }


def feature_columns(meta: dict) -> list[str]:
    roles = meta.get("roles") or default_roles(meta)
    numeric = set(numeric_columns(meta))
    return [c for c in roles.get("features", []) if c in numeric]


def check_roles(meta: dict, features, time, entity, periodic: dict) -> tuple[dict, list[str]]:
    """Validated roles and a list of warnings; AnalysisInputError for what cannot be used."""
    columns = meta.get("columns", [])
    numeric = set(numeric_columns(meta))
    features = [c for c in (features or []) if c in columns]
    not_numeric = [c for c in features if c not in numeric]
    if not_numeric:
        raise AnalysisInputError(f"feature column {not_numeric[0]!r} is not numeric")
    time = time or None
    entity = entity or None
    if time is not None and time not in columns:
        raise AnalysisInputError(f"time column {time!r} is not in the table")
    if entity is not None and entity not in columns:
        raise AnalysisInputError(f"entity column {entity!r} is not in the table")
    if time is not None and time == entity:
        raise AnalysisInputError("the time and entity columns must be different")
    clean_periodic = {}
    for c, p in (periodic or {}).items():
        if c not in features:
            continue
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
    drop = [c for c in (time, entity) if c in features]
    if drop:
        features = [c for c in features if c not in drop]
        warnings.append(f"{', '.join(map(repr, drop))} removed from the features (time / entity column)")
    return {"features": features, "time": time, "entity": entity, "periodic": clean_periodic}, warnings


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
    """Dropdown options: the full space, the groups, (``matrices``: the uploaded distance
    matrices, for the pages that take them), then single features."""
    if not meta:
        return []
    features = feature_columns(meta)
    available = set(meta.get("columns", []))
    opts = [{"label": f"Full space ({len(features)} features)", "value": FULL}]
    for g in clean_groups(groups):
        missing = [c for c in g["columns"] if c not in available]
        n = len(g["columns"])
        label = f"Group: {g['name']} ({n} column{'s' if n != 1 else ''})"
        if missing or not n:
            opts.append({"label": label + (" – not in this table" if missing else " – empty"),
                         "value": f"group:{g['name']}", "disabled": True})
        else:
            opts.append({"label": label, "value": f"group:{g['name']}"})
    if matrices:
        opts += matrix_options(meta)
    for c in features[:MAX_SINGLE_OPTIONS]:
        opts.append({"label": f"Feature: {c}", "value": f"col:{c}"})
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
    numeric = set(numeric_columns(meta))
    if value == FULL:
        cols = feature_columns(meta)
        if not cols:
            raise AnalysisInputError("the full space is empty: choose numeric features on the Data page")
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
            raise AnalysisInputError(f"column {name!r} is not numeric")
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
                    raise AnalysisInputError(f"group {name!r}: column {bad[0]!r} is not numeric")
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
def prepare_frame(df: pd.DataFrame, columns, scaling: str, periodic: dict | None = None):
    """The finite rows of ``columns``, scaled; periodic columns are left unscaled (so their
    period keeps its meaning). Returns (frame, number of rows dropped)."""
    columns = list(dict.fromkeys(columns))
    if scaling not in SCALINGS:
        raise AnalysisInputError(f"unknown scaling {scaling!r}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AnalysisInputError(f"column(s) {', '.join(map(repr, missing[:5]))} not in the table")
    sub = df[columns]
    bad = [c for c in columns if not (pd.api.types.is_numeric_dtype(sub[c].dtype))]
    if bad:
        raise AnalysisInputError(f"column {bad[0]!r} is not numeric")
    sub = sub.astype(float)
    clean, dropped = preprocess.drop_missing(sub, columns)
    if clean.shape[0] < 3:
        raise AnalysisInputError(f"only {clean.shape[0]} row(s) have finite values in all of "
                                 f"{', '.join(map(repr, columns[:5]))}{'…' if len(columns) > 5 else ''}; "
                                 "at least 3 are needed")
    periodic = periodic or {}
    to_scale = [c for c in columns if c not in periodic]
    if scaling != "none" and to_scale:
        clean = preprocess.scale(clean, to_scale, scaling)
    return clean.reset_index(drop=True), int(dropped)
