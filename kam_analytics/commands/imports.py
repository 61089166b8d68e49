"""`imports list` and `imports undo ID`: the import history and undoing an import."""

from __future__ import annotations

import getpass

from kam_analytics import db
from kam_analytics.commands.common import add_db_option, add_format_option, write_frame
from kam_analytics.ingest.load import (
    describe_undo_impact,
    list_imports,
    select_import,
    select_undo_impact,
    undo_import,
)


def register(sub) -> None:
    """Add the `imports` subcommand with `list` and `undo`."""
    p = sub.add_parser("imports", help="list imports or undo one")
    inner = p.add_subparsers(dest="imports_command", metavar="{list,undo}")
    lst = inner.add_parser("list", help="the import log, newest first")
    add_db_option(lst)
    add_format_option(lst)
    lst.set_defaults(func=run_list)
    undo = inner.add_parser("undo", help="restore the rows an import inserted or changed")
    undo.add_argument("import_id", type=int, metavar="ID")
    add_db_option(undo)
    undo.add_argument("--user", default=None, help="user name for the audit log")
    undo.set_defaults(func=run_undo)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_list(args) -> int:
    """Print the import log as CSV or JSON."""
    con = db.connect(args.db, must_exist=True)
    try:
        write_frame(list_imports(con), args.format)
    finally:
        con.close()
    return 0


def run_undo(args) -> int:
    """Undo one import."""
    con = db.connect(args.db, must_exist=True)
    try:
        log = select_import(con, args.import_id)
        warning = describe_undo_impact(
            select_undo_impact(con, args.import_id), log["table_name"] if log else ""
        )
        res = undo_import(con, args.import_id, args.user or getpass.getuser())
    finally:
        con.close()
    if warning:
        print(f"warning: {warning}")
    print(
        f"import {res['import_id']} undone: {res['deleted']} inserted row(s) deleted, "
        f"{res['restored']} changed row(s) restored in {res['table']}"
    )
    return 0
