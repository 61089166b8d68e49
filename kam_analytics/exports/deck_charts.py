"""The charts of the value deck and the review pack: native PowerPoint charts in the company theme.

Each function places one editable chart (python-pptx chart object, company colours and font,
euro number format) with its period and source line on a slide. No picture, no browser.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from babel.dates import format_date

from kam_analytics.exports.slides import ChartSeries, SlideContext, add_bar_chart
from kam_analytics.exports.theme import chart_footer
from kam_analytics.glossary import billing_mode_label
from kam_analytics.i18n import t

# Customer-facing order of the billing modes: what was invoiced first, what was free last.
MODE_ORDER = ("billed", "waived", "silent")


def source_line(ctx: SlideContext, period: str) -> str:
    """The line under a slide chart: period · source · company."""
    return chart_footer(ctx.lang, period, t("exp_source_default", ctx.lang), ctx.theme.company)


def _mode_series(frame: pd.DataFrame, ctx: SlideContext) -> list[ChartSeries]:
    colors = ctx.theme.billing_colors()
    return [
        ChartSeries(
            billing_mode_label(mode, ctx.lang),
            [float(v) for v in frame[f"value_{mode}"]],
            colors[mode],
        )
        for mode in MODE_ORDER
    ]


def chart_services_by_mode(slide, ctx: SlideContext, by_service: pd.DataFrame, period: str, box):
    """Horizontal bars per service (largest on top), stacked by how the value was handled."""
    data = by_service.sort_values("list_value", ascending=False)
    return add_bar_chart(
        slide,
        ctx,
        box,
        [str(n) for n in data["name"]],
        _mode_series(data, ctx),
        source=source_line(ctx, period),
        horizontal=True,
        stacked=True,
        font_size=11 if len(data) > 8 else 12,
    )


def chart_ladder(slide, ctx: SlideContext, ladder: pd.DataFrame, period: str, box):
    """The value by billing mode as three columns with euro labels."""
    colors = ctx.theme.billing_colors()
    data = ladder.set_index("billing_mode").reindex(list(MODE_ORDER)).fillna(0)
    return add_bar_chart(
        slide,
        ctx,
        box,
        [billing_mode_label(m, ctx.lang) for m in MODE_ORDER],
        [
            ChartSeries(
                t("deck_value", ctx.lang),
                [float(v) for v in data["list_value"]],
                colors[MODE_ORDER[0]],
                point_colors=[colors[m] for m in MODE_ORDER],
            )
        ],
        source=source_line(ctx, period),
        data_labels=True,
        font_size=13,
    )


def chart_monthly_by_mode(slide, ctx: SlideContext, monthly: pd.DataFrame, period: str, box):
    """Service value per month, stacked by billing mode."""
    return add_bar_chart(
        slide,
        ctx,
        box,
        [month_label(m, ctx.lang) for m in monthly["month"]],
        _mode_series(monthly, ctx),
        source=source_line(ctx, period),
        stacked=True,
    )


def chart_express(slide, ctx: SlideContext, monthly: pd.DataFrame, period: str, box):
    """Express freight per month: charged to the customer and covered by us."""
    colors = ctx.theme.billing_colors()
    return add_bar_chart(
        slide,
        ctx,
        box,
        [month_label(m, ctx.lang) for m in monthly["month"]],
        [
            ChartSeries(
                t("deck_express_charged", ctx.lang),
                [float(v) for v in monthly["charged"]],
                colors["billed"],
            ),
            ChartSeries(
                t("deck_express_absorbed", ctx.lang),
                [float(v) for v in monthly["absorbed"]],
                colors["silent"],
            ),
        ],
        source=source_line(ctx, period),
        stacked=True,
    )


def chart_revenue(slide, ctx: SlideContext, revenue: pd.DataFrame, period: str, box):
    """Monthly net revenue, this year against last year (one column group per month)."""
    years = sorted({m.year for m in revenue["month"]})
    months = list(range(1, 13))
    series = []
    for year in years:
        part = revenue[[m.year == year for m in revenue["month"]]]
        by_month = {m.month: float(v) for m, v in zip(part["month"], part["revenue"], strict=True)}
        color = ctx.theme.colors[0] if year == max(years) else ctx.theme.colors[-1]
        series.append(ChartSeries(str(year), [by_month.get(m, 0.0) for m in months], color))
    return add_bar_chart(
        slide,
        ctx,
        box,
        [month_label(f"2000-{m:02d}", ctx.lang, with_year=False) for m in months],
        series,
        source=source_line(ctx, period),
    )


def chart_leakage(slide, ctx: SlideContext, leak_srv: pd.DataFrame, period: str, box):
    """Leakage per service (off-policy and giveaways), largest on top, with euro labels."""
    data = leak_srv[leak_srv["leakage"] > 0].sort_values("leakage", ascending=False)
    return add_bar_chart(
        slide,
        ctx,
        box,
        [str(n) for n in data["name"]],
        [
            ChartSeries(
                t("rp_leakage", ctx.lang),
                [float(v) for v in data["leakage"]],
                ctx.theme.colors[6 % len(ctx.theme.colors)],
            )
        ],
        source=source_line(ctx, period),
        horizontal=True,
        data_labels=True,
        font_size=11,
    )


def month_label(month, lang: str, with_year: bool = True) -> str:
    """'Jan. 25' / 'Jan 25' for a month given as 'YYYY-MM' or a date."""
    day = dt.date.fromisoformat(month + "-01") if isinstance(month, str) else month
    locale = "de_DE" if lang == "de" else "en_GB"
    return format_date(day, "MMM yy" if with_year else "MMM", locale=locale)
