"""Typed input fields: what an analysis declares about each of its controls.

A field has a ``name`` (the key of the analysis's inputs), a component ``id`` (from
:mod:`infoimb.web.ids`), a ``label``, a ``default``, its limits, and a ``help`` text shown next
to the control. From a tuple of fields and layout items (an analysis's ``form``) the card
(:class:`infoimb.web.jobs.card.AnalysisCard`) builds the controls, the list of their States,
the settings sync (options, defaults, the last run's inputs) and the defaults.

Kinds (control; what checks the value):

- :class:`IntField`: a number box ``prefix [n] suffix``; ``_validation.check_int``
- :class:`RealField`: a number box; ``_validation.check_real``
- :class:`ChoiceField`: a select or radio items; ``_validation.check_choice``
- :class:`SpaceField`: a dropdown of the table's groups, features and full space
- :class:`VariablesField`: a multi-select of the table's groups and features (a list)
- :class:`TextField`: a line of text, parsed by the analysis
- :class:`ColumnField`: a dropdown of the table's columns
- :class:`DropdownField`: a dropdown whose options a page fills itself
- :class:`FlagField`: check boxes or a switch (the value is the list of checked options)

Out-of-range values are refused with a message that names the control (``check``), never
corrected. Layout items: :data:`HINT` (the analysis's hint), :data:`RUN` (Run / Cancel /
progress), :data:`RULE`, :class:`Subhead`, :class:`Note`, :class:`Row` (fields side by side)
and :class:`Block` (items in a div with an id, e.g. one a page shows or hides).

The module imports no Dash at import time (the job runner and the Celery workers read the
declarations); the ``control()`` builders import it when called.

Examples
--------
>>> k = IntField("k", "x-k", "k", 1, low=1, help="neighbours per point")
>>> k.check(3)
3
>>> k.check(None)  # an empty box: the default
1
>>> k.check(0)
Traceback (most recent call last):
...
infoimb.web.context.AnalysisInputError: k must be at least 1, got 0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from types import MappingProxyType

from .._validation import check_choice, check_int, check_real
from .context import FULL, AnalysisInputError, space_options

__all__ = [
    "HINT", "RULE", "RUN", "Block", "ChoiceField", "ColumnField", "DropdownField", "Field", "FlagField", "IntField", "Note",
    "RealField", "Row", "SpaceField", "SpacesField", "Subhead", "TextField", "VariablesField", "estimator_fields",
    "form_fields", "form_values", "is_blank", "metric_fields",
    "resolve_values",
]

NONE = "none"  # the "no target" / "no column" choice of a dropdown (as infoimb.web.inputs.NONE)


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value):
    """A number typed in a box (text) as a number; anything else unchanged (the check says
    what is wrong with it)."""
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return value
        return int(f) if f.is_integer() else f
    return value


def _help(text: str, id=None):
    """A control's help: a line or two in small print under it (what it is, what a larger value does,
    why the default)."""
    from dash import html

    return html.Div(text, className="form-text field-help", **({"id": id} if id else {}))


def _label(text: str, for_id=None, first: bool = False):
    import dash_bootstrap_components as dbc

    return dbc.Label(text, html_for=for_id, className="fw-semibold mb-1" + ("" if first else " mt-2"))


# --------------------------------------------------------------------------------------
# fields
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """The common part of every field (see the module docstring).

    ``data``: the value depends on the session's table (reset to the table's default when the
    table changes); ``sync``: the settings sync sets it (False for a control a page fills
    itself); ``what``: how messages name it (default: the label).
    """

    name: str
    id: str
    label: str
    default: object = None
    help: str = ""
    data: bool = False
    sync: bool = True
    what: str | None = None
    width: int | None = None

    @property
    def noun(self) -> str:
        return self.what or self.label

    def valid(self, meta: dict, groups) -> set | None:
        """The values the control may hold for this table (None: any value but None)."""
        return None

    #: whether the settings sync fills the control's options from the table (:meth:`options`)
    has_options: ClassVar[bool] = False

    def options(self, meta: dict, groups) -> list | None:
        """The dropdown's options for this table (None: the control has no options to fill)."""
        return None

    def check(self, value):
        """The value, validated (an empty control: the default); raises AnalysisInputError."""
        return self.default if is_blank(value) else value

    def control(self):
        raise NotImplementedError

    def help_block(self):
        return [_help(self.help)] if self.help else []


@dataclass(frozen=True)
class IntField(Field):
    """A whole number in [low, high]; ``optional``: an empty box means None (no default)."""

    low: int | None = None
    high: int | None = None
    prefix: str | None = None
    suffix: str | None = None
    placeholder: str | None = None
    optional: bool = False

    def limits_text(self) -> str:
        """The limits in words (the field's tooltip), e.g. "a whole number from 1 to 1000"."""
        kind = "a whole number" if type(self) is IntField else "a number"
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{kind}, at least {self.low:g}"
        if self.high is not None:
            return f"{kind}, at most {self.high:g}"
        return kind

    def check(self, value):
        if is_blank(value):
            if self.optional or self.default is not None:
                return self.default
            raise AnalysisInputError(f"{self.noun}: enter a whole number")
        try:
            return check_int(_number(value), self.noun, low=self.low, high=self.high)
        except (TypeError, ValueError) as err:
            raise AnalysisInputError(str(err)) from None

    def control(self):
        import dash_bootstrap_components as dbc
        from dash import html

        # no min / max / step on the box: a browser turns a number outside them into an empty
        # value (dbc.Input sends null), which would silently become the default; the server's
        # check refuses it with a message instead
        parts = [dbc.InputGroupText(self.prefix or self.label),
                 dbc.Input(id=self.id, type="number", step="any", value=self.default, debounce=True,
                           placeholder=self.placeholder)]
        if self.suffix:
            parts.append(dbc.InputGroupText(self.suffix))
        group = dbc.InputGroup(parts, size="sm")
        return html.Div([group, *self.help_block()], className="field", title=self.limits_text())


@dataclass(frozen=True)
class RealField(IntField):
    """A finite number in [low, high]."""

    def check(self, value):
        if is_blank(value):
            if self.optional or self.default is not None:
                return None if self.default is None else float(self.default)
            raise AnalysisInputError(f"{self.noun}: enter a number")
        value = _number(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # shown as typed: "got -1", not "got -1.0"
        try:  # one bound at a time: the message names the bound that is crossed
            return check_real(check_real(value, self.noun, low=self.low), self.noun, high=self.high)
        except (TypeError, ValueError) as err:
            raise AnalysisInputError(str(err)) from None


@dataclass(frozen=True)
class ChoiceField(Field):
    """One of ``choices`` (value -> label), as a select (``radio=False``) or radio items."""

    choices: Mapping = field(default_factory=dict)
    radio: bool = False
    show_label: bool = False

    def __post_init__(self):
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))

    def valid(self, meta, groups):
        return set(self.choices)

    def check(self, value):
        if is_blank(value) and self.default is not None:
            return self.default
        try:
            return check_choice(value, self.noun, tuple(self.choices))
        except (TypeError, ValueError) as err:
            raise AnalysisInputError(str(err)) from None

    def control(self):
        import dash_bootstrap_components as dbc
        from dash import html

        options = [{"label": v, "value": k} for k, v in self.choices.items()]
        if self.radio:
            widget = dbc.RadioItems(id=self.id, value=self.default, className="mt-2 small", options=options)
        else:
            widget = dbc.Select(id=self.id, value=self.default, size="sm", options=options)
        head = [_label(self.label, self.id)] if self.show_label else []
        return html.Div([*head, widget, *self.help_block()], className="field")


@dataclass(frozen=True)
class DropdownField(Field):
    """A dropdown under its label; its options come from the table (subclasses) or from a
    page's own callback (this class, with ``sync=False``)."""

    placeholder: str = ""
    first: bool = False

    def control(self):
        from dash import dcc, html

        return html.Div([_label(self.label, self.id, self.first),
                         dcc.Dropdown(id=self.id, placeholder=self.placeholder, clearable=False),
                         *self.help_block()], className="field")


@dataclass(frozen=True)
class SpaceField(DropdownField):
    """A space of the session's table: a group, a feature or the full space (``none_label``:
    a first entry meaning "none", value ``"none"``)."""

    placeholder: str = "a group or a feature"
    none_label: str | None = None
    data: bool = True
    matrices: bool = False  # also the uploaded distance matrices (Compare, Matrix)
    has_options: ClassVar[bool] = True

    def options(self, meta, groups):
        opts = space_options(meta, groups, matrices=self.matrices)
        return ([{"label": self.none_label, "value": NONE}] if self.none_label else []) + opts

    def valid(self, meta, groups):
        return {o["value"] for o in self.options(meta, groups) if not o.get("disabled")}


@dataclass(frozen=True)
class SpacesField(SpaceField):
    """Several spaces of the session's table at once (a multi-select; the value is a list),
    uploaded distance matrices included."""

    placeholder: str = "groups, features, distance matrices"
    matrices: bool = True
    default: tuple = ()

    def check(self, value):
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    def control(self):
        from dash import dcc, html

        return html.Div([_label(self.label, self.id, self.first),
                         dcc.Dropdown(id=self.id, placeholder=self.placeholder, multi=True),
                         *self.help_block()], className="field")


@dataclass(frozen=True)
class VariablesField(SpacesField):
    """Groups and single features as the variables of a causal graph (a multi-select; the
    value is the list chosen, ``[]`` for none). Neither the full space (every feature, not one
    variable) nor distance matrices (no time series) are offered."""

    placeholder: str = "groups or features"
    matrices: bool = False

    def options(self, meta, groups):
        return [o for o in super().options(meta, groups) if o["value"] != FULL]

    def check(self, value):
        if is_blank(value):
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise AnalysisInputError(f"{self.noun} must be a list of groups or features")
        return list(value)

    def control(self):
        from dash import dcc, html

        return html.Div([_label(self.label, self.id, self.first),
                         dcc.Dropdown(id=self.id, placeholder=self.placeholder, multi=True, value=[]),
                         *self.help_block()], className="field")


@dataclass(frozen=True)
class TextField(Field):
    """A line of text (``prefix [text]``); the analysis parses it (e.g. a list of lags)."""

    prefix: str | None = None
    placeholder: str | None = None

    def check(self, value):
        if is_blank(value):
            return self.default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise AnalysisInputError(f"{self.noun}: enter text, got {value!r}")
        return str(value).strip()

    def control(self):
        import dash_bootstrap_components as dbc
        from dash import html

        group = dbc.InputGroup([dbc.InputGroupText(self.prefix or self.label),
                                dbc.Input(id=self.id, type="text", value=self.default, debounce=True,
                                          placeholder=self.placeholder)], size="sm")
        return html.Div([group, *self.help_block()], className="field")


@dataclass(frozen=True)
class ColumnField(DropdownField):
    """A column of the session's table (``none_label``: a first "none" entry)."""

    placeholder: str = "a column"
    none_label: str | None = None
    data: bool = True
    has_options: ClassVar[bool] = True

    def options(self, meta, groups):
        opts = [{"label": self.none_label, "value": NONE}] if self.none_label else []
        return opts + [{"label": str(c), "value": str(c)} for c in (meta or {}).get("columns", [])]

    def valid(self, meta, groups):
        return {o["value"] for o in self.options(meta, groups)}


@dataclass(frozen=True)
class FlagField(Field):
    """Check boxes (``options``: value -> label; the value is the list of the checked ones);
    one option is a flag, ``bool(check(value))`` says whether it is on."""

    options_: Mapping = field(default_factory=dict)
    switch: bool = False
    default: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "options_", MappingProxyType(dict(self.options_)))
        object.__setattr__(self, "default", tuple(self.default))

    def valid(self, meta, groups):
        return set(self.options_)

    def check(self, value):
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise AnalysisInputError(f"{self.noun} must be a list of {', '.join(map(repr, self.options_))}")
        bad = [v for v in value if v not in self.options_]
        if bad:
            raise AnalysisInputError(f"{self.noun}: unknown option {bad[0]!r}; allowed: "
                                     f"{', '.join(map(repr, self.options_))}")
        return list(value)

    def control(self):
        import dash_bootstrap_components as dbc
        from dash import html

        box = dbc.Checklist(id=self.id, value=list(self.default), switch=self.switch,
                            className="fw-semibold" if self.switch else "mt-2 small",
                            options=[{"label": v, "value": k} for k, v in self.options_.items()])
        return html.Div([box, *self.help_block()], className="field")


def estimator_fields(id_estimator: str, id_queries: str, *, queries: int = 1000) -> tuple[Field, Field]:
    """Exact / subsampled queries and the number of queries (the same pair on every page)."""
    return (
        ChoiceField("estimator", id_estimator, "estimator", "exact", radio=True,
                    choices={"exact": "exact: every point is a query", "subsampled": "subsampled queries (large N)"},
                    help="Exact (the default): every point is a query, no approximation, time ∝ N². Subsampled: "
                         "a random set of query points against all N; unbiased, its ± grows as queries shrink."),
        IntField("n_queries", id_queries, "queries", queries, low=10, what="the number of query points",
                 help="Query points of the subsampled estimator (ignored when exact): more queries, a smaller ± "
                      "(∝ 1/√queries) and a longer run."),
    )


METRIC_HELP = ("The distance within each space. auto: Euclidean for numbers; categorical (how many features "
               "differ) if all are categorical; Gower (|Δ| / range and 0/1 per category, summed) for a mix.")


def metric_fields(id_a: str, id_b: str, first: str, second: str) -> tuple[Field, Field]:
    """The metric of a page's two spaces: ``metric`` (the first's) and ``metric_b`` (the
    second's: "same" as the first, or its own), as Compare's "metric of B"."""
    from .context import AUTO, METRIC_ORDER

    return (
        ChoiceField("metric", id_a, f"metric of the {first}", AUTO,
                    choices={m: f"{first}: {m}" for m in METRIC_ORDER}, help=METRIC_HELP),
        ChoiceField("metric_b", id_b, f"metric of the {second}", "same",
                    choices={"same": f"{second}: same as {first}", **{m: f"{second}: {m}" for m in METRIC_ORDER}},
                    help=f"The distance within the {second}: the same as the {first}'s, or its own (e.g. "
                         "categorical for a text column)."),
    )


# --------------------------------------------------------------------------------------
# layout items
# --------------------------------------------------------------------------------------
class _Marker:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


HINT = _Marker("HINT")  # the analysis's hint about the table (its ``hint_id``)
RUN = _Marker("RUN")  # Run / Cancel / progress / status
RULE = _Marker("RULE")  # a horizontal rule


@dataclass(frozen=True)
class Subhead:
    text: str


@dataclass(frozen=True)
class Note:
    """A line of help text under the controls (``small``: in small print)."""

    text: str
    small: bool = False


@dataclass(frozen=True)
class Row:
    """Fields side by side (each field's ``width`` in grid columns out of 12)."""

    items: tuple

    def __init__(self, *items):
        object.__setattr__(self, "items", tuple(items))


@dataclass(frozen=True)
class Block:
    """Items inside a div with an id (e.g. one a page's own callback shows or hides)."""

    id: str
    items: tuple

    def __init__(self, id: str, *items):
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "items", tuple(items))


def form_fields(form) -> tuple[Field, ...]:
    """The fields of a form, in order."""
    out = []
    for item in form:
        if isinstance(item, Field):
            out.append(item)
        elif isinstance(item, (Row, Block)):
            out += form_fields(item.items)
    names = [f.name for f in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"a form names a field twice: {sorted(dup)}")
    return tuple(out)


# --------------------------------------------------------------------------------------
# the settings sync (pure: tested without a browser)
# --------------------------------------------------------------------------------------
def _acceptable(value, valid) -> bool:
    if value is None:
        return False
    if valid is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(v in valid for v in value)
    return value in valid


def resolve_values(spec: dict, current: dict | None, last: dict | None, *, restore: bool,
                   data_changed: bool, each: bool = False) -> dict:
    """The values of a page's controls.

    ``spec``: name -> (default, valid values or None for "any value but None", depends on the
    data). On mount (``restore``) the inputs of the last run come back when its data-dependent
    values are all valid for this table (``each``: each value on its own when valid); when the
    table changes, the data-dependent controls go back to their defaults (an example's roles)
    and the others keep their values; otherwise (the groups were edited, a run was started)
    every control keeps its value while it is still valid.
    """
    current, last = dict(current or {}), dict(last or {})
    checked = [k for k, (_, valid, dep) in spec.items() if dep and valid is not None and k in last]
    use_last = restore and bool(last) and bool(checked) and all(_acceptable(last[k], spec[k][1]) for k in checked)
    out = {}
    for key, (default, valid, dep) in spec.items():
        candidates = []
        if each:
            if restore and key in last:
                candidates.append(last[key])
            candidates.append(current.get(key))
        elif use_last and key in last:
            candidates.append(last[key])
        elif not ((restore or data_changed) and dep):
            candidates.append(current.get(key))
        candidates.append(default)
        out[key] = next((c for c in candidates if _acceptable(c, valid)), None)
    return out


def _passes(analysis, name: str, value) -> bool:
    """Whether a remembered value passes its field's check (a value refused now -- another
    version's limits, an edited local storage -- falls back to the default, with no error)."""
    try:
        field_ = analysis.field(name)
    except KeyError:
        return False
    if is_blank(value):
        return True
    try:
        field_.check(value)
    except AnalysisInputError:
        return False
    return True


def form_values(analysis, meta: dict, client: dict | None, current: dict | None, *, restore: bool,
                data_changed: bool) -> dict:
    """The settings sync of an analysis for the session's table ``meta``:
    ``{"values": {name: value}, "options": {name: [options]}, "hint": text or None}``.

    Defaults: each field's ``default``, except the data-dependent ones the analysis's
    ``defaults(meta, groups)`` gives (an example's roles, the Data page's time column).
    """
    from .jobs.runner import last_inputs, saved_settings

    groups = (client or {}).get("groups")
    fields = [f for f in form_fields(analysis.form) if f.sync]
    data_defaults = analysis.defaults(meta, groups) if analysis.defaults else {}
    spec = {f.name: (data_defaults.get(f.name, f.default if not isinstance(f.default, tuple) else list(f.default)),
                     f.valid(meta, groups), f.data) for f in fields}
    last = {k: v for k, v in last_inputs(client, analysis.name).items() if _passes(analysis, k, v)}
    if restore:  # the page's own settings (k, the estimator) come back even when a space does not fit
        saved = saved_settings(client, analysis.name)
        current = {**(current or {}), **{f.name: last[f.name] for f in fields
                                         if not f.data and f.name in saved and f.name in last}}
    values = resolve_values(spec, current, last, restore=restore,
                            data_changed=data_changed, each=analysis.restore_each)
    for f in fields:
        if isinstance(f, FlagField) and values[f.name] is None:
            values[f.name] = []
    if analysis.finish:
        values = analysis.finish(values, meta, groups)
    options = {f.name: f.options(meta, groups) for f in fields if f.has_options}
    return {"values": values, "options": options, "hint": analysis.hint(meta) if analysis.hint else None}
