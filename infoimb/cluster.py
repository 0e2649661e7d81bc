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
  (``n_queries * N >= SHARD_MIN_WORK``).

The data go to the workers once per analysis (``client.scatter(..., broadcast=True)``), the
tasks carry only small items (subsets, a lag, an alpha, a block of query indices). All
randomness (query samples, random baselines, dummy features) is drawn on the client exactly
as in the local run, so results are identical to the local run (same numbers). Progress is
reported as tasks complete; a progress callback that raises cancels the outstanding tasks and
the exception propagates. A worker that dies has its tasks rerun on the others (Dask's
scheduler); if no worker is left, or a task keeps killing workers, the analysis stops with a
RuntimeError that says so. Nothing here is imported, and no Dask process is contacted, on the
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
# how long the cluster may be without any worker before an analysis gives up (seconds)
NO_WORKER_TIMEOUT = 60.0


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
        futures = [self.client.submit(fn, shared, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list = [None] * len(items)
        pending = as_completed(futures, loop=self.client.loop)
        done_count = 0
        idle_since = None
        checked = time.monotonic()
        try:
            while not pending.is_empty():
                finished = pending.next_batch(block=False)
                if not finished:
                    time.sleep(0.005)
                    if time.monotonic() - checked < 1.0:
                        continue
                    checked = time.monotonic()
                    if not self.client.scheduler_info().get("workers"):
                        idle_since = idle_since or time.monotonic()
                        if time.monotonic() - idle_since > NO_WORKER_TIMEOUT:
                            raise RuntimeError(
                                f"the Dask cluster has had no worker for {NO_WORKER_TIMEOUT:.0f} s "
                                f"({len(items) - done_count} task(s) of {fn.__name__} left); the "
                                "analysis was stopped")
                    else:
                        idle_since = None
                    continue
                for f in finished:
                    i = index[f.key]
                    try:
                        out[i] = f.result()
                    except FutureCancelledError:
                        raise RuntimeError(f"a task of {fn.__name__} was cancelled on the Dask "
                                           "cluster; the analysis was stopped") from None
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
