"""The account page's orders per year from the summaries equal the order lines (order_starts)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.ingest.load import undo_import
from kam_analytics.ingest.pipeline import import_files
from kam_analytics.metrics.account import select_revenue_by_year

TODAY = dt.date(2026, 6, 30)
ALL = Scope.everything()
# The figures as the account page computed them before the summaries: from every order line.
RAW = """
SELECT year(order_date) AS year, count(DISTINCT order_id) AS orders,
       CAST(round(sum(net_revenue), 2) AS DOUBLE) AS net_revenue,
       CAST(round(sum(cost_of_goods), 2) AS DOUBLE) AS cost_of_goods
FROM orders WHERE account_id = ? AND order_date <= ?
GROUP BY 1 ORDER BY 1
"""


def _orders_csv(folder: Path, n: int, lines) -> Path:
    path = folder / f"orders_{n}.csv"
    rows = ["Auftrag;Position;Kunde;Datum;Umsatz;Wareneinsatz"]
    for order, pos, account, day, cents, cogs in lines:
        cost = "" if cogs is None else f"{cogs / 100:.2f}".replace(".", ",")
        amount = f"{cents / 100:.2f}".replace(".", ",")
        rows.append(f"A{order};{pos};{account};{day:%d.%m.%Y};{amount};{cost}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _none(value):
    """NaN (the frame's missing number) as None (the query's)."""
    return None if value != value else value


def _agree(con, until: dt.date) -> None:
    for account in ("K1", "K2"):
        got = select_revenue_by_year(con, account, until, ALL)
        want = con.execute(RAW, [account, until]).fetchall()
        assert [
            (int(r.year), int(r.orders), r.net_revenue, _none(r.cost_of_goods))
            for r in got.itertuples()
        ] == [(int(y), int(o), rev, cogs) for y, o, rev, cogs in want], account


# An order's lines (positions) fall on several dates, across a year end too.
line = st.tuples(
    st.integers(1, 12),  # order number: shared by lines of several dates and files
    st.integers(1, 3),  # position: a later file may update an earlier line
    st.sampled_from(["K1", "K2"]),
    st.dates(dt.date(2024, 12, 20), dt.date(2025, 1, 12)),
    st.integers(0, 500_000),
    st.one_of(st.none(), st.integers(0, 300_000)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.lists(line, min_size=1, max_size=10, unique_by=lambda x: (x[0], x[1])),
        min_size=1,
        max_size=3,
    ),
    st.dates(dt.date(2024, 12, 25), dt.date(2025, 1, 15)),
    st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_orders_per_year_equal_the_order_lines(files, until, undo):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = db.connect(folder / "kam.duckdb")
        try:
            con.execute(
                "INSERT INTO accounts (account_id, name) VALUES ('K1', 'Eins'), ('K2', 'Zwei')"
            )
            ids = []
            for n, lines in enumerate(files):
                [res] = import_files(con, [_orders_csv(folder, n, lines)], today=TODAY)
                if res.import_id is not None:
                    ids.append(res.import_id)
                _agree(con, until)
            for import_id, drop in zip(reversed(ids), undo, strict=False):
                if not drop:
                    break
                undo_import(con, import_id, "tester")
                _agree(con, until)
        finally:
            con.close()


def test_an_order_on_two_dates_counts_once_per_year(con):
    con.execute("INSERT INTO accounts (account_id, name) VALUES ('K1', 'Eins')")
    con.execute(
        "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue, currency) "
        "VALUES ('A1', '1', 'K1', DATE '2025-03-01', 10, 'EUR'),"
        " ('A1', '2', 'K1', DATE '2025-03-05', 5, 'EUR'),"
        " ('A1', '3', 'K1', DATE '2026-01-02', 1, 'EUR'),"
        " ('A2', '1', 'K1', DATE '2025-03-05', 2, 'EUR')"
    )
    got = select_revenue_by_year(con, "K1", dt.date(2026, 12, 31), ALL)
    assert got[["year", "orders", "net_revenue"]].values.tolist() == [
        [2025, 2, 17.0],
        [2026, 1, 1.0],
    ]
    # up to 3 March 2025 only A1's first line is in: one order, 10 €
    got = select_revenue_by_year(con, "K1", dt.date(2025, 3, 3), ALL)
    assert got[["year", "orders", "net_revenue"]].values.tolist() == [[2025, 1, 10.0]]
