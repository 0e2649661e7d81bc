"""The scaling in force and the spread warning in headless Chromium (dash_duo).

A clinical table whose features come in their own units (cholesterol in mg/dL, creatinine in
mg/dL, height in cm, ...; sex as text) is uploaded: it starts with z-score (the default for an
uploaded table). Set to "none" on the Data page, the full feature space mixes spreads of
38 and 0.2: the Data page and the Compare page warn, naming both columns; one click on the
warning switches to z-score, the line says so, the warning is gone and the result is recomputed
(the numbers of the engine on the z-scored table).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from infoimb import imbalance_pair
from infoimb.web.context import prepare_frame
from test_browser_data_compare import TIMEOUT, click, goto, pm, shot, start, upload

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("kill_jobs")]

FEATURES = ["age", "height_cm", "weight_kg", "bmi", "sbp_mmHg", "cholesterol_mg_dl", "creatinine_mg_dl"]


def clinical_csv(path: Path, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    sex = rng.choice(["M", "F"], n)
    male = sex == "M"
    age = rng.uniform(20, 85, n).round()
    height = np.where(male, 176.0, 163.0) + rng.normal(0, 7, n)
    bmi = 26 + 0.04 * (age - 50) + rng.normal(0, 4, n)
    df = pd.DataFrame({
        "age": age, "sex": sex, "height_cm": height.round(1), "weight_kg": (bmi * (height / 100) ** 2).round(1),
        "bmi": bmi.round(1), "sbp_mmHg": (105 + 0.5 * age + rng.normal(0, 12, n)).round(),
        "cholesterol_mg_dl": (150 + 0.8 * age + rng.normal(0, 35, n)).round(),
        "creatinine_mg_dl": (np.where(male, 1.0, 0.8) + 0.004 * (age - 50) + rng.normal(0, 0.15, n)).round(2),
    })
    df.to_csv(path, index=False)
    return pd.read_csv(path)


def gone(duo, selector: str) -> None:
    """Wait until no element matches ``selector`` (dash_duo's own wait quotes the selector in
    JavaScript, which a pattern-matching id's quotes break)."""
    for _ in range(TIMEOUT * 10):
        if not duo.driver.find_elements(By.CSS_SELECTOR, selector):
            return
        time.sleep(0.1)
    raise AssertionError(f"{selector} is still shown: {duo.find_element(selector).text}")


def shot_top(duo, name: str, selector: str | None = None) -> None:
    """A screenshot at 1280 x 800 from the top of the page (or with ``selector`` in view)."""
    if selector:
        duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", duo.find_element(selector))
    else:
        duo.driver.execute_script("window.scrollTo(0, 0);")
    time.sleep(0.5)
    shot(duo, name)


def test_spread_warning_and_the_one_click_fix(dash_duo, dash_app, tmp_path):
    df = clinical_csv(tmp_path / "clinical.csv")
    # the references first (numba in this process before the server forks a job)
    ref = {}
    for scaling in ("none", "zscore"):
        frame, _ = prepare_frame(df, FEATURES, scaling)
        ref[scaling] = imbalance_pair(frame[["age"]].to_numpy(), frame[FEATURES].to_numpy())
    sd = df[["cholesterol_mg_dl", "creatinine_mg_dl"]].std(ddof=0)
    assert ref["none"].b_to_a != pytest.approx(ref["zscore"].b_to_a, abs=1e-3)  # the units matter here

    start(dash_duo, dash_app)
    upload(dash_duo, tmp_path / "clinical.csv")
    dash_duo.wait_for_contains_text("#data-message", "Loaded clinical.csv: 200 rows × 8 columns", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#data-message", "Scaling: z-score (the default for an uploaded table",
                                    timeout=TIMEOUT)
    dash_duo.wait_for_element("#role-scaling input[value='zscore']:checked", timeout=TIMEOUT)

    # the user asks for no scaling: the Data page warns about the full feature space
    click(dash_duo, "#role-scaling input[value='none']")
    data_warning = pm("scaling-warning", "data")
    dash_duo.wait_for_contains_text(data_warning, "The full feature space mixes features whose spreads differ by",
                                    timeout=TIMEOUT)
    text = dash_duo.find_element(data_warning).text
    assert f"cholesterol_mg_dl has a standard deviation of {sd['cholesterol_mg_dl']:.3g}" in text
    assert f"creatinine_mg_dl of {sd['creatinine_mg_dl']:.3g} (unscaled)" in text
    shot_top(dash_duo, "data_scaling_warning", data_warning)
    assert "sex" not in text  # a text column is categorical: not part of the check

    goto(dash_duo, "compare")
    line = pm("scaling-line")
    dash_duo.wait_for_text_to_equal(line, "Scaling: none (set on the Data page)", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#cmp-a", "Feature: age", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#cmp-b", "Full space (7 features)", timeout=TIMEOUT)
    warning = pm("scaling-warning")
    dash_duo.wait_for_contains_text(warning, "Space B (full space) mixes features whose spreads differ by",
                                    timeout=TIMEOUT)
    text = dash_duo.find_element(warning).text
    ratio = sd["cholesterol_mg_dl"] / sd["creatinine_mg_dl"]
    assert f"differ by {ratio:.3g}×: cholesterol_mg_dl" in text and "creatinine_mg_dl" in text

    dash_duo.wait_for_element(pm("job-run") + ":not([disabled])", timeout=TIMEOUT)
    click(dash_duo, pm("job-run"))
    dash_duo.wait_for_contains_text("#cmp-delta-ba", f"{ref['none'].b_to_a:.4f} ± ", timeout=TIMEOUT)
    shot_top(dash_duo, "compare_scaling_warning")

    # one click: z-score, the line says so, the warning is gone, the result is recomputed
    click(dash_duo, pm("scaling-fix"))
    dash_duo.wait_for_text_to_equal(line, "Scaling: z-score (set on the Data page)", timeout=TIMEOUT)
    gone(dash_duo, warning)
    dash_duo.wait_for_contains_text("#cmp-delta-ba", f"{ref['zscore'].b_to_a:.4f} ± ", timeout=TIMEOUT)
    assert dash_duo.find_element("#cmp-delta-ab").text.startswith(f"{ref['zscore'].a_to_b:.4f} ± ")
    dash_duo.wait_for_contains_text(pm("job-status"), "Done in", timeout=TIMEOUT)
    shot_top(dash_duo, "compare_scaling_fixed")

    # every analysis page says which scaling its inputs go through
    for page in ("select", "lags", "causality", "scales", "matrix"):
        goto(dash_duo, page)
        dash_duo.wait_for_text_to_equal(pm("scaling-line", page), "Scaling: z-score (set on the Data page)",
                                        timeout=TIMEOUT)
    goto(dash_duo, "graph")
    dash_duo.wait_for_text_to_equal(pm("scaling-line", "graph"), "Scaling: z-score, always (the causal graph "
                                    "standardises each column itself)", timeout=TIMEOUT)
    shot_top(dash_duo, "graph_scaling_line")

    # the Data page's control follows, and its warning is gone too
    goto(dash_duo, "data")
    dash_duo.wait_for_element("#role-scaling input[value='zscore']:checked", timeout=TIMEOUT)
    gone(dash_duo, data_warning)

    # the choice is remembered for this table: back to none, another table, this one again
    click(dash_duo, "#role-scaling input[value='none']")
    dash_duo.wait_for_contains_text(data_warning, "The full feature space mixes", timeout=TIMEOUT)
    other = tmp_path / "other.csv"
    df[["age", "bmi"]].iloc[:50].to_csv(other, index=False)
    upload(dash_duo, other)
    dash_duo.wait_for_contains_text("#data-message", "Scaling: z-score (the default for an uploaded table",
                                    timeout=TIMEOUT)
    dash_duo.wait_for_element("#role-scaling input[value='zscore']:checked", timeout=TIMEOUT)
    upload(dash_duo, tmp_path / "clinical.csv")
    dash_duo.wait_for_contains_text("#data-message", "Scaling: none (as you set it for this table before",
                                    timeout=TIMEOUT)
    dash_duo.wait_for_element("#role-scaling input[value='none']:checked", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []
