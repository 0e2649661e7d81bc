"""infoimb: the information imbalance between distance measures (Glielmo et al. 2022).

Exact, tie-aware and fast (Numba). The public API::

    information_imbalance(a, b)   Delta(A->B)
    imbalance_pair(a, b)          both directions, standard errors, relation
    rank_samples(a, b)            ranks for the rank scatter and conditional distributions
"""

from .imbalance import (
    RELATIONS,
    ImbalancePair,
    RankSample,
    classify_relation,
    imbalance_pair,
    information_imbalance,
    rank_samples,
)

__version__ = "0.1.0"

__all__ = [
    "RELATIONS",
    "ImbalancePair",
    "RankSample",
    "classify_relation",
    "imbalance_pair",
    "information_imbalance",
    "rank_samples",
]
