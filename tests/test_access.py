"""Row-level access: scopes, the visible_accounts macro, page roles and `report --as-user`."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kam_analytics import db, users
from kam_analytics.access import Scope, visible_account_ids
from kam_analytics.errors import AccessDeniedError
from tests.conftest import app_page_entries

ROOT = Path(__file__).resolve().parent.parent
# reports with one row per account or KAM, and reports of aggregates (checked separately)
ROW_KINDS = ("services", "giveaways", "retention", "bonus")
AGGREGATE_KINDS = ("overview", "backtest", "departments", "changes")
REPORT_KINDS = ROW_KINDS + AGGREGATE_KINDS
ADMIN_ONLY = {"pages/users.py", "pages/data_import.py"}


@pytest.fixture
def groups(con):
    """K1 manages A1 and the group G1, whose child C1 is managed by K2; K2 also has A2."""
    con.execute("INSERT INTO kams (kam_id, name) VALUES ('K1', 'Eins'), ('K2', 'Zwei')")
    con.execute(
        "INSERT INTO accounts (account_id, name, tier, kam_id, parent_id) VALUES "
        "('A1', 'Alpha', 'KEY', 'K1', NULL), ('G1', 'Gruppe', 'KEY', 'K1', NULL), "
        "('C1', 'Tochter', 'A', 'K2', 'G1'), ('A2', 'Beta', 'KEY', 'K2', NULL), "
        "('N1', 'Ohne KAM', 'C', NULL, NULL)"
    )
    return con


def test_scope_parameters():
    assert Scope.everything().kam_param is None
    assert Scope(role="management").kam_param is None
    assert Scope(role="kam", kam_id="K1").kam_param == "K1"
    # A KAM user without a kam_id sees nothing, never everything.
    assert Scope(role="kam", kam_id=None).kam_param not in (None, "")


def test_visible_accounts_per_role(groups):
    assert visible_account_ids(groups, Scope(role="kam", kam_id="K1")) == ["A1", "C1", "G1"]
    assert visible_account_ids(groups, Scope(role="kam", kam_id="K2")) == ["A2", "C1"]
    assert visible_account_ids(groups, Scope(role="kam", kam_id=None)) == []
    assert visible_account_ids(groups, Scope(role="kam", kam_id="K1' OR '1'='1")) == []
    everything = ["A1", "A2", "C1", "G1", "N1"]
    assert visible_account_ids(groups, Scope(role="management")) == everything
    assert visible_account_ids(groups, Scope.everything()) == everything


def test_require_role():
    Scope.everything().require_role("admin")
    with pytest.raises(AccessDeniedError) as info:
        Scope(username="kam1", role="kam", kam_id="K1").require_role("admin")
    assert info.value.code == "access_denied"
    assert "admin" in info.value.hint


# --- pages per role --------------------------------------------------------------------------


def app_pages() -> list[tuple]:
    """The page entries of app.py, read without running Streamlit."""
    return app_page_entries()


@pytest.mark.parametrize("role", ["admin", "management", "kam"])
def test_pages_per_role(role):
    from ui.navigation import visible_pages

    shown = {
        e.path for pages in visible_pages(Scope(role=role, kam_id="K1")).values() for e in pages
    }
    all_paths = {entry[0] for entry in app_pages()}
    if role == "admin":
        assert shown == all_paths
    else:
        assert shown.isdisjoint(ADMIN_ONLY)
        assert ADMIN_ONLY <= all_paths - shown
    assert "pages/overview.py" in shown


def test_no_unsafe_html_with_user_text():
    """Nothing in the app renders HTML from data: unsafe_allow_html is not used at all."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]
        if "unsafe_allow_html" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


# --- reports as another user -----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_users_db(tmp_path_factory, demo_db):
    """A copy of the demo database with the demo users (seeded here if demo.py does not)."""
    import shutil

    path = tmp_path_factory.mktemp("access") / "demo.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
        kam = users.scope_for_user(con, "kam01")
        visible = set(visible_account_ids(con, kam))
        everything = set(visible_account_ids(con, Scope.everything()))
    finally:
        con.close()
    return path, kam, visible, everything


def run_report(path: Path, kind: str, user: str) -> pd.DataFrame:
    done = subprocess.run(
        [sys.executable, "-m", "kam_analytics", "report", kind, "--db", str(path)]
        + ["--as-user", user, "--format", "csv"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return pd.read_csv(io.StringIO(done.stdout), dtype=str)


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_report_as_kam_shows_only_own_accounts(demo_users_db, kind):
    path, kam, visible, everything = demo_users_db
    assert kam.kam_id == "KAM01" and 0 < len(visible) < len(everything)
    mine = run_report(path, kind, "kam01")
    assert len(mine) > 0
    if "account_id" in mine.columns:
        assert set(mine["account_id"]) <= visible
    if kind == "bonus":
        assert set(mine["kam_id"]) == {"KAM01"}
    elif "kam_id" in mine.columns and kind != "giveaways":
        # Accounts of other KAMs appear only as child accounts of KAM01's groups.
        others = mine[mine["kam_id"] != "KAM01"]["account_id"]
        assert set(others) <= visible
    # Management sees more than the KAM: the filter really filtered.
    theirs = run_report(path, kind, "leitung")
    key = "account_id" if "account_id" in theirs.columns else "kam_id"
    assert set(mine[key]) < set(theirs[key])


def test_aggregate_reports_as_kam_count_only_own_accounts(demo_users_db):
    path = demo_users_db[0]

    def run_report(*args):  # numbers, not the text of the CSV
        df = globals()["run_report"](*args)
        for col in ("key_accounts", "revenue", "accounts", "findings"):
            if col in df:
                df[col] = pd.to_numeric(df[col])
        return df

    mine, theirs = run_report(path, "overview", "kam01"), run_report(path, "overview", "leitung")
    assert 0 < mine["key_accounts"].iloc[0] < theirs["key_accounts"].iloc[0]
    assert mine["revenue"].iloc[0] < theirs["revenue"].iloc[0]
    mine, theirs = run_report(path, "backtest", "kam01"), run_report(path, "backtest", "leitung")
    assert 0 < mine["accounts"].iloc[0] < theirs["accounts"].iloc[0]
    mine = run_report(path, "departments", "kam01")
    theirs = run_report(path, "departments", "leitung")
    # the same matrix rows; giveaways counted of the KAM's own accounts only
    assert list(mine["service_code"]) == list(theirs["service_code"])
    assert (mine["findings"] <= theirs["findings"]).all()
    assert mine["findings"].sum() < theirs["findings"].sum()


def test_report_as_unknown_user_is_refused(demo_users_db):
    path = demo_users_db[0]
    done = subprocess.run(
        [sys.executable, "-m", "kam_analytics", "report", "bonus", "--db", str(path)]
        + ["--as-user", "niemand"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 2
    assert "There is no user 'niemand'" in done.stderr
    assert done.stdout == ""


def test_audit_log_is_refused_to_a_kam_below_the_page(con):
    import pytest

    from kam_analytics.audit import list_audit, write_audit
    from kam_analytics.errors import AccessDeniedError

    write_audit(con, "root", "settings.kam_pay", "KAM01", {"target_bonus": 1}, {"target_bonus": 2})
    with pytest.raises(AccessDeniedError):
        list_audit(con, Scope("anna", "kam", "KAM02"))
    assert list(list_audit(con, Scope("chef", "management"))["target"]) == ["KAM01"]
