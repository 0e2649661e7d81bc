"""Causality page: the imbalance gain both ways, Δ(α) curves, IG, α* and the verdict."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html

from infoimb.web import analysis_ui
from infoimb.web.analyses import causality
from infoimb.web import ids
from infoimb.web.inputs import NONE, entity_values
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.jobs.runner import last_inputs
from infoimb.web.ui import section

dash.register_page(__name__, path="/causality", name="Causality", title="infoimb · Causality", order=4)

FIELDS = {
    "cause": ids.CAU_CAUSE, "effect": ids.CAU_EFFECT, "conditioning": ids.CAU_COND, "tau": ids.CAU_TAU,
    "k": ids.CAU_K, "n_alpha": ids.CAU_NALPHA, "embed_dim": ids.CAU_DIM, "embed_delay": ids.CAU_DELAY,
    "time": ids.CAU_TIME, "entity": ids.CAU_ENTITY, "estimator": ids.CAU_ESTIMATOR, "n_queries": ids.CAU_NQ,
}

CARD = AnalysisCard(
    causality.ANALYSIS,
    state={**{k: State(v, "value") for k, v in FIELDS.items()}, "entity_value": State(ids.CAU_ENTITY_VALUE, "value")},
    options={"cause": ids.CAU_CAUSE, "effect": ids.CAU_EFFECT, "cond": ids.CAU_COND, "time": ids.CAU_TIME, "entity": ids.CAU_ENTITY},
    synced=tuple(FIELDS),
)


def layout(**_):
    controls = section("Cause, effect, lag", [
        analysis_ui.label("Putative cause X", ids.CAU_CAUSE, first=True),
        analysis_ui.dropdown(ids.CAU_CAUSE, "a group or a feature"),
        analysis_ui.label("Effect Y", ids.CAU_EFFECT),
        analysis_ui.dropdown(ids.CAU_EFFECT, "a group or a feature"),
        analysis_ui.label("Condition on Z (optional)", ids.CAU_COND),
        analysis_ui.dropdown(ids.CAU_COND, "none"),
        dbc.Row([
            analysis_ui.number(ids.CAU_TAU, "τ", 1, min=1, suffix="rows", width=7),
            analysis_ui.number(ids.CAU_K, "k", 5, min=1, width=5),
        ], className="g-2 mt-2"),
        html.Div("Rows must be one series in time order.", className="form-text mt-2"),
        dbc.Row([
            dbc.Col([analysis_ui.label("Time column", ids.CAU_TIME), analysis_ui.dropdown(ids.CAU_TIME, "none")], width=6),
            dbc.Col([analysis_ui.label("Entity column", ids.CAU_ENTITY), analysis_ui.dropdown(ids.CAU_ENTITY, "none")], width=6),
        ], className="g-2"),
        html.Div([analysis_ui.label("Entity (one series)", ids.CAU_ENTITY_VALUE),
                  analysis_ui.dropdown(ids.CAU_ENTITY_VALUE, "the entity to analyse")], id=ids.CAU_ENTITY_VALUE_WRAP),
        html.Div(id=ids.CAU_HINT, className="form-text mb-2"),
        CARD.controls(),
        html.Hr(),
        analysis_ui.subhead("Options"),
        analysis_ui.number(ids.CAU_NALPHA, "α values", 50, min=2, max=500),
        html.Div("Time-delay embedding (dimension 1 = none)", className="small mt-2"),
        dbc.Row([
            analysis_ui.number(ids.CAU_DIM, "dim", 1, min=1, max=50, width=6),
            analysis_ui.number(ids.CAU_DELAY, "delay", 1, min=1, width=6),
        ], className="g-2 mt-1"),
        analysis_ui.estimator(ids.CAU_ESTIMATOR, ids.CAU_NQ),
    ], step="C", class_name="controls-card")

    return dbc.Row([
        dbc.Col(controls, lg=3, className="controls-col"),
        dbc.Col(html.Div([
            analysis_ui.heading("Causality", "Does X's present help to predict Y's future beyond Y's own present? "
                                   "Δ((α·X₀, Y₀) → Y_τ) against α, both ways."),
            CARD.results(),
        ]), lg=9),
    ], className="g-3 causality-page")


def hint(meta: dict, time, entity) -> str:
    text = f"{meta['filename']}: {meta['n_rows']} rows. "
    if time and time != NONE:
        text += f"Sorted by {time}. "
    else:
        text += "No time column: the rows are taken in the table's order. "
    if entity and entity != NONE:
        text += (f"The table holds several series ({entity}); the imbalance gain compares the present and "
                 "future of one series, so pick one entity.")
    return text


@dash.callback(
    Output(ids.CAU_ENTITY_VALUE, "options"),
    Output(ids.CAU_ENTITY_VALUE, "value"),
    Output(ids.CAU_ENTITY_VALUE_WRAP, "style"),
    Output(ids.CAU_HINT, "children"),
    Input(ids.CAU_ENTITY, "value"),
    Input(ids.CAU_TIME, "value"),
    Input(ids.DATASET_STORE, "data"),
    State(ids.CAU_ENTITY_VALUE, "value"),
    State(ids.SETTINGS_STORE, "data"),
)
def _entity_values(entity, time, info, current, client):
    meta = analysis_ui.session_meta(info)
    if not meta:
        return [], None, {"display": "none"}, "Load a table on the Data page first."
    text = hint(meta, time, entity)
    if not entity or entity == NONE or entity not in meta.get("columns", []):
        return [], None, {"display": "none"}, text
    values = entity_values(analysis_ui.session_frame(), entity)
    chosen = causality.entity_choice(values, current, last_inputs(client, causality.NAME).get("entity_value"))
    return [{"label": v, "value": v} for v in values], chosen, {}, text
