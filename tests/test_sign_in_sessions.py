"""Sign-in sessions: cookie signing and verification, the server-side records, ending them."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_analytics import db, sign_in_sessions, users
from kam_analytics.access import Scope
from kam_analytics.audit import list_audit
from kam_analytics.sign_in_sessions import (
    SessionCheck,
    check_session,
    end_session,
    read_cookie,
    session_from_cookie,
    sign_cookie,
    start_session,
)

ADMIN = Scope.everything("tester")
KEY = bytes(range(32))
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
NOW = T0.timestamp()


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    monkeypatch.delenv(sign_in_sessions.IDLE_ENV, raising=False)


@pytest.fixture
def con_users(con):
    """The fresh database with a KAM user anna and an admin boss."""
    con.execute("INSERT INTO kams (kam_id, name, email) VALUES ('K1', 'Anna', 'a@x.de')")
    users.add_user(con, "anna", "kam", scope=ADMIN, kam_id="K1", password="Anna-Passwort-1")
    users.add_user(con, "boss", "admin", scope=ADMIN, password="Boss-Passwort-1")
    return con


# --- signing ---------------------------------------------------------------------------------


def test_a_signed_cookie_reads_back_until_it_expires():
    value = sign_cookie(KEY, "abc_DEF-123", int(NOW) + 60)
    sid, expires, sig = value.split(".")
    assert (sid, expires) == ("abc_DEF-123", str(int(NOW) + 60))
    assert len(sig) == 43  # 32 bytes of HMAC-SHA256, base64url without padding
    assert read_cookie(KEY, value, NOW) == "abc_DEF-123"
    assert read_cookie(KEY, value, NOW + 59) == "abc_DEF-123"
    assert read_cookie(KEY, value, NOW + 60) is None  # expired at its own expiry second


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v.replace("abc", "abd", 1),  # another session id
        lambda v: v.replace(v.split(".")[1], str(int(v.split(".")[1]) + 3600)),  # longer life
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),  # a changed signature
        lambda v: v.rsplit(".", 1)[0],  # no signature
        lambda v: v + ".x",  # one part too many
        lambda v: "",
        lambda v: "a" * 5000,
        lambda v: v.replace(v.split(".")[1], "１２３"),  # non-ASCII digits
        lambda v: "ä." + v.split(".", 1)[1],
    ],
)
def test_a_tampered_cookie_is_refused(tamper):
    value = sign_cookie(KEY, "abc", int(NOW) + 60)
    assert read_cookie(KEY, tamper(value), NOW) is None


def test_another_key_refuses_the_cookie():
    value = sign_cookie(KEY, "abc", int(NOW) + 60)
    assert read_cookie(bytes(32), value, NOW) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_no_text_crashes_the_reader_or_passes_unsigned(text):
    assert read_cookie(KEY, text, NOW) is None


# --- records ---------------------------------------------------------------------------------


def test_start_session_stores_only_a_hash_and_the_cookie_finds_it(con_users):
    started = start_session(con_users, "anna", "password", T0)
    assert started.max_age == 12 * 3600
    sid = started.cookie.split(".")[0]
    rows = con_users.execute("SELECT * FROM sign_in_sessions").fetchall()
    assert len(rows) == 1 and sid not in repr(rows)  # the id itself is never stored
    assert rows[0][0] == sign_in_sessions.hash_session_id(sid) == started.session_hash
    later = T0 + dt.timedelta(minutes=5)
    found, check = session_from_cookie(con_users, started.cookie, later)
    assert found == started.session_hash
    assert check == SessionCheck(True, "anna", method="password")
    # The key was made once, on the first sign-in, and is reused.
    key = sign_in_sessions.select_signing_key(con_users)
    assert len(key) == 64
    start_session(con_users, "boss", "password", T0)
    assert sign_in_sessions.select_signing_key(con_users) == key


def test_a_forged_cookie_with_a_real_session_id_is_refused(con_users):
    started = start_session(con_users, "anna", "password", T0)
    sid, expires, _ = started.cookie.split(".")
    forged = sign_cookie(bytes(32), sid, int(expires))  # signed with a guessed key
    assert session_from_cookie(con_users, forged, T0) == (
        None,
        SessionCheck(False, reason="unknown"),
    )
    assert session_from_cookie(con_users, None, T0)[1].reason == "unknown"


def test_the_cookie_itself_expires_after_twelve_hours(con_users):
    started = start_session(con_users, "anna", "password", T0)
    # active all the time (the record stays live), but the cookie no longer restores it
    for hours in range(1, 12):
        assert check_session(con_users, started.session_hash, T0 + dt.timedelta(hours=hours)).live
    late = T0 + dt.timedelta(hours=12, seconds=1)
    assert session_from_cookie(con_users, started.cookie, late)[1].reason == "unknown"


def test_eight_hours_idle_ends_the_session_and_activity_keeps_it(con_users):
    started = start_session(con_users, "anna", "password", T0)
    h = started.session_hash
    # 7 h 59 min idle: still live, and that check records activity
    assert check_session(con_users, h, T0 + dt.timedelta(hours=7, minutes=59)).live
    # so 8 h after the sign-in it is only 1 min idle
    assert check_session(con_users, h, T0 + dt.timedelta(hours=9)).live
    gone = check_session(con_users, h, T0 + dt.timedelta(hours=17, minutes=1))
    assert gone == SessionCheck(False, "anna", "expired", "password", ended_now=True)
    # ended for good: activity afterwards does not bring it back, nor does the cookie
    again = check_session(con_users, h, T0 + dt.timedelta(hours=17, minutes=2))
    assert again == SessionCheck(False, "anna", "expired", "password", ended_now=False)


def test_checks_within_a_minute_do_not_write(con_users):
    started = start_session(con_users, "anna", "password", T0)
    for seconds in (1, 30, 59):
        check_session(con_users, started.session_hash, T0 + dt.timedelta(seconds=seconds))
    seen = con_users.execute("SELECT last_seen FROM sign_in_sessions").fetchall()[0][0]
    assert seen == T0
    check_session(con_users, started.session_hash, T0 + dt.timedelta(seconds=61))
    seen = con_users.execute("SELECT last_seen FROM sign_in_sessions").fetchall()[0][0]
    assert seen == T0 + dt.timedelta(seconds=61)


def test_a_short_idle_limit_from_the_environment(con_users, monkeypatch):
    monkeypatch.setenv(sign_in_sessions.IDLE_ENV, "8")
    assert sign_in_sessions.idle_limit() == dt.timedelta(seconds=8)
    started = start_session(con_users, "anna", "password", T0)
    for s in (3, 6, 9, 12):  # activity every 3 s (touched every 2 s at this limit)
        assert check_session(con_users, started.session_hash, T0 + dt.timedelta(seconds=s)).live
    assert not check_session(con_users, started.session_hash, T0 + dt.timedelta(seconds=21)).live
    monkeypatch.setenv(sign_in_sessions.IDLE_ENV, "nonsense")
    assert sign_in_sessions.idle_limit() == dt.timedelta(hours=8)


def test_sign_out_ends_every_tab_of_the_cookie(con_users):
    started = start_session(con_users, "anna", "password", T0)
    other = start_session(con_users, "anna", "password", T0)  # a second browser
    assert end_session(con_users, started.session_hash, "user", T0)
    assert not end_session(con_users, started.session_hash, "user", T0)  # already ended
    _, check = session_from_cookie(con_users, started.cookie, T0)
    assert check == SessionCheck(False, "anna", "user", "password")
    assert check_session(con_users, other.session_hash, T0).live  # the other browser stays


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda c: users.set_password(c, "anna", "Neues-Passwort-2", scope=ADMIN), "password"),
        (lambda c: users.change_user(c, "anna", scope=ADMIN, role="management"), "role"),
        (lambda c: users.remove_user(c, "anna", scope=ADMIN), "removed"),
    ],
)
def test_password_role_or_removal_ends_the_users_sessions(con_users, change, reason):
    mine = [start_session(con_users, "anna", "password", T0) for _ in range(2)]
    theirs = start_session(con_users, "boss", "password", T0)
    change(con_users)
    for s in mine:
        assert check_session(con_users, s.session_hash, T0).reason == reason
        assert not session_from_cookie(con_users, s.cookie, T0)[1].live
    assert check_session(con_users, theirs.session_hash, T0).live


def test_a_display_name_change_keeps_the_sessions(con_users):
    started = start_session(con_users, "anna", "password", T0)
    users.change_user(con_users, "anna", scope=ADMIN, display_name="Anna B.")
    assert check_session(con_users, started.session_hash, T0).live


def test_a_user_deleted_behind_the_apps_back_ends_the_session(con_users):
    started = start_session(con_users, "anna", "password", T0)
    con_users.execute("DELETE FROM users WHERE username = 'anna'")
    check = check_session(con_users, started.session_hash, T0)
    assert check == SessionCheck(False, "anna", "removed", "password", ended_now=True)


def test_old_records_are_deleted_at_the_next_sign_in(con_users):
    old = start_session(con_users, "anna", "password", T0)
    end_session(con_users, old.session_hash, "user", T0)
    stale = start_session(con_users, "boss", "password", T0)  # never ended, idle for 31 days
    start_session(con_users, "anna", "password", T0 + dt.timedelta(days=31))
    hashes = {
        r[0] for r in con_users.execute("SELECT session_hash FROM sign_in_sessions").fetchall()
    }
    assert old.session_hash not in hashes and stale.session_hash not in hashes
    assert len(hashes) == 1


def test_concurrent_checks_and_a_sign_out_never_lose_the_sign_out(con_users):
    """Tabs of one sign-in touch the same record from several cursors while one signs out."""
    started = start_session(con_users, "anna", "password", T0)
    errors = []

    def touch(i):
        cur = con_users.cursor()
        try:
            for k in range(20):
                check_session(cur, started.session_hash, T0 + dt.timedelta(minutes=i * 20 + k + 1))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=touch, args=(i,)) for i in range(3)]
    for th in threads:
        th.start()
    assert end_session(con_users.cursor(), started.session_hash, "user", T0 + dt.timedelta(hours=1))
    for th in threads:
        th.join()
    assert errors == []
    assert check_session(con_users, started.session_hash, T0).reason == "user"


def test_cookie_sign_in_is_audited_and_left_out_of_the_data_version(con_users):
    before = db.data_version(con_users)
    users.record_cookie_sign_in(con_users, "anna")
    users.sign_out(con_users, Scope("anna", "kam", "K1"), "password")
    log = list_audit(con_users, ADMIN, action_prefix="sign")
    assert list(log["action"])[:2] == ["signout", "signin"]
    assert '"cookie"' in log["new_value"].iloc[1]
    assert db.data_version(con_users) == before


# --- the language a sign-in keeps through a reload ---------------------------------------------


def test_the_session_keeps_the_language_it_was_started_with(con_users):
    started = start_session(con_users, "anna", "password", T0, lang="en")
    later = T0 + dt.timedelta(minutes=5)
    assert sign_in_sessions.cookie_language(con_users, started.cookie, later) == "en"
    plain = start_session(con_users, "boss", "password", T0)
    assert sign_in_sessions.cookie_language(con_users, plain.cookie, later) is None


def test_a_language_change_is_stored_with_the_session(con_users):
    started = start_session(con_users, "anna", "password", T0, lang="de")
    other = start_session(con_users, "anna", "password", T0, lang="de")
    sign_in_sessions.update_session_language(con_users, started.session_hash, "en")
    assert sign_in_sessions.cookie_language(con_users, started.cookie, T0) == "en"
    assert sign_in_sessions.cookie_language(con_users, other.cookie, T0) == "de"  # its own
    # only a language of ours is stored; anything else reads as German
    sign_in_sessions.update_session_language(con_users, started.session_hash, "xx")
    assert sign_in_sessions.cookie_language(con_users, started.cookie, T0) == "de"


def test_no_language_comes_from_an_ended_idle_or_forged_session(con_users):
    started = start_session(con_users, "anna", "password", T0, lang="en")
    sid, expires, _ = started.cookie.split(".")
    assert (
        sign_in_sessions.cookie_language(con_users, sign_cookie(bytes(32), sid, int(expires)), T0)
        is None
    )
    assert sign_in_sessions.cookie_language(con_users, "kaputt", T0) is None
    assert sign_in_sessions.cookie_language(con_users, None, T0) is None
    idle = T0 + dt.timedelta(hours=8, minutes=1)
    assert sign_in_sessions.cookie_language(con_users, started.cookie, idle) is None
    end_session(con_users, started.session_hash, "user", T0)
    assert sign_in_sessions.cookie_language(con_users, started.cookie, T0) is None
    # reading the language writes nothing: no last_seen, no ending
    kept = start_session(con_users, "boss", "password", T0, lang="en")
    sign_in_sessions.cookie_language(con_users, kept.cookie, T0 + dt.timedelta(hours=9))
    assert con_users.execute(
        "SELECT last_seen, ended_at FROM sign_in_sessions WHERE session_hash = ?",
        [kept.session_hash],
    ).fetchall() == [(T0, None)]


def test_first_sign_ins_at_the_same_moment_share_one_signing_key(con_users):
    # 30 sessions signing in together once failed: two inserted the key, DuckDB refused one
    # with a ConstraintException at commit (the load test's only traceback).
    barrier = threading.Barrier(8)
    keys, errors = [], []

    def first(n):
        cur = con_users.cursor()
        try:
            barrier.wait()
            keys.append(sign_in_sessions.get_signing_key(cur))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    for _round in range(5):
        con_users.execute("DELETE FROM sign_in_keys")
        keys.clear()
        threads = [threading.Thread(target=first, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert len(set(keys)) == 1 and len(keys) == 8
