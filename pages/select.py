"""Select page: the features that best predict a target (or compress the candidates)."""

import dash

from infoimb.web.analyses import selection
from infoimb.web.jobs.card import AnalysisCard

dash.register_page(__name__, path="/select", name="Select", title="infoimb · Select", order=2)

CARD = AnalysisCard(selection.ANALYSIS)
layout = CARD.layout
