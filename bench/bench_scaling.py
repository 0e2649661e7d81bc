"""Units and the information imbalance: a clinical table, unscaled and scaled.

Generates a clinical table of N patients (id, age in years, sex M/F, height in cm, weight in
kg, BMI, systolic blood pressure in mmHg; 2 % of the cells of height, weight and blood pressure
missing), and prints Δ(body → full) and Δ(full → body) (body = height, weight, BMI; full = the
numeric features age, height, weight, BMI, systolic BP; exact estimator, k = 1, rows with a
missing value dropped) under each scaling of the dashboard, with the spreads of the features
after that scaling and whether the dashboard's 10× spread warning fires. The numbers are exact
(deterministic), not timings::

    PYTHONPATH=$PWD python bench/bench_scaling.py [N]      # N = 300 by default

The README's scaling paragraph quotes this table.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from infoimb import imbalance_pair
from infoimb.web.context import SCALINGS, prepare_frame
from infoimb.web.scaling import SPREAD_LIMIT, spread_check

BODY = ["height_cm", "weight_kg", "bmi"]
FULL = ["age", "height_cm", "weight_kg", "bmi", "sbp_mmHg"]


def clinical_table(n: int = 300, *, random_state: int = 0, missing: float = 0.02) -> pd.DataFrame:
    """A synthetic clinical table: one row per patient, features in their own units."""
    rng = np.random.default_rng(random_state)
    sex = rng.choice(["M", "F"], n)
    male = sex == "M"
    age = rng.uniform(20, 85, n).round()
    height = np.where(male, 176.0, 163.0) + rng.normal(0, 7, n)
    bmi = 26 + 0.04 * (age - 50) + rng.normal(0, 4, n)
    weight = bmi * (height / 100) ** 2
    sbp = 105 + 0.5 * age + 0.8 * (bmi - 26) + rng.normal(0, 12, n)
    df = pd.DataFrame({"id": np.arange(1, n + 1), "age": age, "sex": sex, "height_cm": height.round(1),
                       "weight_kg": weight.round(1), "bmi": bmi.round(1), "sbp_mmHg": sbp.round()})
    for c in ("height_cm", "weight_kg", "sbp_mmHg"):
        df.loc[rng.random(n) < missing, c] = np.nan
    return df


def main(n: int = 300) -> None:
    df = clinical_table(n)
    print(f"clinical table: N = {n} rows, body = {BODY}, full = {FULL}; exact, k = 1")
    print(f"{'scaling':<14} {'rows':>5} {'Δ(body→full)':>13} {'Δ(full→body)':>13}  {'spread ratio':>12}  "
          f"warn (>{SPREAD_LIMIT:g}×)")
    for scaling in SCALINGS:
        frame, _ = prepare_frame(df, FULL, scaling)
        r = imbalance_pair(frame[BODY].to_numpy(), frame[FULL].to_numpy(), metric="euclidean")
        check = spread_check(df, FULL, scaling)
        print(f"{scaling:<14} {frame.shape[0]:>5} {r.a_to_b:>13.3f} {r.b_to_a:>13.3f}  {check.ratio:>12.2f}  "
              f"{check.warn}  (widest {check.widest}, narrowest {check.narrowest})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
