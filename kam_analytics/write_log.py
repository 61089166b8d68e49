"""Which tables each write changed, so the read-only copy refills only those (replica.py).

Every writer records the tables it changes, inside its own write transaction:
`note_writes(con, *tables)` where it has a transaction already, `with writing(con, *tables):`
around statements that have none (it opens one unless the caller has). A table's state is
then `select_write_states`: how many writes it had and the XOR of their random tokens.

Why rows and not one counter per table: two transactions updating the same counter row
conflict in DuckDB ("Conflict on update"), so an import of a minute would make every setting
or sign-in written meanwhile fail; inserted rows never conflict. Why a count of rows and not
the largest id: a transaction that took its id early and commits late would not raise the
largest. Why a random token: a count can come back (a backup put in place of the file and the
same imports done again), a random token does not.

`fold_write_log` replaces the rows by one per table with the same count and XOR (the app's
worker calls it: sign-ins write a row a minute). tests/test_write_log.py runs every write path
of the product and fails for a table whose rows changed while its state did not.
"""

from __future__ import annotations

from contextlib import contextmanager

from kam_analytics import schema

FOLD_ROWS = 1000  # more rows than this in the log: the worker folds it


def in_transaction(con) -> bool:
    """Whether an explicit transaction is open (autocommit gives each statement a new id)."""
    first = con.execute("SELECT txid_current()").fetchall()[0][0]
    return con.execute("SELECT txid_current()").fetchall()[0][0] == first


def note_writes(con, *tables: str) -> None:
    """Record in the caller's open transaction that `tables` (declared names) were written."""
    unknown = set(tables) - set(schema.ALL_TABLES)
    if unknown:
        raise ValueError(f"not a declared table: {sorted(unknown)}")
    if not tables:
        return
    con.execute(
        "INSERT INTO write_log (table_name, writes, token) "
        "SELECT t, 1, CAST(hash(gen_random_uuid()) >> 1 AS BIGINT) "
        "FROM unnest(CAST(? AS VARCHAR[])) AS u(t)",
        [sorted(set(tables))],
    )


@contextmanager
def writing(con, *tables: str):
    """The statements inside and their note in one transaction (the caller's, if it has one)."""
    if in_transaction(con):
        yield
        note_writes(con, *tables)
        return
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        note_writes(con, *tables)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    # outside the try: a failed COMMIT has ended the transaction and raises its own error
    con.execute("COMMIT")


def select_write_states(con, catalog: str | None = None) -> dict[str, str]:
    """Per table with writes: "<writes>:<XOR of tokens>" (changes with every committed write)."""
    prefix = f'"{catalog}".' if catalog else ""
    rows = con.execute(
        f"SELECT table_name, sum(writes), bit_xor(token) FROM {prefix}write_log GROUP BY ALL"
    ).fetchall()
    return {name: f"{n}:{x}" for name, n, x in rows}


def fold_write_log(con, limit: int = FOLD_ROWS) -> bool:
    """Replace the log's rows by one per table with the same states, when it has more than
    `limit`; True if folded.

    One transaction: it deletes only the rows its snapshot sees, so a write committing
    meanwhile keeps its row (and a second folder conflicts instead of losing rows).
    """
    if con.execute("SELECT count(*) FROM write_log").fetchall()[0][0] <= limit:
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        folded = con.execute(
            "SELECT table_name, sum(writes), bit_xor(token) FROM write_log GROUP BY ALL"
        ).fetchall()
        con.execute("DELETE FROM write_log")
        con.executemany(
            "INSERT INTO write_log (table_name, writes, token) VALUES (?, ?, ?)", folded
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return True
