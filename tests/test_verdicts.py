"""One place words each verdict: the CLI prints exactly the sentence of infoimb.verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import verdicts
from infoimb.causality import CausalityResult, ImbalanceGain, causality_test
from infoimb.cli import main
from infoimb.imbalance import RELATION_TEXT, classify_relation
from infoimb.lags import lag_scan
from infoimb.selection import select_features


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 300
    x = rng.normal(size=n)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.3 * y[t - 1] + x[t - 1] + 0.1 * rng.normal()
    df = pd.DataFrame({"t": np.arange(n), "x": x, "y": y, "u": rng.normal(size=n)})
    df["w"] = 3 * df["x"] - 2 * df["u"]
    path = tmp_path_factory.mktemp("verdicts") / "series.csv"
    df.to_csv(path, index=False)
    return path, df


def _cli(argv, capsys) -> str:
    assert main(argv + ["--quiet"]) == 0
    return capsys.readouterr().out


def test_pair_prints_the_relation_sentence(table, capsys):
    path, df = table
    p = infoimb.imbalance_pair(df[["x", "u"]], df[["w"]])
    out = _cli(["pair", str(path), "--a", "x,u", "--b", "w"], capsys)
    assert verdicts.relation(p) == RELATION_TEXT[p.relation]
    assert f"relation: {p.relation} ({verdicts.relation(p)})" in out


def test_select_prints_the_suggested_size_sentence(table, capsys):
    path, df = table
    r = select_features(df[["x", "u", "y"]], df[["w"]], method="greedy", dummy=True,
                        random_state=1)
    out = _cli(["select", str(path), "--candidates", "x,u,y", "--target", "w", "--dummy",
                "--seed", "1"], capsys)
    sentence = verdicts.selection(r)
    assert sentence in out
    assert sentence.startswith("Suggested size d = 2 (x, u): the smallest size that no larger "
                               "size improves by more than 0.01 and beyond the paired bootstrap "
                               "interval of the difference of Δ(S → target).")
    assert "dummy noise feature (dummy_noise) was never chosen" in sentence


def test_lags_print_the_arrow_sentence(table, capsys):
    path, df = table
    r = lag_scan(df, "x", "y", lags=range(-2, 3), time="t")
    out = _cli(["lags", str(path), "--source", "x", "--target", "y", "--time", "t",
                "--lags=-2:2"], capsys)
    assert verdicts.lag_scan(r) in out
    assert r.verdict == verdicts.lag_scan(r)
    assert verdicts.lag_scan(r).startswith("The source (x) predicts the future of the target (y)")


def test_causality_prints_the_coupling_sentence(table, capsys):
    path, df = table
    r = causality_test(df[["x"]], df[["y"]], tau=1, alphas=np.linspace(0, 1, 6), k=5)
    out = _cli(["causality", str(path), "--cause", "x", "--effect", "y", "--tau", "1",
                "--n-alphas", "6"], capsys)
    assert verdicts.causality(r) in out
    assert verdicts.causality(r).startswith("X drives Y: adding X's present to Y's own present "
                                            "improves the prediction of Y τ = 1 rows later")


def _gain(gain, se=0.01, conditioned=False):
    return ImbalanceGain(np.zeros(1), np.ones(1), np.zeros(1), gain, se, 0.5, 2, 5, 100, 100,
                         conditioned)


@pytest.mark.parametrize(("verdict", "start"), [
    ("y drives x", "Y drives X: adding Y's present to X's own present and Z improves"),
    ("bidirectional", "Coupling both ways: each present helps"),
    ("no detectable coupling", "No detectable coupling: neither present helps to predict the "
                               "other's future beyond its own and Z"),
])
def test_every_causality_verdict_is_worded(verdict, start):
    r = CausalityResult(_gain(0.3, conditioned=True), _gain(0.2, conditioned=True), verdict,
                        0.05, 3.0)
    assert verdicts.causality(r).startswith(start)
    assert "IG(X → Y) = 0.300 ± 0.010" in verdicts.causality(r)


def test_no_mirrored_lags_is_said():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": np.arange(80), "x": rng.normal(size=80), "y": rng.normal(size=80)})
    r = lag_scan(df, "x", "y", lags=[1, 2], time="t")
    assert math.isnan(r.future_mean)
    assert verdicts.lag_scan(r, step="1 day").startswith(
        "No arrow of time can be read: the lags scanned have no pairs δ and −δ.")
    assert verdicts.lag_scan(r, step="1 day").endswith("(1 step = 1 day).")


def test_every_relation_has_a_sentence():
    for a_to_b, b_to_a in [(0.05, 0.05), (0.95, 0.95), (0.1, 0.6), (0.6, 0.1), (0.5, 0.5)]:
        assert classify_relation(a_to_b, b_to_a) in verdicts.RELATION_TEXT
