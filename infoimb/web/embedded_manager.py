"""The embedded job manager: Dash's DiskcacheManager (a forked process per job, results in one
shared diskcache directory), with the session handed to the job and two of its gaps closed.

- **The session.** A job process has no request; :meth:`EmbeddedJobManager.call_job_fn` adds
  the session of the request's cookie to the job's arguments (:mod:`infoimb.web.sessions`).
- **The end-of-job race.** Dash polls a job by reading its result, then asking whether its
  process still runs; a job that wrote its result and ended *between* the two looks was taken
  for a cancelled one, and that poll -- the last -- brought no update (one data load in a few
  dozen under ten concurrent sessions, in both modes). :func:`note_undelivered` and
  :func:`result_waiting` close it: a job found ended whose result arrived after this poll's
  look counts as running once more, so the next poll delivers the result. (Dash 4.4.1 also
  raised NoSuchProcess when the process ended between its "exists" check and its kill,
  answering that poll with a 500: ignored here.)
- **A job killed hard** (SIGKILL, the kernel's out-of-memory killer) leaves no result; Dash
  answered "no update" and the page waited forever. A job that is gone without a result, and
  was not stopped by Dash itself (cancel, or the end of a job), is reported on the page with
  :data:`LOST_MESSAGE`, through the :class:`~infoimb.web.jobs.card.JobOutput` of its callback,
  as the Celery mode does.
"""

from __future__ import annotations

import logging

import dash
import flask

from .celery_manager import _output_names, _plain_json
from .sessions import add_session_arg

__all__ = ["EmbeddedJobManager", "LOST_MESSAGE", "note_undelivered", "result_waiting"]

log = logging.getLogger(__name__)

LOST_MESSAGE = ("The process running this job stopped before it finished (it was killed, or ran out of "
                "memory); run it again, with fewer points or features if it was large.")

_JOB = "infoimb-job-{}"  # output name of a running job, by pid
_STOPPED = "infoimb-stopped-{}"  # the job was stopped by Dash (cancel, or read to its end)


def note_undelivered(job, key) -> None:
    """Remember, for this poll, that job ``job`` had no result under ``key`` when Dash looked."""
    if job and flask.has_request_context():
        flask.g.infoimb_undelivered = (str(job), key)


def result_waiting(manager, job) -> bool:
    """True when this poll found no result of ``job`` but one is there now: the job ended
    between Dash's look at its result and its look at the job (the next poll delivers it)."""
    if not (job and flask.has_request_context()):
        return False
    seen = flask.g.get("infoimb_undelivered")
    return bool(seen and seen[0] == str(job) and manager.result_ready(seen[1]))


class EmbeddedJobManager(dash.DiskcacheManager):
    """See the module docstring. ``outputs``: the app's JobOutputs."""

    def __init__(self, cache=None, cache_by=None, expire=None, outputs=None):
        super().__init__(cache, cache_by=cache_by, expire=expire)
        from .jobs.card import JobOutputs

        self.outputs = outputs if outputs is not None else JobOutputs()
        self.record_ttl = (expire or 3600) + 3600

    def call_job_fn(self, key, job_fn, args, context):
        job = super().call_job_fn(key, job_fn, add_session_arg(args), context)
        names = [n for n in _output_names(context) if n in self.outputs]
        if job is not None:
            self.handle.set(_JOB.format(job), names[0] if names else "", expire=self.record_ttl)
        return job

    def terminate_job(self, job):
        import psutil

        if job is not None:
            self.handle.set(_STOPPED.format(job), True, expire=self.record_ttl)
        try:
            super().terminate_job(job)
        except psutil.NoSuchProcess:
            pass  # it has ended by itself

    def job_running(self, job):
        try:
            running = super().job_running(job)
        except Exception:  # noqa: BLE001 - psutil: the process is gone
            running = False
        return running or result_waiting(self, job)

    def get_result(self, key, job):
        result = super().get_result(key, job)
        if result is not self.UNDEFINED or not job:
            return result
        if self.job_running(job):
            note_undelivered(job, key)
            return self.UNDEFINED
        # gone: it may have written its result just after the first look
        result = super().get_result(key, job)
        if result is not self.UNDEFINED:
            return result
        if self.handle.get(_STOPPED.format(job)):
            note_undelivered(job, key)
            return self.UNDEFINED  # cancelled: Dash sends no update, the card says "Cancelled"
        output = self.handle.get(_JOB.format(job))
        spec = self.outputs.get(output) if output else None
        log.warning("job %s (%s) ended without a result: killed?", job, output or "unknown output")
        self.handle.set(_STOPPED.format(job), True, expire=self.record_ttl)  # report it once
        if spec is None:
            return {"background_callback_error": {"msg": LOST_MESSAGE, "tb": ""}}
        return _plain_json(spec.report(LOST_MESSAGE, {}))
