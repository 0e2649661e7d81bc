"""causal_graph: known graphs of coupled maps and flows, panels, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb.causality import imbalance_gain
from infoimb.datasets import logistic_network, lorenz96, lorenz96_parents
from infoimb.graph import MAX_VARIABLES, CausalGraph, causal_graph

ALPHAS = [0.0, 0.25, 0.5, 0.75, 1.0]
CHAIN = {"X": [], "Y": ["X"], "Z": ["Y"], "W": []}
FORK = {"Z": [], "X": ["Z"], "Y": ["Z"], "W": []}


def edge_set(g: CausalGraph) -> set[tuple[str, str]]:
    return set(zip(g.edges["cause"], g.edges["effect"]))


def true_edges(parents) -> set[tuple[str, str]]:
    return {(p, c) for c, ps in parents.items() for p in ps}


@pytest.fixture(scope="module")
def chain_graph():
    df = logistic_network(CHAIN, n=400, random_state=1)
    return causal_graph(df, n_surrogates=199, alphas=ALPHAS, random_state=0)


def test_chain_gives_exactly_the_direct_links(chain_graph):
    g = chain_graph
    assert edge_set(g) == {("X", "Y"), ("Y", "Z")}
    assert g.variables == ("X", "Y", "Z", "W") and g.n == 399 and g.n_entities == 1
    assert (g.edges["lag"] == 1).all()
    assert (g.edges["gain"] > 0.15).all()
    np.testing.assert_allclose(g.edges["p"], 1 / 200)
    assert (g.edges["q"] <= 0.05).all()
    # X -> Z: significant on its own, explained by Y
    row = g.tested.set_index(["cause", "effect"]).loc[("X", "Z")]
    assert row["p_pairwise"] <= 0.05 and not row["edge"]
    assert row["reason"].startswith("explained by Y (lag 1)")
    assert row["gain"] < 0.02
    # nothing to or from the unconnected W; 12 ordered pairs tested
    assert len(g.tested) == 12
    assert not g.tested[(g.tested.cause == "W") | (g.tested.effect == "W")]["edge"].any()


def test_chain_result_serialises_and_draws(chain_graph):
    g = chain_graph
    from infoimb._serialize import dumps, same_result

    d = json.loads(dumps(g.to_dict()))
    assert set(zip(d["edges"]["cause"], d["edges"]["effect"])) == {("X", "Y"), ("Y", "Z")}
    assert len(d["tested"]["cause"]) == 12 and d["n_surrogates"] == 199 and d["taus"] == [1]
    assert d["positions"]["X"] == [0.0, 1.0]
    back = CausalGraph.from_dict(d)
    assert same_result(back, g)
    adj = g.adjacency()
    assert adj.loc["X", "Y"] == pytest.approx(g.edges.set_index(["cause", "effect"]).loc[("X", "Y"), "gain"])
    assert adj.loc["Y", "X"] == 0.0 and adj.loc["X", "Z"] == 0.0
    pos = g.positions()
    assert pos["X"] == (0.0, 1.0) and pos["Z"] == (0.0, -1.0)  # stable: the order on a circle


def test_fork_has_no_link_between_the_children():
    df = logistic_network(FORK, n=400, random_state=2)
    g = causal_graph(df, n_surrogates=199, alphas=ALPHAS, random_state=0)
    assert edge_set(g) == {("Z", "X"), ("Z", "Y")}


def test_conditioning_on_the_present_does_not_block_a_multi_step_path():
    # the reason for the one-step design: over tau = 3 steps, X_t acts on Z through Y's
    # *later* values; conditioning on Y_t does not remove the gain
    df = logistic_network(CHAIN, n=1000, random_state=1)
    x, y, z = (df[c].to_numpy() for c in "XYZ")
    three = imbalance_gain(x, z, tau=3, conditioning=y, alphas=np.linspace(0, 1, 11))
    one = imbalance_gain(x, z, tau=1, conditioning=y, alphas=np.linspace(0, 1, 11))
    assert three.gain > 0.1
    assert one.gain < 0.02


def test_panel_gives_the_same_graph_within_entities():
    df = logistic_network(CHAIN, n=110, n_entities=4, random_state=3)
    df = df.sample(frac=1.0, random_state=0)  # row order must not matter with time=
    g = causal_graph(df, group="entity", time="t", n_surrogates=199, alphas=ALPHAS,
                     random_state=0)
    assert g.variables == ("X", "Y", "Z", "W")
    assert g.n_entities == 4 and g.n == 4 * 109
    assert edge_set(g) == {("X", "Y"), ("Y", "Z")}
    # pairs never cross entities: stacking the entities end to end as one series adds 3
    # spurious (t, t+1) pairs; the panel has 4 * 109 pairs
    one = causal_graph(df.sort_values(["entity", "t"]).drop(columns=["entity", "t"]),
                       n_surrogates=39, alphas=[0.0, 1.0], random_state=0)
    assert one.n == 4 * 110 - 1


@pytest.mark.slow
def test_lorenz96_ring_and_an_unconnected_variable():
    # a ring of 5 Lorenz-96 nodes: node i is driven by i-1, i-2 and i+1 (15 direct links),
    # never by i+2 (5 pairs linked only indirectly); u is an independent Lorenz-96 system
    m = 5
    df = lorenz96(800, n_nodes=m, random_state=1)
    df["u"] = lorenz96(800, n_nodes=m, random_state=3)["x0"]
    g = causal_graph(df, n_surrogates=99, alphas=ALPHAS, random_state=0)
    truth = true_edges(lorenz96_parents(m))
    found = edge_set(g)
    assert len(truth) == 15
    assert not any("u" in e for e in found)
    assert found == truth
    indirect = g.tested[[(c, e) not in truth for c, e in zip(g.tested.cause, g.tested.effect)]]
    assert not indirect["edge"].any()


def test_multi_column_variables_and_lags():
    # y follows x with a delay of 2 steps; x and w are 2-column variables
    rng = np.random.default_rng(0)
    n = 500
    x = np.zeros((n, 2))
    y = np.zeros(n)
    for t in range(1, n):
        x[t] = 3.9 * x[t - 1] * (1 - x[t - 1]) if t > 1 else rng.uniform(0.2, 0.8, 2)
        if t >= 2:
            y[t] = 0.6 * np.tanh(3 * y[t - 1] - 1) + 0.8 * x[t - 2, 0] * x[t - 2, 1]
    w = np.random.default_rng(1).normal(size=(n, 2))  # unrelated noise
    df = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y, "w1": w[:, 0], "w2": w[:, 1]})
    g = causal_graph(df.iloc[50:], {"X": ["x1", "x2"], "Y": "y", "W": ["w1", "w2"]},
                     taus=[1, 2], n_surrogates=299, alphas=ALPHAS, random_state=0)
    assert g.columns == {"X": ("x1", "x2"), "Y": ("y",), "W": ("w1", "w2")}
    assert edge_set(g) == {("X", "Y")}
    assert g.edges["lag"].tolist() == [2]


def test_progress_and_cancel():
    df = logistic_network(CHAIN, n=150, random_state=1)
    seen = []
    causal_graph(df, n_surrogates=19, alphas=[0.0, 1.0], alpha=0.1, random_state=0,
                 progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "pairwise" in seen[0][1]

    def stop(f, m):
        if f > 0.3:
            raise infoimb.Cancelled("stop")

    with pytest.raises(infoimb.Cancelled):
        causal_graph(df, n_surrogates=19, alphas=[0.0, 1.0], alpha=0.1, progress=stop)


def test_exported_lazily():
    assert infoimb.causal_graph is causal_graph
    assert infoimb.CausalGraph is CausalGraph


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    return logistic_network(CHAIN, n=60, random_state=0)


def test_bad_variables(small):
    with pytest.raises(ValueError, match="at least 2 variables, got 1"):
        causal_graph(small[["X"]])
    with pytest.raises(ValueError, match="variable 'X' has no columns"):
        causal_graph(small, {"X": [], "Y": "Y"})
    with pytest.raises(ValueError, match=r"column\(s\) \['nope'\] of variable 'X'"):
        causal_graph(small, {"X": ["nope"], "Y": "Y"})
    const = small.assign(C=1.0)
    with pytest.raises(ValueError, match="column 'C' of variable 'C' is constant"):
        causal_graph(const)
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(60, MAX_VARIABLES + 1)))
    with pytest.raises(ValueError, match="51 variables is more than the limit of 50"):
        causal_graph(wide)
    with pytest.raises(TypeError, match="variables must be a mapping"):
        causal_graph(small, ["X", "Y"])


def test_bad_lags_and_options(small):
    with pytest.raises(ValueError, match=r"taus: lags up to 100 leave only 0 usable time points"):
        causal_graph(small, taus=100)
    with pytest.raises(ValueError, match="embedding's span of 48 steps leave only 10 usable"):
        causal_graph(small, taus=[1, 2], embedding=(25, 2))
    with pytest.raises(ValueError, match="taus must be at least 1"):
        causal_graph(small, taus=[0, 1])
    with pytest.raises(ValueError, match="n_surrogates=9 is too few for alpha=0.05"):
        causal_graph(small, n_surrogates=9)
    with pytest.raises(ValueError, match="alpha must be"):
        causal_graph(small, alpha=1.5)
    with pytest.raises(ValueError, match="k=70"):
        causal_graph(small, k=70)
    with pytest.raises(ValueError, match="not in the table"):
        causal_graph(small, time="when")


# --------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------
def test_cli_graph_text_json_csv(tmp_path, capsys):
    from infoimb.cli import main

    path = tmp_path / "chain.csv"
    logistic_network(CHAIN, n=250, random_state=1).to_csv(path, index=False)
    common = [str(path), "--n-alphas", "5", "--surrogates", "99", "--alpha", "0.1",
              "--seed", "0", "--quiet"]
    assert main(["graph", *common]) == 0
    out = capsys.readouterr().out
    assert "2 direct link(s)" in out
    assert "X -> Y" in out and "Y -> Z" in out and "X -> Z" not in out
    assert main(["graph", *common, "--json", "--variables", "X=X;Y=Y;Z=Z;W=W"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(zip(payload["edges"]["cause"], payload["edges"]["effect"])) == {("X", "Y"), ("Y", "Z")}
    assert main(["graph", *common, "--csv", "--all"]) == 0
    table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert len(table) == 12 and table["edge"].sum() == 2
    assert main(["graph", str(path), "--variables", "X=;Y=Y", "--quiet"]) == 2
    assert "variable 'X' has no columns" in capsys.readouterr().err
