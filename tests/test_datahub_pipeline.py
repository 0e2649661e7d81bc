"""The Covid-19 Data Hub layout end to end: a daily file in the level-1 layout (cumulative
counts, OxCGRT levels with negative = targeted) -> weekly panel, new counts, positivity ->
the lag scan of Fig. 3a and the lagged policy selection of Fig. 3b, with known effects."""

import warnings

import numpy as np
import pandas as pd
import pytest

from infoimb import datasets as D
from infoimb.io import propose_roles, read_table
from infoimb.lags import lag_scan, select_lagged
from infoimb.preprocess import datahub_weekly

N_NATIONS, N_WEEKS = 40, 80


@pytest.fixture(scope="module")
def datahub_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub") / "1.csv"
    D.covid_datahub_layout(N_NATIONS, n_weeks=N_WEEKS, path=path)
    return path


@pytest.fixture(scope="module")
def weekly(datahub_file):
    df = read_table(datahub_file)  # what the Data page does with the upload
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the synthetic file has no downward corrections
        return datahub_weekly(df, time="date", entity="iso_alpha_3")


def test_the_file_has_the_data_hub_layout(datahub_file):
    raw = pd.read_csv(datahub_file)
    assert raw.shape[0] == N_NATIONS * (1 + 7 * (N_WEEKS - 1))  # one row per country and day
    assert raw["date"].iloc[:3].tolist() == ["2020-03-01", "2020-03-02", "2020-03-03"]
    for c in ("confirmed", "tests", "deaths"):
        assert (raw.groupby("id")[c].diff().dropna() >= 0).all()  # cumulative
    assert set(D.DATAHUB_POLICIES) <= set(raw.columns)
    levels = raw[list(D.DATAHUB_POLICIES)].to_numpy()
    assert levels.min() == -4 and 0.1 < (levels < 0).sum() / (levels != 0).sum() < 0.3
    assert (raw["administrative_area_level"] == 1).all()
    roles = propose_roles(read_table(datahub_file))
    assert roles.time == "date" and roles.panel


def test_weekly_pipeline_gives_back_the_panel(weekly):
    truth = D.policy_panel(N_NATIONS, n_weeks=N_WEEKS)
    assert weekly.shape[0] == N_NATIONS * N_WEEKS
    for c in (*D.PAPER_POLICIES, "confirmed", "tests", "deaths", "confirmed_new", "tests_new",
              "positivity", "cases_growth"):
        np.testing.assert_array_equal(weekly[c].to_numpy(float), truth[c].to_numpy(float), err_msg=c)
    assert (weekly[list(D.PAPER_POLICIES)] >= 0).all().all()  # targeted levels made positive
    i = 5
    assert weekly["positivity"].iloc[i] == weekly["confirmed_new"].iloc[i] / weekly["tests_new"].iloc[i]


def test_lag_scan_and_lagged_selection_on_the_file(weekly, datahub_file):
    scan = lag_scan(weekly, list(D.EFFECTIVE_POLICIES), ["cases_growth"], lags=range(-1, 5),
                    time="date", group="iso_alpha_3")
    assert scan.best_lag == 2 and scan.arrow == "future"
    # the loader adds the information-free dummy; greedy selection finds the four first
    panel = D.epidemic_state(D.load_covid_datahub(datahub_file, id_column="iso_alpha_3"))
    pd.testing.assert_series_equal(panel["cases_growth"], weekly["cases_growth"])
    r = select_lagged(panel, [*D.PAPER_POLICIES, "dummy_policy"], ["cases_growth"], lag=2,
                      time="date", group="id", method="greedy", max_features=4)
    assert set(r.best(4).features) == set(D.EFFECTIVE_POLICIES)
    assert all("dummy_policy" not in s.features for s in r.steps)
    assert r.best(4).a_to_b == pytest.approx(0.274, abs=0.005)


def test_pipeline_refuses_a_table_without_the_columns():
    with pytest.raises(ValueError, match="confirmed"):
        datahub_weekly(pd.DataFrame({"id": ["a"], "date": ["2020-01-01"]}))
