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


# --- appearance and language ---------------------------------------------------------------


def test_appearance_defaults_come_from_the_settings_store(con):
    from kam_analytics.settings_store import DEFAULT_COLORS, DEFAULT_FONT, get_appearance

    assert get_appearance(con) == {
        "company_name": "",
        "theme_colors": list(DEFAULT_COLORS),
        "theme_font": DEFAULT_FONT,
        "default_language": "de",
    }


def test_appearance_round_trip_feeds_theme_and_language(con):
    from kam_analytics.exports.theme import apply_theme, load_theme
    from kam_analytics.settings_store import (
        DEFAULT_COLORS,
        get_appearance,
        get_default_language,
        save_appearance,
    )

    saved = save_appearance(
        con,
        ADMIN,
        {
            "company_name": "  Müller Großhandel GmbH ",
            "theme_colors": ["#1f4e79", "#C00000", " #00b050 "],
            "theme_font": "Liberation Serif, serif",
            "default_language": "en",
        },
    )
    expected = {
        "company_name": "Müller Großhandel GmbH",
        "theme_colors": ["#1F4E79", "#C00000", "#00B050"],
        "theme_font": "Liberation Serif, serif",
        "default_language": "en",
    }
    assert saved == expected
    assert get_appearance(con) == expected
    assert get_default_language(con) == "en"
    theme = load_theme(con)
    # The three saved colours first, topped up with the remaining default colours.
    assert theme.colors[:3] == ("#1F4E79", "#C00000", "#00B050")
    assert theme.colors[3:] == DEFAULT_COLORS  # none of the three is a default colour
    assert theme.font == "Liberation Serif, serif"
    assert theme.company == "Müller Großhandel GmbH"
    import plotly.graph_objects as go

    fig = apply_theme(go.Figure(go.Bar(x=[1], y=[2])), title="T", lang="en", theme=theme)
    assert list(fig.layout.colorway[:3]) == ["#1F4E79", "#C00000", "#00B050"]
    assert fig.layout.font.family == "Liberation Serif, serif"
    assert "Müller Großhandel GmbH" in fig.layout.title.subtitle.text
    # A partial save changes only what it names.
    assert save_appearance(con, ADMIN, {"default_language": "de"})["theme_font"] == (
        "Liberation Serif, serif"
    )
    assert get_default_language(con) == "de"


def test_appearance_validation(con):
    from kam_analytics.settings_store import get_appearance, save_appearance

    before = get_appearance(con)
    bad = [
        ({"theme_colors": ["#1f4e7"]}, "not a hex colour"),
        ({"theme_colors": ["1f4e79"]}, "not a hex colour"),
        ({"theme_colors": ["#1F4E79", "red"]}, "not a hex colour"),
        ({"theme_colors": []}, "1 to 10 colours"),
        ({"theme_colors": ["#000000"] * 11}, "1 to 10 colours"),
        ({"default_language": "fr"}, "not supported"),
        ({"theme_font": "   "}, "not a valid font"),
        ({"theme_font": "A" * 101}, "not a valid font"),
        ({"theme_font": "Arial; color: red"}, "not a valid font"),
        ({"company_name": "X" * 101}, "at most 100 characters"),
        ({"colour": "#000000"}, "Unknown appearance setting"),
        # Nothing is written when one value of several is bad.
        ({"company_name": "Neu", "theme_colors": ["#12345G"]}, "not a hex colour"),
    ]
    for new, message in bad:
        with pytest.raises(ConfigError) as err:
            save_appearance(con, ADMIN, new)
        assert message in err.value.message, (new, err.value.message)
        assert err.value.hint
    assert get_appearance(con) == before
    assert list_audit(con, ADMIN, action="settings.appearance").empty
    # Ten colours and 100 characters are the upper limits, not errors.
    saved = save_appearance(
        con, ADMIN, {"theme_colors": ["#00000A"] * 10, "company_name": "Y" * 100}
    )
    assert len(saved["theme_colors"]) == 10 and saved["company_name"] == "Y" * 100


def test_appearance_admin_only_and_logged(con):
    from kam_analytics.settings_store import DEFAULT_COLORS, save_appearance

    with pytest.raises(AccessDeniedError):
        save_appearance(con, BOSS, {"default_language": "en"})
    with pytest.raises(AccessDeniedError):
        save_appearance(con, Scope("kam02", "kam", "KAM02"), {"company_name": "X"})
    assert list_audit(con, ADMIN, action="settings.appearance").empty

    save_appearance(
        con,
        ADMIN,
        {"theme_colors": ["#1F4E79"], "default_language": "de", "company_name": "ACME"},
    )
    log = list_audit(con, ADMIN, action="settings.appearance")
    # default_language "de" is unchanged, so it is neither written nor logged.
    rows = {
        r.target: (json.loads(r.old_value), json.loads(r.new_value), r.username)
        for r in log.itertuples()
    }
    assert rows == {
        "theme_colors": (list(DEFAULT_COLORS), ["#1F4E79"], "root"),
        "company_name": ("", "ACME", "root"),
    }
    stored = con.execute(
        "SELECT key, CAST(value AS VARCHAR), updated_by FROM settings "
        "WHERE key IN ('theme_colors', 'company_name', 'default_language') ORDER BY key"
    ).fetchall()
    assert [(k, json.loads(v), u) for k, v, u in stored] == [
        ("company_name", "ACME", "root"),
        ("theme_colors", ["#1F4E79"], "root"),
    ]


def test_settings_page_appearance_admin_edits(demo_copy, monkeypatch):
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = _run_page(demo_copy, "settings", "admin", "admin")
    assert not at.exception, at.exception
    assert "Erscheinungsbild und Sprache" in [s.value for s in at.subheader]
    pickers = [at.color_picker(key=f"set_app_color_{i}") for i in range(8)]
    assert [p.value.upper() for p in pickers] == [
        "#1F3A5F",
        "#3E7CB1",
        "#8AA29E",
        "#D08C2E",
        "#6C757D",
        "#4C8C4A",
        "#A23B3B",
        "#B8C4D6",
    ]
    assert not any(p.disabled for p in pickers)
    assert not at.text_input(key="set_app_font").disabled
    assert at.selectbox(key="set_app_language").value == "de"
    # Three colours, a new first one, English as default -> saved, logged, read back.
    at.number_input(key="set_app_n").set_value(3).run()
    at.color_picker(key="set_app_color_0").pick("#1f4e79").run()
    at.text_input(key="set_app_company").input("Beispiel AG").run()
    at.selectbox(key="set_app_language").set_value("en").run()
    at.button(key="set_app_save").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Gespeichert" in s.value for s in at.success)

    from kam_analytics import db
    from kam_analytics.settings_store import get_appearance, get_default_language

    con = db.connect(demo_copy)
    try:
        assert get_appearance(con) == {
            "company_name": "Beispiel AG",
            "theme_colors": ["#1F4E79", "#3E7CB1", "#8AA29E"],
            "theme_font": "Liberation Sans, Arial, Helvetica, sans-serif",
            "default_language": "en",
        }
        assert get_default_language(con) == "en"
    finally:
        con.close()


def test_settings_page_appearance_read_only_for_management(demo_copy, monkeypatch):
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = _run_page(demo_copy, "settings", "leitung", "management")
    assert not at.exception, at.exception
    assert "Erscheinungsbild und Sprache" in [s.value for s in at.subheader]
    assert len(at.color_picker) == 8
    assert all(p.disabled for p in at.color_picker)
    assert at.text_input(key="set_app_company").disabled
    assert at.text_input(key="set_app_font").disabled
    assert at.selectbox(key="set_app_language").disabled
    assert at.button(key="set_app_save").disabled


def test_default_language_from_settings(con):
    from kam_analytics.settings_store import get_default_language

    assert get_default_language(con) == "de"
    con.execute("INSERT INTO settings (key, value) VALUES ('default_language', '\"en\"')")
    assert get_default_language(con) == "en"
    con.execute("UPDATE settings SET value = '\"fr\"' WHERE key = 'default_language'")
    assert get_default_language(con) == "de"


def test_one_reader_and_writer_of_settings(con):
    from kam_analytics.settings_store import get_setting, select_settings, upsert_setting

    assert get_setting(con, "nothing", "dflt") == "dflt"
    upsert_setting(con, "retention.gap_factor", 2.5, "admin")
    upsert_setting(con, "company_name", "Muster AG", "admin")
    con.execute("INSERT INTO settings (key, value) VALUES ('theme_font', NULL)")
    assert select_settings(con, "retention.") == {"retention.gap_factor": 2.5}
    # NULL values are left out, as if not stored
    assert select_settings(con, keys=("company_name", "theme_font")) == {
        "company_name": "Muster AG"
    }
    assert get_retention_settings(con).gap_factor == 2.5


def test_retention_defaults_have_one_source():
    from kam_analytics.settings_store import DEFAULT_RETENTION, RETENTION_DEFAULTS

    assert RETENTION_DEFAULTS["retention.activity_window_days"] == 90
    assert DEFAULT_RETENTION.activity_window_days == 90
    assert RETENTION_DEFAULTS == {f"retention.{k}": v for k, v in vars(DEFAULT_RETENTION).items()}


def test_settings_store_imports_nothing_from_exports():
    import ast
    from pathlib import Path

    import kam_analytics.settings_store as store

    tree = ast.parse(Path(store.__file__).read_text(encoding="utf-8"))
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if "exports" in m or m.startswith("plotly")]
