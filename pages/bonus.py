"""Bonus-Stand: per KAM the formula with today's R, M, F, now / best / worst, what-if, statement."""

import datetime as dt

import streamlit as st

from kam_analytics.errors import KamError
from kam_analytics.exports.bonus_statement import statement_pdf, statement_xlsx
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_number, fmt_pct
from kam_analytics.metrics import bonus as bn
from kam_analytics.metrics.retention import explain_signals, select_order_years
from ui.auth import require_page
from ui.downloads import download_table, report_download
from ui.errors import show_error
from ui.session import get_con, get_lang, tr
from ui.text import plain
from ui.widgets import show_table

scope = require_page(__file__)
con, lang = get_con(), get_lang()
st.title(tr("bonus_title"))
st.caption(tr("bonus_caption"))

today = dt.date.today()
years = sorted(set(select_order_years(con, scope)) | {today.year})
c_year, c_as_of, c_kam = st.columns([1, 1, 3])
year = c_year.selectbox(tr("year"), years, index=years.index(today.year), key="bn_year")
as_of = c_as_of.date_input(
    tr("as_of"),
    value=min(dt.date(year, 12, 31), max(today, dt.date(year, 1, 1))),
    min_value=dt.date(year, 1, 1),
    max_value=dt.date(year, 12, 31),
    format="DD.MM.YYYY" if lang == "de" else "YYYY-MM-DD",
    key=f"bn_as_of_{year}",
)
kams = bn.select_kams(con, scope)  # sorted by kam_id: nothing here ranks KAMs
if kams.empty:
    st.info(tr("bonus_no_kams"))
    st.stop()
names = dict(zip(kams["kam_id"], kams["name"], strict=True))
kam_id = c_kam.selectbox(
    tr("bonus_kam"),
    list(kams["kam_id"]),
    format_func=lambda k: f"{k} – {names.get(k) or ''}",
    key="bn_kam",
)

try:
    s = bn.get_standing(con, kam_id=kam_id, year=year, as_of=as_of, scope=scope)
except KamError as exc:
    show_error(exc)
    st.stop()

f = s.now
st.subheader(f"{plain(s.name or s.kam_id)} · {year} · {tr('as_of')} {fmt_date(s.as_of, lang)}")
st.markdown(f"**{tr('bonus_formula')}:** `{bn.formula_text(s.plan, lang)}`")
st.markdown(f"**{tr('bonus_filled')}:** `{bn.filled_formula(f, s.plan, lang)}`")
for note in bn.figure_notes(f, s.plan, lang):
    st.caption(note)
if s.year_complete:
    st.info(tr("bonus_final"))

m1, m2, m3 = st.columns(3)
m1.metric(tr("bonus_now"), fmt_eur(f.bonus, lang), border=True)
m2.metric(tr("bonus_best"), fmt_eur(s.best.bonus, lang), help=tr("bonus_best_help"), border=True)
m3.metric(tr("bonus_worst"), fmt_eur(s.worst.bonus, lang), help=tr("bonus_worst_help"), border=True)
report_download("bonus", year=year, as_of=as_of, key="bn_report")

counted = s.counted
n = len(counted)
undefined = tr("bonus_undefined")
r1, r2, r3 = st.columns(3)
r1.metric("R", fmt_pct(f.R, lang) if f.R is not None else undefined, border=True)
r1.caption(
    tr(
        "bonus_how_R",
        kept=int(counted["active_end"].sum()) if n else 0,
        n=n,
        r=fmt_number(f.R, lang, 4) if f.R is not None else undefined,
    )
)
r2.metric("M", fmt_pct(f.M, lang) if f.M is not None else undefined, border=True)
r2.caption(
    tr(
        "bonus_how_M",
        n=int(counted["mandate_score"].notna().sum()) if n else 0,
        m=fmt_number(f.M, lang, 4) if f.M is not None else undefined,
    )
)
r3.metric("F", fmt_pct(f.F, lang) if f.F is not None else undefined, border=True)
r3.caption(
    tr(
        "bonus_how_F",
        n=len(s.surveys),
        f=fmt_number(f.F, lang, 4) if f.F is not None else undefined,
    )
)

# --- what-if ---------------------------------------------------------------------------
st.subheader(tr("bonus_what_if"))
options = list(counted["account_id"]) if n else []
labels = dict(zip(counted["account_id"], counted["name"], strict=True)) if n else {}
w1, w2 = st.columns(2)
lost = w1.multiselect(
    tr("bonus_mark_lost"),
    options,
    format_func=lambda a: f"{a} {labels.get(a, '')}",
    key=f"bn_lost_{kam_id}_{year}",
    placeholder=tr("bn_choose_accounts"),
)
kept = w2.multiselect(
    tr("bonus_mark_kept"),
    [o for o in options if o not in lost],
    format_func=lambda a: f"{a} {labels.get(a, '')}",
    key=f"bn_kept_{kam_id}_{year}",
    placeholder=tr("bn_choose_accounts"),
)
if lost or kept:
    wf = bn.get_standing(
        con, kam_id=kam_id, year=year, as_of=as_of, scope=scope, lost=lost, kept=kept
    ).now
    st.metric(
        tr("bonus_what_if_result"),
        fmt_eur(wf.bonus, lang),
        delta=fmt_eur(wf.bonus - f.bonus, lang),
        border=True,
    )
    st.markdown(f"`{bn.filled_formula(wf, s.plan, lang)}`")
    for note in bn.figure_notes(wf, s.plan, lang):
        st.caption(note)

# --- statement -------------------------------------------------------------------------
st.subheader(tr("bonus_statement"))
cols = {
    "account_id": tr("st_col_account"),
    "name": tr("st_col_name"),
    "active_start": tr("st_col_active_start"),
    "active_end": tr("st_col_active_end"),
    "at_risk": tr("st_col_at_risk"),
    "why": tr("col_why"),
    "contact_rating": tr("q_contact"),
    "objectives_rating": tr("q_objectives"),
    "success_measures_rating": tr("q_success_measures"),
    "support_rating": tr("q_support"),
    "mandate_score": tr("st_col_mandate_score"),
    "surveys": tr("st_col_surveys"),
    "survey_mean": tr("st_col_survey_mean"),
}
st.markdown(f"**{tr('bonus_accounts_counted')}**")
if n:
    table = counted.copy()
    table["why"] = [" ".join(explain_signals(r, lang)) for r in table.to_dict(orient="records")]
    ratings = ("contact_rating", "objectives_rating", "success_measures_rating", "support_rating")
    show_table(
        table[list(cols)],
        labels=cols,
        pct=("mandate_score",),
        ints=(*ratings, "surveys"),
    )
    flags = ("active_start", "active_end", "at_risk")
    download_table(
        table[list(cols)].assign(
            **{c: [tr("ret_yes") if v else tr("ret_no") for v in table[c]] for c in flags}
        ),
        f"bonus_{s.kam_id}_{year}_kunden",
        pct_cols=("mandate_score",),
        int_cols=("surveys",),
        labels=cols,
        title=f"{tr('bonus_accounts_counted')}: {s.name or s.kam_id} ({year})",
        key="bn_dl_counted",
    )
else:
    st.caption(tr("no_data"))
others = s.accounts[~s.accounts["counted"]] if len(s.accounts) else s.accounts
if len(others):
    st.markdown(f"**{tr('bonus_accounts_not_counted')}**")
    show_table(others[["account_id", "name", "active_end"]], labels=cols)
st.markdown(f"**{tr('bonus_surveys')}**")
if len(s.surveys):
    show_table(
        s.surveys[["feedback_id", "account_id", "date", "score", "comment"]].assign(
            date=[fmt_date(d, lang) for d in s.surveys["date"]],
            comment=[c if isinstance(c, str) else "" for c in s.surveys["comment"]],
        ),
        labels={
            "feedback_id": tr("bn_col_feedback_id"),
            "account_id": tr("st_col_account"),
            "date": tr("st_col_date"),
            "score": tr("st_col_score"),
            "comment": tr("fb_comment"),
        },
    )
else:
    st.caption(tr("st_no_surveys"))

praise = bn.standing_praise(con, s, scope)
quotes = [str(c) for c in praise["comment"]]
if quotes:
    st.subheader(tr("bonus_praise"))
    for q, acc in zip(quotes, praise["account_name"], strict=True):
        st.markdown(f"> „{plain(q)}“  \n> — {plain(acc)}")

d1, d2 = st.columns(2)
d1.download_button(
    tr("bonus_pdf"),
    data=lambda: statement_pdf(s, lang, praise=quotes),  # built on click
    file_name=f"bonus_{s.kam_id}_{year}.pdf",
    mime="application/pdf",
    on_click="ignore",
    icon=":material/picture_as_pdf:",
)
d2.download_button(
    tr("bonus_xlsx"),
    data=lambda: statement_xlsx(s, lang),
    file_name=f"bonus_{s.kam_id}_{year}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
    icon=":material/table_view:",
)
