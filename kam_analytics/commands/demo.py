"""`demo`: write the fictional demo company into a database file."""

from __future__ import annotations

import time
from pathlib import Path

from kam_analytics import db
from kam_analytics.commands.common import add_db_option
from kam_analytics.errors import ConfigError, Reason


def register(sub) -> None:
    """Add the `demo` subcommand."""
    p = sub.add_parser("demo", help="write the fictional demo company into a database file")
    add_db_option(p)
    p.add_argument("--scale", choices=("small", "large", "xl"), default="small")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
    p.add_argument("--force", action="store_true", help="overwrite an existing database file")
    p.set_defaults(func=run)


def run(args) -> int:
    """Write the demo database and print a one-line summary."""
    from kam_analytics.demo import write_demo

    path = db.resolve_db_path(args.db)
    if path.exists() and path.stat().st_size > 0 and not args.force:
        raise ConfigError(Reason.DEMO_WOULD_OVERWRITE, path=str(path))
    started = time.perf_counter()
    write_demo(path, scale=args.scale, seed=args.seed)
    seconds = time.perf_counter() - started
    con = db.connect(path, read_only=True)
    try:
        counts = db.count_rows(con)
    finally:
        con.close()
    shown = ("accounts", "kams", "orders", "shipments", "service_events", "mandates", "feedback")
    summary = ", ".join(f"{counts[t]:,} {t}" for t in shown)
    size_mb = Path(path).stat().st_size / 1e6
    print(
        f"demo ({args.scale}, seed {args.seed}) written to {path}: {summary} "
        f"in {seconds:.1f} s ({size_mb:.1f} MB)"
    )
    return 0
