"""Loading a table on the Data page is a job of the same runner as the analyses
(infoimb.web.jobs.runner.run_load): it takes one of the server's job slots (INFOIMB_MAX_JOBS)
and, while all are taken, waits in line with its position on the progress bar."""

from __future__ import annotations

import functools
import threading
import time

import pytest

from infoimb.web.config import Settings
from infoimb.web.jobs.queue import queue_label, server_slot, slots
from infoimb.web.jobs.runner import run_load
from infoimb.web.store import SessionStore

EXAMPLE = {"t": 1, "kind": "example", "name": "gauss3d", "n": 60}


@pytest.fixture()
def settings(tmp_path) -> Settings:
    s = Settings(cache_dir=tmp_path / "cache")
    s.ensure_dirs()
    return s


@pytest.fixture()
def store(settings) -> SessionStore:
    return SessionStore(settings.sessions_dir)


def _wait(condition, limit: float = 30.0) -> None:
    end = time.monotonic() + limit
    while not condition() and time.monotonic() < end:
        time.sleep(0.02)


def test_a_data_load_waits_behind_the_server_job_cap(store, settings, tmp_path):
    root = tmp_path / "server-jobs"
    slot = functools.partial(server_slot, root=root, max_jobs=1)
    sid = "b" * 32
    reports, out = [], []
    with slot():  # the server's only slot: an analysis runs
        worker = threading.Thread(target=lambda: out.append(run_load(
            store, settings, EXAMPLE, None, sid, {}, report=reports.append, server_slot=slot)))
        worker.start()
        _wait(lambda: bool(reports))
        # the load waits in line, says so, and has loaded nothing yet
        assert reports[0] == {"value": 0, "label": queue_label(0), "queued": 0}
        assert reports[0]["label"] == "queued: yours is next, waiting for a free slot on the server"
        assert worker.is_alive() and out == [] and not store.exists(sid)
    worker.join(60)
    assert not worker.is_alive()
    assert out[0]["dataset"]["n_rows"] == 60 and out[0]["dataset"]["filename"] == "example: gauss3d"
    assert out[0]["message"]["color"] == "success"
    assert slots(root, 1) == 0  # the load gave its slot back


def test_a_data_load_holds_a_server_slot_while_it_runs(store, settings, tmp_path):
    """While a table loads, an analysis waits for it (the cap counts loads too)."""
    root = tmp_path / "server-jobs"
    held = []

    def report(progress):
        if progress.get("label", "").startswith("generating"):
            held.append(slots(root, 1))

    out = run_load(store, settings, EXAMPLE, None, "c" * 32, {}, report=report,
                   server_slot=functools.partial(server_slot, root=root, max_jobs=1))
    assert held == [1] and out["dataset"]["n_rows"] == 60
    assert slots(root, 1) == 0


def test_run_load_answers_none_for_no_request_and_a_message_for_a_failure(store, settings):
    assert run_load(store, settings, None, None, "d" * 32, {}) is None
    assert run_load(store, settings, {"kind": "nope"}, None, "d" * 32, {}) is None

    def broken(report):
        raise RuntimeError("disk on fire")

    out = run_load(store, settings, EXAMPLE, None, "d" * 32, {}, server_slot=broken)
    assert out["dataset"] is None and out["client"] is None
    assert out["message"]["color"] == "danger"
    assert out["message"]["text"] == "Loading failed unexpectedly (RuntimeError: disk on fire)."


def test_the_data_page_loads_through_the_runner(dash_app):
    """The Data page's CARD is the load job; its lost-process report shows a message."""
    import sys

    from infoimb.web import ids
    from infoimb.web.jobs.loader import DataLoadCard

    card = sys.modules["pages.data"].CARD
    assert isinstance(card, DataLoadCard)
    spec = dash_app._background_manager.outputs.get(f"{ids.DATASET_STORE}.data")
    out = spec.report("The process loading the table stopped.", {})
    assert out["message"]["color"] == "danger" and out["message"]["text"] == "The process loading the table stopped."


def test_an_example_size_is_checked_not_cut(store, settings):
    """The example's size box has no min (a browser would send an empty value): the size is
    checked on the server, a fraction refused rather than cut."""
    from infoimb.web import data_logic

    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "gauss3d", 12.5, settings)
    assert out["dataset"] is None
    assert out["message"]["text"] == "Example gauss3d: the size n must be a whole number, got 12.5"
    assert data_logic.ingest_example(store, sid, "gauss3d", "40", settings)["dataset"]["n_rows"] == 40
