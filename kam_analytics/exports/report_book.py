"""The workbook of a report: one builder for `report KIND --format xlsx` and the page's download.

It is a manager's workbook, not the machine contract: headers and codes in words (the
glossary), dates as date cells, money as numbers with a € format, shares as percentages,
frozen header row and column widths (exports/tables.frame_to_xlsx). `report KIND --format
csv|json` keeps the report's raw columns and codes.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.exports.tables import frame_to_xlsx
from kam_analytics.glossary import (
    method_label,
    name_codes,
    policy_label,
    report_column_label,
    report_label,
    section_label,
)
from kam_analytics.i18n import select_service_names
from kam_analytics.reports import load_report
from kam_analytics.schema import TIERS

MONEY_COLUMNS = {
    "cost",
    "list_value",
    "billed_amount",
    "unbilled_value",
    "value_silent",
    "value_waived",
    "value_billed",
    "leakage",
    "target_bonus",
    "bonus",
    "bonus_best",
    "bonus_worst",
    "revenue",
    "revenue_prev",
    "service_value",
}
PCT_COLUMNS = {
    "retention",
    "unbilled_share",
    "R",
    "M",
    "F",
    "precision",
    "recall",
    "lost_rate_unflagged",
    "auc",
}
DATE_COLUMNS = {"date", "start", "as_of"}
MONTH_COLUMNS = {"month"}
YEAR_COLUMNS = {"year"}


def _as_day(value):
    """An ISO date text ("2026-11-15", as some reports hand dates) as a date; others as they are."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def name_report_values(
    df: pd.DataFrame, kind: str, lang: str, service_names: dict[str, str] | None = None
) -> pd.DataFrame:
    """A copy of a report frame with its codes in words and its date texts as dates."""
    out = name_codes(df, lang)
    names = service_names or {}
    if "service_code" in out:
        out["service_code"] = [names.get(c, c) for c in out["service_code"]]
    if kind == "departments":  # the matrix row: one policy per tier column
        for tier in TIERS:
            if tier in out:
                out[tier] = [policy_label(p, lang) for p in out[tier]]
    if "method" in out:
        out["method"] = [method_label(m, lang) for m in out["method"]]
    if "section" in out:
        out["section"] = [section_label(s, lang) for s in out["section"]]
    for column in DATE_COLUMNS & set(out.columns):
        out[column] = [_as_day(v) for v in out[column]]
    return out


def report_workbook(
    df: pd.DataFrame, kind: str, lang: str = "de", service_names: dict[str, str] | None = None
) -> bytes:
    """XLSX bytes of a report frame: one sheet named after the kind, every cell in words or
    formatted numbers and dates, text cells neutralised."""
    labels = {c: report_column_label(kind, c, lang) for c in df.columns}

    def shown(columns: set[str]) -> list[str]:
        return [labels[c] for c in df.columns if c in columns]

    table = name_report_values(df, kind, lang, service_names).rename(columns=labels)
    return frame_to_xlsx(
        table,
        sheet_name=report_label(kind, lang),
        money_cols=shown(MONEY_COLUMNS),
        pct_cols=shown(PCT_COLUMNS),
        month_cols=shown(MONTH_COLUMNS),
        plain_cols=shown(YEAR_COLUMNS),
        lang=lang,
    )


def report_xlsx(
    con, kind: str, *, year=None, as_of=None, scope, lang: str = "de", **options
) -> bytes:
    """The report of `kind` as a workbook, as `report KIND --format xlsx` writes it."""
    df = load_report(con, kind, year=year, as_of=as_of, scope=scope, **options)
    return report_workbook(df, kind, lang, select_service_names(con, lang))
