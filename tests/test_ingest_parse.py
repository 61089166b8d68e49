"""Cell parsing: amounts, dates, IDs, missing values (hand-written cases + hypothesis)."""

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_analytics.ingest.parse import parse_amounts, parse_bools, parse_dates, parse_ids

CASES = [
    ("1.234,56", 1234.56),
    ("1,234.56", 1234.56),
    ("1.234,56-", -1234.56),
    ("(1.234,56)", -1234.56),
    ("€ 1.234,56", 1234.56),
    ("1.234,56 €", 1234.56),
    ("1234.5", 1234.5),
    ("-5", -5.0),
    ("12,5", 12.5),
    ("1.234.567", 1234567.0),
    ("1,234,567.89", 1234567.89),
    ("1'234.50", 1234.5),
    ("EUR 99,90-", -99.9),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_amount_notations(text, expected):
    values, bad = parse_amounts(pd.Series([text]))
    assert not bad[0]
    assert values[0] == pytest.approx(expected)


def test_amount_nulls_and_garbage():
    values, bad = parse_amounts(pd.Series(["NULL", "-", "", "n/a", None, "zwölf", "1,2,3"]))
    assert values.isna().all()
    assert bad.tolist() == [False, False, False, False, False, True, True]


def test_ambiguous_thousands_follow_the_column():
    german, _ = parse_amounts(pd.Series(["1.234", "5,5"]))
    english, _ = parse_amounts(pd.Series(["1,234", "5.5"]))
    assert german.tolist() == [1234.0, 5.5]
    assert english.tolist() == [1234.0, 5.5]
    forced, _ = parse_amounts(pd.Series(["1.234"]), decimal=".")
    assert forced.tolist() == [1.234]


def test_numeric_cells_pass_through():
    values, bad = parse_amounts(pd.Series([1.5, None, -3.0]))
    assert values.tolist()[0] == 1.5 and values.tolist()[2] == -3.0
    assert not bad.any()


def test_dates_every_notation():
    s = pd.Series(
        [
            "31.12.2025",
            "2025-12-31",
            "45657",
            "2025-01-02 00:00:00",
            "12/31/2025",
            "NULL",
            "32.13.2025",
        ]
    )
    values, bad = parse_dates(s)
    got = [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in values]
    assert got == ["2025-12-31", "2025-12-31", "2024-12-31", "2025-01-02", "2025-12-31", None, None]
    assert bad.tolist() == [False] * 6 + [True]


def test_dates_excel_serial_numbers_and_profile_format():
    values, bad = parse_dates(pd.Series([46022.0, None]))
    assert values[0] == pd.Timestamp("2025-12-31") and not bad.any()
    values, _ = parse_dates(pd.Series(["03/04/2025"]), date_format="%m/%d/%Y")
    assert values[0] == pd.Timestamp("2025-03-04")


def test_ids_keep_leading_zeros_and_drop_float_look():
    assert parse_ids(pd.Series(["00815", "1001.0", " A-7 ", "NULL"])).tolist()[:3] == [
        "00815",
        "1001",
        "A-7",
    ]
    assert parse_ids(pd.Series([1001.0, 42.0])).tolist() == ["1001", "42"]


def test_bools():
    values, bad = parse_bools(pd.Series(["ja", "nein", "x", "yes", "0", "vielleicht"]))
    assert values.tolist()[:5] == [True, False, True, True, False]
    assert bad.tolist() == [False] * 5 + [True]


def _format(value: Decimal, style: str, neg: str, currency: bool) -> str:
    text = f"{abs(value):,.2f}"  # 1,234.56
    if style == "de":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    if currency:
        text = f"€ {text}" if style == "de" else f"{text} EUR"
    if value < 0:
        text = {"minus": f"-{text}", "trailing": f"{text}-", "parens": f"({text})"}[neg]
    return text


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=-(10**13), max_value=10**13),
    style=st.sampled_from(["de", "en"]),
    neg=st.sampled_from(["minus", "trailing", "parens"]),
    currency=st.booleans(),
)
def test_any_formatted_amount_parses_back(cents, style, neg, currency):
    value = Decimal(cents) / 100
    text = _format(value, style, neg, currency)
    parsed, bad = parse_amounts(pd.Series([text]))
    assert not bad[0], text
    assert Decimal(f"{float(parsed[0]):.2f}") == value, text
