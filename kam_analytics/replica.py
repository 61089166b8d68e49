"""The app's read-only copy of its database, for command-line readers while the app runs.

The app rewrites `<db stem>.readonly.duckdb` (one consistent state, renamed into place) after
every write; `info`, `report`, `imports list`, `users list` and `deck` open it read-only while
the app holds the database itself, and say as of which import and time they answer.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kam_analytics import backup, db
from kam_analytics.errors import DatabaseLockedError

SUFFIX = ".readonly.duckdb"


def replica_path(db_path) -> Path:
    """Where the app keeps the read-only copy of this database."""
    path = db.resolve_db_path(db_path).resolve()
    return path.with_name(path.stem + SUFFIX)


def is_replica(path) -> bool:
    """True for the file name of a read-only copy (always opened read-only)."""
    return str(path).endswith(SUFFIX)


def refresh_replica(con, db_path) -> dict:
    """Rewrite the read-only copy from the app's connection; returns its copy.* facts."""
    return backup.copy_database(con, replica_path(db_path))


def read_replica_meta(db_path) -> dict:
    """When the copy was made and up to which import it reaches ({} if there is none)."""
    import duckdb

    path = replica_path(db_path)
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        return backup.read_copy_meta(con)
    finally:
        con.close()


def run_from_copy(args) -> int:
    """Run a read command against the app's read-only copy, saying as of when it answers."""
    path = replica_path(args.db)
    meta = read_replica_meta(args.db)
    if not meta:
        raise DatabaseLockedError(
            f"The app holds {db.resolve_db_path(args.db)} and has not written its read-only "
            "copy yet",
            "Wait a few seconds and run the command again.",
        )
    last = meta.get("last_import_id")
    print(
        f"note: the app holds the database; answering from its read-only copy as of "
        f"{meta.get('made_at')} (last import {last if last not in (None, 'None') else '-'})",
        file=sys.stderr,
    )
    args.db = str(path)
    return int(args.func(args) or 0)
