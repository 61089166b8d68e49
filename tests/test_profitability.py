"""Profitability after services, the whale curve and tier-fit alerts on the hand-built company."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from services_data import build

from kam_analytics.access import Scope
from kam_analytics.metrics.profitability import (
    COLUMNS,
    account_profitability,
    tier_fit_alerts,
    whale_curve,
    whale_peak,
)

ALL = Scope.everything()

# revenue, cost of goods, gross margin, service cost, service value, billed, net contribution
EXPECTED_2025 = {
    "A1": (10000, 6000, 4000, 1965.75, 3765.75, 2495.5, 4529.75),
    "B1": (8000, 0, 8000, 7560, 29760, 25020, 25460),
    "C1": (1000, 700, 300, 300, 650, 650, 650),
    "K1": (50000, 30000, 20000, 10520, 19620, 0, 9480),
    "K2": (20000, 12000, 8000, 8980, 24080, 0, -980),
    "N1": (0, 0, 0, 900, 1800, 0, -900),
    "Z1": (0, 0, 0, 0, 0, 0, 0),
}


@pytest.fixture
def fixture_con(con):
    build(con)
    return con


def test_profitability_2025_by_hand(fixture_con):
    df = account_profitability(fixture_con, year=2025, scope=ALL)
    assert list(df.columns) == COLUMNS
    got = {r[0]: tuple(float(x) for x in r[4:11]) for r in df.itertuples(index=False)}
    assert got == {k: tuple(float(x) for x in v) for k, v in EXPECTED_2025.items()}
    assert dict(zip(df["account_id"], df["cogs_missing"], strict=True))["B1"] == 1


def test_all_years_include_2024_order(fixture_con):
    df = account_profitability(fixture_con, year=None, scope=ALL).set_index("account_id")
    assert df.loc["K1", "revenue"] == 59999.0
    assert df.loc["K1", "gross_margin"] == 29998.0


def test_whale_curve(fixture_con):
    curve = whale_curve(account_profitability(fixture_con, year=2025, scope=ALL))
    assert list(curve["account_id"]) == ["B1", "K1", "A1", "C1", "Z1", "N1", "K2"]
    assert list(curve["cumulative"]) == [
        25460,
        34940,
        39469.75,
        40119.75,
        40119.75,
        39219.75,
        38239.75,
    ]
    assert curve["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["cumulative_share"].iloc[0] == pytest.approx(25460 / 38239.75)
    assert list(curve["rank"]) == [1, 2, 3, 4, 5, 6, 7]


def test_tier_fit_alerts(fixture_con):
    alerts = tier_fit_alerts(fixture_con, year=2025, scope=ALL)
    rows = [
        (
            r.account_id,
            r.alert,
            r.value,
            None if r.threshold != r.threshold else r.threshold,
            r.detail,
        )
        for r in alerts.itertuples()
    ]
    assert rows == [
        # B1's 29.760 € of service value exceeds the KEY median (19.620 + 24.080) / 2.
        ("B1", "above_key_median", 29760.0, 21850.0, ""),
        ("B1", "key_exclusive", 4500.0, None, "INNOVATION_WS"),
        # K2 leaks 9.000 € (E14) against a gross margin of 8.000 €.
        ("K2", "leakage_over_margin", 9000.0, 8000.0, ""),
    ]


def test_scope_in_profitability(fixture_con):
    df = account_profitability(fixture_con, year=2025, scope=Scope("bernd", "kam", "M2"))
    assert list(df["account_id"]) == ["B1", "K2", "Z1"]
    alerts = tier_fit_alerts(fixture_con, year=2025, scope=Scope("anna", "kam", "M1"))
    assert alerts.empty


def test_whale_curve_peaks_above_100_percent_by_hand():
    # contributions 100, 50, 0, -20, -30: total 100; ranked best first the cumulative sums are
    # 100, 150, 150, 130, 100 -> 100 %, 150 %, 150 %, 130 %, 100 %; the peak (150 %) is reached
    # after 2 of 5 accounts (40 %): the loss makers destroy half of the profit of the others.
    profit = pd.DataFrame(
        {
            "account_id": ["L1", "P1", "Z1", "P2", "L2"],
            "name": ["l1", "p1", "z1", "p2", "l2"],
            "tier": ["C", "KEY", "B", "A", "C"],
            "net_contribution": [-30.0, 100.0, 0.0, 50.0, -20.0],
        }
    )
    curve = whale_curve(profit)
    assert list(curve["account_id"]) == ["P1", "P2", "Z1", "L2", "L1"]
    assert list(curve["cumulative"]) == [100, 150, 150, 130, 100]
    assert list(curve["cumulative_share"]) == pytest.approx([1.0, 1.5, 1.5, 1.3, 1.0])
    assert list(curve["account_share"]) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    peak = whale_peak(curve)
    assert peak["rank"] == 2 and peak["cumulative_share"] == pytest.approx(1.5)
    assert peak["account_share"] == pytest.approx(0.4)


def test_whale_curve_without_positive_total_has_no_share():
    profit = pd.DataFrame(
        {
            "account_id": ["A", "B"],
            "name": ["a", "b"],
            "tier": ["C", "C"],
            "net_contribution": [10.0, -40.0],
        }
    )
    curve = whale_curve(profit)
    assert list(curve["cumulative"]) == [10, -30]
    assert curve["cumulative_share"].isna().all()
    assert whale_peak(whale_curve(profit.iloc[0:0])) is None


@given(st.lists(st.integers(-5000, 20000), min_size=1, max_size=30))
@settings(max_examples=100, deadline=None)
def test_whale_curve_invariants(values):
    profit = pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(len(values))],
            "name": "x",
            "tier": "C",
            "net_contribution": [float(v) for v in values],
        }
    )
    curve = whale_curve(profit)
    assert list(curve["net_contribution"]) == sorted(map(float, values), reverse=True)
    assert curve["cumulative"].iloc[-1] == pytest.approx(sum(values))
    if sum(values) > 0:
        assert curve["cumulative_share"].iloc[-1] == pytest.approx(1.0)
        assert whale_peak(curve)["cumulative_share"] >= 1.0 - 1e-9
        # above 100 % exactly when some account loses money
        above = whale_peak(curve)["cumulative_share"] > 1.0 + 1e-9
        assert above == any(v < 0 for v in values)


def test_the_drawn_whale_curve_keeps_its_ends_its_peak_and_its_order():
    import pandas as pd

    from kam_analytics.metrics.profitability import curve_points, whale_curve, whale_peak

    # 5,000 accounts: 4,000 earning 10 each, 1,000 losing 7 each; the peak is at rank 4,000
    profit = pd.DataFrame(
        {
            "account_id": [f"K{i:05d}" for i in range(5000)],
            "name": "x",
            "tier": "C",
            "net_contribution": [10.0] * 4000 + [-7.0] * 1000,
        }
    )
    curve = whale_curve(profit)
    drawn = curve_points(curve, max_points=100)
    assert 100 <= len(drawn) <= 103
    assert list(drawn["rank"]) == sorted(drawn["rank"])
    assert drawn["rank"].iloc[0] == 1 and drawn["rank"].iloc[-1] == 5000
    assert whale_peak(drawn) == whale_peak(curve)
    assert whale_peak(curve)["rank"] == 4000
    assert curve_points(curve.head(50), max_points=100).equals(curve.head(50))
