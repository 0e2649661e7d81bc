"""Distance measures as inputs: N x N matrices, and the imbalance between many spaces at once.

Data without features (sequences compared by an alignment score, structures by an RMSD,
texts by an edit distance) have only distances. :func:`load_distance_matrix` reads such a
matrix (CSV, TSV, NPY or Parquet), ties its rows to a table's rows (by order, or by an id
column) and checks it; :func:`imbalance_matrix` computes Δ between every ordered pair of
spaces, each a feature array or a distance matrix (the matrix version of DADApy's
``return_inf_imb_matrix_of_coords``).

Memory limits
-------------
An N x N matrix takes 8 N² bytes in float64 and 4 N² in float32: N = 20 000 is 3.2 GB in
float64, 1.6 GB in float32. :func:`load_distance_matrix` refuses a matrix larger than
``max_bytes`` (default :data:`MAX_MATRIX_BYTES` = 2 GiB, i.e. N ≤ 16 384 in float64 and
N ≤ 23 170 in float32) before reading its body where the format allows (NPY header, Parquet
metadata, CSV header line). float32 matrices stay float32 in memory: the engine reads them
without a float64 copy (values are widened exactly, row by row, so ties and Δ are the
same as for the same values in float64). The engine itself needs only O(N) more memory per
thread; every space of :func:`imbalance_matrix` is held at once.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._progress import ProgressCallback, report
from ._spaces import Space, check_k, check_n_queries, make_space
from ._validation import CATEGORICAL_METRICS, METRICS, check_choice, check_int
from .imbalance import classify_relation, mean_se, pair_terms, query_indices

__all__ = [
    "MAX_MATRIX_BYTES",
    "DistanceMatrix",
    "ImbalanceMatrix",
    "imbalance_matrix",
    "load_distance_matrix",
]

#: default size limit of one distance matrix in memory (2 GiB)
MAX_MATRIX_BYTES = 2 * 1024**3
_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".npy": "npy", ".parquet": "parquet",
            ".pq": "parquet"}
_SYMMETRY_RTOL = 1e-9  # |D_ij - D_ji| <= rtol * max|D| counts as symmetric (rounding in files)


@dataclass(frozen=True)
class DistanceMatrix:
    """A checked N x N distance matrix: a "space" given by its distances alone.

    Attributes
    ----------
    values : (N, N) float64 or float32 array, C-contiguous
        Row i holds the distances from point i (in the table's row order).
    name : str
        Where it came from (file name) or the name given.
    symmetric : bool
        Whether it was checked to be symmetric (False: declared asymmetric; Δ uses row i
        for query i).
    ids : tuple or None
        The ids of the rows, in order, when the matrix was tied to a table by ids.
    """

    values: np.ndarray = field(repr=False)
    name: str = "distances"
    symmetric: bool = True
    ids: tuple | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)

    def to_dict(self) -> dict:
        return {"name": self.name, "n": self.n, "dtype": str(self.values.dtype),
                "symmetric": self.symmetric, "nbytes": self.nbytes}


# --------------------------------------------------------------------------------------
# loading and checking
# --------------------------------------------------------------------------------------
def _check_dtype(dtype):
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32, float64 or None, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32, float64 or None, got {dt}")
    return dt


def _limit_check(n: int, itemsize: int, max_bytes: int, what: str) -> None:
    need = n * n * itemsize
    if need > max_bytes:
        n_max = math.isqrt(max_bytes // itemsize)
        raise ValueError(
            f"{what}: a {n} x {n} matrix in {'float32' if itemsize == 4 else 'float64'} needs "
            f"{need / 1e9:.2f} GB, over the limit max_bytes = {max_bytes / 1e9:.2f} GB "
            f"(N <= {n_max} at this precision). Use float32 (dtype='float32'), fewer points, "
            "or raise max_bytes if the machine has the memory")


def _format(name: str, what: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(f"{what}: unsupported file type {suffix or '(none)'!r}; "
                         "use .csv, .tsv, .npy or .parquet")
    return _FORMATS[suffix]


def _csv_header(handle, sep) -> list[str]:
    first = handle.readline()
    if isinstance(first, bytes):
        first = first.decode("utf-8-sig", errors="replace")
    return [c.strip() for c in first.rstrip("\r\n").split(sep)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_source(source, filename, ids_column, itemsize, max_bytes, what):
    """(matrix-like DataFrame or ndarray, row ids or None, column labels or None)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not filename:
            raise ValueError(f"{what}: give filename= (its extension names the format) with bytes")
        fmt = _format(filename, what)
        opener = lambda: io.BytesIO(bytes(source))  # noqa: E731
    else:
        path = Path(source)
        fmt = _format(path.name, what)
        if not path.exists():
            raise FileNotFoundError(f"{what}: no such file {str(path)!r}")
        opener = lambda: open(path, "rb")  # noqa: E731
    if fmt == "npy":
        if ids_column is not None:
            raise ValueError(f"{what}: an NPY file holds no ids; order its rows as the table's, "
                             "or use CSV/Parquet with an id column")
        with opener() as fh:
            version = np.lib.format.read_magic(fh)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, _, dt = read(fh)
        if len(shape) == 2 and shape[0] == shape[1]:
            # no dtype asked for: the file's own precision is kept, so its size is what counts
            _limit_check(shape[0], itemsize or (4 if dt == np.float32 else 8), max_bytes, what)
        with opener() as fh:
            arr = np.load(fh, allow_pickle=False)
        return arr, None, None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with opener() as fh:
            meta = pq.ParquetFile(fh).metadata
            n_cols = meta.num_columns - (1 if ids_column is not None else 0)
            _limit_check(max(meta.num_rows, n_cols), itemsize or 8, max_bytes, what)
        with opener() as fh:
            df = pd.read_parquet(fh)
    else:
        sep = "\t" if fmt == "tsv" else ","
        with opener() as fh:
            header = _csv_header(fh, sep)
        n_cols = len(header) - (1 if ids_column is not None else 0)
        _limit_check(n_cols, itemsize or 8, max_bytes, what)
        has_header = ids_column is not None or not all(_is_number(c) for c in header if c)
        with opener() as fh:
            df = pd.read_csv(fh, sep=sep, header=0 if has_header else None)
        if not has_header and df.shape[0] == df.shape[1] + 1:
            # one row more than columns: a numeric header (pandas writes 0, 1, ... by default)
            df = df.iloc[1:].reset_index(drop=True)
    row_ids = None
    if ids_column is not None:
        if ids_column not in df.columns:
            raise ValueError(f"{what}: no id column {ids_column!r}; its columns start with "
                             f"{[str(c) for c in df.columns[:5]]}")
        row_ids = df[ids_column].tolist()
        df = df.drop(columns=[ids_column])
    labels = [str(c) for c in df.columns]
    bad = [c for c, dt in zip(df.columns, df.dtypes) if not pd.api.types.is_numeric_dtype(dt)]
    if bad:
        raise ValueError(f"{what}: column(s) {[str(c) for c in bad[:5]]} are not numeric; a "
                         "distance matrix holds numbers only (name an id column with ids=)")
    return df, row_ids, labels


def _reorder(D: np.ndarray, row_ids, labels, id_order, what: str) -> tuple[np.ndarray, tuple]:
    """Rows and columns of D put in the order of ``id_order``."""
    n = D.shape[0]
    keys = [str(v) for v in row_ids]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})[:5]
        raise ValueError(f"{what}: duplicate row id(s) {dup} in the matrix")
    order_keys = [str(v) for v in id_order]
    if len(set(order_keys)) != len(order_keys):
        dup = sorted({k for k in order_keys if order_keys.count(k) > 1})[:5]
        raise ValueError(f"id_order: duplicate id(s) {dup} in the table's id column")
    missing = [k for k in order_keys if k not in set(keys)]
    extra = [k for k in keys if k not in set(order_keys)]
    if missing or extra:
        raise ValueError(f"{what}: the matrix's ids and the table's ids differ: "
                         f"{len(missing)} table id(s) not in the matrix (e.g. {missing[:3]}), "
                         f"{len(extra)} matrix id(s) not in the table (e.g. {extra[:3]})")
    pos = {k: i for i, k in enumerate(keys)}
    rows = np.array([pos[k] for k in order_keys], dtype=np.int64)
    if labels is not None and len(labels) == n and set(labels) == set(keys):
        cpos = {k: j for j, k in enumerate(labels)}
        cols = np.array([cpos[k] for k in order_keys], dtype=np.int64)
    elif labels is not None and not all(lab.isdigit() for lab in labels):
        raise ValueError(f"{what}: the column names are not the row ids, so the columns cannot "
                         "be matched to the rows; write the ids as the header")
    else:
        cols = rows  # columns in the same order as the rows
    return np.ascontiguousarray(D[np.ix_(rows, cols)]), tuple(id_order)


def check_distance_matrix(D, *, n: int | None = None, symmetric: bool = True,
                          name: str = "distances") -> None:
    """Raise ``ValueError`` naming the first problem of a distance matrix (see
    :func:`load_distance_matrix`)."""
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"{name}: a distance matrix must be square N x N, got shape {D.shape}")
    N = D.shape[0]
    if n is not None and N != n:
        raise ValueError(f"{name}: the matrix is {N} x {N} but the table has {n} rows; "
                         "they must describe the same points")
    if N < 3:
        raise ValueError(f"{name}: need at least 3 points, got a {N} x {N} matrix")
    bad = ~np.isfinite(D)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{name}: {int(bad.sum())} entries are NaN or infinite (first at row "
                         f"{i}, column {j}); every distance must be a finite number")
    neg = D < 0
    if neg.any():
        i, j = np.argwhere(neg)[0]
        raise ValueError(f"{name}: {int(neg.sum())} entries are negative (first D[{i}, {j}] = "
                         f"{D[i, j]:g}); distances must be non-negative")
    scale = float(D.max()) if D.size else 0.0
    diag = np.abs(np.diagonal(D))
    if (diag > _SYMMETRY_RTOL * scale).any():
        i = int(np.flatnonzero(diag > _SYMMETRY_RTOL * scale)[0])
        raise ValueError(f"{name}: the diagonal must be zero (the distance of a point to itself); "
                         f"D[{i}, {i}] = {D[i, i]:g} ({int((diag > _SYMMETRY_RTOL * scale).sum())} "
                         "non-zero diagonal entries)")
    if symmetric:
        worst, where = 0.0, (0, 0)
        for start in range(0, N, 1024):  # blocks: no N x N temporary
            blk = np.abs(D[start:start + 1024] - D[:, start:start + 1024].T)
            m = float(blk.max())
            if m > worst:
                worst = m
                r, c = np.unravel_index(int(blk.argmax()), blk.shape)
                where = (start + int(r), int(c))
        if worst > _SYMMETRY_RTOL * scale:
            i, j = where
            raise ValueError(
                f"{name}: the matrix is not symmetric: D[{i}, {j}] = {D[i, j]:g} but "
                f"D[{j}, {i}] = {D[j, i]:g}. If the measure is asymmetric by design, declare it "
                "(symmetric=False; row i is then the distances from point i)")


def load_distance_matrix(source, *, n: int | None = None, ids: str | Sequence | None = None,
                         id_order: Sequence | None = None, symmetric: bool = True,
                         max_bytes: int | None = None, dtype=None, name: str | None = None,
                         filename: str | None = None) -> DistanceMatrix:
    """Read and check an N x N distance matrix, in the row order of a table.

    Parameters
    ----------
    source : path, bytes, (N, N) array or DataFrame
        A ``.csv`` / ``.tsv`` (a header row is optional; with ``ids`` it is required), ``.npy``
        or ``.parquet`` file, the file's bytes (with ``filename``), or the matrix itself.
    n : int, optional
        Number of rows of the table the matrix belongs to; a different N is refused.
    ids : str or sequence, optional
        How the matrix's rows are identified. None: they are in the table's row order. A
        column name (CSV / Parquet / DataFrame): that column holds each row's id and the other
        columns are the matrix (their headers, if they are the ids, order the columns;
        otherwise columns are taken in the rows' order). A sequence: the ids of the rows.
    id_order : sequence, optional
        The table's ids in its row order (its id column); required with ``ids``. The matrix is
        reordered to it; ids missing on either side or repeated are refused. Ids are compared
        as text.
    symmetric : bool, default True
        Check that D equals its transpose (to a relative 1e-9 of the largest distance, for
        rounding in text files). False declares an asymmetric measure (d(i, j) ≠ d(j, i)):
        row i is then the distances *from* point i, which is what Δ uses for query i.
    max_bytes : int, optional
        Refuse a matrix that needs more memory (default :data:`MAX_MATRIX_BYTES` = 2 GiB:
        N ≤ 16 384 in float64, N ≤ 23 170 in float32). Checked before the body is read.
    dtype : {None, "float32", "float64"}
        None keeps float32 input as float32 and stores everything else as float64.
    name : str, optional
        Name used in messages and results (default: the file name, or "distances").
    filename : str, optional
        The file's name when ``source`` is bytes.

    Returns
    -------
    DistanceMatrix

    Raises
    ------
    ValueError
        Not square; N different from ``n``; NaN or infinite entries; negative entries; a
        non-zero diagonal; not symmetric (unless ``symmetric=False``); ids that do not match;
        over ``max_bytes``; an unsupported file type.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    >>> load_distance_matrix(D, n=50).shape
    (50, 50)
    """
    dt = _check_dtype(dtype)
    if max_bytes is None:
        max_bytes = MAX_MATRIX_BYTES
    max_bytes = check_int(max_bytes, "max_bytes", low=1)
    n = check_int(n, "n", low=1, allow_none=True)
    if not isinstance(symmetric, bool):
        raise TypeError(f"symmetric must be True or False, got {symmetric!r}")
    if ids is not None and id_order is None:
        raise ValueError("ids given without id_order: pass the table's id column as id_order")
    if id_order is not None and ids is None:
        raise ValueError("id_order given without ids: say which column (or sequence) holds the "
                         "matrix's row ids")
    if name is None:
        if isinstance(source, (str, Path)):
            name = Path(source).name
        elif filename:
            name = filename
        else:
            name = "distances"
    what = f"distance matrix {name!r}"
    itemsize = None if dt is None else dt.itemsize
    ids_column = ids if isinstance(ids, str) else None
    row_ids = None if (ids is None or isinstance(ids, str)) else list(ids)
    labels = None
    if isinstance(source, (str, Path, bytes, bytearray, memoryview)):
        raw, file_ids, labels = _read_source(source, filename, ids_column, itemsize, max_bytes, what)
        row_ids = file_ids if ids_column is not None else row_ids
    elif isinstance(source, pd.DataFrame):
        raw = source
        if ids_column is not None:
            if ids_column not in raw.columns:
                raise ValueError(f"{what}: no id column {ids_column!r}")
            row_ids = raw[ids_column].tolist()
            raw = raw.drop(columns=[ids_column])
        labels = [str(c) for c in raw.columns]
        bad = [str(c) for c, d in zip(raw.columns, raw.dtypes) if not pd.api.types.is_numeric_dtype(d)]
        if bad:
            raise ValueError(f"{what}: column(s) {bad[:5]} are not numeric")
    elif isinstance(source, DistanceMatrix):
        raw = source.values
    else:
        if ids_column is not None:
            raise ValueError(f"{what}: ids={ids!r} names a column, but an array has none; "
                             "pass the row ids as a sequence")
        raw = source
    if isinstance(raw, pd.DataFrame):
        src_float32 = all(d == np.float32 for d in raw.dtypes)
        D = raw.to_numpy(dtype=np.float32 if (dt == np.float32 or (dt is None and src_float32))
                         else np.float64)
    else:
        D = np.asarray(raw)
        if D.dtype == object or not (np.issubdtype(D.dtype, np.number) or D.dtype == np.bool_):
            raise TypeError(f"{what}: must be numeric, got dtype {D.dtype}")
        if np.iscomplexobj(D):
            raise TypeError(f"{what}: complex values are not distances")
        target = dt if dt is not None else (np.float32 if D.dtype == np.float32 else np.float64)
        D = D.astype(target, copy=False)
    if D.ndim == 2 and D.shape[0] == D.shape[1]:
        _limit_check(D.shape[0], D.dtype.itemsize, max_bytes, what)
    if D.ndim == 2 and row_ids is not None and len(row_ids) != D.shape[0]:
        raise ValueError(f"{what}: {len(row_ids)} row ids for a matrix with {D.shape[0]} rows")
    check_distance_matrix(D, n=n if row_ids is None else None, symmetric=symmetric, name=what)
    if row_ids is not None:
        D, order = _reorder(D, row_ids, labels, id_order, what)
        if n is not None and D.shape[0] != n:
            raise ValueError(f"{what}: the matrix is {D.shape[0]} x {D.shape[0]} but the table "
                             f"has {n} rows; they must describe the same points")
    else:
        order = None
    return DistanceMatrix(np.ascontiguousarray(D), name, symmetric, order)


# --------------------------------------------------------------------------------------
# the imbalance between many spaces
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImbalanceMatrix:
    """Δ between every ordered pair of spaces (rows: from, columns: to).

    Attributes
    ----------
    names : tuple of str
        The spaces, in the order given.
    delta, se : DataFrame
        ``delta.loc[a, b]`` = Δ(a → b) and its standard error; the diagonal is NaN.
    n, k, n_queries : int
    metrics : dict
        The distance used for each space ("precomputed" for matrices).
    """

    names: tuple[str, ...]
    delta: pd.DataFrame
    se: pd.DataFrame
    n: int
    k: int
    n_queries: int
    metrics: dict

    @property
    def exact(self) -> bool:
        return self.n_queries == self.n

    def pairs(self) -> pd.DataFrame:
        """One row per unordered pair (a before b in ``names``): a, b, a_to_b, b_to_a, their
        standard errors, the symmetric imbalance and the relation."""
        rows = []
        for i, j in itertools.combinations(range(len(self.names)), 2):
            a, b = self.names[i], self.names[j]
            ab, ba = float(self.delta.loc[a, b]), float(self.delta.loc[b, a])
            sab, sba = float(self.se.loc[a, b]), float(self.se.loc[b, a])
            rows.append({"a": a, "b": b, "a_to_b": ab, "b_to_a": ba, "a_to_b_se": sab,
                         "b_to_a_se": sba, "symmetric": (ab + ba) / math.sqrt(2.0),
                         "relation": classify_relation(ab, ba, sab, sba)})
        return pd.DataFrame(rows, columns=["a", "b", "a_to_b", "b_to_a", "a_to_b_se",
                                           "b_to_a_se", "symmetric", "relation"])

    @classmethod
    def from_dict(cls, d: Mapping) -> "ImbalanceMatrix":
        """Read back :meth:`to_dict` (also after a trip through JSON)."""
        names = tuple(str(s) for s in d["names"])

        def grid(g):
            return pd.DataFrame([[np.nan if g[a][b] is None else float(g[a][b]) for b in names]
                                 for a in names], index=pd.Index(names, name="from"),
                                columns=pd.Index(names, name="to"))
        return cls(names, grid(d["delta"]), grid(d["se"]), int(d["n"]), int(d["k"]),
                   int(d["n_queries"]), dict(d["metrics"]))

    def to_dict(self) -> dict:
        def grid(df):
            return {a: {b: (None if not np.isfinite(v) else float(v)) for b, v in row.items()}
                    for a, row in df.to_dict(orient="index").items()}
        return {"names": list(self.names), "delta": grid(self.delta), "se": grid(self.se),
                "n": self.n, "k": self.k, "n_queries": self.n_queries, "exact": self.exact,
                "metrics": dict(self.metrics),
                "pairs": self.pairs().to_dict(orient="records")}


def _space(name: str, value, metric: str) -> Space:
    if isinstance(value, DistanceMatrix):
        return make_space(value.values, name=name, metric="precomputed")
    return make_space(value, name=name, metric=metric)


def imbalance_matrix(spaces: Mapping, *, k: int = 1, metric="euclidean",
                     n_queries: int | None = None, random_state=None,
                     progress: ProgressCallback | None = None) -> ImbalanceMatrix:
    """Δ(a → b) for every ordered pair of spaces.

    Parameters
    ----------
    spaces : mapping {name: space}
        Each space is a feature array (N,) / (N, d) / DataFrame, or a :class:`DistanceMatrix`
        (from :func:`load_distance_matrix`), which is always used as precomputed distances.
        At least two spaces over the same N points.
    k : int, default 1
    metric : str or mapping {name: metric}
        The distance of the feature spaces: one of "euclidean", "manhattan", "chebyshev" for
        all, or per space; "precomputed" marks a plain (N, N) array as a distance matrix.
        Categorical features (text columns of a DataFrame): "categorical", "gower", or
        "auto" (each space's own: Euclidean, categorical or Gower, as
        :func:`infoimb.imbalance_pair`); ``metrics`` of the result records the one used.
    n_queries : int, optional
        Subsampled estimator: the same random queries for every pair. None = exact.
    random_state : int or Generator, optional
    progress : callable(fraction, message), optional

    Returns
    -------
    ImbalanceMatrix

    Examples
    --------
    >>> import numpy as np, infoimb
    >>> from infoimb.distances import imbalance_matrix
    >>> X = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]
    >>> r = imbalance_matrix({"full": X, "x": X[:, 0], "xy": X[:, :2]})
    >>> round(float(r.delta.loc["full", "x"]), 6), round(float(r.delta.loc["x", "full"]), 6)
    (0.063748, 0.548194)
    """
    if not isinstance(spaces, Mapping):
        raise TypeError(f"spaces must be a mapping {{name: features or matrix}}, got "
                        f"{type(spaces).__name__}")
    names = [str(s) for s in spaces]
    if len(names) < 2:
        raise ValueError(f"spaces: need at least two spaces, got {len(names)}")
    if len(set(names)) != len(names):
        raise ValueError(f"spaces: duplicate names {sorted({s for s in names if names.count(s) > 1})}")
    if isinstance(metric, Mapping):
        unknown = [str(s) for s in metric if str(s) not in names]
        if unknown:
            raise ValueError(f"metric: unknown space(s) {unknown}; spaces are {names}")
        metrics = {s: metric.get(s, metric.get(str(s), "euclidean")) for s in names}
    else:
        metrics = {s: metric for s in names}
    for s, m in metrics.items():
        check_choice(m, f"metric of space {s!r}", (*METRICS, *CATEGORICAL_METRICS, "auto"))
    built = {}
    for key, s in zip(spaces, names):
        value = spaces[key]
        built[s] = _space(s, value, metrics[s])
        metrics[s] = "precomputed" if isinstance(value, DistanceMatrix) else built[s].metric  # "auto" resolved
    n = built[names[0]].n
    for s in names[1:]:
        if built[s].n != n:
            raise ValueError(f"space {s!r} has {built[s].n} points but {names[0]!r} has {n}: "
                             "every space must describe the same points")
    if n < 3:
        raise ValueError(f"need at least 3 points, got {n}")
    k = check_k(k, n)
    n_queries = check_n_queries(n_queries, n)
    queries = query_indices(n, n_queries, random_state)
    delta = pd.DataFrame(np.nan, index=pd.Index(names, name="from"),
                         columns=pd.Index(names, name="to"))
    se = delta.copy()
    pairs = list(itertools.combinations(names, 2))
    for done, (a, b) in enumerate(pairs):
        t_ab, t_ba = pair_terms(built[a], built[b], k, queries)
        delta.loc[a, b], se.loc[a, b] = mean_se(t_ab)
        delta.loc[b, a], se.loc[b, a] = mean_se(t_ba)
        report(progress, (done + 1) / len(pairs), f"{a} ↔ {b}")
    return ImbalanceMatrix(tuple(names), delta, se, n, k, int(queries.shape[0]), metrics)
