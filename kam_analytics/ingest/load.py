"""Writing validated rows: one transaction per file, upsert by natural key, import log, undo.

Every row an import writes carries its import_id (lineage). For every row it changes,
import_changes keeps the key and the previous row as JSON. Undo restores the changed rows from
there and deletes the rows still carrying the import's id (the ones it inserted), which is
exactly the state before the import.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from dataclasses import dataclass, field

import pandas as pd

from kam_analytics import schema
from kam_analytics.audit import write_audit
from kam_analytics.errors import KamError, NotFoundError, Problem, Reason
from kam_analytics.snapshots import delete_snapshots_of
from kam_analytics.summaries import refresh_summaries
from kam_analytics.write_log import note_writes

# Test hook: seconds to sleep inside the transaction after the rows are written (kill test).
PAUSE_ENV = "KAM_TEST_PAUSE_AFTER_ROWS"


@dataclass
class ImportResult:
    """What one file's import did (or would do, for a dry run)."""

    file_name: str
    table: str
    sheet: str | None = None
    profile: str | None = None
    sha256: str = ""
    status: str = "done"  # done | dry_run | noop | blocked
    import_id: int | None = None
    rows_in_file: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    previous_import_id: int | None = None  # for a no-op: the import that loaded this content
    placeholders: int = 0  # accounts created for account ids the accounts table lacked

    def summary(self) -> str:
        """One line for the command line and the page."""
        where = self.file_name + (f" [{self.sheet}]" if self.sheet else "")
        if self.status == "noop":
            return (
                f"{where}: already imported as import {self.previous_import_id} "
                f"(same content) - nothing to do"
            )
        if self.status == "blocked":
            n = sum(1 for p in self.problems if p.severity == "error")
            return f"{where} -> {self.table}: {n} blocking problem(s), nothing written"
        verb = "would import" if self.status == "dry_run" else f"import {self.import_id}"
        warn = sum(1 for p in self.problems if p.severity != "error")
        return (
            f"{where} -> {self.table} ({verb}): {self.inserted} inserted, {self.updated} "
            f"updated, {self.unchanged} unchanged, {self.rejected} rejected"
            + (f", {warn} warning(s)" if warn else "")
            + (f"; {self.placeholders} placeholder account(s) created" if self.placeholders else "")
        )


def _q(name: str) -> str:
    return f'"{name}"'


def _cast(col: schema.Column, expr: str) -> str:
    if col.kind == "money":
        # 4 decimals as parsed (columns.MONEY_DECIMALS): no second rounding to cents.
        return f"CAST(ROUND({expr}, 4) AS {col.sql_type})"
    if col.kind == "date":
        return f"CAST({expr} AS DATE)"
    return f"CAST({expr} AS {col.sql_type})"


def select_done_import(con, sha256: str, table: str) -> int | None:
    """The import (not undone) that already loaded this exact file content into `table`."""
    rows = con.execute(
        "SELECT import_id FROM import_log WHERE sha256 = ? AND table_name = ? AND status = 'done' "
        "ORDER BY import_id DESC LIMIT 1",
        [sha256, table],
    ).fetchall()
    return rows[0][0] if rows else None


def select_account_ids(con) -> set[str]:
    """All account ids in the database (for the orphan check)."""
    return {r[0] for r in con.execute("SELECT account_id FROM accounts").fetchall()}


def _classify_sql(table: schema.Table, columns: list[str], source: str) -> str:
    """SELECT of the incoming rows with their action: insert, update or same."""
    key_join = " AND ".join(f"t.{_q(k)} = i.{_q(k)}" for k in table.key)
    changed = (
        " OR ".join(f"t.{_q(c)} IS DISTINCT FROM i.{_q(c)}" for c in columns if c not in table.key)
        or "FALSE"
    )
    first_key = _q(table.key[0])
    return (
        f"SELECT i.*, CASE WHEN t.{first_key} IS NULL THEN 'insert' "
        f"WHEN {changed} THEN 'update' ELSE 'same' END AS _action "
        f"FROM {source} i LEFT JOIN {_q(table.name)} t ON {key_join}"
    )


def _incoming_sql(table: schema.Table, columns: list[str], frame_name: str) -> str:
    casts = [f"{_cast(table.column(c), _q(c))} AS {_q(c)}" for c in columns]
    return f"SELECT {', '.join(casts)}, CAST(source_row AS INTEGER) AS source_row FROM {frame_name}"


def count_actions(con, table_name: str, frame: pd.DataFrame, columns: list[str]) -> dict:
    """Rows that would be inserted / updated / unchanged (dry run; writes nothing)."""
    table = schema.IMPORTABLE_TABLES[table_name]
    con.register("_kam_dry", frame)
    try:
        inc = _incoming_sql(table, columns, "_kam_dry")
        rows = con.execute(
            f"SELECT _action, count(*) FROM ({_classify_sql(table, columns, f'({inc})')}) "
            "GROUP BY _action"
        ).fetchall()
    finally:
        con.unregister("_kam_dry")
    counts = dict(rows)
    return {k: counts.get(k, 0) for k in ("insert", "update", "same")}


def insert_import_log(con, import_id: int, result: ImportResult, username: str, notes) -> None:
    """One row of import_log."""
    note_writes(con, "import_log")  # the caller's transaction (write_rows)
    con.execute(
        "INSERT INTO import_log (import_id, file_name, sha256, sheet, profile, table_name, "
        "rows_inserted, rows_updated, rows_unchanged, rows_rejected, username, imported_at, "
        "status, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', ?)",
        [
            import_id,
            result.file_name,
            result.sha256,
            result.sheet,
            result.profile,
            result.table,
            result.inserted,
            result.updated,
            result.unchanged,
            result.rejected,
            username,
            dt.datetime.now(),
            json.dumps(notes, ensure_ascii=False, default=str),
        ],
    )


def insert_placeholder_accounts(con, import_id: int) -> int:
    """Add an account row (name = id) for each account id of _kam_cls not in accounts."""
    note_writes(con, "accounts")  # the caller's transaction (write_rows)
    return con.execute(
        "INSERT INTO accounts (account_id, name, import_id) "
        "SELECT DISTINCT account_id, account_id, ? FROM _kam_cls "
        "WHERE account_id IS NOT NULL "
        "AND account_id NOT IN (SELECT account_id FROM accounts)",
        [import_id],
    ).fetchall()[0][0]


def write_rows(
    con,
    table_name: str,
    frame: pd.DataFrame,
    columns: list[str],
    result: ImportResult,
    username: str,
    progress=None,
) -> ImportResult:
    """Upsert the rows in one transaction and log them; all or nothing."""
    table = schema.IMPORTABLE_TABLES[table_name]
    tick = progress or (lambda share, text="": None)
    con.register("_kam_frame", frame)
    con.execute("BEGIN TRANSACTION")
    try:
        import_id = con.execute("SELECT nextval('import_id_seq')").fetchall()[0][0]
        tick(0.55, "classify")
        empty = not con.execute(f"SELECT 1 FROM {_q(table.name)} LIMIT 1").fetchall()
        if empty:
            # First load of the table: every row is new; skip the join with the target.
            con.execute(
                "CREATE OR REPLACE TEMP VIEW _kam_cls AS SELECT *, 'insert' AS _action FROM ("
                + _incoming_sql(table, columns, "_kam_frame")
                + ")"
            )
        else:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _kam_cls AS "
                + _classify_sql(table, columns, f"({_incoming_sql(table, columns, '_kam_frame')})")
            )
        counts = (
            {"insert": len(frame)}
            if empty
            else dict(
                con.execute("SELECT _action, count(*) FROM _kam_cls GROUP BY _action").fetchall()
            )
        )
        key_list = "[" + ", ".join(f"CAST(c.{_q(k)} AS VARCHAR)" for k in table.key) + "]"
        key_join = " AND ".join(f"t.{_q(k)} = c.{_q(k)}" for k in table.key)
        tick(0.65, "changes")
        ckey = f"CAST(to_json({key_list}) AS VARCHAR)"
        # Inserted rows are found again by their lineage column import_id (undo deletes them);
        # one log row each would double the load time of a large file. Updated rows keep their
        # previous state here.
        if counts.get("update"):
            note_writes(con, "import_changes", table.name)
            con.execute(
                "INSERT INTO import_changes (import_id, table_name, row_key, action, old_row) "
                f"SELECT ?, ?, {ckey}, 'update', CAST(to_json(t) AS JSON) "
                f"FROM _kam_cls c JOIN {_q(table.name)} t ON {key_join} "
                "WHERE c._action = 'update'",
                [import_id, table.name],
            )
        tick(0.75, "update")
        non_key = [c for c in columns if c not in table.key]
        if counts.get("update"):
            sets = ", ".join(f"{_q(c)} = c.{_q(c)}" for c in non_key)
            con.execute(
                f"UPDATE {_q(table.name)} AS t SET {sets}, import_id = ?, "
                f"source_row = c.source_row FROM _kam_cls c "
                f"WHERE c._action = 'update' AND {key_join}",
                [import_id],
            )
        tick(0.85, "insert")
        if counts.get("insert"):
            note_writes(con, table.name)
            cols = ", ".join(_q(c) for c in columns)
            con.execute(
                f"INSERT INTO {_q(table.name)} ({cols}, import_id, source_row) "
                f"SELECT {cols}, ?, source_row FROM _kam_cls WHERE _action = 'insert'",
                [import_id],
            )
        if table.name != "accounts" and "account_id" in columns:
            # Rows of unknown accounts stay visible in every per-account report: the account
            # gets a placeholder (name = its id, no tier) until the accounts export fills it in.
            result.placeholders = insert_placeholder_accounts(con, import_id)
        pause = os.environ.get(PAUSE_ENV)
        if pause:
            print(f"KAM_TEST_PAUSED import {import_id}", file=sys.stderr, flush=True)
            time.sleep(float(pause))
        result.import_id = int(import_id)
        result.inserted = int(counts.get("insert", 0))
        result.updated = int(counts.get("update", 0))
        result.unchanged = int(counts.get("same", 0))
        notes = {
            "warnings": sum(1 for p in result.problems if p.severity != "error"),
            "columns": columns,
        }
        insert_import_log(con, import_id, result, username, notes)
        write_audit(
            con,
            username,
            "import",
            f"{table.name}:{import_id}",
            None,
            {
                "file": result.file_name,
                "sha256": result.sha256,
                "inserted": result.inserted,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": result.rejected,
            },
        )
        con.execute(f"DROP {'VIEW' if empty else 'TABLE'} IF EXISTS _kam_cls")
        refresh_summaries(con, {table.name})  # in this transaction: never out of step
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_kam_frame")
    tick(1.0, "done")
    result.status = "done"
    return result


def select_import(con, import_id: int) -> dict | None:
    """One import_log row as a dict."""
    df = con.execute("SELECT * FROM import_log WHERE import_id = ?", [import_id]).df()
    return None if df.empty else df.iloc[0].to_dict()


def select_history_version(con) -> str:
    """A token of the import history: it changes with every import and every undo.

    The undo dialog keeps the token it was opened with; `undo_import` refuses when another
    admin imported or undid something in between (so a click never undoes what was not shown).
    """
    row = con.execute(
        "SELECT count(*), coalesce(max(import_id), 0), count(undone_at), "
        "CAST(max(undone_at) AS VARCHAR) FROM import_log"
    ).fetchall()[0]
    return ":".join(str(v) for v in row)


def undo_import(
    con, import_id: int, username: str = "system", expected_version: str | None = None
) -> dict:
    """Restore the rows an import inserted or changed to their state before it.

    With `expected_version` (from select_history_version when the user was shown the import),
    refuse if the history has changed since.
    """
    if expected_version is not None and select_history_version(con) != expected_version:
        raise KamError(Reason.HISTORY_CHANGED, id=import_id)
    log = select_import(con, import_id)
    if log is None:
        raise NotFoundError(Reason.IMPORT_NOT_FOUND, id=import_id)
    if log["status"] != "done":
        raise KamError(Reason.ALREADY_UNDONE, id=import_id)
    table = schema.IMPORTABLE_TABLES[log["table_name"]]
    key_list = "[" + ", ".join(f"CAST(t.{_q(k)} AS VARCHAR)" for k in table.key) + "]"
    tkey = f"CAST(to_json({key_list}) AS VARCHAR)"
    con.execute("BEGIN TRANSACTION")
    try:
        # Rows of this import that a later import changed again: their previous state, kept by
        # that later import, carries this import's id.
        later = con.execute(
            "SELECT DISTINCT ch.import_id FROM import_changes ch JOIN import_log l "
            "ON l.import_id = ch.import_id WHERE ch.import_id > ? AND ch.table_name = ? "
            "AND l.status = 'done' AND TRY_CAST(json_extract_string(ch.old_row, '$.import_id') "
            "AS BIGINT) = ?",
            [import_id, table.name, import_id],
        ).fetchall()
        if later:
            ids = sorted(r[0] for r in later)
            raise KamError(Reason.UNDO_CONFLICT, id=import_id, ids=", ".join(map(str, ids)))
        cols = [c for c in schema.table_columns(table) if c.name not in table.key]
        sets = ", ".join(
            f"{_q(c.name)} = CAST(json_extract_string(ch.old_row, '$.{c.name}') AS {c.sql_type})"
            for c in cols
        )
        restored = con.execute(
            f"UPDATE {_q(table.name)} AS t SET {sets} FROM import_changes ch "
            f"WHERE ch.import_id = ? AND ch.table_name = ? AND ch.action = 'update' "
            f"AND ch.row_key = {tkey}",
            [import_id, table.name],
        ).fetchall()[0][0]
        deleted = con.execute(
            f"DELETE FROM {_q(table.name)} WHERE import_id = ?", [import_id]
        ).fetchall()[0][0]
        note_writes(con, table.name, "accounts", "import_log")
        if table.name != "accounts":
            # Placeholder accounts this import created (still untouched by a later import).
            con.execute("DELETE FROM accounts WHERE import_id = ?", [import_id])
        con.execute(
            "UPDATE import_log SET status = 'undone', undone_at = ? WHERE import_id = ?",
            [dt.datetime.now(), import_id],
        )
        summary = {"deleted": int(deleted), "restored": int(restored)}
        write_audit(con, username, "import_undo", f"{table.name}:{import_id}", None, summary)
        # the change report forgets the batch this import belonged to (snapshots.py)
        delete_snapshots_of(con, import_id)
        refresh_summaries(con, {table.name})  # in this transaction: never out of step
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"import_id": import_id, "table": table.name, **summary}


# Tables whose rows refer to an account, and to a KAM.
_ACCOUNT_REFERENCES = ("orders", "shipments", "service_events", "mandates", "feedback")


def select_undo_impact(con, import_id: int) -> dict[str, int]:
    """What undoing an import leaves without its account (or KAM): rows of other tables per
    table that refer to an account (KAM) this import inserted. Empty when nothing depends."""
    log = select_import(con, import_id)
    if log is None or log["status"] != "done":
        return {}
    table = log["table_name"]
    out: dict[str, int] = {}
    if table == "accounts":
        for ref in _ACCOUNT_REFERENCES:
            n = con.execute(
                f"SELECT count(*) FROM {_q(ref)} WHERE account_id IN "
                "(SELECT account_id FROM accounts WHERE import_id = ?) AND import_id <> ?",
                [import_id, import_id],
            ).fetchall()[0][0]
            if n:
                out[ref] = int(n)
    elif table == "kams":
        n = con.execute(
            "SELECT count(*) FROM accounts WHERE kam_id IN "
            "(SELECT kam_id FROM kams WHERE import_id = ?)",
            [import_id],
        ).fetchall()[0][0]
        if n:
            out["accounts"] = int(n)
    return out


def describe_undo_impact(impact: dict[str, int], table: str) -> str | None:
    """The undo warning in words, or None when nothing depends on the import."""
    if not impact:
        return None
    what = "account" if table == "accounts" else "KAM"
    parts = ", ".join(f"{n} {t} row(s)" for t, n in impact.items())
    return (
        f"{parts} refer to {what}s this import created and will lose their {what} "
        f"(they show as unknown until the {what}s are imported again)"
    )


def list_imports(con, limit: int = 1000) -> pd.DataFrame:
    """The import log, newest first."""
    return con.execute(
        "SELECT import_id, imported_at, username, file_name, sheet, profile, table_name, "
        "rows_inserted, rows_updated, rows_unchanged, rows_rejected, status, undone_at, sha256 "
        "FROM import_log ORDER BY import_id DESC LIMIT ?",
        [limit],
    ).df()
