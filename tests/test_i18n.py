"""German and English: identical label keys, every used key defined, formats exact, default."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
import tomllib
from pathlib import Path

import pytest

from kam_analytics import i18n
from kam_analytics.glossary import billing_mode_label, policy_label, tier_label
from kam_analytics.i18n import (
    LOCALE_DIR,
    fmt_date,
    fmt_eur,
    fmt_number,
    fmt_pct,
    load_labels,
    select_service_names,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    ROOT / "app.py",
    *sorted((ROOT / "pages").glob("*.py")),
    *sorted((ROOT / "ui").glob("*.py")),
    *sorted((ROOT / "kam_analytics").rglob("*.py")),
]
# tr("key") / t("key", ...) with a plain string literal (f-strings are built keys, left out).
KEY_CALL = re.compile(r"(?<![\w.])(?:tr|t)\(\s*(?<![fF])([\"'])([A-Za-z][A-Za-z0-9_.]*)\1")
NBSP = "\u00a0"


def locale_files() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*.toml"))


@pytest.mark.parametrize("path", locale_files(), ids=lambda p: p.name)
def test_locale_file_has_identical_keys_in_both_languages(path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"de", "en"}, f"{path.name}: tables {sorted(data)}"
    de, en = set(data["de"]), set(data["en"])
    assert de - en == set(), f"{path.name}: only German: {sorted(de - en)}"
    assert en - de == set(), f"{path.name}: only English: {sorted(en - de)}"
    empty = [k for lang in ("de", "en") for k, v in data[lang].items() if not str(v).strip()]
    assert empty == [], f"{path.name}: empty labels {empty}"


def test_no_key_is_defined_twice_with_different_files():
    seen: dict[str, str] = {}
    clashes = []
    for path in locale_files():
        for key in tomllib.loads(path.read_text(encoding="utf-8")).get("de", {}):
            if key in seen:
                clashes.append(f"{key} ({seen[key]}, {path.name})")
            seen[key] = path.name
    assert clashes == []


def used_keys() -> dict[str, list[str]]:
    """Literal label keys used in the source: key -> files using it."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for match in KEY_CALL.finditer(text):
            found.setdefault(match.group(2), []).append(str(path.relative_to(ROOT)))
    return found


def test_scanner_finds_keys():
    keys = used_keys()
    # a few keys that certainly are used: the app's navigation and this area's labels
    assert "sidebar_language" in keys
    assert "deck_glance_title" in keys
    assert "dl_xlsx" in keys


def test_every_used_key_exists_in_both_languages():
    labels = load_labels()
    missing = {
        lang: sorted(
            f"{k} ({', '.join(sorted(set(files)))})"
            for k, files in used_keys().items()
            if k not in labels[lang]
        )
        for lang in ("de", "en")
    }
    assert missing == {"de": [], "en": []}


def test_money_formats():
    assert fmt_eur(1234.56, "de") == f"1.234,56{NBSP}€"
    assert fmt_eur(1234.56, "en") == "€1,234.56"
    assert fmt_eur(-1234.5, "de") == f"-1.234,50{NBSP}€"
    assert fmt_eur(12500, "de", 0) == f"12.500{NBSP}€"
    assert fmt_eur(12500, "en", 0) == "€12,500"
    assert fmt_eur(0, "de") == f"0,00{NBSP}€"
    assert fmt_eur(None) == "–"
    assert fmt_eur(float("nan"), "en") == "–"


def test_number_and_percent_formats():
    assert fmt_number(1234567, "de") == "1.234.567"
    assert fmt_number(1234567, "en") == "1,234,567"
    assert fmt_number(3.14159, "de", 2) == "3,14"
    assert fmt_number(3.14159, "en", 2) == "3.14"
    assert fmt_pct(0.256, "de") == f"25,6{NBSP}%"
    assert fmt_pct(0.256, "en") == "25.6%"
    assert fmt_pct(1, "de", 0) == f"100{NBSP}%"
    assert fmt_pct(None, "de") == "–"


def test_date_formats():
    assert fmt_date(dt.date(2025, 12, 31), "de") == "31.12.2025"
    assert fmt_date(dt.date(2025, 12, 31), "en") == "31 Dec 2025"
    assert fmt_date("2025-03-01", "de") == "01.03.2025"
    assert fmt_date(dt.datetime(2025, 3, 1, 14, 30), "en") == "1 Mar 2025"
    assert fmt_date(None, "de") == "–"


def test_terms():
    assert tier_label("KEY", "de") == "Key Account"
    assert tier_label("A", "de") == "A-Kunde"
    assert tier_label("B", "en") == "B customer"
    assert tier_label("X", "en") == "X"
    assert billing_mode_label("waived", "de") == "Ausgewiesen, nicht berechnet"
    assert billing_mode_label("silent", "en") == "Provided free, not invoiced"
    assert policy_label("not_offered", "de") == "nicht angeboten"


def test_service_names_by_language(con):
    assert select_service_names(con, "de")["TRAINING"] == "Trainingsmaßnahme beim Kunden"
    assert select_service_names(con, "en")["TRAINING"] == "Training at the customer"


KEY_LIKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


@pytest.mark.slow
def test_every_page_renders_in_both_languages_without_raw_keys(demo_db, tmp_path, monkeypatch):
    """Walk every page of the app in German and English as an admin."""
    from streamlit.testing.v1 import AppTest

    from kam_analytics import db, users

    path = tmp_path / "app.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
        admin = con.execute(
            "SELECT username FROM users WHERE role = 'admin' ORDER BY username LIMIT 1"
        ).fetchall()[0][0]
        scope = users.scope_for_user(con, admin)
    finally:
        con.close()
    monkeypatch.setenv("KAM_DB", str(path))
    failures = []
    for lang in ("de", "en"):
        for page in _page_list():
            # a fresh session per page: one page's widget state never leaks into the next
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
            at.session_state["scope"] = scope
            at.session_state["auth_last_activity"] = time.time()
            at.session_state["_default_lang"] = lang  # what ui.session.get_lang starts with
            at.run()
            assert at.selectbox(key="lang").index == i18n.LANGUAGES.index(lang)
            try:
                at.switch_page(page).run()
            except Exception as exc:  # noqa: BLE001 - collect every page's problem
                failures.append(f"{lang} {page}: {type(exc).__name__}: {exc}")
                continue
            if at.exception:
                failures.append(f"{lang} {page}: {at.exception[0].message[:300]}")
                continue
            texts = [
                e.value
                for kind in (
                    "title",
                    "header",
                    "subheader",
                    "caption",
                    "markdown",
                    "info",
                    "warning",
                    "error",
                    "success",
                )
                for e in getattr(at, kind)
            ]
            texts += [w.label for w in (*at.button, *at.selectbox, *at.text_input, *at.checkbox)]
            raw = [x for x in texts if isinstance(x, str) and KEY_LIKE.fullmatch(x.strip())]
            if raw:
                failures.append(f"{lang} {page}: untranslated {raw}")
    assert failures == []


def _page_list() -> list[str]:
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    return re.findall(r"\(\s*\"(pages/\w+\.py)\"", text)


# Locale texts that may show a command or a code word in backticks: hints read by an
# administrator (the import page, the users page, backups, the fault page's "the
# administration checks ...") or by the command line, which prints the English texts.
ADMIN_OR_CLI_BACKTICKS = {
    "err_user_not_found_hint",
    "err_changes_batch_not_found_hint",
    "err_database_corrupt_hint",
    "err_database_unavailable_hint",
    "err_database_missing_hint",
    "err_backup_foreign_file_hint",
    "err_import_not_found_hint",
    "err_formula_syntax_hint",
    "err_formula_not_arithmetic_hint",
    "err_unknown_rate_hint",
}


# Markdown shows the backticks inside a double-backtick span: `` `Fracht netto` `` is typed syntax.
LITERAL_BACKTICKS = re.compile(r"`` .*? ``")


def test_no_user_label_shows_a_code_word_in_backticks():
    shown = {
        f"{lang} {key}"
        for lang, texts in load_labels().items()
        for key, text in texts.items()
        if "`" in LITERAL_BACKTICKS.sub("", text) and key not in ADMIN_OR_CLI_BACKTICKS
    }
    assert shown == set()


def test_report_download_is_named_in_words():
    assert load_labels()["de"]["dl_report_xlsx"] == "Bericht als Excel-Datei"
    assert load_labels()["en"]["dl_report_xlsx"] == "Report as Excel file"
