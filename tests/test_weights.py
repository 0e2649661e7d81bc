"""Feature weights: the DII kernels against NumPy, scale recovery, sparsity, grid, coordinate."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import rankdata

import infoimb
from infoimb import _dii_kernels as DK
from infoimb.imbalance import chunk_bounds
from infoimb.weights import METHODS, WeightsResult, optimize_weights

TRUE_SCALES = np.array([10.0, 3.0, 1.0, 30.0, 7.3])


# --------------------------------------------------------------------------------------
# NumPy references of the kernels
# --------------------------------------------------------------------------------------
def _diffs(X, period):
    diff = X[:, None, :] - X[None, :, :]
    p = np.asarray(period, dtype=float)
    periodic = p > 0
    if periodic.any():
        pp = np.where(periodic, p, 1.0)
        diff = np.where(periodic, diff - pp * np.floor(diff / pp + 0.5), diff)
    return diff


def ref_midranks(B, period):
    D = (_diffs(B, period) ** 2).sum(-1)
    n = len(B)
    R = np.zeros((n, n))
    for i in range(n):
        others = np.delete(np.arange(n), i)
        R[i, others] = rankdata(D[i, others], method="average")
    return R


def ref_dii(X, period, w, R, lambda_k, lambda_factor):
    """DII with the documented lambda rule, including the duplicate-point fallbacks."""
    n = len(X)
    D = ((_diffs(X, period) * w) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    total = 0.0
    for i in range(n):
        lam = lambda_factor * np.sort(D[i])[lambda_k - 1]
        if not lam > 0:
            pos = D[i][(D[i] > 0) & np.isfinite(D[i])]
            lam = lambda_factor * pos.min() if pos.size else 1.0
        e = np.exp(-(D[i] - D[i].min()) / lam)
        c = e / e.sum()
        total += 2.0 / n * (c * R[i]).sum()
    return total / n


def _kernel_inputs(X, B, period_a, period_b):
    n = len(X)
    rows = np.arange(n)
    bounds = chunk_bounds(n, n)
    XT = np.ascontiguousarray(X.T, dtype=float)
    BT = np.ascontiguousarray(B.T, dtype=float)
    R = DK.midrank_rows(BT, np.asarray(period_b, dtype=float), rows, bounds)
    return XT, np.asarray(period_a, dtype=float), rows, bounds, R


@pytest.mark.parametrize("kind", ["random", "tied", "periodic"])
def test_midranks_match_numpy(kind):
    rng = np.random.default_rng(1)
    if kind == "tied":
        B = rng.integers(0, 3, size=(80, 2)).astype(float)
    else:
        B = rng.uniform(0, 1, size=(80, 2))
    period = [1.0, 0.0] if kind == "periodic" else [0.0, 0.0]
    *_, R = _kernel_inputs(B, B, period, period)
    np.testing.assert_array_equal(R, ref_midranks(B, period))


@pytest.mark.parametrize("kind", ["random", "tied", "periodic"])
def test_dii_value_and_gradient_match_numpy(kind):
    rng = np.random.default_rng(2)
    n = 90
    if kind == "tied":  # integer data: duplicate points, lambda from the fallback rule
        X = rng.integers(0, 3, size=(n, 3)).astype(float)
    else:
        X = rng.uniform(0, 2, size=(n, 3))
    B = X[:, :2] * [1.0, 3.0] + 0.1 * rng.normal(size=(n, 2))
    period = [2.0, 0.0, 0.0] if kind == "periodic" else [0.0, 0.0, 0.0]
    XT, pa, rows, bounds, R = _kernel_inputs(X, B, period, [0.0, 0.0])
    w = np.array([0.8, 1.3, 0.5])
    terms, grads = DK.dii_terms_grad(XT, pa, w, rows, R, 3, 0.1, bounds)
    assert terms.mean() == pytest.approx(ref_dii(X, period, w, R, 3, 0.1), rel=1e-10)
    h = 1e-6
    fd = [(ref_dii(X, period, w + h * e, R, 3, 0.1) - ref_dii(X, period, w - h * e, R, 3, 0.1))
          / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grads.mean(axis=0), fd, rtol=1e-4, atol=1e-9)
    if kind != "tied":  # the DII does not depend on the overall scale of w
        assert abs(w @ grads.mean(axis=0)) < 1e-12


def test_dii_of_a_subsample_of_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    XT, pa, rows, bounds, R = _kernel_inputs(X, X, [0.0, 0.0], [0.0, 0.0])
    sub = np.array([3, 10, 41], dtype=np.int64)
    R_sub = DK.midrank_rows(XT, pa, sub, chunk_bounds(3, 60))
    np.testing.assert_array_equal(R_sub, R[sub])
    t_all, g_all = DK.dii_terms_grad(XT, pa, np.ones(2), rows, R, 2, 0.1, bounds)
    t_sub, g_sub = DK.dii_terms_grad(XT, pa, np.ones(2), sub, R_sub, 2, 0.1, chunk_bounds(3, 60))
    np.testing.assert_allclose(t_sub, t_all[sub], rtol=1e-12)
    np.testing.assert_allclose(g_sub, g_all[sub], rtol=1e-12)


# --------------------------------------------------------------------------------------
# what the methods find
# --------------------------------------------------------------------------------------
def test_dii_recovers_scale_ratios():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 5))
    b = a * TRUE_SCALES
    res = optimize_weights(a, b, method="dii", n_iter=150)
    ratios = (res.weights / res.weights[3]) / (TRUE_SCALES / TRUE_SCALES[3])
    np.testing.assert_allclose(ratios, 1.0, rtol=0.1)
    assert res.weights.max() == 1.0 and res.weights.argmax() == 3
    assert res.delta_after < 0.5 * res.delta_before
    best = infoimb.information_imbalance(a, b, weights=(TRUE_SCALES, None))
    assert res.delta_after <= best + 0.002
    objective = [h["objective"] for h in res.history]
    assert len(objective) == 150 and objective[-1] < 0.5 * objective[0]


def test_dii_l1_drives_a_noise_feature_to_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 3))  # the third feature is noise
    b = a[:, :2] * [1.0, 3.0]
    plain = optimize_weights(a, b, method="dii", n_iter=100)
    sparse = optimize_weights(a, b, method="dii", n_iter=100, l1=0.1)
    assert sparse.weights[2] == 0.0
    assert 0.0 < plain.weights[2] < 0.05
    for res in (plain, sparse):
        assert res.weights[0] / res.weights[1] == pytest.approx(1 / 3, rel=0.1)
    assert sparse.delta_after <= plain.delta_after + 0.002


def test_coordinate_finds_a_known_best_scale():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(400, 3))
    true = np.array([1.0, 4.0, 0.5])
    b = a * true
    res = optimize_weights(a, b, method="coordinate", initial=np.ones(3),
                           scales=np.logspace(-1, 1, 17))
    ratios = (res.weights / res.weights[1]) / (true / true[1])
    assert np.all((ratios > 1 / 1.4) & (ratios < 1.4))
    best = infoimb.information_imbalance(a, b, weights=(true, None))
    assert res.delta_before > 3 * best
    assert res.delta_after <= best + 0.002
    objective = np.array([h["objective"] for h in res.history])
    assert objective.min() == pytest.approx(res.delta_after)


def test_grid_is_the_exhaustive_minimum():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(200, 2)) * [1.0, 10.0]
    b = a * [1.0, 0.3]  # best relative weight of feature 1: 0.3
    scales = np.logspace(-2, 1, 7)
    res = optimize_weights(a, b, method="grid", initial=np.ones(2), scales=scales)
    values = [infoimb.information_imbalance(a, b, weights=([1.0, s], None)) for s in scales]
    assert len(res.history) == len(scales)
    np.testing.assert_allclose([h["objective"] for h in res.history], values, rtol=1e-12)
    best = scales[int(np.argmin(values))]
    np.testing.assert_allclose(res.weights, np.array([1.0, best]) / max(1.0, best))
    assert res.delta_after == pytest.approx(min(values))
    assert res.delta_before == pytest.approx(infoimb.information_imbalance(a, b))


def test_dataframe_columns_subsample_and_determinism():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(6)
    a = pd.DataFrame(rng.normal(size=(300, 3)), columns=["price", "count", "temp"])
    b = a[["price", "count"]] * [2.0, 1.0]
    one = optimize_weights(a, b, method="dii", n_iter=40, n_queries=100, random_state=1)
    two = optimize_weights(a, b, method="dii", n_iter=40, n_queries=100, random_state=1)
    assert one.columns == ("price", "count", "temp")
    assert one.n_queries == 100 and one.n == 300
    np.testing.assert_array_equal(one.weights, two.weights)
    assert set(one.as_dict()) == {"price", "count", "temp"}
    assert one.as_dict()["price"] == 1.0


def test_history_progress_and_to_dict():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(150, 2))
    b = a * [1.0, 2.0]
    seen = []
    res = optimize_weights(a, b, method="dii", n_iter=20, progress=lambda f, m: seen.append(f))
    assert isinstance(res, WeightsResult) and res.method == "dii"
    assert len(seen) == 20 and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["weights"] == res.weights.tolist()
    assert d["history"][0]["iteration"] == 0 and len(d["history"][0]["weights"]) == 2

    def stop(fraction, message):
        raise InterruptedError("stop")

    for method in METHODS:
        with pytest.raises(InterruptedError):
            optimize_weights(a, b, method=method, progress=stop)


def test_small_data_and_periodic_features():
    rng = np.random.default_rng(10)
    a = rng.normal(size=(8, 2))  # fewer points than the default lambda_k = (10, 1)
    for method in METHODS:
        assert optimize_weights(a, a * [1.0, 2.0], method=method, n_iter=5).weights.shape == (2,)
    theta = rng.uniform(0, 2 * np.pi, size=300)
    noise = rng.normal(size=300)
    a = np.column_stack([theta, noise])
    b = np.column_stack([np.cos(theta), np.sin(theta)])
    res = optimize_weights(a, b, method="dii", n_iter=60, period={"a0": 2 * np.pi})
    assert res.weights[0] == 1.0 and res.weights[1] < 0.1


def test_constant_feature_keeps_weight_zero():
    rng = np.random.default_rng(8)
    a = np.column_stack([rng.normal(size=120), np.full(120, 5.0), rng.normal(size=120)])
    res = optimize_weights(a, a[:, [0, 2]], method="dii", n_iter=20)
    assert res.weights[1] == 0.0


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
def test_bad_input():
    rng = np.random.default_rng(9)
    a = rng.normal(size=(50, 5))
    b = a[:, :2]
    with pytest.raises(ValueError, match="a has 50 points but b has 49"):
        optimize_weights(a, b[:49])
    with pytest.raises(ValueError, match="method must be one of"):
        optimize_weights(a, b, method="newton")
    with pytest.raises(ValueError, match="n_iter must be at least 1"):
        optimize_weights(a, b, n_iter=0)
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        optimize_weights(a, b, learning_rate=0.0)
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        optimize_weights(a, b, learning_rate=-0.1)
    with pytest.raises(ValueError, match="l1 must be"):
        optimize_weights(a, b, l1=-1.0)
    with pytest.raises(ValueError,
                       match=r"9\*\*4 = 6561 evaluations.*max_evaluations=2000.*coordinate.*dii"):
        optimize_weights(a, b, method="grid")
    with pytest.raises(ValueError, match="initial: expected one weight per feature"):
        optimize_weights(a, b, initial=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"lambda_k\[1\] must be at least 1"):
        optimize_weights(a, b, lambda_k=(5, 0))
    with pytest.raises(TypeError, match="lambda_k must be a pair"):
        optimize_weights(a, b, lambda_k=3)
    with pytest.raises(ValueError, match="scales must be finite and positive"):
        optimize_weights(a, b, method="coordinate", scales=[0.5, 0.0])
    with pytest.raises(ValueError, match="k=50"):
        optimize_weights(a, b, k=50)
    with pytest.raises(ValueError, match="every feature of a is constant"):
        optimize_weights(np.ones((50, 2)), b)
