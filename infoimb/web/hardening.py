"""What a public demo needs around the Dash app: security headers, a strict Content-Security-
Policy the app satisfies, no server banner, and a 400 (not a 500 with a traceback) for a
malformed callback request.

:func:`install` is called last by ``app.create_app``; the CSP lists the hashes of Dash's inline
scripts (``app.csp_hashes()``), made when the first response goes out.
"""

from __future__ import annotations

import logging

import dash
import flask
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.serving import WSGIRequestHandler

__all__ = ["QuietRequestHandler", "content_security_policy", "install", "malformed_callback"]

log = logging.getLogger(__name__)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

#: errors a callback raises on values of the wrong shape sent by a client (a bug of ours raises
#: them too; they are logged as one line with the callback's name)
_BAD_VALUE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)


def content_security_policy(app: dash.Dash) -> str:
    """The CSP: scripts from this server and Dash's own inline scripts (by hash) only; styles
    inline too (Plotly and the React components set them); nothing may frame the page."""
    scripts = " ".join(["'self'", *app.csp_hashes()])  # the hashes come quoted
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def malformed_callback(body) -> str | None:
    """Why a ``/_dash-update-component`` body is not one the Dash renderer sends, or None."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or not output:
        return "'output' must be a non-empty string"
    for key in ("inputs", "state"):
        items = body.get(key, [])
        if not isinstance(items, list):
            return f"{key!r} must be a list"
        for item in items:
            if isinstance(item, list):  # pattern-matching inputs: lists of items
                if not all(isinstance(i, dict) and "id" in i and "property" in i for i in item):
                    return f"{key!r} holds a malformed item"
            elif not (isinstance(item, dict) and "id" in item and isinstance(item.get("property"), str)):
                return f"{key!r} holds a malformed item"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of strings"
    if "outputs" in body and not isinstance(body["outputs"], (dict, list)):
        return "'outputs' must be an object or a list"
    return None


def install(app: dash.Dash) -> None:
    server = app.server
    # Dash adds inline scripts of its own when it serves its first request (the pages' title
    # updater): the policy is made then, and again whenever their number changes.
    csp: dict = {}

    def policy() -> str:
        n = len(getattr(app, "_inline_scripts", ()))
        if csp.get("n") != n:
            csp.update(n=n, text=content_security_policy(app))
        return csp["text"]

    @server.before_request
    def _check_callback_body():
        request = flask.request
        if request.method == "POST" and request.path.endswith("/_dash-update-component"):
            why = malformed_callback(request.get_json(silent=True))
            if why is not None:
                return _bad_request(f"malformed callback request: {why}")
        return None

    @server.after_request
    def _security_headers(response: flask.Response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", policy())
        response.headers.pop("Server", None)
        return response

    @server.errorhandler(Exception)
    def _error(err):
        if isinstance(err, HTTPException):
            return _bad_request(err.description, err.code or 400) if isinstance(err, BadRequest) else err
        request = flask.request
        if request.path.endswith("/_dash-update-component") and _from_the_request(err):
            body = request.get_json(silent=True) or {}
            log.warning("callback %s refused a request: %s: %s", str(body.get("output"))[:120],
                        type(err).__name__, str(err)[:200])
            return _bad_request("the callback could not use the values it was sent")
        log.error("request %s failed", request.path, exc_info=err)
        return flask.Response("Internal server error\n", status=500, mimetype="text/plain")


def _from_the_request(err: Exception) -> bool:
    """An error a callback request's own values cause: Python's value errors, and Dash's
    complaints about the request (inputs that do not match the callback, a bad path); not
    Dash's complaint about what *our* callback returned."""
    from dash import exceptions

    if isinstance(err, exceptions.InvalidCallbackReturnValue):
        return False
    return isinstance(err, (*_BAD_VALUE_ERRORS, exceptions.DashException))


def _bad_request(text: str, status: int = 400) -> flask.Response:
    return flask.Response(f"Bad request: {text}\n", status=status, mimetype="text/plain")


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without its ``Server: Werkzeug/x Python/y`` banner
    (``python app.py``; gunicorn says only ``gunicorn``)."""

    server_version = "infoimb"
    sys_version = ""

    def version_string(self) -> str:
        return "infoimb"
