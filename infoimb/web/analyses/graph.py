"""The "causal graph" analysis: which of many time series drive which (:func:`infoimb.causal_graph`).

Every ordered pair of variables is tested one step ahead with the imbalance gain against
circular-shift surrogates, each effect's candidate drivers are re-tested given each other
(indirect links and common causes drop out), and the links with a Benjamini-Hochberg q-value
at most α are the edges. A variable is a feature group or a single column; with none chosen,
every numeric feature column is a variable of its own. With an entity column (a panel), pairs
(t, t+1) are formed within entities and pooled.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd

from ... import figures, verdicts
from ...graph import MAX_VARIABLES, _variables, causal_graph
from .. import fields, ids
from .. import glossary  # the help texts shared by the pages (issue 9 §5)
from ..context import FULL, AnalysisInputError, categorical_columns, feature_columns
from ..inputs import check_lag, n_queries_of, numeric_only, series_length, space, time_entity, whole
from ..jobs.runner import Analysis, JobContext, settings_header

NAME = "graph"
RANDOM_STATE = 0
MAX_TAUS = 20


def parse_taus(value) -> list[int]:
    """Lags typed in a box: "1", "1, 2, 3" or a range "1-3" (whole numbers >= 1)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = "" if value is None else str(value).strip()
    if not text:
        return [1]
    out: list[int] = []
    for part in re.split(r"[,;\s]+", text):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise AnalysisInputError(f"the lags: the range {part!r} runs backwards")
            if hi - lo + 1 > MAX_TAUS:
                raise AnalysisInputError(f"the lags: {hi - lo + 1} lags are too many: test at most {MAX_TAUS}")
            out += list(range(lo, hi + 1))
        else:
            out.append(whole(part, "the lags", 1, None))
    if any(t < 1 for t in out):
        raise AnalysisInputError(f"the lags must be at least 1 step, got {min(out)}")
    out = sorted(set(out))
    if len(out) > MAX_TAUS:
        raise AnalysisInputError(f"the lags: {len(out)} lags are too many: test at most {MAX_TAUS}")
    return out


def _chosen(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings of a causal graph from the page's inputs."""
    time, entity = time_entity(ctx, inputs.get("time"), inputs.get("entity"), need_time=False,
                               what="a causal graph")
    chosen = _chosen(ANALYSIS.check(inputs, "variables"))
    roles = {c for c in (time, entity) if c}
    variables: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    if not chosen:
        cats = set(categorical_columns(ctx.meta))  # a causal graph needs numeric series
        for c in feature_columns(ctx.meta):
            if c not in roles and c not in cats:
                variables[str(c)] = [c]
                labels[str(c)] = f"col:{c}"
    else:
        owner: dict[str, str] = {}
        for value in chosen:
            if value == FULL:
                raise AnalysisInputError("the full space is not one variable: choose groups or single columns "
                                         "(or none: every numeric column is a variable)")
            s = space(value, ctx, "variable")
            if s.label in variables:
                raise AnalysisInputError(f"the variable {s.label!r} is chosen twice")
            for c in s.columns:
                if c in roles:
                    raise AnalysisInputError(f"variable {s.label!r} uses the time or entity column {c!r}")
                if c in owner:
                    raise AnalysisInputError(f"the variables {owner[c]!r} and {s.label!r} share the column {c!r}: "
                                             "a column belongs to one variable")
                owner[c] = s.label
            variables[s.label] = list(s.columns)
            labels[s.label] = s.value
    # the core's own checks and messages (at least 2, at most MAX_VARIABLES, no empty one)
    used = [c for cols in variables.values() for c in cols]
    numeric_only(ctx, used, "a causal graph (the imbalance gain)")
    shell = pd.DataFrame({c: pd.Series(dtype=float) for c in used})
    try:
        _variables(shell, variables if variables else {}, roles)
    except (TypeError, ValueError) as err:
        raise AnalysisInputError(str(err)) from None
    taus = parse_taus(ANALYSIS.check(inputs, "taus"))
    dim = ANALYSIS.check(inputs, "embed_dim")
    delay = ANALYSIS.check(inputs, "embed_delay") if dim > 1 else 1
    span = (dim - 1) * delay
    check_lag(max(taus) + span, ctx.meta, time, "the longest lag (with the embedding's span)")
    length = series_length(ctx.meta, time) if entity is None else ctx.n_rows
    k = whole(ANALYSIS.check(inputs, "k"), "the number of neighbours k", 1, max(length - max(taus) - span - 2, 1))
    n_alpha, n_surrogates, alpha = (ANALYSIS.check(inputs, name) for name in ("n_alpha", "n_surrogates", "alpha"))
    if 1.0 / (n_surrogates + 1) > alpha:
        raise AnalysisInputError(f"{n_surrogates} surrogates are too few for α = {alpha:g}: the smallest p-value is "
                                 f"1/(surrogates + 1); use at least {math.ceil(1 / alpha)}")
    n_queries = n_queries_of(inputs, ctx.n_rows)
    m = len(variables)
    ctx.check_cells(len(used) * dim)
    ctx.check_subsets(m * (m - 1) * len(taus), "ordered pairs × lags")
    return {
        "variables": variables,
        "values": labels,
        "taus": taus,
        "embedding": [dim, delay] if dim > 1 else None,
        "k": k,
        "n_alpha": n_alpha,
        "n_surrogates": n_surrogates,
        "alpha": alpha,
        "time": time,
        "entity": entity,
        "n_queries": n_queries,
        "random_state": RANDOM_STATE,
    }


def run(df: pd.DataFrame, settings: dict, progress) -> dict:
    """The causal graph of the chosen variables (a call of :func:`infoimb.causal_graph`)."""
    variables = {name: list(cols) for name, cols in settings["variables"].items()}
    used = [c for cols in variables.values() for c in cols]
    keep = list(dict.fromkeys([c for c in (settings["entity"], settings["time"]) if c] + used))
    progress(0.01, "preparing the series")
    frame = df[keep]
    g = causal_graph(frame, variables, taus=settings["taus"],
                     embedding=tuple(settings["embedding"]) if settings["embedding"] else None,
                     k=settings["k"], alphas=np.linspace(0.0, 1.0, settings["n_alpha"]),
                     group=settings["entity"], time=settings["time"],
                     n_surrogates=settings["n_surrogates"], alpha=settings["alpha"],
                     n_queries=settings["n_queries"], random_state=settings["random_state"],
                     progress=progress)
    out = g.to_dict()
    out["verdict_text"] = verdicts.causal_graph(g)  # the CLI prints the same sentence
    return out


def tested_frame(record: dict) -> pd.DataFrame:
    """Every ordered pair that was tested, with why it was kept or removed."""
    return pd.DataFrame(record["result"]["tested"])


def to_csv(record: dict) -> str:
    """Every tested ordered pair (edges and removed pairs, with the reason), after the settings."""
    res = record["result"]
    lines = settings_header(record)
    lines += [f"# {len(res['edges']['cause'])} direct link(s) among {len(res['variables'])} variables; "
              f"N = {res['n']} present/future pairs" + (f" in {res['n_entities']} entities" if res["n_entities"] > 1
                                                         else ""),
              f"# verdict: {res['verdict_text']}"]
    buf = io.StringIO()
    tested_frame(record).to_csv(buf, index=False, float_format="%.6g")
    return "\n".join(lines) + "\n" + buf.getvalue()


# --------------------------------------------------------------------------------------
# drawing a record
# --------------------------------------------------------------------------------------
def caption(record: dict) -> str:
    s, res = record["settings"], record["result"]
    parts = [figures.esc(record["dataset"].get("filename") or ""),
             f"N = {res['n']} present/future pairs" + (f" within {res['n_entities']} entities "
                                                       f"({figures.esc(s['entity'])}), pooled"
                                                       if s.get("entity") else ""),
             f"lags {', '.join(map(str, res['taus']))}", f"k = {res['k']}", f"{s['n_alpha']} α values",
             f"{res['n_surrogates']} circular-shift surrogates", f"edges at q ≤ {res['alpha']:g}",
             "exact" if s["n_queries"] is None else f"{s['n_queries']} random queries",
             "scaling: z-score (always)",
             f"sorted by {figures.esc(s['time'])}" if s.get("time") else "rows in table order"]
    if s.get("embedding"):
        parts.append(f"delay embedding dim {s['embedding'][0]}, delay {s['embedding'][1]}")
    return " · ".join(parts)


def build_figures(record: dict) -> dict:
    return {"graph": figures.causal_graph_figure(record["result"], caption=caption(record))}


def _fmt(x, spec=".3g") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else format(v, spec)


def edge_rows(record: dict) -> list[dict]:
    e = pd.DataFrame(record["result"]["edges"])
    return [{"cause": r["cause"], "effect": r["effect"], "gain": _fmt(r["gain"], ".4f"), "lag": int(r["lag"]),
             "p": _fmt(r["p"]), "q": _fmt(r["q"]), "pairwise gain": _fmt(r["gain_pairwise"], ".4f"),
             "given": r["conditioned_on"] or "—"} for r in e.to_dict(orient="records")]


def tested_rows(record: dict) -> list[dict]:
    t = tested_frame(record)
    return [{"cause": r["cause"], "effect": r["effect"], "edge": "yes" if r["edge"] else "no",
             "lag": int(r["lag"]), "gain": _fmt(r["gain"], ".4f"), "p": _fmt(r["p"]), "q": _fmt(r["q"]),
             "pairwise gain": _fmt(r["gain_pairwise"], ".4f"), "pairwise p": _fmt(r["p_pairwise"]),
             "why": r["reason"]} for r in t.to_dict(orient="records")]


def render(record: dict):
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    res = record["result"]
    n_edges = len(res["edges"]["cause"])
    figs = build_figures(record)
    head = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Div("variables", className="metric-label"),
                      html.Div(str(len(res["variables"])), className="metric-value")], className="metric"),
            html.Div([html.Div("direct links", className="metric-label"),
                      html.Div(str(n_edges), className="metric-value", id=ids.GRA_N_EDGES)], className="metric"),
            html.Div([html.Div("ordered pairs tested", className="metric-label"),
                      html.Div(str(len(res["tested"]["cause"])), className="metric-value")], className="metric"),
            html.Div([
                dbc.Badge(f"{n_edges} direct link{'s' if n_edges != 1 else ''}",
                          color="success" if n_edges else "secondary", className="relation-badge"),
                html.Div(res["verdict_text"], className="relation-text", id=ids.GRA_VERDICT),
            ], className="relation"),
        ], className="metrics-row"),
        *([html.Div("; ".join(record["warnings"]), className="small text-warning mt-1")]
          if record.get("warnings") else []),
    ]), className="mb-3 summary-card")
    edges = edge_rows(record)
    edge_cols = ["cause", "effect", "gain", "lag", "p", "q", "pairwise gain", "given"]
    tested = tested_rows(record)
    kept = [i for i, r in enumerate(tested) if r["edge"] == "yes"]
    return [
        head,
        figure_block("causal-graph", figs["graph"], height=560),
        html.H6("Direct links", className="mt-3"),
        html.Div("Gain: the imbalance gain of the cause given the effect's own present and its other drivers "
                 "(“given”); lag: the cause at t + 1 − lag acts on the effect at t + 1.",
                 className="small text-muted mb-1"),
        table(edge_cols, edges, id=ids.GRA_EDGES, max_height=360, flex={"given": 3}) if edges else
        html.Div("No direct link at this level.", className="text-muted small", id=ids.GRA_EDGES),
        html.H6("Every ordered pair tested", className="mt-3"),
        html.Div("Kept or removed, and why: not significant on its own, explained by other drivers (an indirect "
                 "link or a common cause), a gain below the minimum, or not significant after the "
                 "Benjamini–Hochberg correction.", className="small text-muted mb-1"),
        table(list(tested[0]), tested, id=ids.GRA_TESTED, max_height=480, page_size=50, flex={"why": 3},
              highlight=[{"rows": kept, "style": {"backgroundColor": "#e8f1fb", "fontWeight": 600}}]),
    ]


__all__ = ["ANALYSIS", "FORM", "build_figures", "defaults", "edge_rows", "hint", "parse_taus", "prepare", "render",
           "run", "tested_frame", "tested_rows", "to_csv"]


# --------------------------------------------------------------------------------------
# the page's controls
# --------------------------------------------------------------------------------------
def defaults(meta: dict, groups) -> dict:
    """Time and entity from the Data page's roles (no variable chosen: every numeric column)."""
    from ..inputs import NONE

    data_roles = meta.get("roles") or {}
    return {"time": data_roles.get("time") or NONE, "entity": data_roles.get("entity") or NONE}


def hint(meta: dict) -> str:
    roles = meta.get("roles") or {}
    cats = set(categorical_columns(meta))
    n = len([c for c in feature_columns(meta) if c not in (roles.get("time"), roles.get("entity")) and c not in cats])
    text = (f"{meta['filename']}: {meta['n_rows']} rows. No variable chosen: each of the {n} numeric columns is "
            f"one (at most {MAX_VARIABLES}).")
    if roles.get("entity"):
        text += f" A panel ({roles['entity']}): pairs within each entity, pooled."
    return text


#: the page's "How to read this" (issue 9 §5; shown by the card, see infoimb.web.glossary)
HOW_TO_READ = (
    "Every ordered pair of variables is tested with the imbalance gain (does X's present help to predict Y's "
    "future beyond Y's own?), against circular-shift surrogates, with Benjamini–Hochberg q-values over all "
    "pairs. A significant link is then conditioned on Y's other detected drivers: it stays only if it is not "
    "explained by them (an indirect path or a common cause). An arrow X → Y in the figure is such a direct "
    "link; the table of every pair says why the others were removed. Quote the links with their gain, lag and "
    "q-value, the number of surrogates and the level; with few surrogates the smallest p (1/(surrogates + 1)) "
    "may be too large for any link to pass."
)

FORM = (
    fields.VariablesField("variables", ids.GRA_VARIABLES, "Variables (groups or columns)", first=True,
                       placeholder="none: every numeric column is a variable", what="the variables",
                       help="Each group or column is one node of the graph; none: every numeric column."),
    fields.Row(fields.TextField("taus", ids.GRA_TAUS, "lags", "1", placeholder="1 or 1,2,3 or 1-3", width=7,
                                what="the lags", help="Steps ahead tested; several: the best per pair."),
               fields.IntField("k", ids.GRA_K, "k", 5, low=1, width=5, what="the number of neighbours k",
                               help="Neighbours (5).")),
    fields.Row(fields.IntField("n_surrogates", ids.GRA_SURROGATES, "surrogates", 199, low=1, high=10_000, width=7,
                               what="the number of surrogates", help="Shifts of the cause per pair."),
               fields.RealField("alpha", ids.GRA_ALPHA, "q ≤", 0.05, low=0.0001, high=0.5, width=5,
                                what="the level α of the edges (q-value)", help="Level of an edge.")),
    fields.Note("An edge needs a Benjamini–Hochberg q-value at most this level; the smallest p-value is "
                "1/(surrogates + 1), so large graphs need many surrogates."),
    fields.Row(fields.ColumnField("time", ids.GRA_TIME, "Time column", placeholder="none", none_label="none",
                                  help="Orders the rows."),
               fields.ColumnField("entity", ids.GRA_ENTITY, "Entity column", placeholder="none", none_label="none",
                                  help="One series each.")),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Options"),
    fields.IntField("n_alpha", ids.GRA_NALPHA, "α values", 21, low=2, high=101, what="the number of α values",
                    help="Weights α of the cause from 0 to 1 per test: more locate each gain's minimum more finely, "
                         "at a proportional cost (21 keeps a graph of many pairs affordable)."),
    fields.Note("Time-delay embedding of each variable (dimension 1 = none)", small=True),
    fields.Row(fields.IntField("embed_dim", ids.GRA_DIM, "dim", 1, low=1, high=50, what="the embedding dimension",
                               help="Past values per variable."),
               fields.IntField("embed_delay", ids.GRA_DELAY, "delay", 1, low=1, high=10_000,
                               what="the embedding delay", help="Rows between them.")),
    *fields.estimator_fields(ids.GRA_ESTIMATOR, ids.GRA_NQ),
)

#: the declaration the card and the job runner use
def cost(settings: dict, meta: dict):
    """The work of the graph (the estimate under Run), at its pairwise stage: every ordered
    pair of variables at every lag, each α, observed and surrogates."""
    from ..jobs.costs import Work

    dim = settings["embedding"][0] if settings.get("embedding") else 1
    sizes = [len(c) * dim for c in settings["variables"].values()] or [1]
    m = len(sizes)
    pairs = m * (m - 1) * len(settings["taus"])
    evals = pairs * settings["n_alpha"] * (1 + (settings.get("n_surrogates") or 0))
    d = max(sizes)
    return Work(int(meta.get("n_rows") or 0), 2 * d, d, k=settings["k"], n_queries=settings["n_queries"],
                evaluations=0.5 * evals, what=f"{pairs} ordered pairs × lags")


ANALYSIS = Analysis(
    cost=cost,
    name=NAME, title="Causal graph", prepare=prepare, run=run, to_csv=to_csv, version=1, render=render,
    run_label="Find the graph",
    empty_text="Choose the variables (none: every numeric column) and press Find the graph.",
    form=FORM, defaults=defaults, hint=hint, hint_id=ids.GRA_HINT,
    section="Variables, lags, significance", step="G", page_class="graph-page",
    intro="Which variables drive which: every ordered pair tested one step ahead with the imbalance gain, "
          "indirect links removed by conditioning on the other drivers.",
)
