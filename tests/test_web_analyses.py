"""The four analyses of the dashboard without a browser: prepare / run / to_csv through the
job machinery (``run_job``) on the built-in examples, their known answers, the records'
figures and tables, the pages' default controls, and every bad input with its message."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest

from infoimb.datasets import EFFECTIVE_POLICIES
from infoimb.web.analyses import causality
from infoimb.web import data_logic
from infoimb.web.analyses import lags
from infoimb.web.analyses import weights
from infoimb.web.analyses import selection
from infoimb.web.config import Settings
from infoimb.web.context import AnalysisInputError
from infoimb.web.inputs import NONE, panel_frame, one_series, resolve_controls, whole
from infoimb.web.jobs import JobContext, lookup, run_job
from infoimb.web.store import SessionStore
from tests import webkit


# --------------------------------------------------------------------------------------
# sessions (module scope: each example is loaded once)
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return webkit.make_settings(tmp_path_factory, "web-analyses")


@pytest.fixture(scope="module")
def store(settings) -> SessionStore:
    return webkit.make_store(settings)


example_session = webkit.example_session
run_ok, run_error = webkit.run_ok, webkit.run_error


@pytest.fixture(scope="module")
def panel(store, settings):
    return example_session(store, settings, "policy_panel")


@pytest.fixture(scope="module")
def rossler(store, settings):
    return example_session(store, settings, "rossler", 1500)


@pytest.fixture(scope="module")
def gauss(store, settings):
    return example_session(store, settings, "gauss3d", 400)


def defaults(module, store, sid, client) -> dict:
    """The page's default control values for this session's table."""
    from infoimb.web.fields import form_values

    return form_values(module.ANALYSIS, store.get_meta(sid), client, {}, restore=True, data_changed=False)["values"]


def csv_table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), comment="#")


# --------------------------------------------------------------------------------------
# Select
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def panel_selection(store, settings, panel):
    sid, client = panel
    inputs = defaults(selection, store, sid, client) | {"max_features": 5, "n_random": 2}
    reports = []
    status = run_job(store, "select", sid, inputs, client, settings, report=reports.append)
    assert status["status"] == "ok", status.get("message")
    return inputs, reports, store.get_result(sid, status["content_hash"], "select", status["key"])


def test_select_defaults_follow_the_example_roles(store, panel, gauss):
    v = defaults(selection, store, *panel)
    assert (v["candidates"], v["target"], v["lag"]) == ("group:policies", "group:epidemic_state", 2)
    assert v["method"] == "greedy" and v["dummy"] == ["dummy"]
    g = defaults(selection, store, *gauss)  # no target role: compression of the full space
    assert (g["candidates"], g["target"], g["lag"]) == ("full", NONE, 0)


def test_select_with_the_target_two_weeks_later_picks_the_effective_policies(panel_selection):
    inputs, reports, record = panel_selection
    res, s = record["result"], record["settings"]
    assert s["lag"] == 2 and (s["time"], s["entity"]) == ("date", "id") and s["dummy"] is True
    assert res["n"] == 3120 and res["step"] == "7 days"  # pairs formed within the 40 nations
    assert res["suggested_size"] == 4
    assert sorted(res["selected"]) == sorted(EFFECTIVE_POLICIES)
    four = res["steps"][3]
    assert sorted(four["features"]) == sorted(EFFECTIVE_POLICIES)
    assert four["a_to_b"] == pytest.approx(0.274, abs=0.002)  # datasets.policy_panel's ground truth
    assert res["dummy"] == "dummy_noise" and res["dummy_chosen"] == []
    assert all(np.isfinite(st["random_mean"]) and st["random_mean"] > st["a_to_b"] for st in res["steps"][1:])
    # progress: a fraction with a message per batch of subsets
    assert any("subsets evaluated" in r["label"] for r in reports)
    values = [r["value"] for r in reports]
    assert values == sorted(values) and 0 < values[len(values) // 2] < 100


def test_select_csv_table_and_figures(panel_selection):
    _, _, record = panel_selection
    text = selection.to_csv(record)
    assert text.startswith("# infoimb") and "# lag: 2" in text and "# method: greedy" in text
    table = csv_table(text)
    assert list(table["size"]) == [1, 2, 3, 4, 5]
    assert table.loc[table["suggested"], "size"].tolist() == [4]
    assert sorted(table.loc[3, "features"].split(";")) == sorted(EFFECTIVE_POLICIES)
    np.testing.assert_allclose(table["delta_s_to_target"], [s["a_to_b"] for s in record["result"]["steps"]],
                               rtol=1e-5)
    rows = selection.table_rows(record)
    assert [r["d"] for r in rows] == [1, 2, 3, 4, 5] and "random subsets" in rows[0]
    figs = selection.build_figures(record)
    curve = next(t for t in figs["curve"].data if t.name == "best subset of each size")
    assert list(curve.x) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(curve.y, [s["criterion"] for s in record["result"]["steps"]])
    caption = next(a.text for a in figs["curve"].layout.annotations if a.yshift and a.yshift <= -62)
    assert "N = 3120 pairs" in caption and "target at t+2 (1 step = 7 days)" in caption
    assert selection.summary(record)["target"] == "epidemic_state at t+2"


def test_select_compression_without_target(store, settings, gauss):
    sid, client = gauss
    inputs = defaults(selection, store, sid, client) | {"method": "exhaustive", "max_features": 2, "dummy": []}
    record = run_ok(store, settings, "select", sid, client, inputs)
    res = record["result"]
    assert record["settings"]["target"] is None and res["target_columns"] is None
    assert res["steps"][1]["features"] == ["x", "y"]  # z carries almost nothing
    assert res["steps"][1]["n_evaluated"] == 3  # every pair of 3 features
    assert selection.target_name(record["settings"]) == "all candidates"


def test_select_memo_and_beam(store, settings, gauss):
    sid, client = gauss
    inputs = defaults(selection, store, sid, client) | {"method": "beam", "n_best": 2, "max_features": 2}
    record = run_ok(store, settings, "select", sid, client, inputs)
    assert record["settings"]["n_best"] == 2
    again, key, why = lookup(store, "select", sid, inputs, client, settings)
    assert again is not None and key == record["key"] and why is None


def select_inputs(**kw):
    base = {"candidates": "group:policies", "target": "group:epidemic_state", "lag": 2, "method": "greedy",
            "max_features": 4, "k": 1, "estimator": "exact", "criterion": "a_to_b", "n_random": 0, "dummy": []}
    return base | kw


@pytest.mark.parametrize("inputs, message", [
    (select_inputs(candidates=None), "Choose the candidate group (a group, a feature or the full space)."),
    (select_inputs(candidates="group:empty"), "Candidate group: group 'empty' is empty: add columns to it on the "
                                              "Data page."),
    (select_inputs(target="group:policies_and_state"),
     "The target (policies_and_state) overlaps the candidates (policies): both contain 'testing_policy', "
     "'stay_home_restrictions', 'international_movement_restrictions' and 7 more; remove the target's columns from "
     "the candidate group, or choose no target (compression)."),
    (select_inputs(lag=90), "The target lag δ = 90 is longer than the series (80 time points of 'date'): at most 77 "
                            "leaves at least 3 pairs."),
    (select_inputs(target=NONE), "A target lag needs a target group: choose one, or set the lag to 0 for "
                                 "compression."),
    (select_inputs(method="exhaustive", max_features=6),
     "An exhaustive search over 10 features up to 6 features needs 847 subsets, more than the limit of 500 "
     "(INFOIMB_MAX_SUBSETS); use beam or greedy, or lower max features."),
    (select_inputs(method="backward", n_random=50),
     "This backward search over 10 features needs 555 subset evaluations (random baseline included), more than the "
     "limit of 500 (INFOIMB_MAX_SUBSETS); lower max features or the random subsets, or use fewer candidates."),
    (select_inputs(k=0), "The number of neighbours k must be between 1 and 3199, got 0."),
    (select_inputs(method="random"), "Method must be one of greedy, beam, exhaustive, backward; got 'random'."),
    (select_inputs(max_features="many"), "Max features must be a whole number, got 'many'."),
])
def test_select_bad_inputs_give_messages(store, settings, panel, inputs, message):
    sid, client = panel
    client = client | {"groups": client["groups"] + [
        {"name": "empty", "columns": []},
        {"name": "policies_and_state", "columns": [*client["groups"][0]["columns"], "cases_growth"]}]}
    assert run_error(store, settings.replace(max_subsets=500), "select", sid, client, inputs) == message


def test_select_lag_needs_a_time_column(store, settings, gauss):
    sid, client = gauss
    msg = run_error(store, settings, "select", sid, client,
                    select_inputs(candidates="group:xy", target="group:z", lag=1))
    assert msg == "A lagged target needs a time column: set it on the Data page (Roles)."


def test_select_library_refuses_a_too_large_exhaustive_search_too(store, settings, panel):
    """Without the web limit, the library's own message reaches the user."""
    sid, client = panel
    ctx = JobContext(sid=sid, meta=store.get_meta(sid), groups=client["groups"], settings=settings)
    prepared = selection.prepare(select_inputs(method="exhaustive", max_features=5, lag=0), ctx)
    prepared["max_subsets"] = 100
    df = store.get_dataset(sid)
    with pytest.raises(ValueError, match="an exhaustive search over 10 features up to 5 features needs 637 subsets, "
                                         "more than max_subsets=100"):
        selection.run(df, prepared, lambda f, m="": None)


# --------------------------------------------------------------------------------------
# Time lags
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def panel_lags(store, settings, panel):
    sid, client = panel
    inputs = defaults(lags, store, sid, client) | {"sel_max": 4}
    return run_ok(store, settings, "lags", sid, client, inputs)


def test_lags_defaults(store, panel, rossler):
    v = defaults(lags, store, *panel)
    assert (v["source"], v["target"], v["time"], v["entity"]) == ("group:policies", "group:epidemic_state", "date",
                                                                  "id")
    assert (v["lag_min"], v["lag_max"], v["select"], v["candidates"]) == (-5, 5, ["on"], "group:policies")
    r = defaults(lags, store, *rossler)
    assert (r["source"], r["target"], r["time"], r["entity"]) == ("group:X", "group:Y", "t", NONE)
    assert (r["lag_min"], r["lag_max"]) == (-8, 8)  # around the example's lag of 5 rows


def test_lag_scan_best_lag_two_and_the_arrow_of_time(panel_lags):
    res = panel_lags["result"]
    scan = res["scan"]
    assert scan["best_lag"] == 2 and scan["arrow"] == "future"
    assert [r["lag"] for r in scan["rows"]] == list(range(-5, 6))
    # pairs within nations only: 80 weeks, the first two without a growth rate
    assert [r["n_pairs"] for r in scan["rows"]] == [40 * (80 - abs(d) - (2 if d <= 0 else max(0, 2 - d)))
                                                    for d in range(-5, 6)]
    assert res["step"] == "7 days"
    assert res["verdict"].startswith("The source (policies) predicts the future of the target (epidemic_state) "
                                     "better than its past")
    assert res["verdict"].endswith("Δ is smallest at δ = 2 (1 step = 7 days).")
    sel = res["selection"]
    assert sel["lag"] == 2 and sorted(sel["selected"]) == sorted(EFFECTIVE_POLICIES)
    assert sel["dummy"] == "dummy_noise"


def test_lags_csv_and_figures(panel_lags):
    text = lags.to_csv(panel_lags)
    assert "# best lag: 2" in text and "# arrow of time: future" in text
    scan_part = text.split("\n# selection with the target")[0]
    table = csv_table(scan_part)
    assert list(table["lag"]) == list(range(-5, 6))
    np.testing.assert_allclose(table["forward"], [r["forward"] for r in panel_lags["result"]["scan"]["rows"]],
                               rtol=1e-5)
    sel = csv_table(text.split("(greedy)\n")[1])
    assert sorted(sel.loc[sel["suggested"], "features"].item().split(";")) == sorted(EFFECTIVE_POLICIES)
    figs = lags.build_figures(panel_lags)
    assert set(figs) == {"scan", "selection"}
    fwd = figs["scan"].data[0]
    assert list(fwd.x) == list(range(-5, 6)) and fwd.name == "Δ(policies<sub>t</sub> → epidemic_state<sub>t+δ</sub>)"
    assert figs["scan"].layout.xaxis.title.text == "lag δ (steps of 7 days)"
    assert [r["d"] for r in lags.selection_rows(panel_lags)] == [1, 2, 3, 4]


def test_lags_numeric_time_counts_steps(store, settings, rossler):
    """Rössler's time column advances by 1.57 per row: a lag of 1 is one row."""
    sid, client = rossler
    inputs = defaults(lags, store, sid, client) | {"lag_min": -2, "lag_max": 2, "select": [],
                                                 "estimator": "subsampled", "n_queries": 300}
    record = run_ok(store, settings, "lags", sid, client, inputs)
    res = record["result"]
    assert res["step"] == "1.57 in t" and res["selection"] is None
    assert [r["n_pairs"] for r in res["scan"]["rows"]] == [1498, 1499, 1500, 1499, 1498]
    assert record["settings"]["n_queries"] == 300


def lag_inputs(**kw):
    base = {"source": "group:policies", "target": "group:epidemic_state", "lag_min": -3, "lag_max": 3,
            "time": "date", "entity": "id", "k": 1, "estimator": "exact", "select": [], "candidates": "group:policies",
            "sel_lag": None, "sel_max": 4}
    return base | kw


@pytest.mark.parametrize("inputs, message", [
    (lag_inputs(lag_max=100), "The lag 100 is longer than the series (80 time points of 'date'): at most 77 leaves "
                              "at least 3 pairs."),
    (lag_inputs(lag_min=3, lag_max=-3), "The smallest lag (3) is larger than the largest (-3)."),
    (lag_inputs(time=None), "A lag scan needs a time column: choose one here or set it on the Data page (Roles)."),
    (lag_inputs(time="week"), "The time column 'week' is not in the current table."),
    (lag_inputs(entity="date"), "The time and entity columns must be different."),
    (lag_inputs(source=None), "Choose the source group (a group, a feature or the full space)."),
    (lag_inputs(target="group:policies"), "The source and target are the same columns (policies): choose two "
                                          "different groups."),
    (lag_inputs(select=["on"], candidates="group:epidemic_state"),
     "The target (epidemic_state) overlaps the candidates (epidemic_state): both contain 'cases_growth'; remove the "
     "target's columns from the candidate group."),
    (lag_inputs(select=["on"], sel_lag=85), "The lag δ of the selection: 85 is longer than the series (80 time "
                                            "points of 'date'): at most 77 leaves at least 3 pairs."),
    (lag_inputs(source="col:dummy_policy", time="dummy_policy"),
     "Column 'dummy_policy' is the time or entity column; it cannot also be a feature of the spaces."),
])
def test_lags_bad_inputs_give_messages(store, settings, panel, inputs, message):
    sid, client = panel
    assert run_error(store, settings, "lags", sid, client, inputs) == message


def test_lags_without_a_time_column(store, settings, gauss):
    sid, client = gauss
    v = defaults(lags, store, sid, client)
    assert v["time"] is None
    msg = run_error(store, settings, "lags", sid, client, v)
    assert msg == "A lag scan needs a time column: choose one here or set it on the Data page (Roles)."


# --------------------------------------------------------------------------------------
# Causality
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rossler_causality(store, settings, rossler):
    sid, client = rossler
    return run_ok(store, settings, "causality", sid, client, defaults(causality, store, sid, client) | {"n_alpha": 11})


def test_causality_defaults(store, rossler, panel):
    v = defaults(causality, store, *rossler)
    assert (v["cause"], v["effect"], v["tau"], v["k"], v["n_alpha"]) == ("group:X", "group:Y", 5, 5, 50)
    assert (v["time"], v["entity"], v["conditioning"]) == ("t", NONE, NONE)
    p = defaults(causality, store, *panel)
    assert (p["time"], p["entity"], p["tau"]) == ("date", "id", 2)
    assert causality.entity_choice(["N01", "N02"], None, "N02") == "N02"
    assert causality.entity_choice(["N01", "N02"], "N07", None) == "N01"


def test_causality_rossler_x_drives_y(rossler_causality):
    res = rossler_causality["result"]
    xy, yx = res["x_to_y"], res["y_to_x"]
    assert xy["gain"] > 0.4 > 0.05 > yx["gain"]
    assert xy["gain"] > yx["gain"]
    assert res["verdict"] == "x drives y"
    assert xy["tau"] == 5 and xy["k"] == 5 and xy["n"] == 1495 and len(xy["alphas"]) == 11
    assert res["verdict_text"].startswith("X drives Y: adding X's present to Y's own present improves the "
                                          "prediction of Y τ = 5 rows later")
    assert causality.verdict_label(rossler_causality) == "X drives Y"


def test_causality_csv_and_figure(rossler_causality):
    text = causality.to_csv(rossler_causality)
    assert "# verdict: x drives y" in text and "# IG(X->Y): " in text
    table = csv_table(text)
    np.testing.assert_allclose(table["alpha"], np.linspace(0, 1, 11), atol=1e-6)
    np.testing.assert_allclose(table["delta_x_to_y"], rossler_causality["result"]["x_to_y"]["delta"], rtol=1e-5)
    fig = causality.build_figures(rossler_causality)["curves"]
    caption = next(a.text for a in fig.layout.annotations if a.yshift and a.yshift <= -62)
    assert "τ = 5 rows" in caption and "sorted by t" in caption and "11 α values" in caption


def test_causality_on_one_entity_of_a_panel(store, settings, panel):
    sid, client = panel
    inputs = defaults(causality, store, sid, client) | {"cause": "group:effective_policies", "n_alpha": 6}
    assert run_error(store, settings, "causality", sid, client, inputs) == (
        "The table has an entity column ('id'); causality works on one series: choose one entity.")
    msg = run_error(store, settings, "causality", sid, client, inputs | {"entity_value": "XX"})
    assert msg == "No rows for entity 'XX' in column 'id'."
    record = run_ok(store, settings, "causality", sid, client, inputs | {"entity_value": "N03"})
    res = record["result"]
    # 80 weeks; the first two have no growth rate (trimmed); tau = 2: 76 present/future pairs
    assert res["n_rows"] == 78 and res["trimmed_rows"] == 2 and res["x_to_y"]["n"] == 76
    assert "id = N03" in causality.caption(record)


def cau_inputs(**kw):
    base = {"cause": "group:X", "effect": "group:Y", "conditioning": NONE, "tau": 5, "k": 5, "n_alpha": 5,
            "embed_dim": 1, "embed_delay": 1, "time": "t", "entity": NONE, "estimator": "exact"}
    return base | kw


@pytest.mark.parametrize("inputs, message", [
    (cau_inputs(tau=5000), "The lag τ = 5000 is too large for the series: 1500 rows; τ must be at most 1497."),
    (cau_inputs(tau=1497, embed_dim=3, embed_delay=10),
     "The lag τ = 1497 is too large for the series: 1500 rows (1480 after the embedding); τ must be at most 1477."),
    (cau_inputs(tau=0), "The lag τ must be at least 1, got 0."),
    (cau_inputs(effect="group:X"), "The effect (X) overlaps the cause (X): both contain 'x1', 'y1', 'z1'; choose "
                                   "groups without shared columns."),
    (cau_inputs(conditioning="col:x2"), "The conditioning group (x2) overlaps the effect (Y): both contain 'x2'."),
    (cau_inputs(cause="group:nothing"), "Cause group: there is no group named 'nothing' (any more)."),
    (cau_inputs(n_alpha=1), "The number of α values must be between 2 and 500, got 1."),
    (cau_inputs(embed_dim=800, embed_delay=2), "The embedding dimension must be between 1 and 50, got 800."),
    (cau_inputs(time="x1"), "Column 'x1' is the time or entity column; it cannot also be a feature of the spaces."),
])
def test_causality_bad_inputs_give_messages(store, settings, rossler, inputs, message):
    sid, client = rossler
    assert run_error(store, settings, "causality", sid, client, inputs) == message


def test_one_series_refuses_gaps_and_repeated_times():
    df = pd.DataFrame({"t": [3, 1, 2, 4, 5], "x": [3.0, 1.0, 2.0, np.nan, 5.0], "y": [1.0] * 5})
    with pytest.raises(AnalysisInputError, match="1 row.s. inside the series have missing values"):
        one_series(df, ["x", "y"], time="t", entity=None, entity_value=None, scaling="none")
    frame, info = one_series(df.iloc[:4], ["x", "y"], time="t", entity=None, entity_value=None, scaling="none")
    assert frame["x"].tolist() == [1.0, 2.0, 3.0] and info["trimmed"] == 1  # sorted by t, NaN at the end cut
    dup = pd.DataFrame({"t": [1, 1, 2], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(AnalysisInputError, match="the time column 't' repeats values .1 repeated.: the rows are not "
                                                 "one series; set the entity column on the Data page"):
        one_series(dup, ["x"], time="t", entity=None, entity_value=None, scaling="none")


# --------------------------------------------------------------------------------------
# Scales
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scaled(store, settings):
    """Uploaded a0..a2 and b = a · [1, 5, 0.5]: the best weights of A are in the ratio 1 : 5 : 0.5."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 3))
    df = pd.DataFrame(np.hstack([a, a * [1.0, 5.0, 0.5]]), columns=["a0", "a1", "a2", "b0", "b1", "b2"])
    url = "data:text/csv;base64," + base64.b64encode(df.to_csv(index=False).encode()).decode()
    sid = store.new_session()
    out = data_logic.ingest_upload(store, sid, url, "scaled.csv", settings)
    assert out["dataset"]["n_rows"] == 400
    groups = [{"name": "A", "columns": ["a0", "a1", "a2"]}, {"name": "B", "columns": ["b0", "b1", "b2"]}]
    return sid, {"groups": groups, "scaling": "none"}


def scl_inputs(**kw):
    return {"a": "group:A", "b": "group:B", "method": "dii", "k": 1, "n_iter": 100, "l1": 0,
            "estimator": "exact"} | kw


def test_scales_dii_recovers_the_scale_ratio(store, settings, scaled):
    sid, client = scaled
    record = run_ok(store, settings, "scales", sid, client, scl_inputs())
    res = record["result"]
    w = np.asarray(res["weights"])
    np.testing.assert_allclose(w / w[1] * 5, [1.0, 5.0, 0.5], rtol=0.05)
    assert res["columns"] == ["a0", "a1", "a2"] and res["delta_after"] < res["delta_before"]
    assert len(res["history"]) == 100 and res["improvement"] > 0.5
    table = csv_table(weights.to_csv(record))
    assert table["feature"].tolist() == ["a0", "a1", "a2"]
    np.testing.assert_allclose(table["weight"], w, rtol=1e-5)
    figs = weights.build_figures(record)
    np.testing.assert_allclose(figs["bars"].data[0].x, w / w.max())
    assert list(figs["history"].data[0].y) == pytest.approx([h["objective"] for h in res["history"]])


def test_scales_defaults(store, gauss):
    v = defaults(weights, store, *gauss)  # B: the first group; A: the full space (no other group of 2+ columns)
    assert (v["a"], v["b"], v["method"], v["n_iter"]) == ("full", "group:xy", "dii", 200)


def test_scales_coordinate_search_finds_the_ratio_too(store, settings, scaled):
    sid, client = scaled
    record = run_ok(store, settings, "scales", sid, client, scl_inputs(method="coordinate"))
    w = np.asarray(record["result"]["weights"])
    np.testing.assert_allclose(w / w[1] * 5, [1.0, 5.0, 0.5], rtol=0.25)  # on its log grid of scales
    assert record["settings"]["n_iter"] is None and record["result"]["method"] == "coordinate"


@pytest.mark.parametrize("inputs, message", [
    (scl_inputs(a="col:a0"), "A (a0) has a single feature: only ratios of weights matter, so A needs at least two."),
    (scl_inputs(b="group:A"), "A (A) and B (A) are the same columns: the weights are then trivially equal. Choose "
                              "two different spaces."),
    (scl_inputs(a="group:wide", method="grid"), "A grid over 5 features with 9 scales needs 9^4 = 6,561 "
                                                "evaluations, more than the limit of 2,000: use the coordinate "
                                                "search or the DII."),
    (scl_inputs(l1=-1), "L1 must be at least 0, got -1."),
    (scl_inputs(n_iter=0), "Iterations must be between 1 and 5000, got 0."),
    (scl_inputs(a=None), "Choose the space A (a group, a feature or the full space)."),
    (scl_inputs(estimator="subsampled", n_queries=5), "The number of query points must be at least 10, got 5."),
])
def test_scales_bad_inputs_give_messages(store, settings, scaled, inputs, message):
    sid, client = scaled
    client = client | {"groups": client["groups"] + [{"name": "wide", "columns": ["a0", "a1", "a2", "b0", "b1"]}]}
    assert run_error(store, settings, "scales", sid, client, inputs) == message


# --------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------
def test_resolve_controls_restore_data_change_and_keep():
    spec = {"space": ("group:a", {"group:a", "group:b"}, True), "k": (1, None, False)}
    last = {"space": "group:b", "k": 3}
    # mount: the last run's inputs when its spaces are valid for this table
    assert resolve_controls(spec, {"space": None, "k": 1}, last, restore=True, data_changed=False) == \
        {"space": "group:b", "k": 3}
    # ... else the defaults of this table (the example's roles)
    assert resolve_controls(spec, {}, {"space": "group:gone", "k": 3}, restore=True, data_changed=False) == \
        {"space": "group:a", "k": 1}
    # a new table: data-dependent controls go back to their defaults, the others stay
    assert resolve_controls(spec, {"space": "group:b", "k": 7}, last, restore=False, data_changed=True) == \
        {"space": "group:a", "k": 7}
    # anything else (a run, edited groups): every valid value stays
    assert resolve_controls(spec, {"space": "group:b", "k": 7}, last, restore=False, data_changed=False) == \
        {"space": "group:b", "k": 7}


def test_whole_numbers_and_panel_frames():
    assert whole("", "k", 1, default=5) == 5 and whole(3.0, "k", 1) == 3
    with pytest.raises(AnalysisInputError, match="k must be a whole number, got 2.5"):
        whole(2.5, "k", 1)
    df = pd.DataFrame({"t": [0.0, 0.5, 1.0, 2.0], "x": [1.0, 2.0, 3.0, 4.0]})
    frame, step = panel_frame(df, ["x"], time="t", entity=None, scaling="none")
    assert frame["t"].tolist() == [0, 1, 2, 4] and step == "0.5 in t"  # a gap stays a gap
    bad = pd.DataFrame({"t": [0.0, 0.5, 0.8, 1.3], "x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(AnalysisInputError, match="the time column 't' is not evenly spaced"):
        panel_frame(bad, ["x"], time="t", entity=None, scaling="none")


def test_records_render_on_the_pages(panel_selection, panel_lags, rossler_causality):
    """Each page draws its record (Dash components, no browser)."""
    for module, record in ((selection, panel_selection[2]), (lags, panel_lags), (causality, rossler_causality)):
        children = module.render(record)
        assert isinstance(children, list) and len(children) >= 2


def test_cards_display_and_download_each_analysis(dash_app):
    """Through the pages' AnalysisCards (the app's own store): the result drawn, the settings
    shown with it, CSV and JSON downloads."""
    import json
    import sys

    from infoimb.web import runtime

    store, settings = runtime.get_store(), runtime.get_settings()
    sid, client = example_session(store, settings, "rossler", 400)
    session = {"sid": sid}
    cases = {
        "select": {"candidates": "full", "target": NONE, "lag": 0, "method": "greedy", "max_features": 3,
                   "dummy": ["dummy"]},
        "lags": {"source": "group:X", "target": "group:Y", "lag_min": -2, "lag_max": 2, "time": "t",
                 "entity": NONE, "select": []},
        "causality": {"cause": "group:X", "effect": "group:Y", "tau": 5, "n_alpha": 5, "time": "t",
                      "entity": NONE},
        "scales": {"a": "full", "b": "group:Y", "method": "coordinate"},
    }
    for page, inputs in cases.items():
        card = sys.modules[f"pages.{page}"].CARD
        empty = card.display(None, client, inputs, session)
        assert empty["csv"] is True and empty["shown"] is None
        status = run_job(store, page, sid, inputs, client, settings)
        assert status["status"] == "ok", (page, status)
        out = card.display(status, client, inputs, session, triggered=(f"job-result-{page}.data",))
        assert out["status"].children.startswith("Done in") and out["csv"] is False
        assert out["shown"] == {"key": status["key"], "content_hash": status["content_hash"]}
        assert isinstance(out["results"], list) and len(out["results"]) >= 2
        record = json.loads(card.download("json", out["shown"], sid)["content"])
        assert record["analysis"] == page and record["settings"]["scaling"] == "none"
        csv = card.download("csv", out["shown"], sid)
        assert csv["filename"] == f"infoimb_{page}_{status['key'][:8]}.csv"
        assert csv["content"].startswith("# infoimb") and "# dataset: example: rossler (400 rows" in csv["content"]
        # a bad input later: the message, not a crash; the previous results stay
        err = card.display({"status": "error", "message": "Bad."}, client, inputs, session,
                           triggered=(f"job-result-{page}.data",))
        assert err["status"].children == "Bad." and err["status"].color == "danger"


def test_the_cards_settings_sync(dash_app):
    """The generic settings sync of the cards: nothing loaded -> empty options and a hint; the
    session's table (read from the request's cookie) -> its options, defaults and hint; on
    mount, the inputs of the last run come back."""
    import sys

    import flask
    from dash import no_update

    from infoimb.web import runtime

    store, settings = runtime.get_store(), runtime.get_settings()
    card = sys.modules["pages.compare"].CARD
    empty = card.sync_controls({}, {}, {}, None)
    assert empty["options"] == {"a": [], "b": []} and empty["values"]["a"] is None
    assert empty["values"]["k"] is no_update and empty["hint"] == "Load a table on the Data page first."
    sid, client = example_session(store, settings, "gauss3d", 300)
    current = {"a": None, "b": None, "k": 1, "metric": "euclidean", "estimator": "exact", "n_queries": 1000,
               "extras": []}
    with dash_app.server.test_request_context("/_dash-update-component", method="POST"):
        flask.session["sid"] = sid
        out = card.sync_controls({"content_hash": "x"}, client, current, None)
        assert out["values"]["a"] == "group:xy" and out["values"]["b"] == "full"
        assert [o["value"] for o in out["options"]["a"]][:3] == ["full", "group:full", "group:xy"]
        assert out["hint"] == "example: gauss3d: 300 points"
        # on mount, the last run's inputs (kept in the browser's settings store) come back
        last = dict(client, last={"compare": dict(current, a="col:x", k=3)})
        out = card.sync_controls({"content_hash": "x"}, last, current, None)
        assert out["values"]["a"] == "col:x" and out["values"]["k"] == 3
        # a later change of the settings store keeps what the user has set
        out = card.sync_controls({"content_hash": "x"}, last, dict(current, a="col:y", b="full"),
                                 "settings-store")
        assert out["values"]["a"] is no_update and out["values"]["k"] is no_update
    # another request without that cookie sees no table
    assert card.sync_controls({"content_hash": "x"}, client, current, None)["values"]["a"] is None
    store.delete_session(sid)
