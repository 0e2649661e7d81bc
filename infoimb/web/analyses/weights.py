"""The "scales" analysis: relative weights of A's features that minimise Δ(weighted A → B)
(:func:`infoimb.optimize_weights`: grid, coordinate search, or the differentiable
information imbalance, DII).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ... import figures
from ...weights import optimize_weights
from .. import fields, ids
from .. import glossary  # the help texts shared by the pages (issue 9 §5)
from ..context import AnalysisInputError, prepare_frame
from ..inputs import k_of, metrics_text, n_queries_of, one_of, periodic_of, space, space_dict, space_metrics
from ..jobs.runner import Analysis, JobContext, settings_header

NAME = "scales"
METHODS = {
    "dii": "DII: gradient descent on the differentiable Δ",
    "coordinate": "coordinate search: one weight at a time",
    "grid": "grid: every combination of scales (few features)",
}
GRID_SCALES = 9  # np.logspace(-1, 1, 9), the library's default
MAX_GRID = 2000
MAX_RANK_ENTRIES = 50_000_000  # the DII keeps a (queries × N) rank matrix: 400 MB
RANDOM_STATE = 0
#: half-sample replicates behind the weights' standard errors (optimize_weights(n_resamples=));
#: each costs a quarter to a half of the main optimisation (a run takes about 4-5 times longer)
N_RESAMPLES = 8


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings of a weight optimisation from the page's inputs."""
    a = space(inputs.get("a"), ctx, "space A")
    b = space(inputs.get("b"), ctx, "space B")
    if set(a.columns) == set(b.columns):
        raise AnalysisInputError(f"A ({a.label}) and B ({b.label}) are the same columns: the weights are then "
                                 "trivially equal. Choose two different spaces.")
    d = len(a.columns)
    if d < 2:
        raise AnalysisInputError(f"A ({a.label}) has a single feature: only ratios of weights matter, so A needs "
                                 "at least two")
    method = one_of(inputs.get("method"), "method", tuple(METHODS), "dii")
    n = ctx.n_rows
    k = k_of(inputs.get("k"), n)
    n_queries = n_queries_of(inputs, n)
    n_iter = ANALYSIS.check(inputs, "n_iter") if method == "dii" else None
    l1 = ANALYSIS.check(inputs, "l1") if method == "dii" else 0.0
    limit = min(MAX_GRID, ctx.settings.max_subsets) if ctx.settings is not None else MAX_GRID
    if method == "grid":
        total = GRID_SCALES ** (d - 1)
        if total > limit:
            raise AnalysisInputError(f"a grid over {d} features with {GRID_SCALES} scales needs {GRID_SCALES}^{d - 1}"
                                     f" = {total:,} evaluations, more than the limit of {limit:,}: use the "
                                     "coordinate search or the DII")
    if method == "dii" and (n_queries or n) * n > MAX_RANK_ENTRIES:
        raise AnalysisInputError(f"the DII keeps a ranks matrix of (queries × points) = {(n_queries or n):,} × {n:,}: "
                                 "too large; use subsampled queries (at most "
                                 f"{MAX_RANK_ENTRIES // max(n, 1):,})")
    columns = list(dict.fromkeys(list(a.columns) + list(b.columns)))
    ctx.check_cells(len(columns))
    # the engine measures both spaces with metric="auto" (categorical columns by equality); a
    # categorical A (or B with the DII) is refused by the engine with its own message at run time
    metrics = space_metrics({}, ctx, a, b, "A", "B")
    return {
        "metrics_used": metrics["metrics_used"],
        "categorical": metrics["categorical"],
        "a": space_dict(a),
        "b": space_dict(b),
        "method": method,
        "k": k,
        "n_queries": n_queries,
        "n_iter": n_iter,
        "l1": l1,
        "max_evaluations": limit if method == "grid" else None,
        "scaling": ctx.scaling,
        "periodic": periodic_of(ctx, columns),
        "random_state": RANDOM_STATE,
        "n_resamples": N_RESAMPLES,
    }


def run(df: pd.DataFrame, settings: dict, progress) -> dict:
    a, b = settings["a"]["columns"], settings["b"]["columns"]
    progress(0.01, "preparing the data")
    frame, dropped = prepare_frame(df, a + b, settings["scaling"], settings.get("periodic"),
                                   categorical=settings.get("categorical") or ())
    if settings["k"] >= frame.shape[0]:
        raise AnalysisInputError(f"k = {settings['k']} must be smaller than the number of points "
                                 f"({frame.shape[0]} after dropping rows with missing values)")
    kw = {}
    if settings["method"] == "dii":
        kw.update(n_iter=settings["n_iter"], l1=settings["l1"])
    if settings.get("max_evaluations"):
        kw["max_evaluations"] = settings["max_evaluations"]
    if settings.get("n_resamples"):
        kw["n_resamples"] = settings["n_resamples"]
    res = optimize_weights(frame[a], frame[b], method=settings["method"], k=settings["k"],
                           period=settings.get("periodic") or None, n_queries=settings["n_queries"],
                           random_state=settings["random_state"], progress=progress, **kw)
    out = res.to_dict()
    out["dropped_rows"] = dropped
    out["improvement"] = (res.delta_before - res.delta_after) / res.delta_before if res.delta_before > 0 else 0.0
    return out


def weights_frame(record: dict) -> pd.DataFrame:
    res = record["result"]
    w = np.asarray(res["weights"], dtype=float)
    out = pd.DataFrame({"feature": res["columns"], "weight": w})
    if res.get("weights_se") is not None:
        out["se"] = np.asarray([np.nan if v is None else v for v in res["weights_se"]], dtype=float)
    return out


def to_csv(record: dict) -> str:
    """The weights (largest = 1), after the settings and Δ before / after."""
    res = record["result"]
    lines = settings_header(record) + [f"# delta before (unit weights): {res['delta_before']:.6g}",
                                       f"# delta after (weights found): {res['delta_after']:.6g}"]
    buf = io.StringIO()
    weights_frame(record).to_csv(buf, index=False, float_format="%.6g")
    return "\n".join(lines) + "\n" + buf.getvalue()




# --------------------------------------------------------------------------------------
# drawing a record
# --------------------------------------------------------------------------------------
def caption(record: dict) -> str:
    s, res = record["settings"], record["result"]
    parts = [figures.esc(record["dataset"].get("filename") or ""), f"N = {res['n']}", f"k = {s['k']}",
             "all points as queries" if s["n_queries"] is None else f"{s['n_queries']} random queries",
             f"method: {s['method']}"]
    if s["method"] == "dii":
        parts.append(f"{s['n_iter']} steps" + (f", L1 = {s['l1']:g}" if s["l1"] else ""))
    parts.append(f"scaling: {s['scaling']}")
    if s.get("metrics_used"):
        parts.append(metrics_text(s))
    if res.get("n_resamples"):
        parts.append(f"± se: {res['n_resamples']} half-samples")
    if res.get("dropped_rows"):
        parts.append(f"{res['dropped_rows']} rows with missing values left out")
    return " · ".join(parts)


def build_figures(record: dict) -> dict:
    s, res = record["settings"], record["result"]
    cap = caption(record)
    return {"bars": figures.weights_bars(res, a_name=s["a"]["label"], b_name=s["b"]["label"], caption=cap),
            "history": figures.weights_history(res, caption=cap)}


def weight_rows(record: dict) -> list[dict]:
    """The weights table: each weight with the digits its standard error justifies (two
    significant digits of the error, :func:`infoimb.figures.format_pm`), else four decimals."""
    rows = []
    for r in weights_frame(record).to_dict(orient="records"):
        se = r.get("se")
        if se is None or not np.isfinite(se):
            rows.append({"feature": r["feature"], "weight": f"{r['weight']:.4f}"})
        else:
            dec = figures.pm_decimals(se) if se > 0 else 4
            rows.append({"feature": r["feature"], "weight": f"{r['weight']:.{dec}f}", "± se": f"{se:.{dec}f}"})
    return rows


def render(record: dict):
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    s, res = record["settings"], record["result"]
    figs = build_figures(record)
    head = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Div("Δ(A → B), unit weights", className="metric-label"),
                      html.Div(f"{res['delta_before']:.4f}", className="metric-value", id=ids.SCL_BEFORE)],
                     className="metric"),
            html.Div([html.Div("Δ(weighted A → B)", className="metric-label"),
                      html.Div(f"{res['delta_after']:.4f}", className="metric-value", id=ids.SCL_AFTER)],
                     className="metric"),
            html.Div([
                html.Div("what it means", className="metric-label"),
                html.Div(f"With these weights on A's features ({s['a']['label']}), the nearest neighbours in A "
                         f"agree better with those in B ({s['b']['label']}): Δ "
                         + ("falls by " + f"{100 * res['improvement']:.0f}%." if res["improvement"] > 0 else
                            "does not improve on the features as given."),
                         className="relation-text", id=ids.SCL_TEXT),
            ], className="relation"),
        ], className="metrics-row"),
        html.Div("Weights multiply the features as they enter the distance (after the Data page's scaling, "
                 f"{s['scaling']}); only their ratios matter.", className="small text-muted mt-2"),
        *([html.Div("; ".join(record["warnings"]), className="small text-warning mt-1")]
          if record.get("warnings") else []),
    ]), className="mb-3 summary-card")
    rows = weight_rows(record)
    return [head,
            dbc.Row([dbc.Col(figure_block("weights", figs["bars"]), lg=6),
                     dbc.Col(figure_block("weights-history", figs["history"]), lg=6)], className="g-3"),
            html.Div([html.H6("Weights (largest = 1)" + (" ± their standard errors" if "± se" in rows[0] else ""),
                              className="mt-3"),
                      table(list(rows[0]), rows, id=ids.SCL_TABLE, max_height=320)])]


__all__ = ["ANALYSIS", "FORM", "METHODS", "N_RESAMPLES", "build_figures", "weight_rows", "default_spaces", "defaults", "hint", "prepare", "render", "run", "to_csv", "weights_frame"]


# --------------------------------------------------------------------------------------
# the page's controls (pure: tested without a browser)
# --------------------------------------------------------------------------------------
def default_spaces(meta: dict, groups) -> tuple[str | None, str | None]:
    """B: the example's target, else the first group short of the full space; A: the first
    group of two or more features apart from B, else the full space."""
    from ..context import FULL, clean_groups, feature_columns
    from ..inputs import enabled_spaces, example_roles

    _, enabled = enabled_spaces(meta, groups)
    full = set(feature_columns(meta))
    cols = {f"group:{g['name']}": set(g["columns"]) for g in clean_groups(groups)}
    grp = [v for v in enabled if v.startswith("group:") and cols.get(v) != full]
    roles = example_roles(meta)
    b = f"group:{roles['target']}" if roles.get("target") and f"group:{roles['target']}" in enabled else None
    if b is None:
        b = grp[0] if grp else next((v for v in enabled if v.startswith("col:")), None)
    b_cols = cols.get(b, {b[4:]} if b and b.startswith("col:") else set())
    a_choices = [v for v in grp if v != b and len(cols[v]) >= 2 and not (cols[v] & b_cols)]
    a = a_choices[0] if a_choices else (FULL if FULL in enabled and len(full) >= 2 and full != b_cols else None)
    return a, b


def defaults(meta: dict, groups) -> dict:
    a, b = default_spaces(meta, groups)
    return {"a": a, "b": b}


def hint(meta: dict) -> str:
    return f"{meta['filename']}: {meta['n_rows']} points"


#: the page's "How to read this" (issue 9 §5; shown by the card, see infoimb.web.glossary)
HOW_TO_READ = (
    "Features in different units have no common scale, and the distance in A depends on it. The optimiser looks "
    "for the weights of A's features (each multiplies its feature before distances) that make A's neighbours "
    "agree best with B's, i.e. minimise Δ(weighted A → B). Only the ratios of the weights matter (largest = 1): "
    "a weight near 0 means the feature does not help to predict B; equal weights mean the units were already "
    "right. A good answer lowers Δ clearly below its value with unit weights and the history levels off; if Δ "
    "does not improve, the features as given are already as informative as they can be made by scaling. Quote "
    "the weights with Δ before and after, k and N."
)
#: the optimisers' names in the select (the labels of METHODS do not fit the left column)
METHOD_NAMES = {"dii": "DII (gradient descent)", "coordinate": "coordinate search", "grid": "grid of scales"}

FORM = (
    fields.SpaceField("a", ids.SCL_A, "A: the features to weight", first=True,
                      placeholder="a group of two or more features",
                      help="The features whose relative scales are sought (two or more)."),
    fields.SpaceField("b", ids.SCL_B, "B: the space to predict",
                      help="The reference the weighted A should predict (often the full space or a target)."),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Method"),
    fields.ChoiceField("method", ids.SCL_METHOD, "method", "dii", choices=METHOD_NAMES,
                       help="DII: gradient descent on the differentiable Δ (Wild et al. 2025), for many features. "
                            "Coordinate: one weight at a time over a grid. Grid: every combination of 9 scales "
                            "0.1–10 (few features only)."),
    fields.Row(fields.IntField("k", ids.SCL_K, "k", 1, low=1, width=5, what="the number of neighbours k",
                               help="Neighbours (1)."),
               fields.IntField("n_iter", ids.SCL_ITER, "DII steps", 200, low=1, high=5000, width=7,
                               what="iterations", help="Gradient steps of DII.")),
    fields.Note("More DII steps let the weights settle (watch the history level off); 200 suffice for a few "
                "features.", small=True),
    fields.RealField("l1", ids.SCL_L1, "DII L1", 0, low=0.0, high=10.0, what="L1",
                     help="L1 > 0 pushes useless weights to exactly 0 (try 0.01–0.5)."),
    *fields.estimator_fields(ids.SCL_ESTIMATOR, ids.SCL_NQ),
)

#: the declaration the card and the job runner use
def cost(settings: dict, meta: dict):
    """The work of the optimisation (the estimate under Run): one Δ per evaluated weight
    vector (grid) or per DII step."""
    from ..jobs.costs import Work

    steps = settings.get("max_evaluations") or settings.get("n_iter") or 1
    return Work(int(meta.get("n_rows") or 0), len(settings["a"]["columns"]), len(settings["b"]["columns"]),
                k=settings["k"], n_queries=settings["n_queries"], evaluations=0.5 * steps,
                what=f"{steps} {'steps' if settings.get('n_iter') else 'evaluations'}")


ANALYSIS = Analysis(
    cost=cost,
    name=NAME, title="Scales of features", prepare=prepare, run=run, to_csv=to_csv, version=1, render=render,
    run_label="Optimise", empty_text="Choose the features to weight (A) and the target space (B) and press Optimise.",
    form=FORM, defaults=defaults, hint=hint, hint_id=ids.SCL_HINT,
    section="Spaces", step="W", page_class="scales-page",
    intro="Features in different units have no common scale: the weights of A's features that minimise "
          "Δ(weighted A → B).",
)
