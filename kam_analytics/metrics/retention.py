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
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.periods import resolve_period, shift_months
from kam_analytics.settings_store import RetentionSettings, get_retention_settings
from kam_analytics.summaries import ensure_summaries

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


# --- the rules (the only place they are written) ---------------------------------------------


def ordered_within(order_date: str, day: str, window: str) -> str:
    """SQL condition "an order dated in [day - window, day]": activity judged from orders.

    The arguments are SQL expressions (column names or bound parameters), never user text.
    """
    return f"{order_date} BETWEEN {day} - CAST({window} AS INTEGER) AND {day}"


def is_active(by_orders: bool, status: str | None) -> bool:
    """Active at the evaluation date: the CRM status wins ('lost' / 'active'), else orders."""
    if status == "lost":
        return False
    if status == "active":
        return True
    return bool(by_orders)


def is_retained(active_start: bool, active_end: bool) -> bool:
    """Retained: active on 1 January and still active at the evaluation date."""
    return bool(active_start) and bool(active_end)


def is_lost(active_start: bool, active_end: bool) -> bool:
    """Lost: active on 1 January and no longer active at the evaluation date."""
    return bool(active_start) and not bool(active_end)


def fired_signals(
    settings: RetentionSettings,
    *,
    order_dates: int,
    days_since_last_order: int | None,
    gap_limit_days: float | None,
    revenue_change: float | None,
    satisfaction_change: float | None,
    mandate_answered: int | None,
) -> list[str]:
    """The at-risk signals that fire (module docstring); mandate_answered None = not checked."""
    fired = []
    if (
        order_dates >= 3
        and gap_limit_days is not None
        and days_since_last_order is not None
        and days_since_last_order > gap_limit_days
    ):
        fired.append("order_gap")
    if revenue_change is not None and revenue_change <= -settings.revenue_drop + 1e-12:
        fired.append("revenue_drop")
    if (
        satisfaction_change is not None
        and satisfaction_change <= -settings.satisfaction_drop + 1e-12
    ):
        fired.append("satisfaction_drop")
    if mandate_answered is not None and mandate_answered < len(MANDATE_QUESTIONS):
        fired.append("mandate_incomplete")
    return fired


@dataclass(frozen=True)
class RetentionCounts:
    """Counts of one set of accounts: the figures every page shows about retention."""

    accounts: int
    active_start: int
    retained: int
    lost: int
    at_risk: int

    @property
    def rate(self) -> float | None:
        """Retained / active on 1 January; None without accounts active on 1 January."""
        return self.retained / self.active_start if self.active_start else None


def count_retention(detail: pd.DataFrame) -> RetentionCounts:
    """The counts of a compute_retention result."""
    if detail.empty:
        return RetentionCounts(0, 0, 0, 0, 0)
    return RetentionCounts(
        accounts=len(detail),
        active_start=int(detail["active_start"].astype(bool).sum()),
        retained=int(detail["retained"].astype(bool).sum()),
        lost=int(detail["lost"].astype(bool).sum()),
        at_risk=int(detail["at_risk"].astype(bool).sum()),
    )


def key_retention_counts(
    con, *, year: int | None, as_of: dt.date | None = None, scope: Scope
) -> RetentionCounts:
    """Retention counts of the visible key accounts (the overview's and the deck's KPI)."""
    return count_retention(compute_retention(con, year=year, as_of=as_of, scope=scope))


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

    Everything is aggregated in DuckDB over the chosen accounts' order days only (the summary
    `order_days`: one row per account and order date), then the gaps between consecutive
    dates (lag) and the aggregates. Revenues are summed as exact decimals and converted to DOUBLE at the end.
    """
    ensure_summaries(con)  # reads order_days
    tier_list = list(tiers) if tiers else None
    id_list = list(account_ids) if account_ids is not None else None
    return con.execute(
        f"""
        WITH chosen AS (
            SELECT account_id FROM accounts
            WHERE account_id IN (SELECT account_id FROM visible_accounts($k))
              AND ($tiers::VARCHAR[] IS NULL OR list_contains($tiers::VARCHAR[], tier))
              AND ($ids::VARCHAR[] IS NULL OR list_contains($ids::VARCHAR[], account_id))
        ),
        d AS (
            SELECT account_id, order_date, revenue
            FROM order_days  -- one row per account and order date (summaries.py)
            WHERE order_date <= $as_of
              AND account_id IN (SELECT account_id FROM chosen)
        ),
        g AS (
            SELECT account_id, order_date, revenue,
                   date_diff('day', lag(order_date) OVER (
                       PARTITION BY account_id ORDER BY order_date), order_date) AS gap
            FROM d
        )
        SELECT account_id,
               bool_or({ordered_within("order_date", "$start", "$w")}) AS orders_active_start,
               bool_or({ordered_within("order_date", "$as_of", "$w")}) AS orders_active_end,
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


def select_active_by_orders(
    con, scope: Scope, day: dt.date, window: int, tiers: tuple[str, ...] | None = None
) -> set[str]:
    """Visible accounts (of `tiers`, all when None) active on `day` by their orders alone:
    compute_retention's `active_end_by_orders` at as-of `day`, without the rest of it."""
    ensure_summaries(con)  # reads order_days
    tier_list = list(tiers) if tiers else None
    rows = con.execute(
        f"""
        SELECT DISTINCT o.account_id
        FROM order_days o JOIN accounts a USING (account_id)
        WHERE {ordered_within("o.order_date", "$day", "$w")}
          AND o.account_id IN (SELECT account_id FROM visible_accounts($k))
          AND ($tiers::VARCHAR[] IS NULL OR list_contains($tiers::VARCHAR[], a.tier))
        """,
        {"day": day, "w": int(window), "k": scope.kam_param, "tiers": tier_list},
    ).fetchall()
    return {r[0] for r in rows}


def select_latest_surveys(con, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """Per visible account the latest and the previous survey score up to the as-of date."""
    return con.execute(
        """
        WITH s AS (
            SELECT account_id, date, CAST(score AS DOUBLE) AS score,
                   row_number() OVER (PARTITION BY account_id
                                      ORDER BY date DESC, feedback_id DESC) AS rn
            FROM feedback_counted  -- pending / rejected KAM entries do not count (approvals.py)
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
    # numbers first without pandas' isna: called a few times per account (50,000 accounts)
    if isinstance(value, float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, int):
        return float(value)
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
    # the rows as dicts built from each column's list: DataFrame.to_dict boxes every cell
    # (1.5 s for 50,000 accounts); tolist gives the same Python values per column
    columns = list(df.columns)
    records = (
        dict(zip(columns, values, strict=True))
        for values in zip(*(df[c].tolist() for c in columns), strict=True)
    )
    for rec in records:
        active_start = _flag(rec.get("orders_active_start"))
        status = rec.get("status") if isinstance(rec.get("status"), str) else None
        by_orders = _flag(rec.get("orders_active_end"))
        active_end = is_active(by_orders, status)
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

        fired = fired_signals(
            settings,
            order_dates=n_dates,
            days_since_last_order=gap_days,
            gap_limit_days=gap_limit,
            revenue_change=rev_change,
            satisfaction_change=sat_change,
            mandate_answered=answered if check_mandate else None,
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
                # without the CRM status (today's): what the orders alone say at the as-of date
                "active_end_by_orders": by_orders,
                "retained": is_retained(active_start, active_end),
                "lost": is_lost(active_start, active_end),
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
    ensure_summaries(con)  # reads order_days
    tier_list = list(tiers) if tiers else None
    return con.execute(
        """
        SELECT o.account_id, o.order_date
        FROM order_days o JOIN accounts a USING (account_id)
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
    ensure_summaries(con)  # reads order_days
    tier_list = list(tiers) if tiers else None
    return con.execute(
        f"""
        WITH d AS (
            SELECT o.account_id, o.order_date
            FROM order_days o JOIN accounts a USING (account_id)
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
             AND {ordered_within("d.order_date", "y.year_end", "$w")}
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
    """Net revenue per visible account and month for the `months` months up to `until`.

    Every month is there, 0 where nothing was ordered: a slipping account's line falls to
    zero instead of ending early.
    """
    ensure_summaries(con)  # reads order_days
    since = shift_months(dt.date(until.year, until.month, 1), -(months - 1))
    return con.execute(
        """
        WITH m AS (
            SELECT CAST(unnest(generate_series(CAST($since AS DATE), CAST($until AS DATE),
                                               INTERVAL 1 MONTH)) AS DATE) AS month
        ),
        a AS (
            SELECT account_id FROM accounts
            WHERE list_contains($ids::VARCHAR[], account_id)
              AND account_id IN (SELECT account_id FROM visible_accounts($k))
        ),
        r AS (
            SELECT o.account_id, CAST(date_trunc('month', o.order_date) AS DATE) AS month,
                   sum(o.revenue) AS revenue
            FROM order_days o
            WHERE o.order_date BETWEEN $since AND $until
              AND o.account_id IN (SELECT account_id FROM a)
            GROUP BY 1, 2
        )
        SELECT a.account_id, m.month, CAST(round(COALESCE(r.revenue, 0), 2) AS DOUBLE) AS revenue
        FROM a CROSS JOIN m
        LEFT JOIN r ON r.account_id = a.account_id AND r.month = m.month
        ORDER BY 1, 2
        """,
        {"since": since, "until": until, "ids": list(account_ids), "k": scope.kam_param},
    ).df()


def explain_signals(row: dict, lang: str = "de") -> list[str]:
    """One sentence per fired signal of a compute_retention row, with the numbers behind it."""
    from kam_analytics.glossary import signal_label
    from kam_analytics.i18n import fmt_eur, fmt_number, fmt_pct, t

    signals = [s for s in str(row.get("signals") or "").split(";") if s]
    out = []
    for sig in signals:
        if sig == "order_gap":
            out.append(
                t(
                    "sig_order_gap",
                    lang,
                    name=signal_label(sig, lang),
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
                    name=signal_label(sig, lang),
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
                    name=signal_label(sig, lang),
                    latest=fmt_number(row.get("sat_latest"), lang, 1),
                    previous=fmt_number(row.get("sat_previous"), lang, 1),
                    change=fmt_number(row.get("sat_change"), lang, 1),
                )
            )
        elif sig == "mandate_incomplete":
            out.append(
                t(
                    "sig_mandate_incomplete",
                    lang,
                    name=signal_label(sig, lang),
                    answered=int(row.get("mandate_answered") or 0),
                )
            )
    return out


def select_order_years(con, scope: Scope) -> list[int]:
    """Years with orders of visible accounts, ascending."""
    ensure_summaries(con)  # reads order_days
    rows = con.execute(
        "SELECT DISTINCT year(order_date) FROM order_days WHERE order_date IS NOT NULL "
        "AND account_id IN (SELECT account_id FROM visible_accounts(?)) ORDER BY 1",
        [scope.kam_param],
    ).fetchall()
    return [int(r[0]) for r in rows]
