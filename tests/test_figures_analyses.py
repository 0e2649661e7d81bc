"""Figure builders of the analysis pages on real results: the traces and values they show."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import infoimb
from infoimb import figures as F
from infoimb.causality import causality_test
from infoimb.lags import lag_scan
from infoimb.weights import optimize_weights


def caption_of(fig) -> str:
    return next(a.text for a in fig.layout.annotations if a.yshift is not None and a.yshift <= -62)


# --------------------------------------------------------------------------------------
# selection
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def selection():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(400, 5)), columns=[f"x{i}" for i in range(5)])
    y = 3 * X["x0"] - 10 * X["x2"]
    return infoimb.select_features(X, y.rename("y"), method="greedy", max_features=4, n_random=6, dummy=True,
                                   random_state=0)


def test_selection_curve_shows_each_step_with_errors_and_the_random_band(selection):
    fig = F.selection_curve(selection, caption="N = 400 · k = 1")
    main = next(t for t in fig.data if t.name == "best subset of each size")
    assert list(main.x) == [1, 2, 3, 4]
    np.testing.assert_allclose(main.y, [s.criterion for s in selection.steps])
    np.testing.assert_allclose(main.error_y.array, [s.criterion_se for s in selection.steps])
    assert main.error_y.visible is True
    # the band: mean - sd (invisible edge), then mean + sd filled down to it
    low, high = fig.data[0], fig.data[1]
    np.testing.assert_allclose(low.y, [s.random_mean - s.random_sd for s in selection.steps])
    np.testing.assert_allclose(high.y, [s.random_mean + s.random_sd for s in selection.steps])
    assert high.fill == "tonexty" and high.name == "random subsets (mean ± sd)"
    mean = next(t for t in fig.data if t.name == "random subsets: mean")
    np.testing.assert_allclose(mean.y, [s.random_mean for s in selection.steps])
    ring = next(t for t in fig.data if t.name.startswith("suggested size"))
    assert ring.name == f"suggested size: d = {selection.suggested_size}" == "suggested size: d = 2"
    assert list(ring.x) == [2] and ring.y[0] == pytest.approx(selection.best(2).criterion)
    # the features added at each step are in the hover
    assert [c[1] for c in main.customdata] == ["x2", "x0", *main.customdata[2:, 1]]
    assert fig.layout.xaxis.title.text == "number of features d"
    assert fig.layout.yaxis.title.text == "Δ(S → target)"
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] > max(high.y)
    assert caption_of(fig) == "N = 400 · k = 1"
    assert fig.layout.legend.yanchor == "top" and fig.layout.legend.y == 0.99  # inside, top right


def test_selection_curve_from_the_stored_dict_is_the_same(selection):
    a = F.selection_curve(selection)
    b = F.selection_curve(selection.to_dict())
    for ta, tb in zip(a.data, b.data):
        np.testing.assert_allclose(np.asarray(ta.y, dtype=float), np.asarray(tb.y, dtype=float))
    sym = F.selection_curve(selection.to_dict()["steps"], criterion="symmetric", target_name="energy",
                            suggested_size=3)
    assert sym.layout.yaxis.title.text == "[Δ(S → energy) + Δ(energy → S)] / √2"
    assert next(t for t in sym.data if t.name.startswith("suggested")).x[0] == 3


def test_selection_path_in_the_plane(selection):
    fig = F.selection_path(selection, caption="a · b")
    marker = next(t for t in fig.data if t.name == "best subset of size d")
    np.testing.assert_allclose(marker.x, [s.a_to_b for s in selection.steps])
    np.testing.assert_allclose(marker.y, [s.b_to_a for s in selection.steps])
    np.testing.assert_allclose(marker.error_x.array, [s.a_to_b_se for s in selection.steps])
    assert marker.text[0] == "d=1" and marker.text[1] == "d=2"  # far apart: both labelled
    # labels never crowd: any two shown are at least 0.045 apart
    shown = [(x, y) for x, y, t in zip(marker.x, marker.y, marker.text) if t]
    assert all(np.hypot(p[0] - q[0], p[1] - q[1]) >= 0.045 for i, p in enumerate(shown) for q in shown[i + 1:])
    path = fig.data[1]
    assert path.mode == "lines" and list(path.x) == list(marker.x)  # joined in order of size, under the markers
    ring = fig.data[-1]
    assert ring.name == "suggested size: d = 2" and ring.x[0] == pytest.approx(selection.best(2).a_to_b)
    assert fig.layout.xaxis.title.text == "Δ(S → target)" and fig.layout.yaxis.title.text == "Δ(target → S)"
    assert {s.name for s in fig.layout.shapes} >= {"a_contains_b", "b_contains_a", "equivalent"}


# --------------------------------------------------------------------------------------
# lags
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scan():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    y = np.r_[0, 0, x[:-2]] + 0.1 * rng.normal(size=400)
    df = pd.DataFrame({"t": np.arange(400), "x": x, "y": y})
    return lag_scan(df, "x", "y", lags=range(-3, 4), time="t")


def test_lag_scan_curve_both_directions_best_lag_and_labels(scan):
    fig = F.lag_scan_curve(scan, source_name="x", target_name="y", step="1 in t", caption="one series")
    fwd, bwd = fig.data[0], fig.data[1]
    assert list(fwd.x) == list(bwd.x) == [-3, -2, -1, 0, 1, 2, 3]
    np.testing.assert_allclose(fwd.y, scan.forward)
    np.testing.assert_allclose(fwd.error_y.array, scan.forward_se)
    np.testing.assert_allclose(bwd.y, scan.backward)
    np.testing.assert_allclose(bwd.error_y.array, scan.backward_se)
    assert fwd.name == "Δ(x<sub>t</sub> → y<sub>t+δ</sub>)" and bwd.name == "Δ(y<sub>t+δ</sub> → x<sub>t</sub>)"
    best = fig.data[2]
    assert scan.best_lag == 2 and list(best.x) == [2] and best.text == ("best δ = 2",)
    assert best.y[0] == pytest.approx(scan.forward[5])
    assert [int(v) for v in (c[1] for c in fwd.customdata)] == list(scan.n_pairs)
    assert fig.layout.xaxis.title.text == "lag δ (steps of 1 in t)"
    texts = [a.text for a in fig.layout.annotations]
    assert "← y's past" in texts and "y's future →" in texts and caption_of(fig) == "one series"
    assert fig.layout.legend.orientation == "h"


def test_lag_scan_curve_from_the_stored_dict(scan):
    fig = F.lag_scan_curve(scan.to_dict())
    np.testing.assert_allclose(fig.data[0].y, scan.forward)
    assert fig.data[2].x[0] == 2
    assert fig.layout.xaxis.title.text == "lag δ (steps)"


# --------------------------------------------------------------------------------------
# causality
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def causality():
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    y = np.zeros(600)
    for t in range(1, 600):
        y[t] = 0.3 * y[t - 1] + x[t - 1] + 0.1 * rng.normal()
    return causality_test(x, y, tau=1, alphas=np.linspace(0, 1, 11))


def test_causality_curves_both_ways_with_alpha_star_and_gains(causality):
    fig = F.causality_curves(causality, cause_name="x", effect_name="y", caption="τ = 1")
    curves = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(curves) == 2
    xy, yx = causality.x_to_y, causality.y_to_x
    for trace, g in zip(curves, (xy, yx)):
        np.testing.assert_allclose(trace.x, g.alphas)
        np.testing.assert_allclose(trace.y, g.delta)
        np.testing.assert_allclose(trace.error_y.array, g.delta_se)
    assert curves[0].name == "Δ((α·x<sub>0</sub>, y<sub>0</sub>) → y<sub>τ</sub>)"
    assert curves[1].name == "Δ((α·y<sub>0</sub>, x<sub>0</sub>) → x<sub>τ</sub>)"
    assert curves[0].xaxis == "x" and curves[1].xaxis == "x2"  # one panel per direction
    stars = [t for t in fig.data if t.mode == "markers+text"]
    assert [s.x[0] for s in stars] == [xy.alpha_star, yx.alpha_star]
    assert stars[0].y[0] == pytest.approx(xy.delta.min())
    heads = [a.text for a in fig.layout.annotations]
    assert f"x → y: IG = {xy.gain:.3f} ± {xy.gain_se:.3f}" in heads
    assert f"y → x: IG = {yx.gain:.3f} ± {yx.gain_se:.3f}" in heads
    assert xy.gain > 0.5 and causality.verdict == "x drives y"
    assert fig.layout.xaxis.title.text == "α, the weight of x<sub>0</sub>"
    assert fig.layout.yaxis.title.text == "Δ(α)"
    assert caption_of(fig) == "τ = 1"
    # the dotted line of each panel is Δ(0), the effect's own present
    assert [s.y0 for s in fig.layout.shapes] == pytest.approx([xy.delta[0], yx.delta[0]])
    same = F.causality_curves(causality.to_dict(), cause_name="x", effect_name="y")
    np.testing.assert_allclose(same.data[0].y, xy.delta)


# --------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def weights():
    rng = np.random.default_rng(0)
    a = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    return {m: optimize_weights(a, a.to_numpy() * [1.0, 5.0, 0.5], method=m, n_iter=60 if m == "dii" else None)
            for m in ("dii", "coordinate")}


def test_weights_bars_normalised_in_column_order(weights):
    res = weights["dii"]
    fig = F.weights_bars(res, a_name="A", b_name="B", caption="N = 300")
    bar = fig.data[0]
    assert list(bar.y) == ["a", "b", "c"] and bar.orientation == "h"
    np.testing.assert_allclose(bar.x, res.weights / res.weights.max())
    assert max(bar.x) == 1.0 and list(bar.text) == [f"{v:.3g}" for v in bar.x]
    np.testing.assert_allclose(np.asarray(bar.x) / bar.x[1] * 5, [1.0, 5.0, 0.5], rtol=0.1)
    assert fig.layout.xaxis.title.text == "weight (largest = 1)"
    assert fig.layout.yaxis.autorange == "reversed"  # the first column on top
    eighty = dataclasses.replace(res, columns=tuple(f"f{i}" for i in range(80)), weights=np.arange(80.0))
    many = F.weights_bars(eighty, max_bars=10)
    assert list(many.data[0].y) == [f"f{i}" for i in range(70, 80)]
    assert "the 10 largest of 80" in many.layout.title.subtitle.text


def test_weights_history_dii_and_coordinate(weights):
    dii = weights["dii"]
    fig = F.weights_history(dii.to_dict())
    curve = fig.data[0]
    assert list(curve.x) == list(range(60))
    np.testing.assert_allclose(curve.y, [h["objective"] for h in dii.history])
    before = next(t for t in fig.data if t.name.startswith("Δ before"))
    after = next(t for t in fig.data if t.name.startswith("Δ after"))
    assert list(before.y) == [dii.delta_before] * 2 and list(after.y) == [dii.delta_after] * 2
    assert before.name == f"Δ before (unit weights): {dii.delta_before:.4f}"
    assert fig.layout.xaxis.title.text == "gradient step"
    coord = weights["coordinate"]
    fig = F.weights_history(coord)
    trials, best = fig.data[0], fig.data[1]
    objective = [h["objective"] for h in coord.history]
    assert list(trials.x) == list(range(1, len(objective) + 1))
    np.testing.assert_allclose(trials.y, objective)
    np.testing.assert_allclose(best.y, np.minimum.accumulate(objective))
    assert best.name == "best so far" and fig.layout.yaxis.title.text == "Δ(weighted A → B)"


def test_long_captions_are_wrapped_and_names_escaped(selection):
    cap = " · ".join(f"part number {i}" for i in range(12))
    fig = F.selection_curve(selection, caption=cap, caption_chars=40, target_name="<b>t</b>")
    text = caption_of(fig)
    assert text.count("<br>") >= 3 and all(len(line) <= 40 for line in text.split("<br>"))
    # a broken line ends with its separator (" ·<br>"): the parts never run together
    assert text.replace(" ·<br>", " · ") == cap and "<br>" not in text.replace(" ·<br>", "")
    assert fig.layout.yaxis.title.text == "Δ(S → &lt;b&gt;t&lt;/b&gt;)"
