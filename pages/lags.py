"""Time lags page: Δ(source_t → target_t+δ) over a range of lags, the arrow of time, and a
selection of the candidates with a lagged target."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import State, html

from infoimb.web import analysis_ui
from infoimb.web import ids
from infoimb.web.analyses import lags
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.ui import section

dash.register_page(__name__, path="/lags", name="Time lags", title="infoimb · Time lags", order=3)

FIELDS = {
    "source": ids.LAG_SOURCE, "target": ids.LAG_TARGET, "lag_min": ids.LAG_MIN, "lag_max": ids.LAG_MAX,
    "time": ids.LAG_TIME, "entity": ids.LAG_ENTITY, "k": ids.LAG_K, "estimator": ids.LAG_ESTIMATOR,
    "n_queries": ids.LAG_NQ, "select": ids.LAG_SELECT, "candidates": ids.LAG_CANDIDATES,
    "sel_lag": ids.LAG_SEL_LAG, "sel_max": ids.LAG_SEL_MAX,
}

CARD = AnalysisCard(
    lags.ANALYSIS,
    state={k: State(v, "value") for k, v in FIELDS.items()},
    options={"source": ids.LAG_SOURCE, "target": ids.LAG_TARGET, "candidates": ids.LAG_CANDIDATES, "time": ids.LAG_TIME, "entity": ids.LAG_ENTITY},
    hint=ids.LAG_HINT,
)


def layout(**_):
    controls = section("Source, target, time", [
        analysis_ui.label("Source (at time t)", ids.LAG_SOURCE, first=True),
        analysis_ui.dropdown(ids.LAG_SOURCE, "a group or a feature"),
        analysis_ui.label("Target (at time t + δ)", ids.LAG_TARGET),
        analysis_ui.dropdown(ids.LAG_TARGET, "a group or a feature"),
        analysis_ui.label("Lags δ"),
        dbc.Row([
            analysis_ui.number(ids.LAG_MIN, "from", -5, step=1, width=6),
            analysis_ui.number(ids.LAG_MAX, "to", 5, step=1, width=6),
        ], className="g-2"),
        dbc.Row([
            dbc.Col([analysis_ui.label("Time column", ids.LAG_TIME), analysis_ui.dropdown(ids.LAG_TIME, "time")], width=6),
            dbc.Col([analysis_ui.label("Entity column", ids.LAG_ENTITY), analysis_ui.dropdown(ids.LAG_ENTITY, "none")], width=6),
        ], className="g-2"),
        html.Div(id=ids.LAG_HINT, className="form-text mb-2"),
        CARD.controls(),
        html.Hr(),
        analysis_ui.subhead("Options"),
        analysis_ui.number(ids.LAG_K, "k", 1, min=1),
        analysis_ui.estimator(ids.LAG_ESTIMATOR, ids.LAG_NQ),
        html.Hr(),
        dbc.Checklist(id=ids.LAG_SELECT, value=["on"], switch=True, className="fw-semibold",
                      options=[{"label": "Selection with a lagged target", "value": "on"}]),
        html.Div("Greedy selection of the candidates at t against the target at t + δ (with a dummy noise "
                 "feature); δ empty = the best lag of the scan.", className="form-text mb-1"),
        analysis_ui.dropdown(ids.LAG_CANDIDATES, "candidate features"),
        dbc.Row([
            analysis_ui.number(ids.LAG_SEL_LAG, "δ", None, step=1, width=6, placeholder="best"),
            analysis_ui.number(ids.LAG_SEL_MAX, "max d", 8, min=1, width=6),
        ], className="g-2 mt-1"),
    ], step="L", class_name="controls-card")

    return dbc.Row([
        dbc.Col(controls, lg=3, className="controls-col"),
        dbc.Col(html.Div([
            analysis_ui.heading("Time lags", "Pairs (source at t, target at t + δ) within each entity: a source that "
                                   "acts on the target predicts its future better than its past."),
            CARD.results(),
        ]), lg=9),
    ], className="g-3 lags-page")
