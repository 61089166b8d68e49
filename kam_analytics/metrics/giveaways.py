"""The giveaway report: every service event checked against the entitlement matrix.

Per DOMAIN.md "Policy checks", with the account's tier policy from the matrix valid on the
event date (the event year's own matrix, else the latest earlier year's, else the default):

- policy `not_offered`          -> `off_policy`, leakage = the value the customer did not pay
  for (list value − billed amount, never below 0). For the usual unbilled off-policy event this
  is its full list value; an off-policy service the customer paid for in full is still a
  finding but leaks nothing. This keeps "leakage ≤ unbilled value" true for every finding.
- policy `billed`, event not fully billed (billed amount < list value)
                                -> `giveaway`, leakage = unbilled value
- policy `waived`, event `silent` -> `invisible`, leakage 0 (the customer never saw the value)

Events whose account has no tier, or whose service code is neither in the catalogue nor in the
matrix, have no policy and produce no finding.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.catalogue import select_matrix
from kam_analytics.metrics.services import select_service_events

FINDINGS = ("off_policy", "giveaway", "invisible")
REPORT_COLUMNS = [
    "source_table",
    "source_id",
    "account_id",
    "tier",
    "service_code",
    "date",
    "billing_mode",
    "policy",
    "finding",
    "leakage",
]


def policies_for_years(con, years) -> pd.DataFrame:
    """The effective matrix of each year as rows year, service_code, tier, policy (year -1 = no date)."""
    frames = []
    for year in sorted({int(y) for y in years}):
        matrix = select_matrix(con, None if year < 0 else year)
        frames.append(matrix.assign(year=year)[["year", "service_code", "tier", "policy"]])
    if not frames:
        return pd.DataFrame(columns=["year", "service_code", "tier", "policy"])
    return pd.concat(frames, ignore_index=True)


def check_events(con, events: pd.DataFrame) -> pd.DataFrame:
    """`events` (from select_service_events) with their `policy`, `finding` and `leakage`."""
    work = events.copy()
    work["year"] = pd.Series(
        [-1 if pd.isna(d) else d.year for d in pd.to_datetime(work["date"])],
        index=work.index,
        dtype="int64",
    )
    policies = policies_for_years(con, work["year"].unique())
    policies["year"] = policies["year"].astype("int64")
    work = work.merge(policies, on=["year", "service_code", "tier"], how="left")
    unbilled = work["unbilled_value"].astype("float64")
    finding = pd.Series(None, index=work.index, dtype=object)
    leakage = pd.Series(0.0, index=work.index)
    off = work["policy"] == "not_offered"
    give = (work["policy"] == "billed") & (unbilled > 0)
    invisible = (work["policy"] == "waived") & (work["billing_mode"] == "silent")
    finding[off] = "off_policy"
    leakage[off] = unbilled[off].clip(lower=0)
    finding[give] = "giveaway"
    leakage[give] = unbilled[give]
    finding[invisible] = "invisible"
    work["finding"] = finding
    work["leakage"] = leakage.round(2)
    return work.drop(columns=["year"])


def select_findings(
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
    """Every finding with its event's columns (account, KAM, import), worst first."""
    events = select_service_events(
        con,
        scope,
        year=year,
        as_of=as_of,
        account_id=account_id,
        tiers=tiers,
        kam_ids=kam_ids,
        services=services,
    )
    checked = check_events(con, events)
    found = checked[checked["finding"].notna()]
    return found.sort_values(
        ["leakage", "source_id", "source_table"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def report_giveaways(
    con, *, year: int | None = None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """One row per finding (off_policy, giveaway, invisible), worst leakage first, dates ISO."""
    found = select_findings(con, scope, year=year, as_of=as_of)
    out = found[REPORT_COLUMNS].copy()
    out["date"] = [None if pd.isna(d) else d.isoformat() for d in found["date"]]
    out["leakage"] = out["leakage"].astype("float64").round(2)
    return out.reset_index(drop=True)


def totals_by(findings: pd.DataFrame, by: str) -> pd.DataFrame:
    """Findings counted and leakage summed per `by` (account_id, kam_id, service_code, tier), worst first."""
    cols = {
        "account_id": ["account_id", "account_name", "tier"],
        "kam_id": ["kam_id", "kam_name"],
        "service_code": ["service_code"],
        "tier": ["tier"],
    }[by]
    out_cols = [*cols, *(f"n_{f}" for f in FINDINGS), "leakage", "unbilled_value", "list_value"]
    if findings.empty:
        return pd.DataFrame(columns=out_cols)
    work = findings.copy()
    for col in cols:
        work[col] = work[col].astype(object).where(work[col].notna(), "")
    for f in FINDINGS:
        work[f"n_{f}"] = (work["finding"] == f).astype(int)
    out = work.groupby(cols, as_index=False, sort=False)[out_cols[len(cols) :]].sum()
    for col in ("leakage", "unbilled_value", "list_value"):
        out[col] = out[col].astype("float64").round(2)
    return out.sort_values(
        ["leakage", "list_value", cols[0]], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def leakage_by_account(
    con, scope: Scope, *, year: int | None = None, as_of: dt.date | None = None
) -> dict[str, float]:
    """{account_id: total leakage} for the accounts with findings."""
    found = select_findings(con, scope, year=year, as_of=as_of)
    if found.empty:
        return {}
    sums = found.groupby("account_id")["leakage"].sum().round(2)
    return {str(k): float(v) for k, v in sums.items()}
