"""The back-test of the at-risk flags on a hand-computed company (issue 17).

Year 2024, as of 30.06.2024, activity window 90 days, gap factor 1.5:
  P1 KAM1  orders 10.01., 10.02., 10.03., 20.06.; 01.11. -> gaps 31/29/102, median 31, limit
           46.5 days; 10 days since the last order: no flag; ordered in November: kept
  P2 KAM1  orders 05.01., 20.01., 04.02., 10.04. -> gaps 15/15/66, limit 22.5; 81 days since:
           order_gap; nothing later: lost
  P3 KAM2  orders 05.01., 20.01., 04.02., 15.04.; 01.12. -> limit 22.5, 76 days: order_gap; kept
  P4 KAM2  orders 01.05., 01.06. -> two order dates, no gap signal; 29 days; nothing later: lost
  P5 KAM2  one order 01.12.2023 -> not active on 30.06.: not in the population
Flags: P2, P3 flagged; P2, P4 lost -> precision 1/2, recall 1/2, lost without flag 1/2.
Risk score (days / gap limit; P4 has too few orders for one: days / window 29/90 = 0.322):
P1 0.215, P2 3.6, P3 3.378, P4 0.322 -> AUC: lost {3.6, 0.322} vs kept {0.215, 3.378}:
3 of 4 pairs = 0.75. Recency: lost {81, 29} vs kept {10, 76}: 3 of 4 = 0.75; the two longest
without an order (P2, P3) contain one lost account.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kam_analytics.access import Scope
from kam_analytics.errors import ConfigError
from kam_analytics.metrics.backtest import (
    backtest_frame,
    backtest_thresholds,
    compute_auc,
    report_backtest,
)

D = dt.date
ALL = Scope.everything()
KAM2 = Scope(username="k2", role="kam", kam_id="KAM2")
ORDERS = {
    "P1": [D(2024, 1, 10), D(2024, 2, 10), D(2024, 3, 10), D(2024, 6, 20), D(2024, 11, 1)],
    "P2": [D(2024, 1, 5), D(2024, 1, 20), D(2024, 2, 4), D(2024, 4, 10)],
    "P3": [D(2024, 1, 5), D(2024, 1, 20), D(2024, 2, 4), D(2024, 4, 15), D(2024, 12, 1)],
    "P4": [D(2024, 5, 1), D(2024, 6, 1)],
    "P5": [D(2023, 12, 1)],
}
KAMS = {"P1": "KAM1", "P2": "KAM1", "P3": "KAM2", "P4": "KAM2", "P5": "KAM2"}


@pytest.fixture
def company(con):
    con.execute("INSERT INTO kams (kam_id, name) VALUES ('KAM1', 'Eins'), ('KAM2', 'Zwei')")
    for acc, dates in ORDERS.items():
        con.execute(
            "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES (?, ?, 'A', ?)",
            [acc, f"Firma {acc}", KAMS[acc]],
        )
        for i, d in enumerate(dates):
            con.execute(
                "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue)"
                " VALUES (?, '1', ?, ?, 100)",
                [f"{acc}-{i}", acc, d],
            )
    return con


def test_population_flags_and_outcomes(company):
    f = backtest_frame(company, year=2024, scope=ALL).set_index("account_id")
    assert list(f.index) == ["P1", "P2", "P3", "P4"]
    assert f["flagged"].tolist() == [False, True, True, False]
    assert f["lost"].tolist() == [False, True, False, True]
    assert f["signals"].tolist() == ["", "order_gap", "order_gap", ""]
    assert f["recency"].tolist() == [10, 81, 76, 29]
    assert f["score"].tolist() == pytest.approx([10 / 46.5, 81 / 22.5, 76 / 22.5, 29 / 90])


def test_report_backtest_figures(company):
    rep = report_backtest(company, year=2024, scope=ALL).set_index("method")
    flags, recency = rep.loc["flags"], rep.loc["recency"]
    assert (flags["accounts"], flags["flagged"], flags["lost"], flags["flagged_lost"]) == (
        4,
        2,
        2,
        1,
    )
    assert flags["precision"] == 0.5 and flags["recall"] == 0.5
    assert flags["lost_rate_unflagged"] == 0.5
    assert flags["auc"] == pytest.approx(0.75)
    assert recency["flagged_lost"] == 1 and recency["auc"] == pytest.approx(0.75)


def test_kam_sees_only_own_accounts(company):
    f = backtest_frame(company, year=2024, scope=KAM2)
    assert f["account_id"].tolist() == ["P3", "P4"]


def test_auc_by_hand():
    assert compute_auc([3, 2, 1], [True, False, False]) == 1.0
    assert compute_auc([1, 2, 3], [True, False, False]) == 0.0
    assert compute_auc([1, 1], [True, False]) == 0.5
    assert compute_auc([1, 2], [False, False]) is None


def test_thresholds_what_if(company):
    # gap factor 4: limits 124 (P1) and 60 days (P2, P3): P2 (81) and P3 (76) still fire;
    # gap factor 6: 90 days: neither fires
    t = backtest_thresholds(company, year=2024, scope=ALL, changes={"gap_factor": [1.5, 4, 6]})
    assert t["flagged"].tolist() == [2, 2, 0]
    assert t["current"].tolist() == [True, False, False]


def test_running_year_is_refused(company):
    with pytest.raises(ConfigError):
        backtest_frame(company, year=dt.date.today().year, scope=ALL)


def test_cli_report_backtest(company, db_path):
    from tests.conftest import run_cli

    company.close()
    out = run_cli("report", "backtest", "--db", str(db_path), "--year", "2024", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["method"]: r for r in json.loads(out.stdout)}
    assert rows["flags"]["precision"] == 0.5 and rows["recency"]["auc"] == 0.75


def test_described_in_words(company):
    from kam_analytics.metrics.backtest import describe_backtest

    rep = report_backtest(company, year=2024, scope=ALL)
    de = [line.replace("\xa0", " ") for line in describe_backtest(rep, "de", 90)]
    assert "30.06.2024" in de[0] and "90 Tagen" in de[0]
    assert (
        de[1] == "Von 2 gewarnten Kunden gingen 1 verloren (50 %); ohne Warnsignal: 1 von 2 (50 %)."
    )
    assert de[2] == "Von allen 2 verlorenen Kunden waren 1 vorher gewarnt (50 %)."
    # AUC 75 % for both: not better than the plain rule, said honestly
    assert de[-1].startswith("Ehrlich gesagt") and de[-1].count("75 %") == 2
    en = describe_backtest(rep, "en", 90)
    assert en[1] == "Of 2 flagged accounts, 1 were lost (50%); without a warning: 1 of 2 (50%)."


def test_the_outcome_is_the_year_end_activity_of_compute_retention_on_the_demo(demo_db):
    from kam_analytics import db
    from kam_analytics.metrics.backtest import backtest_frame
    from kam_analytics.metrics.retention import compute_retention

    con = db.connect(demo_db, read_only=True)
    try:
        last = dt.date.today().year - 1
        for year in (last - 1, last):
            frame = backtest_frame(con, year=year, scope=ALL)
            later = compute_retention(
                con, year=year, as_of=dt.date(year, 12, 31), scope=ALL, tiers=None
            )
            ended = dict(zip(later["account_id"], later["active_end_by_orders"], strict=True))
            assert len(frame) > 50
            assert 0 < int(frame["lost"].sum()) < len(frame)
            assert list(frame["lost"]) == [not bool(ended[a]) for a in frame["account_id"]]
    finally:
        con.close()
