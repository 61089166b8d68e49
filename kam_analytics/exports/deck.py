"""The per-account value deck: "Nice that I'm your key account — what do I get from it?"

Assembly only: a short native PowerPoint (python-pptx) with editable text, tables and native
charts (no pictures, no browser). The figures come from metrics.account_value (the same metrics
functions the pages use), the slide toolkit from exports.slides, the charts from
exports.deck_charts.

Two variants, one rule: the **customer deck** (default) shows only what the customer may see —
the services received and their value by service, month and billing mode, what the tier
includes, the exclusive services, express freight covered, the revenue trend and the KAM as
contact. It never shows the mandate (internal objectives, the customer's buyer), internal cost,
margins, risk signals or bonus data. The **internal variant** (`internal=True`) adds the
mandate and the internal cost and risk view for the KAM's preparation, and says "intern" on
every slide and in the file name.
"""

from __future__ import annotations

import datetime as dt

from pptx.util import Inches

from kam_analytics.access import Scope
from kam_analytics.exports.deck_charts import (
    MODE_ORDER,
    chart_express,
    chart_ladder,
    chart_monthly_by_mode,
    chart_revenue,
    chart_services_by_mode,
)
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
from kam_analytics.exports.theme import MUTED_COLOR, TEXT_COLOR, Theme, load_theme
from kam_analytics.glossary import billing_mode_label, policy_label, signal_label, tier_label
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_number, fmt_pct, normalise_lang, t
from kam_analytics.metrics.account_value import AccountDeckData, collect_account_data
from kam_analytics.periods import period_label

# Order of the tier's policies on the "what your tier includes" slide: included first.
POLICY_ORDER = ("free", "waived", "billed")


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
    internal: bool = False,
) -> bytes:
    """The value deck of one account and year as PPTX bytes (and written to `out` if given).

    The customer deck by default; `internal=True` gives the KAM's preparation variant.
    """
    ctx = _assemble(con, account_id, year, scope, lang, as_of, theme, internal)
    return save_presentation(ctx, out)


def deck_slide_titles(
    con,
    account_id: str,
    year: int,
    *,
    scope: Scope,
    lang: str = "de",
    as_of: dt.date | None = None,
    internal: bool = False,
) -> list[str]:
    """The titles of the deck's slides in order (the account page's preview before download)."""
    return list(_assemble(con, account_id, year, scope, lang, as_of, None, internal).slide_titles)


def _assemble(con, account_id, year, scope, lang, as_of, theme, internal):
    lang = normalise_lang(lang)
    data = collect_account_data(con, account_id, year, scope=scope, as_of=as_of, lang=lang)
    theme = theme or load_theme(con)
    period = period_label(data.start, data.end, lang)
    acc = data.account
    marker = t("deck_internal_marker", lang) if internal else ""
    footer = "  ·  ".join(x for x in (theme.company, acc["name"], period, marker) if x)
    ctx = new_presentation(theme, lang, footer)
    title = f"{t('deck_title', lang)} – {acc['name']} – {period}"
    ctx.prs.core_properties.title = f"{title} ({marker})" if internal else title
    ctx.prs.core_properties.author = acc.get("kam_name") or theme.company or ""

    _slide_title(ctx, data, period, internal)
    _slide_glance(ctx, data, period)
    _slide_services(ctx, data, period)
    _slide_modes(ctx, data, period)
    _slide_months(ctx, data, period)
    _slide_tier(ctx, data)
    _slide_exclusive(ctx, data)
    _slide_express(ctx, data, period)
    _slide_revenue(ctx, data)
    _slide_contact(ctx, data)
    if internal:
        _slide_internal_mandate(ctx, data)
        _slide_internal_cost(ctx, data, period)
    return ctx


def _title(ctx, key: str, internal: bool = False) -> str:
    text = t(key, ctx.lang)
    return f"{t('deck_internal_marker', ctx.lang)}: {text}" if internal else text


def _slide_title(ctx, data: AccountDeckData, period: str, internal: bool) -> None:
    acc, lang = data.account, ctx.lang
    kam = acc.get("kam_name") or "–"
    if acc.get("kam_email"):
        kam += f"  ·  {acc['kam_email']}"
    lines = [
        f"{t('exp_period', lang)}: {period}",
        f"{t('deck_your_kam', lang)}: {kam}",
        f"{t('deck_as_of', lang)} {fmt_date(dt.date.today(), lang)}",
    ]
    if internal:
        lines.insert(0, t("deck_internal_note", lang))
    kicker = t("deck_kicker", lang, tier=tier_label(acc["tier"] or "", lang))
    if internal:
        kicker = f"{t('deck_internal_marker', lang).upper()}  ·  {kicker}"
    add_title_slide(ctx, kicker, acc["name"], lines)


def _slide_glance(ctx, data: AccountDeckData, period: str) -> None:
    lang, tot = ctx.lang, data.totals
    slide = add_slide(ctx, t("deck_glance_title", lang), t("deck_glance_sub", lang, period=period))
    free = tot["value_waived"] + tot["value_silent"]
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
            free=fmt_eur(free, lang, 0),
            share=fmt_pct(free / tot["list_value"] if tot["list_value"] else 0, lang, 0),
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


def _no_data(slide, ctx, key: str) -> None:
    add_text(slide, ctx, MARGIN, CONTENT_TOP, Inches(10), Inches(1), t(key, ctx.lang), size=18)


def _slide_services(ctx, data: AccountDeckData, period: str) -> None:
    lang, tot = ctx.lang, data.totals
    slide = add_slide(ctx, t("deck_services_title", lang), t("deck_services_sub", lang))
    if data.by_service.empty:
        _no_data(slide, ctx, "deck_no_services")
        return
    box = (MARGIN, CONTENT_TOP, Inches(6.9), CONTENT_BOTTOM - CONTENT_TOP)
    chart_services_by_mode(slide, ctx, data.by_service, period, box)
    rows = [
        [r["name"], fmt_number(r["quantity"], lang), fmt_eur(r["list_value"], lang, 0)]
        for r in data.by_service.to_dict(orient="records")
    ]
    rows.append(
        [
            t("deck_total", lang),
            fmt_number(data.by_service["quantity"].sum(), lang),
            fmt_eur(tot["list_value"], lang, 0),
        ]
    )
    add_table(
        slide,
        ctx,
        [t("service", lang), t("deck_quantity", lang), t("deck_value", lang)],
        rows,
        MARGIN + Inches(7.1),
        CONTENT_TOP,
        SLIDE_W - 2 * MARGIN - Inches(7.1),
        col_widths=[2.8, 1.1, 1.3],
        right_align=(1, 2),
        size=10 if len(rows) > 10 else 11,
        total_row=True,
    )


def _slide_modes(ctx, data: AccountDeckData, period: str) -> None:
    lang = ctx.lang
    slide = add_slide(ctx, t("deck_modes_title", lang), t("deck_modes_sub", lang))
    box = (MARGIN, CONTENT_TOP, Inches(7.0), CONTENT_BOTTOM - CONTENT_TOP)
    chart_ladder(slide, ctx, data.ladder, period, box)
    ladder = data.ladder.set_index("billing_mode")
    explain = []
    for mode in MODE_ORDER:
        value = float(ladder.at[mode, "list_value"]) if mode in ladder.index else 0.0
        share = float(ladder.at[mode, "share"]) if mode in ladder.index else 0.0
        explain.append(
            f"{billing_mode_label(mode, lang)}: {fmt_eur(value, lang)} ({fmt_pct(share, lang, 0)})"
            f" — {t(f'deck_mode_{mode}_explain', lang)}"
        )
    add_text(
        slide,
        ctx,
        MARGIN + Inches(7.3),
        CONTENT_TOP + Inches(0.3),
        SLIDE_W - 2 * MARGIN - Inches(7.3),
        Inches(4.8),
        explain,
        size=15,
        bullets=True,
    )


def _slide_months(ctx, data: AccountDeckData, period: str) -> None:
    lang = ctx.lang
    slide = add_slide(ctx, t("deck_months_title", lang), t("deck_months_sub", lang))
    if not data.monthly["list_value"].any():
        _no_data(slide, ctx, "deck_no_services")
        return
    box = (MARGIN, CONTENT_TOP, SLIDE_W - 2 * MARGIN, CONTENT_BOTTOM - CONTENT_TOP)
    chart_monthly_by_mode(slide, ctx, data.monthly, period, box)


def _slide_tier(ctx, data: AccountDeckData) -> None:
    lang = ctx.lang
    tier = tier_label(data.account.get("tier") or "", lang)
    slide = add_slide(
        ctx, t("deck_tier_title", lang, tier=tier), t("deck_tier_sub", lang, year=data.year)
    )
    ent = data.entitlements
    if ent.empty:
        _no_data(slide, ctx, "deck_tier_none")
        return
    used = set(data.by_service["service_code"]) if not data.by_service.empty else set()
    order = {p: i for i, p in enumerate(POLICY_ORDER)}
    ent = ent.assign(_o=[order.get(p, 9) for p in ent["policy"]]).sort_values(["_o", "name"])
    rows = [
        [
            r["name"],
            # "free" is the glossary's word; the other two say to the customer how it works
            policy_label("free", lang)
            if r["policy"] == "free"
            else t(f"deck_policy_{r['policy']}", lang),
            t("deck_used_yes", lang) if r["service_code"] in used else "–",
        ]
        for r in ent.to_dict(orient="records")
    ]
    add_table(
        slide,
        ctx,
        [t("service", lang), t("deck_tier_terms", lang), t("deck_used_in_year", lang)],
        rows,
        MARGIN,
        CONTENT_TOP,
        Inches(9.2),
        col_widths=[4.4, 3.4, 1.4],
        right_align=(2,),
        size=11 if len(rows) > 10 else 12,
    )
    add_text(
        slide,
        ctx,
        MARGIN + Inches(9.5),
        CONTENT_TOP + Inches(0.1),
        SLIDE_W - 2 * MARGIN - Inches(9.5),
        Inches(4.5),
        [t(f"deck_policy_{p}_explain", lang) for p in POLICY_ORDER],
        size=13,
        color=TEXT_COLOR,
        bullets=True,
    )


def _slide_exclusive(ctx, data: AccountDeckData) -> None:
    lang = ctx.lang
    slide = add_slide(ctx, t("deck_exclusive_title", lang), t("deck_exclusive_sub", lang))
    rows = [
        [
            r["name"],
            fmt_number(r["events"], lang) if r["events"] else t("deck_available", lang),
            fmt_eur(r["list_value"], lang, 0) if r["events"] else "–",
        ]
        for r in data.exclusive.to_dict(orient="records")
    ]
    excl_total = float(data.exclusive["list_value"].sum())
    rows.append(
        [
            t("deck_total", lang),
            fmt_number(int(data.exclusive["events"].sum()), lang),
            fmt_eur(excl_total, lang, 0),
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
        SLIDE_W - 2 * MARGIN - Inches(8.6),
        Inches(4.5),
        [
            t("deck_exclusive_note", lang),
            t("deck_exclusive_value_note", lang, value=fmt_eur(excl_total, lang, 0)),
        ],
        size=15,
        color=TEXT_COLOR,
    )


def _slide_express(ctx, data: AccountDeckData, period: str) -> None:
    lang, ex = ctx.lang, data.express
    slide = add_slide(ctx, t("deck_express_title", lang), t("deck_express_sub", lang))
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
    box = (MARGIN, CONTENT_TOP + Inches(2.05), SLIDE_W - 2 * MARGIN, Inches(3.35))
    if not ex["shipments"]:
        # An empty chart draws a meaningless axis (0 €, 1 €, 1 €): a sentence says it instead.
        add_text(slide, ctx, *box[:3], Inches(0.6), t("deck_express_none", lang), size=16)
        return
    chart_express(slide, ctx, data.express_monthly, period, box)


def _slide_revenue(ctx, data: AccountDeckData) -> None:
    lang = ctx.lang
    slide = add_slide(ctx, t("deck_revenue_title", lang), t("deck_revenue_sub", lang))
    period = period_label(data.revenue["month"].min(), data.end, lang)
    box = (MARGIN, CONTENT_TOP, SLIDE_W - 2 * MARGIN, CONTENT_BOTTOM - CONTENT_TOP)
    chart_revenue(slide, ctx, data.revenue, period, box)


def _add_label(slide, ctx, left, top, width, text) -> None:
    """A block's heading: one line in the company colour, bold, above its text."""
    add_text(
        slide,
        ctx,
        left,
        top,
        width,
        Inches(0.45),
        text,
        size=16,
        color=ctx.theme.primary,
        bold=True,
    )


def _slide_contact(ctx, data: AccountDeckData) -> None:
    acc, lang = data.account, ctx.lang
    slide = add_slide(ctx, t("deck_contact_title", lang), t("deck_contact_sub", lang))
    lines = [acc.get("kam_name") or "–"]
    if acc.get("kam_email"):
        lines.append(acc["kam_email"])
    _add_label(
        slide,
        ctx,
        MARGIN,
        CONTENT_TOP + Inches(0.4),
        SLIDE_W - 2 * MARGIN,
        t("deck_contact_us", lang),
    )
    add_text(
        slide,
        ctx,
        MARGIN,
        CONTENT_TOP + Inches(0.95),
        SLIDE_W - 2 * MARGIN,
        Inches(1.2),
        lines,
        size=24,
    )
    add_text(
        slide,
        ctx,
        MARGIN,
        CONTENT_TOP + Inches(2.5),
        Inches(10),
        Inches(1.4),
        t("deck_contact_note", lang),
        size=16,
        color=MUTED_COLOR,
    )


def _slide_internal_mandate(ctx, data: AccountDeckData) -> None:
    lang = ctx.lang
    slide = add_slide(
        ctx,
        _title(ctx, "deck_int_mandate_title", internal=True),
        t("deck_int_mandate_sub", lang, year=data.year),
    )
    m = data.mandate or {}
    blocks = [
        (t("deck_int_contact", lang), m.get("contact")),
        (t("deck_int_objectives", lang), m.get("objectives")),
        (t("deck_int_success", lang), m.get("success_measures")),
        (t("deck_int_support", lang), m.get("support")),
    ]
    col_w = (SLIDE_W - 2 * MARGIN - Inches(0.4)) / 2
    for i, (label, text) in enumerate(blocks):
        left = MARGIN + (i % 2) * (col_w + Inches(0.4))
        top = CONTENT_TOP + Inches(0.2) + (i // 2) * Inches(2.6)
        _add_label(slide, ctx, left, top, col_w, label)
        add_text(
            slide,
            ctx,
            left,
            top + Inches(0.5),
            col_w,
            Inches(1.9),
            text or t("deck_not_set", lang),
            size=16,
        )


def _slide_internal_cost(ctx, data: AccountDeckData, period: str) -> None:
    lang, tot = ctx.lang, data.totals
    slide = add_slide(
        ctx,
        _title(ctx, "deck_int_cost_title", internal=True),
        t("deck_int_cost_sub", lang, period=period),
    )
    add_kpi_tiles(
        slide,
        ctx,
        [
            (fmt_eur(tot["cost"], lang, 0), t("deck_int_service_cost", lang), ""),
            (fmt_eur(tot["list_value"], lang, 0), t("deck_total_value", lang), ""),
            (fmt_eur(tot["billed_amount"], lang, 0), billing_mode_label("billed", lang), ""),
            (fmt_eur(tot["unbilled_value"], lang, 0), t("deck_int_unbilled", lang), ""),
        ],
        top=CONTENT_TOP,
    )
    signals = [signal_label(s, lang) for s in data.signals]
    _add_label(
        slide,
        ctx,
        MARGIN,
        CONTENT_TOP + Inches(2.2),
        SLIDE_W - 2 * MARGIN,
        t("deck_int_signals", lang),
    )
    add_text(
        slide,
        ctx,
        MARGIN,
        CONTENT_TOP + Inches(2.7),
        SLIDE_W - 2 * MARGIN,
        Inches(2.2),
        signals or [t("deck_int_no_signals", lang)],
        size=16,
        bullets=bool(signals),
    )


def deck_filename(account: dict | str, year: int, lang: str = "de", internal: bool = False) -> str:
    """A file name like 'Leistungsbilanz_K10012_2025.pptx' ('…_2025_intern.pptx' internally)."""
    account_id = account["account_id"] if isinstance(account, dict) else account
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(account_id))
    suffix = f"_{t('deck_internal_file', lang)}" if internal else ""
    return f"{t('deck_file_prefix', lang)}_{safe}_{year}{suffix}.pptx"
