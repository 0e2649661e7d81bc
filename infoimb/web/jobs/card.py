"""The Dash card of an analysis: its controls, Run / Cancel / progress / results / downloads.

:class:`AnalysisCard` builds the whole page of an :class:`~infoimb.web.jobs.runner.Analysis`
from its declaration: the controls of its ``form`` (:mod:`infoimb.web.fields`: each field's
control with its help text, the States packed into a run, the settings sync of options,
defaults and the last run's inputs), the Run / Cancel / progress block and the results; it
registers its callbacks explicitly with :meth:`AnalysisCard.register_callbacks` (``app.create_app`` calls it
once per card): the background job (``running`` disables Run and enables Cancel, ``progress``
feeds the bar, ``cancel`` stops the job), the display (memo lookup whenever an input changes)
and the downloads. The job's result, running flag and progress live in *app-level* stores
(:func:`app_stores`), so changing page while a job runs breaks nothing; the page's components
follow those stores through the clientside functions of ``assets/infoimb_jobs.js``.

The session is never part of a callback's payload: it is the HttpOnly cookie read by
:func:`infoimb.web.sessions.current_sid` in the web process, and handed to a background job by
the job manager (:data:`infoimb.web.sessions.SESSION_ARG`).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from .. import glossary, ids, scaling
from ..config import Settings
from ..store import InvalidSession, SessionStore, dumps
from ..ui import section
from .. import reproduce
from .runner import Analysis, check_job, get_analysis, lookup, record_to_csv, run_job, sentence

log = logging.getLogger(__name__)

__all__ = ["AnalysisCard", "JobOutput", "JobOutputs", "app_stores", "cancelled_status", "display_logic",
           "progress_bar", "progress_callback", "register_figure_downloads", "saved_for"]

#: the namespace of the clientside functions in assets/infoimb_jobs.js
JS = "infoimb"


@dataclass(frozen=True)
class JobOutput:
    """What a job manager needs to know about a background callback, named by its first output
    (``"<component id>.<property>"``).

    - ``report(message, args)``: the callback's return value that shows ``message`` as an
      error (the process running the job died, the job waited too long, the session's share of
      jobs is taken);
    - ``admit(args)`` (optional): checked in the web process before the job is queued; a
      final return value (a refusal with its message, a memo hit) or None to queue the job.

    ``args`` are the callback's keyword arguments (its inputs and states by name, and the
    session under :data:`infoimb.web.sessions.SESSION_ARG`).
    """

    report: Callable[[str, dict], object]
    admit: Callable[[dict], object] | None = None


class JobOutputs:
    """The app's background callbacks by first output: one object per app, made by
    ``create_app`` and shared by the cards (which add to it) and the job manager (which reads it)."""

    def __init__(self):
        self._specs: dict[str, JobOutput] = {}

    def add(self, output: str, spec: JobOutput) -> JobOutput:
        self._specs[output] = spec
        return spec

    def get(self, output: str | None) -> JobOutput | None:
        return self._specs.get(output) if output else None

    def __contains__(self, output) -> bool:
        return output in self._specs


def app_stores(analyses) -> list:
    """The app-level stores of every analysis (in the app layout, present on every page).

    Every store starts with non-null data: a memory dcc.Store whose data is None or unset
    "changes" it to null when it mounts, and that would start every job on page load.
    """
    out = []
    for name in analyses:
        out += [
            dcc.Store(id=ids.job(ids.JOB_RESULT, name), data={}, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_RUNNING, name), data=False, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_PROGRESS, name), data={}, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_REQUEST, name), data={}, storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_CANCEL, name), data={}, storage_type="memory"),
        ]
    return out


def progress_bar(name: str, className: str = "job-progress mt-2"):
    """The progress bar of job ``name`` (hidden until it runs), fed by the clientside functions
    ``infoimb.progress`` and ``infoimb.running`` / ``infoimb.loading``; the analysis cards and the
    Data page's table loading share it."""
    return html.Div(
        dbc.Progress(id=ids.job(ids.PROGRESS_BAR, name), value=0, label="", className=className,
                     style={"height": "1.35rem"}),
        id=ids.job(ids.PROGRESS_WRAP, name),
        style={"display": "none"},
    )


def progress_callback(app_or_dash, name: str) -> None:
    """The clientside callback that moves job ``name``'s progress store to its bar."""
    app_or_dash.clientside_callback(
        ClientsideFunction(JS, "progress"),
        Output(ids.job(ids.PROGRESS_BAR, name), "value"),
        Output(ids.job(ids.PROGRESS_BAR, name), "label"),
        Input(ids.job(ids.JOB_PROGRESS, name), "data"),
    )


class AnalysisCard:
    """The standard page of one analysis: its inputs, Run / Cancel / progress, the results.

    Parameters
    ----------
    analysis : Analysis or str
        The declaration (:mod:`infoimb.web.analyses`), or its name. Its ``form`` gives the
        controls (:mod:`infoimb.web.fields`): their layout, the States packed into a run, the
        dropdowns whose options follow the session's table, and the settings sync.
    get_store, get_settings : callables, optional
        Return the app's SessionStore and Settings (default: :mod:`infoimb.web.runtime`).

    Nothing is registered by the constructor; ``create_app`` calls :meth:`register_callbacks`.
    """

    def __init__(self, analysis: Analysis | str, *, get_store: Callable[[], SessionStore] | None = None,
                 get_settings: Callable[[], Settings] | None = None):
        from .. import runtime

        self.analysis = get_analysis(analysis)
        self.name = self.analysis.name
        fields = self.analysis.fields
        self.state = {f.name: State(f.id, "value") for f in fields}
        self.synced = tuple(f.name for f in fields if f.sync)
        self.options = {f.name: f.id for f in fields if f.sync and f.has_options}
        self.hint_id = self.analysis.hint_id
        self.hint = self.analysis.hint_id if self.analysis.hint is not None else None  # the sync's output
        self.get_store = get_store or runtime.get_store
        self.get_settings = get_settings or runtime.get_settings

    @property
    def run_label(self) -> str:
        return self.analysis.run_label

    @property
    def empty_text(self) -> str:
        return self.analysis.empty_text

    def render(self, record: dict):
        return self.analysis.render(record)

    # ---- layout ---------------------------------------------------------------------
    def layout(self, **_):
        """The whole page: the analysis's form on the left, the results on the right."""
        a = self.analysis
        return dbc.Row([
            dbc.Col(section(a.section, [scaling.panel(self.name)] + self.form(a.form), step=a.step,
                            class_name="controls-card"), lg=3,
                    className="controls-col"),
            dbc.Col(html.Div([
                html.Div([html.H4(a.heading or a.title, className="page-title mb-0"),
                          html.Span(a.intro, className="text-muted small ms-3")],
                         className="d-flex align-items-baseline flex-wrap mb-2"),
                glossary.how_to_read_block(a),  # issue 9 §5: collapsible, above the results
                self.results(),
            ]), lg=9),
        ], className=f"g-3 {a.page_class}".strip())

    def form(self, items) -> list:
        """Dash components for form items (fields and layout items of :mod:`infoimb.web.fields`)."""
        from .. import fields

        out = []
        for item in items:
            if isinstance(item, fields.Field):
                out.append(item.control())
            elif item is fields.RUN:
                out.append(self.controls())
            elif item is fields.HINT:
                out.append(html.Div(id=self.hint_id, className="form-text mb-2"))
            elif item is fields.RULE:
                out.append(html.Hr())
            elif isinstance(item, fields.Subhead):
                out.append(html.Div(item.text, className="fw-semibold mb-1 mt-2"))
            elif isinstance(item, fields.Note):
                out.append(html.Div(item.text, className="small mt-2" if item.small else "form-text"))
            elif isinstance(item, fields.Row):
                out.append(dbc.Row([dbc.Col(self.form([f]), width=getattr(f, "width", None) or 12 // len(item.items))
                                    for f in item.items], className="g-2 mt-1"))
            elif isinstance(item, fields.Block):
                out.append(html.Div(self.form(item.items), id=item.id))
            else:
                raise TypeError(f"{self.name}: unknown form item {item!r}")
        return out

    def controls(self):
        """Run and Cancel buttons, the progress bar and the status line."""
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
                self.cost_block(),
                progress_bar(n, className="job-progress mt-3"),
                html.Div(id=ids.job(ids.STATUS, n), className="mt-3"),
                # what the clientside Run function packs: the names of the inputs, in order
                dcc.Store(id=ids.job(ids.CARD_INPUTS, n),
                          data={"name": n, "keys": list(self.state), "synced": list(self.synced),
                                "options": list(self.options)},
                          storage_type="memory"),
            ],
            className="analysis-controls",
        )

    def cost_block(self):
        """Under Run: what the run will cost for the current inputs, and (above the threshold)
        the one-click switch to the subsampled estimator (:mod:`.costs`)."""
        n = self.name
        return html.Div([
            html.Div(id=ids.job(ids.COST, n), className="form-text job-cost mb-0"),
            dbc.Button("", id=ids.job(ids.COST_USE, n), size="sm", color="primary", outline=True, n_clicks=0,
                       className="mt-1 job-cost-use", style={"display": "none"}),
            dcc.Store(id=ids.job(ids.COST_PROPOSAL, n), data={}, storage_type="memory"),
        ], className="mt-2")

    def results(self):
        """The results area with its download buttons."""
        n = self.name
        return html.Div(
            [
                # while a job runs: says so above the results area (which keeps what it shows)
                dbc.Alert(f"Running: the bar under {self.run_label} shows how far it is and the time left; "
                          "the results appear here when it is done.", id=ids.job(ids.RUNNING_NOTE, n),
                          color="info", className="mb-2 job-running-note", style={"display": "none"}),
                html.Div(id=ids.job(ids.RESULTS, n), className="analysis-results"),
                html.Div(
                    [
                        html.Span("Download the numbers:", className="me-2 text-muted small"),
                        dbc.Button("CSV", id=ids.job(ids.DOWNLOAD_CSV, n), size="sm", color="secondary",
                                   outline=True, className="me-1", disabled=True),
                        dbc.Button("JSON", id=ids.job(ids.DOWNLOAD_JSON, n), size="sm", color="secondary",
                                   outline=True, disabled=True),
                        *reproduce.download_parts(n),  # the working table the Reproduce commands read
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
    def register_callbacks(self, app: dash.Dash, outputs: JobOutputs | None = None) -> None:
        """Register the card's callbacks on ``app`` (once).

        The page's Run and Cancel buttons do not start or stop the job directly: clientside
        functions turn their clicks into app-level request stores (Run also packs the control
        values). The background callback listens to those stores only. So a page that is
        mounted again (navigating back to it) never triggers the job, and never makes Dash
        cancel a job still running as "outdated".
        """
        from ..sessions import current_sid, job_session

        n = self.name
        card = self

        app.clientside_callback(
            ClientsideFunction(JS, "request"),
            Output(ids.job(ids.JOB_REQUEST, n), "data"),
            Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),  # remembers the inputs of the run
            Input(ids.job(ids.RUN, n), "n_clicks"),
            State(ids.job(ids.CARD_INPUTS, n), "data"),
            State(ids.SETTINGS_STORE, "data"),
            *self.state.values(),
            prevent_initial_call=True,
        )
        app.clientside_callback(
            ClientsideFunction(JS, "stamp"),
            Output(ids.job(ids.JOB_CANCEL, n), "data"),
            Input(ids.job(ids.CANCEL, n), "n_clicks"),
            prevent_initial_call=True,
        )

        @app.callback(
            output=Output(ids.job(ids.JOB_RESULT, n), "data"),
            inputs=dict(request=Input(ids.job(ids.JOB_REQUEST, n), "data")),
            state=dict(client=State(ids.SETTINGS_STORE, "data"), page_load=State(ids.PAGE_LOAD, "data")),
            background=True,
            running=[(Output(ids.job(ids.JOB_RUNNING, n), "data"), True, False)],
            progress=[Output(ids.job(ids.JOB_PROGRESS, n), "data")],
            progress_default=[None],
            cancel=[Input(ids.job(ids.JOB_CANCEL, n), "data")],
            interval=300,
            prevent_initial_call=True,
        )
        def _job(set_progress, request, client, page_load, **session):
            if not isinstance(request, dict) or not isinstance(request.get("values"), dict):
                raise dash.exceptions.PreventUpdate
            from .queue import server_slot

            status = run_job(card.get_store(), card.analysis, job_session(session), request["values"], client,
                             card.get_settings(), report=set_progress, server_slot=server_slot)
            status["request"] = request.get("t")
            return status

        app.clientside_callback(
            ClientsideFunction(JS, "running"),
            Output(ids.job(ids.RUN, n), "disabled"),
            Output(ids.job(ids.CANCEL, n), "disabled"),
            Output(ids.job(ids.PROGRESS_WRAP, n), "style"),
            Output(ids.job(ids.RUNNING_NOTE, n), "style"),
            Input(ids.job(ids.JOB_RUNNING, n), "data"),
        )
        progress_callback(app, n)

        @app.callback(
            Output(ids.job(ids.JOB_RESULT, n), "data", allow_duplicate=True),
            Input(ids.job(ids.JOB_CANCEL, n), "data"),
            prevent_initial_call=True,
        )
        def _cancelled(request):
            if not request:
                return no_update
            return cancelled_status(n, card.run_label)

        display_inputs = {k: Input(s.component_id, s.component_property) for k, s in self.state.items()}

        @app.callback(
            output=dict(results=Output(ids.job(ids.RESULTS, n), "children"),
                        status=Output(ids.job(ids.STATUS, n), "children"),
                        shown=Output(ids.job(ids.SHOWN, n), "data"),
                        csv=Output(ids.job(ids.DOWNLOAD_CSV, n), "disabled"),
                        json=Output(ids.job(ids.DOWNLOAD_JSON, n), "disabled")),
            inputs=dict(job=Input(ids.job(ids.JOB_RESULT, n), "data"),
                        dataset=Input(ids.DATASET_STORE, "data"),
                        client=Input(ids.SETTINGS_STORE, "data"),
                        values=display_inputs),
            state=dict(shown=State(ids.job(ids.SHOWN, n), "data")),
        )
        def _display(job, dataset, client, values, shown):
            return card.display(job, client, values, {"sid": current_sid()}, shown=shown,
                                triggered=_triggered_ids())

        @app.callback(
            Output(ids.job(ids.DOWNLOAD, n), "data"),
            Input(ids.job(ids.DOWNLOAD_CSV, n), "n_clicks"),
            Input(ids.job(ids.DOWNLOAD_JSON, n), "n_clicks"),
            State(ids.job(ids.SHOWN, n), "data"),
            prevent_initial_call=True,
        )
        def _download(n_csv, n_json, shown):
            if not (n_csv or n_json):
                return no_update
            fmt = "json" if ids.DOWNLOAD_JSON in str(dash.ctx.triggered_id) else "csv"
            payload = card.download(fmt, shown, current_sid())
            return payload if payload is not None else no_update

        @app.callback(
            output=dict(text=Output(ids.job(ids.COST, n), "children"),
                        button=Output(ids.job(ids.COST_USE, n), "children"),
                        style=Output(ids.job(ids.COST_USE, n), "style"),
                        proposal=Output(ids.job(ids.COST_PROPOSAL, n), "data")),
            inputs=dict(dataset=Input(ids.DATASET_STORE, "data"), client=Input(ids.SETTINGS_STORE, "data"),
                        values=display_inputs),
        )
        def _cost(dataset, client, values):
            if not dataset:
                return dict(text=None, button="", style={"display": "none"}, proposal={})
            return card.cost_outputs(values, client, current_sid())

        proposed = [k for k in ("estimator", "n_queries", "n_permutations") if k in self.state]
        if {"estimator", "n_queries"} <= set(proposed):
            @app.callback(
                output={k: Output(self.state[k].component_id, "value", allow_duplicate=True) for k in proposed},
                inputs=dict(clicks=Input(ids.job(ids.COST_USE, n), "n_clicks")),
                state=dict(proposal=State(ids.job(ids.COST_PROPOSAL, n), "data")),
                prevent_initial_call=True,
            )
            def _use_proposal(clicks, proposal):
                if not clicks or not isinstance(proposal, dict) or not proposal:
                    raise dash.exceptions.PreventUpdate
                return {k: proposal.get(k, no_update) if k in proposal else no_update for k in proposed}

        reproduce.register_callbacks(app, card)  # "Download the working table (CSV)"
        if self.synced:
            # the page's settings, remembered in the browser's local storage as they change
            app.clientside_callback(
                ClientsideFunction(JS, "remember"),
                Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),
                *[Input(self.state[k].component_id, "value") for k in self.synced],
                State(ids.job(ids.CARD_INPUTS, n), "data"),
                State(ids.SETTINGS_STORE, "data"),
                State(ids.DATASET_STORE, "data"),
                prevent_initial_call=True,
            )
            self._register_controls(app)
        scaling.register_callbacks(app, self)  # the scaling in force and the spread warning
        if outputs is not None:
            outputs.add(f"{ids.job(ids.JOB_RESULT, n)}.data", JobOutput(
                report=lambda message, args: {"analysis": n, "status": "error", "message": message,
                                              "request": ((args or {}).get("request") or {}).get("t")},
                admit=self.admit,
            ))

    def _register_controls(self, app: dash.Dash) -> None:
        """The settings sync: the controls' values, options and hint follow the session's table
        and settings (on mount: the inputs of the last run, when still valid)."""
        card = self
        output = dict(values={k: Output(self.state[k].component_id, "value") for k in self.synced},
                      options={k: Output(cid, "options") for k, cid in self.options.items()})
        if self.hint is not None:
            output["hint"] = Output(self.hint, "children")

        @app.callback(
            output=output,
            inputs=dict(info=Input(ids.DATASET_STORE, "data"), client=Input(ids.SETTINGS_STORE, "data")),
            state=dict(current={k: State(self.state[k].component_id, "value") for k in self.synced}),
        )
        def _controls(info, client, current):
            return card.sync_controls(info, client, current, dash.ctx.triggered_id)

    # ---- callback logic (plain functions, tested without a browser) ---------------
    def sync_controls(self, info, client, current: dict, trigger) -> dict:
        """The outputs of the settings sync (``trigger``: the id of the store that changed; None
        when the page was just mounted)."""
        from ..sessions import current_sid

        meta = None
        if info:
            try:
                meta = self.get_store().get_meta(current_sid())
            except InvalidSession:
                meta = None
        if not meta:
            out = dict(values={k: (None if k in self.options else no_update) for k in self.synced},
                       options={k: [] for k in self.options})
            if self.hint is not None:
                out["hint"] = "Load a table on the Data page first."
            return out
        from ..fields import form_values

        restore = trigger is None
        data_changed = trigger == ids.DATASET_STORE
        if data_changed and saved_for(client, self.name) == meta.get("content_hash"):
            # a reload: the dataset store filled in for the table the page's settings were
            # saved with; they come back (each one while valid), not the table's defaults
            restore, data_changed = True, False
        filled = form_values(self.analysis, meta, client, current or {}, restore=restore,
                             data_changed=data_changed)
        values = filled["values"]
        out = dict(values={k: (no_update if not restore and values[k] == (current or {}).get(k) else values[k])
                           for k in self.synced},
                   options={k: filled["options"][k] for k in self.options})
        if self.hint is not None:
            out["hint"] = filled.get("hint")
        return out

    def cost_outputs(self, values, client, sid, *, rate=None) -> dict:
        """The cost block's outputs for the current inputs: the estimate's text, the one-click
        proposal's button (label and style) and the values it sets (:mod:`.costs`)."""
        from ..context import AnalysisInputError
        from ..store import NoDataset
        from .costs import card_cost, machine_rate, proposal_values, seconds_text
        from .runner import make_context, prepared_settings

        hidden = {"display": "none"}
        none = dict(text=None, button="", style=hidden, proposal={})
        settings = self.get_settings()
        try:
            ctx = make_context(self.get_store(), sid, client, settings)
            params, _ = prepared_settings(self.analysis, values or {}, ctx)
        except (InvalidSession, NoDataset, AnalysisInputError, ValueError, TypeError, KeyError):
            return none
        rate = rate or machine_rate()
        if rate is None:
            return none
        est = card_cost(self.analysis, params, ctx.meta, rate=rate,
                        threshold_seconds=getattr(settings, "subsample_above", None))
        if est is None:
            return none
        proposal = proposal_values(self.analysis, est)
        if not proposal:
            return dict(text=est.text + ".", button="", style=hidden, proposal={})
        seconds = est.proposed_seconds
        try:  # the run as it would be with the proposal (no permutation test, say)
            after = card_cost(self.analysis, prepared_settings(self.analysis, {**(values or {}), **proposal}, ctx)[0],
                              ctx.meta, rate=rate, threshold_seconds=est.threshold_seconds)
            seconds = after.seconds if after is not None else seconds
        except (AnalysisInputError, ValueError, TypeError, KeyError):
            pass
        text = (f"{est.text}. Over {est.threshold_seconds:g} s: the subsampled estimator gives an unbiased Δ "
                "with a standard error in a fraction of the time.")
        button = f"Use {est.proposed_queries:,} random queries (about {seconds_text(seconds)})"
        return dict(text=text, button=button, style={}, proposal=proposal)

    def admit(self, args: dict) -> dict | None:
        """Before the job is queued (Celery): its final status if it need not run (refused, or
        in the memo), else None. ``args`` are the background callback's arguments."""
        from ..sessions import job_session

        request = (args or {}).get("request")
        if not isinstance(request, dict) or not isinstance(request.get("values"), dict):
            return None  # the job itself ignores it (PreventUpdate)
        status = check_job(self.get_store(), self.analysis, job_session(args), request["values"],
                           args.get("client"), self.get_settings())
        if status is not None:
            status["request"] = request.get("t")
        return status

    def display(self, job, client, values, session, shown=None, triggered=()) -> dict:
        """What the results area shows (see :func:`display_logic`)."""
        return display_logic(self, job, client, values, session, shown=shown, triggered=triggered)

    def download(self, fmt: str, shown, sid):
        """A dcc.Download payload for the record on display, or None."""
        record = self._load_shown(shown, sid)
        if record is None:
            return None
        base = f"infoimb_{self.name}_{record['key'][:8]}"
        if fmt == "json":
            return dcc.send_string(dumps(record, indent=2), f"{base}.json")
        text = self.analysis.to_csv(record) if self.analysis.to_csv else record_to_csv(record)
        return dcc.send_string(text, f"{base}.csv")

    def _load_shown(self, shown, sid):
        if not isinstance(shown, dict) or not shown.get("key") or not shown.get("content_hash"):
            return None
        try:
            return self.get_store().get_result(sid, shown["content_hash"], self.name, shown["key"])
        except (InvalidSession, ValueError):
            return None


def _content_hash(store: SessionStore, sid) -> str | None:
    """The content hash of the session's current table (None: no table, or no session)."""
    try:
        return (store.get_meta(sid) or {}).get("content_hash")
    except (InvalidSession, ValueError):
        return None


def _triggered_ids() -> tuple:
    try:
        return tuple(t["prop_id"] for t in dash.ctx.triggered)
    except Exception:  # noqa: BLE001
        return ()


def saved_for(client, analysis: str) -> str | None:
    """The content hash of the table the page's remembered settings were saved with (the
    settings store's ``form``, written by ``infoimb.remember`` in assets/infoimb_jobs.js)."""
    form = (client or {}).get("form") if isinstance(client, dict) else None
    entry = (form or {}).get(analysis) if isinstance(form, dict) else None
    return entry.get("hash") if isinstance(entry, dict) else None


def cancelled_status(analysis: str, run_label: str = "Run") -> dict:
    return {"analysis": analysis, "status": "cancelled",
            "message": f"Cancelled: the job was stopped and nothing was stored. Press {run_label} to start again."}


def display_logic(card: AnalysisCard, job, client, values, session, *, shown=None, triggered=()) -> dict:
    """Decide what the results area of ``card`` shows.

    - A failed or cancelled job: its message (the previous results stay, unless they are of
      another table than the session's current one: then they are cleared).
    - Otherwise the memo for the *current* inputs: shown at once if present.
    - Else, the result of the last job if its record exists and is of the current table (the
      inputs changed since): shown with a note; a result of another table is never shown (the
      placeholder names the previous table); else a hint what to do.
    """
    sid = (session or {}).get("sid") if isinstance(session, dict) else None
    store = card.get_store()
    current_hash = _content_hash(store, sid)
    job_triggered = any(t.startswith(f"{ids.JOB_RESULT}-{card.name}.") for t in triggered)
    if isinstance(job, dict) and job_triggered and job.get("status") in ("error", "cancelled", "queued"):
        color = {"cancelled": "warning", "queued": "info"}.get(job["status"], "danger")
        alert = dbc.Alert(job.get("message", "Stopped."), color=color, className="mb-0 job-message",
                          dismissable=False)
        if isinstance(shown, dict) and shown.get("content_hash") not in (None, current_hash):
            # the figures on display are of another table: never leave them under this message
            return dict(results=html.Div(sentence(card.empty_text), className="results-placeholder"),
                        status=alert, shown=None, csv=True, json=True)
        return dict(results=no_update, status=alert, shown=no_update, csv=no_update, json=no_update)
    record, key, why = lookup(store, card.analysis, sid, values or {}, client, card.get_settings())
    note = None
    previous = None  # the name of the table of a last result that is not the current one
    if record is None and isinstance(job, dict) and job.get("status") == "ok":
        try:
            record = store.get_result(sid, job["content_hash"], card.name, job["key"])
        except (InvalidSession, ValueError, KeyError):
            record = None
        if record is not None and job.get("content_hash") != current_hash:
            previous = (record.get("dataset") or {}).get("filename") or "another table"
            record = None
        elif record is not None and job.get("key") != key:
            note = "These results are for the settings listed under them; the inputs have changed since."
    if record is None:
        text = sentence(why or card.empty_text)
        if previous:
            text = (f"A new table is loaded: the last result, for the previous table ({previous}), is no longer "
                    f"shown. {text}")
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
        children = glossary.decorate(card.analysis, card.render(record))  # tooltips + terms (issue 9 §5)
        children = reproduce.attach(children, record, store, sid, card.name)  # Python call + CLI command
    except Exception as err:  # noqa: BLE001 - a broken record must not break the page
        log.error("rendering %s failed:\n%s", card.name, traceback.format_exc())
        return dict(results=[], status=dbc.Alert(f"Could not draw the result ({err}).", color="danger"),
                    shown=None, csv=True, json=True)
    return dict(results=children, status=status, shown=new_shown, csv=False, json=False)


def register_figure_downloads(app: dash.Dash) -> None:
    """One clientside callback serving every PNG / SVG button under a figure (once per app)."""
    from dash import MATCH

    app.clientside_callback(
        ClientsideFunction(JS, "figureDownload"),
        Input({"type": ids.FIG_DOWNLOAD, "fig": MATCH, "fmt": MATCH}, "n_clicks"),
        State({"type": ids.FIG_DOWNLOAD, "fig": MATCH, "fmt": MATCH}, "id"),
        prevent_initial_call=True,
    )
