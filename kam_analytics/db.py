"""Opening the database: path resolution, schema creation, version check and migrations."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from kam_analytics import schema
from kam_analytics.errors import DatabaseError, DatabaseLockedError, SchemaTooNewError

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "kam.duckdb"

# Non-additive changes between versions: {from_version: function(con)}. Additive changes (new
# tables, new nullable columns) are applied by migrate_additive and need no entry here.
MIGRATIONS: dict[int, object] = {}

_init_lock = threading.Lock()


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file to use: the argument, else $KAM_DB, else data/kam.duckdb."""
    if path:
        return Path(path)
    env = os.environ.get("KAM_DB")
    return Path(env) if env else DEFAULT_DB


def connect(path: str | os.PathLike | None = None, read_only: bool = False):
    """Open (creating if needed) the database file and bring its schema up to date."""
    db_path = resolve_db_path(path)
    # The app's read-only copy (kam_analytics/replica.py) is never opened for writing.
    read_only = read_only or str(db_path).endswith(".readonly.duckdb")
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLockedError(
                f"The database {db_path} is in use by another program",
                "Close the dashboard or the other command using it, or pass another --db.",
            ) from exc
        raise DatabaseError(
            f"Cannot open the database {db_path}: {exc}",
            "Check the path and the file permissions, or pass another --db.",
        ) from exc
    try:
        if not read_only:
            with _init_lock:
                ensure_schema(con, db_path)
        else:
            check_version(con, db_path)
    except BaseException:
        # Leave no half-open handle behind: DuckDB refuses to reopen a file still open.
        con.close()
        raise
    return con


def connect_memory():
    """An in-memory database with the full schema (tests and scratch work)."""
    con = duckdb.connect(":memory:")
    ensure_schema(con, Path(":memory:"))
    return con


def read_schema_version(con) -> int | None:
    """The schema version stored in the file, or None for a file without one."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_meta'"
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = con.execute("SELECT value FROM schema_meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else None


def check_version(con, db_path: Path) -> int | None:
    """Refuse a file written by a newer version; return its version."""
    version = read_schema_version(con)
    if version is not None and version > schema.SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"The database {db_path} has schema version {version}, but this version of "
            f"KAM Analytics understands up to {schema.SCHEMA_VERSION}",
            "Update KAM Analytics (git pull, then rerun the setup command) or open another file.",
        )
    return version


def ensure_schema(con, db_path: Path) -> None:
    """Create missing tables, run migrations for older files, record the schema version."""
    version = check_version(con, db_path)
    con.execute("BEGIN TRANSACTION")
    try:
        if version is not None:
            for step in range(version, schema.SCHEMA_VERSION):
                migrate = MIGRATIONS.get(step)
                if migrate:
                    migrate(con)
        migrate_additive(con)
        if version is None:
            # A new file starts with the default service catalogue (DOMAIN.md), editable later.
            from kam_analytics.catalogue import seed_catalogue

            seed_catalogue(con)
        for seq in schema.SEQUENCES:
            con.execute(f"CREATE SEQUENCE IF NOT EXISTS {seq} START 1")
        for ddl in schema.VIEWS:
            con.execute(ddl)
        con.execute(
            "INSERT OR IGNORE INTO schema_meta VALUES ('database_id', CAST(uuid() AS VARCHAR))"
        )
        con.execute(
            "INSERT OR REPLACE INTO schema_meta VALUES ('schema_version', ?)",
            [str(schema.SCHEMA_VERSION)],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def migrate_additive(con) -> None:
    """Create declared tables that are missing and add declared columns that are missing."""
    existing = {
        (r[0], r[1])
        for r in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main'"
        ).fetchall()
    }
    tables = {t for t, _ in existing}
    for table in schema.ALL_TABLES.values():
        if table.name not in tables:
            con.execute(schema.create_table_sql(table))
            continue
        for col in schema.table_columns(table):
            if (table.name, col.name) not in existing:
                default = f" DEFAULT {col.default}" if col.default is not None else ""
                con.execute(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {col.sql_type}{default}'
                )


def count_rows(con) -> dict[str, int]:
    """Row count of every declared table."""
    return {
        name: con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
        for name in schema.ALL_TABLES
    }


def data_version(con) -> str:
    """A token that changes whenever imported or edited data changes (for caches).

    It names the database too (file path and the id stored at creation), so that two files
    or two in-memory databases at the same import count never share a cached result.
    """
    row = con.execute(
        "SELECT (SELECT path FROM duckdb_databases() WHERE database_name = current_database()),"
        " (SELECT value FROM schema_meta WHERE key = 'database_id'),"
        " count(*), max(import_id), max(coalesce(undone_at, imported_at)),"
        " (SELECT max(audit_id) FROM audit_log)"
        " FROM import_log"
    ).fetchall()[0]
    return ":".join(str(v) for v in row)
