"""Per-session state: the database cursor, the signed-in scope and the language."""

from __future__ import annotations

import threading

import streamlit as st

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.errors import DatabaseError, localise_fault
from kam_analytics.i18n import DEFAULT_LANGUAGE, t


@st.cache_resource(show_spinner=False)
def _shared_connection(path: str) -> db.SharedConnection:
    """One DuckDB connection per process and file; script runs get their own cursor of it.

    A failure (locked, damaged, newer file) is not cached: the next run tries again.
    """
    from pathlib import Path

    if not Path(path).exists():
        # First start: a full demo company, so the first command shows a real dashboard.
        from kam_analytics.demo import write_demo

        write_demo(path, scale="small", seed=42)
    shared = db.SharedConnection(path)
    _start_background_work(shared, path)
    return shared


def show_database_fault(exc: DatabaseError, stop: bool = True) -> None:
    """Say what is wrong with the database and what to do; as a page that stops the run, or
    (stop=False) in place, e.g. under the import button after a disk-full error."""
    # Not tr(): the language default is read from the database this page reports as broken.
    lang = st.session_state.get("lang", DEFAULT_LANGUAGE)
    message, hint = localise_fault(exc, lang)
    if stop:
        st.title(t("dbfault_title", lang))
    st.error(message)
    st.info(hint)
    if stop:
        st.button(t("dbfault_retry", lang), key="_dbfault_retry")
        st.stop()


def report_database_fault(exc: BaseException) -> bool:
    """Show a disk-full / invalidated-database error in place; False if `exc` is not one."""
    fault = db.translate_error(exc)
    if fault is None:
        return False
    show_database_fault(fault, stop=False)
    return True


def _open_shared(path: str) -> db.SharedConnection:
    try:
        return _shared_connection(path)
    except DatabaseError as exc:
        show_database_fault(exc)
        raise  # not reached: show_database_fault stops the run


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
    """This script run's cursor of the shared connection, reopened if DuckDB invalidated it.

    One cursor per thread, not per session: a rerun can start while the previous run of the
    same session is still inside a query, and one cursor used by both raises "connection is
    busy with another call".
    """
    path = db_path()
    shared = _open_shared(path)
    cursors = st.session_state.setdefault(("con", path), {})
    me = threading.get_ident()
    entry = cursors.get(me)
    if entry is None or entry[0] != shared.generation:
        alive = {th.ident for th in threading.enumerate()}
        for ident in [i for i in cursors if i not in alive]:
            del cursors[ident]  # runs that ended: their cursor goes with them
        entry = cursors[me] = (shared.generation, shared.cursor(), shared.cursor())
    # The probe is a cursor of its own: a query on the working cursor would drop a result
    # the page has not fetched yet. An invalidation hits every cursor of the connection.
    if not shared.healthy(entry[2]):
        try:
            shared.reopen(entry[0])
        except DatabaseError as exc:
            show_database_fault(exc)
        entry = cursors[me] = (shared.generation, shared.cursor(), shared.cursor())
    return entry[1]


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
        from kam_analytics.settings_store import get_default_language

        try:
            st.session_state["_default_lang"] = get_default_language(get_con())
        except Exception:  # noqa: BLE001 - an unreadable setting must not break the page
            st.session_state["_default_lang"] = DEFAULT_LANGUAGE
    return st.session_state["_default_lang"]


def tr(key: str, **kwargs) -> str:
    """Label in the session's language."""
    return t(key, get_lang(), **kwargs)
