"""The silent-error corpus (tests/data/quirks, issue 12): each file imported exactly, to the
cent, or refused with exit 2 and a message naming file, row and column. In-process CLI."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal

import duckdb
import pytest

from kam_analytics.cli import main
from tests.conftest import DATA

Q = DATA / "quirks"


def cli(*args) -> tuple[int, str, str]:
    """`python -m kam_analytics ARGS` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def rows(db, sql):
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "kam.duckdb"


def test_text_amounts_and_dates_after_row_1000_are_read(db):
    code, out, err = cli("import", Q / "late_text_amount.xlsx", "--db", db)
    assert code == 0, err
    assert rows(
        db,
        "SELECT account_id, sum(net_revenue), sum(cost_of_goods), count(*) FROM orders "
        "GROUP BY 1 ORDER BY 1",
    ) == [
        ("K1", Decimal("7224.5600"), Decimal("2400.0000"), 600),  # 599 x 10 + 1.234,56
        ("K2", Decimal("6000.0000"), Decimal("2495.5000"), 600),  # 599 x 4 + 99,50
    ]
    assert rows(db, "SELECT order_date::VARCHAR FROM orders WHERE source_row = 1152") == [
        ("2025-03-15",)
    ]


def test_only_real_totals_are_dropped_and_said(db):
    code, out, err = cli("import", Q / "orders_with_total.csv", "--db", db)
    assert code == 0, err
    assert rows(db, "SELECT sum(net_revenue), count(*) FROM orders") == [(Decimal("300.3000"), 2)]
    assert (
        "row 4: Total row at the bottom was not imported (its amounts equal the sums of the "
        "rows above) (value 'Summe')" in out
    )
    assert "rows left out: 1 (total_row)" in out
    code, out, err = cli("import", Q / "accounts_total_customer.csv", "--db", db)
    assert code == 0, err
    assert rows(db, "SELECT account_id, name FROM accounts ORDER BY 1") == [
        ("K1", "Alpha GmbH"),
        ("K2", "K2"),  # the placeholder of the orders above
        ("K9", "Total Deutschland GmbH"),
    ]
    code, out, err = cli("import", Q / "shipments_total_remark.csv", "--db", db)
    assert code == 0, err
    assert rows(db, "SELECT shipment_id, freight_cost FROM shipments ORDER BY 1") == [
        ("L1", Decimal("10.0000")),
        ("L2", Decimal("25.0000")),
    ]
    assert "is not a total" not in out and "Total row" not in out


def test_services_without_amounts_take_catalogue_values_and_are_silent(db):
    code, out, err = cli("import", Q / "services_no_amounts.csv", "--db", db)
    assert code == 0, err
    assert rows(
        db,
        "SELECT account_id, service_code, quantity, cost, list_value, billed_amount, "
        "billing_mode FROM service_events_all ORDER BY 1, 2",
    ) == [
        # Catalogue x quantity: training 900/1800 per day, reporting 600/1200, packaging 300/650.
        ("K1", "GROUP_REPORTING", 1.0, Decimal("600.0000"), Decimal("1200.0000"), 0, "silent"),
        ("K1", "TRAINING", 2.0, Decimal("1800.0000"), Decimal("3600.0000"), 0, "silent"),
        ("K2", "CUSTOM_PACKAGING", 3.0, Decimal("900.0000"), Decimal("1950.0000"), 0, "silent"),
    ]
    code, out, _err = cli("report", "services", "--db", db, "--format", "json")
    report = {r["account_id"]: (r["list_value"], r["value_silent"]) for r in json.loads(out)}
    assert report == {"K1": (4800.0, 4800.0), "K2": (1950.0, 1950.0)}


def test_services_with_unit_price_value_price_times_quantity(db):
    code, out, err = cli("import", Q / "services_unit_price.csv", "--db", db)
    assert code == 0, err
    assert rows(
        db,
        "SELECT account_id, service_code, cost, list_value, billed_amount, billing_mode "
        "FROM service_events_all ORDER BY 1",
    ) == [
        ("K1", "TRAINING", Decimal("1800.0000"), Decimal("3500.0000"), Decimal("0.0000"), "silent"),
        (
            "K2",
            "CUSTOM_PACKAGING",
            Decimal("1200.0000"),
            Decimal("2450.0000"),
            Decimal("2450.0000"),
            "billed",
        ),
    ]


def test_corrected_re_export_updates_the_event(db):
    assert cli("import", Q / "services_v1.csv", "--db", db)[0] == 0
    code, out, err = cli("import", Q / "services_v2.csv", "--db", db)
    assert code == 0, err
    assert "0 inserted, 1 updated, 2 unchanged" in out
    assert rows(
        db,
        "SELECT account_id, count(*), sum(billed_amount) FROM service_events GROUP BY 1 ORDER BY 1",
    ) == [("K1", 2, Decimal("1800.0000")), ("K2", 1, Decimal("1800.0000"))]


def test_identical_order_lines_are_named_and_the_choice_is_the_mapping(db, tmp_path):
    code, out, err = cli("import", Q / "orders_identical_lines.csv", "--db", db, "--dry-run")
    assert code == 0, err
    assert "Rows 3, 4 are identical lines of order A2 without a line number" in out
    assert "2 inserted" not in out and "3 inserted" in out
    profile = tmp_path / "once.toml"
    profile.write_text('table = "orders"\n[read]\nidentical_lines = "keep_one"\n')
    code, out, err = cli(
        "import", Q / "orders_identical_lines.csv", "--db", db, "--profile", profile
    )
    assert code == 0, err
    assert rows(db, "SELECT sum(net_revenue), count(*) FROM orders") == [(Decimal("150.0000"), 2)]


def test_currencies_are_converted_or_refused(db):
    code, out, err = cli("import", Q / "orders_currencies.csv", "--db", db)
    assert code == 2
    # One line per cause, with its rows.
    assert (
        "orders_currencies.csv, column 'Währung', 2 rows: 3, 5: No exchange rate for CHF in "
        "2025-02" in err
    )
    assert "orders_currencies.csv, row 4, column 'Währung': No exchange rate for USD" in err
    assert rows(db, "SELECT count(*) FROM orders") == [(0,)]
    assert cli("rates", "set", "CHF", 2025, "0,95", "--db", db)[0] == 0
    assert cli("rates", "set", "USD", 2025, "1.10", "--db", db, "--month", 2)[0] == 0
    code, out, err = cli("import", Q / "orders_currencies.csv", "--db", db)
    assert code == 0, err
    assert rows(db, "SELECT order_id, currency, net_revenue, fx_rate FROM orders ORDER BY 1") == [
        ("A1", "EUR", Decimal("100.0000"), Decimal("1.000000")),
        ("A2", "CHF", Decimal("100.0000"), Decimal("0.950000")),
        ("A3", "USD", Decimal("100.0000"), Decimal("1.100000")),
        ("A4", "CHF", Decimal("1299.4737"), Decimal("0.950000")),  # CHF 1'234.50 / 0.95
    ]


def test_padded_sap_ids_match_the_accounts(db):
    assert cli("import", Q / "accounts_plain_ids.csv", "--db", db)[0] == 0
    code, out, err = cli("import", Q / "shipments_padded_ids.csv", "--db", db)
    assert code == 0, err
    assert "placeholder" not in out
    assert (
        "2 Customer number value(s) had leading zeros, removed (0000010001 -> 10001); 2 row(s) "
        "matched known accounts only so" in out
    )
    assert rows(db, "SELECT count(*) FROM accounts") == [(2,)]
    assert rows(db, "SELECT account_id FROM shipments ORDER BY 1") == [("10001",), ("10002",)]


def test_ambiguous_dates_refused_unless_the_order_is_stated(db, tmp_path):
    code, out, err = cli("import", Q / "orders_dates_ambiguous.csv", "--db", db)
    assert code == 2
    assert (
        "orders_dates_ambiguous.csv, row 2, column 'Order Date': Every date in column "
        "'Order Date' fits both day/month and month/day" in err
    )
    profile = tmp_path / "dmy.toml"
    profile.write_text('table = "orders"\n[read]\ndate_order = "dmy"\n')
    code, out, err = cli(
        "import", Q / "orders_dates_ambiguous.csv", "--db", db, "--profile", profile
    )
    assert code == 0, err
    assert rows(db, "SELECT order_date::VARCHAR FROM orders ORDER BY 1") == [
        ("2025-02-01",),
        ("2025-04-03",),
    ]


def test_month_first_column_decided_from_all_values(db):
    code, out, err = cli("import", Q / "orders_dates_us.csv", "--db", db)
    assert code == 0, err
    assert rows(db, "SELECT order_id, order_date::VARCHAR FROM orders ORDER BY 1") == [
        ("A1", "2025-01-02"),
        ("A2", "2025-12-31"),
    ]


def test_utf8_file_with_one_cp1252_row(db):
    code, out, err = cli("import", Q / "accounts_mixed_encoding.csv", "--db", db)
    assert code == 0, err
    assert rows(db, "SELECT name, city FROM accounts ORDER BY 1") == [
        ("Bäcker AG", "Köln"),
        ("Müller GmbH", "München"),
    ]
    assert "row 3: 1 row(s) are not UTF-8 and were read as Windows-1252: 3" in out


def test_hidden_and_filtered_rows_said_and_skipped_on_request(db, tmp_path):
    code, out, err = cli("import", Q / "shipments_hidden_rows.xlsx", "--db", db, "--dry-run")
    assert code == 0, err
    assert "2 row(s) are hidden or filtered out in Excel and were imported: 3, 4" in out
    profile = tmp_path / "skip.toml"
    profile.write_text('table = "shipments"\n[read]\nskip_hidden = true\n')
    code, out, err = cli(
        "import", Q / "shipments_hidden_rows.xlsx", "--db", db, "--profile", profile
    )
    assert code == 0, err
    assert rows(db, "SELECT shipment_id FROM shipments") == [("S1",)]


def test_amounts_keep_their_third_decimal_and_sums_reconcile(db):
    code, out, err = cli("import", Q / "orders_cents.csv", "--db", db)
    assert code == 0, err
    # Excel's SUM of the column: 177.225 + 1.115 = 178.34 for K1.
    assert rows(db, "SELECT account_id, sum(net_revenue) FROM orders GROUP BY 1 ORDER BY 1") == [
        ("K1", Decimal("178.3400")),
        ("K2", Decimal("0.0150")),
    ]


def test_header_only_file_warns(db):
    code, out, err = cli("import", Q / "orders_header_only.csv", "--db", db)
    assert code == 0, err
    assert "The file has a header but no data rows: nothing to import" in out


def test_undo_of_accounts_under_shipments_warns_what_loses_its_account(db):
    assert cli("import", Q / "accounts_plain_ids.csv", "--db", db)[0] == 0
    assert cli("import", Q / "shipments_padded_ids.csv", "--db", db)[0] == 0
    code, out, err = cli("imports", "undo", 1, "--db", db)
    assert code == 0, err
    assert (
        "warning: 2 shipments row(s) refer to accounts this import created and will lose "
        "their account" in out
    )
    code, out, err = cli("imports", "undo", 2, "--db", db)
    assert "warning" not in out


def test_datev_debit_credit_flag_is_asked_never_guessed(db, tmp_path):
    export = tmp_path / "datev.csv"
    export.write_text(
        "Umsatz (ohne Soll/Haben-Kz);Soll/Haben-Kennzeichen;WKZ Umsatz;Konto;Belegdatum;"
        "Belegfeld 1\n1.190,00;S;EUR;10001;15.01.2025;RE-1\n238,00;H;EUR;10001;20.01.2025;GS-1\n",
        encoding="cp1252",
    )
    code, out, err = cli("import", export, "--db", db)
    assert code == 2
    assert "datev.csv, row 2, column 'Soll/Haben-Kennzeichen': Unknown Debit/credit flag" in err
    profile = tmp_path / "datev.toml"
    profile.write_text('table = "orders"\n[values.debit_credit]\nS = "+"\nH = "-"\n')
    code, out, err = cli("import", export, "--db", db, "--profile", profile)
    assert code == 0, err
    assert rows(db, "SELECT order_id, net_revenue FROM orders ORDER BY 1") == [
        ("GS-1", Decimal("-238.0000")),
        ("RE-1", Decimal("1190.0000")),
    ]


def test_revenue_list_without_order_number_derives_ids_and_names_twins(db, tmp_path):
    export = tmp_path / "umsatz.csv"
    export.write_text(
        "Customer Name,Order Date,Sales\nAlpha,2025-01-02,10.50\nAlpha,2025-01-02,10.50\n"
        "Beta,2025-01-03,7.25\n"
    )
    code, out, err = cli("import", export, "--db", db)
    assert code == 0, err
    assert "Rows 2, 3 are identical lines of order - without a line number" in out
    assert rows(db, "SELECT account_id, sum(net_revenue) FROM orders GROUP BY 1 ORDER BY 1") == [
        ("Alpha", Decimal("21.0000")),
        ("Beta", Decimal("7.2500")),
    ]
    # A corrected re-export updates instead of adding.
    export.write_text(
        "Customer Name,Order Date,Sales\nAlpha,2025-01-02,10.50\nAlpha,2025-01-02,11.50\n"
        "Beta,2025-01-03,7.25\n"
    )
    code, out, err = cli("import", export, "--db", db)
    assert "0 inserted, 1 updated, 2 unchanged" in out
