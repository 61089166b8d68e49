"""Consistent copies of the database: backups, automatic backups before imports, restore.

A copy is written with DuckDB's `COPY FROM DATABASE` inside one read transaction, so it is one
consistent state even while other cursors of the same process write. It goes to a temporary
name first and is renamed into place, so a reader never sees half a file. The copy's
`schema_meta` carries `copy.*` keys saying when it was made and up to which import and audit
entry it reaches (readers of the app's read-only copy print them).

Restore is logical: every declared table of the target is emptied and refilled from the backup
(after the backup has been migrated to the current schema) in one transaction, so it works on
the app's own open connection as well as on a file nobody holds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from kam_analytics import db, schema
from kam_analytics.audit import write_audit
from kam_analytics.errors import DatabaseError, Reason, SchemaTooNewError
from kam_analytics.write_log import note_writes

COPY_PREFIX = "copy."
DEFAULT_KEEP = 10  # automatic backups kept per database (setting backup.keep, $KAM_BACKUP_KEEP)
KEEP_ENV = "KAM_BACKUP_KEEP"
DIR_ENV = "KAM_BACKUPS"
_SNAP = "kam_snap"


def sql_string(text: str) -> str:
    """A SQL string literal (ATTACH takes no bound parameter for its path)."""
    return "'" + str(text).replace("'", "''") + "'"


def select_high_water(con, catalog: str | None = None) -> dict:
    """The newest import and audit entry of a database (what a copy of it reaches)."""
    prefix = f'"{catalog}".' if catalog else ""
    row = con.execute(
        f"SELECT (SELECT max(import_id) FROM {prefix}import_log), "
        f"(SELECT max(coalesce(undone_at, imported_at)) FROM {prefix}import_log), "
        f"(SELECT max(audit_id) FROM {prefix}audit_log)"
    ).fetchall()[0]
    return {"last_import_id": row[0], "last_import_at": row[1], "last_audit_id": row[2]}


def select_write_mark(con, catalog: str | None = None) -> str:
    """A token that changes with every write that matters to readers (not with sign-ins)."""
    prefix = f'"{catalog}".' if catalog else ""
    row = con.execute(
        f"SELECT (SELECT count(*) FROM {prefix}import_log), "
        f"(SELECT max(import_id) FROM {prefix}import_log), "
        f"(SELECT max(coalesce(undone_at, imported_at)) FROM {prefix}import_log), "
        f"(SELECT max(audit_id) FROM {prefix}audit_log WHERE NOT starts_with(action, 'sign'))"
    ).fetchall()[0]
    return json.dumps([str(v) for v in row])


def _current_catalog(con) -> str:
    return con.execute("SELECT current_database()").fetchall()[0][0]


def write_copy_meta(cur, snap: str, source: str) -> dict:
    """Replace the copy.* keys of the copy `snap` by the facts of `source` now."""
    meta = select_high_water(cur, source)
    meta["mark"] = select_write_mark(cur, source)
    meta["made_at"] = dt.datetime.now().replace(microsecond=0)
    meta["schema_version"] = db.read_schema_version(cur)
    cur.execute(f'DELETE FROM "{snap}".schema_meta WHERE starts_with(key, ?)', [COPY_PREFIX])
    for key, value in meta.items():
        cur.execute(
            f'INSERT INTO "{snap}".schema_meta VALUES (?, ?)',
            [COPY_PREFIX + key, None if value is None else str(value)],
        )
    return meta


def copy_tables_keyless(cur, source: str, snap: str) -> None:
    """Inside the copy's transaction: the imported tables (and the summaries) again in `snap`,
    without their primary keys, filled from `source`.

    Building the key index of 22 million order lines needs more memory than DuckDB's limit
    (db.MEMORY_ENV, 1 GB): a copy is only read, or restored row by row into the keyed
    tables (restore_into), so it needs no keys. The app's own small tables keep theirs.
    """
    for name, table in {**schema.IMPORTABLE_TABLES, **schema.SUMMARY_TABLES}.items():
        cols = ", ".join(f'"{c.name}"' for c in schema.table_columns(table))
        cur.execute(f'DROP TABLE IF EXISTS {snap}."{name}"')
        cur.execute(schema.create_table_sql(table, keys=False, name=f'{snap}."{name}"'))
        cur.execute(f'INSERT INTO {snap}."{name}" ({cols}) SELECT {cols} FROM "{source}"."{name}"')


def copy_database(con, target, *, catalog: str | None = None, extra=None) -> dict:
    """Write one consistent copy of the connection's database to `target` (atomic replace).

    Everything (tables, views, macros, sequences) is copied; the imported tables without
    their primary keys (copy_tables_keyless), so a copy of the 10x company fits in memory.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB wants to create the file itself
    cur = con.cursor()
    source = catalog or _current_catalog(cur)
    cur.execute(f"ATTACH {sql_string(tmp)} AS {_SNAP} (READ_WRITE)")
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            # the schema with every table, then the small tables' rows, then the big ones
            cur.execute(f'COPY FROM DATABASE "{source}" TO {_SNAP} (SCHEMA)')
            keyless = {**schema.IMPORTABLE_TABLES, **schema.SUMMARY_TABLES}
            for (name,) in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [source]
            ).fetchall():
                if name not in keyless:
                    cur.execute(f'INSERT INTO {_SNAP}."{name}" SELECT * FROM "{source}"."{name}"')
            copy_tables_keyless(cur, source, _SNAP)
            meta = write_copy_meta(cur, _SNAP, source)
            if extra is not None:  # the read-only copy notes its tables' signatures
                cur.execute(
                    f"INSERT INTO {_SNAP}.schema_meta VALUES (?, ?)",
                    [COPY_PREFIX + "tables", json.dumps(extra(cur, source))],
                )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    except BaseException:
        cur.execute(f"DETACH {_SNAP}")
        cur.close()
        tmp.unlink(missing_ok=True)
        raise
    cur.execute(f"DETACH {_SNAP}")
    cur.close()
    os.replace(tmp, target)
    return meta


def backup_file(db_path, out) -> dict:
    """Copy a database file nobody else holds open to `out` (raises DatabaseLockedError if held)."""
    db_path = db.resolve_db_path(db_path)
    if not db_path.exists():
        raise DatabaseError(Reason.BACKUP_NO_DATABASE, path=str(db_path))
    con = db.connect(db_path, read_only=True)
    try:
        return copy_database(con, out)
    finally:
        con.close()


def read_copy_meta(con, catalog: str | None = None) -> dict:
    """The `copy.*` keys of a copy ({} for a file that is not a copy)."""
    prefix = f'"{catalog}".' if catalog else ""
    rows = con.execute(
        f"SELECT key, value FROM {prefix}schema_meta WHERE starts_with(key, ?)", [COPY_PREFIX]
    ).fetchall()
    return {k[len(COPY_PREFIX) :]: v for k, v in rows}


def check_backup(path) -> int | None:
    """Refuse a file that is no KAM Analytics database or is newer; return its schema version."""
    path = Path(path)
    foreign = DatabaseError(Reason.BACKUP_FOREIGN_FILE, path=str(path))
    if not path.is_file():
        raise DatabaseError(Reason.BACKUP_MISSING, path=str(path))
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise foreign from exc
    try:
        version = db.read_schema_version(con)
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
    finally:
        con.close()
    if version is None or not {"import_log", "accounts", "audit_log"} <= tables:
        raise foreign
    if version > schema.SCHEMA_VERSION:
        raise SchemaTooNewError(
            Reason.BACKUP_TOO_NEW, path=str(path), version=version, supported=schema.SCHEMA_VERSION
        )
    return version


def _sequence_values(con, catalog: str) -> dict[str, int]:
    rows = con.execute(
        "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = ?",
        [catalog],
    ).fetchall()
    return {name: int(last or 0) for name, last in rows}


def restore_into(con, source, username: str) -> dict:
    """Replace every table's rows by the backup's, in one transaction; returns what came back."""
    check_backup(source)
    with tempfile.TemporaryDirectory(prefix="kam-restore-") as tmp:
        # Migrate a private copy, so an older backup fits the current tables.
        staged = Path(tmp) / "staged.duckdb"
        shutil.copy(source, staged)
        db.connect(staged).close()
        cur = con.cursor()
        main = _current_catalog(cur)
        cur.execute(f"ATTACH {sql_string(staged)} AS kam_restore (READ_ONLY)")
        try:
            meta = read_copy_meta(cur, "kam_restore")
            before = _sequence_values(cur, main)
            after = _sequence_values(cur, "kam_restore")
            # the keyed tables' indexes are rebuilt at once: more than the process's limit
            with db.lifted_memory_limit(cur):
                cur.execute("BEGIN TRANSACTION")
                try:
                    counts = {}
                    for name, table in schema.ALL_TABLES.items():
                        if name == "schema_meta":
                            continue  # the file keeps its own id and version
                        cols = ", ".join(f'"{c.name}"' for c in schema.table_columns(table))
                        cur.execute(f'DELETE FROM "{name}"')
                        cur.execute(
                            f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM kam_restore."{name}"'
                        )
                        counts[name] = cur.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][
                            0
                        ]
                    # the file keeps its own write log (a restored one could repeat the
                    # states the read-only copy recorded); every table is a new write
                    note_writes(cur, *counts)
                    for seq in schema.SEQUENCES:
                        # Never backwards: ids stay unique over time, so caches keyed by them
                        # cannot mistake the restored state for an older one.
                        start = max(before.get(seq, 0), after.get(seq, 0)) + 1
                        cur.execute(f"DROP SEQUENCE IF EXISTS {seq}")
                        cur.execute(f"CREATE SEQUENCE {seq} START {start}")
                    write_audit(
                        cur,
                        username,
                        "restore",
                        Path(source).name,
                        None,
                        {
                            "made_at": meta.get("made_at"),
                            "last_import_id": meta.get("last_import_id"),
                        },
                    )
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
        finally:
            cur.execute("DETACH kam_restore")
            cur.close()
    return {"rows": counts, "made_at": meta.get("made_at")}


def backup_dir(db_path) -> Path:
    """Folder of automatic backups: $KAM_BACKUPS, else backups/ beside the database file."""
    env = os.environ.get(DIR_ENV)
    return Path(env) if env else db.resolve_db_path(db_path).parent / "backups"


def backup_keep(con) -> int:
    """How many automatic backups to keep: $KAM_BACKUP_KEEP, else setting backup.keep, else 10."""
    text = os.environ.get(KEEP_ENV)
    if text is None:
        from kam_analytics.settings_store import select_settings

        text = select_settings(con, "backup.keep").get("backup.keep", DEFAULT_KEEP)
    try:
        return max(0, int(text))
    except (TypeError, ValueError):
        return DEFAULT_KEEP


def list_backups(db_path) -> list[Path]:
    """Automatic backups of this database, newest first."""
    stem = db.resolve_db_path(db_path).stem
    folder = backup_dir(db_path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{stem}-*.duckdb"), reverse=True)


def auto_backup(con, db_path, reason: str) -> Path | None:
    """A backup before a batch of imports or a restore; prunes to the newest N (0: none)."""
    keep = backup_keep(con)
    if keep == 0:
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backup_dir(db_path) / f"{db.resolve_db_path(db_path).stem}-{stamp}-{reason}.duckdb"
    from kam_analytics import replica

    # From the app's read-only copy, refilling only what changed since (much faster).
    base = replica.replica_path(db_path)
    if not base.exists() or replica.update_copy(con, base, target) is None:
        copy_database(con, target)
    for old in list_backups(db_path)[keep:]:
        old.unlink(missing_ok=True)
    return target
