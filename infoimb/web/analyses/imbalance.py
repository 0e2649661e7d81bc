"""The "compare two spaces" analysis: Δ both ways, the relation, the plane, the ranks.

``prepare`` and ``run`` are registered with :func:`infoimb.web.jobs.register_analysis`;
``render`` draws a stored record (used by ``pages/compare.py``); ``to_csv`` gives the numbers.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ... import figures
from ..._validation import FEATURE_METRICS
from ...imbalance import imbalance_pair, rank_samples
from ...verdicts import RELATION_TEXT
from .. import fields
from .. import ids
from ..context import AnalysisInputError, FULL, space_options, check_spaces, clean_groups, feature_columns, prepare_frame, resolve_space
from ..inputs import n_queries_of, one_of, whole
from ..matrices import load_matrices, matrix_space
from ..jobs.runner import Analysis, JobContext, settings_header

NAME = "compare"
METRICS = FEATURE_METRICS  # the metrics a page offers (one list, in infoimb._validation)
EXTRAS = {
    "features": "full space ↔ each feature",
    "groups": "full space ↔ each group",
}
RANK_QUERIES = 2000
N_SCATTER = 100
N_PARTNERS = 50
RANDOM_STATE = 0


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings of a comparison from the page's inputs."""
    a = resolve_space(inputs.get("a"), ctx.meta, ctx.groups)
    b = resolve_space(inputs.get("b"), ctx.meta, ctx.groups)
    check_spaces(a, b, allow_overlap=True, allow_same=False)
    n = ctx.n_rows
    k = whole(inputs.get("k"), "k", 1, max(n - 1, 1), default=1)
    metric = one_of(inputs.get("metric"), "metric", METRICS, default="euclidean")
    n_queries = n_queries_of(inputs, n)  # None: exact (also when as many queries as points)
    extras = [e for e in (inputs.get("extras") or []) if e in EXTRAS]
    full = feature_columns(ctx.meta)
    columns = set(a.columns) | set(b.columns)
    n_pairs = 1
    if "features" in extras:
        n_pairs += len(full)
        columns |= set(full)
    if "groups" in extras:
        groups = [g for g in clean_groups(ctx.groups) if g["columns"] and set(g["columns"]) <= set(ctx.meta["columns"])]
        n_pairs += len(groups)
        columns |= set(full)
        for g in groups:
            columns |= set(g["columns"])
    ctx.check_subsets(n_pairs, "pairs of spaces")
    ctx.check_cells(len(columns))
    periodic = {c: p for c, p in ctx.periodic.items() if c in columns}
    if a.matrix is not None and b.matrix is not None:
        periodic = {}
    return {
        "a": a.to_dict(),
        "b": b.to_dict(),
        "k": k,
        "metric": metric,
        "n_queries": n_queries,
        "scaling": ctx.scaling,
        "periodic": periodic,
        "extras": extras,
        "full": full if extras else [],
        "groups": [g for g in clean_groups(ctx.groups)] if "groups" in extras else [],
        "random_state": RANDOM_STATE,
        "rank_queries": RANK_QUERIES,
    }


def full_is_a(settings: dict) -> bool:
    """Whether the extra pairs put the full space in A: yes, unless the main pair has the full
    space as B (then every point of the plane reads the same way: subset -> full)."""
    return settings["b"].get("value") != FULL


def _pairs(settings: dict) -> list[dict]:
    pairs = [{"series": "A vs B", "label": f"{settings['a']['label']} vs {settings['b']['label']}",
              "a": settings["a"]["columns"], "b": settings["b"]["columns"],
              "a_matrix": settings["a"].get("matrix"), "b_matrix": settings["b"].get("matrix")}]
    full = settings.get("full") or []
    full_a = full_is_a(settings)

    def pair(series, label, subset):
        if full_a:
            return {"series": f"full space vs each {series}", "label": label, "a": full, "b": subset}
        return {"series": f"each {series} vs full space", "label": label, "a": subset, "b": full}

    if "features" in settings["extras"]:
        for c in full:
            pairs.append(pair("feature", c, [c]))
    if "groups" in settings["extras"]:
        for g in settings.get("groups", []):
            if set(g["columns"]) == set(full):
                continue
            pairs.append(pair("group", g["name"], g["columns"]))
    return pairs


def load(store, sid, settings: dict) -> dict:
    """The uploaded distance matrices the comparison uses (read in the job, from the store)."""
    ids = [s.get("matrix") for s in (settings["a"], settings["b"]) if s.get("matrix")]
    return {"matrices": load_matrices(store, sid, ids)} if ids else {}


def _usable_rows(df: pd.DataFrame, columns) -> np.ndarray:
    """The rows ``prepare_frame`` keeps: finite in every one of ``columns``."""
    if not columns:
        return np.ones(df.shape[0], dtype=bool)
    values = df[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return np.isfinite(values).all(axis=1)


def run(df: pd.DataFrame, settings: dict, progress, matrices: dict | None = None) -> dict:
    """Δ both ways for the main pair (and the extra pairs), and the rank samples. ``matrices``:
    ``{id: (N, N) array}`` of the uploaded distance matrices the spaces name."""
    pairs = _pairs(settings)
    columns = list(dict.fromkeys(c for p in pairs for c in p["a"] + p["b"]))
    periodic = settings.get("periodic") or {}
    if columns:
        frame, dropped = prepare_frame(df, columns, settings["scaling"], periodic)
    else:  # two distance matrices: no features at all
        frame, dropped = pd.DataFrame(index=range(df.shape[0])), 0
    keep = _usable_rows(df, columns)
    if int(keep.sum()) != frame.shape[0]:  # pragma: no cover - the two row rules must agree
        raise AnalysisInputError("the rows with missing values could not be matched to the distance matrix")

    def side(p, which):
        mid = p.get(f"{which}_matrix")
        if mid:
            if not matrices or mid not in matrices:
                raise AnalysisInputError("the distance matrix is no longer stored: upload it again on the Data page")
            return matrix_space(matrices[mid], settings[which]["label"], keep)
        return frame[p[which]]

    n = int(frame.shape[0])
    k = settings["k"]
    if k >= n:
        raise AnalysisInputError(f"k = {k} must be smaller than the number of points ({n} after dropping "
                                 "rows with missing values)")
    nq = settings["n_queries"]
    if nq is not None and nq >= n:
        nq = None
    m = nq or n
    rank_q = min(settings.get("rank_queries", RANK_QUERIES), n)
    costs = [m * n * (len(p["a"]) + len(p["b"]) + 1) for p in pairs]
    main_d = len(pairs[0]["a"]) + len(pairs[0]["b"]) + 1
    costs.append(rank_q * n * main_d * 1.2)
    total = float(sum(costs))
    done = 0.0
    out_pairs = []
    progress(0.01, f"Δ for {pairs[0]['label']}")
    for i, p in enumerate(pairs):
        per = {c: v for c, v in periodic.items() if c in p["a"] or c in p["b"]} or None
        res = imbalance_pair(side(p, "a"), side(p, "b"), k=k, metric=settings["metric"], period=per,
                             n_queries=nq, random_state=settings["random_state"])
        out_pairs.append({**{kk: p[kk] for kk in ("series", "label")}, "a_columns": p["a"], "b_columns": p["b"],
                          **res.to_dict()})
        done += costs[i]
        nxt = pairs[i + 1]["label"] if i + 1 < len(pairs) else "ranks for the plots"
        progress(done / total, f"pair {i + 1} of {len(pairs)} done; next: {nxt}")
    a_cols, b_cols = pairs[0]["a"], pairs[0]["b"]
    per = {c: v for c, v in periodic.items() if c in a_cols or c in b_cols} or None
    rs = rank_samples(side(pairs[0], "a"), side(pairs[0], "b"), n_queries=rank_q, n_scatter=N_SCATTER,
                      n_partners=N_PARTNERS, metric=settings["metric"], period=per,
                      random_state=settings["random_state"])
    progress(1.0, "done")
    main = out_pairs[0]
    return {
        "n": n,
        "dropped_rows": dropped,
        "main": main,
        "relation_text": RELATION_TEXT[main["relation"]],
        "pairs": out_pairs,
        "ranks": {
            "n": int(rs.n),
            "n_queries": int(len(rs.query)),
            "rank_b_given_a1": np.round(rs.rank_b_given_a1, 3).tolist(),
            "rank_a_given_b1": np.round(rs.rank_a_given_b1, 3).tolist(),
            "rank_a": np.round(rs.rank_a, 2).tolist(),
            "rank_b": np.round(rs.rank_b, 2).tolist(),
        },
    }


def to_csv(record: dict) -> str:
    """The pairs as CSV, after ``# key: value`` lines saying how they were produced."""
    rows = []
    for p in record["result"]["pairs"]:
        rows.append({"series": p["series"], "label": p["label"], "a_columns": " ".join(p["a_columns"]),
                     "b_columns": " ".join(p["b_columns"]), "delta_a_to_b": p["a_to_b"],
                     "se_a_to_b": p["a_to_b_se"], "delta_b_to_a": p["b_to_a"], "se_b_to_a": p["b_to_a_se"],
                     "relation": p["relation"], "n": p["n"], "k": p["k"], "n_queries": p["n_queries"]})
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False, float_format="%.6g")
    return "\n".join(settings_header(record)) + "\n" + buf.getvalue()




# --------------------------------------------------------------------------------------
# drawing a record
# --------------------------------------------------------------------------------------
def caption(record: dict) -> str:
    s, res = record["settings"], record["result"]
    if s["a"].get("matrix") or s["b"].get("matrix"):  # say which side is a distance matrix
        s = dict(s, metric=", ".join(f"{side}: {'distance matrix' if s[side.lower()].get('matrix') else s['metric']}"
                                     for side in ("A", "B")))
    text = figures.settings_caption(s, {"filename": record["dataset"].get("filename") or "", "n_rows": res["n"]})
    if res.get("dropped_rows"):
        text += f" · {res['dropped_rows']} rows with missing values left out"
    return text


def build_figures(record: dict) -> dict:
    """The three figures of a comparison record (pure: used by the page and by tests)."""
    s, res = record["settings"], record["result"]
    cap = caption(record)
    a_name, b_name = s["a"]["label"], s["b"]["label"]
    points = [dict(p) for p in res["pairs"]]
    if len(points) > 1:
        what = " / ".join(w for w, key in (("feature", "features"), ("group", "groups")) if key in s["extras"])
        extra = f"A = full space, B = each {what}" if full_is_a(s) else f"A = each {what}, B = full space"
        b_name_plane = f"{b_name} · other points: {extra}"
    else:
        b_name_plane = b_name
    plane = figures.imbalance_plane(points, a_name=a_name, b_name=b_name_plane, caption=cap)
    r = res["ranks"]
    scatter = figures.rank_scatter(r["rank_a"], r["rank_b"], n=r["n"], a_name=a_name, b_name=b_name, caption=cap)
    hist = figures.conditional_rank_histograms(r["rank_b_given_a1"], r["rank_a_given_b1"], n=r["n"],
                                               a_name=a_name, b_name=b_name, caption=cap)
    return {"plane": plane, "ranks": scatter, "conditional": hist}


def summary(record: dict) -> dict:
    """The numbers and words of the summary line (pure)."""
    s, res = record["settings"], record["result"]
    m = res["main"]
    text = RELATION_TEXT[m["relation"]]
    return {
        "a": s["a"]["label"], "b": s["b"]["label"],
        "a_to_b": f"{m['a_to_b']:.4f} ± {m['a_to_b_se']:.4f}",
        "b_to_a": f"{m['b_to_a']:.4f} ± {m['b_to_a_se']:.4f}",
        "relation": m["relation"], "relation_text": text,
        "n": res["n"], "dropped": res.get("dropped_rows", 0),
    }


def _n_columns(space: dict) -> str:
    if space.get("matrix"):
        return "distance matrix"
    n = len(space["columns"])
    return f"{n} column{'s' if n != 1 else ''}"


def render(record: dict):
    """Dash children for a stored record: summary, plane, rank scatter, histograms, table."""
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    sm = summary(record)
    figs = build_figures(record)
    res = record["result"]
    s = record["settings"]
    colors = {"equivalent": "success", "a_contains_b": "primary", "b_contains_a": "warning",
              "symmetric": "info", "independent": "secondary"}
    head = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Div("Δ(A → B)", className="metric-label"),
                      html.Div(sm["a_to_b"], className="metric-value", id=ids.CMP_DELTA_AB)], className="metric"),
            html.Div([html.Div("Δ(B → A)", className="metric-label"),
                      html.Div(sm["b_to_a"], className="metric-value", id=ids.CMP_DELTA_BA)], className="metric"),
            html.Div([
                dbc.Badge(figures.REGION_NAMES[sm["relation"]], color=colors[sm["relation"]],
                          className="relation-badge", id=ids.CMP_RELATION),
                html.Div(sm["relation_text"], className="relation-text", id=ids.CMP_RELATION_TEXT),
            ], className="relation"),
        ], className="metrics-row"),
        html.Div([
            html.Span("A = ", className="text-muted"), html.Strong(sm["a"]),
            html.Span(f" ({_n_columns(s['a'])})", className="text-muted"),
            html.Span(" · B = ", className="text-muted ms-1"), html.Strong(sm["b"]),
            html.Span(f" ({_n_columns(s['b'])})", className="text-muted"),
            html.Span(f" · N = {sm['n']}" + (f" ({sm['dropped']} rows with missing values left out)"
                                              if sm["dropped"] else ""), className="text-muted"),
        ], className="small mt-2"),
        *([html.Div("; ".join(record["warnings"]), className="small text-warning mt-1")]
          if record.get("warnings") else []),
    ]), className="mb-3 summary-card")
    blocks = [
        head,
        dbc.Row([
            dbc.Col(figure_block("plane", figs["plane"]), lg=6),
            dbc.Col(figure_block("ranks", figs["ranks"]), lg=6),
        ], className="g-3"),
        dbc.Row(dbc.Col(figure_block("conditional", figs["conditional"]), width=12), className="g-3 mt-1"),
    ]
    if len(res["pairs"]) > 1:
        rows = [{"series": p["series"], "pair": p["label"], "Δ(A→B)": round(p["a_to_b"], 4),
                 "± (A→B)": round(p["a_to_b_se"], 4), "Δ(B→A)": round(p["b_to_a"], 4),
                 "± (B→A)": round(p["b_to_a_se"], 4), "relation": figures.REGION_NAMES[p["relation"]]}
                for p in res["pairs"]]
        blocks.append(html.Div([
            html.H6("All pairs on the plane", className="mt-3"),
            table(list(rows[0]), rows, max_height=320, id=ids.CMP_PAIRS_TABLE),
        ]))
    return blocks


__all__ = ["ANALYSIS", "EXTRAS", "FORM", "FULL", "METRICS", "build_figures", "defaults", "prepare", "render", "run",
           "summary", "to_csv"]


# ---- the page's inputs ---------------------------------------------------------------
def defaults(meta: dict, groups) -> dict:
    """The spaces a comparison starts with: B = the full space, A = the first group (or else
    feature) that is not the full space itself."""
    enabled = [o["value"] for o in space_options(meta, groups, matrices=True) if not o.get("disabled")]
    full = set(feature_columns(meta))
    by_name = {f"group:{g['name']}": set(g["columns"]) for g in clean_groups(groups)}
    candidates = [v for v in enabled if v.startswith("group:") and by_name.get(v) != full] + \
        [v for v in enabled if v.startswith("col:")]
    return {"a": candidates[0] if candidates else None, "b": FULL if FULL in enabled else None}


def finish(values: dict, meta: dict, groups) -> dict:
    """A and B never start as the same space."""
    if values["a"] is not None and values["a"] == values["b"]:
        da = defaults(meta, groups)["a"]
        valid = [o["value"] for o in space_options(meta, groups, matrices=True) if not o.get("disabled")]
        values = dict(values, a=da if da != values["b"] else next((v for v in valid if v != values["b"]), None))
    return values


def hint(meta: dict) -> str:
    return f"{meta['filename']}: {meta['n_rows']} points"


_SPACE = "a group, a feature or the full space"
FORM = (
    fields.SpaceField("a", ids.CMP_A, "Space A", placeholder=_SPACE, first=True, matrices=True),
    fields.SpaceField("b", ids.CMP_B, "Space B", placeholder=_SPACE, matrices=True),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Options"),
    fields.Row(fields.IntField("k", ids.CMP_K, "k", 1, low=1, width=5, what="the number of neighbours k"),
          fields.ChoiceField("metric", ids.CMP_METRIC, "metric", "euclidean", choices={m: m for m in METRICS}, width=7)),
    *fields.estimator_fields(ids.CMP_ESTIMATOR, ids.CMP_NQ),
    fields.FlagField("extras", ids.CMP_EXTRA, "plane", options_={k: "plane: add " + v for k, v in EXTRAS.items()}),
)

#: the declaration the card and the job runner use
ANALYSIS = Analysis(
    name=NAME, title="Compare two spaces", prepare=prepare, run=run, to_csv=to_csv, version=1, render=render,
    run_label="Compare", load=load, empty_text="Choose spaces A and B and press Compare.",
    form=FORM, defaults=defaults, finish=finish, hint=hint, hint_id=ids.CMP_HINT, restore_each=True,
    section="Two spaces", step="A", heading="Compare two spaces", page_class="compare-page",
    intro="Δ(A → B) is small when each point's nearest neighbour in A is also close in B: A predicts B.",
)
