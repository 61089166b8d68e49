"""Bonus integrity (issue 13): four eyes on a KAM's survey entries, closing a bonus year.

On the 2025 scenario of tests/test_retention.py (K1 = Anna Müller, target 10.000 €):
- as of 30.09.2025, K1: R = 2/3, M = 0.725, F = (8 + 9 + 7) / 3 / 10 = 0.8 -> 6.975,00 €
  (tests/test_bonus.py). Anna enters a score 10 for A1: pending, F stays 0.8. Approved:
  F = (8 + 9 + 7 + 10) / 4 / 10 = 0.85 -> 10.000 x (0.4 + 0.2175 + 0.085) = 7.025,00 €.
- at year end 2025 (the year is over), K1: A1 (last order 15.09.), A2, A3 (15.08.) are not
  active on 31.12. -> R = 0 < gate, R' = 0; M = (0.85 + 0 + 0.15) / 3 = 1/3 (missing ratings
  count 0 % at year end); F = 0.8 -> score 0.3 x 1/3 + 0.1 x 0.8 = 0.18 -> 1.800,00 €.
  An imported survey 4 for A1 on 01.11.2025 after the close: today's F = 28 / 4 / 10 = 0.7 ->
  score 0.1 + 0.07 = 0.17 -> 1.700,00 €, shown beside the issued 1.800,00 €.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_analytics import approvals, bonus_close
from kam_analytics.access import Scope
from kam_analytics.closed_years import is_year_closed, require_open_year
from kam_analytics.errors import (
    AccessDeniedError,
    ConfigError,
    FourEyesError,
    KamError,
    YearClosedError,
    localise_error,
)
from kam_analytics.exports.bonus_statement import statement_pdf, statement_xlsx, summary_rows
from kam_analytics.ingest.pipeline import import_files
from kam_analytics.metrics.bonus import compute_standings, get_standing, report_bonus
from kam_analytics.metrics.feedback import add_feedback, list_feedback
from kam_analytics.metrics.mandates import save_mandate_answers, save_mandate_ratings
from kam_analytics.metrics.retention import compute_retention
from kam_analytics.settings_store import BonusPlan, save_bonus_plan, save_kam_pay
from tests.test_retention import build_scenario_2025

D = dt.date
AS_OF = D(2025, 9, 30)
ALL = Scope.everything()
ANNA = Scope("anna", "kam", "K1")
BEN = Scope("ben", "kam", "K2")
LEITUNG = Scope("leitung", "management")
ADMIN = Scope("admin", "admin")


@pytest.fixture
def scenario(con):
    build_scenario_2025(con)
    return con


def k1(con, as_of=AS_OF):
    return report_bonus(con, year=2025, as_of=as_of, scope=ALL).set_index("kam_id").loc["K1"]


def audit(con, action):
    return con.execute(
        "SELECT username, target, old_value, new_value FROM audit_log WHERE action = ? "
        "ORDER BY audit_id",
        [action],
    ).fetchall()


# --- four eyes ---------------------------------------------------------------------------------


def test_kam_score_counts_only_after_approval(scenario):
    fid = add_feedback(scenario, ANNA, account_id="A1", date=D(2025, 8, 1), kind="survey", score=10)
    row = k1(scenario)
    assert (row["F"], row["bonus"]) == (pytest.approx(0.8), 6975.0)  # pending: unchanged
    [pending] = approvals.select_reviews(scenario, LEITUNG).to_dict(orient="records")
    assert (pending["feedback_id"], pending["score"], pending["entered_by"]) == (fid, 10.0, "anna")
    assert list(list_feedback(scenario, scope=ANNA, account_id="A1")["review_status"])[0] == (
        "pending"
    )

    approvals.approve_survey(scenario, LEITUNG, fid)
    row = k1(scenario)
    assert row["F"] == pytest.approx(0.85)
    assert row["bonus"] == 7025.0
    assert approvals.select_reviews(scenario, LEITUNG).empty
    [(user, target, old, new)] = audit(scenario, "feedback.approve")
    assert (user, target) == ("leitung", fid)
    assert json.loads(old) == {"status": "pending", "entered_by": "anna"}
    assert json.loads(new)["status"] == "approved" and json.loads(new)["score"] == 10.0


def test_rejected_score_never_counts(scenario):
    fid = add_feedback(scenario, ANNA, account_id="A3", date=D(2025, 8, 2), kind="survey", score=10)
    approvals.reject_survey(scenario, ADMIN, fid)
    row = k1(scenario)
    assert (row["F"], row["bonus"]) == (pytest.approx(0.8), 6975.0)
    with pytest.raises(ConfigError) as info:
        approvals.approve_survey(scenario, LEITUNG, fid)  # a rejection is final
    assert info.value.code == "survey_already_rejected"
    assert k1(scenario)["bonus"] == 6975.0
    [(user, target, _old, new)] = audit(scenario, "feedback.reject")
    assert (user, target, json.loads(new)["status"]) == ("admin", fid, "rejected")


def test_kam_cannot_approve_and_nobody_decides_own_entry(scenario):
    fid = add_feedback(scenario, ANNA, account_id="A1", date=D(2025, 8, 1), kind="survey", score=10)
    for kam in (ANNA, BEN):
        with pytest.raises(AccessDeniedError):
            approvals.approve_survey(scenario, kam, fid)
    # someone who entered an entry (then as KAM, now management) never decides on it
    approvals.insert_review(scenario, "X-1", "leitung")
    scenario.execute(
        "INSERT INTO feedback (feedback_id, account_id, date, score, kind) "
        "VALUES ('X-1', 'A1', DATE '2025-08-03', 10, 'survey')"
    )
    with pytest.raises(FourEyesError) as info:
        approvals.approve_survey(scenario, LEITUNG, "X-1")
    assert info.value.code == "four_eyes"
    assert "selbst erfasst" in " — ".join(localise_error(info.value, "de"))
    assert k1(scenario)["bonus"] == 6975.0
    assert audit(scenario, "feedback.approve") == []


def test_management_and_imported_surveys_count_at_once(scenario, tmp_path):
    add_feedback(scenario, LEITUNG, account_id="A1", date=D(2025, 8, 1), kind="survey", score=10)
    assert k1(scenario)["bonus"] == 7025.0  # F = 0.85 at once, as above
    f = tmp_path / "umfragen.csv"
    f.write_text(
        "feedback_id;account_id;date;score;kind;comment\nCRM-1;A3;01.09.2025;2;survey;\n",
        encoding="utf-8",
    )
    [res] = import_files(scenario, [f], today=D(2025, 9, 30))
    assert res.status == "done", res
    # F = (8 + 9 + 7 + 10 + 2) / 5 / 10 = 0.72 -> 10.000 x (0.4 + 0.2175 + 0.072) = 6.895,00
    row = k1(scenario)
    assert row["F"] == pytest.approx(0.72)
    assert row["bonus"] == 6895.0


def test_satisfaction_signal_uses_approved_scores_only(scenario):
    # A3's surveys 9 -> 7 fire satisfaction_drop; a pending 9 would hide it
    fid = add_feedback(scenario, ANNA, account_id="A3", date=D(2025, 8, 1), kind="survey", score=9)
    r = compute_retention(scenario, year=2025, as_of=AS_OF, scope=ALL).set_index("account_id")
    assert r.loc["A3", "sat_latest"] == 7.0
    assert "satisfaction_drop" in r.loc["A3", "signals"]
    approvals.approve_survey(scenario, LEITUNG, fid)
    r = compute_retention(scenario, year=2025, as_of=AS_OF, scope=ALL).set_index("account_id")
    assert r.loc["A3", "sat_latest"] == 9.0
    assert "satisfaction_drop" not in r.loc["A3", "signals"]


def test_kam_sees_own_pending_only(scenario):
    add_feedback(scenario, ANNA, account_id="A1", date=D(2025, 8, 1), kind="survey", score=10)
    assert len(approvals.select_reviews(scenario, ANNA)) == 1
    assert approvals.select_reviews(scenario, BEN).empty
    # praise needs no approval
    add_feedback(scenario, ANNA, account_id="A1", date=D(2025, 8, 1), kind="praise", comment="Top")
    assert len(approvals.select_reviews(scenario, LEITUNG)) == 1


# --- closing a year ------------------------------------------------------------------------------


def test_close_freezes_the_statement_and_shows_the_difference(scenario, tmp_path):
    live = get_standing(scenario, kam_id="K1", year=2025, scope=ALL)
    assert (live.now.R, live.now.M, live.now.F, live.now.bonus) == (
        0.0,
        pytest.approx(1 / 3),
        pytest.approx(0.8),
        1800.0,
    )
    close_id = bonus_close.close_year(scenario, LEITUNG, 2025)
    assert is_year_closed(scenario, 2025)
    [(user, target, old, new)] = audit(scenario, "bonus.close_year")
    assert (user, target, old) == ("leitung", "2025", None)
    assert json.loads(new) == {
        "close_id": close_id,
        # K2: A4 active (CRM), A5 lost -> R = 0.5 = gate; M = 0 (no ratings at year end),
        # no survey -> w 0.6 / 0.3 scaled to 2/3 / 1/3 -> 9.000 x 2/3 x 0.5 = 3.000,00
        "bonus": {"K1": 1800.0, "K2": 3000.0, "K3": 0.0},
    }

    issued = bonus_close.issued_statement(scenario, year=2025, kam_id="K1", scope=ANNA, live=live)
    assert issued.standing.now == live.now
    assert issued.differences == ()
    assert bonus_close.difference_text(issued, "de") is None
    assert list(issued.standing.counted["account_id"]) == ["A1", "A2", "A3"]
    assert list(issued.standing.surveys["score"]) == list(live.surveys["score"])

    # a CRM import after the close changes today's data, never the issued statement
    f = tmp_path / "umfragen.csv"
    f.write_text(
        "feedback_id;account_id;date;score;kind;comment\nCRM-9;A1;01.11.2025;4;survey;\n",
        encoding="utf-8",
    )
    [res] = import_files(scenario, [f], today=D(2026, 1, 15))
    assert res.status == "done", res
    live = get_standing(scenario, kam_id="K1", year=2025, scope=ALL)
    assert (live.now.F, live.now.bonus) == (pytest.approx(0.7), 1700.0)
    issued = bonus_close.issued_statement(scenario, year=2025, kam_id="K1", scope=ALL, live=live)
    assert issued.standing.now.bonus == 1800.0
    assert issued.standing.now.F == pytest.approx(0.8)
    assert [p for p, _a, _b in issued.differences] == ["F", "bonus"]
    text = bonus_close.difference_text(issued, "de")
    assert text.startswith(
        "Ausgestellt 1.800,00\xa0€, mit den heutigen Daten ergäben sich 1.700,00\xa0€."
    )
    assert "F 80,0\xa0% → 70,0\xa0%" in text
    en = bonus_close.difference_text(issued, "en")
    assert en.startswith("Issued €1,800.00, today's data would give €1,700.00.")

    # the statement files carry the issued figures and the difference
    rows = {label: shown for label, _raw, shown in summary_rows(issued.standing, "de", issued)}
    assert rows["Bonus jetzt"] == "1.800,00\xa0€"
    assert rows["Bonus nach heutigen Daten"] == "1.700,00\xa0€"
    assert rows["Abweichung"] == text
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(issued.standing, "de", issued)))
    cells = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(values_only=True) if r[0]}
    assert cells["Bonus jetzt"] == 1800.0
    assert cells["Bonus nach heutigen Daten"] == 1700.0
    assert statement_pdf(issued.standing, "de", issued=issued).startswith(b"%PDF")


def test_closed_year_refuses_writes_of_its_inputs(scenario):
    bonus_close.close_year(scenario, ADMIN, 2025)
    before = scenario.execute("SELECT count(*) FROM audit_log").fetchall()[0][0]
    attempts = [
        lambda: add_feedback(
            scenario, ANNA, account_id="A1", date=D(2025, 3, 1), kind="survey", score=10
        ),
        lambda: add_feedback(
            scenario, LEITUNG, account_id="A1", date=D(2025, 12, 31), kind="praise", comment="x"
        ),
        lambda: save_mandate_ratings(scenario, LEITUNG, "A3", 2025, {"objectives_rating": 100}),
        lambda: save_bonus_plan(scenario, ADMIN, 2025, BonusPlan(w_feedback=0.5)),
        lambda: save_kam_pay(scenario, ADMIN, "K1", 2025, 60000, 20000),
    ]
    variants = []
    for attempt in attempts:
        with pytest.raises(YearClosedError) as info:
            attempt()
        variants.append(info.value.code)
    assert variants == [
        "year_closed_feedback",
        "year_closed_feedback",
        "year_closed_mandate_ratings",
        "year_closed_bonus_plan",
        "year_closed_kam_pay",
    ]
    assert scenario.execute("SELECT count(*) FROM audit_log").fetchall()[0][0] == before
    assert scenario.execute("SELECT count(*) FROM feedback").fetchall()[0][0] == 5  # as built
    assert k1(scenario, None)["bonus"] == 1800.0
    # localised, naming the year, the date and who closed it
    text = " — ".join(localise_error(info.value, "de"))
    assert text.startswith("Das Jahr 2025 ist abgeschlossen (Abrechnungen ausgestellt am ")
    assert "von admin): die Vergütung 2025 kann nicht mehr geändert werden" in text
    # open years and answers (no bonus input) stay writable
    add_feedback(scenario, ANNA, account_id="A1", date=D(2026, 1, 5), kind="survey", score=9)
    save_mandate_answers(scenario, ANNA, "A1", 2025, {"contact": "Frau Dr. Weiß"})
    require_open_year(scenario, 2026, "feedback")


def test_pending_survey_of_closed_year_cannot_be_approved(scenario):
    fid = add_feedback(scenario, ANNA, account_id="A1", date=D(2025, 8, 1), kind="survey", score=10)
    with pytest.raises(ConfigError) as info:
        bonus_close.close_year(scenario, LEITUNG, 2025)  # decide first
    assert info.value.code == "year_pending_surveys" and info.value.params["n"] == 1
    approvals.reject_survey(scenario, LEITUNG, fid)
    bonus_close.close_year(scenario, LEITUNG, 2025)
    # an entry made pending before (simulated) and approved after the close is refused
    approvals.insert_review(scenario, "X-2", "anna")
    scenario.execute(
        "INSERT INTO feedback (feedback_id, account_id, date, score, kind) "
        "VALUES ('X-2', 'A1', DATE '2025-08-03', 10, 'survey')"
    )
    with pytest.raises(YearClosedError):
        approvals.approve_survey(scenario, LEITUNG, "X-2")


def test_close_rules_and_reopen_is_audited(scenario):
    with pytest.raises(AccessDeniedError):
        bonus_close.close_year(scenario, ANNA, 2025)
    with pytest.raises(ConfigError) as info:
        bonus_close.close_year(scenario, LEITUNG, 2025, today=D(2025, 12, 31))
    assert info.value.code == "year_not_over"
    bonus_close.close_year(scenario, LEITUNG, 2025)
    with pytest.raises(ConfigError) as info:
        bonus_close.close_year(scenario, LEITUNG, 2025)
    assert info.value.code == "year_already_closed"
    with pytest.raises(AccessDeniedError):
        bonus_close.reopen_year(scenario, ANNA, 2025, "mine")
    with pytest.raises(ConfigError) as info:
        bonus_close.reopen_year(scenario, LEITUNG, 2025, "  ")
    assert info.value.code == "reopen_no_reason"

    bonus_close.reopen_year(scenario, ADMIN, 2025, "Bewertung A3 korrigieren")
    assert not is_year_closed(scenario, 2025)
    [(user, target, old, new)] = audit(scenario, "bonus.reopen_year")
    assert (user, target, json.loads(new)) == (
        "admin",
        "2025",
        {"reason": "Bewertung A3 korrigieren"},
    )
    assert json.loads(old)["closed_by"] == "leitung"
    live = get_standing(scenario, kam_id="K1", year=2025, scope=ALL)
    assert (
        bonus_close.issued_statement(scenario, year=2025, kam_id="K1", scope=ALL, live=live) is None
    )

    # corrected and closed again: a new statement, the first one kept
    save_mandate_ratings(scenario, LEITUNG, "A3", 2025, {"objectives_rating": 100})
    second = bonus_close.close_year(scenario, LEITUNG, 2025)
    live = get_standing(scenario, kam_id="K1", year=2025, scope=ALL)
    issued = bonus_close.issued_statement(scenario, year=2025, kam_id="K1", scope=ALL, live=live)
    # M = (0.85 + 0 + 0.40) / 3 -> score 0.3 x 0.41667 + 0.08 = 0.205 -> 2.050,00
    assert (issued.close_id, issued.standing.now.bonus, issued.differences) == (second, 2050.0, ())
    n = scenario.execute("SELECT count(*) FROM bonus_statements WHERE kam_id = 'K1'").fetchall()
    assert n == [(2,)]


def test_kam_sees_no_other_statement(scenario):
    bonus_close.close_year(scenario, LEITUNG, 2025)
    live = get_standing(scenario, kam_id="K1", year=2025, scope=ALL)
    with pytest.raises(KamError):
        bonus_close.issued_statement(scenario, year=2025, kam_id="K1", scope=BEN, live=live)


def test_issued_statement_renders_as_the_live_one_on_the_demo(demo_copy):
    """Every KAM of the demo company: the statement stored at the close reads back exactly."""
    from kam_analytics import db
    from kam_analytics.exports.bonus_statement import account_rows

    con = db.connect(demo_copy)
    try:
        year = D.today().year - 1
        bonus_close.close_year(con, LEITUNG, year)
        for live in compute_standings(con, year=year, scope=ALL):
            issued = bonus_close.issued_statement(
                con, year=year, kam_id=live.kam_id, scope=ALL, live=live
            )
            s = issued.standing
            assert issued.differences == ()
            assert (s.now, s.best, s.worst, s.plan) == (live.now, live.best, live.worst, live.plan)
            assert (s.base_salary, s.target_bonus, s.as_of) == (
                live.base_salary,
                live.target_bonus,
                live.as_of,
            )
            for lang in ("de", "en"):
                assert summary_rows(s, lang) == summary_rows(live, lang)
            assert account_rows(s) == account_rows(live)
            assert list(s.accounts.columns) == list(live.accounts.columns)
            assert s.surveys[["feedback_id", "score"]].values.tolist() == (
                live.surveys[["feedback_id", "score"]].values.tolist()
            )
    finally:
        con.close()


ENTRY = st.tuples(
    st.integers(0, 20).map(lambda n: n / 2),  # score 0..10 in half points
    st.sampled_from(["kam", "management"]),  # who enters it
    st.sampled_from([None, "approve", "reject"]),  # management's decision on a KAM entry
)


_HYP_CON = []


def hyp_con():
    """One in-memory database for every hypothesis example: K1 with one key account A1
    (active on 1 January and on 30.09.2025) and one imported survey 6; entries reset each time."""
    from kam_analytics import db

    if not _HYP_CON:
        con = db.connect_memory()
        con.execute("INSERT INTO kams VALUES ('K1', 'Anna', NULL, 60000, 10000, NULL, NULL)")
        con.execute(
            "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES ('A1', 'X', 'KEY', 'K1')"
        )
        con.execute(
            "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue) VALUES "
            "('o1', '1', 'A1', DATE '2024-12-01', 100), ('o2', '1', 'A1', DATE '2025-09-01', 100)"
        )
        con.execute(
            "INSERT INTO feedback (feedback_id, account_id, date, score, kind) "
            "VALUES ('CRM-1', 'A1', DATE '2025-02-01', 6, 'survey')"
        )
        _HYP_CON.append(con)
    con = _HYP_CON[0]
    con.execute("DELETE FROM feedback_reviews")
    con.execute("DELETE FROM feedback WHERE feedback_id <> 'CRM-1'")
    return con


@settings(max_examples=12, deadline=None)
@given(entries=st.lists(ENTRY, max_size=5))
def test_f_is_the_mean_of_counted_surveys_only(entries):
    """Whatever is entered and decided: F = mean of imported, management's and approved scores."""
    con = hyp_con()
    counted = [6.0]
    for i, (score, who, decision) in enumerate(entries):
        scope = ANNA if who == "kam" else LEITUNG
        fid = add_feedback(
            con, scope, account_id="A1", date=D(2025, 3, 1 + i), kind="survey", score=score
        )
        if who == "kam" and decision:
            approvals.decide_survey(con, ADMIN, fid, decision == "approve")
        if who == "management" or decision == "approve":
            counted.append(score)
    s = get_standing(con, kam_id="K1", year=2025, as_of=AS_OF, scope=ALL)
    assert s.now.F == pytest.approx(sum(counted) / len(counted) / 10)
    assert sorted(s.surveys["score"]) == sorted(counted)
    pending = sum(1 for _s, who, d in entries if who == "kam" and d is None)
    assert len(approvals.select_reviews(con, ALL)) == pending


def test_two_managers_closing_at_once_issue_one_set(scenario):
    """Two sessions (cursors, threads) click "close" together: one close, one refusal."""
    import threading

    outcomes = []

    def close(cursor):
        try:
            outcomes.append(bonus_close.close_year(cursor, LEITUNG, 2025))
        except ConfigError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=close, args=(scenario.cursor(),)) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(map(str, outcomes)) == ["1", "year_already_closed"]
    assert scenario.execute("SELECT count(*) FROM year_closes").fetchall() == [(1,)]
    assert scenario.execute("SELECT count(*) FROM bonus_statements").fetchall() == [(3,)]
