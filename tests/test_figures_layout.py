"""The layout of the figures at 1280 x 800: nothing on top of something else, nothing cut.

Geometry in pixels from the figure's layout: a plot area is ``height - margin.t - margin.b``
tall; the legend under it starts ``-legend.y * plot height`` below it and is about 30 px a
row; the caption starts ``-yshift`` px below it, 15 px a line. The browser test
(tests/test_browser_figures.py) measures the same things on the rendered pages.
Also: the weights' half-sample standard errors against a brute-force reimplementation.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import figures as F
from infoimb.lags import lag_scan
from infoimb.weights import WeightsResult, optimize_weights

ROW_PX = 30


def caption_ann(fig):
    return next(a for a in fig.layout.annotations if a.yshift is not None and a.yshift <= -62)


def plot_height(fig) -> float:
    return fig.layout.height - fig.layout.margin.t - fig.layout.margin.b


def assert_legend_clear_of_caption(fig, rows: int) -> None:
    """The legend (under the x axis title) ends above the caption, which ends inside the figure."""
    legend_top = -fig.layout.legend.y * plot_height(fig)
    assert fig.layout.legend.yanchor == "top" and legend_top >= 60  # under the tick labels and axis title
    cap = caption_ann(fig)
    assert legend_top + rows * ROW_PX + 2 <= -cap.yshift
    lines = cap.text.count("<br>") + 1
    assert -cap.yshift + 15 * lines <= fig.layout.margin.b


def assert_title_below_toolbar(fig) -> None:
    t = fig.layout.title
    assert t.yref == "container" and t.yanchor == "top"
    assert (1 - t.y) * fig.layout.height >= F.TOOLBAR_PX - 1e-9
    # the plot starts under the title (17 px) and its subtitle (about 18 px)
    assert fig.layout.margin.t >= F.TOOLBAR_PX + 17 + (18 if t.subtitle.text else 0)


def plain_caption(fig) -> str:
    return re.sub(r"<br>", "", caption_ann(fig).text)


PAIRS = [dict(a_to_b=0.0084, b_to_a=0.0041, a_to_b_se=0.0004, b_to_a_se=0.0001, label="xy vs full",
              series="A vs B"),
         dict(a_to_b=0.548, b_to_a=0.064, a_to_b_se=0.01, b_to_a_se=0.005, label="x", series="each feature"),
         dict(a_to_b=0.560, b_to_a=0.064, a_to_b_se=0.01, b_to_a_se=0.005, label="y", series="each feature"),
         dict(a_to_b=0.99, b_to_a=0.50, a_to_b_se=0.01, b_to_a_se=0.02, label="z", series="each feature")]
CAPTION = "example: gauss3d · N = 1000 · k = 1 · euclidean · scaling: none · exact · 200 random queries"


# --------------------------------------------------------------------------------------
# the plane
# --------------------------------------------------------------------------------------
def test_plane_legend_below_its_axis_and_above_its_caption():
    fig = F.imbalance_plane(PAIRS, caption=CAPTION)
    assert fig.layout.legend.orientation == "h" and fig.layout.showlegend is True
    assert F.legend_rows(fig, 64) == 1
    assert_legend_clear_of_caption(fig, 1)
    assert_title_below_toolbar(fig)
    assert fig.layout.xaxis.title.text == "Δ(A → B)" and fig.layout.yaxis.title.text == "Δ(B → A)"
    assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin  # room for the tick text


def test_plane_caption_is_broken_not_cut_and_keeps_its_separators():
    fig = F.imbalance_plane(PAIRS, caption=CAPTION)
    cap = caption_ann(fig)
    lines = cap.text.split("<br>")
    assert len(lines) == 2 and all(len(line) <= 64 for line in lines)
    assert lines[0].endswith(" ·") and lines[-1].endswith("200 random queries")  # "· 200 rand" is whole
    assert cap.text.replace(" ·<br>", " · ") == CAPTION
    # the caption starts at the figure's left edge (under the y axis title), not at the plot's
    assert cap.xshift == F.CAPTION_XSHIFT and cap.xanchor == "left"


def test_plane_labels_of_close_points_do_not_overlap():
    fig = F.imbalance_plane(PAIRS, caption=CAPTION)
    ppu = F._plane_px_per_unit(fig, 64)
    labelled = [t for t in fig.data if t.mode and "text" in t.mode]
    boxes = []
    for t in labelled:
        for x, y, text, pos in zip(t.x, t.y, t.text, t.textposition):
            if text:
                boxes.append(F.label_box(x, y, text, pos, ppu))
    texts = sorted(str(v) for t in labelled for v in t.text if v)
    assert texts == ["x", "y", "z"]  # x and y, 0.012 apart, both labelled: one to the left, one to the right
    xy = {str(v): p for t in labelled for v, p in zip(t.text, t.textposition) if v}
    assert xy["x"].endswith("left") and xy["y"].endswith("right")
    assert not any(F._overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_place_labels_drops_a_label_with_no_free_place():
    # five points on top of each other: one label, the others left to the hover
    x = [0.5, 0.5005, 0.501, 0.5015, 0.502]
    pos = F.place_labels(x, [0.5] * 5, [f"d={i}" for i in range(5)], px_per_unit=270)
    assert sum(p is not None for p in pos) < 5 and pos[0] == "top left"  # its neighbours are to the right
    # near the edge of the plane, a label does not leave it
    pos = F.place_labels([1.04], [1.04], ["long label"], px_per_unit=270)
    assert pos == ["bottom left"]


# --------------------------------------------------------------------------------------
# selection: caption separator, d labels
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def selection():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 6)), columns=[f"x{i}" for i in range(6)])
    y = 3 * X["x0"] - 10 * X["x2"]
    return infoimb.select_features(X, y.rename("y"), method="greedy", max_features=6, n_random=3,
                                   random_state=0)


SELECTION_CAPTION = ("example: policy_panel · N = 3120 pairs · k = 1 · exact · greedy · "
                     "criterion: Δ(S → target) · scaling: none · target at t+2 (1 step = 7 days), within each id · "
                     "5 random subsets per size")


def test_selection_captions_keep_a_separator_at_each_break(selection):
    for fig in (F.selection_curve(selection, caption=SELECTION_CAPTION),
                F.selection_path(selection, caption=SELECTION_CAPTION)):
        text = plain_caption(fig)
        assert "greedycriterion" not in text and "greedy · criterion" in text
        assert caption_ann(fig).text.count("<br>") == caption_ann(fig).text.count(" ·<br>") >= 2
        assert all(len(line) <= 64 for line in caption_ann(fig).text.split("<br>"))
        assert_title_below_toolbar(fig)


def test_selection_path_d_labels_never_overlap(selection):
    fig = F.selection_path(selection, caption=SELECTION_CAPTION)
    marker = next(t for t in fig.data if t.name == "best subset of size d")
    ppu = F._plane_px_per_unit(fig, 64)
    shown = [(x, y, t, p) for x, y, t, p in zip(marker.x, marker.y, marker.text, marker.textposition) if t]
    boxes = [F.label_box(x, y, t, p, ppu) for x, y, t, p in shown]
    assert not any(F._overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert "d=2" in [t for *_, t, _ in shown]  # the suggested size is labelled first
    assert selection.suggested_size == 2 and len(shown) >= 2


# --------------------------------------------------------------------------------------
# legends under full-width figures: lag scan and causality
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scan():
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=n)
    y = np.roll(x, 2) + 0.3 * rng.normal(size=n)
    df = pd.DataFrame({"t": np.arange(n), "x": x, "y": y})
    return lag_scan(df, "x", "y", lags=range(-3, 4), time="t", n_permutations=19, random_state=0)


def test_lag_scan_legend_rows_and_caption(scan):
    fig = F.lag_scan_curve(scan, source_name="policies", target_name="epidemic_state",
                           caption=CAPTION + " · " + CAPTION)
    rows = F.legend_rows(fig, 150)
    assert rows == 2  # four entries do not fit one row of a full-width figure
    assert_legend_clear_of_caption(fig, rows)
    assert_title_below_toolbar(fig)


def test_causality_legend_clear_of_caption():
    rng = np.random.default_rng(2)
    n = 400
    x = rng.normal(size=n).cumsum() * 0.1
    y = np.roll(x, 1) + 0.1 * rng.normal(size=n)
    res = infoimb.causality_test(x, y, tau=1, alphas=np.linspace(0, 1, 5))
    fig = F.causality_curves(res, caption=CAPTION)
    assert_legend_clear_of_caption(fig, F.legend_rows(fig, 150))
    assert_title_below_toolbar(fig)


# --------------------------------------------------------------------------------------
# weights: the history axis, w ± se
# --------------------------------------------------------------------------------------
def test_history_range_holds_the_data_tightly():
    lo, hi = F.history_range([0.707, 0.7065, 0.704, 0.703])
    assert lo < 0.703 and hi > 0.707 and hi - lo == pytest.approx(0.004 * 1.24)
    assert F.history_range([0.0, 0.5]) == [0.0, pytest.approx(0.56)]  # not below 0 for Δ
    lo, hi = F.history_range([0.3, 0.3])
    assert lo < 0.3 < hi and hi - lo < 0.01  # a flat history still has a range


def small_weights(**kw):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(80, 2))
    b = a * [1.0, 4.0]
    return a, b, optimize_weights(a, b, method="coordinate", n_iter=3, random_state=5, **kw)


def test_weights_history_axis_is_autoscaled():
    _, _, res = small_weights()
    fig = F.weights_history(res, caption="N = 80")
    data = np.array([h["objective"] for h in res.history] + [res.delta_before, res.delta_after])
    lo, hi = fig.layout.yaxis.range
    assert lo <= data.min() and hi >= data.max()
    assert hi - lo <= 1.3 * (data.max() - data.min()) + 1e-9  # tight: not 0 to 1.5 × the top
    assert fig.layout.legend.orientation == "v" and fig.layout.legend.y < 0  # under the plot, not on the curve
    entries = [t.name for t in fig.data if t.showlegend is not False and t.name]
    assert len(entries) == 4 and plot_height(fig) >= F.MIN_PLOT_PX  # the figure grows for its legend
    assert_legend_clear_of_caption(fig, len(entries))


def test_format_pm_digits_follow_the_error():
    assert F.format_pm(0.70713, 0.0123) == "0.707 ± 0.012"
    assert F.format_pm(0.19864, 0.0043) == "0.1986 ± 0.0043"
    assert F.format_pm(1.0, 0.001007) == "1.0000 ± 0.0010"
    assert F.format_pm(123.4, 25.0) == "123 ± 25"
    assert F.format_pm(0.5, None) == "0.5" and F.format_pm(0.25, 0.0) == "0.25 ± 0"
    assert F.pm_decimals(0.0049) == 4 and F.pm_decimals(3.2) == 1


def test_weights_bars_show_w_pm_se():
    _, _, res = small_weights(n_resamples=4)
    fig = F.weights_bars(res, caption="N = 80")
    bar = fig.data[0]
    top = res.weights.max()
    np.testing.assert_allclose(bar.error_x.array, res.weights_se / top)
    assert [t.strip() for t in bar.text] == [F.format_pm(w / top, s / top) for w, s in zip(res.weights, res.weights_se)]
    assert all(" ± " in t for t in bar.text)
    assert fig.layout.xaxis.range[1] > 1.15  # room for the longer text outside the bars
    assert_title_below_toolbar(fig)


# --------------------------------------------------------------------------------------
# the weights' uncertainty
# --------------------------------------------------------------------------------------
def brute_force_se(a, b, weights, n_resamples, random_state, **kw):
    """The documented procedure, written out: half-samples from one generator, each replicate's
    weights scaled onto the main ones by least squares, the jackknife factor m / (N - m)."""
    n = a.shape[0]
    m = n // 2
    rng = np.random.default_rng(random_state)
    sd = a.std(axis=0)
    reps = []
    for _ in range(n_resamples):
        rows = np.sort(rng.choice(n, size=m, replace=False))
        w = optimize_weights(a[rows], b[rows], initial=1 / sd, random_state=rng, **kw).weights
        reps.append(w * (w @ weights) / (w @ w))
    return np.sqrt(m / (n - m)) * np.std(reps, axis=0, ddof=1)


@pytest.mark.parametrize("method, kw", [("coordinate", {"n_iter": 3}), ("dii", {"n_iter": 30})])
def test_weights_se_against_a_brute_force_half_sample(method, kw):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(70, 3))
    b = np.column_stack([a[:, 0], 3 * a[:, 1]]) + 0.3 * rng.normal(size=(70, 2))
    res = optimize_weights(a, b, method=method, n_resamples=5, random_state=11, **kw)
    plain = optimize_weights(a, b, method=method, random_state=11, **kw)
    np.testing.assert_array_equal(res.weights, plain.weights)  # the option does not change the weights
    expected = brute_force_se(a, b, res.weights, 5, 11, method=method, **kw)
    np.testing.assert_allclose(res.weights_se, expected, rtol=1e-12, atol=1e-15)
    assert res.n_resamples == 5 and (res.weights_se > 0).all()
    assert plain.weights_se is None and plain.n_resamples == 0


def test_weights_se_with_queries_and_round_trip():
    a, b, res = small_weights(n_resamples=3, n_queries=50)
    back = WeightsResult.from_dict(res.to_dict())
    np.testing.assert_array_equal(back.weights_se, res.weights_se)
    assert back.n_resamples == 3 and res.weights_se.shape == (2,)
    # the noise-free case: every half-sample finds the ratio 1 : 4 on the grid, so the error is small
    assert (res.weights_se < 0.1).all()
    old = {k: v for k, v in res.to_dict().items() if k not in ("weights_se", "n_resamples")}
    assert WeightsResult.from_dict(old).weights_se is None  # results stored before the option read back


@pytest.mark.parametrize("value, message", [(1, "n_resamples must be 0 .* or at least 2, got 1"),
                                            (-2, "n_resamples"), (2.5, "n_resamples")])
def test_weights_se_bad_n_resamples(value, message):
    a = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises((ValueError, TypeError), match=message):
        optimize_weights(a, a * [1.0, 2.0], method="coordinate", n_resamples=value)


def test_weights_se_refused_when_half_samples_are_too_small():
    a = np.random.default_rng(0).normal(size=(8, 2))
    with pytest.warns(infoimb.SmallSampleWarning), \
            pytest.raises(ValueError, match="n_resamples: half-samples of 4 rows are too small for k = 3"):
        optimize_weights(a, a * [1.0, 2.0], method="coordinate", k=3, n_resamples=4)


# --------------------------------------------------------------------------------------
# the dashboard's tables: numbers are never cut
# --------------------------------------------------------------------------------------
def test_grid_columns_fit_their_numbers():
    from infoimb.web.ui import CELL_PAD_PX, CHAR_PX, TEXT_PX, column_defs

    cols = ["series", "Δ(A→B)", "CI (A→B)", "q (A→B)", "why"]
    cells = [["each feature vs full space", "A vs B"], ["0.0084 ± 0.0001", "0.5482 ± 0.0123"],
             ["[0.008, 0.009]", "[0.531, 0.566]"], ["0.00571", ""],
             ["not significant on its own (p = 0.41) and below the minimum gain", "—"]]
    defs = dict(zip(cols, column_defs(cols, cells)))
    for c in ("Δ(A→B)", "CI (A→B)", "q (A→B)"):
        widest = max(len(v) for v in cells[cols.index(c)])
        assert defs[c]["minWidth"] >= widest * CHAR_PX + CELL_PAD_PX and "wrapText" not in defs[c]
    assert defs["why"]["wrapText"] and defs["why"]["autoHeight"] and defs["why"]["minWidth"] == TEXT_PX
    assert defs["series"]["wrapText"]
    # a list of features too long for four lines is a detail: its beginning, the rest on hover
    (features,) = column_defs(["features"], [[", ".join(["international_movement_restrictions"] * 4)]])
    assert features["cellClass"] == "cell-detail" and "wrapText" not in features
    # spare width is shared in proportion to the widths
    assert defs["Δ(A→B)"]["flex"] > defs["q (A→B)"]["flex"]


def test_weights_table_shows_the_digits_the_error_justifies():
    from infoimb.web.analyses import weights as page

    record = {"result": {"columns": ["x", "y", "z"], "weights": [1.0, 0.98123, 0.0213],
                         "weights_se": [0.0011, 0.0123, 0.0049]}}
    assert page.weight_rows(record) == [{"feature": "x", "weight": "1.0000", "± se": "0.0011"},
                                        {"feature": "y", "weight": "0.981", "± se": "0.012"},
                                        {"feature": "z", "weight": "0.0213", "± se": "0.0049"}]
    record["result"]["weights_se"] = None
    assert page.weight_rows(record)[1] == {"feature": "y", "weight": "0.9812"}


def test_plane_labels_avoid_the_region_names_when_they_can():
    pts = [dict(a_to_b=0.50, b_to_a=0.58, label="d=3", series="s"), dict(a_to_b=0.60, b_to_a=0.66, label="d=2",
                                                                          series="s")]
    fig = F.imbalance_plane(pts, caption=CAPTION)
    ppu = F._plane_px_per_unit(fig, 64)
    regions = [b for a in fig.layout.annotations for b in F.annotation_boxes(a, ppu)]
    sym = next(a for a in fig.layout.annotations if a.text == "symmetric sharing")
    assert len(F.annotation_boxes(sym, ppu)) >= 2  # the turned text: boxes along the diagonal
    trace = fig.data[-1]
    boxes = [F.label_box(x, y, t, p, ppu) for x, y, t, p in zip(trace.x, trace.y, trace.text, trace.textposition)]
    assert list(trace.text) == ["d=3", "d=2"]
    assert not any(F._overlap(b, r) for b in boxes for r in regions)


def test_the_scales_python_call_reproduces_the_standard_errors():
    from infoimb.web import reproduce

    s = {"a": {"columns": ["x", "y"]}, "b": {"columns": ["z"]}, "method": "coordinate", "k": 1, "n_queries": None,
         "n_iter": None, "l1": 0.0, "max_evaluations": None, "scaling": "none", "periodic": {}, "random_state": 0,
         "n_resamples": 8}
    code, argv, _ = reproduce._weights(s, {}, "t.csv", None)
    assert "n_resamples=8, random_state=0" in code
    code, _, _ = reproduce._weights(dict(s, n_resamples=0), {}, "t.csv", None)
    assert "n_resamples" not in code  # the library's default: no standard errors
