"""Profitability and the giveaway totals read from service_months equal the queries over the
service_events_all view they replaced (kept here as the reference), to the cent: after random
imports, undos, tier changes, express surcharge and matrix edits, with as-of dates mid-month,
at month ends and across a year end."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from unittest import mock

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.catalogue import (
    exclusive_services,
    save_catalogue,
    select_catalogue,
    update_matrix,
)
from kam_analytics.ingest.load import undo_import
from kam_analytics.ingest.pipeline import import_files
from kam_analytics.metrics import giveaways as gv
from kam_analytics.metrics import profitability as pf
from kam_analytics.metrics import services as sv
from kam_analytics.periods import cut_off

TODAY = dt.date(2026, 6, 30)

# --- the reference: the queries over the view, as they were before service_months ----------

REF_PROFIT = """
WITH o AS (
    SELECT account_id,
           SUM(revenue) AS revenue,
           SUM(COALESCE(cost_of_goods, 0)) AS cost_of_goods,
           SUM(cogs_missing) AS cogs_missing
    FROM order_days
    WHERE ($year IS NULL OR year(order_date) = $year)
      AND ($as_of IS NULL OR order_date <= $as_of)
    GROUP BY account_id
),
s AS (
    SELECT account_id,
           SUM(cost) AS service_cost,
           SUM(list_value) AS service_value,
           SUM(billed_amount) AS service_billed
    FROM service_events_all
    WHERE ($year IS NULL OR year(date) = $year)
      AND ($as_of IS NULL OR date <= $as_of)
    GROUP BY account_id
)
SELECT a.account_id, a.name, a.tier, a.kam_id,
       COALESCE(o.revenue, 0) AS revenue,
       COALESCE(o.cost_of_goods, 0) AS cost_of_goods,
       COALESCE(o.revenue, 0) - COALESCE(o.cost_of_goods, 0) AS gross_margin,
       COALESCE(s.service_cost, 0) AS service_cost,
       COALESCE(s.service_value, 0) AS service_value,
       COALESCE(s.service_billed, 0) AS service_billed,
       COALESCE(o.revenue, 0) - COALESCE(o.cost_of_goods, 0)
           - COALESCE(s.service_cost, 0) + COALESCE(s.service_billed, 0) AS net_contribution,
       COALESCE(o.cogs_missing, 0) AS cogs_missing
FROM accounts a
LEFT JOIN o ON o.account_id = a.account_id
LEFT JOIN s ON s.account_id = a.account_id
WHERE a.account_id IN (SELECT account_id FROM visible_accounts($kam))
ORDER BY a.account_id
"""
REF_EXCLUSIVE = """
WITH excl AS (SELECT UNNEST($x_year) AS year, UNNEST($x_code) AS service_code)
SELECT e.account_id, a.name AS account_name, a.tier,
       SUM(e.list_value) AS value,
       string_agg(DISTINCT e.service_code, ', ' ORDER BY e.service_code) AS codes
FROM service_events_all e
JOIN accounts a ON a.account_id = e.account_id AND a.tier IN ('B', 'C')
SEMI JOIN excl ON excl.year = year(e.date) AND excl.service_code = e.service_code
WHERE e.account_id IN (SELECT account_id FROM visible_accounts($kam))
  AND ($year IS NULL OR year(e.date) = $year)
  AND ($as_of IS NULL OR e.date <= $as_of)
  AND a.name IS NOT NULL
GROUP BY e.account_id, a.name, a.tier
ORDER BY e.account_id, a.name, a.tier
"""
REF_YEARS = """
SELECT DISTINCT year(e.date) AS y FROM service_events_all e
JOIN accounts a ON a.account_id = e.account_id
WHERE e.account_id IN (SELECT account_id FROM visible_accounts(?))
  AND a.tier IN ('B', 'C') AND e.date IS NOT NULL
"""
REF_EVENT_YEARS = """
SELECT DISTINCT COALESCE(year(e.date), -1) AS y FROM service_events_all e
WHERE e.account_id IN (SELECT account_id FROM visible_accounts(?))
"""
REF_EVENTS_LEAN = (
    """
SELECT e.account_id, a.tier, a.kam_id, e.date, e.service_code, e.list_value, e.unbilled_value,
       e.billing_mode
FROM service_events_all e
JOIN accounts a ON a.account_id = e.account_id
"""
    + sv._EVENT_FILTERS
)
REF_TOTALS = """, agg AS (
    SELECT GROUPING(account_id, service_code) AS grp, account_id, service_code, finding,
           count(*) AS n, sum(round(leakage, 2)) AS leakage,
           sum(round(unbilled_value, 2)) AS unbilled_value,
           sum(round(list_value, 2)) AS list_value
    FROM checked WHERE finding IS NOT NULL
    GROUP BY GROUPING SETS ((account_id, finding), (service_code, finding))
)
SELECT agg.grp, COALESCE(agg.account_id, '') AS account_id,
       COALESCE(agg.service_code, '') AS service_code, agg.finding, agg.n,
       CAST(agg.leakage AS DOUBLE) AS leakage,
       CAST(agg.unbilled_value AS DOUBLE) AS unbilled_value,
       CAST(agg.list_value AS DOUBLE) AS list_value,
       COALESCE(a.name, '') AS account_name, COALESCE(a.tier, '') AS tier,
       COALESCE(a.kam_id, '') AS kam_id, COALESCE(k.name, '') AS kam_name
FROM agg
LEFT JOIN accounts a ON a.account_id = agg.account_id
LEFT JOIN kams k ON k.kam_id = a.kam_id
"""
REF_LEAKAGE = """SELECT account_id, SUM(leakage) AS leakage FROM checked
WHERE finding IS NOT NULL GROUP BY account_id ORDER BY account_id"""


def _ref_policies(con, scope, year) -> dict:
    if year is None:
        years = [r[0] for r in con.execute(REF_EVENT_YEARS, [scope.kam_param]).fetchall()]
    else:
        years = [int(year)]
    pol = gv.policies_for_years(con, years)
    return {
        "p_year": [int(y) for y in pol["year"]],
        "p_code": [str(c) for c in pol["service_code"]],
        "p_tier": [str(t) for t in pol["tier"]],
        "p_policy": [str(p) for p in pol["policy"]],
    }


def _ref_checked(con, scope, events, select, *, year, as_of, tiers=None, kams=None, svcs=None):
    params = {
        **sv._params(scope, year, as_of, None, tiers, kams, svcs),
        **_ref_policies(con, scope, year),
    }
    return con.execute(gv._SQL_CHECKED.format(events=events, select=select), params).df()


def ref_leakage(con, scope, *, year, as_of) -> dict[str, float]:
    events = sv._SQL_EVENTS.strip().rsplit("ORDER BY", 1)[0]
    sums = _ref_checked(con, scope, events, REF_LEAKAGE, year=year, as_of=as_of)
    return {
        str(a): round(float(v), 2) for a, v in zip(sums["account_id"], sums["leakage"], strict=True)
    }


def ref_profitability(con, *, year, as_of, scope) -> pd.DataFrame:
    params = {"year": year, "as_of": cut_off(year, as_of), "kam": scope.kam_param}
    df = con.execute(REF_PROFIT, params).df()
    for col in pf.COLUMNS[4:11]:
        df[col] = pd.to_numeric(df[col]).astype("float64").fillna(0.0).round(2)
    df["cogs_missing"] = df["cogs_missing"].astype(int)
    return df[pf.COLUMNS]


def ref_exclusive(con, *, year, as_of, scope) -> pd.DataFrame:
    if year is None:
        years = [int(r[0]) for r in con.execute(REF_YEARS, [scope.kam_param]).fetchall()]
    else:
        years = [int(year)]
    x_year, x_code = [], []
    if years:
        pol = gv.policies_for_years(con, years)
        for y, matrix in pol.groupby("year", sort=True):
            for code, excl in exclusive_services(matrix).items():
                if excl:
                    x_year.append(int(y))
                    x_code.append(str(code))
    params = {
        "x_year": x_year,
        "x_code": x_code,
        "year": year,
        "as_of": cut_off(year, as_of),
        "kam": scope.kam_param,
    }
    df = con.execute(REF_EXCLUSIVE, params).df()
    df["value"] = pd.to_numeric(df["value"]).astype("float64").round(2)
    return df[["account_id", "account_name", "tier", "value", "codes"]]


# --- random companies --------------------------------------------------------------------

ACCOUNTS = ["K1", "K2", "K3", "K4"]  # K4 never gets a tier: no policy, no finding
DAYS = st.dates(dt.date(2024, 11, 1), dt.date(2025, 2, 28))  # across a year end
AMOUNT = st.integers(0, 500_000)
CODES = ["TRAINING", "CUSTOM_DEV", "INNOVATION_WS", "EXPRESS_FREIGHT", "MYSTERY_SVC"]
POLICIES = ["free", "waived", "billed", "not_offered"]


def _cents(value) -> str:
    return "" if value is None else f"{value / 100:.2f}".replace(".", ",")


def _write(folder: Path, name: str, header: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _orders(folder, n, lines):
    rows = [f"A{o};{a};{d:%d.%m.%Y};{_cents(c)};{_cents(g)}" for o, a, d, c, g in lines]
    return _write(folder, f"orders_{n}.csv", "Auftrag;Kunde;Datum;Umsatz;Wareneinsatz", rows)


def _shipments(folder, n, lines):
    rows = [
        f"L{s};{a};{d:%d.%m.%Y};{m};{_cents(c)};{_cents(ch)};{b or ''}"
        for s, a, d, m, c, ch, b in lines
    ]
    header = "shipment_id;account_id;ship_date;ship_mode;freight_cost;freight_charged;billing_mode"
    return _write(folder, f"shipments_{n}.csv", header, rows)


def _events(folder, n, lines):
    rows = [
        f"V{e};{a};{d:%d.%m.%Y};{code};{q};{_cents(c)};{_cents(v)};{_cents(b)};{m or ''}"
        for e, a, d, code, q, c, v, b, m in lines
    ]
    header = (
        "event_id;account_id;date;service_code;quantity;cost;list_value;billed_amount;billing_mode"
    )
    return _write(folder, f"services_{n}.csv", header, rows)


def _accounts(folder, n, lines):
    rows = [f"{a};Firma {a};{t if a != 'K4' else ''};{k}" for a, t, k in lines]
    return _write(folder, f"accounts_{n}.csv", "account_id;name;tier;kam_id", rows)


WRITERS = {
    "orders": _orders,
    "shipments": _shipments,
    "service_events": _events,
    "accounts": _accounts,
}
order = st.tuples(
    st.integers(1, 30),
    st.sampled_from(ACCOUNTS),
    DAYS,
    AMOUNT,
    st.one_of(st.none(), st.integers(0, 300_000)),
)
shipment = st.tuples(
    st.integers(1, 30),
    st.sampled_from(ACCOUNTS),
    DAYS,
    st.sampled_from(["express", "express", "standard"]),
    st.one_of(st.none(), AMOUNT),
    st.one_of(st.none(), AMOUNT),
    st.sampled_from([None, "silent", "waived", "billed"]),
)
event = st.tuples(
    st.integers(1, 40),
    st.sampled_from(ACCOUNTS),
    DAYS,
    st.sampled_from(CODES),
    st.integers(1, 3),
    st.one_of(st.none(), AMOUNT),
    st.one_of(st.none(), AMOUNT),
    st.one_of(st.none(), AMOUNT),
    st.sampled_from([None, "silent", "waived", "billed"]),
)
account = st.tuples(
    st.sampled_from(ACCOUNTS),
    st.sampled_from(["KEY", "A", "B", "C"]),
    st.sampled_from(["M1", "M2"]),
)


def _file(kind, rows):
    return st.tuples(
        st.just(kind), st.lists(rows, min_size=1, max_size=10, unique_by=lambda x: x[0])
    )


step = st.one_of(
    _file("orders", order),
    _file("shipments", shipment),
    _file("service_events", event),
    _file("service_events", event),
    _file("accounts", account),
    st.tuples(st.just("undo"), st.just(None)),
    # an express surcharge: list values with fractions of a cent (1.125 x a freight cost)
    st.tuples(
        st.just("surcharge"),
        st.sampled_from([(None, None), (None, 12.5), (None, 33.3), (10.005, None)]),
    ),
    st.tuples(
        st.just("matrix"),
        st.tuples(
            st.sampled_from([2024, 2025]),
            st.sampled_from(CODES[:4]),
            st.sampled_from(["KEY", "A", "B", "C"]),
            st.sampled_from(POLICIES),
        ),
    ),
)
# as-of dates: mid-month, month ends, the year end and the first days after it
AS_OF = st.sampled_from(
    [
        None,
        dt.date(2024, 11, 15),
        dt.date(2024, 11, 30),
        dt.date(2024, 12, 1),
        dt.date(2024, 12, 17),
        dt.date(2024, 12, 31),
        dt.date(2025, 1, 1),
        dt.date(2025, 1, 20),
        dt.date(2025, 1, 31),
        dt.date(2025, 2, 28),
    ]
)
YEAR = st.sampled_from([None, 2024, 2025])
SCOPE = st.sampled_from([Scope.everything(), Scope(username="M1", role="kam", kam_id="M1")])


def _apply(con, folder: Path, n: int, kind: str, payload, ids: list[int]) -> None:
    if kind == "undo":
        if ids:
            undo_import(con, ids.pop(), "tester")  # newest first: undos stay possible
    elif kind == "surcharge":
        cat = select_catalogue(con)
        row = cat["service_code"] == "EXPRESS_FREIGHT"
        cat.loc[row, "surcharge_fixed"], cat.loc[row, "surcharge_pct"] = payload
        save_catalogue(con, cat, "tester")
    elif kind == "matrix":
        year, code, tier, policy = payload
        update_matrix(con, year, {(code, tier): policy}, "tester")
    else:
        [res] = import_files(con, [WRITERS[kind](folder, n, payload)], today=TODAY)
        if res.import_id is not None:
            assert res.table == kind, res.problems
            ids.append(res.import_id)


def _period_in(year, as_of):
    """An as-of date of `year` (periods.resolve refuses another year's)."""
    if year is not None and as_of is not None and as_of.year != year:
        return dt.date(year, 12, 31) if as_of.year > year else None
    return as_of


def _assert_equal_to_the_reference(con, scope, year, as_of, filters) -> None:
    got = pf.account_profitability(con, year=year, as_of=as_of, scope=scope)
    pd.testing.assert_frame_equal(got, ref_profitability(con, year=year, as_of=as_of, scope=scope))
    got = pf._exclusive_by_account(con, year=year, as_of=as_of, scope=scope)
    pd.testing.assert_frame_equal(got, ref_exclusive(con, year=year, as_of=as_of, scope=scope))
    assert gv.leakage_by_account(con, scope, year=year, as_of=as_of) == ref_leakage(
        con, scope, year=year, as_of=as_of
    )
    # the years of the events (the matrices the check needs) and of the B/C accounts' events
    assert sorted(r[0] for r in con.execute(gv._SQL_EVENT_YEARS, [scope.kam_param]).fetchall()) == (
        sorted(r[0] for r in con.execute(REF_EVENT_YEARS, [scope.kam_param]).fetchall())
    )
    assert sorted(r[0] for r in con.execute(pf._SQL_YEARS, [scope.kam_param]).fetchall()) == (
        sorted(r[0] for r in con.execute(REF_YEARS, [scope.kam_param]).fetchall())
    )
    # the giveaway totals: the summed rows, and what summarise_findings makes of each
    ref_rows = _ref_checked(
        con,
        scope,
        REF_EVENTS_LEAN,
        REF_TOTALS,
        year=year,
        as_of=as_of,
        tiers=filters["tiers"],
        kams=filters["kam_ids"],
        svcs=filters["services"],
    )
    rows = gv._checked_cells(con, scope, gv._TOTALS_SELECT, year=year, as_of=as_of, **filters)
    key = ["grp", "account_id", "service_code", "finding"]
    assert sorted(rows.astype(object).itertuples(index=False, name=None)) == sorted(
        ref_rows.astype(object).itertuples(index=False, name=None)
    ), key
    got = gv.summarise_findings(con, scope, year=year, as_of=as_of, **filters)
    with mock.patch.object(gv, "_checked_cells", lambda *a, **k: ref_rows.copy()):
        expected = gv.summarise_findings(con, scope, year=year, as_of=as_of, **filters)
    assert got.keys() == expected.keys()
    for by in got:
        pd.testing.assert_frame_equal(got[by], expected[by], check_dtype=False)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(step, min_size=1, max_size=7),
    st.lists(st.tuples(YEAR, AS_OF, SCOPE), min_size=2, max_size=3),
    st.fixed_dictionaries(
        {
            "tiers": st.one_of(
                st.none(), st.lists(st.sampled_from(["KEY", "A", "B", "C", ""]), max_size=2)
            ),
            "kam_ids": st.one_of(
                st.none(), st.lists(st.sampled_from(["M1", "M2", ""]), max_size=2)
            ),
            "services": st.one_of(st.none(), st.lists(st.sampled_from(CODES), max_size=2)),
        }
    ),
)
def test_profitability_and_giveaway_totals_equal_the_view_after_every_change(
    steps, periods, filters
):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = db.connect(folder / "kam.duckdb")
        try:
            ids: list[int] = []
            for n, (kind, payload) in enumerate(steps):
                _apply(con, folder, n, kind, payload, ids)
                for year, as_of, scope in periods:
                    _assert_equal_to_the_reference(
                        con, scope, year, _period_in(year, as_of), filters
                    )
        finally:
            con.close()


def test_a_giveaway_cell_counts_only_its_events_not_fully_billed(con):
    """One cell (account, month, service, mode) with a fully billed and two unbilled events."""
    con.execute("INSERT INTO accounts (account_id, name, tier) VALUES ('K1', 'Eins', 'KEY')")
    con.execute(
        "INSERT INTO service_events (event_id, account_id, date, service_code, cost, list_value,"
        " billed_amount, billing_mode) VALUES "
        "('E1', 'K1', DATE '2025-05-02', 'TRAINING', 1, 100.005, 100.005, 'silent'),"
        "('E2', 'K1', DATE '2025-05-03', 'TRAINING', 1, 100.005, 0, 'silent'),"
        "('E3', 'K1', DATE '2025-05-04', 'TRAINING', 1, 50.004, 0.001, 'silent'),"
        "('E4', 'K1', DATE '2025-05-05', 'TRAINING', 1, 10, 20, 'silent')"
    )
    update_matrix(con, 2025, {("TRAINING", "KEY"): "billed"}, "tester")
    scope = Scope.everything()
    [row] = gv.summarise_findings(con, scope, year=2025)["account_finding"].to_dict("records")
    # E2 and E3: rounded per event 100.01 + 50.00 (unbilled 50.003)
    assert (row["n_giveaway"], row["leakage"], row["list_value"]) == (2, 150.01, 150.01)
    assert gv.leakage_by_account(con, scope, year=2025) == {"K1": 150.01}  # 150.008 exact
    # as of 3 May: E1 and E2 from the view's days, the same as from the cells
    [row] = gv.summarise_findings(con, scope, year=2025, as_of=dt.date(2025, 5, 3))[
        "account_finding"
    ].to_dict("records")
    assert (row["n_giveaway"], row["leakage"]) == (1, 100.01)
