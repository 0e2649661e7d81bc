"""The alpha-scan kernel of the imbalance gain, and circular-shift surrogates.

The kernel (infoimb._gain_kernels.gain_terms) is checked against the pair engine on the
stacked space (alpha X, B) -> T, against the independent NumPy reference, on continuous and
tied data, with and without surrogates; then the surrogate test of causality_test /
imbalance_gain: reproducibility, calibration on independent AR(1) pairs, power.
"""

from __future__ import annotations

import numpy as np
import pytest

import infoimb
from infoimb._gain_kernels import gain_terms
from infoimb._stats import permutation_pvalue
from infoimb.causality import (
    causality_test,
    default_min_shift,
    gain_scan,
    imbalance_gain,
    null_gains,
    shift_sources,
)
from infoimb.imbalance import chunk_bounds, pair_terms, query_indices
from infoimb._spaces import make_pair

import reference as ref


def _kernel(causes, base, target, alphas, k, queries=None, src=None):
    n = base.shape[0]
    if queries is None:
        queries = np.arange(n, dtype=np.int64)
    t = lambda a: np.ascontiguousarray(np.asarray(a, float).T)  # noqa: E731
    widths = np.array([c.shape[1] for c in causes])
    stop = np.cumsum(widths)
    if src is None:
        src = np.arange(n, dtype=np.int64)[None]
    return gain_terms(t(np.hstack(causes)), stop - widths, stop, t(base), t(target), queries,
                      src, np.asarray(alphas, float) ** 2, k, 2.0 / (n * k),
                      chunk_bounds(queries.shape[0], n))


def _engine(X, B, T, alpha, k, queries=None):
    """Per-query terms of Delta((alpha X, B) -> T) from the pair engine."""
    sa, sb = make_pair(np.hstack([alpha * X, B]), T)
    if queries is None:
        queries = np.arange(sa.n, dtype=np.int64)
    return pair_terms(sa, sb, k, queries)[0]


CONTINUOUS_ALPHAS = [0.0, 0.05, 0.2, 1 / 3, 0.7, 1.0]
DYADIC_ALPHAS = [0.0, 0.25, 0.5, 0.75, 1.0]  # alpha * integer is exact: ties stay ties


@pytest.mark.parametrize("k", [1, 5])
def test_kernel_equals_engine_on_continuous_data(k):
    rng = np.random.default_rng(1)
    X, Y, Z, T = (rng.normal(size=(400, d)) for d in (2, 1, 2, 2))
    base = np.hstack([Y, Z])
    terms, sums = _kernel([X], base, T, CONTINUOUS_ALPHAS, k)
    assert terms.shape == (1, len(CONTINUOUS_ALPHAS), 400)
    for a, alpha in enumerate(CONTINUOUS_ALPHAS):
        np.testing.assert_allclose(terms[0, a], _engine(X, base, T, alpha, k), rtol=0, atol=1e-12)
    # chunk sums of the observed data = the sums of its terms
    np.testing.assert_allclose(sums.sum(axis=0)[0, 0], terms[0].sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_kernel_equals_engine_and_reference_on_tied_data(k):
    rng = np.random.default_rng(2)
    n = 150
    X = rng.integers(0, 3, size=(n, 2)).astype(float)
    Y = rng.integers(0, 2, size=(n, 1)).astype(float)
    T = rng.integers(0, 4, size=(n, 1)).astype(float)
    X[:10] = X[10:20]  # exact duplicates
    Y[:10] = Y[10:20]
    terms, _ = _kernel([X], Y, T, DYADIC_ALPHAS, k)
    for a, alpha in enumerate(DYADIC_ALPHAS):
        expected = _engine(X, Y, T, alpha, k)
        np.testing.assert_allclose(terms[0, a], expected, rtol=0, atol=1e-12)
        # the independent NumPy reference
        delta = ref.imbalance(np.hstack([alpha * X, Y]), T, k=k)
        assert terms[0, a].mean() == pytest.approx(delta, abs=1e-12)


def test_kernel_many_causes_subsampled_queries_and_surrogates():
    rng = np.random.default_rng(3)
    n = 300
    X1, X2, Y, T = rng.normal(size=(n, 1)), rng.normal(size=(n, 3)), rng.normal(size=(n, 2)), \
        rng.normal(size=(n, 1))
    queries = query_indices(n, 120, 0)
    src = shift_sources(n, 3, 30, np.random.default_rng(0))
    alphas = [0.0, 0.3, 1.0]
    terms, sums = _kernel([X1, X2], Y, T, alphas, 5, queries, src)
    null = sums.sum(axis=0) / queries.shape[0]
    assert null.shape == (2, 4, 3)
    for c, X in enumerate((X1, X2)):
        for a, alpha in enumerate(alphas):
            np.testing.assert_allclose(terms[c, a], _engine(X, Y, T, alpha, 5, queries), atol=1e-12)
            for s in range(4):
                shifted = X[src[s]]
                expected = _engine(shifted, Y, T, alpha, 5, queries).mean()
                assert null[c, s, a] == pytest.approx(expected, abs=1e-12)


def test_kernel_reproduces_the_rossler_fixture():
    from test_causality import _reference_dir

    ref_dir = _reference_dir()
    if ref_dir is None:
        pytest.skip("rosslers_xtoy_trajectory.npy not found (set INFOIMB_SHARED)")
    traj = np.load(ref_dir / "rosslers_xtoy_trajectory.npy")
    alphas = [0, 0.2, 0.4, 0.8, 1.0]
    terms, _ = _kernel([traj[:-5, :3]], traj[:-5, 3:], traj[5:, 3:], alphas, 5)
    np.testing.assert_allclose(terms[0].mean(axis=1), [0.06198, 0.053285, 0.04880, 0.04934, 0.05225],
                               atol=1e-5)
    for a, alpha in enumerate(alphas):
        expected = infoimb.information_imbalance(
            np.hstack([alpha * traj[:-5, :3], traj[:-5, 3:]]), traj[5:, 3:], k=5)
        assert terms[0, a].mean() == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------------------
# surrogates
# --------------------------------------------------------------------------------------
def test_shift_sources_are_circular_shifts_within_blocks():
    rng = np.random.default_rng(0)
    src = shift_sources(10, 4, 3, rng)
    np.testing.assert_array_equal(src[0], np.arange(10))
    for row in src[1:]:
        shift = row[0]
        assert 3 <= shift <= 7
        np.testing.assert_array_equal(row, (np.arange(10) + shift) % 10)
    src = shift_sources(17, 5, 2, rng, blocks=[(0, 9), (9, 17)])
    for row in src[1:]:
        assert set(row[:9]) == set(range(9)) and set(row[9:]) == set(range(9, 17))
    assert default_min_shift(1000, 1) == 100 and default_min_shift(100, 20) == 40


def ar1(n, phi, rng, burn=200):
    e = rng.normal(size=n + burn)
    x = np.zeros(n + burn)
    for t in range(1, n + burn):
        x[t] = phi * x[t - 1] + e[t]
    return x[burn:]


def test_surrogate_p_values_match_their_definition_and_are_reproducible():
    rng = np.random.default_rng(0)
    x = ar1(300, 0.9, rng)
    y = np.r_[0.0, 0.8 * x[:-1]] + 0.3 * rng.normal(size=300)
    a = causality_test(x, y, tau=1, alphas=np.linspace(0, 1, 11), n_surrogates=49,
                       random_state=7)
    b = causality_test(x, y, tau=1, alphas=np.linspace(0, 1, 11), n_surrogates=49,
                       random_state=7)
    assert a.p_x_to_y == b.p_x_to_y and a.p_y_to_x == b.p_y_to_x
    np.testing.assert_array_equal(a.x_to_y.null_gains, b.x_to_y.null_gains)
    assert a.p_x_to_y == pytest.approx(1 / 50)  # no surrogate reaches the real coupling
    assert a.p_y_to_x > 0.05
    assert a.verdict == "x drives y"
    assert a.x_to_y.min_shift == 30 and a.x_to_y.n_surrogates == 49
    assert a.p_x_to_y == permutation_pvalue(a.x_to_y.gain, a.x_to_y.null_gains,
                                            smaller_is_extreme=False)
    # each null gain is the gain of imbalance_gain on the shifted cause
    g = imbalance_gain(x, y, tau=1, alphas=np.linspace(0, 1, 11), n_surrogates=49,
                       random_state=7)
    assert g.p_value == a.p_x_to_y
    n = 299
    src = shift_sources(n, 49, 30, np.random.default_rng(7))
    shifted = x[:-1][src[5]]
    direct = imbalance_gain(np.r_[shifted, 0.0], y, tau=1, alphas=np.linspace(0, 1, 11))
    assert g.null_gains[4] == pytest.approx(direct.gain, abs=1e-12)
    # without surrogates: None
    plain = causality_test(x, y, tau=1, alphas=[0.0, 1.0])
    assert plain.p_x_to_y is None and plain.p_y_to_x is None and plain.x_to_y.null_gains is None


def test_surrogate_null_is_calibrated_on_independent_autocorrelated_series():
    # two independent AR(1) series with phi = 0.95: a row permutation would call most of
    # these pairs coupled; circular shifts must give p <= 0.05 in about 5% of datasets
    n_datasets = 80
    ps = []
    for seed in range(n_datasets):
        rng = np.random.default_rng(1000 + seed)
        x, y = ar1(150, 0.95, rng), ar1(150, 0.95, rng)
        ps.append(imbalance_gain(x, y, tau=1, alphas=np.linspace(0, 1, 11), n_surrogates=99,
                                 random_state=seed).p_value)
    ps = np.array(ps)
    rate = np.mean(ps <= 0.05)
    assert rate <= 0.125  # 5% expected; 10 of 80 would be 2.6 binomial standard deviations
    assert 0.35 < ps.mean() < 0.7


def test_surrogate_test_has_power_on_a_coupled_pair():
    hits_xy = 0
    hits_yx = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x = ar1(200, 0.95, rng)
        y = np.zeros(200)
        e = rng.normal(size=200)
        for t in range(1, 200):
            y[t] = 0.5 * y[t - 1] + 0.6 * np.tanh(x[t - 1]) + 0.3 * e[t]
        r = causality_test(x, y, tau=1, alphas=np.linspace(0, 1, 11), n_surrogates=49,
                           random_state=seed)
        hits_xy += r.p_x_to_y <= 0.05
        hits_yx += r.p_y_to_x <= 0.05
    assert hits_xy == 6
    assert hits_yx <= 1


def test_null_gains_formula():
    d = np.array([[1.0, 0.8, 0.9], [0.5, 0.6, 0.7], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(null_gains(d), [0.2, 0.0, 0.0])


def test_gain_scan_progress_batches_and_cancel():
    rng = np.random.default_rng(0)
    n = 120
    X, Y, T = rng.normal(size=(n, 1)), rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    src = shift_sources(n, 20, 12, rng)
    q = np.arange(n, dtype=np.int64)
    seen = []
    t1, n1 = gain_scan([X], Y, T, np.array([0.0, 1.0]), 5, q, src,
                       lambda f, m: seen.append((f, m)))
    t2, n2 = gain_scan([X], Y, T, np.array([0.0, 1.0]), 5, q, src)
    np.testing.assert_allclose(n1, n2, rtol=0, atol=1e-12)
    assert seen[-1][0] == pytest.approx(1.0) and "surrogates 20/20" in seen[-1][1]
    assert len(seen) == 2 + 10

    def stop(f, m):
        if "surrogates" in m:
            raise InterruptedError("stop")

    with pytest.raises(InterruptedError):
        gain_scan([X], Y, T, np.array([0.0, 1.0]), 5, q, src, stop)


def test_bad_surrogate_options():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=100), rng.normal(size=100)
    with pytest.raises(ValueError, match="n_surrogates must be"):
        imbalance_gain(x, y, tau=1, n_surrogates=-1)
    with pytest.raises(ValueError, match=r"min_shift=50 is too large.*99 present rows"):
        causality_test(x, y, tau=1, n_surrogates=9, min_shift=50)
    with pytest.raises(ValueError, match="min_shift must be"):
        imbalance_gain(x, y, tau=1, n_surrogates=9, min_shift=0)
    with pytest.raises(TypeError, match="n_surrogates must be a whole number"):
        imbalance_gain(x, y, tau=1, n_surrogates=2.5)


def test_cli_causality_surrogates(tmp_path, capsys):
    import json

    import pandas as pd

    from infoimb.cli import main

    rng = np.random.default_rng(0)
    x = ar1(300, 0.9, rng)
    y = np.r_[0.0, 0.8 * x[:-1]] + 0.3 * rng.normal(size=300)
    path = tmp_path / "xy.csv"
    pd.DataFrame({"x": x, "y": y}).to_csv(path, index=False)
    args = ["causality", str(path), "--cause", "x", "--effect", "y", "--tau", "1",
            "--n-alphas", "11", "--surrogates", "49", "--seed", "7", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "p = 0.02" in out  # 1 / 50: no surrogate reaches the coupling
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["p_x_to_y"] == pytest.approx(0.02) and d["x_to_y"]["n_surrogates"] == 49
    assert len(d["x_to_y"]["null_gains"]) == 49
