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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    from kam_analytics.metrics.overview import select_overview_kpis
    from tests.conftest import run_cli

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


# --- money figures: overview, services page, report, account page, deck, review pack --------


def _periods(con):
    out = []
    for year in _years(con):
        as_of = dt.date(year, 12, 31) if year < dt.date.today().year else dt.date.today()
        out.append((year, as_of))
    return out


def _cents(x) -> float:
    return round(float(x), 2)


def test_service_value_and_unbilled_are_the_same_everywhere(variant_db):
    from kam_analytics.metrics.overview import select_overview_kpis, select_service_value_by_tier
    from kam_analytics.metrics.review import collect_review_data
    from kam_analytics.metrics.services import report_services, summarise_service_events

    con = db.connect(variant_db)
    try:
        for year, as_of in _periods(con):
            kpi = select_overview_kpis(con, EVERYONE, year, as_of)
            report = report_services(con, year=year, as_of=as_of, scope=EVERYONE)
            page = summarise_service_events(con, EVERYONE, year=year, as_of=as_of)["total"]
            by_tier = select_service_value_by_tier(con, EVERYONE, year, as_of)
            pack = collect_review_data(con, year, scope=EVERYONE, as_of=as_of)
            value = _cents(kpi["service_value"])
            assert value > 0
            assert _cents(report["list_value"].sum()) == value
            assert _cents(page["list_value"]) == value
            assert _cents(by_tier["list_value"].sum()) == value
            assert _cents(pack.by_tier["list_value"].sum()) == value
            unbilled = _cents(kpi["unbilled_value"])
            assert _cents(report["unbilled_value"].sum()) == unbilled
            assert _cents(page["unbilled_value"]) == unbilled
            assert _cents(pack.by_tier["unbilled_value"].sum()) == unbilled
            # the share the overview shows is the services page's share
            assert kpi["unbilled_share"] == pytest.approx(
                page["unbilled_value"] / page["list_value"]
            )
    finally:
        con.close()


def test_per_account_service_value_is_the_same_on_report_account_page_and_deck(variant_db):
    from kam_analytics.metrics.account import account_summary
    from kam_analytics.metrics.account_value import collect_account_data
    from kam_analytics.metrics.services import report_services, summarise_service_events

    con = db.connect(variant_db)
    try:
        for year, as_of in _periods(con):
            report = report_services(con, year=year, as_of=as_of, scope=EVERYONE)
            page = summarise_service_events(con, EVERYONE, year=year, as_of=as_of)["account"]
            page = page.set_index("account_id")
            keys = report[report["tier"] == "KEY"].sort_values("list_value").tail(4)
            for row in keys.itertuples():
                summary = account_summary(
                    con, account_id=row.account_id, year=year, as_of=as_of, scope=EVERYONE
                )
                deck = collect_account_data(con, row.account_id, year, scope=EVERYONE, as_of=as_of)
                received = summary["services"]
                assert _cents(received["list_value"].sum()) == row.list_value
                assert _cents(received["unbilled_value"].sum()) == row.unbilled_value
                assert deck.totals["list_value"] == row.list_value
                assert deck.totals["unbilled_value"] == row.unbilled_value
                assert _cents(page.at[row.account_id, "list_value"]) == row.list_value
                # counts of events
                assert int(received["events"].sum()) == deck.totals["events"]
                assert int(page.at[row.account_id, "events"]) == deck.totals["events"]
                for mode in ("silent", "waived", "billed"):
                    assert deck.totals[f"value_{mode}"] == getattr(row, f"value_{mode}")
    finally:
        con.close()


def test_leakage_is_the_same_on_report_page_and_review_pack(variant_db):
    from kam_analytics.metrics.giveaways import report_giveaways, select_findings, totals_by
    from kam_analytics.metrics.review import collect_review_data

    con = db.connect(variant_db)
    try:
        for year, as_of in _periods(con):
            report = report_giveaways(con, year=year, as_of=as_of, scope=EVERYONE)
            found = select_findings(con, EVERYONE, year=year, as_of=as_of)
            pack = collect_review_data(con, year, scope=EVERYONE, as_of=as_of)
            total = _cents(report["leakage"].sum())
            assert total > 0
            assert _cents(found["leakage"].sum()) == total
            assert _cents(totals_by(found, "account_id")["leakage"].sum()) == total
            assert _cents(pack.leakage_by_account["leakage"].sum()) == total
            assert _cents(pack.leakage_by_service["leakage"].sum()) == total
            assert len(report) == len(found) == len(pack.findings)
    finally:
        con.close()


def test_bonus_per_kam_is_the_same_on_report_page_pack_and_statement(variant_db):
    import io

    import openpyxl

    from kam_analytics.exports.bonus_statement import statement_xlsx
    from kam_analytics.metrics.bonus import get_standing, report_bonus
    from kam_analytics.metrics.review import collect_review_data

    con = db.connect(variant_db)
    try:
        for year, as_of in _periods(con):
            report = report_bonus(con, year=year, as_of=as_of, scope=EVERYONE).set_index("kam_id")
            pack = {
                s.kam_id: s
                for s in collect_review_data(con, year, scope=EVERYONE, as_of=as_of).standings
            }
            assert set(pack) == set(report.index)
            for kam_id in list(report.index)[:4]:
                page = get_standing(con, kam_id=kam_id, year=year, as_of=as_of, scope=EVERYONE)
                bonus = report.at[kam_id, "bonus"]
                assert round(page.now.bonus, 2) == bonus == round(pack[kam_id].now.bonus, 2)
                assert round(page.best.bonus, 2) == report.at[kam_id, "bonus_best"]
                assert round(page.worst.bonus, 2) == report.at[kam_id, "bonus_worst"]
                book = openpyxl.load_workbook(io.BytesIO(statement_xlsx(page, "de")))
                values = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
                assert any(
                    isinstance(v, int | float) and round(float(v), 2) == bonus for v in values
                ), f"{kam_id}: {bonus} not in the statement"
    finally:
        con.close()


def _pdf_summary(pdf: bytes) -> dict[str, str]:
    """The statement PDF's first page as {label: printed value} (pdftotext -layout)."""
    import re
    import subprocess

    text = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    pairs = (re.match(r"^(\S.*?)\s{3,}(\S.*)$", line) for line in text.splitlines())
    return {m.group(1).strip(): m.group(2).strip() for m in pairs if m}


def _german_number(printed: str) -> float:
    """1.234,56 € / 94,5 % as a number (the € and % signs dropped)."""
    return float(printed.rstrip("€% ").replace(".", "").replace(",", "."))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) missing")
def test_bonus_statement_pdf_prints_the_report_figures(variant_db):
    """What the PDF statement prints (bonus now/best/worst, accounts counted, R, M, F) is the
    report's row and the bonus page's standing."""
    from kam_analytics.exports.bonus_statement import statement_pdf
    from kam_analytics.i18n import t
    from kam_analytics.metrics.bonus import get_standing, report_bonus

    con = db.connect(variant_db)
    try:
        for year, as_of in _periods(con):
            report = report_bonus(con, year=year, as_of=as_of, scope=EVERYONE).set_index("kam_id")
            # one KAM a period keeps the suite fast (a PDF takes about a second): the one whose
            # best and worst case lie furthest apart, so that the three bonus lines differ
            spread = report["bonus_best"] - report["bonus_worst"]
            for kam_id in [spread.idxmax()]:
                row = report.loc[kam_id]
                page = get_standing(con, kam_id=kam_id, year=year, as_of=as_of, scope=EVERYONE)
                printed = _pdf_summary(statement_pdf(page, "de"))
                for key, expected in (
                    ("bonus_now", row["bonus"]),
                    ("bonus_best", row["bonus_best"]),
                    ("bonus_worst", row["bonus_worst"]),
                ):
                    assert printed[t(key, "de")].endswith(" €"), printed[t(key, "de")]
                    assert _german_number(printed[t(key, "de")]) == expected, (kam_id, key)
                assert _german_number(printed[t("bonus_now", "de")]) == round(page.now.bonus, 2)
                assert int(printed[t("st_accounts_counted", "de")]) == row["accounts"]
                for name in ("R", "M", "F"):
                    if row[name] == row[name]:  # NaN: no ratings / surveys
                        assert _german_number(printed[name]) == round(row[name] * 100, 1), name
                assert printed[t("year", "de")] == str(year)
                assert printed[t("as_of", "de")] == as_of.strftime("%d.%m.%Y")
    finally:
        con.close()


def test_account_page_retention_is_the_report_row(variant_db):
    from kam_analytics.metrics.account import account_summary
    from kam_analytics.metrics.retention import report_retention

    con = db.connect(variant_db)
    try:
        for year, as_of in _periods(con):
            rep = report_retention(con, year=year, as_of=as_of, scope=EVERYONE)
            for row in rep.head(6).itertuples():
                got = account_summary(
                    con, account_id=row.account_id, year=year, as_of=as_of, scope=EVERYONE
                )["retention"]
                assert (got["active_start"], got["active_end"], got["retained"]) == (
                    row.active_start,
                    row.active_end,
                    row.retained,
                )
                assert got["signals"] == row.signals
    finally:
        con.close()


# --- small random companies -------------------------------------------------------------------

BASE = dt.date(2024, 1, 1)
account_st = st.fixed_dictionaries(
    {
        "tier": st.sampled_from(["KEY", "KEY", "A", "C"]),
        "status": st.sampled_from([None, None, "lost", "active"]),
        "kam": st.sampled_from(["KAM1", "KAM2", None]),
        "orders": st.lists(
            st.tuples(st.integers(0, 730), st.integers(1, 500_000)), min_size=0, max_size=8
        ),
        "events": st.lists(
            st.tuples(
                st.integers(0, 730),
                st.sampled_from(["TRAINING", "INNOVATION_WS", "EXPRESS_FREIGHT_X"]),
                st.integers(0, 300_000),
                st.sampled_from(["silent", "waived", "billed"]),
            ),
            max_size=4,
        ),
    }
)


def _write_company(path, accounts, window):
    con = db.connect(path)
    con.execute("INSERT INTO kams (kam_id, name) VALUES ('KAM1', 'Eins'), ('KAM2', 'Zwei')")
    for i, a in enumerate(accounts):
        acc = f"A{i}"
        con.execute(
            "INSERT INTO accounts (account_id, name, tier, kam_id, status) VALUES (?, ?, ?, ?, ?)",
            [acc, f"Firma {i}", a["tier"], a["kam"], a["status"]],
        )
        for j, (day, cents) in enumerate(a["orders"]):
            con.execute(
                "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue)"
                " VALUES (?, '1', ?, ?, ?)",
                [f"O{i}-{j}", acc, BASE + dt.timedelta(days=day), cents / 100],
            )
        for j, (day, code, cents, mode) in enumerate(a["events"]):
            date = BASE + dt.timedelta(days=day)
            if code == "EXPRESS_FREIGHT_X":
                charged = cents / 100 if mode == "billed" else 0
                con.execute(
                    "INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode,"
                    " freight_cost, freight_charged, billing_mode) VALUES (?, ?, ?, 'express',"
                    " ?, ?, ?)",
                    [f"S{i}-{j}", acc, date, cents / 100, charged, mode],
                )
            else:
                billed = cents / 100 if mode == "billed" else 0
                con.execute(
                    "INSERT INTO service_events (event_id, account_id, date, service_code,"
                    " quantity, cost, list_value, billed_amount, billing_mode)"
                    " VALUES (?, ?, ?, ?, 1, 0, ?, ?, ?)",
                    [f"E{i}-{j}", acc, date, code, cents / 100, billed, mode],
                )
    rs = get_retention_settings(con)
    save_retention_settings(con, ADMIN, {**rs.__dict__, "activity_window_days": window})
    return con


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    accounts=st.lists(account_st, min_size=1, max_size=6),
    window=st.sampled_from([14, 90, 200]),
    as_of_day=st.integers(366, 730),
)
def test_random_companies_agree_everywhere(tmp_path_factory, accounts, window, as_of_day):
    from kam_analytics.metrics import bonus, retention
    from kam_analytics.metrics.overview import report_overview
    from kam_analytics.metrics.services import report_services, summarise_service_events

    path = tmp_path_factory.mktemp("rnd") / "r.duckdb"
    con = _write_company(path, accounts, window)
    try:
        as_of = BASE + dt.timedelta(days=as_of_day)
        year = as_of.year
        ov = report_overview(con, year=year, as_of=as_of, scope=EVERYONE).iloc[0]
        rep = retention.report_retention(con, year=year, as_of=as_of, scope=EVERYONE)
        assert ov["key_accounts"] == len(rep)
        assert ov["key_active_start"] == int(rep["active_start"].sum())
        assert ov["key_retained"] == int(rep["retained"].sum())
        # by hand: active on a day = the CRM status there, else an order in [day - window, day]
        start = dt.date(year, 1, 1)
        kept = began = 0
        for a in accounts:
            if a["tier"] != "KEY":
                continue
            days = [BASE + dt.timedelta(days=d) for d, _ in a["orders"]]
            at_start = any(start - dt.timedelta(days=window) <= d <= start for d in days)
            at_end = any(as_of - dt.timedelta(days=window) <= d <= as_of for d in days)
            at_end = {"lost": False, "active": True}.get(a["status"], at_end)
            began += at_start
            kept += at_start and at_end
        assert (ov["key_active_start"], ov["key_retained"]) == (began, kept)
        standings = bonus.compute_standings(con, year=year, as_of=as_of, scope=EVERYONE)
        with_kam = rep[rep["kam_id"].notna()]
        assert sum(len(s.counted) for s in standings) == int(with_kam["active_start"].sum())
        services = report_services(con, year=year, as_of=as_of, scope=EVERYONE)
        page = summarise_service_events(con, EVERYONE, year=year, as_of=as_of)["total"]
        assert _cents(services["list_value"].sum()) == _cents(ov["service_value"])
        assert _cents(page["list_value"]) == _cents(ov["service_value"])
        assert _cents(page["unbilled_value"]) == _cents(ov["unbilled_value"])
        revenue = sum(
            c / 100
            for a in accounts
            for d, c in a["orders"]
            if start <= BASE + dt.timedelta(days=d) <= as_of
        )
        assert _cents(ov["revenue"]) == _cents(revenue)
    finally:
        con.close()


# --- the pages themselves (AppTest) and their page-data functions ---------------------------


def test_page_data_is_the_report(variant_db):
    from kam_analytics.metrics.overview import report_overview
    from kam_analytics.metrics.retention import report_retention
    from kam_analytics.page_data.overview import load_overview
    from kam_analytics.page_data.retention import load_retention

    con = db.connect(variant_db)
    try:
        for year, as_of in _periods(con):
            ov = load_overview(con, EVERYONE, year=year, as_of=as_of)
            rep = report_overview(con, year=year, as_of=as_of, scope=EVERYONE).iloc[0]
            for col in ("key_accounts", "key_active_start", "key_retained", "revenue"):
                assert ov.kpis[col] == rep[col]
            rt = load_retention(con, EVERYONE, year=year, as_of=as_of)
            rows = report_retention(con, year=year, as_of=as_of, scope=EVERYONE)
            assert rt.counts.active_start == int(rows["active_start"].sum())
            assert rt.counts.retained == int(rows["retained"].sum())
            assert rt.counts.at_risk == int(rows["at_risk"].sum())
            assert int(rt.by_kam["retained"].sum()) == rt.counts.retained
            assert int(rt.by_tier["active_start"].sum()) == rt.counts.active_start
    finally:
        con.close()


def _metrics(at) -> dict[str, tuple[str, str]]:
    """label -> (value, delta) of every st.metric of the last run."""
    return {m.label: (m.value, m.proto.delta) for m in at.metric}


def test_overview_and_retention_pages_show_the_report_counts(variant_db, tmp_path, monkeypatch):
    """With a lost key account or a 14-day window the two pages show the report's counts."""
    from streamlit.testing.v1 import AppTest

    from kam_analytics.glossary import state_label
    from kam_analytics.i18n import t
    from kam_analytics.metrics.retention import report_retention
    from tests.conftest import ROOT

    path = tmp_path / "app.duckdb"
    shutil.copy(variant_db, path)
    today = dt.date.today()
    con = db.connect(path)
    try:
        rows = report_retention(con, year=today.year, as_of=today, scope=EVERYONE)
    finally:
        con.close()
    started, kept = int(rows["active_start"].sum()), int(rows["retained"].sum())
    monkeypatch.setenv("KAM_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["scope"] = Scope(username="leitung", role="management")
    at.session_state["lang"] = "de"
    at.run()
    assert not at.exception
    shown = _metrics(at)
    _, delta = shown[t("ov_retention", "de")]
    assert delta == t("ov_retention_delta", "de", kept=kept, start=started)
    at.switch_page("pages/retention.py").run()
    assert not at.exception
    shown = _metrics(at)
    assert shown[t("ret_m_active_start", "de")][0] == str(started)
    assert shown[state_label("retained", "de")][0] == str(kept)
