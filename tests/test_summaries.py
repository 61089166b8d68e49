"""Summary tables equal the raw aggregates (kam_analytics/summaries.py): after random imports,
re-imports that update rows, undos, and rows written by plain SQL; the services summaries
read from service_months equal the same figures computed from the service_events_all view."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam_analytics import db, summaries
from kam_analytics.access import Scope
from kam_analytics.ingest.load import undo_import
from kam_analytics.ingest.pipeline import import_files
from kam_analytics.metrics import services as sv
from kam_analytics.money import round_cents

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


SERVICES_RAW = (
    "SELECT account_id, CAST(date_trunc('month', date) AS DATE), service_code, billing_mode, "
    "count(*), sum(quantity), sum(cost), sum(list_value), sum(billed_amount), "
    "sum(unbilled_value) FROM service_events_all GROUP BY ALL ORDER BY ALL"
)
SERVICES_STORED = (
    "SELECT account_id, month, service_code, billing_mode, events, quantity, cost, list_value, "
    "billed_amount, unbilled_value FROM service_months ORDER BY ALL"
)


def _agree(con, ensure: bool = False) -> None:
    # Product writers refresh in their own transaction: no rebuild needed before reading.
    if ensure:
        summaries.ensure_summaries(con)
    assert con.execute(STORED).fetchall() == con.execute(RAW).fetchall()
    assert con.execute(SERVICES_STORED).fetchall() == con.execute(SERVICES_RAW).fetchall()
    assert summaries.select_stale_summaries(con) == []


def _orders_csv(folder: Path, n: int, lines) -> Path:
    path = folder / f"orders_{n}.csv"
    rows = ["Auftrag;Kunde;Datum;Umsatz;Wareneinsatz"]
    for order, account, day, cents, cogs in lines:
        amount = f"{cents / 100:.2f}".replace(".", ",")
        cost = "" if cogs is None else f"{cogs / 100:.2f}".replace(".", ",")
        rows.append(f"A{order};{account};{day:%d.%m.%Y};{amount};{cost}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _cents(value) -> str:
    return "" if value is None else f"{value / 100:.2f}".replace(".", ",")


def _shipments_csv(folder: Path, n: int, lines) -> Path:
    path = folder / f"shipments_{n}.csv"
    rows = ["shipment_id;account_id;ship_date;ship_mode;freight_cost;freight_charged"]
    for number, account, day, mode, cost, charged in lines:
        rows.append(f"L{number};{account};{day:%d.%m.%Y};{mode};{_cents(cost)};{_cents(charged)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _events_csv(folder: Path, n: int, lines) -> Path:
    path = folder / f"services_{n}.csv"
    rows = [
        "event_id;account_id;date;service_code;quantity;cost;list_value;billed_amount;billing_mode"
    ]
    for number, account, day, code, qty, cost, value, billed, mode in lines:
        rows.append(
            f"V{number};{account};{day:%d.%m.%Y};{code};{qty};{_cents(cost)};{_cents(value)};"
            f"{_cents(billed)};{mode or ''}"
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


WRITERS = {"orders": _orders_csv, "shipments": _shipments_csv, "service_events": _events_csv}
ACCOUNTS = st.sampled_from(["K1", "K2", "K3"])
DAYS = st.dates(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
AMOUNT = st.integers(0, 500_000)
line = st.tuples(
    st.integers(1, 30),  # order number: a later file may update an earlier order
    ACCOUNTS,
    DAYS,
    AMOUNT,
    st.one_of(st.none(), st.integers(0, 300_000)),
)
shipment = st.tuples(
    st.integers(1, 30),
    ACCOUNTS,
    DAYS,
    st.sampled_from(["express", "standard"]),
    st.one_of(st.none(), AMOUNT),
    st.one_of(st.none(), AMOUNT),
)
event = st.tuples(
    st.integers(1, 30),
    ACCOUNTS,
    DAYS,
    st.sampled_from(["TRAINING", "CUSTOM_DEV", "EXPRESS_FREIGHT"]),
    st.integers(1, 3),
    st.one_of(st.none(), AMOUNT),
    st.one_of(st.none(), AMOUNT),
    st.one_of(st.none(), AMOUNT),
    st.sampled_from([None, "silent", "waived", "billed"]),
)


def _file(kind: str, rows):
    return st.tuples(
        st.just(kind), st.lists(rows, min_size=1, max_size=8, unique_by=lambda x: x[0])
    )


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.one_of(
            _file("orders", line), _file("shipments", shipment), _file("service_events", event)
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_summaries_equal_the_source_rows_after_imports_and_undos(files, undo):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = db.connect(folder / "kam.duckdb")
        try:
            ids = []
            for n, (kind, lines) in enumerate(files):
                [res] = import_files(con, [WRITERS[kind](folder, n, lines)], today=TODAY)
                if res.import_id is None:  # the same file again: nothing to import
                    assert res.previous_import_id is not None, res.problems
                    continue
                assert res.table == kind, res.problems
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


def test_a_new_express_surcharge_is_noticed(con):
    con.execute("INSERT INTO accounts (account_id, name) VALUES ('K1', 'K1')")
    con.execute(
        "INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost) "
        "VALUES ('L1', 'K1', DATE '2025-02-03', 'express', 80)"
    )
    _agree(con, ensure=True)
    # same row count in every source: only the surcharge tells the list value changed
    con.execute(
        "UPDATE service_catalogue SET surcharge_pct = 25 WHERE service_code = 'EXPRESS_FREIGHT'"
    )
    assert summaries.select_stale_summaries(con) == ["service_months"]
    _agree(con, ensure=True)
    assert con.execute("SELECT list_value FROM service_months").fetchall()[0][0] == 100


def test_an_import_into_another_table_rebuilds_nothing(con, tmp_path):
    _agree(con, ensure=True)
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id;name;tier\nK1;Eins;KEY\n", encoding="utf-8")
    [res] = import_files(con, [accounts], today=TODAY)
    assert (res.table, res.inserted) == ("accounts", 1)
    assert summaries.select_stale_summaries(con) == []
    assert summaries.ensure_summaries(con) is False


def test_a_read_only_connection_builds_only_the_stale_summary(demo_copy):
    con = db.connect(demo_copy)
    try:
        # written by plain SQL, as another version would: the stored summary is now stale
        con.execute(
            "INSERT INTO service_events (event_id, account_id, date, service_code, cost, "
            "list_value, billed_amount) SELECT 'X1', min(account_id), DATE '2025-02-03', "
            "'TRAINING', 10, 123.45, 0 FROM accounts"
        )
        stored = con.execute(SERVICES_STORED).fetchall()
    finally:
        con.close()
    ro = db.connect(demo_copy, read_only=True)
    try:
        temp = ro.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'temp' ORDER BY 1"
        ).fetchall()
        assert temp == [("service_months",), (summaries.TEMP_STAMP,)]
        assert summaries.select_stale_summaries(ro) == []
        _agree(ro)
        [[file_db]] = ro.execute("SELECT current_database()").fetchall()
        in_file = ro.execute(f'SELECT count(*) FROM "{file_db}".main.service_months').fetchall()
        assert in_file == [(len(stored),)]  # the file is not changed
        total = sv.summarise_service_events(ro, Scope.everything(), year=2025, dims=())["total"]
        raw = ro.execute(
            "SELECT sum(list_value) FROM service_events_all WHERE year(date) = 2025"
        ).fetchall()[0][0]
        assert total["list_value"] == float(round_cents(float(raw)))
    finally:
        ro.close()


# --- the services summaries from service_months equal the view's --------------------------

MONEY_SUMS = ", ".join(
    [
        "COUNT(*) AS events",
        "COALESCE(SUM(e.quantity), 0) AS quantity",
        *(f"COALESCE(SUM(e.{c}), 0) AS {c}" for c in sv.MONEY),
        *(
            f"COALESCE(SUM(e.list_value) FILTER (WHERE e.billing_mode = '{m}'), 0) AS value_{m}"
            for m in ("silent", "waived", "billed")
        ),
    ]
)
KEYS = {
    "account": "COALESCE(e.account_id, '') AS account_id, COALESCE(a.name, '') AS account_name, "
    "COALESCE(a.tier, '') AS tier, COALESCE(k.name, '') AS kam_name",
    "tier": "COALESCE(a.tier, '') AS tier",
    "kam": "COALESCE(a.kam_id, '') AS kam_id, COALESCE(k.name, '') AS kam_name",
    "service": "COALESCE(e.service_code, '') AS service_code",
    "month": "COALESCE(strftime(e.date, '%Y-%m'), '') AS month",
    "billing_mode": "e.billing_mode",
    "total": "",
}
VALUES = ["events", "quantity", *sv.MONEY, "value_silent", "value_waived", "value_billed"]


def _from_the_view(con, scope, dim, **filters) -> list[tuple]:
    """One summary computed from the view's rows with a plain GROUP BY (the reference)."""
    f = {"account_id": None, "tiers": None, "kam_ids": None, "services": None, **filters}
    params = sv._params(
        scope, f["year"], f["as_of"], f["account_id"], f["tiers"], f["kam_ids"], f["services"]
    )
    keys = f"{KEYS[dim]}, " if KEYS[dim] else ""
    sql = (
        f"SELECT {keys}{MONEY_SUMS} FROM service_events_all e "
        "JOIN accounts a ON a.account_id = e.account_id LEFT JOIN kams k ON k.kam_id = a.kam_id "
        f"{sv._EVENT_FILTERS}{' GROUP BY ALL' if keys else ''}"
    )
    df = con.execute(sql, params).df()
    return _rows(df, sv.DIMENSIONS.get(dim, []))


def _rows(df, keys) -> list[tuple]:
    df = df.copy()
    for col in VALUES[2:]:
        df[col] = round_cents(df[col].astype("float64"))
    df["quantity"] = df["quantity"].astype("float64").round(6)
    df["events"] = df["events"].astype("int64")
    return sorted(df[[*keys, *VALUES]].itertuples(index=False, name=None))


@pytest.fixture(scope="module")
def demo_read_only(demo_db):
    con = db.connect(demo_db, read_only=True)
    yield con
    con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_services_summaries_from_service_months_equal_the_view(demo_read_only, data):
    con = demo_read_only
    accounts = [r[0] for r in con.execute("SELECT account_id FROM accounts ORDER BY 1").fetchall()]
    kams = [r[0] for r in con.execute("SELECT kam_id FROM kams ORDER BY 1").fetchall()]
    codes = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT service_code FROM service_months ORDER BY 1"
        ).fetchall()
    ]
    first, last = con.execute("SELECT min(date), max(date) FROM service_events_all").fetchall()[0]
    scope = data.draw(
        st.one_of(
            st.just(Scope.everything()),
            st.sampled_from(kams).map(lambda k: Scope(username=k, role="kam", kam_id=k)),
        )
    )
    year = data.draw(st.one_of(st.none(), st.integers(first.year, last.year)))
    # an as-of date belongs to its year (periods.resolve refuses another)
    days = st.dates(first, last + dt.timedelta(days=40))
    if year is not None:
        days = st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31))
    filters = {
        "year": year,
        "as_of": data.draw(st.one_of(st.none(), days)),
        "account_id": data.draw(st.one_of(st.none(), st.sampled_from(accounts))),
        "tiers": data.draw(
            st.one_of(st.none(), st.lists(st.sampled_from(["KEY", "A", "B", "C", ""]), max_size=3))
        ),
        "kam_ids": data.draw(
            st.one_of(st.none(), st.lists(st.sampled_from([*kams, ""]), max_size=3))
        ),
        "services": data.draw(st.one_of(st.none(), st.lists(st.sampled_from(codes), max_size=4))),
    }
    dims = tuple(sv.DIMENSIONS)
    got = sv.summarise_service_events(con, scope, **filters, dims=dims, quantity=True)
    for dim in dims:
        assert _rows(got[dim], sv.DIMENSIONS[dim]) == _from_the_view(con, scope, dim, **filters)
    [total] = _from_the_view(con, scope, "total", **filters)
    assert tuple(got["total"][c] for c in VALUES) == total
    # the report: every visible account, the same money as the view's rows
    report = sv.report_services(
        con, year=filters["year"], as_of=filters["as_of"], scope=scope
    ).set_index("account_id")
    by_account = {
        r[0]: r
        for r in _from_the_view(con, scope, "account", year=filters["year"], as_of=filters["as_of"])
    }
    for account_id, row in report.iterrows():
        ref = by_account.get(account_id)
        for n, col in enumerate(VALUES[2:]):
            assert row[col] == (0.0 if ref is None else ref[4 + 2 + n]), (account_id, col)
