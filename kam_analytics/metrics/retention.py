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


def is_active(by_orders, status) -> np.ndarray:
    """Active at the evaluation date, per account: the CRM status wins ('lost' / 'active'),
    else the orders. `status` holds str or None per account."""
    status = np.asarray(status, dtype=object)
    return np.where(
        status == "lost", False, np.where(status == "active", True, np.asarray(by_orders, bool))
    )


def is_retained(active_start, active_end) -> np.ndarray:
    """Retained, per account: active on 1 January and still active at the evaluation date."""
    return np.asarray(active_start, bool) & np.asarray(active_end, bool)


def is_lost(active_start, active_end) -> np.ndarray:
    """Lost, per account: active on 1 January and no longer active at the evaluation date."""
    return np.asarray(active_start, bool) & ~np.asarray(active_end, bool)


# A median gap needs at least this many distinct order dates (two gaps).
GAP_MIN_ORDER_DATES = 3
# Tolerance of the drop thresholds: a drop of exactly 25 % fires despite binary fractions.
_THRESHOLD_EPS = 1e-12


def _numbers(values) -> np.ndarray:
    # a float per account, NaN = not known (None, NaN and pandas' NA alike)
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.dtype == object:
        series = pd.to_numeric(series)
    return series.to_numpy(dtype=float, na_value=np.nan)


def fired_signals(
    settings: RetentionSettings,
    *,
    order_dates,
    days_since_last_order,
    gap_limit_days,
    revenue_change,
    satisfaction_change,
    mandate_answered=None,
) -> pd.DataFrame:
    """Per account, whether each at-risk signal fires (module docstring): one bool column per
    SIGNALS entry. Arguments are columns (NaN / None = not known); mandate_answered None = not
    checked."""
    n_dates = _numbers(order_dates)
    days, limit = _numbers(days_since_last_order), _numbers(gap_limit_days)
    rev, sat = _numbers(revenue_change), _numbers(satisfaction_change)
    # comparisons with NaN are False: an unknown number fires nothing
    fired = {
        "order_gap": (n_dates >= GAP_MIN_ORDER_DATES) & (days > limit),
        "revenue_drop": rev <= -settings.revenue_drop + _THRESHOLD_EPS,
        "satisfaction_drop": sat <= -settings.satisfaction_drop + _THRESHOLD_EPS,
        "mandate_incomplete": (
            _numbers(mandate_answered) < len(MANDATE_QUESTIONS)
            if mandate_answered is not None
            else np.zeros(len(n_dates), bool)
        ),
    }
    return pd.DataFrame({sig: fired[sig] for sig in SIGNALS})


def join_signal_codes(fired: pd.DataFrame) -> np.ndarray:
    """The fired signals per account as 'order_gap;revenue_drop' (SIGNALS order, '' = none)."""
    names = list(fired.columns)
    code = np.zeros(len(fired), dtype=np.int64)
    for bit, name in enumerate(names):
        code |= fired[name].to_numpy(bool).astype(np.int64) << bit
    texts = [";".join(n for b, n in enumerate(names) if m >> b & 1) for m in range(1 << len(names))]
    return np.array(texts, dtype=object)[code]


def risk_scores(
    settings: RetentionSettings,
    *,
    order_dates,
    days_since_last_order,
    gap_limit_days,
    revenue_change,
    satisfaction_change,
) -> np.ndarray:
    """Per account, how far the strongest of the order gap, revenue and satisfaction signals is
    past its threshold (1 = on it, 0 = none); with too few order dates for a gap limit the days
    since the last order are measured against the activity window (metrics/backtest.py)."""
    n_dates = _numbers(order_dates)
    days, limit = _numbers(days_since_last_order), _numbers(gap_limit_days)
    rev, sat = _numbers(revenue_change), _numbers(satisfaction_change)
    known_days = ~np.isnan(days)
    window = settings.activity_window_days
    with np.errstate(divide="ignore", invalid="ignore"):
        by_limit = (n_dates >= GAP_MIN_ORDER_DATES) & known_days & ~np.isnan(limit) & (limit > 0)
        by_window = ~by_limit & known_days & (window > 0)
        parts = [
            np.where(by_limit, days / limit, np.where(by_window, days / float(window), 0.0)),
            np.where(
                ~np.isnan(rev) & (settings.revenue_drop > 0),
                np.maximum(0.0, -rev) / settings.revenue_drop,
                0.0,
            ),
            np.where(
                ~np.isnan(sat) & (settings.satisfaction_drop > 0),
                np.maximum(0.0, -sat) / settings.satisfaction_drop,
                0.0,
            ),
        ]
    score = np.zeros(len(n_dates))
    for part in parts:
        # like max(): a later part replaces the score only when strictly greater
        score = np.where(part > score, part, score)
    return score


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
    `order_days`: one row per account and order date); the median gap from each account's
    sorted list of dates (at 50,000 accounts about 40 % faster than a lag() window over every
    order day, the same figures). Revenues are summed as exact decimals and converted to
    DOUBLE at the end.
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
        a AS (
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
                   list(order_date ORDER BY order_date) AS dates
            FROM d GROUP BY account_id
        )
        SELECT * EXCLUDE (dates),
               -- the gaps between consecutive order dates; none with a single date
               CAST(list_median(list_transform(range(2, len(dates) + 1),
                    lambda i: date_diff('day', dates[i - 1], dates[i]))) AS DOUBLE) AS median_gap
        FROM a
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
    out = apply_rules(
        df, as_of=as_of, settings=settings, check_mandate=as_of > settings.mandate_check_date(year)
    )
    out.attrs.update({"year": year, "as_of": as_of.isoformat()})
    return out


def _optional(values: np.ndarray, integral: bool = False):
    # typed as a list of Python numbers with None for NaN would be: float64 with NaN, int64
    # when nothing is missing, object None when nothing is known (without boxing 50,000 floats)
    missing = np.isnan(values)
    if missing.all():
        return [None] * len(values)
    if integral and not missing.any():
        return values.astype(np.int64)
    return values


def _listed(series: pd.Series):
    # what a list of the column's Python values would be typed as; dates with a value keep
    # their unit without boxing every Timestamp
    if series.dtype.kind == "M" and series.notna().any():
        return series.to_numpy()
    return series.tolist()


def apply_rules(
    inputs: pd.DataFrame, *, as_of: dt.date, settings: RetentionSettings, check_mandate: bool
) -> pd.DataFrame:
    """compute_retention's rows from its merged inputs (accounts left-joined with the order
    statistics, surveys and mandate answers): the rules applied to whole columns."""
    if inputs.empty:
        return pd.DataFrame(columns=list(REPORT_COLUMNS) + ["name", "tier", "kam_name", "lost"])
    df = inputs
    active_start = df["orders_active_start"].eq(True).to_numpy(bool)  # no orders: NaN
    by_orders = df["orders_active_end"].eq(True).to_numpy(bool)
    status = [v if isinstance(v, str) else None for v in df["status"].tolist()]
    active_end = is_active(by_orders, status)
    last = pd.to_datetime(df["last_order"])
    gap_days = _numbers((pd.Timestamp(as_of) - last).dt.days)
    n_dates = np.nan_to_num(_numbers(df["order_dates"]), nan=0.0).astype(np.int64)
    median_gap = _numbers(df["median_gap"])
    gap_limit = settings.gap_factor * median_gap
    # no orders in a window: 0.0 (NaN, and -0.0 too, read as none)
    rev_t12, rev_prev = _numbers(df["revenue_t12"]), _numbers(df["revenue_prev12"])
    rev_t12 = np.where(np.isnan(rev_t12) | (rev_t12 == 0), 0.0, rev_t12)
    rev_prev = np.where(np.isnan(rev_prev) | (rev_prev == 0), 0.0, rev_prev)
    with np.errstate(divide="ignore", invalid="ignore"):
        rev_change = np.where(rev_prev > 0, (rev_t12 - rev_prev) / rev_prev, np.nan)
    sat_latest, sat_prev = _numbers(df["sat_latest"]), _numbers(df["sat_previous"])
    sat_change = sat_latest - sat_prev  # NaN unless both are known
    answered = np.nan_to_num(_numbers(df["mandate_answered"]), nan=0.0).astype(np.int64)
    fired = fired_signals(
        settings,
        order_dates=n_dates,
        days_since_last_order=gap_days,
        gap_limit_days=gap_limit,
        revenue_change=rev_change,
        satisfaction_change=sat_change,
        mandate_answered=answered if check_mandate else None,
    )
    last_dates = last.dt.date.to_numpy(dtype=object, copy=True)
    last_dates[last.isna().to_numpy()] = None
    return pd.DataFrame(
        {
            "account_id": df["account_id"].tolist(),
            "name": df["name"].tolist(),
            "tier": df["tier"].tolist(),
            "kam_id": df["kam_id"].tolist(),
            "kam_name": df["kam_name"].tolist(),
            "status": status,
            "active_start": active_start,
            "active_end": active_end,
            # without the CRM status (today's): what the orders alone say at the as-of date
            "active_end_by_orders": by_orders,
            "retained": is_retained(active_start, active_end),
            "lost": is_lost(active_start, active_end),
            "at_risk": fired.any(axis=1).to_numpy(bool),
            "signals": join_signal_codes(fired).tolist(),
            "first_order": _listed(df["first_order"]),
            "last_order": last_dates.tolist(),
            "days_since_last_order": _optional(gap_days, integral=True),
            "order_dates": n_dates,
            "median_gap_days": _optional(median_gap),
            "gap_limit_days": _optional(gap_limit),
            "revenue_t12": np.array([round(v, 2) for v in rev_t12.tolist()], dtype=float),
            "revenue_prev12": np.array([round(v, 2) for v in rev_prev.tolist()], dtype=float),
            "revenue_change": _optional(rev_change),
            "sat_latest": _optional(sat_latest),
            "sat_latest_date": _listed(df["sat_latest_date"]),
            "sat_previous": _optional(sat_prev),
            "sat_change": _optional(sat_change),
            "mandate_answered": answered,
            "mandate_checked": np.full(len(df), check_mandate),
        }
    )


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
