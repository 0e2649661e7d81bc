"""The dashboard's logic without a browser: settings, the session store, the job machinery,
the Data page's logic, the comparison analysis, the callbacks' decisions."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from infoimb.web.analyses import imbalance
from infoimb.web import data_logic
from infoimb.web.config import ConfigError, Settings
from infoimb.web.context import (
    AnalysisInputError,
    check_spaces,
    prepare_frame,
    resolve_space,
    space_options,
)
from infoimb.web.jobs import Analysis, JobContext, Progress, get_analysis, lookup, run_job
from infoimb.web.store import (
    InvalidSession,
    NoDataset,
    TooManyJobs,
    content_hash,
    settings_key,
)


ROOT = Path(__file__).resolve().parents[1]


# settings, store: tests/conftest.py (a fresh cache per test)


def gauss_session(store, settings, n=1000):
    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "gauss3d", n, settings)
    assert out["dataset"]["n_rows"] == n
    return sid, {"groups": out["groups"], "scaling": "none"}


def compare_inputs(a, b, **kw):
    return {"a": a, "b": b, "k": 1, "metric": "euclidean", "estimator": "exact", "n_queries": 1000,
            "extras": [], **kw}


# --------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------
def test_settings_defaults_and_env(tmp_path):
    s = Settings.from_env({"INFOIMB_CACHE_DIR": str(tmp_path)})
    assert s.cache_dir == tmp_path and s.max_upload_mb == 50 and s.max_columns == 2000
    assert s.redis_url is None and (s.host, s.port) == ("127.0.0.1", 8050)
    assert s.jobs_dir == tmp_path / "jobs" and s.max_upload_bytes == 50 * 1024 * 1024
    s = Settings.from_env({"INFOIMB_CACHE_DIR": str(tmp_path), "INFOIMB_MAX_UPLOAD_MB": "2.5",
                           "INFOIMB_SESSION_TTL": "60", "PORT": "9000", "REDIS_URL": "redis://localhost:6379/0"})
    assert s.max_upload_mb == 2.5 and s.session_ttl == 60 and s.port == 9000
    assert s.redis_url == "redis://localhost:6379/0"


@pytest.mark.parametrize("env, match", [
    ({"INFOIMB_MAX_UPLOAD_MB": "lots"}, "INFOIMB_MAX_UPLOAD_MB='lots' is not a valid number"),
    ({"INFOIMB_MAX_COLUMNS": "1.5"}, "INFOIMB_MAX_COLUMNS='1.5' is not a valid whole number"),
    ({"INFOIMB_MAX_JOBS_PER_SESSION": "0"}, "must be at least 1"),
    ({"INFOIMB_JOB_TIMEOUT": "inf"}, "must be finite"),
    ({"PORT": "70000"}, "PORT=70000 must be at most 65535"),
    ({"REDIS_URL": "http://x"}, "REDIS_URL='http://x' must start with redis://"),
])
def test_settings_invalid_values_name_the_variable(env, match):
    with pytest.raises(ConfigError, match=match):
        Settings.from_env(env)


def test_settings_unwritable_cache_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="INFOIMB_CACHE_DIR: cannot create"):
        Settings(cache_dir=blocker / "sub").ensure_dirs()


# --------------------------------------------------------------------------------------
# the session store
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [None, "", "../../etc", "A" * 32, "0" * 31, "0" * 33, "g" * 32,
                                 "0" * 30 + "/.", 12345, ["x"]])
def test_session_ids_are_validated(store, bad):
    assert not store.exists(bad)
    with pytest.raises(InvalidSession):
        store.get_meta(bad)
    with pytest.raises(InvalidSession):
        store.get_dataset(bad)


def test_unknown_but_wellformed_session_is_not_a_session(store):
    with pytest.raises(InvalidSession, match="unknown or expired"):
        store.get_meta("0123456789abcdef0123456789abcdef")


def test_dataset_roundtrip_and_hash(store):
    sid = store.new_session()
    assert len(sid) == 32 and store.exists(sid)
    assert store.get_meta(sid) is None
    with pytest.raises(NoDataset):
        store.get_dataset(sid)
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    meta = store.put_dataset(sid, df, {"filename": "t.csv"})
    assert meta["content_hash"] == content_hash(df) and meta["n_rows"] == 3 and meta["n_cols"] == 2
    pd.testing.assert_frame_equal(store.get_dataset(sid), df)
    # a derived table keeps the original for reset
    df2 = df.iloc[:2]
    meta2 = store.put_dataset(sid, df2, {"filename": "t.csv"}, original=False)
    assert meta2["original"]["content_hash"] == meta["content_hash"]
    assert store.get_dataset(sid).shape == (2, 2) and store.get_dataset(sid, original=True).shape == (3, 2)
    # no temporary files are left behind
    assert not list((store.root / sid).rglob("*.tmp"))


def test_content_hash_and_settings_key():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    assert content_hash(df) == content_hash(df.copy())
    assert content_hash(df) != content_hash(df.assign(b=[3, 5]))
    assert content_hash(df) != content_hash(df.rename(columns={"a": "c"}))
    assert settings_key({"a": 1, "b": [1, 2]}) == settings_key({"b": [1, 2], "a": 1})
    assert settings_key({"a": 1}) != settings_key({"a": 2})
    assert settings_key({"x": np.float64(0.5)}) == settings_key({"x": 0.5})


def test_sessions_cannot_read_each_others_results(store):
    a, b = store.new_session(), store.new_session()
    h = "0" * 32
    assert store.put_result(a, h, "compare", "1" * 32, {"secret": 42})
    assert store.get_result(a, h, "compare", "1" * 32) == {"secret": 42}
    assert store.get_result(b, h, "compare", "1" * 32) is None
    for bad in ("../x", "A" * 32):
        with pytest.raises(ValueError):
            store.get_result(a, bad, "compare", "1" * 32)
    with pytest.raises(ValueError):
        store.get_result(a, h, "../compare", "1" * 32)


def test_expire_removes_idle_sessions_only(store):
    old, fresh = store.new_session(), store.new_session()
    now = time.time()
    import os

    os.utime(store.root / old / ".last_access", (now - 1000, now - 1000))
    assert store.expire(500, now=now) == [old]
    assert not store.exists(old) and store.exists(fresh)
    # a result for an expired session is dropped, not written
    assert store.put_result(old, "0" * 32, "compare", "1" * 32, {}) is False
    assert not (store.root / old).exists()


def test_job_slots(store):
    sid = store.new_session()
    s1 = store.start_job(sid, max_jobs=2, job_timeout=60)
    s2 = store.start_job(sid, max_jobs=2, job_timeout=60)
    with pytest.raises(TooManyJobs, match="already runs 2 analyses"):
        store.start_job(sid, max_jobs=2, job_timeout=60)
    store.end_job(s1)
    s3 = store.start_job(sid, max_jobs=2, job_timeout=60)
    # a slot of a dead process is reclaimed
    s2.write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": __import__("socket").gethostname(),
                              "started": time.time()}))
    s4 = store.start_job(sid, max_jobs=2, job_timeout=60)
    assert s4 == s2
    for s in (s3, s4):
        store.end_job(s)


# --------------------------------------------------------------------------------------
# spaces, groups, frames
# --------------------------------------------------------------------------------------
def test_spaces_and_options(store, settings):
    sid, client = gauss_session(store, settings, n=100)
    meta = store.get_meta(sid)
    groups = client["groups"] + [{"name": "ghost", "columns": ["nope"]}, {"name": "empty", "columns": []}]
    opts = space_options(meta, groups)
    assert opts[0] == {"label": "Full space (3 features)", "value": "full"}
    by_value = {o["value"]: o for o in opts}
    assert by_value["group:xy"]["label"] == "Group: xy (2 columns)"
    assert "group:ghost" not in by_value  # another table's group is not offered (issue 9: they piled up)
    assert by_value["group:empty"]["disabled"]
    assert "col:z" in by_value
    assert resolve_space("full", meta, groups).columns == ("x", "y", "z")
    assert resolve_space("group:xy", meta, groups).columns == ("x", "y")
    assert resolve_space("col:z", meta, groups).columns == ("z",)
    for value, match in [("group:empty", "is empty"), ("group:ghost", "not in the current table"),
                         ("group:missing", "no group named"), ("col:nope", "not in the current table"),
                         (None, "choose a space")]:
        with pytest.raises(AnalysisInputError, match=match):
            resolve_space(value, meta, groups)
    a, b = resolve_space("group:xy", meta, groups), resolve_space("full", meta, groups)
    check_spaces(a, b)  # overlapping spaces are fine for a comparison
    with pytest.raises(AnalysisInputError, match="must not share columns; both contain 'x', 'y'"):
        check_spaces(a, b, allow_overlap=False)
    with pytest.raises(AnalysisInputError, match="are the same columns"):
        check_spaces(b, resolve_space("group:full", meta, groups))


def test_prepare_frame_drops_nonfinite_rows_and_scales():
    df = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0, 5.0], "b": [1.0, np.inf, 3.0, 4.0, 6.0],
                       "angle": [0.0, 1.0, 2.0, 3.0, 4.0]})
    frame, dropped = prepare_frame(df, ["a", "b", "angle"], "zscore", {"angle": 6.28})
    assert dropped == 2 and frame.shape == (3, 3)
    assert frame["a"].mean() == pytest.approx(0) and frame["a"].std(ddof=0) == pytest.approx(1)
    assert frame["angle"].tolist() == [0.0, 3.0, 4.0]  # periodic: left unscaled
    with pytest.raises(AnalysisInputError, match=r"only 1 row\(s\) have finite values in all of .a., .b."):
        prepare_frame(df.iloc[:3], ["a", "b"], "none")


# --------------------------------------------------------------------------------------
# the comparison analysis through the job machinery
# --------------------------------------------------------------------------------------
def test_compare_job_reproduces_reference_values_and_memoises(store, settings):
    sid, client = gauss_session(store, settings, n=1000)
    reports = []
    status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, settings, report=reports.append)
    assert status["status"] == "ok" and status["cached"] is False
    record = store.get_result(sid, status["content_hash"], "compare", status["key"])
    main = record["result"]["main"]
    # METHOD.md section 5: (Delta(full->x), Delta(x->full)) = (0.063748, 0.548194)
    assert main["a_to_b"] == pytest.approx(0.063748, abs=1e-6)
    assert main["b_to_a"] == pytest.approx(0.548194, abs=1e-6)
    assert main["relation"] == "a_contains_b"
    assert record["result"]["relation_text"].startswith("A contains the information of B")
    assert record["settings"]["a"]["columns"] == ["x", "y", "z"] and record["settings"]["n_queries"] is None
    assert record["dataset"]["filename"] == "example: gauss3d" and record["result"]["n"] == 1000
    ranks = record["result"]["ranks"]
    assert len(ranks["rank_b_given_a1"]) == 1000 and np.array(ranks["rank_a"]).shape == (100, 50)
    assert 2 * np.mean(ranks["rank_b_given_a1"]) / 1000 == pytest.approx(0.063748, abs=1e-3)
    # progress: starts at 0, never goes back, ends at 100 with a label
    values = [r["value"] for r in reports]
    assert values[0] == 0 and values[-1] == 100 and values == sorted(values)
    assert all(isinstance(r["label"], str) and r["label"] for r in reports)
    # the memo: same data and settings -> the stored record, at once
    t0 = time.perf_counter()
    again = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, settings)
    assert again["cached"] is True and again["key"] == status["key"]
    assert time.perf_counter() - t0 < 1.0
    rec, key, why = lookup(store, "compare", sid, compare_inputs("full", "col:x"), client, settings)
    assert rec["key"] == status["key"] and why is None
    # other settings -> another key, no memo
    rec, key2, _ = lookup(store, "compare", sid, compare_inputs("full", "col:x", k=5), client, settings)
    assert rec is None and key2 != key


def test_compare_extras_and_subsampled(store, settings):
    sid, client = gauss_session(store, settings, n=600)
    inputs = compare_inputs("group:xy", "full", extras=["features", "groups"], estimator="subsampled",
                            n_queries=300)
    status = run_job(store, "compare", sid, inputs, client, settings)
    assert status["status"] == "ok", status
    rec = store.get_result(sid, status["content_hash"], "compare", status["key"])
    pairs = rec["result"]["pairs"]
    series = [p["series"] for p in pairs]
    # B is the full space: the extra pairs read the same way, subset -> full
    assert series.count("each feature vs full space") == 3
    x_pair = next(p for p in pairs if p["label"] == "x")
    assert x_pair["a_columns"] == ["x"] and x_pair["b_columns"] == ["x", "y", "z"]
    # groups: every group but the one equal to the full space
    assert sorted(p["label"] for p in pairs if p["series"] == "each group vs full space") == ["x", "xy", "y", "z"]
    assert all(p["n_queries"] == 300 for p in pairs)
    assert rec["result"]["main"]["relation"] == "equivalent"
    csv = imbalance.to_csv(rec)
    assert csv.startswith("# infoimb")
    table = pd.read_csv(io.StringIO(csv), comment="#")
    assert len(table) == len(pairs) and table.loc[0, "a_columns"] == "x y"
    assert "# n_queries: 300" in csv and "# scaling: none" in csv


@pytest.mark.parametrize("inputs, match", [
    (compare_inputs("full", "group:full"), "are the same columns"),
    (compare_inputs("full", None), "choose a space"),
    (compare_inputs("group:nothing", "full"), "no group named 'nothing'"),
    (compare_inputs("full", "col:x", k=0), "k must be between 1 and"),
    (compare_inputs("full", "col:x", k="two"), "k must be a whole number"),
    (compare_inputs("full", "col:x", metric="cosine"), "metric must be one of"),
    (compare_inputs("full", "col:x", estimator="subsampled", n_queries=3), "query points must be at least 10"),
])
def test_compare_bad_inputs_give_messages(store, settings, inputs, match):
    sid, client = gauss_session(store, settings, n=100)
    status = run_job(store, "compare", sid, inputs, client, settings)
    assert status["status"] == "error"
    assert match.lower() in status["message"].lower()


def test_compare_empty_group_message(store, settings):
    sid, client = gauss_session(store, settings, n=100)
    client["groups"].append({"name": "nothing yet", "columns": []})
    status = run_job(store, "compare", sid, compare_inputs("group:nothing yet", "full"), client, settings)
    assert status == {"analysis": "compare", "status": "error",
                      "message": "Group 'nothing yet' is empty: add columns to it on the Data page."}


def test_job_without_session_or_data(store, settings):
    for sid in (None, "../../x", "0" * 32):
        status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), {}, settings)
        assert status["status"] == "error" and "No data for this browser session" in status["message"]
    sid = store.new_session()
    status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), {}, settings)
    assert status["status"] == "error" and "no dataset loaded" in status["message"].lower()


def test_limits_cells_subsets_and_jobs(store, settings):
    sid, client = gauss_session(store, settings, n=200)
    small = settings.replace(max_cells=500)
    status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, small)
    assert "exceeds the limit of 500 (INFOIMB_MAX_CELLS)" in status["message"]
    few = settings.replace(max_subsets=2)
    status = run_job(store, "compare", sid, compare_inputs("full", "col:x", extras=["features"]), client, few)
    assert "4 pairs of spaces exceed the limit of 2 (INFOIMB_MAX_SUBSETS)" in status["message"]
    one = settings.replace(max_jobs_per_session=1)
    slot = store.start_job(sid, max_jobs=1, job_timeout=60)
    try:
        status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, one)
        assert "already runs 1 analyses" in status["message"]
    finally:
        store.end_job(slot)


def _slow_prepare(inputs, ctx):
    return {"mode": inputs["mode"]}


def _slow_run(df, settings, progress):
    t0 = time.monotonic()
    if settings["mode"] == "steps":  # reports progress: stopped at the next report
        while time.monotonic() - t0 < 30:
            progress(0.5, "working")
            time.sleep(0.02)
    else:  # no reports at all: the watchdog gives up on it
        time.sleep(3)
    return {}


def _failing_run(df, settings, progress):
    raise RuntimeError("boom")


def test_timeouts_and_failures_end_with_a_message(store, settings):
    slow = Analysis("test-slow", "slow", _slow_prepare, _slow_run)
    failing = Analysis("test-fail", "fail", _slow_prepare, _failing_run)
    sid, client = gauss_session(store, settings, n=50)
    quick = settings.replace(job_timeout=1.0)
    for mode in ("steps", "silent"):
        t0 = time.monotonic()
        status = run_job(store, slow, sid, {"mode": mode}, client, quick)
        assert status["status"] == "error" and "longer than the limit of 1 s (INFOIMB_JOB_TIMEOUT)" in status["message"]
        assert time.monotonic() - t0 < 2.5
    status = run_job(store, failing, sid, {"mode": "x"}, client, settings)
    assert status["message"] == "The analysis failed unexpectedly (RuntimeError: boom)."
    assert not list((store.root / sid / "jobs").iterdir())  # slots released


def test_progress_is_throttled_and_clipped():
    seen = []
    p = Progress(seen.append, deadline=time.monotonic() + 60, min_interval=10)
    p(0.0, "a")
    p(0.3, "b")  # within the interval: dropped
    p(1.7, "c")  # clipped to 1 and always reported
    assert [s["value"] for s in seen] == [0.0, 100.0]
    assert seen[-1]["label"] == "100% · c"


# --------------------------------------------------------------------------------------
# the Data page's logic
# --------------------------------------------------------------------------------------
def data_url(text: str) -> str:
    import base64

    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_upload_good_and_bad(store, settings):
    sid = store.new_session()
    bad = data_logic.ingest_upload(store, sid, data_url("a,a\n1,2\n3,4\n5,6\n"), "dup.csv", settings)
    assert bad["dataset"] is None and bad["message"]["color"] == "danger"
    assert "duplicate column names: 'a'" in bad["message"]["text"]
    assert store.get_meta(sid) is None  # nothing stored
    text = "x,y,mixed,const\n" + "".join(f"{i},{i * i},{i if i != 3 else 'oops'},1\n" for i in range(10))
    good = data_logic.ingest_upload(store, sid, data_url(text), "good.csv", settings)
    assert good["dataset"]["n_rows"] == 10 and good["dataset"]["filename"] == "good.csv"
    assert good["message"]["color"] == "warning"
    assert any("'mixed' is mostly numbers but has 1 text value(s), e.g. 'oops'" in d
               for d in good["message"]["details"])
    meta = store.get_meta(sid)
    assert meta["roles"]["features"] == ["x", "y"]  # not the mixed or the constant column
    assert meta["preview"]["columns"] == ["x", "y", "mixed", "const"] and len(meta["preview"]["rows"]) == 8
    rows = {r["column"]: r for r in data_logic.column_rows(meta)}
    assert rows["mixed"]["notes"] == "text in numbers, e.g. 'oops'" and rows["const"]["notes"] == "constant"
    # convert the mixed column: the text becomes missing, the column becomes numeric
    out = data_logic.preprocess_step(store, sid, "coerce", {"columns": ["mixed"]}, settings)
    assert out["dataset"]["n_rows"] == 10
    meta = store.get_meta(sid)
    s = {c["column"]: c for c in meta["summary"]}
    assert s["mixed"]["kind"] == "numeric" and s["mixed"]["n_missing"] == 1
    assert meta["roles"]["features"] == ["x", "y", "mixed"]  # the converted column joins the features
    too_big = data_logic.ingest_upload(store, sid, data_url("x\n" + "1\n" * 600_000), "big.csv", settings)
    assert "the limit is 1.0 MB" in too_big["message"]["text"]
    assert data_logic.ingest_upload(store, "nope", data_url(text), "x.csv", settings)["message"]["color"] == "danger"


def test_no_numeric_columns_is_reported(store, settings):
    sid = store.new_session()
    out = data_logic.ingest_upload(store, sid, data_url("a,b\nx,y\nu,v\nw,z\n"), "text.csv", settings)
    assert out["message"]["color"] == "warning"
    assert any("No numeric columns" in d for d in out["message"]["details"])


def test_examples_and_their_groups(store, settings):
    names = [e["name"] for e in data_logic.examples()]
    assert "gauss3d" in names and all(e["description"] for e in data_logic.examples())
    sid = store.new_session()
    out = data_logic.load_request(store, settings, {"kind": "example", "name": "gauss3d", "n": 300}, None,
                         sid, {"groups": [{"name": "mine", "columns": ["x"]}], "scaling": "none"})
    assert out["dataset"]["n_rows"] == 300
    groups = {g["name"]: g["columns"] for g in out["client"]["groups"]}
    assert groups["mine"] == ["x"] and groups["xy"] == ["x", "y"]
    assert "session" not in out  # the session is the cookie's, never an output
    assert data_logic.load_request(store, settings, None, None, sid, {}) is None
    assert data_logic.load_request(store, settings, {"kind": "nope"}, None, sid, {}) is None
    # a session of the cookie that stored nothing yet: its folder is made when it stores the table
    fresh = "b" * 32
    assert not store.exists(fresh)
    out = data_logic.load_request(store, settings, {"kind": "example", "name": "gauss3d", "n": 50}, None, fresh, {})
    assert store.exists(fresh) and out["dataset"]["n_rows"] == 50
    # no session at all (cookies blocked): a message, nothing stored
    out = data_logic.load_request(store, settings, {"kind": "example", "name": "gauss3d", "n": 50}, None, None, {})
    assert out["dataset"] is None and "no session" in out["message"]["text"]
    bad = data_logic.ingest_example(store, sid, "nope", None, settings)
    assert bad["message"]["text"] == "Choose an example first."


def test_roles_validation(store, settings):
    sid = store.new_session()
    data_logic.ingest_example(store, sid, "policy_panel", 5, settings)
    meta = store.get_meta(sid)
    assert meta["roles"]["time"] == "date" and meta["roles"]["entity"] == "id"
    msg = data_logic.save_roles(store, sid, ["testing_policy"], "date", "id", ["testing_policy"], {})
    assert msg["color"] == "warning" and "Give the period" in msg["text"]
    msg = data_logic.save_roles(store, sid, ["testing_policy"], "date", "date", [], {})
    assert msg["color"] == "danger" and "must be different" in msg["text"]
    msg = data_logic.save_roles(store, sid, ["testing_policy", "stay_home_restrictions"], "date", "id",
                       ["testing_policy"], {"testing_policy": 5})
    assert msg["color"] == "success", msg
    assert store.get_meta(sid)["roles"]["periodic"] == {"testing_policy": 5.0}
    assert any("time column 'date': dates from" in d for d in msg["details"])
    # an unparseable time column
    sid2 = store.new_session()
    text = "when,v\n2020-01-01,1\nyesterday,2\n2020-01-03,3\n"
    data_logic.ingest_upload(store, sid2, data_url(text), "t.csv", settings)
    msg = data_logic.save_roles(store, sid2, ["v"], "when", None, [], {})
    assert msg["color"] == "danger" and "neither numbers nor dates, e.g. 'yesterday'" in msg["text"]


def test_preprocessing_steps(store, settings):
    sid = store.new_session()
    data_logic.ingest_example(store, sid, "policy_panel", 4, settings)
    meta0 = store.get_meta(sid)
    out = data_logic.preprocess_step(store, sid, "ratio", {"numerator": "cases_per_100k", "denominator": "tests_per_100k",
                                                  "name": "positivity"}, settings)
    assert "positivity" in store.get_meta(sid)["columns"], out
    assert "positivity" in store.get_meta(sid)["roles"]["features"]
    out = data_logic.preprocess_step(store, sid, "resample", {"period": "4W", "how": "mean"}, settings)
    assert out["dataset"] is not None and out["dataset"]["n_rows"] < meta0["n_rows"], out
    out = data_logic.preprocess_step(store, sid, "difference", {"columns": None}, settings)
    assert out["dataset"] is None and out["message"]["text"] == "Choose the cumulative columns to difference"
    out = data_logic.preprocess_step(store, sid, "drop_missing", {}, settings)
    assert out["dataset"] is not None
    assert store.get_meta(sid)["history"][0].startswith("added the ratio")
    out = data_logic.preprocess_step(store, sid, "reset", {}, settings)
    assert out["dataset"]["content_hash"] == meta0["content_hash"]
    assert store.get_meta(sid)["history"] == []
    sid2 = store.new_session()
    data_logic.ingest_example(store, sid2, "gauss3d", 50, settings)
    out = data_logic.preprocess_step(store, sid2, "resample", {"period": "W"}, settings)
    assert "set the time column" in out["message"]["text"].lower()


def test_group_editor_helpers():
    groups, problems = data_logic.groups_from_editor(["a", "", "a", " b "], [["x"], ["y"], ["z"], ["x", "x", "y"]])
    assert groups == [{"name": "a", "columns": ["x"]}, {"name": "b", "columns": ["x", "y"]}]
    assert problems == ["A group without a name is not saved.", "The name 'a' is used twice; only the first is kept."]
    g = data_logic.groups_after("add", [{"name": "group 1", "columns": []}])
    assert [x["name"] for x in g] == ["group 1", "group 2"]
    assert data_logic.groups_after("remove", g, index=0) == [{"name": "group 2", "columns": []}]
    assert data_logic.merge_groups([{"name": "a", "columns": ["x"]}], [{"name": "a", "columns": ["y"]},
                                                             {"name": "b", "columns": []}]) == \
        [{"name": "a", "columns": ["y"]}, {"name": "b", "columns": []}]


# --------------------------------------------------------------------------------------
# the app and its callbacks' logic
# --------------------------------------------------------------------------------------
def test_healthz_and_pages(dash_app):
    client = dash_app.server.test_client()
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok" and body["background"] == "diskcache"
    assert body["numba_threading_layer"] in ("workqueue", "tbb")
    assert {"/", "/compare"} <= set(body["pages"])
    assert client.get("/").status_code == 200 and client.get("/compare").status_code == 200
    assert client.get("/assets/favicon.ico").status_code == 200


def test_create_app_runs_once(dash_app):
    import app as app_module

    with pytest.raises(RuntimeError, match="runs once per process"):
        app_module.create_app()


def test_background_manager_uses_the_shared_cache_dir(dash_app, cache_dir):
    import dash

    manager = dash_app._background_manager
    assert isinstance(manager, dash.DiskcacheManager)
    assert manager.handle.directory == str(cache_dir / "jobs")


def test_redis_url_switches_to_celery(tmp_path):
    """The REDIS_URL branch of make_background_manager (a fresh process: one app per process)."""
    import subprocess

    env = dict(os.environ, REDIS_URL="redis://127.0.0.1:6399/0", INFOIMB_CACHE_DIR=str(tmp_path))
    code = ("import app, dash; m = app.app._background_manager; "
            "print(isinstance(m, dash.CeleryManager), app.celery_app.conf.broker_url, "
            "app.server.test_client().get('/healthz').get_json()['background'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "redis://127.0.0.1:6399/0", "celery"]


def test_bad_setting_stops_the_app_at_start_up(tmp_path):
    import subprocess

    env = dict(os.environ, INFOIMB_MAX_COLUMNS="many", INFOIMB_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", "import app"], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120)
    assert out.returncode != 0 and "ConfigError: INFOIMB_MAX_COLUMNS='many' is not a valid whole number" in out.stderr


def test_session_dataset_on_page_load(dash_app):
    """A page load announces the table of the cookie's session; an unknown, malformed or
    forged id announces nothing (and creates nothing)."""
    from infoimb.web import runtime
    from infoimb.web.shell import session_dataset

    store = runtime.get_store()
    sid = "a" * 32
    assert session_dataset(sid, store) is None and not store.exists(sid)
    for forged in ("../../etc/passwd", "0" * 32, 5, None, [1, 2]):
        assert session_dataset(forged, store) is None
    store.open_session(sid)
    data_logic.ingest_example(store, sid, "gauss3d", 30, runtime.get_settings())
    info = session_dataset(sid, store)
    assert info["n_rows"] == 30 and info["filename"] == "example: gauss3d"
    store.delete_session(sid)


def test_display_logic_and_downloads(dash_app):
    import dash

    from infoimb.web import runtime

    card = sys.modules["pages.compare"].CARD
    store, settings = runtime.get_store(), runtime.get_settings()
    sid, client = gauss_session(store, settings, n=300)
    session = {"sid": sid}
    inputs = compare_inputs("full", "col:x")
    # nothing computed yet: a hint, downloads disabled
    out = card.display(None, client, inputs, session)
    assert out["results"].children == "Choose spaces A and B and press Compare." and out["csv"] is True
    status = run_job(store, "compare", sid, inputs, client, settings)
    out = card.display(status, client, inputs, session, triggered=("job-result-compare.data",))
    assert out["shown"] == {"key": status["key"], "content_hash": status["content_hash"]}
    assert out["status"].children.startswith("Done in") and out["csv"] is False
    assert isinstance(out["results"], list) and len(out["results"]) >= 3
    # the same record on display: the figures are not sent again
    again = card.display(status, client, inputs, session, shown=out["shown"])
    assert again["results"] is dash.no_update and again["status"].children.startswith("From the memo")
    # a failed job: its message, the previous results stay
    err = card.display({"status": "error", "message": "Bad k."}, client, inputs, session,
                       triggered=("job-result-compare.data",))
    assert err["results"] is dash.no_update and err["status"].children == "Bad k." and err["status"].color == "danger"
    cancelled = card.display({"status": "cancelled", "message": "Cancelled."}, client, inputs, session,
                             triggered=("job-result-compare.data",))
    assert cancelled["status"].color == "warning"
    # downloads: JSON is the whole record, CSV has the settings as comments
    js = card.download("json", out["shown"], sid)
    record = json.loads(js["content"])
    assert record["settings"]["a"]["columns"] == ["x", "y", "z"] and js["filename"].endswith(".json")
    csv = card.download("csv", out["shown"], sid)
    assert csv["content"].startswith("# infoimb") and "delta_a_to_b" in csv["content"]
    # another session cannot download this record
    other = store.new_session()
    assert card.download("json", out["shown"], other) is None
    # figures of the record
    figs = imbalance.build_figures(record)
    assert set(figs) == {"plane", "ranks", "conditional"}
    plane_points = [t for t in figs["plane"].data if t.mode and "markers" in t.mode][-1]
    assert plane_points.x[0] == pytest.approx(record["result"]["main"]["a_to_b"])
    summary = imbalance.summary(record)
    assert summary["relation"] == "a_contains_b" and summary["a"] == "full space" and summary["b"] == "x"


def test_analysis_registry():
    assert get_analysis("compare").title == "Compare two spaces"
    with pytest.raises(AnalysisInputError, match="unknown analysis"):
        get_analysis("nope")
    ctx = JobContext(sid="x", meta={"n_rows": 10})
    ctx.check_cells(10 ** 9)  # no settings: no limit
