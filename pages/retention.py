"""Kundenbindung: key accounts retained, lost and at risk per KAM and tier, signals, trend, cohorts."""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from kam_analytics.errors import KamError
from kam_analytics.exports.deck import period_label, resolve_period
from kam_analytics.exports.theme import apply_theme, money_axis
from kam_analytics.i18n import fmt_date, fmt_pct, tier_label
from kam_analytics.metrics import retention as rt
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
settings = get_retention_settings(con)
st.title(tr("ret_title"))
st.caption(tr("ret_caption", days=settings.activity_window_days))

today = dt.date.today()
years = sorted(set(rt.select_order_years(con, scope)) | {today.year})
c_year, c_as_of, c_tier = st.columns([1, 1, 3])
year = c_year.selectbox(tr("year"), years, index=years.index(today.year), key="rt_year")
as_of = c_as_of.date_input(
    tr("as_of"),
    value=min(dt.date(year, 12, 31), max(today, dt.date(year, 1, 1))),
    min_value=dt.date(year, 1, 1),
    max_value=dt.date(year, 12, 31),
    format="DD.MM.YYYY" if lang == "de" else "YYYY-MM-DD",
    key=f"rt_as_of_{year}",
)
tiers = c_tier.multiselect(
    tr("ret_tiers"),
    list(TIERS),
    default=["KEY"],
    format_func=lambda x: tier_label(x, lang),
    key="rt_tiers",
)

try:
    detail = rt.compute_retention(
        con, year=year, as_of=as_of, scope=scope, tiers=tuple(tiers) or None, settings=settings
    )
except KamError as exc:
    show_error(exc)
    st.stop()
if detail.empty:
    st.info(tr("no_data"))
    st.stop()

period = period_label(*resolve_period(year, as_of), lang)


def yes_no(df):
    """Flags as Ja/Nein (Yes/No) for downloads, where True/False would be English in German."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind == "b":
            out[col] = [tr("ret_yes") if v else tr("ret_no") for v in out[col]]
    return out


started = int(detail["active_start"].sum())
retained = int(detail["retained"].sum())
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric(tr("ret_m_accounts"), len(detail), border=True)
k2.metric(tr("ret_m_active_start"), started, border=True)
k3.metric(tr("ret_m_retained"), retained, border=True)
k4.metric(tr("ret_m_lost"), int(detail["lost"].sum()), border=True)
k5.metric(tr("ret_m_at_risk"), int(detail["at_risk"].sum()), border=True)
st.caption(f"{tr('ret_m_rate')}: {fmt_pct(retained / started if started else None, lang)}")
report_download("retention", year=year, as_of=as_of, key="rt_report")

summary_labels = {
    "kam_id": tr("col_kam"),
    "kam_name": tr("col_name"),
    "tier": tr("tier"),
    "accounts": tr("ret_m_accounts"),
    "active_start": tr("ret_m_active_start"),
    "retained": tr("ret_m_retained"),
    "lost": tr("ret_m_lost"),
    "at_risk": tr("ret_m_at_risk"),
    "rate": tr("ret_m_rate"),
}
left, right = st.columns([3, 2])
for column, by, title, stem in (
    (left, ["kam_id", "kam_name"], "ret_by_kam", "je_kam"),
    (right, ["tier"], "ret_by_tier", "je_kundenstufe"),
):
    with column:
        st.subheader(tr(title))
        summary = rt.summarize_retention(detail, by)
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
risky = detail[detail["at_risk"]]
if risky.empty:
    st.success(tr("ret_none_at_risk"))
else:
    for rec in risky.to_dict(orient="records"):
        state = (
            tr("ret_m_lost") if rec["lost"] else (tr("ret_m_retained") if rec["retained"] else "–")
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
default = list(risky["account_id"][:4]) or list(detail["account_id"][:4])
chosen = st.multiselect(
    tr("ret_trend_accounts"),
    list(detail["account_id"]),
    default=default,
    format_func=lambda a: f"{a} {account_names.get(a) or ''}",
    key="rt_trend",
)
if chosen:
    trend = rt.revenue_trend(con, account_ids=chosen, until=as_of, scope=scope)
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
        legend={"orientation": "h"},
    )
    trend_period = (
        f"{fmt_date(trend['month'].min(), lang)} – {fmt_date(as_of, lang)}"
        if len(trend)
        else period
    )
    # themed here, not in show_chart, so the legend of long account names can go under the
    # plot instead of over the title
    apply_theme(
        money_axis(fig, lang),
        title=tr("ret_trend_title"),
        period=trend_period,
        lang=lang,
        theme=session_theme(),
    )
    fig.update_layout(
        height=460 + 30 * len(chosen),
        legend={"y": -0.3, "yanchor": "top", "x": 0, "xanchor": "left"},
        margin={"b": 110 + 30 * len(chosen)},
    )
    show_chart(fig, f"umsatzverlauf_{year}_je_kunde", key="rt_trend_chart")

st.subheader(tr("ret_cohort_title"))
st.caption(tr("ret_cohort_caption"))
cohorts = rt.cohort_table(
    con, as_of=as_of, scope=scope, tiers=tuple(tiers) or None, settings=settings
)
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
        "kam_id": tr("col_kam"),
        "status": tr("ret_status"),
        "active_start": tr("col_active_start"),
        "active_end": tr("col_active_end"),
        "retained": tr("ret_m_retained"),
        "at_risk": tr("ret_m_at_risk"),
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
        detail[list(cols)],
        labels=cols,
        money=("revenue_t12", "revenue_prev12"),
        pct=("revenue_change",),
    )
    download_table(
        yes_no(detail[list(cols)]),
        f"kundenbindung_{year}_alle_kunden",
        money_cols=("revenue_t12", "revenue_prev12"),
        pct_cols=("revenue_change",),
        labels=cols,
        title=f"{tr('ret_title')}: {tr('ret_details')} ({period})",
        key="rt_dl_details",
    )
