"""`backup --out FILE` and `restore --from FILE`: consistent copies of the database file.

Both work with the app stopped; while the app holds the file, `backup` asks the app for the
copy (and waits for it). `restore` replaces every table's rows by the backup's after checking
its schema version (a newer or foreign file is refused, exit 2); it takes an automatic backup
of the current state first, so a restore can itself be rolled back.
"""

from __future__ import annotations

import getpass
import shutil
from pathlib import Path

from kam_analytics import backup, db
from kam_analytics.commands.common import add_db_option
from kam_analytics.errors import ConfigError, DatabaseLockedError, Reason


def register(sub) -> None:
    """Add the `backup` and `restore` subcommands."""
    p = sub.add_parser(
        "backup", help="write a consistent copy of the database (also while the app runs)"
    )
    add_db_option(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", metavar="FILE.duckdb", help="where to write the copy")
    what.add_argument("--list", action="store_true", help="list the automatic backups")
    p.set_defaults(func=run_backup)

    r = sub.add_parser("restore", help="replace the database's contents by a backup (app stopped)")
    add_db_option(r)
    r.add_argument("--from", dest="source", metavar="FILE.duckdb", required=True)
    r.add_argument("--user", default=None, help="user name for the audit log")
    r.set_defaults(func=run_restore)


def _describe(meta: dict) -> str:
    last = meta.get("last_import_id")
    return f"as of {meta.get('made_at')}, last import {last if last is not None else '-'}"


def run_backup(args) -> int:
    """Write the copy (directly, or by the running app) or list the automatic backups."""
    if args.list:
        for path in backup.list_backups(args.db):
            print(path)
        return 0
    out = Path(args.out)
    if not out.parent.exists():
        raise ConfigError(Reason.OUT_FOLDER_MISSING, folder=str(out.parent))
    if out.resolve() == db.resolve_db_path(args.db).resolve():
        raise ConfigError(Reason.OUT_IS_DATABASE)
    try:
        meta = backup.backup_file(args.db, out)
        how = ""
    except DatabaseLockedError:
        from kam_analytics import app_channel

        result = app_channel.ask_app(args.db, "backup", {})
        shutil.move(result["file"], out)
        shutil.rmtree(result["folder"], ignore_errors=True)
        meta = result.get("meta", {})
        how = " (written by the running app)"
    print(f"backup written to {out}{how}: {_describe(meta)}")
    return 0


def run_restore(args) -> int:
    """Check the backup, take a backup of the current state, then restore."""
    backup.check_backup(args.source)
    path = db.resolve_db_path(args.db)
    try:
        con = db.connect(path)
    except DatabaseLockedError as exc:
        raise DatabaseLockedError(Reason.RESTORE_DATABASE_IN_USE, path=str(path)) from exc
    try:
        before = backup.auto_backup(con, path, "before-restore")
        res = backup.restore_into(con, args.source, args.user or getpass.getuser())
    finally:
        con.close()
    if before:
        print(f"the state before the restore was saved to {before}")
    n = sum(res["rows"].values())
    print(f"restored {n:,} rows from {args.source} (backup made {res['made_at'] or 'unknown'})")
    return 0
