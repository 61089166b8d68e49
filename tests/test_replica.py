"""The app's read-only copy and the request channel, without a running app."""

from __future__ import annotations

import datetime as dt
import json
import os

import duckdb

from kam_analytics import app_channel, db, replica
from kam_analytics.audit import write_audit
from tests.conftest import DATA


def _signatures(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return replica.select_table_states(con)
    finally:
        con.close()


def test_copy_follows_every_write_table_by_table(demo_copy):
    from kam_analytics.ingest.pipeline import import_files

    con = db.connect(demo_copy)
    try:
        first = replica.refresh_replica(con, demo_copy)
        path = replica.replica_path(demo_copy)
        assert path.name == "demo.readonly.duckdb"
        assert first["last_import_id"] == 7
        # an import, an in-place edit of an importable table and an audited setting
        import_files(con, [DATA / "service_events_tab.txt"], username="t")
        con.execute(
            "UPDATE mandates SET contact = 'Neu' WHERE rowid = (SELECT min(rowid) FROM mandates)"
        )
        con.execute("INSERT INTO settings VALUES ('backup.keep', '3', now(), 't')")
        write_audit(con, "t", "settings", "backup.keep", None, 3)
        second = replica.refresh_replica(con, demo_copy)
        assert second["last_import_id"] == 8
        expected = replica.select_table_states(con)
        assert _signatures(path) == expected
        ro = duckdb.connect(str(path), read_only=True)
        assert ro.execute("SELECT count(*) FROM mandates WHERE contact = 'Neu'").fetchall() == [
            (1,)
        ]
        assert ro.execute("SELECT count(*) FROM service_events_all").fetchall()[0][0] > 0
        ro.close()
    finally:
        con.close()
    # The copy is always opened read-only, also by code that asks for read-write.
    a = db.connect(path)
    b = db.connect(path)
    assert (
        a.execute("SELECT count(*) FROM accounts").fetchall()
        == b.execute("SELECT count(*) FROM accounts").fetchall()
    )
    a.close()
    b.close()


def test_heartbeat_of_a_gone_process_does_not_count(demo_copy):
    assert app_channel.read_heartbeat(demo_copy) is None
    app_channel.write_heartbeat(demo_copy, {"last_scan": None})
    beat = app_channel.read_heartbeat(demo_copy)
    assert beat["pid"] == os.getpid() and beat["db"] == str(demo_copy.resolve())
    folder = app_channel.channel_dir(demo_copy)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    stale = dict(beat, beat=(dt.datetime.now() - dt.timedelta(minutes=5)).isoformat())
    (folder / "alive.json").write_text(json.dumps(stale), encoding="utf-8")
    assert app_channel.read_heartbeat(demo_copy) is None
    dead = dict(beat, pid=2**22 + 12345)
    (folder / "alive.json").write_text(json.dumps(dead), encoding="utf-8")
    assert app_channel.read_heartbeat(demo_copy) is None
    app_channel.clear_heartbeat(demo_copy)


def test_forwarded_import_uses_the_copied_files_and_keeps_every_option(demo_copy, tmp_path):
    app_channel.write_heartbeat(demo_copy)
    try:
        profile = DATA / "orders_superstore.toml"
        # a database of its own in the test folder (never a file in the working directory)
        other = str(demo_copy.parent / "other.duckdb")
        argv = [
            "import",
            str(DATA / "orders_superstore.csv"),
            "--profile",
            str(profile),
            "--sheet",
            "2",
            "--dry-run",
            "--no-wait",
            "--db",
            other,
        ]
        request = app_channel.submit(
            demo_copy,
            "cli",
            {"argv": argv, "user": "anna"},
            [DATA / "orders_superstore.csv", profile],
        )
        assert request.parent == app_channel.channel_dir(demo_copy) / "requests"
        assert app_channel.pending_requests(demo_copy) == [request]
        data = app_channel.read_request(request)
        new = app_channel.translate_argv(data)
        assert new == [
            "import",
            str(request / "files/0/orders_superstore.csv"),
            "--db",
            other,
            "--user",
            "anna",
            "--profile",
            str(request / "files/1/orders_superstore.toml"),
            "--sheet",
            "2",
            "--dry-run",
        ]
        result = app_channel.run_cli_captured(new)
        assert result["exit"] in (0, 2) and result["stdout"] + result["stderr"]
        app_channel.answer(request, result)
        assert app_channel.pending_requests(demo_copy) == []
        assert app_channel.wait_for(request, demo_copy, timeout=1) == result
    finally:
        app_channel.clear_heartbeat(demo_copy)


def test_captured_run_gives_the_same_output_and_exit_code_as_the_command(demo_copy):
    from tests.conftest import run_cli

    direct = run_cli("import", DATA / "err_unknown_tier.csv", "--db", demo_copy)
    captured = app_channel.run_cli_captured(
        ["import", str(DATA / "err_unknown_tier.csv"), "--db", str(demo_copy)]
    )
    assert captured["exit"] == direct.returncode == 2
    assert captured["stderr"] == direct.stderr and captured["stdout"] == direct.stdout


def test_worker_answers_requests_and_refreshes_the_copy_first(demo_copy):
    from kam_analytics.app_worker import AppWorker

    con = db.connect(demo_copy)
    worker = AppWorker(con, demo_copy)  # threads not started: one round by hand
    app_channel.write_heartbeat(demo_copy)
    try:
        cur = con.cursor()
        argv = ["import", str(DATA / "service_events_tab.txt"), "--db", str(demo_copy)]
        req = app_channel.submit(
            demo_copy, "cli", {"argv": argv, "user": "anna"}, [DATA / "service_events_tab.txt"]
        )
        bk = app_channel.submit(demo_copy, "backup", {})
        worker.tick(cur)
        result = json.loads((req / "result.json").read_text(encoding="utf-8"))
        assert result["exit"] == 0
        assert "service_events_tab.txt -> service_events (import 8): 3 inserted" in result["stdout"]
        assert con.execute("SELECT username FROM import_log WHERE import_id = 8").fetchall() == [
            ("anna",)
        ]
        assert replica.read_replica_meta(demo_copy)["last_import_id"] == "8"
        made = json.loads((bk / "result.json").read_text(encoding="utf-8"))
        assert made["meta"]["last_import_id"] in (7, 8) and (bk / "backup.duckdb").exists()
        # A fault before a request runs: it is answered, saying nothing was done.
        late = app_channel.submit(demo_copy, "cli", {"argv": ["info"], "user": "anna"})
        worker.refuse_pending(RuntimeError("database has been invalidated"))
        refused = json.loads((late / "result.json").read_text(encoding="utf-8"))
        assert refused["exit"] == 1 and "nothing was done" in refused["stderr"]
    finally:
        app_channel.clear_heartbeat(demo_copy)
        con.close()


def test_unchanged_database_leaves_the_copy_in_place_and_a_plain_sql_edit_is_seen(demo_copy):
    # A server start with an up-to-date copy must not rewrite gigabytes (issue 15), and the
    # check must still see a row changed by plain SQL (no import, no audit: no write mark).
    con = db.connect(demo_copy)
    try:
        first = replica.refresh_replica(con, demo_copy)
        path = replica.replica_path(demo_copy)
        inode = path.stat().st_ino
        again = replica.refresh_replica(con, demo_copy)
        assert path.stat().st_ino == inode
        assert str(again["made_at"]) == str(first["made_at"])
        assert str(again["last_import_id"]) == "7"
        con.execute(
            "UPDATE mandates SET contact = 'Plain' WHERE rowid = (SELECT min(rowid) FROM mandates)"
        )
        replica.refresh_replica(con, demo_copy)
        assert path.stat().st_ino != inode
        ro = duckdb.connect(str(path), read_only=True)
        assert ro.execute("SELECT count(*) FROM mandates WHERE contact = 'Plain'").fetchall() == [
            (1,)
        ]
        ro.close()
    finally:
        con.close()


def test_the_copy_keeps_the_summaries_stamp_so_a_reader_rebuilds_nothing(demo_copy):
    # Before: the copy kept the stamp of its last full copy, so after any import every reader
    # of the copy rebuilt order_days as TEMP tables (22 M order lines at the 10x company).
    from kam_analytics import summaries
    from kam_analytics.ingest.pipeline import import_files

    con = db.connect(demo_copy)
    try:
        replica.refresh_replica(con, demo_copy)
        import_files(con, [DATA / "service_events_tab.txt"], username="t")
        summaries.ensure_summaries(con)  # what the app's next read does
        replica.refresh_replica(con, demo_copy)
        stamps = {n: summaries.select_stored_stamp(con, n) for n in summaries.SUMMARIES}
    finally:
        con.close()
    ro = duckdb.connect(str(replica.replica_path(demo_copy)), read_only=True)
    try:
        assert {n: summaries.select_stored_stamp(ro, n) for n in summaries.SUMMARIES} == stamps
        assert summaries.ensure_summaries(ro) is False
    finally:
        ro.close()


def test_a_failed_commit_reports_its_own_error_and_leaves_the_copy(demo_copy, monkeypatch):
    # Before: after a COMMIT that fails DuckDB has already ended the transaction, so the
    # ROLLBACK in the error handler raised "no transaction is active" and hid the real cause.
    from kam_analytics.ingest.pipeline import import_files

    con = db.connect(demo_copy)
    try:
        replica.refresh_replica(con, demo_copy)
        path = replica.replica_path(demo_copy)
        before = _signatures(path)
        import_files(con, [DATA / "service_events_tab.txt"], username="t")
        refill = replica._refill

        def refill_then_fail_commit(cur, *args):
            refill(cur, *args)
            cur.execute("ROLLBACK")  # what a COMMIT that fails leaves: no transaction
            raise duckdb.IOException("No space left on device")

        monkeypatch.setattr(replica, "_refill", refill_then_fail_commit)
        try:
            replica.update_copy(con, path, path)
        except duckdb.IOException as exc:
            assert "No space left" in str(exc)
        else:
            raise AssertionError("the failure was swallowed")
        assert _signatures(path) == before
        assert not list(path.parent.glob(f".{path.name}.*.part"))
    finally:
        con.close()
