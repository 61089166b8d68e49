"""Import findings of one file: collecting them with their location, and the report tables."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd

from kam_analytics.errors import Problem, Reason


def fmt_value(v) -> str | None:
    """A cell value as the report shows it (dates without midnight, 12.0 as 12)."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | dt.datetime):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class Collector:
    """Problems of one file, with its location data at hand."""

    def __init__(self, raw, table: str | None = None):
        self.raw = raw
        self.table = table  # the import's table: a finding's field {name} is one of its columns
        self.items: list[Problem] = []

    def add(
        self,
        reason: Reason,
        *,
        row=None,
        column=None,
        value=None,
        severity="error",
        params=None,
    ):
        """One problem: its reason and the values its texts name."""
        params = dict(params or {})
        if self.table and "name" in params:
            params.setdefault("table", self.table)
        self.items.append(
            Problem(
                self.raw.file_name,
                self.raw.sheet,
                row,
                column,
                fmt_value(value),
                reason,
                severity,
                params,
            )
        )

    def rows(
        self,
        mask,
        source: pd.Series | None,
        reason: Reason,
        column,
        severity="error",
        params=None,
    ):
        """One problem per row where mask is true (only the failing rows are visited); its
        texts may name the cell's {value} and {column}."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(positions):
            return
        # Values and row numbers taken in one step each, and each distinct value's texts
        # rendered once: a file with a wrong code in 250,000 rows took over a minute to refuse.
        values = source.iloc[positions].tolist() if source is not None else [None] * len(positions)
        rows = self.raw.rows[positions].tolist()
        texts: dict = {}
        base = dict(params or {})
        if self.table:
            base.setdefault("table", self.table)  # as add() does: names the field's table
        name, sheet = self.raw.file_name, self.raw.sheet
        for row, value in zip(rows, values, strict=True):
            text = fmt_value(value)
            template = texts.get(text)
            if template is None:
                template = texts[text] = Problem(
                    name,
                    sheet,
                    None,
                    column,
                    text,
                    reason,
                    severity,
                    {**base, "value": text, "column": column},
                )
            item = copy.copy(template)  # not replace(): that would render the texts again
            item.row = int(row)
            self.items.append(item)

    def drop_rows(self, rows: set[int]) -> None:
        """Forget the findings of rows that are not data (totals, filtered-out rows)."""
        if rows:
            self.items = [p for p in self.items if p.row is None or p.row not in rows]

    def reported(self, column) -> np.ndarray:
        """Rows already reported in this column (not again as 'empty')."""
        mask = np.zeros(len(self.raw.rows), dtype=bool)
        if column is None:
            return mask
        rows = {p.row for p in self.items if p.column == column and p.row is not None}
        if rows:
            mask = np.isin(self.raw.rows, list(rows))
        return mask


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


def problems_frame(
    problems: list[Problem], texts: list[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """The validation report as a table (errors first, then by file and row); `texts` are
    (message, hint) per problem in another language (default: the English ones)."""
    records = [p.as_dict() for p in problems]
    for record, (message, hint) in zip(records, texts or (), strict=False):
        record["message"], record["hint"] = message, hint
    df = pd.DataFrame(records, columns=list(REPORT_COLUMNS))
    if df.empty:
        return df
    df["_order"] = (df["severity"] != "error").astype(int)
    df = df.sort_values(["_order", "file", "row"], kind="stable", na_position="first")
    df["row"] = df["row"].astype("Int64")
    return df.drop(columns="_order").reset_index(drop=True)


def problems_csv(problems: list[Problem]) -> bytes:
    """The validation report as CSV (UTF-8 with BOM and semicolons, so German Excel opens it)."""
    return problems_frame(problems).to_csv(index=False, sep=";").encode("utf-8-sig")


def group_problems(problems: list[Problem]) -> list[tuple[Problem, list[int]]]:
    """One entry per distinct cause (file, reason, column, value, message) with its rows."""
    groups: dict[tuple, tuple[Problem, list[int]]] = {}
    for p in problems:
        key = (p.file, p.sheet, p.severity, p.reason, p.column, p.value, p.message)
        if key not in groups:
            groups[key] = (p, [])
        if p.row is not None:
            groups[key][1].append(p.row)
    return list(groups.values())


def describe_group(problem: Problem, rows: list[int], limit: int = 8) -> str:
    """A grouped cause as one line: location, message, value, the rows, how to fix."""
    where = problem.file + (f", sheet {problem.sheet!r}" if problem.sheet else "")
    column = f", column {problem.column!r}" if problem.column else ""
    val = f" (value {problem.value!r})" if problem.value not in (None, "") else ""
    if len(rows) == 1:
        # As Problem.__str__ writes it: file, row, column.
        where += f", row {rows[0]}{column}"
    elif rows:
        shown = ", ".join(map(str, rows[:limit])) + (", …" if len(rows) > limit else "")
        where += f"{column}, {len(rows)} rows: {shown}"
    else:
        where += column
    at = ""
    return f"{where}{at}: {problem.message}{val}. {problem.hint}"
