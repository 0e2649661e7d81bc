"""Categorical features (METHOD.md section 7): 0 equal / 1 different per feature, mixed
numeric + categorical spaces by Gower's combination, a metric per space. Categorical data is
all ties, so every check is against the brute-force reference (tests/reference.py)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb._spaces import SMALL_N, SmallSampleWarning, make_pair
from infoimb.imbalance import pair_terms, query_indices

from reference import imbalance as ref

N = 150


def _trial(n=N, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "arm": rng.choice(["placebo", "low", "high"], n),
        "sex": rng.choice(["M", "F"], n),
        "site": pd.Categorical(rng.choice(["Oslo", "Turin", "Lyon", "Graz"], n)),
        "smoker": rng.random(n) < 0.3,
        "age": rng.integers(20, 85, n).astype(float),   # range 64 (forced below): exact
        "dose": rng.integers(0, 5, n).astype(float),    # range 4
    })
    df.loc[0, "age"], df.loc[1, "age"] = 20.0, 84.0
    df.loc[0, "dose"], df.loc[1, "dose"] = 0.0, 4.0
    effect = df["arm"].map({"placebo": 0.0, "low": 1.0, "high": 2.0})
    # quarters in [0, 4], both ends present: values, differences and Gower's division by the
    # range (4) are exact in binary, so every tie is exact (see reference.py)
    df["response"] = np.clip(np.round(4 * (effect + 0.01 * df["age"] + rng.normal(0, 0.3, n))) / 4, 0, 4)
    df.loc[2, "response"], df.loc[3, "response"] = 0.0, 4.0
    return df


def _codes(df):
    """Independent encoding for the reference: np.unique codes per column."""
    return np.column_stack([np.unique(df[c].astype(str), return_inverse=True)[1]
                            if not pd.api.types.is_numeric_dtype(df[c]) or df[c].dtype == bool
                            else df[c].to_numpy(float) for c in df.columns]).astype(float)


def _is_cat(df):
    # booleans stay numeric 0/1: |0 - 1| is the mismatch in every metric
    return [not pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]


TRIAL = _trial()


@pytest.mark.parametrize("k", [1, 3, 10])
def test_all_categorical_equals_the_reference(k):
    a = TRIAL[["arm", "sex", "site", "smoker"]]
    b = TRIAL[["response"]]
    got = infoimb.imbalance_pair(a, b, k=k)
    want = (ref(_codes(a), b, k=k, metric="categorical", metric_b="euclidean"),
            ref(b, _codes(a), k=k, metric="euclidean", metric_b="categorical"))
    assert (got.a_to_b, got.b_to_a) == pytest.approx(want, abs=1e-14)


@pytest.mark.parametrize("k", [1, 4])
def test_mixed_space_is_gower_and_equals_the_reference(k):
    a = TRIAL[["arm", "age", "sex", "dose"]]
    b = TRIAL[["response", "sex", "smoker"]]
    got = infoimb.imbalance_pair(a, b, k=k)
    want = (ref(_codes(a), _codes(b), k=k, metric="gower", categorical_a=_is_cat(a),
                categorical_b=_is_cat(b)),
            ref(_codes(b), _codes(a), k=k, metric="gower", categorical_a=_is_cat(b),
                categorical_b=_is_cat(a)))
    assert (got.a_to_b, got.b_to_a) == pytest.approx(want, abs=1e-14)
    sa, sb = make_pair(a, b)
    assert (sa.metric, sb.metric) == ("gower", "gower")
    assert sa.categorical == ("arm", "sex")


def test_gower_on_continuous_values():
    rng = np.random.default_rng(5)
    a = TRIAL[["arm"]].assign(x=rng.normal(size=N) * 1e3, y=rng.uniform(size=N))
    b = TRIAL[["response"]]
    want = ref(_codes(a), b, metric="gower", metric_b="euclidean", categorical_a=_is_cat(a))
    assert infoimb.information_imbalance(a, b) == pytest.approx(want, abs=1e-12)


def test_row_order_and_category_labels_do_not_matter():
    a, b = TRIAL[["arm", "sex", "age"]], TRIAL[["response"]]
    base = infoimb.imbalance_pair(a, b)
    perm = np.random.default_rng(1).permutation(N)
    p = infoimb.imbalance_pair(a.iloc[perm], b.iloc[perm])
    assert (p.a_to_b, p.b_to_a) == pytest.approx((base.a_to_b, base.b_to_a), abs=1e-14)
    renamed = a.assign(arm=a["arm"].map({"placebo": "P", "low": "L", "high": "H"}))
    assert infoimb.information_imbalance(renamed, b) == pytest.approx(base.a_to_b, abs=1e-14)
    # a constant text column says nothing: Delta = 1 exactly
    assert infoimb.information_imbalance(a.assign(arm="x")[["arm"]], b) == 1.0


@pytest.mark.parametrize("metric", ["auto", "categorical"])
def test_both_kernel_paths_agree_on_categorical_data(metric):
    a, b = TRIAL[["arm", "sex", "site"]], TRIAL[["age", "dose", "arm"]]
    sa, sb = make_pair(a, b, metric=metric)
    q = query_indices(N, None)
    for k in (1, 5):
        rows = pair_terms(sa, sb, k, q, streamed=False)
        streamed = pair_terms(sa, sb, k, q, streamed=True)
        np.testing.assert_array_equal(rows[0], streamed[0])
        np.testing.assert_array_equal(rows[1], streamed[1])


def test_numeric_codes_declared_categorical_equal_the_text():
    text = infoimb.imbalance_pair(TRIAL[["arm"]], TRIAL[["response"]])
    codes = TRIAL[["arm"]].assign(arm=TRIAL["arm"].map({"placebo": 0, "low": 1, "high": 7}))
    declared = infoimb.imbalance_pair(codes, TRIAL[["response"]], categorical=["arm"])
    assert (declared.a_to_b, declared.b_to_a) == pytest.approx((text.a_to_b, text.b_to_a), abs=1e-14)
    as_numbers = infoimb.information_imbalance(TRIAL[["response"]], codes)
    assert as_numbers != pytest.approx(text.b_to_a)  # as numbers, 7 is farther from 1 than 0 is
    # an object array is categorical too
    arr = TRIAL["arm"].to_numpy(dtype=object)
    assert infoimb.information_imbalance(arr, TRIAL["response"].to_numpy()) == pytest.approx(text.a_to_b)


def test_a_metric_per_space():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
    y[:, 0] += x[:, 0]
    got = infoimb.imbalance_pair(x, y, metric=("euclidean", "manhattan"))
    want = (ref(x, y, metric="euclidean", metric_b="manhattan"),
            ref(y, x, metric="manhattan", metric_b="euclidean"))
    assert (got.a_to_b, got.b_to_a) == pytest.approx(want, abs=1e-14)
    with pytest.raises(ValueError, match="pair"):
        infoimb.imbalance_pair(x, y, metric=("euclidean", "manhattan", "chebyshev"))
    with pytest.raises(ValueError, match="'precomputed' applies to both"):
        infoimb.imbalance_pair(x, y, metric=("precomputed", "euclidean"))


def test_bad_categorical_input_is_refused():
    a, b = TRIAL[["arm", "age"]], TRIAL[["response"]]
    with pytest.raises(ValueError, match=r"\['arm'\] categorical and \['age'\] numeric.*gower"):
        infoimb.imbalance_pair(a, b, metric="euclidean")
    with pytest.raises(ValueError, match="'arm' is categorical; its weight must be 1"):
        infoimb.imbalance_pair(a, b, weights={"arm": 2.0})
    with pytest.raises(ValueError, match="'arm' is categorical; a period does not apply"):
        infoimb.imbalance_pair(a, b, period={"arm": 3.0})
    with pytest.raises(ValueError, match=r"categorical: unknown column\(s\) \['nope'\]"):
        infoimb.imbalance_pair(a, b, categorical=["nope"])
    with pytest.raises(ValueError, match="column 'arm' has 1 NaN"):
        infoimb.imbalance_pair(a.assign(arm=a["arm"].where(a.index != 3)), b)
    with pytest.raises(TypeError, match="'when' holds dates"):
        infoimb.imbalance_pair(a.assign(when=pd.Timestamp("2021-03-01")), b)
    with pytest.raises(ValueError, match="weights apply to numeric features"):
        infoimb.optimize_weights(a, b, method="coordinate")


def test_selection_with_categorical_candidates_equals_the_reference():
    X = TRIAL[["arm", "sex", "age", "dose"]]
    y = TRIAL["response"]
    r = infoimb.select_features(X, y, method="exhaustive", max_features=2)
    assert r.metric == "gower" and r.best(1).features == ("arm",)
    codes, cat = _codes(X), np.array(_is_cat(X))
    names = list(X.columns)
    for _, row in r.candidates.iterrows():
        cols = [names.index(c) for c in row["features"].split(";")]
        # Gower's per-feature ranges do not depend on the subset: each candidate is the
        # Gower distance of its own features
        want = ref(codes[:, cols], y, metric="gower", metric_b="euclidean",
                   categorical_a=cat[cols])
        assert row["a_to_b"] == pytest.approx(want, abs=1e-14), row["features"]
    # the target's own metric: a categorical target
    r2 = infoimb.select_features(TRIAL[["age", "dose", "response"]], TRIAL["arm"],
                                 method="exhaustive", max_features=1, metric=("manhattan", "auto"))
    want = ref(TRIAL[["response"]], _codes(TRIAL[["arm"]]), metric="manhattan",
               metric_b="categorical")
    row = r2.candidates.set_index("features").loc["response"]
    assert r2.metric == "manhattan" and row["a_to_b"] == pytest.approx(want, abs=1e-14)


def test_small_n_warns_and_large_enough_does_not():
    x = np.arange(12.0)
    with pytest.warns(SmallSampleWarning, match=f"N=12 points \\(fewer than {SMALL_N}\\)"):
        infoimb.imbalance_pair(x, x ** 2)
    with pytest.warns(SmallSampleWarning, match="feature selection on only N=12"):
        infoimb.select_features(np.c_[x, x ** 2], x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        infoimb.imbalance_pair(np.arange(20.0), np.arange(20.0) ** 2)


def test_out_of_range_options_are_refused_not_corrected():
    x = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        infoimb.imbalance_pair(x, x, k=0)
    with pytest.raises(ValueError, match=r"max_features=5 is larger than the number of candidate features \(3\)"):
        infoimb.select_features(x, x[:, 0] + 1, max_features=5)
    with pytest.raises(ValueError, match="n_scatter must be at least 0, got -1"):
        infoimb.rank_samples(x, x, n_scatter=-1)
    with pytest.raises(ValueError, match="n_partners must be at least 1, got 0"):
        infoimb.rank_samples(x, x, n_partners=0)


def test_the_tree_algorithm_never_serves_categorical_spaces():
    rng = np.random.default_rng(4)
    n = 4000  # above the tree's crossover for d <= 2: "auto" would take it for numbers
    a = pd.DataFrame({"arm": rng.choice(["x", "y", "z"], n)})
    b = pd.DataFrame({"y": rng.normal(size=n)})
    with pytest.raises(ValueError, match="algorithm='tree' does not support metric 'categorical'"):
        infoimb.imbalance_pair(a, b, algorithm="tree", n_bootstrap=0)
    with pytest.raises(ValueError, match="does not support metric 'categorical'"):
        infoimb.imbalance_pair(b, a, algorithm="tree", n_bootstrap=0)  # on B's side too
    auto = infoimb.imbalance_pair(a, b, n_bootstrap=0)
    brute = infoimb.imbalance_pair(a, b, algorithm="brute", n_bootstrap=0)
    assert (auto.a_to_b, auto.b_to_a) == (brute.a_to_b, brute.b_to_a)
    with pytest.raises(ValueError, match="does not support metric 'gower'"):
        infoimb.select_features(a.assign(v=rng.normal(size=n)), b["y"], algorithm="tree")
