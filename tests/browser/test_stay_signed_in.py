"""Deep links and staying signed in, in a real browser (Playwright + Debian chromium).

A bookmarked page URL keeps its page through the sign-in; a reload and a second tab stay
signed in (the signed cookie of kam_analytics.sign_in_sessions); signing out in one tab ends
the other's session; another role's page URL answers with a localised refusal; a forged or
tampered cookie shows the sign-in page; a short idle limit ends the session; the language
chosen stays through a reload.
"""

from __future__ import annotations

import pytest

from kam_analytics import sign_in_sessions
from kam_analytics.i18n import t
from tests.browser.conftest import WAIT_MS, heading, open_page, running_app, settle
from tests.browser.test_journeys import choose_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COOKIE = sign_in_sessions.COOKIE_NAME


def _fill_sign_in(pg, name: str, password: str) -> None:
    pg.get_by_label(t("auth_username"), exact=True).fill(name)
    pg.get_by_label(t("auth_password"), exact=True).fill(password)
    pg.get_by_role("button", name=t("auth_submit"), exact=True).click()


def _signed_in_as(pg, name: str) -> None:
    sidebar = pg.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name=t("auth_signout")).wait_for()
    sidebar.get_by_text(name, exact=True).wait_for()


def _session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def _no_page_not_found(pg) -> None:
    pg.wait_for_timeout(800)
    assert pg.get_by_text("Page not found").count() == 0
    assert pg.get_by_role("dialog").count() == 0


def test_deep_link_reload_second_tab_and_sign_out_everywhere(app_server, browser, tmp_path):
    url = app_server.url
    with app_server.peek() as con:
        first_entry = con.execute("SELECT coalesce(max(audit_id), 0) FROM audit_log").fetchall()
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    try:
        pg = context.new_page()
        pg.set_default_timeout(WAIT_MS)
        # A bookmark of the retention page, opened signed out: the sign-in form at that URL.
        pg.goto(f"{url}/retention")
        heading(pg, t("auth_title")).wait_for()
        settle(pg)
        assert pg.url.rstrip("/").endswith("/retention")
        _fill_sign_in(pg, "kam01", "kam01-demo")
        heading(pg, t("ret_title")).wait_for()
        _signed_in_as(pg, "kam01")
        _no_page_not_found(pg)
        assert pg.url.rstrip("/").endswith("/retention")
        settle(pg)

        cookie = _session_cookie(context)
        assert cookie is not None, context.cookies()
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert not cookie["secure"]  # served over plain http here; Secure under https
        assert cookie["expires"] > 0  # not a session cookie: it expires (Max-Age)

        # F5: still signed in, on the same page.
        pg.reload()
        heading(pg, t("ret_title")).wait_for()
        _signed_in_as(pg, "kam01")
        _no_page_not_found(pg)
        pg.screenshot(path=str(tmp_path / "reloaded.png"))

        # A second tab of the same browser: signed in at once.
        tab2 = context.new_page()
        tab2.set_default_timeout(WAIT_MS)
        tab2.goto(url)
        heading(tab2, t("ov_title")).wait_for()
        _signed_in_as(tab2, "kam01")
        settle(tab2)

        # Signing out in the first tab ends the second tab's session at its next click.
        pg.get_by_test_id("stSidebar").get_by_role("button", name=t("auth_signout")).click()
        heading(pg, t("auth_title")).wait_for()
        pg.get_by_text(t("auth_signed_out"), exact=True).wait_for()
        settle(pg)
        pg.wait_for_timeout(500)
        assert _session_cookie(context) is None  # the page removed it
        open_page(tab2, t("nav_services"))
        heading(tab2, t("auth_title")).wait_for()
        tab2.get_by_text(t("auth_signed_out"), exact=True).wait_for()
        assert tab2.get_by_test_id("stSidebarNav").count() == 0

        # The old cookie value, put back by hand (a copy someone kept), restores nothing.
        context.add_cookies([{**cookie}])
        pg.goto(f"{url}/retention")
        heading(pg, t("auth_title")).wait_for()
        settle(pg)
        pg.wait_for_timeout(500)
        assert pg.get_by_role("heading", name=t("ret_title")).count() == 0
    finally:
        context.close()

    with app_server.peek() as con:
        rows = con.execute(
            "SELECT action, new_value FROM audit_log WHERE username = 'kam01' "
            "AND starts_with(action, 'sign') AND audit_id > ? ORDER BY audit_id",
            [first_entry[0][0]],
        ).fetchall()
    methods = [(a, v) for a, v in rows]
    assert [a for a, _ in methods] == ["signin", "signin", "signin", "signout"]
    assert '"password"' in methods[0][1]
    assert '"cookie"' in methods[1][1] and '"cookie"' in methods[2][1]  # reload, second tab


def test_other_roles_page_url_is_refused_in_german(app_server, page):
    url = app_server.url
    page.goto(f"{url}/users")
    heading(page, t("auth_title")).wait_for()
    settle(page)
    _fill_sign_in(page, "kam01", "kam01-demo")
    heading(page, t("nav_users")).wait_for()
    _signed_in_as(page, "kam01")
    main = page.get_by_test_id("stMain")
    main.get_by_text(t("err_page_denied", roles=t("role_admin"))).wait_for()
    _no_page_not_found(page)
    assert main.get_by_test_id("stDataFrame").count() == 0  # no user list
    # The menu still offers only the KAM's pages (the refusal page is hidden).
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert t("nav_users") not in nav and t("nav_overview") in nav


def test_forged_or_tampered_cookie_shows_the_sign_in(app_server, browser):
    url = app_server.url
    host = url.split("//")[1].split(":")[0]
    good = browser.new_context()
    try:
        pg = good.new_page()
        pg.set_default_timeout(WAIT_MS)
        pg.goto(url)
        _fill_sign_in(pg, "leitung", "leitung-demo")
        _signed_in_as(pg, "leitung")
        settle(pg)
        pg.wait_for_timeout(500)
        value = _session_cookie(good)["value"]
    finally:
        good.close()
    sid, expires, sig = value.split(".")
    bad_values = [
        f"{sid}.{expires}.{'A' * len(sig)}",  # forged signature
        f"{sid}.{int(expires) + 86_400}.{sig}",  # a longer life, same signature
        "kaputt",
        "ä" * 300,
    ]
    for bad in bad_values:
        ctx = browser.new_context()
        try:
            ctx.add_cookies([{"name": COOKIE, "value": bad, "domain": host, "path": "/"}])
            pg = ctx.new_page()
            pg.set_default_timeout(WAIT_MS)
            pg.goto(f"{url}/overview")
            heading(pg, t("auth_title")).wait_for()
            settle(pg)
            pg.wait_for_timeout(300)
            assert pg.locator('[data-testid="stException"]').count() == 0
            assert pg.get_by_role("heading", name=t("ov_title")).count() == 0
        finally:
            ctx.close()
    # With the server past its first run (no pages-folder mode any more), a page URL opened
    # signed out still leads to that page after the sign-in.
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(WAIT_MS)
        pg.goto(f"{url}/services")
        heading(pg, t("auth_title")).wait_for()
        settle(pg)
        _fill_sign_in(pg, "leitung", "leitung-demo")
        heading(pg, t("svc_title")).wait_for()
        _no_page_not_found(pg)
        assert pg.url.rstrip("/").endswith("/services")
    finally:
        ctx.close()


@pytest.fixture
def short_idle_server(demo_db, tmp_path, monkeypatch):
    """An app whose sessions end after 20 s without activity (a cold page may take 10 s)."""
    monkeypatch.setenv(sign_in_sessions.IDLE_ENV, "20")
    with running_app(tmp_path, demo_db) as server:
        yield server


def test_idle_expiry_ends_the_session_and_its_cookie(short_idle_server, page):
    url = short_idle_server.url
    page.goto(url)
    _fill_sign_in(page, "kam01", "kam01-demo")
    heading(page, t("ov_title")).wait_for()
    settle(page)
    open_page(page, t("nav_services"), t("svc_title"))  # activity keeps it alive
    page.wait_for_timeout(24_000)  # idle longer than the limit
    open_page(page, t("nav_overview"))
    heading(page, t("auth_title")).wait_for()
    page.get_by_text(t("auth_expired", hours=sign_in_sessions.IDLE_HOURS)).wait_for()
    page.reload()  # the cookie no longer signs in either
    heading(page, t("auth_title")).wait_for()
    settle(page)
    page.wait_for_timeout(500)
    assert page.get_by_role("heading", name=t("ov_title")).count() == 0


@pytest.fixture
def restarted_server(demo_db, tmp_path):
    """An app started on a database that already holds kam01's live sign-in (as after a
    server restart), and that sign-in's cookie value."""
    import shutil

    from kam_analytics import db, users

    path = tmp_path / "before-restart.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
        cookie = sign_in_sessions.start_session(con, "kam01", "password").cookie
    finally:
        con.close()
    (tmp_path / "app").mkdir()
    with running_app(tmp_path / "app", path) as server:
        yield server, cookie


def test_reload_after_a_server_restart_keeps_the_user_and_the_page(restarted_server, page):
    """The first request after a start runs the page file by its URL (Streamlit's pages-folder
    mode): the cookie still signs in, and the user stays on that page."""
    server, cookie = restarted_server
    host = server.url.split("//")[1].split(":")[0]
    page.context.add_cookies([{"name": COOKIE, "value": cookie, "domain": host, "path": "/"}])
    page.goto(f"{server.url}/retention")
    heading(page, t("ret_title")).wait_for()
    _signed_in_as(page, "kam01")
    _no_page_not_found(page)
    assert page.url.rstrip("/").endswith("/retention")


def test_the_language_stays_through_a_reload(app_server, page):
    """Switch to English, press F5: still English (the sign-in record keeps the language)."""
    page.goto(app_server.url)
    _fill_sign_in(page, "leitung", "leitung-demo")
    heading(page, t("ov_title")).wait_for()
    settle(page)
    choose_language(page, "English")
    heading(page, t("ov_title", "en")).wait_for()
    page.reload()
    heading(page, t("ov_title", "en")).wait_for()
    settle(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name=t("auth_signout", "en")).wait_for()
    sidebar.get_by_text("leitung", exact=True).wait_for()
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert t("nav_retention", "en") in nav and t("nav_retention", "de") not in nav
    assert page.get_by_role("heading", name=t("ov_title", "de"), exact=True).count() == 0
