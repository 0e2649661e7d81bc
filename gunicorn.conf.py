"""gunicorn settings of the infoimb dashboard: ``gunicorn -c gunicorn.conf.py app:server``.

Environment (besides the app's own INFOIMB_* variables and REDIS_URL, see README):

=================  ============  ===========================================================
variable           default       meaning
=================  ============  ===========================================================
HOST, PORT         127.0.0.1,    where gunicorn listens (the Docker image sets HOST=0.0.0.0)
                   8050
WEB_CONCURRENCY    2             web worker processes
WEB_THREADS        4 with        threads per web worker (Dash's polls are short requests);
                   REDIS_URL,    1 means gunicorn's plain sync worker
                   else 1
WEB_TIMEOUT        120           seconds a request may take before its worker is restarted
=================  ============  ===========================================================

Without REDIS_URL the background jobs are *forked from the web worker* (Dash's
DiskcacheManager), and forking a process that runs other threads can leave the child stuck on
a lock one of those threads held (seen here: one job in a few dozen hung with 4 threads per
worker, under 8 sessions at once). So the embedded manager gets single-threaded workers by
default; with Celery the web workers never fork and use threads.

The app is imported once in the master (``preload_app``): the numba kernels are compiled or
loaded from their disk cache there, and the workers (and the job processes forked from them
by the embedded DiskcacheManager) inherit them. Each worker then requests /healthz from
itself through the WSGI app before it serves anyone, so Dash's first-request set-up is done
before concurrent first page loads arrive (dash issue 3971). Background jobs must share one
cache directory (INFOIMB_CACHE_DIR) between the workers; the app makes sure of it.
"""

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise SystemExit(f"{name}={raw!r} must be at least 1")
    return value


bind = f"{os.environ.get('HOST', '').strip() or '127.0.0.1'}:{_int('PORT', 8050)}"
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("WEB_THREADS", 4 if os.environ.get("REDIS_URL", "").strip() else 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("WEB_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
preload_app = True
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOGLEVEL", "info").lower()


def post_worker_init(worker):
    """Warm this worker: one /healthz request through its own WSGI app (no network)."""
    try:
        response = worker.wsgi.test_client().get("/healthz")
        worker.log.info("worker %s warm: /healthz %s", worker.pid, response.status_code)
    except Exception as err:  # noqa: BLE001 - a failed warm-up must not stop the worker
        worker.log.warning("worker %s warm-up failed: %s", worker.pid, err)
