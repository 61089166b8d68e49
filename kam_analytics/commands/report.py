"""`report KIND`: the numbers of a page as CSV or JSON, from the same functions the page uses."""

from __future__ import annotations

from pathlib import Path

from kam_analytics import db
from kam_analytics.commands.common import (
    add_db_option,
    add_format_option,
    parse_date,
    scope_for_args,
    write_frame,
)
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.i18n import LANGUAGES
from kam_analytics.reports import REPORTS, load_report


def register(sub) -> None:
    """Add the `report` subcommand."""
    p = sub.add_parser("report", help="print a report (" + ", ".join(REPORTS) + ")")
    p.add_argument("kind", choices=sorted(REPORTS))
    add_db_option(p)
    p.add_argument("--year", type=int, help="calendar year (default: all years / current year)")
    p.add_argument("--as-of", type=parse_date, help="as-of date, e.g. 2025-06-30")
    add_format_option(p, xlsx=True)
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write the workbook here (with --format xlsx)",
    )
    p.add_argument(
        "--lang", choices=LANGUAGES, default="de", help="language of the xlsx (default: de)"
    )
    p.add_argument("--as-user", metavar="NAME", help="show exactly what this user would see")
    p.add_argument(
        "--since",
        metavar="IMPORT_ID|DATE",
        help="changes: compare from before this import (or the state on this date) to now",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Compute the report and print it (or, as xlsx, write the page's workbook to --out)."""
    from kam_analytics.exports.report_book import report_xlsx

    out = Path(args.out) if getattr(args, "out", None) else None
    if args.format == "xlsx":
        if out is None or out.suffix.lower() != ".xlsx":
            raise ConfigError(
                Reason.OUT_SUFFIX,
                suffix=".xlsx",
                name=out.name if out else "",
                example=f"{args.kind}.xlsx",
            )
        if not out.parent.exists():
            raise ConfigError(Reason.OUT_FOLDER_MISSING, folder=str(out.parent))
    con = db.connect(args.db, must_exist=True)
    try:
        scope = scope_for_args(con, args)
        period = {"year": args.year, "as_of": args.as_of, "scope": scope, "since": args.since}
        if args.format == "xlsx":  # for people: the very workbook the page offers
            data = report_xlsx(con, args.kind, lang=args.lang, **period)
        else:  # for programs: raw column names and codes, unchanged
            df = load_report(con, args.kind, **period)
    finally:
        con.close()
    if args.format == "xlsx":
        out.write_bytes(data)
        return 0
    write_frame(df, args.format)
    return 0
