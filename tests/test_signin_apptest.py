"""The sign-in gate in AppTest: sign-in, wrong password, pages per role, sign-out, expiry,
company sign-in (st.login gating with a simulated provider), the users and audit pages.

The full "a KAM walks every page and every download" test belongs here once every page exists:
sign in as kam01 (`sign_in(at, "kam01")`), loop over `at._registered_pages` (every page the
navigation offers a KAM), `at.switch_page(path).run()` each, collect every text the page shows
(`at.main` markdown, captions, metrics, dataframe values via `el.value`, selectbox options) and
assert that no account id, account name or KAM name outside
`SELECT account_id FROM visible_accounts('KAM01')` appears; the bytes of each download are not
exposed by AppTest, so call the function that builds each download with the kam01 scope and
check the same on the produced xlsx/csv/pptx/png text (see test_access.py for the id sets).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db, users
from kam_analytics.i18n import t
from ui.text import plain

TIMEOUT = 120


@pytest.fixture
def app_db(demo_db, tmp_path, monkeypatch):
    """A private demo copy with demo users, used by the app through $KAM_DB."""
    path = tmp_path / "app.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
    finally:
        con.close()
    monkeypatch.setenv("KAM_DB", str(path))
    return path


def audit_rows(path) -> list[tuple]:
    con = db.connect(path)
    try:
        return con.execute(
            "SELECT username, action, new_value FROM audit_log "
            "WHERE action IN ('signin', 'signin_failed', 'signout') ORDER BY audit_id"
        ).fetchall()
    finally:
        con.close()


def new_app() -> AppTest:
    return AppTest.from_file("../app.py", default_timeout=TIMEOUT)


def sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.text_input(key="auth_username").input(name)
    at.text_input(key="auth_password").input(password or users.demo_password(name))
    return click(at, t("auth_submit"))


def page_paths(at: AppTest) -> set[str]:
    """The pages the navigation offers, as 'pages/x.py'."""
    paths = [info.get("script_path") for info in at._registered_pages.values()]
    return {f"{Path(p).parent.name}/{Path(p).name}" for p in paths if p}


def click(at: AppTest, label: str, where=None) -> AppTest:
    """Click the (form submit) button with this label and rerun."""
    buttons = [b for b in (where or at).button if b.label == label]
    assert len(buttons) == 1, [b.label for b in (where or at).button]
    return buttons[0].click().run()


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def test_sign_in_page_blocks_everything(app_db):
    at = new_app().run()
    assert not at.exception
    assert [x.value for x in at.title] == [t("auth_title")]
    assert page_paths(at) == set()  # no navigation before sign-in
    # The demo database names its demo users, with their passwords.
    demo = at.table[0].value.reset_index()
    assert list(demo[t("auth_demo_user")])[:3] == ["admin", "leitung", "kam01"]
    assert list(demo[t("auth_demo_password")])[:3] == ["admin-demo", "leitung-demo", "kam01-demo"]


def test_real_database_shows_no_demo_users(tmp_path, monkeypatch):
    path = tmp_path / "real.duckdb"
    con = db.connect(path)
    try:
        users.add_user(
            con, "chefin", "admin", scope=users.Scope.everything(), password="Echt-Geheim-1"
        )
    finally:
        con.close()
    monkeypatch.setenv("KAM_DB", str(path))
    at = new_app().run()
    assert [x.value for x in at.title] == [t("auth_title")]
    assert len(at.table) == 0
    assert not any("demo" in x.lower() for x in texts(at) + [s.value for s in at.subheader])


def test_wrong_password_shows_error(app_db):
    at = sign_in(new_app().run(), "kam01", "falsches-passwort")
    hint = t("err_auth_failed_hint", n=users.MAX_FAILED_ATTEMPTS, minutes=users.LOCK_MINUTES)
    assert [e.value for e in at.error] == [f"{t('err_auth_failed')}  \n{hint}"]
    assert [x.value for x in at.title] == [t("auth_title")]
    assert page_paths(at) == set()
    assert audit_rows(app_db)[-1][:2] == ("kam01", "signin_failed")


def test_kam_gets_no_admin_pages(app_db):
    at = sign_in(new_app().run(), "kam01")
    assert not at.exception
    assert [x.value for x in at.title] == [t("ov_title")]
    assert "pages/overview.py" in page_paths(at)
    assert not page_paths(at) & {"pages/users.py", "pages/audit.py"}
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/users.py")
    assert any("kam01" in c.value for c in at.sidebar.caption)
    assert at.session_state["scope"] == users.Scope("kam01", "kam", "KAM01")


def test_management_gets_no_admin_pages(app_db):
    """Management reads the audit log (kam_analytics.audit.AUDIT_READERS) but manages no users."""
    at = sign_in(new_app().run(), "leitung")
    assert not at.exception
    assert not page_paths(at) & {"pages/users.py", "pages/data_import.py"}
    assert "pages/audit.py" in page_paths(at)
    with pytest.raises(ValueError):
        at.switch_page("pages/users.py")


def test_admin_manages_users_and_reads_the_audit_log(app_db):
    at = sign_in(new_app().run(), "admin")
    assert {"pages/users.py", "pages/audit.py"} <= page_paths(at)
    at.switch_page("pages/users.py").run()
    assert not at.exception
    listed = at.dataframe[0].value
    assert "kam01" in list(listed[t("users_col_username")])
    at.text_input(key="users_add_name").input("neu.kam")
    at.selectbox(key="users_add_role").set_value("kam")
    at.selectbox(key="users_add_kam").set_value("KAM02")
    at.text_input(key="users_add_pw1").input("Neu-Passwort-9")
    at.text_input(key="users_add_pw2").input("Neu-Passwort-9")
    click(at, t("users_add_submit"))
    assert not at.exception
    # Data in a message is escaped Markdown (ui.text.plain): it shows as "neu.kam".
    assert [s.value for s in at.success] == [t("users_added", name=plain("neu.kam"))]
    assert "neu.kam" in list(at.dataframe[0].value[t("users_col_username")])

    at.switch_page("pages/audit.py").run()
    assert not at.exception
    log = at.dataframe[0].value
    first = log.iloc[0]
    assert first[t("audit_col_action")] == t("audit_action_user_add")
    assert first[t("audit_col_user")] == "admin"
    assert first[t("audit_col_target")] == "neu.kam"
    assert "KAM: KAM02" in first[t("audit_col_change")]  # field names in words (audit.field_label)
    assert "Neu-Passwort-9" not in log.to_csv()
    assert t("audit_action_signin") in set(log[t("audit_col_action")])


def fresh(at: AppTest, **state) -> AppTest:
    """A new AppTest carrying the sign-in session of `at` (plus `state`), after its first run.

    AppTest 1.67 resets Streamlit's pages-folder flag before every run, so after the first
    run it executes the current page file directly instead of app.py (the sidebar and the
    gate do not run). A fresh AppTest's first run always starts at app.py, like a browser
    session, so the gate is tested there.
    """
    new = new_app()
    for key in ("scope", "auth_method", "auth_session", "auth_notice"):
        if key in at.session_state:
            new.session_state[key] = at.session_state[key]
    for key, value in state.items():
        new.session_state[key] = value
    return new.run()


def test_sign_out(app_db):
    at = fresh(sign_in(new_app().run(), "kam01"))
    assert [x.value for x in at.title] == [t("ov_title")]
    at.sidebar.button(key="auth_signout").click().run()
    assert "scope" not in at.session_state
    assert [r[:2] for r in audit_rows(app_db)[-2:]] == [("kam01", "signin"), ("kam01", "signout")]
    at = fresh(at)
    assert [x.value for x in at.title] == [t("auth_title")]
    assert [s.value for s in at.success] == [t("auth_signed_out")]
    assert page_paths(at) == set()


def test_sign_out_forgets_the_whole_session_but_the_language(app_db):
    """Filters, per-session caches and page state of the signed-out user do not survive."""
    at = fresh(sign_in(new_app().run(), "kam01"), lang="en", _export_theme="cached")
    keys = ("scope", "ov_year", "_export_theme")
    assert all(k in at.session_state for k in keys)
    at.sidebar.button(key="auth_signout").click().run()
    assert not at.exception
    assert [k for k in keys if k in at.session_state] == []
    assert at.session_state["lang"] == "en"
    assert [x.value for x in at.title] == [t("auth_title", "en")]


def set_last_seen(path, session_hash: str, hours_ago: float) -> None:
    """Pretend the sign-in was last active `hours_ago` hours ago (its server-side record)."""
    con = db.connect(path)
    try:
        con.execute(
            "UPDATE sign_in_sessions SET last_seen = ? WHERE session_hash = ?",
            [dt.datetime.now() - dt.timedelta(hours=hours_ago), session_hash],
        )
    finally:
        con.close()


def last_seen(path, session_hash: str) -> dt.datetime:
    con = db.connect(path)
    try:
        return con.execute(
            "SELECT last_seen FROM sign_in_sessions WHERE session_hash = ?", [session_hash]
        ).fetchall()[0][0]
    finally:
        con.close()


def test_session_expires_after_eight_hours_idle(app_db):
    at = sign_in(new_app().run(), "kam01")
    session = at.session_state["auth_session"]
    set_last_seen(app_db, session, 7.9)
    still = fresh(at)
    assert [x.value for x in still.title] == [t("ov_title")]  # 7.9 h idle: still signed in
    # activity renewed in the record
    assert last_seen(app_db, session) > dt.datetime.now() - dt.timedelta(minutes=1)
    set_last_seen(app_db, session, 8.1)
    gone = fresh(at)
    assert [x.value for x in gone.title] == [t("auth_title")]
    assert [i.value for i in gone.info] == [t("auth_expired", hours=8)]
    assert "scope" not in gone.session_state
    assert audit_rows(app_db)[-1][:2] == ("kam01", "signout")
    assert '"expired"' in audit_rows(app_db)[-1][2]


def test_removed_user_is_signed_out_at_once(app_db):
    at = sign_in(new_app().run(), "kam02")
    assert [x.value for x in at.title] == [t("ov_title")]
    con = db.connect(app_db)
    try:
        users.remove_user(con, "kam02", scope=users.Scope.everything())
    finally:
        con.close()
    at = fresh(at)
    assert [x.value for x in at.title] == [t("auth_title")]
    assert [w.value for w in at.warning] == [t("auth_removed")]


@pytest.mark.parametrize(
    ("change", "notice"),
    [
        (
            lambda c: users.change_user(c, "kam03", scope=users.Scope.everything(), role="admin"),
            "auth_role_changed",
        ),
        (
            lambda c: users.set_password(
                c, "kam03", "Neues-Passwort-3", scope=users.Scope.everything(), rounds=4
            ),
            "auth_password_changed",
        ),
    ],
)
def test_role_or_password_change_ends_the_session_at_once(app_db, change, notice):
    """The new rights (or the new password) apply from the next sign-in; the old session ends."""
    at = sign_in(new_app().run(), "kam03")
    con = db.connect(app_db)
    try:
        change(con)
    finally:
        con.close()
    at = fresh(at)
    assert [x.value for x in at.title] == [t("auth_title")]
    assert [i.value for i in at.info] == [t(notice)]
    assert "scope" not in at.session_state
    assert page_paths(at) == set()
    assert audit_rows(app_db)[-1][:2] == ("kam03", "signout")


def test_sign_in_writes_a_signed_cookie_once(app_db):
    """After the sign-in the page carries the script that stores the cookie; a rerun does not."""
    at = sign_in(new_app().run(), "kam01")
    scripts = [e for e in at.sidebar if getattr(e.proto, "body", "").startswith("<script>")]
    assert len(scripts) == 1
    body = scripts[0].proto.body
    assert "kam_session=" in body and "SameSite=Strict" in body and "Max-Age=43200" in body
    assert "Secure" in body  # added whenever the page is served over HTTPS
    at.run()
    assert not [e for e in at.sidebar if getattr(e.proto, "body", "").startswith("<script>")]


def test_company_sign_in_maps_email_to_user(app_db):
    at = new_app()
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback"}
    at.run()
    labels = [b.label for b in at.button]
    assert t("auth_company_button") in labels  # offered only with an [auth] section
    at.user = {"is_logged_in": True, "email": "Katrin.Moeller@demo-firma.de", "name": "Katrin"}
    at.run()
    assert not at.exception
    assert at.session_state["scope"] == users.Scope("kam01", "kam", "KAM01")
    assert at.session_state["auth_method"] == "company"
    assert [x.value for x in at.title] == [t("ov_title")]
    assert audit_rows(app_db)[-1][:2] == ("kam01", "signin")
    assert '"company"' in audit_rows(app_db)[-1][2]


def test_company_sign_in_without_user_is_refused(app_db):
    at = new_app()
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback"}
    at.user = {"is_logged_in": True, "email": "fremd@example.com"}
    at.run()
    assert [e.value for e in at.error] == [
        t("auth_company_no_user", email=plain("fremd@example.com"))
    ]
    assert "scope" not in at.session_state
    assert page_paths(at) == set()
    at.run()  # a rerun does not write a second failed sign-in
    failed = [r for r in audit_rows(app_db) if r[1] == "signin_failed"]
    assert [r[0] for r in failed] == ["fremd@example.com"]


def test_no_company_button_without_auth_section(app_db):
    at = new_app().run()
    assert t("auth_company_button") not in [b.label for b in at.button]


def session_language(path) -> list[tuple]:
    con = db.connect(path)
    try:
        return con.execute(
            "SELECT username, lang FROM sign_in_sessions WHERE ended_at IS NULL ORDER BY created_at"
        ).fetchall()
    finally:
        con.close()


def test_the_language_is_kept_with_the_sign_in(app_db):
    """Chosen on the sign-in page, it is stored with the sign-in; a later change is too."""
    at = new_app().run()
    at.selectbox(key="lang").select("en").run()
    at.text_input(key="auth_username").input("kam01")
    at.text_input(key="auth_password").input(users.demo_password("kam01"))
    click(at, t("auth_submit", "en"))
    assert not at.exception
    assert session_language(app_db) == [("kam01", "en")]
    at = fresh(at, lang="en")
    at.sidebar.selectbox(key="lang").select("de").run()
    assert not at.exception
    assert session_language(app_db) == [("kam01", "de")]


def test_a_reload_starts_in_the_language_of_its_sign_in(app_db, monkeypatch):
    """F5 is a new browser session: its cookie's sign-in names the language to start with."""
    import ui.auth
    from kam_analytics import sign_in_sessions

    con = db.connect(app_db)
    try:
        cookie = sign_in_sessions.start_session(con, "kam01", "password", lang="en").cookie
    finally:
        con.close()
    monkeypatch.setattr(ui.auth, "_cookie_in_browser", lambda: cookie)
    at = new_app().run()
    assert not at.exception
    assert at.session_state["scope"].username == "kam01"
    assert at.sidebar.selectbox(key="lang").value == "en"
    assert [x.value for x in at.title] == [t("ov_title", "en")]
