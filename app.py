"""The infoimb dashboard: ``python app.py`` serves it at http://127.0.0.1:8050.

Configuration comes from environment variables (see ``infoimb/web/config.py``). Background
jobs run in processes forked from this one (``DiskcacheManager`` on one shared cache
directory), or in Celery workers when ``REDIS_URL`` is set (see
:func:`make_background_manager`).

Deployment: ``gunicorn -c gunicorn.conf.py app:server`` (workers and threads from the
environment, app preloaded, each worker warmed through /healthz); with ``REDIS_URL`` set, the
workers run ``celery -A app:celery_app worker --loglevel=INFO --concurrency=1``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from infoimb.web import runtime

# Before numba starts its threads: jobs are forked from this process (see runtime).
runtime.use_forksafe_numba()

import dash  # noqa: E402
import flask  # noqa: E402

import infoimb  # noqa: E402
from infoimb.web.config import Settings  # noqa: E402

HERE = Path(__file__).resolve().parent
log = logging.getLogger("infoimb.app")

_started = time.time()
_app: dash.Dash | None = None

#: The Celery app when REDIS_URL is set (``celery -A app:celery_app worker``), else None.
celery_app = None


def make_background_manager(settings: Settings):
    """The background-callback manager.

    Default: ``DiskcacheManager`` on ``<INFOIMB_CACHE_DIR>/jobs`` — one explicit directory shared
    by every web worker (each process making its own temporary cache makes polls land on the
    wrong worker and jobs hang).
    """
    if settings.redis_url:
        # Celery workers fed through Redis. A worker imports this module, so the pages register
        # their callbacks (its tasks) there too and its numba kernels are warm before it forks
        # a job process; the session store must be on a directory the web and the workers
        # share (INFOIMB_CACHE_DIR). See infoimb/web/celery_manager.py.
        from infoimb.web.celery_manager import JobQueueManager, make_celery

        global celery_app
        celery_app = make_celery(settings)
        return JobQueueManager(celery_app, settings, runtime.get_store)
    import diskcache

    cache = diskcache.Cache(str(settings.jobs_dir))
    return _DiskcacheManager(cache, expire=int(settings.job_timeout) + 3600)


class _DiskcacheManager(dash.DiskcacheManager):
    """Dash's DiskcacheManager, without its race at the end of a job (dash 4.4.1): a job process
    that exits between Dash's "does it exist" and "its children" raised NoSuchProcess, so the
    poll that had just read the result answered 500 and the result never reached the page
    (seen under gunicorn with several sessions at once)."""

    def terminate_job(self, job):
        import psutil

        try:
            super().terminate_job(job)
        except psutil.NoSuchProcess:
            pass  # it has ended by itself


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app (once per process: Dash pages register their callbacks globally).

    Reads the settings from the environment when not given, creates the shared directories,
    warms the numba kernels in this process before any job is forked, and registers the
    pages, the /healthz route and the upload limit.
    """
    global _app
    if _app is not None:
        raise RuntimeError("create_app() runs once per process (Dash pages register their callbacks "
                           "globally); import app and use app.app / app.server")
    settings = settings or Settings.from_env()
    runtime.configure(settings)
    warm_s = runtime.warm_numba()

    import dash_bootstrap_components as dbc  # noqa: F401  (registers the component library)

    from infoimb.web import shell

    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        background_callback_manager=make_background_manager(settings),
        title="infoimb",
        update_title=None,
        eager_loading=True,  # plotly.js with the page, not after the first result
        suppress_callback_exceptions=False,
    )
    app.layout = shell.serve_layout
    _report_lost_data_loads()
    server = app.server
    # base64 upload (+33 %) inside a JSON request, plus room for the other inputs
    server.config["MAX_CONTENT_LENGTH"] = int(settings.max_upload_bytes * 1.4) + 1_000_000

    @server.before_request
    def _expire_idle_sessions():
        runtime.expire_idle_sessions()  # at most once a minute per process

    @server.route("/healthz")
    def healthz():
        body = dict(
            status="ok",
            version=infoimb.__version__,
            uptime_s=round(time.time() - _started, 1),
            warmup_s=round(warm_s, 2),
            numba_threading_layer=runtime.threading_layer(),
            background="celery" if settings.redis_url else "diskcache",
            pages=[p["path"] for p in dash.page_registry.values()],
        )
        if settings.redis_url:
            body["redis"] = "ok" if app._background_manager.ping() else "unreachable"
            if body["redis"] != "ok":
                body["status"] = "degraded"
                return flask.jsonify(body), 503
        return flask.jsonify(body)

    _app = app
    return app


def _report_lost_data_loads() -> None:
    """How a job queue reports a data load whose worker died (the Data page's job)."""
    from infoimb.web import data_logic, ids, jobs

    def report(message, args):
        return {"dataset": dash.no_update, "client": dash.no_update,
                "message": data_logic.message("danger", message)}

    jobs.register_job_output(f"{ids.DATASET_STORE}.data", jobs.JobOutput(report=report))


app = create_app()
server = app.server

if __name__ == "__main__":
    _settings = runtime.get_settings()
    app.run(host=_settings.host, port=_settings.port, debug=False)
