"""`deck`: the per-account value deck or (--review) the management review pack as PPTX."""

from __future__ import annotations

import sys
from pathlib import Path

from kam_analytics import db
from kam_analytics.commands.common import add_db_option, parse_date, scope_for_args
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.i18n import LANGUAGES


def register(sub) -> None:
    """Add the `deck` subcommand."""
    p = sub.add_parser(
        "deck",
        help="write a per-account value deck (--account) or the management review pack (--review)",
    )
    add_db_option(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--account", metavar="ID", help="account id (customer number) of the deck")
    what.add_argument(
        "--review", action="store_true", help="management review pack of all key accounts"
    )
    p.add_argument("--year", type=int, required=True, help="calendar year, e.g. 2025")
    p.add_argument("--as-of", type=parse_date, help="cut the running year at this date")
    p.add_argument("--out", metavar="FILE.pptx", required=True, help="where to write the deck")
    p.add_argument("--lang", choices=LANGUAGES, default="de", help="language (default: de)")
    p.add_argument("--as-user", metavar="NAME", help="build it as this user may see it")
    p.add_argument(
        "--internal",
        action="store_true",
        help="the KAM's internal preparation variant (mandate, cost, risk; labelled 'intern')",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Build the deck and write it to --out."""
    out = Path(args.out)
    if out.suffix.lower() != ".pptx":
        raise ConfigError(Reason.OUT_SUFFIX, suffix=".pptx", name=out.name, example="deck.pptx")
    if not out.parent.exists():
        raise ConfigError(Reason.OUT_FOLDER_MISSING, folder=str(out.parent))
    con = db.connect(args.db, must_exist=True)
    try:
        scope = scope_for_args(con, args)
        if args.review:
            from kam_analytics.exports.review_pack import build_review_pack

            data = build_review_pack(
                con, args.year, scope=scope, lang=args.lang, as_of=args.as_of, out=out
            )
        else:
            from kam_analytics.exports.deck import build_account_deck

            data = build_account_deck(
                con,
                args.account,
                args.year,
                scope=scope,
                lang=args.lang,
                as_of=args.as_of,
                out=out,
                internal=args.internal,
            )
    finally:
        con.close()
        from kam_analytics.exports.charts import stop_server

        stop_server()
    print(f"wrote {out} ({len(data):,} bytes)", file=sys.stderr)
    return 0
