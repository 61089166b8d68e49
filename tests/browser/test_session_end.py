"""After sign-out no download URL of the session serves data; hostile names show as text;
the database path is shown to admins only (real server, Debian chromium)."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from kam_analytics.i18n import t
from tests.browser.conftest import heading, open_page, running_app, settle

pytestmark = pytest.mark.browser

INJ = "**X** [a](http://e.vil) $x^2$ :red[y]"
# What the page shows: the same characters, with an invisible word joiner in the address.
SHOWN = INJ.replace("://", ":\u2060//")


@pytest.fixture
def hostile_server(demo_db, tmp_path):
    """An app of its own on the demo whose KAM01 is named INJ and has a praise quote INJ."""
    path = tmp_path / "hostile.duckdb"
    shutil.copy(demo_db, path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE kams SET name = ? WHERE kam_id = 'KAM01'", [INJ])
    con.execute(
        "INSERT INTO feedback (feedback_id, account_id, date, score, kind, comment) "
        "VALUES ('INJ1', 'K10012', ?, NULL, 'praise', ?)",
        [dt.date.today(), INJ],
    )
    con.close()
    (tmp_path / "app").mkdir()
    with running_app(tmp_path / "app", path) as server:
        yield server


def _sign_in(pg, url, name, password):
    pg.goto(url)
    pg.get_by_label(t("auth_username"), exact=True).fill(name)
    pg.get_by_label(t("auth_password"), exact=True).fill(password)
    pg.get_by_role("button", name=t("auth_submit"), exact=True).click()
    heading(pg, t("ov_title")).wait_for()
    settle(pg)


def test_sign_out_revokes_download_urls_and_names_stay_text(hostile_server, page, browser):
    url = hostile_server.url
    (tmp := hostile_server.db_path.parent).mkdir(exist_ok=True)
    _sign_in(page, url, "kam01", "kam01-demo")
    sidebar = page.get_by_test_id("stSidebar")
    assert str(hostile_server.db_path) not in sidebar.inner_text()  # not a KAM's business

    open_page(page, t("nav_bonus"), expect_heading=t("bonus_title"))
    main = page.get_by_test_id("stMain")
    # The KAM's name and the praise quote read exactly as stored: no link, no colour, no maths.
    main.get_by_text(f"„{SHOWN}“").first.wait_for()
    assert main.get_by_role("heading").filter(has_text=SHOWN).count() == 1
    links = page.locator('a[href*="e.vil"]')
    assert links.count() == 0, [
        links.nth(i).evaluate("a => a.closest('[data-testid]').outerHTML.slice(0, 600)")
        for i in range(links.count())
    ]
    assert page.locator(".katex").count() == 0

    with page.expect_download() as info:
        main.get_by_role("button", name=t("bonus_pdf")).click()
    download = info.value
    media = download.url
    assert "/media/" in media
    assert download.path().read_bytes()[:5] == b"%PDF-"
    probe = browser.new_context()  # another client, without the session's cookies
    try:
        assert probe.request.get(media).status == 200  # the URL serves data while signed in

        sidebar.get_by_role("button", name=t("auth_signout")).click()
        heading(page, t("auth_title")).wait_for()
        page.get_by_text(t("auth_signed_out"), exact=True).wait_for()
        settle(page)
        page.wait_for_timeout(500)
        assert probe.request.get(media).status == 404
    finally:
        probe.close()
    page.screenshot(path=str(tmp / "signed-out.png"))


def test_admin_sees_the_database_path(hostile_server, page):
    _sign_in(page, hostile_server.url, "admin", "admin-demo")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text(str(hostile_server.db_path), exact=True).wait_for()
