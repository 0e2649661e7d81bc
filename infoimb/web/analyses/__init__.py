"""One declaration per analysis, each named after the core module it serves.

=====================  =========================  ==========================================
module                 page                       core API it calls
=====================  =========================  ==========================================
:mod:`.imbalance`      Compare (``compare``)      ``imbalance_pair``, ``rank_samples``
:mod:`.selection`      Select (``select``)        ``select_features``, ``select_lagged``
:mod:`.lags`           Time lags (``lags``)       ``lag_scan``, ``select_lagged``
:mod:`.causality`      Causality (``causality``)  ``causality_test``
:mod:`.graph`          Causal graph (``graph``)   ``causal_graph``
:mod:`.weights`        Scales (``scales``)        ``optimize_weights``
=====================  =========================  ==========================================

Each module declares ``ANALYSIS``, an :class:`~infoimb.web.jobs.runner.Analysis`: how the
page's inputs become validated settings (``prepare``), the run (a call of the public API),
and how a result becomes figures, tables and a verdict (``render``, ``to_csv``).
:data:`ANALYSES` maps their names to them; it is built once, at import, and read-only.
"""

from __future__ import annotations

from types import MappingProxyType

from . import causality, graph, imbalance, lags, selection, weights

__all__ = ["ANALYSES", "causality", "graph", "imbalance", "lags", "selection", "weights"]

#: name -> declaration, in the order of the navigation bar
ANALYSES = MappingProxyType({m.ANALYSIS.name: m.ANALYSIS for m in (imbalance, selection, lags, causality, graph, weights)})
