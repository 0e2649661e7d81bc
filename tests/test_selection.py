"""Feature selection: known answers, exactness against the pair engine, every method, errors."""

import itertools

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import Cancelled
from infoimb.selection import n_subsets, select_features


@pytest.fixture(scope="module")
def linear_target():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    return X, 3 * X[:, 0] - 10 * X[:, 2]


@pytest.fixture(scope="module")
def twenty():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 20))
    return X, X[:, [2, 7, 13]]


def test_linear_target_selects_0_and_2(linear_target):
    X, y = linear_target
    for method in ("exhaustive", "greedy", "beam", "backward"):
        r = select_features(X, y, method=method, max_features=3, n_best=3)
        assert set(r.best(2).features) == {"x0", "x2"}, method
        assert r.suggested_size == 2, method
        assert r.best(1).features == ("x2",), method  # the larger coefficient first


def test_every_candidate_equals_the_pair_engine(linear_target):
    X, y = linear_target
    r = select_features(X, y, method="exhaustive", max_features=2)
    assert len(r.candidates) == 5 + 10
    for _, row in r.candidates.iterrows():
        idx = [int(f[1:]) for f in row["features"].split(";")]
        p = infoimb.imbalance_pair(X[:, idx], y)
        assert row["a_to_b"] == pytest.approx(p.a_to_b, abs=1e-12)
        assert row["b_to_a"] == pytest.approx(p.b_to_a, abs=1e-12)
        assert row["a_to_b_se"] == pytest.approx(p.a_to_b_se, abs=1e-12)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
@pytest.mark.parametrize("k", [1, 3])
def test_exact_on_tied_integer_data(metric, k):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(150, 4)).astype(float)
    y = X[:, 1] + rng.integers(0, 2, size=150)
    r = select_features(X, y, method="exhaustive", max_features=3, metric=metric, k=k)
    for _, row in r.candidates.iterrows():
        idx = [int(f[1:]) for f in row["features"].split(";")]
        p = infoimb.imbalance_pair(X[:, idx], y, metric=metric, k=k)
        assert row["a_to_b"] == pytest.approx(p.a_to_b, abs=1e-12)
        assert row["b_to_a"] == pytest.approx(p.b_to_a, abs=1e-12)


def test_periodic_features_in_selection():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, size=(300, 3))
    y = np.sin(2 * np.pi * X[:, 1])
    r = select_features(X, y, method="exhaustive", max_features=2, period={"x1": 1.0})
    p = infoimb.imbalance_pair(X[:, [1]], y, period={"a0": 1.0})
    assert r.best(1).features == ("x1",)
    assert r.best(1).a_to_b == pytest.approx(p.a_to_b, abs=1e-12)


def test_beam_and_greedy_recover_2_7_13(twenty):
    X, T = twenty
    for method in ("beam", "greedy"):
        r = select_features(X, T, method=method, max_features=4, n_best=10)
        assert set(r.best(3).features) == {"x2", "x7", "x13"}, method
        assert r.suggested_size == 3, method
    r = select_features(X, T, method="beam", max_features=4, n_best=10)
    # 20 + 10*19 + 10*18 + 10*17 minus duplicates merged by the beam
    assert 400 < len(r.candidates) <= 20 + 190 + 180 + 170


def test_dummy_is_never_selected(twenty):
    X, T = twenty
    r = select_features(X, T, method="greedy", max_features=6, dummy=True, random_state=1)
    assert r.dummy == "dummy_noise"
    assert "dummy_noise" in r.columns
    for step in r.steps[:3]:
        assert "dummy_noise" not in step.features
    # it is among the candidates evaluated at every size
    assert r.candidates["features"].str.contains("dummy_noise").sum() >= 6


def test_compression_without_target(twenty):
    X, _ = twenty
    Z = X[:, :3].copy()
    Z[:, 2] = Z[:, 0] + 1e-3 * Z[:, 1]  # column 2 is nearly a copy of column 0
    r = select_features(Z, None, method="exhaustive", max_features=3)
    assert r.target_columns is None
    assert r.best(3).a_to_b == pytest.approx((1 + 1) / 2000, abs=1e-12)  # full space: floor
    assert set(r.best(2).features) in ({"x0", "x1"}, {"x1", "x2"})


def test_random_baseline_and_symmetric_criterion(twenty):
    X, T = twenty
    r = select_features(X, T, method="greedy", max_features=3, n_random=8, random_state=0,
                        criterion="symmetric")
    for step in r.steps:
        assert np.isfinite(step.random_mean) and step.random_sd >= 0
        assert step.criterion == pytest.approx((step.a_to_b + step.b_to_a) / np.sqrt(2))
        assert step.criterion < step.random_mean  # selection beats random subsets
    frame = r.to_frame()
    assert list(frame["size"]) == [1, 2, 3]


def test_same_random_state_same_result(twenty):
    X, T = twenty
    kw = dict(method="greedy", max_features=3, n_queries=300, dummy=True, n_random=3)
    a = select_features(X, T, random_state=7, **kw)
    b = select_features(X, T, random_state=7, **kw)
    c = select_features(X, T, random_state=8, **kw)
    pd.testing.assert_frame_equal(a.candidates, b.candidates)
    assert a.to_frame().equals(b.to_frame())
    assert not a.candidates["a_to_b"].equals(c.candidates["a_to_b"])
    assert a.n_queries == 300


def test_subsampled_selection_close_to_exact(linear_target):
    X, y = linear_target
    exact = select_features(X, y, method="exhaustive", max_features=2)
    sub = select_features(X, y, method="exhaustive", max_features=2, n_queries=250, random_state=0)
    for e, s in zip(exact.steps, sub.steps):
        assert e.features == s.features
        assert abs(e.a_to_b - s.a_to_b) < 4 * s.a_to_b_se + 1e-9


def test_backward_covers_every_size(linear_target):
    X, y = linear_target
    r = select_features(X, y, method="backward")
    assert [s.size for s in r.steps] == [1, 2, 3, 4, 5]
    assert r.best(5).n_evaluated == 1
    assert set(r.best(2).features) == {"x0", "x2"}


def test_progress_reports_and_interrupts(linear_target):
    X, y = linear_target
    seen = []
    select_features(X, y, method="exhaustive", max_features=3,
                    progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(0 <= f <= 1 for f in fractions) and len(seen) >= 3

    calls = []

    def stop_after_first(fraction, message):
        calls.append(fraction)
        if len(calls) == 2:
            raise Cancelled("stopped by the user")

    with pytest.raises(Cancelled, match="stopped by the user"):
        select_features(X, y, method="exhaustive", max_features=3, progress=stop_after_first)
    assert len(calls) == 2


def test_dataframe_names_and_results_export():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(rng.normal(size=(200, 4)), columns=["temp", "press", "hum", "wind"])
    y = pd.Series(2 * df["press"] + 0.01 * rng.normal(size=200), name="load")
    r = select_features(df, y, method="exhaustive", max_features=2)
    assert r.best(1).features == ("press",)
    assert r.target_columns == ("load",)
    d = r.to_dict()
    assert d["steps"][0]["features"] == ["press"]
    assert d["candidates"]["features"][:4] == ["temp", "press", "hum", "wind"]


def test_n_subsets():
    assert n_subsets(20, 4) == sum(len(list(itertools.combinations(range(20), d))) for d in range(1, 5))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(method="exhaustive", max_features=8, max_subsets=1000), ValueError,
         r"exhaustive search over 10 features up to 8 features needs .* subsets.*use method='beam'"),
        (dict(method="simulated annealing"), ValueError, "method must be one of"),
        (dict(criterion="both"), ValueError, "criterion must be one of"),
        (dict(k=200), ValueError, "must be smaller than the number of points"),
        (dict(n_queries=500), ValueError, "larger than the number of points"),
        (dict(max_features=0), ValueError, "max_features must be at least 1"),
        (dict(n_best=0), ValueError, "n_best must be at least 1"),
        (dict(metric="precomputed"), ValueError, "needs features"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    X = np.random.default_rng(0).normal(size=(100, 10))
    with pytest.raises(error, match=match):
        select_features(X, X[:, 0] ** 2, **kwargs)


def test_bad_inputs():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"target column\(s\) \['c'\] are inside the candidate set"):
        select_features(df, df[["c"]])
    with pytest.raises(ValueError, match="x has 50 points but target has 49"):
        select_features(df, df["a"].iloc[:49].to_numpy())
    bad = df.copy()
    bad.loc[3, "b"] = np.nan
    with pytest.raises(ValueError, match="column 'b' has 1 NaN"):
        select_features(bad, None)
    with pytest.raises(ValueError, match="no candidate features"):
        select_features(df[[]], None)
    text = df.assign(c=["x"] * 50)
    with pytest.raises(ValueError, match=r"\['c'\] categorical and \['a', 'b'\] numeric"):
        select_features(text, None, metric="euclidean")
