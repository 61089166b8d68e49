"""The four-eyes survey entry and the year close on the real pages (AppTest).

The 2025 scenario of tests/test_retention.py at year end, K1 (Anna, target 10.000 €): R = 0
(gate missed), M = 1/3, F = (8 + 9 + 7) / 30 = 0.8 -> 0.3 x 1/3 + 0.1 x 0.8 = 0.18 -> 1.800,00 €.
Anna's score 10 for A1 once approved: F = 34 / 40 = 0.85 -> 0.185 -> 1.850,00 €. Without it, a
CRM survey 4 after the close: today's F = 28 / 40 = 0.7 -> 0.17 -> 1.700,00 €; the issued
1.800,00 € stays.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.i18n import t
from tests.test_retention import build_scenario_2025

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120
ANNA = Scope("anna", "kam", "K1")
LEITUNG = Scope("leitung", "management")


@pytest.fixture
def page_db(db_path, monkeypatch):
    con = db.connect(db_path)
    try:
        build_scenario_2025(con)
    finally:
        con.close()
    monkeypatch.setenv("KAM_DB", str(db_path))
    return db_path


def run_page(page: str, scope: Scope) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    at.session_state["scope"] = scope
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def bonus_page(scope: Scope) -> AppTest:
    at = run_page("pages/bonus.py", scope)
    at.selectbox(key="bn_year").select(2025).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    [m] = [m for m in at.metric if m.label == label]
    return m.value


def shown(at: AppTest) -> list[str]:
    return [
        e.value
        for kind in (at.markdown, at.caption, at.info, at.warning, at.success, at.error, at.text)
        for e in kind
    ]


def click(at: AppTest, label: str) -> AppTest:
    buttons = [b for b in at.button if b.label == label]
    assert len(buttons) == 1, [b.label for b in at.button]
    buttons[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def enter_survey(at: AppTest, day: dt.date, score: float) -> AppTest:
    [d] = [w for w in at.date_input if w.label == t("fb_date")]
    d.set_value(day)
    [n] = [w for w in at.selectbox if w.label == t("fb_score")]
    n.set_value(score)
    return click(at, t("fb_save"))


def audit_actions(path) -> list[tuple]:
    con = db.connect(path)
    try:
        return con.execute(
            "SELECT username, action, target, new_value FROM audit_log "
            "WHERE action LIKE 'feedback.%' OR action LIKE 'bonus.%' ORDER BY audit_id"
        ).fetchall()
    finally:
        con.close()


def test_kam_entry_waits_for_approval_then_counts(page_db):
    acc = run_page("pages/account.py", ANNA)
    enter_survey(acc, dt.date(2025, 8, 1), 10.0)
    assert t("fb_saved_pending") in shown(acc)
    [table] = [d.value for d in acc.dataframe if t("fb_status") in d.value.columns]
    assert list(table[t("fb_status")]) == [t("fb_status_pending"), "", "", ""]
    assert list(table[t("st_col_score")])[0] == "10"

    kam = bonus_page(ANNA)
    assert metric(kam, t("bonus_now")) == "1.800,00\xa0€"
    assert t("bc_f_pending", n=1) in shown(kam)
    assert t("bc_pending_kam") in shown(kam)
    assert not [b for b in kam.button if b.label in (t("bc_approve"), t("bc_reject"))]

    boss = bonus_page(LEITUNG)
    assert metric(boss, t("bonus_now")) == "1.800,00\xa0€"
    click(boss, t("bc_approve"))
    assert metric(boss, t("bonus_now")) == "1.850,00\xa0€"
    assert any(s.startswith("Umfrage UI-") and "freigegeben" in s for s in shown(boss))
    assert t("bc_pending_none") in shown(boss)
    assert metric(bonus_page(ANNA), t("bonus_now")) == "1.850,00\xa0€"

    [(u1, a1, _t1, n1), (u2, a2, _t2, n2)] = audit_actions(page_db)
    assert (u1, a1, json.loads(n1)["review"]) == ("anna", "feedback.add", "pending")
    assert (u2, a2, json.loads(n2)["status"]) == ("leitung", "feedback.approve", "approved")


def test_close_year_on_the_page_freezes_and_shows_difference(page_db):
    boss = bonus_page(LEITUNG)
    assert t("bc_close_intro", year=2025) in shown(boss)
    click(boss, t("bc_close_button", year=2025))  # not confirmed: nothing happens
    assert t("bc_confirm_needed") in shown(boss)
    boss.checkbox(key="bn_close_ok_2025").check()
    click(boss, t("bc_close_button", year=2025))
    assert t("bc_closed_done", year=2025) in shown(boss)
    assert metric(boss, t("bonus_now")) == "1.800,00\xa0€"
    assert t("bc_no_difference") in shown(boss)

    # a CRM import of a 2025 survey after the close
    con = db.connect(page_db)
    try:
        con.execute(
            "INSERT INTO feedback (feedback_id, account_id, date, score, kind) "
            "VALUES ('CRM-7', 'A1', DATE '2025-11-01', 4, 'survey')"
        )
    finally:
        con.close()
    kam = bonus_page(ANNA)
    assert metric(kam, t("bonus_now")) == "1.800,00\xa0€"  # as issued
    [warning] = [w.value for w in kam.warning]
    assert warning.startswith(
        "Ausgestellt 1.800,00\xa0€, mit den heutigen Daten ergäben sich 1.700,00\xa0€."
    )
    assert t("bc_what_if_closed") in shown(kam)
    assert not [b for b in kam.button if b.label == t("bc_reopen_button", year=2025)]

    # the KAM cannot back-date a survey into the closed year
    acc = run_page("pages/account.py", ANNA)
    enter_survey(acc, dt.date(2025, 3, 1), 10.0)
    [error] = [e.value for e in acc.error]
    assert error.startswith("Das Jahr 2025 ist abgeschlossen (Abrechnungen ausgestellt am ")
    assert "von leitung): Feedback mit einem Datum in 2025 kann nicht mehr erfasst werden" in error

    boss = bonus_page(LEITUNG)
    boss.text_input(key="bn_reopen_reason_2025").input("Umfrage CRM-7 nachgetragen")
    click(boss, t("bc_reopen_button", year=2025))
    assert t("bc_reopened_done", year=2025) in shown(boss)
    assert metric(boss, t("bonus_now")) == "1.700,00\xa0€"
    actions = [(u, a, tg) for u, a, tg, _n in audit_actions(page_db)]
    assert actions == [
        ("leitung", "bonus.close_year", "2025"),
        ("leitung", "bonus.reopen_year", "2025"),
    ]


def test_management_sees_pending_entries_of_other_years(page_db):
    acc = run_page("pages/account.py", ANNA)
    enter_survey(acc, dt.date(2026, 1, 10), 7.0)
    boss = bonus_page(LEITUNG)
    assert t("bc_pending_none") in shown(boss)
    assert t("bc_pending_elsewhere", where="K1 · 2026: 1") in shown(boss)
    boss.checkbox(key="bn_close_ok_2025").check()
    click(boss, t("bc_close_button", year=2025))  # 2025 has nothing pending: closes
    assert t("bc_closed_done", year=2025) in shown(boss)
