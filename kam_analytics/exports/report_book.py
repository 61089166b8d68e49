"""The workbook of a report: one builder for `report KIND --format xlsx` and the page's download."""

from __future__ import annotations

import pandas as pd

from kam_analytics.exports.tables import frame_to_xlsx
from kam_analytics.reports import load_report


def report_workbook(df: pd.DataFrame, kind: str, lang: str = "de") -> bytes:
    """XLSX bytes of a report frame: one sheet named after the kind, text cells neutralised."""
    return frame_to_xlsx(df, sheet_name=kind, lang=lang)


def report_xlsx(con, kind: str, *, year=None, as_of=None, scope, lang: str = "de") -> bytes:
    """The report of `kind` as a workbook, as `report KIND --format xlsx` writes it."""
    return report_workbook(load_report(con, kind, year=year, as_of=as_of, scope=scope), kind, lang)
