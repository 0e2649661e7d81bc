"""Causal graph page: which of many time series drive which, as a network of direct links
(everything from the declaration :data:`infoimb.web.analyses.graph.ANALYSIS`)."""

import dash

from infoimb.web.analyses import graph
from infoimb.web.jobs.card import AnalysisCard

dash.register_page(__name__, path="/graph", name="Causal graph", title="infoimb · Causal graph", order=5)

CARD = AnalysisCard(graph.ANALYSIS)
layout = CARD.layout
