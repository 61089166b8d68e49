"""Schema creation, additive migration of older files, refusal of newer files, path resolution."""

from __future__ import annotations

import gc

import duckdb
import pytest

from kam_analytics import db, schema
from kam_analytics.cli import main as cli_main
from kam_analytics.errors import SchemaTooNewError


def _tables(con) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def _columns(con, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def test_fresh_file_gets_every_table_view_and_version(db_path):
    assert not db_path.exists()
    con = db.connect(db_path)
    try:
        tables = _tables(con)
        assert set(schema.ALL_TABLES) <= tables
        assert "service_events_all" in tables  # the view
        assert db.read_schema_version(con) == schema.SCHEMA_VERSION
        for table in schema.ALL_TABLES.values():
            assert _columns(con, table.name) == [c.name for c in schema.table_columns(table)]
        # importable tables carry lineage columns, app tables do not
        assert _columns(con, "orders")[-2:] == ["import_id", "source_row"]
        assert "import_id" not in _columns(con, "users")
        assert con.execute("SELECT count(*) FROM service_catalogue").fetchall()[0][0] == 12
        assert con.execute("SELECT count(*) FROM visible_accounts(NULL)").fetchall() == [(0,)]
    finally:
        con.close()
    assert db_path.exists()


def test_older_file_is_migrated_on_connect_and_keeps_its_data(db_path):
    con = db.connect(db_path)
    con.execute("INSERT INTO accounts (account_id, name, tier) VALUES ('K1', 'Alt GmbH', 'KEY')")
    con.execute("DROP TABLE feedback")
    con.execute("ALTER TABLE accounts DROP COLUMN status")
    con.execute("UPDATE schema_meta SET value = '0' WHERE key = 'schema_version'")
    con.close()

    raw = duckdb.connect(str(db_path))
    assert "feedback" not in _tables(raw)
    assert "status" not in _columns(raw, "accounts")
    raw.close()

    con = db.connect(db_path)
    try:
        assert "feedback" in _tables(con)
        assert _columns(con, "feedback") == [c.name for c in schema.table_columns(schema.FEEDBACK)]
        assert "status" in _columns(con, "accounts")
        assert db.read_schema_version(con) == schema.SCHEMA_VERSION
        assert con.execute("SELECT account_id, name, tier, status FROM accounts").fetchall() == [
            ("K1", "Alt GmbH", "KEY", None)
        ]
    finally:
        con.close()


def test_newer_file_is_refused_with_its_name(db_path):
    con = db.connect(db_path)
    con.execute(
        "UPDATE schema_meta SET value = ? WHERE key = 'schema_version'",
        [str(schema.SCHEMA_VERSION + 1)],
    )
    con.close()
    with pytest.raises(SchemaTooNewError) as info:
        db.connect(db_path)
    assert str(db_path) in info.value.message
    assert f"schema version {schema.SCHEMA_VERSION + 1}" in info.value.message
    assert info.value.code == "schema_too_new"
    # db.connect leaves the refused connection open until it is garbage collected (reported);
    # drop the traceback that holds it before opening the file read-only.
    del info
    gc.collect()
    with pytest.raises(SchemaTooNewError):
        db.connect(db_path, read_only=True)


def test_resolve_db_path_argument_env_default(monkeypatch, tmp_path):
    monkeypatch.delenv("KAM_DB", raising=False)
    assert db.resolve_db_path(None) == db.DEFAULT_DB
    assert db.DEFAULT_DB.name == "kam.duckdb"
    monkeypatch.setenv("KAM_DB", str(tmp_path / "env.duckdb"))
    assert db.resolve_db_path(None) == tmp_path / "env.duckdb"
    # an explicit path (--db) wins over $KAM_DB
    assert db.resolve_db_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"
    assert db.resolve_db_path(str(tmp_path / "arg.duckdb")) == tmp_path / "arg.duckdb"


def test_cli_uses_db_option_then_env(monkeypatch, tmp_path, capsys):
    env_file, arg_file = tmp_path / "env.duckdb", tmp_path / "arg.duckdb"
    monkeypatch.setenv("KAM_DB", str(env_file))
    # `info` reads: it refuses a file that does not exist (tests/test_db_faults.py).
    assert cli_main(["info"]) == 2 and not env_file.exists()
    capsys.readouterr()
    db.connect(env_file).close()
    assert cli_main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"database:       {env_file}" in out
    assert f"schema version: {schema.SCHEMA_VERSION}" in out
    assert env_file.exists() and not arg_file.exists()
    db.connect(arg_file).close()
    assert cli_main(["info", "--db", str(arg_file)]) == 0
    assert f"database:       {arg_file}" in capsys.readouterr().out
    assert arg_file.exists()


def test_cli_reports_too_new_file_as_user_error(db_path, capsys):
    con = db.connect(db_path)
    con.execute(
        "UPDATE schema_meta SET value = ? WHERE key = 'schema_version'",
        [str(schema.SCHEMA_VERSION + 1)],
    )
    con.close()
    assert cli_main(["info", "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The database ")
    assert str(db_path) in err
