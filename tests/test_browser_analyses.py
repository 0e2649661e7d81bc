"""The analysis pages in headless Chromium (dash_duo): Select, Time lags, Causality, Scales.

Each test loads an example on the Data page, runs the page's analysis through the real
background-job machinery and checks what the page shows; every test ends with an empty
browser console. Screenshots of each page with its result go to a scratch folder
(``INFOIMB_SCREENSHOT_DIR``; ``make screenshots`` refreshes docs/screenshots/).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from infoimb.datasets import EFFECTIVE_POLICIES

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

ROOT = Path(__file__).resolve().parents[1]
# a scratch folder (conftest points INFOIMB_CACHE_DIR at one); `make screenshots` for docs/
SHOTS = Path(os.environ.get("INFOIMB_SCREENSHOT_DIR") or Path(os.environ["INFOIMB_CACHE_DIR"]) / "screenshots")
TIMEOUT = 90


def pm(kind: str, analysis: str = "compare") -> str:
    """CSS selector of a pattern-matching id of the analysis machinery."""
    return f"""[id='{{"analysis":"{analysis}","type":"{kind}"}}']"""


def graph(name: str) -> str:
    return f"""[id='{{"fig":"{name}","type":"graph"}}'] .main-svg"""


def grid_rows(duo, selector: str) -> list[dict]:
    """The rows of a table (an AG Grid) as {header: text}, in row order."""
    duo.wait_for_element(f"{selector} .ag-row", timeout=TIMEOUT)
    header = [h.text for h in duo.find_elements(f"{selector} .ag-header-cell-text")]
    rows = {}
    for row in duo.find_elements(f"{selector} .ag-center-cols-container .ag-row"):
        cells = row.find_elements("css selector", ".ag-cell")
        rows[int(row.get_attribute("row-index"))] = dict(zip(header, (c.text for c in cells)))
    return [rows[i] for i in sorted(rows)]


def shot(duo, name: str) -> None:
    """A 1280-wide screenshot of the whole page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = duo.driver
    driver.execute_script("window.scrollTo(0, 0)")
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    # a viewport as tall as the page (a window cannot be made taller than the screen)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False})
    time.sleep(0.8)  # the graphs resize to the new viewport
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def start(duo, app) -> None:
    duo.start_server(app)
    duo.wait_for_element("#example-load", timeout=TIMEOUT)
    duo.wait_for_text_to_equal("#nav-dataset", "no data loaded", timeout=TIMEOUT)


def load_example(duo, name: str, n: int | None = None) -> None:
    duo.driver.execute_script(
        "const s = document.getElementById('example-select'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change', {bubbles: true}));", name)
    time.sleep(0.3)
    if n is not None:
        set_number(duo, "#example-n", n)
    duo.find_element("#example-load").click()
    duo.wait_for_contains_text("#nav-dataset", f"example: {name}", timeout=TIMEOUT)


def goto(duo, page: str) -> None:
    duo.find_element(f"#nav-{page}").click()


def set_number(duo, selector: str, value) -> None:
    box = duo.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.TAB)


def choose(duo, selector: str, value: str) -> None:
    """A value of a native <select> (dbc.Select)."""
    Select(duo.find_element(selector)).select_by_value(value)


def pick(duo, dropdown: str, label: str) -> None:
    duo.select_dcc_dropdown(dropdown, value=label)
    duo.wait_for_contains_text(dropdown, label, timeout=TIMEOUT)
    ActionChains(duo.driver).send_keys(Keys.ESCAPE).perform()
    duo.wait_for_no_elements(".dash-dropdown-content", timeout=TIMEOUT)


def run(duo, analysis: str) -> float:
    """Click Run when it is enabled; the time of the click."""
    duo.wait_for_element(pm("job-run", analysis) + ":not([disabled])", timeout=TIMEOUT)
    duo.find_element(pm("job-run", analysis)).click()
    return time.monotonic()


# --------------------------------------------------------------------------------------
def test_select_on_the_policy_panel_progress_result_and_cancel(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "policy_panel")
    goto(dash_duo, "select")
    # the example's roles: policies -> epidemic_state two weeks later
    dash_duo.wait_for_contains_text("#sel-candidates", "Group: policies", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#sel-target", "Group: epidemic_state", timeout=TIMEOUT)
    assert dash_duo.find_element("#sel-lag").get_attribute("value") == "2"
    set_number(dash_duo, "#sel-max-features", 5)
    set_number(dash_duo, "#sel-n-random", 2)
    clicked = run(dash_duo, "select")
    # a real progress bar: a fraction with its label while Run is disabled
    dash_duo.wait_for_contains_text(pm("job-progress-bar", "select"), "subsets evaluated", timeout=TIMEOUT)
    assert dash_duo.find_element(pm("job-run", "select")).get_attribute("disabled") == "true"
    bar = dash_duo.find_element(pm("job-progress-bar", "select") + " .progress-bar")
    assert 0 < float(bar.get_attribute("aria-valuenow")) < 100
    assert "%" in bar.text
    dash_duo.wait_for_text_to_equal("#sel-suggested", "d = 4", timeout=TIMEOUT)
    elapsed = time.monotonic() - clicked
    print(f"policy-panel selection, click to result: {elapsed:.1f} s")
    chosen = [b.text for b in dash_duo.find_elements("#sel-selected .badge")]
    assert sorted(chosen) == sorted(EFFECTIVE_POLICIES)
    rows = grid_rows(dash_duo, "#sel-table")
    assert [r["d"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert sorted(rows[3]["features"].split(", ")) == sorted(EFFECTIVE_POLICIES)
    assert rows[3]["change"] in EFFECTIVE_POLICIES
    dash_duo.wait_for_element(graph("selection-curve"), timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("selection-path"), timeout=TIMEOUT)
    shot(dash_duo, "select")

    # another, long selection: cancelled, with a clear message, and Run is enabled again
    choose(dash_duo, "#sel-method", "exhaustive")
    set_number(dash_duo, "#sel-max-features", 4)
    run(dash_duo, "select")
    dash_duo.wait_for_contains_text(pm("job-progress-bar", "select"), "subsets evaluated", timeout=TIMEOUT)
    dash_duo.find_element(pm("job-cancel", "select")).click()
    dash_duo.wait_for_contains_text(pm("job-status", "select"), "Cancelled: the job was stopped", timeout=TIMEOUT)
    dash_duo.wait_for_element(pm("job-run", "select") + ":not([disabled])", timeout=TIMEOUT)
    dash_duo.wait_for_style_to_equal(pm("job-progress-wrap", "select"), "display", "none", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_lag_scan_on_the_policy_panel(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "policy_panel")
    goto(dash_duo, "lags")
    dash_duo.wait_for_contains_text("#lag-source", "Group: policies", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#lag-target", "Group: epidemic_state", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#lag-time", "date", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#lag-entity", "id", timeout=TIMEOUT)
    set_number(dash_duo, "#lag-sel-max", 5)
    clicked = run(dash_duo, "lags")
    dash_duo.wait_for_text_to_equal("#lag-best", "δ = 2", timeout=TIMEOUT)
    print(f"policy-panel lag scan and lagged selection, click to result: {time.monotonic() - clicked:.1f} s")
    assert dash_duo.find_element("#lag-arrow").text == "arrow of time: source → target's future"
    verdict = dash_duo.find_element("#lag-verdict").text
    assert verdict.startswith("The source (policies) predicts the future of the target (epidemic_state) better "
                              "than its past")
    assert "Δ is smallest at δ = 2 (1 step = 7 days)" in verdict
    dash_duo.wait_for_element(graph("lag-scan"), timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("lag-selection"), timeout=TIMEOUT)
    selected = dash_duo.find_element("#lag-selected").text.split(", ")
    assert sorted(selected) == sorted(EFFECTIVE_POLICIES)
    shot(dash_duo, "lags")
    assert dash_duo.get_logs() == []


def test_causality_on_the_rossler_example(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "rossler")
    goto(dash_duo, "causality")
    dash_duo.wait_for_contains_text("#cau-cause", "Group: X", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#cau-effect", "Group: Y", timeout=TIMEOUT)
    assert dash_duo.find_element("#cau-tau").get_attribute("value") == "5"  # the example's lag
    set_number(dash_duo, "#cau-n-alpha", 21)
    clicked = run(dash_duo, "causality")
    dash_duo.wait_for_text_to_equal("#cau-verdict", "X drives Y", timeout=TIMEOUT)
    print(f"rossler causality, click to result: {time.monotonic() - clicked:.1f} s")
    ig_xy = float(dash_duo.find_element("#cau-ig-xy").text.split(" ")[0])
    ig_yx = float(dash_duo.find_element("#cau-ig-yx").text.split(" ")[0])
    assert ig_xy > 0.4 and ig_yx < 0.05
    assert dash_duo.find_element("#cau-verdict-text").text.startswith("X drives Y: adding X's present")
    dash_duo.wait_for_element(graph("causality"), timeout=TIMEOUT)
    shot(dash_duo, "causality")
    assert dash_duo.get_logs() == []


def test_scales_page_runs(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", n=500)
    goto(dash_duo, "scales")
    dash_duo.wait_for_contains_text("#scl-a", "Full space (3 features)", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#scl-b", "Group: xy", timeout=TIMEOUT)
    run(dash_duo, "scales")
    dash_duo.wait_for_element("#scl-after", timeout=TIMEOUT)
    before = float(dash_duo.find_element("#scl-before").text)
    after = float(dash_duo.find_element("#scl-after").text)
    assert after <= before
    cells = [list(r.values()) for r in grid_rows(dash_duo, "#scl-table")]
    weights = {name: float(value) for name, value, *_ in cells}
    assert weights["z"] < 0.05 < 0.9 < min(weights["x"], weights["y"])  # z says nothing about [x, y]
    dash_duo.wait_for_element(graph("weights"), timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("weights-history"), timeout=TIMEOUT)
    shot(dash_duo, "scales")
    # a bad input gives a message, not a crash: A with a single feature
    pick(dash_duo, "#scl-a", "Feature: x")
    run(dash_duo, "scales")
    dash_duo.wait_for_contains_text(pm("job-status", "scales"), "A (x) has a single feature", timeout=TIMEOUT)
    assert dash_duo.find_element(pm("job-run", "scales")).get_attribute("disabled") is None
    assert dash_duo.get_logs() == []
