"""The slide toolkit shared by the value deck and the review pack (python-pptx).

16:9 slides in the company theme: title and content slides with footer and page number,
native editable text boxes, figure tiles, tables, and plotly charts as PNG pictures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import plotly.graph_objects as go
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from kam_analytics.exports import charts
from kam_analytics.exports.theme import MUTED_COLOR, TEXT_COLOR, Theme

SLIDE_W = Emu(12192000)  # 13.333 in: the exact 16:9 size PowerPoint uses
SLIDE_H = Inches(7.5)
MARGIN = Inches(0.6)
CONTENT_TOP = Inches(1.45)
CONTENT_BOTTOM = Inches(6.85)
# Chart pictures are rendered at this many CSS pixels per inch of slide, at scale 2.
PX_PER_INCH = 100


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
