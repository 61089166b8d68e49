"""Service value per account: hand-computed report, invariants, scope, command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from services_data import build

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.metrics.services import (
    REPORT_COLUMNS,
    ladder_from_summary,
    report_services,
    select_service_events,
    summarise_service_events,
)
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
ALL = Scope.everything()

# account: cost, list value, billed, unbilled, value silent, waived, billed (2025, by hand)
EXPECTED_2025 = {
    "A1": (1965.75, 3765.75, 2495.50, 1270.25, 1870.25, 0, 1895.50),
    "B1": (7560, 29760, 25020, 4740, 200, 4500, 25060),
    "C1": (300, 650, 650, 0, 0, 0, 650),
    "K1": (10520, 19620, 0, 19620, 4500, 15120, 0),
    "K2": (8980, 24080, 0, 24080, 24080, 0, 0),
    "N1": (900, 1800, 0, 1800, 1800, 0, 0),
    "Z1": (0, 0, 0, 0, 0, 0, 0),
}


@pytest.fixture
def fixture_con(con):
    build(con)
    return con


def _rows(df: pd.DataFrame) -> dict[str, tuple]:
    # the money columns (the last column is the ABC suggestion, tested in test_abc.py)
    return {r[0]: tuple(float(x) for x in r[4:-1]) for r in df.itertuples(index=False)}


def test_report_2025_every_number_by_hand(fixture_con):
    df = report_services(fixture_con, year=2025, as_of=None, scope=ALL)
    assert list(df.columns) == REPORT_COLUMNS
    assert list(df["account_id"]) == ["A1", "B1", "C1", "K1", "K2", "N1", "Z1"]
    assert _rows(df) == {k: tuple(float(x) for x in v) for k, v in EXPECTED_2025.items()}
    k1 = df[df["account_id"] == "K1"].iloc[0]
    assert (k1["name"], k1["tier"], k1["kam_id"]) == ("Kunde Eins GmbH", "KEY", "M1")
    n1 = df[df["account_id"] == "N1"].iloc[0]
    assert pd.isna(n1["tier"]) and pd.isna(n1["kam_id"])


def test_report_all_years_adds_c1_history(fixture_con):
    df = report_services(fixture_con, year=None, as_of=None, scope=ALL)
    rows = _rows(df)
    # C1 also has E10 (2024), E11 (2023), E12 (2026): 3 × TRAINING 900 / 1.800, 900 billed.
    assert rows["C1"] == (3000.0, 6050.0, 1550.0, 4500.0, 5400.0, 0.0, 650.0)
    assert rows["K1"] == tuple(float(x) for x in EXPECTED_2025["K1"])


def test_as_of_cuts_events_after_the_date(fixture_con):
    import datetime as dt

    df = report_services(fixture_con, year=2025, as_of=dt.date(2025, 6, 30), scope=ALL)
    rows = _rows(df)
    # A1 until 30 June: E04, E05 and S3 (S6 is December).
    assert rows["A1"] == (1895.5, 3695.5, 2495.5, 1200.0, 1800.0, 0.0, 1895.5)
    # B1 until 30 June: only S4 (60 list, 20 billed, given mode billed).
    assert rows["B1"] == (60.0, 60.0, 20.0, 40.0, 0.0, 0.0, 60.0)


def test_kam_scope_sees_only_own_accounts(fixture_con):
    df = report_services(fixture_con, year=2025, as_of=None, scope=Scope("anna", "kam", "M1"))
    assert list(df["account_id"]) == ["A1", "C1", "K1"]
    assert float(df["list_value"].sum()) == 3765.75 + 650 + 19620
    nobody = report_services(fixture_con, year=2025, as_of=None, scope=Scope("x", "kam", None))
    assert nobody.empty and list(nobody.columns) == REPORT_COLUMNS
    events = select_service_events(fixture_con, Scope("bernd", "kam", "M2"), year=2025)
    assert sorted(set(events["account_id"])) == ["B1", "K2"]


def test_express_shipments_are_events_with_derived_modes(fixture_con):
    ev = select_service_events(fixture_con, ALL, services=["EXPRESS_FREIGHT"])
    got = {
        r.source_id: (r.list_value, r.billed_amount, r.billing_mode, r.file_name, r.source_row)
        for r in ev.itertuples()
    }
    assert got == {
        "S1": (120.0, 0.0, "waived", "versand_2025.csv", 2),
        "S2": (80.0, 0.0, "silent", "versand_2025.csv", 3),
        "S3": (95.5, 95.5, "billed", "versand_2025.csv", 4),
        "S4": (60.0, 20.0, "billed", "versand_2025.csv", 5),
        "S6": (70.25, 0.0, "silent", "versand_2025.csv", 7),
    }


def test_surcharge_rule_sets_express_list_value(fixture_con):
    fixture_con.execute(
        "UPDATE service_catalogue SET surcharge_pct = 25 WHERE service_code = 'EXPRESS_FREIGHT'"
    )
    ev = select_service_events(fixture_con, ALL, account_id="K1", services=["EXPRESS_FREIGHT"])
    assert list(ev["list_value"]) == [150.0]  # 120 € freight + 25 %
    fixture_con.execute(
        "UPDATE service_catalogue SET surcharge_fixed = 39.9 WHERE service_code = 'EXPRESS_FREIGHT'"
    )
    ev = select_service_events(fixture_con, ALL, account_id="K1", services=["EXPRESS_FREIGHT"])
    assert list(ev["list_value"]) == [39.9]


def test_summary_and_ladder(fixture_con):
    summary = summarise_service_events(
        fixture_con, ALL, year=2025, tiers=["KEY"], dims=("service", "month"), quantity=True
    )
    by_service = summary["service"]
    assert list(by_service["service_code"]) == [
        "CUSTOM_DEV",
        "TRAINING",
        "INNOVATION_WS",
        "EXPRESS_FREIGHT",
    ]
    assert list(by_service["list_value"]) == [30000.0, 9000.0, 4500.0, 200.0]
    assert list(by_service["events"]) == [2, 2, 1, 2]
    ladder = ladder_from_summary(summary["total"])
    assert list(ladder["billing_mode"]) == ["silent", "waived", "billed"]
    assert list(ladder["list_value"]) == [28580.0, 15120.0, 0.0]
    assert list(ladder["share"]) == [28580 / 43700, 15120 / 43700, 0.0]
    by_month = summary["month"]
    assert list(by_month["month"]) == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-11"]
    assert list(by_month["list_value"]) == [4500.0, 15120.0, 15080.0, 9000.0, 0.0]
    assert summary["total"]["events"] == 7 and summary["total"]["list_value"] == 43700.0
    none = summarise_service_events(fixture_con, ALL, year=2030, dims=("service",))
    assert none["total"]["events"] == 0 and none["service"].empty
    assert str(none["service"]["list_value"].dtype) == "float64"


def test_tier_filter_selects_accounts_without_tier(fixture_con):
    ev = select_service_events(fixture_con, ALL, year=2025, tiers=[""])
    assert list(ev["source_id"]) == ["E08"]
    ev = select_service_events(fixture_con, ALL, year=2025, kam_ids=["M2"], services=["TRAINING"])
    assert list(ev["source_id"]) == ["E14"]


def test_command_line_json(fixture_con, db_path):
    fixture_con.close()
    out = run_cli(
        "report", "services", "--db", str(db_path), "--year", "2025", "--format", "json", check=True
    ).stdout
    rows = json.loads(out)
    assert list(rows[0]) == REPORT_COLUMNS
    by_id = {r["account_id"]: r for r in rows}
    assert by_id["A1"]["unbilled_value"] == 1270.25
    assert by_id["K1"]["value_waived"] == 15120.0
    assert by_id["Z1"]["list_value"] == 0
    assert by_id["N1"]["tier"] is None
    csv = run_cli("report", "services", "--db", str(db_path), check=True).stdout
    assert csv.splitlines()[0] == ",".join(REPORT_COLUMNS)
    assert len(csv.splitlines()) == 8


# --- invariants on random companies --------------------------------------------------------

cents = st.integers(min_value=0, max_value=500_000).map(lambda c: c / 100)
maybe_cents = st.one_of(st.none(), cents)
modes = st.sampled_from([None, "silent", "waived", "billed"])
event = st.tuples(
    st.sampled_from(["K1", "A1", "B1", "C1", "N1"]),
    st.integers(min_value=2023, max_value=2026),
    st.sampled_from(["TRAINING", "INNOVATION_WS", "CUSTOM_PACKAGING", "CUSTOM_DEV", "UNKNOWN"]),
    maybe_cents,
    maybe_cents,
    maybe_cents,
    modes,
    st.one_of(st.none(), st.booleans()),
)
shipment = st.tuples(
    st.sampled_from(["K1", "A1", "B1", "C1", "N1"]),
    st.integers(min_value=2023, max_value=2026),
    st.sampled_from(["standard", "express"]),
    maybe_cents,
    maybe_cents,
    modes,
    st.one_of(st.none(), st.booleans()),
)


def random_company(events, shipments):
    con = db.connect_memory()
    for acc, tier in [("K1", "KEY"), ("A1", "A"), ("B1", "B"), ("C1", "C"), ("N1", None)]:
        con.execute(
            "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES (?, ?, ?, 'M1')",
            [acc, acc, tier],
        )
    for n, (acc, year, code, cost, value, billed, mode, waiver) in enumerate(events):
        con.execute(
            "INSERT INTO service_events (event_id, account_id, date, service_code, cost, "
            "list_value, billed_amount, billing_mode, waiver) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f"E{n}", acc, f"{year}-06-01", code, cost, value, billed, mode, waiver],
        )
    for n, (acc, year, ship_mode, cost, charged, mode, waiver) in enumerate(shipments):
        con.execute(
            "INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost, "
            "freight_charged, billing_mode, waiver) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [f"S{n}", acc, f"{year}-03-01", ship_mode, cost, charged, mode, waiver],
        )
    return con


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, max_size=12), st.lists(shipment, max_size=8), st.sampled_from([None, 2025]))
def test_invariants_services(events, shipments, year):
    con = random_company(events, shipments)
    try:
        df = report_services(con, year=year, as_of=None, scope=ALL)
        assert len(df) == 5
        assert ((df["billed_amount"] + df["unbilled_value"] - df["list_value"]).abs() < 0.005).all()
        by_mode = df["value_silent"] + df["value_waived"] + df["value_billed"]
        assert ((by_mode - df["list_value"]).abs() < 0.005).all()
        # Nothing counted twice: the per-account sums equal the totals over the view.
        totals = con.execute(
            "SELECT COALESCE(SUM(list_value), 0), COALESCE(SUM(cost), 0), COUNT(*) "
            "FROM service_events_all WHERE ? IS NULL OR year(date) = ?",
            [year, year],
        ).fetchall()[0]
        assert round(float(df["list_value"].sum()), 2) == round(float(totals[0]), 2)
        assert round(float(df["cost"].sum()), 2) == round(float(totals[1]), 2)
        express = sum(1 for s in shipments if s[2] == "express" and (year is None or s[1] == year))
        plain = sum(1 for e in events if year is None or e[1] == year)
        assert totals[2] == express + plain
        ev = select_service_events(con, ALL, year=year)
        assert len(ev) == express + plain
        # the SQL summaries (the only implementation) add up to the event rows
        summary = summarise_service_events(con, ALL, year=year, quantity=True)
        assert summary["total"]["events"] == len(ev)
        for col in ("cost", "list_value", "billed_amount", "unbilled_value", "quantity"):
            assert abs(summary["total"][col] - float(ev[col].fillna(0).sum())) < 0.005
        for dim in ("account", "tier", "kam", "service", "month"):
            assert int(summary[dim]["events"].sum()) == len(ev)
            assert (
                abs(float(summary[dim]["list_value"].sum()) - summary["total"]["list_value"])
                < 0.005
            )
        assert set(ev["billing_mode"]) <= {"silent", "waived", "billed"}
    finally:
        con.close()


# --- the page, run headless against the demo company -----------------------------------------


def _app(monkeypatch, path, username="admin", role="admin", kam_id=None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAM_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scope"] = Scope(username, role, kam_id)
    at.run()
    return at


def test_services_page_with_filters(monkeypatch, demo_copy):
    from kam_analytics.i18n import fmt_eur

    at = _app(monkeypatch, demo_copy)
    at.switch_page("pages/services.py").run()
    assert not at.exception
    assert at.title[0].value == "Leistungen und ihr Wert"
    years = at.selectbox(key="svc_year").options
    year = int(years[2])  # the year before the latest
    at.selectbox(key="svc_year").set_value(year)
    at.multiselect(key="svc_tiers").set_value(["KEY"])
    at.run()
    assert not at.exception
    events = select_service_events(at_con(at), ALL, year=year, tiers=["KEY"])
    assert at.metric[0].value == fmt_eur(events["list_value"].sum(), "de", 0)
    assert at.metric[3].value == fmt_eur(events["unbilled_value"].sum(), "de", 0)
    assert len(at.get("plotly_chart")) == 1
    # the picker offers the largest accounts; the smallest is found by typing its number
    per_account = events.groupby("account_id")["list_value"].sum().sort_values()
    account = per_account.index[0]
    offered = at.selectbox(key="svc_drill_account").options
    assert len(offered) == min(50, len(per_account))
    at.text_input(key="svc_drill_account_search").input(account)
    at.run()
    assert not at.exception
    assert [o.split(" – ")[0] for o in at.selectbox(key="svc_drill_account").options] == [account]
    at.selectbox(key="svc_drill_account").set_value(account)
    at.run()
    assert not at.exception
    shown = at.dataframe[-1].value
    assert len(shown) == int((events["account_id"] == account).sum())
    assert set(shown["Importdatei"]) <= set(events["file_name"])


def at_con(at):
    """The app's own connection (the database file is open in this process)."""
    from ui.session import _shared_connection, db_path

    return _shared_connection(db_path()).cursor()


def test_services_page_kam_sees_own_accounts(monkeypatch, demo_copy):
    at = _app(monkeypatch, demo_copy, "kam01", "kam")
    at.switch_page("pages/services.py").run()
    assert not at.exception
    from kam_analytics.users import scope_for_user

    scope = scope_for_user(at_con(at), "kam01")
    own = set(report_services(at_con(at), year=None, as_of=None, scope=scope)["account_id"])
    at.selectbox(key="svc_year").select_index(0)
    at.run()
    by_account = at.dataframe[0].value
    assert set(by_account["Kundennr."]) <= own
    assert 0 < len(own) < 120


def test_services_tabs_build_only_the_open_table(monkeypatch, demo_copy):
    """One summary table per run (the open tab); each tab opened shows its own grouping."""
    from tests.conftest import open_each_tab

    at = _app(monkeypatch, demo_copy)
    at.switch_page("pages/services.py").run()
    assert not at.exception
    from kam_analytics.page_data.services import load_services
    from ui.widgets import TABLE_ROWS

    year = at.selectbox(key="svc_year").value
    data = load_services(at_con(at), ALL, year=year)
    shown = {dim: min(len(df), TABLE_ROWS) for dim, df in data.summaries.items()}
    assert shown["account"] > shown["tier"] > 1
    assert [t.label for t in at.tabs] == [
        "Nach Kunde",
        "Nach Kundenstufe",
        "Nach KAM",
        "Nach Leistung",
        "Nach Monat",
    ]
    # the only table before the drill-down is the open tab's: by account, all its rows
    assert len(at.dataframe) == 1
    assert len(at.dataframe[0].value) == shown["account"]
    rows = {}
    for label in open_each_tab(at, "pages/services.py"):
        assert not at.exception
        assert len(at.dataframe) == 1
        rows[label] = len(at.dataframe[0].value)
    assert rows == {
        "Nach Kunde": shown["account"],
        "Nach Kundenstufe": shown["tier"],
        "Nach KAM": shown["kam"],
        "Nach Leistung": shown["service"],
        "Nach Monat": shown["month"],
    }
