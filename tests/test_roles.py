"""Per role and page: allowed or refused (issue 6).

Who gets which page is decided in two places, and both are tested here on the demo database:
the navigation (app.py's PAGES with ui.auth's role filter: a page a role may not open is not
registered, so it cannot be switched to), and the page itself (a restricted page run directly —
as Streamlit does for a pages/*.py URL on the first run after a server start — refuses with
`err_page_denied` and shows no data; any page run without a signed-in user shows nothing).
The read-only pages (matrix, settings) offer editing to admins only. The command line's
`--as-user` on every report kind is in test_access.py; here: decks with --as-user.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db, users
from kam_analytics.access import Scope
from kam_analytics.i18n import t
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120

ALL_PAGES = {
    "pages/overview.py",
    "pages/audit.py",
    "pages/users.py",
    "pages/services.py",
    "pages/giveaways.py",
    "pages/matrix.py",
    "pages/profitability.py",
    "pages/data_import.py",
    "pages/retention.py",
    "pages/mandate.py",
    "pages/bonus.py",
    "pages/account.py",
    "pages/settings.py",
}
# The pages not open to everyone, with the roles ui/navigation.py declares for them.
RESTRICTED = {
    "pages/audit.py": ("admin", "management"),
    "pages/users.py": ("admin",),
    "pages/data_import.py": ("admin",),
}
# What each role's navigation offers: admins everything, management all but users and the
# data import, a KAM also no audit log.
EXPECTED = {
    "admin": ALL_PAGES,
    "management": ALL_PAGES - {"pages/users.py", "pages/data_import.py"},
    "kam": ALL_PAGES - {"pages/audit.py", "pages/users.py", "pages/data_import.py"},
}
DEMO_USER = {"admin": "admin", "management": "leitung", "kam": "kam01"}
SCOPES = {
    "admin": Scope("admin", "admin"),
    "management": Scope("leitung", "management"),
    "kam": Scope("kam01", "kam", "KAM01"),
}


@pytest.fixture(scope="module")
def roles_db(demo_db, tmp_path_factory):
    """One copy of the demo database with its demo users; the tests here only read."""
    path = tmp_path_factory.mktemp("roles") / "roles.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DB", str(path))
        yield path


def sign_in(username: str) -> AppTest:
    """The app after a real sign-in through the form."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="auth_username").input(username)
    at.text_input(key="auth_password").input(users.demo_password(username))
    [b for b in at.button if b.label == t("auth_submit")][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def nav_pages(at: AppTest) -> set[str]:
    paths = [info.get("script_path") for info in at._registered_pages.values()]
    return {f"pages/{Path(p).name}" for p in paths if p}


def run_page_directly(page: str, scope: Scope | None) -> AppTest:
    """A page file run as the entry point, bypassing app.py and its navigation."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    if scope is not None:
        at.session_state["scope"] = scope
    return at.run()


def shows_data(at: AppTest) -> int:
    """How many data-bearing elements the run shows."""
    return (
        len(at.dataframe)
        + len(at.table)
        + len(at.metric)
        + len(at.get("plotly_chart"))
        + len(at.get("file_uploader"))
    )


def test_every_page_is_in_the_matrix():
    """A new page must get a row here: the expectations cover exactly the listed pages."""
    from tests.test_access import app_pages

    assert {entry[0] for entry in app_pages()} == ALL_PAGES
    assert {p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py")} == ALL_PAGES


@pytest.mark.parametrize("role", ["admin", "management", "kam"])
def test_navigation_per_role(roles_db, role):
    at = sign_in(DEMO_USER[role])
    assert at.session_state["scope"].role == role
    assert nav_pages(at) == EXPECTED[role]
    assert [x.value for x in at.title] == [t("ov_title")]  # everyone lands on the overview
    for page in sorted(ALL_PAGES - EXPECTED[role]):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


@pytest.mark.parametrize("role", ["admin", "management", "kam"])
def test_allowed_pages_open_for_the_role(roles_db, role):
    """Every page the role's navigation offers opens without an exception or a refusal."""
    at = sign_in(DEMO_USER[role])
    denied = t("err_page_denied", roles="")[:20]
    for page in sorted(EXPECTED[role]):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not [e.value for e in at.error if e.value.startswith(denied)], page
        assert len(at.title) == 1, page


@pytest.mark.parametrize(
    ("role", "page"),
    [(role, page) for role in ("admin", "management", "kam") for page in sorted(RESTRICTED)],
)
def test_restricted_page_run_directly(roles_db, role, page):
    """The page guard refuses a role outside its list, showing only the refusal."""
    at = run_page_directly(page, SCOPES[role])
    allowed = RESTRICTED[page]
    assert not at.exception, [e.value for e in at.exception]
    if role in allowed:
        assert [e.value for e in at.error] == []
        assert len(at.title) == 1
        return
    roles = ", ".join(t(f"role_{r}") for r in allowed)
    assert [e.value for e in at.error] == [
        f"{t('err_page_denied', roles=roles)}  \n{t('err_page_denied_hint')}"
    ]
    assert len(at.title) == 0
    assert shows_data(at) == 0


@pytest.mark.parametrize("page", sorted(ALL_PAGES))
def test_page_without_sign_in_shows_nothing(roles_db, page):
    """Fail closed: without a signed-in user a page only redirects to app.py (which, as the
    entry point of a real server, shows the sign-in form; here that redirect is all there is)."""
    at = run_page_directly(page, None)
    assert shows_data(at) == 0
    assert len(at.title) == 0
    # The redirect to app.py fails outside a real server; with client.showErrorDetails off
    # (.streamlit/config.toml) even that shows no details, only Streamlit's redacted line.
    assert len(at.exception) == 1
    assert at.exception[0].value.startswith("This app has encountered an error.")
    assert at.exception[0].stack_trace == []
    assert "scope" not in at.session_state


@pytest.mark.parametrize("role", ["management", "kam"])
def test_matrix_and_settings_are_read_only_outside_admin(roles_db, role):
    at = sign_in(DEMO_USER[role])
    at.switch_page("pages/matrix.py").run()
    assert not at.exception
    # The matrix and the catalogue are shown, neither as an editor (editing_mode 0 = read-only)
    assert [e.proto.editing_mode for e in at.dataframe] == [
        0,
        0,
        0,
    ]  # matrix, departments, catalogue
    assert t("mx_save") not in [b.label for b in at.button]
    assert t("mx_catalogue_save") not in [b.label for b in at.button]
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    assert [i.value for i in at.info] == [t("set_readonly")]
    assert at.number_input and all(n.disabled for n in at.number_input)
    assert all(b.disabled for b in at.button if b.label == t("set_save"))
    assert t("set_pay_save") not in [b.label for b in at.button]


def test_admin_edits_matrix_and_settings(roles_db):
    at = sign_in("admin")
    at.switch_page("pages/matrix.py").run()
    # the sheet; the departments, matrix and catalogue editors
    assert [e.proto.editing_mode > 0 for e in at.dataframe] == [False, True, True, True]
    assert t("mx_save") in [b.label for b in at.button]
    at.switch_page("pages/settings.py").run()
    assert [i.value for i in at.info] == []
    assert not any(n.disabled for n in at.number_input)


# --- command line ---------------------------------------------------------------------------


def test_every_report_kind_is_checked_with_as_user():
    """test_access.py runs `report KIND --as-user kam01` for every kind the CLI offers."""
    from kam_analytics.reports import REPORTS
    from tests.test_access import REPORT_KINDS

    assert set(REPORTS) == set(REPORT_KINDS)


@pytest.fixture(scope="module")
def cli_db(demo_db, tmp_path_factory):
    """A copy of its own: the app tests' process keeps a connection open on roles_db."""
    path = tmp_path_factory.mktemp("roles_cli") / "cli.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
    finally:
        con.close()
    return path


@pytest.mark.parametrize("account", ["K10012", "K10009"])
def test_deck_as_kam_for_a_foreign_account_exits_2(cli_db, tmp_path, account):
    """K10012 is KAM01's; K10009 a KAM-less child of KAM06's group. kam02 may build neither."""
    out = tmp_path / "deck.pptx"
    done = run_cli(
        "deck",
        "--account",
        account,
        "--year",
        "2025",
        "--out",
        str(out),
        "--db",
        str(cli_db),
        "--as-user",
        "kam02",
    )
    assert done.returncode == 2, done.stderr
    assert f"User 'kam02' may not build a deck for account '{account}'" in done.stderr
    assert not out.exists()
    assert done.stdout == ""


def test_review_pack_as_kam_exits_2(cli_db, tmp_path):
    out = tmp_path / "review.pptx"
    done = run_cli(
        "deck",
        "--review",
        "--year",
        "2025",
        "--out",
        str(out),
        "--db",
        str(cli_db),
        "--as-user",
        "kam01",
    )
    assert done.returncode == 2, done.stderr
    assert "User 'kam01' (kam) may not do this" in done.stderr
    assert not out.exists()
