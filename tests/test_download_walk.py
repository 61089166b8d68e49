"""No raw value in what users download (issue 14, extended to the table downloads).

Every page offers its tables through `ui.downloads.download_table` (XLSX + CSV). The walk runs
app.py in AppTest like tests/test_raw_walk.py and, before each page run, replaces
`ui.downloads.download_table` with a recorder (the pages import it by name at run time, so the
module attribute is what they get). Each recorded table is built into the very bytes the
buttons would hand out (`ui.downloads.table_files`, which `download_table` itself uses), read
back (XLSX with openpyxl: values and number formats; CSV decoded and split on ";") and checked:
the denylist of tests/raw_values.py on every header and text cell, no "True"/"False", no
boolean cells, dates and months as real date cells with a German/English display format, no
number in Excel's "General" format, and in the German CSV no decimal point.

Roles and languages: admin (every page) in German and in English, management in English and
the KAM in German — the KAM's tables are the same pages with fewer rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

import ui.downloads
from kam_analytics.i18n import t
from tests import test_raw_walk as raw_walk
from tests.conftest import open_each_tab
from tests.raw_values import find_raw
from ui.navigation import PAGES

walk_db = raw_walk.walk_db  # the same demo copy with users and audit entries

# Pages that hand at least one table to download_table in the demo (the matrix page offers
# the catalogue as a table download to everyone but the admin, who edits it there instead).
PAGES_WITH_DOWNLOADS = {
    "pages/overview.py",
    "pages/services.py",
    "pages/giveaways.py",
    "pages/profitability.py",
    "pages/retention.py",
    "pages/mandate.py",
    "pages/bonus.py",
    "pages/account.py",
    "pages/matrix.py",
    "pages/settings.py",
    "pages/audit.py",
}

# Drill-downs whose table download appears once an account is picked: page -> (selectbox, key).
DRILLS = {
    "pages/services.py": ("svc_drill_account", "svc_dl_drill"),
    "pages/giveaways.py": ("gv_drill_account", "gv_dl_drill"),
}

# Display formats a date cell may carry: a day (German / English) or a month.
DATE_FORMATS = {
    "de": {"DD.MM.YYYY", "DD.MM.YYYY hh:mm", "MMM YYYY"},
    "en": {"DD/MM/YYYY", "DD/MM/YYYY hh:mm", "MMM YYYY"},
}
MONEY_FORMATS = {"de": '#,##0.00 "€"', "en": '"€"#,##0.00'}  # 1.234,56 € / €1,234.56
_BOOL_TEXT = re.compile(r"(?<!\w)(?:True|False|true|false)(?!\w)")
_POINT_NUMBER = re.compile(r"^-?\d+\.\d+$")
# A date in the other language's format: 31.12.2026 in the English CSV, 31/12/2026 in the German.
_FOREIGN_DATE = {
    "de": re.compile(r"(?<!\d)\d{1,2}/\d{1,2}/\d{4}(?!\d)"),
    "en": re.compile(r"(?<!\d)\d{1,2}\.\d{1,2}\.\d{4}(?!\d)"),
}


class Recorder:
    """Stands in for download_table: records every call, then draws the real buttons."""

    def __init__(self, original):
        self.original = original
        self.calls: list[tuple[object, str, dict]] = []

    def __call__(self, df, name, **kwargs):
        # a page may hand a function that reads the table on click: read it now, in the run
        table = df() if callable(df) else df.copy()
        self.calls.append((table, name, dict(kwargs)))
        return self.original(df, name, **kwargs)


def _text_problems(where: str, text: str, lang: str, allowed, *, id_cell=False) -> list[str]:
    hits = find_raw(text, lang, allowed)
    if id_cell:  # the catalogue's code is what import files carry (as on screen)
        hits = [h for h in hits if not h.startswith(("code:", "snake_case:"))]
    hits += [f"boolean as text: {m.group(0)}" for m in _BOOL_TEXT.finditer(text)]
    return [f"{where} {hit} in {text[:80]!r}" for hit in hits]


def xlsx_problems(data: bytes, lang: str, allowed, has_title: bool) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows())
    header_at = 2 if has_title else 0
    headers = [c.value for c in rows[header_at]] if len(rows) > header_at else []
    ids = {i for i, h in enumerate(headers) if h == t("mx_code", lang)}
    found = []
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            value = cell.value
            column = headers[c] if c < len(headers) else c
            where = f"[xlsx {cell.coordinate if r <= header_at else column}]"
            if value is None:
                continue
            if isinstance(value, bool):
                found.append(f"{where} boolean cell {value}")
            elif isinstance(value, dt.datetime | dt.date):
                if cell.number_format not in DATE_FORMATS[lang]:
                    found.append(f"{where} date in format {cell.number_format!r}")
            elif isinstance(value, int | float):
                if cell.number_format == "General" and value != int(value):
                    found.append(f"{where} number {value} in format General")
                if "€" in cell.number_format and cell.number_format != MONEY_FORMATS[lang]:
                    found.append(f"{where} money in format {cell.number_format!r}")
            else:
                text = str(value)
                kind = "header" if r == header_at else ("title" if r < header_at else "cell")
                found += _text_problems(
                    f"{where} {kind}", text, lang, allowed, id_cell=r > header_at and c in ids
                )
    return found


def csv_problems(data: bytes, lang: str, allowed) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf"), "the CSV has no BOM (German Excel needs it)"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    headers = rows[0] if rows else []
    ids = {i for i, h in enumerate(headers) if h == t("mx_code", lang)}
    found = []
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if not text:
                continue
            column = headers[c] if c < len(headers) else c
            where = f"[csv {column}] " + ("header" if r == 0 else "cell")
            found += _text_problems(where, text, lang, allowed, id_cell=r > 0 and c in ids)
            if r and _POINT_NUMBER.match(text) and lang == "de":
                found.append(f"{where} decimal point in {text!r}")
            found += [
                f"{where} date in the other language's format: {m.group(0)}"
                for m in _FOREIGN_DATE[lang].finditer(text)
            ]
    return found


def download_problems(recorder: Recorder, lang: str, allowed) -> list[str]:
    found = []
    for df, name, kwargs in recorder.calls:
        if "kam_name" in df:  # the accounts without a KAM are a row too: it says so
            unnamed = int(sum(not isinstance(n, str) or not n.strip() for n in df["kam_name"]))
            if unnamed:
                found.append(f"{name}: {unnamed} row(s) with an empty KAM name")
        build_xlsx, build_csv = ui.downloads.table_files(df, name, lang=lang, **_file_args(kwargs))
        tag = f"{name}:"
        found += [
            f"{tag} {p}"
            for p in xlsx_problems(build_xlsx(), lang, allowed, bool(kwargs.get("title")))
        ]
        found += [f"{tag} {p}" for p in csv_problems(build_csv(), lang, allowed)]
    return found


def _file_args(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if k != "key"}


WALKS = [("admin", "de"), ("admin", "en"), ("management", "en"), ("kam", "de")]


@pytest.mark.parametrize(("role", "lang"), WALKS)
def test_no_raw_value_in_any_download(walk_db, monkeypatch, role, lang):
    at = AppTest.from_file(str(raw_walk.ROOT / "app.py"), default_timeout=raw_walk.TIMEOUT)
    at.session_state["scope"] = walk_db["scopes"][role]
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    allowed = raw_walk._allowed(walk_db, lang)
    original = ui.downloads.download_table
    found, captured = {}, {}
    for entry in PAGES:
        if role not in entry.roles:
            continue
        recorder = Recorder(original)
        monkeypatch.setattr(ui.downloads, "download_table", recorder)
        at.switch_page(entry.path).run()
        assert not at.exception, (entry.path, [e.value for e in at.exception])
        for _ in open_each_tab(at, entry.path):  # a lazy tab offers its download only when open
            assert not at.exception, (entry.path, [e.value for e in at.exception])
        if entry.path in DRILLS:  # pick the first account: its single events download too
            box, key = DRILLS[entry.path]
            recorder.calls.clear()
            select = at.selectbox(key=box)  # options read "K10001 – Name"; the value is the id
            select.set_value(select.options[0].split(" – ")[0]).run()
            assert not at.exception, (entry.path, [e.value for e in at.exception])
            assert key in [kwargs.get("key") for _, _, kwargs in recorder.calls], entry.path
        captured[entry.path] = len(recorder.calls)
        found[entry.path] = download_problems(recorder, lang, allowed)
    # the recorder sees the pages' calls: every page known to offer a table download did
    expected = {p for p in PAGES_WITH_DOWNLOADS if p in captured}
    if role == "admin":
        expected.discard("pages/matrix.py")
    missing = sorted(p for p in expected if not captured[p])
    assert not missing, (missing, json.dumps(captured))
    assert sum(captured.values()) >= 5, captured
    found = {page: sorted(set(hits)) for page, hits in found.items() if hits}
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_file_checks_catch_raw_values():
    """The checks above fail on the raw values the issue names (they can fail)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["account_id", "Monat", "Datum", "Aktiv", "Stufe", "Wert", "Leer", "Tag"])
    sheet.append(["A1", "2026-01", "2026-11-30", True, "KEY", 9.5, "None", dt.date(2026, 1, 2)])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = " ".join(xlsx_problems(buffer.getvalue(), "de", (), False))
    data = "account_id;Monat;Datum;Aktiv;Stufe;Wert;Leer\r\nA1;2026-01;2026-11-30;True;KEY;9.5;None\r\n"
    text = " ".join(csv_problems(data.encode("utf-8-sig"), "de", ()))
    for token in ("account_id", "2026-01", "2026-11-30", "KEY", "None"):
        assert token in xlsx and token in text, token
    assert "boolean cell True" in xlsx
    assert "date in format 'yyyy-mm-dd'" in xlsx
    assert "number 9.5 in format General" in xlsx
    assert "boolean as text: True" in text
    assert "decimal point in '9.5'" in text


@pytest.mark.parametrize("kind", ["services", "giveaways", "retention", "bonus"])
def test_report_workbooks_a_page_offers_hold_no_raw_values(walk_db, kind):
    from kam_analytics import db
    from kam_analytics.exports.report_book import report_xlsx

    con = db.connect(walk_db["path"], must_exist=True)
    try:
        scope = walk_db["scopes"]["admin"]
        data = report_xlsx(con, kind, year=raw_walk.THIS_YEAR, scope=scope, lang="de")
    finally:
        con.close()
    assert xlsx_problems(data, "de", raw_walk._allowed(walk_db, "de"), False) == []


@pytest.mark.parametrize("lazy", [False, True])
def test_table_files_name_codes_and_months_also_for_a_table_read_on_click(lazy):
    import pandas as pd

    frame = pd.DataFrame({"month": ["2026-03"], "tier": ["KEY"], "events": [3]})
    xlsx, csv_file = ui.downloads.table_files(
        (lambda: frame) if lazy else frame,
        "x",
        labels={"month": "Monat", "tier": "Kundenstufe", "events": "Anzahl"},
        lang="de",
    )
    assert csv_file().decode("utf-8-sig").split("\r\n")[:2] == [
        "Monat;Kundenstufe;Anzahl",
        "März 2026;Key Account;3",
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx())).worksheets[0]
    assert (sheet["A2"].value, sheet["A2"].number_format) == (dt.datetime(2026, 3, 1), "MMM YYYY")
    assert sheet["B2"].value == "Key Account"
