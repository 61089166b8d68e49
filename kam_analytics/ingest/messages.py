"""Import problems, import errors and results in the interface language.

Problem.message/hint and KamError.message/hint stay English: the command line prints them and
scripts parse them. Every text is its reason's in the one catalogue, locales/errors.toml
(kam_analytics.errors: `localise_problem`, `localise_error`); this module puts the findings
into lines and tables with the words of locales/import_report.toml around them.
"""

from __future__ import annotations

import pandas as pd

from kam_analytics.errors import KamError, Problem, localise_error, localise_problem
from kam_analytics.i18n import t
from kam_analytics.ingest.validate import REPORT_COLUMNS, problems_frame

__all__ = ["localise_error", "localise_problem"]


def error_text(exc: KamError, lang: str) -> str:
    """An error as one line, like str(exc), in `lang`."""
    message, hint = localise_error(exc, lang)
    return f"{message} — {hint}" if hint else message


def problem_text(problem: Problem, lang: str) -> str:
    """A problem as one line with its location, like str(problem), in `lang`."""
    message, hint = localise_problem(problem, lang)
    where = problem.file
    if problem.sheet:
        where += f", {t('prob_where_sheet', lang)} {problem.sheet!r}"
    if problem.row is not None:
        where += f", {t('prob_where_row', lang)} {problem.row}"
    if problem.column:
        where += f", {t('prob_where_column', lang)} {problem.column!r}"
    val = ""
    if problem.value not in (None, ""):
        val = f" ({t('prob_where_value', lang)} {problem.value!r})"
    return f"{where}: {message}{val}. {hint}"


def localised_problems_frame(problems: list[Problem], lang: str) -> pd.DataFrame:
    """The validation report in `lang`: texts and severities translated, headers translated."""
    # problems_frame sorts errors first by the code "error": translate severity afterwards.
    frame = problems_frame(problems, texts=[localise_problem(p, lang) for p in problems])
    if not frame.empty:
        is_error = frame["severity"] == "error"
        frame["severity"] = [
            t("prob_sev_error" if e else "prob_sev_warning", lang) for e in is_error
        ]
    return frame.rename(columns={c: t(f"prob_col_{c}", lang) for c in REPORT_COLUMNS})


def result_text(result, lang: str) -> str:
    """ImportResult.summary() in `lang`."""
    where = result.file_name + (f" [{result.sheet}]" if result.sheet else "")
    if result.status == "noop":
        return t("prob_result_noop", lang, where=where, id=result.previous_import_id)
    errors = sum(1 for p in result.problems if p.severity == "error")
    if result.status == "blocked":
        return t("prob_result_blocked", lang, where=where, table=result.table, n=errors)
    key = "prob_result_dry_run" if result.status == "dry_run" else "prob_result_done"
    text = t(
        key,
        lang,
        where=where,
        table=result.table,
        id=result.import_id,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
        rejected=result.rejected,
    )
    warn = len(result.problems) - errors
    return text + (t("prob_result_warnings", lang, n=warn) if warn else "")


def grouped_problems_frame(problems: list[Problem], lang: str, limit: int = 12) -> pd.DataFrame:
    """One line per distinct cause (reason, column, value, message) with its row count and
    first rows, in `lang`; the full per-row report is localised_problems_frame."""
    from kam_analytics.ingest.problems import group_problems

    records = []
    for problem, rows in group_problems(problems):
        message, hint = localise_problem(problem, lang)
        shown = ", ".join(map(str, rows[:limit])) + (", …" if len(rows) > limit else "")
        records.append(
            {
                "severity": t(
                    "prob_sev_error" if problem.severity == "error" else "prob_sev_warning", lang
                ),
                "column": problem.column or "",
                "value": problem.value or "",
                "message": message,
                "count": len(rows),
                "rows": shown,
                "fix": hint,
                "_order": 0 if problem.severity == "error" else 1,
            }
        )
    frame = pd.DataFrame(
        records,
        columns=["severity", "column", "value", "message", "count", "rows", "fix", "_order"],
    )
    frame = frame.sort_values("_order", kind="stable").drop(columns="_order")
    return frame.rename(columns={c: t(f"prob_grp_{c}", lang) for c in frame.columns})
