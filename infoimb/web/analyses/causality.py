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
from .. import ids
from ..context import AnalysisInputError
from ..inputs import (
    column_info,
    k_of,
    n_queries_of,
    no_overlap,
    one_series,
    optional_space,
    periodic_of,
    space,
    space_dict,
    time_entity,
    whole,
)
from ..jobs.runner import Analysis, JobContext, settings_header

NAME = "causality"
RANDOM_STATE = 0
MIN_GAIN, Z = 0.05, 3.0


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
    tau = whole(inputs.get("tau"), "the lag τ", 1, None, default=1)
    k = whole(inputs.get("k"), "the number of neighbours k", 1, None, default=5)
    n_alpha = whole(inputs.get("n_alpha"), "the number of α values", 2, 500, default=50)
    dim = whole(inputs.get("embed_dim"), "the embedding dimension", 1, 50, default=1)
    delay = whole(inputs.get("embed_delay"), "the embedding delay", 1, 10_000, default=1) if dim > 1 else 1
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
                         min_gain=settings["min_gain"], z=settings["z"], progress=progress)
    out = res.to_dict()
    out["n_rows"] = n_rows
    out["trimmed_rows"] = info["trimmed"]
    out["verdict_text"] = verdicts.causality(  # the CLI prints the same sentence
        res, cause=settings["cause"]["label"], effect=settings["effect"]["label"],
        conditioning=settings["conditioning"]["label"] if settings["conditioning"] else None)
    return out


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
                      html.Div(f"α* = {xy['alpha_star']:.2f}", className="small text-muted")], className="metric"),
            html.Div([html.Div(f"IG({y} → {x})", className="metric-label"),
                      html.Div(f"{yx['gain']:.3f} ± {yx['gain_se']:.3f}", className="metric-value", id=ids.CAU_IG_YX),
                      html.Div(f"α* = {yx['alpha_star']:.2f}", className="small text-muted")], className="metric"),
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
             "α*": f"{xy['alpha_star']:.3f}", "IG": f"{xy['gain']:.4f} ± {xy['gain_se']:.4f}"},
            {"direction": f"{y} → {x}", "Δ(0)": f"{yx['delta'][0]:.4f}", "min Δ": f"{min(yx['delta']):.4f}",
             "α*": f"{yx['alpha_star']:.3f}", "IG": f"{yx['gain']:.4f} ± {yx['gain_se']:.4f}"}]
    return [head, figure_block("causality", figs["curves"]),
            html.Div([html.H6("Imbalance gain, both directions", className="mt-3"),
                      table(list(rows[0]), rows, id=ids.CAU_TABLE)])]


__all__ = ["ANALYSIS", "build_figures", "curves_frame", "prepare", "render", "run", "to_csv", "verdict_label"]


# --------------------------------------------------------------------------------------
# the page's controls (pure: tested without a browser)
# --------------------------------------------------------------------------------------
def control_values(meta: dict, client: dict | None, current: dict, *, restore: bool, data_changed: bool) -> dict:
    """Options and values of the Causality page: cause and effect from the example's groups
    (Rössler: X and Y), τ from its lag, time and entity from the Data page's roles."""
    from ..inputs import NONE, default_pair, enabled_spaces, example_roles, resolve_controls
    from ..jobs.runner import last_inputs

    groups = (client or {}).get("groups")
    opts, enabled = enabled_spaces(meta, groups)
    roles = example_roles(meta)
    cause, effect = default_pair(meta, groups)
    data_roles = meta.get("roles") or {}
    columns = set(meta.get("columns", []))
    spec = {
        "cause": (cause, set(enabled), True),
        "effect": (effect, set(enabled), True),
        "conditioning": (NONE, set(enabled) | {NONE}, True),
        "tau": (int(roles.get("lag") or 1), None, True),
        "k": (5, None, False),
        "n_alpha": (50, None, False),
        "embed_dim": (1, None, False),
        "embed_delay": (1, None, False),
        "time": (data_roles.get("time") or NONE, columns | {NONE}, True),
        "entity": (data_roles.get("entity") or NONE, columns | {NONE}, True),
        "estimator": ("exact", {"exact", "subsampled"}, False),
        "n_queries": (1000, None, False),
    }
    values = resolve_controls(spec, current, last_inputs(client, NAME), restore=restore, data_changed=data_changed)
    return {"options": opts, "cond_options": [{"label": "none", "value": NONE}] + opts, **values}


def entity_choice(values: list[str], current, last) -> str | None:
    """The entity shown: the current one, else the last run's, else the first."""
    for c in (current, last):
        if c is not None and str(c) in values:
            return str(c)
    return values[0] if values else None



def controls(meta: dict, client, current: dict, *, restore: bool, data_changed: bool) -> dict:
    """The page's control values and options (see ``Analysis.controls``; the hint follows the
    time and entity columns, in the page)."""
    from ..inputs import column_options

    v = control_values(meta, client, current, restore=restore, data_changed=data_changed)
    return {"values": v, "hint": None,
            "options": {"cause": v["options"], "effect": v["options"], "cond": v["cond_options"],
                        "time": column_options(meta, none_label="none"),
                        "entity": column_options(meta, none_label="none")}}

#: the declaration the card and the job runner use
ANALYSIS = Analysis(name=NAME, title="Causality (imbalance gain)", prepare=prepare, run=run, to_csv=to_csv, version=1,
                    render=render, controls=controls, run_label='Test',
                    empty_text='Choose a putative cause X and effect Y and press Test.')
