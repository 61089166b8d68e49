"""The ABC suggestion from revenue share (DOMAIN.md): shown beside the assigned tier, never over it.

Accounts ranked by net revenue in the period (highest first; ties by account id): A = the
accounts that make the top 80 % of revenue (an account is A while the revenue ranked before it
is below 80 %), B = the next 15 % (before it below 95 %), C = the rest, and every account
without positive revenue. The ranking is over the whole company, so a KAM sees the same class
for an account as management does; only the visible accounts' classes are returned.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.cache import memoised
from kam_analytics.summaries import ensure_summaries

A_SHARE, B_SHARE = 0.80, 0.95


def classify_abc(revenue: pd.Series) -> pd.Series:
    """'A', 'B' or 'C' per index entry of `revenue` (index = account id).

    Vectorised (50,000 accounts in milliseconds): the revenue ranked before an account is the
    running sum in rank order, summed left to right as a loop over the accounts would.
    """
    if revenue.empty:
        return pd.Series(dtype="object")
    rev = revenue.astype(float).clip(lower=0).to_numpy()
    ids = np.array([str(a) for a in revenue.index], dtype=object)
    order = np.lexsort((ids, -rev))  # highest revenue first, ties by account id
    ranked = rev[order]
    total = float(rev.sum())
    before = np.concatenate(([0.0], np.cumsum(ranked)[:-1]))
    share = before / total if total > 0 else np.zeros_like(before)
    classes = np.where(
        (ranked <= 0) | (total <= 0),
        "C",
        np.where(share < A_SHARE - 1e-12, "A", np.where(share < B_SHARE - 1e-12, "B", "C")),
    )
    out = np.empty(len(rev), dtype=object)
    out[order] = classes
    return pd.Series(out, index=revenue.index)


def select_abc(
    con, scope: Scope, *, year: int | None = None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """account_id, revenue, abc for the visible accounts (year None = all years, to as_of)."""
    ensure_summaries(con)  # reads order_days
    df = con.execute(
        """
        SELECT a.account_id,
               CAST(COALESCE(sum(o.revenue), 0) AS DOUBLE) AS revenue,
               a.account_id IN (SELECT account_id FROM visible_accounts($k)) AS visible
        FROM accounts a
        LEFT JOIN order_days o ON o.account_id = a.account_id
             AND ($year IS NULL OR year(o.order_date) = $year)
             AND ($as_of IS NULL OR o.order_date <= $as_of)
        GROUP BY a.account_id
        """,
        {"k": scope.kam_param, "year": None if year is None else int(year), "as_of": as_of},
    ).df()
    if df.empty:
        return pd.DataFrame(columns=["account_id", "revenue", "abc"])
    df["abc"] = classify_abc(df.set_index("account_id")["revenue"]).to_numpy()
    out = df[df["visible"].astype(bool)][["account_id", "revenue", "abc"]]
    return out.sort_values("account_id").reset_index(drop=True)


def with_abc(
    con, scope: Scope, frame: pd.DataFrame, *, year: int | None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """`frame` (with an account_id column) plus its accounts' ABC suggestion in column abc.

    The classes are memoised per data version (kam_analytics/cache.py): several pages ask.
    """
    abc = memoised(select_abc)(con, scope, year=year, as_of=as_of)
    out = frame.copy()
    # a Series lookup, not a dict of every account: one account's page asks for one row
    out["abc"] = out["account_id"].map(abc.set_index("account_id")["abc"])
    return out
