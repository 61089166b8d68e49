"""The management review pack: all key accounts, service value, giveaways, retention, bonus.

Built from the same metrics functions as the pages (services, giveaways, retention, bonus,
overview). Bonus slides show the formula in full and list KAMs alphabetically by name —
never ranked (bonus figures are personal performance data, see DOMAIN.md).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pptx.util import Inches

from kam_analytics.access import Scope
from kam_analytics.exports.deck_charts import chart_leakage, chart_services_by_mode
from kam_analytics.exports.slides import (
    CONTENT_BOTTOM,
    CONTENT_TOP,
    MARGIN,
    SLIDE_W,
    add_kpi_tiles,
    add_slide,
    add_table,
    add_text,
    add_title_slide,
    new_presentation,
    save_presentation,
)
from kam_analytics.exports.theme import MUTED_COLOR, Theme, load_theme
from kam_analytics.glossary import key_accounts_label, signals_text, state_label, tier_label
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_number, fmt_pct, normalise_lang, t
from kam_analytics.metrics import bonus as bonus_metrics
from kam_analytics.metrics.review import collect_review_data
from kam_analytics.periods import period_label

ROWS_PER_SLIDE = 12


def _status(row: dict, lang: str) -> str:
    if row.get("lost") is True:
        return state_label("lost", lang)
    if row.get("at_risk") is True:
        return state_label("at_risk", lang)
    if row.get("retained") is True:
        return state_label("retained", lang)
    if row.get("active_start") is False:
        return state_label("new", lang)
    return "–"


def _chunks(rows: list, size: int = ROWS_PER_SLIDE) -> list[list]:
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


def _ratio(value, lang: str) -> str:
    return "–" if value is None or pd.isna(value) else fmt_pct(value, lang, 0)


def build_review_pack(
    con,
    year: int,
    *,
    scope: Scope,
    lang: str = "de",
    as_of: dt.date | None = None,
    out=None,
    theme: Theme | None = None,
) -> bytes:
    """The management review pack for `year` as PPTX bytes (and written to `out` if given)."""
    scope.require_role("admin", "management")
    lang = normalise_lang(lang)
    data = collect_review_data(con, year, scope=scope, as_of=as_of, lang=lang)
    theme = theme or load_theme(con)
    period = period_label(data.start, data.end, lang)
    footer = "  ·  ".join(
        x for x in (theme.company, t("rp_title", lang), period, t("rp_confidential", lang)) if x
    )
    ctx = new_presentation(theme, lang, footer)
    ctx.prs.core_properties.title = f"{t('rp_title', lang)} {period}"
    key = data.key_accounts

    # 1 title
    add_title_slide(
        ctx,
        t("rp_kicker", lang),
        t("rp_title", lang),
        [
            f"{t('exp_period', lang)}: {period}",
            f"{t('deck_as_of', lang)} {fmt_date(dt.date.today(), lang)}",
            t("rp_confidential_note", lang),
        ],
    )

    # 2 at a glance
    n_key = len(key)
    active_start = (
        int(key["active_start"].fillna(False).astype(bool).sum()) if "active_start" in key else 0
    )
    retained = int(key["retained"].fillna(False).astype(bool).sum()) if "retained" in key else 0
    at_risk = int(key["at_risk"].fillna(False).astype(bool).sum()) if "at_risk" in key else 0
    key_value = float(key["list_value"].fillna(0).sum())
    key_unbilled = float(key["unbilled_value"].fillna(0).sum())
    leakage = float(data.findings["leakage"].sum()) if not data.findings.empty else 0.0
    slide = add_slide(ctx, t("rp_glance_title", lang), t("rp_glance_sub", lang, period=period))
    add_kpi_tiles(
        slide,
        ctx,
        [
            (
                fmt_number(n_key, lang),
                key_accounts_label(lang),
                t("rp_revenue_note", lang, revenue=fmt_eur(float(key["revenue"].sum()), lang, 0)),
            ),
            (
                fmt_eur(key_value, lang, 0),
                t("rp_service_value", lang),
                t("rp_unbilled_note", lang, value=fmt_eur(key_unbilled, lang, 0)),
            ),
            (
                fmt_eur(leakage, lang, 0),
                t("rp_leakage", lang),
                t("rp_findings_note", lang, n=fmt_number(len(data.findings), lang)),
            ),
            (
                _ratio(retained / active_start if active_start else None, lang),
                t("rp_retention", lang),
                t("rp_retention_note", lang, retained=retained, start=active_start, risk=at_risk),
            ),
        ],
        top=CONTENT_TOP + Inches(0.2),
    )
    tier_rows = [
        [
            tier_label(r["tier"], lang),
            fmt_eur(r["list_value"], lang),
            fmt_eur(r["unbilled_value"], lang),
            _ratio(r["unbilled_value"] / r["list_value"] if r["list_value"] else None, lang),
        ]
        for r in data.by_tier.to_dict(orient="records")
    ]
    add_text(
        slide,
        ctx,
        MARGIN,
        Inches(3.65),
        Inches(8),
        Inches(0.4),
        t("rp_by_tier", lang),
        size=15,
        color=ctx.theme.primary,
        bold=True,
    )
    add_table(
        slide,
        ctx,
        [
            t("tier", lang),
            t("rp_service_value", lang),
            t("rp_unbilled", lang),
            t("rp_unbilled_share", lang),
        ],
        tier_rows,
        MARGIN,
        Inches(4.1),
        Inches(8.5),
        col_widths=[2.2, 2, 2, 1.6],
        right_align=(1, 2, 3),
    )

    # 3 key accounts (paged), sorted by name
    key_sorted = key.sort_values("name", key=lambda s: s.str.casefold())
    rows = [
        [
            r["name"],
            r.get("kam_name") or "–",
            fmt_eur(r["revenue"], lang, 0),
            fmt_eur(r.get("list_value"), lang, 0),
            fmt_eur(r.get("unbilled_value"), lang, 0),
            _status(r, lang),
        ]
        for r in key_sorted.to_dict(orient="records")
    ]
    pages = _chunks(rows)
    for i, chunk in enumerate(pages):
        suffix = f" ({i + 1}/{len(pages)})" if len(pages) > 1 else ""
        slide = add_slide(ctx, t("rp_accounts_title", lang) + suffix, t("rp_accounts_sub", lang))
        if not chunk:
            add_text(
                slide, ctx, MARGIN, CONTENT_TOP, Inches(10), Inches(1), t("no_data", lang), size=18
            )
            continue
        add_table(
            slide,
            ctx,
            [
                t("account", lang),
                t("kam", lang),
                t("rp_revenue", lang),
                t("rp_service_value", lang),
                t("rp_unbilled", lang),
                t("rp_status", lang),
            ],
            chunk,
            MARGIN,
            CONTENT_TOP,
            SLIDE_W - 2 * MARGIN,
            col_widths=[3.6, 2.2, 1.6, 1.6, 1.6, 1.5],
            right_align=(2, 3, 4),
            size=12,
        )

    # 4 service value by service
    slide = add_slide(ctx, t("rp_services_title", lang), t("rp_services_sub", lang))
    if data.by_service.empty:
        add_text(
            slide, ctx, MARGIN, CONTENT_TOP, Inches(10), Inches(1), t("no_data", lang), size=18
        )
    else:
        box = (MARGIN, CONTENT_TOP, SLIDE_W - 2 * MARGIN, CONTENT_BOTTOM - CONTENT_TOP)
        chart_services_by_mode(slide, ctx, data.by_service, period, box)

    # 5 giveaways
    slide = add_slide(ctx, t("rp_giveaways_title", lang), t("rp_giveaways_sub", lang))
    if data.findings.empty:
        add_text(
            slide,
            ctx,
            MARGIN,
            CONTENT_TOP,
            Inches(10),
            Inches(1),
            t("rp_no_findings", lang),
            size=18,
        )
    else:
        if (data.leakage_by_service["leakage"] > 0).any():
            box = (MARGIN, CONTENT_TOP, Inches(5.7), CONTENT_BOTTOM - CONTENT_TOP)
            chart_leakage(slide, ctx, data.leakage_by_service, period, box)
        top = data.leakage_by_account.head(8)
        rows = [
            [
                r["account_name"],
                tier_label(r["tier"], lang),
                fmt_number(r["n_off_policy"] + r["n_giveaway"] + r["n_invisible"], lang),
                fmt_eur(r["leakage"], lang, 0),
            ]
            for r in top.to_dict(orient="records")
        ]
        left = MARGIN + Inches(5.9)
        add_text(
            slide,
            ctx,
            left,
            CONTENT_TOP,
            Inches(6.2),
            Inches(0.4),
            t("rp_top_leakage", lang),
            size=14,
            color=ctx.theme.primary,
            bold=True,
        )
        add_table(
            slide,
            ctx,
            [
                t("account", lang),
                t("rp_tier_short", lang),
                t("rp_findings", lang),
                t("rp_leakage", lang),
            ],
            rows,
            left,
            CONTENT_TOP + Inches(0.45),
            Inches(6.2),
            col_widths=[3.0, 1.0, 1.1, 1.3],
            right_align=(2, 3),
            size=11,
        )
        counts = data.findings["finding"].value_counts()
        add_text(
            slide,
            ctx,
            left,
            # under the tallest the table can grow (8 rows of two-line names), never into it
            Inches(6.35),
            Inches(6.2),
            Inches(0.5),
            t(
                "rp_findings_by_kind",
                lang,
                off=fmt_number(counts.get("off_policy", 0), lang),
                give=fmt_number(counts.get("giveaway", 0), lang),
                inv=fmt_number(counts.get("invisible", 0), lang),
            ),
            size=11,
            color=MUTED_COLOR,
        )

    # 6 retention
    slide = add_slide(ctx, t("rp_retention_title", lang), t("rp_retention_sub", lang))
    lost = int(key["lost"].fillna(False).astype(bool).sum()) if "lost" in key else 0
    add_kpi_tiles(
        slide,
        ctx,
        [
            (fmt_number(active_start, lang), t("rp_active_start", lang), ""),
            (fmt_number(retained, lang), state_label("retained", lang), ""),
            (fmt_number(lost, lang), state_label("lost", lang), ""),
            (fmt_number(at_risk, lang), state_label("at_risk", lang), t("rp_at_risk_note", lang)),
        ],
        top=CONTENT_TOP,
        height=Inches(1.75),
    )
    risky = (
        key_sorted[key_sorted["at_risk"].fillna(False).astype(bool)]
        if "at_risk" in key_sorted
        else key_sorted.iloc[0:0]
    )
    rows = [
        [r["name"], r.get("kam_name") or "–", signals_text(r.get("signals"), lang)]
        for r in risky.to_dict(orient="records")
    ]
    shown = rows[:8]
    if shown:
        add_table(
            slide,
            ctx,
            [t("account", lang), t("kam", lang), t("rp_signals", lang)],
            shown,
            MARGIN,
            CONTENT_TOP + Inches(1.9),
            SLIDE_W - 2 * MARGIN,
            col_widths=[3.6, 2.0, 6.4],
            size=11,
        )
        if len(rows) > len(shown):
            add_text(
                slide,
                ctx,
                MARGIN,
                Inches(6.55),
                Inches(10),
                Inches(0.35),
                t("rp_more_at_risk", lang, n=len(rows) - len(shown)),
                size=11,
                color=MUTED_COLOR,
            )
    else:
        add_text(
            slide,
            ctx,
            MARGIN,
            CONTENT_TOP + Inches(1.8),
            Inches(10),
            Inches(0.6),
            t("rp_no_risk", lang),
            size=16,
        )

    # 7 bonus: the formula
    plan = data.standings[0].plan if data.standings else None
    slide = add_slide(ctx, t("rp_bonus_formula_title", lang), t("rp_bonus_formula_sub", lang))
    if plan is not None:
        add_text(
            slide,
            ctx,
            MARGIN,
            CONTENT_TOP + Inches(0.1),
            SLIDE_W - 2 * MARGIN,
            Inches(0.8),
            bonus_metrics.formula_text(plan, lang),
            size=20,
            color=ctx.theme.primary,
            bold=True,
        )
    add_text(
        slide,
        ctx,
        MARGIN,
        CONTENT_TOP + Inches(1.1),
        SLIDE_W - 2 * MARGIN,
        Inches(3.6),
        [
            t("rp_bonus_r", lang),
            t("rp_bonus_m", lang),
            t("rp_bonus_f", lang),
            t("rp_bonus_gate_cap", lang),
            t("rp_bonus_range", lang),
        ],
        size=15,
        bullets=True,
    )
    add_text(
        slide,
        ctx,
        MARGIN,
        Inches(6.2),
        SLIDE_W - 2 * MARGIN,
        Inches(0.6),
        t("rp_bonus_not_ranked", lang),
        size=13,
        color=MUTED_COLOR,
    )

    # 8 bonus standing, KAMs alphabetically (paged)
    rows = []
    for s in data.standings:
        rows.append(
            [
                s.name or s.kam_id,
                fmt_number(len(s.counted), lang),
                _ratio(s.now.R, lang),
                _ratio(s.now.M, lang),
                _ratio(s.now.F, lang),
                fmt_eur(s.target_bonus, lang, 0),
                fmt_eur(s.now.bonus, lang, 0),
                "–"
                if s.year_complete
                else f"{fmt_eur(s.worst.bonus, lang, 0)} – {fmt_eur(s.best.bonus, lang, 0)}",
            ]
        )
    pages = _chunks(rows)
    for i, chunk in enumerate(pages):
        suffix = f" ({i + 1}/{len(pages)})" if len(pages) > 1 else ""
        slide = add_slide(ctx, t("rp_bonus_title", lang) + suffix, t("rp_bonus_sub", lang))
        if plan is not None:
            add_text(
                slide,
                ctx,
                MARGIN,
                CONTENT_TOP - Inches(0.05),
                SLIDE_W - 2 * MARGIN,
                Inches(0.4),
                bonus_metrics.formula_text(plan, lang),
                size=13,
                color=ctx.theme.primary,
            )
        if not chunk:
            add_text(
                slide,
                ctx,
                MARGIN,
                CONTENT_TOP + Inches(0.6),
                Inches(10),
                Inches(1),
                t("no_data", lang),
                size=18,
            )
            continue
        add_table(
            slide,
            ctx,
            [
                t("kam", lang),
                t("rp_bonus_accounts", lang),
                "R",
                "M",
                "F",
                t("rp_target_bonus", lang),
                t("rp_bonus_now", lang),
                t("rp_bonus_range_col", lang),
            ],
            chunk,
            MARGIN,
            CONTENT_TOP + Inches(0.5),
            SLIDE_W - 2 * MARGIN,
            col_widths=[2.6, 1.2, 0.9, 0.9, 0.9, 1.5, 1.5, 2.5],
            right_align=(1, 2, 3, 4, 5, 6, 7),
            size=12,
        )
    return save_presentation(ctx, out)


def review_filename(year: int, lang: str = "de") -> str:
    """A file name like 'Management-Review_2025.pptx'."""
    return f"{t('rp_file_prefix', lang)}_{year}.pptx"
