"""Tests of the core engine (infoimb.imbalance) against the brute-force reference and METHOD.md.

The reference (tests/reference.py) is plain NumPy and shares no code with infoimb; every
comparison with it is exact up to floating-point summation (1e-12). The published values of
METHOD.md section 5 are compared to their printed digits.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import classify_relation, imbalance_pair, information_imbalance, rank_samples

try:  # tests/ as a package, or (the default) tests/ on sys.path
    from . import reference as ref
except ImportError:
    import reference as ref

TOL = 1e-12
METRICS = ("euclidean", "manhattan", "chebyshev")


# --------------------------------------------------------------------------------------
# helpers and data
# --------------------------------------------------------------------------------------
def shared_dir() -> Path:
    """/work/shared (next to the repository), or $INFOIMB_SHARED."""
    env = os.environ.get("INFOIMB_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def assert_pair_matches(result, DA, DB, k):
    """Both directions of an ImbalancePair against the reference on distance matrices."""
    assert result.a_to_b == pytest.approx(ref.imbalance_from_matrices(DA, DB, k), abs=TOL)
    assert result.b_to_a == pytest.approx(ref.imbalance_from_matrices(DB, DA, k), abs=TOL)


def check_against_reference(a, b, *, k=1, metric="euclidean", period_a=None, period_b=None,
                            weights_a=None, weights_b=None, **api_kwargs):
    """Run infoimb on (a, b) and compare both directions with the reference."""
    result = imbalance_pair(a, b, k=k, metric=metric, **api_kwargs)
    if metric == "precomputed":
        DA, DB = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    else:
        DA = ref.distance_matrix(a, metric, period_a, weights_a)
        DB = ref.distance_matrix(b, metric, period_b, weights_b)
    assert_pair_matches(result, DA, DB, k)
    return result


def assert_printed(value: float, printed: str):
    """``value`` rounds to the ``printed`` decimal (tolerance: half a unit of its last digit)."""
    decimals = len(printed.split(".")[1])
    assert round(value, decimals) == pytest.approx(float(printed), abs=1e-12), (
        f"{value} does not round to {printed}")


def correlated_continuous(n, seed):
    """A (3 features) and B (2 features) sharing information, no ties."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 3))
    b = np.column_stack([a[:, 0] + 0.3 * rng.normal(size=n), rng.normal(size=n)])
    return a, b


def tied_integers(n, seed, levels=4):
    """Integer features 0..levels-1 (A: 3 dims, B: 2 dims, one column shared): many ties."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, levels, size=(n, 3))
    b = np.column_stack([a[:, 1], rng.integers(0, levels, size=n)])
    return a, b


@pytest.fixture(scope="module")
def gauss3():
    """METHOD.md section 5: rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]."""
    return np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]


@pytest.fixture(scope="module")
def grid_tie_data():
    """The METHOD.md tie example: 1000 points, x rounded to a 0.5 grid (x, y ~ N(0, 1))."""
    xy = np.random.default_rng(0).normal(size=(1000, 2))
    x_discrete = np.round(2 * xy[:, 0]) / 2
    return x_discrete, xy


# --------------------------------------------------------------------------------------
# exact agreement with the reference
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("metric", METRICS + ("precomputed",))
def test_continuous_data_matches_reference(metric, k):
    a, b = correlated_continuous(150, seed=1)
    if metric == "precomputed":
        a, b = ref.distance_matrix(a), ref.distance_matrix(b, "manhattan")
    result = check_against_reference(a, b, k=k, metric=metric)
    assert 0.0 < result.a_to_b < 1.0 and 0.0 < result.b_to_a < 1.2


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("metric", METRICS + ("precomputed",))
def test_tied_integer_data_matches_reference(metric, k):
    a, b = tied_integers(200, seed=2)
    if metric == "precomputed":
        a, b = ref.distance_matrix(a, "manhattan"), ref.distance_matrix(b, "chebyshev")
    check_against_reference(a, b, k=k, metric=metric)


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("metric", METRICS)
def test_two_dim_integer_data_matches_reference(metric, k):
    """Integers 0..3 in 2 dims (16 distinct points for 120 rows) against a continuous B."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, size=(120, 2))
    b = a + rng.normal(scale=0.7, size=a.shape)
    check_against_reference(a, b, k=k, metric=metric)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_duplicated_points_match_reference(k):
    rng = np.random.default_rng(4)
    base = rng.normal(size=(70, 3))
    rows = rng.permutation(np.repeat(np.arange(70), rng.integers(1, 4, size=70)))
    x = base[rows]  # each point 1 to 3 times
    # duplicated in both spaces
    check_against_reference(x[:, :2], x[:, 1:], k=k)
    # duplicated in A only
    check_against_reference(x, x[:, :1] + 0.1 * rng.normal(size=(len(rows), 1)), k=k)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_tied_precomputed_matrices_match_reference(k):
    """Symmetric integer 'distances' 0..4 (not a metric; heavy ties), zero diagonal."""
    rng = np.random.default_rng(5)
    n = 150
    mats = []
    for _ in range(2):
        upper = np.triu(rng.integers(0, 5, size=(n, n)), 1)
        mats.append(upper + upper.T)
    check_against_reference(mats[0], mats[1], k=k, metric="precomputed")
    # the same matrices as pandas DataFrames
    check_against_reference(pd.DataFrame(mats[0]), pd.DataFrame(mats[1]), k=k,
                            metric="precomputed")


@pytest.mark.parametrize("metric", METRICS)
def test_periodic_scalar_period_matches_reference(metric):
    rng = np.random.default_rng(6)
    # continuous, values spread over three periods: the minimum image must wrap them
    a = rng.uniform(0, 3, size=(150, 2))
    b = np.column_stack([a[:, 0] + 0.05 * rng.normal(size=150), rng.uniform(0, 3, size=150)])
    check_against_reference(a, b, k=3, metric=metric, period=1.0, period_a=1.0, period_b=1.0)
    # integers 0..5 on a circle of period 6: many ties (5 and 0 are neighbours)
    ai, bi = tied_integers(150, seed=7, levels=6)
    for k in (1, 10):
        check_against_reference(ai, bi, k=k, metric=metric, period=6, period_a=6, period_b=6)


def test_periodic_mapping_on_dataframes_matches_reference():
    rng = np.random.default_rng(8)
    n = 160
    angle = rng.uniform(-np.pi, np.pi, size=n)
    a = pd.DataFrame({"angle": angle, "x": rng.normal(size=n)})
    b = pd.DataFrame({"phase": np.mod(angle / (2 * np.pi) + 0.02 * rng.normal(size=n), 1.0),
                      "y": rng.normal(size=n)})
    period = {"angle": 2 * np.pi, "phase": 1.0}  # mixed: x and y are not periodic
    for k in (1, 3):
        res = check_against_reference(a, b, k=k, period=period, period_a=[2 * np.pi, None],
                                      period_b=[1.0, None])
    # a period changes the answer: without it, -pi and pi are far apart
    assert imbalance_pair(a, b).a_to_b != pytest.approx(res.a_to_b, abs=1e-3)


@pytest.mark.parametrize("k", [1, 10])
def test_periodic_mixed_integer_matches_reference(k):
    """Per-column mapping on integer data (ties) and the (for_a, for_b) pair form."""
    a, b = tied_integers(150, seed=9, levels=5)
    a_df = pd.DataFrame(a, columns=["p", "q", "r"])
    b_df = pd.DataFrame(b, columns=["s", "t"])
    check_against_reference(a_df, b_df, k=k, metric="manhattan", period={"q": 5, "s": 5},
                            period_a=[None, 5, None], period_b=[5, None])
    # pair form: A periodic (every feature), B not
    check_against_reference(a, b, k=k, period=(5.0, None), period_a=5.0, period_b=None)


@pytest.mark.parametrize("metric", METRICS)
def test_weights_match_reference(metric):
    a, b = correlated_continuous(150, seed=10)
    wa, wb = [0.3, 2.5, 1.0], [1.7, 0.2]
    # flat per-feature sequence (A's features first)
    check_against_reference(a, b, k=3, metric=metric, weights=wa + wb,
                            weights_a=wa, weights_b=wb)
    # pair form, a scalar weight for B
    check_against_reference(a, b, k=1, metric=metric, weights=(wa, 4.0),
                            weights_a=wa, weights_b=4.0)
    # integer data with integer weights: ties stay exact ties
    ai, bi = tied_integers(150, seed=11)
    check_against_reference(ai, bi, k=10, metric=metric, weights=[1, 2, 3, 1, 2],
                            weights_a=[1, 2, 3], weights_b=[1, 2])


def test_weights_on_dataframe_mapping_and_with_periods():
    rng = np.random.default_rng(12)
    n = 150
    a = pd.DataFrame({"hour": rng.integers(0, 24, size=n), "load": rng.integers(0, 5, size=n)})
    b = pd.DataFrame({"demand": a["load"] + rng.integers(0, 2, size=n)})
    # weights multiply the features and the periods: 'hour' becomes period 48 on values 0..46
    check_against_reference(a, b, k=3, period={"hour": 24}, weights={"hour": 2, "demand": 0.5},
                            period_a=[24, None], weights_a=[2, 1], weights_b=[0.5])


def test_zero_weight_drops_the_feature():
    a, b = tied_integers(200, seed=13)
    dropped = imbalance_pair(a[:, [0, 2]], b, k=3)
    zeroed = imbalance_pair(a, b, k=3, weights=[1, 0, 1, 1, 1])
    assert zeroed.a_to_b == pytest.approx(dropped.a_to_b, abs=TOL)
    assert zeroed.b_to_a == pytest.approx(dropped.b_to_a, abs=TOL)


def test_directions_are_consistent():
    a, b = tied_integers(150, seed=14)
    forward = imbalance_pair(a, b, k=3, metric="manhattan")
    backward = imbalance_pair(b, a, k=3, metric="manhattan")
    assert backward.a_to_b == pytest.approx(forward.b_to_a, abs=TOL)
    assert backward.b_to_a == pytest.approx(forward.a_to_b, abs=TOL)
    assert information_imbalance(a, b, k=3, metric="manhattan") == forward.a_to_b
    assert forward.a_to_b != pytest.approx(forward.b_to_a, abs=1e-3)  # Delta is asymmetric


def test_exact_standard_error_is_that_of_the_reference_terms():
    a, b = tied_integers(150, seed=15)
    result = imbalance_pair(a, b, k=3)
    DA, DB = ref.distance_matrix(a), ref.distance_matrix(b)
    for got, terms in ((result.a_to_b_se, ref.query_terms(DA, DB, 3)),
                       (result.b_to_a_se, ref.query_terms(DB, DA, 3))):
        assert got == pytest.approx(np.std(terms, ddof=1) / np.sqrt(150), abs=TOL)
    assert result.n == 150 and result.k == 3 and result.n_queries == 150 and result.exact
    assert result.symmetric_imbalance == pytest.approx(
        (result.a_to_b + result.b_to_a) / np.sqrt(2), abs=TOL)
    d = result.to_dict()
    assert d["a_to_b"] == result.a_to_b and d["exact"] is True and d["relation"] == result.relation


# --------------------------------------------------------------------------------------
# ties: invariances and exact values
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("metric", METRICS)
def test_row_permutation_invariance_on_tied_data(metric, k):
    a, b = tied_integers(300, seed=16)
    base = imbalance_pair(a, b, k=k, metric=metric)
    rng = np.random.default_rng(17)
    for _ in range(3):
        perm = rng.permutation(300)
        permuted = imbalance_pair(a[perm], b[perm], k=k, metric=metric)
        assert permuted.a_to_b == pytest.approx(base.a_to_b, abs=TOL)
        assert permuted.b_to_a == pytest.approx(base.b_to_a, abs=TOL)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_constant_feature_gives_exactly_one(k):
    rng = np.random.default_rng(18)
    const = np.full(120, 2.5)
    for b in (rng.normal(size=(120, 2)), rng.integers(0, 3, size=(120, 2))):
        result = imbalance_pair(const, b, k=k)
        assert result.a_to_b == pytest.approx(1.0, abs=TOL)  # Delta(const -> B)
        assert result.b_to_a == pytest.approx(1.0, abs=TOL)  # Delta(B -> const)
    # constant on both sides
    assert information_imbalance(const, np.zeros((120, 3)), k=k) == pytest.approx(1.0, abs=TOL)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_self_imbalance_is_the_floor(k):
    x = np.random.default_rng(19).normal(size=(250, 3))  # tie-free
    result = imbalance_pair(x, x, k=k)
    assert result.a_to_b == pytest.approx((k + 1) / 250, abs=TOL)
    assert result.b_to_a == pytest.approx((k + 1) / 250, abs=TOL)


def test_grid_tie_example_of_method(grid_tie_data):
    """METHOD.md: x rounded to a 0.5 grid, Delta(x_discrete -> xy) = 0.56, any row order.

    Measured on this instance (seed 0): 0.5621652454610718.
    """
    x_discrete, xy = grid_tie_data
    result = imbalance_pair(x_discrete, xy)
    assert_pair_matches(result, ref.distance_matrix(x_discrete), ref.distance_matrix(xy), 1)
    assert result.a_to_b == pytest.approx(0.56, abs=0.01)
    rng = np.random.default_rng(20)
    for _ in range(3):
        perm = rng.permutation(len(xy))
        assert information_imbalance(x_discrete[perm], xy[perm]) == pytest.approx(
            result.a_to_b, abs=TOL)
    # sorting the rows by y puts the tied x-neighbours in y order: index-order tie breaking
    # would move Delta there; the tie-aware value does not move
    order = np.argsort(xy[:, 1])
    assert information_imbalance(x_discrete[order], xy[order]) == pytest.approx(
        result.a_to_b, abs=TOL)


# --------------------------------------------------------------------------------------
# subsampled estimator
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_subsampled_estimate_within_three_standard_errors(gauss3, seed):
    exact = imbalance_pair(gauss3, gauss3[:, 0])
    sub = imbalance_pair(gauss3, gauss3[:, 0], n_queries=250, random_state=seed)
    assert sub.n_queries == 250 and not sub.exact and sub.n == 1000
    assert sub.a_to_b_se > 0 and sub.b_to_a_se > 0
    assert abs(sub.a_to_b - exact.a_to_b) <= 3 * sub.a_to_b_se
    assert abs(sub.b_to_a - exact.b_to_a) <= 3 * sub.b_to_a_se


def test_subsampled_estimate_on_tied_data_within_three_standard_errors():
    a, b = tied_integers(600, seed=21)
    exact = imbalance_pair(a, b, k=3)
    for seed in (0, 1, 2):
        sub = imbalance_pair(a, b, k=3, n_queries=150, random_state=seed)
        assert abs(sub.a_to_b - exact.a_to_b) <= 3 * sub.a_to_b_se
        assert abs(sub.b_to_a - exact.b_to_a) <= 3 * sub.b_to_a_se


def test_subsampled_estimate_is_reproducible(gauss3):
    first = imbalance_pair(gauss3, gauss3[:, :2], n_queries=200, random_state=7)
    again = imbalance_pair(gauss3, gauss3[:, :2], n_queries=200, random_state=7)
    other = imbalance_pair(gauss3, gauss3[:, :2], n_queries=200, random_state=8)
    assert again == first
    assert information_imbalance(gauss3, gauss3[:, :2], n_queries=200,
                                 random_state=7) == first.a_to_b
    assert other.a_to_b != first.a_to_b


def test_all_points_as_queries_is_the_exact_estimator(gauss3):
    exact = imbalance_pair(gauss3, gauss3[:, 2])
    full = imbalance_pair(gauss3, gauss3[:, 2], n_queries=1000, random_state=3)
    assert full.exact and full.a_to_b == pytest.approx(exact.a_to_b, abs=TOL)
    assert full.b_to_a == pytest.approx(exact.b_to_a, abs=TOL)


# --------------------------------------------------------------------------------------
# reference values of METHOD.md section 5
# --------------------------------------------------------------------------------------
GAUSS3_SUBSETS = {  # S: (Delta(full -> S), Delta(S -> full))
    "x": ([0], "0.063748", "0.548194"),
    "y": ([1], "0.061824", "0.56738"),
    "z": ([2], "0.4962", "0.984936"),
    "xy": ([0, 1], "0.004146", "0.008404"),
    "xz": ([0, 2], "0.036032", "0.544902"),
    "yz": ([1, 2], "0.03692", "0.554888"),
}


@pytest.mark.parametrize("subset", list(GAUSS3_SUBSETS))
def test_method_values_3d_gaussian(gauss3, subset):
    cols, full_to_s, s_to_full = GAUSS3_SUBSETS[subset]
    result = imbalance_pair(gauss3, gauss3[:, cols])
    # printed as round(value, 6); N = 1000 makes Delta a multiple of 2e-6
    assert round(result.a_to_b, 6) == pytest.approx(float(full_to_s), abs=1e-12)
    assert round(result.b_to_a, 6) == pytest.approx(float(s_to_full), abs=1e-12)


def test_method_values_x_and_y(gauss3):
    assert_printed(information_imbalance(gauss3[:, 0], gauss3[:, 1]), "0.9928")
    assert_printed(information_imbalance(gauss3[:, 1], gauss3[:, 0]), "1.0028")


def test_method_values_dadapy_fixture():
    path = shared_dir() / "reference" / "3d_gauss_small_z_var.npy"
    if not path.exists():
        pytest.skip(f"DADApy fixture not found at {path} (set INFOIMB_SHARED)")
    X = np.load(path)
    assert X.shape == (100, 3)
    subsets = [[0], [1], [2], [0, 1], [0, 2], [1, 2]]
    full_to_s = ["0.144", "0.15", "0.968", "0.02", "0.1426", "0.1492"]
    s_to_full = ["0.5978", "0.5128", "0.9696", "0.02", "0.6208", "0.5434"]
    for cols, fs, sf in zip(subsets, full_to_s, s_to_full):
        result = imbalance_pair(X, X[:, cols])
        assert_printed(result.a_to_b, fs)
        assert_printed(result.b_to_a, sf)
        assert_pair_matches(result, ref.distance_matrix(X), ref.distance_matrix(X[:, cols]), 1)


def test_method_values_4d_isotropic_gaussian():
    """Seed 0, N = 2000. Measured: 0.3571195 and 0.3481705."""
    Z = np.random.default_rng(0).normal(size=(2000, 4))
    result = imbalance_pair(Z[:, :3], Z[:, 1:])
    assert result.a_to_b == pytest.approx(0.34, abs=0.03)
    assert result.b_to_a == pytest.approx(0.34, abs=0.03)
    assert result.relation == "symmetric"


def test_method_values_sinusoid():
    """Seed 0: x1 = rng.uniform(size=1000), then noise = rng.normal(0, 0.5, size=1000).
    Measured: Delta(x1 -> x2) = 0.21752, Delta(x2 -> x1) = 0.97818."""
    rng = np.random.default_rng(0)
    x1 = rng.uniform(size=1000)
    x2 = 5 * np.sin(25 * x1) + rng.normal(0, 0.5, size=1000)
    result = imbalance_pair(x1, x2)
    assert result.a_to_b == pytest.approx(0.20, abs=0.03)
    assert result.b_to_a == pytest.approx(0.96, abs=0.03)
    assert result.relation == "a_contains_b"


@pytest.mark.parametrize(("k", "expected"), [(1, 0.061), (5, 0.093), (10, 0.119), (30, 0.185)])
def test_method_values_k_scan(gauss3, k, expected):
    assert information_imbalance(gauss3, gauss3[:, 0], k=k) == pytest.approx(expected, abs=0.01)


# --------------------------------------------------------------------------------------
# relations
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    ((0.05, 0.08), {}, "equivalent"),
    ((0.1, 0.05), {}, "symmetric"),  # 'below low' is strict; the gap 0.05 is below margin
    ((0.95, 0.92), {}, "independent"),
    ((0.9, 0.95), {}, "symmetric"),  # 'above high' is strict
    ((0.06, 0.55, 0.003, 0.01), {}, "a_contains_b"),
    ((0.55, 0.06, 0.01, 0.003), {}, "b_contains_a"),
    ((0.05, 0.95), {}, "a_contains_b"),
    ((0.4, 0.45), {}, "symmetric"),  # gap below margin
    ((0.3, 0.6, 0.1, 0.1), {}, "symmetric"),  # gap 0.3 < 3 * hypot(0.1, 0.1) = 0.42
    ((0.3, 0.6, 0.05, 0.05), {}, "a_contains_b"),  # gap 0.3 > 0.21
    ((0.5, 0.625), {"margin": 0.125}, "symmetric"),  # gap == margin is not 'more than'
    ((0.5, 0.75), {"margin": 0.125}, "a_contains_b"),
    ((0.15, 0.15), {"low": 0.2}, "equivalent"),
    ((0.85, 0.88), {"high": 0.8}, "independent"),
    ((0.3, 0.6, 0.1, 0.1), {"z": 2.0}, "a_contains_b"),  # 0.3 > 2 * 0.1414
])
def test_classify_relation_rule(args, kwargs, expected):
    assert classify_relation(*args, **kwargs) == expected


def test_relations_on_reference_data(gauss3):
    xy, xyz = gauss3[:, :2], gauss3
    assert imbalance_pair(xy, xyz).relation == "equivalent"
    assert imbalance_pair(xyz, xy).relation == "equivalent"
    assert imbalance_pair(gauss3, gauss3[:, 0]).relation == "a_contains_b"
    assert imbalance_pair(gauss3[:, 0], gauss3).relation == "b_contains_a"
    assert imbalance_pair(gauss3[:, 0], gauss3[:, 1]).relation == "independent"
    z4 = np.random.default_rng(0).normal(size=(2000, 4))
    assert imbalance_pair(z4[:, :3], z4[:, 1:]).relation == "symmetric"
    # the pair's relation is classify_relation of its own numbers
    p = imbalance_pair(gauss3, gauss3[:, 2], n_queries=300, random_state=0)
    assert p.relation == classify_relation(p.a_to_b, p.b_to_a, p.a_to_b_se, p.b_to_a_se)
    assert set(infoimb.RELATIONS) == {"equivalent", "a_contains_b", "b_contains_a",
                                      "symmetric", "independent"}


# --------------------------------------------------------------------------------------
# rank samples
# --------------------------------------------------------------------------------------
def test_rank_samples_shapes_and_ranges():
    a, b = tied_integers(300, seed=22)
    rs = rank_samples(a, b, n_queries=120, n_scatter=20, n_partners=30, random_state=0)
    assert rs.n == 300
    assert rs.query.shape == rs.rank_b_given_a1.shape == rs.rank_a_given_b1.shape == (120,)
    assert len(np.unique(rs.query)) == 120 and rs.query.min() >= 0 and rs.query.max() < 300
    assert rs.scatter_query.shape == (20,) and set(rs.scatter_query) <= set(rs.query)
    assert rs.rank_a.shape == rs.rank_b.shape == (20, 30)
    for r in (rs.rank_b_given_a1, rs.rank_a_given_b1, rs.rank_a, rs.rank_b):
        assert r.min() >= 1.0 and r.max() <= 299.0
    # n_queries=None: every point is a query
    assert rank_samples(a, b, n_queries=None, n_scatter=5, n_partners=5,
                        random_state=0).query.shape == (300,)


@pytest.mark.parametrize("n", [49, 200])
def test_rank_samples_self_ranks_are_exactly_one(n):
    x = np.random.default_rng(23).normal(size=(n, 2))  # tie-free
    rs = rank_samples(x, x, n_queries=None, n_scatter=10, n_partners=20, random_state=1)
    for r in (rs.rank_b_given_a1, rs.rank_a_given_b1):
        off = sorted({float(v) for v in r if v != 1.0})  # floats, so 1 - 2**-53 shows
        assert off == [], f"N={n}: {np.count_nonzero(r != 1.0)} ranks are not 1.0: {off}"
    assert np.array_equal(rs.rank_a, rs.rank_b)
    ranks, prob = rs.conditional_histogram()
    assert list(ranks) == [1] and prob[0] == pytest.approx(1.0, abs=TOL)


def _assert_rank_pairs_match_reference(rs, DA, DB, all_partners):
    for s, i in enumerate(rs.scatter_query):
        rA, rB = ref.midranks(DA[i], i), ref.midranks(DB[i], i)
        expected = Counter((rA[j], rB[j]) for j in range(len(rA)) if j != i)
        got = Counter(zip(rs.rank_a[s], rs.rank_b[s]))
        if all_partners:
            assert got == expected
        else:
            assert all(got[pair] <= expected[pair] for pair in got), (i, got - expected)


def test_rank_samples_match_reference_on_tied_data():
    a, b = tied_integers(150, seed=24)
    rs = rank_samples(a, b, n_queries=80, n_scatter=15, n_partners=149, metric="manhattan",
                      random_state=2)
    DA, DB = ref.distance_matrix(a, "manhattan"), ref.distance_matrix(b, "manhattan")
    _assert_rank_pairs_match_reference(rs, DA, DB, all_partners=True)
    # conditional ranks: the B-rank of the (tied) nearest A-neighbour is the k=1 term * N/2
    t_ab, t_ba = ref.query_terms(DA, DB, 1), ref.query_terms(DB, DA, 1)
    np.testing.assert_allclose(rs.rank_b_given_a1, t_ab[rs.query] * 150 / 2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(rs.rank_a_given_b1, t_ba[rs.query] * 150 / 2, rtol=0, atol=1e-9)
    assert np.any(rs.rank_b_given_a1 % 1 != 0)  # the ties produce fractional mid-ranks


def test_rank_samples_match_reference_on_continuous_data():
    a, b = correlated_continuous(200, seed=25)
    rs = rank_samples(a, b, n_queries=None, n_scatter=12, n_partners=40, random_state=3)
    DA, DB = ref.distance_matrix(a), ref.distance_matrix(b)
    for s, i in enumerate(rs.scatter_query):
        rA, rB = ref.midranks(DA[i], i), ref.midranks(DB[i], i)
        # tie-free: the A-rank names the partner; its B-rank must be the reference one
        partners = [int(np.flatnonzero(rA == r)[0]) for r in rs.rank_a[s]]
        assert len(set(partners)) == 40 and i not in partners
        np.testing.assert_array_equal(rs.rank_b[s], rB[partners])
    t_ab = ref.query_terms(DA, DB, 1)
    np.testing.assert_allclose(rs.rank_b_given_a1, t_ab * 200 / 2, rtol=0, atol=1e-9)


def test_rank_samples_precomputed_match_reference():
    a, b = tied_integers(120, seed=26)
    DA, DB = ref.distance_matrix(a, "chebyshev"), ref.distance_matrix(b)
    rs = rank_samples(DA, DB, metric="precomputed", n_queries=60, n_scatter=10,
                      n_partners=119, random_state=4)
    _assert_rank_pairs_match_reference(rs, DA, DB, all_partners=True)
    t_ab = ref.query_terms(DA, DB, 1)
    np.testing.assert_allclose(rs.rank_b_given_a1, t_ab[rs.query] * 120 / 2, rtol=0, atol=1e-9)


def test_conditional_histogram_sums_to_one():
    a, b = tied_integers(300, seed=27)
    rs = rank_samples(a, b, n_queries=200, n_scatter=5, n_partners=5, random_state=5)
    for which in ("b_given_a1", "a_given_b1"):
        r = rs.rank_b_given_a1 if which == "b_given_a1" else rs.rank_a_given_b1
        ranks, prob = rs.conditional_histogram(which)
        assert prob.sum() == pytest.approx(1.0, abs=TOL) and np.all(prob >= 0)
        assert np.array_equal(ranks, np.arange(1, len(prob) + 1))
        assert len(prob) == int(np.ceil(r.max()))
        # the histogram's mean rank is the mean mid-rank (the split preserves the mean)
        assert np.sum(ranks * prob) == pytest.approx(r.mean(), abs=1e-9)
        ranks5, prob5 = rs.conditional_histogram(which, max_rank=5)
        assert len(ranks5) == 5 and prob5.sum() == pytest.approx(1.0, abs=TOL)
        np.testing.assert_allclose(prob5[:4], prob[:4], rtol=0, atol=TOL)


# --------------------------------------------------------------------------------------
# bad input: every problem is named
# --------------------------------------------------------------------------------------
N_BAD = 10
_X = np.random.default_rng(28).normal(size=(N_BAD, 2))
_Y = np.random.default_rng(29).normal(size=(N_BAD, 2))


def _with(values, *cells):
    """A copy of ``values`` with the cells (row, column, value) replaced."""
    out = values.copy()
    for (r, c, v) in cells:
        out[r, c] = v
    return out


def _square(n=N_BAD):
    """A valid n x n distance matrix: |i - j|."""
    return np.abs(np.subtract.outer(np.arange(n), np.arange(n))).astype(float)


BAD_INPUTS = [
    # NaN and infinity: the column and the count of bad rows are named
    ("nan", dict(a=_with(_X, (3, 1, np.nan), (7, 1, np.nan)), b=_Y), ValueError,
     "a: column 'a1' has 2 NaN or infinite value(s); 2 row(s) are affected"),
    ("inf", dict(a=_X, b=_with(_Y, (0, 0, np.inf))), ValueError,
     "b: column 'b0' has 1 NaN or infinite value(s); 1 row(s)"),
    ("-inf and nan in one row", dict(a=_with(_X, (5, 0, -np.inf), (5, 1, np.nan)), b=_Y),
     ValueError, "column 'a0' has 1 NaN or infinite value(s) (and 1 more column(s)); "
                 "1 row(s) are affected"),
    ("nan in a named DataFrame column",
     dict(a=pd.DataFrame({"speed": [1.0, None, 3.0, np.nan, 5.0, 6.0]}), b=np.arange(6)),
     ValueError, "a: column 'speed' has 2 NaN or infinite value(s); 2 row(s)"),
    ("pandas NA in a nullable integer column",
     dict(a=np.arange(5), b=pd.Series([1, 2, pd.NA, 4, 5], dtype="Int64", name="count")),
     ValueError, "b: column 'count' has 1 NaN or infinite value(s); 1 row(s)"),
    ("nan in precomputed", dict(a=_with(_square(), (2, 3, np.nan)), b=_square(),
                                metric="precomputed"),
     ValueError, "a: the distance matrix has NaN or infinite entries in 1 row(s)"),
    # sizes
    ("two points", dict(a=[[0.0], [1.0]], b=[[1.0], [0.0]]), ValueError,
     "need at least 3 points, got 2"),
    ("mismatched lengths", dict(a=_X, b=_Y[:9]), ValueError,
     "a has 10 points but b has 9: both spaces must describe the same points"),
    ("mismatched precomputed", dict(a=_square(10), b=_square(9), metric="precomputed"),
     ValueError, "a has 10 points but b has 9"),
    # empty feature lists
    ("no features in a", dict(a=np.empty((N_BAD, 0)), b=_Y), ValueError,
     "a: no features (the feature list is empty)"),
    ("empty DataFrame selection", dict(a=_X, b=pd.DataFrame(_Y, columns=["u", "v"])[[]]),
     ValueError, "b: no features (the feature list is empty)"),
    # non-numeric: text is categorical now (tests/test_categorical.py); a text column in a
    # numeric metric's space, and dates, are refused by name
    ("string column", dict(a=pd.DataFrame({"x": np.arange(5.0), "name": list("abcde")}),
                           b=np.arange(5), metric="euclidean"),
     ValueError, "a: ['name'] categorical and ['x'] numeric in one space: metric='euclidean'"),
    ("date column", dict(a=_X, b=pd.DataFrame({"d": pd.date_range("2021-03-01", periods=N_BAD)})),
     TypeError, "b: column 'd' holds dates/times"),
    ("complex array", dict(a=_X, b=_Y + 1j), TypeError, "complex values are not supported"),
    ("three-dimensional array", dict(a=np.zeros((N_BAD, 2, 2)), b=_Y), ValueError,
     "a: expected shape (N,) or (N, d)"),
    # precomputed matrices
    ("negative distances", dict(a=_with(_square(), (1, 2, -1.0), (2, 1, -1.0)), b=_square(),
                                metric="precomputed"),
     ValueError, "a: the distance matrix has 2 negative entries"),
    ("non-square matrix", dict(a=_square(), b=_square()[:, :9], metric="precomputed"),
     ValueError, "b: a precomputed distance matrix must be square N x N, got shape (10, 9)"),
    ("1-D precomputed", dict(a=np.arange(10.0), b=_square(), metric="precomputed"),
     ValueError, "a precomputed distance matrix must be square"),
    ("period with precomputed", dict(a=_square(), b=_square(), metric="precomputed", period=1.0),
     ValueError, "period and weights do not apply to precomputed distances"),
    ("weights with precomputed", dict(a=_square(), b=_square(), metric="precomputed",
                                      weights=2.0),
     ValueError, "period and weights do not apply to precomputed distances"),
    # k
    ("k = N", dict(a=_X, b=_Y, k=10), ValueError,
     "k=10 must be smaller than the number of points N=10"),
    ("k > N", dict(a=_X, b=_Y, k=25), ValueError, "k=25 must be smaller"),
    ("k = 0", dict(a=_X, b=_Y, k=0), ValueError, "k must be at least 1, got 0"),
    ("k < 0", dict(a=_X, b=_Y, k=-2), ValueError, "k must be at least 1, got -2"),
    ("k float", dict(a=_X, b=_Y, k=1.5), TypeError, "k must be a whole number, got 1.5"),
    ("k whole float", dict(a=_X, b=_Y, k=2.0), TypeError, "k must be a whole number"),
    ("k bool", dict(a=_X, b=_Y, k=True), TypeError, "k must be a whole number"),
    ("k string", dict(a=_X, b=_Y, k="3"), TypeError, "k must be a whole number"),
    # n_queries
    ("n_queries > N", dict(a=_X, b=_Y, n_queries=11), ValueError,
     "n_queries=11 is larger than the number of points N=10"),
    ("n_queries = 0", dict(a=_X, b=_Y, n_queries=0), ValueError,
     "n_queries must be at least 1, got 0"),
    ("n_queries float", dict(a=_X, b=_Y, n_queries=2.5), TypeError,
     "n_queries must be a whole number or None"),
    # periods
    ("period 0", dict(a=_X, b=_Y, period=0.0), ValueError,
     "a period for 'a0' must be positive, got 0.0"),
    ("negative period", dict(a=_X, b=_Y, period=-1.0), ValueError,
     "a period for 'a0' must be positive, got -1.0"),
    ("negative period in a mapping", dict(a=_X, b=_Y, period={"b1": -2.0}), ValueError,
     "b period for 'b1' must be positive, got -2.0"),
    ("zero period per feature", dict(a=_X, b=_Y, period=[1.0, 0.0, 1.0, 1.0]), ValueError,
     "a period for 'a1' must be positive, got 0.0"),
    ("infinite period", dict(a=_X, b=_Y, period=(np.inf, None)), ValueError,
     "a period for 'a0' must be positive, got inf"),
    ("unknown column in period mapping", dict(a=_X, b=_Y, period={"a0": 1.0, "zz": 2.0}),
     ValueError, "period: unknown column(s) ['zz']"),
    ("unknown DataFrame column in period mapping",
     dict(a=pd.DataFrame(_X, columns=["angle", ""]), b=_Y, period={"angel": 6.28}),
     ValueError, "period: unknown column(s) ['angel']"),
    ("wrong number of periods", dict(a=_X, b=_Y, period=[1.0, 1.0, 1.0]), ValueError,
     "give a number, a mapping"),
    ("period as a string", dict(a=_X, b=_Y, period="daily"), TypeError,
     "period: expected a number, a mapping or a sequence"),
    # weights
    ("negative weight", dict(a=_X, b=_Y, weights=-1.0), ValueError,
     "a weights must be finite and non-negative; got -1.0 for 'a0'"),
    ("negative weight in a mapping", dict(a=_X, b=_Y, weights={"b1": -0.5}), ValueError,
     "b weights must be finite and non-negative; got -0.5 for 'b1'"),
    ("nan weight", dict(a=_X, b=_Y, weights=[1.0, np.nan, 1.0, 1.0]), ValueError,
     "a weights must be finite and non-negative; got nan for 'a1'"),
    ("unknown column in weights mapping", dict(a=_X, b=_Y, weights={"c0": 1.0}), ValueError,
     "weights: unknown column(s) ['c0']"),
    # metric
    ("unknown metric", dict(a=_X, b=_Y, metric="cosine"), ValueError,
     "metric must be one of 'euclidean', 'manhattan', 'chebyshev', 'precomputed'; got 'cosine'"),
    ("metric not a string", dict(a=_X, b=_Y, metric=None), ValueError, "metric must be one of"),
    # duplicate column names
    ("duplicate DataFrame columns", dict(a=pd.DataFrame(_X, columns=["x", "x"]), b=_Y),
     ValueError, "a: duplicate column names ['x']"),
]


@pytest.mark.parametrize(("kwargs", "exc", "match"), [c[1:] for c in BAD_INPUTS],
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_named(kwargs, exc, match):
    kwargs = dict(kwargs)
    a, b = kwargs.pop("a"), kwargs.pop("b")
    with pytest.raises(exc, match=re.escape(match)):
        imbalance_pair(a, b, **kwargs)
    with pytest.raises(exc, match=re.escape(match)):
        information_imbalance(a, b, **kwargs)


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    (dict(a=_with(_X, (0, 0, np.nan)), b=_Y), ValueError, "column 'a0' has 1 NaN"),
    (dict(a=_X, b=_Y[:9]), ValueError, "a has 10 points but b has 9"),
    (dict(a=_X, b=_Y, metric="cosine"), ValueError, "metric must be one of"),
    (dict(a=_X, b=_Y, period=0.0), ValueError, "must be positive"),
    (dict(a=_square(), b=_square()[:, :9], metric="precomputed"), ValueError,
     "must be square N x N"),
])
def test_rank_samples_validates_like_the_rest(kwargs, exc, match):
    kwargs = dict(kwargs)
    with pytest.raises(exc, match=re.escape(match)):
        rank_samples(kwargs.pop("a"), kwargs.pop("b"), **kwargs)


def test_constant_features_and_duplicated_points_are_valid():
    rng = np.random.default_rng(30)
    const = np.zeros(20)
    assert information_imbalance(const, rng.normal(size=20)) == pytest.approx(1.0, abs=TOL)
    assert information_imbalance(pd.DataFrame({"c": np.ones(20), "d": np.ones(20)}),
                                 const) == pytest.approx(1.0, abs=TOL)
    # every point twice: each point's nearest neighbour is its own copy
    x = np.repeat(rng.normal(size=(10, 2)), 2, axis=0)
    result = imbalance_pair(x, x[:, :1])
    assert result.a_to_b == pytest.approx(2 / 20, abs=TOL)  # rank 1 in B, times 2/N
    assert result.b_to_a == pytest.approx(2 / 20, abs=TOL)
    # three points, the minimum
    assert information_imbalance([0.0, 1.0, 3.0], [0.0, 1.0, 3.0]) == pytest.approx(
        2 / 3, abs=TOL)
    # a zero distance matrix
    assert information_imbalance(np.zeros((5, 5)), _square(5),
                                 metric="precomputed") == pytest.approx(1.0, abs=TOL)


# --------------------------------------------------------------------------------------
# accepted input forms
# --------------------------------------------------------------------------------------
def test_input_forms_agree_with_each_other_and_the_reference():
    rng = np.random.default_rng(31)
    n = 100
    x = rng.normal(size=n)
    yz = np.column_stack([x + 0.5 * rng.normal(size=n), rng.normal(size=n)])
    expected_ab = ref.imbalance(x, yz, 1)
    expected_ba = ref.imbalance(yz, x, 1)
    frame = pd.DataFrame(yz, columns=["y", "z"])
    forms_a = [x, x.reshape(-1, 1), list(x), pd.Series(x), pd.Series(x, name="x"),
               pd.DataFrame({"x": x})]
    forms_b = [yz, frame, [list(row) for row in yz]]
    for a in forms_a:
        for b in forms_b:
            result = imbalance_pair(a, b)
            assert result.a_to_b == pytest.approx(expected_ab, abs=TOL)
            assert result.b_to_a == pytest.approx(expected_ba, abs=TOL)
    # a DataFrame with a non-default index: rows are taken in order, the index is ignored
    shuffled_index = frame.set_axis(rng.permutation(n) + 1000)
    assert information_imbalance(x, shuffled_index) == pytest.approx(expected_ab, abs=TOL)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.float32, bool])
def test_integer_bool_and_float32_dtypes(dtype):
    rng = np.random.default_rng(32)
    a = rng.integers(0, 2, size=(150, 3)).astype(dtype)
    b = (rng.integers(0, 2, size=(150, 2)) | a[:, :2].astype(np.int64)).astype(dtype)
    for k in (1, 3):
        check_against_reference(a, b, k=k, metric="manhattan")
        check_against_reference(pd.DataFrame(a), pd.DataFrame(b), k=k, metric="manhattan")


def test_mixed_dtype_dataframe_and_series():
    rng = np.random.default_rng(33)
    n = 150
    a = pd.DataFrame({"flag": rng.integers(0, 2, size=n).astype(bool),
                      "level": rng.integers(0, 5, size=n),
                      "nullable": pd.array(rng.integers(0, 3, size=n), dtype="Int64"),
                      "value": np.round(2 * rng.normal(size=n)) / 2})  # 0.5 grid: exact ties
    b = pd.Series(a["level"].to_numpy() + rng.integers(0, 2, size=n), name="outcome",
                  dtype="Int16")
    numeric = a.astype(float).to_numpy()
    for metric in METRICS:
        check_against_reference(a, b, k=3, metric=metric)
        check_against_reference(numeric, b.to_numpy(dtype=float), k=3, metric=metric)
    # the Series' name is its column for per-feature options
    check_against_reference(a, b, k=1, period={"outcome": 3, "level": 5},
                            period_a=[None, 5, None, None], period_b=[3])
