"""The command line beside the running app: a local request folder and a heartbeat.

DuckDB lets one process hold the database file; while the app holds it, a second process can
open it neither read-write nor read-only. So the app keeps, beside the database:

- `.<db name>.app/alive.json`: a heartbeat (process id, host, time) written every few seconds;
- `.<db name>.app/requests/<id>/`: requests of command-line processes. A request folder is
  written under a temporary name and renamed when complete; the app's worker runs it and
  writes `result.json` into it (exit code, standard output, standard error);
- `<db stem>.readonly.duckdb`: a consistent read-only copy, refreshed after every write
  (kam_analytics/replica.py), which read commands answer from.

Commands that write (import, imports undo, users, backup) are run by the app exactly as typed
(same output, same exit code; a password goes through a named pipe, never a file); read
commands answer from the copy and say as of when; restore says how to do it instead.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

from kam_analytics import db
from kam_analytics.errors import DatabaseLockedError, KamError, Reason

HEARTBEAT_SECONDS = 2.0
HEARTBEAT_MAX_AGE = 15.0  # older than this: the app is gone (or hangs)
# The read commands: answered from the app's read-only copy while the app runs.
READ_COMMANDS = {"info", "report", "deck", ("imports", "list"), ("users", "list")}
# Write commands handed to the app as typed.
FORWARD_COMMANDS = {"import", ("imports", "undo"), ("users", "role"), ("users", "remove")}
# Handed over too; the password goes through a named pipe in the request folder (never a file).
PASSWORD_COMMANDS = {("users", "add"), ("users", "passwd")}
SECRET_PIPE = "stdin.fifo"
PIPE_SECONDS = 30.0


def channel_dir(db_path) -> Path:
    """The app's folder beside the database: heartbeat and requests (mode 0700)."""
    path = db.resolve_db_path(db_path).resolve()
    return path.parent / f".{path.name}.app"


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    tmp.write_text(json.dumps(data, default=str, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_heartbeat(db_path, extra: dict | None = None) -> None:
    """Say that this process serves the database (called every few seconds by the app)."""
    folder = channel_dir(db_path)
    (folder / "requests").mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    data = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "db": str(db.resolve_db_path(db_path).resolve()),
        "beat": dt.datetime.now().isoformat(timespec="seconds"),
        **(extra or {}),
    }
    _write_json(folder / "alive.json", data)


def clear_heartbeat(db_path) -> None:
    """Remove the heartbeat (the app stops serving the database)."""
    (channel_dir(db_path) / "alive.json").unlink(missing_ok=True)


def read_heartbeat(db_path) -> dict | None:
    """The heartbeat of the app serving this database, if it is alive."""
    data = _read_json(channel_dir(db_path) / "alive.json")
    if not data or data.get("host") != socket.gethostname():
        return None
    try:
        os.kill(int(data["pid"]), 0)
        beat = dt.datetime.fromisoformat(data["beat"])
    except (OSError, KeyError, ValueError, TypeError):
        return None
    if (dt.datetime.now() - beat).total_seconds() > HEARTBEAT_MAX_AGE:
        return None
    return data


# --- the command line's side -----------------------------------------------------------------


def submit(
    db_path, kind: str, payload: dict, files: list[Path] = (), secret: str | None = None
) -> Path:
    """Put a request into the app's folder (complete or not at all); returns its folder.

    A `secret` (a password) is offered through a named pipe the app reads once; it is never
    written to a file.
    """
    requests = channel_dir(db_path) / "requests"
    if not requests.is_dir():
        raise DatabaseLockedError(
            Reason.APP_NO_REQUEST_FOLDER, path=str(db.resolve_db_path(db_path))
        )
    rid = f"{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"
    tmp = requests / f".{rid}.part"
    (tmp / "files").mkdir(parents=True)
    names = []
    for n, src in enumerate(files):
        target = tmp / "files" / str(n) / Path(src).name
        target.parent.mkdir()
        shutil.copyfile(src, target)
        names.append(str(Path("files") / str(n) / Path(src).name))
    if secret is not None:
        os.mkfifo(tmp / SECRET_PIPE, 0o600)
        payload = {**payload, "stdin_pipe": SECRET_PIPE}
    _write_json(tmp / "request.json", {"kind": kind, "files": names, **payload})
    final = requests / rid
    os.replace(tmp, final)
    if secret is not None:
        threading.Thread(
            target=_offer_secret, args=(final / SECRET_PIPE, secret), daemon=True
        ).start()
    return final


def _offer_secret(pipe: Path, secret: str) -> None:
    """Write the secret into the pipe once the app opens it (blocks until then)."""
    try:
        with open(pipe, "w", encoding="utf-8") as f:
            f.write(secret + "\n")
    except OSError:
        pass  # the app went away; wait_for reports that


def wait_for(request: Path, db_path, timeout: float | None = None) -> dict:
    """The app's answer to a request (polls; fails if the app goes away meanwhile)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        result = _read_json(request / "result.json")
        if result is not None:
            return result
        if read_heartbeat(db_path) is None:
            raise KamError(Reason.APP_GONE, request=str(request))
        if deadline is not None and time.monotonic() > deadline:
            raise KamError(Reason.APP_TIMEOUT, request=str(request))
        time.sleep(0.2)


def _command_key(args) -> str | tuple:
    inner = getattr(args, "imports_command", None) or getattr(args, "users_action", None)
    return (args.command, inner) if inner else args.command


def _absolute_argv(argv: list[str], args) -> tuple[list[str], list[Path]]:
    """argv with --db absolute and the import's files (and profile) to copy to the app."""
    out, files = [], []
    db_abs = str(db.resolve_db_path(getattr(args, "db", None)).resolve())
    skip = False
    for item in argv:
        if skip:
            skip = False
            continue
        if item == "--db":
            skip = True
            continue
        if item.startswith("--db="):
            continue
        out.append(item)
    out += ["--db", db_abs]
    if args.command == "import":
        files = [Path(f) for f in args.files]
        if args.profile:
            files.append(Path(args.profile))
    return out, files


def _how_to(args, db_path) -> str:
    path = db.resolve_db_path(db_path)
    if args.command == "users":
        return (
            f"The app holds {path}. Change users on the page Benutzer (administrators), or stop "
            "the app (systemctl stop kam-analytics), run this command, and start it again."
        )
    if args.command == "restore":
        return (
            f"The app holds {path}. Restore on the page Daten-Import, section Sicherungen "
            "(administrators), or stop the app (systemctl stop kam-analytics) and run restore."
        )
    return f"Stop the app that holds {path}, or run the command against another --db."


def run_beside_app(args, argv: list[str], locked: DatabaseLockedError) -> int:
    """Run a command whose database the app holds: through the app or from its copy."""
    beat = read_heartbeat(getattr(args, "db", None))
    if beat is None:
        raise locked  # another command holds it, not the app
    key = _command_key(args)
    if key in READ_COMMANDS:
        from kam_analytics import replica

        return replica.run_from_copy(args)
    secret = None
    if key in PASSWORD_COMMANDS:
        from kam_analytics.commands.users import read_password

        if key == ("users", "passwd") or not args.no_password:
            secret = getattr(args, "typed_password", None)
            if secret is None:  # passwd fails on the lock before it asks for the password
                secret = read_password(args.password_stdin)
    if key in FORWARD_COMMANDS or key in PASSWORD_COMMANDS:
        forwarded, files = _absolute_argv(argv, args)
        if secret is not None and "--password-stdin" not in forwarded:
            forwarded.append("--password-stdin")
        request = submit(
            args.db, "cli", {"argv": forwarded, "user": _os_user()}, files, secret=secret
        )
        if getattr(args, "no_wait", False):
            print(
                f"note: the app holds the database; the import was handed to it as request "
                f"{request.name}. Its outcome: {request / 'result.json'} and `imports list`.",
                file=sys.stderr,
            )
            return 0
        print(
            "note: the app holds the database; it runs this command and answers here",
            file=sys.stderr,
        )
        result = wait_for(request, args.db)
        sys.stdout.write(result.get("stdout", ""))
        sys.stderr.write(result.get("stderr", ""))
        shutil.rmtree(request, ignore_errors=True)
        return int(result.get("exit", 1))
    raise DatabaseLockedError.relay(
        locked.message, _how_to(args, getattr(args, "db", None)), code=locked.code
    )


def ask_app(db_path, kind: str, payload: dict, timeout: float | None = None) -> dict:
    """Send one request of `kind` to the app and return its result (raises its error)."""
    if read_heartbeat(db_path) is None:
        raise DatabaseLockedError(Reason.DATABASE_BUSY, path=str(db.resolve_db_path(db_path)))
    request = submit(db_path, kind, payload)
    result = wait_for(request, db_path, timeout)
    if result.get("error"):
        shutil.rmtree(request, ignore_errors=True)
        raise KamError.relay(
            result["error"], result.get("hint", ""), code=result.get("code", "error")
        )
    result["folder"] = str(request)
    return result


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# --- the app's side --------------------------------------------------------------------------


class _ThreadStream(io.TextIOBase):
    """sys.stdout/err stand-in: a thread that captures writes into its buffer, others pass."""

    def __init__(self, original):
        self.original = original
        self.local = threading.local()

    def write(self, text):
        buf = getattr(self.local, "buf", None)
        return (buf or self.original).write(text)

    def flush(self):
        buf = getattr(self.local, "buf", None)
        (buf or self.original).flush()

    def fileno(self):
        return self.original.fileno()


_install_lock = threading.Lock()


class _ThreadInput(io.TextIOBase):
    """sys.stdin stand-in: a thread with a buffer reads from it, others from the real stdin."""

    def __init__(self, original):
        self.original = original
        self.local = threading.local()

    def readline(self, size=-1):
        buf = getattr(self.local, "buf", None)
        return (buf or self.original).readline(size)

    def read(self, size=-1):
        buf = getattr(self.local, "buf", None)
        return (buf or self.original).read(size)


def _stdin() -> _ThreadInput:
    with _install_lock:
        if not isinstance(sys.stdin, _ThreadInput):
            sys.stdin = _ThreadInput(sys.stdin)
    return sys.stdin


def _streams() -> tuple[_ThreadStream, _ThreadStream]:
    with _install_lock:
        if not isinstance(sys.stdout, _ThreadStream):
            sys.stdout = _ThreadStream(sys.stdout)
        if not isinstance(sys.stderr, _ThreadStream):
            sys.stderr = _ThreadStream(sys.stderr)
    return sys.stdout, sys.stderr


def read_secret(pipe: Path, timeout: float = PIPE_SECONDS) -> str:
    """The line the command line writes into the request's pipe ('' if it never comes)."""
    import select

    fd = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    if data:
                        break
                    time.sleep(0.05)  # no writer yet: a FIFO then reads as end of file
                data += chunk
        return data.decode("utf-8")
    finally:
        os.close(fd)


def run_cli_captured(argv: list[str], stdin_text: str | None = None) -> dict:
    """Run `python -m kam_analytics ARGV` in this process; its exit code and output."""
    from kam_analytics import cli

    out, err = _streams()
    out.local.buf, err.local.buf = io.StringIO(), io.StringIO()
    sin = _stdin()
    sin.local.buf = io.StringIO(stdin_text or "")
    try:
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's own errors
            code = exc.code if isinstance(exc.code, int) else 2
        except Exception as exc:  # noqa: BLE001 - reported to the caller as a failure (exit 1)
            print(f"error: unexpected failure in the app: {type(exc).__name__}: {exc}", file=err)
            code = 1
        return {
            "exit": code,
            "stdout": out.local.buf.getvalue(),
            "stderr": err.local.buf.getvalue(),
        }
    finally:
        out.local.buf = err.local.buf = sin.local.buf = None


def pending_requests(db_path) -> list[Path]:
    """Complete requests not yet answered, oldest first."""
    folder = channel_dir(db_path) / "requests"
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not (p / "result.json").exists()
    )


def read_request(request: Path) -> dict:
    """The request's JSON with its files as absolute paths."""
    data = _read_json(request / "request.json") or {}
    data["files"] = [str(request / f) for f in data.get("files", [])]
    return data


def answer(request: Path, result: dict) -> None:
    """Write the result the command line waits for."""
    _write_json(request / "result.json", result)


def translate_argv(data: dict) -> list[str]:
    """The forwarded argv with the copied files in place of the caller's paths."""
    from kam_analytics import cli

    argv = list(data.get("argv", []))
    files = data.get("files", [])
    if not argv or argv[0] != "import":
        return argv
    args = cli.build_parser().parse_args(argv)
    n = len(args.files)
    new = ["import", *files[:n], "--db", args.db, "--user", args.user or data.get("user", "cli")]
    if args.profile:
        new += ["--profile", files[n]]
    for option in ("table", "sheet"):
        if getattr(args, option):
            new += [f"--{option}", str(getattr(args, option))]
    if args.dry_run:
        new.append("--dry-run")
    return new


def remove_old_requests(db_path, max_age_hours: float = 24.0) -> int:
    """Delete answered requests and abandoned partial ones older than `max_age_hours`."""
    folder = channel_dir(db_path) / "requests"
    if not folder.is_dir():
        return 0
    limit = time.time() - max_age_hours * 3600
    removed = 0
    for p in folder.iterdir():
        done = (p / "result.json").exists() or p.name.startswith(".")
        if p.is_dir() and done and p.stat().st_mtime < limit:
            shutil.rmtree(p, ignore_errors=True)
            removed += 1
    return removed
