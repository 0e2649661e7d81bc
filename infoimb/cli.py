"""The command line: a thin layer over the Python API.

    infoimb pair data.csv --a x,y,z --b x,y
    infoimb pair trial.csv --a arm --b response        (text columns are categorical)
    infoimb pair trial.csv --a arm,age --b response --metric-b manhattan
    infoimb pair data.csv --a-distances rmsd.npy --b x,y
    infoimb matrix data.csv --spaces 'soap=s0,s1,s2;radial=r0,r1;rmsd=@rmsd.npy'
    infoimb select data.csv --target energy --method beam --max-features 5
    infoimb lags panel.csv --source stay_home --target cases --time date --group id --lags=-5:5
    infoimb causality traj.csv --cause x1,y1,z1 --effect x2,y2,z2 --tau 20
    infoimb weights data.csv --a a,b,c --b target --method dii
    infoimb graph series.csv --variables 'X=a,b;Y=c' --tau 1,2 --surrogates 199
    infoimb example gauss3d -o gauss3d.csv
    infoimb pair clinical.csv --a height,weight --b age,bp --scale zscore --drop-missing
    infoimb causality panel.csv --cause x --effect y --tau 2 --group id --entity N03 --time date

--scale and --drop-missing prepare the used columns as the dashboard does; every result page
of the dashboard shows the command that reproduces it (``infoimb.web.reproduce``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np

from . import verdicts
from ._serialize import dumps
from ._validation import FEATURE_METRICS, check_int, check_real


class _Bar:
    """A progress bar on stderr (only when stderr is a terminal, unless forced)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(round(width * fraction))
        line = f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:5.1f}% {message[:60]}"
        sys.stderr.write(line.ljust(len(self.last)))
        sys.stderr.flush()
        self.last = line

    def close(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()


@contextmanager
def progress_bar(args):
    """The progress bar of a command (on a terminal or with --progress, never with --quiet),
    closed however the command ends."""
    bar = _Bar(not args.quiet and (args.progress or sys.stderr.isatty()))
    try:
        yield bar
    finally:
        bar.close()


def _cols(spec: str | None, df, what: str, default=None) -> list[str]:
    """Comma-separated column names; '*' = every numeric column."""
    if spec is None:
        if default is None:
            raise ValueError(f"--{what}: give column names")
        return default
    if spec.strip() == "*":
        return [c for c in df.columns if _is_numeric(df[c])]
    names = [c.strip() for c in spec.split(",") if c.strip()]
    if not names:
        raise ValueError(f"--{what}: no column names given")
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"--{what}: column(s) {missing} not in the table; columns are {list(df.columns)}")
    return names


def _is_numeric(col) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)


def _periods(spec: str | None) -> dict | None:
    """'angle=360,phase=6.283' -> {'angle': 360.0, 'phase': 6.283}."""
    if not spec:
        return None
    out = {}
    for item in spec.split(","):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--period: expected column=period, got {item!r}")
        out[name.strip()] = check_real(_parse(value, float, f"--period {name.strip()}"),
                                       f"--period {name.strip()}", low=0, low_open=True)
    return out


def _parse(text: str, kind, name: str):
    """``kind(text)`` (int or float), refused with a message naming the option."""
    try:
        return kind(text.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name} must be {what}, got {text!r}") from None


def _lags(spec: str) -> list[int]:
    """'-5:5' -> -5..5; '0,1,2,4' -> those."""
    try:
        if ":" in spec:
            lo, hi = (int(x) for x in spec.split(":"))
            return list(range(lo, hi + 1))
        return [int(x) for x in spec.split(",")]
    except ValueError:
        raise ValueError(f"--lags: expected LO:HI or a comma list of whole numbers, got {spec!r}") from None


def _metric(args):
    """--metric for both spaces, or --metric-a / --metric-b for one each."""
    ma = getattr(args, "metric_a", None) or args.metric
    mb = getattr(args, "metric_b", None) or args.metric
    return ma if ma == mb else (ma, mb)


def _categorical(args):
    spec = getattr(args, "categorical", None)
    if not spec:
        return None
    return [c.strip() for c in spec.split(",") if c.strip()]


def _read(path: str):
    from .io import read_table

    return read_table(path)


def _prepare(df, columns, args, periodic=None, *, panel: bool = False):
    """The dashboard's preparation of the used ``columns`` (``--drop-missing``: keep the rows
    with a finite value in every one of them; ``--scale``: rescale them, periodic columns
    excepted). ``panel``: rows are never dropped (a lag pairs rows by time), infinite values
    become missing. Without either option the table is used as read."""
    from . import preprocess

    method = getattr(args, "scale", None) or "none"
    spec = getattr(args, "drop_missing", None)
    drop = spec is not None and spec is not False
    if method == "none" and not drop:
        return df
    cols = [c for c in dict.fromkeys(columns) if c in df.columns]
    # categories (text columns, --categorical codes) are neither converted nor scaled, as on the dashboard
    cats = set(_categorical(args) or []) | {c for c in df.columns if not _numeric_column(df[c])}
    out = df.copy()
    if panel:
        num = [c for c in cols if c not in cats]
        out[num] = out[num].astype(float).replace([np.inf, -np.inf], np.nan)
    elif drop:
        more = _cols(spec, df, "drop-missing") if isinstance(spec, str) and spec.strip() else []
        rows = list(dict.fromkeys(cols + more))
        num = [c for c in rows if c not in cats]
        out[num] = out[num].astype(float)
        out = preprocess.drop_missing(out, rows)[0].reset_index(drop=True)
    to_scale = [c for c in cols if c not in (periodic or {}) and c not in cats]
    if method != "none" and to_scale:
        out = preprocess.scale(out, to_scale, method)
    return out


def _numeric_column(col) -> bool:
    """Numbers (or booleans): converted and scaled by ``_prepare``; text is a category."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(col.dtype)


def _emit(args, payload: dict, table=None, text: str = "") -> None:
    out = open(args.output, "w", encoding="utf-8") if getattr(args, "output", None) else sys.stdout
    try:
        if args.json:
            out.write(dumps(payload, indent=2) + "\n")
        elif args.csv and table is not None:
            table.to_csv(out, index=False)
        else:
            if text:
                out.write(text.rstrip() + "\n")
            if table is not None:
                out.write(table.to_string(index=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()


# --------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------
def cmd_pair(args) -> None:
    from .imbalance import imbalance_pair

    df = _read(args.file)
    if getattr(args, "a_distances", None) or getattr(args, "b_distances", None):
        return _pair_with_distances(args, df)
    a, b = _cols(args.a, df, "a"), _cols(args.b, df, "b")
    from ._spaces import make_pair

    df = _prepare(df, a + b, args, _periods(args.period))
    metric, categorical = _metric(args), _categorical(args)
    n = len(df)
    if not args.quiet and n * (args.n_queries or n) > 4e9:  # a long run: say what it costs
        from .cost import cost_estimate

        c = cost_estimate(n, len(a), len(b), k=args.k, n_queries=args.n_queries)
        print(f"infoimb pair: {c.message}" + (f"; add --n-queries {c.suggested_n_queries}"
                                             if c.propose_subsample else ""), file=sys.stderr)
    groups, times = _significance_columns(args, df)
    with progress_bar(args) as bar:
        p = imbalance_pair(df[a], df[b], k=args.k, metric=metric, period=_periods(args.period),
                           n_queries=args.n_queries, random_state=args.seed,
                           n_permutations=args.permutations, groups=groups, times=times,
                           theiler=args.theiler, categorical=categorical,
                           progress=bar if bar.enabled else None,
                           algorithm=args.algorithm)
    sa, sb = make_pair(df[a], df[b], metric=metric, period=_periods(args.period),
                       categorical=categorical)
    payload = p.to_dict() | {"a": a, "b": b, "file": args.file, "metric": args.metric,
                             "metric_a": sa.metric, "metric_b": sb.metric,
                             "categorical": list(sa.categorical + sb.categorical)} | _pair_q(p)
    text = (f"A = {', '.join(a)}  [{_describe(sa)}]\nB = {', '.join(b)}  [{_describe(sb)}]\n"
            f"N = {p.n}, k = {p.k}, {'exact' if p.exact else f'{p.n_queries} random queries'}\n"
            f"Δ(A→B) = {p.a_to_b:.6f} ± {p.a_to_b_se:.6f}{_ci_text(p.a_to_b_ci, p.confidence)}"
            f"{_p_text(p.p_a_to_b)}\n"
            f"Δ(B→A) = {p.b_to_a:.6f} ± {p.b_to_a_se:.6f}{_ci_text(p.b_to_a_ci, p.confidence)}"
            f"{_p_text(p.p_b_to_a)}\n"
            f"Δ(A→B) − Δ(B→A) = {p.difference:.6f}{_ci_text(p.difference_ci, p.confidence)}\n"
            f"relation: {p.relation} ({verdicts.relation(p)})"
            + ("" if p.n_permutations else " [no significance test: use --permutations N]")
            + (f"\nnull: {p.null}, {p.n_permutations} permutations" if p.n_permutations else ""))
    if args.csv:
        import pandas as pd

        _emit(args, payload, pd.DataFrame([_flat(payload)]), text)
        return
    _emit(args, payload, None, text)


def _pair_q(p) -> dict:
    """Benjamini-Hochberg q-values of the pair's two directions (None without permutations)."""
    if p.p_a_to_b is None:
        return {"q_a_to_b": None, "q_b_to_a": None}
    from ._stats import bh_qvalues

    q = bh_qvalues([p.p_a_to_b, p.p_b_to_a])
    return {"q_a_to_b": float(q[0]), "q_b_to_a": float(q[1])}


def _describe(space) -> str:
    cat = f"; categorical: {', '.join(space.categorical)}" if space.categorical else ""
    return f"{space.metric}{cat}"


def _load_matrix(path: str, df, args, what: str):
    """A distance matrix file tied to the table's rows (by order, or by --id-column)."""
    from .distances import load_distance_matrix

    id_col = getattr(args, "id_column", None)
    if id_col is not None and id_col not in df.columns:
        raise ValueError(f"--id-column: no column {id_col!r} in the table")
    max_mb = getattr(args, "max_matrix_mb", None)
    try:
        return load_distance_matrix(
            path, n=len(df), ids=id_col, id_order=None if id_col is None else df[id_col].tolist(),
            symmetric=not getattr(args, "asymmetric", False), dtype=getattr(args, "dtype", None),
            max_bytes=None if max_mb is None else int(max_mb * 1024**2))
    except FileNotFoundError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _pair_with_distances(args, df) -> None:
    """``pair`` with --a-distances and/or --b-distances: a matrix on either side."""
    from . import verdicts
    from .imbalance import imbalance_pair

    sides = {}
    feature_cols = [c for side in ("a", "b") if getattr(args, side) and not getattr(args, f"{side}_distances")
                    for c in _cols(getattr(args, side), df, side)]
    prepared = _prepare(df, feature_cols, args, _periods(args.period))
    if len(prepared) != len(df):
        raise ValueError("--drop-missing: rows with missing values cannot be left out when a distance matrix "
                         "is tied to the table's rows; drop them from the table and the matrix first")
    df = prepared
    for side in ("a", "b"):
        path, cols = getattr(args, f"{side}_distances"), getattr(args, side)
        if path and cols:
            raise ValueError(f"--{side} and --{side}-distances: give one of them, not both")
        if not path and not cols:
            raise ValueError(f"give --{side} (columns) or --{side}-distances (a matrix file)")
        if path:
            sides[side] = (_load_matrix(path, df, args, f"--{side}-distances"), f"@{path}")
        else:
            names = _cols(cols, df, side)
            sides[side] = (df[names], ", ".join(names))
    if args.period and args.a_distances and args.b_distances:
        raise ValueError("--period applies to feature columns; both sides are matrices")
    groups, times = _significance_columns(args, df)
    p = imbalance_pair(sides["a"][0], sides["b"][0], k=args.k, metric=args.metric,
                       period=_periods(args.period), n_queries=args.n_queries,
                       random_state=args.seed, n_permutations=args.permutations,
                       groups=groups, times=times, theiler=args.theiler,
                       algorithm=args.algorithm)
    payload = p.to_dict() | {"a": sides["a"][1], "b": sides["b"][1], "file": args.file,
                             "metric": args.metric} | _pair_q(p)
    text = (f"A = {sides['a'][1]}\nB = {sides['b'][1]}\n"
            f"N = {p.n}, k = {p.k}, {'exact' if p.exact else f'{p.n_queries} random queries'}\n"
            f"Δ(A→B) = {p.a_to_b:.6f} ± {p.a_to_b_se:.6f}{_p_text(p.p_a_to_b)}\n"
            f"Δ(B→A) = {p.b_to_a:.6f} ± {p.b_to_a_se:.6f}{_p_text(p.p_b_to_a)}\n"
            f"relation: {p.relation} ({verdicts.relation(p)})"
            + (f"\nnull: {p.null}, {p.n_permutations} permutations" if p.n_permutations else ""))
    if args.csv:
        import pandas as pd

        _emit(args, payload, pd.DataFrame([_flat(payload)]), text)
        return
    _emit(args, payload, None, text)


def _space_specs(spec: str, df, args) -> dict:
    """'S1=a,b;S2=@d.npy' -> {name: DataFrame of columns, or DistanceMatrix}."""
    out = {}
    for item in (x.strip() for x in spec.split(";")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValueError(f"--spaces: expected NAME=col1,col2 or NAME=@matrix.npy, got {item!r}")
        if name in out:
            raise ValueError(f"--spaces: space {name!r} is given twice")
        if value.startswith("@"):
            out[name] = _load_matrix(value[1:], df, args, f"--spaces {name}")
        else:
            out[name] = df[_cols(value, df, f"spaces {name}")]
    if len(out) < 2:
        raise ValueError(f"--spaces: need at least two spaces, got {len(out)}")
    return out


def cmd_matrix(args) -> None:
    from .distances import imbalance_matrix

    df = _read(args.file)
    if getattr(args, "scale", None) not in (None, "none") or getattr(args, "drop_missing", None) is not None:
        used = [c for item in args.spaces.split(";") if "=" in item and not item.split("=", 1)[1].strip()
                .startswith("@") for c in (x.strip() for x in item.split("=", 1)[1].split(",")) if c]
        df = _prepare(df, used, args)
    spaces = _space_specs(args.spaces, df, args)
    with progress_bar(args) as bar:
        r = imbalance_matrix(spaces, k=args.k, metric=args.metric, n_queries=args.n_queries,
                             random_state=args.seed, progress=bar)
    table = r.delta.reset_index()
    text = (f"Δ(row → column), N = {r.n}, k = {r.k}, "
            f"{'exact' if r.exact else f'{r.n_queries} random queries'}\n"
            + r.delta.to_string(float_format=lambda v: f"{v:.4f}", na_rep="-"))
    if args.csv:
        _emit(args, r.to_dict(), table, "")
    else:
        _emit(args, r.to_dict(), None, text)


def _significance_columns(args, df):
    """--groups / --times columns as arrays (None when not given)."""
    out = []
    for flag in ("groups", "times"):
        col = getattr(args, flag, None)
        if col is None:
            out.append(None)
            continue
        if col not in df.columns:
            raise ValueError(f"--{flag}: column {col!r} not in the table; columns are {list(df.columns)}")
        out.append(df[col].to_numpy())
    return tuple(out)


def _ci_text(ci, confidence) -> str:
    return "" if ci is None else f"  [{100 * confidence:.0f}% CI {ci[0]:.6f}, {ci[1]:.6f}]"


def _p_text(p) -> str:
    return "" if p is None else f"  p = {p:.4g}"


def _flat(d: dict) -> dict:
    """One CSV row: intervals as _low/_high columns, lists joined."""
    row = {}
    for key, v in d.items():
        if isinstance(v, (list, tuple)) and len(v) == 2 and key.endswith("_ci"):
            row[f"{key}_low"], row[f"{key}_high"] = v
        elif isinstance(v, (list, tuple)):
            row[key] = ";".join(map(str, v))
        else:
            row[key] = v
    return row


def _add_significance(p, *, permutations: bool = True, theiler: bool = True,
                      groups: str | None = "--groups", splits: bool = False,
                      times: bool = True) -> None:
    """The significance options of a command."""
    if permutations:
        p.add_argument("--permutations", type=int, default=0, metavar="N",
                       help="permutations for p-values (0 = none; e.g. 199)")
    if groups:
        p.add_argument(groups, dest="groups", default=None, metavar="COL",
                       help="entity column: the null reassigns whole entities' series and "
                       "intervals resample entities")
    if theiler:
        p.add_argument("--theiler", type=float, default=None, metavar="W",
                       help="Theiler window: exclude neighbours of the same series within W time steps")
        if times:
            p.add_argument("--times", default=None, metavar="COL",
                           help="time column (for --theiler)")
    if splits:
        p.add_argument("--splits", type=int, default=0, metavar="S",
                       help="robustness: repeat on S disjoint subsets of entities or points")


def cmd_select(args) -> None:
    from .selection import select_features

    df = _read(args.file)
    target = _cols(args.target, df, "target", default=[]) if args.target else None
    numeric = [c for c in df.columns if _is_numeric(df[c])]
    default_cands = [c for c in numeric if c not in (target or [])]
    cands = _cols(args.candidates, df, "candidates", default=default_cands)
    groups, times = _significance_columns(args, df)
    cands = [c for c in cands if c not in {args.groups, args.times, getattr(args, "time", None)}]
    lag = getattr(args, "lag", None)
    if lag is not None:
        return _select_lagged(args, df, cands, target)
    df = _prepare(df, cands + (target or []), args, _periods(args.period))
    groups, times = _significance_columns(args, df)
    with progress_bar(args) as bar:
        r = select_features(df[cands], None if target is None else df[target], method=args.method,
                            max_features=args.max_features, criterion=args.criterion, k=args.k,
                            metric=_metric(args), period=_periods(args.period),
                            n_queries=args.n_queries, n_best=args.n_best,
                            max_subsets=args.max_subsets, n_random=args.n_random,
                            dummy=args.dummy, random_state=args.seed, progress=bar,
                            groups=groups, times=times, theiler=args.theiler,
                            algorithm=args.algorithm,
                            n_splits=args.splits, categorical=_categorical(args))
    frame = r.to_frame()
    table = frame[["size", "features", "a_to_b", "a_to_b_se", "b_to_a", "b_to_a_se",
                   "criterion", "random_mean", "random_sd", "n_evaluated",
                   *[c for c in frame.columns if c.endswith(("_ci_low", "_ci_high"))]]]
    text = (f"{r.method} selection, criterion {r.criterion}, N = {r.n}, k = {r.k}, "
            f"target = {'full space (compression)' if target is None else ', '.join(target)}\n"
            f"{verdicts.selection(r)}")
    if r.stability is not None:
        top = r.stability[r.stability["size"] == r.suggested_size]
        text += "\nstability over {} splits at size {}: {}".format(
            args.splits, r.suggested_size,
            ", ".join(f"{f} {v:.0%}" for f, v in zip(top["feature"], top["frequency"])))
    _emit(args, r.to_dict(), table, text)


def _select_lagged(args, df, cands, target) -> None:
    """``select --lag L --time T [--groups E]``: the target at t + L, within each entity."""
    from .lags import select_lagged

    if target is None:
        raise ValueError("--lag needs --target (a lagged target)")
    if not args.time:
        raise ValueError("--lag needs --time (the time column)")
    df = _prepare(df, cands + target, args, _periods(args.period), panel=True)
    kw = dict(method=args.method, max_features=args.max_features, criterion=args.criterion, k=args.k,
              metric=_metric(args), period=_periods(args.period), n_queries=args.n_queries,
              n_best=args.n_best, max_subsets=args.max_subsets, n_random=args.n_random,
              dummy=args.dummy, random_state=args.seed, n_splits=args.splits)
    with progress_bar(args) as bar:
        r = select_lagged(df, cands, target, lag=args.lag, time=args.time, group=args.groups,
                          progress=bar, **kw)
    frame = r.to_frame()
    table = frame[["size", "features", "a_to_b", "a_to_b_se", "b_to_a", "b_to_a_se", "criterion"]]
    text = (f"{r.method} selection with the target at t{args.lag:+d}, N = {r.n} pairs, k = {r.k}\n"
            f"{verdicts.selection(r)}")
    _emit(args, r.to_dict(), table, text)


def _select_lag(text: str):
    """--select-lag: a whole number or 'best' (the scan's best lag)."""
    if text.strip().lower() == "best":
        return "best"
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number or 'best', got {text!r}") from None


def cmd_lags(args) -> None:
    from .lags import lag_scan, select_lagged

    df = _read(args.file)
    source, target = _cols(args.source, df, "source"), _cols(args.target, df, "target")
    cands = _cols(args.candidates, df, "candidates") if getattr(args, "candidates", None) else source
    df = _prepare(df, source + target + (cands if args.select_lag is not None else []), args, panel=True)
    with progress_bar(args) as bar:
        r = lag_scan(df, source, target, lags=_lags(args.lags), time=args.time, group=args.group,
                     k=args.k, metric=args.metric, n_queries=args.n_queries,
                     random_state=args.seed, progress=bar, n_permutations=args.permutations,
                     theiler=args.theiler, n_splits=args.splits, algorithm=args.algorithm)
    payload = r.to_dict()
    text = verdicts.lag_scan(r)
    if r.forward_p is not None:
        text += (f"\np and BH q per lag ({r.n_permutations} permutations, null: {r.null}) "
                 "are in the table")
    if r.stability is not None:
        best = r.stability[r.stability["is_best"]]["lag"].tolist()
        text += f"\nbest lag in each of {args.splits} disjoint splits: {best}"
    if args.select_lag is not None:
        lag = r.best_lag if args.select_lag == "best" else args.select_lag
        sel = select_lagged(df, cands, target, lag=lag, time=args.time,
                            group=args.group, method="greedy", k=args.k, n_queries=args.n_queries,
                            random_state=args.seed, max_features=args.select_max_features,
                            dummy=args.select_dummy)
        payload["selection"] = sel.to_dict() | {"lag": lag}
        text += (f"\nselection with target at t{lag:+d}: "
                 + " > ".join(s.features[-1] for s in sel.steps)
                 + f" (suggested size {sel.suggested_size})")
    _emit(args, payload, r.to_frame(), text)


def _one_series(df, columns, args):
    """``causality --group COL --entity VALUE --time COL``: the rows of one entity in time order;
    then the dashboard's preparation (``--drop-missing`` keeps the rows with every used column,
    ``--scale`` rescales them)."""
    group, entity, time = (getattr(args, x, None) for x in ("group", "entity", "time"))
    if (group is None) != (entity is None):
        raise ValueError("--group and --entity go together: the entity column and the entity's value")
    if group is not None:
        if group not in df.columns:
            raise ValueError(f"--group: column {group!r} not in the table; columns are {list(df.columns)}")
        df = df[df[group].astype(str) == str(entity)]
        if df.empty:
            raise ValueError(f"--entity: no rows with {group} = {entity!r}")
    if time is not None:
        if time not in df.columns:
            raise ValueError(f"--time: column {time!r} not in the table; columns are {list(df.columns)}")
        df = df.sort_values(time, kind="stable")
    return _prepare(df.reset_index(drop=True), columns, args)


def cmd_causality(args) -> None:
    from .causality import causality_test

    df = _read(args.file)
    cause, effect = _cols(args.cause, df, "cause"), _cols(args.effect, df, "effect")
    cond = _cols(args.conditioning, df, "conditioning") if args.conditioning else None
    df = _one_series(df, cause + effect + (cond or []), args)
    embedding = None
    if args.embedding:
        dim, _, delay = args.embedding.partition(",")
        embedding = (check_int(_parse(dim, int, "--embedding DIM"), "--embedding DIM", low=1),
                     check_int(_parse(delay or "1", int, "--embedding DELAY"), "--embedding DELAY",
                               low=1))
    with progress_bar(args) as bar:
        r = causality_test(df[cause], df[effect], tau=args.tau,
                           alphas=np.linspace(0, 1, check_int(args.n_alphas, "--n-alphas", low=2)),
                           k=args.k,
                           conditioning=None if cond is None else df[cond],
                           n_queries=args.n_queries, random_state=args.seed,
                           embedding=embedding, n_surrogates=args.surrogates, progress=bar)
    import pandas as pd

    table = pd.DataFrame({"alpha": r.x_to_y.alphas, "delta_x_to_y": r.x_to_y.delta,
                          "delta_y_to_x": r.y_to_x.delta})
    if r.p_x_to_y is not None:  # the tests, repeated on every row so that the CSV carries them
        table["gain_x_to_y"], table["p_x_to_y"] = r.x_to_y.gain, r.p_x_to_y
        table["gain_y_to_x"], table["p_y_to_x"] = r.y_to_x.gain, r.p_y_to_x
    text = (f"X = {', '.join(cause)}; Y = {', '.join(effect)}"
            + (f"; Z = {', '.join(cond)}" if cond else "") + f"; tau = {args.tau}, k = {args.k}\n"
            f"imbalance gain X→Y = {r.x_to_y.gain:.4f} (α* = {r.x_to_y.alpha_star:.3f})"
            + (f", p = {r.p_x_to_y:.4g}" if r.p_x_to_y is not None else "") + "\n"
            f"imbalance gain Y→X = {r.y_to_x.gain:.4f} (α* = {r.y_to_x.alpha_star:.3f})"
            + (f", p = {r.p_y_to_x:.4g}" if r.p_y_to_x is not None else "") + "\n"
            f"verdict: {r.verdict}\n{verdicts.causality(r)}")
    _emit(args, r.to_dict(), table, text)


def _graph_variables(spec: str | None, df) -> dict | None:
    """'X=a,b;Y=c' -> {'X': ['a', 'b'], 'Y': ['c']}; a bare name is a one-column variable."""
    if not spec:
        return None
    out = {}
    for item in spec.split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, cols = item.partition("=")
        name = name.strip()
        if not sep:
            cols = name
        names = [c.strip() for c in cols.split(",") if c.strip()]
        missing = [c for c in names if c not in df.columns]
        if missing:
            raise ValueError(f"--variables: column(s) {missing} of {name!r} not in the table; "
                             f"columns are {list(df.columns)}")
        out[name] = names
    return out


def cmd_graph(args) -> None:
    from .graph import causal_graph

    df = _read(args.file)
    variables = _graph_variables(args.variables, df)
    embedding = None
    if args.embedding:
        dim, _, delay = args.embedding.partition(",")
        embedding = (check_int(_parse(dim, int, "--embedding DIM"), "--embedding DIM", low=1),
                     check_int(_parse(delay or "1", int, "--embedding DELAY"), "--embedding DELAY",
                               low=1))
    with progress_bar(args) as bar:
        g = causal_graph(df, variables, taus=_lags(args.tau), embedding=embedding, k=args.k,
                         alphas=np.linspace(0, 1, check_int(args.n_alphas, "--n-alphas", low=2)),
                         group=args.group, time=args.time, n_surrogates=args.surrogates,
                         alpha=args.alpha, n_queries=args.n_queries, random_state=args.seed,
                         progress=bar)
    table = g.tested if args.all else g.edges
    text = (f"{len(g.variables)} variables, {len(g.tested)} ordered pairs, N = {g.n}"
            + (f" in {g.n_entities} entities" if g.n_entities > 1 else "")
            + f", lags {list(g.taus)}, k = {g.k}, {g.n_surrogates} surrogates\n"
            f"{len(g.edges)} direct link(s) at q <= {g.alpha}:")
    if not args.all:
        lines = [f"  {r.cause} -> {r.effect}   gain {r.gain:.4f}  lag {r.lag}  p {r.p:.4g}  "
                 f"q {r.q:.4g}" for r in g.edges.itertuples()]
        text += "\n" + ("\n".join(lines) if lines else "  (none)")
        text += "\n" + verdicts.causal_graph(g)  # the dashboard's sentence
        _emit(args, g.to_dict(), table if args.csv else None, text)
    else:
        _emit(args, g.to_dict(), table, text + "\n" + verdicts.causal_graph(g))


def cmd_weights(args) -> None:
    from .weights import optimize_weights

    df = _read(args.file)
    a, b = _cols(args.a, df, "a"), _cols(args.b, df, "b")
    period = _periods(args.period)
    df = _prepare(df, a + b, args, period)
    kw = {k: v for k, v in (("n_iter", args.n_iter), ("l1", args.l1),
                            ("max_evaluations", args.max_evaluations),
                            ("n_resamples", args.n_resamples)) if v is not None}
    with progress_bar(args) as bar:
        r = optimize_weights(df[a], df[b], method=args.method, k=args.k, random_state=args.seed,
                             period=period, n_queries=args.n_queries, progress=bar, **kw)
    import pandas as pd

    table = pd.DataFrame({"feature": list(r.columns), "weight": r.weights})
    if r.weights_se is not None:
        table["se"] = r.weights_se
    text = (f"{r.method}: Δ(A→B) {r.delta_before:.4f} with unit weights -> "
            f"{r.delta_after:.4f} with the weights below")
    _emit(args, r.to_dict(), table, text)


def cmd_example(args) -> None:
    from .datasets import list_examples, load_example

    if args.list or not args.name:
        for ex in list_examples():
            print(f"{ex.name:<14} {ex.title}")
        return
    df = load_example(args.name, n=args.n, random_state=args.seed or 0)
    if args.output:
        if args.output.endswith(".parquet"):
            df.to_parquet(args.output, index=False)
        else:
            df.to_csv(args.output, index=False, sep="\t" if args.output.endswith(".tsv") else ",")
        print(f"wrote {len(df)} rows x {df.shape[1]} columns to {args.output}", file=sys.stderr)
    else:
        df.to_csv(sys.stdout, index=False)


# --------------------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, *, k_default: int = 1) -> None:
    p.add_argument("file", help="CSV, TSV, Parquet or Excel table")
    p.add_argument("--k", type=int, default=k_default, help=f"neighbours (default {k_default})")
    p.add_argument("--n-queries", type=int, default=None,
                   help="random query points (subsampled estimator); default: exact")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="write JSON")
    out.add_argument("--csv", action="store_true", help="write the result table as CSV")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.add_argument("--progress", action="store_true", help="progress bar even when not a terminal")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _matrix_options(p: argparse.ArgumentParser, *, pair: bool = False) -> None:
    """Options of commands that read N x N distance matrices."""
    if pair:
        p.add_argument("--a-distances", metavar="FILE",
                       help="A as an N x N distance matrix (.npy, .csv, .tsv, .parquet) instead of --a")
        p.add_argument("--b-distances", metavar="FILE",
                       help="B as an N x N distance matrix instead of --b")
    p.add_argument("--id-column", help="tie matrix rows to the table by this id column (the "
                   "matrix file, CSV/Parquet, has a column of the same name); default: row order")
    p.add_argument("--asymmetric", action="store_true",
                   help="the distance matrices are asymmetric by design (row i = from point i)")
    p.add_argument("--dtype", choices=["float32", "float64"], default=None,
                   help="store matrices in this precision (default: float32 files stay float32)")
    p.add_argument("--max-matrix-mb", type=float, default=None,
                   help="refuse a matrix needing more memory (default 2048 MiB)")


def _scale_options(p: argparse.ArgumentParser, *, algorithm: bool = True) -> None:
    """--algorithm (exact k-d tree or brute force) and --dask (run on a Dask cluster)."""
    if algorithm:
        p.add_argument("--algorithm", choices=["auto", "brute", "tree"], default="auto",
                       help="neighbour search: exact k-d tree, brute force, or auto (default)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run the heavy work on this Dask scheduler (e.g. tcp://host:8786); "
                   "default: $INFOIMB_DASK_ADDRESS if set, else this machine")


def _prepare_options(p: argparse.ArgumentParser, *, drop: bool = True) -> None:
    """--scale and --drop-missing: the dashboard's preparation of the used columns."""
    p.add_argument("--scale", choices=["none", "zscore", "minmax", "rank"], default="none",
                   help="rescale the used columns first (periodic ones excepted), as the dashboard's "
                   "scaling: z-score, min-max, rank (copula); default none")
    if drop:
        p.add_argument("--drop-missing", nargs="?", const="", default=None, metavar="COLS",
                       help="use only the rows with a finite value in every used column (as the dashboard); "
                       "--drop-missing=a,b: in those columns too")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(prog="infoimb", description="Information imbalance between "
                                 "feature spaces (Glielmo et al. 2022).")
    ap.add_argument("--version", action="version", version=f"infoimb {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    metrics = ["auto", *FEATURE_METRICS, "categorical", "gower"]
    metric_help = ("distance: auto (default) = Euclidean for numeric columns, categorical "
                   "(0 equal / 1 different, mismatches counted) when all are text, gower "
                   "(numeric / range + mismatches) when mixed")

    p = sub.add_parser("pair", help="Δ(A→B) and Δ(B→A) between two groups of columns")
    _common(p)
    p.add_argument("--a", help="columns of A, comma-separated ('*' = all numeric)")
    p.add_argument("--b", help="columns of B")
    p.add_argument("--metric", choices=metrics, default="auto", help=metric_help)
    p.add_argument("--metric-a", choices=metrics, default=None, help="metric of A only")
    p.add_argument("--metric-b", choices=metrics, default=None, help="metric of B only")
    p.add_argument("--categorical", help="numeric columns to compare as categories: name,name "
                   "(text columns are categorical anyway)")
    p.add_argument("--period", help="periodic columns: name=period,name=period")
    _add_significance(p)
    _matrix_options(p, pair=True)
    _scale_options(p)
    _prepare_options(p)
    p.set_defaults(func=cmd_pair)

    p = sub.add_parser("matrix", help="Δ between every ordered pair of spaces (columns or matrices)")
    _common(p)
    p.add_argument("--spaces", required=True,
                   help="NAME=col1,col2;NAME=@distances.npy;... (at least two)")
    p.add_argument("--metric", choices=metrics, default="euclidean",
                   help="distance of the feature spaces (matrices are used as given)")
    _matrix_options(p)
    _prepare_options(p)
    p.set_defaults(func=cmd_matrix)

    p = sub.add_parser("select", help="feature selection against a target (or compression)")
    _common(p)
    p.add_argument("--candidates", help="candidate columns (default: every numeric non-target column)")
    p.add_argument("--target", help="target columns (default: none = compress the candidates)")
    p.add_argument("--method", choices=["greedy", "beam", "exhaustive", "backward"], default="greedy")
    p.add_argument("--max-features", type=int, default=None)
    p.add_argument("--criterion", choices=["a_to_b", "symmetric"], default="a_to_b")
    p.add_argument("--n-best", type=int, default=10, help="beam width")
    p.add_argument("--max-subsets", type=int, default=100_000, help="cap of the exhaustive search")
    p.add_argument("--n-random", type=int, default=0, help="random subsets per size (baseline)")
    p.add_argument("--dummy", action="store_true", help="add a noise feature that must never be chosen")
    p.add_argument("--metric", choices=metrics, default="auto", help=metric_help)
    p.add_argument("--metric-a", choices=metrics, default=None, help="metric of the candidates only")
    p.add_argument("--metric-b", choices=metrics, default=None, help="metric of the target only")
    p.add_argument("--categorical", help="numeric columns to compare as categories: name,name")
    p.add_argument("--period", help="periodic columns: name=period,...")
    _add_significance(p, permutations=False, splits=True)
    _scale_options(p)
    _prepare_options(p)
    p.add_argument("--lag", type=int, default=None,
                   help="a lagged target: select against the target at t+LAG (needs --time; the entity "
                   "column is --groups)")
    p.add_argument("--time", default=None, help="time column (for --lag)")
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("lags", help="lag scan on panel data: Δ(source_t → target_{t+lag})")
    _common(p)
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--time", required=True, help="time column")
    p.add_argument("--group", help="entity column (e.g. country id)")
    p.add_argument("--lags", default="-5:5", help="LO:HI or a comma list (default -5:5; "
                   "write --lags=-5:5 for negative values)")
    p.add_argument("--metric", choices=metrics, default="auto", help=metric_help)
    p.add_argument("--select-lag", type=_select_lag, default=None,
                   help="also select source features against the target at t+LAG ('best': the "
                   "scan's best lag)")
    p.add_argument("--candidates", default=None,
                   help="candidate columns of the selection (default: the source columns)")
    p.add_argument("--select-max-features", type=int, default=None,
                   help="largest subset of the selection")
    p.add_argument("--select-dummy", action="store_true",
                   help="add a noise feature to the selection that must never be chosen")
    _prepare_options(p, drop=False)
    _add_significance(p, groups=None, splits=True, times=False)
    _scale_options(p)
    p.set_defaults(func=cmd_lags)

    p = sub.add_parser("causality", help="imbalance gain in both directions (Del Tatto et al. 2024)")
    _common(p, k_default=5)
    p.add_argument("--cause", required=True, help="columns of X")
    p.add_argument("--effect", required=True, help="columns of Y")
    p.add_argument("--tau", type=int, required=True, help="time lag in rows")
    p.add_argument("--n-alphas", type=int, default=50, help="α values in [0, 1]")
    p.add_argument("--conditioning", help="columns of Z to condition on")
    p.add_argument("--embedding", help="time-delay embedding of scalar series: DIM,DELAY")
    p.add_argument("--surrogates", type=int, default=0,
                   help="circular-shift surrogates of the cause for p-values (default 0: none)")
    _scale_options(p, algorithm=False)
    p.add_argument("--group", default=None, help="entity column of a panel (with --entity)")
    p.add_argument("--entity", default=None, help="the one entity whose series is tested (with --group)")
    p.add_argument("--time", default=None, help="time column: rows are put in its order")
    _prepare_options(p)
    p.set_defaults(func=cmd_causality)

    p = sub.add_parser("graph", help="causal graph: direct links among many time series")
    _common(p, k_default=5)
    p.add_argument("--variables", help="variables: 'X=a,b;Y=c' (default: one per numeric column)")
    p.add_argument("--tau", default="1", help="lags of the links: 1, or LO:HI, or a comma list")
    p.add_argument("--surrogates", type=int, default=199, help="circular-shift surrogates per test")
    p.add_argument("--alpha", type=float, default=0.05, help="level of the edges (BH q-values)")
    p.add_argument("--n-alphas", type=int, default=21, help="α values scanned in [0, 1]")
    p.add_argument("--embedding", help="time-delay embedding of every variable: DIM,DELAY")
    p.add_argument("--group", help="entity column of a panel")
    p.add_argument("--time", help="time column (default: rows in time order)")
    p.add_argument("--all", action="store_true", help="print every tested pair, not just the edges")
    _scale_options(p, algorithm=False)
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("weights", help="relative scales of A's features that best predict B")
    _common(p)
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--method", choices=["dii", "coordinate", "grid"], default="dii")
    p.add_argument("--n-iter", type=int, default=None, help="DII gradient steps")
    p.add_argument("--l1", type=float, default=None, help="DII L1 penalty (sparse weights)")
    p.add_argument("--max-evaluations", type=int, default=None, help="grid: most evaluations")
    p.add_argument("--n-resamples", type=int, default=None,
                   help="standard errors of the weights from this many half-sample repeats (>= 2; default none)")
    p.add_argument("--period", help="periodic columns: name=period,...")
    _prepare_options(p)
    p.set_defaults(func=cmd_weights)

    p = sub.add_parser("example", help="write a built-in example as CSV (or list them)")
    p.add_argument("name", nargs="?")
    p.add_argument("--list", action="store_true")
    p.add_argument("-o", "--output")
    p.add_argument("--n", type=int, default=None, help="number of points / rows")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_example)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .cluster import ENV_ADDRESS

    previous = os.environ.get(ENV_ADDRESS)
    if getattr(args, "dask", None):  # the analyses read the address from the environment
        os.environ[ENV_ADDRESS] = args.dask
    try:
        args.func(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"infoimb {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        if not getattr(args, "dask", None) and not previous:
            raise
        print(f"infoimb {args.command}: error: {exc}", file=sys.stderr)  # cluster failures
        return 2
    except KeyboardInterrupt:
        print(f"infoimb {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if getattr(args, "dask", None):
            if previous is None:
                os.environ.pop(ENV_ADDRESS, None)
            else:
                os.environ[ENV_ADDRESS] = previous
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
