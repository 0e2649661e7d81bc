"""One result format: the JSON encoder, and ``to_dict`` / ``from_dict`` for result classes.

Every place that writes JSON (the command line, the column summary, the dashboard's session
store and job queue) calls :func:`to_jsonable` or :func:`dumps`, so a result reads the same
wherever it is written:

- NumPy scalars and arrays become Python numbers and (nested) lists;
- NaN and infinities become ``null`` (JSON has no NaN; strict parsers refuse it);
- dates and times (``datetime``, ``pandas.Timestamp``, ``numpy.datetime64``) become ISO 8601
  strings, ``NaT`` and ``pandas.NA`` become ``null``; durations become strings;
- a DataFrame becomes ``{column: [values]}``, a Series a list;
- a result dataclass becomes its ``to_dict()``, any other dataclass its fields;
- an object with ``to_plotly_json()`` (a Plotly figure) becomes that;
- anything else is refused with a ``TypeError`` naming its type.

Result classes inherit :class:`Result`: ``to_dict()`` writes every field (arrays as lists,
nested results as dicts) and ``Cls.from_dict(d)`` reads it back by the field types, so
``Cls.from_dict(r.to_dict())`` equals ``r`` (arrays by value), also after a trip through JSON.

Examples
--------
>>> import numpy as np
>>> to_jsonable({"x": np.float64("nan"), "n": np.int64(3), "a": np.arange(2)})
{'x': None, 'n': 3, 'a': [0, 1]}
>>> dumps([np.inf, 1.5])
'[null, 1.5]'
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import PurePath

import numpy as np

__all__ = ["Result", "dumps", "from_dict", "same_result", "to_dict", "to_jsonable"]


def _pandas():
    return sys.modules.get("pandas")


def to_jsonable(obj):
    """A copy of ``obj`` made of dict, list, str, int, float (finite), bool and None only.

    See the module docstring for how each kind of value is written.
    """
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        if isinstance(obj, np.datetime64):
            return None if np.isnat(obj) else _iso(obj)
        if isinstance(obj, np.timedelta64):
            return None if np.isnat(obj) else str(obj)
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "mM":
            return [to_jsonable(v) for v in obj.ravel()] if obj.ndim == 1 else [
                to_jsonable(row) for row in obj]
        return to_jsonable(obj.tolist())
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    pd = _pandas()
    if pd is not None:
        if obj is pd.NaT or obj is pd.NA:
            return None
        if isinstance(obj, pd.Timestamp):
            return obj.isoformat()
        if isinstance(obj, pd.Timedelta):
            return str(obj)
        if isinstance(obj, pd.DataFrame):
            return {str(c): to_jsonable(obj[c].tolist()) for c in obj.columns}
        if isinstance(obj, (pd.Series, pd.Index)):
            return to_jsonable(obj.tolist())
    if isinstance(obj, (_dt.datetime, _dt.date, _dt.time)):
        return obj.isoformat()
    if isinstance(obj, _dt.timedelta):
        return str(obj)
    if isinstance(obj, PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return to_jsonable({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    if hasattr(obj, "to_plotly_json"):
        return to_jsonable(obj.to_plotly_json())
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def _iso(value) -> str:
    pd = _pandas()
    if pd is not None:
        return pd.Timestamp(value).isoformat()
    return str(np.datetime_as_string(value))


def dumps(obj, **kwargs) -> str:
    """JSON text of ``obj`` through :func:`to_jsonable` (never NaN; ``kwargs`` go to
    :func:`json.dumps`, e.g. ``indent=2`` or ``sort_keys=True``)."""
    return json.dumps(to_jsonable(obj), allow_nan=False, **kwargs)


# --------------------------------------------------------------------------------------
# result classes
# --------------------------------------------------------------------------------------
def _encode(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if hasattr(value, "to_dict") else to_dict(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    pd = _pandas()
    if pd is not None and isinstance(value, pd.DataFrame):
        return {str(c): _encode(value[c].to_numpy()) for c in value.columns}
    return value


def to_dict(obj) -> dict:
    """Every field of a result dataclass: arrays as lists, nested results as dicts, tuples
    as lists, DataFrames as ``{column: [values]}`` (NaN stays NaN; :func:`dumps` writes it as
    null)."""
    return {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _nan_for_none(value):
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple)):
        return [_nan_for_none(v) for v in value]
    return value


def _array(value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object:  # a NaN written as null
        arr = np.asarray(_nan_for_none(value), dtype=float)
    return arr


def _decode(value, hint):
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None if len(args) < len(typing.get_args(hint)) else _decode(value, args[0])
        return _decode(value, args[0]) if len(args) == 1 else value
    if hint is np.ndarray:
        return _array(value)
    if hint is float:
        return math.nan if value is None else float(value)
    if hint is int:
        return int(value)
    if hint is bool:
        return bool(value)
    if hint is str:
        return str(value)
    if origin is tuple:
        args = typing.get_args(hint)
        item = args[0] if args else typing.Any
        return tuple(_decode(v, item) for v in value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint.from_dict(value) if hasattr(hint, "from_dict") else from_dict(hint, value)
    pd = _pandas()
    if pd is not None and hint is pd.DataFrame:
        return pd.DataFrame({c: _array(v) if not _texts(v) else list(v) for c, v in value.items()})
    return value


def _texts(values) -> bool:
    return any(isinstance(v, str) for v in values)


def from_dict(cls, data: Mapping):
    """The result ``cls`` read back from :func:`to_dict` output (or its JSON). Keys that are
    not fields (derived values such as ``exact``) are ignored; missing fields take their
    defaults."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{cls.__name__}.from_dict needs a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _decode(data[f.name], hints[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{cls.__name__}.from_dict: missing field {f.name!r}")
    return cls(**kwargs)


class Result:
    """Base of the frozen result dataclasses: ``to_dict()`` and ``from_dict()`` by field."""

    __slots__ = ()

    def to_dict(self) -> dict:
        """Every field as plain Python (arrays as lists, nested results as dicts)."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping):
        """The result read back from :meth:`to_dict` (or its JSON)."""
        return from_dict(cls, data)


def same_result(a, b) -> bool:
    """Whether two results hold the same values (arrays and frames compared by value, NaN
    equal to NaN, nested results recursively)."""
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(same_result(getattr(a, f.name), getattr(b, f.name))
                   for f in dataclasses.fields(a))
    pd = _pandas()
    if pd is not None and isinstance(a, pd.DataFrame):
        return list(a.columns) == list(b.columns) and all(
            same_result(a[c].to_numpy(), b[c].to_numpy()) for c in a.columns)
    if isinstance(a, np.ndarray):
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.array_equal(a.astype(float), b.astype(float), equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_result(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(same_result(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b
