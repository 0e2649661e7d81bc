"""Significance in lag scans: per-lag p and q, the best lag's interval, the arrow's p-value,
stability over disjoint subsets, the Theiler window."""

import numpy as np
import pandas as pd
import pytest

from infoimb._stats import bh_qvalues
from infoimb.lags import lag_scan


def _panel(n_entities=10, n_times=30, delay=2, coupled=True, seed=0):
    """y follows x with a delay per entity (coupled), or y is an unrelated series with a
    persistent level per entity, as is x (a fingerprint; not coupled)."""
    rng = np.random.default_rng(seed)
    frames = []
    for e in range(n_entities):
        x = rng.normal(size=n_times) + (0 if coupled else 3 * rng.normal())
        if coupled:
            y = np.r_[rng.normal(size=delay), x[:-delay]] + 0.1 * rng.normal(size=n_times)
        else:
            y = rng.normal(size=n_times) + 3 * rng.normal()
        frames.append(pd.DataFrame({"id": f"e{e}", "t": np.arange(5 * e, 5 * e + n_times),
                                    "x": x, "y": y}))
    return pd.concat(frames, ignore_index=True)


def test_lag_pvalues_qvalues_interval_and_arrow():
    df = _panel()
    r = lag_scan(df, "x", "y", lags=range(-3, 4), time="t", group="id", n_permutations=49,
                 random_state=0)
    i2 = list(r.lags).index(2)
    assert r.best_lag == 2 and r.null == "entities"
    assert r.forward_p[i2] == pytest.approx(0.02) and r.backward_p[i2] == pytest.approx(0.02)
    np.testing.assert_allclose(r.forward_q, bh_qvalues(r.forward_p))
    np.testing.assert_allclose(r.backward_q, bh_qvalues(r.backward_p))
    assert (np.delete(r.forward_p, i2) > 0.05).sum() >= 5  # the other lags carry nothing
    assert r.best_lag_interval == (2, 2) and r.best_lag_frequency[i2] == 1.0
    assert r.best_lag_frequency.sum() == pytest.approx(1.0)
    assert r.arrow == "future" and r.arrow_p < 0.01
    assert r.forward_ci[i2, 0] < r.forward[i2] < r.forward_ci[i2, 1]
    frame = r.to_frame()
    assert {"forward_p", "forward_q", "backward_p", "forward_ci_low"} <= set(frame.columns)
    d = r.to_dict()
    assert d["best_lag_interval"] == [2, 2] and d["rows"][i2]["forward_p"] == pytest.approx(0.02)
    from infoimb._serialize import same_result

    assert same_result(type(r).from_dict(d), r)
    assert "Arrow of time: bootstrap p = " in r.verdict and "interval: [2, 2]" in r.verdict
    # reproducible
    again = lag_scan(df, "x", "y", lags=range(-3, 4), time="t", group="id", n_permutations=49,
                     random_state=0)
    np.testing.assert_array_equal(again.forward_p, r.forward_p)
    assert again.arrow_p == r.arrow_p


def test_fingerprint_panel_is_not_significant():
    df = _panel(coupled=False, seed=1)
    r = lag_scan(df, "x", "y", lags=[-1, 0, 1], time="t", group="id", n_permutations=49,
                 random_state=0)
    assert (r.forward_p > 0.05).all() and (r.backward_p > 0.05).all()
    assert r.arrow == "undecided"


def test_single_series_uses_circular_shifts():
    rng = np.random.default_rng(2)
    n = 300
    x = np.cumsum(rng.normal(size=n)) * 0.1  # strongly autocorrelated, unrelated to y
    x = x - np.convolve(x, np.ones(25) / 25, mode="same")
    y = np.r_[0, 0, x[:-2]] + 0.02 * rng.normal(size=n)
    df = pd.DataFrame({"t": np.arange(n), "x": x, "y": y})
    r = lag_scan(df, "x", "y", lags=[-2, 2], time="t", n_permutations=49, random_state=0)
    assert r.null == "shift"
    assert r.forward_p[1] == pytest.approx(0.02)
    assert r.best_lag == 2 and r.arrow == "future"


def test_stability_over_disjoint_entity_subsets():
    df = _panel(n_entities=9)
    r = lag_scan(df, "x", "y", lags=range(-2, 3), time="t", group="id", n_splits=3,
                 random_state=0)
    st = r.stability
    assert list(st.columns) == ["split", "lag", "forward", "backward", "is_best", "n_pairs"]
    assert len(st) == 3 * 5
    # each split holds 3 of the 9 entities
    assert (st[st["lag"] == 0]["n_pairs"] == 3 * 30).all()
    assert (st[st["is_best"]]["lag"] == 2).all()
    assert len(r.to_dict()["stability"]["lag"]) == 15
    with pytest.raises(ValueError, match="n_splits must be 0"):
        lag_scan(df, "x", "y", lags=[1], time="t", group="id", n_splits=1)
    with pytest.raises(ValueError, match="more than the 9 entities"):
        lag_scan(df, "x", "y", lags=[1], time="t", group="id", n_splits=10)


def test_theiler_window_in_lag_scan():
    df = _panel(n_entities=4)
    plain = lag_scan(df, "x", "y", lags=[2], time="t", group="id", n_bootstrap=0)
    w = lag_scan(df, "x", "y", lags=[2], time="t", group="id", theiler=3, n_bootstrap=0)
    assert w.theiler == 3.0 and plain.theiler is None
    assert w.forward[0] != plain.forward[0]
    # a window below the time step excludes only the query: the plain value
    w0 = lag_scan(df, "x", "y", lags=[2], time="t", group="id", theiler=0.5, n_bootstrap=0)
    assert w0.forward[0] == pytest.approx(plain.forward[0], abs=1e-12)
