"""Cents as Excel shows them: half away from zero on the stored 4-decimal values."""

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from kam_analytics.money import round_cents


def test_half_cents_round_away_from_zero():
    assert round_cents([0.015, 189.565, -0.015, 2.675, 0.004]).tolist() == [
        0.02,
        189.57,
        -0.02,
        2.68,
        0.0,
    ]


@given(st.integers(-(10**12), 10**12))
def test_matches_decimal_half_up(ten_thousandths):
    value = Decimal(ten_thousandths) / 10000
    expected = float(value.quantize(Decimal("0.01"), ROUND_HALF_UP))
    assert round_cents(float(value)) == expected
