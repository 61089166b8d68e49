"""Sign-in and sign-out in a real browser (Playwright + Debian chromium) against a real server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kam_analytics import db, users
from kam_analytics.i18n import t
from tests.conftest import require_chromium

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WAIT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(demo_db, tmp_path):
    """A streamlit server (own session, own port) on a demo copy with demo users."""
    path = tmp_path / "browser.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
    finally:
        con.close()
    port = free_port()
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
        + ["--server.address", "127.0.0.1", "--server.port", str(port)]
        + ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT,
        env={**os.environ, "KAM_DB": str(path)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # setsid: the server and its children form one group
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError((tmp_path / "streamlit.log").read_text())
            time.sleep(0.3)
        yield url, path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def page():
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(WAIT_MS)
        yield pg
        browser.close()


def heading(pg, text: str):
    return pg.get_by_role("heading", name=text, exact=True).first


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
    page.get_by_text(t("auth_failed"), exact=True).wait_for()
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
    page.get_by_test_id("stSidebarNav").get_by_text(t("nav_audit"), exact=True).click()
    heading(page, t("audit_title")).wait_for()
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
