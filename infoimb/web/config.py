"""The dashboard's settings, read once from environment variables.

=============================  ===================================  =====================================
variable                       default                              meaning
=============================  ===================================  =====================================
INFOIMB_CACHE_DIR              ``$XDG_CACHE_HOME/infoimb`` or       ONE directory shared by every web
                               ``~/.cache/infoimb``                 worker (and, later, every Celery
                                                                    worker): background-job cache in
                                                                    ``jobs/``, per-session data and
                                                                    results in ``sessions/``
INFOIMB_MAX_UPLOAD_MB          50                                   largest upload, in MB (shown beside
                                                                    the upload control)
INFOIMB_MAX_COLUMNS            2000                                 most columns in a table
INFOIMB_MAX_CELLS              20000000                             most points x features one
                                                                    analysis may use
INFOIMB_MAX_MATRIX_MB          512                                  memory one uploaded N x N distance
                                                                    matrix may take (8 N² bytes)
INFOIMB_MAX_SUBSETS            5000                                 most subsets / pairs one analysis
                                                                    may evaluate
INFOIMB_JOB_TIMEOUT            900                                  seconds after which a background
                                                                    job is stopped with a message
INFOIMB_SESSION_TTL            86400                                seconds a session's data and
                                                                    results are kept after its last use
INFOIMB_EMPTY_SESSION_TTL      600                                  seconds a session that stores no
                                                                    table is kept
INFOIMB_NEW_SESSIONS_PER_MINUTE 30                                  new browser sessions one client
                                                                    address may start a minute (per
                                                                    web worker); more get 429
INFOIMB_MAX_JOBS               the number of cores                  analyses running at once on this
                                                                    server; more wait in a queue and
                                                                    the page shows their position
INFOIMB_SECRET_KEY             (unset: made once, kept in           the secret that signs the session
                               ``<INFOIMB_CACHE_DIR>/secret_key``)  cookie and Dash's job requests
INFOIMB_MAX_JOBS_PER_SESSION   2                                    analyses one browser session may
                                                                    run (with Celery: run or queue) at
                                                                    the same time
REDIS_URL                      (unset)                              set: Celery + Redis run the jobs
                                                                    (see ``app.make_background_manager``)
INFOIMB_WORKER_LOST_AFTER      30                                   with Celery: seconds without a
                                                                    heartbeat after which a running job's
                                                                    worker counts as dead and the page
                                                                    says so
INFOIMB_SUBSAMPLE_ABOVE        30                                   seconds: an exact run estimated
                                                                    longer gets the subsampled estimator
                                                                    proposed under Run (one click)
HOST, PORT                     127.0.0.1, 8050                      where ``python app.py`` listens
=============================  ===================================  =====================================

An invalid value stops the app at start-up with a :class:`ConfigError` naming the variable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

__all__ = ["ConfigError", "Settings", "default_cache_dir"]


class ConfigError(ValueError):
    """An environment variable holds a value the app cannot use."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "infoimb"


def _number(env: Mapping[str, str], name: str, default, kind, minimum):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {'whole number' if kind is int else 'number'}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} must be finite")
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    """What the dashboard needs to know about its deployment (see the module docstring)."""

    cache_dir: Path
    max_upload_mb: float = 50.0
    max_columns: int = 2000
    max_cells: int = 20_000_000
    max_subsets: int = 5000
    job_timeout: float = 900.0
    session_ttl: float = 86400.0
    max_jobs_per_session: int = 2
    empty_session_ttl: float = 600.0
    new_sessions_per_minute: int = 30
    max_jobs: int = 0  # 0: the number of cores (from_env fills it in)
    secret_key: str | None = field(default=None, repr=False)
    redis_url: str | None = None
    worker_lost_after: float = 30.0
    host: str = "127.0.0.1"
    port: int = 8050
    max_matrix_mb: float = 512.0  # one uploaded distance matrix in memory (INFOIMB_MAX_MATRIX_MB)
    subsample_above: float = 30.0  # s: above, the subsampled estimator is proposed (INFOIMB_SUBSAMPLE_ABOVE)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_matrix_bytes(self) -> int:
        """The memory one uploaded distance matrix may take (float64: N <= ~8 200 at 512 MB)."""
        return int(self.max_matrix_mb * 1024 * 1024)

    @property
    def jobs_dir(self) -> Path:
        return self.cache_dir / "jobs"

    @property
    def sessions_dir(self) -> Path:
        return self.cache_dir / "sessions"

    def replace(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default ``os.environ``); raise ConfigError."""
        env = os.environ if environ is None else environ
        cache = env.get("INFOIMB_CACHE_DIR", "").strip()
        cache_dir = Path(cache).expanduser() if cache else default_cache_dir()
        redis_url = env.get("REDIS_URL", "").strip() or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"REDIS_URL={redis_url!r} must start with redis://, rediss:// or unix://")
        host = env.get("HOST", "").strip() or cls.host
        port = _number(env, "PORT", cls.port, int, 1)
        if port > 65535:
            raise ConfigError(f"PORT={port} must be at most 65535")
        return cls(
            cache_dir=cache_dir,
            max_upload_mb=_number(env, "INFOIMB_MAX_UPLOAD_MB", cls.max_upload_mb, float, 0.001),
            max_columns=_number(env, "INFOIMB_MAX_COLUMNS", cls.max_columns, int, 2),
            max_cells=_number(env, "INFOIMB_MAX_CELLS", cls.max_cells, int, 1),
            max_matrix_mb=_number(env, "INFOIMB_MAX_MATRIX_MB", cls.max_matrix_mb, float, 0.001),
            max_subsets=_number(env, "INFOIMB_MAX_SUBSETS", cls.max_subsets, int, 1),
            job_timeout=_number(env, "INFOIMB_JOB_TIMEOUT", cls.job_timeout, float, 1.0),
            session_ttl=_number(env, "INFOIMB_SESSION_TTL", cls.session_ttl, float, 1.0),
            max_jobs_per_session=_number(env, "INFOIMB_MAX_JOBS_PER_SESSION", cls.max_jobs_per_session, int, 1),
            empty_session_ttl=_number(env, "INFOIMB_EMPTY_SESSION_TTL", cls.empty_session_ttl, float, 1.0),
            new_sessions_per_minute=_number(env, "INFOIMB_NEW_SESSIONS_PER_MINUTE", cls.new_sessions_per_minute,
                                            int, 1),
            max_jobs=_number(env, "INFOIMB_MAX_JOBS", os.cpu_count() or 1, int, 1),
            secret_key=env.get("INFOIMB_SECRET_KEY", "").strip() or None,
            redis_url=redis_url,
            worker_lost_after=_number(env, "INFOIMB_WORKER_LOST_AFTER", cls.worker_lost_after, float, 1.0),
            host=host,
            port=port,
            subsample_above=_number(env, "INFOIMB_SUBSAMPLE_ABOVE", cls.subsample_above, float, 0.001),
        )

    def signing_secret(self) -> str:
        """INFOIMB_SECRET_KEY, or a random secret made once and kept (mode 0600) in the cache
        directory, so that every web worker and job process signs with the same one."""
        if self.secret_key:
            return self.secret_key
        import secrets

        path = self.cache_dir / "secret_key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):  # another process is writing it
                text = path.read_text().strip()
                if text:
                    return text
                import time

                time.sleep(0.02)
            raise ConfigError(f"INFOIMB_CACHE_DIR: {path} is empty; remove it or set INFOIMB_SECRET_KEY")
        with os.fdopen(fd, "w") as f:
            secret = secrets.token_hex(32)
            f.write(secret)
        return secret

    @property
    def job_slots(self) -> int:
        """INFOIMB_MAX_JOBS (the number of cores when not set)."""
        return self.max_jobs or os.cpu_count() or 1

    def ensure_dirs(self) -> None:
        """Create the shared directories, or raise ConfigError if that is impossible."""
        for d in (self.cache_dir, self.jobs_dir, self.sessions_dir):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise ConfigError(f"INFOIMB_CACHE_DIR: cannot create {d} ({err.strerror})") from None
        if not os.access(self.cache_dir, os.W_OK):
            raise ConfigError(f"INFOIMB_CACHE_DIR: {self.cache_dir} is not writable")


SETTING_NAMES = tuple(f.name for f in fields(Settings))
