"""The KAM mandate per key account and year: four answers, four 0-100 % ratings, completeness.

- Completeness during the year = share of the four questions answered (non-blank text).
- Mandate score of an account = mean of its four ratings as a share. At year end a missing
  rating counts as 0 % (an account without a mandate row scores 0). During the year only the
  ratings given so far count; an account without any rating has no score yet.
- The KAM answers for their own accounts (accounts.kam_id); admin and management may too.
  Only admin and management rate. The ratings of a closed bonus year cannot be changed
  (closed_years.py).
"""

from __future__ import annotations

import math

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.audit import write_audit
from kam_analytics.closed_years import require_open_year
from kam_analytics.errors import AccessDeniedError, ConfigError, NotFoundError, Reason
from kam_analytics.write_log import writing

QUESTIONS = ("contact", "objectives", "success_measures", "support")
RATINGS = tuple(f"{q}_rating" for q in QUESTIONS)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def mandate_score(ratings, year_end: bool) -> float | None:
    """Mean of the four ratings (0-100) as a share; see the module doc for missing ratings."""
    values = [None if _missing(r) else min(100.0, max(0.0, float(r))) for r in ratings]
    if year_end:
        return sum(v or 0.0 for v in values) / (100.0 * len(QUESTIONS))
    given = [v for v in values if v is not None]
    if not given:
        return None
    return sum(given) / (100.0 * len(given))


def count_answered(answers) -> int:
    """How many answers hold non-blank text."""
    return sum(1 for a in answers if isinstance(a, str) and a.strip())


def select_account_owner(con, account_id: str, scope: Scope) -> dict:
    """The visible account's id, name, tier and KAM, or NotFoundError."""
    rows = con.execute(
        "SELECT account_id, name, tier, kam_id FROM accounts WHERE account_id = ? "
        "AND account_id IN (SELECT account_id FROM visible_accounts(?))",
        [account_id, scope.kam_param],
    ).fetchall()
    if not rows:
        raise NotFoundError(Reason.ACCOUNT_NOT_VISIBLE, account=str(account_id))
    return dict(zip(("account_id", "name", "tier", "kam_id"), rows[0], strict=True))


def get_mandate(con, account_id: str, year: int, scope: Scope) -> dict:
    """The mandate of one account and year: answers and ratings (None where missing)."""
    select_account_owner(con, account_id, scope)
    cols = QUESTIONS + RATINGS
    df = con.execute(
        f"SELECT {', '.join(cols)} FROM mandates WHERE account_id = ? AND year = ?",
        [account_id, int(year)],
    ).df()
    out = {"account_id": account_id, "year": int(year)}
    for c in cols:
        v = df.iloc[0][c] if not df.empty else None
        out[c] = None if _missing(v) else (float(v) if c in RATINGS else str(v))
    return out


def can_answer(scope: Scope, owner_kam: str | None) -> bool:
    """Admin and management answer any mandate, a KAM their own accounts' mandates."""
    if scope.role in ("admin", "management"):
        return True
    return scope.role == "kam" and scope.kam_id is not None and owner_kam == scope.kam_id


def can_rate(scope: Scope) -> bool:
    """Only admin and management rate mandates."""
    return scope.role in ("admin", "management")


def upsert_mandate_columns(con, account_id: str, year: int, values: dict) -> None:
    """Insert the mandate row or update only the given columns (names from QUESTIONS/RATINGS)."""
    cols = [c for c in values if c in QUESTIONS + RATINGS]
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols)
    with writing(con, "mandates"):
        con.execute(
            f"INSERT INTO mandates (account_id, year, {', '.join(cols)}) "
            f"VALUES (?, ?, {', '.join('?' for _ in cols)}) "
            f"ON CONFLICT (account_id, year) DO UPDATE SET {sets}",
            [account_id, int(year), *[values[c] for c in cols]],
        )


def save_mandate_answers(con, scope: Scope, account_id: str, year: int, answers: dict) -> dict:
    """Store the four answers (blank = not answered) of one account and year; logged."""
    owner = select_account_owner(con, account_id, scope)
    if not can_answer(scope, owner["kam_id"]):
        raise AccessDeniedError(
            Reason.MANDATE_ANSWER_DENIED, user=scope.username, account=str(account_id)
        )
    old = get_mandate(con, account_id, year, scope)
    new = {}
    for q in QUESTIONS:
        v = answers.get(q, old[q])
        new[q] = v.strip() if isinstance(v, str) and v.strip() else None
    upsert_mandate_columns(con, account_id, year, new)
    write_audit(
        con,
        scope.username,
        "mandate.answers",
        f"{account_id}/{year}",
        {q: old[q] for q in QUESTIONS},
        new,
    )
    return get_mandate(con, account_id, year, scope)


def save_mandate_ratings(con, scope: Scope, account_id: str, year: int, ratings: dict) -> dict:
    """Store 0-100 ratings (None clears one) of one account and year (management/admin); logged."""
    select_account_owner(con, account_id, scope)
    if not can_rate(scope):
        raise AccessDeniedError(Reason.MANDATE_RATING_DENIED, user=scope.username)
    require_open_year(con, year, "mandate_ratings")  # the ratings of a closed year are issued
    old = get_mandate(con, account_id, year, scope)
    new = {}
    for q in QUESTIONS:
        key = f"{q}_rating"
        v = ratings.get(key, ratings.get(q, old[key]))
        if _missing(v):
            new[key] = None
            continue
        try:
            v = float(v)
        except (TypeError, ValueError) as exc:
            raise ConfigError(Reason.RATING_NOT_NUMBER, key=key, value=str(v)) from exc
        if not 0 <= v <= 100:
            raise ConfigError(Reason.RATING_RANGE, key=key, value=v)
        new[key] = v
    upsert_mandate_columns(con, account_id, year, new)
    write_audit(
        con,
        scope.username,
        "mandate.ratings",
        f"{account_id}/{year}",
        {k: old[k] for k in RATINGS},
        new,
    )
    return get_mandate(con, account_id, year, scope)


def select_mandates(con, scope: Scope, year: int) -> pd.DataFrame:
    """Visible key accounts with their mandate row of `year` (columns None where missing)."""
    cols = ", ".join(f"m.{c}" for c in QUESTIONS + RATINGS)
    return con.execute(
        f"""
        SELECT a.account_id, a.name, a.kam_id, k.name AS kam_name, {cols}
        FROM accounts a
        LEFT JOIN kams k ON k.kam_id = a.kam_id
        LEFT JOIN mandates m ON m.account_id = a.account_id AND m.year = ?
        WHERE a.tier = 'KEY'
          AND a.account_id IN (SELECT account_id FROM visible_accounts(?))
        ORDER BY a.account_id
        """,
        [int(year), scope.kam_param],
    ).df()


def mandate_overview(con, *, year: int, scope: Scope) -> pd.DataFrame:
    """Completeness and scores of every visible key account's mandate in `year`."""
    df = select_mandates(con, scope, year)
    if df.empty:
        return df.assign(answered=[], completeness=[], rated=[], score_so_far=[], score_year_end=[])
    answers = df[list(QUESTIONS)].astype(object).where(df[list(QUESTIONS)].notna(), None)
    df["answered"] = [count_answered(r) for r in answers.itertuples(index=False)]
    df["completeness"] = df["answered"] / len(QUESTIONS)
    ratings = df[list(RATINGS)].astype(float)
    df["rated"] = ratings.notna().sum(axis=1).astype(int)
    df["score_so_far"] = [mandate_score(list(r), False) for r in ratings.itertuples(index=False)]
    df["score_year_end"] = [mandate_score(list(r), True) for r in ratings.itertuples(index=False)]
    return df
