"""The per-account value deck: "Nice that I'm your key account — what do I get from it?"

Assembly only: a short native PowerPoint (python-pptx) with editable text and tables and charts
as PNG pictures. The figures come from metrics.account_value (the same metrics functions the
pages use), the slide toolkit from exports.slides, the charts from exports.deck_charts.
"""

from __future__ import annotations

import datetime as dt

from pptx.util import Inches

from kam_analytics.access import Scope
from kam_analytics.exports import charts
from kam_analytics.exports.deck_charts import (
    MODE_ORDER,
    chart_express,
    chart_ladder,
    chart_revenue,
    chart_services_by_mode,
)
from kam_analytics.exports.slides import (
    CONTENT_BOTTOM,
    CONTENT_TOP,
    MARGIN,
    SLIDE_W,
    add_chart,
    add_kpi_tiles,
    add_slide,
    add_table,
    add_text,
    add_title_slide,
    new_presentation,
    save_presentation,
)
from kam_analytics.exports.theme import TEXT_COLOR, Theme, load_theme
from kam_analytics.glossary import billing_mode_label, tier_label
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_number, fmt_pct, normalise_lang, t
from kam_analytics.metrics.account_value import collect_account_data
from kam_analytics.periods import period_label


def build_account_deck(
    con,
    account_id: str,
    year: int,
    *,
    scope: Scope,
    lang: str = "de",
    as_of: dt.date | None = None,
    out=None,
    theme: Theme | None = None,
) -> bytes:
    """The value deck of one account and year as PPTX bytes (and written to `out` if given)."""
    lang = normalise_lang(lang)
    charts.require_chromium()
    data = collect_account_data(con, account_id, year, scope=scope, as_of=as_of, lang=lang)
    theme = theme or load_theme(con)
    period = period_label(data.start, data.end, lang)
    acc = data.account
    company = theme.company
    footer = "  ·  ".join(x for x in (company, acc["name"], period) if x)
    ctx = new_presentation(theme, lang, footer)
    ctx.prs.core_properties.title = f"{t('deck_title', lang)} – {acc['name']} – {period}"
    ctx.prs.core_properties.author = acc.get("kam_name") or company or ""
    tot = data.totals

    # 1 title
    lines = [
        f"{t('exp_period', lang)}: {period}",
        f"{t('deck_your_kam', lang)}: {acc.get('kam_name') or '–'}"
        + (f"  ·  {acc['kam_email']}" if acc.get("kam_email") else ""),
        f"{t('deck_as_of', lang)} {fmt_date(dt.date.today(), lang)}",
    ]
    add_title_slide(
        ctx, t("deck_kicker", lang, tier=tier_label(acc["tier"] or "", lang)), acc["name"], lines
    )

    # 2 at a glance
    slide = add_slide(ctx, t("deck_glance_title", lang), t("deck_glance_sub", lang, period=period))
    share_free = (
        (tot["value_waived"] + tot["value_silent"]) / tot["list_value"] if tot["list_value"] else 0
    )
    add_kpi_tiles(
        slide,
        ctx,
        [
            (
                fmt_eur(tot["list_value"], lang, 0),
                t("deck_total_value", lang),
                t("deck_n_services", lang, n=fmt_number(tot["events"], lang)),
            ),
            (
                fmt_eur(tot["value_billed"], lang, 0),
                billing_mode_label("billed", lang),
                t("deck_mode_billed_note", lang),
            ),
            (
                fmt_eur(tot["value_waived"], lang, 0),
                billing_mode_label("waived", lang),
                t("deck_mode_waived_note", lang),
            ),
            (
                fmt_eur(tot["value_silent"], lang, 0),
                billing_mode_label("silent", lang),
                t("deck_mode_silent_note", lang),
            ),
        ],
        top=CONTENT_TOP + Inches(0.2),
    )
    statements = [
        t(
            "deck_statement_value",
            lang,
            value=fmt_eur(tot["list_value"], lang, 0),
            free=fmt_eur(tot["value_waived"] + tot["value_silent"], lang, 0),
            share=fmt_pct(share_free, lang, 0),
        ),
        t(
            "deck_statement_express",
            lang,
            n=fmt_number(data.express["shipments"], lang),
            absorbed=fmt_eur(data.express["absorbed"], lang, 0),
        ),
        t(
            "deck_statement_exclusive",
            lang,
            n=fmt_number(int((data.exclusive["events"] > 0).sum()), lang),
            total=fmt_number(len(data.exclusive), lang),
        ),
    ]
    add_text(
        slide,
        ctx,
        MARGIN,
        Inches(3.8),
        SLIDE_W - 2 * MARGIN,
        Inches(2.8),
        statements,
        size=18,
        bullets=True,
    )

    # 3 services by service
    slide = add_slide(ctx, t("deck_services_title", lang), t("deck_services_sub", lang))
    if data.by_service.empty:
        add_text(
            slide,
            ctx,
            MARGIN,
            CONTENT_TOP,
            Inches(10),
            Inches(1),
            t("deck_no_services", lang),
            size=18,
        )
    else:
        add_chart(
            slide,
            ctx,
            chart_services_by_mode(data.by_service, ctx, period),
            MARGIN,
            CONTENT_TOP,
            Inches(7.3),
            CONTENT_BOTTOM - CONTENT_TOP,
        )
        rows = [
            [r["name"], fmt_number(r["quantity"], lang), fmt_eur(r["list_value"], lang)]
            for r in data.by_service.to_dict(orient="records")
        ]
        rows.append(
            [
                t("deck_total", lang),
                fmt_number(data.by_service["quantity"].sum(), lang),
                fmt_eur(tot["list_value"], lang),
            ]
        )
        add_table(
            slide,
            ctx,
            [t("service", lang), t("deck_quantity", lang), t("deck_value", lang)],
            rows,
            MARGIN + Inches(7.5),
            CONTENT_TOP,
            Inches(4.6),
            col_widths=[3.2, 1.1, 1.7],
            right_align=(1, 2),
            size=11 if len(rows) > 10 else 12,
            total_row=True,
        )

    # 4 by billing mode
    slide = add_slide(ctx, t("deck_modes_title", lang), t("deck_modes_sub", lang))
    add_chart(
        slide,
        ctx,
        chart_ladder(data.ladder, ctx, period),
        MARGIN,
        CONTENT_TOP,
        Inches(7.3),
        CONTENT_BOTTOM - CONTENT_TOP,
    )
    ladder = data.ladder.set_index("billing_mode")
    explain = []
    for mode in MODE_ORDER:
        value = float(ladder.at[mode, "list_value"]) if mode in ladder.index else 0.0
        share = float(ladder.at[mode, "share"]) if mode in ladder.index else 0.0
        explain.append(
            f"{billing_mode_label(mode, lang)}: {fmt_eur(value, lang)} ({fmt_pct(share, lang, 0)}) — "
            + t(f"deck_mode_{mode}_explain", lang)
        )
    add_text(
        slide,
        ctx,
        MARGIN + Inches(7.6),
        CONTENT_TOP + Inches(0.3),
        Inches(4.5),
        Inches(4.8),
        explain,
        size=15,
        bullets=True,
    )

    # 5 exclusive services
    slide = add_slide(ctx, t("deck_exclusive_title", lang), t("deck_exclusive_sub", lang))
    rows = [
        [
            r["name"],
            fmt_number(r["events"], lang) if r["events"] else t("deck_available", lang),
            fmt_eur(r["list_value"], lang) if r["events"] else "–",
        ]
        for r in data.exclusive.to_dict(orient="records")
    ]
    excl_total = float(data.exclusive["list_value"].sum())
    rows.append(
        [
            t("deck_total", lang),
            fmt_number(int(data.exclusive["events"].sum()), lang),
            fmt_eur(excl_total, lang),
        ]
    )
    add_table(
        slide,
        ctx,
        [t("deck_exclusive_service", lang), t("deck_times_used", lang), t("deck_value", lang)],
        rows,
        MARGIN,
        CONTENT_TOP,
        Inches(8.2),
        col_widths=[4.6, 1.8, 1.8],
        right_align=(1, 2),
        total_row=True,
    )
    add_text(
        slide,
        ctx,
        MARGIN + Inches(8.6),
        CONTENT_TOP + Inches(0.1),
        Inches(3.5),
        Inches(4.5),
        [
            t("deck_exclusive_note", lang),
            t("deck_exclusive_value_note", lang, value=fmt_eur(excl_total, lang, 0)),
        ],
        size=15,
        color=TEXT_COLOR,
    )

    # 6 express deliveries
    slide = add_slide(ctx, t("deck_express_title", lang), t("deck_express_sub", lang))
    ex = data.express
    add_kpi_tiles(
        slide,
        ctx,
        [
            (fmt_number(ex["shipments"], lang), t("deck_express_count", lang), ""),
            (fmt_eur(ex["list_value"], lang, 0), t("deck_express_value", lang), ""),
            (fmt_eur(ex["charged"], lang, 0), t("deck_express_charged", lang), ""),
            (
                fmt_eur(ex["absorbed"], lang, 0),
                t("deck_express_absorbed", lang),
                t("deck_express_absorbed_note", lang),
            ),
        ],
        top=CONTENT_TOP,
        height=Inches(1.9),
    )
    add_chart(
        slide,
        ctx,
        chart_express(data.express_monthly, ctx, period),
        MARGIN,
        CONTENT_TOP + Inches(2.05),
        SLIDE_W - 2 * MARGIN,
        Inches(3.35),
    )

    # 7 contacts and objectives
    slide = add_slide(ctx, t("deck_mandate_title", lang), t("deck_mandate_sub", lang, year=year))
    m = data.mandate or {}
    blocks = [
        (t("deck_contact_customer", lang), m.get("contact") or t("deck_not_set", lang)),
        (
            t("deck_contact_us", lang),
            ", ".join(x for x in (acc.get("kam_name"), acc.get("kam_email")) if x) or "–",
        ),
        (t("deck_objectives", lang), m.get("objectives") or t("deck_not_set", lang)),
        (t("deck_success_measures", lang), m.get("success_measures") or t("deck_not_set", lang)),
    ]
    col_w = (SLIDE_W - 2 * MARGIN - Inches(0.4)) / 2
    for i, (label, text) in enumerate(blocks):
        left = MARGIN + (i % 2) * (col_w + Inches(0.4))
        top = CONTENT_TOP + Inches(0.2) + (i // 2) * Inches(2.6)
        add_text(
            slide,
            ctx,
            left,
            top,
            col_w,
            Inches(0.45),
            label,
            size=16,
            color=ctx.theme.primary,
            bold=True,
        )
        add_text(slide, ctx, left, top + Inches(0.5), col_w, Inches(1.9), text, size=18)

    # 8 revenue trend
    slide = add_slide(ctx, t("deck_revenue_title", lang), t("deck_revenue_sub", lang))
    add_chart(
        slide,
        ctx,
        chart_revenue(data.revenue, ctx, period_label(data.revenue["month"].min(), data.end, lang)),
        MARGIN,
        CONTENT_TOP,
        SLIDE_W - 2 * MARGIN,
        CONTENT_BOTTOM - CONTENT_TOP,
    )
    return save_presentation(ctx, out)


def deck_filename(account: dict | str, year: int, lang: str = "de") -> str:
    """A file name like 'Leistungsbilanz_K10012_2025.pptx'."""
    account_id = account["account_id"] if isinstance(account, dict) else account
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(account_id))
    return f"{t('deck_file_prefix', lang)}_{safe}_{year}.pptx"
