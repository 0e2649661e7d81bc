"""The "select features" analysis: the subset of candidate features that best predicts a
target (or, without a target, the full candidate space: compression).

``prepare`` validates cheaply (groups, overlap, the size of the search against
INFOIMB_MAX_SUBSETS); ``run`` calls :func:`infoimb.select_features` (or
:func:`infoimb.select_lagged` when the target is taken ``lag`` steps later); ``render`` draws a
stored record for ``pages/select.py``; ``to_csv`` gives the steps.
"""

from __future__ import annotations

import io
import math

import pandas as pd

from ... import figures
from ...lags import select_lagged
from ...selection import expected_evaluations, n_subsets, select_features
from .. import fields, ids
from .. import glossary  # the help texts shared by the pages (issue 9 §5)
from ..context import AnalysisInputError, categorical_of, prepare_frame, usable_rows
from ..inputs import (
    categorical_in,
    check_lag,
    metrics_text,
    space_metrics,
    flag,
    k_of,
    n_queries_of,
    no_overlap,
    one_of,
    optional_space,
    panel_frame,
    periodic_of,
    space,
    space_dict,
    time_entity,
    whole,
)
from ..jobs.runner import Analysis, JobContext, settings_header

NAME = "select"
METHODS = {
    "greedy": "greedy forward: add the best feature at each step",
    "beam": "beam search: keep the n best subsets at each step",
    "exhaustive": "exhaustive: every subset up to the largest size",
    "backward": "backward elimination: drop the least useful feature",
}
CRITERIA = {
    "a_to_b": "Δ(S → target)",
    "symmetric": "symmetric: [Δ(S → target) + Δ(target → S)] / √2",
}
RANDOM_STATE = 0
MAX_RANDOM = 200
MAX_SPLITS = 20
CONFIDENCE, N_BOOTSTRAP, TOLERANCE = 0.95, 1000, 0.01
SPLITS_HELP = ("Stability: repeat the selection on this many disjoint subsets of the entities (entity column "
               "of the Data page) or of the points, and show how often each feature is chosen at each size; "
               "0 = off.")


def rule_text(settings: dict, result: dict) -> str:
    """The stop rule of the suggested size, in words (``SelectionResult.suggested_size``)."""
    crit = "Δ(S → target)" if settings["criterion"] == "a_to_b" else "the symmetric Δ"
    if settings["target"] is None:
        crit = crit.replace("target", "all candidates")
    tol = result.get("tolerance")
    conf = result.get("confidence")
    entity = settings.get("entity_groups") or settings.get("entity")
    by = f"whole entities ({entity})" if entity else "points"
    if conf is None:
        beyond = "two paired standard errors of the per-query differences"
    else:
        beyond = f"the {100 * conf:.0f}% paired bootstrap interval of the difference (resampling {by})"
    return (f"The suggested size is the smallest d that no larger size improves by more than "
            f"{TOLERANCE if tol is None else tol:g} and beyond {beyond} of {crit}: adding a feature must "
            "improve Δ beyond its uncertainty.")


def evaluations(method: str, n_features: int, max_features: int, n_best: int, n_random: int) -> int:
    """How many subsets a search evaluates, the random baseline included."""
    sizes = n_features if method == "backward" else max_features
    return expected_evaluations(method, n_features, max_features, n_best) + n_random * sizes


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings of a selection from the page's inputs."""
    cand = space(inputs.get("candidates"), ctx, "candidate group")
    target = optional_space(inputs.get("target"), ctx, "target group")
    if target is not None:
        no_overlap(cand, target, "candidates", "target",
                   "remove the target's columns from the candidate group, or choose no target (compression)")
    n = ctx.n_rows
    method = one_of(inputs.get("method"), "method", tuple(METHODS), "greedy")
    criterion = one_of(inputs.get("criterion"), "criterion", tuple(CRITERIA), "a_to_b")
    n_best = ANALYSIS.check(inputs, "n_best") if method == "beam" else None
    dummy = flag(inputs.get("dummy"))
    n_features = len(cand.columns) + int(dummy)
    default_max = min(n_features, 3) if method == "exhaustive" else min(n_features, 8)
    max_features = min(whole(inputs.get("max_features"), "max features", 1, None, default=default_max), n_features)
    k = k_of(inputs.get("k"), n)
    n_queries = n_queries_of(inputs, n)
    n_random = ANALYSIS.check(inputs, "n_random")
    lag = ANALYSIS.check(inputs, "lag")
    time = entity = None
    if lag != 0:
        if target is None:
            raise AnalysisInputError("a target lag needs a target group: choose one, or set the lag to 0 for "
                                     "compression")
        time, entity = time_entity(ctx, ctx.roles.get("time"), ctx.roles.get("entity"), need_time=True,
                                   what="a lagged target", used=cand.columns + target.columns,
                                   where="set it on the Data page (Roles)")
        check_lag(lag, ctx.meta, time, "the target lag δ =")
    limit = ctx.settings.max_subsets if ctx.settings is not None else None
    if method == "exhaustive":
        total = n_subsets(n_features, max_features)
        if limit is not None and total > limit:
            raise AnalysisInputError(
                f"an exhaustive search over {n_features} features up to {max_features} features needs {total:,} "
                f"subsets, more than the limit of {limit:,} (INFOIMB_MAX_SUBSETS); use beam or greedy, or lower "
                "max features")
    total = evaluations(method, n_features, max_features, n_best or 1, n_random)
    if limit is not None and total > limit:
        raise AnalysisInputError(
            f"this {method} search over {n_features} features needs {total:,} subset evaluations"
            f"{' (random baseline included)' if n_random else ''}, more than the limit of {limit:,} "
            "(INFOIMB_MAX_SUBSETS); lower max features or the random subsets, or use fewer candidates")
    columns = list(cand.columns) + (list(target.columns) if target is not None else [])
    ctx.check_cells(len(columns))
    extra = space_metrics(inputs, ctx, cand, target, "candidates", "target")
    base = baselines_of(inputs.get("baselines"), lag)
    cand_cats = categorical_of(ctx.meta, cand.columns)
    if base and cand_cats:
        raise AnalysisInputError(f"the FPS / CUR baselines need numeric candidates; "
                                 f"{', '.join(map(repr, cand_cats[:5]))} "
                                 f"{'is' if len(cand_cats) == 1 else 'are'} categorical: untick the baselines")
    if base:
        extra["baselines"] = base  # only when chosen: earlier memo keys stay valid
    return {**extra, 
        "candidates": space_dict(cand),
        "target": space_dict(target),
        "method": method,
        "n_best": n_best,
        "max_features": max_features,
        "criterion": criterion,
        "k": k,
        "n_queries": n_queries,
        "n_random": n_random,
        "dummy": dummy,
        "lag": lag,
        "time": time,
        "entity": entity,
        "scaling": ctx.scaling,
        "periodic": periodic_of(ctx, cand.columns),
        "max_subsets": limit if method == "exhaustive" else None,
        "n_evaluations": total,
        "random_state": RANDOM_STATE,
        **significance_settings(inputs, ctx),
    }


def significance_settings(inputs: dict, ctx: JobContext) -> dict:
    """Stability splits, the entity column (intervals, the stop rule and the splits resample
    entities) and the bootstrap's level."""
    n_splits = ANALYSIS.check(inputs, "n_splits")
    if n_splits == 1:
        raise AnalysisInputError("stability splits: 0 (off) or at least 2")
    entity = ctx.roles.get("entity")
    return {"n_splits": n_splits, "entity_groups": entity if entity in set(ctx.meta.get("columns") or []) else None,
            "confidence": CONFIDENCE, "n_bootstrap": N_BOOTSTRAP, "tolerance": TOLERANCE}


def selection_kwargs(settings: dict, progress) -> dict:
    kw = dict(method=settings["method"], max_features=settings["max_features"], criterion=settings["criterion"],
              k=settings["k"], n_queries=settings["n_queries"], n_random=settings["n_random"],
              dummy=settings["dummy"], period=settings.get("periodic") or None,
              random_state=settings["random_state"], progress=progress)
    if "metrics_used" in settings:  # the metric of each space, "auto" resolved (categorical: by equality)
        used = settings["metrics_used"]
        kw["metric"] = (used["candidates"], used.get("target", used["candidates"]))
        kw["categorical"] = settings.get("categorical") or None
    if settings.get("n_best"):
        kw["n_best"] = settings["n_best"]
    if settings.get("max_subsets"):
        kw["max_subsets"] = settings["max_subsets"]
    for key in ("n_splits", "confidence", "n_bootstrap", "tolerance"):
        if key in settings:
            kw[key] = settings[key]
    return kw


def run(df: pd.DataFrame, settings: dict, progress) -> dict:
    """The selection; for a lagged target, pairs (candidates at t, target at t + lag) within
    each entity."""
    cand = settings["candidates"]["columns"]
    target = settings["target"]["columns"] if settings["target"] else None
    progress(0.01, "preparing the data")
    kw = selection_kwargs(settings, progress)
    info: dict = {"dropped_rows": 0, "step": None}
    if settings["lag"]:
        frame, step = panel_frame(df, cand + target, time=settings["time"], entity=settings["entity"],
                                  scaling=settings["scaling"], periodic=settings.get("periodic"),
                                  categorical=settings.get("categorical") or ())
        # the lagged pairs are numbers: categorical columns come as codes, compared by equality
        kw["categorical"] = categorical_in(df, cand + target, settings.get("categorical")) or None
        res = select_lagged(frame, cand, target, lag=settings["lag"], time=settings["time"],
                            group=settings["entity"], **kw)
        info["step"] = step
    else:
        frame, dropped = prepare_frame(df, cand + (target or []), settings["scaling"], settings.get("periodic"),
                                       categorical=settings.get("categorical") or ())
        if settings["k"] >= frame.shape[0]:
            raise AnalysisInputError(f"k = {settings['k']} must be smaller than the number of points "
                                     f"({frame.shape[0]} after dropping rows with missing values)")
        if settings.get("entity_groups"):
            keep = usable_rows(df, cand + (target or []), settings.get("categorical") or ())
            kw["groups"] = df.loc[keep, settings["entity_groups"]].astype(str).to_numpy()
        res = select_features(frame[cand], frame[target] if target else None, **kw)
        info["dropped_rows"] = dropped
        if settings.get("baselines"):
            info["baselines"] = run_baselines(frame[cand], frame[target] if target else None, settings, progress)
    out = res.to_dict()
    out.update(info)
    out["selected"] = list(res.selected)
    out["dummy_chosen"] = [s.size for s in res.steps if res.dummy and res.dummy in s.features
                           and s.size <= res.suggested_size]
    return out


def steps_frame(record: dict) -> pd.DataFrame:
    """One row per size: the best subset, its Δ both ways, the criterion, the random baseline."""
    res = record["result"]
    rows, prev = [], []
    for s in res["steps"]:
        feats = list(s["features"])
        rows.append({
            "size": s["size"],
            "added": ";".join(f for f in feats if f not in prev),
            "removed": ";".join(f for f in prev if f not in feats),
            "features": ";".join(feats),
            "delta_s_to_target": s["a_to_b"], "se_s_to_target": s["a_to_b_se"],
            "delta_target_to_s": s["b_to_a"], "se_target_to_s": s["b_to_a_se"],
            "criterion": s["criterion"], "criterion_se": s["criterion_se"],
            "criterion_ci_low": (s.get("criterion_ci") or [None, None])[0],
            "criterion_ci_high": (s.get("criterion_ci") or [None, None])[1],
            "ci_low_s_to_target": (s.get("a_to_b_ci") or [None, None])[0],
            "ci_high_s_to_target": (s.get("a_to_b_ci") or [None, None])[1],
            "ci_low_target_to_s": (s.get("b_to_a_ci") or [None, None])[0],
            "ci_high_target_to_s": (s.get("b_to_a_ci") or [None, None])[1],
            "random_mean": s["random_mean"], "random_sd": s["random_sd"],
            "n_evaluated": s["n_evaluated"], "suggested": s["size"] == res["suggested_size"],
        })
        prev = feats
    return pd.DataFrame(rows)


def to_csv(record: dict) -> str:
    """The steps (Δ both ways, se and bootstrap intervals) as CSV after ``# key: value`` lines
    saying how they were produced; with stability splits, how often each feature is chosen at
    each size and each split's curve."""
    res = record["result"]
    buf = io.StringIO()
    steps_frame(record).to_csv(buf, index=False, float_format="%.6g")
    text = "\n".join(settings_header(record)) + "\n" + f"# rule: {rule_text(record['settings'], res)}\n" \
        + buf.getvalue()
    for key, what in (("stability", "how often each feature is chosen at each size"),
                      ("stability_curves", "the curve of each split")):
        if res.get(key) is not None:
            buf = io.StringIO()
            pd.DataFrame(res[key]).to_csv(buf, index=False, float_format="%.6g")
            text += f"\n# stability: {what}\n" + buf.getvalue()
    return text




# --------------------------------------------------------------------------------------
# drawing a record
# --------------------------------------------------------------------------------------
def target_name(settings: dict) -> str:
    if settings["target"] is None:
        return "all candidates"
    name = settings["target"]["label"]
    lag = settings.get("lag") or 0
    if lag:
        return f"{name} at t{'+' if lag > 0 else '−'}{abs(lag)}"
    return name


def estimator_text(settings: dict) -> str:
    return "exact" if settings.get("n_queries") is None else f"{settings['n_queries']} random queries"


def caption(record: dict) -> str:
    s, res = record["settings"], record["result"]
    method = s["method"] + (f" (n_best = {s['n_best']})" if s.get("n_best") else "")
    parts = [figures.esc(record["dataset"].get("filename") or ""),
             f"N = {res['n']}" + (" pairs" if s.get("lag") else ""), f"k = {s['k']}", estimator_text(s), method,
             "criterion: " + ("Δ(S → target)" if s["criterion"] == "a_to_b" else "symmetric"),
             f"scaling: {s['scaling']}"]
    if s.get("metrics_used"):
        parts.append(metrics_text(s))
    if s.get("lag"):
        parts.append(f"target at t{'+' if s['lag'] > 0 else '−'}{abs(s['lag'])}"
                     + (f" (1 step = {res['step']})" if res.get("step") else "")
                     + (f", within each {figures.esc(s['entity'])}" if s.get("entity") else ""))
    if s.get("n_random"):
        parts.append(f"{s['n_random']} random subsets per size")
    if res.get("dropped_rows"):
        parts.append(f"{res['dropped_rows']} rows with missing values left out")
    return " · ".join(parts)


def build_figures(record: dict) -> dict:
    """The selection curve and the path in the plane (pure)."""
    s, res = record["settings"], record["result"]
    cap = caption(record)
    tname = target_name(s)
    what = "compression: S against all candidates" if s["target"] is None else f"target: {tname}"
    curve = figures.selection_curve(
        res, target_name="target" if s["target"] is not None else "all candidates",
        subtitle=f"candidates: {figures.esc(s['candidates']['label'])} · {figures.esc(what)}", caption=cap)
    path = figures.selection_path(res, target_name="target" if s["target"] is not None else "all candidates",
                                  caption=cap)
    add_baselines(curve, res)
    figs = {"curve": curve, "path": path}
    if res.get("stability") is not None:
        figs["stability"] = figures.selection_stability_heatmap(res["stability"], n_splits=s.get("n_splits"),
                                                                caption=cap)
        figs["stability_curves"] = figures.selection_stability_curves(
            res["stability_curves"], reference=res, criterion=s["criterion"],
            target_name="target" if s["target"] is not None else "all candidates", caption=cap)
    return figs


def _ci(lo, hi) -> str:
    if lo is None or hi is None or lo != lo:
        return ""
    return f"[{lo:.4f}, {hi:.4f}]"


def table_rows(record: dict) -> list[dict]:
    s, res = record["settings"], record["result"]
    sym = s["criterion"] == "symmetric"
    rows = []
    for r in steps_frame(record).to_dict(orient="records"):
        change = r["added"].replace(";", ", ")
        if r["removed"]:
            change = (f"+ {change} " if change else "") + "− " + r["removed"].replace(";", ", ")
        row = {"d": r["size"], "change": change or "—", "features": r["features"].replace(";", ", "),
               "Δ(S→target)": f"{r['delta_s_to_target']:.4f} ± {r['se_s_to_target']:.4f}",
               "interval (S→target)": _ci(r["ci_low_s_to_target"], r["ci_high_s_to_target"]),
               "Δ(target→S)": f"{r['delta_target_to_s']:.4f} ± {r['se_target_to_s']:.4f}"}
        if sym:
            row["symmetric"] = f"{r['criterion']:.4f} ± {r['criterion_se']:.4f}"
            row["interval (symmetric)"] = _ci(r["criterion_ci_low"], r["criterion_ci_high"])
        if s.get("n_random"):
            row["random subsets"] = ("" if not math.isfinite(r["random_mean"]) else
                                     f"{r['random_mean']:.3f} ± {r['random_sd']:.3f}")
        rows.append(row)
    return rows


def summary(record: dict) -> dict:
    s, res = record["settings"], record["result"]
    best = next(st for st in res["steps"] if st["size"] == res["suggested_size"])
    return {"size": res["suggested_size"], "features": list(best["features"]),
            "value": f"{best['criterion']:.4f} ± {best['criterion_se']:.4f}",
            "target": target_name(s), "dummy": res.get("dummy"), "dummy_chosen": res.get("dummy_chosen") or [],
            "n": res["n"]}


def render(record: dict):
    """Dash children for a stored selection record."""
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    s, res = record["settings"], record["result"]
    sm = summary(record)
    figs = build_figures(record)
    crit = "Δ(S → target)" if s["criterion"] == "a_to_b" else "symmetric Δ"
    if s["target"] is None:
        crit = crit.replace("target", "all candidates")
    notes = []
    if sm["dummy"]:
        if sm["dummy_chosen"]:
            notes.append(html.Div(f"The dummy noise feature ({sm['dummy']}) is among the chosen features at "
                                  f"d = {', '.join(map(str, sm['dummy_chosen']))}: below that size's error, the "
                                  "choice is not meaningful.", className="small text-warning mt-1"))
        else:
            notes.append(html.Div(f"The dummy noise feature ({sm['dummy']}) was never chosen up to the suggested "
                                  "size, as it should be.", className="small text-muted mt-1"))
    if record.get("warnings"):
        notes.append(html.Div("; ".join(record["warnings"]), className="small text-warning mt-1"))
    head = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Div("suggested size", className="metric-label"),
                      html.Div(f"d = {sm['size']}", className="metric-value", id=ids.SEL_SUGGESTED)], className="metric"),
            html.Div([html.Div(f"{crit} at d = {sm['size']}", className="metric-label"),
                      html.Div(sm["value"], className="metric-value", id=ids.SEL_VALUE)], className="metric"),
            html.Div([
                html.Div("selected features", className="metric-label"),
                html.Div([dbc.Badge(f, color="primary", className="me-1 mb-1 feature-badge") for f in sm["features"]],
                         id=ids.SEL_SELECTED),
            ], className="relation"),
        ], className="metrics-row"),
        html.Div([
            html.Span("candidates: ", className="text-muted"), html.Strong(s["candidates"]["label"]),
            html.Span(f" ({len(s['candidates']['columns'])} columns"
                      + (f", {s['metrics_used']['candidates']})" if s.get("metrics_used") else ")"),
                      className="text-muted"),
            html.Span(" · target: ", className="text-muted ms-1"), html.Strong(sm["target"]),
            *([html.Span(f" ({s['metrics_used']['target']})", className="text-muted")]
              if (s.get("metrics_used") or {}).get("target") else []),
            html.Span(f" · N = {sm['n']}" + (" pairs" if s.get("lag") else ""), className="text-muted"),
        ], className="small mt-2"),
        html.Div(rule_text(s, res), className="small text-muted mt-1", id=ids.SEL_RULE),
        *notes,
    ]), className="mb-3 summary-card")
    rows = table_rows(record)
    sug = [i for i, r in enumerate(rows) if r["d"] == res["suggested_size"]]
    highlight = [{"rows": sug, "style": {"backgroundColor": "#e8f1fb", "fontWeight": 600}}]
    blocks = [
        head,
        dbc.Row([
            dbc.Col(figure_block("selection-curve", figs["curve"]), lg=6),
            dbc.Col(figure_block("selection-path", figs["path"]), lg=6),
        ], className="g-3"),
        html.Div([
            html.H6("Best subset of each size", className="mt-3"),
            table(list(rows[0]), rows, id=ids.SEL_TABLE, max_height=420, highlight=highlight),
        ]),
    ]
    if "stability" in figs:
        by = f"entities ({s['entity_groups']})" if s.get("entity_groups") or s.get("entity") else "points"
        blocks.append(html.Div([
            html.H5("Stability", className="mt-4 mb-1"),
            html.Div(f"The selection repeated on {s.get('n_splits')} disjoint random subsets of the {by}: how "
                     "often each feature is in the best subset of each size, and the spread of the curves.",
                     className="small text-muted mb-2"),
            dbc.Row([
                dbc.Col(figure_block("selection-stability", figs["stability"]), lg=6),
                dbc.Col(figure_block("selection-stability-curves", figs["stability_curves"]), lg=6),
            ], className="g-3"),
        ], id=ids.SEL_STABILITY))
    return blocks


__all__ = ["ANALYSIS", "CRITERIA", "FORM", "METHODS", "rule_text", "build_figures", "defaults", "evaluations", "hint", "prepare",
           "render", "run",
           "steps_frame", "summary", "table_rows", "to_csv"]


# --------------------------------------------------------------------------------------
# baselines from scikit-matter (optional): FPS and CUR feature selection beside the curve
# --------------------------------------------------------------------------------------
BASELINES = {"fps": "FPS (scikit-matter)", "cur": "CUR (scikit-matter)"}


def skmatter_available() -> bool:
    """Whether the optional scikit-matter is importable (the page hides the option if not)."""
    import importlib.util

    return importlib.util.find_spec("skmatter") is not None


def baselines_of(value, lag: int = 0) -> list[str]:
    """The chosen baselines, validated."""
    chosen = [v for v in (value or []) if v]
    bad = [v for v in chosen if v not in BASELINES]
    if bad:
        raise AnalysisInputError(f"unknown baseline {bad[0]!r}; choose among {', '.join(BASELINES)}")
    if chosen and lag:
        raise AnalysisInputError("the FPS / CUR baselines are for a target at the same time (lag 0)")
    if chosen and not skmatter_available():
        raise AnalysisInputError("the FPS / CUR baselines need scikit-matter: pip install 'infoimb[materials]'")
    return sorted(set(chosen), key=list(BASELINES).index)


def baseline_order(X, name: str, n: int) -> list[int]:
    """The first ``n`` columns of ``X`` (array) in the order scikit-matter's FPS or CUR picks them."""
    from skmatter.feature_selection import CUR, FPS

    sel = FPS(n_to_select=n, initialize=0) if name == "fps" else CUR(n_to_select=n)
    sel.fit(X)
    return [int(i) for i in sel.selected_idx_[:n]]


def run_baselines(cand: pd.DataFrame, target, settings: dict, progress) -> dict:
    """For each chosen baseline: its columns in order and Δ of each prefix (sizes 1..max
    features), scored by :func:`infoimb.selection.evaluate_subsets` with the selection's own
    criterion, k, queries and random state."""
    from ...selection import evaluate_subsets

    m = min(settings["max_features"], cand.shape[1])
    out = {}
    for name in settings.get("baselines") or []:
        progress(0.95, f"baseline {BASELINES[name]}")
        order = baseline_order(cand.to_numpy(dtype=float), name, m)
        cols = [str(cand.columns[i]) for i in order]
        table = evaluate_subsets(cand, [cols[:d] for d in range(1, m + 1)], target,
                                 criterion=settings["criterion"], k=settings["k"],
                                 metric=selection_kwargs(settings, progress).get("metric", "auto"),
                                 period=settings.get("periodic") or None, n_queries=settings["n_queries"],
                                 random_state=settings["random_state"])
        out[name] = {"label": BASELINES[name], "order": cols, "size": table["size"].astype(int).tolist(),
                     "criterion": table["criterion"].astype(float).tolist(),
                     "criterion_se": table["criterion_se"].astype(float).tolist()}
    return out


def add_baselines(fig, result: dict) -> None:
    """The baselines' curves on the selection curve (dashed, beside the random band)."""
    import plotly.graph_objects as go

    base = result.get("baselines") or {}
    tops = [v + (e if math.isfinite(e) else 0.0) for b in base.values()
            for v, e in zip(b["criterion"], b["criterion_se"]) if math.isfinite(v)]
    current = fig.layout.yaxis.range
    if tops and current is not None and max(tops) * 1.15 > current[1]:
        fig.update_yaxes(range=[current[0], max(tops) * 1.15])  # the baselines stay inside the plot
    for i, (name, b) in enumerate(base.items()):
        fig.add_trace(go.Scatter(
            x=b["size"], y=b["criterion"], mode="lines+markers", name=b["label"],
            error_y=dict(type="data", array=b["criterion_se"], visible=True, thickness=1),
            line=dict(dash="dash", width=1.6, color=("#d62728", "#9467bd")[i % 2]), marker=dict(size=6),
            hovertemplate=f"{b['label']}<br>d = %{{x}}<br>Δ = %{{y:.4f}}<extra></extra>"))


# --------------------------------------------------------------------------------------
# the page's controls (pure: tested without a browser)
# --------------------------------------------------------------------------------------
def defaults(meta: dict, groups) -> dict:
    """The spaces and lag a selection starts with: an example's target and lag (policy
    panel: policies → epidemic_state at t+2), else compression of the full space."""
    from ..context import FULL
    from ..inputs import NONE, default_pair, enabled_spaces, example_roles

    _, enabled = enabled_spaces(meta, groups)
    roles = example_roles(meta)
    cand, target = default_pair(meta, groups)
    if not (roles.get("target") and target == f"group:{roles['target']}"):
        cand, target = (FULL if FULL in enabled else (enabled[0] if enabled else None)), NONE
    has_time = bool((meta.get("roles") or {}).get("time"))
    lag = int(roles.get("lag") or 0) if target != NONE and has_time else 0
    return {"candidates": cand, "target": target, "lag": lag}


def hint(meta: dict) -> str:
    roles = meta.get("roles") or {}
    text = f"{meta['filename']}: {meta['n_rows']} rows."
    if roles.get("time"):
        text += (f" A target lag δ ≠ 0 pairs each row at t with the target at t + δ (time: {roles['time']}"
                 + (f", within each {roles['entity']}" if roles.get("entity") else "") + ").")
    else:
        text += " A target lag needs a time column (Data page, Roles)."
    return text


#: the page's "How to read this" (issue 9 §5; shown by the card, see infoimb.web.glossary)
HOW_TO_READ = (
    "The curve is Δ(S → target) of the best subset S of each size d: it falls as features are added and levels "
    "off once S holds the target's information (with no target, once S holds the information of all candidates: "
    "compression). The suggested size is the smallest d that no larger size improves on beyond its uncertainty; "
    "quote that d, its features and its Δ with the interval. A good answer sits well below the random-subset "
    "baseline and never includes the dummy noise feature; if the dummy is chosen, the sizes from there on fit "
    "noise. The path on the plane shows each size's Δ both ways; the stability splits show whether the same "
    "features come back on independent parts of the data."
)
#: the search methods' names in the select (the labels of METHODS do not fit the left column)
METHOD_NAMES = {"greedy": "greedy forward", "beam": "beam search", "exhaustive": "exhaustive",
                "backward": "backward elimination"}

FORM = (
    fields.SpaceField("candidates", ids.SEL_CANDIDATES, "Candidate features", first=True,
                      placeholder="a group of candidate features",
                      help="The features the subsets S are drawn from (a group, or the full space)."),
    fields.SpaceField("target", ids.SEL_TARGET, "Target", placeholder="a group, a feature, or none",
                      none_label="No target: compression (all candidates)",
                      help="The space S must predict. None: compression, the smallest S that keeps the "
                           "information of all candidates."),
    fields.IntField("lag", ids.SEL_LAG, "target lag", 0, low=-10_000, high=10_000, prefix="target at t +",
                    suffix="steps", data=True, what="target lag δ",
                    help="Predict the target δ time steps later (within each entity; needs a time column). "
                         "0: the same row. The paper's policies → epidemic selection uses δ = 2 weeks."),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Search"),
    fields.ChoiceField("method", ids.SEL_METHOD, "method", "greedy", choices=METHOD_NAMES,
                       help="Greedy: add the best feature at each step (fast). Beam: keep the n best subsets at "
                            "each step (finds pairs greedy misses). Exhaustive: every subset up to max d (exact, "
                            "few features only). Backward: drop the least useful feature from all."),
    fields.Row(fields.IntField("max_features", ids.SEL_MAX, "max d", 8, low=1, what="max features",
                               help="Largest subset size searched."),
               fields.IntField("n_best", ids.SEL_NBEST, "beam n", 10, low=1, high=1000, what="beam width n_best",
                               help="Beam width (beam search only).")),
    fields.Note("A larger max d costs time only; a wider beam explores more combinations at a cost ∝ n. The "
                "paper's beam keeps 10.", small=True),
    fields.ChoiceField("criterion", ids.SEL_CRITERION, "criterion", "a_to_b", choices=CRITERIA, radio=True,
                       help="What the search minimises. Δ(S → target): S predicts the target. Symmetric: also "
                            "penalises S for information the target lacks (the paper's Fig. 4c)."),
    fields.RULE,
    fields.Subhead("Options"),
    fields.IntField("k", ids.SEL_K, "k", 1, low=1, what="the number of neighbours k", help=glossary.K_HELP),
    *fields.metric_fields(ids.SEL_METRIC, ids.SEL_METRIC_B, "candidates", "target"),
    *fields.estimator_fields(ids.SEL_ESTIMATOR, ids.SEL_NQ),
    fields.RULE,
    fields.Subhead("Baselines"),
    fields.IntField("n_random", ids.SEL_RANDOM, "random subsets", 0, low=0, high=MAX_RANDOM, suffix="per size",
                    what="random subsets per size",
                    help="Random subsets of each size scored like the search: the baseline a selection must beat "
                         "(0 = none; 20 give a usable mean ± sd)."),
    fields.FlagField("dummy", ids.SEL_DUMMY, "dummy", default=("dummy",),
                     options_={"dummy": "add a dummy noise feature (must never be chosen)"},
                     help="A column of independent noise added to the candidates: the paper's sanity check. A "
                          "sound selection never picks it."),
    # FPS / CUR from scikit-matter beside the curve; without it, a note instead of the option
    *((fields.FlagField("baselines", ids.SEL_BASELINES, "baselines",
                        options_={k: f"{v} beside the curve" for k, v in BASELINES.items()},
                        help="Unsupervised selections of the candidates, scored like the search (target at lag 0)."),)
      if skmatter_available() else
      (fields.Note("FPS / CUR baselines need scikit-matter (pip install 'infoimb[materials]')."),)),
    fields.RULE,
    fields.Subhead("Stability"),
    fields.IntField("n_splits", ids.SEL_SPLITS, "stability splits", 0, low=0, high=MAX_SPLITS, help=SPLITS_HELP),
)

#: the declaration the card and the job runner use
def cost(settings: dict, meta: dict):
    """The work of a selection (the estimate under Run): one Δ per evaluated subset, of about
    half the largest size on average, against the target (or the full candidate set). Ties are
    judged on a typical single candidate (the median number of distinct values): the search
    starts with single features."""
    from ..jobs.costs import Work

    columns = settings["candidates"]["columns"]
    distinct = {c.get("column"): c.get("n_unique") or 0 for c in (meta.get("summary") or []) if isinstance(c, dict)}
    typical = sorted(columns, key=lambda c: distinct.get(c, 0))[len(columns) // 2] if columns else None
    cand = len(columns) + int(bool(settings.get("dummy")))
    target = len(settings["target"]["columns"]) if settings.get("target") else cand
    total = int(settings.get("n_evaluations") or 1)
    return Work(int(meta.get("n_rows") or 0), max(1, (settings["max_features"] + 1) // 2), target,
                k=settings["k"], n_queries=settings["n_queries"], evaluations=0.5 * total,
                what=f"{total:,} subsets", columns=(typical,) if typical else ())  # subsets start small


ANALYSIS = Analysis(
    cost=cost,
    name=NAME, title="Select features", prepare=prepare, run=run, to_csv=to_csv, version=2, render=render,
    run_label="Select",
    empty_text="Choose the candidate features and a target (or none, for compression) and press Select.",
    form=FORM, defaults=defaults, hint=hint, hint_id=ids.SEL_HINT,
    section="Features and target", step="S", page_class="select-page",
    intro="The subset S of the candidates whose neighbours best predict the target's: Δ(S → target) against "
          "the number of features.",
)
