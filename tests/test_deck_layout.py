"""Decks and review pack: no text overflows its box, no labels overlap, charts are native.

Two checks: a geometric one on the PPTX (every word and paragraph measured with DejaVu Sans
against its text box or table column, fast, always runs), and a rendered one (LibreOffice
converts the decks to PDF; no two words of the rendered pages overlap and none leaves the
page). The rendered check skips without LibreOffice, except under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from pptx import Presentation

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.exports.deck import build_account_deck
from kam_analytics.exports.review_pack import build_review_pack
from tests.slide_layout import rendered_overlaps, text_overflows
from tests.test_deck import fill_small_company


@pytest.fixture(scope="module")
def decks(demo_db, tmp_path_factory):
    """The demo's first key account's customer and internal decks and the review pack."""
    out = tmp_path_factory.mktemp("decks")
    con = db.connect(demo_db, read_only=True)
    try:
        scope = Scope.everything()
        key = con.execute(
            "SELECT account_id FROM accounts WHERE tier = 'KEY' ORDER BY account_id LIMIT 1"
        ).fetchall()[0][0]
        paths = {
            "deck": out / "deck.pptx",
            "intern": out / "intern.pptx",
            "review": out / "review.pptx",
            "deck_en": out / "deck_en.pptx",
        }
        build_account_deck(con, key, 2025, scope=scope, out=paths["deck"])
        build_account_deck(con, key, 2025, scope=scope, out=paths["intern"], internal=True)
        build_account_deck(con, key, 2025, scope=scope, out=paths["deck_en"], lang="en")
        build_review_pack(con, 2025, scope=scope, out=paths["review"])
    finally:
        con.close()
    return paths


def test_no_text_overflows_its_box(decks):
    for name, path in decks.items():
        assert text_overflows(path) == [], name


def test_geometric_check_catches_a_word_too_wide(small_db_path, tmp_path):
    # a service name that cannot fit its table column must be reported, not pass silently
    con = db.connect(small_db_path)
    con.execute(
        "UPDATE service_catalogue SET name_de = 'Donaudampfschifffahrtsgesellschaftskapitänsmütze'"
        " WHERE service_code = 'TRAINING'"
    )
    out = tmp_path / "wide.pptx"
    build_account_deck(con, "K1", 2025, scope=Scope.everything(), out=out)
    con.close()
    assert any("Donaudampf" in p for p in text_overflows(out))


def test_charts_are_native_not_pictures(decks):
    for name, path in decks.items():
        shapes = [s for slide in Presentation(str(path)).slides for s in slide.shapes]
        assert not [s for s in shapes if s.shape_type == 13], name  # 13: picture
        assert [s for s in shapes if s.has_chart], name


@pytest.fixture
def small_db_path(db_path):
    con = db.connect(db_path)
    fill_small_company(con)
    con.close()
    return db_path


def soffice() -> str | None:
    """LibreOffice, if installed; under CI its absence fails the test."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required under CI")
        pytest.skip("LibreOffice is not installed")
    return path


def overlapping_sample(path) -> None:
    """A slide with two text boxes on top of each other: the rendered check must catch it."""
    from pptx.util import Inches, Pt

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    for text in ("Umsatz 12.345 €", "Leckage 6.789 €"):
        box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))
        box.text_frame.text = text
        box.text_frame.paragraphs[0].runs[0].font.size = Pt(24)
    prs.save(str(path))


@pytest.mark.slow
def test_rendered_decks_have_no_overlapping_text(decks, tmp_path):
    exe = soffice()
    sample = tmp_path / "overlap.pptx"
    overlapping_sample(sample)
    outdir = tmp_path / "pdf"
    # a German locale, as on the users' computers: the charts' number formats follow it
    env = {**os.environ, "LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8"}
    result = subprocess.run(
        [
            exe,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            *[str(p) for p in decks.values()],
            str(sample),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    for name, path in decks.items():
        pdf = outdir / (path.stem + ".pdf")
        assert pdf.exists(), result.stdout + result.stderr
        assert rendered_overlaps(pdf) == [], name
    assert rendered_overlaps(outdir / "overlap.pdf")  # the check itself sees an overlap
    if shutil.which("pdftoppm"):
        pdf = outdir / "deck.pdf"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "slide")], check=True
        )
        assert len(list(tmp_path.glob("slide-*.png"))) == len(
            Presentation(str(decks["deck"])).slides
        )


def test_money_format_writes_its_separators_for_charts_without_negatives():
    from kam_analytics.exports.slides import money_format

    assert money_format("de", [0, 2500, 1_200_000]) == (
        '[>=1000000]#\\.###\\.##0" €";[>=1000]#\\.##0" €";0" €"'
    )
    assert money_format("en", [12.5]) == '[>=1000000]"€"#\\,###\\,##0;[>=1000]"€"#\\,##0;"€"0'
    # no section left for a minus: a chart with a negative value follows the computer's locale
    assert money_format("de", [100, -3]) == "#,##0 [$€-407]"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("deck", "locale", "wrong"),
    [
        # A German deck on an English computer once showed "2,000 €" on every chart axis.
        ("deck", "C.UTF-8", r"\d,\d{3} €"),
        ("deck_en", "de_DE.UTF-8", r"€\d{1,3}\.\d{3}"),
    ],
)
def test_chart_numbers_read_the_same_on_a_computer_in_another_language(
    decks, tmp_path, deck, locale, wrong
):
    import re

    exe = soffice()
    env = {**os.environ, "LANG": locale, "LC_ALL": locale}
    subprocess.run(
        [
            exe,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(decks[deck]),
        ],
        capture_output=True,
        timeout=240,
        env=env,
        check=True,
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / f"{deck}.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert not re.findall(wrong, text), re.findall(rf".{{0,20}}{wrong}", text)[:5]
    right = r"\d\.\d{3} €" if deck == "deck" else r"€\d{1,3},\d{3}"
    assert re.search(right, text)
