"""The command line: one subcommand module per area under kam_analytics/commands/.

Each module exposes `register(subparsers)`, which adds its parser and sets `func`, a callable
taking the parsed args and returning an exit code. Exit codes: 0 success, 2 user error
(blocking validation problems, bad options), 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from kam_analytics.errors import DatabaseLockedError, ImportBlockedError, KamError

# Order is the order of --help.
COMMAND_MODULES = (
    "demo",
    "info",
    "import_files",
    "imports",
    "rates",
    "report",
    "deck",
    "users",
    "backup",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m kam_analytics",
        description="KAM Analytics: key account service value, retention and bonus.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"kam_analytics.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"kam_analytics.commands.{name}":
                continue  # that area is not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        try:
            return int(args.func(args) or 0)
        except DatabaseLockedError as exc:
            # The app holds the file: hand the command to it or answer from its copy.
            from kam_analytics.app_channel import run_beside_app

            return run_beside_app(args, sys.argv[1:] if argv is None else argv, exc)
    except ImportBlockedError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except KamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours. Point stdout at
        # devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # Disk full or a database DuckDB gave up on: a fault to report, not a bug.
        from kam_analytics.db import translate_error

        fault = translate_error(exc, getattr(args, "db", None))
        if fault is None:
            raise
        print(f"error: {fault}", file=sys.stderr)
        return 2
