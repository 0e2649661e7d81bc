"""The Causal graph page without a browser: the network figure (edges drawn, hover values,
a layout stable between runs) and the declaration's prepare / run / render / to_csv through
the job machinery on small systems with a known graph, with every bad input's message."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import pytest

from infoimb import figures, verdicts
from infoimb._serialize import dumps
from infoimb.datasets import logistic_network
from infoimb.graph import CausalGraph, causal_graph
from infoimb.web import data_logic, fields, ids
from infoimb.web.analyses import graph as web_graph
from infoimb.web.config import Settings
from infoimb.web.context import AnalysisInputError
from infoimb.web.jobs import JobContext, lookup, run_job
from infoimb.web.store import SessionStore

ALPHAS = [0.0, 0.25, 0.5, 0.75, 1.0]
CHAIN = {"X": [], "Y": ["X"], "Z": ["Y"]}


def edge_set(edges) -> set:
    return set(zip(edges["cause"], edges["effect"]))


# --------------------------------------------------------------------------------------
# the figure
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chain() -> CausalGraph:
    df = logistic_network(CHAIN, n=300, random_state=1)
    return causal_graph(df, n_surrogates=99, alphas=ALPHAS, random_state=0)


def fake_graph(variables, edges) -> CausalGraph:
    """A CausalGraph with the given edges [(cause, effect, gain, lag, p, q)]."""
    e = pd.DataFrame(edges, columns=["cause", "effect", "gain", "lag", "p", "q"])
    e["gain_pairwise"], e["alpha_star"], e["conditioned_on"] = e["gain"], 1.0, ""
    pairs = [(c, t) for t in variables for c in variables if c != t]
    kept = {(c, t) for c, t, *_ in edges}
    tested = pd.DataFrame({"cause": [c for c, _ in pairs], "effect": [t for _, t in pairs],
                           "edge": [p in kept for p in pairs],
                           "reason": ["significant" if p in kept else "not significant on its own" for p in pairs]})
    return CausalGraph(tuple(variables), {v: (v,) for v in variables}, e, tested, (1,), 100, 1, 5, 99, 10,
                       0.05, 0.1, 0.01, None, np.array(ALPHAS))


def edge_annotations(fig) -> list:
    return [a for a in fig.layout.annotations if a.name == "edge"]


def trace(fig, name):
    found = [t for t in fig.data if t.name == name]
    return found[0] if found else None


def test_figure_draws_exactly_the_edges_with_their_hover_values(chain):
    assert edge_set(chain.edges) == {("X", "Y"), ("Y", "Z")}
    fig = figures.causal_graph_figure(chain)
    arrows = edge_annotations(fig)
    assert len(arrows) == 2
    links = trace(fig, "links")
    drawn = [(c, t) for c, t, *_ in links.customdata]
    assert sorted(drawn) == sorted(zip(chain.edges["cause"], chain.edges["effect"]))
    pos = chain.positions()
    for row, arrow, text, (c, t, gain, lag, p, q) in zip(chain.edges.itertuples(), arrows, links.hovertext,
                                                         links.customdata):
        assert (c, t) == (row.cause, row.effect)
        assert (gain, lag, p, q) == (pytest.approx(row.gain), row.lag, pytest.approx(row.p), pytest.approx(row.q))
        assert text == (f"{c} → {t}<br>gain {row.gain:.3f} · lag {row.lag}<br>p = {row.p:.3g} · q = {row.q:.3g}")
        assert arrow.hovertext == text
        # the head (x, y) next to the effect, the tail (ax, ay) next to the cause
        head, tail = np.array([arrow.x, arrow.y]), np.array([arrow.ax, arrow.ay])
        assert np.linalg.norm(head - pos[t]) == pytest.approx(figures.NODE_RADIUS)
        assert np.linalg.norm(tail - pos[c]) == pytest.approx(figures.NODE_RADIUS)
    assert "gain 0." in links.hovertext[0] and "p = 0.01" in links.hovertext[0]
    nodes = trace(fig, "variables")
    assert list(nodes.text) == ["X", "Y", "Z"]
    assert "driven by: X" in nodes.hovertext[1] and "no driver found" in nodes.hovertext[0]


def test_arrow_width_follows_the_gain_and_both_ways_sit_side_by_side():
    g = fake_graph(["A", "B", "C"], [("A", "B", 0.6, 1, 0.01, 0.02), ("B", "A", 0.3, 2, 0.01, 0.03),
                                     ("A", "C", 0.15, 1, 0.02, 0.04)])
    fig = figures.causal_graph_figure(g)
    a = {(h.split(" → ")[0], h.split(" → ")[1].split("<br>")[0]): h for h in trace(fig, "links").hovertext}
    assert set(a) == {("A", "B"), ("B", "A"), ("A", "C")}
    arrows = edge_annotations(fig)
    widths = [x.arrowwidth for x in arrows]
    assert widths == pytest.approx([7.0, 1.5 + 5.5 * 0.5, 1.5 + 5.5 * 0.25])
    assert [x.opacity for x in arrows] == pytest.approx([1.0, 0.675, 0.5125])
    ab, ba = arrows[0], arrows[1]
    # A -> B and B -> A are parallel, 0.09 apart, not on top of each other
    gap = np.array([ab.x - ba.ax, ab.y - ba.ay])
    assert np.linalg.norm(gap) == pytest.approx(0.09)
    assert "lag 2" in a[("B", "A")]
    node_colors = trace(fig, "variables").marker.color
    assert list(node_colors) == [figures.COLORS[2]] * 3


def test_layout_is_stable_between_runs_and_through_json(chain):
    df = logistic_network(CHAIN, n=300, random_state=5)
    other = causal_graph(df, n_surrogates=99, alphas=ALPHAS, random_state=3)
    f1 = figures.causal_graph_figure(chain)
    f2 = figures.causal_graph_figure(json.loads(dumps(other.to_dict())))
    n1, n2 = trace(f1, "variables"), trace(f2, "variables")
    assert list(n1.x) == list(n2.x) and list(n1.y) == list(n2.y)
    assert (n1.x[0], n1.y[0]) == (0.0, 1.0)  # the first variable at the top, then clockwise
    assert n1.x[1] > 0 and n1.x[2] < 0
    assert f1.layout.yaxis.scaleanchor == "x"


def test_no_edge_and_names_from_user_data():
    g = fake_graph(["<b>a</b>", "b"], [])
    fig = figures.causal_graph_figure(g)
    assert edge_annotations(fig) == [] and trace(fig, "links") is None
    nodes = trace(fig, "variables")
    assert list(nodes.text) == ["&lt;b&gt;a&lt;/b&gt;", "b"]
    assert list(nodes.marker.color) == [figures.COLORS[6]] * 2
    assert "0 direct links" in fig.layout.title.subtitle.text
    assert verdicts.causal_graph(g).startswith("No direct link among the 2 variables at q ≤ 0.05")


# --------------------------------------------------------------------------------------
# the declaration through the job machinery
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    s = Settings(cache_dir=tmp_path_factory.mktemp("web-graph"), job_timeout=300)
    s.ensure_dirs()
    return s


@pytest.fixture(scope="module")
def store(settings) -> SessionStore:
    return SessionStore(settings.sessions_dir)


def upload(store, settings, df: pd.DataFrame, name: str = "table.csv"):
    sid = store.new_session()
    url = "data:text/csv;base64," + base64.b64encode(df.to_csv(index=False).encode()).decode()
    out = data_logic.ingest_upload(store, sid, url, name, settings)
    assert out["dataset"] is not None, out["message"]
    return sid


def run_ok(store, settings, sid, client, inputs) -> dict:
    reports = []
    status = run_job(store, "graph", sid, inputs, client, settings, report=reports.append)
    assert status["status"] == "ok", status.get("message")
    assert reports[-1] == {"value": 100.0, "label": "100% · done"}
    return store.get_result(sid, status["content_hash"], "graph", status["key"])


def find(component, wanted):
    """The component with id ``wanted`` in a Dash tree (or a list of them)."""
    if isinstance(component, (list, tuple)):
        return next((hit for c in component if (hit := find(c, wanted)) is not None), None)
    if getattr(component, "id", None) == wanted:
        return component
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        for c in children:
            hit = find(c, wanted)
            if hit is not None:
                return hit
    elif children is not None and not isinstance(children, str):
        return find(children, wanted)
    return None


@pytest.fixture(scope="module")
def chain_record(store, settings):
    df = logistic_network(CHAIN, n=300, random_state=1)
    df.insert(0, "t", np.arange(len(df)))
    sid = upload(store, settings, df, "chain.csv")
    client = {"groups": [], "scaling": "none"}
    inputs = {"variables": [], "taus": "1", "k": 5, "n_alpha": 5, "n_surrogates": 99, "alpha": 0.05,
              "embed_dim": 1, "embed_delay": 1, "time": "t", "entity": "none", "estimator": "exact"}
    return sid, client, inputs, run_ok(store, settings, sid, client, inputs)


def test_chain_through_the_page(chain_record, store, settings):
    sid, client, inputs, record = chain_record
    s, res = record["settings"], record["result"]
    # default: one variable per numeric column, the time column left out
    assert s["variables"] == {"X": ["X"], "Y": ["Y"], "Z": ["Z"]} and s["taus"] == [1] and s["time"] == "t"
    assert edge_set(res["edges"]) == {("X", "Y"), ("Y", "Z")}
    assert res["n"] == 299 and res["n_surrogates"] == 99 and len(res["tested"]["cause"]) == 6
    g = CausalGraph.from_dict(res)
    assert res["verdict_text"] == verdicts.causal_graph(g)
    assert res["verdict_text"].startswith("2 direct links among 3 variables (q ≤ 0.05): ")
    explained = [(c, t) for c, t, r in zip(res["tested"]["cause"], res["tested"]["effect"], res["tested"]["reason"])
                 if r.startswith("explained by")]
    assert ("X", "Z") in explained
    n = len(explained)
    assert (f" {n} other pair{'s' if n > 1 else ''} with a pairwise p ≤ 0.1 {'were' if n > 1 else 'was'} explained "
            "by other drivers (indirect links or common causes).") in res["verdict_text"]
    # the memo answers the same inputs
    again, key, why = lookup(store, "graph", sid, inputs, client, settings)
    assert why is None and again["key"] == record["key"]
    # CSV: every ordered pair with why it was kept or removed
    text = web_graph.to_csv(record)
    assert "# verdict: 2 direct links" in text
    table = pd.read_csv(io.StringIO(text), comment="#")
    assert len(table) == 6 and table["edge"].sum() == 2
    xz = table.set_index(["cause", "effect"]).loc[("X", "Z")]
    assert not xz["edge"] and xz["reason"].startswith("explained by Y (lag 1)")
    # the page: figure, edge table, table of every pair
    children = web_graph.render(record)
    edges = find(children, ids.GRA_EDGES)
    assert [(r["c0"], r["c1"]) for r in edges.rowData] == list(zip(res["edges"]["cause"], res["edges"]["effect"]))
    assert [d["headerName"] for d in edges.columnDefs] == ["cause", "effect", "gain", "lag", "p", "q",
                                                           "pairwise gain", "given"]
    tested = find(children, ids.GRA_TESTED)
    assert len(tested.rowData) == 6 and sum(r["c2"] == "yes" for r in tested.rowData) == 2
    why = tested.columnDefs[-1]
    assert {k: why[k] for k in ("headerName", "field", "tooltipField")} == {"headerName": "why", "field": "c9",
                                                                           "tooltipField": "c9"}
    # flex=3: the widest share of the spare width, and its text wraps (ui.column_defs)
    assert why["flex"] > max(d["flex"] for d in tested.columnDefs[:-1]) and why["wrapText"]
    assert find(children, ids.GRA_VERDICT).children == res["verdict_text"]
    assert find(children, ids.GRA_N_EDGES).children == "2"
    fig = web_graph.build_figures(record)["graph"]
    assert len(edge_annotations(fig)) == 2
    caption = [a.text for a in fig.layout.annotations if a.name != "edge"][-1]
    assert "N = 299 present/future pairs" in caption and "99 circular-shift surrogates" in caption


def test_run_reports_progress_and_cancels(chain_record):
    _, _, _, record = chain_record
    df = logistic_network(CHAIN, n=300, random_state=1)
    calls = []
    out = web_graph.run(df, record["settings"] | {"time": None}, lambda f, m="": calls.append((f, m)))
    assert edge_set(out["edges"]) == edge_set(record["result"]["edges"])
    assert calls[0] == (0.01, "preparing the series") and calls[-1] == (1.0, "2 direct link(s)")
    assert [m for _, m in calls if m.startswith("pairwise")] == [f"pairwise: drivers of {v} ({i}/3)"
                                                                 for i, v in enumerate("XYZ", 1)]
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))

    def stop(f, m=""):
        if m.startswith("conditioning"):
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt, match="cancelled"):
        web_graph.run(df, record["settings"] | {"time": None}, stop)


def test_cli_prints_the_same_sentence(chain_record, tmp_path, capsys):
    from infoimb.cli import main

    _, _, _, record = chain_record
    path = tmp_path / "chain.csv"
    logistic_network(CHAIN, n=300, random_state=1).to_csv(path, index=False)
    assert main(["graph", str(path), "--n-alphas", "5", "--surrogates", "99", "--seed", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert record["result"]["verdict_text"] in out


def test_panel_within_entities(store, settings):
    df = logistic_network({"X": [], "Y": ["X"], "Z": []}, n=120, n_entities=3, random_state=2)
    sid = upload(store, settings, df, "panel.csv")
    client = {"groups": [{"name": "cause", "columns": ["X"]}], "scaling": "none"}
    inputs = {"variables": ["group:cause", "col:Y", "col:Z"], "taus": "1", "n_alpha": 5, "n_surrogates": 199,
              "alpha": 0.05, "time": "t", "entity": "entity"}
    record = run_ok(store, settings, sid, client, inputs)
    s, res = record["settings"], record["result"]
    assert s["variables"] == {"cause": ["X"], "Y": ["Y"], "Z": ["Z"]} and s["entity"] == "entity"
    assert edge_set(res["edges"]) == {("cause", "Y")}
    assert res["n_entities"] == 3 and res["n"] == 3 * 119
    assert "N = 357 present/future pairs within 3 entities (entity), pooled" in web_graph.caption(record)


def test_controls_of_the_example(store, settings):
    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "logistic_graph", None, settings)
    client = {"groups": out["groups"], "scaling": "none"}
    meta = store.get_meta(sid)
    filled = fields.form_values(web_graph.ANALYSIS, meta, client, {}, restore=True, data_changed=False)
    v = filled["values"]
    assert v["variables"] == [] and v["time"] == "t" and v["entity"] == "none" and v["taus"] == "1"
    assert (v["n_surrogates"], v["n_alpha"], v["alpha"], v["k"]) == (199, 21, 0.05, 5)
    values = [o["value"] for o in filled["options"]["variables"]]
    assert "full" not in values and "group:A" in values and "col:E" in values
    assert filled["hint"] == web_graph.hint(meta)
    assert "each of the 5 numeric columns is one" in web_graph.hint(meta)
    ctx = JobContext(sid=sid, meta=meta, groups=client["groups"], settings=settings)
    s = web_graph.prepare({"time": "t"}, ctx)
    assert s["variables"] == {c: [c] for c in "ABCDE"}
    assert (s["n_surrogates"], s["n_alpha"], s["alpha"], s["taus"]) == (199, 21, 0.05, [1])


@pytest.fixture(scope="module")
def wide(store, settings):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 60)), columns=[f"v{j:02d}" for j in range(60)])
    sid = upload(store, settings, df, "wide.csv")
    return JobContext(sid=sid, meta=store.get_meta(sid), groups=[{"name": "g", "columns": ["v00", "v01"]},
                                                                 {"name": "empty", "columns": []}],
                      settings=settings)


@pytest.mark.parametrize("inputs, message", [
    ({}, r"variables: 60 variables is more than the limit of 50 \(2450 ordered pairs\)"),
    ({"variables": ["col:v00"]}, "a causal graph needs at least 2 variables, got 1"),
    ({"variables": ["full", "col:v00"]}, "the full space is not one variable"),
    ({"variables": ["group:g", "col:v01"]}, "the variables 'g' and 'v01' share the column 'v01'"),
    ({"variables": ["group:empty", "col:v01"]}, "group 'empty' is empty"),
    ({"variables": ["col:v00", "col:v00"]}, "the variable 'v00' is chosen twice"),
    ({"variables": ["col:v00", "col:v01"], "taus": "40"}, "the longest lag .* 40 is longer than the series"),
    ({"variables": ["col:v00", "col:v01"], "taus": "3-1"}, "the range '3-1' runs backwards"),
    ({"variables": ["col:v00", "col:v01"], "taus": "1,x"}, "the lags"),
    ({"variables": ["col:v00", "col:v01"], "taus": "0"}, "the lags must be at least 1"),
    ({"variables": ["col:v00", "col:v01"], "taus": "1-30"}, "30 lags are too many"),
    ({"variables": ["col:v00", "col:v01"], "n_surrogates": 9}, "9 surrogates are too few for α = 0.05"),
    ({"variables": ["col:v00", "col:v01"], "alpha": 0.9}, "the level α of the edges"),
    ({"variables": ["col:v00", "col:v01"], "k": 0}, "the number of neighbours k"),
    ({"variables": ["col:v00", "col:v01"], "embed_dim": 3, "embed_delay": 20}, "longer than the series"),
    ({"variables": ["col:v00", "col:v01"], "time": "v02", "entity": "v02"}, "must be different"),
])
def test_bad_inputs_are_refused_with_a_message(wide, inputs, message):
    with pytest.raises(AnalysisInputError, match=message):
        web_graph.prepare(inputs, wide)


def test_parse_taus():
    assert web_graph.parse_taus(None) == [1]
    assert web_graph.parse_taus(" 3, 1 2") == [1, 2, 3]
    assert web_graph.parse_taus("1-3") == [1, 2, 3]
    assert web_graph.parse_taus(2) == [2]


def test_the_page_fields():
    variables = web_graph.ANALYSIS.field("variables")
    assert variables.check(None) == [] and variables.check("col:A") == ["col:A"]
    with pytest.raises(AnalysisInputError, match="the variables must be a list of groups or features"):
        variables.check(3)
    taus = web_graph.ANALYSIS.field("taus")
    assert taus.check("") == "1" and taus.check(" 1-3 ") == "1-3" and taus.check(2) == "2"
    with pytest.raises(AnalysisInputError, match="the level α of the edges \\(q-value\\) must be at most 0.5"):
        web_graph.ANALYSIS.check({"alpha": 0.9}, "alpha")
    control = variables.control()
    assert control.children[1].multi is True and control.children[1].value == []
