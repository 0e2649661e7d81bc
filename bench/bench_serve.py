"""Serving benchmark: jobs per minute, embedded background manager vs 2 Celery workers, and the
web server's median response times under concurrent sessions.

Everything runs as the deployment runs it, on 127.0.0.1 only: gunicorn with the Dockerfile's
CMD and gunicorn.conf.py's defaults (2 workers; 1 thread each for the embedded manager, 4 with
Celery), and for the Celery case redis-server and two workers started with docker-compose.yml's
worker command. The clients speak Dash's callback protocol over HTTP, as the browser does
(tests/servers.py).

1. Jobs per minute on the panel-selection example (policy_panel, 40 nations x 80 weeks: the
   four effective policies among ten, target the epidemic state two weeks ahead; greedy
   forward selection up to 10 features, subsampled queries). ``--sessions`` sessions each load
   the example, then run ``--jobs`` selections one after the other with different k (so the
   memo never answers); the sessions run at once. Jobs per minute = all jobs / wall time from
   the first submission to the last result.
2. Median response time of GET /healthz and of a page load (GET /, /_dash-layout and
   /_dash-dependencies, what the browser fetches before its first callback) with
   ``--clients`` concurrent sessions, ``--requests`` of each per session.

    python bench/bench_serve.py                 # the README's table
    python bench/bench_serve.py --sessions 4 --jobs 2 --requests 10   # quicker

Bounded: every server has a start-up limit, every job a result limit (``--job-timeout``) and
the whole run stops with an error after ``--budget`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests import servers as S  # noqa: E402


def selection_inputs(k: int, n_queries: int) -> dict:
    return {"candidates": "group:policies", "target": "group:epidemic_state", "lag": 2, "method": "greedy",
            "max_features": 10, "criterion": "a_to_b", "k": k, "estimator": "subsampled",
            "n_queries": n_queries, "n_random": 0, "dummy": []}


class Deployment:
    """gunicorn (embedded manager), or gunicorn + redis-server + Celery workers."""

    def __init__(self, tmp: Path, celery_workers: int):
        self.procs: list[S.Proc] = []
        redis_url = None
        if celery_workers:
            redis, redis_url = S.start_redis(tmp, S.system_binary("redis-server") or "redis-server")
            self.procs.append(redis)
        # gunicorn.conf.py's defaults: 2 workers; 1 thread each without Celery, 4 with it
        self.env = S.deploy_env(tmp / "cache", port=S.free_port(), redis_url=redis_url, WEB_CONCURRENCY=2,
                                INFOIMB_MAX_JOBS_PER_SESSION=2)
        workers = [S.start_worker(f"bench{i}", self.env, tmp, wait=False) for i in range(celery_workers)]
        self.procs += workers
        web, self.base = S.start_gunicorn(self.env, tmp, wait=False)
        self.procs.append(web)
        for w in workers:
            S.wait_worker(w, 180)
        S.wait_gunicorn(web, self.base, 2, 180)

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


def jobs_per_minute(base: str, sessions: int, jobs: int, n_queries: int, job_timeout: float) -> dict:
    visitors = [S.Visitor(base, timeout=job_timeout) for _ in range(sessions)]
    for v in visitors:
        out = v.load(example="policy_panel", timeout=job_timeout)
        assert S.value(out, "data-message-store")["color"] == "success", out
    done: list = []
    errors: list = []
    lock = threading.Lock()

    def session(i: int):
        for j in range(jobs):
            t0 = time.perf_counter()
            status = visitors[i].run("select", selection_inputs(k=1 + j, n_queries=n_queries), timeout=job_timeout)
            with lock:
                if status.get("status") == "ok" and not status.get("cached"):
                    done.append(time.perf_counter() - t0)
                else:
                    errors.append(status)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(session, range(sessions)))
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"jobs failed: {errors[:3]}")
    return {"jobs": len(done), "wall_s": wall, "jobs_per_min": 60 * len(done) / wall,
            "median_job_s": statistics.median(done)}


def response_times(base: str, clients: int, per_client: int) -> dict:
    health: list = []
    page: list = []
    lock = threading.Lock()

    def client(_):
        http = requests.Session()
        for _ in range(per_client):
            t0 = time.perf_counter()
            r = http.get(base + "/healthz", timeout=30)
            t1 = time.perf_counter()
            assert r.status_code == 200
            for path in ("/", "/_dash-layout", "/_dash-dependencies"):
                r = http.get(base + path, timeout=30)
                assert r.status_code == 200, path
            t2 = time.perf_counter()
            with lock:
                health.append(t1 - t0)
                page.append(t2 - t1)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return {"healthz_ms": 1000 * statistics.median(health), "page_ms": 1000 * statistics.median(page),
            "n": len(health)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=8, help="concurrent sessions running selections")
    ap.add_argument("--jobs", type=int, default=3, help="selections per session, one after the other")
    ap.add_argument("--n-queries", type=int, default=500, help="query points of each selection")
    ap.add_argument("--clients", type=int, default=10, help="concurrent sessions for the response times")
    ap.add_argument("--requests", type=int, default=30, help="/healthz and page loads per session")
    ap.add_argument("--job-timeout", type=float, default=600)
    ap.add_argument("--budget", type=float, default=1500, help="seconds for the whole run")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args(argv)

    watchdog = threading.Timer(args.budget, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    rows = []
    for label, celery_workers in (("embedded (DiskcacheManager)", 0), ("Celery, 2 workers", 2)):
        tmp = Path(tempfile.mkdtemp(prefix="infoimb-bench-"))
        dep = Deployment(tmp, celery_workers)
        try:
            jobs = jobs_per_minute(dep.base, args.sessions, args.jobs, args.n_queries, args.job_timeout)
            web = response_times(dep.base, args.clients, args.requests)
        finally:
            dep.stop()
        rows.append({"setup": label, **jobs, **web})
        print(f"{label}: {jobs} {web}", file=sys.stderr, flush=True)
    watchdog.cancel()

    load = os.getloadavg()
    print(f"\n{os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; "
          f"{args.sessions} sessions x {args.jobs} selections (policy_panel, greedy up to 10 features, "
          f"{args.n_queries} queries); {args.clients} clients x {args.requests} requests\n")
    print("| background jobs | jobs | wall (s) | jobs/min | median job (s) | /healthz median (ms) | "
          "page load median (ms) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['setup']} | {r['jobs']} | {r['wall_s']:.1f} | {r['jobs_per_min']:.1f} | {r['median_job_s']:.2f} "
              f"| {r['healthz_ms']:.1f} | {r['page_ms']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
