"""No raw value on screen (issue 14), part (b): every page as every role in German and English.

The walk runs app.py in AppTest as the demo's admin, management and KAM user, in German and
in English, opens every page the navigation offers (ui/navigation.py PAGES) and the sign-in
page, and reads what each run hands to Streamlit: titles, markdown, captions, alerts, metric
labels and values, widget labels, options and placeholders, and every table's headers and
cells (st.dataframe draws cells on a canvas, which the browser walk cannot read). Everything
goes through the denylist of tests/raw_values.py; table columns that Streamlit would format
itself (floats with a decimal point, ISO dates, "None" for empty cells) fail as well.

AppTest runs expanders and tabs in full, so their content is covered without clicking. The
database is the small demo with the demo users and one audit entry of each kind a page
writes (sign-in, failed sign-in, pay, retention settings, bonus plan, a survey and its
approval, mandate answers, departments, exchange rate), so the audit page shows them all.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db, users
from kam_analytics.i18n import t
from tests.conftest import open_each_tab
from tests.raw_values import POINT_DECIMAL_INPUTS, apptest_texts, find_raw, table_problems
from ui.navigation import PAGES, visible_pages

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120
ROLES = {"admin": "admin", "management": "leitung", "kam": "kam01"}
THIS_YEAR = dt.date.today().year


def plant_audit_entries(con) -> None:
    """One audit entry of each kind the pages write, through the functions that write them."""
    from kam_analytics import approvals, departments, exchange_rates, settings_store
    from kam_analytics.errors import KamError
    from kam_analytics.metrics.feedback import add_feedback
    from kam_analytics.metrics.mandates import save_mandate_answers, save_mandate_ratings

    admin = users.scope_for_user(con, "admin")
    leitung = users.scope_for_user(con, "leitung")
    kam01 = users.scope_for_user(con, "kam01")
    with pytest.raises(KamError):
        users.authenticate(con, "kam01", "wrong-password")
    users.authenticate(con, "kam01", users.demo_password("kam01"))
    users.sign_out(con, kam01)
    settings_store.save_kam_pay(con, admin, "KAM01", THIS_YEAR, 71100.0, 12500.0)
    rs = settings_store.get_retention_settings(con)
    settings_store.save_retention_settings(con, admin, replace(rs, gap_factor=rs.gap_factor + 0.5))
    plan = settings_store.get_bonus_plan(con, THIS_YEAR)
    settings_store.save_bonus_plan(con, admin, THIS_YEAR, replace(plan, cap=plan.cap + 0.25))
    account = con.execute(
        "SELECT account_id FROM accounts WHERE kam_id = 'KAM01' ORDER BY 1 LIMIT 1"
    ).fetchall()[0][0]
    survey = add_feedback(
        con, kam01, account_id=account, date=dt.date.today(), kind="survey", score=8.5
    )
    approvals.approve_survey(con, leitung, survey)
    save_mandate_answers(con, kam01, account, THIS_YEAR, {"contact": "Frau Berg, Einkauf"})
    save_mandate_ratings(con, leitung, account, THIS_YEAR, {"contact": 80})
    departments.save_departments(con, admin, {"TRAINING": "marketing"})
    exchange_rates.upsert_rate(con, "USD", THIS_YEAR, 0, 1.0834, username="admin")


@pytest.fixture(scope="module")
def walk_db(demo_db, tmp_path_factory):
    """A copy of the demo with its users and an audit entry of each kind; the walk only reads."""
    path = tmp_path_factory.mktemp("rawwalk") / "walk.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
        plant_audit_entries(con)
        scopes = {role: users.scope_for_user(con, name) for role, name in ROLES.items()}
        catalogue_en = [
            r[0] for r in con.execute("SELECT name_en FROM service_catalogue").fetchall() if r[0]
        ]
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DB", str(path))
        yield {"path": path, "scopes": scopes, "catalogue_en": catalogue_en}


# Text that comes from the data itself, not from the product: user names (the demo's are
# lowercase codes like "kam01") and, in the admin's catalogue editor, the English service
# names, which that editor shows in their own column on purpose.
def _allowed(walk, lang: str) -> tuple[str, ...]:
    names = (*ROLES.values(), "demo")
    return names + (tuple(walk["catalogue_en"]) if lang == "de" else ())


def raw_findings(at: AppTest, lang: str, allowed: tuple[str, ...]) -> list[str]:
    """Every denylisted token and raw table column of the current run."""
    found = []
    ids = (t("mx_code", lang),)
    inputs = {t(key, lang) for key in POINT_DECIMAL_INPUTS}
    for kind, text in apptest_texts(at, id_headers=ids):
        if kind == "number_input.decimals":
            if lang == "de" and text not in inputs:
                found.append(f"[number_input] decimal point in {text!r}")
            continue
        hits = find_raw(text, lang, allowed)
        if kind.endswith("id cell"):  # the catalogue's code is what import files carry
            hits = [h for h in hits if not h.startswith(("code:", "snake_case:"))]
        found += [f"[{kind}] {hit} in {text[:100]!r}" for hit in hits]
    for node in at._tree:
        if type(node).__name__ in ("Dataframe", "Table"):
            found += [f"[table] {p}" for p in table_problems(node, lang)]
    return found


def _app(walk, role: str, lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["scope"] = walk["scopes"][role]
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("role", list(ROLES))
def test_no_raw_value_on_any_page(walk_db, role, lang):
    at = _app(walk_db, role, lang)
    allowed = _allowed(walk_db, lang)
    found = {"(sidebar)": raw_findings(at, lang, allowed)}
    opened = []
    for entry in PAGES:
        if role not in entry.roles:
            continue
        at.switch_page(entry.path).run()
        assert not at.exception, (entry.path, [e.value for e in at.exception])
        opened.append(entry.path)
        found[entry.path] = raw_findings(at, lang, allowed)
        for _ in open_each_tab(at, entry.path):  # a lazy tab draws its table only when open
            assert not at.exception, (entry.path, [e.value for e in at.exception])
            found[entry.path] += raw_findings(at, lang, allowed)
    # every page the navigation offers this role was walked (admin: all of them)
    offered = [e.path for pages in visible_pages(walk_db["scopes"][role]).values() for e in pages]
    assert opened == offered
    assert role != "admin" or len(opened) == len(PAGES)
    found = {page: sorted(set(hits)) for page, hits in found.items() if hits}
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_raw_value_on_the_sign_in_page(walk_db, lang):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception
    assert at.text_input(key="auth_username")
    assert raw_findings(at, lang, _allowed(walk_db, lang)) == []


def test_the_denylist_catches_what_issue_14_saw():
    """Each item the issue lists is caught (and a clean German sentence is not)."""
    seen = (
        "KEY None 2026-11-30 2026-01 Quelle: shipments SHORTAGE_SUPPLY 9.5 1.50 71100.00 "
        "feedback_id import_undo Upload 200MB per file Select all No results Choose an option"
    )
    hits = find_raw(seen, "de")
    for token in (
        "KEY",
        "None",
        "2026-11-30",
        "2026-01",
        "shipments",
        "SHORTAGE_SUPPLY",
        "9.5",
        "1.50",
        "71100.00",
        "feedback_id",
        "import_undo",
        "Upload",
        "per file",
        "Select all",
        "No results",
        "Choose an option",
    ):
        assert any(h.endswith(f": {token}") for h in hits), token
    clean = "Umsatz 1.234,56 € am 31.12.2025 (Jan. 2026), 25,6 %, Key Account, Zeile 1.234"
    assert find_raw(clean, "de") == []
    assert find_raw("Revenue €1,234.56 on 31 Dec 2025, 25.6%, key accounts", "en") == []
    # a user's own name is data, not a code
    assert find_raw("Angemeldet als kam01", "de", allowed=("kam01",)) == []
