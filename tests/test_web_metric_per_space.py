"""Compare with a metric per space (issue 12): Euclidean on A, Manhattan on B, from the page's
inputs through the job runner, equal to the API called with ``metric=(for_a, for_b)``."""

from __future__ import annotations

import pytest

import infoimb
from infoimb.web.analyses import imbalance as cmp
from infoimb.web.jobs import run_job
from tests import webkit


@pytest.fixture(scope="module")
def store_and_settings(tmp_path_factory):
    s = webkit.make_settings(tmp_path_factory, "web-metric")
    return webkit.make_store(s), s


@pytest.fixture(scope="module")
def gauss(store_and_settings):
    return webkit.example_session(*store_and_settings, "gauss3d", 300)


def compare(store_and_settings, gauss, **kw):
    store, settings = store_and_settings
    sid, client = gauss
    inputs = {"a": "group:xy", "b": "full", "k": 1, "metric": "euclidean", "estimator": "exact",
              "extras": [], "n_permutations": 0, **kw}
    status = run_job(store, "compare", sid, inputs, client, settings)
    return status, store


def test_metric_of_b_differs_from_a_and_equals_the_api(store_and_settings, gauss):
    status, store = compare(store_and_settings, gauss, metric_b="manhattan")
    assert status["status"] == "ok", status.get("message")
    sid, _ = gauss
    record = store.get_result(sid, status["content_hash"], "compare", status["key"])
    df = store.get_dataset(sid)
    want = infoimb.imbalance_pair(df[["x", "y"]], df[["x", "y", "z"]], metric=("euclidean", "manhattan"),
                                  n_bootstrap=0)
    same = infoimb.imbalance_pair(df[["x", "y"]], df[["x", "y", "z"]], metric="euclidean", n_bootstrap=0)
    main = record["result"]["main"]
    assert main["a_to_b"] == pytest.approx(want.a_to_b, abs=1e-12)
    assert main["b_to_a"] == pytest.approx(want.b_to_a, abs=1e-12)
    assert (want.a_to_b, want.b_to_a) != (same.a_to_b, same.b_to_a)  # the metric of B mattered
    assert record["settings"]["metric_b"] == "manhattan"
    assert "A: euclidean, B: manhattan" in cmp.caption(record)


def test_same_as_a_is_the_default(store_and_settings, gauss):
    status, store = compare(store_and_settings, gauss)
    assert status["status"] == "ok", status.get("message")
    sid, _ = gauss
    record = store.get_result(sid, status["content_hash"], "compare", status["key"])
    df = store.get_dataset(sid)
    want = infoimb.imbalance_pair(df[["x", "y"]], df[["x", "y", "z"]], n_bootstrap=0)
    assert record["settings"]["metric_b"] == "euclidean"
    assert record["result"]["main"]["a_to_b"] == pytest.approx(want.a_to_b, abs=1e-12)
    assert "B: " not in cmp.caption(record)


def test_a_bad_metric_of_b_is_refused_with_a_message(store_and_settings, gauss):
    status, _ = compare(store_and_settings, gauss, metric_b="cosine")
    assert status["status"] == "error"
    assert "Metric of B must be one of same, euclidean" in status["message"] and "cosine" in status["message"]


def test_pair_metric_gives_a_matrix_pair_the_feature_sides_metric():
    s = {"metric": "euclidean", "metric_b": "manhattan"}
    assert cmp.pair_metric(s, {"a_matrix": "m1"}) == "manhattan"
    assert cmp.pair_metric(s, {"b_matrix": "m1"}) == "euclidean"
    assert cmp.pair_metric(s, {}) == ("euclidean", "manhattan")
    assert cmp.pair_metric({"metric": "chebyshev"}, {}) == "chebyshev"
