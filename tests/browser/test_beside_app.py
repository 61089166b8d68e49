"""Issue 16: the monthly cycle while the app runs — inbox, command line and backup beside it.

The app is a real streamlit server on a copy of the demo company. Nobody signs in for the
inbox test: ui.warm_up opens one session without a browser, which starts the app's worker.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest

from kam_analytics import replica
from kam_analytics.i18n import t
from tests.browser.conftest import main_text, open_page, running_app, settle, sign_in
from tests.browser.test_journeys import options_of
from tests.conftest import DATA, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _wait(predicate, timeout: float = 90.0, what: str = ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _started(server) -> None:
    """Start the app's worker without a browser and wait for its read-only copy."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    # In a process of its own, as the service unit runs it (and Playwright's loop is not in it).
    subprocess.run(
        [sys.executable, "-m", "ui.warm_up", server.url], cwd=ROOT, check=True, timeout=120
    )
    _wait(lambda: replica.replica_path(server.db_path).exists(), what="the read-only copy")


def _copy_rows(server, sql: str, params=()) -> list:
    """A query on the app's read-only copy (the app holds the database itself)."""
    con = duckdb.connect(str(replica.replica_path(server.db_path)), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture
def settle_one_second(monkeypatch):
    monkeypatch.setenv("KAM_INBOX_SETTLE", "1")
    monkeypatch.delenv("KAM_INBOX", raising=False)


def test_inbox_imports_good_refuses_bad_and_leaves_half_written(
    demo_db, tmp_path, settle_one_second
):
    with running_app(tmp_path, demo_db) as server:
        _started(server)
        inbox = server.db_path.parent / "inbox"
        stop = threading.Event()
        growing = inbox / "Auftraege_November.csv"

        def write_slowly():
            # A copy over a slow share: the file keeps growing for the whole test.
            with growing.open("ab") as f:
                f.write(b"Auftragsnummer;Kundennummer;Auftragsdatum;Umsatz\n")
                n = 0
                while not stop.is_set():
                    n += 1
                    f.write(f"B-{n};0815;01.11.2025;{n},00\n".encode())
                    f.flush()
                    time.sleep(0.2)

        writer = threading.Thread(target=write_slowly)
        writer.start()
        try:
            shutil.copy(DATA / "accounts_utf8_bom.csv", inbox / "Kunden.csv.part")
            shutil.copy(DATA / "service_events_tab.txt", inbox / "Leistungen_Maerz.txt")
            shutil.copy(DATA / "err_unknown_tier.csv", inbox / "Kunden_Maerz.csv")
            done = _wait(lambda: list((inbox / "done").glob("*_Leistungen_Maerz.txt")), what="done")
            failed = _wait(
                lambda: list((inbox / "failed").glob("*_Kunden_Maerz.csv")), what="failed"
            )
            time.sleep(3)  # a few more scans: the growing file must still be left alone
            assert growing.exists() and (inbox / "Kunden.csv.part").exists()
            assert not list((inbox / "done").glob("*Auftraege*"))
            assert not list((inbox / "failed").glob("*Auftraege*"))
        finally:
            stop.set()
            writer.join()
        # Once the copy has finished (the file stops changing) it is taken as well.
        _wait(lambda: list((inbox / "done").glob("*_Auftraege_November.csv")), what="late file")
        report = Path(f"{failed[0]}.report.de.txt").read_text(encoding="utf-8")
        assert "'Platin'" in report and "Zeile 2" in report
        assert Path(f"{done[0]}.report.en.csv").exists()

        # History (through the command line beside the app) and audit log name the inbox.
        res = run_cli("imports", "list", "--db", server.db_path, "--format", "json")
        assert res.returncode == 0, res.stderr
        assert "read-only copy as of" in res.stderr
        history = json.loads(res.stdout)
        newest = next(h for h in history if h["file_name"] == "Leistungen_Maerz.txt")
        assert (newest["username"], newest["table_name"], newest["rows_inserted"]) == (
            "Inbox",
            "service_events",
            3,
        )
        assert not any(h["file_name"] == "Kunden_Maerz.csv" for h in history)
        audit = _copy_rows(
            server,
            "SELECT action, target FROM audit_log WHERE username = 'Inbox' ORDER BY audit_id",
        )
        assert ("inbox_refused", "Kunden_Maerz.csv") in audit
        assert ("inbox_import", "Leistungen_Maerz.txt") in audit
        assert ("import", f"service_events:{newest['import_id']}") in audit


def test_cli_import_report_info_backup_while_the_app_runs(
    demo_db, tmp_path, settle_one_second, page
):
    with running_app(tmp_path, demo_db) as server:
        _started(server)
        db = server.db_path
        before = _copy_rows(server, "SELECT count(*) FROM service_events")[0][0]

        res = run_cli("import", DATA / "service_events_tab.txt", "--db", db, "--user", "controller")
        assert res.returncode == 0, res.stderr
        assert "service_events_tab.txt -> service_events (import 8): 3 inserted" in res.stdout
        assert "the app holds the database" in res.stderr
        bad = run_cli("import", DATA / "err_unknown_tier.csv", "--db", db)
        assert bad.returncode == 2
        assert "nothing was imported" in bad.stderr and "'Platin'" in bad.stderr

        info = run_cli("info", "--db", db)
        assert info.returncode == 0, info.stderr
        assert "(last import 8)" in info.stderr  # the copy already holds the CLI's import
        line = next(x for x in info.stdout.splitlines() if x.strip().startswith("service_events"))
        assert int(line.split()[-1].replace(",", "")) == before + 3

        rep = run_cli("report", "services", "--db", db, "--year", "2025", "--format", "json")
        assert rep.returncode == 0, rep.stderr
        rows = json.loads(rep.stdout)
        assert any(r.get("account_id") == "0815" for r in rows)

        out = tmp_path / "copy.duckdb"
        bk = run_cli("backup", "--db", db, "--out", out)
        assert bk.returncode == 0, bk.stderr
        assert "written by the running app" in bk.stdout and "last import 8" in bk.stdout
        con = duckdb.connect(str(out), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM service_events").fetchall()[0][0] == before + 3
        finally:
            con.close()

        # Users with a password: handed to the app too (the password through a pipe).
        pw = run_cli(
            "users",
            "add",
            "neu",
            "--role",
            "management",
            "--password-stdin",
            "--db",
            db,
            stdin="Sehr-geheim-2026\n",
        )
        assert pw.returncode == 0, pw.stderr
        assert pw.stdout == "user neu added (management)\n"
        assert not list(Path(db).parent.glob(".*.app/requests/*"))  # nothing left behind
        listed = run_cli("users", "list", "--db", db, "--format", "json")
        assert any(u["username"] == "neu" and u["has_password"] for u in json.loads(listed.stdout))
        from kam_analytics.users import verify_password

        (stored,) = _copy_rows(server, "SELECT password_hash FROM users WHERE username = 'neu'")
        assert verify_password("Sehr-geheim-2026", stored[0])
        # Restore is for a stopped app (or the page).
        rs = run_cli("restore", "--db", db, "--from", out)
        assert rs.returncode == 2 and "section Sicherungen" in rs.stderr

        # The page shows the imported data: the import history names the command's import.
        sign_in(page, server.url, "admin", "admin-demo")
        open_page(page, t("nav_import"), t("imp_title"))
        settle(page)
        text = main_text(page)
        # The history grid is a canvas; the undo picker lists the imports in text.
        undo = options_of(page, t("imp_undo_select"))
        assert undo[0].startswith("8: service_events_tab.txt"), undo
        assert t("inbox_title") in text
        assert os.path.exists(db)
