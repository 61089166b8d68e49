"""The inbox without the app: stable files imported or refused, half-written ones left alone."""

from __future__ import annotations

import json
import shutil

import pytest

from kam_analytics import backup, db
from kam_analytics.inbox import (
    Inbox,
    inbox_dir,
    inbox_state,
    is_temporary,
    match_profile,
    read_rules,
)
from tests.conftest import DATA


@pytest.fixture
def inbox(demo_copy, tmp_path, monkeypatch):
    monkeypatch.setenv(backup.KEEP_ENV, "3")
    box = Inbox(tmp_path / "inbox", demo_copy, profiles_dir=tmp_path / "profiles", settle=0)
    box.ensure_folders()
    (tmp_path / "profiles").mkdir()
    return box


def _scan_twice(box, con):
    """Two passes: a file is taken only when unchanged since the previous one."""
    assert box.scan(con) == []  # the first pass only notes sizes and times
    return box.scan(con)


def test_temporary_names_are_never_taken():
    for name in (
        "Lieferungen.xlsx.part",
        "~$Lieferungen.xlsx",
        ".Lieferungen.xlsx",
        "a.tmp",
        "b.csv.crdownload",
        "c.csv~",
    ):
        assert is_temporary(name), name
    for name in ("Lieferungen.xlsx", "orders_2026-11.csv", "partners.csv"):
        assert not is_temporary(name), name


def test_name_rules_pick_the_profile(tmp_path):
    (tmp_path / "inbox_rules.txt").write_text(
        "# comment\nSAP_Lieferungen_*.xlsx = sap_lieferungen\n*superstore* = orders_superstore.toml\n",
        encoding="utf-8",
    )
    rules = read_rules(tmp_path)
    assert rules == [
        ("SAP_Lieferungen_*.xlsx", "sap_lieferungen"),
        ("*superstore*", "orders_superstore.toml"),
    ]
    assert (
        match_profile("sap_lieferungen_2026-11.XLSX", rules, tmp_path)
        == tmp_path / "sap_lieferungen.toml"
    )
    assert (
        match_profile("orders_superstore.csv", rules, tmp_path)
        == tmp_path / "orders_superstore.toml"
    )
    assert match_profile("Kunden.xlsx", rules, tmp_path) is None


def test_good_file_imported_bad_refused_half_written_left(inbox, demo_copy):
    con = db.connect(demo_copy)
    try:
        shutil.copy(DATA / "service_events_tab.txt", inbox.folder / "Leistungen.txt")
        shutil.copy(DATA / "err_unknown_tier.csv", inbox.folder / "Kunden.csv")
        shutil.copy(DATA / "accounts_utf8_bom.csv", inbox.folder / "Kunden2.csv.part")
        growing = inbox.folder / "Auftraege.csv"
        growing.write_bytes((DATA / "orders_de_semikolon_cp1252.csv").read_bytes()[:40])
        assert inbox.scan(con) == []
        # The growing file changes between the passes: still being written, left alone.
        with growing.open("ab") as f:
            f.write(b"more")
        outcomes = {o.file_name: o for o in inbox.scan(con)}
        assert set(outcomes) == {"Leistungen.txt", "Kunden.csv"}
        assert outcomes["Leistungen.txt"].status == "imported"
        assert outcomes["Kunden.csv"].status == "refused"
        assert growing.exists() and (inbox.folder / "Kunden2.csv.part").exists()

        done = outcomes["Leistungen.txt"].moved_to
        assert done.parent == inbox.folder / "done" and done.name.endswith("_Leistungen.txt")
        for suffix in (".report.de.txt", ".report.en.txt", ".report.de.csv", ".report.en.csv"):
            assert done.with_name(done.name + suffix).exists()
            failed = outcomes["Kunden.csv"].moved_to
            assert failed.parent == inbox.folder / "failed"
            assert failed.with_name(failed.name + suffix).exists()
        de = failed.with_name(failed.name + ".report.de.txt").read_text(encoding="utf-8")
        en = failed.with_name(failed.name + ".report.en.txt").read_text(encoding="utf-8")
        assert "Zeile 2, Spalte 'tier'" in de and "'Platin'" in de
        assert "row 2, column 'tier'" in en
        csv_de = failed.with_name(failed.name + ".report.de.csv").read_bytes().decode("utf-8-sig")
        assert "Platin" in csv_de and ";" in csv_de

        (import_id,) = outcomes["Leistungen.txt"].import_ids
        row = con.execute(
            "SELECT username, file_name, table_name, rows_inserted, notes FROM import_log "
            "WHERE import_id = ?",
            [import_id],
        ).fetchall()[0]
        assert row[:4] == ("Inbox", "Leistungen.txt", "service_events", 3)
        assert json.loads(row[4])["source"] == "Inbox"
        audit = con.execute(
            "SELECT username, action, target, new_value FROM audit_log "
            "WHERE action LIKE 'inbox%' ORDER BY audit_id"
        ).fetchall()
        # accounts files go first (TABLE_ORDER), so the refused accounts file is first
        assert [(a[0], a[1], a[2]) for a in audit] == [
            ("Inbox", "inbox_refused", "Kunden.csv"),
            ("Inbox", "inbox_import", "Leistungen.txt"),
        ]
        assert json.loads(audit[0][3])["errors"] == 1
        assert json.loads(audit[1][3])["import_ids"] == [import_id]
        # refused: nothing of it was written
        assert not con.execute("SELECT 1 FROM accounts WHERE tier = 'Platin'").fetchall()
        # one automatic backup before the batch
        assert [p.name for p in backup.list_backups(demo_copy)][0].endswith("before-inbox.duckdb")

        # Once the growing file has stopped changing it is taken too (with warnings, imported).
        with growing.open("wb") as f:
            f.write((DATA / "orders_de_semikolon_cp1252.csv").read_bytes())
        assert inbox.scan(con) == []
        (late,) = inbox.scan(con)
        assert late.file_name == "Auftraege.csv" and late.status == "imported"

        states = {(e.name, e.state) for e in inbox_state(inbox.folder, settle=0)}
        assert {
            ("Kunden2.csv.part", "writing"),
            ("Leistungen.txt", "done"),
            ("Kunden.csv", "failed"),
            ("Auftraege.csv", "done"),
        } <= states
    finally:
        con.close()


def test_recent_file_waits_for_the_settle_time(demo_copy, tmp_path):
    box = Inbox(tmp_path / "inbox", demo_copy, settle=3600)
    box.ensure_folders()
    shutil.copy(DATA / "service_events_tab.txt", box.folder / "Leistungen.txt")
    con = db.connect(demo_copy)
    try:
        assert box.scan(con) == [] and box.scan(con) == []
        assert [(e.name, e.state) for e in inbox_state(box.folder, settle=3600)] == [
            ("Leistungen.txt", "writing")
        ]
    finally:
        con.close()


def test_rule_profile_is_used_and_a_missing_profile_refuses(inbox, demo_copy):
    profiles = inbox.profiles_dir
    shutil.copy(DATA / "orders_superstore.toml", profiles / "superstore.toml")
    (profiles / "inbox_rules.txt").write_text(
        "Superstore_*.csv = superstore\nBroken_*.csv = does_not_exist\n", encoding="utf-8"
    )
    shutil.copy(DATA / "orders_superstore.csv", inbox.folder / "Superstore_2026-11.csv")
    shutil.copy(DATA / "orders_superstore.csv", inbox.folder / "Broken_2026-11.csv")
    con = db.connect(demo_copy)
    try:
        from kam_analytics.exchange_rates import upsert_rate

        # the Superstore export is in US dollars: without a rate the import refuses
        for year in range(2020, 2027):
            upsert_rate(con, "USD", year, 0, 1.08, "admin")
        outcomes = {o.file_name: o for o in _scan_twice(inbox, con)}
        assert outcomes["Superstore_2026-11.csv"].status == "imported"
        (import_id,) = outcomes["Superstore_2026-11.csv"].import_ids
        profile = con.execute(
            "SELECT profile FROM import_log WHERE import_id = ?", [import_id]
        ).fetchall()[0][0]
        assert profile == "superstore"
        assert outcomes["Broken_2026-11.csv"].status == "refused"
        assert "does_not_exist" in "\n".join(outcomes["Broken_2026-11.csv"].lines["en"])
    finally:
        con.close()


def test_inbox_folder_from_env_setting_or_beside_the_database(demo_copy, tmp_path, monkeypatch):
    monkeypatch.delenv("KAM_INBOX", raising=False)
    assert inbox_dir(demo_copy) == demo_copy.parent / "inbox"
    con = db.connect(demo_copy)
    try:
        con.execute(
            "INSERT INTO settings VALUES ('inbox.folder', ?, now(), 'x')",
            [json.dumps(str(tmp_path / "share"))],
        )
        assert inbox_dir(demo_copy, con) == tmp_path / "share"
        monkeypatch.setenv("KAM_INBOX", str(tmp_path / "env"))
        assert inbox_dir(demo_copy, con) == tmp_path / "env"
    finally:
        con.close()


def test_import_page_shows_the_inbox_and_the_backups(demo_copy, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from kam_analytics.access import Scope
    from kam_analytics.i18n import t
    from tests.conftest import ROOT

    box = Inbox(demo_copy.parent / "inbox", demo_copy, settle=0)
    box.ensure_folders()
    shutil.copy(DATA / "err_unknown_tier.csv", box.folder / "Kunden.csv")
    con = db.connect(demo_copy)
    _scan_twice(box, con)
    backup.auto_backup(con, demo_copy, "before-import")
    con.close()
    (box.folder / "Neu.csv.part").write_text("x", encoding="utf-8")
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    monkeypatch.delenv("KAM_INBOX", raising=False)
    at = AppTest.from_file(str(ROOT / "pages" / "data_import.py"), default_timeout=120)
    at.session_state["scope"] = Scope("admin", "admin")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [s.value for s in at.subheader]
    assert t("inbox_title") in texts and t("backup_title") in texts
    shown = [df.value for df in at.dataframe]
    inbox_table = next(d for d in shown if t("inbox_col_size") in d.columns)
    states = dict(
        zip(inbox_table[t("inbox_col_name")], inbox_table[t("inbox_col_state")], strict=True)
    )
    assert states == {
        "Neu.csv.part": t("inbox_state_writing"),
        "Kunden.csv": t("inbox_state_failed"),
    }
    assert [w.value for w in at.warning] == [t("inbox_worker_off")]  # no app process here
    assert len(at.selectbox(key="backup_pick").options) == 1


def test_admin_restores_a_backup_on_the_import_page(demo_copy, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from kam_analytics.access import Scope
    from kam_analytics.i18n import t
    from tests.conftest import ROOT

    con = db.connect(demo_copy)
    saved = backup.auto_backup(con, demo_copy, "before-import")
    orders = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
    con.execute("DELETE FROM orders")
    con.close()
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = AppTest.from_file(str(ROOT / "pages" / "data_import.py"), default_timeout=120)
    at.session_state["scope"] = Scope("admin", "admin")
    at.run()
    assert at.selectbox(key="backup_pick").value == saved.name
    assert at.button(key="backup_restore").disabled  # not without the confirmation
    at.checkbox(key="backup_confirm").check().run()
    at.button(key="backup_restore").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(t("backup_restored", n="", saved="").split(":")[0] in s.value for s in at.success)
    con = db.connect(demo_copy)
    try:
        assert con.execute("SELECT count(*) FROM orders").fetchall()[0][0] == orders
        assert con.execute(
            "SELECT username, action FROM audit_log ORDER BY audit_id DESC LIMIT 1"
        ).fetchall() == [("admin", "restore")]
    finally:
        con.close()
