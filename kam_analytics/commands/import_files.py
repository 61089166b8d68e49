"""`import FILE...`: validate and load CRM/ERP exports (exit 0 ok, 2 blocking problems, 1 bug)."""

from __future__ import annotations

import getpass
import sys

from kam_analytics import backup, db, schema
from kam_analytics.commands.common import add_db_option
from kam_analytics.errors import ImportBlockedError
from kam_analytics.ingest.describe import mapping_lines
from kam_analytics.ingest.pipeline import execute_plans, plan_files
from kam_analytics.ingest.problems import describe_group, group_problems


def register(sub) -> None:
    """Add the `import` subcommand."""
    p = sub.add_parser(
        "import",
        help="import CRM/ERP exports (xlsx, xlsm, xls, xlsb, ods, csv, txt)",
        description="Validate and load exports. Without --profile a saved profile whose "
        "headers match is used, else canonical headers and known synonyms; a --profile "
        "names only what differs from that automatic mapping.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    add_db_option(p)
    p.add_argument("--profile", metavar="P.toml", help="mapping profile (TOML), may be partial")
    p.add_argument("--table", choices=sorted(schema.IMPORTABLE_TABLES), help="target table")
    p.add_argument("--sheet", metavar="S", help="sheet name or number (workbooks)")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    p.add_argument("--user", default=None, help="user name for the import log")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="while the app holds the database: hand the files to it and return at once",
    )
    p.set_defaults(func=run)


def _print_problems(problems, out) -> None:
    # One line per distinct cause with its rows, not one line per row.
    for problem, rows in group_problems(problems):
        tag = "error" if problem.severity == "error" else "warning"
        print(f"  {tag}: {describe_group(problem, rows)}", file=out)


def _print_mappings(plans, out) -> None:
    for plan in plans:
        if plan.mapping is None:
            continue
        where = plan.file_name + (f" [{plan.raw.sheet}]" if plan.raw and plan.raw.sheet else "")
        print(f"{where}:", file=out)
        for line in mapping_lines(plan.mapping, plan.prepared):
            print(f"  {line}", file=out)


def run(args) -> int:
    """Plan every file, print the mapping and the report; write unless blocked or --dry-run."""
    username = args.user or getpass.getuser()
    con = db.connect(args.db)
    try:
        plans = plan_files(
            con, args.files, table=args.table, sheet=args.sheet, profile=args.profile
        )
        blocked = [p for p in plans if p.blocked]
        if blocked:
            errors = sum(1 for p in plans for x in p.all_problems if x.severity == "error")
            print(
                f"error: {errors} blocking problem(s) found; nothing was imported", file=sys.stderr
            )
            _print_mappings(plans, sys.stderr)
            for plan in plans:
                print(f"{plan.file_name}:", file=sys.stderr)
                _print_problems(plan.all_problems, sys.stderr)
            return 2
        _print_mappings(plans, sys.stdout)
        if not args.dry_run and any(p.previous_import_id is None for p in plans):
            saved = backup.auto_backup(con, db.resolve_db_path(args.db), "before-import")
            if saved:
                print(f"note: the state before this import was saved to {saved}", file=sys.stderr)
        try:
            results = execute_plans(con, plans, username=username, dry_run=args.dry_run)
        except ImportBlockedError:
            raise
        for result in results:
            print(result.summary())
            if result.status != "noop":
                _print_problems([p for p in result.problems if p.severity != "error"], sys.stdout)
    finally:
        con.close()
    return 0
