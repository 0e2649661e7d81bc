"""Select page: the features that best predict a target (or compress the candidates)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import State, html

from infoimb.web import analysis_ui
from infoimb.web import ids
from infoimb.web.analyses import selection
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.ui import section

dash.register_page(__name__, path="/select", name="Select", title="infoimb · Select", order=2)

FIELDS = {
    "candidates": ids.SEL_CANDIDATES, "target": ids.SEL_TARGET, "lag": ids.SEL_LAG, "method": ids.SEL_METHOD,
    "n_best": ids.SEL_NBEST, "max_features": ids.SEL_MAX, "criterion": ids.SEL_CRITERION, "k": ids.SEL_K,
    "estimator": ids.SEL_ESTIMATOR, "n_queries": ids.SEL_NQ, "n_random": ids.SEL_RANDOM, "dummy": ids.SEL_DUMMY,
    "baselines": ids.SEL_BASELINES,
}

CARD = AnalysisCard(
    selection.ANALYSIS,
    state={k: State(v, "value") for k, v in FIELDS.items()},
    options={"candidates": ids.SEL_CANDIDATES, "target": ids.SEL_TARGET},
    hint=ids.SEL_HINT,
)


def layout(**_):
    controls = section("Features and target", [
        analysis_ui.label("Candidate features", ids.SEL_CANDIDATES, first=True),
        analysis_ui.dropdown(ids.SEL_CANDIDATES, "a group of candidate features"),
        analysis_ui.label("Target", ids.SEL_TARGET),
        analysis_ui.dropdown(ids.SEL_TARGET, "a group, a feature, or none"),
        html.Div(analysis_ui.number(ids.SEL_LAG, "target at t +", 0, step=1, suffix="steps"), className="mt-2"),
        html.Div(id=ids.SEL_HINT, className="form-text mb-2"),
        CARD.controls(),
        html.Hr(),
        analysis_ui.subhead("Search"),
        dbc.Select(id=ids.SEL_METHOD, value="greedy", size="sm",
                   options=[{"label": v, "value": k} for k, v in selection.METHODS.items()]),
        dbc.Row([
            analysis_ui.number(ids.SEL_MAX, "max d", 8, min=1, width=6),
            analysis_ui.number(ids.SEL_NBEST, "beam n", 10, min=1, width=6),
        ], className="g-2 mt-1"),
        dbc.RadioItems(id=ids.SEL_CRITERION, value="a_to_b", className="mt-2 small",
                       options=[{"label": v, "value": k} for k, v in selection.CRITERIA.items()]),
        html.Hr(),
        analysis_ui.subhead("Options"),
        analysis_ui.number(ids.SEL_K, "k", 1, min=1),
        analysis_ui.estimator(ids.SEL_ESTIMATOR, ids.SEL_NQ),
        html.Hr(),
        analysis_ui.subhead("Baselines"),
        analysis_ui.number(ids.SEL_RANDOM, "random subsets", 0, min=0, suffix="per size"),
        dbc.Checklist(id=ids.SEL_DUMMY, value=["dummy"], className="mt-2 small",
                      options=[{"label": "add a dummy noise feature (must never be chosen)", "value": "dummy"}]),
        _baselines(),
    ], step="S", class_name="controls-card")

    return dbc.Row([
        dbc.Col(controls, lg=3, className="controls-col"),
        dbc.Col(html.Div([
            analysis_ui.heading("Select features", "The subset S of the candidates whose neighbours best predict the "
                                         "target's: Δ(S → target) against the number of features."),
            CARD.results(),
        ]), lg=9),
    ], className="g-3 select-page")



def _baselines():
    """FPS / CUR from scikit-matter beside the curve (hidden, with a note, when not installed)."""
    if selection.skmatter_available():
        return html.Div([
            dbc.Checklist(id=ids.SEL_BASELINES, value=[], className="mt-1 small",
                          options=[{"label": f"{v} beside the curve", "value": k}
                                   for k, v in selection.BASELINES.items()]),
            html.Div("Unsupervised selections of the candidates, scored like the search (target at lag 0).",
                     className="form-text")])
    return html.Div([dbc.Checklist(id=ids.SEL_BASELINES, value=[], options=[], style={"display": "none"}),
                     html.Div("FPS / CUR baselines need scikit-matter (pip install 'infoimb[materials]').",
                              className="form-text")])
