"""The retention page's data: counts, summaries per KAM and tier, at-risk accounts, trend, cohorts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.metrics import retention as rt
from kam_analytics.metrics.abc import with_abc
from kam_analytics.periods import resolve_period
from kam_analytics.settings_store import RetentionSettings, get_retention_settings

# At-risk accounts the page explains one by one (the details table lists every one).
AT_RISK_SHOWN = 25


@dataclass
class RetentionData:
    """Everything the retention page shows for one year, as-of date and tier selection."""

    years: list[int]
    year: int
    as_of: dt.date
    settings: RetentionSettings
    detail: pd.DataFrame  # one row per account (rt.compute_retention)
    counts: rt.RetentionCounts
    by_kam: pd.DataFrame
    by_tier: pd.DataFrame
    at_risk: pd.DataFrame
    trend_accounts: list[str]
    trend: pd.DataFrame
    cohorts: pd.DataFrame


def load_retention(
    con,
    scope: Scope,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    tiers: tuple[str, ...] | None = ("KEY",),
    trend_accounts: list[str] | None = None,
) -> RetentionData:
    """The retention page's figures; trend_accounts None = the first four at-risk accounts."""
    # every query memoised per data version: a click that changes no filter repeats none
    today = dt.date.today()
    years = sorted(set(memoised(rt.select_order_years)(con, scope)) | {today.year})
    year, as_of = resolve_period(year if year is not None else today.year, as_of)
    settings = get_retention_settings(con)
    detail = memoised(rt.compute_retention)(
        con, year=year, as_of=as_of, scope=scope, tiers=tiers or None, settings=settings
    )
    detail = with_abc(con, scope, detail, year=year, as_of=as_of)
    at_risk = detail[detail["at_risk"].astype(bool)] if not detail.empty else detail
    if trend_accounts is None:
        trend_accounts = list(at_risk["account_id"][:4]) or list(detail["account_id"][:4])
    trend = (
        memoised(rt.revenue_trend)(con, account_ids=trend_accounts, until=as_of, scope=scope)
        if trend_accounts
        else pd.DataFrame(columns=["account_id", "month", "revenue"])
    )
    return RetentionData(
        years=years,
        year=year,
        as_of=as_of,
        settings=settings,
        detail=detail,
        counts=rt.count_retention(detail),
        by_kam=rt.summarize_retention(detail, ["kam_id", "kam_name"]),
        by_tier=rt.summarize_retention(detail, ["tier"]),
        at_risk=at_risk,
        trend_accounts=list(trend_accounts),
        trend=trend,
        cohorts=memoised(rt.cohort_table)(
            con, as_of=as_of, scope=scope, tiers=tiers or None, settings=settings
        ),
    )


@dataclass
class BacktestData:
    """The back-test section: the ended years, the figures of one, and what-if thresholds."""

    years: list[int]
    year: int | None
    as_of: dt.date | None
    report: pd.DataFrame  # backtest.report_backtest (one row per method)
    thresholds: pd.DataFrame  # backtest.backtest_thresholds


# Values the threshold what-if tries, beside the current setting.
THRESHOLD_CANDIDATES = {
    "gap_factor": [1.25, 1.5, 2.0, 3.0],
    "revenue_drop": [0.15, 0.25, 0.4],
    "satisfaction_drop": [1.0, 2.0, 3.0],
}


def backtest_years(con, scope: Scope) -> list[int]:
    """The ended years with orders: the years a back-test can be run for (no back-test run)."""
    today = dt.date.today()
    return [y for y in memoised(rt.select_order_years)(con, scope) if dt.date(y, 12, 31) < today]


def load_backtest(
    con, scope: Scope, *, year: int | None = None, thresholds: bool = False
) -> BacktestData:
    """The back-test of an ended year (default: the latest ended year with orders).

    Memoised per data version: on the 10x company one back-test judges 50,000 accounts twice.
    """
    from kam_analytics.metrics import backtest as bt

    years = backtest_years(con, scope)
    if not years:
        return BacktestData([], None, None, pd.DataFrame(), pd.DataFrame())
    year = int(year) if year in years else years[-1]
    as_of = dt.date(year, 6, 30)
    report = memoised(bt.report_backtest)(con, year=year, as_of=as_of, scope=scope)
    what_if = pd.DataFrame()
    if thresholds:
        current = get_retention_settings(con)
        changes = {
            name: sorted({*values, getattr(current, name)})
            for name, values in THRESHOLD_CANDIDATES.items()
        }
        what_if = memoised(bt.backtest_thresholds)(
            con, year=year, scope=scope, changes=changes, as_of=as_of
        )
    return BacktestData(years, year, as_of, report, what_if)
