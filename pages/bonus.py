"""Bonus-Stand: per KAM the formula with today's R, M, F, now / best / worst, what-if, statement;
surveys waiting for approval (four eyes); closing and reopening a year (the issued statement)."""

import datetime as dt

import streamlit as st

from kam_analytics import approvals, bonus_close
from kam_analytics.closed_years import select_year_close
from kam_analytics.errors import KamError
from kam_analytics.exports.bonus_statement import statement_pdf, statement_xlsx
from kam_analytics.i18n import date_input_format, fmt_date, fmt_eur, fmt_number, fmt_pct
from kam_analytics.metrics import bonus as bn
from kam_analytics.metrics.retention import explain_signals
from kam_analytics.page_data.bonus import bonus_years, load_bonus
from kam_analytics.periods import default_as_of
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
years = bonus_years(con, scope, today)
c_year, c_as_of, c_kam = st.columns([1, 1, 3])
year = c_year.selectbox(tr("year"), years, index=years.index(today.year), key="bn_year")
close = select_year_close(con, year)  # a closed year shows its issued statement
as_of = c_as_of.date_input(
    tr("as_of"),
    value=default_as_of(year, today),
    min_value=dt.date(year, 1, 1),
    max_value=dt.date(year, 12, 31),
    format=date_input_format(lang),
    key=f"bn_as_of_{year}",
    disabled=close is not None,
)
if close is not None:
    as_of = dt.date(year, 12, 31)
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
    data = load_bonus(con, scope, year=year, as_of=as_of, kam_id=kam_id)
    live, issued, pending = data.live, data.issued, data.pending
except KamError as exc:
    show_error(exc)
    st.stop()
s = issued.standing if issued is not None else live

notice = st.session_state.pop("bn_notice", None)
if notice:
    st.success(notice)
f = s.now
st.subheader(f"{plain(s.name or s.kam_id)} · {year} · {tr('as_of')} {fmt_date(s.as_of, lang)}")
if close is not None and issued is not None:
    st.info(tr("bc_closed_info", year=year, note=bonus_close.issued_note(issued, lang)))
    diff = bonus_close.difference_text(issued, lang)
    if diff:
        st.warning(diff)
    else:
        st.caption(tr("bc_no_difference"))
elif close is not None:
    st.warning(tr("bc_no_statement", year=year))
st.markdown(f"**{tr('bonus_formula')}:** `{bn.formula_text(s.plan, lang)}`")
filled_label = tr("bc_filled_issued") if issued is not None else tr("bonus_filled")
st.markdown(f"**{filled_label}:** `{bn.filled_formula(f, s.plan, lang)}`")
for note in bn.figure_notes(f, s.plan, lang):
    st.caption(note)
if s.year_complete and close is None:
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
if len(pending):
    r3.caption(tr("bc_f_pending", n=len(pending)))

# --- what-if ---------------------------------------------------------------------------
st.subheader(tr("bonus_what_if"))
if close is not None:
    st.caption(tr("bc_what_if_closed"))
options = list(counted["account_id"]) if n else []
labels = dict(zip(counted["account_id"], counted["name"], strict=True)) if n else {}
w1, w2 = st.columns(2)
lost = w1.multiselect(
    tr("bonus_mark_lost"),
    options,
    format_func=lambda a: f"{a} {labels.get(a, '')}",
    key=f"bn_lost_{kam_id}_{year}",
    placeholder=tr("bn_choose_accounts"),
    disabled=close is not None,
)
kept = w2.multiselect(
    tr("bonus_mark_kept"),
    [o for o in options if o not in lost],
    format_func=lambda a: f"{a} {labels.get(a, '')}",
    key=f"bn_kept_{kam_id}_{year}",
    placeholder=tr("bn_choose_accounts"),
    disabled=close is not None,
)
if (lost or kept) and close is None:
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
    "at_risk": tr("term_state_at_risk"),
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

# --- four eyes: survey scores a KAM entered wait for management ---------------------------
st.subheader(tr("bc_pending_title"))
st.caption(tr("bc_pending_intro"))
review_labels = {
    "feedback_id": tr("bn_col_feedback_id"),
    "account_id": tr("st_col_account"),
    "account_name": tr("st_col_name"),
    "date": tr("st_col_date"),
    "score": tr("st_col_score"),
    "comment": tr("fb_comment"),
    "entered_by": tr("bc_col_entered_by"),
}


def review_table(df):
    """Review entries as shown: dates formatted, empty comments blank."""
    return df[list(review_labels)].assign(
        date=[fmt_date(d, lang) for d in df["date"]],
        comment=[c if isinstance(c, str) else "" for c in df["comment"]],
    )


if pending.empty:
    st.caption(tr("bc_pending_none"))
elif not scope.sees_all:
    st.caption(tr("bc_pending_kam"))
    show_table(review_table(pending), labels=review_labels)
else:
    for rec in pending.to_dict(orient="records"):
        fid = rec["feedback_id"]
        own = rec["entered_by"] == scope.username
        c_text, c_ok, c_no = st.columns([6, 1, 1], vertical_alignment="center")
        c_text.text(
            f"{fid} · {rec['account_id']} {rec['account_name']} · {fmt_date(rec['date'], lang)}"
            f" · {tr('st_col_score')} {fmt_number(rec['score'], lang, 1)}"
            f" · {tr('bc_col_entered_by')}: {rec['entered_by']}"
            + (f" ({tr('bc_own_entry')})" if own else "")
        )
        for col, approve, label in ((c_ok, True, "bc_approve"), (c_no, False, "bc_reject")):
            if col.button(tr(label), key=f"bn_{label}_{fid}", disabled=own):
                try:
                    approvals.decide_survey(con, scope, fid, approve)
                    st.session_state["bn_notice"] = tr(
                        "bc_approved" if approve else "bc_rejected", id=fid
                    )
                    st.rerun()
                except KamError as exc:
                    show_error(exc)
if scope.sees_all:
    # pending entries of other KAMs or years, so none is forgotten before a year close
    every = approvals.select_reviews(con, scope)
    other = every[~every["feedback_id"].isin(pending["feedback_id"])]
    if len(other):
        counts = other.groupby([other["kam_id"].fillna("–"), other["date"].dt.year]).size()
        where = "; ".join(f"{k} · {y}: {c}" for (k, y), c in counts.items())
        st.caption(tr("bc_pending_elsewhere", where=where))
if not scope.sees_all:
    rejected = approvals.select_reviews(
        con, scope, year=year, kam_id=kam_id, statuses=("rejected",)
    )
    if len(rejected):
        st.caption(tr("bc_rejected_kam"))
        show_table(review_table(rejected), labels=review_labels)

praise = data.praise
quotes = [str(c) for c in praise["comment"]]
if quotes:
    st.subheader(tr("bonus_praise"))
    for q, acc in zip(quotes, praise["account_name"], strict=True):
        st.markdown(f"> „{plain(q)}“  \n> — {plain(acc)}")

d1, d2 = st.columns(2)
d1.download_button(
    tr("bonus_pdf"),
    data=lambda: statement_pdf(s, lang, praise=quotes, issued=issued),  # built on click
    file_name=f"bonus_{s.kam_id}_{year}.pdf",
    mime="application/pdf",
    on_click="ignore",
    icon=":material/picture_as_pdf:",
)
d2.download_button(
    tr("bonus_xlsx"),
    data=lambda: statement_xlsx(s, lang, issued=issued),
    file_name=f"bonus_{s.kam_id}_{year}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
    icon=":material/table_view:",
)

# --- year close (management and admins) -------------------------------------------------------
if scope.sees_all:
    st.subheader(tr("bc_section"))
    if close is None and dt.date(year, 12, 31) >= today:
        st.caption(tr("bc_not_over", year=year))
    elif close is None:
        st.caption(tr("bc_close_intro", year=year))
        with st.form(f"bn_close_{year}"):
            confirmed = st.checkbox(tr("bc_close_confirm", year=year), key=f"bn_close_ok_{year}")
            if st.form_submit_button(tr("bc_close_button", year=year)):
                if not confirmed:
                    st.warning(tr("bc_confirm_needed"))
                else:
                    try:
                        bonus_close.close_year(con, scope, year)
                        st.session_state["bn_notice"] = tr("bc_closed_done", year=year)
                        st.rerun()
                    except KamError as exc:
                        show_error(exc)
    else:
        with st.form(f"bn_reopen_{year}"):
            reason = st.text_input(tr("bc_reopen_reason"), key=f"bn_reopen_reason_{year}")
            if st.form_submit_button(tr("bc_reopen_button", year=year)):
                try:
                    bonus_close.reopen_year(con, scope, year, reason)
                    st.session_state["bn_notice"] = tr("bc_reopened_done", year=year)
                    st.rerun()
                except KamError as exc:
                    show_error(exc)
