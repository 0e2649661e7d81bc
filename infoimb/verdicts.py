"""Every verdict sentence, in one place: the command line and the dashboard print these.

Each function takes a result object and returns one sentence (or a few) in plain words; the
optional labels name the spaces as the reader knows them (column lists on the command line,
the names chosen on a page).

Examples
--------
>>> import numpy as np, infoimb
>>> X = np.random.default_rng(0).normal(size=(500, 3))
>>> relation(infoimb.imbalance_pair(X, X))
"A and B are equivalent: each predicts the other's neighbours"
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the result classes import nothing from here; no cycle at run time
    from .causality import CausalityResult
    from .graph import CausalGraph
    from .imbalance import ImbalancePair
    from .lags import LagScanResult
    from .selection import SelectionResult

__all__ = ["NULL_TEXT", "RELATION_TEXT", "causal_graph", "causality", "lag_scan", "lag_significance", "relation",
           "relation_confidence", "selection"]

#: the relation between two spaces (see ``imbalance.classify_relation``) in words
RELATION_TEXT = {
    "equivalent": "A and B are equivalent: each predicts the other's neighbours",
    "a_contains_b": "A contains the information of B (A predicts B, not the reverse)",
    "b_contains_a": "B contains the information of A (B predicts A, not the reverse)",
    "symmetric": "A and B share part of their information, symmetrically",
    "independent": "A and B are independent: neither predicts the other",
}


def relation(pair: ImbalancePair) -> str:
    """The relation of an :class:`~infoimb.imbalance.ImbalancePair` in words.

    Examples
    --------
    >>> from infoimb.imbalance import ImbalancePair
    >>> relation(ImbalancePair(0.06, 0.55, 0.003, 0.01, 1000, 1, 1000, "a_contains_b"))
    'A contains the information of B (A predicts B, not the reverse)'
    """
    text = RELATION_TEXT[pair.relation]
    if getattr(pair, "p_a_to_b", None) is not None:
        text += (f" (permutation test, {pair.n_permutations} permutations, {pair.null} null: "
                 f"p(A→B) = {pair.p_a_to_b:.3g}, p(B→A) = {pair.p_b_to_a:.3g})")
    return text


#: the nulls of the permutation tests (``ImbalancePair.null``) in words
NULL_TEXT = {
    "rows": "B's rows permuted relative to A's",
    "entities": "whole entities' B-series reassigned between entities",
    "shift": "B's series circularly shifted in time",
}


def relation_confidence(pair: ImbalancePair, *, alpha: float = 0.05) -> tuple[str, str]:
    """How sure the relation of a pair is: a short label and a sentence.

    The label is ``"significant"`` when either direction's permutation p-value is at most
    ``alpha / 2`` (the rule of :func:`infoimb.imbalance.classify_relation`), ``"not
    significant"`` otherwise, ``"not tested"`` without permutations, and ``"too few
    permutations"`` when 1 / (n_permutations + 1) is above ``alpha / 2``. The sentence gives
    the p-values, the null, and whether the asymmetry's interval excludes 0.

    Examples
    --------
    >>> from infoimb.imbalance import ImbalancePair
    >>> p = ImbalancePair(0.98, 0.99, 0.01, 0.01, 200, 1, 200, "independent", 0.41, 0.57,
    ...                   n_permutations=99, null="rows")
    >>> relation_confidence(p)[0]
    'not significant'
    """
    p_ab, p_ba = getattr(pair, "p_a_to_b", None), getattr(pair, "p_b_to_a", None)
    if p_ab is None and p_ba is None:
        return ("not tested", "No significance test was run: the relation is read from Δ and its "
                              "standard errors alone, which names a relation on pure noise far more "
                              "often than 5% of the time.")
    ps = [p for p in (p_ab, p_ba) if p is not None]
    from .imbalance import can_reach

    n_perm = getattr(pair, "n_permutations", None)
    if n_perm and not can_reach(n_perm, alpha):
        need = math.ceil(2 / alpha) - 1
        return ("too few permutations",
                f"Too few permutations to decide: with {n_perm} the smallest p-value possible is "
                f"1/{n_perm + 1} = {1 / (n_perm + 1):.3g}, above α/2 = {alpha / 2:g}, so the test could "
                f"not detect shared information however strong; use at least {need}. The relation is "
                "read from Δ and its standard errors alone.")
    null = NULL_TEXT.get(pair.null or "", pair.null or "")
    test = (f"p(A→B) = {p_ab:.3g}, p(B→A) = {p_ba:.3g} ({pair.n_permutations} permutations, "
            f"null: {null})")
    if min(ps) > alpha / 2:
        return ("not significant", f"Not significant: {test}; neither is at most α/2 = {alpha / 2:g}, "
                                   "so no information shared between A and B is detected.")
    text = f"Significant: {test}; at least one is at most α/2 = {alpha / 2:g}."
    ci = getattr(pair, "difference_ci", None)
    if ci is not None:
        conf = 100 * (pair.confidence or 0.95)
        excl = ci[0] > 0 or ci[1] < 0
        text += (f" The asymmetry Δ(A→B) − Δ(B→A) = {pair.a_to_b - pair.b_to_a:.3f} has the {conf:.0f}% "
                 f"interval [{ci[0]:.3f}, {ci[1]:.3f}], which "
                 + ("excludes 0: the asymmetry is significant." if excl else
                    "includes 0: the asymmetry is not significant."))
    return "significant", text


def lag_scan(scan: LagScanResult, *, source: str | None = None, target: str | None = None,
             step: str | None = None, significance: bool = True) -> str:
    """The arrow of time read from a :class:`~infoimb.lags.LagScanResult`, with the arrow's
    p-value and the best lag's interval when the scan computed them (see :func:`_lag_words`
    for the sentences and an example). ``significance=False``: the sentences without them
    (for a page that shows them on their own, :func:`lag_significance`)."""
    words = _lag_words(scan, source=source, target=target, step=step)
    return words + _lag_significance(scan) if significance else words


def lag_significance(scan: LagScanResult) -> str:
    """The arrow's p-value and the best lag's interval of a scan run with permutations, as
    sentences ("" for a plain scan)."""
    return _lag_significance(scan).strip()


def _lag_words(scan: LagScanResult, *, source: str | None = None, target: str | None = None,
               step: str | None = None) -> str:
    """The arrow of time read from a :class:`~infoimb.lags.LagScanResult`.

    ``source`` / ``target`` name the two sides (default: their columns); ``step`` the length
    of one time step (e.g. "7 days"), when known.

    Examples
    --------
    >>> import numpy as np, pandas as pd, infoimb
    >>> x = np.random.default_rng(0).normal(size=300)
    >>> df = pd.DataFrame({"t": np.arange(300), "x": x, "y": np.r_[0, 0, x[:-2]]})
    >>> lag_scan(infoimb.lag_scan(df, "x", "y", lags=range(-3, 4), time="t")).split(" (mean")[0]
    'The source (x) predicts the future of the target (y) better than its past'
    """
    source = ", ".join(scan.source) if source is None else source
    target = ", ".join(scan.target) if target is None else target
    f, p, best = scan.future_mean, scan.past_mean, scan.best_lag
    unit = f" (1 step = {step})" if step else ""
    if scan.arrow == "future":
        return (f"The source ({source}) predicts the future of the target ({target}) better than "
                f"its past (mean Δ {f:.3f} over δ > 0 against {p:.3f} over δ < 0): the arrow of "
                f"time of the source acting on the target. Δ is smallest at δ = {best}{unit}.")
    if scan.arrow == "past":
        return (f"The source ({source}) predicts the past of the target ({target}) better than "
                f"its future (mean Δ {p:.3f} over δ < 0 against {f:.3f} over δ > 0): the arrow "
                f"of time of the target acting on the source. Δ is smallest at δ = {best}{unit}.")
    if math.isnan(f):  # no mirrored lags
        return ("No arrow of time can be read: the lags scanned have no pairs δ and −δ. Δ is "
                f"smallest at δ = {best}{unit}.")
    within = ("not significantly (bootstrap test)" if getattr(scan, "n_permutations", 0)
              else "within two standard errors")
    return (f"No clear arrow of time between {source} and {target}: future and past are "
            f"predicted equally well {within} (mean Δ {f:.3f} over δ > 0, "
            f"{p:.3f} over δ < 0). Δ is smallest at δ = {best}{unit}.")


def _lag_significance(scan) -> str:
    """The arrow's p-value and the best lag's interval, for a scan run with permutations
    (the sentences of a plain scan stay as they were)."""
    text = ""
    if not getattr(scan, "n_permutations", 0):
        return text
    arrow_p = getattr(scan, "arrow_p", None)
    if arrow_p is not None and not math.isnan(arrow_p):
        text += f" Arrow of time: bootstrap p = {arrow_p:.3g}."
    interval = getattr(scan, "best_lag_interval", None)
    if interval is not None:
        conf = 100 * (scan.confidence or 0.95)
        text += f" Best lag, {conf:.0f}% interval: [{interval[0]}, {interval[1]}]."
    return text


def causality(result: CausalityResult, *, cause: str = "X", effect: str = "Y",
              conditioning: str | None = None) -> str:
    """The direction of coupling of a :class:`~infoimb.causality.CausalityResult`, with the
    two imbalance gains.

    ``cause`` / ``effect`` name X and Y; ``conditioning`` names Z (default "Z" when the test
    was conditioned, else nothing).

    Examples
    --------
    >>> import numpy as np
    >>> from infoimb.causality import CausalityResult, ImbalanceGain
    >>> g = lambda gain: ImbalanceGain(np.zeros(1), np.ones(1), np.zeros(1), gain, 0.01, 0.5,
    ...                                1, 5, 100, 100)
    >>> causality(CausalityResult(g(0.4), g(0.0), "x drives y", 0.05, 3.0)).split(":")[0]
    'X drives Y'
    """
    xy, yx = result.x_to_y, result.y_to_x
    if conditioning is None and xy.conditioned:
        conditioning = "Z"
    tau = xy.tau
    tested = getattr(xy, "p_value", None) is not None
    g1 = f"IG({cause} → {effect}) = {xy.gain:.3f} ± {xy.gain_se:.3f}" + (
        f", p = {xy.p_value:.3g}" if tested else "")
    g2 = f"IG({effect} → {cause}) = {yx.gain:.3f} ± {yx.gain_se:.3f}" + (
        f", p = {yx.p_value:.3g}" if getattr(yx, "p_value", None) is not None else "")
    beyond = f" and {conditioning}" if conditioning else ""
    v = result.verdict
    if v == "x drives y":
        return (f"{cause} drives {effect}: adding {cause}'s present to {effect}'s own "
                f"present{beyond} improves the prediction of {effect} τ = {tau} rows later "
                f"({g1}, best at α* = {xy.alpha_star:.2f}), while {effect} does not help to "
                f"predict {cause} ({g2}).")
    if v == "y drives x":
        return (f"{effect} drives {cause}: adding {effect}'s present to {cause}'s own "
                f"present{beyond} improves the prediction of {cause} τ = {tau} rows later "
                f"({g2}, best at α* = {yx.alpha_star:.2f}), while {cause} does not help to "
                f"predict {effect} ({g1}).")
    if v == "bidirectional":
        return (f"Coupling both ways: each present helps to predict the other's future ({g1}; "
                f"{g2}). Strong one-way coupling can synchronise two systems and show up like "
                "this too: compare the two gains.")
    if tested:
        rule = (f"a gain counts above {result.min_gain:g} with a p-value below "
                f"{getattr(result, 'level', 0.05):g} against {xy.n_surrogates} circular-shift surrogates")
    else:
        rule = f"a gain counts above {result.min_gain:g} and {result.z:g} standard errors"
    return (f"No detectable coupling: neither present helps to predict the other's future "
            f"beyond its own{beyond} ({g1}; {g2}; {rule}).")


def selection(result: SelectionResult) -> str:
    """The suggested size of a :class:`~infoimb.selection.SelectionResult` and its features,
    and whether the dummy noise feature (when one was added) was ever chosen.

    Examples
    --------
    >>> import numpy as np, infoimb
    >>> X = np.random.default_rng(0).normal(size=(300, 4))
    >>> r = infoimb.select_features(X, 3 * X[:, 0] - 10 * X[:, 2], max_features=3)
    >>> selection(r).split(",")[0]
    'Suggested size d = 2 (x2'
    """
    criterion = "Δ(S → target)" if result.criterion == "a_to_b" else "the symmetric Δ"
    if result.target_columns is None:
        criterion = criterion.replace("target", "all candidates")
    text = (f"Suggested size d = {result.suggested_size} ({', '.join(result.selected)}): the "
            f"smallest size that no larger size improves by more than "
            f"{0.01 if result.tolerance is None else result.tolerance:g} and beyond the paired "
            f"bootstrap interval of the difference of {criterion}.")
    if result.dummy:
        chosen = [s.size for s in result.steps
                  if result.dummy in s.features and s.size <= result.suggested_size]
        if chosen:
            text += (f" The dummy noise feature ({result.dummy}) is among the chosen features at "
                     f"d = {', '.join(map(str, chosen))}: below that size's error, the choice is "
                     "not meaningful.")
        else:
            text += (f" The dummy noise feature ({result.dummy}) was never chosen up to the "
                     "suggested size, as it should be.")
    return text


def causal_graph(result: CausalGraph) -> str:
    """The direct links of a :class:`~infoimb.graph.CausalGraph` in words: how many, the
    strongest ones with gain and lag, the variables left without a link, and what removed the
    significant pairs that are not edges (explained by other drivers).

    Examples
    --------
    >>> import pandas as pd
    >>> from infoimb.graph import CausalGraph
    >>> e = pd.DataFrame({"cause": ["X"], "effect": ["Y"], "gain": [0.4], "lag": [1],
    ...                   "p": [0.005], "q": [0.01]})
    >>> t = pd.DataFrame({"cause": ["X", "Y"], "effect": ["Y", "X"], "edge": [True, False],
    ...                   "reason": ["significant", "not significant on its own"]})
    >>> g = CausalGraph(("X", "Y"), {}, e, t, (1,), 100, 1, 5, 99, 10, 0.05, 0.1, 0.01, None,
    ...                 None)
    >>> causal_graph(g).split(":")[0]
    '1 direct link among 2 variables (q ≤ 0.05)'
    """
    edges, tested = result.edges, result.tested
    names = list(result.variables)
    m, r = len(names), len(edges)
    if r == 0:
        return (f"No direct link among the {m} variables at q ≤ {result.alpha:g} "
                f"({len(tested)} ordered pairs tested with {result.n_surrogates} surrogates each; "
                f"the smallest possible p is 1/{result.n_surrogates + 1}).")
    shown = [f"{c} → {e} (gain {g:.2f}, lag {lag})"
             for c, e, g, lag in zip(edges["cause"], edges["effect"], edges["gain"], edges["lag"])]
    more = ""
    if len(shown) > 8:
        more = f" and {len(shown) - 8} more"
        shown = shown[:8]
    text = (f"{r} direct link{'s' if r != 1 else ''} among {m} variables (q ≤ {result.alpha:g}): "
            f"{', '.join(shown)}{more}.")
    linked = set(edges["cause"]) | set(edges["effect"])
    alone = [v for v in names if v not in linked]
    if alone:
        text += (f" {', '.join(alone)} {'has' if len(alone) == 1 else 'have'} no link.")
    explained = int(tested["reason"].astype(str).str.startswith("explained by").sum())
    if explained:
        text += (f" {explained} other pair{'s' if explained != 1 else ''} with a pairwise p ≤ "
                 f"{result.pc_alpha:g} {'were' if explained != 1 else 'was'} explained by other "
                 "drivers (indirect links or common causes).")
    return text
