"""Small layout helpers shared by the pages: figure blocks, section cards, message alerts."""

from __future__ import annotations

import math
import re

import dash_ag_grid as dag
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


def _header_tip(column: str) -> dict:
    """A column header's tooltip: what its term means (:mod:`infoimb.web.glossary`), if anything."""
    from .glossary import TERMS, column_term

    term = column_term(column)
    return {"headerTooltip": TERMS[term]} if term else {}


# A column's width from its text: about CHAR_PX per character of the grid's 0.82rem font (measured
# with the fallback sans-serif font of a headless Chromium, wider than most system fonts), plus
# the cell's padding. Numbers never wrap (their column is as wide as the widest); text wraps
# onto more lines (the row grows) once it is wider than TEXT_PX.
CHAR_PX = 8.8
HEADER_CHAR_PX = 7.6
CELL_PAD_PX = 26  # 10 px each side (assets/style.css) and the resize handle
TEXT_PX = 170
_NUMERIC = re.compile(r"(?:[\s\d.,+\-−±eE%/\[\]()<>≤≥=—·pq]|inf|nan)*")


def _text_px(text: str) -> int:
    return int(math.ceil(len(text) * CHAR_PX)) + CELL_PAD_PX


def column_defs(columns, cells: list[list[str]], flex: dict | None = None) -> list[dict]:
    """Widths of the grid's columns from their content, so no number is cut.

    ``cells``: one list of the column's cell texts per column. A column of numbers (digits,
    signs, ±, intervals, "p = …") gets the width of its widest cell and never wraps. A column
    of words as wide as ``TEXT_PX`` at most gets its widest cell; a wider one ``TEXT_PX`` (or
    its longest word) and wraps onto up to four lines (``wrapText`` and ``autoHeight``: the
    row grows); text longer than that (a list of every selected feature) is a detail: the
    cell shows its beginning and the full text on hover (class ``cell-detail``). Headers wrap
    onto two lines instead of widening a column. Spare width goes to the columns in
    proportion to their width (``flex``; ``flex={name: factor}`` scales a column's share).
    """
    defs = []
    for c, values in zip(columns, cells):
        values = [str(v) for v in values]
        widest = max((_text_px(v) for v in values), default=0)
        numeric = all(_NUMERIC.fullmatch(v) for v in values)
        head_word = max((int(math.ceil(len(w) * HEADER_CHAR_PX)) + CELL_PAD_PX for w in str(c).split()), default=0)
        if numeric:
            width = max(widest, head_word, 70)
            extra = {}
        else:
            word = max((_text_px(w) for v in values for w in v.split()), default=0)
            if widest <= TEXT_PX:
                width, extra = max(widest, head_word, 70), {}
            elif widest <= 4 * TEXT_PX and word <= TEXT_PX:
                width, extra = max(TEXT_PX, head_word), {"wrapText": True, "autoHeight": True}
            else:
                width, extra = max(TEXT_PX, head_word), {"cellClass": "cell-detail"}
        defs.append({"minWidth": width, "flex": round(width / 10 * (flex or {}).get(c, 1)), **extra})
    return defs


def table(columns, rows, *, id=None, max_height: int | None = None, page_size: int | None = None,
          highlight: list[dict] | None = None, flex: dict | None = None):
    """A compact table of text cells, as ONE component (``dash_ag_grid.AgGrid``).

    Dash renders every html element as a component of its own; a table of a few hundred
    rows made of ``html.Td`` takes the browser tens of seconds, a grid a fraction of one.
    Cells are text (never interpreted as HTML). ``highlight``: rows to emphasise, each
    ``{"rows": [row indices], "style": {css}}`` or ``{"column": name, "contains": text,
    "style": {css}}`` (turned into the grid's row-style conditions, which dash-ag-grid
    evaluates with its own parser, not ``eval``: the page's CSP holds). ``flex``: {column:
    relative width} for columns wider than the others (default 1 each). Column widths
    follow the content (:func:`column_defs`): numbers are never cut; a table wider than the
    page scrolls sideways.
    """
    cols = [str(c) for c in columns]
    fields = [f"c{i}" for i in range(len(cols))]  # safe field names whatever the column names
    data = [{f: ("" if r.get(c) is None else str(r.get(c))) for f, c in zip(fields, cols)} | {"_row": i}
            for i, r in enumerate(rows)]
    conditions = []
    for rule in highlight or []:
        if "rows" in rule:
            wanted = ", ".join(str(int(i)) for i in rule["rows"])
            conditions.append({"condition": f"[{wanted}].includes(params.data._row)", "style": rule["style"]})
        elif "column" in rule and str(rule["column"]) in cols:
            field = fields[cols.index(str(rule["column"]))]
            text = str(rule["contains"]).replace("\\", "").replace("'", "")
            conditions.append({"condition": f"params.data.{field}.includes('{text}')", "style": rule["style"]})
    n = len(data)
    shown = min(n, page_size) if page_size else n
    height = min(max_height or 10_000, 46 + 28 * max(shown, 1) + (48 if page_size and n > page_size else 0))
    # a short table is as tall as its rows (wrapped rows grow), a long one scrolls
    auto = not (page_size and n > page_size) and n <= 30 and 46 + 28 * max(n, 1) <= (max_height or 10_000)
    kwargs = {"id": id} if id else {}
    return html.Div(dag.AgGrid(
        rowData=data,
        columnDefs=[{"headerName": c, "field": f, "tooltipField": f} | d | _header_tip(c)
                    for c, f, d in zip(cols, fields, column_defs(cols, [[r[f] for r in data] for f in fields],
                                                                 flex))],
        defaultColDef={"sortable": False, "resizable": True, "suppressMovable": True, "minWidth": 70,
                       "flex": 1, "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={"rowHeight": 28, "headerHeight": 32, "suppressCellFocus": True,
                         "pagination": bool(page_size and n > page_size),
                         "paginationPageSize": page_size or 100,
                         "paginationPageSizeSelector": False, "enableCellTextSelection": True,
                         "ensureDomOrder": True, "suppressColumnVirtualisation": True,
                         # every row of a page in the DOM (found by the browser's search, read by
                         # tests): wrapped rows are taller than rowHeight, so fewer would be drawn
                         "suppressRowVirtualisation": shown <= 200}
                        | ({"domLayout": "autoHeight"} if auto else {}),
        getRowStyle={"styleConditions": conditions} if conditions else None,
        className="compact-grid",
        style={"height": None if auto else f"{height}px", "width": "100%", "fontFamily": UI_FONT,
               "fontSize": "0.82rem"},
        **kwargs,
    ), className="grid-wrap")
