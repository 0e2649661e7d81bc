"""Process-wide runtime of the dashboard: its settings, its store handle, numba warm-up.

``app.create_app`` calls :func:`configure` once; callbacks (in the web process and in the
background jobs forked from it, or Celery workers that import ``app``) reach the settings and
the session store through :func:`get_settings` and :func:`get_store`. These hold *no user
data*: the store is a handle on the shared directory.
"""

from __future__ import annotations

import logging
import os
import time

from .config import Settings
from .store import SessionStore

log = logging.getLogger(__name__)

_state: dict = {}


def configure(settings: Settings) -> None:
    settings.ensure_dirs()
    _state["settings"] = settings
    _state["store"] = SessionStore(settings.sessions_dir)


def get_settings() -> Settings:
    if "settings" not in _state:
        configure(Settings.from_env())
    return _state["settings"]


def get_store() -> SessionStore:
    if "store" not in _state:
        configure(Settings.from_env())
    return _state["store"]


def expire_idle_sessions(min_interval: float = 60.0) -> list[str]:
    """Remove sessions idle for longer than INFOIMB_SESSION_TTL, at most once every
    ``min_interval`` seconds (or half the TTL, if shorter) in this process; their ids."""
    settings = get_settings()
    now = time.monotonic()
    if now - _state.get("swept", float("-inf")) < min(min_interval, settings.empty_session_ttl / 2):
        return []
    _state["swept"] = now
    try:
        removed = get_store().expire(settings.session_ttl, empty_ttl=settings.empty_session_ttl)
    except OSError as err:  # another process removing the same folders
        log.warning("expiring idle sessions: %s", err)
        return []
    if removed:
        log.info("expired %d idle session(s)", len(removed))
    return removed


def use_forksafe_numba() -> None:
    """Make numba pick a fork-safe threading layer (workqueue, or TBB when installed).

    Background jobs are forked from the web process after the kernels were warmed there; GNU
    OpenMP aborts a forked child ("fork() called from a process already using GNU OpenMP").
    Must run before numba first launches its threads; the environment variable covers
    processes that import numba later.
    """
    os.environ.setdefault("NUMBA_THREADING_LAYER", "forksafe")
    try:
        import numba
        from numba.np.ufunc import parallel
    except ImportError:  # pragma: no cover
        return
    if not parallel._is_initialized:
        numba.config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]


def warm_numba() -> float:
    """Compile (or load from numba's disk cache) every kernel in this process, once.

    Uses ``infoimb.warmup()`` when the package has it, else one tiny ``imbalance_pair`` per
    metric and a ``rank_samples``. Returns the seconds it took (0 when already warm).
    """
    if _state.get("warm"):
        return 0.0
    use_forksafe_numba()
    t0 = time.perf_counter()
    import numpy as np

    import infoimb
    from infoimb.imbalance import imbalance_pair, rank_samples

    if hasattr(infoimb, "warmup"):
        infoimb.warmup()
    else:  # pragma: no cover - the package has warmup() now
        X = np.random.default_rng(0).normal(size=(12, 2))
        for metric in ("euclidean", "manhattan", "chebyshev"):
            imbalance_pair(X, X[:, :1], metric=metric)
    X = np.random.default_rng(0).normal(size=(12, 2))
    rank_samples(X, X[:, :1], n_queries=6, n_scatter=2, n_partners=3, random_state=0)
    try:  # the engine's rates for the cost estimates under Run: measured once per machine, cached
        from infoimb.cost import engine_rate

        engine_rate()
    except Exception:  # noqa: BLE001 - the estimates then measure it on first use
        log.warning("could not measure the engine's rate for the cost estimates", exc_info=True)
    _state["warm"] = True
    dt = time.perf_counter() - t0
    try:
        from numba import threading_layer

        layer = threading_layer()
    except Exception:  # noqa: BLE001
        layer = "?"
    _state["threading_layer"] = layer
    log.info("numba kernels warm in %.2f s (threading layer %s)", dt, layer)
    return dt


def threading_layer() -> str | None:
    return _state.get("threading_layer")


def session_meta(info) -> dict | None:
    """The metadata of the table of this request's session, or None (``info``: the dataset
    store; empty when nothing is loaded)."""
    from .sessions import current_sid
    from .store import InvalidSession

    if not info:
        return None
    try:
        return get_store().get_meta(current_sid())
    except InvalidSession:
        return None


def session_frame():
    """The table of this request's session, or None."""
    from .sessions import current_sid

    try:
        return get_store().get_dataset(current_sid())
    except Exception:  # noqa: BLE001 - no table: no entity values
        return None
