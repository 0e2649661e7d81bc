"""One way to check arguments, used by the API, the command line and the dashboard.

Each check returns the cleaned value or raises ``TypeError`` (wrong kind) / ``ValueError``
(right kind, out of range) with a message that names the argument and the allowed range.
Nothing is corrected silently: a value out of range is refused, never clipped.

Examples
--------
>>> check_int(5, "k", low=1)
5
>>> check_choice("euclidean", "metric", METRICS)
'euclidean'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

# every metric the engine knows, in the order the user interfaces list them
METRICS = ("euclidean", "manhattan", "chebyshev", "precomputed")
FEATURE_METRICS = METRICS[:3]
# for categorical features (text, categories): equality per feature, alone or with numeric
# features by Gower's combination (infoimb._spaces)
CATEGORICAL_METRICS = ("categorical", "gower")


def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _range_text(low, high) -> str:
    if low is not None and high is not None:
        return f"between {_fmt(low)} and {_fmt(high)}"
    if low is not None:
        return f"at least {_fmt(low)}"
    return f"at most {_fmt(high)}"


def _shown(value) -> str:
    """A value as the user gave it, cut short so a huge number is not echoed back whole."""
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."


def check_int(value, name: str, *, low: int | None = None, high: int | None = None,
              allow_none: bool = False, strict: bool = False) -> int | None:
    """A whole number in [low, high]. Floats that are whole (3.0) are accepted unless
    ``strict`` (the Python API's integer arguments); 3.5, bools, NaN and text are refused.
    ``allow_none`` lets None through unchanged."""
    if value is None and allow_none:
        return None
    kind = "a whole number or None" if allow_none else "a whole number"
    if isinstance(value, bool):
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif (not strict and isinstance(value, numbers.Real) and math.isfinite(value)
          and float(value).is_integer()):
        v = int(value)
    else:
        raise TypeError(f"{name} must be {kind}, got {_shown(value)}")
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be {_range_text(low, high)}, got {_shown(v)}")
    return v


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False,
               allow_none: bool = False) -> float | None:
    """A finite real number in [low, high] (an open end with ``low_open``/``high_open``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_shown(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {_shown(value)}")
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        if low_open and high is None:
            text = "positive" if low == 0 else f"greater than {_fmt(low)}"
        elif high_open and low is None:
            text = f"less than {_fmt(high)}"
        else:
            text = _range_text(low, high)
            if low_open or high_open:
                text += " (" + ", ".join(
                    w for w, on in (("low end excluded", low_open), ("high end excluded", high_open)) if on) + ")"
        raise ValueError(f"{name} must be {text}, got {_shown(value)}")
    return v


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """One of ``choices`` (exact match)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {_shown(value)}")
    return value
