"""The account page's data: the chosen account's summary (metrics.account.account_summary)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.metrics.account import account_summary, select_account_options
from kam_analytics.metrics.retention import select_order_years
from kam_analytics.periods import resolve_period


@dataclass
class AccountData:
    """Everything the account page shows for one account and year."""

    options: pd.DataFrame  # the accounts the user may open
    years: list[int]
    year: int
    account_id: str | None
    summary: dict | None  # account_summary


def account_years(con, scope: Scope, today: dt.date | None = None) -> list[int]:
    """Years with orders and the running year."""
    today = today or dt.date.today()
    return sorted(set(memoised(select_order_years)(con, scope)) | {today.year})


def account_options(con, scope: Scope) -> pd.DataFrame:
    """The accounts the user may open, key accounts first (memoised per data version)."""
    return memoised(select_account_options)(con, scope)


def load_account(
    con,
    scope: Scope,
    *,
    account_id: str | None = None,
    year: int | None = None,
    today: dt.date | None = None,
) -> AccountData:
    """The account page's figures (account_id None = the first visible account).

    Memoised per data version: a click on the page (or back to an account) asks nothing
    again; the 10x company's order lines took a second per account.
    """
    today = today or dt.date.today()
    options = account_options(con, scope)
    years = account_years(con, scope, today)
    # The as-of date is part of the key: a server running past midnight must not keep
    # yesterday's figures for the running year.
    year, as_of = resolve_period(int(year) if year is not None else None, None, today)
    if account_id is None and not options.empty:
        account_id = str(options["account_id"].iloc[0])
    summary = (
        memoised(account_summary)(con, account_id=account_id, year=year, as_of=as_of, scope=scope)
        if account_id
        else None
    )
    return AccountData(options, years, year, account_id, summary)
