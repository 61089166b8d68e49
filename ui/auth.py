"""The sign-in gate: sign-in form, company sign-in (st.login), sign-out, expiry, page roles.

Who may see which rows is enforced in kam_analytics (the scope every query takes); this module
only decides who is signed in and which pages the navigation offers.

Every sign-in has a server-side record (kam_analytics.sign_in_sessions) and the browser a
signed cookie naming it, so a reload or a second tab stays signed in. The cookie is written by
a script on the page (Streamlit offers no other way to set one), so it cannot be HttpOnly; the
record is the authority: each run checks it (idle expiry, sign-out in another tab, password or
role changed). A page URL opened before sign-in is registered as a hidden sign-in page under
the same URL path, so after sign-in the same URL runs the real page (or a refusal).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from kam_analytics import sign_in_sessions, users
from kam_analytics.access import Scope
from kam_analytics.errors import AccessDeniedError, AuthenticationError, NotFoundError, Reason
from ui.errors import show_error
from ui.navigation import PAGES, PageEntry, page_entry
from ui.session import get_con, get_lang, tr
from ui.text import plain

_SCOPE = "scope"  # read by ui.session.get_scope()
_SESSION = "auth_session"  # key of the sign-in's record (kam_analytics.sign_in_sessions)
_METHOD = "auth_method"  # "password" or "company"
_COOKIE = "auth_cookie"  # cookie to write on the next run: (value, max_age); ("", 0) clears it
_REFUSED = "auth_cookie_refused"  # a cookie value already found invalid (not checked again)
_WANTED = (
    "auth_wanted_page"  # a page file (its navigation path) run before sign-in (require_signed_in)
)
_NOTICE = "auth_notice"  # message for the next sign-in form (expired, signed out)
_COMPANY_FAILED = "auth_company_failed"  # e-mail whose company sign-in found no user
_PENDING = "auth_pending"  # st.login / st.logout requested by a button callback
_SWEEP = "auth_sweep"  # one extra run after sign-out, so the old run's downloads are deleted
_KEEP_AFTER_SIGN_OUT = frozenset(
    {"lang", _NOTICE, _PENDING, _COMPANY_FAILED, _SWEEP, _COOKIE, _REFUSED, _WANTED}
)
# Why a session ended -> the notice on the sign-in page.
_NOTICES = {
    "user": "signed_out",
    "expired": "expired",
    "removed": "removed",
    "password": "password_changed",
    "role": "role_changed",
    "unknown": "signed_out",
}


# --- pages and roles (declared once, in ui.navigation) ---------------------------------------


def require_signed_in(page_file: str | None = None) -> Scope:
    """The signed-in scope; a page opened without sign-in is sent to the sign-in page.

    Needed because Streamlit serves pages/*.py by URL on the first run after a server start
    (its old pages-folder mode stays on until st.navigation is called once), bypassing app.py.
    The page is remembered, so the sign-in form is shown at its URL and leads back to it.
    """
    scope = st.session_state.get(_SCOPE)
    if scope is None:
        if page_file is not None:
            st.session_state[_WANTED] = page_entry(page_file).path
        st.switch_page("app.py")  # app.py shows the sign-in form
        st.stop()
    return scope


def require_page(page_file: str) -> Scope:
    """At the top of every page (`require_page(__file__)`): the signed-in scope, or stop.

    The roles come from the page's entry in ui.navigation.PAGES, so they are written once.
    """
    scope = require_signed_in(page_file)
    roles = page_entry(page_file).roles
    if scope.role not in roles:
        show_error(_page_denied(roles))
        st.stop()
    return scope


def go_to_wanted_page(pages: dict[str, st.Page], shown: st.Page) -> None:
    """After a sign-in restored from the cookie, go to the page file that asked for it.

    On the first run after a server start Streamlit runs a page file by its URL (pages-folder
    mode); require_signed_in remembered its URL path and sent the run to app.py.
    `pages`: page file (navigation path) -> the page this run's navigation registered for it.
    """
    wanted = st.session_state.pop(_WANTED, None)
    if wanted in pages and pages[wanted] is not shown:
        st.switch_page(pages[wanted])


def _page_denied(roles: tuple[str, ...]) -> AccessDeniedError:
    return AccessDeniedError(Reason.PAGE_DENIED, roles=", ".join(tr(f"role_{r}") for r in roles))


def refusal_page(entry: PageEntry) -> st.Page:
    """A hidden page under `entry`'s URL that says the role may not open it (a bookmark of a
    page of another role lands here instead of on Streamlit's English "Page not found")."""

    def refuse() -> None:
        st.title(tr(entry.label))
        show_error(_page_denied(entry.roles))

    return st.Page(refuse, title=tr(entry.label), url_path=entry.url_path, visibility="hidden")


def unknown_url_path() -> str | None:
    """The browser's page path when no page of the navigation has it (a mistyped or old
    bookmark), else None. A path with a slash cannot be a page's and is left to Streamlit."""
    url = st.context.url
    if not url:
        return None
    path = urlsplit(url).path.strip("/")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :].strip("/")
    if not path or "/" in path or path in {e.url_path for e in PAGES}:
        return None
    return path


def not_found_page(url_path: str) -> st.Page:
    """A hidden page under an unknown address that says so in the user's language (instead of
    Streamlit's English "Page not found" dialog, which then runs the overview)."""

    def answer() -> None:
        show_error(NotFoundError(Reason.PAGE_NOT_FOUND, path=url_path))

    return st.Page(answer, title=tr("nav_not_found"), url_path=url_path, visibility="hidden")


# --- session state ---------------------------------------------------------------------------


def _start_session(con, scope: Scope, method: str) -> None:
    """A new sign-in: its record, and its cookie (written by the next run's page)."""
    started = sign_in_sessions.start_session(con, scope.username, method, lang=get_lang())
    _adopt_session(scope, method, started.session_hash)
    st.session_state[_COOKIE] = (started.cookie, started.max_age)


def _adopt_session(scope: Scope, method: str, session_hash: str) -> None:
    st.session_state[_SCOPE] = scope
    st.session_state[_METHOD] = method
    st.session_state[_SESSION] = session_hash
    st.session_state.pop(_NOTICE, None)


def _end_session(notice: str | None) -> None:
    """Forget everything of the session but its language: filters, caches, pending downloads."""
    for key in list(st.session_state.keys()):
        if key not in _KEEP_AFTER_SIGN_OUT:
            del st.session_state[key]
    if notice:
        st.session_state[_NOTICE] = notice
    st.session_state[_SWEEP] = True


def sign_out(reason: str = "user") -> None:
    """The sign-out button: end the sign-in's record (every tab of it), audit, forget the user."""
    session_hash = st.session_state.get(_SESSION)
    if session_hash:
        sign_in_sessions.end_session(get_con(), session_hash, reason)
    _leave(st.session_state.get(_SCOPE), reason, audit=True)


def _leave(scope: Scope | None, reason: str, audit: bool) -> None:
    """Forget the signed-in user of this tab, say why on the sign-in page, drop the cookie."""
    method = st.session_state.get(_METHOD)
    if scope is not None and audit:
        users.sign_out(get_con(), scope, reason)
    _end_session(_NOTICES.get(reason, "signed_out"))
    st.session_state[_COOKIE] = ("", 0)
    if method == "company":
        # Also end the provider session, else the next run would sign the user in again.
        st.session_state[_PENDING] = ("logout", None)


def _request(action: str, provider: str | None = None) -> None:
    """Button callback: run st.login/st.logout in the script run (not inside a callback)."""
    st.session_state[_PENDING] = (action, provider)
    st.session_state.pop(_COMPANY_FAILED, None)


def _run_pending() -> None:
    pending = st.session_state.pop(_PENDING, None)
    if pending is None:
        return
    action, provider = pending
    try:
        if action == "logout":
            if _user_logged_in():
                st.logout()
        elif provider:
            st.login(provider)
        else:
            st.login()
    except Exception:  # Authlib missing or [auth] incomplete: say so on the sign-in form
        st.session_state[_NOTICE] = "company_unavailable"


def company_providers() -> list[str | None] | None:
    """None without an [auth] secrets section; else the named providers ([None] = the default)."""
    try:
        if "auth" not in st.secrets:
            return None
        section = st.secrets["auth"]
    except Exception:  # no secrets.toml at all
        return None
    named = [k for k, v in section.items() if hasattr(v, "keys")]
    return named or [None]


def _user_logged_in() -> bool:
    try:
        return bool(st.user.get("is_logged_in"))
    except Exception:
        return False


def _cookie_in_browser() -> str | None:
    """The sign-in cookie the browser sent when this tab connected (None without one)."""
    try:
        return st.context.cookies.get(sign_in_sessions.COOKIE_NAME)
    except Exception:  # no browser connection (bare script run)
        return None


def _restore_from_cookie(con) -> Scope | None:
    """A reload or a new tab: the scope of the browser's sign-in cookie, if its record is live."""
    value = _cookie_in_browser()
    if not value or st.session_state.get(_REFUSED) == value:
        return None
    session_hash, check = sign_in_sessions.session_from_cookie(con, value)
    if check.live:
        try:
            scope = users.record_cookie_sign_in(con, check.username)
        except NotFoundError:
            check = sign_in_sessions.SessionCheck(False, check.username, "removed")
        else:
            _adopt_session(scope, check.method or "password", session_hash)
            return scope
    # Forged, tampered, expired or signed out: refused once, and removed from the browser.
    st.session_state[_REFUSED] = value
    st.session_state[_COOKIE] = ("", 0)
    if check.reason == "expired" and _NOTICE not in st.session_state:
        st.session_state[_NOTICE] = "expired"
    return None


def restore_language() -> None:
    """A new browser session (F5, a second tab): start in the language its sign-in chose.

    Runs before the language switch is drawn, so it sets the switch's starting value
    (ui.session.get_lang's `_default_lang`), never the widget's own key.
    """
    if "lang" in st.session_state or _SESSION in st.session_state:
        return
    try:
        lang = sign_in_sessions.cookie_language(get_con(), _cookie_in_browser())
    except Exception:  # noqa: BLE001 - the sign-in gate right after shows a database fault
        return
    if lang is not None:
        st.session_state["_default_lang"] = lang


def remember_language() -> None:
    """The language switch's callback: keep the choice with this tab's sign-in record."""
    session_hash = st.session_state.get(_SESSION)
    if session_hash and "lang" in st.session_state:
        sign_in_sessions.update_session_language(get_con(), session_hash, st.session_state["lang"])


def _write_cookie() -> None:
    """Write (or clear) the sign-in cookie in the browser, once, by a script on the page."""
    pending = st.session_state.pop(_COOKIE, None)
    if pending is None:
        return
    value, max_age = pending
    name = sign_in_sessions.COOKIE_NAME
    # SameSite=Strict: no other site's page sends it; Secure whenever the app is served by HTTPS.
    # Not HttpOnly: a script cannot set that; the server-side record decides (see module doc).
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    path = f"/{base}" if base else "/"
    cookie = f"{name}={value}; Path={path}; Max-Age={int(max_age)}; SameSite=Strict"
    script = (
        f"<script>document.cookie = {json.dumps(cookie)} + "
        "(location.protocol === 'https:' ? '; Secure' : '');</script>"
    )
    with st.sidebar:
        st.html(script, unsafe_allow_javascript=True)


def _real_server() -> bool:
    from streamlit import runtime

    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime


def _check_session(con, scope: Scope) -> Scope | None:
    """The fresh scope while this tab's sign-in record is live; else sign the tab out (None)."""
    session_hash = st.session_state.get(_SESSION)
    if session_hash is None and not _real_server():
        # AppTest page tests put a scope into the session state by hand; a real server never
        # has a scope without a record (fail closed there), so only the user row is checked.
        try:
            return users.scope_for_user(con, scope.username)
        except NotFoundError:
            _leave(scope, "removed", audit=True)
            return None
    check = sign_in_sessions.check_session(con, session_hash)
    if check.live:
        try:
            return users.scope_for_user(con, scope.username)
        except NotFoundError:
            sign_in_sessions.end_session(con, st.session_state[_SESSION], "removed")
            check = sign_in_sessions.SessionCheck(False, scope.username, "removed", ended_now=True)
    # The button's own tab audited a sign-out already; every other reason is audited here.
    _leave(scope, check.reason or "unknown", audit=check.reason != "user")
    return None


def require_sign_in() -> Scope:
    """The signed-in user's scope; otherwise show the sign-in form and stop the script."""
    con = get_con()
    _run_pending()
    scope = st.session_state.get(_SCOPE)
    fresh = _check_session(con, scope) if scope is not None else _restore_from_cookie(con)
    if fresh is not None:
        st.session_state[_SCOPE] = fresh
        _write_cookie()
        return fresh
    providers = company_providers()
    if providers is not None and _user_logged_in():
        email = st.user.get("email") or ""
        if st.session_state.get(_COMPANY_FAILED) != email:
            try:
                fresh = users.record_company_sign_in(con, email)
            except NotFoundError:
                st.session_state[_COMPANY_FAILED] = email
            else:
                _start_session(con, fresh, "company")
                st.rerun()

    if st.session_state.pop(_SWEEP, False):
        # Streamlit keeps a download's file (/media/...) one more run after its button is
        # gone, then deletes it; this extra run makes sure no download URL of the signed-out
        # session still answers (tests/browser/test_signout_downloads.py).
        st.rerun()

    def sign_in_page() -> None:
        show_sign_in_form(con, providers)

    _write_cookie()
    # The sign-in form is the only page this run shows: without a navigation call, Streamlit
    # would fall back to the pages/ folder and serve every page file by its URL. Each page's
    # URL shows the form too (hidden pages), so a bookmark keeps its URL through the sign-in
    # and the rerun after it runs that page (its URL path names the same page).
    title = tr("auth_title")
    at_url = {
        e.path: st.Page(sign_in_page, title=title, url_path=e.url_path, visibility="hidden")
        for e in PAGES
    }
    default = st.Page(sign_in_page, title=title, icon=":material/login:", default=True)
    shown = st.navigation([default, *at_url.values()], position="hidden")
    wanted = st.session_state.pop(_WANTED, None)
    if wanted in at_url and shown is default:
        st.switch_page(at_url[wanted])  # back to the page's URL (first run after a start)
    shown.run()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


# --- what the user sees ----------------------------------------------------------------------


def _show_notice() -> None:
    notice = st.session_state.get(_NOTICE)
    if notice == "expired":
        st.info(tr("auth_expired", hours=sign_in_sessions.IDLE_HOURS))
    elif notice == "signed_out":
        st.success(tr("auth_signed_out"))
    elif notice == "removed":
        st.warning(tr("auth_removed"))
    elif notice == "password_changed":
        st.info(tr("auth_password_changed"))
    elif notice == "role_changed":
        st.info(tr("auth_role_changed"))
    elif notice == "company_unavailable":
        st.error(tr("auth_company_unavailable"))


def _show_company_sign_in(providers: list[str | None]) -> None:
    failed = st.session_state.get(_COMPANY_FAILED)
    if failed and _user_logged_in():
        st.error(tr("auth_company_no_user", email=plain(failed)))
        st.button(
            tr("auth_company_signout"),
            key="auth_company_logout",
            on_click=_request,
            args=("logout",),
        )
    for provider in providers:
        label = (
            tr("auth_company_button_named", provider=provider)
            if provider
            else tr("auth_company_button")
        )
        st.button(
            label,
            key=f"auth_company_{provider or 'default'}",
            type="primary",
            on_click=_request,
            args=("login", provider),
        )
    st.caption(tr("auth_company_or"))


def show_sign_in_form(con, providers: list[str | None] | None) -> None:
    """The sign-in page: company sign-in (if configured), name and password, demo users."""
    _, middle, _ = st.columns([1, 3, 1])
    with middle:
        st.title(tr("auth_title"))
        st.caption(tr("auth_intro"))
        _show_notice()
        if providers is not None:
            _show_company_sign_in(providers)
        with st.form("auth_signin"):
            name = st.text_input(tr("auth_username"), key="auth_username", autocomplete="username")
            password = st.text_input(
                tr("auth_password"),
                type="password",
                key="auth_password",
                autocomplete="current-password",
            )
            submitted = st.form_submit_button(tr("auth_submit"), type="primary", width="stretch")
        if submitted:
            if not name.strip() or not password:
                st.error(tr("auth_missing"))
            else:
                try:
                    scope = users.authenticate(con, name, password)
                except AuthenticationError as exc:
                    show_error(exc)
                else:
                    _start_session(con, scope, "password")
                    st.rerun()
        _show_demo_users(con)


def _show_demo_users(con) -> None:
    creds = users.demo_credentials(con)
    if not creds:
        return
    st.divider()
    st.subheader(tr("auth_demo_title"))
    st.caption(tr("auth_demo_hint"))
    df = pd.DataFrame(
        {
            tr("auth_demo_user"): [c["username"] for c in creds],
            tr("auth_demo_password"): [c["password"] for c in creds],
            tr("auth_demo_role"): [tr(f"role_{c['role']}") for c in creds],
            tr("auth_demo_name"): [c["display_name"] or "" for c in creds],
        }
    )
    st.table(df.set_index(tr("auth_demo_user")))


def sidebar_account(scope: Scope) -> None:
    """Sidebar block: who is signed in and the sign-out button."""
    role = tr(f"role_{scope.role}")
    st.caption(f"{tr('auth_signed_in_as')} **{plain(scope.username)}** · {role}")
    st.button(tr("auth_signout"), key="auth_signout", icon=":material/logout:", on_click=sign_out)
