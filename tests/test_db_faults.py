"""Database faults: missing, foreign, truncated, newer, locked, disk full. Each gets exit 2 and
a message with what to do; files of others stay byte-identical; the app reconnects after."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from kam_analytics import db, schema
from kam_analytics.errors import DatabaseError, DatabaseLockedError, SchemaTooNewError
from tests.conftest import ROOT, run_cli

READ_COMMANDS = (
    ["info"],
    ["report", "services"],
    ["imports", "list"],
    ["deck", "--review", "--year", "2025", "--out", "x.pptx"],
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_read_commands_refuse_a_missing_file_and_create_nothing(command, tmp_path):
    path = tmp_path / "tippfehler.duckdb"
    res = run_cli(*command, "--db", path)
    assert res.returncode == 2, res.stderr
    assert f"error: The database {path} does not exist" in res.stderr
    assert "Traceback" not in res.stderr
    assert not path.exists()


def test_foreign_duckdb_file_refused_byte_identical(tmp_path):
    path = tmp_path / "fremd.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE kunden (nr INTEGER, name VARCHAR)")
    con.execute("INSERT INTO kunden VALUES (1, 'Meier')")
    con.close()
    before = _sha(path)
    with pytest.raises(DatabaseError) as info:
        db.connect(path)
    assert info.value.code == "not_kam_database"
    res = run_cli("info", "--db", path)
    assert res.returncode == 2
    assert "is a DuckDB database of another program, not of KAM Analytics" in res.stderr
    assert _sha(path) == before
    assert not Path(f"{path}.wal").exists()
    check = duckdb.connect(str(path), read_only=True)
    tables = [
        r[0] for r in check.execute("SELECT table_name FROM information_schema.tables").fetchall()
    ]
    check.close()
    assert tables == ["kunden"]


def test_empty_duckdb_file_is_initialised(tmp_path):
    """A DuckDB file with no tables at all is a new database, not somebody else's."""
    path = tmp_path / "leer.duckdb"
    duckdb.connect(str(path)).close()
    con = db.connect(path)
    assert db.read_schema_version(con) == schema.SCHEMA_VERSION
    con.close()


@pytest.mark.parametrize("kind", ["truncated", "garbage"])
def test_damaged_file_refused_unchanged(kind, tmp_path):
    good = tmp_path / "good.duckdb"
    db.connect(good).close()
    path = tmp_path / f"{kind}.duckdb"
    data = good.read_bytes()[:5000] if kind == "truncated" else os.urandom(20_000)
    path.write_bytes(data)
    with pytest.raises(DatabaseError) as info:
        db.connect(path)
    assert info.value.code == "database_corrupt"
    res = run_cli("info", "--db", path)
    assert res.returncode == 2
    assert f"error: The database {path} is damaged or not a database file" in res.stderr
    assert "Restore the last backup" in res.stderr
    assert path.read_bytes() == data


def test_newer_schema_refused_unchanged(db_path):
    con = db.connect(db_path)
    con.execute(
        "UPDATE schema_meta SET value = ? WHERE key = 'schema_version'",
        [str(schema.SCHEMA_VERSION + 1)],
    )
    con.close()
    before = _sha(db_path)
    with pytest.raises(SchemaTooNewError):
        db.connect(db_path)
    res = run_cli("imports", "list", "--db", db_path)
    assert res.returncode == 2 and "Update KAM Analytics" in res.stderr
    assert _sha(db_path) == before


_HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.mark.slow
def test_locked_file_refused_then_usable_when_released(db_path):
    db.connect(db_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db_path), "60"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(DatabaseLockedError):
            db.connect(db_path)
        res = run_cli("info", "--db", db_path)
        assert res.returncode == 2
        assert "is in use by another program" in res.stderr
        assert "Traceback" not in res.stderr
    finally:
        holder.kill()
        holder.wait()
    assert run_cli("info", "--db", db_path).returncode == 0


# --- disk full -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 20 MB tmpfs (needs root); skipped where it cannot be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {res.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill_until_invalidated(shared, cur) -> list[duckdb.Error]:
    """Write until DuckDB gives the database up (a checkpoint that cannot be written)."""
    cur.execute("CREATE TABLE IF NOT EXISTS filler (a VARCHAR)")
    errors = []
    for _ in range(100):
        for sql in (
            "INSERT INTO filler SELECT md5(random()::VARCHAR) FROM range(50000)",
            "CHECKPOINT",
        ):
            try:
                cur.execute(sql)
            except duckdb.Error as exc:
                errors.append(exc)
        if errors and not shared.healthy(shared.cursor()):
            return errors
    raise AssertionError(f"the database was never invalidated: {errors[:2]}")


def test_disk_full_is_reported_and_the_shared_connection_recovers(small_disk):
    path = small_disk / "kam.duckdb"
    shared = db.SharedConnection(path)
    ballast = small_disk / "ballast"  # somebody else's files on the same disk
    ballast.write_bytes(b"\0" * 12_000_000)
    session_a, session_b = shared.cursor(), shared.cursor()
    session_a.execute("INSERT INTO settings VALUES ('probe', '1', now(), 'test')")
    for exc in _fill_until_invalidated(shared, session_a):
        fault = db.translate_error(exc, path)
        assert fault is not None and fault.code in ("disk_full", "database_invalidated"), exc
        assert "reconnects by itself" in fault.hint
    # Every cursor of the instance is dead now, the other session's too.
    assert not shared.healthy(session_b)
    generation = shared.generation
    # While the disk is still full, reopening fails with the same clear error ...
    with pytest.raises(DatabaseError) as info:
        shared.reopen(generation)
    assert info.value.code in ("disk_full", "database_invalidated")
    assert shared.generation == generation
    # ... and once space is freed it works, without restarting anything.
    ballast.unlink()
    shared.reopen(generation)
    shared.reopen(generation)  # a second session finding the same break reopens nothing
    assert shared.generation == generation + 1
    cur = shared.cursor()
    assert shared.healthy(cur)
    # What was committed before the failure is there; the failed statement is not half there.
    assert cur.execute("SELECT value FROM settings WHERE key = 'probe'").fetchall() == [("1",)]
    cur.execute("DROP TABLE filler")
    cur.execute("CHECKPOINT")
    cur.execute("INSERT INTO settings VALUES ('after', '2', now(), 'test')")
    assert cur.execute("SELECT count(*) FROM settings WHERE key = 'after'").fetchall() == [(1,)]
    shared.close()


@pytest.mark.slow
def test_disk_full_during_cli_import_exit_2(small_disk, tmp_path):
    path = small_disk / "kam.duckdb"
    db.connect(path).close()
    # Leave about 1 MB free, then import 60,000 accounts.
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "ballast").write_bytes(b"\0" * max(free - 1_000_000, 0))
    csv = tmp_path / "accounts.csv"
    lines = ["account_id;name;tier;kam_id"] + [
        f"K{i:06d};Kunde {i} GmbH mit langem Namen {'x' * 40};A;" for i in range(60_000)
    ]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t = time.perf_counter()
    res = run_cli("import", csv, "--db", path, "--table", "accounts")
    assert time.perf_counter() - t < 60
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr[-2000:])
    assert "Traceback" not in res.stderr
    assert "is full" in res.stderr or "stopped after a write error" in res.stderr
    (small_disk / "ballast").unlink()
    # Space freed: the same file works again, and the failed import left nothing behind.
    res = run_cli("imports", "list", "--db", path, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
    con = db.connect(path)
    assert con.execute("SELECT count(*) FROM accounts").fetchall() == [(0,)]
    con.close()


def test_fault_page_texts_are_the_catalogue_texts_without_the_path():
    """One text per reason: the fault page says what errors.toml says, minus the file path."""
    from kam_analytics.errors import DatabaseLockedError, Reason, localise_fault, render_reason

    exc = DatabaseLockedError(Reason.DATABASE_LOCKED, path="/srv/kam/data.duckdb")
    assert exc.message == (
        "The database /srv/kam/data.duckdb is in use by another program (for example a "
        "command, a backup or a second instance of the app)"
    )
    message, hint = localise_fault(exc, "de")
    assert message == (
        "Die Datenbank wird von einem anderen Programm verwendet (zum Beispiel einem Befehl, "
        "einer Sicherung oder einer zweiten Instanz der Anwendung)"
    )
    assert hint == render_reason("database_locked", "de", {})[1]
    # a cause whose detail may name the path: the generic reason
    other = DatabaseError(Reason.DATABASE_UNOPENABLE, path="/srv/x.duckdb", detail="/srv/x")
    assert localise_fault(other, "en") == render_reason("database_unavailable", "en", {})
    assert "/srv" not in "".join(localise_fault(other, "en"))


def test_root_is_the_repo():
    assert (ROOT / "kam_analytics" / "db.py").is_file()
