"""Local users: hashing, throttling, roles, company sign-in mapping, demo users, the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kam_analytics import db, users
from kam_analytics.access import Scope
from kam_analytics.audit import describe_change, list_audit
from kam_analytics.cli import main as cli_main
from kam_analytics.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    NotFoundError,
)

ROOT = Path(__file__).resolve().parent.parent

ADMIN = Scope.everything("tester")
KAM_SCOPE = Scope(username="kam1", role="kam", kam_id="K1")
SECRET = "Geheim-Passwort-42!"
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch):
    """bcrypt cost 4 in-process: the tests check behaviour, not the work factor."""
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    monkeypatch.setattr(users, "DEMO_BCRYPT_ROUNDS", 4)
    monkeypatch.setattr(users, "_ghost_failures", {})


def add_kams(con) -> None:
    """Two KAMs with e-mail addresses."""
    con.execute(
        "INSERT INTO kams (kam_id, name, email) VALUES "
        "('K1', 'Katrin Möller', 'katrin@firma.de'), ('K2', 'Jan Petersen', 'jan@firma.de')"
    )


@pytest.fixture
def ucon(con):
    """A fresh database with two KAMs, an admin and a KAM user."""
    add_kams(con)
    users.add_user(con, "Root", "admin", scope=ADMIN, password=SECRET)
    users.add_user(
        con, "kam1", "kam", scope=ADMIN, kam_id="K1", email="Katrin@Firma.de", password=SECRET
    )
    return con


def audit_actions(con) -> list[tuple]:
    return con.execute(
        "SELECT username, action, target FROM audit_log ORDER BY audit_id"
    ).fetchall()


def audit_text(con) -> str:
    rows = con.execute(
        "SELECT username, action, target, old_value, new_value FROM audit_log ORDER BY audit_id"
    ).fetchall()
    return json.dumps(rows, default=str)


# --- adding, listing, hashing --------------------------------------------------------------


def test_add_user_stores_bcrypt_hash_and_lists_without_it(ucon):
    row = users.select_user(ucon, "root")
    assert row["role"] == "admin" and row["kam_id"] is None
    assert row["password_hash"].startswith("$2b$04$") and len(row["password_hash"]) == 60
    assert SECRET not in row["password_hash"]
    df = users.list_users(ucon, scope=ADMIN)
    assert list(df.columns) == list(users.USER_COLUMNS)
    assert list(df["username"]) == ["kam1", "root"]  # stored lower case, sorted
    assert list(df["role"]) == ["kam", "admin"]
    assert list(df["kam_id"].fillna("")) == ["K1", ""]
    assert list(df["display_name"].fillna("")) == ["Katrin Möller", ""]  # from the kams table
    assert list(df["has_password"]) == [True, True]
    assert list(df["failed_attempts"]) == [0, 0]
    assert "password_hash" not in df.columns
    assert audit_actions(ucon) == [("tester", "user_add", "root"), ("tester", "user_add", "kam1")]


def test_verify_password_matches_only_the_right_password(ucon):
    stored = users.select_user(ucon, "kam1")["password_hash"]
    assert users.verify_password(SECRET, stored) is True
    assert users.verify_password(SECRET + "x", stored) is False
    assert users.verify_password("", stored) is False
    assert users.verify_password(SECRET, None) is False


@pytest.mark.parametrize(
    "password, code",
    [
        ("kurz", "password_too_short"),
        ("1234567", "password_too_short"),
        ("ä" * 37, "password_too_long"),  # 74 bytes in UTF-8
        ("a" * 73, "password_too_long"),
        ("abc\x00defgh", "password_invalid"),
    ],
)
def test_password_policy_rejects(password, code):
    with pytest.raises(ConfigError) as info:
        users.hash_password(password)
    assert info.value.code == code


def test_password_of_exactly_72_bytes_works():
    password = "ä" * 36  # 72 bytes
    stored = users.hash_password(password)
    assert users.verify_password(password, stored) is True
    # bcrypt would silently ignore byte 73+: such passwords are refused instead.
    assert users.verify_password(password + "x", stored) is False


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"username": "x", "role": "boss"}, "invalid_role"),
        ({"username": "x", "role": "kam"}, "kam_id_missing"),
        ({"username": "x", "role": "kam", "kam_id": "K9"}, "kam_id_unknown"),
        ({"username": "x", "role": "management", "kam_id": "K1"}, "kam_id_not_allowed"),
        ({"username": "kam1", "role": "admin"}, "user_exists"),
        ({"username": "KAM1 ", "role": "admin"}, "user_exists"),
        ({"username": "bad name", "role": "admin"}, "invalid_username"),
        ({"username": "'; DROP TABLE users; --", "role": "admin"}, "invalid_username"),
        ({"username": "x", "role": "admin", "email": "katrin@FIRMA.de"}, "email_taken"),
        ({"username": "x", "role": "admin", "email": "no-at-sign"}, "invalid_email"),
    ],
)
def test_add_user_validation(ucon, kwargs, code):
    name = kwargs.pop("username")
    role = kwargs.pop("role")
    with pytest.raises(ConfigError) as info:
        users.add_user(ucon, name, role, scope=ADMIN, password=SECRET, **kwargs)
    assert info.value.code == code
    assert ucon.execute("SELECT count(*) FROM users").fetchall()[0][0] == 2


def test_change_role_and_audit_old_to_new(ucon):
    users.change_user(ucon, "kam1", scope=ADMIN, role="management")
    assert users.scope_for_user(ucon, "kam1") == Scope("kam1", "management", None)
    users.change_user(ucon, "kam1", scope=ADMIN, role="kam", kam_id="K2")
    assert users.scope_for_user(ucon, "kam1") == Scope("kam1", "kam", "K2")
    entries = list_audit(ucon, ADMIN, action="user_change")
    assert list(entries["change"]) == [
        "kam_id: – → K2; role: management → kam",
        "kam_id: K1 → –; role: kam → management",
    ]
    assert list(entries["target"]) == ["kam1", "kam1"]


def test_last_admin_cannot_be_removed_or_demoted(ucon):
    with pytest.raises(ConfigError) as info:
        users.remove_user(ucon, "root", scope=ADMIN)
    assert info.value.code == "last_admin"
    with pytest.raises(ConfigError):
        users.change_user(ucon, "root", scope=ADMIN, role="management")
    users.add_user(ucon, "second", "admin", scope=ADMIN, password=SECRET)
    users.remove_user(ucon, "root", scope=ADMIN)
    assert [r[0] for r in ucon.execute("SELECT username FROM users ORDER BY 1").fetchall()] == [
        "kam1",
        "second",
    ]
    removed = list_audit(ucon, ADMIN, action="user_remove")
    assert list(removed["change"]) == [
        "display_name: – → –; email: – → –; kam_id: – → –; role: admin → –"
    ]


def test_set_password_lifts_lock(ucon):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            users.authenticate(ucon, "kam1", "wrong-password", now=T0)
    assert users.select_user(ucon, "kam1")["locked_until"] == T0 + dt.timedelta(minutes=15)
    users.set_password(ucon, "kam1", "Neues-Passwort-1", scope=ADMIN)
    row = users.select_user(ucon, "kam1")
    assert row["locked_until"] is None and row["failed_attempts"] == 0
    assert users.authenticate(ucon, "kam1", "Neues-Passwort-1", now=T0).kam_id == "K1"


# --- admin-only actions refused for other roles ----------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        lambda c, s: users.add_user(c, "new", "admin", scope=s, password=SECRET),
        lambda c, s: users.list_users(c, scope=s),
        lambda c, s: users.change_user(c, "root", scope=s, role="kam", kam_id="K1"),
        lambda c, s: users.set_password(c, "root", "Uebernahme-123", scope=s),
        lambda c, s: users.remove_user(c, "root", scope=s),
    ],
    ids=["add", "list", "change", "passwd-other", "remove"],
)
@pytest.mark.parametrize(
    "scope",
    [KAM_SCOPE, Scope(username="chefin", role="management")],
    ids=["kam", "management"],
)
def test_admin_only_actions_refused(ucon, action, scope):
    before = ucon.execute("SELECT count(*) FROM audit_log").fetchall()[0][0]
    with pytest.raises(AccessDeniedError):
        action(ucon, scope)
    assert users.select_user(ucon, "root")["role"] == "admin"
    assert ucon.execute("SELECT count(*) FROM audit_log").fetchall()[0][0] == before


def test_user_may_set_own_password(ucon):
    users.set_password(ucon, "kam1", "Mein-neues-Passwort", scope=KAM_SCOPE)
    assert users.authenticate(ucon, "kam1", "Mein-neues-Passwort").role == "kam"


# --- signing in ------------------------------------------------------------------------------


def test_authenticate_returns_scope_and_audits(ucon):
    scope = users.authenticate(ucon, " KAM1 ", SECRET, now=T0)
    assert scope == Scope(username="kam1", role="kam", kam_id="K1")
    assert users.select_user(ucon, "kam1")["last_login"] == T0
    users.sign_out(ucon, scope)
    assert audit_actions(ucon)[-2:] == [("kam1", "signin", "kam1"), ("kam1", "signout", "kam1")]


def test_unknown_user_and_wrong_password_look_the_same(ucon):
    errors = []
    for name, password in (("kam1", "wrong-password"), ("nobody", "wrong-password")):
        with pytest.raises(AuthenticationError) as info:
            users.authenticate(ucon, name, password, now=T0)
        errors.append((info.value.code, info.value.message, info.value.hint))
    assert errors[0] == errors[1]
    assert errors[0][0] == "auth_failed"


def test_five_failures_lock_for_fifteen_minutes_then_reset(ucon):
    for i in range(1, 5):
        with pytest.raises(AuthenticationError) as info:
            users.authenticate(ucon, "kam1", f"wrong-{i}-password", now=T0)
        assert info.value.code == "auth_failed"
        assert users.select_user(ucon, "kam1")["failed_attempts"] == i
    with pytest.raises(AuthenticationError) as info:
        users.authenticate(ucon, "kam1", "wrong-5-password", now=T0)
    assert info.value.code == "auth_locked"
    assert info.value.locked_until == T0 + dt.timedelta(minutes=15)
    # Locked: even the right password is refused until the lock ends.
    with pytest.raises(AuthenticationError) as info:
        users.authenticate(ucon, "kam1", SECRET, now=T0 + dt.timedelta(minutes=14, seconds=59))
    assert info.value.code == "auth_locked"
    scope = users.authenticate(ucon, "kam1", SECRET, now=T0 + dt.timedelta(minutes=15, seconds=1))
    assert scope.kam_id == "K1"
    row = users.select_user(ucon, "kam1")
    assert (row["failed_attempts"], row["locked_until"]) == (0, None)
    actions = [a for _, a, _ in audit_actions(ucon)][2:]
    assert actions == ["signin_failed"] * 5 + ["signin_locked", "signin_failed", "signin"]


def test_success_resets_the_failure_counter(ucon):
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            users.authenticate(ucon, "kam1", "wrong-password", now=T0)
    users.authenticate(ucon, "kam1", SECRET, now=T0)
    for _ in range(4):  # four more failures do not lock: the counter started again
        with pytest.raises(AuthenticationError) as info:
            users.authenticate(ucon, "kam1", "wrong-password", now=T0)
        assert info.value.code == "auth_failed"


def test_unknown_names_are_throttled_like_real_ones(ucon):
    codes = []
    for _ in range(6):
        with pytest.raises(AuthenticationError) as info:
            users.authenticate(ucon, "ghost", "wrong-password", now=T0)
        codes.append(info.value.code)
    assert codes == ["auth_failed"] * 4 + ["auth_locked"] * 2
    assert ucon.execute("SELECT count(*) FROM users").fetchall()[0][0] == 2


def test_company_only_user_cannot_sign_in_with_a_password(ucon):
    users.add_user(ucon, "sso", "management", scope=ADMIN, email="chefin@firma.de")
    assert users.select_user(ucon, "sso")["password_hash"] is None
    with pytest.raises(AuthenticationError) as info:
        users.authenticate(ucon, "sso", "", now=T0)
    assert info.value.code == "auth_failed"


def test_scope_for_user_and_email(ucon):
    assert users.scope_for_user(ucon, "KAM1") == Scope("kam1", "kam", "K1")
    with pytest.raises(NotFoundError):
        users.scope_for_user(ucon, "nobody")
    assert users.scope_for_email(ucon, "KATRIN@firma.de") == Scope("kam1", "kam", "K1")
    with pytest.raises(NotFoundError) as info:
        users.scope_for_email(ucon, "jan@firma.de")  # a KAM, but no user with that address
    assert info.value.code == "no_user_for_email"


def test_company_sign_in_is_audited(ucon):
    scope = users.record_company_sign_in(ucon, "katrin@firma.de", now=T0)
    assert scope.kam_id == "K1"
    with pytest.raises(NotFoundError):
        users.record_company_sign_in(ucon, "fremd@example.com", now=T0)
    entries = list_audit(ucon, ADMIN, limit=2)
    assert list(entries["action"]) == ["signin_failed", "signin"]
    assert list(entries["change"]) == ["reason: no_user_for_email", "method: company"]
    assert list(entries["username"]) == ["fremd@example.com", "kam1"]


def test_user_text_reaches_sql_only_as_parameter(ucon):
    hostile = "x' OR '1'='1"
    with pytest.raises(AuthenticationError):
        users.authenticate(ucon, hostile, "' OR '1'='1", now=T0)
    with pytest.raises(NotFoundError):
        users.scope_for_email(ucon, "' OR 1=1 --@x.de")
    assert list_audit(ucon, ADMIN, username="' OR 1=1 --").empty


# --- demo users ------------------------------------------------------------------------------


def test_seed_demo_users_and_demo_flag(con):
    add_kams(con)
    assert users.is_demo_database(con) is False
    assert users.demo_credentials(con) == []
    creds = users.seed_demo_users(con)
    assert [(c["username"], c["password"], c["role"], c["kam_id"]) for c in creds] == [
        ("admin", "admin-demo", "admin", None),
        ("leitung", "leitung-demo", "management", None),
        ("kam01", "kam01-demo", "kam", "K1"),
        ("kam02", "kam02-demo", "kam", "K2"),
    ]
    assert users.is_demo_database(con) is True
    for c in creds:
        assert users.authenticate(con, c["username"], c["password"]).role == c["role"]
    assert users.scope_for_email(con, "jan@firma.de") == Scope("kam02", "kam", "K2")
    users.seed_demo_users(con)  # idempotent
    assert con.execute("SELECT count(*) FROM users").fetchall()[0][0] == 4


def test_real_database_has_no_default_user(con):
    assert con.execute("SELECT count(*) FROM users").fetchall()[0][0] == 0
    with pytest.raises(AuthenticationError):
        users.authenticate(con, "admin", "admin-demo")


def test_describe_change():
    assert describe_change('{"a": 1}', '{"a": 2, "b": "x"}') == "a: 1 → 2; b: – → x"
    assert describe_change(None, '{"role": "kam"}') == "role: kam"
    assert describe_change('"alt"', '"neu"') == "alt → neu"
    assert describe_change(None, None) == ""


# --- command line ----------------------------------------------------------------------------


def run_cli(args: list[str], monkeypatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli_main(args)


def test_cli_add_list_passwd_role_remove(db_path, monkeypatch, capsys):
    con = db.connect(db_path)
    add_kams(con)
    con.close()
    db_arg = ["--db", str(db_path)]
    assert (
        run_cli(
            ["users", "add", "root", "--role", "admin", "--password-stdin", *db_arg],
            monkeypatch,
            SECRET + "\n",
        )
        == 0
    )
    assert (
        run_cli(
            [
                "users",
                "add",
                "Anna",
                "--role",
                "kam",
                "--kam-id",
                "K2",
                "--password-stdin",
                *db_arg,
            ],
            monkeypatch,
            SECRET + "\n",
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines()[-1] == "user anna added (kam)"
    assert run_cli(["users", "list", "--format", "json", *db_arg], monkeypatch) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["username"], u["role"], u["kam_id"]) for u in listed] == [
        ("anna", "kam", "K2"),
        ("root", "admin", None),
    ]
    assert all("password_hash" not in u for u in listed)
    assert (
        run_cli(
            ["users", "passwd", "anna", "--password-stdin", *db_arg],
            monkeypatch,
            "Zweites-Passwort\n",
        )
        == 0
    )
    assert run_cli(["users", "role", "anna", "--role", "management", *db_arg], monkeypatch) == 0
    assert run_cli(["users", "remove", "anna", *db_arg], monkeypatch) == 0
    assert run_cli(["users", "remove", "root", *db_arg], monkeypatch) == 2  # last admin
    assert "last administrator" in capsys.readouterr().err
    con = db.connect(db_path)
    try:
        actions = [a for _, a, _ in audit_actions(con)]
        who = {u for u, _, _ in audit_actions(con)}
    finally:
        con.close()
    assert actions == ["user_add", "user_add", "user_password", "user_change", "user_remove"]
    assert len(who) == 1 and next(iter(who)).startswith("cli:")


def test_cli_prompts_twice_and_refuses_a_mismatch(db_path, monkeypatch, capsys):
    answers = iter(["Erstes-Passwort", "Anderes-Passwort"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert (
        run_cli(["users", "add", "root", "--role", "admin", "--db", str(db_path)], monkeypatch) == 2
    )
    assert "The two passwords differ" in capsys.readouterr().err
    answers = iter(["Gleiches-Passwort", "Gleiches-Passwort"])
    assert (
        run_cli(["users", "add", "root", "--role", "admin", "--db", str(db_path)], monkeypatch) == 0
    )


def test_cli_errors_are_clear(db_path, monkeypatch, capsys):
    con = db.connect(db_path)
    add_kams(con)
    con.close()
    code = run_cli(
        [
            "users",
            "add",
            "x",
            "--role",
            "kam",
            "--kam-id",
            "K7",
            "--password-stdin",
            "--db",
            str(db_path),
        ],
        monkeypatch,
        SECRET + "\n",
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "no key account manager with the id 'K7'" in err and "K1, K2" in err
    code = run_cli(
        ["users", "add", "x", "--role", "admin", "--password-stdin", "--db", str(db_path)],
        monkeypatch,
        "kurz\n",
    )
    assert code == 2
    assert "too short" in capsys.readouterr().err
    assert run_cli(["users", "passwd", "nobody", "--db", str(db_path)], monkeypatch) == 2
    assert "There is no user 'nobody'" in capsys.readouterr().err


def test_password_never_stored_or_logged_in_clear(db_path):
    """End to end through the real command: the DB file and the audit log never hold it."""
    con = db.connect(db_path)
    add_kams(con)
    con.close()
    password = "Klartext-Sollte-Nie-Erscheinen-7"
    for cmd in (
        ["users", "add", "anna", "--role", "kam", "--kam-id", "K1", "--password-stdin"],
        ["users", "passwd", "anna", "--password-stdin"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "kam_analytics", *cmd, "--db", str(db_path)],
            input=password + "\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert password not in done.stdout + done.stderr
    con = db.connect(db_path)
    try:
        users.authenticate(con, "anna", password)
        with pytest.raises(AuthenticationError):
            users.authenticate(con, "anna", password[:-1])
        stored = users.select_user(con, "anna")["password_hash"]
        log = audit_text(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    for needle in (password, password[:12]):
        for enc in ("utf-8", "utf-16-le"):
            assert needle.encode(enc) not in raw
    assert stored.encode() in raw  # the hash is what is stored
    assert password not in log and stored not in log
    assert [r[1] for r in json.loads(log)] == [
        "user_add",
        "user_password",
        "signin",
        "signin_failed",
    ]


def test_the_same_user_signing_in_from_many_browsers_at_once(con):
    """Concurrent sign-ins of one user update one row from many cursors: never an error."""
    import threading

    users.add_user(
        con, "anna", "management", scope=Scope.everything("admin"), password="geheim-1234", rounds=4
    )
    errors = []

    def sign_in():
        cur = con.cursor()
        try:
            for _ in range(20):
                users.update_signed_in(cur, "anna", dt.datetime.now())
        except Exception as exc:  # noqa: BLE001 - the test collects what escapes
            errors.append(exc)
        finally:
            cur.close()

    threads = [threading.Thread(target=sign_in) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert con.execute(
        "SELECT last_login IS NOT NULL FROM users WHERE username = 'anna'"
    ).fetchall() == [(True,)]
