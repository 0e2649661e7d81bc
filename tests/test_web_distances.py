"""Distance matrices in the dashboard, without a browser: upload checks, per-session storage,
matrix spaces on Compare and the Matrix analysis, the carbon example's groups."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest

from infoimb.distances import DistanceMatrix, imbalance_matrix
from infoimb.imbalance import imbalance_pair
from infoimb.web import data_logic
from infoimb.web.analyses import imbalance as compare
from infoimb.web.analyses import matrix as matrix_analysis
from infoimb.web.context import AnalysisInputError, resolve_space, space_options
from infoimb.web.jobs import lookup, run_job
from infoimb.web.inputs import NONE
from infoimb.web.matrices import ORDER, ingest_matrix, matrix_rows
from infoimb.web.store import NoDataset


# settings, store: tests/conftest.py (a fresh cache per test)


def data_url(raw: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(raw).decode()


def npy(D) -> str:
    buf = io.BytesIO()
    np.save(buf, np.asarray(D), allow_pickle=False)
    return data_url(buf.getvalue())


def csv(df: pd.DataFrame, **kw) -> str:
    return data_url(df.to_csv(**kw).encode())


def table_session(store, settings, n=60):
    """A session holding a small table (x, y, z, an id column in shuffled order)."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(n, 3)), columns=["x", "y", "z"])
    df["id"] = [f"p{i}" for i in rng.permutation(n)]
    sid = store.new_session()
    out = data_logic.ingest_upload(store, sid, data_url(df.to_csv(index=False).encode()), "points.csv", settings)
    assert out["dataset"]["n_rows"] == n, out["message"]
    client = {"groups": [{"name": "xy", "columns": ["x", "y"]}, {"name": "z", "columns": ["z"]}], "scaling": "none"}
    return sid, df, client


def euclid(X):
    X = np.asarray(X, dtype=float).reshape(len(X), -1)
    return np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))


def test_upload_is_stored_and_offered_as_a_space(store, settings):
    sid, df, client = table_session(store, settings)
    D = euclid(df[["x", "y"]].to_numpy() ** 2)
    out = ingest_matrix(store, sid, npy(D), "squares.npy", settings)
    assert out["message"]["color"] == "success", out["message"]
    assert "60 × 60" in out["message"]["text"]
    meta = store.get_meta(sid)
    entry = meta["matrices"][0]
    assert entry["name"] == "squares" and entry["n"] == 60 and entry["table_hash"] == meta["content_hash"]
    # on the server as .npy, identical values
    files = list((settings.sessions_dir / sid / "matrices").glob("*.npy"))
    assert [f.stem for f in files] == [entry["id"]]
    np.testing.assert_array_equal(store.get_matrix(sid, entry["id"]), D)
    assert not [o for o in space_options(meta, client["groups"]) if o["value"].startswith("dist:")]
    opts = space_options(meta, client["groups"], matrices=True)
    mine = [o for o in opts if o["value"] == f"dist:{entry['id']}"]
    assert mine == [{"label": "Distances: squares (60 × 60)", "value": f"dist:{entry['id']}"}]
    space = resolve_space(mine[0]["value"], meta, client["groups"])
    assert space.matrix == entry["id"] and space.columns == () and space.label == "squares"
    assert matrix_rows(meta)[0]["status"] == "usable"
    # a changed table (rows dropped): the matrix is offered disabled, and refused with a message
    store.put_dataset(sid, df.iloc[:50], dict(meta, filename="fewer"), original=False)
    meta2 = store.get_meta(sid)
    opt = [o for o in space_options(meta2, [], matrices=True) if o["value"] == mine[0]["value"]][0]
    assert opt["disabled"] and "another version of the table" in opt["label"]
    with pytest.raises(AnalysisInputError, match="uploaded for another version of the table"):
        resolve_space(mine[0]["value"], meta2, [])


def test_tied_by_id_column(store, settings):
    sid, df, client = table_session(store, settings)
    # the matrix file lists the points in id order p0, p1, ...; the table has them shuffled
    order = sorted(df["id"], key=lambda s: int(s[1:]))
    X = df.set_index("id").loc[order, ["x", "y"]].to_numpy()
    M = pd.DataFrame(euclid(X), columns=order)
    M.insert(0, "id", order)
    out = ingest_matrix(store, sid, csv(M, index=False), "byid.csv", settings, tie="id")
    assert out["message"]["color"] == "success", out["message"]
    D = store.get_matrix(sid, out["matrix"]["id"])
    np.testing.assert_allclose(D, euclid(df[["x", "y"]].to_numpy()), rtol=1e-12)
    assert out["matrix"]["tie"] == "id column id"


def _bad(D, i, j, v):
    D = D.copy()
    D[i, j] = v
    return D


@pytest.mark.parametrize("make, kw, match", [
    (lambda D: D[:, :-1], {}, r"must be square N x N, got shape \(60, 59\)"),
    (lambda D: D[:50, :50], {}, "the matrix is 50 x 50 but the table has 60 rows"),
    (lambda D: _bad(D, 3, 4, np.nan), {}, "entries are NaN or infinite"),
    (lambda D: _bad(_bad(D, 3, 4, -1.0), 4, 3, -1.0), {}, r"entries are negative \(first D\[3, 4\] = -1\)"),
    (lambda D: _bad(D, 2, 2, 0.5), {}, r"the diagonal must be zero .*D\[2, 2\] = 0.5"),
    (lambda D: _bad(D, 3, 4, 9.0), {}, r"not symmetric: D\[3, 4\] = 9"),
])
def test_each_bad_matrix_shows_its_message(store, settings, make, kw, match):
    sid, df, _ = table_session(store, settings)
    D = euclid(df[["x", "y"]].to_numpy())
    out = ingest_matrix(store, sid, npy(make(D)), "bad.npy", settings, **kw)
    assert out["matrix"] is None and out["message"]["color"] == "danger"
    assert out["message"]["text"].startswith("bad.npy was not added: distance matrix 'bad.npy'")
    import re
    assert re.search(match, out["message"]["text"]), out["message"]["text"]
    assert not store.get_meta(sid).get("matrices")


def test_asymmetric_declared_is_accepted(store, settings):
    sid, df, _ = table_session(store, settings)
    D = _bad(euclid(df[["x", "y"]].to_numpy()), 3, 4, 9.0)
    out = ingest_matrix(store, sid, npy(D), "asym.npy", settings, asymmetric=True)
    assert out["matrix"]["symmetric"] is False and "asymmetric" in out["message"]["text"]


def test_limits_and_other_refusals(store, settings):
    sid, df, _ = table_session(store, settings)
    D = euclid(df[["x", "y"]].to_numpy())
    # the memory limit of one matrix (60 x 60 float64 = 28 800 bytes)
    small = settings.replace(max_matrix_mb=0.02)
    out = ingest_matrix(store, sid, npy(D), "big.npy", small)
    assert out["matrix"] is None
    assert "needs 0.00 GB, over the limit max_bytes" in out["message"]["text"]
    assert "INFOIMB_MAX_MATRIX_MB = 0.02" in out["message"]["text"]
    # float32 stays float32 on the server
    out = ingest_matrix(store, sid, npy(D.astype(np.float32)), "f32.npy", settings)
    assert out["matrix"]["dtype"] == "float32" and out["matrix"]["nbytes"] == 60 * 60 * 4
    # the upload limit (1 MB here)
    big = "data:application/octet-stream;base64," + "A" * (2 * 1024 * 1024)
    out = ingest_matrix(store, sid, big, "huge.npy", settings)
    assert out["message"]["text"] == ("huge.npy was not added: huge.npy is larger than the upload limit of 1 MB "
                                      "(INFOIMB_MAX_UPLOAD_MB)")
    out = ingest_matrix(store, sid, npy(D), "d.xlsx", settings)
    assert "unsupported file type '.xlsx'" in out["message"]["text"]
    out = ingest_matrix(store, sid, npy(D), "d.npy", settings, tie="id")
    assert "an NPY file holds no ids" in out["message"]["text"]
    # no table: nothing to tie to
    other = store.new_session()
    out = ingest_matrix(store, other, npy(D), "d.npy", settings)
    assert out["message"]["text"].startswith("Load a table first")


def test_a_second_session_cannot_see_it(store, settings):
    sid, df, client = table_session(store, settings)
    out = ingest_matrix(store, sid, npy(euclid(df[["x"]].to_numpy())), "mine.npy", settings)
    mid = out["matrix"]["id"]
    sid2, _, _ = table_session(store, settings)  # the same table in another browser
    meta2 = store.get_meta(sid2)
    assert not meta2.get("matrices")
    assert not [o for o in space_options(meta2, [], matrices=True) if o["value"].startswith("dist:")]
    with pytest.raises(AnalysisInputError, match="no longer stored"):
        resolve_space(f"dist:{mid}", meta2, [])
    with pytest.raises(NoDataset, match="no longer stored"):
        store.get_matrix(sid2, mid)
    # a job of the second session naming the first one's matrix is refused, not served
    inputs = {"a": f"dist:{mid}", "b": "group:xy", "k": 1, "metric": "euclidean", "estimator": "exact",
              "n_queries": 1000, "extras": []}
    status = run_job(store, "compare", sid2, inputs, client, settings)
    assert status["status"] == "error" and "no longer stored" in status["message"]


def test_compare_matrix_vs_group_equals_the_api(store, settings):
    sid, df, client = table_session(store, settings)
    D = euclid(df[["x", "z"]].to_numpy() ** 3)
    mid = ingest_matrix(store, sid, npy(D), "cubes.npy", settings)["matrix"]["id"]
    inputs = {"a": f"dist:{mid}", "b": "group:xy", "k": 2, "metric": "manhattan", "estimator": "exact",
              "n_queries": 1000, "extras": []}
    status = run_job(store, "compare", sid, inputs, client, settings)
    assert status["status"] == "ok", status
    record, _, why = lookup(store, "compare", sid, inputs, client, settings)
    assert why is None
    main = record["result"]["main"]
    ref = imbalance_pair(DistanceMatrix(D, "cubes"), df[["x", "y"]], k=2, metric="manhattan", random_state=0)
    assert main["a_to_b"] == pytest.approx(ref.a_to_b, abs=1e-12)
    assert main["b_to_a"] == pytest.approx(ref.b_to_a, abs=1e-12)
    assert main["relation"] == ref.relation
    assert record["settings"]["a"] == {"value": f"dist:{mid}", "label": "cubes", "columns": [], "matrix": mid}
    # the page draws it, the summary names the matrix
    assert compare.summary(record)["a"] == "cubes"
    assert "k = 2 · A: distance matrix, B: manhattan · " in compare.caption(record)
    assert compare.render(record)
    # two matrices
    D2 = euclid(df[["y"]].to_numpy())
    mid2 = ingest_matrix(store, sid, npy(D2), "y.npy", settings)["matrix"]["id"]
    inputs2 = dict(inputs, b=f"dist:{mid2}", metric="euclidean")
    assert run_job(store, "compare", sid, inputs2, client, settings)["status"] == "ok"
    rec2 = lookup(store, "compare", sid, inputs2, client, settings)[0]
    ref2 = imbalance_pair(DistanceMatrix(D, "a"), DistanceMatrix(D2, "b"), k=2, metric="precomputed")
    assert rec2["result"]["main"]["a_to_b"] == pytest.approx(ref2.a_to_b, abs=1e-12)
    with pytest.raises(AnalysisInputError, match="the same distance matrix"):
        compare.prepare(dict(inputs, b=f"dist:{mid}"), _ctx(store, sid, client, settings))


def _ctx(store, sid, client, settings):
    from infoimb.web.jobs.runner import make_context
    return make_context(store, sid, client, settings)


def test_rows_with_missing_values_leave_the_matrix_too(store, settings):
    sid, df, client = table_session(store, settings)
    df2 = df.copy()
    df2.loc[[5, 17], "x"] = np.nan
    meta = store.get_meta(sid)
    store.put_dataset(sid, df2, dict(meta), original=False)
    D = euclid(df[["z"]].to_numpy())
    mid = ingest_matrix(store, sid, npy(D), "z.npy", settings)["matrix"]["id"]
    inputs = {"a": f"dist:{mid}", "b": "group:xy", "k": 1, "metric": "euclidean", "estimator": "exact",
              "n_queries": 1000, "extras": []}
    assert run_job(store, "compare", sid, inputs, client, settings)["status"] == "ok"
    rec = lookup(store, "compare", sid, inputs, client, settings)[0]
    keep = np.ones(60, bool)
    keep[[5, 17]] = False
    ref = imbalance_pair(DistanceMatrix(D[np.ix_(keep, keep)]), df2.loc[keep, ["x", "y"]])
    assert rec["result"]["n"] == 58 and rec["result"]["dropped_rows"] == 2
    assert rec["result"]["main"]["b_to_a"] == pytest.approx(ref.b_to_a, abs=1e-12)


def test_delta_matrix_equals_imbalance_matrix(store, settings):
    sid, df, client = table_session(store, settings)
    D = euclid(df[["x", "z"]].to_numpy())
    mid = ingest_matrix(store, sid, npy(D), "xz.npy", settings)["matrix"]["id"]
    inputs = {"spaces": ["group:xy", "group:z", f"dist:{mid}", "col:x"], "k": 1, "metric": "chebyshev",
              "estimator": "exact", "n_queries": 1000}
    status = run_job(store, "matrix", sid, inputs, client, settings)
    assert status["status"] == "ok", status
    record = lookup(store, "matrix", sid, inputs, client, settings)[0]
    got = record["result"]["matrix"]
    ref = imbalance_matrix({"xy": df[["x", "y"]].to_numpy(), "z": df[["z"]].to_numpy(),
                            "xz": DistanceMatrix(D), "x": df[["x"]].to_numpy()}, metric="chebyshev")
    assert got["names"] == ["xy", "z", "xz", "x"]
    for a in ref.names:
        for b in ref.names:
            if a != b:
                assert got["delta"][a][b] == pytest.approx(float(ref.delta.loc[a, b]), abs=1e-12)
    assert got["metrics"] == {"xy": "chebyshev", "z": "chebyshev", "xz": "precomputed", "x": "chebyshev"}
    figs = matrix_analysis.build_figures(record)
    heat = figs["heatmap"].data[0]
    assert list(heat.x) == ["xy", "z", "xz", "x"]
    assert heat.z[0][1] == pytest.approx(ref.delta.loc["xy", "z"])
    assert len(figs["matrix-plane"].data[0].x) == 6 or sum(len(t.x) for t in figs["matrix-plane"].data
                                                            if t.x is not None) >= 6
    text = matrix_analysis.to_csv(record)
    body = pd.read_csv(io.StringIO(text), comment="#")
    assert len(body) == 6 and set(body.columns) >= {"a", "b", "a_to_b", "b_to_a", "symmetric", "relation"}
    row = body[(body.a == "xy") & (body.b == "xz")].iloc[0]
    assert row.a_to_b == pytest.approx(float(ref.delta.loc["xy", "xz"]), rel=1e-5)
    with pytest.raises(AnalysisInputError, match="choose at least two spaces"):
        matrix_analysis.prepare({"spaces": ["group:xy"]}, _ctx(store, sid, client, settings))


def test_carbon_example_groups():
    from infoimb import datasets

    ex = datasets.EXAMPLES["carbon"]
    groups = ex.roles["groups"]
    assert set(groups) == {"SOAP", "energy", "forces", "neighbour distances"}
    assert len(groups["SOAP"]) == 324 and groups["SOAP"][0] == "soap_000" and groups["SOAP"][-1] == "soap_323"
    assert groups["energy"] == ["energy"] and groups["forces"] == ["fx", "fy", "fz"]
    assert groups["neighbour distances"][0] == "nd_00"
    assert ex.roles["target"] == "energy" and ex.n_unit == "structures"
    assert "carbon" in [e["name"] for e in data_logic.examples()]


def test_other_pages_refuse_a_matrix_space(store, settings):
    sid, df, client = table_session(store, settings)
    mid = ingest_matrix(store, sid, npy(euclid(df[["x"]].to_numpy())), "m.npy", settings)["matrix"]["id"]
    inputs = {"candidates": f"dist:{mid}", "target": NONE, "method": "greedy", "max_features": 2}
    status = run_job(store, "select", sid, inputs, client, settings)
    assert status["status"] == "error"
    assert "Candidate group: a distance matrix (m) has no features to use here" in status["message"]


def test_select_shows_the_fps_and_cur_baselines(store, settings):
    pytest.importorskip("skmatter")
    from skmatter.feature_selection import FPS

    from infoimb.selection import evaluate_subsets
    from infoimb.web.analyses import selection

    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "descriptors", 300, settings)
    client = {"groups": out["groups"], "scaling": "none"}
    inputs = {"candidates": "group:features", "target": NONE, "method": "greedy", "max_features": 3,
              "criterion": "symmetric", "k": 1, "estimator": "exact", "dummy": [], "baselines": ["fps", "cur"]}
    status = run_job(store, "select", sid, inputs, client, settings)
    assert status["status"] == "ok", status
    record = lookup(store, "select", sid, inputs, client, settings)[0]
    base = record["result"]["baselines"]
    assert list(base) == ["fps", "cur"] and base["fps"]["size"] == [1, 2, 3]
    df = store.get_dataset(sid)
    cols = out["groups"][0]["columns"] if out["groups"][0]["name"] == "features" else \
        [g for g in out["groups"] if g["name"] == "features"][0]["columns"]
    X = df[cols]
    order = [cols[i] for i in FPS(n_to_select=3, initialize=0).fit(X.to_numpy()).selected_idx_]
    assert base["fps"]["order"] == order
    ref = evaluate_subsets(X, [order[:1], order[:2], order[:3]], criterion="symmetric", random_state=0)
    np.testing.assert_allclose(base["fps"]["criterion"], ref["criterion"].to_numpy(), atol=1e-12)
    curve = selection.build_figures(record)["curve"]
    assert [t.name for t in curve.data][-2:] == ["FPS (scikit-matter)", "CUR (scikit-matter)"]
    top = max(np.add(base["fps"]["criterion"], base["fps"]["criterion_se"]).max(),
              np.add(base["cur"]["criterion"], base["cur"]["criterion_se"]).max())
    assert curve.layout.yaxis.range[1] >= top  # the baselines are inside the plot
    # without the option, the settings (and so earlier memo keys) are unchanged
    ctx = _ctx(store, sid, client, settings)
    assert "baselines" not in selection.prepare(dict(inputs, baselines=[]), ctx)
    with pytest.raises(AnalysisInputError, match="unknown baseline 'pca'"):
        selection.prepare(dict(inputs, baselines=["pca"]), ctx)
