"""infoimb: the information imbalance between distance measures (Glielmo et al. 2022).

Exact, tie-aware and fast (Numba). The engine::

    information_imbalance(a, b)   Delta(A->B)
    imbalance_pair(a, b)          both directions, standard errors, relation
    rank_samples(a, b)            ranks for the rank scatter and conditional distributions

The analyses (imported on first use, so ``import infoimb`` stays light)::

    select_features        exhaustive / greedy / beam / backward selection
    lag_scan, select_lagged   time lags on panel data
    imbalance_gain, causality_test, time_delay_embedding   causality (imbalance gain)
    causal_graph           direct causal links among many time series (imbalance gain)
    optimize_weights       relative scales of heterogeneous features (grid, coordinate, DII)
    load_distance_matrix, imbalance_matrix   N x N distance matrices as spaces; Δ between many
    Cancelled, warmup      stop a running analysis from its progress callback; compile kernels

Submodules, imported on first use as ``infoimb.<name>``::

    datasets, preprocess   built-in examples; panel preprocessing
    io                     read_table (CSV, TSV, Parquet, Excel, with size limits), clean_filename
    verdicts               every verdict sentence, as the CLI and the dashboard print it
    figures                pure Plotly figure builders (need plotly)
    sklearn                a scikit-learn feature selector (needs scikit-learn)
    distances              distance matrices: loading, checks, limits, the matrix of Δ
    materials              carbon SOAP, Tersoff energies (needs the extra "materials")

Every result class has ``to_dict()`` and ``from_dict()``; ``infoimb._serialize.dumps`` writes
any of them as JSON.
"""

from importlib import import_module

from ._progress import Cancelled
from ._warmup import warmup
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

_LAZY = {
    "select_features": "selection",
    "SelectionResult": "selection",
    "SelectionStep": "selection",
    "lag_scan": "lags",
    "select_lagged": "lags",
    "LagScanResult": "lags",
    "imbalance_gain": "causality",
    "causality_test": "causality",
    "time_delay_embedding": "causality",
    "ImbalanceGain": "causality",
    "CausalityResult": "causality",
    "optimize_weights": "weights",
    "WeightsResult": "weights",
    "causal_graph": "graph",
    "CausalGraph": "graph",
    "load_distance_matrix": "distances",
    "imbalance_matrix": "distances",
    "DistanceMatrix": "distances",
    "ImbalanceMatrix": "distances",
    "estimate_seconds": "cost",
    "cost_estimate": "cost",
    "CostEstimate": "cost",
    "SmallSampleWarning": "_spaces",
}
_SUBMODULES = ("datasets", "preprocess", "selection", "lags", "causality", "weights", "io",
               "figures", "sklearn", "verdicts", "distances", "materials", "graph", "cost")

__all__ = [
    "RELATIONS",
    "Cancelled",
    "ImbalancePair",
    "RankSample",
    "classify_relation",
    "imbalance_pair",
    "information_imbalance",
    "rank_samples",
    "warmup",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'infoimb' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
