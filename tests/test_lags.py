"""Lag scans on panel data: pairing within entities by time value, arrow of time, errors."""

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb.lags import lag_scan, select_lagged


def _driven_panel(n_entities=6, n_times=120, delay=2, seed=0):
    """y follows x with a delay, per entity; entities have different offsets in time."""
    rng = np.random.default_rng(seed)
    frames = []
    for e in range(n_entities):
        x = rng.normal(size=n_times)
        y = np.r_[rng.normal(size=delay), x[:-delay]] + 0.05 * rng.normal(size=n_times)
        t0 = 10 * e  # entities overlap in time but start at different times
        frames.append(pd.DataFrame({"id": f"e{e}", "t": np.arange(t0, t0 + n_times), "x": x, "y": y}))
    return pd.concat(frames, ignore_index=True)


def test_best_lag_and_arrow_of_time():
    df = _driven_panel()
    r = lag_scan(df, "x", "y", lags=range(-4, 5), time="t", group="id")
    assert r.best_lag == 2
    assert r.arrow == "future"
    assert r.forward[list(r.lags).index(2)] < 0.2
    assert r.forward[list(r.lags).index(-2)] > 0.8
    # pairs are formed within entities only: each entity gives n_times - |lag| pairs
    assert list(r.n_pairs) == [6 * (120 - abs(lag)) for lag in range(-4, 5)]
    assert "predicts the future" in r.verdict


def test_the_reverse_direction_reads_the_past():
    df = _driven_panel()
    r = lag_scan(df, "y", "x", lags=range(-3, 4), time="t", group="id")
    assert r.best_lag == -2
    assert r.arrow == "past"


def test_forward_value_equals_manual_pairs():
    df = _driven_panel(n_entities=3, n_times=50)
    r = lag_scan(df, ["x"], ["y"], lags=[1], time="t", group="id")
    src, tgt = [], []
    for _, g in df.groupby("id"):
        g = g.sort_values("t")
        src.append(g["x"].to_numpy()[:-1])
        tgt.append(g["y"].to_numpy()[1:])
    p = infoimb.imbalance_pair(np.concatenate(src), np.concatenate(tgt))
    assert r.forward[0] == pytest.approx(p.a_to_b, abs=1e-12)
    assert r.backward[0] == pytest.approx(p.b_to_a, abs=1e-12)
    assert r.n_pairs[0] == 3 * 49


def test_gaps_in_time_are_never_bridged_and_rows_are_shuffled():
    df = _driven_panel(n_entities=2, n_times=40)
    gappy = df.drop(index=df.index[(df["id"] == "e0") & (df["t"] == 20)])
    shuffled = gappy.sample(frac=1.0, random_state=0)
    r = lag_scan(shuffled, "x", "y", lags=[1], time="t", group="id")
    # e0 loses the pairs (19, 20) and (20, 21); e1 keeps all 39
    assert r.n_pairs[0] == (39 - 2) + 39


def test_missing_values_are_dropped_and_counted():
    df = _driven_panel(n_entities=2, n_times=40)
    df.loc[5, "x"] = np.nan
    r = lag_scan(df, "x", "y", lags=[0, 1], time="t", group="id")
    assert list(r.n_dropped_missing) == [1, 1]
    assert list(r.n_pairs) == [80 - 1, 78 - 1]


def test_single_series_without_group_and_datetime_time():
    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    y = np.r_[0.0, x[:-1]]
    dates = pd.date_range("2020-01-06", periods=300, freq="W-MON")
    df = pd.DataFrame({"date": dates.astype(str), "x": x, "y": y})  # dates as text: parsed
    r = lag_scan(df, "x", "y", lags=range(-2, 3), time="date")
    assert r.best_lag == 1 and r.arrow == "future"


def test_select_lagged_picks_the_driver():
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({"t": np.arange(n), "a": rng.normal(size=n), "b": rng.normal(size=n),
                       "c": rng.normal(size=n)})
    df["y"] = np.r_[0.0, 0.0, df["b"].to_numpy()[:-2]]
    r = select_lagged(df, ["a", "b", "c"], "y", lag=2, time="t", method="exhaustive", max_features=2)
    assert r.best(1).features == ("b",)
    assert r.best(1).a_to_b < 0.05
    with pytest.raises(ValueError, match=r"target column\(s\) \['y'\] are inside the candidate set"):
        select_lagged(df, ["a", "y"], "y", lag=2, time="t")


def test_progress_is_reported_per_lag():
    df = _driven_panel(n_entities=2, n_times=30)
    seen = []
    lag_scan(df, "x", "y", lags=range(-2, 3), time="t", group="id",
             progress=lambda f, m: seen.append(f))
    assert seen == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_result_exports():
    df = _driven_panel(n_entities=2, n_times=30)
    r = lag_scan(df, "x", "y", lags=[-1, 0, 1], time="t", group="id")
    frame = r.to_frame()
    assert list(frame.columns[:3]) == ["lag", "forward", "forward_se"]
    d = r.to_dict()
    assert d["best_lag"] == r.best_lag and len(d["rows"]) == 3


def test_bad_inputs():
    df = _driven_panel(n_entities=2, n_times=20)
    with pytest.raises(ValueError, match="lag"):
        lag_scan(df, "x", "y", lags=[25], time="t", group="id")
    with pytest.raises(ValueError, match=r"column\(s\) \['zz'\] are not in the table"):
        lag_scan(df, "zz", "y", lags=[1], time="t", group="id")
    with pytest.raises(ValueError, match="no columns given"):
        lag_scan(df, [], "y", lags=[1], time="t", group="id")
    with pytest.raises(ValueError, match="duplicate"):
        lag_scan(pd.concat([df, df.iloc[:3]]), "x", "y", lags=[1], time="t", group="id")
    bad_time = df.assign(t=["not a time"] * len(df))
    with pytest.raises(ValueError, match="t"):
        lag_scan(bad_time, "x", "y", lags=[1], time="t", group="id")
    with pytest.raises(ValueError, match="lags must be whole numbers"):
        lag_scan(df, "x", "y", lags=[0.5], time="t", group="id")
    with pytest.raises(TypeError, match="sequence"):
        lag_scan(df, "x", "y", lags=3, time="t", group="id")
