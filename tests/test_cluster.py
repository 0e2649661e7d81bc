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
