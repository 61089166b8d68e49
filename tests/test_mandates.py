"""Mandate answers, ratings, completeness and scores; feedback entry; the account page data."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_analytics.access import Scope
from kam_analytics.audit import list_audit
from kam_analytics.errors import AccessDeniedError, ConfigError, NotFoundError
from kam_analytics.metrics import mandates as md
from kam_analytics.metrics.account import account_summary
from kam_analytics.metrics.feedback import add_feedback, list_feedback, praise_quotes
from tests.test_retention import build_scenario_2025

ADMIN = Scope.everything("root")
BOSS = Scope("leitung", "management", None)
ANNA = Scope("anna", "kam", "K1")
BEN = Scope("ben", "kam", "K2")


@pytest.fixture
def scenario(con):
    build_scenario_2025(con)
    return con


def test_scores_by_hand():
    assert md.mandate_score([80, 90, 70, 100], True) == pytest.approx(0.85)
    assert md.mandate_score([60, None, None, None], True) == pytest.approx(0.15)
    assert md.mandate_score([60, None, None, None], False) == pytest.approx(0.60)
    assert md.mandate_score([None] * 4, False) is None
    assert md.mandate_score([None] * 4, True) == 0.0
    assert md.mandate_score([150, -5, 50, 50], True) == pytest.approx(0.5)  # clipped to 0-100
    assert md.count_answered(["a", " ", None, "b"]) == 2


def test_kam_answers_own_account_only(scenario):
    saved = md.save_mandate_answers(
        scenario,
        ANNA,
        "A2",
        2025,
        {"contact": " Frau Özdemir (Einkaufsleitung) ", "objectives": "Wachstum", "support": ""},
    )
    assert saved["contact"] == "Frau Özdemir (Einkaufsleitung)"
    assert (saved["objectives"], saved["success_measures"], saved["support"]) == (
        "Wachstum",
        None,
        None,
    )
    with pytest.raises(NotFoundError):
        md.save_mandate_answers(scenario, BEN, "A2", 2025, {"contact": "x"})  # not visible
    with pytest.raises(AccessDeniedError):
        md.save_mandate_ratings(scenario, ANNA, "A2", 2025, {"contact_rating": 100})
    md.save_mandate_answers(scenario, BOSS, "A2", 2025, {"success_measures": "QBR"})
    entry = list_audit(scenario, Scope.everything(), action="mandate.answers").iloc[-1]
    assert entry["username"] == "anna" and entry["target"] == "A2/2025"


def test_ratings_management_only_and_validated(scenario):
    md.save_mandate_ratings(scenario, BOSS, "A2", 2025, {"contact_rating": 100, "support": 40})
    m = md.get_mandate(scenario, "A2", 2025, BOSS)
    assert [m[r] for r in md.RATINGS] == [100.0, None, None, 40.0]
    with pytest.raises(ConfigError):
        md.save_mandate_ratings(scenario, ADMIN, "A2", 2025, {"contact_rating": 101})
    # A rating update keeps the answers, an answer update keeps the ratings.
    md.save_mandate_answers(scenario, ADMIN, "A1", 2025, {"contact": "Neu"})
    a1 = md.get_mandate(scenario, "A1", 2025, ADMIN)
    assert (a1["contact"], a1["objectives"], a1["contact_rating"]) == ("Neu", "Rahmenvertrag", 80.0)


def test_overview_completeness(scenario):
    o = md.mandate_overview(scenario, year=2025, scope=ADMIN).set_index("account_id")
    assert list(o.index) == ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]  # key accounts only
    assert o.loc["A1", ["answered", "rated"]].tolist() == [4, 4]
    assert o.loc["A1", "score_year_end"] == pytest.approx(0.85)
    assert o.loc["A3", "score_so_far"] == pytest.approx(0.6)
    assert o.loc["A3", "score_year_end"] == pytest.approx(0.15)
    assert o.loc["A5", "completeness"] == 0.75
    assert o.loc["A2", "answered"] == 0 and o.loc["A2", "score_year_end"] == 0.0
    assert list(md.mandate_overview(scenario, year=2025, scope=BEN)["account_id"]) == [
        "A4",
        "A5",
        "A6",
    ]


def test_feedback_entry_and_praise(scenario):
    fid = add_feedback(
        scenario,
        ANNA,
        account_id="A1",
        date=dt.date(2025, 8, 1),
        kind="praise",
        comment="Schnelle Hilfe bei Lieferengpass",
    )
    assert fid.startswith("UI-")
    quotes = praise_quotes(scenario, scope=ANNA, kam_id="K1", year=2025)
    assert quotes["comment"].tolist() == [
        "Schnelle Hilfe bei Lieferengpass",
        "Immer erreichbar, super Service!",
    ]
    with pytest.raises(ConfigError):
        add_feedback(scenario, ANNA, account_id="A1", date=dt.date(2025, 8, 1), kind="survey")
    with pytest.raises(ConfigError):
        add_feedback(
            scenario, ANNA, account_id="A1", date=dt.date(2025, 8, 1), kind="survey", score=11
        )
    with pytest.raises(NotFoundError):
        add_feedback(
            scenario, BEN, account_id="A1", date=dt.date(2025, 8, 1), kind="survey", score=5
        )
    add_feedback(scenario, BEN, account_id="A4", date=dt.date(2025, 8, 2), kind="survey", score=7.5)
    fb = list_feedback(scenario, scope=BEN, kinds=("survey",))
    assert fb[["account_id", "score"]].values.tolist() == [["A4", 7.5]]


def test_account_summary(scenario):
    scenario.execute(
        "INSERT INTO service_events (event_id, account_id, date, service_code, quantity, cost, "
        "list_value, billed_amount, billing_mode) VALUES "
        "('E1', 'A3', DATE '2025-03-01', 'TRAINING', 1, 900, 1800, 0, 'silent'), "
        "('E2', 'A3', DATE '2025-04-01', 'TRAINING', 1, 900, 1800, 1800, 'billed'), "
        "('E3', 'A3', DATE '2024-04-01', 'TRAINING', 1, 900, 1800, 0, 'silent')"
    )
    scenario.execute(
        "INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost, "
        "freight_charged) VALUES ('S1', 'A3', DATE '2025-05-05', 'express', 80, 0)"
    )
    s = account_summary(
        scenario, account_id="A3", year=2025, as_of=dt.date(2025, 9, 30), scope=ANNA
    )
    assert s["info"]["kam_name"] == "Anna Müller" and s["info"]["tier"] == "KEY"
    sv = s["services"].set_index("service_code")
    assert sv.loc[
        "TRAINING", ["events", "list_value", "billed_amount", "unbilled_value"]
    ].tolist() == [2, 3600.0, 1800.0, 1800.0]
    assert sv.loc["EXPRESS_FREIGHT", "list_value"] == 80.0
    rev = s["revenue"].set_index("year")
    assert rev.loc[2024, "net_revenue"] == 19000.0  # 10.000 (March) + 5.000 + 4.000
    assert rev.loc[2024, "margin"] == pytest.approx(7600.0)
    assert s["retention"]["signals"] == "revenue_drop;satisfaction_drop"
    assert s["mandate_answered"] == 4 and s["mandate_score"] == pytest.approx(0.6)
    assert len(s["feedback"]) == 2
    with pytest.raises(NotFoundError):
        account_summary(scenario, account_id="A3", year=2025, scope=BEN)
