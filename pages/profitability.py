"""Profitabilität: revenue, gross margin, service cost and net contribution per account, the
whale curve and tier-fit alerts."""

import plotly.graph_objects as go
import streamlit as st

from kam_analytics.exports.theme import MUTED_COLOR, money_axis
from kam_analytics.glossary import tier_label
from kam_analytics.i18n import fmt_eur, fmt_pct, select_service_names
from kam_analytics.metrics.profitability import curve_points, whale_peak
from kam_analytics.page_data.profitability import load_profitability
from kam_analytics.page_data.services import load_filter_options
from kam_analytics.periods import period_bounds, period_label
from ui.auth import require_page
from ui.downloads import download_table, session_theme, show_chart
from ui.session import get_con, get_lang, tr
from ui.widgets import TABLE_ROWS, filter_bar, show_table

MONEY = (
    "revenue",
    "cost_of_goods",
    "gross_margin",
    "service_cost",
    "service_value",
    "service_billed",
    "net_contribution",
    "cumulative",
    "value",
    "threshold",
)

scope = require_page(__file__)
con, lang = get_con(), get_lang()
st.title(tr("pf_title"))
st.caption(tr("pf_intro"))

opts = load_filter_options(con, scope)
filters = filter_bar("pf", opts, kams=False, services=False)
year, tiers = filters["year"], filters["tiers"]

data = load_profitability(con, scope, year=year, tiers=tiers)
profit = data.profit
if profit.empty:
    st.info(tr("no_data"))
    st.stop()

period = period_label(*period_bounds(year), lang) if year else tr("svc_all_years")
file_year = str(year) if year else "alle_jahre"
k1, k2, k3, k4 = st.columns(4)
k1.metric(tr("pf_revenue"), fmt_eur(profit["revenue"].sum(), lang, 0), border=True)
k2.metric(tr("pf_gross_margin"), fmt_eur(profit["gross_margin"].sum(), lang, 0), border=True)
k3.metric(tr("pf_service_cost"), fmt_eur(profit["service_cost"].sum(), lang, 0), border=True)
k4.metric(
    tr("pf_net_contribution"), fmt_eur(profit["net_contribution"].sum(), lang, 0), border=True
)
if int(profit["cogs_missing"].sum()):
    st.caption(tr("pf_cogs_missing", n=int(profit["cogs_missing"].sum())))

labels = {
    "account_id": tr("svc_account_id"),
    "name": tr("account"),
    "tier": tr("tier"),
    "abc": tr("abc_col"),
    "kam_id": tr("svc_kam_id"),
    "revenue": tr("pf_revenue"),
    "cost_of_goods": tr("pf_cogs"),
    "gross_margin": tr("pf_gross_margin"),
    "service_cost": tr("pf_service_cost"),
    "service_value": tr("svc_list_value"),
    "service_billed": tr("pf_service_billed"),
    "net_contribution": tr("pf_net_contribution"),
    "cogs_missing": tr("pf_cogs_missing_col"),
    "rank": tr("pf_rank"),
    "cumulative": tr("pf_cumulative"),
    "cumulative_share": tr("pf_cumulative_share"),
    "alert": tr("pf_alert"),
    "value": tr("pf_alert_value"),
    "threshold": tr("pf_alert_threshold"),
    "detail": tr("pf_alert_detail"),
}

st.subheader(tr("pf_whale_title"))
curve = data.curve
total = float(curve["net_contribution"].sum())
drawn = curve_points(curve)  # the line's shape and peak, not 50,000 labelled points
# The classic whale curve: cumulative contribution as a share of the total (peaks above 100 %
# where loss makers exist); without a positive total a share means nothing, so euros.
as_share = total > 0
st.caption(tr("pf_whale_caption_share") if as_share else tr("pf_whale_caption"))
fig = go.Figure()
fig.add_scatter(
    x=[0, *drawn["account_share"]],
    y=[0, *(drawn["cumulative_share"] if as_share else drawn["cumulative"])],
    mode="lines+markers" if len(drawn) <= 60 else "lines",
    line={"color": session_theme().primary, "width": 3},
    marker={"size": 6},
    text=["", *[f"{a} {n}" for a, n in zip(drawn["account_id"], drawn["name"], strict=True)]],
    hovertemplate="%{text}<br>%{y:.0%}<extra></extra>"
    if as_share
    else "%{text}<br>%{y:,.0f} €<extra></extra>",
    name=tr("pf_cumulative"),
)
fig.add_hline(y=1.0 if as_share else total, line_dash="dot", line_color=MUTED_COLOR)
fig.update_layout(
    height=520,
    xaxis={"title": tr("pf_whale_x"), "tickformat": ".0%"},
    yaxis={"title": tr("pf_whale_y_share"), "tickformat": ".0%", "rangemode": "tozero"}
    if as_share
    else {"title": tr("pf_cumulative")},
    showlegend=False,
)
show_chart(
    fig if as_share else money_axis(fig, lang),
    f"walkurve_{file_year}_deckungsbeitrag",
    title=tr("pf_whale_chart"),
    period=period,
    key="pf_whale",
)
peak = whale_peak(curve)
if peak is not None and as_share:
    st.caption(
        tr(
            "pf_whale_peak_share",
            share=fmt_pct(peak["cumulative_share"], lang, 0),
            accounts=fmt_pct(peak["account_share"], lang, 0),
            peak=fmt_eur(peak["cumulative"], lang, 0),
            total=fmt_eur(total, lang, 0),
        )
    )

st.subheader(tr("pf_alerts_title"))
st.caption(tr("pf_alerts_caption"))
alerts = data.alerts
if tiers:
    alerts = alerts[alerts["tier"].isin(tiers)]
if alerts.empty:
    st.success(tr("pf_no_alerts"))
else:
    shown = alerts.copy()
    shown["alert"] = [tr(f"pf_alert_{a}") for a in shown["alert"]]
    shown["tier"] = [tier_label(t, lang) for t in shown["tier"]]
    names = select_service_names(con, lang)
    shown["detail"] = [
        ", ".join(names.get(c, c) for c in d.split(", ")) if d else "" for d in shown["detail"]
    ]
    show_table(shown, labels, money=("value", "threshold"), max_rows=TABLE_ROWS)
    download_table(
        shown,
        f"profitabilitaet_{file_year}_stufenpassung",
        money_cols=("value", "threshold"),
        labels=labels,
        title=f"{tr('pf_alerts_title')} ({period})",
        key="pf_dl_alerts",
    )

st.subheader(tr("pf_table_title"))
shown = profit.sort_values("net_contribution", ascending=False).copy()
shown["tier"] = [tier_label(t, lang) if isinstance(t, str) else "–" for t in shown["tier"]]
show_table(shown, labels, money=MONEY, ints=("cogs_missing",), max_rows=TABLE_ROWS)
download_table(
    shown,
    f"profitabilitaet_{file_year}_alle_kunden",
    money_cols=MONEY,
    pct_cols=("cumulative_share",),
    int_cols=("cogs_missing",),
    labels=labels,
    title=f"{tr('pf_title')}: {tr('pf_table_title')} ({period})",
    key="pf_dl_table",
)
