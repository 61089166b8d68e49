"""Overview: headline KPIs, revenue by month, service value by tier, key accounts at a glance."""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from babel.dates import get_month_names

from kam_analytics.cache import memoised
from kam_analytics.exports.theme import MUTED_COLOR, money_axis
from kam_analytics.glossary import billing_mode_label, key_accounts_label, tier_label
from kam_analytics.i18n import date_input_format, fmt_date, fmt_eur, fmt_number, fmt_pct
from kam_analytics.metrics import overview as ov
from kam_analytics.page_data.overview import default_year, load_overview
from kam_analytics.periods import default_as_of, period_bounds, period_label
from ui.auth import require_page
from ui.downloads import download_table, review_pack_download, session_theme, show_chart
from ui.session import get_con, get_lang, tr
from ui.widgets import format_frame, pinned_config

_LOCALE = {"de": "de_DE", "en": "en_GB"}

scope = require_page(__file__)
con, lang = get_con(), get_lang()


def _short_eur(value: float) -> str:
    """Money for a KPI card: millions shortened (7,4 Mio. €), smaller amounts in full euros."""
    if value is not None and abs(value) >= 1_000_000:
        return tr("ov_million", value=fmt_number(value / 1_000_000, lang, 2))
    return fmt_eur(value, lang, 0)


st.title(tr("ov_title"))

years = memoised(ov.select_data_years)(con, scope)
if not years:
    st.info(tr("ov_no_data"))
    st.stop()

today = dt.date.today()
col_year, col_as_of, _, col_pack = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
year = col_year.selectbox(
    tr("ov_year"), years, index=years.index(default_year(years, today)), key="ov_year"
)
as_of = col_as_of.date_input(
    tr("ov_as_of"),
    value=default_as_of(year, today),
    min_value=dt.date(year, 1, 1),
    max_value=dt.date(year, 12, 31),
    format=date_input_format(lang),
    key=f"ov_as_of_{year}",
)

with col_pack:
    # management and admins only (the helper checks the scope); built on click
    review_pack_download(year, as_of=as_of)

data = load_overview(con, scope, year=year, as_of=as_of)
kpi = data.kpis
st.caption(tr("ov_caption", as_of=fmt_date(kpi["as_of"], lang), year=year))

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(key_accounts_label(lang), str(kpi["key_accounts"]), border=True)
rev_delta = None
if kpi["revenue_prev"]:
    change = kpi["revenue"] / kpi["revenue_prev"] - 1
    rev_delta = tr("ov_revenue_delta", pct=("+" if change >= 0 else "") + fmt_pct(change, lang))
c2.metric(
    tr("ov_revenue"),
    _short_eur(kpi["revenue"]),
    rev_delta,
    help=fmt_eur(kpi["revenue"], lang),
    border=True,
)
c3.metric(
    tr("ov_service_value"),
    _short_eur(kpi["service_value"]),
    help=tr("ov_service_value_help", value=fmt_eur(kpi["service_value"], lang)),
    border=True,
)
c4.metric(
    tr("ov_unbilled_share"),
    fmt_pct(kpi["unbilled_share"], lang),
    help=tr("ov_unbilled_help", value=fmt_eur(kpi["unbilled_value"], lang, 0)),
    border=True,
)
c5.metric(
    tr("ov_retention"),
    fmt_pct(kpi["retention"], lang),
    tr("ov_retention_delta", kept=kpi["key_retained"], start=kpi["key_active_start"]),
    delta_color="off",
    delta_arrow="off",
    help=tr("ov_retention_help", start=kpi["key_active_start"], kept=kpi["key_retained"]),
    border=True,
)

# Full width, one under the other: the charts carry slide-sized titles and legends that a
# half-width column would cut off.
months = get_month_names("abbreviated", locale=_LOCALE[lang])
period = period_label(*period_bounds(year, as_of), lang)
theme = session_theme()

by_month = data.revenue_by_month
labels = [months[m] for m in by_month["month"]]
fig = go.Figure()
fig.add_bar(x=labels, y=by_month["revenue"], name=str(year), marker_color=theme.primary)
fig.add_scatter(
    x=labels,
    y=by_month["revenue_prev"],
    name=str(year - 1),
    mode="lines+markers",
    line={"color": MUTED_COLOR, "dash": "dot"},
)
fig.update_layout(yaxis_title=tr("ov_revenue_axis"))
show_chart(
    money_axis(fig, lang),
    f"umsatz_{year}_je_monat",
    title=tr("ov_chart_revenue"),
    period=period,
    key="ov_revenue_chart",
)

by_tier = data.service_value_by_tier
fig = go.Figure()
for mode, colour in theme.billing_colors().items():
    part = by_tier[by_tier["billing_mode"] == mode]
    fig.add_bar(
        x=[tier_label(t, lang) for t in part["tier"]],
        y=part["list_value"],
        name=billing_mode_label(mode, lang),
        marker_color=colour,
    )
fig.update_layout(barmode="stack", xaxis_title=tr("ov_tier"), yaxis_title=tr("ov_value_axis"))
show_chart(
    money_axis(fig, lang),
    f"leistungswert_{year}_nach_kundenstufe",
    title=tr("ov_chart_services"),
    period=period,
    key="ov_service_chart",
)

st.subheader(tr("ov_key_table"))
keys = data.key_accounts
if keys.empty:
    st.info(tr("no_data"))
else:
    raw = keys[
        ["account_id", "name", "kam_name", "revenue", "revenue_prev", "change", "last_order"]
    ]
    key_labels = {
        "account_id": tr("ov_col_account_id"),
        "name": tr("ov_col_name"),
        "kam_name": tr("ov_col_kam"),
        "revenue": tr("ov_col_revenue", year=year),
        "revenue_prev": tr("ov_col_revenue_prev", year=year - 1),
        "change": tr("ov_col_change"),
        "last_order": tr("ov_col_last_order"),
    }
    shown = raw.copy()
    shown["last_order"] = [fmt_date(d, lang) if pd.notna(d) else "–" for d in shown["last_order"]]
    shown = format_frame(shown, money=("revenue", "revenue_prev"), pct=("change",))
    st.dataframe(
        shown.rename(columns=key_labels),
        hide_index=True,
        width="stretch",
        height=min(35 * (len(shown) + 1) + 3, 600),  # every key account without scrolling
        # number and name stay in view while the figures scroll sideways at 1280 px
        column_config=pinned_config(
            key_labels.values(), (key_labels["account_id"], key_labels["name"])
        ),
    )
    download_table(
        raw,
        f"schluesselkunden_{year}",
        money_cols=("revenue", "revenue_prev"),
        pct_cols=("change",),
        labels=key_labels,
        title=f"{tr('ov_key_table')} ({period})",
        key="ov_keys_dl",
    )
