"""A scikit-learn feature selector driven by the information imbalance.

scikit-learn is an optional dependency (``pip install "infoimb[sklearn]"``); this module is
imported only when used.
"""

from __future__ import annotations

import numpy as np

try:
    from sklearn.base import BaseEstimator
    from sklearn.feature_selection import SelectorMixin
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "infoimb.sklearn needs scikit-learn: pip install 'infoimb[sklearn]'"
    ) from exc

from .selection import select_features


class ImbalanceSelector(SelectorMixin, BaseEstimator):
    """Select the features whose distances best predict the target's (or the full space's).

    Parameters
    ----------
    n_features : int or None
        How many features to keep; None keeps the suggested size (where Delta stops improving
        beyond its standard error), searching up to ``max_features``.
    method, criterion, k, metric, n_queries, n_best, max_subsets, random_state
        As in :func:`infoimb.select_features`.
    max_features : int or None
        Largest size searched when ``n_features`` is None (default: all features, 3 for
        "exhaustive").

    Attributes
    ----------
    result_ : SelectionResult
    support_ : boolean array of the kept features

    Examples
    --------
    >>> import numpy as np
    >>> from infoimb.sklearn import ImbalanceSelector
    >>> X = np.random.default_rng(0).normal(size=(400, 5))
    >>> y = 3 * X[:, 0] - 10 * X[:, 2]
    >>> ImbalanceSelector(n_features=2).fit(X, y).get_support(indices=True)
    array([0, 2])
    """

    def __init__(self, n_features=None, *, method="greedy", criterion="a_to_b", k=1,
                 metric="euclidean", n_queries=None, n_best=10, max_features=None,
                 max_subsets=100_000, random_state=None):
        self.n_features = n_features
        self.method = method
        self.criterion = criterion
        self.k = k
        self.metric = metric
        self.n_queries = n_queries
        self.n_best = n_best
        self.max_features = max_features
        self.max_subsets = max_subsets
        self.random_state = random_state

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=3)
        target = None if y is None else np.asarray(y, dtype=np.float64)
        if self.n_features is not None:
            if not 1 <= int(self.n_features) <= X.shape[1]:
                raise ValueError(f"n_features must be between 1 and {X.shape[1]}, got {self.n_features}")
            max_features = int(self.n_features)
        else:
            max_features = self.max_features
        self.result_ = select_features(
            X, target, method=self.method, criterion=self.criterion, k=self.k,
            metric=self.metric, n_queries=self.n_queries, n_best=self.n_best,
            max_features=max_features, max_subsets=self.max_subsets,
            random_state=self.random_state)
        size = self.result_.suggested_size if self.n_features is None else int(self.n_features)
        chosen = self.result_.best(size).features
        names = list(self.result_.columns)
        self.support_ = np.zeros(X.shape[1], dtype=bool)
        self.support_[[names.index(f) for f in chosen]] = True
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_
