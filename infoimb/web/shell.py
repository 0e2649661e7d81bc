"""The frame around the pages: navbar, app-level stores, the browser session.

:func:`serve_layout` is ``app.layout`` (a function: every page load gets a new page-load id).
The callback here tells every page which table the browser's session holds (the session is
the HttpOnly cookie of :mod:`infoimb.web.sessions`, never a component).
"""

from __future__ import annotations

import uuid

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from . import ids
from .analyses import ANALYSES
from .jobs.card import app_stores
from .data_logic import dataset_info
from .runtime import get_store
from .sessions import current_sid
from .store import InvalidSession

#: the order of the navbar; pages not in it come after, by their registered ``order``
NAV_ORDER = ("/", "/compare", "/select", "/lags", "/causality", "/graph", "/scales")


def navbar():
    pages = sorted(dash.page_registry.values(),
                   key=lambda p: (NAV_ORDER.index(p["path"]) if p["path"] in NAV_ORDER else 99, p.get("order") or 0))
    links = [dbc.NavItem(dbc.NavLink(p.get("name", p["path"]), href=p["relative_path"], active="exact",
                                     id=ids.nav_link(p["module"].split(".")[-1])))
             for p in pages if not p.get("hide_nav")]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.Span("Δ", className="brand-delta"), " infoimb"], href="/",
                                className="me-4"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                html.Span("", id=ids.NAV_DATASET, className="navbar-text small text-light"),
            ],
            fluid=True,
        ),
        color="dark", dark=True, className="mb-3 app-navbar", id=ids.NAVBAR,
    )


def serve_layout():
    return html.Div(
        [
            dcc.Store(id=ids.SETTINGS_STORE, storage_type="local"),
            dcc.Store(id=ids.PAGE_LOAD, data=uuid.uuid4().hex, storage_type="memory"),
            # non-null initial data: a memory store mounting with None fires its callbacks
            dcc.Store(id=ids.DATASET_STORE, data={}, storage_type="memory"),
            dcc.Store(id=ids.DATA_MESSAGE, data={}, storage_type="memory"),
            dcc.Store(id=ids.UPLOAD_BUSY, data=False, storage_type="memory"),
            dcc.Store(id=ids.DATA_REQUEST, data={}, storage_type="memory"),
            dcc.Store(id=ids.DATA_PAYLOAD, data="", storage_type="memory"),
            dcc.Store(id=ids.job(ids.JOB_PROGRESS, ids.DATA_LOAD), data={}, storage_type="memory"),
            *app_stores(ANALYSES),
            navbar(),
            dbc.Container(dash.page_container, fluid=True, className="page-body"),
            html.Footer(
                dbc.Container(
                    html.Small([
                        "infoimb · the information imbalance of Glielmo, Zeni, Cheng, Csányi & Laio, "
                        "PNAS Nexus 2022. Your data stay on this server, in your browser session only."
                    ], className="text-muted"),
                    fluid=True),
                className="app-footer"),
        ]
    )


def session_dataset(sid, store=None) -> dict | None:
    """The dataset info of session ``sid`` for a page load (None: no table, or no session)."""
    store = store or get_store()
    try:
        return dataset_info(store.get_meta(sid)) if store.exists(sid) else None
    except InvalidSession:
        return None


def register_callbacks(app: dash.Dash) -> None:
    """The frame's callbacks: the session's table announced on every page load."""

    @app.callback(Output(ids.DATASET_STORE, "data"), Input(ids.PAGE_LOAD, "data"))
    def _announce_dataset(_page_load):
        return session_dataset(current_sid())

    @app.callback(Output(ids.NAV_DATASET, "children"), Input(ids.DATASET_STORE, "data"))
    def _nav_dataset(info):
        if not info:
            return "no data loaded"
        return f"{info.get('filename')} · {info.get('n_rows')} rows × {info.get('n_cols')} columns"
