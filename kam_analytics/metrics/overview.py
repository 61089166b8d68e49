"""The numbers of the overview page: headline KPIs, revenue by month, service value by tier.

- the period is 1 January of `year` to the as-of date (kam_analytics.periods);
- retention (active, retained, the CRM status, the activity window from the settings) is
  asked of the retention metric: the overview counts what the retention page counts.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.metrics.retention import key_retention_counts
from kam_analytics.periods import period_bounds, resolve_period, same_day_last_year
from kam_analytics.summaries import ensure_summaries

TIER_ORDER = ("KEY", "A", "B", "C")
MODE_ORDER = ("silent", "waived", "billed")


def select_data_years(con, scope: Scope) -> list[int]:
    """Years with orders or services of the visible accounts, ascending."""
    ensure_summaries(con)  # reads order_days
    rows = con.execute(
        "SELECT DISTINCT y FROM ("
        " SELECT year(order_date) AS y, account_id FROM order_days"
        " UNION ALL SELECT year(date), account_id FROM service_events_all)"
        " WHERE account_id IN (SELECT account_id FROM visible_accounts(?)) ORDER BY y",
        [scope.kam_param],
    ).fetchall()
    return [int(r[0]) for r in rows]


def select_revenue(con, scope: Scope, start: dt.date, end: dt.date) -> float:
    """Net revenue of the visible accounts' orders from start to end (inclusive)."""
    ensure_summaries(con)  # reads order_days
    row = con.execute(
        "SELECT COALESCE(sum(revenue), 0) FROM order_days"
        " WHERE order_date BETWEEN $start AND $end"
        " AND account_id IN (SELECT account_id FROM visible_accounts($k))",
        {"k": scope.kam_param, "start": start, "end": end},
    ).fetchall()[0]
    return round(float(row[0]), 2)


def select_service_totals(con, scope: Scope, start: dt.date, end: dt.date) -> tuple[float, float]:
    """(list value, unbilled value) of every service given from start to end."""
    row = con.execute(
        "SELECT COALESCE(sum(list_value), 0), COALESCE(sum(unbilled_value), 0)"
        " FROM service_events_all WHERE date BETWEEN $start AND $end"
        " AND account_id IN (SELECT account_id FROM visible_accounts($k))",
        {"k": scope.kam_param, "start": start, "end": end},
    ).fetchall()[0]
    return round(float(row[0]), 2), round(float(row[1]), 2)


def select_overview_kpis(con, scope: Scope, year: int, as_of: dt.date | None = None) -> dict:
    """Headline figures for `year` up to `as_of` (see the module docstring for definitions)."""
    start, end = period_bounds(year, as_of)
    counts = key_retention_counts(con, year=year, as_of=end, scope=scope)
    revenue = select_revenue(con, scope, start, end)
    revenue_prev = select_revenue(con, scope, same_day_last_year(start), same_day_last_year(end))
    service_value, unbilled = select_service_totals(con, scope, start, end)
    return {
        "year": year,
        "start": start,
        "as_of": end,
        "key_accounts": counts.accounts,
        "revenue": revenue,
        "revenue_prev": revenue_prev,
        "service_value": service_value,
        "unbilled_value": unbilled,
        "unbilled_share": unbilled / service_value if service_value else None,
        "key_active_start": counts.active_start,
        "key_retained": counts.retained,
        "key_lost": counts.lost,
        "key_at_risk": counts.at_risk,
        "retention": counts.rate,
    }


def select_revenue_by_month(
    con, scope: Scope, year: int, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Columns month (1-12), revenue (this year to as_of; NaN after), revenue_prev (last year)."""
    ensure_summaries(con)  # reads order_days
    start, end = period_bounds(year, as_of)
    rows = con.execute(
        """
        SELECT month(order_date) AS month,
               sum(revenue) FILTER (WHERE year(order_date) = $year
                                    AND order_date <= $end) AS revenue,
               sum(revenue) FILTER (WHERE year(order_date) = $year - 1) AS revenue_prev
        FROM order_days
        WHERE order_date >= $prev_start AND order_date <= $end
          AND account_id IN (SELECT account_id FROM visible_accounts($k))
        GROUP BY 1
        """,
        {
            "k": scope.kam_param,
            "year": year,
            "end": end,
            "prev_start": dt.date(year - 1, 1, 1),
        },
    ).fetchall()
    found = {int(m): (r, p) for m, r, p in rows}
    out = []
    for month in range(1, 13):
        rev, prev = found.get(month, (None, None))
        in_period = month <= end.month and end >= start
        out.append(
            {
                "month": month,
                "revenue": round(float(rev or 0), 2) if in_period else float("nan"),
                "revenue_prev": round(float(prev or 0), 2),
            }
        )
    return pd.DataFrame(out)


def select_service_value_by_tier(
    con, scope: Scope, year: int, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Columns tier, billing_mode, list_value, unbilled_value; every tier × mode, in order."""
    start, end = period_bounds(year, as_of)
    rows = con.execute(
        """
        SELECT a.tier, e.billing_mode, sum(e.list_value), sum(e.unbilled_value)
        FROM service_events_all e JOIN accounts a USING (account_id)
        WHERE e.date BETWEEN $start AND $end
          AND e.account_id IN (SELECT account_id FROM visible_accounts($k))
        GROUP BY 1, 2
        """,
        {"k": scope.kam_param, "start": start, "end": end},
    ).fetchall()
    found = {(t, m): (v, u) for t, m, v, u in rows}
    out = [
        {
            "tier": tier,
            "billing_mode": mode,
            "list_value": round(float(found.get((tier, mode), (0, 0))[0]), 2),
            "unbilled_value": round(float(found.get((tier, mode), (0, 0))[1]), 2),
        }
        for tier in TIER_ORDER
        for mode in MODE_ORDER
    ]
    return pd.DataFrame(out)


def select_key_accounts(con, scope: Scope, year: int, as_of: dt.date | None = None) -> pd.DataFrame:
    """Key accounts with KAM, revenue this year to as_of vs the same period last year."""
    ensure_summaries(con)  # reads order_days
    start, end = period_bounds(year, as_of)
    df = con.execute(
        """
        SELECT a.account_id, a.name, k.name AS kam_name,
               COALESCE(sum(o.revenue) FILTER (
                   WHERE o.order_date BETWEEN $start AND $end), 0) AS revenue,
               COALESCE(sum(o.revenue) FILTER (
                   WHERE o.order_date BETWEEN $prev_start AND $prev_end), 0) AS revenue_prev,
               max(o.order_date) FILTER (WHERE o.order_date <= $end) AS last_order
        FROM accounts a
        LEFT JOIN kams k ON k.kam_id = a.kam_id
        LEFT JOIN order_days o ON o.account_id = a.account_id
        WHERE a.tier = 'KEY'
          AND a.account_id IN (SELECT account_id FROM visible_accounts($k))
        GROUP BY a.account_id, a.name, k.name
        ORDER BY revenue DESC, a.account_id
        """,
        {
            "k": scope.kam_param,
            "start": start,
            "end": end,
            "prev_start": same_day_last_year(start),
            "prev_end": same_day_last_year(end),
        },
    ).df()
    df["revenue"] = df["revenue"].astype(float).round(2)
    df["revenue_prev"] = df["revenue_prev"].astype(float).round(2)
    prev = df["revenue_prev"].where(df["revenue_prev"] != 0)
    df["change"] = (df["revenue"] / prev - 1).astype(float)
    return df


OVERVIEW_COLUMNS = [
    "year",
    "start",
    "as_of",
    "key_accounts",
    "key_active_start",
    "key_retained",
    "key_lost",
    "key_at_risk",
    "retention",
    "revenue",
    "revenue_prev",
    "service_value",
    "unbilled_value",
    "unbilled_share",
]


def report_overview(
    con, *, year: int | None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """`report overview`: the overview page's headline figures as one row."""
    year, end = resolve_period(year, as_of)
    kpi = select_overview_kpis(con, scope, year, end)
    return pd.DataFrame([{c: kpi[c] for c in OVERVIEW_COLUMNS}], columns=OVERVIEW_COLUMNS)
