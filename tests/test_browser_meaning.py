"""Issue 9 §5 in headless Chromium at 1280 × 800: every page shows its "How to read this" and
the help text of each of its controls, no control label is cut (a label's text wider than its
box, or a select's chosen text wider than the select), and a result's numbers carry their
explanations as tooltips."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from infoimb.web import glossary
from infoimb.web.analyses import ANALYSES
from test_browser_analyses import TIMEOUT, goto, load_example, pm, run, set_number, shot, start

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

#: the visible labels, help texts, selects and empty boxes' placeholders of the page whose text does
#: not fit its box (or runs past its card): "TAG.class: text"
OVERFLOW_JS = """
const out = [];
const ctx = document.createElement('canvas').getContext('2d');
const sel = 'label, .input-group-text, .form-check-label, .form-label, .dash-dropdown-value, select, ' +
            '.field-help, summary, .btn, .fw-semibold, input.form-control';
for (const el of document.querySelectorAll(sel)) {
  if (el.offsetParent === null) continue;
  const cs = getComputedStyle(el);
  let text = el.textContent;
  let bad = el.scrollWidth > el.clientWidth + 1;
  if (el.classList.contains('dash-dropdown-value') && el.parentElement.querySelector('[id$="-value-count"]')) {
    continue;  // a multi-select: one line of its values and "n selected"; opened, it lists them all
  }
  if (el.tagName === 'INPUT') {
    if (el.value || !el.placeholder) continue;
    text = el.placeholder;
    ctx.font = cs.font;
    bad = ctx.measureText(text).width > el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) + 1;
  }
  if (el.tagName === 'SELECT') {
    if (el.selectedIndex < 0) continue;
    text = el.options[el.selectedIndex].text;
    ctx.font = cs.font;
    const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    bad = ctx.measureText(text).width > room + 1;
  }
  const card = el.closest('.card');
  if (card && el.getBoundingClientRect().right > card.getBoundingClientRect().right + 1) bad = true;
  if (bad) out.push(el.tagName + '.' + el.className + ': ' + text.slice(0, 60));
}
return out;
"""


def overflowing(duo) -> list[str]:
    return duo.driver.execute_script(OVERFLOW_JS)


def help_texts(duo) -> list[str]:
    return [e.get_attribute("textContent") for e in duo.find_elements(".field-help")]


def test_every_page_explains_its_controls_and_cuts_no_label(dash_duo, dash_app):
    start(dash_duo, dash_app)
    assert dash_duo.driver.execute_script("return window.innerWidth") == 1280
    load_example(dash_duo, "policy_panel")
    shown = help_texts(dash_duo)
    for text in glossary.DATA_HELP.values():
        assert text in shown
    assert overflowing(dash_duo) == []
    shot(dash_duo, "meaning-data")
    for name, analysis in ANALYSES.items():
        goto(dash_duo, name)
        block = dash_duo.wait_for_element(pm("how-to-read", name), timeout=TIMEOUT)
        assert block.get_attribute("textContent") == "How to read this" + glossary.how_to_read(analysis)
        assert block.text == "How to read this"  # collapsed until opened
        # the settings sync has filled the page's controls from the example's roles (and its hint)
        if analysis.hint is not None:
            dash_duo.wait_for_contains_text(f"#{analysis.hint_id}", "policy_panel", timeout=TIMEOUT)
        else:
            dash_duo.wait_for_element(f"#{analysis.fields[0].id} .dash-dropdown-value:not(.dash-dropdown-placeholder)",
                                      timeout=TIMEOUT)
        time.sleep(0.5)
        shown = help_texts(dash_duo)
        missing = [f.name for f in analysis.fields if f.help not in shown]
        assert missing == [], (name, missing)
        assert overflowing(dash_duo) == [], name
        shot(dash_duo, f"meaning-{name}")
    assert dash_duo.get_logs() == []


def test_a_result_explains_its_numbers(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", 300)
    goto(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-a", "Group: xy", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#cmp-b", "Full space", timeout=TIMEOUT)
    set_number(dash_duo, "#cmp-permutations", 99)
    run(dash_duo, "compare")
    dash_duo.wait_for_element("#cmp-delta-ab", timeout=TIMEOUT)
    # xy contains the full space's neighbourhoods (z is thin): both directions near 0
    a_to_b = float(dash_duo.find_element("#cmp-delta-ab").text.split(" ")[0])
    b_to_a = float(dash_duo.find_element("#cmp-delta-ba").text.split(" ")[0])
    assert 0 < a_to_b < 0.05 and 0 < b_to_a < 0.05
    assert dash_duo.find_element("#cmp-relation").text == "equivalent"
    # the number's tooltip: what Δ(A → B) is
    ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element("#cmp-delta-ab")).perform()
    dash_duo.wait_for_text_to_equal(".tooltip-inner", glossary.TERMS["Δ(A → B)"], timeout=TIMEOUT)
    ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element("#cmp-relation")).perform()
    dash_duo.wait_for_text_to_equal(".tooltip-inner", glossary.TERMS["relation"], timeout=TIMEOUT)
    # the list of terms under the results, opened
    terms = dash_duo.find_element(pm("terms", "compare"))
    assert terms.text == "What the numbers mean"
    terms.find_element("css selector", "summary").click()
    dash_duo.wait_for_contains_text(pm("terms", "compare"), glossary.TERMS["equivalent"], timeout=TIMEOUT)
    # "How to read this", opened
    block = dash_duo.find_element(pm("how-to-read", "compare"))
    block.find_element("css selector", "summary").click()
    dash_duo.wait_for_contains_text(pm("how-to-read", "compare"), "Quote both Δ with their ±", timeout=TIMEOUT)
    assert overflowing(dash_duo) == []
    shot(dash_duo, "meaning-compare-result")
    assert dash_duo.get_logs() == []
