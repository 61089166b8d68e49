"""The audit log has one reader with one role rule (kam_analytics.audit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kam_analytics.access import Scope
from kam_analytics.audit import AUDIT_READERS, audit_choices, list_audit, write_audit
from kam_analytics.errors import AccessDeniedError

ROOT = Path(__file__).resolve().parent.parent
SCOPES = {
    "admin": Scope("root", "admin"),
    "management": Scope("chef", "management"),
    "kam": Scope("anna", "kam", "KAM02"),
}


@pytest.fixture
def logged(con):
    write_audit(con, "root", "settings.kam_pay", "KAM01", {"target_bonus": 1}, {"target_bonus": 2})
    write_audit(con, "chef", "mandate.ratings", "K1", None, {"q1_rating": 80})
    write_audit(con, "root", "settings.retention", "retention.window_days", 90, 60)
    return con


@pytest.mark.parametrize("role", sorted(SCOPES))
def test_one_role_rule_for_every_reader(logged, role):
    scope = SCOPES[role]
    if role in AUDIT_READERS:
        assert len(list_audit(logged, scope)) == 3
        assert audit_choices(logged, scope) == (
            ["mandate.ratings", "settings.kam_pay", "settings.retention"],
            ["chef", "root"],
        )
    else:
        with pytest.raises(AccessDeniedError):
            list_audit(logged, scope)
        with pytest.raises(AccessDeniedError):
            audit_choices(logged, scope)


def test_filters_and_readable_change(logged):
    admin = SCOPES["admin"]
    df = list_audit(logged, admin, action_prefix="settings.")
    assert list(df["action"]) == ["settings.retention", "settings.kam_pay"]  # newest first
    assert list(df["change"]) == ["90 → 60", "target_bonus: 1 → 2"]
    assert list(list_audit(logged, admin, username="chef")["target"]) == ["K1"]
    assert list(list_audit(logged, admin, action="settings.kam_pay")["username"]) == ["root"]
    assert len(list_audit(logged, admin, limit=1)) == 1


def test_nobody_else_reads_the_audit_log():
    """Only kam_analytics/audit.py selects from audit_log (writers INSERT through write_audit).

    db.data_version's max(audit_id) is a cache token, not a read of the log's content.
    """
    reads = re.compile(r"(?<!max\(audit_id\) )FROM\s+audit_log", re.IGNORECASE)
    offenders = [
        p.relative_to(ROOT).as_posix()
        for base in ("kam_analytics", "ui", "pages")
        for p in (ROOT / base).rglob("*.py")
        if p.name != "audit.py" and reads.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
