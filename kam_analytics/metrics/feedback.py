"""Customer feedback: survey scores (0-10), praise and complaints; entering feedback by hand.

A survey a KAM enters waits for management's approval before it counts (kam_analytics/
approvals.py); feedback dated in a closed bonus year cannot be entered (closed_years.py).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.approvals import insert_review, needs_approval
from kam_analytics.audit import write_audit
from kam_analytics.closed_years import require_open_year
from kam_analytics.errors import ConfigError, NotFoundError, Reason
from kam_analytics.schema import FEEDBACK_KINDS
from kam_analytics.write_log import writing


def list_feedback(
    con,
    *,
    scope: Scope,
    account_id: str | None = None,
    kam_id: str | None = None,
    year: int | None = None,
    until: dt.date | None = None,
    kinds: tuple[str, ...] | None = None,
    counted_only: bool = False,
) -> pd.DataFrame:
    """Feedback of visible accounts, newest first, optionally of one account/KAM/year/kind.

    `review_status` is pending / approved / rejected for survey entries under four-eyes review,
    else empty; `counted_only` leaves out what does not count (pending, rejected).
    """
    kind_list = list(kinds) if kinds else None
    return con.execute(
        """
        SELECT f.feedback_id, f.account_id, a.name AS account_name, a.kam_id, f.date,
               CAST(f.score AS DOUBLE) AS score, f.kind, f.comment, r.status AS review_status
        FROM feedback f JOIN accounts a USING (account_id)
        LEFT JOIN feedback_reviews r ON r.feedback_id = f.feedback_id
        WHERE f.account_id IN (SELECT account_id FROM visible_accounts($k))
          AND (NOT $counted OR f.feedback_id IN (SELECT feedback_id FROM feedback_counted))
          AND ($acc IS NULL OR f.account_id = $acc)
          AND ($kam IS NULL OR a.kam_id = $kam)
          AND ($year IS NULL OR year(f.date) = $year)
          AND ($until IS NULL OR f.date <= $until)
          AND ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], f.kind))
        ORDER BY f.date DESC NULLS LAST, f.feedback_id DESC
        """,
        {
            "k": scope.kam_param,
            "acc": account_id,
            "kam": kam_id,
            "year": year,
            "until": until,
            "kinds": kind_list,
            "counted": bool(counted_only),
        },
    ).df()


def survey_scores(con, *, scope: Scope, year: int, until: dt.date | None = None) -> pd.DataFrame:
    """Counted survey scores (0-10) of visible accounts in `year` up to `until`, one row each."""
    df = list_feedback(
        con, scope=scope, year=year, until=until, kinds=("survey",), counted_only=True
    )
    return df[df["score"].notna()].reset_index(drop=True)


def praise_quotes(
    con, *, scope: Scope, kam_id: str, year: int | None = None, limit: int = 10
) -> pd.DataFrame:
    """Praise with a comment for the accounts of one KAM, newest first."""
    df = list_feedback(con, scope=scope, kam_id=kam_id, year=year, kinds=("praise",))
    df = df[df["comment"].fillna("").astype(str).str.strip() != ""]
    return df.head(limit).reset_index(drop=True)


def add_feedback(
    con,
    scope: Scope,
    *,
    account_id: str,
    date: dt.date,
    kind: str,
    score: float | None = None,
    comment: str | None = None,
) -> str:
    """Enter one feedback item for a visible account; returns its new id. Logged.

    A KAM's survey waits for approval (approvals.py); a date in a closed year is refused.
    """
    visible = con.execute(
        "SELECT count(*) FROM accounts WHERE account_id = ? "
        "AND account_id IN (SELECT account_id FROM visible_accounts(?))",
        [account_id, scope.kam_param],
    ).fetchall()[0][0]
    if not visible:
        raise NotFoundError(Reason.ACCOUNT_NOT_VISIBLE, account=str(account_id))
    if kind not in FEEDBACK_KINDS:
        raise ConfigError(
            Reason.FEEDBACK_KIND_UNKNOWN, kind=str(kind), kinds=", ".join(FEEDBACK_KINDS)
        )
    if score is not None and isinstance(score, float) and math.isnan(score):
        score = None
    if kind == "survey":
        if score is None or not 0 <= float(score) <= 10:
            raise ConfigError(Reason.SURVEY_SCORE_MISSING)
        score = float(score)
    else:
        score = None if score is None else float(score)
    comment = comment.strip() if isinstance(comment, str) and comment.strip() else None
    if kind != "survey" and not comment:
        raise ConfigError(Reason.FEEDBACK_COMMENT_MISSING)
    if not isinstance(date, dt.date):
        raise ConfigError(Reason.FEEDBACK_DATE_MISSING)
    require_open_year(con, date.year, "feedback")
    feedback_id = f"UI-{uuid.uuid4().hex[:12]}"
    pending = needs_approval(scope, kind)
    # One transaction: a KAM's survey is never stored without its pending review row.
    con.execute("BEGIN TRANSACTION")
    try:
        with writing(con, "feedback"):
            con.execute(
                "INSERT INTO feedback (feedback_id, account_id, date, score, kind, comment) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [feedback_id, account_id, date, score, kind, comment],
            )
        if pending:
            insert_review(con, feedback_id, scope.username)
        write_audit(
            con,
            scope.username,
            "feedback.add",
            feedback_id,
            None,
            {
                "account_id": account_id,
                "date": date,
                "kind": kind,
                "score": score,
                "comment": comment,
                "review": "pending" if pending else None,
            },
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return feedback_id
