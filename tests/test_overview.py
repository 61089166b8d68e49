"""Overview KPIs on a tiny hand-built database, with every expected number worked out by hand.

Accounts (year 2025, as of 30.06.2025; active = an order in the 90 days up to the date):
  K1 KEY  KAM1  orders 15.11.2024 (1000), 10.02.2025 (500 + 250), 01.06.2025 (2000),
                01.03.2024 (300, last year's same period) -> active 1 Jan and 30 Jun: retained
  K2 KEY  KAM2  orders 20.12.2024 (800), 01.03.2025 (400) -> active 1 Jan, not on 30 Jun
  K3 A    KAM1  orders 05.05.2025 (700), 10.07.2025 (999, after as-of)
  K4 C    -     child of K1 (KAM1 sees it), order 15.01.2025 (100)
  K5 KEY  KAM2  status 'lost': orders 01.12.2024 (600), 15.06.2025 (50) -> active 1 Jan (orders),
                not on 30 Jun (the CRM status is today's and wins at the as-of date only): lost
  K6 KEY  KAM2  status 'active', no orders -> not active 1 Jan (judged from orders), active on
                30 Jun (status): new, not counted
Services 2025: K1 INNOVATION_WS 4500 silent (+ 1000 on 01.08., after as-of), K3 TRAINING 1800
billed, K4 CUSTOM_PACKAGING 650 waived, K2 express shipment 120 not charged; K3 standard
shipment (not a service).
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from kam_analytics.access import Scope
from kam_analytics.metrics import overview as ov

YEAR, AS_OF = 2025, dt.date(2025, 6, 30)
ALL = Scope.everything()
KAM1 = Scope(username="k1", role="kam", kam_id="KAM1")
KAM2 = Scope(username="k2", role="kam", kam_id="KAM2")
NOBODY = Scope(username="x", role="kam", kam_id=None)


@pytest.fixture
def tiny(con):
    con.execute(
        "INSERT INTO kams (kam_id, name) VALUES ('KAM1', 'Katrin Eins'), ('KAM2', 'Jan Zwei')"
    )
    con.execute(
        """INSERT INTO accounts (account_id, name, tier, kam_id, parent_id, status) VALUES
        ('K1', 'Eins GmbH', 'KEY', 'KAM1', NULL, NULL),
        ('K2', 'Zwei AG', 'KEY', 'KAM2', NULL, NULL),
        ('K3', 'Drei KG', 'A', 'KAM1', NULL, NULL),
        ('K4', 'Eins Werk Ulm', 'C', NULL, 'K1', NULL),
        ('K5', 'Fünf SE', 'KEY', 'KAM2', NULL, 'lost'),
        ('K6', 'Sechs GmbH', 'KEY', 'KAM2', NULL, 'active')"""
    )
    con.execute(
        """INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue) VALUES
        ('O1', '1', 'K1', DATE '2024-11-15', 1000),
        ('O2', '1', 'K1', DATE '2025-02-10', 500),
        ('O2', '2', 'K1', DATE '2025-02-10', 250),
        ('O3', '1', 'K1', DATE '2025-06-01', 2000),
        ('O4', '1', 'K1', DATE '2024-03-01', 300),
        ('O5', '1', 'K2', DATE '2024-12-20', 800),
        ('O6', '1', 'K2', DATE '2025-03-01', 400),
        ('O7', '1', 'K3', DATE '2025-05-05', 700),
        ('O8', '1', 'K3', DATE '2025-07-10', 999),
        ('O9', '1', 'K4', DATE '2025-01-15', 100),
        ('O10', '1', 'K5', DATE '2024-12-01', 600),
        ('O11', '1', 'K5', DATE '2025-06-15', 50)"""
    )
    con.execute(
        """INSERT INTO service_events (event_id, account_id, date, service_code, quantity,
            cost, list_value, billed_amount, billing_mode) VALUES
        ('E1', 'K1', DATE '2025-04-01', 'INNOVATION_WS', 1, 2400, 4500, 0, 'silent'),
        ('E2', 'K3', DATE '2025-05-10', 'TRAINING', 1, 900, 1800, 1800, 'billed'),
        ('E3', 'K4', DATE '2025-03-03', 'CUSTOM_PACKAGING', 1, 300, 650, 0, 'waived'),
        ('E4', 'K1', DATE '2025-08-01', 'INNOVATION_WS', 1, 500, 1000, 0, 'silent')"""
    )
    con.execute(
        """INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost,
            freight_charged, billing_mode) VALUES
        ('S1', 'K2', DATE '2025-02-02', 'express', 120, 0, 'silent'),
        ('S2', 'K3', DATE '2025-02-02', 'standard', 50, 0, NULL)"""
    )
    return con


def test_kpis_everything(tiny):
    kpi = ov.select_overview_kpis(tiny, ALL, YEAR, AS_OF)
    assert kpi["start"] == dt.date(2025, 1, 1) and kpi["as_of"] == AS_OF
    assert kpi["key_accounts"] == 4  # K1, K2, K5, K6
    assert kpi["revenue"] == 2750 + 400 + 700 + 100 + 50  # 4000
    assert kpi["revenue_prev"] == 300
    assert kpi["service_value"] == 4500 + 1800 + 650 + 120  # 7070
    assert kpi["unbilled_value"] == 4500 + 650 + 120  # 5270
    assert kpi["unbilled_share"] == pytest.approx(5270 / 7070)
    # the retention page's rule (retention.py): K1, K2, K5 active on 1 January by orders
    assert kpi["key_active_start"] == 3
    assert kpi["key_retained"] == 1  # K1 (K2 quiet since March, K5 marked lost)
    assert kpi["key_lost"] == 2
    assert kpi["retention"] == pytest.approx(1 / 3)


def test_kpis_kam_scope_sees_only_own_accounts(tiny):
    kam1 = ov.select_overview_kpis(tiny, KAM1, YEAR, AS_OF)
    # K1, K3 and the group child K4
    assert (kam1["key_accounts"], kam1["revenue"], kam1["revenue_prev"]) == (1, 3550, 300)
    assert (kam1["service_value"], kam1["unbilled_value"]) == (6950, 5150)
    assert (kam1["key_active_start"], kam1["key_retained"], kam1["retention"]) == (1, 1, 1.0)

    kam2 = ov.select_overview_kpis(tiny, KAM2, YEAR, AS_OF)
    # K2, K5, K6
    assert (kam2["key_accounts"], kam2["revenue"], kam2["revenue_prev"]) == (3, 450, 0)
    assert (kam2["service_value"], kam2["unbilled_value"], kam2["unbilled_share"]) == (
        120,
        120,
        1.0,
    )
    assert (kam2["key_active_start"], kam2["key_retained"], kam2["retention"]) == (2, 0, 0.0)

    none = ov.select_overview_kpis(tiny, NOBODY, YEAR, AS_OF)
    assert (none["key_accounts"], none["revenue"], none["service_value"]) == (0, 0, 0)
    assert none["retention"] is None and none["unbilled_share"] is None


def test_as_of_defaults_to_year_end_and_is_capped(tiny):
    full = ov.select_overview_kpis(tiny, ALL, YEAR)
    assert full["as_of"] == dt.date(2025, 12, 31)
    assert full["revenue"] == 4000 + 999
    assert full["service_value"] == 7070 + 1000
    # on 31.12. nobody ordered within 90 days; K6 is active by status only, but was not
    # active on 1 January, so it is not retained
    assert (full["key_active_start"], full["key_retained"]) == (3, 0)
    capped = ov.select_overview_kpis(tiny, ALL, YEAR, dt.date(2026, 3, 1))
    assert capped["as_of"] == dt.date(2025, 12, 31) and capped["revenue"] == 4999


def test_data_years(tiny):
    assert ov.select_data_years(tiny, ALL) == [2024, 2025]
    assert ov.select_data_years(tiny, KAM1) == [2024, 2025]
    assert ov.select_data_years(tiny, NOBODY) == []


def test_revenue_by_month(tiny):
    df = ov.select_revenue_by_month(tiny, ALL, YEAR, AS_OF)
    assert list(df["month"]) == list(range(1, 13))
    assert list(df["revenue"][:6]) == [100, 750, 400, 0, 700, 2050]
    assert all(math.isnan(v) for v in df["revenue"][6:])
    assert list(df["revenue_prev"]) == [0, 0, 300, 0, 0, 0, 0, 0, 0, 0, 1000, 1400]
    kam2 = ov.select_revenue_by_month(tiny, KAM2, YEAR, AS_OF)
    assert list(kam2["revenue"][:6]) == [0, 0, 400, 0, 0, 50]
    assert list(kam2["revenue_prev"][10:]) == [0, 1400]


def test_service_value_by_tier(tiny):
    df = ov.select_service_value_by_tier(tiny, ALL, YEAR, AS_OF)
    assert len(df) == 12
    got = {(r.tier, r.billing_mode): (r.list_value, r.unbilled_value) for r in df.itertuples()}
    assert got[("KEY", "silent")] == (4620, 4620)  # workshop 4500 + express 120
    assert got[("A", "billed")] == (1800, 0)
    assert got[("C", "waived")] == (650, 650)
    assert sum(v for v, _ in got.values()) == 7070
    kam1 = ov.select_service_value_by_tier(tiny, KAM1, YEAR, AS_OF)
    assert kam1["list_value"].sum() == 6950


def test_key_accounts_table(tiny):
    df = ov.select_key_accounts(tiny, ALL, YEAR, AS_OF)
    assert list(df["account_id"]) == ["K1", "K2", "K5", "K6"]
    assert list(df["kam_name"]) == ["Katrin Eins", "Jan Zwei", "Jan Zwei", "Jan Zwei"]
    assert list(df["revenue"]) == [2750, 400, 50, 0]
    assert list(df["revenue_prev"]) == [300, 0, 0, 0]
    assert df["change"][0] == pytest.approx(2750 / 300 - 1)
    assert df["change"][1:].isna().all()
    assert [d.date() for d in df["last_order"][:3]] == [
        dt.date(2025, 6, 1),
        dt.date(2025, 3, 1),
        dt.date(2025, 6, 15),
    ]
    assert df["last_order"].isna().tolist() == [False, False, False, True]
    kam1 = ov.select_key_accounts(tiny, KAM1, YEAR, AS_OF)
    assert list(kam1["account_id"]) == ["K1"]
