"""The "compare two spaces" analysis: Δ both ways, the relation, the plane, the ranks.

``prepare`` and ``run`` are registered with :func:`infoimb.web.jobs.register_analysis`;
``render`` draws a stored record (used by ``pages/compare.py``); ``to_csv`` gives the numbers.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ... import figures, verdicts
from ..._stats import bh_qvalues
from ...imbalance import ImbalancePair, imbalance_pair, rank_samples
from ...verdicts import RELATION_TEXT
from .. import fields
from .. import glossary  # the help texts shared by the pages (issue 9 §5)
from .. import ids
from ..context import AnalysisInputError, FULL, space_options, check_spaces, clean_groups, feature_columns, prepare_frame, resolve_space
from ..context import AUTO, METRIC_ORDER, SPACE_METRICS, categorical_of, text_columns, usable_rows
from ..inputs import space_metrics
from ..inputs import n_queries_of, one_of, whole
from ..matrices import load_matrices, matrix_space
from ..jobs.runner import Analysis, JobContext, settings_header

NAME = "compare"
METRICS = METRIC_ORDER  # the metrics the page offers: "auto" (categorical columns by equality), numeric, categorical
EXTRAS = {
    "features": "full space ↔ each feature",
    "groups": "full space ↔ each group",
}
SAME_METRIC = "same"  # the metric of B follows A's
RANK_QUERIES = 2000
#: a rank sample's query costs about this many exact queries of Δ (measured: descriptors, N = 4000)
RANKS_COST = 1.8
N_SCATTER = 100
N_PARTNERS = 50
RANDOM_STATE = 0
#: the permutations of the significance test when the box is left empty: DEFAULT_PERMUTATIONS for
#: the exact estimator up to PERMUTATION_MAX_N points, none otherwise (the subsampled estimator
#: has no permutation test)
DEFAULT_PERMUTATIONS = 199
PERMUTATION_MAX_N = 20_000
MAX_PERMUTATIONS = 9_999
ALPHA, CONFIDENCE, N_BOOTSTRAP = 0.05, 0.95, 1000
PERMUTATIONS_HELP = (f"Permutations for p-values. Empty: {DEFAULT_PERMUTATIONS} with the exact estimator when "
                     f"N ≤ {PERMUTATION_MAX_N:,}, else 0 (no test). With an entity column (Data page, Roles) the "
                     "null reassigns whole entities' series and the intervals resample entities.")


def significance_settings(inputs: dict, ctx: JobContext, n_queries) -> dict:
    """The significance part of the settings: permutations (validated, the default resolved),
    the entity and time columns of the Data page's roles, and the test's level."""
    n = ctx.n_rows
    exact = n_queries is None
    auto = DEFAULT_PERMUTATIONS if exact and n <= PERMUTATION_MAX_N else 0
    n_perm = whole(inputs.get("n_permutations"), "permutations", 0, MAX_PERMUTATIONS, default=auto)
    if n_perm and not exact:
        raise AnalysisInputError("permutations need the exact estimator (every point a query): choose exact, "
                                 "or set permutations to 0")
    columns = set(ctx.meta.get("columns") or [])
    entity = ctx.roles.get("entity")
    time = ctx.roles.get("time")
    return {"n_permutations": n_perm,
            "entity": entity if entity in columns else None,
            "time": time if time in columns else None,
            "alpha": ALPHA, "confidence": CONFIDENCE, "n_bootstrap": N_BOOTSTRAP}


def _entity_times(df: pd.DataFrame, columns: list, settings: dict):
    """Entity labels and times of the rows ``prepare_frame`` keeps (finite in ``columns``)."""
    entity, time = settings.get("entity"), settings.get("time")
    if not entity and not time:
        return None, None
    keep = usable_rows(df, columns, settings.get("categorical") or ())
    groups = df.loc[keep, entity].astype(str).to_numpy() if entity else None
    times = None
    if time:
        t = df.loc[keep, time]
        if not pd.api.types.is_numeric_dtype(t.dtype):
            t = pd.to_datetime(t, errors="coerce")
        if not t.isna().any():
            times = t.to_numpy()
    return groups, times


def pair_metric(settings: dict, pair: dict):
    """The ``metric`` argument for one pair: a distance matrix is its own distance, so a pair with
    one gets the feature side's metric; two feature spaces get ``(for_a, for_b)`` when they differ."""
    ma, mb = settings["metric"], settings.get("metric_b", settings["metric"])
    if pair.get("a_matrix"):
        return mb
    if pair.get("b_matrix"):
        return ma
    return ma if ma == mb else (ma, mb)


def prepare(inputs: dict, ctx: JobContext) -> dict:
    """Canonical settings of a comparison from the page's inputs."""
    a = resolve_space(inputs.get("a"), ctx.meta, ctx.groups)
    b = resolve_space(inputs.get("b"), ctx.meta, ctx.groups)
    check_spaces(a, b, allow_overlap=True, allow_same=False)
    n = ctx.n_rows
    k = whole(inputs.get("k"), "k", 1, max(n - 1, 1), default=1)
    metric = one_of(inputs.get("metric"), "metric", SPACE_METRICS, default=AUTO)
    metric_b = one_of(inputs.get("metric_b"), "metric of B", (SAME_METRIC, *SPACE_METRICS), default=SAME_METRIC)
    metric_b = metric if metric_b == SAME_METRIC else metric_b
    used = space_metrics({"metric": metric, "metric_b": metric_b}, ctx, a, b, "A", "B")["metrics_used"]
    n_queries = n_queries_of(inputs, n)  # None: exact (also when as many queries as points)
    extras = [e for e in (inputs.get("extras") or []) if e in EXTRAS]
    full = feature_columns(ctx.meta)
    columns = set(a.columns) | set(b.columns)
    n_pairs = 1
    if "features" in extras:
        n_pairs += len(full)
        columns |= set(full)
    if "groups" in extras:
        groups = [g for g in clean_groups(ctx.groups) if g["columns"] and set(g["columns"]) <= set(ctx.meta["columns"])]
        n_pairs += len(groups)
        columns |= set(full)
        for g in groups:
            columns |= set(g["columns"])
    ctx.check_subsets(n_pairs, "pairs of spaces")
    ctx.check_cells(len(columns))
    periodic = {c: p for c, p in ctx.periodic.items() if c in columns}
    if a.matrix is not None and b.matrix is not None:
        periodic = {}
    text = set(text_columns(ctx.meta))
    return {
        "metrics_used": used,  # the metric of A and of B ("auto" resolved)
        "categorical": [c for c in categorical_of(ctx.meta, sorted(columns)) if c not in text],
        "a": a.to_dict(),
        "b": b.to_dict(),
        "k": k,
        "metric": metric,
        "metric_b": metric_b,
        "n_queries": n_queries,
        "scaling": ctx.scaling,
        "periodic": periodic,
        "extras": extras,
        "full": full if extras else [],
        "groups": [g for g in clean_groups(ctx.groups)] if "groups" in extras else [],
        "random_state": RANDOM_STATE,
        "rank_queries": RANK_QUERIES,
        **significance_settings(inputs, ctx, n_queries),
    }


def full_is_a(settings: dict) -> bool:
    """Whether the extra pairs put the full space in A: yes, unless the main pair has the full
    space as B (then every point of the plane reads the same way: subset -> full)."""
    return settings["b"].get("value") != FULL


def _pairs(settings: dict) -> list[dict]:
    pairs = [{"series": "A vs B", "label": f"{settings['a']['label']} vs {settings['b']['label']}",
              "a": settings["a"]["columns"], "b": settings["b"]["columns"],
              "a_matrix": settings["a"].get("matrix"), "b_matrix": settings["b"].get("matrix")}]
    full = settings.get("full") or []
    full_a = full_is_a(settings)

    def pair(series, label, subset):
        if full_a:
            return {"series": f"full space vs each {series}", "label": label, "a": full, "b": subset}
        return {"series": f"each {series} vs full space", "label": label, "a": subset, "b": full}

    if "features" in settings["extras"]:
        for c in full:
            pairs.append(pair("feature", c, [c]))
    if "groups" in settings["extras"]:
        for g in settings.get("groups", []):
            if set(g["columns"]) == set(full):
                continue
            pairs.append(pair("group", g["name"], g["columns"]))
    return pairs


def load(store, sid, settings: dict) -> dict:
    """The uploaded distance matrices the comparison uses (read in the job, from the store)."""
    ids = [s.get("matrix") for s in (settings["a"], settings["b"]) if s.get("matrix")]
    return {"matrices": load_matrices(store, sid, ids)} if ids else {}


def _usable_rows(df: pd.DataFrame, columns) -> np.ndarray:
    """The rows ``prepare_frame`` keeps: finite in every one of ``columns``."""
    if not columns:
        return np.ones(df.shape[0], dtype=bool)
    values = df[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return np.isfinite(values).all(axis=1)


def run(df: pd.DataFrame, settings: dict, progress, matrices: dict | None = None) -> dict:
    """Δ both ways for the main pair (and the extra pairs), and the rank samples. ``matrices``:
    ``{id: (N, N) array}`` of the uploaded distance matrices the spaces name."""
    pairs = _pairs(settings)
    columns = list(dict.fromkeys(c for p in pairs for c in p["a"] + p["b"]))
    periodic = settings.get("periodic") or {}
    if columns:
        frame, dropped = prepare_frame(df, columns, settings["scaling"], periodic,
                                       categorical=settings.get("categorical") or ())
    else:  # two distance matrices: no features at all
        frame, dropped = pd.DataFrame(index=range(df.shape[0])), 0
    keep = usable_rows(df, columns, settings.get("categorical") or ())
    if int(keep.sum()) != frame.shape[0]:  # pragma: no cover - the two row rules must agree
        raise AnalysisInputError("the rows with missing values could not be matched to the distance matrix")

    def side(p, which):
        mid = p.get(f"{which}_matrix")
        if mid:
            if not matrices or mid not in matrices:
                raise AnalysisInputError("the distance matrix is no longer stored: upload it again on the Data page")
            return matrix_space(matrices[mid], settings[which]["label"], keep)
        return frame[p[which]]

    n = int(frame.shape[0])
    k = settings["k"]
    if k >= n:
        raise AnalysisInputError(f"k = {k} must be smaller than the number of points ({n} after dropping "
                                 "rows with missing values)")
    nq = settings["n_queries"]
    if nq is not None and nq >= n:
        nq = None
    m = nq or n
    rank_q = min(settings.get("rank_queries", RANK_QUERIES), n)
    n_perm = settings.get("n_permutations", 0)
    costs = [m * n * (len(p["a"]) + len(p["b"]) + 1) * (1 + 0.1 * n_perm) for p in pairs]
    groups, times = _entity_times(df, columns, settings)
    main_d = len(pairs[0]["a"]) + len(pairs[0]["b"]) + 1
    costs.append(rank_q * n * main_d * RANKS_COST)
    total = float(sum(costs))
    done = 0.0
    out_pairs = []
    progress(0.01, f"Δ for {pairs[0]['label']}")
    for i, p in enumerate(pairs):
        per = {c: v for c, v in periodic.items() if c in p["a"] or c in p["b"]} or None
        lo, width = done / total, costs[i] / total
        inside = (lambda f, m, lo=lo, width=width, i=i: progress(
            max(0.01, lo + width * f), m if len(pairs) == 1 else f"pair {i + 1} of {len(pairs)}: {m}"))
        res = imbalance_pair(side(p, "a"), side(p, "b"), k=k, metric=pair_metric(settings, p), period=per,
                             progress=inside,
                             n_queries=nq, random_state=settings["random_state"],
                             n_permutations=n_perm if nq is None else 0, groups=groups,
                             times=times if groups is not None else None,
                             confidence=settings.get("confidence", CONFIDENCE),
                             n_bootstrap=settings.get("n_bootstrap", N_BOOTSTRAP),
                             alpha=settings.get("alpha", ALPHA))
        out_pairs.append({**{kk: p[kk] for kk in ("series", "label")}, "a_columns": p["a"], "b_columns": p["b"],
                          **res.to_dict()})
        done += costs[i]
        nxt = pairs[i + 1]["label"] if i + 1 < len(pairs) else "ranks for the plots"
        progress(done / total, f"pair {i + 1} of {len(pairs)} done; next: {nxt}")
    a_cols, b_cols = pairs[0]["a"], pairs[0]["b"]
    per = {c: v for c, v in periodic.items() if c in a_cols or c in b_cols} or None
    rs = rank_samples(side(pairs[0], "a"), side(pairs[0], "b"), n_queries=rank_q, n_scatter=N_SCATTER,
                      n_partners=N_PARTNERS, metric=pair_metric(settings, pairs[0]), period=per,
                      random_state=settings["random_state"])
    progress(1.0, "done")
    add_qvalues(out_pairs)
    main = out_pairs[0]
    return {
        "n": n,
        "dropped_rows": dropped,
        "main": main,
        "relation_text": RELATION_TEXT[main["relation"]],
        "pairs": out_pairs,
        "ranks": {
            "n": int(rs.n),
            "n_queries": int(len(rs.query)),
            "rank_b_given_a1": np.round(rs.rank_b_given_a1, 3).tolist(),
            "rank_a_given_b1": np.round(rs.rank_a_given_b1, 3).tolist(),
            "rank_a": np.round(rs.rank_a, 2).tolist(),
            "rank_b": np.round(rs.rank_b, 2).tolist(),
        },
    }


def add_qvalues(pairs: list[dict]) -> None:
    """Benjamini-Hochberg q-values of every p-value on the plane (both directions of every pair:
    one family of tests), stored beside the p-values as ``q_a_to_b`` / ``q_b_to_a``."""
    ps = [p.get(key) for p in pairs for key in ("p_a_to_b", "p_b_to_a")]
    qs = bh_qvalues([np.nan if v is None else v for v in ps])
    for i, p in enumerate(pairs):
        for j, key in enumerate(("q_a_to_b", "q_b_to_a")):
            q = qs[2 * i + j]
            p[key] = None if not np.isfinite(q) else float(q)


def _interval(ci, side: int):
    return None if ci is None else ci[side]


def to_csv(record: dict) -> str:
    """The pairs as CSV, after ``# key: value`` lines saying how they were produced: Δ both
    ways with standard errors, bootstrap intervals, permutation p-values and BH q-values."""
    rows = []
    for p in record["result"]["pairs"]:
        rows.append({"series": p["series"], "label": p["label"], "a_columns": " ".join(p["a_columns"]),
                     "b_columns": " ".join(p["b_columns"]), "delta_a_to_b": p["a_to_b"],
                     "se_a_to_b": p["a_to_b_se"], "delta_b_to_a": p["b_to_a"], "se_b_to_a": p["b_to_a_se"],
                     "ci_low_a_to_b": _interval(p.get("a_to_b_ci"), 0),
                     "ci_high_a_to_b": _interval(p.get("a_to_b_ci"), 1),
                     "ci_low_b_to_a": _interval(p.get("b_to_a_ci"), 0),
                     "ci_high_b_to_a": _interval(p.get("b_to_a_ci"), 1),
                     "ci_low_difference": _interval(p.get("difference_ci"), 0),
                     "ci_high_difference": _interval(p.get("difference_ci"), 1),
                     "p_a_to_b": p.get("p_a_to_b"), "q_a_to_b": p.get("q_a_to_b"),
                     "p_b_to_a": p.get("p_b_to_a"), "q_b_to_a": p.get("q_b_to_a"),
                     "relation": p["relation"], "significance": confidence(p)[0],
                     "null": p.get("null"), "n_permutations": p.get("n_permutations", 0),
                     "n": p["n"], "k": p["k"], "n_queries": p["n_queries"]})
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False, float_format="%.6g")
    return "\n".join(settings_header(record)) + "\n" + buf.getvalue()




# --------------------------------------------------------------------------------------
# drawing a record
# --------------------------------------------------------------------------------------
def caption(record: dict) -> str:
    s, res = record["settings"], record["result"]
    metric_of = {"a": s["metric"], "b": s.get("metric_b", s["metric"])}
    if s.get("metrics_used"):  # "auto" resolved: the metric each side was measured with
        metric_of = {"a": s["metrics_used"]["A"], "b": s["metrics_used"]["B"]}
    if s["a"].get("matrix") or s["b"].get("matrix") or metric_of["a"] != metric_of["b"]:  # say each side's
        s = dict(s, metric=", ".join(f"{side}: {'distance matrix' if s[side.lower()].get('matrix') else metric_of[side.lower()]}"
                                     for side in ("A", "B")))
    text = figures.settings_caption(s, {"filename": record["dataset"].get("filename") or "", "n_rows": res["n"]})
    if res.get("dropped_rows"):
        text += f" · {res['dropped_rows']} rows with missing values left out"
    return text


def build_figures(record: dict) -> dict:
    """The three figures of a comparison record (pure: used by the page and by tests)."""
    s, res = record["settings"], record["result"]
    cap = caption(record)
    a_name, b_name = s["a"]["label"], s["b"]["label"]
    points = [dict(p) for p in res["pairs"]]
    if len(points) > 1:
        what = " / ".join(w for w, key in (("feature", "features"), ("group", "groups")) if key in s["extras"])
        extra = f"A = full space, B = each {what}" if full_is_a(s) else f"A = each {what}, B = full space"
        b_name_plane = f"{b_name} · other points: {extra}"
    else:
        b_name_plane = b_name
    plane = figures.imbalance_plane(points, a_name=a_name, b_name=b_name_plane, caption=cap,
                                    error_bars="interval")
    r = res["ranks"]
    scatter = figures.rank_scatter(r["rank_a"], r["rank_b"], n=r["n"], a_name=a_name, b_name=b_name, caption=cap)
    hist = figures.conditional_rank_histograms(r["rank_b_given_a1"], r["rank_a_given_b1"], n=r["n"],
                                               a_name=a_name, b_name=b_name, caption=cap)
    return {"plane": plane, "ranks": scatter, "conditional": hist}


def pair_object(p: dict) -> ImbalancePair:
    """The ImbalancePair of a stored pair (the record keeps its ``to_dict()``)."""
    return ImbalancePair.from_dict(p)


def confidence(p: dict, alpha: float = ALPHA) -> tuple[str, str]:
    """(label, sentence): how sure the pair's relation is (:func:`infoimb.verdicts.relation_confidence`)."""
    return verdicts.relation_confidence(pair_object(p), alpha=alpha)


def interval_text(ci, conf) -> str:
    return "" if ci is None else f"{100 * (conf or CONFIDENCE):.0f}% CI [{ci[0]:.4f}, {ci[1]:.4f}]"


def p_text(p, q=None) -> str:
    if p is None:
        return "p: not tested"
    return f"p = {p:.3g}" + ("" if q is None else f" · q = {q:.3g}")


def summary(record: dict) -> dict:
    """The numbers and words of the summary line (pure): Δ ± se both ways, their intervals and
    p-values (q-values too when several pairs share the plane), the relation and its confidence."""
    s, res = record["settings"], record["result"]
    m = res["main"]
    several = len(res["pairs"]) > 1
    label, sentence = confidence(m, s.get("alpha", ALPHA))
    return {
        "a": s["a"]["label"], "b": s["b"]["label"],
        "a_to_b": f"{m['a_to_b']:.4f} ± {m['a_to_b_se']:.4f}",
        "b_to_a": f"{m['b_to_a']:.4f} ± {m['b_to_a_se']:.4f}",
        "a_to_b_ci": interval_text(m.get("a_to_b_ci"), m.get("confidence")),
        "b_to_a_ci": interval_text(m.get("b_to_a_ci"), m.get("confidence")),
        "p_a_to_b": p_text(m.get("p_a_to_b"), m.get("q_a_to_b") if several else None),
        "p_b_to_a": p_text(m.get("p_b_to_a"), m.get("q_b_to_a") if several else None),
        "relation": m["relation"], "relation_text": verdicts.relation(pair_object(m)),
        "significance": label, "significance_text": sentence,
        "entity_note": entity_note(s, m),
        "n": res["n"], "dropped": res.get("dropped_rows", 0),
    }


def entity_note(settings: dict, pair: dict) -> str | None:
    """The note saying that the entity null (and entity bootstrap) is in use."""
    entity = settings.get("entity")
    if not entity:
        return None
    what = (f"Entity null in use: whole {entity} series are reassigned between entities "
            if pair.get("null") == "entities" else "")
    return (what + f"{'and ' if what else 'Entity column ' + repr(entity) + ': '}the intervals resample "
            f"whole entities ({entity}), not rows.")


SIGNIFICANCE_COLORS = {"significant": "success", "not significant": "secondary", "not tested": "light",
                       "too few permutations": "warning"}


def _fmt(v, digits: str = ".3g") -> str:
    return "" if v is None else format(v, digits)


def pair_rows(record: dict) -> list[dict]:
    """The table of every pair on the plane: Δ ± se, intervals, p and q both ways, the relation."""
    rows = []
    for p in record["result"]["pairs"]:
        ci_ab, ci_ba = p.get("a_to_b_ci"), p.get("b_to_a_ci")
        rows.append({"series": p["series"], "pair": p["label"],
                     "Δ(A→B)": f"{p['a_to_b']:.4f} ± {p['a_to_b_se']:.4f}",
                     "CI (A→B)": "" if ci_ab is None else f"[{ci_ab[0]:.3f}, {ci_ab[1]:.3f}]",
                     "p (A→B)": _fmt(p.get("p_a_to_b")), "q (A→B)": _fmt(p.get("q_a_to_b")),
                     "Δ(B→A)": f"{p['b_to_a']:.4f} ± {p['b_to_a_se']:.4f}",
                     "CI (B→A)": "" if ci_ba is None else f"[{ci_ba[0]:.3f}, {ci_ba[1]:.3f}]",
                     "p (B→A)": _fmt(p.get("p_b_to_a")), "q (B→A)": _fmt(p.get("q_b_to_a")),
                     "relation": figures.REGION_NAMES[p["relation"]], "significance": confidence(p)[0]})
    return rows


def _n_columns(space: dict, metric: str | None = None) -> str:
    if space.get("matrix"):
        return "distance matrix"
    n = len(space["columns"])
    return f"{n} column{'s' if n != 1 else ''}" + (f", {metric}" if metric else "")


def render(record: dict):
    """Dash children for a stored record: summary, plane, rank scatter, histograms, table."""
    import dash_bootstrap_components as dbc
    from dash import html

    from ..ui import figure_block, table

    sm = summary(record)
    figs = build_figures(record)
    res = record["result"]
    s = record["settings"]
    colors = {"equivalent": "success", "a_contains_b": "primary", "b_contains_a": "warning",
              "symmetric": "info", "independent": "secondary"}
    head = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Div("Δ(A → B)", className="metric-label"),
                      html.Div(sm["a_to_b"], className="metric-value", id=ids.CMP_DELTA_AB),
                      html.Div(sm["a_to_b_ci"], className="small text-muted"),
                      html.Div(sm["p_a_to_b"], className="small text-muted", id=ids.CMP_P_AB)], className="metric"),
            html.Div([html.Div("Δ(B → A)", className="metric-label"),
                      html.Div(sm["b_to_a"], className="metric-value", id=ids.CMP_DELTA_BA),
                      html.Div(sm["b_to_a_ci"], className="small text-muted"),
                      html.Div(sm["p_b_to_a"], className="small text-muted", id=ids.CMP_P_BA)], className="metric"),
            html.Div([
                dbc.Badge(figures.REGION_NAMES[sm["relation"]], color=colors[sm["relation"]],
                          className="relation-badge", id=ids.CMP_RELATION),
                dbc.Badge(sm["significance"], color=SIGNIFICANCE_COLORS[sm["significance"]],
                          className="relation-badge ms-1", id=ids.CMP_SIGNIFICANCE),
                html.Div(sm["relation_text"], className="relation-text", id=ids.CMP_RELATION_TEXT),
                html.Div(sm["significance_text"], className="small mt-1", id=ids.CMP_SIGNIFICANCE_TEXT),
            ], className="relation"),
        ], className="metrics-row"),
        html.Div([
            html.Span("A = ", className="text-muted"), html.Strong(sm["a"]),
            html.Span(f" ({_n_columns(s['a'], (s.get('metrics_used') or {}).get('A'))})", className="text-muted"),
            html.Span(" · B = ", className="text-muted ms-1"), html.Strong(sm["b"]),
            html.Span(f" ({_n_columns(s['b'], (s.get('metrics_used') or {}).get('B'))})", className="text-muted"),
            html.Span(f" · N = {sm['n']}" + (f" ({sm['dropped']} rows with missing values left out)"
                                              if sm["dropped"] else ""), className="text-muted"),
        ], className="small mt-2"),
        *([html.Div(sm["entity_note"], className="small text-muted mt-1", id=ids.CMP_ENTITY_NOTE)]
          if sm["entity_note"] else []),
        *([html.Div("; ".join(record["warnings"]), className="small text-warning mt-1")]
          if record.get("warnings") else []),
    ]), className="mb-3 summary-card")
    blocks = [
        head,
        dbc.Row([
            dbc.Col(figure_block("plane", figs["plane"]), lg=6),
            dbc.Col(figure_block("ranks", figs["ranks"]), lg=6),
        ], className="g-3"),
        dbc.Row(dbc.Col(figure_block("conditional", figs["conditional"]), width=12), className="g-3 mt-1"),
    ]
    if len(res["pairs"]) > 1:
        rows = pair_rows(record)
        blocks.append(html.Div([
            html.H6("All pairs on the plane", className="mt-3"),
            html.Div("q: Benjamini–Hochberg q-values over every p-value on the plane (both directions of every "
                     "pair)." if res["main"].get("p_a_to_b") is not None else
                     "No permutation test was run (permutations = 0).", className="small text-muted mb-1"),
            table(list(rows[0]), rows, max_height=320, id=ids.CMP_PAIRS_TABLE),
        ]))
    return blocks


__all__ = ["ANALYSIS", "EXTRAS", "FORM", "FULL", "METRICS", "add_qvalues", "confidence", "pair_rows", "build_figures", "defaults", "prepare", "render", "run",
           "summary", "to_csv"]


# ---- the page's inputs ---------------------------------------------------------------
def defaults(meta: dict, groups) -> dict:
    """The spaces a comparison starts with: B = the full space, A = the first group (or else
    feature) that is not the full space itself."""
    enabled = [o["value"] for o in space_options(meta, groups, matrices=True) if not o.get("disabled")]
    full = set(feature_columns(meta))
    by_name = {f"group:{g['name']}": set(g["columns"]) for g in clean_groups(groups)}
    candidates = [v for v in enabled if v.startswith("group:") and by_name.get(v) != full] + \
        [v for v in enabled if v.startswith("col:")]
    return {"a": candidates[0] if candidates else None, "b": FULL if FULL in enabled else None}


def finish(values: dict, meta: dict, groups) -> dict:
    """A and B never start as the same space."""
    if values["a"] is not None and values["a"] == values["b"]:
        da = defaults(meta, groups)["a"]
        valid = [o["value"] for o in space_options(meta, groups, matrices=True) if not o.get("disabled")]
        values = dict(values, a=da if da != values["b"] else next((v for v in valid if v != values["b"]), None))
    return values


def hint(meta: dict) -> str:
    return f"{meta['filename']}: {meta['n_rows']} points"


_SPACE = "a group, a feature or the full space"
#: the page's "How to read this" (issue 9 §5; shown by the card, see infoimb.web.glossary)
HOW_TO_READ = (
    "Δ(A → B) asks whether the nearest neighbour of each point in A is also close in B: 0 means A's neighbours "
    "are B's (A predicts B), 1 means A says nothing about B. The plane puts x = Δ(A → B), y = Δ(B → A): a point "
    "far below the diagonal means A contains B's information, far above means B contains A's, near (0, 0) the "
    "two are equivalent, near (1, 1) independent, on the diagonal in between they share part of it. The rank "
    "scatter and histograms show why: with a good predictor, A's nearest neighbours have low ranks in B. "
    "Quote both Δ with their ± or interval, N and k (Δ shrinks as N grows), and the permutation p-value when "
    "you claim that A tells something about B."
)

FORM = (
    fields.SpaceField("a", ids.CMP_A, "Space A", placeholder=_SPACE, first=True, matrices=True,
                      help="The space whose neighbours predict: a group of the Data page, one feature, the full "
                           "space or an uploaded distance matrix."),
    fields.SpaceField("b", ids.CMP_B, "Space B", placeholder=_SPACE, matrices=True,
                      help="The space to be predicted. Both directions are computed: the order only names them."),
    fields.HINT,
    fields.RUN,
    fields.RULE,
    fields.Subhead("Options"),
    fields.IntField("k", ids.CMP_K, "k", 1, low=1, what="the number of neighbours k", help=glossary.K_HELP),
    fields.ChoiceField("metric", ids.CMP_METRIC, "metric", AUTO, choices={m: m for m in METRIC_ORDER},
                       help=glossary.metric_help(METRIC_ORDER, what="The distance within A, and within B unless "
                                                                    "set below")),
    fields.ChoiceField("metric_b", ids.CMP_METRIC_B, "metric of B", SAME_METRIC,
                       choices={SAME_METRIC: "metric of B: same as A",
                                **{m: f"metric of B: {m}" for m in METRIC_ORDER}},
                       help="A different distance within space B, e.g. categorical for a text column B while A is "
                            "numeric (a distance matrix is its own distance)."),
    *fields.estimator_fields(ids.CMP_ESTIMATOR, ids.CMP_NQ),
    fields.FlagField("extras", ids.CMP_EXTRA, "plane", options_={k: "plane: add " + v for k, v in EXTRAS.items()},
                     help="Also place the full space against each single feature or each group on the plane (the "
                          "paper's Fig. 2h): which parts carry the information."),
    fields.RULE,
    fields.Subhead("Significance"),
    fields.IntField("n_permutations", ids.CMP_PERM, "permutations", None, low=0, high=MAX_PERMUTATIONS, optional=True,
                    placeholder=f"auto ({DEFAULT_PERMUTATIONS})", help=PERMUTATIONS_HELP),
)

#: the declaration the card and the job runner use
def cost(settings: dict, meta: dict) -> list:
    """The work of a comparison (the estimate under Compare): Δ both ways for each pair
    (permutations add about a tenth each), and the rank samples of the plots."""
    from ..jobs.costs import Work

    n = int(meta.get("n_rows") or 0)
    nq, k, n_perm = settings["n_queries"], settings["k"], settings.get("n_permutations") or 0
    out = []
    pairs = _pairs(settings)
    what = ", ".join(w for w in (f"{len(pairs)} pairs" if len(pairs) > 1 else "",
                                 f"{n_perm} permutations" if n_perm else "") if w)
    for i, p in enumerate(pairs):
        da = 0 if p.get("a_matrix") else len(p["a"])
        db = 0 if p.get("b_matrix") else len(p["b"])
        per = any(c in (settings.get("periodic") or {}) for c in p["a"] + p["b"])
        out.append(Work(n, da, db, k=k, n_queries=nq, evaluations=1 + 0.1 * n_perm,
                        metric=pair_metric(settings, p), periodic=per, tree_ok=True, main=i == 0,
                        what=what if i == 0 else "", columns=tuple(dict.fromkeys(p["a"] + p["b"]))))
    main = out[0]
    out.append(Work(n, main.d_a, main.d_b, n_queries=min(settings.get("rank_queries", RANK_QUERIES), n),
                    evaluations=RANKS_COST))
    return out


ANALYSIS = Analysis(
    cost=cost,
    name=NAME, title="Compare two spaces", prepare=prepare, run=run, to_csv=to_csv, version=2, render=render,
    run_label="Compare", load=load, empty_text="Choose spaces A and B and press Compare.",
    form=FORM, defaults=defaults, finish=finish, hint=hint, hint_id=ids.CMP_HINT, restore_each=True,
    section="Two spaces", step="A", heading="Compare two spaces", page_class="compare-page",
    intro="Δ(A → B) is small when each point's nearest neighbour in A is also close in B: A predicts B.",
)
