"""The change page's data: the recorded import batches and the changes for one choice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics import snapshots
from kam_analytics.access import Scope
from kam_analytics.i18n import select_service_names
from kam_analytics.metrics.changes import compare_states, resolve_states


@dataclass
class ChangesData:
    """Everything the change page shows for one comparison."""

    batches: pd.DataFrame  # import_id, import_ids, taken_at (oldest first)
    since: str | None
    rows: pd.DataFrame  # metrics.changes.REPORT_COLUMNS
    names: dict[str, str]  # service code -> name


def load_changes(
    con, scope: Scope, *, since: str | dt.date | None = None, lang: str = "de"
) -> ChangesData:
    """The changes since `since` (None = the latest import batch; an import id; a date)."""
    batches = snapshots.select_snapshots(con)
    if batches.empty:
        return ChangesData(batches, since, pd.DataFrame(), {})
    before, after, _ = resolve_states(con, since)
    return ChangesData(
        batches, since, compare_states(con, before, after, scope), select_service_names(con, lang)
    )
