"""The bonus page's data: the KAMs the user may see and the chosen KAM's standing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.metrics import bonus as bn
from kam_analytics.metrics.retention import select_order_years
from kam_analytics.periods import resolve_period


@dataclass
class BonusData:
    """Everything the bonus page shows for one year, as-of date and KAM."""

    years: list[int]
    year: int
    as_of: dt.date
    kams: pd.DataFrame  # sorted by kam_id: nothing ranks KAMs
    standing: bn.KamStanding | None
    praise: pd.DataFrame


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
    years = sorted(set(select_order_years(con, scope)) | {today.year})
    year, as_of = resolve_period(year if year is not None else today.year, as_of)
    kams = bn.select_kams(con, scope)
    if kam_id is None and not kams.empty:
        kam_id = str(kams["kam_id"].iloc[0])
    standing = (
        bn.get_standing(con, kam_id=kam_id, year=year, as_of=as_of, scope=scope) if kam_id else None
    )
    praise = bn.standing_praise(con, standing, scope) if standing else pd.DataFrame()
    return BonusData(years, year, as_of, kams, standing, praise)
