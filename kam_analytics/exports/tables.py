"""Table downloads: formatted XLSX and CSV the way German Excel opens it.

Both neutralise text that a spreadsheet would run as a formula (a cell beginning with
= + - @, tab or carriage return gets a leading apostrophe), so a customer called
"=HYPERLINK(...)" stays a name. Numbers are written as numbers and are never touched.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable

import pandas as pd

from kam_analytics.exports.cells import neutralise_cell, safe_workbook
from kam_analytics.i18n import fmt_bool, fmt_month
from kam_analytics.settings_store import DEFAULT_COLORS

# Excel number formats. The thousands and decimal marks follow the reader's Excel locale.
MONEY_FORMAT = '#,##0.00 "€"'
MONEY_FORMATS = {"de": MONEY_FORMAT, "en": '"€"#,##0.00'}  # 1.234,56 € / €1,234.56 (fmt_eur)
PCT_FORMAT = "0.0%"
INT_FORMAT = "#,##0"
NUMBER_FORMAT = "#,##0.00"
PLAIN_FORMAT = "0"  # a year: 2026, never 2.026
DATE_FORMATS = {"de": "DD.MM.YYYY", "en": "DD/MM/YYYY"}
# A month is a date cell (its first day) shown as "Jan 2026"; Excel names the month in the
# reader's language. The CSV writes it as text the way the page shows it ("Jan. 2026").
MONTH_FORMAT = "MMM YYYY"
CSV_DATE_FORMATS = {"de": "%d.%m.%Y", "en": "%d/%m/%Y"}
TIME_SUFFIX = " hh:mm"  # a timestamp with a time of day (an import time) keeps it visible
_MONTH_TEXT = re.compile(r"\d{4}-(0[1-9]|1[0-2])(-\d{2})?")

HEADER_FILL = DEFAULT_COLORS[0]  # the company blue of the default palette
MAX_COL_WIDTH = 60
MAX_SHEET_NAME = 31  # Excel refuses longer sheet names


def neutralise_text(value: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would read as a formula (exports.cells)."""
    return neutralise_cell(value)


def _is_blank(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, str | bytes) else False
    except (TypeError, ValueError):
        return False


def _as_date(value):
    """A Python date/datetime for date-like values, else None."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    return None


def _has_time(value) -> bool:
    """True for a timestamp whose time of day is not midnight."""
    return isinstance(value, dt.datetime) and value.time() != dt.time(0)


def _as_month(value):
    """The first day of the month of a month value ("2026-01", a date), else None."""
    if isinstance(value, str) and _MONTH_TEXT.fullmatch(value):
        return dt.date(int(value[:4]), int(value[5:7]), 1)
    date_value = _as_date(value)
    if date_value is None:
        return None
    return dt.date(date_value.year, date_value.month, 1)


def _is_bool(value) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy's bool


def _is_numeric_column(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def frame_to_xlsx(
    df: pd.DataFrame,
    sheet_name: str = "Daten",
    money_cols: Iterable[str] = (),
    pct_cols: Iterable[str] = (),
    title: str | None = None,
    *,
    int_cols: Iterable[str] = (),
    month_cols: Iterable[str] = (),
    plain_cols: Iterable[str] = (),
    lang: str = "de",
) -> bytes:
    """XLSX bytes of df: styled header, number formats, frozen header row, autofilter.

    Dates are date cells (DD.MM.YYYY, English DD/MM/YYYY), `month_cols` date cells shown as
    months, `plain_cols` numbers without a thousands mark (a year), booleans the words
    "ja"/"nein" ("yes"/"no"), empty cells empty.
    """
    money, pct, ints, months = set(money_cols), set(pct_cols), set(int_cols), set(month_cols)
    plain = set(plain_cols)
    buffer = io.BytesIO()
    wb = safe_workbook(buffer)
    sheet = wb.add_worksheet(excel_sheet_name(sheet_name))
    fmt_title = wb.add_format({"bold": True, "font_size": 14, "font_color": HEADER_FILL})
    fmt_header = wb.add_format(
        {
            "bold": True,
            "font_color": "#FFFFFF",
            "bg_color": HEADER_FILL,
            "border": 1,
            "border_color": "#B0B8C1",
            "text_wrap": True,
            "valign": "vcenter",
        }
    )
    fmt_money = wb.add_format({"num_format": MONEY_FORMATS.get(lang, MONEY_FORMAT)})
    fmt_pct = wb.add_format({"num_format": PCT_FORMAT})
    fmt_int = wb.add_format({"num_format": INT_FORMAT})
    fmt_num = wb.add_format({"num_format": NUMBER_FORMAT})
    fmt_plain = wb.add_format({"num_format": PLAIN_FORMAT})
    day_format = DATE_FORMATS.get(lang, DATE_FORMATS["de"])
    fmt_date = wb.add_format({"num_format": day_format})
    fmt_stamp = wb.add_format({"num_format": day_format + TIME_SUFFIX})
    fmt_month_cell = wb.add_format({"num_format": MONTH_FORMAT})

    header_row = 0
    if title:
        sheet.write_string(0, 0, neutralise_text(str(title)), fmt_title)
        header_row = 2
    columns = list(df.columns)
    widths = []
    for c, name in enumerate(columns):
        label = neutralise_text(str(name))
        sheet.write_string(header_row, c, label, fmt_header)
        widths.append(len(label))

    for c, name in enumerate(columns):
        series = df[name]
        numeric = _is_numeric_column(series)
        if name in money:
            cell_fmt = fmt_money
        elif name in pct:
            cell_fmt = fmt_pct
        elif name in plain:
            cell_fmt = fmt_plain
        elif name in ints or pd.api.types.is_integer_dtype(series):
            cell_fmt = fmt_int
        else:
            cell_fmt = fmt_num
        for r, value in enumerate(series.tolist(), start=header_row + 1):
            if _is_blank(value):
                sheet.write_blank(r, c, None)
                continue
            if name in months and (month_value := _as_month(value)) is not None:
                sheet.write_datetime(r, c, month_value, fmt_month_cell)
                text_len = 9
            elif _is_bool(value):
                text = fmt_bool(value, lang)
                sheet.write_string(r, c, text)
                text_len = len(text)
            elif numeric or isinstance(value, int | float):
                sheet.write_number(r, c, float(value), cell_fmt)
                text_len = len(f"{float(value):,.2f}") + 2
            elif (date_value := _as_date(value)) is not None:
                stamp = _has_time(date_value)
                sheet.write_datetime(r, c, date_value, fmt_stamp if stamp else fmt_date)
                text_len = 18 if stamp else 12  # room beside the next column
            else:
                text = neutralise_text(str(value))
                sheet.write_string(r, c, text)
                text_len = len(text)
            widths[c] = max(widths[c], text_len)

    for c, width in enumerate(widths):
        sheet.set_column(c, c, min(MAX_COL_WIDTH, max(8, width + 2)))
    sheet.set_row(header_row, 30)
    sheet.freeze_panes(header_row + 1, 0)
    # Printed: landscape, every column on one page wide, the header on every page.
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row)
    if columns:
        sheet.autofilter(header_row, 0, header_row + max(len(df), 1), len(columns) - 1)
    wb.close()
    return buffer.getvalue()


def excel_sheet_name(name: str) -> str:
    """A valid Excel sheet name: none of []:*?/\\, at most 31 characters, cut at a word boundary."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name)).strip().strip("'")
    if len(cleaned) <= MAX_SHEET_NAME:
        return cleaned or "Daten"
    head = cleaned[: MAX_SHEET_NAME + 1]
    # Keep whole words; a single word longer than the limit is the only thing ever cut.
    cut = head.rsplit(" ", 1)[0] if " " in head else cleaned[:MAX_SHEET_NAME]
    return cut.rstrip(" -–·,;(") or cleaned[:MAX_SHEET_NAME]


def _csv_number(value: float, decimals: int | None) -> str:
    if decimals is not None:
        text = f"{value:.{decimals}f}"
    elif float(value).is_integer():
        text = str(int(value))
    else:
        # Shares and ratios: four decimals are what a spreadsheet user can read and use.
        text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def frame_to_csv_de(
    df: pd.DataFrame,
    money_cols: Iterable[str] = (),
    *,
    date_format: str | None = None,
    month_cols: Iterable[str] = (),
    lang: str = "de",
) -> bytes:
    """CSV bytes as German Excel opens them: semicolons, decimal comma, UTF-8 with BOM.

    Words follow `lang`: dates 31.12.2025 (English 31/12/2025), `month_cols` "Jan. 2026"
    ("Jan 2026"), booleans "ja"/"nein" ("yes"/"no").
    """
    money, months = set(money_cols), set(month_cols)
    date_format = date_format or CSV_DATE_FORMATS.get(lang, CSV_DATE_FORMATS["de"])
    out = pd.DataFrame(index=range(len(df)))
    for name in df.columns:
        series = df[name]
        numeric = _is_numeric_column(series)
        decimals = 2 if name in money else None
        cells = []
        for value in series.tolist():
            if _is_blank(value):
                cells.append("")
            elif name in months and (month_value := _as_month(value)) is not None:
                cells.append(fmt_month(month_value, lang, abbreviated=True))
            elif _is_bool(value):
                cells.append(fmt_bool(value, lang))
            elif numeric or isinstance(value, int | float):
                cells.append(_csv_number(float(value), decimals))
            elif (date_value := _as_date(value)) is not None:
                suffix = " %H:%M" if _has_time(date_value) else ""
                cells.append(date_value.strftime(date_format + suffix))
            else:
                cells.append(neutralise_text(str(value)))
        out[neutralise_text(str(name))] = cells
    text = out.to_csv(sep=";", index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")
