"""The demo company: determinism, counts, lineage and the four stories a user recognises."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace

import duckdb
import pytest

from kam_analytics import catalogue, schema
from kam_analytics import demo as demo_module
from kam_analytics.cli import main as cli_main
from kam_analytics.demo import BONUS_DEFAULTS, SCALES, STORIES, write_demo

TODAY = dt.date(2026, 11, 23)


def table_hashes(path, skip: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """sha256 of every table's rows ordered by all columns (minus the `skip` columns)."""
    skip = skip or {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for name, table in schema.ALL_TABLES.items():
            cols = [c.name for c in schema.table_columns(table) if c.name not in skip.get(name, ())]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'SELECT {select} FROM "{name}" ORDER BY ALL').fetchall()
            out[name] = hashlib.sha256(repr(rows).encode()).hexdigest() + f":{len(rows)}"
        return out
    finally:
        con.close()


# The small company's shape generated month by month, the way the xl company is (which is too
# large for a test): every invariant below holds for both generators.
BY_MONTH = "small-by-month"


@pytest.fixture(scope="module", params=["small", BY_MONTH])
def pinned(request, tmp_path_factory):
    """Two small demos with the same seed and pinned today, and one with another seed."""
    base = tmp_path_factory.mktemp("pinned")
    paths = {k: base / f"{k}.duckdb" for k in ("a", "b", "other")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(demo_module.SCALES, BY_MONTH, replace(SCALES["small"], by_month=True))
        for key, seed in (("a", 42), ("b", 42), ("other", 7)):
            write_demo(paths[key], scale=request.param, seed=seed, today=TODAY, with_users=False)
    return paths


@pytest.fixture(scope="module")
def demo(pinned):
    con = duckdb.connect(str(pinned["a"]), read_only=True)
    yield con
    con.close()


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def scalar(con, sql, params=None):
    return rows(con, sql, params)[0][0]


def test_same_seed_and_today_give_identical_tables(pinned):
    a, b = table_hashes(pinned["a"]), table_hashes(pinned["b"])
    assert a == b
    assert a["orders"].split(":")[1] != "0"


def test_other_seed_gives_other_data(pinned):
    a, other = table_hashes(pinned["a"]), table_hashes(pinned["other"])
    for name in ("accounts", "orders", "shipments", "service_events", "feedback", "mandates"):
        assert a[name] != other[name], name
    # reference data does not depend on the seed
    assert a["service_catalogue"] == other["service_catalogue"]
    assert a["entitlement_matrix"] == other["entitlement_matrix"]


def test_demo_users_differ_only_in_hashes_and_times(tmp_path):
    p1, p2 = tmp_path / "1.duckdb", tmp_path / "2.duckdb"
    write_demo(p1, seed=42, today=TODAY)
    write_demo(p2, seed=42, today=TODAY)
    skip = {
        "users": ("password_hash", "created_at", "last_login"),
        "audit_log": ("at",),
        "settings": ("updated_at",),
    }
    assert table_hashes(p1, skip) == table_hashes(p2, skip)
    con = duckdb.connect(str(p1), read_only=True)
    try:
        assert scalar(con, "SELECT count(*) FROM users") == 12  # admin, leitung, kam01..kam10
        assert scalar(con, "SELECT count(*) FROM users WHERE role = 'kam'") == 10
    finally:
        con.close()


def test_counts_and_tiers(demo):
    assert rows(demo, "SELECT tier, count(*) FROM accounts GROUP BY 1 ORDER BY 1") == [
        ("A", 22),
        ("B", 36),
        ("C", 50),
        ("KEY", 12),
    ]
    assert scalar(demo, "SELECT count(*) FROM kams") == 10
    assert scalar(demo, "SELECT count(*) FROM accounts WHERE tier = 'KEY' AND kam_id IS NULL") == 0
    with_kam = scalar(demo, "SELECT avg((kam_id IS NOT NULL)::INT) FROM accounts WHERE tier = 'A'")
    assert with_kam >= 0.6
    salaries = rows(
        demo,
        "SELECT min(base_salary), max(base_salary), min(target_bonus), max(target_bonus) FROM kams",
    )[0]
    assert 70_000 <= salaries[0] <= salaries[1] <= 95_000
    assert 12_000 <= salaries[2] <= salaries[3] <= 25_000
    assert scalar(demo, "SELECT count(*) FROM kams WHERE email NOT LIKE '%@demo-firma.de'") == 0
    # three customer groups of 2-4 children under a key account
    groups = rows(
        demo,
        "SELECT p.tier, count(*) FROM accounts c JOIN accounts p ON p.account_id = c.parent_id"
        " GROUP BY p.account_id, p.tier ORDER BY 2",
    )
    assert groups == [("KEY", 2), ("KEY", 3), ("KEY", 4)]


def test_time_span_three_full_years_and_current_year(demo):
    first, last = rows(demo, "SELECT min(order_date), max(order_date) FROM orders")[0]
    assert first.year == TODAY.year - 3 and first <= dt.date(TODAY.year - 3, 1, 10)
    assert TODAY - dt.timedelta(days=7) <= last <= TODAY
    assert scalar(demo, "SELECT max(ship_date) FROM shipments") <= TODAY
    assert scalar(demo, "SELECT max(date) FROM service_events") <= TODAY
    years = [r[0] for r in rows(demo, "SELECT DISTINCT year FROM entitlement_matrix ORDER BY 1")]
    assert years == [2023, 2024, 2025, 2026]
    assert scalar(demo, "SELECT count(*) FROM entitlement_matrix") == 4 * 12 * 4
    plans = rows(
        demo,
        "SELECT year, w_retention, w_mandate, w_feedback, retention_gate, cap"
        " FROM bonus_plans ORDER BY year",
    )
    assert plans == [(y, *BONUS_DEFAULTS.values()) for y in years]
    assert scalar(demo, "SELECT count(*) FROM kam_pay") == 40
    # weekday orders only, several lines per order on average
    assert scalar(demo, "SELECT count(*) FROM orders WHERE dayofweek(order_date) IN (0, 6)") == 0
    lines = scalar(demo, "SELECT count(*) / count(DISTINCT order_id) FROM orders")
    assert 2.0 <= lines <= 5.0


def test_revenue_is_concentrated(demo):
    share = scalar(
        demo,
        "SELECT sum(net_revenue) FILTER (WHERE a.tier IN ('KEY', 'A')) / sum(net_revenue)"
        " FROM orders o JOIN accounts a USING (account_id) WHERE year(order_date) = 2025",
    )
    assert 0.75 <= share <= 0.95


def test_services_cover_catalogue_and_all_billing_modes(demo):
    codes = {r[0] for r in rows(demo, "SELECT DISTINCT service_code FROM service_events_all")}
    assert codes == {s[0] for s in catalogue.DEFAULT_SERVICES}
    assert "EXPRESS_FREIGHT" not in {
        r[0] for r in rows(demo, "SELECT DISTINCT service_code FROM service_events")
    }
    modes = rows(
        demo,
        "SELECT billing_mode, count(*) FROM shipments WHERE ship_mode = 'express' GROUP BY 1"
        " ORDER BY 1",
    )
    assert [m for m, _ in modes] == ["billed", "silent", "waived"]
    express = scalar(demo, "SELECT avg((ship_mode = 'express')::INT) FROM shipments")
    assert 0.03 <= express <= 0.06
    # billed express freight is charged at cost; waived and silent are not charged
    assert (
        scalar(
            demo,
            "SELECT count(*) FROM shipments WHERE ship_mode = 'express' AND ("
            " (billing_mode = 'billed' AND freight_charged <> freight_cost)"
            " OR (billing_mode <> 'billed' AND freight_charged <> 0))",
        )
        == 0
    )
    assert [
        r[0] for r in rows(demo, "SELECT DISTINCT billing_mode FROM service_events ORDER BY 1")
    ] == ["billed", "silent", "waived"]
    # amounts: list value and cost = catalogue x quantity; billed = list value or 0
    assert (
        scalar(
            demo,
            "SELECT count(*) FROM service_events e JOIN service_catalogue c USING (service_code)"
            " WHERE e.list_value <> c.list_value * e.quantity OR e.cost <> c.cost * e.quantity"
            " OR e.billed_amount <> CASE WHEN e.billing_mode = 'billed' THEN e.list_value ELSE 0 END",
        )
        == 0
    )


def test_giveaways_exist(demo):
    exclusive_to_others = scalar(
        demo,
        "SELECT count(*) FROM service_events e JOIN accounts a USING (account_id)"
        " JOIN entitlement_matrix m ON m.year = year(e.date) AND m.service_code = e.service_code"
        " AND m.tier = a.tier WHERE m.policy = 'not_offered' AND a.tier IN ('B', 'C')",
    )
    billed_not_billed = scalar(
        demo,
        "SELECT count(*) FROM service_events_all e JOIN accounts a USING (account_id)"
        " JOIN entitlement_matrix m ON m.year = year(e.date) AND m.service_code = e.service_code"
        " AND m.tier = a.tier WHERE m.policy = 'billed' AND e.billing_mode <> 'billed'",
    )
    assert exclusive_to_others >= 10
    assert billed_not_billed >= 50


def test_mandates_and_feedback(demo):
    assert scalar(demo, "SELECT count(*) FROM mandates") == 12 * 4
    assert (
        scalar(
            demo,
            "SELECT count(*) FROM mandates WHERE year < 2026 AND (contact_rating IS NULL"
            " OR objectives_rating IS NULL OR success_measures_rating IS NULL"
            " OR support_rating IS NULL OR contact IS NULL OR support IS NULL)",
        )
        == 0
    )
    assert scalar(demo, "SELECT count(contact_rating) FROM mandates WHERE year = 2026") == 0
    unanswered = scalar(
        demo,
        "SELECT count(*) FROM mandates WHERE year = 2026 AND (objectives IS NULL"
        " OR success_measures IS NULL OR support IS NULL)",
    )
    assert unanswered >= 2
    kinds = dict(rows(demo, "SELECT kind, count(*) FROM feedback GROUP BY 1"))
    assert set(kinds) == {"survey", "praise", "complaint"}
    assert (
        scalar(
            demo,
            "SELECT count(*) FROM feedback WHERE kind = 'survey' AND"
            " (score IS NULL OR score < 0 OR score > 10)",
        )
        == 0
    )
    assert scalar(demo, "SELECT count(score) FROM feedback WHERE kind <> 'survey'") == 0


def test_every_row_traces_to_an_import(demo):
    logs = rows(
        demo,
        "SELECT import_id, table_name, rows_inserted, file_name, status, username"
        " FROM import_log ORDER BY import_id",
    )
    assert [r[1] for r in logs] == [
        "kams",
        "accounts",
        "orders",
        "shipments",
        "service_events",
        "mandates",
        "feedback",
    ]
    for import_id, table, n, file_name, status, user in logs:
        assert (file_name, status, user) == ("Demo-Firma (seed 42)", "done", "demo")
        stats = rows(
            demo,
            f"SELECT count(*), count(DISTINCT import_id), min(import_id), min(source_row),"
            f' max(source_row), count(DISTINCT source_row) FROM "{table}"',
        )[0]
        assert stats == (n, 1, import_id, 1, n, n), table


def story_ids(con) -> dict:
    return json.loads(scalar(con, "SELECT value FROM settings WHERE key = 'demo'"))


def test_stories_are_documented(demo):
    ids = story_ids(demo)
    assert set(STORIES) <= set(ids)
    assert ids["today"] == TODAY.isoformat() and ids["seed"] == 42


def test_story_a_slipping_key_account(demo):
    ids = story_ids(demo)
    # the key account with the oldest last order is the one slipping away
    oldest = rows(
        demo,
        "SELECT account_id, max(order_date) FROM orders JOIN accounts USING (account_id)"
        " WHERE tier = 'KEY' GROUP BY 1 ORDER BY 2 LIMIT 1",
    )[0]
    assert oldest[0] == ids["slipping_key_account"]
    assert (TODAY - oldest[1]).days > 120
    last12, prev12 = rows(
        demo,
        "SELECT sum(net_revenue) FILTER (WHERE order_date > $t - 365),"
        " sum(net_revenue) FILTER (WHERE order_date <= $t - 365 AND order_date > $t - 730)"
        " FROM orders WHERE account_id = $a",
        {"t": TODAY, "a": oldest[0]},
    )[0]
    assert float(last12) < 0.5 * float(prev12)


def test_story_b_weekly_free_express_for_a_c_customer(demo):
    ids = story_ids(demo)
    top = rows(
        demo,
        "SELECT s.account_id, a.tier, count(*), count(DISTINCT date_trunc('week', ship_date)),"
        " sum(freight_charged), count(*) FILTER (WHERE billing_mode = 'silent')"
        " FROM shipments s JOIN accounts a USING (account_id)"
        " WHERE ship_mode = 'express' AND ship_date > ? - 365 AND a.tier = 'C'"
        " GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1",
        [TODAY],
    )[0]
    assert top[0] == ids["weekly_free_express"]
    assert top[1] == "C"
    assert top[2] >= 52 and top[3] >= 50  # every week
    assert top[4] == 0  # never charged
    assert top[5] >= 52  # silent


def test_story_c_exemplary_kam(demo):
    ids = story_ids(demo)
    best = rows(
        demo,
        "SELECT a.kam_id, min(least(contact_rating, objectives_rating, success_measures_rating,"
        " support_rating)) FROM mandates m JOIN accounts a USING (account_id)"
        " WHERE m.year < 2026 GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    )[0]
    assert best[0] == ids["exemplary_kam"] and best[1] >= 90
    complete = scalar(
        demo,
        "SELECT bool_and(contact IS NOT NULL AND objectives IS NOT NULL"
        " AND success_measures IS NOT NULL AND support IS NOT NULL)"
        " FROM mandates m JOIN accounts a USING (account_id) WHERE a.kam_id = ?",
        [best[0]],
    )
    assert complete is True
    surveys = scalar(
        demo,
        "SELECT avg(score) FROM feedback f JOIN accounts a USING (account_id)"
        " WHERE a.kam_id = ? AND a.tier = 'KEY' AND kind = 'survey'",
        [best[0]],
    )
    assert surveys >= 9.0


def test_story_d_kam_with_every_key_account_at_risk(demo):
    ids = story_ids(demo)
    accounts = rows(
        demo,
        "SELECT account_id FROM accounts WHERE tier = 'KEY' AND kam_id = ? ORDER BY 1",
        [ids["at_risk_kam"]],
    )
    assert [r[0] for r in accounts] == sorted(ids["at_risk_accounts"])
    for (account,) in accounts:
        last, last12, prev12 = rows(
            demo,
            "SELECT max(order_date), sum(net_revenue) FILTER (WHERE order_date > $t - 365),"
            " sum(net_revenue) FILTER (WHERE order_date <= $t - 365 AND order_date > $t - 730)"
            " FROM orders WHERE account_id = $a",
            {"t": TODAY, "a": account},
        )[0]
        assert 50 <= (TODAY - last).days < 90  # a long gap, but still active
        assert float(last12) <= 0.75 * float(prev12)  # trailing 12 months down 25 % or more
        scores = [
            r[0]
            for r in rows(
                demo,
                "SELECT score FROM feedback WHERE account_id = ? AND kind = 'survey'"
                " ORDER BY date DESC LIMIT 2",
                [account],
            )
        ]
        assert scores[0] <= scores[1] - 2  # satisfaction fell by 2 or more
        answered = rows(
            demo,
            "SELECT (objectives IS NULL)::INT + (success_measures IS NULL)::INT"
            " + (support IS NULL)::INT FROM mandates WHERE account_id = ? AND year = 2026",
            [account],
        )
        assert answered == [(3,)]  # this year's mandate: only the contact is written down


def test_demo_db_fixture_is_current(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        today = dt.date.fromisoformat(story_ids(con)["today"])
        assert today == dt.date.today()
        assert scalar(con, "SELECT count(*) FROM accounts WHERE tier = 'KEY'") == 12
        assert scalar(con, "SELECT max(order_date) FROM orders") <= today
    finally:
        con.close()


def test_cli_demo_refuses_to_overwrite_without_force(tmp_path, capsys):
    path = tmp_path / "d.duckdb"
    assert cli_main(["demo", "--db", str(path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"demo (small, seed 3) written to {path}: 120 accounts, 10 kams, ")
    assert out.rstrip().endswith("MB)") and out.count("\n") == 1
    size = path.stat().st_size
    assert cli_main(["demo", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"The database {path} already exists" in err and "--force" in err
    assert path.stat().st_size == size
    assert cli_main(["demo", "--db", str(path), "--seed", "4", "--force"]) == 0
    assert "seed 4" in capsys.readouterr().out


def test_unknown_scale_is_a_config_error(tmp_path):
    from kam_analytics.errors import ConfigError

    with pytest.raises(ConfigError, match="Unknown demo scale 'huge'"):
        write_demo(tmp_path / "x.duckdb", scale="huge")


LEGAL_FORMS = r" (GmbH & Co\. KG|GmbH|AG|KG|SE|OHG|e\.K\.|UG)$"


@pytest.mark.parametrize("which", ["a", "other"])
def test_company_names_are_unique(pinned, which):
    # Failed before: "Spreeoptik Feinkost GmbH" and "Spreeoptik Feinkost AG" were two key
    # accounts of two KAMs (seed 42) -- one company to any reader.
    con = duckdb.connect(str(pinned[which]), read_only=True)
    try:
        assert rows(con, "SELECT count(*) = count(DISTINCT name) FROM accounts") == [(True,)]
        twins = rows(
            con,
            "SELECT regexp_replace(name, ?, '') AS base, list(name) FROM accounts "
            "WHERE parent_id IS NULL GROUP BY base HAVING count(*) > 1",
            [LEGAL_FORMS],
        )
        assert twins == []
    finally:
        con.close()


def test_no_comment_repeats_on_a_kams_page_in_a_year(demo):
    # Failed before: KAM01's praise of 2024 was one sentence nine times.
    repeated = rows(
        demo,
        "SELECT a.kam_id, year(f.date), f.kind, f.comment, count(*) FROM feedback f "
        "JOIN accounts a USING (account_id) WHERE f.comment IS NOT NULL AND a.kam_id IS NOT NULL "
        "GROUP BY ALL HAVING count(*) > 1",
    )
    assert repeated == []
    kinds = rows(demo, "SELECT count(DISTINCT comment) FROM feedback WHERE kind = 'praise'")
    assert kinds[0][0] >= 12


def test_order_numbers_follow_the_calendar_across_months(demo):
    # Month by month, order numbers and source rows continue where the last month ended.
    assert rows(
        demo,
        "SELECT count(*) FROM (SELECT order_date, lag(order_date) OVER (ORDER BY order_id)"
        " AS before FROM orders) WHERE order_date < before",
    ) == [(0,)]
    assert rows(
        demo,
        "SELECT count(DISTINCT order_id) = max(CAST(substr(order_id, 3) AS INT)) FROM orders",
    ) == [(True,)]


def test_xl_is_ten_times_large():
    xl, large = SCALES["xl"], SCALES["large"]
    assert (xl.n_accounts, xl.n_key, xl.n_kams) == (10 * large.n_accounts, 10 * large.n_key, 400)
    assert xl.by_month and not large.by_month
    assert (xl.full_years, xl.order_factor, xl.service_factor) == (
        large.full_years,
        large.order_factor,
        large.service_factor,
    )
