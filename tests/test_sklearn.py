"""The scikit-learn selector: fit/transform/get_support/get_params, inside a pipeline."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from infoimb.sklearn import ImbalanceSelector  # noqa: E402


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    return X, 3 * X[:, 0] - 10 * X[:, 2]


def test_selects_0_and_2_and_transforms(data):
    X, y = data
    sel = ImbalanceSelector(n_features=2, method="exhaustive").fit(X, y)
    assert list(sel.get_support(indices=True)) == [0, 2]
    assert np.array_equal(sel.transform(X), X[:, [0, 2]])
    assert sel.result_.best(2).a_to_b < 0.1


def test_suggested_size_when_n_features_is_none(data):
    X, y = data
    sel = ImbalanceSelector(method="greedy", max_features=4).fit(X, y)
    assert list(sel.get_support(indices=True)) == [0, 2]


def test_pipeline_and_params(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), ImbalanceSelector(n_features=2), LinearRegression())
    pipe.fit(X, y)
    assert pipe.score(X, y) == pytest.approx(1.0, abs=1e-9)
    params = pipe.get_params()
    assert params["imbalanceselector__n_features"] == 2
    cloned = clone(ImbalanceSelector(n_features=3, k=2, method="beam"))
    assert cloned.get_params()["k"] == 2 and cloned.get_params()["method"] == "beam"


def test_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="n_features must be between 1 and 6"):
        ImbalanceSelector(n_features=9).fit(X, y)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        ImbalanceSelector().transform(X)
