"""Scales page: relative weights of A's features that best predict B."""

import dash

from infoimb.web.analyses import weights
from infoimb.web.jobs.card import AnalysisCard

dash.register_page(__name__, path="/scales", name="Scales", title="infoimb · Scales", order=5)

CARD = AnalysisCard(weights.ANALYSIS)
layout = CARD.layout
