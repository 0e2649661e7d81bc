"""Loading a table on the Data page, as a job of the same runner as the analyses.

The page's upload control and example button fill app-level request stores (the clientside
functions ``infoimb.uploadRequest`` / ``infoimb.exampleRequest`` of ``assets/infoimb_jobs.js``);
the background callback of :class:`DataLoadCard` listens to those only, so mounting the page
again never starts a job and a running load is never cancelled as "outdated". The job itself is
:func:`infoimb.web.jobs.runner.run_load`: it takes one of the server's job slots
(``INFOIMB_MAX_JOBS``, :mod:`infoimb.web.jobs.queue`) like an analysis, and while all are taken
it waits in the same line, its position on the progress bar. A load whose process died is
reported on the page through the card's :class:`~infoimb.web.jobs.card.JobOutput`.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, no_update

from .. import ids
from .card import JS, JobOutput, JobOutputs, progress_bar, progress_callback

__all__ = ["DataLoadCard"]


class DataLoadCard:
    """The Data page's "Load a table" job: its progress bar and its callbacks.

    ``create_app`` calls :meth:`register_callbacks` once (as for the analysis cards: the page's
    module-level ``CARD``); nothing is registered by the constructor.
    """

    name = ids.DATA_LOAD

    def __init__(self, *, get_store=None, get_settings=None):
        from .. import runtime

        self.get_store = get_store or runtime.get_store
        self.get_settings = get_settings or runtime.get_settings

    def progress(self):
        """The progress bar of a load (hidden until one runs)."""
        return progress_bar(self.name)

    def load(self, request, payload, sid, client, report=None, server_slot=None) -> dict | None:
        """The job's outputs for a load request (None: not a request); see
        :func:`infoimb.web.jobs.runner.run_load`."""
        from .runner import run_load

        return run_load(self.get_store(), self.get_settings(), request, payload, sid, client, report=report,
                        server_slot=server_slot)

    @staticmethod
    def lost(message: str, args) -> dict:
        """The outputs that show ``message`` when the load's process died."""
        from ..data_logic import message as alert_message

        return {"dataset": no_update, "client": no_update, "message": alert_message("danger", message)}

    def register_callbacks(self, app: dash.Dash, outputs: JobOutputs | None = None) -> None:
        """The request stores, the background load, the busy state and the progress bar."""
        from ..sessions import job_session

        card = self
        app.clientside_callback(
            ClientsideFunction(JS, "uploadRequest"),
            Output(ids.DATA_REQUEST, "data"),
            Output(ids.DATA_PAYLOAD, "data"),
            Input(ids.UPLOAD, "contents"),
            State(ids.UPLOAD, "filename"),
            prevent_initial_call=True,
        )
        app.clientside_callback(
            ClientsideFunction(JS, "exampleRequest"),
            Output(ids.DATA_REQUEST, "data", allow_duplicate=True),
            Input(ids.EXAMPLE_LOAD, "n_clicks"),
            State(ids.EXAMPLE_SELECT, "value"),
            State(ids.EXAMPLE_N, "value"),
            prevent_initial_call=True,
        )
        # the uploaded bytes are not needed in the browser once the job answered
        app.clientside_callback(
            ClientsideFunction(JS, "clear"),
            Output(ids.DATA_PAYLOAD, "data", allow_duplicate=True),
            Input(ids.DATA_MESSAGE, "data"),
            prevent_initial_call=True,
        )

        @app.callback(
            output=dict(dataset=Output(ids.DATASET_STORE, "data", allow_duplicate=True),
                        message=Output(ids.DATA_MESSAGE, "data", allow_duplicate=True),
                        client=Output(ids.SETTINGS_STORE, "data", allow_duplicate=True)),
            inputs=dict(request=Input(ids.DATA_REQUEST, "data")),
            state=dict(payload=State(ids.DATA_PAYLOAD, "data"),
                       client=State(ids.SETTINGS_STORE, "data"), page_load=State(ids.PAGE_LOAD, "data")),
            background=True,
            running=[(Output(ids.UPLOAD_BUSY, "data"), True, False)],
            progress=[Output(ids.job(ids.JOB_PROGRESS, card.name), "data")],
            progress_default=[None],
            interval=300,
            prevent_initial_call=True,
        )
        def _load_data(set_progress, request, payload, client, page_load, **session):
            from .queue import server_slot

            out = card.load(request, payload, job_session(session), client, report=set_progress,
                            server_slot=server_slot)
            if out is None:
                raise dash.exceptions.PreventUpdate
            return {k: (no_update if v is None else v) for k, v in out.items()}

        app.clientside_callback(
            ClientsideFunction(JS, "loading"),
            Output(ids.UPLOAD, "disabled"),
            Output(ids.job(ids.PROGRESS_WRAP, card.name), "style"),
            Output(ids.EXAMPLE_LOAD, "disabled"),
            Input(ids.UPLOAD_BUSY, "data"),
        )
        progress_callback(app, card.name)  # the same bar and function as the analysis cards
        if outputs is not None:
            outputs.add(f"{ids.DATASET_STORE}.data", JobOutput(report=card.lost))
