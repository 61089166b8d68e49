"""The corpus in tests/data: one file per quirk and per blocking error, exact results."""

import datetime as dt
import json

import pytest

from kam_analytics.ingest.pipeline import import_files, plan_files
from tests.conftest import DATA, run_cli

TODAY = dt.date(2026, 1, 15)


def _rows(con, table):
    return con.execute(f"SELECT * EXCLUDE (import_id) FROM {table} ORDER BY ALL").df()


def _problems(plan, severity=None):
    return [
        (p.reason, p.row, p.column, p.value, p.message)
        for p in plan.all_problems
        if severity is None or p.severity == severity
    ]


def test_sap_title_rows_trailing_minus_serial_dates_total_row(con, tmp_path):
    # Shipping conditions "01"/"02" are codes: which one is express is never guessed.
    [plan] = plan_files(con, [DATA / "shipments_sap_title_total.xlsx"], today=TODAY)
    assert [
        (p.reason, p.row, p.column, p.value) for p in plan.all_problems if p.severity == "error"
    ] == [
        ("unknown_value", 5, "Versandbedingung", "02"),
        ("unknown_value", 6, "Versandbedingung", "01"),
    ]
    # A partial profile names only the value mapping; the columns come from the synonyms.
    profile = tmp_path / "sap.toml"
    profile.write_text(
        'table = "shipments"\n[values.ship_mode]\n"01" = "standard"\n"02" = "express"\n'
    )
    [res] = import_files(
        con, [DATA / "shipments_sap_title_total.xlsx"], profile=profile, today=TODAY
    )
    assert (res.table, res.sheet, res.inserted) == ("shipments", "Lieferungen", 3)
    rows = con.execute(
        "SELECT shipment_id, account_id, ship_date::VARCHAR, ship_mode, freight_cost::DOUBLE, "
        "freight_charged::DOUBLE, source_row FROM shipments ORDER BY shipment_id"
    ).fetchall()
    assert rows == [
        ("0080001", "10001", "2025-12-01", "express", 1234.56, 0.0, 5),
        ("0080002", "10002", "2025-12-31", "standard", 12.5, 12.5, 6),
        ("0080003", "10001", "2025-12-15", "express", -99.9, -5.0, 7),
    ]
    total = [p for p in res.problems if p.reason == "total_row_dropped"]
    assert [(p.row, p.value, p.message) for p in total] == [
        (
            9,
            "Summe",
            "Total row at the bottom was not imported (its amounts equal the sums of the rows "
            "above)",
        )
    ]


def test_german_semicolon_csv_cp1252(con):
    [res] = import_files(con, [DATA / "orders_de_semikolon_cp1252.csv"], today=TODAY)
    assert res.table == "orders"
    rows = con.execute(
        "SELECT order_id, line_no, account_id, order_date::VARCHAR, net_revenue::DOUBLE, "
        "cost_of_goods::DOUBLE, currency FROM orders ORDER BY order_id"
    ).fetchall()
    assert rows == [
        ("A-1", "1", "815", "2025-12-31", 1234.56, 800.0, "EUR"),
        ("A-2", "1", "816", "2025-11-30", -50.0, None, "EUR"),
        ("A-3", "1", "815", "2025-11-30", 2000.0, 1500.5, "EUR"),
    ]


def test_utf8_bom_csv_with_tier_synonyms(con):
    import_files(con, [DATA / "accounts_utf8_bom.csv"], today=TODAY)
    rows = con.execute(
        "SELECT account_id, name, tier, city, customer_since::VARCHAR, status FROM accounts "
        "ORDER BY account_id"
    ).fetchall()
    assert rows == [
        ("100", "Müller, Sohn & Co.", "KEY", "München", "2018-05-01", "active"),
        ("101", "Schmidt AG", "KEY", "Hamburg", "2020-02-01", "active"),
        ("102", "Weber GmbH", "A", "Berlin", None, "lost"),
    ]


def test_tab_separated_txt_with_billing_modes(con):
    import_files(con, [DATA / "service_events_tab.txt"], today=TODAY)
    rows = con.execute(
        "SELECT event_id, account_id, date::VARCHAR, service_code, quantity, list_value::DOUBLE,"
        " billed_amount::DOUBLE, billing_mode FROM service_events ORDER BY event_id"
    ).fetchall()
    assert rows == [
        ("E1", "815", "2025-03-03", "TRAINING", 1.0, 1200.0, 0.0, "waived"),
        ("E2", "816", "2025-03-04", "CUSTOM_PACKAGING", 2.0, 300.0, 300.0, "billed"),
        ("E3", "815", "2025-03-05", "INNOVATION_WS", 1.0, 2500.0, 0.0, "silent"),
    ]


def test_legacy_xls(con):
    [res] = import_files(con, [DATA / "accounts_legacy.xls"], today=TODAY)
    assert (res.table, res.sheet, res.inserted) == ("accounts", "Kunden", 2)
    rows = con.execute(
        "SELECT account_id, name, tier, customer_since::VARCHAR, source_row FROM accounts "
        "ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("42", "Gamma KG", "KEY", "2019-04-01", 2),
        ("43", "Delta GmbH", "C", "2021-01-15", 3),
    ]


def test_multi_sheet_auto_and_chosen(con):
    [res] = import_files(con, [DATA / "multi_sheet.xlsx"], today=TODAY)
    assert (res.sheet, res.table, res.inserted) == ("Lieferungen", "shipments", 2)
    # The shipments' two unknown accounts got placeholders; the accounts sheet fills them in.
    assert res.placeholders == 2
    [res] = import_files(con, [DATA / "multi_sheet.xlsx"], sheet="Kunden", today=TODAY)
    assert (res.sheet, res.table, res.inserted, res.updated) == ("Kunden", "accounts", 0, 2)
    assert con.execute("SELECT account_id, tier, kam_id FROM accounts ORDER BY 1").fetchall() == [
        ("K1", "KEY", "KAM1"),
        ("K2", "B", "KAM1"),
    ]


def test_formula_cells_and_profile_with_computed_column(con):
    [res] = import_files(
        con, [DATA / "formulas.xlsx"], profile=DATA / "formulas_profile.toml", today=TODAY
    )
    assert res.profile == "formulas_profile"
    rows = con.execute(
        "SELECT shipment_id, ship_mode, freight_cost::DOUBLE, freight_charged::DOUBLE "
        "FROM shipments ORDER BY 1"
    ).fetchall()
    assert rows == [("L-1", "express", 104.5, 0.0), ("L-2", "standard", 21.25, 0.0)]
    # The cached formula values are read too (canonical header maps by synonym).
    [plan] = plan_files(con, [DATA / "formulas.xlsx"], table="shipments")
    assert plan.prepared.frame["freight_cost"].tolist() == [104.5, 21.25]


def test_superstore_profile_cost_of_goods_and_order_lines(con):
    from kam_analytics.exchange_rates import upsert_rate

    source = [DATA / "orders_superstore.csv"]
    profile = DATA / "orders_superstore.toml"
    # USD without a rate: refused, row and column named, nothing summed as euros.
    [plan] = plan_files(con, source, profile=profile, today=TODAY)
    assert [(p.reason, p.row, p.column, p.value) for p in plan.all_problems][:2] == [
        ("unknown_rate", 2, "Sales", "USD"),
        ("unknown_rate", 3, "Sales", "USD"),
    ]
    upsert_rate(con, "USD", 2025, 0, 1.25)
    import_files(con, source, profile=profile, today=TODAY)
    rows = con.execute(
        "SELECT order_id, line_no, order_date::VARCHAR, net_revenue::DOUBLE, "
        "cost_of_goods::DOUBLE, currency, fx_rate::DOUBLE FROM orders ORDER BY 1, 2"
    ).fetchall()
    # Stored in EUR: USD / 1.25, to 4 decimals (957.5775 - -383.031 = 1340.6085 USD); the
    # line number is the export's Row ID.
    assert rows == [
        ("CA-2025-138688", "3", "2025-06-12", 11.696, 6.1989, "USD", 1.25),
        ("CA-2025-152156", "1", "2025-11-08", 209.568, 176.0371, "USD", 1.25),
        ("CA-2025-152156", "2", "2025-11-08", 585.552, 409.8864, "USD", 1.25),
        ("US-2025-108966", "4", "2025-10-11", 766.062, 1072.4868, "USD", 1.25),
    ]


BLOCKING = [
    (
        "corrupt.xlsx",
        [
            (
                "unreadable_file",
                None,
                None,
                None,
                "The file cannot be read as an Excel workbook (damaged or not a spreadsheet)",
            )
        ],
    ),
    (
        "password_protected.xlsx",
        [("password_protected", None, None, None, "The workbook is password-protected")],
    ),
    (
        "err_missing_column.csv",
        [("missing_column", None, "ship_date", None, "Required column ship_date is missing")],
    ),
    ("err_bad_date.csv", [("unparseable_date", 3, "ship_date", "32.13.2025", "Not a date")]),
    ("err_bad_amount.csv", [("unparseable_amount", 2, "freight_cost", "zwölf", "Not an amount")]),
    (
        "err_missing_key.csv",
        [("missing_key", 3, "shipment_id", None, "The key column Delivery note number is empty")],
    ),
    (
        "err_duplicate_key.csv",
        [
            (
                "conflicting_duplicate_key",
                3,
                "freight_cost",
                "S1",
                "Key S1 appears more than once with different values (first in row 2; "
                "differing: freight_cost)",
            )
        ],
    ),
    (
        "err_unknown_ship_mode.csv",
        [("unknown_value", 2, "ship_mode", "Brieftaube", "Unknown Shipping mode")],
    ),
    ("err_unknown_tier.csv", [("unknown_value", 2, "tier", "Platin", "Unknown Customer tier")]),
]


@pytest.mark.parametrize(("name", "expected"), BLOCKING)
def test_blocking_errors_exact(con, name, expected):
    [plan] = plan_files(con, [DATA / name], today=TODAY)
    assert plan.blocked
    assert _problems(plan, "error") == expected


def test_warnings_exact_and_identical_duplicate_kept_once(con):
    [res] = import_files(con, [DATA / "warn_shipments.csv"], today=TODAY)
    assert (res.inserted, res.rejected) == (3, 1)
    assert [(p.reason, p.row, p.value, p.message) for p in res.problems] == [
        ("duplicate_row", 3, "S1", "Identical duplicate of row 2; imported once"),
        ("negative_freight", 4, "-5", "Negative Freight cost"),
        ("future_date", 5, "2099-02-01", "Ship date lies in the future"),
        (
            "orphan_account",
            2,
            "K1",
            "Account is not in the accounts table (2 rows, first in row 2)",
        ),
        ("orphan_account", 4, "NOPE", "Account is not in the accounts table"),
    ]
    assert all(p.severity == "warning" for p in res.problems)


def test_cli_exit_codes_and_report(db_path):
    bad = run_cli(
        "import", DATA / "err_bad_date.csv", DATA / "accounts_utf8_bom.csv", "--db", db_path
    )
    assert bad.returncode == 2
    assert (
        "err_bad_date.csv, row 3, column 'ship_date': Not a date (value '32.13.2025')" in bad.stderr
    )
    listed = run_cli("imports", "list", "--db", db_path, "--format", "json")
    assert json.loads(listed.stdout) == []  # nothing was written
    dry = run_cli("import", DATA / "accounts_utf8_bom.csv", "--db", db_path, "--dry-run")
    assert dry.returncode == 0
    assert "3 inserted, 0 updated, 0 unchanged, 0 rejected" in dry.stdout
    ok = run_cli(
        "import", DATA / "accounts_utf8_bom.csv", DATA / "multi_sheet.xlsx", "--db", db_path
    )
    assert ok.returncode == 0, ok.stderr
    assert "accounts_utf8_bom.csv -> accounts (import 1): 3 inserted" in ok.stdout
    again = run_cli("import", DATA / "accounts_utf8_bom.csv", "--db", db_path)
    assert "already imported as import 1 (same content) - nothing to do" in again.stdout
    listed = json.loads(run_cli("imports", "list", "--db", db_path, "--format", "json").stdout)
    assert [(r["import_id"], r["table_name"], r["rows_inserted"], r["status"]) for r in listed] == [
        (2, "shipments", 2, "done"),
        (1, "accounts", 3, "done"),
    ]
    undo = run_cli("imports", "undo", "2", "--db", db_path)
    assert undo.returncode == 0
    assert "import 2 undone: 2 inserted row(s) deleted, 0 changed row(s) restored" in undo.stdout
    assert run_cli("imports", "undo", "2", "--db", db_path).returncode == 2
    assert run_cli("imports", "undo", "99", "--db", db_path).returncode == 2
