"""`rates list|set|delete`: the exchange rates imports convert other currencies with."""

from __future__ import annotations

import getpass

from kam_analytics import db
from kam_analytics.commands.common import add_db_option, add_format_option, write_frame
from kam_analytics.exchange_rates import delete_rate, select_rates, upsert_rate


def register(sub) -> None:
    """Add the `rates` subcommand."""
    p = sub.add_parser("rates", help="exchange rates (units of a currency per 1 EUR)")
    inner = p.add_subparsers(dest="rates_command", metavar="{list,set,delete}")
    lst = inner.add_parser("list", help="every rate")
    add_db_option(lst)
    add_format_option(lst)
    lst.set_defaults(func=run_list)
    st = inner.add_parser("set", help="set a rate: CURRENCY YEAR RATE [--month M]")
    st.add_argument("currency")
    st.add_argument("year", type=int)
    st.add_argument("rate", help="units of the currency per 1 EUR, e.g. 0.9412")
    st.add_argument("--month", type=int, default=0, help="1-12; default: the whole year")
    st.add_argument("--user", default=None)
    add_db_option(st)
    st.set_defaults(func=run_set)
    de = inner.add_parser("delete", help="delete a rate: CURRENCY YEAR [--month M]")
    de.add_argument("currency")
    de.add_argument("year", type=int)
    de.add_argument("--month", type=int, default=0)
    de.add_argument("--user", default=None)
    add_db_option(de)
    de.set_defaults(func=run_delete)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_list(args) -> int:
    """Print every rate."""
    con = db.connect(args.db)
    try:
        write_frame(select_rates(con), args.format)
    finally:
        con.close()
    return 0


def run_set(args) -> int:
    """Set one rate."""
    con = db.connect(args.db)
    try:
        upsert_rate(
            con, args.currency, args.year, args.month, args.rate, args.user or getpass.getuser()
        )
    finally:
        con.close()
    print(f"{args.currency.upper()} {args.year}/{args.month or 'year'}: {args.rate} per EUR")
    return 0


def run_delete(args) -> int:
    """Delete one rate."""
    con = db.connect(args.db)
    try:
        delete_rate(con, args.currency, args.year, args.month, args.user or getpass.getuser())
    finally:
        con.close()
    return 0
