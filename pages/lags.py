"""Time lags page: Δ(source_t → target_t+δ) over a range of lags, the arrow of time, and a
selection of the candidates with a lagged target."""

import dash

from infoimb.web.analyses import lags
from infoimb.web.jobs.card import AnalysisCard

dash.register_page(__name__, path="/lags", name="Time lags", title="infoimb · Time lags", order=3)

CARD = AnalysisCard(lags.ANALYSIS)
layout = CARD.layout
