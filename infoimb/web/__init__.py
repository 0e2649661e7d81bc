"""The dashboard's building blocks (the Dash app is ``app.py``, its pages ``pages/``).

Modules
-------
- :mod:`.config`       ``Settings`` from environment variables (INFOIMB_*; invalid -> ConfigError)
- :mod:`.store`        the server-side per-session store: datasets (Parquet), metadata and
                       results (JSON), atomic writes, idle expiry, per-session job slots
- :mod:`.sessions`     the browser session: a signed HttpOnly SameSite=Lax cookie, minted on a
                       page load at a limited rate, read by callbacks from the request
- :mod:`.hardening`    security headers, the CSP, 400 for malformed callback requests
- :mod:`.jobs`         analyses and data loads as jobs: :mod:`.jobs.runner` (no Dash: the
                       memo preamble, ``run_job`` / ``run_load`` with progress, time limit and
                       slots, never raises), :mod:`.jobs.queue` (the server-wide job cap,
                       INFOIMB_MAX_JOBS), :mod:`.jobs.card` (``AnalysisCard``: the page of an
                       analysis built from its fields, Run / Cancel / progress / results /
                       downloads, callbacks registered by ``register_callbacks(app)``) and
                       :mod:`.jobs.loader` (the Data page's load job, on the same runner and cap)
- :mod:`.analyses`     one declaration per analysis, named after the core module it serves
                       (imbalance, selection, lags, causality, weights)
- :mod:`.embedded_manager`, :mod:`.celery_manager`  the job managers (forked processes on a
                       shared diskcache; Celery workers with REDIS_URL): the session handed to
                       the job, the end-of-job race closed, a job that died reported
- :mod:`.context`      roles, feature groups and space choices (``SpaceChoice``), the numbers
                       an analysis runs on (pure)
- :mod:`.fields`       typed input fields (IntField, RealField, ChoiceField, SpaceField,
                       ColumnField, FlagField, ...) with limits, defaults and help text, the
                       layout items of a form, and the settings sync (pure, no Dash at import)
- :mod:`.inputs`       control values -> validated spaces, the tables analyses run on
- :mod:`.data_logic`   the Data page's logic: loading, describing, roles, preprocessing (pure)
- :mod:`.ids`          every component id; :mod:`.ui` layout helpers; :mod:`.shell` the frame
  (navbar, app-level stores); :mod:`.runtime` the process's settings, store handle, the
  request's table and numba warm-up

How a job runs
--------------
Run (a button on the page) -> the clientside function ``infoimb.request`` (assets/infoimb_jobs.js)
packs the page's control values into the app-level store ``job-request-<name>`` (and remembers
them as the page's last inputs) -> the background callback (a forked process on
``<INFOIMB_CACHE_DIR>/jobs``, or a Celery worker) gets the session from the job manager (the
request's cookie) and calls :func:`.jobs.runner.run_job`: ``prepare_job`` turns the inputs into
canonical settings and looks the memo up by (content hash, analysis, settings key); a job slot
of the session and one of the server are taken (waiting in line, with the position on the
progress bar, when INFOIMB_MAX_JOBS run already); ``run`` goes in a worker thread with
``progress(fraction, message)`` bridged to ``set_progress`` and the time limit enforced; the
record (settings, dataset, result, warnings, timing) is written atomically to the session's
folder, and a small status goes back to ``job-result-<name>``. The page's display callback reads
the record by key (its own session only) and draws it with the analysis's ``render``; it also
shows the memo at once whenever the inputs match a stored result. Running flag, progress and
result live in app-level stores, so changing page while a job runs breaks nothing; Cancel kills
the job process and says so. Loading a table on the Data page is a job of the same kind
(:mod:`.jobs.loader`, :func:`.jobs.runner.run_load`): it holds a server slot too, and waits in
the same line.

Adding an analysis page
-----------------------
1. ``infoimb/web/analyses/<core module>.py``: declare the analysis (see
   :mod:`infoimb.web.analyses`: its fields, ``prepare``, ``run``, ``render``, ``to_csv``) and
   list it in :data:`.analyses.ANALYSES`.
2. ``pages/<name>.py``::

       dash.register_page(__name__, path="/<name>", name="...", order=...)
       CARD = AnalysisCard(<module>.ANALYSIS)
       layout = CARD.layout

   (``create_app`` registers the callbacks of every page's ``CARD``: the job, the display, the
   downloads and the settings sync of the fields).
3. Figures: pure builders in ``infoimb/figures.py`` using ``base_layout``, ``COLORS``, ``esc``.

Rules that keep it working: a page's callbacks that write app-level stores must not have
wildcard (ALL) inputs on the page (leaving the page would fire them with empty lists); memory
``dcc.Store``\\ s that feed callbacks start with non-null data; big tables are one
``ui.table`` (a dash-ag-grid grid), never hundreds of html components; no inline scripts
(the CSP allows Dash's own only): browser code goes in ``assets/*.js``.
"""

__all__ = [
    "analyses",
    "celery_manager",
    "config",
    "context",
    "data_logic",
    "embedded_manager",
    "fields",
    "hardening",
    "ids",
    "inputs",
    "jobs",
    "runtime",
    "sessions",
    "shell",
    "store",
    "ui",
]
