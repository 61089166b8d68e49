"""Every page of app.py's navigation opens on the demo database without an exception.

The pages are read from the PAGES list in app.py, so a new page is covered as soon as it is
listed. The sign-in gate is passed by putting a signed-in scope into session_state (the demo
database has the user `admin`); `signed_in_app` is the one place to adapt when the gate changes.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics.access import Scope
from kam_analytics.glossary import key_accounts_label
from kam_analytics.i18n import t
from tests.conftest import app_page_entries

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def app_pages() -> list[str]:
    """The page paths of app.py's navigation, parsed without running app.py."""
    return [entry[0] for entry in app_page_entries()]


@pytest.fixture(scope="module")
def app_db(demo_db, tmp_path_factory):
    """A private copy of the demo database (with its demo users) for the app."""
    path = tmp_path_factory.mktemp("app") / "app.duckdb"
    shutil.copy(demo_db, path)
    return path


def signed_in_app(db_file: Path, monkeypatch, lang: str | None = None) -> AppTest:
    """The app, signed in as the demo admin, after its first run."""
    monkeypatch.setenv("KAM_DB", str(db_file))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["scope"] = Scope(username="admin", role="admin")
    if lang:
        at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_pages_list_is_parsed():
    pages = app_pages()
    assert pages[0] == "pages/overview.py"
    assert all(p.startswith("pages/") and (ROOT / p).exists() for p in pages)


@pytest.mark.parametrize("page", app_pages())
def test_page_opens_without_exception(page, app_db, monkeypatch):
    at = signed_in_app(app_db, monkeypatch)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    shown = len(at.title) + len(at.header) + len(at.subheader) + len(at.metric)
    assert shown >= 1, f"{page} shows no title, header or metric"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_overview_shows_kpis_charts_and_key_accounts(lang, app_db, monkeypatch):
    at = signed_in_app(app_db, monkeypatch, lang)
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    assert [x.value for x in at.title] == [t("ov_title", lang)]
    labels = [m.label for m in at.metric]
    assert labels == [
        key_accounts_label(lang),
        t("ov_revenue", lang),
        t("ov_service_value", lang),
        t("ov_unbilled_share", lang),
        t("ov_retention", lang),
    ]
    assert at.metric[0].value == "12"
    money = at.metric[2].value.replace("\xa0", " ")
    share = at.metric[3].value.replace("\xa0", " ")
    if lang == "de":
        assert re.fullmatch(r"\d{1,3}(\.\d{3})* €", money), money  # 857.431 €
        assert re.fullmatch(r"\d{1,3},\d %", share), share  # 77,9 %
    else:
        assert re.fullmatch(r"€\d{1,3}(,\d{3})*", money), money
        assert re.fullmatch(r"\d{1,3}\.\d%", share), share
    assert len(at.get("plotly_chart")) == 2
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert len(table) == 12
    assert t("ov_col_kam", lang) in table.columns
    # the year selector offers the demo's years (three full years + this one), this year chosen
    year = at.selectbox(key="ov_year")
    this_year = dt.date.today().year
    assert [int(y) for y in year.options] == list(range(this_year - 3, this_year + 1))
    assert int(year.value) == this_year


@pytest.fixture(scope="module")
def sparse_db(tmp_path_factory):
    """What a first real import leaves: orders of unknown accounts, no tiers, no KAMs, no
    key accounts, no services, no matrix beyond the default catalogue."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("sparse")
    export = folder / "auftraege.csv"
    export.write_text(
        "Auftrag;Kunde;Datum;Umsatz\nA1;0815;01.03.2025;1.000,00\nA2;4711;02.03.2025;500,00\n",
        encoding="utf-8",
    )
    path = folder / "sparse.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "kam_analytics", "import", str(export), "--db", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    from kam_analytics import db, users

    con = db.connect(path)
    try:
        users.add_user(con, "admin", "admin", scope=Scope.everything(), password="admin-sparse")
    finally:
        con.close()
    return path


@pytest.mark.parametrize("page", app_pages())
def test_page_opens_on_a_sparse_database(page, sparse_db, monkeypatch):
    """A meeting must not crash because the data is thin: every page renders, no exception."""
    at = signed_in_app(sparse_db, monkeypatch)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = len(at.title) + len(at.header) + len(at.subheader) + len(at.metric)
    assert shown >= 1, f"{page} shows no title, header or metric"
