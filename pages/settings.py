"""Einstellungen: retention, bonus plan, KAM pay, appearance and language (admins edit)."""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kam_analytics.audit import AUDIT_READERS, action_label, describe_value, list_audit
from kam_analytics.errors import KamError
from kam_analytics.exports.theme import Theme, apply_theme, fit_title, money_axis
from kam_analytics.i18n import LANGUAGES, fmt_date, fmt_number, fmt_pct, t
from kam_analytics.page_data.retention import load_backtest
from kam_analytics.settings_store import (
    DEFAULT_COLORS,
    DEFAULT_FONT,
    BonusPlan,
    delete_kam_pay,
    get_appearance,
    get_bonus_plan,
    get_kam_pay,
    get_retention_settings,
    save_appearance,
    save_bonus_plan,
    save_kam_pay,
    save_retention_settings,
)
from ui.auth import require_page
from ui.downloads import download_table
from ui.errors import show_error
from ui.layout import SCREEN_CHART_WIDTH
from ui.rates import rates_section
from ui.session import get_con, get_lang, tr
from ui.widgets import amount_format, plotly_config, show_table

scope = require_page(__file__)
con, lang = get_con(), get_lang()
admin = scope.role == "admin"
SETTING_LABELS = {
    "gap_factor": "set_gap_factor",
    "revenue_drop": "set_revenue_drop",
    "satisfaction_drop": "set_sat_drop",
}
MAX_PICKERS = 8  # the palette editor offers up to 8 colours (the store accepts 10)
st.title(tr("set_title"))
if not admin:
    st.info(tr("set_readonly"))

st.subheader(tr("set_retention"))
rs = get_retention_settings(con)
with st.form("set_retention"):
    c1, c2, c3 = st.columns(3)
    window = c1.number_input(tr("set_window"), 1, 3650, rs.activity_window_days, disabled=not admin)
    gap = c2.number_input(tr("set_gap_factor"), 0.1, 100.0, rs.gap_factor, 0.1, disabled=not admin)
    drop = c3.number_input(
        tr("set_revenue_drop"), 0.01, 1.0, rs.revenue_drop, 0.05, disabled=not admin
    )
    c4, c5, c6 = st.columns(3)
    sat = c4.number_input(
        tr("set_sat_drop"), 0.1, 10.0, rs.satisfaction_drop, 0.5, disabled=not admin
    )
    month = c5.number_input(
        tr("set_mandate_month"), 1, 12, rs.mandate_check_month, disabled=not admin
    )
    day = c6.number_input(tr("set_mandate_day"), 1, 31, rs.mandate_check_day, disabled=not admin)
    if st.form_submit_button(tr("set_save"), disabled=not admin):
        try:
            save_retention_settings(
                con,
                scope,
                {
                    "activity_window_days": window,
                    "gap_factor": gap,
                    "revenue_drop": drop,
                    "satisfaction_drop": sat,
                    "mandate_check_month": month,
                    "mandate_check_day": day,
                },
            )
            st.success(tr("set_saved"))
        except KamError as exc:
            show_error(exc)

with st.expander(tr("bt_thresholds")):
    # computed on demand: one back-test per candidate value
    if st.toggle(tr("bt_thresholds"), key="set_bt_toggle", label_visibility="collapsed"):
        bt = load_backtest(con, scope, thresholds=True)
        if bt.year is None:
            st.caption(tr("bt_no_year"))
        else:
            st.caption(tr("bt_thresholds_caption", year=bt.year))
            what_if = bt.thresholds.copy()
            what_if["setting"] = [tr(SETTING_LABELS[n]) for n in what_if["setting"]]
            what_if["current"] = [tr("ret_yes") if c else "" for c in what_if["current"]]
            # revenue drop is a share, the others plain numbers
            what_if["value"] = [
                fmt_pct(v, lang, 0) if n == "revenue_drop" else fmt_number(v, lang, 2)
                for n, v in zip(bt.thresholds["setting"], what_if["value"], strict=True)
            ]
            show_table(
                what_if[
                    [
                        "setting",
                        "value",
                        "current",
                        "flagged",
                        "flagged_lost",
                        "precision",
                        "recall",
                    ]
                ],
                labels={
                    "setting": tr("bt_col_setting"),
                    "value": tr("bt_col_value"),
                    "current": tr("bt_col_current"),
                    "flagged": tr("bt_col_flagged"),
                    "flagged_lost": tr("bt_col_flagged_lost"),
                    "precision": tr("bt_col_precision"),
                    "recall": tr("bt_col_recall"),
                },
                pct=("precision", "recall"),
            )

st.subheader(tr("set_plan"))
this_year = dt.date.today().year
plan_year = st.selectbox(
    tr("set_plan_year"), list(range(this_year - 4, this_year + 2)), index=4, key="set_plan_year"
)
plan = get_bonus_plan(con, plan_year)
with st.form(f"set_plan_{plan_year}"):
    c1, c2, c3, c4, c5 = st.columns(5)
    w_r = c1.number_input(tr("set_w_r"), 0.0, 10.0, plan.w_retention, 0.05, disabled=not admin)
    w_m = c2.number_input(tr("set_w_m"), 0.0, 10.0, plan.w_mandate, 0.05, disabled=not admin)
    w_f = c3.number_input(tr("set_w_f"), 0.0, 10.0, plan.w_feedback, 0.05, disabled=not admin)
    gate = c4.number_input(tr("set_gate"), 0.0, 1.0, plan.retention_gate, 0.05, disabled=not admin)
    cap = c5.number_input(tr("set_cap"), 0.0, 10.0, plan.cap, 0.05, disabled=not admin)
    if st.form_submit_button(tr("set_save"), disabled=not admin):
        try:
            save_bonus_plan(con, scope, plan_year, BonusPlan(w_r, w_m, w_f, gate, cap))
            st.success(tr("set_saved"))
        except KamError as exc:
            show_error(exc)

st.subheader(tr("set_pay"))
st.caption(tr("set_pay_caption"))
pay = get_kam_pay(con, plan_year, scope)
if pay.empty:
    st.caption(tr("set_no_kams"))
else:
    labels = {
        "kam_id": tr("set_pay_kam"),
        "name": tr("col_name"),
        "base_salary": tr("set_pay_base"),
        "target_bonus": tr("set_pay_target"),
        "overridden": tr("set_pay_overridden"),
    }
    show_table(pay[list(labels)], labels=labels, money=("base_salary", "target_bonus"))
    download_table(
        pay[list(labels)].assign(
            overridden=[tr("ret_yes") if v else tr("ret_no") for v in pay["overridden"]]
        ),
        f"kam_verguetung_{plan_year}",
        money_cols=("base_salary", "target_bonus"),
        labels=labels,
        title=f"{tr('set_pay')} ({plan_year})",
        key="set_dl_pay",
    )
    if admin:
        names = dict(zip(pay["kam_id"], pay["name"], strict=True))
        kam_id = st.selectbox(
            tr("set_pay_kam"),
            list(pay["kam_id"]),
            format_func=lambda k: f"{k} – {names.get(k) or ''}",
            key="set_pay_kam",
        )
        row = pay.set_index("kam_id").loc[kam_id]
        with st.form(f"set_pay_{kam_id}_{plan_year}"):
            c1, c2 = st.columns(2)
            base = c1.number_input(
                tr("set_pay_base"),
                0.0,
                10_000_000.0,
                None if row["base_salary"] != row["base_salary"] else float(row["base_salary"]),
                500.0,
                format=amount_format(row["base_salary"]),
            )
            target = c2.number_input(
                tr("set_pay_target"),
                0.0,
                10_000_000.0,
                None if row["target_bonus"] != row["target_bonus"] else float(row["target_bonus"]),
                500.0,
                format=amount_format(row["target_bonus"]),
            )
            b1, b2 = st.columns(2)
            if b1.form_submit_button(tr("set_pay_save")):
                try:
                    save_kam_pay(con, scope, kam_id, plan_year, base, target)
                    st.rerun()
                except KamError as exc:
                    show_error(exc)
            if b2.form_submit_button(tr("set_pay_reset"), disabled=not bool(row["overridden"])):
                delete_kam_pay(con, scope, kam_id, plan_year)
                st.rerun()

rates_section(con, scope)

st.subheader(tr("set_appearance"))
st.caption(tr("set_app_caption"))
look = get_appearance(con)
# Widgets outside a form, so the preview follows every colour pick before saving.
c1, c2 = st.columns([3, 1])
company = c1.text_input(
    tr("set_app_company"),
    look["company_name"],
    max_chars=100,
    disabled=not admin,
    key="set_app_company",
)
stored_colors = list(look["theme_colors"])[:MAX_PICKERS]
n_colors = c2.number_input(
    tr("set_app_n_colors"), 1, MAX_PICKERS, len(stored_colors), disabled=not admin, key="set_app_n"
)
picker_cols = st.columns(MAX_PICKERS)
colors = []
for i in range(int(n_colors)):
    default = (
        stored_colors[i] if i < len(stored_colors) else DEFAULT_COLORS[i % len(DEFAULT_COLORS)]
    )
    colors.append(
        picker_cols[i].color_picker(
            tr("set_app_color", n=i + 1), default, disabled=not admin, key=f"set_app_color_{i}"
        )
    )
c1, c2 = st.columns([3, 1])
font = c1.text_input(
    tr("set_app_font"), look["theme_font"], max_chars=100, disabled=not admin, key="set_app_font"
)
default_lang = c2.selectbox(
    tr("set_app_language"),
    LANGUAGES,
    index=LANGUAGES.index(look["default_language"]),
    format_func=lambda code: t(f"set_app_lang_{code}", lang),
    disabled=not admin,
    key="set_app_language",
)

st.markdown(f"**{tr('set_app_preview')}**")
preview_theme = Theme(
    colors=tuple(c.upper() for c in colors),
    font=font.strip() or DEFAULT_FONT,
    company=company.strip(),
)
preview = go.Figure(
    [
        go.Bar(
            name=tr("set_app_series", n=i + 1),
            x=["Q1", "Q2", "Q3", "Q4"],
            y=[12000 + 2500 * i + 3000 * q + (q % 2) * 1500 for q in range(4)],
        )
        for i in range(len(colors))
    ]
)
apply_theme(
    preview,
    title=tr("set_app_preview_title"),
    period=tr("set_app_period"),
    lang=lang,
    theme=preview_theme,
)
money_axis(preview, lang)
preview.update_layout(barmode="group", height=460)
fit_title(preview, SCREEN_CHART_WIDTH)
st.plotly_chart(
    preview, config=plotly_config("preview"), width="stretch", key="set_app_preview", theme=None
)
if st.button(tr("set_save"), disabled=not admin, key="set_app_save"):
    try:
        save_appearance(
            con,
            scope,
            {
                "company_name": company,
                "theme_colors": colors,
                "theme_font": font,
                "default_language": default_lang,
            },
        )
        # Charts of this session read the theme once (ui.downloads.session_theme): reload it.
        # The default language is left alone: it is for new sessions, not the one saving it.
        st.session_state.pop("_export_theme", None)
        st.success(tr("set_saved") + " " + tr("set_app_applies"))
    except KamError as exc:
        show_error(exc)

if scope.role in AUDIT_READERS:
    st.subheader(tr("set_changes"))
    log = list_audit(con, scope, limit=50, action_prefix="settings.", lang=lang)
    if log.empty:
        st.caption(tr("no_data"))
    else:
        show_table(
            log[["at", "username", "action", "target", "old_value", "new_value"]].assign(
                at=[f"{fmt_date(ts, lang)} {pd.Timestamp(ts):%H:%M}" for ts in log["at"]],
                action=[action_label(a, lang) for a in log["action"]],
                old_value=[describe_value(v, lang) for v in log["old_value"]],
                new_value=[describe_value(v, lang) for v in log["new_value"]],
            ),
            labels={
                "at": tr("audit_col_at"),
                "username": tr("audit_col_user"),
                "action": tr("audit_col_action"),
                "target": tr("audit_col_target"),
                "old_value": tr("set_col_old"),
                "new_value": tr("set_col_new"),
            },
        )
