"""The command line on real-world tables: text columns, a metric per space, bad options."""

import json

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb.cli import main


@pytest.fixture
def trial(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    arm = rng.choice(["placebo", "low", "high"], n)
    df = pd.DataFrame({"arm": arm, "sex": rng.choice(["M", "F"], n),
                       "age": rng.integers(20, 80, n),
                       "response": pd.Series(arm).map({"placebo": 0, "low": 1, "high": 2})
                       + rng.normal(0, 0.5, n)})
    path = tmp_path / "trial.csv"
    df.to_csv(path, index=False)
    return path, pd.read_csv(path)


def test_pair_with_a_text_column(trial, capsys):
    path, df = trial
    assert main(["pair", str(path), "--a", "arm", "--b", "response", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = infoimb.imbalance_pair(df[["arm"]], df[["response"]])
    assert out["a_to_b"] == pytest.approx(want.a_to_b) and out["b_to_a"] == pytest.approx(want.b_to_a)
    assert (out["metric_a"], out["metric_b"], out["categorical"]) == ("categorical", "euclidean", ["arm"])
    assert main(["pair", str(path), "--a", "arm,age", "--b", "response"]) == 0
    text = capsys.readouterr().out
    assert "A = arm, age  [gower; categorical: arm]" in text and "B = response  [euclidean]" in text


def test_pair_metric_per_space_and_declared_categories(trial, capsys):
    path, df = trial
    assert main(["pair", str(path), "--a", "age", "--b", "response", "--metric-b", "manhattan",
                 "--categorical", "age", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = infoimb.imbalance_pair(df[["age"]], df[["response"]], metric=("categorical", "manhattan"),
                                  categorical=["age"])
    assert out["a_to_b"] == pytest.approx(want.a_to_b)
    assert (out["metric_a"], out["metric_b"]) == ("categorical", "manhattan")


def test_out_of_range_options_are_refused(trial, capsys):
    path, _ = trial
    assert main(["pair", str(path), "--a", "age", "--b", "response", "--k", "0"]) == 2
    assert "k must be at least 1, got 0" in capsys.readouterr().err
    assert main(["pair", str(path), "--a", "arm,age", "--b", "response", "--metric", "euclidean"]) == 2
    assert "['arm'] categorical and ['age'] numeric" in capsys.readouterr().err
    assert main(["select", str(path), "--target", "response", "--candidates", "arm,sex,age",
                 "--max-features", "9"]) == 2
    assert "max_features=9 is larger than the number of candidate features (3)" in capsys.readouterr().err


def test_select_with_text_candidates(trial, capsys):
    path, _ = trial
    assert main(["select", str(path), "--target", "response", "--candidates", "arm,sex,age",
                 "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metric"] == "gower" and out["steps"][0]["features"] == ["arm"]
