"""Exports that real systems produce: table detection, derived ids, service names, no tier."""

import duckdb
import pytest

from kam_analytics.ingest.mapping import detect_table
from tests.conftest import run_cli

SUPERSTORE = [
    "Row ID", "Order ID", "Order Date", "Ship Date", "Ship Mode", "Customer ID",
    "Customer Name", "Segment", "Country", "City", "State", "Postal Code", "Region",
    "Product ID", "Category", "Sub-Category", "Product Name", "Sales", "Quantity",
    "Discount", "Profit",
]  # fmt: skip


def run_import(path, db):
    return run_cli("import", path, "--db", db)


def test_order_lines_with_customer_columns_are_orders_not_accounts():
    table, scores = detect_table(SUPERSTORE)
    assert table == "orders"
    assert scores["orders"] > scores["accounts"]


def test_plain_customer_list_is_accounts():
    assert detect_table(["Kundennummer", "Name", "Kundengruppe", "Ort"])[0] == "accounts"


def test_service_export_without_id_gets_content_ids_and_codes_from_names(tmp_path):
    path = tmp_path / "leistungen.csv"
    path.write_text(
        "Kunde;Datum;Leistung;Menge;Kosten;Listenwert;Berechnet\n"
        "100;01.05.2025;Trainingsmaßnahme beim Kunden;1;900;1.800,00;0\n"
        "101;01.06.2025;INNOVATION_WS;1;2400;4.500,00;0\n",
        encoding="cp1252",
    )
    db = tmp_path / "kam.duckdb"
    first = run_import(path, db)
    assert first.returncode == 0, first.stderr
    assert "-> service_events" in first.stdout
    assert "2 inserted" in first.stdout
    assert "no event_id column" in first.stdout
    con = duckdb.connect(str(db))
    rows = con.execute(
        "SELECT service_code, list_value FROM service_events ORDER BY date"
    ).fetchall()
    ids = [r[0] for r in con.execute("SELECT event_id FROM service_events").fetchall()]
    con.close()
    assert [(code, float(v)) for code, v in rows] == [
        ("TRAINING", 1800.0),
        ("INNOVATION_WS", 4500.0),
    ]
    assert all(i.startswith("H") and len(i) == 17 for i in ids)
    # The same rows in another file (other name, same content) update nothing and add nothing.
    again = tmp_path / "leistungen_kopie.csv"
    again.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    second = run_import(again, db)
    assert second.returncode == 0, second.stderr
    assert "0 inserted" in second.stdout and "2 unchanged" in second.stdout


def test_accounts_without_tier_import_with_a_warning(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("CustomerID,CompanyName,City\nALFKI,Alfreds Futterkiste,Berlin\n")
    db = tmp_path / "kam.duckdb"
    result = run_import(path, db)
    assert result.returncode == 0, result.stderr
    assert "no tier column" in result.stdout
    con = duckdb.connect(str(db))
    assert con.execute("SELECT account_id, name, tier FROM accounts").fetchall() == [
        ("ALFKI", "Alfreds Futterkiste", None)
    ]
    con.close()


def test_orders_of_unknown_accounts_get_placeholders_until_undone(tmp_path):
    path = tmp_path / "auftraege.csv"
    path.write_text(
        "Auftrag;Kunde;Datum;Umsatz\nA1;0815;01.03.2025;1.000,00\nA2;0815;02.03.2025;500,00\n"
        "A3;4711;03.03.2025;250,00\n",
        encoding="utf-8",
    )
    db = tmp_path / "kam.duckdb"
    result = run_import(path, db)
    assert result.returncode == 0, result.stderr
    assert "2 placeholder account(s) created" in result.stdout
    report = run_cli("report", "services", "--db", db)
    assert [line.split(",")[:3] for line in report.stdout.splitlines()[1:]] == [
        ["4711", "4711", ""],
        ["815", "815", ""],
    ]
    undo = run_cli("imports", "undo", 1, "--db", db)
    assert undo.returncode == 0, undo.stderr
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM accounts").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM orders").fetchall() == [(0,)]
    con.close()


def test_survey_tool_export_is_feedback_of_kind_survey(tmp_path):
    path = tmp_path / "nps.csv"
    path.write_text(
        "Survey ID,Company ID,Submission Date,NPS Score,Feedback\n"
        "1,0815,2025-03-05,9,Great service\n2,0815,2025-06-03,4,Late deliveries\n"
    )
    db = tmp_path / "kam.duckdb"
    result = run_import(path, db)
    assert result.returncode == 0, result.stderr
    assert "-> feedback" in result.stdout and "imported as a survey" in result.stdout
    con = duckdb.connect(str(db))
    rows = con.execute(
        "SELECT feedback_id, account_id, score, kind, comment FROM feedback ORDER BY 1"
    ).fetchall()
    con.close()
    assert rows == [
        ("1", "815", 9.0, "survey", "Great service"),
        ("2", "815", 4.0, "survey", "Late deliveries"),
    ]


REAL_HEADERS = [
    # CRM pipeline (Maven "CRM Sales Opportunities"): names as ids, close_value as revenue.
    (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value",
        "orders",
        {
            "order_id": "opportunity_id",
            "account_id": "account",
            "order_date": "close_date",
            "net_revenue": "close_value",
        },
    ),
    ("account,sector,year_established,revenue,employees", "accounts", {"account_id": "account"}),
    ("sales_agent,manager,regional_office", "kams", {"kam_id": "sales_agent"}),
    # Superstore
    (
        "Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Sales,Quantity",
        "orders",
        {"order_id": "Order ID", "account_id": "Customer ID", "net_revenue": "Sales"},
    ),
    # Online Retail: value = unit price x quantity
    (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
        "orders",
        {"order_id": "InvoiceNo", "unit_price": "UnitPrice", "order_date": "InvoiceDate"},
    ),
    # German ERP styles
    (
        "Belegnummer;Kundennummer;Belegdatum;Umsatz;Währung",
        "orders",
        {"order_id": "Belegnummer", "account_id": "Kundennummer", "order_date": "Belegdatum"},
    ),
    (
        "Lieferschein;Debitor;Warenausgang;Versandart;Frachtkosten",
        "shipments",
        {"ship_mode": "Versandart", "freight_cost": "Frachtkosten"},
    ),
]


@pytest.mark.parametrize(("header", "table", "expected"), REAL_HEADERS)
def test_real_export_headers_map_without_a_profile(header, table, expected):
    from kam_analytics.ingest.mapping import auto_mapping

    headers = header.split(";" if ";" in header else ",")
    assert detect_table(headers)[0] == table
    columns = auto_mapping(headers, table).columns
    assert {k: columns.get(k) for k in expected} == expected
