"""Sections of the import page: the inbox's state and the backups (restore for admins)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from kam_analytics import app_channel, backup
from kam_analytics.errors import KamError
from kam_analytics.i18n import fmt_datetime
from kam_analytics.inbox import RULES_FILE, inbox_dir, inbox_state
from ui.errors import show_error
from ui.session import db_path, get_con, get_lang, tr


def show_inbox_section() -> None:
    """Where the inbox is, whether the app watches it, what waits and what came out."""
    from kam_analytics.ingest.profiles import profile_dir

    lang = get_lang()
    con = get_con()
    st.subheader(tr("inbox_title"))
    st.caption(tr("inbox_intro"))
    folder = inbox_dir(db_path(), con)
    st.text(tr("inbox_folder", folder=folder))
    st.text(tr("inbox_rules", path=profile_dir() / RULES_FILE))
    beat = app_channel.read_heartbeat(db_path())
    if beat and beat.get("last_scan"):
        at = fmt_datetime(dt.datetime.fromisoformat(beat["last_scan"]), lang)
        st.success(tr("inbox_worker_on", at=at))
    else:
        st.warning(tr("inbox_worker_off"))
    entries = inbox_state(folder)
    if not entries:
        st.caption(tr("inbox_empty"))
        return
    frame = pd.DataFrame(
        {
            tr("inbox_col_name"): [e.name for e in entries],
            tr("inbox_col_state"): [tr(f"inbox_state_{e.state}") for e in entries],
            tr("inbox_col_at"): [fmt_datetime(e.at, lang) for e in entries],
            tr("inbox_col_size"): [e.size for e in entries],
        }
    )
    st.dataframe(frame, hide_index=True)


def show_backup_section(username: str) -> None:
    """The automatic backups and, for the admin, restoring one of them."""
    con = get_con()
    st.subheader(tr("backup_title"))
    st.caption(tr("backup_intro", keep=backup.backup_keep(con)))
    if flash := st.session_state.pop("backup_flash", None):
        st.success(flash)
    saved = backup.list_backups(db_path())
    if not saved:
        st.caption(tr("backup_none"))
        return
    names = {p.name: p for p in saved}
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox(tr("backup_pick"), list(names), key="backup_pick")
    sure = c1.checkbox(tr("backup_confirm"), key="backup_confirm")
    if c2.button(tr("backup_restore"), disabled=not sure, key="backup_restore"):
        try:
            before = backup.auto_backup(con, db_path(), "before-restore")
            res = backup.restore_into(con, names[pick], username)
        except KamError as exc:
            show_error(exc, prefix=tr("backup_failed_prefix"))
            return
        st.cache_data.clear()
        st.session_state["backup_flash"] = tr(
            "backup_restored", n=sum(res["rows"].values()), saved=before.name if before else "–"
        )
        st.rerun()
