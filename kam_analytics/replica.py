"""The app's read-only copy of its database, for command-line readers while the app runs.

The app rewrites `<db stem>.readonly.duckdb` (one consistent state, renamed into place) after
every write; `info`, `report`, `imports list`, `users list` and `deck` open it read-only while
the app holds the database itself, and say as of which import and time they answer.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from kam_analytics import backup, db, schema
from kam_analytics.errors import DatabaseLockedError, Reason

SUFFIX = ".readonly.duckdb"


def replica_path(db_path) -> Path:
    """Where the app keeps the read-only copy of this database."""
    path = db.resolve_db_path(db_path).resolve()
    return path.with_name(path.stem + SUFFIX)


def is_replica(path) -> bool:
    """True for the file name of a read-only copy (always opened read-only)."""
    return str(path).endswith(SUFFIX)


def select_table_signatures(con, catalog: str | None = None) -> dict[str, str]:
    """Row count and sum of row hashes per declared table (changes with any row's content)."""
    prefix = f'"{catalog}".' if catalog else ""
    parts = " UNION ALL ".join(
        f"SELECT '{name}', count(*), coalesce(sum(hash(x)::HUGEINT), 0) FROM {prefix}\"{name}\" x"
        for name in schema.ALL_TABLES
        if name != "schema_meta"
    )
    return {name: f"{n}:{h}" for name, n, h in con.execute(parts).fetchall()}


def select_columns_fingerprint(con, catalog: str) -> str:
    """Every table's columns in order (a migration changes it: then a full copy is due)."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = 'main' ORDER BY table_name, ordinal_position",
        [catalog],
    ).fetchall()
    return json.dumps(rows)


def refresh_replica(con, db_path) -> dict:
    """Bring the read-only copy up to date: only the changed tables, else a full copy.

    A full copy is made when there is no previous copy, the columns differ (a migration) or
    the file has grown to 1.5 times the database's size.
    """
    path = replica_path(db_path)
    main_file = db.resolve_db_path(db_path)
    if path.exists() and path.stat().st_size <= 1.5 * max(main_file.stat().st_size, 1):
        meta = read_meta_if_current(con, path)
        if meta is not None:
            return meta
        meta = update_copy(con, path, path)
        if meta is not None:
            return meta
    return _full(con, path)


def read_meta_if_current(con, path: Path) -> dict | None:
    """The copy's facts when every table's signature and column still match, else None.

    Why: at a server start the copy is usually current; copying and rewriting its file (the
    size of the database) only to find nothing changed competed with the first page. A write
    after this check changes the write mark, so the worker's next round refreshes again.
    """
    cur = con.cursor()
    main = cur.execute("SELECT current_database()").fetchall()[0][0]
    try:
        cur.execute(f"ATTACH {backup.sql_string(path)} AS kam_replica_check (READ_ONLY)")
    except Exception:  # noqa: BLE001 - an unreadable copy is simply rewritten
        cur.close()
        return None
    try:
        old = backup.read_copy_meta(cur, "kam_replica_check")
        if not old.get("tables"):
            return None
        if select_columns_fingerprint(cur, main) != select_columns_fingerprint(
            cur, "kam_replica_check"
        ):
            return None
        if json.loads(old["tables"]) != select_table_signatures(cur, main):
            return None
        return {k: v for k, v in old.items() if k != "tables"}
    finally:
        cur.execute("DETACH kam_replica_check")
        cur.close()


def update_copy(con, base: Path, target: Path) -> dict | None:
    """Write to `target` the copy `base` with every changed table refilled from the database.

    `base` is copied to a temporary file first (it is never changed in place), the tables
    whose signature differs are dropped and refilled with their declared keys in one
    transaction (one consistent state), and the result is renamed into place. Returns the
    copy's facts, or None when `base` cannot be brought up to date (no signatures, other
    columns): then a full copy is due.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(base, tmp)
    except OSError:
        return None
    cur = con.cursor()
    main = cur.execute("SELECT current_database()").fetchall()[0][0]
    cur.execute(f"ATTACH {backup.sql_string(tmp)} AS kam_replica (READ_WRITE)")
    meta = None
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            meta = _update_tables(cur, main)
            cur.execute("COMMIT" if meta is not None else "ROLLBACK")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.execute("DETACH kam_replica")
        cur.close()
        if meta is None:
            tmp.unlink(missing_ok=True)
    if meta is None:
        return None
    os.replace(tmp, target)
    return meta


def _update_tables(cur, main: str) -> dict | None:
    """Inside the transaction: refill the changed tables of kam_replica from `main`."""
    old = backup.read_copy_meta(cur, "kam_replica")
    if not old.get("tables") or select_columns_fingerprint(cur, main) != select_columns_fingerprint(
        cur, "kam_replica"
    ):
        return None
    before = json.loads(old["tables"])
    now = select_table_signatures(cur, main)
    for name, sig in now.items():
        if before.get(name) == sig:
            continue
        table = schema.ALL_TABLES[name]
        cols = ", ".join(f'"{c.name}"' for c in schema.table_columns(table))
        # Drop and re-create: deleting every row instead makes the commit rewrite the table
        # (16 s for the orders of the large demo). The imported tables without their keys,
        # as in a full copy (backup.copy_tables_keyless: their index would not fit in memory).
        keys = name not in schema.IMPORTABLE_TABLES
        cur.execute(f'DROP TABLE kam_replica."{name}"')
        cur.execute(schema.create_table_sql(table, keys=keys, name=f'kam_replica."{name}"'))
        cur.execute(
            f'INSERT INTO kam_replica."{name}" ({cols}) SELECT {cols} FROM "{main}"."{name}"'
        )
    meta = backup.write_copy_meta(cur, "kam_replica", main)
    cur.execute(
        "INSERT INTO kam_replica.schema_meta VALUES (?, ?)",
        [backup.COPY_PREFIX + "tables", json.dumps(now)],
    )
    return meta


def _full(con, path: Path) -> dict:
    return backup.copy_database(con, path, extra=select_table_signatures)


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
        raise DatabaseLockedError(Reason.REPLICA_NOT_READY, path=str(db.resolve_db_path(args.db)))
    last = meta.get("last_import_id")
    print(
        f"note: the app holds the database; answering from its read-only copy as of "
        f"{meta.get('made_at')} (last import {last if last not in (None, 'None') else '-'})",
        file=sys.stderr,
    )
    args.db = str(path)
    return int(args.func(args) or 0)
