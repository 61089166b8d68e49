"""Spreadsheet cells that stay data: the one formula neutraliser used by every CSV/XLSX writer.

A spreadsheet runs a cell that begins with = + - @ (and, in some programs, tab or carriage
return) as a formula: a customer named `=HYPERLINK("http://e.vil","Klick")` would become a
live link. Every text cell the product writes goes through `neutralise_cell` (a leading
apostrophe makes it text) and is written with xlsxwriter's `write_string`, never `write`.
Numbers are written as numbers; a text that is a plain negative number ("-12,50") is kept.
"""

from __future__ import annotations

import datetime as dt
import math
import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# "-12", "-1.234,56", "-0.5", "-12 €", "-3 %": a negative number written as text, not a formula.
_NEGATIVE_NUMBER = re.compile(r"^-\d[\d.,]*(\s?[€%])?$")
# Never let xlsxwriter turn text into formulas, links or numbers on its own.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def neutralise_cell(value: str) -> str:
    """`value` with a leading apostrophe when a spreadsheet would run it as a formula."""
    if not value or value[0] not in FORMULA_TRIGGERS:
        return value
    if value[0] == "-" and _NEGATIVE_NUMBER.match(value):
        return value
    return "'" + value


def safe_workbook(target):
    """An xlsxwriter workbook on a path or buffer that never converts text by itself."""
    import xlsxwriter

    return xlsxwriter.Workbook(target, dict(WORKBOOK_OPTIONS))


def write_text(sheet, row: int, col: int, value, cell_format=None) -> None:
    """Write `value` as a neutralised text cell (never a formula)."""
    sheet.write_string(row, col, neutralise_cell(str(value)), cell_format)


def write_cell(sheet, row: int, col: int, value, cell_format=None) -> None:
    """Write any value by its type: blank, boolean, number, date or neutralised text."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars
    if value is None or (isinstance(value, float) and math.isnan(value)):
        sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, cell_format)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, float(value), cell_format)
    elif isinstance(value, dt.datetime | dt.date):
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        sheet.write_datetime(row, col, value.replace(tzinfo=None), cell_format)
    else:
        write_text(sheet, row, col, value, cell_format)


def neutralise_frame(df):
    """A copy of a DataFrame whose text cells and headers are neutralised (for CSV output)."""
    out = df.copy()
    for name in out.columns:
        if out[name].dtype == object or str(out[name].dtype) in ("str", "string"):
            out[name] = [neutralise_cell(v) if isinstance(v, str) else v for v in out[name]]
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out
