"""The overview page's data: headline KPIs, revenue by month, service value by tier, key accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.metrics import overview as ov
from kam_analytics.periods import default_as_of


@dataclass
class OverviewData:
    """Everything the overview page shows for one year and as-of date."""

    years: list[int]
    year: int | None
    as_of: dt.date | None
    kpis: dict
    revenue_by_month: pd.DataFrame
    service_value_by_tier: pd.DataFrame
    key_accounts: pd.DataFrame


def default_year(years: list[int], today: dt.date | None = None) -> int | None:
    """The running year when it has data, else the latest year with data."""
    today = today or dt.date.today()
    if not years:
        return None
    return today.year if today.year in years else years[-1]


def load_overview(
    con, scope: Scope, *, year: int | None = None, as_of: dt.date | None = None
) -> OverviewData:
    """The overview page's figures (year: default_year; as_of: periods.default_as_of)."""
    # memoised per data version: a click that changes no filter repeats no query
    years = memoised(ov.select_data_years)(con, scope)
    year = year if year is not None else default_year(years)
    if year is None:
        empty = pd.DataFrame()
        return OverviewData(years, None, None, {}, empty, empty, empty)
    as_of = as_of or default_as_of(year)
    kpis = memoised(ov.select_overview_kpis)(con, scope, year, as_of)
    return OverviewData(
        years=years,
        year=year,
        as_of=kpis["as_of"],
        kpis=kpis,
        revenue_by_month=memoised(ov.select_revenue_by_month)(con, scope, year, as_of),
        service_value_by_tier=memoised(ov.select_service_value_by_tier)(con, scope, year, as_of),
        key_accounts=memoised(ov.select_key_accounts)(con, scope, year, as_of),
    )
