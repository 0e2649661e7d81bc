"""The k-d tree path is exact: identical to the brute kernels (1e-12) on continuous, tied
(integer grid), duplicated and constant data, every metric, k >= 1, exact and subsampled;
it refuses what it cannot serve and "auto" falls back."""

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import _tree_kernels as T
from infoimb._spaces import make_pair
from infoimb._trees import TREE_MIN_N, choose_algorithm
from infoimb.imbalance import pair_terms, query_indices

from reference import imbalance as ref_imbalance

_rng = np.random.default_rng(3)
DATA = {
    "continuous": _rng.normal(size=(900, 3)) * [1, 1, 0.1],
    "integers": _rng.integers(0, 4, size=(900, 3)).astype(float),
    "halves": np.round(_rng.normal(size=(900, 3)) * 2) / 2,
    "duplicated": np.repeat(_rng.normal(size=(300, 3)), 3, axis=0),
    "constant_b": np.c_[_rng.normal(size=(900, 2)), np.zeros(900)],
}


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("n_queries", [None, 200])
def test_tree_equals_brute(name, metric, k, n_queries):
    X = DATA[name]
    sa, sb = make_pair(X[:, :2], X[:, 2:], metric=metric)
    queries = query_indices(sa.n, n_queries, 1)
    brute = pair_terms(sa, sb, k, queries, algorithm="brute")
    tree = pair_terms(sa, sb, k, queries, algorithm="tree")
    np.testing.assert_allclose(tree[0], brute[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(tree[1], brute[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_tree_matches_the_numpy_reference_on_ties(k):
    X = DATA["integers"][:300]
    for a, b in ((X[:, :1], X), (X[:, :2], X[:, 1:]), (X, X[:, 2])):
        got = infoimb.imbalance_pair(a, b, k=k, algorithm="tree")
        assert got.a_to_b == pytest.approx(ref_imbalance(a, b, k=k), abs=1e-12)
        assert got.b_to_a == pytest.approx(ref_imbalance(b, a, k=k), abs=1e-12)


def test_tree_reproduces_the_method_values():
    X = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]
    p = infoimb.imbalance_pair(X, X[:, :1], algorithm="tree")
    assert (round(p.a_to_b, 6), round(p.b_to_a, 6)) == (0.063748, 0.548194)
    p = infoimb.imbalance_pair(X, X[:, :2], algorithm="tree")
    assert (round(p.a_to_b, 6), round(p.b_to_a, 6)) == (0.004146, 0.008404)


def test_constant_space_gives_one_and_row_order_does_not_matter():
    rng = np.random.default_rng(5)
    X = np.c_[np.zeros(400), rng.integers(0, 3, size=(400, 2))]
    # constant A: every other point is a tied neighbour (the full-row fallback)
    assert infoimb.information_imbalance(X[:, 0], X[:, 1:], algorithm="tree") == pytest.approx(1.0, abs=1e-12)
    perm = rng.permutation(400)
    a = infoimb.imbalance_pair(X[:, 1:2], X[:, 1:], algorithm="tree")
    b = infoimb.imbalance_pair(X[perm, 1:2], X[perm, 1:], algorithm="tree")
    assert a.a_to_b == pytest.approx(b.a_to_b, abs=1e-12)
    assert a.b_to_a == pytest.approx(b.b_to_a, abs=1e-12)


def test_parallel_build_gives_the_same_tree_and_terms(monkeypatch):
    X = DATA["halves"]
    XT = np.ascontiguousarray(X.T)
    serial = T.make_tree(XT)
    monkeypatch.setattr(T, "PARALLEL_BUILD_MIN_N", 0)
    parallel = T.make_tree(XT)
    for s, p in zip(serial, parallel):
        np.testing.assert_array_equal(s, p)
    # every point lies in its leaf's box, and every box inside its parent's
    P, idx, start, end, lo, hi, n_levels = parallel
    first_leaf = (1 << (int(n_levels) - 1)) - 1
    for node in range(first_leaf, lo.shape[0]):
        pts = P[start[node]:end[node]]
        assert (pts >= lo[node]).all() and (pts <= hi[node]).all()
        assert end[node] - start[node] <= T.LEAF_SIZE
    for node in range(1, lo.shape[0]):
        parent = (node - 1) // 2
        assert (lo[node] >= lo[parent]).all() and (hi[node] <= hi[parent]).all()
    np.testing.assert_array_equal(np.sort(idx), np.arange(X.shape[0]))
    np.testing.assert_array_equal(P, X[idx])


def test_radius_counts_are_exact_at_the_boundary():
    # an integer grid: many points at exactly the radius; counts against a direct scan
    X = np.array([(x, y) for x in range(-6, 7) for y in range(-6, 7)], dtype=float)
    XT = np.ascontiguousarray(X.T)
    tree = T.make_tree(XT)
    P, idx, start, end, lo, hi, nl = tree
    stack = np.empty(T._STACK, dtype=np.int64)
    q = np.array([0.0, 0.0])
    for metric, dist in ((0, (X ** 2).sum(1)), (1, np.abs(X).sum(1)), (2, np.abs(X).max(1))):
        for r in (0.0, 1.0, 2.0, 4.0, 5.0, 25.0, 36.0):
            less, eq = T._count(P, start, end, lo, hi, nl, q, r, metric, stack)
            assert (less, eq) == (int((dist < r).sum()), int((dist == r).sum()))


def test_algorithm_validation_and_fallback():
    X = DATA["continuous"]
    with pytest.raises(ValueError, match="algorithm must be one of 'auto', 'brute', 'tree'"):
        infoimb.imbalance_pair(X, X[:, :2], algorithm="kd")
    with pytest.raises(ValueError, match="algorithm='tree' does not support periodic features"):
        infoimb.imbalance_pair(X, X[:, :2], period=(2.0, None), algorithm="tree")
    D = np.abs(X[:100, :1] - X[:100, 0])
    with pytest.raises(ValueError, match="algorithm='tree' does not support precomputed"):
        infoimb.imbalance_pair(D, D, metric="precomputed", algorithm="tree")
    # auto falls back to brute for periodic features: same numbers as brute
    auto = infoimb.imbalance_pair(X, X[:, :2], period=(2.0, None))
    brute = infoimb.imbalance_pair(X, X[:, :2], period=(2.0, None), algorithm="brute")
    assert (auto.a_to_b, auto.b_to_a) == (brute.a_to_b, brute.b_to_a)
    with pytest.raises(ValueError, match="periodic"):
        infoimb.select_features(X, X[:, 0], period=1.0, algorithm="tree")


def test_the_auto_rule():
    kw = dict(metric="euclidean", periods=(np.zeros(3), np.zeros(2)))
    big = max(TREE_MIN_N.values())
    assert choose_algorithm("auto", dims=(3, 2), n=big, **kw) == "tree"
    assert choose_algorithm("auto", dims=(3, 2), n=100, **kw) == "brute"
    assert choose_algorithm("auto", dims=(30, 2), n=10 * big, **kw) == "brute"
    # a handful of queries does not pay for building the trees
    assert choose_algorithm("auto", dims=(3, 2), n=big, n_queries=10, **kw) == "brute"
    assert choose_algorithm("auto", dims=(3, 2), n=10 * big, n_queries=10_000, **kw) == "tree"
    assert choose_algorithm("auto", metric="euclidean", periods=(np.ones(3), np.zeros(2)),
                            dims=(3, 2), n=10 * big) == "brute"
    assert choose_algorithm("brute", dims=(3, 2), n=10 * big, **kw) == "brute"


def test_analyses_identical_with_tree_and_brute():
    # (causality has its own fused kernel over all alphas: no algorithm choice there)
    rng = np.random.default_rng(2)
    X = np.round(rng.normal(size=(600, 5)) * 2) / 2
    y = X[:, 0] - 2 * X[:, 3]
    a = infoimb.select_features(X, y, method="greedy", max_features=3, k=2, algorithm="brute")
    b = infoimb.select_features(X, y, method="greedy", max_features=3, k=2, algorithm="tree")
    assert [s.features for s in a.steps] == [s.features for s in b.steps]
    np.testing.assert_allclose(b.candidates[["a_to_b", "b_to_a"]].to_numpy(),
                               a.candidates[["a_to_b", "b_to_a"]].to_numpy(), rtol=0, atol=1e-12)

    df = pd.DataFrame({"t": np.arange(500), "x": rng.normal(size=500)})
    df["y"] = np.r_[0.0, 0.0, df["x"].to_numpy()[:-2]] + 0.1 * rng.normal(size=500)
    la = infoimb.lag_scan(df, "x", "y", lags=range(-2, 3), time="t", algorithm="brute")
    lb = infoimb.lag_scan(df, "x", "y", lags=range(-2, 3), time="t", algorithm="tree")
    np.testing.assert_allclose(lb.forward, la.forward, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lb.backward, la.backward, rtol=0, atol=1e-12)
    assert lb.best_lag == la.best_lag == 2


def test_tree_refuses_a_theiler_window_and_auto_uses_brute_with_it():
    X = DATA["continuous"][:300]
    t = np.arange(300)
    with pytest.raises(ValueError, match="algorithm='tree' does not support a Theiler window"):
        infoimb.imbalance_pair(X, X[:, :2], times=t, theiler=3, algorithm="tree", n_bootstrap=0)
    with pytest.raises(ValueError, match="Theiler window"):
        infoimb.select_features(X, X[:, 0], times=t, theiler=3, algorithm="tree")
    auto = infoimb.imbalance_pair(X, X[:, :2], times=t, theiler=3, n_bootstrap=0)
    brute = infoimb.imbalance_pair(X, X[:, :2], times=t, theiler=3, n_bootstrap=0,
                                   algorithm="brute")
    assert (auto.a_to_b, auto.b_to_a) == (brute.a_to_b, brute.b_to_a)
