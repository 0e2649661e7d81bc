"""Issue 10 in the dashboard, without a browser: the p-values, q-values, intervals, verdict
words and stability views that the Compare, Time lags, Select and Causality pages show and
download are the API's own numbers (each page's run is repeated with the public API here)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import figures
from infoimb._stats import bh_qvalues
from infoimb.web.analyses import causality as cau
from infoimb.web.analyses import imbalance as cmp
from infoimb.web.analyses import lags as lag
from infoimb.web.analyses import selection as sel
from infoimb.web.config import Settings
from infoimb.web.context import AnalysisInputError, prepare_frame
from infoimb.web.inputs import panel_frame, one_series
from infoimb.web.jobs import JobContext, run_job
from infoimb.web.store import SessionStore
from tests import webkit


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return webkit.make_settings(tmp_path_factory, "web-significance")


@pytest.fixture(scope="module")
def store(settings) -> SessionStore:
    return webkit.make_store(settings)


session = webkit.example_session
run_ok, run_error = webkit.run_ok, webkit.run_error


def csv_table(text: str) -> pd.DataFrame:
    """The first table of a page's CSV download (after its ``#`` lines)."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return pd.read_csv(io.StringIO(body.split("\n\n")[0]))


# --------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gauss(store, settings):
    return session(store, settings, "gauss3d", 200)


@pytest.fixture(scope="module")
def compare_record(store, settings, gauss):
    sid, client = gauss
    inputs = {"a": "group:xy", "b": "full", "k": 1, "metric": "euclidean", "estimator": "exact",
              "extras": ["features"], "n_permutations": 49}
    return run_ok(store, settings, "compare", sid, client, inputs)


def test_compare_shows_the_apis_p_values_intervals_and_q_values(store, gauss, compare_record):
    sid, _ = gauss
    rec = compare_record
    df = store.get_dataset(sid)
    frame, _ = prepare_frame(df, ["x", "y", "z"], "none")
    api = infoimb.imbalance_pair(frame[["x", "y"]], frame[["x", "y", "z"]], n_permutations=49, random_state=0)
    main = rec["result"]["main"]
    assert main["p_a_to_b"] == api.p_a_to_b == pytest.approx(0.02)  # 1 / 50: nothing as small in the null
    assert tuple(main["a_to_b_ci"]) == pytest.approx(api.a_to_b_ci)
    assert tuple(main["difference_ci"]) == pytest.approx(api.difference_ci)
    sm = cmp.summary(rec)
    assert sm["a_to_b_ci"] == f"95% CI [{api.a_to_b_ci[0]:.4f}, {api.a_to_b_ci[1]:.4f}]"
    # several pairs share the plane: q-values over every p (both directions of every pair)
    pairs = rec["result"]["pairs"]
    assert len(pairs) == 4
    q = bh_qvalues([p[key] for p in pairs for key in ("p_a_to_b", "p_b_to_a")])
    assert [p["q_a_to_b"] for p in pairs] == pytest.approx(q[0::2])
    assert sm["p_a_to_b"] == f"p = {api.p_a_to_b:.3g} · q = {q[0]:.3g}"
    assert sm["significance"] == "significant"
    assert sm["significance_text"].startswith("Significant: p(A→B) = 0.02, p(B→A) = 0.02 (49 permutations")
    rows = cmp.pair_rows(rec)
    assert rows[1]["pair"] == "x" and rows[1]["p (A→B)"] == f"{pairs[1]['p_a_to_b']:.3g}"
    assert rows[1]["q (B→A)"] == f"{pairs[1]['q_b_to_a']:.3g}"
    # the download carries p, q and the intervals of every pair
    table = csv_table(cmp.to_csv(rec))
    assert table["p_a_to_b"].tolist() == pytest.approx([p["p_a_to_b"] for p in pairs])
    assert table["q_b_to_a"].tolist() == pytest.approx([p["q_b_to_a"] for p in pairs], rel=1e-5)
    assert table.loc[0, "ci_high_difference"] == pytest.approx(api.difference_ci[1], rel=1e-5)
    assert set(table["significance"]) == {"significant"}


def test_compare_plane_draws_the_intervals(compare_record):
    fig = cmp.build_figures(compare_record)["plane"]
    main = compare_record["result"]["main"]
    trace = [t for t in fig.data if t.name == "A vs B"][0]
    lo, hi = main["a_to_b_ci"]
    assert trace.error_x.array[0] == pytest.approx(hi - main["a_to_b"])
    assert trace.error_x.arrayminus[0] == pytest.approx(main["a_to_b"] - lo)
    lo, hi = main["b_to_a_ci"]
    assert trace.error_y.arrayminus[0] == pytest.approx(main["b_to_a"] - lo)
    assert trace.meta == {"error_bars": "interval"}
    cmp.render(compare_record)  # the page draws it


def _record(pair: infoimb.imbalance.ImbalancePair, settings: dict | None = None) -> dict:
    p = {"series": "A vs B", "label": "a vs b", "a_columns": ["a"], "b_columns": ["b"], **pair.to_dict()}
    cmp.add_qvalues([p])
    s = {"a": {"label": "a", "columns": ["a"]}, "b": {"label": "b", "columns": ["b"]}, "extras": [],
         "k": 1, "metric": "euclidean", "n_queries": None, "scaling": "none", "alpha": 0.05,
         **(settings or {})}
    return {"settings": s, "result": {"n": pair.n, "dropped_rows": 0, "main": p, "pairs": [p]},
            "dataset": {"filename": "noise.csv"}, "key": "k" * 16, "analysis": "compare"}


def test_compare_words_independent_noise_not_significant():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 2))
    pair = infoimb.imbalance_pair(x, y, n_permutations=99, random_state=0)
    assert pair.relation == "independent" and min(pair.p_a_to_b, pair.p_b_to_a) > 0.025
    rec = _record(pair)
    sm = cmp.summary(rec)
    assert sm["significance"] == "not significant"
    assert sm["significance_text"] == (
        f"Not significant: p(A→B) = {pair.p_a_to_b:.3g}, p(B→A) = {pair.p_b_to_a:.3g} (99 permutations, null: "
        "B's rows permuted relative to A's); neither is at most α/2 = 0.025, so no information shared between "
        "A and B is detected.")
    assert sm["p_a_to_b"] == f"p = {pair.p_a_to_b:.3g}"  # one pair: no q beside p
    # without permutations: the page says that no test was run
    rec = _record(infoimb.imbalance_pair(x, y))
    assert cmp.summary(rec)["significance"] == "not tested"
    assert cmp.summary(rec)["p_a_to_b"] == "p: not tested"


def test_compare_entity_null_note():
    rng = np.random.default_rng(1)
    ents = np.repeat(np.arange(8), 10)
    level = rng.normal(size=8)[ents]  # a per-entity fingerprint: must not come out significant
    a = level + 0.01 * rng.normal(size=80)
    b = rng.normal(size=8)[ents] + 0.01 * rng.normal(size=80)
    pair = infoimb.imbalance_pair(a, b, n_permutations=99, groups=ents, random_state=0)
    rec = _record(pair, {"entity": "nation"})
    sm = cmp.summary(rec)
    assert sm["entity_note"] == ("Entity null in use: whole nation series are reassigned between entities and "
                                 "the intervals resample whole entities (nation), not rows.")
    assert pair.null == "entities" and sm["significance"] == "not significant"


def test_compare_permutation_settings(store, settings, gauss):
    sid, client = gauss
    ctx = JobContext(sid=sid, meta=store.get_meta(sid), groups=client["groups"], settings=settings)
    base = {"a": "group:xy", "b": "full", "k": 1, "metric": "euclidean", "extras": []}
    assert cmp.prepare({**base, "estimator": "exact"}, ctx)["n_permutations"] == 199
    assert cmp.prepare({**base, "estimator": "subsampled", "n_queries": 50}, ctx)["n_permutations"] == 0
    with pytest.raises(AnalysisInputError, match="permutations need the exact estimator"):
        cmp.prepare({**base, "estimator": "subsampled", "n_queries": 50, "n_permutations": 9}, ctx)
    with pytest.raises(AnalysisInputError, match="permutations"):
        cmp.prepare({**base, "estimator": "exact", "n_permutations": -1}, ctx)
    assert "199 with the exact estimator when N ≤ 20,000" in cmp.PERMUTATIONS_HELP


# --------------------------------------------------------------------------------------
# Time lags
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def panel(store, settings):
    return session(store, settings, "policy_panel")


@pytest.fixture(scope="module")
def lag_record(store, settings, panel):
    sid, client = panel
    inputs = {"source": "group:policies", "target": "group:epidemic_state", "lag_min": -2, "lag_max": 3,
              "time": "date", "entity": "id", "k": 1, "estimator": "exact", "select": [],
              "n_permutations": 9, "n_splits": 2}
    return run_ok(store, settings, "lags", sid, client, inputs)


def test_lags_show_the_apis_p_q_interval_and_arrow(store, panel, lag_record):
    sid, _ = panel
    rec = lag_record
    s = rec["settings"]
    frame, _ = panel_frame(store.get_dataset(sid), s["source"]["columns"] + s["target"]["columns"], time="date",
                           entity="id", scaling="none")
    api = infoimb.lag_scan(frame, s["source"]["columns"], s["target"]["columns"], lags=range(-2, 4), time="date",
                           group="id", random_state=0, n_permutations=9, n_splits=2)
    scan = rec["result"]["scan"]
    np.testing.assert_allclose(scan["forward_p"], api.forward_p)
    np.testing.assert_allclose(scan["backward_q"], api.backward_q)
    rows = lag.lag_rows(rec)
    assert [r["δ"] for r in rows] == list(range(-2, 4))
    assert [r["p →"] for r in rows] == [f"{p:.3g}" for p in api.forward_p]
    assert [r["q ←"] for r in rows] == [f"{q:.3g}" for q in api.backward_q]
    assert rows[0]["CI →"] == f"[{api.forward_ci[0, 0]:.3f}, {api.forward_ci[0, 1]:.3f}]"
    sig = lag.significance_summary(rec)
    assert api.best_lag == 2 and api.arrow == "future"
    assert sig["best_lag_interval"] == f"95% interval: [{api.best_lag_interval[0]}, {api.best_lag_interval[1]}]"
    assert sig["arrow_p"] == f"arrow of time: bootstrap p = {api.arrow_p:.3g}"
    assert api.arrow_p < 0.05
    best = api.stability[api.stability["is_best"]].sort_values("split")["lag"].tolist()
    assert sig["splits"] == "best lag in each of the 2 disjoint splits: " + ", ".join(map(str, best))
    # the download
    text = lag.to_csv(rec)
    assert f"# arrow of time bootstrap p: {api.arrow_p:.6g}" in text
    assert f"# best lag 95% interval: [{api.best_lag_interval[0]}, {api.best_lag_interval[1]}]" in text
    table = csv_table(text)
    assert table["forward_q"].tolist() == pytest.approx(list(api.forward_q), rel=1e-5)
    assert table["backward_ci_high"].tolist() == pytest.approx(list(api.backward_ci[:, 1]), rel=1e-5)
    assert "# stability: the scan on 2 disjoint splits" in text


def test_lags_figures_stars_and_stability(lag_record):
    figs = lag.build_figures(lag_record)
    scan = lag_record["result"]["scan"]
    stars = [t for t in figs["scan"].data if t.name and t.name.startswith("forward: significant")][0]
    expect = [lg for lg, q in zip(scan["lags"], scan["forward_q"]) if q <= 0.05]
    assert list(stars.x) == expect
    fwd = figs["scan"].data[0]
    ci = np.asarray(scan["forward_ci"])
    np.testing.assert_allclose(fwd.error_y.array, ci[:, 1] - np.asarray(scan["forward"]))
    bars = [t for t in figs["stability"].data if t.type == "bar"][0]
    st = pd.DataFrame(scan["stability"])
    best = st[st["is_best"]]["lag"].value_counts() / 2
    assert list(bars.y) == pytest.approx([best.get(v, 0.0) for v in bars.x])
    lag.render(lag_record)


def test_lags_settings(store, settings, panel):
    sid, client = panel
    ctx = JobContext(sid=sid, meta=store.get_meta(sid), groups=client["groups"], settings=settings)
    base = {"source": "group:policies", "target": "group:epidemic_state", "lag_min": -1, "lag_max": 1,
            "time": "date", "entity": "id", "select": []}
    out = lag.prepare({**base, "estimator": "exact"}, ctx)
    assert (out["n_permutations"], out["n_splits"]) == (99, 0)
    with pytest.raises(AnalysisInputError, match="stability splits: 0 \\(off\\) or at least 2"):
        lag.prepare({**base, "n_splits": 1}, ctx)
    with pytest.raises(AnalysisInputError, match="permutations need the exact estimator"):
        lag.prepare({**base, "estimator": "subsampled", "n_queries": 100, "n_permutations": 9}, ctx)


# --------------------------------------------------------------------------------------
# Select
# --------------------------------------------------------------------------------------
def test_select_intervals_rule_and_stability(store, settings, gauss):
    sid, client = gauss
    inputs = {"candidates": "full", "target": "none", "lag": 0, "method": "greedy", "max_features": 3,
              "criterion": "a_to_b", "k": 1, "estimator": "exact", "n_random": 0, "dummy": [], "n_splits": 2}
    rec = run_ok(store, settings, "select", sid, client, inputs)
    frame, _ = prepare_frame(store.get_dataset(sid), ["x", "y", "z"], "none")
    api = infoimb.select_features(frame, None, method="greedy", max_features=3, random_state=0, n_splits=2)
    rows = sel.table_rows(rec)
    assert [r["interval (S→target)"] for r in rows] == [
        f"[{st.a_to_b_ci[0]:.4f}, {st.a_to_b_ci[1]:.4f}]" for st in api.steps]
    assert rec["result"]["suggested_size"] == api.suggested_size
    text = sel.rule_text(rec["settings"], rec["result"])
    assert text == ("The suggested size is the smallest d that no larger size improves by more than 0.01 and "
                    "beyond the 95% paired bootstrap interval of the difference (resampling points) of "
                    "Δ(S → all candidates): adding a feature must improve Δ beyond its uncertainty.")
    assert "two standard errors" not in text
    figs = sel.build_figures(rec)
    band = [t for t in figs["curve"].data if t.name == "bootstrap interval of each step"][0]
    assert list(band.y) == pytest.approx([st.criterion_ci[1] for st in api.steps])
    heat = figs["stability"].data[0]
    freq = api.stability.set_index(["feature", "size"])["frequency"]
    for i, f in enumerate(heat.y):
        for j, d in enumerate(heat.x):
            assert heat.z[i][j] == pytest.approx(freq.get((f, d), 0.0))
    csv = sel.to_csv(rec)
    table = csv_table(csv)
    assert table["criterion_ci_low"].tolist() == pytest.approx([st.criterion_ci[0] for st in api.steps], rel=1e-5)
    assert "# stability: how often each feature is chosen at each size" in csv
    sel.render(rec)


# --------------------------------------------------------------------------------------
# Causality
# --------------------------------------------------------------------------------------
def test_causality_p_per_direction(store, settings):
    sid, client = session(store, settings, "rossler", 500)
    inputs = {"cause": "group:X", "effect": "group:Y", "conditioning": "none", "tau": 5, "k": 5, "n_alpha": 6,
              "embed_dim": 1, "time": "t", "entity": "none", "estimator": "exact", "n_surrogates": 19}
    rec = run_ok(store, settings, "causality", sid, client, inputs)
    frame, _ = one_series(store.get_dataset(sid), ["x1", "y1", "z1", "x2", "y2", "z2"], time="t", entity=None,
                          entity_value=None, scaling="none")
    api = infoimb.causality_test(frame[["x1", "y1", "z1"]], frame[["x2", "y2", "z2"]], tau=5, k=5,
                                 alphas=np.linspace(0, 1, 6), random_state=0, n_surrogates=19)
    res = rec["result"]
    assert (res["p_x_to_y"], res["p_y_to_x"]) == (api.p_x_to_y, api.p_y_to_x)
    assert cau.p_text(res["p_x_to_y"]) == f"p = {api.p_x_to_y:.3g}"
    assert f"p = {api.p_x_to_y:.3g}" in res["verdict_text"]
    text = cau.to_csv(rec)
    assert f"# p(X->Y): {api.p_x_to_y:.6g}" in text and f"# p(Y->X): {api.p_y_to_x:.6g}" in text
    assert cau.p_text(None) == "p: not tested (surrogates = 0)"
    cau.render(rec)


# --------------------------------------------------------------------------------------
# figure builders
# --------------------------------------------------------------------------------------
def test_plane_interval_error_bars_and_se_default():
    pts = [{"a_to_b": 0.3, "b_to_a": 0.6, "a_to_b_se": 0.01, "b_to_a_se": 0.02,
            "a_to_b_ci": (0.25, 0.32), "b_to_a_ci": (0.5, 0.61)},
           {"a_to_b": 0.7, "b_to_a": 0.4, "a_to_b_se": 0.03, "b_to_a_se": 0.04}]
    fig = figures.imbalance_plane(pts, error_bars="interval")
    tr = fig.data[-1]
    assert list(tr.error_x.array) == pytest.approx([0.02, 0.03])
    assert list(tr.error_x.arrayminus) == pytest.approx([0.05, 0.03])
    assert list(tr.error_y.arrayminus) == pytest.approx([0.1, 0.04])
    se = figures.imbalance_plane(pts).data[-1]  # default: ± se
    assert list(se.error_x.array) == list(se.error_x.arrayminus) == pytest.approx([0.01, 0.03])
    with pytest.raises(ValueError, match="error_bars must be 'se' or 'interval'"):
        figures.imbalance_plane(pts, error_bars="ci")


def test_selection_stability_heatmap_values():
    stab = pd.DataFrame({"size": [1, 1, 2, 2, 2], "feature": ["b", "a", "a", "b", "c"],
                         "frequency": [0.75, 0.25, 1.0, 0.75, 0.25]})
    fig = figures.selection_stability_heatmap(stab, n_splits=4)
    heat = fig.data[0]
    assert list(heat.x) == [1, 2] and list(heat.y) == ["b", "a", "c"]
    np.testing.assert_allclose(np.asarray(heat.z), [[0.75, 0.75], [0.25, 1.0], [0.0, 0.25]])
    assert heat.zmin == 0 and heat.zmax == 1
    assert fig.layout.title.subtitle.text == "4 disjoint splits of the data, the selection repeated on each"
    with pytest.raises(ValueError, match="missing column"):
        figures.selection_stability_heatmap(stab.drop(columns="frequency"))


# --------------------------------------------------------------------------------------
# the command line's downloads
# --------------------------------------------------------------------------------------
def test_cli_pair_q_and_causality_csv_p(tmp_path, capsys):
    import json

    from infoimb import datasets
    from infoimb.cli import main

    path = tmp_path / "g.csv"
    datasets.gauss3d(150).to_csv(path, index=False)
    assert main(["pair", str(path), "--a", "x,y", "--b", "x", "--permutations", "19", "--seed", "0",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [d["q_a_to_b"], d["q_b_to_a"]] == pytest.approx(list(bh_qvalues([d["p_a_to_b"], d["p_b_to_a"]])))
    ross = tmp_path / "r.csv"
    datasets.rossler(400).to_csv(ross, index=False)
    out = tmp_path / "c.csv"
    args = ["causality", str(ross), "--cause", "x1,y1,z1", "--effect", "x2,y2,z2", "--tau", "5",
            "--n-alphas", "4", "--surrogates", "9", "--seed", "0"]
    assert main([*args, "--csv", "-o", str(out)]) == 0
    table = pd.read_csv(out)
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(table["p_x_to_y"]) == {d["p_x_to_y"]} and set(table["p_y_to_x"]) == {d["p_y_to_x"]}


def test_select_stability_with_the_dummy_feature(store, settings, gauss):
    """The dummy noise feature counts towards max features, but the splits have no dummy: they
    select among the real candidates only (this failed with max_features > candidates)."""
    sid, client = gauss
    inputs = {"candidates": "full", "target": "none", "lag": 0, "method": "greedy", "max_features": 8,
              "criterion": "a_to_b", "k": 1, "estimator": "exact", "n_random": 0, "dummy": ["dummy"],
              "n_splits": 2}
    rec = run_ok(store, settings, "select", sid, client, inputs)
    curves = pd.DataFrame(rec["result"]["stability_curves"])
    assert sorted(curves["size"].unique()) == [1, 2, 3]
    assert [st["size"] for st in rec["result"]["steps"]] == [1, 2, 3, 4]
