"""Customer feedback: survey scores (0-10), praise and complaints; entering feedback by hand."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.audit import write_audit
from kam_analytics.errors import ConfigError, NotFoundError, Reason
from kam_analytics.schema import FEEDBACK_KINDS


def list_feedback(
    con,
    *,
    scope: Scope,
    account_id: str | None = None,
    kam_id: str | None = None,
    year: int | None = None,
    until: dt.date | None = None,
    kinds: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Feedback of visible accounts, newest first, optionally of one account/KAM/year/kind."""
    kind_list = list(kinds) if kinds else None
    return con.execute(
        """
        SELECT f.feedback_id, f.account_id, a.name AS account_name, a.kam_id, f.date,
               CAST(f.score AS DOUBLE) AS score, f.kind, f.comment
        FROM feedback f JOIN accounts a USING (account_id)
        WHERE f.account_id IN (SELECT account_id FROM visible_accounts($k))
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
        },
    ).df()


def survey_scores(con, *, scope: Scope, year: int, until: dt.date | None = None) -> pd.DataFrame:
    """Survey scores (0-10) of visible accounts in `year` up to `until` (one row per survey)."""
    df = list_feedback(con, scope=scope, year=year, until=until, kinds=("survey",))
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
    """Enter one feedback item for a visible account; returns its new id. Logged."""
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
    feedback_id = f"UI-{uuid.uuid4().hex[:12]}"
    con.execute(
        "INSERT INTO feedback (feedback_id, account_id, date, score, kind, comment) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [feedback_id, account_id, date, score, kind, comment],
    )
    write_audit(
        con,
        scope.username,
        "feedback.add",
        feedback_id,
        None,
        {"account_id": account_id, "date": date, "kind": kind, "score": score, "comment": comment},
    )
    return feedback_id
