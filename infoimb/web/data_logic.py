"""The logic of the Data page, free of Dash: loading tables, describing them, roles,
preprocessing, feature groups. Every function returns plain JSON-able values and turns bad
input into a message; the page's callbacks only unpack and call these.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .. import preprocess
from ..io import MAX_NAME_LENGTH as MAX_FILENAME  # noqa: F401 - the cap of a shown file name
from ..io import TableError, clean_filename, read_table, summarize_columns
from .config import Settings
from .context import AnalysisInputError, check_roles, clean_groups, default_roles, numeric_columns, parse_time_column
from .context import categorical_of, usable_columns
from .inputs import whole
from .store import InvalidSession, NoDataset, SessionStore

__all__ = [
    "PREVIEW_COLUMNS",
    "PREVIEW_ROWS",
    "column_rows",
    "dataset_info",
    "examples",
    "ingest_example",
    "ingest_upload",
    "merge_groups",
    "preprocess_step",
    "problems",
    "save_roles",
]

PREVIEW_ROWS = 8
PREVIEW_COLUMNS = 30


def message(color: str, text: str, details: list[str] | None = None) -> dict:
    return {"color": color, "text": text, "details": list(details or []), "at": time.time()}


# --------------------------------------------------------------------------------------
# describing a table
# --------------------------------------------------------------------------------------
def _preview(df: pd.DataFrame) -> dict:
    cols = list(df.columns[:PREVIEW_COLUMNS])
    head = df[cols].head(PREVIEW_ROWS)
    rows = []
    for _, r in head.iterrows():
        row = {}
        for c in cols:
            v = r[c]
            if isinstance(v, (float, np.floating)):
                row[c] = "" if np.isnan(v) else ("inf" if np.isposinf(v) else "-inf" if np.isneginf(v) else f"{v:.6g}")
            elif v is None or (not isinstance(v, str) and pd.isna(v)):
                row[c] = ""
            else:
                row[c] = str(v)
        rows.append(row)
    return {"columns": cols, "rows": rows, "n_hidden_columns": int(max(df.shape[1] - len(cols), 0))}


def describe(df: pd.DataFrame, *, filename: str, source: str, notes=(), extra: dict | None = None) -> dict:
    """The metadata stored with a table (see SessionStore.put_dataset)."""
    summary = summarize_columns(df)
    meta = {
        "filename": filename,
        "source": source,
        "read_notes": list(notes),
        "summary": summary.to_dict("records"),
        "preview": _preview(df),
        "history": [],
    }
    for rec in meta["summary"]:
        for k, v in list(rec.items()):
            if isinstance(v, float) and not np.isfinite(v):
                rec[k] = None
    if extra:
        meta.update(extra)
    return meta


def dataset_info(meta: dict | None) -> dict | None:
    """The small dict kept in the browser's dataset store."""
    if not meta:
        return None
    return {k: meta.get(k) for k in ("filename", "content_hash", "n_rows", "n_cols", "source")} | {
        "stored_at": meta.get("stored_at")}


def problems(meta: dict) -> list[dict]:
    """What the user should know about the table: ``[{"level", "text"}]``."""
    out = []
    summary = meta.get("summary", [])
    numeric = numeric_columns(meta)
    if not numeric:
        out.append({"level": "danger", "text": "No numeric columns: the information imbalance needs numeric "
                                               "features. Convert text columns or upload another table."})
    mixed = [c for c in summary if c["kind"] == "mixed"]
    for c in mixed[:10]:
        out.append({"level": "warning",
                    "text": f"Column {c['column']!r} is mostly numbers but has {c['n_bad']} text value(s), e.g. "
                            f"{c['bad_value']!r}; it is not offered as a feature until converted "
                            "(button below: text becomes missing)."})
    if len(mixed) > 10:
        out.append({"level": "warning", "text": f"… and {len(mixed) - 10} more columns mixing text and numbers."})
    bad = [c for c in summary if c["kind"] in ("numeric", "boolean") and (c["n_missing"] or c["n_inf"])]
    if bad:
        shown = ", ".join(f"{c['column']!r} ({c['n_missing']} missing, {c['n_inf']} infinite)" for c in bad[:5])
        out.append({"level": "info",
                    "text": f"Missing or infinite values in {len(bad)} numeric column(s): {shown}"
                            f"{'…' if len(bad) > 5 else ''}. Analyses leave out the rows affected in the columns "
                            "they use and say how many."})
    const = [c["column"] for c in summary if c.get("constant")]
    if const:
        out.append({"level": "info",
                    "text": f"Constant column(s) {', '.join(map(repr, const[:5]))}{'…' if len(const) > 5 else ''}: "
                            "Δ from a constant is exactly 1 (it carries no information); not selected as features "
                            "by default."})
    return out


def column_rows(meta: dict) -> list[dict]:
    """Rows of the column table on the Data page."""
    rows = []
    for c in meta.get("summary", []):
        notes = []
        if c["kind"] == "mixed":
            notes.append(f"text in numbers, e.g. {c['bad_value']!r}")
        if c.get("constant"):
            notes.append("constant")
        if c["n_inf"]:
            notes.append("infinite values")
        rng = ""
        if c["min"] is not None:
            lo, hi = c["min"], c["max"]
            rng = f"{lo:.4g} … {hi:.4g}" if isinstance(lo, (int, float)) else f"{lo} … {hi}"
        rows.append({"column": c["column"], "type": c["kind"], "missing": c["n_missing"], "inf": c["n_inf"],
                     "range": rng, "unique": c["n_unique"], "notes": "; ".join(notes)})
    return rows


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------
def _finish_load(store: SessionStore, sid, df: pd.DataFrame, *, filename: str, source: str, notes,
                 hints: dict | None = None, extra: dict | None = None) -> tuple[dict, dict]:
    meta = describe(df, filename=filename, source=source, notes=notes, extra=extra)
    meta["n_rows"], meta["columns"] = int(df.shape[0]), [str(c) for c in df.columns]
    meta["roles"] = default_roles(meta, hints)
    meta = store.put_dataset(sid, df, meta, original=True)
    return meta, meta["roles"]


def ingest_upload(store: SessionStore, sid, contents, filename, settings: Settings, report=None) -> dict:
    """Parse an uploaded file and make it the session's table. Returns
    ``{"dataset": dataset_info | None, "message": message}``; never raises."""
    def step(value, label):
        if report is not None:
            report({"value": value, "label": label})

    name = clean_filename(filename or "")
    try:
        store.touch(sid)
    except InvalidSession:
        return {"dataset": None, "message": message("danger", "Your session is not ready or has expired: reload "
                                                               "the page and upload again.")}
    store.expire(settings.session_ttl, empty_ttl=settings.empty_session_ttl)  # opportunistic clean-up
    if not contents:
        return {"dataset": None, "message": message("danger", f"{name}: nothing was received (empty upload).")}
    try:
        step(10, f"reading {name}")
        df = read_table(contents, filename=name, max_bytes=settings.max_upload_bytes,
                        max_columns=settings.max_columns, max_cells=settings.max_cells)
        step(60, "describing the columns")
        meta, _ = _finish_load(store, sid, df, filename=name, source="upload", notes=df.attrs.get("read_notes", []))
        step(100, "stored")
    except TableError as err:
        return {"dataset": None, "message": message("danger", str(err))}
    except (ValueError, TypeError, OverflowError) as err:
        return {"dataset": None, "message": message("danger", f"{name} could not be read: {err}")}
    except MemoryError:
        return {"dataset": None, "message": message("danger", f"{name} is too large to read into memory.")}
    return {"dataset": dataset_info(meta), "message": _loaded_message(meta)}


def _loaded_message(meta: dict) -> dict:
    probs = problems(meta)
    level = "warning" if any(p["level"] in ("warning", "danger") for p in probs) else "success"
    notes = meta.get("read_notes") or []
    text = f"Loaded {meta['filename']}: {meta['n_rows']} rows × {meta['n_cols']} columns."
    if notes:
        text += f" ({'; '.join(notes)})"
    return message(level, text, [p["text"] for p in probs if p["level"] in ("warning", "danger")])


def load_request(store: SessionStore, settings: Settings, request, payload, sid, client,
                 report=None) -> dict | None:
    """What a load request (an upload or an example) changes: ``{"dataset", "message",
    "client"}`` with None for "unchanged"; None when the request is not one.

    ``sid`` is the session of the browser's cookie (see :mod:`infoimb.web.sessions`); its
    folder on the server is created here, when it first stores a table."""
    if not isinstance(request, dict) or request.get("kind") not in ("example", "upload"):
        return None
    try:
        store.open_session(sid)
    except InvalidSession:
        return {"dataset": None, "client": None,
                "message": message("danger", "This browser has no session (cookies may be blocked): "
                                             "reload the page, allow cookies for this site, and load the data again.")}
    return _load(store, settings, request, payload, sid, client, report)


def _load(store, settings, request, payload, sid, client, report) -> dict:
    if request.get("kind") == "example":
        if report is not None:
            report({"value": 30, "label": f"generating {request.get('name')}"})
        out = ingest_example(store, sid, request.get("name"), request.get("n"), settings)
        new_client = None
        if out["groups"]:
            new_client = dict(client or {})
            new_client["groups"] = merge_groups(new_client.get("groups"), out["groups"])
        return {"dataset": out["dataset"], "message": out["message"], "client": new_client}
    out = ingest_upload(store, sid, payload, request.get("filename"), settings, report=report)
    return {"dataset": out["dataset"], "message": out["message"], "client": None}


def examples() -> list[dict]:
    """The built-in examples for the picker: name, title, description, default size."""
    try:
        from .. import datasets
    except ImportError:  # pragma: no cover - the module ships with the package
        return []
    out = []
    for e in datasets.list_examples():
        out.append({"name": e.name, "title": e.title, "description": e.description,
                    "n_default": int(e.n_default), "n_unit": e.n_unit, "kind": e.kind,
                    "analyses": list(e.analyses)})
    return out


def ingest_example(store: SessionStore, sid, name, n, settings: Settings) -> dict:
    """Load a built-in example as the session's table. Returns ``{"dataset", "message",
    "groups"}`` (the example's suggested groups: ``[{"name", "columns"}]``)."""
    from .. import datasets

    try:
        store.touch(sid)
    except InvalidSession:
        return {"dataset": None, "groups": [], "message": message("danger", "Your session is not ready or has "
                                                                              "expired: reload the page.")}
    if name not in datasets.EXAMPLES:
        return {"dataset": None, "groups": [], "message": message("danger", "Choose an example first.")}
    ex = datasets.EXAMPLES[name]
    try:
        n = whole(n, "the size n", default=ex.n_default)  # 12.5 refused, not cut to 12
        df = ex.load(n=n, random_state=0)
    except (TypeError, ValueError, AnalysisInputError) as err:
        return {"dataset": None, "groups": [], "message": message("danger", f"Example {name}: {err}")}
    if df.shape[0] * df.shape[1] > settings.max_cells:
        return {"dataset": None, "groups": [], "message": message(
            "danger", f"Example {name} with n = {n} has {df.shape[0] * df.shape[1]:,} values, over the limit "
                      f"of {settings.max_cells:,} (INFOIMB_MAX_CELLS).")}
    roles = dict(ex.roles)
    hints = {"time": roles.get("time"), "entity": roles.get("entity"), "periodic": roles.get("periodic")}
    if roles.get("features"):
        hints["features"] = list(roles["features"])  # e.g. carbon: the SOAP vector, not the ids
    meta, _ = _finish_load(store, sid, df, filename=f"example: {name}", source="example", notes=[],
                           hints=hints, extra={"example": name, "example_n": n})
    groups = [{"name": g, "columns": list(cols)} for g, cols in (roles.get("groups") or {}).items()]
    msg = _loaded_message(meta)
    msg["text"] = f"Loaded the example “{ex.title}”: {meta['n_rows']} rows × {meta['n_cols']} columns."
    if groups:
        msg["details"] = [f"Its feature groups were added: {', '.join(g['name'] for g in groups)}."] + msg["details"]
    return {"dataset": dataset_info(meta), "groups": groups, "message": msg}


def groups_after(action: str, groups, *, index=None, existing_names=()) -> list[dict]:
    """The group list after "add" (a new, uniquely named empty group) or "remove" (at index)."""
    groups = [dict(g) for g in (groups or [])]
    if action == "add":
        names = {g.get("name") for g in groups} | set(existing_names)
        k = len(groups) + 1
        while f"group {k}" in names:
            k += 1
        groups.append({"name": f"group {k}", "columns": []})
    elif action == "remove" and index is not None and 0 <= index < len(groups):
        groups.pop(index)
    return groups


def groups_from_editor(names, columns) -> tuple[list[dict], list[str]]:
    """Groups from the editor's inputs, and what is wrong with them (blank or repeated names)."""
    problems = []
    seen = set()
    out = []
    for n, cols in zip(names or [], columns or []):
        name = (n or "").strip()
        if not name:
            problems.append("A group without a name is not saved.")
            continue
        if name in seen:
            problems.append(f"The name {name!r} is used twice; only the first is kept.")
            continue
        seen.add(name)
        out.append({"name": name, "columns": list(dict.fromkeys(cols or []))})
    return out, problems


def merge_groups(existing, new) -> list[dict]:
    """The user's groups with ``new`` ones added; a new group replaces one of the same name."""
    out = {g["name"]: g for g in clean_groups(existing)}
    for g in clean_groups(new):
        out[g["name"]] = g
    return list(out.values())


# --------------------------------------------------------------------------------------
# roles
# --------------------------------------------------------------------------------------
def save_roles(store: SessionStore, sid, features, time_col, entity, periodic_cols, periods: dict,
               categorical=None) -> dict:
    """Validate and store the roles; returns a message (never raises). ``categorical``: numeric
    columns holding codes, to compare by equality (text columns are categorical anyway)."""
    try:
        meta = store.get_meta(sid)
    except InvalidSession:
        return message("danger", "Your session expired: reload the page and load the data again.")
    if not meta:
        return message("secondary", "Load a table first.")
    periodic = {}
    for c in periodic_cols or []:
        p = (periods or {}).get(c)
        if p in (None, ""):
            return message("warning", f"Give the period of the periodic feature {c!r} (e.g. 360 for degrees, "
                                      "6.2832 for radians).")
        periodic[c] = p
    try:
        roles, notes = check_roles(meta, features, time_col, entity, periodic, categorical)
        extra = []
        if roles["time"] is not None:
            df = store.get_dataset(sid, meta=meta)
            extra.append(f"time column {roles['time']!r}: {parse_time_column(df, roles['time'])}")
    except AnalysisInputError as err:
        return message("danger", str(err)[0].upper() + str(err)[1:])
    except NoDataset as err:
        return message("danger", str(err))
    store.update_meta(sid, roles=roles)
    n = len(roles["features"])
    text = f"{n} feature{'s' if n != 1 else ''} (the full space)"
    if roles["periodic"]:
        text += f"; periodic: {', '.join(f'{c} (period {p:g})' for c, p in roles['periodic'].items())}"
    cats = categorical_of(dict(meta, roles=roles), roles["features"])
    if cats:
        text += f"; categorical (compared by equality): {', '.join(cats)}"
    if roles.get("categorical"):
        extra.append("numeric codes marked categorical: " + ", ".join(roles["categorical"]))
    return message("warning" if notes or not n else "success", text + ".", notes + extra)


# --------------------------------------------------------------------------------------
# preprocessing (panel data)
# --------------------------------------------------------------------------------------
def preprocess_step(store: SessionStore, sid, op: str, params: dict, settings: Settings) -> dict:
    """Apply one preprocessing step to the session's table; the result becomes the working
    table (the original stays for "reset"). Returns ``{"dataset", "message"}``."""
    try:
        meta = store.get_meta(sid)
        if not meta:
            return {"dataset": None, "message": message("secondary", "Load a table first.")}
        roles = meta.get("roles") or {}
        time_col, entity = roles.get("time"), roles.get("entity")
        if op == "reset":
            df = store.get_dataset(sid, original=True, meta=meta)
            new_meta = _store_derived(store, sid, df, meta, "reset to the original table", original=True)
            return {"dataset": dataset_info(new_meta),
                    "message": message("success", f"Back to the original table: {df.shape[0]} rows × {df.shape[1]} "
                                                  "columns.")}
        df = store.get_dataset(sid, meta=meta)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out, what = _apply(df, op, params, time_col, entity)
        notes = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
        if out.shape[1] > settings.max_columns:
            raise AnalysisInputError(f"the result would have {out.shape[1]} columns, over the limit of "
                                     f"{settings.max_columns}")
        new_meta = _store_derived(store, sid, out, meta, what)
    except (InvalidSession,):
        return {"dataset": None, "message": message("danger", "Your session expired: reload the page.")}
    except (AnalysisInputError, NoDataset, ValueError, TypeError, KeyError) as err:
        text = str(err).strip("'\"")
        return {"dataset": None, "message": message("danger", text[:1].upper() + text[1:])}
    return {"dataset": dataset_info(new_meta),
            "message": message("warning" if notes else "success",
                               f"{what[:1].upper() + what[1:]}: now {out.shape[0]} rows × {out.shape[1]} columns.",
                               notes)}


def _need(value, what):
    if value in (None, "", []):
        raise AnalysisInputError(f"choose {what}")
    return value


def _apply(df, op, params, time_col, entity):
    if op in ("resample", "difference") and not time_col:
        raise AnalysisInputError("set the time column (and the entity column for a panel) in Roles first")
    if op == "resample":
        period = str(_need(params.get("period"), "a period (e.g. W for weeks, or a whole number)")).strip()
        how = params.get("how") or "mean"
        per = int(period) if period.isdigit() else period
        out = preprocess.resample_panel(df, time=time_col, entity=entity, period=per, how=how)
        return out, f"resampled to period {period} ({how})"
    if op == "difference":
        cols = _need(params.get("columns"), "the cumulative columns to difference")
        out = preprocess.difference_cumulative(df, cols, time=time_col, entity=entity)
        return out, f"differenced {', '.join(cols)} (new columns {', '.join(c + '_new' for c in cols)})"
    if op == "ratio":
        num = _need(params.get("numerator"), "the numerator column")
        den = _need(params.get("denominator"), "the denominator column")
        name = (params.get("name") or "").strip() or None
        out = preprocess.add_ratio(df, num, den, name=name)
        return out, f"added the ratio {out.columns[-1]!r} = {num} / {den}"
    if op == "drop_missing":
        cols = params.get("columns") or None
        out, n = preprocess.drop_missing(df, cols)
        return out.reset_index(drop=True), f"dropped {n} row(s) with missing or infinite values"
    if op == "coerce":
        cols = _need(params.get("columns"), "the columns to convert")
        out = df.copy()
        for c in cols:
            out[c] = pd.to_numeric(out[c].astype("string").str.strip(), errors="coerce")
        return out, f"converted {', '.join(map(repr, cols))} to numbers (text became missing)"
    raise AnalysisInputError(f"unknown preprocessing step {op!r}")


def _store_derived(store, sid, df, meta, what, original=False):
    new = describe(df, filename=meta.get("filename", ""), source=meta.get("source", ""),
                   notes=meta.get("read_notes", []))
    for k in ("example", "example_n"):
        if k in meta:
            new[k] = meta[k]
    new["columns"] = [str(c) for c in df.columns]
    new["history"] = [] if original else list(meta.get("history", [])) + [what]
    old_roles = meta.get("roles") or {}
    roles = default_roles(new, {"time": old_roles.get("time"), "entity": old_roles.get("entity"),
                                "periodic": old_roles.get("periodic"),
                                "categorical": old_roles.get("categorical")})
    # keep the user's feature choice, add new numeric columns (differences, ratios) to it
    old_features = old_roles.get("features")
    if old_features is not None and not original:
        prev_numeric = set(numeric_columns(meta))
        numeric = set(numeric_columns(new))
        # new numeric columns (differences, ratios, converted text) join the features
        numeric |= set(usable_columns(new))  # text (categorical) features stay features
        roles["features"] = [c for c in old_features if c in numeric] + [
            c for c in roles["features"] if c not in prev_numeric and c not in old_features]
    new["roles"] = roles
    return store.put_dataset(sid, df, new, original=original)
