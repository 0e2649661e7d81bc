"""The command line's significance options: --permutations, --groups, --theiler, --splits."""

import json

import numpy as np
import pandas as pd
import pytest

from infoimb import datasets as D
from infoimb.cli import main


@pytest.fixture(scope="module")
def gauss_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("sig") / "g.csv"
    D.gauss3d(200).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def panel_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    frames = []
    for e in range(6):
        x = rng.normal(size=25)
        y = np.r_[rng.normal(size=1), x[:-1]] + 0.1 * rng.normal(size=25)
        frames.append(pd.DataFrame({"id": f"e{e}", "t": np.arange(25), "x": x, "y": y}))
    path = tmp_path_factory.mktemp("sig") / "panel.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_pair_permutations_text_json_csv(gauss_csv, capsys, tmp_path):
    args = ["pair", str(gauss_csv), "--a", "x,y,z", "--b", "x", "--permutations", "99", "--seed", "0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "p = 0.01" in out and "95% CI" in out and "relation: a_contains_b" in out
    assert main([*args, "--json"]) == 0
    d = _json(capsys)
    assert d["p_a_to_b"] == pytest.approx(0.01) and d["null"] == "rows"
    assert len(d["a_to_b_ci"]) == 2 and d["difference_ci"][1] < 0
    out_csv = tmp_path / "pair.csv"
    assert main([*args, "--csv", "-o", str(out_csv)]) == 0
    row = pd.read_csv(out_csv).iloc[0]
    assert row["p_a_to_b"] == pytest.approx(0.01) and row["difference_ci_high"] < 0
    # without permutations the text says there was no test
    assert main(["pair", str(gauss_csv), "--a", "x", "--b", "y"]) == 0
    assert "no significance test" in capsys.readouterr().out


def test_pair_groups_and_theiler(panel_csv, capsys):
    assert main(["pair", str(panel_csv), "--a", "x", "--b", "y", "--groups", "id",
                 "--permutations", "19", "--seed", "0", "--json"]) == 0
    assert _json(capsys)["null"] == "entities"
    assert main(["pair", str(panel_csv), "--a", "x", "--b", "y", "--groups", "id", "--times", "t",
                 "--theiler", "2", "--json"]) == 0
    assert _json(capsys)["theiler"] == 2.0
    assert main(["pair", str(panel_csv), "--a", "x", "--b", "y", "--groups", "nope"]) == 2
    assert "--groups: column 'nope' not in the table" in capsys.readouterr().err


def test_lags_permutations_and_splits(panel_csv, capsys, tmp_path):
    args = ["lags", str(panel_csv), "--source", "x", "--target", "y", "--time", "t", "--group",
            "id", "--lags=-2:2", "--permutations", "19", "--splits", "2", "--seed", "0", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "forward_q" in out and "bootstrap p = " in out and "2 disjoint splits: [1, 1]" in out
    out_csv = tmp_path / "lags.csv"
    assert main([*args, "--csv", "-o", str(out_csv)]) == 0
    table = pd.read_csv(out_csv)
    assert table.loc[table["lag"] == 1, "forward_p"].item() == pytest.approx(0.05)
    assert {"forward_q", "backward_q", "forward_ci_low"} <= set(table.columns)
    assert main([*args, "--json"]) == 0
    d = _json(capsys)
    assert d["best_lag_interval"] == [1, 1] and len(d["stability"]["lag"]) == 10


def test_select_splits_and_intervals(gauss_csv, capsys):
    assert main(["select", str(gauss_csv), "--method", "exhaustive", "--splits", "2", "--seed", "0",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Suggested size d = 2 (x, y)" in out and "x 100%, y 100%" in out
    assert "criterion_ci_low" in out
