"""Causal graph page: which of many time series drive which, as a network of direct links."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import State, dcc, html

from infoimb.web import analysis_ui, ids
from infoimb.web.analyses import graph
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.ui import section

dash.register_page(__name__, path="/graph", name="Causal graph", title="infoimb · Causal graph", order=5)

FIELDS = {
    "variables": ids.GRA_VARIABLES, "taus": ids.GRA_TAUS, "k": ids.GRA_K, "n_alpha": ids.GRA_NALPHA,
    "n_surrogates": ids.GRA_SURROGATES, "alpha": ids.GRA_ALPHA, "embed_dim": ids.GRA_DIM,
    "embed_delay": ids.GRA_DELAY, "time": ids.GRA_TIME, "entity": ids.GRA_ENTITY,
    "estimator": ids.GRA_ESTIMATOR, "n_queries": ids.GRA_NQ,
}

CARD = AnalysisCard(
    graph.ANALYSIS,
    state={k: State(v, "value") for k, v in FIELDS.items()},
    options={"variables": ids.GRA_VARIABLES, "time": ids.GRA_TIME, "entity": ids.GRA_ENTITY},
    hint=ids.GRA_HINT,
)


def layout(**_):
    controls = section("Variables, lags, significance", [
        analysis_ui.label("Variables (groups or columns)", ids.GRA_VARIABLES, first=True),
        dcc.Dropdown(id=ids.GRA_VARIABLES, multi=True, placeholder="none: every numeric column is a variable"),
        dbc.Row([
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("lags"),
                                    dbc.Input(id=ids.GRA_TAUS, type="text", value="1", debounce=True,
                                              placeholder="1 or 1,2,3 or 1-3")], size="sm"), width=7),
            analysis_ui.number(ids.GRA_K, "k", 5, min=1, width=5),
        ], className="g-2 mt-2"),
        dbc.Row([
            analysis_ui.number(ids.GRA_SURROGATES, "surrogates", 199, min=1, max=10_000, width=7),
            analysis_ui.number(ids.GRA_ALPHA, "q ≤", 0.05, min=0.0001, max=0.5, step=0.01, width=5),
        ], className="g-2 mt-2"),
        html.Div("An edge needs a Benjamini–Hochberg q-value at most this level; the smallest p-value is "
                 "1/(surrogates + 1), so large graphs need many surrogates.", className="form-text"),
        dbc.Row([
            dbc.Col([analysis_ui.label("Time column", ids.GRA_TIME), analysis_ui.dropdown(ids.GRA_TIME, "none")], width=6),
            dbc.Col([analysis_ui.label("Entity column", ids.GRA_ENTITY),
                     analysis_ui.dropdown(ids.GRA_ENTITY, "none")], width=6),
        ], className="g-2"),
        html.Div(id=ids.GRA_HINT, className="form-text mb-2"),
        CARD.controls(),
        html.Hr(),
        analysis_ui.subhead("Options"),
        analysis_ui.number(ids.GRA_NALPHA, "α values", 21, min=2, max=101),
        html.Div("Time-delay embedding of each variable (dimension 1 = none)", className="small mt-2"),
        dbc.Row([
            analysis_ui.number(ids.GRA_DIM, "dim", 1, min=1, max=50, width=6),
            analysis_ui.number(ids.GRA_DELAY, "delay", 1, min=1, width=6),
        ], className="g-2 mt-1"),
        analysis_ui.estimator(ids.GRA_ESTIMATOR, ids.GRA_NQ),
    ], step="G", class_name="controls-card")

    return dbc.Row([
        dbc.Col(controls, lg=3, className="controls-col"),
        dbc.Col(html.Div([
            analysis_ui.heading("Causal graph", "Which variables drive which: every ordered pair tested one step "
                                "ahead with the imbalance gain, indirect links removed by conditioning on the "
                                "other drivers."),
            CARD.results(),
        ]), lg=9),
    ], className="g-3 graph-page")
