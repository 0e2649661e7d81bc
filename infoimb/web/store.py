"""The server-side, per-session store: datasets, their metadata and analysis results.

Everything lives in one shared directory (``Settings.sessions_dir``), so it works across
gunicorn workers and background-job processes (and Celery workers on a shared volume)::

    sessions/<sid>/.last_access        touched on every access (idle expiry)
    sessions/<sid>/data/<hash>.parquet the working table and the original one (for "reset")
    sessions/<sid>/meta.json           filename, content hash, shape, column summary, roles
    sessions/<sid>/results/<hash>/<analysis>/<settings key>.json
    sessions/<sid>/matrices/<hash>.npy uploaded distance matrices (listed in meta.json's
                                       ``matrices``), read with ``allow_pickle=False``
    sessions/<sid>/jobs/slot-<i>       running (or, with Celery, queued) background jobs of the
                                       session; a job with a heartbeat touches its slot

Rules this module enforces:

- Session ids are server-generated ``uuid4().hex`` and are checked against a strict regular
  expression before any path is built; an id whose folder does not exist is not a session.
- A session only ever reads and writes inside its own folder: one session cannot reach
  another's data or results, whatever it sends.
- Writes are atomic (a temporary file in the same folder, then ``os.replace``): a reader sees
  the old file or the new one, never half of one.
- Only Parquet, JSON and plain NPY arrays are written and read; nothing is pickled or executed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import socket
import time
import uuid
from pathlib import Path

import pandas as pd

from .. import _serialize

__all__ = [
    "InvalidSession",
    "NoDataset",
    "SessionStore",
    "TooManyJobs",
    "content_hash",
    "dumps",
    "settings_key",
]

SESSION_RE = re.compile(r"^[0-9a-f]{32}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KEY_RE = re.compile(r"^[0-9a-f]{16,64}$")


class InvalidSession(ValueError):
    """A session id that is malformed, unknown or expired."""


class NoDataset(LookupError):
    """The session has no dataset loaded."""


class TooManyJobs(RuntimeError):
    """The session already runs as many background jobs as it may."""


# --------------------------------------------------------------------------------------
# JSON and hashing helpers
# --------------------------------------------------------------------------------------
def dumps(obj, **kw) -> str:
    """JSON text of ``obj`` (the package's one encoder, :func:`infoimb._serialize.dumps`:
    numpy-aware, NaN and infinities become null)."""
    return _serialize.dumps(obj, **kw)


def settings_key(settings: dict) -> str:
    """A stable hash of an analysis's settings (key order does not matter)."""
    text = _serialize.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def content_hash(df: pd.DataFrame) -> str:
    """A hash of a table's content: column names, dtypes and every value (not the index)."""
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in df.columns]).encode())
    h.update(json.dumps([str(t) for t in df.dtypes]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:32]


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        import psutil

        p = psutil.Process(pid)
        return p.status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


# --------------------------------------------------------------------------------------
# the store
# --------------------------------------------------------------------------------------
class SessionStore:
    """Per-session datasets and results under ``root`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    # ---- sessions -------------------------------------------------------------------
    def new_session(self) -> str:
        sid = uuid.uuid4().hex
        d = self.root / sid
        d.mkdir(parents=True, exist_ok=False)
        (d / ".last_access").touch()
        return sid

    def open_session(self, sid) -> Path:
        """The folder of session ``sid``, created if it does not exist yet (a session stores
        nothing until it loads a table); InvalidSession for a malformed id."""
        if not isinstance(sid, str) or not SESSION_RE.fullmatch(sid):
            raise InvalidSession("invalid session id")
        d = self.root / sid
        if not d.is_dir():
            d.mkdir(parents=True, exist_ok=True)
            (d / ".last_access").touch()
        return d

    def _dir(self, sid) -> Path:
        """The folder of an existing session; InvalidSession for anything else."""
        if not isinstance(sid, str) or not SESSION_RE.fullmatch(sid):
            raise InvalidSession("invalid session id")
        d = self.root / sid
        if not d.is_dir():
            raise InvalidSession("unknown or expired session")
        return d

    def exists(self, sid) -> bool:
        try:
            self._dir(sid)
            return True
        except InvalidSession:
            return False

    def touch(self, sid) -> None:
        d = self._dir(sid)
        marker = d / ".last_access"
        try:
            os.utime(marker)
        except FileNotFoundError:
            marker.touch()

    def last_access(self, sid) -> float:
        d = self._dir(sid)
        try:
            return (d / ".last_access").stat().st_mtime
        except FileNotFoundError:
            return d.stat().st_mtime

    def expire(self, ttl: float, now: float | None = None, *, empty_ttl: float | None = None) -> list[str]:
        """Remove sessions idle for more than ``ttl`` seconds, and sessions without a table
        idle for more than ``empty_ttl`` (default: ``ttl``); return their ids."""
        empty_ttl = ttl if empty_ttl is None else min(ttl, empty_ttl)
        now = time.time() if now is None else now
        removed = []
        for d in self.root.iterdir():
            if not d.is_dir() or not SESSION_RE.fullmatch(d.name):
                continue
            try:
                last = (d / ".last_access").stat().st_mtime
            except FileNotFoundError:
                try:
                    last = d.stat().st_mtime
                except FileNotFoundError:
                    continue
            limit = ttl if (d / "meta.json").exists() else empty_ttl
            if now - last > limit:
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d.name)
        return removed

    def delete_session(self, sid) -> None:
        shutil.rmtree(self._dir(sid), ignore_errors=True)

    # ---- datasets -------------------------------------------------------------------
    def put_dataset(self, sid, df: pd.DataFrame, meta: dict, *, original: bool = True) -> dict:
        """Store ``df`` as the session's working table; ``original=True`` also makes it the
        table "reset" returns to (uploads and examples), False for derived tables.

        The table is written as ``data/<content hash>.parquet`` and then ``meta.json`` (with
        ``content_hash``, ``n_rows``, ``n_cols``, ``columns`` added) is replaced atomically, so
        a reader always finds the table its metadata names. Old results stay: they are keyed
        by content hash.
        """
        d = self._dir(sid)
        df = df.reset_index(drop=True)
        df.columns = [str(c) for c in df.columns]
        h = content_hash(df)
        data_dir = d / "data"
        data_dir.mkdir(exist_ok=True)
        path = data_dir / f"{h}.parquet"
        if not path.exists():
            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            _atomic_write(path, buf.getvalue())
        old = self.get_meta(sid) or {}
        meta = dict(meta)
        if old.get("matrices") and "matrices" not in meta:
            meta["matrices"] = old["matrices"]  # uploaded distance matrices outlive a table change
        meta.update(content_hash=h, n_rows=int(df.shape[0]), n_cols=int(df.shape[1]),
                    columns=list(df.columns), stored_at=time.time())
        if original or not old.get("original"):
            meta["original"] = {k: meta.get(k) for k in ("filename", "content_hash", "n_rows", "n_cols")}
        else:
            meta["original"] = old["original"]
        _atomic_write(d / "meta.json", dumps(meta).encode())
        keep = {h, meta["original"]["content_hash"]}
        for f in data_dir.glob("*.parquet"):
            if f.stem not in keep:
                f.unlink(missing_ok=True)
        self.touch(sid)
        return meta

    def get_meta(self, sid) -> dict | None:
        d = self._dir(sid)
        try:
            meta = json.loads((d / "meta.json").read_text())
        except FileNotFoundError:
            return None
        self.touch(sid)
        return meta

    def update_meta(self, sid, **changes) -> dict:
        """Change fields of the stored metadata (e.g. roles) atomically."""
        d = self._dir(sid)
        meta = self.get_meta(sid)
        if meta is None:
            raise NoDataset("no dataset loaded")
        meta.update(changes)
        _atomic_write(d / "meta.json", dumps(meta).encode())
        return meta

    def get_dataset(self, sid, *, original: bool = False, meta: dict | None = None) -> pd.DataFrame:
        """The working table (or the original one) named by the session's metadata."""
        d = self._dir(sid)
        meta = meta if meta is not None else self.get_meta(sid)
        if not meta:
            raise NoDataset("no dataset loaded: upload a file or pick an example on the Data page")
        h = meta["original"]["content_hash"] if original else meta["content_hash"]
        if not (isinstance(h, str) and KEY_RE.fullmatch(h)):
            raise NoDataset("the stored dataset metadata is damaged; load the data again")
        path = d / "data" / f"{h}.parquet"
        try:
            df = pd.read_parquet(path)
        except FileNotFoundError:
            raise NoDataset("the dataset changed meanwhile; run the analysis again") from None
        self.touch(sid)
        return df

    # ---- distance matrices ----------------------------------------------------------
    def put_matrix(self, sid, D, info: dict) -> dict:
        """Store a checked N x N distance matrix ``D`` as ``matrices/<hash>.npy`` and list it
        in the metadata (``meta["matrices"]``: ``info`` plus ``id``, its content hash). A matrix
        already stored (same content) replaces its entry. Needs a table (NoDataset)."""
        import numpy as np

        d = self._dir(sid)
        meta = self.get_meta(sid)
        if meta is None:
            raise NoDataset("load a table first: a distance matrix belongs to a table's rows")
        D = np.ascontiguousarray(D)
        h = hashlib.sha256()
        h.update(f"{D.dtype.str}{D.shape}".encode())
        h.update(D.tobytes())
        mid = h.hexdigest()[:32]
        folder = d / "matrices"
        folder.mkdir(exist_ok=True)
        path = folder / f"{mid}.npy"
        if not path.exists():
            buf = io.BytesIO()
            np.save(buf, D, allow_pickle=False)
            _atomic_write(path, buf.getvalue())
        entry = dict(info, id=mid)
        entries = [m for m in meta.get("matrices") or [] if m.get("id") != mid]
        self.update_meta(sid, matrices=entries + [entry])
        return entry

    def get_matrix(self, sid, mid: str, *, mmap: bool = False):
        """The stored matrix ``mid`` of session ``sid`` (NoDataset if it is not there)."""
        import numpy as np

        d = self._dir(sid)
        if not (isinstance(mid, str) and KEY_RE.fullmatch(mid)):
            raise NoDataset("invalid distance matrix id")
        try:
            D = np.load(d / "matrices" / f"{mid}.npy", allow_pickle=False, mmap_mode="r" if mmap else None)
        except FileNotFoundError:
            raise NoDataset("the distance matrix is no longer stored: upload it again on the Data page") from None
        self.touch(sid)
        return D

    def remove_matrices(self, sid, ids=None) -> list:
        """Forget the matrices ``ids`` (all when None); their files are deleted."""
        d = self._dir(sid)
        meta = self.get_meta(sid) or {}
        entries = meta.get("matrices") or []
        drop = {m.get("id") for m in entries} if ids is None else set(ids)
        keep = [m for m in entries if m.get("id") not in drop]
        for mid in drop:
            if isinstance(mid, str) and KEY_RE.fullmatch(mid):
                (d / "matrices" / f"{mid}.npy").unlink(missing_ok=True)
        if meta:
            self.update_meta(sid, matrices=keep)
        return keep

    def clear_dataset(self, sid) -> None:
        d = self._dir(sid)
        (d / "meta.json").unlink(missing_ok=True)
        shutil.rmtree(d / "data", ignore_errors=True)

    # ---- results --------------------------------------------------------------------
    def _result_path(self, sid, data_hash: str, analysis: str, key: str) -> Path:
        d = self._dir(sid)
        if not (isinstance(data_hash, str) and KEY_RE.fullmatch(data_hash)):
            raise ValueError("invalid content hash")
        if not (isinstance(analysis, str) and NAME_RE.fullmatch(analysis)):
            raise ValueError("invalid analysis name")
        if not (isinstance(key, str) and KEY_RE.fullmatch(key)):
            raise ValueError("invalid settings key")
        return d / "results" / data_hash / analysis / f"{key}.json"

    def put_result(self, sid, data_hash: str, analysis: str, key: str, record: dict) -> bool:
        """Store a result record; False (nothing written) if the session expired meanwhile."""
        try:
            path = self._result_path(sid, data_hash, analysis, key)
        except InvalidSession:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, dumps(record).encode())
        return True

    def get_result(self, sid, data_hash: str, analysis: str, key: str) -> dict | None:
        path = self._result_path(sid, data_hash, analysis, key)
        try:
            record = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        self.touch(sid)
        return record

    # ---- running jobs ---------------------------------------------------------------
    def start_job(self, sid, *, max_jobs: int, job_timeout: float, job: str | None = None,
                  heartbeat: float | None = None) -> Path:
        """Claim one of the session's ``max_jobs`` job slots (atomically) for this process.

        ``job`` names the job holding the slot (a Celery task id: the slot is then claimed by
        the web process when the job is queued, and released by whoever sees the job end);
        ``heartbeat`` (seconds) says the job will touch its slot (:meth:`beat`) at least that
        often once it runs. Slots of dead processes, of jobs whose heartbeat stopped, or older
        than the job timeout are reclaimed. Raises TooManyJobs when every slot is held by a
        live job.
        """
        d = self._dir(sid) / "jobs"
        d.mkdir(exist_ok=True)
        host = socket.gethostname()
        now = time.time()
        record = {"pid": os.getpid(), "host": host, "started": now}
        if job is not None:
            record.update(job=str(job), pid=None, heartbeat=heartbeat)
        for attempt in range(2):
            for i in range(max_jobs):
                slot = d / f"slot-{i}"
                try:
                    fd = os.open(slot, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                except FileExistsError:
                    if attempt == 0 and self._stale(slot, host, now, job_timeout):
                        slot.unlink(missing_ok=True)
                    continue
                with os.fdopen(fd, "w") as f:
                    json.dump(record, f)
                return slot
        raise TooManyJobs(f"this session already runs {max_jobs} analyses; wait for one to finish "
                          "or cancel it")

    @staticmethod
    def _stale(slot: Path, host: str, now: float, job_timeout: float) -> bool:
        try:
            info = json.loads(slot.read_text())
            beat = slot.stat().st_mtime
        except (FileNotFoundError, ValueError):
            return True
        if now - float(info.get("started", 0)) > job_timeout + 60:
            return True
        if info.get("heartbeat") and info.get("running") and now - beat > float(info["heartbeat"]):
            return True  # the job started and its heartbeat stopped: its worker died
        if info.get("pid") is None:
            return False
        return info.get("host") == host and not _pid_alive(int(info.get("pid", 0)))

    def job_slot(self, sid, name) -> Path:
        """The path of the session's slot ``name`` (``slot-<i>``); InvalidSession / ValueError."""
        if not (isinstance(name, str) and re.fullmatch(r"slot-[0-9]{1,4}", name)):
            raise ValueError("invalid job slot")
        return self._dir(sid) / "jobs" / name

    @staticmethod
    def _slot_owner(slot: Path) -> dict | None:
        try:
            return json.loads(slot.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def job_running(self, slot: Path, job: str) -> bool:
        """Mark the slot of ``job`` as running (its heartbeat counts from now); False when the
        slot is no longer the job's (reclaimed, or released because the job was given up)."""
        info = self._slot_owner(slot)
        if info is None or info.get("job") != job:
            return False
        info["running"] = time.time()
        try:
            _atomic_write(slot, json.dumps(info).encode())
        except FileNotFoundError:
            return False
        return True

    @staticmethod
    def beat(slot: Path) -> None:
        """The job holding ``slot`` is alive."""
        try:
            os.utime(slot)
        except FileNotFoundError:
            pass

    @classmethod
    def end_job(cls, slot: Path, job: str | None = None) -> None:
        """Release ``slot``; with ``job``, only while that job still holds it."""
        if job is not None:
            info = cls._slot_owner(slot)
            if info is None or info.get("job") != job:
                return
        slot.unlink(missing_ok=True)
