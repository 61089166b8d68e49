"""The bonus statement of one KAM as PDF (fpdf2) and XLSX (xlsxwriter).

It opens every figure down to the accounts, ratings and surveys behind it, so that the KAM
can recompute the bonus by hand. For a closed year the page hands in the issued statement and
`issued` (bonus_close.Issued): the statement then says when it was issued and, if today's data
differs, what today's data would give.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

from kam_analytics.exports.cells import safe_workbook, write_cell
from kam_analytics.glossary import signals_text
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_number, fmt_pct, t
from kam_analytics.metrics.bonus import KamStanding, figure_notes, filled_formula, formula_text

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _none(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def issued_rows(issued, lang: str) -> list[tuple[str, object, str]]:
    """Lines of an issued statement: when and by whom, and today's bonus if the data changed."""
    if issued is None:
        return []
    from kam_analytics.bonus_close import difference_text, issued_note

    rows = [(t("st_issued", lang), issued.closed_at.date(), issued_note(issued, lang))]
    diff = difference_text(issued, lang)
    if diff:
        rows.append((t("st_live_bonus", lang), issued.live.bonus, fmt_eur(issued.live.bonus, lang)))
        rows.append((t("st_difference", lang), None, diff))
    return rows


def summary_rows(s: KamStanding, lang: str, issued=None) -> list[tuple[str, object, str]]:
    """(label, raw value, formatted value) lines of the statement's first part."""
    f = s.now
    p = s.plan
    pct = lambda v: fmt_pct(v, lang, 1)  # noqa: E731
    num = lambda v: fmt_number(v, lang, 3)  # noqa: E731
    return [
        *issued_rows(issued, lang),
        (t("st_kam", lang), s.kam_id, f"{s.kam_id} {s.name or ''}".strip()),
        (t("year", lang), s.year, str(s.year)),
        (t("as_of", lang), s.as_of, fmt_date(s.as_of, lang)),
        (t("st_final", lang), s.year_complete, t("ret_yes" if s.year_complete else "ret_no", lang)),
        (t("st_base_salary", lang), _none(s.base_salary), fmt_eur(s.base_salary, lang)),
        (t("st_target_bonus", lang), _none(s.target_bonus), fmt_eur(s.target_bonus, lang)),
        (
            t("st_weights", lang),
            f"{p.w_retention:g}/{p.w_mandate:g}/{p.w_feedback:g}",
            f"w_r {num(p.w_retention)} · w_m {num(p.w_mandate)} · w_f {num(p.w_feedback)}",
        ),
        (t("st_gate", lang), p.retention_gate, pct(p.retention_gate)),
        (t("st_cap", lang), p.cap, num(p.cap)),
        (t("st_accounts_counted", lang), len(s.counted), str(len(s.counted))),
        ("R", f.R, pct(f.R)),
        ("R'", f.R_eff, pct(f.R_eff)),
        ("M", f.M, pct(f.M)),
        ("F", f.F, pct(f.F)),
        (
            t("st_weights_used", lang),
            f"{f.w_r:.4f}/{f.w_m:.4f}/{f.w_f:.4f}",
            f"{num(f.w_r)} · {num(f.w_m)} · {num(f.w_f)}",
        ),
        (t("st_score", lang), f.score, num(f.score)),
        (t("st_score_capped", lang), f.capped_score, num(f.capped_score)),
        (t("bonus_now", lang), f.bonus, fmt_eur(f.bonus, lang)),
        (t("bonus_best", lang), s.best.bonus, fmt_eur(s.best.bonus, lang)),
        (t("bonus_worst", lang), s.worst.bonus, fmt_eur(s.worst.bonus, lang)),
    ]


ACCOUNT_COLUMNS = (
    ("account_id", "st_col_account"),
    ("name", "st_col_name"),
    ("active_start", "st_col_active_start"),
    ("active_end", "st_col_active_end"),
    ("at_risk", "term_state_at_risk"),
    ("signals", "st_col_signals"),
    ("contact_rating", "q_contact"),
    ("objectives_rating", "q_objectives"),
    ("success_measures_rating", "q_success_measures"),
    ("support_rating", "q_support"),
    ("mandate_score", "st_col_mandate_score"),
    ("surveys", "st_col_surveys"),
    ("survey_mean", "st_col_survey_mean"),
)


def account_rows(s: KamStanding) -> list[dict]:
    """The counted accounts (active on 1 January) with every input of R and M."""
    c = s.counted
    rows = []
    for rec in c.to_dict(orient="records"):
        rows.append({k: _none(rec.get(k)) for k, _ in ACCOUNT_COLUMNS})
    return rows


def statement_xlsx(s: KamStanding, lang: str = "de", issued=None) -> bytes:
    """The statement as an Excel workbook: summary, accounts, surveys (`issued`: see above)."""
    buf = io.BytesIO()
    wb = safe_workbook(buf)
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": "#,##0.00 €"})
    share = wb.add_format({"num_format": "0.0%"})
    date_f = wb.add_format({"num_format": "dd.mm.yyyy" if lang == "de" else "yyyy-mm-dd"})
    wrap = wb.add_format({"text_wrap": True})

    ws = wb.add_worksheet(t("st_sheet_bonus", lang))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 90)
    money_labels = {
        t(k, lang)
        for k in (
            "st_base_salary",
            "st_target_bonus",
            "bonus_now",
            "bonus_best",
            "bonus_worst",
            "st_live_bonus",
        )
    }
    share_labels = {"R", "R'", "M", "F", t("st_gate", lang)}
    row = 0
    for label, raw, shown in summary_rows(s, lang, issued):
        write_cell(ws, row, 0, label, bold)
        if isinstance(raw, dt.date):
            ws.write_datetime(row, 1, dt.datetime.combine(raw, dt.time()), date_f)
        elif raw is None:
            ws.write_blank(row, 1, None)
        elif isinstance(raw, bool):
            ws.write_boolean(row, 1, raw)
        elif isinstance(raw, int | float) and label in money_labels:
            ws.write_number(row, 1, float(raw), money)
        elif isinstance(raw, int | float) and label in share_labels:
            ws.write_number(row, 1, float(raw), share)
        else:
            write_cell(ws, row, 1, raw)
        write_cell(ws, row, 2, shown)
        row += 1
    row += 1
    write_cell(ws, row, 0, t("st_formula", lang), bold)
    write_cell(ws, row, 2, formula_text(s.plan, lang), wrap)
    row += 1
    write_cell(ws, row, 0, t("st_formula_filled", lang), bold)
    write_cell(ws, row, 2, filled_formula(s.now, s.plan, lang), wrap)
    for note in figure_notes(s.now, s.plan, lang):
        row += 1
        write_cell(ws, row, 2, note, wrap)
    row += 2
    write_cell(ws, row, 0, t("st_rules", lang), bold)
    write_cell(ws, row, 2, t("st_rules_text", lang), wrap)

    wa = wb.add_worksheet(t("st_sheet_accounts", lang))
    for col, (_key, label) in enumerate(ACCOUNT_COLUMNS):
        write_cell(wa, 0, col, t(label, lang), bold)
        wa.set_column(col, col, 14 if col else 12)
    for r, rec in enumerate(account_rows(s), 1):
        for col, (key, _label) in enumerate(ACCOUNT_COLUMNS):
            v = rec[key]
            if v is None:
                wa.write_blank(r, col, None)
            elif key == "mandate_score":
                wa.write_number(r, col, float(v), share)
            elif key == "signals":
                wa.write(r, col, signals_text(v, lang))
            elif isinstance(v, bool):
                wa.write_boolean(r, col, v)
            elif hasattr(v, "item"):
                write_cell(wa, r, col, v.item())
            else:
                write_cell(wa, r, col, v)

    wsv = wb.add_worksheet(t("st_sheet_surveys", lang))
    heads = ("feedback_id", "st_col_account", "st_col_date", "st_col_score")
    for col, h in enumerate(heads):
        write_cell(wsv, 0, col, t(h, lang) if h.startswith("st_") else h, bold)
        wsv.set_column(col, col, 16)
    for r, rec in enumerate(s.surveys.to_dict(orient="records"), 1):
        write_cell(wsv, r, 0, rec["feedback_id"])
        write_cell(wsv, r, 1, rec["account_id"])
        d = rec["date"]
        if d is not None and not (isinstance(d, float) and math.isnan(d)):
            wsv.write_datetime(r, 2, dt.datetime.combine(_as_date(d), dt.time()), date_f)
        wsv.write_number(r, 3, float(rec["score"]))
    wb.close()
    return buf.getvalue()


def _as_date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return v.to_pydatetime().date()


def _fmt_cell(key: str, v, lang: str) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return t("ret_yes" if v else "ret_no", lang)
    if key.endswith("_rating"):
        return fmt_number(v, lang, 0) + " %"
    if key == "mandate_score":
        return fmt_pct(v, lang, 1)
    if key == "survey_mean":
        return fmt_number(v, lang, 1)
    if key == "surveys":
        return str(int(v))
    if key == "signals":
        return signals_text(v, lang)
    return str(v)


def fit_columns(pdf, family: str, head, body, weights, size: float = 7.5):
    """Font size and column widths (mm) of a full-width table in which no word is broken.

    Every column gets at least its longest word (bold in the header) plus padding; what is
    left of the page width is shared by `weights`. The font shrinks (to 5.5 pt at least) only
    when the longest words do not fit side by side.
    """
    padding = 2 * pdf.c_margin + 0.8

    def need(col: int) -> float:
        pdf.set_font(family, "B", size)
        longest = max((pdf.get_string_width(w) for w in str(head[col]).split()), default=0)
        pdf.set_font(family, "", size)
        for row in body:
            for word in str(row[col]).split():
                longest = max(longest, pdf.get_string_width(word))
        return longest + padding

    while True:
        needs = [need(c) for c in range(len(head))]
        if sum(needs) <= pdf.epw or size <= 5.5:
            break
        size -= 0.25
    spare = max(pdf.epw - sum(needs), 0)
    total = sum(weights)
    widths = [n + spare * w / total for n, w in zip(needs, weights, strict=True)]
    return size, widths


def statement_pdf(
    s: KamStanding, lang: str = "de", praise: list[str] | None = None, issued=None
) -> bytes:
    """The statement as a PDF (A4 landscape): summary, formula filled in, accounts, surveys."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    family = "Helvetica"
    if FONT.exists():
        pdf.add_font("DejaVu", "", str(FONT))
        pdf.add_font("DejaVu", "B", str(FONT_BOLD if FONT_BOLD.exists() else FONT))
        family = "DejaVu"

    def text(v: str) -> str:
        # The core Helvetica font knows only Latin-1: replace what it cannot print.
        if family == "DejaVu":
            return v
        return (
            v.replace("·", "*")
            .replace("≥", ">=")
            .replace("→", "->")
            .replace("–", "-")
            .encode("latin-1", "replace")
            .decode("latin-1")
        )

    pdf.add_page()
    pdf.set_font(family, "B", 15)
    pdf.cell(
        0,
        9,
        text(t("st_title", lang, kam=s.name or s.kam_id, year=s.year)),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(family, "", 9)
    pdf.multi_cell(0, 5, text(t("st_intro", lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(family, "", 10)
    for label, _raw, shown in summary_rows(s, lang, issued):
        pdf.set_font(family, "B", 10)
        pdf.cell(70, 6, text(label))
        pdf.set_font(family, "", 10)
        # the difference against an issued statement is a sentence: let it wrap
        pdf.multi_cell(0, 6, text(shown), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(family, "B", 10)
    pdf.cell(0, 6, text(t("st_formula", lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.multi_cell(0, 6, text(formula_text(s.plan, lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, text(filled_formula(s.now, s.plan, lang)), new_x="LMARGIN", new_y="NEXT")
    for note in figure_notes(s.now, s.plan, lang):
        pdf.multi_cell(
            0,
            6,
            text("• " + note if family == "DejaVu" else "- " + note),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_font(family, "", 8)
    pdf.multi_cell(0, 4.5, text(t("st_rules_text", lang)), new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    pdf.set_font(family, "B", 12)
    pdf.cell(0, 8, text(t("st_sheet_accounts", lang)), new_x="LMARGIN", new_y="NEXT")
    heads = [text(t(label, lang)) for _k, label in ACCOUNT_COLUMNS]
    widths = (17, 40, 16, 16, 17, 52, 17, 17, 18, 17, 18, 14, 15)
    body = [
        [text(_fmt_cell(key, rec[key], lang)) for key, _label in ACCOUNT_COLUMNS]
        for rec in account_rows(s)
    ]
    # Headers wrap between words only: every column is at least as wide as its longest word
    # ("gefährdet", never "gefährde/t"); the font shrinks only if they cannot all fit.
    size, widths = fit_columns(pdf, family, heads, body, widths)
    head_size = body_size = size
    pdf.set_font(family, "", body_size)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="BOLD", size_pt=head_size),
    ) as table:
        r = table.row()
        for h in heads:
            r.cell(h)
        for row in body:
            r = table.row()
            for value in row:
                r.cell(value)
    pdf.ln(3)
    pdf.set_font(family, "B", 12)
    pdf.cell(0, 8, text(t("st_sheet_surveys", lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    if s.surveys.empty:
        pdf.cell(0, 6, text(t("st_no_surveys", lang)), new_x="LMARGIN", new_y="NEXT")
    else:
        with pdf.table(col_widths=(40, 40, 40, 30), text_align="LEFT", width=150) as table:
            r = table.row()
            for h in (
                t("st_col_feedback_id", lang),
                t("st_col_account", lang),
                t("st_col_date", lang),
                t("st_col_score", lang),
            ):
                r.cell(text(h))
            for rec in s.surveys.to_dict(orient="records"):
                r = table.row()
                r.cell(str(rec["feedback_id"]))
                r.cell(str(rec["account_id"]))
                r.cell(fmt_date(_as_date(rec["date"]), lang))
                r.cell(fmt_number(rec["score"], lang, 1))
    if praise:
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.cell(0, 8, text(t("st_praise", lang)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        for q in praise:
            pdf.multi_cell(
                0,
                5,
                text(f"„{q}“" if family == "DejaVu" else f'"{q}"'),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    return bytes(pdf.output())
