"""Running the heavy analyses on a Dask cluster (optional).

With the environment variable ``INFOIMB_DASK_ADDRESS`` set (e.g. ``tcp://scheduler:8786``)
or a ``distributed.Client`` passed as ``client=``, these analyses shard their work onto the
cluster:

* :func:`infoimb.select_features` (and :func:`infoimb.select_lagged`): the candidate subsets
  of each step, in blocks;
* :func:`infoimb.lag_scan`: one task per lag;
* :func:`infoimb.imbalance_gain` / :func:`infoimb.causality_test`: one task per alpha (both
  directions' scans at once);
* :func:`infoimb.imbalance_pair`: blocks of query points, when the work is large
  (``n_queries * N >= SHARD_MIN_WORK``), and blocks of its permutations
  (``n_permutations * N**2 >= SHARD_MIN_WORK``);
* :func:`infoimb.causal_graph`: one task per effect for the pairwise tests (its ordered
  pairs, lags and surrogate batch), then one per effect for the conditioning phase.

The data go to the workers once per analysis (``client.scatter(..., broadcast=True)``), the
tasks carry only small items (subsets, a lag, an alpha, a block of query indices). All
randomness (query samples, random baselines, dummy features) is drawn on the client exactly
as in the local run, so results are identical to the local run (same numbers). Progress is
reported as tasks complete; a progress callback that raises cancels the outstanding tasks and
the exception propagates. A worker that dies has its tasks rerun on the others (Dask's
scheduler); if no worker is left, or a task keeps killing workers, the analysis stops with a
RuntimeError that says so (no worker: after ``INFOIMB_DASK_NO_WORKER_TIMEOUT`` seconds,
default 60; a worker that dies holding the only copy of the analysis's shared data ends
the analysis with a RuntimeError too). Nothing here is imported, and no Dask process is
contacted, on the
local path.

Plugging in another analysis
----------------------------
Write the unit of work as a module-level function ``task(shared, item)`` (importable on the
workers) and run::

    with get_executor(client) as ex:
        if ex.local:
            ...                                       # the unchanged local loop
        else:
            shared = ex.share(big_arrays)             # once per analysis
            results = ex.map(task, items, shared=shared, progress=progress,
                             message=lambda item, res: f"{item} done")

``results`` is in the order of ``items``. Permutation nulls and surrogates fit as they are:
draw the permutations / shifts on the client (the random stream of the local run), make each
item a block of them, and let ``task`` compute the statistics of its block.

Examples
--------
>>> with get_executor() as ex:      # no INFOIMB_DASK_ADDRESS, no client: the local executor
...     ex.local
True
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

ENV_ADDRESS = "INFOIMB_DASK_ADDRESS"
# imbalance_pair shards its queries only above this much work (query points x points):
# below it, one machine answers in about a second and the round trips would dominate.
SHARD_MIN_WORK = 4 * 10**9
# how long the cluster may be without any worker before an analysis gives up (seconds);
# INFOIMB_DASK_NO_WORKER_TIMEOUT overrides it
NO_WORKER_TIMEOUT = 60.0
ENV_NO_WORKER_TIMEOUT = "INFOIMB_DASK_NO_WORKER_TIMEOUT"


def no_worker_timeout() -> float:
    """Seconds an analysis waits for a worker when the cluster has none:
    ``$INFOIMB_DASK_NO_WORKER_TIMEOUT`` when set (a positive number), else
    :data:`NO_WORKER_TIMEOUT` (60 s)."""
    raw = os.environ.get(ENV_NO_WORKER_TIMEOUT, "").strip()
    if not raw:
        return float(NO_WORKER_TIMEOUT)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{ENV_NO_WORKER_TIMEOUT} must be a positive number of seconds, "
                         f"got {raw!r}")
    return value


class LocalExecutor:
    """The local path: :meth:`map` runs the tasks here, in order."""

    local = True
    n_workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def share(self, data):
        return data

    def map(self, fn: Callable, items: Sequence, *, shared=None, progress=None,
            message: Callable[[Any, Any], str] | None = None, start: float = 0.0,
            width: float = 1.0) -> list:
        out = []
        for done, item in enumerate(items, 1):
            res = fn(shared, item)
            out.append(res)
            if progress is not None:
                progress(min(1.0, start + width * done / len(items)),
                         message(item, res) if message else f"{done}/{len(items)} tasks")
        return out


class DaskExecutor:
    """Tasks on a Dask cluster through a ``distributed.Client``.

    ``own_client``: the executor connected the client itself (from ``INFOIMB_DASK_ADDRESS``)
    and closes it on exit; a client passed in by the caller is left open.
    """

    local = False

    def __init__(self, client, own_client: bool = False):
        self.client = client
        self.own_client = own_client
        self._shared: list = []

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self._shared:
                self.client.cancel(self._shared, force=True)
        except Exception:  # the cluster may be gone; nothing to release then
            pass
        self._shared = []
        if self.own_client:
            self.client.close()
        return False

    def share(self, data):
        """Send ``data`` to every worker once; returns a future the tasks take."""
        fut = self.client.scatter(data, broadcast=True, hash=False)
        self._shared.append(fut)
        return fut

    def map(self, fn: Callable, items: Sequence, *, shared=None, progress=None,
            message: Callable[[Any, Any], str] | None = None, start: float = 0.0,
            width: float = 1.0) -> list:
        from distributed import as_completed
        from distributed.client import FutureCancelledError

        items = list(items)
        timeout = no_worker_timeout()
        check_every = min(1.0, timeout / 4)
        futures = [self.client.submit(fn, shared, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list = [None] * len(items)
        pending = as_completed(futures, loop=self.client.loop)
        done_count = 0
        state = {"idle_since": None, "checked": time.monotonic()}

        def check_workers():
            """Raise once the cluster has had no worker for ``timeout`` seconds."""
            if time.monotonic() - state["checked"] < check_every:
                return
            state["checked"] = time.monotonic()
            if self.client.scheduler_info().get("workers"):
                state["idle_since"] = None
                return
            state["idle_since"] = state["idle_since"] or time.monotonic()
            if time.monotonic() - state["idle_since"] > timeout:
                raise RuntimeError(
                    f"the Dask cluster has had no worker for {timeout:g} s "
                    f"({len(items) - done_count} task(s) of {fn.__name__} left); the "
                    "analysis was stopped")

        def result(f):
            # a finished task's result lives on its worker: if that worker dies before it is
            # fetched, the task is recomputed, which waits for a worker
            while True:
                try:
                    return f.result(timeout=check_every)
                except TimeoutError:
                    check_workers()

        try:
            while not pending.is_empty():
                finished = pending.next_batch(block=False)
                if not finished:
                    time.sleep(0.005)
                    check_workers()
                    continue
                for f in finished:
                    i = index[f.key]
                    try:
                        out[i] = result(f)
                    except FutureCancelledError as exc:
                        why = getattr(exc, "reason", "unknown")
                        if getattr(exc, "msg", None):
                            why += f": {exc.msg}"
                        raise RuntimeError(
                            f"a task of {fn.__name__} was cancelled on the Dask cluster ({why}; "
                            "a worker that died may have taken the analysis's data with it); "
                            "the analysis was stopped") from None
                    except Exception as exc:
                        if type(exc).__name__ == "KilledWorker":
                            raise RuntimeError(
                                f"a task of {fn.__name__} killed the Dask workers that ran it "
                                f"({exc}); the analysis was stopped") from None
                        raise
                    done_count += 1
                    if progress is not None:
                        progress(min(1.0, start + width * done_count / len(items)),
                                 message(items[i], out[i]) if message
                                 else f"{done_count}/{len(items)} tasks")
        except BaseException:
            self.client.cancel(futures)
            raise
        return out


def _address() -> str | None:
    addr = os.environ.get(ENV_ADDRESS, "").strip()
    return addr or None


def cluster_configured(client=None) -> bool:
    """True when a client is given or ``INFOIMB_DASK_ADDRESS`` is set."""
    return client is not None or _address() is not None


def get_executor(client=None):
    """The executor for an analysis: Dask when ``client`` is given or
    ``INFOIMB_DASK_ADDRESS`` is set, else local (and Dask is not imported).

    Use it as a context manager (a client it connected itself is closed on exit).

    Examples
    --------
    >>> get_executor().local
    True
    """
    if client is not None:
        if not hasattr(client, "submit") or not hasattr(client, "scatter"):
            raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
        return DaskExecutor(client)
    addr = _address()
    if addr is None:
        return LocalExecutor()
    from distributed import Client

    try:
        c = Client(addr, timeout=30, set_as_default=False)
    except OSError as exc:
        raise RuntimeError(f"cannot reach the Dask scheduler at {ENV_ADDRESS}={addr!r}: {exc}") from None
    return DaskExecutor(c, own_client=True)


def blocks(n_items: int, n_blocks: int) -> list[tuple[int, int]]:
    """Split range(n_items) into at most ``n_blocks`` contiguous (start, stop) blocks."""
    n_blocks = max(1, min(n_blocks, n_items))
    edges = [round(i * n_items / n_blocks) for i in range(n_blocks + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n_blocks) if edges[i + 1] > edges[i]]
