"""The value statement of one account and year: what it received, by service and billing mode,
its exclusive services, express freight, mandate and revenue trend (the value deck's figures).

Every number comes from the metrics functions the pages use (metrics.services, metrics.account),
so the deck and the dashboard never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.catalogue import exclusive_services, select_matrix
from kam_analytics.i18n import select_service_names
from kam_analytics.metrics.account import select_account, select_monthly_revenue
from kam_analytics.metrics.mandates import get_mandate
from kam_analytics.metrics.services import (
    billing_ladder,
    select_service_events,
    summarise_events,
)
from kam_analytics.periods import period_bounds
from kam_analytics.schema import BILLING_MODES

EXPRESS = "EXPRESS_FREIGHT"


@dataclass
class AccountDeckData:
    """Everything the value deck shows, computed from the metrics functions."""

    account: dict
    year: int
    start: dt.date
    end: dt.date
    events: pd.DataFrame
    by_service: pd.DataFrame  # service_code, name, events, quantity, list_value, value_<mode>
    ladder: pd.DataFrame  # billing_mode, list_value, share
    totals: dict
    exclusive: pd.DataFrame  # service_code, name, events, list_value (all exclusive services)
    express: dict
    express_monthly: pd.DataFrame
    mandate: dict  # contact, objectives, success_measures, support (None where missing)
    revenue: pd.DataFrame  # month, revenue (24 months up to the end)


def collect_account_data(
    con,
    account_id: str,
    year: int,
    *,
    scope: Scope,
    as_of: dt.date | None = None,
    lang: str = "de",
) -> AccountDeckData:
    """Gather the deck's numbers for one account and year from the metrics functions."""
    account = select_account(con, account_id, scope)
    start, end = period_bounds(year, as_of)
    events = select_service_events(con, scope, year=year, as_of=end, account_id=account_id)
    names = select_service_names(con, lang)

    by_service = summarise_events(events, ["service"])
    if not by_service.empty:
        qty = events.groupby("service_code")["quantity"].sum().astype("float64")
        by_service["quantity"] = by_service["service_code"].map(qty).fillna(0.0)
    else:
        by_service["quantity"] = []
    by_service["name"] = [names.get(c, c) for c in by_service["service_code"]]

    ladder = billing_ladder(events)
    totals = {
        "events": int(len(events)),
        "list_value": round(float(events["list_value"].sum()), 2),
        "billed_amount": round(float(events["billed_amount"].sum()), 2),
        "unbilled_value": round(float(events["unbilled_value"].sum()), 2),
        "cost": round(float(events["cost"].sum()), 2),
    }
    for mode in BILLING_MODES:
        totals[f"value_{mode}"] = round(
            float(events.loc[events["billing_mode"] == mode, "list_value"].sum()), 2
        )

    matrix = select_matrix(con, year)
    excl_flags = exclusive_services(matrix)
    excl_codes = [c for c in names if excl_flags.get(c)]
    used = by_service.set_index("service_code") if not by_service.empty else None
    exclusive = pd.DataFrame(
        {
            "service_code": excl_codes,
            "name": [names[c] for c in excl_codes],
            "events": [
                int(used.at[c, "events"]) if used is not None and c in used.index else 0
                for c in excl_codes
            ],
            "list_value": [
                float(used.at[c, "list_value"]) if used is not None and c in used.index else 0.0
                for c in excl_codes
            ],
        }
    )
    exclusive = exclusive.sort_values(["list_value", "name"], ascending=[False, True])

    ex = events[events["service_code"] == EXPRESS]
    express = {
        "shipments": int(len(ex)),
        "freight_cost": round(float(ex["cost"].sum()), 2),
        "list_value": round(float(ex["list_value"].sum()), 2),
        "charged": round(float(ex["billed_amount"].sum()), 2),
        "absorbed": round(float(ex["unbilled_value"].sum()), 2),
    }
    months = pd.date_range(start, end, freq="MS").strftime("%Y-%m")
    ex_month = ex.assign(month=[d.strftime("%Y-%m") for d in ex["date"]])
    express_monthly = pd.DataFrame({"month": months})
    grouped = ex_month.groupby("month").agg(
        shipments=("source_id", "count"),
        absorbed=("unbilled_value", "sum"),
        charged=("billed_amount", "sum"),
    )
    express_monthly = express_monthly.merge(grouped, on="month", how="left").fillna(0)

    mandate = get_mandate(con, account_id, year, scope)
    since = dt.date(end.year - 1, 1, 1)
    revenue = select_monthly_revenue(con, account_id, since, end, scope)
    return AccountDeckData(
        account=account,
        year=int(year),
        start=start,
        end=end,
        events=events,
        by_service=by_service,
        ladder=ladder,
        totals=totals,
        exclusive=exclusive,
        express=express,
        express_monthly=express_monthly,
        mandate=mandate,
        revenue=revenue,
    )
