"""The scaling in force, on every page, and a warning when a space mixes very different spreads.

Euclidean (and Manhattan, Chebyshev) distances add the features' differences in their own
units: a feature measured in large numbers (a cholesterol level in mg/dL, an id) decides the
neighbours almost alone, one in small numbers (a creatinine level in mg/dL) hardly counts. The
information imbalance then describes the units as much as the data. So every analysis page
says which scaling (Data page, "Roles and scaling") its inputs go through, and warns when a
chosen space still mixes numeric features whose **standard deviations, after that scaling**,
differ by more than :data:`SPREAD_LIMIT` (10×), naming the widest and the narrowest. One click
on the warning switches the scaling to z-score (every feature then has standard deviation 1).

The spread is the population standard deviation (``ddof=0``, as :func:`infoimb.preprocess.scale`
uses for the z-score, so that z-scored features have spread exactly 1), over the rows that have
finite values in every numeric feature of the space (the rows the analysis uses). Categorical
(text, or declared categorical in the roles) and periodic features are left out: the first are
compared by equality, the second keep their period unscaled. Constant features are left out too
(spread 0: they carry nothing; the Data page flags them).

The default: an uploaded table starts with z-score (:data:`UPLOAD_DEFAULT`): its features come
in units the app cannot judge; a built-in example starts with its documented scaling
(``Example.roles["scaling"]``, "none" when not given: their reference values are unscaled). A
scaling the user chose for a table is remembered for its content (the settings store's
``scaling_by_dataset``, by :func:`infoimb.io.dataset_fingerprint`) and comes back with it.

The logic (:func:`spread_check`, :func:`page_checks`, :func:`status`) is plain Python, tested
without a browser; :func:`panel` and :func:`register_callbacks` are the Dash side, used by
:class:`infoimb.web.jobs.card.AnalysisCard` and the Data page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import preprocess
from . import ids
from .context import FULL, SCALINGS, AnalysisInputError, clean_groups, feature_columns, resolve_space

__all__ = [
    "FIXED",
    "SPREAD_LIMIT",
    "UPLOAD_DEFAULT",
    "SpreadCheck",
    "default_scaling",
    "chosen",
    "feature_spreads",
    "page_checks",
    "panel",
    "register_callbacks",
    "scaling_line",
    "scaling_of",
    "spread_check",
    "starting_scaling",
    "status",
]

#: a warning when the widest spread exceeds this many times the narrowest (10 exactly: no warning)
SPREAD_LIMIT = 10.0
#: the scaling an uploaded table starts with
UPLOAD_DEFAULT = "zscore"
#: the scaling of an example that does not document its own
EXAMPLE_DEFAULT = "none"
#: the spread measure, as the warning names it
SPREAD_NAME = "standard deviation"
#: analyses that do not use the Data page's scaling: what they do instead
FIXED = {
    "graph": "z-score, always (the causal graph standardises each column itself)",
}
#: the id of the Data page's panel (its check covers the full feature space)
DATA = "data"
MAX_SPACES = 3  # warnings shown at once on a page


def scaling_of(client) -> str:
    """The scaling of the settings store (``"none"`` when missing or unknown)."""
    s = (client or {}).get("scaling") if isinstance(client, dict) else None
    return s if s in SCALINGS else "none"


def default_scaling(example: str | None = None) -> str:
    """The scaling a freshly loaded table starts with: :data:`UPLOAD_DEFAULT` for an upload
    (``example=None``), else the example's documented ``roles["scaling"]`` ("none" if absent).

    Examples
    --------
    >>> default_scaling(), default_scaling("gauss3d")
    ('zscore', 'none')
    """
    if example is None:
        return UPLOAD_DEFAULT
    from .. import datasets

    ex = datasets.EXAMPLES.get(example)
    s = (ex.roles or {}).get("scaling", EXAMPLE_DEFAULT) if ex is not None else EXAMPLE_DEFAULT
    return s if s in SCALINGS else EXAMPLE_DEFAULT


def scaling_line(analysis: str, scaling: str) -> str:
    """The line under a page's inputs, e.g. ``"Scaling: z-score (set on the Data page)"``."""
    if analysis in FIXED:
        return f"Scaling: {FIXED[analysis]}"
    return f"Scaling: {SCALINGS.get(scaling, scaling)} (set on the Data page)"


# --------------------------------------------------------------------------------------
# the spread check
# --------------------------------------------------------------------------------------
def _categorical(meta: dict | None) -> set:
    cat = ((meta or {}).get("roles") or {}).get("categorical") or ()
    return {str(c) for c in (cat.keys() if isinstance(cat, dict) else cat)}


def _numeric_features(df: pd.DataFrame, columns, periodic=(), categorical=()) -> list[str]:
    skip = set(periodic or ()) | set(categorical or ())
    out = []
    for c in dict.fromkeys(columns):
        if c in skip or c not in df.columns:
            continue
        dt = df[c].dtype
        if pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt):
            out.append(c)
    return out


def feature_spreads(df: pd.DataFrame, columns, scaling: str, *, periodic=(), categorical=()) -> dict[str, float]:
    """The standard deviation (``ddof=0``) of each numeric feature of ``columns`` after
    ``scaling``, over the rows finite in all of them; categorical, periodic and non-numeric
    columns are left out, and so are constant ones.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cm": [150.0, 170.0, 190.0], "m": [1.5, 1.7, 1.9], "sex": ["F", "M", "M"]})
    >>> {c: round(v, 4) for c, v in feature_spreads(df, ["cm", "m", "sex"], "none").items()}
    {'cm': 16.3299, 'm': 0.1633}
    >>> {c: round(v, 4) for c, v in feature_spreads(df, ["cm", "m"], "zscore").items()}
    {'cm': 1.0, 'm': 1.0}
    """
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}, got {scaling!r}")
    cols = _numeric_features(df, columns, periodic, categorical)
    if not cols:
        return {}
    sub = df[cols].astype(float)
    sub = sub[np.isfinite(sub.to_numpy()).all(axis=1)]
    if sub.shape[0] < 2:
        return {}
    if scaling != "none":
        sub = preprocess.scale(sub, cols, scaling)
    sd = sub.std(ddof=0)
    return {c: float(sd[c]) for c in cols if float(sd[c]) > 0 and np.isfinite(sd[c])}


@dataclass(frozen=True)
class SpreadCheck:
    """The spreads of one space's numeric features after the scaling in force.

    ``ratio`` is widest / narrowest; :attr:`warn` is ``ratio > SPREAD_LIMIT``.
    """

    label: str
    scaling: str
    spreads: dict = field(default_factory=dict)
    widest: str = ""
    narrowest: str = ""
    ratio: float = 1.0

    @property
    def warn(self) -> bool:
        return self.ratio > SPREAD_LIMIT

    def text(self) -> str:
        """The warning, naming the space, the two columns and their spreads."""
        w, n = self.spreads[self.widest], self.spreads[self.narrowest]
        scaled = "unscaled" if self.scaling == "none" else f"after {SCALINGS[self.scaling]} scaling"
        return (f"{self.label} mixes features whose spreads differ by {self.ratio:.3g}×: "
                f"{self.widest} has a {SPREAD_NAME} of {w:.3g}, {self.narrowest} of {n:.3g} ({scaled}), "
                f"so {self.widest} decides the distances almost alone.")

    def to_dict(self) -> dict:
        return {"label": self.label, "scaling": self.scaling, "spreads": dict(self.spreads),
                "widest": self.widest, "narrowest": self.narrowest, "ratio": self.ratio, "warn": self.warn}


def spread_check(df: pd.DataFrame, columns, scaling: str, *, label: str = "The space", periodic=(),
                 categorical=()) -> SpreadCheck | None:
    """The spread check of one space (None: fewer than two numeric, non-constant features).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"chol": [150.0, 250.0, 200.0], "creat": [0.8, 1.2, 1.0]})
    >>> c = spread_check(df, ["chol", "creat"], "none", label="Space A")
    >>> c.widest, c.narrowest, round(c.ratio), c.warn
    ('chol', 'creat', 250, True)
    >>> spread_check(df, ["chol", "creat"], "zscore").warn
    False
    """
    spreads = feature_spreads(df, columns, scaling, periodic=periodic, categorical=categorical)
    if len(spreads) < 2:
        return None
    widest = max(spreads, key=spreads.get)
    narrowest = min(spreads, key=spreads.get)
    return SpreadCheck(label, scaling, spreads, widest, narrowest, spreads[widest] / spreads[narrowest])


def _space_fields(analysis):
    from .fields import SpaceField

    return [f for f in analysis.fields if isinstance(f, SpaceField)]


def _values(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def page_checks(analysis, values: dict, meta: dict, groups, df: pd.DataFrame, scaling: str) -> list[SpreadCheck]:
    """The spread checks of the spaces chosen on a page (its space fields' current ``values``;
    groups resolve to columns through the session's ``groups``) that warn, widest ratio first.
    ``analysis`` None: the Data page, whose check covers the full feature space."""
    if analysis is None:
        chosen = [("The full feature space", FULL)]
    elif getattr(analysis, "name", None) in FIXED:
        return []
    else:
        chosen = [(f.label, v) for f in _space_fields(analysis) for v in _values((values or {}).get(f.name))]
    roles = (meta or {}).get("roles") or {}
    periodic = set((roles.get("periodic") or {}).keys())
    categorical = _categorical(meta)
    out, seen = [], set()
    for field_label, value in chosen:
        if value in seen:
            continue
        seen.add(value)
        try:
            space = resolve_space(value, meta, clean_groups(groups))
        except AnalysisInputError:
            continue
        if space.matrix is not None or len(space.columns) < 2:
            continue
        label = field_label if analysis is None else f"{field_label} ({space.label})"
        check = spread_check(df, space.columns, scaling, label=label, periodic=periodic, categorical=categorical)
        if check is not None and check.warn:
            out.append(check)
    return sorted(out, key=lambda c: -c.ratio)


def status(analysis, values: dict, meta: dict | None, client, df: pd.DataFrame | None) -> dict:
    """What a page's scaling panel shows: ``{"line", "warnings": [text], "scaling"}``."""
    scaling = scaling_of(client)
    name = getattr(analysis, "name", DATA) if analysis is not None else DATA
    out = {"line": scaling_line(name, scaling), "warnings": [], "scaling": scaling}
    if not meta or df is None:
        return out
    groups = (client or {}).get("groups") if isinstance(client, dict) else None
    checks = page_checks(analysis, values, meta, groups, df, scaling)
    out["warnings"] = [c.text() for c in checks[:MAX_SPACES]]
    return out


# --------------------------------------------------------------------------------------
# Dash
# --------------------------------------------------------------------------------------
def panel(name: str, *, line: bool = True):
    """The scaling line and the warning of page ``name`` (an analysis, or :data:`DATA`)."""
    import dash_bootstrap_components as dbc
    from dash import html

    return html.Div([
        html.Div(id=ids.job(ids.SCALING_LINE, name), className="scaling-line small text-muted mb-2",
                 style=None if line else {"display": "none"}),
        dbc.Alert([
            html.Div(id=ids.job(ids.SCALING_WARNING, name), className="small"),
            dbc.Button("Use z-score", id=ids.job(ids.SCALING_FIX, name), color="warning", size="sm",
                       n_clicks=0, className="mt-1", title="z-score: every feature gets standard deviation 1"),
        ], id=ids.job(ids.SCALING_ALERT, name), color="warning", is_open=False, className="py-2 mb-2"),
    ], className="scaling-panel")


#: the settings store's key of the scaling chosen per dataset content (fingerprint -> scaling)
BOOK = "scaling_by_dataset"
MAX_REMEMBERED = 20  # datasets whose scaling the browser keeps


def remembered_scaling(client, fingerprint) -> str | None:
    """The scaling the user chose for a dataset's content (:func:`infoimb.io.dataset_fingerprint`)
    before, kept in the settings store, or None."""
    if not fingerprint or not isinstance(client, dict) or not isinstance(client.get(BOOK), dict):
        return None
    s = client[BOOK].get(fingerprint)
    return s if s in SCALINGS else None


def chosen(client, scaling: str, fingerprint=None) -> dict:
    """The settings store with ``scaling`` in force and, with a ``fingerprint``, remembered for
    that content (the newest :data:`MAX_REMEMBERED` datasets are kept)."""
    out = dict(client if isinstance(client, dict) else {}, scaling=scaling)
    if fingerprint:
        book = {k: v for k, v in (out.get(BOOK) or {}).items() if k != fingerprint and v in SCALINGS}
        book[fingerprint] = scaling
        out[BOOK] = dict(list(book.items())[-MAX_REMEMBERED:])
    return out


def starting_scaling(client, fingerprint, example: str | None) -> tuple[str, str]:
    """The scaling a freshly loaded table starts with and why: the one chosen for the same
    content before, else :func:`default_scaling`."""
    s = remembered_scaling(client, fingerprint)
    if s is not None:
        return s, "as you set it for this table before"
    if example is None:
        return default_scaling(), "the default for an uploaded table"
    return default_scaling(example), "this example's documented setting"


def fixed_client(client, fingerprint=None) -> dict:
    """The settings store after the one-click fix: scaling z-score (remembered for the table)."""
    return chosen(client, "zscore", fingerprint)


def _frame_meta(info):
    from .runtime import session_frame, session_meta

    meta = session_meta(info)
    return meta, (session_frame() if meta else None)


def _outputs(st: dict):
    from dash import html

    warnings = st["warnings"]
    text = [html.Div(t, className="mb-1") for t in warnings]
    return st["line"], text, bool(warnings)


def register_callbacks(app, card=None) -> None:
    """The panel's callbacks on ``app``: for an analysis card (its space fields' values are
    inputs; the fix also presses Run when a result is on display), or, ``card=None``, for the
    Data page (the full feature space; ``app`` may be the ``dash`` module, as pages register
    their callbacks with ``dash.callback``)."""
    from dash import Input, Output, State, no_update

    name = card.name if card is not None else DATA
    analysis = card.analysis if card is not None else None
    spaces = {f.name: Input(f.id, "value") for f in _space_fields(analysis)} if analysis is not None else {}

    @app.callback(
        output=[Output(ids.job(ids.SCALING_LINE, name), "children"),
                Output(ids.job(ids.SCALING_WARNING, name), "children"),
                Output(ids.job(ids.SCALING_ALERT, name), "is_open")],
        inputs=dict(client=Input(ids.SETTINGS_STORE, "data"), info=Input(ids.DATASET_STORE, "data"),
                    values=spaces),
    )
    def _scaling_panel(client, info, values):
        meta, df = _frame_meta(info)
        return _outputs(status(analysis, values, meta, client, df))

    if card is None:
        return  # the Data page's fix moves its radio (pages/data.py: radio_value, saved_scaling)

    @app.callback(
        Output(ids.SETTINGS_STORE, "data", allow_duplicate=True),
        Output(ids.job(ids.RUN, name), "n_clicks"),
        Input(ids.job(ids.SCALING_FIX, name), "n_clicks"),
        State(ids.SETTINGS_STORE, "data"),
        State(ids.DATASET_STORE, "data"),
        State(ids.job(ids.SHOWN, name), "data"),
        State(ids.job(ids.RUN, name), "n_clicks"),
        prevent_initial_call=True,
    )
    def _fix(n, client, info, shown, runs):
        if not n:
            return no_update, no_update
        # a result on display: run again under the new scaling (the memo answers if it can)
        return fixed_client(client, (info or {}).get("fingerprint")), ((runs or 0) + 1 if shown else no_update)



def radio_value(fix: bool, client) -> str:
    """The Data page's scaling radio: z-score after a click on its warning's fix (``fix``),
    else the settings store's scaling."""
    return "zscore" if fix else scaling_of(client)


def saved_scaling(value, client, fingerprint=None):
    """The settings store after the Data page's radio changed, the choice remembered for the
    table's content (``no_update`` when it holds the value already, or the radio is empty)."""
    from dash import no_update

    if value not in SCALINGS or (isinstance(client, dict) and client.get("scaling") == value):
        return no_update
    return chosen(client, value, fingerprint)
