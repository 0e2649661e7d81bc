"""Causality page: the imbalance gain both ways, Δ(α) curves, IG, α* and the verdict.

Beyond the standard card, the page fills the entity values of the chosen entity column (one
series is analysed) and the hint, which follows the time and entity controls.
"""

import dash
from dash import Input, Output, State

from infoimb.web import ids
from infoimb.web.analyses import causality
from infoimb.web.runtime import session_frame, session_meta
from infoimb.web.inputs import NONE, entity_values
from infoimb.web.jobs.card import AnalysisCard
from infoimb.web.jobs.runner import last_inputs

dash.register_page(__name__, path="/causality", name="Causality", title="infoimb · Causality", order=4)

CARD = AnalysisCard(causality.ANALYSIS)
layout = CARD.layout


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
    meta = session_meta(info)
    if not meta:
        return [], None, {"display": "none"}, "Load a table on the Data page first."
    text = causality.table_hint(meta, time, entity)
    if not entity or entity == NONE or entity not in meta.get("columns", []):
        return [], None, {"display": "none"}, text
    values = entity_values(session_frame(), entity)
    chosen = causality.entity_choice(values, current, last_inputs(client, causality.NAME).get("entity_value"))
    return [{"label": v, "value": v} for v in values], chosen, {}, text
