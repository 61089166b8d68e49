"""The app's read-only copy of its database, for command-line readers while the app runs.

The app rewrites `<db stem>.readonly.duckdb` (one consistent state, renamed into place) after
every write; `info`, `report`, `imports list`, `users list` and `deck` open it read-only while
the app holds the database itself, and say as of which import and time they answer.

What changed is decided per table by `select_table_states`: the table's writes in the write
log (every product writer notes them in its own transaction, kam_analytics/write_log.py), its
row count, and for a table of at most `HASHED_ROWS` rows the sum of its row hashes; a change
of any table's columns makes a full copy. Nothing reads the large tables' rows for it (at the
10x company hashing every row took 4.5 s per check).
Limit: an UPDATE by plain SQL (a test, a tool) of a table larger than `HASHED_ROWS` that keeps
its row count and notes no write is not seen; such a writer calls `write_log.note_writes`, or
the copy is deleted (the next round makes a full one).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from kam_analytics import backup, db, schema, write_log
from kam_analytics.errors import DatabaseLockedError, Reason

SUFFIX = ".readonly.duckdb"


def replica_path(db_path) -> Path:
    """Where the app keeps the read-only copy of this database."""
    path = db.resolve_db_path(db_path).resolve()
    return path.with_name(path.stem + SUFFIX)


def is_replica(path) -> bool:
    """True for the file name of a read-only copy (always opened read-only)."""
    return str(path).endswith(SUFFIX)


HASHED_ROWS = 100_000  # a table of at most this many rows is also compared by its rows' hash


def select_table_states(con, catalog: str | None = None) -> dict[str, str]:
    """Per declared table: its writes in the write log, its row count and, for a small table,
    the sum of its row hashes (a few milliseconds for the 10x company)."""
    prefix = f'"{catalog}".' if catalog else ""
    names = [name for name in schema.ALL_TABLES if name != "schema_meta"]
    counts = dict(
        con.execute(
            " UNION ALL ".join(f"SELECT '{n}', count(*) FROM {prefix}\"{n}\"" for n in names)
        ).fetchall()
    )
    small = [n for n in names if counts[n] <= HASHED_ROWS]
    hashes = {}
    if small:
        hashes = dict(
            con.execute(
                " UNION ALL ".join(
                    f"SELECT '{n}', coalesce(sum(hash(x)::HUGEINT), 0) FROM {prefix}\"{n}\" x"
                    for n in small
                )
            ).fetchall()
        )
    writes = write_log.select_write_states(con, catalog)
    return {
        n: ":".join(
            [writes.get(n, "0:0"), str(counts[n]), *([str(hashes[n])] if n in hashes else [])]
        )
        for n in names
    }


def select_columns_fingerprint(con, catalog: str) -> str:
    """Every table's columns in order (a migration changes it: then a full copy is due)."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = 'main' ORDER BY table_name, ordinal_position",
        [catalog],
    ).fetchall()
    return json.dumps(rows)


def select_changed_tables(cur, main: str, copy: str) -> tuple[dict, list[str]] | None:
    """The states of `main`'s tables now and the tables whose state differs from the one the
    copy `copy` recorded; None when the copy cannot be brought up to date (no record of its
    tables, other columns): then a full copy is due.

    The one comparison: the check at a server start and the refill after a write both use it.
    """
    old = backup.read_copy_meta(cur, copy)
    if not old.get("tables"):
        return None
    if select_columns_fingerprint(cur, main) != select_columns_fingerprint(cur, copy):
        return None
    before = json.loads(old["tables"])
    now = select_table_states(cur, main)
    return now, [name for name, state in now.items() if before.get(name) != state]


def refresh_replica(con, db_path) -> dict:
    """Bring the read-only copy up to date: only the changed tables, else a full copy.

    A full copy is made when there is no previous copy, the columns differ (a migration) or
    the file has grown to 1.5 times the database's size. When nothing changed, the file is
    left as it is (a server start with a current copy must not rewrite gigabytes).
    """
    path = replica_path(db_path)
    main_file = db.resolve_db_path(db_path)
    if path.exists() and path.stat().st_size <= 1.5 * max(main_file.stat().st_size, 1):
        meta = update_copy(con, path, path)
        if meta is not None:
            return meta
    return _full(con, path)


def update_copy(con, base: Path, target: Path) -> dict | None:
    """Write to `target` the copy `base` with every changed table refilled from the database.

    One read transaction of the database finds the changed tables (select_changed_tables)
    and refills them, so the copy is one consistent state. `base` is never changed in place:
    it is copied to a temporary file, refilled and renamed into place; when nothing changed
    and `target` is `base`, nothing is written. Returns the copy's facts, or None when `base`
    cannot be brought up to date: then a full copy is due.
    """
    cur = con.cursor()
    main = cur.execute("SELECT current_database()").fetchall()[0][0]
    try:
        cur.execute(f"ATTACH {backup.sql_string(base)} AS kam_replica_base (READ_ONLY)")
    except Exception:  # noqa: BLE001 - an unreadable copy is simply rewritten
        cur.close()
        return None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    attached = False
    meta = None
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            found = select_changed_tables(cur, main, "kam_replica_base")
            if found is not None and not found[1] and Path(base) == Path(target):
                old = backup.read_copy_meta(cur, "kam_replica_base")
                cur.execute("ROLLBACK")
                return {k: v for k, v in old.items() if k != "tables"}
            if found is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(base, tmp)
                cur.execute(f"ATTACH {backup.sql_string(tmp)} AS kam_replica (READ_WRITE)")
                attached = True
                meta = _refill(cur, main, *found)
            cur.execute("COMMIT" if meta is not None else "ROLLBACK")
        except OSError:
            _rollback_quietly(cur)
            meta = None
        except BaseException:
            _rollback_quietly(cur)
            raise
    finally:
        # IF EXISTS: a failed transaction also takes back the ATTACH made inside it, and a
        # second error here would hide the first.
        if attached:
            cur.execute("DETACH DATABASE IF EXISTS kam_replica")
        cur.execute("DETACH DATABASE IF EXISTS kam_replica_base")
        cur.close()
        if meta is None:
            tmp.unlink(missing_ok=True)
    if meta is None:
        return None
    os.replace(tmp, target)
    return meta


def _rollback_quietly(cur) -> None:
    """Roll back if a transaction is still open: a failed COMMIT has already ended it."""
    try:
        cur.execute("ROLLBACK")
    except Exception:  # noqa: BLE001 - the error being handled is the one to report
        pass


def _refill(cur, main: str, states: dict, changed: list[str]) -> dict:
    """Inside the transaction: refill the changed tables of kam_replica from `main`."""
    for name in changed:
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
    # Small and always refilled: the write log (a backup made from the copy carries it) and
    # the file's own keys (the summaries' stamp: a stale one makes every reader rebuild them).
    cur.execute("DELETE FROM kam_replica.write_log")
    cur.execute(f'INSERT INTO kam_replica.write_log SELECT * FROM "{main}".write_log')
    cur.execute("DELETE FROM kam_replica.schema_meta")
    cur.execute(
        f'INSERT INTO kam_replica.schema_meta SELECT * FROM "{main}".schema_meta '
        "WHERE NOT starts_with(key, ?)",
        [backup.COPY_PREFIX],
    )
    meta = backup.write_copy_meta(cur, "kam_replica", main)
    cur.execute(
        "INSERT INTO kam_replica.schema_meta VALUES (?, ?)",
        [backup.COPY_PREFIX + "tables", json.dumps(states)],
    )
    return meta


def _full(con, path: Path) -> dict:
    return backup.copy_database(con, path, extra=select_table_states)


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
