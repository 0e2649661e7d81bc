"""The command line: every command on real files, JSON/CSV output, errors with exit code 2."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from infoimb.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gauss_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "gauss.csv"
    assert main(["example", "gauss3d", "-o", str(path)]) == 0
    return path


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_pair_text_and_json(gauss_csv, capsys):
    assert main(["pair", str(gauss_csv), "--a", "x,y,z", "--b", "x"]) == 0
    out = capsys.readouterr().out
    assert "Δ(A→B) = 0.063748" in out and "Δ(B→A) = 0.548194" in out and "a_contains_b" in out
    assert main(["pair", str(gauss_csv), "--a", "*", "--b", "x,y", "--json"]) == 0
    d = _json(capsys)
    assert d["a_to_b"] == pytest.approx(0.004146, abs=5e-7)
    assert d["relation"] == "equivalent" and d["exact"] is True and d["a"] == ["x", "y", "z"]


def test_pair_subsampled_and_periodic(gauss_csv, capsys):
    assert main(["pair", str(gauss_csv), "--a", "x,y,z", "--b", "x", "--n-queries", "300",
                 "--seed", "1", "--json"]) == 0
    d = _json(capsys)
    assert d["n_queries"] == 300 and d["exact"] is False
    assert abs(d["a_to_b"] - 0.063748) < 4 * d["a_to_b_se"]
    assert main(["pair", str(gauss_csv), "--a", "x", "--b", "y", "--period", "x=2.5", "--json"]) == 0
    assert 0.9 < _json(capsys)["a_to_b"] < 1.1


def test_select_json_and_csv(gauss_csv, capsys, tmp_path):
    assert main(["select", str(gauss_csv), "--method", "exhaustive", "--max-features", "2",
                 "--json", "--quiet"]) == 0
    d = _json(capsys)
    assert d["suggested_size"] == 2
    assert d["steps"][1]["features"] == ["x", "y"]
    out = tmp_path / "steps.csv"
    assert main(["select", str(gauss_csv), "--target", "z", "--candidates", "x,y", "--csv",
                 "-o", str(out), "--quiet"]) == 0
    steps = pd.read_csv(out)
    assert list(steps["size"]) == [1, 2]
    assert steps["a_to_b"].iloc[-1] > 0.9  # x, y carry nothing about z


def test_lags_on_a_panel_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frames = []
    for e in range(4):
        x = rng.normal(size=60)
        y = np.r_[0.0, 0.0, x[:-2]] + 0.05 * rng.normal(size=60)
        frames.append(pd.DataFrame({"id": e, "week": np.arange(60), "x": x, "y": y}))
    path = tmp_path / "panel.tsv"
    pd.concat(frames).to_csv(path, sep="\t", index=False)
    assert main(["lags", str(path), "--source", "x", "--target", "y", "--time", "week",
                 "--group", "id", "--lags=-3:3", "--json", "--quiet"]) == 0
    d = _json(capsys)
    assert d["best_lag"] == 2 and d["arrow"] == "future"
    assert [r["lag"] for r in d["rows"]] == list(range(-3, 4))
    assert main(["lags", str(path), "--source", "x", "--target", "y", "--time", "week",
                 "--group", "id", "--lags", "0,1,2", "--select-lag", "2", "--quiet"]) == 0
    assert "selection with target at t+2: x" in capsys.readouterr().out


def test_causality_and_weights(tmp_path, capsys):
    traj = np.load(ROOT.parent / "shared" / "reference" / "rosslers_xtoy_trajectory.npy")
    path = tmp_path / "traj.parquet"
    pd.DataFrame(traj, columns=["x1", "y1", "z1", "x2", "y2", "z2"]).to_parquet(path)
    assert main(["causality", str(path), "--cause", "x1,y1,z1", "--effect", "x2,y2,z2",
                 "--tau", "5", "--n-alphas", "6", "--json", "--quiet"]) == 0
    d = _json(capsys)
    assert d["x_to_y"]["gain"] > 0.1 > d["y_to_x"]["gain"]
    assert d["verdict"] == "x drives y"

    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 2))
    df = pd.DataFrame({"a0": a[:, 0], "a1": a[:, 1], "b0": 5 * a[:, 0], "b1": a[:, 1]})
    path = tmp_path / "w.csv"
    df.to_csv(path, index=False)
    assert main(["weights", str(path), "--a", "a0,a1", "--b", "b0,b1", "--method", "coordinate",
                 "--json", "--quiet"]) == 0
    d = _json(capsys)
    w = d["weights"]
    assert w[0] / w[1] == pytest.approx(5.0, rel=0.35)
    assert d["delta_after"] < d["delta_before"]


def test_example_writes_every_format(tmp_path, capsys):
    for suffix in (".csv", ".tsv", ".parquet"):
        out = tmp_path / f"panel{suffix}"
        assert main(["example", "policy_panel", "-o", str(out)]) == 0
        df = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out, sep="\t" if suffix == ".tsv" else ",")
        assert {"id", "date", "dummy_policy", "stay_home_restrictions"} <= set(df.columns)
    assert main(["example", "--list"]) == 0
    names = capsys.readouterr().out
    for name in ("gauss3d", "gauss4d", "spiral", "sinusoid", "rossler", "policy_panel", "descriptors"):
        assert name in names


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pair", "{f}", "--a", "x,nope", "--b", "y"], "column(s) ['nope'] not in the table"),
        (["pair", "/no/such/file.csv", "--a", "x", "--b", "y"], "error"),
        (["pair", "{f}", "--a", "x", "--b", "y", "--k", "5000"], "must be smaller than the number of points"),
        (["select", "{f}", "--method", "exhaustive", "--max-features", "3", "--max-subsets", "2"], "use method='beam'"),
        (["lags", "{f}", "--source", "x", "--target", "y", "--time", "z", "--lags", "a:b"], "--lags: expected"),
        (["example", "nope"], "nope"),
    ],
)
def test_errors_exit_2_with_a_message(gauss_csv, capsys, argv, message):
    argv = [a.replace("{f}", str(gauss_csv)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err


def test_module_and_console_script(gauss_csv):
    import infoimb

    df = pd.read_csv(gauss_csv)
    expected = infoimb.imbalance_pair(df[["x", "y"]], df[["x"]])
    for cmd in ([sys.executable, "-m", "infoimb"], [str(Path(sys.executable).with_name("infoimb"))]):
        out = subprocess.run([*cmd, "pair", str(gauss_csv), "--a", "x,y", "--b", "x", "--json"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        d = json.loads(out.stdout)
        assert d["a_to_b"] == pytest.approx(expected.a_to_b, abs=1e-12)
        assert d["b_to_a"] == pytest.approx(expected.b_to_a, abs=1e-12) and d["n"] == 1000
    bad = subprocess.run([sys.executable, "-m", "infoimb", "pair", str(gauss_csv), "--a", "q", "--b", "x"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "column(s) ['q'] not in the table" in bad.stderr
