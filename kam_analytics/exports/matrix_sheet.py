"""The entitlement matrix as the sheet every department pins on the wall: PDF, PNG and XLSX.

All three hold the same table (one row per active service, one column per tier, exclusive
services marked) on one landscape A4 page, readable when printed.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd

from kam_analytics.catalogue import matrix_source_year, matrix_wide, select_catalogue, select_matrix
from kam_analytics.errors import ExportError, Reason
from kam_analytics.exports.cells import safe_workbook, write_cell
from kam_analytics.exports.chart_text import plain_chart_text
from kam_analytics.exports.tables import excel_sheet_name
from kam_analytics.glossary import policy_label, tier_label
from kam_analytics.i18n import fmt_date, fmt_eur, t
from kam_analytics.schema import POLICIES, TIERS
from kam_analytics.settings_store import DEFAULT_COLORS

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

# Cell colours per policy: light enough to read black text on, distinct in greyscale print.
POLICY_FILL = {
    "free": "#CFE8CF",
    "waived": "#D6E4F2",
    "billed": "#F6E2B8",
    "not_offered": "#E6E6E6",
}
HEADER_FILL = DEFAULT_COLORS[0]  # the company blue of the default palette
EXCLUSIVE_MARK = "★"


def sheet_table(con, year: int, lang: str = "de") -> pd.DataFrame:
    """The sheet's rows: service name, unit, list value, one policy code per tier, exclusive."""
    catalogue = select_catalogue(con, active_only=True)
    wide = matrix_wide(select_matrix(con, year))
    wide = wide[wide["service_code"].isin(catalogue["service_code"])]
    cat = catalogue.set_index("service_code")
    name_col = "name_en" if lang == "en" else "name_de"
    out = pd.DataFrame(
        {
            "service_code": wide["service_code"].to_numpy(),
            "service": [cat.at[c, name_col] or c for c in wide["service_code"]],
            "unit": [cat.at[c, "unit"] or "" for c in wide["service_code"]],
            "list_value": [cat.at[c, "list_value"] for c in wide["service_code"]],
            "exclusive": wide["exclusive"].to_numpy(),
        }
    )
    for tier in TIERS:
        out[tier] = wide[tier].to_numpy()
    return out.reset_index(drop=True)


def _texts(con, year: int, lang: str) -> dict:
    source = matrix_source_year(con, year)
    if source == year:
        basis = t("mx_basis_own", lang, year=year)
    elif source is None:
        basis = t("mx_basis_default", lang)
    else:
        basis = t("mx_basis_earlier", lang, source=source)
    return {
        "title": t("mx_sheet_title", lang, year=year),
        "subtitle": f"{basis} · {t('mx_as_of', lang)} {fmt_date(dt.date.today(), lang)}",
        "service": t("service", lang),
        "unit": t("mx_unit", lang),
        "list_value": t("mx_list_value", lang),
        "exclusive": f"{EXCLUSIVE_MARK} {t('mx_exclusive_note', lang)}",
        "legend": [(p, policy_label(p, lang)) for p in POLICIES],
    }


def _money(value, lang: str) -> str:
    if value is None or pd.isna(value) or float(value) == 0:
        return "–"
    return fmt_eur(value, lang, decimals=0)


def _service_label(row, mark: str = EXCLUSIVE_MARK) -> str:
    return f"{row.service} {mark}" if row.exclusive else str(row.service)


# --- PDF ------------------------------------------------------------------------------------


def matrix_pdf(con, year: int, lang: str = "de") -> bytes:
    """The matrix as a one-page landscape A4 PDF (DejaVu Sans, core Helvetica without it)."""
    from fpdf import FPDF

    table = sheet_table(con, year, lang)
    text = _texts(con, year, lang)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(12, 12, 12)
    pdf.add_page()
    unicode_font = FONT_REGULAR.exists() and FONT_BOLD.exists()
    if unicode_font:
        pdf.add_font("DejaVu", "", str(FONT_REGULAR))
        pdf.add_font("DejaVu", "B", str(FONT_BOLD))
        family, mark = "DejaVu", EXCLUSIVE_MARK
    else:
        family, mark = "Helvetica", "*"

    def clean(s: str) -> str:
        # Core fonts know Latin-1 only (umlauts yes, ★ and – no).
        if unicode_font:
            return s
        s = s.replace(EXCLUSIVE_MARK, "*").replace("–", "-").replace("€", "EUR").replace("·", "-")
        return s.encode("latin-1", "replace").decode("latin-1")

    def rgb(hex_colour: str) -> tuple[int, int, int]:
        h = hex_colour.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

    pdf.set_text_color(*rgb(HEADER_FILL))
    pdf.set_font(family, "B", 20)
    pdf.cell(0, 10, clean(text["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(90, 90, 90)
    pdf.set_font(family, "", 10)
    pdf.cell(0, 6, clean(text["subtitle"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    widths = [82, 22, 25] + [37] * len(TIERS)  # 277 mm = A4 landscape minus margins
    header = [text["service"], text["unit"], text["list_value"]] + [
        tier_label(x, lang) for x in TIERS
    ]
    available = 210 - 12 - pdf.get_y() - 22  # leave room for the legend
    row_h = max(5.0, min(11.0, available / (len(table) + 1)))
    font_size = 10.5 if row_h >= 9 else 9 if row_h >= 7 else 7

    def fit(width: float, label: str, style: str = "") -> str:
        # Shrink the font until the text fits its cell, so nothing runs into the next column.
        size = font_size
        pdf.set_font(family, style, size)
        while size > 6 and pdf.get_string_width(label) > width - 2:
            size -= 0.5
            pdf.set_font(family, style, size)
        return label

    pdf.set_font(family, "B", font_size)
    pdf.set_fill_color(*rgb(HEADER_FILL))
    pdf.set_text_color(255, 255, 255)
    pdf.set_draw_color(255, 255, 255)
    pdf.set_line_width(0.6)
    for width, label, i in zip(widths, header, range(len(header)), strict=True):
        label = fit(width, clean(label), "B")
        pdf.cell(width, row_h, label, border=1, fill=True, align="L" if i == 0 else "C")
    pdf.ln(row_h)
    pdf.set_text_color(20, 20, 20)
    for n, row in enumerate(table.itertuples()):
        pdf.set_fill_color(*((245, 247, 250) if n % 2 else (255, 255, 255)))
        style = "B" if row.exclusive else ""
        label = fit(widths[0], clean(_service_label(row, mark)), style)
        pdf.cell(widths[0], row_h, label, border=1, fill=True)
        pdf.cell(
            widths[1], row_h, fit(widths[1], clean(str(row.unit))), border=1, fill=True, align="C"
        )
        money = fit(widths[2], clean(_money(row.list_value, lang)))
        pdf.cell(widths[2], row_h, money, border=1, fill=True, align="R")
        for width, tier in zip(widths[3:], TIERS, strict=True):
            policy = getattr(row, tier)
            pdf.set_fill_color(*rgb(POLICY_FILL.get(policy, "#FFFFFF")))
            label = fit(width, clean(policy_label(policy, lang)))
            pdf.cell(width, row_h, label, border=1, fill=True, align="C")
        pdf.ln(row_h)

    pdf.ln(4)
    pdf.set_font(family, "", 9)
    pdf.set_text_color(40, 40, 40)
    for policy, label in text["legend"]:
        pdf.set_fill_color(*rgb(POLICY_FILL[policy]))
        pdf.cell(5, 5, "", fill=True)
        pdf.cell(2, 5, "")
        pdf.cell(48, 5, clean(label))
    pdf.ln(7)
    pdf.set_font(family, "", 9)
    pdf.cell(0, 5, clean(text["exclusive"].replace(EXCLUSIVE_MARK, mark)))
    return bytes(pdf.output())


# --- PNG ------------------------------------------------------------------------------------


# The PNG's plot width: A4 landscape (1123 CSS px) less the figure's left and right margins.
PNG_PLOT_WIDTH = 1123 - 60
HEADER_PX, CELL_PX, CELL_PADDING_PX = 15, 14, 18


def _text_px(text: str, size: int, bold: bool) -> float:
    from PIL import ImageFont

    font = FONT_BOLD if bold else FONT_REGULAR
    plain = str(text).replace("<b>", "").replace("</b>", "")
    return ImageFont.truetype(str(font), size).getlength(plain)


def fit_matrix_columns(header, values, total_px: float, weights):
    """Column widths (px) and header and cell font sizes of the matrix picture.

    Each column is at least as wide as its header and its longest cell (a plotly table clips
    what does not fit: "istenwert"); the fonts shrink a step at a time until the columns fit
    `total_px`; what is left is shared by `weights`.
    """
    head_px, cell_px = HEADER_PX, CELL_PX
    while True:
        needs = []
        for head, column in zip(header, values, strict=True):
            widest = max([_text_px(v, cell_px, "<b>" in str(v)) for v in column] or [0])
            needs.append(max(_text_px(head, head_px, True), widest) + CELL_PADDING_PX)
        if sum(needs) <= total_px or cell_px <= 9:
            break
        head_px, cell_px = head_px - 1, cell_px - 1
    spare = max(total_px - sum(needs), 0)
    total = sum(weights)
    widths = [round(n + spare * w / total, 1) for n, w in zip(needs, weights, strict=True)]
    return widths, head_px, cell_px


def matrix_figure(con, year: int, lang: str = "de"):
    """The matrix as a plotly table figure (A4 landscape proportions)."""
    import plotly.graph_objects as go

    table = sheet_table(con, year, lang)
    text = _texts(con, year, lang)
    # Service names are data: escaped, so plotly shows them as text inside our own <b>.
    services = [
        f"<b>{plain_chart_text(_service_label(r))}</b>"
        if r.exclusive
        else plain_chart_text(_service_label(r))
        for r in table.itertuples()
    ]
    stripe = ["#FFFFFF" if i % 2 == 0 else "#F5F7FA" for i in range(len(table))]
    values = [services, list(table["unit"]), [_money(v, lang) for v in table["list_value"]]]
    fills = [stripe, stripe, stripe]
    for tier in TIERS:
        values.append([policy_label(p, lang) for p in table[tier]])
        fills.append([POLICY_FILL.get(p, "#FFFFFF") for p in table[tier]])
    header = [text["service"], text["unit"], text["list_value"]] + [
        tier_label(x, lang) for x in TIERS
    ]
    row_h = max(22, min(40, int(560 / max(len(table), 1))))
    widths, head_px, cell_px = fit_matrix_columns(
        [f"<b>{h}</b>" for h in header], values, PNG_PLOT_WIDTH, [84, 22, 24, *[37] * len(TIERS)]
    )
    fig = go.Figure(
        go.Table(
            columnwidth=widths,
            header={
                "values": [f"<b>{h}</b>" for h in header],
                "fill_color": HEADER_FILL,
                "font": {"color": "white", "size": head_px},
                "align": ["left", "center", "right"] + ["center"] * len(TIERS),
                "height": 36,
            },
            cells={
                "values": values,
                "fill_color": fills,
                "font": {"color": "#222B36", "size": cell_px},
                "align": ["left", "center", "right"] + ["center"] * len(TIERS),
                "height": row_h,
                "line": {"color": "white", "width": 2},
            },
        )
    )
    legend = "   ".join(
        f"<span style='color:{POLICY_FILL[p]}'>■</span> {label}" for p, label in text["legend"]
    )
    fig.update_layout(
        title={
            "text": f"<b>{text['title']}</b><br><span style='font-size:13px;color:#6C757D'>"
            f"{text['subtitle']}</span>",
            "x": 0.02,
            "font": {"size": 24, "color": HEADER_FILL, "family": "DejaVu Sans, Arial, sans-serif"},
        },
        font={"family": "DejaVu Sans, Arial, sans-serif"},
        margin={"l": 30, "r": 30, "t": 90, "b": 70},
        paper_bgcolor="white",
    )
    fig.add_annotation(
        text=f"{legend}<br>{text['exclusive']}",
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-8,
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 13, "color": "#222B36"},
    )
    return fig


def matrix_png(con, year: int, lang: str = "de") -> bytes:
    """The matrix as a landscape A4 PNG (1123 × 794 CSS px at scale 2); needs chromium."""
    from kam_analytics.exports import charts

    if charts.find_chromium() is None:
        raise ExportError(Reason.MATRIX_PICTURE_NO_CHROMIUM)
    fig = matrix_figure(con, year, lang)
    width, height = charts.A4_LANDSCAPE
    return charts.figure_to_png(fig, width=width, height=height, scale=2)


# --- XLSX -----------------------------------------------------------------------------------


def matrix_xlsx(con, year: int, lang: str = "de") -> bytes:
    """The matrix as a formatted XLSX sheet, set to print on one landscape A4 page."""

    table = sheet_table(con, year, lang)
    text = _texts(con, year, lang)
    buf = io.BytesIO()
    book = safe_workbook(buf)
    sheet = book.add_worksheet(excel_sheet_name(t("mx_sheet_name", lang, year=year)))
    title = book.add_format({"bold": True, "font_size": 18, "font_color": HEADER_FILL})
    sub = book.add_format({"italic": True, "font_color": "#6C757D"})
    head = book.add_format(
        {
            "bold": True,
            "font_color": "white",
            "bg_color": HEADER_FILL,
            "border": 1,
            "border_color": "#FFFFFF",
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    base = {"border": 1, "border_color": "#C9CED6", "valign": "vcenter", "font_size": 11}
    text_fmt = book.add_format({**base, "text_wrap": True})
    excl_fmt = book.add_format({**base, "text_wrap": True, "bold": True})
    center = book.add_format({**base, "align": "center"})
    money = book.add_format({**base, "num_format": '#,##0 "€"'})
    policy_fmt = {
        p: book.add_format({**base, "align": "center", "bg_color": colour})
        for p, colour in POLICY_FILL.items()
    }
    write_cell(sheet, 0, 0, text["title"], title)
    write_cell(sheet, 1, 0, text["subtitle"], sub)
    header = [text["service"], text["unit"], text["list_value"]] + [
        tier_label(x, lang) for x in TIERS
    ]
    for col, label in enumerate(header):
        write_cell(sheet, 3, col, label, head)
    for n, row in enumerate(table.itertuples(), start=4):
        write_cell(sheet, n, 0, _service_label(row), excl_fmt if row.exclusive else text_fmt)
        write_cell(sheet, n, 1, row.unit, center)
        if row.list_value is None or pd.isna(row.list_value):
            sheet.write_blank(n, 2, None, money)
        else:
            sheet.write_number(n, 2, float(row.list_value), money)
        for col, tier in enumerate(TIERS, start=3):
            policy = getattr(row, tier)
            write_cell(sheet, n, col, policy_label(policy, lang), policy_fmt.get(policy, center))
        sheet.set_row(n, 24)
    sheet.set_row(3, 30)
    last = 4 + len(table)
    for i, (policy, label) in enumerate(text["legend"]):
        write_cell(sheet, last + 1, 3 + i, label, policy_fmt[policy])
    write_cell(sheet, last + 1, 0, text["exclusive"])
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 2, 13)
    sheet.set_column(3, 3 + len(TIERS) - 1, 22)
    sheet.freeze_panes(4, 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.print_area(0, 0, last + 1, 3 + len(TIERS) - 1)
    book.close()
    return buf.getvalue()
