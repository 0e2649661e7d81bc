"""The Reproduce block in headless Chromium: Compare on an uploaded table shows the Python call
and the CLI command under the result, each with a copy button, and what it shows is what
:func:`infoimb.web.reproduce.reproduce` gives for the stored record."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_browser_data_compare import TIMEOUT, cookie_sid, goto, pm, run_compare, shot, start, upload

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]


def body_csv(path: Path) -> Path:
    rng = np.random.default_rng(7)
    n = 300
    height = rng.normal(170, 10, n).round(1)
    df = pd.DataFrame({"height": height, "weight": (0.9 * (height - 100) + rng.normal(0, 4, n)).round(1),
                       "age": rng.integers(20, 80, n)})
    df.to_csv(path, index=False)
    return path


def test_compare_shows_the_commands_that_reproduce_it(dash_duo, dash_app, tmp_path):
    from infoimb.web import ids, reproduce, runtime

    start(dash_duo, dash_app)
    upload(dash_duo, body_csv(tmp_path / "body.csv"))
    dash_duo.wait_for_contains_text("#nav-dataset", "body.csv", timeout=TIMEOUT)
    goto(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-a", "Feature: height", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#cmp-b", "Full space (3 features)", timeout=TIMEOUT)
    run_compare(dash_duo, "B contains A")
    cli_id, py_id = ids.repro_code("cli", "compare"), ids.repro_code("python", "compare")
    dash_duo.wait_for_contains_text(f"#{cli_id}", "infoimb pair body.csv", timeout=TIMEOUT)

    # what the block shows is reproduce.py's text for the record on display
    store = runtime.get_store()
    sid = cookie_sid(dash_duo, dash_app)
    meta = store.get_meta(sid)
    records = sorted((store._dir(sid) / "results" / meta["content_hash"] / "compare").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    r = reproduce.reproduce(record, meta)
    assert r.cli == ("infoimb pair body.csv --a height --b height,weight,age --metric euclidean --k 1 --seed 0 "
                     "--permutations 199 --drop-missing --json")
    assert dash_duo.find_element(f"#{cli_id}").text == r.cli
    assert dash_duo.find_element(f"#{py_id}").text.strip() == r.python.strip()
    block = dash_duo.find_element(pm(ids.REPRO_BLOCK))
    assert "the file you uploaded, unchanged" in block.text
    # a copy button for each
    for kind in ("python", "cli"):
        dash_duo.wait_for_element(f"#{ids.repro_copy(kind, 'compare')}", timeout=TIMEOUT)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", block)
    time.sleep(0.4)
    shot(dash_duo, "compare_reproduce")
    # the Δ on the page is the Δ the command gives (same record)
    shown = dash_duo.find_element("#cmp-delta-ab").text
    assert shown.startswith(f"{record['result']['main']['a_to_b']:.4f} ± ")
    assert dash_duo.get_logs() == []


def test_example_working_table_download_and_the_shown_command(dash_duo, dash_app):
    """An example: the block says the commands read the working table; the page's download gives
    that file under the name the command uses, and the command shown gives the Δ shown."""
    import os
    import shlex
    import subprocess
    import sys

    from infoimb.web import ids

    from test_browser_data_compare import click, load_example

    start(dash_duo, dash_app)
    load_example(dash_duo, "gauss3d", n=200)
    goto(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-a", "Group: xy", timeout=TIMEOUT)
    run_compare(dash_duo, "equivalent")
    cli_id = ids.repro_code("cli", "compare")
    dash_duo.wait_for_contains_text(f"#{cli_id}", "infoimb example gauss3d --n 200 --seed 0 -o ", timeout=TIMEOUT)
    block = dash_duo.find_element(pm(ids.REPRO_BLOCK)).text
    assert "the working table (the example as generated" in block
    lines = dash_duo.find_element(f"#{cli_id}").text.splitlines()
    assert len(lines) == 2 and lines[1].startswith("infoimb pair gauss3d_working_")
    table = shlex.split(lines[0])[-1]
    assert f"They read {table}" in block

    el = dash_duo.find_element(pm(ids.REPRO_BLOCK))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", el)
    time.sleep(0.4)
    shot(dash_duo, "compare_reproduce_example")
    click(dash_duo, pm(ids.REPRO_TABLE))
    target = Path(dash_duo.download_path)
    for _ in range(100):
        if (target / table).exists() and not list(target.glob("*.crdownload")):
            break
        time.sleep(0.1)
    assert (target / table).exists(), sorted(p.name for p in target.iterdir())
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-m", "infoimb", *shlex.split(lines[1])[1:]], cwd=target, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert dash_duo.find_element("#cmp-delta-ab").text.startswith(f"{out['a_to_b']:.4f} ± ")
    assert dash_duo.find_element("#cmp-delta-ba").text.startswith(f"{out['b_to_a']:.4f} ± ")
    assert dash_duo.get_logs() == []
