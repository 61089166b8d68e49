"""The giveaways page's data: the worst findings of the policy check and the totals of all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.metrics import giveaways as gv

TOTALS_BY = ("account_id", "kam_id", "service_code", "tier")
# Rows a table of the page shows at most (the worst first); its download holds every row. On
# the 10x company a year has 160,000 findings of 36,000 accounts: formatting and sending them
# all took most of a click.
SHOWN_ROWS = 500


@dataclass
class GiveawaysData:
    """Everything the giveaways page shows for one filter choice."""

    year: int | None
    findings: pd.DataFrame  # the SHOWN_ROWS worst findings (gv.select_top_findings)
    n_findings: int  # every finding of the filters
    leakage: float
    counts: dict[str, int]  # finding kind -> number of findings
    values: dict[str, float]  # finding kind -> its leakage (invisible: its list value)
    totals: dict[str, pd.DataFrame]  # TOTALS_BY column -> gv.totals_by, every row
    by_account_finding: pd.DataFrame  # leakage per account and finding (the chart)


def load_giveaways(
    con, scope: Scope, *, year: int | None = None, tiers=None, kam_ids=None, services=None
) -> GiveawaysData:
    """The giveaways page's figures for the filters (None = no filter)."""
    filters = {"year": year, "tiers": tiers, "kam_ids": kam_ids, "services": services}
    top = memoised(gv.select_top_findings)(con, scope, limit=SHOWN_ROWS, **filters)
    summary = memoised(gv.summarise_findings)(con, scope, **filters)
    kinds = summary["finding"].set_index("finding") if len(summary["finding"]) else None

    def kind(f: str, col: str) -> float:
        return float(kinds.at[f, col]) if kinds is not None and f in kinds.index else 0.0

    return GiveawaysData(
        year=year,
        findings=top,
        n_findings=sum(int(kind(f, f"n_{f}")) for f in gv.FINDINGS),
        leakage=round(sum(kind(f, "leakage") for f in gv.FINDINGS), 2),
        counts={f: int(kind(f, f"n_{f}")) for f in gv.FINDINGS},
        values={f: kind(f, "leakage" if f != "invisible" else "list_value") for f in gv.FINDINGS},
        totals={by: summary[by] for by in TOTALS_BY},
        by_account_finding=summary["account_finding"],
    )


def load_all_findings(
    con,
    scope: Scope,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    tiers=None,
    kam_ids=None,
    services=None,
    account_id: str | None = None,
) -> pd.DataFrame:
    """Every finding of the filters (the page's download; one account's: the drill-down)."""
    found = gv.select_findings
    if account_id is not None:  # one account's findings are few: cached like the page
        found = memoised(found)
    return found(
        con,
        scope,
        year=year,
        as_of=as_of,
        tiers=tiers,
        kam_ids=kam_ids,
        services=services,
        account_id=account_id,
    )
