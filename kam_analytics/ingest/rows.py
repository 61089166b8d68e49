"""Validation phase 3: which rows are data. Total rows at the bottom (only when they really are
totals), hidden or filtered-out Excel rows (when asked), the profile's row filters, an empty
file. Every row left out is reported with the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kam_analytics.errors import Reason
from kam_analytics.ingest.columns import column_kind, resolve_header
from kam_analytics.ingest.mapping import normalize_header
from kam_analytics.ingest.parse import as_text
from kam_analytics.ingest.read import total_label
from kam_analytics.ingest.state import State

_CENT = 0.005


def _money_columns(state: State) -> list[str]:
    return [
        c for c in state.result.columns if state.from_file(c) and column_kind(state, c) == "money"
    ]


def _key_columns(state: State) -> list[str]:
    return [k for k in state.table.key if state.from_file(k)]


def _is_total(state: State, pos: int, data: np.ndarray, labelled: bool) -> str | None:
    """Why the row at `pos` is a total ('sums' / 'no_key'), or None when it is a data row.
    A row without a label in its first filled cell is a total only when its amounts are the
    sums of the data rows above."""
    result = state.result
    keys = _key_columns(state)
    if labelled and keys and all(pd.isna(result[k].iloc[pos]) for k in keys):
        return "no_key"
    money = [c for c in _money_columns(state) if pd.notna(result[c].iloc[pos])]
    if not money or not data.any():
        return None
    # Only a label in the first filled cell ("Summe", "Gesamt") counts (the caller checks); a
    # remark "Total Deutschland GmbH" further right does not make a row a total.
    for c in money:
        column_sum = float(result[c].to_numpy(dtype="float64", na_value=0.0)[data].sum())
        if abs(float(result[c].iloc[pos]) - column_sum) > _CENT:
            return None
    return "sums"


def drop_total_rows(state: State) -> None:
    """Trailing rows labelled like totals are dropped only when they are totals: their amounts
    equal the sums of the rows above, or they have no key. A customer called "Total
    Deutschland GmbH" stays a customer."""
    raw, out = state.raw, state.out
    candidates = list(raw.total_candidates)
    last = state.n - 1
    keys = _key_columns(state)
    if (
        last >= 0
        and last not in candidates
        and keys
        and all(pd.isna(state.result[k].iloc[last]) for k in keys)
        and any(pd.notna(state.result[c].iloc[last]) for c in _money_columns(state))
    ):
        candidates.append(last)  # an unlabelled total: amounts, no key
    if not candidates:
        return
    data = state.keep.copy()
    data[candidates] = False
    # Top down: a subtotal is judged against the data rows above it, the grand total below
    # against the same data rows (a candidate found to be data counts as data).
    for pos in sorted(candidates):
        cells = [c for c in raw.frame.iloc[pos].tolist() if isinstance(c, str) and c.strip()]
        label = (total_label(cells[:1]) or "") if cells else ""
        why = _is_total(state, pos, data, bool(label))
        row = int(raw.rows[pos])
        if why is None:
            if label:
                out.add(
                    Reason.TOTAL_LIKE_ROW_KEPT,
                    row=row,
                    value=label,
                    severity="warning",
                    params={"label": label},
                )
            data[pos] = state.keep[pos]
            continue
        mask = np.zeros(state.n, dtype=bool)
        mask[pos] = True
        state.drop(mask, "total_row")
        out.add(
            Reason.TOTAL_ROW_DROPPED,
            row=row,
            value=label or None,
            severity="warning",
            params={"label": label, "variant": why},
        )


def handle_hidden_rows(state: State) -> None:
    """Hidden or filtered-out Excel rows: reported, and left out when the profile says so."""
    hidden = set(state.raw.hidden_rows)
    if not hidden:
        return
    mask = np.isin(state.raw.rows, list(hidden)) & state.keep
    rows = [int(r) for r in state.raw.rows[mask]]
    if not rows:
        return
    shown = ", ".join(map(str, rows[:20])) + (", …" if len(rows) > 20 else "")
    if state.mapping.read.get("skip_hidden"):
        state.drop(mask, "hidden_row")
        state.out.add(
            Reason.HIDDEN_ROWS_SKIPPED,
            row=rows[0],
            severity="warning",
            params={"count": len(rows), "rows": shown},
        )
    else:
        state.out.add(
            Reason.HIDDEN_ROWS_IMPORTED,
            row=rows[0],
            severity="warning",
            params={"count": len(rows), "rows": shown},
        )


def _filter_column_missing(state: State, header: str) -> None:
    headers = ", ".join(state.raw.headers[:30])
    state.out.add(
        Reason.MISSING_COLUMN,
        column=header,
        params={"variant": "filter", "header": header, "headers": headers},
    )


def apply_row_filters(state: State) -> None:
    """The profile's row filters: keep rows where a column has given values, skip rows where
    a column is empty."""
    filters = state.mapping.filters or {}
    headers, frame, nulls = state.raw.headers, state.raw.frame, state.opts["nulls"]
    for header, values in (filters.get("keep") or {}).items():
        found = resolve_header(headers, header)
        if found is None:
            _filter_column_missing(state, header)
            continue
        wanted = {
            str(v).strip().casefold() for v in (values if isinstance(values, list) else [values])
        }
        text = as_text(frame[found], nulls).str.casefold()
        out_mask = ~text.isin(wanted).fillna(False).to_numpy(dtype=bool)
        state.drop(out_mask, f"filter: {found} not in {sorted(wanted)}")
    for header in filters.get("skip_empty") or []:
        found = resolve_header(headers, header)
        if found is None:
            _filter_column_missing(state, header)
            continue
        empty = as_text(frame[found], nulls).isna().to_numpy(dtype=bool)
        state.drop(empty, f"filter: {found} empty")


# Headers of a CRM pipeline's stage: only won deals are orders (a lost deal with value 0 as an
# order would count the account as active).
_STAGE_HEADERS = {"dealstage", "stage", "opportunitystage", "salesstage", "phase", "dealstatus"}


def check_pipeline_stage(state: State) -> None:
    """An orders file with a deal-stage column and no filter on it is refused."""
    if state.table.name != "orders":
        return
    filtered = {normalize_header(h) for h in (state.mapping.filters.get("keep") or {})}
    for header in state.raw.headers:
        norm = normalize_header(header)
        if norm not in _STAGE_HEADERS or norm in filtered:
            continue
        text = as_text(state.raw.frame[header], state.opts["nulls"])[state.keep]
        values = text.dropna().unique().tolist()
        if len(values) < 2:
            continue
        shown = ", ".join(sorted(map(str, values))[:10])
        state.out.add(
            Reason.PIPELINE_STAGE_UNFILTERED,
            row=state.raw.header_row,
            column=header,
            params={"header": header, "values": shown},
        )


def warn_no_data(state: State) -> None:
    """A file with a header and no data rows imports nothing: say so."""
    if state.n == 0 or not state.keep.any():
        state.out.add(
            Reason.NO_DATA_ROWS,
            row=state.raw.header_row,
            severity="warning",
        )
