"""Retention of key accounts: active, retained, lost and at-risk signals (DOMAIN.md "Retention").

Rules as implemented (parameters from settings_store.RetentionSettings, defaults in brackets):
- An account is *active* on date d when it has an order dated in [d - window, d], both ends
  included [window 90 days].
- The CRM status (accounts.status) is a snapshot of today and wins at the evaluation date
  only: 'lost' makes the account inactive at the as-of date / year end, 'active' makes it
  active there. The start of the year is always judged from orders.
- *Retained in year Y*: active on 1 January Y and active on the as-of date (31 December Y for
  a complete year). *Lost*: active on 1 January and no longer active then.
- *At risk* when any signal fires (each signal carries its numbers):
  - ``order_gap``: at least 3 distinct order dates up to the as-of date and the days since
    the last order exceed gap_factor [1.5] x the median gap between consecutive order dates;
  - ``revenue_drop``: net revenue in the 12 months up to the as-of date (as_of - 12 months,
    as_of] is down by revenue_drop [25 %] or more against the 12 months before; needs revenue
    > 0 in the earlier window;
  - ``satisfaction_drop``: the latest survey score (kind 'survey', dated up to the as-of date)
    is at least satisfaction_drop [2] points below the survey before it;
  - ``mandate_incomplete``: the as-of date is after the mandate check date [30 June] and fewer
    than 4 of the year's mandate questions are answered.
- The account's current KAM (accounts.kam_id) owns it for the whole year (DEVELOPING.md).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.settings_store import RetentionSettings, get_retention_settings

SIGNALS = ("order_gap", "revenue_drop", "satisfaction_drop", "mandate_incomplete")
REPORT_COLUMNS = [
    "account_id",
    "kam_id",
    "active_start",
    "active_end",
    "retained",
    "at_risk",
    "signals",
]
MANDATE_QUESTIONS = ("contact", "objectives", "success_measures", "support")


def shift_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` calendar months (31 March - 1 month = 28/29 February)."""
    month0 = day.year * 12 + day.month - 1 + months
    year, month = divmod(month0, 12)
    month += 1
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


def resolve_period(
    year: int | None, as_of: dt.date | None, today: dt.date | None = None
) -> tuple[int, dt.date]:
    """The year and the evaluation date: as_of, else min(31 December of year, today)."""
    today = today or dt.date.today()
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if year is None:
        year = as_of.year if as_of else today.year
    year = int(year)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if as_of is None:
        as_of = min(end, today)
        if as_of < start:  # a future year: nothing has happened yet, judge its first day
            as_of = start
    elif as_of < start:
        raise ConfigError(Reason.AS_OF_BEFORE_YEAR, as_of=as_of.isoformat(), year=year)
    elif as_of > end:
        as_of = end
    return year, as_of


def is_year_complete(year: int, as_of: dt.date) -> bool:
    """True when the as-of date is the last day of the year (figures are final)."""
    return as_of >= dt.date(year, 12, 31)


# --- queries -------------------------------------------------------------------------------


def select_accounts(
    con,
    scope: Scope,
    tiers: tuple[str, ...] | None = ("KEY",),
    account_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Visible accounts (of `tiers`, all when None; only `account_ids` when given) with their
    current KAM and CRM status."""
    tier_list = list(tiers) if tiers else None
    id_list = list(account_ids) if account_ids is not None else None
    return con.execute(
        """
        SELECT a.account_id, a.name, a.tier, a.kam_id, k.name AS kam_name,
               lower(trim(a.status)) AS status, a.parent_id
        FROM accounts a
        LEFT JOIN kams k ON k.kam_id = a.kam_id
        WHERE a.account_id IN (SELECT account_id FROM visible_accounts(?))
          AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], a.tier))
          AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], a.account_id))
        ORDER BY a.account_id
        """,
        [scope.kam_param, tier_list, tier_list, id_list, id_list],
    ).df()


def select_order_stats(
    con,
    scope: Scope,
    start: dt.date,
    as_of: dt.date,
    window: int,
    tiers: tuple[str, ...] | None = None,
    account_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Per visible account (of `tiers` / `account_ids`, all when None): activity at start and
    as-of, first and last order, distinct order dates, median gap, trailing revenues.

    Everything is aggregated in DuckDB over the chosen accounts' orders only: one row per
    account and order date first, then the gaps between consecutive dates (lag) and the
    aggregates. Revenues are summed as exact decimals and converted to DOUBLE at the end.
    """
    tier_list = list(tiers) if tiers else None
    id_list = list(account_ids) if account_ids is not None else None
    return con.execute(
        """
        WITH chosen AS (
            SELECT account_id FROM accounts
            WHERE account_id IN (SELECT account_id FROM visible_accounts($k))
              AND ($tiers::VARCHAR[] IS NULL OR list_contains($tiers::VARCHAR[], tier))
              AND ($ids::VARCHAR[] IS NULL OR list_contains($ids::VARCHAR[], account_id))
        ),
        d AS (
            SELECT account_id, order_date, sum(net_revenue) AS revenue
            FROM orders
            WHERE order_date IS NOT NULL AND order_date <= $as_of
              AND account_id IN (SELECT account_id FROM chosen)
            GROUP BY account_id, order_date
        ),
        g AS (
            SELECT account_id, order_date, revenue,
                   date_diff('day', lag(order_date) OVER (
                       PARTITION BY account_id ORDER BY order_date), order_date) AS gap
            FROM d
        )
        SELECT account_id,
               bool_or(order_date BETWEEN $start - CAST($w AS INTEGER) AND $start)
                   AS orders_active_start,
               bool_or(order_date BETWEEN $as_of - CAST($w AS INTEGER) AND $as_of)
                   AS orders_active_end,
               min(order_date) AS first_order,
               max(order_date) AS last_order,
               count(*) AS order_dates,
               CAST(COALESCE(sum(revenue) FILTER (WHERE order_date > $t12), 0) AS DOUBLE)
                   AS revenue_t12,
               CAST(COALESCE(sum(revenue) FILTER (WHERE order_date > $t24
                                                    AND order_date <= $t12), 0) AS DOUBLE)
                   AS revenue_prev12,
               CAST(median(gap) AS DOUBLE) AS median_gap
        FROM g GROUP BY account_id
        """,
        {
            "as_of": as_of,
            "start": start,
            "w": int(window),
            "t12": shift_months(as_of, -12),
            "t24": shift_months(as_of, -24),
            "k": scope.kam_param,
            "tiers": tier_list,
            "ids": id_list,
        },
    ).df()


def select_latest_surveys(con, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """Per visible account the latest and the previous survey score up to the as-of date."""
    return con.execute(
        """
        WITH s AS (
            SELECT account_id, date, CAST(score AS DOUBLE) AS score,
                   row_number() OVER (PARTITION BY account_id
                                      ORDER BY date DESC, feedback_id DESC) AS rn
            FROM feedback
            WHERE kind = 'survey' AND score IS NOT NULL AND date IS NOT NULL AND date <= ?
              AND account_id IN (SELECT account_id FROM visible_accounts(?))
        )
        SELECT account_id,
               max(score) FILTER (WHERE rn = 1) AS sat_latest,
               max(date) FILTER (WHERE rn = 1) AS sat_latest_date,
               max(score) FILTER (WHERE rn = 2) AS sat_previous,
               max(date) FILTER (WHERE rn = 2) AS sat_previous_date
        FROM s WHERE rn <= 2 GROUP BY account_id
        """,
        [as_of, scope.kam_param],
    ).df()


def select_mandate_answered(con, scope: Scope, year: int) -> pd.DataFrame:
    """Per visible account with a mandate row in `year`: how many of the 4 questions are answered."""
    answered = " + ".join(
        f"CASE WHEN length(trim(COALESCE({q}, ''))) > 0 THEN 1 ELSE 0 END"
        for q in MANDATE_QUESTIONS
    )
    return con.execute(
        f"""
        SELECT account_id, max({answered}) AS mandate_answered
        FROM mandates
        WHERE year = ? AND account_id IN (SELECT account_id FROM visible_accounts(?))
        GROUP BY account_id
        """,
        [int(year), scope.kam_param],
    ).df()


# --- computation ---------------------------------------------------------------------------


def _flag(value) -> bool:
    if value is None or (not isinstance(value, bool | np.bool_) and pd.isna(value)):
        return False
    return bool(value)


def _num(value) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def compute_retention(
    con,
    *,
    year: int | None,
    as_of: dt.date | None = None,
    scope: Scope,
    tiers: tuple[str, ...] | None = ("KEY",),
    settings: RetentionSettings | None = None,
    account_ids: list[str] | None = None,
) -> pd.DataFrame:
    """One row per visible account of `tiers` (and of `account_ids` when given) with every
    flag and the numbers behind it."""
    year, as_of = resolve_period(year, as_of)
    settings = settings or get_retention_settings(con)
    start = dt.date(year, 1, 1)
    accounts = select_accounts(con, scope, tiers, account_ids)
    stats = select_order_stats(
        con, scope, start, as_of, settings.activity_window_days, tiers, account_ids
    )
    surveys = select_latest_surveys(con, scope, as_of)
    mandates = select_mandate_answered(con, scope, year)
    df = accounts.merge(stats, on="account_id", how="left")
    df = df.merge(surveys, on="account_id", how="left").merge(mandates, on="account_id", how="left")
    check_mandate = as_of > settings.mandate_check_date(year)

    rows = []
    for rec in df.to_dict(orient="records"):
        active_start = _flag(rec.get("orders_active_start"))
        by_orders = _flag(rec.get("orders_active_end"))
        status = rec.get("status") if isinstance(rec.get("status"), str) else None
        active_end = False if status == "lost" else True if status == "active" else by_orders
        last = rec.get("last_order")
        last = pd.Timestamp(last).date() if last is not None and not pd.isna(last) else None
        gap_days = (as_of - last).days if last else None
        n_dates = int(rec["order_dates"]) if _num(rec.get("order_dates")) is not None else 0
        median_gap = _num(rec.get("median_gap"))
        gap_limit = settings.gap_factor * median_gap if median_gap is not None else None
        rev_t12 = _num(rec.get("revenue_t12")) or 0.0
        rev_prev = _num(rec.get("revenue_prev12")) or 0.0
        rev_change = (rev_t12 - rev_prev) / rev_prev if rev_prev > 0 else None
        sat_latest, sat_prev = _num(rec.get("sat_latest")), _num(rec.get("sat_previous"))
        sat_change = (
            sat_latest - sat_prev if sat_latest is not None and sat_prev is not None else None
        )
        answered = int(_num(rec.get("mandate_answered")) or 0)

        fired = []
        if n_dates >= 3 and gap_limit is not None and gap_days is not None and gap_days > gap_limit:
            fired.append("order_gap")
        if rev_change is not None and rev_change <= -settings.revenue_drop + 1e-12:
            fired.append("revenue_drop")
        if sat_change is not None and sat_change <= -settings.satisfaction_drop + 1e-12:
            fired.append("satisfaction_drop")
        if check_mandate and answered < 4:
            fired.append("mandate_incomplete")
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
    out = pd.DataFrame(rows)
    if out.empty:
        out = pd.DataFrame(columns=list(REPORT_COLUMNS) + ["name", "tier", "kam_name", "lost"])
    out.attrs.update({"year": year, "as_of": as_of.isoformat()})
    return out


def report_retention(
    con, *, year: int | None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """`report retention`: one row per visible key account with the documented columns."""
    detail = compute_retention(con, year=year, as_of=as_of, scope=scope, tiers=("KEY",))
    out = detail[REPORT_COLUMNS].copy()
    for col in ("active_start", "active_end", "retained", "at_risk"):
        out[col] = out[col].astype(bool)
    out["signals"] = out["signals"].fillna("").astype(str)
    out["kam_id"] = out["kam_id"].astype(object).where(out["kam_id"].notna(), None)
    return out.sort_values("account_id").reset_index(drop=True)


def summarize_retention(detail: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counts per group: accounts, active at start, retained, lost, at risk, retention rate."""
    if detail.empty:
        return pd.DataFrame(
            columns=[*by, "accounts", "active_start", "retained", "lost", "at_risk", "rate"]
        )
    d = detail.copy()
    for col in by:
        d[col] = d[col].fillna("–")
    g = d.groupby(by, dropna=False)
    out = pd.DataFrame(
        {
            "accounts": g.size(),
            "active_start": g["active_start"].sum(),
            "retained": g["retained"].sum(),
            "lost": g["lost"].sum(),
            "at_risk": g["at_risk"].sum(),
        }
    ).reset_index()
    out["rate"] = [
        r / s if s else float("nan")
        for r, s in zip(out["retained"], out["active_start"], strict=True)
    ]
    return out


# --- cohorts and trends --------------------------------------------------------------------


def select_order_dates(
    con, scope: Scope, until: dt.date, tiers: tuple[str, ...] | None
) -> pd.DataFrame:
    """Distinct order dates per visible account of `tiers` up to `until`."""
    tier_list = list(tiers) if tiers else None
    return con.execute(
        """
        SELECT DISTINCT o.account_id, o.order_date
        FROM orders o JOIN accounts a USING (account_id)
        WHERE o.order_date IS NOT NULL AND o.order_date <= ?
          AND o.account_id IN (SELECT account_id FROM visible_accounts(?))
          AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], a.tier))
        ORDER BY 1, 2
        """,
        [until, scope.kam_param, tier_list, tier_list],
    ).df()


def select_cohort_counts(
    con, scope: Scope, as_of: dt.date, window: int, tiers: tuple[str, ...] | None
) -> pd.DataFrame:
    """Per cohort (year of the first order up to `as_of`) and later year up to `as_of`'s year:
    accounts and how many had an order in [year end - window, year end], year end being
    31 December or `as_of` for its own year. Visible accounts of `tiers` (all when None)."""
    tier_list = list(tiers) if tiers else None
    return con.execute(
        """
        WITH d AS (
            SELECT DISTINCT o.account_id, o.order_date
            FROM orders o JOIN accounts a USING (account_id)
            WHERE o.order_date IS NOT NULL AND o.order_date <= $as_of
              AND o.account_id IN (SELECT account_id FROM visible_accounts($k))
              AND ($tiers::VARCHAR[] IS NULL OR list_contains($tiers::VARCHAR[], a.tier))
        ),
        f AS (SELECT account_id, year(min(order_date)) AS cohort FROM d GROUP BY account_id),
        fy AS (
            SELECT account_id, cohort, unnest(range(cohort, $last + 1)) AS year FROM f
        ),
        y AS (
            SELECT account_id, cohort, year,
                   least(make_date(CAST(year AS INTEGER), 12, 31), $as_of) AS year_end
            FROM fy
        ),
        act AS (
            SELECT DISTINCT y.account_id, y.year
            FROM y JOIN d ON d.account_id = y.account_id
             AND d.order_date BETWEEN y.year_end - CAST($w AS INTEGER) AND y.year_end
        )
        SELECT y.cohort, CAST(y.year AS BIGINT) AS year, count(*) AS accounts,
               count(act.account_id) AS active
        FROM y LEFT JOIN act ON act.account_id = y.account_id AND act.year = y.year
        GROUP BY y.cohort, y.year
        ORDER BY y.cohort, y.year
        """,
        {
            "as_of": as_of,
            "k": scope.kam_param,
            "tiers": tier_list,
            "w": int(window),
            "last": as_of.year,
        },
    ).df()


def cohort_table(
    con,
    *,
    as_of: dt.date,
    scope: Scope,
    tiers: tuple[str, ...] | None = ("KEY",),
    settings: RetentionSettings | None = None,
) -> pd.DataFrame:
    """Accounts by year of first order; per later year the share active at that year's end.

    Long format: cohort, year, accounts, active, share. A year's end is 31 December, or the
    as-of date for the as-of year; judged from orders only (the CRM status is today's).
    """
    settings = settings or get_retention_settings(con)
    counts = select_cohort_counts(con, scope, as_of, settings.activity_window_days, tiers)
    cols = ["cohort", "year", "accounts", "active", "share"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(
        [
            (int(c), int(y), int(n), int(a), int(a) / int(n))
            for c, y, n, a in counts[["cohort", "year", "accounts", "active"]].itertuples(
                index=False
            )
        ],
        columns=cols,
    )


def revenue_trend(
    con, *, account_ids: list[str], until: dt.date, scope: Scope, months: int = 24
) -> pd.DataFrame:
    """Net revenue per account and month for the `months` months up to `until`."""
    since = shift_months(dt.date(until.year, until.month, 1), -(months - 1))
    return con.execute(
        """
        SELECT o.account_id, CAST(date_trunc('month', o.order_date) AS DATE) AS month,
               CAST(round(sum(o.net_revenue), 2) AS DOUBLE) AS revenue
        FROM orders o
        WHERE o.order_date BETWEEN ? AND ?
          AND list_contains(?::VARCHAR[], o.account_id)
          AND o.account_id IN (SELECT account_id FROM visible_accounts(?))
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        [since, until, list(account_ids), scope.kam_param],
    ).df()


def explain_signals(row: dict, lang: str = "de") -> list[str]:
    """One sentence per fired signal of a compute_retention row, with the numbers behind it."""
    from kam_analytics.i18n import fmt_eur, fmt_number, fmt_pct, t

    signals = [s for s in str(row.get("signals") or "").split(";") if s]
    out = []
    for sig in signals:
        if sig == "order_gap":
            out.append(
                t(
                    "sig_order_gap",
                    lang,
                    days=fmt_number(row.get("days_since_last_order"), lang),
                    limit=fmt_number(row.get("gap_limit_days"), lang, 1),
                    median=fmt_number(row.get("median_gap_days"), lang, 1),
                    n=fmt_number(row.get("order_dates"), lang),
                )
            )
        elif sig == "revenue_drop":
            out.append(
                t(
                    "sig_revenue_drop",
                    lang,
                    now=fmt_eur(row.get("revenue_t12"), lang),
                    before=fmt_eur(row.get("revenue_prev12"), lang),
                    change=fmt_pct(row.get("revenue_change"), lang),
                )
            )
        elif sig == "satisfaction_drop":
            out.append(
                t(
                    "sig_satisfaction_drop",
                    lang,
                    latest=fmt_number(row.get("sat_latest"), lang, 1),
                    previous=fmt_number(row.get("sat_previous"), lang, 1),
                    change=fmt_number(row.get("sat_change"), lang, 1),
                )
            )
        elif sig == "mandate_incomplete":
            out.append(
                t("sig_mandate_incomplete", lang, answered=int(row.get("mandate_answered") or 0))
            )
    return out


def select_order_years(con, scope: Scope) -> list[int]:
    """Years with orders of visible accounts, ascending."""
    rows = con.execute(
        "SELECT DISTINCT year(order_date) FROM orders WHERE order_date IS NOT NULL "
        "AND account_id IN (SELECT account_id FROM visible_accounts(?)) ORDER BY 1",
        [scope.kam_param],
    ).fetchall()
    return [int(r[0]) for r in rows]
