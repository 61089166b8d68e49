"""The audit log: who changed what, when (old -> new). Every write path calls write_audit."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from kam_analytics.access import Scope


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


def list_audit(con, scope: Scope, limit: int = 500, action: str | None = None) -> pd.DataFrame:
    """Newest audit entries first, optionally of one action (admin and management only)."""
    # The log holds other KAMs' pay and ratings: refuse here, not only in the page.
    scope.require_role("admin", "management")
    return con.execute(
        'SELECT audit_id, "at", username, action, target, old_value, new_value FROM audit_log '
        "WHERE ? IS NULL OR action = ? ORDER BY audit_id DESC LIMIT ?",
        [action, action, limit],
    ).df()
