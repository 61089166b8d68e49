"""Was hat sich geändert: the key figures before and after an import batch, or since a date."""

import datetime as dt

import streamlit as st

from kam_analytics.i18n import date_input_format, fmt_date, fmt_datetime
from kam_analytics.metrics.changes import SECTIONS, changes_markdown, describe_row, section_title
from kam_analytics.page_data.changes import load_changes
from ui.auth import require_page
from ui.session import get_con, get_lang, tr
from ui.text import plain

scope = require_page(__file__)
con, lang = get_con(), get_lang()
st.title(tr("chg_title"))
st.caption(tr("chg_caption"))

data = load_changes(con, scope, lang=lang)
if data.batches.empty:
    st.info(tr("chg_no_snapshots"))
    st.stop()

latest = "latest"
options = [latest, *[str(i) for i in reversed(list(data.batches["import_id"]))], "date"]
taken = dict(zip(data.batches["import_id"].astype(str), data.batches["taken_at"], strict=True))


def _label(option: str) -> str:
    if option == latest:
        return tr("chg_since_latest")
    if option == "date":
        return tr("chg_since_date")
    return tr("chg_since_import", id=option, at=fmt_datetime(taken[option], lang))


c1, c2 = st.columns([2, 1])
choice = c1.selectbox(tr("chg_since"), options, format_func=_label, key="chg_since")
since, what = None, tr("chg_what_latest")
if choice == "date":
    day = c2.date_input(
        tr("chg_date"),
        value=dt.date.today().replace(day=1),
        format=date_input_format(lang),
        key="chg_date",
    )
    since, what = day, tr("chg_what_since_date", date=fmt_date(day, lang))
elif choice != latest:
    since, what = choice, tr("chg_what_since_import", id=choice)
if since is not None:
    data = load_changes(con, scope, since=since, lang=lang)

rows = data.rows
if rows.empty:
    st.success(tr("chg_none"))
for section in SECTIONS:
    part = rows[rows["section"] == section] if not rows.empty else rows
    if part.empty:
        continue
    st.subheader(section_title(section, lang))
    for rec in part.to_dict(orient="records"):
        st.markdown(f"- {plain(describe_row(rec, lang, data.names))}")

st.download_button(
    tr("chg_md"),
    changes_markdown(rows, lang, tr("chg_md_title", what=what), data.names),
    f"{tr('chg_title').lower().replace(' ', '_')}.md",
    "text/markdown",
    key="chg_md_dl",
    icon=":material/download:",
)
