"""Distance matrices as inputs: the loader's checks, float32, mixed pairs, the matrix of Δ,
the command line and the figures. Known answers come from the NumPy reference
(tests/reference.py) and METHOD.md."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reference as R
from infoimb import figures as F
from infoimb import imbalance_pair, information_imbalance
from infoimb._spaces import make_space
from infoimb.distances import (
    MAX_MATRIX_BYTES,
    DistanceMatrix,
    imbalance_matrix,
    load_distance_matrix,
)

ROOT = Path(__file__).resolve().parents[1]


def _euclid(X):
    return np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))


@pytest.fixture(scope="module")
def gauss():
    return np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]


@pytest.fixture(scope="module")
def small():
    X = np.random.default_rng(1).normal(size=(60, 3))
    return X, _euclid(X[:, :2])


# --------------------------------------------------------------------------------------
# the loader: each check and its message
# --------------------------------------------------------------------------------------
def test_loader_accepts_a_good_matrix_and_keeps_its_values(small):
    X, D = small
    dm = load_distance_matrix(D, n=60, name="xy")
    assert isinstance(dm, DistanceMatrix) and dm.shape == (60, 60) and dm.values.dtype == np.float64
    assert np.array_equal(dm.values, D) and dm.symmetric and dm.ids is None
    assert dm.to_dict() == {"name": "xy", "n": 60, "dtype": "float64", "symmetric": True,
                            "nbytes": 60 * 60 * 8}


@pytest.mark.parametrize("bad, kwargs, message", [
    (np.zeros((4, 5)), {}, r"must be square N x N, got shape \(4, 5\)"),
    (np.zeros((4, 4, 1)), {}, r"must be square"),
    ("N", {"n": 61}, r"is 60 x 60 but the table has 61 rows"),
    ("nan", {}, r"1 entries are NaN or infinite \(first at row 3, column 4\)"),
    ("inf", {}, r"NaN or infinite"),
    ("neg", {}, r"entries are negative \(first D\[3, 4\] = -1\)"),
    ("diag", {}, r"the diagonal must be zero .* D\[5, 5\] = 0.5"),
    ("asym", {}, r"not symmetric: D\[3, 4\] = .* but D\[4, 3\] = .*symmetric=False"),
    (np.zeros((2, 2)), {}, r"need at least 3 points"),
])
def test_loader_refuses_each_problem_by_name(small, bad, kwargs, message):
    _, D = small
    if isinstance(bad, str):
        M = D.copy()
        if bad == "nan":
            M[3, 4] = np.nan
        elif bad == "inf":
            M[3, 4] = M[4, 3] = np.inf
        elif bad == "neg":
            M[3, 4] = M[4, 3] = -1.0
        elif bad == "diag":
            M[5, 5] = 0.5
        elif bad == "asym":
            M[3, 4] += 0.25
        bad = M
    with pytest.raises(ValueError, match=message):
        load_distance_matrix(bad, name="m", **kwargs)


def test_declared_asymmetric_matrix_is_accepted_and_used_row_wise(small):
    X, D = small
    M = D.copy()
    M[3, 4] += 0.25
    dm = load_distance_matrix(M, symmetric=False)
    assert dm.symmetric is False
    got = information_imbalance(dm.values, _euclid(X[:, 2:]), metric="precomputed")
    assert got == pytest.approx(R.imbalance_from_matrices(M, R.distance_matrix(X[:, 2:])), abs=1e-12)


def test_symmetry_tolerates_rounding_only(small):
    _, D = small
    M = D.copy()
    M[3, 4] *= 1 + 1e-12  # a rounding difference, as in text files
    load_distance_matrix(M)  # accepted
    M[3, 4] *= 1 + 1e-6
    with pytest.raises(ValueError, match="not symmetric"):
        load_distance_matrix(M)


def test_memory_limit_refuses_with_the_numbers(small, tmp_path):
    _, D = small
    with pytest.raises(ValueError, match=r"60 x 60 matrix in float64 needs .* over the limit.*N <= 35"):
        load_distance_matrix(D, max_bytes=10_000)
    # float32 halves the need: the same limit then holds N <= 50 -> still refused, message says so
    with pytest.raises(ValueError, match=r"float32 needs .*N <= 50"):
        load_distance_matrix(D, max_bytes=10_000, dtype="float32")
    # files are refused from their header, before the body is read
    np.save(tmp_path / "d.npy", D)
    with pytest.raises(ValueError, match="over the limit"):
        load_distance_matrix(tmp_path / "d.npy", max_bytes=10_000)
    pd.DataFrame(D).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(ValueError, match="over the limit"):
        load_distance_matrix(tmp_path / "d.csv", max_bytes=10_000)
    # the documented default: 2 GiB, N = 20 000 in float64 (3.2 GB) is over it
    assert MAX_MATRIX_BYTES == 2 * 1024**3 and 20_000**2 * 8 > MAX_MATRIX_BYTES >= 16_384**2 * 8


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"dtype": "int32"}, ValueError, "dtype must be float32, float64 or None"),
    ({"max_bytes": 0}, ValueError, "max_bytes must be at least 1"),
    ({"n": 2.5}, TypeError, "n must be a whole number"),
    ({"symmetric": "yes"}, TypeError, "symmetric must be True or False"),
    ({"ids": "id"}, ValueError, "ids given without id_order"),
    ({"id_order": [1, 2]}, ValueError, "id_order given without ids"),
])
def test_loader_argument_checks(small, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        load_distance_matrix(small[1], **kwargs)


def test_files_npy_csv_tsv_parquet_and_bytes_round_trip(small, tmp_path):
    _, D = small
    np.save(tmp_path / "d.npy", D)
    pd.DataFrame(D).to_csv(tmp_path / "plain.csv", index=False, header=False)
    pd.DataFrame(D, columns=[f"c{j}" for j in range(60)]).to_csv(tmp_path / "head.csv", index=False)
    pd.DataFrame(D).to_csv(tmp_path / "d.tsv", index=False, header=False, sep="\t")
    pd.DataFrame(D).to_csv(tmp_path / "numhead.csv", index=False)  # header 0, 1, ..., 59
    pd.DataFrame(D, columns=[f"c{j}" for j in range(60)]).to_parquet(tmp_path / "d.parquet")
    for name in ("d.npy", "plain.csv", "head.csv", "numhead.csv", "d.tsv", "d.parquet"):
        dm = load_distance_matrix(tmp_path / name, n=60)
        assert dm.name == name
        np.testing.assert_allclose(dm.values, D, rtol=1e-15, atol=0)
    dm = load_distance_matrix((tmp_path / "d.npy").read_bytes(), filename="up.npy")
    assert dm.name == "up.npy" and np.array_equal(dm.values, D)
    with pytest.raises(ValueError, match="give filename="):
        load_distance_matrix((tmp_path / "d.npy").read_bytes())
    with pytest.raises(ValueError, match=r"unsupported file type '.xlsx'"):
        load_distance_matrix(tmp_path / "d.xlsx")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_distance_matrix(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match=r"column\(s\) \['name'\] are not numeric"):
        load_distance_matrix(pd.DataFrame(D).assign(name="x"))


def test_ids_reorder_the_matrix_to_the_tables_order(small, tmp_path):
    X, D = small
    table_ids = [f"p{i}" for i in range(60)]
    perm = np.random.default_rng(5).permutation(60)
    shuffled = pd.DataFrame(D[np.ix_(perm, perm)], columns=[table_ids[i] for i in perm])
    shuffled.insert(0, "id", [table_ids[i] for i in perm])
    shuffled.to_csv(tmp_path / "ids.csv", index=False)
    shuffled.to_parquet(tmp_path / "ids.parquet")
    for name in ("ids.csv", "ids.parquet"):
        dm = load_distance_matrix(tmp_path / name, n=60, ids="id", id_order=table_ids)
        assert np.array_equal(dm.values, D) and dm.ids == tuple(table_ids)
    # ids as a sequence for a bare array (columns follow the rows' order)
    dm = load_distance_matrix(D[np.ix_(perm, perm)], ids=perm.tolist(), id_order=list(range(60)))
    assert np.array_equal(dm.values, D)
    # Δ is the same whichever order the file was in
    assert information_imbalance(dm.values, _euclid(X[:, :1]), metric="precomputed") == \
        pytest.approx(information_imbalance(D, _euclid(X[:, :1]), metric="precomputed"), abs=1e-15)


def test_ids_that_do_not_match_are_refused(small, tmp_path):
    _, D = small
    ids = list(range(60))
    with pytest.raises(ValueError, match=r"1 table id\(s\) not in the matrix \(e.g. \['99'\]\)"):
        load_distance_matrix(D, ids=ids, id_order=ids[:-1] + [99])
    with pytest.raises(ValueError, match=r"duplicate row id\(s\) \['0'\] in the matrix"):
        load_distance_matrix(D, ids=[0] + ids[:-1], id_order=ids)
    with pytest.raises(ValueError, match=r"id_order: duplicate id\(s\)"):
        load_distance_matrix(D, ids=ids, id_order=[0] + ids[:-1])
    with pytest.raises(ValueError, match="2 row ids for a matrix with 60 rows"):
        load_distance_matrix(D, ids=[0, 1], id_order=[0, 1])
    np.save(tmp_path / "d.npy", D)
    with pytest.raises(ValueError, match="an NPY file holds no ids"):
        load_distance_matrix(tmp_path / "d.npy", ids="id", id_order=ids)
    pd.DataFrame(D).to_csv(tmp_path / "noid.csv", index=False)
    with pytest.raises(ValueError, match="no id column 'id'"):
        load_distance_matrix(tmp_path / "noid.csv", ids="id", id_order=ids)


# --------------------------------------------------------------------------------------
# float32
# --------------------------------------------------------------------------------------
def test_float32_is_kept_without_a_copy_and_gives_the_float64_answer():
    rng = np.random.default_rng(2)
    P = rng.integers(0, 6, size=(120, 2))
    Q = rng.integers(0, 6, size=(120, 2))
    # Manhattan distances of small integers: exact in float32, and full of ties
    DA = np.abs(P[:, None] - P[None]).sum(-1).astype(np.float64)
    DB = np.abs(Q[:, None] - Q[None]).sum(-1).astype(np.float64)
    A32, B32 = DA.astype(np.float32), DB.astype(np.float32)
    dm = load_distance_matrix(A32)
    assert dm.values.dtype == np.float32 and np.shares_memory(dm.values, A32)
    assert make_space(A32, name="a", metric="precomputed").D is A32  # no float64 copy
    assert load_distance_matrix(DA, dtype="float32").values.dtype == np.float32
    for k in (1, 4):
        p64 = imbalance_pair(DA, DB, metric="precomputed", k=k)
        p32 = imbalance_pair(A32, B32, metric="precomputed", k=k)
        pmix = imbalance_pair(A32, DB, metric="precomputed", k=k)
        assert (p32.a_to_b, p32.b_to_a) == (p64.a_to_b, p64.b_to_a) == (pmix.a_to_b, pmix.b_to_a)
        assert p64.a_to_b == pytest.approx(R.imbalance_from_matrices(DA, DB, k), abs=1e-12)
        assert p64.b_to_a == pytest.approx(R.imbalance_from_matrices(DB, DA, k), abs=1e-12)


# --------------------------------------------------------------------------------------
# mixed pairs: one matrix, one feature space
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
@pytest.mark.parametrize("k", [1, 3])
def test_mixed_pair_matches_the_reference(tied, metric, k):
    rng = np.random.default_rng(3)
    if tied:
        X = rng.integers(0, 4, size=(150, 3)).astype(float)
    else:
        X = rng.normal(size=(150, 3))
    DA = R.distance_matrix(X[:, :2], "manhattan")
    DB = R.distance_matrix(X[:, 1:], metric)
    want_ab = R.imbalance_from_matrices(DA, DB, k)
    want_ba = R.imbalance_from_matrices(DB, DA, k)
    dm = load_distance_matrix(DA)
    p = imbalance_pair(dm, X[:, 1:], metric=metric, k=k)
    assert p.a_to_b == pytest.approx(want_ab, abs=1e-12)
    assert p.b_to_a == pytest.approx(want_ba, abs=1e-12)
    q = imbalance_pair(X[:, 1:], dm, metric=metric, k=k)  # the matrix on the B side
    assert (q.a_to_b, q.b_to_a) == pytest.approx((want_ba, want_ab), abs=1e-12)


def test_mixed_pair_periodic_feature_side_and_subsampling():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, size=(120, 2))
    DA = _euclid(rng.normal(size=(120, 2)))
    dm = load_distance_matrix(DA)
    p = imbalance_pair(dm, X, period=1.0)
    assert p.a_to_b == pytest.approx(R.imbalance_from_matrices(DA, R.distance_matrix(X, period=1.0)), abs=1e-12)
    sub = imbalance_pair(dm, X, period=1.0, n_queries=40, random_state=0)
    assert sub.n_queries == 40 and 0 < sub.a_to_b < 2
    with pytest.raises(ValueError, match="a has 120 points but b has 50"):
        imbalance_pair(dm, X[:50])


def test_mixed_pair_significance_equals_the_all_matrices_pair():
    rng = np.random.default_rng(9)
    X = rng.integers(0, 5, size=(120, 3)).astype(float)
    DA = R.distance_matrix(X[:, :2], "manhattan")
    DB = R.distance_matrix(X[:, 1:])
    want = imbalance_pair(DA, DB, metric="precomputed", n_permutations=19, random_state=0)
    got = imbalance_pair(load_distance_matrix(DA), X[:, 1:], n_permutations=19, random_state=0)
    assert (got.a_to_b, got.b_to_a) == pytest.approx((want.a_to_b, want.b_to_a), abs=1e-12)
    assert (got.p_a_to_b, got.p_b_to_a) == (want.p_a_to_b, want.p_b_to_a)
    assert got.p_a_to_b is not None


def test_rank_samples_with_a_matrix_on_one_side():
    from infoimb import rank_samples

    X = np.random.default_rng(8).integers(0, 5, size=(200, 3)).astype(float)
    DA = R.distance_matrix(X[:, :2], "manhattan")
    DB = R.distance_matrix(X[:, 1:])  # exact: squared integer sums, then sqrt, keep their order
    want = rank_samples(DA, DB, metric="precomputed", n_queries=80, random_state=3)
    got = rank_samples(load_distance_matrix(DA), X[:, 1:], n_queries=80, random_state=3)
    for field in ("query", "rank_b_given_a1", "rank_a_given_b1", "scatter_query", "rank_a", "rank_b"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    swapped = rank_samples(X[:, 1:], load_distance_matrix(DA), n_queries=80, random_state=3)
    np.testing.assert_array_equal(swapped.rank_a, want.rank_b)


def test_a_distance_matrix_is_never_read_as_features(small):
    """A DistanceMatrix is not array-like: a function that wants features refuses it."""
    from infoimb import select_features

    with pytest.raises(TypeError, match="must be numeric"):
        select_features(load_distance_matrix(small[1]))


def test_mixed_pair_equals_the_all_features_pair(gauss):
    """The 3-D Gaussian of METHOD.md with the full space given as a distance matrix."""
    dm = load_distance_matrix(_euclid(gauss))
    p = imbalance_pair(dm, gauss[:, 0])
    assert (round(p.a_to_b, 6), round(p.b_to_a, 6)) == (0.063748, 0.548194)


# --------------------------------------------------------------------------------------
# the matrix of Δ
# --------------------------------------------------------------------------------------
def test_imbalance_matrix_equals_pairwise_imbalance_pair(gauss):
    spaces = {"full": gauss, "x": gauss[:, 0], "xy": gauss[:, :2],
              "xz (matrix)": load_distance_matrix(_euclid(gauss[:, [0, 2]]))}
    r = imbalance_matrix(spaces)
    assert r.names == tuple(spaces) and r.n == 1000 and r.exact
    assert r.metrics["xz (matrix)"] == "precomputed" and r.metrics["x"] == "euclidean"
    assert list(r.delta.index) == list(spaces) and r.delta.index.name == "from"
    for a in spaces:
        assert np.isnan(r.delta.loc[a, a])
        for b in spaces:
            if a != b:
                p = imbalance_pair(spaces[a], spaces[b])
                assert r.delta.loc[a, b] == pytest.approx(p.a_to_b, abs=1e-15)
                assert r.se.loc[a, b] == pytest.approx(p.a_to_b_se, abs=1e-15)
    # METHOD.md section 5
    assert round(r.delta.loc["full", "x"], 6) == 0.063748
    assert round(r.delta.loc["xz (matrix)", "full"], 6) == 0.544902
    pairs = r.pairs()
    assert len(pairs) == 6 and pairs.iloc[0][["a", "b", "relation"]].tolist() == ["full", "x", "a_contains_b"]
    d = r.to_dict()
    assert d["delta"]["full"]["full"] is None and d["delta"]["full"]["x"] == r.delta.loc["full", "x"]
    back = type(r).from_dict(json.loads(json.dumps(d)))
    pd.testing.assert_frame_equal(back.delta, r.delta)
    pd.testing.assert_frame_equal(back.se, r.se)
    assert (back.names, back.n, back.k, back.n_queries, back.metrics) == \
        (r.names, r.n, r.k, r.n_queries, r.metrics)


def test_imbalance_matrix_metrics_queries_and_errors(gauss):
    X = gauss[:300]
    r = imbalance_matrix({"a": X[:, :2], "b": X[:, 1:]}, metric={"a": "manhattan"}, k=2)
    want = R.imbalance_from_matrices(R.distance_matrix(X[:, :2], "manhattan"),
                                     R.distance_matrix(X[:, 1:]), 2)
    assert r.delta.loc["a", "b"] == pytest.approx(want, abs=1e-12) and r.metrics["a"] == "manhattan"
    sub = imbalance_matrix({"a": X[:, :2], "b": X[:, 1:], "c": X}, n_queries=50, random_state=1)
    again = imbalance_matrix({"a": X[:, :2], "b": X[:, 1:], "c": X}, n_queries=50, random_state=1)
    assert sub.n_queries == 50 and sub.delta.equals(again.delta)
    plain = imbalance_matrix({"m": _euclid(X), "x": X}, metric={"m": "precomputed"})
    assert plain.delta.loc["m", "x"] == pytest.approx(information_imbalance(X, X), abs=1e-12)
    with pytest.raises(ValueError, match="need at least two spaces"):
        imbalance_matrix({"a": X})
    with pytest.raises(TypeError, match="spaces must be a mapping"):
        imbalance_matrix([X, X])
    with pytest.raises(ValueError, match=r"metric: unknown space\(s\) \['zz'\]"):
        imbalance_matrix({"a": X, "b": X}, metric={"zz": "euclidean"})
    with pytest.raises(ValueError, match="metric of space 'a' must be one of"):
        imbalance_matrix({"a": X, "b": X}, metric="cosine")
    with pytest.raises(ValueError, match="space 'b' has 10 points but 'a' has 300"):
        imbalance_matrix({"a": X, "b": X[:10]})
    seen = []
    imbalance_matrix({"a": X, "b": X[:, :1], "c": X[:, 1:]}, progress=lambda f, m: seen.append(f))
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_matrix_figures_show_the_values(gauss):
    r = imbalance_matrix({"full": gauss[:300], "x": gauss[:300, 0], "xy": gauss[:300, :2]})
    fig = F.imbalance_heatmap(r)
    z = np.array(fig.data[0].z, dtype=float)
    np.testing.assert_array_equal(np.isnan(z), np.eye(3, dtype=bool))
    assert z[0, 1] == r.delta.loc["full", "x"] and list(fig.data[0].x) == ["full", "x", "xy"]
    assert F.imbalance_heatmap(r.to_dict()).data[0].z[2][0] == r.delta.loc["xy", "full"]
    plane = F.imbalance_matrix_plane(r, reference="full")
    pts = [t for t in plane.data if t.mode and "markers" in t.mode]
    assert list(pts[0].x) == [r.delta.loc["full", "x"], r.delta.loc["full", "xy"]]
    assert list(pts[0].y) == [r.delta.loc["x", "full"], r.delta.loc["xy", "full"]]
    every = F.imbalance_matrix_plane(r)
    assert len([t for t in every.data if t.mode and "markers" in t.mode][0].x) == 3
    with pytest.raises(ValueError, match="reference: unknown space 'zz'"):
        F.imbalance_matrix_plane(r, reference="zz")


# --------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------
class _Run:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def _cli(capsys, monkeypatch):
    """Run the command line in-process (a subprocess per call costs seconds of imports)."""
    from infoimb.cli import main

    def run(*args, cwd):
        monkeypatch.chdir(cwd)
        code = main(list(args))
        out = capsys.readouterr()
        return _Run(code, out.out, out.err)
    return run


def test_cli_module_entry_point_reads_a_matrix(tmp_path):
    """One real subprocess: ``python -m infoimb pair`` with a distance file."""
    X = np.random.default_rng(6).normal(size=(40, 2))
    pd.DataFrame(X, columns=["x", "y"]).to_csv(tmp_path / "d.csv", index=False)
    np.save(tmp_path / "xy.npy", _euclid(X))
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "infoimb", "pair", "d.csv", "--a-distances", "xy.npy",
                        "--b", "x", "--json"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["a_to_b"] == pytest.approx(information_imbalance(X, X[:, 0]), abs=1e-12)


def test_cli_pair_and_matrix_with_distance_files(tmp_path, _cli):
    X = np.random.default_rng(6).normal(size=(150, 3))
    df = pd.DataFrame(X, columns=["x", "y", "z"])
    df["id"] = [f"p{i}" for i in range(150)]
    df.to_csv(tmp_path / "data.csv", index=False)
    D = _euclid(X[:, :2])
    np.save(tmp_path / "xy.npy", D)
    perm = np.random.default_rng(7).permutation(150)
    M = pd.DataFrame(D[np.ix_(perm, perm)], columns=[f"p{i}" for i in perm])
    M.insert(0, "id", [f"p{i}" for i in perm])
    M.to_csv(tmp_path / "xy_ids.csv", index=False)
    want = imbalance_pair(X[:, :2], X[:, :1])

    r = _cli("pair", "data.csv", "--a-distances", "xy.npy", "--b", "x", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["a_to_b"], out["b_to_a"]) == pytest.approx((want.a_to_b, want.b_to_a), abs=1e-12)
    assert out["a"] == "@xy.npy" and out["b"] == "x"
    r = _cli("pair", "data.csv", "--a", "x", "--b-distances", "xy_ids.csv", "--id-column", "id",
             "--json", cwd=tmp_path)
    out = json.loads(r.stdout)
    assert (out["b_to_a"], out["a_to_b"]) == pytest.approx((want.a_to_b, want.b_to_a), abs=1e-12)

    r = _cli("matrix", "data.csv", "--spaces", "xy=@xy.npy;x=x;full=x,y,z", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["names"] == ["xy", "x", "full"]
    assert out["delta"]["xy"]["x"] == pytest.approx(want.a_to_b, abs=1e-12)
    assert out["delta"]["full"]["xy"] == pytest.approx(information_imbalance(X, X[:, :2]), abs=1e-12)
    r = _cli("matrix", "data.csv", "--spaces", "xy=@xy.npy;x=x", "--csv", cwd=tmp_path)
    table = pd.read_csv(__import__("io").StringIO(r.stdout))
    assert list(table.columns) == ["from", "xy", "x"] and table.loc[0, "x"] == pytest.approx(want.a_to_b)
    r = _cli("matrix", "data.csv", "--spaces", "xy=@xy.npy;x=x", cwd=tmp_path)
    assert "Δ(row → column), N = 150, k = 1, exact" in r.stdout

    r = _cli("pair", "data.csv", "--a-distances", "xy.npy", "--b", "x", "--permutations", "19",
             "--seed", "0", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    want_p = imbalance_pair(load_distance_matrix(D), X[:, :1], n_permutations=19, random_state=0)
    assert json.loads(r.stdout)["p_a_to_b"] == want_p.p_a_to_b == 0.05  # 1 / (1 + 19)

    # an asymmetric matrix: refused unless declared; float32 on request
    A = D.copy()
    A[0, 1] += 0.5
    np.save(tmp_path / "asym.npy", A)
    r = _cli("pair", "data.csv", "--a-distances", "asym.npy", "--b", "x", cwd=tmp_path)
    assert r.returncode == 2 and "not symmetric" in r.stderr
    r = _cli("pair", "data.csv", "--a-distances", "asym.npy", "--b", "x", "--asymmetric",
             "--dtype", "float32", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["a_to_b"] == pytest.approx(
        R.imbalance_from_matrices(A.astype(np.float32).astype(np.float64), R.distance_matrix(X[:, :1])),
        abs=1e-12)

    for args, message in [
        (("pair", "data.csv", "--a-distances", "nope.npy", "--b", "x"), "no such file 'nope.npy'"),
        (("pair", "data.csv", "--a", "x", "--a-distances", "xy.npy", "--b", "y"),
         "give one of them, not both"),
        (("pair", "data.csv", "--a-distances", "xy.npy"), "give --b"),
        (("pair", "data.csv", "--a-distances", "xy.npy", "--b", "x", "--max-matrix-mb", "0.01"),
         "over the limit"),
        (("matrix", "data.csv", "--spaces", "xy=@xy.npy"), "need at least two spaces"),
        (("matrix", "data.csv", "--spaces", "xy"), "expected NAME=col1,col2 or NAME=@matrix.npy"),
        (("matrix", "data.csv", "--spaces", "a=x;a=y"), "space 'a' is given twice"),
        (("matrix", "data.csv", "--spaces", "a=@xy_ids.csv;b=x"), r"\['id'\] are not numeric"),
        (("matrix", "data.csv", "--spaces", "a=@xy.npy;b=x", "--id-column", "nope"),
         "--id-column: no column 'nope'"),
    ]:
        r = _cli(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stdout)
        assert message in r.stderr or __import__("re").search(message, r.stderr), (args, r.stderr)


def test_float32_npy_is_sized_as_float32_when_no_dtype_is_asked(tmp_path):
    # 30 x 30 float32 is 3600 bytes: a limit between 4 N^2 and 8 N^2 bytes admits it (it stays
    # float32), and still refuses the same matrix asked for as float64
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    D = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1)).astype(np.float32)
    path = tmp_path / "d32.npy"
    np.save(path, D)
    m = load_distance_matrix(path, max_bytes=5000)
    assert m.values.dtype == np.float32 and m.values.shape == (30, 30)
    with pytest.raises(ValueError, match="float64"):
        load_distance_matrix(path, max_bytes=5000, dtype=np.float64)
