"""The dashboard hardened for a public demo (issue 8), tested over HTTP through the app itself.

Each test fails without its fix: the session in an HttpOnly cookie (never in a payload),
sessions minted lazily and at a limited rate, the server-wide job cap with a queue position,
security headers and a CSP the page satisfies, 400 for malformed callback bodies, clean file
names, INFOIMB_SECRET_KEY, uploads checked against INFOIMB_MAX_CELLS, a job killed hard
reported on the page, and the end-of-job race of the embedded job manager.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import signal
import threading
import time
import uuid

import pytest

from infoimb.web import data_logic, runtime
from infoimb.web.config import Settings
from infoimb.web.jobs.queue import queue_label, server_slot, slots
from infoimb.web.store import SessionStore
from tests.servers import _parse_output

COOKIE = "infoimb_session"


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(cache_dir=tmp_path / "cache", max_upload_mb=1)
    s.ensure_dirs()
    return s


@pytest.fixture
def store(settings) -> SessionStore:
    return SessionStore(settings.sessions_dir)


def address() -> dict:
    """A client address of its own for each test (the session minter counts per address)."""
    return {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


def page_client(app, environ=None):
    """A Flask test client that has loaded the page (and so holds a session cookie)."""
    client = app.server.test_client()
    client.environ_base.update(environ or address())
    page = client.get("/")
    assert page.status_code == 200
    return client, page


def cookie_sid(app, client) -> str:
    cookie = client.get_cookie(COOKIE)
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    return serializer.loads(cookie.value)["sid"]


def dependencies(client) -> list:
    return client.get("/_dash-dependencies").get_json()


def callback_body(dep: dict, values: dict) -> dict:
    """What the Dash renderer posts for callback ``dep`` with ``values`` ({"<id>.<prop>": v})."""

    def fill(items):
        out = []
        for item in items:
            key = f"{item['id']}.{item['property']}"
            out.append({"id": item["id"], "property": item["property"], "value": values.get(key)})
        return out

    first = dep["inputs"][0]
    return {"output": dep["output"], "outputs": _parse_output(dep["output"]),
            "inputs": fill(dep["inputs"]), "state": fill(dep.get("state") or []),
            "changedPropIds": [f"{first['id']}.{first['property']}"]}


def find_dep(deps, first_input: str, background: bool | None = None) -> dict:
    for d in deps:
        if d.get("clientside_function"):
            continue
        i = d["inputs"][0]
        if f"{i['id']}.{i['property']}" == first_input and (background is None or bool(d.get("background")) == background):
            return d
    raise LookupError(first_input)


def end_id(page) -> str | None:
    config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page.text, re.S)
    return json.loads(config.group(1)).get("end_id")


# --------------------------------------------------------------------------------------
# session identity: an HttpOnly, SameSite=Lax cookie set by the server; never in a payload
# --------------------------------------------------------------------------------------
def test_the_session_is_an_httponly_samesite_cookie_set_on_the_first_page_load(dash_app):
    client, page = page_client(dash_app)
    header = page.headers.get("Set-Cookie", "")
    assert header.startswith(f"{COOKIE}=") and "HttpOnly" in header and "SameSite=Lax" in header
    sid = cookie_sid(dash_app, client)
    assert re.fullmatch(r"[0-9a-f]{32}", sid)
    # the next page load keeps it; Dash's own requests do not mint sessions
    again = client.get("/compare")
    assert "Set-Cookie" not in again.headers and cookie_sid(dash_app, client) == sid
    # no callback takes the session from its payload, and no store in the page holds it
    deps = json.dumps(dependencies(client))
    assert '"session-store"' not in deps and '"sid"' not in deps
    assert sid not in client.get("/_dash-layout").get_data(as_text=True)


def test_callbacks_read_the_session_from_the_cookie_only(dash_app):
    store, settings = runtime.get_store(), runtime.get_settings()
    owner, _ = page_client(dash_app)
    sid = cookie_sid(dash_app, owner)
    store.open_session(sid)
    data_logic.ingest_example(store, sid, "gauss3d", 40, settings)
    deps = dependencies(owner)
    dep = find_dep(deps, "page-load-id.data")
    body = callback_body(dep, {"page-load-id.data": "x"})
    seen = owner.post("/_dash-update-component", json=body).get_json()["response"]
    assert seen["dataset-store"]["data"]["n_rows"] == 40
    # another browser, even one that puts the owner's session id in the payload, sees nothing
    other, _ = page_client(dash_app)
    r = other.post("/_dash-update-component", json=body)
    assert r.status_code == 200 and r.get_json()["response"]["dataset-store"]["data"] is None
    body["state"] = [{"id": "session-store", "property": "data", "value": {"sid": sid}}]
    assert other.post("/_dash-update-component", json=body).status_code == 400
    # a forged (unsigned) cookie is no session at all
    thief = dash_app.server.test_client()
    thief.set_cookie(COOKIE, json.dumps({"sid": sid}))
    r = thief.post("/_dash-update-component", json=callback_body(dep, {"page-load-id.data": "x"}))
    assert r.status_code == 200 and r.get_json()["response"]["dataset-store"]["data"] is None
    store.delete_session(sid)


# --------------------------------------------------------------------------------------
# session minting: storage made only when used, new sessions rate-limited, empty ones expire fast
# --------------------------------------------------------------------------------------
def test_page_loads_and_posts_create_no_session_folders(dash_app):
    root = runtime.get_store().root
    before = set(os.listdir(root))
    deps = None
    for _ in range(20):
        client, _ = page_client(dash_app)
        deps = deps or dependencies(client)
        body = callback_body(find_dep(deps, "page-load-id.data"), {"page-load-id.data": "x"})
        assert client.post("/_dash-update-component", json=body).status_code == 200
    anonymous = dash_app.server.test_client()
    for _ in range(50):
        anonymous.post("/_dash-update-component", json=body)
    assert set(os.listdir(root)) == before


def test_new_sessions_are_rate_limited_per_client_address(dash_app):
    minter = dash_app.server.extensions["infoimb.sessions"]
    per_minute = minter.per_minute
    minter.per_minute = 5
    try:
        where = address()
        codes = []
        for _ in range(7):
            client = dash_app.server.test_client()  # a fresh cookie jar: a new session each time
            client.environ_base.update(where)
            codes.append(client.get("/").status_code)
        assert codes == [200] * 5 + [429] * 2
        refused = client.get("/")
        assert "Too many new sessions" in refused.get_data(as_text=True) and refused.headers["Retry-After"] == "60"
        # another address is not affected, nor a browser that already has its session
        assert page_client(dash_app)[1].status_code == 200
    finally:
        minter.per_minute = per_minute


def test_a_session_folder_is_made_when_it_stores_and_empty_ones_expire_quickly(store, settings):
    sid = uuid.uuid4().hex
    assert not store.exists(sid)
    bad = data_logic.load_request(store, settings, {"kind": "upload", "filename": "x.csv"}, "", sid, {})
    assert bad["dataset"] is None and store.exists(sid)  # made when it tried to store, holds nothing
    full = uuid.uuid4().hex
    data_logic.load_request(store, settings, {"kind": "example", "name": "gauss3d", "n": 30}, None, full, {})
    old = time.time() - 700
    for s in (sid, full):
        os.utime(store.root / s / ".last_access", (old, old))
    removed = store.expire(86400, empty_ttl=600)
    assert removed == [sid] and store.exists(full)
    assert settings.empty_session_ttl == 600 and Settings.from_env(
        {"INFOIMB_EMPTY_SESSION_TTL": "30"}).empty_session_ttl == 30


# --------------------------------------------------------------------------------------
# the server-wide job cap and the queue position
# --------------------------------------------------------------------------------------
def test_max_jobs_setting_defaults_to_the_number_of_cores(tmp_path):
    env = {"INFOIMB_CACHE_DIR": str(tmp_path)}
    assert Settings.from_env(env).job_slots == (os.cpu_count() or 1)
    assert Settings.from_env({**env, "INFOIMB_MAX_JOBS": "3"}).job_slots == 3


def test_jobs_over_the_server_cap_wait_in_order_and_show_their_position(tmp_path):
    root = tmp_path / "server-jobs"
    running = threading.Event()
    release = threading.Event()
    order: list[str] = []
    reports: dict[str, list] = {"b": [], "c": [], "d": []}

    def first():
        with server_slot(None, root=root, max_jobs=1):
            running.set()
            release.wait(30)

    def waiter(name):
        with server_slot(reports[name].append, root=root, max_jobs=1):
            order.append(name)

    a = threading.Thread(target=first)
    a.start()
    assert running.wait(10)
    threads = []
    for name in ("b", "c", "d"):
        t = threading.Thread(target=waiter, args=(name,))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 10
        while not reports[name] and time.monotonic() < deadline:
            time.sleep(0.02)
    assert slots(root, 1) == 1
    assert reports["b"][0]["label"] == queue_label(0) == "queued: yours is next, waiting for a free slot on the server"
    assert reports["c"][0]["label"] == "queued: 1 analysis ahead of yours"
    assert reports["d"][0]["label"] == "queued: 2 analyses ahead of yours" and reports["d"][0]["queued"] == 2
    assert order == []  # nobody ran past the cap
    release.set()
    for t in (a, *threads):
        t.join(20)
    assert order == ["b", "c", "d"] and slots(root, 1) == 0


def test_run_job_waits_for_a_server_slot_and_reports_the_queue(store, settings, tmp_path):
    from functools import partial

    from infoimb.web.jobs import run_job

    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "gauss3d", 60, settings)
    client = {"groups": out["groups"], "scaling": "none"}
    inputs = {"a": "full", "b": "col:x", "k": 1, "metric": "euclidean", "estimator": "exact", "extras": []}
    root = tmp_path / "slots"
    held = threading.Event()
    release = threading.Event()

    def hold():
        with server_slot(None, root=root, max_jobs=1):
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    assert held.wait(10)
    reports: list = []
    box: dict = {}
    job = threading.Thread(target=lambda: box.update(status=run_job(
        store, "compare", sid, inputs, client, settings, report=reports.append,
        server_slot=partial(server_slot, root=root, max_jobs=1))))
    job.start()
    deadline = time.monotonic() + 10
    while not reports and time.monotonic() < deadline:
        time.sleep(0.02)
    assert reports[0]["label"].startswith("queued: yours is next") and "status" not in box
    release.set()
    job.join(60)
    t.join(10)
    assert box["status"]["status"] == "ok" and reports[-1]["label"] == "100% · done"


# --------------------------------------------------------------------------------------
# security headers, the CSP, no banner
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/compare", "/_dash-layout", "/_dash-dependencies", "/assets/style.css",
                                  "/healthz", "/no-such-page"])
def test_security_headers_on_every_response(dash_app, path):
    client, _ = page_client(dash_app)
    r = client.get(path)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "Server" not in r.headers


def test_the_csp_allows_exactly_the_pages_inline_scripts(dash_app):
    client, page = page_client(dash_app)
    csp = page.headers["Content-Security-Policy"]
    script_src = csp.split("script-src")[1].split(";")[0].split()
    inline = [body for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
              if "src=" not in attrs and "application/json" not in attrs and "Internet Explorer" not in body]
    assert inline  # Dash's renderer start-up and its pages' title updater
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    assert len(script_src) == 1 + len(inline)  # 'self' and those hashes, nothing else


def test_the_development_server_sends_no_version_banner():
    from infoimb.web.hardening import QuietRequestHandler

    assert QuietRequestHandler.version_string(object.__new__(QuietRequestHandler)) == "infoimb"


# --------------------------------------------------------------------------------------
# bad payloads: 400, no traceback
# --------------------------------------------------------------------------------------
def test_malformed_callback_bodies_get_400_without_a_traceback(dash_app, caplog):
    client, page = page_client(dash_app)
    deps = dependencies(client)
    good = callback_body(find_dep(deps, "page-load-id.data"), {"page-load-id.data": "x"})
    bodies = [
        b"not json at all",
        [1, 2],
        {"output": 5},
        {"output": "dataset-store.data", "inputs": "nope"},
        {"output": "dataset-store.data", "inputs": [1, 2], "state": []},
        {**good, "changedPropIds": [[1, 2]]},
        {**good, "state": {"id": "x"}},
    ]
    with caplog.at_level(logging.INFO):
        for body in bodies:
            r = (client.post("/_dash-update-component", data=body, content_type="application/json")
                 if isinstance(body, bytes) else client.post("/_dash-update-component", json=body))
            assert r.status_code == 400, (body, r.status_code)
            assert "Traceback" not in r.get_data(as_text=True)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert not any("Traceback" in rec.getMessage() for rec in caplog.records)


def test_values_of_the_wrong_shape_are_refused_with_400(dash_app, caplog):
    """Well-formed bodies whose values no browser would send (a settings value [1, 2], a
    request that is a list, a page-load id that is a dict): 400 or a harmless answer, never a
    500 with a traceback."""
    client, _ = page_client(dash_app)
    deps = dependencies(client)
    weird = [[1, 2], {"sid": [1, 2]}, "x" * 5000, 12345, None]
    with caplog.at_level(logging.INFO):
        for dep in deps:
            if dep.get("clientside_function") or dep.get("background"):
                continue
            for value in weird:
                values = {f"{i['id']}.{i['property']}": value for i in dep["inputs"] + (dep.get("state") or [])
                          if isinstance(i, dict)}
                r = client.post("/_dash-update-component", json=callback_body(dep, values))
                assert r.status_code in (200, 204, 400), (dep["output"], value, r.status_code)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR], \
        [rec.getMessage()[:300] for rec in caplog.records if rec.levelno >= logging.ERROR]


# --------------------------------------------------------------------------------------
# file names, the secret key, the cell limit on uploads
# --------------------------------------------------------------------------------------
def test_file_names_are_capped_and_shown_without_control_characters(store, settings):
    # the one clean_filename (infoimb.io), used for every upload
    assert data_logic.clean_filename("a\x00b\r\nc\u202e\tgpj.csv") == "abcgpj.csv"
    assert data_logic.clean_filename("\x1b[31mred") == "[31mred"
    assert data_logic.clean_filename("") == "upload"
    long = data_logic.clean_filename("x" * 5000 + ".csv")
    assert len(long) == data_logic.MAX_FILENAME and long.endswith("….csv")
    sid = store.new_session()
    nasty = "evil\r\n<b>name</b>\u202e" + "y" * 400 + ".csv"
    csv = "data:text/csv;base64," + base64.b64encode(b"a,b\n1,2\n3,4\n5,6\n7,8\n").decode()
    out = data_logic.ingest_upload(store, sid, csv, nasty, settings)
    shown = out["dataset"]["filename"]
    assert len(shown) <= data_logic.MAX_FILENAME and shown.endswith(".csv")
    assert not any(ord(ch) < 32 or ch == "\u202e" for ch in shown)
    assert store.get_meta(sid)["filename"] == shown and out["message"]["text"].startswith(f"Loaded {shown}:")


def test_the_signing_secret_comes_from_infoimb_secret_key(tmp_path, dash_app):
    env = {"INFOIMB_CACHE_DIR": str(tmp_path)}
    assert Settings.from_env({**env, "INFOIMB_SECRET_KEY": "s3cret"}).signing_secret() == "s3cret"
    made = Settings.from_env(env)
    secret = made.signing_secret()
    assert len(secret) == 64 and made.signing_secret() == secret  # made once, then read back
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert "s3cret" not in repr(Settings.from_env({**env, "INFOIMB_SECRET_KEY": "s3cret"}))
    # the app signs its cookies (and Dash's job handles) with it
    assert dash_app.server.secret_key == runtime.get_settings().signing_secret()


def test_uploads_are_checked_against_max_cells_when_they_arrive(store, settings):
    sid = store.new_session()
    rows = "\n".join(f"{i},{i},{i}" for i in range(20))
    csv = "data:text/csv;base64," + base64.b64encode(f"a,b,c\n{rows}\n".encode()).decode()
    out = data_logic.ingest_upload(store, sid, csv, "t.csv", settings.replace(max_cells=50))
    assert out["dataset"] is None and store.get_meta(sid) is None
    assert re.fullmatch(r"t\.csv has 20 rows × 3 columns = 60 cells \(.*\); the limit is 50 cells",
                        out["message"]["text"]), out["message"]["text"]
    ok = data_logic.ingest_upload(store, sid, csv, "t.csv", settings.replace(max_cells=60))
    assert ok["dataset"]["n_rows"] == 20


# --------------------------------------------------------------------------------------
# the embedded job manager: a job killed hard, and the end-of-job race
# --------------------------------------------------------------------------------------
def test_a_data_load_killed_hard_shows_a_message(dash_app, monkeypatch, kill_jobs):
    """SIGKILL (as the out-of-memory killer does) of the process loading a table: the poll
    that finds it gone brings the message to the page instead of waiting forever."""
    from infoimb.web.embedded_manager import LOST_MESSAGE

    def slow_load(*args, **kwargs):
        time.sleep(60)

    monkeypatch.setattr(data_logic, "_load", slow_load)  # the forked job inherits it
    client, page = page_client(dash_app)
    deps = dependencies(client)
    dep = find_dep(deps, "data-request.data", background=True)
    request = {"t": time.time() * 1000, "kind": "example", "name": "gauss3d", "n": 50}
    body = callback_body(dep, {"data-request.data": request, "page-load-id.data": uuid.uuid4().hex,
                               "settings-store.data": {}})
    params = {"endId": end_id(page)} if end_id(page) else {}
    started = client.post("/_dash-update-component", json=body, query_string=params).get_json()
    pid = int(started["job"].split("~")[0])
    os.kill(pid, signal.SIGKILL)
    poll = dict(body, inputs=[dict(i, value=None) for i in body["inputs"]])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = client.post("/_dash-update-component", json=poll,
                        query_string={**params, "cacheKey": started["cacheKey"], "job": started["job"]})
        if r.status_code == 200 and "response" in r.get_json():
            break
        time.sleep(0.3)
    response = r.get_json()["response"]
    assert response["data-message-store"]["data"]["text"] == LOST_MESSAGE
    assert response["data-message-store"]["data"]["color"] == "danger"


def test_a_job_that_ends_between_two_looks_delivers_its_result(dash_app):
    """Dash reads a job's result, then asks whether the job runs: a job that stored its result
    and ended in between was taken for a cancelled one, and that poll -- the last -- brought no
    update. The manager counts such a job as running once more; the next poll delivers."""
    import subprocess

    manager = dash_app._background_manager
    key = "race-" + uuid.uuid4().hex
    with dash_app.server.test_request_context("/_dash-update-component", method="POST"):
        job = subprocess.Popen(["sleep", "30"])
        try:
            assert manager.get_result(key, job.pid) is manager.UNDEFINED  # Dash's first look
            manager.handle.set(key, {"status": "ok", "value": 42})  # the job stores its result...
        finally:
            job.kill()  # ...and ends
            job.wait()
        assert manager.job_running(job.pid) is True  # Dash's second look: not "cancelled"
    with dash_app.server.test_request_context("/_dash-update-component", method="POST"):
        assert manager.get_result(key, job.pid) == {"status": "ok", "value": 42}  # the next poll
    # a job that ended without a result (cancelled) still counts as ended
    with dash_app.server.test_request_context("/_dash-update-component", method="POST"):
        gone = subprocess.Popen(["true"])
        gone.wait()
        manager.terminate_job(gone.pid)  # stopped by Dash: cancel
        assert manager.get_result("none-" + uuid.uuid4().hex, gone.pid) is manager.UNDEFINED
        assert manager.job_running(gone.pid) is False
