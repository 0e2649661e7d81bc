"""Data page: load a table (upload or example), see it, assign roles, preprocess, name groups."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from infoimb.web import data_logic, ids, matrices, scaling
from infoimb.web.context import SCALINGS, clean_groups, numeric_columns, text_columns, usable_columns
from infoimb.web.jobs.loader import DataLoadCard
from infoimb.web.runtime import get_settings, get_store
from infoimb.web.sessions import current_sid
from infoimb.web.matrices import ORDER
from infoimb.web.store import InvalidSession
from infoimb.web.ui import alert, hint, section, table
from infoimb.web.glossary import DATA_HELP

dash.register_page(__name__, path="/", name="Data", title="infoimb · Data", order=0)



def _help(control: str):
    """The help text under a control (infoimb.web.glossary.DATA_HELP: what it is, what it does)."""
    return html.Div(DATA_HELP[control], className="form-text field-help")


def _example_options():
    return [{"label": e["title"], "value": e["name"]} for e in data_logic.examples()]


def layout(**_):
    settings = get_settings()
    limit = (f"CSV, TSV, Parquet or Excel (.xlsx) · at most {settings.max_upload_mb:g} MB and "
             f"{settings.max_columns} columns")
    examples = data_logic.examples()
    first = examples[0] if examples else None
    load_card = section("Load a table", [
        html.Div(
            dcc.Upload(
                id=ids.UPLOAD,
                children=html.Div([html.Div("Drag and drop a file here, or ", className="d-inline"),
                                   html.A("choose a file", className="upload-link")]),
                className="upload-zone",
                className_active="upload-zone active",
                max_size=settings.max_upload_bytes,
                multiple=False,
            ),
            **{"data-max-bytes": str(settings.max_upload_bytes), "data-max-mb": f"{settings.max_upload_mb:g}"},
            className="upload-guard",
        ),
        html.Div(limit, id=ids.UPLOAD_LIMIT, className="form-text"),
        _help(ids.UPLOAD),
        CARD.progress(),
        html.Hr(),
        dbc.Label("Or a built-in example", html_for=ids.EXAMPLE_SELECT, className="fw-semibold"),
        dbc.InputGroup([
            dbc.Select(id=ids.EXAMPLE_SELECT, options=_example_options(),
                       value=first["name"] if first else None),
            # no min / step: a browser would send a size outside them as empty (see fields.IntField)
            dbc.Input(id=ids.EXAMPLE_N, type="number", step="any", placeholder="size",
                      value=first["n_default"] if first else None, style={"maxWidth": "6.5rem"},
                      debounce=True),
            dbc.Button("Load example", id=ids.EXAMPLE_LOAD, color="primary", n_clicks=0),
        ]),
        _help(ids.EXAMPLE_SELECT),
        html.Div(first["description"] if first else "", id=ids.EXAMPLE_DESCRIPTION,
                 className="example-description small mt-2"),
        html.Div(id=ids.DATA_ALERT, className="mt-3"),
    ], step="1")

    table_card = section("The table", [
        html.Div(id=ids.DATA_SUMMARY, className="mb-2"),
        html.Div(id=ids.DATA_PROBLEMS),
        dbc.Tabs([
            dbc.Tab(html.Div(id=ids.DATA_PREVIEW, className="pt-2"), label="First rows", tab_id=ids.DATA_TAB_PREVIEW),
            dbc.Tab(html.Div(id=ids.DATA_COLUMNS, className="pt-2"), label="Columns", tab_id=ids.DATA_TAB_COLUMNS),
        ], active_tab=ids.DATA_TAB_COLUMNS, className="mt-2"),
    ], step="2")

    roles_card = section("Roles and scaling", [
        _proposal_block(),
        dbc.Label("Features (together: the full space)", html_for=ids.ROLE_FEATURES),
        dcc.Dropdown(id=ids.ROLE_FEATURES, multi=True, placeholder="numeric or text columns"),
        _help(ids.ROLE_FEATURES),
        dbc.Label("Categorical codes (numeric columns compared by equality)", html_for=ids.ROLE_CATEGORICAL,
                  className="mt-2"),
        dcc.Dropdown(id=ids.ROLE_CATEGORICAL, multi=True, placeholder="none (text columns are categorical anyway)"),
        hint("Text columns (sex M/F, a treatment arm) are categorical: two rows are at distance 0 or 1 in them. Mark "
             "numeric columns that hold codes (0/1/2, an id) too. A space of categorical features is measured with "
             "the categorical metric, a mixed one with Gower's; scaling never applies to them."),
        dbc.Row([
            dbc.Col([dbc.Label("Time column", html_for=ids.ROLE_TIME),
                     dcc.Dropdown(id=ids.ROLE_TIME, placeholder="none"), _help(ids.ROLE_TIME)], md=6),
            dbc.Col([dbc.Label("Entity (group) column", html_for=ids.ROLE_ENTITY),
                     dcc.Dropdown(id=ids.ROLE_ENTITY, placeholder="none"), _help(ids.ROLE_ENTITY)], md=6),
        ], className="mt-2"),
        dbc.Label("Periodic features (angles, phases) and their period", html_for=ids.ROLE_PERIODIC,
                  className="mt-2"),
        dcc.Dropdown(id=ids.ROLE_PERIODIC, multi=True, placeholder="none"),
        _help(ids.ROLE_PERIODIC),
        html.Div(id=ids.ROLE_PERIODS, className="mt-1"),
        dbc.Label("Scaling before distances", className="mt-2"),
        dbc.RadioItems(id=ids.ROLE_SCALING, options=[{"label": v, "value": k} for k, v in SCALINGS.items()],
                       value=None, inline=True),  # filled from the settings store (_scaling_radio)
        _help(ids.ROLE_SCALING),
        hint("Applied to every analysis; periodic features are left unscaled so that their period keeps its meaning. "
             "An uploaded table starts with z-score (its features come in their own units); an example with "
             "the scaling its reference values use (none)."),
        scaling.panel(scaling.DATA, line=False),
        dbc.Button("Apply roles", id=ids.ROLE_SAVE, color="primary", size="sm", className="mt-2", n_clicks=0),
        html.Div(id=ids.ROLE_MESSAGE, className="mt-2"),
    ], step="3")

    groups_card = section("Feature groups", [
        hint("Name groups of columns (e.g. “policies”, “epidemic state”); every page offers them as spaces. "
             "They are kept in this browser and survive a reload."),
        html.Div(id=ids.GROUP_LIST, className="mt-2"),
        dcc.Store(id=ids.GROUP_DRAFT, data={}, storage_type="memory"),
        dcc.Store(id=ids.GROUP_REFRESH, storage_type="memory"),
        dbc.Button("+ Add a group", id=ids.GROUP_ADD, color="secondary", outline=True, size="sm", n_clicks=0,
                   className="mt-1"),
        dbc.Button("Clear groups", id=ids.GROUP_CLEAR, color="danger", outline=True, size="sm", n_clicks=0,
                   className="mt-1 ms-2", title="remove every group of this table (groups of other tables stay)"),
        _help(ids.GROUP_ADD),
        html.Div(id=ids.GROUP_OTHERS, className="form-text mt-1"),
        html.Div(id=ids.GROUP_MESSAGE, className="mt-2"),
    ], step="4")

    pre_card = section("Preprocess panel data", [
        hint("Uses the time and entity columns of the roles. Each step makes a new working table; "
             "“Reset” goes back to the table as loaded."),
        dbc.Row([
            dbc.Col([
                dbc.Label("Resample to a period", className="small fw-semibold"),
                dbc.InputGroup([
                    dbc.Input(id=ids.PRE_RESAMPLE_PERIOD, placeholder="W, 2W, MS or a number", size="sm"),
                    dbc.Select(id=ids.PRE_RESAMPLE_HOW, value="mean", size="sm",
                               options=[{"label": h, "value": h} for h in ("mean", "sum", "last", "first", "max",
                                                                            "min", "median")]),
                    dbc.Button("Resample", id=ids.PRE_RESAMPLE, size="sm", n_clicks=0),
                ], size="sm"),
                _help(ids.PRE_RESAMPLE_PERIOD),
            ], lg=4),
            dbc.Col([
                dbc.Label("Difference cumulative counts", className="small fw-semibold"),
                dbc.InputGroup([
                    html.Div(dcc.Dropdown(id=ids.PRE_DIFF_COLUMNS, multi=True, placeholder="columns"),
                             className="flex-grow-1 dropdown-in-group"),
                    dbc.Button("Difference", id=ids.PRE_DIFF, size="sm", n_clicks=0),
                ], size="sm"),
                _help(ids.PRE_DIFF_COLUMNS),
            ], lg=4),
            dbc.Col([
                dbc.Label("Ratio column", className="small fw-semibold"),
                dbc.InputGroup([
                    dbc.Select(id=ids.PRE_RATIO_NUM, placeholder="numerator", size="sm"),
                    dbc.Select(id=ids.PRE_RATIO_DEN, placeholder="denominator", size="sm"),
                    dbc.Input(id=ids.PRE_RATIO_NAME, placeholder="name", size="sm"),
                    dbc.Button("Add", id=ids.PRE_RATIO, size="sm", n_clicks=0),
                ], size="sm"),
                _help(ids.PRE_RATIO_NUM),
            ], lg=4),
        ], className="g-3"),
        _datahub_row(),
        html.Div([
            dbc.Button("Drop rows with missing values", id=ids.PRE_DROP, size="sm", color="secondary",
                       outline=True, n_clicks=0, className="me-2"),
            dbc.Button("Convert text-in-number columns", id=ids.COERCE_BUTTON, size="sm", color="secondary",
                       outline=True, n_clicks=0, className="me-2"),
            dbc.Button("Reset to the original table", id=ids.PRE_RESET, size="sm", color="danger", outline=True,
                       n_clicks=0),
        ], className="mt-3"),
        _help(ids.PRE_DROP),
        html.Div(id=ids.PRE_MESSAGE, className="mt-2"),
    ], step="6")

    return html.Div([
        dbc.Row([dbc.Col(load_card, lg=5), dbc.Col(table_card, lg=7)], className="g-3"),
        dbc.Row([dbc.Col(roles_card, lg=6), dbc.Col(groups_card, lg=6)], className="g-3"),
        _matrix_card(settings),
        pre_card,
    ], className="data-page")


def _proposal_block():
    """The proposed time / entity roles of a long panel, with their reasons (filled on load)."""
    return html.Div([
        html.Div(id=ids.ROLE_PROPOSAL, className="small"),
        dbc.Button("Dismiss", id=ids.ROLE_PROPOSAL_DISMISS, size="sm", color="link", n_clicks=0,
                   className="p-0 small", title="clear the proposed time and entity roles"),
    ], id=ids.ROLE_PROPOSAL + "-box", className="alert alert-info py-2 px-3 mb-2", style={"display": "none"})


def _datahub_row():
    """One-click Covid-19 Data Hub pipeline, and per-column transforms (absolute value, log growth)."""
    return dbc.Row([
        dbc.Col([
            dbc.Label("Covid-19 Data Hub (daily, one row per country)", className="small fw-semibold"),
            html.Div([
                dbc.Button("Data Hub → weekly panel", id=ids.PRE_DATAHUB, size="sm", n_clicks=0),
            ]),
            hint("Country rows, absolute policy levels (negative = targeted), weekly last values, weekly new "
                 "counts (*_new), positivity = confirmed_new / tests_new, cases_growth = log((C_t+1)/(C_t−1+1)); "
                 "adds the groups “policies” (the paper's nine), “all policies”, “epidemic state” "
                 "(cases_growth) and “tests and cases”."),
        ], lg=5),
        dbc.Col([
            dbc.Label("Transform columns", className="small fw-semibold"),
            dbc.InputGroup([
                html.Div(dcc.Dropdown(id=ids.PRE_TRANSFORM_COLUMNS, multi=True, placeholder="columns"),
                         className="flex-grow-1 dropdown-in-group"),
                dbc.Button("Absolute value", id=ids.PRE_ABS, size="sm", n_clicks=0,
                           title="|x|: e.g. the Data Hub's targeted policy levels (negative) as levels"),
                dbc.Button("Log growth", id=ids.PRE_GROWTH, size="sm", n_clicks=0,
                           title="log((x_t + 1) / (x_t−1 + 1)) per entity: e.g. weekly growth of new cases"),
            ], size="sm"),
            _help(ids.PRE_TRANSFORM_COLUMNS),
        ], lg=7),
    ], className="g-3 mt-1")


# loading: a job of the same runner as the analyses (infoimb.web.jobs.loader), registered by
# create_app like the analysis cards; it counts against the server's job cap (INFOIMB_MAX_JOBS)
CARD = DataLoadCard()


@dash.callback(Output(ids.DATA_ALERT, "children"), Input(ids.DATA_MESSAGE, "data"))
def _show_message(msg):
    return alert(msg, id=ids.DATA_MESSAGE_ALERT)


@dash.callback(Output(ids.EXAMPLE_DESCRIPTION, "children"), Output(ids.EXAMPLE_N, "value"),
               Input(ids.EXAMPLE_SELECT, "value"), prevent_initial_call=True)
def _describe_example(name):
    for e in data_logic.examples():
        if e["name"] == name:
            return [e["description"], html.Span(f" (size = number of {e['n_unit']})", className="text-muted")], \
                e["n_default"]
    return "", no_update


# ======================================================================================
# describing the table
# ======================================================================================
def _meta():
    try:
        return get_store().get_meta(current_sid())
    except InvalidSession:
        return None


@dash.callback(
    Output(ids.DATA_SUMMARY, "children"),
    Output(ids.DATA_PROBLEMS, "children"),
    Output(ids.DATA_PREVIEW, "children"),
    Output(ids.DATA_COLUMNS, "children"),
    Input(ids.DATASET_STORE, "data"),
)
def _describe(info):
    meta = _meta() if info else None
    if not meta:
        empty = html.Div("No table loaded yet: upload a file or load an example.", className="text-muted")
        return empty, None, None, None
    history = meta.get("history") or []
    summary = html.Div([
        html.Strong(meta["filename"], className="me-2 dataset-name"),
        dbc.Badge(f"{meta['n_rows']} rows", color="light", text_color="dark", className="me-1", id=ids.DATA_N_ROWS),
        dbc.Badge(f"{meta['n_cols']} columns", color="light", text_color="dark", className="me-1", id=ids.DATA_N_COLS),
        dbc.Badge(f"{len(numeric_columns(meta))} numeric", color="light", text_color="dark"),
        *([html.Div("Steps: " + " → ".join(history), className="small text-muted mt-1")] if history else []),
    ])
    probs = data_logic.problems(meta)
    problem_list = [dbc.Alert(p["text"], color=p["level"], className="py-2 mb-2 small") for p in probs]
    pv = meta.get("preview") or {"columns": [], "rows": []}
    preview = [table(pv["columns"], pv["rows"], id=ids.DATA_PREVIEW_TABLE)]
    if pv.get("n_hidden_columns"):
        preview.append(hint(f"… and {pv['n_hidden_columns']} more columns."))
    rows = data_logic.column_rows(meta)
    columns = table(["column", "type", "missing", "inf", "range", "unique", "notes"], rows, id=ids.DATA_COLUMNS_TABLE,
                    page_size=10 if len(rows) > 10 else None, highlight=[
                        {"column": "notes", "contains": "text in numbers", "style": {"backgroundColor": "#fff3cd"}},
                        {"column": "notes", "contains": "constant", "style": {"color": "#6c757d"}}])
    return summary, problem_list, preview, columns


# ======================================================================================
# roles
# ======================================================================================
@dash.callback(
    Output(ids.ROLE_FEATURES, "options"), Output(ids.ROLE_FEATURES, "value"),
    Output(ids.ROLE_TIME, "options"), Output(ids.ROLE_TIME, "value"),
    Output(ids.ROLE_ENTITY, "options"), Output(ids.ROLE_ENTITY, "value"),
    Output(ids.ROLE_PERIODIC, "options"), Output(ids.ROLE_PERIODIC, "value"),
    Output(ids.PRE_DIFF_COLUMNS, "options"), Output(ids.PRE_RATIO_NUM, "options"),
    Output(ids.PRE_RATIO_DEN, "options"),
    Input(ids.DATASET_STORE, "data"),
)
def _fill_roles(info):
    meta = _meta() if info else None
    if not meta:
        return [], [], [], None, [], None, [], [], [], [], []
    roles = meta.get("roles") or {}
    numeric = numeric_columns(meta)
    num_opts = [{"label": c, "value": c} for c in numeric]
    all_opts = [{"label": c, "value": c} for c in meta.get("columns", [])]
    text = set(text_columns(meta))
    feat_opts = [{"label": f"{c} (text: categorical)" if c in text else c, "value": c} for c in usable_columns(meta)]
    return (feat_opts, roles.get("features", []), all_opts, roles.get("time"), all_opts, roles.get("entity"),
            num_opts, list((roles.get("periodic") or {}).keys()), num_opts, num_opts, num_opts)


@dash.callback(
    Output(ids.ROLE_CATEGORICAL, "options"), Output(ids.ROLE_CATEGORICAL, "value"),
    Input(ids.DATASET_STORE, "data"),
)
def _fill_categorical(info):
    meta = _meta() if info else None
    if not meta:
        return [], []
    return ([{"label": c, "value": c} for c in numeric_columns(meta)],
            list((meta.get("roles") or {}).get("categorical") or []))


@dash.callback(
    Output(ids.ROLE_PERIODS, "children"),
    Input(ids.ROLE_PERIODIC, "value"),
    State(ids.DATASET_STORE, "data"),
)
def _period_inputs(columns, info):
    meta = _meta() if info else None
    known = ((meta or {}).get("roles") or {}).get("periodic") or {}
    items = []
    for c in columns or []:
        items.append(dbc.InputGroup([
            dbc.InputGroupText(c, className="period-name"),
            dbc.Input(id={"type": ids.ROLE_PERIOD, "column": c}, type="number", min=0, value=known.get(c),
                      placeholder="period, e.g. 360 or 6.2832"),
        ], size="sm", className="mb-1"))
    return items


@dash.callback(
    Output(ids.ROLE_MESSAGE, "children"),
    Output(ids.DATASET_STORE, "data", allow_duplicate=True),
    Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),
    Input(ids.ROLE_SAVE, "n_clicks"),
    State(ids.ROLE_FEATURES, "value"), State(ids.ROLE_TIME, "value"), State(ids.ROLE_ENTITY, "value"),
    State(ids.ROLE_PERIODIC, "value"),
    State({"type": ids.ROLE_PERIOD, "column": ALL}, "value"),
    State({"type": ids.ROLE_PERIOD, "column": ALL}, "id"),
    State(ids.DATASET_STORE, "data"),
    State(ids.SETTINGS_STORE, "data"),
    State(ids.ROLE_CATEGORICAL, "value"),
    prevent_initial_call=True,
)
def _save_roles(n, features, time_col, entity, periodic, period_values, period_ids, info, client, categorical=None):
    if not n:
        return no_update, no_update, no_update
    periods = {i["column"]: v for i, v in zip(period_ids or [], period_values or [])}
    msg = data_logic.save_roles(get_store(), current_sid(), features, time_col, entity, periodic, periods,
                                categorical=categorical)
    saved = info and msg["color"] in ("success", "warning")
    new_info = dict(info, roles_saved=msg.get("at")) if saved else no_update
    # remembered for this content in the browser: the same file loaded again gets these roles back
    new_client = data_logic.remember_current_roles(get_store(), current_sid(), client) if saved else None
    return alert(msg, id=ids.ROLE_ALERT), new_info, (new_client or no_update)


@dash.callback(
    Output(ids.ROLE_PROPOSAL, "children"),
    Output(ids.ROLE_PROPOSAL + "-box", "style"),
    Input(ids.DATASET_STORE, "data"),
)
def _show_proposal(info):
    meta = _meta() if info else None
    text = data_logic.proposal_text(meta)
    if not text:
        return None, {"display": "none"}
    return text, {}


@dash.callback(
    Output(ids.DATASET_STORE, "data", allow_duplicate=True),
    Input(ids.ROLE_PROPOSAL_DISMISS, "n_clicks"),
    State(ids.DATASET_STORE, "data"),
    prevent_initial_call=True,
)
def _dismiss_proposal(n, info):
    if not n or not info:
        return no_update
    if not data_logic.dismiss_proposal(get_store(), current_sid()):
        return no_update
    return dict(info, roles_saved=f"dismissed {n}")


@dash.callback(
    Output(ids.ROLE_SCALING, "value"),
    Input(ids.DATASET_STORE, "data"),
    Input(ids.job(ids.SCALING_FIX, scaling.DATA), "n_clicks"),
    State(ids.SETTINGS_STORE, "data"),
)
def _scaling_radio(info, n_fix, client):
    """The radio shows the settings store's scaling (on mount, after a load set a table's
    default); the warning's "Use z-score" sets it to z-score (and _save_scaling stores it)."""
    return scaling.radio_value(ctx.triggered_id == ids.job(ids.SCALING_FIX, scaling.DATA) and bool(n_fix), client)


@dash.callback(
    Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),
    Input(ids.ROLE_SCALING, "value"),
    State(ids.SETTINGS_STORE, "data"),
    State(ids.DATASET_STORE, "data"),
    prevent_initial_call=True,
)
def _save_scaling(value, client, info):
    return scaling.saved_scaling(value, client, (info or {}).get("fingerprint"))


# the full feature space's spread warning (infoimb.web.scaling)
scaling.register_callbacks(dash)


# ======================================================================================
# preprocessing
# ======================================================================================
@dash.callback(
    Output(ids.DATASET_STORE, "data", allow_duplicate=True),
    Output(ids.PRE_MESSAGE, "children"),
    Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),
    Input(ids.PRE_RESAMPLE, "n_clicks"), Input(ids.PRE_DIFF, "n_clicks"), Input(ids.PRE_RATIO, "n_clicks"),
    Input(ids.PRE_DROP, "n_clicks"), Input(ids.COERCE_BUTTON, "n_clicks"), Input(ids.PRE_RESET, "n_clicks"),
    Input(ids.PRE_DATAHUB, "n_clicks"), Input(ids.PRE_ABS, "n_clicks"), Input(ids.PRE_GROWTH, "n_clicks"),
    State(ids.PRE_RESAMPLE_PERIOD, "value"), State(ids.PRE_RESAMPLE_HOW, "value"),
    State(ids.PRE_DIFF_COLUMNS, "value"), State(ids.PRE_RATIO_NUM, "value"), State(ids.PRE_RATIO_DEN, "value"),
    State(ids.PRE_RATIO_NAME, "value"), State(ids.PRE_TRANSFORM_COLUMNS, "value"), State(ids.SETTINGS_STORE, "data"),
    prevent_initial_call=True,
)
def _preprocess(n1, n2, n3, n4, n5, n6, n7, n8, n9, period, how, diff_cols, num, den, name, transform_cols, client):
    trigger = ctx.triggered_id
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update, no_update, no_update
    sid = current_sid()
    ops = {ids.PRE_RESAMPLE: ("resample", {"period": period, "how": how}),
           ids.PRE_DIFF: ("difference", {"columns": diff_cols}),
           ids.PRE_RATIO: ("ratio", {"numerator": num, "denominator": den, "name": name}),
           ids.PRE_DROP: ("drop_missing", {}),
           ids.PRE_RESET: ("reset", {}),
           ids.PRE_DATAHUB: ("datahub", {}),
           ids.PRE_ABS: ("absolute", {"columns": transform_cols}),
           ids.PRE_GROWTH: ("growth", {"columns": transform_cols})}
    if trigger == ids.COERCE_BUTTON:
        meta = _meta()
        mixed = [c["column"] for c in (meta or {}).get("summary", []) if c["kind"] == "mixed"]
        if not mixed:
            return no_update, alert({"color": "secondary", "text": "No column mixes text and numbers."}), no_update
        op, params = "coerce", {"columns": mixed}
    else:
        op, params = ops[trigger]
    out = data_logic.preprocess_step(get_store(), sid, op, params, get_settings())
    new_client = no_update
    if out.get("groups"):  # the Data Hub step names its groups (kept with this table's columns)
        new_client = dict(client or {}, groups=data_logic.merge_groups((client or {}).get("groups"), out["groups"]))
    return (out["dataset"] or no_update), alert(out["message"], id=ids.PRE_ALERT), new_client


@dash.callback(Output(ids.PRE_TRANSFORM_COLUMNS, "options"), Input(ids.DATASET_STORE, "data"))
def _transform_options(info):
    meta = _meta() if info else None
    return [{"label": c, "value": c} for c in numeric_columns(meta)] if meta else []


# ======================================================================================
# feature groups
# ======================================================================================
def _group_row(i: int, group: dict, options: list[str]):
    opts = [{"label": c, "value": c} for c in options]
    known = set(options)
    opts += [{"label": f"{c} (not in this table)", "value": c} for c in group["columns"] if c not in known]
    return dbc.Row([
        dbc.Col(dbc.Input(id={"type": ids.GROUP_NAME, "index": i}, value=group["name"], size="sm",
                          placeholder="group name", debounce=True), width=4),
        dbc.Col(dcc.Dropdown(id={"type": ids.GROUP_COLUMNS, "index": i}, options=opts, value=group["columns"],
                             multi=True, placeholder="columns"), width=7),
        dbc.Col(dbc.Button("×", id={"type": ids.GROUP_REMOVE, "index": i}, size="sm", color="link",
                           className="text-danger p-0 remove-group", n_clicks=0, title="remove this group"),
                width=1, className="d-flex align-items-center"),
    ], className="g-2 mb-2 group-row align-items-center")


# The editor's callbacks only touch page-level components (the draft store); one callback with a
# single, non-wildcard page-level input copies the draft into the app-level settings store.
# So leaving the page (which removes the wildcard inputs) can never write an empty group list.
@dash.callback(Output(ids.GROUP_REFRESH, "data"), Input(ids.DATASET_STORE, "data"))
def _groups_refresh(info):
    return {"dataset": (info or {}).get("content_hash"), "at": (info or {}).get("stored_at")}


@dash.callback(
    Output(ids.GROUP_LIST, "children"),
    Output(ids.GROUP_DRAFT, "data", allow_duplicate=True),
    Output(ids.GROUP_OTHERS, "children"),
    Input(ids.GROUP_ADD, "n_clicks"),
    Input({"type": ids.GROUP_REMOVE, "index": ALL}, "n_clicks"),
    Input(ids.GROUP_REFRESH, "data"),
    Input(ids.GROUP_CLEAR, "n_clicks"),
    State(ids.SETTINGS_STORE, "data"),
    State({"type": ids.GROUP_NAME, "index": ALL}, "value"),
    State({"type": ids.GROUP_COLUMNS, "index": ALL}, "value"),
    prevent_initial_call="initial_duplicate",
)
def _render_groups(n_add, n_remove, refresh, n_clear, client, names, columns):
    client = dict(client or {})
    trigger = ctx.triggered_id
    meta = _meta() if refresh and refresh.get("dataset") else None
    # only this table's groups are shown (and edited); the others are kept for their tables
    groups, others = data_logic.groups_of_table(client.get("groups"), (meta or {}).get("columns") or [])
    changed = False
    if trigger == ids.GROUP_ADD and n_add:
        groups = data_logic.groups_after("add", [{"name": n or "", "columns": c or []} for n, c in zip(names, columns)],
                                         existing_names=[g["name"] for g in others])
        changed = True
    elif trigger == ids.GROUP_CLEAR and n_clear:
        groups = []
        changed = True
    elif isinstance(trigger, dict) and trigger.get("type") == ids.GROUP_REMOVE and any(n_remove or []):
        groups = data_logic.groups_after("remove", [{"name": n or "", "columns": c or []} for n, c in zip(names, columns)],
                              index=trigger["index"])
        changed = True
    options = usable_columns(meta) if meta else []  # numeric and text (categorical) columns
    rows = [_group_row(i, g, options) for i, g in enumerate(groups)]
    if not rows:
        rows = [html.Div("No groups for this table yet.", className="text-muted small mb-2")]
    n = len(others)
    note = (f"{n} group{'s' if n != 1 else ''} of other tables ({', '.join(g['name'] for g in others[:4])}"
            f"{', …' if n > 4 else ''}) {'are' if n != 1 else 'is'} kept for when {'they' if n != 1 else 'it'} "
            "come back." if n else None)
    return rows, ({"groups": clean_groups(groups)} if changed else no_update), note


@dash.callback(
    Output(ids.GROUP_DRAFT, "data"),
    Output(ids.GROUP_MESSAGE, "children"),
    Input({"type": ids.GROUP_NAME, "index": ALL}, "value"),
    Input({"type": ids.GROUP_COLUMNS, "index": ALL}, "value"),
    prevent_initial_call=True,
)
def _edit_groups(names, columns):
    groups, problems = data_logic.groups_from_editor(names, columns)
    msg = alert({"color": "warning", "text": " ".join(problems)}) if problems else None
    return {"groups": groups}, msg


@dash.callback(
    Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),
    Input(ids.GROUP_DRAFT, "data"),
    State(ids.SETTINGS_STORE, "data"),
    prevent_initial_call=True,
)
def _save_groups(draft, client):
    if not isinstance(draft, dict) or "groups" not in draft:
        return no_update
    client = dict(client or {})
    meta = _meta()
    # the draft holds this table's groups; the other tables' groups are kept
    groups = data_logic.save_groups_draft(client.get("groups"), draft["groups"], (meta or {}).get("columns") or [])
    if clean_groups(client.get("groups")) == groups:
        return no_update
    return dict(client, groups=groups)


# ======================================================================================
# distance matrices: N x N spaces next to the table (infoimb.web.matrices)
# ======================================================================================
def _matrix_card(settings):
    return section("Distance matrices (optional)", [
        hint("Points compared by a distance alone (an alignment score, an RMSD, an edit distance): upload an "
             "N × N matrix for the table's rows. Each becomes a space “Distances: name” on the Compare and "
             "Matrix pages. It stays on the server, in this session only."),
        dbc.Row([
            dbc.Col([
                dbc.Label("Rows of the matrix are tied to the table", html_for=ids.MATRIX_TIE, className="small mb-1"),
                dcc.Dropdown(id=ids.MATRIX_TIE, clearable=False, value=ORDER,
                             options=[{"label": "by row order", "value": ORDER}]),
                _help(ids.MATRIX_TIE),
                dbc.Checklist(id=ids.MATRIX_ASYM, value=[], className="small mt-1",
                              options=[{"label": "asymmetric by design (row i: distances from point i)",
                                        "value": "asymmetric"}]),
            ], md=5),
            dbc.Col([
                html.Div(
                    dcc.Upload(
                        id=ids.MATRIX_UPLOAD,
                        children=html.Div([html.Div("Drop an N × N matrix here, or ", className="d-inline"),
                                           html.A("choose a file", className="upload-link")]),
                        className="upload-zone upload-zone-small", className_active="upload-zone active",
                        max_size=settings.max_upload_bytes, multiple=False,
                    ),
                    **{"data-max-bytes": str(settings.max_upload_bytes), "data-max-mb": f"{settings.max_upload_mb:g}"},
                    className="upload-guard",
                ),
                html.Div(f"CSV, TSV, NPY or Parquet · square, finite, non-negative, zero diagonal, symmetric unless "
                         f"declared · at most {settings.max_upload_mb:g} MB uploaded and "
                         f"{settings.max_matrix_mb:g} MB in memory (float32 stays float32) · with an id column: "
                         "its first column (or the column of that name) holds the ids, the header the same ids",
                         className="form-text"),
            ], md=7),
        ], className="g-3"),
        html.Div(id=ids.MATRIX_MESSAGE, className="mt-2"),
        html.Div(id=ids.MATRIX_LIST, className="mt-2"),
        dbc.Button("Remove all matrices", id=ids.MATRIX_CLEAR, size="sm", color="danger", outline=True,
                   n_clicks=0, className="mt-2"),
    ], step="5")


def _matrix_list(meta):
    rows = matrices.matrix_rows(meta)
    if not rows:
        return html.Div("No distance matrices.", className="text-muted small")
    return table(list(rows[0]), rows, id=ids.MATRIX_LIST + "-table")


@dash.callback(
    Output(ids.MATRIX_TIE, "options"),
    Input(ids.DATASET_STORE, "data"),
)
def _matrix_tie_options(info):
    meta = _meta() if info else None
    cols = (meta or {}).get("columns") or []
    return [{"label": "by row order", "value": ORDER}] + [{"label": f"by id column: {c}", "value": c} for c in cols]


@dash.callback(
    Output(ids.MATRIX_MESSAGE, "children"),
    Output(ids.MATRIX_LIST, "children"),
    Output(ids.MATRIX_UPLOAD, "contents"),
    Input(ids.MATRIX_UPLOAD, "contents"),
    Input(ids.MATRIX_CLEAR, "n_clicks"),
    Input(ids.DATASET_STORE, "data"),
    State(ids.MATRIX_UPLOAD, "filename"),
    State(ids.MATRIX_TIE, "value"),
    State(ids.MATRIX_ASYM, "value"),
)
def _matrix_upload(contents, n_clear, info, filename, tie, asym):
    trigger = ctx.triggered_id
    store = get_store()
    msg = None
    if trigger == ids.MATRIX_UPLOAD and contents:
        out = matrices.ingest_matrix(store, current_sid(), contents, filename, get_settings(), tie=tie,
                                     asymmetric="asymmetric" in (asym or []))
        msg = alert(out["message"])
    elif trigger == ids.MATRIX_CLEAR and n_clear:
        try:
            store.remove_matrices(current_sid())
            msg = alert({"color": "secondary", "text": "Removed every distance matrix of this session."})
        except InvalidSession:
            pass
    # the uploaded bytes are not kept in the browser
    return msg, _matrix_list(_meta()), (None if contents else no_update)
