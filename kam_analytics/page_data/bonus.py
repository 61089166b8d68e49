"""The bonus page's data: the KAMs the user may see, the chosen KAM's standing (live, or as
issued for a closed year), the surveys waiting for approval and the praise quoted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics import approvals, bonus_close
from kam_analytics.access import Scope
from kam_analytics.closed_years import select_year_close
from kam_analytics.metrics import bonus as bn
from kam_analytics.metrics.retention import select_order_years
from kam_analytics.periods import resolve_period


@dataclass
class BonusData:
    """Everything the bonus page shows for one year, as-of date and KAM."""

    years: list[int]
    year: int
    as_of: dt.date
    close: dict | None  # the year's close (closed_years.select_year_close), None while open
    kams: pd.DataFrame  # sorted by kam_id: nothing ranks KAMs
    live: bn.KamStanding | None  # today's data
    issued: object | None  # bonus_close.issued_statement for a closed year
    pending: pd.DataFrame  # surveys of the KAM waiting for approval
    praise: pd.DataFrame

    @property
    def standing(self) -> bn.KamStanding | None:
        """What the page shows: the issued statement of a closed year, else today's standing."""
        return self.issued.standing if self.issued is not None else self.live


def bonus_years(con, scope: Scope, today: dt.date | None = None) -> list[int]:
    """Years with orders and the running year."""
    today = today or dt.date.today()
    return sorted(set(select_order_years(con, scope)) | {today.year})


def load_bonus(
    con,
    scope: Scope,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    kam_id: str | None = None,
) -> BonusData:
    """The bonus page's figures (kam_id None = the first KAM the user may see)."""
    today = dt.date.today()
    year = int(year) if year is not None else today.year
    close = select_year_close(con, year)
    if close is not None:  # a closed year is judged on 31 December, as issued
        as_of = dt.date(year, 12, 31)
    year, as_of = resolve_period(year, as_of)
    kams = bn.select_kams(con, scope)
    if kam_id is None and not kams.empty:
        kam_id = str(kams["kam_id"].iloc[0])
    live = issued = None
    pending = praise = pd.DataFrame()
    if kam_id:
        live = bn.get_standing(con, kam_id=kam_id, year=year, as_of=as_of, scope=scope)
        if close is not None:
            issued = bonus_close.issued_statement(
                con, year=year, kam_id=kam_id, scope=scope, live=live
            )
        pending = approvals.select_reviews(con, scope, year=year, kam_id=kam_id)
        shown = issued.standing if issued is not None else live
        praise = bn.standing_praise(con, shown, scope)
    return BonusData(
        bonus_years(con, scope, today), year, as_of, close, kams, live, issued, pending, praise
    )
