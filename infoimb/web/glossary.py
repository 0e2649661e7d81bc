"""What the result terms mean, in one place: the sentences the pages show as tooltips on their
numbers, as tooltips on table column headers, in a "What the numbers mean" list under the
results, and the "How to read this" block of each analysis page.

- :data:`TERMS`: term -> one or two sentences (METHOD.md and the paper are the sources).
- :data:`PAGE_TERMS`: analysis name -> the terms its results show (the list under them).
- :data:`TARGETS`: result component id (:mod:`infoimb.web.ids`) -> term: a tooltip on that
  component wherever a page renders it.
- :func:`column_term`: the term of a table column header ("p (A→B)" -> "p").
- :func:`how_to_read`: the ``HOW_TO_READ`` text of an analysis's module
  (:mod:`infoimb.web.analyses`).
- :func:`decorate`: a page's rendered result with its tooltips and its list of terms;
  :func:`how_to_read_block`: the collapsible block the card shows above the results.

Nothing here imports Dash at import time (the figure builders and the job runner may read
the texts); the component builders import it when called.

Examples
--------
>>> explain("q").startswith("Benjamini–Hochberg q-value")
True
>>> column_term("p (A→B)"), column_term("Δ(S→target)"), column_term("features")
('p', 'Δ', None)
"""

from __future__ import annotations

import importlib
import re
from types import MappingProxyType

from . import ids

__all__ = ["DATA_HELP", "K_HELP", "METRIC_HELP", "PAGE_TERMS", "TARGETS", "TERMS", "column_term", "decorate", "explain", "how_to_read",
           "how_to_read_block", "metric_help", "terms_block"]

_TERMS = {
    # ---- the imbalance and its uncertainty -------------------------------------------------
    "Δ": "Information imbalance Δ(A → B) = 2/N × the mean rank, in B, of each point's nearest neighbour in A. "
         "≈ 0: A's neighbours are B's neighbours (A predicts B); ≈ 1: A says nothing about B. It is asymmetric, "
         "its floor is (k + 1)/N, and it shrinks with N: always quote N and k with it.",
    "Δ(A → B)": "How well space A predicts space B: 2/N × the mean B-rank of each point's nearest A-neighbour "
                "(ties shared exactly). ≈ 0: A contains B's neighbourhoods; ≈ 1: A says nothing about B.",
    "Δ(B → A)": "The reverse direction: how well B predicts A. Compare it with Δ(A → B): the smaller side holds "
                "more of the other's information.",
    "±": "The standard error of Δ: the spread of the per-point terms divided by √(number of query points). "
         "With the subsampled estimator it also covers the sampling of the queries.",
    "CI": "95% confidence interval of Δ from a bootstrap over the points (over whole entities when the Data page "
          "sets an entity column). Quote it when a decision depends on Δ.",
    "p": "p-value of a permutation or surrogate test: (1 + null draws at least as extreme as the observed value) / "
         "(1 + draws). The null breaks the link tested: B's rows permuted against A's (whole entities in a panel), "
         "or circular shifts of the cause in a time series. The smallest possible p is 1/(draws + 1).",
    "q": "Benjamini–Hochberg q-value: the p-value corrected for the many tests shown together; reporting every "
         "entry with q ≤ 0.05 keeps the expected share of false discoveries among them at 5%.",
    "N": "The number of points (rows without missing values) the numbers were computed on. Δ's floor and "
         "its typical values depend on N, so quote it.",
    "significance": "Whether a permutation test found information shared between A and B: significant when the "
                    "smaller p-value of the two directions is at most α/2 = 0.025 (Bonferroni over both).",
    # ---- the plane ------------------------------------------------------------------------
    "plane": "The information imbalance plane: x = Δ(A → B), y = Δ(B → A). Near (0, 0): equivalent; near (1, 1): "
             "independent; far below the diagonal: A contains B; far above: B contains A; on the diagonal in "
             "between: symmetric sharing.",
    "equivalent": "Both Δ are near 0 (below 0.1): each space predicts the other's neighbours.",
    "A contains B": "Δ(A → B) is small and Δ(B → A) clearly larger (by more than 0.1 and beyond "
                    "the uncertainty): A holds B's information and more.",
    "B contains A": "The mirror image: Δ(B → A) small and Δ(A → B) clearly larger.",
    "symmetric sharing": "The two Δ are about equal and between 0 and 1: each space holds part "
                         "of the other's information.",
    "independent": "Both Δ near 1 (above 0.9), or, with a permutation test, no direction "
                   "significant: neither space says anything about the other.",
    "relation": "The region of the plane the pair falls in (equivalent, A contains B, B contains A, symmetric "
                "sharing, independent), from both Δ, their errors and, when run, the permutation test.",
    # ---- selection --------------------------------------------------------------------------
    "d": "The number of features in the subset S.",
    "suggested size": "The smallest d that no larger subset improves on by more than a small "
                      "tolerance and beyond the uncertainty of the difference. Quote this d and its Δ.",
    "selected features": "The best subset of the suggested size, in the order the search found them.",
    "Δ(S → target)": "How well the subset S predicts the target (with no target: all candidates together). The "
                     "curve falls as features are added and levels off once S holds the target's information.",
    "Δ(target → S)": "The reverse: how well the target predicts S. A large value means S carries information the "
                     "target lacks.",
    "symmetric": "The symmetric imbalance [Δ(A → B) + Δ(B → A)] / √2: small only when both directions are small.",
    "change": "The feature added (greedy, beam) or removed (backward) at this size.",
    "random subsets": "The mean Δ ± standard deviation of random subsets of the same size: the baseline a real "
                      "selection must beat clearly.",
    "dummy": "A dummy noise feature, drawn independently for every row: it carries no information, so a sound "
             "selection never picks it; if it is chosen, the sizes from there on are noise.",
    "stability": "The selection repeated on disjoint subsets of the entities or points: a feature chosen in every "
                 "split is a robust finding; one chosen in a single split is not.",
    # ---- lags -------------------------------------------------------------------------------
    "δ": "The lag: the target is taken δ steps after the source, pairs formed within each entity only. δ > 0 "
         "looks into the target's future, δ < 0 into its past.",
    "best lag": "The lag δ with the smallest Δ(source_t → target_t+δ): when the source's information reaches the "
                "target. Its interval comes from a bootstrap (over whole entities in a panel).",
    "arrow of time": "Whether the source predicts the target's future (δ > 0) better than its past (δ < 0): the "
                     "direction in which the source acts. Its p-value comes from a bootstrap of the difference.",
    "pairs": "The number of (source at t, target at t + δ) pairs at this lag: fewer at larger |δ|.",
    "Theiler window": "Neighbours within w time steps of the query in the same series are excluded, so that "
                      "'neighbour' does not just mean 'the same moment'.",
    # ---- causality --------------------------------------------------------------------------
    "IG": "Imbalance gain IG(X → Y) = (Δ(0) − min over α of Δ(α)) / Δ(0), with Δ(α) = Δ((α·X₀, Y₀) → Y_τ): how much "
          "X's present improves the prediction of Y's future beyond Y's own present. ± is its standard error. "
          "IG(X → Y) > 0 with IG(Y → X) ≈ 0 says X drives Y.",
    "α*": "The weight of the cause at which Δ(α) is smallest; α* = 0 means adding the cause does not help.",
    "Δ(0)": "Δ(Y₀ → Y_τ): the effect's future predicted from its own present only.",
    "min Δ": "The smallest Δ((α·X₀, Y₀) → Y_τ) over the α values, reached at α*.",
    "surrogates": "Circular shifts of the cause's series: they keep its autocorrelation and break its timing with "
                  "the effect. The p-value is (1 + surrogates with a gain ≥ the observed) / (1 + surrogates).",
    "direct link": "X → Y is a direct link when X's gain on Y stays significant (q ≤ the level) after conditioning "
                   "on Y's other detected drivers: no indirect path or common cause explains it.",
    "pairwise gain": "The gain of the cause on the effect alone, before conditioning on the other drivers.",
    "gain": "The imbalance gain of the cause given the effect's own present and its other drivers.",
    "why": "Why an ordered pair was kept or removed: not significant on its own, explained by other drivers, a gain "
           "below the minimum, or not significant after the Benjamini–Hochberg correction.",
    "lag": "The lag (in rows) at which the cause acts on the effect.",
    # ---- scales -------------------------------------------------------------------------------
    "weight": "The factor each feature of A is multiplied by before distances (largest = 1): only ratios matter. "
              "A weight near 0 means the feature does not help to predict B.",
    "unit weights": "Δ(A → B) with every feature of A as given (after the Data page's scaling).",
    "Δ(weighted A → B)": "Δ(A → B) with the optimised weights: lower than with unit weights when the features' "
                         "relative scales mattered.",
}
#: term -> its explanation (read-only)
TERMS = MappingProxyType(_TERMS)

#: analysis name -> the terms its results show, in the order of the list under them
PAGE_TERMS = MappingProxyType({
    "compare": ("Δ(A → B)", "Δ(B → A)", "±", "CI", "p", "q", "N", "plane", "equivalent", "A contains B",
                "B contains A", "symmetric sharing", "independent", "significance"),
    "select": ("d", "suggested size", "Δ(S → target)", "Δ(target → S)", "symmetric", "CI", "random subsets",
               "dummy", "stability"),
    "lags": ("δ", "Δ(S → target)", "best lag", "arrow of time", "pairs", "CI", "p", "q", "dummy", "stability"),
    "causality": ("IG", "α*", "Δ(0)", "min Δ", "p", "surrogates"),
    "graph": ("direct link", "gain", "pairwise gain", "lag", "p", "q", "surrogates", "why"),
    "scales": ("unit weights", "Δ(weighted A → B)", "weight"),
    "matrix": ("Δ", "±", "symmetric", "plane", "relation"),
})

#: result component id -> term: a tooltip on it wherever a page renders it
TARGETS = MappingProxyType({
    ids.CMP_DELTA_AB: "Δ(A → B)", ids.CMP_DELTA_BA: "Δ(B → A)", ids.CMP_P_AB: "p", ids.CMP_P_BA: "p",
    ids.CMP_RELATION: "relation", ids.CMP_SIGNIFICANCE: "significance",
    ids.SEL_SUGGESTED: "suggested size", ids.SEL_VALUE: "Δ(S → target)", ids.SEL_SELECTED: "selected features",
    ids.LAG_BEST: "best lag", ids.LAG_BEST_CI: "best lag", ids.LAG_ARROW: "arrow of time",
    ids.LAG_ARROW_P: "arrow of time",
    ids.CAU_IG_XY: "IG", ids.CAU_IG_YX: "IG", ids.CAU_P_XY: "p", ids.CAU_P_YX: "p",
    ids.GRA_N_EDGES: "direct link",
    ids.SCL_BEFORE: "unit weights", ids.SCL_AFTER: "Δ(weighted A → B)",
})

#: what each distance does (the help of a metric control lists the ones it offers)
METRIC_HELP = MappingProxyType({
    "auto": "Euclidean for numbers, categorical if every feature is categorical, Gower for a mix",
    "euclidean": "straight-line distance (the paper's default)",
    "manhattan": "sum of absolute differences, less dominated by one large difference",
    "chebyshev": "the largest single difference",
    "precomputed": "the space is an uploaded distance matrix",
    "categorical": "how many features differ (0/1 per feature): for categories",
    "gower": "|difference| / range per numeric feature plus 0/1 per category, summed",
})


#: the help of every page's k (the number of neighbours)
K_HELP = ("Neighbours per point whose ranks are averaged. k = 1 (the paper's default) resolves the finest "
          "structure; a larger k smooths noise but raises Δ's floor, (k + 1)/N.")


def metric_help(choices, *, what: str = "The distance within the space") -> str:
    """The help of a metric control offering ``choices`` (e.g. ``FEATURE_METRICS``)."""
    known = [f"{m}: {METRIC_HELP[m]}" for m in choices if m in METRIC_HELP]
    return f"{what}. " + "; ".join(known) + "."


#: the Data page's controls: component id -> help shown under it (pages/data.py)
DATA_HELP = MappingProxyType({
    ids.UPLOAD: "One row per point (or per entity and time step), one column per feature; the first row names the "
                "columns. Date columns are recognised; empty cells are missing values (rows with one are left out of "
                "the spaces that use that column, and counted).",
    ids.EXAMPLE_SELECT: "Built-in data sets with a known answer (the paper's figures): a way to learn what each page "
                        "shows before using your own table. Size: the number of points (or entities) drawn.",
    ids.ROLE_FEATURES: "The columns that can enter a space (numbers, or text as categories); together they form the "
                       "full space. Leave out ids, row numbers and the time column: they would count as information.",
    ids.ROLE_TIME: "Time: orders each series, for lags and causality (dates or numbers).",
    ids.ROLE_ENTITY: "Entity: one series per value (a country, a patient); lags and permutations stay within or "
                     "reassign whole entities.",
    ids.ROLE_PERIODIC: "Angles, phases, hours of the day: the distance takes the shorter way around (359° is close "
                       "to 1°). Give each its period (360, 2π, 24).",
    ids.ROLE_SCALING: "How features in different units are made comparable before distances. none: as given (one "
                      "unit must not dominate); z-score: mean 0, standard deviation 1; min-max: range 0–1 (outliers "
                      "squeeze the rest); rank (copula): each value replaced by its rank, so only the order counts "
                      "(robust to outliers and skewed distributions).",
    ids.GROUP_ADD: "A group is a space the pages offer by name: e.g. the policies, or the epidemic's state. Groups "
                   "belong to this table; “Clear groups” removes them.",
    ids.PRE_RESAMPLE_PERIOD: "One row per entity and period: W = week, 2W = two weeks, MS = month start, a number = "
                             "that many time units; how: the statistic of the rows in each period (mean for "
                             "levels, sum for daily counts, last for cumulative ones).",
    ids.PRE_DIFF_COLUMNS: "Cumulative totals (confirmed, deaths, tests) become new counts per step, within each "
                          "entity: the first step of each entity is left empty, and negative steps (corrections) "
                          "become missing with a warning.",
    ids.PRE_RATIO_NUM: "A new column numerator / denominator (e.g. positivity = new confirmed / new tests); a zero "
                       "denominator gives a missing value.",
    ids.PRE_TRANSFORM_COLUMNS: "Absolute value: |x|, e.g. the Data Hub's negative (targeted) policy levels as levels. "
                               "Log growth: log((x_t + 1) / (x_t−1 + 1)) within each entity, e.g. the weekly growth "
                               "of new cases (the paper's epidemic state).",
    ids.PRE_DROP: "Drop: removes every row with a missing or infinite value (the analyses otherwise leave such "
                  "rows out per space, and count them). Convert: in columns that mix numbers and text (“<5”, "
                  "“n/a”), the text cells become missing values. Reset: back to the table as loaded.",
    ids.MATRIX_TIE: "How the matrix's rows match the table's: in the same order, or by the ids in a column.",
})


#: table column header -> term ("why" has none: the graph page explains it above its table)
_COLUMNS = {"d": "d", "δ": "δ", "change": "change", "added": "change", "relation": "relation",
            "significance": "significance", "random subsets": "random subsets", "symmetric": "symmetric",
            "pairs": "pairs", "α*": "α*", "IG": "IG", "Δ(0)": "Δ(0)", "min Δ": "min Δ", "weight": "weight",
            "gain": "gain", "pairwise gain": "pairwise gain", "pairwise p": "p", "lag": "lag",
            "edge": "direct link"}


def explain(term: str) -> str:
    """The explanation of ``term`` (a key of :data:`TERMS`); KeyError for an unknown term."""
    return TERMS[term]


def column_term(header: str) -> str | None:
    """The term explaining a table column, e.g. ``"p (A→B)" -> "p"``, ``"CI →" -> "CI"``; None if
    the column needs no explanation (names, features)."""
    h = str(header).strip()
    if h in _COLUMNS:
        return _COLUMNS[h]
    head = re.split(r"[\s(]", h, maxsplit=1)[0]
    if h.startswith("Δ"):
        return "Δ"
    if head in ("p", "q", "CI", "±"):
        return head
    if head == "interval":
        return "CI"
    return None


def how_to_read(analysis) -> str:
    """The "How to read this" text of an analysis: the ``HOW_TO_READ`` constant of the module
    that declares it ("" when it has none)."""
    module = getattr(getattr(analysis, "run", None), "__module__", None)
    if not module:
        return ""
    try:
        return str(getattr(importlib.import_module(module), "HOW_TO_READ", "") or "")
    except ImportError:
        return ""


def how_to_read_block(analysis):
    """The collapsible "How to read this" block of an analysis page (None without a text)."""
    from dash import html

    text = how_to_read(analysis)
    if not text:
        return None
    return html.Details([html.Summary("How to read this", className="fw-semibold"),
                         html.Div(text, className="small mt-1")],
                        id=ids.job(ids.HOW_TO_READ, analysis.name), className="how-to-read mb-2")


def terms_block(name: str):
    """The list "What the numbers mean" of analysis ``name`` (None when it has no terms)."""
    from dash import html

    terms = PAGE_TERMS.get(name, ())
    if not terms:
        return None
    items = [html.Div([html.Strong(t, className="me-1"), html.Span(TERMS[t])], className="term")
             for t in terms]
    return html.Details([html.Summary("What the numbers mean", className="fw-semibold"),
                         html.Div(items, className="small mt-1")],
                        id=ids.job(ids.TERMS, name), className="terms mt-3")


def _ids(children, out: set) -> set:
    if isinstance(children, (list, tuple)):
        for c in children:
            _ids(c, out)
        return out
    cid = getattr(children, "id", None)
    if isinstance(cid, str):
        out.add(cid)
    sub = getattr(children, "children", None)
    if sub is not None and not isinstance(sub, (str, int, float)):
        _ids(sub, out)
    return out


def decorate(analysis, children):
    """A page's rendered result with a tooltip on each number :data:`TARGETS` explains and the
    list of the page's terms under it (``children`` unchanged apart from the additions)."""
    import dash_bootstrap_components as dbc

    name = getattr(analysis, "name", str(analysis))
    present = _ids(children, set())
    tips = [dbc.Tooltip(TERMS[TARGETS[cid]], target=cid, placement="bottom", className="term-tooltip")
            for cid in sorted(present) if cid in TARGETS]
    block = terms_block(name)
    body = list(children) if isinstance(children, (list, tuple)) else [children]
    return body + tips + ([block] if block is not None else [])
