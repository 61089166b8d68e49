"""Profitability per account after services, the whale curve and tier-fit alerts.

- revenue = sum of order net revenue; gross margin = revenue − cost of goods (a missing cost of
  goods counts as 0, so the margin of such lines is overstated; `cogs_missing` counts them);
- service cost = internal cost of every service given (express freight included);
- service billed = what was charged for those services;
- net contribution = gross margin − service cost + service billed.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.catalogue import exclusive_services
from kam_analytics.metrics.giveaways import leakage_by_account, policies_for_years
from kam_analytics.metrics.services import _SQL_CELLS, _period
from kam_analytics.summaries import ensure_summaries

COLUMNS = [
    "account_id",
    "name",
    "tier",
    "kam_id",
    "revenue",
    "cost_of_goods",
    "gross_margin",
    "service_cost",
    "service_value",
    "service_billed",
    "net_contribution",
    "cogs_missing",
]

# Services from the service_months summary (services._SQL_CELLS: its whole months plus the
# as-of month's days from the view), the same to the cent as the view's events.
_SQL = f"""
WITH o AS (
    SELECT account_id,
           SUM(revenue) AS revenue,
           SUM(COALESCE(cost_of_goods, 0)) AS cost_of_goods,
           SUM(cogs_missing) AS cogs_missing
    FROM order_days  -- per account and order date (summaries.py)
    WHERE ($year IS NULL OR year(order_date) = $year)
      AND ($as_of IS NULL OR order_date <= $as_of)
    GROUP BY account_id
),
{_SQL_CELLS},
s AS (
    SELECT account_id,
           SUM(cost) AS service_cost,
           SUM(list_value) AS service_value,
           SUM(billed_amount) AS service_billed
    FROM cells
    GROUP BY account_id
)
SELECT a.account_id, a.name, a.tier, a.kam_id,
       COALESCE(o.revenue, 0) AS revenue,
       COALESCE(o.cost_of_goods, 0) AS cost_of_goods,
       COALESCE(o.revenue, 0) - COALESCE(o.cost_of_goods, 0) AS gross_margin,
       COALESCE(s.service_cost, 0) AS service_cost,
       COALESCE(s.service_value, 0) AS service_value,
       COALESCE(s.service_billed, 0) AS service_billed,
       COALESCE(o.revenue, 0) - COALESCE(o.cost_of_goods, 0)
           - COALESCE(s.service_cost, 0) + COALESCE(s.service_billed, 0) AS net_contribution,
       COALESCE(o.cogs_missing, 0) AS cogs_missing
FROM accounts a
LEFT JOIN o ON o.account_id = a.account_id
LEFT JOIN s ON s.account_id = a.account_id
WHERE a.account_id IN (SELECT account_id FROM visible_accounts($kam))
ORDER BY a.account_id
"""


# List value of B and C accounts' events per account and service, for the services that are
# exclusive to KEY in the matrix of the event's year (bound as lists year, service_code).
_SQL_EXCLUSIVE = f"""
WITH excl AS (SELECT UNNEST($x_year) AS year, UNNEST($x_code) AS service_code),
{_SQL_CELLS}
SELECT e.account_id, a.name AS account_name, a.tier,
       SUM(e.list_value) AS value,
       string_agg(DISTINCT e.service_code, ', ' ORDER BY e.service_code) AS codes
FROM cells e
JOIN accounts a ON a.account_id = e.account_id AND a.tier IN ('B', 'C')
SEMI JOIN excl ON excl.year = year(e.month) AND excl.service_code = e.service_code
WHERE e.account_id IN (SELECT account_id FROM visible_accounts($kam))
  AND a.name IS NOT NULL
GROUP BY e.account_id, a.name, a.tier
ORDER BY e.account_id, a.name, a.tier
"""
_SQL_YEARS = """
SELECT DISTINCT year(e.month) AS y FROM service_months e
JOIN accounts a ON a.account_id = e.account_id
WHERE e.account_id IN (SELECT account_id FROM visible_accounts(?))
  AND a.tier IN ('B', 'C') AND e.month IS NOT NULL
"""


def _exclusive_by_account(con, *, year, as_of, scope: Scope) -> pd.DataFrame:
    """B/C accounts' list value of KEY-exclusive services: account_id, account_name, tier, value, codes."""
    ensure_summaries(con)  # reads service_months
    if year is None:
        years = [int(r[0]) for r in con.execute(_SQL_YEARS, [scope.kam_param]).fetchall()]
    else:
        years = [int(year)]
    x_year, x_code = [], []
    if years:
        pol = policies_for_years(con, years)
        for y, matrix in pol.groupby("year", sort=True):
            for code, excl in exclusive_services(matrix).items():
                if excl:
                    x_year.append(int(y))
                    x_code.append(str(code))
    df = con.execute(
        _SQL_EXCLUSIVE,
        {
            "x_year": x_year,
            "x_code": x_code,
            **_period(year, as_of),
            "kam": scope.kam_param,
        },
    ).df()
    df["value"] = pd.to_numeric(df["value"]).astype("float64").round(2)
    return df[["account_id", "account_name", "tier", "value", "codes"]]


def account_profitability(
    con, *, year: int | None = None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """One row per visible account: revenue, gross margin, service cost, net contribution."""
    ensure_summaries(con)  # reads order_days and service_months
    df = con.execute(_SQL, {**_period(year, as_of), "kam": scope.kam_param}).df()
    for col in COLUMNS[4:11]:
        df[col] = pd.to_numeric(df[col]).astype("float64").fillna(0.0).round(2)
    df["cogs_missing"] = df["cogs_missing"].astype(int)
    return df[COLUMNS]


def whale_curve(profit: pd.DataFrame) -> pd.DataFrame:
    """The classic whale curve: accounts ranked by net contribution (most profitable first)
    with the cumulative contribution as a share of the total.

    The curve climbs above 100 % while profitable accounts are added and falls back to exactly
    100 % as the loss-making accounts at its end eat into it: its peak says how much profit the
    loss makers destroy. Columns: rank, account_id, name, tier, net_contribution, cumulative,
    cumulative_share (of the total contribution; NaN when the total is not positive, where a
    share of it means nothing), account_share (rank / number of accounts).
    """
    ranked = profit.sort_values(
        ["net_contribution", "account_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    total = float(ranked["net_contribution"].sum())
    out = ranked[["account_id", "name", "tier", "net_contribution"]].copy()
    out.insert(0, "rank", range(1, len(out) + 1))
    out["cumulative"] = out["net_contribution"].cumsum().round(2)
    out["cumulative_share"] = out["cumulative"] / total if total > 0 else float("nan")
    out["account_share"] = out["rank"] / len(out) if len(out) else 0.0
    return out


def whale_peak(curve: pd.DataFrame) -> dict | None:
    """The top of the whale curve: rank, account_share, cumulative and cumulative_share of the
    point where the cumulative contribution is highest (None for an empty curve)."""
    if curve.empty:
        return None
    top = curve.loc[curve["cumulative"].idxmax()]
    return {k: top[k] for k in ("rank", "account_share", "cumulative", "cumulative_share")}


def curve_points(curve: pd.DataFrame, max_points: int = 1000) -> pd.DataFrame:
    """At most about `max_points` rows of a whale curve for drawing: evenly spaced ranks plus
    the first, the last and the peak, so the line keeps its shape and its top (50,000
    accounts would be 50,000 points with a label each in every page run)."""
    if len(curve) <= max_points:
        return curve
    step = len(curve) / max_points
    keep = {int(i * step) for i in range(max_points)} | {0, len(curve) - 1}
    keep.add(int(curve.index.get_loc(curve["cumulative"].idxmax())))
    return curve.iloc[sorted(keep)]


def tier_fit_alerts(
    con, *, year: int | None = None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """Accounts whose service does not fit their tier, with the signal that fired.

    - `above_key_median`: a B or C account received more service value (list value) than the
      median KEY account in the period (median over visible KEY accounts, zeros included);
    - `key_exclusive`: a B or C account received a service exclusive to KEY in the matrix of
      the event's year;
    - `leakage_over_margin`: a KEY account's giveaway leakage exceeds its gross margin.
    Columns: account_id, name, tier, alert, value, threshold, detail.
    """
    profit = memoised(account_profitability)(con, year=year, as_of=as_of, scope=scope)
    rows = []
    key = profit[profit["tier"] == "KEY"]
    median = float(key["service_value"].median()) if len(key) else None
    small = profit[profit["tier"].isin(["B", "C"])]
    if median is not None:
        for r in small[small["service_value"] > median].itertuples():
            rows.append(
                (
                    r.account_id,
                    r.name,
                    r.tier,
                    "above_key_median",
                    r.service_value,
                    round(median, 2),
                    "",
                )
            )
    excl = _exclusive_by_account(con, year=year, as_of=as_of, scope=scope)
    for r in excl.itertuples():
        rows.append((r.account_id, r.account_name, r.tier, "key_exclusive", r.value, None, r.codes))
    leak = leakage_by_account(con, scope, year=year, as_of=as_of)
    for r in key.itertuples():
        value = leak.get(r.account_id, 0.0)
        if value > r.gross_margin:
            rows.append(
                (r.account_id, r.name, r.tier, "leakage_over_margin", value, r.gross_margin, "")
            )
    out = pd.DataFrame(
        rows, columns=["account_id", "name", "tier", "alert", "value", "threshold", "detail"]
    )
    return out.sort_values(
        ["alert", "value", "account_id"], ascending=[True, False, True]
    ).reset_index(drop=True)
