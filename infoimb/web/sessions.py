"""The browser session: a signed, HttpOnly, SameSite=Lax cookie set by the server.

The session id never travels in a callback's payload and no script on the page can read it:

- :func:`install` makes the Flask app mint a session id on the first page load (a GET of a
  page), in Flask's signed session cookie (``INFOIMB_SECRET_KEY``), at most
  ``INFOIMB_NEW_SESSIONS_PER_MINUTE`` per client address (else 429);
- callbacks in the web process read it with :func:`current_sid` (from ``flask.request``);
- a background job has no request: the job manager (``app.py`` and
  :mod:`infoimb.web.celery_manager`) adds the id to the job's arguments under
  :data:`SESSION_ARG` when it starts the job, and the job reads it with :func:`job_session`.

The session's folder on the server is created only when it first stores a table
(:meth:`infoimb.web.store.SessionStore.open_session`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from datetime import timedelta

import flask

from .store import SESSION_RE

__all__ = ["SESSION_ARG", "SessionMinter", "add_session_arg", "current_sid", "install", "job_session"]

#: the key under which a job manager hands the session id to a background job
SESSION_ARG = "infoimb_session"

_KEY = "sid"
#: requests that are not page loads: Dash's API, assets, the health check
_NOT_PAGES = ("/_dash", "/assets/", "/_reload-hash", "/_favicon", "/healthz")


def _valid(sid) -> str | None:
    return sid if isinstance(sid, str) and SESSION_RE.fullmatch(sid) else None


def current_sid() -> str | None:
    """The session id of the current request (None outside a request, or without a cookie)."""
    if not flask.has_request_context():
        return None
    return _valid(flask.session.get(_KEY))


def job_session(args) -> str | None:
    """The session id a job manager handed to a background job (see :func:`add_session_arg`)."""
    return _valid(args.get(SESSION_ARG)) if isinstance(args, dict) else None


def add_session_arg(args):
    """The background callback's arguments with the request's session id added (a job manager
    calls this when it starts a job, in the request that starts it)."""
    if isinstance(args, dict):
        return {**args, SESSION_ARG: current_sid()}
    return args


class SessionMinter:
    """Mints session ids on page loads, at most ``per_minute`` per client address (per web
    worker process)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._recent: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._recent) > 10_000:  # forget quiet addresses
                self._recent = {a: q for a, q in self._recent.items() if q and now - q[-1] < 60}
            q = self._recent.setdefault(address, deque())
            while q and now - q[0] >= 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(now)
            return True


def install(server: flask.Flask, settings, secret_key: str) -> SessionMinter:
    """Session cookies on ``server`` (see the module docstring)."""
    server.secret_key = secret_key
    server.config.update(
        SESSION_COOKIE_NAME="infoimb_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_ttl),
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    minter = SessionMinter(settings.new_sessions_per_minute)

    @server.before_request
    def _mint_session():
        request = flask.request
        if request.method != "GET" or request.path.startswith(_NOT_PAGES) or current_sid():
            return None
        if not minter.allow(request.remote_addr or "?"):
            return flask.Response("Too many new sessions from your address: try again in a minute.\n",
                                  status=429, mimetype="text/plain", headers={"Retry-After": "60"})
        flask.session.permanent = True
        flask.session[_KEY] = uuid.uuid4().hex
        return None

    return minter
