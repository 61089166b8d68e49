"""The app before and after sign-in when the database is locked, newer, damaged, foreign or its
disk full: a localised page with what to do, no traceback, no path; recovery without restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db, schema
from kam_analytics.access import Scope
from kam_analytics.errors import DatabaseError, Reason, localise_fault
from tests.conftest import ROOT

TIMEOUT = 60
FAULT_TITLE = "KAM Analytics ist gerade nicht verfügbar"


def _app(path: Path, monkeypatch, scope: Scope | None = None) -> AppTest:
    monkeypatch.setenv("KAM_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if scope:
        at.session_state["scope"] = scope
    return at.run()


def _texts(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [i.value for i in at.info] + [t.value for t in at.title]
    return " ".join(str(p) for p in parts)


def _catalogue(reason: Reason, lang: str = "de", **values) -> tuple[str, str]:
    """What errors.toml says of a reason, as the page shows it (without the path)."""
    return localise_fault(DatabaseError(reason, path="/x", **values), lang)


def _assert_fault(at: AppTest, path: Path, reason: Reason, **values) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [FAULT_TITLE]
    # the reason's catalogue texts, word for word: one text per reason
    message, hint = _catalogue(reason, **values)
    assert [e.value for e in at.error] == [message]
    assert [i.value for i in at.info] == [hint]
    assert str(path) not in _texts(at) and path.name not in _texts(at)
    assert any(b.label == "Erneut versuchen" for b in at.button)


def _assert_recovered(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert FAULT_TITLE not in [t.value for t in at.title]


_HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def test_locked_database_sign_in_page_then_retry(tmp_path, monkeypatch):
    path = tmp_path / "kam.duckdb"
    db.connect(path).close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"holding"
        at = _app(path, monkeypatch)
        _assert_fault(at, path, Reason.DATABASE_LOCKED)
    finally:
        holder.kill()
        holder.wait()
    next(b for b in at.button if b.label == "Erneut versuchen").click().run()
    _assert_recovered(at)


@pytest.mark.parametrize("kind", ["newer", "truncated", "foreign"])
def test_unusable_file_gets_its_page_and_stays_unchanged(kind, tmp_path, monkeypatch):
    path = tmp_path / "kam.duckdb"
    if kind == "foreign":
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE fremd (a INTEGER)")
        con.close()
        expected = Reason.NOT_KAM_DATABASE
    else:
        con = db.connect(path)
        con.execute(
            "UPDATE schema_meta SET value = ? WHERE key = 'schema_version'",
            [str(schema.SCHEMA_VERSION + 1)],
        )
        con.close()
        expected = Reason.SCHEMA_TOO_NEW
        if kind == "truncated":
            path.write_bytes(path.read_bytes()[:5000])
            expected = Reason.DATABASE_CORRUPT
    before = path.read_bytes()
    at = _app(path, monkeypatch, Scope(username="admin", role="admin"))
    versions = {"version": schema.SCHEMA_VERSION + 1, "supported": schema.SCHEMA_VERSION}
    _assert_fault(at, path, expected, **(versions if kind == "newer" else {}))
    assert path.read_bytes() == before


def test_english_fault_page(tmp_path, monkeypatch):
    path = tmp_path / "kam.duckdb"
    path.write_bytes(os.urandom(10_000))
    monkeypatch.setenv("KAM_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["KAM Analytics is not available right now"]
    assert [e.value for e in at.error] == [_catalogue(Reason.DATABASE_CORRUPT, "en")[0]]
    assert "damaged or not a database" in _texts(at)


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(mount)], capture_output=True
    )
    if res.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_then_space_freed_app_recovers_without_restart(small_disk, demo_db, monkeypatch):
    path = small_disk / "kam.duckdb"
    path.write_bytes(Path(demo_db).read_bytes())
    at = _app(path, monkeypatch, Scope(username="admin", role="admin"))
    _assert_recovered(at)
    from ui.session import _shared_connection

    shared = _shared_connection(str(path))
    cur = shared.cursor()
    ballast = small_disk / "ballast"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    ballast.write_bytes(b"\0" * max(free - 3_000_000, 0))
    cur.execute("CREATE TABLE filler (a VARCHAR)")
    for _ in range(100):
        for sql in (
            "INSERT INTO filler SELECT md5(random()::VARCHAR) FROM range(50000)",
            "CHECKPOINT",
        ):
            try:
                cur.execute(sql)
            except duckdb.Error:
                pass
        if not shared.healthy(shared.cursor()):
            break
    assert not shared.healthy(shared.cursor())
    # Every session now: the disk is still full, so a clear page instead of a traceback.
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [FAULT_TITLE]
    ballast.unlink()
    next(b for b in at.button if b.label == "Erneut versuchen").click().run()
    _assert_recovered(at)
    shared = _shared_connection(str(path))
    shared.cursor().execute("DROP TABLE IF EXISTS filler")
