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
:mod:`.matrix`         Matrix (``matrix``)        ``imbalance_matrix``
=====================  =========================  ==========================================

Each module declares ``ANALYSIS``, an :class:`~infoimb.web.jobs.runner.Analysis`: its input
fields, how the page's inputs become validated settings (``prepare``), the run (a call of the
public API), and how a result becomes figures, tables and a verdict (``render``, ``to_csv``).
:data:`ANALYSES` maps their names to them; it is built once, at import, and read-only.

How to declare an analysis
--------------------------
1. **Fields.** List the inputs in a ``FORM`` tuple of typed fields
   (:mod:`infoimb.web.fields`) and layout items. Each field has a name (the key of
   ``inputs``), a component id *from* :mod:`infoimb.web.ids` (add one there), a label, a
   default, its limits and an optional help text shown under the control::

       FORM = (
           fields.SpaceField("a", ids.X_A, "Space A", first=True),
           fields.HINT, fields.RUN, fields.RULE,
           fields.Row(fields.IntField("k", ids.X_K, "k", 1, low=1, what="the number of neighbours k"),
                      fields.ChoiceField("metric", ids.X_METRIC, "metric", "euclidean",
                                         choices={m: m for m in FEATURE_METRICS})),
           fields.IntField("n_permutations", ids.X_NPERM, "permutations", 0, low=0, high=10_000,
                           help="0: no p-value"),
           *fields.estimator_fields(ids.X_ESTIMATOR, ids.X_NQ),
       )

   Kinds: ``IntField`` / ``RealField`` (``low``, ``high``, ``optional``), ``ChoiceField``
   (``choices``: value -> label, ``radio``), ``SpaceField`` / ``ColumnField`` (options from the
   session's table, ``none_label``), ``FlagField`` (check boxes or a ``switch``),
   ``DropdownField`` (``sync=False``: options a page fills itself). Fields whose value depends
   on the table say ``data=True`` (spaces and columns do by default). Every field has a
   ``help``: what it is, what a larger value does, why the default (tests/test_web_meaning.py
   checks); shared texts (k, the metrics) are in :mod:`infoimb.web.glossary`.
2. **Validation.** In ``prepare(inputs, ctx)`` read each plain number or choice through its
   field: ``ANALYSIS.check(inputs, "n_permutations")`` (``infoimb._validation``; an empty box
   gives the default; out of range raises :class:`~infoimb.web.context.AnalysisInputError`
   whose message the page shows; nothing is clipped). Checks that depend on the table (``k``
   below the number of points, a lag shorter than the series) stay in ``prepare``.
3. **Defaults from the table.** ``defaults(meta, groups) -> {name: value}`` for the
   data-dependent fields (an example's roles); ``hint(meta) -> str`` for the line under the
   inputs (``hint_id``); optionally ``finish(values, meta, groups)`` for a last adjustment.
4. **Declare** ``ANALYSIS = Analysis(name=..., title=..., prepare=..., run=..., render=...,
   to_csv=..., form=FORM, defaults=..., hint=..., hint_id=ids.X_HINT, run_label=...,
   empty_text=..., section=..., step=..., intro=..., page_class=...)`` and list the module
   below. Raise ``version`` when ``run`` changes its results (it is part of the memo key).
   A module constant ``HOW_TO_READ`` (3–6 sentences: what the figure shows, what a good or bad
   answer looks like, which number to quote) is the page's "How to read this"; the terms its
   results show go into :data:`infoimb.web.glossary.PAGE_TERMS` (tooltips, list of terms).
5. **The page** is ``pages/<name>.py``: ``dash.register_page(...)``,
   ``CARD = AnalysisCard(module.ANALYSIS)`` and ``layout = CARD.layout``. The card builds the
   controls, the States of a run, the settings sync (options, defaults, the last run's inputs
   on mount), Run / Cancel / progress, the memo, downloads and errors. A page adds its own
   callback only for what no field expresses (the Causality page's entity values).
"""

from __future__ import annotations

from types import MappingProxyType

from . import causality, graph, imbalance, lags, matrix, selection, weights

__all__ = ["ANALYSES", "causality", "graph", "imbalance", "lags", "matrix", "selection", "weights"]

#: name -> declaration, in the order of the navigation bar
ANALYSES = MappingProxyType({m.ANALYSIS.name: m.ANALYSIS
                             for m in (imbalance, selection, lags, causality, graph, weights, matrix)})
