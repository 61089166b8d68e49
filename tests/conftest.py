"""Shared fixtures: real DuckDB files in a temporary folder."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT))


@pytest.fixture
def db_path(tmp_path) -> Path:
    """Path of a fresh (not yet created) database file."""
    return tmp_path / "kam.duckdb"


@pytest.fixture
def con(db_path):
    """A fresh database file with the full schema and the default catalogue."""
    from kam_analytics import db

    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The small demo company written once per test session (read-only use: copy to change)."""
    from kam_analytics.demo import write_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    write_demo(path, scale="small", seed=42)
    return path


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> Path:
    """A private copy of the small demo database that a test may change."""
    target = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, target)
    return target


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium")


def require_chromium():
    """Skip without chromium, except under CI where its absence is a failure."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing under CI: .ci/run should have installed it")
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    return path


def app_page_entries() -> list[tuple]:
    """Every (path, label, icon, roles) of the navigation (ui/navigation.py PAGES), unrun."""
    from ui.navigation import PAGES

    return [(e.path, e.label, e.icon, e.roles) for e in PAGES]


# Pages whose tabs build only the open one (st.tabs(on_change="rerun")): page -> the tabs' key.
LAZY_TABS = {"pages/services.py": "svc_dim"}


def open_each_tab(at, page: str):
    """Open each lazy tab of `page` in AppTest in turn, yielding its label after the run."""
    key = LAZY_TABS.get(page)
    if key is None:
        return
    for label in [tab.label for tab in at.tabs]:
        at.session_state[key] = label
        at.run()
        yield label


def run_cli(*args, check: bool = False, stdin: str | None = None):
    """`python -m kam_analytics ARGS` in a subprocess from the repo root; output as text."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "kam_analytics", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=300,
        check=check,
    )


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory) -> dict:
    """The hostile input corpus (tests/hostile_files.py), written once per test session."""
    from hostile_files import write_hostile

    return write_hostile(tmp_path_factory.mktemp("hostile"))
