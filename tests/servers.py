"""Real server processes for the scale-out tests and the serving benchmark, and a small HTTP
client that speaks Dash's callback protocol the way the browser's renderer does.

Every server listens on 127.0.0.1 on a free port, is started in its own process group (so
stopping it stops its children too: gunicorn's and Celery's workers, forked job processes)
with a bounded wait for it to be ready, and is stopped by :meth:`Proc.stop`.

The commands are the deployment's own: gunicorn is started with the Dockerfile's ``CMD`` and
the Celery worker with docker-compose.yml's ``worker`` command, parsed from those files.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtualenv's bin: gunicorn, celery, python


# --------------------------------------------------------------------------------------
# the deployment files
# --------------------------------------------------------------------------------------
def dockerfile_instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out, buf = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def dockerfile_env(path: Path = ROOT / "Dockerfile") -> dict[str, str]:
    env = {}
    for word, rest in dockerfile_instructions(path):
        if word == "ENV":
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                env[key] = value
    return env


def dockerfile_cmd(path: Path = ROOT / "Dockerfile") -> list[str]:
    """The image's CMD, which must be in exec (JSON) form."""
    cmds = [rest for word, rest in dockerfile_instructions(path) if word == "CMD"]
    return json.loads(cmds[-1])


def dockerfile_healthcheck(path: Path = ROOT / "Dockerfile") -> list[str]:
    """The HEALTHCHECK's command (exec form), without the leading "CMD"."""
    checks = [rest for word, rest in dockerfile_instructions(path) if word == "HEALTHCHECK"]
    rest = checks[-1]
    return json.loads(rest[rest.index("CMD") + 3:].strip())


def compose(path: Path = ROOT / "docker-compose.yml") -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


# --------------------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def system_binary(name: str) -> str | None:
    return shutil.which(name, path="/usr/bin:/usr/local/bin:/usr/sbin:/bin")


class Proc:
    """A server process in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path, cwd: Path = ROOT):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")
        self._offset = self._log.tell()  # a restarted server appends to the same log
        self.popen = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self, tail: int = 4000) -> str:
        """The last ``tail`` characters this process wrote."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._offset)
                return f.read().decode(errors="replace")[-tail:]
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group at once: a crash, an OOM kill, ``docker kill``."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, grace: float = 8.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # children that outlived their leader are still in the group
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def wait_until(check, timeout: float, what: str, proc: Proc | None = None, interval: float = 0.2):
    """Call ``check()`` until it returns a true value (returned), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}) before {what}:\n{proc.log()}")
        try:
            value = check()
            if value:
                return value
        except Exception as err:  # noqa: BLE001 - not ready yet
            last = err
        time.sleep(interval)
    tail = f"\n{proc.name} log:\n{proc.log()}" if proc is not None else ""
    raise TimeoutError(f"{what}: not within {timeout:g} s (last error: {last!r}){tail}")


def deploy_env(cache_dir: Path, port: int | None = None, redis_url: str | None = None, **extra) -> dict:
    """The environment of a deployed process: this one's, the Dockerfile's ENV and the given
    settings, with the paths made local (cache directory, numba's cache next to the sources)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFOIMB_", "DASH_", "REDIS_URL",
                                                                     "WEB_", "PYTEST_"))}
    env.update(dockerfile_env())
    env.pop("NUMBA_CACHE_DIR", None)  # numba's cache next to the sources: warm already
    env["PYTHONPATH"] = str(ROOT)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOST"] = "127.0.0.1"
    env["INFOIMB_CACHE_DIR"] = str(cache_dir)
    env["HOME"] = str(cache_dir.parent)
    if port is not None:
        env["PORT"] = str(port)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_redis(log_dir: Path, binary: str = "redis-server") -> tuple[Proc, str]:
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--protected-mode", "yes", "--dir", str(log_dir)]
    proc = Proc(f"redis-{port}", argv, dict(os.environ), log_dir)
    url = f"redis://127.0.0.1:{port}/0"

    def ping():
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_until(ping, 20, "redis-server answers PING", proc)
    return proc, url


def worker_command() -> list[str]:
    return list(compose()["services"]["worker"]["command"])


def start_worker(name: str, env: dict, log_dir: Path, ready_timeout: float = 120, wait: bool = True) -> Proc:
    """A Celery worker started with docker-compose's command (``-n`` gives it a unique name on
    this host, as a container's hostname does); waits for "ready" in its log."""
    argv = worker_command() + ["-n", f"{name}@%h"]
    proc = Proc(name, argv, env, log_dir)
    if wait:
        wait_worker(proc, ready_timeout)
    return proc


def wait_worker(proc: Proc, timeout: float = 120) -> None:
    wait_until(lambda: " ready." in proc.log(1_000_000), timeout, f"Celery worker {proc.name} is ready", proc,
               interval=0.3)


def start_gunicorn(env: dict, log_dir: Path, name: str = "gunicorn", ready_timeout: float = 120,
                   wait: bool = True) -> tuple[Proc, str]:
    """gunicorn started with the Dockerfile's CMD; waits until every worker answers /healthz."""
    proc = Proc(name, dockerfile_cmd(), env, log_dir)
    base = f"http://127.0.0.1:{env['PORT']}"
    if wait:
        wait_gunicorn(proc, base, int(env.get("WEB_CONCURRENCY", "2")), ready_timeout)
    return proc, base


def wait_gunicorn(proc: Proc, base: str, workers: int, timeout: float = 120) -> None:
    wait_until(lambda: requests.get(base + "/healthz", timeout=5).status_code == 200, timeout,
               "gunicorn answers /healthz", proc)
    wait_until(lambda: proc.log(200_000).count(" warm: /healthz 200") >= workers, timeout,
               f"{workers} gunicorn workers are warm", proc)


# --------------------------------------------------------------------------------------
# Dash's callback protocol over HTTP
# --------------------------------------------------------------------------------------
def _parse_output(output: str):
    """The ``outputs`` of a request for a callback whose output string is ``output``."""
    def one(text):
        cid, _, prop = text.rpartition(".")
        if cid.startswith("{"):
            cid = json.loads(cid)
        return {"id": cid, "property": prop}

    if output.startswith(".."):
        return [one(part) for part in output[2:-2].split("...")]
    return one(output)


class DashClient:
    """One browser page load: the page's end id, the app's callbacks, and calls to them."""

    def __init__(self, base: str, timeout: float = 60, cookie: str | None = None):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        if cookie is not None:  # a returning browser (or one presenting a forged cookie)
            from urllib.parse import urlparse

            self.http.cookies.set("infoimb_session", cookie, domain=urlparse(self.base).hostname, path="/")
        page = self.http.get(self.base + "/", timeout=timeout)
        page.raise_for_status()
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page.text, re.S)
        self.config = json.loads(config.group(1))
        self.end_id = self.config.get("end_id")
        self.deps = self.http.get(self.base + "/_dash-dependencies", timeout=timeout).json()

    def dep(self, first_input: str, *, background: bool | None = None) -> dict:
        """The server-side callback whose first input is ``first_input`` ("<id>.<property>")."""
        for d in self.deps:
            if d.get("clientside_function"):
                continue
            i = d["inputs"][0]
            if f"{i['id']}.{i['property']}" == first_input and (background is None or bool(d.get("background")) == background):
                return d
        raise LookupError(first_input)

    def _payload(self, dep: dict, values: dict) -> dict:
        def fill(items):
            out = []
            for item in items:
                key = f"{item['id']}.{item['property']}"
                out.append({"id": item["id"], "property": item["property"], "value": values.get(key)})
            return out

        first = dep["inputs"][0]
        return {"output": dep["output"], "outputs": _parse_output(dep["output"]), "inputs": fill(dep["inputs"]),
                "state": fill(dep.get("state") or []), "changedPropIds": [f"{first['id']}.{first['property']}"]}

    def post(self, payload: dict, cookie: str | None = None, **args) -> requests.Response:
        """POST a callback request; ``cookie``: send that session cookie instead of ours."""
        params = {"endId": self.end_id} if self.end_id else {}
        params.update({k: v for k, v in args.items() if v is not None})
        if cookie is not None:
            return requests.post(self.base + "/_dash-update-component", params=params, json=payload,
                                 timeout=self.timeout, cookies={"infoimb_session": cookie})
        return self.http.post(self.base + "/_dash-update-component", params=params, json=payload,
                              timeout=self.timeout)

    def call(self, dep: dict, values: dict) -> dict | None:
        """A plain callback: its ``response`` (``{id: {prop: value}}``), None for no update."""
        r = self.post(self._payload(dep, values))
        if r.status_code == 204:
            return None
        r.raise_for_status()
        return r.json().get("response")

    def start(self, dep: dict, values: dict) -> "Job":
        """Start a background callback; poll the returned job with :meth:`Job.poll`."""
        payload = self._payload(dep, values)
        r = self.post(payload)
        r.raise_for_status()
        data = r.json()
        if "response" in data:  # answered at once
            return Job(self, payload, None, None, done=data)
        return Job(self, payload, data["cacheKey"], data["job"])


class Job:
    """A background callback started by :meth:`DashClient.start`."""

    def __init__(self, client: DashClient, payload: dict, cache_key, job, done: dict | None = None):
        self.client = client
        self.payload = payload
        self.cache_key = cache_key
        self.job = job
        self.progress: list = []
        self.result = done
        self.polls = 0

    def poll_once(self) -> dict | None:
        """One poll: the final response, or None while the job runs (progress is collected)."""
        if self.result is not None:
            return self.result
        body = dict(self.payload)
        body["inputs"] = [dict(i, value=None) for i in body["inputs"]]
        body["state"] = [dict(s, value=None) for s in body["state"]]
        r = self.client.post(body, cacheKey=self.cache_key, job=self.job)
        self.polls += 1
        if r.status_code == 204:
            self.result = {"response": None}
            return self.result
        r.raise_for_status()
        data = r.json()
        if data.get("progress"):
            self.progress.append(data["progress"])
        if "response" in data:
            self.result = data
            return data
        return None

    def wait(self, timeout: float, interval: float = 0.3) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.poll_once()
            if out is not None:
                return out
            time.sleep(interval)
        raise TimeoutError(f"background job {self.job} gave no answer within {timeout:g} s "
                           f"(progress seen: {self.progress[-3:]})")

    def cancel(self, cancel_dep: dict, cancel_input: str) -> None:
        """What the renderer does when a cancel input of the job changes."""
        payload = self.client._payload(cancel_dep, {cancel_input: {"t": time.time(), "n": 1}})
        r = self.client.post(payload, cancelJob=self.job)
        assert r.status_code in (200, 204), r.text


def value(response: dict | None, component: str, prop: str = "data"):
    """A value from a callback ``response`` ({id: {prop: value}})."""
    return ((response or {}).get(component) or {}).get(prop)


def cookie_session(value: str | None) -> str | None:
    """The session id inside a session cookie's value (Flask's signed cookie: the payload is
    readable, only the server can make one), or None."""
    import zlib

    if not value:
        return None
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        if compressed:
            raw = zlib.decompress(raw)
        return json.loads(raw).get("sid")
    except (ValueError, zlib.error):
        return None


class Visitor:
    """One person with one browser tab: a page load, its server-side session, its jobs.

    The session is the server's HttpOnly cookie, kept by the visitor's HTTP session; ``cookie``
    (a cookie value) makes a returning visitor, or one who presents a forged cookie."""

    COOKIE = "infoimb_session"

    def __init__(self, base: str, timeout: float = 60, cookie: str | None = None):
        import uuid

        self.client = DashClient(base, timeout=timeout, cookie=cookie)
        self.page_load = uuid.uuid4().hex
        self.settings: dict = {}
        out = self.client.call(self.client.dep("page-load-id.data"), {"page-load-id.data": self.page_load})
        self.dataset = value(out, "dataset-store")
        assert self.sid is not None and len(self.sid) == 32, self.cookie

    @property
    def cookie(self) -> str | None:
        """The session cookie the server set last (a forged one is replaced on the page load)."""
        jar = [c for c in self.client.http.cookies if c.name == self.COOKIE]
        return jar[-1].value if jar else None

    @property
    def sid(self) -> str | None:
        return cookie_session(self.cookie)

    def _state(self) -> dict:
        return {"settings-store.data": self.settings, "page-load-id.data": self.page_load}

    def load(self, *, example: str | None = None, n: int | None = None, upload: tuple[str, str] | None = None,
             timeout: float = 120) -> dict:
        """Load an example or upload ``(filename, data URL)``; the final response."""
        if example is not None:
            request = {"t": time.time() * 1000, "kind": "example", "name": example, "n": n}
            payload = None
        else:
            request = {"t": time.time() * 1000, "kind": "upload", "filename": upload[0]}
            payload = upload[1]
        values = {"data-request.data": request, "data-payload.data": payload, **self._state()}
        out = self.client.start(self.client.dep("data-request.data", background=True), values).wait(timeout)
        response = out.get("response") or {}
        client = value(response, "settings-store")
        if client:
            self.settings = client
        return response

    def start(self, analysis: str, inputs: dict) -> Job:
        request = {"t": time.time() * 1000, "n": 1, "values": inputs}
        values = {f"job-request-{analysis}.data": request, **self._state()}
        return self.client.start(self.client.dep(f"job-request-{analysis}.data", background=True), values)

    def run(self, analysis: str, inputs: dict, timeout: float = 120) -> dict:
        """Run an analysis to its end; its status (``job-result-<analysis>``'s data)."""
        out = self.start(analysis, inputs).wait(timeout)
        return value(out.get("response"), f"job-result-{analysis}")

    def cancel(self, analysis: str, job: Job) -> None:
        job.cancel(self.client.dep(f"job-cancel-request-{analysis}.data", background=False),
                   f"job-cancel-request-{analysis}.data")

    def download(self, analysis: str, shown: dict | None, cookie: str | None = None) -> dict | None:
        """The JSON download of a result (``shown`` = {"key", "content_hash"}), or None;
        ``cookie``: present that session cookie instead of the visitor's own."""
        dep = self.client.dep(json.dumps({"analysis": analysis, "type": "job-download-csv"},
                                         separators=(",", ":")) + ".n_clicks")
        csv_id = {"analysis": analysis, "type": "job-download-csv"}
        json_id = {"analysis": analysis, "type": "job-download-json"}
        shown_id = {"analysis": analysis, "type": "job-shown"}
        values = {f"{json.dumps(csv_id, separators=(',', ':'))}.n_clicks": None,
                  f"{json.dumps(json_id, separators=(',', ':'))}.n_clicks": 1,
                  f"{json.dumps(shown_id, separators=(',', ':'))}.data": shown}
        payload = self.client._payload(dep, values)
        payload["changedPropIds"] = [f"{json.dumps(json_id, separators=(',', ':'))}.n_clicks"]
        r = self.client.post(payload, cookie=cookie)
        if r.status_code == 204:
            return None
        r.raise_for_status()
        data = r.json().get("response") or {}
        return next(iter(data.values()), {}).get("data")  # None: nothing sent (no update)

    def table(self, cookie: str | None = None) -> dict | None:
        """What the Data page shows of the session's table (summary and first rows)."""
        dep = next(d for d in self.client.deps if "data-summary.children" in d["output"])
        payload = self.client._payload(dep, {"dataset-store.data": {"content_hash": "x"}})
        r = self.client.post(payload, cookie=cookie)
        if r.status_code == 204:
            return None
        r.raise_for_status()
        return r.json().get("response")
