"""Real-browser fixtures: one streamlit server per session on a copy of the demo database.

The server is started with setsid (its own process group) on a free port, against a COPY of
the small demo company with the documented demo users (KAM_DB), and its whole process group
is killed at the end. Browsers are Debian chromium driven by Playwright's sync API; nothing
here ever runs `playwright install`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require_chromium

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "out" / "journeys"
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
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running streamlit app: its URL and the database file it uses."""

    def __init__(self, url: str, db_path: Path, log_path: Path):
        self.url = url
        self.db_path = db_path
        self.log_path = log_path

    @contextlib.contextmanager
    def peek(self):
        """A read-only connection to a snapshot of the live file (the app holds it open)."""
        import duckdb

        copy = self.db_path.with_name(f"peek-{time.monotonic_ns()}.duckdb")
        shutil.copy(self.db_path, copy)
        wal = self.db_path.with_name(self.db_path.name + ".wal")
        if wal.exists():
            shutil.copy(wal, copy.with_name(copy.name + ".wal"))
        con = duckdb.connect(str(copy), read_only=True)
        try:
            yield con
        finally:
            con.close()
            copy.unlink(missing_ok=True)
            copy.with_name(copy.name + ".wal").unlink(missing_ok=True)

    def row_counts(self) -> dict[str, int]:
        """Row counts per table as the app sees them now."""
        from kam_analytics import schema

        with self.peek() as con:
            return {
                t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]
                for t in schema.ALL_TABLES
            }


@contextlib.contextmanager
def running_app(folder: Path, demo_db: Path):
    """Start the app on a free port against a copy of the demo (with demo users); stop it after."""
    require_chromium()
    from kam_analytics import db, users

    path = folder / "app.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
    finally:
        con.close()
    port = free_port()
    log_path = folder / "streamlit.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py"]
        + ["--server.headless", "true", "--server.address", "127.0.0.1"]
        + ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
        + ["--server.fileWatcherType", "none"],
        cwd=ROOT,
        env={**os.environ, "KAM_DB": str(path)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # setsid(): the server and its children form one group
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Server(url, path, log_path)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def app_server(demo_db, tmp_path_factory):
    """The app shared by the journeys (one server per test session)."""
    with running_app(tmp_path_factory.mktemp("browser"), demo_db) as server:
        yield server


@pytest.fixture
def fresh_server(demo_db, tmp_path):
    """An app of its own for one test (sign-in locks and audit entries stay private)."""
    with running_app(tmp_path, demo_db) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium (never a downloaded one)."""
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies, own Streamlit session) with downloads allowed."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    yield pg
    context.close()


# --- helpers the journeys share ---------------------------------------------------------------


def settle(pg, timeout_ms: int = WAIT_MS) -> None:
    """Wait until the app is mounted and no script run is in progress."""
    pg.locator('[data-testid="stApp"]').wait_for()
    pg.wait_for_timeout(300)  # a rerun may take a moment to show its running indicator
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') !== 'running'",
        timeout=timeout_ms,
    )


def heading(pg, text: str):
    """The (first) heading with exactly `text`."""
    return pg.get_by_role("heading", name=text, exact=True).first


def sign_in(pg, url: str, name: str, password: str) -> None:
    """Open the app and sign in through the form (if the gate is there)."""
    from kam_analytics.i18n import t

    pg.goto(url)
    field = pg.get_by_label(t("auth_username"), exact=True)
    # The sign-in form, or (an app without a gate) the overview. Not the sidebar navigation:
    # on a fresh server's first run Streamlit shows its pages-folder navigation for a moment.
    field.or_(heading(pg, t("ov_title"))).first.wait_for()
    settle(pg)
    if field.count() == 0:
        return
    field.fill(name)
    pg.get_by_label(t("auth_password"), exact=True).fill(password)
    pg.get_by_role("button", name=t("auth_submit"), exact=True).click()
    pg.get_by_test_id("stSidebar").get_by_role("button", name=t("auth_signout")).wait_for()
    settle(pg)


def open_page(pg, label: str, expect_heading: str | None = None) -> None:
    """Click the sidebar navigation link with exactly `label` (and wait for its heading).

    A click that lands while a rerun repaints the sidebar can be lost; with `expect_heading`
    the click is repeated until the page's heading shows.
    """
    nav = pg.get_by_test_id("stSidebarNav")
    link = nav.get_by_role("link", name=re.compile(rf"^\W*{re.escape(label)}\W*$")).first
    for attempt in range(3):
        settle(pg)
        link.click()
        settle(pg)
        if expect_heading is None:
            return
        try:
            heading(pg, expect_heading).wait_for(timeout=20_000)
            return
        except Exception:
            if attempt == 2:
                raise


def main_text(pg) -> str:
    """The visible text of the main area (not the sidebar)."""
    return pg.locator('[data-testid="stMain"]').inner_text()


class Steps:
    """Screenshots, one per step, into tests/out/journeys/<journey>/NN-name.png."""

    def __init__(self, pg, journey: str):
        self.pg = pg
        self.folder = OUT / journey
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        self.n = 0

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot of the current state."""
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        self.pg.screenshot(path=str(path), full_page=True)
        return path
