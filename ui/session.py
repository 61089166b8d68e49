"""Per-session state: the database cursor, the signed-in scope and the language."""

from __future__ import annotations

import streamlit as st

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.i18n import DEFAULT_LANGUAGE, t


@st.cache_resource(show_spinner=False)
def _shared_connection(path: str):
    """One DuckDB connection per process and file; sessions get their own cursor of it."""
    from pathlib import Path

    if not Path(path).exists():
        # First start: a full demo company, so the first command shows a real dashboard.
        from kam_analytics.demo import write_demo

        write_demo(path, scale="small", seed=42)
    con = db.connect(path)
    _start_background_work(con, path)
    return con


def _start_background_work(con, path: str) -> None:
    """Inbox, command-line requests and read-only copy (kam_analytics/app_worker.py), once."""
    from streamlit import runtime

    # Only in a real server: AppTest runs pages under a stand-in runtime.
    if runtime.exists() and type(runtime.get_instance()) is runtime.Runtime:
        from kam_analytics.app_worker import start_worker

        start_worker(con, path)


def db_path() -> str:
    """The database file of this app process ($KAM_DB or data/kam.duckdb)."""
    return str(db.resolve_db_path(None))


def get_con():
    """This session's cursor (a DuckDB connection is not thread-safe; a cursor per session is)."""
    key = ("con", db_path())
    if key not in st.session_state:
        st.session_state[key] = _shared_connection(db_path()).cursor()
    return st.session_state[key]


def get_scope() -> Scope:
    """The signed-in user's scope; a page opened without sign-in goes to the sign-in page."""
    scope = st.session_state.get("scope")
    if scope is None:
        # Fail closed: a page URL opened before app.py ran must not show data to nobody.
        st.switch_page("app.py")
        st.stop()
    return scope


def get_lang() -> str:
    """The interface language chosen in the sidebar (default: settings `default_language`, else German)."""
    if "lang" in st.session_state:
        return st.session_state["lang"]
    if "_default_lang" not in st.session_state:
        from kam_analytics.i18n import select_default_language

        try:
            st.session_state["_default_lang"] = select_default_language(get_con())
        except Exception:  # noqa: BLE001 - an unreadable setting must not break the page
            st.session_state["_default_lang"] = DEFAULT_LANGUAGE
    return st.session_state["_default_lang"]


def tr(key: str, **kwargs) -> str:
    """Label in the session's language."""
    return t(key, get_lang(), **kwargs)
