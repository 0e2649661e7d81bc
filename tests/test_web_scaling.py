"""The scaling in force and the spread warning, without a browser (infoimb.web.scaling).

Spreads are population standard deviations after the scaling; the warning fires above 10×
(exactly 10× does not), names the widest and narrowest numeric columns, and leaves out text,
declared-categorical, periodic and constant columns. An uploaded table starts with z-score, an
example with its documented scaling (none), and the examples' METHOD.md values still come out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from infoimb import datasets, imbalance_pair
from infoimb.web import data_logic, scaling
from infoimb.web.context import SCALINGS, prepare_frame
from infoimb.web.jobs import get_analysis, run_job
from infoimb.web.jobs.runner import make_context, prepared_settings

UNITS = pd.DataFrame({
    "chol": [150.0, 250.0, 200.0, 175.0, 225.0],     # mg/dL: 200 + 25 p, p = (-2, 2, 0, -1, 1)
    "creat": [0.8, 1.2, 1.0, 0.9, 1.1],              # mg/dL: 1 + 0.1 p
    "height": [160.0, 180.0, 170.0, 165.0, 175.0],   # cm: 170 + 5 p
    "sex": ["F", "M", "M", "F", "M"],                # text: categorical
    "angle": [0.1, 3.0, 6.0, 1.0, 2.0],              # periodic (2π)
    "const": [1.0] * 5,
})


# settings, store: tests/conftest.py (a fresh cache per test)


# --------------------------------------------------------------------------------------
# spreads and the check
# --------------------------------------------------------------------------------------
def test_spreads_are_standard_deviations_after_the_scaling():
    cols = ["chol", "creat", "height"]
    none = scaling.feature_spreads(UNITS, cols, "none")
    assert none == pytest.approx(UNITS[cols].std(ddof=0).to_dict(), rel=1e-12)
    assert none == pytest.approx({"chol": 25 * np.sqrt(2), "creat": 0.1 * np.sqrt(2), "height": 5 * np.sqrt(2)})
    assert scaling.feature_spreads(UNITS, cols, "zscore") == pytest.approx({c: 1.0 for c in cols}, rel=1e-12)
    # min-max: the pattern p over its range 4, the same for the three
    assert scaling.feature_spreads(UNITS, cols, "minmax") == pytest.approx({c: np.sqrt(2) / 4 for c in cols})
    # rank: ranks 1..5 / 6 for every untied column
    assert scaling.feature_spreads(UNITS, cols, "rank") == pytest.approx({c: np.sqrt(2.0) / 6 for c in cols})
    with pytest.raises(ValueError, match="scaling must be one of none, zscore, minmax, rank, got 'log'"):
        scaling.feature_spreads(UNITS, cols, "log")


def test_the_check_names_widest_and_narrowest_and_leaves_out_categorical_periodic_constant():
    check = scaling.spread_check(UNITS, list(UNITS.columns), "none", label="Space A (labs)",
                                 periodic=["angle"])
    assert set(check.spreads) == {"chol", "creat", "height"}  # not sex (text), angle (periodic), const
    assert (check.widest, check.narrowest) == ("chol", "creat")
    assert check.ratio == pytest.approx(250.0) and check.warn
    assert check.text() == ("Space A (labs) mixes features whose spreads differ by 250×: chol has a standard "
                            "deviation of 35.4, creat of 0.141 (unscaled), so chol decides the distances almost alone.")
    assert check.to_dict()["warn"] is True
    # declared categorical (a numeric code) is left out too
    declared = scaling.spread_check(UNITS, ["chol", "creat", "height"], "none", categorical=["creat"])
    assert (declared.widest, declared.narrowest) == ("chol", "height")
    assert declared.ratio == pytest.approx(5.0) and not declared.warn
    # after z-score nothing is left to warn about; min-max names its scaling
    assert not scaling.spread_check(UNITS, ["chol", "creat"], "zscore").warn
    assert "(after min-max scaling)" in scaling.SpreadCheck("S", "minmax", {"a": 20.0, "b": 1.0}, "a", "b", 20.0).text()
    # fewer than two numeric, non-constant features: nothing to compare
    assert scaling.spread_check(UNITS, ["chol", "sex", "const", "angle"], "none", periodic=["angle"]) is None


def test_the_threshold_is_strictly_above_ten():
    df = pd.DataFrame({"a": [-1.0, 1.0] * 4, "b": [-10.0, 10.0] * 4, "c": [-10.01, 10.01] * 4})
    at = scaling.spread_check(df, ["a", "b"], "none")
    assert at.ratio == 10.0 and not at.warn
    above = scaling.spread_check(df, ["a", "c"], "none")
    assert above.ratio == pytest.approx(10.01) and above.warn
    assert scaling.SPREAD_LIMIT == 10.0


def test_rows_with_missing_values_are_left_out_as_the_analysis_does():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan, 1000.0], "b": [1.0, 2.0, 3.0, 4.0, np.inf]})
    # only rows 0..2 are finite in both: spreads 0.816 each, no warning (1000 is dropped)
    check = scaling.spread_check(df, ["a", "b"], "none")
    assert check.ratio == pytest.approx(1.0) and check.spreads["a"] == pytest.approx(np.sqrt(2 / 3))


# --------------------------------------------------------------------------------------
# a page's spaces, the line, the Data page
# --------------------------------------------------------------------------------------
def _meta(df, periodic=None, categorical=None):
    kinds = {c: ("numeric" if pd.api.types.is_numeric_dtype(df[c].dtype) else "text") for c in df.columns}
    roles = {"features": [c for c in df.columns if kinds[c] == "numeric" and c != "const"],
             "time": None, "entity": None, "periodic": periodic or {}}
    if categorical is not None:
        roles["categorical"] = categorical
    return {"columns": list(df.columns), "summary": [{"column": c, "kind": kinds[c]} for c in df.columns],
            "roles": roles, "n_rows": len(df), "filename": "units.csv", "content_hash": "h"}


def test_page_checks_resolve_groups_and_skip_single_columns_and_fixed_pages():
    meta = _meta(UNITS, periodic={"angle": 2 * np.pi})
    groups = [{"name": "labs", "columns": ["chol", "creat"]}, {"name": "body", "columns": ["height", "angle"]}]
    compare = get_analysis("compare")
    checks = scaling.page_checks(compare, {"a": "group:labs", "b": "col:height"}, meta, groups, UNITS, "none")
    assert [c.label for c in checks] == ["Space A (labs)"]
    assert (checks[0].widest, checks[0].narrowest) == ("chol", "creat")
    # the full space: chol, creat, height (angle periodic, sex text, const not a feature): both warn, widest first
    checks = scaling.page_checks(compare, {"a": "full", "b": "group:labs"}, meta, groups, UNITS, "none")
    assert [c.label for c in checks] == ["Space A (full space)", "Space B (labs)"]  # equal ratios: form order
    assert checks[0].ratio == checks[1].ratio == pytest.approx(250.0)
    # a group with a periodic column leaves one numeric feature: no check; unknown values are skipped
    assert scaling.page_checks(compare, {"a": "group:body", "b": "group:gone"}, meta, groups, UNITS, "none") == []
    # a multi-select (Matrix page) checks each chosen space
    matrix = get_analysis("matrix")
    checks = scaling.page_checks(matrix, {"spaces": ["group:labs", "col:chol"]}, meta, groups, UNITS, "none")
    assert [c.label for c in checks] == ["Two or more spaces (labs)"]
    # z-score: nothing; the causal graph standardises by itself: never a check
    assert scaling.page_checks(compare, {"a": "group:labs"}, meta, groups, UNITS, "zscore") == []
    assert scaling.page_checks(get_analysis("graph"), {"variables": ["group:labs"]}, meta, groups, UNITS,
                               "none") == []
    # a column declared categorical in the roles is not part of the full space's check
    meta_cat = _meta(UNITS, periodic={"angle": 2 * np.pi}, categorical=["creat"])
    checks = scaling.page_checks(None, {}, meta_cat, [], UNITS, "none")
    assert checks == []  # chol vs height only: 5×


def test_status_line_on_every_page_and_the_data_page():
    meta = _meta(UNITS)
    for name in ("compare", "select", "lags", "causality", "scales", "matrix"):
        for key, label in SCALINGS.items():
            st = scaling.status(get_analysis(name), {}, meta, {"scaling": key}, UNITS)
            assert st["line"] == f"Scaling: {label} (set on the Data page)" and st["warnings"] == []
    graph = scaling.status(get_analysis("graph"), {}, meta, {"scaling": "none"}, UNITS)
    assert graph["line"] == "Scaling: z-score, always (the causal graph standardises each column itself)"
    # no scaling in the store (a fresh browser): none
    assert scaling.status(get_analysis("compare"), {}, None, {}, None)["line"] == "Scaling: none (set on the Data page)"
    # the Data page: the full feature space
    st = scaling.status(None, {}, meta, {"scaling": "none"}, UNITS)
    assert len(st["warnings"]) == 1 and st["warnings"][0].startswith(
        "The full feature space mixes features whose spreads differ by 250×: chol has")
    assert scaling.status(None, {}, meta, {"scaling": "zscore"}, UNITS)["warnings"] == []


def test_the_fix_and_the_data_page_radio():
    client = {"groups": [{"name": "g", "columns": ["a"]}], "scaling": "none", "last": {"compare": {"k": 1}}}
    fixed = scaling.fixed_client(client)
    assert fixed == dict(client, scaling="zscore") and client["scaling"] == "none"
    assert scaling.fixed_client(None) == {"scaling": "zscore"}
    assert scaling.radio_value(True, client) == "zscore"
    assert scaling.radio_value(False, client) == "none"
    assert scaling.radio_value(False, {"scaling": "bogus"}) == "none"
    assert scaling.saved_scaling("rank", client) == dict(client, scaling="rank")
    # with the table's fingerprint the choice is remembered for its content (newest 20 kept)
    saved = scaling.saved_scaling("rank", client, "fp1")
    assert saved["scaling"] == "rank" and saved["scaling_by_dataset"] == {"fp1": "rank"}
    assert scaling.remembered_scaling(saved, "fp1") == "rank" and scaling.remembered_scaling(saved, "fp2") is None
    assert scaling.fixed_client(saved, "fp1")["scaling_by_dataset"] == {"fp1": "zscore"}
    many = client
    for i in range(25):
        many = scaling.chosen(many, "none", f"fp{i}")
    assert list(many["scaling_by_dataset"]) == [f"fp{i}" for i in range(5, 25)]
    from dash import no_update

    assert scaling.saved_scaling("none", client) is no_update  # unchanged
    assert scaling.saved_scaling(None, client) is no_update  # the radio empty on mount


# --------------------------------------------------------------------------------------
# the default, the memo key, the examples' reference values
# --------------------------------------------------------------------------------------
def test_default_is_zscore_for_uploads_and_the_documented_setting_for_examples(store, settings, tmp_path):
    assert scaling.default_scaling() == "zscore"
    assert {name: scaling.default_scaling(name) for name in datasets.EXAMPLES} == \
        {name: "none" for name in datasets.EXAMPLES}
    sid = store.new_session()
    csv = UNITS.drop(columns=["angle"]).to_csv(index=False).encode()
    import base64

    payload = "data:text/csv;base64," + base64.b64encode(csv).decode()
    out = data_logic.load_request(store, settings, {"kind": "upload", "filename": "units.csv"}, payload, sid,
                                  {"groups": [], "scaling": "rank"})
    assert out["client"] == {"groups": [], "scaling": "zscore"}
    assert "Scaling: z-score (the default for an uploaded table; change it under “Roles and scaling”)." \
        in out["message"]["details"]
    # already z-score: the store is left alone, no line
    out = data_logic.load_request(store, settings, {"kind": "upload", "filename": "units.csv"}, payload, sid,
                                  {"scaling": "zscore"})
    assert out["client"] is None and not any("Scaling" in d for d in out["message"]["details"])
    # the scaling chosen for this content before comes back with it
    fp = out["dataset"]["fingerprint"]
    out = data_logic.load_request(store, settings, {"kind": "upload", "filename": "again.csv"}, payload, sid,
                                  {"scaling": "zscore", "scaling_by_dataset": {fp: "none"}})
    assert out["client"]["scaling"] == "none"
    assert "Scaling: none (as you set it for this table before; change it under “Roles and scaling”)." \
        in out["message"]["details"]
    # an example: its groups and its documented scaling
    out = data_logic.load_request(store, settings, {"kind": "example", "name": "sinusoid", "n": 50}, None, sid,
                                  {"scaling": "zscore"})
    assert out["client"]["scaling"] == "none" and {g["name"] for g in out["client"]["groups"]} == {"x1", "x2"}
    assert "Scaling: none (this example's documented setting; change it under “Roles and scaling”)." \
        in out["message"]["details"]
    # a failed load changes nothing
    out = data_logic.load_request(store, settings, {"kind": "upload", "filename": "x.bin"}, "data:,garbage", sid,
                                  {"scaling": "none"})
    assert out["dataset"] is None and out["client"] is None


def test_the_memo_key_includes_the_scaling_on_every_page_that_uses_it(store, settings):
    sid = store.new_session()
    data_logic.ingest_example(store, sid, "gauss3d", 60, settings)
    inputs = {"compare": {"a": "col:x", "b": "full"}, "matrix": {"spaces": ["col:x", "full"]},
              "select": {"candidates": "full"}, "scales": {"a": "full", "b": "col:x"}}
    for name, values in inputs.items():
        keys = set()
        for key in SCALINGS:
            ctx = make_context(store, sid, {"groups": [], "scaling": key}, settings)
            params, memo = prepared_settings(get_analysis(name), values, ctx)
            assert params["scaling"] == key
            keys.add(memo)
        assert len(keys) == len(SCALINGS), name


def test_the_examples_reference_values_come_out_under_their_default(store, settings):
    """gauss3d loaded as the Data page loads it (its default scaling in the settings store):
    METHOD.md section 5, Δ(xy → full) = 0.008404, Δ(full → xy) = 0.004146, N = 1000."""
    sid = store.new_session()
    out = data_logic.load_request(store, settings, {"kind": "example", "name": "gauss3d", "n": 1000}, None, sid, {})
    client = out["client"]
    assert client["scaling"] == "none"
    status = run_job(store, "compare", sid, {"a": "group:xy", "b": "full", "k": 1, "metric": "euclidean",
                                             "estimator": "exact", "n_permutations": 0}, client, settings)
    assert status["status"] == "ok", status
    record = store.get_result(sid, status["content_hash"], "compare", status["key"])
    pair = record["result"]["pairs"][0]
    assert pair["a_to_b"] == pytest.approx(0.008404, abs=5e-7)
    assert pair["b_to_a"] == pytest.approx(0.004146, abs=5e-7)
    assert record["settings"]["scaling"] == "none"
    # and the z-score would not give them: gauss3d's thin z is the point of the example
    df = datasets.load_example("gauss3d", n=1000, random_state=0)
    z, _ = prepare_frame(df, ["x", "y", "z"], "zscore")
    assert imbalance_pair(z[["x", "y"]].to_numpy(), z.to_numpy()).a_to_b > 0.1


def test_the_causal_graph_caption_names_its_own_scaling():
    from infoimb.web.analyses import graph

    record = {"settings": {"n_alpha": 5, "n_queries": None, "entity": None, "time": None, "embedding": None},
              "result": {"n": 10, "n_entities": 1, "taus": [1], "k": 5, "n_surrogates": 99, "alpha": 0.05},
              "dataset": {"filename": "f.csv"}}
    assert "· exact · scaling: z-score (always) · rows in table order" in graph.caption(record)
