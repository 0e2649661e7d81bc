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


def make_background_manager(settings: Settings, outputs=None):
    """The background-callback manager; ``outputs`` (:class:`infoimb.web.jobs.card.JobOutputs`)
    names the app's background callbacks, to report a job that died.

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
        return JobQueueManager(celery_app, settings, runtime.get_store, outputs)
    import diskcache

    from infoimb.web.embedded_manager import EmbeddedJobManager

    cache = diskcache.Cache(str(settings.jobs_dir))
    return EmbeddedJobManager(cache, expire=int(settings.job_timeout) + 3600, outputs=outputs)


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

    from infoimb.web import hardening, sessions, shell
    from infoimb.web.jobs.card import JobOutputs, register_figure_downloads

    outputs = JobOutputs()
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        background_callback_manager=make_background_manager(settings, outputs),
        title="infoimb",
        update_title=None,
        eager_loading=True,  # plotly.js with the page, not after the first result
        suppress_callback_exceptions=False,
    )
    app.layout = shell.serve_layout
    server = app.server
    server.extensions["infoimb.sessions"] = sessions.install(server, settings, settings.signing_secret())
    shell.register_callbacks(app)
    for card in page_cards():
        card.register_callbacks(app, outputs)
    register_figure_downloads(app)
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

    hardening.install(app)  # last: the CSP hashes every inline script registered above
    _app = app
    return app


def page_cards() -> list:
    """The job cards of the registered pages (a page's module-level ``CARD``: an analysis card,
    or the Data page's load card), whose callbacks ``create_app`` registers."""
    import sys

    cards = []
    for page in dash.page_registry.values():
        card = getattr(sys.modules.get(page["module"]), "CARD", None)
        if card is not None:
            cards.append(card)
    return cards


app = create_app()
server = app.server

if __name__ == "__main__":
    _settings = runtime.get_settings()
    from infoimb.web.hardening import QuietRequestHandler

    app.run(host=_settings.host, port=_settings.port, debug=False, request_handler=QuietRequestHandler)
