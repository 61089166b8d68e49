"""The key figures of a data state, kept per import batch so "what changed" stays exact.

Before and after every import batch the company-wide figures of the running year are captured
(every account's tier, KAM, ABC suggestion, retention state and signals; every giveaway finding
with its leakage; every KAM's bonus standing) and stored with the batch's import ids. Undoing
an import of the batch removes its snapshot. The figures are company-wide; whoever reads them
gets only what their scope may see (metrics/changes.py filters).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.write_log import writing

EVERYONE = Scope.everything()
ACCOUNT_COLUMNS = ["account_id", "name", "tier", "kam_id", "abc", "active_end", "lost", "at_risk"]
FINDING_COLUMNS = ["source_table", "source_id", "account_id", "service_code", "finding", "leakage"]


def capture_figures(con, as_of: dt.date | None = None) -> dict:
    """The key figures of the data as it is now (running year up to `as_of`, default today)."""
    from kam_analytics.metrics.abc import with_abc
    from kam_analytics.metrics.bonus import compute_standings
    from kam_analytics.metrics.giveaways import select_findings
    from kam_analytics.metrics.retention import compute_retention

    as_of = as_of or dt.date.today()
    year = as_of.year
    accounts = compute_retention(con, year=year, as_of=as_of, scope=EVERYONE, tiers=None)
    accounts = with_abc(con, EVERYONE, accounts, year=year, as_of=as_of)
    accounts_out = [
        {
            **{c: _plain(r.get(c)) for c in ACCOUNT_COLUMNS},
            "signals": str(r.get("signals") or ""),
            "days_since_last_order": _plain(r.get("days_since_last_order")),
        }
        for r in accounts.to_dict(orient="records")
    ]
    found = select_findings(con, EVERYONE, year=year, as_of=as_of)
    findings = [
        {c: _plain(r.get(c)) for c in FINDING_COLUMNS} for r in found.to_dict(orient="records")
    ]
    standings = [
        {
            "kam_id": s.kam_id,
            "name": s.name,
            "bonus": round(float(s.now.bonus), 2),
            "bonus_best": round(float(s.best.bonus), 2),
            "bonus_worst": round(float(s.worst.bonus), 2),
        }
        for s in compute_standings(con, year=year, as_of=as_of, scope=EVERYONE)
    ]
    return {
        "as_of": as_of.isoformat(),
        "year": year,
        "accounts": accounts_out,
        "findings": findings,
        "bonus": standings,
    }


def _plain(value):
    """A JSON-safe scalar (numpy/pandas values, NaN and NA become plain Python or None)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return round(value, 2)
    return value


def insert_snapshot(con, import_ids: list[int], before: dict, after: dict) -> None:
    """Store the figures before and after one import batch."""
    with writing(con, "figure_snapshots"):
        con.execute(
            "INSERT INTO figure_snapshots (import_id, import_ids, taken_at, before, after)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                min(import_ids),
                json.dumps(sorted(import_ids)),
                dt.datetime.now(),
                json.dumps(before),
                json.dumps(after),
            ],
        )


def delete_snapshots_of(con, import_id: int) -> None:
    """Forget the snapshot of the batch an undone import belonged to."""
    with writing(con, "figure_snapshots"):
        con.execute(
            "DELETE FROM figure_snapshots WHERE list_contains(CAST(import_ids AS BIGINT[]), ?)",
            [int(import_id)],
        )


def select_snapshots(con) -> pd.DataFrame:
    """Every stored batch: first import id, its import ids and when it was taken, oldest first."""
    return con.execute(
        "SELECT import_id, import_ids, taken_at FROM figure_snapshots ORDER BY taken_at, import_id"
    ).df()


def select_snapshot(con, import_id: int) -> dict | None:
    """The before/after figures of the batch that holds `import_id`, or None."""
    rows = con.execute(
        "SELECT import_ids, taken_at, before, after FROM figure_snapshots"
        " WHERE list_contains(CAST(import_ids AS BIGINT[]), ?)",
        [int(import_id)],
    ).fetchall()
    if not rows:
        return None
    ids, taken, before, after = rows[0]
    return {
        "import_ids": json.loads(ids),
        "taken_at": taken,
        "before": json.loads(before),
        "after": json.loads(after),
    }


def select_state_at(con, moment: dt.datetime) -> dict | None:
    """The figures as they were at `moment`: after the last batch stored before it."""
    rows = con.execute(
        "SELECT after FROM figure_snapshots WHERE taken_at <= ? ORDER BY taken_at DESC LIMIT 1",
        [moment],
    ).fetchall()
    return json.loads(rows[0][0]) if rows else None
