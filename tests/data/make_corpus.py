"""Write the import test corpus (run once; the generated files are committed).

    .venv/bin/python tests/data/make_corpus.py

Each file holds one quirk of real CRM/ERP exports or one blocking error; the expected results
are asserted in tests/test_ingest_corpus.py.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
import xlsxwriter
import xlwt

HERE = Path(__file__).resolve().parent


FIXED = dt.datetime(2026, 1, 2, 8, 0, 0)


def _save(wb, name: str) -> None:
    """Save an openpyxl workbook with fixed timestamps, so regenerating changes nothing."""
    wb.properties.created = wb.properties.modified = FIXED
    wb.save(HERE / name)


def _csv(name: str, lines: list[str], encoding: str = "utf-8", newline: str = "\r\n") -> None:
    (HERE / name).write_bytes(newline.join(lines).encode(encoding) + newline.encode())


def sap_shipments_xlsx() -> None:
    """SAP-like shipments: title rows, text IDs with leading zeros, trailing minus, mixed date
    cells (date cell, serial number, German text), total row at the bottom."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lieferungen"
    ws["A1"] = "Lieferungen Dezember 2025"
    ws["A2"] = "Mandant 100, erstellt am 02.01.2026"
    ws.append([])
    ws.append(
        [
            "Lieferschein-Nr.",
            "Debitor",
            "Warenausgang",
            "Versandbedingung",
            "Frachtkosten",
            "Fracht berechnet",
            "Werk",
        ]
    )
    ws.append(["0080001", 10001, dt.datetime(2025, 12, 1), "02", "1.234,56", 0, "W1"])
    ws.append(["0080002", 10002.0, 46022, "01", 12.5, "12,50", "W1"])  # 46022 = 31.12.2025
    ws.append(["0080003", "10001", "15.12.2025", "Eilzustellung", "99,90-", "(5,00)", "W2"])
    ws.append([None, None, None, None, None, None, None])
    ws.append(["Summe", None, None, None, "1.147,16", None, None])
    _save(wb, "shipments_sap_title_total.xlsx")


def multi_sheet_xlsx() -> None:
    """A workbook with a notes sheet, a shipments sheet and an accounts sheet."""
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "Info"
    info["A1"] = "Export aus dem ERP"
    info["A2"] = "Bitte nicht ändern"
    ship = wb.create_sheet("Lieferungen")
    ship.append(["shipment_id", "account_id", "ship_date", "ship_mode", "freight_cost"])
    ship.append(["S1", "K1", dt.date(2025, 3, 1), "express", 40])
    ship.append(["S2", "K2", dt.date(2025, 3, 2), "standard", 10])
    acc = wb.create_sheet("Kunden")
    acc.append(["Kundennummer", "Kundenname", "Kundenstufe", "Betreuer"])
    acc.append(["K1", "Alpha GmbH", "Key Account", "KAM1"])
    acc.append(["K2", "Beta AG", "B", "KAM1"])
    _save(wb, "multi_sheet.xlsx")


def formulas_xlsx() -> None:
    """Formula cells with cached values (xlsxwriter stores the value we give it)."""
    wb = xlsxwriter.Workbook(str(HERE / "formulas.xlsx"))
    wb.set_properties({"created": FIXED})
    ws = wb.add_worksheet("Lieferungen")
    ws.write_row(
        0,
        0,
        [
            "Lieferschein-Nr.",
            "Debitor",
            "Versanddatum",
            "Versandart",
            "Fracht netto",
            "Mautzuschlag",
            "Frachtkosten",
        ],
    )
    datef = wb.add_format({"num_format": "dd.mm.yyyy"})
    rows = [
        ("L-1", "K1", dt.date(2025, 5, 2), "Express", 100.0, 4.5),
        ("L-2", "K2", dt.date(2025, 5, 3), "Standard", 20.0, 1.25),
    ]
    for i, (sid, acc, day, mode, net, toll) in enumerate(rows, start=1):
        ws.write_string(i, 0, sid)
        ws.write_string(i, 1, acc)
        ws.write_datetime(i, 2, dt.datetime.combine(day, dt.time()), datef)
        ws.write_string(i, 3, mode)
        ws.write_number(i, 4, net)
        ws.write_number(i, 5, toll)
        ws.write_formula(i, 6, f"=E{i + 1}+F{i + 1}", None, net + toll)
    wb.close()


def legacy_xls() -> None:
    """An old BIFF .xls with an accounts export."""
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Kunden")
    for c, h in enumerate(["Kunden-Nr.", "Firma", "Kundenstufe", "Ort", "Kunde seit"]):
        ws.write(0, c, h)
    datef = xlwt.easyxf(num_format_str="DD.MM.YYYY")
    data = [
        ("00042", "Gamma KG", "Schlüsselkunde", "Köln", dt.date(2019, 4, 1)),
        ("00043", "Delta GmbH", "C", "Bonn", dt.date(2021, 1, 15)),
    ]
    for r, row in enumerate(data, start=1):
        for c, v in enumerate(row):
            ws.write(r, c, v, datef) if isinstance(v, dt.date) else ws.write(r, c, v)
    wb.save(str(HERE / "accounts_legacy.xls"))


def csv_files() -> None:
    """German semicolon CSV in Windows-1252, UTF-8 BOM CSV, tab-separated text."""
    _csv(
        "orders_de_semikolon_cp1252.csv",
        [
            "Auftragsnummer;Kundennummer;Auftragsdatum;Umsatz;Wareneinsatz;Währung;Bemerkung",
            "A-1;0815;31.12.2025;1.234,56;800,00;EUR;Größe ändern",
            "A-2;0816;2025-11-30;-50,00;NULL;EUR;Gutschrift",
            "A-3;0815;45991;2.000;1.500,5;EUR;-",
        ],
        encoding="cp1252",
    )
    _csv(
        "accounts_utf8_bom.csv",
        [
            "Customer No.,Customer Name,Tier,City,Customer Since,Status",
            '00100,"Müller, Sohn & Co.",Key Account,München,2018-05-01,active',
            "00101,Schmidt AG,Schlüsselkunde,Hamburg,01.02.2020,aktiv",
            "00102,Weber GmbH,A,Berlin,,lost",
        ],
        encoding="utf-8-sig",
    )
    _csv(
        "service_events_tab.txt",
        [
            "Vorgang\tKundennummer\tLeistungsdatum\tLeistungscode\tMenge\tKosten\tListenwert"
            "\tBerechnet\tAbrechnung",
            "E1\t0815\t03.03.2025\tTRAINING\t1\t400,00\t1.200,00\t0\terlassen",
            "E2\t0816\t04.03.2025\tCUSTOM_PACKAGING\t2\t150,00\t300,00\t300,00\tberechnet",
            "E3\t0815\t05.03.2025\tINNOVATION_WS\t1\t900,00\t2.500,00\t0\tkostenlos",
        ],
    )
    _csv(
        "orders_superstore.csv",
        [
            "Row ID,Order ID,Order Date,Customer ID,Customer Name,Sales,Quantity,Discount,Profit",
            "1,CA-2025-152156,11/8/2025,CG-12520,Claire Gute,261.96,2,0,41.9136",
            "2,CA-2025-152156,11/8/2025,CG-12520,Claire Gute,731.94,3,0,219.582",
            "3,CA-2025-138688,6/12/2025,DV-13045,Darrin Van Huff,14.62,2,0,6.8714",
            "4,US-2025-108966,10/11/2025,SO-20335,Sean O'Donnell,957.5775,5,0.45,-383.031",
        ],
        newline="\n",
    )
    (HERE / "orders_superstore.toml").write_text(
        'table = "orders"\n\n[columns]\norder_id = "Order ID"\naccount_id = "Customer ID"\n'
        'order_date = "Order Date"\nnet_revenue = "Sales"\n\n[defaults]\ncurrency = "USD"\n\n'
        '[computed]\ncost_of_goods = "`Sales` - `Profit`"\n\n[read]\ndecimal = "."\n'
        'date_format = "%m/%d/%Y"\n',
        encoding="utf-8",
    )
    (HERE / "formulas_profile.toml").write_text(
        'table = "shipments"\n\n[columns]\nshipment_id = "Lieferschein-Nr."\n'
        'account_id = "Debitor"\nship_date = "Versanddatum"\nship_mode = "Versandart"\n\n'
        '[values.ship_mode]\n"Express" = "express"\n"Standard" = "standard"\n\n'
        "[defaults]\nfreight_charged = 0\n\n[computed]\n"
        'freight_cost = "`Fracht netto` + `Mautzuschlag`"\n\n[read]\nsheet = "Lieferungen"\n',
        encoding="utf-8",
    )


def error_files() -> None:
    """One file per blocking error and one with every warning."""
    head = "shipment_id;account_id;ship_date;ship_mode;freight_cost"
    _csv("err_missing_column.csv", ["shipment_id;account_id;ship_mode", "S1;K1;express"])
    _csv("err_bad_date.csv", [head, "S1;K1;01.02.2025;express;1", "S2;K1;32.13.2025;express;1"])
    _csv("err_bad_amount.csv", [head, "S1;K1;01.02.2025;express;zwölf"])
    _csv("err_missing_key.csv", [head, "S1;K1;01.02.2025;express;1", ";K1;02.02.2025;express;2"])
    _csv(
        "err_duplicate_key.csv", [head, "S1;K1;01.02.2025;express;1", "S1;K1;01.02.2025;express;2"]
    )
    _csv("err_unknown_ship_mode.csv", [head, "S1;K1;01.02.2025;Brieftaube;1"])
    _csv("err_unknown_tier.csv", ["account_id;name;tier", "K1;Alpha;Platin"])
    _csv(
        "warn_shipments.csv",
        [
            head,
            "S1;K1;01.02.2025;express;10,00",
            "S1;K1;01.02.2025;express;10,00",
            "S2;NOPE;01.02.2025;standard;-5,00",
            "S3;K1;01.02.2099;standard;1,00",
        ],
    )
    random.seed(7)
    (HERE / "corrupt.xlsx").write_bytes(bytes(random.randrange(256) for _ in range(2048)))
    # An encrypted Office file is an OLE compound file holding an "EncryptedPackage" stream;
    # this minimal stand-in has the OLE signature and that stream name (no real encryption).
    ole = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    ole += "EncryptedPackage".encode("utf-16-le") + bytes(512)
    (HERE / "password_protected.xlsx").write_bytes(bytes(ole))


if __name__ == "__main__":
    sap_shipments_xlsx()
    multi_sheet_xlsx()
    formulas_xlsx()
    legacy_xls()
    csv_files()
    error_files()
    print("corpus written to", HERE)
