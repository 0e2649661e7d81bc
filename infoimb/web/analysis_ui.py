"""Small layout pieces shared by the analysis pages (Select, Time lags, Causality, Scales)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from .inputs import NONE, column_options  # noqa: F401 - used by the pages
from .runtime import get_store
from .sessions import current_sid
from .store import InvalidSession


def label(text: str, for_id: str | None = None, first: bool = False):
    return dbc.Label(text, html_for=for_id, className="fw-semibold mb-1" + ("" if first else " mt-2"))


def dropdown(id, placeholder: str, clearable: bool = False):
    return dcc.Dropdown(id=id, placeholder=placeholder, clearable=clearable)


def number(id, prefix: str, value, *, min=None, max=None, step=1, suffix: str | None = None, width=None,
           placeholder: str | None = None):
    """A small input group: ``prefix [value] suffix``."""
    parts = [dbc.InputGroupText(prefix),
             dbc.Input(id=id, type="number", min=min, max=max, step=step, value=value, debounce=True,
                       placeholder=placeholder)]
    if suffix:
        parts.append(dbc.InputGroupText(suffix))
    group = dbc.InputGroup(parts, size="sm")
    return dbc.Col(group, width=width) if width else group


def estimator(id_estimator, id_queries, *, queries: int = 1000):
    """Exact / subsampled queries, and the number of queries."""
    return html.Div([
        dbc.RadioItems(id=id_estimator, value="exact", className="mt-2 small",
                       options=[{"label": "exact: every point is a query", "value": "exact"},
                                {"label": "subsampled queries (large N)", "value": "subsampled"}]),
        dbc.InputGroup([dbc.InputGroupText("queries"),
                        dbc.Input(id=id_queries, type="number", min=10, step=1, value=queries, debounce=True)],
                       size="sm", className="mt-1"),
    ])


def heading(title: str, text: str):
    return html.Div([
        html.H4(title, className="page-title mb-0"),
        html.Span(text, className="text-muted small ms-3"),
    ], className="d-flex align-items-baseline flex-wrap mb-2")


def subhead(text: str):
    return html.Div(text, className="fw-semibold mb-1")


def session_meta(info) -> dict | None:
    """The metadata of the table of this request's session, or None (``info``: the dataset
    store; empty when nothing is loaded)."""
    if not info:
        return None
    try:
        return get_store().get_meta(current_sid())
    except InvalidSession:
        return None


def session_frame():
    """The table of this request's session, or None."""
    try:
        return get_store().get_dataset(current_sid())
    except Exception:  # noqa: BLE001 - no table: no entity values
        return None


def no_target_option(label_text: str) -> dict:
    return {"label": label_text, "value": NONE}
