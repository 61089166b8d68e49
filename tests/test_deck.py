"""The per-account value deck and the management review pack: slides, numbers, access, PDF."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest
from pptx import Presentation

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.errors import AccessDeniedError, NotFoundError
from kam_analytics.exports.deck import build_account_deck, deck_filename
from kam_analytics.exports.review_pack import build_review_pack
from kam_analytics.i18n import fmt_eur, fmt_number
from kam_analytics.metrics.account_value import collect_account_data
from kam_analytics.metrics.services import report_services

DE_TITLES = [
    "Muster Maschinenbau AG",
    "Auf einen Blick",
    "Ihre Leistungen im Einzelnen",
    "So wurden die Leistungen abgerechnet",
    "Ihre Leistungen im Jahresverlauf",
    "Was Ihr Status als Key Account umfasst",
    "Exklusiv für Sie als Key Account",
    "Expresslieferungen und übernommene Fracht",
    "Umsatzentwicklung",
    "Ihr Kontakt zu uns",
]
EN_TITLES = [
    "Muster Maschinenbau AG",
    "At a glance",
    "Your services in detail",
    "How the services were handled",
    "Your services over the year",
    "What your Key account status includes",
    "Exclusive to you as a key account",
    "Express deliveries and freight we covered",
    "Revenue trend",
    "Your contact",
]


def fill_small_company(con) -> None:
    """One key account (K1, KAM01), one A account (A1, KAM02), hand-countable services."""
    con.execute(
        "INSERT INTO kams (kam_id, name, email) VALUES "
        "('KAM01', 'Katrin Möller', 'katrin@example.de'), ('KAM02', 'Jan Petersen', NULL)"
    )
    con.execute(
        "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES "
        "('K1', 'Muster Maschinenbau AG', 'KEY', 'KAM01'), ('A1', 'Beispiel GmbH', 'A', 'KAM02')"
    )
    con.execute(
        "INSERT INTO service_events (event_id, account_id, date, service_code, quantity, cost, "
        "list_value, billed_amount, billing_mode) VALUES "
        "('E1', 'K1', DATE '2025-03-10', 'INNOVATION_WS', 1, 2400, 4500, 0, 'waived'),"
        "('E2', 'K1', DATE '2025-05-05', 'TRAINING', 1, 900, 1800, 1800, 'billed'),"
        "('E3', 'K1', DATE '2025-06-01', 'DEDICATED_CONTACT', 1, 450, 900, 0, 'silent'),"
        "('E4', 'K1', DATE '2025-07-01', 'DEDICATED_CONTACT', 1, 450, 900, 0, 'silent'),"
        "('E5', 'K1', DATE '2024-07-01', 'TRAINING', 1, 900, 1800, 0, 'silent'),"
        "('E6', 'A1', DATE '2025-07-01', 'TRAINING', 1, 900, 1800, 0, 'silent')"
    )
    con.execute(
        "INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost, "
        "freight_charged, billing_mode) VALUES "
        "('S1', 'K1', DATE '2025-08-08', 'express', 120, 0, 'silent'),"
        "('S2', 'K1', DATE '2025-09-09', 'express', 80, 80, 'billed'),"
        "('S3', 'K1', DATE '2025-09-10', 'standard', 40, 0, NULL)"
    )
    con.execute(
        "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue) VALUES "
        "('O1', '1', 'K1', DATE '2024-02-15', 10000), ('O2', '1', 'K1', DATE '2025-02-15', 12000),"
        "('O3', '1', 'K1', DATE '2025-11-20', 3000.50)"
    )
    con.execute(
        "INSERT INTO mandates (account_id, year, contact, objectives, success_measures) VALUES "
        "('K1', 2025, 'Dr. Eva Schulz, Einkaufsleiterin', 'Rahmenvertrag verlängern', "
        "'Quartalsgespräch')"
    )


@pytest.fixture
def small_db(db_path):
    con = db.connect(db_path)
    fill_small_company(con)
    yield con
    con.close()


def slide_texts(slide) -> list[str]:
    """Every text of a slide: text boxes, the title and table cells."""
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            out.extend(p.text for p in shape.text_frame.paragraphs if p.text)
        if shape.has_table:
            for row in shape.table.rows:
                out.extend(cell.text for cell in row.cells)
    return out


def table_rows(slide) -> list[list[str]]:
    for shape in slide.shapes:
        if shape.has_table:
            return [[c.text for c in row.cells] for row in shape.table.rows]
    return []


def slide_title(slide) -> str:
    if slide.shapes.title is not None:
        return slide.shapes.title.text_frame.text
    # the title slide has no placeholder: its title is the second text box
    return [s for s in slide.shapes if s.shape_type == 17][1].text_frame.text  # 17: text box


def count_pictures(slide) -> int:
    return sum(1 for s in slide.shapes if s.shape_type == 13)


def count_charts(slide) -> int:
    return sum(1 for s in slide.shapes if getattr(s, "has_chart", False) and s.has_chart)


def test_deck_numbers_are_hand_computed(small_db, tmp_path):
    out = tmp_path / "deck.pptx"
    data = build_account_deck(small_db, "K1", 2025, scope=Scope.everything(), lang="de", out=out)
    assert out.read_bytes() == data
    prs = Presentation(str(out))
    slides = list(prs.slides)
    assert [slide_title(s) for s in slides] == DE_TITLES
    assert prs.slide_width == 12192000 and prs.slide_height == 6858000  # 16:9

    title = slide_texts(slides[0])
    assert "Zeitraum: 2025" in title
    assert "Ihr Key Account Manager: Katrin Möller  ·  katrin@example.de" in title

    # 2: total 4500 + 1800 + 2×900 + 120 + 80 = 8300; billed 1800 + 80; waived 4500; silent 1920
    glance = slide_texts(slides[1])
    for value in (8300, 1880, 4500, 1920):
        assert fmt_eur(value, "de", 0) in glance
    assert "6 erbrachte Leistungen" in glance
    assert (
        "•  Leistungen im Wert von 8.300\u00a0€, davon 6.420\u00a0€ (77\u00a0%) ohne Berechnung für Sie."
        in glance
    )
    assert (
        "•  2 Expresslieferungen; 120\u00a0€ Frachtkosten haben wir für Sie übernommen." in glance
    )
    assert "•  2 von 9 exklusiven Key-Account-Leistungen genutzt." in glance

    # 3: per service, biggest value first, with a total row; one native chart, no picture
    rows = table_rows(slides[2])
    assert rows[0] == ["Leistung", "Menge", "Wert"]
    assert rows[1] == ["Produktinnovations-Workshop", "1", "4.500\u00a0€"]
    assert ["Fester Ansprechpartner im Innendienst", "2", "1.800\u00a0€"] in rows
    assert ["Expressfracht / Eilzustellung", "2", "200\u00a0€"] in rows
    assert rows[-1] == ["Summe", "6", "8.300\u00a0€"]
    assert count_charts(slides[2]) == 1

    # 4: billing modes with shares
    modes = slide_texts(slides[3])
    assert any(x.startswith("•  In Rechnung gestellt: 1.880,00\u00a0€ (23\u00a0%)") for x in modes)
    assert any(
        x.startswith("•  Ausgewiesen, nicht berechnet: 4.500,00\u00a0€ (54\u00a0%)") for x in modes
    )
    assert any(
        x.startswith("•  Ohne Berechnung erbracht: 1.920,00\u00a0€ (23\u00a0%)") for x in modes
    )

    # 5: per month, stacked by mode: March 4500 waived, May 1800 billed, June/July 900 silent
    chart = next(s.chart for s in slides[4].shapes if getattr(s, "has_chart", False))
    values = {ser.name: list(ser.values) for ser in chart.plots[0].series}
    assert list(chart.plots[0].categories)[:3] == ["Jan. 25", "Feb. 25", "März 25"]
    assert values["Ausgewiesen, nicht berechnet"][2] == 4500
    assert values["In Rechnung gestellt"][4] == 1800
    assert values["In Rechnung gestellt"][8] == 80  # September: the charged express shipment
    assert values["Ohne Berechnung erbracht"][5:8] == [900, 900, 120]

    # 6: what the tier includes (default matrix for KEY), used ones marked
    rows = table_rows(slides[5])
    assert rows[0] == ["Leistung", "Konditionen", "Genutzt"]
    assert ["Produktinnovations-Workshop", "inklusive", "ja"] in rows
    assert len(rows) - 1 == 12  # every catalogue service is offered to key accounts

    # 7: exclusive services: the two used ones first, the seven others "verfügbar"
    rows = table_rows(slides[6])
    assert rows[1] == ["Produktinnovations-Workshop", "1", "4.500\u00a0€"]
    assert rows[2] == ["Fester Ansprechpartner im Innendienst", "2", "1.800\u00a0€"]
    assert sum(1 for r in rows if r[1] == "verfügbar") == 7
    assert rows[-1] == ["Summe", "3", "6.300\u00a0€"]

    # 8: express: 2 shipments, 200 € freight, 80 € charged, 120 € absorbed
    express = slide_texts(slides[7])
    for text in ("2", "200\u00a0€", "80\u00a0€", "120\u00a0€"):
        assert text in express

    # 9 revenue, 10 contact: the KAM only
    assert count_charts(slides[8]) == 1
    assert "Katrin Möller" in slide_texts(slides[9])
    assert "katrin@example.de" in slide_texts(slides[9])
    assert sum(count_pictures(s) for s in slides) == 0
    assert sum(count_charts(s) for s in slides) == 5


def test_deck_matches_report_functions(small_db):
    data = collect_account_data(small_db, "K1", 2025, scope=Scope.everything())
    report = report_services(small_db, year=2025, scope=Scope.everything()).set_index("account_id")
    row = report.loc["K1"]
    assert data.totals["list_value"] == row["list_value"] == 8300.0
    assert data.totals["billed_amount"] == row["billed_amount"] == 1880.0
    assert data.totals["unbilled_value"] == row["unbilled_value"] == 6420.0
    for mode, expected in (("billed", 1880.0), ("waived", 4500.0), ("silent", 1920.0)):
        assert data.totals[f"value_{mode}"] == row[f"value_{mode}"] == expected
    assert data.express == {
        "shipments": 2,
        "freight_cost": 200.0,
        "list_value": 200.0,
        "charged": 80.0,
        "absorbed": 120.0,
    }
    # revenue trend: 24 months from January of the year before, orders in the right months
    rev = data.revenue.set_index("month")["revenue"]
    assert len(rev) == 24
    assert rev[dt.date(2024, 2, 1)] == 10000.0
    assert rev[dt.date(2025, 2, 1)] == 12000.0
    assert rev[dt.date(2025, 11, 1)] == 3000.5
    assert rev.sum() == 25000.5


def test_deck_in_english(small_db, tmp_path):
    out = tmp_path / "deck_en.pptx"
    build_account_deck(small_db, "K1", 2025, scope=Scope.everything(), lang="en", out=out)
    slides = list(Presentation(str(out)).slides)
    assert [slide_title(s) for s in slides] == EN_TITLES
    assert "€8,300" in slide_texts(slides[1])
    assert table_rows(slides[2])[-1] == ["Total", "6", "€8,300"]


def test_kam_may_build_decks_only_for_own_accounts(small_db):
    own = Scope(username="katrin", role="kam", kam_id="KAM01")
    other = Scope(username="jan", role="kam", kam_id="KAM02")
    assert build_account_deck(small_db, "K1", 2025, scope=own)[:2] == b"PK"
    with pytest.raises(AccessDeniedError) as info:
        build_account_deck(small_db, "K1", 2025, scope=other)
    assert "K1" in info.value.message
    with pytest.raises(NotFoundError):
        build_account_deck(small_db, "NOPE", 2025, scope=Scope.everything())


def test_review_pack_lists_kams_alphabetically_with_the_formula(small_db, tmp_path):
    out = tmp_path / "review.pptx"
    build_review_pack(small_db, 2025, scope=Scope.everything(), lang="de", out=out)
    slides = list(Presentation(str(out)).slides)
    titles = [slide_title(s) for s in slides]
    assert titles == [
        "Management-Review Key Accounts",
        "Auf einen Blick",
        "Key Accounts im Überblick",
        "Leistungswert nach Leistung",
        "Giveaways und Leckage",
        "Kundenbindung",
        "Bonusstand: die Formel",
        "Bonusstand je KAM",
    ]
    accounts = table_rows(slides[2])
    assert accounts[1][:2] == ["Muster Maschinenbau AG", "Katrin Möller"]
    assert accounts[1][3] == "8.300\u00a0€"
    formula = slide_texts(slides[6])
    assert any(x.startswith("Bonus = Zielbonus × min(1,20; 0,60·R'") for x in formula)
    bonus = table_rows(slides[7])
    assert [r[0] for r in bonus[1:]] == ["Jan Petersen", "Katrin Möller"]
    assert any("alphabetisch" in x.lower() for x in slide_texts(slides[7]))


def test_review_pack_is_for_management(small_db):
    with pytest.raises(AccessDeniedError):
        build_review_pack(small_db, 2025, scope=Scope(username="k", role="kam", kam_id="KAM01"))


def test_command_line_deck(small_db, db_path, tmp_path, capsys):
    from kam_analytics.cli import main

    small_db.close()
    out = tmp_path / "cli.pptx"
    code = main(
        [
            "deck",
            "--db",
            str(db_path),
            "--account",
            "K1",
            "--year",
            "2025",
            "--out",
            str(out),
            "--lang",
            "en",
        ]
    )
    assert code == 0
    assert len(Presentation(str(out)).slides) == 10
    code = main(
        [
            "deck",
            "--db",
            str(db_path),
            "--account",
            "K1",
            "--year",
            "2025",
            "--out",
            str(tmp_path / "x.pdf"),
        ]
    )
    assert code == 2
    assert "--out must end in .pptx" in capsys.readouterr().err


def pdf_pages(path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page(?!s)", path.read_bytes()))


@pytest.mark.slow
def test_libreoffice_converts_deck_and_review_pack(small_db, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    deck = tmp_path / "deck.pptx"
    review = tmp_path / "review.pptx"
    build_account_deck(small_db, "K1", 2025, scope=Scope.everything(), out=deck)
    build_review_pack(small_db, 2025, scope=Scope.everything(), out=review)
    outdir = tmp_path / "pdf"
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(deck),
            str(review),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    for pptx in (deck, review):
        pdf = outdir / (pptx.stem + ".pdf")
        assert pdf.exists(), result.stdout + result.stderr
        assert pdf_pages(pdf) == len(Presentation(str(pptx)).slides)


def test_demo_deck_totals_match_report(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        scope = Scope.everything()
        key = con.execute(
            "SELECT account_id FROM accounts WHERE tier = 'KEY' ORDER BY account_id LIMIT 1"
        ).fetchall()[0][0]
        data = collect_account_data(con, key, 2025, scope=scope)
        row = report_services(con, year=2025, scope=scope).set_index("account_id").loc[key]
        assert data.totals["list_value"] == row["list_value"]
        assert data.totals["unbilled_value"] == row["unbilled_value"]
        assert fmt_number(data.totals["events"]) == fmt_number(len(data.events))
    finally:
        con.close()


def deck_xml(data: bytes) -> str:
    """All XML of a PPTX (slides, charts, embedded chart data names) as one text."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(
            zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".xml")
        )


RISK_WORDS = ("Risiko", "Warnsignal", "gefährdet", "Bestellpause", "Zufriedenheit um", "Zielbonus")


def test_customer_deck_holds_no_internal_content(small_db):
    con = small_db
    con.execute(
        "UPDATE mandates SET objectives = 'Anteil am Gesamtbedarf von 40 % auf 55 % steigern', "
        "support = 'Technik-Team Nord' WHERE account_id = 'K1'"
    )
    xml = deck_xml(build_account_deck(con, "K1", 2025, scope=Scope.everything()))
    mandate = con.execute(
        "SELECT contact, objectives, success_measures, support FROM mandates WHERE account_id = 'K1'"
    ).fetchall()[0]
    for text in mandate:
        assert text.replace("%", "") not in xml.replace("%", "")
    assert "Eva Schulz" not in xml and "Anteil am Gesamtbedarf" not in xml
    # internal cost 2400 + 900 + 450 + 450 + 200 (express) = 4400 €; the costs per event
    for cost in (4400, 2400, 2400.0):
        assert fmt_eur(cost, "de", 0) not in xml and fmt_eur(cost, "de") not in xml
    for word in RISK_WORDS:
        assert word not in xml
    assert "Intern" not in xml


def test_demo_customer_deck_has_no_mandate_cost_or_risk(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        scope = Scope.everything()
        rows = con.execute(
            "SELECT m.account_id, m.contact, m.objectives, m.success_measures, m.support "
            "FROM mandates m JOIN accounts a USING (account_id) "
            "WHERE a.tier = 'KEY' AND m.year = 2025 AND m.objectives IS NOT NULL "
            "ORDER BY m.account_id LIMIT 2"
        ).fetchall()
        assert rows
        for account_id, *texts in rows:
            data = collect_account_data(con, account_id, 2025, scope=scope)
            xml = deck_xml(build_account_deck(con, account_id, 2025, scope=scope))
            for text in texts:
                if text:
                    assert text not in xml, text
            assert fmt_eur(data.totals["cost"], "de", 0) not in xml
            assert fmt_eur(data.totals["cost"], "de") not in xml
            for word in RISK_WORDS:
                assert word not in xml
    finally:
        con.close()


def test_internal_deck_is_labelled_and_holds_mandate_and_cost(small_db, tmp_path):
    out = tmp_path / "intern.pptx"
    build_account_deck(small_db, "K1", 2025, scope=Scope.everything(), internal=True, out=out)
    slides = list(Presentation(str(out)).slides)
    assert slide_title(slides[-2]) == "Intern: Key-Account-Auftrag"
    assert slide_title(slides[-1]) == "Intern: Kosten und Risiko"
    assert "Dr. Eva Schulz, Einkaufsleiterin" in slide_texts(slides[-2])
    assert "4.400\u00a0€" in slide_texts(slides[-1])
    for slide in slides:  # every slide says "intern", in its footer or the title slide's kicker
        assert any("Intern" in x or "INTERN" in x for x in slide_texts(slide))
    assert deck_filename("K1", 2025, internal=True) == "Leistungsbilanz_K1_2025_intern.pptx"
    assert deck_filename("K1", 2025) == "Leistungsbilanz_K1_2025.pptx"


def test_command_line_internal_deck(small_db, db_path, tmp_path):
    from kam_analytics.cli import main

    small_db.close()
    out = tmp_path / "intern.pptx"
    args = ["deck", "--db", str(db_path), "--account", "K1", "--year", "2025", "--out", str(out)]
    assert main([*args, "--internal"]) == 0
    assert len(Presentation(str(out)).slides) == 12
