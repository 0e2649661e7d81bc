"""Issue 10 in headless Chromium: Compare with permutations shows p-values and says
"significant" / "not significant"; a lag scan shows the arrow of time's p-value; Select shows
each step's interval and the stability view. Screenshots go to the scratch folder
(``INFOIMB_SCREENSHOT_DIR``)."""

from __future__ import annotations

import re
import time

import pytest

from tests.test_browser_analyses import (
    TIMEOUT,
    graph,
    grid_rows,
    load_example,
    pick,
    pm,
    set_number,
    shot,
    start,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]


def click(duo, selector: str) -> None:
    """Scroll to an element and click it (by script: a label over a checkbox takes real clicks)."""
    el = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", el)


def to_data(duo) -> None:
    duo.find_element("#nav-data").click()
    duo.wait_for_element("#example-load", timeout=TIMEOUT)


def run(duo, analysis: str) -> None:
    duo.wait_for_element(pm("job-run", analysis) + ":not([disabled])", timeout=TIMEOUT)
    click(duo, pm("job-run", analysis))


def test_compare_p_values_and_lag_arrow_p(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", 300)
    dash_duo.find_element("#nav-compare").click()
    dash_duo.wait_for_contains_text("#cmp-a", "Group: xy", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#cmp-b", "Full space (3 features)", timeout=TIMEOUT)
    assert "199 with the exact estimator when N ≤ 20,000" in dash_duo.find_element(".compare-page").text
    set_number(dash_duo, "#cmp-permutations", 49)
    run(dash_duo, "compare")
    # xy predicts the full space: the smallest p of 49 permutations, significant
    dash_duo.wait_for_text_to_equal("#cmp-p-ab", "p = 0.02", timeout=TIMEOUT)
    assert dash_duo.find_element("#cmp-p-ba").text == "p = 0.02"
    dash_duo.wait_for_text_to_equal("#cmp-significance", "significant", timeout=TIMEOUT)
    assert dash_duo.find_element("#cmp-significance-text").text.startswith("Significant: p(A→B) = 0.02")
    dash_duo.wait_for_element(graph("plane"), timeout=TIMEOUT)
    # x and z are independent in gauss3d: not significant
    pick(dash_duo, "#cmp-a", "Group: x (1 column)")
    pick(dash_duo, "#cmp-b", "Group: z (1 column)")
    run(dash_duo, "compare")
    dash_duo.wait_for_text_to_equal("#cmp-significance", "not significant", timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#cmp-relation", "independent", timeout=TIMEOUT)
    text = dash_duo.find_element("#cmp-significance-text").text
    assert text.startswith("Not significant: p(A→B) = ") and "49 permutations" in text
    p_ab = float(dash_duo.find_element("#cmp-p-ab").text.removeprefix("p = "))
    assert p_ab > 0.025
    # the full space against each feature on the plane as well: q-values in the table
    click(dash_duo, "#cmp-extra input[value='features']")
    run(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-pairs-table", "full space vs each feature", timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "#cmp-pairs-table")
    assert [r["pair"] for r in rows] == ["x vs z", "x", "y", "z"]
    assert rows[1]["p (A→B)"] == "0.02" and rows[1]["q (A→B)"] != ""
    assert re.fullmatch(r"\[\d\.\d{3}, \d\.\d{3}\]", rows[1]["CI (A→B)"])
    time.sleep(0.5)
    shot(dash_duo, "significance_compare")

    # Time lags on the policy panel: p per lag, the best lag's interval, the arrow's p-value
    to_data(dash_duo)
    load_example(dash_duo, "policy_panel")
    dash_duo.find_element("#nav-lags").click()
    dash_duo.wait_for_contains_text("#lag-source", "Group: policies", timeout=TIMEOUT)
    set_number(dash_duo, "#lag-min", -2)
    set_number(dash_duo, "#lag-max", 3)
    set_number(dash_duo, "#lag-permutations", 9)
    set_number(dash_duo, "#lag-splits", 2)
    click(dash_duo, "#lag-select input")  # no lagged selection
    run(dash_duo, "lags")
    dash_duo.wait_for_contains_text("#lag-arrow-p", "arrow of time: bootstrap p = ", timeout=TIMEOUT)
    p = float(dash_duo.find_element("#lag-arrow-p").text.rsplit("= ", 1)[1])
    assert p < 0.05
    dash_duo.wait_for_text_to_equal("#lag-best", "δ = 2", timeout=TIMEOUT)
    assert dash_duo.find_element("#lag-best-ci").text.startswith("95% interval: [")
    rows = grid_rows(dash_duo, "#lag-table")
    assert [r["δ"] for r in rows] == ["-2", "-1", "0", "1", "2", "3"]
    assert rows[4]["p →"] == "0.1"  # 9 permutations: the smallest possible p, 1/10
    dash_duo.wait_for_contains_text("#lag-stability", "best lag in each of the 2 disjoint splits", timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("lag-stability"), timeout=TIMEOUT)
    time.sleep(0.5)
    shot(dash_duo, "significance_lags")

    # Select: compression of gauss3d with stability splits
    to_data(dash_duo)
    load_example(dash_duo, "gauss3d", 300)
    dash_duo.find_element("#nav-select").click()
    dash_duo.wait_for_contains_text("#sel-candidates", "Full space", timeout=TIMEOUT)
    set_number(dash_duo, "#sel-splits", 3)
    run(dash_duo, "select")
    dash_duo.wait_for_contains_text("#sel-rule", "paired bootstrap interval of the difference", timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("selection-stability"), timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "#sel-table")
    assert rows[0]["interval (S→target)"].startswith("[")
    time.sleep(0.5)
    shot(dash_duo, "significance_select")
    assert dash_duo.get_logs() == []
