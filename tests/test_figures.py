"""Figure builders: the traces, values, regions and labels they draw."""

from __future__ import annotations

import numpy as np
import pytest

import infoimb
from infoimb import figures as F
from infoimb.imbalance import classify_relation

X = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 1, 0.1]


@pytest.fixture(scope="module")
def pairs():
    full_x = infoimb.imbalance_pair(X, X[:, :1]).to_dict()
    full_xy = infoimb.imbalance_pair(X, X[:, :2]).to_dict()
    x_y = infoimb.imbalance_pair(X[:, :1], X[:, 1:2]).to_dict()
    return [dict(full_x, label="x", series="full vs each feature"),
            dict(full_xy, label="xy", series="full vs each feature"),
            dict(x_y, label="x vs y", series="pairs")]


def _point_in_path(path: str, x: float, y: float) -> bool:
    pts = [tuple(map(float, p.split(","))) for p in path.replace("M", "").replace("Z", "").split("L")]
    inside = False
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def region_at(fig, x, y) -> str:
    """The region whose shape is drawn on top at (x, y) (shapes are opaque, later on top)."""
    hit = None
    for shape in fig.layout.shapes:
        if _point_in_path(shape.path, x, y):
            hit = shape.name
    return hit


def test_plane_points_errors_and_series(pairs):
    fig = F.imbalance_plane(pairs, a_name="full space", b_name="single features")
    data = sorted((t for t in fig.data if t.mode and "markers" in t.mode), key=lambda t: t.legendrank)
    assert [t.name for t in data] == ["full vs each feature", "pairs"]
    assert fig.data[-1].name == "full vs each feature"  # the first series is drawn on top
    first = data[0]
    np.testing.assert_allclose(first.x, [0.063748, 0.004146], atol=1e-6)
    np.testing.assert_allclose(first.y, [0.548194, 0.008404], atol=1e-6)
    np.testing.assert_allclose(first.error_x.array, [pairs[0]["a_to_b_se"], pairs[1]["a_to_b_se"]])
    np.testing.assert_allclose(first.error_y.array, [pairs[0]["b_to_a_se"], pairs[1]["b_to_a_se"]])
    assert list(first.text) == ["x", "xy"]
    np.testing.assert_allclose(data[1].x, [0.9928], atol=1e-4)
    assert fig.layout.showlegend is True


def test_plane_axes_are_square_and_labelled(pairs):
    fig = F.imbalance_plane(pairs, caption="N = 1000 · k = 1")
    assert fig.layout.xaxis.title.text == "Δ(A → B)"
    assert fig.layout.yaxis.title.text == "Δ(B → A)"
    assert tuple(fig.layout.xaxis.range) == (0, 1.05) and tuple(fig.layout.yaxis.range) == (0, 1.05)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    diag = fig.data[0]
    assert list(diag.x) == [0, 1.05] and list(diag.y) == [0, 1.05]
    texts = [a.text for a in fig.layout.annotations]
    assert "N = 1000 · k = 1" in texts
    for name in ("A contains B", "B contains A", "symmetric sharing", "equivalent", "independent"):
        assert any(name in t for t in texts), name


@pytest.mark.parametrize("x, y", [(0.05, 0.05), (0.95, 0.97), (0.06, 0.55), (0.55, 0.06), (0.4, 0.45),
                                  (0.3, 0.9), (0.85, 0.3), (0.5, 0.5), (0.02, 0.3), (0.93, 0.85)])
def test_plane_regions_match_classify_relation(x, y):
    fig = F.imbalance_plane([])
    assert region_at(fig, x, y) == classify_relation(x, y)
    assert {s.name for s in fig.layout.shapes} == set(F.REGION_COLORS)
    for s in fig.layout.shapes:
        assert s.fillcolor == F.REGION_COLORS[s.name] and s.layer == "below"


def test_plane_regions_follow_thresholds():
    fig = F.imbalance_plane([], low=0.2, high=0.8, margin=0.15)
    for x, y in [(0.15, 0.15), (0.85, 0.82), (0.3, 0.5), (0.5, 0.3), (0.4, 0.5)]:
        assert region_at(fig, x, y) == classify_relation(x, y, low=0.2, high=0.8, margin=0.15)


def test_plane_labels_escape_html_and_many_points_get_no_text():
    pts = [dict(a_to_b=0.1, b_to_a=0.5, label="<b>x</b>", series="one"),
           dict(a_to_b=0.2, b_to_a=0.6, label="<script>y</script>", series="one")]
    fig = F.imbalance_plane(pts, a_name="<i>A</i>")
    trace = fig.data[-1]
    assert list(trace.text) == ["&lt;b&gt;x&lt;/b&gt;", "&lt;script&gt;y&lt;/script&gt;"]
    assert "&lt;i&gt;A&lt;/i&gt;" in fig.layout.title.subtitle.text
    many = [dict(a_to_b=0.01 * i, b_to_a=0.5, label=f"f{i}", series="features") for i in range(30)]
    fig = F.imbalance_plane(many, label_limit=12)
    assert fig.data[-1].mode == "markers" and fig.data[-1].text is None
    assert len(fig.data[-1].x) == 30


def test_rank_scatter_values_and_log_axes():
    rs = infoimb.rank_samples(X, X[:, :1], n_queries=200, n_scatter=20, n_partners=30, random_state=0)
    fig = F.rank_scatter(rs.rank_a, rs.rank_b, n=rs.n, a_name="full", b_name="x")
    pts = fig.data[1]
    np.testing.assert_array_equal(pts.x, rs.rank_a.ravel())
    np.testing.assert_array_equal(pts.y, rs.rank_b.ravel())
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.range == (0, np.log10(1000))
    assert "r<sub>A</sub>" in fig.layout.xaxis.title.text and "r<sub>B</sub>" in fig.layout.yaxis.title.text
    lin = F.rank_scatter([1, 2, 3], [3, 2, 1], n=20)
    assert lin.layout.xaxis.type == "linear"
    with pytest.raises(ValueError, match="differ in size"):
        F.rank_scatter([1, 2], [1, 2, 3])


def test_rank_histogram_splits_midranks_and_sums_to_one():
    left, right, frac = F.rank_histogram([1, 1, 2, 1.5, 3], n=10, n_bins=30)
    # integer bins at small ranks: 1 gets 2 + 0.5, 2 gets 1 + 0.5, 3 gets 1
    assert list(left[:3]) == [1, 2, 3] and list(right[:3]) == [2, 3, 4]
    np.testing.assert_allclose(frac[:3], [2.5 / 5, 1.5 / 5, 1 / 5])
    assert frac.sum() == pytest.approx(1.0)
    r = np.random.default_rng(1).integers(1, 1000, size=500)
    left, right, frac = F.rank_histogram(r, n=1000)
    assert frac.sum() == pytest.approx(1.0)
    assert np.all(right > left) and np.all(left[1:] == right[:-1])


def test_conditional_histograms_two_panels_with_means():
    rs = infoimb.rank_samples(X, X[:, :1], n_queries=None, random_state=0)
    fig = F.conditional_rank_histograms(rs.rank_b_given_a1, rs.rank_a_given_b1, n=rs.n, a_name="full",
                                        b_name="x")
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 2 and bars[0].xaxis == "x" and bars[1].xaxis == "x2"
    assert sum(bars[0].y) == pytest.approx(1.0) and sum(bars[1].y) == pytest.approx(1.0)
    texts = [a.text for a in fig.layout.annotations]
    assert "p(r<sub>B</sub> | r<sub>A</sub> = 1)" in texts and "p(r<sub>A</sub> | r<sub>B</sub> = 1)" in texts
    # with every point a query, the mean rank gives Delta back: 2 <r> / N
    delta_ab = 2 * np.mean(rs.rank_b_given_a1) / rs.n
    assert delta_ab == pytest.approx(0.063748, abs=1e-6)
    assert any(f"Δ(A→B) = {delta_ab:.3g}" in t for t in texts)
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"


def test_shared_style_applies_everywhere(pairs):
    for fig in (F.imbalance_plane(pairs), F.rank_scatter([1, 2], [2, 1], n=10),
                F.conditional_rank_histograms([1, 2], [2, 1], n=10)):
        assert fig.layout.font.family == F.FONT["family"]
        assert fig.layout.plot_bgcolor == "white"
        assert tuple(fig.layout.colorway) == F.COLORS


def test_figures_module_does_not_import_dash():
    import subprocess
    import sys

    code = "import sys, infoimb.figures; print('dash' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_settings_caption():
    cap = F.settings_caption({"k": 5, "metric": "manhattan", "n_queries": 300, "scaling": "rank"},
                             {"filename": "<b>a</b>.csv", "n_rows": 1000})
    assert cap == "&lt;b&gt;a&lt;/b&gt;.csv · N = 1000 · k = 5 · manhattan · scaling: rank · 300 random queries"
