"""The state of one file while it is validated: what each phase reads and leaves for the next."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam_analytics import schema
from kam_analytics.ingest.mapping import Mapping
from kam_analytics.ingest.problems import Collector
from kam_analytics.ingest.read import RawSheet


@dataclass
class State:
    """One file on its way through the validation phases."""

    raw: RawSheet
    mapping: Mapping
    opts: dict
    today: dt.date
    out: Collector
    # canonical (or input-only) column -> ("column", header) | ("constant", v) | ("computed", e)
    plan: dict[str, tuple[str, object]] = field(default_factory=dict)
    result: pd.DataFrame | None = None  # parsed values, one row per file row
    sources: dict[str, pd.Series] = field(default_factory=dict)  # cells as read, per column
    where: dict[str, str] = field(default_factory=dict)  # column -> header named in problems
    cell_currency: dict[str, pd.Series] = field(default_factory=dict)  # money col -> "CHF"/NA
    keep: np.ndarray | None = None  # rows that are data and are written
    dropped: dict[str, int] = field(default_factory=dict)  # why rows were left out: count
    rejected: int = 0  # identical duplicates imported once
    catalogue: dict[str, tuple[float, float]] | None = None  # service -> (cost, list value)
    rates: object | None = None  # exchange_rates.RateTable
    known_accounts: set[str] | None = None

    @property
    def table(self) -> schema.Table:
        """The canonical table."""
        return schema.IMPORTABLE_TABLES[self.mapping.table]

    @property
    def n(self) -> int:
        """Rows in the file."""
        return len(self.raw.frame)

    def from_file(self, name: str) -> bool:
        """True when a column is read from a file column (not a constant or formula)."""
        return self.plan.get(name, ("",))[0] == "column"

    def drop(self, mask, why: str) -> set[int]:
        """Leave rows out (not data); returns their Excel row numbers."""
        mask = np.asarray(mask, dtype=bool) & self.keep
        if mask.any():
            self.keep = self.keep & ~mask
            self.dropped[why] = self.dropped.get(why, 0) + int(mask.sum())
        rows = {int(r) for r in self.raw.rows[mask]}
        self.out.drop_rows(rows)
        return rows
