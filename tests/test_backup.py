"""Backups and restore: consistent copies, schema-version check, retention of automatic backups."""

from __future__ import annotations

import duckdb
import pytest

from kam_analytics import backup, db, schema
from kam_analytics.errors import DatabaseError, SchemaTooNewError
from tests.conftest import run_cli


def _counts(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]
            for t in schema.ALL_TABLES
            if t != "schema_meta"
        }
    finally:
        con.close()


def test_backup_cli_copies_every_row_and_says_as_of_which_import(demo_copy, tmp_path):
    out = tmp_path / "copy.duckdb"
    res = run_cli("backup", "--db", demo_copy, "--out", out)
    assert res.returncode == 0, res.stderr
    assert _counts(out) == _counts(demo_copy)
    con = duckdb.connect(str(out), read_only=True)
    meta = backup.read_copy_meta(con)
    con.close()
    assert meta["last_import_id"] == "7"  # the small demo's seven imports
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)
    assert "last import 7" in res.stdout


def test_restore_brings_back_the_state_before_a_bad_import(demo_copy, tmp_path):
    out = tmp_path / "before.duckdb"
    assert run_cli("backup", "--db", demo_copy, "--out", out).returncode == 0
    before = _counts(demo_copy)
    con = db.connect(demo_copy)
    con.execute("DELETE FROM orders WHERE order_date < DATE '2025-01-01'")
    con.execute("INSERT INTO settings VALUES ('retention.gap_factor', '3', now(), 'x')")
    con.close()
    assert _counts(demo_copy)["orders"] < before["orders"]
    res = run_cli("restore", "--db", demo_copy, "--from", out, "--user", "tester")
    assert res.returncode == 0, res.stderr
    after = _counts(demo_copy)
    assert after["orders"] == before["orders"]
    assert after["settings"] == before["settings"]
    assert after["audit_log"] == before["audit_log"] + 1  # the restore itself is audited
    con = db.connect(demo_copy)
    try:
        row = con.execute(
            "SELECT username, action, target FROM audit_log ORDER BY audit_id DESC LIMIT 1"
        ).fetchall()[0]
        assert row == ("tester", "restore", "before.duckdb")
        # ids never go backwards: the next import id is above every id the file has seen
        nxt = con.execute("SELECT nextval('import_id_seq')").fetchall()[0][0]
        assert nxt > con.execute("SELECT max(import_id) FROM import_log").fetchall()[0][0]
    finally:
        con.close()
    # the state before the restore was kept as an automatic backup
    saved = backup.list_backups(demo_copy)
    assert len(saved) == 1 and "before-restore" in saved[0].name
    assert _counts(saved[0])["orders"] < before["orders"]


def test_restore_refuses_a_newer_backup_with_exit_2(demo_copy, tmp_path):
    newer = tmp_path / "newer.duckdb"
    con = db.connect(newer)
    con.execute(
        "UPDATE schema_meta SET value = ? WHERE key = 'schema_version'",
        [str(schema.SCHEMA_VERSION + 1)],
    )
    con.close()
    before = _counts(demo_copy)
    res = run_cli("restore", "--db", demo_copy, "--from", newer)
    assert res.returncode == 2
    assert f"schema version {schema.SCHEMA_VERSION + 1}" in res.stderr
    assert "Traceback" not in res.stderr
    assert _counts(demo_copy) == before
    with pytest.raises(SchemaTooNewError):
        backup.check_backup(newer)


def test_restore_refuses_a_foreign_file_with_exit_2(demo_copy, tmp_path):
    other = tmp_path / "other.duckdb"
    c = duckdb.connect(str(other))
    c.execute("CREATE TABLE t (x INT)")
    c.close()
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database", encoding="utf-8")
    for bad in (other, text):
        res = run_cli("restore", "--db", demo_copy, "--from", bad)
        assert res.returncode == 2, res.stderr
        assert "is not a backup of a KAM Analytics database" in res.stderr
    with pytest.raises(DatabaseError):
        backup.check_backup(tmp_path / "missing.duckdb")


def test_automatic_backups_keep_the_newest_n(demo_copy, monkeypatch):
    monkeypatch.setenv(backup.KEEP_ENV, "2")
    con = db.connect(demo_copy)
    try:
        made = [backup.auto_backup(con, demo_copy, f"before-import{n}") for n in range(3)]
        kept = backup.list_backups(demo_copy)
        assert kept == [made[2], made[1]]
        monkeypatch.setenv(backup.KEEP_ENV, "0")
        assert backup.auto_backup(con, demo_copy, "before-import") is None
        monkeypatch.delenv(backup.KEEP_ENV)
        assert backup.backup_keep(con) == backup.DEFAULT_KEEP
        con.execute("INSERT INTO settings VALUES ('backup.keep', '4', now(), 'x')")
        assert backup.backup_keep(con) == 4
    finally:
        con.close()


def test_copy_is_one_consistent_state_while_another_cursor_writes(demo_copy, tmp_path):
    import threading

    con = db.connect(demo_copy)
    stop = threading.Event()

    def write():
        cur = con.cursor()
        while not stop.is_set():
            # Two rows in one transaction: a torn copy would hold an odd number of them.
            cur.execute("BEGIN TRANSACTION")
            cur.execute(
                "INSERT INTO audit_log VALUES (nextval('audit_id_seq'), now(), 'w', 'x', "
                "'', NULL, NULL), (nextval('audit_id_seq'), now(), 'w', 'x', '', NULL, NULL)"
            )
            cur.execute("COMMIT")

    t = threading.Thread(target=write)
    t.start()
    try:
        for n in range(3):
            out = tmp_path / f"c{n}.duckdb"
            meta = backup.copy_database(con, out)
            c = duckdb.connect(str(out), read_only=True)
            k, top = c.execute(
                "SELECT count(*), max(audit_id) FROM audit_log WHERE username='w'"
            ).fetchall()[0]
            c.close()
            assert k % 2 == 0
            assert meta["last_audit_id"] == (top if k else meta["last_audit_id"])
    finally:
        stop.set()
        t.join()
        con.close()


def test_automatic_backup_from_the_read_only_copy_holds_every_write_since(demo_copy):
    from kam_analytics import replica

    con = db.connect(demo_copy)
    try:
        replica.refresh_replica(con, demo_copy)
        # a write the read-only copy does not have yet (not even audited)
        con.execute("INSERT INTO settings VALUES ('retention.gap_factor', '3', now(), 'x')")
        con.execute("DELETE FROM orders WHERE order_date < DATE '2024-01-01'")
        made = backup.auto_backup(con, demo_copy, "before-import")
        c = duckdb.connect(str(made), read_only=True)
        try:
            assert replica.select_table_states(c) == replica.select_table_states(con)
            # a copy holds the imported tables without their key index (on the 10x company
            # it does not fit in the memory limit); the app's own tables keep theirs
            keys = dict(
                c.execute(
                    "SELECT table_name, count(*) FROM duckdb_constraints() "
                    "WHERE constraint_type = 'PRIMARY KEY' GROUP BY 1"
                ).fetchall()
            )
            assert "orders" not in keys and "accounts" not in keys
            assert keys["schema_meta"] == 1 and keys["users"] == 1
        finally:
            c.close()
    finally:
        con.close()


def test_a_copy_without_keys_restores_into_keyed_tables_that_still_refuse_duplicates(
    demo_copy, tmp_path
):
    con = db.connect(demo_copy)
    try:
        made = tmp_path / "copy.duckdb"
        backup.copy_database(con, made)
        rows = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
        con.execute("DELETE FROM orders WHERE order_date < DATE '2025-01-01'")
        backup.restore_into(con, made, "admin")
        assert con.execute("SELECT count(*) FROM orders").fetchall()[0][0] == rows
        # the live tables kept their keys, and the process its memory limit
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue) "
                "SELECT order_id, line_no, account_id, order_date, net_revenue FROM orders LIMIT 1"
            )
        assert con.execute(
            "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
        ).fetchall() == [("953.6 MiB",)]
        # the copy is a whole database: views, macros and the summary read as in the original
        c = duckdb.connect(str(made), read_only=True)
        try:
            for sql in (
                "SELECT count(*), sum(list_value) FROM service_events_all",
                "SELECT count(*) FROM visible_accounts(NULL)",
                "SELECT count(*), sum(revenue) FROM order_days",
            ):
                assert c.execute(sql).fetchall() == con.execute(sql).fetchall()
        finally:
            c.close()
    finally:
        con.close()
