"""The command line: a thin layer over the Python API.

    infoimb pair data.csv --a x,y,z --b x,y
    infoimb select data.csv --target energy --method beam --max-features 5
    infoimb lags panel.csv --source stay_home --target cases --time date --group id --lags=-5:5
    infoimb causality traj.csv --cause x1,y1,z1 --effect x2,y2,z2 --tau 20
    infoimb weights data.csv --a a,b,c --b target --method dii
    infoimb example gauss3d -o gauss3d.csv
"""

from __future__ import annotations

import argparse
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
        return [c for c in df.columns if np.issubdtype(df[c].dtype, np.number)]
    names = [c.strip() for c in spec.split(",") if c.strip()]
    if not names:
        raise ValueError(f"--{what}: no column names given")
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"--{what}: column(s) {missing} not in the table; columns are {list(df.columns)}")
    return names


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


def _read(path: str):
    from .io import read_table

    return read_table(path)


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
    a, b = _cols(args.a, df, "a"), _cols(args.b, df, "b")
    p = imbalance_pair(df[a], df[b], k=args.k, metric=args.metric, period=_periods(args.period),
                       n_queries=args.n_queries, random_state=args.seed)
    payload = p.to_dict() | {"a": a, "b": b, "file": args.file, "metric": args.metric}
    text = (f"A = {', '.join(a)}\nB = {', '.join(b)}\n"
            f"N = {p.n}, k = {p.k}, {'exact' if p.exact else f'{p.n_queries} random queries'}\n"
            f"Δ(A→B) = {p.a_to_b:.6f} ± {p.a_to_b_se:.6f}\n"
            f"Δ(B→A) = {p.b_to_a:.6f} ± {p.b_to_a_se:.6f}\n"
            f"relation: {p.relation} ({verdicts.relation(p)})")
    _emit(args, payload, None, text)


def cmd_select(args) -> None:
    from .selection import select_features

    df = _read(args.file)
    target = _cols(args.target, df, "target", default=[]) if args.target else None
    numeric = [c for c in df.columns if np.issubdtype(df[c].dtype, np.number)]
    default_cands = [c for c in numeric if c not in (target or [])]
    cands = _cols(args.candidates, df, "candidates", default=default_cands)
    with progress_bar(args) as bar:
        r = select_features(df[cands], None if target is None else df[target], method=args.method,
                            max_features=args.max_features, criterion=args.criterion, k=args.k,
                            metric=args.metric, period=_periods(args.period),
                            n_queries=args.n_queries, n_best=args.n_best,
                            max_subsets=args.max_subsets, n_random=args.n_random,
                            dummy=args.dummy, random_state=args.seed, progress=bar)
    table = r.to_frame()[["size", "features", "a_to_b", "a_to_b_se", "b_to_a", "b_to_a_se",
                          "criterion", "random_mean", "random_sd", "n_evaluated"]]
    text = (f"{r.method} selection, criterion {r.criterion}, N = {r.n}, k = {r.k}, "
            f"target = {'full space (compression)' if target is None else ', '.join(target)}\n"
            f"{verdicts.selection(r)}")
    _emit(args, r.to_dict(), table, text)


def cmd_lags(args) -> None:
    from .lags import lag_scan, select_lagged

    df = _read(args.file)
    source, target = _cols(args.source, df, "source"), _cols(args.target, df, "target")
    with progress_bar(args) as bar:
        r = lag_scan(df, source, target, lags=_lags(args.lags), time=args.time, group=args.group,
                     k=args.k, metric=args.metric, n_queries=args.n_queries,
                     random_state=args.seed, progress=bar)
    payload = r.to_dict()
    text = verdicts.lag_scan(r)
    if args.select_lag is not None:
        sel = select_lagged(df, source, target, lag=args.select_lag, time=args.time,
                            group=args.group, method="greedy", k=args.k, n_queries=args.n_queries,
                            random_state=args.seed)
        payload["selection"] = sel.to_dict()
        text += (f"\nselection with target at t{args.select_lag:+d}: "
                 + " > ".join(s.features[-1] for s in sel.steps)
                 + f" (suggested size {sel.suggested_size})")
    _emit(args, payload, r.to_frame(), text)


def cmd_causality(args) -> None:
    from .causality import causality_test

    df = _read(args.file)
    cause, effect = _cols(args.cause, df, "cause"), _cols(args.effect, df, "effect")
    cond = _cols(args.conditioning, df, "conditioning") if args.conditioning else None
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
                           embedding=embedding, progress=bar)
    import pandas as pd

    table = pd.DataFrame({"alpha": r.x_to_y.alphas, "delta_x_to_y": r.x_to_y.delta,
                          "delta_y_to_x": r.y_to_x.delta})
    text = (f"X = {', '.join(cause)}; Y = {', '.join(effect)}"
            + (f"; Z = {', '.join(cond)}" if cond else "") + f"; tau = {args.tau}, k = {args.k}\n"
            f"imbalance gain X→Y = {r.x_to_y.gain:.4f} (α* = {r.x_to_y.alpha_star:.3f})\n"
            f"imbalance gain Y→X = {r.y_to_x.gain:.4f} (α* = {r.y_to_x.alpha_star:.3f})\n"
            f"verdict: {r.verdict}\n{verdicts.causality(r)}")
    _emit(args, r.to_dict(), table, text)


def cmd_weights(args) -> None:
    from .weights import optimize_weights

    df = _read(args.file)
    a, b = _cols(args.a, df, "a"), _cols(args.b, df, "b")
    with progress_bar(args) as bar:
        r = optimize_weights(df[a], df[b], method=args.method, k=args.k, random_state=args.seed,
                             progress=bar)
    import pandas as pd

    table = pd.DataFrame({"feature": list(r.columns), "weight": r.weights})
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


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(prog="infoimb", description="Information imbalance between "
                                 "feature spaces (Glielmo et al. 2022).")
    ap.add_argument("--version", action="version", version=f"infoimb {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    metrics = list(FEATURE_METRICS)

    p = sub.add_parser("pair", help="Δ(A→B) and Δ(B→A) between two groups of columns")
    _common(p)
    p.add_argument("--a", required=True, help="columns of A, comma-separated ('*' = all numeric)")
    p.add_argument("--b", required=True, help="columns of B")
    p.add_argument("--metric", choices=metrics, default="euclidean")
    p.add_argument("--period", help="periodic columns: name=period,name=period")
    p.set_defaults(func=cmd_pair)

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
    p.add_argument("--metric", choices=metrics, default="euclidean")
    p.add_argument("--period", help="periodic columns: name=period,...")
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("lags", help="lag scan on panel data: Δ(source_t → target_{t+lag})")
    _common(p)
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--time", required=True, help="time column")
    p.add_argument("--group", help="entity column (e.g. country id)")
    p.add_argument("--lags", default="-5:5", help="LO:HI or a comma list (default -5:5; "
                   "write --lags=-5:5 for negative values)")
    p.add_argument("--metric", choices=metrics, default="euclidean")
    p.add_argument("--select-lag", type=int, default=None,
                   help="also select source features against the target at t+LAG")
    p.set_defaults(func=cmd_lags)

    p = sub.add_parser("causality", help="imbalance gain in both directions (Del Tatto et al. 2024)")
    _common(p, k_default=5)
    p.add_argument("--cause", required=True, help="columns of X")
    p.add_argument("--effect", required=True, help="columns of Y")
    p.add_argument("--tau", type=int, required=True, help="time lag in rows")
    p.add_argument("--n-alphas", type=int, default=50, help="α values in [0, 1]")
    p.add_argument("--conditioning", help="columns of Z to condition on")
    p.add_argument("--embedding", help="time-delay embedding of scalar series: DIM,DELAY")
    p.set_defaults(func=cmd_causality)

    p = sub.add_parser("weights", help="relative scales of A's features that best predict B")
    _common(p)
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--method", choices=["dii", "coordinate", "grid"], default="dii")
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
    try:
        args.func(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"infoimb {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"infoimb {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
