"""Running analyses as background jobs: the machinery every analysis page plugs into.

An *analysis* is registered once (at import of its page) with :func:`register_analysis`:

- ``prepare(inputs, ctx) -> settings``: turns the page's control values into a canonical,
  JSON-able settings dict (resolving groups to columns, validating; raises
  :class:`~infoimb.web.context.AnalysisInputError` with a message for the user). Cheap: it
  runs in the web process too, to look results up in the memo while the user changes inputs.
- ``run(df, settings, progress) -> result``: the heavy part, in a background job. ``progress``
  is ``progress(fraction, message)``; call it between steps (it also enforces the time limit).
- ``to_csv(record) -> str`` (optional): the numbers as CSV for the download button.
- ``render(record, ctx) -> children`` (given to :func:`AnalysisCard`): the result on the page.

:func:`run_job` is the whole job, free of Dash: session check, memo lookup by (content hash,
analysis, settings key), a job slot of the session, the run with progress and time limit,
an atomic store of the record. It returns a small JSON status; the record itself stays on
the server and is read back by key. With Celery workers (``REDIS_URL``),
:mod:`infoimb.web.celery_manager` asks :func:`check_job` in the web process before it queues a
job (refusals and memo hits never wait for a worker), claims the job's slot when it queues it
(handed to ``run_job`` through :data:`held_slot`) and reports a job whose worker died, as the
card registered with :func:`register_job_output`.

:class:`AnalysisCard` builds the standard card (Run, Cancel, a real progress bar with its
label, a status line, the results area, CSV / JSON downloads) and registers its callbacks:
the background callback (``running`` disables Run and enables Cancel, ``progress`` feeds the
bar, ``cancel`` stops the job), the display callback (memo lookup whenever an input changes),
and the downloads. The job's outputs, running flag and progress go to *app-level* stores
(created by :func:`app_stores` in ``app.py``), so changing page while a job runs breaks
nothing; the page's components follow those stores with small clientside callbacks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .. import __version__
from .config import Settings
from .context import AnalysisInputError, clean_groups
from .store import InvalidSession, NoDataset, SessionStore, TooManyJobs, settings_key

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]

__all__ = [
    "Analysis",
    "AnalysisCard",
    "JobContext",
    "JobOutput",
    "JobTimeout",
    "check_job",
    "get_analysis",
    "held_slot",
    "register_analysis",
    "register_job_output",
    "run_job",
    "lookup",
]


class JobTimeout(Exception):
    """The analysis ran longer than INFOIMB_JOB_TIMEOUT."""


@dataclass(frozen=True)
class Analysis:
    """A registered analysis (see the module docstring)."""

    name: str
    title: str
    prepare: Callable[[dict, JobContext], dict]
    run: Callable[[pd.DataFrame, dict, ProgressFn], dict]
    to_csv: Callable[[dict], str] | None = None
    version: int = 1


ANALYSES: dict[str, Analysis] = {}


def register_analysis(analysis: Analysis) -> Analysis:
    """Register (or re-register, on a module reload) an analysis by name."""
    ANALYSES[analysis.name] = analysis
    return analysis


def get_analysis(name: str) -> Analysis:
    try:
        return ANALYSES[name]
    except KeyError:
        raise AnalysisInputError(f"unknown analysis {name!r}") from None


@dataclass
class JobContext:
    """What ``prepare`` may use: the dataset metadata, the user's groups and scaling, limits."""

    sid: str
    meta: dict
    groups: list = field(default_factory=list)
    scaling: str = "none"
    settings: Settings | None = None

    @property
    def n_rows(self) -> int:
        return int(self.meta.get("n_rows", 0))

    @property
    def roles(self) -> dict:
        return self.meta.get("roles") or {}

    @property
    def periodic(self) -> dict:
        return dict(self.roles.get("periodic") or {})

    def check_cells(self, n_columns: int) -> None:
        """Refuse an analysis of more than INFOIMB_MAX_CELLS points x features."""
        if self.settings is None:
            return
        cells = self.n_rows * n_columns
        if cells > self.settings.max_cells:
            raise AnalysisInputError(
                f"{self.n_rows} points × {n_columns} features = {cells:,} values exceeds the limit of "
                f"{self.settings.max_cells:,} (INFOIMB_MAX_CELLS): use fewer features or rows")

    def check_subsets(self, n: int, what: str = "pairs") -> None:
        if self.settings is not None and n > self.settings.max_subsets:
            raise AnalysisInputError(f"{n} {what} exceed the limit of {self.settings.max_subsets} "
                                     "(INFOIMB_MAX_SUBSETS)")


def last_inputs(client: dict | None, analysis: str) -> dict:
    """The inputs of the analysis's last run in this browser (kept in the settings store), so
    that a page mounted again, or reloaded, shows the settings of the result it displays."""
    last = (client or {}).get("last") if isinstance(client, dict) else None
    values = (last or {}).get(analysis) if isinstance(last, dict) else None
    return dict(values) if isinstance(values, dict) else {}


def client_groups_scaling(client: dict | None) -> tuple[list, str]:
    client = client if isinstance(client, dict) else {}
    scaling = client.get("scaling") or "none"
    return clean_groups(client.get("groups")), str(scaling)


def make_context(store: SessionStore, sid, client: dict | None, settings: Settings | None) -> JobContext:
    """The context of a session; InvalidSession / NoDataset when there is nothing to run on."""
    meta = store.get_meta(sid)
    if not meta:
        raise NoDataset("no dataset loaded: upload a file or pick an example on the Data page")
    groups, scaling = client_groups_scaling(client)
    return JobContext(sid=sid, meta=meta, groups=groups, scaling=scaling, settings=settings)


def prepared_settings(analysis: Analysis, inputs: dict, ctx: JobContext) -> tuple[dict, str]:
    """Canonical settings and their memo key (analysis version and package version included)."""
    settings = analysis.prepare(dict(inputs), ctx)
    key = settings_key({"settings": settings, "analysis": analysis.name, "version": analysis.version,
                        "infoimb": __version__})
    return settings, key


def lookup(store: SessionStore, analysis_name: str, sid, inputs: dict, client: dict | None,
           settings: Settings | None = None) -> tuple[dict | None, str | None, str | None]:
    """(record or None, key, message) for the current inputs, without running anything.

    ``message`` explains why there is no key (no session, no data, invalid inputs)."""
    analysis = get_analysis(analysis_name)
    try:
        ctx = make_context(store, sid, client, settings)
        _, key = prepared_settings(analysis, inputs, ctx)
    except InvalidSession:
        return None, None, "no data loaded yet: upload a file or pick an example on the Data page"
    except (NoDataset, AnalysisInputError) as err:
        return None, None, str(err)
    return store.get_result(sid, ctx.meta["content_hash"], analysis.name, key), key, None


class _Progress:
    """Throttled progress reports that also enforce the time limit."""

    def __init__(self, report: Callable[[dict], object] | None, deadline: float, min_interval: float = 0.2):
        self.report = report
        self.deadline = deadline
        self.min_interval = min_interval
        self.last = 0.0
        self.stopped = False

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.stopped or time.monotonic() > self.deadline:
            self.stopped = True
            raise JobTimeout()
        now = time.monotonic()
        fraction = min(1.0, max(0.0, float(fraction)))
        if self.report is not None and (now - self.last >= self.min_interval or fraction >= 1.0 or self.last == 0):
            self.last = now
            pct = round(100 * fraction, 1)
            self.report({"value": pct, "label": f"{pct:.0f}% · {message}" if message else f"{pct:.0f}%"})


def _run_limited(fn: Callable[[], dict], timeout: float, progress: _Progress) -> dict:
    """Run ``fn`` in a worker thread; give up after ``timeout`` seconds (the worker is told to
    stop at its next progress report; in a job process it dies with the process)."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            box["error"] = err

    worker = threading.Thread(target=target, name="infoimb-analysis", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        progress.stopped = True
        raise JobTimeout()
    if "error" in box:
        raise box["error"]
    return box["value"]


#: The job slot that the web process claimed for this job when it queued it (Celery: see
#: :mod:`infoimb.web.celery_manager`); None when the job claims its own slot (the default).
held_slot: ContextVar[Path | None] = ContextVar("infoimb_held_slot", default=None)


def check_job(store: SessionStore, analysis_name: str, sid, inputs: dict, client: dict | None,
              settings: Settings) -> dict | None:
    """What :func:`run_job` would answer without running anything, or None when the analysis
    has to run: the refusal (no session or data, invalid inputs, over a limit) or the memo hit.

    Cheap; the web process calls it before it queues a job for a Celery worker, so an analysis
    over the limits is refused before it waits for a worker.
    """
    base = {"analysis": analysis_name}
    try:
        analysis = get_analysis(analysis_name)
        ctx = make_context(store, sid, client, settings)
        _, key = prepared_settings(analysis, inputs, ctx)
        data_hash = ctx.meta["content_hash"]
        if store.get_result(sid, data_hash, analysis.name, key) is None:
            return None
    except Exception as err:  # noqa: BLE001 - turned into the user's message
        return _failed(base, err, settings)
    return {**base, "status": "ok", "key": key, "content_hash": data_hash, "cached": True, "elapsed": 0.0}


def run_job(store: SessionStore, analysis_name: str, sid, inputs: dict, client: dict | None,
            settings: Settings, report: Callable[[dict], object] | None = None) -> dict:
    """Run one analysis for one session; never raises.

    Returns ``{"status": "ok", "analysis", "key", "content_hash", "cached", "elapsed"}`` or
    ``{"status": "error", "analysis", "message"}``.
    """
    t0 = time.monotonic()
    base = {"analysis": analysis_name}
    try:
        analysis = get_analysis(analysis_name)
        ctx = make_context(store, sid, client, settings)
        params, key = prepared_settings(analysis, inputs, ctx)
        data_hash = ctx.meta["content_hash"]
        cached = store.get_result(sid, data_hash, analysis.name, key)
        if cached is not None:
            return {**base, "status": "ok", "key": key, "content_hash": data_hash, "cached": True,
                    "elapsed": round(time.monotonic() - t0, 3)}
        held = held_slot.get()
        slot = held or store.start_job(sid, max_jobs=settings.max_jobs_per_session,
                                       job_timeout=settings.job_timeout)
        try:
            progress = _Progress(report, time.monotonic() + settings.job_timeout)
            progress(0.0, "loading the data")
            df = store.get_dataset(sid, meta=ctx.meta)
            caught: list = []

            def work():
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    out = analysis.run(df, params, progress)
                caught.extend(str(x.message) for x in w if not issubclass(x.category, DeprecationWarning))
                return out

            result = _run_limited(work, settings.job_timeout, progress)
            elapsed = time.monotonic() - t0
            record = {
                "analysis": analysis.name,
                "title": analysis.title,
                "version": analysis.version,
                "infoimb_version": __version__,
                "key": key,
                "settings": params,
                "dataset": {k: ctx.meta.get(k) for k in ("filename", "content_hash", "n_rows", "n_cols", "source")},
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "elapsed_s": round(elapsed, 3),
                "warnings": list(dict.fromkeys(caught)),
                "result": result,
            }
            store.put_result(sid, data_hash, analysis.name, key, record)
            if report is not None:
                report({"value": 100.0, "label": "100% · done"})
        finally:
            if held is None:  # a held slot is released by the one who claimed it
                store.end_job(slot)
        return {**base, "status": "ok", "key": key, "content_hash": data_hash, "cached": False,
                "elapsed": round(elapsed, 3)}
    except Exception as err:  # noqa: BLE001 - a job must end with a message, not a traceback
        return _failed(base, err, settings)


def _failed(base: dict, err: Exception, settings: Settings) -> dict:
    """The error status of a job that raised ``err``: a message for the user."""
    if isinstance(err, JobTimeout):
        message = (f"Stopped: the analysis ran longer than the limit of {settings.job_timeout:g} s "
                   "(INFOIMB_JOB_TIMEOUT). Use fewer points (subsampled queries) or fewer features.")
    elif isinstance(err, InvalidSession):
        message = "No data for this browser session (it may have expired): load the data on the Data page."
    elif isinstance(err, (AnalysisInputError, NoDataset, TooManyJobs, ValueError, TypeError)):
        message = _sentence(str(err))  # ours, and the engine's own validation messages
    elif isinstance(err, MemoryError):
        message = "Out of memory: use fewer points or features."
    else:
        log.error("analysis %s failed:\n%s", base.get("analysis"),
                  "".join(traceback.format_exception(type(err), err, err.__traceback__)))
        message = f"The analysis failed unexpectedly ({type(err).__name__}: {err})."
    return {**base, "status": "error", "message": message}


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "Error."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# ======================================================================================
# Dash side
# ======================================================================================
@dataclass(frozen=True)
class JobOutput:
    """What a job queue (Celery: :mod:`infoimb.web.celery_manager`) needs to know about a
    background callback, named by its first output (``"<component id>.<property>"``).

    - ``report(message, args)``: the callback's return value that shows ``message`` as an
      error (the worker running the job died, the job waited too long, the session's share of
      jobs is taken);
    - ``admit(args)`` (optional): checked in the web process before the job is queued; a
      final return value (a refusal with its message, a memo hit) or None to queue the job;
    - ``session_of(args)`` (optional): the session whose job slots the job takes (claimed when
      it is queued, so one session cannot queue more than its share).

    ``args`` are the callback's keyword arguments (its inputs and states by name).
    """

    report: Callable[[str, dict], object]
    admit: Callable[[dict], object] | None = None
    session_of: Callable[[dict], object] | None = None


JOB_OUTPUTS: dict[str, JobOutput] = {}


def register_job_output(output: str, spec: JobOutput) -> JobOutput:
    """Register (or re-register) how the background callback whose first output is ``output``
    is admitted and reported by a job queue (see :class:`JobOutput`)."""
    JOB_OUTPUTS[output] = spec
    return spec


def app_stores() -> list:
    """The app-level stores of every registered analysis (put them in the app layout)."""
    from dash import dcc

    from . import ids

    # Every store starts with non-null data: a memory dcc.Store whose data is None or unset
    # "changes" it to null when it mounts, and that would start every job on page load.
    out = []
    for name in ANALYSES:
        out += [
            dcc.Store(id=ids.job(ids.JOB_RESULT, name), data={}, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_RUNNING, name), data=False, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_PROGRESS, name), data={}, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_REQUEST, name), data={}, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_CANCEL, name), data={}, storage_type="memory"),
        ]
    return out


_REQUEST_JS = """
function(n, ...args) {
    const nu = window.dash_clientside.no_update;
    if (!n) { return [nu, nu]; }
    const keys = %(keys)s;
    const client = args[keys.length] || {};
    const values = {};
    keys.forEach(function(k, i) { values[k] = args[i]; });
    const last = Object.assign({}, client.last || {});
    last[%(name)s] = values;
    return [{t: Date.now(), n: n, values: values}, Object.assign({}, client, {last: last})];
}
"""

_CANCEL_JS = """
function(n) {
    if (!n) { return window.dash_clientside.no_update; }
    return {t: Date.now(), n: n};
}
"""

_RUNNING_JS = """
function(running) {
    const on = running === true;
    return [on, !on, on ? {} : {display: "none"}];
}
"""

_PROGRESS_JS = """
function(p) {
    if (!p || p.value === undefined) { return [0, ""]; }
    return [p.value || 0, p.label || ""];
}
"""

_FIG_DOWNLOAD_JS = """
function(n, id) {
    if (!n) { return; }
    const container = document.getElementById(JSON.stringify({fig: id.fig, type: "graph"}));
    const gd = container && container.querySelector(".js-plotly-plot");
    if (!gd || !window.Plotly) { return; }
    const size = gd.getBoundingClientRect();
    window.Plotly.downloadImage(gd, {format: id.fmt, filename: "infoimb_" + id.fig,
        width: Math.round(size.width), height: Math.round(size.height), scale: id.fmt === "png" ? 2 : 1});
}
"""


class AnalysisCard:
    """The standard Run / Cancel / progress / results card of one analysis.

    Parameters
    ----------
    analysis : str
        A name given to :func:`register_analysis`.
    state : dict name -> dash.State
        The page's controls; their values are the ``inputs`` of ``prepare``.
    render : callable(record, ctx) -> Dash children
        Draws a stored result record.
    get_store, get_settings : callables
        Return the app's SessionStore and Settings (resolved when a callback runs).
    """

    def __init__(self, analysis: str, *, state: dict, render: Callable, get_store: Callable[[], SessionStore],
                 get_settings: Callable[[], Settings], run_label: str = "Run", empty_text: str | None = None):
        self.name = analysis
        self.state = dict(state)
        self.render = render
        self.get_store = get_store
        self.get_settings = get_settings
        self.run_label = run_label
        self.empty_text = empty_text or "Choose the inputs and press Run."
        self._register()

    # ---- layout ---------------------------------------------------------------------
    def controls(self):
        """Run and Cancel buttons, the progress bar and the status line."""
        import dash_bootstrap_components as dbc
        from dash import html

        from . import ids

        n = self.name
        return html.Div(
            [
                html.Div(
                    [
                        dbc.Button(self.run_label, id=ids.job(ids.RUN, n), color="primary", n_clicks=0,
                                   className="me-2"),
                        dbc.Button("Cancel", id=ids.job(ids.CANCEL, n), color="secondary", outline=True,
                                   n_clicks=0, disabled=True),
                    ],
                    className="d-flex align-items-center",
                ),
                html.Div(
                    dbc.Progress(id=ids.job(ids.PROGRESS_BAR, n), value=0, label="",
                                 className="job-progress mt-3", style={"height": "1.35rem"}),
                    id=ids.job(ids.PROGRESS_WRAP, n),
                    style={"display": "none"},
                ),
                html.Div(id=ids.job(ids.STATUS, n), className="mt-3"),
            ],
            className="analysis-controls",
        )

    def results(self):
        """The results area with its download buttons."""
        import dash_bootstrap_components as dbc
        from dash import dcc, html

        from . import ids

        n = self.name
        return html.Div(
            [
                html.Div(id=ids.job(ids.RESULTS, n), className="analysis-results"),
                html.Div(
                    [
                        html.Span("Download the numbers:", className="me-2 text-muted small"),
                        dbc.Button("CSV", id=ids.job(ids.DOWNLOAD_CSV, n), size="sm", color="secondary",
                                   outline=True, className="me-1", disabled=True),
                        dbc.Button("JSON", id=ids.job(ids.DOWNLOAD_JSON, n), size="sm", color="secondary",
                                   outline=True, disabled=True),
                        html.Span(" · figures: PNG / SVG buttons under each, or the camera in its toolbar",
                                  className="ms-2 text-muted small"),
                    ],
                    className="d-flex align-items-center mt-2 download-row",
                ),
                dcc.Download(id=ids.job(ids.DOWNLOAD, n)),
                dcc.Store(id=ids.job(ids.SHOWN, n), storage_type="memory"),
            ]
        )

    # ---- callbacks ------------------------------------------------------------------
    def _register(self) -> None:
        """Register the card's callbacks.

        The page's Run and Cancel buttons do not start or stop the job directly: small clientside
        callbacks turn their clicks into app-level request stores (Run also packs the control
        values). The background callback listens to those stores only. So a page that is
        mounted again (navigating back to it) never triggers the job, and never makes Dash
        cancel a job still running as "outdated"; its outputs, running flag and progress are
        app-level stores that exist whatever page is shown.
        """
        import dash
        from dash import Input, Output, State, clientside_callback, no_update

        from . import ids

        n = self.name
        card = self
        keys = list(self.state)

        clientside_callback(
            _REQUEST_JS % {"keys": json.dumps(keys), "name": json.dumps(n)},
            Output(ids.job(ids.JOB_REQUEST, n), "data"),
            Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),  # remembers the inputs of the run
            Input(ids.job(ids.RUN, n), "n_clicks"),
            *self.state.values(),
            State(ids.SETTINGS_STORE, "data"),
            prevent_initial_call=True,
        )
        clientside_callback(
            _CANCEL_JS,
            Output(ids.job(ids.JOB_CANCEL, n), "data"),
            Input(ids.job(ids.CANCEL, n), "n_clicks"),
            prevent_initial_call=True,
        )

        @dash.callback(
            output=Output(ids.job(ids.JOB_RESULT, n), "data"),
            inputs=dict(request=Input(ids.job(ids.JOB_REQUEST, n), "data")),
            state=dict(session=State(ids.SESSION_STORE, "data"), client=State(ids.SETTINGS_STORE, "data"),
                       page_load=State(ids.PAGE_LOAD, "data")),
            background=True,
            running=[(Output(ids.job(ids.JOB_RUNNING, n), "data"), True, False)],
            progress=[Output(ids.job(ids.JOB_PROGRESS, n), "data")],
            progress_default=[None],
            cancel=[Input(ids.job(ids.JOB_CANCEL, n), "data")],
            interval=300,
            prevent_initial_call=True,
        )
        def _job(set_progress, request, session, client, page_load):
            if not isinstance(request, dict) or not isinstance(request.get("values"), dict):
                raise dash.exceptions.PreventUpdate
            sid = (session or {}).get("sid")
            status = run_job(card.get_store(), n, sid, request["values"], client, card.get_settings(),
                             report=set_progress)
            status["request"] = request.get("t")
            return status

        clientside_callback(
            _RUNNING_JS,
            Output(ids.job(ids.RUN, n), "disabled"),
            Output(ids.job(ids.CANCEL, n), "disabled"),
            Output(ids.job(ids.PROGRESS_WRAP, n), "style"),
            Input(ids.job(ids.JOB_RUNNING, n), "data"),
        )
        clientside_callback(
            _PROGRESS_JS,
            Output(ids.job(ids.PROGRESS_BAR, n), "value"),
            Output(ids.job(ids.PROGRESS_BAR, n), "label"),
            Input(ids.job(ids.JOB_PROGRESS, n), "data"),
        )

        @dash.callback(
            Output(ids.job(ids.JOB_RESULT, n), "data", allow_duplicate=True),
            Input(ids.job(ids.JOB_CANCEL, n), "data"),
            prevent_initial_call=True,
        )
        def _cancelled(request):
            if not request:
                return no_update
            return cancelled_status(n, card.run_label)

        display_inputs = {k: Input(s.component_id, s.component_property) for k, s in self.state.items()}

        @dash.callback(
            output=dict(results=Output(ids.job(ids.RESULTS, n), "children"),
                        status=Output(ids.job(ids.STATUS, n), "children"),
                        shown=Output(ids.job(ids.SHOWN, n), "data"),
                        csv=Output(ids.job(ids.DOWNLOAD_CSV, n), "disabled"),
                        json=Output(ids.job(ids.DOWNLOAD_JSON, n), "disabled")),
            inputs=dict(job=Input(ids.job(ids.JOB_RESULT, n), "data"),
                        dataset=Input(ids.DATASET_STORE, "data"),
                        client=Input(ids.SETTINGS_STORE, "data"),
                        values=display_inputs),
            state=dict(session=State(ids.SESSION_STORE, "data"), shown=State(ids.job(ids.SHOWN, n), "data")),
        )
        def _display(job, dataset, client, values, session, shown):
            return card.display(job, client, values, session, shown=shown, triggered=_triggered_ids())

        @dash.callback(
            Output(ids.job(ids.DOWNLOAD, n), "data"),
            Input(ids.job(ids.DOWNLOAD_CSV, n), "n_clicks"),
            Input(ids.job(ids.DOWNLOAD_JSON, n), "n_clicks"),
            State(ids.job(ids.SHOWN, n), "data"),
            State(ids.SESSION_STORE, "data"),
            prevent_initial_call=True,
        )
        def _download(n_csv, n_json, shown, session):
            if not (n_csv or n_json):
                return no_update
            fmt = "json" if ids.DOWNLOAD_JSON in str(dash.ctx.triggered_id) else "csv"
            payload = card.download(fmt, shown, (session or {}).get("sid"))
            return payload if payload is not None else no_update

        _register_figure_downloads()
        register_job_output(f"{ids.job(ids.JOB_RESULT, n)}.data", JobOutput(
            report=lambda message, args: {"analysis": n, "status": "error", "message": message,
                                          "request": ((args or {}).get("request") or {}).get("t")},
            admit=self.admit,
            session_of=lambda args: ((args or {}).get("session") or {}).get("sid"),
        ))

    # ---- callback logic (plain functions, tested without a browser) ---------------
    def admit(self, args: dict) -> dict | None:
        """Before the job is queued (Celery): its final status if it need not run (refused, or
        in the memo), else None. ``args`` are the background callback's arguments."""
        request = (args or {}).get("request")
        if not isinstance(request, dict) or not isinstance(request.get("values"), dict):
            return None  # the job itself ignores it (PreventUpdate)
        sid = ((args or {}).get("session") or {}).get("sid")
        status = check_job(self.get_store(), self.name, sid, request["values"], args.get("client"),
                           self.get_settings())
        if status is not None:
            status["request"] = request.get("t")
        return status

    def display(self, job, client, values, session, shown=None, triggered=()) -> dict:
        """What the results area shows (see :func:`display_logic`)."""
        return display_logic(self, job, client, values, session, shown=shown, triggered=triggered)

    def download(self, fmt: str, shown, sid):
        """A dcc.Download payload for the record on display, or None."""
        from dash import dcc

        record = self._load_shown(shown, sid)
        if record is None:
            return None
        base = f"infoimb_{self.name}_{record['key'][:8]}"
        if fmt == "json":
            from .store import dumps

            return dcc.send_string(dumps(record, indent=2), f"{base}.json")
        analysis = get_analysis(self.name)
        text = analysis.to_csv(record) if analysis.to_csv else record_to_csv(record)
        return dcc.send_string(text, f"{base}.csv")

    def _load_shown(self, shown, sid):
        if not isinstance(shown, dict) or not shown.get("key") or not shown.get("content_hash"):
            return None
        try:
            return self.get_store().get_result(sid, shown["content_hash"], self.name, shown["key"])
        except (InvalidSession, ValueError):
            return None


def _triggered_ids() -> tuple:
    import dash

    try:
        return tuple(t["prop_id"] for t in dash.ctx.triggered)
    except Exception:  # noqa: BLE001
        return ()


def cancelled_status(analysis: str, run_label: str = "Run") -> dict:
    return {"analysis": analysis, "status": "cancelled",
            "message": f"Cancelled: the job was stopped and nothing was stored. Press {run_label} to start again."}


def display_logic(card: AnalysisCard, job, client, values, session, *, shown=None, triggered=()) -> dict:
    """Decide what the results area of ``card`` shows.

    - A failed or cancelled job: its message (the previous results stay).
    - Otherwise the memo for the *current* inputs: shown at once if present.
    - Else, the result of the last job if its record exists (the inputs changed since):
      shown with a note; else a hint what to do.
    """
    import dash_bootstrap_components as dbc
    from dash import no_update

    from . import ids

    sid = (session or {}).get("sid")
    store = card.get_store()
    job_triggered = any(t.startswith(f"{ids.JOB_RESULT}-{card.name}.") for t in triggered)
    if isinstance(job, dict) and job_triggered and job.get("status") in ("error", "cancelled"):
        color = "warning" if job["status"] == "cancelled" else "danger"
        return dict(results=no_update, status=dbc.Alert(job.get("message", "Stopped."), color=color,
                                                        className="mb-0 job-message", dismissable=False),
                    shown=no_update, csv=no_update, json=no_update)
    record, key, why = lookup(store, card.name, sid, values or {}, client, card.get_settings())
    note = None
    if record is None and isinstance(job, dict) and job.get("status") == "ok":
        try:
            record = store.get_result(sid, job["content_hash"], card.name, job["key"])
        except (InvalidSession, ValueError):
            record = None
        if record is not None and job.get("key") != key:
            note = "These results are for the settings listed under them; the inputs have changed since."
    if record is None:
        from dash import html

        text = _sentence(why or card.empty_text)
        placeholder = html.Div(text, className="results-placeholder")
        return dict(results=placeholder, status=None, shown=None, csv=True, json=True)
    cached = isinstance(job, dict) and job.get("cached") and job.get("key") == record["key"] and job_triggered
    if note:
        text = note
    elif not job_triggered:
        when = record.get("created", "")[:16].replace("T", " ")
        text = f"From the memo: computed {when} UTC with these data and settings."
    elif cached:
        text = "From the memo: computed earlier with the same data and settings."
    else:
        text = f"Done in {record.get('elapsed_s', 0):.2f} s."
    status = dbc.Alert(text, color="warning" if note else "success", className="mb-0 job-message")
    new_shown = {"key": record["key"], "content_hash": record["dataset"]["content_hash"]}
    if isinstance(shown, dict) and shown == new_shown:
        # the same record is on display already: keep the figures, update the status only
        return dict(results=no_update, status=status, shown=no_update, csv=False, json=False)
    try:
        children = card.render(record)
    except Exception as err:  # noqa: BLE001 - a broken record must not break the page
        log.error("rendering %s failed:\n%s", card.name, traceback.format_exc())
        return dict(results=[], status=dbc.Alert(f"Could not draw the result ({err}).", color="danger"),
                    shown=None, csv=True, json=True)
    return dict(results=children, status=status, shown=new_shown, csv=False, json=False)


def record_to_csv(record: dict) -> str:
    """Fallback CSV: the settings as ``# key: value`` lines, then the flat result fields."""
    lines = settings_header(record)
    flat = {k: v for k, v in (record.get("result") or {}).items() if not isinstance(v, (list, dict))}
    lines.append(",".join(flat))
    lines.append(",".join(str(v) for v in flat.values()))
    return "\n".join(lines) + "\n"


def settings_header(record: dict) -> list[str]:
    """``# key: value`` comment lines describing how a record was produced."""
    from .store import dumps

    ds = record.get("dataset") or {}
    lines = [f"# infoimb {record.get('infoimb_version', '')} · {record.get('title', record.get('analysis'))}",
             f"# dataset: {ds.get('filename')} ({ds.get('n_rows')} rows, content {ds.get('content_hash')})",
             f"# created: {record.get('created')}"]
    for k, v in (record.get("settings") or {}).items():
        lines.append(f"# {k}: {dumps(v) if isinstance(v, (dict, list)) else v}")
    return lines


_FIG_DL_REGISTERED = False


def _register_figure_downloads() -> None:
    """One clientside callback serving every PNG / SVG button under a figure."""
    global _FIG_DL_REGISTERED
    if _FIG_DL_REGISTERED:
        return
    from dash import MATCH, Input, State, clientside_callback

    from . import ids

    clientside_callback(
        _FIG_DOWNLOAD_JS,
        Input({"type": ids.FIG_DOWNLOAD, "fig": MATCH, "fmt": MATCH}, "n_clicks"),
        State({"type": ids.FIG_DOWNLOAD, "fig": MATCH, "fmt": MATCH}, "id"),
        prevent_initial_call=True,
    )
    _FIG_DL_REGISTERED = True
