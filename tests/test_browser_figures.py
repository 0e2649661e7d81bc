"""Every analysis page at 1280 x 800 in headless Chromium (dash_duo): nothing cut, nothing on top
of something else.

Each test loads an example, runs the page's analysis and then measures the page in the browser:
no text of a result (grid cells, headers, metric values, labels) is wider than its box
(``scrollWidth``), no text of a figure lies outside the figure, the legend does not cover the
caption or the axis titles, the title is clear of the Plotly toolbar band, and point labels do
not overlap. Screenshots (1280 wide, the full page) go to ``INFOIMB_SCREENSHOT_DIR`` or a
scratch folder. Every test ends with an empty browser console.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_browser_analyses import load_example, pm, set_number  # the shared browser helpers

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

SHOTS = Path(os.environ.get("INFOIMB_SCREENSHOT_DIR") or Path(os.environ["INFOIMB_CACHE_DIR"]) / "screenshots")
TIMEOUT = 120

# What the browser measures: a list of problems, each a short text (empty: all clear).
MEASURE = r"""
const out = [];
const inter = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
                        Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
const name = (el) => (el.textContent || '').trim().slice(0, 60);
const scope = document;
// HTML text cut at the right: grid cells and headers, metric values and labels, form labels
const html = scope.querySelectorAll(
  '.ag-cell, .ag-header-cell-text, .metric-value, .metric-label, .relation-text, label, .form-label, .badge');
for (const el of html) {
  if (!el.offsetParent || !(el.textContent || '').trim()) continue;  // hidden or empty
  if (el.classList.contains('cell-detail')) continue;  // long text shown on hover (ui.column_defs)
  // the text's own width (a Range measures the text even where it is clipped or ellipsed)
  const range = document.createRange();
  range.selectNodeContents(el);
  const t = range.getBoundingClientRect(), b = el.getBoundingClientRect();
  const pad = parseFloat(getComputedStyle(el).paddingRight) || 0;
  if (el.scrollWidth > el.clientWidth + 1 || t.right > b.right - pad + 1.5)
    out.push(`cut: <${el.className}> "${name(el)}" text ${Math.round(t.width)} px in ${el.clientWidth} px`);
}
// figures
for (const plot of scope.querySelectorAll('.js-plotly-plot')) {
  const fig = plot.closest('[id]') ? plot.closest('[id]').id : '?';
  const box = plot.querySelector('.main-svg').getBoundingClientRect();
  const texts = [...plot.querySelectorAll('.main-svg text')].filter(t => {
    const r = t.getBoundingClientRect(); return r.width > 0 && r.height > 0 && (t.textContent || '').trim();
  });
  for (const t of texts) {
    const r = t.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
      out.push(`${fig}: text outside the figure "${name(t)}"`);
  }
  const legend = plot.querySelector('.legend .bg');
  const caps = [...plot.querySelectorAll('.annotation')].filter(a => a.getBoundingClientRect().top >
      plot.querySelector('.bglayer, .cartesianlayer').getBoundingClientRect().bottom);
  const xtitles = [...plot.querySelectorAll('.g-xtitle text, .g-x2title text')];
  const ticks = [...plot.querySelectorAll('.xtick text, .ytick text, .x2tick text')];
  if (legend) {
    const L = legend.getBoundingClientRect();
    for (const c of caps) if (inter(L, c.getBoundingClientRect()))
      out.push(`${fig}: the legend covers the caption "${name(c)}"`);
    for (const t of xtitles) if (inter(L, t.getBoundingClientRect()))
      out.push(`${fig}: the legend covers the axis title "${name(t)}"`);
    for (const t of ticks) if (inter(L, t.getBoundingClientRect()))
      out.push(`${fig}: the legend covers the tick "${name(t)}"`);
  }
  for (const c of caps) for (const t of [...xtitles, ...ticks])
    if (inter(c.getBoundingClientRect(), t.getBoundingClientRect())) out.push(`${fig}: the caption "${name(c)}" on the axis text "${name(t)}"`);
  // the title and subtitle stay under the toolbar's band (where the modebar shows on hover)
  const bar = plot.querySelector('.modebar');
  const barBottom = bar && bar.getBoundingClientRect().height > 0 ? bar.getBoundingClientRect().bottom : box.top + 28;
  for (const t of plot.querySelectorAll('.gtitle, .gtitle-subtitle')) {
    const r = t.getBoundingClientRect();
    if (r.width > 0 && r.top < barBottom - 1) out.push(`${fig}: the title "${name(t)}" is in the toolbar band`);
  }
  // point labels (text of scatter traces) do not overlap each other
  const labels = [...plot.querySelectorAll('.scatterlayer .textpoint text')].filter(
      t => (t.textContent || '').trim() && t.getBoundingClientRect().width > 0);
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++)
    if (inter(labels[i].getBoundingClientRect(), labels[j].getBoundingClientRect()))
      out.push(`${fig}: labels "${name(labels[i])}" and "${name(labels[j])}" overlap`);
}
return out;
"""


def graph(name: str) -> str:
    return f"""[id='{{"fig":"{name}","type":"graph"}}'] .main-svg"""


def start(duo, app) -> None:
    duo.start_server(app)
    duo.driver.set_window_size(1280, 800)
    duo.wait_for_element("#example-load", timeout=TIMEOUT)
    duo.wait_for_text_to_equal("#nav-dataset", "no data loaded", timeout=TIMEOUT)


def viewport(duo) -> None:
    """A 1280 x 800 viewport (whatever the window's decorations)."""
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})


def run(duo, analysis: str) -> None:
    duo.wait_for_element(pm("job-run", analysis) + ":not([disabled])", timeout=TIMEOUT)
    duo.find_element(pm("job-run", analysis)).click()


def problems(duo) -> list[str]:
    time.sleep(1.0)  # the graphs take their final size
    return duo.driver.execute_script(MEASURE)


def shot(duo, name: str) -> None:
    """The whole page, 1280 wide (a viewport as tall as the page), then back to 1280 x 800."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = duo.driver
    driver.execute_script("window.scrollTo(0, 0)")
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": max(height, 800), "deviceScaleFactor": 1, "mobile": False})
    time.sleep(0.8)
    driver.save_screenshot(str(SHOTS / f"layout_{name}.png"))
    viewport(duo)


def check_page(duo, name: str) -> None:
    viewport(duo)
    found = problems(duo)
    shot(duo, name)
    assert found == [], "\n".join(found)


# --------------------------------------------------------------------------------------
def test_data_and_compare_gauss3d(dash_duo, dash_app):
    start(dash_duo, dash_app)
    viewport(dash_duo)
    load_example(dash_duo, "gauss3d", n=1000)
    dash_duo.wait_for_text_to_equal("#data-n-rows", "1000 rows", timeout=TIMEOUT)
    check_page(dash_duo, "data")
    dash_duo.find_element("#nav-compare").click()
    dash_duo.wait_for_contains_text("#cmp-a", "Group: xy", timeout=TIMEOUT)
    dash_duo.find_element("#cmp-extra input[value='features']").click()
    run(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-pairs-table", "each feature vs", timeout=TIMEOUT)
    # METHOD.md section 5: Delta(xy -> full) = 0.008404, Delta(full -> xy) = 0.004146
    assert dash_duo.find_element("#cmp-delta-ab").text.startswith("0.0084 ± ")
    assert dash_duo.find_element("#cmp-delta-ba").text.startswith("0.0041 ± ")
    dash_duo.wait_for_element(graph("plane"), timeout=TIMEOUT)
    check_page(dash_duo, "compare")
    assert dash_duo.get_logs() == []


def test_select_policy_panel(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "policy_panel")
    dash_duo.find_element("#nav-select").click()
    dash_duo.wait_for_contains_text("#sel-target", "Group: epidemic_state", timeout=TIMEOUT)
    set_number(dash_duo, "#sel-max-features", 8)
    set_number(dash_duo, "#sel-n-random", 5)
    run(dash_duo, "select")
    dash_duo.wait_for_text_to_equal("#sel-suggested", "d = 4", timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("selection-path"), timeout=TIMEOUT)
    check_page(dash_duo, "select")
    assert dash_duo.get_logs() == []


def test_lags_policy_panel(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "policy_panel")
    dash_duo.find_element("#nav-lags").click()
    dash_duo.wait_for_contains_text("#lag-target", "Group: epidemic_state", timeout=TIMEOUT)
    set_number(dash_duo, "#lag-sel-max", 5)
    run(dash_duo, "lags")
    dash_duo.wait_for_text_to_equal("#lag-best", "δ = 2", timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("lag-selection"), timeout=TIMEOUT)
    check_page(dash_duo, "lags")
    assert dash_duo.get_logs() == []


def test_causality_rossler(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "rossler")
    dash_duo.find_element("#nav-causality").click()
    dash_duo.wait_for_contains_text("#cau-effect", "Group: Y", timeout=TIMEOUT)
    set_number(dash_duo, "#cau-n-alpha", 21)
    run(dash_duo, "causality")
    dash_duo.wait_for_text_to_equal("#cau-verdict", "X drives Y", timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("causality"), timeout=TIMEOUT)
    check_page(dash_duo, "causality")
    assert dash_duo.get_logs() == []


def test_graph_logistic(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "logistic_graph")
    dash_duo.find_element("#nav-graph").click()
    dash_duo.wait_for_contains_text("#gra-time", "t", timeout=TIMEOUT)
    set_number(dash_duo, "#gra-n-alpha", 5)
    run(dash_duo, "graph")
    dash_duo.wait_for_text_to_equal("#gra-n-edges", "3", timeout=TIMEOUT)
    dash_duo.wait_for_element("#gra-tested .ag-row", timeout=TIMEOUT)
    check_page(dash_duo, "graph")
    assert dash_duo.get_logs() == []


def test_scales_and_matrix_gauss3d(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", n=500)
    dash_duo.find_element("#nav-scales").click()
    dash_duo.wait_for_contains_text("#scl-b", "Group: xy", timeout=TIMEOUT)
    run(dash_duo, "scales")
    dash_duo.wait_for_element("#scl-after", timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("weights-history"), timeout=TIMEOUT)
    # the weights with their standard errors, to the digits the error justifies
    dash_duo.wait_for_element("#scl-table .ag-row", timeout=TIMEOUT)
    header = [h.text for h in dash_duo.find_elements("#scl-table .ag-header-cell-text")]
    assert header == ["feature", "weight", "± se"]
    cells = {}
    for row in dash_duo.find_elements("#scl-table .ag-center-cols-container .ag-row"):
        name, weight, se = (c.text for c in row.find_elements("css selector", ".ag-cell"))
        cells[name] = (weight, se)
    for weight, se in cells.values():
        assert 0 < float(se) < 0.2 and len(weight.split(".")[1]) == len(se.split(".")[1])
    assert float(cells["z"][0]) < 0.05 < 0.9 < min(float(cells["x"][0]), float(cells["y"][0]))
    bars = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(t => t.textContent.trim())",
        """[id='{"fig":"weights","type":"graph"}'] .bartext""")
    assert len(bars) == 3 and all(" ± " in t for t in bars)
    check_page(dash_duo, "scales")
    dash_duo.find_element("#nav-matrix").click()
    run(dash_duo, "matrix")
    dash_duo.wait_for_element("#matrix-pairs-table .ag-row", timeout=TIMEOUT)
    dash_duo.wait_for_element(graph("heatmap"), timeout=TIMEOUT)
    check_page(dash_duo, "matrix")
    assert dash_duo.get_logs() == []
