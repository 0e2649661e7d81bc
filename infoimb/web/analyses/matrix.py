"""The "many spaces at once" analysis: Δ between every pair of chosen spaces.

Feature groups, single features, the full space and uploaded distance matrices (each a
space of its own, see :mod:`infoimb.web.matrices`) go into
:func:`infoimb.distances.imbalance_matrix`; the result is drawn as a heatmap
(:func:`infoimb.figures.imbalance_heatmap`) and as every pair on one plane
(:func:`infoimb.figures.imbalance_matrix_plane`).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ... import figures
from ...distances import ImbalanceMatrix, imbalance_matrix
from .. import fields, ids
from .. import glossary  # the help texts shared by the pages (issue 9 §5)
from ..context import (AUTO, METRIC_ORDER, SPACE_METRICS, AnalysisInputError, FULL, categorical_of, clean_groups,
                       prepare_frame, resolve_space, space_metric, space_options, text_columns, usable_rows)
from ..inputs import n_queries_of, one_of, whole
from ..jobs.runner import Analysis, JobContext, settings_header
from ..matrices import load_matrices, matrix_space

NAME = "matrix"
METRICS = METRIC_ORDER  # "auto": each feature space's own (categorical columns by equality)
RANDOM_STATE = 0
MAX_SPACES = 12

__all__ = ["ANALYSIS", "FORM", "METRICS", "build_figures", "defaults", "prepare", "render", "run", "to_csv"]


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings: the chosen spaces (resolved), k, the metric of the feature spaces
    (matrices are always precomputed) and the estimator."""
    values = [v for v in (inputs.get("spaces") or []) if v]
    values = list(dict.fromkeys(values))
    if len(values) < 2:
        raise AnalysisInputError("choose at least two spaces")
    if len(values) > MAX_SPACES:
        raise AnalysisInputError(f"choose at most {MAX_SPACES} spaces ({len(values)} chosen)")
    spaces = [resolve_space(v, ctx.meta, ctx.groups) for v in values]
    labels = [s.label for s in spaces]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise AnalysisInputError(f"two spaces have the same name {dup[0]!r}")
    n = ctx.n_rows
    k = whole(inputs.get("k"), "k", 1, max(n - 1, 1), default=1)
    metric = one_of(inputs.get("metric"), "metric", SPACE_METRICS, default=AUTO)
    n_queries = n_queries_of(inputs, n)
    columns = sorted({c for s in spaces for c in s.columns})
    ctx.check_subsets(len(spaces) * (len(spaces) - 1) // 2, "pairs of spaces")
    ctx.check_cells(max(len(columns), 1))
    return {
        "spaces": [s.to_dict() for s in spaces],
        "k": k,
        "metric": metric,
        "metrics": {s.label: ("precomputed" if s.matrix else
                              space_metric(metric, s.columns, categorical_of(ctx.meta, s.columns), s.label))
                    for s in spaces},
        "categorical": [c for c in categorical_of(ctx.meta, columns) if c not in set(text_columns(ctx.meta))],
        "n_queries": n_queries,
        "scaling": ctx.scaling,
        "periodic": {c: p for c, p in ctx.periodic.items() if c in columns},
        "random_state": RANDOM_STATE,
    }


def load(store, sid, settings: dict) -> dict:
    ids_ = [s["matrix"] for s in settings["spaces"] if s.get("matrix")]
    return {"matrices": load_matrices(store, sid, ids_)} if ids_ else {}


def run(df: pd.DataFrame, settings: dict, progress, matrices: dict | None = None) -> dict:
    """Δ(a → b) for every ordered pair of the chosen spaces."""
    columns = list(dict.fromkeys(c for s in settings["spaces"] for c in s["columns"]))
    periodic = settings.get("periodic") or {}
    if columns:
        frame, dropped = prepare_frame(df, columns, settings["scaling"], periodic,
                                       categorical=settings.get("categorical") or ())
    else:
        frame, dropped = pd.DataFrame(index=range(df.shape[0])), 0
    keep = usable_rows(df, columns, settings.get("categorical") or ())
    if periodic:
        # the engine takes one metric per space; a periodic column is wrapped by hand:
        # not offered here (use Compare), so say so rather than ignore the period
        names = [s["label"] for s in settings["spaces"] if set(s["columns"]) & set(periodic)]
        raise AnalysisInputError(f"the space(s) {', '.join(map(repr, names))} contain periodic features, which "
                                 "the Matrix analysis does not support yet; compare them on the Compare page")
    spaces = {}
    for s in settings["spaces"]:
        if s.get("matrix"):
            if not matrices or s["matrix"] not in matrices:
                raise AnalysisInputError("a distance matrix is no longer stored: upload it again on the Data page")
            spaces[s["label"]] = matrix_space(matrices[s["matrix"]], s["label"], keep)
        else:
            spaces[s["label"]] = frame[s["columns"]]  # categorical columns (objects) compared by equality
    n = int(keep.sum())
    k = settings["k"]
    if k >= n:
        raise AnalysisInputError(f"k = {k} must be smaller than the number of points ({n})")
    nq = settings["n_queries"]
    if nq is not None and nq >= n:
        nq = None
    res = imbalance_matrix(spaces, k=k, metric=settings["metrics"], n_queries=nq,
                           random_state=settings["random_state"], progress=lambda f, m: progress(f, m))
    progress(1.0, "done")
    return {"n": n, "dropped_rows": int(dropped), "matrix": res.to_dict()}


def to_csv(record: dict) -> str:
    """Every unordered pair: Δ both ways, standard errors, the symmetric imbalance, the relation."""
    m = ImbalanceMatrix.from_dict(record["result"]["matrix"])
    buf = io.StringIO()
    m.pairs().to_csv(buf, index=False, float_format="%.6g")
    return "\n".join(settings_header(record)) + "\n" + buf.getvalue()


def caption(record: dict) -> str:
    s, res = record["settings"], record["result"]
    text = figures.settings_caption({k: v for k, v in s.items() if k not in ("spaces", "metrics")},
                                    {"filename": record["dataset"].get("filename") or "", "n_rows": res["n"]})
    if res.get("dropped_rows"):
        text += f" · {res['dropped_rows']} rows with missing values left out"
    return text


def build_figures(record: dict) -> dict:
    cap = caption(record)
    mat = record["result"]["matrix"]
    return {"heatmap": figures.imbalance_heatmap(mat, caption=cap),
            "matrix-plane": figures.imbalance_matrix_plane(mat, caption=cap)}


def render(record: dict):
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    figs = build_figures(record)
    mat = ImbalanceMatrix.from_dict(record["result"]["matrix"])
    rows = [{"A": r["a"], "B": r["b"], "Δ(A→B)": round(r["a_to_b"], 4), "± (A→B)": round(r["a_to_b_se"], 4),
             "Δ(B→A)": round(r["b_to_a"], 4), "± (B→A)": round(r["b_to_a_se"], 4),
             "symmetric": round(r["symmetric"], 4), "relation": figures.REGION_NAMES[r["relation"]]}
            for r in mat.pairs().to_dict(orient="records")]
    kinds = ", ".join(f"{name}: {metric}" for name, metric in mat.metrics.items())
    head = html.Div([
        html.Span(f"{len(mat.names)} spaces · N = {mat.n} · k = {mat.k} · "
                  f"{'exact' if mat.exact else f'{mat.n_queries} queries'}", className="text-muted"),
        html.Div(f"distances: {kinds}", className="small text-muted"),
        *([html.Div("; ".join(record["warnings"]), className="small text-warning mt-1")]
          if record.get("warnings") else []),
    ], className="mb-2")
    return [
        head,
        dbc.Row([
            dbc.Col(figure_block("heatmap", figs["heatmap"]), lg=6),
            dbc.Col(figure_block("matrix-plane", figs["matrix-plane"]), lg=6),
        ], className="g-3"),
        html.Div([html.H6("Every pair", className="mt-3"),
                  table(list(rows[0]), rows, max_height=360, id=ids.MATRIX_PAIRS_TABLE)]),
    ]


# --------------------------------------------------------------------------------------
# the page (typed fields: infoimb.web.fields)
# --------------------------------------------------------------------------------------
def defaults(meta: dict, groups) -> dict:
    """Chosen at first: the groups and the distance matrices (else the first four spaces
    other than the full space)."""
    opts = space_options(meta, groups, matrices=True)
    valid = [o["value"] for o in opts if not o.get("disabled")]
    names = {f"group:{g['name']}" for g in clean_groups(groups)}
    chosen = [v for v in valid if v in names or v.startswith("dist:")][:6]
    if len(chosen) < 2:
        chosen = [v for v in valid if v != FULL][:4]
    return {"spaces": chosen}


def hint(meta: dict) -> str:
    return f"{meta['filename']}: {meta['n_rows']} points"


#: the page's "How to read this" (issue 9 §5; shown by the card, see infoimb.web.glossary)
HOW_TO_READ = (
    "The heat map holds Δ(row → column) for every ordered pair of the chosen spaces: a low value means the row's "
    "space predicts the column's. Read a row to see what one space predicts, a column to see what predicts it; "
    "the matrix is not symmetric, and the asymmetry says which space contains which. The plane places every pair "
    "(x = Δ(A → B), y = Δ(B → A)): near (0, 0) equivalent, near (1, 1) independent, far from the diagonal one "
    "contains the other. Quote the pairs you discuss with their ± and N; run Compare on a pair for its "
    "permutation test."
)

FORM = (
    fields.SpacesField("spaces", ids.MATRIX_SPACES, "Two or more spaces", first=True,
                       placeholder="groups, features, distance matrices",
                       help="Every ordered pair of these is computed (n spaces: n(n − 1) values)."),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Options"),
    fields.IntField("k", ids.MATRIX_K, "k", 1, low=1, what="the number of neighbours k", help=glossary.K_HELP),
    fields.ChoiceField("metric", ids.MATRIX_METRIC, "metric", "euclidean", choices={m: m for m in METRIC_ORDER},
                       help=glossary.metric_help(METRIC_ORDER, what="The distance within the feature spaces (a "
                                                                    "distance matrix is its own distance)")),
    *fields.estimator_fields(ids.MATRIX_ESTIMATOR, ids.MATRIX_NQ),
)

def cost(settings: dict, meta: dict) -> list:
    """The work of the matrix (the estimate under Run): Δ both ways for every pair of spaces."""
    from ..jobs.costs import Work

    n = int(meta.get("n_rows") or 0)
    spaces = settings["spaces"]
    dims = [0 if s.get("matrix") else len(s["columns"]) for s in spaces]
    pairs = [(i, j) for i in range(len(spaces)) for j in range(i + 1, len(spaces))]
    return [Work(n, dims[i], dims[j], k=settings["k"], n_queries=settings["n_queries"],
                 metric=settings["metric"], tree_ok=True, main=p == 0,
                 what=f"{len(pairs)} pairs" if p == 0 else "") for p, (i, j) in enumerate(pairs)]


ANALYSIS = Analysis(
    cost=cost,
    name=NAME, title="Information imbalance between many spaces", prepare=prepare, run=run, to_csv=to_csv,
    version=1, render=render, run_label="Compute the matrix",
    empty_text="Choose two or more spaces and press Compute the matrix.", load=load,
    form=FORM, defaults=defaults, hint=hint, hint_id=ids.MATRIX_HINT, restore_each=True,
    section="Spaces", step="M", heading="Many spaces at once", page_class="matrix-page",
    intro="Δ(row → column) for every pair of the chosen spaces, and every pair on the information imbalance plane.",
)
