"""Write the silent-error corpus in tests/data/quirks (run once; the files are committed).

    .venv/bin/python tests/data/make_quirks.py

One file (or pair) per class of silent error of issue 12; each is either imported exactly or
refused with exit 2 naming file, row and column (tests/test_ingest_quirks.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent / "quirks"
FIXED = dt.datetime(2026, 1, 2, 8, 0, 0)


def _save(wb, name: str) -> None:
    wb.properties.created = wb.properties.modified = FIXED
    wb.save(HERE / name)


def _csv(name: str, lines: list[str], encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")


def late_text_amount_xlsx() -> None:
    """1,200 order rows of numbers; in row 1,102 the amount is text "1.234,56 €", in row
    1,103 the cost is text "99,50" and in row 1,152 the date is text "15.03.2025" - past the
    1,000 rows fastexcel samples to infer a column's type."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Aufträge"
    ws.append(["Auftrag", "Kunde", "Datum", "Umsatz", "Wareneinsatz"])
    for i in range(1200):
        amount, cost, day = 10, 4, dt.datetime(2025, 1, 1) + dt.timedelta(days=i % 300)
        if i == 1100:
            amount = "1.234,56 €"
        if i == 1101:
            cost = "99,50"
        if i == 1150:
            day = "15.03.2025"
        ws.append([f"O{i:04d}", "K1" if i % 2 == 0 else "K2", day, amount, cost])
    _save(wb, "late_text_amount.xlsx")


def totals() -> None:
    """Orders with a real total row (amounts = sums) at the bottom; accounts whose last
    customer is called "Total Deutschland GmbH"; shipments whose last remark starts with
    "Gesamt"."""
    _csv(
        "orders_with_total.csv",
        [
            "Auftrag;Kunde;Datum;Umsatz",
            "A1;K1;01.02.2025;100,10",
            "A2;K2;02.02.2025;200,20",
            "Summe;;;300,30",
        ],
    )
    _csv(
        "accounts_total_customer.csv",
        [
            "Kundennummer;Kundenname;Kundenstufe",
            "K1;Alpha GmbH;A",
            "K9;Total Deutschland GmbH;KEY",
        ],
    )
    _csv(
        "shipments_total_remark.csv",
        [
            "Lieferschein;Kunde;Versanddatum;Versandart;Frachtkosten;Bemerkung",
            "L1;K1;01.02.2025;Standard;10,00;",
            "L2;K1;02.02.2025;Express;25,00;Gesamt 2 Paletten",
        ],
    )


def services() -> None:
    """Service exports without amounts (values from the catalogue x quantity), with a unit
    price, and one re-exported with a corrected row (no event id)."""
    _csv(
        "services_no_amounts.csv",
        [
            "Datum;Kunde;Leistung;Menge",
            "03.03.2025;K1;Trainingsmaßnahme beim Kunden;2",
            "04.03.2025;K1;Konzernweites Reporting;1",
            "05.03.2025;K2;Individuelle Verpackung / Produktpräsentation;3",
        ],
    )
    _csv(
        "services_unit_price.csv",
        [
            "Datum;Kunde;Leistung;Menge;Einzelpreis;Berechnet",
            "03.03.2025;K1;TRAINING;2;1.750,00;0",
            "04.03.2025;K2;CUSTOM_PACKAGING;4;612,50;2.450,00",
        ],
    )
    head = "Datum;Kunde;Leistung;Menge;Wert;Berechnet"
    _csv(
        "services_v1.csv",
        [
            head,
            "03.03.2025;K1;TRAINING;1;1800;0",
            "03.03.2025;K1;TRAINING;1;1800;0",
            "04.03.2025;K2;TRAINING;1;1800;1800",
        ],
    )
    # Re-export: the second training of K1 on 3 March was billed after all.
    _csv(
        "services_v2.csv",
        [
            head,
            "03.03.2025;K1;TRAINING;1;1800;0",
            "03.03.2025;K1;TRAINING;1;1800;1800",
            "04.03.2025;K2;TRAINING;1;1800;1800",
        ],
    )


def identical_lines() -> None:
    """Two identical order lines without a line number."""
    _csv(
        "orders_identical_lines.csv",
        [
            "Auftrag;Kunde;Datum;Umsatz",
            "A1;K1;01.02.2025;100,00",
            "A2;K1;02.02.2025;50,00",
            "A2;K1;02.02.2025;50,00",
        ],
    )


def currencies() -> None:
    """EUR, CHF and USD in one export; one CHF amount written "CHF 1'234.50" without a
    currency in the currency column."""
    _csv(
        "orders_currencies.csv",
        [
            "Auftrag;Kunde;Datum;Umsatz;Währung",
            "A1;K1;01.02.2025;100,00;EUR",
            "A2;K1;02.02.2025;95,00;CHF",
            "A3;K2;03.02.2025;110,00;USD",
            "A4;K2;04.02.2025;CHF 1'234.50;",
        ],
    )


def padded_ids() -> None:
    """Accounts without leading zeros; shipments with SAP-padded customer numbers."""
    _csv(
        "accounts_plain_ids.csv",
        ["Kundennummer;Kundenname;Kundenstufe", "10001;Alpha GmbH;KEY", "10002;Beta AG;A"],
    )
    _csv(
        "shipments_padded_ids.csv",
        [
            "Lieferung;Debitor;WA-Datum;Versandart;Frachtkosten",
            "80001;0000010001;01.02.2025;express;40,00",
            "80002;0000010002;02.02.2025;standard;12,00",
        ],
    )


def dates() -> None:
    """Slashed dates: every value ambiguous; month first (12/31/2025 tells)."""
    _csv(
        "orders_dates_ambiguous.csv",
        [
            "Order ID,Customer ID,Order Date,Sales",
            "A1,K1,01/02/2025,10.00",
            "A2,K1,03/04/2025,20.00",
        ],
    )
    _csv(
        "orders_dates_us.csv",
        [
            "Order ID,Customer ID,Order Date,Sales",
            "A1,K1,01/02/2025,10.00",
            "A2,K1,12/31/2025,20.00",
        ],
    )


def mixed_encoding() -> None:
    """UTF-8 with one row typed in Windows-1252."""
    lines = ["Kundennummer;Kundenname;Ort", "K1;Müller GmbH;München", "K2;Bäcker AG;Köln"]
    data = (lines[0] + "\r\n" + lines[1] + "\r\n").encode("utf-8") + (lines[2] + "\r\n").encode(
        "cp1252"
    )
    (HERE / "accounts_mixed_encoding.csv").write_bytes(data)


def hidden_rows_xlsx() -> None:
    """Shipments with row 3 hidden and row 4 filtered out by an autofilter."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["shipment_id", "account_id", "ship_date", "ship_mode", "freight_cost"])
    ws.append(["S1", "K1", dt.datetime(2025, 3, 1), "express", 40])
    ws.append(["S2", "K1", dt.datetime(2025, 3, 2), "express", 30])
    ws.append(["S3", "K2", dt.datetime(2025, 3, 3), "standard", 10])
    ws.row_dimensions[3].hidden = True
    ws.row_dimensions[4].hidden = True
    ws.auto_filter.ref = "A1:E4"
    _save(wb, "shipments_hidden_rows.xlsx")


def cents_csv() -> None:
    """Amounts with a third decimal: 177.225 + 1.115 = 178.34 (Excel's SUM); rounded one by
    one through binary floats they give 177.22 + 1.11 = 178.33."""
    _csv(
        "orders_cents.csv",
        [
            "Order ID,Customer ID,Order Date,Sales",
            "A1,K1,2025-02-01,177.225",
            "A2,K1,2025-02-02,1.115",
            "A3,K2,2025-02-04,0.015",
        ],
    )


def header_only() -> None:
    """A header and no rows."""
    _csv("orders_header_only.csv", ["Auftrag;Kunde;Datum;Umsatz"])


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    late_text_amount_xlsx()
    totals()
    services()
    identical_lines()
    currencies()
    padded_ids()
    dates()
    mixed_encoding()
    hidden_rows_xlsx()
    cents_csv()
    header_only()
