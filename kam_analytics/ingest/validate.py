"""Turning the rows of a file into canonical rows, collecting every problem at once.

Blocking errors (nothing is written): missing required column, unparseable key/date/amount,
a key twice with different values, unknown category values after mapping. Warnings (the import
goes ahead): orphan accounts, negative freight, future dates, identical duplicate rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam_analytics import schema
from kam_analytics.errors import ConfigError, Problem
from kam_analytics.ingest import parse
from kam_analytics.ingest.mapping import (
    DERIVED_KEYS,
    SYNONYMS,
    Mapping,
    compile_expression,
    evaluate_expression,
    map_categories,
    map_service_codes,
    normalize_header,
)
from kam_analytics.ingest.read import RawSheet

# Freight must not be negative; other money columns may be (credit notes).
NEGATIVE_WARNED = ("freight_cost", "freight_charged")


@dataclass
class Prepared:
    """A file's rows mapped, parsed and checked: what load() writes, and every problem found."""

    raw: RawSheet
    mapping: Mapping
    frame: pd.DataFrame  # provided canonical columns + source_row
    columns: list[str]  # canonical columns the file provides (written on insert and update)
    problems: list[Problem] = field(default_factory=list)
    rows_rejected: int = 0

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


def resolve_header(headers: list[str], wanted: str) -> str | None:
    """The file header matching `wanted` exactly, else ignoring case, spaces and punctuation."""
    if wanted in headers:
        return wanted
    norm = normalize_header(wanted)
    for h in headers:
        if normalize_header(h) == norm:
            return h
    return None


def _fmt_value(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | dt.datetime):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _Collector:
    """Problems of one file, with its location data at hand."""

    def __init__(self, raw: RawSheet):
        self.raw = raw
        self.items: list[Problem] = []

    def add(
        self,
        reason,
        message,
        hint,
        *,
        row=None,
        column=None,
        value=None,
        severity="error",
        params=None,
    ):
        self.items.append(
            Problem(
                self.raw.file_name,
                self.raw.sheet,
                row,
                column,
                _fmt_value(value),
                reason,
                message,
                hint,
                severity,
                dict(params or {}),
            )
        )

    def rows(
        self,
        mask,
        source: pd.Series | None,
        reason,
        message,
        hint,
        column,
        severity="error",
        params=None,
    ):
        """One problem per row where mask is true (only the failing rows are visited)."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions:
            value = source.iloc[pos] if source is not None else None
            text = _fmt_value(value)
            self.add(
                reason,
                message.format(value=text, column=column),
                hint,
                row=int(self.raw.rows[pos]),
                column=column,
                value=value,
                severity=severity,
                params={**(params or {}), "value": text, "column": column},
            )


_KIND_REASON = {
    "date": (
        "unparseable_date",
        "Not a date",
        "Write dates as 31.12.2025 or 2025-12-31 (or Excel dates), or set date_format "
        "in the profile's [read] section.",
    ),
    "money": (
        "unparseable_amount",
        "Not an amount",
        "Write amounts like 1.234,56 or 1234.56 (a minus sign, trailing minus or "
        "parentheses for negatives); no text in the cell.",
    ),
    "number": (
        "unparseable_number",
        "Not a number",
        "Write numbers like 12,5 or 12.5; no text in the cell.",
    ),
    "int": (
        "unparseable_number",
        "Not a whole number",
        "Write whole numbers like 2025; no text in the cell.",
    ),
    "bool": (
        "unparseable_flag",
        "Not yes/no",
        "Use ja/nein, yes/no, true/false, 1/0 or x for yes.",
    ),
}


def _parse_column(kind, source, opts, hint_decimal):
    """Parsed values and the mask of present-but-unparseable cells, by column kind."""
    nulls = opts["nulls"]
    if kind == "id":
        return parse.parse_ids(source, nulls), None
    if kind in ("text", "category"):
        return parse.parse_text(source, nulls), None
    if kind == "date":
        return parse.parse_dates(source, opts.get("date_format"), nulls)
    if kind == "money":
        values, bad = parse.parse_amounts(source, opts.get("decimal"), nulls, hint_decimal)
        return values.round(2), bad
    if kind == "number":
        return parse.parse_numbers(source, opts.get("decimal"), nulls, hint_decimal)
    if kind == "int":
        return parse.parse_ints(source, opts.get("decimal"), nulls, hint_decimal)
    if kind == "bool":
        return parse.parse_bools(source, nulls)
    raise ValueError(kind)


def read_options(mapping: Mapping) -> dict:
    """Null tokens, decimal separator and date format from the profile's [read] section."""
    extra = mapping.read.get("null_values") or []
    if isinstance(extra, str):
        extra = [extra]
    return {
        "nulls": tuple(parse.DEFAULT_NULLS) + tuple(str(x) for x in extra),
        "decimal": mapping.read.get("decimal"),
        "date_format": mapping.read.get("date_format"),
    }


def prepare(
    raw: RawSheet,
    mapping: Mapping,
    *,
    known_accounts: set[str] | None = None,
    today: dt.date | None = None,
) -> Prepared:
    """Map, parse and validate every row; never raises for data problems, collects them."""
    today = today or dt.date.today()
    table = schema.IMPORTABLE_TABLES[mapping.table]
    out = _Collector(raw)
    out.items.extend(raw.notices)
    headers = raw.headers
    frame = raw.frame
    n = len(frame)
    index = pd.RangeIndex(n)
    opts = read_options(mapping)
    result = pd.DataFrame(index=index)
    sources: dict[str, pd.Series | None] = {}
    where: dict[str, str] = {}  # canonical column -> header shown in problems

    # 1. Which canonical columns can be filled, and from where.
    plan: dict[str, tuple[str, object]] = {}
    for col, header in mapping.columns.items():
        found = resolve_header(headers, header)
        if found is None:
            out.add(
                "missing_column",
                f"Column '{header}' (mapped to {col}) is not in the file",
                f"Check the header row of the file, or map {col} to another column. "
                f"Columns in the file: {', '.join(headers[:30])}.",
                column=header,
                params={
                    "variant": "mapped",
                    "header": header,
                    "column": col,
                    "headers": ", ".join(headers[:30]),
                },
            )
        else:
            plan[col] = ("column", found)
    for col, value in mapping.defaults.items():
        plan.setdefault(col, ("constant", value))
    for col, expr in mapping.computed.items():
        if col in mapping.columns and col in plan:
            continue
        try:
            _tree, names = compile_expression(expr)
        except ConfigError as exc:
            out.add(
                "invalid_formula",
                exc.message,
                exc.hint,
                column=col,
                value=expr,
                params={"variant": exc.code, "formula": repr(expr)},
            )
            continue
        missing = [h for h in names.values() if resolve_header(headers, h) is None]
        if missing:
            out.add(
                "missing_column",
                f"Column '{missing[0]}' (used to compute {col}) is not in the file",
                f"Check the formula {expr!r} against the headers of the file.",
                column=missing[0],
                params={
                    "variant": "computed",
                    "header": missing[0],
                    "column": col,
                    "formula": repr(expr),
                },
            )
            continue
        plan[col] = ("computed", expr)
    if table.name == "feedback" and "kind" not in plan and "score" in plan:
        # Survey-tool exports (NPS, CSAT) have a score and no kind: they are surveys.
        plan["kind"] = ("constant", "survey")
        out.add(
            "default_kind",
            "The file has no kind column: every row is imported as a survey",
            "Map a column to kind (survey / praise / complaint) if the export mixes them.",
            column="kind",
            severity="warning",
        )
    for col in table.columns:
        if (
            col.required
            and col.name not in plan
            and DERIVED_KEYS.get(table.name) != col.name
            and not any(
                p.reason == "missing_column" and f"(mapped to {col.name})" in p.message
                for p in out.items
            )
        ):
            examples = ", ".join(SYNONYMS.get(col.name, ())[:3])
            out.add(
                "missing_column",
                f"Required column {col.name} is missing",
                f"Map a column of the file to {col.name} (headers such as {examples} are "
                f"recognised), or give a constant in the profile's [defaults] section.",
                column=col.name,
                params={"variant": "required", "column": col.name, "examples": examples},
            )

    if table.name == "accounts" and "tier" not in plan:
        out.add(
            "missing_tier",
            "The file has no tier column: accounts are imported without a tier",
            "Accounts without a tier are not key accounts and are not checked against the "
            "entitlement matrix. Map the column holding KEY/A/B/C (Kundenstufe, Kundengruppe, "
            "Segment) or set tier in the profile's [defaults] section.",
            column="tier",
            severity="warning",
        )

    # 2. Parse every planned column, vectorised; report only the failing cells.
    for name in [c.name for c in table.columns if c.name in plan]:
        col = table.column(name)
        how, what = plan[name]
        if how == "column":
            source = frame[what]
            where[name] = what
        elif how == "constant":
            source = pd.Series([what] * n, index=index, dtype=object)
            where[name] = name
            if isinstance(what, bool | int | float) and col.kind not in ("text", "id", "category"):
                source = pd.Series(np.full(n, float(what)), index=index)
            elif isinstance(what, str | int | float):
                source = pd.Series(np.full(n, str(what), dtype=object), index=index).astype("str")
        else:
            where[name] = name
            inputs = {}
            _tree, names = compile_expression(what)
            for header in set(names.values()):
                found = resolve_header(headers, header)
                vals, bad = parse.parse_amounts(
                    frame[found], opts["decimal"], opts["nulls"], raw.decimal_hint
                )
                out.rows(
                    bad,
                    frame[found],
                    "unparseable_number",
                    f"Not a number (used to compute {name})",
                    "Correct the cell; formulas read numbers only.",
                    found,
                    params={"variant": "computed", "name": name},
                )
                inputs[header] = vals
            source = evaluate_expression(what, inputs, index)
        sources[name] = source
        values, bad = _parse_column(col.kind, source, opts, raw.decimal_hint)
        if bad is not None and bad.any():
            reason, message, hint = _KIND_REASON[col.kind]
            variant = {"int": "int"}.get(col.kind)
            out.rows(
                bad,
                source,
                reason,
                message,
                hint,
                where[name],
                params={"variant": variant} if variant else None,
            )
        if col.kind == "category":
            text = values
            mapped = map_categories(text, name, mapping.values.get(name))
            unknown = text.notna() & mapped.isna()
            if unknown.any():
                choices = ", ".join(col.choices or ())
                out.rows(
                    unknown,
                    text,
                    "unknown_value",
                    f"Unknown {name}",
                    f"Allowed values: {choices}. Map this value in the mapping (profile "
                    f"section [values.{name}]).",
                    where[name],
                    params={"name": name, "choices": choices},
                )
            values = mapped
        elif name == "service_code":
            # Exports name services in words ("Schulung beim Kunden"); codes are what the
            # catalogue and the matrix know.
            values = map_service_codes(values, mapping.values.get(name))
        result[name] = values

    # 3. Keys and required values.
    if "line_no" in table.column_names and "line_no" not in result and "order_id" in result:
        # No position column: number the lines of each order in file order.
        result["line_no"] = (result.groupby("order_id", dropna=False).cumcount() + 1).astype("str")
    derived = DERIVED_KEYS.get(table.name)
    if derived and derived not in result and n:
        hashes = pd.util.hash_pandas_object(result.astype("str"), index=False)
        result[derived] = ["H" + format(int(h), "016x") for h in hashes.to_numpy()]
        out.add(
            "derived_key",
            f"The file has no {derived} column: ids were derived from each row's content",
            f"Nothing to do: re-importing the same rows creates no duplicates. Map a column to "
            f"{derived} if the export has an id of its own.",
            column=derived,
            severity="warning",
            params={"derived": derived},
        )
    for name in table.key:
        if name in result:
            missing = result[name].isna() & ~_already_reported(out, raw, where.get(name))
            out.rows(
                missing,
                None,
                "missing_key",
                f"The key column {name} is empty",
                f"Every row needs a {name}; fill it in or delete the row.",
                where.get(name, name),
                params={"name": name},
            )
    for col in table.columns:
        if col.required and col.name in result and col.name not in table.key:
            missing = result[col.name].isna().to_numpy().copy()
            missing &= ~_already_reported(out, raw, where.get(col.name))
            out.rows(
                missing,
                None,
                "missing_value",
                f"Required value {col.name} is empty",
                f"Fill in {col.name} in this row, or delete the row.",
                where.get(col.name),
                params={"name": col.name},
            )

    # 4. Duplicates by key: identical rows are kept once, differing rows block.
    provided = list(result.columns)
    rejected = 0
    key = [k for k in table.key if k in result]
    keep = np.ones(n, dtype=bool)
    if len(key) == len(table.key) and n:
        valid_key = result[key].notna().all(axis=1)
        dup = result.duplicated(subset=key, keep=False) & valid_key
        if dup.any():
            sub = result[dup]
            identical = sub.duplicated(subset=provided, keep="first")
            first_row = {}
            for pos in np.flatnonzero(dup.to_numpy()):
                k = tuple(result.iloc[pos][key])
                first_row.setdefault(k, int(raw.rows[pos]))
            for pos in np.flatnonzero(dup.to_numpy())[identical.to_numpy()]:
                k = tuple(result.iloc[pos][key])
                out.add(
                    "duplicate_row",
                    f"Identical duplicate of row {first_row[k]}; imported once",
                    "Nothing to do; remove the repeated row from the export to silence this.",
                    row=int(raw.rows[pos]),
                    column=where.get(key[0]),
                    value="/".join(k),
                    severity="warning",
                    params={"first_row": first_row[k]},
                )
                keep[pos] = False
                rejected += 1
            rest = result[dup & pd.Series(keep, index=index)]
            conflict = rest.duplicated(subset=key, keep="first")
            for pos in rest.index[conflict.to_numpy()]:
                k = tuple(result.iloc[pos][key])
                out.add(
                    "conflicting_duplicate_key",
                    f"Key {'/'.join(k)} appears more than once with different values "
                    f"(first in row {first_row[k]})",
                    "Keep one row per key, or correct the key of one of the rows.",
                    row=int(raw.rows[pos]),
                    column=where.get(key[0]),
                    value="/".join(k),
                    params={"key": "/".join(k), "first_row": first_row[k]},
                )

    # 5. Warnings.
    for name in NEGATIVE_WARNED:
        if name in result:
            neg = (result[name] < 0).fillna(False).to_numpy() & keep
            out.rows(
                neg,
                result[name],
                "negative_freight",
                f"Negative {name}",
                "Check the sign; the row is imported as it is.",
                where[name],
                severity="warning",
                params={"name": name},
            )
    future = pd.Timestamp(today)
    for col in table.columns:
        if col.kind == "date" and col.name in result and col.name != "customer_since":
            fut = (result[col.name] > future).fillna(False).to_numpy() & keep
            out.rows(
                fut,
                result[col.name],
                "future_date",
                f"{col.name} lies in the future",
                "Check the date; the row is imported as it is.",
                where[col.name],
                severity="warning",
                params={"name": col.name},
            )
    result["source_row"] = raw.rows.astype("int64")
    if not keep.all():
        result = result[keep].reset_index(drop=True)
    prepared = Prepared(
        raw=raw,
        mapping=mapping,
        frame=result,
        columns=provided,
        problems=out.items,
        rows_rejected=rejected,
    )
    if known_accounts is not None:
        add_orphan_warnings(prepared, known_accounts)
    return prepared


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
    # One warning per unknown account (first row and count), not one per row.
    groups = frame.loc[orphan, ["account_id", "source_row"]].groupby("account_id", sort=False)
    summary = groups["source_row"].agg(["min", "count"])
    for account, (first, count) in summary.iterrows():
        more = f" ({count} rows, first in row {first})" if count > 1 else ""
        prepared.problems.append(
            Problem(
                prepared.raw.file_name,
                prepared.raw.sheet,
                int(first),
                header,
                str(account),
                "orphan_account",
                f"Account is not in the accounts table{more}",
                "Import the accounts export too; until then the rows are kept and a placeholder "
                "account (name = id, no tier) stands in for it.",
                "warning",
                {"variant": "many", "count": int(count), "first": int(first)} if count > 1 else {},
            )
        )


REPORT_COLUMNS = (
    "severity",
    "file",
    "sheet",
    "row",
    "column",
    "value",
    "reason",
    "message",
    "hint",
)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The validation report as a table (errors first, then by file and row)."""
    df = pd.DataFrame([p.as_dict() for p in problems], columns=list(REPORT_COLUMNS))
    if df.empty:
        return df
    df["_order"] = (df["severity"] != "error").astype(int)
    df = df.sort_values(["_order", "file", "row"], kind="stable", na_position="first")
    df["row"] = df["row"].astype("Int64")
    return df.drop(columns="_order").reset_index(drop=True)


def problems_csv(problems: list[Problem]) -> bytes:
    """The validation report as CSV (UTF-8 with BOM and semicolons, so German Excel opens it)."""
    return problems_frame(problems).to_csv(index=False, sep=";").encode("utf-8-sig")


def _already_reported(out: _Collector, raw: RawSheet, column) -> np.ndarray:
    """Rows already reported as unparseable in this column (not again as 'empty')."""
    mask = np.zeros(len(raw.rows), dtype=bool)
    if column is None:
        return mask
    rows = {p.row for p in out.items if p.column == column and p.row is not None}
    if rows:
        mask = np.isin(raw.rows, list(rows))
    return mask
