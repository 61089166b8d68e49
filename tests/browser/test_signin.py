"""Sign-in and sign-out in a real browser (Playwright + Debian chromium) against a real server."""

from __future__ import annotations

import pytest

from kam_analytics.i18n import t
from tests.browser.conftest import heading, open_page

pytestmark = pytest.mark.browser

WAIT_MS = 60_000


@pytest.fixture
def server(fresh_server):
    """(url, database path) of an app of this test's own."""
    return fresh_server.url, fresh_server.db_path


def sign_in(pg, name: str, password: str) -> None:
    pg.get_by_label(t("auth_username"), exact=True).fill(name)
    pg.get_by_label(t("auth_password"), exact=True).fill(password)
    pg.get_by_role("button", name=t("auth_submit"), exact=True).click()


def test_sign_in_wrong_password_sign_out(server, page, tmp_path):
    url, _ = server
    page.goto(url)
    heading(page, t("auth_title")).wait_for()
    page.get_by_text("kam01-demo", exact=True).wait_for()  # demo database: demo users shown

    sign_in(page, "kam01", "falsches-passwort")
    page.get_by_text(t("err_auth_failed")).first.wait_for()  # message, then the hint
    heading(page, t("auth_title")).wait_for()

    sign_in(page, "kam01", "kam01-demo")
    heading(page, t("ov_title")).wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("kam01", exact=True).wait_for()
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert t("nav_overview") in nav
    assert t("nav_audit") not in nav and t("nav_users") not in nav
    page.screenshot(path=str(tmp_path / "kam01-overview.png"))

    sidebar.get_by_role("button", name=t("auth_signout")).click()
    heading(page, t("auth_title")).wait_for()
    page.get_by_text(t("auth_signed_out"), exact=True).wait_for()


def test_admin_opens_audit_log(server, page, tmp_path):
    url, _ = server
    page.goto(url)
    sign_in(page, "admin", "admin-demo")
    heading(page, t("ov_title")).wait_for()
    open_page(page, t("nav_audit"), expect_heading=t("audit_title"))
    page.get_by_test_id("stDataFrame").first.wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)


@pytest.mark.parametrize("url_path", ["audit", "users", "overview"])
def test_page_url_before_sign_in_shows_sign_in(server, page, url_path):
    """The first request after a server start, straight to a page's URL, must not bypass the
    sign-in (Streamlit serves pages/*.py by URL until st.navigation has run once)."""
    url, _ = server
    page.goto(f"{url}/{url_path}")
    heading(page, t("auth_title")).wait_for()
    page.wait_for_timeout(1500)
    assert page.get_by_role("heading", level=1).all_inner_texts() == [t("auth_title")]
