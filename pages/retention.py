"""Kundenbindung: key accounts retained, lost and at risk per KAM and tier, signals, trend, cohorts."""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from kam_analytics.errors import KamError
from kam_analytics.exports.theme import apply_theme, money_axis
from kam_analytics.glossary import name_codes, state_label, tier_label
from kam_analytics.i18n import date_input_format, fmt_date, fmt_number, fmt_pct
from kam_analytics.metrics import retention as rt
from kam_analytics.metrics.backtest import describe_backtest
from kam_analytics.page_data.retention import (
    AT_RISK_SHOWN,
    backtest_years,
    load_backtest,
    load_retention,
)
from kam_analytics.periods import default_as_of, period_bounds, period_label
from kam_analytics.schema import TIERS
from kam_analytics.settings_store import get_retention_settings
from ui.auth import require_page
from ui.downloads import download_table, report_download, session_theme, show_chart
from ui.errors import show_error
from ui.session import get_con, get_lang, tr
from ui.text import plain
from ui.widgets import show_table

scope = require_page(__file__)
con, lang = get_con(), get_lang()
st.title(tr("ret_title"))
st.caption(tr("ret_caption", days=get_retention_settings(con).activity_window_days))

today = dt.date.today()
years = sorted(set(rt.select_order_years(con, scope)) | {today.year})
c_year, c_as_of, c_tier = st.columns([1, 1, 3])
year = c_year.selectbox(tr("year"), years, index=years.index(today.year), key="rt_year")
as_of = c_as_of.date_input(
    tr("as_of"),
    value=default_as_of(year, today),
    min_value=dt.date(year, 1, 1),
    max_value=dt.date(year, 12, 31),
    format=date_input_format(lang),
    key=f"rt_as_of_{year}",
)
tiers = c_tier.multiselect(
    tr("ret_tiers"),
    list(TIERS),
    default=["KEY"],
    format_func=lambda x: tier_label(x, lang),
    key="rt_tiers",
)

trend_key = "rt_trend"
try:
    data = load_retention(
        con,
        scope,
        year=year,
        as_of=as_of,
        tiers=tuple(tiers) or None,
        trend_accounts=st.session_state.get(trend_key),
    )
except KamError as exc:
    show_error(exc)
    st.stop()
detail = data.detail
if detail.empty:
    st.info(tr("no_data"))
    st.stop()

period = period_label(*period_bounds(year, as_of), lang)


def yes_no(df):
    """Flags as Ja/Nein (Yes/No) for downloads, where True/False would be English in German."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind == "b":
            out[col] = [tr("ret_yes") if v else tr("ret_no") for v in out[col]]
    return out


counts = data.counts
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric(tr("ret_m_accounts"), counts.accounts, border=True)
k2.metric(tr("ret_m_active_start"), counts.active_start, border=True)
k3.metric(state_label("retained", lang), counts.retained, border=True)
k4.metric(state_label("lost", lang), counts.lost, border=True)
k5.metric(state_label("at_risk", lang), counts.at_risk, border=True)
st.caption(f"{tr('ret_m_rate')}: {fmt_pct(counts.rate, lang)}")
report_download("retention", year=year, as_of=as_of, key="rt_report")

summary_labels = {
    "kam_id": tr("col_kam"),
    "kam_name": tr("col_name"),
    "tier": tr("tier"),
    "accounts": tr("ret_m_accounts"),
    "active_start": tr("ret_m_active_start"),
    "retained": state_label("retained", lang),
    "lost": state_label("lost", lang),
    "at_risk": state_label("at_risk", lang),
    "rate": tr("ret_m_rate"),
}
# One below the other: side by side, each table scrolled inside half the page at 1280 px.
for summary, title, stem in (
    (data.by_kam, "ret_by_kam", "je_kam"),
    (data.by_tier, "ret_by_tier", "je_kundenstufe"),
):
    with st.container():
        st.subheader(tr(title))
        summary = name_codes(summary, lang)
        show_table(summary, labels=summary_labels, pct=("rate",))
        download_table(
            summary,
            f"kundenbindung_{year}_{stem}",
            pct_cols=("rate",),
            int_cols=("accounts", "active_start", "retained", "lost", "at_risk"),
            labels=summary_labels,
            title=f"{tr('ret_title')}: {tr(title)} ({period})",
            key=f"rt_dl_{stem}",
        )

st.subheader(tr("ret_at_risk_title"))
risky = data.at_risk
if risky.empty:
    st.success(tr("ret_none_at_risk"))
else:
    if len(risky) > AT_RISK_SHOWN:
        # one bordered box per account: hundreds of them take seconds to draw
        st.caption(
            tr(
                "ret_at_risk_shown",
                n=fmt_number(AT_RISK_SHOWN, lang),
                total=fmt_number(len(risky), lang),
            )
        )
    for rec in risky.head(AT_RISK_SHOWN).to_dict(orient="records"):
        state = (
            state_label("lost", lang)
            if rec["lost"]
            else (state_label("retained", lang) if rec["retained"] else "–")
        )
        with st.container(border=True):
            st.markdown(
                f"**{plain(rec['account_id'])} {plain(rec['name'])}** · {tr('col_kam')}: "
                f"{plain(rec['kam_id'] or tr('ret_no_kam'))} {plain(rec['kam_name'])} · {state}"
            )
            for line in rt.explain_signals(rec, lang):
                st.markdown(f"- {line}")

st.subheader(tr("ret_trend_title"))
account_names = dict(zip(detail["account_id"], detail["name"], strict=True))
chosen = st.multiselect(
    tr("ret_trend_accounts"),
    list(detail["account_id"]),
    default=[a for a in data.trend_accounts if a in set(detail["account_id"])],
    format_func=lambda a: f"{a} {account_names.get(a) or ''}",
    key=trend_key,
)
if chosen:
    trend = data.trend
    fig = go.Figure()
    for acc, grp in trend.groupby("account_id"):
        fig.add_scatter(
            x=grp["month"],
            y=grp["revenue"],
            mode="lines+markers",
            name=f"{acc} {account_names.get(acc) or ''}",
        )
    fig.update_layout(
        height=520,
        xaxis_title=tr("ret_month"),
        yaxis_title=tr("ret_revenue"),
        # month ticks as numbers: plotly's own month names would be English on a German page
        xaxis={"tickformat": "%m.%Y" if lang == "de" else "%b %Y", "hoverformat": "%m.%Y"},
    )
    trend_period = (
        f"{fmt_date(trend['month'].min(), lang)} – {fmt_date(as_of, lang)}"
        if len(trend)
        else period
    )
    # themed here, not in show_chart, so the height can grow with the legend's rows (the
    # theme puts the legend of a titled chart under the plot)
    apply_theme(
        money_axis(fig, lang),
        title=tr("ret_trend_title"),
        period=trend_period,
        lang=lang,
        theme=session_theme(),
    )
    fig.update_layout(height=460 + 30 * len(chosen))
    show_chart(fig, f"umsatzverlauf_{year}_je_kunde", key="rt_trend_chart")

st.subheader(tr("ret_cohort_title"))
st.caption(tr("ret_cohort_caption"))
cohorts = data.cohorts
if cohorts.empty:
    st.caption(tr("no_data"))
else:
    pivot = cohorts.pivot(index="cohort", columns="year", values="share")
    sizes = cohorts.groupby("cohort")["accounts"].first()
    text = [[fmt_pct(v, lang, 0) if v == v else "" for v in row] for row in pivot.to_numpy()]
    heat = go.Figure(
        go.Heatmap(
            z=pivot.to_numpy(),
            x=[str(c) for c in pivot.columns],
            y=[f"{c} (n={sizes[c]})" for c in pivot.index],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            showscale=False,
        )
    )
    heat.update_layout(
        height=max(420, 260 + 45 * len(pivot)),
        xaxis_title=tr("year"),
        yaxis_title=tr("ret_cohort"),
        xaxis={"type": "category"},
        yaxis={"type": "category", "automargin": True},
    )
    show_chart(
        heat,
        f"kohorten_{year}_kundenbindung",
        title=tr("ret_cohort_title"),
        period=f"{tr('as_of')} {fmt_date(as_of, lang)}",
        key="rt_cohort_chart",
    )

with st.expander(tr("ret_details")):
    cols = {
        "account_id": tr("col_account"),
        "name": tr("col_name"),
        "tier": tr("tier"),
        "abc": tr("abc_col"),
        "kam_id": tr("col_kam"),
        "status": tr("ret_status"),
        "active_start": tr("col_active_start"),
        "active_end": tr("col_active_end"),
        "retained": state_label("retained", lang),
        "at_risk": state_label("at_risk", lang),
        "signals": tr("ret_signals"),
        "last_order": tr("col_last_order"),
        "days_since_last_order": tr("col_days_since"),
        "median_gap_days": tr("col_median_gap"),
        "revenue_t12": tr("col_rev_t12"),
        "revenue_prev12": tr("col_rev_prev"),
        "revenue_change": tr("col_rev_change"),
        "sat_latest": tr("col_sat_latest"),
        "sat_previous": tr("col_sat_previous"),
        "mandate_answered": tr("col_mandate_answered"),
    }
    show_table(
        name_codes(detail[list(cols)], lang),
        labels=cols,
        money=("revenue_t12", "revenue_prev12"),
        pct=("revenue_change",),
    )
    download_table(
        yes_no(name_codes(detail[list(cols)], lang)),
        f"kundenbindung_{year}_alle_kunden",
        money_cols=("revenue_t12", "revenue_prev12"),
        pct_cols=("revenue_change",),
        labels=cols,
        title=f"{tr('ret_title')}: {tr('ret_details')} ({period})",
        key="rt_dl_details",
    )

st.subheader(tr("bt_title"))
bt_years = backtest_years(con, scope)
if not bt_years:
    st.caption(tr("bt_no_year"))
# on demand: on 50,000 accounts one back-test takes seconds (memoised per data version after)
elif st.toggle(tr("bt_show"), key="bt_show", help=tr("bt_show_help")):
    bt_year = st.columns([1, 4])[0].selectbox(
        tr("bt_year"), bt_years, index=len(bt_years) - 1, key="bt_year"
    )
    bt = load_backtest(con, scope, year=bt_year)
    if not int(bt.report["accounts"].iloc[0]):
        st.caption(tr("bt_no_accounts", as_of=fmt_date(bt.as_of, lang)))
    else:
        caption, *sentences = describe_backtest(
            bt.report, lang, get_retention_settings(con).activity_window_days
        )
        st.caption(caption)
        for line in sentences:
            st.markdown(f"- {line}")
        bt_labels = {
            "method": tr("bt_col_method"),
            "accounts": tr("bt_col_accounts"),
            "flagged": tr("bt_col_flagged"),
            "lost": state_label("lost", lang),
            "flagged_lost": tr("bt_col_flagged_lost"),
            "precision": tr("bt_col_precision"),
            "recall": tr("bt_col_recall"),
            "auc": tr("bt_col_auc"),
        }
        shown = bt.report[list(bt_labels)].copy()
        shown["method"] = [tr(f"bt_method_{m}") for m in shown["method"]]
        show_table(shown, labels=bt_labels, pct=("precision", "recall", "auc"))
        st.caption(tr("bt_auc_help"))
