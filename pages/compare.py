"""Compare page: Δ both ways between two spaces, the relation, the plane and the ranks."""

import dash

from infoimb.web.analyses import imbalance
from infoimb.web.jobs.card import AnalysisCard

dash.register_page(__name__, path="/compare", name="Compare", title="infoimb · Compare", order=1)

CARD = AnalysisCard(imbalance.ANALYSIS)
layout = CARD.layout
