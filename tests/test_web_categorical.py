"""Categorical columns on the dashboard (issue 9 §2): text columns are categorical features,
numeric codes can be marked categorical on the Data page, every analysis passes the right
metric (``metric="auto"`` semantics, a metric per space), scaling never touches a category,
and every page's numbers equal the API's on the same clinical-like table."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb.web import context, data_logic, inputs
from infoimb.web.analyses import imbalance as cmp
from infoimb.web.analyses import lags as lags_page
from infoimb.web.analyses import selection as sel_page
from infoimb.web.analyses import weights as weights_page
from infoimb.web.config import Settings
from infoimb.web.jobs import run_job
from infoimb.web.store import SessionStore

from reference import imbalance as ref

N = 90


def clinical(n: int = N, seed: int = 0) -> pd.DataFrame:
    """age, height, weight, bmi, sex M/F (text), arm (text), site (numeric codes 0/1/2), a
    systolic pressure that depends on arm and sex, and missing cells."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["M", "F"], n)
    arm = rng.choice(["placebo", "low", "high"], n)
    height = np.round(np.where(sex == "M", 178, 165) + rng.normal(0, 7, n), 1)
    weight = np.round(0.9 * height - 85 + rng.normal(0, 9, n), 1)
    df = pd.DataFrame({
        "age": rng.integers(20, 80, n),
        "height": height,
        "weight": weight,
        "bmi": np.round(weight / (height / 100) ** 2, 2),
        "sex": sex,
        "arm": arm,
        "site": rng.integers(0, 3, n),
        "sbp": np.round(120 + 8 * (arm == "high") + 4 * (sex == "M") + rng.normal(0, 3, n), 1),
    })
    df.loc[3, "weight"] = np.nan
    df.loc[7, "sbp"] = np.nan
    df.loc[11, "sex"] = None
    return df


def data_url(df: pd.DataFrame) -> str:
    return "data:text/csv;base64," + base64.b64encode(df.to_csv(index=False).encode()).decode()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    s = Settings(cache_dir=tmp_path_factory.mktemp("web-categ"), job_timeout=300)
    s.ensure_dirs()
    store = SessionStore(s.sessions_dir)
    sid = store.new_session()
    out = data_logic.ingest_upload(store, sid, data_url(clinical()), "trial.csv", s)
    assert out["dataset"] is not None, out["message"]
    msg = data_logic.save_roles(store, sid, ["age", "height", "weight", "bmi", "sex", "arm", "site"], None, None,
                                [], {}, categorical=["site"])
    assert msg["color"] == "success", msg
    groups = [{"name": "demo", "columns": ["sex", "arm"]},
              {"name": "mixed", "columns": ["age", "sex", "site"]},
              {"name": "body", "columns": ["height", "weight"]},
              {"name": "cands", "columns": ["age", "height", "weight", "sex", "arm", "site"]}]
    return store, s, sid, groups


def job(app, name, inputs_, scaling="none"):
    store, settings, sid, groups = app
    status = run_job(store, name, sid, inputs_, {"groups": groups, "scaling": scaling}, settings)
    if status["status"] != "ok":
        return status, None
    return status, store.get_result(sid, status["content_hash"], name, status["key"])


def raw(app) -> pd.DataFrame:
    store, _, sid, _ = app
    return store.get_dataset(sid)


def complete(df: pd.DataFrame, cols) -> pd.DataFrame:
    return df.dropna(subset=list(cols)).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# roles and spaces
# --------------------------------------------------------------------------------------
def test_text_columns_are_categorical_and_marked_codes_are_stored_in_the_roles(app):
    store, _, sid, groups = app
    meta = store.get_meta(sid)
    assert meta["roles"]["categorical"] == ["site"]
    assert context.text_columns(meta) == ["sex", "arm"]
    assert context.categorical_columns(meta) == ["sex", "arm", "site"]
    assert context.feature_columns(meta) == ["age", "height", "weight", "bmi", "sex", "arm", "site"]
    labels = {o["value"]: o["label"] for o in context.space_options(meta, groups)}
    assert labels["col:sex"] == "Feature: sex (categorical)"
    assert labels["col:site"] == "Feature: site (categorical)"
    assert labels["col:age"] == "Feature: age"
    assert "disabled" not in {k for o in context.space_options(meta, groups) if o["value"] == "group:demo" for k in o}
    assert context.resolve_space("group:demo", meta, groups).columns == ("sex", "arm")


def test_a_fresh_table_keeps_numeric_default_features_but_offers_text_columns(app):
    store, _, sid, _ = app
    meta = dict(store.get_meta(sid), roles=None)
    roles = context.default_roles(meta)
    assert roles["features"] == ["age", "height", "weight", "bmi", "site", "sbp"]
    assert roles["categorical"] == []
    values = [o["value"] for o in context.space_options(dict(meta, roles=roles), [])]
    assert "col:sex" in values and "col:arm" in values  # usable without being in the full space


def test_check_roles_refuses_what_cannot_be_categorical(app):
    store, _, sid, _ = app
    meta = store.get_meta(sid)
    with pytest.raises(context.AnalysisInputError, match="categorical column 'nope' is not in the table"):
        context.check_roles(meta, ["age"], None, None, {}, ["nope"])
    with pytest.raises(context.AnalysisInputError, match="column 'site' is categorical: a period does not apply"):
        context.check_roles(meta, ["age", "site"], None, None, {"site": 3}, ["site"])
    roles, _ = context.check_roles(meta, ["age", "sex"], None, None, {}, ["sex", "site"])
    assert roles["categorical"] == ["site"]  # a text column is categorical anyway
    msg = data_logic.save_roles(store, sid, ["age", "sex"], None, None, [], {}, categorical=["site"])
    assert "categorical (compared by equality): sex" in msg["text"]
    # back to the fixture's roles
    data_logic.save_roles(store, sid, ["age", "height", "weight", "bmi", "sex", "arm", "site"], None, None,
                          [], {}, categorical=["site"])


def test_scaling_applies_to_numeric_columns_only_and_missing_categories_drop_the_row(app):
    df = raw(app)
    frame, dropped = context.prepare_frame(df, ["age", "weight", "sex", "site"], "zscore", categorical=["site"])
    assert dropped == 2  # weight missing in row 3, sex in row 11
    keep = df.drop(index=[3, 11]).reset_index(drop=True)
    assert frame["sex"].tolist() == keep["sex"].tolist()
    assert frame["site"].tolist() == keep["site"].tolist() and frame["site"].dtype == object
    assert frame["age"].mean() == pytest.approx(0.0, abs=1e-12)
    assert frame["age"].std(ddof=0) == pytest.approx(1.0)
    assert context.usable_rows(df, ["weight", "sex"]).sum() == N - 2


def test_space_metric_resolves_auto_and_refuses_a_numeric_metric_on_a_mixed_space():
    assert context.space_metric("auto", ["age"], [], "A") == "euclidean"
    assert context.space_metric("auto", ["sex", "arm"], ["sex", "arm"], "A") == "categorical"
    assert context.space_metric("auto", ["age", "sex"], ["sex"], "A") == "gower"
    assert context.space_metric("manhattan", ["age"], [], "A") == "manhattan"
    with pytest.raises(context.AnalysisInputError, match=r"A: \['sex'\] categorical and \['age'\] numeric"):
        context.space_metric("euclidean", ["age", "sex"], ["sex"], "A")


# --------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------
CMP = {"k": 1, "estimator": "exact", "extras": [], "n_permutations": 0}


def test_compare_text_space_against_a_numeric_column_equals_the_api(app):
    status, rec = job(app, "compare", {**CMP, "a": "group:demo", "b": "col:sbp"})
    assert status["status"] == "ok", status.get("message")
    d = complete(raw(app), ["sex", "arm", "sbp"])
    want = infoimb.imbalance_pair(d[["sex", "arm"]], d[["sbp"]], n_bootstrap=0)
    main = rec["result"]["main"]
    assert rec["result"]["n"] == N - 2
    assert main["a_to_b"] == pytest.approx(want.a_to_b, abs=1e-12)
    assert main["b_to_a"] == pytest.approx(want.b_to_a, abs=1e-12)
    assert rec["settings"]["metrics_used"] == {"A": "categorical", "B": "euclidean"}
    assert "A: categorical, B: euclidean" in cmp.caption(rec)


def test_compare_mixed_space_with_a_marked_code_equals_the_api_with_categorical(app):
    status, rec = job(app, "compare", {**CMP, "a": "group:mixed", "b": "col:sbp", "metric_b": "manhattan"},
                      scaling="zscore")
    assert status["status"] == "ok", status.get("message")
    # the numeric columns z-scored, the categories (text and the marked codes) as they are
    d = infoimb.preprocess.scale(complete(raw(app), ["age", "sex", "site", "sbp"]), ["age", "sbp"], "zscore")
    want = infoimb.imbalance_pair(d[["age", "sex", "site"]], d[["sbp"]], metric=("auto", "manhattan"),
                                  categorical=["site"], n_bootstrap=0)
    numeric_site = infoimb.imbalance_pair(d[["age", "sex", "site"]], d[["sbp"]], metric=("auto", "manhattan"),
                                          n_bootstrap=0)
    main = rec["result"]["main"]
    assert main["a_to_b"] == pytest.approx(want.a_to_b, abs=1e-12)
    assert main["b_to_a"] == pytest.approx(want.b_to_a, abs=1e-12)
    assert (want.a_to_b, want.b_to_a) != (numeric_site.a_to_b, numeric_site.b_to_a)  # the mark mattered
    assert rec["settings"]["metrics_used"] == {"A": "gower", "B": "manhattan"}
    assert rec["settings"]["categorical"] == ["site"]


def test_compare_refuses_a_numeric_metric_on_a_mixed_space_naming_the_columns(app):
    status, _ = job(app, "compare", {**CMP, "a": "group:mixed", "b": "col:sbp", "metric": "euclidean"})
    assert status["status"] == "error"
    assert "['sex', 'site'] categorical and ['age'] numeric" in status["message"]


def test_compare_is_exact_on_all_categorical_data_against_the_brute_force_reference(app):
    status, rec = job(app, "compare", {**CMP, "a": "group:demo", "b": "col:site", "k": 3})
    assert status["status"] == "ok", status.get("message")
    d = complete(raw(app), ["sex", "arm", "site"])
    a = np.column_stack([pd.factorize(d[c])[0] for c in ("sex", "arm")]).astype(float)
    b = d[["site"]].to_numpy(dtype=float)
    main = rec["result"]["main"]
    assert main["a_to_b"] == pytest.approx(ref(a, b, k=3, metric="categorical"), abs=1e-12)
    assert main["b_to_a"] == pytest.approx(ref(b, a, k=3, metric="categorical"), abs=1e-12)


# --------------------------------------------------------------------------------------
# Select
# --------------------------------------------------------------------------------------
SEL = {"method": "greedy", "max_features": 3, "k": 1, "estimator": "exact", "n_random": 0, "dummy": [],
       "lag": 0, "n_splits": 0}


def test_select_with_categorical_candidates_equals_the_api(app):
    status, rec = job(app, "select", {**SEL, "candidates": "group:cands", "target": "col:sbp"})
    assert status["status"] == "ok", status.get("message")
    cols = ["age", "height", "weight", "sex", "arm", "site"]
    d = complete(raw(app), cols + ["sbp"])
    want = infoimb.select_features(d[cols], d[["sbp"]], method="greedy", max_features=3, categorical=["site"],
                                   random_state=0)
    res = rec["result"]
    assert [s["features"] for s in res["steps"]] == [list(s.features) for s in want.steps]
    assert [s["a_to_b"] for s in res["steps"]] == pytest.approx([s.a_to_b for s in want.steps], abs=1e-12)
    assert res["steps"][0]["features"] == ["arm"]  # sbp follows the arm
    assert rec["settings"]["metrics_used"] == {"candidates": "gower", "target": "euclidean"}
    assert "metric: candidates: gower, target: euclidean" in sel_page.caption(rec)


def test_select_a_metric_of_its_own_for_the_target(app):
    status, rec = job(app, "select", {**SEL, "candidates": "group:body", "target": "group:demo",
                                      "metric": "manhattan", "metric_b": "categorical"})
    assert status["status"] == "ok", status.get("message")
    d = complete(raw(app), ["height", "weight", "sex", "arm"])
    want = infoimb.select_features(d[["height", "weight"]], d[["sex", "arm"]], method="greedy", max_features=2,
                                   metric=("manhattan", "categorical"), random_state=0)
    assert [s["a_to_b"] for s in rec["result"]["steps"]] == pytest.approx([s.a_to_b for s in want.steps], abs=1e-12)
    assert rec["settings"]["metrics_used"] == {"candidates": "manhattan", "target": "categorical"}


def test_select_refuses_the_fps_baselines_on_categorical_candidates(app):
    status, _ = job(app, "select", {**SEL, "candidates": "group:cands", "target": "col:sbp", "baselines": ["fps"]})
    assert status["status"] == "error"
    assert "'sex', 'arm', 'site' are categorical" in status["message"]


# --------------------------------------------------------------------------------------
# Scales, Matrix, Causality, Graph
# --------------------------------------------------------------------------------------
def test_weights_on_a_categorical_a_show_the_engines_message(app):
    status, _ = job(app, "scales", {"a": "group:mixed", "b": "col:sbp", "method": "coordinate", "k": 1,
                                    "estimator": "exact"})
    assert status["status"] == "error"
    assert "Weights apply to numeric features; ['sex', 'site'] are categorical" in status["message"]


def test_weights_with_a_categorical_b_equal_the_api(app):
    status, rec = job(app, "scales", {"a": "group:body", "b": "group:demo", "method": "coordinate", "k": 1,
                                      "estimator": "exact", "n_iter": 5})
    assert status["status"] == "ok", status.get("message")
    d = complete(raw(app), ["height", "weight", "sex", "arm"])
    want = infoimb.optimize_weights(d[["height", "weight"]], d[["sex", "arm"]], method="coordinate", k=1,
                                    random_state=0)
    assert rec["result"]["delta_after"] == pytest.approx(want.delta_after, abs=1e-12)
    assert rec["result"]["weights"] == pytest.approx(list(want.weights), abs=1e-12)
    assert "metric: A: euclidean, B: categorical" in weights_page.caption(rec)


def test_matrix_with_categorical_spaces_equals_the_api(app):
    status, rec = job(app, "matrix", {"spaces": ["group:demo", "col:site", "group:body"], "k": 1,
                                      "estimator": "exact"})
    assert status["status"] == "ok", status.get("message")
    d = complete(raw(app), ["sex", "arm", "site", "height", "weight"])
    want = infoimb.imbalance_matrix({"demo": d[["sex", "arm"]], "site": d[["site"]].astype(object),
                                     "body": d[["height", "weight"]]}, metric="auto")
    got = rec["result"]["matrix"]["delta"]
    for a in ("demo", "site", "body"):
        for b in ("demo", "site", "body"):
            if a != b:
                assert got[a][b] == pytest.approx(want.delta.loc[a, b], abs=1e-12)
    assert rec["settings"]["metrics"] == {"demo": "categorical", "site": "categorical", "body": "euclidean"}


def test_causality_and_graph_refuse_categorical_series_naming_them(app):
    status, _ = job(app, "causality", {"cause": "col:arm", "effect": "col:sbp", "tau": 1, "k": 5, "n_alpha": 5,
                                       "embed_dim": 1, "estimator": "exact", "n_surrogates": 0})
    assert status["status"] == "error"
    assert "'arm' is categorical" in status["message"] and "Causality" in status["message"]
    status, _ = job(app, "graph", {"variables": ["col:sex", "col:age", "col:sbp"], "taus": "1", "k": 3,
                                   "embed_dim": 1, "n_alpha": 3, "n_surrogates": 19, "alpha": 0.1,
                                   "estimator": "exact"})
    assert status["status"] == "error"
    assert "'sex' is categorical" in status["message"]


# --------------------------------------------------------------------------------------
# Time lags on a panel with a text column
# --------------------------------------------------------------------------------------
def panel(n_ent: int = 12, n_t: int = 25, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for e in range(n_ent):
        dose = rng.choice(["low", "mid", "high"], n_t)
        level = pd.Series(dose).map({"low": 0.0, "mid": 1.0, "high": 2.0}).to_numpy()
        resp = np.r_[0.0, level[:-1]] + 0.2 * rng.normal(size=n_t)  # follows the dose by one step
        for t in range(n_t):
            rows.append({"patient": f"p{e}", "visit": t, "dose": dose[t], "response": round(float(resp[t]), 3)})
    return pd.DataFrame(rows)


def test_lag_scan_with_a_text_source_equals_the_api(tmp_path):
    s = Settings(cache_dir=tmp_path, job_timeout=300)
    s.ensure_dirs()
    store = SessionStore(s.sessions_dir)
    sid = store.new_session()
    df = panel()
    out = data_logic.ingest_upload(store, sid, data_url(df), "panel.csv", s)
    assert out["dataset"] is not None, out["message"]
    msg = data_logic.save_roles(store, sid, ["dose", "response"], "visit", "patient", [], {})
    assert msg["color"] in ("success", "warning"), msg
    status = run_job(store, "lags", sid, {"source": "col:dose", "target": "col:response", "lag_min": -2,
                                          "lag_max": 2, "time": "visit", "entity": "patient", "k": 1,
                                          "estimator": "exact", "n_permutations": 0, "n_splits": 0},
                     {"groups": [], "scaling": "zscore"}, s)
    assert status["status"] == "ok", status.get("message")
    rec = store.get_result(sid, status["content_hash"], "lags", status["key"])
    # the engine's lag scan pairs numbers: the dose as codes, compared by equality
    d = store.get_dataset(sid).assign(dose=lambda x: pd.factorize(x["dose"])[0].astype(float))
    d["response"] = infoimb.preprocess.scale(d, ["response"], "zscore")["response"]
    want = infoimb.lag_scan(d, "dose", "response", lags=range(-2, 3), time="visit", group="patient", k=1,
                            metric=("categorical", "euclidean"), random_state=0)
    got = rec["result"]["scan"]
    assert got["best_lag"] == want.best_lag == 1
    assert [r["forward"] for r in got["rows"]] == pytest.approx(want.to_frame()["forward"].tolist(), abs=1e-12)
    assert rec["settings"]["metrics_used"] == {"source": "categorical", "target": "euclidean"}
    assert "metric: source: categorical, target: euclidean" in lags_page.caption(rec)


def test_metric_fields_offer_auto_first_and_same_for_the_second_space():
    from infoimb.web.fields import metric_fields

    ma, mb = metric_fields("x-a", "x-b", "source", "target")
    assert list(ma.choices)[0] == "auto" and ma.default == "auto"
    assert list(mb.choices)[:2] == ["same", "auto"] and mb.default == "same"
    assert ma.check("gower") == "gower"
    with pytest.raises(context.AnalysisInputError, match="metric of the source must be one of"):
        ma.check("cosine")
    assert inputs.metrics_text({"metrics_used": {"A": "gower", "B": "euclidean"}}) == "metric: A: gower, B: euclidean"


def test_the_lagged_selection_takes_categorical_candidates_and_refuses_a_mixed_scan_space(tmp_path):
    s = Settings(cache_dir=tmp_path, job_timeout=300)
    s.ensure_dirs()
    store = SessionStore(s.sessions_dir)
    sid = store.new_session()
    df = panel().assign(noise=lambda x: np.round(np.random.default_rng(5).normal(size=len(x)), 3))
    assert data_logic.ingest_upload(store, sid, data_url(df), "panel.csv", s)["dataset"] is not None
    data_logic.save_roles(store, sid, ["dose", "response", "noise"], "visit", "patient", [], {})
    groups = [{"name": "both", "columns": ["dose", "noise"]}]
    base = {"target": "col:response", "lag_min": 0, "lag_max": 2, "time": "visit", "entity": "patient", "k": 1,
            "estimator": "exact", "n_permutations": 0, "n_splits": 0}
    status = run_job(store, "lags", sid, {**base, "source": "group:both"}, {"groups": groups, "scaling": "none"}, s)
    assert status["status"] == "error"
    assert "mixes categorical 'dose' and numeric 'noise'" in status["message"]
    status = run_job(store, "lags", sid, {**base, "source": "col:dose", "select": ["on"], "candidates": "group:both",
                                          "sel_lag": "1", "sel_max": 2}, {"groups": groups, "scaling": "none"}, s)
    assert status["status"] == "ok", status.get("message")
    rec = store.get_result(sid, status["content_hash"], "lags", status["key"])
    d = store.get_dataset(sid).assign(dose=lambda x: pd.factorize(x["dose"])[0].astype(float))
    want = infoimb.select_lagged(d, ["dose", "noise"], ["response"], lag=1, time="visit", group="patient",
                                 method="greedy", max_features=2, dummy=True, random_state=0,
                                 metric=("gower", "euclidean"), categorical=["dose"])
    got = rec["result"]["selection"]
    assert [st["features"] for st in got["steps"]] == [list(st.features) for st in want.steps]
    assert got["steps"][0]["features"] == ["dose"]
    assert [st["a_to_b"] for st in got["steps"]] == pytest.approx([st.a_to_b for st in want.steps], abs=1e-12)
    assert rec["settings"]["metrics_used"]["candidates"] == "gower"
    # the Select page with a target lag: the same selection (its own dummy and bootstrap settings)
    status = run_job(store, "select", sid, {**SEL, "candidates": "group:both", "target": "col:response", "lag": 1,
                                            "max_features": 2}, {"groups": groups, "scaling": "none"}, s)
    assert status["status"] == "ok", status.get("message")
    rec = store.get_result(sid, status["content_hash"], "select", status["key"])
    want = infoimb.select_lagged(d, ["dose", "noise"], ["response"], lag=1, time="visit", group="patient",
                                 method="greedy", max_features=2, random_state=0, metric=("gower", "euclidean"),
                                 categorical=["dose"])
    assert [st["a_to_b"] for st in rec["result"]["steps"]] == pytest.approx([st.a_to_b for st in want.steps],
                                                                            abs=1e-12)
    assert rec["result"]["steps"][0]["features"] == ["dose"]


def test_select_is_exact_on_all_categorical_data_against_the_brute_force_reference(app):
    status, rec = job(app, "select", {**SEL, "candidates": "group:demo", "target": "col:site", "max_features": 2,
                                      "k": 2})
    assert status["status"] == "ok", status.get("message")
    d = complete(raw(app), ["sex", "arm", "site"])
    codes = {c: pd.factorize(d[c])[0].astype(float)[:, None] for c in ("sex", "arm", "site")}
    for step in rec["result"]["steps"]:
        a = np.hstack([codes[c] for c in step["features"]])
        assert step["a_to_b"] == pytest.approx(ref(a, codes["site"], k=2, metric="categorical"), abs=1e-12)
        assert step["b_to_a"] == pytest.approx(ref(codes["site"], a, k=2, metric="categorical"), abs=1e-12)
    assert rec["settings"]["metrics_used"] == {"candidates": "categorical", "target": "categorical"}


def test_remembered_roles_carry_the_categorical_codes(app):
    store, settings, sid, _ = app
    meta = store.get_meta(sid)
    client = data_logic.remember_current_roles(store, sid, {})
    assert data_logic.remembered_roles(client, meta["fingerprint"])["categorical"] == ["site"]
    sid2 = store.new_session()
    out = data_logic.load_request(store, settings, {"kind": "upload", "filename": "trial.csv", "t": 1},
                                  data_url(clinical()), sid2, client)
    assert out["dataset"] is not None, out["message"]
    assert store.get_meta(sid2)["roles"]["categorical"] == ["site"]


# --------------------------------------------------------------------------------------
# the Python call and the CLI command that reproduce a result (infoimb.web.reproduce)
# --------------------------------------------------------------------------------------
def reproduced(app, rec, tmp_path, monkeypatch, capsys):
    """(the Python snippet's result, the CLI's JSON) on the uploaded file, in ``tmp_path``."""
    import json
    import shlex

    from infoimb import cli
    from infoimb.web import reproduce

    store, _, sid, _ = app
    r = reproduce.reproduce(rec, store.get_meta(sid))
    assert (r.table, r.working) == ("trial.csv", False)
    (tmp_path / r.table).write_text(clinical().to_csv(index=False))
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(r.python, "<reproduce>", "exec"), ns)  # noqa: S102 - the generated snippet under test
    argv = shlex.split(r.cli)
    assert argv[0] == "infoimb"
    capsys.readouterr()
    assert cli.main(argv[1:]) == 0, capsys.readouterr().err
    return r, ns["result"], json.loads(capsys.readouterr().out)


def test_compare_reproduced_in_python_and_on_the_command_line(app, tmp_path, monkeypatch, capsys):
    status, rec = job(app, "compare", {**CMP, "a": "group:mixed", "b": "col:sbp", "metric_b": "manhattan"},
                      scaling="zscore")
    assert status["status"] == "ok", status.get("message")
    r, py, got = reproduced(app, rec, tmp_path, monkeypatch, capsys)
    assert "--categorical site" in r.cli and "--metric-a auto --metric-b manhattan" in r.cli
    assert "categorical=['site']" in r.python and "preprocess.scale(df, ['age', 'sbp'], 'zscore')" in r.python
    main = rec["result"]["main"]
    for res in (py.to_dict(), got):
        assert res["n"] == main["n"] == N - 2
        assert (res["a_to_b"], res["b_to_a"]) == (main["a_to_b"], main["b_to_a"])


def test_select_reproduced_in_python_and_on_the_command_line(app, tmp_path, monkeypatch, capsys):
    status, rec = job(app, "select", {**SEL, "candidates": "group:cands", "target": "col:sbp",
                                      "metric_b": "manhattan"}, scaling="minmax")
    assert status["status"] == "ok", status.get("message")
    r, py, got = reproduced(app, rec, tmp_path, monkeypatch, capsys)
    assert "--metric-a auto --metric-b manhattan" in r.cli and "--categorical site" in r.cli
    want = [(s["features"], s["a_to_b"]) for s in rec["result"]["steps"]]
    assert [(list(s.features), s.a_to_b) for s in py.steps] == want
    assert [(s["features"], s["a_to_b"]) for s in got["steps"]] == want


def test_matrix_with_text_spaces_reproduced_in_python_and_on_the_command_line(app, tmp_path, monkeypatch, capsys):
    status, rec = job(app, "matrix", {"spaces": ["group:demo", "col:sbp", "group:body"], "k": 1,
                                      "estimator": "exact"}, scaling="zscore")
    assert status["status"] == "ok", status.get("message")
    r, py, got = reproduced(app, rec, tmp_path, monkeypatch, capsys)
    assert "--metric auto" in r.cli
    want = rec["result"]["matrix"]["delta"]
    for a in ("demo", "sbp", "body"):
        for b in ("demo", "sbp", "body"):
            if a != b:
                assert py.delta.loc[a, b] == want[a][b] and got["delta"][a][b] == want[a][b]
