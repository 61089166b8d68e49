"""The per-account value deck: "Nice that I'm your key account — what do I get from it?"

A short native PowerPoint (python-pptx) with editable text and tables and charts as PNG
images from exports.charts. Every number comes from the same metrics functions the pages use
(metrics.services, metrics.retention), so the deck and the dashboard never disagree.
The slide helpers at the top are shared with the management review pack.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from kam_analytics.access import Scope
from kam_analytics.catalogue import exclusive_services, select_matrix
from kam_analytics.errors import AccessDeniedError, NotFoundError, Reason
from kam_analytics.exports import charts
from kam_analytics.exports.theme import MUTED_COLOR, TEXT_COLOR, Theme, apply_theme, load_theme
from kam_analytics.exports.theme import money_axis as _money_axis
from kam_analytics.i18n import (
    billing_mode_label,
    fmt_date,
    fmt_eur,
    fmt_number,
    fmt_pct,
    normalise_lang,
    select_service_names,
    t,
    tier_label,
)
from kam_analytics.metrics.mandates import get_mandate
from kam_analytics.metrics.services import (
    billing_ladder,
    select_service_events,
    summarise_events,
)
from kam_analytics.schema import BILLING_MODES

SLIDE_W = Emu(12192000)  # 13.333 in: the exact 16:9 size PowerPoint uses
SLIDE_H = Inches(7.5)
MARGIN = Inches(0.6)
CONTENT_TOP = Inches(1.45)
CONTENT_BOTTOM = Inches(6.85)
# Chart pictures are rendered at this many CSS pixels per inch of slide, at scale 2.
PX_PER_INCH = 100
EXPRESS = "EXPRESS_FREIGHT"
# Customer-facing order of the billing modes: what was invoiced first, what was free last.
MODE_ORDER = ("billed", "waived", "silent")


# --- period -------------------------------------------------------------------------------


def resolve_period(year: int, as_of: dt.date | None = None, today: dt.date | None = None):
    """(start, end) of the deck period: the calendar year, cut at as_of / today when running."""
    start = dt.date(int(year), 1, 1)
    end = dt.date(int(year), 12, 31)
    cut = as_of or today or dt.date.today()
    return start, min(end, cut) if cut >= start else end


def period_label(start: dt.date, end: dt.date, lang: str) -> str:
    """'2025' for a full calendar year, else '01.01.2026 – 25.11.2026'."""
    if start.month == 1 and start.day == 1 and end == dt.date(start.year, 12, 31):
        return str(start.year)
    return f"{fmt_date(start, lang)} – {fmt_date(end, lang)}"


# --- slide helpers (shared with review_pack) -----------------------------------------------


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


def office_font(theme: Theme) -> str:
    """The font name for office files: Liberation Sans is Arial's metric twin, so say Arial."""
    name = theme.font_name
    return "Arial" if name.lower().startswith("liberation sans") else name


@dataclass
class SlideContext:
    """What every slide needs: the presentation, theme, language and footer text."""

    prs: object
    theme: Theme
    lang: str
    footer: str
    font: str = "Arial"
    slide_titles: list[str] = field(default_factory=list)


def new_presentation(theme: Theme, lang: str, footer: str) -> SlideContext:
    """An empty 16:9 presentation in the company theme."""
    prs = Presentation()
    prs.slide_width = SLIDE_W
    prs.slide_height = SLIDE_H
    prs.core_properties.language = "de-DE" if lang == "de" else "en-GB"
    return SlideContext(prs=prs, theme=theme, lang=lang, footer=footer, font=office_font(theme))


def _style_runs(paragraph, ctx: SlideContext, size: float, color: str, bold: bool = False) -> None:
    for run in paragraph.runs:
        run.font.name = ctx.font
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = _rgb(color)


def add_text(
    slide,
    ctx: SlideContext,
    left,
    top,
    width,
    height,
    lines,
    size: float = 16,
    color: str = TEXT_COLOR,
    bold: bool = False,
    align=PP_ALIGN.LEFT,
    anchor=MSO_ANCHOR.TOP,
    bullets: bool = False,
):
    """A native, editable text box; `lines` is a string or a list of paragraphs."""
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = Inches(0.05)
    items = [lines] if isinstance(lines, str) else list(lines)
    for i, item in enumerate(items):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.text = ("•  " if bullets else "") + str(item)
        para.alignment = align
        if bullets:
            para.space_after = Pt(6)
        _style_runs(para, ctx, size, color, bold)
    return box


def add_slide(ctx: SlideContext, title: str, subtitle: str | None = None):
    """A content slide: title (a real title placeholder), accent line, footer, page number."""
    layout = ctx.prs.slide_layouts[5]  # "Title Only": keeps the title in the outline
    slide = ctx.prs.slides.add_slide(layout)
    shape = slide.shapes.title
    shape.left, shape.top = MARGIN, Inches(0.35)
    shape.width, shape.height = SLIDE_W - 2 * MARGIN, Inches(0.75)
    frame = shape.text_frame
    frame.text = title
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    frame.word_wrap = True
    para = frame.paragraphs[0]
    para.alignment = PP_ALIGN.LEFT
    _style_runs(para, ctx, 28, ctx.theme.primary, bold=True)
    bar = slide.shapes.add_shape(
        MSO_SHAPE.RECTANGLE, MARGIN, Inches(1.12), Inches(1.2), Inches(0.06)
    )
    bar.fill.solid()
    bar.fill.fore_color.rgb = _rgb(ctx.theme.colors[3 % len(ctx.theme.colors)])
    bar.line.fill.background()
    if subtitle:
        add_text(
            slide,
            ctx,
            MARGIN + Inches(1.4),
            Inches(1.0),
            SLIDE_W - 2 * MARGIN - Inches(1.4),
            Inches(0.35),
            subtitle,
            size=13,
            color=MUTED_COLOR,
        )
    number = len(ctx.prs.slides)
    add_text(
        slide,
        ctx,
        MARGIN,
        Inches(7.0),
        SLIDE_W - 2 * MARGIN - Inches(1.0),
        Inches(0.3),
        ctx.footer,
        size=10,
        color=MUTED_COLOR,
    )
    add_text(
        slide,
        ctx,
        SLIDE_W - MARGIN - Inches(1.0),
        Inches(7.0),
        Inches(1.0),
        Inches(0.3),
        str(number),
        size=10,
        color=MUTED_COLOR,
        align=PP_ALIGN.RIGHT,
    )
    ctx.slide_titles.append(title)
    return slide


def add_title_slide(ctx: SlideContext, kicker: str, title: str, lines: list[str]):
    """The opening slide: a company-coloured band with kicker, big title and period lines."""
    slide = ctx.prs.slides.add_slide(ctx.prs.slide_layouts[6])
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, SLIDE_W, Inches(4.6))
    band.fill.solid()
    band.fill.fore_color.rgb = _rgb(ctx.theme.primary)
    band.line.fill.background()
    accent = slide.shapes.add_shape(
        MSO_SHAPE.RECTANGLE, MARGIN, Inches(4.6), Inches(2.0), Inches(0.1)
    )
    accent.fill.solid()
    accent.fill.fore_color.rgb = _rgb(ctx.theme.colors[3 % len(ctx.theme.colors)])
    accent.line.fill.background()
    add_text(
        slide, ctx, MARGIN, Inches(1.3), Inches(11.5), Inches(0.6), kicker, size=20, color="#DDE6F0"
    )
    add_text(
        slide,
        ctx,
        MARGIN,
        Inches(1.95),
        Inches(12.0),
        Inches(2.3),
        title,
        size=40,
        color="#FFFFFF",
        bold=True,
        anchor=MSO_ANCHOR.TOP,
    )
    add_text(
        slide, ctx, MARGIN, Inches(5.0), Inches(12.0), Inches(1.6), lines, size=18, color=TEXT_COLOR
    )
    add_text(
        slide,
        ctx,
        MARGIN,
        Inches(7.0),
        SLIDE_W - 2 * MARGIN,
        Inches(0.3),
        ctx.footer,
        size=10,
        color=MUTED_COLOR,
    )
    ctx.slide_titles.append(title)
    return slide


def add_kpi_tiles(slide, ctx: SlideContext, tiles: list[tuple[str, str, str]], top, height=None):
    """A row of figure tiles: (big value, label, small note) each, native text."""
    height = height or Inches(1.9)
    gap = Inches(0.25)
    n = max(len(tiles), 1)
    width = int((SLIDE_W - 2 * MARGIN - gap * (n - 1)) / n)
    for i, (value, label, note) in enumerate(tiles):
        left = MARGIN + i * (width + gap)
        tile = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, height)
        tile.fill.solid()
        tile.fill.fore_color.rgb = _rgb("#F2F5F8")
        tile.line.fill.background()
        strip = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, Inches(0.08), height)
        strip.fill.solid()
        strip.fill.fore_color.rgb = _rgb(ctx.theme.colors[i % len(ctx.theme.colors)])
        strip.line.fill.background()
        inner_l, inner_w = left + Inches(0.25), width - Inches(0.35)
        add_text(
            slide,
            ctx,
            inner_l,
            top + Inches(0.12),
            inner_w,
            Inches(0.65),
            value,
            size=26,
            color=ctx.theme.primary,
            bold=True,
        )
        add_text(
            slide,
            ctx,
            inner_l,
            top + Inches(0.78),
            inner_w,
            Inches(0.5),
            label,
            size=12,
            color=TEXT_COLOR,
            bold=True,
        )
        if note:
            add_text(
                slide,
                ctx,
                inner_l,
                top + Inches(1.3),
                inner_w,
                Inches(0.5),
                note,
                size=11,
                color=MUTED_COLOR,
            )


def add_table(
    slide,
    ctx: SlideContext,
    header: list[str],
    rows: list[list[str]],
    left,
    top,
    width,
    col_widths: list[float] | None = None,
    right_align: tuple[int, ...] = (),
    size: float = 12,
    total_row: bool = False,
):
    """A native PowerPoint table: company-coloured header, light banding, numbers right."""
    n_rows = len(rows) + 1
    row_h = Inches(0.36 if size >= 12 else 0.31)
    shape = slide.shapes.add_table(n_rows, len(header), left, top, width, row_h * n_rows)
    table = shape.table
    weights = col_widths or [1.0] * len(header)
    total = sum(weights)
    for i, w in enumerate(weights):
        table.columns[i].width = Emu(int(width * w / total))
    for r in range(n_rows):
        table.rows[r].height = row_h
        values = header if r == 0 else rows[r - 1]
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.text = "" if value is None else str(value)
            cell.margin_left = cell.margin_right = Inches(0.08)
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            para = cell.text_frame.paragraphs[0]
            para.alignment = PP_ALIGN.RIGHT if c in right_align else PP_ALIGN.LEFT
            is_total = total_row and r == n_rows - 1
            if r == 0:
                color, bold, fill = "#FFFFFF", True, ctx.theme.primary
            else:
                color, bold = TEXT_COLOR, is_total
                fill = "#E3E9F0" if is_total else ("#FFFFFF" if r % 2 else "#F4F6F9")
            _style_runs(para, ctx, size, color, bold)
            cell.fill.solid()
            cell.fill.fore_color.rgb = _rgb(fill)
    return shape


def add_chart(slide, ctx: SlideContext, fig: go.Figure, left, top, width, height):
    """A plotly figure rendered by kaleido/chromium as a PNG picture filling the box."""
    w_px = int(width / 914400 * PX_PER_INCH)
    h_px = int(height / 914400 * PX_PER_INCH)
    png = charts.figure_to_png(fig, width=w_px, height=h_px, scale=2)
    return slide.shapes.add_picture(io.BytesIO(png), left, top, width, height)


def save_presentation(ctx: SlideContext, out=None) -> bytes:
    """The presentation as bytes, also written to `out` (a path) when given."""
    buffer = io.BytesIO()
    ctx.prs.save(buffer)
    data = buffer.getvalue()
    if out is not None:
        with open(out, "wb") as fh:
            fh.write(data)
    return data


def chart_theme(fig: go.Figure, ctx: SlideContext, period: str, title: str | None = None):
    """Slide charts: the company theme, and the period and source line inside the image."""
    apply_theme(fig, title=title, period=period, lang=ctx.lang, theme=ctx.theme)
    top = 70 if title else 40
    fig.update_layout(margin={"l": 20, "r": 30, "t": top, "b": 80})
    return fig


# --- data -----------------------------------------------------------------------------------


def select_account(con, account_id: str, scope: Scope) -> dict:
    """One account with its KAM, if the scope may see it (NotFound / AccessDenied otherwise)."""
    rows = con.execute(
        "SELECT a.account_id, a.name, a.tier, a.kam_id, k.name, k.email, a.city, a.industry, "
        "a.account_id IN (SELECT account_id FROM visible_accounts(?)) AS visible "
        "FROM accounts a LEFT JOIN kams k ON k.kam_id = a.kam_id WHERE a.account_id = ?",
        [scope.kam_param, account_id],
    ).fetchall()
    if not rows:
        raise NotFoundError(Reason.ACCOUNT_NOT_FOUND, account=str(account_id))
    row = rows[0]
    if not row[8]:
        raise AccessDeniedError(
            Reason.DECK_ACCOUNT_DENIED, user=scope.username, account=str(account_id)
        )
    keys = ("account_id", "name", "tier", "kam_id", "kam_name", "kam_email", "city", "industry")
    return dict(zip(keys, row[:8], strict=True))


def select_monthly_revenue(con, account_id: str, since: dt.date, until: dt.date, scope: Scope):
    """Net revenue of one account per month between two dates (months without orders are 0)."""
    df = con.execute(
        "SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, "
        "CAST(round(sum(o.net_revenue), 2) AS DOUBLE) AS revenue FROM orders o "
        "WHERE o.account_id = ? AND o.order_date BETWEEN ? AND ? "
        "AND o.account_id IN (SELECT account_id FROM visible_accounts(?)) "
        "GROUP BY 1 ORDER BY 1",
        [account_id, since, until, scope.kam_param],
    ).df()
    months = pd.date_range(since.replace(day=1), until, freq="MS").date
    full = pd.DataFrame({"month": months})
    if not df.empty:
        df["month"] = pd.to_datetime(df["month"]).dt.date
        full = full.merge(df, on="month", how="left")
    else:
        full["revenue"] = 0.0
    full["revenue"] = full["revenue"].astype("float64").fillna(0.0)
    return full


@dataclass
class AccountDeckData:
    """Everything the value deck shows, computed from the metrics functions."""

    account: dict
    year: int
    start: dt.date
    end: dt.date
    events: pd.DataFrame
    by_service: pd.DataFrame  # service_code, name, events, quantity, list_value, value_<mode>
    ladder: pd.DataFrame  # billing_mode, list_value, share
    totals: dict
    exclusive: pd.DataFrame  # service_code, name, events, list_value (all exclusive services)
    express: dict
    express_monthly: pd.DataFrame
    mandate: dict  # contact, objectives, success_measures, support (None where missing)
    revenue: pd.DataFrame  # month, revenue (24 months up to the end)


def collect_account_data(
    con,
    account_id: str,
    year: int,
    *,
    scope: Scope,
    as_of: dt.date | None = None,
    lang: str = "de",
) -> AccountDeckData:
    """Gather the deck's numbers for one account and year from the metrics functions."""
    account = select_account(con, account_id, scope)
    start, end = resolve_period(year, as_of)
    events = select_service_events(con, scope, year=year, as_of=end, account_id=account_id)
    names = select_service_names(con, lang)

    by_service = summarise_events(events, ["service"])
    if not by_service.empty:
        qty = events.groupby("service_code")["quantity"].sum().astype("float64")
        by_service["quantity"] = by_service["service_code"].map(qty).fillna(0.0)
    else:
        by_service["quantity"] = []
    by_service["name"] = [names.get(c, c) for c in by_service["service_code"]]

    ladder = billing_ladder(events)
    totals = {
        "events": int(len(events)),
        "list_value": round(float(events["list_value"].sum()), 2),
        "billed_amount": round(float(events["billed_amount"].sum()), 2),
        "unbilled_value": round(float(events["unbilled_value"].sum()), 2),
        "cost": round(float(events["cost"].sum()), 2),
    }
    for mode in BILLING_MODES:
        totals[f"value_{mode}"] = round(
            float(events.loc[events["billing_mode"] == mode, "list_value"].sum()), 2
        )

    matrix = select_matrix(con, year)
    excl_flags = exclusive_services(matrix)
    excl_codes = [c for c in names if excl_flags.get(c)]
    used = by_service.set_index("service_code") if not by_service.empty else None
    exclusive = pd.DataFrame(
        {
            "service_code": excl_codes,
            "name": [names[c] for c in excl_codes],
            "events": [
                int(used.at[c, "events"]) if used is not None and c in used.index else 0
                for c in excl_codes
            ],
            "list_value": [
                float(used.at[c, "list_value"]) if used is not None and c in used.index else 0.0
                for c in excl_codes
            ],
        }
    )
    exclusive = exclusive.sort_values(["list_value", "name"], ascending=[False, True])

    ex = events[events["service_code"] == EXPRESS]
    express = {
        "shipments": int(len(ex)),
        "freight_cost": round(float(ex["cost"].sum()), 2),
        "list_value": round(float(ex["list_value"].sum()), 2),
        "charged": round(float(ex["billed_amount"].sum()), 2),
        "absorbed": round(float(ex["unbilled_value"].sum()), 2),
    }
    months = pd.date_range(start, end, freq="MS").strftime("%Y-%m")
    ex_month = ex.assign(month=[d.strftime("%Y-%m") for d in ex["date"]])
    express_monthly = pd.DataFrame({"month": months})
    grouped = ex_month.groupby("month").agg(
        shipments=("source_id", "count"),
        absorbed=("unbilled_value", "sum"),
        charged=("billed_amount", "sum"),
    )
    express_monthly = express_monthly.merge(grouped, on="month", how="left").fillna(0)

    mandate = get_mandate(con, account_id, year, scope)
    since = dt.date(end.year - 1, 1, 1)
    revenue = select_monthly_revenue(con, account_id, since, end, scope)
    return AccountDeckData(
        account=account,
        year=int(year),
        start=start,
        end=end,
        events=events,
        by_service=by_service,
        ladder=ladder,
        totals=totals,
        exclusive=exclusive,
        express=express,
        express_monthly=express_monthly,
        mandate=mandate,
        revenue=revenue,
    )


# --- charts ---------------------------------------------------------------------------------


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


def wrap_label(text: str, width: int = 24) -> str:
    """Break a long axis label into lines (plotly <br>) so charts need no rotated labels."""
    import textwrap

    return "<br>".join(textwrap.wrap(str(text), width=width)) or str(text)


def _month_label(month: str, lang: str, with_year: bool = True) -> str:
    from babel.dates import format_date

    day = dt.date.fromisoformat(month + "-01")
    locale = "de_DE" if lang == "de" else "en_GB"
    return format_date(day, "MMM yy" if with_year else "MMM", locale=locale)


# --- the deck -------------------------------------------------------------------------------


def build_account_deck(
    con,
    account_id: str,
    year: int,
    *,
    scope: Scope,
    lang: str = "de",
    as_of: dt.date | None = None,
    out=None,
    theme: Theme | None = None,
) -> bytes:
    """The value deck of one account and year as PPTX bytes (and written to `out` if given)."""
    lang = normalise_lang(lang)
    charts.require_chromium()
    data = collect_account_data(con, account_id, year, scope=scope, as_of=as_of, lang=lang)
    theme = theme or load_theme(con)
    period = period_label(data.start, data.end, lang)
    acc = data.account
    company = theme.company
    footer = "  ·  ".join(x for x in (company, acc["name"], period) if x)
    ctx = new_presentation(theme, lang, footer)
    ctx.prs.core_properties.title = f"{t('deck_title', lang)} – {acc['name']} – {period}"
    ctx.prs.core_properties.author = acc.get("kam_name") or company or ""
    tot = data.totals

    # 1 title
    lines = [
        f"{t('exp_period', lang)}: {period}",
        f"{t('deck_your_kam', lang)}: {acc.get('kam_name') or '–'}"
        + (f"  ·  {acc['kam_email']}" if acc.get("kam_email") else ""),
        f"{t('deck_as_of', lang)} {fmt_date(dt.date.today(), lang)}",
    ]
    add_title_slide(
        ctx, t("deck_kicker", lang, tier=tier_label(acc["tier"] or "", lang)), acc["name"], lines
    )

    # 2 at a glance
    slide = add_slide(ctx, t("deck_glance_title", lang), t("deck_glance_sub", lang, period=period))
    share_free = (
        (tot["value_waived"] + tot["value_silent"]) / tot["list_value"] if tot["list_value"] else 0
    )
    add_kpi_tiles(
        slide,
        ctx,
        [
            (
                fmt_eur(tot["list_value"], lang, 0),
                t("deck_total_value", lang),
                t("deck_n_services", lang, n=fmt_number(tot["events"], lang)),
            ),
            (
                fmt_eur(tot["value_billed"], lang, 0),
                billing_mode_label("billed", lang),
                t("deck_mode_billed_note", lang),
            ),
            (
                fmt_eur(tot["value_waived"], lang, 0),
                billing_mode_label("waived", lang),
                t("deck_mode_waived_note", lang),
            ),
            (
                fmt_eur(tot["value_silent"], lang, 0),
                billing_mode_label("silent", lang),
                t("deck_mode_silent_note", lang),
            ),
        ],
        top=CONTENT_TOP + Inches(0.2),
    )
    statements = [
        t(
            "deck_statement_value",
            lang,
            value=fmt_eur(tot["list_value"], lang, 0),
            free=fmt_eur(tot["value_waived"] + tot["value_silent"], lang, 0),
            share=fmt_pct(share_free, lang, 0),
        ),
        t(
            "deck_statement_express",
            lang,
            n=fmt_number(data.express["shipments"], lang),
            absorbed=fmt_eur(data.express["absorbed"], lang, 0),
        ),
        t(
            "deck_statement_exclusive",
            lang,
            n=fmt_number(int((data.exclusive["events"] > 0).sum()), lang),
            total=fmt_number(len(data.exclusive), lang),
        ),
    ]
    add_text(
        slide,
        ctx,
        MARGIN,
        Inches(3.8),
        SLIDE_W - 2 * MARGIN,
        Inches(2.8),
        statements,
        size=18,
        bullets=True,
    )

    # 3 services by service
    slide = add_slide(ctx, t("deck_services_title", lang), t("deck_services_sub", lang))
    if data.by_service.empty:
        add_text(
            slide,
            ctx,
            MARGIN,
            CONTENT_TOP,
            Inches(10),
            Inches(1),
            t("deck_no_services", lang),
            size=18,
        )
    else:
        add_chart(
            slide,
            ctx,
            chart_services_by_mode(data.by_service, ctx, period),
            MARGIN,
            CONTENT_TOP,
            Inches(7.3),
            CONTENT_BOTTOM - CONTENT_TOP,
        )
        rows = [
            [r["name"], fmt_number(r["quantity"], lang), fmt_eur(r["list_value"], lang)]
            for r in data.by_service.to_dict(orient="records")
        ]
        rows.append(
            [
                t("deck_total", lang),
                fmt_number(data.by_service["quantity"].sum(), lang),
                fmt_eur(tot["list_value"], lang),
            ]
        )
        add_table(
            slide,
            ctx,
            [t("service", lang), t("deck_quantity", lang), t("deck_value", lang)],
            rows,
            MARGIN + Inches(7.5),
            CONTENT_TOP,
            Inches(4.6),
            col_widths=[3.2, 1.1, 1.7],
            right_align=(1, 2),
            size=11 if len(rows) > 10 else 12,
            total_row=True,
        )

    # 4 by billing mode
    slide = add_slide(ctx, t("deck_modes_title", lang), t("deck_modes_sub", lang))
    add_chart(
        slide,
        ctx,
        chart_ladder(data.ladder, ctx, period),
        MARGIN,
        CONTENT_TOP,
        Inches(7.3),
        CONTENT_BOTTOM - CONTENT_TOP,
    )
    ladder = data.ladder.set_index("billing_mode")
    explain = []
    for mode in MODE_ORDER:
        value = float(ladder.at[mode, "list_value"]) if mode in ladder.index else 0.0
        share = float(ladder.at[mode, "share"]) if mode in ladder.index else 0.0
        explain.append(
            f"{billing_mode_label(mode, lang)}: {fmt_eur(value, lang)} ({fmt_pct(share, lang, 0)}) — "
            + t(f"deck_mode_{mode}_explain", lang)
        )
    add_text(
        slide,
        ctx,
        MARGIN + Inches(7.6),
        CONTENT_TOP + Inches(0.3),
        Inches(4.5),
        Inches(4.8),
        explain,
        size=15,
        bullets=True,
    )

    # 5 exclusive services
    slide = add_slide(ctx, t("deck_exclusive_title", lang), t("deck_exclusive_sub", lang))
    rows = [
        [
            r["name"],
            fmt_number(r["events"], lang) if r["events"] else t("deck_available", lang),
            fmt_eur(r["list_value"], lang) if r["events"] else "–",
        ]
        for r in data.exclusive.to_dict(orient="records")
    ]
    excl_total = float(data.exclusive["list_value"].sum())
    rows.append(
        [
            t("deck_total", lang),
            fmt_number(int(data.exclusive["events"].sum()), lang),
            fmt_eur(excl_total, lang),
        ]
    )
    add_table(
        slide,
        ctx,
        [t("deck_exclusive_service", lang), t("deck_times_used", lang), t("deck_value", lang)],
        rows,
        MARGIN,
        CONTENT_TOP,
        Inches(8.2),
        col_widths=[4.6, 1.8, 1.8],
        right_align=(1, 2),
        total_row=True,
    )
    add_text(
        slide,
        ctx,
        MARGIN + Inches(8.6),
        CONTENT_TOP + Inches(0.1),
        Inches(3.5),
        Inches(4.5),
        [
            t("deck_exclusive_note", lang),
            t("deck_exclusive_value_note", lang, value=fmt_eur(excl_total, lang, 0)),
        ],
        size=15,
        color=TEXT_COLOR,
    )

    # 6 express deliveries
    slide = add_slide(ctx, t("deck_express_title", lang), t("deck_express_sub", lang))
    ex = data.express
    add_kpi_tiles(
        slide,
        ctx,
        [
            (fmt_number(ex["shipments"], lang), t("deck_express_count", lang), ""),
            (fmt_eur(ex["list_value"], lang, 0), t("deck_express_value", lang), ""),
            (fmt_eur(ex["charged"], lang, 0), t("deck_express_charged", lang), ""),
            (
                fmt_eur(ex["absorbed"], lang, 0),
                t("deck_express_absorbed", lang),
                t("deck_express_absorbed_note", lang),
            ),
        ],
        top=CONTENT_TOP,
        height=Inches(1.9),
    )
    add_chart(
        slide,
        ctx,
        chart_express(data.express_monthly, ctx, period),
        MARGIN,
        CONTENT_TOP + Inches(2.05),
        SLIDE_W - 2 * MARGIN,
        Inches(3.35),
    )

    # 7 contacts and objectives
    slide = add_slide(ctx, t("deck_mandate_title", lang), t("deck_mandate_sub", lang, year=year))
    m = data.mandate or {}
    blocks = [
        (t("deck_contact_customer", lang), m.get("contact") or t("deck_not_set", lang)),
        (
            t("deck_contact_us", lang),
            ", ".join(x for x in (acc.get("kam_name"), acc.get("kam_email")) if x) or "–",
        ),
        (t("deck_objectives", lang), m.get("objectives") or t("deck_not_set", lang)),
        (t("deck_success_measures", lang), m.get("success_measures") or t("deck_not_set", lang)),
    ]
    col_w = (SLIDE_W - 2 * MARGIN - Inches(0.4)) / 2
    for i, (label, text) in enumerate(blocks):
        left = MARGIN + (i % 2) * (col_w + Inches(0.4))
        top = CONTENT_TOP + Inches(0.2) + (i // 2) * Inches(2.6)
        add_text(
            slide,
            ctx,
            left,
            top,
            col_w,
            Inches(0.45),
            label,
            size=16,
            color=ctx.theme.primary,
            bold=True,
        )
        add_text(slide, ctx, left, top + Inches(0.5), col_w, Inches(1.9), text, size=18)

    # 8 revenue trend
    slide = add_slide(ctx, t("deck_revenue_title", lang), t("deck_revenue_sub", lang))
    add_chart(
        slide,
        ctx,
        chart_revenue(data.revenue, ctx, period_label(data.revenue["month"].min(), data.end, lang)),
        MARGIN,
        CONTENT_TOP,
        SLIDE_W - 2 * MARGIN,
        CONTENT_BOTTOM - CONTENT_TOP,
    )
    return save_presentation(ctx, out)


def deck_filename(account: dict | str, year: int, lang: str = "de") -> str:
    """A file name like 'Leistungsbilanz_K10012_2025.pptx'."""
    account_id = account["account_id"] if isinstance(account, dict) else account
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(account_id))
    return f"{t('deck_file_prefix', lang)}_{safe}_{year}.pptx"
