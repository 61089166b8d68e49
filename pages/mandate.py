"""KAM-Auftrag: the four mandate questions per key account and year, ratings, completeness,
and entering customer feedback."""

import datetime as dt

import streamlit as st

from kam_analytics.errors import KamError
from kam_analytics.i18n import date_input_format, t
from kam_analytics.metrics import mandates as md
from kam_analytics.metrics.feedback import add_feedback
from kam_analytics.page_data.mandate import load_mandate, mandate_years
from kam_analytics.schema import FEEDBACK_KINDS
from ui.auth import require_page
from ui.downloads import download_table
from ui.errors import show_error
from ui.session import get_con, get_lang, tr
from ui.widgets import account_picker, score_input, show_table

scope = require_page(__file__)
con, lang = get_con(), get_lang()
st.title(tr("man_title"))
st.caption(tr("man_caption"))

today = dt.date.today()
years = mandate_years(con, scope, today)
year = st.columns([1, 4])[0].selectbox(
    tr("year"), years, index=years.index(today.year), key="md_year"
)

data = load_mandate(con, scope, year=year)
overview = data.overview
if overview.empty:
    st.info(tr("man_no_accounts"))
    st.stop()

st.subheader(tr("man_overview"))
labels = {
    "account_id": tr("col_account"),
    "name": tr("col_name"),
    "kam_id": tr("col_kam"),
    "answered": tr("man_answered"),
    "completeness": tr("man_completeness"),
    "rated": tr("man_rated"),
    "score_so_far": tr("man_score_so_far"),
    "score_year_end": tr("man_score_year_end"),
}
show_table(
    overview[list(labels)], labels=labels, pct=("completeness", "score_so_far", "score_year_end")
)
download_table(
    overview[list(labels)],
    f"kam_auftrag_{year}_uebersicht",
    pct_cols=("completeness", "score_so_far", "score_year_end"),
    int_cols=("answered", "rated"),
    labels=labels,
    title=f"{tr('man_title')}: {tr('man_overview')} ({year})",
    key="md_dl_overview",
)

st.subheader(tr("man_edit"))
owners = dict(zip(overview["account_id"], overview["kam_id"], strict=True))
# the overview's order; a search reaches every account without sending all as options
account_id = account_picker(
    overview.rename(columns={"name": "account_name"}),
    key="md_account",
    label=tr("col_account"),
    first=True,
)
if account_id is None:
    st.info(tr("pick_none"))
    st.stop()
mandate = (
    data.mandate if account_id == data.account_id else md.get_mandate(con, account_id, year, scope)
)
may_answer = md.can_answer(scope, owners.get(account_id))
may_rate = md.can_rate(scope)

# st.rerun() discards what this run drew: the confirmation is shown by the next run.
if saved_message := st.session_state.pop("md_saved_flash", None):
    st.success(saved_message)

left, right = st.columns([3, 2])
with left, st.form(f"md_answers_{account_id}_{year}"):
    st.markdown(f"**{tr('man_answers')}**")
    answers = {
        q: st.text_area(
            tr(f"q_{q}"),
            value=mandate[q] or "",
            help=tr(f"q_{q}_help"),
            placeholder=tr(f"q_{q}_help"),
            disabled=not may_answer,
            height=80,
        )
        for q in md.QUESTIONS
    }
    if not may_answer:
        st.caption(tr("man_readonly_answers"))
    if st.form_submit_button(tr("man_save_answers"), disabled=not may_answer):
        try:
            md.save_mandate_answers(con, scope, account_id, year, answers)
            st.session_state["md_saved_flash"] = tr("man_saved")
            st.rerun()
        except KamError as exc:
            show_error(exc)

with right, st.form(f"md_ratings_{account_id}_{year}"):
    st.markdown(f"**{tr('man_ratings')}**")
    ratings = {}
    for q in md.QUESTIONS:
        key = f"{q}_rating"
        current = mandate[key]
        ratings[key] = st.number_input(
            tr(f"q_{q}") + " (%)",
            min_value=0,
            max_value=100,
            step=5,
            value=None if current is None else int(round(current)),
            placeholder=tr("man_rating_unset"),
            disabled=not may_rate,
        )
    if not may_rate:
        st.caption(tr("man_readonly_ratings"))
    if st.form_submit_button(tr("man_save_ratings"), disabled=not may_rate):
        try:
            md.save_mandate_ratings(con, scope, account_id, year, ratings)
            st.session_state["md_saved_flash"] = tr("man_saved")
            st.rerun()
        except KamError as exc:
            show_error(exc)

with st.expander(tr("fb_add")), st.form(f"md_feedback_{account_id}"):
    kind = st.selectbox(
        tr("fb_kind"), FEEDBACK_KINDS, format_func=lambda k: t(f"fb_kind_{k}", lang)
    )
    c1, c2 = st.columns(2)
    day = c1.date_input(tr("fb_date"), value=today, format=date_input_format(lang))
    score = score_input(tr("fb_score"), c2)
    comment = st.text_area(tr("fb_comment"), height=80)
    if st.form_submit_button(tr("fb_save")):
        try:
            add_feedback(
                con, scope, account_id=account_id, date=day, kind=kind, score=score, comment=comment
            )
            st.success(tr("fb_saved"))
        except KamError as exc:
            show_error(exc)
