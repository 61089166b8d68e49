"""The settings section for exchange rates (imports convert other currencies with them)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from kam_analytics.errors import KamError
from kam_analytics.exchange_rates import delete_rate, select_rates, upsert_rate
from kam_analytics.i18n import fmt_number
from ui.errors import show_error
from ui.session import get_lang, tr


def rates_section(con, scope) -> None:
    """List the rates; admins add, change and delete them."""
    lang = get_lang()
    st.subheader(tr("rates_title"))
    st.caption(tr("rates_caption"))
    rates = select_rates(con)
    if rates.empty:
        st.caption(tr("rates_none"))
    else:
        shown = rates[["currency", "year", "month", "units_per_eur"]].copy()
        shown["month"] = [tr("rates_whole_year") if m == 0 else str(m) for m in shown["month"]]
        shown["units_per_eur"] = [fmt_number(v, lang, 6) for v in shown["units_per_eur"]]
        st.dataframe(
            shown.rename(columns={c: tr(f"rates_col_{c}") for c in shown.columns}),
            hide_index=True,
        )
    if scope.role != "admin":
        return
    with st.form("rates_form"):
        c1, c2, c3, c4 = st.columns(4)
        currency = c1.text_input(tr("rates_col_currency"), value="CHF")
        year = c2.number_input(tr("rates_col_year"), 2000, 2100, dt.date.today().year)
        month = c3.number_input(tr("rates_month_help"), 0, 12, 0)
        rate = c4.number_input(tr("rates_col_units_per_eur"), 0.0, 1e6, 1.0, format="%.6f")
        b1, b2 = st.columns(2)
        if b1.form_submit_button(tr("rates_save")):
            try:
                upsert_rate(con, currency, int(year), int(month), rate, scope.username)
                st.rerun()
            except KamError as exc:
                show_error(exc)
        if b2.form_submit_button(tr("rates_delete")):
            delete_rate(con, currency, int(year), int(month), scope.username)
            st.rerun()
