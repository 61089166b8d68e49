"""Leistungen: service value per account, tier, KAM, service and month, the billing-mode ladder
and a drill-down to the source rows with the import they came from."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kam_analytics.cache import memoised
from kam_analytics.exports.theme import money_axis
from kam_analytics.glossary import billing_mode_label, tier_label
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_pct, select_service_names
from kam_analytics.metrics import services as sv
from kam_analytics.page_data.services import load_filter_options, load_services
from kam_analytics.periods import period_bounds, period_label
from kam_analytics.schema import BILLING_MODES, TIERS
from ui.auth import require_page
from ui.downloads import download_table, report_download, session_theme, show_chart
from ui.session import get_con, get_lang, tr
from ui.widgets import TABLE_ROWS, account_picker, account_title, filter_bar, show_table

# file name part of each summary table (German, like the chart file names)
DIM_FILE = {
    "account": "nach_kunde",
    "tier": "nach_kundenstufe",
    "kam": "nach_kam",
    "service": "nach_leistung",
    "month": "nach_monat",
}
MONEY = (
    "cost",
    "list_value",
    "billed_amount",
    "unbilled_value",
    "value_silent",
    "value_waived",
    "value_billed",
)

scope = require_page(__file__)
con, lang = get_con(), get_lang()
names = select_service_names(con, lang)
st.title(tr("svc_title"))
st.caption(tr("svc_intro"))

opts = load_filter_options(con, scope)
filters = filter_bar("svc", opts, no_tier=True)
year = filters.pop("year")
# Every table and KPI is grouped in DuckDB (one query, memoised per data version); only the
# drill-down below fetches event rows, for the one account the user opened.
data = load_services(con, scope, year=year, **filters)
summaries, totals = data.summaries, data.totals
if not totals["events"]:
    st.info(tr("no_data"))
    st.stop()

labels = {
    "account_id": tr("svc_account_id"),
    "account_name": tr("account"),
    "tier": tr("tier"),
    "kam_id": tr("svc_kam_id"),
    "kam_name": tr("kam"),
    "service_code": tr("service"),
    "month": tr("svc_month"),
    "events": tr("svc_events"),
    "cost": tr("svc_cost"),
    "list_value": tr("svc_list_value"),
    "billed_amount": tr("svc_billed"),
    "unbilled_value": tr("svc_unbilled"),
    "value_silent": billing_mode_label("silent", lang),
    "value_waived": billing_mode_label("waived", lang),
    "value_billed": billing_mode_label("billed", lang),
    "date": tr("svc_date"),
    "billing_mode": tr("svc_billing_mode"),
    "quantity": tr("svc_quantity"),
    "source_table": tr("svc_source_table"),
    "source_id": tr("svc_source_id"),
    "file_name": tr("svc_file"),
    "imported_at": tr("svc_imported_at"),
    "source_row": tr("svc_source_row"),
}

period = period_label(*period_bounds(year), lang) if year else tr("svc_all_years")
file_year = str(year) if year else "alle_jahre"
total_value = totals["list_value"]
silent = totals["value_silent"]
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric(tr("svc_list_value"), fmt_eur(total_value, lang, 0), border=True)
k2.metric(tr("svc_cost"), fmt_eur(totals["cost"], lang, 0), border=True)
k3.metric(tr("svc_billed"), fmt_eur(totals["billed_amount"], lang, 0), border=True)
k4.metric(tr("svc_unbilled"), fmt_eur(totals["unbilled_value"], lang, 0), border=True)
k5.metric(
    tr("svc_silent_share"), fmt_pct(silent / total_value if total_value else 0, lang), border=True
)
report_download("services", year=year, key="svc_report")

# The ladder: how much of the value customers (and our own staff) never saw, per tier.
st.subheader(tr("svc_ladder_title"))
st.caption(tr("svc_ladder_caption"))
ladder = data.ladder
groups = list(dict.fromkeys(ladder["tier"]))
ordered = [t for t in [*TIERS, ""] if t in groups]
mode_colours = session_theme().billing_colors()
fig = go.Figure()
for mode in BILLING_MODES:
    part = ladder[ladder["billing_mode"] == mode].set_index("tier").reindex(ordered)
    fig.add_bar(
        y=[tier_label(t, lang) for t in ordered],
        x=part["list_value"],
        name=billing_mode_label(mode, lang),
        orientation="h",
        marker_color=mode_colours[mode],
        customdata=part["share"],
        hovertemplate="%{y}: %{x:,.0f} € (%{customdata:.0%})<extra>"
        + billing_mode_label(mode, lang)
        + "</extra>",
    )
fig.update_layout(
    barmode="stack",
    height=max(420, 260 + 60 * len(ordered)),
    legend={"traceorder": "normal"},
    yaxis={"autorange": "reversed", "automargin": True},
    xaxis_title=tr("svc_value_axis"),
)
show_chart(
    money_axis(fig, lang, "x"),
    f"leistungen_{file_year}_nach_abrechnungsart",
    title=tr("svc_ladder_chart"),
    period=period,
    key="svc_ladder",
)

st.subheader(tr("svc_tables_title"))
dims = {
    "account": tr("svc_by_account"),
    "tier": tr("svc_by_tier"),
    "kam": tr("svc_by_kam"),
    "service": tr("svc_by_service"),
    "month": tr("svc_by_month"),
}
# Lazy tabs: only the open one builds its table and download (five of each on every run took
# a second on the 10x company); a tab click reruns the page.
tabs = st.tabs(list(dims.values()), key="svc_dim", on_change="rerun")
for tab, dim in zip(tabs, dims, strict=True):
    if not tab.open:
        continue
    with tab:
        summary = summaries[dim].copy()
        if "service_code" in summary:
            summary["service_code"] = [names.get(c, c) for c in summary["service_code"]]
        if "tier" in summary:
            summary["tier"] = [tier_label(t, lang) if t else "–" for t in summary["tier"]]
        if "kam_name" in summary:  # the accounts without a KAM
            summary["kam_name"] = [n or tr("ret_no_kam") for n in summary["kam_name"]]
        show_table(summary, labels, money=MONEY, ints=("events",), max_rows=TABLE_ROWS)
        download_table(
            summary,
            f"leistungen_{file_year}_{DIM_FILE[dim]}",
            money_cols=MONEY,
            int_cols=("events",),
            labels=labels,
            title=f"{tr('svc_tables_title')}: {dims[dim]} ({period})",
            key=f"svc_dl_{dim}",
        )


def show_dates(df):
    """Dates and import times as German/English text for the screen (downloads keep dates)."""
    out = df.copy()
    if "date" in out:
        out["date"] = [fmt_date(d, lang) for d in out["date"]]
    if "imported_at" in out:
        out["imported_at"] = [
            f"{fmt_date(d, lang)} {pd.Timestamp(d):%H:%M}" if pd.notna(d) else "–"
            for d in out["imported_at"]
        ]
    return out


st.subheader(tr("svc_drill_title"))
st.caption(tr("svc_drill_caption"))
# The picker offers the accounts with the largest value first, at most PICKER_ROWS of them
# (a search finds the others): 50,000 options on every run took seconds on the 10x company.
account_rows = summaries["account"][["account_id", "account_name"]].drop_duplicates("account_id")
account = account_picker(account_rows, key="svc_drill_account", label=tr("account"))
if account:
    events = memoised(sv.select_service_events)(
        con, scope, year=year, account_id=account, **filters
    )
    codes = sorted(set(events["service_code"]))
    service = st.columns(2)[0].selectbox(
        tr("service"),
        [None, *codes],
        format_func=lambda c: tr("all") if c is None else names.get(c, c),
        key="svc_drill_service",
    )
    rows = events
    if service:
        rows = rows[rows["service_code"] == service]
    rows = rows[
        [
            "date",
            "service_code",
            "quantity",
            "cost",
            "list_value",
            "billed_amount",
            "unbilled_value",
            "billing_mode",
            "source_table",
            "source_id",
            "file_name",
            "imported_at",
            "source_row",
        ]
    ].copy()
    rows["service_code"] = [names.get(c, c) for c in rows["service_code"]]
    rows["billing_mode"] = [billing_mode_label(m, lang) for m in rows["billing_mode"]]
    st.caption(tr("svc_drill_sum", n=len(rows), value=fmt_eur(rows["list_value"].sum(), lang)))
    show_table(show_dates(rows), labels, money=MONEY)
    download_table(
        rows,
        f"leistungen_{file_year}_{account}_einzelnachweis",
        money_cols=MONEY,
        labels=labels,
        title=f"{tr('svc_drill_title')}: {account_title(account_rows, account)} ({period})",
        key="svc_dl_drill",
    )
