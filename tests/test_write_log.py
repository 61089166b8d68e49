"""Every write path of the product notes the tables it changes (kam_analytics/write_log.py).

The read-only copy refills only the tables whose noted writes or row count changed, so a
writer that forgets to note an UPDATE leaves the copy wrong without anyone seeing it. Here
each write path runs against a real database file; a table whose rows changed must have a
new state, and the copy, checked by the write log and row counts alone (no row hashes), must
then equal the database table by table.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from kam_analytics import (
    approvals,
    backup,
    bonus_close,
    catalogue,
    db,
    departments,
    exchange_rates,
    inbox,
    replica,
    schema,
    settings_store,
    sign_in_sessions,
    users,
    write_log,
)
from kam_analytics.access import Scope
from kam_analytics.audit import write_audit
from kam_analytics.errors import AuthenticationError
from kam_analytics.ingest.load import undo_import
from kam_analytics.ingest.pipeline import import_files
from kam_analytics.metrics.feedback import add_feedback
from kam_analytics.metrics.mandates import save_mandate_answers, save_mandate_ratings
from tests.conftest import DATA

ADMIN = Scope("admin", "admin")
LEITUNG = Scope("leitung", "management")
DATA_TABLES = [name for name in schema.ALL_TABLES if name != "schema_meta"]


def select_contents(con) -> dict[str, tuple]:
    """Row count and sum of row hashes of every data table (the test's own comparison)."""
    return {
        name: tuple(
            con.execute(
                f'SELECT count(*), coalesce(sum(hash(x)::HUGEINT), 0) FROM "{name}" x'
            ).fetchall()[0]
        )
        for name in DATA_TABLES
    }


def copy_contents(db_path) -> dict[str, tuple]:
    """The same for the read-only copy."""
    ro = duckdb.connect(str(replica.replica_path(db_path)), read_only=True)
    try:
        return select_contents(ro)
    finally:
        ro.close()


def _events_file(folder: Path, cost: str) -> Path:
    """The three service events of tests/data with another cost (an import that updates)."""
    text = (DATA / "service_events_tab.txt").read_text(encoding="utf-8")
    path = folder / f"service_events_{cost.replace(',', '_')}.txt"
    path.write_text(text.replace("400,00", cost), encoding="utf-8")
    return path


def write_paths(tmp_path: Path):
    """(name, the tables it changes on the demo, the write) for every product write path."""
    ctx: dict = {}

    def first_kam_account(con):
        return con.execute(
            "SELECT account_id, kam_id FROM accounts WHERE kam_id IS NOT NULL "
            "ORDER BY account_id LIMIT 1"
        ).fetchall()[0]

    def do_import(con):
        ctx["import"] = import_files(con, [DATA / "service_events_tab.txt"], username="t")

    def do_update_import(con):
        # same rows, same count, same largest rowid: only the values differ
        import_files(con, [_events_file(tmp_path, "444,00")], username="t")
        ctx["update_id"] = con.execute("SELECT max(import_id) FROM import_log").fetchall()[0][0]

    def do_undo(con):
        undo_import(con, ctx["update_id"], username="t")

    def do_inbox_source(con):
        inbox.update_import_source(con, [ctx["update_id"]], "Inbox")

    def do_kam_survey(con):
        account, kam = first_kam_account(con)
        ctx["survey"] = add_feedback(
            con,
            Scope("kam", "kam", kam),
            account_id=account,
            date=dt.date.today(),
            kind="survey",
            score=9,
        )

    def do_approve(con):
        approvals.approve_survey(con, LEITUNG, ctx["survey"])

    def do_mandate(con):
        account, kam = first_kam_account(con)
        year = dt.date.today().year
        save_mandate_answers(con, Scope("kam", "kam", kam), account, year, {"contact": "Neu"})
        save_mandate_ratings(con, LEITUNG, account, year, {"contact_rating": 80})

    def do_user_add(con):
        users.add_user(con, "neu", "management", scope=ADMIN, password="geheim-12345", rounds=4)

    def do_sign_in(con):
        with pytest.raises(AuthenticationError):
            users.authenticate(con, "neu", "falsch")
        users.authenticate(con, "neu", "geheim-12345")

    def do_user_change(con):
        users.change_user(con, "neu", scope=ADMIN, display_name="Neu Name")
        users.set_password(con, "neu", "anders-12345", scope=ADMIN, rounds=4)

    def do_session(con):
        now = dt.datetime.now()
        signed = sign_in_sessions.start_session(con, "neu", "password", now=now)
        ctx["session"] = signed.session_hash

    def do_session_use(con):
        later = dt.datetime.now() + dt.timedelta(minutes=5)
        assert sign_in_sessions.check_session(con, ctx["session"], now=later).live
        sign_in_sessions.update_session_language(con, ctx["session"], "en")

    def do_session_end(con):
        sign_in_sessions.end_session(con, ctx["session"], "user")
        sign_in_sessions.delete_old_sessions(con, dt.datetime.now() + dt.timedelta(days=1))

    def do_user_remove(con):
        users.remove_user(con, "neu", scope=ADMIN)

    def do_settings(con):
        settings_store.upsert_setting(con, "backup.keep", 4, "t")

    def do_bonus_inputs(con):
        year = dt.date.today().year
        plan = settings_store.select_bonus_plan(con, year)
        settings_store.save_bonus_plan(con, ADMIN, year, dict(plan, cap=1.4))
        kam = first_kam_account(con)[1]
        settings_store.save_kam_pay(con, ADMIN, kam, year, base_salary=70000, target_bonus=9000)

    def do_kam_pay_delete(con):
        kam = first_kam_account(con)[1]
        settings_store.delete_kam_pay(con, ADMIN, kam, dt.date.today().year)

    def do_rates(con):
        exchange_rates.upsert_rate(con, "USD", 2025, 0, "1,08", "t")
        exchange_rates.upsert_rate(con, "CHF", 2025, 0, "0,95", "t")
        exchange_rates.delete_rate(con, "CHF", 2025, 0, "t")

    def do_department(con):
        departments.save_department(con, ADMIN, "TRAINING", "marketing")

    def do_catalogue(con):
        table = catalogue.select_catalogue(con)
        table.loc[table["service_code"] == "TRAINING", "list_value"] = 1500.0
        catalogue.save_catalogue(con, table, "t", scope=ADMIN)

    def do_matrix(con):
        year = dt.date.today().year + 1
        catalogue.copy_matrix(con, None, year, "t")
        catalogue.update_matrix(con, year, {("TRAINING", "C"): "billed"}, "t", scope=ADMIN)

    def do_close(con):
        ctx["closed"] = dt.date.today().year - 1
        for review in approvals.select_reviews(con, ADMIN, year=ctx["closed"]).itertuples():
            approvals.approve_survey(con, LEITUNG, review.feedback_id)
        bonus_close.close_year(con, LEITUNG, ctx["closed"])

    def do_reopen(con):
        bonus_close.reopen_year(con, LEITUNG, ctx["closed"], "Korrektur")

    def do_audit(con):
        write_audit(con, "t", "settings", "backup.keep", 4, 5)

    def do_backup(con):
        ctx["backup"] = tmp_path / "before-restore.duckdb"
        backup.copy_database(con, ctx["backup"])
        settings_store.upsert_setting(con, "backup.keep", 6, "t")

    def do_restore(con):
        backup.restore_into(con, ctx["backup"], "admin")

    # service events feed the service_months summary, refreshed in the same transaction
    events = {"service_events", "service_months"}
    imported = {*events, "import_log", "audit_log", "figure_snapshots", "accounts"}
    updated = {*events, "import_log", "audit_log", "figure_snapshots", "import_changes"}
    return [
        ("import", imported, do_import),
        ("import that updates", updated, do_update_import),
        ("undo", {*events, "import_log", "audit_log", "figure_snapshots"}, do_undo),
        ("inbox source", {"import_log"}, do_inbox_source),
        ("KAM survey", {"feedback", "feedback_reviews", "audit_log"}, do_kam_survey),
        ("approval", {"feedback_reviews", "audit_log"}, do_approve),
        ("mandate", {"mandates", "audit_log"}, do_mandate),
        ("user add", {"users", "audit_log"}, do_user_add),
        ("sign-in", {"users", "audit_log"}, do_sign_in),
        ("user change", {"users", "audit_log"}, do_user_change),
        ("session", {"sign_in_sessions", "sign_in_keys"}, do_session),
        ("session use", {"sign_in_sessions"}, do_session_use),
        ("session end", {"sign_in_sessions"}, do_session_end),
        ("user remove", {"users", "audit_log"}, do_user_remove),
        ("setting", {"settings"}, do_settings),
        ("bonus inputs", {"bonus_plans", "kam_pay", "audit_log"}, do_bonus_inputs),
        ("kam pay delete", {"kam_pay", "audit_log"}, do_kam_pay_delete),
        ("rates", {"exchange_rates", "audit_log"}, do_rates),
        ("department", {"service_departments", "audit_log"}, do_department),
        ("catalogue", {"service_catalogue", "audit_log"}, do_catalogue),
        ("matrix", {"entitlement_matrix", "audit_log"}, do_matrix),
        ("year close", {"year_closes", "bonus_statements", "audit_log"}, do_close),
        ("year reopen", {"year_closes", "audit_log"}, do_reopen),
        ("audit entry", {"audit_log"}, do_audit),
        ("backup, then a setting", {"settings"}, do_backup),
        ("restore", {"settings", "audit_log"}, do_restore),
    ]


def test_every_write_path_moves_the_states_of_what_it_changed(demo_copy, tmp_path, monkeypatch):
    # no row hashes at all: the copy follows the write log and the row counts only
    monkeypatch.setattr(replica, "HASHED_ROWS", -1)
    con = db.connect(demo_copy)
    try:
        replica.refresh_replica(con, demo_copy)
        for name, expected, write in write_paths(tmp_path):
            before, states = select_contents(con), write_log.select_write_states(con)
            write(con)
            after, now = select_contents(con), write_log.select_write_states(con)
            changed = {t for t in DATA_TABLES if before[t] != after[t]}
            assert changed == expected, name
            unnoted = {t for t in changed if states.get(t) == now.get(t)}
            assert unnoted == set(), name
            replica.refresh_replica(con, demo_copy)
            assert copy_contents(demo_copy) == after, name
    finally:
        con.close()


def test_a_new_demo_company_notes_every_table(demo_db):
    ro = duckdb.connect(str(demo_db), read_only=True)
    try:
        assert set(write_log.select_write_states(ro)) == set(DATA_TABLES)
    finally:
        ro.close()


def test_writers_of_the_same_table_at_once_do_not_conflict_and_folding_keeps_the_states(con):
    # Why a log of rows and no counter row: two open transactions writing the same table
    # (an import and a setting, both with an audit entry) must both commit.
    a, b = con.cursor(), con.cursor()
    a.execute("BEGIN TRANSACTION")
    b.execute("BEGIN TRANSACTION")
    write_audit(a, "a", "settings", "x", None, 1)
    write_audit(b, "b", "settings", "y", None, 2)
    a.execute("COMMIT")
    b.execute("COMMIT")
    for _ in range(5):
        settings_store.upsert_setting(con, "backup.keep", 3, "t")
    states = write_log.select_write_states(con)
    assert states["audit_log"].split(":")[0] == "2"
    assert states["settings"].split(":")[0] == "5"
    # a write still open while the log is folded keeps its row
    b.execute("BEGIN TRANSACTION")
    write_log.note_writes(b, "settings")
    assert write_log.fold_write_log(con, limit=2) is True
    assert write_log.select_write_states(con) == states
    assert con.execute("SELECT count(*) FROM write_log").fetchall()[0][0] == len(states)
    b.execute("COMMIT")
    assert write_log.select_write_states(con)["settings"].split(":")[0] == "6"
    assert write_log.fold_write_log(con) is False  # below the limit: nothing to do
    with pytest.raises(ValueError):
        write_log.note_writes(con, "setings")


# Functions that write SQL without noting it, and why that is right.
NOT_NOTED = {
    ("backup.py", "write_copy_meta"): "writes the copy, not the database",
    ("backup.py", "copy_tables_keyless"): "writes the copy, not the database",
    ("backup.py", "copy_database"): "writes the copy, not the database",
    ("replica.py", "_refill"): "writes the copy, not the database",
    ("db.py", "ensure_schema"): "schema_meta only (never compared; the copy refills it)",
    ("summaries.py", "_insert_summary"): "refresh_summaries notes; else TEMP tables",
    ("summaries.py", "ensure_summaries"): "read-write: refresh_summaries notes; else TEMP tables",
    ("write_log.py", "note_writes"): "the log itself",
    ("write_log.py", "fold_write_log"): "the log itself, states unchanged",
    ("demo.py", "_log_import"): "write_demo notes every table of the new company",
    ("demo.py", "_insert"): "write_demo notes every table of the new company",
    ("demo.py", "_write_by_month"): "write_demo notes every table of the new company",
    ("demo.py", "_write_reference"): "write_demo notes every table of the new company",
}
_WRITE_SQL = re.compile(
    r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\S+\s+(AS\s+\w+\s+)?SET|DELETE\s+FROM)\b", re.I
)


def test_every_function_with_a_write_statement_notes_it():
    package = Path(__file__).resolve().parents[1] / "kam_analytics"
    missing = []
    for path in sorted(package.rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef):
                continue
            writes = any(
                isinstance(n, ast.Constant)
                and isinstance(n.value, str)
                and _WRITE_SQL.search(n.value)
                for n in ast.walk(fn)
            )
            calls = {
                getattr(n.func, "id", None) or getattr(n.func, "attr", None)
                for n in ast.walk(fn)
                if isinstance(n, ast.Call)
            }
            if writes and not calls & {"writing", "note_writes"}:
                missing.append((path.name, fn.name))
    assert sorted(set(missing) - set(NOT_NOTED)) == []
    assert sorted(set(NOT_NOTED) - set(missing)) == []  # the list names no writer that notes
