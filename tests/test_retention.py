"""Retention flags on a hand-built scenario: every flag and number computed by hand below.

Scenario 2025, evaluated as of 30.09.2025 (defaults: window 90 days, gap 1.5x median,
revenue drop 25 %, satisfaction drop 2 points, mandate checked after 30 June):

A1 KEY K1  orders every 15th, Jan 2024 .. Sep 2025; nothing fires       -> retained
A2 KEY K1  orders 01.06.24, 01.09.24, 01.12.24, 01.03.25 (gaps 92/91/90, median 91,
           limit 136.5, 213 days since) + no mandate -> order_gap;mandate_incomplete, lost
A3 KEY K1  revenue 20.000 -> 15.000 (-25 % exactly), surveys 9 -> 7 -> revenue_drop;
           satisfaction_drop; retained
A4 KEY K2  changed KAM during 2025 (K1 -> K2): the current KAM K2 owns it the whole year
A5 KEY K2  ordered in September but CRM status 'lost' (CRM wins at the as-of date), 3 of 4
           mandate answers -> mandate_incomplete
A6 KEY K2  first order 01.05.2025: not active on 1 January, active at the as-of date
A7 KEY --  no KAM, no orders at all
B1 A   K1  not a key account: not in the report
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kam_analytics.access import Scope
from kam_analytics.metrics.retention import (
    cohort_table,
    compute_retention,
    report_retention,
    revenue_trend,
    summarize_retention,
)
from kam_analytics.periods import shift_months
from tests.conftest import run_cli

D = dt.date
ALL = Scope.everything()
AS_OF = D(2025, 9, 30)
FULL = {
    "contact": "Dr. Weiß, Einkauf",
    "objectives": "Rahmenvertrag",
    "success_measures": "QBR",
    "support": "Innendienst",
}


def add_account(con, account_id, tier, kam_id, status=None, name=None):
    con.execute(
        "INSERT INTO accounts (account_id, name, tier, kam_id, status) VALUES (?, ?, ?, ?, ?)",
        [account_id, name or f"Kunde {account_id}", tier, kam_id, status],
    )


def add_orders(con, account_id, orders):
    for i, (day, revenue) in enumerate(orders):
        con.execute(
            "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue, "
            "cost_of_goods) VALUES (?, '1', ?, ?, ?, ?)",
            [f"{account_id}-{i}", account_id, day, revenue, round(revenue * 0.6, 2)],
        )


def add_survey(con, account_id, day, score, kind="survey", comment=None):
    n = con.execute("SELECT count(*) FROM feedback").fetchall()[0][0]
    con.execute(
        "INSERT INTO feedback (feedback_id, account_id, date, score, kind, comment) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [f"F{n + 1:03d}", account_id, day, score, kind, comment],
    )


def add_mandate(con, account_id, year, answers=None, ratings=(None, None, None, None)):
    a = answers or {}
    con.execute(
        "INSERT INTO mandates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        [
            account_id,
            year,
            a.get("contact"),
            a.get("objectives"),
            a.get("success_measures"),
            a.get("support"),
            *ratings,
        ],
    )


def monthly(first: dt.date, last: dt.date, revenue: float):
    out, d = [], first
    while d <= last:
        out.append((d, revenue))
        d = shift_months(d, 1)
    return out


def build_scenario_2025(con):
    """The 2025 scenario of the module docstring (also used by tests/test_bonus.py)."""
    con.execute(
        "INSERT INTO kams VALUES ('K1', 'Anna Müller', 'anna@x.de', 60000, 10000, NULL, NULL), "
        "('K2', 'Ben Becker', 'ben@x.de', 55000, 8000, NULL, NULL), "
        "('K3', 'Carla Graf', 'carla@x.de', 50000, 6000, NULL, NULL)"
    )
    con.execute("INSERT INTO kam_pay VALUES ('K2', 2025, 56000, 9000)")
    add_account(con, "A1", "KEY", "K1")
    add_orders(con, "A1", monthly(D(2024, 1, 15), D(2025, 9, 15), 1000))
    add_mandate(con, "A1", 2025, FULL, (80, 90, 70, 100))
    add_survey(con, "A1", D(2025, 3, 1), 8)
    add_survey(con, "A1", D(2025, 6, 1), 9)
    add_survey(con, "A1", D(2025, 7, 1), None, "praise", "Immer erreichbar, super Service!")

    add_account(con, "A2", "KEY", "K1")
    add_orders(
        con,
        "A2",
        [
            (D(2024, 6, 1), 5000),
            (D(2024, 9, 1), 5000),
            (D(2024, 12, 1), 5000),
            (D(2025, 3, 1), 5000),
        ],
    )

    add_account(con, "A3", "KEY", "K1")
    add_orders(
        con,
        "A3",
        [
            (D(2023, 10, 15), 10000),
            (D(2024, 3, 15), 10000),
            (D(2024, 10, 15), 5000),
            (D(2024, 12, 20), 4000),
            (D(2025, 8, 15), 6000),
        ],
    )
    add_mandate(con, "A3", 2025, FULL, (60, None, None, None))
    add_survey(con, "A3", D(2024, 11, 1), 9)
    add_survey(con, "A3", D(2025, 5, 1), 7)

    add_account(con, "A4", "KEY", "K2", "active")
    add_orders(con, "A4", [(D(2024, 12, 10), 2000), (D(2025, 9, 1), 2000)])
    add_mandate(con, "A4", 2025, FULL)

    add_account(con, "A5", "KEY", "K2", "lost")
    add_orders(con, "A5", [(D(2024, 12, 15), 3000), (D(2025, 9, 20), 3000)])
    add_mandate(con, "A5", 2025, {**FULL, "support": "  "})

    add_account(con, "A6", "KEY", "K2")
    add_orders(con, "A6", [(D(2025, 5, 1), 1000), (D(2025, 8, 1), 1000)])
    add_mandate(con, "A6", 2025, FULL)

    add_account(con, "A7", "KEY", None)
    add_account(con, "B1", "A", "K1")
    add_orders(con, "B1", [(D(2025, 9, 1), 700)])


@pytest.fixture
def scenario(con):
    build_scenario_2025(con)
    return con


def test_report_flags_computed_by_hand(scenario):
    df = report_retention(scenario, year=2025, as_of=AS_OF, scope=ALL)
    assert list(df.columns) == [
        "account_id",
        "kam_id",
        "active_start",
        "active_end",
        "retained",
        "at_risk",
        "signals",
    ]
    got = {
        r.account_id: (r.kam_id, r.active_start, r.active_end, r.retained, r.at_risk, r.signals)
        for r in df.itertuples()
    }
    assert got == {
        "A1": ("K1", True, True, True, False, ""),
        "A2": ("K1", True, False, False, True, "order_gap;mandate_incomplete"),
        "A3": ("K1", True, True, True, True, "revenue_drop;satisfaction_drop"),
        "A4": ("K2", True, True, True, False, ""),
        "A5": ("K2", True, False, False, True, "mandate_incomplete"),
        "A6": ("K2", False, True, False, False, ""),
        "A7": (None, False, False, False, True, "mandate_incomplete"),
    }


def test_numbers_behind_the_signals(scenario):
    d = compute_retention(scenario, year=2025, as_of=AS_OF, scope=ALL).set_index("account_id")
    a2 = d.loc["A2"]
    assert a2["median_gap_days"] == 91.0
    assert a2["gap_limit_days"] == 136.5
    assert a2["days_since_last_order"] == 213
    assert a2["order_dates"] == 4
    a3 = d.loc["A3"]
    assert (a3["revenue_t12"], a3["revenue_prev12"]) == (15000.0, 20000.0)
    assert a3["revenue_change"] == pytest.approx(-0.25)
    assert a3["median_gap_days"] == 183.0  # gaps 152, 214, 66, 238
    assert (a3["sat_latest"], a3["sat_previous"], a3["sat_change"]) == (7.0, 9.0, -2.0)
    a1 = d.loc["A1"]
    assert a1["median_gap_days"] == 31.0  # 20 monthly gaps: 28, 29, 6 x 30, 12 x 31
    assert (a1["revenue_t12"], a1["revenue_prev12"]) == (12000.0, 9000.0)
    assert a1["mandate_answered"] == 4
    assert d.loc["A5", "mandate_answered"] == 3  # a blank answer is not an answer


def test_mandate_signal_only_after_mid_year(scenario):
    df = report_retention(scenario, year=2025, as_of=D(2025, 6, 30), scope=ALL)
    sig = dict(zip(df["account_id"], df["signals"], strict=True))
    assert "mandate_incomplete" not in ";".join(sig.values())
    # On 30.06.2025 A2 is 121 days past its last order: not yet beyond 136.5.
    assert sig["A2"] == ""


def test_year_end_default_and_kam_scope(scenario):
    # Year 2025 is complete (today is later): year-end figures. A1's last order 15.09.2025 is
    # more than 90 days before 31.12.2025, so A1 counts as lost at year end.
    df = report_retention(scenario, year=2025, as_of=None, scope=ALL).set_index("account_id")
    if dt.date.today() > D(2025, 12, 31):
        assert not df.loc["A1", "active_end"]
        # 107 days > 1.5 x 31 = 46.5; revenue Jan-Sep 2025 9.000 vs 12.000 in 2024 = -25 %
        assert df.loc["A1", "signals"] == "order_gap;revenue_drop"
    kam = report_retention(scenario, year=2025, as_of=AS_OF, scope=Scope("k2", "kam", "K2"))
    assert list(kam["account_id"]) == ["A4", "A5", "A6"]
    nobody = report_retention(scenario, year=2025, as_of=AS_OF, scope=Scope("x", "kam", None))
    assert nobody.empty and list(nobody.columns)[0] == "account_id"


def test_summary_per_kam(scenario):
    d = compute_retention(scenario, year=2025, as_of=AS_OF, scope=ALL)
    s = summarize_retention(d, ["kam_id"]).set_index("kam_id")
    assert s.loc["K1", ["accounts", "active_start", "retained", "lost", "at_risk"]].tolist() == [
        3,
        3,
        2,
        1,
        2,
    ]
    assert s.loc["K1", "rate"] == pytest.approx(2 / 3)
    assert s.loc["K2", ["accounts", "active_start", "retained", "lost", "at_risk"]].tolist() == [
        3,
        2,
        1,
        1,
        1,
    ]


def test_cohorts_and_trend(scenario):
    c = cohort_table(scenario, as_of=AS_OF, scope=ALL).set_index(["cohort", "year"])
    # 2023 cohort: A3 only; end of 2024 its last order was 20.12.2024 -> active.
    assert c.loc[(2023, 2023)].tolist() == [1, 1, 1.0]
    assert c.loc[(2023, 2024)].tolist() == [1, 1, 1.0]
    # 2024 cohort: A1, A2, A4, A5. End 2024: A1 (15.12.), A2 (01.12.), A4, A5 active = 4/4.
    # As of 30.09.2025: A1 (15.09.), A4 (01.09.), A5 (20.09.) active, A2 not = 3/4.
    assert c.loc[(2024, 2025)].tolist() == [4, 3, 0.75]
    assert c.loc[(2025, 2025)].tolist() == [1, 1, 1.0]
    t = revenue_trend(scenario, account_ids=["A3"], until=AS_OF, scope=ALL, months=12)
    # every month from October 2024 to September 2025, 0 where nothing was ordered
    assert [d.strftime("%Y-%m") for d in t["month"]][:3] == ["2024-10", "2024-11", "2024-12"]
    assert t["revenue"].tolist() == [5000.0, 0, 4000.0, 0, 0, 0, 0, 0, 0, 0, 6000.0, 0]
    hidden = revenue_trend(
        scenario, account_ids=["A3"], until=AS_OF, scope=Scope("k2", "kam", "K2")
    )
    assert hidden.empty


def test_cli_report_retention(scenario, db_path):
    scenario.close()
    out = run_cli(
        "report",
        "retention",
        "--db",
        str(db_path),
        "--year",
        "2025",
        "--as-of",
        "30.09.2025",
        "--format",
        "json",
        check=True,
    )
    rows = {r["account_id"]: r for r in json.loads(out.stdout)}
    assert rows["A3"] == {
        "account_id": "A3",
        "kam_id": "K1",
        "active_start": True,
        "active_end": True,
        "retained": True,
        "at_risk": True,
        "signals": "revenue_drop;satisfaction_drop",
    }
    assert rows["A7"]["kam_id"] is None
    csv = run_cli(
        "report",
        "retention",
        "--db",
        str(db_path),
        "--year",
        "2025",
        "--as-of",
        "2025-09-30",
        check=True,
    ).stdout.splitlines()
    assert csv[0] == "account_id,kam_id,active_start,active_end,retained,at_risk,signals"
    assert "A2,K1,True,False,False,True,order_gap;mandate_incomplete" in csv


def test_one_account_only(scenario):
    # The account page asks for one account: same numbers as in the full computation.
    one = compute_retention(
        scenario, year=2025, as_of=AS_OF, scope=ALL, tiers=None, account_ids=["A2"]
    )
    assert list(one["account_id"]) == ["A2"]
    a2 = one.iloc[0]
    assert (a2["median_gap_days"], a2["gap_limit_days"]) == (91.0, 136.5)
    assert (a2["days_since_last_order"], a2["order_dates"]) == (213, 4)
    assert "order_gap" in a2["signals"]
    # ... and not beyond what the scope may see
    hidden = compute_retention(
        scenario, year=2025, as_of=AS_OF, scope=Scope("k2", "kam", "K2"), account_ids=["A2"]
    )
    assert hidden.empty


def test_the_page_explains_the_first_at_risk_accounts_and_says_how_many_there_are(
    monkeypatch, demo_copy
):
    from streamlit.testing.v1 import AppTest

    from kam_analytics import cache, db
    from kam_analytics.page_data.retention import backtest_years, load_retention
    from tests.conftest import ROOT

    con = db.connect(demo_copy, read_only=True)
    try:
        data = load_retention(con, Scope.everything())
        years = backtest_years(con, Scope.everything())
    finally:
        con.close()
    cache.clear()
    at_risk = list(data.at_risk["account_id"])
    assert len(at_risk) > 2
    assert years == sorted(years) and years[-1] < dt.date.today().year
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    monkeypatch.setattr("kam_analytics.page_data.retention.AT_RISK_SHOWN", 2)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scope"] = Scope(username="leitung", role="management")
    at.run()
    at.switch_page("pages/retention.py").run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert (
        f"Die ersten 2 von {len(at_risk)} gefährdeten Kunden (nach Kundennummer); alle mit "
        "ihren Signalen stehen in den Details unten und in deren Download."
    ) in captions
    # one bold headline per explained account: the first two at-risk accounts, no third
    headlines = [m.value for m in at.markdown if m.value.startswith("**")]
    assert [h[2:].split(" ", 1)[0] for h in headlines] == at_risk[:2]
    # the back-test only on demand (seconds on 50,000 accounts)
    assert not [b for b in at.selectbox if b.key == "bt_year"]
    at.toggle(key="bt_show").set_value(True).run()
    assert not at.exception
    assert at.selectbox(key="bt_year").options == [str(y) for y in years]
    assert at.selectbox(key="bt_year").value == years[-1]
