"""The department one-pager (A4 portrait PDF): what a department delivers to which tier, and how,
and what it gave beyond the matrix in the last complete month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.departments import department_findings, department_matrix, last_complete_month
from kam_analytics.exports.matrix_sheet import FONT_BOLD, FONT_REGULAR, HEADER_FILL, POLICY_FILL
from kam_analytics.glossary import department_label, finding_label, policy_label, tier_label
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_month, t
from kam_analytics.metrics.giveaways import FINDINGS
from kam_analytics.periods import resolve_period
from kam_analytics.schema import TIERS

NEXT = {"new_x": "LMARGIN", "new_y": "NEXT"}  # after a paragraph, go on at the left margin


@dataclass
class DepartmentSheet:
    """The content of one department's page."""

    department: str
    year: int
    as_of: dt.date
    month_start: dt.date
    month_end: dt.date
    services: pd.DataFrame  # service_code, name, one policy per tier
    beyond: pd.DataFrame  # per service of the department: findings per kind, leakage


def department_sheet(
    con,
    scope: Scope,
    department: str,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    lang: str = "de",
) -> DepartmentSheet:
    """The rows of one department's page (matrix of `year`, giveaways of the last month)."""
    year, as_of = resolve_period(year, as_of)
    start, end = last_complete_month(as_of)
    matrix = department_matrix(con, year)
    mine = matrix[matrix["department"] == department].copy()
    mine["name"] = mine["name_en" if lang == "en" else "name_de"].fillna(mine["service_code"])
    found = department_findings(con, scope, start=start, end=end)
    found = found[found["department"] == department]
    beyond = []
    for rec in mine.to_dict(orient="records"):
        part = found[found["service_code"] == rec["service_code"]]
        if part.empty:
            continue
        beyond.append(
            {
                "service_code": rec["service_code"],
                "name": rec["name"],
                **{f: int((part["finding"] == f).sum()) for f in FINDINGS},
                "leakage": round(float(part["leakage"].sum()), 2),
            }
        )
    beyond_df = pd.DataFrame(beyond, columns=["service_code", "name", *FINDINGS, "leakage"])
    services = mine[["service_code", "name", *TIERS]].reset_index(drop=True)
    return DepartmentSheet(department, year, as_of, start, end, services, beyond_df)


def department_pdf(
    con,
    scope: Scope,
    department: str,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    lang: str = "de",
) -> bytes:
    """One department's page as an A4 portrait PDF."""
    from fpdf import FPDF

    sheet = department_sheet(con, scope, department, year=year, as_of=as_of, lang=lang)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))

    def rgb(hex_colour: str) -> tuple[int, int, int]:
        h = hex_colour.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

    def fit(width: float, text: str, style: str, size: float) -> None:
        # shrink until the text fits its cell: nothing runs into the next column
        pdf.set_font("DejaVu", style, size)
        while size > 6 and pdf.get_string_width(text) > width - 2:
            size -= 0.5
            pdf.set_font("DejaVu", style, size)

    dep = department_label(department, lang)
    pdf.set_text_color(*rgb(HEADER_FILL))
    pdf.set_font("DejaVu", "B", 18)
    pdf.multi_cell(180, 9, t("dep_sheet_title", lang, department=dep, year=sheet.year), **NEXT)
    pdf.set_text_color(90, 90, 90)
    pdf.set_font("DejaVu", "", 9.5)
    pdf.multi_cell(180, 5, t("dep_sheet_intro", lang, department=dep), **NEXT)
    pdf.ln(3)

    widths = [60] + [30] * len(TIERS)  # 180 mm = A4 portrait minus margins
    row_h = 8.0 if len(sheet.services) <= 12 else 6.0
    pdf.set_fill_color(*rgb(HEADER_FILL))
    pdf.set_text_color(255, 255, 255)
    for w, label in zip(
        widths, [t("service", lang), *(tier_label(x, lang) for x in TIERS)], strict=True
    ):
        fit(w, label, "B", 9.5)
        pdf.cell(w, row_h, label, border=1, fill=True, align="C")
    pdf.ln(row_h)
    pdf.set_text_color(0, 0, 0)
    if sheet.services.empty:
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(sum(widths), row_h, t("dep_no_services", lang), border=1)
        pdf.ln(row_h)
    for rec in sheet.services.to_dict(orient="records"):
        fit(widths[0], str(rec["name"]), "", 9.5)
        pdf.cell(widths[0], row_h, str(rec["name"]), border=1)
        for w, tier in zip(widths[1:], TIERS, strict=True):
            policy = rec[tier]
            label = policy_label(policy, lang)
            pdf.set_fill_color(*rgb(POLICY_FILL.get(policy, "#FFFFFF")))
            fit(w, label, "", 9)
            pdf.cell(w, row_h, label, border=1, fill=True, align="C")
        pdf.ln(row_h)

    pdf.ln(6)
    pdf.set_text_color(*rgb(HEADER_FILL))
    pdf.set_font("DejaVu", "B", 13)
    month = fmt_month(sheet.month_start, lang)
    pdf.multi_cell(180, 7, t("dep_beyond_title", lang, month=month), **NEXT)
    pdf.set_text_color(0, 0, 0)
    if sheet.beyond.empty:
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(180, 6, t("dep_beyond_none", lang, month=month), **NEXT)
    else:
        bw = [60, 30, 30, 30, 30]
        heads = [t("service", lang), *(finding_label(f, lang) for f in FINDINGS)]
        heads.append(t("dep_col_leakage", lang))
        pdf.set_fill_color(*rgb(HEADER_FILL))
        pdf.set_text_color(255, 255, 255)
        for w, label in zip(bw, heads, strict=True):
            fit(w, label, "B", 8.5)
            pdf.cell(w, 8, label, border=1, fill=True, align="C")
        pdf.ln(8)
        pdf.set_text_color(0, 0, 0)
        for rec in sheet.beyond.head(14).to_dict(orient="records"):
            fit(bw[0], str(rec["name"]), "", 9.5)
            pdf.cell(bw[0], 7, str(rec["name"]), border=1)
            for w, f in zip(bw[1:4], FINDINGS, strict=True):
                pdf.set_font("DejaVu", "", 9.5)
                pdf.cell(w, 7, str(rec[f]), border=1, align="R")
            money = fmt_eur(rec["leakage"], lang, 0)
            fit(bw[4], money, "", 9.5)
            pdf.cell(bw[4], 7, money, border=1, align="R")
            pdf.ln(7)
    pdf.set_y(-18)
    pdf.set_text_color(110, 110, 110)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(180, 4, t("dep_footer", lang, as_of=fmt_date(sheet.as_of, lang)), **NEXT)
    return bytes(pdf.output())
