"""The report workbook (exports/report_book.py): a manager's book, cell by cell.

Headers and codes in words, dates as date cells, money with a € format, shares as
percentages, frozen header row; `report --format csv|json` stays the raw machine contract.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import openpyxl
import pytest

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.exports.report_book import report_workbook, report_xlsx
from kam_analytics.glossary import report_column_label
from kam_analytics.metrics.backtest import REPORT_COLUMNS as BACKTEST_COLUMNS
from kam_analytics.metrics.changes import REPORT_COLUMNS as CHANGES_COLUMNS
from kam_analytics.reports import REPORTS, load_report
from tests.conftest import run_cli

ALL = Scope.everything()
YEAR = 2025  # a whole year of the demo
GERMAN_MONEY = '#,##0.00 "€"'
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def _book(demo_db, kind: str, lang: str, **period):
    con = db.connect(demo_db, must_exist=True)
    try:
        frame = load_report(con, kind, scope=ALL, **period)
        data = report_xlsx(con, kind, scope=ALL, lang=lang, **period)
    finally:
        con.close()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return frame, sheet


def _column(sheet, header: str) -> int:
    """The 1-based column of a header text in row 1."""
    headers = [c.value for c in sheet[1]]
    assert header in headers, headers
    return headers.index(header) + 1


def test_services_book_in_german_names_headers_and_tiers(demo_db):
    frame, sheet = _book(demo_db, "services", "de", year=YEAR)
    assert sheet.title == "Leistungen"
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:6] == [
        "Kundennr.",
        "Kunde",
        "Kundenstufe",
        "KAM-Nr.",
        "Interne Kosten",
        "Listenwert",
    ]
    assert sheet.cell(1, _column(sheet, "Ohne Berechnung erbracht")).value  # value_silent
    key_row = frame.index[frame["tier"] == "KEY"][0]
    r = key_row + 2  # header in row 1
    assert sheet.cell(r, 1).value == frame.at[key_row, "account_id"]
    assert sheet.cell(r, 3).value == "Key Account"  # the code KEY in words
    money = sheet.cell(r, _column(sheet, "Listenwert"))
    assert money.value == pytest.approx(frame.at[key_row, "list_value"])
    assert money.number_format == GERMAN_MONEY
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width  # names


def test_giveaways_book_has_date_cells_and_named_codes(demo_db):
    frame, sheet = _book(demo_db, "giveaways", "de", year=YEAR)
    assert sheet.title == "Verschenkte Leistungen"
    row = frame.index[(frame["finding"] == "off_policy") & (frame["billing_mode"] == "silent")][0]
    r = row + 2
    date = sheet.cell(r, _column(sheet, "Datum"))
    assert isinstance(date.value, dt.datetime)
    assert date.value.date() == dt.date.fromisoformat(str(frame.at[row, "date"])[:10])
    assert date.number_format == "DD.MM.YYYY"
    assert sheet.cell(r, _column(sheet, "Befund")).value == "Außerhalb der Matrix"
    assert sheet.cell(r, _column(sheet, "Abrechnungsart")).value == "Ohne Berechnung erbracht"
    assert sheet.cell(r, _column(sheet, "Quelle")).value in ("Leistungen", "Lieferungen")
    service = sheet.cell(r, _column(sheet, "Leistung")).value
    assert service != frame.at[row, "service_code"]  # the catalogue's German name
    loss = sheet.cell(r, _column(sheet, "Verlust"))
    assert (loss.value, loss.number_format) == (
        pytest.approx(frame.at[row, "leakage"]),
        GERMAN_MONEY,
    )


def test_retention_book_says_yes_and_names_signals(demo_db):
    frame, sheet = _book(demo_db, "retention", "de", year=YEAR)
    assert sheet.title == "Kundenbindung"
    assert [c.value for c in sheet[1]] == [
        "Kundennr.",
        "KAM-Nr.",
        "aktiv 1.1.",
        "aktiv Stichtag",
        "Gehalten",
        "Gefährdet",
        "Signale",
    ]
    flagged = frame.index[frame["signals"].str.contains("order_gap", na=False)][0]
    assert "Bestelllücke" in sheet.cell(flagged + 2, 7).value
    assert {sheet.cell(r, 3).value for r in range(2, sheet.max_row + 1)} <= {"ja", "nein"}


def test_bonus_book_in_english_has_percent_and_euro_cells(demo_db):
    frame, sheet = _book(demo_db, "bonus", "en", year=YEAR)
    assert sheet.title == "Bonus standing"
    share = sheet.cell(2, _column(sheet, "R: retention"))
    assert (share.value, share.number_format) == (pytest.approx(frame.at[0, "R"]), "0.0%")
    bonus = sheet.cell(2, _column(sheet, "Target bonus"))
    assert bonus.value == pytest.approx(frame.at[0, "target_bonus"])
    assert bonus.number_format == '"€"#,##0.00'
    assert sheet.cell(1, 2).value == "Name"  # the KAM's name, not "Account"


def test_overview_book_writes_the_year_without_a_thousands_mark(demo_db):
    _, sheet = _book(demo_db, "overview", "de", year=YEAR)
    year = sheet.cell(2, _column(sheet, "Jahr"))
    assert (year.value, year.number_format) == (YEAR, "0")
    start = sheet.cell(2, _column(sheet, "Beginn"))
    assert (start.value, start.number_format) == (dt.datetime(YEAR, 1, 1), "DD.MM.YYYY")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_report_column_has_a_header_in_words(demo_db, lang):
    """No report kind's workbook shows a raw column name (also the kinds no page offers)."""
    con = db.connect(demo_db, must_exist=True)
    try:
        columns = {
            kind: list(load_report(con, kind, year=YEAR, scope=ALL).columns)
            for kind in REPORTS
            if kind != "changes"  # needs an import batch
        }
    finally:
        con.close()
    columns["backtest"] = BACKTEST_COLUMNS
    columns["changes"] = CHANGES_COLUMNS
    raw = [
        f"{kind}.{c}"
        for kind, names in columns.items()
        for c in names
        if report_column_label(kind, c, lang) == c and (_SNAKE.match(c) or lang == "de")
    ]
    assert raw == []


def test_a_book_with_an_unnamed_column_keeps_its_header():
    """A column the glossary does not know stays as it is (shown, not dropped)."""
    import pandas as pd

    data = report_workbook(pd.DataFrame({"tier": ["A"], "extra": [1]}), "services", "de")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["Kundenstufe", "extra"]
    assert sheet["A2"].value == "A-Kunde"


def test_cli_json_and_csv_keep_raw_columns_and_codes(demo_db):
    """The machine contract: snake_case columns and codes, unchanged by the workbook."""
    done = run_cli("report", "giveaways", "--db", demo_db, "--year", YEAR, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert list(rows[0])[:4] == ["source_table", "source_id", "account_id", "tier"]
    assert {r["finding"] for r in rows} <= {"off_policy", "giveaway", "invisible"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["date"])
    done = run_cli("report", "services", "--db", demo_db, "--year", YEAR, "--format", "csv")
    assert done.returncode == 0, done.stderr
    header = next(csv.reader(io.StringIO(done.stdout)))
    assert header[:4] == ["account_id", "name", "tier", "kam_id"]


def test_cli_xlsx_writes_the_book_in_the_language_asked(demo_db, tmp_path):
    out = tmp_path / "services.xlsx"
    args = ("report", "services", "--db", demo_db, "--year", YEAR, "--format", "xlsx")
    done = run_cli(*args, "--out", out, "--lang", "en")
    assert done.returncode == 0, done.stderr
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert sheet.title == "Services"
    assert [c.value for c in sheet[1]][:3] == ["Account no.", "Account", "Tier"]
