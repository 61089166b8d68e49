"""Number cells of a workbook never decide how its text cells are read: Excel writes a number
cell's text with a decimal point ("1.38"), so it says nothing about the export's notation. A
text amount "1,380" beside number cells reads as in the same export saved as csv."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd

from kam_analytics.ingest.read import RawSheet
from tests.test_ingest_quirks import cli, rows

HEADER = ["Auftrag", "Kunde", "Datum", "Umsatz", "Währung"]
LINES = [["A1", "10001", "01.02.2025", 1.38, "EUR"], ["A2", "10001", "01.03.2025", "1,380", "EUR"]]


def _xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for line in LINES:
        ws.append(line)
    wb.save(path)
    return path


def _csv(path):
    text = [";".join(HEADER)] + [
        ";".join("1,38" if isinstance(c, float) else c for c in line) for line in LINES
    ]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def _amounts(tmp_path, source):
    db = tmp_path / f"{source.suffix[1:]}.duckdb"
    code, _out, err = cli("import", source, "--db", db)
    assert code == 0, err
    return rows(db, "SELECT order_id, net_revenue FROM orders ORDER BY order_id")


def test_number_cell_does_not_vote_for_a_decimal_point(tmp_path):
    # The number cell 1.38 once made "1,380" read as 1380 (English thousands), silently.
    assert _amounts(tmp_path, _xlsx(tmp_path / "export.xlsx")) == [
        ("A1", Decimal("1.3800")),
        ("A2", Decimal("1.3800")),
    ]


def test_xlsx_and_csv_of_the_same_export_agree(tmp_path):
    xlsx = _amounts(tmp_path, _xlsx(tmp_path / "export.xlsx"))
    assert xlsx == _amounts(tmp_path, _csv(tmp_path / "export.csv"))


def test_xls_or_ods_plain_points_beside_commas_are_number_cells():
    # No cell types at hand (.xls/.ods): a value a number cell writes ("1.38", "12.5") reads
    # the same with either separator, so it is taken as a number cell and does not vote.
    frame = pd.DataFrame({"Umsatz": ["1.38", "1,380", "1.234", "12.5", None]})
    raw = RawSheet(
        file_name="x.ods", sheet="S", frame=frame, rows=np.arange(5) + 2, sha256="", sheet_names=[]
    )
    raw.workbook = True
    assert raw.numbers_of("Umsatz").tolist() == [True, False, False, True, False]
