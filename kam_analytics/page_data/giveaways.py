"""The giveaways page's data: findings of the policy check and their totals."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.metrics import giveaways as gv

TOTALS_BY = ("account_id", "kam_id", "service_code", "tier")


@dataclass
class GiveawaysData:
    """Everything the giveaways page shows for one filter choice."""

    year: int | None
    findings: pd.DataFrame  # one row per finding (gv.select_findings)
    leakage: float
    counts: dict[str, int]  # finding kind -> number of findings
    totals: dict[str, pd.DataFrame]  # TOTALS_BY column -> gv.totals_by


def load_giveaways(
    con, scope: Scope, *, year: int | None = None, tiers=None, kam_ids=None, services=None
) -> GiveawaysData:
    """The giveaways page's figures for the filters (None = no filter)."""
    found = memoised(gv.select_findings)(
        con, scope, year=year, tiers=tiers, kam_ids=kam_ids, services=services
    )
    return GiveawaysData(
        year=year,
        findings=found,
        leakage=round(float(found["leakage"].sum()), 2) if len(found) else 0.0,
        counts={f: int((found["finding"] == f).sum()) if len(found) else 0 for f in gv.FINDINGS},
        totals={by: gv.totals_by(found, by) for by in TOTALS_BY},
    )
