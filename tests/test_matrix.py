"""The service catalogue and the entitlement matrix: editing, yearly versions, audit, the sheet."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from kam_analytics import catalogue as cat
from kam_analytics.access import Scope
from kam_analytics.errors import AccessDeniedError, ConfigError, ExportError
from kam_analytics.exports import matrix_sheet as ms

ADMIN = Scope("anna", "admin")


def _audit(con, action):
    return con.execute(
        "SELECT target, old_value, new_value, username FROM audit_log WHERE action = ? "
        "ORDER BY audit_id",
        [action],
    ).fetchall()


def _policy(con, year, code, tier):
    m = cat.select_matrix(con, year)
    return m[(m.service_code == code) & (m.tier == tier)]["policy"].item()


def test_default_matrix_is_plausible(con):
    m = cat.select_matrix(con, 2025)
    assert len(m) == 12 * 4
    excl = cat.exclusive_services(m)
    assert sorted(c for c, e in excl.items() if e) == sorted(
        c for c, *_r, e in cat.DEFAULT_SERVICES if e
    )
    assert _policy(con, 2025, "EXPRESS_FREIGHT", "KEY") == "waived"
    assert [_policy(con, 2025, "EXPRESS_FREIGHT", t) for t in "ABC"] == ["billed"] * 3
    assert cat.matrix_years(con) == []
    assert cat.matrix_source_year(con, 2025) is None


def test_versions_per_year_and_fallback(con):
    cat.copy_matrix(con, None, 2024, "anna")
    assert cat.matrix_years(con) == [2024]
    n = cat.update_matrix(con, 2026, {("TRAINING", "A"): "free"}, "anna", scope=ADMIN)
    assert n == 1
    # 2026 was created from the matrix valid then (2024's) with the one change.
    assert cat.matrix_years(con) == [2024, 2026]
    assert _policy(con, 2026, "TRAINING", "A") == "free"
    assert _policy(con, 2025, "TRAINING", "A") == "billed"  # falls back to 2024
    assert _policy(con, 2027, "TRAINING", "A") == "free"  # falls back to 2026
    assert _policy(con, 2023, "TRAINING", "A") == "billed"  # default
    assert con.execute("SELECT count(*) FROM entitlement_matrix WHERE year = 2026").fetchall() == [
        (48,)
    ]
    changes = _audit(con, "matrix_update")
    assert changes == [("2026/TRAINING/A", '"billed"', '"free"', "anna")]
    copies = _audit(con, "matrix_copy")
    assert [c[0] for c in copies] == ["2024", "2026"]
    assert json.loads(copies[1][1]) == {"from_year": 2024}
    # Saving the same value again changes nothing and writes no audit entry.
    assert cat.update_matrix(con, 2026, {("TRAINING", "A"): "free"}, "anna") == 0
    assert len(_audit(con, "matrix_update")) == 1


def test_update_matrix_from_edited_wide_frame(con):
    wide = cat.matrix_wide(cat.select_matrix(con, 2025))
    wide.loc[wide["service_code"] == "FOCUS_GROUP", "A"] = "billed"
    assert cat.update_matrix(con, 2025, wide, "anna", scope=ADMIN) == 1
    m = cat.select_matrix(con, 2025)
    assert not cat.exclusive_services(m)["FOCUS_GROUP"]
    assert cat.exclusive_services(m)["INNOVATION_WS"]


def test_matrix_rejects_nonsense_and_non_admins(con):
    with pytest.raises(ConfigError):
        cat.update_matrix(con, 2025, {("TRAINING", "A"): "gratis"}, "anna")
    with pytest.raises(ConfigError):
        cat.update_matrix(con, 2025, {("TRAINING", "Z"): "free"}, "anna")
    with pytest.raises(AccessDeniedError):
        cat.update_matrix(
            con, 2025, {("TRAINING", "A"): "free"}, "k", scope=Scope("k", "kam", "M1")
        )
    with pytest.raises(AccessDeniedError):
        cat.save_catalogue(con, cat.select_catalogue(con), "k", scope=Scope("m", "management"))
    assert cat.matrix_years(con) == []


def test_catalogue_edit_and_add_with_audit(con):
    edited = cat.select_catalogue(con)
    edited.loc[edited["service_code"] == "TRAINING", "list_value"] = 1950.0
    new = pd.DataFrame(
        [
            {
                "service_code": "onsite_audit",
                "name_de": "Vor-Ort-Audit",
                "name_en": None,
                "unit": "Tag",
                "cost": 800,
                "list_value": 1600,
            }
        ]
    )
    counts = cat.save_catalogue(con, pd.concat([edited, new], ignore_index=True), "anna", ADMIN)
    assert counts == {"added": 1, "updated": 1, "unchanged": 11}
    catalogue = cat.select_catalogue(con).set_index("service_code")
    assert catalogue.loc["TRAINING", "list_value"] == 1950.0
    assert catalogue.loc["ONSITE_AUDIT", "name_en"] == "Vor-Ort-Audit"
    assert catalogue.loc["ONSITE_AUDIT", "sort_order"] == 13
    assert _audit(con, "catalogue_update") == [
        ("TRAINING", '{"list_value": 1800.0}', '{"list_value": 1950.0}', "anna")
    ]
    assert [a[0] for a in _audit(con, "catalogue_add")] == ["ONSITE_AUDIT"]
    # A service added later is offered on request (billed) to every tier until the matrix says otherwise.
    assert [_policy(con, 2025, "ONSITE_AUDIT", t) for t in ("KEY", "A", "B", "C")] == ["billed"] * 4


def test_catalogue_rejects_bad_rows(con):
    bad = pd.DataFrame([{"service_code": "X Y", "name_de": "a"}])
    with pytest.raises(ConfigError):
        cat.save_catalogue(con, bad, "anna")
    neg = pd.DataFrame([{"service_code": "NEG", "name_de": "a", "cost": -1}])
    with pytest.raises(ConfigError):
        cat.save_catalogue(con, neg, "anna")
    twice = pd.DataFrame(
        [{"service_code": "A1", "name_de": "a"}, {"service_code": "a1", "name_de": "b"}]
    )
    with pytest.raises(ConfigError):
        cat.save_catalogue(con, twice, "anna")
    assert "NEG" not in set(cat.select_catalogue(con)["service_code"])


def test_sheet_xlsx(con):
    cat.update_matrix(con, 2025, {("TRAINING", "C"): "not_offered"}, "anna")
    book = openpyxl.load_workbook(io.BytesIO(ms.matrix_xlsx(con, 2025, "de")))
    sheet = book.active
    assert sheet.title == "Leistungsmatrix 2025"
    assert sheet["A1"].value == "Leistungsmatrix 2025"
    assert [c.value for c in sheet[4]] == [
        "Leistung",
        "Einheit",
        "Listenwert",
        "Key Account",
        "A-Kunde",
        "B-Kunde",
        "C-Kunde",
    ]
    rows = {r[0].value: [c.value for c in r] for r in sheet.iter_rows(min_row=5, max_row=16)}
    assert rows["Trainingsmaßnahme beim Kunden"] == [
        "Trainingsmaßnahme beim Kunden",
        "Tag",
        1800,
        "inklusive",
        "gegen Berechnung",
        "gegen Berechnung",
        "nicht angeboten",
    ]
    assert rows["Produktinnovations-Workshop ★"][3:] == ["inklusive"] + ["nicht angeboten"] * 3
    assert sheet["D5"].fill.fgColor.rgb.endswith("CFE8CF")
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage


def test_sheet_pdf_one_page_with_umlauts(con, tmp_path):
    pdf = ms.matrix_pdf(con, 2025, "de")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "m.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
        assert "841.89 x 595.28" in info  # A4 landscape in points
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert "Trainingsmaßnahme beim Kunden" in text
        assert "Individuelle Verpackung / Produktpräsentation" in text
        assert "Leistungsmatrix 2025" in text


def test_sheet_pdf_without_dejavu_uses_core_font(con, monkeypatch, tmp_path):
    monkeypatch.setattr(ms, "FONT_REGULAR", tmp_path / "missing.ttf")
    pdf = ms.matrix_pdf(con, 2025, "de")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "core.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert "Trainingsmaßnahme beim Kunden" in text


def test_sheet_png_needs_chromium(con, monkeypatch):
    from kam_analytics.exports import charts

    monkeypatch.setattr(charts, "find_chromium", lambda: None)
    with pytest.raises(ExportError) as err:
        ms.matrix_png(con, 2025, "de")
    assert "Chromium" in err.value.message


@pytest.mark.browser
def test_sheet_png_is_a4_landscape(con):
    from tests.conftest import require_chromium

    require_chromium()
    png = ms.matrix_png(con, 2025, "en")
    assert png.startswith(b"\x89PNG")
    from PIL import Image

    width, height = Image.open(io.BytesIO(png)).size
    assert (width, height) == (2246, 1588)
