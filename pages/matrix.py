"""Matrix page: Δ between every pair of several spaces (groups, features, distance matrices)."""

import dash

from infoimb.web.analyses import matrix
from infoimb.web.jobs.card import AnalysisCard

dash.register_page(__name__, path="/matrix", name="Matrix", title="infoimb · Matrix", order=6)

CARD = AnalysisCard(matrix.ANALYSIS)
layout = CARD.layout
