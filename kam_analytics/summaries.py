"""Summary tables: source rows aggregated for the pages' questions, kept equal to the raw rows.

Pages ask questions per account and period (revenue from 1 January to the as-of date, the
last order, the gaps between order dates, activity in a window). Scanning every order line
for them makes a click grow with the order lines; `order_days` holds one row per account and
order date instead (about a third of the lines on the demo companies), so the answers are
the same to the cent and the day while the work grows with accounts × days.
`service_months` holds service_events_all (service events and express shipments) per account,
month, service and billing mode: the services summaries and report, the profitability and
the giveaway totals (leakage per account, summarise_findings) read its whole months and the
as-of month's days from the view (metrics/services.py `_SQL_CELLS`), the same to the cent.
It holds nothing that can change without an import: the tier, the matrix (the policy of a
cell) and the settings are joined when read.

Who keeps them right:
- every write of a source table calls `refresh_summaries(con, tables)` inside its own
  transaction (ingest/load.write_rows, ingest/load.undo_import, demo.write_demo; the
  catalogue's save_catalogue through ensure_summaries, for the express surcharge), so a
  summary is never seen out of step with its rows;
- each summary has its own stamp (schema_meta `summaries_stamp:<name>`: its source tables'
  row counts, the express surcharge, the import history of those tables, its definition);
  `ensure_summaries` rebuilds the summaries whose stamp does not match: db.connect calls it
  on every open and every query function that reads a summary calls it first, so a file
  written by a version without them (a new demo, an old backup), changed by one, or rows
  written by plain SQL (tests) get them rebuilt before anything reads them; an import into
  another table rebuilds none;
- a read-only connection to such a file gets the stale ones as TEMP tables of that
  connection, so a reader is never wrong.
Limit: an UPDATE by plain SQL that keeps the row counts and the import history is not
noticed; such a writer must call `refresh_summaries` (every writer in the product does).
Cost at the 10x company (22 M order lines, 2.6 M service events) under the 1 GB cap:
order_days 3.9 s, service_months 2.3 s. The consistency tests (tests/test_summaries.py)
compare them with the raw aggregates after random imports and undos.
"""

from __future__ import annotations

import hashlib

from kam_analytics import schema, write_log
from kam_analytics.write_log import note_writes

STAMP_KEY = "summaries_stamp"  # schema_meta key prefix: one stamp per summary, "<prefix>:<name>"
TEMP_STAMP = "summaries_stamp"  # a read-only connection's own stamps (TEMP table: name, value)

# Each row of service_events_all as a cell of service_months of one event (with its date):
# the summary sums these, and a reader adds the as-of month's days from here, so the two
# parts have the same columns computed the same way.
SERVICE_EVENT_CELLS = """
    SELECT account_id, date, CAST(date_trunc('month', date) AS DATE) AS month, service_code,
           billing_mode, 1 AS events, quantity, cost, list_value, billed_amount, unbilled_value,
           CASE WHEN unbilled_value > 0 THEN 1 ELSE 0 END AS unbilled_events,
           greatest(unbilled_value, 0) AS leakage_value,
           round(list_value, 2) AS list_cents,
           round(unbilled_value, 2) AS unbilled_cents,
           round(greatest(unbilled_value, 0), 2) AS leakage_cents,
           CASE WHEN unbilled_value > 0 THEN round(list_value, 2) ELSE 0 END
               AS list_cents_unbilled
    FROM service_events_all"""
# the columns of a service_months cell summed over its events (beside `events`, a count)
SERVICE_CELL_SUMS = (
    "quantity",
    "cost",
    "list_value",
    "billed_amount",
    "unbilled_value",
    "unbilled_events",
    "leakage_value",
    "list_cents",
    "unbilled_cents",
    "leakage_cents",
    "list_cents_unbilled",
)

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
    "order_starts": (
        ("orders",),
        """
        SELECT account_id, order_date, count(*) AS orders
        FROM (
            SELECT account_id, min(order_date) AS order_date
            FROM orders
            WHERE account_id IS NOT NULL AND order_date IS NOT NULL AND order_id IS NOT NULL
            GROUP BY account_id, order_id, year(order_date)
        )
        GROUP BY account_id, order_date
        ORDER BY account_id, order_date
        """,
    ),
    # Every row of service_events_all, so the view's rules (express list value from the
    # catalogue's surcharge, derived billing mode) are applied once, here, not per read.
    "service_months": (
        ("service_events", "shipments", "service_catalogue"),
        f"""
        SELECT account_id, month, service_code, billing_mode, count(*) AS events,
               {", ".join(f"sum({c}) AS {c}" for c in SERVICE_CELL_SUMS)}
        FROM ({SERVICE_EVENT_CELLS})
        GROUP BY account_id, month, service_code, billing_mode
        ORDER BY month, account_id  -- a year's months together: a year's reads skip the rest
        """,
    ),
}

# What of a source table a stamp holds: its row count (DuckDB's metadata: cheap), except for
# the catalogue, whose express surcharges change list values (service_events_all) without
# changing its row count.
_SOURCE_STATE = {
    "service_catalogue": (
        "SELECT count(*) || ':' || COALESCE(string_agg(COALESCE(CAST(surcharge_fixed AS "
        "VARCHAR), '-') || '/' || COALESCE(CAST(surcharge_pct AS VARCHAR), '-'), ','), '') "
        "FROM service_catalogue WHERE service_code = 'EXPRESS_FREIGHT'"
    ),
}


def _source_state(table: str) -> str:
    return _SOURCE_STATE.get(table, f'SELECT count(*) FROM "{table}"')


def summary_sources(names=None) -> set[str]:
    """The source tables the summaries `names` (default: all) are built from."""
    return {src for name in names or SUMMARIES for src in SUMMARIES[name][0]}


def select_source_stamp(con, name: str) -> str:
    """A token of the state of summary `name`'s source tables (their rows and imports).

    Cheap: counts come from DuckDB's metadata, the import history is filtered by table. A write
    through this code refreshes the summaries in the same transaction anyway; the stamp catches
    writes by other versions and plain SQL. An import into another table leaves it unchanged.
    """
    sources, _sql = SUMMARIES[name]
    states = " UNION ALL ".join(
        f"SELECT '{src}', CAST(({_source_state(src)}) AS VARCHAR)" for src in sorted(sources)
    )
    rows = con.execute(states).fetchall()
    # the definition belongs to the stamp: a changed summary is rebuilt on the next open
    defined = hashlib.sha256(repr((name, SUMMARIES[name])).encode()).hexdigest()[:12]
    log = con.execute(
        "SELECT count(*), max(import_id), max(coalesce(undone_at, imported_at)) FROM import_log "
        "WHERE list_contains(?, table_name)",
        [sorted(sources)],
    ).fetchall()[0]
    return ";".join([defined, *(f"{n}={c}" for n, c in sorted(rows)), ":".join(map(str, log))])


def _has_temp_stamps(con) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'temp' AND table_name = ?",
            [TEMP_STAMP],
        ).fetchall()[0][0]
    )


def select_stored_stamp(con, name: str) -> str | None:
    """The stamp of summary `name` this connection reads (its TEMP one first), None if none."""
    if _has_temp_stamps(con):
        rows = con.execute(
            f'SELECT value FROM temp."{TEMP_STAMP}" WHERE name = ?', [name]
        ).fetchall()
        if rows:
            return rows[0][0]
    rows = con.execute(
        "SELECT value FROM schema_meta WHERE key = ?", [f"{STAMP_KEY}:{name}"]
    ).fetchall()
    return rows[0][0] if rows else None


def _insert_summary(con, name: str, target: str) -> None:
    table = schema.SUMMARY_TABLES[name]
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    con.execute(f"INSERT INTO {target} ({cols}) {SUMMARIES[name][1]}")


def refresh_summaries(con, tables) -> list[str]:
    """Rebuild the summaries built from any of `tables` (source table names); returns them.

    Call it inside the transaction that wrote the tables. A full rebuild: on the large demo
    (2.2 M order lines) order_days takes about 0.4 s, less than any import of them.
    """
    changed = set(tables)
    names = [n for n, (sources, _) in SUMMARIES.items() if changed & set(sources)]
    for name in names:
        # Drop and re-create: deleting every row instead makes the commit rewrite the table
        # (5 s instead of 0.4 s on large).
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.execute(schema.create_table_sql(schema.SUMMARY_TABLES[name]))
        _insert_summary(con, name, f'"{name}"')
        con.execute(
            "INSERT OR REPLACE INTO schema_meta VALUES (?, ?)",
            [f"{STAMP_KEY}:{name}", select_source_stamp(con, name)],
        )
    if names:
        # the one stamp of all summaries before they had one each
        con.execute("DELETE FROM schema_meta WHERE key = ?", [STAMP_KEY])
        note_writes(con, *names)
    return names


def _read_only(con) -> bool:
    return bool(
        con.execute(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0][0]
    )


def _has_sources(con) -> bool:
    needed = sorted({"import_log", "schema_meta"} | summary_sources())
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND list_contains(?, table_name)",
        [needed],
    ).fetchall()[0][0]
    return found == len(needed)


def select_stale_summaries(con) -> list[str]:
    """The summaries whose stored stamp does not match their source tables."""
    return [n for n in SUMMARIES if select_stored_stamp(con, n) != select_source_stamp(con, n)]


def ensure_summaries(con) -> bool:
    """Make the summaries this connection reads match the source tables; True if rebuilt.

    Every reader of a summary calls it first (a few milliseconds): a file written by a
    version without the summaries, or rows written by plain SQL (tests, tools), never give a
    stale answer. Only the stale summaries are rebuilt. Read-write: in place in one
    transaction. Read-only: as TEMP tables of this connection, which shadow the stale or
    missing ones for its queries.
    """
    if not _has_sources(con):
        return False
    stale = select_stale_summaries(con)
    if not stale:
        return False
    if not _read_only(con):
        # inside the caller's transaction (db.ensure_schema, a close of the year) the rebuild
        # is part of it; else it gets its own
        in_transaction = write_log.in_transaction(con)
        if not in_transaction:
            con.execute("BEGIN TRANSACTION")
        try:
            refresh_summaries(con, summary_sources(stale))
            if not in_transaction:
                con.execute("COMMIT")
        except BaseException:
            if not in_transaction:
                con.execute("ROLLBACK")
            raise
        return True
    con.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{TEMP_STAMP}" (name VARCHAR, value VARCHAR)')
    for name in stale:
        table = schema.SUMMARY_TABLES[name]
        cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in table.columns)
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" ({cols})')
        _insert_summary(con, name, f'temp."{name}"')
        con.execute(f'DELETE FROM temp."{TEMP_STAMP}" WHERE name = ?', [name])
        con.execute(
            f'INSERT INTO temp."{TEMP_STAMP}" VALUES (?, ?)', [name, select_source_stamp(con, name)]
        )
    return True
