"""Distance matrices uploaded next to the table: checks, storage, and their use as spaces.

Pure logic over the session store, without Dash (the Data page calls :func:`ingest_matrix`;
the analyses call :func:`load_matrices` in their job). A matrix is read and checked by
:func:`infoimb.distances.load_distance_matrix` (square, finite, non-negative, zero diagonal,
symmetric unless declared asymmetric, N equal to the table's rows, ids matching the table's
id column), within the upload limit (``INFOIMB_MAX_UPLOAD_MB``) and the memory limit of one
matrix (``INFOIMB_MAX_MATRIX_MB``), then stored server-side in the session's folder as
``.npy`` (never in the browser). It becomes the space ``"dist:<id>"`` of
:mod:`infoimb.web.context`, tied to the version of the table it was uploaded for.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np

from ..distances import DistanceMatrix, load_distance_matrix
from .config import Settings
from .context import AnalysisInputError
from .store import InvalidSession, NoDataset, SessionStore

__all__ = ["MAX_MATRICES", "ORDER", "decode_upload", "ingest_matrix", "load_matrices", "matrix_rows",
           "message"]

#: distance matrices one session may keep
MAX_MATRICES = 8
#: the "tie by" choice meaning: the matrix's rows are in the table's row order
ORDER = "__order__"


def message(color: str, text: str, details=None) -> dict:
    return {"color": color, "text": text, "details": list(details or [])}


def decode_upload(contents, max_bytes: int, filename: str) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL; ValueError naming the file when it is not one
    or is over ``max_bytes``."""
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError(f"{filename}: nothing was received (empty upload)")
    head, _, body = contents.partition(",")
    if len(body) * 3 // 4 > max_bytes + 3:
        raise ValueError(f"{filename} is larger than the upload limit of {max_bytes / 1024**2:g} MB "
                         "(INFOIMB_MAX_UPLOAD_MB)")
    if ";base64" not in head:
        raise ValueError(f"{filename}: the upload is not base64-encoded")
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{filename}: the upload is damaged (not valid base64)") from None
    if len(raw) > max_bytes:
        raise ValueError(f"{filename} is larger than the upload limit of {max_bytes / 1024**2:g} MB "
                         "(INFOIMB_MAX_UPLOAD_MB)")
    if not raw:
        raise ValueError(f"{filename}: the file is empty")
    return raw


def ingest_matrix(store: SessionStore, sid, contents, filename, settings: Settings, *, tie=None,
                  asymmetric: bool = False) -> dict:
    """Read, check and store an uploaded distance matrix for the session's current table.

    ``tie``: None or :data:`ORDER` (rows in the table's order) or the name of the table's id
    column (the matrix's first column, or the column of that name, holds the ids; the matrix
    is reordered to the table's rows). ``asymmetric``: the measure is asymmetric by design.
    Returns ``{"message", "matrix"}`` (``matrix`` the stored entry, None when refused); never
    raises.
    """
    name = str(filename or "matrix")
    try:
        meta = store.get_meta(sid)
    except InvalidSession:
        return {"matrix": None, "message": message("danger", "Your session expired: reload the page and load "
                                                             "the data again.")}
    if not meta:
        return {"matrix": None, "message": message("warning", "Load a table first: a distance matrix belongs "
                                                              "to the rows of a table.")}
    if len(meta.get("matrices") or []) >= MAX_MATRICES:
        return {"matrix": None, "message": message("warning", f"This session already has {MAX_MATRICES} "
                                                              "distance matrices: remove some first.")}
    tie = None if tie in (None, "", ORDER) else str(tie)
    try:
        raw = decode_upload(contents, settings.max_upload_bytes, name)
        kw = {}
        if tie is not None:
            if tie not in meta.get("columns", []):
                raise ValueError(f"the id column {tie!r} is not in the current table")
            df = store.get_dataset(sid, meta=meta)
            kw = {"ids": tie, "id_order": df[tie].tolist()}
        dm = load_distance_matrix(raw, filename=name, n=int(meta["n_rows"]), symmetric=not asymmetric,
                                  max_bytes=settings.max_matrix_bytes, name=name, **kw)
    except (ValueError, TypeError, OverflowError, NoDataset) as err:
        text = str(err)
        if "max_bytes" in text:
            text += f" (here the limit is INFOIMB_MAX_MATRIX_MB = {settings.max_matrix_mb:g})"
        return {"matrix": None, "message": message("danger", f"{name} was not added: {text}")}
    except MemoryError:
        return {"matrix": None, "message": message("danger", f"{name} is too large to read into memory.")}
    except Exception as err:  # noqa: BLE001 - a malformed file (NPY, Parquet) must give a message
        return {"matrix": None, "message": message("danger", f"{name} could not be read as a distance matrix "
                                                             f"({type(err).__name__}: {err}).")}
    base = name.rsplit(".", 1)[0] or "distances"
    taken = {m.get("name") for m in meta.get("matrices") or []}
    label, i = base, 2
    while label in taken:
        label, i = f"{base} ({i})", i + 1
    info = {"name": label, "filename": name, "n": dm.n, "dtype": str(dm.values.dtype), "symmetric": dm.symmetric,
            "nbytes": dm.nbytes, "tie": "row order" if tie is None else f"id column {tie}",
            "table_hash": meta["content_hash"]}
    entry = store.put_matrix(sid, dm.values, info)
    text = (f"Added the distance matrix “{label}”: {dm.n} × {dm.n} ({info['dtype']}, "
            f"{dm.nbytes / 1024**2:.1f} MB), rows tied by {info['tie']}"
            f"{'' if dm.symmetric else ', asymmetric (row i: distances from point i)'}. "
            f"Choose “Distances: {label}” as a space on the Compare or Matrix page.")
    return {"matrix": entry, "message": message("success", text)}


def matrix_rows(meta: dict | None) -> list[dict]:
    """The uploaded matrices as table rows for the Data page."""
    out = []
    for m in (meta or {}).get("matrices") or []:
        current = m.get("table_hash") == (meta or {}).get("content_hash")
        out.append({"space": f"Distances: {m.get('name')}", "N": m.get("n"), "dtype": m.get("dtype"),
                    "symmetric": "yes" if m.get("symmetric") else "no (declared)",
                    "rows tied by": m.get("tie"),
                    "status": "usable" if current else "for another version of the table"})
    return out


def load_matrices(store: SessionStore, sid, ids) -> dict:
    """``{id: ndarray}`` of the session's stored matrices ``ids`` (for an analysis's job)."""
    out = {}
    for mid in dict.fromkeys(ids or []):
        out[mid] = store.get_matrix(sid, mid)
    return out


def matrix_space(D: np.ndarray, name: str, keep=None, symmetric: bool = True) -> DistanceMatrix:
    """A :class:`DistanceMatrix` of the stored ``D`` restricted to the rows ``keep`` (a boolean
    mask of the table's rows that the analysis uses), or all rows."""
    D = np.asarray(D)
    if keep is not None and not bool(np.all(keep)):
        idx = np.flatnonzero(keep)
        D = D[np.ix_(idx, idx)]
    if D.shape[0] < 3:
        raise AnalysisInputError(f"the distance matrix {name!r} has fewer than 3 usable rows")
    return DistanceMatrix(np.ascontiguousarray(D), name, symmetric)
