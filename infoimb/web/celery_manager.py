"""Background jobs on Celery workers fed through Redis (``REDIS_URL`` set).

:class:`JobQueueManager` is Dash's ``CeleryManager`` plus what a deployment shared by many
people needs; :func:`make_celery` is the Celery app (``app:celery_app``), configured for it.

- **Refused before queueing.** In the web process, a job whose callback registered a
  :class:`~infoimb.web.jobs.JobOutput` is admitted first: an analysis over a limit (or with
  invalid inputs, or already in the memo) is answered at once and never waits for a worker.
- **A session's share of jobs.** The job slot of the session (``SessionStore.start_job``) is
  claimed when the job is *queued*, with the task id; the worker uses that slot and releases
  it at the end; cancel, or the web seeing the job lost, releases it too.
- **Heartbeats.** While a job runs, its worker writes ``infoimb:beat:<task id>`` in Redis and
  touches the job's slot every few seconds. When the page polls a job that has no result
  yet, the web process looks at that heartbeat: a running job silent for
  ``INFOIMB_WORKER_LOST_AFTER`` seconds, a job Celery marks failed (its pool process was
  killed) or a job no worker took within ``INFOIMB_JOB_TIMEOUT`` seconds is reported on the
  page ("the worker running this job stopped; run it again"), its slot is freed and the task
  is revoked. Without this, Dash keeps polling a job whose worker died, forever.
- **No pickle.** Tasks and results are JSON only (Celery's serializer, Dash's own result
  encoding); uploaded files travel as JSON text and are parsed, never unpickled.
- **One signing secret without expiry.** Dash signs background-job handles with a secret it
  keeps in the result store; Dash's CeleryManager writes it with the results' expiry, after
  which a new web worker would make a different one and its polls would fail silently.

Celery settings: ``task_acks_late`` off and ``task_reject_on_worker_lost`` off, so a job whose
worker died is reported and never re-run on its own (a job that ran out of memory would kill
the next worker too); ``worker_prefetch_multiplier=1`` so a worker does not hoard queued jobs;
jobs run in the worker's pool process, forked from the worker after it imported ``app`` (so
its numba kernels are warm). An analysis stopped at its time limit may leave its thread
running until its next progress report; that pool process then retires after the job's
result is stored (Celery starts a fresh one), so nothing of the stopped job runs beside the
next. (``worker_max_tasks_per_child=1`` would do the same for every job, but Celery takes up
to about 5 s to replace a pool process.)
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager

import dash

from .. import _serialize
from .config import Settings
from .jobs.runner import held_slot, sentence
from .sessions import add_session_arg, current_sid
from .store import InvalidSession, SessionStore, TooManyJobs

__all__ = ["JobQueueManager", "LOST_MESSAGE", "make_celery"]

log = logging.getLogger(__name__)

JOB_KEY = "infoimb:job:{}"
BEAT_KEY = "infoimb:beat:{}"
ANSWERED = "answered-"  # job ids of jobs answered in the web process, never queued

LOST_MESSAGE = ("The worker running this job stopped before it finished (it may have been restarted or run "
                "out of memory); run it again.")


def queue_message(seconds: float) -> str:
    return (f"No worker started this job within {seconds:g} s (INFOIMB_JOB_TIMEOUT): the workers are busy or "
            "stopped; run it again later.")


def make_celery(settings: Settings):
    """The Celery app of the dashboard: broker and results in Redis, JSON only."""
    from celery import Celery

    app = Celery("infoimb", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_track_started=True,
        task_acks_late=False,
        task_reject_on_worker_lost=False,
        worker_prefetch_multiplier=1,
        result_expires=int(settings.job_timeout) + 3600,
        task_time_limit=int(settings.job_timeout) + 60,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    from celery.signals import task_postrun

    task_postrun.connect(_retire_if_tainted, weak=False)
    return app


_TAINTED = threading.Event()  # set in a pool process that still runs a stopped analysis


def _abandoned_analysis() -> bool:
    return any(t.name == "infoimb-analysis" and t.is_alive() for t in threading.enumerate())


def _retire_if_tainted(**_):
    """After a job's result is stored: end this pool process if a stopped analysis still runs
    in it (Celery replaces the process; the job counts as ended, its result stands)."""
    if _TAINTED.is_set():
        log.warning("pool process %s retires: a stopped analysis still runs in it", os.getpid())
        logging.shutdown()
        os._exit(0)


def _output_names(context) -> list[str]:
    """``"<id>.<property>"`` of a callback's outputs, from the context Dash gives a job."""
    outputs = (context or {}).get("outputs_list") or []
    if isinstance(outputs, dict):
        outputs = [outputs]
    names = []
    for out in outputs:
        if isinstance(out, list):  # pattern-matching outputs: not used by job callbacks
            continue
        if isinstance(out, dict) and "id" in out and "property" in out:
            cid = out["id"] if isinstance(out["id"], str) else json.dumps(out["id"], sort_keys=True,
                                                                          separators=(",", ":"))
            names.append(f"{cid}.{str(out['property']).split('@')[0]}")
    return names


def _plain_json(value):
    """``value`` as plain JSON data (the package's one encoder)."""
    return json.loads(_serialize.dumps(value))


class JobQueueManager(dash.CeleryManager):
    """Dash's CeleryManager with admission, per-session job slots and heartbeats (see the
    module docstring).

    Parameters
    ----------
    celery_app : celery.Celery
        From :func:`make_celery`.
    settings : Settings
        Limits, heartbeat timeout, REDIS_URL.
    get_store : callable
        Returns the shared SessionStore (resolved when a job is queued or runs).
    """

    def __init__(self, celery_app, settings: Settings, get_store: Callable[[], SessionStore], outputs=None):
        import redis

        from .jobs.card import JobOutputs

        super().__init__(celery_app, expire=None)
        self.settings = settings
        self.get_store = get_store
        self.redis = redis.Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
        self.record_ttl = int(2 * settings.job_timeout + 3600)
        self.beat_interval = max(0.2, min(5.0, settings.worker_lost_after / 5))
        self.outputs = outputs if outputs is not None else JobOutputs()

    # ---- small Redis records ------------------------------------------------------
    def _get(self, pattern: str, job: str) -> dict | None:
        raw = self.redis.get(pattern.format(job))
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def _put(self, pattern: str, job: str, value: dict) -> None:
        self.redis.set(pattern.format(job), json.dumps(value), ex=self.record_ttl)

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:  # noqa: BLE001 - reported by /healthz
            return False

    def get_or_create_signing_secret(self, generate):
        key = self.SIGNING_SECRET_KEY
        self.redis.set(key, generate(), nx=True)  # no expiry: every web worker must agree on it
        return self.redis.get(key)

    # ---- web side: queueing -------------------------------------------------------
    def _spec(self, context):
        for name in _output_names(context):
            if name in self.outputs:
                return name, self.outputs.get(name)
        return None, None

    def _answer(self, key: str, value) -> str:
        """Store ``value`` as the job's result at once; the job id says it never ran."""
        self.handle.backend.set(key, _serialize.dumps(value))
        return ANSWERED + uuid.uuid4().hex

    def call_job_fn(self, key, job_fn, args, context):
        output, spec = self._spec(context)
        args = add_session_arg(args)  # the session of the request's cookie, for the job
        kwargs = args if isinstance(args, dict) else {}
        if spec is not None and spec.admit is not None:
            final = spec.admit(kwargs)
            if final is not None:
                return self._answer(key, final)
        job = str(uuid.uuid4())
        record = {"submitted": time.time(), "output": output, "sid": None, "slot": None}
        slot = None
        if spec is not None and spec.admit is not None:  # an analysis: it takes a slot of the session
            sid = current_sid()
            try:
                slot = self.get_store().start_job(sid, max_jobs=self.settings.max_jobs_per_session,
                                                  job_timeout=self.settings.job_timeout, job=job,
                                                  heartbeat=self.settings.worker_lost_after)
                record.update(sid=sid, slot=slot.name)
            except TooManyJobs as err:
                return self._answer(key, spec.report(sentence(str(err)), kwargs))
            except InvalidSession:
                pass  # the job says so itself
        self._put(JOB_KEY, job, record)
        try:
            job_fn.apply_async(args=(key, self._make_progress_key(key), args, context), task_id=job)
        except Exception:
            if slot is not None:
                self.get_store().end_job(slot, job)
            raise
        return job

    # ---- web side: polling ----------------------------------------------------------
    def job_running(self, job):
        if job is None or str(job).startswith(ANSWERED):
            return False
        from .embedded_manager import result_waiting

        return super().job_running(job) or result_waiting(self, job)

    def terminate_job(self, job):
        """Cancel, or the end of a job (Dash calls this once it read the result): the task is
        revoked, its slot released, and a copy still queued will not run."""
        if job is None or str(job).startswith(ANSWERED):
            return
        record = self._get(JOB_KEY, job)
        if record is not None:
            if not record.get("ended"):
                record["ended"] = time.time()
                self._put(JOB_KEY, job, record)
            self._release(job, record)
        super().terminate_job(job)

    def _release(self, job: str, record: dict) -> None:
        if not record.get("slot"):
            return
        try:
            self.get_store().end_job(self.get_store().job_slot(record["sid"], record["slot"]), job)
        except (InvalidSession, ValueError):
            pass

    def lost_reason(self, job: str) -> str | None:
        """Why a job that has no result yet will never have one, or None while it may."""
        record = self._get(JOB_KEY, job)
        if record is None:
            return None  # not queued here, or long expired: left to Dash
        if self.handle.AsyncResult(job).state == "FAILURE":  # its pool process was killed
            return LOST_MESSAGE
        beat = self._get(BEAT_KEY, job)
        now = time.time()
        if beat is not None:
            if beat.get("done"):
                return None
            return LOST_MESSAGE if now - float(beat.get("t", 0)) > self.settings.worker_lost_after else None
        if now - float(record.get("submitted", now)) > self.settings.job_timeout:
            return queue_message(self.settings.job_timeout)
        return None

    def get_result(self, key, job):
        result = super().get_result(key, job)
        if result is not self.UNDEFINED or not job or str(job).startswith(ANSWERED):
            return result
        from .embedded_manager import note_undelivered

        # Dash looks at the result, then at the task's state: a task that stores its result and
        # ends between the two looks would be taken for a cancelled one, and that last poll
        # bring no update; job_running sees the result that arrived meanwhile (see
        # infoimb.web.embedded_manager).
        note_undelivered(job, key)
        reason = self.lost_reason(job)
        if reason is None:
            return self.UNDEFINED
        record = self._get(JOB_KEY, job) or {}
        log.warning("job %s given up: %s", job, reason)
        self.terminate_job(job)
        self.clear_cache_entry(self._make_progress_key(key))
        spec = self.outputs.get(record.get("output"))
        if spec is None:
            return {"background_callback_error": {"msg": reason, "tb": ""}}
        return _plain_json(spec.report(reason, {}))

    # ---- worker side ------------------------------------------------------------------
    def make_job_fn(self, fn, progress, key=None):
        manager = self

        def job(*args, **kwargs):
            from celery import current_task

            task = getattr(getattr(current_task, "request", None), "id", None)
            with manager.running(task):
                return fn(*args, **kwargs)

        job.__name__ = getattr(fn, "__name__", "job")
        return super().make_job_fn(job, progress, key)

    @contextmanager
    def running(self, job: str | None):
        """Around a job in its worker: skip a job given up meanwhile, use the slot claimed
        when it was queued, beat while it runs, release the slot at the end."""
        record = self._get(JOB_KEY, job) if job else None
        if record is not None and record.get("ended"):
            raise dash.exceptions.PreventUpdate  # cancelled or reported lost while it waited
        store = self.get_store()
        slot = None
        if record is not None and record.get("slot"):
            try:
                slot = store.job_slot(record["sid"], record["slot"])
            except (InvalidSession, ValueError):
                slot = None
            if slot is not None and not store.job_running(slot, job):
                slot = None  # reclaimed meanwhile: the job claims a slot of its own
        token = held_slot.set(slot)
        stop = threading.Event()

        def beat(done: bool = False):
            if job is None:
                return
            try:
                self._put(BEAT_KEY, job, {"t": time.time(), "done": done})
            except Exception as err:  # noqa: BLE001 - a missed beat is not a failure
                log.warning("heartbeat of job %s not written: %s", job, err)
            if slot is not None:
                store.beat(slot)

        def beat_loop():
            while not stop.wait(self.beat_interval):
                beat()

        beat()
        thread = threading.Thread(target=beat_loop, name="infoimb-heartbeat", daemon=True)
        thread.start()
        try:
            yield slot
        finally:
            stop.set()
            thread.join(5)
            beat(done=True)
            if _abandoned_analysis():
                _TAINTED.set()
            held_slot.reset(token)
            if slot is not None:
                store.end_job(slot, job)
