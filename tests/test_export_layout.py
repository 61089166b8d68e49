"""Bonus statement PDF, matrix picture and XLSX sheet names: no word is cut or broken.

Each test failed before its fix: the PDF's account table broke "gefährdet" into
"gefährde/t", the matrix PNG's right-aligned "Listenwert" header lost its first letter
("istenwert") in a column too narrow for it, and sheet names were cut at 31 characters
in the middle of a word.
"""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from kam_analytics.access import Scope
from kam_analytics.exports.bonus_statement import ACCOUNT_COLUMNS, statement_pdf, statement_xlsx
from kam_analytics.exports.matrix_sheet import matrix_figure, matrix_xlsx
from kam_analytics.exports.tables import excel_sheet_name, frame_to_xlsx
from kam_analytics.i18n import t
from kam_analytics.metrics.bonus import get_standing
from tests.slide_layout import text_width_pt
from tests.test_bonus import AS_OF
from tests.test_retention import build_scenario_2025

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def standing(con):
    build_scenario_2025(con)
    return get_standing(con, kam_id="K1", year=2025, as_of=AS_OF, scope=Scope.everything())


@pytest.mark.parametrize("lang", ["de", "en"])
def test_bonus_pdf_headers_never_break_inside_a_word(standing, tmp_path, lang):
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(statement_pdf(standing, lang))
    words = set(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
        .stdout.replace("\n", " ")
        .split()
    )
    for _key, label in ACCOUNT_COLUMNS:
        for word in t(label, lang).split():
            assert word in words, f"header word {word!r} broken in the PDF"
    assert "order_gap" not in words and "feedback_id" not in words  # no raw codes


def test_matrix_png_headers_fit_their_columns(con):
    fig = matrix_figure(con, 2025, "de")
    table = fig.data[0]
    widths = list(table.columnwidth)
    plot_px = 1123 - fig.layout.margin.l - fig.layout.margin.r
    size = table.header.font.size
    for head, w in zip(table.header["values"], widths, strict=True):
        text = head.replace("<b>", "").replace("</b>", "")
        column_px = plot_px * w / sum(widths)
        # cell padding of a plotly table is about 8 px a side
        assert text_width_pt(text, size, bold=True) + 16 <= column_px, text
    assert "Listenwert" in [
        h.replace("<b>", "").replace("</b>", "") for h in table.header["values"]
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Leistungen nach Kunde und Abrechnungsart 2025", "Leistungen nach Kunde und"),
        ("Kurz", "Kurz"),
        ("Donaudampfschifffahrtsgesellschaftskapitän", "Donaudampfschifffahrtsgesellsch"),
        ("Giveaways: Befunde [alle]", "Giveaways_ Befunde _alle_"),
        ("", "Daten"),
    ],
)
def test_sheet_names_shortened_at_word_boundaries(name, expected):
    assert excel_sheet_name(name) == expected
    assert len(excel_sheet_name(name)) <= 31


def test_xlsx_sheet_names_are_whole_words(con, standing):
    import io

    import pandas as pd

    data = frame_to_xlsx(pd.DataFrame({"a": [1]}), sheet_name="Kundenbindung der Key Accounts 2025")
    assert load_workbook(io.BytesIO(data)).sheetnames == ["Kundenbindung der Key Accounts"]
    for book in (matrix_xlsx(con, 2025, "de"), statement_xlsx(standing, "de")):
        for sheet in load_workbook(io.BytesIO(book)).sheetnames:
            assert sheet == excel_sheet_name(sheet)


@given(st.text(min_size=0, max_size=80))
@settings(max_examples=200, deadline=None)
def test_sheet_name_invariants(name):
    got = excel_sheet_name(name)
    assert 1 <= len(got) <= 31
    assert not set(got) & set("[]:*?/\\")
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip().strip("'")
    if cleaned and len(cleaned) <= 31:
        assert got == cleaned
    elif cleaned and " " in cleaned[:32]:
        # whole words only: the name continues with a space (or ends) right after the cut
        assert cleaned.startswith(got)
        rest = cleaned[len(got) :]
        assert rest == "" or rest[0] in " -–·,;("
