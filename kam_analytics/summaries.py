"""Summary tables: the order lines aggregated per account and day, kept equal to the raw rows.

Pages ask questions per account and period (revenue from 1 January to the as-of date, the
last order, the gaps between order dates, activity in a window). Scanning every order line
for them makes a click grow with the order lines; `order_days` holds one row per account and
order date instead (about a third of the lines on the demo companies), so the answers are
the same to the cent and the day while the work grows with accounts × days.

Who keeps them right:
- every write of a source table calls `refresh_summaries(con, tables)` inside its own
  transaction (ingest/load.write_rows, ingest/load.undo_import, demo.write_demo), so a
  summary is never seen out of step with its rows;
- `ensure_summaries` rebuilds them when the stamp stored with them does not match the source
  tables (row counts, the import history, the definitions here): db.connect calls it on
  every open and every query function that reads a summary calls it first, so a file
  written by a version without them (a new demo, an old backup), changed by one, or rows
  written by plain SQL (tests) get them rebuilt before anything reads them;
- a read-only connection to such a file gets the same tables as TEMP tables of that
  connection, so a reader is never wrong.
Limit: an UPDATE by plain SQL that keeps the row counts and the import history is not
noticed; such a writer must call `refresh_summaries` (every writer in the product does).
The consistency test (tests/test_summaries.py) compares them with the raw aggregates after
random imports and undos.
"""

from __future__ import annotations

import hashlib

from kam_analytics import schema, write_log
from kam_analytics.write_log import note_writes

STAMP_KEY = "summaries_stamp"
TEMP_STAMP = "summaries_stamp"  # a read-only connection's own stamp (TEMP table)

# summary table -> (source tables it is built from, SELECT that builds it)
SUMMARIES: dict[str, tuple[tuple[str, ...], str]] = {
    "order_days": (
        ("orders",),
        """
        SELECT account_id, order_date, sum(net_revenue) AS revenue,
               sum(cost_of_goods) AS cost_of_goods, count(*) AS lines,
               count(*) FILTER (WHERE cost_of_goods IS NULL) AS cogs_missing
        FROM orders
        WHERE account_id IS NOT NULL AND order_date IS NOT NULL
        GROUP BY account_id, order_date
        ORDER BY account_id, order_date  -- one account's days together: its reads skip the rest
        """,
    ),
}


def summary_sources() -> set[str]:
    """The source tables any summary is built from."""
    return {src for sources, _ in SUMMARIES.values() for src in sources}


def select_source_stamp(con) -> str:
    """A token of the source tables' state (row counts and the import history).

    Cheap (counts come from DuckDB's metadata); a write through this code refreshes the
    summaries in the same transaction anyway, the stamp catches writes by other versions.
    """
    counts = " UNION ALL ".join(
        f"SELECT '{name}', count(*) FROM \"{name}\"" for name in sorted(summary_sources())
    )
    rows = con.execute(counts).fetchall()
    # the definitions belong to the stamp: a changed summary is rebuilt on the next open
    defined = hashlib.sha256(repr(sorted(SUMMARIES.items())).encode()).hexdigest()[:12]
    log = con.execute(
        "SELECT count(*), max(import_id), max(coalesce(undone_at, imported_at)) FROM import_log"
    ).fetchall()[0]
    return ";".join([defined, *(f"{n}={c}" for n, c in sorted(rows)), ":".join(map(str, log))])


def select_stored_stamp(con) -> str | None:
    """The stamp of the summaries this connection reads (its TEMP ones first), None if none."""
    temp = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'temp' AND table_name = ?",
        [TEMP_STAMP],
    ).fetchall()[0][0]
    if temp:
        rows = con.execute(f'SELECT value FROM temp."{TEMP_STAMP}"').fetchall()
    else:
        rows = con.execute("SELECT value FROM schema_meta WHERE key = ?", [STAMP_KEY]).fetchall()
    return rows[0][0] if rows else None


def _insert_summary(con, name: str, target: str) -> None:
    table = schema.SUMMARY_TABLES[name]
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    con.execute(f"INSERT INTO {target} ({cols}) {SUMMARIES[name][1]}")


def refresh_summaries(con, tables) -> list[str]:
    """Rebuild the summaries built from any of `tables` (source table names); returns them.

    Call it inside the transaction that wrote the tables. A full rebuild: on the large demo
    (2.2 M order lines) it takes about 0.4 s, less than any import of them.
    """
    changed = set(tables)
    names = [n for n, (sources, _) in SUMMARIES.items() if changed & set(sources)]
    for name in names:
        # Drop and re-create: deleting every row instead makes the commit rewrite the table
        # (5 s instead of 0.4 s on large).
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.execute(schema.create_table_sql(schema.SUMMARY_TABLES[name]))
        _insert_summary(con, name, f'"{name}"')
    if names:
        con.execute(
            "INSERT OR REPLACE INTO schema_meta VALUES (?, ?)",
            [STAMP_KEY, select_source_stamp(con)],
        )
        note_writes(con, *names)
    return names


def _read_only(con) -> bool:
    return bool(
        con.execute(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0][0]
    )


def _has_sources(con) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND table_name IN ('import_log', 'schema_meta', 'orders')"
    ).fetchall()[0][0]
    return found == 3


def ensure_summaries(con) -> bool:
    """Make the summaries this connection reads match the source tables; True if rebuilt.

    Every reader of a summary calls it first (a few milliseconds): a file written by a
    version without the summaries, or rows written by plain SQL (tests, tools), never give a
    stale answer. Read-write: rebuilt in place in one transaction. Read-only: built as TEMP
    tables of this connection, which shadow the stale or missing ones for its queries.
    """
    if not _has_sources(con):
        return False
    stamp = select_source_stamp(con)
    if select_stored_stamp(con) == stamp:
        return False
    if not _read_only(con):
        # inside the caller's transaction (db.ensure_schema, a close of the year) the rebuild
        # is part of it; else it gets its own
        in_transaction = write_log.in_transaction(con)
        if not in_transaction:
            con.execute("BEGIN TRANSACTION")
        try:
            refresh_summaries(con, summary_sources())
            if not in_transaction:
                con.execute("COMMIT")
        except BaseException:
            if not in_transaction:
                con.execute("ROLLBACK")
            raise
        return True
    for name in SUMMARIES:
        table = schema.SUMMARY_TABLES[name]
        cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in table.columns)
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" ({cols})')
        _insert_summary(con, name, f'temp."{name}"')
    con.execute(f'CREATE OR REPLACE TEMP TABLE "{TEMP_STAMP}" AS SELECT ? AS value', [stamp])
    return True
