"""The value statement of one account and year: what it received, by service, month and billing
mode, what its tier includes, its exclusive services, express freight and revenue trend (the
value deck's figures); plus the internal figures of the KAM's own preparation (mandate, cost,
risk signals), which the customer deck never shows.

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
from kam_analytics.metrics import retention as retention_metrics
from kam_analytics.metrics.account import select_account, select_monthly_revenue
from kam_analytics.metrics.mandates import get_mandate
from kam_analytics.metrics.services import (
    ladder_from_summary,
    select_service_events,
    summarise_service_events,
)
from kam_analytics.periods import period_bounds

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
    monthly: pd.DataFrame  # month (YYYY-MM, every month of the period), list_value, value_<mode>
    totals: dict
    entitlements: pd.DataFrame  # service_code, name, policy (the account's tier, offered only)
    exclusive: pd.DataFrame  # service_code, name, events, list_value (all exclusive services)
    express: dict
    express_monthly: pd.DataFrame
    mandate: dict  # internal: contact, objectives, success_measures, support (None where missing)
    revenue: pd.DataFrame  # month, revenue (24 months up to the end)
    signals: list[str]  # internal: the risk signals that fired for the account (codes)


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

    filters = {"year": year, "as_of": end, "account_id": account_id}
    summary = summarise_service_events(
        con, scope, **filters, dims=("service", "month"), quantity=True
    )
    by_service = summary["service"]
    by_service["name"] = [names.get(c, c) for c in by_service["service_code"]]
    totals = {k: v for k, v in summary["total"].items() if k != "quantity"}
    ladder = ladder_from_summary(summary["total"])

    months = pd.date_range(start, end, freq="MS").strftime("%Y-%m")
    mode_cols = ["list_value", "value_billed", "value_waived", "value_silent"]
    monthly = pd.DataFrame({"month": months}).merge(
        summary["month"][["month", *mode_cols]], on="month", how="left"
    )
    monthly[mode_cols] = monthly[mode_cols].fillna(0.0)

    matrix = select_matrix(con, year)
    tier = account.get("tier") or ""
    offered = matrix[(matrix["tier"] == tier) & (matrix["policy"] != "not_offered")]
    entitlements = pd.DataFrame(
        {
            "service_code": list(offered["service_code"]),
            "name": [names.get(c, c) for c in offered["service_code"]],
            "policy": list(offered["policy"]),
        }
    )
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

    ex = summarise_service_events(con, scope, **filters, services=[EXPRESS], dims=("month",))
    express = {
        "shipments": ex["total"]["events"],
        "freight_cost": ex["total"]["cost"],
        "list_value": ex["total"]["list_value"],
        "charged": ex["total"]["billed_amount"],
        "absorbed": ex["total"]["unbilled_value"],
    }
    grouped = ex["month"].rename(
        columns={"events": "shipments", "unbilled_value": "absorbed", "billed_amount": "charged"}
    )[["month", "shipments", "absorbed", "charged"]]
    express_monthly = pd.DataFrame({"month": months}).merge(grouped, on="month", how="left")
    express_monthly = express_monthly.fillna(0)

    mandate = get_mandate(con, account_id, year, scope)
    since = dt.date(end.year - 1, 1, 1)
    revenue = select_monthly_revenue(con, account_id, since, end, scope)
    risk = retention_metrics.compute_retention(
        con, year=year, as_of=end, scope=scope, tiers=None, account_ids=[account_id]
    )
    risk = risk[risk["account_id"] == account_id]
    signals = [x for x in str(risk["signals"].iloc[0] or "").split(";") if x] if len(risk) else []
    return AccountDeckData(
        account=account,
        year=int(year),
        start=start,
        end=end,
        events=events,
        by_service=by_service,
        ladder=ladder,
        monthly=monthly,
        totals=totals,
        entitlements=entitlements,
        exclusive=exclusive,
        express=express,
        express_monthly=express_monthly,
        mandate=mandate,
        revenue=revenue,
        signals=signals,
    )
