"""The selection's stop rule, step intervals and stability, against the ground truth of the
built-in examples; and the relations of the compare examples with permutation tests."""

import numpy as np
import pytest

import infoimb
from infoimb import datasets as D
from infoimb.lags import select_lagged
from infoimb.selection import _suggest, select_features


def test_stop_rule_known_answers():
    steps = [type("S", (), {"size": d})() for d in (1, 2, 3, 4)]
    crit = np.array([0.5, 0.1, 0.095, 0.02])
    always = lambda i, j: 1.0  # noqa: E731  (every improvement significant)
    never = lambda i, j: -1.0  # noqa: E731
    # 1 -> 2 improves; 2 -> 3 is below the tolerance but 2 -> 4 is not: go to 4
    assert _suggest(steps, crit, always, 0.01) == 4
    assert _suggest(steps, crit, always, 0.1) == 2
    assert _suggest(steps, crit, never, 0.01) == 1


def test_gauss3d_compression_suggests_x_and_y():
    r = select_features(D.gauss3d(), method="exhaustive", max_features=3, random_state=0)
    assert r.suggested_size == 2 and r.selected == ("x", "y")
    for st in r.steps:
        lo, hi = st.criterion_ci
        assert lo - 1e-12 <= st.criterion <= hi + 1e-12 and st.a_to_b_ci == st.criterion_ci
    assert r.best(2).a_to_b_ci[1] < 0.02 and r.confidence == 0.95 and r.tolerance == 0.01
    frame = r.to_frame()
    assert {"a_to_b_ci_low", "a_to_b_ci_high", "criterion_ci_low"} <= set(frame.columns)
    # the old rule (within two standard errors of the best) went on to the full set
    assert r.best(3).criterion + 2 * np.hypot(r.best(3).criterion_se, r.best(2).criterion_se) \
        < r.best(2).criterion


def test_descriptors_level_off_at_three():
    df = D.descriptors(300)
    X = df.drop(columns="energy")
    r = select_features(X, method="greedy", max_features=5, random_state=0)
    assert r.suggested_size == 3
    e = select_features(X, df[["energy"]], method="greedy", max_features=5, random_state=0)
    assert 2 <= e.suggested_size <= 4


def test_spiral_height_alone():
    r = select_features(D.spiral(), method="exhaustive", max_features=4,
                        period={"angle": 2 * np.pi}, random_state=0)
    assert r.selected == ("z",)


@pytest.mark.slow
def test_policy_panel_effective_policies():
    df = D.policy_panel(20)
    r = select_lagged(df, list(D.POLICIES), ["cases_growth"], lag=2, time="date", group="id",
                      method="greedy", max_features=5, random_state=0)
    assert r.suggested_size == 4 and set(r.selected) == set(D.EFFECTIVE_POLICIES)


def test_compare_examples_relations_with_permutations():
    g = D.gauss3d(300)
    kw = dict(n_permutations=99, random_state=0)
    assert infoimb.imbalance_pair(g[["x"]], g[["y"]], **kw).relation == "independent"
    assert infoimb.imbalance_pair(g, g[["x"]], **kw).relation == "a_contains_b"
    assert infoimb.imbalance_pair(g, g[["x", "y"]], **kw).relation == "equivalent"
    g4 = D.gauss4d(400)
    assert infoimb.imbalance_pair(g4[["x", "y", "z"]], g4[["y", "z", "w"]], **kw).relation == "symmetric"
    s = D.sinusoid(300)
    assert infoimb.imbalance_pair(s[["x1"]], s[["x2"]], **kw).relation == "a_contains_b"
    sp = D.spiral(300)
    assert infoimb.imbalance_pair(sp[["z"]], sp[["x", "y"]], **kw).relation == "a_contains_b"


def test_selection_stability_over_disjoint_subsets():
    g = D.gauss3d(600)
    r = select_features(g, method="exhaustive", max_features=3, n_splits=3, random_state=0)
    freq = r.stability
    two = freq[freq["size"] == 2].set_index("feature")["frequency"]
    assert two.to_dict() == {"x": 1.0, "y": 1.0}
    curves = r.stability_curves
    assert len(curves) == 3 * 3 and set(curves["split"]) == {0, 1, 2}
    assert (curves[curves["size"] == 2]["features"] == "x;y").all()
    assert (curves["suggested_size"] == 2).all()
    assert r.to_dict()["stability"]["frequency"][0] >= 0.5
    # by entity
    groups = np.repeat(np.arange(12), 50)
    r = select_features(g, method="greedy", max_features=2, n_splits=4, groups=groups,
                        random_state=0)
    assert set(r.stability_curves["split"]) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="n_splits must be 0"):
        select_features(g, n_splits=1)
    with pytest.raises(ValueError, match="more than the 12 entities"):
        select_features(g, n_splits=13, groups=groups)


def test_theiler_in_selection_equals_the_pair():
    rng = np.random.default_rng(0)
    n = 120
    times = np.tile(np.arange(30), 4)
    groups = np.repeat(np.arange(4), 30)
    X = rng.integers(0, 4, size=(n, 3)).astype(float)
    y = X[:, 0] + rng.integers(0, 2, size=n)
    r = select_features(X, y, method="exhaustive", max_features=2, theiler=2, times=times,
                        groups=groups)
    for _, row in r.candidates.iterrows():
        idx = [int(f[1:]) for f in row["features"].split(";")]
        p = infoimb.imbalance_pair(X[:, idx], y, theiler=2, times=times, groups=groups,
                                   n_bootstrap=0)
        assert row["a_to_b"] == pytest.approx(p.a_to_b, abs=1e-12)
        assert row["b_to_a"] == pytest.approx(p.b_to_a, abs=1e-12)
    with pytest.raises(ValueError, match="theiler needs times"):
        select_features(X, y, theiler=2)
