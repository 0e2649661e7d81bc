"""Scales page: relative weights of A's features that best predict B."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import State, html

from infoimb.web import analysis_ui
from infoimb.web import ids
from infoimb.web.analyses import weights
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.ui import section

dash.register_page(__name__, path="/scales", name="Scales", title="infoimb · Scales", order=5)

FIELDS = {
    "a": ids.SCL_A, "b": ids.SCL_B, "method": ids.SCL_METHOD, "k": ids.SCL_K, "n_iter": ids.SCL_ITER,
    "l1": ids.SCL_L1, "estimator": ids.SCL_ESTIMATOR, "n_queries": ids.SCL_NQ,
}

CARD = AnalysisCard(
    weights.ANALYSIS,
    state={k: State(v, "value") for k, v in FIELDS.items()},
    options={"a": ids.SCL_A, "b": ids.SCL_B},
    hint=ids.SCL_HINT,
)


def layout(**_):
    controls = section("Spaces", [
        analysis_ui.label("A: the features to weight", ids.SCL_A, first=True),
        analysis_ui.dropdown(ids.SCL_A, "a group of two or more features"),
        analysis_ui.label("B: the space to predict", ids.SCL_B),
        analysis_ui.dropdown(ids.SCL_B, "a group or a feature"),
        html.Div(id=ids.SCL_HINT, className="form-text mb-2"),
        CARD.controls(),
        html.Hr(),
        analysis_ui.subhead("Method"),
        dbc.Select(id=ids.SCL_METHOD, value="dii", size="sm",
                   options=[{"label": v, "value": k} for k, v in weights.METHODS.items()]),
        dbc.Row([
            analysis_ui.number(ids.SCL_K, "k", 1, min=1, width=5),
            analysis_ui.number(ids.SCL_ITER, "DII steps", 200, min=1, max=5000, width=7),
        ], className="g-2 mt-1"),
        html.Div(analysis_ui.number(ids.SCL_L1, "DII L1", 0, min=0, step=0.01), className="mt-1"),
        html.Div("L1 > 0 pushes useless weights to exactly 0 (try 0.01–0.5).", className="form-text"),
        analysis_ui.estimator(ids.SCL_ESTIMATOR, ids.SCL_NQ),
    ], step="W", class_name="controls-card")

    return dbc.Row([
        dbc.Col(controls, lg=3, className="controls-col"),
        dbc.Col(html.Div([
            analysis_ui.heading("Scales of features", "Features in different units have no common scale: the weights of A's "
                                            "features that minimise Δ(weighted A → B)."),
            CARD.results(),
        ]), lg=9),
    ], className="g-3 scales-page")
