"""Kunde: one account on one page — tier, entitlement, services and value, revenue and margin,
retention signals, mandate, feedback, KAM."""

import datetime as dt

import streamlit as st

from kam_analytics.approvals import needs_approval
from kam_analytics.errors import KamError
from kam_analytics.glossary import tier_label
from kam_analytics.i18n import date_input_format, fmt_date, fmt_eur, fmt_number, fmt_pct, t
from kam_analytics.metrics.feedback import add_feedback
from kam_analytics.metrics.mandates import QUESTIONS
from kam_analytics.metrics.retention import explain_signals
from kam_analytics.page_data.account import account_options, account_years, load_account
from kam_analytics.schema import ACCOUNT_STATUSES, FEEDBACK_KINDS
from ui.auth import require_page
from ui.downloads import deck_download, download_table
from ui.errors import show_error
from ui.session import get_con, get_lang, tr
from ui.text import plain
from ui.widgets import account_picker, score_input, show_table

scope = require_page(__file__)
con, lang = get_con(), get_lang()
st.title(tr("acc_title"))

options = account_options(con, scope)
if options.empty:
    st.info(tr("acc_none"))
    st.stop()
today = dt.date.today()
years = account_years(con, scope, today)
c_acc, c_year = st.columns([4, 1])
with c_acc:
    # key accounts first; a search reaches the others (50,000 options per run at 10x otherwise)
    account_id = account_picker(
        options.rename(columns={"name": "account_name"}),
        key="acc_id",
        label=tr("acc_select"),
        first=True,
    )
year = c_year.selectbox(tr("year"), years, index=years.index(today.year), key="acc_year")
if account_id is None:
    st.info(tr("pick_none"))
    st.stop()

try:
    s = load_account(con, scope, account_id=account_id, year=year).summary
except KamError as exc:
    show_error(exc)
    st.stop()
info = s["info"]

st.header(f"{plain(info['name'])} ({plain(info['account_id'])})")
# deck button and slide preview side by side, each as wide as its label
with st.container(horizontal=True, vertical_alignment="center"):
    # the value deck for the customer meeting; the account list is already the user's scope
    deck_download(account_id, year, key=f"acc_deck_{account_id}_{year}")
i1, i2, i3, i4 = st.columns(4)
i1.metric(
    tr("acc_tier"),
    tier_label(info["tier"], lang) if info["tier"] else "–",
    # the ABC suggestion beside the assigned tier, never over it
    f"ABC: {s['abc']}" if s["abc"] else None,
    delta_color="off",
    delta_arrow="off",
    help=tr("abc_caption", year=s["year"], abc=s["abc"] or "–"),
    border=True,
)
i2.metric(tr("acc_kam"), plain(info["kam_name"] or info["kam_id"] or "–"), border=True)
i3.metric(
    tr("acc_status"),
    (
        tr(f"term_crm_{info['status']}")
        if info["status"] in ACCOUNT_STATUSES
        else plain(info["status"] or "–")
    ),
    border=True,
)
i4.metric(tr("acc_since"), fmt_date(info["customer_since"], lang), border=True)
where = ", ".join(plain(x) for x in (info["city"], info["country"], info["industry"]) if x)
group = (
    f" · {tr('acc_parent')}: {plain(info['parent_name'] or info['parent_id'])}"
    if info["parent_id"]
    else ""
)
st.caption(
    f"{tr('acc_location')}: {where or '–'}{group} · {tr('as_of')} {fmt_date(s['as_of'], lang)}"
)

name_col = "name_de" if lang == "de" else "name_en"
left, right = st.columns(2)
with left:
    st.subheader(tr("acc_services", year=year))
    services = s["services"]
    if services.empty:
        st.caption(tr("acc_no_services"))
    else:
        st.metric(
            tr("acc_value_total"),
            fmt_eur(services["list_value"].sum(), lang),
            delta=f"{tr('acc_unbilled')}: {fmt_eur(services['unbilled_value'].sum(), lang)}",
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
        cols = {
            name_col: tr("service"),
            "events": tr("acc_count"),
            "cost": tr("acc_cost"),
            "list_value": tr("acc_list_value"),
            "billed_amount": tr("acc_billed"),
            "unbilled_value": tr("acc_unbilled"),
        }
        show_table(
            services[list(cols)],
            labels=cols,
            money=("cost", "list_value", "billed_amount", "unbilled_value"),
        )
        download_table(
            services[list(cols)],
            f"leistungen_{year}_{account_id}",
            money_cols=("cost", "list_value", "billed_amount", "unbilled_value"),
            int_cols=("events",),
            labels=cols,
            title=f"{tr('acc_services', year=year)}: {info['name']} ({account_id})",
            key="acc_dl_services",
        )
with right:
    ent = s["entitlement"]
    st.subheader(tr("acc_entitlement", year=int(ent["year"].iloc[0]) if len(ent) else year))
    if ent.empty:
        st.caption(tr("acc_no_matrix"))
    else:
        ent = ent.assign(policy=[tr(f"term_policy_{p}") for p in ent["policy"]])
        show_table(
            ent[[name_col, "policy"]], labels={name_col: tr("service"), "policy": tr("acc_policy")}
        )

st.subheader(tr("acc_revenue"))
rev = s["revenue"]
if rev.empty:
    st.caption(tr("no_data"))
else:
    rev = rev.assign(year=rev["year"].astype(str))
    rev_labels = {
        "year": tr("year"),
        "orders": tr("acc_orders"),
        "net_revenue": tr("acc_net_revenue"),
        "cost_of_goods": tr("acc_cogs"),
        "margin": tr("acc_margin"),
        "margin_pct": tr("acc_margin_pct"),
    }
    rev_money = ("net_revenue", "cost_of_goods", "margin")
    show_table(rev, labels=rev_labels, money=rev_money, pct=("margin_pct",))
    download_table(
        rev,
        f"umsatz_{account_id}_je_jahr",
        money_cols=rev_money,
        pct_cols=("margin_pct",),
        int_cols=("orders",),
        labels=rev_labels,
        title=f"{tr('acc_revenue')}: {info['name']} ({account_id})",
        key="acc_dl_revenue",
    )

st.subheader(tr("acc_retention"))
r = s["retention"]
if r:
    flags = " · ".join(
        f"{tr(k)}: {tr('ret_yes') if r[c] else tr('ret_no')}"
        for k, c in (
            ("col_active_start", "active_start"),
            ("col_active_end", "active_end"),
            ("term_state_retained", "retained"),
        )
    )
    st.markdown(flags)
    st.caption(
        f"{tr('col_last_order')}: {fmt_date(r.get('last_order'), lang)} · "
        f"{tr('col_rev_t12')}: {fmt_eur(r.get('revenue_t12'), lang)} · "
        f"{tr('col_rev_prev')}: {fmt_eur(r.get('revenue_prev12'), lang)} · "
        f"{tr('col_rev_change')}: {fmt_pct(r.get('revenue_change'), lang)}"
    )
    lines = explain_signals(r, lang)
    if lines:
        for line in lines:
            st.warning(line)
    else:
        st.success(tr("acc_not_at_risk"))

m_left, m_right = st.columns([3, 2])
with m_left:
    st.subheader(tr("acc_mandate", year=year))
    m = s["mandate"]
    if not any(m[q] for q in QUESTIONS) and all(m[f"{q}_rating"] is None for q in QUESTIONS):
        st.caption(tr("acc_no_mandate"))
    else:
        for q in QUESTIONS:
            rating = m[f"{q}_rating"]
            shown = f" · {fmt_number(rating, lang)} %" if rating is not None else ""
            st.markdown(f"**{tr(f'q_{q}')}**{shown}  \n{plain(m[q] or '–')}")
        st.caption(
            f"{tr('man_answered')}: {s['mandate_answered']}/4 · "
            f"{tr('st_col_mandate_score')}: {fmt_pct(s['mandate_score'], lang)}"
        )
with m_right:
    st.subheader(tr("acc_feedback"))
    fb = s["feedback"]
    if fb.empty:
        st.caption(tr("fb_none"))
    else:
        show_table(
            fb[["date", "kind", "score", "comment", "review_status"]].assign(
                date=[fmt_date(d, lang) for d in fb["date"]],
                kind=[tr(f"fb_kind_{k}") for k in fb["kind"]],
                comment=[c if isinstance(c, str) else "" for c in fb["comment"]],
                # a KAM's own survey counts only once approved (four eyes)
                review_status=[
                    tr(f"fb_status_{r}") if isinstance(r, str) else "" for r in fb["review_status"]
                ],
            ),
            labels={
                "date": tr("fb_date"),
                "kind": tr("fb_kind"),
                "score": tr("st_col_score"),
                "comment": tr("fb_comment"),
                "review_status": tr("fb_status"),
            },
            ints=("score",),
        )
    saved = st.session_state.pop("acc_fb_saved", None)
    if saved:
        st.success(saved)
    with st.expander(tr("fb_add")), st.form(f"acc_feedback_{account_id}"):
        kind = st.selectbox(
            tr("fb_kind"), FEEDBACK_KINDS, format_func=lambda k: t(f"fb_kind_{k}", lang)
        )
        day = st.date_input(tr("fb_date"), value=today, format=date_input_format(lang))
        score = score_input(tr("fb_score"))
        comment = st.text_area(tr("fb_comment"), height=80)
        if st.form_submit_button(tr("fb_save")):
            try:
                add_feedback(
                    con,
                    scope,
                    account_id=account_id,
                    date=day,
                    kind=kind,
                    score=score,
                    comment=comment,
                )
                st.session_state["acc_fb_saved"] = tr(
                    "fb_saved_pending" if needs_approval(scope, kind) else "fb_saved"
                )
                st.rerun()
            except KamError as exc:
                show_error(exc)
