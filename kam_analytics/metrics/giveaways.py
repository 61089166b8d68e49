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
from kam_analytics.metrics.services import (
    _SQL_CELLS,
    _SQL_EVENTS,
    MONEY,
    _money,
    _params,
    _period,
)
from kam_analytics.money import round_cents
from kam_analytics.summaries import ensure_summaries

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


# The filtered events of services._SQL_EVENTS checked in DuckDB against the effective policy
# of their year (bound as lists: year, service_code, tier, policy; year -1 = no date).
_SQL_CHECKED = """
WITH pol AS (
    SELECT UNNEST($p_year) AS year, UNNEST($p_code) AS service_code,
           UNNEST($p_tier) AS tier, UNNEST($p_policy) AS policy
),
ev AS ({events}),
checked AS (
    SELECT ev.*, pol.policy,
        CASE
            WHEN pol.policy = 'not_offered' THEN 'off_policy'
            WHEN pol.policy = 'billed' AND ev.unbilled_value > 0 THEN 'giveaway'
            WHEN pol.policy = 'waived' AND ev.billing_mode = 'silent' THEN 'invisible'
        END AS finding,
        CASE
            WHEN pol.policy = 'not_offered' THEN greatest(ev.unbilled_value, 0)
            WHEN pol.policy = 'billed' AND ev.unbilled_value > 0 THEN ev.unbilled_value
            ELSE 0
        END AS leakage
    FROM ev
    LEFT JOIN pol
      ON pol.year = COALESCE(year(ev.date), -1)
     AND pol.service_code = ev.service_code
     AND pol.tier = ev.tier
)
{select}
"""
_FINDINGS_SELECT = "SELECT * FROM checked WHERE finding IS NOT NULL"
# The worst findings (select_findings' order); no count beside them (a window over every
# finding would make DuckDB hold them all instead of the worst few).
_TOP_SELECT = """SELECT * FROM checked WHERE finding IS NOT NULL
ORDER BY round(leakage, 2) DESC, source_id, source_table LIMIT $limit"""
# The policy check of _SQL_CHECKED on the cells of the service_months summary
# (services._SQL_CELLS) instead of single events: a cell is one account, month, service and
# billing mode, so every event in it has the same policy (the tier and the matrix are joined
# here, at read time) and the same finding, except `giveaway`, which takes only the events
# not fully billed (the cell's unbilled_events and their sums). Per finding: n events, the
# exact leakage, and leakage, unbilled value and list value rounded to cents per event, as
# _SQL_CHECKED's rows are summed; the same to the cent.
_SQL_CELLS_CHECKED = f"""
WITH pol AS (
    SELECT UNNEST($p_year) AS year, UNNEST($p_code) AS service_code,
           UNNEST($p_tier) AS tier, UNNEST($p_policy) AS policy
),
{_SQL_CELLS},
ev AS (
    SELECT e.*, a.tier
    FROM cells e
    JOIN accounts a ON a.account_id = e.account_id
    WHERE e.account_id IN (SELECT account_id FROM visible_accounts($kam))
      AND ($account IS NULL OR e.account_id = $account)
      AND ($tiers IS NULL OR list_contains($tiers, COALESCE(a.tier, '')))
      AND ($kams IS NULL OR list_contains($kams, COALESCE(a.kam_id, '')))
      AND ($services IS NULL OR list_contains($services, e.service_code))
),
policed AS (
    SELECT ev.*, pol.policy
    FROM ev
    LEFT JOIN pol
      ON pol.year = COALESCE(year(ev.month), -1)
     AND pol.service_code = ev.service_code
     AND pol.tier = ev.tier
),
checked AS (
    SELECT account_id, service_code, policy,
        CASE
            WHEN policy = 'not_offered' THEN 'off_policy'
            WHEN policy = 'billed' AND unbilled_events > 0 THEN 'giveaway'
            WHEN policy = 'waived' AND billing_mode = 'silent' THEN 'invisible'
        END AS finding,
        CASE WHEN policy = 'billed' THEN unbilled_events ELSE events END AS n,
        CASE WHEN policy IN ('not_offered', 'billed') THEN leakage_value ELSE 0 END AS leakage,
        CASE WHEN policy IN ('not_offered', 'billed') THEN leakage_cents ELSE 0 END
            AS leakage_cents,
        -- a giveaway's events all have unbilled value > 0: greatest(unbilled, 0) is theirs
        CASE WHEN policy = 'billed' THEN leakage_cents ELSE unbilled_cents END AS unbilled_cents,
        CASE WHEN policy = 'billed' THEN list_cents_unbilled ELSE list_cents END AS list_cents
    FROM policed
)
{{select}}
"""
# The findings summed per account and kind and per service and kind (each row's money rounded
# to cents first, as select_findings hands it out), with the account's names beside them.
_TOTALS_SELECT = """, agg AS (
    SELECT GROUPING(account_id, service_code) AS grp, account_id, service_code, finding,
           CAST(sum(n) AS BIGINT) AS n, sum(leakage_cents) AS leakage,
           sum(unbilled_cents) AS unbilled_value,
           sum(list_cents) AS list_value
    FROM checked WHERE finding IS NOT NULL
    GROUP BY GROUPING SETS ((account_id, finding), (service_code, finding))
)
SELECT agg.grp, COALESCE(agg.account_id, '') AS account_id,
       COALESCE(agg.service_code, '') AS service_code, agg.finding, agg.n,
       CAST(agg.leakage AS DOUBLE) AS leakage,
       CAST(agg.unbilled_value AS DOUBLE) AS unbilled_value,
       CAST(agg.list_value AS DOUBLE) AS list_value,
       COALESCE(a.name, '') AS account_name, COALESCE(a.tier, '') AS tier,
       COALESCE(a.kam_id, '') AS kam_id, COALESCE(k.name, '') AS kam_name
FROM agg
LEFT JOIN accounts a ON a.account_id = agg.account_id
LEFT JOIN kams k ON k.kam_id = a.kam_id
"""
_TOTAL_COLUMNS = {
    "account_id": ["account_id", "account_name", "tier"],
    "kam_id": ["kam_id", "kam_name"],
    "service_code": ["service_code"],
    "tier": ["tier"],
    "finding": ["finding"],
    "account_finding": ["account_id", "finding"],
}
_LEAKAGE_SELECT = """SELECT account_id, SUM(leakage) AS leakage FROM checked
WHERE finding IS NOT NULL GROUP BY account_id ORDER BY account_id"""
_SQL_EVENT_YEARS = """
SELECT DISTINCT COALESCE(year(e.month), -1) AS y FROM service_months e
WHERE e.account_id IN (SELECT account_id FROM visible_accounts(?))
"""


def _policy_params(con, scope: Scope, year: int | None) -> dict:
    """The effective matrices the events of `year` (None = all) need, as bound lists."""
    if year is None:
        ensure_summaries(con)  # the years of the events from service_months
        years = [r[0] for r in con.execute(_SQL_EVENT_YEARS, [scope.kam_param]).fetchall()]
    else:
        years = [int(year)]
    pol = policies_for_years(con, years)
    return {
        "p_year": [int(y) for y in pol["year"]],
        "p_code": [str(c) for c in pol["service_code"]],
        "p_tier": [str(t) for t in pol["tier"]],
        "p_policy": [str(p) for p in pol["policy"]],
    }


def _checked_query(
    con,
    scope,
    select,
    *,
    year,
    as_of,
    account_id,
    tiers,
    kam_ids,
    services,
    extra=None,
):
    events_sql = _SQL_EVENTS.strip().rsplit("ORDER BY", 1)[0]
    params = {
        **_params(scope, year, as_of, account_id, tiers, kam_ids, services),
        **_policy_params(con, scope, year),
        **(extra or {}),
    }
    return con.execute(_SQL_CHECKED.format(events=events_sql, select=select), params).df()


def _checked_cells(con, scope, select, *, year, as_of, tiers=None, kam_ids=None, services=None):
    """`select` over the checked cells of _SQL_CELLS_CHECKED (the summary, not every event)."""
    ensure_summaries(con)  # reads service_months
    params = {
        **_params(scope, year, as_of, None, tiers, kam_ids, services),
        **_period(year, as_of),
        **_policy_params(con, scope, year),
    }
    return con.execute(_SQL_CELLS_CHECKED.format(select=select), params).df()


def _finding_frame(found: pd.DataFrame) -> pd.DataFrame:
    """The checked rows typed the way select_findings hands them out."""
    found = _money(found, MONEY)
    found["date"] = pd.to_datetime(found["date"]).dt.date
    found["finding"] = found["finding"].astype(object)
    found["leakage"] = round_cents(pd.to_numeric(found["leakage"]).astype("float64"))
    # A text column comes back as pandas' string type (missing = NaN) unless every value is
    # NULL (then object, missing = None): the top rows and all rows must hand out the same.
    for col in found.columns:
        if pd.api.types.is_string_dtype(found[col]) and col != "date":
            found[col] = found[col].astype(object).where(found[col].notna(), None)
    return found


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
    """Every finding with its event's columns (account, KAM, import), worst first.

    The policy check runs in DuckDB; equal to check_events(select_service_events(...)) with
    the rows that have a finding.
    """
    found = _checked_query(
        con,
        scope,
        _FINDINGS_SELECT + " ORDER BY date, source_table, source_id",
        year=year,
        as_of=as_of,
        account_id=account_id,
        tiers=tiers,
        kam_ids=kam_ids,
        services=services,
    )
    return (
        _finding_frame(found)
        .sort_values(
            ["leakage", "source_id", "source_table"], ascending=[False, True, True], kind="stable"
        )
        .reset_index(drop=True)
    )


def select_top_findings(
    con,
    scope: Scope,
    *,
    limit: int,
    year: int | None = None,
    as_of: dt.date | None = None,
    tiers=None,
    kam_ids=None,
    services=None,
) -> pd.DataFrame:
    """The `limit` worst findings: select_findings(...).head(limit).

    The page shows these instead of every finding: the rows sent to the browser stay bounded
    on a company of 50,000 accounts (160,000 findings a year). How many there are in all:
    summarise_findings.
    """
    found = _checked_query(
        con,
        scope,
        _TOP_SELECT,
        year=year,
        as_of=as_of,
        account_id=None,
        tiers=tiers,
        kam_ids=kam_ids,
        services=services,
        extra={"limit": int(limit)},
    )
    return _finding_frame(found).reset_index(drop=True)


def summarise_findings(
    con,
    scope: Scope,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    tiers=None,
    kam_ids=None,
    services=None,
) -> dict[str, pd.DataFrame]:
    """totals_by(select_findings(...), by) for account_id, kam_id, service_code and tier, and
    the same per finding ("finding") and per account and finding ("account_finding").

    One query sums the findings per account and kind and per service and kind; no finding
    row reaches Python (160,000 a year on a company of 50,000 accounts).
    """
    rows = _checked_cells(
        con,
        scope,
        _TOTALS_SELECT,
        year=year,
        as_of=as_of,
        tiers=tiers,
        kam_ids=kam_ids,
        services=services,
    )
    for f in FINDINGS:
        rows[f"n_{f}"] = rows["n"].where(rows["finding"] == f, 0).astype("int64")
    # GROUPING(account_id, service_code): 1 = the account set, 2 = the service set
    by_account = rows[rows["grp"] == 1]
    by_service = rows[rows["grp"] == 2]
    values = [*(f"n_{f}" for f in FINDINGS), "leakage", "unbilled_value", "list_value"]
    out = {}
    for by, keys in _TOTAL_COLUMNS.items():
        source = by_service if by == "service_code" else by_account
        if source.empty:
            out[by] = pd.DataFrame(columns=[*keys, *values])
            continue
        part = source.groupby(keys, as_index=False, sort=False)[values].sum()
        for col in ("leakage", "unbilled_value", "list_value"):
            part[col] = round_cents(part[col])
        out[by] = part.sort_values(
            ["leakage", "list_value", *keys],
            ascending=[False, False, *([True] * len(keys))],
            kind="stable",
        ).reset_index(drop=True)
    return out


def report_giveaways(
    con, *, year: int | None = None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """One row per finding (off_policy, giveaway, invisible), worst leakage first, dates ISO."""
    cols = ", ".join(
        c if c != "date" else "strftime(date, '%Y-%m-%d') AS date" for c in REPORT_COLUMNS
    )
    found = _checked_query(
        con,
        scope,
        f"SELECT {cols} FROM checked WHERE finding IS NOT NULL",
        year=year,
        as_of=as_of,
        account_id=None,
        tiers=None,
        kam_ids=None,
        services=None,
    )
    found["date"] = found["date"].astype(object).where(found["date"].notna(), None)
    found["finding"] = found["finding"].astype(object)
    found["leakage"] = round_cents(pd.to_numeric(found["leakage"]).astype("float64"))
    out = found.sort_values(
        ["leakage", "source_id", "source_table"], ascending=[False, True, True], kind="stable"
    )
    return out[REPORT_COLUMNS].reset_index(drop=True)


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
    work = findings[[*cols, "finding", "leakage", "unbilled_value", "list_value"]].copy()
    for col in cols:
        work[col] = work[col].astype(object).where(work[col].notna(), "")
    for f in FINDINGS:
        work[f"n_{f}"] = (work["finding"] == f).astype(int)
    out = work.groupby(cols, as_index=False, sort=False)[out_cols[len(cols) :]].sum()
    for col in ("leakage", "unbilled_value", "list_value"):
        out[col] = round_cents(out[col].astype("float64"))
    return out.sort_values(
        ["leakage", "list_value", cols[0]], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def leakage_by_account(
    con, scope: Scope, *, year: int | None = None, as_of: dt.date | None = None
) -> dict[str, float]:
    """{account_id: total leakage} for the accounts with findings."""
    sums = _checked_cells(con, scope, _LEAKAGE_SELECT, year=year, as_of=as_of)
    # lists, not the frame's values one by one (35,000 accounts at 10x)
    ids = sums["account_id"].astype(object).tolist()
    values = sums["leakage"].astype("float64").tolist()
    return {str(a): round(v, 2) for a, v in zip(ids, values, strict=True)}
