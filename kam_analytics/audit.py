"""The audit log: who changed what, when (old -> new). Every write path calls write_audit.

`list_audit` is the one reader, and `AUDIT_READERS` its one role rule (the audit page, the
settings page's change list, benchmarks and tests all read through it).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from kam_analytics.access import Scope

# The log holds every KAM's pay, ratings and survey approvals: the admins who keep the data and
# management (the second pair of eyes on bonus figures) read it; KAMs do not.
AUDIT_READERS = ("admin", "management")
AUDIT_COLUMNS = [
    "audit_id",
    "at",
    "username",
    "action",
    "target",
    "change",
    "old_value",
    "new_value",
]


def _to_json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def write_audit(con, username: str, action: str, target: str = "", old=None, new=None) -> None:
    """Append one audit entry; old/new are any JSON-serialisable values (never passwords)."""
    con.execute(
        'INSERT INTO audit_log (audit_id, "at", username, action, target, old_value, new_value) '
        "VALUES (nextval('audit_id_seq'), ?, ?, ?, ?, ?, ?)",
        [dt.datetime.now(), username, action, target, _to_json(old), _to_json(new)],
    )


def select_audit(
    con, action: str | None, username: str | None, prefix: str | None, limit: int
) -> pd.DataFrame:
    """Newest audit entries, optionally of one action, one action prefix and/or one user."""
    return con.execute(
        'SELECT audit_id, "at", username, action, target, old_value, new_value FROM audit_log '
        "WHERE (? IS NULL OR action = ?) AND (? IS NULL OR username = ?) "
        "AND (? IS NULL OR starts_with(action, ?)) "
        "ORDER BY audit_id DESC LIMIT ?",
        [action, action, username, username, prefix, prefix, limit],
    ).df()


def list_audit(
    con,
    scope: Scope,
    limit: int = 500,
    action: str | None = None,
    *,
    username: str | None = None,
    action_prefix: str | None = None,
) -> pd.DataFrame:
    """Newest audit entries first with a readable 'change' column (AUDIT_READERS only)."""
    # Refuse here, not only in the page: the command line and every page read through this.
    scope.require_role(*AUDIT_READERS)
    df = select_audit(con, action or None, username or None, action_prefix or None, int(limit))
    df["change"] = [
        describe_change(o, n) for o, n in zip(df["old_value"], df["new_value"], strict=True)
    ]
    return df[AUDIT_COLUMNS]


def audit_choices(con, scope: Scope) -> tuple[list[str], list[str]]:
    """The distinct actions and user names in the audit log, for filters (AUDIT_READERS only)."""
    scope.require_role(*AUDIT_READERS)
    actions = [
        r[0] for r in con.execute("SELECT DISTINCT action FROM audit_log ORDER BY 1").fetchall()
    ]
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT username FROM audit_log WHERE username IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    return actions, names


def _load(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _short(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def describe_change(old_value, new_value) -> str:
    """One line 'key: old → new; …' from the JSON old/new values of an audit entry."""
    old, new = _load(old_value), _load(new_value)
    if isinstance(old, dict) or isinstance(new, dict):
        old_d = old if isinstance(old, dict) else {}
        new_d = new if isinstance(new, dict) else {}
        parts = []
        for key in sorted(set(old_d) | set(new_d)):
            if key in old_d and key in new_d:
                parts.append(f"{key}: {_short(old_d[key])} → {_short(new_d[key])}")
            elif key in new_d and not old_d:
                parts.append(f"{key}: {_short(new_d[key])}")
            elif key in new_d:
                parts.append(f"{key}: – → {_short(new_d[key])}")
            else:
                parts.append(f"{key}: {_short(old_d[key])} → –")
        return "; ".join(parts)
    if old is None and new is None:
        return ""
    return f"{_short(old)} → {_short(new)}"
