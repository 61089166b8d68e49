"""The profitability page's data: profit per account, the whale curve and tier-fit alerts."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.metrics import profitability as pf
from kam_analytics.metrics.abc import with_abc


@dataclass
class ProfitabilityData:
    """Everything the profitability page shows for one year and tier choice."""

    year: int | None
    profit: pd.DataFrame  # one row per account (pf.account_profitability)
    curve: pd.DataFrame  # pf.whale_curve
    alerts: pd.DataFrame  # pf.tier_fit_alerts


def load_profitability(
    con, scope: Scope, *, year: int | None = None, tiers=None
) -> ProfitabilityData:
    """The profitability page's figures (tiers None = every tier)."""
    profit = memoised(pf.account_profitability)(con, year=year, as_of=None, scope=scope)
    if tiers:
        profit = profit[profit["tier"].isin(tiers)].reset_index(drop=True)
    profit = with_abc(con, scope, profit, year=year)
    return ProfitabilityData(
        year=year,
        profit=profit,
        curve=pf.whale_curve(profit),
        alerts=memoised(pf.tier_fit_alerts)(con, year=year, scope=scope),
    )
