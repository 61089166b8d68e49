"""Options and output shared by the subcommands."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pandas as pd

from kam_analytics.access import Scope


def add_db_option(parser) -> None:
    """--db PATH (default: $KAM_DB, else data/kam.duckdb)."""
    parser.add_argument(
        "--db", metavar="PATH", help="database file (default: $KAM_DB or data/kam.duckdb)"
    )


def add_format_option(parser, default: str = "csv", *, xlsx: bool = False) -> None:
    """--format csv|json (|xlsx, which needs --out FILE)."""
    choices = ("csv", "json", "xlsx") if xlsx else ("csv", "json")
    text = "csv/json: raw column names and codes, for programs"
    if xlsx:
        text += "; xlsx: the page's workbook for people (words, € and dates), needs --out"
    parser.add_argument("--format", choices=choices, default=default, help=text)


def parse_date(text: str) -> dt.date:
    """A date from the command line: ISO (2025-12-31) or German (31.12.2025)."""
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(f"not a date: {text!r} (use 2025-12-31 or 31.12.2025)")


def scope_for_args(con, args) -> Scope:
    """The scope of --as-user NAME, or everything when it is not given."""
    name = getattr(args, "as_user", None)
    if not name:
        return Scope.everything()
    from kam_analytics.users import scope_for_user  # the sign-in area owns user lookup

    return scope_for_user(con, name)


def _json_default(value):
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def write_frame(df: pd.DataFrame, fmt: str, out=None) -> None:
    """Print a DataFrame as CSV (comma, point decimals) or as a JSON array of records."""
    out = out or sys.stdout
    if fmt == "json":
        records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
        json.dump(records, out, default=_json_default, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        from kam_analytics.exports.cells import neutralise_frame

        # A spreadsheet opens this too: text cells that start like a formula are neutralised.
        neutralise_frame(df).to_csv(out, index=False, lineterminator="\n")
