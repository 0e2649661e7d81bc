"""Running an analysis as a job, free of Dash: memo, job slots, progress, time limit, cancel.

An *analysis* is declared once, in :mod:`infoimb.web.analyses` (one module per core module it
serves), as an :class:`Analysis`:

- ``prepare(inputs, ctx) -> settings``: turns the page's control values into a canonical,
  JSON-able settings dict (resolving groups to columns, validating; raises
  :class:`~infoimb.web.context.AnalysisInputError` with a message for the user). Cheap: it
  runs in the web process too, to look results up in the memo while the user changes inputs.
- ``run(df, settings, progress) -> result``: the heavy part, in a background job. ``progress``
  is ``progress(fraction, message)``; call it between steps (it also enforces the time limit).
- ``to_csv(record) -> str`` (optional): the numbers as CSV for the download button.
- ``render(record) -> children``: the result on the page (figures, tables, verdict).

:func:`prepare_job` is the memo preamble (session, dataset, canonical settings, memo key and
the stored record if any), written once and used by :func:`lookup` (what the page shows while
inputs change), :func:`check_job` (what a job queue asks before it queues a job) and
:func:`run_job` (the whole job: a slot of the session and of the server, the run with progress
and time limit, an atomic store of the record). :func:`run_load` runs the Data page's loading
of a table as a job of the same kind: it too holds a slot of the server (INFOIMB_MAX_JOBS). ``run_job`` returns a small JSON status; the
record itself stays on the server and is read back by key. The Dash side is
:mod:`infoimb.web.jobs.card`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ... import __version__
from ..config import Settings
from ..context import AnalysisInputError, clean_groups
from ..store import InvalidSession, NoDataset, SessionStore, TooManyJobs, settings_key

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]

__all__ = [
    "Analysis",
    "JobContext",
    "JobTimeout",
    "PreparedJob",
    "Progress",
    "check_job",
    "get_analysis",
    "held_slot",
    "last_inputs",
    "lookup",
    "prepare_job",
    "record_to_csv",
    "run_job",
    "run_load",
    "saved_settings",
    "sentence",
    "settings_header",
]


class JobTimeout(Exception):
    """The analysis ran longer than INFOIMB_JOB_TIMEOUT."""


@dataclass(frozen=True)
class Analysis:
    """One analysis, declared once (see the module docstring and
    :mod:`infoimb.web.analyses` for how to declare one).

    The page: ``form`` lists its input fields and layout items (:mod:`infoimb.web.fields`);
    ``defaults(meta, groups) -> {name: value}`` the defaults of the data-dependent fields for
    a table (an example's roles); ``finish(values, meta, groups) -> values`` (optional) a last
    adjustment of the synced values; ``hint(meta) -> text`` the line under the inputs (in
    ``hint_id``); ``restore_each``: on mount, each of the last run's inputs comes back on its
    own while valid (else all data-dependent ones or none). ``section``, ``step``,
    ``heading``, ``intro`` and ``page_class`` word and style the page. ``run_label`` names the
    card's Run button; ``empty_text`` is what the results area says before there is a result.
    ``version`` is part of the memo key: raise it when ``run`` changes its results.
    ``cost(settings, meta)`` (optional) declares the run's work for the estimate under Run.
    """

    name: str
    title: str
    prepare: Callable[[dict, JobContext], dict]
    run: Callable[[pd.DataFrame, dict, ProgressFn], dict]
    to_csv: Callable[[dict], str] | None = None
    version: int = 1
    render: Callable[[dict], object] | None = None
    run_label: str = "Run"
    empty_text: str = "Choose the inputs and press Run."
    #: server-side inputs besides the table (e.g. uploaded distance matrices):
    #: ``load(store, sid, settings) -> dict`` passed to ``run`` as keyword arguments
    load: Callable[..., dict] | None = None
    form: tuple = ()
    defaults: Callable[[dict, object], dict] | None = None
    finish: Callable[[dict, dict, object], dict] | None = None
    hint: Callable[[dict], str] | None = None
    hint_id: str | None = None
    restore_each: bool = False
    section: str = ""
    step: str = ""
    heading: str = ""
    intro: str = ""
    page_class: str = ""
    #: what a run costs: ``cost(settings, meta) -> Work or [Work, ...]`` (the exact pair
    #: evaluations of the prepared ``settings``; :mod:`infoimb.web.jobs.costs`), shown under Run
    cost: Callable[[dict, dict], object] | None = None

    @property
    def fields(self) -> tuple:
        """The input fields of ``form``, in order (:class:`infoimb.web.fields.Field`)."""
        from ..fields import form_fields

        return form_fields(self.form)

    def field(self, name: str):
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def check(self, inputs: dict, name: str):
        """The validated value of input ``name`` (its field's limits; AnalysisInputError if
        refused)."""
        return self.field(name).check((inputs or {}).get(name))


def get_analysis(analysis: Analysis | str) -> Analysis:
    """``analysis`` itself, or the declared analysis of that name (:data:`infoimb.web.analyses.ANALYSES`)."""
    if isinstance(analysis, Analysis):
        return analysis
    from ..analyses import ANALYSES

    try:
        return ANALYSES[analysis]
    except (KeyError, TypeError):
        raise AnalysisInputError(f"unknown analysis {analysis!r}") from None


@dataclass
class JobContext:
    """What ``prepare`` may use: the dataset metadata, the user's groups and scaling, limits."""

    sid: str
    meta: dict
    groups: list = field(default_factory=list)
    scaling: str = "none"
    settings: Settings | None = None

    @property
    def n_rows(self) -> int:
        return int(self.meta.get("n_rows", 0))

    @property
    def roles(self) -> dict:
        return self.meta.get("roles") or {}

    @property
    def periodic(self) -> dict:
        return dict(self.roles.get("periodic") or {})

    def check_cells(self, n_columns: int) -> None:
        """Refuse an analysis of more than INFOIMB_MAX_CELLS points x features."""
        if self.settings is None:
            return
        cells = self.n_rows * n_columns
        if cells > self.settings.max_cells:
            raise AnalysisInputError(
                f"{self.n_rows} points × {n_columns} features = {cells:,} values exceeds the limit of "
                f"{self.settings.max_cells:,} (INFOIMB_MAX_CELLS): use fewer features or rows")

    def check_subsets(self, n: int, what: str = "pairs") -> None:
        if self.settings is not None and n > self.settings.max_subsets:
            raise AnalysisInputError(f"{n} {what} exceed the limit of {self.settings.max_subsets} "
                                     "(INFOIMB_MAX_SUBSETS)")


def last_inputs(client: dict | None, analysis: str) -> dict:
    """The page's last settings in this browser (kept in the settings store, local storage),
    so that a page mounted again, or reloaded, shows them: the values the page's controls
    last held (``form``, saved as they change), over the inputs of the analysis's last run
    (``last``, saved by Run)."""
    if not isinstance(client, dict):
        return {}
    last = client.get("last")
    values = last.get(analysis) if isinstance(last, dict) else None
    return {**(values if isinstance(values, dict) else {}), **saved_settings(client, analysis)}


def saved_settings(client: dict | None, analysis: str) -> dict:
    """The values the page's controls last held (the settings store's ``form``, saved as they
    change by ``infoimb.remember`` in assets/infoimb_jobs.js); {} when none were saved."""
    form = client.get("form") if isinstance(client, dict) else None
    entry = form.get(analysis) if isinstance(form, dict) else None
    values = entry.get("values") if isinstance(entry, dict) else None
    return dict(values) if isinstance(values, dict) else {}


def client_groups_scaling(client: dict | None) -> tuple[list, str]:
    client = client if isinstance(client, dict) else {}
    scaling = client.get("scaling") or "none"
    return clean_groups(client.get("groups")), str(scaling)


def make_context(store: SessionStore, sid, client: dict | None, settings: Settings | None) -> JobContext:
    """The context of a session; InvalidSession / NoDataset when there is nothing to run on."""
    meta = store.get_meta(sid)
    if not meta:
        raise NoDataset("no dataset loaded: upload a file or pick an example on the Data page")
    groups, scaling = client_groups_scaling(client)
    return JobContext(sid=sid, meta=meta, groups=groups, scaling=scaling, settings=settings)


def prepared_settings(analysis: Analysis, inputs: dict, ctx: JobContext) -> tuple[dict, str]:
    """Canonical settings and their memo key (analysis version and package version included)."""
    settings = analysis.prepare(dict(inputs), ctx)
    key = settings_key({"settings": settings, "analysis": analysis.name, "version": analysis.version,
                        "infoimb": __version__})
    return settings, key


@dataclass(frozen=True)
class PreparedJob:
    """What the memo preamble found: the analysis, its context, canonical settings, memo key,
    the content hash of the session's table and the stored record (None: not computed yet)."""

    analysis: Analysis
    ctx: JobContext
    settings: dict
    key: str
    content_hash: str
    record: dict | None


def prepare_job(store: SessionStore, analysis: Analysis | str, sid, inputs: dict, client: dict | None,
                settings: Settings | None) -> PreparedJob:
    """The memo preamble of every job: the session's table, canonical settings, memo key and
    the stored record. Raises InvalidSession, NoDataset or AnalysisInputError."""
    analysis = get_analysis(analysis)
    ctx = make_context(store, sid, client, settings)
    params, key = prepared_settings(analysis, inputs, ctx)
    data_hash = ctx.meta["content_hash"]
    record = store.get_result(sid, data_hash, analysis.name, key)
    return PreparedJob(analysis, ctx, params, key, data_hash, record)


def lookup(store: SessionStore, analysis: Analysis | str, sid, inputs: dict, client: dict | None,
           settings: Settings | None = None) -> tuple[dict | None, str | None, str | None]:
    """(record or None, key, message) for the current inputs, without running anything.

    ``message`` explains why there is no key (no session, no data, invalid inputs)."""
    try:
        job = prepare_job(store, analysis, sid, inputs, client, settings)
    except InvalidSession:
        return None, None, "no data loaded yet: upload a file or pick an example on the Data page"
    except (NoDataset, AnalysisInputError) as err:
        return None, None, str(err)
    return job.record, job.key, None


#: an engine's own "about 12 s left" at the end of a step's message (replaced by the job's)
_ENGINE_LEFT = re.compile(r"\s*·\s*about [\d.,]+ s left\s*$")


def time_left_text(seconds: float) -> str:
    """``"about 40 s left"``, ``"about 3 min left"``, ``"about 1.5 h left"`` (at least 1 s)."""
    from ...cost import duration_text

    return f"about {duration_text(max(1.0, seconds))} left"


class Progress:
    """Throttled progress reports that also enforce the time limit.

    The bar's label is ``"<percent>% · about <time> left · <step>"`` (the time first: the bar
    is narrow and a long step runs past it): the time left is the job's, measured from its
    first report of work done (so loading the data and starting a job process do not count):
    time since then x the fraction still to do / the fraction done since then, shown once
    :attr:`LEFT_AFTER_FRACTION` more of the work and :attr:`LEFT_AFTER_SECONDS` have passed;
    an engine's own estimate for its step at the end of the message is replaced by it.
    """

    LEFT_AFTER_FRACTION = 0.01
    LEFT_AFTER_SECONDS = 1.0
    #: at most one report per this many seconds reaches the page (besides the first and the last)
    MIN_INTERVAL = 0.2

    def __init__(self, report: Callable[[dict], object] | None, deadline: float, min_interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.report = report
        self.deadline = deadline
        self.min_interval = self.MIN_INTERVAL if min_interval is None else min_interval
        self.clock = clock
        self.anchor: tuple[float, float] | None = None  # (time, fraction) of the first work done
        self.last = 0.0
        self.stopped = False

    def label(self, fraction: float, message: str, now: float) -> str:
        """The bar's label for ``fraction`` done at time ``now``."""
        pct = round(100 * fraction, 1)
        parts = [f"{pct:.0f}%"]
        if self.anchor is None and fraction > 0:
            self.anchor = (now, fraction)
        if self.anchor is not None and fraction < 1.0:
            t0, f0 = self.anchor
            elapsed, done = now - t0, fraction - f0
            if done >= self.LEFT_AFTER_FRACTION and elapsed >= self.LEFT_AFTER_SECONDS:
                parts.append(time_left_text(elapsed * (1.0 - fraction) / done))
        step = _ENGINE_LEFT.sub("", message or "").strip()
        if step:
            parts.append(step)
        return " · ".join(parts)

    def __call__(self, fraction: float, message: str = "") -> None:
        now = self.clock()
        if self.stopped or time.monotonic() > self.deadline:
            self.stopped = True
            raise JobTimeout()
        fraction = min(1.0, max(0.0, float(fraction)))
        if self.report is not None and (now - self.last >= self.min_interval or fraction >= 1.0 or self.last == 0):
            self.last = now
            self.report({"value": round(100 * fraction, 1), "label": self.label(fraction, message, now)})


#: One analysis at a time in a process: the web's Numba threading layer (workqueue, chosen for
#: fork safety) aborts the whole process when two threads launch parallel kernels at once, and a
#: timed-out analysis's thread can still be finishing its current step when the next one starts.
_ONE_ANALYSIS = threading.Lock()


def _run_limited(fn: Callable[[], dict], timeout: float, progress: Progress) -> dict:
    """Run ``fn`` in a worker thread; give up after ``timeout`` seconds (the worker is told to
    stop at its next progress report; in a job process it dies with the process). Analyses in
    one process run one after the other (:data:`_ONE_ANALYSIS`)."""
    box: dict = {}

    def target():
        try:
            with _ONE_ANALYSIS:
                if progress.stopped:  # timed out while waiting for the previous analysis
                    return
                box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            box["error"] = err

    worker = threading.Thread(target=target, name="infoimb-analysis", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        progress.stopped = True
        raise JobTimeout()
    if "error" in box:
        raise box["error"]
    return box["value"]


#: The job slot that the web process claimed for this job when it queued it (Celery: see
#: :mod:`infoimb.web.celery_manager`); None when the job claims its own slot (the default).
held_slot: ContextVar[Path | None] = ContextVar("infoimb_held_slot", default=None)


def _ok(job: PreparedJob, cached: bool, elapsed: float) -> dict:
    return {"analysis": job.analysis.name, "status": "ok", "key": job.key, "content_hash": job.content_hash,
            "cached": cached, "elapsed": round(elapsed, 3)}


def check_job(store: SessionStore, analysis: Analysis | str, sid, inputs: dict, client: dict | None,
              settings: Settings) -> dict | None:
    """What :func:`run_job` would answer without running anything, or None when the analysis
    has to run: the refusal (no session or data, invalid inputs, over a limit) or the memo hit.

    Cheap; the web process calls it before it queues a job for a Celery worker, so an analysis
    over the limits is refused before it waits for a worker.
    """
    try:
        job = prepare_job(store, analysis, sid, inputs, client, settings)
    except Exception as err:  # noqa: BLE001 - turned into the user's message
        return _failed({"analysis": getattr(analysis, "name", analysis)}, err, settings)
    return None if job.record is None else _ok(job, True, 0.0)


def run_job(store: SessionStore, analysis: Analysis | str, sid, inputs: dict, client: dict | None,
            settings: Settings, report: Callable[[dict], object] | None = None,
            server_slot: Callable | None = None) -> dict:
    """Run one analysis for one session; never raises.

    ``server_slot(report)``, when given, is a context manager that holds one of the server's
    job slots while the analysis runs (it reports the queue position through ``report`` while
    it waits; see :mod:`infoimb.web.jobs.queue`).

    Returns ``{"status": "ok", "analysis", "key", "content_hash", "cached", "elapsed"}`` or
    ``{"status": "error", "analysis", "message"}``.
    """
    t0 = time.monotonic()
    base = {"analysis": getattr(analysis, "name", analysis)}
    try:
        job = prepare_job(store, analysis, sid, inputs, client, settings)
        if job.record is not None:
            return _ok(job, True, time.monotonic() - t0)
        held = held_slot.get()
        slot = held or store.start_job(sid, max_jobs=settings.max_jobs_per_session,
                                       job_timeout=settings.job_timeout)
        try:
            if server_slot is not None:
                with server_slot(report):
                    elapsed = _run_and_store(store, job, sid, settings, report, t0)
            else:
                elapsed = _run_and_store(store, job, sid, settings, report, t0)
        finally:
            if held is None:  # a held slot is released by the one who claimed it
                store.end_job(slot)
        return _ok(job, False, elapsed)
    except Exception as err:  # noqa: BLE001 - a job must end with a message, not a traceback
        return _failed(base, err, settings)


def run_load(store: SessionStore, settings: Settings, request, payload, sid, client, *,
             report: Callable[[dict], object] | None = None, server_slot: Callable | None = None) -> dict | None:
    """Load a table (an upload or a built-in example) for one session, as a job; never raises.

    The load holds one of the server's job slots, like an analysis: ``server_slot(report)``
    (:func:`infoimb.web.jobs.queue.server_slot`) waits while ``INFOIMB_MAX_JOBS`` jobs run,
    reporting the queue position through ``report``. Returns what
    :func:`infoimb.web.data_logic.load_request` returns: ``{"dataset", "message", "client"}``
    (None for "unchanged"), or None when ``request`` is not a load request.
    """
    from ..data_logic import load_request, message

    if not isinstance(request, dict) or request.get("kind") not in ("example", "upload"):
        return None
    try:
        if server_slot is None:
            return load_request(store, settings, request, payload, sid, client, report=report)
        with server_slot(report):
            return load_request(store, settings, request, payload, sid, client, report=report)
    except Exception as err:  # noqa: BLE001 - a job must end with a message, not a traceback
        log.error("loading a table failed:\n%s", "".join(traceback.format_exception(type(err), err, err.__traceback__)))
        return {"dataset": None, "client": None,
                "message": message("danger", f"Loading failed unexpectedly ({type(err).__name__}: {err}).")}


def _run_and_store(store: SessionStore, job: PreparedJob, sid, settings: Settings,
                   report: Callable[[dict], object] | None, t0: float) -> float:
    """The analysis itself, with progress and time limit; the record stored atomically."""
    analysis, ctx = job.analysis, job.ctx
    progress = Progress(report, time.monotonic() + settings.job_timeout)
    progress(0.0, "loading the data")
    df = store.get_dataset(sid, meta=ctx.meta)
    extra = analysis.load(store, sid, job.settings) if analysis.load is not None else {}
    caught: list = []

    def work():
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = analysis.run(df, job.settings, progress, **extra)
        caught.extend(str(x.message) for x in w if not issubclass(x.category, DeprecationWarning))
        return out

    result = _run_limited(work, settings.job_timeout, progress)
    elapsed = time.monotonic() - t0
    record = {
        "analysis": analysis.name,
        "title": analysis.title,
        "version": analysis.version,
        "infoimb_version": __version__,
        "key": job.key,
        "settings": job.settings,
        "dataset": {k: ctx.meta.get(k) for k in ("filename", "content_hash", "n_rows", "n_cols", "source")},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 3),
        "warnings": list(dict.fromkeys(caught)),
        "result": result,
    }
    store.put_result(sid, job.content_hash, analysis.name, job.key, record)
    if report is not None:
        report({"value": 100.0, "label": "100% · done"})
    return elapsed


def _failed(base: dict, err: Exception, settings: Settings) -> dict:
    """The error status of a job that raised ``err``: a message for the user."""
    if isinstance(err, JobTimeout):
        message = (f"Stopped: the analysis ran longer than the limit of {settings.job_timeout:g} s "
                   "(INFOIMB_JOB_TIMEOUT). Use fewer points (subsampled queries) or fewer features.")
    elif isinstance(err, InvalidSession):
        message = "No data for this browser session (it may have expired): load the data on the Data page."
    elif isinstance(err, (AnalysisInputError, NoDataset, TooManyJobs, ValueError, TypeError)):
        message = sentence(str(err))  # ours, and the engine's own validation messages
    elif isinstance(err, MemoryError):
        message = "Out of memory: use fewer points or features."
    else:
        log.error("analysis %s failed:\n%s", base.get("analysis"),
                  "".join(traceback.format_exception(type(err), err, err.__traceback__)))
        message = f"The analysis failed unexpectedly ({type(err).__name__}: {err})."
    return {**base, "status": "error", "message": message}


def sentence(text: str) -> str:
    """``text`` as a sentence: capitalised, with a full stop."""
    text = text.strip()
    if not text:
        return "Error."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def record_to_csv(record: dict) -> str:
    """Fallback CSV: the settings as ``# key: value`` lines, then the flat result fields."""
    lines = settings_header(record)
    flat = {k: v for k, v in (record.get("result") or {}).items() if not isinstance(v, (list, dict))}
    lines.append(",".join(flat))
    lines.append(",".join(str(v) for v in flat.values()))
    return "\n".join(lines) + "\n"


def settings_header(record: dict) -> list[str]:
    """``# key: value`` comment lines describing how a record was produced."""
    from ..store import dumps

    ds = record.get("dataset") or {}
    lines = [f"# infoimb {record.get('infoimb_version', '')} · {record.get('title', record.get('analysis'))}",
             f"# dataset: {ds.get('filename')} ({ds.get('n_rows')} rows, content {ds.get('content_hash')})",
             f"# created: {record.get('created')}"]
    for k, v in (record.get("settings") or {}).items():
        lines.append(f"# {k}: {dumps(v) if isinstance(v, (dict, list)) else v}")
    return lines

