"""Analyses as background jobs: :mod:`.runner` (no Dash: memo, slots, progress, time limit),
:mod:`.queue` (the server-wide job cap) and :mod:`.card` (the Dash card and its callbacks)."""

from __future__ import annotations

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
    sentence,
    settings_header,
)

__all__ = [
    "Analysis",
    "JobContext",
    "JobTimeout",
    "PreparedJob",
    "Progress",
    "check_job",
    "get_analysis",
    "held_slot",
    "last_inputs",
    "lookup",
    "prepare_job",
    "record_to_csv",
    "run_job",
    "sentence",
    "settings_header",
]
