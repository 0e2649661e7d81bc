"""The "causality" analysis: the imbalance gain in both directions (Del Tatto et al., PNAS 2024).

Δ(α) = Δ((α·X₀, Y₀) → Y_τ) over α in [0, 1] for X → Y, and the same with X and Y exchanged;
IG = (Δ(0) − min Δ) / Δ(0). The rows must be one time series in time order: with a time
column they are sorted by it; with an entity column (a panel) the user picks one entity,
because the imbalance gain compares the present and the future of *one* trajectory.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ... import figures, verdicts
from ...causality import causality_test
from .. import fields, ids
from .. import glossary  # the help texts shared by the pages (issue 9 §5)
from ..context import AnalysisInputError
from ..inputs import (
    column_info,
    k_of,
    n_queries_of,
    no_overlap,
    numeric_only,
    one_series,
    optional_space,
    periodic_of,
    space,
    space_dict,
    time_entity,
)
from ..jobs.runner import Analysis, JobContext, settings_header

NAME = "causality"
RANDOM_STATE = 0
MIN_GAIN, Z = 0.05, 3.0
LEVEL = 0.05
MAX_SURROGATES = 9_999
SURROGATES_HELP = ("Circular-shift surrogates of the cause for a p-value per direction (0 = no test). The smallest "
                   "possible p is 1/(surrogates + 1): use 99 or more. "
                   "Each shift keeps the series' own autocorrelation; a direction counts when its gain is above "
                   f"{MIN_GAIN:g} and its p-value below {LEVEL:g}.")


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings of a causality test from the page's inputs."""
    cause = space(inputs.get("cause"), ctx, "cause group")
    effect = space(inputs.get("effect"), ctx, "effect group")
    no_overlap(cause, effect, "cause", "effect", "choose groups without shared columns")
    cond = optional_space(inputs.get("conditioning"), ctx, "conditioning group")
    if cond is not None:
        no_overlap(cause, cond, "cause", "conditioning group")
        no_overlap(effect, cond, "effect", "conditioning group")
    used = list(cause.columns) + list(effect.columns) + (list(cond.columns) if cond else [])
    numeric_only(ctx, used, "causality (the imbalance gain)")
    time, entity = time_entity(ctx, inputs.get("time"), inputs.get("entity"), need_time=False,
                               what="causality", used=used)
    entity_value = inputs.get("entity_value")
    if entity is not None:
        if entity_value in (None, ""):
            raise AnalysisInputError(f"the table has an entity column ({entity!r}); causality works on one series: "
                                     "choose one entity")
        entity_value = str(entity_value)
    else:
        entity_value = None
    tau, k, n_alpha, dim = (ANALYSIS.check(inputs, name) for name in ("tau", "k", "n_alpha", "embed_dim"))
    delay = ANALYSIS.check(inputs, "embed_delay") if dim > 1 else 1
    # the longest the series can be: every row, or (one entity) at most one row per time value
    length = ctx.n_rows
    if entity is not None:
        length = int(column_info(ctx.meta, time).get("n_unique") or length) if time else length
    span = (dim - 1) * delay
    n_eff = length - span
    if n_eff < 4:
        raise AnalysisInputError(f"the embedding spans (dim − 1) × delay = {span} rows but the series has at most "
                                 f"{length}: lower the dimension or the delay")
    if tau >= n_eff - 2:
        raise AnalysisInputError(f"the lag τ = {tau} is too large for the series: {length} rows"
                                 + (f" ({n_eff} after the embedding)" if span else "")
                                 + f"; τ must be at most {n_eff - 3}")
    k = k_of(k, n_eff - tau, default=5)
    n_queries = n_queries_of(inputs, n_eff - tau)
    ctx.check_cells(len(used) * dim)
    ctx.check_subsets(2 * n_alpha, "Δ evaluations (2 × α values)")
    return {
        "cause": space_dict(cause),
        "effect": space_dict(effect),
        "conditioning": space_dict(cond),
        "tau": tau,
        "k": k,
        "n_alpha": n_alpha,
        "embedding": [dim, delay] if dim > 1 else None,
        "time": time,
        "entity": entity,
        "entity_value": entity_value,
        "n_queries": n_queries,
        "scaling": ctx.scaling,
        "periodic": periodic_of(ctx, used),
        "min_gain": MIN_GAIN,
        "z": Z,
        "random_state": RANDOM_STATE,
        "n_surrogates": ANALYSIS.check(inputs, "n_surrogates"),
        "level": LEVEL,
    }


def run(df: pd.DataFrame, settings: dict, progress) -> dict:
    """The imbalance gain both ways on one time series."""
    cause, effect = settings["cause"]["columns"], settings["effect"]["columns"]
    cond = settings["conditioning"]["columns"] if settings["conditioning"] else []
    progress(0.01, "preparing the series")
    frame, info = one_series(df, cause + effect + cond, time=settings["time"], entity=settings["entity"],
                             entity_value=settings["entity_value"], scaling=settings["scaling"],
                             periodic=settings.get("periodic"))
    emb = tuple(settings["embedding"]) if settings["embedding"] else None
    n_rows = int(frame.shape[0])
    n_eff = n_rows - ((emb[0] - 1) * emb[1] if emb else 0)
    if settings["tau"] >= n_eff - 2:
        raise AnalysisInputError(f"the lag τ = {settings['tau']} is too large for this series of {n_rows} rows"
                                 + (f" ({n_eff} after the embedding)" if emb else "")
                                 + f"; τ must be at most {n_eff - 3}")
    if settings["k"] >= n_eff - settings["tau"]:
        raise AnalysisInputError(f"the number of neighbours k = {settings['k']} must be smaller than the number of points "
                                 f"({n_eff - settings['tau']})")
    res = causality_test(frame[cause], frame[effect], tau=settings["tau"],
                         alphas=np.linspace(0.0, 1.0, settings["n_alpha"]), k=settings["k"],
                         conditioning=frame[cond] if cond else None, embedding=emb,
                         n_queries=settings["n_queries"], random_state=settings["random_state"],
                         min_gain=settings["min_gain"], z=settings["z"], progress=progress,
                         n_surrogates=settings.get("n_surrogates", 0), level=settings.get("level", LEVEL))
    out = res.to_dict()
    out["n_rows"] = n_rows
    out["trimmed_rows"] = info["trimmed"]
    out["verdict_text"] = verdicts.causality(  # the CLI prints the same sentence
        res, cause=settings["cause"]["label"], effect=settings["effect"]["label"],
        conditioning=settings["conditioning"]["label"] if settings["conditioning"] else None)
    return out


def _p(p) -> str:
    return "not tested" if p is None else f"{p:.6g}"


def p_text(p) -> str:
    """How a direction's p-value is shown."""
    return "p: not tested (surrogates = 0)" if p is None else f"p = {p:.3g}"


def curves_frame(record: dict) -> pd.DataFrame:
    res = record["result"]
    xy, yx = res["x_to_y"], res["y_to_x"]
    return pd.DataFrame({"alpha": xy["alphas"], "delta_x_to_y": xy["delta"], "se_x_to_y": xy["delta_se"],
                         "delta_y_to_x": yx["delta"], "se_y_to_x": yx["delta_se"]})


def to_csv(record: dict) -> str:
    """Δ(α) both ways, one row per α, after the settings and the gains."""
    res = record["result"]
    s = record["settings"]
    lines = settings_header(record)
    lines += [f"# X (cause): {s['cause']['label']} · Y (effect): {s['effect']['label']}",
              f"# IG(X->Y): {res['x_to_y']['gain']:.6g} ± {res['x_to_y']['gain_se']:.6g} at alpha* = "
              f"{res['x_to_y']['alpha_star']:.6g}",
              f"# IG(Y->X): {res['y_to_x']['gain']:.6g} ± {res['y_to_x']['gain_se']:.6g} at alpha* = "
              f"{res['y_to_x']['alpha_star']:.6g}",
              f"# p(X->Y): {_p(res.get('p_x_to_y'))}",
              f"# p(Y->X): {_p(res.get('p_y_to_x'))}",
              f"# surrogates: {res['x_to_y'].get('n_surrogates', 0)} circular shifts of the cause"
              + (f" (at least {res['x_to_y']['min_shift']} rows)" if res['x_to_y'].get('min_shift') else ""),
              f"# verdict: {res['verdict']}"]
    buf = io.StringIO()
    curves_frame(record).to_csv(buf, index=False, float_format="%.6g")
    return "\n".join(lines) + "\n" + buf.getvalue()




# --------------------------------------------------------------------------------------
# drawing a record
# --------------------------------------------------------------------------------------
def caption(record: dict) -> str:
    s, res = record["settings"], record["result"]
    parts = [figures.esc(record["dataset"].get("filename") or "")]
    if s.get("entity"):
        parts.append(f"{figures.esc(s['entity'])} = {figures.esc(s['entity_value'])}")
    parts += [f"N = {res['x_to_y']['n']} present/future pairs", f"τ = {s['tau']} rows", f"k = {s['k']}",
              f"{s['n_alpha']} α values",
              "exact" if s["n_queries"] is None else f"{s['n_queries']} random queries",
              f"sorted by {figures.esc(s['time'])}" if s.get("time") else "rows in table order"]
    if s.get("embedding"):
        parts.append(f"delay embedding dim {s['embedding'][0]}, delay {s['embedding'][1]}")
    if s.get("conditioning"):
        parts.append(f"conditioned on {figures.esc(s['conditioning']['label'])}")
    parts.append(f"scaling: {s['scaling']}")
    if res.get("trimmed_rows"):
        parts.append(f"{res['trimmed_rows']} incomplete rows at the ends left out")
    return " · ".join(parts)


def build_figures(record: dict) -> dict:
    s = record["settings"]
    return {"curves": figures.causality_curves(record["result"], cause_name=s["cause"]["label"],
                                               effect_name=s["effect"]["label"], caption=caption(record))}


VERDICT_BADGE = {"x drives y": "success", "y drives x": "success", "bidirectional": "info",
                 "no detectable coupling": "secondary"}


def verdict_label(record: dict) -> str:
    s, v = record["settings"], record["result"]["verdict"]
    x, y = s["cause"]["label"], s["effect"]["label"]
    return {"x drives y": f"{x} drives {y}", "y drives x": f"{y} drives {x}",
            "bidirectional": "both ways", "no detectable coupling": "no detectable coupling"}[v]


def render(record: dict):
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    s, res = record["settings"], record["result"]
    x, y = s["cause"]["label"], s["effect"]["label"]
    xy, yx = res["x_to_y"], res["y_to_x"]
    figs = build_figures(record)
    head = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Div(f"IG({x} → {y})", className="metric-label"),
                      html.Div(f"{xy['gain']:.3f} ± {xy['gain_se']:.3f}", className="metric-value", id=ids.CAU_IG_XY),
                      html.Div(f"α* = {xy['alpha_star']:.2f}", className="small text-muted"),
                      html.Div(p_text(res.get("p_x_to_y")), className="small fw-semibold", id=ids.CAU_P_XY)],
                     className="metric"),
            html.Div([html.Div(f"IG({y} → {x})", className="metric-label"),
                      html.Div(f"{yx['gain']:.3f} ± {yx['gain_se']:.3f}", className="metric-value", id=ids.CAU_IG_YX),
                      html.Div(f"α* = {yx['alpha_star']:.2f}", className="small text-muted"),
                      html.Div(p_text(res.get("p_y_to_x")), className="small fw-semibold", id=ids.CAU_P_YX)],
                     className="metric"),
            html.Div([
                dbc.Badge(verdict_label(record), color=VERDICT_BADGE[res["verdict"]], className="relation-badge",
                          id=ids.CAU_VERDICT),
                html.Div(res["verdict_text"], className="relation-text", id=ids.CAU_VERDICT_TEXT),
            ], className="relation"),
        ], className="metrics-row"),
        *([html.Div("; ".join(record["warnings"]), className="small text-warning mt-1")]
          if record.get("warnings") else []),
    ]), className="mb-3 summary-card")
    rows = [{"direction": f"{x} → {y}", "Δ(0)": f"{xy['delta'][0]:.4f}", "min Δ": f"{min(xy['delta']):.4f}",
             "α*": f"{xy['alpha_star']:.3f}", "IG": f"{xy['gain']:.4f} ± {xy['gain_se']:.4f}",
             "p": "" if res.get("p_x_to_y") is None else f"{res['p_x_to_y']:.3g}"},
            {"direction": f"{y} → {x}", "Δ(0)": f"{yx['delta'][0]:.4f}", "min Δ": f"{min(yx['delta']):.4f}",
             "α*": f"{yx['alpha_star']:.3f}", "IG": f"{yx['gain']:.4f} ± {yx['gain_se']:.4f}",
             "p": "" if res.get("p_y_to_x") is None else f"{res['p_y_to_x']:.3g}"}]
    return [head, figure_block("causality", figs["curves"]),
            html.Div([html.H6("Imbalance gain, both directions", className="mt-3"),
                      table(list(rows[0]), rows, id=ids.CAU_TABLE)])]


__all__ = ["ANALYSIS", "FORM", "p_text", "build_figures", "defaults", "entity_choice", "table_hint", "curves_frame", "prepare", "render", "run", "to_csv", "verdict_label"]


# --------------------------------------------------------------------------------------
# the page's controls (pure: tested without a browser)
# --------------------------------------------------------------------------------------
def defaults(meta: dict, groups) -> dict:
    """Cause and effect from the example's groups (Rössler: X and Y), τ from its lag, time
    and entity from the Data page's roles."""
    from ..inputs import NONE, default_pair, example_roles

    cause, effect = default_pair(meta, groups)
    data_roles = meta.get("roles") or {}
    return {"cause": cause, "effect": effect, "conditioning": NONE,
            "tau": int(example_roles(meta).get("lag") or 1),
            "time": data_roles.get("time") or NONE, "entity": data_roles.get("entity") or NONE}


def table_hint(meta: dict, time, entity) -> str:
    """The line under the inputs: the table, its order, and whether an entity must be chosen
    (it follows the time and entity controls: the page's own callback shows it)."""
    from ..inputs import NONE

    text = f"{meta['filename']}: {meta['n_rows']} rows. "
    if time and time != NONE:
        text += f"Sorted by {time}. "
    else:
        text += "No time column: the rows are taken in the table's order. "
    if entity and entity != NONE:
        text += (f"The table holds several series ({entity}); the imbalance gain compares the present and "
                 "future of one series, so pick one entity.")
    return text


def entity_choice(values: list[str], current, last) -> str | None:
    """The entity shown: the current one, else the last run's, else the first."""
    for c in (current, last):
        if c is not None and str(c) in values:
            return str(c)
    return values[0] if values else None



#: the page's "How to read this" (issue 9 §5; shown by the card, see infoimb.web.glossary)
HOW_TO_READ = (
    "The curves are Δ((α·X₀, Y₀) → Y_τ) against α: how well Y's future is predicted from its own present with "
    "X's present added at weight α (and the same with X and Y swapped). If X drives Y, some α > 0 lowers Δ below "
    "its value at α = 0; the imbalance gain IG = (Δ(0) − min Δ) / Δ(0) measures by how much, and α* is where the "
    "minimum is. IG(X → Y) clearly above 0 with IG(Y → X) ≈ 0 says X drives Y; both near 0, no detectable "
    "coupling; both positive, coupling both ways or a common driver (condition on Z to tell). Quote both IG with "
    "their ±, τ, k and the surrogate p-values (the series must be in time order; the smallest p is "
    "1/(surrogates + 1))."
)

FORM = (
    fields.SpaceField("cause", ids.CAU_CAUSE, "Putative cause X", first=True,
                      help="The variable whose present may drive the effect (a group or one column)."),
    fields.SpaceField("effect", ids.CAU_EFFECT, "Effect Y",
                      help="The variable whose future is predicted. Both directions are tested."),
    fields.SpaceField("conditioning", ids.CAU_COND, "Condition on Z (optional)", placeholder="none",
                      none_label="none",
                      help="A third variable kept in every space (β·Z): a gain that survives it is not explained "
                           "by Z, e.g. a common driver."),
    fields.Row(fields.IntField("tau", ids.CAU_TAU, "τ", 1, low=1, suffix="rows", data=True, width=7,
                               what="the lag τ", help="How far ahead Y is predicted."),
               fields.IntField("k", ids.CAU_K, "k", 5, low=1, width=5, what="the number of neighbours k",
                               help="Neighbours (5: Del Tatto et al.).")),
    fields.Note("τ: choose it near the time the cause needs to act (e.g. a fraction of an oscillation); too small "
                "and little changes, too large and the memory is lost. k: a larger k smooths the noisy Δ(α) "
                "curves at the cost of resolution.", small=True),
    fields.Note("Rows must be one series in time order."),
    fields.Row(fields.ColumnField("time", ids.CAU_TIME, "Time column", placeholder="none", none_label="none",
                                  help="Orders the rows; none: as they are."),
               fields.ColumnField("entity", ids.CAU_ENTITY, "Entity column", placeholder="none", none_label="none",
                                  help="For a panel: pick one entity below.")),
    fields.Block(ids.CAU_ENTITY_VALUE_WRAP,
                 fields.DropdownField("entity_value", ids.CAU_ENTITY_VALUE, "Entity (one series)", sync=False,
                                      placeholder="the entity to analyse",
                                      help="The one series (entity) tested: the gain needs a single time series.")),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Options"),
    fields.IntField("n_alpha", ids.CAU_NALPHA, "α values", 50, low=2, high=500, what="the number of α values",
                    help="Weights α of the cause, evenly from 0 to 1, at which Δ(α) is computed: more values locate "
                         "the minimum (α*) more finely and cost proportionally more (50: Del Tatto et al.)."),
    fields.Note("Time-delay embedding (dimension 1 = none)", small=True),
    fields.Row(fields.IntField("embed_dim", ids.CAU_DIM, "dim", 1, low=1, high=50, what="the embedding dimension",
                               help="Past values per variable."),
               fields.IntField("embed_delay", ids.CAU_DELAY, "delay", 1, low=1, high=10_000,
                               what="the embedding delay", help="Rows between them.")),
    fields.Note("Embedding: each variable becomes (x_t, x_t−delay, …) with dim values, which recovers a state "
                "from one observed coordinate (Takens); keep 1 when the columns already hold the full state.",
                small=True),
    *fields.estimator_fields(ids.CAU_ESTIMATOR, ids.CAU_NQ),
    fields.RULE,
    fields.Subhead("Significance"),
    fields.IntField("n_surrogates", ids.CAU_SURROGATES, "surrogates", 0, low=0, high=MAX_SURROGATES,
                    help=SURROGATES_HELP),
)

#: the declaration the card and the job runner use (the hint follows the time and entity
#: controls: ``pages/causality.py`` shows it, with the entity values)
def cost(settings: dict, meta: dict):
    """The work of the test (the estimate under Run): the gain of every α both ways, for the
    observed series and each surrogate."""
    from ..jobs.costs import Work

    dim = settings["embedding"][0] if settings.get("embedding") else 1
    cause, effect = len(settings["cause"]["columns"]) * dim, len(settings["effect"]["columns"]) * dim
    cond = len(settings["conditioning"]["columns"]) * dim if settings.get("conditioning") else 0
    evals = 2 * settings["n_alpha"] * (1 + (settings.get("n_surrogates") or 0))
    return Work(int(meta.get("n_rows") or 0), cause + effect + cond, effect, k=settings["k"],
                n_queries=settings["n_queries"], evaluations=0.5 * evals,
                what=f"{settings['n_alpha']} α values both ways")


ANALYSIS = Analysis(
    cost=cost,
    name=NAME, title="Causality (imbalance gain)", prepare=prepare, run=run, to_csv=to_csv, version=2,
    render=render, run_label="Test", empty_text="Choose a putative cause X and effect Y and press Test.",
    form=FORM, defaults=defaults, hint_id=ids.CAU_HINT,
    section="Cause, effect, lag", step="C", heading="Causality", page_class="causality-page",
    intro="Does X's present help to predict Y's future beyond Y's own present? Δ((α·X₀, Y₀) → Y_τ) against α, "
          "both ways.",
)
