"""Settings with defaults, admin-only changes, audit old -> new; the pages in AppTest."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kam_analytics.access import Scope
from kam_analytics.audit import list_audit
from kam_analytics.errors import AccessDeniedError, ConfigError
from kam_analytics.settings_store import (
    BonusPlan,
    RetentionSettings,
    delete_kam_pay,
    get_bonus_plan,
    get_kam_pay,
    get_retention_settings,
    save_bonus_plan,
    save_kam_pay,
    save_retention_settings,
)

ADMIN = Scope.everything("root")
BOSS = Scope("leitung", "management", None)


def test_defaults_on_empty_database(con):
    assert get_retention_settings(con) == RetentionSettings(90, 1.5, 0.25, 2.0, 6, 30)
    assert get_bonus_plan(con, 2025) == BonusPlan(0.6, 0.3, 0.1, 0.5, 1.2)
    import datetime as dt

    assert RetentionSettings(mandate_check_month=2, mandate_check_day=31).mandate_check_date(
        2024
    ) == dt.date(2024, 2, 29)


def test_retention_settings_admin_only_and_logged(con):
    with pytest.raises(AccessDeniedError):
        save_retention_settings(con, BOSS, {"activity_window_days": 60})
    new = save_retention_settings(con, ADMIN, {"activity_window_days": 60, "gap_factor": 1.5})
    assert new.activity_window_days == 60 and new.gap_factor == 1.5
    log = list_audit(con, Scope.everything(), action="settings.retention")
    assert len(log) == 1  # the unchanged gap factor is not logged
    assert (
        log.iloc[0]["target"],
        json.loads(log.iloc[0]["old_value"]),
        json.loads(log.iloc[0]["new_value"]),
    ) == ("retention.activity_window_days", 90, 60)
    with pytest.raises(ConfigError):
        save_retention_settings(con, ADMIN, {"revenue_drop": 1.5})
    # A broken stored value falls back to the default instead of breaking the metrics.
    con.execute(
        "UPDATE settings SET value = '\"abc\"' WHERE key = 'retention.activity_window_days'"
    )
    assert get_retention_settings(con).activity_window_days == 90


def test_bonus_plan_per_year(con):
    save_bonus_plan(con, ADMIN, 2024, BonusPlan(0.5, 0.4, 0.1, 0.6, 1.0))
    assert get_bonus_plan(con, 2024) == BonusPlan(0.5, 0.4, 0.1, 0.6, 1.0)
    assert get_bonus_plan(con, 2025) == BonusPlan()  # other years keep the defaults
    con.execute("INSERT INTO bonus_plans (year, cap) VALUES (2023, 1.5)")
    assert get_bonus_plan(con, 2023) == BonusPlan(cap=1.5)  # missing fields default
    with pytest.raises(ConfigError):
        save_bonus_plan(con, ADMIN, 2024, BonusPlan(0, 0, 0, 0.5, 1.2))
    with pytest.raises(AccessDeniedError):
        save_bonus_plan(con, BOSS, 2024, BonusPlan())
    log = list_audit(con, Scope.everything(), action="settings.bonus_plan")
    assert len(log) == 1 and pd.isna(log.iloc[0]["old_value"])
    assert json.loads(log.iloc[0]["new_value"])["retention_gate"] == 0.6


def test_kam_pay_override_and_fallback(con):
    con.execute(
        "INSERT INTO kams VALUES ('K1', 'Anna', NULL, 60000, 10000, NULL, NULL), "
        "('K2', 'Ben', NULL, NULL, NULL, NULL, NULL)"
    )
    save_kam_pay(con, ADMIN, "K1", 2025, target_bonus=12000, base_salary=61000)
    pay = get_kam_pay(con, 2025, ADMIN).set_index("kam_id")
    assert pay.loc["K1", ["base_salary", "target_bonus", "overridden"]].tolist() == [
        61000.0,
        12000.0,
        True,
    ]
    assert get_kam_pay(con, 2024, ADMIN).set_index("kam_id").loc["K1", "target_bonus"] == 10000.0
    assert (
        get_kam_pay(con, 2025, ADMIN).set_index("kam_id").loc["K2", "target_bonus"]
        != get_kam_pay(con, 2025, ADMIN).set_index("kam_id").loc["K2", "target_bonus"]
    )  # NaN
    assert get_kam_pay(con, 2025, Scope("b", "kam", "K2"))["kam_id"].tolist() == ["K2"]
    delete_kam_pay(con, ADMIN, "K1", 2025)
    assert get_kam_pay(con, 2025, ADMIN).set_index("kam_id").loc["K1", "target_bonus"] == 10000.0
    log = list_audit(con, Scope.everything(), action="settings.kam_pay")
    assert len(log) == 2 and pd.isna(log.iloc[0]["new_value"])  # newest first: the reset


# --- the pages against the demo database ------------------------------------------------

PAGES = ("retention", "mandate", "bonus", "account", "settings")


def _run_page(path, page, user, role, kam_id=None):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scope"] = Scope(user, role, kam_id)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_pages_run_for_admin(demo_copy, page, monkeypatch):
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = _run_page(demo_copy, page, "admin", "admin")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value


def test_bonus_page_for_a_kam_shows_only_their_own(demo_copy, monkeypatch):
    from kam_analytics import db
    from kam_analytics.metrics.bonus import report_bonus

    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = _run_page(demo_copy, "bonus", "kam02", "kam", "KAM02")
    assert not at.exception
    assert at.selectbox(key="bn_kam").options == ["KAM02 – Jan Petersen"]
    con = db.connect(demo_copy)
    try:
        expected = report_bonus(con, year=None, scope=Scope("kam02", "kam", "KAM02"))
    finally:
        con.close()
    from kam_analytics.i18n import fmt_eur

    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Bonus jetzt"] == fmt_eur(expected["bonus"].iloc[0], "de")
    assert metrics["Bonus schlechtester Fall"] == fmt_eur(expected["bonus_worst"].iloc[0], "de")
    assert any("Zielbonus × min(" in m.value for m in at.markdown)
    # What-if: mark every counted account lost -> the page shows what_if_bonus's figure.
    import datetime as dt

    from kam_analytics.metrics.bonus import get_standing, what_if_bonus

    con = db.connect(demo_copy)
    try:
        k = Scope("kam02", "kam", "KAM02")
        ids = list(get_standing(con, kam_id="KAM02", year=None, scope=k).counted["account_id"])
        expected_if = what_if_bonus(con, kam_id="KAM02", year=None, scope=k, lost=ids).bonus
    finally:
        con.close()
    at.multiselect(key=f"bn_lost_KAM02_{dt.date.today().year}").set_value(ids).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Bonus in diesem Fall"] == fmt_eur(expected_if, "de")


def test_settings_page_read_only_for_kam(demo_copy, monkeypatch):
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = _run_page(demo_copy, "settings", "kam02", "kam", "KAM02")
    assert not at.exception
    assert all(n.disabled for n in at.number_input)
    assert len(at.dataframe) == 1  # only their own pay row, no change log
