"""A typed field in headless Chromium: a number outside its limits reaches the server as typed
and is refused there with the field's message on the page (the box has no min/max, which a
browser would turn into an empty value and so into the default)."""

from __future__ import annotations

import pytest

from test_browser_analyses import TIMEOUT, goto, load_example, pm, set_number, start

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]


def test_an_out_of_range_number_is_refused_with_its_message(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", 200)
    goto(dash_duo, "scales")
    results = pm("job-results", "scales")
    dash_duo.wait_for_contains_text(results, "press Optimise", timeout=TIMEOUT)
    set_number(dash_duo, "#scl-n-iter", 6000)
    dash_duo.wait_for_text_to_equal(results, "Iterations must be between 1 and 5000, got 6000.", timeout=TIMEOUT)
    assert dash_duo.find_element("#scl-n-iter").get_attribute("value") == "6000"  # kept as typed
    set_number(dash_duo, "#scl-n-iter", 50)
    dash_duo.wait_for_contains_text(results, "press Optimise", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []
