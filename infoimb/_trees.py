"""Choosing between the brute-force kernels and the k-d tree, and running the tree path.

``algorithm="brute"``: every query scans all N points (O(m N d)); any metric, periodic
features, precomputed distances. ``algorithm="tree"``: k-d trees over both spaces
(:mod:`infoimb._tree_kernels`), exact and identical to the brute path, far below O(N) per
query in low dimensions; Euclidean, Manhattan and Chebyshev on non-periodic features only.
``algorithm="auto"``: the tree when it applies and is expected to be faster (see
:func:`choose_algorithm` for the measured rule), brute otherwise.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import _kernels as K
from . import _tree_kernels as T
from ._validation import check_choice

ALGORITHMS = ("auto", "brute", "tree")

# The "auto" rule, measured with ``python bench/bench_tree.py --crossover`` on this project's
# 2-core machine (CPU seconds, exact estimator, both directions, the tree's time including
# building both trees). The tree's radius counts cost more when the ranks are large (nearly
# independent spaces: the count's sphere holds ~N/2 points, its boundary ~N^(1-1/d) of them)
# than when A predicts B, so the crossover depends on the data; the rule takes the tree where
# it did not lose on either kind:
#   d = 1, 2: tree 1.5-18x faster from N = 3 000 on (dependent), 1.1-15x (independent);
#   d = 3:    dependent wins from N = 3 000 (2.8x at 30 000); independent breaks even
#             near N = 30 000 (0.82x), so the tree from 30 000;
#   d = 4:    dependent wins from 10 000 (1.3x); independent loses (0.3x at 10 000, growing
#             slowly as N^(1/4)), so the tree only from 100 000;
#   d >= 5:   brute (the tree lost in both kinds at the sizes tried).
# Key: the larger of the two spaces' dimensions; value: smallest N for the tree.
TREE_MIN_N = {1: 3_000, 2: 3_000, 3: 30_000, 4: 100_000}
TREE_MAX_DIM = max(TREE_MIN_N)


def check_algorithm(algorithm) -> str:
    """``algorithm`` must be one of :data:`ALGORITHMS`."""
    return check_choice(algorithm, "algorithm", ALGORITHMS)


def tree_unsupported(metric: str, periods) -> str | None:
    """Why the tree cannot serve these spaces (None if it can)."""
    if metric == "precomputed":
        return "precomputed distances"
    if metric not in K.METRIC_CODES or metric in ("categorical", "gower"):
        return f"metric {metric!r}"
    for p in periods:
        if p is not None and np.any(np.asarray(p) > 0):
            return "periodic features"
        if p is not None and np.any(np.asarray(p) < 0):  # the kernels' mark of a category
            return "categorical features"
    return None


def choose_algorithm(algorithm: str, *, metric: str, periods, dims, n: int,
                     n_queries: int | None = None) -> str:
    """Resolve ``algorithm`` to "brute" or "tree".

    ``periods``: the period arrays of the spaces involved; ``dims``: their dimensions;
    ``n_queries``: the number of query points (None: all N). "tree" with a metric or
    feature the tree does not serve raises ValueError; "auto" then falls back to brute.

    The "auto" rule: the tree when max(dims) <= 4 and N >= ``TREE_MIN_N[max(dims)]``, and,
    for the subsampled estimator, when the queries' brute cost m * N exceeds the trees'
    build cost (about 40 N log2 N in the same units; m >= 40 log2 N queries).
    """
    algorithm = check_algorithm(algorithm)
    if algorithm == "brute":
        return "brute"
    reason = tree_unsupported(metric, periods)
    if algorithm == "tree":
        if reason is not None:
            raise ValueError(f"algorithm='tree' does not support {reason}; use "
                             "algorithm='brute' (or 'auto', which falls back to it)")
        return "tree"
    if reason is not None:
        return "brute"
    d = max(dims)
    if d > TREE_MAX_DIM or n < TREE_MIN_N[d]:
        return "brute"
    m = n if n_queries is None else n_queries
    if m < 40 * math.log2(n):
        return "brute"
    return "tree"


def _bounds(n_items: int, n: int) -> np.ndarray:
    threads = numba.get_num_threads()
    per_thread = 8 if n <= 2_000_000 else 2
    return K.chunks(n_items, threads * per_thread)


def tree_pair_terms(AT, metric_a: int, BT, metric_b: int, k: int, queries: np.ndarray,
                    scale: float, tree_a=None, tree_b=None) -> tuple[np.ndarray, np.ndarray]:
    """Per-query terms of both directions with k-d trees (as ``_kernels.pair_terms``).

    ``tree_a`` / ``tree_b``: trees already built for AT / BT (built here when None).
    """
    tA = T.make_tree(AT) if tree_a is None else tree_a
    tB = T.make_tree(BT) if tree_b is None else tree_b
    order = T.tree_order(tA, queries)
    return T.pair_terms_tree(AT, metric_a, tA, BT, metric_b, tB, queries, order, k, scale,
                             _bounds(queries.shape[0], AT.shape[1]))
