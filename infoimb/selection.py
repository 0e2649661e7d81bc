"""Feature selection with the information imbalance: exhaustive, greedy, beam, backward.

The target's side of every query (its distances and neighbours) is computed once per query
and batch; each parent subset's partial distances are computed once per query and reused by
all its children (see ``_kernels.subset_terms``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from . import _kernels as K
from ._progress import ProgressCallback, report
from ._spaces import _frame, check_k, check_metric, check_n_queries, make_space
from ._trees import check_algorithm, choose_algorithm, tree_pair_terms
from .cluster import get_executor
from ._serialize import Result
from ._validation import check_choice, check_int
from .imbalance import chunk_bounds, mean_se, query_indices

METHODS = ("exhaustive", "greedy", "beam", "backward")
CRITERIA = ("a_to_b", "symmetric")
DUMMY = "dummy_noise"
_BATCH = 256  # candidates evaluated per kernel call (bounds memory, paces progress)


@dataclass(frozen=True)
class SelectionStep(Result):
    """The best subset of one size.

    ``a_to_b`` is Delta(subset -> target), ``b_to_a`` is Delta(target -> subset);
    ``criterion`` is the value that was minimised. ``random_mean`` / ``random_sd``: the random
    baseline at this size (NaN when not requested).
    """

    size: int
    features: tuple[str, ...]
    a_to_b: float
    a_to_b_se: float
    b_to_a: float
    b_to_a_se: float
    criterion: float
    criterion_se: float
    n_evaluated: int
    random_mean: float = math.nan
    random_sd: float = math.nan


@dataclass(frozen=True)
class SelectionResult(Result):
    """Result of :func:`select_features`.

    Attributes
    ----------
    steps : tuple of SelectionStep
        The best subset for each size, in increasing size.
    candidates : DataFrame
        Every evaluated subset: size, features (";"-joined), a_to_b, a_to_b_se, b_to_a,
        b_to_a_se, criterion.
    suggested_size : int
        The smallest size whose criterion is within two combined standard errors of the best
        criterion over all sizes (beyond it, Delta stops improving beyond its error).
    dummy : str or None
        Name of the added noise feature, if one was added (it should never be selected).
    """

    method: str
    criterion: str
    columns: tuple[str, ...]
    target_columns: tuple[str, ...] | None
    steps: tuple[SelectionStep, ...]
    candidates: pd.DataFrame
    suggested_size: int
    dummy: str | None
    n: int
    k: int
    n_queries: int
    metric: str

    def best(self, size: int) -> SelectionStep:
        """The best subset of the given size."""
        for step in self.steps:
            if step.size == size:
                return step
        raise KeyError(f"no step of size {size}; sizes are {[s.size for s in self.steps]}")

    @property
    def selected(self) -> tuple[str, ...]:
        """The features of the suggested size."""
        return self.best(self.suggested_size).features

    def to_frame(self) -> pd.DataFrame:
        rows = [asdict(s) | {"features": ";".join(s.features)} for s in self.steps]
        return pd.DataFrame(rows)



class _Evaluator:
    """Evaluates batches of candidate subsets (tuples of feature indices) against the target."""

    def __init__(self, XT, period_x, target, metric_code, queries, k, progress, total,
                 algorithm="brute", metric="euclidean", executor=None):
        self.XT, self.period_x, self.target = XT, period_x, target
        self.metric_code, self.queries, self.k = metric_code, queries, k
        self.progress, self.total, self.done = progress, max(total, 1), 0
        self.bounds = chunk_bounds(queries.shape[0], XT.shape[1])
        self.records: list[tuple] = []
        self.algorithm, self.metric = algorithm, metric
        self.target_tree = None  # built once, on the first batch that uses the tree
        self.executor = executor
        self.shared = None  # the data on the cluster's workers (sent once)

    def _algorithm(self, batch) -> str:
        if self.algorithm == "brute":
            return "brute"
        used = sorted({f for s in batch for f in s})
        return choose_algorithm(self.algorithm, metric=self.metric,
                                periods=(self.period_x[used], self.target.period),
                                dims=(max(len(s) for s in batch), self.target.d),
                                n=self.XT.shape[1], n_queries=self.queries.shape[0])

    def _tree_terms(self, batch):
        """Per-candidate terms with k-d trees (the target's tree is built once)."""
        from . import _tree_kernels as T
        if self.target_tree is None:
            self.target_tree = T.make_tree(self.target.XT)
        n = self.XT.shape[1]
        t_sb = np.empty((len(batch), self.queries.shape[0]))
        t_bs = np.empty_like(t_sb)
        for c, subset in enumerate(batch):
            XS = np.ascontiguousarray(self.XT[list(subset)])  # in subset order, as the brute sum
            t_sb[c], t_bs[c] = tree_pair_terms(XS, self.metric_code, self.target.XT,
                                               self.metric_code, self.k, self.queries,
                                               2.0 / (n * self.k), tree_b=self.target_tree)
        return t_sb, t_bs

    def __call__(self, subsets: list[tuple[int, ...]], label: str) -> np.ndarray:
        """Return an array (len(subsets), 4): a_to_b, a_to_b_se, b_to_a, b_to_a_se."""
        if self.executor is not None and not self.executor.local:
            return self._on_cluster(subsets, label)
        out = np.empty((len(subsets), 4))
        for start in range(0, len(subsets), _BATCH):
            batch = subsets[start:start + _BATCH]
            out[start:start + len(batch)] = self._values(batch)
            self.done += len(batch)
            report(self.progress, self.done / self.total, f"{label}: {self.done} subsets evaluated")
        return out

    def _values(self, batch: list[tuple[int, ...]]) -> np.ndarray:
        """(len(batch), 4) values of one batch of candidates (at most _BATCH)."""
        out = np.empty((len(batch), 4))
        if self._algorithm(batch) == "tree":
            t_sb, t_bs = self._tree_terms(batch)
        else:
            parents, parent_len, cand_parent, cand_feature = _encode(batch)
            t_sb, t_bs = K.subset_terms(self.XT, self.period_x, parents, parent_len,
                                        cand_parent, cand_feature, self.target.XT,
                                        self.target.period, self.metric_code, self.queries,
                                        self.k, self.bounds)
        for c in range(len(batch)):
            out[c, :2] = mean_se(t_sb[c])
            out[c, 2:] = mean_se(t_bs[c])
        return out

    # -- the same on a Dask cluster: blocks of candidates as tasks, the data sent once ----
    def _on_cluster(self, subsets, label):
        ex = self.executor
        if self.shared is None:
            self.shared = ex.share((self.XT, self.period_x, self.target, self.metric_code,
                                    self.queries, self.k, self.algorithm, self.metric))
        size = max(1, min(_BATCH, -(-len(subsets) // (3 * ex.n_workers))))
        items = [subsets[i:i + size] for i in range(0, len(subsets), size)]
        done0 = self.done

        def message(item, res):
            self.done += len(item)
            return f"{label}: {self.done} subsets evaluated"

        parts = ex.map(_cluster_values, items, shared=self.shared, progress=self.progress,
                       message=message, start=done0 / self.total,
                       width=len(subsets) / self.total)
        self.done = done0 + len(subsets)
        return np.vstack(parts)


def _cluster_values(shared, batch):
    """A Dask task: the values of a block of candidates (see ``_Evaluator._values``)."""
    XT, period_x, target, metric_code, queries, k, algorithm, metric = shared
    ev = _Evaluator(XT, period_x, target, metric_code, queries, k, None, 1, algorithm, metric)
    return np.vstack([ev._values(batch[i:i + _BATCH]) for i in range(0, len(batch), _BATCH)])


def _encode(subsets: list[tuple[int, ...]]):
    """Kernel arrays for candidates: each is (parent = all but its last feature) + last feature.

    Consecutive candidates with the same parent share it, so a parent's partial distances are
    computed once per query.
    """
    parent_rows: list[tuple[int, ...]] = []
    cand_parent = np.empty(len(subsets), dtype=np.int64)
    cand_feature = np.empty(len(subsets), dtype=np.int64)
    for c, s in enumerate(subsets):
        prefix = s[:-1]
        if not parent_rows or parent_rows[-1] != prefix:
            parent_rows.append(prefix)
        cand_parent[c] = len(parent_rows) - 1
        cand_feature[c] = s[-1]
    width = max(1, max(len(p) for p in parent_rows))
    parents = np.full((len(parent_rows), width), -1, dtype=np.int64)
    parent_len = np.zeros(len(parent_rows), dtype=np.int64)
    for p, row in enumerate(parent_rows):
        parents[p, :len(row)] = row
        parent_len[p] = len(row)
    return parents, parent_len, cand_parent, cand_feature


def _score(values: np.ndarray, criterion: str) -> tuple[np.ndarray, np.ndarray]:
    if criterion == "a_to_b":
        return values[:, 0], values[:, 1]
    crit = (values[:, 0] + values[:, 2]) / np.sqrt(2.0)
    se = np.hypot(values[:, 1], values[:, 3]) / np.sqrt(2.0)
    return crit, se


def n_subsets(n_features: int, max_features: int) -> int:
    """Number of subsets an exhaustive search evaluates: sum over d of C(D, d)."""
    return sum(math.comb(n_features, d) for d in range(1, max_features + 1))


def select_features(X, target=None, *, method: str = "greedy", max_features: int | None = None,
                    criterion: str = "a_to_b", k: int = 1, metric: str = "euclidean",
                    period=None, n_queries: int | None = None, n_best: int = 10,
                    max_subsets: int = 100_000, n_random: int = 0, dummy: bool = False,
                    random_state=None, progress: ProgressCallback | None = None,
                    algorithm: str = "auto", client=None) -> SelectionResult:
    """Select the features of X that carry the most information about a target.

    Parameters
    ----------
    X : array (N, D) or DataFrame
        Candidate features.
    target : array (N,) or (N, d_B), DataFrame, or None
        The target space. None selects for compression: the target is the full space X.
    method : {"greedy", "beam", "exhaustive", "backward"}
        "greedy" adds the best feature at each step; "beam" keeps the ``n_best`` best subsets
        at each step; "exhaustive" tries every subset up to ``max_features`` (refused when
        there are more than ``max_subsets``); "backward" removes the least useful feature
        from the full set, step by step.
    max_features : int, optional
        Largest subset size (default: all for greedy/beam/backward, 3 for exhaustive).
    criterion : {"a_to_b", "symmetric"}
        Minimise Delta(subset -> target), or (Delta(S->T) + Delta(T->S)) / sqrt(2).
    k, metric, period, n_queries
        As in :func:`infoimb.information_imbalance` (``metric`` applies to both spaces;
        ``period`` to X's features). With ``n_queries`` every candidate uses the same queries.
    n_best : int
        Beam width.
    n_random : int
        Random subsets per size for the baseline (mean and sd per size), 0 for none.
    dummy : bool
        Add a noise feature (Gaussian, scaled like the median feature) that a sound selection
        never picks.
    random_state : int or Generator
        Seeds the queries, the random baseline and the dummy feature.
    progress : callable(fraction, message), optional
        Called between batches; raise from it to interrupt.
    algorithm : {"auto", "brute", "tree"}
        As in :func:`infoimb.information_imbalance`, decided per step from the candidates'
        size: "auto" evaluates small subsets with k-d trees at large N (the target's tree
        is built once) and larger ones with the brute kernel. Results are identical.
    client : distributed.Client, optional
        Evaluate the candidates of each step on a Dask cluster (also used when
        ``INFOIMB_DASK_ADDRESS`` is set; see :mod:`infoimb.cluster`). Identical results.

    Examples
    --------
    >>> import numpy as np, infoimb
    >>> X = np.random.default_rng(0).normal(size=(500, 5))
    >>> y = 3 * X[:, 0] - 10 * X[:, 2]
    >>> r = infoimb.select_features(X, y, method="exhaustive", max_features=2)
    >>> r.best(2).features
    ('x0', 'x2')
    """
    method = check_choice(method, "method", METHODS)
    criterion = check_choice(criterion, "criterion", CRITERIA)
    metric = check_metric(metric)
    if metric == "precomputed":
        raise ValueError("feature selection needs features; metric='precomputed' does not apply")
    values, columns = _frame(X, "x")
    if values.shape[1] == 0:
        raise ValueError("x: no candidate features (the feature list is empty)")
    if target is not None and isinstance(X, pd.DataFrame) and isinstance(target, (pd.DataFrame, pd.Series)):
        t_cols = [str(c) for c in (target.columns if isinstance(target, pd.DataFrame) else [target.name])]
        inside = [c for c in t_cols if c in columns]
        if inside:
            raise ValueError(f"target column(s) {inside} are inside the candidate set; remove them "
                             "from the candidates (or select without a target for compression)")
    space = make_space(X, name="x", metric=metric, period=period, framed=(values, columns))
    rng = np.random.default_rng(random_state)
    if target is None:
        tspace = make_space(X, name="target", metric=metric, period=period, framed=(values, columns))
        target_columns = None
    else:
        tspace = make_space(target, name="target", metric=metric)
        target_columns = tspace.columns
        if tspace.n != space.n:
            raise ValueError(f"x has {space.n} points but target has {tspace.n}")
    n = space.n
    if n < 3:
        raise ValueError(f"need at least 3 points, got {n}")
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    n_best = check_int(n_best, "n_best", low=1)
    n_random = check_int(n_random, "n_random", low=0)
    max_subsets = check_int(max_subsets, "max_subsets", low=1)
    algorithm = check_algorithm(algorithm)
    if algorithm == "tree":  # refuse periodic features up front, not after some steps
        choose_algorithm("tree", metric=metric, periods=(space.period, tspace.period),
                         dims=(1, 1), n=n)

    XT, period_x, names = space.XT, space.period, list(space.columns)
    dummy_name = None
    if dummy:
        dummy_name = DUMMY
        while dummy_name in names:
            dummy_name += "_"
        scale = float(np.median(XT.std(axis=1))) or 1.0
        noise = rng.normal(scale=scale, size=(1, n))
        XT = np.ascontiguousarray(np.vstack([XT, noise]))
        period_x = np.append(period_x, 0.0)
        names.append(dummy_name)
    D = len(names)
    if max_features is None:
        max_features = min(D, 3) if method == "exhaustive" else D
    max_features = min(check_int(max_features, "max_features", low=1), D)
    if method == "exhaustive":
        total = n_subsets(D, max_features)
        if total > max_subsets:
            raise ValueError(
                f"an exhaustive search over {D} features up to {max_features} features needs "
                f"{total:,} subsets, more than max_subsets={max_subsets:,}; use method='beam' or "
                "'greedy', lower max_features, or raise max_subsets")
    queries = query_indices(n, n_queries, rng)
    expected = expected_evaluations(method, D, max_features, n_best) + n_random * max_features
    with get_executor(client) as executor:
        evaluate = _Evaluator(XT, period_x, tspace, space.metric_code, queries, k, progress,
                              expected, algorithm, metric, executor)
        search = {"exhaustive": _exhaustive, "greedy": _greedy, "beam": _beam, "backward": _backward}[method]
        best, evaluated = search(evaluate, D, max_features, criterion, n_best)

        baseline = {}
        if n_random > 0:
            for d in range(1, max_features + 1):
                pool = min(n_random, math.comb(D, d))
                subsets = {tuple(sorted(rng.choice(D, size=d, replace=False).tolist())) for _ in range(4 * pool)}
                subsets = sorted(subsets)[:pool]
                vals = evaluate(subsets, f"random baseline, size {d}")
                crit, _ = _score(vals, criterion)
                baseline[d] = (float(crit.mean()), float(crit.std(ddof=1)) if len(crit) > 1 else 0.0)

    steps = []
    for d in sorted(best):
        subset, vals, n_eval = best[d]
        crit, crit_se = _score(vals[None, :], criterion)
        rm, rs = baseline.get(d, (math.nan, math.nan))
        steps.append(SelectionStep(d, tuple(names[f] for f in subset), float(vals[0]), float(vals[1]),
                                   float(vals[2]), float(vals[3]), float(crit[0]), float(crit_se[0]),
                                   n_eval, rm, rs))
    cand = pd.DataFrame(
        [(len(s), ";".join(names[f] for f in s), *v) for s, v in evaluated],
        columns=["size", "features", "a_to_b", "a_to_b_se", "b_to_a", "b_to_a_se"])
    cand["criterion"] = _score(cand[["a_to_b", "a_to_b_se", "b_to_a", "b_to_a_se"]].to_numpy(), criterion)[0]
    report(progress, 1.0, "selection done")
    return SelectionResult(method, criterion, tuple(names), target_columns, tuple(steps), cand,
                           _suggest(steps), dummy_name, n, k, int(queries.shape[0]), metric)


def _suggest(steps: list[SelectionStep]) -> int:
    best = min(steps, key=lambda s: s.criterion)
    for s in steps:  # increasing size
        if s.criterion <= best.criterion + 2.0 * math.hypot(s.criterion_se, best.criterion_se):
            return s.size
    return best.size


def expected_evaluations(method: str, D: int, max_features: int, n_best: int) -> int:
    """How many subsets a search evaluates (without the random baseline): what the progress
    bar counts to, and what the dashboard quotes before a run.

    Examples
    --------
    >>> expected_evaluations("greedy", 5, 3, 1)  # 5 + 4 + 3 candidates
    12
    """
    if method == "exhaustive":
        return n_subsets(D, max_features)
    if method == "greedy":
        return sum(D - d for d in range(max_features))
    if method == "backward":
        return 1 + sum(range(2, D + 1))
    total, width = 0, 1
    for d in range(max_features):
        total += width * (D - d)
        width = min(n_best, math.comb(D, d + 1))
    return total


_expected_evaluations = expected_evaluations  # the former private name (web/select.py)


def _take(best, evaluated, subsets, vals, criterion):
    """Record all evaluated subsets; return the order of the candidates by criterion."""
    crit, _ = _score(vals, criterion)
    evaluated.extend(zip(subsets, vals))
    # ties broken by subset (deterministic, independent of evaluation order)
    order = sorted(range(len(subsets)), key=lambda c: (crit[c], subsets[c]))
    d = len(subsets[0])
    best[d] = (subsets[order[0]], vals[order[0]], len(subsets))
    return order


def _exhaustive(evaluate, D, max_features, criterion, n_best):
    best, evaluated = {}, []
    for d in range(1, max_features + 1):
        subsets = list(itertools.combinations(range(D), d))
        _take(best, evaluated, subsets, evaluate(subsets, f"size {d}"), criterion)
    return best, evaluated


def _greedy(evaluate, D, max_features, criterion, n_best):
    best, evaluated, chosen = {}, [], ()
    for d in range(1, max_features + 1):
        subsets = [chosen + (f,) for f in range(D) if f not in chosen]
        order = _take(best, evaluated, subsets, evaluate(subsets, f"size {d}"), criterion)
        chosen = subsets[order[0]]
    return best, evaluated


def _beam(evaluate, D, max_features, criterion, n_best):
    best, evaluated, beams = {}, [], [()]
    for d in range(1, max_features + 1):
        seen, subsets = set(), []
        for b in beams:
            for f in range(D):
                if f in b:
                    continue
                key = frozenset(b + (f,))
                if key not in seen:
                    seen.add(key)
                    subsets.append(b + (f,))
        order = _take(best, evaluated, subsets, evaluate(subsets, f"size {d}"), criterion)
        beams = [subsets[c] for c in order[:n_best]]
    return best, evaluated


def _backward(evaluate, D, max_features, criterion, n_best):
    best, evaluated = {}, []
    current = tuple(range(D))
    _take(best, evaluated, [current], evaluate([current], f"size {D}"), criterion)
    for d in range(D - 1, 0, -1):
        subsets = [tuple(g for g in current if g != f) for f in current]
        order = _take(best, evaluated, subsets, evaluate(subsets, f"size {d}"), criterion)
        current = subsets[order[0]]
    return best, evaluated
