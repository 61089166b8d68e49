"""The department view of the matrix (issue 17) on the default catalogue and a hand-built month.

Matrix 2025 (defaults): EXPRESS_FREIGHT (logistics) KEY waived, A/B/C billed; TRAINING
(quality) KEY free, A/B/C billed. Events in November 2025: K1 (A) training 1.800 € not billed ->
giveaway 1.800 €; K1 express 120 € not charged -> giveaway 120 €; K2 (KEY) express shipped
silently -> invisible value (no leakage); an October training of K1 (900 €) is not last month.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kam_analytics.access import Scope
from kam_analytics.departments import (
    DEFAULT_DEPARTMENTS,
    last_complete_month,
    report_departments,
    save_department,
    select_departments,
)
from kam_analytics.errors import AccessDeniedError, ConfigError
from kam_analytics.exports.department_sheet import department_pdf, department_sheet

ALL = Scope.everything()
ADMIN = Scope.everything("admin")
KAM1 = Scope(username="k1", role="kam", kam_id="KAM1")
AS_OF = dt.date(2025, 12, 15)


@pytest.fixture
def company(con):
    from kam_analytics.catalogue import seed_matrix

    seed_matrix(con, 2025)
    con.execute("INSERT INTO kams (kam_id, name) VALUES ('KAM1', 'Eins'), ('KAM2', 'Zwei')")
    con.execute(
        "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES"
        " ('K1', 'Eins GmbH', 'A', 'KAM1'), ('K2', 'Zwei AG', 'KEY', 'KAM2')"
    )
    con.execute(
        """INSERT INTO service_events (event_id, account_id, date, service_code, quantity,
            cost, list_value, billed_amount, billing_mode) VALUES
        ('E1', 'K1', DATE '2025-11-10', 'TRAINING', 1, 900, 1800, 0, 'silent'),
        ('E2', 'K1', DATE '2025-10-10', 'TRAINING', 1, 450, 900, 0, 'silent')"""
    )
    con.execute(
        """INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost,
            freight_charged, billing_mode) VALUES
        ('S1', 'K1', DATE '2025-11-03', 'express', 120, 0, 'silent'),
        ('S2', 'K2', DATE '2025-11-04', 'express', 80, 0, 'silent')"""
    )
    return con


def test_every_service_has_a_department(company):
    deps = select_departments(company).set_index("service_code")
    assert set(DEFAULT_DEPARTMENTS) <= set(deps.index)
    assert deps.at["EXPRESS_FREIGHT", "department"] == "logistics"
    assert not deps["chosen"].any()


def test_last_complete_month():
    assert last_complete_month(AS_OF) == (dt.date(2025, 11, 1), dt.date(2025, 11, 30))
    assert last_complete_month(dt.date(2025, 12, 31)) == (
        dt.date(2025, 12, 1),
        dt.date(2025, 12, 31),
    )
    assert last_complete_month(dt.date(2025, 3, 1)) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))


def test_sheet_lists_exactly_the_departments_matrix_rows(company):
    sheet = department_sheet(company, ALL, "logistics", year=2025, as_of=AS_OF)
    logistics = {c for c, d in DEFAULT_DEPARTMENTS.items() if d == "logistics"}
    assert set(sheet.services["service_code"]) == logistics
    express = sheet.services.set_index("service_code").loc["EXPRESS_FREIGHT"]
    assert (express["KEY"], express["A"], express["C"]) == ("waived", "billed", "billed")
    beyond = sheet.beyond.set_index("service_code")
    assert list(beyond.index) == ["EXPRESS_FREIGHT"]
    assert (
        beyond.at["EXPRESS_FREIGHT", "giveaway"],
        beyond.at["EXPRESS_FREIGHT", "invisible"],
    ) == (
        1,
        1,
    )
    assert beyond.at["EXPRESS_FREIGHT", "leakage"] == 120.0
    quality = department_sheet(company, ALL, "quality", year=2025, as_of=AS_OF)
    assert quality.beyond["leakage"].tolist() == [1800.0]  # not the October training


def test_kam_sees_only_own_accounts_findings(company):
    sheet = department_sheet(company, KAM1, "logistics", year=2025, as_of=AS_OF)
    row = sheet.beyond.set_index("service_code").loc["EXPRESS_FREIGHT"]
    assert (row["giveaway"], row["invisible"]) == (1, 0)  # K2's silent shipment is not hers


def test_admin_moves_a_service_audited(company):
    save_department(company, ADMIN, "TRAINING", "development")
    deps = select_departments(company).set_index("service_code")
    assert deps.at["TRAINING", "department"] == "development" and deps.at["TRAINING", "chosen"]
    (old, new) = company.execute(
        "SELECT old_value, new_value FROM audit_log WHERE action = 'department_change'"
    ).fetchall()[0]
    assert (json.loads(old), json.loads(new)) == ("quality", "development")
    with pytest.raises(AccessDeniedError):
        save_department(company, KAM1, "TRAINING", "quality")
    with pytest.raises(ConfigError):
        save_department(company, ADMIN, "TRAINING", "kantine")


def test_report_and_pdf(company, db_path):
    rep = report_departments(company, year=2025, as_of=AS_OF, scope=ALL)
    express = rep.set_index("service_code").loc["EXPRESS_FREIGHT"]
    assert (express["department"], express["month"], express["findings"]) == (
        "logistics",
        "2025-11",
        2,
    )
    assert rep["leakage"].sum() == 1920.0
    pdf = department_pdf(company, ALL, "logistics", year=2025, as_of=AS_OF)
    assert pdf.startswith(b"%PDF") and b"/Count 1" in pdf  # one page

    from tests.conftest import run_cli

    company.close()
    out = run_cli(
        "report",
        "departments",
        "--db",
        str(db_path),
        "--year",
        "2025",
        "--as-of",
        "2025-12-15",
        "--format",
        "json",
        "--as-user",
        "nobody",
    )
    assert out.returncode != 0  # an unknown user is refused
    out = run_cli(
        "report",
        "departments",
        "--db",
        str(db_path),
        "--year",
        "2025",
        "--as-of",
        "2025-12-15",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    rows = {r["service_code"]: r for r in json.loads(out.stdout)}
    assert rows["TRAINING"]["leakage"] == 1800.0
