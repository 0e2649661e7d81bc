"""Long runs and stale state in headless Chromium (dash_duo; issue 9, §3 and §4).

- Compare on a table whose exact run crosses the threshold: the cost line under Run, the
  one-click subsampled estimator (the page's fields change, the estimate follows), and the
  progress bar's "about … left" during the run;
- the results of a previous table cleared after another example is loaded;
- the page's settings after a browser reload;
- the Time lags page running on its defaults.

Run under the browser lock (see HELPER_COMMON / the Makefile). Every test ends with an empty
browser console.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from test_browser_analyses import goto, pm, set_number, start  # the shared browser helpers

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

SHOTS = Path(os.environ.get("INFOIMB_SCREENSHOT_DIR") or Path(os.environ["INFOIMB_CACHE_DIR"]) / "screenshots")
TIMEOUT = 60
RUN_TIMEOUT = 240  # a subsampled Compare of ~10 s on a busy shared machine


def shot(duo, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    duo.driver.save_screenshot(str(path))
    return path


def load_example(duo, name: str, n: int | None = None) -> None:
    duo.driver.execute_script(
        "const s = document.getElementById('example-select'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change', {bubbles: true}));", name)
    time.sleep(0.3)
    box = duo.find_element("#example-n")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    if n is not None:
        box.send_keys(str(n))
    box.send_keys(Keys.TAB)
    duo.find_element("#example-load").click()
    duo.wait_for_contains_text("#nav-dataset", f"example: {name}", timeout=TIMEOUT)


def click(duo, selector: str) -> None:
    el = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()


def checked_radio(duo, selector: str) -> str:
    return duo.driver.execute_script(
        "const c = document.querySelector(arguments[0] + ' input:checked'); return c ? c.value : null;", selector)


def wait_until(fn, timeout: float, what: str, every: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


# --------------------------------------------------------------------------------------
def test_cost_line_one_click_subsampling_and_time_left(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "descriptors", 12000)
    goto(dash_duo, "compare")
    cost = pm("job-cost")
    # the defaults (every descriptor against the full space, exact, 199 permutations) cross
    # the threshold on any machine: the estimate says what, and the switch is offered
    dash_duo.wait_for_contains_text(cost, "exact (N = 12,000, 240 + 241 features, 199 permutations)", timeout=TIMEOUT)
    text = dash_duo.find_element(cost).text
    assert text.startswith("About ") and "Over 30 s: the subsampled estimator gives an unbiased Δ" in text
    button = dash_duo.find_element(pm("job-cost-use"))
    assert button.is_displayed() and button.text.startswith("Use 1,000 random queries (about ")
    assert checked_radio(dash_duo, "#cmp-estimator") == "exact"
    shot(dash_duo, "runs-compare-cost")
    click(dash_duo, pm("job-cost-use"))
    # one click: the page's estimator fields hold the proposal and the estimate follows it
    wait_until(lambda: checked_radio(dash_duo, "#cmp-estimator") == "subsampled", TIMEOUT, "the subsampled estimator")
    assert dash_duo.find_element("#cmp-n-queries").get_attribute("value") == "1000"
    dash_duo.wait_for_contains_text(cost, "with 1,000 random queries (N = 12,000, 240 + 241 features).",
                                    timeout=TIMEOUT)
    wait_until(lambda: not dash_duo.find_element(pm("job-cost-use")).is_displayed(), TIMEOUT, "the button hidden")
    shot(dash_duo, "runs-compare-subsampled")
    # the run: the bar moves and says the time left
    click(dash_duo, pm("job-run"))
    bar = pm("job-progress-bar")
    labels = set()

    def left():
        try:
            label = dash_duo.find_element(bar).text
        except Exception:  # noqa: BLE001 - re-rendered under our feet
            return None
        labels.add(label)
        return label if " left · " in label else None

    seen = wait_until(left, RUN_TIMEOUT, "a progress label with the time left")
    assert "% · about " in seen, seen
    note = dash_duo.find_element(pm("job-running-note"))  # the results area says it is running
    assert note.is_displayed() and note.text.startswith("Running: the bar under Compare shows how far it is")
    shot(dash_duo, "runs-compare-progress")
    dash_duo.wait_for_element("#cmp-relation", timeout=RUN_TIMEOUT)
    status = dash_duo.find_element(pm("job-status")).text
    assert status.startswith("Done in "), status
    wait_until(lambda: not dash_duo.find_element(pm("job-running-note")).is_displayed(), TIMEOUT, "the note hidden")
    assert dash_duo.get_logs() == []


def test_previous_results_cleared_and_settings_after_reload(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", 400)
    goto(dash_duo, "compare")
    dash_duo.wait_for_element(pm("job-run") + ":not([disabled])", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(pm("job-cost"), "(N = 400, ", timeout=TIMEOUT)
    click(dash_duo, pm("job-run"))
    dash_duo.wait_for_element("#cmp-relation", timeout=RUN_TIMEOUT)
    # another table: the figures of gauss3d are gone, and the page says why
    goto(dash_duo, "data")
    load_example(dash_duo, "sinusoid", 300)
    goto(dash_duo, "compare")
    dash_duo.wait_for_contains_text(
        pm("job-results"), "A new table is loaded: the last result, for the previous table (example: gauss3d), "
                           "is no longer shown.", timeout=TIMEOUT)
    assert not dash_duo.driver.find_elements("css selector", "#cmp-relation")
    # the page's settings (not a run's): k and the metric, then a reload
    dash_duo.wait_for_contains_text("#cmp-a", "x1", timeout=TIMEOUT)
    set_number(dash_duo, "#cmp-k", 3)
    Select(dash_duo.find_element("#cmp-metric")).select_by_value("manhattan")
    dash_duo.wait_for_contains_text(pm("job-cost"), "(N = 300, ", timeout=TIMEOUT)
    time.sleep(1.0)  # the settings store (local storage) takes the change
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#nav-dataset", "example: sinusoid", timeout=TIMEOUT)
    wait_until(lambda: dash_duo.find_element("#cmp-k").get_attribute("value") == "3", TIMEOUT, "k = 3 back")
    assert Select(dash_duo.find_element("#cmp-metric")).first_selected_option.get_attribute("value") == "manhattan"
    dash_duo.wait_for_contains_text("#cmp-a", "x1", timeout=TIMEOUT)
    # nothing was run with these settings: the placeholder, not an older result
    assert not dash_duo.driver.find_elements("css selector", "#cmp-relation")
    shot(dash_duo, "runs-compare-after-reload")
    assert dash_duo.get_logs() == []


def test_time_lags_runs_on_its_defaults(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "policy_panel", 10)
    goto(dash_duo, "lags")
    dash_duo.wait_for_contains_text("#lag-time", "date", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(pm("job-cost", "lags"), "11 lags", timeout=TIMEOUT)
    click(dash_duo, pm("job-run", "lags"))
    dash_duo.wait_for_text_to_equal("#lag-best", "δ = 2", timeout=RUN_TIMEOUT)
    assert dash_duo.find_element(pm("job-status", "lags")).text.startswith("Done in ")
    shot(dash_duo, "runs-lags-defaults")
    assert dash_duo.get_logs() == []
