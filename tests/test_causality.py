"""Imbalance gain: DADApy's fixture, coupled Rössler systems, conditioning, embeddings, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import infoimb
from infoimb.causality import (
    VERDICTS,
    ImbalanceGain,
    causality_test,
    causality_verdict,
    imbalance_gain,
    time_delay_embedding,
)


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
def _reference_dir() -> Path | None:
    candidates = []
    if os.environ.get("INFOIMB_SHARED"):
        candidates.append(Path(os.environ["INFOIMB_SHARED"]) / "reference")
    candidates += [Path(__file__).resolve().parents[2] / "shared" / "reference",
                   Path("/work/shared/reference")]
    for c in candidates:
        if (c / "rosslers_xtoy_trajectory.npy").is_file():
            return c
    return None


@pytest.fixture(scope="module")
def rossler_fixture() -> np.ndarray:
    ref = _reference_dir()
    if ref is None:
        pytest.skip("rosslers_xtoy_trajectory.npy not found (set INFOIMB_SHARED)")
    return np.load(ref / "rosslers_xtoy_trajectory.npy")


# Coupled Rössler systems X -> Y as in Del Tatto et al. (PNAS 2024, their
# dynamical-systems/rossler_systems.py): a = 0.15, b = 0.2, c = 10, omega = 1.015 / 0.985,
# coupling eps * (x1 - y1) on the first coordinate of Y, samples every 0.314 time units
# (their dt = 0.0785 with undersampling 4). Here: RK4 with step 0.0785 / 2, every 8th step.
@njit(cache=True)
def _rossler_rhs(s, eps, out):
    a, b, c, w1, w2 = 0.15, 0.2, 10.0, 1.015, 0.985
    out[0] = -w1 * s[1] - s[2]
    out[1] = w1 * s[0] + a * s[1]
    out[2] = b + s[2] * (s[0] - c)
    out[3] = -w2 * s[4] - s[5] + eps * (s[0] - s[3])
    out[4] = w2 * s[3] + a * s[4]
    out[5] = b + s[5] * (s[3] - c)


@njit(cache=True)
def _rossler_rk4(s0, eps, n_samples, h, every, n_transient):
    s = s0.copy()
    k1 = np.empty(6)
    k2 = np.empty(6)
    k3 = np.empty(6)
    k4 = np.empty(6)
    tmp = np.empty(6)
    out = np.empty((n_samples, 6))
    for step in range(n_transient + n_samples * every):
        _rossler_rhs(s, eps, k1)
        for q in range(6):
            tmp[q] = s[q] + 0.5 * h * k1[q]
        _rossler_rhs(tmp, eps, k2)
        for q in range(6):
            tmp[q] = s[q] + 0.5 * h * k2[q]
        _rossler_rhs(tmp, eps, k3)
        for q in range(6):
            tmp[q] = s[q] + h * k3[q]
        _rossler_rhs(tmp, eps, k4)
        for q in range(6):
            s[q] += h * (k1[q] + 2.0 * k2[q] + 2.0 * k3[q] + k4[q]) / 6.0
        r = step - n_transient
        if r >= 0 and r % every == 0:
            out[r // every] = s
    return out


N_SNAPSHOTS = 2500
SEPARATION = 10  # rows between present snapshots (3.1 time units, half a period)
TAU = 20  # rows (6.3 time units, about one period)
SEED = 1


def coupled_rossler(eps: float, n_rows: int = N_SNAPSHOTS * SEPARATION + TAU + 10,
                    seed: int = SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s0 = 10.0 * (rng.random(6) - 0.5)
    return _rossler_rk4(s0, eps, n_rows, 0.0785 / 2, 8, 20000)


@pytest.fixture(scope="module")
def rossler_trajectories() -> dict[float, np.ndarray]:
    return {eps: coupled_rossler(eps) for eps in (0.0, 0.03, 0.07)}


SNAPSHOTS = np.arange(N_SNAPSHOTS) * SEPARATION
ALPHAS = np.linspace(0.0, 1.0, 11)


def driven_ar(n: int = 600, seed: int = 0):
    """x white noise drives y: y_t = 0.3 y_{t-1} + x_{t-1} + small noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.3 * y[t - 1] + x[t - 1] + 0.1 * rng.normal()
    return x, y


# --------------------------------------------------------------------------------------
# the reference values
# --------------------------------------------------------------------------------------
def test_fixture_reproduces_dadapy_values(rossler_fixture):
    traj = rossler_fixture
    assert traj.shape == (1000, 6)
    ig = imbalance_gain(traj[:, :3], traj[:, 3:], tau=5, k=5, alphas=[0, 0.2, 0.4, 0.8, 1.0])
    np.testing.assert_allclose(ig.alphas, [0, 0.2, 0.4, 0.8, 1.0])
    np.testing.assert_allclose(ig.delta, [0.06198, 0.053285, 0.04880, 0.04934, 0.05225], atol=1e-4)
    # the raw features, no standardisation: the same numbers straight from the engine
    a = np.hstack([0.4 * traj[:-5, :3], traj[:-5, 3:]])
    expected = infoimb.information_imbalance(a, traj[5:, 3:], k=5)
    assert ig.delta[2] == pytest.approx(expected, abs=1e-12)
    assert (ig.n, ig.n_queries, ig.tau, ig.k) == (995, 995, 5, 5)
    assert ig.alpha_star == 0.4
    assert ig.gain == pytest.approx((0.06198 - 0.04880) / 0.06198, abs=2e-3)
    assert 0 < ig.gain_se < 0.05
    assert np.all(ig.delta_se > 0)


def test_fixture_direction(rossler_fixture):
    traj = rossler_fixture
    res = causality_test(traj[:, :3], traj[:, 3:], tau=5, k=5, alphas=ALPHAS)
    assert res.x_to_y.gain > 0.15
    assert res.y_to_x.gain < 0.02
    assert res.verdict == "x drives y"


def test_rossler_x_drives_y(rossler_trajectories):
    traj = rossler_trajectories[0.07]
    res = causality_test(traj[:, :3], traj[:, 3:], tau=TAU, k=5, alphas=ALPHAS,
                         times=SNAPSHOTS, n_queries=1000, random_state=0)
    assert res.x_to_y.n == N_SNAPSHOTS and res.x_to_y.n_queries == 1000
    assert res.x_to_y.gain > 0.3
    assert res.x_to_y.gain > 10 * res.x_to_y.gain_se
    assert res.y_to_x.gain < 0.05
    assert res.x_to_y.alpha_star > 0
    assert res.verdict == "x drives y"


def test_gain_zero_without_coupling_and_rising_with_it(rossler_trajectories):
    gains = [imbalance_gain(rossler_trajectories[eps][:, :3], rossler_trajectories[eps][:, 3:],
                            tau=TAU, alphas=ALPHAS, times=SNAPSHOTS, n_queries=500,
                            random_state=0).gain
             for eps in (0.0, 0.03, 0.07)]
    assert gains[0] < 0.02
    assert gains[0] < gains[1] - 0.1
    assert gains[1] < gains[2] - 0.1


def test_embedding_of_scalar_observables(rossler_trajectories):
    traj = rossler_trajectories[0.07]
    res = causality_test(traj[:, 0], traj[:, 3], tau=TAU, embedding=(3, 2), alphas=ALPHAS,
                         times=SNAPSHOTS, n_queries=400, random_state=0)
    assert res.x_to_y.gain > 0.3
    assert res.y_to_x.gain < 0.05
    assert res.verdict == "x drives y"


# --------------------------------------------------------------------------------------
# known answers on small systems
# --------------------------------------------------------------------------------------
def test_constant_cause_gives_zero_gain():
    _, y = driven_ar(300)
    ig = imbalance_gain(np.full(300, 3.0), y, tau=1, alphas=ALPHAS)
    np.testing.assert_allclose(ig.delta, ig.delta[0], rtol=0, atol=1e-15)
    assert ig.gain == 0.0 and ig.alpha_star == 0.0 and ig.gain_se == 0.0


def test_cause_that_knows_the_future_gives_large_gain():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(400, 2))
    x = np.vstack([y[1:], np.zeros((1, 2))])  # x_t = y_{t+1}
    ig = imbalance_gain(x, y, tau=1, alphas=ALPHAS)
    # Delta(0) ~ 1 (y is white noise); at alpha = 1 the only error is y_t's share of the
    # 4-D distance (k = 5): Delta(1) ~ 0.12
    assert ig.delta[0] > 0.9
    assert ig.gain > 0.8
    assert ig.alpha_star == 1.0


def test_driven_autoregression():
    x, y = driven_ar()
    res = causality_test(x, y, tau=1, alphas=ALPHAS)
    assert res.x_to_y.gain > 0.5
    assert res.y_to_x.gain < 0.05
    assert res.verdict == "x drives y"
    # swapping the arguments swaps the directions
    rev = causality_test(y, x, tau=1, alphas=ALPHAS)
    assert rev.verdict == "y drives x"
    assert rev.x_to_y.gain == pytest.approx(res.y_to_x.gain, abs=1e-12)
    assert rev.y_to_x.gain == pytest.approx(res.x_to_y.gain, abs=1e-12)


def test_conditioning_on_a_confounder_removes_the_gain():
    # z drives y; x is a noisy copy of z and does not act on y itself
    rng = np.random.default_rng(0)
    n = 1500
    z = np.zeros(n)
    e = rng.normal(size=n)
    for t in range(1, n):
        z[t] = 0.9 * z[t - 1] + e[t]
    x = z + 0.5 * rng.normal(size=n)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.3 * y[t - 1] + z[t - 1] + 0.1 * rng.normal()
    plain = imbalance_gain(x, y, tau=1, alphas=ALPHAS)
    cond = imbalance_gain(x, y, tau=1, alphas=ALPHAS, conditioning=z)
    assert plain.gain > 0.3 and not plain.conditioned
    assert cond.gain < 0.05 and cond.conditioned
    # conditioning space: (alpha x, y, 1 * z); at alpha = 0 it is (y, z)
    expected = infoimb.information_imbalance(np.column_stack([y[:-1], z[:-1]]), y[1:], k=5)
    assert cond.delta[0] == pytest.approx(expected, abs=1e-12)


def test_alphas_are_sorted_and_include_zero():
    x, y = driven_ar(200)
    ig = imbalance_gain(x, y, tau=1, alphas=[1.0, 0.5, 0.5])
    np.testing.assert_array_equal(ig.alphas, [0.0, 0.5, 1.0])
    assert ig.delta.shape == ig.delta_se.shape == (3,)


def test_default_alphas_and_dataframe_input():
    pd = pytest.importorskip("pandas")
    x, y = driven_ar(200)
    frame = pd.DataFrame({"x": x, "y": y})
    ig = imbalance_gain(frame[["x"]], frame["y"], tau=1)
    assert ig.alphas.shape == (50,) and ig.alphas[-1] == 1.0
    assert ig.gain == pytest.approx(imbalance_gain(x, y, tau=1).gain, abs=1e-12)


def test_subsampled_queries_are_deterministic_and_close_to_exact():
    x, y = driven_ar(600)
    a = imbalance_gain(x, y, tau=1, alphas=ALPHAS, n_queries=300, random_state=5)
    b = imbalance_gain(x, y, tau=1, alphas=ALPHAS, n_queries=300, random_state=5)
    exact = imbalance_gain(x, y, tau=1, alphas=ALPHAS)
    np.testing.assert_array_equal(a.delta, b.delta)
    assert a.n_queries == 300
    assert np.all(np.abs(a.delta - exact.delta) < 4 * a.delta_se + 1e-9)


def test_times_select_the_present_snapshots():
    x, y = driven_ar(400)
    times = np.arange(0, 399, 3)
    ig = imbalance_gain(x, y, tau=1, alphas=[0.0, 1.0], times=times)
    a = np.column_stack([x[times], y[times]])
    assert ig.n == times.size
    expected = infoimb.information_imbalance(a, y[times + 1], k=5)
    assert ig.delta[1] == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------------------
# time-delay embedding
# --------------------------------------------------------------------------------------
def test_time_delay_embedding_rows_and_alignment():
    s = np.arange(10.0)
    e = time_delay_embedding(s, dim=3, delay=2)
    assert e.shape == (6, 3)
    # row r describes time r + (dim-1)*delay = r + 4: [s_t, s_{t-2}, s_{t-4}]
    np.testing.assert_array_equal(e[0], [4, 2, 0])
    np.testing.assert_array_equal(e[-1], [9, 7, 5])
    np.testing.assert_array_equal(time_delay_embedding(s, dim=1, delay=5), s[:, None])
    two = time_delay_embedding(np.column_stack([s, 10 * s]), dim=2, delay=1)
    np.testing.assert_array_equal(two[0], [1, 0, 10, 0])


def test_embedding_option_equals_embedding_first():
    x, y = driven_ar(300)
    via_option = imbalance_gain(x, y, tau=2, alphas=ALPHAS, embedding=(3, 1))
    ex = time_delay_embedding(x, dim=3, delay=1)
    ey = time_delay_embedding(y, dim=3, delay=1)
    by_hand = imbalance_gain(ex, ey, tau=2, alphas=ALPHAS)
    np.testing.assert_array_equal(via_option.delta, by_hand.delta)
    assert via_option.n == 300 - 2 - 2


# --------------------------------------------------------------------------------------
# verdict, progress, serialisation
# --------------------------------------------------------------------------------------
def _gain(gain, se):
    return ImbalanceGain(np.zeros(1), np.ones(1), np.zeros(1), gain, se, 0.0, 1, 5, 100, 100)


@pytest.mark.parametrize("fwd, back, verdict", [
    ((0.4, 0.02), (0.0, 0.0), "x drives y"),
    ((0.01, 0.01), (0.3, 0.05), "y drives x"),
    ((0.4, 0.02), (0.3, 0.05), "bidirectional"),
    ((0.04, 0.001), (0.0, 0.0), "no detectable coupling"),  # below min_gain
    ((0.2, 0.1), (0.0, 0.0), "no detectable coupling"),  # within 3 standard errors
])
def test_verdict_rule(fwd, back, verdict):
    assert causality_verdict(_gain(*fwd), _gain(*back)) == verdict
    assert verdict in VERDICTS


def test_progress_reports_and_can_cancel():
    x, y = driven_ar(200)
    seen = []
    causality_test(x, y, tau=1, alphas=[0.0, 0.5, 1.0],
                   progress=lambda f, msg: seen.append((f, msg)))
    fractions = [f for f, _ in seen]
    assert len(seen) == 6
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert fractions[2] == pytest.approx(0.5)
    assert "Y -> X" in seen[-1][1]

    def stop(fraction, message):
        if fraction > 0.3:
            raise InterruptedError("cancelled by the user")

    with pytest.raises(InterruptedError, match="cancelled"):
        imbalance_gain(x, y, tau=1, alphas=ALPHAS, progress=stop)


def test_to_dict_is_json_serialisable():
    x, y = driven_ar(200)
    res = causality_test(x, y, tau=1, alphas=[0.0, 1.0])
    d = json.loads(json.dumps(res.to_dict()))
    assert d["verdict"] == res.verdict
    assert d["x_to_y"]["delta"] == res.x_to_y.delta.tolist()
    assert set(d["x_to_y"]) >= {"alphas", "delta", "delta_se", "gain", "alpha_star", "tau", "k",
                                "n"}


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
def test_bad_tau():
    x, y = driven_ar(50)
    for tau in (0, -1):
        with pytest.raises(ValueError, match=rf"tau={tau}.*N=50"):
            imbalance_gain(x, y, tau=tau)
    with pytest.raises(ValueError, match=r"tau=48 .*N=50"):
        imbalance_gain(x, y, tau=48)
    with pytest.raises(TypeError, match="tau"):
        imbalance_gain(x, y, tau=1.5)
    with pytest.raises(ValueError, match=r"after the embedding"):
        imbalance_gain(x, y, tau=46, embedding=(2, 2))


def test_bad_alphas():
    x, y = driven_ar(50)
    with pytest.raises(ValueError, match="alphas is empty"):
        imbalance_gain(x, y, tau=1, alphas=[])
    with pytest.raises(ValueError, match=r"alphas must lie in \[0, 1\]"):
        imbalance_gain(x, y, tau=1, alphas=[0.0, 1.5])
    with pytest.raises(ValueError, match=r"alphas must lie in \[0, 1\]"):
        causality_test(x, y, tau=1, alphas=[-0.1])
    with pytest.raises(ValueError, match=r"alphas must lie in \[0, 1\]"):
        imbalance_gain(x, y, tau=1, alphas=[np.nan])


def test_mismatched_lengths():
    x, y = driven_ar(50)
    with pytest.raises(ValueError, match="cause has 49.*effect has 50"):
        imbalance_gain(x[:-1], y, tau=1)
    with pytest.raises(ValueError, match="conditioning has 40"):
        causality_test(x, y, tau=1, conditioning=y[:40])


def test_bad_options_and_engine_errors():
    x, y = driven_ar(50)
    with pytest.raises(ValueError, match="k=60"):
        imbalance_gain(x, y, tau=1, k=60)
    with pytest.raises(ValueError, match="n_queries"):
        imbalance_gain(x, y, tau=1, n_queries=0)
    with pytest.raises(ValueError, match="times"):
        imbalance_gain(x, y, tau=1, times=[0, 49])
    with pytest.raises(ValueError, match="repeated"):
        imbalance_gain(x, y, tau=1, times=[0, 3, 3])
    with pytest.raises(ValueError, match=r"\(dim-1\)\*delay = 50"):
        imbalance_gain(x, y, tau=1, embedding=(11, 5))
    with pytest.raises(TypeError, match="pair"):
        imbalance_gain(x, y, tau=1, embedding=3)
    with pytest.raises(ValueError, match="min_gain"):
        causality_test(x, y, tau=1, min_gain=1.5)
    with pytest.raises(TypeError, match="progress"):
        imbalance_gain(x, y, tau=1, progress="yes")
    bad = x.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="cause: column 'cause0' has 1 NaN"):
        imbalance_gain(bad, y, tau=1)
    with pytest.raises(ValueError, match="dim must be at least 1"):
        time_delay_embedding(x, dim=0, delay=1)
