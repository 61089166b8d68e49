"""`report KIND`: the numbers of a page as CSV or JSON, from the same functions the page uses."""

from __future__ import annotations

import importlib

from kam_analytics import db
from kam_analytics.commands.common import (
    add_db_option,
    add_format_option,
    parse_date,
    scope_for_args,
    write_frame,
)

# kind -> (module, function). Each function has the signature
#   fn(con, *, year: int | None, as_of: date | None, scope: Scope) -> pandas.DataFrame
# and returns exactly the documented columns, money rounded to cents.
REPORTS = {
    "services": ("kam_analytics.metrics.services", "report_services"),
    "giveaways": ("kam_analytics.metrics.giveaways", "report_giveaways"),
    "retention": ("kam_analytics.metrics.retention", "report_retention"),
    "bonus": ("kam_analytics.metrics.bonus", "report_bonus"),
}


def register(sub) -> None:
    """Add the `report` subcommand."""
    p = sub.add_parser("report", help="print a report (services, giveaways, retention, bonus)")
    p.add_argument("kind", choices=sorted(REPORTS))
    add_db_option(p)
    p.add_argument("--year", type=int, help="calendar year (default: all years / current year)")
    p.add_argument("--as-of", type=parse_date, help="as-of date, e.g. 2025-06-30")
    add_format_option(p)
    p.add_argument("--as-user", metavar="NAME", help="show exactly what this user would see")
    p.set_defaults(func=run)


def run(args) -> int:
    """Compute the report and print it."""
    module_name, func_name = REPORTS[args.kind]
    func = getattr(importlib.import_module(module_name), func_name)
    con = db.connect(args.db, must_exist=True)
    try:
        scope = scope_for_args(con, args)
        df = func(con, year=args.year, as_of=args.as_of, scope=scope)
    finally:
        con.close()
    write_frame(df, args.format)
    return 0
