"""The analyses on a real Dask cluster (a scheduler and two workers on 127.0.0.1, started
here) give the same numbers as the local run; progress, cancellation and a killed worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import cluster

pytestmark = pytest.mark.cluster
distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()  # no graceful shutdown needed: nothing is kept
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dask_cluster():
    """(client, {worker name: process}); torn down whatever happens."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = {}
    common = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs["scheduler"] = subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        **common)
    client = None
    try:
        for name in ("w1", "w2"):
            procs[name] = subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1", "--name", name, "--death-timeout", "30"], **common)
        client = distributed.Client(address, timeout=30, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        yield client, procs
    finally:
        if client is not None:
            client.close(timeout=5)
        for name in ("w1", "w2", "scheduler"):
            if name in procs:
                _stop(procs[name])


def _selection_data():
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(700, 8)) * 2) / 2
    y = X[:, 1] + 0.5 * X[:, 4]
    return X, y


def test_greedy_selection_identical(dask_cluster):
    client, _ = dask_cluster
    X, y = _selection_data()
    kw = dict(method="greedy", max_features=3, k=2, n_queries=400, n_random=3, dummy=True)
    local = infoimb.select_features(X, y, random_state=7, **kw)
    calls = []
    remote = infoimb.select_features(X, y, random_state=7, client=client,
                                     progress=lambda f, m: calls.append((f, m)), **kw)
    assert remote.steps == local.steps
    pd.testing.assert_frame_equal(remote.candidates, local.candidates, check_exact=True)
    assert remote.steps[0].features == ("x1",) and "dummy_noise" not in remote.selected
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("subsets evaluated" in m for _, m in calls)


def test_lag_scan_identical(dask_cluster):
    client, _ = dask_cluster
    rng = np.random.default_rng(1)
    x = rng.normal(size=600)
    df = pd.DataFrame({"t": np.arange(600), "x": x,
                       "y": np.r_[0.0, 0.0, x[:-2]] + 0.1 * rng.normal(size=600)})
    kw = dict(lags=range(-3, 4), time="t", n_queries=300)
    local = infoimb.lag_scan(df, "x", "y", random_state=3, n_bootstrap=50, **kw)
    calls = []
    remote = infoimb.lag_scan(df, "x", "y", random_state=3, n_bootstrap=50, client=client,
                              progress=lambda f, m: calls.append(m), **kw)
    pd.testing.assert_frame_equal(remote.to_frame(), local.to_frame(), check_exact=True)
    assert remote.best_lag == local.best_lag == 2 and remote.arrow == "future"
    np.testing.assert_array_equal(remote.forward_ci, local.forward_ci)
    assert len(calls) == 7 and all(m.startswith("lag ") for m in calls)


def test_causality_identical(dask_cluster):
    client, _ = dask_cluster
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    y = np.zeros(500)
    for t in range(1, 500):
        y[t] = 0.3 * y[t - 1] + x[t - 1] + 0.1 * rng.normal()
    kw = dict(tau=1, alphas=np.linspace(0, 1, 6), n_queries=300, random_state=4,
              n_surrogates=9)
    local = infoimb.causality_test(x, y, **kw)
    remote = infoimb.causality_test(x, y, client=client, **kw)
    # everything, surrogate nulls and p-values included
    assert json.dumps(remote.to_dict(), sort_keys=True, default=str) == \
        json.dumps(local.to_dict(), sort_keys=True, default=str)
    for a, b in ((local.x_to_y, remote.x_to_y), (local.y_to_x, remote.y_to_x)):
        np.testing.assert_array_equal(b.delta, a.delta)
        np.testing.assert_array_equal(b.delta_se, a.delta_se)
        assert (b.gain, b.gain_se, b.alpha_star) == (a.gain, a.gain_se, a.alpha_star)
    assert remote.verdict == local.verdict
    one = infoimb.imbalance_gain(x, y, client=client, **kw)
    np.testing.assert_array_equal(one.delta, local.x_to_y.delta)


def test_query_blocks_and_the_environment_variable(dask_cluster, monkeypatch):
    client, _ = dask_cluster
    X = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]
    local = infoimb.imbalance_pair(X, X[:, :1], n_queries=600, random_state=2)
    monkeypatch.setattr(cluster, "SHARD_MIN_WORK", 0)
    remote = infoimb.imbalance_pair(X, X[:, :1], n_queries=600, random_state=2, client=client)
    assert remote == local
    exact = infoimb.imbalance_pair(X, X[:, :1], client=client)
    assert (round(exact.a_to_b, 6), round(exact.b_to_a, 6)) == (0.063748, 0.548194)
    # INFOIMB_DASK_ADDRESS alone sends the work to the cluster (a client connected and closed)
    monkeypatch.setenv(cluster.ENV_ADDRESS, client.scheduler.address)
    with cluster.get_executor() as ex:
        assert not ex.local and ex.n_workers == 2
    assert infoimb.imbalance_pair(X, X[:, :1], n_queries=600, random_state=2) == local


def test_cancel_from_progress_stops_the_tasks(dask_cluster):
    client, _ = dask_cluster
    X, y = _selection_data()

    def cancel(fraction, message):
        raise infoimb.Cancelled("stop")

    with pytest.raises(infoimb.Cancelled, match="stop"):
        infoimb.select_features(X, y, method="greedy", max_features=3, client=client,
                                progress=cancel)
    deadline = time.monotonic() + 20
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(client.processing().values())


def test_bad_client_is_refused():
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        infoimb.select_features(np.zeros((10, 2)), np.arange(10.0), client="tcp://x:1")


def test_local_executor_and_blocks(monkeypatch):
    monkeypatch.delenv(cluster.ENV_ADDRESS, raising=False)
    calls = []
    with cluster.get_executor() as ex:
        assert ex.local and ex.share("data") == "data"
        out = ex.map(lambda shared, item: (shared, item * 2), [1, 2, 3], shared="s",
                     progress=lambda f, m: calls.append((f, m)), message=lambda i, r: f"item {i}")
    assert out == [("s", 2), ("s", 4), ("s", 6)]
    assert calls == [(1 / 3, "item 1"), (2 / 3, "item 2"), (1.0, "item 3")]
    assert cluster.blocks(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert cluster.blocks(2, 8) == [(0, 1), (1, 2)]
    assert "distributed" not in sys.modules or cluster.cluster_configured() is False


# --------------------------------------------------------------------------------------
# permutations, surrogates, the dashboard's job runner (before the test that kills w2)
# --------------------------------------------------------------------------------------
def test_permutation_pvalues_identical(dask_cluster, monkeypatch):
    client, _ = dask_cluster
    rng = np.random.default_rng(5)
    a = np.round(rng.normal(size=(300, 2)), 1)  # ties: the general (tied) null kernel
    b = a[:, :1] + 0.3 * rng.normal(size=(300, 1))
    kw = dict(n_permutations=29, random_state=11)
    local = infoimb.imbalance_pair(a, b, **kw)
    monkeypatch.setattr(cluster, "SHARD_MIN_WORK", 0)
    calls = []
    shared_calls = []
    real_share = cluster.DaskExecutor.share

    def counting_share(self, data):
        shared_calls.append(type(data).__name__)
        return real_share(self, data)

    monkeypatch.setattr(cluster.DaskExecutor, "share", counting_share)
    from infoimb import significance as S
    real = S.null_deltas_sharded
    monkeypatch.setattr(S, "null_deltas_sharded",
                        lambda *a_, **k_: calls.append(1) or real(*a_, **k_))
    remote = infoimb.imbalance_pair(a, b, client=client, **kw)
    assert calls == [1]  # the null went to the cluster
    assert shared_calls == ["tuple", "tuple"]  # once for the query blocks, once for the null
    assert remote == local
    assert (remote.p_a_to_b, remote.p_b_to_a) == (local.p_a_to_b, local.p_b_to_a)
    assert remote.p_a_to_b == pytest.approx(1 / 30)  # b is a noisy copy of a's first column
    # the blocks reproduce the local null exactly, permutation by permutation
    sa, sb = infoimb.imbalance._pair_spaces(a, b, metric="euclidean", period=None, weights=None)
    perms = S.permutations(300, 29, np.random.default_rng(3), canon=S.canonical_order(sa, sb))
    here = S.null_deltas(sa, sb, 1, perms, S.no_theiler(300))
    there = S.null_deltas_sharded(sa, sb, 1, perms, S.no_theiler(300), client)
    np.testing.assert_array_equal(there[0], here[0])
    np.testing.assert_array_equal(there[1], here[1])


def _graph_data():
    rng = np.random.default_rng(2)
    n = 300
    X, Y, Z = rng.normal(size=n), np.zeros(n), np.zeros(n)
    for t in range(1, n):
        Y[t] = 0.5 * Y[t - 1] + X[t - 1] + 0.1 * rng.normal()
        Z[t] = 0.5 * Z[t - 1] + Y[t - 1] + 0.1 * rng.normal()
    return pd.DataFrame({"X": X, "Y": Y, "Z": Z})


def test_causal_graph_identical(dask_cluster):
    client, _ = dask_cluster
    df = _graph_data()
    kw = dict(n_surrogates=39, alpha=0.1, alphas=[0, 0.5, 1], random_state=0)
    local = infoimb.causal_graph(df, **kw)
    calls = []
    remote = infoimb.causal_graph(df, client=client, progress=lambda f, m: calls.append((f, m)),
                                  **kw)
    pd.testing.assert_frame_equal(remote.tested, local.tested, check_exact=True)
    pd.testing.assert_frame_equal(remote.edges, local.edges, check_exact=True)
    assert json.dumps(remote.to_dict(), sort_keys=True, default=str) == \
        json.dumps(local.to_dict(), sort_keys=True, default=str)
    assert sorted(map(tuple, remote.edges[["cause", "effect"]].values.tolist())) == \
        [("X", "Y"), ("Y", "Z")]
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum("pairwise: drivers of" in m for _, m in calls) == 3
    assert sum("conditioning: drivers of" in m for _, m in calls) == 3


def _web_job(tmp_path, report):
    """A Select job of the dashboard through its job runner (own cache: no memo hit)."""
    from infoimb.web import data_logic
    from infoimb.web.config import Settings
    from infoimb.web.jobs import run_job
    from infoimb.web.store import SessionStore

    settings = Settings(cache_dir=tmp_path, job_timeout=300)
    settings.ensure_dirs()
    store = SessionStore(settings.sessions_dir)
    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "gauss3d", 400, settings)
    assert out["dataset"] is not None, out["message"]
    client = {"groups": out["groups"], "scaling": "none"}
    from infoimb.web.analyses import selection
    from infoimb.web.fields import form_values

    # the page's default control values for this table, as the Select page's card fills them
    inputs = form_values(selection.ANALYSIS, store.get_meta(sid), client, {}, restore=True,
                         data_changed=False)["values"]
    inputs = dict(inputs) | {"method": "greedy"}
    status = run_job(store, "select", sid, inputs, client, settings, report=report)
    record = (store.get_result(sid, status["content_hash"], "select", status["key"])
              if status["status"] == "ok" else None)
    return status, record


def test_dashboard_job_runs_on_the_cluster_and_cancels(dask_cluster, monkeypatch, tmp_path):
    client, _ = dask_cluster
    monkeypatch.delenv(cluster.ENV_ADDRESS, raising=False)
    local_status, local_record = _web_job(tmp_path / "local", None)
    assert local_status["status"] == "ok", local_status
    monkeypatch.setenv(cluster.ENV_ADDRESS, client.scheduler.address)
    submitted = []
    real_map = cluster.DaskExecutor.map
    monkeypatch.setattr(cluster.DaskExecutor, "map",
                        lambda self, fn, items, **kw: submitted.append(fn.__name__)
                        or real_map(self, fn, items, **kw))
    reports = []
    status, record = _web_job(tmp_path / "cluster", reports.append)
    assert status["status"] == "ok" and not status["cached"], status
    assert set(submitted) == {"_cluster_values"}  # every step's subsets ran on Dask
    n_maps = len(submitted)
    assert record["result"] == local_record["result"]
    assert len(reports) > 2 and reports[-1] == {"value": 100.0, "label": "100% · done"}
    assert any("subsets evaluated" in r["label"] for r in reports)

    # Cancel: the progress report raises once the cluster is computing (the runner's
    # throttle of the reports set to 0, so that the first task's report reaches it)
    from infoimb.web.jobs import runner
    monkeypatch.setattr(runner.Progress, "MIN_INTERVAL", 0.0)
    def cancel(report):
        if submitted_before < len(submitted):
            raise infoimb.Cancelled("cancelled by the user")
    submitted_before = len(submitted)
    status, record = _web_job(tmp_path / "cancel", cancel)
    assert status["status"] == "error" and record is None, status
    assert 1 <= len(submitted) - submitted_before < n_maps  # stopped before the end
    assert "cancelled by the user" in status["message"]

    def n_tasks(dask_scheduler=None):  # defined here: pickled by value for the scheduler
        return len(dask_scheduler.tasks)

    deadline = time.monotonic() + 20
    while client.run_on_scheduler(n_tasks) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.run_on_scheduler(n_tasks) == 0


JOB = """
import os, sys, numpy as np, infoimb
rng = np.random.default_rng(9)
X = rng.normal(size=(3000, 12))
def progress(fraction, message):
    print("progress", flush=True)
infoimb.select_features(X, X[:, 3] - X[:, 7], method="greedy", max_features=6,
                        progress=progress)
print("finished", flush=True)
"""


def test_killing_the_job_process_releases_its_cluster_tasks(dask_cluster):
    """The dashboard's Cancel kills the job's process: its tasks leave the scheduler."""
    client, _ = dask_cluster

    def n_tasks(dask_scheduler=None):
        return len(dask_scheduler.tasks)

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env[cluster.ENV_ADDRESS] = client.scheduler.address
    job = subprocess.Popen([sys.executable, "-c", JOB], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        assert job.stdout.readline().strip() == "progress"  # the cluster is computing
        running = client.run_on_scheduler(n_tasks)
        assert job.poll() is None and running > 0
        job.kill()
        job.wait(timeout=10)
    finally:
        _stop(job)
    deadline = time.monotonic() + 20
    while client.run_on_scheduler(n_tasks) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.run_on_scheduler(n_tasks) == 0


# --------------------------------------------------------------------------------------
# failure paths, on a cluster of their own (its workers die)
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fragile_cluster():
    """A scheduler that gives a task up after it killed 2 workers, and one worker under a
    nanny (a killed worker is restarted). (address, {name: process})."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1",
               DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = {"scheduler": subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        **common)}
    try:
        procs["f1"] = subprocess.Popen(
            [str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard",
             "--host", "127.0.0.1", "--name", "f1", "--death-timeout", "30"], **common)
        yield address, procs
    finally:
        for name in ("f1", "f2", "scheduler"):
            if name in procs:
                _stop_gently(procs[name])


def _stop_gently(proc: subprocess.Popen) -> None:
    """SIGTERM (a nanny then closes its worker), SIGKILL if that does not do it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _stop(proc)


def test_a_task_that_keeps_killing_workers_stops_the_analysis(fragile_cluster, monkeypatch):
    address, procs = fragile_cluster
    monkeypatch.setenv(cluster.ENV_NO_WORKER_TIMEOUT, "45")  # a restart takes a few seconds (more on a cold machine)
    client = distributed.Client(address, timeout=30, set_as_default=False)
    try:
        client.wait_for_workers(1, timeout=60)

        def crash(shared, item):  # defined here: pickled by value
            if item == 2:
                os._exit(1)  # the worker process dies (its nanny starts a new one)
            return item

        with cluster.get_executor(client) as ex, \
                pytest.raises(RuntimeError, match="a task of crash killed the Dask workers|"
                                                  r"had no worker for 45 s \(\d+ task\(s\) of crash left\)"):
            # either way the analysis stops with a clear message and nothing hangs; which one depends
            # on whether the nanny's restarted worker arrives before the no-worker timeout
            ex.map(crash, [0, 1, 2, 3])  # no shared data: the worker's death loses none
    finally:
        client.close(timeout=5)


def test_no_worker_left_is_a_clear_error(fragile_cluster, monkeypatch):
    address, procs = fragile_cluster
    monkeypatch.setenv(cluster.ENV_NO_WORKER_TIMEOUT, "1.5")
    monkeypatch.setenv(cluster.ENV_ADDRESS, address)
    _stop_gently(procs["f1"])  # the previous test's worker (under a nanny that may be restarting it)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")
    procs["f2"] = subprocess.Popen(
        [str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard", "--no-nanny",
         "--host", "127.0.0.1", "--name", "f2", "--death-timeout", "30"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with cluster.get_executor() as ex:
        ex.client.wait_for_workers(1, timeout=120)
        _stop_gently(procs["f2"])  # the cluster's only worker goes away for good

        def slow(shared, item):
            time.sleep(30)
            return item

        t0 = time.monotonic()
        with pytest.raises(RuntimeError,
                           match=r"had no worker for 1\.5 s \(2 task\(s\) of slow left\)"):
            ex.map(slow, [0, 1])
        assert time.monotonic() - t0 < 25  # the timeout ended it, not the tasks


def test_no_worker_timeout_setting(monkeypatch):
    monkeypatch.delenv(cluster.ENV_NO_WORKER_TIMEOUT, raising=False)
    assert cluster.no_worker_timeout() == 60.0
    monkeypatch.setenv(cluster.ENV_NO_WORKER_TIMEOUT, "2.5")
    assert cluster.no_worker_timeout() == 2.5
    for bad in ("0", "-1", "soon", "inf"):
        monkeypatch.setenv(cluster.ENV_NO_WORKER_TIMEOUT, bad)
        with pytest.raises(ValueError, match="INFOIMB_DASK_NO_WORKER_TIMEOUT must be a positive"):
            cluster.no_worker_timeout()


def test_cli_algorithm_and_dask(dask_cluster, tmp_path, capsys):
    from infoimb.cli import main

    client, _ = dask_cluster
    rng = np.random.default_rng(4)
    X = np.round(rng.normal(size=(400, 3)), 1)
    path = tmp_path / "t.csv"
    pd.DataFrame(X, columns=["a", "b", "c"]).to_csv(path, index=False)
    outs = []
    for extra in ([], ["--algorithm", "tree"], ["--algorithm", "brute"],
                  ["--dask", client.scheduler.address]):
        assert main(["pair", str(path), "--a", "a,b", "--b", "c", "--json", "--seed", "1",
                     "--permutations", "9", *extra]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[2] == outs[0] and outs[3] == outs[0]  # brute (auto at this N); on the cluster
    for key in ("a_to_b", "b_to_a"):  # the exact tree: the same Delta to rounding
        assert abs(outs[1][key] - outs[0][key]) < 1e-12
    assert (outs[1]["p_a_to_b"], outs[1]["p_b_to_a"]) == (outs[0]["p_a_to_b"], outs[0]["p_b_to_a"])
    assert cluster.ENV_ADDRESS not in os.environ  # --dask does not leak into the process
    with pytest.raises(SystemExit):
        main(["lags", str(path), "--source", "a", "--target", "b", "--time", "c",
              "--algorithm", "sideways"])
    assert "invalid choice: 'sideways'" in capsys.readouterr().err
    select = ["select", str(path), "--target", "c", "--json", "--quiet", "--seed", "2",
              "--algorithm", "tree"]
    assert main([*select, "--dask", client.scheduler.address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert main(select) == 0
    assert remote == json.loads(capsys.readouterr().out)


def test_a_killed_worker_does_not_stop_the_analysis(dask_cluster):
    """Runs last in this module: it kills worker w2."""
    client, procs = dask_cluster
    rng = np.random.default_rng(9)
    X = rng.normal(size=(1500, 12))
    y = X[:, 3] - X[:, 7]
    kw = dict(method="greedy", max_features=4, random_state=0)
    local = infoimb.select_features(X, y, **kw)
    killed = []

    def kill_once(fraction, message):
        if not killed:
            os.kill(procs["w2"].pid, signal.SIGKILL)
            killed.append(fraction)

    remote = infoimb.select_features(X, y, client=client, progress=kill_once, **kw)
    assert killed and killed[0] < 1.0
    assert remote.steps == local.steps
    pd.testing.assert_frame_equal(remote.candidates, local.candidates, check_exact=True)
    procs["w2"].wait(timeout=10)
