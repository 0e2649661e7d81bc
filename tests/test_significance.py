"""Significance: permutation kernels against NumPy, calibration, power, reproducibility,
intervals, the relation's words, the Theiler window, BH q-values."""

import numpy as np
import pytest

import infoimb
from infoimb import significance as S
from infoimb._spaces import make_pair
from infoimb._stats import bh_qvalues
from infoimb.imbalance import classify_relation

try:
    from . import reference as R
except ImportError:  # run as a plain file
    import reference as R


def _null(A, B, perms, k=1, metric="euclidean", theiler=None):
    sa, sb = make_pair(A, B, metric=metric)
    targs = S.no_theiler(sa.n) if theiler is None else theiler.args()
    return S.null_deltas(sa, sb, k, perms, targs)


# --------------------------------------------------------------------------------------
# kernels against the NumPy reference
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("tied", [True, False])
def test_permuted_deltas_equal_the_reference(metric, k, tied):
    rng = np.random.default_rng(5)
    n = 45
    if tied:  # integer data: ties everywhere (the tie-aware path)
        A = rng.integers(0, 3, size=(n, 2)).astype(float)
        B = rng.integers(0, 4, size=(n, 1)).astype(float)
    else:  # continuous data: the untied fast path
        A = rng.normal(size=(n, 2))
        B = A[:, :1] + 0.3 * rng.normal(size=(n, 1))
    perms = np.vstack([np.arange(n), *[rng.permutation(n) for _ in range(6)]])
    null_ab, null_ba = _null(A, B, perms, k, metric)
    DA = R.distance_matrix(A, metric)
    DB = R.distance_matrix(B, metric)
    for p, perm in enumerate(perms):
        DBp = DB[np.ix_(perm, perm)]
        assert null_ab[p] == pytest.approx(R.imbalance_from_matrices(DA, DBp, k), abs=1e-12)
        assert null_ba[p] == pytest.approx(R.imbalance_from_matrices(DBp, DA, k), abs=1e-12)
    # the identity permutation is the observed value of the engine
    obs = infoimb.imbalance_pair(A, B, k=k, metric=metric, n_bootstrap=0)
    assert null_ab[0] == pytest.approx(obs.a_to_b, abs=1e-12)
    assert null_ba[0] == pytest.approx(obs.b_to_a, abs=1e-12)


def test_permuted_deltas_precomputed_matrices():
    rng = np.random.default_rng(6)
    A = rng.integers(0, 3, size=(30, 2)).astype(float)
    B = rng.integers(0, 3, size=(30, 2)).astype(float)
    DA, DB = R.distance_matrix(A, "manhattan"), R.distance_matrix(B, "manhattan")
    perms = np.vstack([rng.permutation(30) for _ in range(4)])
    null_ab, null_ba = _null(DA, DB, perms, 2, "precomputed")
    for p, perm in enumerate(perms):
        assert null_ab[p] == pytest.approx(R.permuted_imbalance(DA, DB, perm, 2), abs=1e-12)
        assert null_ba[p] == pytest.approx(R.permuted_imbalance(DB[np.ix_(perm, perm)], DA,
                                                                np.arange(30), 2), abs=1e-12)


@pytest.mark.parametrize("k", [1, 2])
def test_theiler_terms_equal_the_reference(k):
    rng = np.random.default_rng(7)
    series = np.repeat([0, 1, 2], 15)
    times = np.tile(np.arange(15), 3).astype(float)
    A = rng.integers(0, 4, size=(45, 2)).astype(float)
    B = rng.integers(0, 4, size=(45, 1)).astype(float)
    th = S.Theiler(2, times, series, 45)
    sa, sb = make_pair(A, B)
    t_ab, t_ba = S.theiler_terms(sa, sb, k, np.arange(45), th.args())
    DA, DB = R.distance_matrix(A), R.distance_matrix(B)
    np.testing.assert_allclose(t_ab, R.theiler_query_terms(DA, DB, series, times, 2, k), atol=1e-12)
    np.testing.assert_allclose(t_ba, R.theiler_query_terms(DB, DA, series, times, 2, k), atol=1e-12)
    # wired through imbalance_pair
    p = infoimb.imbalance_pair(A, B, k=k, theiler=2, times=times, groups=series, n_bootstrap=0)
    assert p.a_to_b == pytest.approx(t_ab.mean(), abs=1e-12) and p.theiler == 2.0
    # w below the time step excludes only the point itself: the plain estimate
    p0 = infoimb.imbalance_pair(A, B, k=k, theiler=0.5, times=times, groups=series, n_bootstrap=0)
    assert p0.a_to_b == pytest.approx(infoimb.information_imbalance(A, B, k=k), abs=1e-12)


def test_theiler_in_the_permuted_kernel_on_a_balanced_panel():
    rng = np.random.default_rng(8)
    series = np.repeat(np.arange(4), 10)
    times = np.tile(np.arange(10), 4).astype(float)
    A = rng.integers(0, 4, size=(40, 2)).astype(float)
    B = rng.integers(0, 4, size=(40, 1)).astype(float)
    th = S.Theiler(1, times, series, 40)
    entities = S.entity_rows(S.labels(series, 40, "groups"), times)
    perms = S.permutations(40, 5, rng, entities=entities)
    null_ab, null_ba = _null(A, B, perms, 1, theiler=th)
    DA, DB = R.distance_matrix(A), R.distance_matrix(B)
    for p, perm in enumerate(perms):
        DBp = DB[np.ix_(perm, perm)]
        ref = R.theiler_query_terms(DA, DBp, series, times, 1).mean()
        assert null_ab[p] == pytest.approx(ref, abs=1e-12)
        assert null_ba[p] == pytest.approx(R.theiler_query_terms(DBp, DA, series, times, 1).mean(),
                                           abs=1e-12)


def test_entity_permutations_keep_series_whole():
    groups = np.array(["b"] * 4 + ["a"] * 4 + ["c"] * 3 + ["d"] * 3 + ["e"] * 2)
    times = np.r_[3, 2, 1, 0, 0, 1, 2, 3, 0, 1, 2, 5, 6, 7, 0, 1].astype(float)
    ents = S.entity_rows(S.labels(groups, 16, "groups"), times)
    perms = S.permutations(16, 50, np.random.default_rng(0), entities=ents)
    for perm in perms:
        assert sorted(perm) == list(range(16))
        for e in ents:
            target = perm[e]
            # whole entity, same positions in time order
            hit = [f for f in ents if set(f) == set(target)]
            assert len(hit) == 1 and list(target) == list(hit[0])
        # e (the only entity of length 2) keeps its own series
        assert list(perm[ents[4]]) == list(ents[4])
    assert S.shared_lengths(ents) == pytest.approx(4 / 5)


# --------------------------------------------------------------------------------------
# calibration and power
# --------------------------------------------------------------------------------------
def _band(rate, n, p0=0.05):
    """Binomial band: p0 +- 3 sd (with 49 permutations p < 0.05 means p <= 0.04)."""
    sd = np.sqrt(p0 * (1 - p0) / n)
    return p0 - 3 * sd <= rate <= p0 + 3 * sd


def test_calibration_independent_rows():
    n_sets, hits, verdicts = 200, 0, 0
    for s in range(n_sets):
        rng = np.random.default_rng(1000 + s)
        A, B = rng.normal(size=(60, 2)), rng.normal(size=(60, 2))
        p = infoimb.imbalance_pair(A, B, n_permutations=49, random_state=s, n_bootstrap=0)
        hits += p.p_a_to_b < 0.05
        verdicts += p.relation != "independent"
    assert _band(hits / n_sets, n_sets, 0.04), hits
    assert verdicts / n_sets <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n_sets), verdicts


def _panel(rng, n_entities=12, n_steps=5):
    """A and B: a persistent random level per entity (unrelated between A and B) + noise."""
    groups = np.repeat(np.arange(n_entities), n_steps)
    times = np.tile(np.arange(n_steps), n_entities)
    A = rng.normal(size=(n_entities, 2))[groups] + 0.1 * rng.normal(size=(groups.size, 2))
    B = rng.normal(size=(n_entities, 2))[groups] + 0.1 * rng.normal(size=(groups.size, 2))
    return A, B, groups, times


def test_calibration_panels_with_a_persistent_level():
    rng = np.random.default_rng(0)
    A, B, groups, times = _panel(rng)
    # the fingerprint fools the row null ...
    naive = infoimb.imbalance_pair(A, B, n_permutations=49, random_state=0, n_bootstrap=0)
    assert naive.p_a_to_b == pytest.approx(0.02)
    # ... not the entity null
    n_sets, hits, verdicts = 200, 0, 0
    for s in range(n_sets):
        A, B, groups, times = _panel(np.random.default_rng(2000 + s))
        p = infoimb.imbalance_pair(A, B, groups=groups, times=times, n_permutations=49,
                                   random_state=s, n_bootstrap=0)
        assert p.null == "entities"
        hits += p.p_a_to_b < 0.05
        verdicts += p.relation != "independent"
    assert _band(hits / n_sets, n_sets, 0.04), hits
    assert verdicts / n_sets <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n_sets), verdicts


def test_power_at_n40():
    detected = 0
    for s in range(20):
        rng = np.random.default_rng(s)
        A = rng.normal(size=(40, 2))
        B = A[:, :1] + 0.2 * rng.normal(size=(40, 1))
        p = infoimb.imbalance_pair(A, B, n_permutations=99, random_state=s)
        detected += p.p_a_to_b <= 0.01 and p.relation != "independent"
    assert detected == 20


def test_power_panel_with_groups():
    rng = np.random.default_rng(3)
    A, _, groups, times = _panel(rng, n_entities=15)
    B = A[:, :1] + 0.05 * rng.normal(size=(A.shape[0], 1))  # B follows A across entities
    p = infoimb.imbalance_pair(A, B, groups=groups, times=times, n_permutations=99,
                               random_state=0)
    assert p.p_a_to_b <= 0.02 and p.relation != "independent"


# --------------------------------------------------------------------------------------
# reproducibility and row order
# --------------------------------------------------------------------------------------
def test_p_reproducible_and_independent_of_row_order():
    rng = np.random.default_rng(11)
    A = rng.normal(size=(50, 2))
    B = A[:, :1] ** 2 + rng.normal(size=(50, 1))
    p1 = infoimb.imbalance_pair(A, B, n_permutations=99, random_state=4)
    p2 = infoimb.imbalance_pair(A, B, n_permutations=99, random_state=4)
    assert p1 == p2
    assert 0.01 < p1.p_a_to_b < 0.9  # not at a bound: the check below can fail
    order = rng.permutation(50)
    p3 = infoimb.imbalance_pair(A[order], B[order], n_permutations=99, random_state=4)
    assert (p3.p_a_to_b, p3.p_b_to_a) == (p1.p_a_to_b, p1.p_b_to_a)
    assert p3.a_to_b_ci == pytest.approx(p1.a_to_b_ci, abs=1e-12)
    assert p3.difference_ci == pytest.approx(p1.difference_ci, abs=1e-12)
    p4 = infoimb.imbalance_pair(A, B, n_permutations=99, random_state=5)
    assert (p4.p_a_to_b, p4.a_to_b_ci) != (p1.p_a_to_b, p1.a_to_b_ci)


def test_entity_p_independent_of_row_order():
    rng = np.random.default_rng(12)
    A, B, groups, times = _panel(rng, n_entities=10)
    B = B + 0.5 * A
    labels = np.array([f"e{g}" for g in groups])
    kw = dict(n_permutations=99, random_state=1)
    p1 = infoimb.imbalance_pair(A, B, groups=labels, times=times, **kw)
    order = rng.permutation(len(groups))
    p2 = infoimb.imbalance_pair(A[order], B[order], groups=labels[order], times=times[order], **kw)
    assert (p2.p_a_to_b, p2.p_b_to_a) == (p1.p_a_to_b, p1.p_b_to_a)
    assert p2.a_to_b_ci == pytest.approx(p1.a_to_b_ci, abs=1e-12)


# --------------------------------------------------------------------------------------
# intervals and words
# --------------------------------------------------------------------------------------
def test_intervals_cover_and_order():
    X = infoimb.datasets.gauss3d(400)
    p = infoimb.imbalance_pair(X, X[["x"]], random_state=0)
    assert p.p_a_to_b is None and p.n_permutations == 0 and p.confidence == 0.95
    lo, hi = p.a_to_b_ci
    assert lo < p.a_to_b < hi and hi - lo == pytest.approx(2 * 1.96 * p.a_to_b_se, rel=0.25)
    assert p.difference_ci[1] < 0  # A (full) contains x: the difference is clearly negative
    assert p.difference == pytest.approx(p.a_to_b - p.b_to_a)
    d = p.to_dict()
    assert d["a_to_b_ci"] == list(p.a_to_b_ci) and d["p_a_to_b"] is None
    assert type(p).from_dict(d) == p
    narrow = infoimb.imbalance_pair(X, X[["x"]], random_state=0, confidence=0.5)
    assert narrow.a_to_b_ci[1] - narrow.a_to_b_ci[0] < hi - lo
    none = infoimb.imbalance_pair(X, X[["x"]], n_bootstrap=0)
    assert none.a_to_b_ci is None and none.confidence is None


def test_cluster_bootstrap_is_wider_for_entity_data():
    rng = np.random.default_rng(2)
    A, B, groups, times = _panel(rng, n_entities=20, n_steps=10)
    B = B + A
    rows = infoimb.imbalance_pair(A, B, random_state=0)
    ents = infoimb.imbalance_pair(A, B, groups=groups, random_state=0)
    w = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert w(ents.a_to_b_ci) > 1.5 * w(rows.a_to_b_ci)


def test_relation_words_follow_the_tests():
    # the old rule, unchanged without p-values
    assert classify_relation(0.06, 0.55, 0.003, 0.01) == "a_contains_b"
    assert classify_relation(0.5, 0.6, 0.2, 0.2) == "symmetric"
    # not significant: independent whatever Delta says
    assert classify_relation(0.06, 0.55, p_a_to_b=0.2, p_b_to_a=0.5) == "independent"
    # significant in one direction at alpha / 2 (Bonferroni over the two)
    assert classify_relation(0.5, 0.6, p_a_to_b=0.03, p_b_to_a=0.5) == "independent"
    assert classify_relation(0.5, 0.6, p_a_to_b=0.02, p_b_to_a=0.5) == "symmetric"
    assert classify_relation(0.5, 0.6, p_a_to_b=0.03, p_b_to_a=0.5, alpha=0.1) == "symmetric"
    # contains only with a significant asymmetry and the margin
    kw = dict(p_a_to_b=0.001, p_b_to_a=0.001)
    assert classify_relation(0.06, 0.55, difference_ci=(-0.6, -0.4), **kw) == "a_contains_b"
    assert classify_relation(0.55, 0.06, difference_ci=(0.4, 0.6), **kw) == "b_contains_a"
    assert classify_relation(0.06, 0.55, difference_ci=(-0.6, 0.01), **kw) == "symmetric"
    assert classify_relation(0.50, 0.55, difference_ci=(-0.08, -0.02), **kw) == "symmetric"
    assert classify_relation(0.05, 0.06, **kw) == "equivalent"
    # significant but weak: shared, not independent
    assert classify_relation(0.95, 0.96, **kw) == "symmetric"


def test_bh_hand_example():
    # sorted p: 0.01, 0.03, 0.04, 0.5 -> 4 * p / rank = 0.04, 0.06, 0.0533, 0.5, then the
    # running minimum from the top: 0.04, 0.0533, 0.0533, 0.5
    np.testing.assert_allclose(bh_qvalues([0.04, 0.01, 0.5, 0.03]), [0.16 / 3, 0.04, 0.5, 0.16 / 3])


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
def test_bad_arguments_are_named():
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="n_permutations must be at least 0"):
        infoimb.imbalance_pair(X, X, n_permutations=-1)
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        infoimb.imbalance_pair(X, X, confidence=1.0)
    with pytest.raises(ValueError, match="n_permutations needs the exact estimator"):
        infoimb.imbalance_pair(X, X, n_permutations=9, n_queries=10)
    with pytest.raises(ValueError, match="theiler needs times"):
        infoimb.imbalance_pair(X, X, theiler=2)
    with pytest.raises(ValueError, match="theiler must be at least 0"):
        infoimb.imbalance_pair(X, X, theiler=-1, times=np.arange(30))
    with pytest.raises(ValueError, match="groups must have one label per row"):
        infoimb.imbalance_pair(X, X, groups=[1, 2])
    with pytest.raises(ValueError, match="theiler window too wide"):
        infoimb.imbalance_pair(X, X, theiler=40, times=np.arange(30))
    with pytest.raises(ValueError, match="at least 2 entities"):
        infoimb.imbalance_pair(X, X, groups=np.zeros(30), n_permutations=9)


def test_too_few_permutations_to_decide_are_not_read_as_independent():
    """19 permutations cannot give p <= alpha/2 = 0.025 (the smallest p is 1/20 = 0.05): the
    relation of a plainly equivalent pair (gauss3d's xy vs the full space: both Delta ~ 0.01)
    was named 'independent'. Now the p-values are set aside, the words come from Delta and its
    errors, and the confidence says the test could not decide and how many are needed."""
    from infoimb import verdicts
    from infoimb.imbalance import can_reach

    df = infoimb.datasets.gauss3d(200, random_state=0)
    few = infoimb.imbalance_pair(df[["x", "y"]], df[["x", "y", "z"]], n_permutations=19, random_state=0)
    assert few.a_to_b < 0.05 and few.b_to_a < 0.05 and min(few.p_a_to_b, few.p_b_to_a) == pytest.approx(1 / 20)
    assert few.relation == "equivalent"
    label, text = verdicts.relation_confidence(few)
    assert label == "too few permutations"
    assert "1/20 = 0.05" in text and "at least 39" in text
    enough = infoimb.imbalance_pair(df[["x", "y"]], df[["x", "y", "z"]], n_permutations=39, random_state=0)
    assert enough.relation == "equivalent" and verdicts.relation_confidence(enough)[0] == "significant"
    assert (can_reach(38), can_reach(39), can_reach(99, alpha=0.01), can_reach(199, alpha=0.01)) == \
        (False, True, False, True)
    # the rule itself: p-values of too few permutations are not used
    assert classify_relation(0.02, 0.02, 0.01, 0.01, p_a_to_b=0.05, p_b_to_a=0.05) == "independent"
    assert classify_relation(0.02, 0.02, 0.01, 0.01, p_a_to_b=0.05, p_b_to_a=0.05,
                             n_permutations=19) == "equivalent"


@pytest.mark.parametrize("k", [1, 2])
def test_permuted_deltas_with_one_tied_space_equal_the_reference(k):
    """A continuous, B integer: A's neighbour lists have no ties (the per-direction untied kernel,
    ``permuted_rank_sums_untied``), B's have (the tie-aware kernel): both against NumPy."""
    rng = np.random.default_rng(11)
    n = 40
    A = rng.normal(size=(n, 2))
    B = np.round(A[:, :1] * 1.5)
    perms = np.vstack([np.arange(n), *[rng.permutation(n) for _ in range(5)]])
    null_ab, null_ba = _null(A, B, perms, k)
    DA, DB = R.distance_matrix(A, "euclidean"), R.distance_matrix(B, "euclidean")
    for p, perm in enumerate(perms):
        DBp = DB[np.ix_(perm, perm)]
        assert null_ab[p] == pytest.approx(R.imbalance_from_matrices(DA, DBp, k), abs=1e-12)
        assert null_ba[p] == pytest.approx(R.imbalance_from_matrices(DBp, DA, k), abs=1e-12)
