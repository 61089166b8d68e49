"""`users`: add, list, change, set the password of and remove local users.

Passwords are asked for twice at a prompt, or read from the first line of standard input with
--password-stdin (for scripts). They are never accepted as an argument: arguments end up in
the shell history and in the process list.
"""

from __future__ import annotations

import getpass
import sys

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.commands.common import add_db_option, add_format_option, write_frame
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.schema import ROLES


def register(sub) -> None:
    """Add the `users` subcommand and its actions."""
    p = sub.add_parser("users", help="manage local users: add, list, passwd, role, remove")
    actions = p.add_subparsers(dest="users_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--kam-id", metavar="ID", help="the KAM this user is (role kam only)")
    add.add_argument("--email", metavar="E", help="e-mail for company sign-in (OpenID Connect)")
    add.add_argument("--display-name", metavar="TEXT")
    pw = add.add_mutually_exclusive_group()
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    pw.add_argument(
        "--no-password", action="store_true", help="company sign-in only, no local password"
    )
    add_db_option(add)
    add.set_defaults(func=run_add)

    lst = actions.add_parser("list", help="list the users (never their passwords)")
    add_format_option(lst)
    add_db_option(lst)
    lst.set_defaults(func=run_list)

    passwd = actions.add_parser("passwd", help="set a new password (also lifts a sign-in lock)")
    passwd.add_argument("name", metavar="NAME")
    passwd.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    add_db_option(passwd)
    passwd.set_defaults(func=run_passwd)

    role = actions.add_parser("role", help="change a user's role, KAM id or e-mail")
    role.add_argument("name", metavar="NAME")
    role.add_argument("--role", choices=ROLES)
    role.add_argument("--kam-id", metavar="ID")
    role.add_argument("--email", metavar="E")
    add_db_option(role)
    role.set_defaults(func=run_role)

    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("name", metavar="NAME")
    add_db_option(remove)
    remove.set_defaults(func=run_remove)


def cli_scope() -> Scope:
    """The command line acts as an administrator; the audit log names the OS user."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Scope.everything(f"cli:{who}")


def read_password(from_stdin: bool) -> str:
    """The new password from stdin's first line, or typed twice at a prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError(Reason.PASSWORD_STDIN_EMPTY)
        return password
    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Repeat password: ")
    except EOFError as exc:
        raise ConfigError(Reason.PASSWORD_NOT_TYPED) from exc
    if first != second:
        raise ConfigError(Reason.PASSWORDS_DIFFER)
    return first


def run_add(args) -> int:
    """Add a user."""
    from kam_analytics import users

    password = None if args.no_password else read_password(args.password_stdin)
    args.typed_password = password  # kept for a hand-over to the running app (app_channel)
    if password is not None:
        users.check_password_policy(password)  # before opening the database
    con = db.connect(args.db)
    try:
        users.add_user(
            con,
            args.name,
            args.role,
            scope=cli_scope(),
            kam_id=args.kam_id,
            email=args.email,
            display_name=args.display_name,
            password=password,
        )
    finally:
        con.close()
    print(f"user {users.normalize_username(args.name)} added ({args.role})")
    return 0


def run_list(args) -> int:
    """Print the users as CSV or JSON."""
    from kam_analytics import users

    con = db.connect(args.db)
    try:
        df = users.list_users(con, scope=cli_scope())
    finally:
        con.close()
    write_frame(df, args.format)
    return 0


def run_passwd(args) -> int:
    """Set a user's password."""
    from kam_analytics import users

    con = db.connect(args.db)
    try:
        users.scope_for_user(con, args.name)  # fail before asking for a password
        password = read_password(args.password_stdin)
        users.set_password(con, args.name, password, scope=cli_scope())
    finally:
        con.close()
    print(f"password of {users.normalize_username(args.name)} changed")
    return 0


def run_role(args) -> int:
    """Change a user's role, KAM id or e-mail."""
    from kam_analytics import users

    if args.role is None and args.kam_id is None and args.email is None:
        raise ConfigError(Reason.NOTHING_TO_CHANGE)
    con = db.connect(args.db)
    try:
        users.change_user(
            con, args.name, scope=cli_scope(), role=args.role, kam_id=args.kam_id, email=args.email
        )
    finally:
        con.close()
    print(f"user {users.normalize_username(args.name)} changed")
    return 0


def run_remove(args) -> int:
    """Remove a user."""
    from kam_analytics import users

    con = db.connect(args.db)
    try:
        users.remove_user(con, args.name, scope=cli_scope())
    finally:
        con.close()
    print(f"user {users.normalize_username(args.name)} removed")
    return 0
