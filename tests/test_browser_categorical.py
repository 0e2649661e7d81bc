"""Categorical columns in the browser (issue 9 §2): a clinical table with text columns (sex,
arm) and a numeric code column marked categorical on the Data page; Compare with a text space
A = sex + arm against a numeric B, and Select with categorical candidates, each showing the
numbers of the Python API on the same rows."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

import infoimb

from test_web_categorical import N, clinical
from test_browser_analyses import pm  # the shared browser helpers

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

SHOTS = Path(os.environ.get("INFOIMB_SCREENSHOT_DIR") or Path(os.environ["INFOIMB_CACHE_DIR"]) / "screenshots")
TIMEOUT = 60


def shot(duo, name: str, at: str | None = None) -> None:
    """A 1280 x 800 screenshot, from the top or with the element ``at`` in view."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if at:
        duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", duo.find_element(at))
    else:
        duo.driver.execute_script("window.scrollTo(0, 0)")
    duo.driver.set_window_size(1280, 800)
    time.sleep(0.3)
    duo.driver.save_screenshot(str(SHOTS / f"{name}.png"))


def click(duo, selector: str) -> None:
    el = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()


def pick(duo, dropdown: str, label: str) -> None:
    duo.select_dcc_dropdown(dropdown, value=label)
    duo.wait_for_contains_text(dropdown, label, timeout=TIMEOUT)
    ActionChains(duo.driver).send_keys(Keys.ESCAPE).perform()
    duo.wait_for_no_elements(".dash-dropdown-content", timeout=TIMEOUT)


def add_group(duo, index: int, name: str, columns) -> None:
    click(duo, "#group-add")
    box = duo.wait_for_element(f"input[id='{{\"index\":{index},\"type\":\"group-name\"}}']", timeout=TIMEOUT)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(name, Keys.ENTER)
    cols = f"[id='{{\"index\":{index},\"type\":\"group-columns\"}}']"
    for c in columns:
        pick(duo, cols, c)


def run(duo, analysis: str) -> None:
    duo.wait_for_element(pm("job-run", analysis) + ":not([disabled])", timeout=TIMEOUT)
    click(duo, pm("job-run", analysis))


def complete(df: pd.DataFrame, cols) -> pd.DataFrame:
    return df.dropna(subset=list(cols)).reset_index(drop=True)


def test_categorical_roles_compare_and_select_show_the_apis_numbers(dash_duo, dash_app, tmp_path):
    df = clinical()
    path = tmp_path / "trial.csv"
    df.to_csv(path, index=False)
    table = pd.read_csv(path)  # what the app reads: the same rows, text columns as text

    dash_duo.start_server(dash_app)
    dash_duo.wait_for_element("#example-load", timeout=TIMEOUT)
    dash_duo.find_element("#upload input[type=file]").send_keys(str(path))
    dash_duo.wait_for_contains_text("#data-message", "Loaded trial.csv", timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#data-n-rows", f"{N} rows", timeout=TIMEOUT)

    # a cross-sectional table: no time or entity role; the upload's scaling: z-score (of the
    # numeric columns only: the categories are compared by equality)
    assert "arm" not in dash_duo.find_element("#role-entity").text
    scaling = dash_duo.find_element("#role-scaling input:checked").get_attribute("value")
    assert scaling == "zscore"
    # "site" holds codes 0/1/2 -> categorical; two groups with text columns
    pick(dash_duo, "#role-categorical", "site")
    click(dash_duo, "#role-save")
    dash_duo.wait_for_contains_text("#role-message", "numeric codes marked categorical: site", timeout=TIMEOUT)
    add_group(dash_duo, 0, "demo", ["sex", "arm"])
    add_group(dash_duo, 1, "cands", ["age", "weight", "sex", "arm", "site"])
    click(dash_duo, "#group-add")  # leaves the last dropdown: the groups are saved
    time.sleep(0.5)
    shot(dash_duo, "categorical_data", at="#role-categorical")

    # Compare: A = sex + arm (text), B = sbp
    dash_duo.find_element("#nav-compare").click()
    pick(dash_duo, "#cmp-a", "Group: demo (2 columns)")
    pick(dash_duo, "#cmp-b", "Feature: sbp")
    assert Select(dash_duo.find_element("#cmp-metric")).first_selected_option.get_attribute("value") == "auto"
    run(dash_duo, "compare")
    dash_duo.wait_for_element("#cmp-delta-ab", timeout=TIMEOUT)
    d = infoimb.preprocess.scale(complete(table, ["sex", "arm", "sbp"]), ["sbp"], scaling)
    want = infoimb.imbalance_pair(d[["sex", "arm"]], d[["sbp"]], n_bootstrap=0)
    dash_duo.wait_for_text_to_equal("#cmp-delta-ab", f"{want.a_to_b:.4f} ± {want.a_to_b_se:.4f}", timeout=TIMEOUT)
    assert dash_duo.find_element("#cmp-delta-ba").text == f"{want.b_to_a:.4f} ± {want.b_to_a_se:.4f}"
    assert want.a_to_b < want.b_to_a  # the arm and sex predict the pressure, not the reverse
    dash_duo.wait_for_contains_text(".summary-card", "demo (2 columns, categorical)", timeout=TIMEOUT)
    assert "sbp (1 column, euclidean)" in dash_duo.find_element(".summary-card").text
    shot(dash_duo, "categorical_compare")

    # Select: categorical candidates (text and the marked code) against sbp
    dash_duo.find_element("#nav-select").click()
    pick(dash_duo, "#sel-candidates", "Group: cands (5 columns)")
    pick(dash_duo, "#sel-target", "Feature: sbp")
    run(dash_duo, "select")
    dash_duo.wait_for_element("#sel-suggested", timeout=TIMEOUT)
    cols = ["age", "weight", "sex", "arm", "site"]
    d = infoimb.preprocess.scale(complete(table, cols + ["sbp"]), ["age", "weight", "sbp"], scaling)  # not site
    res = infoimb.select_features(d[cols], d[["sbp"]], method="greedy", max_features=6, dummy=True,
                                  categorical=["site"], random_state=0)
    best = next(s for s in res.steps if s.size == res.suggested_size)
    dash_duo.wait_for_text_to_equal("#sel-suggested", f"d = {res.suggested_size}", timeout=TIMEOUT)
    assert dash_duo.find_element("#sel-value").text == f"{best.criterion:.4f} ± {best.criterion_se:.4f}"
    chosen = [b.text for b in dash_duo.find_elements("#sel-selected .badge")]
    assert sorted(chosen) == sorted(best.features)
    assert "arm" in chosen
    summary = dash_duo.find_element(".summary-card").text
    assert "cands (5 columns, gower)" in summary and "sbp (euclidean)" in summary
    shot(dash_duo, "categorical_select")
    shot(dash_duo, "categorical_select_options", at="#sel-metric")
    assert dash_duo.get_logs() == []
