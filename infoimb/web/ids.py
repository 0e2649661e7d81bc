"""Component ids, in one place. Repeated components use pattern-matching (dict) ids.

App-level components (in ``app.py``'s layout, present on every page):

- the session is not a component: it is an HttpOnly cookie (:mod:`infoimb.web.sessions`).
- ``SETTINGS_STORE`` local storage ``{"groups": [{"name", "columns"}], "scaling": ...}``:
  small JSON only, never data. Survives page changes and browser reloads.
- ``PAGE_LOAD``      memory ``<uuid4 hex>`` new on every page load: passed as State to every
  background callback so two browsers clicking with identical inputs never share a job.
- ``DATASET_STORE``  memory ``{"content_hash", "filename", "n_rows", "n_cols"}`` of the
  session's current table; pages listen to it to refresh their column lists.
- per registered analysis: ``job_result(name)``, ``job_running(name)``, ``job_progress(name)``
  (see :mod:`infoimb.web.jobs`).
"""

from __future__ import annotations

# ---- app level ---------------------------------------------------------------------
SETTINGS_STORE = "settings-store"
PAGE_LOAD = "page-load-id"
DATASET_STORE = "dataset-store"
DATA_MESSAGE = "data-message-store"
URL = "url"
NAVBAR = "navbar"
NAV_LINK = "nav"  # the navigation bar's link to a page: nav_link(<page module name>)
NAV_DATASET = "nav-dataset"

# ---- analysis machinery (pattern-matching; "analysis" is the registered name) --------
JOB_RESULT = "job-result"  # app-level store: {"status", "key", "message", ...}
JOB_RUNNING = "job-running"  # app-level store: bool
JOB_PROGRESS = "job-progress"  # app-level store: {"value", "label"}
JOB_REQUEST = "job-request"  # app-level store: {"t", "n", "values"} set by a Run click
JOB_CANCEL = "job-cancel-request"  # app-level store: {"t", "n"} set by a Cancel click
RUN = "job-run"
CANCEL = "job-cancel"
PROGRESS_WRAP = "job-progress-wrap"
PROGRESS_BAR = "job-progress-bar"
STATUS = "job-status"
RESULTS = "job-results"
SHOWN = "job-shown"  # page-level store: the key of the result on display
CARD_INPUTS = "job-card-inputs"  # page-level store: {"name", "keys"} of the card's controls
DOWNLOAD_CSV = "job-download-csv"
DOWNLOAD_JSON = "job-download-json"
DOWNLOAD = "job-download"
FIG_DOWNLOAD = "fig-download"  # {"type", "fig", "fmt"}: PNG / SVG buttons under a figure
GRAPH = "graph"  # {"type", "fig"}
COST = "job-cost"  # the estimate of a run under Run
COST_USE = "job-cost-use"  # the one-click "use the subsampled estimator" button
COST_PROPOSAL = "job-cost-proposal"  # page-level store: the values that button sets
RUNNING_NOTE = "job-running-note"  # above the results while a job runs


#: app-level parts of an analysis get plain string ids: Dash's cancel machinery matches its
#: cancel inputs by id, which does not work with dict ids
APP_LEVEL = (JOB_RESULT, JOB_RUNNING, JOB_PROGRESS, JOB_REQUEST, JOB_CANCEL)


def job(kind: str, analysis: str) -> dict | str:
    """The id of one part of an analysis card, e.g. ``job(RUN, "compare")``: a dict
    (pattern-matching) id for the parts on the page, a string for the app-level stores."""
    if kind in APP_LEVEL:
        return f"{kind}-{analysis}"
    return {"type": kind, "analysis": analysis}


def nav_link(page: str) -> str:
    """The id of the navigation bar's link to a page, e.g. ``nav_link("compare")``."""
    return f"{NAV_LINK}-{page}"


def graph(name: str) -> dict:
    return {"type": GRAPH, "fig": name}


def fig_download(name: str, fmt: str) -> dict:
    return {"type": FIG_DOWNLOAD, "fig": name, "fmt": fmt}


# ---- data page -----------------------------------------------------------------------
UPLOAD = "upload"
UPLOAD_LIMIT = "upload-limit"
DATA_LOAD = "data-load"  # the job name of loading a table (its progress bar: job(PROGRESS_BAR, DATA_LOAD))
UPLOAD_BUSY = "upload-busy"  # app-level store: bool while a file is parsed
DATA_REQUEST = "data-request"  # app-level store: {"t", "kind": "upload"|"example", ...}
DATA_PAYLOAD = "data-payload"  # app-level store: the uploaded file (data URL) until parsed
UPLOAD_ERROR = "upload-client-error"  # set by assets/upload_guard.js when the browser refuses
EXAMPLE_SELECT = "example-select"
EXAMPLE_LOAD = "example-load"
EXAMPLE_N = "example-n"
EXAMPLE_DESCRIPTION = "example-description"
DATA_ALERT = "data-alert"
DATA_SUMMARY = "data-summary"
DATA_PREVIEW = "data-preview"
DATA_COLUMNS = "data-columns"
DATA_TAB_PREVIEW = "preview"  # tab ids of the table card
DATA_TAB_COLUMNS = "columns"
DATA_PROBLEMS = "data-problems"
COERCE_BUTTON = "coerce-button"
ROLE_FEATURES = "role-features"
ROLE_TIME = "role-time"
ROLE_ENTITY = "role-entity"
ROLE_PERIODIC = "role-periodic"
ROLE_PERIOD = "role-period"  # {"type", "column"}
ROLE_PERIODS = "role-periods"  # container of the period inputs
ROLE_SCALING = "role-scaling"
ROLE_SAVE = "role-save"
ROLE_MESSAGE = "role-message"
PRE_RESAMPLE_PERIOD = "pre-resample-period"
PRE_RESAMPLE_HOW = "pre-resample-how"
PRE_RESAMPLE = "pre-resample"
PRE_DIFF_COLUMNS = "pre-diff-columns"
PRE_DIFF = "pre-diff"
PRE_RATIO_NUM = "pre-ratio-num"
PRE_RATIO_DEN = "pre-ratio-den"
PRE_RATIO_NAME = "pre-ratio-name"
PRE_RATIO = "pre-ratio"
PRE_DROP = "pre-drop"
PRE_RESET = "pre-reset"
PRE_MESSAGE = "pre-message"
GROUP_ADD = "group-add"
GROUP_LIST = "group-list"
GROUP_NAME = "group-name"  # {"type", "index"}
GROUP_COLUMNS = "group-columns"  # {"type", "index"}
GROUP_REMOVE = "group-remove"  # {"type", "index"}
GROUP_MESSAGE = "group-message"
GROUP_DRAFT = "group-draft"  # page-level store: {"groups": [...]} as edited
GROUP_REFRESH = "group-refresh"  # page-level store: re-render the editor when the table changes

# ---- compare page --------------------------------------------------------------------
CMP_A = "cmp-a"
CMP_B = "cmp-b"
CMP_K = "cmp-k"
CMP_METRIC = "cmp-metric"
CMP_METRIC_B = "cmp-metric-b"
CMP_ESTIMATOR = "cmp-estimator"
CMP_NQ = "cmp-n-queries"
CMP_EXTRA = "cmp-extra"
CMP_HINT = "cmp-hint"

# ---- select page ---------------------------------------------------------------------
SEL_CANDIDATES = "sel-candidates"
SEL_TARGET = "sel-target"
SEL_LAG = "sel-lag"
SEL_METHOD = "sel-method"
SEL_NBEST = "sel-n-best"
SEL_MAX = "sel-max-features"
SEL_K = "sel-k"
SEL_ESTIMATOR = "sel-estimator"
SEL_NQ = "sel-n-queries"
SEL_CRITERION = "sel-criterion"
SEL_RANDOM = "sel-n-random"
SEL_DUMMY = "sel-dummy"
SEL_HINT = "sel-hint"

# ---- time lags page --------------------------------------------------------------------
LAG_SOURCE = "lag-source"
LAG_TARGET = "lag-target"
LAG_MIN = "lag-min"
LAG_MAX = "lag-max"
LAG_TIME = "lag-time"
LAG_ENTITY = "lag-entity"
LAG_K = "lag-k"
LAG_ESTIMATOR = "lag-estimator"
LAG_NQ = "lag-n-queries"
LAG_SELECT = "lag-select"
LAG_CANDIDATES = "lag-candidates"
LAG_SEL_LAG = "lag-sel-lag"
LAG_SEL_MAX = "lag-sel-max"
LAG_HINT = "lag-hint"

# ---- causality page --------------------------------------------------------------------
CAU_CAUSE = "cau-cause"
CAU_EFFECT = "cau-effect"
CAU_COND = "cau-conditioning"
CAU_TAU = "cau-tau"
CAU_K = "cau-k"
CAU_NALPHA = "cau-n-alpha"
CAU_DIM = "cau-embed-dim"
CAU_DELAY = "cau-embed-delay"
CAU_TIME = "cau-time"
CAU_ENTITY = "cau-entity"
CAU_ENTITY_VALUE = "cau-entity-value"
CAU_ESTIMATOR = "cau-estimator"
CAU_NQ = "cau-n-queries"
CAU_HINT = "cau-hint"

# ---- causal graph page ----------------------------------------------------------------
GRA_VARIABLES = "gra-variables"
GRA_TAUS = "gra-taus"
GRA_K = "gra-k"
GRA_NALPHA = "gra-n-alpha"
GRA_SURROGATES = "gra-n-surrogates"
GRA_ALPHA = "gra-alpha"
GRA_DIM = "gra-embed-dim"
GRA_DELAY = "gra-embed-delay"
GRA_TIME = "gra-time"
GRA_ENTITY = "gra-entity"
GRA_ESTIMATOR = "gra-estimator"
GRA_NQ = "gra-n-queries"
GRA_HINT = "gra-hint"

# ---- scales page -----------------------------------------------------------------------
SCL_A = "scl-a"
SCL_B = "scl-b"
SCL_METHOD = "scl-method"
SCL_K = "scl-k"
SCL_ITER = "scl-n-iter"
SCL_L1 = "scl-l1"
SCL_ESTIMATOR = "scl-estimator"
SCL_NQ = "scl-n-queries"
SCL_HINT = "scl-hint"

# ---- what the pages show (results, messages): the browser tests find them by these ids --------
CAU_ENTITY_VALUE_WRAP = "cau-entity-value-wrap"
CAU_IG_XY = "cau-ig-xy"
CAU_IG_YX = "cau-ig-yx"
CAU_TABLE = "cau-table"
CAU_VERDICT = "cau-verdict"
CAU_VERDICT_TEXT = "cau-verdict-text"
GRA_EDGES = "gra-edges"
GRA_N_EDGES = "gra-n-edges"
GRA_TESTED = "gra-tested"
GRA_VERDICT = "gra-verdict"
CMP_DELTA_AB = "cmp-delta-ab"
CMP_DELTA_BA = "cmp-delta-ba"
CMP_PAIRS_TABLE = "cmp-pairs-table"
CMP_RELATION = "cmp-relation"
CMP_RELATION_TEXT = "cmp-relation-text"
DATA_COLUMNS_TABLE = "data-columns-table"
DATA_MESSAGE_ALERT = "data-message"
DATA_N_COLS = "data-n-cols"
DATA_N_ROWS = "data-n-rows"
DATA_PREVIEW_TABLE = "data-preview-table"
LAG_ARROW = "lag-arrow"
LAG_BEST = "lag-best"
LAG_SEL_TABLE = "lag-sel-table"
LAG_SELECTED = "lag-selected"
LAG_VERDICT = "lag-verdict"
PRE_ALERT = "pre-alert"
ROLE_ALERT = "role-alert"
SCL_AFTER = "scl-after"
SCL_BEFORE = "scl-before"
SCL_TABLE = "scl-table"
SCL_TEXT = "scl-text"
SEL_SELECTED = "sel-selected"
SEL_SUGGESTED = "sel-suggested"
SEL_TABLE = "sel-table"
SEL_VALUE = "sel-value"

# ---- significance (issue 10) ---------------------------------------------------------
CMP_PERM = "cmp-permutations"
CMP_P_AB = "cmp-p-ab"
CMP_P_BA = "cmp-p-ba"
CMP_SIGNIFICANCE = "cmp-significance"
CMP_SIGNIFICANCE_TEXT = "cmp-significance-text"
CMP_ENTITY_NOTE = "cmp-entity-note"
LAG_PERM = "lag-permutations"
LAG_SPLITS = "lag-splits"
LAG_TABLE = "lag-table"
LAG_ARROW_P = "lag-arrow-p"
LAG_BEST_CI = "lag-best-ci"
LAG_STABILITY = "lag-stability"
SEL_SPLITS = "sel-splits"
SEL_RULE = "sel-rule"
SEL_STABILITY = "sel-stability"
CAU_SURROGATES = "cau-surrogates"
CAU_P_XY = "cau-p-xy"
CAU_P_YX = "cau-p-yx"

# ---- distance matrices (Data page) and the Matrix page ----------------------------------
MATRIX_UPLOAD = "matrix-upload"
MATRIX_TIE = "matrix-tie"  # "by row order" or the table's id column
MATRIX_ASYM = "matrix-asymmetric"
MATRIX_MESSAGE = "matrix-message"
MATRIX_LIST = "matrix-list"
MATRIX_CLEAR = "matrix-clear"
MATRIX_SPACES = "matrix-spaces"
MATRIX_K = "matrix-k"
MATRIX_METRIC = "matrix-metric"
MATRIX_ESTIMATOR = "matrix-estimator"
MATRIX_NQ = "matrix-n-queries"
MATRIX_HINT = "matrix-hint"
MATRIX_PAIRS_TABLE = "matrix-pairs-table"
SEL_BASELINES = "sel-baselines"  # FPS / CUR (scikit-matter) beside the selection curve
# categorical columns and a metric per space (issue 9 §2)
ROLE_CATEGORICAL = "role-categorical"
SEL_METRIC = "sel-metric"
SEL_METRIC_B = "sel-metric-target"
LAG_METRIC = "lag-metric"
LAG_METRIC_B = "lag-metric-target"

# ---- Data page: proposed / remembered roles, groups per dataset, Data Hub steps (issue 9) ----
ROLE_PROPOSAL = "role-proposal"  # the proposed time / entity roles and their reasons
ROLE_PROPOSAL_DISMISS = "role-proposal-dismiss"
GROUP_CLEAR = "group-clear"  # removes the current table's groups
GROUP_OTHERS = "group-others"  # "n groups of other tables are kept"
PRE_DATAHUB = "pre-datahub"  # one-click Covid-19 Data Hub weekly pipeline
PRE_TRANSFORM_COLUMNS = "pre-transform-columns"
PRE_ABS = "pre-abs"
PRE_GROWTH = "pre-growth"

# ---- the scaling in force on every page (infoimb.web.scaling; ids.job(kind, page)) -------
SCALING_LINE = "scaling-line"
SCALING_ALERT = "scaling-alert"
SCALING_WARNING = "scaling-warning"
SCALING_FIX = "scaling-fix"

# ---- "Reproduce" under every result (infoimb.web.reproduce) -----------------------------
REPRO_BLOCK = "repro-block"  # job(REPRO_BLOCK, analysis): the block under a result
REPRO_TABLE = "repro-table"  # job(REPRO_TABLE, analysis): "Download the working table (CSV)"
REPRO_DOWNLOAD = "repro-download"  # job(REPRO_DOWNLOAD, analysis): its dcc.Download


def repro_code(kind: str, analysis: str) -> str:
    """The id of the Python ("python") or CLI ("cli") text of an analysis's Reproduce block
    (a string: dcc.Clipboard's target_id)."""
    return f"repro-{kind}-{analysis}"


def repro_copy(kind: str, analysis: str) -> str:
    """The id of the copy button of that text."""
    return f"repro-copy-{kind}-{analysis}"


# ---- what things mean (issue 9 §5): pattern-matching, per analysis: job(HOW_TO_READ, name) -------
HOW_TO_READ = "how-to-read"  # the collapsible "How to read this" block above the results
TERMS = "terms"  # the list "What the numbers mean" under the results
