"""Distance matrices in headless Chromium (dash_duo): upload a table and a matrix, compare the
matrix with a group, and the Δ matrix of several spaces. Ends with an empty console."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from infoimb.distances import DistanceMatrix, imbalance_matrix
from infoimb.imbalance import imbalance_pair

from test_browser_data_compare import TIMEOUT, click, goto, pick, pm, shot, start, upload

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]


def _data(tmp_path: Path):
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame(rng.normal(size=(n, 3)), columns=["x", "y", "z"])
    X = df[["x", "y"]].to_numpy() ** 3
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    table = tmp_path / "points.csv"
    df.to_csv(table, index=False)
    mat = tmp_path / "cubes.npy"
    np.save(mat, D)
    return df, D, table, mat


def test_upload_a_matrix_and_compare_it_with_a_group(dash_duo, dash_app, tmp_path):
    df, D, table, mat = _data(tmp_path)
    # the references first: numba running in this process while the server forks a job (the
    # server runs in this process) can leave the job's copy of numba's locks held
    ref = imbalance_pair(DistanceMatrix(D), df[["x"]].to_numpy())
    ref_m = imbalance_matrix({"cubes": DistanceMatrix(D), "x": df[["x"]].to_numpy(), "y": df[["y"]].to_numpy(),
                              "z": df[["z"]].to_numpy()})
    start(dash_duo, dash_app)
    upload(dash_duo, table)
    dash_duo.wait_for_contains_text("#data-message", "Loaded points.csv: 300 rows × 3 columns", timeout=TIMEOUT)
    # a bad matrix first: its message, nothing stored
    bad = tmp_path / "bad.npy"
    np.save(bad, D[:200, :200])
    dash_duo.find_element("#matrix-upload input[type=file]").send_keys(str(bad))
    dash_duo.wait_for_contains_text("#matrix-message", "the matrix is 200 x 200 but the table has 300 rows",
                                    timeout=TIMEOUT)
    dash_duo.find_element("#matrix-upload input[type=file]").send_keys(str(mat))
    dash_duo.wait_for_contains_text("#matrix-message", "Added the distance matrix “cubes”: 300 × 300",
                                    timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#matrix-list", "Distances: cubes", timeout=TIMEOUT)
    time.sleep(0.5)
    el = dash_duo.find_element("#matrix-message")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    shot(dash_duo, "data_matrices")

    goto(dash_duo, "compare")
    dash_duo.wait_for_contains_text("#cmp-hint", "points.csv: 300 points", timeout=TIMEOUT)
    pick(dash_duo, "#cmp-a", "Distances: cubes (300 × 300)")
    pick(dash_duo, "#cmp-b", "Feature: x")
    dash_duo.wait_for_element(pm("job-run") + ":not([disabled])", timeout=TIMEOUT)
    click(dash_duo, pm("job-run"))
    try:
        dash_duo.wait_for_text_to_equal("#cmp-relation", "A contains B", timeout=TIMEOUT)
    except Exception:
        shot(dash_duo, "compare_matrix_failed")
        raise AssertionError(dash_duo.find_element(pm("job-status")).text) from None
    assert ref.relation == "a_contains_b"
    assert dash_duo.find_element("#cmp-delta-ab").text.startswith(f"{ref.a_to_b:.4f} ± ")
    assert dash_duo.find_element("#cmp-delta-ba").text.startswith(f"{ref.b_to_a:.4f} ± ")
    time.sleep(0.5)
    shot(dash_duo, "compare_matrix", height=1300)

    goto(dash_duo, "matrix")
    dash_duo.wait_for_contains_text("#matrix-hint", "points.csv: 300 points", timeout=TIMEOUT)
    # chosen by default: the first spaces other than the full space (the matrix and x, y, z)
    dash_duo.wait_for_contains_text("#matrix-spaces", "4 selected", timeout=TIMEOUT)
    dash_duo.wait_for_element(pm("job-run", "matrix") + ":not([disabled])", timeout=TIMEOUT)
    click(dash_duo, pm("job-run", "matrix"))
    dash_duo.wait_for_contains_text("#matrix-pairs-table", "cubes", timeout=TIMEOUT)
    dash_duo.wait_for_element("""[id='{"fig":"heatmap","type":"graph"}'] .main-svg""", timeout=TIMEOUT)
    for a, b in (("cubes", "x"), ("cubes", "z"), ("y", "z")):
        dash_duo.wait_for_contains_text("#matrix-pairs-table", f"{round(ref_m.delta.loc[a, b], 4):g}",
                                        timeout=TIMEOUT)
    time.sleep(0.8)
    shot(dash_duo, "matrix", height=1400)
    assert dash_duo.get_logs() == []


def test_carbon_example_and_the_fps_baseline(dash_duo, dash_app):
    pytest.importorskip("dscribe")
    pytest.importorskip("skmatter")
    from selenium.webdriver.common.keys import Keys

    from test_browser_data_compare import load_example

    start(dash_duo, dash_app)
    load_example(dash_duo, "carbon", n=4)  # 4 structures: 164 environments (built once, then cached)
    dash_duo.wait_for_contains_text("#data-message", "Its feature groups were added: SOAP, energy, forces, "
                                                     "neighbour distances", timeout=120)
    goto(dash_duo, "select")
    dash_duo.wait_for_contains_text("#sel-target", "Group: energy", timeout=TIMEOUT)
    pick(dash_duo, "#sel-candidates", "Group: SOAP (324 columns)")
    box = dash_duo.find_element("#sel-max-features")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("4", Keys.TAB)
    click(dash_duo, "#sel-baselines input[value='fps']")
    dash_duo.wait_for_element(pm("job-run", "select") + ":not([disabled])", timeout=TIMEOUT)
    click(dash_duo, pm("job-run", "select"))
    dash_duo.wait_for_element("""[id='{"fig":"selection-curve","type":"graph"}'] .main-svg""", timeout=120)
    dash_duo.wait_for_contains_text("""[id='{"fig":"selection-curve","type":"graph"}']""", "FPS (scikit-matter)",
                                    timeout=TIMEOUT)
    time.sleep(0.8)
    shot(dash_duo, "select_carbon_fps", height=1200)
    assert dash_duo.get_logs() == []
