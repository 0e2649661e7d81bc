"""Exact at any magnitude (METHOD.md section 7): Delta does not depend on the units' magnitude.

Each space is multiplied by a power of two chosen from its largest |value| before any
squaring (infoimb._spaces.rescale_magnitude); these tests compare against the brute-force
reference evaluated at magnitude 1, for every metric and every kernel path.
"""

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb._spaces import MAGNITUDE_EXP, make_pair, rescale_magnitude
from infoimb.imbalance import pair_terms, query_indices
from infoimb.weights import optimize_weights

from reference import imbalance as ref_imbalance

SCALES = [1e-300, 1e-200, 1e-160, 1.0, 1e200, 1e300]
_rng = np.random.default_rng(3)
A = _rng.normal(size=(150, 3))
B = -A[:, :2] + 0.4 * _rng.normal(size=(150, 2))
T = _rng.integers(0, 4, size=(150, 2)).astype(float)  # tied (integer) data


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
def test_pair_any_magnitude_equals_the_reference(metric):
    want = ref_imbalance(A, B, metric=metric), ref_imbalance(B, A, metric=metric)
    for s in SCALES:
        p = infoimb.imbalance_pair(A * s, B * s, metric=metric)
        assert (p.a_to_b, p.b_to_a) == pytest.approx(want, abs=1e-12), s


def test_the_issue_case_minus_a():
    a = np.random.default_rng(0).normal(size=(400, 1))
    for s in SCALES:
        p = infoimb.imbalance_pair(a * s, -a * s)
        # b = -a has exactly a's neighbours: the floor 2/N both ways, never "independent"
        assert p.a_to_b == pytest.approx(2 / 400, abs=1e-15) and p.b_to_a == pytest.approx(2 / 400)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
def test_tied_data_at_extreme_powers_of_two(metric):
    want = ref_imbalance(T, A, metric=metric), ref_imbalance(A, T, metric=metric)
    for e in (-1000, -900, 900, 1000):
        p = infoimb.imbalance_pair(np.ldexp(T, e), A, metric=metric)
        assert (p.a_to_b, p.b_to_a) == pytest.approx(want, abs=1e-12), e


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
def test_both_kernel_paths_and_periods(streamed, metric):
    base = make_pair(A, T, metric=metric, period=(2.5, None))
    q = query_indices(150, None)
    want = pair_terms(*base, 2, q, streamed=streamed)
    for s in (2.0 ** -990, 2.0 ** 990):
        sa, sb = make_pair(A * s, T * s, metric=metric, period=(2.5 * s, None))
        got = pair_terms(sa, sb, 2, q, streamed=streamed)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_opposite_extremes_do_not_overflow():
    x = np.array([1e308, -1e308, 0.0, 5e307, -3e307])
    with pytest.warns(infoimb.SmallSampleWarning, match="N=5"):
        p = infoimb.imbalance_pair(x, x * 1e-300)
    want = ref_imbalance(x / 1e300, x / 1e300)
    assert (p.a_to_b, p.b_to_a) == pytest.approx((want, want), abs=1e-15)


def test_precomputed_any_magnitude():
    from reference import distance_matrix
    DA, DB = distance_matrix(A), distance_matrix(T)
    want = ref_imbalance(DA, DB, metric="precomputed")
    for s in (1e-300, 1e300):
        got = infoimb.information_imbalance(DA * s, DB, metric="precomputed")
        assert got == pytest.approx(want, abs=1e-12)


def test_weights_cannot_overflow_a_space():
    want = ref_imbalance(A, B, weights_a=[1, 2, 0.5])
    got = infoimb.information_imbalance(A * 1e300, B, weights=([1e10, 2e10, 0.5e10], None))
    assert got == pytest.approx(want, abs=1e-12)


def test_ordinary_spaces_are_left_bit_for_bit():
    sa, _ = make_pair(A, B)
    assert sa.scale_exp == 0 and np.array_equal(sa.XT, A.T)
    v, p, w, e = rescale_magnitude(A * 1e-200, np.zeros(3), np.ones(3))
    assert e > MAGNITUDE_EXP and 0.5 <= np.abs(v).max() < 1.0


def test_selection_and_lag_scan_any_magnitude():
    X = pd.DataFrame(A, columns=["x0", "x1", "x2"])
    y = pd.Series(A[:, 0] - 2 * A[:, 2], name="y")
    want = infoimb.select_features(X, y, method="exhaustive", max_features=2)
    for s in (1e-300, 1e300):
        got = infoimb.select_features(X * s, y * s, method="exhaustive", max_features=2)
        pd.testing.assert_frame_equal(got.candidates, want.candidates)
    df = pd.DataFrame({"t": np.arange(150), "a": A[:, 0], "b": np.roll(A[:, 0], 2) + A[:, 1]})
    base = infoimb.lag_scan(df, "a", "b", lags=[0, 1, 2, 3], time="t", random_state=0).to_frame()
    big = df.assign(a=df.a * 1e300, b=df.b * 1e-300)
    got = infoimb.lag_scan(big, "a", "b", lags=[0, 1, 2, 3], time="t", random_state=0).to_frame()
    pd.testing.assert_frame_equal(got, base)


def test_dii_weights_any_magnitude():
    small = optimize_weights(A, B, method="dii", n_iter=20, random_state=0)
    huge = optimize_weights(A * 1e300, B * 1e-300, method="dii", n_iter=20, random_state=0)
    np.testing.assert_allclose(huge.weights, small.weights, rtol=1e-9)
    assert huge.delta_after == pytest.approx(small.delta_after, abs=1e-12)


def test_imbalance_gain_any_magnitude():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 1))
    y = np.roll(x, 1) + 0.3 * rng.normal(size=(300, 1))
    alphas = np.linspace(0, 1, 5)
    base = infoimb.imbalance_gain(x, y, tau=1, alphas=alphas)
    for s in (1e-300, 1e300):
        got = infoimb.imbalance_gain(x * s, y * s, tau=1, alphas=alphas)
        np.testing.assert_array_equal(got.delta, base.delta)
