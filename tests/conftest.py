"""Shared test set-up: the dashboard under test, headless Chromium for dash_duo, clean-up.

- Numba must use a fork-safe threading layer in this process: the dashboard's background jobs
  are forked from it while the browser tests run (GNU OpenMP aborts a forked child).
- The dashboard's settings (cache directory, limits) come from the environment, which is set
  here *before* ``app`` is imported (it is imported lazily by the ``dash_app`` fixture).
- Browser tests are marked ``browser``; they skip without Chromium locally and FAIL under
  ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("NUMBA_THREADING_LAYER", "forksafe")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic",
)

# One cache directory for the whole test session, set before the dashboard is imported.
_CACHE = Path(tempfile.mkdtemp(prefix="infoimb-test-cache-"))
os.environ["INFOIMB_CACHE_DIR"] = str(_CACHE)
os.environ["DASH_CACHE_DIR"] = str(_CACHE / "dash")
os.environ["INFOIMB_MAX_UPLOAD_MB"] = "1"  # small, so a too-large upload is cheap to test
os.environ.setdefault("INFOIMB_JOB_TIMEOUT", "120")
os.environ.setdefault("INFOIMB_NEW_SESSIONS_PER_MINUTE", "1000")  # the browser tests start many sessions
# The browser tests save screenshots in <INFOIMB_CACHE_DIR>/screenshots (removed after the run),
# or in INFOIMB_SCREENSHOT_DIR (``make screenshots`` sets it to docs/screenshots).


def pytest_setup_options():
    """Chrome options for dash_duo: Debian's Chromium, headless."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for arg in BROWSER_ARGS:
        options.add_argument(arg)
    return options


def chrome_options():
    return pytest_setup_options()


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) and os.access(path, os.X_OK)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is not None:
        missing = _browser_missing()
        if missing:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"browser test under CI: {missing}")
            pytest.skip(missing)


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return _CACHE


@pytest.fixture(scope="session")
def dash_app(cache_dir):
    """The dashboard (``app.app``), created once per test process with the test settings."""
    import app as app_module

    assert app_module.runtime.get_settings().cache_dir == cache_dir
    return app_module.app


@pytest.fixture
def settings(tmp_path):
    """Web settings with a fresh cache folder for one test (1 MB uploads, 60 s jobs); a test
    module may define its own ``settings`` (e.g. module-scoped), which takes precedence."""
    from infoimb.web.config import Settings

    s = Settings(cache_dir=tmp_path / "cache", max_upload_mb=1, job_timeout=60)
    s.ensure_dirs()
    return s


@pytest.fixture
def store(settings):
    """The session store of ``settings``' cache."""
    from infoimb.web.store import SessionStore

    return SessionStore(settings.sessions_dir)


@pytest.fixture
def kill_jobs():
    """After the test, kill background-job processes it left (forked children of pytest with
    pytest's own command line; chromedriver and browsers are left to their owners)."""
    yield
    import psutil

    me = psutil.Process()
    cmd = me.cmdline()
    for child in me.children(recursive=False):
        try:
            if child.cmdline() == cmd:
                for grandchild in child.children(recursive=True):
                    grandchild.kill()
                child.kill()
                child.wait(5)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired, psutil.AccessDenied):
            pass


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE, ignore_errors=True)
