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
from ..io import TableError, clean_filename, dataset_fingerprint, propose_roles, read_table, summarize_columns
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
    "clear_groups",
    "datahub_groups",
    "dismiss_proposal",
    "examples",
    "groups_of_table",
    "ingest_example",
    "ingest_upload",
    "merge_groups",
    "preprocess_step",
    "problems",
    "proposal_text",
    "remember_roles",
    "remembered_roles",
    "save_groups_draft",
    "save_roles",
]

#: roles remembered per dataset content in the browser's settings store (oldest dropped first)
MAX_REMEMBERED = 20

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
    # the content's fingerprint (roles are remembered per dataset content) and the proposed
    # time / entity roles of a long panel (shown on the Data page with their reasons)
    meta["fingerprint"] = dataset_fingerprint(df)
    meta["proposal"] = propose_roles(df).to_dict()
    if extra:
        meta.update(extra)
    return meta


def dataset_info(meta: dict | None) -> dict | None:
    """The small dict kept in the browser's dataset store."""
    if not meta:
        return None
    return {k: meta.get(k) for k in ("filename", "content_hash", "fingerprint", "n_rows", "n_cols", "source")} | {
        "stored_at": meta.get("stored_at")}


def problems(meta: dict) -> list[dict]:
    """What the user should know about the table: ``[{"level", "text"}]``."""
    out = []
    summary = meta.get("summary", [])
    numeric = numeric_columns(meta)
    text = [c["column"] for c in summary if c["kind"] == "text"]
    if not numeric and text:  # categorical features only: usable, by equality
        out.append({"level": "warning",
                    "text": f"No numeric columns: the text columns ({', '.join(map(repr, text[:5]))}"
                            f"{'…' if len(text) > 5 else ''}) can be used as categorical features (compared by "
                            "equality; add them to the features under Roles), numeric distances need numbers."})
    elif not numeric:
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
    if hints is None:  # an upload: the proposed time and entity are the starting roles
        prop = meta.get("proposal") or {}
        hints = {"time": prop.get("time"), "entity": prop.get("entity")}
        meta["proposal_applied"] = bool(prop.get("time") or prop.get("entity"))
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
        if out["dataset"]:  # the same example at the same size is the same content
            _apply_remembered(store, sid, client, out["message"])
        new_client = None
        if out["groups"]:
            new_client = dict(client or {})
            new_client["groups"] = merge_groups(new_client.get("groups"), out["groups"])
        new_client = _with_default_scaling(out, new_client, client, request.get("name"))
        return {"dataset": out["dataset"], "message": out["message"], "client": new_client}
    out = ingest_upload(store, sid, payload, request.get("filename"), settings, report=report)
    if out["dataset"]:
        _apply_remembered(store, sid, client, out["message"])
    return {"dataset": out["dataset"], "message": out["message"],
            "client": _with_default_scaling(out, None, client, None)}


def _with_default_scaling(out: dict, new_client, client, example):
    """A loaded table starts with the scaling chosen for it before, else its default
    (infoimb.web.scaling.starting_scaling): the settings store to write (None: unchanged), and a
    line in the load message when it changes."""
    from .scaling import scaling_of, starting_scaling
    from .context import SCALINGS

    if not out.get("dataset"):
        return new_client
    scaling, why = starting_scaling(client, out["dataset"].get("fingerprint"), example)
    base = new_client if new_client is not None else dict(client or {})
    if scaling_of(client) != scaling and isinstance(out.get("message"), dict):
        out["message"]["details"] = list(out["message"].get("details") or []) + [
            f"Scaling: {SCALINGS[scaling]} ({why}; change it under “Roles and scaling”)."]
    if base.get("scaling") == scaling and new_client is None:
        return None
    return dict(base, scaling=scaling)


def _apply_remembered(store: SessionStore, sid, client, msg: dict) -> bool:
    """Give the table the roles the user applied to the same content before (kept in the
    browser's settings store by fingerprint); note it in ``msg``. True when applied."""
    try:
        meta = store.get_meta(sid)
    except InvalidSession:
        return False
    saved = remembered_roles(client, (meta or {}).get("fingerprint"))
    if not meta or saved is None:
        return False
    columns = set(meta.get("columns", []))
    periodic = {c: p for c, p in (saved.get("periodic") or {}).items() if c in columns}
    try:
        roles, _ = check_roles(meta, [c for c in saved.get("features") or [] if c in columns],
                               saved.get("time") if saved.get("time") in columns else None,
                               saved.get("entity") if saved.get("entity") in columns else None, periodic,
                               [c for c in saved.get("categorical") or [] if c in columns])
    except AnalysisInputError:
        return False
    store.update_meta(sid, roles=roles, proposal_applied=False, roles_remembered=True)
    n = len(roles["features"])
    msg["details"] = ["The roles you applied to this same table before were restored (time: "
                      f"{roles['time'] or 'none'}, entity: {roles['entity'] or 'none'}, "
                      f"{n} feature{'s' if n != 1 else ''})."] + list(msg.get("details") or [])
    return True


def remembered_roles(client, fingerprint) -> dict | None:
    """The roles remembered for a dataset's content (its :func:`infoimb.io.dataset_fingerprint`)
    in the browser's settings store, or None."""
    if not fingerprint or not isinstance(client, dict):
        return None
    saved = (client.get("roles_by_dataset") or {}).get(fingerprint)
    if not isinstance(saved, dict) or not isinstance(saved.get("roles"), dict):
        return None
    return saved["roles"]


def remember_roles(client, fingerprint, roles: dict) -> dict:
    """The settings store with ``roles`` remembered for ``fingerprint`` (the newest
    :data:`MAX_REMEMBERED` datasets are kept)."""
    client = dict(client or {})
    book = {k: v for k, v in (client.get("roles_by_dataset") or {}).items()
            if isinstance(v, dict) and k != fingerprint}
    book[fingerprint] = {"roles": {"features": list(roles.get("features") or []), "time": roles.get("time"),
                                   "entity": roles.get("entity"), "periodic": dict(roles.get("periodic") or {}),
                                   # the marked categorical codes, only when there are some
                                   **({"categorical": list(roles["categorical"])} if roles.get("categorical") else {})},
                         "at": time.time()}
    if len(book) > MAX_REMEMBERED:
        keep = sorted(book, key=lambda k: book[k].get("at") or 0)[-MAX_REMEMBERED:]
        book = {k: book[k] for k in keep}
    client["roles_by_dataset"] = book
    return client


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


def _belongs(group: dict, columns) -> bool:
    """A group belongs to a table when the table has every one of its columns (a new, still
    empty group belongs to the table it is being made for)."""
    cols = group.get("columns") or []
    return all(c in columns for c in cols)


def groups_of_table(groups, columns) -> tuple[list[dict], list[dict]]:
    """The groups of the table with these ``columns`` and the groups of other tables (kept for
    when that table is loaded again), both cleaned, in their stored order."""
    columns = set(columns or [])
    mine, others = [], []
    for g in clean_groups(groups):
        (mine if _belongs(g, columns) else others).append(g)
    return mine, others


def save_groups_draft(groups, draft, columns) -> list[dict]:
    """The stored groups after the editor's ``draft`` (the current table's groups): the other
    tables' groups are kept; a draft group replaces one of another table of the same name."""
    _, others = groups_of_table(groups, columns)
    names = {g["name"] for g in clean_groups(draft)}
    return clean_groups(draft) + [g for g in others if g["name"] not in names]


def clear_groups(groups, columns) -> tuple[list[dict], int]:
    """The stored groups without the current table's; and how many were removed."""
    mine, others = groups_of_table(groups, columns)
    return others, len(mine)


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
    store.update_meta(sid, roles=roles, proposal_applied=False)
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
    groups = datahub_groups(out.columns) if op == "datahub" else []
    if groups:
        notes = notes + [f"Feature groups for this table: {', '.join(g['name'] for g in groups)}."]
    return {"dataset": dataset_info(new_meta), "groups": groups,
            "message": message("warning" if any(not n.startswith("Feature groups") for n in notes) else "success",
                               f"{what[:1].upper() + what[1:]}: now {out.shape[0]} rows × {out.shape[1]} columns.",
                               notes)}


def proposal_text(meta: dict | None) -> str | None:
    """What the Data page says about the proposed time / entity roles of a long panel (None
    when nothing was proposed or the roles came from memory or an example)."""
    if not meta or not meta.get("proposal_applied"):
        return None
    prop = meta.get("proposal") or {}
    roles = meta.get("roles") or {}
    parts = []
    for key, label in (("time", "time"), ("entity", "entity")):
        if prop.get(key) and roles.get(key) == prop[key]:
            parts.append(f"{label} = {prop[key]} ({(prop.get('reasons') or {}).get(key, '')})")
    if not parts:
        return None
    kind = "a long panel (one row per entity and time)" if prop.get("panel") else "a table with a time column"
    return (f"This looks like {kind}; proposed and set as the starting roles: {'; '.join(parts)}. "
            "Press “Apply roles” to keep them for this file (they come back when it is loaded again).")


def dismiss_proposal(store: SessionStore, sid) -> bool:
    """Clear the proposed time and entity roles (the user does not want them)."""
    try:
        meta = store.get_meta(sid)
    except InvalidSession:
        return False
    if not meta or not meta.get("proposal_applied"):
        return False
    prop = meta.get("proposal") or {}
    roles = dict(meta.get("roles") or {})
    for key in ("time", "entity"):
        if prop.get(key) and roles.get(key) == prop[key]:
            roles[key] = None
    roles = default_roles(meta, {"time": roles.get("time"), "entity": roles.get("entity"),
                                 "periodic": roles.get("periodic"), "features": roles.get("features")})
    store.update_meta(sid, roles=roles, proposal_applied=False)
    return True


def remember_current_roles(store: SessionStore, sid, client) -> dict | None:
    """The settings store with the session table's applied roles remembered for its content
    (None when there is no table)."""
    try:
        meta = store.get_meta(sid)
    except InvalidSession:
        return None
    if not meta or not meta.get("fingerprint") or not meta.get("roles"):
        return None
    return remember_roles(client, meta["fingerprint"], meta["roles"])


#: the groups the "Data Hub weekly" step names (when their columns are in the result)
DATAHUB_GROUPS = {"policies": "paper", "all policies": "all", "epidemic state": ["cases_growth"],
                  "tests and cases": ["positivity", "confirmed_new", "tests_new"]}


def datahub_groups(columns) -> list[dict]:
    """Feature groups for the weekly Data Hub panel: the nine policies of the paper's Fig. 3,
    every Data Hub policy present, the epidemic state (weekly growth of cases) and the counts."""
    from ..datasets import DATAHUB_POLICIES, PAPER_POLICIES

    columns = list(columns)
    out = []
    for name, spec in DATAHUB_GROUPS.items():
        cols = list(PAPER_POLICIES) if spec == "paper" else list(DATAHUB_POLICIES) if spec == "all" else spec
        cols = [c for c in cols if c in columns]
        if cols and not (spec == "all" and len(cols) == len([c for c in PAPER_POLICIES if c in columns])):
            out.append({"name": name, "columns": cols})
    return out


def _need(value, what):
    if value in (None, "", []):
        raise AnalysisInputError(f"choose {what}")
    return value


def _apply(df, op, params, time_col, entity):
    if op in ("resample", "difference", "growth") and not time_col:
        raise AnalysisInputError("set the time column (and the entity column for a panel) in Roles first")
    if op == "datahub":
        return _datahub(df, time_col, entity)
    if op == "absolute":
        cols = _need(params.get("columns"), "the columns to take the absolute value of (e.g. the policy levels)")
        bad = [c for c in cols if c not in df.columns or not pd.api.types.is_numeric_dtype(df[c].dtype)]
        if bad:
            raise AnalysisInputError(f"column {bad[0]!r} is not a numeric column of the table")
        out = df.copy()
        n = 0
        for c in cols:
            n += int((out[c] < 0).sum())
            out[c] = out[c].abs()
        return out, f"absolute value of {', '.join(cols)} ({n} negative value(s) made positive)"
    if op == "growth":
        cols = _need(params.get("columns"), "the columns of counts to take the log growth of (e.g. confirmed_new)")
        out = preprocess.log_growth(df, cols, time=time_col, entity=entity)
        return out, f"log growth of {', '.join(cols)} (new columns {', '.join(c + '_growth' for c in cols)})"
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


def _datahub(df, time_col, entity):
    """The Covid-19 Data Hub's daily level-1 table to the weekly panel of the paper
    (:func:`infoimb.preprocess.datahub_weekly`), or a message saying why it does not apply."""
    from ..datasets import DATAHUB_POLICIES

    if not time_col or not entity:
        raise AnalysisInputError("the Data Hub step needs the time column (date) and the entity column (the "
                                 "country id) in Roles: set them and press “Apply roles” first")
    missing = [c for c in ("confirmed", "tests", "deaths") if c not in df.columns]
    if missing:
        raise AnalysisInputError(f"this is not a Covid-19 Data Hub table: it has no cumulative count column(s) "
                                 f"{', '.join(map(repr, missing))} (the Data Hub's level-1 file has confirmed, "
                                 "tests and deaths, one row per country and day)")
    policies = [c for c in DATAHUB_POLICIES if c in df.columns]
    if not policies:
        raise AnalysisInputError("this is not a Covid-19 Data Hub table: it has none of the OxCGRT policy columns "
                                 "(school_closing, stay_home_restrictions, ...)")
    if pd.api.types.is_numeric_dtype(df[time_col].dtype):
        raise AnalysisInputError(f"the time column {time_col!r} holds numbers, not dates: the Data Hub step makes "
                                 "calendar weeks from daily dates")
    out = preprocess.datahub_weekly(df, time=time_col, entity=entity, policies=policies)
    return out, (f"Data Hub weekly: country rows, absolute policy levels ({len(policies)} policies), weeks "
                 "ending on Sunday (last value), weekly new counts, positivity = confirmed_new / tests_new, "
                 "cases_growth")


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
