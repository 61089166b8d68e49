"""Which bonus years are closed, and the guard every write of a year's bonus inputs calls.

A year is closed while `year_closes` holds a row of it without `reopened_at` (closing and
reopening: kam_analytics/bonus_close.py). Writes through the app that would change a closed
year's bonus inputs — survey entries and their approval, mandate ratings, the bonus plan and
KAM pay of that year — call `require_open_year` and are refused with YearClosedError. Imports
are not refused: what they change shows as a difference against the issued statement.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.errors import Reason, YearClosedError

# What a refused write was about; the error's code is year_closed_<what>, its texts
# err_year_closed_<what> / err_year_closed_<what>_hint in locales/bonus.toml.
GUARDED = {
    "feedback": "feedback",
    "survey_approval": "the approval of a survey score",
    "mandate_ratings": "mandate ratings",
    "bonus_plan": "the bonus plan",
    "kam_pay": "KAM pay",
}


def select_year_close(con, year: int) -> dict | None:
    """The close of `year` in force (not reopened): close_id, closed_at, closed_by; or None."""
    rows = con.execute(
        "SELECT close_id, year, closed_at, closed_by FROM year_closes "
        "WHERE year = ? AND reopened_at IS NULL ORDER BY close_id DESC",
        [int(year)],
    ).fetchall()
    if not rows:
        return None
    return dict(zip(("close_id", "year", "closed_at", "closed_by"), rows[0], strict=True))


def select_year_closes(con, year: int | None = None) -> pd.DataFrame:
    """Every close (and reopening) of `year` or of all years, newest first."""
    return con.execute(
        "SELECT close_id, year, closed_at, closed_by, reopened_at, reopened_by, reopen_reason "
        "FROM year_closes WHERE ? IS NULL OR year = ? ORDER BY close_id DESC",
        [year, year],
    ).df()


def is_year_closed(con, year: int) -> bool:
    """True while `year` is closed."""
    return select_year_close(con, year) is not None


def require_open_year(con, year: int, what: str) -> None:
    """Raise YearClosedError when `year` is closed; `what` is a key of GUARDED."""
    close = select_year_close(con, year)
    if close is None:
        return
    closed_at = close["closed_at"]
    closed_on = closed_at.date() if isinstance(closed_at, dt.datetime) else closed_at
    values = {"year": int(year), "closed_on": closed_on, "closed_by": close["closed_by"]}
    # one reason per kind of write, so the message says what can no longer change
    if what == "feedback":
        raise YearClosedError(Reason.YEAR_CLOSED_FEEDBACK, **values)
    if what == "survey_approval":
        raise YearClosedError(Reason.YEAR_CLOSED_SURVEY_APPROVAL, **values)
    if what == "mandate_ratings":
        raise YearClosedError(Reason.YEAR_CLOSED_MANDATE_RATINGS, **values)
    if what == "bonus_plan":
        raise YearClosedError(Reason.YEAR_CLOSED_BONUS_PLAN, **values)
    raise YearClosedError(Reason.YEAR_CLOSED_KAM_PAY, **values)
