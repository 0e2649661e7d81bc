"""The Reproduce block: for every analysis, a real job through the web runner, then the
generated Python snippet (executed) and CLI command (run) on the file the block names, and the
numbers compared with the stored record's (exactly: the estimators are exact, or seeded)."""

from __future__ import annotations

import base64
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from infoimb import cli
from infoimb.web import data_logic, reproduce
from infoimb.web.config import Settings
from infoimb.web.matrices import ingest_matrix
from infoimb.web.store import SessionStore
from tests.webkit import example_session, make_settings, make_store, run_ok

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return make_settings(tmp_path_factory, "web-reproduce")


@pytest.fixture(scope="module")
def store(settings) -> SessionStore:
    return make_store(settings)


def data_url(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def upload(store, settings, data: bytes, name: str) -> str:
    sid = store.new_session()
    out = data_logic.ingest_upload(store, sid, data_url(data), name, settings)
    assert out["dataset"] is not None, out["message"]
    return sid


def no_panel(store, sid) -> None:
    """A cross-sectional table: no entity or time role (whatever the Data page proposed)."""
    store.update_meta(sid, roles=dict(store.get_meta(sid)["roles"], entity=None, time=None))


def example(store, settings, name, n) -> tuple[str, list]:
    sid, client = example_session(store, settings, name, n)
    return sid, client["groups"]


def take_away(store, sid, record, workdir: Path, *, uploaded: bytes | None = None):
    """The Reproduction of ``record``, with the file it reads put in ``workdir`` the way a user
    gets it: the upload itself, the page's working-table download, or the example's CLI line."""
    r = reproduce.reproduce(record, store.get_meta(sid))
    if not r.working:
        assert uploaded is not None, "the block names the uploaded file"
        (workdir / r.table).write_bytes(uploaded)
    else:
        shown = {"key": record["key"], "content_hash": record["dataset"]["content_hash"]}
        payload = reproduce.table_download(store, sid, record["analysis"], shown)
        assert payload["filename"] == r.table == reproduce.working_table_name(record)
        (workdir / r.table).write_text(payload["content"])
    return r


def run_python(r, workdir: Path, monkeypatch) -> dict:
    monkeypatch.chdir(workdir)
    ns: dict = {}
    exec(compile(r.python, "<reproduce>", "exec"), ns)  # noqa: S102 - the generated snippet under test
    return ns


def cli_lines(r) -> list[list[str]]:
    lines = [shlex.split(line) for line in r.cli.splitlines() if line.strip()]
    assert all(argv[0] == "infoimb" for argv in lines)
    return [argv[1:] for argv in lines]


def run_cli(r, workdir: Path, monkeypatch, capsys) -> dict:
    """The command line(s), in this process (``infoimb.cli.main``): the JSON of the last one."""
    monkeypatch.chdir(workdir)
    downloaded = (workdir / r.table).read_text()
    out = None
    for argv in cli_lines(r):
        capsys.readouterr()
        assert cli.main(argv) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        if argv[0] == "example":  # the example the CLI writes is the page's working table, byte for byte
            assert (workdir / r.table).read_text() == downloaded
    return json.loads(out)


def run_cli_subprocess(r, workdir: Path) -> dict:
    """The command line(s) as a user runs them: ``python -m infoimb ...`` in a shell's place."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = None
    for argv in cli_lines(r):
        proc = subprocess.run([sys.executable, "-m", "infoimb", *argv], cwd=workdir, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
    return json.loads(out)


# --------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------
def clinical_csv() -> bytes:
    rng = np.random.default_rng(3)
    n = 160
    height = rng.normal(170, 10, n).round(1)
    weight = (0.9 * (height - 100) + rng.normal(0, 8, n)).round(1)
    age = rng.integers(20, 80, n)
    bp = (100 + 0.5 * age + rng.normal(0, 10, n)).round(0)
    df = pd.DataFrame({"id": [f"P{i:03d}" for i in range(n)], "sex": rng.choice(["M", "F"], n), "age": age,
                       "height": height, "weight": weight, "bp": bp})
    df.loc[[4, 50, 77], "weight"] = np.nan  # missing cells: those rows are left out
    df.loc[[9], "bp"] = np.nan
    return df.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def clinical(store, settings):
    data = clinical_csv()
    sid = upload(store, settings, data, "clinical.csv")
    no_panel(store, sid)
    client = {"groups": [{"name": "body", "columns": ["height", "weight"]}], "scaling": "zscore"}
    return sid, client, data


def test_compare_from_the_uploaded_file(store, settings, clinical, tmp_path, monkeypatch):
    sid, client, data = clinical
    record = run_ok(store, settings, "compare", sid, client,
                    {"a": "group:body", "b": "full", "k": 2, "metric": "manhattan", "n_permutations": 19})
    main = record["result"]["main"]
    assert record["result"]["dropped_rows"] == 4 and main["n"] == 156
    r = take_away(store, sid, record, tmp_path, uploaded=data)
    assert (r.table, r.working) == ("clinical.csv", False)
    assert r.cli == ("infoimb pair clinical.csv --a height,weight --b age,height,weight,bp --metric manhattan --k 2 "
                     "--seed 0 --permutations 19 --scale zscore --drop-missing --json")
    assert "preprocess.scale(df, ['height', 'weight', 'age', 'bp'], 'zscore')" in r.python
    ns = run_python(r, tmp_path, monkeypatch)
    got = run_cli_subprocess(r, tmp_path)  # the real command line
    for res in (ns["result"].to_dict(), got):
        assert res["n"] == 156
        assert res["a_to_b"] == main["a_to_b"] and res["b_to_a"] == main["b_to_a"]
        assert res["p_a_to_b"] == main["p_a_to_b"] and res["p_b_to_a"] == main["p_b_to_a"]
        assert res["relation"] == main["relation"]


def test_compare_after_a_data_page_step_reads_the_working_table(store, settings, clinical, tmp_path, monkeypatch,
                                                                 capsys):
    data = clinical[2]
    sid = upload(store, settings, data, "clinical.csv")
    no_panel(store, sid)
    out = data_logic.preprocess_step(store, sid, "ratio", {"numerator": "weight", "denominator": "height",
                                                           "name": "wh"}, settings)
    assert out["dataset"] is not None, out["message"]
    client = {"groups": [], "scaling": "rank"}
    record = run_ok(store, settings, "compare", sid, client, {"a": "col:wh", "b": "col:bp", "n_permutations": 0,
                                                               "estimator": "subsampled", "n_queries": 60})
    r = take_away(store, sid, record, tmp_path)
    assert r.working and r.table.startswith("clinical_working_") and r.table.endswith(".csv")
    assert "--n-queries 60" in r.cli and "--scale rank" in r.cli
    main = record["result"]["main"]
    assert main["n_queries"] == 60
    for res in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert (res["a_to_b"], res["b_to_a"], res["n_queries"]) == (main["a_to_b"], main["b_to_a"], 60)


def test_compare_with_an_uploaded_distance_matrix(store, settings, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 2))
    table = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "y": x[:, 0] + 0.1 * rng.normal(size=120)})
    data = table.to_csv(index=False).encode()
    sid = upload(store, settings, data, "points.csv")
    D = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    buf = io.BytesIO()
    np.save(buf, D)
    added = ingest_matrix(store, sid, data_url(buf.getvalue(), "application/octet-stream"), "geo.npy", settings)
    assert added["matrix"] is not None, added["message"]
    record = run_ok(store, settings, "compare", sid, {"groups": [], "scaling": "none"},
                    {"a": f"dist:{added['matrix']['id']}", "b": "col:y", "n_permutations": 0})
    r = take_away(store, sid, record, tmp_path, uploaded=data)
    (tmp_path / "geo.npy").write_bytes(buf.getvalue())  # the user's own matrix file, by its name
    assert "--a-distances geo.npy --b y" in r.cli
    assert "infoimb.load_distance_matrix('geo.npy', n=len(df))" in r.python
    main = record["result"]["main"]
    for res in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert (res["a_to_b"], res["b_to_a"]) == (main["a_to_b"], main["b_to_a"])


# --------------------------------------------------------------------------------------
# Select, Scales, Matrix on an example: the CLI's first line writes the example's table
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gauss(store, settings):
    sid, groups = example(store, settings, "gauss3d", 240)
    return sid, {"groups": groups, "scaling": "minmax"}


def test_select_on_an_example(store, settings, gauss, tmp_path, monkeypatch, capsys):
    sid, client = gauss
    record = run_ok(store, settings, "select", sid, client,
                    {"candidates": "group:full", "target": None, "method": "greedy", "dummy": ["dummy"],
                     "n_random": 2, "k": 1, "estimator": "exact"})
    r = take_away(store, sid, record, tmp_path)
    lines = r.cli.splitlines()
    assert lines[0] == f"infoimb example gauss3d --n 240 --seed 0 -o {r.table}"
    assert "--dummy" in lines[1] and "--n-random 2" in lines[1] and "--scale minmax" in lines[1]
    downloaded = (tmp_path / r.table).read_text()
    got = run_cli(r, tmp_path, monkeypatch, capsys)
    assert (tmp_path / r.table).read_text() == downloaded  # the CLI's example = the page's working table
    ns = run_python(r, tmp_path, monkeypatch)
    want = [(s["features"], s["a_to_b"], s["b_to_a"]) for s in record["result"]["steps"]]
    assert [(list(s.features), s.a_to_b, s.b_to_a) for s in ns["result"].steps] == want
    assert [(s["features"], s["a_to_b"], s["b_to_a"]) for s in got["steps"]] == want
    assert list(ns["result"].selected) == record["result"]["selected"]


def test_scales_on_an_example(store, settings, gauss, tmp_path, monkeypatch, capsys):
    sid, client = gauss
    record = run_ok(store, settings, "scales", sid, client,
                    {"a": "group:full", "b": "group:xy", "method": "dii", "k": 1, "n_iter": 30, "l1": 0.01,
                     "estimator": "exact"})
    r = take_away(store, sid, record, tmp_path)
    assert "--method dii" in r.cli and "--n-iter 30 --l1 0.01" in r.cli
    res = record["result"]
    assert res["n_resamples"] >= 2 and f"--n-resamples {res['n_resamples']}" in r.cli
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert out["weights"] == res["weights"]
        assert out["weights_se"] == res["weights_se"]  # the page's ± too
        assert (out["delta_before"], out["delta_after"]) == (res["delta_before"], res["delta_after"])


def test_matrix_on_an_example(store, settings, gauss, tmp_path, monkeypatch, capsys):
    sid, client = gauss
    record = run_ok(store, settings, "matrix", sid, client,
                    {"spaces": ["group:full", "group:xy", "col:z"], "k": 3, "metric": "chebyshev",
                     "estimator": "exact"})
    r = take_away(store, sid, record, tmp_path)
    assert "--spaces 'full=x,y,z;xy=x,y;z=z' --k 3 --metric chebyshev" in r.cli
    want = record["result"]["matrix"]
    py = run_python(r, tmp_path, monkeypatch)["result"].to_dict()
    got = run_cli(r, tmp_path, monkeypatch, capsys)
    for out in (py, got):
        assert out["delta"] == want["delta"]


def test_matrix_with_an_uploaded_distance_matrix_tied_by_ids(store, settings, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(90, 3))
    table = pd.DataFrame({"name": [f"s{i}" for i in range(90)], "a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    data = table.to_csv(index=False).encode()
    sid = upload(store, settings, data, "samples.csv")
    order = rng.permutation(90)  # the matrix file lists the samples in another order, with their ids
    D = np.abs(x[order, None, 0] - x[None, order, 0]) + np.abs(x[order, None, 1] - x[None, order, 1])
    mat = pd.DataFrame(D, columns=[f"s{i}" for i in order])
    mat.insert(0, "name", [f"s{i}" for i in order])
    raw = mat.to_csv(index=False).encode()
    added = ingest_matrix(store, sid, data_url(raw), "l1 ab.csv", settings, tie="name")
    assert added["matrix"] is not None, added["message"]
    record = run_ok(store, settings, "matrix", sid, {"groups": [], "scaling": "none"},
                    {"spaces": [f"dist:{added['matrix']['id']}", "col:a", "col:c"], "k": 1, "metric": "euclidean",
                     "estimator": "exact"})
    r = take_away(store, sid, record, tmp_path, uploaded=data)
    (tmp_path / "l1 ab.csv").write_bytes(raw)
    assert "'l1 ab=@l1 ab.csv;a=a;c=c'" in r.cli and "--id-column name" in r.cli
    assert "infoimb.load_distance_matrix('l1 ab.csv', n=len(df), ids='name', id_order=df['name'].tolist())" in r.python
    want = record["result"]["matrix"]["delta"]
    assert want["l1 ab"]["a"] < 0.2 < want["l1 ab"]["c"]  # the matrix is the distance of a and b
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert out["delta"] == want


# --------------------------------------------------------------------------------------
# Time lags, Causality (a panel), Causal graph (series)
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def panel(store, settings):
    sid, groups = example(store, settings, "policy_panel", 12)
    return sid, {"groups": groups, "scaling": "zscore"}


def test_lags_with_the_lagged_selection(store, settings, panel, tmp_path, monkeypatch, capsys):
    from infoimb.web.analyses import lags
    from infoimb.web.fields import form_values

    sid, client = panel
    inputs = form_values(lags.ANALYSIS, store.get_meta(sid), client, {}, restore=True,
                         data_changed=False)["values"]
    inputs |= {"select": ["select"], "sel_max": 3, "lag_min": -2, "lag_max": 4}
    record = run_ok(store, settings, "lags", sid, client, inputs)
    r = take_away(store, sid, record, tmp_path)
    assert "--time date --group id --lags=-2:4" in r.cli and "--select-lag best" in r.cli
    scan, sel = record["result"]["scan"], record["result"]["selection"]
    ns = run_python(r, tmp_path, monkeypatch)
    got = run_cli(r, tmp_path, monkeypatch, capsys)
    for out in (ns["scan"].to_dict(), got):
        assert out["best_lag"] == scan["best_lag"]
        assert (out["forward"], out["backward"]) == (scan["forward"], scan["backward"])
    want = [(s["features"], s["a_to_b"]) for s in sel["steps"]]
    assert [(list(s.features), s.a_to_b) for s in ns["selection"].steps] == want
    assert got["selection"]["lag"] == sel["lag"]
    assert [(s["features"], s["a_to_b"]) for s in got["selection"]["steps"]] == want


def test_causality_on_one_entity(store, settings, panel, tmp_path, monkeypatch, capsys):
    from infoimb.web.analyses import causality
    from infoimb.web.fields import form_values

    sid, client = panel
    inputs = form_values(causality.ANALYSIS, store.get_meta(sid), client, {}, restore=True,
                         data_changed=False)["values"]
    inputs |= {"cause": "group:effective_policies", "n_alpha": 6, "entity_value": "N03", "n_surrogates": 19}
    record = run_ok(store, settings, "causality", sid, client, inputs)
    res = record["result"]
    assert res["trimmed_rows"] > 0  # the first weeks have no growth rate: trimmed like the page did
    r = take_away(store, sid, record, tmp_path)
    assert "--group id --entity N03 --time date" in r.cli and "--surrogates 19" in r.cli
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        for side in ("x_to_y", "y_to_x"):
            assert out[side]["delta"] == res[side]["delta"] and out[side]["gain"] == res[side]["gain"]
        assert (out["p_x_to_y"], out["p_y_to_x"], out["verdict"]) == (res["p_x_to_y"], res["p_y_to_x"],
                                                                      res["verdict"])


def test_causal_graph(store, settings, tmp_path, monkeypatch, capsys):
    sid, groups = example(store, settings, "logistic_graph", 200)
    record = run_ok(store, settings, "graph", sid, {"groups": groups, "scaling": "none"},
                    {"variables": [], "taus": "1", "k": 5, "n_alpha": 5, "n_surrogates": 19, "alpha": 0.05,
                     "embed_dim": 1, "embed_delay": 1, "time": "t", "entity": "none", "estimator": "exact"})
    r = take_away(store, sid, record, tmp_path)
    assert "--variables 'A=A;B=B;C=C;D=D;E=E' --tau 1" in r.cli and "--time t" in r.cli
    res = record["result"]
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert out["edges"] == res["edges"]
        assert out["tested"]["gain"] == res["tested"]["gain"] and out["tested"]["p"] == res["tested"]["p"]


# --------------------------------------------------------------------------------------
# the block on the page
# --------------------------------------------------------------------------------------
def test_block_shows_both_commands_with_copy_buttons(store, settings, clinical):
    from infoimb.web import ids

    sid, client, data = clinical
    record = run_ok(store, settings, "compare", sid, client,
                    {"a": "group:body", "b": "full", "k": 3, "n_permutations": 0})
    r = reproduce.reproduce(record, store.get_meta(sid))
    children = reproduce.attach(["result"], record, store, sid, "compare")
    assert children[0] == "result"
    text = str(children[1].to_plotly_json())
    assert r.python.splitlines()[-1][:20] in text and r.cli in text
    assert ids.repro_copy("python", "compare") in text and ids.repro_copy("cli", "compare") in text
    assert "the file you uploaded, unchanged" in text


def test_unknown_analysis_is_named():
    with pytest.raises(ValueError, match="analysis 'nope' has no reproduction"):
        reproduce.reproduce({"analysis": "nope", "dataset": {}, "settings": {}}, None)


# --------------------------------------------------------------------------------------
# more settings: a lagged target on the Select page, periodic columns, the plane's extras
# --------------------------------------------------------------------------------------
def test_select_with_a_lagged_target(store, settings, panel, tmp_path, monkeypatch, capsys):
    sid, client = panel
    record = run_ok(store, settings, "select", sid, client,
                    {"candidates": "group:effective_policies", "target": "group:epidemic_state", "lag": 2,
                     "method": "greedy", "max_features": 3, "dummy": ["dummy"], "k": 1, "estimator": "exact"})
    r = take_away(store, sid, record, tmp_path)
    assert "--lag 2 --time date --groups id --scale zscore" in r.cli
    assert "infoimb.select_lagged(df, " in r.python and "lag=2, time='date', group='id'" in r.python
    want = [(s["features"], s["a_to_b"], s["b_to_a"]) for s in record["result"]["steps"]]
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert [(s["features"], s["a_to_b"], s["b_to_a"]) for s in out["steps"]] == want


def test_compare_with_a_periodic_column_keeps_its_units(store, settings, tmp_path, monkeypatch, capsys):
    sid, groups = example(store, settings, "spiral", 200)
    client = {"groups": groups, "scaling": "zscore"}
    record = run_ok(store, settings, "compare", sid, client, {"a": "group:angle", "b": "group:helix",
                                                               "n_permutations": 0})
    assert record["settings"]["periodic"] == {"angle": 2 * np.pi}
    r = take_away(store, sid, record, tmp_path)
    assert f"--period angle={2 * np.pi!r}" in r.cli
    assert "preprocess.scale(df, ['x', 'y', 'z'], 'zscore')  # periodic columns keep their units" in r.python
    main = record["result"]["main"]
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert (out["a_to_b"], out["b_to_a"]) == (main["a_to_b"], main["b_to_a"])


def test_compare_with_the_planes_extras_uses_the_rows_of_every_pair(store, settings, clinical, tmp_path,
                                                                     monkeypatch, capsys):
    sid, client, data = clinical
    record = run_ok(store, settings, "compare", sid, client,
                    {"a": "col:height", "b": "col:age", "extras": ["features"], "n_permutations": 0})
    assert record["result"]["dropped_rows"] == 4  # weight and bp are in the plane's pairs: their rows go too
    r = take_away(store, sid, record, tmp_path, uploaded=data)
    assert "used = ['height', 'age', 'weight', 'bp']" in r.python
    assert "--drop-missing=height,age,weight,bp" in r.cli
    assert any("main pair" in n for n in r.notes)
    main = record["result"]["main"]
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert (out["n"], out["a_to_b"], out["b_to_a"]) == (main["n"], main["a_to_b"], main["b_to_a"])


# --------------------------------------------------------------------------------------
# the CLI options the commands use, refused with a message naming the option
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["causality", "{f}", "--cause", "x", "--effect", "y", "--tau", "1", "--group", "g"],
     "--group and --entity go together"),
    (["causality", "{f}", "--cause", "x", "--effect", "y", "--tau", "1", "--group", "g", "--entity", "zz"],
     "--entity: no rows with g = 'zz'"),
    (["select", "{f}", "--candidates", "x", "--target", "y", "--lag", "1"], "--lag needs --time"),
    (["select", "{f}", "--candidates", "x", "--lag", "1", "--time", "t"], "--lag needs --target"),
    (["pair", "{f}", "--a", "x", "--b", "y", "--drop-missing=nope"], "--drop-missing: column(s) ['nope'] not in"),
    (["pair", "{f}", "--a-distances", "{m}", "--b", "y", "--drop-missing"],
     "--drop-missing: rows with missing values cannot be left out when a distance matrix"),
])
def test_cli_refuses_with_a_message(argv, message, tmp_path, capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": np.arange(30), "g": ["a"] * 15 + ["b"] * 15, "x": rng.normal(size=30),
                       "y": rng.normal(size=30)})
    df.loc[3, "y"] = np.nan
    f = tmp_path / "t.csv"
    df.to_csv(f, index=False)
    m = tmp_path / "d.npy"
    np.save(m, np.abs(np.subtract.outer(df["x"].to_numpy(), df["x"].to_numpy())))
    code = cli.main([a.format(f=f, m=m) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


def test_cli_select_lag_is_a_number_or_best(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["lags", str(tmp_path / "t.csv"), "--source", "x", "--target", "y", "--time", "t",
                  "--select-lag", "soon"])
    assert "argument --select-lag: a whole number or 'best', got 'soon'" in capsys.readouterr().err


def test_lags_on_a_numeric_time_column_with_a_step_of_seven(store, settings, tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    rows = []
    for e in ("a", "b", "c"):
        x = rng.normal(size=40)
        y = np.roll(x, 2) + 0.3 * rng.normal(size=40)  # y follows x by 2 steps (14 days)
        rows.append(pd.DataFrame({"unit": e, "day": 7 * np.arange(40), "x": x, "y": y}))
    data = pd.concat(rows).to_csv(index=False).encode()
    sid = upload(store, settings, data, "weekly.csv")
    store.update_meta(sid, roles=dict(store.get_meta(sid)["roles"], time="day", entity="unit",
                                      features=["x", "y"]))
    record = run_ok(store, settings, "lags", sid, {"groups": [], "scaling": "none"},
                    {"source": "col:x", "target": "col:y", "lag_min": 0, "lag_max": 3, "time": "day",
                     "entity": "unit", "k": 1, "estimator": "exact", "n_permutations": 0})
    assert record["result"]["step"] == "7 in day" and record["result"]["scan"]["best_lag"] == 2
    r = take_away(store, sid, record, tmp_path, uploaded=data)
    assert "/ 7.0).round().astype('int64')" in r.python and any("steps" in n for n in r.notes)
    scan = run_python(r, tmp_path, monkeypatch)["scan"].to_dict()
    assert (scan["best_lag"], scan["forward"]) == (2, record["result"]["scan"]["forward"])


def test_compare_on_a_panel_uses_the_entity_null(store, settings, panel, tmp_path, monkeypatch, capsys):
    sid, client = panel
    record = run_ok(store, settings, "compare", sid, client,
                    {"a": "group:effective_policies", "b": "group:epidemic_state", "n_permutations": 19})
    main = record["result"]["main"]
    assert main["null"] == "entities" and record["settings"]["entity"] == "id"
    r = take_away(store, sid, record, tmp_path)
    assert "--groups id --times date" in r.cli
    assert "groups = df['id'].astype(str).to_numpy()" in r.python
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert (out["a_to_b"], out["b_to_a"], out["null"]) == (main["a_to_b"], main["b_to_a"], "entities")
        assert (out["p_a_to_b"], out["a_to_b_ci"]) == (main["p_a_to_b"], main["a_to_b_ci"])


def test_select_on_a_panel_at_lag_zero_with_stability_splits(store, settings, panel, tmp_path, monkeypatch, capsys):
    sid, client = panel
    record = run_ok(store, settings, "select", sid, client,
                    {"candidates": "group:effective_policies", "target": "group:epidemic_state", "lag": 0,
                     "method": "beam", "n_best": 2, "max_features": 2, "n_splits": 2, "k": 2,
                     "estimator": "exact"})
    r = take_away(store, sid, record, tmp_path)
    assert "--n-best 2" in r.cli and "--splits 2" in r.cli and "--groups id" in r.cli
    res = record["result"]
    want = [(s["features"], s["a_to_b"], s.get("a_to_b_ci")) for s in res["steps"]]
    for out in (run_python(r, tmp_path, monkeypatch)["result"].to_dict(), run_cli(r, tmp_path, monkeypatch, capsys)):
        assert [(s["features"], s["a_to_b"], s.get("a_to_b_ci")) for s in out["steps"]] == want
        assert out["stability"] == res["stability"]


def test_distance_matrix_with_rows_left_out_for_missing_values(store, settings, tmp_path, monkeypatch):
    """The page left rows with a missing feature out of the matrix too; the Python call does the same."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(100, 2))
    table = pd.DataFrame({"u": x[:, 0], "v": x[:, 0] ** 2 + 0.1 * rng.normal(size=100)})
    table.loc[[5, 17, 60], "v"] = np.nan
    data = table.to_csv(index=False).encode()
    sid = upload(store, settings, data, "gaps.csv")
    no_panel(store, sid)
    D = np.abs(np.subtract.outer(x[:, 1], x[:, 1]))
    buf = io.BytesIO()
    np.save(buf, D)
    added = ingest_matrix(store, sid, data_url(buf.getvalue(), "application/octet-stream"), "w.npy", settings)
    assert added["matrix"] is not None, added["message"]
    mid = f"dist:{added['matrix']['id']}"
    client = {"groups": [], "scaling": "zscore"}
    cmp_record = run_ok(store, settings, "compare", sid, client, {"a": "col:v", "b": mid, "n_permutations": 0})
    mat_record = run_ok(store, settings, "matrix", sid, client, {"spaces": ["col:u", "col:v", mid], "k": 1,
                                                                  "estimator": "exact"})
    (tmp_path / "w.npy").write_bytes(buf.getvalue())
    for record in (cmp_record, mat_record):
        assert record["result"]["dropped_rows"] == 3
        r = take_away(store, sid, record, tmp_path, uploaded=data)
        assert "np.ix_(keep, keep)" in r.python and any("left out of the distance matrix" in n for n in r.notes)
        out = run_python(r, tmp_path, monkeypatch)["result"].to_dict()
        if record is cmp_record:
            main = record["result"]["main"]
            assert (out["n"], out["a_to_b"], out["b_to_a"]) == (97, main["a_to_b"], main["b_to_a"])
        else:
            assert out["delta"] == record["result"]["matrix"]["delta"]


def test_file_names_are_quoted_for_the_shell_and_python(tmp_path):
    name = "trial 2 (Anna's).csv"
    record = {"analysis": "scales", "dataset": {"filename": name, "source": "upload", "content_hash": "ab" * 16},
              "settings": {"a": {"label": "A", "columns": ["dose mg", "age"]}, "b": {"label": "B", "columns": ["y"]},
                           "method": "coordinate", "k": 1, "n_queries": None, "n_iter": None, "l1": 0.0,
                           "max_evaluations": None, "scaling": "none", "periodic": {}, "random_state": 0}}
    r = reproduce.reproduce(record, {"original": {"content_hash": "ab" * 16}})
    argv = shlex.split(r.cli)
    assert argv[:3] == ["infoimb", "weights", name] and argv[argv.index("--a") + 1] == "dose mg,age"
    assert f"df = read_table({name!r})" in r.python
    other = reproduce.reproduce(record, {"original": {"content_hash": "cd" * 16}})  # a step changed the table
    assert other.working and other.table == "trial_2_Anna_s_working_abababab.csv"
