"""The giveaway report: every finding of the hand-built company, invariants, scope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from services_data import build
from test_services import event, random_company, shipment

from kam_analytics.access import Scope
from kam_analytics.catalogue import select_matrix
from kam_analytics.metrics.giveaways import (
    FINDINGS,
    REPORT_COLUMNS,
    report_giveaways,
    select_findings,
    select_top_findings,
    summarise_findings,
    totals_by,
)
from kam_analytics.page_data.account_search import PICKER_ROWS
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
ALL = Scope.everything()

# source_table, source_id, account, tier, service, date, billing mode, policy, finding, leakage
EXPECTED_ALL = [
    (
        "service_events",
        "E14",
        "K2",
        "KEY",
        "TRAINING",
        "2025-05-05",
        "silent",
        "billed",
        "giveaway",
        9000.0,
    ),
    (
        "service_events",
        "E06",
        "B1",
        "B",
        "INNOVATION_WS",
        "2025-07-04",
        "waived",
        "not_offered",
        "off_policy",
        4500.0,
    ),
    (
        "service_events",
        "E10",
        "C1",
        "C",
        "TRAINING",
        "2024-11-08",
        "silent",
        "not_offered",
        "off_policy",
        1800.0,
    ),
    (
        "service_events",
        "E11",
        "C1",
        "C",
        "TRAINING",
        "2023-05-01",
        "silent",
        "billed",
        "giveaway",
        1800.0,
    ),
    (
        "service_events",
        "E05",
        "A1",
        "A",
        "TRAINING",
        "2025-06-03",
        "silent",
        "billed",
        "giveaway",
        1200.0,
    ),
    (
        "service_events",
        "E12",
        "C1",
        "C",
        "TRAINING",
        "2026-01-15",
        "silent",
        "not_offered",
        "off_policy",
        900.0,
    ),
    (
        "shipments",
        "S6",
        "A1",
        "A",
        "EXPRESS_FREIGHT",
        "2025-12-01",
        "silent",
        "billed",
        "giveaway",
        70.25,
    ),
    (
        "shipments",
        "S4",
        "B1",
        "B",
        "EXPRESS_FREIGHT",
        "2025-06-30",
        "billed",
        "billed",
        "giveaway",
        40.0,
    ),
    (
        "service_events",
        "E03",
        "K2",
        "KEY",
        "CUSTOM_DEV",
        "2025-04-01",
        "silent",
        "waived",
        "invisible",
        0.0,
    ),
    (
        "service_events",
        "E07",
        "C1",
        "C",
        "CUSTOM_PACKAGING",
        "2025-08-05",
        "billed",
        "not_offered",
        "off_policy",
        0.0,
    ),
    (
        "shipments",
        "S2",
        "K2",
        "KEY",
        "EXPRESS_FREIGHT",
        "2025-04-20",
        "silent",
        "waived",
        "invisible",
        0.0,
    ),
]


@pytest.fixture
def fixture_con(con):
    build(con)
    return con


def _tuples(df):
    return [tuple(r) for r in df.itertuples(index=False)]


def test_all_years_every_finding_by_hand(fixture_con):
    df = report_giveaways(fixture_con, year=None, as_of=None, scope=ALL)
    assert list(df.columns) == REPORT_COLUMNS
    assert _tuples(df) == EXPECTED_ALL


def test_year_2025_uses_the_2024_matrix(fixture_con):
    df = report_giveaways(fixture_con, year=2025, as_of=None, scope=ALL)
    assert list(df["source_id"]) == ["E14", "E06", "E05", "S6", "S4", "E03", "E07", "S2"]
    assert round(float(df["leakage"].sum()), 2) == 14810.25
    # 2023 has no matrix and nothing earlier: the default (TRAINING billed for C) applies.
    assert list(report_giveaways(fixture_con, year=2023, as_of=None, scope=ALL)["finding"]) == [
        "giveaway"
    ]


def test_kam_scope(fixture_con):
    df = report_giveaways(fixture_con, year=None, as_of=None, scope=Scope("anna", "kam", "M1"))
    assert list(df["source_id"]) == ["E10", "E11", "E05", "E12", "S6", "E07"]
    assert set(df["account_id"]) == {"A1", "C1"}


def test_totals_worst_first(fixture_con):
    found = select_findings(fixture_con, ALL, year=2025)
    by_account = totals_by(found, "account_id")
    assert list(by_account["account_id"]) == ["K2", "B1", "A1", "C1"]
    assert list(by_account["leakage"]) == [9000.0, 4540.0, 1270.25, 0.0]
    assert list(by_account["n_invisible"]) == [2, 0, 0, 0]
    by_kam = totals_by(found, "kam_id")
    assert [(r.kam_id, r.leakage) for r in by_kam.itertuples()] == [
        ("M2", 13540.0),
        ("M1", 1270.25),
    ]
    by_tier = totals_by(found, "tier")
    assert [(r.tier, r.leakage) for r in by_tier.itertuples()] == [
        ("KEY", 9000.0),
        ("B", 4540.0),
        ("A", 1270.25),
        ("C", 0.0),
    ]
    by_service = totals_by(found, "service_code")
    assert list(by_service["service_code"])[:2] == ["TRAINING", "INNOVATION_WS"]
    assert list(by_service["leakage"]) == [10200.0, 4500.0, 110.25, 0.0, 0.0]
    # Every finding traces to its import file and row.
    e05 = found[found["source_id"] == "E05"].iloc[0]
    assert (e05["file_name"], int(e05["source_row"])) == ("leistungen_2025.xlsx", 6)


def test_the_worst_findings_and_how_many_there_are_by_hand(fixture_con):
    top = select_top_findings(fixture_con, ALL, limit=3, year=2025)
    assert list(top["source_id"]) == ["E14", "E06", "E05"]
    assert list(top["leakage"]) == [9000.0, 4500.0, 1200.0]
    # the rows are select_findings' rows, columns and all
    found = select_findings(fixture_con, ALL, year=2025)
    assert list(top.columns) == list(found.columns)
    assert top.to_dict("records") == found.head(3).to_dict("records")
    assert select_top_findings(fixture_con, ALL, limit=3, year=2022).empty
    assert select_top_findings(fixture_con, ALL, limit=30, year=2025).equals(found)


def test_the_totals_from_one_query_by_hand(fixture_con):
    summary = summarise_findings(fixture_con, ALL, year=2025)
    assert list(summary["account_id"]["account_id"]) == ["K2", "B1", "A1", "C1"]
    assert list(summary["account_id"]["leakage"]) == [9000.0, 4540.0, 1270.25, 0.0]
    assert list(summary["account_id"]["n_invisible"]) == [2, 0, 0, 0]
    assert [(r.kam_id, r.leakage) for r in summary["kam_id"].itertuples()] == [
        ("M2", 13540.0),
        ("M1", 1270.25),
    ]
    assert list(summary["service_code"]["leakage"]) == [10200.0, 4500.0, 110.25, 0.0, 0.0]
    kinds = {
        r.finding: (r.n_off_policy + r.n_giveaway + r.n_invisible, r.leakage)
        for r in summary["finding"].itertuples()
    }
    assert kinds == {"giveaway": (4, 10310.25), "off_policy": (2, 4500.0), "invisible": (2, 0.0)}
    split = {(r.account_id, r.finding): r.leakage for r in summary["account_finding"].itertuples()}
    assert split[("B1", "off_policy")] == 4500.0
    assert split[("B1", "giveaway")] == 40.0


def _assert_summary_is_the_rows(con, scope, **filters):
    """summarise_findings and select_top_findings equal what the finding rows give."""
    found = select_findings(con, scope, **filters)
    summary = summarise_findings(con, scope, **filters)
    for by in ("account_id", "kam_id", "service_code", "tier"):
        expected = totals_by(found, by)
        got = summary[by]
        assert list(got.columns) == list(expected.columns)
        assert got.astype(object).to_dict("records") == expected.astype(object).to_dict(
            "records"
        ), by
    for f in ("off_policy", "giveaway", "invisible"):
        part = found[found["finding"] == f]
        row = summary["finding"][summary["finding"]["finding"] == f]
        assert int(row[f"n_{f}"].sum()) == len(part)
        assert round(float(row["leakage"].sum()), 2) == round(float(part["leakage"].sum()), 2)
    assert sum(int(summary["finding"][f"n_{f}"].sum()) for f in FINDINGS) == len(found)
    top = select_top_findings(con, scope, limit=7, **filters)
    assert top.to_dict("records") == found.head(7).to_dict("records")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, max_size=12), st.lists(shipment, max_size=8), st.sampled_from([None, 2025]))
def test_summary_equals_the_finding_rows_on_random_companies(events, shipments, year):
    con = random_company(events, shipments)
    try:
        _assert_summary_is_the_rows(con, ALL, year=year)
        _assert_summary_is_the_rows(con, ALL, year=year, tiers=["A", "KEY"])
    finally:
        con.close()


def test_summary_equals_the_finding_rows_on_the_demo(demo_db):
    from kam_analytics import db

    con = db.connect(demo_db, read_only=True)
    try:
        years = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT year(date) FROM service_events_all ORDER BY 1"
            ).fetchall()
        ]
        for year in [None, *years]:
            _assert_summary_is_the_rows(con, ALL, year=year)
        kam = con.execute("SELECT kam_id FROM kams ORDER BY kam_id LIMIT 1").fetchall()[0][0]
        _assert_summary_is_the_rows(con, Scope("k", "kam", kam), year=years[-1])
        _assert_summary_is_the_rows(con, ALL, year=years[-1], services=["EXPRESS_FREIGHT"])
    finally:
        con.close()


def test_command_line_giveaways(fixture_con, db_path):
    fixture_con.close()
    out = run_cli(
        "report", "giveaways", "--db", str(db_path), "--format", "json", check=True
    ).stdout
    rows = json.loads(out)
    assert [tuple(r.values()) for r in rows] == [tuple(e) for e in EXPECTED_ALL]


def test_matrix_fallback_per_year(fixture_con):
    def policy(year, code, tier):
        m = select_matrix(fixture_con, year)
        return m[(m.service_code == code) & (m.tier == tier)]["policy"].item()

    assert policy(2023, "TRAINING", "C") == "billed"  # default
    assert policy(2024, "TRAINING", "C") == "not_offered"  # own
    assert policy(2030, "TRAINING", "C") == "not_offered"  # latest earlier (2024)
    assert policy(None, "TRAINING", "C") == "billed"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, max_size=12), st.lists(shipment, max_size=8), st.sampled_from([None, 2025]))
def test_invariants_findings(events, shipments, year):
    con = random_company(events, shipments)
    try:
        found = select_findings(con, ALL, year=year)
        assert set(found["finding"]) <= {"off_policy", "giveaway", "invisible"}
        assert (found["leakage"] >= 0).all()
        assert (found["leakage"] <= found["unbilled_value"].clip(lower=0) + 0.005).all()
        give = found[found["finding"] == "giveaway"]
        assert ((give["leakage"] - give["unbilled_value"]).abs() < 0.005).all()
        assert (give["unbilled_value"] > 0).all()
        assert (found.loc[found["finding"] == "invisible", "leakage"] == 0).all()
        # One finding per event at most, and never for an account without tier.
        assert not found.duplicated(["source_table", "source_id"]).any()
        assert found["tier"].notna().all()
        report = report_giveaways(con, year=year, as_of=None, scope=ALL)
        assert list(report["leakage"]) == sorted(report["leakage"], reverse=True)
        assert len(report) == len(found)
    finally:
        con.close()


def test_giveaways_page_with_filters(monkeypatch, demo_copy):
    from streamlit.testing.v1 import AppTest

    from kam_analytics.i18n import fmt_eur
    from ui.session import _shared_connection, db_path

    monkeypatch.setenv("KAM_DB", str(demo_copy))
    # the page shows the 3 worst rows of each table (500 in the product), totals of all
    monkeypatch.setattr("kam_analytics.page_data.giveaways.SHOWN_ROWS", 3)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scope"] = Scope("admin", "admin")
    at.run()
    at.switch_page("pages/giveaways.py").run()
    assert not at.exception
    assert at.title[0].value == "Verschenkte Leistungen"
    at.selectbox(key="gv_year").select_index(0)
    at.multiselect(key="gv_tiers").set_value(["A", "B"])
    at.run()
    assert not at.exception
    con = _shared_connection(db_path()).cursor()
    found = select_findings(con, ALL, tiers=["A", "B"])
    assert len(found) > 0
    assert at.metric[0].value == fmt_eur(found["leakage"].sum(), "de", 0)
    assert at.metric[1].value == str((found["finding"] == "off_policy").sum())
    assert at.metric[2].value == str((found["finding"] == "giveaway").sum())
    table = at.dataframe[0].value
    assert len(found) > 3
    assert list(table["Beleg-Nr."]) == list(found["source_id"][:3])
    assert set(table["Kundenstufe"]) <= {"A-Kunde", "B-Kunde"}
    captions = [c.value for c in at.caption]
    assert (
        f"Die 3 Befunde mit dem höchsten Verlust von {len(found)}; der Download enthält alle."
        in (captions)
    )
    by_account = totals_by(found, "account_id")
    assert list(at.dataframe[1].value["Kundennr."]) == list(by_account["account_id"][:3])
    # the picker offers the worst accounts (at most PICKER_ROWS); a search finds any other
    drill = at.selectbox(key="gv_drill_account")
    assert drill.options == [
        f"{a} – {n}"
        for a, n in by_account[["account_id", "account_name"]][:PICKER_ROWS].itertuples(index=False)
    ]
    last = by_account["account_id"].iloc[-1]
    at.text_input(key="gv_drill_account_search").input(last)
    at.run()
    assert [o.split(" – ")[0] for o in at.selectbox(key="gv_drill_account").options][:1] == [last]
    at.text_input(key="gv_drill_account_search").input("")
    at.run()
    drill = at.selectbox(key="gv_drill_account")
    worst = by_account["account_id"][0]
    drill.set_value(worst)
    at.run()
    rows = at.dataframe[-1].value
    assert len(rows) == int((found["account_id"] == worst).sum()) > 0


def test_matrix_page_admin_edits_others_read(monkeypatch, demo_copy):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAM_DB", str(demo_copy))
    for user, role, editors in (("admin", "admin", 3), ("leitung", "management", 0)):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["scope"] = Scope(user, role)
        at.run()
        at.switch_page("pages/matrix.py").run()
        assert not at.exception
        assert at.title[0].value == "Leistungsmatrix"
        editable = [
            d for d in at.dataframe if d.proto.editing_mode != d.proto.EditingMode.READ_ONLY
        ]
        assert len(editable) == editors
        assert [b.label for b in at.get("download_button")][:2] == ["PDF (A4 quer)", "Excel (XLSX)"]


def test_profitability_page(monkeypatch, demo_copy):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scope"] = Scope("admin", "admin")
    at.run()
    at.switch_page("pages/profitability.py").run()
    assert not at.exception
    at.multiselect(key="pf_tiers").set_value(["KEY"])
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
