"""The two feature kernels (stored rows for small N, streamed query groups for large N) agree
exactly, on continuous, tied and duplicated data, every metric, k and periodicity."""

import numpy as np
import pytest

from infoimb._spaces import make_pair
from infoimb.imbalance import STREAM_MIN_N, pair_terms, query_indices

_rng = np.random.default_rng(0)
DATA = {
    "continuous": _rng.normal(size=(1500, 3)),
    "integers": _rng.integers(0, 4, size=(1500, 3)).astype(float),
    "duplicated": np.repeat(_rng.normal(size=(500, 3)), 3, axis=0),
    "constant_b": np.c_[_rng.normal(size=(1500, 2)), np.zeros(1500)],
}


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
@pytest.mark.parametrize("k", [1, 4, 12])
@pytest.mark.parametrize("period", [None, 1.5])
def test_streamed_equals_rows(name, metric, k, period):
    X = DATA[name]
    sa, sb = make_pair(X[:, :2], X[:, 2:], metric=metric, period=period)
    queries = query_indices(sa.n, 300, 1)
    rows = pair_terms(sa, sb, k, queries, streamed=False)
    streamed = pair_terms(sa, sb, k, queries, streamed=True)
    np.testing.assert_allclose(streamed[0], rows[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed[1], rows[1], rtol=0, atol=1e-12)


def test_the_switch_is_by_size():
    assert 100_000 <= STREAM_MIN_N <= 1_000_000
