"""Matrix page: Δ between every pair of several spaces (groups, features, distance matrices)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import State, dcc, html

from infoimb.web import analysis_ui, ids
from infoimb.web.analyses import matrix
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.ui import section

dash.register_page(__name__, path="/matrix", name="Matrix", title="infoimb · Matrix", order=6)

FIELDS = {"spaces": ids.MATRIX_SPACES, "k": ids.MATRIX_K, "metric": ids.MATRIX_METRIC,
          "estimator": ids.MATRIX_ESTIMATOR, "n_queries": ids.MATRIX_NQ}

CARD = AnalysisCard(
    matrix.ANALYSIS,
    state={k: State(v, "value") for k, v in FIELDS.items()},
    options={"spaces": ids.MATRIX_SPACES},
    hint=ids.MATRIX_HINT,
)


def layout(**_):
    controls = section("Spaces", [
        analysis_ui.label("Two or more spaces", ids.MATRIX_SPACES, first=True),
        dcc.Dropdown(id=ids.MATRIX_SPACES, multi=True,
                     placeholder="groups, features, distance matrices"),
        html.Div(id=ids.MATRIX_HINT, className="form-text mb-2"),
        CARD.controls(),
        html.Hr(),
        analysis_ui.subhead("Options"),
        dbc.Row([
            analysis_ui.number(ids.MATRIX_K, "k", 1, min=1, width=5),
            dbc.Col(dbc.Select(id=ids.MATRIX_METRIC, value="euclidean", size="sm",
                               options=[{"label": m, "value": m} for m in matrix.METRICS]), width=7),
        ], className="g-2"),
        html.Div("The metric applies to the feature spaces; a distance matrix is its own distance.",
                 className="form-text"),
        analysis_ui.estimator(ids.MATRIX_ESTIMATOR, ids.MATRIX_NQ),
    ], step="M", class_name="controls-card")

    return dbc.Row([
        dbc.Col(controls, lg=3, className="controls-col"),
        dbc.Col(html.Div([
            analysis_ui.heading("Many spaces at once",
                                "Δ(row → column) for every pair of the chosen spaces, and every pair on the "
                                "information imbalance plane."),
            CARD.results(),
        ]), lg=9),
    ], className="g-3 matrix-page")
