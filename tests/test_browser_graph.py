"""The Causal graph page in headless Chromium (dash_duo): the logistic_graph example's known
graph found through the real background job, shown in the figure and the tables; a second
run cancelled. Ends with an empty browser console and a screenshot."""

from __future__ import annotations

import time

import pytest

from tests.test_browser_analyses import TIMEOUT, grid_rows, load_example, pm, run, set_number, shot, start

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

KNOWN = {("A", "B"), ("A", "D"), ("B", "C")}

FIGURE_EDGES = """
const gd = document.querySelector("[id='{\\"fig\\":\\"causal-graph\\",\\"type\\":\\"graph\\"}'] .js-plotly-plot");
if (!gd || !gd._fullLayout) { return null; }
const links = gd.data.filter(t => t.name === 'links');
return {arrows: gd._fullLayout.annotations.filter(a => a.name === 'edge').length,
        links: links.length ? links[0].customdata.map(c => [c[0], c[1]]) : []};
"""


def test_causal_graph_of_the_example_and_cancel(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "logistic_graph")
    dash_duo.find_element("#nav-graph").click()
    dash_duo.wait_for_contains_text("#gra-hint", "each of the 5 numeric columns is one", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#gra-time", "t", timeout=TIMEOUT)
    assert dash_duo.find_element("#gra-n-surrogates").get_attribute("value") == "199"
    set_number(dash_duo, "#gra-n-alpha", 5)
    clicked = run(dash_duo, "graph")
    dash_duo.wait_for_contains_text(pm("job-progress-bar", "graph"), "drivers of", timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#gra-n-edges", "3", timeout=TIMEOUT)
    print(f"logistic_graph causal graph, click to result: {time.monotonic() - clicked:.1f} s")
    rows = grid_rows(dash_duo, "#gra-edges")
    assert {(r["cause"], r["effect"]) for r in rows} == KNOWN
    assert all(r["lag"] == "1" for r in rows)
    assert dash_duo.find_element("#gra-verdict").text.startswith("3 direct links among 5 variables (q ≤ 0.05)")
    assert "E has no link" in dash_duo.find_element("#gra-verdict").text
    tested = grid_rows(dash_duo, "#gra-tested")
    assert len(tested) == 20 and sum(r["edge"] == "yes" for r in tested) == 3
    ac = next(r for r in tested if (r["cause"], r["effect"]) == ("A", "C"))
    assert ac["edge"] == "no" and ac["why"].startswith("explained by B (lag 1)")
    deadline = time.monotonic() + TIMEOUT
    drawn = None
    while time.monotonic() < deadline:
        drawn = dash_duo.driver.execute_script(FIGURE_EDGES)
        if drawn:
            break
        time.sleep(0.3)
    assert drawn["arrows"] == 3 and {tuple(x) for x in drawn["links"]} == KNOWN
    assert dash_duo.find_element(pm("job-download-csv", "graph")).get_attribute("disabled") is None
    shot(dash_duo, "graph")

    # a second, longer run (other settings: not in the memo) is cancelled
    set_number(dash_duo, "#gra-n-surrogates", 999)
    run(dash_duo, "graph")
    dash_duo.wait_for_contains_text(pm("job-progress-bar", "graph"), "drivers of", timeout=TIMEOUT)
    dash_duo.find_element(pm("job-cancel", "graph")).click()
    dash_duo.wait_for_contains_text(pm("job-status", "graph"), "Cancelled: the job was stopped", timeout=TIMEOUT)
    dash_duo.wait_for_element(pm("job-run", "graph") + ":not([disabled])", timeout=TIMEOUT)
    dash_duo.wait_for_style_to_equal(pm("job-progress-wrap", "graph"), "display", "none", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []
