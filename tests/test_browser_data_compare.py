"""The dashboard in headless Chromium (dash_duo): Data and Compare pages end to end.

Every test ends with an empty browser console. Screenshots of each page go to
a scratch folder (``INFOIMB_SCREENSHOT_DIR``; ``make screenshots`` refreshes docs/screenshots/).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

ROOT = Path(__file__).resolve().parents[1]
# a scratch folder (conftest points INFOIMB_CACHE_DIR at one); `make screenshots` for docs/
SHOTS = Path(os.environ.get("INFOIMB_SCREENSHOT_DIR") or Path(os.environ["INFOIMB_CACHE_DIR"]) / "screenshots")
TIMEOUT = 60


def pm(kind: str, analysis: str = "compare") -> str:
    """CSS selector of a pattern-matching id of the analysis machinery."""
    return f"""[id='{{"analysis":"{analysis}","type":"{kind}"}}']"""


def graph(name: str) -> str:
    return f"""[id='{{"fig":"{name}","type":"graph"}}'] .main-svg"""


def shot(duo, name: str, height: int | None = None) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = duo.driver
    if height:
        driver.set_window_size(1280, height)
        time.sleep(0.3)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    if height:
        driver.set_window_size(1280, 800)


def cookie_sid(duo, app) -> str:
    """The session id in the browser's (signed, HttpOnly) session cookie."""
    cookie = duo.driver.get_cookie("infoimb_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax", cookie
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    return serializer.loads(cookie["value"])["sid"]


def start(duo, app) -> None:
    duo.start_server(app)
    duo.wait_for_element("#example-load", timeout=TIMEOUT)
    duo.wait_for_text_to_equal("#nav-dataset", "no data loaded", timeout=TIMEOUT)


def load_example(duo, name: str = "gauss3d", n: int | None = None) -> None:
    if name != "gauss3d":
        duo.driver.execute_script(
            "const s = document.getElementById('example-select'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('change', {bubbles: true}));", name)
        duo.wait_for_contains_text("#example-description", "", timeout=TIMEOUT)
        time.sleep(0.3)
    if n is not None:
        box = duo.find_element("#example-n")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(n), Keys.TAB)
    duo.find_element("#example-load").click()
    duo.wait_for_contains_text("#nav-dataset", f"example: {name}", timeout=TIMEOUT)


def upload(duo, path: Path) -> None:
    duo.find_element("#upload input[type=file]").send_keys(str(path))


def click(duo, selector: str) -> None:
    """Scroll an element to the middle of the window, then click it."""
    el = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()


def goto(duo, page: str) -> None:
    duo.find_element(f"#nav-{page}").click()


def run_compare(duo, relation: str) -> None:
    duo.wait_for_element(pm("job-run") + ":not([disabled])", timeout=TIMEOUT)
    click(duo, pm("job-run"))
    duo.wait_for_text_to_equal("#cmp-relation", relation, timeout=TIMEOUT)
    duo.wait_for_element(graph("plane"), timeout=TIMEOUT)
    duo.wait_for_element(graph("conditional"), timeout=TIMEOUT)


def pick(duo, dropdown: str, label: str) -> None:
    duo.select_dcc_dropdown(dropdown, value=label)
    duo.wait_for_contains_text(dropdown, label, timeout=TIMEOUT)
    ActionChains(duo.driver).send_keys(Keys.ESCAPE).perform()  # close the menu if still open
    duo.wait_for_no_elements(".dash-dropdown-content", timeout=TIMEOUT)


def sinusoid_csv(path: Path, n: int = 1000, extra_name: str | None = None) -> Path:
    rng = np.random.default_rng(0)
    x1 = rng.uniform(0, 1, n)
    x2 = 5 * np.sin(25 * x1) + rng.normal(0, 0.5, n)
    df = pd.DataFrame({"x1": x1, "x2": x2})
    if extra_name:
        df[extra_name] = rng.normal(size=n)
    df.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------------------
def test_example_gives_the_expected_relations_on_the_plane(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo)  # gauss3d, 1000 points, its groups added
    dash_duo.wait_for_text_to_equal("#data-n-rows", "1000 rows", timeout=TIMEOUT)
    dash_duo.wait_for_element("input[id='{\"index\":1,\"type\":\"group-name\"}']", timeout=TIMEOUT)
    shot(dash_duo, "data", height=1400)

    goto(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-a", "Group: xy", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#cmp-b", "Full space (3 features)", timeout=TIMEOUT)
    run_compare(dash_duo, "equivalent")
    # METHOD.md section 5: Delta(xy -> full) = 0.008404, Delta(full -> xy) = 0.004146
    assert dash_duo.find_element("#cmp-delta-ab").text.startswith("0.0084 ± ")
    assert dash_duo.find_element("#cmp-delta-ba").text.startswith("0.0041 ± ")

    pick(dash_duo, "#cmp-a", "Group: x (1 column)")
    click(dash_duo, "#cmp-extra input[value='features']")
    run_compare(dash_duo, "B contains A")
    assert dash_duo.find_element("#cmp-delta-ab").text.startswith("0.5482 ± ")
    assert dash_duo.find_element("#cmp-delta-ba").text.startswith("0.0637 ± ")
    dash_duo.wait_for_contains_text("#cmp-pairs-table", "each feature vs full space", timeout=TIMEOUT)
    time.sleep(0.5)
    shot(dash_duo, "compare", height=1500)

    # back to the Data page and again to Compare: the result is shown from the memo at once
    goto(dash_duo, "data")
    dash_duo.wait_for_text_to_equal("#data-n-rows", "1000 rows", timeout=TIMEOUT)
    goto(dash_duo, "compare")
    dash_duo.wait_for_text_to_equal("#cmp-relation", "B contains A", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(pm("job-status"), "From the memo", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_progress_bar_and_cancel(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "descriptors", n=1000)
    goto(dash_duo, "compare")
    pick(dash_duo, "#cmp-a", "Group: energy (1 column)")
    dash_duo.wait_for_contains_text("#cmp-b", "Full space (241 features)", timeout=TIMEOUT)
    click(dash_duo, "#cmp-extra input[value='features']")  # 242 pairs: a long job
    click(dash_duo, pm("job-run"))
    # a real progress bar: a fraction of the pairs, with its label; Run is disabled meanwhile
    dash_duo.wait_for_contains_text(pm("job-progress-bar"), "pair", timeout=TIMEOUT)
    assert dash_duo.find_element(pm("job-run")).get_attribute("disabled") == "true"
    bar = dash_duo.find_element(pm("job-progress-bar") + " .progress-bar")
    assert 0 < float(bar.get_attribute("aria-valuenow")) < 100
    shot(dash_duo, "compare_running")
    dash_duo.find_element(pm("job-cancel")).click()
    dash_duo.wait_for_contains_text(pm("job-status"), "Cancelled: the job was stopped", timeout=TIMEOUT)
    dash_duo.wait_for_element(pm("job-run") + ":not([disabled])", timeout=TIMEOUT)
    dash_duo.wait_for_style_to_equal(pm("job-progress-wrap"), "display", "none", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_upload_a_csv_compare_and_download(dash_duo, dash_app, tmp_path):
    start(dash_duo, dash_app)
    upload(dash_duo, sinusoid_csv(tmp_path / "sine.csv"))
    dash_duo.wait_for_contains_text("#data-message", "Loaded sine.csv: 1000 rows × 2 columns", timeout=TIMEOUT)
    goto(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-hint", "sine.csv: 1000 points", timeout=TIMEOUT)
    pick(dash_duo, "#cmp-a", "Feature: x1")
    pick(dash_duo, "#cmp-b", "Feature: x2")
    run_compare(dash_duo, "A contains B")
    ab = float(dash_duo.find_element("#cmp-delta-ab").text.split(" ")[0])
    ba = float(dash_duo.find_element("#cmp-delta-ba").text.split(" ")[0])
    assert 0.1 < ab < 0.3 and ba > 0.85  # METHOD.md: about 0.20 and 0.96

    click(dash_duo, pm("job-download-csv"))
    target = Path(dash_duo.download_path)
    for _ in range(100):
        files = list(target.glob("infoimb_compare_*.csv"))
        if files and not list(target.glob("*.crdownload")):
            break
        time.sleep(0.1)
    text = files[0].read_text()
    assert text.startswith("# infoimb") and "# dataset: sine.csv (1000 rows" in text
    table = pd.read_csv(files[0], comment="#")
    assert table.loc[0, "relation"] == "a_contains_b"
    assert table.loc[0, "delta_a_to_b"] == pytest.approx(ab, abs=1e-4)

    # each figure as SVG (and PNG) from the buttons under it
    click(dash_duo, "[id='{\"fig\":\"plane\",\"fmt\":\"svg\",\"type\":\"fig-download\"}']")
    for _ in range(100):
        svg = target / "infoimb_plane.svg"
        if svg.exists() and svg.stat().st_size > 0:
            break
        time.sleep(0.1)
    text = svg.read_text()
    assert text.startswith("<svg") and "Information imbalance plane" in text and "sine.csv" in text
    assert dash_duo.get_logs() == []


def test_bad_uploads_show_messages_then_a_good_one_loads(dash_duo, dash_app, tmp_path):
    start(dash_duo, dash_app)
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    upload(dash_duo, binary)
    dash_duo.wait_for_contains_text("#data-message", "image.csv is not a text table: its content is a PNG image",
                                    timeout=TIMEOUT)
    wrong = tmp_path / "table.json"
    wrong.write_text('{"a": [1, 2, 3]}')
    upload(dash_duo, wrong)
    dash_duo.wait_for_contains_text("#data-message", "table.json: unsupported file type ('.json')", timeout=TIMEOUT)
    header = tmp_path / "header.csv"
    header.write_text("x,y\n")
    upload(dash_duo, header)
    dash_duo.wait_for_contains_text("#data-message", "header.csv has a header row but no data rows", timeout=TIMEOUT)
    big = tmp_path / "big.csv"
    big.write_text("x\n" + "1.0\n" * 300_000)  # 1.1 MB; the test limit is 1 MB
    upload(dash_duo, big)
    dash_duo.wait_for_contains_text("#data-message", "big.csv is 1.1 MB; the upload limit is 1 MB", timeout=TIMEOUT)
    assert "no data loaded" in dash_duo.find_element("#nav-dataset").text
    shot(dash_duo, "data_bad_upload")

    evil = "<img src=x onerror=alert(1)>"
    upload(dash_duo, sinusoid_csv(tmp_path / "good.csv", n=200, extra_name=evil))
    dash_duo.wait_for_contains_text("#data-message", "Loaded good.csv: 200 rows × 3 columns", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#data-columns", evil, timeout=TIMEOUT)  # shown as text
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "#data-columns img") == []
    assert dash_duo.get_logs() == []


def test_reload_keeps_groups_and_data(dash_duo, dash_app):
    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", n=300)
    dash_duo.wait_for_text_to_equal("#data-n-rows", "300 rows", timeout=TIMEOUT)
    click(dash_duo, "#group-add")
    name = dash_duo.wait_for_element("input[id='{\"index\":5,\"type\":\"group-name\"}']", timeout=TIMEOUT)
    name.send_keys(Keys.CONTROL, "a")
    name.send_keys("my pair", Keys.ENTER)
    cols = "[id='{\"index\":5,\"type\":\"group-columns\"}']"
    pick(dash_duo, cols, "x")
    pick(dash_duo, cols, "z")
    click(dash_duo, "#group-add")  # leaves the dropdown; saved meanwhile
    dash_duo.wait_for_element("input[id='{\"index\":6,\"type\":\"group-name\"}']", timeout=TIMEOUT)
    time.sleep(0.5)

    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#nav-dataset", "example: gauss3d · 300 rows", timeout=TIMEOUT)
    renamed = dash_duo.wait_for_element("input[id='{\"index\":5,\"type\":\"group-name\"}']", timeout=TIMEOUT)
    assert renamed.get_attribute("value") == "my pair"
    dash_duo.wait_for_contains_text(cols, "x", timeout=TIMEOUT)
    assert "z" in dash_duo.find_element(cols).text
    shot(dash_duo, "data_groups", height=1300)
    goto(dash_duo, "compare")
    pick(dash_duo, "#cmp-a", "Group: my pair (2 columns)")
    assert dash_duo.get_logs() == []


def test_two_sessions_with_identical_inputs_are_isolated(dash_duo, dash_app, tmp_path, cache_dir):
    from dash.testing.browser import Browser

    from tests.conftest import chrome_options

    csv = sinusoid_csv(tmp_path / "same.csv", n=400)
    start(dash_duo, dash_app)
    with Browser(browser="chrome", headless=True, options=chrome_options(),
                 download_path=str(tmp_path / "dl2"), percy_finalize=False) as other:
        other.server_url = dash_duo.server_url
        other.wait_for_element("#example-load", timeout=TIMEOUT)
        for b in (dash_duo, other):
            upload(b, csv)
        for b in (dash_duo, other):
            b.wait_for_contains_text("#data-message", "Loaded same.csv", timeout=TIMEOUT)
            goto(b, "compare")
            pick(b, "#cmp-a", "Feature: x1")
            pick(b, "#cmp-b", "Feature: x2")
        for b in (dash_duo, other):  # identical inputs, clicked together
            b.find_element(pm("job-run")).click()
        for b in (dash_duo, other):
            b.wait_for_text_to_equal("#cmp-relation", "A contains B", timeout=TIMEOUT)
        sids = [cookie_sid(b, dash_app) for b in (dash_duo, other)]
        assert sids[0] != sids[1]
        # the session is an HttpOnly cookie: no script on the page can read it
        for b in (dash_duo, other):
            assert "infoimb_session" not in b.driver.execute_script("return document.cookie")
            assert b.driver.execute_script("return JSON.stringify(window.localStorage)").find(sids[0]) < 0
        # each session holds its own data and results, in its own folder only
        for sid in sids:
            folder = cache_dir / "sessions" / sid
            assert len(list((folder / "data").glob("*.parquet"))) == 1
            assert len(list(folder.glob("results/*/compare/*.json"))) == 1
        # one browser loads something else: the other still sees its own table
        goto(dash_duo, "data")
        load_example(dash_duo, "gauss3d", n=100)
        other.driver.refresh()
        other.wait_for_contains_text("#nav-dataset", "same.csv · 400 rows", timeout=TIMEOUT)
        # a forged session cookie is no session: a fresh one, empty, not somebody's data
        other.driver.delete_cookie("infoimb_session")
        other.driver.add_cookie({"name": "infoimb_session", "value": '{"sid": "%s"}' % sids[0]})
        other.driver.refresh()
        other.wait_for_text_to_equal("#nav-dataset", "no data loaded", timeout=TIMEOUT)
        new_sid = cookie_sid(other, dash_app)
        assert new_sid not in sids
        assert not os.path.exists(cache_dir / "sessions" / new_sid)  # it stored nothing yet
        assert other.get_logs() == []
    assert dash_duo.get_logs() == []
