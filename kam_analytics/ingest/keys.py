"""Validation phase 5: keys. Account ids normalised (SAP ALPHA), line numbers and event ids
derived where the export has none, empty keys and required values, duplicate keys."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from kam_analytics.errors import Reason
from kam_analytics.ingest.mapping import DERIVED_KEYS
from kam_analytics.ingest.state import State

# The ids that refer to accounts: normalised alike in every table so that they match.
ACCOUNT_ID_COLUMNS = ("account_id", "parent_id")
# A derived event id is built from the row's identity, not its content, so that a corrected
# row (another amount) updates the event instead of adding a second one.
IDENTITY = {
    "service_events": ("account_id", "date", "service_code"),
    "feedback": ("account_id", "date", "kind"),
    # Revenue lists without an order number (customer, date, amount): one order per row.
    "orders": ("account_id", "order_date"),
}


def _normalised_columns(state: State) -> list[str]:
    option = state.mapping.read.get("strip_leading_zeros", True)
    if option is False:
        return []
    wanted = ACCOUNT_ID_COLUMNS if option is True else tuple(option)
    return [c for c in wanted if c in state.result]


def normalise_ids(state: State) -> None:
    """Numeric account ids without leading zeros (SAP ALPHA: 0000010001 -> 10001), in every
    table alike; a notice says how many changed and whether they matched only so."""
    result = state.result
    for name in _normalised_columns(state):
        ids = result[name]
        padded = ids.str.fullmatch(r"0+\d+").fillna(False).to_numpy(dtype=bool)
        if not padded.any():
            continue
        stripped = ids.str.replace(r"^0+(?=\d)", "", regex=True)
        result[name] = stripped
        example = f"{ids[padded].iloc[0]} -> {stripped[padded].iloc[0]}"
        params = {"count": int(padded.sum()), "name": name, "example": example}
        known = state.known_accounts
        if known:
            only = padded & stripped.isin(known).to_numpy() & ~ids.isin(known).to_numpy()
            if only.any():
                params |= {"variant": "matched", "matched": int(only.sum())}
        state.out.add(
            Reason.IDS_NORMALISED,
            column=state.where.get(name),
            severity="warning",
            params=params,
        )


def number_order_lines(state: State) -> None:
    """Orders without a line column: lines numbered per order in file order. Identical lines
    of one order are reported; [read] identical_lines = "keep_one" imports them once."""
    result = state.result
    if state.table.name != "orders" or "line_no" in result or "order_id" not in result:
        return
    # Identical means identical in every column of the file, not only the mapped ones: two
    # lines of one order for different products are different lines.
    cells = state.raw.frame.fillna("")
    keep = pd.Series(state.keep, index=result.index)
    rows = cells[keep.to_numpy()]
    twins = rows.duplicated(keep=False)
    choice = state.mapping.read.get("identical_lines", "keep_both")
    if twins.any():
        groups = rows[twins].groupby(list(rows.columns), dropna=False, sort=False).groups
        for _key, idx in groups.items():
            excel = [int(state.raw.rows[i]) for i in idx]
            shown = ", ".join(map(str, excel))
            if choice == "keep_one":
                drop = np.zeros(state.n, dtype=bool)
                drop[list(idx)[1:]] = True
                state.keep &= ~drop
                state.rejected += int(drop.sum())
            order = result["order_id"].iloc[idx[0]] if state.from_file("order_id") else "-"
            state.out.add(
                Reason.IDENTICAL_LINES,
                row=excel[0],
                column=state.where.get("order_id"),
                value=order,
                severity="warning",
                params={
                    "rows": shown,
                    "order": order,
                    "variant": "keep_one" if choice == "keep_one" else "keep_both",
                },
            )
    keep = pd.Series(state.keep, index=result.index)
    numbers = result[keep].groupby("order_id", dropna=False).cumcount() + 1
    result["line_no"] = numbers.reindex(result.index).astype("Int64").astype("str")


def _digest(parts: pd.Series) -> str:
    return "H" + hashlib.sha1(parts.encode("utf-8")).hexdigest()[:16]


def derive_event_ids(state: State) -> None:
    """Events without an id get one from (account, date, service, occurrence of that triple in
    the file): re-importing the same export, or a corrected one, updates instead of adding."""
    table, result = state.table, state.result
    derived = DERIVED_KEYS.get(table.name)
    if not derived or derived in result or not state.n:
        return
    identity = [c for c in IDENTITY[table.name] if c in result]
    text = result[identity].astype("str").fillna("")
    joined = (
        text.apply(lambda r: "\x1f".join(r), axis=1)
        if identity
        else pd.Series("", index=result.index)
    )
    occurrence = joined.groupby(joined).cumcount() + 1
    parts = joined + "\x1f" + occurrence.astype("str")
    result[derived] = parts.map(_digest).astype("str")
    state.out.add(
        Reason.DERIVED_KEY,
        column=derived,
        severity="warning",
        params={"derived": derived, "identity": ", ".join(identity)},
    )


def check_required(state: State) -> None:
    """Empty keys and empty required values of the data rows."""
    table, result, out, raw = state.table, state.result, state.out, state.raw
    for name in table.key:
        if name in result:
            missing = result[name].isna().to_numpy() & ~out.reported(state.where.get(name))
            out.rows(
                missing & state.keep,
                None,
                Reason.MISSING_KEY,
                state.where.get(name, name),
                params={"name": name},
            )
    for col in table.columns:
        if col.required and col.name in result and col.name not in table.key:
            missing = result[col.name].isna().to_numpy().copy()
            missing &= ~out.reported(state.where.get(col.name))
            out.rows(
                missing & state.keep,
                None,
                Reason.MISSING_VALUE,
                state.where.get(col.name),
                params={"name": col.name},
            )
    del raw


def check_duplicates(state: State) -> None:
    """Rows with the same key: identical ones are imported once, differing ones block and the
    message names the columns whose values differ."""
    table, result, out, raw = state.table, state.result, state.out, state.raw
    written = [c for c in result.columns if c in table.column_names]
    key = [k for k in table.key if k in result]
    if len(key) != len(table.key) or not state.n:
        return
    valid = result[key].notna().all(axis=1).to_numpy() & state.keep
    rows = result[valid]
    dup = rows.duplicated(subset=key, keep=False)
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    for pos in rows.index[dup.to_numpy()]:
        first.setdefault(tuple(result.loc[pos, key]), pos)
    for pos in rows.index[dup.to_numpy()]:
        k = tuple(result.loc[pos, key])
        p0 = first[k]
        if p0 == pos:
            continue
        a, b = result.loc[p0, written], result.loc[pos, written]
        differ = [c for c in written if not (pd.isna(a[c]) and pd.isna(b[c])) and a[c] != b[c]]
        label = "/".join(map(str, k))
        if not differ:
            out.add(
                Reason.DUPLICATE_ROW,
                row=int(raw.rows[pos]),
                column=state.where.get(key[0]),
                value=label,
                severity="warning",
                params={"first_row": int(raw.rows[p0])},
            )
            state.keep[pos] = False
            state.rejected += 1
            continue
        names = ", ".join(state.where.get(c, c) for c in differ)
        out.add(
            Reason.CONFLICTING_DUPLICATE_KEY,
            row=int(raw.rows[pos]),
            column=state.where.get(differ[0], differ[0]),
            value=label,
            params={"key": label, "first_row": int(raw.rows[p0]), "columns": names},
        )
