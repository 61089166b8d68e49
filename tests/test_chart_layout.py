"""Issue 14: chart layout that stays readable on a 1280 px projector (legend, title size)."""

from __future__ import annotations

import plotly.graph_objects as go

from kam_analytics.exports.theme import apply_theme, fit_title


def _two_series() -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=["A", "B"], y=[1, 2], name="In Rechnung gestellt")
    fig.add_bar(x=["A", "B"], y=[2, 1], name="Ausgewiesen, nicht berechnet")
    return fig


def test_titled_chart_puts_the_legend_under_everything():
    fig = apply_theme(_two_series(), title="Leistungswert", period="2026", lang="de")
    legend = fig.layout.legend
    # container coordinates at the bottom edge: plotly shrinks the plot to make room for it
    assert (legend.yref, legend.y, legend.yanchor) == ("container", 0.0, "bottom")
    assert (legend.x, legend.xanchor, legend.orientation) == (0.0, "left", "h")


def test_untitled_chart_keeps_the_legend_over_the_plot():
    fig = apply_theme(_two_series(), period="2026", lang="de")
    legend = fig.layout.legend
    assert (legend.yref, legend.y, legend.yanchor) == ("paper", 1.0, "bottom")
    assert (legend.x, legend.xanchor) == (1.0, "right")


def test_fit_title_shrinks_a_long_title_to_the_width():
    title = "Verluste je Kunde: außerhalb der Matrix und Giveaways"  # 53 characters
    fig = apply_theme(_two_series(), title=title, period="01.01.2026 – 02.12.2026", lang="de")
    assert fig.layout.title.font.size == 28
    fit_title(fig, 860)
    # 0.62 × 28 × 53 = 920 px needed > 860: 28 × 860 / 920 = 26.2 -> 26
    assert fig.layout.title.font.size == 26
    # the subtitle (about 70 characters at 15 px: 580 px) already fits
    assert fig.layout.title.subtitle.font.size == 15


def test_fit_title_leaves_a_short_title_alone():
    fig = apply_theme(_two_series(), title="Umsatz je Monat", period="2026", lang="de")
    fit_title(fig, 860)
    assert fig.layout.title.font.size == 28


def test_fit_title_never_goes_below_the_smallest_size():
    fig = apply_theme(_two_series(), title="x" * 400, period="2026", lang="de")
    fit_title(fig, 300)
    assert fig.layout.title.font.size == 16
