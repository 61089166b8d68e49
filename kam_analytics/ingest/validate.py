"""Turning the rows of a file into canonical rows, collecting every problem at once.

`prepare` runs the phases in order, each in its own module: columns (where each canonical
column comes from, parsing every value), rows (totals, hidden rows, row filters), money
(currencies, unit prices, catalogue values), keys (id normalising, derived keys, empty keys,
duplicates), then the warnings here. Blocking errors (nothing is written): missing required
column, unparseable key/date/amount, a key twice with different values, unknown category
values, amounts without a rate. Warnings (the import goes ahead): orphan accounts, negative
freight, future dates, identical duplicates, rows left out and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam_analytics.errors import Problem, Reason
from kam_analytics.ingest import columns, keys, money, rows
from kam_analytics.ingest.columns import read_options, resolve_header  # noqa: F401
from kam_analytics.ingest.mapping import Mapping
from kam_analytics.ingest.problems import (  # noqa: F401  (the report lives there)
    REPORT_COLUMNS,
    Collector,
    problems_csv,
    problems_frame,
)
from kam_analytics.ingest.read import RawSheet
from kam_analytics.ingest.state import State

# Freight must not be negative; other money columns may be (credit notes).
NEGATIVE_WARNED = ("freight_cost", "freight_charged")
# Unknown accounts named one by one up to this many; more are one warning.
ORPHAN_DETAIL = 10


@dataclass
class Prepared:
    """A file's rows mapped, parsed and checked: what load() writes, and every problem found."""

    raw: RawSheet
    mapping: Mapping
    frame: pd.DataFrame  # provided canonical columns + source_row
    columns: list[str]  # canonical columns the file provides (written on insert and update)
    problems: list[Problem] = field(default_factory=list)
    rows_rejected: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # rows left out: why -> count

    @property
    def table(self) -> str:
        """Canonical table name."""
        return self.mapping.table

    @property
    def errors(self) -> list[Problem]:
        """Blocking problems."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that do not block the import."""
        return [p for p in self.problems if p.severity != "error"]

    @property
    def blocked(self) -> bool:
        """True when nothing may be written."""
        return bool(self.errors)


def add_value_warnings(state: State) -> None:
    """Negative freight and future dates: imported as they are, with a warning."""
    result, out = state.result, state.out
    for name in NEGATIVE_WARNED:
        if name in result:
            neg = (result[name] < 0).fillna(False).to_numpy() & state.keep
            out.rows(
                neg,
                result[name],
                Reason.NEGATIVE_FREIGHT,
                state.where[name],
                severity="warning",
                params={"name": name},
            )
    future = pd.Timestamp(state.today)
    for col in state.table.columns:
        if col.kind == "date" and col.name in result and col.name != "customer_since":
            fut = (result[col.name] > future).fillna(False).to_numpy() & state.keep
            out.rows(
                fut,
                result[col.name],
                Reason.FUTURE_DATE,
                state.where[col.name],
                severity="warning",
                params={"name": col.name},
            )


def prepare(
    raw: RawSheet,
    mapping: Mapping,
    *,
    known_accounts: set[str] | None = None,
    today: dt.date | None = None,
    catalogue: dict[str, tuple[float, float]] | None = None,
    rates=None,
    reference_ids: set[str] | None = None,
) -> Prepared:
    """Map, parse and validate every row; never raises for data problems, collects them."""
    state = State(
        raw=raw,
        mapping=mapping,
        opts=read_options(mapping),
        today=today or dt.date.today(),
        out=Collector(raw, table=mapping.table),
        catalogue=catalogue if catalogue is not None else default_catalogue(),
        rates=rates,
        known_accounts=reference_ids if reference_ids is not None else known_accounts,
    )
    state.out.items.extend(raw.notices)
    state.keep = np.ones(state.n, dtype=bool)
    columns.plan_columns(state)
    columns.parse_columns(state)
    rows.drop_total_rows(state)
    rows.handle_hidden_rows(state)
    rows.apply_row_filters(state)
    rows.check_pipeline_stage(state)
    rows.warn_no_data(state)
    money.apply_debit_credit(state)
    money.fill_from_unit_price(state)
    money.convert_currencies(state)
    money.fill_service_values(state)
    keys.normalise_ids(state)
    keys.derive_event_ids(state)
    keys.number_order_lines(state)
    keys.check_required(state)
    keys.check_duplicates(state)
    add_value_warnings(state)
    return finish(state, known_accounts)


def finish(state: State, known_accounts: set[str] | None = None) -> Prepared:
    """The rows to write (data rows, written columns, source row) and every finding."""
    result = state.result
    written = [c for c in result.columns if c in state.table.column_names]
    frame = result[written].copy()
    frame["source_row"] = state.raw.rows.astype("int64")
    if not state.keep.all():
        frame = frame[state.keep].reset_index(drop=True)
    prepared = Prepared(
        raw=state.raw,
        mapping=state.mapping,
        frame=frame,
        columns=written,
        problems=state.out.items,
        rows_rejected=state.rejected,
        dropped=dict(state.dropped),
    )
    if known_accounts is not None:
        add_orphan_warnings(prepared, known_accounts)
    return prepared


def default_catalogue() -> dict[str, tuple[float, float]]:
    """Service code -> (cost, list value) of the default catalogue (DOMAIN.md)."""
    from kam_analytics.catalogue import DEFAULT_SERVICES

    return {
        code: (float(cost), float(value)) for code, _d, _e, _u, cost, value, _x in DEFAULT_SERVICES
    }


def select_catalogue_values(con) -> dict[str, tuple[float, float]]:
    """Service code -> (cost, list value) of the database's catalogue."""
    from kam_analytics.catalogue import select_catalogue

    df = select_catalogue(con)
    return {
        r.service_code: (
            float(r.cost) if pd.notna(r.cost) else np.nan,
            float(r.list_value) if pd.notna(r.list_value) else np.nan,
        )
        for r in df.itertuples()
    }


def add_orphan_warnings(prepared: Prepared, known_accounts: set[str]) -> None:
    """Warn about rows whose account is not known (kept; a placeholder account is created)."""
    frame = prepared.frame
    if prepared.table == "accounts" or "account_id" not in frame:
        return
    orphan = frame["account_id"].notna() & ~frame["account_id"].isin(known_accounts)
    if not orphan.any():
        return
    header = prepared.mapping.columns.get("account_id", "account_id")
    header = resolve_header(prepared.raw.headers, header) or header
    # One warning per unknown account (first row and count), not one per row; beyond a few
    # accounts one warning for all of them.
    groups = frame.loc[orphan, ["account_id", "source_row"]].groupby("account_id", sort=False)
    summary = groups["source_row"].agg(["min", "count"])
    if len(summary) > ORPHAN_DETAIL:
        shown = ", ".join(map(str, summary.index[:5])) + ", …"
        prepared.problems.append(
            Problem(
                prepared.raw.file_name,
                prepared.raw.sheet,
                int(summary["min"].min()),
                header,
                None,
                Reason.ORPHAN_ACCOUNT,
                "warning",
                {
                    "variant": "summary",
                    "accounts": len(summary),
                    "count": int(orphan.sum()),
                    "shown": shown,
                },
            )
        )
        return
    for account, (first, count) in summary.iterrows():
        prepared.problems.append(
            Problem(
                prepared.raw.file_name,
                prepared.raw.sheet,
                int(first),
                header,
                str(account),
                Reason.ORPHAN_ACCOUNT,
                "warning",
                {"variant": "many", "count": int(count), "first": int(first)} if count > 1 else {},
            )
        )
