"""Progress reporting and interruption for long analyses.

A long analysis takes ``progress``: a callable ``progress(fraction, message)`` called between
steps with the fraction of the work done (0..1). To interrupt an analysis, the callable raises
(any exception propagates unchanged; :class:`Cancelled` is the conventional one).
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[float, str], object]


class Cancelled(Exception):
    """Raised by a progress callback to stop an analysis between steps."""


def report(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    """Call ``progress`` if given, with the fraction clipped to [0, 1]."""
    if progress is not None:
        progress(min(1.0, max(0.0, float(fraction))), message)
