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

# The "auto" rule, measured with bench/bench_tree.py --crossover on this project's 2-core
# machine (exact estimator, Gaussian data, both directions; the tree's time includes building
# both trees). The tree wins from about N = 2 000 at d <= 3, N = 5 000 at d = 4..5 and
# N = 20 000 at d = 6..8; above 8 dimensions it did not win at the sizes tried (up to 50 000).
# Key: the larger of the two spaces' dimensions; value: smallest N for the tree.
TREE_MIN_N = {1: 2_000, 2: 2_000, 3: 2_000, 4: 5_000, 5: 5_000, 6: 20_000, 7: 20_000,
              8: 20_000}
TREE_MAX_DIM = max(TREE_MIN_N)


def check_algorithm(algorithm) -> str:
    """``algorithm`` must be one of :data:`ALGORITHMS`."""
    return check_choice(algorithm, "algorithm", ALGORITHMS)


def tree_unsupported(metric: str, periods) -> str | None:
    """Why the tree cannot serve these spaces (None if it can)."""
    if metric == "precomputed":
        return "precomputed distances"
    if metric not in K.METRIC_CODES:
        return f"metric {metric!r}"
    for p in periods:
        if p is not None and np.any(np.asarray(p) > 0):
            return "periodic features"
    return None


def choose_algorithm(algorithm: str, *, metric: str, periods, dims, n: int,
                     n_queries: int | None = None) -> str:
    """Resolve ``algorithm`` to "brute" or "tree".

    ``periods``: the period arrays of the spaces involved; ``dims``: their dimensions;
    ``n_queries``: the number of query points (None: all N). "tree" with a metric or
    feature the tree does not serve raises ValueError; "auto" then falls back to brute.

    The "auto" rule: the tree when max(dims) <= 8 and N >= ``TREE_MIN_N[max(dims)]``, and,
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
    return K._chunks(n_items, threads * per_thread)


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
