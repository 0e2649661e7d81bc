"""What the web tests without a browser share: a store in a temporary cache, a session with a
built-in example loaded, and a job run through the web runner that must succeed (or fail)."""

from __future__ import annotations

from infoimb.web import data_logic
from infoimb.web.config import Settings
from infoimb.web.jobs import run_job
from infoimb.web.store import SessionStore


def make_settings(tmp_path_factory, name: str) -> Settings:
    """Test settings with their own cache folder (5-minute job limit)."""
    s = Settings(cache_dir=tmp_path_factory.mktemp(name), job_timeout=300)
    s.ensure_dirs()
    return s


def make_store(settings: Settings) -> SessionStore:
    return SessionStore(settings.sessions_dir)


def example_session(store, settings, name, n=None):
    """A new session with example ``name`` (``n`` rows) loaded: ``(sid, client settings)``."""
    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, name, n, settings)
    assert out["dataset"] is not None, out["message"]
    return sid, {"groups": out["groups"], "scaling": "none"}


def run_ok(store, settings, name, sid, client, inputs) -> dict:
    """The stored record of a job that must succeed (its progress ends at 100 %)."""
    reports = []
    status = run_job(store, name, sid, inputs, client, settings, report=reports.append)
    assert status["status"] == "ok", status.get("message")
    assert reports[-1] == {"value": 100.0, "label": "100% · done"}
    return store.get_result(sid, status["content_hash"], name, status["key"])


def run_error(store, settings, name, sid, client, inputs) -> str:
    """The message of a job that must be refused."""
    status = run_job(store, name, sid, inputs, client, settings)
    assert status["status"] == "error", status
    return status["message"]
