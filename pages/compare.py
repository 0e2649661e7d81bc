"""Compare page: Δ both ways between two spaces, the relation, the plane and the ranks."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import State, dcc, html

from infoimb.web import ids
from infoimb.web.analyses import imbalance
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.ui import section

dash.register_page(__name__, path="/compare", name="Compare", title="infoimb · Compare", order=1)

CARD = AnalysisCard(
    imbalance.ANALYSIS,
    state={
        "a": State(ids.CMP_A, "value"),
        "b": State(ids.CMP_B, "value"),
        "k": State(ids.CMP_K, "value"),
        "metric": State(ids.CMP_METRIC, "value"),
        "estimator": State(ids.CMP_ESTIMATOR, "value"),
        "n_queries": State(ids.CMP_NQ, "value"),
        "extras": State(ids.CMP_EXTRA, "value"),
    },
    options={"a": ids.CMP_A, "b": ids.CMP_B},
    hint=ids.CMP_HINT,
)


def layout(**_):
    controls = section("Two spaces", [
        dbc.Label("Space A", html_for=ids.CMP_A, className="fw-semibold mb-1"),
        dcc.Dropdown(id=ids.CMP_A, placeholder="a group, a feature or the full space", clearable=False),
        dbc.Label("Space B", html_for=ids.CMP_B, className="fw-semibold mb-1 mt-2"),
        dcc.Dropdown(id=ids.CMP_B, placeholder="a group, a feature or the full space", clearable=False),
        html.Div(id=ids.CMP_HINT, className="form-text mb-2"),
        CARD.controls(),
        html.Hr(),
        html.Div("Options", className="fw-semibold mb-1"),
        dbc.Row([
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("k"),
                                    dbc.Input(id=ids.CMP_K, type="number", min=1, step=1, value=1, debounce=True)],
                                   size="sm"), width=5),
            dbc.Col(dbc.Select(id=ids.CMP_METRIC, value="euclidean", size="sm",
                               options=[{"label": m, "value": m} for m in imbalance.METRICS]), width=7),
        ], className="g-2"),
        dbc.RadioItems(id=ids.CMP_ESTIMATOR, value="exact", className="mt-2 small",
                       options=[{"label": "exact: every point is a query", "value": "exact"},
                                {"label": "subsampled queries (large N)", "value": "subsampled"}]),
        dbc.InputGroup([dbc.InputGroupText("queries"),
                        dbc.Input(id=ids.CMP_NQ, type="number", min=10, step=1, value=1000, debounce=True)],
                       size="sm", className="mt-1"),
        dbc.Checklist(id=ids.CMP_EXTRA, value=[], className="mt-2 small",
                      options=[{"label": "plane: add " + v, "value": k} for k, v in imbalance.EXTRAS.items()]),
    ], step="A", class_name="controls-card")

    return dbc.Row([
        dbc.Col(controls, lg=3, className="controls-col"),
        dbc.Col(html.Div([
            html.Div([
                html.H4("Compare two spaces", className="page-title mb-0"),
                html.Span("Δ(A → B) is small when each point's nearest neighbour in A is also close in B: "
                          "A predicts B.", className="text-muted small ms-3"),
            ], className="d-flex align-items-baseline flex-wrap mb-2"),
            CARD.results(),
        ]), lg=9),
    ], className="g-3 compare-page")
