"""Every figure shown in more than one place is the same in every place (issue 11).

For several databases — the demo, the demo with a key account marked lost in the CRM, the
demo with other retention settings, and small random companies — each figure is computed
from every place that shows it and compared.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.settings_store import get_retention_settings, save_retention_settings

EVERYONE = Scope.everything()
ADMIN = Scope.everything("admin")


def _variant(demo_db, tmp_path, name: str):
    """A copy of the demo changed the way the issue describes."""
    path = tmp_path / f"{name}.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        if name == "lost":
            # the key account with the highest revenue is marked lost in the CRM
            (acc,) = con.execute(
                "SELECT a.account_id FROM accounts a JOIN orders o USING (account_id)"
                " WHERE a.tier = 'KEY' GROUP BY 1 ORDER BY sum(o.net_revenue) DESC LIMIT 1"
            ).fetchall()[0]
            con.execute("UPDATE accounts SET status = 'lost' WHERE account_id = ?", [acc])
        elif name == "window14":
            rs = get_retention_settings(con)
            save_retention_settings(con, ADMIN, {**rs.__dict__, "activity_window_days": 14})
    finally:
        con.close()
    return path


@pytest.fixture(scope="module", params=["demo", "lost", "window14"])
def variant_db(request, demo_db, tmp_path_factory):
    """The demo and its two changed variants."""
    if request.param == "demo":
        return demo_db
    return _variant(demo_db, tmp_path_factory.mktemp(request.param), request.param)


def _years(con):
    from kam_analytics.metrics.overview import select_data_years

    years = select_data_years(con, EVERYONE)
    return [years[-2], years[-1]]  # a complete year and the running one


def test_key_retention_is_the_same_on_overview_retention_and_bonus(variant_db):
    from kam_analytics.metrics import bonus, retention
    from kam_analytics.metrics.overview import select_overview_kpis

    con = db.connect(variant_db)
    try:
        for year in _years(con):
            as_of = dt.date(year, 12, 31) if year < dt.date.today().year else dt.date.today()
            kpi = select_overview_kpis(con, EVERYONE, year, as_of)
            detail = retention.compute_retention(con, year=year, as_of=as_of, scope=EVERYONE)
            rep = retention.report_retention(con, year=year, as_of=as_of, scope=EVERYONE)
            standings = bonus.compute_standings(con, year=year, as_of=as_of, scope=EVERYONE)
            counted = sum(len(s.counted) for s in standings)
            kept = sum(int(s.counted["active_end"].astype(bool).sum()) for s in standings)
            assert kpi["key_active_start"] == int(detail["active_start"].sum())
            assert kpi["key_retained"] == int(detail["retained"].sum())
            assert kpi["key_active_start"] == int(rep["active_start"].sum())
            assert kpi["key_retained"] == int(rep["retained"].sum())
            # KAM-less key accounts count on the overview, not in any KAM's bonus
            kamless = detail[detail["kam_id"].isna()]
            assert counted == kpi["key_active_start"] - int(kamless["active_start"].sum())
            assert kept == kpi["key_retained"] - int(kamless["retained"].sum())
    finally:
        con.close()


def test_report_overview_agrees_with_report_retention_and_the_function(variant_db, tmp_path):
    from conftest import run_cli

    from kam_analytics.metrics.overview import select_overview_kpis

    con = db.connect(variant_db)
    try:
        year = _years(con)[0]
        kpi = select_overview_kpis(con, EVERYONE, year, dt.date(year, 12, 31))
    finally:
        con.close()
    path = tmp_path / "r.duckdb"
    shutil.copy(variant_db, path)
    ov = run_cli("report", "overview", "--db", str(path), "--year", str(year), "--format", "json")
    assert ov.returncode == 0, ov.stderr
    ret = run_cli("report", "retention", "--db", str(path), "--year", str(year), "--format", "json")
    assert ret.returncode == 0, ret.stderr
    (o,) = json.loads(ov.stdout)
    rows = json.loads(ret.stdout)
    assert o["key_active_start"] == sum(r["active_start"] for r in rows) == kpi["key_active_start"]
    assert o["key_retained"] == sum(r["retained"] for r in rows) == kpi["key_retained"]
    assert o["revenue"] == kpi["revenue"]
