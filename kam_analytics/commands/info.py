"""`info`: schema version, row counts per table and the date range of the data."""

from __future__ import annotations

from kam_analytics import db
from kam_analytics.commands.common import add_db_option


def register(sub) -> None:
    """Add the `info` subcommand."""
    p = sub.add_parser("info", help="schema version, row counts and date range of a database")
    add_db_option(p)
    p.set_defaults(func=run)


def select_date_range(con) -> tuple:
    """Earliest and latest order, shipment or service date."""
    return con.execute(
        "SELECT min(d), max(d) FROM ("
        " SELECT order_date AS d FROM orders UNION ALL"
        " SELECT ship_date FROM shipments UNION ALL"
        " SELECT date FROM service_events)"
    ).fetchall()[0]


def run(args) -> int:
    """Print the database summary."""
    path = db.resolve_db_path(args.db)
    con = db.connect(path, must_exist=True)
    try:
        print(f"database:       {path}")
        print(f"schema version: {db.read_schema_version(con)}")
        first, last = select_date_range(con)
        print(f"date range:     {first or '-'} .. {last or '-'}")
        print("rows:")
        for name, n in db.count_rows(con).items():
            print(f"  {name:<20} {n:>12,}")
    finally:
        con.close()
    return 0
