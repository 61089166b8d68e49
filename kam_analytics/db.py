"""Opening the database: path resolution, schema creation, version check and migrations."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from pathlib import Path

import duckdb

from kam_analytics import schema
from kam_analytics.errors import DatabaseError, DatabaseLockedError, Reason, SchemaTooNewError

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "kam.duckdb"

# What one process's DuckDB may use (issue 15): the buffer pool holds the table blocks a query
# read, so without a limit (DuckDB's default: 80 % of the machine's memory) the app grows to
# several GB on the 10x company. Beyond the limit DuckDB spills to the temporary directory.
MEMORY_ENV = "KAM_DB_MEMORY"
DEFAULT_MEMORY = "1GB"
THREADS_ENV = "KAM_DB_THREADS"
DEFAULT_THREADS = 2
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)

log = logging.getLogger(__name__)


# Non-additive changes between versions: {from_version: function(con)}. Additive changes (new
# tables, new nullable columns) are applied by migrate_additive and need no entry here.
def widen_money_columns(con) -> None:
    """1 -> 2: money keeps 4 decimals (DECIMAL(18,4)) so that imported amounts like 177.225
    are stored as in the source and sums reconcile to the cent with the file's column sum."""
    con.execute("DROP VIEW IF EXISTS service_events_all")
    existing = {
        (r[0], r[1]): r[2]
        for r in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main'"
        ).fetchall()
    }
    for table in schema.ALL_TABLES.values():
        for col in table.columns:
            if col.kind == "money" and existing.get((table.name, col.name)) == "DECIMAL(18,2)":
                con.execute(
                    f'ALTER TABLE "{table.name}" ALTER COLUMN "{col.name}" '
                    f"SET DATA TYPE {col.sql_type}"
                )


MIGRATIONS: dict[int, object] = {1: widen_money_columns}

_init_lock = threading.Lock()


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file to use: the argument, else $KAM_DB, else data/kam.duckdb."""
    if path:
        return Path(path)
    env = os.environ.get("KAM_DB")
    return Path(env) if env else DEFAULT_DB


def memory_limit() -> str:
    """DuckDB's memory limit for this process: $KAM_DB_MEMORY (e.g. 1GB, 512MB), else 1GB."""
    text = os.environ.get(MEMORY_ENV)
    if text is None or not text.strip():
        return DEFAULT_MEMORY
    if not _MEMORY.match(text):
        log.warning(
            "%s=%r is not an amount like 1GB or 512MB; using %s", MEMORY_ENV, text, DEFAULT_MEMORY
        )
        return DEFAULT_MEMORY
    return text.strip().replace(" ", "")


def thread_limit() -> int:
    """DuckDB's worker threads for this process: $KAM_DB_THREADS, else 2."""
    try:
        return max(1, int(os.environ.get(THREADS_ENV, DEFAULT_THREADS)))
    except ValueError:
        log.warning("%s is not a whole number; using %s", THREADS_ENV, DEFAULT_THREADS)
        return DEFAULT_THREADS


def temp_directory(db_path: Path) -> Path:
    """Where DuckDB spills what exceeds the memory limit: `<db folder>/tmp/<db name>/`
    (data/tmp/kam/); one folder per file, so the app and a reader of its copy never share one."""
    path = Path(db_path).resolve()
    return path.parent / "tmp" / path.stem


def connection_config(db_path: Path) -> dict:
    """The limits every connection of the product opens with (memory, threads, spill folder)."""
    return {
        "memory_limit": memory_limit(),
        "threads": thread_limit(),
        "temp_directory": str(temp_directory(db_path)),
    }


@contextlib.contextmanager
def lifted_memory_limit(con):
    """DuckDB's own limit (80 % of the machine) while the block runs, then this process's
    again: for a restore, which rebuilds the key index of every imported table at once
    (22 million order lines on the 10x company do not fit in 1 GB). Rare and by an admin."""
    con.execute("RESET memory_limit")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{memory_limit()}'")


def _open_error(db_path: Path, exc: Exception) -> DatabaseError:
    """The user-facing error for a file DuckDB cannot open."""
    text = str(exc)
    low = text.lower()
    if "lock" in low:
        return DatabaseLockedError(Reason.DATABASE_LOCKED, path=str(db_path))
    if (
        "not a valid duckdb database" in low
        or "could not read enough bytes" in low
        or ("serializ" in low or "corrupt" in low or "checksum" in low)
    ):
        return DatabaseError(Reason.DATABASE_CORRUPT, path=str(db_path))
    return DatabaseError(Reason.DATABASE_UNOPENABLE, path=str(db_path), detail=text)


def translate_error(exc: BaseException, db_path=None) -> DatabaseError | None:
    """A DuckDB error of a running database as a user-facing error (None if not one of these).

    The chain of causes counts: a ROLLBACK after a COMMIT that hit a full disk raises "no
    transaction is active", with the disk-full error as its context.
    """
    seen = []
    while exc is not None and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    for one in seen:
        fault = _translate_one(one, db_path)
        if fault is not None:
            return fault
    return None


def _translate_one(exc: BaseException, db_path) -> DatabaseError | None:
    if not isinstance(exc, duckdb.Error):
        return None
    low = str(exc).lower()
    where = f" {db_path}" if db_path else ""
    if "no space left" in low or "disk full" in low or "disk is full" in low:
        return DatabaseError(Reason.DISK_FULL, where=where)
    if "invalidated" in low or isinstance(exc, duckdb.FatalException):
        return DatabaseError(Reason.DATABASE_INVALIDATED, where=where)
    return None


def is_invalidated(exc: BaseException) -> bool:
    """Whether DuckDB refuses every further call on this database instance (reopen it)."""
    low = str(exc).lower()
    return isinstance(exc, duckdb.Error) and (
        "invalidated" in low or "connection already closed" in low or "connection was closed" in low
    )


def connect(
    path: str | os.PathLike | None = None, read_only: bool = False, must_exist: bool = False
):
    """Open (creating if needed, unless must_exist) the database file and bring its schema up
    to date. A file of another program is refused unchanged."""
    db_path = resolve_db_path(path)
    # The app's read-only copy (kam_analytics/replica.py) is never opened for writing.
    read_only = read_only or str(db_path).endswith(".readonly.duckdb")
    if must_exist and not db_path.exists():
        raise DatabaseError(Reason.DATABASE_MISSING, path=str(db_path))
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    config = connection_config(db_path)
    try:
        # DuckDB creates only the last folder of the spill path, when it first spills
        Path(config["temp_directory"]).parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # a read-only place: the limit still holds, spilling then fails with a message
    try:
        con = duckdb.connect(str(db_path), read_only=read_only, config=config)
    except duckdb.Error as exc:
        raise _open_error(db_path, exc) from exc
    try:
        check_ours(con, db_path)
        if not read_only:
            with _init_lock:
                ensure_schema(con, db_path)
        else:
            if check_version(con, db_path) is not None:
                from kam_analytics.summaries import ensure_summaries

                ensure_summaries(con)
    except BaseException as exc:
        # Leave no half-open handle behind: DuckDB refuses to reopen a file still open.
        con.close()
        fault = translate_error(exc, db_path)
        if fault is not None:
            raise fault from exc
        raise
    return con


def check_ours(con, db_path: Path) -> None:
    """Refuse a DuckDB file that holds tables but no KAM Analytics schema (before any write)."""
    rows = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE table_name = 'schema_meta') "
        "FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()
    tables, meta = rows[0]
    if tables and not meta:
        raise DatabaseError(Reason.NOT_KAM_DATABASE, path=str(db_path))


class SharedConnection:
    """One connection per process and file, handing out cursors; reopened after DuckDB
    invalidated it (a disk-full checkpoint), so the app recovers without a restart."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = resolve_db_path(path)
        self._lock = threading.Lock()
        self.generation = 0
        self._con = connect(self.path)

    def cursor(self):
        """A new cursor (one per thread: a DuckDB connection is not thread-safe).

        After a reopen that failed (the disk was still full), it tries to open the file again.
        """
        with self._lock:
            if self._con is None:
                self._con = connect(self.path)
                self.generation += 1
            return self._con.cursor()

    def healthy(self, cur) -> bool:
        """Whether `cur` still answers; False when the database was invalidated or closed."""
        try:
            cur.execute("SELECT 1").fetchall()
        except duckdb.Error as exc:
            if is_invalidated(exc):
                return False
            raise
        return True

    def reopen(self, seen_generation: int) -> None:
        """Close the invalidated connection (and with it every cursor) and open the file again.

        `seen_generation` is the generation the caller found broken: when another thread
        reopened meanwhile, nothing is done twice. Raises DatabaseError while the cause lasts.
        """
        with self._lock:
            if seen_generation != self.generation and self._con is not None:
                return
            if self._con is not None:
                try:
                    self._con.close()
                except duckdb.Error:
                    pass
                self._con = None
            # Closing drops the invalidated instance; opening reads the file again (the
            # write-ahead log replays what was committed). Failing, _con stays None.
            self._con = connect(self.path)
            self.generation += 1

    def close(self) -> None:
        """Close the connection and every cursor of it."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


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
            Reason.SCHEMA_TOO_NEW,
            path=str(db_path),
            version=version,
            supported=schema.SCHEMA_VERSION,
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
        # a file written without the summary tables (or changed by a version without them)
        # gets them filled here, so every existing file works (kam_analytics/summaries.py)
        from kam_analytics.summaries import ensure_summaries

        ensure_summaries(con)
        con.execute(
            "INSERT OR IGNORE INTO schema_meta VALUES ('database_id', CAST(uuid() AS VARCHAR))"
        )
        con.execute(
            "INSERT OR REPLACE INTO schema_meta VALUES ('schema_version', ?)",
            [str(schema.SCHEMA_VERSION)],
        )
        con.execute("COMMIT")
    except Exception:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # a failed COMMIT (disk full) ended the transaction already
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
    for table in {**schema.ALL_TABLES, **schema.BOOKKEEPING_TABLES}.values():
        if table.name not in tables:
            con.execute(schema.create_table_sql(table))
            continue
        for col in schema.table_columns(table):
            if (table.name, col.name) not in existing:
                default = f" DEFAULT {col.default}" if col.default is not None else ""
                con.execute(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {col.sql_type}{default}'
                )


def fetch_one_dict(con, sql: str, params: list) -> dict | None:
    """The first row of a query as {column: value}, or None when there is none."""
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()  # fetch everything: a half-read result leaves the connection busy
    return dict(zip(cols, rows[0], strict=True)) if rows else None


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
        # sign-ins and sign-outs change no figure: they must not empty every page cache
        " (SELECT max(audit_id) FROM audit_log WHERE NOT starts_with(action, 'sign'))"
        " FROM import_log"
    ).fetchall()[0]
    return ":".join(str(v) for v in row)
