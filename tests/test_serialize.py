"""One result format: the JSON encoder, and to_dict / from_dict round trips on real runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import _serialize as S
from infoimb.causality import CausalityResult, ImbalanceGain, causality_test
from infoimb.imbalance import ImbalancePair, RankSample, rank_samples
from infoimb.lags import LagScanResult, lag_scan
from infoimb.selection import SelectionResult, SelectionStep, select_features
from infoimb.weights import WeightsResult, optimize_weights


def test_encoder_writes_every_kind_the_same_way():
    @dataclasses.dataclass
    class Plain:
        a: int
        b: np.ndarray

    class Fig:
        def to_plotly_json(self):
            return {"data": [{"y": np.array([1.0, np.nan])}]}

    obj = {
        1: np.float32(0.5), "nan": np.nan, "inf": -math.inf, "i": np.int16(7), "b": np.bool_(True),
        "arr": np.array([[1, 2], [3, 4]]), "farr": np.array([np.inf, 2.0]),
        "ts": pd.Timestamp("2020-01-02 03:04"), "nat": pd.NaT, "na": pd.NA,
        "d64": np.datetime64("2020-01-02"), "date": dt.date(2020, 1, 2),
        "frame": pd.DataFrame({"x": [1.0, np.nan], "s": ["a", "b"]}), "series": pd.Series([1, 2]),
        "tuple": (1, "x"), "dc": Plain(1, np.zeros(2)), "fig": Fig(),
    }
    assert S.to_jsonable(obj) == {
        "1": 0.5, "nan": None, "inf": None, "i": 7, "b": True, "arr": [[1, 2], [3, 4]],
        "farr": [None, 2.0], "ts": "2020-01-02T03:04:00", "nat": None, "na": None,
        "d64": "2020-01-02T00:00:00", "date": "2020-01-02",
        "frame": {"x": [1.0, None], "s": ["a", "b"]}, "series": [1, 2], "tuple": [1, "x"],
        "dc": {"a": 1, "b": [0.0, 0.0]}, "fig": {"data": [{"y": [1.0, None]}]},
    }
    assert S.dumps({"x": np.nan}) == '{"x": null}'
    with pytest.raises(TypeError, match="cannot write a object as JSON"):
        S.to_jsonable(object())


def _round_trip(result):
    """from_dict(to_dict()) and from_dict(JSON of to_dict()) both give the result back."""
    cls = type(result)
    back = cls.from_dict(result.to_dict())
    assert S.same_result(back, result)
    via_json = cls.from_dict(json.loads(S.dumps(result.to_dict())))
    assert S.same_result(via_json, result)
    return via_json


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 4))
    return pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=3 * X[:, 0] - 10 * X[:, 2])


def test_pair_and_rank_sample_round_trip(data):
    p = infoimb.imbalance_pair(data[["a", "c"]], data["y"])
    back = _round_trip(p)
    assert isinstance(back, ImbalancePair) and back == p  # no arrays: plain equality holds
    r = rank_samples(data[["a", "c"]], data["y"], n_queries=30, n_scatter=5, n_partners=7,
                     random_state=0)
    back = _round_trip(r)
    assert isinstance(back, RankSample) and back.rank_a.shape == (5, 7)
    assert back.query.dtype.kind == "i"


def test_selection_round_trip_keeps_nan_and_the_candidates(data):
    r = select_features(data[["a", "b", "c", "d"]], data["y"], method="greedy", max_features=2)
    assert math.isnan(r.steps[0].random_mean)
    back = _round_trip(r)
    assert isinstance(back, SelectionResult) and isinstance(back.steps[0], SelectionStep)
    assert back.best(2).features == ("c", "a") and back.selected == r.selected  # greedy order
    assert list(back.candidates["features"]) == list(r.candidates["features"])
    # the dict keeps the shape the dashboard and the CLI read
    d = r.to_dict()
    assert d["steps"][1]["features"] == ["c", "a"] and d["candidates"]["size"][0] == 1


def test_lag_scan_round_trip():
    rng = np.random.default_rng(0)
    x = rng.normal(size=150)
    df = pd.DataFrame({"t": np.arange(150), "x": x, "y": np.r_[0.0, x[:-1]]})
    r = lag_scan(df, "x", "y", lags=[-1, 0, 1], time="t")
    back = _round_trip(r)
    assert isinstance(back, LagScanResult) and back.best_lag == 1
    assert back.lags.dtype.kind == "i" and back.notes == r.notes
    assert r.to_dict()["rows"][2]["lag"] == 1  # the records view stays


def test_causality_round_trip():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = np.zeros(200)
    for t in range(1, 200):
        y[t] = 0.3 * y[t - 1] + x[t - 1] + 0.1 * rng.normal()
    r = causality_test(x, y, tau=1, alphas=np.linspace(0, 1, 5))
    back = _round_trip(r)
    assert isinstance(back, CausalityResult) and isinstance(back.x_to_y, ImbalanceGain)
    assert back.verdict == "x drives y"


def test_weights_round_trip():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(60, 3))
    r = optimize_weights(a, a[:, :1] * 3, method="dii", n_iter=5, random_state=0)
    back = _round_trip(r)
    assert isinstance(back, WeightsResult) and isinstance(back.history[0]["weights"], np.ndarray)


def test_from_dict_names_a_missing_field():
    with pytest.raises(ValueError, match="ImbalancePair.from_dict: missing field 'relation'"):
        ImbalancePair.from_dict({"a_to_b": 0.1, "b_to_a": 0.2, "a_to_b_se": 0, "b_to_a_se": 0,
                                 "n": 3, "k": 1, "n_queries": 3})
