"""Who is asking: the scope every metrics query takes, so row-level access is enforced below pages."""

from __future__ import annotations

from dataclasses import dataclass

from kam_analytics.errors import AccessDeniedError, Reason

# A KAM user without a kam_id must see nothing; this id matches no account.
_NO_ACCOUNTS = "\x00no-accounts"


@dataclass(frozen=True)
class Scope:
    """The signed-in user as the query layer sees them: role and, for a KAM, their kam_id."""

    username: str = "system"
    role: str = "admin"  # admin | management | kam
    kam_id: str | None = None

    @classmethod
    def everything(cls, username: str = "system") -> Scope:
        """Unrestricted scope (command line without --as-user, admins, management)."""
        return cls(username=username, role="admin")

    @property
    def sees_all(self) -> bool:
        """True for roles that see every account."""
        return self.role in ("admin", "management")

    @property
    def kam_param(self) -> str | None:
        """Bound parameter for the visible_accounts(k) macro: None means every account."""
        if self.sees_all:
            return None
        return self.kam_id or _NO_ACCOUNTS

    def require_role(self, *roles: str) -> None:
        """Raise AccessDeniedError unless the user has one of `roles`."""
        if self.role not in roles:
            raise AccessDeniedError(
                Reason.ACCESS_DENIED, user=self.username, role=self.role, roles="/".join(roles)
            )


def visible_account_ids(con, scope: Scope) -> list[str]:
    """Account ids the scope may see."""
    rows = con.execute(
        "SELECT account_id FROM visible_accounts(?) ORDER BY account_id", [scope.kam_param]
    ).fetchall()
    return [r[0] for r in rows]
