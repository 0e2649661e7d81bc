"""Panel preprocessing: known answers on small hand-made frames, and every bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest

from infoimb.preprocess import (
    add_ratio,
    check_panel,
    difference_cumulative,
    drop_missing,
    lagged_pairs,
    log_growth,
    resample_panel,
    scale,
)


def weekly(ids_weeks, **columns):
    """A panel with entity 'id' and weekly dates from (id, week number) pairs."""
    ids = [i for i, _ in ids_weeks]
    dates = pd.Timestamp("2020-01-05") + pd.to_timedelta([7 * w for _, w in ids_weeks], "D")
    return pd.DataFrame({"id": ids, "date": dates, **columns})


# --------------------------------------------------------------------------------------
# check_panel
# --------------------------------------------------------------------------------------
def test_check_panel_sorts_and_parses_string_dates():
    df = pd.DataFrame({"id": ["b", "a", "a", "b"],
                       "date": ["2020-01-12", "2020-01-12", "2020-01-05", "2020-01-05"],
                       "v": [4, 2, 1, 3]})
    out = check_panel(df, time="date", entity="id")
    assert out["v"].tolist() == [1, 2, 3, 4]
    assert out["id"].tolist() == ["a", "a", "b", "b"]
    assert pd.api.types.is_datetime64_any_dtype(out["date"])
    assert out.index.tolist() == [0, 1, 2, 3]
    assert df["v"].tolist() == [4, 2, 1, 3]  # input untouched


def test_check_panel_parses_numeric_strings_as_numbers():
    df = pd.DataFrame({"id": [1, 1, 1], "t": ["3", "1", "2"], "v": [30, 10, 20]})
    out = check_panel(df, time="t", entity="id")
    assert out["t"].tolist() == [1, 2, 3]
    assert out["v"].tolist() == [10, 20, 30]


def test_check_panel_mixed_date_formats_are_parsed():
    df = pd.DataFrame({"id": ["a", "a"], "d": ["2020-01-05", "12 January 2020"], "v": [1, 2]})
    out = check_panel(df, time="d", entity="id")
    assert out["d"].tolist() == [pd.Timestamp("2020-01-05"), pd.Timestamp("2020-01-12")]


def test_check_panel_unparseable_time_names_column_and_value():
    df = pd.DataFrame({"id": ["a", "a", "a"], "when": ["2020-01-05", "not a date", "2020-01-19"]})
    with pytest.raises(ValueError, match=r"'when'.*1 value.*'not a date'"):
        check_panel(df, time="when", entity="id")


def test_check_panel_duplicates_give_count_and_example():
    df = pd.DataFrame({"id": ["a", "a", "a", "b", "b"], "t": [1, 1, 2, 5, 5], "v": range(5)})
    with pytest.raises(ValueError, match=r"2 duplicate.*entity 'a' at time 1"):
        check_panel(df, time="t", entity="id")


def test_check_panel_reports_short_entities():
    df = pd.DataFrame({"id": ["a", "a", "a", "b"], "t": [1, 2, 3, 1]})
    with pytest.warns(UserWarning, match=r"1 entity has fewer than 2 rows: 'b'"):
        check_panel(df, time="t", entity="id")
    with pytest.warns(UserWarning, match=r"3 entities have fewer than 3 rows: 'a', 'b', 'c'"):
        check_panel(df.assign(id=["a", "a", "c", "b"]), time="t", entity="id", min_rows=3)


def test_check_panel_bad_inputs():
    df = pd.DataFrame({"id": ["a", "a"], "t": [1, 2]})
    with pytest.raises(ValueError, match="time column.*'time'.*not in the frame"):
        check_panel(df, time="time", entity="id")
    with pytest.raises(ValueError, match="entity column.*'nation'"):
        check_panel(df, time="t", entity="nation")
    with pytest.raises(TypeError, match="DataFrame"):
        check_panel(df.to_numpy(), time="t", entity="id")
    with pytest.raises(ValueError, match="missing value"):
        check_panel(df.assign(t=[1, np.nan]), time="t", entity="id")
    with pytest.raises(ValueError, match="entity column 'id' has 1 missing"):
        check_panel(df.assign(id=["a", None]), time="t", entity="id")
    with pytest.raises(ValueError, match="min_rows"):
        check_panel(df, time="t", entity="id", min_rows=0)
    with pytest.raises(TypeError, match="boolean"):
        check_panel(df.assign(t=[True, False]), time="t", entity="id")
    with pytest.raises(ValueError, match="different columns"):
        check_panel(df, time="t", entity="t")


def test_check_panel_single_series():
    df = pd.DataFrame({"t": [3, 1, 2], "v": [3, 1, 2]})
    out = check_panel(df, time="t", entity=None)
    assert out["v"].tolist() == [1, 2, 3]
    assert list(out.columns) == ["t", "v"]
    with pytest.raises(ValueError, match=r"1 duplicate \(time\) row.*time 1"):
        check_panel(pd.DataFrame({"t": [1, 1]}), time="t", entity=None)


# --------------------------------------------------------------------------------------
# resample_panel
# --------------------------------------------------------------------------------------
def daily():
    days = pd.date_range("2020-01-01", periods=10)  # Wed 1 Jan .. Fri 10 Jan
    return pd.DataFrame({"id": ["a"] * 10 + ["b"] * 3,
                         "day": list(days) + list(days[:3]),
                         "cases": list(range(10)) + [100, 200, 300],
                         "cum": list(np.cumsum(range(10))) + [100, 300, 600]})


def test_resample_weekly_sum_mean_last():
    df = daily()
    out = resample_panel(df, time="day", entity="id", period="W",
                         how={"cases": "sum", "cum": "last"})
    assert out["id"].tolist() == ["a", "a", "b"]
    # weeks end on Sunday 5 Jan and Sunday 12 Jan
    assert out["day"].tolist() == [pd.Timestamp("2020-01-05"), pd.Timestamp("2020-01-12"),
                                   pd.Timestamp("2020-01-05")]
    assert out["cases"].tolist() == [10, 35, 600]
    assert out["cum"].tolist() == [10, 45, 600]
    mean = resample_panel(df, time="day", entity="id", period="W", columns=["cases"])
    assert mean["cases"].tolist() == [2.0, 7.0, 200.0]
    assert list(mean.columns) == ["id", "day", "cases"]


def test_resample_keeps_gaps_and_sum_of_missing_is_nan():
    df = pd.DataFrame({"id": "a", "day": pd.to_datetime(["2020-01-01", "2020-01-02",
                                                          "2020-01-20"]),
                       "cases": [1.0, np.nan, np.nan]})
    out = resample_panel(df, time="day", entity="id", period="W", how="sum")
    # the empty weeks of 12 Jan is not created; the week of 26 Jan has only NaN -> NaN
    assert out["day"].tolist() == [pd.Timestamp("2020-01-05"), pd.Timestamp("2020-01-26")]
    assert out["cases"].iloc[0] == 1.0 and np.isnan(out["cases"].iloc[1])


def test_resample_numeric_time_bins():
    df = pd.DataFrame({"id": ["a"] * 5 + ["b"], "t": [0, 1, 2, 3, 7, 1],
                       "v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "label": list("pqrstu")})
    out = resample_panel(df, time="t", entity="id", period=2, how="mean")
    assert out["t"].tolist() == [0, 2, 6, 0]
    assert out["v"].tolist() == [1.5, 3.5, 5.0, 6.0]
    assert "label" not in out.columns
    last = resample_panel(df, time="t", entity="id", period=2, how="last", columns=["label"])
    assert last["label"].tolist() == ["q", "s", "t", "u"]


def test_resample_bad_inputs():
    df = daily()
    with pytest.raises(ValueError, match="period 'fortnight' is not a pandas offset"):
        resample_panel(df, time="day", entity="id", period="fortnight")
    with pytest.raises(TypeError, match="offset alias"):
        resample_panel(df, time="day", entity="id", period=7)
    with pytest.raises(ValueError, match="how for column 'cases'.*'average'"):
        resample_panel(df, time="day", entity="id", period="W", how="average")
    with pytest.raises(ValueError, match="how names column.*'deaths'"):
        resample_panel(df, time="day", entity="id", period="W", how={"deaths": "sum"})
    with pytest.raises(TypeError, match="how must be"):
        resample_panel(df, time="day", entity="id", period="W", how=3)
    num = pd.DataFrame({"id": "a", "t": [1, 2], "v": [1, 2], "s": ["x", "y"]})
    with pytest.raises(ValueError, match="positive whole bin width.*'t'"):
        resample_panel(num, time="t", entity="id", period="W")
    with pytest.raises(ValueError, match="positive whole bin width"):
        resample_panel(num, time="t", entity="id", period=0)
    with pytest.raises(TypeError, match=r"column 's' must be numeric"):
        resample_panel(num, time="t", entity="id", period=2, columns=["s"])
    with pytest.raises(ValueError, match="'missing'"):
        resample_panel(num, time="t", entity="id", period=2, columns=["missing"])
    with pytest.raises(ValueError, match="must not include the time"):
        resample_panel(num, time="t", entity="id", period=2, columns=["t"])
    with pytest.raises(ValueError, match="no numeric column"):
        resample_panel(num[["id", "t", "s"]], time="t", entity="id", period=2)


# --------------------------------------------------------------------------------------
# difference_cumulative, log_growth, add_ratio
# --------------------------------------------------------------------------------------
def test_difference_cumulative_per_entity():
    df = pd.DataFrame({"id": ["b", "a", "b", "a", "a"], "t": [2, 1, 1, 2, 3],
                       "confirmed": [4, 5, 1, 7, 12], "deaths": [0, 1, 0, 1, 3]})
    out = difference_cumulative(df, ["confirmed", "deaths"], time="t", entity="id")
    assert out["id"].tolist() == ["a", "a", "a", "b", "b"]
    np.testing.assert_array_equal(out["confirmed_new"], [np.nan, 2, 5, np.nan, 3])
    np.testing.assert_array_equal(out["deaths_new"], [np.nan, 0, 2, np.nan, 0])
    other = difference_cumulative(df, "confirmed", time="t", entity="id", suffix="_weekly")
    assert "confirmed_weekly" in other.columns


@pytest.mark.parametrize("mode, expected", [("nan", [np.nan, 5, np.nan, 4]),
                                            ("clip", [np.nan, 5, 0, 4]),
                                            ("keep", [np.nan, 5, -2, 4])])
def test_difference_cumulative_negative_corrections(mode, expected):
    df = pd.DataFrame({"id": "a", "t": [1, 2, 3, 4], "confirmed": [10, 15, 13, 17]})
    with pytest.warns(UserWarning, match=r"'confirmed': 1 negative difference.*entity 'a'"):
        out = difference_cumulative(df, "confirmed", time="t", entity="id", negative=mode)
    np.testing.assert_array_equal(out["confirmed_new"], expected)


def test_difference_cumulative_no_warning_without_corrections():
    df = pd.DataFrame({"t": [1, 2, 3], "c": [1, 1, 4]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = difference_cumulative(df, "c", time="t", entity=None)
    np.testing.assert_array_equal(out["c_new"], [np.nan, 0, 3])


def test_difference_cumulative_bad_inputs():
    df = pd.DataFrame({"id": "a", "t": [1, 2], "c": [1, 2], "s": ["x", "y"]})
    with pytest.raises(ValueError, match="negative must be one of"):
        difference_cumulative(df, "c", time="t", entity="id", negative="drop")
    with pytest.raises(ValueError, match="'cases'"):
        difference_cumulative(df, "cases", time="t", entity="id")
    with pytest.raises(TypeError, match="column 's' must be numeric"):
        difference_cumulative(df, "s", time="t", entity="id")
    with pytest.raises(ValueError, match="suffix"):
        difference_cumulative(df, "c", time="t", entity="id", suffix="")
    with pytest.raises(ValueError, match="columns is empty"):
        difference_cumulative(df, [], time="t", entity="id")


def test_log_growth():
    df = pd.DataFrame({"id": ["a", "a", "a", "b", "b"], "t": [1, 2, 3, 1, 2],
                       "cases": [99, 199, 99, 0, 0]})
    out = log_growth(df, "cases", time="t", entity="id")
    np.testing.assert_allclose(out["cases_growth"], [np.nan, np.log(2), -np.log(2), np.nan, 0.0])
    raw = log_growth(df.assign(cases=[1, np.e, 1, 2, 4]), "cases", time="t", entity="id",
                     offset=0)
    np.testing.assert_allclose(raw["cases_growth"], [np.nan, 1.0, -1.0, np.nan, np.log(2)])
    with pytest.warns(UserWarning, match="1 value.*offset <= 0"):
        bad = log_growth(df.assign(cases=[1, -5, 1, 1, 1]), "cases", time="t", entity="id")
    assert bad["cases_growth"].isna().tolist() == [True, True, True, True, False]
    with pytest.raises(ValueError, match="offset"):
        log_growth(df, "cases", time="t", entity="id", offset=-1)


def test_add_ratio():
    df = pd.DataFrame({"cases": [2, 3, 1, np.nan], "tests": [4, 0, 10, 5]})
    with pytest.warns(UserWarning, match=r"1 row\(s\) with 'tests' == 0"):
        out = add_ratio(df, "cases", "tests", name="positivity")
    np.testing.assert_array_equal(out["positivity"], [0.5, np.nan, 0.1, np.nan])
    assert "positivity" not in df.columns
    fine = add_ratio(df.iloc[[0, 2]], "cases", "tests")
    np.testing.assert_array_equal(fine["cases_per_tests"], [0.5, 0.1])
    with pytest.raises(ValueError, match="'positive'"):
        add_ratio(df, "positive", "tests")
    with pytest.raises(TypeError, match="denominator must be a column name"):
        add_ratio(df, "cases", ["tests"])
    with pytest.raises(TypeError, match="must be numeric"):
        add_ratio(df.assign(s="x"), "cases", "s")
    with pytest.raises(ValueError, match="name"):
        add_ratio(df.iloc[[0]], "cases", "tests", name="")


# --------------------------------------------------------------------------------------
# scale, drop_missing
# --------------------------------------------------------------------------------------
def test_scale_methods_known_values():
    df = pd.DataFrame({"a": [1.0, 2.0, 2.0, 11.0], "c": [5.0] * 4, "s": list("wxyz")})
    z = scale(df, ["a", "c"], "zscore")
    np.testing.assert_allclose(z["a"], (df["a"] - 4.0) / np.std(df["a"]))
    np.testing.assert_array_equal(z["c"], [0.0] * 4)
    m = scale(df, ["a", "c"], "minmax")
    np.testing.assert_allclose(m["a"], [0.0, 0.1, 0.1, 1.0])
    np.testing.assert_array_equal(m["c"], [0.0] * 4)
    r = scale(df, ["a", "c"], "rank")
    np.testing.assert_allclose(r["a"], [0.2, 0.5, 0.5, 0.8])
    np.testing.assert_allclose(r["c"], [0.5] * 4)
    n = scale(df, "a", "none")
    np.testing.assert_array_equal(n["a"], df["a"])
    assert df["a"].tolist() == [1.0, 2.0, 2.0, 11.0]
    every = scale(df, None, "minmax")
    assert every["s"].tolist() == list("wxyz") and every["a"].max() == 1.0


def test_scale_keeps_missing_values():
    df = pd.DataFrame({"a": [3.0, np.nan, 1.0]})
    r = scale(df, "a", "rank")
    np.testing.assert_allclose(r["a"], [2 / 3, np.nan, 1 / 3])
    z = scale(df, "a", "zscore")
    np.testing.assert_allclose(z["a"], [1.0, np.nan, -1.0])


def test_scale_bad_inputs():
    df = pd.DataFrame({"a": [1.0, np.inf], "s": ["x", "y"]})
    with pytest.raises(ValueError, match="method must be one of"):
        scale(df, "a", "standard")
    with pytest.raises(ValueError, match="'a' holds 1 infinite"):
        scale(df, "a", "zscore")
    with pytest.raises(TypeError, match="'s' must be numeric"):
        scale(df, "s", "rank")
    with pytest.raises(ValueError, match="'b'"):
        scale(df, ["b"], "rank")


def test_drop_missing():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": [1.0, 2.0, -np.inf, 4.0],
                       "c": [None, "x", "y", "z"]})
    out, n = drop_missing(df, ["a", "b"])
    assert out.index.tolist() == [0, 3] and n == 2
    out, n = drop_missing(df)
    assert out.index.tolist() == [3] and n == 3
    out, n = drop_missing(df, "a")
    assert n == 1
    with pytest.raises(ValueError, match=r"2 row\(s\).*'a': 1, 'b': 1"):
        drop_missing(df, ["a", "b"], how="raise")
    clean, n = drop_missing(df.iloc[[3]], ["a", "b"], how="raise")
    assert n == 0 and len(clean) == 1
    with pytest.raises(ValueError, match="how must be"):
        drop_missing(df, how="ignore")
    with pytest.raises(ValueError, match="'d'"):
        drop_missing(df, ["d"])


# --------------------------------------------------------------------------------------
# lagged_pairs
# --------------------------------------------------------------------------------------
def small_panel():
    # entity a: weeks 0,1,2,3,5 (gap at 4); entity b: weeks 0,1,2
    rows = [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 5), ("b", 0), ("b", 1), ("b", 2)]
    return weekly(rows, p=[0.0, 1, 2, 3, 5, 10, 11, 12],
                  e=[100.0, 101, 102, 103, 105, 110, 111, 112])


def test_lagged_pairs_forward_within_entity_and_no_gap_bridging():
    df = small_panel().sample(frac=1.0, random_state=1)  # row order must not matter
    src, tgt, info = lagged_pairs(df, "p", "e", lag=1, time="date", entity="id")
    # a: 0->1, 1->2, 2->3 (3->4 missing, no pair across the gap); b: 0->1, 1->2
    assert src["p"].tolist() == [0, 1, 2, 10, 11]
    assert tgt["e"].tolist() == [101, 102, 103, 111, 112]
    assert info["n_pairs"] == 5 and info["n_entities"] == 2 and info["n_dropped_missing"] == 0
    assert info["step"] == pd.Timedelta(days=7)
    keys = info["keys"]
    assert (keys["time_target"] - keys["time"] == pd.Timedelta(days=7)).all()
    assert keys["entity"].tolist() == ["a", "a", "a", "b", "b"]


def test_lagged_pairs_negative_and_zero_lag():
    df = small_panel()
    src, tgt, info = lagged_pairs(df, "p", "e", lag=-2, time="date", entity="id")
    # a: 2->0, 3->1, 5->3; b: 2->0
    assert src["p"].tolist() == [2, 3, 5, 12]
    assert tgt["e"].tolist() == [100, 101, 103, 110]
    src0, tgt0, _ = lagged_pairs(df, "p", "e", lag=0, time="date", entity="id")
    assert len(src0) == 8 and (tgt0["e"] - src0["p"] == 100).all()


def test_lagged_pairs_same_column_both_sides():
    df = small_panel()
    src, tgt, info = lagged_pairs(df, ["p", "e"], ["p"], lag=2, time="date", entity="id")
    assert list(src.columns) == ["p", "e"] and list(tgt.columns) == ["p"]
    assert src["p"].tolist() == [0, 1, 3, 10]
    assert tgt["p"].tolist() == [2, 3, 5, 12]


def test_lagged_pairs_numeric_time_in_time_units():
    df = pd.DataFrame({"id": [1, 1, 1, 1, 2, 2], "t": [0, 10, 20, 30, 0, 10],
                       "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    src, tgt, info = lagged_pairs(df, "x", "x", lag=10, time="t", entity="id")
    assert src["x"].tolist() == [0.0, 1.0, 2.0, 4.0]
    assert tgt["x"].tolist() == [1.0, 2.0, 3.0, 5.0]
    assert info["step"] == 1
    # a lag of 1 time unit matches nothing here, but is not longer than the series
    src, tgt, info = lagged_pairs(df, "x", "x", lag=1, time="t", entity="id")
    assert info["n_pairs"] == 0 and info["n_entities"] == 0 and len(src) == 0


def test_lagged_pairs_single_series():
    df = pd.DataFrame({"t": [3, 1, 2, 4], "x": [3.0, 1.0, 2.0, 4.0]})
    src, tgt, info = lagged_pairs(df, "x", "x", lag=1, time="t", entity=None)
    assert src["x"].tolist() == [1.0, 2.0, 3.0] and tgt["x"].tolist() == [2.0, 3.0, 4.0]
    assert list(info["keys"].columns) == ["time", "time_target"] and info["n_entities"] == 1


def test_lagged_pairs_drops_and_counts_missing():
    df = small_panel()
    df.loc[1, "p"] = np.nan  # a, week 1: source of 1->2 is missing
    df.loc[6, "e"] = np.inf  # b, week 1: target of 0->1 is infinite
    src, tgt, info = lagged_pairs(df, "p", "e", lag=1, time="date", entity="id")
    assert info["n_dropped_missing"] == 2 and info["n_pairs"] == 3
    assert src["p"].tolist() == [0, 2, 11]
    assert tgt["e"].tolist() == [101, 103, 112]
    assert len(info["keys"]) == 3


def test_lagged_pairs_infers_the_most_common_step():
    # a two-day panel with one missing day: the step is 2 days, not 4
    days = pd.to_datetime(["2020-01-01", "2020-01-03", "2020-01-05", "2020-01-09"])
    df = pd.DataFrame({"id": "a", "d": days, "x": [1.0, 2.0, 3.0, 4.0]})
    src, tgt, info = lagged_pairs(df, "x", "x", lag=1, time="d", entity="id")
    assert info["step"] == pd.Timedelta(days=2)
    assert src["x"].tolist() == [1.0, 2.0] and tgt["x"].tolist() == [2.0, 3.0]


def test_lagged_pairs_bad_inputs():
    df = small_panel()
    with pytest.raises(ValueError, match=r"lag=6 is longer than the longest series "
                                         r"\(entity 'a'\), which spans 5 steps"):
        lagged_pairs(df, "p", "e", lag=6, time="date", entity="id")
    with pytest.raises(ValueError, match="lag=-6 is longer"):
        lagged_pairs(df, "p", "e", lag=-6, time="date", entity="id")
    with pytest.raises(ValueError, match="whole number of steps"):
        lagged_pairs(df, "p", "e", lag=1.5, time="date", entity="id")
    with pytest.raises(TypeError, match="lag must be a finite number"):
        lagged_pairs(df, "p", "e", lag="1", time="date", entity="id")
    with pytest.raises(TypeError, match="lag must be a finite number"):
        lagged_pairs(df, "p", "e", lag=np.nan, time="date", entity="id")
    with pytest.raises(ValueError, match="source column.*'policy'"):
        lagged_pairs(df, "policy", "e", lag=1, time="date", entity="id")
    with pytest.raises(ValueError, match="target column.*'cases'"):
        lagged_pairs(df, "p", ["cases"], lag=1, time="date", entity="id")
    with pytest.raises(TypeError, match="source column 'id' must be numeric"):
        lagged_pairs(df, "id", "e", lag=1, time="date", entity="id")
    with pytest.raises(ValueError, match="duplicate"):
        lagged_pairs(pd.concat([df, df.iloc[:1]]), "p", "e", lag=1, time="date", entity="id")
    one_row_each = weekly([("a", 0), ("b", 3)], p=[1, 2], e=[1, 2])
    with pytest.raises(ValueError, match="cannot infer the time step"):
        lagged_pairs(one_row_each, "p", "e", lag=1, time="date", entity="id")
    num = pd.DataFrame({"id": "a", "t": [0, 1, 2], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="lag=3 is longer.*2 time units"):
        lagged_pairs(num, "x", "x", lag=3, time="t", entity="id")


def test_lagged_pairs_matches_a_groupby_shift_on_a_regular_panel():
    rng = np.random.default_rng(0)
    n_ent, n_t = 7, 30
    df = pd.DataFrame({"id": np.repeat(np.arange(n_ent), n_t),
                       "t": np.tile(np.arange(n_t), n_ent),
                       "x": rng.normal(size=n_ent * n_t), "y": rng.normal(size=n_ent * n_t)})
    for lag in (-4, -1, 0, 3):
        src, tgt, info = lagged_pairs(df, "x", "y", lag=lag, time="t", entity="id")
        shifted = df.groupby("id")["y"].shift(-lag)
        ok = shifted.notna()
        np.testing.assert_array_equal(src["x"], df.loc[ok, "x"])
        np.testing.assert_array_equal(tgt["y"], shifted[ok])
        assert info["n_pairs"] == n_ent * (n_t - abs(lag))
