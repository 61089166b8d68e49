"""Summary tables equal the raw aggregates (kam_analytics/summaries.py): after random imports,
re-imports that update rows, undos, and rows written by plain SQL."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam_analytics import db, summaries
from kam_analytics.ingest.load import undo_import
from kam_analytics.ingest.pipeline import import_files

TODAY = dt.date(2026, 6, 30)
RAW = (
    "SELECT account_id, order_date, sum(net_revenue), sum(cost_of_goods), count(*), "
    "count(*) FILTER (WHERE cost_of_goods IS NULL) FROM orders "
    "WHERE account_id IS NOT NULL AND order_date IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
)
STORED = (
    "SELECT account_id, order_date, revenue, cost_of_goods, lines, cogs_missing "
    "FROM order_days ORDER BY 1, 2"
)


def _agree(con, ensure: bool = False) -> None:
    # Product writers refresh in their own transaction: no rebuild needed before reading.
    if ensure:
        summaries.ensure_summaries(con)
    assert con.execute(STORED).fetchall() == con.execute(RAW).fetchall()


def _orders_csv(folder: Path, n: int, lines) -> Path:
    path = folder / f"orders_{n}.csv"
    rows = ["Auftrag;Kunde;Datum;Umsatz;Wareneinsatz"]
    for order, account, day, cents, cogs in lines:
        amount = f"{cents / 100:.2f}".replace(".", ",")
        cost = "" if cogs is None else f"{cogs / 100:.2f}".replace(".", ",")
        rows.append(f"A{order};{account};{day:%d.%m.%Y};{amount};{cost}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


line = st.tuples(
    st.integers(1, 30),  # order number: a later file may update an earlier order
    st.sampled_from(["K1", "K2", "K3"]),
    st.dates(dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
    st.integers(0, 500_000),
    st.one_of(st.none(), st.integers(0, 300_000)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.lists(line, min_size=1, max_size=8, unique_by=lambda x: x[0]), min_size=1, max_size=3
    ),
    st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_order_days_equal_the_order_lines_after_imports_and_undos(files, undo):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = db.connect(folder / "kam.duckdb")
        try:
            ids = []
            for n, lines in enumerate(files):
                [res] = import_files(con, [_orders_csv(folder, n, lines)], today=TODAY)
                if res.import_id is None:  # the same file again: nothing to import
                    assert res.previous_import_id is not None, res.problems
                    continue
                ids.append(res.import_id)
                _agree(con)
            for import_id, drop in zip(reversed(ids), undo, strict=False):
                if not drop:
                    break
                undo_import(con, import_id, "tester")  # newest first: undos stay possible
                _agree(con)
        finally:
            con.close()


def test_rows_written_by_plain_sql_are_noticed(con):
    con.execute("INSERT INTO accounts (account_id, name) VALUES ('K1', 'K1')")
    con.execute(
        "INSERT INTO orders (order_id, account_id, order_date, net_revenue, currency) "
        "VALUES ('X1', 'K1', DATE '2025-02-03', 10.5, 'EUR'), "
        "('X2', 'K1', DATE '2025-02-03', 4.5, 'EUR')"
    )
    _agree(con, ensure=True)
    assert con.execute("SELECT revenue, lines FROM order_days").fetchall()[0][1] == 2
