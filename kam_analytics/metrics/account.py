"""One account on one page: tier and entitlement, services and their value, revenue and margin,
retention signals, mandate, feedback and KAM."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.errors import AccessDeniedError, NotFoundError, Reason
from kam_analytics.metrics.abc import with_abc
from kam_analytics.metrics.feedback import list_feedback
from kam_analytics.metrics.mandates import (
    QUESTIONS,
    RATINGS,
    count_answered,
    get_mandate,
    mandate_score,
)
from kam_analytics.metrics.retention import compute_retention
from kam_analytics.periods import is_year_complete, resolve_period
from kam_analytics.summaries import ensure_summaries


def select_account_options(con, scope: Scope) -> pd.DataFrame:
    """Visible accounts for a picker: id, name, tier (key accounts first)."""
    return con.execute(
        """
        SELECT account_id, name, tier FROM accounts
        WHERE account_id IN (SELECT account_id FROM visible_accounts(?))
        ORDER BY CASE tier WHEN 'KEY' THEN 0 WHEN 'A' THEN 1 WHEN 'B' THEN 2 ELSE 3 END,
                 name, account_id
        """,
        [scope.kam_param],
    ).df()


def select_account_info(con, account_id: str, scope: Scope) -> dict:
    """Master data of one visible account with its KAM and group names."""
    df = con.execute(
        """
        SELECT a.account_id, a.name, a.tier, a.kam_id, k.name AS kam_name, k.email AS kam_email,
               a.parent_id, p.name AS parent_name, a.industry, a.country, a.city,
               a.customer_since, a.status
        FROM accounts a
        LEFT JOIN kams k ON k.kam_id = a.kam_id
        LEFT JOIN accounts p ON p.account_id = a.parent_id
        WHERE a.account_id = ? AND a.account_id IN (SELECT account_id FROM visible_accounts(?))
        """,
        [account_id, scope.kam_param],
    ).df()
    if df.empty:
        raise NotFoundError(Reason.ACCOUNT_NOT_VISIBLE, account=str(account_id))
    rec = df.iloc[0].to_dict()
    return {
        k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v)
        for k, v in rec.items()
    }


def select_account(con, account_id: str, scope: Scope) -> dict:
    """One account with its KAM, if the scope may see it (NotFound / AccessDenied otherwise)."""
    rows = con.execute(
        "SELECT a.account_id, a.name, a.tier, a.kam_id, k.name, k.email, a.city, a.industry, "
        "a.account_id IN (SELECT account_id FROM visible_accounts(?)) AS visible "
        "FROM accounts a LEFT JOIN kams k ON k.kam_id = a.kam_id WHERE a.account_id = ?",
        [scope.kam_param, account_id],
    ).fetchall()
    if not rows:
        raise NotFoundError(Reason.ACCOUNT_NOT_FOUND, account=str(account_id))
    row = rows[0]
    if not row[8]:
        raise AccessDeniedError(
            Reason.DECK_ACCOUNT_DENIED, user=scope.username, account=str(account_id)
        )
    keys = ("account_id", "name", "tier", "kam_id", "kam_name", "kam_email", "city", "industry")
    return dict(zip(keys, row[:8], strict=True))


def select_monthly_revenue(con, account_id: str, start: dt.date, end: dt.date, scope: Scope):
    """Net revenue of one account per month between two dates (months without orders are 0)."""
    ensure_summaries(con)  # reads order_days
    df = con.execute(
        "SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, "
        "CAST(round(sum(o.revenue), 2) AS DOUBLE) AS revenue FROM order_days o "
        "WHERE o.account_id = ? AND o.order_date BETWEEN ? AND ? "
        "AND o.account_id IN (SELECT account_id FROM visible_accounts(?)) "
        "GROUP BY 1 ORDER BY 1",
        [account_id, start, end, scope.kam_param],
    ).df()
    months = pd.date_range(start.replace(day=1), end, freq="MS").date
    full = pd.DataFrame({"month": months})
    if not df.empty:
        df["month"] = pd.to_datetime(df["month"]).dt.date
        full = full.merge(df, on="month", how="left")
    else:
        full["revenue"] = 0.0
    full["revenue"] = full["revenue"].astype("float64").fillna(0.0)
    return full


def select_entitlement(con, tier: str, year: int) -> pd.DataFrame:
    """The matrix column of `tier` valid in `year` (latest matrix year <= year, else earliest)."""
    return con.execute(
        """
        WITH y AS (
            SELECT COALESCE(max(year) FILTER (WHERE year <= $year), min(year)) AS y
            FROM entitlement_matrix
        )
        SELECT m.year, m.service_code, c.name_de, c.name_en, m.policy
        FROM entitlement_matrix m
        JOIN y ON m.year = y.y
        LEFT JOIN service_catalogue c USING (service_code)
        WHERE m.tier = $tier
        ORDER BY c.sort_order NULLS LAST, m.service_code
        """,
        {"year": int(year), "tier": tier},
    ).df()


def select_services_received(
    con, account_id: str, year: int, until: dt.date, scope: Scope
) -> pd.DataFrame:
    """Services (incl. express shipments) one account received in `year` up to `until`."""
    return con.execute(
        """
        SELECT e.service_code, c.name_de, c.name_en,
               count(*) AS events,
               CAST(sum(e.quantity) AS DOUBLE) AS quantity,
               CAST(sum(e.cost) AS DOUBLE) AS cost,
               CAST(sum(e.list_value) AS DOUBLE) AS list_value,
               CAST(sum(e.billed_amount) AS DOUBLE) AS billed_amount,
               CAST(sum(e.unbilled_value) AS DOUBLE) AS unbilled_value,
               count(*) FILTER (WHERE e.billing_mode = 'silent') AS silent,
               count(*) FILTER (WHERE e.billing_mode = 'waived') AS waived,
               count(*) FILTER (WHERE e.billing_mode = 'billed') AS billed
        FROM service_events_all e
        LEFT JOIN service_catalogue c USING (service_code)
        WHERE e.account_id = ? AND year(e.date) = ? AND e.date <= ?
          AND e.account_id IN (SELECT account_id FROM visible_accounts(?))
        GROUP BY ALL
        ORDER BY list_value DESC, e.service_code
        """,
        [account_id, int(year), until, scope.kam_param],
    ).df()


def select_revenue_by_year(con, account_id: str, until: dt.date, scope: Scope) -> pd.DataFrame:
    """Net revenue, cost of goods and margin of one account per year up to `until`.

    From the summaries (summaries.py), sorted by account: a scan of every order line took
    half a second per account on the 10x company.
    """
    ensure_summaries(con)  # reads order_days and order_starts
    df = con.execute(
        """
        WITH days AS (
            SELECT year(order_date) AS year, sum(revenue) AS net_revenue,
                   sum(cost_of_goods) AS cost_of_goods
            FROM order_days
            WHERE account_id = $account AND order_date <= $until
              AND account_id IN (SELECT account_id FROM visible_accounts($kam))
            GROUP BY 1
        ), starts AS (
            SELECT year(order_date) AS year, sum(orders) AS orders
            FROM order_starts
            WHERE account_id = $account AND order_date <= $until
            GROUP BY 1
        )
        SELECT d.year, CAST(COALESCE(s.orders, 0) AS BIGINT) AS orders,
               CAST(round(d.net_revenue, 2) AS DOUBLE) AS net_revenue,
               CAST(round(d.cost_of_goods, 2) AS DOUBLE) AS cost_of_goods
        FROM days d LEFT JOIN starts s USING (year)
        ORDER BY 1
        """,
        {"account": account_id, "until": until, "kam": scope.kam_param},
    ).df()
    df["margin"] = (df["net_revenue"] - df["cost_of_goods"]).round(2)
    df["margin_pct"] = [
        m / r if r else float("nan") for m, r in zip(df["margin"], df["net_revenue"], strict=True)
    ]
    return df


def account_summary(
    con, *, account_id: str, year: int | None, as_of: dt.date | None = None, scope: Scope
) -> dict:
    """Everything about one visible account for the account page."""
    year, as_of = resolve_period(year, as_of)
    info = select_account_info(con, account_id, scope)
    # this one account only: its signals do not depend on the other accounts
    ret = compute_retention(
        con, year=year, as_of=as_of, scope=scope, tiers=None, account_ids=[account_id]
    )
    ret = ret[ret["account_id"] == account_id]
    mandate = get_mandate(con, account_id, year, scope)
    ratings = [mandate[r] for r in RATINGS]
    return {
        "year": year,
        "as_of": as_of,
        "info": info,
        "entitlement": select_entitlement(con, info["tier"], year)
        if info["tier"]
        else pd.DataFrame(),
        "services": select_services_received(con, account_id, year, as_of, scope),
        "revenue": select_revenue_by_year(con, account_id, as_of, scope),
        "retention": ret.iloc[0].to_dict() if not ret.empty else {},
        "abc": with_abc(con, scope, ret[["account_id"]], year=year, as_of=as_of)["abc"].iloc[0]
        if not ret.empty
        else None,
        "mandate": mandate,
        "mandate_answered": count_answered([mandate[q] for q in QUESTIONS]),
        "mandate_score": mandate_score(ratings, is_year_complete(year, as_of)),
        "feedback": list_feedback(con, scope=scope, account_id=account_id),
    }
