"""Compile (or load from numba's on-disk cache) every kernel variant once.

The web app calls :func:`warmup` in its parent process before background jobs fork, so jobs
never compile. Each kernel is called with exactly the argument types the public functions use.
"""

from __future__ import annotations

import importlib
import time

import numpy as np

from . import _kernels as K


def warmup() -> float:
    """Compile every kernel variant on tiny inputs; return the seconds it took."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    n = 12
    AT = np.ascontiguousarray(rng.normal(size=(2, n)))
    BT = np.ascontiguousarray(rng.normal(size=(1, n)))
    pa = np.zeros(2)
    pb = np.array([1.0])
    queries = np.arange(n, dtype=np.int64)
    bounds = K.chunks(n, 2)
    for code in K.METRIC_CODES.values():
        K.pair_terms(AT, pa, code, BT, pb, code, queries, 1, 1.0, bounds)
        K.pair_terms_streamed(AT, pa, code, BT, pb, code, queries, 1, 1.0)
    D = np.ascontiguousarray(np.abs(AT[0][:, None] - AT[0][None, :]))
    K.pair_terms_precomputed(D, D, queries, 1, 1.0, bounds)
    # distance matrices as inputs: float32 matrices, and one matrix beside a feature space
    D32 = D.astype(np.float32)
    K.pair_terms_precomputed(D32, D32, queries, 1, 1.0, bounds)
    K.pair_terms_precomputed(D32, D, queries, 1, 1.0, bounds)
    K.pair_terms_precomputed(D, D32, queries, 1, 1.0, bounds)
    K.pair_terms_mixed(D, BT, pb, K.EUCLIDEAN, queries, 1, 1.0, bounds)
    K.pair_terms_mixed(D32, BT, pb, K.EUCLIDEAN, queries, 1, 1.0, bounds)
    parents = np.array([[0], [1]], dtype=np.int64)
    K.subset_terms(AT, pa, parents, np.array([0, 1], dtype=np.int64), np.array([0, 1], dtype=np.int64),
                   np.array([1, 0], dtype=np.int64), BT, pb, K.EUCLIDEAN, queries, 1, bounds,
                   K.EUCLIDEAN)
    partners = np.array([[1, 2], [0, 3]], dtype=np.int64)
    K.rank_pairs(AT, pa, K.EUCLIDEAN, BT, pb, K.EUCLIDEAN, queries[:2], partners)
    K._midranks(D[0].copy(), np.empty(n))
    # the rank samples of a distance matrix beside features, and of two matrices (the dashboard's
    # Compare page on an uploaded matrix): their row kernels, compiled here, not in a forked job
    from .distances import DistanceMatrix
    from .imbalance import rank_samples

    X = np.ascontiguousarray(AT.T)
    for dm in (DistanceMatrix(D), DistanceMatrix(D32)):
        rank_samples(dm, X, n_queries=n, n_scatter=3, n_partners=2, random_state=0)
        rank_samples(X, dm, n_queries=n, n_scatter=3, n_partners=2, random_state=0)
        rank_samples(dm, DistanceMatrix(D), n_queries=n, n_scatter=3, n_partners=2, random_state=0)
    # analysis modules that carry kernels of their own expose a ``_warmup()``
    for name in ("infoimb.weights", "infoimb.causality"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - optional module missing
            continue
        if hasattr(module, "_warmup"):
            module._warmup()
    return time.perf_counter() - t0
