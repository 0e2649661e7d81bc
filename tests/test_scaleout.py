"""Scale-out with real processes on 127.0.0.1: redis-server, a Celery worker started with
docker-compose.yml's worker command, and gunicorn with 2 workers started with the Dockerfile's
CMD (so the container path is tested without Docker's engine). The browser (dash_duo's driver)
and an HTTP client that speaks Dash's callback protocol go through gunicorn only.

- an analysis end to end in the browser, with progress, and a cancelled one;
- the Celery worker killed in the middle of a job: the page says so instead of waiting
  forever, the job's slot is freed, and a restarted worker serves the next job;
- 10 sessions at once, identical and different inputs: each gets its own correct result and
  cannot reach another's data or results (by session, by result key, by job handle);
- the limits over HTTP: refused before queueing with the limit in the message; a session's
  share of queued jobs; the upload size.

redis-server and chromium are Debian packages (``make system-deps``): without them these tests
skip, and under CI=true they fail.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from tests import servers as S

pytestmark = pytest.mark.scaleout

TIMEOUT = 90
LOST_AFTER = 5  # INFOIMB_WORKER_LOST_AFTER in these tests
MAX_CELLS = 100_000
MAX_SUBSETS = 300


def _need(binary: str) -> str:
    path = S.system_binary(binary)
    if path is None:
        message = f"{binary} is not installed (apt-get install redis-server; see scripts/system_deps.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"scale-out test under CI: {message}")
        pytest.skip(message)
    return path


class Stack:
    """redis-server, Celery worker(s) and gunicorn, as the deployment runs them."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.cache = tmp / "cache"
        self.procs: list[S.Proc] = []
        self.redis, self.redis_url = S.start_redis(tmp, _need("redis-server"))
        self.procs.append(self.redis)
        self.env = S.deploy_env(self.cache, port=S.free_port(), redis_url=self.redis_url,
                                WEB_CONCURRENCY=2, WEB_THREADS=4, INFOIMB_WORKER_LOST_AFTER=LOST_AFTER,
                                INFOIMB_JOB_TIMEOUT=120, INFOIMB_MAX_JOBS_PER_SESSION=2,
                                INFOIMB_MAX_CELLS=MAX_CELLS, INFOIMB_MAX_SUBSETS=MAX_SUBSETS,
                                INFOIMB_MAX_UPLOAD_MB=1, INFOIMB_NEW_SESSIONS_PER_MINUTE=1000)
        # both start at once; each waits for its own readiness
        self.worker = S.start_worker("w1", self.env, tmp, wait=False)
        self.procs.append(self.worker)
        self.web, self.base = S.start_gunicorn(self.env, tmp, wait=False)
        self.procs.append(self.web)
        S.wait_worker(self.worker)
        S.wait_gunicorn(self.web, self.base, 2)

    def restart_worker(self) -> None:
        self.worker = S.start_worker("w1", self.env, self.tmp)
        self.procs.append(self.worker)

    def slots(self, sid: str) -> list[Path]:
        return sorted((self.cache / "sessions" / sid / "jobs").glob("slot-*"))

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def logs(self) -> str:
        return "\n".join(f"===== {p.name}\n{p.log(3000)}" for p in self.procs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    _need("redis-server")
    stack = Stack(tmp_path_factory.mktemp("scaleout"))
    try:
        yield stack
    finally:
        stack.stop()
    for proc in stack.procs:
        assert not proc.alive(), proc.name


@pytest.fixture
def show_logs_on_failure(stack, request):
    """On failure, the servers' logs go to the terminal (past pytest's capture)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        sys.__stderr__.write(f"\n{stack.logs()}\n")


def test_the_stack_is_the_deployment(stack):
    body = requests.get(stack.base + "/healthz", timeout=10).json()
    assert body["status"] == "ok" and body["background"] == "celery" and body["redis"] == "ok"
    assert body["numba_threading_layer"] in ("workqueue", "tbb")
    assert stack.web.argv == S.dockerfile_cmd()
    assert stack.worker.argv[:len(S.worker_command())] == S.worker_command()
    # the image's HEALTHCHECK, run as it is, passes against this server
    check = S.subprocess.run(S.dockerfile_healthcheck(), env=stack.env, timeout=30, capture_output=True)
    assert check.returncode == 0, check.stderr
    # gunicorn runs 2 workers, each warmed through /healthz before serving
    assert stack.web.log(100_000).count(" warm: /healthz 200") == 2


# --------------------------------------------------------------------------------------
# the browser: progress, cancel, a killed worker
# --------------------------------------------------------------------------------------
def _pm(kind: str, analysis: str = "compare") -> str:
    return f"""[id='{{"analysis":"{analysis}","type":"{kind}"}}']"""


def _set_number(duo, selector: str, number: int) -> None:
    from selenium.webdriver.common.keys import Keys

    box = duo.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(number), Keys.TAB)


def _start_long_compare(duo) -> None:
    """Compare the energy with each of 241 features: a job of many seconds, with progress."""
    from tests.test_browser_data_compare import click

    click(duo, _pm("job-run"))
    duo.wait_for_contains_text(_pm("job-progress-bar"), "pair", timeout=TIMEOUT)
    bar = duo.find_element(_pm("job-progress-bar") + " .progress-bar")
    assert 0 < float(bar.get_attribute("aria-valuenow")) < 100
    assert duo.find_element(_pm("job-run")).get_attribute("disabled") == "true"


@pytest.mark.browser
@pytest.mark.usefixtures("show_logs_on_failure")
def test_browser_progress_cancel_and_a_killed_worker(dash_duo, stack):
    from tests.test_browser_data_compare import click, goto, load_example, pick

    dash_duo.server_url = stack.base
    dash_duo.wait_for_text_to_equal("#nav-dataset", "no data loaded", timeout=TIMEOUT)
    load_example(dash_duo, "descriptors", n=400)  # parsed and stored by the Celery worker
    dash_duo.wait_for_text_to_equal("#data-n-rows", "400 rows", timeout=TIMEOUT)
    sid = S.cookie_session(dash_duo.driver.get_cookie("infoimb_session")["value"])
    goto(dash_duo, "compare")
    pick(dash_duo, "#cmp-a", "Group: energy (1 column)")
    dash_duo.wait_for_contains_text("#cmp-b", "Full space (241 features)", timeout=TIMEOUT)
    click(dash_duo, "#cmp-estimator input[value='subsampled']")
    _set_number(dash_duo, "#cmp-n-queries", 150)
    click(dash_duo, "#cmp-extra input[value='features']")  # 242 pairs

    # 1. progress, then cancel: the task is stopped and the session's slot freed
    _start_long_compare(dash_duo)
    assert len(stack.slots(sid)) == 1  # claimed when the job was queued
    dash_duo.find_element(_pm("job-cancel")).click()
    dash_duo.wait_for_contains_text(_pm("job-status"), "Cancelled: the job was stopped", timeout=TIMEOUT)
    dash_duo.wait_for_element(_pm("job-run") + ":not([disabled])", timeout=TIMEOUT)
    S.wait_until(lambda: stack.slots(sid) == [], 20, "the cancelled job's slot is released")
    S.wait_until(lambda: "Terminating" in stack.worker.log(200_000) or "revoked" in stack.worker.log(200_000),
                 30, "the worker stops the cancelled task", stack.worker)

    # 2. the worker dies in the middle of a job: the page says so, the slot is freed
    _start_long_compare(dash_duo)
    assert len(stack.slots(sid)) == 1
    stack.worker.kill()
    dash_duo.wait_for_contains_text(_pm("job-status"), "The worker running this job stopped before it finished",
                                    timeout=TIMEOUT)
    dash_duo.wait_for_element(_pm("job-run") + ":not([disabled])", timeout=TIMEOUT)
    assert stack.slots(sid) == []
    assert stack.web.log(100_000).count("given up: The worker running this job stopped") == 1  # by its heartbeat

    # 3. the next job waits in the queue until a restarted worker serves it
    click(dash_duo, "#cmp-extra input[value='features']")  # one pair: quick
    click(dash_duo, _pm("job-run"))
    stack.restart_worker()
    dash_duo.wait_for_contains_text(_pm("job-status"), "Done in", timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#cmp-relation", "B contains A", timeout=TIMEOUT)
    assert "succeeded" in stack.worker.log(200_000)
    assert dash_duo.get_logs() == []


# --------------------------------------------------------------------------------------
# many sessions at once
# --------------------------------------------------------------------------------------
def _csv_url(df: pd.DataFrame) -> str:
    return "data:text/csv;base64," + base64.b64encode(df.to_csv(index=False).encode()).decode()


def _sinusoid(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(0, 1, n)
    return pd.DataFrame({"x1": x1, "x2": 5 * np.sin(25 * x1) + rng.normal(0, 0.5, n)})


def _compare(a, b, **kw):
    return {"a": a, "b": b, "k": 1, "metric": "euclidean", "estimator": "exact", "n_queries": 1000, "extras": [],
            **kw}


# (how the session loads its data, the comparison it runs): 4 identical, 6 different
PLANS = (
    [({"example": "gauss3d", "n": 300}, _compare("group:xy", "full"))] * 4
    + [({"example": "gauss3d", "n": 300}, _compare("group:x", "full"))] * 2
    + [({"example": "gauss3d", "n": 250}, _compare("group:xy", "full"))]
    + [({"upload": ("s%d.csv" % seed, seed)}, _compare("col:x1", "col:x2")) for seed in (1, 2, 3)]
)


def _reference(tmp: Path, plan) -> dict:
    """The same analysis run in this process, on a private store: the correct result."""
    from infoimb.web.analyses import imbalance  # noqa: F401
    from infoimb.web import data_logic
    from infoimb.web.config import Settings
    from infoimb.web.jobs import run_job
    from infoimb.web.scaling import default_scaling
    from infoimb.web.store import SessionStore

    settings = Settings(cache_dir=tmp, max_upload_mb=1)
    settings.ensure_dirs()
    store = SessionStore(settings.sessions_dir)
    sid = store.new_session()
    load, inputs = plan
    if "example" in load:
        out = data_logic.ingest_example(store, sid, load["example"], load["n"], settings)
        client = {"groups": out["groups"], "scaling": "none"}
    else:
        name, seed = load["upload"]
        data_logic.ingest_upload(store, sid, _csv_url(_sinusoid(seed, 300 + 20 * seed)), name, settings)
        client = {"scaling": default_scaling()}  # an upload starts z-scored (README: scaling)
    status = run_job(store, "compare", sid, inputs, client, settings)
    return store.get_result(sid, status["content_hash"], "compare", status["key"])


@pytest.mark.usefixtures("show_logs_on_failure")
def test_ten_sessions_at_once_get_their_own_results(stack, tmp_path):
    visitors = [S.Visitor(stack.base) for _ in PLANS]
    sids = [v.sid for v in visitors]
    assert len(set(sids)) == len(sids)
    statuses: list = [None] * len(PLANS)
    errors: list = []
    start = threading.Barrier(len(PLANS))

    def session(i):
        try:
            visitor, (load, inputs) = visitors[i], PLANS[i]
            start.wait(30)
            # one load each, no retry: a job that ended between Dash's two looks at it (its
            # result, then its state) used to come back with no update (fixed in the managers)
            if "example" in load:
                out = visitor.load(example=load["example"], n=load["n"], timeout=TIMEOUT)
            else:
                name, seed = load["upload"]
                out = visitor.load(upload=(name, _csv_url(_sinusoid(seed, 300 + 20 * seed))), timeout=TIMEOUT)
            assert S.value(out, "data-message-store")["color"] == "success", out
            statuses[i] = visitor.run("compare", inputs, timeout=2 * TIMEOUT)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append((i, repr(err)))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(PLANS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(4 * TIMEOUT)
    assert errors == [] and all(s is not None for s in statuses), (errors, statuses)

    references = {}
    records = []
    for i, (visitor, status, plan) in enumerate(zip(visitors, statuses, PLANS)):
        assert status["status"] == "ok" and status["cached"] is False, status  # no memo across sessions
        shown = {"key": status["key"], "content_hash": status["content_hash"]}
        record = json.loads(visitor.download("compare", shown)["content"])
        key = json.dumps(plan, sort_keys=True)
        if key not in references:
            references[key] = _reference(tmp_path / f"ref{len(references)}", plan)
        expected = references[key]
        assert record["dataset"]["content_hash"] == expected["dataset"]["content_hash"]
        assert record["settings"] == expected["settings"]
        main, want = record["result"]["main"], expected["result"]["main"]
        assert main["a_to_b"] == pytest.approx(want["a_to_b"], rel=1e-12)
        assert main["b_to_a"] == pytest.approx(want["b_to_a"], rel=1e-12)
        records.append((visitor, shown, record))
    # identical inputs gave identical results, different inputs different ones
    assert len({r["result"]["main"]["a_to_b"] for _, _, r in records[:4]}) == 1
    assert len({round(r["result"]["main"]["a_to_b"], 9) for _, _, r in records}) == 6

    # nobody reaches another session's data or results
    for i, (visitor, shown, record) in enumerate(records):
        # the next session whose result differs (identical inputs have the same key: the same
        # request then reads the session's own copy)
        other_visitor, other_shown, other_record = next(
            records[(i + j) % len(records)] for j in range(1, len(records)) if records[(i + j) % len(records)][1] != shown)
        assert visitor.download("compare", other_shown) is None  # another's result key, own session
        table = visitor.table()
        assert record["dataset"]["filename"] in json.dumps(table)
        if other_record["dataset"]["filename"] != record["dataset"]["filename"]:
            assert other_record["dataset"]["filename"] not in json.dumps(table)
        # forged cookies (the other's id, unsigned or with a borrowed signature) are no session
        payload = base64.urlsafe_b64encode(json.dumps({"_permanent": True, "sid": other_visitor.sid},
                                                      separators=(",", ":")).encode()).decode().rstrip("=")
        borrowed = payload + "." + visitor.cookie.split(".", 1)[1]  # another's id, my signature
        forged_cookies = (json.dumps({"sid": other_visitor.sid}), "0" * 32, borrowed)
        for forged in forged_cookies:
            assert visitor.download("compare", other_shown, cookie=forged) is None
            assert other_record["dataset"]["filename"] not in json.dumps(visitor.table(cookie=forged))
    # a forged cookie gets a fresh, empty session; a returning browser its own table
    fresh = S.Visitor(stack.base, cookie=json.dumps({"sid": "0" * 32}))
    assert fresh.sid not in ("0" * 32, *sids) and fresh.dataset is None
    back = S.Visitor(stack.base, cookie=visitors[7].cookie)
    assert back.sid == visitors[7].sid and back.dataset["filename"] == "s1.csv"

    # a job's handles are bound to its page load: another page cannot read its result
    owner, thief = visitors[0], visitors[1]
    job = owner.start("compare", _compare("group:y", "group:z"))
    stolen = S.Job(thief.client, job.payload, job.cache_key, job.job)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and stolen.poll_once() is None:
        time.sleep(0.3)
    assert stolen.result == {"response": None}  # Dash's signed handles: nothing for the thief
    result = S.value(job.wait(TIMEOUT).get("response"), "job-result-compare")
    assert result["status"] == "ok"
    assert thief.download("compare", {"key": result["key"], "content_hash": result["content_hash"]}) is None


# --------------------------------------------------------------------------------------
# limits over HTTP
# --------------------------------------------------------------------------------------
@pytest.mark.usefixtures("show_logs_on_failure")
def test_limits_over_http(stack):
    v = S.Visitor(stack.base)
    # upload size: the server refuses a request too large for the limit; a file just over it
    # is refused with the limit in the message
    big = "data:text/csv;base64," + base64.b64encode(b"x\n" + b"1.0\n" * 300_000).decode()  # 1.1 MB
    out = v.load(upload=("big.csv", big))
    assert S.value(out, "data-message-store")["text"] == "big.csv is 1.1 MB; the limit is 1.0 MB"
    request = {"output": "x.data", "inputs": [{"id": "x", "property": "data", "value": "a" * 2_600_000}]}
    assert requests.post(stack.base + "/_dash-update-component", json=request, timeout=30).status_code == 413

    # points x features: an upload over INFOIMB_MAX_CELLS is refused when it arrives (issue 8),
    # so no analysis of it can be queued; the analysis-level check (refused before queueing,
    # for tables made by preprocessing) is tested in test_limits.py
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.integers(0, 9, size=(12_000, 10)), columns=[f"c{j}" for j in range(10)])
    out = v.load(upload=("wide.csv", _csv_url(wide)))
    message = S.value(out, "data-message-store")
    assert message["color"] == "danger" and message["text"].startswith(
        "wide.csv has 12,000 rows × 10 columns = 120,000 cells") and message["text"].endswith(
        f"the limit is {MAX_CELLS:,} cells")
    assert not (stack.cache / "sessions" / v.sid / "meta.json").exists()

    # subsets of an exhaustive search
    p = S.Visitor(stack.base)
    p.load(example="policy_panel", n=10)
    job = p.start("select", {"candidates": "group:policies", "target": "group:epidemic_state", "lag": 2,
                             "method": "exhaustive", "max_features": 4, "criterion": "a_to_b", "k": 1,
                             "estimator": "subsampled", "n_queries": 100, "n_random": 0, "dummy": ["dummy"]})
    assert job.job.startswith("answered-")
    status = S.value(job.wait(TIMEOUT)["response"], "job-result-select")
    assert "needs 561 subsets, more than the limit of 300 (INFOIMB_MAX_SUBSETS)" in status["message"]

    # a session's share of jobs: 2 queued or running, the third refused at once
    d = S.Visitor(stack.base)
    d.load(example="descriptors", n=300)
    long = _compare("group:energy", "full", extras=["features"], estimator="subsampled", n_queries=150)
    jobs = [d.start("compare", dict(long, k=k)) for k in (1, 2)]
    assert all(not j.job.startswith("answered-") for j in jobs)
    assert len(stack.slots(d.sid)) == 2
    third = d.start("compare", dict(long, k=3))
    assert third.job.startswith("answered-")
    status = S.value(third.wait(TIMEOUT)["response"], "job-result-compare")
    assert status["message"] == "This session already runs 2 analyses; wait for one to finish or cancel it."
    other = S.Visitor(stack.base)  # another session is not affected
    other.load(example="gauss3d", n=100)
    queued = other.start("compare", _compare("group:x", "group:y"))
    assert not queued.job.startswith("answered-")
    for j in jobs:  # cancelled: their slots are released, whether they ran or waited
        d.cancel("compare", j)
    S.wait_until(lambda: stack.slots(d.sid) == [], 20, "the cancelled jobs' slots are released")
    assert S.value(queued.wait(2 * TIMEOUT)["response"], "job-result-compare")["status"] == "ok"
    again = d.start("compare", _compare("group:energy", "full"))
    assert not again.job.startswith("answered-")
    assert S.value(again.wait(2 * TIMEOUT)["response"], "job-result-compare")["status"] == "ok"
    assert re.search(r"redis", requests.get(stack.base + "/healthz", timeout=10).text)


@pytest.mark.usefixtures("show_logs_on_failure")
def test_a_job_over_its_time_limit_is_stopped_in_its_worker(stack):
    """The time limit holds where the job runs: a worker started with INFOIMB_JOB_TIMEOUT=2."""
    stack.worker.stop()
    short = S.start_worker("w-short", dict(stack.env, INFOIMB_JOB_TIMEOUT="2"), stack.tmp)
    stack.procs.append(short)
    v = S.Visitor(stack.base)
    v.load(example="descriptors", n=300)
    long = _compare("group:energy", "full", extras=["features"])  # 242 pairs, every point a query
    status = v.run("compare", long, timeout=TIMEOUT)
    assert status["status"] == "error" and status["message"] == (
        "Stopped: the analysis ran longer than the limit of 2 s (INFOIMB_JOB_TIMEOUT). "
        "Use fewer points (subsampled queries) or fewer features.")
    assert stack.slots(v.sid) == []
    assert list((stack.cache / "sessions" / v.sid).glob("results/*/compare/*.json")) == []
    # the worker goes on serving
    assert v.run("compare", _compare("group:energy", "full"), timeout=TIMEOUT)["status"] == "ok"
