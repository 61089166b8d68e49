"""The charts of the value deck and the review pack: plotly figures in the company theme."""

from __future__ import annotations

import datetime as dt
import textwrap

import pandas as pd
import plotly.graph_objects as go
from babel.dates import format_date

from kam_analytics.exports.slides import SlideContext
from kam_analytics.exports.theme import apply_theme
from kam_analytics.exports.theme import money_axis as _money_axis
from kam_analytics.glossary import billing_mode_label
from kam_analytics.i18n import fmt_eur, t

# Customer-facing order of the billing modes: what was invoiced first, what was free last.
MODE_ORDER = ("billed", "waived", "silent")


def chart_theme(fig: go.Figure, ctx: SlideContext, period: str, title: str | None = None):
    """Slide charts: the company theme, and the period and source line inside the image."""
    apply_theme(fig, title=title, period=period, lang=ctx.lang, theme=ctx.theme)
    top = 70 if title else 40
    fig.update_layout(margin={"l": 20, "r": 30, "t": top, "b": 80})
    return fig


def chart_services_by_mode(by_service: pd.DataFrame, ctx: SlideContext, period: str) -> go.Figure:
    """Horizontal bars per service, stacked by how the value was handled."""
    data = by_service.sort_values("list_value", ascending=True)
    colors = ctx.theme.billing_colors()
    fig = go.Figure()
    for mode in MODE_ORDER:
        fig.add_bar(
            y=[wrap_label(n, 28) for n in data["name"]],
            x=data[f"value_{mode}"],
            orientation="h",
            name=billing_mode_label(mode, ctx.lang),
            marker_color=colors[mode],
        )
    fig.update_layout(barmode="stack", bargap=0.3)
    chart_theme(fig, ctx, period)
    _money_axis(fig, ctx.lang, axis="x")
    fig.update_xaxes(nticks=6)
    fig.update_yaxes(automargin=True, ticksuffix="  ")
    return fig


def chart_ladder(ladder: pd.DataFrame, ctx: SlideContext, period: str) -> go.Figure:
    """The value by billing mode as three bars with euro labels."""
    colors = ctx.theme.billing_colors()
    data = ladder.set_index("billing_mode").reindex(list(MODE_ORDER)).fillna(0)
    labels = [wrap_label(billing_mode_label(m, ctx.lang), 16) for m in MODE_ORDER]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=data["list_value"],
            marker_color=[colors[m] for m in MODE_ORDER],
            text=[fmt_eur(v, ctx.lang, 0) for v in data["list_value"]],
            textposition="outside",
            cliponaxis=False,
            textfont={"size": 22},
        )
    )
    chart_theme(fig, ctx, period)
    _money_axis(fig, ctx.lang)
    fig.update_layout(showlegend=False, bargap=0.45)
    fig.update_xaxes(tickangle=0)
    return fig


def chart_express(monthly: pd.DataFrame, ctx: SlideContext, period: str) -> go.Figure:
    """Express freight per month: charged to the customer and absorbed by us."""
    colors = ctx.theme.billing_colors()
    labels = [_month_label(m, ctx.lang) for m in monthly["month"]]
    fig = go.Figure()
    fig.add_bar(
        x=labels,
        y=monthly["charged"],
        name=t("deck_express_charged", ctx.lang),
        marker_color=colors["billed"],
    )
    fig.add_bar(
        x=labels,
        y=monthly["absorbed"],
        name=t("deck_express_absorbed", ctx.lang),
        marker_color=colors["silent"],
    )
    fig.update_layout(barmode="stack", bargap=0.35)
    chart_theme(fig, ctx, period)
    _money_axis(fig, ctx.lang)
    return fig


def chart_revenue(revenue: pd.DataFrame, ctx: SlideContext, period: str) -> go.Figure:
    """Monthly net revenue, this year against last year."""
    fig = go.Figure()
    years = sorted({m.year for m in revenue["month"]})
    for i, year in enumerate(years):
        part = revenue[[m.year == year for m in revenue["month"]]]
        fig.add_bar(
            x=[
                _month_label(f"2000-{m.month:02d}", ctx.lang, with_year=False)
                for m in part["month"]
            ],
            y=part["revenue"],
            name=str(year),
            marker_color=ctx.theme.colors[0]
            if year == max(years)
            else ctx.theme.colors[-1]
            if i == 0
            else ctx.theme.colors[2],
        )
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    chart_theme(fig, ctx, period)
    _money_axis(fig, ctx.lang)
    return fig


def chart_leakage(leak_srv: pd.DataFrame, ctx: SlideContext, period: str) -> go.Figure:
    """Leakage per service (off-policy and giveaways), largest on top."""
    data = leak_srv[leak_srv["leakage"] > 0].sort_values("leakage", ascending=True)
    fig = go.Figure(
        go.Bar(
            y=[wrap_label(n, 24) for n in data["name"]],
            x=data["leakage"],
            orientation="h",
            marker_color=ctx.theme.colors[6 % len(ctx.theme.colors)],
            text=[fmt_eur(v, ctx.lang, 0) for v in data["leakage"]],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_layout(showlegend=False, bargap=0.35)
    chart_theme(fig, ctx, period)
    _money_axis(fig, ctx.lang, axis="x")
    fig.update_xaxes(nticks=4, tickangle=0, range=[0, float(data["leakage"].max() or 1) * 1.3])
    fig.update_yaxes(automargin=True, ticksuffix="  ")
    return fig


def wrap_label(text: str, width: int = 24) -> str:
    """Break a long axis label into lines (plotly <br>) so charts need no rotated labels."""
    return "<br>".join(textwrap.wrap(str(text), width=width)) or str(text)


def _month_label(month: str, lang: str, with_year: bool = True) -> str:
    day = dt.date.fromisoformat(month + "-01")
    locale = "de_DE" if lang == "de" else "en_GB"
    return format_date(day, "MMM yy" if with_year else "MMM", locale=locale)
