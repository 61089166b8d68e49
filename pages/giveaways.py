"""Verschenkte Leistungen: off-policy services, giveaways with their leakage in euros and
invisible value, totals by account, KAM, service and tier, each traceable to its rows."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kam_analytics import glossary
from kam_analytics.exports.theme import money_axis
from kam_analytics.glossary import billing_mode_label, policy_label, tier_label
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_number, select_service_names
from kam_analytics.metrics import giveaways as gv
from kam_analytics.page_data.giveaways import SHOWN_ROWS, load_all_findings, load_giveaways
from kam_analytics.page_data.services import load_filter_options
from kam_analytics.periods import period_bounds, period_label
from ui.auth import require_page
from ui.downloads import download_table, report_download, session_theme, show_chart
from ui.session import get_con, get_lang, tr
from ui.widgets import account_picker, account_title, filter_bar, show_table

MONEY = ("leakage", "unbilled_value", "list_value", "billed_amount")

scope = require_page(__file__)
con, lang = get_con(), get_lang()
names = select_service_names(con, lang)
st.title(tr("gv_title"))
st.caption(tr("gv_intro"))

opts = load_filter_options(con, scope)
filters = filter_bar("gv", opts)
year = filters.pop("year")

# The policy check runs in DuckDB; memoised per data version, so a widget click that comes
# back to the same filters repeats no query. Only the worst findings reach the page.
data = load_giveaways(con, scope, year=year, **filters)
found = data.findings
if data.n_findings == 0:
    st.success(tr("gv_none"))
    st.stop()

finding_label = {f: glossary.finding_label(f, lang) for f in gv.FINDINGS}
period = period_label(*period_bounds(year), lang) if year else tr("svc_all_years")
file_year = str(year) if year else "alle_jahre"
# the company palette's red / amber / blue, the same colours as in the review pack
_theme = session_theme()
finding_colours = {
    "off_policy": _theme.colors[6 % len(_theme.colors)],
    "giveaway": _theme.colors[3 % len(_theme.colors)],
    "invisible": _theme.colors[1 % len(_theme.colors)],
}
k1, k2, k3, k4 = st.columns(4)
k1.metric(tr("gv_leakage_total"), fmt_eur(data.leakage, lang, 0), border=True)
for col, finding in zip((k2, k3, k4), gv.FINDINGS, strict=True):
    col.metric(
        finding_label[finding],
        fmt_number(data.counts[finding], lang),
        tr("gv_kpi_value", value=fmt_eur(data.values[finding], lang, 0)),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=tr(f"gv_help_{finding}"),
    )
report_download("giveaways", year=year, key="gv_report")

labels = {
    "account_id": tr("svc_account_id"),
    "account_name": tr("account"),
    "tier": tr("tier"),
    "kam_id": tr("svc_kam_id"),
    "kam_name": tr("kam"),
    "service_code": tr("service"),
    "n_off_policy": finding_label["off_policy"],
    "n_giveaway": finding_label["giveaway"],
    "n_invisible": finding_label["invisible"],
    "leakage": tr("gv_leakage"),
    "unbilled_value": tr("svc_unbilled"),
    "list_value": tr("svc_list_value"),
    "billed_amount": tr("svc_billed"),
    "date": tr("svc_date"),
    "billing_mode": tr("svc_billing_mode"),
    "policy": tr("gv_policy"),
    "finding": tr("gv_finding"),
    "source_table": tr("svc_source_table"),
    "source_id": tr("svc_source_id"),
    "file_name": tr("svc_file"),
    "imported_at": tr("svc_imported_at"),
    "source_row": tr("svc_source_row"),
}


def readable(df):
    """Codes to words for display."""
    out = df.copy()
    if "service_code" in out:
        out["service_code"] = [names.get(c, c) for c in out["service_code"]]
    if "tier" in out:
        out["tier"] = [tier_label(t, lang) if t else "–" for t in out["tier"]]
    if "billing_mode" in out:
        out["billing_mode"] = [billing_mode_label(m, lang) for m in out["billing_mode"]]
    if "policy" in out:
        out["policy"] = [policy_label(p, lang) for p in out["policy"]]
    if "finding" in out:
        out["finding"] = [finding_label[f] for f in out["finding"]]
    if "kam_name" in out:  # the accounts without a KAM
        out["kam_name"] = [n or tr("ret_no_kam") for n in out["kam_name"]]
    return out


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


# Worst accounts at a glance: leakage per account, split by finding.
by_account = data.totals["account_id"]
top = by_account[by_account["leakage"] > 0].head(15)
if not top.empty:
    st.subheader(tr("gv_chart_title"))
    fig = go.Figure()
    top_ids = list(top["account_id"])
    per_finding = data.by_account_finding
    for finding in ("off_policy", "giveaway"):
        part = per_finding[per_finding["finding"] == finding].set_index("account_id")["leakage"]
        fig.add_bar(
            y=[f"{a} {n}" for a, n in zip(top["account_id"], top["account_name"], strict=True)],
            x=[float(part.get(a, 0.0)) for a in top_ids],
            name=finding_label[finding],
            orientation="h",
            marker_color=finding_colours[finding],
        )
    fig.update_layout(
        barmode="stack",
        height=max(460, 240 + 30 * len(top)),
        legend={"traceorder": "normal"},
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis_title=tr("gv_leakage"),
    )
    show_chart(
        money_axis(fig, lang, "x"),
        f"verschenkte_leistungen_{file_year}_nach_kunde",
        title=tr("gv_leakage_chart"),
        period=period,
        key="gv_chart",
    )

tabs = st.tabs(
    [
        tr("gv_tab_findings"),
        tr("svc_by_account"),
        tr("svc_by_kam"),
        tr("svc_by_service"),
        tr("svc_by_tier"),
    ]
)
with tabs[0]:
    shown = found[
        [
            "date",
            "account_id",
            "account_name",
            "tier",
            "service_code",
            "billing_mode",
            "policy",
            "finding",
            "list_value",
            "billed_amount",
            "leakage",
            "source_table",
            "source_id",
            "file_name",
            "source_row",
        ]
    ]
    if data.n_findings > len(shown):
        st.caption(
            tr(
                "gv_shown_findings",
                n=fmt_number(len(shown), lang),
                total=fmt_number(data.n_findings, lang),
            )
        )
    show_table(show_dates(readable(shown)), labels, money=MONEY)

    def every_finding():
        """All findings of the filters, read when the download is clicked."""
        cur = con.cursor()  # the download thread's own cursor
        try:
            return readable(load_all_findings(cur, scope, year=year, **filters)[shown.columns])
        finally:
            cur.close()

    download_table(
        every_finding,
        f"verschenkte_leistungen_{file_year}_befunde",
        money_cols=MONEY,
        labels=labels,
        title=f"{tr('gv_title')}: {tr('gv_tab_findings')} ({period})",
        key="gv_dl_findings",
    )
TOTAL_FILES = {
    "account_id": ("nach_kunde", "svc_by_account"),
    "kam_id": ("nach_kam", "svc_by_kam"),
    "service_code": ("nach_leistung", "svc_by_service"),
    "tier": ("nach_kundenstufe", "svc_by_tier"),
}
COUNTS = ("n_off_policy", "n_giveaway", "n_invisible")
for tab, by in zip(tabs[1:], TOTAL_FILES, strict=True):
    with tab:
        totals = readable(data.totals[by])
        show_table(
            totals,
            labels,
            max_rows=SHOWN_ROWS,
            shown_key="gv_shown_accounts",
            money=MONEY,
            ints=COUNTS,
        )
        download_table(
            totals,
            f"verschenkte_leistungen_{file_year}_{TOTAL_FILES[by][0]}",
            money_cols=MONEY,
            int_cols=COUNTS,
            labels=labels,
            title=f"{tr('gv_title')}: {tr(TOTAL_FILES[by][1])} ({period})",
            key=f"gv_dl_{by}",
        )

st.subheader(tr("gv_drill_title"))
# the worst accounts first, at most PICKER_ROWS offered (a search finds every other): on the
# 10x company 36,000 options would be sent on every run
account_rows = by_account[["account_id", "account_name"]]
account = account_picker(account_rows, key="gv_drill_account", label=tr("account"))
if account:
    rows = load_all_findings(con, scope, year=year, account_id=account, **filters)[
        [
            "date",
            "service_code",
            "billing_mode",
            "policy",
            "finding",
            "list_value",
            "billed_amount",
            "unbilled_value",
            "leakage",
            "source_table",
            "source_id",
            "file_name",
            "imported_at",
            "source_row",
        ]
    ]
    st.caption(tr("gv_drill_sum", n=len(rows), value=fmt_eur(rows["leakage"].sum(), lang)))
    show_table(show_dates(readable(rows)), labels, money=MONEY)
    download_table(
        readable(rows),
        f"verschenkte_leistungen_{file_year}_{account}",
        money_cols=MONEY,
        labels=labels,
        title=f"{tr('gv_drill_title')}: {account_title(account_rows, account)} ({period})",
        key="gv_dl_drill",
    )
