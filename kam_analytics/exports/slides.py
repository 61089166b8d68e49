"""The slide toolkit shared by the value deck and the review pack (python-pptx).

16:9 slides in the company theme: title and content slides with footer and page number,
native editable text boxes, figure tiles, tables and native PowerPoint charts (no pictures:
the decks need no browser, and a KAM can edit every chart in PowerPoint).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_TICK_MARK
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from kam_analytics.exports.theme import GRID_COLOR, MUTED_COLOR, TEXT_COLOR, Theme

SLIDE_W = Emu(12192000)  # 13.333 in: the exact 16:9 size PowerPoint uses
SLIDE_H = Inches(7.5)
MARGIN = Inches(0.6)
CONTENT_TOP = Inches(1.45)
CONTENT_BOTTOM = Inches(6.85)


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


@dataclass(frozen=True)
class ChartSeries:
    """One series of a native chart: its name, one value per category, its colour."""

    name: str
    values: list[float]
    color: str | None = None
    point_colors: list[str] | None = None  # one colour per bar (a single-series chart)


def money_format(lang: str, values=()) -> str:
    """The chart number format for whole euros: 8.300 € in German, €8,300 in English.

    For charts without negative values the separators are written into the format as literal
    characters, so the deck reads the same on a computer set to any language (a locale-linked
    "#,##0" showed "2,000 €" in a German deck opened on an English computer). Format codes
    allow two conditions, which leaves no section for negatives: a chart with a negative value
    gets the locale-linked format, shown with the separators of the computer's language.
    """
    if all(float(v or 0) >= 0 for v in values):
        if lang == "de":
            return '[>=1000000]#\\.###\\.##0" €";[>=1000]#\\.##0" €";0" €"'
        return '[>=1000000]"€"#\\,###\\,##0;[>=1000]"€"#\\,##0;"€"0'
    return "#,##0 [$€-407]" if lang == "de" else "[$€-809]#,##0"


def add_bar_chart(
    slide,
    ctx: SlideContext,
    box: tuple,
    categories: list[str],
    series: list[ChartSeries],
    *,
    source: str,
    horizontal: bool = False,
    stacked: bool = False,
    data_labels: bool = False,
    number_format: str | None = None,
    font_size: float = 12,
):
    """A native, editable PowerPoint bar/column chart in the company colours, with a source line.

    `box` is (left, top, width, height) of chart and source line together; the source line
    gets its own text box under the plot, so it is never cut or covered by axis labels.
    """
    left, top, width, height = box
    number_format = number_format or money_format(ctx.lang, [v for s in series for v in s.values])
    data = CategoryChartData(number_format=number_format)
    data.categories = categories
    for s in series:
        data.add_series(s.name, [float(v or 0) for v in s.values])
    if horizontal:
        kind = XL_CHART_TYPE.BAR_STACKED if stacked else XL_CHART_TYPE.BAR_CLUSTERED
    else:
        kind = XL_CHART_TYPE.COLUMN_STACKED if stacked else XL_CHART_TYPE.COLUMN_CLUSTERED
    source_h = Inches(0.32)
    frame = slide.shapes.add_chart(kind, left, top, width, height - source_h, data)
    chart = frame.chart
    _set_chart_language(chart, ctx.lang)
    chart.font.name = ctx.font
    chart.font.size = Pt(font_size)
    chart.font.color.rgb = _rgb(TEXT_COLOR)
    chart.has_title = False
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.TOP
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(font_size)
    plot = chart.plots[0]
    plot.gap_width = 60 if horizontal else 80
    if stacked:
        plot.overlap = 100
    plot.vary_by_categories = False
    for s, pptx_series in zip(series, plot.series, strict=True):
        fill = pptx_series.format.fill
        fill.solid()
        fill.fore_color.rgb = _rgb(s.color or ctx.theme.primary)
        pptx_series.invert_if_negative = False
        for i, color in enumerate(s.point_colors or ()):
            point = pptx_series.points[i].format.fill
            point.solid()
            point.fore_color.rgb = _rgb(color)
    value_axis = chart.value_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = _rgb(GRID_COLOR)
    value_axis.format.line.fill.background()
    value_axis.tick_labels.number_format = number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.tick_labels.font.size = Pt(font_size)
    value_axis.tick_labels.font.color.rgb = _rgb(MUTED_COLOR)
    value_axis.minimum_scale = 0
    category_axis = chart.category_axis
    category_axis.tick_labels.font.size = Pt(font_size)
    category_axis.format.line.color.rgb = _rgb("#B0B8C1")
    category_axis.has_major_gridlines = False
    category_axis.major_tick_mark = XL_TICK_MARK.NONE
    if horizontal:
        # Bars read top-down in the order given (PowerPoint draws the first category at the bottom).
        category_axis.reverse_order = True
    if data_labels:
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = number_format
        labels.number_format_is_linked = False
        labels.font.size = Pt(font_size)
        labels.font.color.rgb = _rgb(TEXT_COLOR)
        if not stacked:
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
        if horizontal:
            # every bar carries its figure: the value axis would only crowd a narrow chart
            value_axis.visible = False
            value_axis.has_major_gridlines = False

    _scale_value_axis(value_axis, series, stacked, horizontal, data_labels)
    add_text(
        slide,
        ctx,
        left,
        top + height - source_h,
        width,
        source_h,
        source,
        size=10,
        color=MUTED_COLOR,
    )
    return frame


def _scale_value_axis(axis, series, stacked: bool, horizontal: bool, labels: bool) -> None:
    # Round steps, few enough that the tick labels stand side by side (never rotated or
    # overlapping), and room beyond the longest bar for its data label.
    columns = [[float(v or 0) for v in s.values] for s in series]
    if not columns or not columns[0]:
        return
    if stacked:
        top = max(sum(vals) for vals in zip(*columns, strict=True))
    else:
        top = max(max(vals) for vals in columns)
    if top <= 0:
        return
    headroom = (1.3 if horizontal else 1.18) if labels else 1.0
    steps = 4 if horizontal else 6
    unit = nice_ceiling(top * headroom / steps)
    axis.major_unit = unit
    axis.maximum_scale = math.ceil(top * headroom / unit) * unit


def _set_chart_language(chart, lang: str) -> None:
    # <c:lang> tells PowerPoint and LibreOffice which separators the number formats use
    # (8.300 € in German), whatever the language of the computer that opens the file.
    code = "de-DE" if lang == "de" else "en-GB"
    space = chart._chartSpace
    element = space.makeelement(qn("c:lang"), {"val": code})
    anchor = space.find(qn("c:date1904"))
    if anchor is not None:
        anchor.addnext(element)
    else:
        space.insert(0, element)
    defaults = space.find(qn("c:txPr"))
    for rpr in defaults.iter(qn("a:defRPr")) if defaults is not None else ():
        rpr.set("lang", code)


def nice_ceiling(value: float) -> float:
    """The next 'round' number at or above `value` (1, 2, 2.5 or 5 × a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def save_presentation(ctx: SlideContext, out=None) -> bytes:
    """The presentation as bytes, also written to `out` (a path) when given."""
    buffer = io.BytesIO()
    ctx.prs.save(buffer)
    data = buffer.getvalue()
    if out is not None:
        with open(out, "wb") as fh:
            fh.write(data)
    return data
