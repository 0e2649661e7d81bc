"""Feature selection with the information imbalance: exhaustive, greedy, beam, backward.

The target's side of every query (its distances and neighbours) is computed once per query
and batch; each parent subset's partial distances are computed once per query and reused by
all its children (see ``_kernels.subset_terms``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from . import _kernels as K
from ._progress import ProgressCallback, report
from ._spaces import (_frame_mixed, check_k, check_n_queries, make_space, split_metric,
                      warn_small_n)
from ._trees import check_algorithm, choose_algorithm, tree_pair_terms, tree_unsupported
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
    a_to_b_ci: tuple[float, float] | None = None
    b_to_a_ci: tuple[float, float] | None = None
    criterion_ci: tuple[float, float] | None = None


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
        The smallest size d that no larger size improves on both significantly and relevantly:
        for every larger size d', either the paired bootstrap interval (level
        ``confidence``) of criterion(d) - criterion(d') includes 0 (no improvement beyond
        the uncertainty), or the improvement is below ``tolerance`` (default 0.01), a fraction
        of Delta's fixed scale from 0 (perfect prediction) to 1 (no information): without it
        a compression always goes on to the full set, whose Delta(full -> full) is its floor
        2/N. The
        bootstrap resamples the per-query terms of the best subset of every size together
        (paired), by entity with ``groups``. Without bootstrap (``n_bootstrap=0``) the
        interval is replaced by two paired standard errors of the per-query differences.
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
    confidence: float | None = None
    tolerance: float | None = None
    stability: pd.DataFrame | None = None
    stability_curves: pd.DataFrame | None = None

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
        rows = []
        for s in self.steps:
            row = asdict(s) | {"features": ";".join(s.features)}
            for name in ("a_to_b_ci", "b_to_a_ci", "criterion_ci"):
                ci = row.pop(name)
                if ci is not None:
                    row[f"{name}_low"], row[f"{name}_high"] = ci
            rows.append(row)
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
                                               self.target.metric_code, self.k, self.queries,
                                               2.0 / (n * self.k), tree_b=self.target_tree)
        return t_sb, t_bs

    theiler_args = None  # (series, times, w, True): evaluate with a Theiler window

    def terms(self, batch: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
        """Per-query terms (len(batch), n_queries) of Delta(S -> target) and back."""
        if self.theiler_args is not None:
            from .significance import PK

            nq = self.queries.shape[0]
            t_sb = np.empty((len(batch), nq))
            t_bs = np.empty((len(batch), nq))
            empty = np.zeros((0, 0))
            for c, sub in enumerate(batch):
                ST = np.ascontiguousarray(self.XT[list(sub)])
                series, times, w, _ = self.theiler_args
                t_sb[c], t_bs[c] = PK.pair_terms_theiler(
                    ST, np.ascontiguousarray(self.period_x[list(sub)]), self.metric_code, empty,
                    self.target.XT, self.target.period, self.target.metric_code, empty, self.queries,
                    self.k, series, times, w, self.bounds)
            return t_sb, t_bs
        if self._algorithm(batch) == "tree":
            return self._tree_terms(batch)
        parents, parent_len, cand_parent, cand_feature = _encode(batch)
        return K.subset_terms(self.XT, self.period_x, parents, parent_len, cand_parent,
                              cand_feature, self.target.XT, self.target.period,
                              self.metric_code, self.queries, self.k, self.bounds,
                              self.target.metric_code)

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
        t_sb, t_bs = self.terms(batch)
        for c in range(len(batch)):
            out[c, :2] = mean_se(t_sb[c])
            out[c, 2:] = mean_se(t_bs[c])
        return out

    # -- the same on a Dask cluster: blocks of candidates as tasks, the data sent once ----
    def _on_cluster(self, subsets, label):
        ex = self.executor
        if self.shared is None:
            self.shared = ex.share((self.XT, self.period_x, self.target, self.metric_code,
                                    self.queries, self.k, self.algorithm, self.metric,
                                    self.theiler_args))
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
    XT, period_x, target, metric_code, queries, k, algorithm, metric, theiler_args = shared
    ev = _Evaluator(XT, period_x, target, metric_code, queries, k, None, 1, algorithm, metric)
    ev.theiler_args = theiler_args
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
                    criterion: str = "a_to_b", k: int = 1, metric="auto",
                    period=None, n_queries: int | None = None, n_best: int = 10,
                    max_subsets: int = 100_000, n_random: int = 0, dummy: bool = False,
                    random_state=None, progress: ProgressCallback | None = None,
                    groups=None, times=None, theiler: float | None = None,
                    confidence: float = 0.95, n_bootstrap: int = 1000,
                    tolerance: float = 0.01, n_splits: int = 0, algorithm: str = "auto",
                    client=None, categorical=None) -> SelectionResult:
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
    k, metric, period, n_queries, categorical
        As in :func:`infoimb.information_imbalance` (``metric``: one name for the candidates
        and the target, or a pair (for_candidates, for_target); "auto" chooses from the
        features, so text columns are categorical and mixed sets use Gower; ``period``
        applies to X's features). With ``n_queries`` every candidate uses the same queries.
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
    groups : array (N,), optional
        Entity label of each row: the intervals and the stop rule resample entities, and
        ``n_splits`` splits entities.
    times : array (N,), optional
        Time of each row (needed by ``theiler``).
    theiler : float, optional
        Theiler window (see :func:`infoimb.imbalance_pair`); evaluates every subset with the
        window (slower: one pair kernel per subset).
    confidence, n_bootstrap
        Bootstrap intervals of every step's Delta (paired across steps; by entity with
        ``groups``) and the level of the stop rule (see ``SelectionResult.suggested_size``).
    tolerance : float, default 0.01
        Relative tolerance of the stop rule: an improvement counts only if it exceeds this
        fraction of Delta's scale (0 = perfect prediction, 1 = no information).
    n_splits : int, default 0
        Robustness (METHOD.md section 3): repeat the selection on ``n_splits`` disjoint
        random subsets of the entities (``groups``) or of the points; ``stability`` gives how
        often each feature is in the best subset of each size, ``stability_curves`` the
        curve of each split.
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
    metric_x, metric_t = split_metric(metric)
    if metric_x == "precomputed":
        raise ValueError("feature selection needs features; metric='precomputed' does not apply")
    framed = _frame_mixed(X, "x", categorical)
    values, columns = framed[0], framed[1]
    if values.shape[1] == 0:
        raise ValueError("x: no candidate features (the feature list is empty)")
    if target is not None and isinstance(X, pd.DataFrame) and isinstance(target, (pd.DataFrame, pd.Series)):
        t_cols = [str(c) for c in (target.columns if isinstance(target, pd.DataFrame) else [target.name])]
        inside = [c for c in t_cols if c in columns]
        if inside:
            raise ValueError(f"target column(s) {inside} are inside the candidate set; remove them "
                             "from the candidates (or select without a target for compression)")
    space = make_space(X, name="x", metric=metric_x, period=period, framed=framed)
    rng = np.random.default_rng(random_state)
    if target is None:
        tspace = make_space(X, name="target", metric=metric_x, period=period, framed=framed)
        target_columns = None
    else:
        tspace = make_space(target, name="target", metric=metric_t, categorical=categorical)
        target_columns = tspace.columns
        if tspace.n != space.n:
            raise ValueError(f"x has {space.n} points but target has {tspace.n}")
    # a metric per space: the one the tree cannot serve (if any) decides the algorithm
    tree_metric = tspace.metric if tree_unsupported(tspace.metric, ()) else space.metric
    n = space.n
    if n < 3:
        raise ValueError(f"need at least 3 points, got {n}")
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    warn_small_n(n, "feature selection")
    n_best = check_int(n_best, "n_best", low=1)
    n_random = check_int(n_random, "n_random", low=0)
    max_subsets = check_int(max_subsets, "max_subsets", low=1)
    from . import significance as S
    from ._validation import check_real

    _, n_bootstrap, confidence, _ = S.check_significance_args(0, n_bootstrap, confidence, 0.05)
    tolerance = check_real(tolerance, "tolerance", low=0.0)
    n_splits = check_int(n_splits, "n_splits", low=0)
    if n_splits == 1:
        raise ValueError("n_splits must be 0 (no robustness check) or at least 2")
    codes = None if groups is None else S.labels(groups, n, "groups")
    th = None
    if theiler is not None:
        th = S.Theiler(theiler, None if times is None else S.time_values(times, n), groups, n)
    algorithm = check_algorithm(algorithm)
    if algorithm == "tree":  # refuse periodic features (and the window) up front
        choose_algorithm("tree", metric=tree_metric, periods=(space.period, tspace.period),
                         dims=(1, 1), n=n)
        if theiler is not None:
            raise ValueError("algorithm='tree' does not support a Theiler window; use "
                             "algorithm='brute' (or 'auto', which falls back to it)")

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
    max_features = check_int(max_features, "max_features", low=1)
    if max_features > D:  # refused, never clipped
        raise ValueError(f"max_features={max_features} is larger than the number of "
                         f"candidate features ({D})")
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
                              expected, algorithm, tree_metric, executor)
        if th is not None:
            from .imbalance import _theiler_references

            S.check_references(_theiler_references(th.args(), queries), k)
            evaluate.theiler_args = th.args()
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
    # the stop rule and the intervals: the best subset of every size, per-query terms
    subsets = [best[d][0] for d in sorted(best)]
    t_sb, t_bs = evaluate.terms(subsets)
    t_crit = t_sb if criterion == "a_to_b" else (t_sb + t_bs) / np.sqrt(2.0)
    crit_obs = np.array([st.criterion for st in steps])
    if n_bootstrap:
        clusters = None if codes is None else codes[queries]
        reps = S.bootstrap_means([*t_sb, *t_bs], n_bootstrap, S.child_rng(random_state, 5),
                                 clusters)
        m = len(steps)
        rep_sb, rep_bs = np.array(reps[:m]).T, np.array(reps[m:]).T  # (n_bootstrap, sizes)
        rep_crit = rep_sb if criterion == "a_to_b" else (rep_sb + rep_bs) / np.sqrt(2.0)
        steps = [replace(st, a_to_b_ci=S.percentile_interval(rep_sb[:, j], confidence),
                         b_to_a_ci=S.percentile_interval(rep_bs[:, j], confidence),
                         criterion_ci=S.percentile_interval(rep_crit[:, j], confidence))
                 for j, st in enumerate(steps)]
        lower = lambda i, j: np.quantile(rep_crit[:, i] - rep_crit[:, j], (1 - confidence) / 2)  # noqa: E731
    else:
        def lower(i, j):
            diff = t_crit[i] - t_crit[j]
            se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else 0.0
            return diff.mean() - 2.0 * se
    suggested = _suggest(steps, crit_obs, lower, tolerance)
    extra = {}
    if n_splits:
        extra = _selection_stability(
            X, target, n_splits=n_splits, codes=codes, rng=S.child_rng(random_state, 6),
            kwargs=dict(method=method, max_features=max_features, criterion=criterion, k=k,
                        metric=metric, period=period, n_best=n_best, max_subsets=max_subsets,
                        tolerance=tolerance, theiler=theiler, categorical=categorical),
            times=times)
    report(progress, 1.0, "selection done")
    return SelectionResult(method, criterion, tuple(names), target_columns, tuple(steps), cand,
                           suggested, dummy_name, n, k, int(queries.shape[0]), space.metric,
                           confidence if n_bootstrap else None, tolerance, **extra)


def _suggest(steps, crit, lower, tolerance: float) -> int:
    """The smallest size that no larger size improves significantly and relevantly."""
    relevant = tolerance  # Delta's scale is 0..1: a fraction of it
    for i, s in enumerate(steps):  # increasing size
        better = any(crit[i] - crit[j] > relevant and lower(i, j) > 0
                     for j in range(i + 1, len(steps)))
        if not better:
            return s.size
    return steps[-1].size


def _selection_stability(X, target, *, n_splits, codes, rng, kwargs, times):
    """Selection repeated on disjoint subsets of entities or points."""
    n = len(X)
    if codes is not None:
        ents = rng.permutation(int(codes.max()) + 1)
        if ents.size < n_splits:
            raise ValueError(f"n_splits={n_splits} is more than the {ents.size} entities")
        parts = [np.flatnonzero(np.isin(codes, part)) for part in np.array_split(ents, n_splits)]
    else:
        parts = [np.sort(p) for p in np.array_split(rng.permutation(n), n_splits)]
    if min(len(p) for p in parts) < 3 + kwargs["k"]:
        raise ValueError(f"n_splits={n_splits}: a split has fewer than {3 + kwargs['k']} points")
    take = (lambda obj, idx: obj.iloc[idx]) if isinstance(X, (pd.DataFrame, pd.Series)) else (
        lambda obj, idx: np.asarray(obj)[idx])
    curves, counts = [], {}
    for s, idx in enumerate(parts):
        r = select_features(take(X, idx), None if target is None else take(target, idx),
                            n_bootstrap=0, random_state=int(rng.integers(2**31)),
                            groups=None if codes is None else codes[idx],
                            times=None if times is None else np.asarray(times)[idx], **kwargs)
        for st in r.steps:
            curves.append((s, st.size, st.criterion, st.a_to_b, st.b_to_a, ";".join(st.features),
                           r.suggested_size))
            for f in st.features:
                counts[(st.size, f)] = counts.get((st.size, f), 0) + 1
    freq = pd.DataFrame([(size, f, c / n_splits) for (size, f), c in counts.items()],
                        columns=["size", "feature", "frequency"])
    freq = freq.sort_values(["size", "frequency", "feature"], ascending=[True, False, True],
                            ignore_index=True)
    curves = pd.DataFrame(curves, columns=["split", "size", "criterion", "a_to_b", "b_to_a",
                                           "features", "suggested_size"])
    return {"stability": freq, "stability_curves": curves}


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


def evaluate_subsets(X, subsets, target=None, *, criterion: str = "symmetric", k: int = 1,
                     metric="auto", period=None, n_queries: int | None = None,
                     random_state=None, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Δ between given feature subsets of X and a target (default: all of X), in one pass.

    For comparing selections made elsewhere (farthest-point sampling, CUR, random subsets,
    a hand-picked set) on the same footing as :func:`select_features`: the target's distances
    are computed once per query and shared by every subset, and all subsets use the same
    queries.

    Parameters
    ----------
    X : array (N, D) or DataFrame
    subsets : sequence of sequences of column indices or names
        Each a non-empty subset of X's columns.
    target : array or DataFrame, optional
        None: the full space X (compression).
    criterion : {"symmetric", "a_to_b"}
        What the ``criterion`` column holds (see :func:`select_features`).
    k, metric, period, n_queries, random_state : as in :func:`select_features`.

    Returns
    -------
    DataFrame
        One row per subset, in the order given: size, features (";"-joined), a_to_b
        (Δ(subset → target)), a_to_b_se, b_to_a, b_to_a_se, criterion, criterion_se.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]
    >>> r = evaluate_subsets(X, [[0], [0, 1]], criterion="a_to_b")
    >>> r["b_to_a"].round(6).tolist()
    [0.063748, 0.004146]
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    metric_x, metric_t = split_metric(metric)
    if metric_x == "precomputed":
        raise ValueError("evaluate_subsets needs features; metric='precomputed' does not apply")
    framed = _frame_mixed(X, "x")
    columns = framed[1]
    space = make_space(X, name="x", metric=metric_x, period=period, framed=framed)
    tspace = (make_space(X, name="target", metric=metric_x, period=period, framed=framed)
              if target is None else make_space(target, name="target", metric=metric_t))
    if tspace.n != space.n:
        raise ValueError(f"x has {space.n} points but target has {tspace.n}")
    n = space.n
    if n < 3:
        raise ValueError(f"need at least 3 points, got {n}")
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    index = {c: j for j, c in enumerate(space.columns)}
    encoded = []
    for s, subset in enumerate(subsets):
        items = list(subset)
        if not items:
            raise ValueError(f"subsets[{s}] is empty")
        idx = []
        for f in items:
            if isinstance(f, str):
                if f not in index:
                    raise ValueError(f"subsets[{s}]: unknown column {f!r}")
                idx.append(index[f])
            else:
                j = int(f)
                if j != f or not 0 <= j < len(columns):
                    raise ValueError(f"subsets[{s}]: column index {f!r} is not in 0..{len(columns) - 1}")
                idx.append(j)
        if len(set(idx)) != len(idx):
            raise ValueError(f"subsets[{s}] repeats a column")
        encoded.append(tuple(idx))
    if not encoded:
        raise ValueError("subsets: give at least one subset")
    queries = query_indices(n, n_queries, np.random.default_rng(random_state))
    evaluate = _Evaluator(space.XT, space.period, tspace, space.metric_code, queries, k, progress,
                          len(encoded))
    # sorted so that subsets sharing a prefix are consecutive (one parent each); then unsorted
    order = sorted(range(len(encoded)), key=lambda c: encoded[c])
    vals = np.empty((len(encoded), 4))
    vals[order] = evaluate([encoded[c] for c in order], "subsets")
    crit, crit_se = _score(vals, criterion)
    return pd.DataFrame({
        "size": [len(s) for s in encoded],
        "features": [";".join(space.columns[f] for f in s) for s in encoded],
        "a_to_b": vals[:, 0], "a_to_b_se": vals[:, 1], "b_to_a": vals[:, 2],
        "b_to_a_se": vals[:, 3], "criterion": crit, "criterion_se": crit_se})
