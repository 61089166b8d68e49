"""The management review's figures for one year: key accounts, service value, giveaways,
retention and bonus standings, from the same metrics functions as the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.i18n import select_service_names
from kam_analytics.metrics import bonus as bonus_metrics
from kam_analytics.metrics.giveaways import select_findings, totals_by
from kam_analytics.metrics.overview import select_key_accounts
from kam_analytics.metrics.retention import compute_retention
from kam_analytics.metrics.services import report_services, summarise_service_events
from kam_analytics.periods import period_bounds
from kam_analytics.schema import TIERS


@dataclass
class ReviewData:
    """Everything the review pack shows."""

    year: int
    start: dt.date
    end: dt.date
    key_accounts: pd.DataFrame  # account_id, name, kam_name, revenue, list_value, unbilled, status
    services: pd.DataFrame  # per account (report_services)
    by_service: pd.DataFrame  # key accounts, per service with value by mode
    by_tier: pd.DataFrame  # tier, list_value, unbilled_value
    findings: pd.DataFrame
    leakage_by_account: pd.DataFrame
    leakage_by_service: pd.DataFrame
    retention: pd.DataFrame
    standings: list


def collect_review_data(
    con, year: int, *, scope: Scope, as_of: dt.date | None = None, lang: str = "de"
) -> ReviewData:
    """Gather the review pack's numbers from the metrics functions."""
    start, end = period_bounds(year, as_of)
    services = report_services(con, year=year, as_of=end, scope=scope)
    names = select_service_names(con, lang)

    by_service = summarise_service_events(
        con, scope, year=year, as_of=end, tiers=["KEY"], dims=("service",)
    )["service"]
    by_service["name"] = [names.get(c, c) for c in by_service["service_code"]]
    by_tier = summarise_service_events(con, scope, year=year, as_of=end, dims=("tier",))["tier"]
    by_tier = (
        by_tier.set_index("tier")[["list_value", "unbilled_value"]]
        .reindex(list(TIERS))
        .fillna(0.0)
        .reset_index()
    )

    retention = compute_retention(con, year=year, as_of=end, scope=scope, tiers=("KEY",))
    key = select_key_accounts(con, scope, year, end)
    key = key.merge(
        services[["account_id", "list_value", "unbilled_value"]], on="account_id", how="left"
    )
    if not retention.empty:
        key = key.merge(
            retention[["account_id", "active_start", "retained", "lost", "at_risk", "signals"]],
            on="account_id",
            how="left",
        )
    findings = select_findings(con, scope, year=year, as_of=end)
    leak_acc = totals_by(findings, "account_id")
    leak_srv = totals_by(findings, "service_code")
    if not leak_srv.empty:
        leak_srv["name"] = [names.get(c, c) for c in leak_srv["service_code"]]
    standings = bonus_metrics.compute_standings(con, year=year, as_of=end, scope=scope)
    standings = sorted(standings, key=lambda s: ((s.name or s.kam_id).casefold(), s.kam_id))
    return ReviewData(
        year=int(year),
        start=start,
        end=end,
        key_accounts=key,
        services=services,
        by_service=by_service,
        by_tier=by_tier,
        findings=findings,
        leakage_by_account=leak_acc,
        leakage_by_service=leak_srv,
        retention=retention,
        standings=standings,
    )
