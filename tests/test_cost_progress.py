"""Long runs: the cost estimate (a rate measured once per machine, cached) and progress
reported from inside the exact pair engine."""

import json

import numpy as np
import pytest

import infoimb
from infoimb import Cancelled
from infoimb._spaces import make_pair
from infoimb.cost import (SUBSAMPLE_ABOVE_SECONDS, EngineRate, cost_estimate, engine_rate,
                          estimate_seconds)
from infoimb.imbalance import pair_terms, pair_terms_with_progress, query_indices

RATE = EngineRate(base=1e-9, per_feature=2e-10, per_neighbour=1e-10, machine="test",
                  measured_at="2026-01-01T00:00:00Z")


def test_estimate_is_linear_in_the_work():
    assert estimate_seconds(200_000, 10, 10, rate=RATE) == pytest.approx(4e10 * 5e-9)
    assert estimate_seconds(200_000, 10, 10, n_queries=2000, rate=RATE) == pytest.approx(2.0)
    assert estimate_seconds(1000, 3, 2, k=5, rate=RATE) == pytest.approx(1e6 * (1e-9 + 1e-9 + 4e-10))
    assert estimate_seconds(1000, 0, 0, metric="precomputed", rate=RATE) == pytest.approx(1e-3)


def test_the_subsampled_estimator_is_proposed_above_the_threshold():
    c = cost_estimate(200_000, 10, 10, rate=RATE)
    assert c.exact and c.propose_subsample and c.seconds == pytest.approx(200.0)
    assert c.suggested_n_queries == 10_000 and c.suggested_seconds == pytest.approx(10.0)
    assert c.message == ("exact: about 3 min (N = 200,000, d = 10 + 10, k = 1). Above 30 s the "
                         "subsampled estimator is proposed: 10,000 random queries take about "
                         "10 s (unbiased, with a standard error)")
    small = cost_estimate(20_000, 3, 3, rate=RATE)  # 0.8 s
    assert not small.propose_subsample and small.suggested_n_queries is None
    assert small.seconds < SUBSAMPLE_ABOVE_SECONDS
    already = cost_estimate(200_000, 10, 10, n_queries=5000, rate=RATE)
    assert not already.propose_subsample and not already.exact
    assert cost_estimate(200_000, 10, 10, threshold_seconds=500, rate=RATE).propose_subsample is False
    assert c.to_dict()["suggested_n_queries"] == 10_000


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n must be at least 3, got 2"):
        estimate_seconds(2, 1, 1, rate=RATE)
    with pytest.raises(ValueError, match="d_a must be at least 1, got 0"):
        estimate_seconds(100, 0, 1, rate=RATE)
    with pytest.raises(ValueError, match="k must be between 1 and 99, got 100"):
        estimate_seconds(100, 1, 1, k=100, rate=RATE)
    with pytest.raises(ValueError, match="n_queries must be between 1 and 100, got 101"):
        estimate_seconds(100, 1, 1, n_queries=101, rate=RATE)
    with pytest.raises(ValueError, match="threshold_seconds must be positive, got 0"):
        cost_estimate(100, 1, 1, threshold_seconds=0, rate=RATE)


def test_the_rate_is_measured_once_and_cached(tmp_path, monkeypatch):
    import infoimb.cost as cost

    monkeypatch.setenv("INFOIMB_CACHE_DIR", str(tmp_path))
    measured = []
    real = cost.measure_rate
    monkeypatch.setattr(cost, "measure_rate", lambda: measured.append(1) or real(n=400, repeats=1))
    first = engine_rate()
    cached = json.loads((tmp_path / "engine_rate.json").read_text())
    assert cached == first.to_dict() and first.base > 0 and first.per_feature >= 0
    assert engine_rate() == first and len(measured) == 1  # read back, not measured again
    (tmp_path / "engine_rate.json").write_text(json.dumps(first.to_dict() | {"machine": "other"}))
    again = engine_rate()  # another machine's file: measured afresh
    assert len(measured) == 2 and again.machine == first.machine
    assert json.loads((tmp_path / "engine_rate.json").read_text())["machine"] == first.machine
    assert estimate_seconds(5000, 3, 2) == pytest.approx(
        25e6 * (again.base + 5 * again.per_feature))
    engine_rate(refresh=True)
    assert len(measured) == 3


@pytest.fixture
def every_chunk(monkeypatch):
    """Chunks of 1/100 of the queries whatever the speed (as in a job of 100 s or more)."""
    import infoimb.imbalance as imb

    monkeypatch.setattr(imb, "_PROGRESS_CHUNK_SECONDS", 0.0)


@pytest.mark.parametrize("streamed", [False, True])
def test_progress_from_inside_the_work_gives_identical_terms(streamed, every_chunk):
    X = np.random.default_rng(0).integers(0, 6, size=(3000, 3)).astype(float)  # ties too
    sa, sb = make_pair(X, X[:, :2])
    q = query_indices(sa.n, None)
    calls = []
    got = pair_terms_with_progress(sa, sb, 3, q, lambda f, m: calls.append((f, m)), streamed=streamed)
    want = pair_terms(sa, sb, 3, q, streamed=streamed)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    fractions = [f for f, _ in calls]
    assert len(calls) == 1 + 3000 // 64 + 1  # a start and one report per chunk of 64
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and np.all(np.diff(fractions) > 0)
    assert all(m.endswith(" s left") for _, m in calls[1:-1]) and calls[-1][1].endswith("done")
    assert calls[5][1].startswith("Δ both ways: 320 of 3,000 query points · about ")


def test_imbalance_pair_progress_and_interrupt(every_chunk):
    X = np.random.default_rng(1).normal(size=(8000, 2))
    calls = []
    p = infoimb.imbalance_pair(X, X[:, :1], progress=lambda f, m: calls.append(f), random_state=0,
                               algorithm="brute")
    assert len(calls) == 101  # 100 chunks: at least 20 updates in any job of 100 s or more
    assert p == infoimb.imbalance_pair(X, X[:, :1], random_state=0, algorithm="brute")
    # the k-d tree (low dimensions, large N) runs in one piece: a start and the end
    calls = []
    tree = infoimb.imbalance_pair(X, X[:, :1], progress=lambda f, m: calls.append(f),
                                  random_state=0, algorithm="tree")
    assert calls == [0.0, 1.0] and (tree.a_to_b, tree.b_to_a) == (p.a_to_b, p.b_to_a)

    def stop(fraction, message):
        if fraction > 0.3:
            raise Cancelled()
    with pytest.raises(Cancelled):
        infoimb.imbalance_pair(X, X[:, :1], progress=stop, algorithm="brute")
    with pytest.raises(TypeError, match="progress must be a callable"):
        infoimb.imbalance_pair(X, X[:, :1], progress=3)


def test_a_short_job_is_not_cut_into_pieces(monkeypatch):
    import infoimb.imbalance as imb

    monkeypatch.setattr(imb, "_PROGRESS_CHUNK_SECONDS", 1e9)  # any job is short against this
    X = np.random.default_rng(2).normal(size=(3000, 2))
    calls = []
    p = infoimb.imbalance_pair(X, X[:, :1], progress=lambda f, m: calls.append(f), random_state=0,
                               algorithm="brute")
    # the first chunk (1/100 of the queries, at least 64) tells the rate; the rest fits in one
    assert calls == [0.0, 64 / 3000, 1.0]
    assert p == infoimb.imbalance_pair(X, X[:, :1], random_state=0, algorithm="brute")
