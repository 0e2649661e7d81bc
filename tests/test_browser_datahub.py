"""The Covid-19 Data Hub pipeline in headless Chromium (dash_duo), no Python on the user's side.

A file in the Data Hub's level-1 layout (one row per country and day, cumulative confirmed /
tests / deaths, OxCGRT levels with negative = targeted; written by
:func:`infoimb.datasets.covid_datahub_layout`) is uploaded; the Data page proposes the time
and entity roles, the one-click Data Hub step makes the weekly panel (new counts, positivity,
growth of cases, absolute policy levels) and its groups; the Time lags page finds the best lag
(Fig. 3a) and the Select page the four effective policies with the target two weeks later
(Fig. 3b), never the dummy. Every number shown is checked against the core pipeline on the same
file. Uploading the same file again brings back the roles the user applied.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from infoimb import datasets as D
from infoimb.io import read_table
from infoimb.lags import lag_scan, select_lagged
from infoimb.preprocess import datahub_weekly
from test_browser_analyses import grid_rows, pm  # the shared browser helpers

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

SHOTS = Path(os.environ.get("INFOIMB_SCREENSHOT_DIR") or Path(os.environ["INFOIMB_CACHE_DIR"]) / "screenshots")
TIMEOUT = 90
# 18 countries over 48 weeks: 0.59 MB of CSV (the test server's upload limit is 1 MB)
N_NATIONS, N_WEEKS = 18, 48
LAGS = range(-5, 6)  # the Time lags page's default range
ENTITY = "iso_alpha_3"  # the user picks the readable country codes instead of the proposed "id"


def shot(duo, name: str) -> None:
    """A 1280 × 800 screenshot of the whole page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = duo.driver
    driver.execute_script("window.scrollTo(0, 0)")
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": max(800, height), "deviceScaleFactor": 1, "mobile": False})
    time.sleep(0.3)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def click(duo, selector: str) -> None:
    el = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()


def set_number(duo, selector: str, value) -> None:
    box = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.TAB)


def pick(duo, dropdown: str, label: str) -> None:
    duo.select_dcc_dropdown(dropdown, value=label)
    duo.wait_for_contains_text(dropdown, label, timeout=TIMEOUT)
    ActionChains(duo.driver).send_keys(Keys.ESCAPE).perform()
    duo.wait_for_no_elements(".dash-dropdown-content", timeout=TIMEOUT)


def run(duo, analysis: str) -> None:
    duo.wait_for_element(pm("job-run", analysis) + ":not([disabled])", timeout=TIMEOUT)
    click(duo, pm("job-run", analysis))


def upload(duo, path: Path) -> None:
    duo.find_element("#upload input[type=file]").send_keys(str(path))


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The file, and the core pipeline's answers on it (what the pages must show)."""
    path = tmp_path_factory.mktemp("datahub") / "datahub_level1.csv"
    raw = D.covid_datahub_layout(N_NATIONS, n_weeks=N_WEEKS, path=path)
    weekly = datahub_weekly(read_table(path), time="date", entity=ENTITY)
    policies = list(D.PAPER_POLICIES)
    scan = lag_scan(weekly, policies, ["cases_growth"], lags=LAGS, time="date", group=ENTITY, k=1)
    sel = select_lagged(weekly, policies, ["cases_growth"], lag=2, time="date", group=ENTITY, method="greedy",
                        max_features=5, k=1, dummy=True, random_state=0)
    return {"path": path, "n_raw": raw.shape[0], "weekly": weekly, "scan": scan, "sel": sel}


def test_datahub_file_to_fig3_in_the_browser(dash_duo, dash_app, hub):
    scan, sel = hub["scan"], hub["sel"]
    assert scan.best_lag == 2 and sel.suggested_size == 4  # the ground truth, in the core
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_element("#example-load", timeout=TIMEOUT)

    # ---- load: dates parsed, time and entity proposed with their reasons -------------------
    upload(dash_duo, hub["path"])
    n_cols = pd.read_csv(hub["path"], nrows=1).shape[1]
    dash_duo.wait_for_contains_text("#data-message", f"Loaded datahub_level1.csv: {hub['n_raw']} rows × {n_cols} "
                                    "columns", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#role-proposal", "This looks like a long panel", timeout=TIMEOUT)
    proposal = dash_duo.find_element("#role-proposal").text
    days = 1 + 7 * (N_WEEKS - 1)
    assert f"time = date ('date' holds dates ({days} distinct values))" in proposal
    assert f"entity = id ('id' has {N_NATIONS} values, each on {days}-{days} rows" in proposal
    dash_duo.wait_for_contains_text("#role-time", "date", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#role-entity", "id", timeout=TIMEOUT)
    shot(dash_duo, "datahub_proposal")
    # the user prefers the readable country codes, applies the roles (remembered for this file)
    pick(dash_duo, "#role-entity", ENTITY)
    click(dash_duo, "#role-scaling input[value='none']")
    click(dash_duo, "#role-save")
    dash_duo.wait_for_contains_text("#role-message", "features (the full space)", timeout=TIMEOUT)
    dash_duo.wait_for_style_to_equal("#role-proposal-box", "display", "none", timeout=TIMEOUT)

    # ---- the Data Hub steps in one click: the weekly panel and its groups -------------------
    click(dash_duo, "#pre-datahub")
    n_weekly = hub["weekly"].shape[0]
    dash_duo.wait_for_contains_text("#pre-message", f"now {n_weekly} rows × {hub['weekly'].shape[1]} columns",
                                    timeout=TIMEOUT)
    assert dash_duo.find_element("#pre-message").text.startswith(
        "Data Hub weekly: country rows, absolute policy levels (14 policies)")
    dash_duo.wait_for_text_to_equal("#data-n-rows", f"{n_weekly} rows", timeout=TIMEOUT)
    dash_duo.wait_for_element("input[id='{\"index\":2,\"type\":\"group-name\"}']", timeout=TIMEOUT)
    names = [el.get_attribute("value") for el in dash_duo.find_elements("#group-list input.form-control")]
    assert names == ["policies", "all policies", "epidemic state", "tests and cases"]
    shot(dash_duo, "datahub_data")

    # ---- Fig. 3a: the lag scan, policies -> epidemic state ---------------------------------
    dash_duo.find_element("#nav-lags").click()
    pick(dash_duo, "#lag-source", "Group: policies (9 columns)")
    pick(dash_duo, "#lag-target", "Group: epidemic state (1 column)")
    dash_duo.wait_for_contains_text("#lag-time", "date", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#lag-entity", ENTITY, timeout=TIMEOUT)
    if dash_duo.find_element("#lag-select input").is_selected():
        click(dash_duo, "#lag-select input")  # the selection is the Select page's job below
    set_number(dash_duo, "#lag-permutations", 0)
    run(dash_duo, "lags")
    dash_duo.wait_for_text_to_equal("#lag-best", f"δ = {scan.best_lag}", timeout=TIMEOUT)
    assert dash_duo.find_element("#lag-arrow").text == "arrow of time: source → target's future"
    rows = {int(r["δ"]): r for r in grid_rows(dash_duo, "#lag-table")}
    assert sorted(rows) == list(LAGS)
    for i, lag in enumerate(scan.lags):
        assert rows[int(lag)]["Δ(source → target)"] == f"{scan.forward[i]:.4f} ± {scan.forward_se[i]:.4f}"
        assert rows[int(lag)]["Δ(target → source)"] == f"{scan.backward[i]:.4f} ± {scan.backward_se[i]:.4f}"
    shot(dash_duo, "datahub_lags")

    # ---- Fig. 3b: policies selected with the epidemic state two weeks later ----------------
    dash_duo.find_element("#nav-select").click()
    pick(dash_duo, "#sel-candidates", "Group: policies (9 columns)")
    pick(dash_duo, "#sel-target", "Group: epidemic state (1 column)")
    set_number(dash_duo, "#sel-lag", 2)
    set_number(dash_duo, "#sel-max-features", 5)
    assert dash_duo.find_element("#sel-dummy input").is_selected()  # the dummy noise feature is on
    run(dash_duo, "select")
    dash_duo.wait_for_text_to_equal("#sel-suggested", "d = 4", timeout=TIMEOUT)
    chosen = [b.text for b in dash_duo.find_elements("#sel-selected .badge")]
    assert sorted(chosen) == sorted(D.EFFECTIVE_POLICIES) == sorted(sel.best(4).features)
    table = grid_rows(dash_duo, "#sel-table")
    assert [r["d"] for r in table] == ["1", "2", "3", "4", "5"]
    for r, step in zip(table, sel.steps):
        assert r["features"] == ", ".join(step.features)
        assert r["Δ(S→target)"] == f"{step.a_to_b:.4f} ± {step.a_to_b_se:.4f}"
    assert all(sel.dummy not in s.features for s in sel.steps[:4])
    assert "was never chosen" in dash_duo.find_element("body").text
    shot(dash_duo, "datahub_select")

    # ---- the same file again: the roles the user applied come back --------------------------
    dash_duo.find_element("#nav-data").click()
    dash_duo.wait_for_element("#upload", timeout=TIMEOUT)
    upload(dash_duo, hub["path"])
    dash_duo.wait_for_contains_text("#data-message", "were restored (time: date, entity: iso_alpha_3",
                                    timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#data-n-rows", f"{hub['n_raw']} rows", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#role-entity", ENTITY, timeout=TIMEOUT)
    assert dash_duo.find_element("#role-proposal-box").value_of_css_property("display") == "none"
    # groups belong to their table: the weekly table's derived groups are kept, not listed
    dash_duo.wait_for_text_to_equal(
        "#group-others", "2 groups of other tables (epidemic state, tests and cases) are kept for when they come "
                         "back.", timeout=TIMEOUT)
    names = [el.get_attribute("value") for el in dash_duo.find_elements("#group-list input.form-control")]
    assert names == ["policies", "all policies"]  # their columns are in the daily file too
    shot(dash_duo, "datahub_reloaded")
    click(dash_duo, "#group-clear")  # one click removes this table's groups, the others stay
    dash_duo.wait_for_text_to_equal("#group-list", "No groups for this table yet.", timeout=TIMEOUT)
    assert dash_duo.find_element("#group-others").text.startswith("2 groups of other tables")
    assert dash_duo.get_logs() == []
