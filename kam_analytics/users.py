"""Local users, sign-in with throttling, roles, company sign-in mapping and demo users.

Passwords are hashed with bcrypt and never stored, logged or audited in clear. Every change to
a user and every sign-in (good or bad) is written to the audit log, without passwords or hashes.
"""

from __future__ import annotations

import datetime as dt
import re

import bcrypt
import pandas as pd

from kam_analytics import sign_in_sessions
from kam_analytics.access import Scope
from kam_analytics.audit import write_audit
from kam_analytics.db import fetch_one_dict
from kam_analytics.errors import AuthenticationError, ConfigError, NotFoundError, Reason
from kam_analytics.schema import ROLES
from kam_analytics.settings_store import get_setting, upsert_setting
from kam_analytics.write_log import writing

MAX_FAILED_ATTEMPTS = 5
LOCK_MINUTES = 15
BCRYPT_ROUNDS = 12
# Demo passwords are public (documented in the README); a cheaper cost keeps `demo` fast.
DEMO_BCRYPT_ROUNDS = 10
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt only looks at the first 72 bytes: refuse longer ones
DEMO_SETTING = "demo_database"
DEMO_ADMIN = ("admin", "admin", "Administration (Demo)")
DEMO_MANAGEMENT = ("leitung", "management", "Vertriebsleitung (Demo)")

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Failed attempts for names that do not exist, so that throttling looks the same for real and
# made-up names and a locked message does not reveal whether a user exists (per process).
_ghost_failures: dict[str, tuple[int, dt.datetime | None]] = {}
_dummy_hash: bytes | None = None

USER_COLUMNS = (
    "username",
    "display_name",
    "email",
    "role",
    "kam_id",
    "has_password",
    "failed_attempts",
    "locked_until",
    "created_at",
    "last_login",
)


# --- names and passwords ---------------------------------------------------------------------


def normalize_username(name: str) -> str:
    """The stored form of a user name (trimmed, lower case); ConfigError if it is not valid."""
    norm = (name or "").strip().lower()
    if not _USERNAME.match(norm):
        raise ConfigError(Reason.INVALID_USERNAME, name=name)
    return norm


def check_password_policy(password: str) -> None:
    """Raise ConfigError unless the password is 8 characters to 72 bytes long."""
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(Reason.PASSWORD_TOO_SHORT, min=MIN_PASSWORD_LENGTH)
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ConfigError(Reason.PASSWORD_TOO_LONG, max=MAX_PASSWORD_BYTES)
    if "\x00" in password:
        raise ConfigError(Reason.PASSWORD_INVALID)


def hash_password(password: str, rounds: int | None = None) -> str:
    """A bcrypt hash of a password that passed check_password_policy."""
    check_password_policy(password)
    salt = bcrypt.gensalt(rounds or BCRYPT_ROUNDS)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """True if the password matches the hash; always spends one bcrypt check (even without one)."""
    global _dummy_hash
    data = (password or "").encode("utf-8")
    if password_hash and 0 < len(data) <= MAX_PASSWORD_BYTES and b"\x00" not in data:
        try:
            return bcrypt.checkpw(data, password_hash.encode("ascii"))
        except ValueError:
            return False
    # No hash or an impossible password: spend the same time so timing reveals nothing.
    if _dummy_hash is None:
        _dummy_hash = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(BCRYPT_ROUNDS))
    bcrypt.checkpw(b"not-the-password", _dummy_hash)
    return False


# --- queries ---------------------------------------------------------------------------------


def select_user(con, username: str) -> dict | None:
    """One user row as a dict (including the hash, for internal use only), or None."""
    return fetch_one_dict(
        con,
        "SELECT username, display_name, email, role, kam_id, password_hash, failed_attempts, "
        "locked_until, created_at, last_login FROM users WHERE username = ?",
        [username],
    )


def select_usernames_by_email(con, email: str) -> list[str]:
    """User names whose e-mail matches (case-insensitive)."""
    rows = con.execute(
        "SELECT username FROM users WHERE lower(email) = lower(?) ORDER BY username",
        [email.strip()],
    ).fetchall()
    return [r[0] for r in rows]


def select_kam(con, kam_id: str) -> dict | None:
    """The KAM row (kam_id, name, email) or None."""
    rows = con.execute("SELECT kam_id, name, email FROM kams WHERE kam_id = ?", [kam_id]).fetchall()
    return {"kam_id": rows[0][0], "name": rows[0][1], "email": rows[0][2]} if rows else None


def select_kams(con) -> list[tuple[str, str]]:
    """Every (kam_id, name), sorted by kam_id (choices for linking a user to a KAM)."""
    return [
        (r[0], r[1])
        for r in con.execute("SELECT kam_id, name FROM kams ORDER BY kam_id").fetchall()
    ]


def select_kam_ids(con) -> list[str]:
    """Every kam_id, sorted."""
    return [r[0] for r in con.execute("SELECT kam_id FROM kams ORDER BY kam_id").fetchall()]


def count_admins(con) -> int:
    """How many users have the admin role."""
    return con.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchall()[0][0]


def update_failed_attempts(con, username: str, attempts: int, locked_until) -> None:
    """Store the failed-attempt counter and lock time of a user."""
    with writing(con, "users"):
        con.execute(
            "UPDATE users SET failed_attempts = ?, locked_until = ? WHERE username = ?",
            [attempts, locked_until, username],
        )


def update_signed_in(con, username: str, now: dt.datetime) -> None:
    """Reset throttling and record the sign-in time.

    The same user signing in from several browsers at once updates the same row from several
    cursors; DuckDB then refuses all but one ("Conflict on update"). The row is the same for
    each, so the update is retried and, if it keeps conflicting, left to the sign-in that won.
    """
    import time

    import duckdb

    for attempt in range(5):
        try:
            with writing(con, "users"):
                con.execute(
                    "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login = ? "
                    "WHERE username = ?",
                    [now, username],
                )
            return
        except duckdb.TransactionException:
            time.sleep(0.05 * (attempt + 1))


# --- managing users (admins only) ------------------------------------------------------------


def _validate_role(con, role: str, kam_id: str | None) -> str | None:
    """Check role and kam_id together; return the kam_id to store."""
    if role not in ROLES:
        raise ConfigError(Reason.INVALID_ROLE, role=str(role), roles=", ".join(ROLES))
    kam_id = (kam_id or "").strip() or None
    if role == "kam":
        if not kam_id:
            raise ConfigError(Reason.KAM_ID_MISSING)
        if select_kam(con, kam_id) is None:
            known = ", ".join(select_kam_ids(con)[:20]) or "none imported yet"
            raise ConfigError(Reason.KAM_ID_UNKNOWN, kam_id=kam_id, known=known)
        return kam_id
    if kam_id:
        raise ConfigError(Reason.KAM_ID_NOT_ALLOWED, role=role)
    return None


def _validate_email(con, email: str | None, username: str) -> str | None:
    email = (email or "").strip() or None
    if email is None:
        return None
    if not _EMAIL.match(email):
        raise ConfigError(Reason.INVALID_EMAIL, email=email)
    others = [u for u in select_usernames_by_email(con, email) if u != username]
    if others:
        raise ConfigError(Reason.EMAIL_TAKEN, email=email, user=others[0])
    return email


def _public(row: dict) -> dict:
    """A user row without the password hash (what the audit log and lists may show)."""
    return {
        "role": row["role"],
        "kam_id": row["kam_id"],
        "email": row["email"],
        "display_name": row["display_name"],
    }


def _require_user(con, username: str) -> dict:
    row = select_user(con, normalize_username(username))
    if row is None:
        raise NotFoundError(Reason.USER_NOT_FOUND, user=str(username))
    return row


def add_user(
    con,
    username: str,
    role: str,
    *,
    scope: Scope,
    kam_id: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
    password: str | None = None,
    rounds: int | None = None,
) -> None:
    """Create a user; password None makes a company-sign-in-only user. Admins only."""
    scope.require_role("admin")
    name = normalize_username(username)
    if select_user(con, name) is not None:
        raise ConfigError(Reason.USER_EXISTS, user=name)
    kam_id = _validate_role(con, role, kam_id)
    email = _validate_email(con, email, name)
    if not display_name and kam_id:
        display_name = select_kam(con, kam_id)["name"]
    password_hash = hash_password(password, rounds) if password is not None else None
    with writing(con, "users"):
        con.execute(
            "INSERT INTO users (username, display_name, email, role, kam_id, password_hash, "
            "failed_attempts, locked_until, created_at, last_login) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?, NULL)",
            [name, display_name, email, role, kam_id, password_hash, dt.datetime.now()],
        )
    new = {"role": role, "kam_id": kam_id, "email": email, "display_name": display_name}
    new["password"] = "set" if password_hash else "none"
    write_audit(con, scope.username, "user_add", name, None, new)


def change_user(
    con,
    username: str,
    *,
    scope: Scope,
    role: str | None = None,
    kam_id: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
) -> None:
    """Change role (with kam_id), e-mail or display name of a user. Admins only."""
    scope.require_role("admin")
    row = _require_user(con, username)
    new_role = role or row["role"]
    if kam_id is None:
        kam_id = row["kam_id"] if new_role == "kam" else None
    new_kam = _validate_role(con, new_role, kam_id)
    new_email = row["email"] if email is None else _validate_email(con, email, row["username"])
    new_display = row["display_name"] if display_name is None else (display_name.strip() or None)
    if row["role"] == "admin" and new_role != "admin" and count_admins(con) <= 1:
        raise ConfigError(Reason.LAST_ADMIN, user=row["username"])
    with writing(con, "users"):
        con.execute(
            "UPDATE users SET role = ?, kam_id = ?, email = ?, display_name = ? WHERE username = ?",
            [new_role, new_kam, new_email, new_display, row["username"]],
        )
    old = _public(row)
    new = {"role": new_role, "kam_id": new_kam, "email": new_email, "display_name": new_display}
    changed = {k for k in old if old[k] != new[k]}
    if changed & {"role", "kam_id"}:
        # Other rights: every open session of the user ends; the next sign-in gets the new ones.
        sign_in_sessions.end_user_sessions(con, row["username"], "role")
    if changed:
        write_audit(
            con,
            scope.username,
            "user_change",
            row["username"],
            {k: old[k] for k in sorted(changed)},
            {k: new[k] for k in sorted(changed)},
        )


def set_password(
    con, username: str, password: str, *, scope: Scope, rounds: int | None = None
) -> None:
    """Set a new password and lift a sign-in lock. Admins, or the user themselves."""
    row = _require_user(con, username)
    if scope.username != row["username"]:
        scope.require_role("admin")
    password_hash = hash_password(password, rounds)
    with writing(con, "users"):
        con.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL "
            "WHERE username = ?",
            [password_hash, row["username"]],
        )
    # A new password ends every session signed in with the old one (also a stolen cookie's).
    sign_in_sessions.end_user_sessions(con, row["username"], "password")
    write_audit(
        con, scope.username, "user_password", row["username"], None, {"password": "changed"}
    )


def remove_user(con, username: str, *, scope: Scope) -> None:
    """Delete a user (never the last administrator). Admins only."""
    scope.require_role("admin")
    row = _require_user(con, username)
    if row["role"] == "admin" and count_admins(con) <= 1:
        raise ConfigError(Reason.LAST_ADMIN, user=row["username"])
    with writing(con, "users"):
        con.execute("DELETE FROM users WHERE username = ?", [row["username"]])
    sign_in_sessions.end_user_sessions(con, row["username"], "removed")
    write_audit(con, scope.username, "user_remove", row["username"], _public(row), None)


def list_users(con, *, scope: Scope) -> pd.DataFrame:
    """Every user without password hashes, sorted by name. Admins only."""
    scope.require_role("admin")
    df = con.execute(
        "SELECT username, display_name, email, role, kam_id, "
        "password_hash IS NOT NULL AS has_password, failed_attempts, locked_until, created_at, "
        "last_login FROM users ORDER BY username"
    ).df()
    return df[list(USER_COLUMNS)]


# --- signing in and out ----------------------------------------------------------------------


def _scope_of(row: dict) -> Scope:
    return Scope(username=row["username"], role=row["role"], kam_id=row["kam_id"])


def scope_for_user(con, name: str) -> Scope:
    """The scope of an existing user (for --as-user and to refresh a session); NotFoundError."""
    return _scope_of(_require_user(con, name))


def scope_for_email(con, email: str) -> Scope:
    """The scope of the user with this e-mail (company sign-in); NotFoundError if none."""
    names = select_usernames_by_email(con, email or "")
    if not email or len(names) != 1:
        raise NotFoundError(Reason.NO_USER_FOR_EMAIL, email=str(email))
    return scope_for_user(con, names[0])


def _locked_error(until: dt.datetime) -> AuthenticationError:
    err = AuthenticationError(Reason.AUTH_LOCKED, until=until, minutes=LOCK_MINUTES)
    err.locked_until = until
    return err


def _failed_error() -> AuthenticationError:
    return AuthenticationError(Reason.AUTH_FAILED, n=MAX_FAILED_ATTEMPTS, minutes=LOCK_MINUTES)


def authenticate(con, username: str, password: str, now: dt.datetime | None = None) -> Scope:
    """Check name and password; return the user's scope or raise AuthenticationError.

    After MAX_FAILED_ATTEMPTS failures the name is blocked for LOCK_MINUTES minutes; a
    success resets the counter. The error never says whether the name exists.
    """
    now = now or dt.datetime.now()
    typed = (username or "").strip().lower()[:64]
    row = select_user(con, typed) if _USERNAME.match(typed) else None
    if row is None:
        return _fail_unknown(con, typed, password, now)
    locked = row["locked_until"]
    if locked is not None and locked > now:
        write_audit(con, typed, "signin_failed", typed, None, {"reason": "locked"})
        raise _locked_error(locked)
    attempts = 0 if locked is not None else int(row["failed_attempts"] or 0)
    if not verify_password(password, row["password_hash"]):
        attempts += 1
        until = (
            now + dt.timedelta(minutes=LOCK_MINUTES) if attempts >= MAX_FAILED_ATTEMPTS else None
        )
        update_failed_attempts(con, typed, 0 if until else attempts, until)
        write_audit(con, typed, "signin_failed", typed, None, {"reason": "wrong_password"})
        if until:
            write_audit(con, typed, "signin_locked", typed, None, {"locked_until": until})
            raise _locked_error(until)
        raise _failed_error()
    update_signed_in(con, typed, now)
    write_audit(con, typed, "signin", typed, None, {"method": "password"})
    return _scope_of(row)


def _fail_unknown(con, typed: str, password: str, now: dt.datetime) -> Scope:
    """A failed attempt for a name that does not exist, throttled like a real one."""
    verify_password(password, None)
    count, until = _ghost_failures.get(typed, (0, None))
    if until is not None and until > now:
        write_audit(con, typed, "signin_failed", typed, None, {"reason": "locked"})
        raise _locked_error(until)
    count = 0 if until is not None else count
    count += 1
    if len(_ghost_failures) > 10_000:
        _ghost_failures.clear()
    write_audit(con, typed, "signin_failed", typed, None, {"reason": "wrong_password"})
    if count >= MAX_FAILED_ATTEMPTS:
        until = now + dt.timedelta(minutes=LOCK_MINUTES)
        _ghost_failures[typed] = (0, until)
        write_audit(con, typed, "signin_locked", typed, None, {"locked_until": until})
        raise _locked_error(until)
    _ghost_failures[typed] = (count, None)
    raise _failed_error()


def record_company_sign_in(con, email: str, now: dt.datetime | None = None) -> Scope:
    """Map a company (OIDC) sign-in to a user by e-mail, audit it and return the scope."""
    now = now or dt.datetime.now()
    try:
        scope = scope_for_email(con, email)
    except NotFoundError:
        write_audit(con, email, "signin_failed", email, None, {"reason": "no_user_for_email"})
        raise
    update_signed_in(con, scope.username, now)
    write_audit(con, scope.username, "signin", scope.username, None, {"method": "company"})
    return scope


def record_cookie_sign_in(con, username: str) -> Scope:
    """A session restored from the browser's sign-in cookie: audit it like a sign-in."""
    scope = scope_for_user(con, username)
    write_audit(con, scope.username, "signin", scope.username, None, {"method": "cookie"})
    return scope


def sign_out(con, scope: Scope, reason: str = "user") -> None:
    """Audit a sign-out; reason 'user' (button), 'expired' (inactivity), 'removed', 'password'
    or 'role' (an administrator's change ended the session)."""
    write_audit(con, scope.username, "signout", scope.username, None, {"reason": reason})


# --- the demo database -----------------------------------------------------------------------


def demo_password(username: str) -> str:
    """The documented password of a demo user: its name followed by '-demo'."""
    return f"{username}-demo"


def is_demo_database(con) -> bool:
    """True if the database was written by `demo` (the sign-in page may then show demo users)."""
    return get_setting(con, DEMO_SETTING) is True


def mark_demo_database(con) -> None:
    """Set the setting demo_database = true."""
    upsert_setting(con, DEMO_SETTING, True, "demo")


def demo_user_specs(con) -> list[dict]:
    """The demo users: admin, leitung (management) and kam01.. for the KAMs by kam_id."""
    specs = [
        {"username": name, "role": role, "kam_id": None, "email": None, "display_name": label}
        for name, role, label in (DEMO_ADMIN, DEMO_MANAGEMENT)
    ]
    for i, kam_id in enumerate(select_kam_ids(con), 1):
        kam = select_kam(con, kam_id)
        specs.append(
            {
                "username": f"kam{i:02d}",
                "role": "kam",
                "kam_id": kam_id,
                "email": kam["email"],
                "display_name": kam["name"],
            }
        )
    for spec in specs:
        spec["password"] = demo_password(spec["username"])
    return specs


def seed_demo_users(con) -> list[dict]:
    """Create the documented demo users (where missing) and mark the database as a demo."""
    system = Scope.everything("demo")
    for spec in demo_user_specs(con):
        if select_user(con, spec["username"]) is None:
            add_user(
                con,
                spec["username"],
                spec["role"],
                scope=system,
                kam_id=spec["kam_id"],
                email=spec["email"],
                display_name=spec["display_name"],
                password=spec["password"],
                rounds=DEMO_BCRYPT_ROUNDS,
            )
    mark_demo_database(con)
    return demo_credentials(con)


def demo_credentials(con) -> list[dict]:
    """Demo users with their documented passwords, only for a demo database (else [])."""
    if not is_demo_database(con):
        return []
    out = []
    for spec in demo_user_specs(con):
        row = select_user(con, spec["username"])
        # Only users still as seeded (a removed or re-roled user is no longer a demo login).
        if row is None or row["role"] != spec["role"] or row["kam_id"] != spec["kam_id"]:
            continue
        out.append({k: spec[k] for k in ("username", "password", "role", "kam_id", "display_name")})
    return out
