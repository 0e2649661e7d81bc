"""Small layout helpers shared by the pages: figure blocks, section cards, message alerts."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import ids

UI_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def figure_block(name: str, figure, *, height: int | None = None):
    """A graph with PNG and SVG download buttons under it (the toolbar's camera gives PNG too)."""
    config = dict(GRAPH_CONFIG, toImageButtonOptions={"format": "png", "filename": f"infoimb_{name}", "scale": 2})
    kwargs = {"style": {"height": f"{height}px"}} if height else {}
    return html.Div(
        [
            dcc.Graph(id=ids.graph(name), figure=figure, config=config, **kwargs),
            html.Div(
                [
                    html.Span("Save figure:", className="text-muted small me-2"),
                    dbc.Button("PNG", id=ids.fig_download(name, "png"), size="sm", color="link",
                               className="p-0 me-2 small"),
                    dbc.Button("SVG", id=ids.fig_download(name, "svg"), size="sm", color="link",
                               className="p-0 small"),
                ],
                className="d-flex align-items-center justify-content-end figure-tools",
            ),
        ],
        className="figure-block",
    )


def section(title: str, body, *, step: str | None = None, class_name: str = "", id=None):
    """A titled card; ``step`` (e.g. "1") numbers the sections of a workflow."""
    header = [html.Span(step, className="step-badge me-2")] if step else []
    kwargs = {"id": id} if id else {}
    return dbc.Card([dbc.CardHeader(header + [html.Span(title)], className="section-header"),
                     dbc.CardBody(body)], className=f"mb-3 section {class_name}", **kwargs)


def alert(msg: dict | None, *, id=None):
    """A dbc.Alert for a message dict ``{"color", "text", "details"}`` (None: nothing)."""
    if not msg:
        return None
    details = msg.get("details") or []
    children = [html.Div(msg.get("text", ""))]
    if details:
        children.append(html.Ul([html.Li(d) for d in details], className="mb-0 mt-1 small"))
    kwargs = {"id": id} if id else {}
    return dbc.Alert(children, color=msg.get("color", "info"), className="mb-0 data-message", **kwargs)


def hint(text: str):
    return html.Div(text, className="form-text")


def table(columns, rows, *, id=None, max_height: int | None = None, page_size: int | None = None,
          highlight: list[dict] | None = None):
    """A compact table of text cells, as ONE component (``dash_table.DataTable``).

    Dash renders every html element as a component of its own; a table of a few hundred
    rows made of ``html.Td`` takes the browser tens of seconds, a DataTable a fraction of one.
    Cells are text (never interpreted as HTML). ``highlight``: DataTable conditional styles.
    """
    import warnings

    from dash import dash_table

    cols = [str(c) for c in columns]
    data = [{c: ("" if r.get(c) is None else str(r.get(c))) for c in cols} for r in rows]
    kwargs = {"id": id} if id else {}
    style_table = {"overflowX": "auto"}
    if max_height:
        style_table.update(maxHeight=f"{max_height}px", overflowY="auto")
    with warnings.catch_warnings():
        # DataTable is deprecated in favour of dash-ag-grid (not a dependency of this project)
        warnings.simplefilter("ignore", DeprecationWarning)
        return dash_table.DataTable(
            data=data,
            columns=[{"name": c, "id": c} for c in cols],
            page_size=page_size or max(len(data), 1),
            page_action="native" if page_size else "none",
            style_table=style_table,
            style_cell={"fontFamily": UI_FONT, "fontSize": "0.82rem", "padding": "3px 8px", "textAlign": "left",
                        "maxWidth": "16rem", "overflow": "hidden", "textOverflow": "ellipsis",
                        "whiteSpace": "nowrap", "border": "1px solid #e6e9ed"},
            style_header={"fontWeight": 600, "backgroundColor": "#f3f5f7"},
            style_data_conditional=highlight or [],
            css=[{"selector": ".dash-spreadsheet-menu", "rule": "display: none"}],
            **kwargs,
        )
