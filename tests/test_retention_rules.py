"""The retention rules on whole columns (issue 15) against the per-account rules they replaced.

`_reference_rows` and `_reference_score` are the scalar code compute_retention and the
back-test ran per account before the rules took columns (kept here only as the oracle):
hypothesis-generated merged inputs must give the same frame, value for value and dtype for
dtype. Then hand-computed cases of the column rules and a median gap check of
select_order_stats against Python's statistics.median on random order dates.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam_analytics.access import Scope
from kam_analytics.metrics.retention import (
    apply_rules,
    fired_signals,
    join_signal_codes,
    risk_scores,
    select_order_stats,
)
from kam_analytics.settings_store import RetentionSettings
from kam_analytics.summaries import refresh_summaries

D = dt.date
ALL = Scope.everything()
DEFAULTS = RetentionSettings()


# --- the scalar oracle (the code before issue 15) ------------------------------------------


def _flag(value) -> bool:
    if value is None or (not isinstance(value, bool | np.bool_) and pd.isna(value)):
        return False
    return bool(value)


def _num(value) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def _reference_signals(s, n_dates, days, limit, rev, sat, answered) -> list[str]:
    fired = []
    if n_dates >= 3 and limit is not None and days is not None and days > limit:
        fired.append("order_gap")
    if rev is not None and rev <= -s.revenue_drop + 1e-12:
        fired.append("revenue_drop")
    if sat is not None and sat <= -s.satisfaction_drop + 1e-12:
        fired.append("satisfaction_drop")
    if answered is not None and answered < 4:
        fired.append("mandate_incomplete")
    return fired


def _reference_rows(df: pd.DataFrame, as_of: dt.date, s, check_mandate: bool) -> pd.DataFrame:
    rows = []
    for rec in df.to_dict(orient="records"):
        active_start = _flag(rec.get("orders_active_start"))
        status = rec.get("status") if isinstance(rec.get("status"), str) else None
        by_orders = _flag(rec.get("orders_active_end"))
        active_end = False if status == "lost" else True if status == "active" else by_orders
        last = rec.get("last_order")
        last = pd.Timestamp(last).date() if last is not None and not pd.isna(last) else None
        gap_days = (as_of - last).days if last else None
        n_dates = int(rec["order_dates"]) if _num(rec.get("order_dates")) is not None else 0
        median_gap = _num(rec.get("median_gap"))
        gap_limit = s.gap_factor * median_gap if median_gap is not None else None
        rev_t12 = _num(rec.get("revenue_t12")) or 0.0
        rev_prev = _num(rec.get("revenue_prev12")) or 0.0
        rev_change = (rev_t12 - rev_prev) / rev_prev if rev_prev > 0 else None
        sat_latest, sat_prev = _num(rec.get("sat_latest")), _num(rec.get("sat_previous"))
        sat_change = (
            sat_latest - sat_prev if sat_latest is not None and sat_prev is not None else None
        )
        answered = int(_num(rec.get("mandate_answered")) or 0)
        fired = _reference_signals(
            s,
            n_dates,
            gap_days,
            gap_limit,
            rev_change,
            sat_change,
            answered if check_mandate else None,
        )
        rows.append(
            {
                "account_id": rec["account_id"],
                "name": rec.get("name"),
                "tier": rec.get("tier"),
                "kam_id": rec.get("kam_id"),
                "kam_name": rec.get("kam_name"),
                "status": status,
                "active_start": active_start,
                "active_end": active_end,
                "active_end_by_orders": by_orders,
                "retained": active_start and active_end,
                "lost": active_start and not active_end,
                "at_risk": bool(fired),
                "signals": ";".join(fired),
                "first_order": rec.get("first_order"),
                "last_order": last,
                "days_since_last_order": gap_days,
                "order_dates": n_dates,
                "median_gap_days": median_gap,
                "gap_limit_days": gap_limit,
                "revenue_t12": round(rev_t12, 2),
                "revenue_prev12": round(rev_prev, 2),
                "revenue_change": rev_change,
                "sat_latest": sat_latest,
                "sat_latest_date": rec.get("sat_latest_date"),
                "sat_previous": sat_prev,
                "sat_change": sat_change,
                "mandate_answered": answered,
                "mandate_checked": check_mandate,
            }
        )
    return pd.DataFrame(rows)


def _known(v) -> bool:
    return v is not None and not pd.isna(v)


def _reference_score(row: dict, s) -> float:
    parts = [0.0]
    days, limit = row.get("days_since_last_order"), row.get("gap_limit_days")
    if row.get("order_dates", 0) >= 3 and _known(days) and _known(limit) and limit > 0:
        parts.append(float(days) / float(limit))
    elif _known(days) and s.activity_window_days > 0:
        parts.append(float(days) / float(s.activity_window_days))
    change = row.get("revenue_change")
    if _known(change) and s.revenue_drop > 0:
        parts.append(max(0.0, -float(change)) / s.revenue_drop)
    sat = row.get("sat_change")
    if _known(sat) and s.satisfaction_drop > 0:
        parts.append(max(0.0, -float(sat)) / s.satisfaction_drop)
    return max(parts)


# --- generated inputs shaped like compute_retention's merge of the four queries -------------

AS_OF = D(2025, 6, 30)
maybe = st.none
money = st.sampled_from([0.0, 100.0, 75.0, 150.0, 20000.0, 15000.0, 0.01, 1234.56])
account = st.fixed_dictionaries(
    {
        "has_stats": st.booleans(),
        "active_start": st.booleans(),
        "active_end": st.booleans(),
        "status": st.sampled_from([None, "lost", "active", "prospect"]),
        "kam": st.sampled_from([None, "K1", "K2"]),
        "days_back": st.integers(0, 800),
        "first_back": st.integers(0, 400),
        "order_dates": st.integers(1, 400),
        "median_gap": maybe() | st.sampled_from([1.0, 2.0, 2.5, 30.0, 91.0, 22.5]),
        "rev_t12": money,
        "rev_prev": money,
        "sat_latest": maybe() | st.integers(0, 10).map(float),
        "sat_previous": maybe() | st.integers(0, 10).map(float),
        "mandate": maybe() | st.integers(0, 4).map(float),
    }
)


def _inputs(accounts: list[dict]) -> pd.DataFrame:
    def stat(a, value):
        return value if a["has_stats"] else None

    def day(a, back):
        return pd.Timestamp(AS_OF - dt.timedelta(days=back)) if a["has_stats"] else pd.NaT

    n = len(accounts)
    ids = [f"A{i:03d}" for i in range(n)]
    df = pd.DataFrame(
        {
            "account_id": ids,
            "name": [f"Kunde {i}" for i in ids],
            "tier": ["KEY"] * n,
            "kam_id": [a["kam"] for a in accounts],
            "kam_name": [None if a["kam"] is None else f"Name {a['kam']}" for a in accounts],
            "status": [a["status"] for a in accounts],
            "parent_id": [None] * n,
            # a left join: no order statistics -> NaN in object bool columns
            "orders_active_start": pd.Series(
                [stat(a, a["active_start"]) for a in accounts], dtype=object
            ),
            "orders_active_end": pd.Series(
                [stat(a, a["active_end"]) for a in accounts], dtype=object
            ),
            "first_order": pd.Series(
                [day(a, a["days_back"] + a["first_back"]) for a in accounts],
                dtype="datetime64[us]",
            ),
            "last_order": pd.Series(
                [day(a, a["days_back"]) for a in accounts], dtype="datetime64[us]"
            ),
            "order_dates": [stat(a, float(a["order_dates"])) for a in accounts],
            "revenue_t12": [stat(a, a["rev_t12"]) for a in accounts],
            "revenue_prev12": [stat(a, a["rev_prev"]) for a in accounts],
            "median_gap": [stat(a, a["median_gap"]) for a in accounts],
            "sat_latest": [a["sat_latest"] for a in accounts],
            "sat_latest_date": pd.Series(
                [
                    pd.NaT if a["sat_latest"] is None else pd.Timestamp(D(2025, 3, 1))
                    for a in accounts
                ],
                dtype="datetime64[us]",
            ),
            "sat_previous": [a["sat_previous"] for a in accounts],
            "mandate_answered": [a["mandate"] for a in accounts],
        }
    )
    for col in ("order_dates", "revenue_t12", "revenue_prev12", "median_gap", "sat_latest"):
        df[col] = df[col].astype(float)  # DuckDB's numbers after the left join
    for col in ("sat_previous", "mandate_answered"):
        df[col] = df[col].astype(float)
    return df


def _assert_same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    for col in new.columns:
        assert [type(v) for v in new[col].tolist()] == [type(v) for v in old[col].tolist()], col


@settings(max_examples=150, deadline=None)
@given(
    accounts=st.lists(account, min_size=1, max_size=25),
    check_mandate=st.booleans(),
    gap_factor=st.sampled_from([1.0, 1.5, 2.0]),
    revenue_drop=st.sampled_from([0.1, 0.25, 0.5]),
    satisfaction_drop=st.sampled_from([1.0, 2.0, 3.0]),
)
def test_rules_on_columns_equal_the_scalar_rules(
    accounts, check_mandate, gap_factor, revenue_drop, satisfaction_drop
):
    s = RetentionSettings(
        gap_factor=gap_factor, revenue_drop=revenue_drop, satisfaction_drop=satisfaction_drop
    )
    df = _inputs(accounts)
    new = apply_rules(df, as_of=AS_OF, settings=s, check_mandate=check_mandate)
    _assert_same(new, _reference_rows(df, AS_OF, s, check_mandate))
    scores = risk_scores(
        s,
        order_dates=new["order_dates"],
        days_since_last_order=new["days_since_last_order"],
        gap_limit_days=new["gap_limit_days"],
        revenue_change=new["revenue_change"],
        satisfaction_change=new["sat_change"],
    )
    expected = [_reference_score(r, s) for r in new.to_dict(orient="records")]
    assert scores.tolist() == expected


def test_no_accounts_give_the_documented_columns():
    df = _inputs([]).iloc[0:0]
    out = apply_rules(df, as_of=AS_OF, settings=DEFAULTS, check_mandate=True)
    assert out.empty and "signals" in out.columns and "lost" in out.columns


# --- hand-computed cases of the column rules -------------------------------------------------


def test_signals_by_hand():
    # A: 3 dates, 47 days > limit 46.5 -> gap; B: 2 dates, no gap limit; C: exactly -25 %
    # and -2 points fire; D: -24.9 % and -1.9 do not; mandate: 3 answered < 4
    fired = fired_signals(
        DEFAULTS,
        order_dates=[3, 2, 5, 5],
        days_since_last_order=[47, 500, 1, None],
        gap_limit_days=[46.5, None, 30.0, 30.0],
        revenue_change=[None, None, -0.25, -0.249],
        satisfaction_change=[None, None, -2.0, -1.9],
        mandate_answered=[4, 4, 3, None],
    )
    assert join_signal_codes(fired).tolist() == [
        "order_gap",
        "",
        "revenue_drop;satisfaction_drop;mandate_incomplete",
        "",  # nothing known fires nothing (compute_retention counts a missing mandate as 0)
    ]


def test_mandate_not_checked_fires_nothing():
    fired = fired_signals(
        DEFAULTS,
        order_dates=[0],
        days_since_last_order=[None],
        gap_limit_days=[None],
        revenue_change=[None],
        satisfaction_change=[None],
        mandate_answered=None,
    )
    assert join_signal_codes(fired).tolist() == [""]


def test_risk_scores_by_hand():
    # the back-test's P2 (81 / 22.5 = 3.6), P4 (2 dates: 29 / window 90), a revenue drop of
    # 50 % (0.5 / 0.25 = 2) beside a small gap, a satisfaction rise (0), no order at all (0)
    scores = risk_scores(
        DEFAULTS,
        order_dates=[4, 2, 10, 10, 0],
        days_since_last_order=[81, 29, 1, 1, None],
        gap_limit_days=[22.5, None, 10.0, 10.0, None],
        revenue_change=[None, None, -0.5, 0.3, None],
        satisfaction_change=[None, None, None, 2.0, None],
    )
    assert scores.tolist() == pytest.approx([3.6, 29 / 90, 2.0, 0.1, 0.0])
    assert math.isclose(scores[1], 29 / 90)


# --- the median gap in SQL -------------------------------------------------------------------

dates_strategy = st.lists(
    st.lists(st.integers(0, 700), min_size=1, max_size=12, unique=True), min_size=1, max_size=6
)


@pytest.fixture(scope="module")
def order_con(tmp_path_factory):
    from kam_analytics import db

    connection = db.connect(tmp_path_factory.mktemp("rules") / "kam.duckdb")
    yield connection
    connection.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(per_account=dates_strategy)
def test_median_gap_equals_python_median(order_con, per_account):
    con = order_con
    con.execute("DELETE FROM orders")
    con.execute("DELETE FROM accounts")
    base = D(2024, 1, 1)
    for i, offsets in enumerate(per_account):
        con.execute(
            "INSERT INTO accounts (account_id, name, tier) VALUES (?, ?, 'KEY')", [f"A{i}", "x"]
        )
        for j, off in enumerate(offsets):
            con.execute(
                "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue)"
                " VALUES (?, '1', ?, ?, 10)",
                [f"A{i}-{j}", f"A{i}", base + dt.timedelta(days=off)],
            )
    # same row counts as an earlier example would leave a stale summary: rebuild it
    refresh_summaries(con, {"orders"})
    as_of = D(2025, 6, 30)
    stats = select_order_stats(con, ALL, D(2025, 1, 1), as_of, 90).set_index("account_id")
    for i, offsets in enumerate(per_account):
        days = sorted(o for o in offsets if base + dt.timedelta(days=o) <= as_of)
        if not days:  # every order after the as-of date: no statistics
            assert f"A{i}" not in stats.index
            continue
        gaps = [b - a for a, b in zip(days, days[1:], strict=False)]
        row = stats.loc[f"A{i}"]
        assert row["order_dates"] == len(days)
        if gaps:
            assert row["median_gap"] == statistics.median(gaps)
        else:
            assert pd.isna(row["median_gap"])
