"""The sign-in gate: sign-in form, company sign-in (st.login), sign-out, expiry, page roles.

Who may see which rows is enforced in kam_analytics (the scope every query takes); this module
only decides who is signed in and which pages the navigation offers.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from kam_analytics import users
from kam_analytics.access import Scope
from kam_analytics.errors import AccessDeniedError, AuthenticationError, NotFoundError, Reason
from ui.errors import show_error
from ui.navigation import page_entry
from ui.session import get_con, tr
from ui.text import plain

SESSION_TIMEOUT_HOURS = 8
_SCOPE = "scope"  # read by ui.session.get_scope()
_ACTIVITY = "auth_last_activity"
_METHOD = "auth_method"  # "password" or "company"
_NOTICE = "auth_notice"  # message for the next sign-in form (expired, signed out)
_COMPANY_FAILED = "auth_company_failed"  # e-mail whose company sign-in found no user
_PENDING = "auth_pending"  # st.login / st.logout requested by a button callback
_SWEEP = "auth_sweep"  # one extra run after sign-out, so the old run's downloads are deleted
_KEEP_AFTER_SIGN_OUT = frozenset({"lang", _NOTICE, _PENDING, _COMPANY_FAILED, _SWEEP})


# --- pages and roles (declared once, in ui.navigation) ---------------------------------------


def require_signed_in() -> Scope:
    """The signed-in scope; a page opened without sign-in is sent to the sign-in page.

    Needed because Streamlit serves pages/*.py by URL on the first run after a server start
    (its old pages-folder mode stays on until st.navigation is called once), bypassing app.py.
    """
    scope = st.session_state.get(_SCOPE)
    if scope is None:
        st.switch_page("app.py")  # app.py shows the sign-in form
        st.stop()
    return scope


def require_page(page_file: str) -> Scope:
    """At the top of every page (`require_page(__file__)`): the signed-in scope, or stop.

    The roles come from the page's entry in ui.navigation.PAGES, so they are written once.
    """
    scope = require_signed_in()
    roles = page_entry(page_file).roles
    if scope.role not in roles:
        show_error(
            AccessDeniedError(Reason.PAGE_DENIED, roles=", ".join(tr(f"role_{r}") for r in roles))
        )
        st.stop()
    return scope


# --- session state ---------------------------------------------------------------------------


def _start_session(scope: Scope, method: str) -> None:
    st.session_state[_SCOPE] = scope
    st.session_state[_METHOD] = method
    st.session_state[_ACTIVITY] = time.time()
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
    """Audit the sign-out and forget the user (button callback and expiry)."""
    scope = st.session_state.get(_SCOPE)
    method = st.session_state.get(_METHOD)
    if scope is not None:
        users.sign_out(get_con(), scope, reason)
    _end_session("signed_out" if reason == "user" else reason)
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


def require_sign_in() -> Scope:
    """The signed-in user's scope; otherwise show the sign-in form and stop the script."""
    con = get_con()
    _run_pending()
    scope = st.session_state.get(_SCOPE)
    if scope is not None:
        idle = time.time() - st.session_state.get(_ACTIVITY, time.time())
        if idle > SESSION_TIMEOUT_HOURS * 3600:
            sign_out("expired")
        else:
            try:
                # Re-read the user each run: a changed role or a removal applies at once.
                fresh = users.scope_for_user(con, scope.username)
            except NotFoundError:
                users.sign_out(con, scope, "removed")
                _end_session("removed")
            else:
                st.session_state[_SCOPE] = fresh
                st.session_state[_ACTIVITY] = time.time()
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
                _start_session(fresh, "company")
                st.rerun()

    if st.session_state.pop(_SWEEP, False):
        # Streamlit keeps a download's file (/media/...) one more run after its button is
        # gone, then deletes it; this extra run makes sure no download URL of the signed-out
        # session still answers (tests/browser/test_signout_downloads.py).
        st.rerun()

    def sign_in_page() -> None:
        show_sign_in_form(con, providers)

    # The sign-in form is the only page this run registers: without a navigation call,
    # Streamlit would fall back to the pages/ folder and serve every page file by its URL.
    st.navigation(
        [st.Page(sign_in_page, title=tr("auth_title"), icon=":material/login:", default=True)],
        position="hidden",
    ).run()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


# --- what the user sees ----------------------------------------------------------------------


def _show_notice() -> None:
    notice = st.session_state.get(_NOTICE)
    if notice == "expired":
        st.info(tr("auth_expired", hours=SESSION_TIMEOUT_HOURS))
    elif notice == "signed_out":
        st.success(tr("auth_signed_out"))
    elif notice == "removed":
        st.warning(tr("auth_removed"))
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
                    _start_session(scope, "password")
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
