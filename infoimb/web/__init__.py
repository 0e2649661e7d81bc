"""The dashboard's building blocks (the Dash app is ``app.py``, its pages ``pages/``).

Modules
-------
- :mod:`.config`      ``Settings`` from environment variables (INFOIMB_*; invalid -> ConfigError)
- :mod:`.store`       the server-side per-session store: datasets (Parquet), metadata and
                      results (JSON), atomic writes, idle expiry, job slots
- :mod:`.jobs`        background analyses: the registry, ``run_job`` (memo, progress, time
                      limit, never raises) and ``AnalysisCard`` (Run / Cancel / progress /
                      results / downloads, with its callbacks)
- :mod:`.context`     roles, feature groups and spaces, the numbers an analysis runs on (pure)
- :mod:`.data_logic`  the Data page's logic: loading, describing, roles, preprocessing (pure)
- :mod:`.compare`     the comparison analysis (prepare / run / to_csv / render)
- :mod:`.ids`         component ids; :mod:`.ui` layout helpers; :mod:`.shell` the frame
  (navbar, app-level stores, the browser session); :mod:`.runtime` the process's settings,
  store handle and numba warm-up

How a job runs
--------------
Run (a button on the page) -> a clientside callback packs the page's control values into the
app-level store ``job-request-<name>`` (and remembers them as the page's last inputs) -> the
background callback (``DiskcacheManager`` on ``<INFOIMB_CACHE_DIR>/jobs``; a forked process)
calls :func:`.jobs.run_job`: the session is checked, ``prepare`` turns the inputs into
canonical settings, the memo is looked up by (content hash, analysis, settings key), a job
slot of the session is taken, ``run`` goes in a worker thread with ``progress(fraction,
message)`` bridged to ``set_progress`` and the time limit enforced, the record (settings,
dataset, result, warnings, timing) is written atomically to the session's folder, and a small
status goes back to ``job-result-<name>``. The page's display callback reads the record by
key (its own session only) and draws it; it also shows the memo at once whenever the inputs
match a stored result. Running flag, progress and result live in app-level stores, so changing
page while a job runs breaks nothing; Cancel kills the job process and says so.

Adding an analysis page
-----------------------
1. ``infoimb/web/<name>.py``: ``prepare(inputs, ctx) -> settings`` (resolve spaces with
   :func:`.context.resolve_space`, validate, raise :class:`.context.AnalysisInputError`),
   ``run(df, settings, progress) -> result`` (JSON-able; call ``progress`` between steps),
   ``to_csv(record)`` and ``render(record)``; then
   ``register_analysis(Analysis(name, title, prepare, run, to_csv))``.
2. ``pages/<name>.py``::

       dash.register_page(__name__, path="/<name>", name="...", order=...)
       CARD = AnalysisCard("<name>", state={"a": State("x-a", "value"), ...}, render=render,
                           get_store=get_store, get_settings=get_settings)
       def layout(**_):
           return dbc.Row([dbc.Col([...controls..., CARD.controls()], lg=3),
                           dbc.Col(CARD.results(), lg=9)])

   plus a callback filling the controls' options from ``ids.DATASET_STORE`` /
   ``ids.SETTINGS_STORE`` (see ``pages/compare.py``; restore the last run's inputs with
   :func:`.jobs.last_inputs` when the page mounts).
3. Figures: pure builders in ``infoimb/figures.py`` using ``base_layout``, ``COLORS``, ``esc``.

Rules that keep it working: a page's callbacks that write app-level stores must not have
wildcard (ALL) inputs on the page (leaving the page would fire them with empty lists); memory
``dcc.Store``\\ s that feed callbacks start with non-null data; big tables are one
``ui.table`` (a DataTable), never hundreds of html components.
"""
