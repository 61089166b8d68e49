"""Sign-in sessions: the server-side record behind the browser's sign-in cookie.

A sign-in creates one record (table `sign_in_sessions`) and a cookie value
`<session id>.<expires>.<signature>`: a random id, the cookie's own expiry (Unix seconds) and an
HMAC-SHA256 over both with a key kept in the database (`sign_in_keys`, created once). The
cookie is set by the page's JavaScript, so it cannot be HttpOnly; that is why the record, not
the cookie, decides: a cookie is accepted only while its record is live (not signed out, not
idle for longer than the idle limit, user unchanged). Only a hash of the id is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass

import duckdb

from kam_analytics.db import fetch_one_dict
from kam_analytics.i18n import normalise_lang
from kam_analytics.write_log import writing

COOKIE_NAME = "kam_session"
IDLE_HOURS = 8  # a session idle for longer ends (the sign-in page says so)
COOKIE_HOURS = 12  # a cookie restores a session for at most one working day after sign-in
TOUCH_SECONDS = 60  # last_seen is written at most once a minute per session
KEEP_DAYS = 30  # ended and idle records older than this are deleted at the next sign-in
# Tests shorten the idle limit for a real server (seconds); never set in production.
IDLE_ENV = "KAM_SIGN_IN_IDLE_SECONDS"
_KEY_NAME = "cookie"
_MAX_COOKIE = 200  # longer values are refused before any parsing


@dataclass(frozen=True)
class SignIn:
    """A started session: its record's key and the value for the browser's cookie."""

    session_hash: str
    cookie: str
    max_age: int  # seconds the browser keeps the cookie


@dataclass(frozen=True)
class SessionCheck:
    """The state of a session record: live (with its user) or ended, and why."""

    live: bool
    username: str | None = None
    reason: str | None = None  # user | expired | removed | password | role | unknown
    method: str | None = None  # how the session was signed in: password | company
    ended_now: bool = False  # this check ended it (idle too long, user gone)


def idle_limit() -> dt.timedelta:
    """How long a session may stay idle: IDLE_HOURS (tests shorten it through $KAM_SIGN_IN_IDLE_SECONDS)."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return dt.timedelta(seconds=int(raw))
    return dt.timedelta(hours=IDLE_HOURS)


def hash_session_id(session_id: str) -> str:
    """The stored form of a session id (sha256, hex)."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


# --- the signing key -------------------------------------------------------------------------


def select_signing_key(con) -> str | None:
    """The stored cookie-signing key, or None before the first sign-in."""
    rows = con.execute("SELECT secret FROM sign_in_keys WHERE name = ?", [_KEY_NAME]).fetchall()
    return rows[0][0] if rows else None


def insert_signing_key(con, secret: str) -> None:
    """Store the cookie-signing key unless one exists (a concurrent first sign-in keeps its own)."""
    with writing(con, "sign_in_keys"):
        con.execute(
            "INSERT OR IGNORE INTO sign_in_keys (name, secret, created_at) VALUES (?, ?, ?)",
            [_KEY_NAME, secret, dt.datetime.now()],
        )


def get_signing_key(con) -> bytes:
    """The key that signs cookies, created on first use."""
    secret = select_signing_key(con)
    if secret is None:
        try:
            insert_signing_key(con, secrets.token_hex(32))
        except (duckdb.TransactionException, duckdb.ConstraintException):
            # another session created it at the same moment: DuckDB refuses the second insert
            # (OR IGNORE does not cover a key committed meanwhile), its key is the one to use
            pass
        secret = select_signing_key(con)
    return bytes.fromhex(secret)


# --- cookie values ---------------------------------------------------------------------------


def _signature(key: bytes, session_id: str, expires: int) -> str:
    digest = hmac.new(key, f"v1|{session_id}|{expires}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_cookie(key: bytes, session_id: str, expires: int) -> str:
    """The cookie value for a session id that expires at `expires` (Unix seconds)."""
    return f"{session_id}.{expires}.{_signature(key, session_id, expires)}"


def read_cookie(key: bytes, value: str | None, now: float | None = None) -> str | None:
    """The session id of a well-signed, unexpired cookie value; None for anything else."""
    if not value or len(value) > _MAX_COOKIE:
        return None
    parts = value.split(".")
    if len(parts) != 3:
        return None
    session_id, expires, signature = parts
    if not session_id or not expires.isascii() or not expires.isdigit():
        return None
    if not session_id.isascii() or not signature.isascii():
        return None
    if not hmac.compare_digest(signature, _signature(key, session_id, int(expires))):
        return None
    if int(expires) <= (time.time() if now is None else now):
        return None
    return session_id


# --- records ---------------------------------------------------------------------------------


def insert_session(
    con, session_hash: str, username: str, method: str, now: dt.datetime, lang: str | None = None
) -> None:
    """One new, live session record."""
    with writing(con, "sign_in_sessions"):
        con.execute(
            "INSERT INTO sign_in_sessions (session_hash, username, method, created_at, "
            "last_seen, ended_at, end_reason, lang) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
            [session_hash, username, method, now, now, lang and normalise_lang(lang)],
        )


def select_session(con, session_hash: str) -> dict | None:
    """A session record joined with whether its user still exists, or None."""
    return fetch_one_dict(
        con,
        "SELECT s.username, s.method, s.created_at, s.last_seen, s.ended_at, s.end_reason, "
        "s.lang, u.username IS NOT NULL AS user_exists FROM sign_in_sessions s "
        "LEFT JOIN users u ON u.username = s.username WHERE s.session_hash = ?",
        [session_hash],
    )


def update_last_seen(con, session_hash: str, now: dt.datetime) -> None:
    """Record activity; a conflict with another tab touching the same record is harmless."""
    try:
        with writing(con, "sign_in_sessions"):
            con.execute(
                "UPDATE sign_in_sessions SET last_seen = ? "
                "WHERE session_hash = ? AND ended_at IS NULL",
                [now, session_hash],
            )
    except duckdb.TransactionException:
        pass  # another tab of the same sign-in wrote a last_seen just now


def update_session_language(con, session_hash: str, lang: str) -> None:
    """Store the language chosen in a live session (a reload shows the same language)."""
    try:
        with writing(con, "sign_in_sessions"):
            con.execute(
                "UPDATE sign_in_sessions SET lang = ? WHERE session_hash = ? AND ended_at IS NULL",
                [normalise_lang(lang), session_hash],
            )
    except duckdb.TransactionException:
        pass  # another tab of the same sign-in wrote at this moment; its next change stores it


def _update_ended(con, where: str, params: list, reason: str, now: dt.datetime) -> int:
    """End the live records matching `where`; retried on a write conflict (must not be lost)."""
    sql = (
        "UPDATE sign_in_sessions SET ended_at = ?, end_reason = ? "
        f"WHERE ended_at IS NULL AND {where} RETURNING session_hash"
    )
    for attempt in range(10):
        try:
            with writing(con, "sign_in_sessions"):
                return len(con.execute(sql, [now, reason, *params]).fetchall())
        except duckdb.TransactionException:
            if attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))
    return 0


def delete_old_sessions(con, before: dt.datetime) -> None:
    """Forget records that ended, or were last used, before `before`."""
    with writing(con, "sign_in_sessions"):
        con.execute(
            "DELETE FROM sign_in_sessions WHERE coalesce(ended_at, last_seen) < ?",
            [before],
        )


# --- what the app calls ----------------------------------------------------------------------


def start_session(
    con, username: str, method: str, now: dt.datetime | None = None, lang: str | None = None
) -> SignIn:
    """Create the record of a new sign-in (with the language chosen so far) and its cookie."""
    now = now or dt.datetime.now()
    session_id = secrets.token_urlsafe(32)
    session_hash = hash_session_id(session_id)
    try:
        delete_old_sessions(con, now - dt.timedelta(days=KEEP_DAYS))
    except duckdb.TransactionException:
        pass  # a concurrent sign-in is cleaning up
    insert_session(con, session_hash, username, method, now, lang)
    max_age = COOKIE_HOURS * 3600
    expires = int(now.timestamp()) + max_age
    return SignIn(session_hash, sign_cookie(get_signing_key(con), session_id, expires), max_age)


def check_session(con, session_hash: str | None, now: dt.datetime | None = None) -> SessionCheck:
    """Is the session live? Ends it (reason 'expired') once idle too long; records activity."""
    now = now or dt.datetime.now()
    row = select_session(con, session_hash) if session_hash else None
    if row is None:
        return SessionCheck(False, reason="unknown")
    user, method = row["username"], row["method"]
    if row["ended_at"] is not None:
        return SessionCheck(False, user, row["end_reason"] or "user", method)
    if not row["user_exists"]:
        ended = end_session(con, session_hash, "removed", now)
        return SessionCheck(False, user, "removed", method, ended)
    idle = now - row["last_seen"]
    limit = idle_limit()
    if idle > limit:
        ended = end_session(con, session_hash, "expired", now)
        return SessionCheck(False, user, "expired", method, ended)
    # Often enough that a short (test) idle limit still sees the activity.
    if idle.total_seconds() >= min(TOUCH_SECONDS, limit.total_seconds() / 4):
        update_last_seen(con, session_hash, now)
    return SessionCheck(True, user, method=method)


def session_from_cookie(
    con, value: str | None, now: dt.datetime | None = None
) -> tuple[str | None, SessionCheck]:
    """(record key, state) for a cookie value; a forged, tampered or expired cookie is 'unknown'."""
    now = now or dt.datetime.now()
    if not value or select_signing_key(con) is None:
        return None, SessionCheck(False, reason="unknown")
    session_id = read_cookie(get_signing_key(con), value, now.timestamp())
    if session_id is None:
        return None, SessionCheck(False, reason="unknown")
    session_hash = hash_session_id(session_id)
    return session_hash, check_session(con, session_hash, now)


def cookie_language(con, value: str | None, now: dt.datetime | None = None) -> str | None:
    """The language stored with the live session a cookie names; None for anything else.

    Read before the sign-in check (the language switch comes first on the page), so it only
    reads: ending an idle session and recording activity stay with `check_session`.
    """
    now = now or dt.datetime.now()
    if not value or select_signing_key(con) is None:
        return None
    session_id = read_cookie(get_signing_key(con), value, now.timestamp())
    row = select_session(con, hash_session_id(session_id)) if session_id else None
    if row is None or row["ended_at"] is not None or not row["user_exists"]:
        return None
    if now - row["last_seen"] > idle_limit() or row["lang"] is None:
        return None
    return normalise_lang(row["lang"])


def end_session(con, session_hash: str, reason: str, now: dt.datetime | None = None) -> bool:
    """End one session (every tab that shares its cookie); False if it had ended already."""
    return (
        _update_ended(con, "session_hash = ?", [session_hash], reason, now or dt.datetime.now()) > 0
    )


def end_user_sessions(con, username: str, reason: str, now: dt.datetime | None = None) -> int:
    """End every live session of a user (password or role changed, user removed); how many."""
    return _update_ended(con, "username = ?", [username], reason, now or dt.datetime.now())
