"""Benutzer (admins only): list, add, change role, reset password, remove."""

import pandas as pd
import streamlit as st

from kam_analytics import users
from kam_analytics.errors import KamError
from kam_analytics.glossary import role_label
from kam_analytics.i18n import fmt_date
from kam_analytics.schema import ROLES
from ui.auth import require_page
from ui.errors import show_error
from ui.session import get_con, get_lang, tr
from ui.text import plain

scope = require_page(__file__)
con = get_con()
lang = get_lang()

st.title(tr("users_title"))
st.caption(tr("users_intro"))

flash = st.session_state.pop("users_flash", None)
if flash:
    st.success(flash)


def done(message: str) -> None:
    """Show `message` after the rerun that refreshes the table."""
    st.session_state["users_flash"] = message
    st.rerun()


def shown_role(role: str) -> str:
    """A role in words (the glossary's name)."""
    return role_label(role, lang)


def when(value) -> str:
    """A timestamp as date and time, '–' when empty."""
    if value is None or pd.isna(value):
        return "–"
    return f"{fmt_date(value, lang)} {pd.Timestamp(value):%H:%M}"


table = users.list_users(con, scope=scope)
if table.empty:
    st.info(tr("users_none"))
else:
    shown = pd.DataFrame(
        {
            tr("users_col_username"): table["username"],
            tr("users_col_display_name"): table["display_name"].fillna(""),
            tr("users_col_email"): table["email"].fillna(""),
            tr("users_col_role"): [shown_role(r) for r in table["role"]],
            tr("users_col_kam_id"): table["kam_id"].fillna("–"),
            tr("users_col_has_password"): ["✓" if v else "–" for v in table["has_password"]],
            tr("users_col_failed_attempts"): table["failed_attempts"].fillna(0).astype(int),
            tr("users_col_locked_until"): [when(v) for v in table["locked_until"]],
            tr("users_col_last_login"): [when(v) for v in table["last_login"]],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")

kams = users.select_kams(con)
kam_names = dict(kams)
kam_options = [None, *kam_names]


def kam_label(kam_id: str | None) -> str:
    """'KAM01 – Name' or '–'."""
    return tr("users_kam_none") if kam_id is None else f"{kam_id} – {kam_names[kam_id]}"


names = list(table["username"])
add_tab, role_tab, password_tab, remove_tab = st.tabs(
    [
        tr("users_add_title"),
        tr("users_edit_title"),
        tr("users_reset_title"),
        tr("users_remove_title"),
    ]
)

with add_tab, st.form("users_add", clear_on_submit=False):
    left, right = st.columns(2)
    new_name = left.text_input(tr("users_name"), key="users_add_name")
    new_display = right.text_input(tr("users_display_name"), key="users_add_display")
    new_role = left.selectbox(tr("users_role"), ROLES, format_func=shown_role, key="users_add_role")
    new_kam = right.selectbox(
        tr("users_kam"), kam_options, format_func=kam_label, key="users_add_kam"
    )
    new_email = left.text_input(tr("users_email"), key="users_add_email")
    left, right = st.columns(2)
    pw1 = left.text_input(
        tr("users_password"), type="password", help=tr("users_password_help"), key="users_add_pw1"
    )
    pw2 = right.text_input(tr("users_password2"), type="password", key="users_add_pw2")
    if st.form_submit_button(tr("users_add_submit"), type="primary"):
        if pw1 != pw2:
            st.error(tr("users_password_mismatch"))
        else:
            try:
                users.add_user(
                    con,
                    new_name,
                    new_role,
                    scope=scope,
                    kam_id=new_kam if new_role == "kam" else None,
                    email=new_email,
                    display_name=new_display.strip() or None,
                    password=pw1 or None,
                )
            except KamError as exc:
                show_error(exc)
            else:
                done(tr("users_added", name=plain(users.normalize_username(new_name))))

with role_tab:
    if names:
        who = st.selectbox(tr("users_select"), names, key="users_role_name")
        current = table.set_index("username").loc[who]
        current_kam = current["kam_id"] if current["kam_id"] in kam_names else None
        with st.form(f"users_role_{who}"):
            role = st.selectbox(
                tr("users_role"), ROLES, index=ROLES.index(current["role"]), format_func=shown_role
            )
            kam = st.selectbox(
                tr("users_kam"),
                kam_options,
                index=kam_options.index(current_kam),
                format_func=kam_label,
            )
            if st.form_submit_button(tr("users_change_submit"), type="primary"):
                try:
                    users.change_user(
                        con, who, scope=scope, role=role, kam_id=kam if role == "kam" else None
                    )
                except KamError as exc:
                    show_error(exc)
                else:
                    done(tr("users_changed", name=plain(who)))

with password_tab:
    if names:
        with st.form("users_password", clear_on_submit=True):
            who = st.selectbox(tr("users_select"), names, key="users_pw_name")
            pw1 = st.text_input(tr("users_password"), type="password", key="users_pw_1")
            pw2 = st.text_input(tr("users_password2"), type="password", key="users_pw_2")
            if st.form_submit_button(tr("users_reset_submit"), type="primary"):
                if not pw1:
                    st.error(tr("users_password_required"))
                elif pw1 != pw2:
                    st.error(tr("users_password_mismatch"))
                else:
                    try:
                        users.set_password(con, who, pw1, scope=scope)
                    except KamError as exc:
                        show_error(exc)
                    else:
                        done(tr("users_reset_done", name=plain(who)))

with remove_tab:
    if names:
        with st.form("users_remove"):
            who = st.selectbox(tr("users_select"), names, key="users_rm_name")
            sure = st.checkbox(tr("users_remove_confirm"), key="users_rm_sure")
            if st.form_submit_button(tr("users_remove_submit"), disabled=False) and sure:
                try:
                    users.remove_user(con, who, scope=scope)
                except KamError as exc:
                    show_error(exc)
                else:
                    done(tr("users_removed", name=plain(who)))
