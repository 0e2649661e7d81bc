"""The limits a hosted demo needs, without a browser: through ``prepare`` / ``check_job`` /
``run_job`` (what the web process and the job run), and over HTTP where the web server itself
enforces them. Each refusal names its limit and its environment variable.

The Celery side of the same limits (refused before queueing, a session's share of queued jobs,
a job whose worker died) is in tests/test_scaleout.py, with real processes.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import time

import pandas as pd
import pytest

from infoimb.web import data_logic
from infoimb.web import runtime
from infoimb.web.jobs import check_job, held_slot, run_job
from infoimb.web.store import TooManyJobs


# settings, store: tests/conftest.py (a fresh cache per test)


def session_with(store, settings, example: str, n: int):
    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, example, n, settings)
    assert out["dataset"] is not None, out["message"]
    return sid, {"groups": out["groups"], "scaling": "none"}


def compare_inputs(a, b, **kw):
    return {"a": a, "b": b, "k": 1, "metric": "euclidean", "estimator": "exact", "n_queries": 1000,
            "extras": [], **kw}


def select_inputs(**kw):
    return {"candidates": "group:policies", "target": "group:epidemic_state", "lag": 2, "method": "greedy",
            "max_features": 4, "criterion": "a_to_b", "k": 1, "estimator": "subsampled", "n_queries": 200,
            "n_random": 0, "dummy": [], **kw}


def data_url(payload: bytes, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64," + base64.b64encode(payload).decode()


def results_of(store, sid) -> list:
    return list((store.root / sid).glob("results/*/*/*.json"))


# --------------------------------------------------------------------------------------
# points x features, subsets: refused before anything runs
# --------------------------------------------------------------------------------------
def test_points_times_features_refused_before_the_job(store, settings):
    sid, client = session_with(store, settings, "gauss3d", 400)
    small = settings.replace(max_cells=1000)
    inputs = compare_inputs("full", "col:x")
    status = check_job(store, "compare", sid, inputs, client, small)  # the web process, before queueing
    assert status == {"analysis": "compare", "status": "error",
                      "message": "400 points × 3 features = 1,200 values exceeds the limit of 1,000 "
                                 "(INFOIMB_MAX_CELLS): use fewer features or rows."}
    assert run_job(store, "compare", sid, inputs, client, small) == status  # and the job itself
    assert results_of(store, sid) == [] and not list((store.root / sid / "jobs").glob("slot-*"))
    # within the limit it runs
    assert check_job(store, "compare", sid, inputs, client, settings.replace(max_cells=1200)) is None


def test_example_over_the_cell_limit_is_not_loaded(store, settings):
    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "gauss3d", 500, settings.replace(max_cells=1000))
    assert out["dataset"] is None
    assert out["message"]["text"] == ("Example gauss3d with n = 500 has 1,500 values, over the limit of 1,000 "
                                      "(INFOIMB_MAX_CELLS).")
    assert store.get_meta(sid) is None


def test_subsets_of_an_exhaustive_search_refused(store, settings):
    sid, client = session_with(store, settings, "policy_panel", 10)
    few = settings.replace(max_subsets=100)
    inputs = select_inputs(method="exhaustive", max_features=3)  # 11 features (dummy on): 231 subsets
    status = check_job(store, "select", sid, {**inputs, "dummy": ["dummy"]}, client, few)
    assert status["status"] == "error"
    assert "needs 231 subsets, more than the limit of 100 (INFOIMB_MAX_SUBSETS)" in status["message"]
    assert run_job(store, "select", sid, {**inputs, "dummy": ["dummy"]}, client, few)["message"] == status["message"]
    # the pairs of a comparison count too
    sid2, client2 = session_with(store, settings, "gauss3d", 200)
    status = check_job(store, "compare", sid2, compare_inputs("full", "col:x", extras=["features"]), client2,
                       settings.replace(max_subsets=2))
    assert status["message"] == "4 pairs of spaces exceed the limit of 2 (INFOIMB_MAX_SUBSETS)."
    assert results_of(store, sid) == [] and results_of(store, sid2) == []


def test_memo_hit_is_answered_without_a_job(store, settings):
    sid, client = session_with(store, settings, "gauss3d", 300)
    inputs = compare_inputs("group:xy", "full")
    assert check_job(store, "compare", sid, inputs, client, settings) is None
    done = run_job(store, "compare", sid, inputs, client, settings)
    assert done["status"] == "ok" and done["cached"] is False
    again = check_job(store, "compare", sid, inputs, client, settings)
    assert again == {"analysis": "compare", "status": "ok", "key": done["key"],
                     "content_hash": done["content_hash"], "cached": True, "elapsed": 0.0}


# --------------------------------------------------------------------------------------
# the job time limit, on a real analysis
# --------------------------------------------------------------------------------------
def test_a_real_analysis_over_its_time_limit_is_stopped_and_reported(store, settings):
    sid, client = session_with(store, settings, "descriptors", 400)
    inputs = compare_inputs("group:energy", "full", extras=["features"])  # 242 pairs, exact: many seconds
    seen = []
    t0 = time.monotonic()
    status = run_job(store, "compare", sid, inputs, client, settings.replace(job_timeout=1.5), report=seen.append)
    assert status == {"analysis": "compare", "status": "error",
                      "message": "Stopped: the analysis ran longer than the limit of 1.5 s (INFOIMB_JOB_TIMEOUT). "
                                 "Use fewer points (subsampled queries) or fewer features."}
    assert time.monotonic() - t0 < 10
    assert seen and seen[0]["label"] == "0% · loading the data"
    assert results_of(store, sid) == []  # nothing stored
    assert not list((store.root / sid / "jobs").glob("slot-*"))  # its slot released


# --------------------------------------------------------------------------------------
# jobs per session: slots, and the slots a job queue claims
# --------------------------------------------------------------------------------------
def test_a_session_cannot_run_more_than_its_share(store, settings):
    sid, client = session_with(store, settings, "gauss3d", 200)
    two = settings.replace(max_jobs_per_session=2)
    held = [store.start_job(sid, max_jobs=2, job_timeout=60) for _ in range(2)]
    status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, two)
    assert status["message"] == ("This session already runs 2 analyses; wait for one to finish or cancel it.")
    other, other_client = session_with(store, settings, "gauss3d", 200)  # other sessions are not affected
    assert run_job(store, "compare", other, compare_inputs("full", "col:x"), other_client, two)["status"] == "ok"
    for slot in held:
        store.end_job(slot)
    assert run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, two)["status"] == "ok"


def test_queued_job_slots_and_heartbeats(store):
    sid = store.new_session()
    # claimed by the web process when a job is queued: not reclaimed while it waits
    queued = store.start_job(sid, max_jobs=1, job_timeout=60, job="task-1", heartbeat=2)
    assert json.loads(queued.read_text())["job"] == "task-1"
    old = time.time() - 30
    os.utime(queued, (old, old))
    with pytest.raises(TooManyJobs, match="already runs 1 analyses"):
        store.start_job(sid, max_jobs=1, job_timeout=60)
    # the worker starts it and beats: still held
    assert store.job_running(queued, "task-1")
    store.beat(queued)
    with pytest.raises(TooManyJobs):
        store.start_job(sid, max_jobs=1, job_timeout=60)
    # only its own job releases it
    store.end_job(queued, "task-2")
    assert queued.exists()
    # its heartbeat stops for longer than promised: the worker died, the slot is reclaimed
    os.utime(queued, (old, old))
    again = store.start_job(sid, max_jobs=1, job_timeout=60, job="task-3", heartbeat=2)
    assert again == queued and json.loads(again.read_text())["job"] == "task-3"
    assert not store.job_running(again, "task-1")  # the old job no longer owns it
    store.end_job(again, "task-1")
    assert again.exists()
    store.end_job(again, "task-3")
    assert not again.exists()
    # a queued job that never started is given up after the job timeout
    stale = store.start_job(sid, max_jobs=1, job_timeout=60, job="task-4", heartbeat=2)
    record = json.loads(stale.read_text())
    stale.write_text(json.dumps({**record, "started": time.time() - 200}))
    assert store.start_job(sid, max_jobs=1, job_timeout=60) == stale
    with pytest.raises(ValueError):
        store.job_slot(sid, "../meta.json")


def test_a_job_uses_the_slot_claimed_for_it(store, settings):
    sid, client = session_with(store, settings, "gauss3d", 200)
    one = settings.replace(max_jobs_per_session=1)
    slot = store.start_job(sid, max_jobs=1, job_timeout=60, job="task-9", heartbeat=5)
    token = held_slot.set(slot)
    try:
        status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, one)
    finally:
        held_slot.reset(token)
    assert status["status"] == "ok"  # ran in the held slot, not refused for lack of one
    assert slot.exists()  # released by whoever claimed it, not by the job
    store.end_job(slot, "task-9")


# --------------------------------------------------------------------------------------
# uploads: size, and nothing is ever unpickled or executed
# --------------------------------------------------------------------------------------
def test_upload_over_the_size_limit(store, settings):
    sid = store.new_session()
    big = b"x\n" + b"1.0\n" * 300_000  # 1.1 MB; the limit here is 1 MB
    out = data_logic.ingest_upload(store, sid, data_url(big, "text/csv"), "big.csv", settings)
    assert out["dataset"] is None
    assert out["message"]["text"] == "big.csv is 1.1 MB; the limit is 1.0 MB"
    assert store.get_meta(sid) is None


def test_upload_request_over_the_size_limit_is_refused_by_the_server(dash_app):
    client = dash_app.server.test_client()
    limit = dash_app.server.config["MAX_CONTENT_LENGTH"]
    settings = runtime.get_settings()
    assert limit == int(settings.max_upload_bytes * 1.4) + 1_000_000  # base64 of the largest upload, and room
    body = json.dumps({"output": "x.data", "inputs": [{"id": "x", "property": "data", "value": "a" * (limit + 10)}]})
    r = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert r.status_code == 413


class _Payload:
    """Unpickling this would create a file (the marker)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("filename", ["data.pkl", "data.pickle", "data.csv", "data.tsv", "data.parquet",
                                      "data.xlsx", "data.npy", "data.joblib", "data.txt"])
def test_uploaded_pickles_are_never_unpickled(store, settings, tmp_path, filename):
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_Payload(marker))
    sid = store.new_session()
    out = data_logic.ingest_upload(store, sid, data_url(payload), filename, settings)
    assert out["dataset"] is None and out["message"]["color"] == "danger"
    assert filename in out["message"]["text"]
    assert not marker.exists()
    # a real pickled DataFrame is refused too, whatever it is called
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [4.0, 3.0, 2.0, 1.0]})
    out = data_logic.ingest_upload(store, sid, data_url(pickle.dumps(frame)), filename, settings)
    assert out["dataset"] is None and store.get_meta(sid) is None


def test_formulas_in_an_upload_stay_text(store, settings):
    sid = store.new_session()
    text = "a,b,note\n1,2,=cmd|' /C calc'!A0\n3,4,@SUM(1+1)\n5,6,x\n7,8,y\n"
    out = data_logic.ingest_upload(store, sid, data_url(text.encode(), "text/csv"), "f.csv", settings)
    assert out["dataset"]["n_rows"] == 4
    df = store.get_dataset(sid)
    assert df["note"].tolist()[:2] == ["=cmd|' /C calc'!A0", "@SUM(1+1)"]


def test_job_queue_accepts_json_only(settings):
    from infoimb.web.celery_manager import make_celery

    celery = make_celery(settings.replace(redis_url="redis://127.0.0.1:1/0"))  # not connected
    conf = celery.conf
    assert conf.accept_content == ["json"] and conf.result_accept_content == ["json"]
    assert conf.task_serializer == "json" and conf.result_serializer == "json"
    assert conf.task_acks_late is False and conf.task_reject_on_worker_lost is False
    assert conf.result_expires == int(settings.job_timeout) + 3600


# --------------------------------------------------------------------------------------
# session data and results expire
# --------------------------------------------------------------------------------------
def test_idle_sessions_expire_with_their_data_and_results(store, settings):
    sid, client = session_with(store, settings, "gauss3d", 200)
    status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, settings)
    fresh, _ = session_with(store, settings, "gauss3d", 100)
    assert results_of(store, sid)
    now = time.time()
    os.utime(store.root / sid / ".last_access", (now - 120, now - 120))
    assert store.expire(60, now=now) == [sid]
    assert not (store.root / sid).exists() and store.exists(fresh)
    assert check_job(store, "compare", sid, compare_inputs("full", "col:x"), client, settings)["message"] == (
        "No data for this browser session (it may have expired): load the data on the Data page.")
    with pytest.raises(Exception, match="unknown or expired"):
        store.get_result(sid, status["content_hash"], "compare", status["key"])


def test_the_web_server_expires_idle_sessions_by_itself(dash_app):
    store, settings = runtime.get_store(), runtime.get_settings()
    sid, client = session_with(store, settings, "gauss3d", 100)
    status = run_job(store, "compare", sid, compare_inputs("full", "col:x"), client, settings)
    old = time.time() - settings.session_ttl - 60
    os.utime(store.root / sid / ".last_access", (old, old))
    runtime._state.pop("swept", None)  # as if the last sweep of this process was long ago
    assert dash_app.server.test_client().get("/healthz").status_code == 200  # any request
    assert not store.exists(sid)
    # its result can no longer be downloaded by anyone
    card = __import__("sys").modules["pages.compare"].CARD
    assert card.download("json", {"key": status["key"], "content_hash": status["content_hash"]}, sid) is None
    # and the sweep runs at most once a minute per process
    sid2, _ = session_with(store, settings, "gauss3d", 50)
    os.utime(store.root / sid2 / ".last_access", (old, old))
    assert runtime.expire_idle_sessions() == []
    assert store.exists(sid2)
    store.delete_session(sid2)


# --------------------------------------------------------------------------------------
# the embedded manager under many sessions
# --------------------------------------------------------------------------------------
def test_a_job_that_ends_while_it_is_stopped_does_not_fail_the_poll(dash_app, monkeypatch):
    """Dash 4.4.1's DiskcacheManager raised NoSuchProcess when a job process exited between
    its existence check and its kill, and the poll that had read the result answered 500."""
    import subprocess

    import psutil

    manager = dash_app._background_manager
    ended = subprocess.Popen(["true"])
    ended.wait()
    monkeypatch.setattr(psutil, "pid_exists", lambda pid: True)  # it existed at the check
    manager.terminate_job(ended.pid)  # no exception: the poll goes on and delivers the result


def test_two_analyses_in_one_process_run_one_after_the_other(store, settings):
    # Numba's workqueue layer (the web's, for fork safety) aborts the process when two threads
    # launch parallel kernels at once: the runner runs one analysis at a time per process
    import threading

    runs = [session_with(store, settings, "gauss3d", 1500) for _ in range(2)]
    out = [None, None]

    def go(i):
        sid, client = runs[i]
        out[i] = run_job(store, "compare", sid, compare_inputs("full", "col:x", extras=["features"]), client,
                         settings)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [o["status"] for o in out] == ["ok", "ok"]
    a, b = (store.get_result(runs[i][0], out[i]["content_hash"], "compare", out[i]["key"]) for i in range(2))
    assert a["result"]["main"]["a_to_b"] == b["result"]["main"]["a_to_b"]  # same table, same numbers
