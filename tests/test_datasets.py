"""Built-in examples: the registry, determinism, and each example's documented ground truth.

Every Delta here is the exact estimator with k = 1 unless stated; the values the docstrings
quote are checked with tolerances that still fail if the ground truth breaks.
"""

import io
import itertools

import numpy as np
import pandas as pd
import pytest

from infoimb import datasets as D
from infoimb.imbalance import imbalance_pair, information_imbalance
from infoimb.preprocess import lagged_pairs, scale

NAMES = ["gauss3d", "gauss4d", "spiral", "sinusoid", "rossler", "policy_panel", "descriptors",
         "logistic_graph"]
ANALYSES = {"compare", "select", "lags", "causality", "weights", "graph"}


# --------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------
def test_registry_names_are_the_contract():
    # "carbon" (the materials case, needs the optional extra) is tested in test_web_distances.py
    assert list(D.EXAMPLES) == NAMES + ["carbon"]
    assert [e.name for e in D.list_examples()] == NAMES + ["carbon"]


@pytest.mark.parametrize("name", NAMES)
def test_example_metadata_matches_its_data(name):
    ex = D.EXAMPLES[name]
    assert ex.name == name and ex.title and len(ex.description) > 200
    assert ex.kind in D.KINDS
    assert ex.analyses and set(ex.analyses) <= ANALYSES
    df = D.load_example(name)
    assert isinstance(df, pd.DataFrame)
    if ex.kind != "panel":
        assert len(df) == ex.n_default
    groups = ex.roles["groups"]
    assert groups
    for cols in groups.values():
        assert cols and set(cols) <= set(df.columns)
    for col, period in ex.roles.get("periodic", {}).items():
        assert col in df.columns and period > 0
    if ex.kind == "panel":
        assert ex.roles["time"] in df.columns and ex.roles["entity"] in df.columns
        assert df[ex.roles["entity"]].nunique() == ex.n_default
    if ex.kind == "series":
        assert ex.roles["time"] in df.columns and df[ex.roles["time"]].is_monotonic_increasing
    if "target" in ex.roles:
        assert ex.roles["target"] in groups or ex.roles["target"] in df.columns


@pytest.mark.parametrize("name", NAMES)
def test_examples_are_deterministic_and_seeded(name):
    a = D.load_example(name, random_state=3)
    b = D.load_example(name, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    c = D.load_example(name, random_state=4)
    assert not a.equals(c)
    numeric = a.select_dtypes(include=[np.number])
    assert np.isfinite(numeric.to_numpy(dtype=float)[~numeric.isna().to_numpy()]).all()


def test_load_example_size_and_unknown_name():
    assert len(D.load_example("gauss3d", n=50)) == 50
    assert len(D.load_example("rossler", n=30)) == 30
    assert D.load_example("policy_panel", n=3)["id"].nunique() == 3
    with pytest.raises(ValueError, match="unknown example 'gauss'.*gauss3d, gauss4d, spiral"):
        D.load_example("gauss")
    with pytest.raises(ValueError, match="n must be at least 3"):
        D.load_example("gauss3d", n=2)
    with pytest.raises(TypeError, match="n must be a whole number"):
        D.load_example("sinusoid", n=10.5)


def test_example_is_frozen():
    with pytest.raises(AttributeError):
        D.EXAMPLES["gauss3d"].name = "other"


# --------------------------------------------------------------------------------------
# simple tables
# --------------------------------------------------------------------------------------
def test_gauss3d_reproduces_method_section_5():
    df = D.gauss3d()
    X = df.to_numpy()
    np.testing.assert_array_equal(X, np.random.default_rng(0).normal(size=(1000, 3))
                                  * [1, 1, 0.1])
    expected = {"x": (0.063748, 0.548194), "y": (0.061824, 0.56738), "z": (0.4962, 0.984936),
                "xy": (0.004146, 0.008404), "xz": (0.036032, 0.544902),
                "yz": (0.03692, 0.554888)}
    for subset, (to_s, from_s) in expected.items():
        p = imbalance_pair(df, df[list(subset)])
        assert round(p.a_to_b, 6) == to_s and round(p.b_to_a, 6) == from_s, subset
    p = imbalance_pair(df["x"], df["y"])
    assert (round(p.a_to_b, 4), round(p.b_to_a, 4)) == (0.9928, 1.0028)


def test_gauss4d_is_symmetric_partial():
    df = D.gauss4d()
    assert df.shape == (2000, 4)
    p = imbalance_pair(df[["x", "y", "z"]], df[["y", "z", "w"]])
    assert abs(p.a_to_b - 0.34) < 0.03 and abs(p.b_to_a - 0.34) < 0.03
    assert p.relation == "symmetric"


def test_sinusoid_one_way_dependence():
    df = D.sinusoid()
    rng = np.random.default_rng(0)
    x1 = rng.uniform(size=1000)
    np.testing.assert_array_equal(df["x1"], x1)
    np.testing.assert_allclose(df["x2"], 5 * np.sin(25 * x1) + rng.normal(0, 0.5, 1000))
    p = imbalance_pair(df["x1"], df["x2"])
    assert abs(p.a_to_b - 0.20) < 0.03
    assert abs(p.b_to_a - 0.96) < 0.03
    assert p.relation == "a_contains_b"


def test_spiral_height_contains_plane_and_angle_is_periodic():
    df = D.spiral()
    p = imbalance_pair(df["z"], df[["x", "y"]])
    assert p.a_to_b < 0.1 and p.b_to_a > 0.85 and p.relation == "a_contains_b"
    periodic = imbalance_pair(df["angle"], df[["x", "y"]], period=(2 * np.pi, None))
    plain = imbalance_pair(df["angle"], df[["x", "y"]])
    assert periodic.relation == "equivalent"
    assert periodic.a_to_b < 0.03 and periodic.b_to_a < 0.03
    assert plain.b_to_a > 1.5 * periodic.b_to_a  # the seam at 0 = 2 pi
    assert df["angle"].between(0, 2 * np.pi).all()
    # more turns: the plane says even less about the height
    assert information_imbalance(D.spiral(turns=8)[["x", "y"]], D.spiral(turns=8)["z"]) > 0.85
    with pytest.raises(ValueError, match="turns"):
        D.spiral(turns=0)


# --------------------------------------------------------------------------------------
# Rossler
# --------------------------------------------------------------------------------------
def imbalance_gain(cause, effect, tau, k=5, alphas=np.linspace(0, 1, 6)):
    """IG(cause -> effect) = (Delta(0) - min_alpha Delta(alpha)) / Delta(0)."""
    c0, e0, e_tau = cause[:-tau], effect[:-tau], effect[tau:]
    deltas = [information_imbalance(np.c_[a * c0, e0], e_tau, k=k) for a in alphas]
    return (deltas[0] - min(deltas)) / deltas[0]


def test_rossler_trajectory_is_bounded_and_matches_the_fixture_scale():
    df = D.rossler()
    assert list(df.columns) == ["t", "x1", "y1", "z1", "x2", "y2", "z2"]
    assert len(df) == 2000
    np.testing.assert_allclose(np.diff(df["t"]), 1.57, rtol=1e-9)
    values = df.drop(columns="t")
    assert np.isfinite(values.to_numpy()).all()
    assert (values[["x1", "y1", "x2", "y2"]].abs() < 30).all().all()
    assert ((values[["z1", "z2"]] > 0) & (values[["z1", "z2"]] < 60)).all().all()
    fixture = np.load("/work/shared/reference/rosslers_xtoy_trajectory.npy")
    # X is the same oscillator as the fixture's; the fixture's Y is almost synchronised
    # with X (corr(x1, x2) = 0.97, a stronger coupling), so only Y's x and y compare
    ratio = values.to_numpy().std(axis=0)[:5] / fixture.std(axis=0)[:5]
    assert ((ratio > 0.85) & (ratio < 1.15)).all(), ratio
    # consecutive rows a quarter turn apart, as in the fixture
    step = np.mod(np.diff(np.arctan2(df["y1"], df["x1"])), 2 * np.pi)
    fixture_step = np.mod(np.diff(np.arctan2(fixture[:, 1], fixture[:, 0])), 2 * np.pi)
    assert abs(np.median(step) - np.median(fixture_step)) < 0.1


def test_rossler_x_drives_y():
    df = D.rossler(1500)
    X, Y = df[["x1", "y1", "z1"]].to_numpy(), df[["x2", "y2", "z2"]].to_numpy()
    ig_xy = imbalance_gain(X, Y, tau=5)
    ig_yx = imbalance_gain(Y, X, tau=5)
    assert ig_xy > 0.3
    assert ig_yx < 0.05


def test_rossler_uncoupled_systems_are_independent():
    df = D.rossler(1500, coupling=0.0)
    X, Y = df[["x1", "y1", "z1"]].to_numpy(), df[["x2", "y2", "z2"]].to_numpy()
    assert information_imbalance(X, Y) > 0.95
    assert imbalance_gain(X, Y, tau=5) < 0.02
    assert imbalance_gain(Y, X, tau=5) < 0.02
    # X does not depend on the coupling at all: same start, same X
    coupled = D.rossler(1500)
    np.testing.assert_array_equal(df[["x1", "y1", "z1"]], coupled[["x1", "y1", "z1"]])
    assert not np.allclose(df["x2"], coupled["x2"])


def test_rossler_bad_parameters():
    with pytest.raises(ValueError, match="coupling must be >= 0"):
        D.rossler(10, coupling=-0.1)
    with pytest.raises(ValueError, match="dt > 0"):
        D.rossler(10, dt=0.0)
    with pytest.raises(TypeError, match="sample_interval must be a finite number"):
        D.rossler(10, sample_interval=float("nan"))


# --------------------------------------------------------------------------------------
# the policy panel
# --------------------------------------------------------------------------------------
EFFECTIVE = list(D.EFFECTIVE_POLICIES)
STATE = ["cases_growth"]


@pytest.fixture(scope="module")
def panel():
    return D.policy_panel()


def pairs_delta(df, source, target, lag):
    src, tgt, _ = lagged_pairs(df, source, target, lag=lag, time="date", entity="id")
    return information_imbalance(src, tgt)


def test_policy_panel_structure(panel):
    raw_columns = ["id", "date", "population", *D.POLICIES, "confirmed", "tests", "deaths"]
    assert list(panel.columns[:len(raw_columns)]) == raw_columns
    assert panel.shape[0] == 40 * 80 and panel["id"].nunique() == 40
    dates = panel["date"].drop_duplicates().sort_values()
    assert len(dates) == 80 and (dates.dt.day_of_week == 6).all()
    assert (dates.diff().dropna() == pd.Timedelta(days=7)).all()
    for p in D.POLICIES:
        assert pd.api.types.is_integer_dtype(panel[p]) and panel[p].between(0, 4).all()
        assert panel[p].nunique() == 5
    g = panel.groupby("id")
    for c in ("confirmed", "tests", "deaths"):
        assert pd.api.types.is_integer_dtype(panel[c])
        assert (g[c].diff().dropna() >= 0).all()
    # persistent steps, not noise: a policy changes in a minority of weeks ...
    real = [p for p in D.POLICIES if p != "dummy_policy"]
    changes = (g[real].diff().dropna() != 0).mean()
    assert (changes < 0.3).all() and (changes > 0.02).all()
    # ... except the dummy, drawn afresh for every row: it changes 4 weeks in 5
    assert 0.75 < (g["dummy_policy"].diff().dropna() != 0).mean() < 0.85
    # ... and nations follow different paths
    paths = panel.pivot(index="date", columns="id", values="stay_home_restrictions")
    assert paths.T.drop_duplicates().shape[0] == 40


def test_policy_panel_derived_columns_come_from_epidemic_state(panel):
    raw = D.policy_panel(derived=False)
    assert "cases_growth" not in raw.columns
    pd.testing.assert_frame_equal(D.epidemic_state(raw), panel)
    first = panel.groupby("id").head(2)
    assert first["cases_growth"].isna().all()
    i = panel.index[(panel["id"] == "N01")][2]
    expected = np.log((panel.at[i, "confirmed_new"] + 1) / (panel.at[i - 1, "confirmed_new"] + 1))
    assert panel.at[i, "cases_growth"] == pytest.approx(expected)
    assert panel.at[i, "positivity"] == pytest.approx(panel.at[i, "confirmed_new"]
                                                      / panel.at[i, "tests_new"])
    assert panel.at[i, "deaths_per_100k"] == pytest.approx(
        panel.at[i, "deaths_new"] / panel.at[i, "population"] * 1e5)


def test_policy_panel_delays(panel):
    g = panel.groupby("id")
    # deaths follow cases by three weeks
    log_cases = np.log(panel["confirmed_new"] + 1)
    log_deaths = np.log(panel["deaths_new"] + 1)
    corr = [log_deaths.corr(log_cases.groupby(panel["id"]).shift(lag)) for lag in range(6)]
    assert int(np.argmax(corr)) == 3
    # tests follow the testing policy one week later
    log_tests = np.log(panel["tests_new"])
    rose = g["testing_policy"].diff() > 0
    next_week = log_tests.groupby(panel["id"]).shift(-1) - log_tests
    same_week = log_tests - log_tests.groupby(panel["id"]).shift(1)
    assert next_week[rose].mean() > same_week[rose].mean() + 0.15


def test_policy_panel_four_policies_jointly_carry_the_information(panel):
    four = pairs_delta(panel, EFFECTIVE, STATE, 2)
    assert four < 0.35
    src, tgt, info = lagged_pairs(panel, EFFECTIVE, STATE, lag=2, time="date", entity="id")
    assert info["n_pairs"] == 40 * 78 and info["n_entities"] == 40
    assert information_imbalance(tgt, src) > four + 0.15  # E_t+2 does not predict P_t
    singles = {p: pairs_delta(panel, [p], STATE, 2) for p in D.POLICIES}
    for p in EFFECTIVE:
        assert 0.65 < singles[p] < 0.85, (p, singles[p])  # each alone says little
    for p in D.WEAK_POLICIES:
        assert singles[p] > 0.85, (p, singles[p])
    assert singles["dummy_policy"] > 0.95
    # the dummy adds nothing to the effective set; swapping out any effective policy hurts
    assert pairs_delta(panel, EFFECTIVE + ["dummy_policy"], STATE, 2) > four - 0.005
    for out, replacement in itertools.product(EFFECTIVE, ["dummy_policy", "school_closing"]):
        swapped = [replacement if p == out else p for p in EFFECTIVE]
        assert pairs_delta(panel, swapped, STATE, 2) > four + 0.08, (out, replacement)


def test_policy_panel_dummy_is_information_free(panel):
    from infoimb import select_lagged
    # drawn independently for every row: it does not even identify the nation or the week
    dummy = panel[["dummy_policy"]].to_numpy(float)
    nation = panel["id"].str[1:].astype(int).to_numpy(float)
    for other in (nation, panel["date"].rank().to_numpy(), panel[STATE].to_numpy()):
        ok = np.isfinite(other.ravel())
        # 1000 random queries: standard error about 0.02
        assert information_imbalance(dummy[ok], other[ok], n_queries=1000,
                                     random_state=0) == pytest.approx(1.0, abs=0.05)
    assert pairs_delta(panel, ["dummy_policy"], STATE, 2) == pytest.approx(1.0, abs=0.03)
    r = select_lagged(panel, list(D.POLICIES), STATE, lag=2, time="date", group="id",
                      method="greedy", max_features=5, n_queries=1000, random_state=0)
    picked = [s.features for s in r.steps]
    assert set(picked[3]) == set(EFFECTIVE)  # the true size is four
    assert all("dummy_policy" not in f for f in picked)


def test_policy_panel_lag_scan_shows_the_arrow_of_time(panel):
    lags = range(-5, 6)
    scan = {lag: pairs_delta(panel, EFFECTIVE, STATE, lag) for lag in lags}
    assert min(scan, key=scan.get) == 2
    for lag in range(1, 6):
        assert scan[lag] < scan[-lag] - 0.05, (lag, scan[lag], scan[-lag])
    # Fig. 3a: [tests, cases]_t predicts deaths_t+delta best three weeks ahead
    ranked = scale(panel, ["tests_per_100k", "cases_per_100k", "deaths_per_100k"], "rank")
    deaths = {lag: pairs_delta(ranked, ["tests_per_100k", "cases_per_100k"],
                               ["deaths_per_100k"], lag) for lag in lags}
    assert min(deaths, key=deaths.get) == 3
    for lag in range(1, 6):
        assert deaths[lag] < deaths[-lag]


def test_policy_panel_bad_parameters():
    with pytest.raises(ValueError, match="n_weeks must be at least 8"):
        D.policy_panel(3, n_weeks=4)
    with pytest.raises(ValueError, match="n must be at least 1"):
        D.policy_panel(0)


# --------------------------------------------------------------------------------------
# the real Covid-19 Data Hub file
# --------------------------------------------------------------------------------------
DATAHUB_CSV = """\
id,date,confirmed,deaths,recovered,tests,vaccines,school_closing,workplace_closing,\
cancel_events,gatherings_restrictions,transport_closing,stay_home_restrictions,\
internal_movement_restrictions,international_movement_restrictions,information_campaigns,\
testing_policy,contact_tracing,facial_coverings,vaccination_policy,elderly_people_protection,\
administrative_area_level,administrative_area_level_1,administrative_area_level_2,\
population,iso_alpha_3
a7d4,2020-03-09,100,5,0,2000,,3,-2,2,4,0,2,2,3,2,1,1,0,0,1,1,Italy,,60000000,ITA
a7d4,2020-03-02,20,1,0,900,,-1,0,1,0,0,0,0,1,1,1,1,0,0,0,1,Italy,,60000000,ITA
a7d4,2020-03-06,50,2,0,1500,,-2,0,1,2,0,1,0,2,1,1,1,0,0,0,1,Italy,,60000000,ITA
a7d4,2020-03-14,180,9,0,2500,,3,-2,2,4,0,2,2,3,2,1,1,0,0,1,1,Italy,,60000000,ITA
a7d4,2020-03-16,210,12,0,,,3,-2,2,4,1,3,2,3,2,2,1,0,0,1,1,Italy,,60000000,ITA
a7d4,2020-03-22,300,20,0,3500,,3,3,2,4,1,3,2,4,2,2,2,-1,0,1,1,Italy,,60000000,ITA
b91e,2020-03-03,10,0,0,500,,0,0,0,0,0,0,0,0,0,1,0,0,0,0,1,France,,67000000,FRA
b91e,2020-03-10,15,1,0,800,,2,1,1,1,0,0,0,1,1,1,1,0,0,0,1,France,,67000000,FRA
b91e,2020-03-17,12,2,0,1200,,3,2,2,3,1,3,1,3,2,2,1,1,0,1,1,France,,67000000,FRA
c3f0,2020-03-09,80,4,0,1000,,3,2,2,4,0,2,2,3,2,1,1,0,0,1,2,Italy,Lombardia,10000000,ITA
"""


def test_load_covid_datahub_matches_the_synthetic_panel_columns():
    df = D.load_covid_datahub(io.StringIO(DATAHUB_CSV))
    synthetic = D.policy_panel(2, n_weeks=8, derived=False)
    assert list(df.columns) == list(synthetic.columns)
    # country level only (Lombardia dropped), weekly, weeks ending on Sunday
    assert df["id"].tolist() == ["a7d4"] * 3 + ["b91e"] * 3
    assert df["date"].dt.strftime("%m-%d").tolist() == ["03-08", "03-15", "03-22"] * 2
    ita = df[df["id"] == "a7d4"]
    # the last value of each week: cumulative counts at the week's end
    assert ita["confirmed"].tolist() == [50, 180, 300]
    assert ita["deaths"].tolist() == [2, 9, 20]
    assert ita["tests"].tolist() == [1500, 2500, 3500]
    # "targeted" levels are negative in the Data Hub: the level is the absolute value
    assert ita["school_closing"].tolist() == [2, 3, 3]
    assert ita["workplace_closing"].tolist() == [0, 2, 3]
    assert ita["facial_coverings"].tolist() == [0, 0, 1]
    assert (df[list(D.PAPER_POLICIES)] >= 0).all().all()
    assert df["dummy_policy"].between(0, 4).all()
    # drawn afresh for every row (information-free), not one level per country
    assert (df.groupby("id")["dummy_policy"].nunique() > 1).any()
    assert ita["population"].tolist() == [60000000] * 3


def test_load_covid_datahub_feeds_the_same_analysis_path():
    with pytest.warns(UserWarning, match=r"'confirmed': 1 negative difference.*'b91e'"):
        state = D.epidemic_state(D.load_covid_datahub(io.StringIO(DATAHUB_CSV)))
    ita = state[state["id"] == "a7d4"]
    np.testing.assert_array_equal(ita["confirmed_new"], [np.nan, 130, 120])
    np.testing.assert_allclose(ita["positivity"], [np.nan, 130 / 1000, 120 / 1000])
    np.testing.assert_allclose(ita["cases_growth"], [np.nan, np.nan, np.log(121 / 131)])
    fra = state[state["id"] == "b91e"]
    assert np.isnan(fra["confirmed_new"].iloc[2])  # 15 -> 12 is a correction, not a count
    src, tgt, info = lagged_pairs(state, list(D.PAPER_POLICIES), ["confirmed_new"], lag=1,
                                  time="date", entity="id")
    # pairs (week 1 -> 2) and (2 -> 3) per country; FRA's week 3 count is missing
    assert info["n_pairs"] == 3 and info["n_dropped_missing"] == 1


def test_load_covid_datahub_options():
    daily = D.load_covid_datahub(io.StringIO(DATAHUB_CSV), period=None, dummy=False,
                                 id_column="iso_alpha_3")
    assert "dummy_policy" not in daily.columns
    assert daily["id"].tolist() == ["FRA"] * 3 + ["ITA"] * 6
    ita = daily[daily["id"] == "ITA"]
    assert ita["date"].is_monotonic_increasing
    assert ita["confirmed"].tolist() == [20, 50, 100, 180, 210, 300]
    assert np.isnan(ita["tests"].iloc[4])
    a = D.load_covid_datahub(io.StringIO(DATAHUB_CSV), random_state=1)
    b = D.load_covid_datahub(io.StringIO(DATAHUB_CSV), random_state=1)
    pd.testing.assert_frame_equal(a, b)


def test_load_covid_datahub_bad_files():
    no_tests = DATAHUB_CSV.replace(",tests,", ",tests_done,")
    with pytest.raises(ValueError, match="lacks column.*'tests'"):
        D.load_covid_datahub(io.StringIO(no_tests))
    with pytest.raises(ValueError, match="lacks column.*'elderly_people_protection'"):
        D.load_covid_datahub(io.StringIO(DATAHUB_CSV.replace("elderly_people_protection",
                                                             "elderly")), policies="all")
    regions_only = DATAHUB_CSV.replace(",1,Italy,,", ",2,Italy,,").replace(",1,France,,",
                                                                          ",2,France,,")
    with pytest.raises(ValueError, match="no country-level rows"):
        D.load_covid_datahub(io.StringIO(regions_only))
    bad_date = DATAHUB_CSV.replace("2020-03-16", "16th of Smarch")
    with pytest.raises(ValueError, match="'date'.*'16th of Smarch'"):
        D.load_covid_datahub(io.StringIO(bad_date))
    with pytest.raises(ValueError, match="policies must be"):
        D.load_covid_datahub(io.StringIO(DATAHUB_CSV), policies="some")


def test_load_covid_datahub_all_policies():
    df = D.load_covid_datahub(io.StringIO(DATAHUB_CSV), policies="all", dummy=False)
    assert set(D.DATAHUB_POLICIES) <= set(df.columns)
    assert df.loc[df["id"] == "a7d4", "cancel_events"].tolist() == [1, 2, 2]


# --------------------------------------------------------------------------------------
# descriptors
# --------------------------------------------------------------------------------------
def test_descriptors_a_few_features_suffice():
    df, truth = D.descriptors(return_truth=True)
    features = df.drop(columns="energy")
    assert features.shape == (1000, 240) and list(features.columns[:2]) == ["f000", "f001"]
    assert truth.features.index.tolist() == features.columns.tolist()
    assert (truth.features["transform"] == "noise").sum() == 24
    latent, energy = truth.latent, df["energy"]
    s = latent.to_numpy()
    np.testing.assert_allclose(energy, s[:, 0] + 0.5 * s[:, 1] ** 2 + 0.3 * s[:, 0] * s[:, 1]
                               + 0.5 * np.sin(np.pi * s[:, 2] / 2))
    # the 240 features are the latent state, and predict the energy as well as it does
    assert imbalance_pair(features, latent).relation == "equivalent"
    full = information_imbalance(features, energy)
    assert full < 0.2
    assert full < information_imbalance(latent, energy) + 0.05
    # three well-chosen features are equivalent to all 240 ...
    best = truth.best_features()
    assert len(best) == 3
    assert [truth.features.at[c, "latents"] for c in best] == [(0,), (1,), (2,)]
    p = imbalance_pair(features[best], features)
    assert p.a_to_b < 0.02 and p.b_to_a < 0.02
    assert information_imbalance(features[best], energy) < full + 0.05
    # ... three random ones are not, and noise columns say nothing
    rng = np.random.default_rng(0)
    random3 = [information_imbalance(features[rng.choice(features.columns, 3, replace=False)],
                                     energy) for _ in range(8)]
    assert np.median(random3) > 0.4
    noise = truth.features.index[(truth.features["transform"] == "noise").to_numpy()][:3]
    assert information_imbalance(features[list(noise)], energy) > 0.9


def test_descriptors_options():
    df = D.descriptors(200, n_features=50, n_latent=4, random_state=2)
    assert df.shape == (200, 51)
    with pytest.raises(ValueError, match="n_latent must be at least 2"):
        D.descriptors(100, n_latent=1)
    with pytest.raises(ValueError, match="noise_fraction"):
        D.descriptors(100, noise_fraction=1.0)
