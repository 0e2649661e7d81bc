"""Pure Plotly figure builders: results in, ``go.Figure`` out (no Dash import).

Shared styling lives at the top of this module (:data:`FONT`, :data:`COLORS`,
:data:`REGION_COLORS`, :func:`base_layout`); later analyses add their builders below and use
the same helpers, so every figure of the project looks alike.

Text that comes from user data (column and group names) goes through :func:`esc`, so names
holding ``<b>`` or ``<script>`` are shown as typed, never interpreted by Plotly.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "COLORS",
    "FONT",
    "REGION_COLORS",
    "REGION_NAMES",
    "base_layout",
    "causal_graph_figure",
    "causality_curves",
    "conditional_rank_histograms",
    "esc",
    "format_pm",
    "history_range",
    "imbalance_plane",
    "lag_scan_curve",
    "legend_rows",
    "label_box",
    "place_labels",
    "annotation_boxes",
    "pm_decimals",
    "rank_histogram",
    "rank_scatter",
    "selection_curve",
    "selection_path",
    "settings_caption",
    "weights_bars",
    "weights_history",
]

# ---- shared style -------------------------------------------------------------------
FONT = dict(family="Inter, 'Helvetica Neue', Helvetica, Arial, sans-serif", size=14, color="#1f2933")
#: the colour cycle of traces (colour-blind friendly, readable on a projector)
COLORS = ("#1b4f8a", "#d1495b", "#00798c", "#e39b1f", "#5b8c5a", "#6c4f9e", "#8d96a3", "#2e4057")
#: background shading of the regions of the information imbalance plane
REGION_COLORS = {
    "a_contains_b": "#dbe8f6",
    "b_contains_a": "#fbe3d3",
    "symmetric": "#ece7f4",
    "equivalent": "#d3ebd5",
    "independent": "#e6e6e6",
}
REGION_NAMES = {
    "a_contains_b": "A contains B",
    "b_contains_a": "B contains A",
    "symmetric": "symmetric sharing",
    "equivalent": "equivalent",
    "independent": "independent",
}
PLANE_MAX = 1.05
GRID = "#d5d9de"
MUTED = "#5f6b7a"
#: the band at the top of a figure where Plotly's toolbar (modebar) appears: titles start below it
TOOLBAR_PX = 32
#: the caption starts this far left of the plot area (under the y axis title), so it has the
#: figure's width, not the plot's
CAPTION_XSHIFT = -56
#: pixels per character of the caption (11 px) and of the legend (12 px): the figures are
#: responsive, so builders size captions and legend rows for a plot width given in caption
#: characters (``caption_chars``: 64 for a half-width figure at 1280 px, 150 for a full-width one)
CAPTION_CHAR_PX = 6.2
LEGEND_CHAR_PX = 7.0
#: a legend under the plot starts this far below it (under the tick labels and the axis title)
LEGEND_BELOW_PX = 64
#: a legend under the plot never squeezes the plot area below this height
MIN_PLOT_PX = 220


def esc(text) -> str:
    """Text from user data, escaped so Plotly shows it literally."""
    return html.escape(str(text), quote=False)


def base_layout(fig: go.Figure, *, title: str | None = None, subtitle: str | None = None,
                caption: str | None = None, height: int = 460, legend: bool = True) -> go.Figure:
    """The project's look: white background, one font, a left-aligned title, a grey caption
    (the settings that produced the figure) under the plot."""
    fig.update_layout(
        template="none",  # everything below is explicit: no global template, fast to build
        font=FONT,
        colorway=list(COLORS),
        height=height,
        margin=dict(l=70, r=24, t=(78 if subtitle else (56 if title else 24)) + (TOOLBAR_PX - 10 if title else 0),
                    b=70 + (22 if caption else 0)),
        paper_bgcolor="white",
        plot_bgcolor="white",
        hoverlabel=dict(font=dict(family=FONT["family"], size=13)),
        showlegend=legend,
        legend=dict(bgcolor="rgba(255,255,255,0.85)", bordercolor=GRID, borderwidth=1, font=dict(size=12)),
    )
    if title:
        # below the toolbar band: the modebar (top right, shown on hover) never covers the title
        t = dict(text=title, x=0.01, xanchor="left", yref="container", y=1 - TOOLBAR_PX / height, yanchor="top",
                 font=dict(size=17))
        if subtitle:
            t["subtitle"] = dict(text=subtitle, font=dict(size=12.5, color=MUTED))
        fig.update_layout(title=t)
    if caption:
        fig.add_annotation(text=caption, xref="paper", yref="paper", x=0, y=0, yshift=-62, xanchor="left",
                           xshift=CAPTION_XSHIFT, yanchor="top", showarrow=False, font=dict(size=11, color=MUTED),
                           align="left")
    axis = dict(showline=True, linecolor="#9aa5b1", linewidth=1, gridcolor=GRID, gridwidth=1, zeroline=False,
                ticks="outside", tickcolor="#9aa5b1", ticklen=4, automargin=True, title_font=dict(size=15),
                title_standoff=8)
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    return fig


def _get(p, name, default=None):
    if isinstance(p, Mapping):
        return p.get(name, default)
    return getattr(p, name, default)


# ---- the information imbalance plane --------------------------------------------------
def _region_shapes(low: float, high: float, margin: float) -> list[dict]:
    """Opaque polygons drawn in order (later ones on top), matching the priority of
    :func:`infoimb.imbalance.classify_relation` with zero standard errors."""
    L, m = PLANE_MAX, margin

    def poly(points, region):
        path = "M " + " L ".join(f"{x:.4f},{y:.4f}" for x, y in points) + " Z"
        return dict(type="path", path=path, fillcolor=REGION_COLORS[region], line=dict(width=0),
                    layer="below", xref="x", yref="y", name=region)

    return [
        poly([(0, 0), (L, 0), (L, L), (0, L)], "symmetric"),
        poly([(0, m), (0, L), (L - m, L)], "a_contains_b"),
        poly([(m, 0), (L, 0), (L, L - m)], "b_contains_a"),
        poly([(0, 0), (low, 0), (low, low), (0, low)], "equivalent"),
        poly([(high, high), (L, high), (L, L), (high, L)], "independent"),
    ]


def _region_labels(low: float, high: float, margin: float) -> list[dict]:
    style = dict(font=dict(size=12.5, color=MUTED), showarrow=False, xref="x", yref="y")
    arrow = dict(showarrow=True, arrowhead=0, arrowwidth=1, arrowcolor="#9aa5b1",
                 font=dict(size=12, color=MUTED), xref="x", yref="y", axref="x", ayref="y")
    mid = (low + high) / 2
    return [
        dict(text="<b>A contains B</b><br>A predicts B", x=0.04, y=0.97, xanchor="left", yanchor="top",
             align="left", **style),
        dict(text="<b>B contains A</b><br>B predicts A", x=1.01, y=0.03, xanchor="right", yanchor="bottom",
             align="right", **style),
        dict(text="symmetric sharing", x=mid + 0.05, y=mid + 0.05, textangle=-45, **style),
        dict(text="equivalent", x=low / 2, y=low / 2, ax=low + 0.22, ay=low / 4, xanchor="left", **arrow),
        dict(text="independent", x=(high + PLANE_MAX) / 2, y=PLANE_MAX, yanchor="bottom", yshift=1,
             font=dict(size=12, color=MUTED), showarrow=False, xref="x", yref="y"),
    ]


#: where a point label can go, tried in this order: (textposition, x side, y side); a side is
#: -1 (left / below the marker), 0 (centred) or 1 (right / above)
LABEL_POSITIONS = (("top right", 1, 1), ("top left", -1, 1), ("bottom right", 1, -1), ("bottom left", -1, -1),
                   ("middle right", 1, 0), ("middle left", -1, 0), ("top center", 0, 1), ("bottom center", 0, -1))
LABEL_CHAR_PX = 7.2
LABEL_HEIGHT_PX = 15
MARKER_RADIUS_PX = 6


def label_box(x: float, y: float, text: str, position: str, px_per_unit: float) -> tuple[float, float, float, float]:
    """The box (left, bottom, right, top), in data units, of a 12 px label at ``position``
    (a Plotly textposition) of the marker at (x, y), on axes with ``px_per_unit`` pixels per unit."""
    sx, sy = next((a, b) for name, a, b in LABEL_POSITIONS if name == position)
    w = (len(_plain(text)) * LABEL_CHAR_PX) / px_per_unit
    h = LABEL_HEIGHT_PX / px_per_unit
    r = MARKER_RADIUS_PX / px_per_unit
    left = x + r if sx > 0 else (x - r - w if sx < 0 else x - w / 2)
    bottom = y + r if sy > 0 else (y - r - h if sy < 0 else y - h / 2)
    return left, bottom, left + w, bottom + h


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def place_labels(x, y, texts, *, px_per_unit: float, order=None, bounds=(0.0, PLANE_MAX),
                 min_distance: float = 0.0, obstacles=()) -> list[str | None]:
    """A textposition for each point's label such that no two labels overlap, nor a label a
    marker or the plot's edge, and if possible none of the ``obstacles`` either (boxes (left,
    bottom, right, top) in data units: the region names of the plane, which a label may cover
    when nothing else is free); None where no position is free (the label is left out and the
    hover still names the point). Labels are placed in ``order``
    (default: as given); a point closer than ``min_distance`` (data units) to one already
    labelled gets no label.

    Examples
    --------
    >>> place_labels([0.548, 0.560], [0.064, 0.064], ["x", "y"], px_per_unit=270)
    ['top left', 'top right']
    """
    n = len(texts)
    markers = [(x[i] - MARKER_RADIUS_PX / px_per_unit, y[i] - MARKER_RADIUS_PX / px_per_unit,
                x[i] + MARKER_RADIUS_PX / px_per_unit, y[i] + MARKER_RADIUS_PX / px_per_unit) for i in range(n)]
    placed: list[tuple] = []
    soft = list(obstacles)
    labelled: list[int] = []
    out: list[str | None] = [None] * n
    lo, hi = bounds
    for i in (range(n) if order is None else order):
        if not texts[i] or not (np.isfinite(x[i]) and np.isfinite(y[i])):
            continue
        if any(math.hypot(x[i] - x[j], y[i] - y[j]) < min_distance for j in labelled):
            continue
        # the side (left or right) with fewer other points within a label's width comes first
        reach = (len(_plain(texts[i])) * LABEL_CHAR_PX + 2 * MARKER_RADIUS_PX) / px_per_unit
        near = [j for j in range(n) if j != i and abs(y[j] - y[i]) < reach and abs(x[j] - x[i]) < reach]
        right = sum(x[j] >= x[i] for j in near)
        left_first = right > len(near) - right
        names = sorted(LABEL_POSITIONS, key=lambda p: (p[1] > 0) if left_first else 0)
        for avoid in (soft, []):  # first clear of the region names, else over them
            for name, _, _ in names:
                box = label_box(x[i], y[i], texts[i], name, px_per_unit)
                if box[0] < lo or box[2] > hi or box[1] < lo or box[3] > hi:
                    continue
                if any(_overlap(box, b) for b in placed) or any(_overlap(box, b) for b in avoid) or \
                        any(_overlap(box, m) for j, m in enumerate(markers) if j != i):
                    continue
                out[i] = name
                placed.append(box)
                labelled.append(i)
                break
            if out[i] is not None:
                break
    return out


def annotation_boxes(ann, px_per_unit: float) -> list[tuple[float, float, float, float]]:
    """Boxes (left, bottom, right, top; data units) covering a text annotation placed in data
    coordinates (the plane's region names): one box, or for a turned text (``textangle``) a
    row of small squares along it; none for an annotation in paper coordinates."""
    if ann.xref != "x" or ann.yref != "y" or not ann.text:
        return []
    lines = str(ann.text).split("<br>")
    size = ann.font.size or 12
    w = max(len(_plain(t)) for t in lines) * size * 0.58 / px_per_unit
    h = len(lines) * size * 1.3 / px_per_unit
    x, y = (ann.ax, ann.ay) if ann.showarrow and ann.axref == "x" else (ann.x, ann.y)
    y += (ann.yshift or 0) / px_per_unit
    if ann.textangle:  # centred on (x, y), turned by -textangle degrees (Plotly turns clockwise)
        a = math.radians(-ann.textangle)
        n = max(2, math.ceil(w / h))
        return [(x + t * math.cos(a) - h / 2, y + t * math.sin(a) - h / 2,
                 x + t * math.cos(a) + h / 2, y + t * math.sin(a) + h / 2)
                for t in ((i + 0.5) * w / n - w / 2 for i in range(n))]
    left = x if ann.xanchor == "left" else (x - w if ann.xanchor == "right" else x - w / 2)
    bottom = y if ann.yanchor == "bottom" else (y - h if ann.yanchor == "top" else y - h / 2)
    return [(left, bottom, left + w, bottom + h)]


def _plane_px_per_unit(fig: go.Figure, caption_chars: int) -> float:
    """Pixels per unit of the plane's square axes: the smaller side of the plot area (its
    height from the layout, its width from ``caption_chars``) over 1.05."""
    m = fig.layout.margin
    side = min(fig.layout.height - m.t - m.b, caption_chars * CAPTION_CHAR_PX - 30)
    return max(side, 100) / PLANE_MAX


def imbalance_plane(points: Iterable, *, a_name: str = "A", b_name: str = "B", title: str | None =
                    "Information imbalance plane", caption: str | None = None, low: float = 0.1,
                    high: float = 0.9, margin: float = 0.1, label_limit: int = 12,
                    height: int = 500, error_bars: str = "se", caption_chars: int = 64) -> go.Figure:
    """The information imbalance plane: x = Δ(A → B), y = Δ(B → A), one marker per pair.

    Parameters
    ----------
    points : iterable of mappings (or ImbalancePair-like objects)
        Each with ``a_to_b``, ``b_to_a`` and optionally ``a_to_b_se``, ``b_to_a_se`` (drawn as
        error bars), ``a_to_b_ci``, ``b_to_a_ci`` (bootstrap intervals (low, high), drawn as the
        error bars with ``error_bars="interval"``), ``label`` (text beside the marker and in the hover), ``series`` (one legend
        entry and marker style per series; default "pairs") and ``relation``.
    a_name, b_name : str
        What A and B are, stated in the subtitle (the axes and regions say A and B).
    low, high, margin : float
        The thresholds of :func:`infoimb.imbalance.classify_relation`; the shaded regions follow
        them (with zero standard errors).
    label_limit : int
        Series with more points than this get no text labels (hover only), so labels never
        pile up.
    error_bars : {"se", "interval"}
        "se": ± the standard errors; "interval": each point's intervals ``a_to_b_ci`` /
        ``b_to_a_ci`` where it has them (asymmetric bars; ± se for a point without).
    caption_chars : int
        The figure's width in caption characters (64: half of a 1280 px page): the caption
        is broken into lines this long, the legend's rows and the labels' room follow it.
        Labels are placed where they overlap no other label or marker (:func:`place_labels`);
        a label with no free place is left out (the hover names every point).

    Returns
    -------
    go.Figure
        Square axes from 0 to 1.05, the diagonal, the five regions shaded and named.
    """
    if error_bars not in ("se", "interval"):
        raise ValueError(f"error_bars must be 'se' or 'interval', got {error_bars!r}")
    pts = list(points)
    fig = go.Figure(layout=dict(template="none"))
    # the diagonal Δ(A→B) = Δ(B→A)
    fig.add_trace(go.Scatter(x=[0, PLANE_MAX], y=[0, PLANE_MAX], mode="lines", showlegend=False,
                             line=dict(color="#9aa5b1", width=1, dash="dot"), hoverinfo="skip"))
    series: dict[str, list] = {}
    for p in pts:
        series.setdefault(str(_get(p, "series", "pairs") or "pairs"), []).append(p)
    symbols = ("circle", "diamond", "square", "triangle-up", "cross", "x")
    # the first series (e.g. the main pair) is drawn last, on top, and listed first
    for i, (name, group) in reversed(list(enumerate(series.items()))):
        x = [float(_get(p, "a_to_b")) for p in group]
        y = [float(_get(p, "b_to_a")) for p in group]
        ex = [float(_get(p, "a_to_b_se", 0.0) or 0.0) for p in group]
        ey = [float(_get(p, "b_to_a_se", 0.0) or 0.0) for p in group]
        # bootstrap intervals, where a point has them, replace its ± se bars (asymmetric)
        use_ci = error_bars == "interval"
        (ex_hi, ex_lo), (ey_hi, ey_lo) = (_interval_bars(group, vals, errs, key if use_ci else None)
                                          for vals, errs, key in ((x, ex, "a_to_b_ci"), (y, ey, "b_to_a_ci")))
        has_ci = use_ci and any(_get(p, "a_to_b_ci") is not None for p in group)
        labels = [esc(_get(p, "label", "")) for p in group]
        rel = [REGION_NAMES.get(str(_get(p, "relation", "")), "") for p in group]
        # a lone first point (the main pair) is named by the subtitle; label the others
        show_text = len(group) <= label_limit and any(labels) and not (i == 0 and len(group) == 1)
        color = COLORS[i % len(COLORS)]
        fig.add_trace(go.Scatter(
            x=x, y=y, name=esc(name), legendrank=i + 1, mode="markers+text" if show_text else "markers",
            text=labels if show_text else None, textposition="top right",
            textfont=dict(size=12, color=color),
            marker=dict(size=11 if i == 0 else 9, color=color, symbol=symbols[i % len(symbols)],
                        line=dict(width=1, color="white")),
            error_x=dict(type="data", array=ex_hi, arrayminus=ex_lo, symmetric=False, visible=True,
                         color=color, thickness=1.2, width=3),
            error_y=dict(type="data", array=ey_hi, arrayminus=ey_lo, symmetric=False, visible=True,
                         color=color, thickness=1.2, width=3),
            customdata=np.column_stack([labels, ex, ey, rel, _ci_hover(group, "a_to_b_ci"),
                                        _ci_hover(group, "b_to_a_ci")]) if group else None,
            hovertemplate=("<b>%{customdata[0]}</b><br>Δ(A→B) = %{x:.4f} ± %{customdata[1]:.4f}%{customdata[4]}"
                           "<br>Δ(B→A) = %{y:.4f} ± %{customdata[2]:.4f}%{customdata[5]}<br>%{customdata[3]}"
                           "<extra></extra>"),
            meta={"error_bars": "interval" if has_ci else "se"},
            cliponaxis=False,
        ))
    subtitle = f"A: {esc(a_name)} · B: {esc(b_name)}"
    base_layout(fig, title=title, subtitle=subtitle, caption=caption, height=height,
                legend=len(series) > 1)
    axis = dict(range=[0, PLANE_MAX], dtick=0.2, constrain="domain", showgrid=True)
    fig.update_xaxes(title_text="Δ(A → B)", **axis)
    fig.update_yaxes(title_text="Δ(B → A)", scaleanchor="x", scaleratio=1, **axis)
    for shape in _region_shapes(low, high, margin):
        fig.add_shape(**shape)
    for ann in _region_labels(low, high, margin):
        fig.add_annotation(**ann)
    if len(series) > 1:
        _legend_below(fig, caption_chars=caption_chars)  # the caption goes under the legend
    _wrap_caption(fig, caption_chars)
    _place_plane_labels(fig, caption_chars)
    return fig


def _place_plane_labels(fig: go.Figure, caption_chars: int, order=None, min_distance: float = 0.0) -> None:
    """Positions of the text labels of every labelled trace of a plane, together (no two overlap)."""
    traces = [t for t in fig.data if t.mode and "text" in t.mode and t.text is not None]
    x = [float(v) for t in traces for v in t.x]
    y = [float(v) for t in traces for v in t.y]
    texts = [str(v or "") for t in traces for v in t.text]
    ppu = _plane_px_per_unit(fig, caption_chars)
    regions = [b for a in fig.layout.annotations for b in annotation_boxes(a, ppu)]
    pos = place_labels(x, y, texts, px_per_unit=ppu, order=order, min_distance=min_distance, obstacles=regions)
    i = 0
    for t in traces:
        k = len(t.x)
        t.textposition = [p or "top right" for p in pos[i:i + k]]
        t.text = [txt if p else "" for txt, p in zip(texts[i:i + k], pos[i:i + k])]
        i += k


def _interval_bars(group, values, ses, key) -> tuple[list, list]:
    """(up, down) error bar lengths: from the point's interval ``key`` where it has one, else
    ± its standard error."""
    up, down = [], []
    for p, v, se in zip(group, values, ses):
        ci = _get(p, key) if key else None
        if ci is not None:
            up.append(max(float(ci[1]) - v, 0.0))
            down.append(max(v - float(ci[0]), 0.0))
        else:
            up.append(se)
            down.append(se)
    return up, down


def _ci_hover(group, key) -> list[str]:
    out = []
    for p in group:
        ci = _get(p, key)
        out.append("" if ci is None else f" [{float(ci[0]):.4f}, {float(ci[1]):.4f}]")
    return out


# ---- ranks ---------------------------------------------------------------------------
def rank_scatter(rank_a, rank_b, *, n: int | None = None, a_name: str = "A", b_name: str = "B",
                 log: bool | None = None, title: str | None = "Ranks of the same pairs",
                 caption: str | None = None, height: int = 500, max_points: int = 20000,
                 caption_chars: int = 64) -> go.Figure:
    """Scatter of r_A against r_B for sampled pairs (query, partner).

    ``rank_a`` and ``rank_b`` are arrays of the same shape (e.g. ``RankSample.rank_a`` and
    ``rank_b``). ``log`` (default: when N > 50) gives log-log axes. Points on the diagonal
    are pairs equally close in both spaces; a narrow cloud near r_A = 1 going up means A's
    neighbours are also B's (A predicts B).
    """
    ra = np.asarray(rank_a, dtype=float).ravel()
    rb = np.asarray(rank_b, dtype=float).ravel()
    if ra.shape != rb.shape:
        raise ValueError(f"rank_a and rank_b differ in size: {ra.shape} vs {rb.shape}")
    if ra.size > max_points:
        keep = np.random.default_rng(0).choice(ra.size, max_points, replace=False)
        ra, rb = ra[keep], rb[keep]
    n = int(n) if n else int(max(ra.max(initial=1), rb.max(initial=1)) + 1)
    log = (n > 50) if log is None else log
    fig = go.Figure(layout=dict(template="none"))
    fig.add_trace(go.Scatter(x=[1, n - 1], y=[1, n - 1], mode="lines", showlegend=False, hoverinfo="skip",
                             line=dict(color="#9aa5b1", width=1, dash="dot")))
    fig.add_trace(go.Scatter(x=ra, y=rb, mode="markers", name="pairs", showlegend=False,
                             marker=dict(size=4, color=COLORS[0], opacity=0.35, line=dict(width=0)),
                             hovertemplate="r_A = %{x:g}<br>r_B = %{y:g}<extra></extra>"))
    base_layout(fig, title=title, subtitle=f"A: {esc(a_name)} · B: {esc(b_name)} · {ra.size} pairs",
                caption=caption, height=height, legend=False)
    kind = "log" if log else "linear"
    rng = [0, np.log10(n)] if log else [0, n]
    ticks = dict(dtick=1) if log else {}
    fig.update_xaxes(title_text="rank in A, r<sub>A</sub>", type=kind, range=rng, constrain="domain", **ticks)
    fig.update_yaxes(title_text="rank in B, r<sub>B</sub>", type=kind, range=rng, scaleanchor="x", scaleratio=1,
                     constrain="domain", **ticks)
    _wrap_caption(fig, caption_chars)
    return fig


def rank_histogram(ranks, n: int, n_bins: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fraction of query points per rank bin, on logarithmic bins of integer ranks 1..N-1.

    Mid-ranks (x.5, from ties) are split equally between their two integer neighbours.
    Returns (left edges, right edges, fraction); bin i holds the integer ranks
    ``left[i] <= r < right[i]``; the fractions sum to 1.
    """
    r = np.asarray(ranks, dtype=float).ravel()
    r = r[np.isfinite(r)]
    if r.size == 0:
        return np.array([1.0]), np.array([2.0]), np.array([0.0])
    top = max(int(np.ceil(r.max())), 1, int(n) - 1)
    lo = np.floor(r).astype(np.int64)
    frac = r - lo
    counts = np.zeros(top + 2)
    np.add.at(counts, np.clip(lo, 1, top), 1 - frac)
    np.add.at(counts, np.clip(lo + 1, 1, top), frac)
    edges = np.unique(np.floor(np.logspace(0, np.log10(top + 1), n_bins + 1)).astype(np.int64))
    edges = np.append(edges[edges <= top], top + 1)
    edges = np.unique(edges)
    cum = np.concatenate([[0.0], np.cumsum(counts[1:top + 1])])  # cum[j] = sum of ranks < j+1
    frac_bins = (cum[edges[1:] - 1] - cum[edges[:-1] - 1]) / r.size
    return edges[:-1].astype(float), edges[1:].astype(float), frac_bins


def conditional_rank_histograms(rank_b_given_a1, rank_a_given_b1, *, n: int, a_name: str = "A",
                                b_name: str = "B", title: str | None =
                                "Conditional rank distributions",
                                caption: str | None = None, n_bins: int = 30, height: int = 400,
                                caption_chars: int = 150) -> go.Figure:
    """p(r_B | r_A = 1) and p(r_A | r_B = 1) side by side, on logarithmic rank bins.

    Left: for each query point, the rank in B of its nearest neighbour in A. Concentrated
    at small ranks means A predicts B; its mean is N·Δ(A→B)/2. Right: the same with A and B
    exchanged. Bars are fractions of the query points.
    """
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        figure=go.Figure(layout=dict(template="none")),
                        subplot_titles=("p(r<sub>B</sub> | r<sub>A</sub> = 1)",
                                        "p(r<sub>A</sub> | r<sub>B</sub> = 1)"))
    data = ((rank_b_given_a1, "r<sub>B</sub> of A's nearest neighbour", "Δ(A→B)", 0),
            (rank_a_given_b1, "r<sub>A</sub> of B's nearest neighbour", "Δ(B→A)", 1))
    ymax = 0.0
    for col, (ranks, xlabel, delta, ci) in enumerate(data, start=1):
        left, right, frac = rank_histogram(ranks, n, n_bins)
        ymax = max(ymax, float(frac.max(initial=0)))
        r = np.asarray(ranks, dtype=float)
        mean = float(np.nanmean(r)) if r.size else float("nan")
        fig.add_trace(go.Bar(x=left, y=frac, width=right - left, offset=0, name=delta, showlegend=False,
                             marker=dict(color=COLORS[ci], line=dict(width=0.5, color="white")),
                             customdata=np.column_stack([left, right - 1]),
                             hovertemplate="ranks %{customdata[0]:.0f}–%{customdata[1]:.0f}: "
                                           "%{y:.3f}<extra></extra>"), row=1, col=col)
        if np.isfinite(mean):
            right_half = np.log10(max(mean, 1)) > 0.55 * np.log10(max(n, 2))
            fig.add_vline(x=mean, line=dict(color="#1f2933", width=1.2, dash="dash"), row=1, col=col)
            fig.add_annotation(x=np.log10(max(mean, 1)), y=1, xref=f"x{col if col > 1 else ''}",
                               yref=f"y{col if col > 1 else ''} domain", text=f"mean {mean:.3g}<br>"
                               f"{delta} = {2 * mean / n:.3g}", showarrow=False,
                               xanchor="right" if right_half else "left", xshift=-4 if right_half else 4,
                               yanchor="top", align="right" if right_half else "left",
                               font=dict(size=11.5, color=MUTED), bgcolor="rgba(255,255,255,0.8)")
        fig.update_xaxes(type="log", title_text=xlabel, range=[-0.02, np.log10(max(n, 2))], dtick=1,
                         row=1, col=col)
    base_layout(fig, title=title, subtitle=f"A: {esc(a_name)} · B: {esc(b_name)} · {len(np.ravel(rank_b_given_a1))} "
                                           "query points", caption=caption, height=height, legend=False)
    fig.update_yaxes(title_text="fraction of query points", row=1, col=1, range=[0, ymax * 1.12 or 1])
    fig.update_annotations(selector=dict(text="p(r<sub>B</sub> | r<sub>A</sub> = 1)"), font=dict(size=14))
    fig.update_annotations(selector=dict(text="p(r<sub>A</sub> | r<sub>B</sub> = 1)"), font=dict(size=14))
    _wrap_caption(fig, caption_chars)
    return fig


def pm_decimals(se: float, *, digits: int = 2, max_decimals: int = 12) -> int:
    """Decimals that show ``se`` to ``digits`` significant digits (at least 0).

    >>> pm_decimals(0.0123), pm_decimals(25.0)
    (3, 0)
    """
    se = abs(float(se))
    if not math.isfinite(se) or se == 0.0:
        return 0
    return int(min(max(digits - 1 - math.floor(math.log10(se)), 0), max_decimals))


def format_pm(value, se=None, *, digits: int = 2, plain: int = 3) -> str:
    """``value ± se`` with the digits the uncertainty justifies: the error to ``digits``
    significant digits and the value to the same decimal place. Without an error (None or
    NaN), the value to ``plain`` significant digits; an error of 0 is written "± 0".

    Examples
    --------
    >>> format_pm(0.70713, 0.0123)
    '0.707 ± 0.012'
    >>> format_pm(1.0, 0.001007)
    '1.0000 ± 0.0010'
    >>> format_pm(123.4, 25.0)
    '123 ± 25'
    >>> format_pm(0.5, None)
    '0.5'
    """
    value = float(value)
    if se is None or not math.isfinite(float(se)):
        return f"{value:.{plain}g}"
    se = abs(float(se))
    if se == 0.0:
        return f"{value:.{plain}g} ± 0"
    dec = pm_decimals(se, digits=digits)
    return f"{value:.{dec}f} ± {se:.{dec}f}"


def settings_caption(settings: Mapping, dataset: Mapping | None = None) -> str:
    """One grey line saying which data and settings produced a figure (for ``caption=``).

    Reads ``filename`` and ``n_rows`` of ``dataset`` and ``k``, ``metric``, ``n_queries``
    (None: exact) and ``scaling`` of ``settings`` when present.

    Examples
    --------
    >>> settings_caption({"k": 1, "metric": "euclidean", "n_queries": None}, {"filename": "a.csv", "n_rows": 9})
    'a.csv · N = 9 · k = 1 · euclidean · exact'
    """
    parts: list[str] = []
    if dataset:
        parts.append(f"{esc(dataset.get('filename', ''))} · N = {dataset.get('n_rows', '?')}")
    for key, fmt in (("k", "k = {}"), ("metric", "{}"), ("scaling", "scaling: {}")):
        if key in settings and settings[key] is not None:
            parts.append(fmt.format(settings[key]))
    nq = settings.get("n_queries")
    if "n_queries" in settings:
        parts.append("exact" if nq is None else f"{nq} random queries")
    return " · ".join(parts)



# --- analyses ---------------------------------------------------------------------------
# Builders of the Select, Time lags, Causality and Scales pages. Each takes the plain result
# dict of its analysis (the ``to_dict()`` of the library's result, as stored by the web
# jobs) or the library's result object, and returns a go.Figure.
def _result(obj, cls):
    """The result object: ``obj`` itself, or ``cls.from_dict(obj)`` for its ``to_dict()``
    (as the dashboard stores it; keys that are not fields are ignored)."""
    if isinstance(obj, cls):
        return obj
    if isinstance(obj, Mapping):
        return cls.from_dict(obj)
    raise TypeError(f"expected a {cls.__name__} or its to_dict(), got {type(obj).__name__}")


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _plain(text) -> str:
    """Text as shown: tags (``<sub>``) removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(text or "")))


def _legend_entries(fig: go.Figure) -> list[str]:
    return [_plain(t.name) for t in fig.data if t.showlegend is not False and t.name]


def legend_rows(fig: go.Figure, caption_chars: int = 150) -> int:
    """Rows a horizontal legend needs in a plot ``caption_chars`` caption characters wide
    (each entry: its symbol, about 40 px, and its text)."""
    width = caption_chars * CAPTION_CHAR_PX
    rows, used = 1, 0.0
    for name in _legend_entries(fig):
        w = 40 + LEGEND_CHAR_PX * len(name)
        if used and used + w > width:
            rows, used = rows + 1, w
        else:
            used += w
    return rows


def _legend_below(fig: go.Figure, rows: int | None = None, *, caption_chars: int = 150,
                  orientation: str = "h") -> None:
    """A legend under the plot, below the x axis title; the caption (if any) moves under the
    legend. ``rows``: the legend's rows (default: as many as its entries need in a plot
    ``caption_chars`` characters wide; a vertical legend has one entry a row)."""
    if rows is None:
        rows = len(_legend_entries(fig)) if orientation == "v" else legend_rows(fig, caption_chars)
    extra = 8 + 30 * max(rows, 1)  # a row of entries (with sub/superscripts) is about 30 px
    bottom = fig.layout.margin.b + extra
    if fig.layout.height - fig.layout.margin.t - bottom < MIN_PLOT_PX:  # the figure grows instead
        fig.update_layout(height=fig.layout.margin.t + bottom + MIN_PLOT_PX)
    plot_height = fig.layout.height - fig.layout.margin.t - bottom
    fig.update_layout(legend=dict(orientation=orientation, x=0, xanchor="left", y=-LEGEND_BELOW_PX / plot_height,
                                  yanchor="top"), margin=dict(b=bottom))
    for ann in fig.layout.annotations:
        if ann.yshift is not None and ann.yshift <= -62:
            ann.yshift -= extra


def _legend_inside(fig: go.Figure, *, x: float = 0.99, y: float = 0.99, xanchor: str = "right") -> None:
    """The legend in a corner of the plot area (for half-width figures: a legend row under a
    narrow plot would wrap onto the caption); leave room for it in the axis range."""
    fig.update_layout(legend=dict(orientation="v", x=x, xanchor=xanchor, y=y, yanchor="top",
                                  bgcolor="rgba(255,255,255,0.9)"))


def _wrap_caption(fig: go.Figure, max_chars: int) -> None:
    """Break the grey caption (the settings) at its " · " separators into lines of at most
    ``max_chars`` characters, and make room for the extra lines under the plot. A broken
    line keeps its separator at its end ("… · greedy ·<br>criterion …"), so the parts never
    run together when the text is read without its line breaks."""
    for ann in fig.layout.annotations:
        if ann.yshift is None or ann.yshift > -62 or ann.yref != "paper" or not ann.text:
            continue
        parts, lines = ann.text.split(" · "), [""]
        for part in parts:
            if lines[-1] and len(lines[-1]) + 5 + len(part) > max_chars:
                lines[-1] += " ·"
                lines.append(part)
            else:
                lines[-1] = f"{lines[-1]} · {part}" if lines[-1] else part
        ann.text = "<br>".join(lines)
        fig.update_layout(margin=dict(b=fig.layout.margin.b + 15 * (len(lines) - 1)))
        left = fig.layout.margin.l if fig.layout.margin.l is not None else 80
        ann.xshift = -min(-CAPTION_XSHIFT, max(left - 10, 0))  # within the figure's left edge
    # a legend under the plot stays LEGEND_BELOW_PX under it in the smaller plot area
    leg = fig.layout.legend
    if leg.y is not None and leg.y < 0 and leg.yanchor == "top":
        m = fig.layout.margin
        leg.y = -LEGEND_BELOW_PX / max(fig.layout.height - m.t - m.b, 100)


def _selection(result) -> tuple[list, str | None, int | None]:
    """(steps, criterion, suggested size) of a SelectionResult, its to_dict(), or a sequence of
    SelectionStep (or their dicts)."""
    from .selection import SelectionResult, SelectionStep

    if isinstance(result, (list, tuple)):
        return [_result(s, SelectionStep) for s in result], None, None
    res = _result(result, SelectionResult)
    return list(res.steps), res.criterion, res.suggested_size


CRITERION_AXIS = {
    "a_to_b": "Δ(S → {t})",
    "symmetric": "[Δ(S → {t}) + Δ({t} → S)] / √2",
}


def selection_curve(result, *, criterion: str | None = None, target_name: str = "target",
                    suggested_size: int | None = None, title: str | None = "Selection curve",
                    subtitle: str | None = None, caption: str | None = None, height: int = 440,
                    caption_chars: int = 64) -> go.Figure:
    """Δ of the best subset S of each size d, with error bars, and the random baseline band.

    Parameters
    ----------
    result : SelectionResult, its ``to_dict()``, or a list of steps
        Steps with ``size``, ``features``, ``criterion`` (the minimised value), ``criterion_se``
        and optionally ``random_mean`` / ``random_sd`` (the random baseline: a band of mean ± sd).
    criterion : {"a_to_b", "symmetric"}
        What the y axis shows (default: the result's criterion).
    target_name : str
        How the target is named on the y axis ("target", "full space", ...).
    suggested_size : int, optional
        Marked with a ring (default: the result's ``suggested_size``).
    caption_chars : int
        The caption is broken into lines of at most this many characters.
    """
    steps, own_criterion, own_size = _selection(result)
    criterion = criterion or own_criterion or "a_to_b"
    suggested_size = own_size if suggested_size is None else suggested_size
    sizes = [s.size for s in steps]
    y = _floats(s.criterion for s in steps)
    ey = _floats(s.criterion_se for s in steps)
    rm = _floats(s.random_mean for s in steps)
    rs = _floats(s.random_sd for s in steps)
    fig = go.Figure(layout=dict(template="none"))
    has_random = bool(np.isfinite(rm).any())
    if has_random:
        ok = np.isfinite(rm)
        xs = [d for d, o in zip(sizes, ok) if o]
        lo, hi = (rm - np.nan_to_num(rs))[ok], (rm + np.nan_to_num(rs))[ok]
        fig.add_trace(go.Scatter(x=xs, y=lo, mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip", name="random − sd"))
        fig.add_trace(go.Scatter(x=xs, y=hi, mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor="rgba(141,150,163,0.25)", name="random subsets (mean ± sd)",
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=xs, y=rm[ok], mode="lines+markers", name="random subsets: mean",
                                 line=dict(color=COLORS[6], width=1.5, dash="dash"),
                                 marker=dict(size=5, color=COLORS[6]), showlegend=False,
                                 customdata=np.column_stack([rs[ok]]),
                                 hovertemplate="d = %{x}<br>random subsets: %{y:.4f} ± %{customdata[0]:.4f}"
                                               "<extra></extra>"))
    ci = [getattr(s, "criterion_ci", None) for s in steps]
    if steps and all(c is not None for c in ci):
        lo_ci, hi_ci = _floats(c[0] for c in ci), _floats(c[1] for c in ci)
        fig.add_trace(go.Scatter(x=sizes, y=lo_ci, mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip", name="interval low"))
        fig.add_trace(go.Scatter(x=sizes, y=hi_ci, mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor="rgba(27,79,138,0.18)", name="bootstrap interval of each step",
                                 customdata=np.column_stack([lo_ci]),
                                 hovertemplate="d = %{x}: interval [%{customdata[0]:.4f}, %{y:.4f}]<extra></extra>"))
    added = []
    prev: list = []
    for s in steps:
        new = [f for f in s.features if f not in prev]
        gone = [f for f in prev if f not in s.features]
        text = ", ".join(esc(f) for f in new) if new else ""
        if gone:
            text = (("+ " + text + " ") if text else "") + "− " + ", ".join(esc(f) for f in gone)
        added.append(text or "—")
        prev = s.features
    fig.add_trace(go.Scatter(
        x=sizes, y=y, mode="lines+markers", name="best subset of each size",
        line=dict(color=COLORS[0], width=2), marker=dict(size=8, color=COLORS[0]),
        error_y=dict(type="data", array=ey, visible=True, color=COLORS[0], thickness=1.2, width=4),
        customdata=np.column_stack([ey, added]) if steps else None,
        hovertemplate="d = %{x}: %{y:.4f} ± %{customdata[0]:.4f}<br>change: %{customdata[1]}<extra></extra>",
    ))
    if suggested_size is not None and suggested_size in sizes:
        i = sizes.index(int(suggested_size))
        fig.add_trace(go.Scatter(x=[sizes[i]], y=[y[i]], mode="markers", name=f"suggested size: d = {sizes[i]}",
                                 marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(width=2.5, color=COLORS[1])),
                                 hoverinfo="skip"))
    t = esc(target_name)
    base_layout(fig, title=title, subtitle=subtitle, caption=caption, height=height, legend=True)
    fig.update_xaxes(title_text="number of features d", dtick=1 if len(sizes) <= 20 else None,
                     range=[min(sizes, default=1) - 0.5, max(sizes, default=1) + 0.5])
    top = np.nanmax(np.concatenate([y + ey, rm + np.nan_to_num(rs), [0.1]]))
    # the legend sits in the top right corner, above the curve (which falls with d)
    fig.update_yaxes(title_text=CRITERION_AXIS.get(criterion, "criterion").format(t=t),
                     range=[0, top * (1.45 if has_random else 1.35)])
    _legend_inside(fig)
    _wrap_caption(fig, caption_chars)
    return fig


def selection_path(result, *, target_name: str = "target", suggested_size: int | None = None,
                   title: str | None = "Selection path in the plane", caption: str | None = None,
                   height: int = 500, caption_chars: int = 64, label_spacing: float = 0.045) -> go.Figure:
    """The best subset of each size on the information imbalance plane, joined in order of size:
    x = Δ(S → target), y = Δ(target → S). Points are labelled ``d=…`` (a label is left out where
    it would crowd one already placed, closer than ``label_spacing``; the hover always names
    d); the suggested size is ringed."""
    steps, _, own_size = _selection(result)
    suggested_size = own_size if suggested_size is None else suggested_size
    points = [{"a_to_b": s.a_to_b, "b_to_a": s.b_to_a, "a_to_b_se": s.a_to_b_se,
               "b_to_a_se": s.b_to_a_se, "label": f"d={s.size}",
               "series": "best subset of size d"} for s in steps]
    fig = imbalance_plane(points, a_name="S, the selected features", b_name=target_name, title=title,
                          caption=caption, height=height, label_limit=10 ** 6, caption_chars=caption_chars)
    marker = [t for t in fig.data if t.mode and "markers" in t.mode][0]
    # which labels to show: the suggested size first, then in order of size; a label goes where
    # it overlaps no other label or marker, else it is left out (the hover names d)
    order = sorted(range(len(steps)), key=lambda i: (steps[i].size != suggested_size, steps[i].size))
    marker.mode = "markers+text"
    marker.text = [p["label"] for p in points]
    _place_plane_labels(fig, caption_chars, order=order, min_distance=label_spacing)
    line = go.Scatter(x=[p["a_to_b"] for p in points], y=[p["b_to_a"] for p in points], mode="lines",
                      line=dict(color=COLORS[0], width=1.2), showlegend=False, hoverinfo="skip",
                      name="path")
    fig.add_trace(line)
    fig.data = (fig.data[0], fig.data[-1], *fig.data[1:-1])  # under the markers
    sizes = [s.size for s in steps]
    if suggested_size is not None and int(suggested_size) in sizes:
        i = sizes.index(int(suggested_size))
        fig.add_trace(go.Scatter(x=[points[i]["a_to_b"]], y=[points[i]["b_to_a"]], mode="markers",
                                 name=f"suggested size: d = {sizes[i]}", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=20, color="rgba(0,0,0,0)", line=dict(width=2.5, color=COLORS[1]))))
    t = esc(target_name)
    fig.update_xaxes(title_text="Δ(S → target)" if t == "target" else f"Δ(S → {t})")
    fig.update_yaxes(title_text="Δ(target → S)" if t == "target" else f"Δ({t} → S)")
    fig.update_layout(showlegend=False)
    fig.layout.title.subtitle.text = f"A: S, the selected features · B: {t} · d: the number of features"
    return fig


def lag_scan_curve(scan, *, source_name: str = "source", target_name: str = "target", best_lag: int | None = None,
                   step: str | None = None, title: str | None = "Lag scan", caption: str | None = None,
                   height: int = 460, caption_chars: int = 150, alpha: float = 0.05,
                   error_bars: str = "se") -> go.Figure:
    """Δ(source_t → target_t+δ) and Δ(target_t+δ → source_t) against the lag δ, with error bars
    (± se; with ``error_bars="interval"`` the bootstrap intervals when the scan has them);
    with permutations, a star marks
    each lag and direction whose Benjamini-Hochberg q-value is at most ``alpha``.

    Positive δ: the target's future; negative: its past. The best lag (smallest forward Δ) is
    ringed. ``step`` says what one step is (e.g. "7 days"), for the x axis.
    """
    from .lags import LagScanResult

    scan = _result(scan, LagScanResult)
    lags = [int(v) for v in scan.lags]
    fwd, fwd_se = _floats(scan.forward), _floats(scan.forward_se)
    bwd, bwd_se = _floats(scan.backward), _floats(scan.backward_se)
    n_pairs = [int(v) for v in scan.n_pairs]
    if best_lag is None:
        best_lag = scan.best_lag
    # bootstrap intervals, when the scan has them, replace the ± se bars
    f_up, f_down, b_up, b_down = fwd_se, fwd_se, bwd_se, bwd_se
    if error_bars not in ("se", "interval"):
        raise ValueError(f"error_bars must be 'se' or 'interval', got {error_bars!r}")
    if error_bars == "interval" and scan.forward_ci is not None:
        fci, bci = np.asarray(scan.forward_ci, dtype=float), np.asarray(scan.backward_ci, dtype=float)
        f_up, f_down = np.maximum(fci[:, 1] - fwd, 0), np.maximum(fwd - fci[:, 0], 0)
        b_up, b_down = np.maximum(bci[:, 1] - bwd, 0), np.maximum(bwd - bci[:, 0], 0)
    s, t = esc(source_name), esc(target_name)
    fig = go.Figure(layout=dict(template="none"))
    lo, hi = (min(lags), max(lags)) if lags else (-1, 1)
    if hi > 0:
        fig.add_vrect(x0=max(lo, 0) - 0.5 if lo > 0 else 0, x1=hi + 0.5, fillcolor="#eef4fb", line_width=0,
                      layer="below")
    fig.add_vline(x=0, line=dict(color="#9aa5b1", width=1, dash="dot"))
    fig.add_trace(go.Scatter(
        x=lags, y=fwd, mode="lines+markers", name=f"Δ({s}<sub>t</sub> → {t}<sub>t+δ</sub>)",
        line=dict(color=COLORS[0], width=2), marker=dict(size=7, color=COLORS[0]),
        error_y=dict(type="data", array=f_up, arrayminus=f_down, symmetric=False, visible=True, color=COLORS[0],
                     thickness=1.2, width=3),
        customdata=np.column_stack([fwd_se, n_pairs]) if lags else None,
        hovertemplate="δ = %{x}: %{y:.4f} ± %{customdata[0]:.4f}<br>%{customdata[1]} pairs<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=lags, y=bwd, mode="lines+markers", name=f"Δ({t}<sub>t+δ</sub> → {s}<sub>t</sub>)",
        line=dict(color=COLORS[1], width=1.6, dash="dash"), marker=dict(size=6, color=COLORS[1], symbol="diamond"),
        error_y=dict(type="data", array=b_up, arrayminus=b_down, symmetric=False, visible=True, color=COLORS[1],
                     thickness=1.2, width=3),
        customdata=np.column_stack([bwd_se, n_pairs]) if lags else None,
        hovertemplate="δ = %{x}: %{y:.4f} ± %{customdata[0]:.4f}<br>%{customdata[1]} pairs<extra></extra>"))
    if best_lag is not None and int(best_lag) in lags:
        i = lags.index(int(best_lag))
        fig.add_trace(go.Scatter(x=[lags[i]], y=[fwd[i]], mode="markers+text", name=f"best lag: δ = {lags[i]}",
                                 text=[f"best δ = {lags[i]}"], textposition="bottom center",
                                 textfont=dict(size=12, color=COLORS[1]),
                                 marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(width=2.5, color=COLORS[1])),
                                 hoverinfo="skip", showlegend=False))
    if scan.forward_q is not None:
        for vals, qs, ps, color, name in ((fwd, scan.forward_q, scan.forward_p, COLORS[0], "forward"),
                                          (bwd, scan.backward_q, scan.backward_p, COLORS[1], "backward")):
            qs, ps = _floats(qs), _floats(ps)
            sig = [i for i in range(len(lags)) if np.isfinite(qs[i]) and qs[i] <= alpha]
            fig.add_trace(go.Scatter(
                x=[lags[i] for i in sig], y=[vals[i] for i in sig], mode="markers",
                name=f"{name}: significant (BH q ≤ {alpha:g})", legendgroup=f"sig-{name}",
                marker=dict(size=13, symbol="star", color=color, line=dict(width=1, color="white")),
                customdata=np.column_stack([[ps[i] for i in sig], [qs[i] for i in sig]]) if sig else None,
                hovertemplate="δ = %{x}: p = %{customdata[0]:.3g}, q = %{customdata[1]:.3g}<extra></extra>"))
    base_layout(fig, title=title, subtitle=f"source: {s} · target: {t}", caption=caption, height=height)
    top = np.nanmax(np.concatenate([fwd + f_up, bwd + b_up, [0.1]]))
    fig.update_xaxes(title_text="lag δ (steps" + (f" of {esc(step)})" if step else ")"),
                     dtick=1 if len(lags) <= 25 else None, range=[lo - 0.5, hi + 0.5])
    fig.update_yaxes(title_text="Δ", range=[0, top * 1.1])
    style = dict(xref="x", yref="paper", y=1.0, yanchor="bottom", showarrow=False, font=dict(size=12, color=MUTED))
    if lo < 0:
        fig.add_annotation(text=f"← {t}'s past", x=lo - 0.4, xanchor="left", **style)
    if hi > 0:
        fig.add_annotation(text=f"{t}'s future →", x=hi + 0.4, xanchor="right", **style)
    _legend_below(fig)
    _wrap_caption(fig, caption_chars)
    return fig


def causality_curves(result, *, cause_name: str = "X", effect_name: str = "Y", title: str | None =
                     "Imbalance gain: Δ(α) both ways", caption: str | None = None, height: int = 440,
                     caption_chars: int = 150) -> go.Figure:
    """Δ(α) = Δ((α·X₀, Y₀) → Y_τ) for X → Y (left) and Δ((α·Y₀, X₀) → X_τ) for Y → X (right),
    with error bars; α* (the minimum) is marked and the panel titles give IG ± its error.

    ``result``: a CausalityResult or its ``to_dict()`` (``x_to_y`` and ``y_to_x``)."""
    from .causality import CausalityResult

    result = _result(result, CausalityResult)
    xy, yx = result.x_to_y, result.y_to_x
    X, Y = esc(cause_name), esc(effect_name)
    heads = (f"{X} → {Y}: IG = {xy.gain:.3f} ± {xy.gain_se:.3f}",
             f"{Y} → {X}: IG = {yx.gain:.3f} ± {yx.gain_se:.3f}")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, figure=go.Figure(layout=dict(template="none")),
                        subplot_titles=heads)
    panels = ((xy, X, Y, 0), (yx, Y, X, 1))
    for col, (g, c, e, ci) in enumerate(panels, start=1):
        a = _floats(g.alphas)
        d, se = _floats(g.delta), _floats(g.delta_se)
        color = COLORS[ci]
        fig.add_trace(go.Scatter(
            x=a, y=d, mode="lines+markers", name=f"Δ((α·{c}<sub>0</sub>, {e}<sub>0</sub>) → {e}<sub>τ</sub>)",
            line=dict(color=color, width=2), marker=dict(size=5, color=color),
            error_y=dict(type="data", array=se, visible=True, color=color, thickness=1, width=2),
            customdata=se, hovertemplate="α = %{x:.3f}: Δ = %{y:.4f} ± %{customdata:.4f}<extra></extra>"),
            row=1, col=col)
        star = float(g.alpha_star)
        i = int(np.argmin(np.abs(a - star))) if a.size else 0
        if a.size:
            fig.add_trace(go.Scatter(x=[a[i]], y=[d[i]], mode="markers+text", showlegend=False,
                                     name=f"α* = {star:.3g}", text=[f"α* = {star:.2g}"],
                                     # below the minimum: nothing else is there
                                     textposition="bottom right" if star < 0.2 else
                                     ("bottom left" if star > 0.8 else "bottom center"),
                                     textfont=dict(size=12, color=color),
                                     marker=dict(size=14, symbol="star", color=color, line=dict(width=1, color="white")),
                                     hovertemplate="α* = %{x:.3f}: min Δ = %{y:.4f}<extra></extra>"), row=1, col=col)
            fig.add_hline(y=float(d[0]), line=dict(color="#9aa5b1", width=1, dash="dot"), row=1, col=col)
        lo = np.nanmin(d - se) if a.size else 0.0
        hi = np.nanmax(d + se) if a.size else 1.0
        pad = max((hi - lo) * 0.18, 0.005)
        fig.update_yaxes(range=[max(0.0, lo - pad), hi + pad], row=1, col=col)
        fig.update_xaxes(title_text=f"α, the weight of {c}<sub>0</sub>", range=[-0.03, 1.03], row=1, col=col)
    tau = xy.tau
    base_layout(fig, title=title, subtitle=f"cause X = {X}, effect Y = {Y} · τ = {tau} rows · "
                                           f"dotted: Δ(0), the effect's own present · ★ α*, the minimum",
                caption=caption, height=height, legend=True)
    fig.update_yaxes(title_text="Δ(α)", row=1, col=1)
    fig.update_layout(margin=dict(t=fig.layout.margin.t + 12))  # the panel titles clear of the subtitle
    for ann in fig.layout.annotations:
        if ann.text in heads:
            ann.font = dict(size=13.5, color=FONT["color"])
    _legend_below(fig)
    _wrap_caption(fig, caption_chars)
    return fig


def weights_bars(result, *, a_name: str = "A", b_name: str = "B", title: str | None = "Feature weights",
                 caption: str | None = None, height: int | None = None, max_bars: int = 60,
                 caption_chars: int = 64) -> go.Figure:
    """The weights found for A's features, normalised to a largest weight of 1, as horizontal
    bars in the order of the columns (at most ``max_bars``: the largest ones)."""
    from .weights import WeightsResult

    result = _result(result, WeightsResult)
    cols = list(result.columns)
    w = _floats(result.weights)
    top = np.nanmax(np.abs(w)) if w.size else 1.0
    w = np.abs(w) / top if top > 0 else w
    idx = np.arange(len(cols))
    note = ""
    if len(cols) > max_bars:
        idx = np.sort(np.argsort(-w, kind="stable")[:max_bars])
        note = f" · the {max_bars} largest of {len(cols)}"
    names = [esc(cols[i]) for i in idx]
    vals = w[idx]
    se_all = getattr(result, "weights_se", None)
    se = None if se_all is None else (_floats(se_all) / top if top > 0 else _floats(se_all))[idx]
    fig = go.Figure(layout=dict(template="none"))
    fig.add_trace(go.Bar(y=names, x=vals, orientation="h", name="weight",
                         marker=dict(color=COLORS[2], line=dict(width=0)),
                         error_x=None if se is None else dict(type="data", array=se, visible=True, color=COLORS[7],
                                                              thickness=1.4, width=4),
                         # an en space keeps "w ± se" clear of the error bar's cap
                         text=[f"{v:.3g}" for v in vals] if se is None else
                         ["\u2002" + format_pm(v, e) for v, e in zip(vals, se)],
                         textposition="outside", cliponaxis=False,
                         customdata=None if se is None else np.column_stack([se]),
                         hovertemplate="%{y}: %{x:.4f}<extra></extra>" if se is None else
                         "%{y}: %{x:.4f} ± %{customdata[0]:.4f}<extra></extra>"))
    h = height or int(min(900, max(400, 150 + 26 * len(idx))))
    base_layout(fig, title=title, subtitle=f"weights of A = {esc(a_name)} that best predict B = {esc(b_name)}{note}",
                caption=caption, height=h, legend=False)
    # room on the right for the longest "w ± se" text outside its bar
    longest = max((len(t) for t in fig.data[0].text), default=4)
    reach = float(np.nanmax(vals + (0 if se is None else np.nan_to_num(se)), initial=1.0))
    fig.update_xaxes(title_text="weight (largest = 1)", range=[0, max(1.15, reach * (1.08 + 0.022 * longest))])
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False)
    fig.update_layout(bargap=0.35 if len(idx) <= 6 else 0.2)
    _wrap_caption(fig, caption_chars)
    return fig


def weights_history(result, *, method: str | None = None, title: str | None = "Optimisation history",
                    caption: str | None = None, height: int = 400, caption_chars: int = 64) -> go.Figure:
    """The objective along the search: the DII per gradient step ("dii"), or Δ(weighted A → B)
    per evaluation with the best so far ("grid", "coordinate"); dashed: Δ with unit weights
    (before), dotted: Δ with the weights found (after)."""
    from .weights import WeightsResult

    result = _result(result, WeightsResult)
    history = list(result.history)
    method = method or result.method
    before, after = result.delta_before, result.delta_after
    obj = _floats(h["objective"] for h in history)
    fig = go.Figure(layout=dict(template="none"))
    if method == "dii":
        x = [int(h.get("iteration", i)) for i, h in enumerate(history)]
        fig.add_trace(go.Scatter(x=x, y=obj, mode="lines", name="DII (differentiable Δ) at each step",
                                 line=dict(color=COLORS[0], width=2),
                                 hovertemplate="step %{x}: DII = %{y:.4f}<extra></extra>"))
        xtitle, ytitle = "gradient step", "DII or Δ"
    else:
        x = list(range(1, len(history) + 1))
        fig.add_trace(go.Scatter(x=x, y=obj, mode="markers", name="Δ of each trial",
                                 marker=dict(size=5, color=COLORS[6], opacity=0.7),
                                 hovertemplate="evaluation %{x}: Δ = %{y:.4f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=x, y=np.fmin.accumulate(obj) if obj.size else obj, mode="lines",
                                 name="best so far", line=dict(color=COLORS[0], width=2, shape="hv"),
                                 hovertemplate="evaluation %{x}: best Δ = %{y:.4f}<extra></extra>"))
        xtitle, ytitle = "evaluation", "Δ(weighted A → B)"
    xmax = max(x) if x else 1
    for value, name, dash, color in ((before, "Δ before (unit weights)", "dash", COLORS[1]),
                                     (after, "Δ after (weights found)", "dot", COLORS[4])):
        if value is not None:
            fig.add_trace(go.Scatter(x=[min(x, default=0), xmax], y=[value, value], mode="lines",
                                     name=f"{name}: {value:.4f}", line=dict(color=color, width=1.5, dash=dash),
                                     hoverinfo="skip"))
    base_layout(fig, title=title, subtitle=f"method: {esc(method)} · {len(history)} "
                                           f"{'steps' if method == 'dii' else 'evaluations'}",
                caption=caption, height=height, legend=True)
    fig.update_xaxes(title_text=xtitle)
    fig.update_yaxes(title_text=ytitle, range=history_range(np.concatenate([obj, [v for v in (before, after)
                                                                                   if v is not None]])))
    # under the plot (one entry a row): inside, it would cover the curve, which fills the range
    _legend_below(fig, orientation="v")
    _wrap_caption(fig, caption_chars)
    return fig


def history_range(values, *, pad: float = 0.12, min_span: float = 1e-3) -> list[float]:
    """A y range that holds ``values`` tightly: their span plus ``pad`` of it on each side (at
    least ``min_span`` times the largest magnitude, so a flat history still shows), not below
    0 when every value is non-negative.

    Examples
    --------
    >>> [round(v, 5) for v in history_range([0.707, 0.703])]
    [0.70252, 0.70748]
    """
    v = _floats(values)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [0.0, 1.0]
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, min_span * max(abs(lo), abs(hi), 1e-12))
    out = [lo - pad * span, hi + pad * span]
    if lo >= 0:
        out[0] = max(out[0], 0.0)
    return out



# ---- many spaces: the matrix of Δ (infoimb.distances.imbalance_matrix) ----------------
def _matrix_parts(result):
    """(names, delta (S, S) array, se (S, S) array) from an ImbalanceMatrix or its to_dict()."""
    if isinstance(result, Mapping):
        names = [str(s) for s in result["names"]]
        delta = np.array([[np.nan if result["delta"][a][b] is None else result["delta"][a][b]
                           for b in names] for a in names], dtype=float)
        se = np.array([[np.nan if result["se"][a][b] is None else result["se"][a][b]
                        for b in names] for a in names], dtype=float)
        return names, delta, se
    names = [str(s) for s in result.names]
    return names, result.delta.loc[names, names].to_numpy(float), result.se.loc[names, names].to_numpy(float)


def imbalance_heatmap(result, *, title: str | None = "Information imbalance between spaces",
                      caption: str | None = None, height: int | None = None,
                      decimals: int = 3, caption_chars: int = 64) -> go.Figure:
    """Heatmap of Δ(row → column) for every ordered pair of spaces.

    ``result``: an :class:`infoimb.distances.ImbalanceMatrix` or its ``to_dict()``. Rows are
    the "from" spaces (A), columns the "to" spaces (B); the colour scale runs from 0 (A predicts
    B) to 1 (A says nothing about B); the diagonal is left blank.
    """
    names, delta, se = _matrix_parts(result)
    labels = [esc(s) for s in names]
    text = [["" if not np.isfinite(v) else f"{v:.{decimals}f}" for v in row] for row in delta]
    custom = np.dstack([np.where(np.isfinite(se), se, 0.0)])
    fig = go.Figure(go.Heatmap(
        z=delta, x=labels, y=labels, zmin=0.0, zmax=1.0, colorscale="Blues_r", text=text,
        texttemplate="%{text}", customdata=custom, hoverongaps=False,
        colorbar=dict(title=dict(text="Δ(row → column)", side="right"), thickness=14),
        hovertemplate="Δ(%{y} → %{x}) = %{z:.4f} ± %{customdata[0]:.4f}<extra></extra>"))
    n = len(names)
    base_layout(fig, title=title, subtitle=f"{n} spaces · rows: from (A) · columns: to (B)",
                caption=caption, height=height or max(360, 120 + 44 * n), legend=False)
    fig.update_xaxes(title_text="to (B)", side="bottom", showgrid=False, ticks="")
    fig.update_yaxes(title_text="from (A)", autorange="reversed", showgrid=False, ticks="")
    _wrap_caption(fig, caption_chars)
    return fig


def imbalance_matrix_plane(result, *, reference: str | None = None,
                           title: str | None = "All pairs on the information imbalance plane",
                           caption: str | None = None, height: int = 500, **kwargs) -> go.Figure:
    """Every pair of spaces as one point of the information imbalance plane.

    With ``reference`` (a space name), only the pairs (reference, other) are drawn, with
    A = reference and each point labelled by the other space (the paper's Fig. 2h / 4a);
    otherwise every unordered pair (a, b), a before b in the result's order, labelled "a | b".
    Other keyword arguments go to :func:`imbalance_plane`.
    """
    names, delta, se = _matrix_parts(result)
    if reference is not None and reference not in names:
        raise ValueError(f"reference: unknown space {reference!r}; spaces are {names}")
    points = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if reference is not None:
                if a != reference or b == reference:
                    continue
                label = b
            elif j <= i:
                continue
            else:
                label = f"{a} | {b}"
            points.append({"a_to_b": delta[i, j], "b_to_a": delta[j, i], "a_to_b_se": se[i, j],
                           "b_to_a_se": se[j, i], "label": label})
    a_name = reference if reference is not None else "first space of each pair"
    b_name = "each other space" if reference is not None else "second space"
    return imbalance_plane(points, a_name=a_name, b_name=b_name, title=title, caption=caption,
                           height=height, **kwargs)


__all__ += ["imbalance_heatmap", "imbalance_matrix_plane"]


# ---- robustness: repeated analyses on disjoint subsets (issue 10) --------------------
def _frame_of(obj, columns: tuple[str, ...]):
    """A DataFrame from a DataFrame, its records (as the dashboard stores it) or a mapping
    of columns; checked for ``columns``."""
    import pandas as pd

    frame = obj if isinstance(obj, pd.DataFrame) else pd.DataFrame(obj)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"stability table: missing column(s) {missing}")
    return frame


def selection_stability_heatmap(stability, *, n_splits: int | None = None, title: str | None =
                                "Stability: how often each feature is chosen", subtitle: str | None = None,
                                caption: str | None = None, height: int | None = None,
                                caption_chars: int = 64) -> go.Figure:
    """How often each feature is in the best subset of each size, over disjoint splits.

    Parameters
    ----------
    stability : DataFrame or records
        ``SelectionResult.stability``: columns ``size``, ``feature``, ``frequency`` (the
        fraction of splits whose best subset of that size holds the feature).
    n_splits : int, optional
        Stated in the subtitle.

    Returns
    -------
    go.Figure
        A heatmap, features (rows, most often chosen first) by size (columns), 0 to 1.
    """
    frame = _frame_of(stability, ("size", "feature", "frequency"))
    sizes = sorted(int(v) for v in frame["size"].unique())
    # features in order of first appearance as chosen, then by how often they are chosen
    score = frame.groupby("feature")["frequency"].sum()
    first = frame.sort_values(["size", "frequency"], ascending=[True, False]).groupby("feature")["size"].min()
    feats = sorted(score.index, key=lambda f: (first[f], -score[f], str(f)))
    z = np.zeros((len(feats), len(sizes)))
    row = {f: i for i, f in enumerate(feats)}
    col = {d: j for j, d in enumerate(sizes)}
    for f, d, v in zip(frame["feature"], frame["size"], frame["frequency"]):
        z[row[f], col[int(d)]] = float(v)
    fig = go.Figure(layout=dict(template="none"))
    fig.add_trace(go.Heatmap(
        z=z, x=sizes, y=[esc(f) for f in feats], zmin=0, zmax=1, colorscale="Blues",
        colorbar=dict(title=dict(text="chosen in<br>a fraction<br>of splits", side="top"), thickness=12),
        text=[[f"{v:.0%}" if v else "" for v in r] for r in z], texttemplate="%{text}",
        hovertemplate="d = %{x} · %{y}: chosen in %{z:.0%} of the splits<extra></extra>", xgap=2, ygap=2))
    if subtitle is None and n_splits:
        subtitle = f"{n_splits} disjoint splits of the data, the selection repeated on each"
    base_layout(fig, title=title, subtitle=subtitle, caption=caption,
                height=height or max(300, 120 + 26 * len(feats)), legend=False)
    fig.update_xaxes(title_text="number of features d", dtick=1, showgrid=False)
    fig.update_yaxes(title_text="feature", autorange="reversed", showgrid=False)
    _wrap_caption(fig, caption_chars)
    return fig


def selection_stability_curves(curves, *, reference=None, criterion: str = "a_to_b",
                               target_name: str = "target", title: str | None = "Stability: the curve of each split",
                               subtitle: str | None = None, caption: str | None = None, height: int = 420,
                               caption_chars: int = 64) -> go.Figure:
    """The selection curve of each disjoint split (thin lines), their spread (min to max band)
    and, optionally, the full data's curve (``reference``: a SelectionResult or its dict).

    ``curves``: ``SelectionResult.stability_curves`` (columns ``split``, ``size``, ``criterion``).
    """
    frame = _frame_of(curves, ("split", "size", "criterion"))
    fig = go.Figure(layout=dict(template="none"))
    spread = frame.groupby("size")["criterion"].agg(["min", "max"]).sort_index()
    xs = [int(v) for v in spread.index]
    fig.add_trace(go.Scatter(x=xs, y=spread["min"], mode="lines", line=dict(width=0), showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=xs, y=spread["max"], mode="lines", line=dict(width=0), fill="tonexty",
                             fillcolor="rgba(209,73,91,0.15)", name="spread over the splits (min–max)",
                             hoverinfo="skip"))
    for k, (split, part) in enumerate(frame.groupby("split")):
        part = part.sort_values("size")
        fig.add_trace(go.Scatter(
            x=part["size"], y=part["criterion"], mode="lines+markers", name="each split" if k == 0 else None,
            showlegend=k == 0, legendgroup="splits", line=dict(color=COLORS[1], width=1.1),
            marker=dict(size=5, color=COLORS[1]),
            customdata=np.column_stack([part.get("features", part["size"]).astype(str)]),
            hovertemplate=f"split {int(split) + 1}, " + "d = %{x}: %{y:.4f}<br>%{customdata[0]}<extra></extra>"))
    top = float(np.nanmax(np.r_[frame["criterion"].to_numpy(dtype=float), 0.1]))
    if reference is not None:
        steps, _, _ = _selection(reference)
        fig.add_trace(go.Scatter(x=[s.size for s in steps], y=[s.criterion for s in steps], mode="lines+markers",
                                 name="all the data", line=dict(color=COLORS[0], width=2.2),
                                 marker=dict(size=7, color=COLORS[0])))
        top = max(top, float(np.nanmax([s.criterion for s in steps])))
    base_layout(fig, title=title, subtitle=subtitle, caption=caption, height=height, legend=True)
    fig.update_xaxes(title_text="number of features d", dtick=1)
    fig.update_yaxes(title_text=CRITERION_AXIS.get(criterion, "criterion").format(t=esc(target_name)),
                     range=[0, top * 1.35])
    _legend_inside(fig)
    _wrap_caption(fig, caption_chars)
    return fig


def lag_stability(stability, *, source_name: str = "source", target_name: str = "target",
                  step: str | None = None, title: str | None = "Stability: the scan of each split",
                  caption: str | None = None, height: int = 420, caption_chars: int = 150) -> go.Figure:
    """The forward lag scan of each disjoint split (lines) and how often each lag is a split's
    best (bars, right axis).

    ``stability``: ``LagScanResult.stability`` (columns ``split``, ``lag``, ``forward``,
    ``is_best``).
    """
    frame = _frame_of(stability, ("split", "lag", "forward", "is_best"))
    n_splits = int(frame["split"].nunique())
    lags = sorted(int(v) for v in frame["lag"].unique())
    best = frame[frame["is_best"].astype(bool)].groupby("lag")["split"].nunique()
    freq = [float(best.get(lag, 0)) / max(n_splits, 1) for lag in lags]
    s, t = esc(source_name), esc(target_name)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(template="none")
    fig.add_trace(go.Bar(x=lags, y=freq, name="best lag in this fraction of the splits",
                         marker=dict(color="rgba(0,121,140,0.28)", line=dict(width=0)),
                         hovertemplate="δ = %{x}: best in %{y:.0%} of the splits<extra></extra>"),
                  secondary_y=True)
    for k, (split, part) in enumerate(frame.groupby("split")):
        part = part.sort_values("lag")
        fig.add_trace(go.Scatter(
            x=part["lag"], y=part["forward"], mode="lines+markers", showlegend=k == 0, legendgroup="splits",
            name=f"Δ({s}<sub>t</sub> → {t}<sub>t+δ</sub>), each split", line=dict(color=COLORS[0], width=1.2),
            marker=dict(size=5, color=COLORS[0]),
            hovertemplate=f"split {int(split) + 1}, " + "δ = %{x}: %{y:.4f}<extra></extra>"), secondary_y=False)
    base_layout(fig, title=title, subtitle=f"{n_splits} disjoint splits · source: {s} · target: {t}",
                caption=caption, height=height)
    fig.update_xaxes(title_text="lag δ (steps" + (f" of {esc(step)})" if step else ")"),
                     dtick=1 if len(lags) <= 25 else None)
    top = float(np.nanmax(np.r_[frame["forward"].to_numpy(dtype=float), 0.1]))
    fig.update_yaxes(title_text="Δ", range=[0, top * 1.15], secondary_y=False)
    fig.update_yaxes(title_text="best lag: fraction of splits", range=[0, 1.05], tickformat=".0%", dtick=0.25,
                     showgrid=False, secondary_y=True)
    _legend_below(fig)
    _wrap_caption(fig, caption_chars)
    return fig


__all__ += ["lag_stability", "selection_stability_curves", "selection_stability_heatmap"]


# ---- the causal graph ------------------------------------------------------------------
NODE_RADIUS = 0.13  # in the layout's units (the circle has radius 1)


def _graph_parts(result) -> tuple[list[str], list[dict], dict, dict]:
    """(variables, edges as row dicts, positions, columns) of a CausalGraph or its to_dict()."""
    from .graph import CausalGraph

    g = _result(result, CausalGraph)
    edges = g.edges.to_dict(orient="records")
    return list(g.variables), edges, g.positions(), dict(g.columns or {})


def causal_graph_figure(result, *, title: str | None = "Causal graph: direct links",
                        caption: str | None = None, height: int = 560,
                        caption_chars: int = 150) -> go.Figure:
    """The graph of a :class:`~infoimb.graph.CausalGraph`: variables as nodes on a circle
    (in their order, the first at the top: :meth:`~infoimb.graph.CausalGraph.positions`, so
    the layout depends only on the variables and is the same on every run), each direct
    link an arrow cause → effect whose width and opacity grow with its imbalance gain.
    Hovering the middle of an arrow shows cause → effect, gain, lag, p and q; hovering a
    node its columns and its drivers. Links both ways between two variables are drawn side
    by side.

    ``result``: a CausalGraph or its ``to_dict()``. The hover points of the links are the
    trace named "links" (``customdata``: cause, effect, gain, lag, p, q), the arrows are the
    layout's annotations named ``"edge"``.
    """
    names, edges, pos, columns = _graph_parts(result)
    fig = go.Figure(layout=dict(template="none"))
    top = max((float(e["gain"]) for e in edges), default=0.0)
    pairs = {(e["cause"], e["effect"]) for e in edges}
    mid_x, mid_y, custom, hover = [], [], [], []
    for e in edges:
        c, t = e["cause"], e["effect"]
        (x0, y0), (x1, y1) = pos[c], pos[t]
        dx, dy = x1 - x0, y1 - y0
        length = float(np.hypot(dx, dy)) or 1.0
        ux, uy = dx / length, dy / length
        shift = 0.045 if (t, c) in pairs else 0.0  # both ways: each arrow on its own right side
        ox, oy = uy * shift, -ux * shift
        sx, sy = x0 + ux * NODE_RADIUS + ox, y0 + uy * NODE_RADIUS + oy
        ex, ey = x1 - ux * NODE_RADIUS + ox, y1 - uy * NODE_RADIUS + oy
        w = float(e["gain"]) / top if top > 0 else 1.0
        text = (f"{esc(c)} → {esc(t)}<br>gain {float(e['gain']):.3f} · lag {int(e['lag'])}<br>"
                f"p = {float(e['p']):.3g} · q = {float(e['q']):.3g}")
        fig.add_annotation(x=ex, y=ey, ax=sx, ay=sy, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, arrowsize=1.0, standoff=0, startstandoff=0,
                           arrowwidth=1.5 + 5.5 * w, arrowcolor=COLORS[0], opacity=0.35 + 0.65 * w,
                           text="", name="edge", hovertext=text)
        mid_x.append((sx + ex) / 2)
        mid_y.append((sy + ey) / 2)
        custom.append([c, t, float(e["gain"]), int(e["lag"]), float(e["p"]), float(e["q"])])
        hover.append(text)
    if edges:
        fig.add_trace(go.Scatter(
            x=mid_x, y=mid_y, mode="markers", name="links", showlegend=False, customdata=custom,
            marker=dict(size=14, color="rgba(27,79,138,0.001)"),
            hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    drivers = {v: [e["cause"] for e in edges if e["effect"] == v] for v in names}
    linked = {e["cause"] for e in edges} | {e["effect"] for e in edges}
    node_text = []
    for v in names:
        cols = columns.get(v) or (v,)
        line = f"<b>{esc(v)}</b><br>columns: {esc(', '.join(map(str, cols)))}"
        line += (f"<br>driven by: {esc(', '.join(drivers[v]))}" if drivers[v] else "<br>no driver found")
        node_text.append(line)
    fig.add_trace(go.Scatter(
        x=[pos[v][0] for v in names], y=[pos[v][1] for v in names], mode="markers+text",
        name="variables", showlegend=False, text=[esc(v) for v in names], textposition="middle center",
        textfont=dict(size=13 if len(names) <= 12 else 10, color="white"),
        marker=dict(size=46 if len(names) <= 12 else 30,
                    color=[COLORS[2] if v in linked else COLORS[6] for v in names],
                    line=dict(width=1.5, color="white")),
        hovertext=node_text, hovertemplate="%{hovertext}<extra></extra>"))
    n_e = len(edges)
    sub = (f"{len(names)} variables · {n_e} direct link{'s' if n_e != 1 else ''} · arrow width and "
           "opacity: the imbalance gain · grey: no link · hover an arrow's middle for gain, lag, p, q")
    base_layout(fig, title=title, subtitle=sub, caption=caption, height=height, legend=False)
    lim = 1.0 + NODE_RADIUS + 0.25
    fig.update_xaxes(range=[-lim, lim], visible=False, showgrid=False)
    fig.update_yaxes(range=[-lim, lim], visible=False, showgrid=False, scaleanchor="x", scaleratio=1)
    fig.update_layout(hovermode="closest", margin=dict(l=24, r=24))
    _wrap_caption(fig, caption_chars)
    return fig
