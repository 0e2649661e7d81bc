"""Analyses and data loads as background jobs: :mod:`.runner` (no Dash: memo, slots, progress,
time limit; ``run_job`` for an analysis, ``run_load`` for a table), :mod:`.queue` (the
server-wide job cap), :mod:`.card` (the Dash card of an analysis and its callbacks) and
:mod:`.loader` (the Data page's load job and its callbacks)."""

from __future__ import annotations

from .runner import __all__  # the one list of the package's names
from .runner import (
    Analysis,
    JobContext,
    JobTimeout,
    PreparedJob,
    Progress,
    check_job,
    get_analysis,
    held_slot,
    last_inputs,
    lookup,
    prepare_job,
    record_to_csv,
    run_job,
    run_load,
    saved_settings,
    sentence,
    settings_header,
)
