"""Four eyes on survey scores: a KAM's own entries count toward F only once management approves.

Rules:
- A survey (kind 'survey') entered in the app by a user with the role `kam` is stored with a
  review row `pending`; it counts nowhere (F, the satisfaction signal) until management or an
  admin approves it. A rejected entry never counts; it stays stored and audited.
- Surveys entered by management or an admin, and every imported survey (the CRM is the
  source), count at once: they have no review row. Praise and complaints need no approval
  (they move no figure).
- The person who entered a survey can never decide on it; only admin and management decide.
- Approving a survey dated in a closed year is refused (it would change an issued bonus).
The one place that says what counts is the `feedback_counted` view in schema.py.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.audit import write_audit
from kam_analytics.closed_years import require_open_year
from kam_analytics.errors import ConfigError, FourEyesError, NotFoundError, Reason
from kam_analytics.write_log import writing


def needs_approval(scope: Scope, kind: str) -> bool:
    """True when an entry of `kind` by this user waits for management's approval."""
    return scope.role == "kam" and kind == "survey"


def insert_review(con, feedback_id: str, username: str) -> None:
    """Mark a new feedback entry as pending approval."""
    with writing(con, "feedback_reviews"):
        con.execute(
            "INSERT INTO feedback_reviews (feedback_id, status, entered_by, entered_at) "
            "VALUES (?, 'pending', ?, ?)",
            [feedback_id, username, dt.datetime.now()],
        )


def select_reviews(
    con,
    scope: Scope,
    *,
    year: int | None = None,
    kam_id: str | None = None,
    statuses: tuple[str, ...] = ("pending",),
) -> pd.DataFrame:
    """Reviewed survey entries of visible accounts (default: the pending ones), oldest first."""
    return con.execute(
        """
        SELECT f.feedback_id, f.account_id, a.name AS account_name, a.kam_id, f.date,
               CAST(f.score AS DOUBLE) AS score, f.comment, r.status, r.entered_by,
               r.entered_at, r.decided_by, r.decided_at
        FROM feedback_reviews r
        JOIN feedback f USING (feedback_id)
        JOIN accounts a ON a.account_id = f.account_id
        WHERE f.account_id IN (SELECT account_id FROM visible_accounts($k))
          AND ($year IS NULL OR year(f.date) = $year)
          AND ($kam IS NULL OR a.kam_id = $kam)
          AND list_contains($statuses::VARCHAR[], r.status)
        ORDER BY f.date, f.feedback_id
        """,
        {"k": scope.kam_param, "year": year, "kam": kam_id, "statuses": list(statuses)},
    ).df()


def _select_review(con, feedback_id: str, scope: Scope) -> dict:
    rows = con.execute(
        """
        SELECT f.feedback_id, f.account_id, f.date, CAST(f.score AS DOUBLE), r.status,
               r.entered_by
        FROM feedback_reviews r JOIN feedback f USING (feedback_id)
        WHERE r.feedback_id = ?
          AND f.account_id IN (SELECT account_id FROM visible_accounts(?))
        """,
        [feedback_id, scope.kam_param],
    ).fetchall()
    if not rows:
        raise NotFoundError(Reason.SURVEY_NOT_PENDING, feedback_id=feedback_id)
    keys = ("feedback_id", "account_id", "date", "score", "status", "entered_by")
    return dict(zip(keys, rows[0], strict=True))


def _already_decided(feedback_id: str, status: str) -> ConfigError:
    if status == "approved":
        return ConfigError(Reason.SURVEY_ALREADY_APPROVED, feedback_id=feedback_id)
    return ConfigError(Reason.SURVEY_ALREADY_REJECTED, feedback_id=feedback_id)


def decide_survey(con, scope: Scope, feedback_id: str, approve: bool) -> dict:
    """Approve or reject one pending survey entry (admin/management, never its author); logged."""
    scope.require_role("admin", "management")
    review = _select_review(con, feedback_id, scope)
    if review["entered_by"] == scope.username:
        raise FourEyesError(Reason.FOUR_EYES, feedback_id=feedback_id)
    if review["status"] != "pending":
        raise _already_decided(feedback_id, review["status"])
    if approve:
        require_open_year(con, review["date"].year, "survey_approval")
    status = "approved" if approve else "rejected"
    con.execute("BEGIN TRANSACTION")
    try:
        with writing(con, "feedback_reviews"):
            changed = con.execute(
                "UPDATE feedback_reviews SET status = ?, decided_by = ?, decided_at = ? "
                "WHERE feedback_id = ? AND status = 'pending'",
                [status, scope.username, dt.datetime.now(), feedback_id],
            ).fetchall()[0][0]
        if not changed:  # another session decided between our read and this write
            raise _already_decided(feedback_id, _select_review(con, feedback_id, scope)["status"])
        write_audit(
            con,
            scope.username,
            f"feedback.{'approve' if approve else 'reject'}",
            feedback_id,
            {"status": "pending", "entered_by": review["entered_by"]},
            {
                "status": status,
                "account_id": review["account_id"],
                "date": review["date"],
                "score": review["score"],
            },
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {**review, "status": status}


def approve_survey(con, scope: Scope, feedback_id: str) -> dict:
    """Approve a pending survey entry: from now on it counts toward F."""
    return decide_survey(con, scope, feedback_id, approve=True)


def reject_survey(con, scope: Scope, feedback_id: str) -> dict:
    """Reject a pending survey entry: it never counts."""
    return decide_survey(con, scope, feedback_id, approve=False)
