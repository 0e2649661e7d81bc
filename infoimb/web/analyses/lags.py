"""The "time lags" analysis: Δ(source_t → target_t+δ) and back over a range of lags, the best
lag, the arrow of time, and (optionally) a greedy selection of candidates at t against the
target at t + δ.

Pairs are formed within each entity (nation, patient, ...) only, never across entities or
gaps in time (:func:`infoimb.lag_scan`). A lag counts steps of the time column: for dates
the panel's most common step (a week for weekly data), for numbers their most common step
(the time column is turned into a step index).
"""

from __future__ import annotations

import io

import pandas as pd

from ... import figures, verdicts
from ...lags import lag_scan, select_lagged
from .. import fields, ids
from .. import glossary  # the help texts shared by the pages (issue 9 §5)
from ..context import AnalysisInputError, categorical_of, space_metric
from ..inputs import (categorical_in, check_lag, flag, k_of, metrics_text, n_queries_of, no_overlap, panel_frame,
                      space, space_dict, space_metrics, time_entity, whole)
from ..jobs.runner import Analysis, JobContext, settings_header
from .selection import evaluations

NAME = "lags"
BEST = "best"
MAX_LAGS = 201
RANDOM_STATE = 0
#: permutations per lag when the box is left empty: DEFAULT_PERMUTATIONS for the exact estimator
#: up to PERMUTATION_MAX_N rows, none otherwise
DEFAULT_PERMUTATIONS = 99
PERMUTATION_MAX_N = 5_000
MAX_PERMUTATIONS = 9_999
MAX_SPLITS = 20
ALPHA, CONFIDENCE, N_BOOTSTRAP = 0.05, 0.95, 1000
PERMUTATIONS_HELP = (f"Permutations per lag for p-values (q: Benjamini–Hochberg across the lags). Empty: "
                     f"{DEFAULT_PERMUTATIONS} with the exact estimator up to {PERMUTATION_MAX_N:,} rows, else 0. With "
                     "an entity column whole entities' target series are reassigned; one series is shifted in time.")
SPLITS_HELP = ("Stability: repeat the scan on this many disjoint subsets of the entities (or time segments of one "
               "series); 0 = off.")


def significance_settings(inputs: dict, ctx: JobContext, n_queries) -> dict:
    """Permutations (the default resolved), splits and the level of the tests."""
    auto = DEFAULT_PERMUTATIONS if n_queries is None and ctx.n_rows <= PERMUTATION_MAX_N else 0
    n_perm = whole(inputs.get("n_permutations"), "permutations", 0, MAX_PERMUTATIONS, default=auto)
    if n_perm and n_queries is not None:
        raise AnalysisInputError("permutations need the exact estimator (every point a query): choose exact, "
                                 "or set permutations to 0")
    n_splits = ANALYSIS.check(inputs, "n_splits")
    if n_splits == 1:
        raise AnalysisInputError("stability splits: 0 (off) or at least 2")
    return {"n_permutations": n_perm, "n_splits": n_splits, "alpha": ALPHA, "confidence": CONFIDENCE,
            "n_bootstrap": N_BOOTSTRAP}


def _sub(progress, lo: float, width: float):
    """progress over [lo, lo + width] of the whole job."""
    return lambda f, msg="": progress(lo + width * min(1.0, max(0.0, float(f))), msg)


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings of a lag scan (and lagged selection) from the page's inputs."""
    source = space(inputs.get("source"), ctx, "source group")
    target = space(inputs.get("target"), ctx, "target group")
    if set(source.columns) == set(target.columns):
        raise AnalysisInputError(f"the source and target are the same columns ({source.label}): choose two "
                                 "different groups")
    lag_min = ANALYSIS.check(inputs, "lag_min")
    lag_max = ANALYSIS.check(inputs, "lag_max")
    if lag_min > lag_max:
        raise AnalysisInputError(f"the smallest lag ({lag_min}) is larger than the largest ({lag_max})")
    if lag_max - lag_min + 1 > MAX_LAGS:
        raise AnalysisInputError(f"{lag_max - lag_min + 1} lags are too many: scan at most {MAX_LAGS}")
    do_select = flag(inputs.get("select"))
    cand = space(inputs.get("candidates"), ctx, "candidate group") if do_select else None
    used = list(source.columns) + list(target.columns) + (list(cand.columns) if cand else [])
    time, entity = time_entity(ctx, inputs.get("time"), inputs.get("entity"), need_time=True,
                               what="a lag scan", used=used)
    check_lag(max(abs(lag_min), abs(lag_max)), ctx.meta, time, "the lag")
    n = ctx.n_rows
    k = k_of(inputs.get("k"), n)
    n_queries = n_queries_of(inputs, n)
    selection = None
    if do_select:
        no_overlap(cand, target, "candidates", "target", "remove the target's columns from the candidate group")
        raw = inputs.get("sel_lag")
        if raw in (None, "", BEST):
            sel_lag = BEST
        else:
            sel_lag = whole(raw, "the lag δ of the selection", -10_000, 10_000)
            check_lag(sel_lag, ctx.meta, time, "the lag δ of the selection:")
        d = len(cand.columns) + 1  # the dummy noise feature
        max_features = min(whole(inputs.get("sel_max"), "max features of the selection", 1, None, default=8), d)
        total = evaluations("greedy", d, max_features, 1, 0)
        if ctx.settings is not None and total > ctx.settings.max_subsets:
            raise AnalysisInputError(f"the lagged selection needs {total:,} subset evaluations, more than the limit "
                                     f"of {ctx.settings.max_subsets:,} (INFOIMB_MAX_SUBSETS): lower max features")
        selection = {"candidates": space_dict(cand), "lag": sel_lag, "max_features": max_features,
                     "method": "greedy", "dummy": True}
    ctx.check_cells(len(set(used)))
    metrics = space_metrics(inputs, ctx, source, target, "source", "target")
    for sp, what in ((source, "source"), (target, "target")):
        # the scan pairs numbers: a categorical space is compared by equality of its codes,
        # which a mixed space cannot be (the lagged selection can: its candidates may mix)
        cats = categorical_of(ctx.meta, sp.columns)
        if cats and len(cats) < len(sp.columns):
            nums = [c for c in sp.columns if c not in set(cats)]
            raise AnalysisInputError(
                f"the {what} ({sp.label}) mixes categorical {', '.join(map(repr, cats[:3]))} and numeric "
                f"{', '.join(map(repr, nums[:3]))} columns: the lag scan compares a space either by numbers or by "
                "categories; put them in separate groups")
        if cats and metrics["metrics_used"][what] != "categorical":
            raise AnalysisInputError(
                f"the {what} ({sp.label}) is categorical ({', '.join(map(repr, cats[:3]))}): its metric must be "
                f"auto or categorical, not {metrics['metrics_used'][what]}")
    if cand is not None:  # the candidates are measured like the source
        metrics["metrics_used"]["candidates"] = space_metric(metrics["metric"], cand.columns,
                                                             categorical_of(ctx.meta, cand.columns), "candidates")
        metrics["categorical"] = list(dict.fromkeys(metrics["categorical"] + [
            c for c in categorical_of(ctx.meta, cand.columns) if c in set(ctx.roles.get("categorical") or [])]))
    metrics["categorical"] = list(dict.fromkeys(metrics["categorical"]))
    return {
        **metrics,
        "source": space_dict(source),
        "target": space_dict(target),
        "lag_min": lag_min,
        "lag_max": lag_max,
        "time": time,
        "entity": entity,
        "k": k,
        "n_queries": n_queries,
        "scaling": ctx.scaling,
        "selection": selection,
        "random_state": RANDOM_STATE,
        **significance_settings(inputs, ctx, n_queries),
    }


def run(df: pd.DataFrame, settings: dict, progress) -> dict:
    """The lag scan, then (optionally) the lagged greedy selection."""
    src, tgt = settings["source"]["columns"], settings["target"]["columns"]
    sel = settings.get("selection")
    cols = src + tgt + (sel["candidates"]["columns"] if sel else [])
    progress(0.01, "preparing the panel")
    frame, step = panel_frame(df, cols, time=settings["time"], entity=settings["entity"],
                              scaling=settings["scaling"], categorical=settings.get("categorical") or ())
    share = 0.35 if sel else 1.0
    used = settings.get("metrics_used") or {}
    metric = (used["source"], used["target"]) if used else "auto"
    scan = lag_scan(frame, src, tgt, lags=range(settings["lag_min"], settings["lag_max"] + 1),
                    time=settings["time"], group=settings["entity"], k=settings["k"], metric=metric,
                    n_queries=settings["n_queries"], random_state=settings["random_state"],
                    progress=_sub(progress, 0.01, share - 0.01),
                    n_permutations=settings.get("n_permutations", 0), n_splits=settings.get("n_splits", 0),
                    n_bootstrap=settings.get("n_bootstrap", N_BOOTSTRAP),
                    confidence=settings.get("confidence", CONFIDENCE), alpha=settings.get("alpha", ALPHA))
    out = {"scan": scan.to_dict(), "step": step,
           "verdict": verdicts.lag_scan(scan, source=settings["source"]["label"], target=settings["target"]["label"],
                                        step=step, significance=False),
           "verdict_significance": verdicts.lag_significance(scan),
           "selection": None}
    if sel:
        lag = scan.best_lag if sel["lag"] == BEST else int(sel["lag"])
        if lag == 0:
            progress(share, "the best lag is 0: selecting at δ = 0")
        res = select_lagged(frame, sel["candidates"]["columns"], tgt, lag=lag, time=settings["time"],
                            group=settings["entity"], method="greedy", max_features=sel["max_features"],
                            k=settings["k"], n_queries=settings["n_queries"], dummy=True,
                            metric=(used["candidates"], used["target"]) if used else "auto",
                            categorical=categorical_in(df, sel["candidates"]["columns"] + tgt,
                                                       settings.get("categorical")) or None,
                            random_state=settings["random_state"], progress=_sub(progress, share, 1 - share))
        d = res.to_dict()
        d["lag"] = lag
        d["selected"] = list(res.selected)
        out["selection"] = d
    progress(1.0, "done")
    return out


def scan_frame(record: dict) -> pd.DataFrame:
    return pd.DataFrame(record["result"]["scan"]["rows"])


def to_csv(record: dict) -> str:
    """The scan (one row per lag: Δ both ways, se, bootstrap intervals, p and BH q) and, if run,
    the stability splits and the selection steps, after the settings, the best lag's interval
    and the arrow's p-value."""
    res = record["result"]
    scan = res["scan"]
    buf = io.StringIO()
    scan_frame(record).to_csv(buf, index=False, float_format="%.6g")
    text = "\n".join(settings_header(record)) + "\n" + f"# best lag: {scan['best_lag']}\n" \
        f"# arrow of time: {scan['arrow']}\n"
    if scan.get("best_lag_interval") is not None:
        lo, hi = scan["best_lag_interval"]
        text += f"# best lag {100 * (scan.get('confidence') or CONFIDENCE):.0f}% interval: [{lo}, {hi}]\n"
    if scan.get("arrow_p") is not None:
        text += f"# arrow of time bootstrap p: {scan['arrow_p']:.6g}\n"
    text += buf.getvalue()
    if scan.get("stability") is not None:
        buf = io.StringIO()
        pd.DataFrame(scan["stability"]).to_csv(buf, index=False, float_format="%.6g")
        text += f"\n# stability: the scan on {s_splits(record)} disjoint splits\n" + buf.getvalue()
    if res.get("selection"):
        sel = res["selection"]
        rows = [{"size": s["size"], "features": ";".join(s["features"]), "delta": s["a_to_b"],
                 "se": s["a_to_b_se"], "ci_low": (s.get("a_to_b_ci") or [None, None])[0],
                 "ci_high": (s.get("a_to_b_ci") or [None, None])[1], "delta_back": s["b_to_a"],
                 "se_back": s["b_to_a_se"], "suggested": s["size"] == sel["suggested_size"]} for s in sel["steps"]]
        buf = io.StringIO()
        pd.DataFrame(rows).to_csv(buf, index=False, float_format="%.6g")
        text += f"\n# selection with the target at t+{sel['lag']} (greedy)\n" + buf.getvalue()
    return text




# --------------------------------------------------------------------------------------
# drawing a record
# --------------------------------------------------------------------------------------
def caption(record: dict, selection: bool = False) -> str:
    s, res = record["settings"], record["result"]
    rows = res["scan"]["rows"]
    n = min(r["n_pairs"] for r in rows), max(r["n_pairs"] for r in rows)
    parts = [figures.esc(record["dataset"].get("filename") or "")]
    if selection and res.get("selection"):
        parts.append(f"N = {res['selection']['n']} pairs")
    else:
        parts.append(f"{n[0]}–{n[1]} pairs per lag" if n[0] != n[1] else f"{n[0]} pairs per lag")
    parts += [f"k = {s['k']}", "exact" if s["n_queries"] is None else f"{s['n_queries']} random queries",
              f"1 step = {res['step']}", f"time: {figures.esc(s['time'])}",
              f"pairs within each {figures.esc(s['entity'])}" if s.get("entity") else "one series",
              f"scaling: {s['scaling']}"]
    if s.get("metrics_used"):
        parts.append(metrics_text({"metrics_used": {w: m for w, m in s["metrics_used"].items()
                                                    if selection or w != "candidates"}}))
    if selection:
        parts.append("greedy, with a dummy noise feature")
    return " · ".join(parts)


def build_figures(record: dict) -> dict:
    s, res = record["settings"], record["result"]
    figs = {"scan": figures.lag_scan_curve(res["scan"], source_name=s["source"]["label"],
                                           target_name=s["target"]["label"], step=res["step"],
                                           caption=caption(record), error_bars="interval",
                                           alpha=s.get("alpha", ALPHA))}
    if res["scan"].get("stability") is not None:
        figs["stability"] = figures.lag_stability(res["scan"]["stability"], source_name=s["source"]["label"],
                                                  target_name=s["target"]["label"], step=res["step"],
                                                  caption=caption(record))
    sel = res.get("selection")
    if sel:
        lag = sel["lag"]
        figs["selection"] = figures.selection_curve(
            sel, target_name="target", title="Selection curve",
            subtitle=f"candidates: {figures.esc(s['selection']['candidates']['label'])} at t · target: "
                     f"{figures.esc(s['target']['label'])} at t{'+' if lag >= 0 else '−'}{abs(lag)}",
            caption=caption(record, selection=True))
    return figs


def s_splits(record: dict) -> int:
    return int(record["settings"].get("n_splits") or 0)


def _fmt(v, digits: str = ".3g") -> str:
    return "" if v is None or v != v else format(v, digits)


def lag_rows(record: dict) -> list[dict]:
    """One row per lag: Δ ± se, its bootstrap interval, p and BH q, both directions."""
    rows = []
    for r in record["result"]["scan"]["rows"]:
        row = {"δ": r["lag"], "pairs": r["n_pairs"],
               "Δ(source → target)": f"{r['forward']:.4f} ± {r['forward_se']:.4f}"}
        if "forward_ci_low" in r:
            row["CI →"] = f"[{r['forward_ci_low']:.3f}, {r['forward_ci_high']:.3f}]"
        if "forward_p" in r:
            row["p →"], row["q →"] = _fmt(r["forward_p"]), _fmt(r["forward_q"])
        row["Δ(target → source)"] = f"{r['backward']:.4f} ± {r['backward_se']:.4f}"
        if "backward_ci_low" in r:
            row["CI ←"] = f"[{r['backward_ci_low']:.3f}, {r['backward_ci_high']:.3f}]"
        if "backward_p" in r:
            row["p ←"], row["q ←"] = _fmt(r["backward_p"]), _fmt(r["backward_q"])
        rows.append(row)
    return rows


def significance_summary(record: dict) -> dict:
    """The best lag's interval and the arrow's p-value, as shown (pure)."""
    scan = record["result"]["scan"]
    conf = 100 * (scan.get("confidence") or CONFIDENCE)
    interval = scan.get("best_lag_interval")
    arrow_p = scan.get("arrow_p")
    splits = None
    if scan.get("stability") is not None:
        st = pd.DataFrame(scan["stability"])
        best = st[st["is_best"].astype(bool)].sort_values("split")["lag"].astype(int).tolist()
        splits = f"best lag in each of the {st['split'].nunique()} disjoint splits: " + ", ".join(map(str, best))
    return {
        "best_lag_interval": None if interval is None else f"{conf:.0f}% interval: [{interval[0]}, {interval[1]}]",
        "arrow_p": None if arrow_p is None or arrow_p != arrow_p else f"arrow of time: bootstrap p = {arrow_p:.3g}",
        "tested": bool(scan.get("n_permutations")),
        "test_text": (f"p per lag from {scan['n_permutations']} permutations ({scan.get('null')} null); q: "
                      "Benjamini–Hochberg across the lags, per direction; ★ on the figure: q ≤ "
                      f"{record['settings'].get('alpha', ALPHA):g}") if scan.get("n_permutations")
        else "No permutation test (permutations = 0): p and q are not computed.",
        "splits": splits,
    }


def selection_rows(record: dict) -> list[dict]:
    sel = record["result"]["selection"]
    rows, prev = [], []
    for st in sel["steps"]:
        feats = list(st["features"])
        rows.append({"d": st["size"], "added": ", ".join(f for f in feats if f not in prev) or "—",
                     "Δ(S → target)": f"{st['a_to_b']:.4f} ± {st['a_to_b_se']:.4f}",
                     "Δ(target → S)": f"{st['b_to_a']:.4f} ± {st['b_to_a_se']:.4f}"})
        prev = feats
    return rows


ARROW_BADGE = {"future": ("arrow of time: source → target's future", "success"),
               "past": ("arrow of time: target → source", "warning"),
               "undecided": ("no clear arrow of time", "secondary")}


def render(record: dict):
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    s, res = record["settings"], record["result"]
    scan = res["scan"]
    best = next(r for r in scan["rows"] if r["lag"] == scan["best_lag"])
    figs = build_figures(record)
    sig = significance_summary(record)
    label, color = ARROW_BADGE[scan["arrow"]]
    head = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Div("best lag", className="metric-label"),
                      html.Div(f"δ = {scan['best_lag']}", className="metric-value", id=ids.LAG_BEST),
                      html.Div(sig["best_lag_interval"] or "", className="small text-muted", id=ids.LAG_BEST_CI)],
                     className="metric"),
            html.Div([html.Div(f"Δ(source_t → target_t+δ) at δ = {scan['best_lag']}", className="metric-label"),
                      html.Div(f"{best['forward']:.4f} ± {best['forward_se']:.4f}", className="metric-value")],
                     className="metric"),
            html.Div([
                dbc.Badge(label, color=color, className="relation-badge", id=ids.LAG_ARROW),
                html.Span(sig["arrow_p"] or "", className="small ms-2 fw-semibold", id=ids.LAG_ARROW_P),
                html.Div(res["verdict"], className="relation-text", id=ids.LAG_VERDICT),
            ], className="relation"),
        ], className="metrics-row"),
        html.Div([
            html.Span("source: ", className="text-muted"), html.Strong(s["source"]["label"]),
            html.Span(" · target: ", className="text-muted ms-1"), html.Strong(s["target"]["label"]),
            html.Span(f" · lags {s['lag_min']} … {s['lag_max']} steps (1 step = {res['step']})", className="text-muted"),
        ], className="small mt-2"),
        *[html.Div(n, className="small text-muted mt-1") for n in scan.get("notes", [])],
        *([html.Div("; ".join(record["warnings"]), className="small text-warning mt-1")]
          if record.get("warnings") else []),
    ]), className="mb-3 summary-card")
    rows = lag_rows(record)
    blocks = [head, figure_block("lag-scan", figs["scan"]),
              html.H6("Every lag, both directions", className="mt-3"),
              html.Div(sig["test_text"], className="small text-muted mb-1"),
              table(list(rows[0]), rows, id=ids.LAG_TABLE, max_height=360,
                    highlight=[{"rows": [i for i, r in enumerate(rows) if r["δ"] == scan["best_lag"]],
                                "style": {"backgroundColor": "#e8f1fb", "fontWeight": 600}}])]
    if "stability" in figs:
        blocks += [html.Div([
            html.H5("Stability", className="mt-4 mb-1"),
            html.Div(sig["splits"], className="small mb-2"),
            figure_block("lag-stability", figs["stability"]),
        ], id=ids.LAG_STABILITY)]
    sel = res.get("selection")
    if sel:
        rows = selection_rows(record)
        chosen = [st for st in sel["steps"] if st["size"] == sel["suggested_size"]][0]
        dummy_in = sel.get("dummy") in chosen["features"]
        sug = [i for i, r in enumerate(rows) if r["d"] == sel["suggested_size"]]
        highlight = [{"rows": sug, "style": {"backgroundColor": "#e8f1fb", "fontWeight": 600}}]
        blocks += [
            html.H5(f"Selection with the target at t{'+' if sel['lag'] >= 0 else '−'}{abs(sel['lag'])}",
                    className="mt-4 mb-1"),
            html.Div([
                html.Span(f"Suggested: d = {sel['suggested_size']}: ", className="fw-semibold"),
                html.Span(", ".join(chosen["features"]), id=ids.LAG_SELECTED),
                html.Span(" (the dummy noise feature is among them: within noise)" if dummy_in else
                          " · the dummy noise feature was not chosen", className="text-muted small ms-1"),
            ], className="mb-2"),
            dbc.Row([
                dbc.Col(figure_block("lag-selection", figs["selection"]), lg=6),
                dbc.Col([html.Div("Best subset S of each size, at t; the target at t + δ (greedy: each adds one "
                                  "feature to the one before)",
                                  className="small text-muted mb-1"),
                         table(list(rows[0]), rows, id=ids.LAG_SEL_TABLE, max_height=440, highlight=highlight)], lg=6),
            ], className="g-3"),
        ]
    return blocks


__all__ = ["ANALYSIS", "BEST", "FORM", "lag_rows", "significance_summary", "build_figures", "defaults", "hint", "prepare", "render", "run", "scan_frame", "selection_rows",
           "to_csv"]


# --------------------------------------------------------------------------------------
# the page's controls (pure: tested without a browser)
# --------------------------------------------------------------------------------------
def defaults(meta: dict, groups) -> dict:
    """Source and target from an example's roles (policy panel: policies → epidemic_state),
    time and entity from the Data page's roles, lags −L … L around the example's lag."""
    from ..inputs import NONE, default_pair, example_roles

    roles = example_roles(meta)
    source, target = default_pair(meta, groups)
    data_roles = meta.get("roles") or {}
    reach = max(5, int(roles.get("lag") or 0) + 3)
    candidates = default_candidates(meta, groups, source, target)
    return {"source": source, "target": target, "lag_min": -reach, "lag_max": reach,
            "time": data_roles.get("time"), "entity": data_roles.get("entity") or NONE,
            "candidates": candidates or source, "select": ["on"] if candidates else []}


def default_candidates(meta: dict, groups, source, target) -> str | None:
    """The default candidates of the lagged selection: the source when it shares no column with
    the target, else the largest group (or the first feature) that shares none; None when
    every space overlaps the target (the selection is then off by default, so that the
    page's defaults run; a user-made overlap is still refused with its message)."""
    from ..context import resolve_space
    from ..inputs import enabled_spaces

    try:
        tcols = set(resolve_space(target, meta, groups).columns) if target else set()
    except AnalysisInputError:
        return None

    def columns(value):
        try:
            return set(resolve_space(value, meta, groups).columns)
        except AnalysisInputError:
            return None

    if source and columns(source) is not None and not (columns(source) & tcols):
        return source
    _, enabled = enabled_spaces(meta, groups)
    free = [(v, columns(v)) for v in enabled]
    free = [(v, c) for v, c in free if c and not (c & tcols)]
    spaces = [(v, c) for v, c in free if not v.startswith("col:")]
    if spaces:
        return max(spaces, key=lambda vc: len(vc[1]))[0]
    return free[0][0] if free else None


def hint(meta: dict) -> str:
    roles = meta.get("roles") or {}
    text = f"{meta['filename']}: {meta['n_rows']} rows."
    if not roles.get("time"):
        text += " No time column in the Data page's roles: choose one here."
    return text + " A lag counts steps of the time column (a week for weekly dates)."


#: the page's "How to read this" (issue 9 §5; shown by the card, see infoimb.web.glossary)
HOW_TO_READ = (
    "Each point of the curve is Δ(source at t → target at t + δ), with pairs formed within each entity only: "
    "low Δ means the source's present predicts the target δ steps away. A source that acts on the target "
    "predicts its future (δ > 0) better than its past (δ < 0): that asymmetry is the arrow of time, and the lag "
    "with the smallest Δ is when the effect arrives (the paper's Fig. 3a: about 2 weeks from policies to "
    "cases). A flat curve, or one symmetric about δ = 0, shows no direction. Quote the best lag with its "
    "interval, the arrow's p-value, and the q-values of the lags you discuss. The selection below picks the "
    "source features that best predict the target at the chosen lag; the dummy noise feature must not be chosen."
)

FORM = (
    fields.SpaceField("source", ids.LAG_SOURCE, "Source (at time t)", first=True,
                      help="The space whose present is used to predict (e.g. the policies)."),
    fields.SpaceField("target", ids.LAG_TARGET, "Target (at time t + δ)",
                      help="The space predicted δ steps later (e.g. the epidemic's state)."),
    fields.Subhead("Lags δ"),
    fields.Row(fields.IntField("lag_min", ids.LAG_MIN, "from", -5, low=-10_000, high=10_000, data=True,
                               what="the smallest lag", help="Smallest δ (negative: the target's past)."),
               fields.IntField("lag_max", ids.LAG_MAX, "to", 5, low=-10_000, high=10_000, data=True,
                               what="the largest lag", help="Largest δ (positive: its future).")),
    fields.Note("Lags in rows of each entity's series (time steps). Scan both signs, as the paper's −5 … 5: the "
                "comparison of future and past gives the arrow of time; larger |δ| leaves fewer pairs.", small=True),
    fields.Row(fields.ColumnField("time", ids.LAG_TIME, "Time column", placeholder="time",
                                  help="Orders each series (dates or numbers)."),
               fields.ColumnField("entity", ids.LAG_ENTITY, "Entity column", placeholder="none", none_label="none",
                                  help="One series per value (e.g. country); none: one series.")),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Options"),
    fields.IntField("k", ids.LAG_K, "k", 1, low=1, what="the number of neighbours k", help=glossary.K_HELP),
    *fields.metric_fields(ids.LAG_METRIC, ids.LAG_METRIC_B, "source", "target"),
    *fields.estimator_fields(ids.LAG_ESTIMATOR, ids.LAG_NQ),
    fields.RULE,
    fields.FlagField("select", ids.LAG_SELECT, "selection", default=("on",), switch=True, data=True,
                     options_={"on": "Selection with a lagged target"},
                     help="Greedy selection of the candidates at t against the target at t + δ (with a dummy "
                          "noise feature); δ empty = the best lag of the scan."),
    fields.SpaceField("candidates", ids.LAG_CANDIDATES, "Candidate features", placeholder="candidate features",
                      help="The features selected from (e.g. the individual policies; the paper's Fig. 3b)."),
    fields.Row(fields.IntField("sel_lag", ids.LAG_SEL_LAG, "δ", None, low=-10_000, high=10_000, optional=True,
                               placeholder="best", data=True, what="the lag δ of the selection",
                               help="Target lag of the selection; empty: the scan's best."),
               fields.IntField("sel_max", ids.LAG_SEL_MAX, "max d", 8, low=1, what="max features of the selection",
                               help="Largest subset size.")),
    fields.RULE,
    fields.Subhead("Significance and stability"),
    fields.IntField("n_permutations", ids.LAG_PERM, "permutations", None, low=0, high=MAX_PERMUTATIONS, optional=True,
                    placeholder=f"auto ({DEFAULT_PERMUTATIONS})", help=PERMUTATIONS_HELP),
    fields.IntField("n_splits", ids.LAG_SPLITS, "stability splits", 0, low=0, high=MAX_SPLITS, help=SPLITS_HELP),
)

#: the declaration the card and the job runner use
def cost(settings: dict, meta: dict) -> list:
    """The work of a lag scan (and the lagged selection): Δ both ways per lag (permutations
    and stability splits add to it), then one Δ per subset of the greedy selection."""
    from ..jobs.costs import Work
    from .selection import evaluations

    n = int(meta.get("n_rows") or 0)
    n_lags = settings["lag_max"] - settings["lag_min"] + 1
    per_lag = 1 + 0.1 * (settings.get("n_permutations") or 0) + (settings.get("n_splits") or 0)
    out = [Work(n, len(settings["source"]["columns"]), len(settings["target"]["columns"]), k=settings["k"],
                n_queries=settings["n_queries"], evaluations=n_lags * per_lag,
                what=f"{n_lags} lags" + (f" with {settings['n_permutations']} permutations each"
                                         if settings.get("n_permutations") else ""),
                columns=tuple(settings["source"]["columns"]))]
    sel = settings.get("selection")
    if sel:
        d = len(sel["candidates"]["columns"]) + 1
        total = evaluations("greedy", d, sel["max_features"], 1, 0)
        out.append(Work(n, max(1, (sel["max_features"] + 1) // 2), len(settings["target"]["columns"]),
                        k=settings["k"], n_queries=settings["n_queries"], evaluations=0.5 * total,
                        what=f"{total:,} subsets"))
    return out


ANALYSIS = Analysis(
    cost=cost,
    name=NAME, title="Time lags", prepare=prepare, run=run, to_csv=to_csv, version=2, render=render,
    run_label="Scan lags", empty_text="Choose a source, a target and the time column, and press Scan lags.",
    form=FORM, defaults=defaults, hint=hint, hint_id=ids.LAG_HINT,
    section="Source, target, time", step="L", page_class="lags-page",
    intro="Pairs (source at t, target at t + δ) within each entity: a source that acts on the target predicts its "
          "future better than its past.",
)
