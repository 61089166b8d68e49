"""Real browser: hostile uploads leave the server serving other sessions; quick clicks through
every page of the large company show no exception (one cursor per script run)."""

from __future__ import annotations

import time
import urllib.request

import pytest

from kam_analytics.i18n import t
from tests.browser.conftest import (
    main_text,
    open_page,
    running_app,
    settle,
    sign_in,
)
from tests.conftest import run_cli

pytestmark = pytest.mark.browser

# The uploader takes xlsx, xlsm, xls, csv and txt (the browser refuses .ods itself).
UPLOADABLE = (".xlsx", ".xls", ".csv")


def _healthy(url: str) -> bool:
    with urllib.request.urlopen(url + "/_stcore/health", timeout=5) as r:
        return r.status == 200


def test_hostile_uploads_refused_while_another_session_is_served(
    app_server, browser, hostile_files
):
    admin = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
    other = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
    for pg in (admin, other):
        pg.set_default_timeout(60_000)
    # Sign-ins are audited and recorded; everything else must stay as it was.
    signing = {"audit_log", "sign_in_sessions", "sign_in_keys"}
    before = {k: v for k, v in app_server.row_counts().items() if k not in signing}
    sign_in(admin, app_server.url, "admin", "admin-demo")
    sign_in(other, app_server.url, "leitung", "leitung-demo")
    open_page(admin, t("nav_import"), t("imp_title"))
    files = [p for name, p in hostile_files.items() if p.suffix in UPLOADABLE]
    admin.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        [str(p) for p in files]
    )
    # While the admin's session reads the bombs, another user's pages keep coming.
    t0 = time.perf_counter()
    for label, title in (("nav_services", "svc_title"), ("nav_overview", "ov_title")):
        open_page(other, t(label), t(title))
    assert time.perf_counter() - t0 < 60
    assert _healthy(app_server.url)
    settle(admin, timeout_ms=120_000)
    text = main_text(admin)
    for p in files:
        assert p.name in text, p.name
    assert admin.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in text
    # The server process survived every file: a new session still gets its page.
    open_page(other, t("nav_services"), t("svc_title"))
    assert {k: v for k, v in app_server.row_counts().items() if k not in signing} == before
    log = app_server.log_path.read_text(errors="replace")
    assert "memory allocation" not in log and "Aborted" not in log


def test_quick_clicks_through_every_page_of_the_large_company(browser, tmp_path):
    large = tmp_path / "large.duckdb"
    res = run_cli("demo", "--scale", "large", "--db", large)
    assert res.returncode == 0, res.stderr
    (tmp_path / "app").mkdir()
    with running_app(tmp_path / "app", large) as server:
        pg = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
        pg.set_default_timeout(120_000)
        sign_in(pg, server.url, "admin", "admin-demo")
        nav = pg.get_by_test_id("stSidebarNav")
        links = nav.get_by_role("link")
        n = links.count()
        assert n >= 10
        # No waiting between clicks: each click starts a rerun while the last one still runs.
        for _round in range(2):
            for i in range(n):
                links.nth(i).click(no_wait_after=True)
                pg.wait_for_timeout(150)
        settle(pg, timeout_ms=120_000)
        for i in range(n):
            links.nth(i).click(no_wait_after=True)
            pg.wait_for_timeout(50)
            assert pg.locator('[data-testid="stException"]').count() == 0
        settle(pg, timeout_ms=120_000)
        assert pg.locator('[data-testid="stException"]').count() == 0
        assert "busy with another call" not in main_text(pg)
        log = server.log_path.read_text(errors="replace")
        assert "busy with another call" not in log, log[-3000:]
        assert "ResourceInUse" not in log
