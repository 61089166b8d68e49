"""The mandate page's data: the year's overview and the chosen account's mandate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.metrics import mandates as md
from kam_analytics.metrics.retention import select_order_years


@dataclass
class MandateData:
    """Everything the mandate page shows for one year and account."""

    years: list[int]
    year: int
    overview: pd.DataFrame  # md.mandate_overview
    account_id: str | None
    mandate: dict | None  # md.get_mandate of account_id


def mandate_years(con, scope: Scope, today: dt.date | None = None) -> list[int]:
    """Years with orders, the running year and the next (mandates are written ahead)."""
    today = today or dt.date.today()
    return sorted(set(select_order_years(con, scope)) | {today.year, today.year + 1})


def load_mandate(
    con, scope: Scope, *, year: int | None = None, account_id: str | None = None
) -> MandateData:
    """The mandate page's figures (account_id None = the first account of the overview)."""
    today = dt.date.today()
    year = int(year) if year is not None else today.year
    overview = md.mandate_overview(con, year=year, scope=scope)
    if account_id is None and not overview.empty:
        account_id = str(overview["account_id"].iloc[0])
    mandate = md.get_mandate(con, account_id, year, scope) if account_id else None
    return MandateData(mandate_years(con, scope, today), year, overview, account_id, mandate)
