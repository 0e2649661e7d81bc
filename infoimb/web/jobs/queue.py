"""The server-wide job cap: at most ``INFOIMB_MAX_JOBS`` analyses run at once; the rest wait.

A slot is an exclusive ``flock`` on one of ``max_jobs`` files under
``<INFOIMB_CACHE_DIR>/server-jobs/`` (shared by every web worker and every job process on the
machine): the kernel releases it when its process ends, even when it is killed. Waiting jobs
hold a ticket in ``queue/`` named by their arrival time; a job takes a free slot only when no
live ticket is ahead of it (first come, first served), and meanwhile reports its position
("2 analyses ahead of yours") through the job's progress.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

__all__ = ["queue_label", "server_slot", "slots"]

POLL = 0.25  # seconds between two looks at the slots while waiting


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def queue_label(ahead: int) -> str:
    """What the progress bar says while a job waits."""
    if ahead <= 0:
        return "queued: yours is next, waiting for a free slot on the server"
    return f"queued: {ahead} {'analysis' if ahead == 1 else 'analyses'} ahead of yours"


def _tickets_ahead(queue: Path, mine: str) -> int:
    host = socket.gethostname()
    ahead = 0
    for t in queue.iterdir():
        if t.name >= mine:
            continue
        parts = t.name.split("-", 2)
        if len(parts) >= 3 and parts[2] == host and parts[1].isdigit() and not _alive(int(parts[1])):
            t.unlink(missing_ok=True)  # a waiting job that was killed
            continue
        ahead += 1
    return ahead


def _try_slot(root: Path, max_jobs: int):
    for i in range(max_jobs):
        fd = os.open(root / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


def slots(root: Path, max_jobs: int) -> int:
    """How many of the ``max_jobs`` slots are taken now (for tests and /healthz)."""
    taken = 0
    for i in range(max_jobs):
        path = root / f"slot-{i}"
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            taken += 1
        finally:
            os.close(fd)
    return taken


@contextmanager
def server_slot(report: Callable[[dict], object] | None = None, *, root: Path | None = None,
                max_jobs: int | None = None, stop: Callable[[], bool] | None = None):
    """Hold one of the server's job slots for the ``with`` block; wait (first come, first
    served) while all are taken, reporting the queue position through ``report``."""
    if root is None or max_jobs is None:
        from .. import runtime

        settings = runtime.get_settings()
        root = settings.cache_dir / "server-jobs" if root is None else root
        max_jobs = settings.job_slots if max_jobs is None else max_jobs
    queue = root / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    ticket = queue / f"{time.time_ns():020d}-{os.getpid()}-{socket.gethostname()}"
    ticket.touch()
    fd = None
    last = None
    try:
        while True:
            ahead = _tickets_ahead(queue, ticket.name)
            if ahead == 0:
                fd = _try_slot(root, max_jobs)
                if fd is not None:
                    break
            if report is not None and ahead != last:
                report({"value": 0, "label": queue_label(ahead), "queued": ahead})
                last = ahead
            if stop is not None and stop():
                raise TimeoutError("stopped while waiting for a free slot on the server")
            time.sleep(POLL)
    finally:
        ticket.unlink(missing_ok=True)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
