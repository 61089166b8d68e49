"""The services page's data: totals, the five summaries (account, tier, KAM, service, month), the ladder."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.metrics import services as sv


@dataclass
class ServicesData:
    """Everything the services page shows for one filter choice (the drill-down loads rows)."""

    year: int | None
    totals: dict  # events, cost, list_value, billed_amount, unbilled_value, value_<mode>
    summaries: dict[str, pd.DataFrame]  # account, tier, kam, service, month
    ladder: pd.DataFrame  # per tier and billing mode: list_value and share


def load_filter_options(con, scope: Scope) -> dict[str, list]:
    """Years, tiers, KAMs and services the filter bar of the services-type pages offers."""
    return memoised(sv.filter_options)(con, scope)


def load_services(
    con, scope: Scope, *, year: int | None = None, tiers=None, kam_ids=None, services=None
) -> ServicesData:
    """The services page's figures for the filters (None = no filter)."""
    summaries = memoised(sv.summarise_service_events)(
        con, scope, year=year, tiers=tiers, kam_ids=kam_ids, services=services
    )
    return ServicesData(
        year=year,
        totals=summaries["total"],
        summaries={k: v for k, v in summaries.items() if k != "total"},
        ladder=sv.ladder_from_summary(summaries["tier"], "tier"),
    )
