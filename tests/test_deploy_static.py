"""Static checks of the container files (Docker's engine is not available here; the commands
themselves run as processes in tests/test_scaleout.py): a pinned base image, dependencies
before code, a user without privileges, writable caches, a HEALTHCHECK with the standard
library, and the same commands in the Dockerfile, docker-compose.yml and the process tests.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import inspect
import json
import re
import sys

import pytest

from tests import servers
from tests.servers import ROOT, compose, dockerfile_cmd, dockerfile_env, dockerfile_healthcheck, dockerfile_instructions

CMD = ["gunicorn", "--config", "gunicorn.conf.py", "--no-control-socket", "app:server"]
WORKER = ["celery", "-A", "app:celery_app", "worker", "--loglevel=INFO", "--concurrency=1"]


@pytest.fixture(scope="module")
def steps():
    return dockerfile_instructions()


def _index(steps, word, pattern=""):
    for i, (w, rest) in enumerate(steps):
        if w == word and re.search(pattern, rest):
            return i
    raise AssertionError(f"no {word} {pattern!r} in the Dockerfile")


def test_base_image_is_pinned_python_311_slim(steps):
    assert steps[0][0] == "FROM"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", steps[0][1])
    assert [w for w, _ in steps].count("FROM") == 1


def test_dependencies_are_installed_before_the_code_is_copied(steps):
    copy_req = _index(steps, "COPY", r"^requirements\.txt ")
    install = _index(steps, "RUN", r"pip install -r requirements\.txt")
    code = [i for i, (w, rest) in enumerate(steps) if w == "COPY" and "requirements.txt" not in rest]
    assert copy_req < install < min(code)
    copied = {token for i in code for token in steps[i][1].split()[:-1] if not token.startswith("--")}
    assert copied == {"infoimb", "pages", "assets", "app.py", "gunicorn.conf.py"}
    for name in copied | {"requirements.txt"}:
        assert (ROOT / name).exists(), name


def test_runs_as_a_user_without_privileges_with_writable_caches(steps):
    user = _index(steps, "USER")
    name = steps[user][1]
    assert name not in ("root", "0") and not name.startswith("0:")
    assert user < _index(steps, "CMD")
    assert [w for w, _ in steps[user:]].count("USER") == 1  # nothing switches back to root
    create = steps[_index(steps, "RUN", r"useradd")][1]
    assert re.search(rf"useradd .*--uid 10001 .*{name}\b", create)
    env = dockerfile_env()
    made = re.search(r"mkdir -p ([^&]+)&&", create).group(1).split()
    owned = re.search(rf"chown -R {name}:{name} ([^&]+)$", create).group(1).split()
    for var in ("INFOIMB_CACHE_DIR", "NUMBA_CACHE_DIR"):
        path = env[var]
        assert path in made, var
        assert any(path == d or path.startswith(d + "/") for d in owned), var
    # numba's cache is filled at build time, as that user
    warm = _index(steps, "RUN", r"warm_numba")
    assert user < warm < _index(steps, "CMD")
    assert env["HOST"] == "0.0.0.0" and env["PORT"] == "8050"


def test_healthcheck_uses_the_standard_library_on_healthz(steps):
    check = steps[_index(steps, "HEALTHCHECK")][1]
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in check
    argv = dockerfile_healthcheck()
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2] and "/healthz" in argv[2] and "PORT" in argv[2]
    assert "curl" not in check and "wget" not in check


def test_cmd_is_gunicorn_and_the_process_tests_run_exactly_it(steps):
    assert dockerfile_cmd() == CMD
    assert "dockerfile_cmd()" in inspect.getsource(servers.start_gunicorn)
    assert "worker_command()" in inspect.getsource(servers.start_worker)
    assert _index(steps, "EXPOSE", r"^8050$")


def test_compose_web_worker_redis_share_image_and_volume():
    spec = compose()
    services = spec["services"]
    assert set(services) == {"web", "worker", "redis", "dask-scheduler", "dask-worker"}
    web, worker, redis = services["web"], services["worker"], services["redis"]
    # the same image for web and worker, built from this Dockerfile
    assert web["image"] == worker["image"] and web["build"] == worker["build"] == "."
    assert "command" not in web  # the image's CMD, which the process test runs
    assert worker["command"] == WORKER
    assert servers.worker_command() == WORKER
    # one volume for the session store and the job cache, where the image expects it
    cache = dockerfile_env()["INFOIMB_CACHE_DIR"]
    for service in (web, worker):
        assert service["environment"]["INFOIMB_CACHE_DIR"] == cache
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        volumes = [v.split(":") for v in service["volumes"]]
        assert [name for name, target in volumes if target == cache] == ["infoimb-data"]
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "infoimb-data" in spec["volumes"]
    # redis: a pinned image with a health check; the web port only on the loopback
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+(-alpine)?", redis["image"])
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert web["ports"] == ["127.0.0.1:8050:8050"]
    assert worker["healthcheck"] == {"disable": True}  # the image's check asks gunicorn, not Celery
    # every limit of the README's table is set the same way for both
    assert web["environment"].items() >= worker["environment"].items()
    # the Dask cluster: the same image, one scheduler, two one-thread workers it reaches
    sched, dworker = services["dask-scheduler"], services["dask-worker"]
    assert sched["image"] == dworker["image"] == web["image"]
    assert sched["command"][:2] == ["dask", "scheduler"] and "8786" in sched["command"]
    assert dworker["command"][:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert dworker["command"][3:5] == ["--nthreads", "1"] and dworker["deploy"]["replicas"] == 2
    assert worker["environment"]["INFOIMB_DASK_ADDRESS"] == "tcp://dask-scheduler:8786"


def test_dockerignore_keeps_the_build_context_small_and_sufficient():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.replace("**/", "")) or
                   path.split("/")[0] == p for p in patterns)

    for path in (".venv", ".git", "tests", "bench", "docs", ".pytest_cache", "infoimb/__pycache__/x.pyc"):
        assert ignored(path), path
    for path in ("requirements.txt", "infoimb", "infoimb/web/jobs.py", "pages", "assets", "app.py",
                 "gunicorn.conf.py"):
        assert not ignored(path), path


def _load_conf(monkeypatch, **env):
    for key in ("HOST", "PORT", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_conf_reads_the_environment(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    conf = _load_conf(monkeypatch)  # jobs forked from the web workers: no threads beside them
    assert (conf.bind, conf.workers, conf.threads, conf.worker_class) == ("127.0.0.1:8050", 2, 1, "sync")
    assert conf.preload_app is True and callable(conf.post_worker_init)
    conf = _load_conf(monkeypatch, REDIS_URL="redis://redis:6379/0")  # Celery: the web never forks
    assert (conf.threads, conf.worker_class) == (4, "gthread")
    conf = _load_conf(monkeypatch, HOST="0.0.0.0", PORT="9001", WEB_CONCURRENCY="3", WEB_THREADS="8",
                      WEB_TIMEOUT="300")
    assert (conf.bind, conf.workers, conf.threads, conf.timeout) == ("0.0.0.0:9001", 3, 8, 300)
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY='two' is not a whole number"):
        _load_conf(monkeypatch, WEB_CONCURRENCY="two")
    with pytest.raises(SystemExit, match="WEB_THREADS='0' must be at least 1"):
        _load_conf(monkeypatch, WEB_THREADS="0")


def test_post_worker_init_warms_through_healthz(dash_app):
    conf = importlib.util.module_from_spec(importlib.util.spec_from_file_location("g", ROOT / "gunicorn.conf.py"))
    conf.__loader__.exec_module(conf)
    lines = []

    class Log:
        def info(self, msg, *args):
            lines.append(msg % args)

        warning = info

    class Worker:
        pid = 4242
        wsgi = dash_app.server
        log = Log()

    conf.post_worker_init(Worker())
    assert lines == ["worker 4242 warm: /healthz 200"]


def test_celery_app_is_importable_as_app_celery_app(dash_app):
    app_module = sys.modules["app"]
    assert app_module.celery_app is None  # no REDIS_URL in this process: the embedded manager
    body = dash_app.server.test_client().get("/healthz").get_json()
    assert body["background"] == "diskcache" and "redis" not in body
    assert json.dumps(body)
