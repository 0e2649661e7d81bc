"""Take it away: the Python call and the CLI command that reproduce a stored result.

For every analysis of the dashboard (:mod:`infoimb.web.analyses`), :func:`reproduce` turns a
stored record (its canonical settings: the columns its groups stood for, metric(s), k, the
estimator, random state, scaling, periodic columns, lags, time / entity roles, permutations ...)
into

- a Python snippet that uses only infoimb's public API (``infoimb.io.read_table``,
  ``infoimb.preprocess``, the analysis's function) and ends with the result in ``result``;
- an ``infoimb ...`` command line (``--json`` output) that computes the same numbers.

Both start from a file the user has (:func:`table_file`):

- the uploaded file itself, when the analysis ran on it unchanged;
- otherwise the *working table* (after Data-page steps: resampling, differences, ratios,
  dropped rows, converted columns; or a built-in example), which the page offers as
  "Download the working table (CSV)" under the name the commands read.

The dashboard's own preparation of the used columns is spelled out: rows with a missing value
in a used column are left out (``preprocess.drop_missing``; the CLI's ``--drop-missing``), the
scaling in force is applied to the non-periodic columns (``preprocess.scale``; ``--scale``),
the rows of one entity are put in time order for causality (``--group/--entity/--time``).
Results with randomness carry their ``random_state`` (``--seed``).

Pure functions over a record and the session's metadata; the Dash block is :func:`block`.

Examples
--------
>>> rec = {"analysis": "weights", "dataset": {"filename": "t.csv", "source": "upload",
...        "content_hash": "ab" * 8}, "settings": {"a": {"label": "A", "columns": ["x", "y"]},
...        "b": {"label": "B", "columns": ["z"]}, "method": "coordinate", "k": 1,
...        "n_queries": None, "n_iter": None, "l1": 0.0, "max_evaluations": None,
...        "scaling": "none", "periodic": {}, "random_state": 0}}
>>> meta = {"original": {"content_hash": "ab" * 8}}
>>> reproduce(rec, meta).cli
'infoimb weights t.csv --a x,y --b z --method coordinate --k 1 --seed 0 --drop-missing --json'
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

__all__ = ["Reproduction", "attach", "block", "download_parts", "register_callbacks", "table_download", "reproduce", "table_file", "working_table_name", "working_table_csv"]

#: the memo key of the "best lag" choice of the lagged selection (infoimb.web.analyses.lags.BEST)
BEST = "best"


@dataclass(frozen=True)
class Reproduction:
    """How to reproduce one record: ``python`` (a snippet; the result ends in ``result``),
    ``cli`` (one ``infoimb`` command, preceded by ``infoimb example ...`` for an example),
    ``table`` (the file both read), ``working`` (True: that file is the working-table download),
    ``notes`` (what the commands do not cover, said plainly)."""

    python: str
    cli: str
    table: str
    working: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"python": self.python, "cli": self.cli, "table": self.table, "working": self.working,
                "notes": list(self.notes)}


# --------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------
def _stem(filename: str) -> str:
    name = str(filename or "table")
    if name.startswith("example: "):
        name = name[len("example: "):]
    name = name.rsplit("/", 1)[-1].rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "table"


def working_table_name(record: dict) -> str:
    """The file name of a record's working table: the download's name and what the commands read."""
    ds = record.get("dataset") or {}
    return f"{_stem(ds.get('filename'))}_working_{str(ds.get('content_hash') or '')[:8]}.csv"


def table_file(record: dict, meta: dict | None) -> tuple[str, bool]:
    """(the file the commands read, whether it is the working-table download): the uploaded
    file when the record's table is the upload unchanged, else the working table."""
    ds = record.get("dataset") or {}
    original = ((meta or {}).get("original") or {}).get("content_hash")
    if ds.get("source") == "upload" and ds.get("filename") and original == ds.get("content_hash"):
        return str(ds["filename"]), False
    return working_table_name(record), True


def working_table_csv(df) -> str:
    """The working table as the CSV the download serves (``read_table`` reads it back to the
    same values: floats are written to full precision, dates in ISO form)."""
    return df.to_csv(index=False)


# --------------------------------------------------------------------------------------
# writing code and command lines
# --------------------------------------------------------------------------------------
def _q(text) -> str:
    return shlex.quote(str(text))


def _cols(columns) -> str:
    return _q(",".join(map(str, columns)))


def _periods(periodic: dict) -> str:
    """``--period name=P,...`` with every period to full precision (2π is not 6.28319)."""
    return _q(",".join(f"{c}={float(p)!r}" for c, p in periodic.items()))


def _check_names(columns, notes: list) -> None:
    bad = [c for c in columns if any(ch in str(c) for ch in ",;=")]
    if bad:
        notes.append(f"column name(s) {', '.join(map(repr, bad[:3]))} contain ',', ';' or '=', which the CLI's "
                     "column lists cannot express: use the Python call (or rename them)")


class _Py:
    """A Python snippet built line by line."""

    def __init__(self, table: str):
        self.lines = ["import numpy as np", "import infoimb", "from infoimb import preprocess",
                      "from infoimb.io import read_table", "", f"df = read_table({table!r})"]

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _kw(pairs) -> str:
    """``k=v`` arguments, one per item, skipping those equal to the API's default (given as a
    third element)."""
    out = []
    for item in pairs:
        name, value = item[0], item[1]
        if len(item) > 2 and value == item[2]:
            continue
        out.append(f"{name}={value if isinstance(value, _Raw) else repr(value)}")
    return ", ".join(out)


class _Raw(str):
    """Code, not a value (written as is by :func:`_kw`)."""


def _categorical(s: dict, meta, used) -> tuple[list, list]:
    """(the categorical columns among ``used``: text columns and the codes the Data page marked,
    the marked codes alone: ``categorical=`` of the API)."""
    marked = [c for c in s.get("categorical") or [] if c in set(used)]
    text = {c["column"] for c in (meta or {}).get("summary", []) if c.get("kind") == "text"}
    return [c for c in dict.fromkeys(used) if c in text or c in marked], marked


def _prepare_rows(py: _Py, used, scaling: str, periodic: dict, *, drop: bool = True, categorical=()) -> None:
    """The dashboard's preparation of the used columns: as floats, the rows with a value in
    every one of them (``drop``), then the scaling (periodic columns keep their units).
    ``categorical`` columns (text, marked codes) are neither converted nor scaled."""
    used = list(dict.fromkeys(used))
    cats = [c for c in used if c in set(categorical or ())]
    py.add(f"used = {used!r}")
    conv = "used"
    if cats:
        py.add(f"numeric = {[c for c in used if c not in cats]!r}  # {', '.join(cats)}: categories, compared "
               "by equality, never scaled")
        conv = "numeric"
    if drop:
        py.add(f"df[{conv}] = df[{conv}].astype(float)")
        py.add("df = preprocess.drop_missing(df, used)[0].reset_index(drop=True)  # rows with every used value")
    else:
        py.add(f"df[{conv}] = df[{conv}].astype(float).replace([np.inf, -np.inf], np.nan)  # a lag pairs rows by "
               "time: none dropped")
    to_scale = [c for c in used if c not in (periodic or {}) and c not in cats]
    if scaling not in (None, "none") and to_scale:
        what = "periodic columns keep their units" if len(to_scale) < len(used) else "the dashboard's scaling"
        py.add(f"df = preprocess.scale(df, {to_scale!r}, {scaling!r})  # {what}")


def _scale_flags(scaling: str, *, drop: bool = True, rows=None) -> list[str]:
    """--scale and --drop-missing (``rows``: the columns whose missing values drop a row, when
    more than the command's own)."""
    out = []
    if scaling not in (None, "none"):
        out += ["--scale", scaling]
    if drop:
        out.append(f"--drop-missing={_cols(rows)}" if rows else "--drop-missing")
    return out


def _nq_flag(nq) -> list[str]:
    return [] if nq is None else ["--n-queries", str(nq)]


def _matrix_entry(meta: dict | None, mid: str) -> dict:
    for m in (meta or {}).get("matrices") or []:
        if m.get("id") == mid:
            return m
    return {"filename": f"{mid}.npy", "name": mid, "tie": "row order", "symmetric": True}


def _matrix_py(entry: dict) -> str:
    kw = [f"n=len(df)"]
    tie = str(entry.get("tie") or "")
    if tie.startswith("id column "):
        col = tie[len("id column "):]
        kw += [f"ids={col!r}", f"id_order=df[{col!r}].tolist()"]
    if entry.get("symmetric") is False:
        kw.append("symmetric=False")
    return f"infoimb.load_distance_matrix({entry.get('filename')!r}, {', '.join(kw)})"


def _matrix_flags(entry: dict) -> list[str]:
    out = []
    tie = str(entry.get("tie") or "")
    if tie.startswith("id column "):
        out += ["--id-column", _q(tie[len("id column "):])]
    if entry.get("symmetric") is False:
        out.append("--asymmetric")
    return out


_MATRIX_ROWS_NOTE = ("rows with missing values were left out of the distance matrix too (the Python call does "
                     "the same); for the CLI, drop them from the table and the matrix file first")


def _keep_rows(py: _Py, used) -> None:
    py.add(f"keep = np.isfinite(df[{list(used)!r}].astype(float).to_numpy()).all(axis=1)  # the rows the analysis "
           "uses")


def _subset(var: str) -> str:
    return f"infoimb.DistanceMatrix({var}.values[np.ix_(keep, keep)], {var}.name)"


# --------------------------------------------------------------------------------------
# one builder per analysis: (python, cli args, notes)
# --------------------------------------------------------------------------------------
def _compare(s: dict, res: dict, table: str, meta) -> tuple[str, list, list]:
    from .analyses.imbalance import pair_metric

    notes: list[str] = []
    a, b = s["a"], s["b"]
    pair = {"a_matrix": a.get("matrix"), "b_matrix": b.get("matrix")}
    metric = pair_metric(s, pair)
    cols_a, cols_b = list(a["columns"]), list(b["columns"])
    periodic = s.get("periodic") or {}
    per = {c: p for c, p in periodic.items() if c in cols_a or c in cols_b}
    # the rows the dashboard used: finite in every column of the plane's pairs
    used = list(dict.fromkeys(cols_a + cols_b + (list(s.get("full") or []) if s.get("extras") else [])
                              + [c for g in s.get("groups") or [] for c in g.get("columns", [])]))
    py = _Py(table)
    subset = bool(res.get("dropped_rows")) and bool(used) and bool(a.get("matrix") or b.get("matrix"))
    if subset:  # a matrix belongs to every row of the table: load it first, keep the rows used
        _keep_rows(py, used)
        for side, space in (("a", a), ("b", b)):
            if space.get("matrix"):
                py.add(f"{side}_all = {_matrix_py(_matrix_entry(meta, space['matrix']))}")
    cats, marked = _categorical(s, meta, used)
    marked = [c for c in marked if c in cols_a + cols_b]  # categorical= names columns of A or B
    if used:
        _prepare_rows(py, used, s["scaling"], periodic, categorical=cats)
    flags: list[str] = []
    for side, space, cols in (("a", a, cols_a), ("b", b, cols_b)):
        if space.get("matrix"):
            entry = _matrix_entry(meta, space["matrix"])
            if subset:
                py.add(f"{side} = {_subset(side + '_all')}  # the uploaded distance matrix {entry.get('name')!r}")
            else:
                py.add(f"{side} = {_matrix_py(entry)}  # the uploaded distance matrix {entry.get('name')!r}")
            flags += [f"--{side}-distances", _q(entry.get("filename"))]
            flags += [f for f in _matrix_flags(entry) if f not in flags]
            if subset:
                notes.append(_MATRIX_ROWS_NOTE)
        else:
            py.add(f"{side} = df[{cols!r}]")
            flags += [f"--{side}", _cols(cols)]
            _check_names(cols, notes)
    kw = [("k", s["k"]), ("metric", metric)]
    if per:
        kw.append(("period", per))
    if marked:
        kw.append(("categorical", marked))
        flags += ["--categorical", _cols(marked)]
    kw += [("n_queries", s["n_queries"], None), ("random_state", s["random_state"]),
           ("n_permutations", s.get("n_permutations", 0), 0)]
    if s.get("entity"):
        py.add(f"groups = df[{s['entity']!r}].astype(str).to_numpy()  # the entity of every row")
        kw.append(("groups", _Raw("groups")))
        if s.get("time"):
            py.add(f"times = df[{s['time']!r}].to_numpy()")
            kw.append(("times", _Raw("times")))
    for name, default in (("confidence", 0.95), ("n_bootstrap", 1000), ("alpha", 0.05)):
        if name in s:
            kw.append((name, s[name], default))
    py.add(f"result = infoimb.imbalance_pair(a, b, {_kw(kw)})")
    py.add('print(f"Δ(A→B) = {result.a_to_b:.6f}, Δ(B→A) = {result.b_to_a:.6f}, relation: {result.relation}")')
    if isinstance(metric, tuple):
        flags += ["--metric-a", metric[0], "--metric-b", metric[1]]
    else:
        flags += ["--metric", metric]
    flags += ["--k", str(s["k"])] + _nq_flag(s["n_queries"]) + ["--seed", str(s["random_state"])]
    if per:
        flags += ["--period", _periods(per)]
    if s.get("n_permutations"):
        flags += ["--permutations", str(s["n_permutations"])]
    if s.get("entity"):
        flags += ["--groups", _q(s["entity"])] + (["--times", _q(s["time"])] if s.get("time") else [])
    if not a.get("matrix") and not b.get("matrix"):
        more = [c for c in used if c not in cols_a + cols_b]
        flags += _scale_flags(s["scaling"], rows=used if more else None)
    elif cols_a or cols_b:
        flags += _scale_flags(s["scaling"], drop=False)
    if len(res.get("pairs") or []) > 1:
        notes.append("these commands give the main pair (A vs B); the plane's other pairs are the same call "
                     "with the full space and each feature or group")
    return py.text(), ["pair", _q(table), *flags], notes


def _select(s: dict, res: dict, table: str, meta) -> tuple[str, list, list]:
    notes: list[str] = []
    cand = list(s["candidates"]["columns"])
    target = list(s["target"]["columns"]) if s.get("target") else None
    periodic = s.get("periodic") or {}
    _check_names(cand + (target or []), notes)
    py = _Py(table)
    lag = s.get("lag") or 0
    cats, marked = _categorical(s, meta, cand + (target or []))
    _prepare_rows(py, cand + (target or []), s["scaling"], periodic, drop=not lag, categorical=cats)
    kw = [("method", s["method"]), ("max_features", s["max_features"]), ("criterion", s["criterion"], "a_to_b"),
          ("k", s["k"]), ("n_queries", s["n_queries"], None), ("n_random", s["n_random"], 0),
          ("dummy", s["dummy"], False)]
    m_a = s.get("metric", "auto")
    m_b = s.get("metric_b", m_a)
    metric = m_a if m_a == m_b else (m_a, m_b)  # of the candidates and of the target
    kw.append(("metric", metric, "auto"))
    if marked:
        kw.append(("categorical", marked))
    if lag and cats:
        notes.append(f"the lagged pairs need numbers: the dashboard compares {', '.join(cats)} by equality of "
                     "their codes; these commands do not cover that")
    if periodic:
        kw.append(("period", periodic))
    kw.append(("random_state", s["random_state"]))
    if s.get("n_best"):
        kw.append(("n_best", s["n_best"]))
    if s.get("max_subsets"):
        kw.append(("max_subsets", s["max_subsets"]))
    for name, default in (("n_splits", 0), ("confidence", 0.95), ("n_bootstrap", 1000), ("tolerance", 0.01)):
        if name in s:
            kw.append((name, s[name], default))
    flags = ["--candidates", _cols(cand)] + (["--target", _cols(target)] if target else [])
    flags += ["--method", s["method"], "--max-features", str(s["max_features"])]
    if isinstance(metric, tuple):
        flags += ["--metric-a", metric[0], "--metric-b", metric[1]]
    elif metric != "auto":
        flags += ["--metric", metric]
    if marked:
        flags += ["--categorical", _cols(marked)]
    if s["criterion"] != "a_to_b":
        flags += ["--criterion", s["criterion"]]
    flags += ["--k", str(s["k"])] + _nq_flag(s["n_queries"])
    if s.get("n_random"):
        flags += ["--n-random", str(s["n_random"])]
    if s.get("dummy"):
        flags.append("--dummy")
    if periodic:
        flags += ["--period", _periods(periodic)]
    flags += ["--seed", str(s["random_state"])]
    if s.get("n_best"):
        flags += ["--n-best", str(s["n_best"])]
    if s.get("max_subsets"):
        flags += ["--max-subsets", str(s["max_subsets"])]
    if s.get("n_splits"):
        flags += ["--splits", str(s["n_splits"])]
    if lag:
        group = s.get("entity")
        py.add(f"result = infoimb.select_lagged(df, {cand!r}, {target!r}, lag={lag}, time={s['time']!r}, "
               f"group={group!r}, {_kw(kw)})")
        flags += ["--lag", str(lag), "--time", _q(s["time"])] + (["--groups", _q(group)] if group else [])
        flags += _scale_flags(s["scaling"], drop=False)
        if _numeric_step(res.get("step")):
            _steps(py, s["time"], _numeric_step(res.get("step")))
            notes.append(_STEP_NOTE.format(step=res.get("step")))
    else:
        if s.get("entity_groups"):
            py.add(f"groups = df[{s['entity_groups']!r}].astype(str).to_numpy()  # the entity of every row")
            kw.append(("groups", _Raw("groups")))
            flags += ["--groups", _q(s["entity_groups"])]
        x = f"df[{cand!r}]"
        y = "None" if target is None else f"df[{target!r}]"
        py.add(f"result = infoimb.select_features({x}, {y}, {_kw(kw)})")
        flags += _scale_flags(s["scaling"])
    py.add("for step in result.steps:")
    py.add('    print(step.size, step.features, f"Δ = {step.a_to_b:.6f}")')
    py.add('print("suggested:", result.selected)')
    if s.get("baselines"):
        notes.append("the baselines shown beside the selection are not part of these commands")
    return py.text(), ["select", _q(table), *flags], notes


_STEP_NOTE = ("the time column is numeric with a step of {step}: the dashboard counts lags in steps (the Python "
              "call converts it); for the CLI, give it a time column in steps (0, 1, 2, ...)")


def _numeric_step(step) -> float | None:
    """The step of a numeric time column the dashboard turned into a step index (0, 1, 2, ...),
    or None (dates, or a step of 1: used as is)."""
    m = re.match(r"^([0-9.eE+-]+) in ", str(step or ""))
    if not m:
        return None
    value = float(m.group(1))
    return None if value == 1.0 else value


def _steps(py: _Py, time: str, step: float) -> None:
    """The dashboard's step index of a numeric time column: a lag counts steps."""
    py.add(f"df[{time!r}] = ((df[{time!r}].astype(float) - df[{time!r}].min()) / {step!r}).round().astype('int64')"
           f"  # lags count steps of {step:g}")


def _lags(s: dict, res: dict, table: str, meta) -> tuple[str, list, list]:
    notes: list[str] = []
    src, tgt = list(s["source"]["columns"]), list(s["target"]["columns"])
    sel = s.get("selection")
    cand = list(sel["candidates"]["columns"]) if sel else []
    _check_names(src + tgt + cand, notes)
    py = _Py(table)
    cats, _ = _categorical(s, meta, src + tgt + cand)
    if cats:
        notes.append(f"the lag scan pairs numbers: the dashboard compares {', '.join(cats)} by equality of their "
                     "codes; these commands do not cover that")
    _prepare_rows(py, src + tgt + cand, s["scaling"], {}, drop=False, categorical=cats)
    if _numeric_step(res.get("step")):
        _steps(py, s["time"], _numeric_step(res.get("step")))
    lo, hi = s["lag_min"], s["lag_max"]
    kw = [("time", s["time"]), ("group", s.get("entity")), ("k", s["k"]), ("n_queries", s["n_queries"], None),
          ("random_state", s["random_state"]), ("n_permutations", s.get("n_permutations", 0), 0)]
    for name, default in (("n_splits", 0), ("n_bootstrap", 1000), ("confidence", 0.95), ("alpha", 0.05)):
        if name in s:
            kw.append((name, s[name], default))
    py.add(f"scan = infoimb.lag_scan(df, {src!r}, {tgt!r}, lags=range({lo}, {hi + 1}), {_kw(kw)})")
    py.add('print("best lag:", scan.best_lag)')
    py.add("print(scan.to_frame())")
    flags = ["--source", _cols(src), "--target", _cols(tgt), "--time", _q(s["time"])]
    if s.get("entity"):
        flags += ["--group", _q(s["entity"])]
    flags += [f"--lags={lo}:{hi}", "--k", str(s["k"])] + _nq_flag(s["n_queries"]) + ["--seed", str(s["random_state"])]
    if s.get("n_permutations"):
        flags += ["--permutations", str(s["n_permutations"])]
    if s.get("n_splits"):
        flags += ["--splits", str(s["n_splits"])]
    flags += _scale_flags(s["scaling"], drop=False)
    if sel:
        lag = "scan.best_lag" if sel["lag"] == BEST else str(int(sel["lag"]))
        skw = [("time", s["time"]), ("group", s.get("entity")), ("method", "greedy"),
               ("max_features", sel["max_features"]), ("k", s["k"]), ("n_queries", s["n_queries"], None),
               ("dummy", True), ("random_state", s["random_state"])]
        py.add(f"selection = infoimb.select_lagged(df, {cand!r}, {tgt!r}, lag={lag}, {_kw(skw)})")
        py.add('print("selected:", selection.selected)')
        flags += ["--select-lag", str(sel["lag"]), "--candidates", _cols(cand),
                  "--select-max-features", str(sel["max_features"]), "--select-dummy"]
    py.add("result = scan")
    if _numeric_step(res.get("step")):
        notes.append(_STEP_NOTE.format(step=res.get("step")))
    return py.text(), ["lags", _q(table), *flags], notes


def _causality(s: dict, res: dict, table: str, meta) -> tuple[str, list, list]:
    notes: list[str] = []
    cause, effect = list(s["cause"]["columns"]), list(s["effect"]["columns"])
    cond = list(s["conditioning"]["columns"]) if s.get("conditioning") else []
    _check_names(cause + effect + cond, notes)
    py = _Py(table)
    flags = ["--cause", _cols(cause), "--effect", _cols(effect)]
    if cond:
        flags += ["--conditioning", _cols(cond)]
    if s.get("entity"):
        py.add(f"df = df[df[{s['entity']!r}].astype(str) == {str(s['entity_value'])!r}]  # one entity's series")
        flags += ["--group", _q(s["entity"]), "--entity", _q(s["entity_value"])]
    if s.get("time"):
        py.add(f"df = df.sort_values({s['time']!r}, kind='stable').reset_index(drop=True)  # in time order")
        flags += ["--time", _q(s["time"])]
    periodic = s.get("periodic") or {}
    _prepare_rows(py, cause + effect + cond, s["scaling"], periodic)
    if periodic and s["scaling"] not in (None, "none"):
        notes.append("periodic columns are not rescaled by the dashboard; the CLI's --scale rescales every used "
                     "column: use the Python call")
    kw = [("tau", s["tau"]), ("alphas", _Raw(f"np.linspace(0, 1, {s['n_alpha']})")), ("k", s["k"])]
    if cond:
        kw.append(("conditioning", _Raw(f"df[{cond!r}]")))
    if s.get("embedding"):
        kw.append(("embedding", tuple(s["embedding"])))
    kw += [("n_queries", s["n_queries"], None), ("random_state", s["random_state"]),
           ("n_surrogates", s.get("n_surrogates", 0), 0), ("min_gain", s.get("min_gain", 0.05), 0.05),
           ("z", s.get("z", 3.0), 3.0), ("level", s.get("level", 0.05), 0.05)]
    py.add(f"result = infoimb.causality_test(df[{cause!r}], df[{effect!r}], {_kw(kw)})")
    py.add('print(f"IG(X→Y) = {result.x_to_y.gain:.6f}, IG(Y→X) = {result.y_to_x.gain:.6f}, {result.verdict}")')
    flags += ["--tau", str(s["tau"]), "--k", str(s["k"]), "--n-alphas", str(s["n_alpha"])]
    if s.get("embedding"):
        flags += ["--embedding", f"{s['embedding'][0]},{s['embedding'][1]}"]
    flags += _nq_flag(s["n_queries"]) + ["--seed", str(s["random_state"])]
    if s.get("n_surrogates"):
        flags += ["--surrogates", str(s["n_surrogates"])]
    if (s.get("min_gain", 0.05), s.get("z", 3.0), s.get("level", 0.05)) != (0.05, 3.0, 0.05):
        notes.append("the verdict's thresholds (min_gain, z, level) differ from the CLI's: use the Python call")
    flags += _scale_flags(s["scaling"])
    return py.text(), ["causality", _q(table), *flags], notes


def _graph(s: dict, res: dict, table: str, meta) -> tuple[str, list, list]:
    notes: list[str] = []
    variables = {str(k): list(v) for k, v in s["variables"].items()}
    _check_names([c for v in variables.values() for c in v] + list(variables), notes)
    py = _Py(table)
    py.add(f"variables = {variables!r}")
    kw = [("taus", list(s["taus"]))]
    if s.get("embedding"):
        kw.append(("embedding", tuple(s["embedding"])))
    kw += [("k", s["k"]), ("alphas", _Raw(f"np.linspace(0, 1, {s['n_alpha']})")), ("group", s.get("entity"), None),
           ("time", s.get("time"), None), ("n_surrogates", s["n_surrogates"]), ("alpha", s["alpha"]),
           ("n_queries", s["n_queries"], None), ("random_state", s["random_state"])]
    py.add(f"result = infoimb.causal_graph(df, variables, {_kw(kw)})")
    py.add("print(result.edges)")
    spec = ";".join(f"{name}={','.join(cols)}" for name, cols in variables.items())
    flags = ["--variables", _q(spec), "--tau", ",".join(map(str, s["taus"])), "--k", str(s["k"]),
             "--n-alphas", str(s["n_alpha"]), "--surrogates", str(s["n_surrogates"]), "--alpha", f"{s['alpha']:g}"]
    if s.get("embedding"):
        flags += ["--embedding", f"{s['embedding'][0]},{s['embedding'][1]}"]
    if s.get("entity"):
        flags += ["--group", _q(s["entity"])]
    if s.get("time"):
        flags += ["--time", _q(s["time"])]
    flags += _nq_flag(s["n_queries"]) + ["--seed", str(s["random_state"])]
    return py.text(), ["graph", _q(table), *flags], notes


def _weights(s: dict, res: dict, table: str, meta) -> tuple[str, list, list]:
    notes: list[str] = []
    a, b = list(s["a"]["columns"]), list(s["b"]["columns"])
    periodic = s.get("periodic") or {}
    _check_names(a + b, notes)
    py = _Py(table)
    cats, marked = _categorical(s, meta, a + b)
    _prepare_rows(py, a + b, s["scaling"], periodic, categorical=cats)
    if marked:  # the API has no categorical= here: codes as objects are compared by equality
        py.add(f"df[{marked!r}] = df[{marked!r}].astype(object)  # codes compared by equality")
        notes.append(f"the command line compares {', '.join(marked)} as numbers (it has no --categorical for "
                     "this analysis); the Python call compares them by equality, as the page did")
    kw = [("method", s["method"]), ("k", s["k"])]
    if periodic:
        kw.append(("period", periodic))
    kw.append(("n_queries", s["n_queries"], None))
    if s["method"] == "dii":
        kw += [("n_iter", s["n_iter"]), ("l1", s["l1"], 0.0)]
    if s.get("max_evaluations"):
        kw.append(("max_evaluations", s["max_evaluations"]))
    kw.append(("n_resamples", s.get("n_resamples", 0), 0))  # the weights' standard errors (weights_se)
    kw.append(("random_state", s["random_state"]))
    py.add(f"result = infoimb.optimize_weights(df[{a!r}], df[{b!r}], {_kw(kw)})")
    py.add("print(dict(zip(result.columns, result.weights)), result.delta_before, result.delta_after)")
    flags = ["--a", _cols(a), "--b", _cols(b), "--method", s["method"], "--k", str(s["k"])]
    flags += _nq_flag(s["n_queries"])
    if s["method"] == "dii":
        flags += ["--n-iter", str(s["n_iter"])] + (["--l1", f"{s['l1']!r}"] if s["l1"] else [])
    if s.get("max_evaluations"):
        flags += ["--max-evaluations", str(s["max_evaluations"])]
    if s.get("n_resamples"):
        flags += ["--n-resamples", str(s["n_resamples"])]
    if periodic:
        flags += ["--period", _periods(periodic)]
    flags += ["--seed", str(s["random_state"])] + _scale_flags(s["scaling"])
    return py.text(), ["weights", _q(table), *flags], notes


def _matrix(s: dict, res: dict, table: str, meta) -> tuple[str, list, list]:
    notes: list[str] = []
    columns = list(dict.fromkeys(c for sp in s["spaces"] for c in sp["columns"]))
    _check_names(columns + [sp["label"] for sp in s["spaces"]], notes)
    py = _Py(table)
    has_matrix = any(sp.get("matrix") for sp in s["spaces"])
    subset = has_matrix and bool(columns) and bool(res.get("dropped_rows"))
    if subset:  # a matrix belongs to every row of the table: load it first, keep the rows used
        _keep_rows(py, columns)
        for i, sp in enumerate(s["spaces"]):
            if sp.get("matrix"):
                py.add(f"m{i} = {_matrix_py(_matrix_entry(meta, sp['matrix']))}")
        notes.append(_MATRIX_ROWS_NOTE)
    cats, marked = _categorical(s, meta, columns)
    if columns:
        _prepare_rows(py, columns, s["scaling"], {}, drop=True, categorical=cats)
    if marked:  # the API has no categorical= here: codes as objects are compared by equality
        py.add(f"df[{marked!r}] = df[{marked!r}].astype(object)  # codes compared by equality")
        notes.append(f"the command line compares {', '.join(marked)} as numbers (it has no --categorical for "
                     "this analysis); the Python call compares them by equality, as the page did")
    py.add("spaces = {")
    specs, extra = [], []
    for i, sp in enumerate(s["spaces"]):
        if sp.get("matrix"):
            entry = _matrix_entry(meta, sp["matrix"])
            py.add(f"    {sp['label']!r}: {_subset(f'm{i}') if subset else _matrix_py(entry)},")
            specs.append(f"{sp['label']}=@{entry.get('filename')}")
            extra += [f for f in _matrix_flags(entry) if f not in extra]
        else:
            if set(sp["columns"]) & set(cats):  # categories: the DataFrame, compared by equality
                py.add(f"    {sp['label']!r}: df[{list(sp['columns'])!r}],")
            else:
                py.add(f"    {sp['label']!r}: df[{list(sp['columns'])!r}].to_numpy(dtype=float),")
            specs.append(f"{sp['label']}={','.join(sp['columns'])}")
    py.add("}")
    kw = [("k", s["k"]), ("metric", s.get("metrics") or s["metric"]), ("n_queries", s["n_queries"], None),
          ("random_state", s["random_state"])]
    py.add(f"result = infoimb.imbalance_matrix(spaces, {_kw(kw)})")
    py.add("print(result.delta)")
    flags = ["--spaces", _q(";".join(specs)), "--k", str(s["k"]), "--metric", s["metric"]]
    flags += _nq_flag(s["n_queries"]) + ["--seed", str(s["random_state"])] + extra
    flags += _scale_flags(s["scaling"], drop=bool(columns))
    return py.text(), ["matrix", _q(table), *flags], notes


_BUILDERS = {"compare": _compare, "select": _select, "lags": _lags, "causality": _causality, "graph": _graph,
             "scales": _weights, "weights": _weights, "matrix": _matrix}


def reproduce(record: dict, meta: dict | None) -> Reproduction:
    """The Python snippet and the CLI command that reproduce ``record`` (a stored result of
    :func:`infoimb.web.jobs.runner.run_job`) from the same table and settings. ``meta``: the
    session's metadata (which file the user has; the uploaded distance matrices' files).

    Raises
    ------
    ValueError
        An analysis this module does not know (the message names it).
    """
    name = record.get("analysis")
    builder = _BUILDERS.get(name)
    if builder is None:
        raise ValueError(f"analysis {name!r} has no reproduction (known: {', '.join(sorted(_BUILDERS))})")
    table, working = table_file(record, meta)
    python, argv, notes = builder(record["settings"], record.get("result") or {}, table, meta)
    cli = " ".join(["infoimb", *argv, "--json"])
    ds = record.get("dataset") or {}
    if working and ds.get("source") == "example" and (meta or {}).get("example") and \
            ((meta or {}).get("original") or {}).get("content_hash") == ds.get("content_hash"):
        # an example as generated: the CLI writes the same table
        first = f"infoimb example {meta['example']} --n {meta.get('example_n')} --seed 0 -o {_q(table)}"
        cli = first + "\n" + cli
    return Reproduction(python=python, cli=cli, table=table, working=working, notes=tuple(notes))


# --------------------------------------------------------------------------------------
# the block under a result
# --------------------------------------------------------------------------------------
def block(record: dict, meta: dict | None, analysis: str):
    """The "Reproduce" block under a result: the Python call and the CLI command, each with a
    copy button (``dcc.Clipboard``), and which table they read."""
    import dash_bootstrap_components as dbc
    from dash import dcc, html

    from . import ids

    try:
        r = reproduce(record, meta)
    except (KeyError, TypeError, ValueError) as err:
        return html.Div(f"No reproduction for this result ({err}).", className="small text-muted mt-3")
    ds = record.get("dataset") or {}
    if r.working:
        button = "the “working table (CSV)” button below the results"
        where = [html.Span("They read "), html.Code(r.table), html.Span(
            f": the working table (the example as generated: the first command line writes it, or {button})."
            if r.cli.startswith("infoimb example") else
            f": the working table after the Data page's steps on {ds.get('filename')}. Download it with {button}.")]
    else:
        where = [html.Span("They read "), html.Code(r.table), html.Span(", the file you uploaded, unchanged.")]

    def code(kind: str, label: str, text: str):
        cid = ids.repro_code(kind, analysis)
        return html.Div([
            html.Div([html.Span(label, className="small fw-semibold me-2"),
                      dcc.Clipboard(target_id=cid, title=f"copy the {label}", className="repro-copy",
                                    id=ids.repro_copy(kind, analysis))],
                     className="d-flex align-items-center"),
            html.Pre(text, id=cid, className="repro-code small p-2 mb-2 bg-light border rounded",
                     style={"whiteSpace": "pre-wrap", "wordBreak": "break-word", "maxHeight": "320px",
                            "overflowY": "auto"}),
        ])

    return dbc.Card(dbc.CardBody([
        html.H6("Reproduce", className="mb-1"),
        html.Div(["The same numbers from a script or a terminal, with the same table and settings. ", *where],
                 className="small text-muted mb-2"),
        code("python", "Python", r.python),
        code("cli", "Command line", r.cli),
        *([html.Ul([html.Li(n) for n in r.notes], className="small text-warning mb-0")] if r.notes else []),
    ]), className="mt-3 repro-block", id=ids.job(ids.REPRO_BLOCK, analysis))


def attach(children, record: dict, store, sid, analysis: str) -> list:
    """``children`` (a result's rendering) with the Reproduce block appended."""
    try:
        meta = store.get_meta(sid) if sid else None
    except Exception:  # noqa: BLE001 - an expired session: the block still shows the commands
        meta = None
    items = list(children) if isinstance(children, (list, tuple)) else [children]
    return [*items, block(record, meta, analysis)]


def download_parts(analysis: str) -> list:
    """The "Download the working table (CSV)" button and its download (in the card's download row)."""
    import dash_bootstrap_components as dbc
    from dash import dcc

    from . import ids

    return [dbc.Button("working table (CSV)", id=ids.job(ids.REPRO_TABLE, analysis), size="sm", color="secondary",
                       outline=True, className="ms-1", title="Download the working table (CSV): the table the "
                       "Reproduce commands read"),
            dcc.Download(id=ids.job(ids.REPRO_DOWNLOAD, analysis))]


def table_download(store, sid, analysis: str, shown) -> dict | None:
    """The dcc.Download payload of the working table of the record on display (None: no record,
    or its table is no longer stored)."""
    from dash import dcc

    if not isinstance(shown, dict) or not shown.get("key") or not shown.get("content_hash"):
        return None
    h = shown["content_hash"]
    try:
        record = store.get_result(sid, h, analysis, shown["key"])
        if record is None:
            return None
        df = store.get_dataset(sid, meta={"content_hash": h, "original": {"content_hash": h}})
    except Exception:  # noqa: BLE001 - expired session or a table replaced meanwhile
        return None
    return dcc.send_string(working_table_csv(df), working_table_name(record))


def register_callbacks(app, card) -> None:
    """The working-table download of ``card`` (an :class:`~infoimb.web.jobs.card.AnalysisCard`)."""
    from dash import Input, Output, State, no_update

    from . import ids
    from .sessions import current_sid

    n = card.name

    @app.callback(Output(ids.job(ids.REPRO_DOWNLOAD, n), "data"), Input(ids.job(ids.REPRO_TABLE, n), "n_clicks"),
                  State(ids.job(ids.SHOWN, n), "data"), prevent_initial_call=True)
    def _working_table(n_clicks, shown):
        if not n_clicks:
            return no_update
        payload = table_download(card.get_store(), current_sid(), n, shown)
        return no_update if payload is None else payload
