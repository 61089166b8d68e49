"""The ABC suggestion from revenue share, by hand.

Revenue 2025: X1 5.000, X2 3.000, X3 1.000, X4 600, X5 400, X6 0 (total 10.000).
Ranked: X1 (before 0 %) A, X2 (before 50 %) A, X3 (before 80 %) B, X4 (before 90 %) B,
X5 (before 96 %) C, X6 (no revenue) C. The assigned tier is never changed.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from kam_analytics.access import Scope
from kam_analytics.metrics.abc import classify_abc, select_abc
from kam_analytics.metrics.services import report_services

REVENUE = {"X1": 5000, "X2": 3000, "X3": 1000, "X4": 600, "X5": 400, "X6": 0}
KAM1 = Scope(username="k1", role="kam", kam_id="KAM1")


def _company(con):
    con.execute("INSERT INTO kams (kam_id, name) VALUES ('KAM1', 'Eins')")
    for i, (acc, rev) in enumerate(REVENUE.items()):
        con.execute(
            "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES (?, ?, 'C', ?)",
            [acc, acc, "KAM1" if acc in ("X3", "X5") else None],
        )
        if rev:
            con.execute(
                "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue)"
                " VALUES (?, '1', ?, ?, ?)",
                [f"O{i}", acc, dt.date(2025, 3, 1), rev],
            )
    return con


def test_classes_by_hand(con):
    df = select_abc(_company(con), Scope.everything(), year=2025).set_index("account_id")
    assert df["abc"].to_dict() == {"X1": "A", "X2": "A", "X3": "B", "X4": "B", "X5": "C", "X6": "C"}
    # the tier stays as assigned; report services carries the suggestion beside it
    rep = report_services(con, year=2025, scope=Scope.everything()).set_index("account_id")
    assert rep["tier"].eq("C").all()
    assert rep["abc"].to_dict() == df["abc"].to_dict()


def test_a_kam_sees_the_company_wide_class_of_own_accounts(con):
    df = select_abc(_company(con), KAM1, year=2025)
    assert df.set_index("account_id")["abc"].to_dict() == {"X3": "B", "X5": "C"}


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=30))
def test_a_accounts_make_at_least_80_percent(values):
    rev = pd.Series(values, index=[f"A{i:02d}" for i in range(len(values))], dtype=float)
    cls = classify_abc(rev)
    total = rev.sum()
    if total == 0:
        assert set(cls) == {"C"}
        return
    assert rev[cls == "A"].sum() >= 0.8 * total - 1e-9
    assert rev[cls.isin(["A", "B"])].sum() >= 0.95 * total - 1e-9
    # no A account earns less than any B, no B less than any C with revenue
    if (cls == "A").any() and (cls == "B").any():
        assert rev[cls == "A"].min() >= rev[cls == "B"].max()


def _classify_one_by_one(revenue: pd.Series) -> dict:
    """The rule walked account by account (the definition the vectorised version follows)."""
    rev = revenue.astype(float).clip(lower=0)
    total, before, out = float(rev.sum()), 0.0, {}
    for acc in sorted(rev.index, key=lambda a: (-rev[a], str(a))):
        value = float(rev[acc])
        if value <= 0 or total <= 0:
            out[acc] = "C"
        elif before / total < 0.80 - 1e-12:
            out[acc] = "A"
        elif before / total < 0.95 - 1e-12:
            out[acc] = "B"
        else:
            out[acc] = "C"
        before += value
    return out


@given(
    st.lists(
        st.one_of(st.integers(-50, 10_000), st.floats(0, 1e6, allow_nan=False)),
        min_size=1,
        max_size=60,
    )
)
def test_the_classes_are_those_of_the_walk_account_by_account(values):
    # ties in revenue are ranked by account id, whatever order the accounts come in
    ids = [f"A{(i * 7) % 61:02d}" for i in range(len(values))]
    rev = pd.Series(values, index=ids, dtype=float)
    assert classify_abc(rev).to_dict() == _classify_one_by_one(rev)


def test_the_classes_of_the_example_and_of_ties():
    rev = pd.Series(REVENUE, dtype=float)
    assert classify_abc(rev).to_dict() == {
        "X1": "A",
        "X2": "A",
        "X3": "B",
        "X4": "B",
        "X5": "C",
        "X6": "C",
    }
    # five equal accounts, ranked by id: 0 %, 20 %, 40 %, 60 % before them are A, 80 % is B
    tie = pd.Series([1.0, 1.0, 1.0, 1.0, 1.0], index=["B5", "B3", "B1", "B4", "B2"])
    assert classify_abc(tie).to_dict() == {"B1": "A", "B2": "A", "B3": "A", "B4": "A", "B5": "B"}
